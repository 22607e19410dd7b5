//! Login, token refresh and rotation, logout, citizen registration, client credentials and `/me`.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use domain::{Email, Password, PersonalIdNumber, Phone, Role, Username};
use persistence::repo::{agencies, sessions, users};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::accounts;
use crate::auth::jwt::random_token;
use crate::auth::principal::client_addr;
use crate::auth::tokens::{hash_password, refresh_digest, token_pair, ttl_delta, verify_password};
use crate::auth::{Principal, RequestMeta};
use crate::error::{AppError, Code, InvalidParam, Problem};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::views::{AgencyView, TokenResponse, UserView};

/// Credentials of a person.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64, example = "admin")]
    pub username: String,
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128, format = Password)]
    pub password: String,
}

/// A refresh token to exchange.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub refresh_token: String,
}

/// Citizen self-registration.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct RegisterRequest {
    /// 3–64 characters: `a-z`, digits, `.`, `_`, `-`.
    #[schema(min_length = 3, max_length = 64, example = "nguyenvana")]
    pub username: String,
    /// 10–128 characters with a letter and a digit.
    #[schema(min_length = 10, max_length = 128, format = Password)]
    pub password: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, example = "Nguyễn Văn A")]
    pub full_name: String,
    /// The 12-digit personal identification number (số định danh cá nhân).
    #[schema(pattern = "^[0-9]{12}$", example = "004099012345")]
    pub id_number: String,
    #[schema(example = "0912345678")]
    pub phone: Option<String>,
    #[schema(example = "nguyenvana@example.vn")]
    pub email: Option<String>,
}

/// OAuth2 client credentials (RFC 6749 §4.4), form-encoded.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientCredentialsRequest {
    /// Must be `client_credentials`.
    pub grant_type: String,
    /// The client id (may come in HTTP Basic instead).
    pub client_id: Option<String>,
    /// The client secret (may come in HTTP Basic instead).
    pub client_secret: Option<String>,
}

/// The caller's own account.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    #[serde(flatten)]
    pub user: UserView,
    /// The caller's agency, for agency-bound roles.
    pub agency: Option<AgencyView>,
}

fn invalid_credentials() -> AppError {
    AppError::new(Code::InvalidCredentials)
}

/// Log in with user name and password.
///
/// Returns a short-lived access token and a one-time refresh token. Unknown user and wrong
/// password get the same answer. Repeated failures lock the account for a while (429).
#[utoipa::path(
    security(()),
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Bad credentials", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited or account locked", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<web::Json<TokenResponse>, AppError> {
    let client = client_addr(&req, state.config.trust_proxy);
    state.limit("login", &client, state.config.login_rate_per_minute, Duration::from_secs(60)).await?;
    body.validate()?;
    let body = body.into_inner();
    let username = body.username.trim().to_ascii_lowercase();
    let now = state.now();
    let (name, from) = (username.clone(), client.clone());
    let (user, locked) = crate::db::run(&state.pool, move |conn| {
        Ok((users::find_by_username(conn, &name)?, persistence::repo::limits::locked_until(conn, &name, &from, now)?))
    })
    .await?;
    if let Some(until) = locked {
        return Err(accounts::locked(until, now));
    }
    let usable = user.as_ref().is_some_and(|u| u.active && u.role != Role::Integration.as_str());
    let matches = verify_password(body.password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let (Some(user), true) = (user, matches && usable) else {
        let shared = state.get_ref().clone();
        crate::db::write(&state.pool, move |conn| accounts::login_failed(conn, &shared, &username, &client)).await?;
        return Err(invalid_credentials());
    };
    let user_id = user.id.clone();
    let refresh = random_token(32);
    let refresh_hash = refresh_digest(&refresh);
    let expires = now + ttl_delta(state.config.refresh_token_ttl);
    let session = crate::db::write(&state.pool, move |conn| {
        persistence::repo::limits::clear_failures(conn, &username, &client)?;
        Ok(sessions::create(conn, &user_id, expires, Some(&refresh_hash))?)
    })
    .await?;
    Ok(web::Json(token_pair(&state, &user.id, &user.role, user.token_version, &session.id, Some(refresh))?))
}

/// Exchange a refresh token for a new pair.
///
/// The presented token stops working. Presenting it again revokes the whole session, since
/// only a thief or a replay would do that.
#[utoipa::path(
    security(()),
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenResponse),
        (status = 401, description = "Unknown, used, expired or revoked refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh_session(state: web::Data<AppState>, body: web::Json<RefreshRequest>) -> Result<web::Json<TokenResponse>, AppError> {
    body.validate()?;
    let presented = refresh_digest(&body.refresh_token);
    let next = random_token(32);
    let next_hash = refresh_digest(&next);
    let now = state.now();
    let rotation = crate::db::write(&state.pool, move |conn| Ok(sessions::rotate(conn, &presented, &next_hash, now)?)).await?;
    match rotation {
        sessions::Rotation::Rotated { user, session_id } => {
            Ok(web::Json(token_pair(&state, &user.id, &user.role, user.token_version, &session_id, Some(next))?))
        }
        sessions::Rotation::Refused => Err(AppError::new(Code::Unauthorized)),
    }
}

