//! Liveness, readiness and metrics.

use std::fmt::Write as _;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// Liveness.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveResponse {
    /// Always `ok`.
    pub status: String,
}

/// Readiness and its parts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyResponse {
    /// `ready` or `not_ready`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Whether a query succeeded.
    pub database_ok: bool,
    /// Whether every migration is applied.
    pub migrations_ok: bool,
    /// `local` (a directory of this machine) or `s3` (a shared bucket).
    pub files: String,
    /// Whether the file store answered.
    pub files_ok: bool,
    /// Each external system and whether it is configured (`on`) or not (`off`).
    pub integrations: std::collections::BTreeMap<String, String>,
    /// Each background thread of this instance (outbox dispatcher, schedulers, housekeeping)
    /// and how it is doing. A thread that panicked is started again and its panics are
    /// counted; that does not make the instance not ready (it still serves requests), so alert
    /// on `panics` or on `motcua_background_panics_total` in `/metrics`.
    pub background: std::collections::BTreeMap<String, BackgroundThread>,
}

/// A background thread's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackgroundThread {
    /// `running`, `restarting` (it panicked and starts again after a pause) or `stopped`.
    pub status: String,
    /// Panics caught in it since the process started.
    pub panics: u64,
}

/// The process is up.
#[utoipa::path(security(()), tag = "health", responses((status = 200, description = "Alive", body = LiveResponse)))]
#[get("/health/live")]
pub async fn live() -> web::Json<LiveResponse> {
    web::Json(LiveResponse { status: "ok".to_owned() })
}

/// The process can serve: the database answers, migrations are applied and the file store
/// answers.
#[utoipa::path(
    security(()),
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = ReadyResponse),
        (status = 503, description = "Not ready", body = ReadyResponse),
    )
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let (pool, files) = (state.pool.clone(), state.files.clone());
    let (checks, files_ok) = web::block(move || {
        let files_ok = files.check().inspect_err(|e| log::warn!("file store not ready: {e}")).is_ok();
        let migrations = pool.get().ok().map(|mut conn| persistence::db::migrations_complete(&mut conn).unwrap_or(false));
        (migrations, files_ok)
    })
    .await
    .unwrap_or((None, false));
    let ok = checks == Some(true) && files_ok;
    let integrations =
        state.config.integrations.iter().map(|(name, on)| ((*name).to_owned(), if *on { "on" } else { "off" }.to_owned())).collect();
    let body = ReadyResponse {
        status: if ok { "ready" } else { "not_ready" }.to_owned(),
        database: state.backend.as_str().to_owned(),
        database_ok: checks.is_some(),
        migrations_ok: checks == Some(true),
        files: match state.files {
            crate::files::FileStore::Local(_) => "local",
            crate::files::FileStore::Object(_) => "s3",
        }
        .to_owned(),
        files_ok,
        integrations,
        background: state
            .background
            .threads()
            .into_iter()
            .map(|(name, t)| (name, BackgroundThread { status: t.status.as_str().to_owned(), panics: t.panics }))
            .collect(),
    };
    if ok { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

/// Prometheus metrics: requests and latencies by route and status, and the pool's state.
#[utoipa::path(security(()), tag = "health", responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.state();
    let db = state.pool.clone();
    let depth =
        web::block(move || db.get().ok().and_then(|mut conn| persistence::repo::outbox::depth(&mut conn).ok())).await.ok().flatten();
    let mut extra = format!(
        "# HELP motcua_db_pool_connections Open database connections.\n# TYPE motcua_db_pool_connections gauge\nmotcua_db_pool_connections {}\n\
         # HELP motcua_db_pool_idle_connections Idle database connections.\n# TYPE motcua_db_pool_idle_connections gauge\nmotcua_db_pool_idle_connections {}\n",
        pool.connections, pool.idle_connections
    );
    if let Some(counts) = state.pool.write_counts() {
        let load = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
        #[expect(clippy::cast_precision_loss, reason = "seconds for display")]
        let seconds = |micros: &std::sync::atomic::AtomicU64| load(micros) as f64 / 1e6;
        let _ = write!(
            extra,
            "# HELP motcua_sqlite_writes_total Write transactions of requests on SQLite.\n# TYPE motcua_sqlite_writes_total counter\nmotcua_sqlite_writes_total {}\n\
             # HELP motcua_sqlite_write_commits_total Commits they took (several writes waiting for the writer are committed together).\n# TYPE motcua_sqlite_write_commits_total counter\nmotcua_sqlite_write_commits_total {}\n\
             # HELP motcua_sqlite_writer_held_seconds_total Time the one SQLite writer was held (requests and background work); its rate near 1 means writes wait for it.\n# TYPE motcua_sqlite_writer_held_seconds_total counter\nmotcua_sqlite_writer_held_seconds_total {}\n\
             # HELP motcua_sqlite_writer_working_seconds_total Of that time, the time spent in the writes and their commits.\n# TYPE motcua_sqlite_writer_working_seconds_total counter\nmotcua_sqlite_writer_working_seconds_total {}\n",
            load(&counts.writes),
            load(&counts.commits),
            seconds(&counts.held_micros),
            seconds(&counts.working_micros)
        );
    }
    extra.push_str("# HELP motcua_background_panics_total Panics caught in this instance's background threads (each thread goes on).\n# TYPE motcua_background_panics_total counter\n");
    for (name, thread) in state.background.threads() {
        let _ = writeln!(extra, "motcua_background_panics_total{{thread=\"{name}\"}} {}", thread.panics);
    }
    if let Some(depth) = depth {
        extra.push_str("# HELP motcua_outbox_messages Outbox messages not yet sent, by target and status (all instances).\n# TYPE motcua_outbox_messages gauge\n");
        for (target, status, n) in &depth.by_target_status {
            let _ = writeln!(extra, "motcua_outbox_messages{{target=\"{target}\",status=\"{status}\"}} {n}");
        }
        let age = depth.oldest_open.map_or(0, |at| (state.now() - at).num_seconds().max(0));
        let _ = writeln!(
            extra,
            "# HELP motcua_outbox_oldest_open_age_seconds Age of the oldest message still to deliver.\n# TYPE motcua_outbox_oldest_open_age_seconds gauge\nmotcua_outbox_oldest_open_age_seconds {age}"
        );
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render(&extra))
}
