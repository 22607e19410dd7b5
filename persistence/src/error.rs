//! The persistence error type: what a repository caller can act on, and nothing backend-specific.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Which uniqueness or reference rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// Another agency has this code.
    DuplicateAgencyCode,
    /// Another account has this user name.
    DuplicateUsername,
    /// Another account has this personal id number.
    DuplicateIdNumber,
    /// The case is already rated.
    DuplicateRating,
    /// Another case came with this external id.
    DuplicateExternalId,
    /// Another procedure has this code.
    DuplicateProcedureCode,
    /// The idempotency key is being used by a request still running.
    IdempotencyKeyInUse,
    /// A referenced row does not exist.
    MissingReference,
    /// Any other unique violation.
    Other,
}

/// A repository failure.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The addressed row does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness or reference rule was broken.
    #[error("conflict: {0:?}")]
    Conflict(ConflictKind),
    /// The database cannot be reached or the pool is exhausted.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a broken database.
    #[error("database error: {0}")]
    Other(#[source] DieselError),
}

impl From<DieselError> for RepoError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::NotFound => RepoError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                RepoError::Conflict(classify_unique(info.constraint_name(), info.message()))
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => RepoError::Conflict(ConflictKind::MissingReference),
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => RepoError::Unavailable(error.to_string()),
            _ => RepoError::Other(error),
        }
    }
}

impl From<diesel::r2d2::PoolError> for RepoError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        RepoError::Unavailable(error.to_string())
    }
}

/// PostgreSQL names the constraint; SQLite names `table.column` in the message.
fn classify_unique(constraint: Option<&str>, message: &str) -> ConflictKind {
    let hay = constraint.unwrap_or(message);
    if hay.contains("agencies_code_key") || hay.contains("agencies.code") {
        ConflictKind::DuplicateAgencyCode
    } else if hay.contains("users_username_key") || hay.contains("users.username") {
        ConflictKind::DuplicateUsername
    } else if hay.contains("users_id_number_key") || hay.contains("users.id_number") {
        ConflictKind::DuplicateIdNumber
    } else if hay.contains("case_ratings_pkey") || hay.contains("case_ratings.case_id") {
        ConflictKind::DuplicateRating
    } else if hay.contains("cases_external_id_key") || hay.contains("cases.external_id") {
        ConflictKind::DuplicateExternalId
    } else if hay.contains("procedures_pkey") || hay.contains("procedures.code") {
        ConflictKind::DuplicateProcedureCode
    } else if hay.contains("idempotency_keys") {
        ConflictKind::IdempotencyKeyInUse
    } else {
        ConflictKind::Other
    }
}
