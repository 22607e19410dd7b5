//! Request middleware: [`observe`] (request id, access log, metrics, problem documents) and
//! [`idempotency`] (replay of `POST` requests carrying `Idempotency-Key`).

use std::collections::BTreeMap;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use chrono::TimeDelta;
use persistence::repo::idempotency::{self, Claim, StoredResponse};

use crate::auth::principal::{RequestId, bearer_token};
use crate::error::{AppError, Code};
use crate::i18n::Lang;
use crate::state::AppState;

/// The error code of a plain status that reached the client without a problem document.
fn code_for_status(status: StatusCode) -> Code {
    match status.as_u16() {
        400 => Code::MalformedRequest,
        401 => Code::Unauthorized,
        403 => Code::Forbidden,
        404 => Code::NotFound,
        405 => Code::MethodNotAllowed,
        409 => Code::Conflict,
        412 => Code::PreconditionFailed,
        413 => Code::PayloadTooLarge,
        415 => Code::UnsupportedMediaType,
        422 => Code::ValidationFailed,
        429 => Code::RateLimited,
        503 => Code::Unavailable,
        s if s >= 500 => Code::Internal,
        _ => Code::MalformedRequest,
    }
}

fn valid_request_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let ok = (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| text.to_owned())
}

/// A request id unique across instances and restarts, in the shape of a simple UUID: a random
/// prefix drawn once per process and a counter scrambled by an odd multiplier (a bijection, so
/// ids never repeat and do not show how many requests came before). A fresh UUID drew from the
/// kernel's random source on every request.
fn new_request_id() -> String {
    use std::sync::LazyLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: LazyLock<u64> = LazyLock::new(|| uuid::Uuid::new_v4().as_u64_pair().0);
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("{:016x}{n:016x}", *PREFIX)
}

/// Renders any error response as a problem document in `lang` with `request_id`: handler and
/// extractor errors carry an [`AppError`]; any other 4xx/5xx without a problem body (from the
/// framework or a middleware) gets the generic problem of its status.
pub fn localize_problem(res: ServiceResponse<BoxBody>, lang: Lang, request_id: &str) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let api_error = res
        .response()
        .extensions()
        .get::<AppError>()
        .cloned()
        .or_else(|| res.response().error().and_then(|e| e.as_error::<AppError>()).cloned());
    let is_problem =
        res.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/problem+json"));
    let replacement = match api_error {
        Some(error) => Some(error),
        None if status.as_u16() >= 400 && !is_problem => Some(AppError::new(code_for_status(status))),
        None => None,
    };
    let Some(error) = replacement else {
        return res;
    };
    let mut rendered = error.render(lang, request_id);
    // Keep headers the inner response set (CORS, Allow, Retry-After), not its body.
    for (name, value) in res.headers() {
        if name != CONTENT_TYPE && name != actix_web::http::header::CONTENT_LENGTH && !rendered.headers().contains_key(name) {
            rendered.headers_mut().insert(name.clone(), value.clone());
        }
    }
    res.into_response(rendered)
}

/// Gives every request an id (`X-Request-Id`, kept when the client sends a sane one), renders
/// every error as a localized problem document whose `instance` is that id, counts the request
/// for `/metrics` and writes one access-log line: method, route pattern, status, duration and id.
/// The line never holds the query string, bodies, tokens or path values.
///
/// # Errors
/// None of its own: errors of inner services become problem documents.
pub async fn observe(req: ServiceRequest, next: Next<impl MessageBody + 'static>) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req.headers().get("x-request-id").and_then(valid_request_id).unwrap_or_else(new_request_id);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let lang = Lang::of(req.request());
    // Inner middleware answer with responses, not `Err`; an `Err` would be rendered by actix
    // from the same `AppError`, only without the caller's language.
    let res = next.call(req).await?.map_into_boxed_body();
    let mut res = localize_problem(res, lang, &request_id);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let method = res.request().method().as_str().to_owned();
    let elapsed = started.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    // A server error is logged here, once, with its request id and cause.
    if res.status().is_server_error()
        && let Some(error) = res.response().extensions().get::<AppError>()
    {
        log::error!("{request_id} {method} {route}: {error}");
    }
    if let Some(state) = res.request().app_data::<web::Data<AppState>>() {
        state.metrics.observe(&method, &route, status, elapsed);
    }
    log::info!(target: "motcua::access", "{request_id} {method} {route} {status} {:.1}ms", elapsed * 1000.0);
    Ok(res)
}

const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// The operations whose answers carry credentials, never stored for replay.
pub const CREDENTIAL_PATHS: &[&str] = &["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/token"];
const REPLAYED_HEADERS: &[&str] = &["content-type", "location", "etag"];

fn idempotency_scope(req: &ServiceRequest, state: &AppState) -> String {
    match bearer_token(req.request()).and_then(|t| state.keys.verify(&t)) {
        Some(claims) => format!("user:{}", claims.sub),
        None => "anonymous".to_owned(),
    }
}

/// Answers `req` with `error` as a problem document in the caller's language.
pub(crate) fn reject(req: ServiceRequest, error: AppError) -> ServiceResponse<BoxBody> {
    let lang = Lang::of(req.request());
    let request_id = req.extensions().get::<RequestId>().map_or_else(|| "-".to_owned(), |r| r.0.clone());
    req.into_response(error.render(lang, &request_id))
}

