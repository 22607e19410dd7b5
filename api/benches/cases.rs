//! Case intake and lookup throughput (`make bench`): real HTTP on 127.0.0.1, concurrent
//! clients, SQLite and (with `TEST_PG_URL`) PostgreSQL. Issue 4 targets: intake ≥ 1,000/s on
//! PostgreSQL and ≥ 500/s on SQLite at 32 connections with no errors and no duplicate codes;
//! lookup throughput ≥ 50% of `/health/live` at 64 connections, p99 ≤ 10 ms. The database here
//! is small (the 1,000,000-case seed of the issue is not built yet).

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use domain::Role;
use serde_json::json;

const INTAKE_CONNECTIONS: usize = 32;
const READ_CONNECTIONS: usize = 64;
const SECONDS: u64 = 5;

struct Run {
    ok: usize,
    errors: usize,
    latencies: Vec<Duration>,
    codes: Vec<String>,
}

async fn hammer(
    base: String,
    token: Option<String>,
    connections: usize,
    make: Arc<dyn Fn(usize) -> (reqwest::Method, String, Option<serde_json::Value>) + Send + Sync>,
) -> Run {
    let counter = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (base, token, make, counter) = (base.clone(), token.clone(), make.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap_or_default();
            let mut run = Run { ok: 0, errors: 0, latencies: Vec::new(), codes: Vec::new() };
            while Instant::now() < deadline {
                let (method, path, body) = make(counter.fetch_add(1, Ordering::Relaxed));
                let mut request = client.request(method, format!("{base}{path}"));
                if let Some(token) = &token {
                    request = request.bearer_auth(token);
                }
                if let Some(body) = body {
                    request = request.json(&body);
                }
                let started = Instant::now();
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        let text = response.text().await.unwrap_or_default();
                        run.latencies.push(started.elapsed());
                        run.ok += 1;
                        if let Some(code) =
                            serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v["code"].as_str().map(str::to_owned))
                        {
                            run.codes.push(code);
                        }
                    }
                    _ => run.errors += 1,
                }
            }
            run
        }));
    }
    let mut total = Run { ok: 0, errors: 0, latencies: Vec::new(), codes: Vec::new() };
    for task in tasks {
        if let Ok(run) = task.await {
            total.ok += run.ok;
            total.errors += run.errors;
            total.latencies.extend(run.latencies);
            total.codes.extend(run.codes);
        }
    }
    total.latencies.sort();
    total
}

