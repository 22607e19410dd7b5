//! The dispatcher thread: claims due messages with leases, delivers them (the portal's in
//! batches), and records each outcome; retries back off with jitter until the message is dead.

use std::sync::Arc;
use std::time::Duration;

use domain::outbox::Target;
use integrations::national::portal::CaseSync;
use persistence::AnyConnection;
use persistence::repo::outbox::{self, Finished, Lease, LeasedMessage, Outcome};

use super::Deliverers;
use super::portal::portal_syncs;
use crate::app::AppError;
use crate::background::{Stop, Workers};
use crate::state::AppState;

/// Starts the dispatcher thread when this instance dispatches and a target is configured.
///
/// # Errors
/// When the thread cannot be started.
pub fn start(workers: &mut Workers, state: Arc<AppState>) -> std::io::Result<()> {
    let targets = state.deliverers.targets();
    if targets.is_empty() || !state.config.outbox.dispatch {
        return Ok(());
    }
    let stop = workers.stop_signal();
    workers.spawn("motcua-outbox", move || run(&state, &stop, &targets))
}

fn run(state: &AppState, stop: &Stop, targets: &[&'static str]) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            log::error!("the outbox dispatcher cannot start: {e}");
            return;
        }
    };
    // Unique per process: a restarted instance never mistakes an old lease for its own.
    let worker = format!("{}-{}", std::process::id(), persistence::new_id());
    log::info!("outbox dispatcher {worker} delivers to {}", targets.join(", "));
    runtime.block_on(async {
        let settings = &state.config.outbox;
        while !stop.is_stopped() {
            let handled = round(state, stop, &worker, targets).await;
            // A full round goes on at once; any other waits a poll interval, so that under a
            // steady trickle the fixed cost of a claim, its recording and the portal's lists is
            // shared by a poll interval's messages.
            let full = usize::try_from(settings.batch).is_ok_and(|batch| handled >= batch);
            if !full && stop.wait(settings.poll) {
                break;
            }
        }
    });
}

/// A random number in `[0, 1)` for the retry jitter.
fn unit_random() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() >> 75;
    #[allow(clippy::cast_precision_loss)]
    let unit = bits as f64 / (1_u64 << 53) as f64;
    unit
}

/// Why a message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum DeliveryError {
    /// No client for the message's target on this instance.
    #[error("{0}")]
    NotConfigured(String),
    /// The stored payload, or what it names, cannot be read or built.
    #[error("{0}")]
    Unreadable(String),
    /// The receiving system refused it or could not be reached (its HTTP status, when one came).
    #[error("{message}")]
    Remote { message: String, status: Option<u16> },
}

impl DeliveryError {
    /// The receiving system's HTTP status, when it answered.
    fn status(&self) -> Option<u16> {
        match self {
            Self::Remote { status, .. } => *status,
            Self::NotConfigured(_) | Self::Unreadable(_) => None,
        }
    }

    fn remote(error: impl std::fmt::Display, status: Option<u16>) -> Self {
        Self::Remote { message: error.to_string(), status }
    }
}

/// What a delivery gave: the receiving system's reference, or why not.
type Delivered = Result<Option<String>, DeliveryError>;

async fn deliver(deliverers: &Deliverers, message: &LeasedMessage) -> Delivered {
    match message.target.as_str() {
        "pakn" => {
            let Some(pakn) = &deliverers.pakn else {
                return Err(DeliveryError::NotConfigured("the national PAKN system is not configured".into()));
            };
            let item: integrations::pakn::FeedbackSnapshot =
                serde_json::from_str(&message.payload).map_err(|e| DeliveryError::Unreadable(format!("unreadable payload: {e}")))?;
            pakn.push(&item).await.map_err(|e| DeliveryError::remote(&e, e.http_status()))
        }
        other => {
            let gateway = Target::parse(other, "target").ok().and_then(|t| deliverers.gateways.get(&t));
            let Some(gateway) = gateway else { return Err(DeliveryError::NotConfigured(format!("no delivery for target `{other}`"))) };
            let body: serde_json::Value =
                serde_json::from_str(&message.payload).map_err(|e| DeliveryError::Unreadable(format!("unreadable payload: {e}")))?;
            gateway.post(&body).await.map_err(|e| DeliveryError::remote(&e, e.http_status()))
        }
    }
}

/// A claimed message and, for the portal, what to send it ([`portal_syncs`]).
struct Claimed {
    message: LeasedMessage,
    sync: Option<Result<CaseSync, String>>,
}

