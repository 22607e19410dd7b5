//! The outbox in the server: which messages a change writes (in the change's transaction), and
//! the dispatcher thread that delivers them to the configured systems.
//!
//! Delivery is at least once: a message is marked sent only after its receiver answered
//! success, and a dispatcher that dies mid-delivery leaves a lease that runs out, after which
//! any instance tries again. Receivers are asked to be idempotent (the portal's dossier sync is
//! an upsert by case code).

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use integrations::national::portal::{CaseSnapshot, CaseSync, Party, PortalClient, ProgressEntry, SubmittedDocument};
use persistence::repo::cases::{CaseRow, EventRow};
use persistence::repo::outbox::{self, Finished, Lease, LeasedMessage, NewMessage, Outcome};
use persistence::{AnyConnection, repo::agencies::AgencyRow};

use domain::outbox::Target;
use integrations::gateway::JsonGateway;

use crate::background::{Stop, Workers};
use crate::error::AppError;
use crate::state::AppState;

/// The systems this instance can deliver to.
#[derive(Clone, Default)]
pub struct Deliverers {
    /// The national portal (dossier and progress sync).
    pub portal: Option<Arc<PortalClient>>,
    /// The JSON gateways (reporting system, SMS, Zalo, e-mail) by target.
    pub gateways: std::collections::BTreeMap<Target, Arc<JsonGateway>>,
    /// The national PAKN system.
    pub pakn: Option<Arc<integrations::pakn::PaknClient>>,
}

impl Deliverers {
    /// The clients of the configured systems.
    ///
    /// # Errors
    /// When an HTTP client cannot be built.
    pub fn from_config(config: &crate::config::Config) -> Result<Self, String> {
        let portal = match &config.national_portal {
            Some((adapter, settings)) => Some(Arc::new(PortalClient::new(
                integrations::AdapterClient::new(adapter.clone()).map_err(|e| e.to_string())?,
                settings.clone(),
            ))),
            None => None,
        };
        let mut gateways = std::collections::BTreeMap::new();
        for (target, url, token) in &config.gateways {
            gateways.insert(*target, Arc::new(JsonGateway::new(url, token.clone(), config.gateway_timeout).map_err(|e| e.to_string())?));
        }
        let pakn = match &config.pakn {
            Some(p) => Some(Arc::new(
                integrations::pakn::PaknClient::new(&p.url, &p.push_path, &p.pull_path, p.token.clone(), config.gateway_timeout)
                    .map_err(|e| e.to_string())?,
            )),
            None => None,
        };
        Ok(Self { portal, gateways, pakn })
    }

    /// The targets with a client.
    pub fn targets(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.portal.is_some() {
            out.push(Target::NationalPortal.as_str());
        }
        if self.pakn.is_some() {
            out.push(Target::Pakn.as_str());
        }
        out.extend(self.gateways.keys().map(|t| t.as_str()));
        out
    }

    /// Whether messages to `target` can be delivered here.
    pub fn has(&self, target: Target) -> bool {
        match target {
            Target::NationalPortal => self.portal.is_some(),
            Target::Pakn => self.pakn.is_some(),
            other => self.gateways.contains_key(&other),
        }
    }
}

/// A case change, with what the messages need that the caller has at hand.
pub struct CaseChange<'a> {
    pub case: &'a CaseRow,
    /// The event the change appended.
    pub event: &'a EventRow,
    /// The case's agency, when the caller has read it already.
    pub agency: Option<&'a AgencyRow>,
}

/// Writes the messages of a case change (call inside its transaction).
///
/// # Errors
/// Database errors.
pub fn case_changed(conn: &mut AnyConnection, state: &AppState, change: &CaseChange<'_>) -> Result<(), AppError> {
    let messages = case_messages(conn, state, change)?;
    outbox::enqueue(conn, change.event.at, &messages)?;
    Ok(())
}