fn replay(stored: StoredResponse) -> HttpResponse {
    let status = u16::try_from(stored.status_code).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let mut builder = HttpResponse::build(status);
    let headers: BTreeMap<String, String> = serde_json::from_str(&stored.headers).unwrap_or_default();
    for (name, value) in headers {
        builder.insert_header((name, value));
    }
    builder.insert_header(("Idempotent-Replayed", "true"));
    builder.body(stored.body)
}

/// Makes `POST` requests with an `Idempotency-Key` safe to retry (api.md §1): the first response
/// (status, body, `Location`, `ETag`) is stored in the database for 24 hours and sent again for
/// the same key and the same request; the same key with another request gets 422
/// `idempotency_key_reused`; while the first is still running, 409 `idempotency_key_in_use`.
/// Keys are scoped per account (anonymous callers share one scope). Server errors (5xx) are
/// not stored, so a retry runs again. Answers that carry credentials (login, refresh, client
/// credentials: [`CREDENTIAL_PATHS`]) are never stored: there the key is ignored and the request
/// runs as if it had none. A body is buffered up to the JSON limit, or the upload limit for
/// `multipart/form-data`, and refused with 413 beyond it.
///
/// # Errors
/// Problem documents for the cases above; database failures as `unavailable`.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req.headers().get(IDEMPOTENCY_HEADER).map(|v| v.to_str().map(str::to_owned));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let stores = req.method() == actix_web::http::Method::POST && !CREDENTIAL_PATHS.contains(&req.path());
    let (Some(key), Some(state), true) = (key, state, stores) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match key {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => k,
        _ => return Ok(reject(req, AppError::invalid("Idempotency-Key", "must be 1 to 255 visible ASCII characters"))),
    };
    let multipart = crate::input::content_essence(&req) == "multipart/form-data";
    let limit = if multipart { state.config.upload_limit + 64 * 1024 } else { state.config.json_limit };
    let body = match crate::input::read_body(&mut req, limit).await {
        Ok(body) => body,
        Err(error) => return Ok(reject(req, error)),
    };
    let mut hasher_input = Vec::with_capacity(body.len() + 128);
    hasher_input.extend_from_slice(req.method().as_str().as_bytes());
    hasher_input.push(b' ');
    hasher_input.extend_from_slice(req.uri().to_string().as_bytes());
    hasher_input.push(b'\n');
    hasher_input.extend_from_slice(&body);
    let request_hash = domain::audit::digest(&hasher_input);
    req.set_payload(actix_web::dev::Payload::from(body));
    let scope = idempotency_scope(&req, &state);

    let now = state.now();
    let (claim_scope, claim_key) = (scope.clone(), key.clone());
    let claim = crate::db::write(&state.pool, move |conn| {
        Ok(idempotency::claim(
            conn,
            &claim_scope,
            &claim_key,
            &request_hash,
            now,
            now - TimeDelta::hours(24),
            now - TimeDelta::seconds(60),
        )?)
    })
    .await;
    let claim = match claim {
        Ok(claim) => claim,
        Err(error) => return Ok(reject(req, error)),
    };
    match claim {
        Claim::Replay(stored) => return Ok(req.into_response(replay(stored))),
        Claim::Mismatch => return Ok(reject(req, AppError::new(Code::IdempotencyKeyReused))),
        Claim::InProgress => return Ok(reject(req, AppError::new(Code::IdempotencyKeyInUse))),
        Claim::Fresh => {}
    }
    let res = next.call(req).await;
    let res = match res {
        Ok(res) => res.map_into_boxed_body(),
        Err(err) => {
            let _ = crate::db::write(&state.pool, move |conn| Ok(idempotency::release(conn, &scope, &key)?)).await;
            return Err(err);
        }
    };
    let lang = Lang::of(res.request());
    let request_id = res.request().extensions().get::<RequestId>().map_or_else(|| "-".to_owned(), |r| r.0.clone());
    let res = localize_problem(res, lang, &request_id);
    let status = res.status();
    let mut headers = BTreeMap::new();
    for name in REPLAYED_HEADERS {
        if let Some(value) = res.headers().get(*name).and_then(|v| v.to_str().ok()) {
            headers.insert((*name).to_owned(), value.to_owned());
        }
    }
    let (http_req, response) = res.into_parts();
    let (response, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body).await.map_err(|_| AppError::internal("response body could not be buffered"))?;
    let stored = StoredResponse {
        status_code: i32::from(status.as_u16()),
        headers: serde_json::to_string(&headers).unwrap_or_default(),
        body: bytes.to_vec(),
    };
    if status.is_server_error() {
        crate::db::write(&state.pool, move |conn| Ok(idempotency::release(conn, &scope, &key)?)).await?;
    } else {
        crate::db::write(&state.pool, move |conn| Ok(idempotency::complete(conn, &scope, &key, &stored)?)).await?;
    }
    let response = response.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(http_req, response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_and_shaped_like_simple_uuids() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
        assert!(ids.iter().all(|id| valid_request_id(&HeaderValue::from_str(id).expect("a header value")).is_some()));
    }
}
