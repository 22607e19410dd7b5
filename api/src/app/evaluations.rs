//! The evaluation of agencies (Circular 01/2018 Chapter III): the manual scores of the
//! indicators that are not computed from cases, self-assessed by the agency or appraised.

use std::collections::BTreeMap;

use domain::Role;
use persistence::AnyConnection;
use persistence::repo::agencies::{self, AgencyRow};
use persistence::repo::evaluations::{self as repo, ManualScoresRow};

use crate::app::AppError;
use crate::auth::{Principal, RequestMeta};
use crate::state::AppState;

/// Manual scores of an agency for a quarter, checked (`domain::evaluation::manual_scores`).
pub struct ManualScores {
    pub agency_id: String,
    /// `YYYY-Qn`.
    pub quarter: String,
    /// Indicator number → points.
    pub scores: BTreeMap<u8, u8>,
    /// Why points were deducted (appraisal).
    pub deduction_reasons: Option<String>,
}

/// Records the scores as the agency's self-assessment (its administrators) or as the appraisal
/// (supervisors, system administrators), with the audit entry; returns the agency.
///
/// # Errors
/// `not_found` for an agency outside the caller's scope; database errors.
pub fn record_manual_scores(
    conn: &mut AnyConnection,
    ctx: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    manual: ManualScores,
) -> Result<AgencyRow, AppError> {
    let ManualScores { agency_id, quarter, scores, deduction_reasons } = manual;
    let agency = agencies::find(conn, &agency_id)?.ok_or_else(AppError::not_found)?;
    if !principal.covers_path(&agency.path) {
        return Err(AppError::not_found());
    }
    let now = ctx.now();
    let existing = repo::manual_scores(conn, &agency.path, &quarter)?.into_iter().find(|r| r.agency_id == agency.id);
    let mut row = existing.unwrap_or_else(|| ManualScoresRow {
        agency_id: agency.id.clone(),
        quarter: quarter.clone(),
        self_scores: "{}".into(),
        appraised_scores: "{}".into(),
        deduction_reasons: None,
        updated_by: None,
        updated_at: now,
    });
    let text = persistence::stored::write(&scores)?;
    let self_assessed = principal.role == Role::AgencyAdmin;
    if self_assessed {
        row.self_scores = text;
    } else {
        row.appraised_scores = text;
        row.deduction_reasons = deduction_reasons;
    }
    row.updated_by = Some(principal.user_id.clone());
    row.updated_at = now;
    repo::upsert(conn, &row)?;
    crate::auditing::record(
        conn,
        meta,
        crate::auditing::Change::<(), _> {
            actor_id: Some(&principal.user_id),
            action: if self_assessed { "evaluation.self_score" } else { "evaluation.appraise" },
            entity_type: "agency_evaluation",
            entity_id: &format!("{}/{quarter}", agency.id),
            before: None,
            after: Some(&scores),
        },
    )?;
    Ok(agency)
}
