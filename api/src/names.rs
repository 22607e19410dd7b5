//! Display names that answers repeat on every row: the name and field of a pinned procedure
//! version (immutable once a case pins it) and agency names (kept for a minute: a renamed agency shows
//! its new name everywhere within that time), and staff names for outgoing messages (likewise).
//! Only names live here; nothing that decides anything, so instances may differ for a moment
//! without harm.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use persistence::AnyConnection;

use crate::error::AppError;

const AGENCY_TTL: Duration = Duration::from_secs(60);
/// Bounds memory; past it the cache starts over.
const MAX_ENTRIES: usize = 20_000;

/// What a procedure version is called: immutable once a case pins it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureLabel {
    pub name: String,
    /// The field (lĩnh vực): code and name.
    pub field_code: String,
    pub field_name: String,
}

/// The cache.
#[derive(Debug, Default)]
pub struct Names {
    procedures: RwLock<HashMap<(String, i32), ProcedureLabel>>,
    agencies: RwLock<HashMap<String, (Instant, String, String)>>,
    users: RwLock<HashMap<String, (Instant, String)>>,
}

impl Names {
    /// The name of version `version` of procedure `code`.
    ///
    /// # Errors
    /// Database errors; an unknown version (a case always pins an existing one).
    pub fn procedure(&self, conn: &mut AnyConnection, code: &str, version: i32) -> Result<String, AppError> {
        Ok(self.procedure_label(conn, code, version)?.name)
    }

    /// The name and field (lĩnh vực) of version `version` of procedure `code`.
    ///
    /// # Errors
    /// Database errors; an unknown version (a case always pins an existing one).
    pub fn procedure_label(&self, conn: &mut AnyConnection, code: &str, version: i32) -> Result<ProcedureLabel, AppError> {
        let key = (code.to_owned(), version);
        if let Some(label) = self.procedures.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key) {
            return Ok(label.clone());
        }
        let row = persistence::repo::procedures::version(conn, code, version)?
            .ok_or_else(|| AppError::internal("case without its procedure version"))?;
        /// The part of a version's content the label needs.
        #[derive(serde::Deserialize)]
        struct Content {
            field: persistence::stored::procedure::FieldRef,
        }
        let content: Content = serde_json::from_str(&row.content).map_err(AppError::internal)?;
        let label = ProcedureLabel { name: row.name, field_code: content.field.code, field_name: content.field.name };
        let mut map = self.procedures.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, label.clone());
        Ok(label)
    }

    /// The current name of agency `id` (at most a minute old).
    ///
    /// # Errors
    /// Database errors; an unknown agency.
    pub fn agency(&self, conn: &mut AnyConnection, id: &str) -> Result<String, AppError> {
        Ok(self.agency_label(conn, id)?.1)
    }

    /// The code and current name of agency `id` (at most a minute old).
    ///
    /// # Errors
    /// Database errors; an unknown agency.
    pub fn agency_label(&self, conn: &mut AnyConnection, id: &str) -> Result<(String, String), AppError> {
        if let Some((at, code, name)) = self.agencies.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(id)
            && at.elapsed() < AGENCY_TTL
        {
            return Ok((code.clone(), name.clone()));
        }
        let agency = persistence::repo::agencies::find(conn, id)?.ok_or_else(|| AppError::internal("unknown agency"))?;
        let mut map = self.agencies.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(id.to_owned(), (Instant::now(), agency.code.clone(), agency.name.clone()));
        Ok((agency.code, agency.name))
    }

    /// The full name of user `id` (at most a minute old); empty for an unknown user.
    ///
    /// # Errors
    /// Database errors.
    pub fn user(&self, conn: &mut AnyConnection, id: &str) -> Result<String, AppError> {
        if let Some((at, name)) = self.users.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(id)
            && at.elapsed() < AGENCY_TTL
        {
            return Ok(name.clone());
        }
        let name = persistence::repo::users::find(conn, id)?.map(|u| u.full_name).unwrap_or_default();
        let mut map = self.users.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(id.to_owned(), (Instant::now(), name.clone()));
        Ok(name)
    }
}
