//! Catalogue search latency (`make bench`): 10,000 published procedures, real HTTP on
//! 127.0.0.1, sequential requests; p50/p95/p99 per query, on SQLite and (with
//! `TEST_PG_URL`) PostgreSQL. Target (issue 3): p95 <= 10 ms.

mod common;

use std::collections::HashMap;
use std::time::Instant;

use api::app::procedures::{new_version, normalise};
use api::demo_procedures::DEMO_PROCEDURES;
use persistence::stored::procedure::{FieldRef, ProcedureContent, RequiredDocument, ResultSpec, TimeSpec, TimeUnit as TimeUnitName};

const PROCEDURES: usize = 10_000;
const REQUESTS: usize = 300;

fn content(i: usize, agency_id: &str) -> ProcedureContent {
    let demo = &DEMO_PROCEDURES[i % DEMO_PROCEDURES.len()];
    let communes = ["Thục Phán", "Nùng Trí Cao", "Hòa An", "Trùng Khánh", "Quảng Hòa", "Bảo Lạc", "Hà Quảng", "Nguyên Bình"];
    ProcedureContent {
        national_code: None,
        name: format!("{} tại {} (mẫu {i})", demo.name, communes[i % communes.len()]),
        sector: demo.sector.to_owned(),
        field: FieldRef { code: demo.field.0.to_owned(), name: demo.field.1.to_owned() },
        levels: vec![demo.level.to_owned()],
        agency_ids: vec![agency_id.to_owned()],
        online_level: ["full", "partial", "info"][i % 3].to_owned(),
        channels: Vec::new(),
        processing_time: TimeSpec { value: demo.time.0, unit: TimeUnitName::WorkingDay },
        online_processing_time: None,
        cutoff_time: None,
        fees: Vec::new(),
        required_documents: demo
            .documents
            .iter()
            .enumerate()
            .map(|(n, d)| RequiredDocument { code: format!("GT{n}"), name: (*d).to_owned(), originals: 1, copies: 0, mandatory: true })
            .collect(),
        result: ResultSpec { code: None, name: demo.result.map(str::to_owned), has_result: demo.result.is_some() },
        legal_basis: Vec::new(),
        form_schema: None,
        effective_from: None,
    }
}

fn load(url: &str, agency_ids: &[String]) {
    let pool = persistence::build_pool(url, 1, false).expect("pool");
    let mut conn = pool.get().expect("connection");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default();
    let started = Instant::now();
    for chunk in (0..PROCEDURES).collect::<Vec<_>>().chunks(1_000) {
        persistence::write_tx(&mut conn, |conn| {
            for &i in chunk {
                let code = format!("{}.{:06}.000.00.00.H14", 1 + i % 2, 100_000 + i);
                let mut body = content(i, &agency_ids[i % agency_ids.len()]);
                normalise(&mut body, today).map_err(|e| persistence::RepoError::Unavailable(e.to_string()))?;
                let new = new_version(&code, &body, None, ("bench", None, None))
                    .map_err(|e| persistence::RepoError::Unavailable(e.to_string()))?;
                persistence::repo::procedures::create(conn, &code, None, new)?;
                persistence::repo::procedures::set_status(conn, &code, 1, "published", Some("BENCH"), Some(true))?;
            }
            Ok::<_, persistence::RepoError>(())
        })
        .expect("load");
    }
    // A production database has planner statistics; a freshly loaded one gets them now.
    persistence::db::execute_raw(&mut conn, "ANALYZE").expect("analyze");
    println!("  loaded {PROCEDURES} procedures in {:.1} s", started.elapsed().as_secs_f64());
}

async fn run(label: &str, database_url: String, dir: std::path::PathBuf) {
    println!("catalogue search on {label}");
    let env: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", database_url.clone()),
        ("MOTCUA_DATA_DIR", dir.to_string_lossy().into_owned()),
        ("MOTCUA_ADMIN_PASSWORD", "bench-admin-2026".to_owned()),
        ("JWT_SECRET", "bench-secret-bench-secret-bench-secret-0".to_owned()),
        ("MOTCUA_WORKERS", "2".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]);
    let config = api::config::Config::from_lookup(|k| env.get(k).cloned()).expect("config");
    let state = tokio::task::spawn_blocking(move || api::server::prepare(config)).await.expect("join").expect("prepare");
    let url = database_url.clone();
    let agency_ids = tokio::task::spawn_blocking(move || {
        let pool = persistence::build_pool(&url, 1, false).expect("pool");
        let mut conn = pool.get().expect("connection");
        let mut ids = Vec::new();
        for n in 0..20 {
            let agency = persistence::repo::agencies::insert(
                &mut conn,
                persistence::repo::agencies::NewAgency {
                    code: format!("000.20.{n:02}.H14"),
                    name: format!("UBND xã {n}"),
                    level: "commune".into(),
                    parent_id: None,
                },
            )
            .expect("agency");
            ids.push(agency.id);
        }
        ids
    })
    .await
    .expect("join");
    let (url, ids) = (database_url.clone(), agency_ids.clone());
    tokio::task::spawn_blocking(move || load(&url, &ids)).await.expect("join");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let started = api::server::start(state, listener).expect("start");
    let handle = started.server.handle();
    let _workers = started.workers;
    tokio::spawn(started.server);
    let client = reqwest::Client::new();
    let queries = [
        ("text search `dang ky khai sinh`", "/api/v1/procedures?q=dang%20ky%20khai%20sinh".to_owned()),
        ("text search `giay phep xay dung`", "/api/v1/procedures?q=giay%20phep%20xay%20dung&limit=50".to_owned()),
        ("text search, no match", "/api/v1/procedures?q=khong%20co%20thu%20tuc%20nay".to_owned()),
        ("filter agency + online level", format!("/api/v1/procedures?agency_id={}&online_level=full", agency_ids[3])),
        ("list, 100 per page", "/api/v1/procedures?limit=100".to_owned()),
        ("one procedure", "/api/v1/procedures/1.105000.000.00.00.H14".to_owned()),
    ];
    let mut worst_p95 = 0.0_f64;
    for (name, path) in &queries {
        let mut times = Vec::with_capacity(REQUESTS);
        for _ in 0..REQUESTS {
            let started = Instant::now();
            let response = client.get(format!("{base}{path}")).send().await.expect("request");
            let status = response.status();
            let _ = response.bytes().await;
            times.push(started.elapsed());
            assert!(status.is_success(), "{path}: {status}");
        }
        times.sort();
        let p95 = common::percentile_ms(&times, 0.95);
        worst_p95 = worst_p95.max(p95);
        println!(
            "  {name:<36} p50 {:6.2} ms  p95 {p95:6.2} ms  p99 {:6.2} ms",
            common::percentile_ms(&times, 0.5),
            common::percentile_ms(&times, 0.99)
        );
    }
    println!("  worst p95 {worst_p95:.2} ms (target <= 10 ms)");
    handle.stop(true).await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    common::each_backend("bench", run).await;
}
