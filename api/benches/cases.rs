//! Cases at scale (`make bench`; issue 4). On SQLite and, with `TEST_PG_URL`, PostgreSQL:
//! `motcua seed --cases N` (default 1,000,000 over 200 agencies and 3 years;
//! `MOTCUA_BENCH_CASES` changes N), then the real `motcua serve` in its own process, driven over
//! HTTP by this process. Targets: public lookup ≥ 50% of `/health/live` throughput at 64
//! connections with p99 ≤ 10 ms (and the same time for unknown codes); counter intake ≥ 1,000/s
//! on PostgreSQL and ≥ 500/s on SQLite at 32 connections with no errors or duplicate codes;
//! officer inbox (agency subtree, status filter, page of 50) p95 ≤ 20 ms; server RSS ≤ 150 MB.

mod common;

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use domain::Role;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_motcua");
const INTAKE_CONNECTIONS: usize = 32;
const READ_CONNECTIONS: usize = 64;
const INBOX_CONNECTIONS: usize = 8;
/// Seconds of each load run (`MOTCUA_BENCH_SECONDS`, default 8).
fn seconds() -> u64 {
    std::env::var("MOTCUA_BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).filter(|s| *s > 0).unwrap_or(8)
}
/// Load-test communes whose officers take cases at the counter during the intake run.
const INTAKE_AGENCIES: usize = 8;

struct Run {
    ok: usize,
    errors: usize,
    /// Status and start of the body of the first failure.
    first_error: Option<String>,
    latencies: Vec<Duration>,
    codes: Vec<String>,
}

struct Call {
    method: reqwest::Method,
    path: String,
    body: Option<serde_json::Value>,
    token: Option<usize>,
}

type MakeCall = Arc<dyn Fn(usize, usize) -> Call + Send + Sync>;

/// `connections` clients, each with its own keep-alive connection, for [`seconds`].
async fn hammer(base: &str, tokens: Arc<Vec<String>>, connections: usize, make: MakeCall) -> Run {
    let counter = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds());
    let mut tasks = Vec::new();
    for connection in 0..connections {
        let (base, tokens, make, counter) = (base.to_owned(), tokens.clone(), make.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap_or_default();
            let mut run = Run { ok: 0, errors: 0, first_error: None, latencies: Vec::new(), codes: Vec::new() };
            while Instant::now() < deadline {
                let call = make(connection, counter.fetch_add(1, Ordering::Relaxed));
                let mut request = client.request(call.method, format!("{base}{}", call.path));
                if let Some(token) = call.token.and_then(|t| tokens.get(t)) {
                    request = request.bearer_auth(token);
                }
                if let Some(body) = call.body {
                    request = request.json(&body);
                }
                let started = Instant::now();
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        let text = response.text().await.unwrap_or_default();
                        run.latencies.push(started.elapsed());
                        run.ok += 1;
                        if let Some(code) = text.split("\"code\":\"").nth(1).and_then(|rest| rest.split('"').next()) {
                            run.codes.push(code.to_owned());
                        }
                    }
                    Ok(response) => {
                        run.errors += 1;
                        if run.first_error.is_none() {
                            let status = response.status();
                            let text = response.text().await.unwrap_or_default();
                            run.first_error = Some(format!("{status}: {}", text.chars().take(300).collect::<String>()));
                        }
                    }
                    Err(e) => {
                        run.errors += 1;
                        run.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            run
        }));
    }
    let mut total = Run { ok: 0, errors: 0, first_error: None, latencies: Vec::new(), codes: Vec::new() };
    for task in tasks {
        if let Ok(run) = task.await {
            total.ok += run.ok;
            total.errors += run.errors;
            if total.first_error.is_none() {
                total.first_error = run.first_error;
            }
            total.latencies.extend(run.latencies);
            total.codes.extend(run.codes);
        }
    }
    total.latencies.sort();
    total
}

#[expect(clippy::cast_precision_loss, reason = "rates for display")]
fn rate(n: usize) -> f64 {
    n as f64 / seconds() as f64
}

/// Resident and peak memory of a process, in MB.
fn memory_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let read = |key: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (read("VmRSS:"), read("VmHWM:"))
}

/// Prints the server's resident and peak memory at a phase of the benchmark.
fn print_memory(server: &Server, phase: &str) {
    let (rss, peak) = memory_mb(server.child.id());
    println!("  server memory {phase}: {rss:.0} MB resident, {peak:.0} MB peak");
}

/// What wrk measured.
struct WrkRun {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
}

