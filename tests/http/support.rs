//! Test harness: a real `motcua` server on 127.0.0.1:0 over a fresh database per test, on
//! SQLite always and on PostgreSQL when `TEST_PG_URL` names an admin connection (the Makefile
//! sets it). PostgreSQL databases are copied from a migrated template, then dropped.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::OnceLock;

use diesel::prelude::*;
use diesel::{Connection, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_PASSWORD: &str = "admin-pass-2026";
pub const PASSWORD: &str = "officer-pass-2026";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether `TEST_PG_URL` names a PostgreSQL server to test on.
pub fn postgres_configured() -> bool {
    std::env::var("TEST_PG_URL").is_ok_and(|v| !v.is_empty())
}

/// The backends to run on: SQLite, and PostgreSQL when `TEST_PG_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut list = vec![Backend::Sqlite];
    if postgres_configured() {
        list.push(Backend::Postgres);
    }
    list
}

fn pg_admin_url() -> String {
    std::env::var("TEST_PG_URL").expect("TEST_PG_URL")
}

/// `TEST_PG_URL` with database `db`, its connection parameters (`?sslmode=disable`, …) kept.
fn pg_url_for(db: &str) -> String {
    let admin = pg_admin_url();
    let (address, query) = admin.split_once('?').map_or((admin.as_str(), None), |(a, q)| (a, Some(q)));
    let (base, _) = address.rsplit_once('/').expect("TEST_PG_URL ends with /database");
    query.map_or_else(|| format!("{base}/{db}"), |q| format!("{base}/{db}?{q}"))
}

fn migrations_fingerprint() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations/postgres");
    let mut dirs: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    let mut text = String::new();
    for dir in dirs {
        text.push_str(&std::fs::read_to_string(dir.join("up.sql")).unwrap_or_default());
    }
    domain::audit::digest(text.as_bytes())[..12].to_owned()
}

/// The migrated template database, created once per fingerprint of the migrations.
fn pg_template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("motcua_tpl_{}", migrations_fingerprint());
        let mut admin = PgConnection::establish(&pg_admin_url()).expect("connect to TEST_PG_URL");
        #[derive(QueryableByName)]
        struct Exists {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let exists: Exists =
            diesel::sql_query(format!("SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'")).get_result(&mut admin).unwrap();
        if exists.n == 0 {
            let building = format!("{name}_build_{}", std::process::id());
            diesel::sql_query(format!("CREATE DATABASE {building}")).execute(&mut admin).unwrap();
            drop(persistence::build_pool(&pg_url_for(&building), 1, true).expect("migrate template"));
            // Rename is atomic: another test process never sees a half-migrated template.
            if diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}")).execute(&mut admin).is_err() {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).execute(&mut admin);
            }
        }
        name
    })
}

/// A database for one test, removed when dropped.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub dir: PathBuf,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("motcua-test-{id}"));
        std::fs::create_dir_all(&dir).unwrap();
        match backend {
            Backend::Sqlite => TestDb { backend, url: dir.join("motcua.db").to_string_lossy().into_owned(), dir, pg_name: None },
            Backend::Postgres => {
                let template = pg_template();
                let name = format!("t_{}", &id[..16]);
                let mut admin = PgConnection::establish(&pg_admin_url()).unwrap();
                let mut attempt = 0;
                loop {
                    match diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}")).execute(&mut admin) {
                        Ok(_) => break,
                        Err(e) if attempt < 20 => {
                            attempt += 1;
                            eprintln!("retrying CREATE DATABASE: {e}");
                            std::thread::sleep(std::time::Duration::from_millis(100));
                        }
                        Err(e) => panic!("CREATE DATABASE {name}: {e}"),
                    }
                }
                TestDb { backend, url: pg_url_for(&name), dir, pg_name: Some(name) }
            }
        }
    }

    /// A direct connection, for inspecting or tampering with rows.
    pub fn connect(&self) -> persistence::PooledConn {
        persistence::build_pool(&self.url, 1, false).unwrap().get().unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut admin) = PgConnection::establish(&pg_admin_url())
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The environment of a test server.
pub fn test_env(db: &TestDb) -> HashMap<String, String> {
    HashMap::from([
        ("DATABASE_URL".to_owned(), db.url.clone()),
        ("MOTCUA_DATA_DIR".to_owned(), db.dir.to_string_lossy().into_owned()),
        ("MOTCUA_ADMIN_PASSWORD".to_owned(), ADMIN_PASSWORD.to_owned()),
        ("JWT_SECRET".to_owned(), "test-secret-test-secret-test-secret-0123".to_owned()),
        ("MOTCUA_WORKERS".to_owned(), "2".to_owned()),
        ("MOTCUA_DB_POOL_SIZE".to_owned(), "4".to_owned()),
        ("MOTCUA_LOGIN_RATE_PER_MINUTE".to_owned(), "1000".to_owned()),
        ("MOTCUA_REGISTER_RATE_PER_HOUR".to_owned(), "1000".to_owned()),
    ])
}

