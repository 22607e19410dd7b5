//! Statistics over HTTP: satisfaction from the applicants' ratings, scoped by agency.

use serde_json::{Value, json};

use crate::cases::{NO_RESULT, act, case_body, world};
use crate::support::*;

backend_test! {
    async fn satisfaction_counts_the_ratings_of_the_callers_scope(backend: Backend) {
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

backend_test! {
    async fn agencies_are_evaluated_per_quarter_with_self_and_appraised_scores(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        // Two cases resolved early, one of them after a supplement request; a conduct complaint
        // about the first.
        let mut codes = Vec::new();
        for supplement in [false, true] {
            let created = app.post("/api/v1/cases", Some(&w.citizen), case_body(NO_RESULT, "online")).await;
            let code = created.body["code"].as_str().unwrap().to_owned();
            assert_eq!(act(app, &w.clerk, &code, "accept", json!({})).await.status, 200);
            if supplement {
                act(app, &w.clerk, &code, "request_supplement", json!({"reason": "Thiếu", "items": ["Bản sao"]})).await;
                assert_eq!(act(app, &w.citizen, &code, "submit_supplement", json!({})).await.status, 200);
            }
            assert_eq!(act(app, &w.clerk, &code, "resolve", json!({"summary": "Xong"})).await.status, 200);
            codes.push(code);
        }
        let complaint = json!({"kind": "reflection", "category": "conduct", "title": "Thái độ", "content": "Cán bộ không hướng dẫn", "related_case_code": codes[0]});
        assert_eq!(app.post("/api/v1/feedback", Some(&w.citizen), complaint).await.status, 201);
        let now = chrono::Utc::now().with_timezone(&domain::time::VN);
        let quarter = format!("{}-Q{}", chrono::Datelike::year(&now), chrono::Datelike::month(&now).div_ceil(3));
        let path = format!("/api/v1/evaluations/agencies?quarter={quarter}");
        let listed = app.get(&path, Some(&w.f.supervisor)).await;
        assert_eq!(listed.status, 200, "{backend:?}: {}", listed.text);
        let all = listed.body.as_array().unwrap();
        assert_eq!(all.len(), 4, "every agency of the province");
        let a = all.iter().find(|e| e["agency_id"] == json!(w.f.commune_a)).unwrap();
        assert_eq!(a["cases_evaluated"], 2);
        assert_eq!(a["rank"], 1, "{}", listed.text);
        let points = |e: &Value, n: usize| e["indicators"][n - 1]["points"].as_f64();
        assert_eq!(points(a, 1), Some(2.0), "both early");
        assert_eq!(points(a, 3), Some(1.5), "0 and 1 supplement requests: 2 and 1 points");
        assert_eq!(points(a, 4), Some(1.5));
        assert_eq!(points(a, 5), None, "only an assessor decides indicator 5");
        assert_eq!(points(a, 6), Some(1.0), "published electronically");
        assert_eq!(points(a, 7), Some(1.0), "the complaint costs the first case its 2 points");
        assert_eq!(points(a, 8), Some(2.0), "feedback not yet due");
        let total: f64 = a["indicators"].as_array().unwrap().iter().filter_map(|i| i["points"].as_f64()).sum();
        assert!((a["total"].as_f64().unwrap() - total).abs() < 0.01);

        // Self-assessment by the agency's administrator; the appraisal overrides it.
        let put = |token: &str, scores: Value| {
            let body = json!({"scores": scores, "deduction_reasons": "Niêm yết chưa đầy đủ"});
            let path = format!("/api/v1/evaluations/agencies/{}/{quarter}", w.f.commune_a);
            let token = token.to_owned();
            async move { app.send(reqwest::Method::PUT, &path, Some(&token), Some(body), &[]).await }
        };
        let own = put(&w.f.agency_admin, json!({"5": 2, "6": 2})).await;
        assert_eq!(own.status, 200, "{}", own.text);
        assert_eq!(points(&own.body, 5), Some(2.0));
        assert_eq!(own.body["indicators"][4]["self_score"], 2);
        let appraised = put(&w.f.supervisor, json!({"6": 1})).await;
        assert_eq!(appraised.status, 200, "{}", appraised.text);
        assert_eq!(points(&appraised.body, 5), Some(2.0), "self score kept where not appraised");
        assert_eq!(points(&appraised.body, 6), Some(1.0), "the appraisal wins");
        assert_eq!(appraised.body["deduction_reasons"], "Niêm yết chưa đầy đủ");
        let total = appraised.body["total"].as_f64().unwrap();
        let class = appraised.body["class"].as_str().unwrap();
        let expected = if total >= 15.0 {
            "xuat_sac"
        } else if total >= 12.0 {
            "tot"
        } else if total >= 9.0 {
            "kha"
        } else if total >= 6.0 {
            "trung_binh"
        } else {
            "yeu"
        };
        assert_eq!(class, expected, "{total}");
        put(&w.clerk, json!({"5": 2})).await.assert_problem(403, "forbidden");
        put(&w.citizen, json!({"5": 2})).await.assert_problem(403, "forbidden");
        put(&w.f.agency_admin, json!({"5": 3})).await.assert_problem(422, "validation_failed");
        put(&w.f.agency_admin, json!({"10": 1})).await.assert_problem(422, "validation_failed");
        let other = app
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/evaluations/agencies/{}/{quarter}", w.f.commune_b),
                Some(&w.f.agency_admin),
                Some(json!({"scores": {"5": 2}})),
                &[],
            )
            .await;
        other.assert_problem(404, "not_found");
        // Staff see their own subtree only.
        let mine = app.get(&path, Some(&w.clerk)).await;
        assert_eq!(mine.body.as_array().unwrap().len(), 1);
        app.get("/api/v1/evaluations/agencies?quarter=2026-Q5", Some(&w.clerk)).await.assert_problem(422, "validation_failed");
        app.get(&path, Some(&w.citizen)).await.assert_problem(403, "forbidden");

        // The public counters: no personal data, the province's numbers.
        let public = app.get("/api/v1/public/statistics", None).await;
        assert_eq!(public.status, 200, "{}", public.text);
        assert_eq!(public.body["resolved"], 2);
        assert_eq!(public.body["received_online"], 2);
        assert_eq!(public.body["on_time_share"], 1.0);
        assert!(!public.text.contains("Nông Văn Bình"));
        app.get("/api/v1/public/statistics?year=2999", None).await.assert_problem(422, "validation_failed");
    }
}