fn wrk_millis(text: &str) -> f64 {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len()));
    let value: f64 = number.parse().unwrap_or(0.0);
    match unit {
        "us" => value / 1000.0,
        "s" => value * 1000.0,
        _ => value,
    }
}

/// Runs wrk (a C load generator in its own process: far lighter than this client) with
/// `connections` connections for [`seconds`]; `paths` are requested in turn.
fn wrk(base: &str, paths: &[String], connections: usize, dir: &std::path::Path) -> WrkRun {
    let list = dir.join("wrk-paths.txt");
    std::fs::write(&list, paths.join("\n")).expect("paths");
    let script = dir.join("wrk.lua");
    std::fs::write(
        &script,
        format!(
            "paths = {{}}\nfor line in io.lines(\"{}\") do paths[#paths + 1] = line end\ni = 0\n\
             request = function()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i * 7919) % #paths + 1])\nend\n",
            list.display()
        ),
    )
    .expect("script");
    let out = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{}s", seconds()), "--latency", "-s"])
        .arg(&script)
        .arg(base)
        .output()
        .expect("wrk (make bench installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field =
        |prefix: &str| text.lines().map(str::trim_start).find(|l| l.starts_with(prefix)).map(|l| l[prefix.len()..].trim().to_owned());
    WrkRun {
        requests_per_second: field("Requests/sec:").and_then(|v| v.parse().ok()).unwrap_or(0.0),
        p50_ms: field("50%").map(|v| wrk_millis(&v)).unwrap_or(0.0),
        p99_ms: field("99%").map(|v| wrk_millis(&v)).unwrap_or(0.0),
        non_2xx: field("Non-2xx or 3xx responses:").and_then(|v| v.parse().ok()).unwrap_or(0),
    }
}

fn report_wrk(label: &str, run: &WrkRun) {
    println!(
        "  {label:<28} {:8.0} req/s    p50 {:6.2} ms  p99 {:6.2} ms  non-2xx {} (wrk)",
        run.requests_per_second, run.p50_ms, run.p99_ms, run.non_2xx
    );
}

struct Setup {
    procedure: String,
    officers: Vec<String>,
    /// The agency of each officer.
    agencies: Vec<String>,
    known: Vec<String>,
}

/// A procedure every load-test commune may take at the counter, an officer in each of the
/// first communes, and a random sample of loaded case codes.
fn setup(url: &str) -> Setup {
    use persistence::schema::{agencies, cases};
    let pool = persistence::build_pool(url, 1, false).expect("pool");
    let mut conn = pool.get().expect("connection");
    let load: Vec<(String, String)> = agencies::table
        .filter(agencies::code.like("000.3%"))
        .order(agencies::code.asc())
        .limit(i64::try_from(INTAKE_AGENCIES).unwrap_or(8))
        .select((agencies::id, agencies::code))
        .load(&mut conn)
        .expect("load agencies");
    let mut officers = Vec::new();
    for (index, (id, _)) in load.iter().enumerate() {
        let name = format!("bench.clerk{index}");
        if persistence::repo::users::find_by_username(&mut conn, &name).expect("user").is_none() {
            api::bootstrap::create_user(
                &mut conn,
                &name,
                "bench-pass-2026",
                "Cán bộ thử tải",
                Role::Officer,
                Some(id),
                &["reception", "processing"],
            )
            .expect("clerk");
        }
        officers.push(name);
    }
    let code = "2.999999.000.00.00.H14";
    if persistence::repo::procedures::find(&mut conn, code).expect("find").is_none() {
        let mut content: persistence::stored::procedure::ProcedureContent = serde_json::from_value(json!({
            "name": "Chứng thực bản sao từ bản chính (thử tải)", "sector": "Tư pháp", "field": {"code": "G09-CT", "name": "Chứng thực"},
            "levels": ["commune"], "agency_ids": load.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), "online_level": "full",
            "processing_time": {"value": 5, "unit": "working_day"},
            "required_documents": [{"code": "TK01", "name": "Tờ khai", "originals": 1, "copies": 0, "mandatory": true}],
            "result": {"has_result": true}
        }))
        .expect("content");
        let today = chrono::Utc::now().date_naive();
        api::app::procedures::normalise(&mut content, today).expect("normalise");
        let new = api::app::procedures::new_version(code, &content, None, ("bench", None, None)).expect("version");
        persistence::repo::procedures::create(&mut conn, code, None, new).expect("create");
        persistence::repo::procedures::set_status(&mut conn, code, 1, "published", Some("BENCH"), Some(true)).expect("publish");
    }
    let known: Vec<String> = cases::table
        .select(cases::code)
        .order(diesel::dsl::sql::<diesel::sql_types::Integer>("random()"))
        .limit(20_000)
        .load(&mut conn)
        .expect("sample codes");
    Setup { procedure: code.to_owned(), officers, agencies: load.into_iter().map(|(id, _)| id).collect(), known }
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// SIGTERM, and waits for the process to end (the outbox gives its leases back).
    fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the servers' warnings go: appended to the file `MOTCUA_BENCH_SERVER_LOG` names, or
/// nowhere.
fn server_log() -> Stdio {
    std::env::var_os("MOTCUA_BENCH_SERVER_LOG")
        .and_then(|path| std::fs::OpenOptions::new().create(true).append(true).open(path).ok())
        .map_or_else(Stdio::null, Stdio::from)
}

async fn serve(env: &HashMap<&str, String>) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
    let child = Command::new(BIN)
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .envs(extra_server_env())
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(server_log())
        .spawn()
        .expect("spawn motcua");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client.get(format!("{base}/health/ready")).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Server { child, base }
}

