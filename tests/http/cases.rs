//! Cases over HTTP: intake on every channel, codes, the lifecycle, history and public lookup.

use reqwest::Method;
use serde_json::{Value, json};

use crate::procedures::procedure;
use crate::support::*;

pub const CODE: &str = "1.001193.000.00.00.H14";
pub const NO_RESULT: &str = "2.000001.H14";

async fn publish(app: &TestApp, f: &Fixture, body: Value) {
    let code = body["code"].as_str().unwrap().to_owned();
    assert_eq!(app.post("/api/v1/procedures", Some(&f.admin), body).await.status, 201);
    for (token, action) in [(&f.agency_admin, "propose"), (&f.supervisor, "review"), (&f.admin, "verify")] {
        app.post(&format!("/api/v1/procedures/{code}/publication/{action}"), Some(token), json!({})).await;
    }
    let published =
        app.post(&format!("/api/v1/procedures/{code}/publication/publish"), Some(&f.admin), json!({"decision_ref": "1/QĐ"})).await;
    assert_eq!(published.body["status"], "published", "{}", published.text);
}

pub struct World {
    pub app: TestApp,
    pub f: Fixture,
    /// An officer of commune A with every capability.
    pub clerk: String,
    pub citizen: String,
}

pub async fn world(backend: Backend) -> World {
    world_with(backend, |_| {}).await
}

pub async fn world_with(backend: Backend, adjust: impl FnOnce(&mut std::collections::HashMap<String, String>)) -> World {
    world_on(TestApp::spawn_with(backend, adjust).await).await
}

/// The world on a server whose clock stands still at `at`.
pub async fn world_at(backend: Backend, at: chrono::DateTime<chrono::Utc>) -> World {
    world_on(TestApp::spawn_at(backend, at).await).await
}

async fn world_on(app: TestApp) -> World {
    let f = app.fixture().await;
    publish(&app, &f, procedure(CODE, "Đăng ký khai sinh", &f.commune_a)).await;
    let mut simple = procedure(NO_RESULT, "Xác nhận đơn giản", &f.commune_a);
    simple["result"] = json!({"has_result": false});
    simple["form_schema"] = Value::Null;
    publish(&app, &f, simple).await;
    app.user(&f.admin, "clerk.a", "officer", Some(&f.commune_a), &["reception", "processing", "approval", "result_return"]).await;
    let clerk = app.token("clerk.a", PASSWORD).await;
    app.post("/api/v1/auth/register", None, citizen("citizen.a", 1)).await;
    let citizen = app.token("citizen.a", "citizen-pass-2026").await;
    World { app, f, clerk, citizen }
}

pub fn case_body(procedure_code: &str, channel: &str) -> Value {
    json!({
        "procedure_code": procedure_code,
        "channel": channel,
        "applicant": {"kind": "citizen", "full_name": "Nông Văn Bình", "id_type": "cccd", "id_number": "004099012345", "phone": "0912345678", "address": "Tổ 1, phường Thục Phán"},
        "summary": "Đăng ký khai sinh cho con",
        "form_data": {"child_name": "Nông Thị Mai"},
        "documents": [{"requirement_code": "TK01", "name": "Tờ khai", "originals": 1, "copies": 0}],
        "return_method": "counter"
    })
}

pub async fn act(app: &TestApp, token: &str, code: &str, action: &str, body: Value) -> Resp {
    app.post(&format!("/api/v1/cases/{code}/actions/{action}"), Some(token), body).await
}

