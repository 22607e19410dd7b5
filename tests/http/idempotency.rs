//! `Idempotency-Key`: replay, reuse with another body, scope per caller.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

backend_test! {
    async fn a_replayed_key_returns_the_first_response_without_doing_the_work_twice(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let body = json!({"code": "000.00.00.H14", "name": "UBND tỉnh Cao Bằng", "level": "province"});
        let key = [("Idempotency-Key", "k-123")];
        let first = app.send(Method::POST, "/api/v1/agencies", Some(&admin), Some(body.clone()), &key).await;
        assert_eq!(first.status, 201, "{backend:?}: {}", first.text);
        let second = app.send(Method::POST, "/api/v1/agencies", Some(&admin), Some(body.clone()), &key).await;
        assert_eq!(second.status, 201, "{backend:?}: {}", second.text);
        assert_eq!(second.text, first.text, "same body");
        assert_eq!(second.header("location"), first.header("location"));
        assert_eq!(second.header("idempotent-replayed"), Some("true"));
        let list = app.get("/api/v1/agencies", None).await;
        assert_eq!(list.body["items"].as_array().unwrap().len(), 1, "{backend:?}: created once");

        let other = json!({"code": "000.00.01.H14", "name": "Khác", "level": "unit"});
        app.send(Method::POST, "/api/v1/agencies", Some(&admin), Some(other.clone()), &key)
            .await
            .assert_problem(422, "idempotency_key_reused");
        // Without the key the same body is a new request (and here a duplicate code).
        app.post("/api/v1/agencies", Some(&admin), body).await.assert_problem(409, "duplicate_agency_code");
        // Client errors are stored too: the same failing request answers the same.
        let bad = json!({"code": "bad", "name": "x", "level": "unit"});
        let k2 = [("Idempotency-Key", "k-bad")];
        let e1 = app.send(Method::POST, "/api/v1/agencies", Some(&admin), Some(bad.clone()), &k2).await;
        let e2 = app.send(Method::POST, "/api/v1/agencies", Some(&admin), Some(bad), &k2).await;
        e1.assert_problem(422, "validation_failed");
        assert_eq!(e1.text, e2.text);
        app.send(Method::POST, "/api/v1/agencies", Some(&admin), Some(other), &[("Idempotency-Key", "")])
            .await
            .assert_problem(422, "validation_failed");
    }
}

backend_test! {
    async fn keys_are_scoped_per_caller_and_survive_a_restart(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        let reg = |n: u32| citizen(&format!("citizen{n}"), n);
        let key = [("Idempotency-Key", "same-key")];
        let a = app.send(Method::POST, "/api/v1/auth/register", None, Some(reg(1)), &key).await;
        assert_eq!(a.status, 201, "{backend:?}: {}", a.text);
        // The same key from an authenticated caller is a different scope.
        let body = json!({"code": "000.00.00.H14", "name": "UBND", "level": "province"});
        assert_eq!(app.send(Method::POST, "/api/v1/agencies", Some(&admin), Some(body), &key).await.status, 201);

        let env = test_env(&app.db);
        let db = app.stop().await;
        let app = TestApp::spawn_on(db, env).await;
        let again = app.send(Method::POST, "/api/v1/auth/register", None, Some(reg(1)), &key).await;
        assert_eq!(again.status, 201, "{backend:?}: replayed after restart");
        assert_eq!(again.text, a.text);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
    }
}