/// The claimed messages in delivery groups: national portal messages (of different cases: a
/// claim holds one message per case and target) by the portal's batch size, every other alone.
fn groups(
    deliverers: &Deliverers,
    claimed: Vec<LeasedMessage>,
    mut syncs: std::collections::HashMap<i64, Result<CaseSync, String>>,
) -> Vec<Vec<Claimed>> {
    let batch = deliverers.portal.as_ref().map_or(1, |p| p.settings().batch.max(1));
    let (portal, others): (Vec<_>, Vec<_>) = claimed.into_iter().partition(|m| m.target == Target::NationalPortal.as_str());
    let mut out: Vec<Vec<Claimed>> = Vec::new();
    for message in portal {
        let item = Claimed { sync: syncs.remove(&message.seq), message };
        match out.last_mut() {
            Some(group) if group.len() < batch => group.push(item),
            _ => out.push(vec![item]),
        }
    }
    out.extend(others.into_iter().map(|message| vec![Claimed { message, sync: None }]));
    out
}

/// Delivers a group: national portal messages in one batched sync, any other alone.
async fn deliver_group(deliverers: &Deliverers, group: Vec<Claimed>) -> Vec<(LeasedMessage, Delivered)> {
    let mut out: Vec<(LeasedMessage, Delivered)> = Vec::with_capacity(group.len());
    if group.first().is_none_or(|c| c.message.target != Target::NationalPortal.as_str()) {
        for Claimed { message, .. } in group {
            let delivered = deliver(deliverers, &message).await;
            out.push((message, delivered));
        }
        return out;
    }
    let Some(portal) = &deliverers.portal else {
        let missing = DeliveryError::NotConfigured("the national portal is not configured".into());
        return group.into_iter().map(|c| (c.message, Err(missing.clone()))).collect();
    };
    let (mut ready, mut syncs) = (Vec::new(), Vec::new());
    for Claimed { message, sync } in group {
        match sync.unwrap_or_else(|| Err("nothing to send was prepared".into())) {
            Ok(sync) => {
                syncs.push(sync);
                ready.push(message);
            }
            Err(e) => out.push((message, Err(DeliveryError::Unreadable(e)))),
        }
    }
    let outcomes = portal.sync_many(&syncs).await;
    out.extend(
        ready
            .into_iter()
            .zip(outcomes)
            .map(|(message, outcome)| (message, outcome.map(|()| None).map_err(|e| DeliveryError::remote(&e, e.http_status())))),
    );
    out
}

