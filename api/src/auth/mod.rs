//! Authentication and authorization: tokens, password hashing and the caller of a request.

pub mod jwt;
pub mod password;
pub mod principal;
pub mod tokens;

pub use principal::{Principal, RequestMeta};
