//! What an attacker or a careless client can send: control characters, text in decomposed
//! Unicode, forged `X-Forwarded-For` hops, credentials under an `Idempotency-Key`, bodies larger
//! than announced limits, and a day with more cases than the code has digits for.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cases::{CODE, case_body, world, world_at};
use crate::support::*;
use crate::types::{Case, Feedback, Page, Tokens, User};

backend_test! {
    async fn control_characters_are_refused_by_field_before_the_database(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let mut nul_name = case_body(CODE, "counter");
        nul_name["applicant"]["full_name"] = json!("Nông\u{0000}Văn Bình");
        nul_name["summary"] = json!("Khai sinh\u{0007}");
        let problem = app.post("/api/v1/cases", Some(&w.clerk), nul_name).await.assert_problem(422, "validation_failed");
        assert_eq!(problem.param_names(), ["applicant.full_name", "summary"], "{backend:?}");
        let login = app.post("/api/v1/auth/login", None, json!({"username": "ad\u{0000}min", "password": "whatever-1"})).await;
        assert_eq!(login.assert_problem(422, "validation_failed").param_names(), ["username"]);
        let mut register = citizen("citizen.nul", 7);
        register["full_name"] = json!("A\u{0000}");
        assert_eq!(app.post("/api/v1/auth/register", None, register).await.assert_problem(422, "validation_failed").param_names(), ["full_name"]);
        let feedback = json!({"kind": "reflection", "category": "regulation", "title": "x\u{0000}", "content": "Dòng một\nDòng hai\tcột", "agency_id": w.f.commune_a, "contact": {"full_name": "Lục Thị Hoa", "phone": "0912000111"}});
        assert_eq!(app.post("/api/v1/feedback", None, feedback).await.assert_problem(422, "validation_failed").param_names(), ["title"]);
        let q = app.get("/api/v1/cases?q=a%00b", Some(&w.clerk)).await.assert_problem(422, "validation_failed");
        assert_eq!(q.param_names(), ["q"]);
        let path = app.get("/api/v1/lookup/cases/000.20.01.H14-261130-%000001", None).await.assert_problem(422, "validation_failed");
        assert_eq!(path.param_names(), ["path"]);
        // Line breaks and tabs are text; nothing above was stored.
        let cases: Page<Case> = app.get("/api/v1/cases", Some(&w.clerk)).await.expect(200);
        assert!(cases.items.is_empty(), "{backend:?}");
        let feedback: Page<Feedback> = app.get("/api/v1/feedback", Some(&w.clerk)).await.expect(200);
        assert!(feedback.items.is_empty());
    }
}

backend_test! {
    async fn vietnamese_text_is_stored_in_one_unicode_form(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        // "Nông Văn Bình" with combining marks (NFD), as some keyboards and OCR tools send it.
        let decomposed = "No\u{302}ng Va\u{306}n Bi\u{300}nh";
        let mut body = case_body(CODE, "counter");
        body["applicant"]["full_name"] = json!(decomposed);
        let code = app.post("/api/v1/cases", Some(&w.clerk), body).await.case(201).code;
        let found: Page<Case> = app.get("/api/v1/cases?q=N%C3%B4ng%20V%C4%83n%20B%C3%ACnh", Some(&w.clerk)).await.expect(200);
        assert_eq!(found.items.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), [code.as_str()], "{backend:?}");
        let shown = app.get(&format!("/api/v1/cases/{code}"), Some(&w.clerk)).await;
        assert!(shown.text.contains("Nông Văn Bình") && !shown.text.contains(decomposed), "{}", shown.text);
        let mut register = citizen("citizen.nfd", 8);
        register["full_name"] = json!(decomposed);
        let user: User = app.post("/api/v1/auth/register", None, register).await.expect(201);
        assert_eq!(user.full_name, "Nông Văn Bình");
    }
}

backend_test! {
    async fn credentials_are_never_kept_for_an_idempotent_replay(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let body = json!({"username": "admin", "password": ADMIN_PASSWORD});
        let login = || app.send(reqwest::Method::POST, "/api/v1/auth/login", None, Some(body.clone()), &[("Idempotency-Key", "login-1")]);
        let first = login().await;
        let first_pair: Tokens = first.expect(200);
        assert!(first.header("idempotent-replayed").is_none());
        let mut conn = app.db.connect();
        let kept: i64 = persistence::per_backend!(&mut *conn, |c| {
            use diesel::prelude::*;
            persistence::schema::idempotency_keys::table.count().get_result(c)
        })
        .unwrap();
        assert_eq!(kept, 0, "{backend:?}: no login answer is stored");
        let out = app.request(reqwest::Method::POST, "/api/v1/auth/logout", Some(&first_pair.access_token), None).await;
        assert_eq!(out.status, 204);
        // The same key again is a new login, never the revoked pair.
        let again: Tokens = login().await.expect(200);
        assert_ne!(again.access_token, first_pair.access_token);
        assert_eq!(app.get("/api/v1/me", Some(&again.access_token)).await.status, 200);
    }
}

