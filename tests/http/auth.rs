//! Login, refresh rotation, logout, lockout, registration, client credentials.

use reqwest::Method;
use serde_json::json;

use crate::support::*;
use crate::types::{Tokens, User};

backend_test! {
    async fn login_succeeds_and_fails_with_one_answer(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let ok: Tokens = app.login_pair("admin", ADMIN_PASSWORD).await.expect(200);
        assert_eq!((ok.token_type.as_str(), ok.expires_in), ("Bearer", 900));
        assert!(ok.refresh_token.as_ref().is_some_and(|t| t.len() > 30));

        let wrong = app.login_pair("admin", "wrong-password-1").await.assert_problem(401, "invalid_credentials");
        let unknown = app.login_pair("nobody", "wrong-password-1").await.assert_problem(401, "invalid_credentials");
        assert_eq!(wrong.detail, unknown.detail, "{backend:?}: unknown user and wrong password look alike");

        let me: User = app.get("/api/v1/me", Some(&ok.access_token)).await.expect(200);
        assert_eq!((me.username.as_str(), me.role.as_str(), me.role_label.as_str()), ("admin", "system_admin", "Quản trị hệ thống"));
        app.get("/api/v1/me", None).await.assert_problem(401, "unauthorized");
        app.get("/api/v1/me", Some("not-a-jwt")).await.assert_problem(401, "unauthorized");
    }
}

backend_test! {
    async fn refresh_rotates_and_a_replayed_token_revokes_the_session(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let refresh1 = app.login_pair("admin", ADMIN_PASSWORD).await.expect::<Tokens>(200).refresh_token.unwrap();
        let second: Tokens = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh1})).await.expect(200);
        let refresh2 = second.refresh_token.unwrap();
        assert_ne!(refresh1, refresh2);
        let access2 = second.access_token;
        assert_eq!(app.get("/api/v1/me", Some(&access2)).await.status, 200);

        // The old refresh token is refused, and presenting it revokes the whole session.
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh1})).await.assert_problem(401, "unauthorized");
        app.get("/api/v1/me", Some(&access2)).await.assert_problem(401, "unauthorized");
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh2})).await.assert_problem(401, "unauthorized");
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": "made-up"})).await.assert_problem(401, "unauthorized");
    }
}

backend_test! {
    async fn logout_revokes_the_session_at_once(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let pair: Tokens = app.login_pair("admin", ADMIN_PASSWORD).await.expect(200);
        let access = pair.access_token.as_str();
        let other = app.admin().await;
        let out = app.request(Method::POST, "/api/v1/auth/logout", Some(access), None).await;
        assert_eq!(out.status, 204, "{backend:?}: {}", out.text);
        app.get("/api/v1/me", Some(access)).await.assert_problem(401, "unauthorized");
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": pair.refresh_token}))
            .await
            .assert_problem(401, "unauthorized");
        assert_eq!(app.get("/api/v1/me", Some(&other)).await.status, 200, "other sessions stay");
    }
}

backend_test! {
    async fn repeated_failures_lock_the_account_with_retry_after(backend: Backend) {
        let app = TestApp::spawn_with(backend, |env| {
            env.insert("MOTCUA_LOCKOUT_THRESHOLD".into(), "3".into());
        })
        .await;
        for _ in 0..3 {
            app.login_pair("admin", "wrong-password-1").await.assert_problem(401, "invalid_credentials");
        }
        let locked = app.login_pair("admin", ADMIN_PASSWORD).await;
        locked.assert_problem(429, "account_locked");
        let retry: u64 = locked.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry), "{backend:?}: retry-after {retry}");
    }
}

backend_test! {
    async fn login_is_rate_limited_per_client(backend: Backend) {
        let app = TestApp::spawn_with(backend, |env| {
            env.insert("MOTCUA_LOGIN_RATE_PER_MINUTE".into(), "2".into());
        })
        .await;
        app.login_pair("x-user", "whatever-pass-1").await.assert_problem(401, "invalid_credentials");
        app.login_pair("x-user", "whatever-pass-1").await.assert_problem(401, "invalid_credentials");
        let limited = app.login_pair("admin", ADMIN_PASSWORD).await;
        limited.assert_problem(429, "rate_limited");
        assert!(limited.header("retry-after").is_some(), "{backend:?}");
    }
}

backend_test! {
    async fn citizens_register_with_validated_identity(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let created: User = app.post("/api/v1/auth/register", None, citizen("nguyenvana", 1)).await.expect(201);
        assert_eq!((created.role.as_str(), created.phone.as_deref()), ("citizen", Some("0912345678")));
        let token = app.token("nguyenvana", "citizen-pass-2026").await;
        assert_eq!(app.get("/api/v1/me", Some(&token)).await.expect::<User>(200).full_name, "Nguyễn Văn A");

        let bad = app
            .post(
                "/api/v1/auth/register",
                None,
                json!({"username": "x", "password": "short", "full_name": "", "id_number": "12345", "phone": "12", "email": "nope"}),
            )
            .await
            .assert_problem(422, "validation_failed");
        let names = bad.param_names();
        for field in ["username", "password", "full_name", "id_number", "phone", "email"] {
            assert!(names.contains(&field), "{backend:?}: {field} missing from {names:?}");
        }
        app.post("/api/v1/auth/register", None, citizen("nguyenvana", 2)).await.assert_problem(409, "duplicate_username");
        app.post("/api/v1/auth/register", None, citizen("nguyenvanb", 1)).await.assert_problem(409, "duplicate_id_number");
    }
}

backend_test! {
    async fn integration_clients_use_client_credentials(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin().await;
        app.user(&admin, "dvcqg", "integration", None, &["cases.submit"]).await;
        let form = [("grant_type", "client_credentials"), ("client_id", "dvcqg"), ("client_secret", PASSWORD)];
        let resp = into_resp(app.client.post(format!("{}/api/v1/auth/token", app.base)).form(&form).send().await.unwrap()).await;
        let granted: Tokens = resp.expect(200);
        assert_eq!(granted.scope.as_deref(), Some("cases.submit"));
        assert!(granted.refresh_token.is_none());
        let token = granted.access_token.as_str();
        assert_eq!(app.get("/api/v1/me", Some(token)).await.expect::<User>(200).role, "integration");
        // Integration clients may not use the password login, and may not administer anything.
        app.login_pair("dvcqg", PASSWORD).await.assert_problem(401, "invalid_credentials");
        app.get("/api/v1/users", Some(token)).await.assert_problem(403, "forbidden");

        let basic = into_resp(
            app.client
                .post(format!("{}/api/v1/auth/token", app.base))
                .basic_auth("dvcqg", Some(PASSWORD))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(basic.status, 200, "{}", basic.text);
        let wrong = [("grant_type", "client_credentials"), ("client_id", "dvcqg"), ("client_secret", "wrong-secret-1")];
        let denied = into_resp(app.client.post(format!("{}/api/v1/auth/token", app.base)).form(&wrong).send().await.unwrap()).await;
        denied.assert_problem(401, "invalid_credentials");
        let grant = [("grant_type", "password")];
        let bad = into_resp(app.client.post(format!("{}/api/v1/auth/token", app.base)).form(&grant).send().await.unwrap()).await;
        bad.assert_problem(422, "validation_failed");
    }
}
