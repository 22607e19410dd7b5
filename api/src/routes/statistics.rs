//! Statistics (api.md §3.8): satisfaction with the service, from the applicants' ratings of
//! returned cases (Art. 5.2.g, Circular 01/2018 Chapter III).

use actix_web::{get, web};
use chrono::NaiveDate;
use domain::case::Satisfaction;
use persistence::repo::cases as repo;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::error::{AppError, Problem};
use crate::state::AppState;

/// The window and agency of a statistic.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    /// First day (inclusive), `YYYY-MM-DD`, Asia/Ho_Chi_Minh.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// The agency (its subtree is included); default: the caller's agency for agency staff, the
    /// whole province for supervisors and system administrators.
    pub agency_id: Option<String>,
}

/// Counts and shares of one satisfaction level.
#[derive(Debug, Serialize, ToSchema)]
pub struct LevelCount {
    /// `very_satisfied`, `satisfied` or `unsatisfied`.
    pub level: String,
    /// Rất hài lòng, Hài lòng, Không hài lòng.
    pub label: String,
    pub count: i64,
    /// Share of all ratings in the window, 0–1 (0 when there are none).
    pub share: f64,
}

/// Ratings in a window.
#[derive(Debug, Serialize, ToSchema)]
pub struct SatisfactionView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub agency_id: Option<String>,
    pub total: i64,
    pub levels: Vec<LevelCount>,
}

/// Satisfaction ratings given in the window, for an agency subtree (staff, supervisors).
#[utoipa::path(
    tag = "statistics",
    security(("bearer" = [])),
    params(WindowQuery),
    responses(
        (status = 200, description = "Rating counts and shares", body = SatisfactionView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown agency, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad window", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/statistics/satisfaction")]
pub async fn satisfaction_statistics(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<WindowQuery>,
) -> Result<web::Json<SatisfactionView>, AppError> {
    let query = query.into_inner();
    let (start, end) = domain::time::local_days(query.from, query.to)?;
    let (from, to, agency_id) = (query.from, query.to, query.agency_id.clone());
    let counts = crate::db::run(&state.pool, move |conn| {
        let path = crate::app::scope::scope_agency(conn, &principal, agency_id.as_deref())?.map(|a| a.path);
        Ok(repo::rating_counts(conn, path.as_deref(), start.naive_utc(), end.naive_utc())?)
    })
    .await?;
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    #[expect(clippy::cast_precision_loss, reason = "shares for display")]
    let share = |n: i64| if total == 0 { 0.0 } else { n as f64 / total as f64 };
    let levels = Satisfaction::ALL
        .iter()
        .map(|level| {
            let count = counts.iter().find(|(l, _)| l == level.as_str()).map_or(0, |(_, n)| *n);
            LevelCount { level: level.as_str().to_owned(), label: level.label().vi.to_owned(), count, share: share(count) }
        })
        .collect();
    Ok(web::Json(SatisfactionView { from, to, agency_id: query.agency_id, total, levels }))
}
