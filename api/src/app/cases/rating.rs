//! The applicant's rating of the service once the result is returned (Circular 01/2018
//! Chapter III; the regulation's Art. 5.2.g).

use domain::case::{Satisfaction, may_rate};
use persistence::AnyConnection;
use persistence::repo::cases::{self as repo, RatingRow};

use super::{Access, access};
use crate::app::AppError;
use crate::app::error::Code;
use crate::auditing::{self, Change};
use crate::auth::{Principal, RequestMeta};
use crate::state::AppState;

/// A rating of the case `code`.
pub struct RateCase {
    pub code: String,
    pub satisfaction: Satisfaction,
    pub comment: Option<String>,
}

/// Records the rating (once) with its audit entry, in the caller's transaction.
///
/// # Errors
/// `not_found`, `forbidden` (not the applicant), `conflict` (not returned yet, or rated
/// already); database errors.
pub fn rate(
    conn: &mut AnyConnection,
    ctx: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    rating: RateCase,
) -> Result<(String, RatingRow), AppError> {
    let case = repo::find_for_update(conn, &rating.code)?.ok_or_else(AppError::not_found)?;
    if !matches!(access(conn, principal, &case)?, Access::Owner) {
        return Err(AppError::forbidden());
    }
    let status = case.status;
    if !may_rate(status) {
        return Err(AppError::new(Code::Conflict)
            .with_detail("Chỉ đánh giá được hồ sơ đã trả kết quả.", "Only a case whose result was returned can be rated."));
    }
    let row = RatingRow {
        case_id: case.id.clone(),
        satisfaction: rating.satisfaction.as_str().to_owned(),
        comment: rating.comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()),
        created_at: ctx.now(),
    };
    repo::insert_rating(conn, &row)?;
    auditing::record(
        conn,
        meta,
        Change::<(), _> {
            actor_id: Some(&principal.user_id),
            action: "case.rating",
            entity_type: "case",
            entity_id: &case.code,
            before: None,
            after: Some(&row.satisfaction),
        },
    )?;
    Ok((case.code, row))
}
