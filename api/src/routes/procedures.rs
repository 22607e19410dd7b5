//! The procedure catalogue (api.md §3.3): browsing and search, versions, the publication
//! lifecycle of Art. 9–10, and electronic workflows of Art. 11.

use actix_web::http::header::ETAG;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use domain::procedure::{OnlineLevel, ProcedureCode, PublicationAction, PublicationStatus, WorkflowStep};
use domain::{AgencyLevel, Capability, Role};
use persistence::AnyConnection;
use persistence::repo::procedures::{self as repo, ProcedureFilter, VersionRow};
use persistence::repo::{agencies, workflows};
use persistence::stored::procedure as stored;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::procedures;
use crate::auditing::{self, Change};
use crate::auth::principal::MaybePrincipal;
use crate::auth::{Principal, RequestMeta};
use crate::error::{AppError, Problem};
use crate::i18n::Lang;
use crate::pagination::{PageQuery, Paged};
use crate::state::AppState;
use crate::views::utc;

/// A field (lĩnh vực) of the sector classification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FieldRef {
    #[schema(min_length = 1, max_length = 50, example = "G09-HT")]
    pub code: String,
    #[schema(min_length = 1, max_length = 300, example = "Hộ tịch")]
    pub name: String,
}

/// A duration with its unit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct TimeSpec {
    #[schema(minimum = 0, maximum = 20800, example = 5)]
    pub value: i64,
    /// `working_day`, `calendar_day` or `working_hour`.
    #[schema(example = "working_day")]
    pub unit: TimeUnitName,
}

/// The unit of a processing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnitName {
    WorkingDay,
    CalendarDay,
    WorkingHour,
}

/// A fee or charge (phí, lệ phí), in VND.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Fee {
    pub code: Option<String>,
    #[schema(minimum = 0, example = 8000)]
    pub amount: i64,
    #[schema(min_length = 1, max_length = 1000, example = "Lệ phí đăng ký khai sinh")]
    pub description: String,
}

/// A document the applicant submits (thành phần hồ sơ).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequiredDocument {
    #[schema(min_length = 1, max_length = 50, example = "TK01")]
    pub code: String,
    #[schema(min_length = 1, max_length = 1000, example = "Tờ khai đăng ký khai sinh")]
    pub name: String,
    #[schema(minimum = 0, maximum = 100)]
    pub originals: i32,
    #[schema(minimum = 0, maximum = 100)]
    pub copies: i32,
    pub mandatory: bool,
}

/// The result of the procedure (kết quả thực hiện).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResultSpec {
    pub code: Option<String>,
    pub name: Option<String>,
    /// `false` for procedures that end without a result document.
    pub has_result: bool,
}

/// A legal basis (căn cứ pháp lý).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LegalBasis {
    #[schema(min_length = 1, max_length = 100, example = "123/2015/NĐ-CP")]
    pub number: String,
    #[schema(min_length = 1, max_length = 1000)]
    pub title: String,
}

/// The content of a procedure version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProcedureContent {
    /// The national root code, e.g. `1.001193`.
    pub national_code: Option<String>,
    #[schema(min_length = 1, max_length = 500, example = "Đăng ký khai sinh")]
    pub name: String,
    /// The sector (ngành), e.g. `Tư pháp`.
    #[schema(min_length = 1, max_length = 200)]
    pub sector: String,
    pub field: FieldRef,
    /// Implementing levels: `province`, `department`, `district`, `commune`, `unit`.
    pub levels: Vec<String>,
    /// Agencies that implement the procedure.
    pub agency_ids: Vec<String>,
    /// `full`, `partial` or `info` (the legacy levels `4`, `3`, `2` are accepted and mapped).
    #[schema(example = "full")]
    pub online_level: String,
    /// Channels accepted: `counter`, `online`, `postal` (default: all, without `online` for `info`).
    #[serde(default)]
    pub channels: Vec<String>,
    pub processing_time: TimeSpec,
    /// A separate processing time for online submissions.
    pub online_processing_time: Option<TimeSpec>,
    /// Receipts at or after this time (`HH:MM`) count from the next working day.
    #[schema(example = "15:00")]
    pub cutoff_time: Option<String>,
    #[serde(default)]
    pub fees: Vec<Fee>,
    #[serde(default)]
    pub required_documents: Vec<RequiredDocument>,
    pub result: ResultSpec,
    #[serde(default)]
    pub legal_basis: Vec<LegalBasis>,
    /// JSON Schema of the interactive e-form that online submissions are validated against.
    #[schema(value_type = Option<Object>)]
    pub form_schema: Option<serde_json::Value>,
    /// When this version takes effect (default: today).
    #[schema(value_type = Option<String>, format = Date)]
    pub effective_from: Option<NaiveDate>,
}

