//! Response bodies shared by several areas, converted from repository rows.

use chrono::{DateTime, Utc};
use persistence::repo::agencies::AgencyRow;
use persistence::repo::users::UserRow;
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::Lang;

/// `From` both ways between a wire type and its stored twin (`persistence::stored`), field by
/// field: each field converts with `Into` (itself, or a nested pair given to this macro too),
/// `lists` element by element, `options` inside their `Option`. Enums map variant to variant.
macro_rules! mirror {
    ($wire:ty, $stored:ty { $($field:ident),* $(,)? } $(lists { $($list:ident),* $(,)? })? $(options { $($option:ident),* $(,)? })?) => {
        impl From<$wire> for $stored {
            fn from(v: $wire) -> Self {
                Self {
                    $($field: v.$field.into(),)*
                    $($($list: v.$list.into_iter().map(Into::into).collect(),)*)?
                    $($($option: v.$option.map(Into::into),)*)?
                }
            }
        }
        impl From<$stored> for $wire {
            fn from(v: $stored) -> Self {
                Self {
                    $($field: v.$field.into(),)*
                    $($($list: v.$list.into_iter().map(Into::into).collect(),)*)?
                    $($($option: v.$option.map(Into::into),)*)?
                }
            }
        }
    };
    (enum $wire:ty, $stored:ty { $($variant:ident),* $(,)? }) => {
        impl From<$wire> for $stored {
            fn from(v: $wire) -> Self {
                match v { $(<$wire>::$variant => Self::$variant,)* }
            }
        }
        impl From<$stored> for $wire {
            fn from(v: $stored) -> Self {
                match v { $(<$stored>::$variant => Self::$variant,)* }
            }
        }
    };
}
pub(crate) use mirror;

/// Stored UTC time as an RFC 3339 instant.
pub fn utc(at: chrono::NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// An account as administrators and the holder see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub full_name: String,
    /// `system_admin`, `agency_admin`, `officer`, `supervisor`, `citizen` or `integration`.
    pub role: String,
    /// The role's label in the caller's language.
    pub role_label: String,
    /// Officer capabilities (`reception`, `processing`, `approval`, `result_return`) or
    /// integration scopes.
    pub capabilities: Vec<String>,
    pub agency_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserView {
    /// The view of `row` with labels in `lang`.
    pub fn from_row(row: &UserRow, lang: Lang) -> Self {
        let role_label = domain::Role::parse(&row.role, "role").map_or_else(|_| row.role.clone(), |r| lang.pick(r.label()).to_owned());
        UserView {
            id: row.id.clone(),
            username: row.username.clone(),
            full_name: row.full_name.clone(),
            role: row.role.clone(),
            role_label,
            capabilities: row.capability_list(),
            agency_id: row.agency_id.clone(),
            phone: row.phone.clone(),
            email: row.email.clone(),
            active: row.active,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

/// An agency of the administrative tree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgencyView {
    pub id: String,
    /// Electronic identifier code, e.g. `000.00.00.H14`.
    pub code: String,
    pub name: String,
    /// `province`, `department`, `district`, `commune` or `unit`.
    pub level: String,
    /// The level's label in the caller's language.
    pub level_label: String,
    pub parent_id: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AgencyView {
    /// The view of `row` with labels in `lang`.
    pub fn from_row(row: &AgencyRow, lang: Lang) -> Self {
        let level_label =
            domain::AgencyLevel::parse(&row.level, "level").map_or_else(|_| row.level.clone(), |l| lang.pick(l.label()).to_owned());
        AgencyView {
            id: row.id.clone(),
            code: row.code.clone(),
            name: row.name.clone(),
            level: row.level.clone(),
            level_label,
            parent_id: row.parent_id.clone(),
            active: row.active,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

pub use crate::app::accounts::UserAuditState;

/// A token pair (or, for client credentials, an access token alone).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Bearer token for the `Authorization` header.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// One-time token for `POST /auth/refresh`; absent for client credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Granted scopes of an integration client, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}