backend_test! {
    async fn intake_on_every_channel_with_codes_and_due_dates(backend: Backend) {
        // Monday 30 November 2026, 09:00 in Vietnam, and the clock stands still.
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 30, 2, 0, 0).unwrap();
        let w = world_at(backend, now).await;
        let (app, f) = (&w.app, &w.f);
        let counter = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await;
        assert_eq!(counter.status, 201, "{backend:?}: {}", counter.text);
        assert_eq!(counter.body["status"], "accepted");
        assert_eq!(counter.body["status_code"], 2);
        let code = counter.body["code"].as_str().unwrap().to_owned();
        assert_eq!(code, "000.20.01.H14-261130-0001");
        // Five working days: Monday 7 December, 09:00.
        assert_eq!(counter.body["received_at"], "2026-11-30T02:00:00Z");
        assert_eq!(counter.body["due_at"], "2026-12-07T02:00:00Z");
        assert_eq!(counter.header("location"), Some(format!("/api/v1/cases/{code}").as_str()));
        let second = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "postal")).await;
        assert!(second.body["code"].as_str().unwrap().ends_with("-0002"), "{}", second.text);

        let online = app.post("/api/v1/cases", Some(&w.citizen), case_body(CODE, "online")).await;
        assert_eq!(online.status, 201, "{}", online.text);
        assert_eq!(online.body["status"], "submitted");
        assert!(online.body["due_at"].is_null());
        assert_eq!(online.body["available_actions"], json!(["withdraw"]));
        let online_code = online.body["code"].as_str().unwrap().to_owned();
        let asked = act(
            app,
            &w.clerk,
            &online_code,
            "request_supplement",
            json!({"reason": "Ảnh tờ khai bị mờ", "items": ["Tờ khai chụp rõ nét"]}),
        )
        .await;
        assert_eq!(asked.body["status"], "submitted", "{}", asked.text);
        act(app, &w.clerk, &online_code, "request_supplement", json!({"reason": "again", "items": ["x"]}))
            .await
            .assert_problem(409, "invalid_transition");
        let seen = app.get(&format!("/api/v1/cases/{online_code}"), Some(&w.citizen)).await;
        assert_eq!(seen.body["available_actions"], json!(["submit_supplement", "withdraw"]));
        let answered = act(app, &w.citizen, &online_code, "submit_supplement", json!({"note": "Đã gửi lại"})).await;
        assert_eq!(answered.body["available_actions"], json!(["withdraw"]), "{}", answered.text);

        // Denials and bad input.
        app.post("/api/v1/cases", Some(&w.citizen), case_body(CODE, "counter")).await.assert_problem(403, "forbidden");
        app.post("/api/v1/cases", Some(&f.officer), case_body(CODE, "online")).await.assert_problem(403, "forbidden");
        app.post("/api/v1/cases", Some(&f.supervisor), case_body(CODE, "counter")).await.assert_problem(403, "forbidden");
        app.post("/api/v1/cases", None, case_body(CODE, "counter")).await.assert_problem(401, "unauthorized");
        let mut other_agency = case_body(CODE, "counter");
        other_agency["agency_id"] = json!(f.commune_b);
        app.post("/api/v1/cases", Some(&w.clerk), other_agency).await.assert_problem(422, "validation_failed");
        let mut bad_form = case_body(CODE, "online");
        bad_form["form_data"] = json!({"child_name": 5});
        let refused = app.post("/api/v1/cases", Some(&w.citizen), bad_form).await;
        refused.assert_problem(422, "validation_failed");
        assert!(refused.body["invalid_params"][0]["name"].as_str().unwrap().starts_with("form_data"), "{}", refused.text);
        let mut no_docs = case_body(CODE, "counter");
        no_docs["documents"] = json!([]);
        app.post("/api/v1/cases", Some(&w.clerk), no_docs).await.assert_problem(422, "validation_failed");
        let mut bad_id = case_body(CODE, "counter");
        bad_id["applicant"]["id_number"] = json!("123");
        let bad = app.post("/api/v1/cases", Some(&w.clerk), bad_id).await;
        bad.assert_problem(422, "validation_failed");
        assert_eq!(bad.body["invalid_params"][0]["name"], "applicant.id_number");
        app.post("/api/v1/cases", Some(&w.clerk), case_body("9.999999", "counter")).await.assert_problem(422, "validation_failed");
        app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "pigeon")).await.assert_problem(422, "validation_failed");

        // Cases forwarded by the national portal are idempotent by external id.
        app.user(&f.admin, "dvcqg", "integration", None, &["cases.submit", "cases.read"]).await;
        let form = [("grant_type", "client_credentials"), ("client_id", "dvcqg"), ("client_secret", PASSWORD)];
        let token = into_resp(app.client.post(format!("{}/api/v1/auth/token", app.base)).form(&form).send().await.unwrap()).await;
        let portal = token.body["access_token"].as_str().unwrap().to_owned();
        let mut forwarded = case_body(CODE, "online");
        forwarded["external_id"] = json!("G22.991-250101-000123");
        let first = app.post("/api/v1/cases", Some(&portal), forwarded.clone()).await;
        assert_eq!(first.status, 201, "{}", first.text);
        assert_eq!(first.body["source"], "national_portal");
        let again = app.post("/api/v1/cases", Some(&portal), forwarded).await;
        assert_eq!(again.status, 200);
        assert_eq!(again.body["code"], first.body["code"], "a retried delivery never creates a second case");
        app.post("/api/v1/cases", Some(&portal), case_body(CODE, "online")).await.assert_problem(422, "validation_failed");

        // Lists are scoped: the citizen sees their own, commune B's admin nothing.
        let mine = app.get("/api/v1/cases", Some(&w.citizen)).await;
        assert_eq!(mine.body["items"].as_array().unwrap().len(), 1, "{}", mine.text);
        let staff = app.get("/api/v1/cases?limit=100", Some(&w.clerk)).await;
        assert_eq!(staff.body["items"].as_array().unwrap().len(), 4);
        app.user(&f.admin, "admin.b", "agency_admin", Some(&f.commune_b), &[]).await;
        let admin_b = app.token("admin.b", PASSWORD).await;
        assert_eq!(app.get("/api/v1/cases", Some(&admin_b)).await.body["items"], json!([]));
        app.get(&format!("/api/v1/cases/{code}"), Some(&admin_b)).await.assert_problem(404, "not_found");
        app.get("/api/v1/cases?status=lost", Some(&w.clerk)).await.assert_problem(422, "validation_failed");
    }
}

