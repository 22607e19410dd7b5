//! The shapes of the JSON that rows keep in text columns (a case's applicant and declared
//! documents, a procedure version's content and workflow steps, a feedback sender's contact).
//!
//! Architecture invariant: these types are the storage format, and only that. They derive
//! serde alone; the wire types of `api` convert to and from them, so renaming an API field never
//! changes what rows hold, and rows written before keep reading.

pub mod case;
pub mod feedback;
pub mod job;
pub mod procedure;
pub mod report;

/// Reads stored JSON text as `T`.
///
/// # Errors
/// [`crate::RepoError::Other`] when the text does not hold a `T`.
pub fn read<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, crate::RepoError> {
    serde_json::from_str(text).map_err(|e| crate::RepoError::Other(crate::DbError::DeserializationError(Box::new(e))))
}

/// Writes `value` as stored JSON text.
///
/// # Errors
/// [`crate::RepoError::Other`] when serde cannot write it (never for these types).
pub fn write<T: serde::Serialize>(value: &T) -> Result<String, crate::RepoError> {
    serde_json::to_string(value).map_err(|e| crate::RepoError::Other(crate::DbError::SerializationError(Box::new(e))))
}
