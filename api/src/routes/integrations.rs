//! Integration endpoints: the national catalogue sync and its jobs, the outbox.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use domain::Role;
use persistence::repo::{jobs, outbox};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::jobs::catalog_sync;
use crate::auth::{Principal, RequestMeta};
use crate::error::{AppError, Code, Problem};
use crate::state::AppState;
use crate::views::utc;

/// What happened to one procedure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemOutcome {
    pub code: String,
    /// `created`, `updated`, `unchanged` or `failed`.
    pub outcome: String,
    pub version: Option<i32>,
    /// Why it failed, or what was noticed (unknown agency codes).
    pub note: Option<String>,
}

crate::views::mirror!(ItemOutcome, persistence::stored::job::ItemOutcome { code, outcome, version, note });

/// A background job and its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    /// e.g. `national_catalog_sync`.
    pub kind: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    pub total: i32,
    pub done: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed: i32,
    /// The outcome per item.
    pub items: Vec<ItemOutcome>,
    pub error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<jobs::JobRow> for JobView {
    fn from(row: jobs::JobRow) -> Self {
        let items: Vec<persistence::stored::job::ItemOutcome> = serde_json::from_str(&row.items).unwrap_or_default();
        let items = items.into_iter().map(Into::into).collect();
        JobView {
            id: row.id,
            kind: row.kind,
            status: row.status,
            total: row.total,
            done: row.done,
            created: row.created,
            updated: row.updated,
            unchanged: row.unchanged,
            failed: row.failed,
            items,
            error: row.error,
            created_at: utc(row.created_at),
            started_at: row.started_at.map(utc),
            finished_at: row.finished_at.map(utc),
        }
    }
}

/// Start a catalogue sync from the national procedure database; returns the job (202).
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The job, queued", body = JobView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The national catalogue is not configured", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/integrations/national-catalog/sync")]
pub async fn start_catalog_sync(state: web::Data<AppState>, principal: Principal, meta: RequestMeta) -> Result<HttpResponse, AppError> {
    principal.require(&[Role::SystemAdmin])?;
    if state.config.national_catalog.is_none() {
        return Err(AppError::new(Code::Conflict).with_detail(
            "Chưa cấu hình kết nối CSDL quốc gia về TTHC (MOTCUA_NATIONAL_CATALOG_URL).",
            "The national catalogue is not configured (MOTCUA_NATIONAL_CATALOG_URL).",
        ));
    }
    let user_id = principal.user_id.clone();
    let job = crate::db::run(&state.pool, move |conn| Ok(jobs::create(conn, "national_catalog_sync", Some(&user_id))?)).await?;
    let runner_state = state.get_ref().clone();
    let queued = job.clone();
    actix_web::rt::spawn(async move {
        catalog_sync::run(runner_state, queued, meta).await;
    });
    Ok(HttpResponse::Accepted()
        .insert_header((actix_web::http::header::LOCATION, format!("/api/v1/integrations/jobs/{}", job.id)))
        .json(JobView::from(job)))
}

/// A job's progress and outcome.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown job", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/integrations/jobs/{id}")]
pub async fn get_job(state: web::Data<AppState>, principal: Principal, id: web::Path<String>) -> Result<web::Json<JobView>, AppError> {
    principal.require(&[Role::SystemAdmin])?;
    let id = id.into_inner();
    let job = crate::db::run(&state.pool, move |conn| jobs::find(conn, &id)?.ok_or_else(AppError::not_found)).await?;
    Ok(web::Json(JobView::from(job)))
}

/// One try of an outbound message.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxAttemptView {
    pub attempt: i32,
    /// The instance's dispatcher that tried.
    pub worker: String,
    /// `sent`, `failed`, `dead` or `abandoned` (the dispatcher stopped before an answer).
    pub outcome: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// SHA-256 of the message's stored payload (of a `case_event` message: the reference to the
    /// event, the same for every try).
    pub request_digest: Option<String>,
    pub response_status: Option<i32>,
    pub error: Option<String>,
}

/// An outbound message to a national system or gateway.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxMessageView {
    pub id: String,
    /// `national_portal`, `reporting`, `pakn`, `sms`, `zalo` or `email`.
    pub target: String,
    /// What the message carries, e.g. `case_event` (a case change for the national portal).
    pub kind: String,
    /// The case or feedback code, or the report id.
    pub subject: String,
    /// `pending`, `sent`, `failed` or `dead`.
    pub status: String,
    pub status_label: String,
    /// Tries so far.
    pub attempts: i32,
    /// When the next try is due (open messages).
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_error: Option<String>,
    pub last_response_status: Option<i32>,
    /// The receiver's reference, when it gave one.
    pub response_ref: Option<String>,
    /// Every try (on the single message only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_log: Option<Vec<OutboxAttemptView>>,
}

