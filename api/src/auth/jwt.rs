//! Short-lived HS256 access tokens.
//!
//! A token names its session (`sid`) and the account's `token_version` (`tv`); both are checked
//! against the database on every request, so logout, disable and role changes take effect at
//! once although the token itself has not expired.

use std::path::Path;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "motcua";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The account id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    /// The account's role when issued (informative; the database is authoritative).
    pub role: String,
    /// The account's token version when issued.
    pub tv: i64,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
    /// Always `motcua`.
    pub iss: String,
}

/// Signing and verification keys.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    /// Keys from a shared secret.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation }
    }

    /// Signs a token for `sub` in session `sid`, valid `ttl_seconds`.
    ///
    /// # Errors
    /// When signing fails (it does not with HS256 and a valid key).
    pub fn issue(&self, sub: &str, sid: &str, role: &str, tv: i64, ttl_seconds: u64) -> Result<String, jsonwebtoken::errors::Error> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            sid: sid.to_owned(),
            role: role.to_owned(),
            tv,
            iat: now,
            exp: now + ttl_seconds,
            iss: ISSUER.to_owned(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of a valid, unexpired token.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation).ok().map(|data| data.claims)
    }
}

/// The signing secret: `JWT_SECRET` when set, otherwise a random key kept in
/// `<data_dir>/jwt_secret` (created on first start with mode 0600).
///
/// # Errors
/// When the key file cannot be read or written.
pub fn load_secret(configured: Option<&str>, data_dir: &Path) -> std::io::Result<Vec<u8>> {
    if let Some(secret) = configured {
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join("jwt_secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(existing.as_bytes().to_vec());
        }
    }
    std::fs::create_dir_all(data_dir)?;
    let secret = random_token(48);
    write_private(&path, secret.as_bytes())?;
    log::info!("generated a JWT signing key in {}", path.display());
    Ok(secret.into_bytes())
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

/// A random URL-safe token of `n_bytes` of entropy.
pub fn random_token(n_bytes: usize) -> String {
    let mut bytes = vec![0_u8; n_bytes];
    if getrandom::fill(&mut bytes).is_err() {
        // The OS random source does not fail on supported platforms; fall back to UUIDv4 bytes.
        for chunk in bytes.chunks_mut(16) {
            let id = uuid::Uuid::new_v4();
            let n = chunk.len();
            chunk.copy_from_slice(&id.as_bytes()[..n]);
        }
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_with_its_key() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let token = keys.issue("u1", "s1", "officer", 3, 60).unwrap_or_default();
        let claims = keys.verify(&token);
        assert_eq!(claims.map(|c| (c.sub, c.sid, c.tv)), Some(("u1".into(), "s1".into(), 3)));
        let other = JwtKeys::new(b"another-secret-another-secret-000");
        assert!(other.verify(&token).is_none());
        assert!(keys.verify("not.a.token").is_none());
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(32), random_token(32));
        assert_eq!(random_token(32).len(), 43);
    }
}
