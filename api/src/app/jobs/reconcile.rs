//! The reconciliation job (domain.md §10.2): asks the national portal (`TraCuuHoSo`) about
//! recently changed cases and records where its view differs from ours. Cases with messages
//! still on their way are skipped (they differ for a good reason). Every instance may run it;
//! the findings of a case are replaced as a whole, so concurrent runs agree.

use std::sync::Arc;

use integrations::national::portal::{PortalClient, difference};
use persistence::repo::reconciliation::{self, FindingRow};

use crate::state::AppState;

const TARGET: &str = "national_portal";

/// Compares the cases changed within the configured window; returns how many were checked.
pub async fn run_once(state: &AppState, portal: &Arc<PortalClient>) -> usize {
    let settings = &state.config.reconcile;
    let since = state.now() - chrono::TimeDelta::days(i64::from(settings.days));
    let cases = match state.pool.background(|conn| -> Result<_, persistence::RepoError> {
        let cases = reconciliation::recent_cases(conn, since, settings.limit)?;
        let codes: Vec<String> = cases.iter().map(|c| c.0.clone()).collect();
        let busy = reconciliation::in_flight(conn, TARGET, &codes)?;
        Ok(cases.into_iter().filter(|c| !busy.contains(&c.0)).collect::<Vec<_>>())
    }) {
        Some(Ok(cases)) => cases,
        Some(Err(e)) => {
            log::warn!("reconciliation: reading cases failed: {e}");
            return 0;
        }
        None => return 0,
    };
    let gate = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = tokio::task::JoinSet::new();
    for (code, status, due) in cases {
        let (gate, portal) = (gate.clone(), portal.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let view = portal.lookup(&code).await;
            (code, status, due, view)
        });
    }
    let now = state.now();
    let (mut checked, mut findings) = (Vec::new(), Vec::new());
    while let Some(joined) = tasks.join_next().await {
        let Ok((code, status, due, view)) = joined else { continue };
        let view = match view {
            Ok(view) => view,
            Err(e) => {
                log::warn!("reconciliation: the portal could not be asked about a case: {e}");
                continue;
            }
        };
        let status_code = domain::case::CaseStatus::parse(&status, "status").map_or(0, domain::case::CaseStatus::code);
        if let Some(found) = difference(portal.settings(), view.as_ref(), status_code, due.map(|d| d.and_utc())) {
            findings.push(FindingRow {
                target: TARGET.into(),
                case_code: code.clone(),
                kind: found.kind.into(),
                ours_status: i32::from(found.ours_status),
                theirs_status: view.as_ref().and_then(|v| v.status_code).map(i32::from),
                ours_due: found.ours_due,
                theirs_due: view.and_then(|v| v.due),
                checked_at: now,
            });
        }
        checked.push(code);
    }
    match state.pool.background(|conn| reconciliation::record(conn, TARGET, &checked, &findings)) {
        Some(Err(e)) => log::warn!("reconciliation: recording failed: {e}"),
        _ => log::info!("reconciliation: {} cases checked, {} differ", checked.len(), findings.len()),
    }
    checked.len()
}

/// Starts the periodic job when the portal is configured and the job is on.
///
/// # Errors
/// When the thread cannot be started.
pub fn start(workers: &mut crate::background::Workers, state: Arc<AppState>) -> std::io::Result<()> {
    let (Some(portal), Some(interval)) = (state.deliverers.portal.clone(), state.config.reconcile.interval) else { return Ok(()) };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    workers.every("motcua-reconcile", interval, move || {
        runtime.block_on(run_once(&state, &portal));
    })
}
