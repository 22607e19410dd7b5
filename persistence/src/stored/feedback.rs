//! What a feedback row keeps as JSON: how to reach the sender.

use serde::{Deserialize, Serialize};

/// How to reach the sender of a feedback item, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}
