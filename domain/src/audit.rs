//! The audit trail's hash chain (Art. 6.1.b real-time history, Art. 20.6 integrity).
//!
//! Each entry's hash covers the previous entry's hash and every field of the entry, so editing,
//! deleting or reordering any stored row breaks the chain from that row on.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of one audit entry that the chain protects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedFields<'a> {
    /// Position in the trail, starting at 1.
    pub seq: i64,
    /// When, as RFC 3339 UTC with microseconds.
    pub at: &'a str,
    /// The acting account, if any.
    pub actor_id: Option<&'a str>,
    /// What was done, e.g. `user.create`.
    pub action: &'a str,
    /// The kind of entity changed, e.g. `user`.
    pub entity_type: &'a str,
    /// The changed entity's id or code.
    pub entity_id: &'a str,
    /// Digest of the entity before the change.
    pub before_digest: Option<&'a str>,
    /// Digest of the entity after the change.
    pub after_digest: Option<&'a str>,
    /// The caller's `X-Audit-Reason`.
    pub reason: Option<&'a str>,
    /// The request id.
    pub request_id: Option<&'a str>,
}

/// SHA-256 of `bytes` in lower-case hex.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The hash of an entry chained to `prev_hash`. Fields are length-prefixed so that no two
/// different entries serialise alike.
pub fn chain_hash(prev_hash: &str, fields: &ChainedFields<'_>) -> String {
    let mut hasher = Sha256::new();
    let seq = fields.seq.to_string();
    let parts: [Option<&str>; 11] = [
        Some(prev_hash),
        Some(&seq),
        Some(fields.at),
        fields.actor_id,
        Some(fields.action),
        Some(fields.entity_type),
        Some(fields.entity_id),
        fields.before_digest,
        fields.after_digest,
        fields.reason,
        fields.request_id,
    ];
    for part in parts {
        match part {
            None => hasher.update(b"-"),
            Some(text) => {
                hasher.update(text.len().to_string().as_bytes());
                hasher.update(b":");
                hasher.update(text.as_bytes());
            }
        }
        hasher.update(b"|");
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, reason: Option<&str>) -> ChainedFields<'_> {
        ChainedFields {
            seq,
            at: "2026-11-28T10:00:00.000000Z",
            actor_id: Some("u1"),
            action: "user.create",
            entity_type: "user",
            entity_id: "u2",
            before_digest: None,
            after_digest: Some("abc"),
            reason,
            request_id: None,
        }
    }

    #[test]
    fn any_field_change_changes_the_hash() {
        let a = chain_hash(GENESIS_HASH, &entry(1, None));
        assert_eq!(a, chain_hash(GENESIS_HASH, &entry(1, None)));
        assert_ne!(a, chain_hash(GENESIS_HASH, &entry(2, None)));
        assert_ne!(a, chain_hash(GENESIS_HASH, &entry(1, Some(""))));
        assert_ne!(a, chain_hash(&a, &entry(1, None)));
    }
}