/// The messages of a case change, for the caller to write in its transaction (none when no
/// receiver is configured).
///
/// # Errors
/// Database errors.
pub fn case_messages(conn: &mut AnyConnection, state: &AppState, change: &CaseChange<'_>) -> Result<Vec<outbox::NewMessage>, AppError> {
    let (case, event) = (change.case, change.event);
    let mut messages = Vec::new();
    if state.deliverers.portal.is_some() {
        messages.push(portal_message(case, event)?);
    }
    if ![Target::Sms, Target::Zalo, Target::Email].into_iter().any(|t| state.deliverers.has(t)) {
        return Ok(messages);
    }
    let status = domain::case::CaseStatus::parse(&case.status, "status").map_err(AppError::internal)?;
    let agency_name = match change.agency {
        Some(a) => a.name.clone(),
        None => state.names.agency(conn, &case.agency_id)?,
    };
    if let Some(notice) =
        domain::notification::Notice::of_case_action(&event.action, status, case.due_at.map(|d| d.and_utc()), &agency_name)
    {
        let applicant: persistence::stored::case::Party = persistence::stored::read(&case.applicant)?;
        let about = Subject { code: &case.code, ordering_key: &case.id };
        messages.extend(notifications(state, &notice, about, applicant.phone.as_deref(), applicant.email.as_deref())?);
    }
    Ok(messages)
}

/// What messages are about: the case or feedback code people see (the subject) and the key
/// that orders them.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub code: &'a str,
    /// A case's messages are ordered by its id (time-ordered, so new cases' messages go at the
    /// end of the ordering index), a feedback's by its code.
    pub ordering_key: &'a str,
}

/// The ordering key of every report snapshot: they are pushed in the order they were frozen.
pub const REPORTS_KEY: &str = "reports";

/// The ordering keys under which the messages about `subject` (a case or feedback code, or a
/// report snapshot id) are written: the subject itself, the reports' key, and the id of the
/// case with that code.
///
/// # Errors
/// Database errors.
pub fn subject_keys(conn: &mut AnyConnection, subject: &str) -> Result<Vec<String>, AppError> {
    let mut keys = vec![subject.to_owned(), REPORTS_KEY.to_owned()];
    if let Some(id) = persistence::repo::cases::id_of(conn, subject)? {
        keys.push(id);
    }
    Ok(keys)
}

/// The messages of `notice` about `about` to the applicant's phone (SMS, Zalo) and e-mail, on
/// the gateways configured here.
///
/// # Errors
/// Serialisation errors only.
pub fn notifications(
    state: &AppState,
    notice: &domain::notification::Notice,
    about: Subject<'_>,
    phone: Option<&str>,
    email: Option<&str>,
) -> Result<Vec<NewMessage>, AppError> {
    let code = about.code;
    let link = state.config.lookup_link.as_deref().map(|template| template.replace("{code}", code));
    let message = domain::notification::render(notice, code, link.as_deref());
    let phone = phone.map(str::trim).filter(|p| !p.is_empty());
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    let mut out = Vec::new();
    for target in [Target::Sms, Target::Zalo, Target::Email] {
        if !state.deliverers.has(target) {
            continue;
        }
        let payload = match (target, phone, email) {
            (Target::Sms, Some(phone), _) => integrations::gateway::sms(phone, &message.text),
            (Target::Zalo, Some(phone), _) => integrations::gateway::zalo(phone, &message.text),
            (Target::Email, _, Some(email)) => integrations::gateway::email(email, &message.subject, &message.text),
            _ => continue,
        };
        out.push(NewMessage {
            target: target.as_str().to_owned(),
            kind: format!("notification.{}", notice.kind()),
            ordering_key: about.ordering_key.to_owned(),
            subject: code.to_owned(),
            payload: payload.to_string(),
        });
    }
    Ok(out)
}

/// The kind of a portal message that names the case event it reports
/// ([`CaseEventRef`]); the dispatcher builds what the portal is sent at delivery
/// ([`portal_syncs`]).
pub const CASE_EVENT: &str = "case_event";

/// The kind of a portal message that carries the [`CaseSync`] itself, as messages were written
/// before `case_event`; such messages still in the queue are delivered as they are.
pub const CASE_SYNC: &str = "case_sync";

/// The payload of a `case_event` message: which event of which case it reports. The event is
/// immutable; the case is read at delivery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CaseEventRef {
    pub case_id: String,
    pub event_seq: i32,
}