#[expect(clippy::cast_precision_loss, reason = "rates for display")]
fn rate(n: usize) -> f64 {
    n as f64 / SECONDS as f64
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn setup(url: &str) -> String {
    let pool = persistence::build_pool(url, 1, false).expect("pool");
    let mut conn = pool.get().expect("connection");
    let agency = persistence::repo::agencies::insert(
        &mut conn,
        persistence::repo::agencies::NewAgency {
            code: "000.20.01.H14".into(),
            name: "UBND phường Thục Phán".into(),
            level: "commune".into(),
            parent_id: None,
        },
    )
    .expect("agency");
    api::bootstrap::create_user(&mut conn, "bench.clerk", "bench-pass-2026", "Cán bộ", Role::Officer, Some(&agency.id), &["reception"])
        .expect("clerk");
    let demo = &api::demo_procedures::DEMO_PROCEDURES[0];
    let mut content: api::routes::procedures::ProcedureContent = serde_json::from_value(json!({
        "name": demo.name, "sector": demo.sector, "field": {"code": demo.field.0, "name": demo.field.1}, "levels": ["commune"],
        "agency_ids": [agency.id], "online_level": "full", "processing_time": {"value": 5, "unit": "working_day"},
        "required_documents": [{"code": "TK01", "name": "Tờ khai", "originals": 1, "copies": 0, "mandatory": true}],
        "result": {"has_result": true}
    }))
    .expect("content");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default();
    api::routes::procedures::normalise(&mut content, today).expect("normalise");
    let new = api::routes::procedures::new_version(demo.code, &content, None, ("bench", None, None)).expect("version");
    persistence::repo::procedures::create(&mut conn, demo.code, None, new).expect("create");
    persistence::repo::procedures::set_status(&mut conn, demo.code, 1, "published", Some("BENCH"), Some(true)).expect("publish");
    demo.code.to_owned()
}

async fn run(label: &str, database_url: String, dir: std::path::PathBuf) {
    println!("cases on {label}");
    let env: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", database_url.clone()),
        ("MOTCUA_DATA_DIR", dir.to_string_lossy().into_owned()),
        ("MOTCUA_ADMIN_PASSWORD", "bench-admin-2026".to_owned()),
        ("JWT_SECRET", "bench-secret-bench-secret-bench-secret-0".to_owned()),
        ("MOTCUA_WORKERS", "2".to_owned()),
        ("MOTCUA_DB_POOL_SIZE", "16".to_owned()),
        ("MOTCUA_LOGIN_RATE_PER_MINUTE", "100000".to_owned()),
        ("MOTCUA_LOOKUP_RATE_PER_MINUTE", "100000000".to_owned()),
    ]);
    let config = api::config::Config::from_lookup(|k| env.get(k).cloned()).expect("config");
    let state = tokio::task::spawn_blocking(move || api::server::prepare(config)).await.expect("join").expect("prepare");
    let url = database_url.clone();
    let procedure = tokio::task::spawn_blocking(move || setup(&url)).await.expect("join");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let server = api::server::start(state, listener).expect("start");
    let handle = server.handle();
    tokio::spawn(server);
    let login = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "bench.clerk", "password": "bench-pass-2026"}))
        .send()
        .await
        .expect("login");
    let token = login.json::<serde_json::Value>().await.ok().and_then(|v| v["access_token"].as_str().map(str::to_owned)).expect("token");

    let body = json!({
        "procedure_code": procedure, "channel": "counter", "summary": "Đăng ký khai sinh",
        "applicant": {"kind": "citizen", "full_name": "Nông Văn Bình", "id_type": "cccd", "id_number": "004099012345"},
        "documents": [{"requirement_code": "TK01", "name": "Tờ khai", "originals": 1, "copies": 0}]
    });
    let intake = hammer(
        base.clone(),
        Some(token.clone()),
        INTAKE_CONNECTIONS,
        Arc::new(move |_| (reqwest::Method::POST, "/api/v1/cases".to_owned(), Some(body.clone()))),
    )
    .await;
    let unique: HashSet<&String> = intake.codes.iter().collect();
    println!(
        "  intake  {:7.0} cases/s  p50 {:6.2} ms  p99 {:6.2} ms  errors {}  duplicate codes {}  (target >= {}/s)",
        rate(intake.ok),
        common::percentile_ms(&intake.latencies, 0.5),
        common::percentile_ms(&intake.latencies, 0.99),
        intake.errors,
        intake.codes.len() - unique.len(),
        if label == "PostgreSQL" { 1000 } else { 500 }
    );
    let codes: Arc<Vec<String>> = Arc::new(intake.codes.clone());
    let health = hammer(base.clone(), None, READ_CONNECTIONS, Arc::new(|_| (reqwest::Method::GET, "/health/live".to_owned(), None))).await;
    let lookup_codes = codes.clone();
    let lookup = hammer(
        base.clone(),
        None,
        READ_CONNECTIONS,
        Arc::new(move |i| (reqwest::Method::GET, format!("/api/v1/lookup/cases/{}", lookup_codes[i % lookup_codes.len().max(1)]), None)),
    )
    .await;
    println!("  health  {:7.0} req/s    p99 {:6.2} ms", rate(health.ok), common::percentile_ms(&health.latencies, 0.99));
    #[expect(clippy::cast_precision_loss, reason = "a ratio for display")]
    let share = if health.ok == 0 { 0.0 } else { lookup.ok as f64 / health.ok as f64 * 100.0 };
    println!(
        "  lookup  {:7.0} req/s    p99 {:6.2} ms  = {share:.0}% of health (target >= 50%, p99 <= 10 ms), errors {}",
        rate(lookup.ok),
        common::percentile_ms(&lookup.latencies, 0.99),
        lookup.errors
    );
    println!("  process RSS after load: {:.0} MB (server and load generator together)", rss_mb());
    handle.stop(true).await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    common::each_backend("benchc", run).await;
}
