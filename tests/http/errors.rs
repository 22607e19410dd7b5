//! Problem documents for everything a client can get wrong.

use reqwest::Method;
use serde_json::json;

use crate::support::*;
use crate::types::Page;

backend_test! {
    async fn bad_requests_get_problem_documents_and_change_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let url = format!("{}/api/v1/agencies", app.base);
        let raw = |body: &'static str, content_type: &'static str| {
            app.client.post(&url).bearer_auth(&admin).header("content-type", content_type).body(body).send()
        };
        into_resp(raw("{\"code\": ", "application/json").await.unwrap()).await.assert_problem(400, "malformed_request");
        let wrong_type = into_resp(raw("{\"code\": 5, \"name\": \"x\", \"level\": \"unit\"}", "application/json").await.unwrap()).await;
        wrong_type.assert_problem(422, "validation_failed");
        let missing = into_resp(raw("{\"code\": \"000.00.00.H14\"}", "application/json").await.unwrap()).await;
        assert_eq!(missing.assert_problem(422, "validation_failed").param_names(), ["name"], "{backend:?}");
        into_resp(raw("code=1", "text/plain").await.unwrap()).await.assert_problem(415, "unsupported_media_type");

        let huge = format!("{{\"code\": \"000.00.00.H14\", \"name\": \"{}\", \"level\": \"unit\"}}", "x".repeat(1024 * 1024 + 10));
        let too_large = into_resp(
            app.client.post(&url).bearer_auth(&admin).header("content-type", "application/json").body(huge).send().await.unwrap(),
        )
        .await;
        too_large.assert_problem(413, "payload_too_large");

        app.get("/api/v1/no-such-thing", None).await.assert_problem(404, "not_found");
        app.get("/nope", None).await.assert_problem(404, "not_found");
        let wrong_method = app.request(Method::DELETE, "/api/v1/agencies", Some(&admin), None).await;
        wrong_method.assert_problem(405, "method_not_allowed");
        assert_eq!(wrong_method.header("allow"), Some("GET, POST"));
        app.request(Method::PUT, "/api/v1/users/abc", Some(&admin), None).await.assert_problem(405, "method_not_allowed");
        app.get("/api/v1/agencies?limit=abc", None).await.assert_problem(422, "validation_failed");
        app.get("/api/v1/agencies?limit=1000", None).await.assert_problem(422, "validation_failed");
        app.get("/api/v1/agencies?cursor=forged", None).await.assert_problem(422, "validation_failed");
        app.get("/api/v1/audit?from=yesterday", Some(&admin)).await.assert_problem(422, "validation_failed");

        // Nothing of the above created an agency.
        let list: Page<serde_json::Value> = app.get("/api/v1/agencies", None).await.json();
        assert!(list.items.is_empty(), "{backend:?}");
    }
}

backend_test! {
    async fn titles_and_details_follow_accept_language(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let vi = app.get("/api/v1/me", None).await.assert_problem(401, "unauthorized");
        assert_eq!(vi.title, "Chưa xác thực");
        let en = app.send(Method::GET, "/api/v1/me", None, None, &[("Accept-Language", "en-US,en;q=0.9")]).await;
        assert_eq!(en.assert_problem(401, "unauthorized").title, "Authentication required", "{backend:?}");
        let rid = app.send(Method::GET, "/api/v1/me", None, None, &[("X-Request-Id", "trace-123")]).await;
        assert_eq!(rid.assert_problem(401, "unauthorized").instance, "urn:motcua:request:trace-123");
        assert_eq!(rid.header("x-request-id"), Some("trace-123"));
        let body = json!({"username": "a"});
        let en = app.send(Method::POST, "/api/v1/auth/login", None, Some(body), &[("Accept-Language", "en")]).await;
        assert_eq!(en.assert_problem(422, "validation_failed").detail, "One or more fields are invalid.");
    }
}

backend_test! {
    async fn health_metrics_openapi_and_swagger_are_served(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.get("/health/live", None).await.body["status"], "ok");
        let ready = app.get("/health/ready", None).await;
        assert_eq!(ready.status, 200, "{backend:?}: {}", ready.text);
        assert_eq!(ready.body["migrations_ok"], true);
        assert_eq!(ready.body["database"], if backend == Backend::Sqlite { "sqlite" } else { "postgres" });
        assert_eq!(ready.body["integrations"]["national_portal"], "off");
        assert_eq!(ready.body["background"]["motcua-audit-chainer"], json!({"status": "running", "panics": 0}), "{}", ready.text);
        assert!(ready.body["background"].get("motcua-outbox").is_none(), "no dispatcher without a receiver: {}", ready.text);
        app.get("/nope", None).await;
        let metrics = app.get("/metrics", None).await;
        assert!(
            metrics.text.contains("motcua_http_requests_total{route=\"/health/ready\",method=\"GET\",status=\"200\"} 1"),
            "{}",
            metrics.text
        );
        assert!(metrics.text.contains("status=\"404\""));
        assert!(metrics.text.contains("motcua_background_panics_total{thread=\"motcua-stats\"} 0"), "{}", metrics.text);
        let writer_metrics = metrics.text.contains("motcua_sqlite_writer_held_seconds_total ");
        assert_eq!(writer_metrics, backend == Backend::Sqlite, "the SQLite writer's occupancy, on SQLite only: {}", metrics.text);
        assert!(metrics.text.contains("motcua_http_request_duration_seconds_bucket"));
        let spec = app.get("/api/v1/openapi.json", None).await;
        assert_eq!(spec.body, serde_json::to_value(api::server::openapi()).unwrap(), "served spec equals the generated one");
        let docs = app.get("/docs/", None).await;
        assert_eq!(docs.status, 200);
        assert!(docs.text.contains("swagger-ui"), "{}", docs.text);
        let bundle = app.get("/docs/swagger-ui-bundle.js", None).await;
        assert_eq!(bundle.status, 200, "Swagger UI works offline: its script is served by us");
    }
}

backend_test! {
    async fn cors_allows_only_the_configured_origins(backend: Backend) {
        let app = TestApp::spawn_with(backend, |env| {
            env.insert("MOTCUA_CORS_ORIGINS".into(), "https://dichvucong.caobang.gov.vn".into());
        })
        .await;
        let preflight = |origin: &'static str| {
            app.client
                .request(Method::OPTIONS, format!("{}/api/v1/auth/login", app.base))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type, idempotency-key")
                .send()
        };
        let allowed = preflight("https://dichvucong.caobang.gov.vn").await.unwrap();
        assert_eq!(allowed.status(), 200, "{backend:?}");
        assert_eq!(allowed.headers()["access-control-allow-origin"], "https://dichvucong.caobang.gov.vn");
        let denied = into_resp(preflight("https://evil.example").await.unwrap()).await;
        assert!(denied.header("access-control-allow-origin").is_none(), "{backend:?}");
        assert!(denied.status.is_client_error());
        assert!(denied.content_type().starts_with("application/problem+json"), "{}", denied.text);
    }
}