async fn login(base: &str, username: &str, password: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login");
    response.json::<serde_json::Value>().await.ok().and_then(|v| v["access_token"].as_str().map(str::to_owned)).expect("token")
}

fn report(label: &str, run: &Run, unit: &str) {
    println!(
        "  {label:<28} {:8.0} {unit}  p50 {:6.2} ms  p95 {:6.2} ms  p99 {:6.2} ms  errors {}",
        rate(run.ok),
        common::percentile_ms(&run.latencies, 0.5),
        common::percentile_ms(&run.latencies, 0.95),
        common::percentile_ms(&run.latencies, 0.99),
        run.errors
    );
    if let Some(error) = &run.first_error {
        println!("    first error: {error}");
    }
}

async fn run(label: &str, database_url: String, dir: std::path::PathBuf) {
    let cases: u64 = std::env::var("MOTCUA_BENCH_CASES").ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(1_000_000);
    println!("cases on {label} ({cases} loaded)");
    std::fs::create_dir_all(&dir).expect("data dir");
    let env: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", database_url.clone()),
        ("MOTCUA_DATA_DIR", dir.to_string_lossy().into_owned()),
        ("MOTCUA_ADMIN_PASSWORD", "bench-admin-2026".to_owned()),
        ("JWT_SECRET", "bench-secret-bench-secret-bench-secret-0".to_owned()),
        ("MOTCUA_WORKERS", "2".to_owned()),
        ("MOTCUA_DB_POOL_SIZE", "16".to_owned()),
        ("MOTCUA_LOGIN_RATE_PER_MINUTE", "100000".to_owned()),
        ("MOTCUA_LOOKUP_RATE_PER_MINUTE", "100000000".to_owned()),
        // The intake runs put some 10,000 cases a day on each of their eight agencies, past
        // the default four-digit daily sequence (ministry-style width).
        ("MOTCUA_CASE_SEQUENCE_WIDTH", "6".to_owned()),
    ]);
    let started = Instant::now();
    let seeded = Command::new(BIN)
        .args(["seed", "--cases", &cases.to_string(), "--agencies", "200", "--years", "3"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RUST_LOG", "warn")
        .status()
        .expect("seed");
    assert!(seeded.success(), "seeding failed");
    #[expect(clippy::cast_precision_loss, reason = "a rate for display")]
    let per_second = cases as f64 / started.elapsed().as_secs_f64();
    println!("  seed --cases {cases}: {:.0} s ({per_second:.0} cases/s)", started.elapsed().as_secs_f64());
    let url = database_url.clone();
    let setup = tokio::task::spawn_blocking(move || setup(&url)).await.expect("setup");
    let body = json!({
        "procedure_code": setup.procedure, "channel": "counter", "summary": "Chứng thực bản sao",
        "applicant": {"kind": "citizen", "full_name": "Nông Văn Bình", "id_type": "cccd", "id_number": "004099012345"},
        "documents": [{"requirement_code": "TK01", "name": "Tờ khai", "originals": 1, "copies": 0}]
    });
    if phase("reads") {
        reads_and_intake(label, &env, &setup, &database_url, &dir, &body).await;
    }
    if phase("costs") {
        costs(&env, &setup, &database_url, &body).await;
    }
}

/// Whether `name` is among `MOTCUA_BENCH_PHASES` (comma-separated `reads`, `costs`; all when
/// unset): the read-side figures with one intake run, and the intake costs of counters and outbox.
fn phase(name: &str) -> bool {
    std::env::var("MOTCUA_BENCH_PHASES").map_or(true, |phases| phases.split(',').any(|p| p.trim() == name))
}

/// Server settings added from `MOTCUA_BENCH_SERVER_ENV` (`NAME=value,NAME=value`), to try a
/// setting on every server the benchmark starts.
fn extra_server_env() -> Vec<(String, String)> {
    let text = std::env::var("MOTCUA_BENCH_SERVER_ENV").unwrap_or_default();
    text.split(',').filter_map(|pair| pair.split_once('=')).map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned())).collect()
}

