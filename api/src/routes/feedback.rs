//! Feedback and petitions (phản ánh, kiến nghị; api.md §3.7, domain.md §11): submission by a
//! citizen or by an anonymous caller who gives a name and a contact, handling by staff in scope
//! through the state machine of `domain::feedback` with the statutory deadlines, attachments,
//! the sender's reaction, and the published questions and answers (no personal data).

use std::time::Duration;

use actix_web::http::header::ETAG;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::feedback::{self as rules, FeedbackAction, FeedbackActor, FeedbackCategory, FeedbackKind, FeedbackStatus};
use domain::{Email, Phone, Role};
use persistence::AnyConnection;
use persistence::repo::feedback::{self as repo, FeedbackDocumentRow, FeedbackFilter, FeedbackRow};
use persistence::stored::feedback as stored;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::feedback::{self, Access, access, etag};
use crate::auth::principal::{MaybePrincipal, client_addr};
use crate::auth::{Principal, RequestMeta};
use crate::error::{AppError, Code, InvalidParam, Problem};
use crate::i18n::Lang;
use crate::pagination::{PageQuery, Paged};
use crate::state::AppState;

/// How to reach the sender (required from anonymous callers: a full name and one contact).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, example = "Nông Văn Bình")]
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[validate(length(max = 500))]
    pub address: Option<String>,
}

/// A new feedback item.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SubmitFeedback {
    /// `reflection` (phản ánh) or `recommendation` (kiến nghị).
    pub kind: String,
    /// `regulation` (quy định, chính sách, thủ tục) or `conduct` (hành vi của cán bộ, công chức).
    pub category: String,
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[validate(length(min = 1, max = 10000))]
    #[schema(min_length = 1, max_length = 10000)]
    pub content: String,
    /// The case the feedback is about.
    pub related_case_code: Option<String>,
    /// The agency it is addressed to; default the case's agency, else the province.
    pub agency_id: Option<String>,
    #[validate(nested)]
    pub contact: Option<Contact>,
}

/// The deadlines of an item (working days, domain.md §11.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackDeadlines {
    /// Accept or refuse by (2 working days).
    pub reception_due_at: DateTime<Utc>,
    /// First supplement request by (5 working days).
    pub supplement_due_at: DateTime<Utc>,
    /// Answer by (15 working days).
    pub answer_due_at: DateTime<Utc>,
    /// Publish by (2 working days after answering).
    pub publish_due_at: Option<DateTime<Utc>>,
}

/// Which deadlines are missed now (done late, or not done and past due).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackOverdue {
    pub reception: bool,
    pub supplement: bool,
    pub answer: bool,
    pub publish: bool,
    pub any: bool,
}

/// An attachment.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackDocumentView {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub download_url: String,
    pub created_at: DateTime<Utc>,
}

/// A feedback item as staff in scope and its sender see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackView {
    pub code: String,
    pub kind: String,
    pub kind_label: String,
    pub category: String,
    pub category_label: String,
    pub title: String,
    pub content: String,
    pub status: String,
    pub status_label: String,
    pub agency_id: String,
    pub agency_name: String,
    pub related_case_code: Option<String>,
    /// The sender's contact (personal data: staff in scope and the sender only).
    pub contact: Contact,
    pub submitted_at: DateTime<Utc>,
    pub deadlines: FeedbackDeadlines,
    pub overdue: FeedbackOverdue,
    /// Why it was refused, or what must be supplemented.
    pub reason: Option<String>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    /// The sender's reaction to the published answer.
    pub useful: Option<bool>,
    pub documents: Vec<FeedbackDocumentView>,
    /// What the caller may do now.
    pub available_actions: Vec<String>,
}

/// A published question and answer (no personal data).
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicFeedbackView {
    pub code: String,
    pub kind: String,
    pub kind_label: String,
    pub category: String,
    pub category_label: String,
    pub title: String,
    pub content: String,
    pub agency_name: String,
    pub answer: String,
    pub answered_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    /// The sender found the answer useful (or not); none before a reaction.
    pub useful: Option<bool>,
}

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

