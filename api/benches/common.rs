//! What the benches share: running on SQLite and, with `TEST_PG_URL`, on a throwaway
//! PostgreSQL database; and percentiles.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use diesel::{Connection, RunQueryDsl};

/// Runs `run(label, database_url, data_dir)` on SQLite, then on PostgreSQL when configured.
pub async fn each_backend<F, Fut>(prefix: &str, mut run: F)
where
    F: FnMut(&'static str, String, PathBuf) -> Fut,
    Fut: Future<Output = ()>,
{
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("motcua-{prefix}-{id}"));
    std::fs::create_dir_all(&dir).expect("dir");
    // `MOTCUA_BENCH_BACKENDS=postgres` (or `sqlite`) runs one backend only.
    let only = std::env::var("MOTCUA_BENCH_BACKENDS").unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only.contains(name);
    if wanted("sqlite") {
        run("SQLite", dir.join("bench.db").to_string_lossy().into_owned(), dir.clone()).await;
    }
    if let Ok(admin) = std::env::var("TEST_PG_URL")
        && !admin.is_empty()
        && wanted("postgres")
    {
        let name = format!("{prefix}_{}", &id[..12]);
        let mut conn = diesel::PgConnection::establish(&admin).expect("admin connection");
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create database");
        // The database name replaced, connection parameters (`?sslmode=disable`, …) kept.
        let (path, query) = admin.split_once('?').map_or((admin.as_str(), None), |(p, q)| (p, Some(q)));
        let base = path.rsplit_once('/').map_or(path, |(b, _)| b);
        let url = query.map_or_else(|| format!("{base}/{name}"), |q| format!("{base}/{name}?{q}"));
        run("PostgreSQL", url, dir.join("pg")).await;
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The `q`-quantile of sorted durations, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss, reason = "an index from a quantile")]
    let index = ((sorted.len().max(1) as f64 - 1.0) * q).round() as usize;
    sorted.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