/// Health, lookups, inboxes, statistics and one intake run on one server; returns the intake rate.
async fn reads_and_intake(
    label: &str,
    env: &HashMap<&'static str, String>,
    setup: &Setup,
    database_url: &str,
    dir: &std::path::Path,
    body: &serde_json::Value,
) {
    let server = serve(env).await;
    let base = server.base.clone();
    let mut tokens = Vec::new();
    for officer in &setup.officers {
        tokens.push(login(&base, officer, "bench-pass-2026").await);
    }
    tokens.push(login(&base, "demo.provinceadmin", "motcua-demo-2026").await);
    let tokens = Arc::new(tokens);
    let province = tokens.len() - 1;

    let health = wrk(&base, &["/health/live".to_owned()], READ_CONNECTIONS, dir);
    report_wrk("health/live", &health);
    print_memory(&server, "after health/live");
    let known: Vec<String> = setup.known.iter().map(|c| format!("/api/v1/lookup/cases/{c}")).collect();
    let lookup = wrk(&base, &known, READ_CONNECTIONS, dir);
    report_wrk("lookup (known codes)", &lookup);
    print_memory(&server, "after the known lookups");
    let share = if health.requests_per_second > 0.0 { lookup.requests_per_second / health.requests_per_second * 100.0 } else { 0.0 };
    println!("  lookup = {share:.0}% of health/live (target >= 50%, p99 <= 10 ms)");
    let unknown: Vec<String> = setup.known.iter().map(|c| format!("/api/v1/lookup/cases/{}9999", &c[..c.len() - 4])).collect();
    report_wrk("lookup (unknown codes, 404)", &wrk(&base, &unknown, READ_CONNECTIONS, dir));
    print_memory(&server, "after the lookups");

    let inbox = hammer(
        &base,
        tokens.clone(),
        INBOX_CONNECTIONS,
        Arc::new(|connection, _| Call {
            method: reqwest::Method::GET,
            path: "/api/v1/cases?status=processing&limit=50".into(),
            body: None,
            token: Some(connection % INTAKE_AGENCIES),
        }),
    )
    .await;
    report("inbox (commune, page of 50)", &inbox, "req/s");
    let province_inbox = hammer(
        &base,
        tokens.clone(),
        INBOX_CONNECTIONS,
        Arc::new(move |_, _| Call {
            method: reqwest::Method::GET,
            path: "/api/v1/cases?status=processing&limit=50".into(),
            body: None,
            token: Some(province),
        }),
    )
    .await;
    report("inbox (province subtree)", &province_inbox, "req/s");
    print_memory(&server, "after the inboxes");

    // Statistics over the seeded years: report 06 for the whole province for a quarter, and the
    // statistics grouped by agency for a year (sequential requests, after one warm-up).
    let year = chrono::Datelike::year(&chrono::Utc::now()) - 1;
    let province_token = tokens[province].clone();
    let report06 = timed(&base, &province_token, &format!("/api/v1/reports/periodic?template=06&period={year}-Q3"), 10).await;
    println!(
        "  report 06, province, {year}-Q3 ({} cases received): median {:.0} ms, max {:.0} ms (target <= {} ms)",
        report06.2,
        report06.0,
        report06.1,
        if label == "PostgreSQL" { 200 } else { 500 }
    );
    let by_agency =
        timed(&base, &province_token, &format!("/api/v1/statistics/cases?from={year}-01-01&to={year}-12-31&group_by=agency"), 10).await;
    println!(
        "  statistics by agency, year {year} ({} cases received): median {:.0} ms, max {:.0} ms (target <= 300 ms)",
        by_agency.2, by_agency.0, by_agency.1
    );

    settle(database_url);
    let intake = intake_run(&base, tokens.clone(), setup, body).await;
    report("intake (counter, 8 agencies)", &intake, "cases/s");
    let unique: HashSet<&String> = intake.codes.iter().collect();
    println!(
        "  intake: {} created, {} duplicate codes (target >= {}/s, no errors)",
        intake.codes.len(),
        intake.codes.len() - unique.len(),
        if label == "PostgreSQL" { 1000 } else { 500 }
    );
    let (rss, peak) = memory_mb(server.child.id());
    println!("  server memory: {rss:.0} MB resident, {peak:.0} MB peak (target <= 150 MB)");
    drop(server);
}