fn document_view(code: &str, d: FeedbackDocumentRow) -> FeedbackDocumentView {
    FeedbackDocumentView {
        download_url: format!("/api/v1/feedback/{code}/documents/{}/content", d.id),
        id: d.id,
        name: d.name,
        content_type: d.content_type,
        size: d.size_bytes,
        sha256: d.sha256,
        created_at: utc(d.created_at),
    }
}

fn view(conn: &mut AnyConnection, state: &AppState, row: &FeedbackRow, access: &Access, lang: Lang) -> Result<FeedbackView, AppError> {
    let (status, kind, category) = (row.status, row.kind, row.category);
    let deadlines = feedback::deadlines_of(row);
    let overdue = rules::overdue(status, &deadlines, &feedback::milestones_of(row), state.clock.now());
    let accepted_before = row.accepted_at.is_some();
    let available_actions = match access {
        Access::Sender => FeedbackAction::available(status, accepted_before, &FeedbackActor::Sender),
        Access::Staff(actor) => FeedbackAction::available(status, accepted_before, actor),
        Access::ReadOnly => Vec::new(),
    };
    let documents = repo::documents(conn, &row.id)?.into_iter().map(|d| document_view(&row.code, d)).collect();
    Ok(FeedbackView {
        code: row.code.clone(),
        kind: row.kind.into(),
        kind_label: lang.pick(kind.label()).to_owned(),
        category: row.category.into(),
        category_label: lang.pick(category.label()).to_owned(),
        title: row.title.clone(),
        content: row.content.clone(),
        status: row.status.into(),
        status_label: lang.pick(status.label()).to_owned(),
        agency_id: row.agency_id.clone(),
        agency_name: state.names.agency(conn, &row.agency_id)?,
        related_case_code: row.related_case_code.clone(),
        contact: persistence::stored::read::<stored::Contact>(&row.contact)?.into(),
        submitted_at: utc(row.submitted_at),
        deadlines: FeedbackDeadlines {
            reception_due_at: deadlines.reception_due,
            supplement_due_at: deadlines.supplement_due,
            answer_due_at: deadlines.answer_due,
            publish_due_at: deadlines.publish_due,
        },
        overdue: FeedbackOverdue {
            reception: overdue.reception,
            supplement: overdue.supplement,
            answer: overdue.answer,
            publish: overdue.publish,
            any: overdue.any(),
        },
        reason: row.reason.clone(),
        answer: row.answer.clone(),
        answered_at: row.answered_at.map(utc),
        published_at: row.published_at.map(utc),
        useful: row.useful,
        documents,
        available_actions: available_actions.iter().map(|a| a.as_str().to_owned()).collect(),
    })
}

fn public_view(conn: &mut AnyConnection, state: &AppState, row: &FeedbackRow, lang: Lang) -> Result<PublicFeedbackView, AppError> {
    let (kind, category) = (row.kind, row.category);
    Ok(PublicFeedbackView {
        code: row.code.clone(),
        kind: row.kind.into(),
        kind_label: lang.pick(kind.label()).to_owned(),
        category: row.category.into(),
        category_label: lang.pick(category.label()).to_owned(),
        title: row.title.clone(),
        content: row.content.clone(),
        agency_name: state.names.agency(conn, &row.agency_id)?,
        answer: row.answer.clone().unwrap_or_default(),
        answered_at: row.answered_at.map(utc),
        published_at: row.published_at.map(utc),
        useful: row.useful,
    })
}

fn check_contact(contact: &Contact, anonymous: bool) -> Result<(), AppError> {
    let mut problems = Vec::new();
    if contact.full_name.trim().is_empty() {
        problems.push(InvalidParam { name: "contact.full_name".into(), reason: "is required".into() });
    }
    if let Some(Err(e)) = contact.phone.as_deref().map(Phone::parse) {
        problems.push(InvalidParam { name: "contact.phone".into(), reason: e.reason });
    }
    if let Some(Err(e)) = contact.email.as_deref().map(Email::parse) {
        problems.push(InvalidParam { name: "contact.email".into(), reason: e.reason });
    }
    let reachable = [&contact.phone, &contact.email, &contact.address].iter().any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()));
    if anonymous && !reachable {
        problems
            .push(InvalidParam { name: "contact".into(), reason: "give a phone number, an e-mail or an address to be answered".into() });
    }
    if problems.is_empty() { Ok(()) } else { Err(AppError::validation(problems)) }
}