/// Sends a request head announcing `length` bytes and a few of them, and reads the answer.
async fn announce(app: &TestApp, head: &str) -> String {
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(b"{\"code\": \"").await.unwrap();
    let mut answer = vec![0_u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer)).await;
    let n = read.expect("an answer before the body is sent").unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

backend_test! {
    async fn a_body_over_the_json_limit_is_refused_before_it_is_read(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // 20 MB announced (the upload limit), JSON, anonymous, with an Idempotency-Key: refused
        // at once, not buffered.
        for key in ["Idempotency-Key: big-1\r\n", ""] {
            let head = format!(
                "POST /api/v1/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{key}Content-Length: 20000000\r\n\r\n"
            );
            let answer = announce(&app, &head).await;
            assert!(answer.starts_with("HTTP/1.1 413"), "{backend:?}: {answer}");
            assert!(answer.contains("payload_too_large"), "{answer}");
        }
    }
}

backend_test! {
    async fn a_forged_first_forwarded_hop_does_not_escape_the_login_limit(backend: Backend) {
        let app = TestApp::spawn_with(backend, |env| {
            env.insert("MOTCUA_LOGIN_RATE_PER_MINUTE".into(), "2".into());
            env.insert("MOTCUA_TRUST_PROXY".into(), "true".into());
        })
        .await;
        let body = json!({"username": "x-user", "password": "whatever-pass-1"});
        let mut statuses = Vec::new();
        for i in 0..4 {
            // The client writes its own first hop; our proxy appends the address it saw.
            let forwarded = format!("10.9.{i}.1, 203.0.113.7");
            let resp = app.send(reqwest::Method::POST, "/api/v1/auth/login", None, Some(body.clone()), &[("X-Forwarded-For", &forwarded)]).await;
            statuses.push(resp.status.as_u16());
        }
        assert_eq!(statuses, [401, 401, 429, 429], "{backend:?}");
        // Another client behind the same proxy is counted apart.
        let other = app
            .send(reqwest::Method::POST, "/api/v1/auth/login", None, Some(body), &[("X-Forwarded-For", "10.9.0.1, 203.0.113.8")])
            .await;
        other.assert_problem(401, "invalid_credentials");
    }
}

backend_test! {
    async fn a_day_with_more_cases_than_digits_is_a_capacity_error_that_stores_nothing(backend: Backend) {
        // Monday 30 November 2026, 09:00 in Vietnam.
        let w = world_at(backend, utc(2026, 11, 30, 2, 0)).await;
        let app = &w.app;
        let mut conn = app.db.connect();
        let sql = format!("INSERT INTO case_sequences (agency_id, local_date, last_value) VALUES ('{}', '2026-11-30', 9999)", w.f.commune_a);
        persistence::db::execute_raw(&mut conn, &sql).unwrap();
        let full = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await;
        let problem = full.assert_problem(503, "case_codes_exhausted");
        assert!(problem.detail.contains("MOTCUA_CASE_SEQUENCE_WIDTH") || !problem.detail.is_empty());
        let cases: Page<Case> = app.get("/api/v1/cases", Some(&w.clerk)).await.expect(200);
        assert!(cases.items.is_empty(), "{backend:?}: nothing stored");
    }
}

backend_test! {
    async fn citizens_list_their_own_feedback(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let mine = json!({"kind": "recommendation", "category": "regulation", "title": "Giảm giấy tờ", "content": "Đề nghị bỏ bản sao.", "agency_id": w.f.commune_a});
        let code = app.post("/api/v1/feedback", Some(&w.citizen), mine).await.feedback(201).code;
        let anonymous = json!({"kind": "reflection", "category": "regulation", "title": "Khác", "content": "Nội dung khác.", "agency_id": w.f.commune_a, "contact": {"full_name": "Lục Thị Hoa", "phone": "0912000111"}});
        assert_eq!(app.post("/api/v1/feedback", None, anonymous).await.status, 201);
        let own: Page<Feedback> = app.get("/api/v1/me/feedback", Some(&w.citizen)).await.expect(200);
        assert_eq!(own.items.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(), [code.as_str()], "{backend:?}");
        app.get("/api/v1/me/feedback", Some(&w.clerk)).await.assert_problem(403, "forbidden");
        app.get("/api/v1/me/feedback", None).await.assert_problem(401, "unauthorized");
    }
}

