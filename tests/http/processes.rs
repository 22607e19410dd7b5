//! The `motcua` binary as an operator runs it: restarts, several instances on one PostgreSQL,
//! graceful shutdown, the command line, backup and restore.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

struct Process {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn motcua(env: &HashMap<String, String>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_motcua"));
    command.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("RUST_LOG", "warn").envs(env);
    command
}

async fn start(env: &HashMap<String, String>) -> Process {
    let port = free_port();
    let mut env = env.clone();
    env.insert("BIND".into(), format!("127.0.0.1:{port}"));
    let child = motcua(&env, &["serve"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(resp) = client.get(format!("{base}/health/ready")).send().await
            && resp.status() == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Process { child, base }
}

/// Sends SIGTERM and returns whether the process exited successfully.
fn terminate(mut process: Process) -> bool {
    Command::new("kill").args(["-TERM", &process.child.id().to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = process.child.try_wait().unwrap() {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = process.child.kill();
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(base: &str, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
    let mut builder = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Some(t) = token {
        builder = builder.bearer_auth(t);
    }
    if let Some(b) = body {
        builder = builder.json(&b);
    }
    into_resp(builder.send().await.unwrap()).await
}

async fn login(base: &str, username: &str, password: &str) -> String {
    let resp =
        call(base, reqwest::Method::POST, "/api/v1/auth/login", None, Some(json!({"username": username, "password": password}))).await;
    assert_eq!(resp.status, 200, "login {username}: {}", resp.text);
    resp.body["access_token"].as_str().unwrap().to_owned()
}

backend_test! {
    async fn a_restart_on_the_same_database_keeps_everything_and_sigterm_is_graceful(backend: Backend) {
        let db = TestDb::new(backend);
        let mut env = test_env(&db);
        env.remove("JWT_SECRET");
        let first = start(&env).await;
        let admin = login(&first.base, "admin", ADMIN_PASSWORD).await;
        let agency = call(
            &first.base,
            reqwest::Method::POST,
            "/api/v1/agencies",
            Some(&admin),
            Some(json!({"code": "000.00.00.H14", "name": "UBND tỉnh Cao Bằng", "level": "province"})),
        )
        .await;
        assert_eq!(agency.status, 201, "{backend:?}: {}", agency.text);
        let user = json!({"username": "officer.x", "password": PASSWORD, "full_name": "Cán bộ X", "role": "officer", "agency_id": agency.body["id"], "capabilities": ["reception"]});
        assert_eq!(call(&first.base, reqwest::Method::POST, "/api/v1/users", Some(&admin), Some(user)).await.status, 201);
        assert!(terminate(first), "{backend:?}: exit 0 on SIGTERM");

        let second = start(&env).await;
        // The generated JWT key is kept in the data directory: old tokens still verify.
        assert_eq!(call(&second.base, reqwest::Method::GET, "/api/v1/me", Some(&admin), None).await.status, 200, "{backend:?}");
        let officer = login(&second.base, "officer.x", PASSWORD).await;
        let me = call(&second.base, reqwest::Method::GET, "/api/v1/me", Some(&officer), None).await;
        assert_eq!(me.body["agency"]["code"], "000.00.00.H14");
        let verify = call(&second.base, reqwest::Method::GET, "/api/v1/audit/verify", Some(&admin), None).await;
        assert_eq!(verify.body["ok"], true);
        assert!(terminate(second));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_create_users_concurrently() {
    if !backends().contains(&Backend::Postgres) {
        eprintln!("skipped: TEST_PG_URL is not set");
        return;
    }
    let db = TestDb::new(Backend::Postgres);
    let env = test_env(&db);
    let (a, b) = (start(&env).await, start(&env).await);
    let token = login(&a.base, "admin", ADMIN_PASSWORD).await;
    let agency = call(
        &a.base,
        reqwest::Method::POST,
        "/api/v1/agencies",
        Some(&token),
        Some(json!({"code": "000.00.00.H14", "name": "UBND", "level": "province"})),
    )
    .await;
    let agency_id = agency.body["id"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
        let token = token.clone();
        let agency_id = agency_id.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"username": format!("officer{i}"), "password": PASSWORD, "full_name": format!("Cán bộ {i}"), "role": "officer", "agency_id": agency_id, "capabilities": ["processing"]});
            call(&base, reqwest::Method::POST, "/api/v1/users", Some(&token), Some(body)).await.status.as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 201);
    }
    let listed = call(&b.base, reqwest::Method::GET, "/api/v1/users?role=officer&limit=100", Some(&token), None).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 40);
    let verify = call(&b.base, reqwest::Method::GET, "/api/v1/audit/verify", Some(&token), None).await;
    assert_eq!(verify.body["ok"], true, "one chain across instances: {}", verify.text);
    assert_eq!(verify.body["entries"], 42);
    // A token issued by one instance works on the other, and a logout on one is seen by both.
    assert_eq!(call(&b.base, reqwest::Method::POST, "/api/v1/auth/logout", Some(&token), None).await.status, 204);
    call(&a.base, reqwest::Method::GET, "/api/v1/me", Some(&token), None).await.assert_problem(401, "unauthorized");
}

backend_test! {
    async fn the_command_line_seeds_demo_data_and_creates_admins(backend: Backend) {
        let db = TestDb::new(backend);
        let env = test_env(&db);
        for _ in 0..2 {
            let out = motcua(&env, &["seed", "--demo"]).output().unwrap();
            assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        let mut env2 = env.clone();
        env2.insert("MOTCUA_ADMIN_PASSWORD".into(), "second-admin-2026".into());
        let out = motcua(&env2, &["create-admin", "admin2"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = motcua(&env, &["frobnicate"]).output().unwrap();
        assert!(!out.status.success());

        let server = start(&env).await;
        let officer = login(&server.base, "demo.officer", "motcua-demo-2026").await;
        let me = call(&server.base, reqwest::Method::GET, "/api/v1/me", Some(&officer), None).await;
        assert_eq!(me.body["capabilities"].as_array().unwrap().len(), 4, "{}", me.text);
        login(&server.base, "admin2", "second-admin-2026").await;
        for user in ["demo.agencyadmin", "demo.supervisor", "demo.citizen", "demo.provinceadmin"] {
            login(&server.base, user, "motcua-demo-2026").await;
        }
        let agencies = call(&server.base, reqwest::Method::GET, "/api/v1/agencies?limit=100", None, None).await;
        assert_eq!(agencies.body["items"].as_array().unwrap().len(), 11, "seeded once: {}", agencies.text);
        let catalogue = call(&server.base, reqwest::Method::GET, "/api/v1/procedures?limit=100", None, None).await;
        let items = catalogue.body["items"].as_array().unwrap();
        assert!(items.len() >= 30, "{backend:?}: {} demo procedures", items.len());
        assert!(items.iter().all(|p| p["source"]["system"] == "demo" && p["status"] == "published"));
        let search = call(&server.base, reqwest::Method::GET, "/api/v1/procedures?q=dang%20ky%20khai%20sinh", None, None).await;
        assert_eq!(search.body["items"][0]["form_schema"]["required"][0], "child_full_name");
        let workflow =
            call(&server.base, reqwest::Method::GET, "/api/v1/procedures/1.003554.000.00.00.H14/workflow", Some(&officer), None).await;
        assert_eq!(
            (workflow.body["origin"].as_str(), workflow.body["total_hours"].as_i64()),
            (Some("stored"), Some(160)),
            "{}",
            workflow.text
        );
    }
}

/// `motcua openapi` prints the committed contract.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_prints_the_committed_openapi_document() {
    let printed = Command::new(env!("CARGO_BIN_EXE_motcua")).arg("openapi").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&printed.stdout), api::openapi_yaml());
}

backend_test! {
    async fn the_command_line_bulk_loads_cases_that_serve_and_continue_their_sequences(backend: Backend) {
        let db = TestDb::new(backend);
        let env = test_env(&db);
        let out = motcua(&env, &["seed", "--cases", "3000", "--agencies", "4", "--years", "1"]).output().unwrap();
        assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));
        motcua(&env, &["seed", "--cases", "abc"]).output().map(|o| assert!(!o.status.success())).unwrap();
        let server = start(&env).await;
        let admin = login(&server.base, "demo.provinceadmin", "motcua-demo-2026").await;
        let all = call(&server.base, reqwest::Method::GET, "/api/v1/cases?limit=100", Some(&admin), None).await;
        assert_eq!(all.body["items"].as_array().unwrap().len(), 100, "{backend:?}: {}", all.text);
        let code = all.body["items"][0]["code"].as_str().unwrap().to_owned();
        assert!(code.starts_with("000.30.0"), "{code}");
        let lookup = call(&server.base, reqwest::Method::GET, &format!("/api/v1/lookup/cases/{code}"), None, None).await;
        assert_eq!(lookup.status, 200, "{}", lookup.text);
        let overdue = call(&server.base, reqwest::Method::GET, "/api/v1/cases?overdue=true&limit=5", Some(&admin), None).await;
        assert_eq!(overdue.status, 200);
        // Today's numbers of a loaded agency continue after the loaded ones.
        let mut conn = db.connect();
        let today = chrono::Utc::now().with_timezone(&domain::time::VN).date_naive();
        let agency: String = persistence::repo::agencies::find_by_code(&mut conn, "000.30.00.H14").unwrap().unwrap().id;
        let loaded = persistence::repo::case_sequences::next(&mut conn, &agency, today).unwrap();
        let prefix = format!("000.30.00.H14-{}-", today.format("%y%m%d"));
        let taken = all.body["items"].as_array().unwrap().len();
        assert!(loaded > 1 || taken > 0, "{backend:?}: the sequence continues ({loaded})");
        let existing = persistence::repo::cases::find_by_code(&mut conn, &format!("{prefix}{:04}", loaded)).unwrap();
        assert!(existing.is_none(), "{backend:?}: number {loaded} is free");
    }
}

backend_test! {
    async fn backup_while_running_and_restore(backend: Backend) {
        let db = TestDb::new(backend);
        let env = test_env(&db);
        let server = start(&env).await;
        let admin = login(&server.base, "admin", ADMIN_PASSWORD).await;
        let agency = |code: &str| json!({"code": code, "name": "UBND", "level": "province"});
        let province = call(&server.base, reqwest::Method::POST, "/api/v1/agencies", Some(&admin), Some(agency("000.00.00.H14"))).await;
        let province = province.expect::<crate::types::Created>(201).id;
        // A stored file: the form template of a procedure.
        let code = "1.001193.000.00.00.H14";
        let procedure = crate::procedures::procedure(code, "Đăng ký khai sinh", &province);
        assert_eq!(call(&server.base, reqwest::Method::POST, "/api/v1/procedures", Some(&admin), Some(procedure)).await.status, 201);
        const TEMPLATE: &[u8] = b"%PDF-1.7\n% mau to khai";
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(TEMPLATE).file_name("to-khai.pdf"));
        let uploaded = reqwest::Client::new()
            .post(format!("{}/api/v1/procedures/{code}/templates", server.base))
            .bearer_auth(&admin)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let uploaded = into_resp(uploaded).await;
        assert_eq!(uploaded.status, 201, "{}", uploaded.text);
        let template_url = uploaded.header("location").unwrap().to_owned();
        let file = db.dir.join("backup.bin");
        let out = motcua(&env, &["backup", file.to_str().unwrap()]).output().unwrap();
        assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));
        let again = motcua(&env, &["backup", file.to_str().unwrap()]).output().unwrap();
        assert!(!again.status.success(), "an existing file is not overwritten");
        assert_eq!(
            call(&server.base, reqwest::Method::POST, "/api/v1/agencies", Some(&admin), Some(agency("000.00.00.H15"))).await.status,
            201
        );
        assert!(terminate(server));

        // Restore into the same database (SQLite) or a fresh one (PostgreSQL), with an empty
        // file store: the files come from the archive.
        let target = TestDb::new(backend);
        let mut restored_env = env.clone();
        if backend == Backend::Postgres {
            restored_env.insert("DATABASE_URL".into(), target.url.clone());
        }
        restored_env.insert("MOTCUA_DATA_DIR".into(), target.dir.join("restored").to_string_lossy().into_owned());
        let out = motcua(&restored_env, &["restore", file.to_str().unwrap()]).output().unwrap();
        assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));
        let server = start(&restored_env).await;
        let list = call(&server.base, reqwest::Method::GET, "/api/v1/agencies", None, None).await;
        let codes: Vec<&str> = list.body["items"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
        assert_eq!(codes, vec!["000.00.00.H14"], "{backend:?}: the state at backup time");
        let verify = call(
            &server.base,
            reqwest::Method::GET,
            "/api/v1/audit/verify",
            Some(&login(&server.base, "admin", ADMIN_PASSWORD).await),
            None,
        )
        .await;
        assert_eq!(verify.body["ok"], true);
        let admin = login(&server.base, "admin", ADMIN_PASSWORD).await;
        let template = reqwest::Client::new().get(format!("{}{template_url}", server.base)).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(template.status(), 200, "{backend:?}: the restored instance serves the stored file");
        assert_eq!(&template.bytes().await.unwrap()[..], TEMPLATE);
        drop(target);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_issue_unique_consecutive_case_codes() {
    if !backends().contains(&Backend::Postgres) {
        eprintln!("skipped: TEST_PG_URL is not set");
        return;
    }
    let db = TestDb::new(Backend::Postgres);
    let env = test_env(&db);
    let (a, b) = (start(&env).await, start(&env).await);
    let (_, clerk, case) = counter_desk(&a.base, &b.base).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
        let (token, body) = (clerk.clone(), case.clone());
        tasks.push(tokio::spawn(async move { call(&base, reqwest::Method::POST, "/api/v1/cases", Some(&token), Some(body)).await }));
    }
    let mut sequences = Vec::new();
    for task in tasks {
        let resp = task.await.unwrap();
        assert_eq!(resp.status, 201, "{}", resp.text);
        sequences.push(resp.body["code"].as_str().unwrap().rsplit('-').next().unwrap().parse::<u32>().unwrap());
    }
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=40).collect::<Vec<u32>>(), "unique and consecutive across instances");
    let admin = login(&a.base, "admin", ADMIN_PASSWORD).await;
    let verify = call(&a.base, reqwest::Method::GET, "/api/v1/audit/verify", Some(&admin), None).await;
    assert_eq!(verify.body["ok"], true, "{}", verify.text);
}

