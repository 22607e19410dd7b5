//! Cases (api.md §3.5–3.6): intake on every channel, reads scoped by role, the one action
//! endpoint that drives the state machine of `domain::case`, the event history and the public
//! lookup. Documents, forms and evaluations come with later work.

use std::time::Duration;

use actix_web::http::header::{ETAG, LOCATION};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use domain::case::lifecycle::ActionParams;
use domain::case::{CaseAction, CaseCode, CaseStatus, DocumentKind, Satisfaction};
use domain::identity::{ApplicantKind, IdType};
use domain::procedure::Channel;
use domain::{Email, IntegrationScope, Phone, Role};
use persistence::AnyConnection;
use persistence::repo::cases::{self as repo, CaseFilter, CaseRow, EventRow};
use persistence::stored::case::{self as stored, DeclaredDocument as StoredDocument, EventDetails, Party};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::cases::{self, Access, case_in_scope};
use crate::auth::principal::client_addr;
use crate::auth::{Principal, RequestMeta};
use crate::error::{AppError, InvalidParam, Problem};
use crate::i18n::Lang;
use crate::pagination::{PageQuery, Paged};
use crate::state::AppState;
use crate::views::utc;

/// The applicant or the representative (chủ hồ sơ, người được ủy quyền).
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
pub struct Person {
    /// `citizen`, `enterprise`, `agency` or `organisation`.
    #[schema(example = "citizen")]
    pub kind: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, example = "Nguyễn Văn A")]
    pub full_name: String,
    /// `cccd` (12-digit personal id), `cmnd` (9 digits), `tax_code`, `passport` or `other`.
    #[schema(example = "cccd")]
    pub id_type: String,
    #[schema(example = "004099012345")]
    pub id_number: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[validate(length(max = 500))]
    pub address: Option<String>,
}

/// A document declared with the submission.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
pub struct DeclaredDocument {
    /// The `code` of a required document of the procedure.
    pub requirement_code: String,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub name: String,
    #[validate(range(min = 0, max = 100))]
    pub originals: i32,
    #[validate(range(min = 0, max = 100))]
    pub copies: i32,
}

/// A new case.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateCaseRequest {
    #[schema(example = "1.001193.000.00.00.H14")]
    pub procedure_code: String,
    /// The receiving agency (default: the procedure's first implementing agency).
    pub agency_id: Option<String>,
    /// `counter` or `postal` (officers), `online` (citizens and the national portal).
    pub channel: String,
    #[validate(nested)]
    pub applicant: Person,
    #[validate(nested)]
    pub representative: Option<Person>,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub summary: String,
    /// The e-form data, validated against the procedure's `form_schema` for online submissions.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub form_data: serde_json::Value,
    #[serde(default)]
    #[validate(nested)]
    pub documents: Vec<DeclaredDocument>,
    /// `counter`, `postal` or `online` (how the result is returned; default `counter`).
    pub return_method: Option<String>,
    /// The national portal's id of a forwarded case (integration clients; idempotent).
    pub external_id: Option<String>,
}

/// The parameters of a case action (each action reads the fields it needs).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct CaseActionRequest {
    /// Required by refuse, request_supplement, stop, withdraw and apologize.
    #[validate(length(min = 1, max = 2000))]
    pub reason: Option<String>,
    #[validate(length(max = 2000))]
    pub note: Option<String>,
    /// request_supplement: what to supplement; request_payment: what to pay.
    #[serde(default)]
    #[validate(length(max = 100))]
    pub items: Vec<String>,
    /// request_supplement: working days the applicant has to supplement.
    #[validate(range(min = 1, max = 365))]
    pub deadline_days: Option<u32>,
    /// forward: the workflow step to move to.
    pub to_step: Option<String>,
    /// forward: the officer to assign.
    pub assignee_id: Option<String>,
    /// forward: the agency taking part in the processing (coordination).
    pub agency_id: Option<String>,
    /// confirm_payment: the receipt number.
    #[validate(length(max = 200))]
    pub receipt: Option<String>,
    /// return_result: who received the result.
    #[validate(length(max = 200))]
    pub recipient: Option<String>,
    /// apologize: the new due date.
    pub new_due_at: Option<DateTime<Utc>>,
    /// resolve: the decision and its signer.
    pub summary: Option<String>,
    pub decision_number: Option<String>,
    pub signer: Option<String>,
    /// return_result: how the result was handed over.
    pub method: Option<String>,
}

