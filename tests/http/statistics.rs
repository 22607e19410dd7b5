//! Statistics over HTTP: satisfaction from the applicants' ratings, scoped by agency.

use serde_json::json;

use crate::cases::{NO_RESULT, act, case_body, world};
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn satisfaction_counts_the_ratings_of_the_callers_scope() {
    for backend in backends() {
        let w = world(backend).await;
        let app = &w.app;
        for level in ["very_satisfied", "unsatisfied", "very_satisfied"] {
            let submitted = app.post("/api/v1/cases", Some(&w.citizen), case_body(NO_RESULT, "online")).await;
            let code = submitted.body["code"].as_str().unwrap().to_owned();
            for (action, body) in
                [("accept", json!({})), ("resolve", json!({"summary": "Xong"})), ("return_result", json!({"method": "online"}))]
            {
                assert_eq!(act(app, &w.clerk, &code, action, body).await.status, 200, "{backend:?}: {action}");
            }
            let rated = app.post(&format!("/api/v1/cases/{code}/rating"), Some(&w.citizen), json!({"satisfaction": level})).await;
            assert_eq!(rated.status, 201, "{}", rated.text);
        }
        let today = chrono::Utc::now().with_timezone(&domain::time::VN).date_naive();
        let window = format!("/api/v1/statistics/satisfaction?from={today}&to={today}");
        let mine = app.get(&window, Some(&w.clerk)).await;
        assert_eq!(mine.status, 200, "{backend:?}: {}", mine.text);
        assert_eq!(mine.body["total"], 3);
        let levels = mine.body["levels"].as_array().unwrap();
        assert_eq!((levels[0]["level"].as_str(), levels[0]["count"].as_i64()), (Some("very_satisfied"), Some(2)));
        assert_eq!(levels[0]["label"], "Rất hài lòng");
        assert_eq!((levels[1]["count"].as_i64(), levels[2]["count"].as_i64()), (Some(0), Some(1)));
        assert!((levels[2]["share"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(app.get(&window, Some(&w.f.supervisor)).await.body["total"], 3, "supervisors see the province");
        let yesterday = today.pred_opt().unwrap();
        let before = app.get(&format!("/api/v1/statistics/satisfaction?from={yesterday}&to={yesterday}"), Some(&w.clerk)).await;
        assert_eq!(before.body["total"], 0);
        assert_eq!(before.body["levels"][0]["share"], 0.0);

        // Scope: commune B's officer sees none of A's ratings and cannot ask for A; citizens
        // get no statistics; a reversed window is refused.
        app.user(&w.f.admin, "clerk.b", "officer", Some(&w.f.commune_b), &["reception"]).await;
        let clerk_b = app.token("clerk.b", PASSWORD).await;
        assert_eq!(app.get(&window, Some(&clerk_b)).await.body["total"], 0);
        app.get(&format!("{window}&agency_id={}", w.f.commune_a), Some(&clerk_b)).await.assert_problem(404, "not_found");
        app.get(&window, Some(&w.citizen)).await.assert_problem(403, "forbidden");
        app.get(&format!("/api/v1/statistics/satisfaction?from={today}&to={yesterday}"), Some(&w.clerk))
            .await
            .assert_problem(422, "validation_failed");
    }
}