/// A response, with the body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    /// The body as `T`; fails the test, showing the body, when it does not parse.
    #[track_caller]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        match serde_json::from_str(&self.text) {
            Ok(value) => value,
            Err(e) => panic!("{} {}: not a {}: {e}", self.status, self.text, std::any::type_name::<T>()),
        }
    }

    /// The body as `T`, after checking the status is `status`.
    #[track_caller]
    pub fn expect<T: serde::de::DeserializeOwned>(&self, status: u16) -> T {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text);
        self.json()
    }

    /// The body as a case, after checking the status is `status`.
    #[track_caller]
    pub fn case(&self, status: u16) -> crate::types::Case {
        self.expect(status)
    }

    /// The body as a feedback item, after checking the status is `status`.
    #[track_caller]
    pub fn feedback(&self, status: u16) -> crate::types::Feedback {
        self.expect(status)
    }

    /// Asserts a problem document with `status` and `code`, and returns it.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> crate::types::Problem {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text);
        assert!(self.content_type().starts_with("application/problem+json"), "content type {}", self.content_type());
        let problem: crate::types::Problem = self.json();
        assert_eq!(problem.code, code, "code; body: {}", self.text);
        assert_eq!(problem.status, status);
        assert!(!problem.title.is_empty());
        assert!(problem.instance.starts_with("urn:motcua:request:"));
        problem
    }
}