/// The costs of the statistics counters (target: within 10%) and of the outbox (within 15%):
/// the same intake in up to four configurations, in `MOTCUA_BENCH_ROUNDS` rounds (default 5)
/// whose order alternates (forward, then backward), so that what drifts during a run (growing
/// tables, checkpoints, autovacuum, a neighbour on the host) falls on every configuration alike.
/// `MOTCUA_BENCH_COSTS=counters|outbox` measures one of the two. Each cost is reported per
/// round and as the median of the rounds.
async fn costs(env: &HashMap<&'static str, String>, setup: &Setup, database_url: &str, body: &serde_json::Value) {
    let mut without = env.clone();
    without.insert("MOTCUA_STATS_INCREMENTAL", "false".to_owned());
    let mut delivering = env.clone();
    delivering.insert("MOTCUA_NATIONAL_PORTAL_URL", fast_portal());
    delivering.insert("MOTCUA_NATIONAL_PORTAL_USERNAME", "bench".into());
    delivering.insert("MOTCUA_NATIONAL_PORTAL_PASSWORD", "bench".into());
    delivering.insert("MOTCUA_NATIONAL_PORTAL_DSTCODE", "G22".into());
    let mut queueing = delivering.clone();
    queueing.insert("MOTCUA_OUTBOX_DISPATCH", "false".into());
    let wanted = |name: &str| std::env::var("MOTCUA_BENCH_COSTS").map_or(true, |v| v.split(',').any(|c| c.trim() == name));
    let (counters, outbox) = (wanted("counters"), wanted("outbox"));
    let configurations: Vec<(usize, &str, &HashMap<&str, String>)> = [
        (0, "intake (counters on, outbox off)", env, true),
        (1, "intake without statistics counters", &without, counters),
        (2, "intake, outbox on, delivering", &delivering, outbox),
        (3, "intake, outbox on, queueing", &queueing, outbox),
    ]
    .into_iter()
    .filter(|c| c.3)
    .map(|(i, label, settings, _)| (i, label, settings))
    .collect();
    let rounds: usize = std::env::var("MOTCUA_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(5);
    let mut rates = vec![vec![f64::NAN; 4]; rounds];
    let mut cpu = vec![vec![f64::NAN; 4]; rounds];
    let mut writer = vec![vec![f64::NAN; 4]; rounds];
    for (round, rates) in rates.iter_mut().enumerate() {
        let mut order = configurations.clone();
        if round % 2 == 1 {
            order.reverse();
        }
        for (i, label, settings) in order {
            let server = serve(settings).await;
            let mut fresh = Vec::new();
            for officer in &setup.officers {
                fresh.push(login(&server.base, officer, "bench-pass-2026").await);
            }
            settle(database_url);
            let (before, wal, held) = (Cpu::now(), wal_bytes(database_url), WriterUse::read(&server.base).await);
            let run = intake_run(&server.base, Arc::new(fresh), setup, body).await;
            let used = Cpu::now().since(&before);
            report(&format!("round {}: {label}", round + 1), &run, "cases/s");
            println!("    machine CPU: {}", used.describe(run.ok));
            if let (Some(held), Some(after)) = (held, WriterUse::read(&server.base).await) {
                let (line, per_case) = after.since(&held, run.ok);
                println!("    SQLite writer: {line}");
                writer[round][i] = per_case;
            }
            if let (Some(wal), Some(after)) = (wal, wal_bytes(database_url)) {
                #[expect(clippy::cast_precision_loss, reason = "a size for display")]
                let per_case = (after - wal) / 1024.0 / run.ok.max(1) as f64;
                println!("    WAL written: {per_case:.1} KB a case (all writers)");
            }
            rates[i] = rate(run.ok);
            cpu[round][i] = used.busy_ms_per(run.ok);
            if i == 2 {
                // Whether the dispatcher kept up with intake (on SQLite it waits for the writer
                // between intake's writes).
                let mut conn = persistence::build_pool(database_url, 1, false).expect("pool").get().expect("connection");
                let open = persistence::repo::outbox::open_count(&mut conn, "national_portal").expect("count");
                println!("    outbox messages still to deliver at the end of the run: {open} (of {} written)", run.ok);
            }
            server.stop();
            if i == 3 {
                // The queue left behind drains before the next configuration.
                dispatcher(&delivering, database_url).await;
            }
        }
    }
    let cost = |n: f64, of: f64| if of > 0.0 { (1.0 - n / of) * 100.0 } else { f64::NAN };
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    // A configuration is compared with its neighbour in the same round (what slows a whole
    // round down cancels out), and the median of the rounds is the figure: one disturbed run
    // does not decide it. CPU time per case is the cross-check (higher CPU per case = cost).
    let paired = |n: usize, of: usize| median(rates.iter().map(|r| cost(r[n], r[of])).collect());
    let paired_cpu = |n: usize, of: usize| median(cpu.iter().map(|r| cost(r[of], r[n])).collect());
    let per_round = |n: usize, of: usize| rates.iter().map(|r| format!("{:.1}%", cost(r[n], r[of]))).collect::<Vec<_>>().join(", ");
    let rate_of = |i: usize| median(rates.iter().map(|r| r[i]).collect());
    // The one SQLite writer's time per case: what the configuration adds to the serial part.
    let writer_added = |n: usize, of: usize| median(writer.iter().map(|r| r[n] - r[of]).collect());
    println!("  intake, median of {rounds} rounds: {:.0} cases/s with counters and no outbox", rate_of(0));
    if counters {
        println!(
            "  counters cost {:.1}% of intake throughput, median of the rounds' {} ({:.0} cases/s without them) (target <= 10%); CPU time per case {:.1}%",
            paired(0, 1),
            per_round(0, 1),
            rate_of(1),
            paired_cpu(0, 1)
        );
    }
    if outbox {
        println!(
            "  outbox cost, of intake without it (target <= 15%): {:.1}% while delivering, median of {} ({:.0} cases/s; CPU time per case {:.1}%); {:.1}% writing only, median of {} ({:.0} cases/s; CPU time per case {:.1}%)",
            paired(2, 0),
            per_round(2, 0),
            rate_of(2),
            paired_cpu(2, 0),
            paired(3, 0),
            per_round(3, 0),
            rate_of(3),
            paired_cpu(3, 0)
        );
        if writer.iter().all(|r| !r[0].is_nan()) {
            println!(
                "  outbox time on the SQLite writer, added per case (median of rounds): {:.0} us while delivering, {:.0} us writing only (of {:.0} us a case without the outbox)",
                writer_added(2, 0),
                writer_added(3, 0),
                median(writer.iter().map(|r| r[0]).collect())
            );
        }
    }
}

/// The SQLite writer's counters on `/metrics` (writes, commits, seconds held and working).
struct WriterUse {
    writes: f64,
    commits: f64,
    held: f64,
    working: f64,
    at: Instant,
}

impl WriterUse {
    /// The counters now (`None` on PostgreSQL, which has no single writer).
    async fn read(base: &str) -> Option<Self> {
        let text = reqwest::get(format!("{base}/metrics")).await.ok()?.text().await.ok()?;
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse::<f64>().ok()))
        };
        Some(Self {
            writes: value("motcua_sqlite_writes_total")?,
            commits: value("motcua_sqlite_write_commits_total")?,
            held: value("motcua_sqlite_writer_held_seconds_total")?,
            working: value("motcua_sqlite_writer_working_seconds_total")?,
            at: Instant::now(),
        })
    }

    /// What the writer did since `before` for `cases` cases: a line to print and the
    /// microseconds it was held per case.
    fn since(&self, before: &Self, cases: usize) -> (String, f64) {
        #[expect(clippy::cast_precision_loss, reason = "rates for display")]
        let cases = cases.max(1) as f64;
        let elapsed = self.at.duration_since(before.at).as_secs_f64();
        let (held, working) = (self.held - before.held, self.working - before.working);
        let per_case = held * 1e6 / cases;
        let line = format!(
            "held {:.0}% of the run ({per_case:.0} us a case), working {:.0} us a case; {:.1} writes a commit",
            held * 100.0 / elapsed,
            working * 1e6 / cases,
            (self.writes - before.writes) / (self.commits - before.commits).max(1.0)
        );
        (line, per_case)
    }
}