/// A case.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: String,
    /// Mã số hồ sơ, e.g. `000.20.01.H14-261128-0001`.
    pub code: String,
    pub procedure_code: String,
    pub procedure_version: i32,
    pub procedure_name: String,
    pub agency_id: String,
    pub channel: String,
    /// `local` or `national_portal`.
    pub source: String,
    pub external_id: Option<String>,
    pub applicant: Person,
    pub representative: Option<Person>,
    pub summary: String,
    #[schema(value_type = Object)]
    pub form_data: serde_json::Value,
    pub documents: Vec<DeclaredDocument>,
    pub return_method: String,
    pub status: String,
    /// The national code (1–10).
    pub status_code: u8,
    pub status_label: String,
    pub current_step: Option<String>,
    /// When the current workflow step is due.
    pub step_due_at: Option<DateTime<Utc>>,
    pub assignee_id: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub original_due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    /// `early`, `on_time`, `late` when finished; `within`, `overdue` when pending.
    pub timeliness: Option<String>,
    pub supplement_count: i32,
    /// What the caller may do now.
    pub available_actions: Vec<String>,
    /// Supplement requests, oldest first (single-case responses only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplement_requests: Option<Vec<SupplementRequestView>>,
    /// Requests for fees and charges, oldest first (single-case responses only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payments: Option<Vec<PaymentView>>,
    /// The decision once resolved (single-case responses only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<CaseResultView>,
}

/// A request to supplement the file (Art. 15 of Decree 61).
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplementRequestView {
    pub requested_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub items: Vec<String>,
    /// The deadline given to the applicant, if any.
    pub deadline_at: Option<DateTime<Utc>>,
    /// When the applicant supplied it.
    pub supplied_at: Option<DateTime<Utc>>,
}

/// A request for fees or charges.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub requested_at: DateTime<Utc>,
    pub items: Vec<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub receipt: Option<String>,
}

/// The result of a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseResultView {
    pub resolved_at: DateTime<Utc>,
    pub summary: Option<String>,
    pub decision_number: Option<String>,
    pub signer: Option<String>,
    pub returned_at: Option<DateTime<Utc>>,
    /// How the result was handed over.
    pub method: Option<String>,
    pub recipient: Option<String>,
}

/// One event of the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseEventView {
    pub seq: i32,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub step: Option<String>,
    pub note: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
}

/// The public view of a case: nothing personal (Art. 5.2.d).
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupView {
    pub code: String,
    pub procedure_name: String,
    pub agency_name: String,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub status: String,
    pub status_code: u8,
    pub status_label: String,
    /// `received`, `processing`, `waiting_for_applicant`, `result_ready`, `returned` or `closed`.
    pub completion: String,
}

/// Filters of the case list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseListQuery {
    pub status: Option<String>,
    pub procedure_code: Option<String>,
    pub agency_id: Option<String>,
    pub channel: Option<String>,
    /// `me`: the cases assigned to the caller.
    pub assigned_to: Option<String>,
    /// `true`: pending cases past their due date.
    pub overdue: Option<bool>,
    /// Due before this instant (RFC 3339).
    pub due_before: Option<DateTime<chrono::FixedOffset>>,
    /// Received at or after this instant.
    pub received_from: Option<DateTime<chrono::FixedOffset>>,
    /// Received before this instant.
    pub received_to: Option<DateTime<chrono::FixedOffset>>,
    /// Text search in the case code and the applicant's name (case- and diacritic-insensitive).
    pub q: Option<String>,
}

/// The full view of one case, with what its history says about supplement requests, payments
/// and the result.
fn view(conn: &mut AnyConnection, case: &CaseRow, access: &Access, lang: Lang, state: &AppState) -> Result<CaseView, AppError> {
    let name = state.names.procedure(conn, &case.procedure_code, case.procedure_version)?;
    let mut view = view_named(case, name, access, lang, state)?;
    let (supplements, payments, result) = history_of(&repo::events(conn, &case.id)?);
    view.supplement_requests = Some(supplements);
    view.payments = Some(payments);
    view.result = result;
    Ok(view)
}