/// A running server over its own database.
pub struct TestApp {
    pub backend: Backend,
    pub base: String,
    pub client: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
    /// Declared before `db`: the background threads stop before the database is dropped.
    workers: api::background::Workers,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
        let db = tokio::task::spawn_blocking(move || TestDb::new(backend)).await.unwrap();
        let mut env = test_env(&db);
        adjust(&mut env);
        Self::spawn_on(db, env).await
    }

    pub async fn spawn_on(db: TestDb, env: HashMap<String, String>) -> TestApp {
        Self::spawn_on_clock(db, env, None).await
    }

    /// A server whose clock stands at `at` (it moves only when the test sets it).
    pub async fn spawn_at(backend: Backend, at: chrono::DateTime<chrono::Utc>) -> TestApp {
        let db = tokio::task::spawn_blocking(move || TestDb::new(backend)).await.unwrap();
        let env = test_env(&db);
        let clock = std::sync::Arc::new(api::app::clock::FixedClock::new(at));
        Self::spawn_on_clock(db, env, Some(clock)).await
    }

    pub async fn spawn_on_clock(
        db: TestDb,
        env: HashMap<String, String>,
        clock: Option<std::sync::Arc<dyn api::app::clock::Clock>>,
    ) -> TestApp {
        let backend = db.backend;
        let config = api::config::Config::from_lookup(|k| env.get(k).cloned()).unwrap();
        let mut state = tokio::task::spawn_blocking(move || api::server::prepare(config)).await.unwrap().expect("prepare");
        if let Some(clock) = clock {
            state.clock = clock;
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let started = api::server::start(state, listener).unwrap();
        let handle = started.server.handle();
        tokio::spawn(started.server);
        TestApp { backend, base: format!("http://127.0.0.1:{port}"), client: reqwest::Client::new(), handle, workers: started.workers, db }
    }

    /// Stops the server and returns its database (for a restart on the same data).
    pub async fn stop(mut self) -> TestDb {
        self.handle.stop(true).await;
        self.workers.stop();
        self.db
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        self.send(method, path, token, body, &[]).await
    }

    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>, headers: &[(&str, &str)]) -> Resp {
        let mut builder = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            builder = builder.bearer_auth(token);
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        into_resp(builder.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    /// Logs in and returns the full token response.
    pub async fn login_pair(&self, username: &str, password: &str) -> Resp {
        self.post("/api/v1/auth/login", None, json!({"username": username, "password": password})).await
    }

    /// Logs in and returns the access token.
    pub async fn token(&self, username: &str, password: &str) -> String {
        self.login_pair(username, password).await.expect::<crate::types::Tokens>(200).access_token
    }

    pub async fn admin(&self) -> String {
        self.token("admin", ADMIN_PASSWORD).await
    }

    /// Creates an agency and returns its id.
    pub async fn agency(&self, admin: &str, code: &str, name: &str, level: &str, parent: Option<&str>) -> String {
        let resp =
            self.post("/api/v1/agencies", Some(admin), json!({"code": code, "name": name, "level": level, "parent_id": parent})).await;
        resp.expect::<crate::types::Created>(201).id
    }

    /// Creates an account and returns its id.
    pub async fn user(&self, token: &str, username: &str, role: &str, agency: Option<&str>, capabilities: &[&str]) -> String {
        let resp = self
            .post(
                "/api/v1/users",
                Some(token),
                json!({"username": username, "password": PASSWORD, "full_name": format!("Người dùng {username}"), "role": role, "agency_id": agency, "capabilities": capabilities}),
            )
            .await;
        resp.expect::<crate::types::Created>(201).id
    }

    /// A small tree: province → (department, commune A, commune B), with an admin and an officer in commune A.
    pub async fn fixture(&self) -> Fixture {
        let admin = self.admin().await;
        let province = self.agency(&admin, "000.00.00.H14", "UBND tỉnh Cao Bằng", "province", None).await;
        let department = self.agency(&admin, "000.00.10.H14", "Sở Tư pháp", "department", Some(&province)).await;
        let commune_a = self.agency(&admin, "000.20.01.H14", "UBND phường Thục Phán", "commune", Some(&province)).await;
        let commune_b = self.agency(&admin, "000.20.02.H14", "UBND xã Hòa An", "commune", Some(&province)).await;
        let agency_admin_id = self.user(&admin, "admin.a", "agency_admin", Some(&commune_a), &[]).await;
        let officer_id = self.user(&admin, "officer.a", "officer", Some(&commune_a), &["reception"]).await;
        self.user(&admin, "supervisor", "supervisor", None, &[]).await;
        let agency_admin = self.token("admin.a", PASSWORD).await;
        let officer = self.token("officer.a", PASSWORD).await;
        let supervisor = self.token("supervisor", PASSWORD).await;
        Fixture { admin, province, department, commune_a, commune_b, agency_admin, agency_admin_id, officer, officer_id, supervisor }
    }
}

pub struct Fixture {
    pub admin: String,
    pub province: String,
    pub department: String,
    pub commune_a: String,
    pub commune_b: String,
    pub agency_admin: String,
    pub agency_admin_id: String,
    pub officer: String,
    pub officer_id: String,
    pub supervisor: String,
}

pub async fn into_resp(resp: reqwest::Response) -> Resp {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, headers, body, text }
}

/// A citizen registration body with a distinct id number per `n`.
pub fn citizen(username: &str, n: u32) -> Value {
    json!({"username": username, "password": "citizen-pass-2026", "full_name": "Nguyễn Văn A", "id_number": format!("0040990{n:05}"), "phone": "0912345678", "email": "a@example.vn"})
}

/// Another server on an existing database (a second instance behind the same load balancer).
pub async fn spawn_extra(env: HashMap<String, String>) -> ExtraServer {
    let config = api::config::Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    let state = tokio::task::spawn_blocking(move || api::server::prepare(config)).await.unwrap().expect("prepare");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let started = api::server::start(state, listener).unwrap();
    let handle = started.server.handle();
    tokio::spawn(started.server);
    ExtraServer { base, handle, workers: started.workers }
}

/// A second server on a test's database; its background threads stop when it is dropped.
pub struct ExtraServer {
    /// `http://127.0.0.1:port`.
    pub base: String,
    pub handle: actix_web::dev::ServerHandle,
    pub workers: api::background::Workers,
}

/// An instant in UTC, to the minute.
pub fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, year, month, day, hour, minute, 0).unwrap()
}