fn outbox_view(row: outbox::MessageRow, log: Option<Vec<outbox::AttemptRow>>, lang: crate::i18n::Lang) -> OutboxMessageView {
    let status = domain::outbox::MessageStatus::parse(&row.status, "status").ok();
    OutboxMessageView {
        status_label: status.map_or_else(|| row.status.clone(), |s| lang.pick(s.label()).to_owned()),
        next_attempt_at: status.filter(|s| s.is_open()).map(|_| utc(row.next_attempt_at)),
        id: row.id,
        target: row.target,
        kind: row.kind,
        subject: row.subject,
        status: row.status,
        attempts: row.attempts,
        created_at: utc(row.created_at),
        sent_at: row.sent_at.map(utc),
        last_error: row.last_error,
        last_response_status: row.last_response_status,
        response_ref: row.response_ref,
        attempt_log: log.map(|rows| {
            rows.into_iter()
                .map(|a| OutboxAttemptView {
                    attempt: a.attempt,
                    worker: a.worker,
                    outcome: a.outcome,
                    started_at: utc(a.started_at),
                    finished_at: a.finished_at.map(utc),
                    request_digest: a.request_digest,
                    response_status: a.response_status,
                    error: a.error,
                })
                .collect()
        }),
    }
}

/// Filters of the outbox list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// `pending`, `sent`, `failed` or `dead`.
    pub status: Option<String>,
    /// `national_portal`, `reporting`, `pakn`, `sms`, `zalo` or `email`.
    pub target: Option<String>,
    /// A case or feedback code, or a report id.
    pub subject: Option<String>,
}

/// Outbound messages, newest first, with their tries and last error.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(OutboxQuery, crate::pagination::PageQuery),
    responses(
        (status = 200, description = "Messages", body = crate::pagination::Paged<OutboxMessageView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown status or target, bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/integrations/outbox")]
pub async fn list_outbox(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: web::Query<OutboxQuery>,
    page: web::Query<crate::pagination::PageQuery>,
) -> Result<web::Json<crate::pagination::Paged<OutboxMessageView>>, AppError> {
    principal.require(&[Role::SystemAdmin])?;
    let query = query.into_inner();
    if let Some(status) = &query.status {
        domain::outbox::MessageStatus::parse(status, "status")?;
    }
    if let Some(target) = &query.target {
        domain::outbox::Target::parse(target, "target")?;
    }
    let (limit, after) = page.resolve()?;
    let before_seq =
        after.map(|a| a.parse::<i64>().map_err(|_| AppError::invalid("cursor", "is not a cursor issued by this API"))).transpose()?;
    let lang = crate::i18n::Lang::of(&req);
    let page = crate::db::run(&state.pool, move |conn| {
        let subject = match query.subject {
            Some(name) => Some(outbox::SubjectFilter { keys: crate::app::outbox::subject_keys(conn, &name)?, name }),
            None => None,
        };
        Ok(outbox::list(conn, &outbox::Filter { status: query.status, target: query.target, subject, before_seq, limit })?)
    })
    .await?;
    Ok(web::Json(crate::pagination::Paged::from_page(page, |row| outbox_view(row, None, lang))))
}

/// One outbound message with every try.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message", body = OutboxMessageView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown message", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/integrations/outbox/{id}")]
pub async fn get_outbox_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<OutboxMessageView>, AppError> {
    principal.require(&[Role::SystemAdmin])?;
    let id = id.into_inner();
    let lang = crate::i18n::Lang::of(&req);
    let (row, log) = crate::db::run(&state.pool, move |conn| {
        let row = outbox::find(conn, &id)?.ok_or_else(AppError::not_found)?;
        let log = outbox::attempts(conn, std::slice::from_ref(&row.id))?;
        Ok((row, log))
    })
    .await?;
    Ok(web::Json(outbox_view(row, Some(log), lang)))
}

/// Replays a `failed` or `dead` message at once, with a fresh retry horizon.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message, pending again", body = OutboxMessageView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown message", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The message is pending or sent", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/integrations/outbox/{id}/retry")]
pub async fn retry_outbox_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<web::Json<OutboxMessageView>, AppError> {
    principal.require(&[Role::SystemAdmin])?;
    let id = id.into_inner();
    let lang = crate::i18n::Lang::of(&req);
    let now = state.now();
    let row = crate::db::write(&state.pool, move |conn| {
        match outbox::retry(conn, &id, now)? {
            None => return Err(AppError::not_found()),
            Some(false) => {
                return Err(AppError::new(Code::Conflict)
                    .with_detail("Chỉ gửi lại được thông điệp lỗi hoặc đã ngừng gửi.", "Only a failed or dead message can be replayed."));
            }
            Some(true) => {}
        }
        crate::auditing::record(
            conn,
            &meta,
            crate::auditing::Change::<(), _> {
                actor_id: Some(&principal.user_id),
                action: "outbox.retry",
                entity_type: "outbox_message",
                entity_id: &id,
                before: None,
                after: Some(&"pending"),
            },
        )?;
        outbox::find(conn, &id)?.ok_or_else(AppError::not_found)
    })
    .await?;
    Ok(web::Json(outbox_view(row, None, lang)))
}

/// A message a citizen sent to the province's SMS number or Zalo account.
#[derive(Debug, Deserialize, ToSchema, validator::Validate)]
pub struct InboundMessage {
    /// `sms` or `zalo`.
    pub channel: String,
    /// The sender (phone number or Zalo id); used for the rate limit only, never stored or logged.
    #[validate(length(min = 1, max = 100))]
    pub from: String,
    /// The text, e.g. `TRACUU 000.20.01.H14-261128-0001`.
    #[validate(length(max = 1000))]
    pub text: String,
}

/// The answer the gateway sends back to the sender.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundReply {
    /// The text to send back (public facts only: status and due date).
    pub reply: String,
    /// The case code found in the message, if any.
    pub case_code: Option<String>,
}

fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Lookup by message (Art. 26.3): the SMS and Zalo gateways forward a citizen's message here
/// and send back the reply, which carries the case's public status only. Gateways present
/// `X-Gateway-Token` (`MOTCUA_INBOUND_TOKEN`); each sender is rate limited.
#[utoipa::path(
    tag = "integrations",
    security(()),
    request_body = InboundMessage,
    params(("X-Gateway-Token" = String, Header, description = "The gateways' shared token")),
    responses(
        (status = 200, description = "The reply to send", body = InboundReply),
        (status = 401, description = "Missing or wrong gateway token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Lookup by message is not configured", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad channel, sender or text", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many messages from this sender", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/integrations/messages/inbound")]
pub async fn inbound_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<InboundMessage>,
) -> Result<web::Json<InboundReply>, AppError> {
    let Some(expected) = state.config.inbound_token.as_deref() else { return Err(AppError::not_found()) };
    let presented = req.headers().get("x-gateway-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !same_secret(presented, expected) {
        return Err(AppError::new(Code::Unauthorized));
    }
    let body = body.into_inner();
    validator::Validate::validate(&body)?;
    if !matches!(body.channel.as_str(), "sms" | "zalo") {
        return Err(AppError::invalid("channel", "must be sms or zalo"));
    }
    let sender = domain::audit::digest(body.from.trim().as_bytes());
    state.limit("inbound", &sender, state.config.inbound_rate_per_hour, std::time::Duration::from_secs(3600)).await?;
    let Some(code) = domain::notification::find_case_code(&body.text) else {
        return Ok(web::Json(InboundReply { reply: domain::notification::LOOKUP_HELP.into(), case_code: None }));
    };
    let wanted = code.clone();
    let found = crate::db::read(&state.pool, state.backend, move |conn| Ok(persistence::repo::cases::lookup(conn, &wanted)?)).await?;
    log::info!("inbound {} lookup: {}", body.channel, if found.is_some() { "found" } else { "unknown code" });
    let found = match found {
        Some(row) => {
            Some((domain::case::CaseStatus::parse(&row.status, "status").map_err(AppError::internal)?, row.due_at.map(|d| d.and_utc())))
        }
        None => None,
    };
    let reply = domain::notification::lookup_reply(&code, found);
    Ok(web::Json(InboundReply { reply, case_code: Some(code) }))
}

/// A case on which the national portal and we disagree.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingView {
    pub case_code: String,
    /// `missing` (the portal does not know the case), `status` or `due_date`.
    pub kind: String,
    /// Our status, as the portal's code.
    pub ours_status: i32,
    pub theirs_status: Option<i32>,
    /// Due dates as the portal writes them (`yyyyMMddHHmmss`, Vietnam time).
    pub ours_due: Option<String>,
    pub theirs_due: Option<String>,
    pub checked_at: chrono::DateTime<chrono::Utc>,
}

/// Which system to reconcile.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationQuery {
    /// `national_portal` (the only one with a lookup service).
    pub target: Option<String>,
}