backend_test! {
    async fn the_lifecycle_runs_through_actions_with_guards_history_and_lookup(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let submitted = app.post("/api/v1/cases", Some(&w.citizen), case_body(NO_RESULT, "online")).await;
        assert_eq!(submitted.status, 201, "{backend:?}: {}", submitted.text);
        let code = submitted.body["code"].as_str().unwrap().to_owned();

        act(app, &w.clerk, &code, "resolve", json!({})).await.assert_problem(409, "invalid_transition");
        let accepted = act(app, &w.clerk, &code, "accept", json!({})).await;
        assert_eq!(accepted.body["status"], "accepted", "{}", accepted.text);
        let due_before = accepted.body["due_at"].as_str().unwrap().to_owned();
        let wrong = act(app, &w.clerk, &code, "return_result", json!({})).await;
        wrong.assert_problem(409, "invalid_transition");
        assert!(wrong.body["allowed_actions"].as_array().unwrap().contains(&json!("forward")), "{}", wrong.text);
        act(app, &w.f.supervisor, &code, "forward", json!({})).await.assert_problem(403, "forbidden");
        act(app, &w.citizen, &code, "forward", json!({})).await.assert_problem(403, "forbidden");
        assert_eq!(app.get(&format!("/api/v1/lookup/cases/{code}"), None).await.body["status"], "accepted");
        let forwarded = act(app, &w.clerk, &code, "forward", json!({"to_step": "xu_ly"})).await;
        assert_eq!(
            app.get(&format!("/api/v1/lookup/cases/{code}"), None).await.body["status"],
            "processing",
            "a change drops the cached answer"
        );
        assert_eq!((forwarded.body["status"].as_str(), forwarded.body["current_step"].as_str()), (Some("processing"), Some("xu_ly")));
        assert_eq!(accepted.body["current_step"], "xu_ly", "acceptance leaves reception for the first processing step");
        assert!(forwarded.body["step_due_at"].as_str().unwrap() <= forwarded.body["due_at"].as_str().unwrap(), "{}", forwarded.text);
        let approval = act(app, &w.clerk, &code, "forward", json!({})).await;
        assert_eq!(approval.body["current_step"], "phe_duyet", "{}", approval.text);
        let back = act(app, &w.clerk, &code, "send_back", json!({"note": "Xem lại"})).await;
        assert_eq!(
            (back.body["status"].as_str(), back.body["current_step"].as_str()),
            (Some("processing"), Some("xu_ly")),
            "{}",
            back.text
        );
        act(app, &w.clerk, &code, "forward", json!({"to_step": "nowhere"})).await.assert_problem(422, "validation_failed");
        let tag = back.header("etag").unwrap().to_owned();

        act(app, &w.clerk, &code, "request_supplement", json!({})).await.assert_problem(422, "validation_failed");
        let stale = app
            .send(
                Method::POST,
                &format!("/api/v1/cases/{code}/actions/request_supplement"),
                Some(&w.clerk),
                Some(json!({"reason": "x"})),
                &[("If-Match", "\"old\"")],
            )
            .await;
        stale.assert_problem(412, "precondition_failed");
        let paused = app
            .send(
                Method::POST,
                &format!("/api/v1/cases/{code}/actions/request_supplement"),
                Some(&w.clerk),
                Some(json!({"reason": "Thiếu giấy chứng sinh", "items": ["Giấy chứng sinh"], "deadline_days": 5})),
                &[("If-Match", &tag)],
            )
            .await;
        assert_eq!(paused.body["status"], "supplement_requested", "{}", paused.text);
        assert_eq!(paused.body["status_code"], 5);
        assert_eq!(paused.body["supplement_count"], 1);
        let resumed = act(app, &w.citizen, &code, "submit_supplement", json!({"note": "Đã bổ sung"})).await;
        assert_eq!(resumed.body["status"], "processing", "{}", resumed.text);
        assert!(resumed.body["due_at"].as_str().unwrap() >= due_before.as_str(), "the pause never shortens the deadline");

        act(app, &w.clerk, &code, "apologize", json!({"reason": "Cần xác minh thêm"})).await.assert_problem(422, "validation_failed");
        let apology =
            act(app, &w.clerk, &code, "apologize", json!({"reason": "Cần xác minh thêm", "new_due_at": "2099-01-05T10:00:00Z"})).await;
        assert_eq!(apology.body["due_at"], "2099-01-05T10:00:00Z", "{}", apology.text);
        assert_eq!(apology.body["original_due_at"], resumed.body["due_at"]);
        let resolved = act(app, &w.clerk, &code, "resolve", json!({"summary": "Đã xác nhận"})).await;
        assert_eq!(resolved.body["status"], "resolved", "{}", resolved.text);
        assert_eq!(resolved.body["timeliness"], "early");
        let returned = act(app, &w.clerk, &code, "return_result", json!({"method": "counter"})).await;
        assert_eq!((returned.body["status"].as_str(), returned.body["status_code"].as_i64()), (Some("returned"), Some(10)));
        assert_eq!(returned.body["available_actions"], json!([]));
        act(app, &w.clerk, &code, "celebrate", json!({})).await.assert_problem(404, "not_found");

        // The applicant rates the returned case, once.
        let rating = format!("/api/v1/cases/{code}/rating");
        app.post(&rating, Some(&w.clerk), json!({"satisfaction": "satisfied"})).await.assert_problem(403, "forbidden");
        app.post(&rating, Some(&w.citizen), json!({"satisfaction": "ecstatic"})).await.assert_problem(422, "validation_failed");
        let rated = app.post(&rating, Some(&w.citizen), json!({"satisfaction": "very_satisfied", "comment": "Nhanh, chu đáo"})).await;
        assert_eq!(rated.status, 201, "{backend:?}: {}", rated.text);
        app.post(&rating, Some(&w.citizen), json!({"satisfaction": "unsatisfied"})).await.assert_problem(409, "conflict");

        let events = app.get(&format!("/api/v1/cases/{code}/events"), Some(&w.citizen)).await;
        let actions: Vec<&str> = events.body.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(
            actions,
            [
                "submit",
                "accept",
                "forward",
                "forward",
                "send_back",
                "request_supplement",
                "submit_supplement",
                "apologize",
                "resolve",
                "return_result"
            ],
            "{backend:?}"
        );
        assert_eq!(events.body[5]["note"], "Thiếu giấy chứng sinh");
        let trail = app.get(&format!("/api/v1/audit?entity_type=case&entity_id={code}&limit=100"), Some(&w.f.supervisor)).await;
        assert_eq!(trail.body["items"].as_array().unwrap().len(), 11, "ten actions and the rating");
        assert_eq!(app.get(&format!("/api/v1/cases/{code}"), Some(&w.f.supervisor)).await.body["available_actions"], json!([]));

        // A procedure with a result cannot be resolved before the result document exists.
        let counter = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await;
        let with_result = counter.body["code"].as_str().unwrap().to_owned();
        act(app, &w.clerk, &with_result, "resolve", json!({})).await.assert_problem(409, "result_required");
        let withdrawn = act(app, &w.clerk, &with_result, "withdraw", json!({"reason": "Công dân xin rút"})).await;
        app.post(&format!("/api/v1/cases/{with_result}/rating"), Some(&w.citizen), json!({"satisfaction": "satisfied"}))
            .await
            .assert_problem(404, "not_found");
        assert_eq!(withdrawn.body["status"], "withdrawn");

        // The public lookup shows the status and nothing personal.
        let lookup = app.get(&format!("/api/v1/lookup/cases/{code}"), None).await;
        assert_eq!(lookup.status, 200, "{}", lookup.text);
        assert_eq!(lookup.body["status_code"], 10);
        assert_eq!(lookup.body["completion"], "returned");
        for secret in ["Nông Văn Bình", "004099012345", "0912345678", "Tổ 1", "Thiếu giấy"] {
            assert!(!lookup.text.contains(secret), "{backend:?}: the lookup leaks {secret}");
        }
        app.get("/api/v1/lookup/cases/000.20.01.H14-261128-9999", None).await.assert_problem(404, "not_found");
        app.get("/api/v1/lookup/cases/not-a-code", None).await.assert_problem(404, "not_found");
        app.get(&format!("/api/v1/lookup/cases/{code}/more"), None).await.assert_problem(404, "not_found");
        app.get("/api/v1/lookup/cases/", None).await.assert_problem(404, "not_found");
        let wrong_method = app.post(&format!("/api/v1/lookup/cases/{code}"), None, json!({})).await;
        wrong_method.assert_problem(405, "method_not_allowed");
        assert_eq!(wrong_method.header("allow"), Some("GET"));
        let other = app.post("/api/v1/auth/register", None, citizen("citizen.b", 2)).await;
        assert_eq!(other.status, 201);
        let stranger = app.token("citizen.b", "citizen-pass-2026").await;
        app.get(&format!("/api/v1/cases/{code}"), Some(&stranger)).await.assert_problem(404, "not_found");
    }
}

