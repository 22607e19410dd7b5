//! What the quarterly agency evaluation reads: the cases finished in the quarter with their
//! step history, conduct complaints, and the manual (self and appraised) scores.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{agencies, agency_evaluations, case_events, cases, feedback, procedure_versions};
use crate::{AnyConnection, RepoError};

/// The manual scores of an agency for a quarter.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agency_evaluations, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ManualScoresRow {
    pub agency_id: String,
    /// `YYYY-Qn`.
    pub quarter: String,
    /// JSON object indicator number → 0, 1 or 2.
    pub self_scores: String,
    /// JSON object indicator number → 0, 1 or 2.
    pub appraised_scores: String,
    pub deduction_reasons: Option<String>,
    pub updated_by: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// Stores (replaces) the manual scores.
///
/// # Errors
/// Database errors.
pub fn upsert(conn: &mut AnyConnection, row: &ManualScoresRow) -> Result<(), RepoError> {
    use agency_evaluations::dsl as e;
    crate::per_backend!(conn, |c| diesel::insert_into(e::agency_evaluations)
        .values(row)
        .on_conflict((e::agency_id, e::quarter))
        .do_update()
        .set(row)
        .execute(c))?;
    Ok(())
}

/// The manual scores of a quarter for agencies under `path`.
///
/// # Errors
/// Database errors.
pub fn manual_scores(conn: &mut AnyConnection, path: &str, quarter: &str) -> Result<Vec<ManualScoresRow>, RepoError> {
    let ids = agencies::table.filter(agencies::path.like(format!("{path}%"))).select(agencies::id);
    Ok(agency_evaluations::table
        .filter(agency_evaluations::quarter.eq(quarter))
        .filter(agency_evaluations::agency_id.eq_any(ids))
        .select(ManualScoresRow::as_select())
        .load(conn)?)
}

/// A finished case as the evaluation needs it.
#[derive(Debug, Clone, Queryable)]
pub struct FinishedCase {
    pub id: String,
    pub agency_id: String,
    pub procedure_code: String,
    pub channel: String,
    pub due_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub supplement_count: i32,
}

/// Cases resolved (or returned) with processing finished in `[from, to)`, under `path`.
///
/// # Errors
/// Database errors.
pub fn finished_cases(
    conn: &mut AnyConnection,
    path: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<FinishedCase>, RepoError> {
    let ids = agencies::table.filter(agencies::path.like(format!("{path}%"))).select(agencies::id);
    Ok(cases::table
        .filter(cases::agency_id.eq_any(ids))
        .filter(cases::status.eq_any(["resolved", "returned"]))
        .filter(cases::finished_at.ge(from))
        .filter(cases::finished_at.lt(to))
        .select((
            cases::id,
            cases::agency_id,
            cases::procedure_code,
            cases::channel,
            cases::due_at,
            cases::finished_at,
            cases::supplement_count,
        ))
        .load(conn)?)
}

/// One event as the evaluation reads it: (case id, time, action, step due instant).
pub type StepEvent = (String, NaiveDateTime, String, Option<NaiveDateTime>);

/// The history of many cases, in order.
///
/// # Errors
/// Database errors.
pub fn step_events(conn: &mut AnyConnection, case_ids: &[String]) -> Result<Vec<StepEvent>, RepoError> {
    let mut out = Vec::new();
    for chunk in case_ids.chunks(500) {
        out.extend(
            case_events::table
                .filter(case_events::case_id.eq_any(chunk))
                .order((case_events::case_id.asc(), case_events::seq.asc()))
                .select((case_events::case_id, case_events::at, case_events::action, case_events::step_due_at))
                .load::<StepEvent>(conn)?,
        );
    }
    Ok(out)
}

/// Cases among `case_ids` with conduct complaints that were not refused.
///
/// # Errors
/// Database errors.
pub fn complained_cases(conn: &mut AnyConnection, case_ids: &[String]) -> Result<Vec<String>, RepoError> {
    let mut out = Vec::new();
    for chunk in case_ids.chunks(500) {
        out.extend(
            feedback::table
                .filter(feedback::related_case_id.eq_any(chunk))
                .filter(feedback::category.eq("conduct"))
                .filter(feedback::status.ne("refused"))
                .select(feedback::related_case_id.assume_not_null())
                .load::<String>(conn)?,
        );
    }
    Ok(out)
}

/// The current procedures an agency implements: (code, online level).
///
/// # Errors
/// Database errors.
pub fn procedures_of(conn: &mut AnyConnection, agency_id: &str) -> Result<Vec<(String, String)>, RepoError> {
    Ok(procedure_versions::table
        .filter(procedure_versions::is_current.eq(true))
        .filter(procedure_versions::agency_ids.like(format!("%,{agency_id},%")))
        .select((procedure_versions::procedure_code, procedure_versions::online_level))
        .load(conn)?)
}

/// Which of `codes` have a current (published) version.
///
/// # Errors
/// Database errors.
pub fn published(conn: &mut AnyConnection, codes: &[String]) -> Result<Vec<String>, RepoError> {
    Ok(procedure_versions::table
        .filter(procedure_versions::procedure_code.eq_any(codes))
        .filter(procedure_versions::is_current.eq(true))
        .filter(procedure_versions::status.eq("published"))
        .select(procedure_versions::procedure_code)
        .load(conn)?)
}
