//! Differences between the national portal's view of cases and ours (domain.md §10.2
//! "reconciliation report"), as found by the last check of each case.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{cases, outbox_messages, reconciliation_findings};
use crate::{AnyConnection, RepoError};

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reconciliation_findings, treat_none_as_default_value = false)]
pub struct FindingRow {
    pub target: String,
    pub case_code: String,
    /// `missing` (the portal does not know the case), `status` or `due_date`.
    pub kind: String,
    /// Our national status code.
    pub ours_status: i32,
    pub theirs_status: Option<i32>,
    /// Our due date as the portal writes dates (`yyyyMMddHHmmss`, Vietnam time).
    pub ours_due: Option<String>,
    pub theirs_due: Option<String>,
    pub checked_at: NaiveDateTime,
}

/// A case to compare: code, status and due date.
pub type CaseState = (String, String, Option<NaiveDateTime>);

/// Cases changed since `since`, most recent first, at most `limit`.
///
/// # Errors
/// Database errors.
pub fn recent_cases(conn: &mut AnyConnection, since: NaiveDateTime, limit: i64) -> Result<Vec<CaseState>, RepoError> {
    Ok(cases::table
        .filter(cases::updated_at.ge(since))
        .order(cases::updated_at.desc())
        .limit(limit)
        .select((cases::code, cases::status, cases::due_at))
        .load(conn)?)
}

/// Which of `codes` still have messages to `target` in the outbox (in flight, not differences):
/// a probe of the open messages' ordering index per case (a case's messages are keyed by its id).
///
/// # Errors
/// Database errors.
pub fn in_flight(conn: &mut AnyConnection, target: &str, codes: &[String]) -> Result<HashSet<String>, RepoError> {
    let mut out = HashSet::new();
    for chunk in codes.chunks(500) {
        let rows: Vec<String> = outbox_messages::table
            .filter(outbox_messages::target.eq(target))
            .filter(outbox_messages::status.eq_any(["pending", "failed"]))
            .filter(outbox_messages::ordering_key.eq_any(cases::table.filter(cases::code.eq_any(chunk)).select(cases::id)))
            .select(outbox_messages::subject)
            .distinct()
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Replaces the findings of the `checked` cases of `target` with `findings`.
///
/// # Errors
/// Database errors.
pub fn record(conn: &mut AnyConnection, target: &str, checked: &[String], findings: &[FindingRow]) -> Result<(), RepoError> {
    crate::db::write_tx(conn, |conn| {
        for chunk in checked.chunks(500) {
            diesel::delete(
                reconciliation_findings::table
                    .filter(reconciliation_findings::target.eq(target))
                    .filter(reconciliation_findings::case_code.eq_any(chunk)),
            )
            .execute(conn)?;
        }
        for chunk in findings.chunks(500) {
            crate::per_backend!(conn, |c| diesel::insert_into(reconciliation_findings::table).values(chunk).execute(c))?;
        }
        Ok(())
    })
}

/// The findings of `target` by case code, after `after`, at most `limit`.
///
/// # Errors
/// Database errors.
pub fn list(conn: &mut AnyConnection, target: &str, after: Option<&str>, limit: i64) -> Result<crate::repo::Page<FindingRow>, RepoError> {
    let mut query = reconciliation_findings::table
        .filter(reconciliation_findings::target.eq(target))
        .order(reconciliation_findings::case_code)
        .select(FindingRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(reconciliation_findings::case_code.gt(after.to_owned()));
    }
    let rows = query.limit(limit + 1).load(conn)?;
    Ok(crate::repo::Page::from_overfetch(rows, limit, |r| r.case_code.clone()))
}
