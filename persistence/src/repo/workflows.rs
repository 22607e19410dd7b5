//! Electronic workflows (quy trình điện tử, Art. 11): versioned steps per procedure, and
//! optionally per agency.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::workflows;
use crate::{AnyConnection, RepoError};

/// One version of a workflow; `steps` is JSON.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = workflows, treat_none_as_default_value = false)]
pub struct WorkflowRow {
    pub id: String,
    pub procedure_code: String,
    /// The agency id, or empty for the procedure-wide workflow.
    pub agency_key: String,
    pub agency_id: Option<String>,
    pub version: i32,
    pub steps: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The latest workflow for the procedure and agency (`None`: procedure-wide).
pub fn latest(conn: &mut AnyConnection, procedure_code: &str, agency_id: Option<&str>) -> Result<Option<WorkflowRow>, RepoError> {
    Ok(workflows::table
        .filter(workflows::procedure_code.eq(procedure_code))
        .filter(workflows::agency_key.eq(agency_id.unwrap_or("")))
        .order(workflows::version.desc())
        .select(WorkflowRow::as_select())
        .first(conn)
        .optional()?)
}

/// The workflow that applies at `agency_id`: its own latest, else the procedure-wide latest
/// (one query).
pub fn effective(conn: &mut AnyConnection, procedure_code: &str, agency_id: &str) -> Result<Option<WorkflowRow>, RepoError> {
    Ok(workflows::table
        .filter(workflows::procedure_code.eq(procedure_code))
        .filter(workflows::agency_key.eq(agency_id).or(workflows::agency_key.eq("")))
        // The agency's own ('' sorts first, so descending puts it before the procedure-wide).
        .order((workflows::agency_key.desc(), workflows::version.desc()))
        .select(WorkflowRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a new version. Call in [`crate::write_tx`] after locking the procedure; a race with
/// another instance ends in a unique violation rather than two equal versions.
pub fn add(
    conn: &mut AnyConnection,
    procedure_code: &str,
    agency_id: Option<&str>,
    steps: String,
    created_by: Option<&str>,
) -> Result<WorkflowRow, RepoError> {
    let version = latest(conn, procedure_code, agency_id)?.map_or(1, |w| w.version + 1);
    let row = WorkflowRow {
        id: crate::new_id(),
        procedure_code: procedure_code.to_owned(),
        agency_key: agency_id.unwrap_or("").to_owned(),
        agency_id: agency_id.map(str::to_owned),
        version,
        steps,
        created_by: created_by.map(str::to_owned),
        created_at: crate::now(),
    };
    diesel::insert_into(workflows::table).values(&row).execute(conn)?;
    Ok(row)
}
