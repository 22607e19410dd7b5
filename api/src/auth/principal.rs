//! Who is calling: the authenticated [`Principal`] and the per-request [`RequestMeta`].

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use domain::{Capability, Role};

use crate::error::{AppError, Code};
use crate::state::AppState;

/// The authenticated caller, re-read from the database on every request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    pub role: Role,
    /// Officer capabilities or integration scopes.
    pub capabilities: Vec<String>,
    pub agency_id: Option<String>,
    /// Materialised path of the caller's agency (`/root/…/agency/`), for subtree scope checks.
    pub agency_path: Option<String>,
    pub session_id: String,
}

impl Principal {
    /// Fails with 403 unless the caller has one of `roles`.
    ///
    /// # Errors
    /// `forbidden`.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role) { Ok(()) } else { Err(AppError::forbidden()) }
    }

    /// Whether an officer holds `capability`.
    pub fn has_capability(&self, capability: Capability) -> bool {
        self.role == Role::Officer && self.capabilities.iter().any(|c| c == capability.as_str())
    }

    /// Whether an agency with materialised path `path` lies in the caller's scope: everything
    /// for system administrators and supervisors, the own subtree for agency-bound roles.
    pub fn covers_path(&self, path: &str) -> bool {
        match self.role {
            Role::SystemAdmin | Role::Supervisor => true,
            Role::AgencyAdmin | Role::Officer => self.agency_path.as_deref().is_some_and(|root| path.starts_with(root)),
            Role::Citizen | Role::Integration => false,
        }
    }
}

/// The current request's id (also the problem document's `instance`).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Request facts for the audit trail: the request id and the optional `X-Audit-Reason`.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub reason: Option<String>,
}

impl RequestMeta {
    fn of(req: &HttpRequest) -> Self {
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        let reason = req
            .headers()
            .get("X-Audit-Reason")
            .map(|v| decode_header_text(v.as_bytes()))
            .map(|v| v.chars().filter(|c| !c.is_control()).take(500).collect::<String>())
            .filter(|v| !v.trim().is_empty());
        Self { request_id, reason }
    }
}

impl FromRequest for RequestMeta {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(RequestMeta::of(req)))
    }
}

/// Header text that may be raw UTF-8 (Vietnamese) or percent-encoded UTF-8 (RFC 3986), as
/// browsers can only send the latter.
pub fn decode_header_text(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The bearer token of a request, if any.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

fn unauthorized() -> AppError {
    AppError::new(Code::Unauthorized)
}

async fn authenticate(state: web::Data<AppState>, token: Option<String>) -> Result<Principal, AppError> {
    let token = token.ok_or_else(unauthorized)?;
    let claims = state.keys.verify(&token).ok_or_else(unauthorized)?;
    let now = state.now();
    crate::db::read(&state.pool, state.backend, move |conn| {
        let (user, agency_path) = persistence::repo::sessions::authenticate(conn, &claims.sid, now)?.ok_or_else(unauthorized)?;
        if user.id != claims.sub || !user.active || user.token_version != claims.tv {
            return Err(unauthorized());
        }
        let role = Role::parse(&user.role, "role").map_err(AppError::internal)?;
        Ok(Principal {
            capabilities: user.capability_list(),
            user_id: user.id,
            username: user.username,
            role,
            agency_id: user.agency_id,
            agency_path,
            session_id: claims.sid,
        })
    })
    .await
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            authenticate(state, token).await
        })
    }
}

/// The caller when a token is sent, `None` for anonymous requests. A token that is sent but
/// invalid is still refused (401), so clients notice expired sessions.
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Principal>);

impl MaybePrincipal {
    /// Whether the caller is staff (sees drafts and what hangs off them).
    pub fn is_staff(&self) -> bool {
        self.0.as_ref().is_some_and(|p| p.role.is_staff())
    }
}

impl FromRequest for MaybePrincipal {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            match token {
                None => Ok(MaybePrincipal(None)),
                Some(token) => authenticate(state, Some(token)).await.map(|p| MaybePrincipal(Some(p))),
            }
        })
    }
}

/// The client's address for rate limiting: the peer, or, behind `trusted_proxies` proxies of
/// ours, the `X-Forwarded-For` entry the outermost of them appended ([`forwarded_client`]).
pub fn client_addr(req: &HttpRequest, trusted_proxies: usize) -> String {
    let forwarded: Vec<&str> = req.headers().get_all("X-Forwarded-For").filter_map(|v| v.to_str().ok()).collect();
    match forwarded_client(&forwarded, trusted_proxies) {
        Some(client) => client,
        None => req.peer_addr().map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string()),
    }
}

/// The client address behind `trusted_proxies` proxies of ours, given the `X-Forwarded-For`
/// header lines: the `trusted_proxies`-th entry from the right, which the outermost of our
/// proxies appended (entries further left come from the client); `None` when no proxy is
/// trusted or the header is missing.
fn forwarded_client(lines: &[&str], trusted_proxies: usize) -> Option<String> {
    if trusted_proxies == 0 {
        return None;
    }
    let hops: Vec<&str> = lines.iter().flat_map(|l| l.split(',')).map(str::trim).filter(|h| !h.is_empty()).collect();
    let at = hops.len().saturating_sub(trusted_proxies);
    hops.get(at).map(|h| (*h).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_address_our_outermost_proxy_appended() {
        assert_eq!(forwarded_client(&["1.1.1.1, 203.0.113.7"], 1).as_deref(), Some("203.0.113.7"), "the client wrote 1.1.1.1");
        assert_eq!(forwarded_client(&["1.1.1.1", "203.0.113.7, 10.0.0.2"], 2).as_deref(), Some("203.0.113.7"));
        assert_eq!(forwarded_client(&["203.0.113.7"], 2).as_deref(), Some("203.0.113.7"), "fewer hops than proxies");
        assert_eq!(forwarded_client(&["1.1.1.1, 203.0.113.7"], 0), None);
        assert_eq!(forwarded_client(&[], 1), None);
    }

    #[test]
    fn header_text_may_be_raw_or_percent_encoded_utf8() {
        assert_eq!(decode_header_text("Chuyển công tác".as_bytes()), "Chuyển công tác");
        assert_eq!(decode_header_text(b"Chuy%E1%BB%83n c%C3%B4ng t%C3%A1c"), "Chuyển công tác");
        assert_eq!(decode_header_text(b"100%"), "100%");
    }
}