/// Claims a batch, delivers it and records the outcomes; returns how many were claimed.
async fn round(state: &AppState, stop: &Stop, worker: &str, targets: &[&'static str]) -> usize {
    let settings = &state.config.outbox;
    let now = state.now();
    let lease_length = chrono::TimeDelta::from_std(settings.lease).unwrap_or(chrono::TimeDelta::minutes(2));
    let (until, limit, owner, wanted) = (now + lease_length, settings.batch, worker.to_owned(), targets.to_vec());
    // The leases are taken on the writer (SQLite's one, which intake waits for) and the
    // messages read afterwards on a connection of the pool.
    let taken =
        match write(state, move |conn| outbox::lease_due(conn, &Lease { worker: &owner, now, until, limit, targets: &wanted })).await {
            Ok(taken) => taken,
            Err(e) => {
                log::warn!("outbox: claiming failed: {e}");
                return 0;
            }
        };
    if taken.is_empty() {
        return 0;
    }
    let read = state.pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
        let claimed = outbox::leased(&mut conn, worker, &taken).map_err(|e| e.to_string())?;
        let syncs = portal_syncs(state, &mut conn, &claimed).map_err(|e| e.to_string())?;
        Ok((claimed, syncs))
    });
    let (claimed, syncs) = match read {
        Ok(read) => read,
        Err(e) => {
            // Given back at once (logged abandoned); if that fails too, the leases run out.
            log::warn!("outbox: reading the claimed messages or their cases failed: {e}");
            if let Some(Err(e)) = state.pool.background(|conn| outbox::release(conn, worker, state.now())) {
                log::warn!("outbox: giving back leases failed (they run out instead): {e}");
            }
            return 0;
        }
    };
    let count = claimed.len();
    let reports: std::collections::HashMap<i64, String> =
        claimed.iter().filter(|m| m.kind == "report").map(|m| (m.seq, m.subject.clone())).collect();
    let gate = Arc::new(tokio::sync::Semaphore::new(settings.concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for group in groups(&state.deliverers, claimed, syncs) {
        let (gate, deliverers, clock) = (gate.clone(), state.deliverers.clone(), state.clock.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let started = crate::app::clock::stored(clock.now());
            deliver_group(&deliverers, group).await.into_iter().map(|(message, outcome)| (message, started, outcome)).collect::<Vec<_>>()
        });
    }
    let mut done = Vec::with_capacity(count);
    let mut stopped = false;
    loop {
        tokio::select! {
            next = tasks.join_next() => match next {
                Some(Ok(delivered)) => done.extend(delivered.into_iter().map(|(message, started, outcome)| finished(state, message, started, outcome))),
                Some(Err(e)) => log::error!("outbox: a delivery task failed: {e}"),
                None => break,
            },
            () = tokio::time::sleep(Duration::from_millis(50)) => {
                if stop.is_stopped() {
                    // Stopping: unfinished deliveries are abandoned and their leases given
                    // back, so another instance takes them at once (after a crash, the leases
                    // run out instead).
                    tasks.abort_all();
                    stopped = true;
                    break;
                }
            }
        }
    }
    let outcomes = done.len();
    let owner = worker.to_owned();
    let recorded = write(state, move |conn| {
        persistence::write_tx(conn, |conn| -> Result<usize, persistence::RepoError> {
            let recorded = outbox::finish(conn, &owner, &done)?;
            // A frozen report's submission state follows its message, in the same transaction.
            for item in done.iter().filter(|d| recorded.contains(&d.seq) && reports.contains_key(&d.seq)) {
                let snapshot = &reports[&item.seq];
                match &item.outcome {
                    Outcome::Sent { reference } => {
                        persistence::repo::reports::mark_submission(conn, snapshot, "sent", reference.as_deref(), Some(item.finished_at))?
                    }
                    Outcome::Dead { .. } => persistence::repo::reports::mark_submission(conn, snapshot, "failed", None, None)?,
                    Outcome::Failed { .. } => {}
                }
            }
            Ok(recorded.len())
        })
    })
    .await;
    if stopped {
        match state.pool.background(|conn| outbox::release(conn, worker, state.now())) {
            Some(Ok(n)) if n > 0 => log::info!("outbox: {n} deliveries in flight given back at shutdown"),
            Some(Err(e)) => log::warn!("outbox: giving back leases failed (they run out instead): {e}"),
            _ => {}
        }
    }
    match recorded {
        Ok(recorded) if recorded < outcomes => {
            log::warn!("outbox: {} outcomes came after their lease ran out and were not recorded", outcomes - recorded);
        }
        Err(e) => log::warn!("outbox: recording outcomes failed (the messages will be tried again): {e}"),
        Ok(_) => {}
    }
    count
}

/// Runs a write of the dispatcher's (a claim, the outcomes of a round). On SQLite it queues for
/// the writer with the requests' writes and is committed with those queued meanwhile (see
/// [`crate::db::write`]): the claim and the outcomes of a round add no commit of their own to
/// the one writer intake waits for. On PostgreSQL it runs on a pooled connection.
async fn write<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, persistence::RepoError> + Send + 'static,
    T: Send + 'static,
{
    if state.pool.write_counts().is_some() {
        return crate::db::write(&state.pool, move |conn| f(conn).map_err(AppError::from)).await;
    }
    state.pool.background(f).ok_or_else(|| AppError::internal("no database connection"))?.map_err(AppError::from)
}

fn finished(state: &AppState, message: LeasedMessage, started: chrono::NaiveDateTime, delivered: Delivered) -> Finished {
    let finished_at = state.now();
    let (outcome, response_status) = match delivered {
        Ok(reference) => (Outcome::Sent { reference }, Some(200)),
        Err(failure) => {
            let (error, status) = (failure.to_string(), failure.status());
            let age = (finished_at - message.retry_from).to_std().unwrap_or_default();
            let attempt = u32::try_from(message.attempts).unwrap_or(1);
            let outcome = match state.config.outbox.policy.after_failure(attempt, age, unit_random()) {
                Some(delay) => Outcome::Failed {
                    next_attempt_at: finished_at + chrono::TimeDelta::from_std(delay).unwrap_or(chrono::TimeDelta::hours(1)),
                    error,
                },
                None => Outcome::Dead { error },
            };
            (outcome, status.map(i32::from))
        }
    };
    state.metrics.count_outbox(
        &message.target,
        match outcome {
            Outcome::Sent { .. } => "sent",
            Outcome::Failed { .. } => "failed",
            Outcome::Dead { .. } => "dead",
        },
    );
    // A delivering try is kept with its message, whose payload gives the digest when read.
    let logged = !matches!(outcome, Outcome::Sent { .. });
    Finished {
        seq: message.seq,
        attempt: message.attempts,
        request_digest: logged.then(|| domain::outbox::request_digest(&message.payload)),
        id: message.id,
        started_at: started,
        finished_at,
        response_status,
        outcome,
    }
}