backend_test! {
    async fn concurrent_intake_gets_unique_consecutive_codes_and_lookup_is_rate_limited(backend: Backend) {
        let w = world(backend).await;
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (client, base, token) = (w.app.client.clone(), w.app.base.clone(), w.clerk.clone());
            tasks.push(tokio::spawn(async move {
                let resp =
                    client.post(format!("{base}/api/v1/cases")).bearer_auth(token).json(&case_body(CODE, "counter")).send().await.unwrap();
                into_resp(resp).await
            }));
        }
        let mut sequences = Vec::new();
        for task in tasks {
            let resp = task.await.unwrap();
            assert_eq!(resp.status, 201, "{backend:?}: {}", resp.text);
            sequences.push(resp.body["code"].as_str().unwrap().rsplit('-').next().unwrap().parse::<u32>().unwrap());
        }
        sequences.sort_unstable();
        assert_eq!(sequences, (1..=20).collect::<Vec<u32>>(), "{backend:?}");

        let limited = TestApp::spawn_with(backend, |env| {
            env.insert("MOTCUA_LOOKUP_RATE_PER_MINUTE".into(), "2".into());
        })
        .await;
        for _ in 0..2 {
            limited.get("/api/v1/lookup/cases/000.20.01.H14-261128-0001", None).await.assert_problem(404, "not_found");
        }
        let too_many = limited.get("/api/v1/lookup/cases/000.20.01.H14-261128-0001", None).await;
        too_many.assert_problem(429, "rate_limited");
        assert!(too_many.header("retry-after").is_some());
    }
}

