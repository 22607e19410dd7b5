//! Quarterly agency evaluations (Circular 01/2018 Chapter III, domain.md §8.1–8.2): the nine
//! indicators per agency and quarter, averaged over the cases finished in the quarter where a
//! case decides them (1–4, 7) and computed from catalogue, feedback and channel data for the
//! agency-level ones (6, 8, 9); the self-assessed and appraised scores override what the data
//! cannot decide (5, and 6's posting at the premises); total out of 18 and the class with
//! configurable thresholds.

use std::collections::BTreeMap;

use actix_web::{get, put, web};
use chrono::NaiveDate;
use domain::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::evaluations::AgencyEvaluation;
use crate::auth::{Principal, RequestMeta};
use crate::error::{AppError, Problem};
use crate::i18n::Lang;
use crate::state::AppState;

fn parse_quarter(value: &str) -> Result<(NaiveDate, NaiveDate), AppError> {
    Ok(domain::report::parse_quarter(value)?)
}

/// One indicator of an agency.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyIndicator {
    pub number: u8,
    pub name: String,
    /// From the data: the average over the quarter's cases (1–4, 7) or the agency-level score
    /// (6, 8, 9); none where the data does not decide.
    pub computed: Option<f64>,
    pub self_score: Option<u8>,
    pub appraised_score: Option<u8>,
    /// What counts: appraised, else self-assessed, else computed.
    pub points: Option<f64>,
    /// What the computed score rests on.
    pub basis: String,
}

/// An agency's evaluation for a quarter.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyEvaluationView {
    pub agency_id: String,
    pub agency_name: String,
    pub quarter: String,
    /// Cases resolved in the quarter (the base of indicators 1–4 and 7).
    pub cases_evaluated: usize,
    pub indicators: Vec<AgencyIndicator>,
    /// Out of 18.
    pub total: f64,
    /// `xuat_sac`, `tot`, `kha`, `trung_binh`, `yeu` (thresholds: `MOTCUA_EVALUATION_THRESHOLDS`).
    pub class: String,
    pub class_label: String,
    /// 1 for the highest total among the listed agencies.
    pub rank: usize,
    pub deduction_reasons: Option<String>,
}

/// Which quarter and agencies.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvaluationQuery {
    /// `YYYY-Qn` (calendar quarter).
    pub quarter: String,
    /// The agency whose subtree is listed; default as for the statistics.
    pub agency_id: Option<String>,
}

/// The wire view of an agency's evaluation, in the caller's language.
fn view(evaluation: AgencyEvaluation, lang: Lang) -> AgencyEvaluationView {
    AgencyEvaluationView {
        agency_id: evaluation.agency_id,
        agency_name: evaluation.agency_name,
        quarter: evaluation.quarter,
        cases_evaluated: evaluation.cases_evaluated,
        indicators: evaluation
            .indicators
            .into_iter()
            .map(|i| AgencyIndicator {
                number: i.number,
                name: i.name.to_owned(),
                computed: i.computed,
                self_score: i.self_score,
                appraised_score: i.appraised_score,
                points: i.points,
                basis: i.basis,
            })
            .collect(),
        total: evaluation.total,
        class: evaluation.class.as_str().to_owned(),
        class_label: lang.pick(evaluation.class.label()).to_owned(),
        rank: evaluation.rank,
        deduction_reasons: evaluation.deduction_reasons,
    }
}

/// The agencies of the caller's scope evaluated for a quarter, best first (staff, supervisors).
#[utoipa::path(
    tag = "statistics",
    security(("bearer" = [])),
    params(EvaluationQuery),
    responses(
        (status = 200, description = "One evaluation per agency of the subtree, ranked", body = Vec<AgencyEvaluationView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown agency, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad quarter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/evaluations/agencies")]
pub async fn agency_evaluations(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    principal: Principal,
    query: web::Query<EvaluationQuery>,
) -> Result<web::Json<Vec<AgencyEvaluationView>>, AppError> {
    let query = query.into_inner();
    parse_quarter(&query.quarter)?;
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    let views = crate::db::run(&state.pool, move |conn| {
        let root = crate::app::scope::scope_agency(conn, &principal, query.agency_id.as_deref())?;
        let evaluations = crate::app::evaluations::evaluate_agencies(conn, &shared, root.as_ref(), &query.quarter)?;
        Ok(evaluations.into_iter().map(|e| view(e, lang)).collect::<Vec<_>>())
    })
    .await?;
    Ok(web::Json(views))
}

/// Manual scores: the agency's self-assessment (its administrators) or the appraisal
/// (supervisors, system administrators). Indicator number → 0, 1 or 2; an absent number keeps
/// the computed score.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualScores {
    #[schema(value_type = Object, example = json!({"5": 2, "6": 2}))]
    pub scores: BTreeMap<String, u8>,
    /// Why points were deducted (appraisal).
    pub deduction_reasons: Option<String>,
}

/// Records the self-assessed scores (agency administrators of the agency's subtree) or the
/// appraised scores (supervisors, system administrators) of an agency for a quarter.
#[utoipa::path(
    tag = "statistics",
    security(("bearer" = [])),
    params(("agency_id" = String, Path, description = "Agency id"), ("quarter" = String, Path, description = "YYYY-Qn")),
    request_body = ManualScores,
    responses(
        (status = 200, description = "The agency's evaluation with the new scores", body = AgencyEvaluationView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither the agency's administrator nor an appraiser", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown agency, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad quarter, indicator number or score", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/evaluations/agencies/{agency_id}/{quarter}")]
pub async fn put_manual_scores(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: web::Json<ManualScores>,
) -> Result<web::Json<AgencyEvaluationView>, AppError> {
    principal.require(&[Role::AgencyAdmin, Role::Supervisor, Role::SystemAdmin])?;
    let (agency_id, quarter) = path.into_inner();
    parse_quarter(&quarter)?;
    let body = body.into_inner();
    let scores = domain::evaluation::manual_scores(body.scores.iter().map(|(n, p)| (n.as_str(), *p)))?;
    let lang = Lang::of(&req);
    let shared = state.get_ref().clone();
    let scored =
        crate::app::evaluations::ManualScores { agency_id, quarter: quarter.clone(), scores, deduction_reasons: body.deduction_reasons };
    let view = crate::db::write(&state.pool, move |conn| {
        let agency = crate::app::evaluations::record_manual_scores(conn, &shared, &principal, &meta, scored)?;
        let mut evaluations = crate::app::evaluations::evaluate_agencies(conn, &shared, Some(&agency), &quarter)?;
        evaluations.retain(|e| e.agency_id == agency.id);
        evaluations.pop().map(|e| view(e, lang)).ok_or_else(AppError::not_found)
    })
    .await?;
    Ok(web::Json(view))
}
