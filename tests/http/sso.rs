//! Login through the national portal (OIDC authorization-code flow; mockito plays the portal's
//! authorization server).

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::*;

fn jwt(claims: &Value) -> String {
    let part = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.signature", part(&json!({"alg": "RS256", "typ": "JWT"})), part(claims))
}

/// Starts a login; returns the `state` and `nonce` sent to the authorization server.
async fn start_login(app: &TestApp, return_to: &str) -> (String, String) {
    let started = app
        .send(
            Method::GET,
            &format!("/api/v1/auth/sso/national/authorize?return_to={return_to}"),
            None,
            None,
            &[("Accept", "application/json")],
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    let url = reqwest::Url::parse(started.body["authorize_url"].as_str().unwrap()).unwrap();
    let params: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(url.path(), "/oauth2/authorize");
    assert_eq!(
        (params["response_type"].as_str(), params["client_id"].as_str(), params["scope"].as_str(), params["acr_values"].as_str()),
        ("code", "motcua-caobang", "openid", "LoA1")
    );
    assert_eq!(params["redirect_uri"], "https://dichvucong.caobang.gov.vn/sso/callback");
    (params["state"].clone(), params["nonce"].clone())
}

async fn token_mock(server: &mut mockito::ServerGuard, code: &str, nonce: &str) -> mockito::Mock {
    server
        .mock("POST", "/oauth2/token")
        .match_body(mockito::Matcher::AllOf(vec![
            mockito::Matcher::UrlEncoded("grant_type".into(), "authorization_code".into()),
            mockito::Matcher::UrlEncoded("code".into(), code.into()),
            mockito::Matcher::UrlEncoded("client_secret".into(), "oidc-secret".into()),
        ]))
        .with_body(json!({"access_token": format!("at-{code}"), "token_type": "Bearer", "id_token": jwt(&json!({"nonce": nonce, "aud": "motcua-caobang", "exp": 4_102_444_800_i64}))}).to_string())
        .create_async()
        .await
}

backend_test! {
    async fn the_national_portal_login_creates_then_links_a_citizen_and_refuses_bad_callbacks(backend: Backend) {
        let mut server = mockito::Server::new_async().await;
        let issuer = server.url();
        let app = TestApp::spawn_with(backend, move |env| {
            env.insert("MOTCUA_OIDC_ISSUER_URL".into(), issuer);
            env.insert("MOTCUA_OIDC_CLIENT_ID".into(), "motcua-caobang".into());
            env.insert("MOTCUA_OIDC_CLIENT_SECRET".into(), "oidc-secret".into());
            env.insert("MOTCUA_OIDC_REDIRECT_URL".into(), "https://dichvucong.caobang.gov.vn/sso/callback".into());
        })
        .await;
        let _userinfo = server
            .mock("GET", "/oauth2/userinfo")
            .match_header("authorization", mockito::Matcher::Regex("^Bearer at-".into()))
            .with_body(json!({"sub": "u-1", "LoaiTaiKhoan": "1", "SoDinhDanh": "004099099999", "HoVaTen": "Hoàng Thị Lan", "SoDienThoai": "0987654321", "ThuDienTu": "lan@example.vn", "loAs": "LoA2"}).to_string())
            .create_async()
            .await;
        let callback = |code: &str, state: &str| format!("/api/v1/auth/sso/national/callback?code={code}&state={state}");

        // The browser is redirected by default.
        let no_follow = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let redirect = no_follow.get(format!("{}/api/v1/auth/sso/national/authorize", app.base)).send().await.unwrap();
        assert_eq!(redirect.status(), 302);
        let location = redirect.headers()["location"].to_str().unwrap();
        assert!(location.starts_with(&format!("{}/oauth2/authorize?response_type=code", server.url())), "{location}");

        let (state, nonce) = start_login(&app, "/ho-so").await;
        let _token = token_mock(&mut server, "code-1", &nonce).await;
        let first = app.get(&callback("code-1", &state), None).await;
        assert_eq!(first.status, 200, "{backend:?}: {}", first.text);
        assert_eq!((first.body["account_created"].as_bool(), first.body["return_to"].as_str()), (Some(true), Some("/ho-so")));
        let token = first.body["access_token"].as_str().unwrap().to_owned();
        assert!(first.body["refresh_token"].as_str().is_some());
        let me = app.get("/api/v1/me", Some(&token)).await;
        assert_eq!((me.body["role"].as_str(), me.body["full_name"].as_str()), (Some("citizen"), Some("Hoàng Thị Lan")), "{}", me.text);

        // Replayed: refused.
        app.get(&callback("code-1", &state), None).await.assert_problem(401, "unauthorized");
        // A state we never issued: refused.
        app.get(&callback("code-1", "forged-state"), None).await.assert_problem(401, "unauthorized");
        app.get("/api/v1/auth/sso/national/callback?code=x", None).await.assert_problem(401, "unauthorized");

        // An expired code: the token endpoint refuses it, and so do we.
        let (state, _) = start_login(&app, "").await;
        let _expired = server
            .mock("POST", "/oauth2/token")
            .match_body(mockito::Matcher::UrlEncoded("code".into(), "stale".into()))
            .with_status(400)
            .with_body(json!({"error": "invalid_grant"}).to_string())
            .create_async()
            .await;
        app.get(&callback("stale", &state), None).await.assert_problem(401, "unauthorized");

        // An id token minted for another login (nonce mismatch): refused.
        let (state, _) = start_login(&app, "").await;
        let _other = token_mock(&mut server, "code-2", "someone-elses-nonce").await;
        app.get(&callback("code-2", &state), None).await.assert_problem(401, "unauthorized");

        // The next login links the same account.
        let (state, nonce) = start_login(&app, "").await;
        let _again = token_mock(&mut server, "code-3", &nonce).await;
        let second = app.get(&callback("code-3", &state), None).await;
        assert_eq!(second.body["account_created"], false, "{}", second.text);
        let me_again = app.get("/api/v1/me", Some(second.body["access_token"].as_str().unwrap())).await;
        assert_eq!(me_again.body["id"], me.body["id"], "{backend:?}: linked by id number");
        app.send(
            Method::GET,
            "/api/v1/auth/sso/national/authorize?return_to=https://evil.example",
            None,
            None,
            &[("Accept", "application/json")],
        )
        .await
        .assert_problem(422, "validation_failed");
    }
}

/// Without the national portal configured, its login answers 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_national_portal_login_is_a_conflict_when_unconfigured() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.get("/api/v1/auth/sso/national/authorize", None).await.assert_problem(409, "conflict");
}