/// The machine's CPU time from `/proc/stat`, in clock ticks (USER_HZ, 100 a second).
struct Cpu {
    busy: u64,
    steal: u64,
    idle: u64,
}

impl Cpu {
    fn now() -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let ticks: Vec<u64> = stat.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
        let at = |i: usize| ticks.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        Self { busy: at(0) + at(1) + at(2) + at(5) + at(6), idle: at(3) + at(4), steal: at(7) }
    }

    fn since(&self, before: &Self) -> Self {
        Self { busy: self.busy - before.busy, steal: self.steal - before.steal, idle: self.idle - before.idle }
    }

    #[expect(clippy::cast_precision_loss, reason = "a rate for display")]
    fn busy_ms_per(&self, cases: usize) -> f64 {
        self.busy as f64 * 10.0 / cases.max(1) as f64
    }

    #[expect(clippy::cast_precision_loss, reason = "shares for display")]
    fn describe(&self, cases: usize) -> String {
        let all = (self.busy + self.idle + self.steal).max(1) as f64;
        format!(
            "{:.2} ms a case (all processes); busy {:.0}%, idle {:.0}%, stolen by the host {:.0}%",
            self.busy_ms_per(cases),
            self.busy as f64 * 100.0 / all,
            self.idle as f64 * 100.0 / all,
            self.steal as f64 * 100.0 / all
        )
    }
}