/// Supplement requests, payment requests and the result, read from the event history.
fn history_of(events: &[EventRow]) -> (Vec<SupplementRequestView>, Vec<PaymentView>, Option<CaseResultView>) {
    let (mut supplements, mut payments, mut result) =
        (Vec::<SupplementRequestView>::new(), Vec::<PaymentView>::new(), None::<CaseResultView>);
    for event in events {
        match EventDetails::of_column(event.action, event.details.as_deref()) {
            EventDetails::RequestSupplement(d) => supplements.push(SupplementRequestView {
                requested_at: utc(event.at),
                reason: event.note.clone(),
                items: d.items,
                deadline_at: d.supplement_due_at,
                supplied_at: None,
            }),
            EventDetails::RequestPayment(d) => {
                payments.push(PaymentView { requested_at: utc(event.at), items: d.items, confirmed_at: None, receipt: None })
            }
            EventDetails::ConfirmPayment(d) => {
                if let Some(open) = payments.iter_mut().rev().find(|p| p.confirmed_at.is_none()) {
                    open.confirmed_at = Some(utc(event.at));
                    open.receipt = d.receipt;
                }
            }
            EventDetails::Resolve(d) => {
                result = Some(CaseResultView {
                    resolved_at: utc(event.at),
                    summary: d.summary,
                    decision_number: d.decision_number,
                    signer: d.signer,
                    returned_at: None,
                    method: None,
                    recipient: None,
                });
            }
            EventDetails::ReturnResult(d) => {
                if let Some(result) = result.as_mut() {
                    result.returned_at = Some(utc(event.at));
                    result.method = d.method;
                    result.recipient = d.recipient;
                }
            }
            _ if event.action == CaseAction::SubmitSupplement.into() => {
                if let Some(open) = supplements.iter_mut().rev().find(|s| s.supplied_at.is_none()) {
                    open.supplied_at = Some(utc(event.at));
                }
            }
            _ => {}
        }
    }
    (supplements, payments, result)
}

/// The case as the caller sees it, given the name of its pinned procedure version.
fn view_named(case: &CaseRow, procedure_name: String, access: &Access, lang: Lang, state: &AppState) -> Result<CaseView, AppError> {
    let status = case.status;
    let available_actions = cases::actor_of(access)
        .map(|actor| {
            CaseAction::available(status, case.paused_at.is_some(), &actor, state.config.supplement_mode)
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect()
        })
        .unwrap_or_default();
    Ok(CaseView {
        id: case.id.clone(),
        code: case.code.clone(),
        procedure_code: case.procedure_code.clone(),
        procedure_version: case.procedure_version,
        procedure_name,
        agency_id: case.agency_id.clone(),
        channel: case.channel.as_str().to_owned(),
        source: case.source.as_str().to_owned(),
        external_id: case.external_id.clone(),
        applicant: persistence::stored::read::<Party>(&case.applicant)?.into(),
        representative: case.representative.as_deref().map(persistence::stored::read::<Party>).transpose()?.map(Into::into),
        summary: case.summary.clone(),
        form_data: persistence::stored::read(&case.form_data)?,
        documents: persistence::stored::read::<Vec<StoredDocument>>(&case.documents)?.into_iter().map(Into::into).collect(),
        return_method: case.return_method.as_str().to_owned(),
        status: case.status.as_str().to_owned(),
        status_code: status.code(),
        status_label: lang.pick(status.label()).to_owned(),
        current_step: case.current_step.clone(),
        step_due_at: case.step_due_at.map(utc),
        assignee_id: case.assignee_id.clone(),
        submitted_at: utc(case.submitted_at),
        received_at: case.received_at.map(utc),
        due_at: case.due_at.map(utc),
        original_due_at: case.original_due_at.map(utc),
        finished_at: case.finished_at.map(utc),
        returned_at: case.returned_at.map(utc),
        timeliness: cases::timeliness(case, state.now()).map(|t| t.as_str().to_owned()),
        supplement_count: case.supplement_count,
        available_actions,
        supplement_requests: None,
        payments: None,
        result: None,
    })
}

