//! The role ledger of Art. 7.3: every grant and revocation of a role, per agency.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::repo::Page;
use crate::schema::role_ledger;
use crate::{AnyConnection, RepoError};

/// One grant or revocation.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = role_ledger, treat_none_as_default_value = false)]
pub struct LedgerRow {
    pub id: String,
    pub agency_id: Option<String>,
    pub actor_id: Option<String>,
    pub subject_id: String,
    /// `grant` or `revoke`.
    pub action: String,
    pub role: String,
    pub capabilities: String,
    pub reason: Option<String>,
    pub at: NaiveDateTime,
}

/// Records a grant or revocation.
#[expect(clippy::too_many_arguments, reason = "one column each; a struct would only rename them")]
pub fn record(
    conn: &mut AnyConnection,
    agency_id: Option<&str>,
    actor_id: Option<&str>,
    subject_id: &str,
    action: &str,
    role: &str,
    capabilities: &[String],
    reason: Option<&str>,
) -> Result<(), RepoError> {
    let row = LedgerRow {
        id: crate::new_id(),
        agency_id: agency_id.map(str::to_owned),
        actor_id: actor_id.map(str::to_owned),
        subject_id: subject_id.to_owned(),
        action: action.to_owned(),
        role: role.to_owned(),
        capabilities: capabilities.join(","),
        reason: reason.map(str::to_owned),
        at: crate::now(),
    };
    diesel::insert_into(role_ledger::table).values(&row).execute(conn)?;
    Ok(())
}

/// A page of an agency's ledger, oldest first.
pub fn list(conn: &mut AnyConnection, agency_id: &str, after: Option<&str>, limit: i64) -> Result<Page<LedgerRow>, RepoError> {
    let mut query = role_ledger::table.filter(role_ledger::agency_id.eq(agency_id)).select(LedgerRow::as_select()).into_boxed();
    if let Some(after) = after {
        query = query.filter(role_ledger::id.gt(after.to_owned()));
    }
    let rows = query.order(role_ledger::id.asc()).limit(limit + 1).load(conn)?;
    Ok(Page::from_overfetch(rows, limit, |r| r.id.clone()))
}