pub async fn upload(app: &TestApp, token: &str, code: &str, kind: &'static str, bytes: &'static [u8]) -> Resp {
    use reqwest::multipart::{Form, Part};
    let form = Form::new().part("file", Part::bytes(bytes).file_name("giay-to.pdf")).text("kind", kind).text("requirement_code", "TK01");
    into_resp(
        app.client.post(format!("{}/api/v1/cases/{code}/documents", app.base)).bearer_auth(token).multipart(form).send().await.unwrap(),
    )
    .await
}

backend_test! {
    async fn documents_are_checked_scoped_and_a_result_unlocks_resolve(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let online = app.post("/api/v1/cases", Some(&w.citizen), case_body(CODE, "online")).await;
        let code = online.body["code"].as_str().unwrap().to_owned();
        let mine = upload(app, &w.citizen, &code, "application", b"%PDF-1.7 to khai").await;
        assert_eq!(mine.status, 201, "{backend:?}: {}", mine.text);
        assert_eq!(mine.body["content_type"], "application/pdf");
        upload(app, &w.citizen, &code, "result", b"%PDF-1.7 fake result").await.assert_problem(403, "forbidden");
        upload(app, &w.citizen, &code, "application", b"MZ\x90\x00 not a pdf").await.assert_problem(415, "unsupported_media_type");
        upload(app, &w.citizen, &code, "selfie", b"%PDF-1.7").await.assert_problem(422, "validation_failed");
        upload(app, &w.f.supervisor, &code, "application", b"%PDF-1.7").await.assert_problem(403, "forbidden");
        let listed = app.get(&format!("/api/v1/cases/{code}/documents"), Some(&w.clerk)).await;
        assert_eq!(listed.body.as_array().unwrap().len(), 1);
        let url = mine.header("location").unwrap().to_owned();
        let download = app.client.get(format!("{}{url}", app.base)).bearer_auth(&w.citizen).send().await.unwrap();
        assert_eq!(download.headers()["content-type"], "application/pdf");
        app.post("/api/v1/auth/register", None, citizen("citizen.c", 3)).await;
        let stranger = app.token("citizen.c", "citizen-pass-2026").await;
        let denied = into_resp(app.client.get(format!("{}{url}", app.base)).bearer_auth(&stranger).send().await.unwrap()).await;
        denied.assert_problem(404, "not_found");

        // Art. 19.4: no resolve without a result document.
        act(app, &w.clerk, &code, "accept", json!({})).await;
        act(app, &w.clerk, &code, "resolve", json!({})).await.assert_problem(409, "result_required");
        let result = upload(app, &w.clerk, &code, "result", b"%PDF-1.7 giay khai sinh").await;
        assert_eq!(result.status, 201, "{}", result.text);
        let resolved = act(app, &w.clerk, &code, "resolve", json!({"decision_number": "123/GKS"})).await;
        assert_eq!(resolved.body["status"], "resolved", "{}", resolved.text);
        upload(app, &w.citizen, &code, "supplement", b"%PDF-1.7 late").await.assert_problem(409, "conflict");
    }
}

