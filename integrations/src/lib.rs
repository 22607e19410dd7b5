//! HTTP clients of the national systems and notification gateways.
//!
//! Architecture invariant: foreign payloads (Vietnamese field names, `error_code` envelopes,
//! `yyyyMMddHHmmss` dates) stay in this crate. It depends on `domain` only and hands neutral,
//! already-validated values to its callers.

pub mod gateway;
pub mod national;
pub mod objects;
pub mod oidc;
pub mod pakn;

pub use national::adapter::{AdapterClient, AdapterConfig, AdapterError, Answer};