/// Sends feedback (citizens; or anonymous callers who give a full name and a contact, rate
/// limited per address). The anonymous sender's only way to follow it is the answer by contact
/// and the published answers.
#[utoipa::path(
    tag = "feedback",
    security((), ("bearer" = [])),
    request_body = SubmitFeedback,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for 24 h")),
    responses(
        (status = 201, description = "Received, with its code and deadlines", body = FeedbackView),
        (status = 401, description = "A bearer token was sent and is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff accounts do not send feedback", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid, or anonymous without a name and a contact", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback")]
pub async fn submit_feedback(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: MaybePrincipal,
    meta: RequestMeta,
    body: web::Json<SubmitFeedback>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let principal = principal.0;
    if let Some(p) = &principal
        && p.role != Role::Citizen
    {
        return Err(AppError::forbidden());
    }
    if principal.is_none() {
        let client = client_addr(&req, state.config.trust_proxy);
        state.limit("feedback", &client, state.config.feedback_rate_per_hour, Duration::from_secs(3600)).await?;
    }
    body.validate()?;
    let kind = FeedbackKind::parse(&body.kind, "kind")?;
    let category = FeedbackCategory::parse(&body.category, "category")?;
    match (&body.contact, &principal) {
        (Some(contact), p) => check_contact(contact, p.is_none())?,
        (None, None) => {
            return Err(AppError::invalid("contact", "anonymous feedback needs the sender's full name and a contact (Decree 20/2008)"));
        }
        (None, Some(_)) => {}
    }
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    let sent = feedback::SendFeedback {
        kind,
        category,
        title: body.title,
        content: body.content,
        related_case_code: body.related_case_code,
        agency_id: body.agency_id,
        contact: body.contact.map(stored::Contact::from),
    };
    let view = crate::db::write(&state.pool, move |conn| {
        let row = feedback::send(conn, &shared, principal.as_ref(), &meta, sent)?;
        let access = if principal.is_some() { Access::Sender } else { Access::ReadOnly };
        view(conn, &shared, &row, &access, lang)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Filters of the feedback list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedbackListQuery {
    /// An agency of the caller's scope (its subtree is included).
    pub agency_id: Option<String>,
    /// `received`, `accepted`, `refused`, `supplement_requested`, `assigned`, `answered`, `published`.
    pub status: Option<String>,
    /// `regulation` or `conduct`.
    pub category: Option<String>,
    /// `true`: open items past their answer deadline.
    pub overdue: Option<bool>,
    /// Text in the code, title or content (diacritics ignored).
    pub q: Option<String>,
}

/// Feedback items: staff see their agency subtree, supervisors everything, citizens their own.
#[utoipa::path(
    tag = "feedback",
    security(("bearer" = [])),
    params(FeedbackListQuery, PageQuery),
    responses(
        (status = 200, description = "A page of items with deadlines and overdue flags", body = Paged<FeedbackView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Agency outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown filter value", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feedback")]
pub async fn list_feedback(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: web::Query<FeedbackListQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<FeedbackView>>, AppError> {
    feedback_page(state, req, principal, query.into_inner(), page.into_inner()).await
}

/// The caller's own feedback items (citizens), newest first.
#[utoipa::path(
    tag = "feedback",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's items", body = Paged<FeedbackView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a citizen", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/feedback")]
pub async fn list_my_feedback(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<FeedbackView>>, AppError> {
    principal.require(&[Role::Citizen])?;
    let query = FeedbackListQuery { agency_id: None, status: None, category: None, overdue: None, q: None };
    feedback_page(state, req, principal, query, page.into_inner()).await
}

async fn feedback_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: FeedbackListQuery,
    page: PageQuery,
) -> Result<web::Json<Paged<FeedbackView>>, AppError> {
    let (limit, after) = page.resolve()?;
    let status = query.status.as_deref().map(|s| FeedbackStatus::parse(s, "status")).transpose()?;
    let category = query.category.as_deref().map(|c| FeedbackCategory::parse(c, "category")).transpose()?;
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    let page = crate::db::run(&state.pool, move |conn| {
        let mut filter = FeedbackFilter {
            status,
            category,
            answer_overdue_at: query.overdue.filter(|o| *o).map(|_| shared.now()),
            search_like: query.q.as_deref().filter(|q| !q.trim().is_empty()).map(domain::text::like_contains),
            after,
            limit,
            ..FeedbackFilter::default()
        };
        match principal.role {
            Role::Citizen => filter.submitter_id = Some(principal.user_id.clone()),
            Role::Integration => return Err(AppError::forbidden()),
            _ => filter.under_path = crate::app::scope::scope_agency(conn, &principal, query.agency_id.as_deref())?.map(|a| a.path),
        }
        let rows = repo::list(conn, &filter)?;
        let mut items = Vec::with_capacity(rows.items.len());
        for row in &rows.items {
            let access = access(conn, &principal, row)?;
            items.push(view(conn, &shared, row, &access, lang)?);
        }
        Ok(Paged { items, next_cursor: rows.next_after.as_deref().map(crate::pagination::encode_cursor) })
    })
    .await?;
    Ok(web::Json(page))
}

/// One feedback item (staff in scope, supervisors, its sender), with `ETag`.
#[utoipa::path(
    tag = "feedback",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Feedback code")),
    responses(
        (status = 200, description = "The item", body = FeedbackView),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feedback/{code}")]
pub async fn get_feedback(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    let (tag, body) = crate::db::run(&state.pool, move |conn| {
        let row = repo::find_by_code(conn, &code)?.ok_or_else(AppError::not_found)?;
        let access = access(conn, &principal, &row)?;
        Ok((etag(&row), view(conn, &shared, &row, &access, lang)?))
    })
    .await?;
    if crate::http::not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified().insert_header((ETAG, tag)).finish());
    }
    Ok(HttpResponse::Ok().insert_header((ETAG, tag)).json(body))
}

/// The parameters of an action.
#[derive(Debug, Default, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct FeedbackActionRequest {
    /// Why (refuse, request_supplement).
    #[validate(length(max = 2000))]
    pub reason: Option<String>,
    /// The answer (respond).
    #[validate(length(max = 20000))]
    pub answer: Option<String>,
    /// The agency that must answer (assign), within the caller's scope.
    pub agency_id: Option<String>,
    /// The sender's completion (submit_supplement).
    #[validate(length(max = 10000))]
    pub content: Option<String>,
}

/// Acts on a feedback item: staff `accept`, `refuse{reason}`, `request_supplement{reason}`,
/// `assign{agency_id}`, `respond{answer}`, `publish`; the sender `submit_supplement{content}`.
/// `If-Match` honoured; 409 lists the allowed actions.
#[utoipa::path(
    tag = "feedback",
    security(("bearer" = [])),
    params(
        ("code" = String, Path, description = "Feedback code"),
        ("action" = String, Path, description = "accept, refuse, request_supplement, submit_supplement, assign, respond, publish"),
        ("If-Match" = Option<String>, Header, description = "The ETag the change is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for 24 h"),
    ),
    request_body = FeedbackActionRequest,
    responses(
        (status = 200, description = "The item after the action", body = FeedbackView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to take this action", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown item or action, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed in the current status", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing reason, answer or agency", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback/{code}/actions/{action}")]
pub async fn feedback_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: Option<web::Json<FeedbackActionRequest>>,
) -> Result<HttpResponse, AppError> {
    let (code, action) = path.into_inner();
    let action = FeedbackAction::parse(&action, "action").map_err(|_| AppError::not_found())?;
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    body.validate()?;
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let given = match action.requires_text() {
        Some("reason") => text(&body.reason),
        Some("answer") => text(&body.answer),
        Some("content") => text(&body.content),
        Some(_) => text(&body.agency_id),
        None => None,
    };
    if let Some(field) = action.requires_text()
        && given.is_none()
    {
        return Err(AppError::invalid(field, format!("is required to {}", action.as_str())));
    }
    let command = feedback::ActOnItem { code, action, text: given, expected_tag: crate::http::if_match_header(&req) };
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    let (tag, body) = crate::db::write(&state.pool, move |conn| {
        let (row, access) = feedback::act(conn, &shared, &principal, &meta, command)?;
        Ok((etag(&row), view(conn, &shared, &row, &access, lang)?))
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header((ETAG, tag)).json(body))
}

/// The sender's reaction.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactionRequest {
    /// Whether the published answer was useful.
    pub useful: bool,
}

/// The sender says whether the published answer was useful (may change their mind).
#[utoipa::path(
    tag = "feedback",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Feedback code")),
    request_body = ReactionRequest,
    responses(
        (status = 200, description = "The item with the reaction", body = FeedbackView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the sender", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The answer is not published yet", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback/{code}/reaction")]
pub async fn react_to_feedback(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    code: web::Path<String>,
    body: web::Json<ReactionRequest>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    let useful = body.into_inner().useful;
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    let body = crate::db::write(&state.pool, move |conn| {
        let mut row = repo::find_for_update(conn, &code)?.ok_or_else(AppError::not_found)?;
        let access = access(conn, &principal, &row)?;
        if !matches!(access, Access::Sender) {
            return Err(AppError::forbidden());
        }
        if row.status != FeedbackStatus::Published {
            return Err(AppError::new(Code::Conflict).with_detail("Câu trả lời chưa được công khai.", "The answer is not published yet."));
        }
        row.useful = Some(useful);
        row.revision += 1;
        row.updated_at = shared.now();
        repo::save(conn, &row)?;
        feedback::audit(conn, &meta, Some(&principal.user_id), "feedback.reaction", &row.code, &useful)?;
        view(conn, &shared, &row, &access, lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The multipart upload of a feedback attachment.
#[derive(Debug, actix_multipart::form::MultipartForm)]
pub struct FeedbackUpload {
    pub file: actix_multipart::form::bytes::Bytes,
    pub name: Option<actix_multipart::form::text::Text<String>>,
}

/// The multipart fields of a feedback attachment (for the OpenAPI document).
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "describes the multipart body; the handler reads `FeedbackUpload`")]
pub struct FeedbackUploadSchema {
    /// PDF, PNG, JPEG, Word, Excel or OpenDocument (checked against its bytes).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// A display name (default: the file name).
    name: Option<String>,
}

/// Attaches a file (the sender while the item is open; staff in scope).
#[utoipa::path(
    tag = "feedback",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Feedback code")),
    request_body(content = FeedbackUploadSchema, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = FeedbackDocumentView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Read-only caller", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The item is closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not an accepted document type", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/feedback/{code}/documents")]
pub async fn upload_feedback_document(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    code: web::Path<String>,
    form: actix_multipart::form::MultipartForm<FeedbackUpload>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    let upload = form.into_inner();
    let file_name = upload.file.file_name.clone();
    let checked = crate::uploads::check(
        &upload.file.data,
        state.config.upload_limit,
        upload.name.map(|t| t.into_inner()),
        file_name.as_deref(),
        "dinh-kem",
    )?;
    let store = state.files.clone();
    let data = upload.file.data;
    let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
    let now = state.now();
    let view = crate::db::write(&state.pool, move |conn| {
        let row = repo::find_for_update(conn, &code)?.ok_or_else(AppError::not_found)?;
        if matches!(access(conn, &principal, &row)?, Access::ReadOnly) {
            return Err(AppError::forbidden());
        }
        if matches!(row.status, FeedbackStatus::Refused | FeedbackStatus::Published) {
            return Err(AppError::new(Code::Conflict).with_detail("Phản ánh, kiến nghị đã đóng.", "The item is closed."));
        }
        let sha256 = store.put(&data).map_err(AppError::internal)?;
        let doc = FeedbackDocumentRow {
            id: persistence::new_id(),
            feedback_id: row.id.clone(),
            name: checked.name,
            content_type: checked.content_type,
            size_bytes: size,
            sha256,
            uploaded_by: Some(principal.user_id.clone()),
            created_at: now,
        };
        repo::insert_document(conn, &doc)?;
        feedback::audit(conn, &meta, Some(&principal.user_id), "feedback.attach", &row.code, &doc.sha256)?;
        Ok(document_view(&row.code, doc))
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Downloads an attachment (the sender, staff in scope, supervisors).
#[utoipa::path(
    tag = "feedback",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Feedback code"), ("id" = String, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/feedback/{code}/documents/{id}/content")]
pub async fn download_feedback_document(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (code, id) = path.into_inner();
    let doc = crate::db::run(&state.pool, move |conn| {
        let row = repo::find_by_code(conn, &code)?.ok_or_else(AppError::not_found)?;
        access(conn, &principal, &row)?;
        repo::documents(conn, &row.id)?.into_iter().find(|d| d.id == id).ok_or_else(AppError::not_found)
    })
    .await?;
    crate::uploads::download(&state.files, &doc.sha256, &doc.content_type, &doc.name, &doc.id).await
}

/// Search of the published answers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicFeedbackQuery {
    /// Text in the code, title or content (diacritics ignored).
    pub q: Option<String>,
    /// `regulation` or `conduct`.
    pub category: Option<String>,
}

async fn public_rate_limit(state: &AppState, req: &HttpRequest) -> Result<(), AppError> {
    let client = client_addr(req, state.config.trust_proxy);
    state.limit("public", &client, state.config.lookup_rate_per_minute, Duration::from_secs(60)).await
}

/// Published questions and answers (Art. 5.2.đ): no sender data. Rate limited per address.
#[utoipa::path(
    tag = "public",
    security(()),
    params(PublicFeedbackQuery, PageQuery),
    responses(
        (status = 200, description = "A page of published answers, newest first", body = Paged<PublicFeedbackView>),
        (status = 422, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/public/feedback")]
pub async fn public_feedback(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<PublicFeedbackQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<PublicFeedbackView>>, AppError> {
    public_rate_limit(&state, &req).await?;
    let query = query.into_inner();
    let (limit, after) = page.resolve()?;
    let category = query.category.as_deref().map(|c| FeedbackCategory::parse(c, "category")).transpose()?;
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    let page = crate::db::run(&state.pool, move |conn| {
        let filter = FeedbackFilter {
            category,
            search_like: query.q.as_deref().filter(|q| !q.trim().is_empty()).map(domain::text::like_contains),
            published_only: true,
            after,
            limit,
            ..FeedbackFilter::default()
        };
        let rows = repo::list(conn, &filter)?;
        let items = rows.items.iter().map(|r| public_view(conn, &shared, r, lang)).collect::<Result<_, _>>()?;
        Ok(Paged { items, next_cursor: rows.next_after.as_deref().map(crate::pagination::encode_cursor) })
    })
    .await?;
    Ok(web::Json(page))
}

/// One published question and answer.
#[utoipa::path(
    tag = "public",
    security(()),
    params(("code" = String, Path, description = "Feedback code")),
    responses(
        (status = 200, description = "The published answer", body = PublicFeedbackView),
        (status = 404, description = "Unknown or not published", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/public/feedback/{code}")]
pub async fn public_feedback_item(state: web::Data<AppState>, req: HttpRequest, code: web::Path<String>) -> Result<HttpResponse, AppError> {
    public_rate_limit(&state, &req).await?;
    let code = code.into_inner();
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    let view = crate::db::run(&state.pool, move |conn| {
        let row = repo::find_by_code(conn, &code)?.filter(|r| r.status == FeedbackStatus::Published).ok_or_else(AppError::not_found)?;
        public_view(conn, &shared, &row, lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

crate::views::mirror!(Contact, stored::Contact { full_name, phone, email, address });