/// A new procedure.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateProcedureRequest {
    /// The local code, e.g. `1.001193.000.00.00.H14`.
    #[schema(example = "1.001193.000.00.00.H14")]
    pub code: String,
    #[serde(flatten)]
    pub content: ProcedureContent,
}

/// Where a version came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    /// `local` or `national_catalog`.
    pub system: String,
    pub source_version: Option<String>,
    pub synced_at: Option<DateTime<Utc>>,
}

/// A procedure version as served.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureView {
    pub code: String,
    #[serde(flatten)]
    pub content: ProcedureContent,
    pub online_level_label: String,
    /// The legacy level (4 full, 3 partial, 2 information).
    pub online_level_legacy: u8,
    pub status: String,
    pub status_label: String,
    pub version: i32,
    /// Whether this is the version the portal serves.
    pub current: bool,
    /// The publication decision (số quyết định công bố).
    pub decision_ref: Option<String>,
    pub source: SourceView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of the version history.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    pub version: i32,
    pub status: String,
    #[schema(value_type = String, format = Date)]
    pub effective_from: NaiveDate,
    pub current: bool,
    pub latest: bool,
    pub name: String,
    pub decision_ref: Option<String>,
    pub source: SourceView,
    pub created_at: DateTime<Utc>,
}

/// Filters of the catalogue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProcedureListQuery {
    /// Text search in name, code and field (case- and diacritic-insensitive).
    pub q: Option<String>,
    pub sector: Option<String>,
    /// Field code.
    pub field: Option<String>,
    /// Implementing level.
    pub level: Option<String>,
    pub agency_id: Option<String>,
    /// `full`, `partial`, `info` (or 4, 3, 2).
    pub online_level: Option<String>,
    /// A non-published status (staff only): lists the latest versions in that status.
    pub status: Option<String>,
}

/// Which version to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A specific version (staff, or any version that was published).
    pub version: Option<i32>,
}

/// The body of a publication action.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
pub struct PublicationRequest {
    /// The publication decision (required by `publish`), e.g. `123/QĐ-UBND`.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, example = "1234/QĐ-UBND")]
    pub decision_ref: Option<String>,
}

fn etag(row: &VersionRow) -> String {
    format!("\"{}-{}-{}\"", row.version, row.status, &row.content_hash[..16.min(row.content_hash.len())])
}

fn view(row: &VersionRow, lang: Lang) -> Result<ProcedureView, AppError> {
    let content = ProcedureContent::from(procedures::content_of(row)?);
    let level = OnlineLevel::parse(&row.online_level, "online_level").map_err(AppError::internal)?;
    let status = PublicationStatus::parse(&row.status, "status").map_err(AppError::internal)?;
    Ok(ProcedureView {
        code: row.procedure_code.clone(),
        content,
        online_level_label: lang.pick(level.label()).to_owned(),
        online_level_legacy: level.legacy(),
        status: row.status.clone(),
        status_label: lang.pick(status.label()).to_owned(),
        version: row.version,
        current: row.is_current,
        decision_ref: row.decision_ref.clone(),
        source: source_of(row),
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    })
}