/// The portal message of a case event: a reference to the event, not a copy of the case. A
/// copy (about 1.2 KB of JSON, with the applicant's personal data) was built, written and later
/// rewritten by every claim and outcome on the writer that intake waits for.
fn portal_message(case: &CaseRow, event: &EventRow) -> Result<NewMessage, AppError> {
    let reference = CaseEventRef { case_id: case.id.clone(), event_seq: event.seq };
    Ok(NewMessage {
        target: domain::outbox::Target::NationalPortal.as_str().to_owned(),
        kind: CASE_EVENT.into(),
        ordering_key: case.id.clone(),
        subject: case.code.clone(),
        payload: serde_json::to_string(&reference).map_err(AppError::internal)?,
    })
}

/// What the portal is sent for one event of a case: the case as the event left it (the event's
/// status and due date; the dates of later steps left out) with its current applicant, summary
/// and documents, and the event as one progress entry.
///
/// # Errors
/// A case or event that does not read back (stored status, applicant or documents).
fn case_sync(
    case: &persistence::repo::cases::SyncRow,
    event: &EventRow,
    procedure: &crate::names::ProcedureLabel,
    agency: (String, String),
    actor_name: String,
) -> Result<CaseSync, String> {
    let status = domain::case::CaseStatus::parse(&event.to_status, "status").map_err(|e| e.to_string())?;
    let applicant: persistence::stored::case::Party =
        serde_json::from_str(&case.applicant).map_err(|e| format!("unreadable applicant: {e}"))?;
    let documents: Vec<persistence::stored::case::DeclaredDocument> =
        serde_json::from_str(&case.documents).map_err(|e| format!("unreadable documents: {e}"))?;
    let utc = |at: Option<chrono::NaiveDateTime>| at.map(|a| a.and_utc());
    // A date the case reached after this event is not part of it.
    let by_event = |at: Option<chrono::NaiveDateTime>| utc(at.filter(|a| *a <= event.at));
    let action_label = domain::case::event_label(&event.action).map_or_else(|| event.action.clone(), |l| l.vi.to_owned());
    let (agency_code, agency_name) = agency;
    Ok(CaseSync {
        case: CaseSnapshot {
            code: case.code.clone(),
            procedure_code: case.procedure_code.clone(),
            procedure_name: procedure.name.clone(),
            field_code: Some(procedure.field_code.clone()),
            field_name: Some(procedure.field_name.clone()),
            channel: case.channel.clone(),
            applicant: Party {
                kind: applicant.kind,
                full_name: applicant.full_name,
                id_type: applicant.id_type,
                id_number: applicant.id_number,
                phone: applicant.phone,
                email: applicant.email,
                address: applicant.address,
            },
            summary: case.summary.clone(),
            status_code: status.code(),
            submitted_at: case.submitted_at.and_utc(),
            received_at: by_event(case.received_at),
            due_at: utc(event.due_at),
            finished_at: by_event(case.finished_at),
            refused_at: if status == domain::case::CaseStatus::Refused { by_event(case.finished_at) } else { None },
            returned_at: by_event(case.returned_at),
            agency_code,
            agency_name: agency_name.clone(),
            return_by_post: case.return_method == "postal",
            documents: documents.into_iter().map(|d| SubmittedDocument { requirement_code: d.requirement_code, name: d.name }).collect(),
            note: None,
        },
        progress: vec![ProgressEntry {
            actor_name,
            actor_title: None,
            department: Some(agency_name),
            at: event.at.and_utc(),
            content: match &event.note {
                Some(note) if !note.trim().is_empty() => format!("{action_label}: {note}"),
                _ => action_label,
            },
            status_code: status.code(),
            started_at: Some(event.at.and_utc()),
            due_at: utc(event.step_due_at.or(event.due_at)),
        }],
        first: event.seq == 1,
    })
}

