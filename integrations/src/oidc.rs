//! Login through the national portal (domain.md §12.2): the OAuth2/OIDC authorization-code
//! flow of `xacthuc.dichvucong.gov.vn`, and the portal's userinfo claims in neutral terms.
//!
//! The id token comes straight from the token endpoint over TLS, so (OIDC Core §3.1.3.7) its
//! issuer's signature is not checked again here; its `nonce`, `aud` and `exp` are.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;

/// Where the authorization server is and who we are to it.
#[derive(Clone)]
pub struct OidcConfig {
    /// The authorization server, e.g. `https://xacthuc.dichvucong.gov.vn`.
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// Our callback, registered with the server.
    pub redirect_url: String,
    /// Paths below the issuer (defaults `/oauth2/authorize`, `/oauth2/token`, `/oauth2/userinfo`).
    pub authorize_path: String,
    pub token_path: String,
    pub userinfo_path: String,
    /// `acr_values` (default `LoA1`).
    pub acr_values: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig").field("issuer_url", &self.issuer_url).field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl OidcConfig {
    /// A configuration with the documented default paths.
    pub fn new(issuer_url: &str, client_id: &str, client_secret: &str, redirect_url: &str) -> Self {
        Self {
            issuer_url: issuer_url.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            redirect_url: redirect_url.to_owned(),
            authorize_path: "/oauth2/authorize".into(),
            token_path: "/oauth2/token".into(),
            userinfo_path: "/oauth2/userinfo".into(),
            acr_values: "LoA1".into(),
            timeout: Duration::from_secs(15),
        }
    }
}

/// Why the flow failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The server could not be reached or answered 5xx.
    #[error("the authorization server is unavailable: {0}")]
    Unavailable(String),
    /// The code was refused (expired, used, or not ours).
    #[error("the authorization code was refused: {0}")]
    CodeRefused(String),
    /// The id token does not belong to this login (nonce, audience or expiry).
    #[error("the id token does not match this login: {0}")]
    IdToken(String),
    /// An answer that is not what the protocol says.
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

/// The kind of account on the national portal (`LoaiTaiKhoan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Citizen,
    Enterprise,
    Organisation,
}

/// The national portal's account, in our terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalIdentity {
    /// `sub`.
    pub subject: String,
    pub kind: AccountKind,
    /// The key we link accounts by: the personal id number (citizens), the tax or enterprise
    /// code (enterprises), the portal's `TechID` (organisations).
    pub key: String,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The level of assurance (`loAs`), when given.
    pub level_of_assurance: Option<String>,
}