fn source_of(row: &VersionRow) -> SourceView {
    SourceView { system: row.source_system.clone(), source_version: row.source_version.clone(), synced_at: row.synced_at.map(utc) }
}

fn today(state: &AppState) -> NaiveDate {
    state.clock.now().with_timezone(&domain::time::VN).date_naive()
}

/// Checks that every agency exists (422) and, for agency administrators, lies in their subtree (403).
fn check_agencies(conn: &mut AnyConnection, principal: &Principal, ids: &[String]) -> Result<(), AppError> {
    if principal.role == Role::AgencyAdmin && ids.is_empty() {
        return Err(AppError::invalid("agency_ids", "name at least one agency of yours"));
    }
    for id in ids {
        let agency = agencies::find(conn, id)?.ok_or_else(|| AppError::invalid("agency_ids", format!("no agency `{id}`")))?;
        if !principal.covers_path(&agency.path) && principal.role != Role::SystemAdmin {
            return Err(AppError::forbidden().with_detail("Cơ quan nằm ngoài phạm vi quản lý của bạn.", "An agency is outside your scope."));
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct VersionAudit<'a> {
    version: i32,
    status: &'a str,
    content_hash: &'a str,
}

/// The catalogue: published procedures (or, for staff, the latest versions in a status).
#[utoipa::path(
    tag = "procedures",
    security(()),
    params(ProcedureListQuery, PageQuery),
    responses(
        (status = 200, description = "A page of procedures", body = Paged<ProcedureView>),
        (status = 403, description = "Non-published statuses are for staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/procedures")]
pub async fn list_procedures(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: MaybePrincipal,
    query: web::Query<ProcedureListQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<ProcedureView>>, AppError> {
    let (limit, after) = page.resolve()?;
    let query = query.into_inner();
    let status = match query.status.as_deref().map(|s| PublicationStatus::parse(s, "status")).transpose()? {
        None | Some(PublicationStatus::Published) => None,
        Some(_) if !principal.is_staff() => {
            return Err(
                AppError::forbidden().with_detail("Chỉ cán bộ xem được thủ tục chưa công bố.", "Only staff see unpublished procedures.")
            );
        }
        Some(other) => Some(other.as_str().to_owned()),
    };
    let filter = ProcedureFilter {
        status,
        search_like: query.q.as_deref().filter(|q| !q.trim().is_empty()).map(domain::text::like_contains),
        search_prefilter: query.q.as_deref().and_then(domain::text::like_prefilter),
        sector: query.sector,
        field_code: query.field,
        level: query.level.as_deref().map(|l| AgencyLevel::parse(l, "level")).transpose()?.map(|l| l.as_str().to_owned()),
        agency_id: query.agency_id,
        online_level: query.online_level.as_deref().map(OnlineLevel::parse_with_legacy).transpose()?.map(|l| l.as_str().to_owned()),
        after,
        limit,
    };
    let lang = Lang::of(&req);
    let page = crate::db::run(&state.pool, move |conn| Ok(repo::list(conn, &filter)?)).await?;
    let items = page.items.iter().map(|row| view(row, lang)).collect::<Result<Vec<_>, _>>()?;
    Ok(web::Json(Paged { items, next_cursor: page.next_after.as_deref().map(crate::pagination::encode_cursor) }))
}

/// One procedure: the published version, a given `version`, or (for staff, when nothing is
/// published) the latest. Answers `ETag`; `If-None-Match` gives 304.
#[utoipa::path(
    tag = "procedures",
    security(()),
    params(("code" = String, Path, description = "Procedure code"), VersionQuery),
    responses(
        (status = 200, description = "The procedure", body = ProcedureView),
        (status = 304, description = "Not modified"),
        (status = 404, description = "Unknown, or not published", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/procedures/{code}")]
pub async fn get_procedure(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: MaybePrincipal,
    code: web::Path<String>,
    query: web::Query<VersionQuery>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    let staff = principal.is_staff();
    let wanted = query.version;
    let row = crate::db::run(&state.pool, move |conn| {
        let row = match wanted {
            Some(v) => repo::version(conn, &code, v)?.filter(|r| staff || r.is_current || r.decision_ref.is_some()),
            None => match repo::current(conn, &code)? {
                Some(row) => Some(row),
                None if staff => repo::latest(conn, &code)?,
                None => None,
            },
        };
        row.ok_or_else(AppError::not_found)
    })
    .await?;
    let tag = etag(&row);
    if crate::http::not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified().insert_header((ETAG, tag)).finish());
    }
    Ok(HttpResponse::Ok().insert_header((ETAG, tag)).json(view(&row, Lang::of(&req))?))
}

/// Create a procedure (a draft, version 1).
#[utoipa::path(
    tag = "procedures",
    security(("bearer" = [])),
    request_body = CreateProcedureRequest,
    responses(
        (status = 201, description = "Created", body = ProcedureView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator, or an agency outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code already used", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/procedures")]
pub async fn create_procedure(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    body: web::Json<CreateProcedureRequest>,
) -> Result<HttpResponse, AppError> {
    principal.require(&[Role::SystemAdmin, Role::AgencyAdmin])?;
    let CreateProcedureRequest { code, content } = body.into_inner();
    let code = ProcedureCode::parse(&code, "code")?;
    let mut content = stored::ProcedureContent::from(content);
    procedures::normalise(&mut content, today(&state))?;
    let new = procedures::new_version(code.as_str(), &content, Some(principal.user_id.clone()), ("local", None, None))?;
    let national = content.national_code.clone();
    let row = crate::db::write(&state.pool, move |conn| {
        check_agencies(conn, &principal, &new.agency_ids)?;
        let row = repo::create(conn, code.as_str(), national, new)?;
        auditing::record(
            conn,
            &meta,
            Change::<(), _> {
                actor_id: Some(&principal.user_id),
                action: "procedure.create",
                entity_type: "procedure",
                entity_id: &row.procedure_code,
                before: None,
                after: Some(&VersionAudit { version: row.version, status: &row.status, content_hash: &row.content_hash }),
            },
        )?;
        Ok(row)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, format!("/api/v1/procedures/{}", row.procedure_code)))
        .insert_header((ETAG, etag(&row)))
        .json(view(&row, Lang::of(&req))?))
}

/// Amend a procedure: a new draft version, which runs the publication lifecycle again while
/// the published version keeps serving. Honours `If-Match` (the latest version's `ETag`).
#[utoipa::path(
    tag = "procedures",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code")),
    request_body = ProcedureContent,
    responses(
        (status = 200, description = "The new version", body = ProcedureView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator, or an agency outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown procedure", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The procedure is abolished", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/procedures/{code}")]
pub async fn update_procedure(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    code: web::Path<String>,
    body: web::Json<ProcedureContent>,
) -> Result<HttpResponse, AppError> {
    principal.require(&[Role::SystemAdmin, Role::AgencyAdmin])?;
    let code = code.into_inner();
    let content = body.into_inner();
    let mut content = stored::ProcedureContent::from(content);
    procedures::normalise(&mut content, today(&state))?;
    let new = procedures::new_version(&code, &content, Some(principal.user_id.clone()), ("local", None, None))?;
    let expected = crate::http::if_match_header(&req);
    let row = crate::db::write(&state.pool, move |conn| {
        let header = repo::find_for_update(conn, &code)?.ok_or_else(AppError::not_found)?;
        let latest = repo::latest(conn, &code)?.ok_or_else(AppError::not_found)?;
        crate::app::check_if_match(expected.as_deref(), &etag(&latest))?;
        if header.abolished {
            return Err(AppError::invalid_transition(Vec::new()).with_detail("Thủ tục đã bị bãi bỏ.", "The procedure is abolished."));
        }
        check_agencies(conn, &principal, &new.agency_ids)?;
        let row = repo::add_version(conn, &code, new)?;
        auditing::record(
            conn,
            &meta,
            Change {
                actor_id: Some(&principal.user_id),
                action: "procedure.amend",
                entity_type: "procedure",
                entity_id: &code,
                before: Some(&VersionAudit { version: latest.version, status: &latest.status, content_hash: &latest.content_hash }),
                after: Some(&VersionAudit { version: row.version, status: &row.status, content_hash: &row.content_hash }),
            },
        )?;
        Ok(row)
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header((ETAG, etag(&row))).json(view(&row, Lang::of(&req))?))
}

/// The version history (staff).
#[utoipa::path(
    tag = "procedures",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code")),
    responses(
        (status = 200, description = "Every version, oldest first", body = Vec<VersionSummary>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown procedure", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/procedures/{code}/versions")]
pub async fn list_procedure_versions(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
) -> Result<web::Json<Vec<VersionSummary>>, AppError> {
    if !principal.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let code = code.into_inner();
    let rows = crate::db::run(&state.pool, move |conn| {
        let rows = repo::versions(conn, &code)?;
        if rows.is_empty() { Err(AppError::not_found()) } else { Ok(rows) }
    })
    .await?;
    Ok(web::Json(
        rows.iter()
            .map(|r| VersionSummary {
                version: r.version,
                status: r.status.clone(),
                effective_from: r.effective_from,
                current: r.is_current,
                latest: r.is_latest,
                name: r.name.clone(),
                decision_ref: r.decision_ref.clone(),
                source: source_of(r),
                created_at: utc(r.created_at),
            })
            .collect(),
    ))
}

/// Take a publication step on the latest version (Art. 9–10): `propose` (agency
/// administrator), `review` (supervisor), `verify`, `publish` (with `decision_ref`), `withdraw`,
/// `abolish` (system administrator). Honours `If-Match`.
#[utoipa::path(
    tag = "procedures",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code"), ("action" = String, Path, description = "propose, review, verify, publish, withdraw or abolish")),
    request_body(content = PublicationRequest, description = "`decision_ref` for publish", content_type = "application/json"),
    responses(
        (status = 200, description = "The version after the step", body = ProcedureView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's role may not take this step", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown procedure or action", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The step does not apply now; `allowed_actions` lists those that do", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` is stale", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`decision_ref` missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/procedures/{code}/publication/{action}")]
pub async fn publication_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: Option<web::Json<PublicationRequest>>,
) -> Result<HttpResponse, AppError> {
    let (code, action) = path.into_inner();
    let action = PublicationAction::parse(&action, "action").map_err(|_| AppError::not_found())?;
    if !action.roles().contains(&principal.role) {
        return Err(AppError::forbidden());
    }
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    body.validate()?;
    let decision_ref = body.decision_ref.map(|d| d.trim().to_owned());
    if action == PublicationAction::Publish && decision_ref.is_none() {
        return Err(AppError::invalid("decision_ref", "is required to publish"));
    }
    let expected = crate::http::if_match_header(&req);
    let row = crate::db::write(&state.pool, move |conn| {
        repo::find_for_update(conn, &code)?.ok_or_else(AppError::not_found)?;
        let latest = repo::latest(conn, &code)?.ok_or_else(AppError::not_found)?;
        if !procedures::implemented_in_scope(conn, &principal, &latest)? {
            return Err(AppError::not_found());
        }
        crate::app::check_if_match(expected.as_deref(), &etag(&latest))?;
        let status = PublicationStatus::parse(&latest.status, "status").map_err(AppError::internal)?;
        let Some(target) = action.target(status) else {
            let allowed = PublicationAction::available(status, principal.role).iter().map(|a| a.as_str().to_owned()).collect();
            return Err(AppError::invalid_transition(allowed));
        };
        let serve = match action {
            PublicationAction::Publish => Some(true),
            PublicationAction::Withdraw | PublicationAction::Abolish => Some(false),
            _ => None,
        };
        repo::set_status(conn, &code, latest.version, target.as_str(), decision_ref.as_deref(), serve)?;
        let after = repo::version(conn, &code, latest.version)?.ok_or_else(AppError::not_found)?;
        auditing::record(
            conn,
            &meta,
            Change {
                actor_id: Some(&principal.user_id),
                action: &format!("procedure.{}", action.as_str()),
                entity_type: "procedure",
                entity_id: &code,
                before: Some(&VersionAudit { version: latest.version, status: &latest.status, content_hash: &latest.content_hash }),
                after: Some(&VersionAudit { version: after.version, status: &after.status, content_hash: &after.content_hash }),
            },
        )?;
        Ok(after)
    })
    .await?;
    Ok(HttpResponse::Ok().insert_header((ETAG, etag(&row))).json(view(&row, Lang::of(&req))?))
}

/// A step of an electronic workflow.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkflowStepDto {
    #[schema(example = "tiep_nhan")]
    pub key: String,
    #[schema(example = "Tiếp nhận hồ sơ")]
    pub name: String,
    /// `reception`, `processing`, `approval` or `result_return`.
    pub capability: String,
    pub agency_id: Option<String>,
    #[schema(minimum = 0)]
    pub duration_hours: i64,
}

/// A workflow to store.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PutWorkflowRequest {
    /// The agency the workflow applies to; absent for the procedure-wide workflow.
    pub agency_id: Option<String>,
    pub steps: Vec<WorkflowStepDto>,
}

/// The workflow of a procedure (and agency).
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowView {
    pub procedure_code: String,
    pub agency_id: Option<String>,
    /// 0 for the generated default.
    pub version: i32,
    /// `stored` or `default` (generated because none was stored).
    pub origin: String,
    pub steps: Vec<WorkflowStepDto>,
    /// Sum of the step durations, in working hours.
    pub total_hours: i64,
}

/// Whose workflow to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkflowQuery {
    /// The agency; falls back to the procedure-wide workflow, then to the default.
    pub agency_id: Option<String>,
}

fn step_dto(step: &WorkflowStep) -> WorkflowStepDto {
    WorkflowStepDto {
        key: step.key.clone(),
        name: step.name.clone(),
        capability: step.capability.as_str().to_owned(),
        agency_id: step.agency_id.clone(),
        duration_hours: i64::from(step.duration_hours),
    }
}

fn workflow_view(code: &str, agency_id: Option<String>, version: i32, origin: &str, steps: Vec<WorkflowStepDto>) -> WorkflowView {
    let total_hours = steps.iter().map(|s| s.duration_hours).sum();
    WorkflowView { procedure_code: code.to_owned(), agency_id, version, origin: origin.to_owned(), steps, total_hours }
}

/// The electronic workflow (staff): the agency's, else the procedure-wide one, else a generated default.
#[utoipa::path(
    tag = "procedures",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code"), WorkflowQuery),
    responses(
        (status = 200, description = "The workflow", body = WorkflowView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown procedure", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/procedures/{code}/workflow")]
pub async fn get_workflow(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    query: web::Query<WorkflowQuery>,
) -> Result<web::Json<WorkflowView>, AppError> {
    if !principal.role.is_staff() {
        return Err(AppError::forbidden());
    }
    let code = code.into_inner();
    let agency_id = query.into_inner().agency_id;
    let view = crate::db::run(&state.pool, move |conn| {
        let latest = repo::latest(conn, &code)?.ok_or_else(AppError::not_found)?;
        let resolved = procedures::resolve_workflow(conn, &code, agency_id.as_deref(), procedures::processing_time_of(&latest)?)?;
        Ok(workflow_view(&code, resolved.agency_id, resolved.version, resolved.origin, resolved.steps.iter().map(step_dto).collect()))
    })
    .await?;
    Ok(web::Json(view))
}

/// Store a new version of the workflow (administrators). Validated: not empty, starting with
/// reception and ending with result return, within the processing time.
#[utoipa::path(
    tag = "procedures",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code")),
    request_body = PutWorkflowRequest,
    responses(
        (status = 200, description = "Stored", body = WorkflowView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator, or an agency outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown procedure", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid workflow", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/procedures/{code}/workflow")]
pub async fn put_workflow(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    code: web::Path<String>,
    body: web::Json<PutWorkflowRequest>,
) -> Result<web::Json<WorkflowView>, AppError> {
    principal.require(&[Role::SystemAdmin, Role::AgencyAdmin])?;
    let code = code.into_inner();
    let body = body.into_inner();
    let mut steps = Vec::with_capacity(body.steps.len());
    for (index, dto) in body.steps.iter().enumerate() {
        let capability = Capability::parse(&dto.capability, "capability")
            .map_err(|e| AppError::invalid(format!("steps[{index}].capability"), e.reason))?;
        let duration_hours = u32::try_from(dto.duration_hours)
            .map_err(|_| AppError::invalid(format!("steps[{index}].duration_hours"), "must not be negative"))?;
        steps.push(WorkflowStep {
            key: dto.key.clone(),
            name: dto.name.clone(),
            capability,
            agency_id: dto.agency_id.clone(),
            duration_hours,
        });
    }
    let stored_steps: Vec<WorkflowStepDto> = steps.iter().map(step_dto).collect();
    let json = persistence::stored::write(&procedures::stored_steps(&steps))?;
    let view = crate::db::write(&state.pool, move |conn| {
        repo::find_for_update(conn, &code)?.ok_or_else(AppError::not_found)?;
        let latest = repo::latest(conn, &code)?.ok_or_else(AppError::not_found)?;
        domain::procedure::validate_workflow(&steps, procedures::processing_time_of(&latest)?)?;
        let mut agencies_named: Vec<String> = steps.iter().filter_map(|s| s.agency_id.clone()).collect();
        agencies_named.extend(body.agency_id.clone());
        if principal.role == Role::AgencyAdmin && body.agency_id.is_none() {
            return Err(AppError::forbidden().with_detail(
                "Quản trị đơn vị chỉ đặt quy trình cho cơ quan của mình.",
                "Agency administrators set workflows for their own agencies only.",
            ));
        }
        check_agencies(conn, &principal, &agencies_named)?;
        let row = workflows::add(conn, &code, body.agency_id.as_deref(), json, Some(&principal.user_id))?;
        let entity_id = format!("{code}/{}", body.agency_id.as_deref().unwrap_or("*"));
        auditing::record(
            conn,
            &meta,
            Change::<(), _> {
                actor_id: Some(&principal.user_id),
                action: "workflow.put",
                entity_type: "workflow",
                entity_id: &entity_id,
                before: None,
                after: Some(&(row.version, &row.steps)),
            },
        )?;
        Ok(workflow_view(&code, row.agency_id, row.version, "stored", stored_steps))
    })
    .await?;
    Ok(web::Json(view))
}

crate::views::mirror!(enum TimeUnitName, stored::TimeUnit { WorkingDay, CalendarDay, WorkingHour });
crate::views::mirror!(TimeSpec, stored::TimeSpec { value, unit });
crate::views::mirror!(FieldRef, stored::FieldRef { code, name });
crate::views::mirror!(Fee, stored::Fee { code, amount, description });
crate::views::mirror!(RequiredDocument, stored::RequiredDocument { code, name, originals, copies, mandatory });
crate::views::mirror!(ResultSpec, stored::ResultSpec { code, name, has_result });
crate::views::mirror!(LegalBasis, stored::LegalBasis { number, title });
crate::views::mirror!(
    ProcedureContent,
    stored::ProcedureContent {
        national_code,
        name,
        sector,
        field,
        levels,
        agency_ids,
        online_level,
        channels,
        processing_time,
        cutoff_time,
        result,
        form_schema,
        effective_from,
    } lists { fees, required_documents, legal_basis } options { online_processing_time }
);
