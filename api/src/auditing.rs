//! Writing audit entries from handlers, inside the transaction of the change.

use persistence::AnyConnection;
use persistence::repo::audit::{NewAuditEntry, append};
use serde::Serialize;

use crate::auth::RequestMeta;
use crate::error::AppError;

/// Digest of a JSON view of an entity, for `before_digest`/`after_digest`.
pub fn digest_of<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_vec(value).ok().map(|bytes| domain::audit::digest(&bytes))
}

/// One change to record.
pub struct Change<'a, B: Serialize, A: Serialize> {
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub before: Option<&'a B>,
    pub after: Option<&'a A>,
}

/// Appends the change to the audit trail. Call inside the write transaction of the change.
///
/// # Errors
/// Database errors.
pub fn record<B: Serialize, A: Serialize>(conn: &mut AnyConnection, meta: &RequestMeta, change: Change<'_, B, A>) -> Result<(), AppError> {
    append(
        conn,
        NewAuditEntry {
            actor_id: change.actor_id.map(str::to_owned),
            action: change.action.to_owned(),
            entity_type: change.entity_type.to_owned(),
            entity_id: change.entity_id.to_owned(),
            before_digest: change.before.and_then(digest_of),
            after_digest: change.after.and_then(digest_of),
            reason: meta.reason.clone(),
            request_id: meta.request_id.clone(),
        },
    )?;
    Ok(())
}