/// A commune with a published procedure and a clerk with every capability, set up through
/// two instances (the same one twice is fine): the admin token, the clerk's token (from `b`)
/// and the body of a counter case.
async fn counter_desk(a: &str, b: &str) -> (String, String, Value) {
    let admin = login(a, "admin", ADMIN_PASSWORD).await;
    let post = |base: &str, token: &str, path: &str, body: Value| {
        let (base, token, path) = (base.to_owned(), token.to_owned(), path.to_owned());
        async move { call(&base, reqwest::Method::POST, &path, Some(&token), Some(body)).await }
    };
    let agency =
        post(a, &admin, "/api/v1/agencies", json!({"code": "000.20.01.H14", "name": "UBND phường Thục Phán", "level": "commune"})).await;
    let agency_id = agency.body["id"].as_str().unwrap().to_owned();
    for (username, role, caps) in [
        ("aadmin", "agency_admin", json!([])),
        ("sup", "supervisor", json!([])),
        ("clerk", "officer", json!(["reception", "processing", "approval", "result_return"])),
    ] {
        let body = json!({"username": username, "password": PASSWORD, "full_name": username, "role": role, "agency_id": agency_id, "capabilities": caps});
        assert_eq!(post(a, &admin, "/api/v1/users", body).await.status, 201);
    }
    let (aa, sup, clerk) = (login(a, "aadmin", PASSWORD).await, login(a, "sup", PASSWORD).await, login(b, "clerk", PASSWORD).await);
    let code = "1.001193.000.00.00.H14";
    assert_eq!(
        post(a, &admin, "/api/v1/procedures", crate::procedures::procedure(code, "Đăng ký khai sinh", &agency_id)).await.status,
        201
    );
    for (token, action, body) in [
        (&aa, "propose", json!({})),
        (&sup, "review", json!({})),
        (&admin, "verify", json!({})),
        (&admin, "publish", json!({"decision_ref": "1/QĐ"})),
    ] {
        assert_eq!(post(b, token, &format!("/api/v1/procedures/{code}/publication/{action}"), body).await.status, 200, "{action}");
    }
    let case = json!({
        "procedure_code": code, "channel": "counter", "summary": "Khai sinh",
        "applicant": {"kind": "citizen", "full_name": "Nông Văn Bình", "id_type": "cccd", "id_number": "004099012345"},
        "documents": [{"requirement_code": "TK01", "name": "Tờ khai", "originals": 1, "copies": 0}]
    });
    (admin, clerk, case)
}