/// A national portal adapter that answers at once: the local fast receiver of the dispatcher
/// benchmark (one worker thread of its own).
fn fast_portal() -> String {
    use actix_web::{HttpResponse, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            // The request body is read, as a real receiver does: actix closes a connection
            // whose request body was left unread, and the dispatcher then connected anew for
            // every call (a fifth of its thread's time went into connecting).
            let answer = |body: &'static str| {
                move |_request: web::Bytes| async move { HttpResponse::Ok().content_type("application/json").body(body) }
            };
            actix_web::HttpServer::new(move || {
                actix_web::App::new()
                    .route("/auth", web::post().to(answer(r#"{"error_code":0,"session":"bench"}"#)))
                    .route("/integration", web::post().to(answer(r#"{"error_code":0,"message":"Đồng bộ thành công"}"#)))
            })
            .workers(1)
            .listen(listener)
            .expect("listen")
            .run()
            .await
        })
    });
    url
}

#[derive(QueryableByName)]
struct Open {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    open: bool,
}

#[derive(QueryableByName)]
struct Drained {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
    seconds: Option<f64>,
}

/// The dispatcher's rate on the backlog a queueing run left (target: >= 2,000 messages/s on
/// PostgreSQL).
async fn dispatcher(with_portal: &HashMap<&str, String>, database_url: &str) {
    let mut conn = persistence::build_pool(database_url, 1, false).expect("pool").get().expect("connection");
    let backlog = persistence::repo::outbox::open_count(&mut conn, "national_portal").expect("count");
    let mark = persistence::now();
    let (started, cpu) = (Instant::now(), Cpu::now());
    let server = serve(with_portal).await;
    let writer = WriterUse::read(&server.base).await;
    // Whether any message is still open, as cheap a probe as there is: counting the open ones
    // every 20 ms cost the database more than the dispatcher did on a backlog of 30,000. The
    // statuses are written out: SQLite uses a partial index only for a condition it can see
    // implies the index's, and with the statuses as parameters it scanned every message ever
    // written, a core's worth of the machine during the drain.
    while persistence::per_backend!(&mut *conn, |c| diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM outbox_messages WHERE status IN ('pending', 'failed') \
         AND next_attempt_at IS NOT NULL) AS open"
    )
    .get_result::<Open>(c))
    .expect("open messages")
    .open
    {
        assert!(started.elapsed() < Duration::from_secs(600), "the backlog does not drain");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = started.elapsed().as_secs_f64();
    let used = Cpu::now().since(&cpu);
    let span = if conn.backend() == persistence::Backend::Postgres {
        "EXTRACT(EPOCH FROM MAX(sent_at) - MIN(sent_at))::float8"
    } else {
        "(julianday(MAX(sent_at)) - julianday(MIN(sent_at))) * 86400.0"
    };
    let drained: Drained = persistence::per_backend!(&mut *conn, |c| diesel::sql_query(format!(
        "SELECT COUNT(*) AS n, {span} AS seconds FROM outbox_messages WHERE sent_at >= $1"
    ))
    .bind::<diesel::sql_types::Timestamp, _>(mark)
    .get_result(c))
    .expect("drained");
    #[expect(clippy::cast_precision_loss, reason = "rates for display")]
    let (from_start, steady) = (backlog as f64 / wall, drained.n as f64 / drained.seconds.unwrap_or(f64::NAN));
    println!(
        "  dispatcher: {backlog} queued messages delivered in {wall:.2} s from process start = {from_start:.0} msg/s; first to last delivery {steady:.0} msg/s (target >= 2,000/s)"
    );
    // The dispatcher alone on the machine: what each delivery costs all processes (server,
    // database, receiver), the server's start included.
    println!("    machine CPU while draining: {}", used.describe(usize::try_from(backlog).unwrap_or(0)).replace(" a case", " a message"));
    if let (Some(writer), Some(after)) = (writer, WriterUse::read(&server.base).await) {
        let (line, _) = after.since(&writer, usize::try_from(backlog).unwrap_or(0));
        println!("    SQLite writer while draining: {}", line.replace(" a case", " a message"));
    }
    if let Some((text, stored)) = payload_sizes(database_url) {
        println!("  outbox payloads: {text:.0} bytes of JSON on average, {stored:.0} bytes stored");
    }
    drop(server);
}

#[derive(QueryableByName)]
struct WalPosition {
    #[diesel(sql_type = diesel::sql_types::Double)]
    bytes: f64,
}

/// PostgreSQL's WAL position in bytes (`None` on SQLite): the WAL written per case is the
/// cross-check of what a configuration adds to each commit.
fn wal_bytes(database_url: &str) -> Option<f64> {
    postgres_row::<WalPosition>(database_url, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS bytes").map(|p| p.bytes)
}

/// One row of a PostgreSQL-only reading (`None` on SQLite, or when it cannot be read).
fn postgres_row<T: QueryableByName<diesel::pg::Pg> + 'static>(database_url: &str, sql: &str) -> Option<T> {
    let mut conn = persistence::build_pool(database_url, 1, false).expect("pool").get().expect("connection");
    let persistence::AnyConnection::Postgresql(c) = &mut *conn else { return None };
    diesel::sql_query(sql).get_result::<T>(c).ok()
}

#[derive(QueryableByName)]
struct PayloadSize {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
    text: Option<f64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
    stored: Option<f64>,
}

/// The outbox payloads' mean length and stored size on PostgreSQL (after its compression).
fn payload_sizes(database_url: &str) -> Option<(f64, f64)> {
    let sql = "SELECT AVG(octet_length(payload))::float8 AS text, AVG(pg_column_size(payload))::float8 AS stored FROM outbox_messages";
    let size = postgres_row::<PayloadSize>(database_url, sql)?;
    Some((size.text?, size.stored?))
}

/// Brings the database to the same state before each intake run: the work earlier runs left
/// (dead rows, a rebuild of the statistics counters after a run without them, stale planner
/// statistics) is done now rather than during the next measurement. (No CHECKPOINT: the full
/// page images after one slowed the next run's intake by 10-15%.)
fn settle(database_url: &str) {
    let mut conn = persistence::build_pool(database_url, 1, false).expect("pool").get().expect("connection");
    let statements: &[&str] =
        if conn.backend() == persistence::Backend::Postgres { &["VACUUM ANALYZE"] } else { &["PRAGMA wal_checkpoint(TRUNCATE)"] };
    for sql in statements {
        persistence::per_backend!(&mut *conn, |c| diesel::connection::SimpleConnection::batch_execute(c, sql)).expect("settle");
    }
}

/// Counter intake at `INTAKE_CONNECTIONS`, each connection an officer of one of the load-test
/// communes.
async fn intake_run(base: &str, tokens: Arc<Vec<String>>, setup: &Setup, body: &serde_json::Value) -> Run {
    let bodies = bodies_for(setup, body);
    hammer(
        base,
        tokens,
        INTAKE_CONNECTIONS,
        Arc::new(move |connection, _| Call {
            method: reqwest::Method::POST,
            path: "/api/v1/cases".into(),
            body: Some(bodies[connection % bodies.len().max(1)].clone()),
            token: Some(connection % INTAKE_AGENCIES),
        }),
    )
    .await
}

fn bodies_for(setup: &Setup, body: &serde_json::Value) -> Vec<serde_json::Value> {
    setup
        .agencies
        .iter()
        .map(|agency| {
            let mut body = body.clone();
            body["agency_id"] = json!(agency);
            body
        })
        .collect()
}

/// Median and maximum milliseconds of `n` sequential GETs after one warm-up, and the total
/// received of the last answer.
async fn timed(base: &str, token: &str, path: &str, n: usize) -> (f64, f64, i64) {
    let client = reqwest::Client::new();
    let mut times = Vec::with_capacity(n);
    let mut received = 0;
    for i in 0..=n {
        let started = Instant::now();
        let response = client.get(format!("{base}{path}")).bearer_auth(token).send().await.expect("request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{path}: {status} {text}");
        received =
            serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v["total"]["received"]["total"].as_i64()).unwrap_or(-1);
        if i > 0 {
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() - 1], received)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    common::each_backend("benchc", run).await;
}
