//! Login through the national portal (VNeID-backed OIDC, domain.md §12.2): the redirect to the
//! portal's authorization server, and the callback that maps the portal's account to a local
//! citizen account (created on first login, linked by personal id number afterwards) and
//! returns our own token pair.

use actix_web::http::header::{ACCEPT, LOCATION};
use actix_web::{HttpRequest, HttpResponse, get, web};
use integrations::oidc::AccountKind;
use persistence::repo::{sessions, sso, users};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::accounts;
use crate::auth::RequestMeta;
use crate::auth::jwt::random_token;
use crate::error::{AppError, Code, Problem};
use crate::state::AppState;
use crate::views::TokenResponse;

/// How long a started login waits for its callback.
const STATE_TTL_MINUTES: i64 = 10;

fn not_configured() -> AppError {
    AppError::new(Code::Conflict).with_detail(
        "Chưa cấu hình đăng nhập qua Cổng Dịch vụ công quốc gia (MOTCUA_OIDC_ISSUER_URL).",
        "Login through the national portal is not configured (MOTCUA_OIDC_ISSUER_URL).",
    )
}

fn refused(why: &str) -> AppError {
    log::info!("national portal login refused: {why}");
    AppError::new(Code::Unauthorized).with_detail(
        "Đăng nhập qua Cổng Dịch vụ công quốc gia không thành công; vui lòng đăng nhập lại.",
        "The login through the national portal failed; please start again.",
    )
}

/// Where to go after the login.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    /// A path of the front end to return to (kept with the login, echoed by the callback).
    pub return_to: Option<String>,
}

/// The authorization server's address for this login.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeView {
    pub authorize_url: String,
}

/// Starts a login through the national portal: redirects (302) to its authorization server
/// with a fresh `state` and `nonce`; with `Accept: application/json`, answers the address.
#[utoipa::path(
    tag = "auth",
    security(()),
    params(AuthorizeQuery),
    responses(
        (status = 200, description = "The address (Accept: application/json)", body = AuthorizeView),
        (status = 302, description = "Redirect to the national portal"),
        (status = 409, description = "Not configured", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`return_to` is not a path", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/auth/sso/national/authorize")]
pub async fn authorize(state: web::Data<AppState>, req: HttpRequest, query: web::Query<AuthorizeQuery>) -> Result<HttpResponse, AppError> {
    let client = state.sso.clone().ok_or_else(not_configured)?;
    let return_to = query.into_inner().return_to.filter(|r| !r.is_empty());
    if return_to.as_deref().is_some_and(|r| !r.starts_with('/') || r.starts_with("//") || r.len() > 500) {
        return Err(AppError::invalid("return_to", "must be a path of this site (starting with a single `/`)"));
    }
    let (login_state, nonce) = (random_token(24), random_token(24));
    let url = client.authorize_url(&login_state, &nonce).map_err(AppError::internal)?;
    let (hash, now) = (domain::audit::digest(login_state.as_bytes()), state.now());
    let expires = now + chrono::TimeDelta::minutes(STATE_TTL_MINUTES);
    crate::db::write(&state.pool, move |conn| Ok(sso::start(conn, &hash, &nonce, return_to.as_deref(), now, expires)?)).await?;
    let wants_json = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"));
    if wants_json {
        Ok(HttpResponse::Ok().json(AuthorizeView { authorize_url: url }))
    } else {
        Ok(HttpResponse::Found().insert_header((LOCATION, url)).finish())
    }
}

/// What the authorization server sends back.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set by the server when the citizen cancelled or the login failed.
    pub error: Option<String>,
}

/// The token pair of a national portal login.
#[derive(Debug, Serialize, ToSchema)]
pub struct SsoLoginView {
    #[serde(flatten)]
    pub tokens: TokenResponse,
    /// Whether the local account was created by this login.
    pub account_created: bool,
    /// The `return_to` given when the login started.
    pub return_to: Option<String>,
}

/// Finishes a login through the national portal: checks `state` (known, unexpired, unused),
/// exchanges the code, checks the id token's nonce, reads the account and returns our token
/// pair for the linked local citizen account.
#[utoipa::path(
    tag = "auth",
    security(()),
    params(CallbackQuery),
    responses(
        (status = 200, description = "Logged in", body = SsoLoginView),
        (status = 401, description = "Unknown, expired or replayed state; refused code; id token not of this login", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The id number belongs to a staff or disabled account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not configured", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/auth/sso/national/callback")]
pub async fn callback(
    state: web::Data<AppState>,
    meta: RequestMeta,
    query: web::Query<CallbackQuery>,
) -> Result<web::Json<SsoLoginView>, AppError> {
    let client = state.sso.clone().ok_or_else(not_configured)?;
    let query = query.into_inner();
    let Some(presented) = query.state.filter(|s| !s.is_empty() && s.len() <= 200) else { return Err(refused("no state")) };
    let hash = domain::audit::digest(presented.as_bytes());
    let now = state.now();
    let consumed = crate::db::write(&state.pool, move |conn| Ok(sso::consume(conn, &hash, now)?)).await?;
    let Some((nonce, return_to)) = consumed else { return Err(refused("unknown, expired or used state")) };
    if let Some(error) = query.error {
        return Err(refused(&format!("the server reported `{}`", error.chars().take(50).collect::<String>())));
    }
    let Some(code) = query.code.filter(|c| !c.is_empty() && c.len() <= 2000) else { return Err(refused("no code")) };
    let tokens = client.exchange(&code).await.map_err(|e| refused(&e.to_string()))?;
    integrations::oidc::check_id_token(&tokens.id_token, &nonce, &client.config().client_id, state.clock.now().timestamp())
        .map_err(|e| refused(&e.to_string()))?;
    let identity = client.userinfo(&tokens.access_token).await.map_err(|e| refused(&e.to_string()))?;
    if identity.kind == AccountKind::Citizen && domain::PersonalIdNumber::parse(&identity.key).is_err() {
        return Err(refused("the personal id number is malformed"));
    }
    let key = accounts::link_key(&identity);
    // A new account gets a password nobody knows (hashed like any other, so that logins by its
    // user name take the usual time); an existing one needs no hashing.
    let wanted = key.clone();
    let known = crate::db::run(&state.pool, move |conn| Ok(users::find_by_id_number(conn, &wanted)?.is_some())).await?;
    let unusable_password = if known { None } else { Some(crate::auth::tokens::hash_password(random_token(32)).await?) };
    let refresh = random_token(32);
    let refresh_hash = crate::auth::tokens::refresh_digest(&refresh);
    let expires = now + chrono::TimeDelta::from_std(state.config.refresh_token_ttl).unwrap_or(chrono::TimeDelta::days(7));
    let (user, session, created) = crate::db::write(&state.pool, move |conn| {
        let (user, created) = accounts::link_national(conn, &meta, &key, &identity, unusable_password)?;
        let session = sessions::create(conn, &user.id, expires, Some(&refresh_hash))?;
        Ok((user, session, created))
    })
    .await?;
    let tokens = crate::auth::tokens::token_pair(&state, &user.id, &user.role, user.token_version, &session.id, Some(refresh))?;
    Ok(web::Json(SsoLoginView { tokens, account_created: created, return_to }))
}