/// The outbox messages of the database behind `base`, all of them.
async fn all_messages(base: &str, admin: &str) -> Vec<Value> {
    let page = call(base, reqwest::Method::GET, "/api/v1/integrations/outbox?limit=100", Some(admin), None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.body["next_cursor"].is_null(), "tests stay under 100 messages");
    page.body["items"].as_array().unwrap().clone()
}

async fn wait_all_sent(base: &str, admin: &str, expected: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let all = all_messages(base, admin).await;
        if all.len() == expected && all.iter().all(|m| m["status"] == "sent") {
            return all;
        }
        assert!(Instant::now() < deadline, "not all sent: {all:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

backend_test! {
    async fn messages_pending_at_a_kill_9_are_all_delivered_after_the_restart(backend: Backend) {
        use crate::fake_portal::{Behaviour, FakePortal};
        // Deliveries hang when the process dies: their leases must run out and be taken over.
        let portal = FakePortal::start(Behaviour::Slow).await;
        let db = TestDb::new(backend);
        let mut env = test_env(&db);
        env.extend(portal.env());
        env.insert("MOTCUA_OUTBOX_LEASE_SECONDS".into(), "2".into());
        let mut first = start(&env).await;
        let (admin, clerk, case) = counter_desk(&first.base, &first.base).await;
        let mut codes = Vec::new();
        for _ in 0..6 {
            let created = call(&first.base, reqwest::Method::POST, "/api/v1/cases", Some(&clerk), Some(case.clone())).await;
            assert_eq!(created.status, 201, "{}", created.text);
            codes.push(created.body["code"].as_str().unwrap().to_owned());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !all_messages(&first.base, &admin).await.iter().any(|m| m["attempts"].as_i64() >= Some(1)) {
            assert!(Instant::now() < deadline, "{backend:?}: nothing was tried");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        first.child.kill().unwrap(); // SIGKILL: no shutdown, leases left behind
        first.child.wait().unwrap();
        portal.set_mode(Behaviour::Up);

        let second = start(&env).await;
        let sent = wait_all_sent(&second.base, &admin, codes.len()).await;
        for code in &codes {
            // At least once: a request in flight at the kill may have reached the portal before
            // the retry (the dossier sync is an upsert, so a repeat changes nothing).
            let syncs = portal.dossier_syncs(code);
            assert!(!syncs.is_empty(), "{backend:?}: {code} lost");
            assert!(syncs.iter().all(|s| s == &("False".to_owned(), "2".to_owned())), "{backend:?}: {syncs:?}");
        }
        let mut abandoned = 0;
        for message in &sent {
            let id = message["id"].as_str().unwrap();
            let detail = call(&second.base, reqwest::Method::GET, &format!("/api/v1/integrations/outbox/{id}"), Some(&admin), None).await;
            let log = detail.body["attempt_log"].as_array().unwrap();
            abandoned += log.iter().filter(|a| a["outcome"] == "abandoned").count();
            assert_eq!(log.last().unwrap()["outcome"], "sent", "{}", detail.text);
        }
        assert!(abandoned >= 1, "{backend:?}: the killed attempt is logged as abandoned");
        assert!(terminate(second));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_share_the_outbox_without_double_delivery() {
    use crate::fake_portal::{Behaviour, FakePortal};
    if !backends().contains(&Backend::Postgres) {
        eprintln!("skipped: TEST_PG_URL is not set");
        return;
    }
    let portal = FakePortal::start(Behaviour::Up).await;
    let db = TestDb::new(Backend::Postgres);
    let mut env = test_env(&db);
    env.extend(portal.env());
    env.insert("MOTCUA_OUTBOX_BATCH".into(), "3".into());
    let (a, b) = (start(&env).await, start(&env).await);
    let (admin, clerk, case) = counter_desk(&a.base, &b.base).await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
        let (token, body) = (clerk.clone(), case.clone());
        tasks.push(tokio::spawn(async move {
            let created = call(&base, reqwest::Method::POST, "/api/v1/cases", Some(&token), Some(body)).await;
            let code = created.body["code"].as_str().unwrap().to_owned();
            let path = format!("/api/v1/cases/{code}/actions/forward");
            let forwarded = call(&base, reqwest::Method::POST, &path, Some(&token), Some(json!({"to_step": "xu_ly"}))).await;
            assert_eq!(forwarded.status, 200, "{}", forwarded.text);
            code
        }));
    }
    let mut codes = Vec::new();
    for task in tasks {
        codes.push(task.await.unwrap());
    }
    let sent = wait_all_sent(&a.base, &admin, 60).await;
    for code in &codes {
        let statuses: Vec<String> = portal.dossier_syncs(code).into_iter().map(|(_, s)| s).collect();
        assert_eq!(statuses, ["2", "4"], "{code}: each change once, in order");
    }
    assert!(sent.iter().all(|m| m["attempts"] == 1), "no message tried twice");
    let mut workers = std::collections::HashSet::new();
    for message in &sent {
        let id = message["id"].as_str().unwrap();
        let detail = call(&b.base, reqwest::Method::GET, &format!("/api/v1/integrations/outbox/{id}"), Some(&admin), None).await;
        workers.insert(detail.body["attempt_log"][0]["worker"].as_str().unwrap().to_owned());
    }
    eprintln!("dispatchers that delivered: {}", workers.len());
    assert!(!workers.is_empty() && workers.len() <= 2);
}

/// nginx from `deploy/nginx.conf`, with the upstream and listen ports of this test, in a prefix
/// directory of its own; stopped (`quit`) when dropped.
struct Proxy {
    base: String,
    dir: std::path::PathBuf,
    child: Child,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn proxy(upstreams: &[&str]) -> Proxy {
    let deployed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/nginx.conf")).unwrap();
    let port = free_port();
    let mut site = deployed.replace("listen 80;", &format!("listen 127.0.0.1:{port};"));
    for (i, upstream) in upstreams.iter().enumerate() {
        site = site.replace(&format!("127.0.0.1:{}", 8081 + i), upstream.trim_start_matches("http://"));
    }
    let dir = std::env::temp_dir().join(format!("motcua-nginx-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    std::fs::write(dir.join("site.conf"), site).unwrap();
    let main = format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log warn;\nevents {{ worker_connections 512; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
         uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  include {d}/site.conf;\n}}\n",
        d = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let nginx = if std::path::Path::new("/usr/sbin/nginx").exists() { "/usr/sbin/nginx".to_owned() } else { "nginx".to_owned() };
    let child = Command::new(nginx)
        .args(["-p", &dir.to_string_lossy(), "-c", &dir.join("nginx.conf").to_string_lossy()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx (make test installs it)");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("{base}/health/live")).await.map(|r| r.status().as_u16()).unwrap_or(0) != 200 {
        assert!(
            Instant::now() < deadline,
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("logs/error.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Proxy { base, dir, child }
}

/// Three instances with their own data directories on one PostgreSQL and one Garage bucket,
/// behind nginx configured by `deploy/nginx.conf`; a mixed load runs through the proxy while one
/// instance is killed with SIGKILL. No acknowledged write is lost, every stored document is
/// readable through every surviving instance, the login limit holds for the group, and no
/// answer is a server error except the proxy's 502 for requests on the killed instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_behind_a_proxy_survive_a_sigkill_without_losing_a_write() {
    let (true, Some(s3)) = (backends().contains(&Backend::Postgres), crate::objects::s3_env()) else {
        eprintln!("skipped: needs TEST_PG_URL and a Garage (make test provides both)");
        return;
    };
    let db = TestDb::new(Backend::Postgres);
    let mut env = test_env(&db);
    env.extend(s3);
    env.insert("MOTCUA_TRUST_PROXY".into(), "1".into());
    env.insert("MOTCUA_LOGIN_RATE_PER_MINUTE".into(), "1000".into());
    let mut instances = Vec::new();
    for i in 0..3 {
        let mut own = env.clone();
        own.insert("MOTCUA_DATA_DIR".into(), db.dir.join(format!("instance-{i}")).to_string_lossy().into_owned());
        instances.push(start(&own).await);
    }
    let bases: Vec<String> = instances.iter().map(|p| p.base.clone()).collect();
    let nginx = proxy(&bases.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let (_, clerk, case) = counter_desk(&nginx.base, &nginx.base).await;

    // Two seconds of load, then SIGKILL to instance 0, then two more seconds.
    let stop_at = Instant::now() + Duration::from_secs(4);
    let mut workers = Vec::new();
    for w in 0..6 {
        let (base, token, body) = (nginx.base.clone(), clerk.clone(), case.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let (mut created, mut documents, mut statuses) = (Vec::new(), Vec::new(), Vec::new());
            let mut n = 0;
            while Instant::now() < stop_at {
                n += 1;
                let key = format!("cluster-{w}-{n}");
                let resp = client
                    .post(format!("{base}/api/v1/cases"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", &key)
                    .json(&body)
                    .send()
                    .await;
                let Ok(resp) = resp else { continue };
                statuses.push(resp.status().as_u16());
                if resp.status() != 201 {
                    continue;
                }
                let code = resp.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned();
                let bytes = format!("%PDF-1.7 cluster {w} {n}").into_bytes();
                let form = reqwest::multipart::Form::new()
                    .part("file", reqwest::multipart::Part::bytes(bytes.clone()).file_name("to-khai.pdf"))
                    .text("kind", "application");
                if let Ok(up) =
                    client.post(format!("{base}/api/v1/cases/{code}/documents")).bearer_auth(&token).multipart(form).send().await
                {
                    statuses.push(up.status().as_u16());
                    if up.status() == 201
                        && let Some(location) = up.headers().get("location").and_then(|l| l.to_str().ok())
                    {
                        documents.push((location.to_owned(), bytes));
                    }
                }
                created.push(code);
            }
            (created, documents, statuses)
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut killed = instances.remove(0);
    killed.child.kill().unwrap();
    let _ = killed.child.wait();
    let (mut created, mut documents, mut statuses) = (Vec::new(), Vec::new(), Vec::new());
    for worker in workers {
        let (c, d, s) = worker.await.unwrap();
        created.extend(c);
        documents.extend(d);
        statuses.extend(s);
    }
    assert!(created.len() > 20 && documents.len() > 20, "load ran: {} cases, {} documents", created.len(), documents.len());
    let server_errors: Vec<u16> = statuses.iter().copied().filter(|s| *s >= 500 && *s != 502).collect();
    assert!(server_errors.is_empty(), "server errors besides the proxy's 502: {server_errors:?}");

    // Every acknowledged case and document, through every surviving instance.
    for base in [&instances[0].base, &instances[1].base] {
        let client = reqwest::Client::new();
        for code in &created {
            let found = client.get(format!("{base}/api/v1/cases/{code}")).bearer_auth(&clerk).send().await.unwrap();
            assert_eq!(found.status(), 200, "{code} through {base}");
        }
        for (location, bytes) in &documents {
            let file = client.get(format!("{base}{location}")).bearer_auth(&clerk).send().await.unwrap();
            assert_eq!(file.status(), 200, "{location} through {base}");
            assert_eq!(&file.bytes().await.unwrap()[..], &bytes[..]);
        }
    }

    // The login limit holds for the group behind the proxy: 5 a minute per client address.
    let mut limited_env = env.clone();
    limited_env.insert("MOTCUA_LOGIN_RATE_PER_MINUTE".into(), "5".into());
    for p in instances.drain(..) {
        assert!(terminate(p));
    }
    let mut limited = Vec::new();
    for i in 0..3 {
        let mut own = limited_env.clone();
        own.insert("MOTCUA_DATA_DIR".into(), db.dir.join(format!("limited-{i}")).to_string_lossy().into_owned());
        limited.push(start(&own).await);
    }
    let nginx = proxy(&limited.iter().map(|p| p.base.as_str()).collect::<Vec<_>>()).await;
    // The counters are shared and outlive the instances: start the minute afresh.
    persistence::db::execute_raw(&mut db.connect(), "DELETE FROM rate_limits").unwrap();
    let mut answers = Vec::new();
    for _ in 0..12 {
        let body = json!({"username": "nobody", "password": "whatever-pass-1"});
        answers.push(call(&nginx.base, reqwest::Method::POST, "/api/v1/auth/login", None, Some(body)).await.status.as_u16());
    }
    assert_eq!(answers.iter().filter(|s| **s != 429).count(), 5, "five logins a minute for the group: {answers:?}");
    for p in limited {
        assert!(terminate(p));
    }
}

/// Requests the HTTP server cannot parse are the client's fault: the server answers 400 and
/// logs a warning naming the kind of fault, not an error, and not the offending bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparseable_requests_are_logged_as_warnings_without_their_bytes() {
    use std::io::{Read, Write};
    let db = TestDb::new(Backend::Sqlite);
    let mut env = test_env(&db);
    let port = free_port();
    env.insert("BIND".into(), format!("127.0.0.1:{port}"));
    let log_path = db.dir.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = motcua(&env, &["serve"]).stdout(Stdio::null()).stderr(log).spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{base}/health/live")).await.map(|r| r.status().as_u16()).unwrap_or(0) != 200 {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let secret = "SECRET-GARBAGE-7f3a";
    let long = format!("GET /{}{} HTTP/1.1\r\nHost: x\r\n\r\n", secret, "a".repeat(70_000));
    for raw in [format!("{secret}\r\n\r\n").into_bytes(), long.into_bytes(), b"GET /\xff HTTP/1.1\r\nHost: \x01\r\n\r\n".to_vec()] {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = stream.write_all(&raw);
        let mut answer = [0_u8; 64];
        let n = stream.read(&mut answer).unwrap_or(0);
        assert!(answer[..n].starts_with(b"HTTP/1.1 400"), "{}", String::from_utf8_lossy(&answer[..n]));
    }
    assert_eq!(reqwest::get(format!("{base}/health/live")).await.unwrap().status(), 200, "the server carries on");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(text.contains("WARN") && text.contains("parse error"), "{text}");
    assert!(!text.contains("ERROR"), "{text}");
    assert!(!text.contains(secret), "the offending bytes are not logged: {text}");
}
