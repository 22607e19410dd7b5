//! Frozen periodic reports. Rows are never updated except for their submission state and never
//! deleted (database triggers refuse it).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::report_snapshots;
use crate::{AnyConnection, ConflictKind, RepoError};

/// A frozen report.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = report_snapshots, treat_none_as_default_value = false)]
pub struct SnapshotRow {
    pub id: String,
    pub template: String,
    pub period: String,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    /// The agency id, or `""` for the whole province.
    pub scope: String,
    pub group_by: String,
    /// `manual` or `scheduled`.
    pub trigger_kind: String,
    /// The report as frozen (JSON).
    pub content: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    /// `not_sent` until the reporting-system integration takes it.
    pub submission_status: String,
    pub submission_ref: Option<String>,
    pub submitted_at: Option<NaiveDateTime>,
}

/// Stores a snapshot; `Ok(false)` when a scheduled snapshot of the same period and scope
/// exists already (another instance froze it first).
///
/// # Errors
/// Database errors.
pub fn insert(conn: &mut AnyConnection, row: &SnapshotRow) -> Result<bool, RepoError> {
    let inserted = conn.transaction(|conn| diesel::insert_into(report_snapshots::table).values(row).execute(conn).map_err(RepoError::from));
    match inserted {
        Ok(_) => Ok(true),
        Err(RepoError::Conflict(ConflictKind::Other)) if row.trigger_kind == "scheduled" => Ok(false),
        Err(e) => Err(e),
    }
}

/// Records the reporting system's answer to a snapshot's submission (`queued`, `sent` with its
/// reference, or `failed`); the frozen content stays as it is.
///
/// # Errors
/// Database errors.
pub fn mark_submission(
    conn: &mut AnyConnection,
    id: &str,
    status: &str,
    reference: Option<&str>,
    at: Option<NaiveDateTime>,
) -> Result<(), RepoError> {
    diesel::update(report_snapshots::table.find(id))
        .set((
            report_snapshots::submission_status.eq(status),
            report_snapshots::submission_ref.eq(reference),
            report_snapshots::submitted_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// One snapshot.
///
/// # Errors
/// Database errors.
pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<SnapshotRow>, RepoError> {
    Ok(report_snapshots::table.find(id).select(SnapshotRow::as_select()).first(conn).optional()?)
}

/// Whether a scheduled snapshot exists for the template, period, scope and grouping.
///
/// # Errors
/// Database errors.
pub fn scheduled_exists(conn: &mut AnyConnection, template: &str, period: &str, scope: &str, group_by: &str) -> Result<bool, RepoError> {
    let n: i64 = report_snapshots::table
        .filter(report_snapshots::template.eq(template))
        .filter(report_snapshots::period.eq(period))
        .filter(report_snapshots::scope.eq(scope))
        .filter(report_snapshots::group_by.eq(group_by))
        .filter(report_snapshots::trigger_kind.eq("scheduled"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Snapshots, newest first, optionally of one template and period, within `scopes` (all when
/// `None`), at most `limit`, after the snapshot id `before` (ids are time-ordered UUIDv7).
///
/// # Errors
/// Database errors.
pub fn list(
    conn: &mut AnyConnection,
    template: Option<&str>,
    period: Option<&str>,
    scopes: Option<&[String]>,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<SnapshotRow>, RepoError> {
    let mut q = report_snapshots::table.select(SnapshotRow::as_select()).order(report_snapshots::id.desc()).limit(limit).into_boxed();
    if let Some(t) = template {
        q = q.filter(report_snapshots::template.eq(t.to_owned()));
    }
    if let Some(p) = period {
        q = q.filter(report_snapshots::period.eq(p.to_owned()));
    }
    if let Some(scopes) = scopes {
        q = q.filter(report_snapshots::scope.eq_any(scopes.to_vec()));
    }
    if let Some(b) = before {
        q = q.filter(report_snapshots::id.lt(b.to_owned()));
    }
    Ok(q.load(conn)?)
}
