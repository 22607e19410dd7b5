//! Account administration, scoped to the administrator's agency subtree, and the role ledger.
//!
//! Every grant and revocation of a role (creation, role or capability change, move between
//! agencies, disable, enable) is written to the role ledger of the agency concerned (Art. 7.3)
//! and to the audit trail, in the transaction of the change.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use domain::{Email, Password, Phone, Role, Username};
use persistence::repo::users::UserFilter;
use persistence::repo::{agencies, ledger, users};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::accounts;
use crate::auth::{Principal, RequestMeta};
use crate::error::{AppError, Problem};
use crate::i18n::Lang;
use crate::pagination::{PageQuery, Paged};
use crate::state::AppState;
use crate::views::{UserView, utc};

const ADMINS: &[Role] = &[Role::SystemAdmin, Role::AgencyAdmin];

/// A new staff or integration account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateUserRequest {
    #[schema(min_length = 3, max_length = 64, example = "tiepnhan.hoagiang")]
    pub username: String,
    /// For integration clients this is the client secret.
    #[schema(min_length = 10, max_length = 128, format = Password)]
    pub password: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: String,
    /// `system_admin`, `agency_admin`, `officer`, `supervisor` or `integration` (citizens register themselves).
    pub role: String,
    /// Required for `agency_admin` and `officer`.
    pub agency_id: Option<String>,
    /// Officer capabilities or integration scopes.
    #[serde(default)]
    pub capabilities: Vec<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Changes to an account; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateUserRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: Option<String>,
    pub role: Option<String>,
    pub agency_id: Option<String>,
    pub capabilities: Option<Vec<String>>,
    /// An empty string clears the phone.
    pub phone: Option<String>,
    /// An empty string clears the e-mail.
    pub email: Option<String>,
    /// A new password; revokes the account's sessions.
    #[schema(format = Password)]
    pub password: Option<String>,
}

/// Filters of the account list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Text search in user name and full name (case- and diacritic-insensitive).
    pub q: Option<String>,
    /// Only this role.
    pub role: Option<String>,
    /// Only accounts of this agency.
    pub agency_id: Option<String>,
}

/// One grant or revocation in the role ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntryView {
    pub id: String,
    pub at: chrono::DateTime<chrono::Utc>,
    /// `grant` or `revoke`.
    pub action: String,
    /// Who made the change (absent for the system itself).
    pub actor_id: Option<String>,
    pub actor_username: Option<String>,
    /// Whose access changed.
    pub subject_id: String,
    pub subject_username: Option<String>,
    pub role: String,
    pub capabilities: Vec<String>,
    /// The `X-Audit-Reason` given with the change.
    pub reason: Option<String>,
}

fn optional_contact(phone: Option<&str>, email: Option<&str>) -> Result<(Option<String>, Option<String>), AppError> {
    let phone = phone.filter(|p| !p.trim().is_empty()).map(Phone::parse).transpose()?.map(|p| p.as_str().to_owned());
    let email = email.filter(|e| !e.trim().is_empty()).map(Email::parse).transpose()?.map(|e| e.as_str().to_owned());
    Ok((phone, email))
}

/// List accounts in the caller's scope.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(UserListQuery, PageQuery),
    responses(
        (status = 200, description = "A page of accounts", body = Paged<UserView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    filter: web::Query<UserListQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<UserView>>, AppError> {
    principal.require(ADMINS)?;
    let (limit, after) = page.resolve()?;
    let role = filter.role.as_deref().map(|r| Role::parse(r, "role")).transpose()?;
    let filter = UserFilter {
        role: role.map(|r| r.as_str().to_owned()),
        agency_id: filter.agency_id.clone(),
        under_path: if principal.role == Role::SystemAdmin { None } else { principal.agency_path.clone().or(Some("/none/".into())) },
        exclude_roles: Vec::new(),
        search_like: filter.q.as_deref().filter(|q| !q.trim().is_empty()).map(domain::text::like_contains),
        after,
        limit,
    };
    let lang = Lang::of(&req);
    let page = crate::db::run(&state.pool, move |conn| {
        if let Some(agency_id) = &filter.agency_id
            && agencies::find(conn, agency_id)?.is_none()
        {
            return Err(AppError::invalid("agency_id", "no such agency"));
        }
        Ok(users::list(conn, &filter)?)
    })
    .await?;
    Ok(web::Json(Paged::from_page(page, |row| UserView::from_row(&row, lang))))
}

/// Create a staff or integration account.
///
/// System administrators create any role except citizens; agency administrators create
/// officers and agency administrators inside their own agency subtree.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or agency outside the caller's reach", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "User name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    body: web::Json<CreateUserRequest>,
) -> Result<HttpResponse, AppError> {
    principal.require(ADMINS)?;
    body.validate()?;
    let body = body.into_inner();
    let username = Username::parse(&body.username)?;
    let role = Role::parse(&body.role, "role")?;
    let capabilities = accounts::grant_for_new(&principal, role, body.agency_id.as_deref(), &body.capabilities)?;
    Password::parse(&body.password, "password")?;
    let (phone, email) = optional_contact(body.phone.as_deref(), body.email.as_deref())?;
    let password_hash = crate::auth::tokens::hash_password(body.password).await?;
    let new = users::NewUser {
        username: username.into_inner(),
        password_hash,
        full_name: body.full_name.trim().to_owned(),
        role: role.as_str().to_owned(),
        capabilities,
        agency_id: body.agency_id,
        id_number: None,
        phone,
        email,
    };
    let row = crate::db::write(&state.pool, move |conn| accounts::create(conn, &principal, &meta, new)).await?;
    Ok(crate::http::created(format!("/api/v1/users/{}", row.id), &UserView::from_row(&row, Lang::of(&req))))
}

/// One account in the caller's scope.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account", body = UserView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or outside scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<UserView>, AppError> {
    principal.require(ADMINS)?;
    let id = id.into_inner();
    let row = crate::db::run(&state.pool, move |conn| accounts::load_in_scope(conn, &principal, &id)).await?;
    Ok(web::Json(UserView::from_row(&row, Lang::of(&req))))
}