fn text(value: &Value, name: &str) -> Option<String> {
    match value.get(name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Maps userinfo claims (domain.md §12.2) to an identity.
///
/// # Errors
/// `Protocol` when the claims lack what the account kind is keyed by.
pub fn identity(claims: &Value) -> Result<NationalIdentity, OidcError> {
    let kind = match text(claims, "LoaiTaiKhoan").as_deref() {
        None | Some("1") => AccountKind::Citizen,
        Some("2") => AccountKind::Enterprise,
        Some("3") => AccountKind::Organisation,
        Some(other) => return Err(OidcError::Protocol(format!("unknown LoaiTaiKhoan `{other}`"))),
    };
    let key = match kind {
        AccountKind::Citizen => text(claims, "SoDinhDanh").or_else(|| text(claims, "SoCMND")),
        AccountKind::Enterprise => text(claims, "MaSoDoanhNghiep").or_else(|| text(claims, "MaSoThue")),
        AccountKind::Organisation => text(claims, "TechID"),
    }
    .ok_or_else(|| OidcError::Protocol("the userinfo has no identifier for this kind of account".into()))?;
    Ok(NationalIdentity {
        subject: text(claims, "sub").unwrap_or_default(),
        kind,
        key,
        full_name: text(claims, "HoVaTen").or_else(|| text(claims, "TenDoanhNghiep")).unwrap_or_default(),
        email: text(claims, "ThuDienTu"),
        phone: text(claims, "SoDienThoai"),
        level_of_assurance: text(claims, "loAs"),
    })
}

/// The claims of a JWT's payload, unverified (see the module note).
///
/// # Errors
/// `IdToken` when it is not a JWT.
pub fn jwt_claims(token: &str) -> Result<Value, OidcError> {
    let payload = token.split('.').nth(1).ok_or_else(|| OidcError::IdToken("not a JWT".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| OidcError::IdToken("the payload is not base64url".into()))?;
    serde_json::from_slice(&bytes).map_err(|_| OidcError::IdToken("the payload is not JSON".into()))
}

/// Checks an id token's `nonce`, `aud` and `exp` (seconds since the epoch, `now`).
///
/// # Errors
/// `IdToken` naming the first mismatch.
pub fn check_id_token(token: &str, nonce: &str, client_id: &str, now: i64) -> Result<(), OidcError> {
    let claims = jwt_claims(token)?;
    if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err(OidcError::IdToken("nonce".into()));
    }
    let audience_ok = match claims.get("aud") {
        None => true,
        Some(Value::String(aud)) => aud == client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(client_id)),
        Some(_) => false,
    };
    if !audience_ok {
        return Err(OidcError::IdToken("audience".into()));
    }
    if claims.get("exp").and_then(Value::as_i64).is_some_and(|exp| exp < now) {
        return Err(OidcError::IdToken("expired".into()));
    }
    Ok(())
}

/// The tokens of a successful exchange.
#[derive(Clone)]
pub struct Tokens {
    pub access_token: String,
    pub id_token: String,
}

/// A client of the authorization server.
pub struct OidcClient {
    http: reqwest::Client,
    config: OidcConfig,
}

impl OidcClient {
    /// A client for `config`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(config: OidcConfig) -> Result<Self, OidcError> {
        let http = reqwest::Client::builder().timeout(config.timeout).build().map_err(|e| OidcError::Unavailable(e.to_string()))?;
        Ok(Self { http, config })
    }

    /// The configuration.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Where to send the browser (step 1).
    ///
    /// # Errors
    /// `Protocol` when the configured issuer is not a URL.
    pub fn authorize_url(&self, state: &str, nonce: &str) -> Result<String, OidcError> {
        let base = format!("{}{}", self.config.issuer_url, self.config.authorize_path);
        let url = reqwest::Url::parse_with_params(
            &base,
            &[
                ("response_type", "code"),
                ("client_id", self.config.client_id.as_str()),
                ("redirect_uri", self.config.redirect_url.as_str()),
                ("scope", "openid"),
                ("acr_values", self.config.acr_values.as_str()),
                ("state", state),
                ("nonce", nonce),
            ],
        )
        .map_err(|e| OidcError::Protocol(format!("the issuer URL: {e}")))?;
        Ok(url.to_string())
    }

    /// Exchanges the code (step 2).
    ///
    /// # Errors
    /// `CodeRefused` on a 4xx answer; see [`OidcError`].
    pub async fn exchange(&self, code: &str) -> Result<Tokens, OidcError> {
        let url = format!("{}{}", self.config.issuer_url, self.config.token_path);
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.config.redirect_url.as_str()),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.as_str()),
        ];
        let response = self.http.post(&url).form(&form).send().await.map_err(|e| OidcError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_client_error() {
            return Err(OidcError::CodeRefused(text(&body, "error").unwrap_or_else(|| format!("HTTP {}", status.as_u16()))));
        }
        if !status.is_success() {
            return Err(OidcError::Unavailable(format!("HTTP {}", status.as_u16())));
        }
        match (text(&body, "access_token"), text(&body, "id_token")) {
            (Some(access_token), Some(id_token)) => Ok(Tokens { access_token, id_token }),
            _ => Err(OidcError::Protocol("the token answer lacks access_token or id_token".into())),
        }
    }

    /// The userinfo claims (step 3).
    ///
    /// # Errors
    /// See [`OidcError`].
    pub async fn userinfo(&self, access_token: &str) -> Result<NationalIdentity, OidcError> {
        let url = format!("{}{}", self.config.issuer_url, self.config.userinfo_path);
        let response =
            self.http.get(&url).bearer_auth(access_token).send().await.map_err(|e| OidcError::Unavailable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(OidcError::Unavailable(format!("userinfo: HTTP {}", response.status().as_u16())));
        }
        let claims: Value = response.json().await.map_err(|_| OidcError::Protocol("userinfo is not JSON".into()))?;
        identity(&claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwt(claims: &Value) -> String {
        let part = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.sig", part(&json!({"alg": "RS256"})), part(claims))
    }

    #[test]
    fn id_tokens_must_carry_our_nonce_audience_and_a_future_expiry() {
        let good = jwt(&json!({"nonce": "n1", "aud": "motcua", "exp": 2000}));
        assert_eq!(check_id_token(&good, "n1", "motcua", 1000), Ok(()));
        assert_eq!(check_id_token(&good, "n2", "motcua", 1000), Err(OidcError::IdToken("nonce".into())));
        assert_eq!(check_id_token(&good, "n1", "other", 1000), Err(OidcError::IdToken("audience".into())));
        assert_eq!(check_id_token(&good, "n1", "motcua", 3000), Err(OidcError::IdToken("expired".into())));
        assert!(check_id_token("garbage", "n1", "motcua", 0).is_err());
        let listed = jwt(&json!({"nonce": "n1", "aud": ["x", "motcua"]}));
        assert_eq!(check_id_token(&listed, "n1", "motcua", 0), Ok(()));
    }

    #[test]
    fn accounts_are_keyed_by_id_number_tax_code_or_tech_id() {
        let citizen = identity(&json!({"sub": "s", "LoaiTaiKhoan": "1", "SoDinhDanh": "004099012345", "HoVaTen": "Nông Văn Bình"}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (citizen.kind, citizen.key.as_str(), citizen.full_name.as_str()),
            (AccountKind::Citizen, "004099012345", "Nông Văn Bình")
        );
        let firm = identity(&json!({"LoaiTaiKhoan": 2, "MaSoThue": "4800123456", "TenDoanhNghiep": "Công ty A"}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((firm.kind, firm.key.as_str()), (AccountKind::Enterprise, "4800123456"));
        assert!(identity(&json!({"LoaiTaiKhoan": "1"})).is_err());
        assert!(identity(&json!({"LoaiTaiKhoan": "9", "TechID": "x"})).is_err());
    }
}