backend_test! {
    async fn a_lockout_answers_alike_for_any_name_and_only_at_the_failing_address(backend: Backend) {
        let app = TestApp::spawn_with(backend, |env| {
            env.insert("MOTCUA_LOCKOUT_THRESHOLD".into(), "3".into());
            env.insert("MOTCUA_TRUST_PROXY".into(), "1".into());
        })
        .await;
        let app = &app;
        let login = |username: &'static str, password: &'static str, from: &'static str| async move {
            let body = json!({"username": username, "password": password});
            app.send(reqwest::Method::POST, "/api/v1/auth/login", None, Some(body), &[("X-Forwarded-For", from)]).await
        };
        for name in ["admin", "no-such-user"] {
            for _ in 0..3 {
                login(name, "wrong-password-1", "198.51.100.9").await.assert_problem(401, "invalid_credentials");
            }
            let locked = login(name, "wrong-password-1", "198.51.100.9").await;
            locked.assert_problem(429, "account_locked");
            assert!(locked.header("retry-after").is_some(), "{backend:?}: {name}");
        }
        // The right password from the locked address waits too; the owner elsewhere logs in.
        login("admin", ADMIN_PASSWORD, "198.51.100.9").await.assert_problem(429, "account_locked");
        assert_eq!(login("admin", ADMIN_PASSWORD, "203.0.113.20").await.status, 200, "{backend:?}");
    }
}

/// Two instances on one PostgreSQL database count one limit: the second instance refuses what
/// the first already allowed. (SQLite deployments are one process; their counters are in memory.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_across_instances_on_postgres() {
    if !postgres_configured() {
        eprintln!("skipped: TEST_PG_URL is unset");
        return;
    }
    let app = TestApp::spawn_with(Backend::Postgres, |env| {
        env.insert("MOTCUA_LOGIN_RATE_PER_MINUTE".into(), "3".into());
        env.insert("MOTCUA_LOOKUP_RATE_PER_MINUTE".into(), "2".into());
    })
    .await;
    let mut env = test_env(&app.db);
    env.insert("MOTCUA_LOGIN_RATE_PER_MINUTE".into(), "3".into());
    env.insert("MOTCUA_LOOKUP_RATE_PER_MINUTE".into(), "2".into());
    let second = spawn_extra(env).await;
    let body = json!({"username": "x-user", "password": "whatever-pass-1"});
    let mut statuses = Vec::new();
    for base in [&app.base, &second.base, &app.base, &second.base] {
        let resp = app.client.post(format!("{base}/api/v1/auth/login")).json(&body).send().await.unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429], "three logins a minute for the group");
    let lookup = "/api/v1/lookup/cases/000.20.01.H14-261128-0001";
    let mut statuses = Vec::new();
    for base in [&second.base, &app.base, &second.base] {
        statuses.push(app.client.get(format!("{base}{lookup}")).send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [404, 404, 429], "two lookups a minute for the group");
}

backend_test! {
    async fn the_national_portal_reads_the_cases_it_forwarded_and_no_others(backend: Backend) {
        let w = world(backend).await;
        let app = &w.app;
        let counter = app.post("/api/v1/cases", Some(&w.clerk), case_body(CODE, "counter")).await.case(201).code;
        app.user(&w.f.admin, "dvcqg", "integration", None, &["cases.submit", "cases.read"]).await;
        let form = [("grant_type", "client_credentials"), ("client_id", "dvcqg"), ("client_secret", PASSWORD)];
        let token = into_resp(app.client.post(format!("{}/api/v1/auth/token", app.base)).form(&form).send().await.unwrap()).await;
        let portal = token.expect::<Tokens>(200).access_token;
        let mut forwarded = case_body(CODE, "online");
        forwarded["external_id"] = json!("G22.991-261208-000001");
        let theirs = app.post("/api/v1/cases", Some(&portal), forwarded).await.case(201).code;

        let listed: Page<Case> = app.get("/api/v1/cases?limit=100", Some(&portal)).await.expect(200);
        assert_eq!(listed.items.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), [theirs.as_str()], "{backend:?}");
        assert_eq!(app.get(&format!("/api/v1/cases/{theirs}"), Some(&portal)).await.case(200).source, "national_portal");
        app.get(&format!("/api/v1/cases/{counter}"), Some(&portal)).await.assert_problem(404, "not_found");
        app.get(&format!("/api/v1/cases/{counter}/events"), Some(&portal)).await.assert_problem(404, "not_found");
    }
}

backend_test! {
    async fn a_body_that_never_arrives_times_out_without_holding_the_server(backend: Backend) {
        let app = TestApp::spawn_with(backend, |env| {
            env.insert("MOTCUA_REQUEST_TIMEOUT_SECONDS".into(), "1".into());
        })
        .await;
        // 100 bytes announced, 10 sent, then silence.
        let head = "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
        let answer = announce(&app, head).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{backend:?}: {answer}");
        assert!(answer.contains("request_timeout"), "{answer}");
        assert_eq!(app.get("/health/live", None).await.status, 200);
    }
}
