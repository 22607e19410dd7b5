//! The agency tree: public reads, edits by system administrators.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use domain::{AgencyCode, AgencyLevel, Role};
use persistence::repo::agencies::{self, AgencyChanges, AgencyFilter, NewAgency};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auditing::{self, Change};
use crate::auth::{Principal, RequestMeta};
use crate::error::{AppError, Problem};
use crate::i18n::Lang;
use crate::pagination::{PageQuery, Paged};
use crate::state::AppState;
use crate::views::AgencyView;

/// A new agency.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateAgencyRequest {
    /// Electronic identifier code (mã định danh), e.g. `000.00.00.H14`.
    #[schema(example = "000.00.00.H14", pattern = "^[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}\\.[A-Z][0-9]{2}$")]
    pub code: String,
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300, example = "UBND tỉnh Cao Bằng")]
    pub name: String,
    /// `province`, `department`, `district`, `commune` or `unit`.
    #[schema(example = "province")]
    pub level: String,
    /// The parent agency; absent for a root.
    pub parent_id: Option<String>,
}

/// Changes to an agency; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateAgencyRequest {
    pub code: Option<String>,
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub name: Option<String>,
    pub level: Option<String>,
    pub active: Option<bool>,
}

/// Filters of the agency list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgencyListQuery {
    /// Only the children of this agency.
    pub parent_id: Option<String>,
    /// Only this level.
    pub level: Option<String>,
    /// Text search in name and code (case- and diacritic-insensitive).
    pub q: Option<String>,
}

#[derive(Serialize)]
struct AgencyAuditState<'a> {
    code: &'a str,
    name: &'a str,
    level: &'a str,
    parent_id: Option<&'a str>,
    active: bool,
}

impl<'a> AgencyAuditState<'a> {
    fn of(row: &'a agencies::AgencyRow) -> Self {
        Self { code: &row.code, name: &row.name, level: &row.level, parent_id: row.parent_id.as_deref(), active: row.active }
    }
}

/// List agencies (flat, in creation order; `parent_id` links build the tree).
#[utoipa::path(
    security(()),
    tag = "agencies",
    params(AgencyListQuery, PageQuery),
    responses(
        (status = 200, description = "A page of agencies", body = Paged<AgencyView>),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/agencies")]
pub async fn list_agencies(
    state: web::Data<AppState>,
    req: HttpRequest,
    filter: web::Query<AgencyListQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<AgencyView>>, AppError> {
    let (limit, after) = page.resolve()?;
    let level = filter.level.as_deref().map(|l| AgencyLevel::parse(l, "level")).transpose()?;
    let filter = AgencyFilter {
        parent_id: filter.parent_id.clone(),
        level: level.map(|l| l.as_str().to_owned()),
        name_like: filter.q.as_deref().filter(|q| !q.trim().is_empty()).map(domain::text::like_contains),
        under_path: None,
        after,
        limit,
    };
    let lang = Lang::of(&req);
    let page = crate::db::run(&state.pool, move |conn| {
        if let Some(parent_id) = &filter.parent_id
            && agencies::find(conn, parent_id)?.is_none()
        {
            return Err(AppError::invalid("parent_id", "no such agency"));
        }
        Ok(agencies::list(conn, &filter)?)
    })
    .await?;
    Ok(web::Json(Paged::from_page(page, |row| AgencyView::from_row(&row, lang))))
}

/// One agency.
#[utoipa::path(
    security(()),
    tag = "agencies",
    params(("id" = String, Path, description = "Agency id")),
    responses(
        (status = 200, description = "The agency", body = AgencyView),
        (status = 404, description = "Unknown agency", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/agencies/{id}")]
pub async fn get_agency(state: web::Data<AppState>, req: HttpRequest, id: web::Path<String>) -> Result<web::Json<AgencyView>, AppError> {
    let id = id.into_inner();
    let row = crate::db::run(&state.pool, move |conn| agencies::find(conn, &id)?.ok_or_else(AppError::not_found)).await?;
    Ok(web::Json(AgencyView::from_row(&row, Lang::of(&req))))
}

/// Create an agency (system administrators).
#[utoipa::path(
    tag = "agencies",
    security(("bearer" = [])),
    request_body = CreateAgencyRequest,
    responses(
        (status = 201, description = "Created", body = AgencyView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code already used", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/agencies")]
pub async fn create_agency(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    body: web::Json<CreateAgencyRequest>,
) -> Result<HttpResponse, AppError> {
    principal.require(&[Role::SystemAdmin])?;
    body.validate()?;
    let body = body.into_inner();
    let code = AgencyCode::parse(body.code.trim())?;
    let level = AgencyLevel::parse(&body.level, "level")?;
    let new = NewAgency {
        code: code.as_str().to_owned(),
        name: body.name.trim().to_owned(),
        level: level.as_str().to_owned(),
        parent_id: body.parent_id,
    };
    let row = crate::db::write(&state.pool, move |conn| {
        if let Some(parent_id) = &new.parent_id
            && agencies::find(conn, parent_id)?.is_none()
        {
            return Err(AppError::invalid("parent_id", "no such agency"));
        }
        let row = agencies::insert(conn, new)?;
        auditing::record(
            conn,
            &meta,
            Change::<(), _> {
                actor_id: Some(&principal.user_id),
                action: "agency.create",
                entity_type: "agency",
                entity_id: &row.id,
                before: None,
                after: Some(&AgencyAuditState::of(&row)),
            },
        )?;
        Ok(row)
    })
    .await?;
    Ok(crate::http::created(format!("/api/v1/agencies/{}", row.id), &AgencyView::from_row(&row, Lang::of(&req))))
}

/// Edit an agency (system administrators).
#[utoipa::path(
    tag = "agencies",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Agency id")),
    request_body = UpdateAgencyRequest,
    responses(
        (status = 200, description = "Updated", body = AgencyView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown agency", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code already used", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/agencies/{id}")]
pub async fn update_agency(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: web::Json<UpdateAgencyRequest>,
) -> Result<web::Json<AgencyView>, AppError> {
    principal.require(&[Role::SystemAdmin])?;
    body.validate()?;
    let body = body.into_inner();
    let changes = AgencyChanges {
        code: body.code.as_deref().map(|c| AgencyCode::parse(c.trim())).transpose()?.map(|c| c.as_str().to_owned()),
        name: body.name.map(|n| n.trim().to_owned()),
        level: body.level.as_deref().map(|l| AgencyLevel::parse(l, "level")).transpose()?.map(|l| l.as_str().to_owned()),
        active: body.active,
    };
    let id = id.into_inner();
    let row = crate::db::write(&state.pool, move |conn| {
        let before = agencies::find(conn, &id)?.ok_or_else(AppError::not_found)?;
        let after = agencies::update(conn, &id, changes)?;
        auditing::record(
            conn,
            &meta,
            Change {
                actor_id: Some(&principal.user_id),
                action: "agency.update",
                entity_type: "agency",
                entity_id: &after.id,
                before: Some(&AgencyAuditState::of(&before)),
                after: Some(&AgencyAuditState::of(&after)),
            },
        )?;
        Ok(after)
    })
    .await?;
    Ok(web::Json(AgencyView::from_row(&row, Lang::of(&req))))
}