/// Where the national portal's view of a recently changed case differs from ours, as found by
/// the periodic reconciliation job (`MOTCUA_RECONCILE_MS`); cases with messages still on their
/// way are not compared.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(ReconciliationQuery, crate::pagination::PageQuery),
    responses(
        (status = 200, description = "Differences by case code", body = crate::pagination::Paged<FindingView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator or supervisor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown target, bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/integrations/reconciliation")]
pub async fn reconciliation(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ReconciliationQuery>,
    page: web::Query<crate::pagination::PageQuery>,
) -> Result<web::Json<crate::pagination::Paged<FindingView>>, AppError> {
    principal.require(&[Role::SystemAdmin, Role::Supervisor])?;
    let target = query.into_inner().target.unwrap_or_else(|| "national_portal".into());
    if target != "national_portal" {
        return Err(AppError::invalid("target", "only `national_portal` is reconciled"));
    }
    let (limit, after) = page.resolve()?;
    let page =
        crate::db::run(&state.pool, move |conn| Ok(persistence::repo::reconciliation::list(conn, &target, after.as_deref(), limit)?))
            .await?;
    Ok(web::Json(crate::pagination::Paged::from_page(page, |row| FindingView {
        case_code: row.case_code,
        kind: row.kind,
        ours_status: row.ours_status,
        theirs_status: row.theirs_status,
        ours_due: row.ours_due,
        theirs_due: row.theirs_due,
        checked_at: utc(row.checked_at),
    })))
}