fn check_person(person: &Person, prefix: &str, problems: &mut Vec<InvalidParam>) {
    let mut push = |e: domain::ValidationError| problems.push(InvalidParam { name: format!("{prefix}.{}", e.field), reason: e.reason });
    if let Err(e) = ApplicantKind::parse(&person.kind, "kind") {
        push(e);
    }
    if let Err(e) = IdType::parse(&person.id_type, "id_type").and_then(|kind| kind.check(&person.id_number)) {
        push(e);
    }
    if let Some(Err(e)) = person.phone.as_deref().map(Phone::parse) {
        push(e);
    }
    if let Some(Err(e)) = person.email.as_deref().map(Email::parse) {
        push(e);
    }
}

/// Submit a case: online by a citizen (`submitted`), at the counter or by post by an officer
/// with `reception` (`accepted`, due date set), or forwarded by the national portal through an
/// integration client (idempotent by `external_id`). The code is generated in the database.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    request_body = CreateCaseRequest,
    responses(
        (status = 201, description = "Created", body = CaseView),
        (status = 200, description = "Already forwarded with this `external_id`", body = CaseView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not submit on this channel or for this agency", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, unpublished procedure, channel not accepted, e-form or documents", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases")]
pub async fn create_case(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    body: web::Json<CreateCaseRequest>,
) -> Result<HttpResponse, AppError> {
    let command = submit_command(body.into_inner())?;
    let admitted = cases::submit::admit(&principal, &command)?;
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    // The caller is the case's creator: the owner, the receiving officer, or a portal client.
    let creator_access = cases::list_access(&principal);
    let (tag, code, body, created) = crate::db::write(&state.pool, move |conn| {
        let submitted = cases::submit::submit(conn, &shared, &principal, &meta, admitted, command)?;
        let case = &submitted.case;
        let created = submitted.procedure_name.is_some();
        let body = match submitted.procedure_name {
            // A new case has no history yet: the full view without reading it back.
            Some(name) => {
                let mut view = view_named(case, name, &creator_access, lang, &shared)?;
                (view.supplement_requests, view.payments) = (Some(Vec::new()), Some(Vec::new()));
                view
            }
            None => view(conn, case, &creator_access, lang, &shared)?,
        };
        Ok((cases::etag(case), case.code.clone(), body, created))
    })
    .await?;
    let mut response = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(response.insert_header((LOCATION, format!("/api/v1/cases/{code}"))).insert_header((ETAG, tag)).json(body))
}

/// The command of a submission, every field checked (all field problems reported together).
fn submit_command(body: CreateCaseRequest) -> Result<cases::submit::SubmitCase, AppError> {
    let mut problems = match body.validate() {
        Ok(()) => Vec::new(),
        Err(e) => AppError::from(e).invalid_params,
    };
    check_person(&body.applicant, "applicant", &mut problems);
    if let Some(rep) = &body.representative {
        check_person(rep, "representative", &mut problems);
    }
    let channel = Channel::parse(&body.channel, "channel")?;
    let return_method = Channel::parse(body.return_method.as_deref().unwrap_or("counter"), "return_method");
    if return_method.is_err() {
        problems.push(InvalidParam { name: "return_method".into(), reason: "must be counter, postal or online".into() });
    }
    let (false, Ok(return_method)) = (!problems.is_empty(), return_method) else {
        return Err(AppError::validation(problems));
    };
    Ok(cases::submit::SubmitCase {
        procedure_code: body.procedure_code,
        agency_id: body.agency_id,
        channel,
        applicant: body.applicant.into(),
        representative: body.representative.map(Into::into),
        summary: body.summary,
        form_data: body.form_data,
        documents: body.documents.into_iter().map(Into::into).collect(),
        return_method,
        external_id: body.external_id,
    })
}

/// The parameters of `action` worth keeping with its event (forms 02–05 and the case view read
/// them back).
fn action_details(action: CaseAction, body: &CaseActionRequest) -> EventDetails {
    match action {
        CaseAction::RequestSupplement => EventDetails::RequestSupplement(stored::SupplementRequest {
            items: body.items.clone(),
            deadline_days: body.deadline_days,
            supplement_due_at: None,
        }),
        CaseAction::RequestPayment => EventDetails::RequestPayment(stored::PaymentRequest { items: body.items.clone() }),
        CaseAction::ConfirmPayment => EventDetails::ConfirmPayment(stored::PaymentReceipt { receipt: body.receipt.clone() }),
        CaseAction::Forward => {
            EventDetails::Forward(stored::Assignment { assignee_id: body.assignee_id.clone(), agency_id: body.agency_id.clone() })
        }
        CaseAction::Apologize => EventDetails::Apologize(stored::Apology { new_due_at: body.new_due_at }),
        CaseAction::Resolve => EventDetails::Resolve(stored::Decision {
            summary: body.summary.clone(),
            decision_number: body.decision_number.clone(),
            signer: body.signer.clone(),
        }),
        CaseAction::ReturnResult => {
            EventDetails::ReturnResult(stored::HandOver { method: body.method.clone(), recipient: body.recipient.clone() })
        }
        _ => EventDetails::None,
    }
}

/// One case: the owner, staff of its agency subtree, supervisors and system administrators.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Case code")),
    responses(
        (status = 200, description = "The case", body = CaseView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases/{code}")]
pub async fn get_case(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    let (tag, body) = crate::db::run(&state.pool, move |conn| {
        let (case, access) = case_in_scope(conn, &principal, &code)?;
        Ok((cases::etag(&case), view(conn, &case, &access, lang, &shared)?))
    })
    .await?;
    if crate::http::not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified().insert_header((ETAG, tag)).finish());
    }
    Ok(HttpResponse::Ok().insert_header((ETAG, tag)).json(body))
}

/// Cases in the caller's scope (staff: the agency subtree; citizens: their own).
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(CaseListQuery, PageQuery),
    responses(
        (status = 200, description = "A page of cases", body = Paged<CaseView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Integration clients without `cases.read`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases")]
pub async fn list_cases(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: web::Query<CaseListQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<CaseView>>, AppError> {
    cases_page(state, req, principal, query.into_inner(), page.into_inner()).await
}

async fn cases_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: CaseListQuery,
    page: PageQuery,
) -> Result<web::Json<Paged<CaseView>>, AppError> {
    let (limit, after) = page.resolve()?;
    let mut filter = CaseFilter {
        status: query.status.as_deref().map(|s| CaseStatus::parse(s, "status")).transpose()?,
        procedure_code: query.procedure_code,
        agency_id: query.agency_id,
        channel: query.channel.as_deref().map(|c| Channel::parse(c, "channel")).transpose()?,
        overdue_at: query.overdue.filter(|o| *o).map(|_| state.now()),
        due_before: query.due_before.map(|t| t.naive_utc()),
        received_from: query.received_from.map(|t| t.naive_utc()),
        received_to: query.received_to.map(|t| t.naive_utc()),
        search_like: query.q.as_deref().filter(|q| !q.trim().is_empty()).map(domain::text::like_contains),
        after,
        limit,
        ..CaseFilter::default()
    };
    match query.assigned_to.as_deref() {
        None => {}
        Some("me") => filter.assignee_id = Some(principal.user_id.clone()),
        Some(_) => return Err(AppError::invalid("assigned_to", "only `me` is supported")),
    }
    match principal.role {
        Role::Citizen => filter.owner_id = Some(principal.user_id.clone()),
        Role::Officer | Role::AgencyAdmin => filter.under_path = Some(principal.agency_path.clone().unwrap_or_else(|| "/none/".into())),
        Role::SystemAdmin | Role::Supervisor => {}
        Role::Integration if principal.capabilities.iter().any(|c| c == IntegrationScope::CasesRead.as_str()) => {
            filter.source = Some(domain::case::intake::CaseSource::NationalPortal);
        }
        Role::Integration => return Err(AppError::forbidden()),
    }
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    let (items, next) = crate::db::run(&state.pool, move |conn| {
        let page = repo::list(conn, &filter)?;
        // The query already scoped the page to the caller; what remains per case is the
        // caller's kind of access and the names of the pinned procedure versions.
        let access = cases::list_access(&principal);
        let mut items = Vec::with_capacity(page.items.len());
        for case in &page.items {
            let name = shared.names.procedure(conn, &case.procedure_code, case.procedure_version)?;
            items.push(view_named(case, name, &access, lang, &shared)?);
        }
        Ok((items, page.next_after))
    })
    .await?;
    Ok(web::Json(Paged { items, next_cursor: next.as_deref().map(crate::pagination::encode_cursor) }))
}

/// The caller's own cases (citizens).
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's cases", body = Paged<CaseView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a citizen", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/cases")]
pub async fn list_my_cases(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<CaseView>>, AppError> {
    principal.require(&[Role::Citizen])?;
    let query = CaseListQuery {
        status: None,
        procedure_code: None,
        agency_id: None,
        channel: None,
        assigned_to: None,
        overdue: None,
        due_before: None,
        received_from: None,
        received_to: None,
        q: None,
    };
    cases_page(state, req, principal, query, page.into_inner()).await
}

/// Take an action on a case: the only way to change one. Invalid transitions answer 409 with
/// the actions allowed; `If-Match` is honoured; every action appends an event and an audit
/// entry in the same transaction.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Case code"), ("action" = String, Path, description = "accept, refuse, request_supplement, submit_supplement, forward, send_back, request_payment, confirm_payment, apologize, stop, withdraw, resolve, return_result")),
    request_body(content = CaseActionRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The case after the action", body = CaseView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not take this action", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown case or action, or outside scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition` (with `allowed_actions`) or `result_required`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A reason or parameter is missing or invalid", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{code}/actions/{action}")]
pub async fn case_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: Option<web::Json<CaseActionRequest>>,
) -> Result<HttpResponse, AppError> {
    let (code, action) = path.into_inner();
    let action = CaseAction::parse(&action, "action").map_err(|_| AppError::not_found())?;
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    body.validate()?;
    if action.requires_reason() && body.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(AppError::invalid("reason", format!("is required to {}", action.as_str())));
    }
    let command = cases::act::ActOnCase {
        code,
        action,
        params: ActionParams {
            items: body.items.clone(),
            deadline_days: body.deadline_days,
            to_step: body.to_step.clone(),
            new_due_at: body.new_due_at,
        },
        note: body.reason.clone().or(body.note.clone()).or(body.summary.clone()),
        assignee_id: body.assignee_id.clone(),
        details: action_details(action, &body),
        expected_tag: crate::http::if_match_header(&req),
    };
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    let (tag, view_body) = crate::db::write(&state.pool, move |conn| {
        let acted = cases::act::act(conn, &shared, &principal, &meta, command)?;
        Ok((cases::etag(&acted.case), view(conn, &acted.case, &acted.access, lang, &shared)?))
    })
    .await?;
    state.lookups.forget(&view_body.code);
    Ok(HttpResponse::Ok().insert_header((ETAG, tag)).json(view_body))
}

/// The history of a case, oldest first (Art. 6.1.b).
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Case code")),
    responses(
        (status = 200, description = "The events", body = Vec<CaseEventView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases/{code}/events")]
pub async fn list_case_events(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
) -> Result<web::Json<Vec<CaseEventView>>, AppError> {
    let code = code.into_inner();
    let events = crate::db::run(&state.pool, move |conn| {
        let (case, _) = case_in_scope(conn, &principal, &code)?;
        let mut out = Vec::new();
        for event in repo::events(conn, &case.id)? {
            let actor_name = match &event.actor_id {
                Some(id) => persistence::repo::users::find(conn, id)?.map(|u| u.full_name),
                None => None,
            };
            out.push(CaseEventView {
                seq: event.seq,
                at: utc(event.at),
                actor_id: event.actor_id,
                actor_name,
                action: event.action.into(),
                from_status: event.from_status.map(Into::into),
                to_status: event.to_status.into(),
                step: event.step,
                note: event.note,
                due_at: event.due_at.map(utc),
            });
        }
        Ok(out)
    })
    .await?;
    Ok(web::Json(events))
}

// Served by `server.rs` from a scope with a fixed prefix (`lookup_entry` there), not through a
// `{code}` route: actix matches such a route with a regular expression, which cost the busiest
// public endpoint a sixth of its CPU.
/// Public lookup by case code: the minimal projection, nothing personal; rate limited.
#[utoipa::path(
    get,
    path = "/api/v1/lookup/cases/{code}",
    tag = "cases",
    security(()),
    params(("code" = String, Path, description = "Case code")),
    responses(
        (status = 200, description = "The public status", body = LookupView),
        (status = 404, description = "Unknown code", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn lookup_case(state: web::Data<AppState>, req: HttpRequest, code: String) -> Result<HttpResponse, AppError> {
    let client = client_addr(&req, state.config.trust_proxy);
    state.limit("lookup", &client, state.config.lookup_rate_per_minute, Duration::from_secs(60)).await?;
    let lang = Lang::of(&req);
    let cached = match state.lookups.get(&code, lang) {
        Some(cached) => cached,
        None => {
            let answer = match CaseCode::parse(&code) {
                Ok(parsed) => lookup_view(&state, parsed, lang).await?,
                Err(_) => None,
            };
            let cached = match answer {
                Some(view) => {
                    crate::lookup_cache::Cached { status: 200, body: serde_json::to_vec(&view).map_err(AppError::internal)?.into() }
                }
                None => crate::lookup_cache::Cached { status: 404, body: actix_web::web::Bytes::new() },
            };
            state.lookups.put(&code, lang, cached.clone());
            cached
        }
    };
    if cached.status == 404 {
        return Err(AppError::not_found());
    }
    Ok(HttpResponse::Ok().content_type("application/json").body(cached.body))
}

async fn lookup_view(state: &AppState, code: CaseCode, lang: Lang) -> Result<Option<LookupView>, AppError> {
    if let Some(batch) = &state.lookup_batch {
        return batch.lookup(code.as_str().to_owned()).await?.map(|found| public_view(found, lang)).transpose();
    }
    let names = state.names.clone();
    crate::db::read(&state.pool, state.backend, move |conn| {
        let Some(row) = repo::lookup(conn, code.as_str())? else { return Ok(None) };
        let procedure_name = names.procedure(conn, &row.procedure_code, row.procedure_version)?;
        let agency_name = names.agency(conn, &row.agency_id)?;
        public_view(crate::lookup_batch::Found { row, procedure_name, agency_name }, lang).map(Some)
    })
    .await
}

/// The public projection of a found case (nothing personal).
fn public_view(found: crate::lookup_batch::Found, lang: Lang) -> Result<LookupView, AppError> {
    let status = CaseStatus::parse(&found.row.status, "status").map_err(AppError::internal)?;
    Ok(LookupView {
        code: found.row.code,
        procedure_name: found.procedure_name,
        agency_name: found.agency_name,
        received_at: found.row.received_at.map(utc),
        due_at: found.row.due_at.map(utc),
        status: status.as_str().to_owned(),
        status_code: status.code(),
        status_label: lang.pick(status.label()).to_owned(),
        completion: status.completion().to_owned(),
    })
}

/// The multipart upload of a case document.
#[derive(Debug, actix_multipart::form::MultipartForm)]
pub struct DocumentUpload {
    pub file: actix_multipart::form::bytes::Bytes,
    pub kind: actix_multipart::form::text::Text<String>,
    pub requirement_code: Option<actix_multipart::form::text::Text<String>>,
    pub name: Option<actix_multipart::form::text::Text<String>>,
}

/// The multipart fields of a case document upload (for the OpenAPI document).
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "describes the multipart body; the handler reads `DocumentUpload`")]
pub struct DocumentUploadSchema {
    /// PDF, PNG, JPEG, Word, Excel or OpenDocument (checked against its bytes).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `application`, `supplement` or `result` (results: staff with processing, approval or result_return).
    kind: String,
    /// The procedure's required document this file is.
    requirement_code: Option<String>,
    /// A display name (default: the file name).
    name: Option<String>,
}

/// A file of a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub kind: String,
    pub requirement_code: Option<String>,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub download_url: String,
    pub created_at: DateTime<Utc>,
}

fn document_view(code: &str, row: persistence::repo::cases::DocumentRow) -> DocumentView {
    DocumentView {
        download_url: format!("/api/v1/cases/{code}/documents/{}/content", row.id),
        id: row.id,
        kind: row.kind,
        requirement_code: row.requirement_code,
        name: row.name,
        content_type: row.content_type,
        size: row.size_bytes,
        sha256: row.sha256,
        created_at: utc(row.created_at),
    }
}

/// Upload a file to a case: the applicant adds application and supplement documents while the
/// case is open; staff in scope add any, results only with processing, approval or
/// result_return. Stored by content hash; the type is decided from the bytes.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Case code")),
    request_body(content = DocumentUploadSchema, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = DocumentView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not add this kind of document", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown case, or outside scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The case is closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a format we accept (executables never are)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid kind or requirement code", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{code}/documents")]
pub async fn upload_case_document(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    code: web::Path<String>,
    form: actix_multipart::form::MultipartForm<DocumentUpload>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    let upload = form.into_inner();
    let kind = DocumentKind::parse(&upload.kind.into_inner(), "kind")
        .map_err(|_| AppError::invalid("kind", "must be application, supplement or result"))?;
    let file_name = upload.file.file_name.clone();
    let checked = crate::uploads::check(
        &upload.file.data,
        state.config.upload_limit,
        upload.name.map(|t| t.into_inner()),
        file_name.as_deref(),
        "tai-lieu",
    )?;
    let file = cases::documents::AddDocument {
        code,
        kind,
        requirement_code: upload.requirement_code.map(|t| t.into_inner()).filter(|c| !c.trim().is_empty()),
        name: checked.name,
        content_type: checked.content_type,
        bytes: upload.file.data.into(),
    };
    let shared = state.get_ref().clone();
    let row = crate::db::write(&state.pool, move |conn| cases::documents::add(conn, &shared, &principal, &meta, file)).await?;
    let view = document_view(&row.0, row.1);
    Ok(HttpResponse::Created().insert_header((LOCATION, view.download_url.clone())).json(view))
}

/// The files of a case.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Case code")),
    responses(
        (status = 200, description = "The files", body = Vec<DocumentView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown case, or outside scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases/{code}/documents")]
pub async fn list_case_documents(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
) -> Result<web::Json<Vec<DocumentView>>, AppError> {
    let code = code.into_inner();
    let views = crate::db::run(&state.pool, move |conn| {
        let (case, _) = case_in_scope(conn, &principal, &code)?;
        Ok(repo::documents(conn, &case.id)?.into_iter().map(|row| document_view(&case.code, row)).collect())
    })
    .await?;
    Ok(web::Json(views))
}

/// Download a file of a case with its stored content type.
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Case code"), ("id" = String, Path, description = "Document id")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or outside scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/cases/{code}/documents/{id}/content")]
pub async fn download_case_document(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (code, id) = path.into_inner();
    let row = crate::db::run(&state.pool, move |conn| {
        let (case, _) = case_in_scope(conn, &principal, &code)?;
        repo::documents(conn, &case.id)?.into_iter().find(|d| d.id == id).ok_or_else(AppError::not_found)
    })
    .await?;
    crate::uploads::download(&state.files, &row.sha256, &row.content_type, &row.name, &row.id).await
}

/// The applicant's rating of the service.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
pub struct RatingRequest {
    /// `very_satisfied`, `satisfied` or `unsatisfied`.
    pub satisfaction: String,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// A stored rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    pub case_code: String,
    pub satisfaction: String,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Rate a returned case (its applicant, once).
#[utoipa::path(
    tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Case code")),
    request_body = RatingRequest,
    responses(
        (status = 201, description = "Recorded", body = RatingView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the applicant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown case, or outside scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not returned yet, or already rated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid satisfaction or comment", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/cases/{code}/rating")]
pub async fn rate_case(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    code: web::Path<String>,
    body: web::Json<RatingRequest>,
) -> Result<HttpResponse, AppError> {
    body.validate()?;
    let body = body.into_inner();
    let satisfaction = Satisfaction::parse(&body.satisfaction, "satisfaction")
        .map_err(|_| AppError::invalid("satisfaction", "must be very_satisfied, satisfied or unsatisfied"))?;
    let rating = cases::rating::RateCase { code: code.into_inner(), satisfaction, comment: body.comment };
    let shared = state.get_ref().clone();
    let (code, row) = crate::db::write(&state.pool, move |conn| cases::rating::rate(conn, &shared, &principal, &meta, rating)).await?;
    let view = RatingView { case_code: code, satisfaction: row.satisfaction, comment: row.comment, created_at: utc(row.created_at) };
    Ok(HttpResponse::Created().json(view))
}

crate::views::mirror!(Person, Party { kind, full_name, id_type, id_number, phone, email, address });
crate::views::mirror!(DeclaredDocument, StoredDocument { requirement_code, name, originals, copies });
