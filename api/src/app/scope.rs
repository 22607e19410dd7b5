//! Which agencies a caller's question covers.

use domain::Role;
use persistence::repo::agencies;

use crate::app::AppError;
use crate::auth::Principal;

/// The agency a statistic or register covers for the caller: `agency_id`, else the caller's own
/// agency for agency staff, else (`None`) the whole province.
///
/// # Errors
/// 403 for callers who are not staff; 404 for an agency outside the caller's scope.
pub fn scope_agency(
    conn: &mut persistence::AnyConnection,
    principal: &Principal,
    agency_id: Option<&str>,
) -> Result<Option<agencies::AgencyRow>, AppError> {
    principal.require(&[Role::Officer, Role::AgencyAdmin, Role::Supervisor, Role::SystemAdmin])?;
    let agency_bound = matches!(principal.role, Role::Officer | Role::AgencyAdmin);
    match agency_id.or(if agency_bound { principal.agency_id.as_deref() } else { None }) {
        Some(id) => {
            let agency = agencies::find(conn, id)?.ok_or_else(AppError::not_found)?;
            if agency_bound && !principal.covers_path(&agency.path) {
                return Err(AppError::not_found());
            }
            Ok(Some(agency))
        }
        None if agency_bound => Err(AppError::not_found()),
        None => Ok(None),
    }
}