/// Log out: revoke this session and its refresh tokens.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, AppError> {
    let session_id = principal.session_id.clone();
    let now = state.now();
    crate::db::write(&state.pool, move |conn| Ok(sessions::revoke(conn, &session_id, now)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Register a citizen account.
#[utoipa::path(
    security(()),
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered", body = UserView),
        (status = 409, description = "User name or personal id number already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, AppError> {
    let client = client_addr(&req, state.config.trust_proxy);
    state.limit("register", &client, state.config.register_rate_per_hour, Duration::from_secs(3600)).await?;
    let body = body.into_inner();
    let (new, password) = registration(&body)?;
    let new = users::NewUser { password_hash: hash_password(password).await?, ..new };
    let row = crate::db::write(&state.pool, move |conn| accounts::register(conn, &meta, new)).await?;
    Ok(crate::http::created("/api/v1/me".to_owned(), &UserView::from_row(&row, Lang::of(&req))))
}

/// The account a registration asks for (its password not yet hashed, returned beside it),
/// every field checked (all field problems reported together).
fn registration(body: &RegisterRequest) -> Result<(users::NewUser, String), AppError> {
    let mut problems: Vec<InvalidParam> = Vec::new();
    let mut check = |result: Result<(), domain::ValidationError>| {
        if let Err(e) = result {
            problems.push(InvalidParam { name: e.field.to_owned(), reason: e.reason });
        }
    };
    let username = Username::parse(&body.username);
    check(username.as_ref().map(|_| ()).map_err(Clone::clone));
    check(Password::parse(&body.password, "password").map(|_| ()));
    let id_number = PersonalIdNumber::parse(&body.id_number);
    check(id_number.as_ref().map(|_| ()).map_err(Clone::clone));
    let phone = body.phone.as_deref().map(Phone::parse).transpose();
    check(phone.as_ref().map(|_| ()).map_err(Clone::clone));
    let email = body.email.as_deref().map(Email::parse).transpose();
    check(email.as_ref().map(|_| ()).map_err(Clone::clone));
    if let Err(e) = body.validate() {
        problems.extend(AppError::from(e).invalid_params);
    }
    let (Ok(username), Ok(id_number), Ok(phone), Ok(email), true) = (username, id_number, phone, email, problems.is_empty()) else {
        return Err(AppError::validation(problems));
    };
    let new = users::NewUser {
        username: username.into_inner(),
        password_hash: String::new(),
        full_name: body.full_name.trim().to_owned(),
        role: Role::Citizen.as_str().to_owned(),
        capabilities: Vec::new(),
        agency_id: None,
        id_number: Some(id_number.as_str().to_owned()),
        phone: phone.map(|p| p.as_str().to_owned()),
        email: email.map(|e| e.as_str().to_owned()),
    };
    Ok((new, body.password.clone()))
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    use base64::Engine;
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// OAuth2 client credentials for integration clients.
///
/// Form-encoded `grant_type=client_credentials` with `client_id` and `client_secret` in the
/// form or in HTTP Basic. The access token carries the role `integration` and the client's
/// granted scopes; there is no refresh token.
#[utoipa::path(
    security(()),
    tag = "auth",
    request_body(content = ClientCredentialsRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Access token", body = TokenResponse),
        (status = 401, description = "Unknown client or wrong secret", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unsupported grant type", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/token")]
pub async fn client_credentials(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ClientCredentialsRequest>,
) -> Result<web::Json<TokenResponse>, AppError> {
    let client = client_addr(&req, state.config.trust_proxy);
    state.limit("login", &client, state.config.login_rate_per_minute, Duration::from_secs(60)).await?;
    let form = form.into_inner();
    if form.grant_type != "client_credentials" {
        return Err(AppError::invalid("grant_type", "only `client_credentials` is supported"));
    }
    let (client_id, secret) = match (form.client_id, form.client_secret, basic_credentials(&req)) {
        (Some(id), Some(secret), _) => (id, secret),
        (_, _, Some(pair)) => pair,
        _ => return Err(invalid_credentials()),
    };
    let lookup_id = client_id.trim().to_ascii_lowercase();
    let user = crate::db::run(&state.pool, move |conn| Ok(users::find_by_username(conn, &lookup_id)?)).await?;
    let user = user.filter(|u| u.active && u.role == Role::Integration.as_str());
    let matches = verify_password(secret, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let Some(user) = user.filter(|_| matches) else {
        return Err(invalid_credentials());
    };
    let expires = state.now() + ttl_delta(state.config.access_token_ttl);
    let user_id = user.id.clone();
    let session = crate::db::write(&state.pool, move |conn| Ok(sessions::create(conn, &user_id, expires, None)?)).await?;
    let mut response = token_pair(&state, &user.id, &user.role, user.token_version, &session.id, None)?;
    response.scope = Some(user.capability_list().join(" "));
    Ok(web::Json(response))
}

/// The caller's own account.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = MeResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, req: HttpRequest, principal: Principal) -> Result<web::Json<MeResponse>, AppError> {
    let lang = Lang::of(&req);
    let user_id = principal.user_id.clone();
    let (user, agency) = crate::db::run(&state.pool, move |conn| {
        let user = users::find(conn, &user_id)?.ok_or_else(AppError::not_found)?;
        let agency = match &user.agency_id {
            Some(id) => agencies::find(conn, id)?,
            None => None,
        };
        Ok((user, agency))
    })
    .await?;
    Ok(web::Json(MeResponse { user: UserView::from_row(&user, lang), agency: agency.map(|a| AgencyView::from_row(&a, lang)) }))
}