backend_test! {
    async fn inboxes_filter_in_the_query_and_other_agencies_see_nothing(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let counter = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await;
        let code = counter.body["code"].as_str().unwrap().to_owned();
        app.post("/api/v1/cases", Some(&w.citizen), case_body(CODE, "online")).await;
        let count = |resp: &Resp| resp.body["items"].as_array().map_or(usize::MAX, Vec::len);
        assert_eq!(count(&app.get("/api/v1/cases?q=nong%20van%20binh", Some(&w.clerk)).await), 2, "{backend:?}");
        assert_eq!(count(&app.get(&format!("/api/v1/cases?q={code}"), Some(&w.clerk)).await), 1);
        assert_eq!(count(&app.get("/api/v1/cases?q=tran%20thi", Some(&w.clerk)).await), 0);
        assert_eq!(count(&app.get("/api/v1/cases?overdue=true", Some(&w.clerk)).await), 0);
        assert_eq!(count(&app.get("/api/v1/cases?status=accepted&due_before=2999-01-01T00:00:00Z", Some(&w.clerk)).await), 1);
        assert_eq!(count(&app.get("/api/v1/cases?received_from=2999-01-01T00:00:00Z", Some(&w.clerk)).await), 0);
        assert_eq!(count(&app.get("/api/v1/cases?channel=online", Some(&w.clerk)).await), 1);
        app.get("/api/v1/cases?overdue=maybe", Some(&w.clerk)).await.assert_problem(422, "validation_failed");
        app.get("/api/v1/cases?due_before=tomorrow", Some(&w.clerk)).await.assert_problem(422, "validation_failed");
        assert_eq!(count(&app.get("/api/v1/me/cases", Some(&w.citizen)).await), 1);
        app.get("/api/v1/me/cases", Some(&w.clerk)).await.assert_problem(403, "forbidden");

        // An officer of commune B can neither read, list, act on nor download from commune A's case.
        app.user(&w.f.admin, "clerk.b", "officer", Some(&w.f.commune_b), &["reception", "processing", "approval", "result_return"]).await;
        let clerk_b = app.token("clerk.b", PASSWORD).await;
        app.get(&format!("/api/v1/cases/{code}"), Some(&clerk_b)).await.assert_problem(404, "not_found");
        assert_eq!(count(&app.get("/api/v1/cases", Some(&clerk_b)).await), 0);
        act(app, &clerk_b, &code, "forward", json!({})).await.assert_problem(404, "not_found");
        app.get(&format!("/api/v1/cases/{code}/events"), Some(&clerk_b)).await.assert_problem(404, "not_found");
        app.get(&format!("/api/v1/cases/{code}/documents"), Some(&clerk_b)).await.assert_problem(404, "not_found");
        upload(app, &clerk_b, &code, "result", b"%PDF-1.7").await.assert_problem(404, "not_found");
    }
}

