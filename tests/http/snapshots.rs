//! The shapes clients depend on, locked with insta snapshots (`tests/http/snapshots/`): problem
//! documents and a case as its owner, staff and the public see it. Ids, codes, instants and
//! request ids are redacted; both backends must give the same document.

use reqwest::Method;
use serde_json::json;

use crate::cases::{CODE, act, case_body, world};

/// A problem document, its request id redacted.
macro_rules! problem_snapshot {
    ($name:expr, $value:expr) => {
        insta::assert_json_snapshot!($name, $value, { ".instance" => "[request]" })
    };
}

/// A case, with what changes from run to run redacted.
macro_rules! case_snapshot {
    ($name:expr, $value:expr) => {
        insta::assert_json_snapshot!($name, $value, {
            ".id" => "[id]",
            ".code" => "[case code]",
            ".agency_id" => "[agency id]",
            ".submitted_at" => "[instant]",
            ".received_at" => "[instant]",
            ".due_at" => "[instant]",
            ".step_due_at" => "[instant]",
            ".supplement_requests[].requested_at" => "[instant]",
            ".supplement_requests[].deadline_at" => "[instant]",
        })
    };
}

backend_test! {
    async fn problem_documents_keep_their_shape(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let mut bad = case_body(CODE, "counter");
        bad["applicant"]["id_number"] = json!("12");
        bad["summary"] = json!("");
        let invalid = app.send(Method::POST, "/api/v1/cases", Some(&w.clerk), Some(bad), &[("Accept-Language", "en")]).await;
        assert_eq!(invalid.status, 422, "{backend:?}: {}", invalid.text);
        problem_snapshot!("validation_failed", invalid.body);

        let created = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await;
        let code = created.body["code"].as_str().unwrap().to_owned();
        let wrong = act(app, &w.clerk, &code, "return_result", json!({})).await;
        assert_eq!(wrong.status, 409, "{backend:?}: {}", wrong.text);
        problem_snapshot!("invalid_transition", wrong.body);

        let unknown = app.get("/api/v1/cases/000.20.01.H14-260101-9999", Some(&w.clerk)).await;
        problem_snapshot!("not_found", unknown.body);
        let anonymous = app.get("/api/v1/cases", None).await;
        problem_snapshot!("unauthorized", anonymous.body);
    }
}

backend_test! {
    async fn a_case_keeps_its_shape_for_staff_and_the_public(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let created = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await;
        assert_eq!(created.status, 201, "{backend:?}: {}", created.text);
        let code = created.body["code"].as_str().unwrap().to_owned();
        let paused = act(
            app,
            &w.clerk,
            &code,
            "request_supplement",
            json!({"reason": "Thiếu giấy chứng sinh", "items": ["Giấy chứng sinh (bản chính)"], "deadline_days": 5}),
        )
        .await;
        assert_eq!(paused.status, 200, "{backend:?}: {}", paused.text);
        case_snapshot!("case_for_staff", paused.body);
        let public = app.get(&format!("/api/v1/lookup/cases/{code}"), None).await;
        assert_eq!(public.status, 200, "{backend:?}: {}", public.text);
        case_snapshot!("case_lookup", public.body);
    }
}