/// What to send the portal for each claimed portal message, by sequence number: read from the
/// case and its event for `case_event` messages (a batch of reads for the lot), parsed for
/// `case_sync` ones; a message that gives nothing to send has the reason instead.
///
/// # Errors
/// Database errors reading the cases and events (the round gives its leases back).
fn portal_syncs(
    state: &AppState,
    conn: &mut AnyConnection,
    claimed: &[LeasedMessage],
) -> Result<std::collections::HashMap<i64, Result<CaseSync, String>>, persistence::RepoError> {
    let mut out = std::collections::HashMap::new();
    let mut references = Vec::new();
    for message in claimed.iter().filter(|m| m.target == Target::NationalPortal.as_str()) {
        match message.kind.as_str() {
            CASE_EVENT => match serde_json::from_str::<CaseEventRef>(&message.payload) {
                Ok(reference) => references.push((message.seq, reference)),
                Err(e) => {
                    out.insert(message.seq, Err(format!("unreadable payload: {e}")));
                }
            },
            CASE_SYNC => {
                out.insert(message.seq, serde_json::from_str::<CaseSync>(&message.payload).map_err(|e| format!("unreadable payload: {e}")));
            }
            other => {
                out.insert(message.seq, Err(format!("no delivery for a national portal message of kind `{other}`")));
            }
        }
    }
    if references.is_empty() {
        return Ok(out);
    }
    let ids: Vec<&str> = references.iter().map(|(_, r)| r.case_id.as_str()).collect();
    let cases: std::collections::HashMap<String, persistence::repo::cases::SyncRow> =
        persistence::repo::cases::sync_rows(conn, &ids)?.into_iter().map(|c| (c.id.clone(), c)).collect();
    let wanted: Vec<(&str, i32)> = references.iter().map(|(_, r)| (r.case_id.as_str(), r.event_seq)).collect();
    let events: std::collections::HashMap<(String, i32), EventRow> =
        persistence::repo::cases::events_at(conn, &wanted)?.into_iter().map(|e| ((e.case_id.clone(), e.seq), e)).collect();
    for (seq, reference) in references {
        let sync = match (cases.get(&reference.case_id), events.get(&(reference.case_id.clone(), reference.event_seq))) {
            (Some(case), Some(event)) => labelled_sync(state, conn, case, event),
            _ => Err(format!("event {} of case {} no longer exists", reference.event_seq, reference.case_id)),
        };
        out.insert(seq, sync);
    }
    Ok(out)
}

/// [`case_sync`] with the names it needs, from the instance's cache.
fn labelled_sync(
    state: &AppState,
    conn: &mut AnyConnection,
    case: &persistence::repo::cases::SyncRow,
    event: &EventRow,
) -> Result<CaseSync, String> {
    let procedure = state.names.procedure_label(conn, &case.procedure_code, case.procedure_version).map_err(|e| e.to_string())?;
    let agency = state.names.agency_label(conn, &case.agency_id).map_err(|e| e.to_string())?;
    let actor = match &event.actor_id {
        Some(id) => state.names.user(conn, id).map_err(|e| e.to_string())?,
        None => String::new(),
    };
    case_sync(case, event, &procedure, agency, actor)
}