backend_test! {
    async fn payments_supplements_and_the_result_show_in_the_case(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let counter = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await;
        let code = counter.body["code"].as_str().unwrap().to_owned();
        assert!(counter.body.get("supplement_requests").is_some(), "single-case answers carry the history: {}", counter.text);
        act(app, &w.clerk, &code, "forward", json!({})).await;
        act(app, &w.clerk, &code, "request_payment", json!({})).await.assert_problem(422, "validation_failed");
        let billed = act(app, &w.clerk, &code, "request_payment", json!({"items": ["Lệ phí cấp bản sao: 8.000 đồng"]})).await;
        assert_eq!(
            (billed.body["status"].as_str(), billed.body["status_code"].as_i64()),
            (Some("awaiting_payment"), Some(6)),
            "{}",
            billed.text
        );
        let paid = act(app, &w.clerk, &code, "confirm_payment", json!({"receipt": "BL-0042"})).await;
        assert_eq!(paid.body["status"], "processing", "{}", paid.text);
        assert_eq!(paid.body["payments"][0]["receipt"], "BL-0042");
        assert_eq!(paid.body["payments"][0]["items"][0], "Lệ phí cấp bản sao: 8.000 đồng");
        act(app, &w.clerk, &code, "request_supplement", json!({"reason": "Thiếu bản sao", "items": ["Bản sao CCCD"], "deadline_days": 3}))
            .await;
        let supplied = act(app, &w.clerk, &code, "submit_supplement", json!({"note": "Công dân nộp tại quầy"})).await;
        let request = &supplied.body["supplement_requests"][0];
        assert_eq!(request["items"][0], "Bản sao CCCD", "{}", supplied.text);
        assert!(request["deadline_at"].is_string() && request["supplied_at"].is_string(), "{}", supplied.text);
        assert_eq!(upload(app, &w.clerk, &code, "result", b"%PDF-1.7 ket qua").await.status, 201);
        act(app, &w.clerk, &code, "resolve", json!({"summary": "Cấp bản sao", "decision_number": "15/CT", "signer": "Phó Chủ tịch"})).await;
        let returned = act(app, &w.clerk, &code, "return_result", json!({"method": "counter", "recipient": "Nông Văn Bình"})).await;
        let result = &returned.body["result"];
        assert_eq!((result["decision_number"].as_str(), result["method"].as_str()), (Some("15/CT"), Some("counter")), "{}", returned.text);
        assert!(result["returned_at"].is_string());
        let listed = app.get("/api/v1/cases?limit=5", Some(&w.clerk)).await;
        assert!(listed.body["items"][0].get("payments").is_none(), "lists stay light: {}", listed.text);
    }
}