/// Edit an account in the caller's scope.
///
/// A change of role, capabilities or agency is a revocation of the old grant and a grant of
/// the new one in the role ledger, and invalidates the account's tokens at once.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Account id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "Updated", body = UserView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or agency outside the caller's reach", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or outside scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: web::Json<UpdateUserRequest>,
) -> Result<web::Json<UserView>, AppError> {
    principal.require(ADMINS)?;
    body.validate()?;
    let body = body.into_inner();
    let new_role = body.role.as_deref().map(|r| Role::parse(r, "role")).transpose()?;
    if let Some(password) = &body.password {
        Password::parse(password, "password")?;
    }
    let (phone, email) = optional_contact(body.phone.as_deref(), body.email.as_deref())?;
    let password_hash = match body.password {
        Some(p) => Some(crate::auth::tokens::hash_password(p).await?),
        None => None,
    };
    let command = accounts::UpdateAccount {
        id: id.into_inner(),
        full_name: body.full_name,
        role: new_role,
        agency_id: body.agency_id,
        capabilities: body.capabilities,
        phone: body.phone.map(|_| phone),
        email: body.email.map(|_| email),
        password_hash,
    };
    let now = state.now();
    let row = crate::db::write(&state.pool, move |conn| accounts::update(conn, &principal, &meta, now, command)).await?;
    Ok(web::Json(UserView::from_row(&row, Lang::of(&req))))
}

async fn set_active(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    id: String,
    active: bool,
) -> Result<web::Json<UserView>, AppError> {
    principal.require(ADMINS)?;
    let now = state.now();
    let row = crate::db::write(&state.pool, move |conn| accounts::set_active(conn, &principal, &meta, now, &id, active)).await?;
    Ok(web::Json(UserView::from_row(&row, Lang::of(&req))))
}

/// Disable an account: every token of it stops working at once.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Disabled", body = UserView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or outside scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Own account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/disable")]
pub async fn disable_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<web::Json<UserView>, AppError> {
    set_active(state, req, principal, meta, id.into_inner(), false).await
}

/// Enable a disabled account.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Enabled", body = UserView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or outside scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Own account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/enable")]
pub async fn enable_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<web::Json<UserView>, AppError> {
    set_active(state, req, principal, meta, id.into_inner(), true).await
}

/// The role ledger of an agency: every grant and revocation, oldest first (Art. 7.3).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Agency id"), PageQuery),
    responses(
        (status = 200, description = "A page of ledger entries", body = Paged<LedgerEntryView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator or supervisor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown agency or outside scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/agencies/{id}/role-ledger")]
pub async fn role_ledger(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<LedgerEntryView>>, AppError> {
    principal.require(&[Role::SystemAdmin, Role::AgencyAdmin, Role::Supervisor])?;
    let (limit, after) = page.resolve()?;
    let id = id.into_inner();
    let (page, names) = crate::db::run(&state.pool, move |conn| {
        let agency = agencies::find(conn, &id)?.ok_or_else(AppError::not_found)?;
        if !principal.covers_path(&agency.path) {
            return Err(AppError::not_found());
        }
        let page = ledger::list(conn, &id, after.as_deref(), limit)?;
        let mut names = std::collections::HashMap::new();
        for row in &page.items {
            for user_id in row.actor_id.iter().chain(std::iter::once(&row.subject_id)) {
                if !names.contains_key(user_id)
                    && let Some(user) = users::find(conn, user_id)?
                {
                    names.insert(user_id.clone(), user.username);
                }
            }
        }
        Ok((page, names))
    })
    .await?;
    Ok(web::Json(Paged::from_page(page, |row| LedgerEntryView {
        actor_username: row.actor_id.as_ref().and_then(|a| names.get(a).cloned()),
        subject_username: names.get(&row.subject_id).cloned(),
        id: row.id,
        at: utc(row.at),
        action: row.action,
        actor_id: row.actor_id,
        subject_id: row.subject_id,
        role: row.role,
        capabilities: users::split_list(&row.capabilities),
        reason: row.reason,
    })))
}