/// Starts the dispatcher thread when this instance dispatches and a target is configured.
///
/// # Errors
/// When the thread cannot be started.
pub fn start(workers: &mut Workers, state: web::Data<AppState>) -> std::io::Result<()> {
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

/// What a delivery gave: a receipt, or an error with the HTTP status when one came back.
type Delivered = Result<Option<String>, (String, Option<u16>)>;

async fn deliver(deliverers: &Deliverers, message: &LeasedMessage) -> Delivered {
    match message.target.as_str() {
        "pakn" => {
            let Some(pakn) = &deliverers.pakn else { return Err(("the national PAKN system is not configured".into(), None)) };
            let item: integrations::pakn::FeedbackSnapshot =
                serde_json::from_str(&message.payload).map_err(|e| (format!("unreadable payload: {e}"), None))?;
            pakn.push(&item).await.map_err(|e| (e.to_string(), e.http_status()))
        }
        other => {
            let gateway = Target::parse(other, "target").ok().and_then(|t| deliverers.gateways.get(&t));
            let Some(gateway) = gateway else { return Err((format!("no delivery for target `{other}`"), None)) };
            let body: serde_json::Value = serde_json::from_str(&message.payload).map_err(|e| (format!("unreadable payload: {e}"), None))?;
            gateway.post(&body).await.map_err(|e| (e.to_string(), e.http_status()))
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
        return group.into_iter().map(|c| (c.message, Err(("the national portal is not configured".into(), None)))).collect();
    };
    let (mut ready, mut syncs) = (Vec::new(), Vec::new());
    for Claimed { message, sync } in group {
        match sync.unwrap_or_else(|| Err("nothing to send was prepared".into())) {
            Ok(sync) => {
                syncs.push(sync);
                ready.push(message);
            }
            Err(e) => out.push((message, Err((e, None)))),
        }
    }
    let outcomes = portal.sync_many(&syncs).await;
    out.extend(
        ready
            .into_iter()
            .zip(outcomes)
            .map(|(message, outcome)| (message, outcome.map(|()| None).map_err(|e| (e.to_string(), e.http_status())))),
    );
    out
}

/// Claims a batch, delivers it and records the outcomes; returns how many were claimed.
async fn round(state: &AppState, stop: &Stop, worker: &str, targets: &[&'static str]) -> usize {
    let settings = &state.config.outbox;
    let now = persistence::now();
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
            if let Some(Err(e)) = state.pool.background(|conn| outbox::release(conn, worker, persistence::now())) {
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
        let (gate, deliverers) = (gate.clone(), state.deliverers.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let started = persistence::now();
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
        match state.pool.background(|conn| outbox::release(conn, worker, persistence::now())) {
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
    let finished_at = persistence::now();
    let (outcome, response_status) = match delivered {
        Ok(reference) => (Outcome::Sent { reference }, Some(200)),
        Err((error, status)) => {
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

/// Starts the periodic pull of the feedback the national PAKN system assigned to the province.
///
/// # Errors
/// When the thread cannot be started.
pub fn start_pakn_pull(workers: &mut Workers, state: web::Data<AppState>) -> std::io::Result<()> {
    let (Some(client), Some(interval)) = (state.deliverers.pakn.clone(), state.config.pakn.as_ref().and_then(|p| p.pull_interval)) else {
        return Ok(());
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    workers.every("motcua-pakn-pull", interval, move || {
        let items = match runtime.block_on(client.pull()) {
            Ok(items) => items,
            Err(e) => {
                log::warn!("PAKN pull failed: {e}");
                return;
            }
        };
        let mut taken = 0;
        for item in items {
            match state.pool.background(|conn| take_assigned(conn, &state, item)) {
                Some(Ok(true)) => taken += 1,
                Some(Err(e)) => log::warn!("PAKN pull: an item could not be taken over: {e}"),
                _ => {}
            }
        }
        if taken > 0 {
            log::info!("PAKN pull: {taken} new items assigned by the national system");
        }
    })
}

/// Creates an assigned item locally unless it exists already; returns whether it was created.
fn take_assigned(conn: &mut AnyConnection, state: &AppState, item: integrations::pakn::AssignedFeedback) -> Result<bool, AppError> {
    persistence::write_tx(conn, |conn| {
        if persistence::repo::feedback::find_by_external_id(conn, &item.external_id)?.is_some() {
            return Ok(false);
        }
        let agency = match item.agency_code.as_deref() {
            Some(code) => persistence::repo::agencies::find_by_code(conn, code)?,
            None => None,
        };
        let Some(agency) = agency.map_or_else(|| persistence::repo::agencies::root(conn), |a| Ok(Some(a)))? else {
            return Err(AppError::internal("no agency to assign national feedback to"));
        };
        let meta =
            crate::auth::RequestMeta { request_id: Some(format!("pakn-{}", item.external_id)), reason: Some("national PAKN pull".into()) };
        crate::app::feedback::submit(
            conn,
            state,
            &meta,
            crate::app::feedback::NewItem {
                kind: domain::feedback::FeedbackKind::Reflection,
                category: domain::feedback::FeedbackCategory::Regulation,
                title: item.title.chars().take(300).collect(),
                content: item.content,
                contact: persistence::stored::feedback::Contact {
                    full_name: if item.full_name.is_empty() { "Không rõ".into() } else { item.full_name },
                    phone: item.phone,
                    email: item.email,
                    address: item.address,
                },
                submitter_id: None,
                agency,
                case: None,
                external_id: Some(item.external_id),
            },
        )?;
        Ok(true)
    })
}
