//! Cases: who may see and act on one, what the use cases share, and the use cases themselves
//! (`submit`, `act`, `documents`, `rating`).

pub mod act;
pub mod documents;
pub mod rating;
pub mod register;
pub mod submit;
#[cfg(test)]
mod tests;

use chrono::NaiveDateTime;
use domain::case::intake::CaseSource;
use domain::case::{Actor, Timeliness, case_timeliness};
use domain::{Capability, IntegrationScope, Role};
use persistence::AnyConnection;
use persistence::repo::cases::{self as repo, CaseRow};
use persistence::repo::{agencies, procedures};
use persistence::stored::procedure as stored;

use crate::app::AppError;
use crate::auth::Principal;

/// What the caller may do with a case.
pub enum Access {
    Owner,
    Staff(Vec<Capability>),
    ReadOnly,
}

/// The access of the caller to the cases of a list the query has already scoped to them.
pub fn list_access(principal: &Principal) -> Access {
    match principal.role {
        Role::Citizen => Access::Owner,
        Role::Officer => Access::Staff(principal.capabilities.iter().filter_map(|c| Capability::parse(c, "capabilities").ok()).collect()),
        _ => Access::ReadOnly,
    }
}

/// The case with `code` and the caller's access to it; 404 when unknown or out of scope.
pub fn case_in_scope(conn: &mut AnyConnection, principal: &Principal, code: &str) -> Result<(CaseRow, Access), AppError> {
    let case = repo::find_by_code(conn, code)?.ok_or_else(AppError::not_found)?;
    let access = access(conn, principal, &case)?;
    Ok((case, access))
}

/// The caller's access to `case`; 404 when it lies outside their scope.
///
/// # Errors
/// `not_found`; database errors.
pub fn access(conn: &mut AnyConnection, principal: &Principal, case: &CaseRow) -> Result<Access, AppError> {
    match principal.role {
        Role::Citizen if case.owner_id.as_deref() == Some(principal.user_id.as_str()) => Ok(Access::Owner),
        Role::SystemAdmin | Role::Supervisor => Ok(Access::ReadOnly),
        // An integration client (the national portal) reads the cases forwarded from it, never
        // the province's counter and postal cases.
        Role::Integration
            if case.source == CaseSource::NationalPortal
                && principal.capabilities.iter().any(|c| c == IntegrationScope::CasesRead.as_str()) =>
        {
            Ok(Access::ReadOnly)
        }
        Role::Officer | Role::AgencyAdmin => {
            let agency = agencies::find(conn, &case.agency_id)?.ok_or_else(AppError::not_found)?;
            if !principal.covers_path(&agency.path) {
                return Err(AppError::not_found());
            }
            if principal.role == Role::AgencyAdmin {
                return Ok(Access::ReadOnly);
            }
            Ok(Access::Staff(principal.capabilities.iter().filter_map(|c| Capability::parse(c, "capabilities").ok()).collect()))
        }
        _ => Err(AppError::not_found()),
    }
}

/// Who the caller acts as, when they may act at all.
pub fn actor_of(access: &Access) -> Option<Actor> {
    match access {
        Access::Owner => Some(Actor::Applicant),
        Access::Staff(capabilities) => Some(Actor::Officer(capabilities.clone())),
        Access::ReadOnly => None,
    }
}

/// The entity tag of a case's current revision.
pub fn etag(case: &CaseRow) -> String {
    format!("\"{}-r{}\"", case.id, case.revision)
}

/// How a case stands against its due date at `now`.
pub fn timeliness(case: &CaseRow, now: NaiveDateTime) -> Option<Timeliness> {
    let status = case.status;
    case_timeliness(
        status,
        case.received_at.is_some(),
        case.due_at.map(domain::time::local_date),
        case.finished_at.map(domain::time::local_date),
        domain::time::local_date(now),
    )
}

/// The procedure version a case pinned, and its content.
pub fn procedure_of(
    conn: &mut AnyConnection,
    case: &CaseRow,
) -> Result<(persistence::repo::procedures::VersionRow, stored::ProcedureContent), AppError> {
    let version = procedures::version(conn, &case.procedure_code, case.procedure_version)?
        .ok_or_else(|| AppError::internal("case without its procedure version"))?;
    let content = crate::app::procedures::content_of(&version)?;
    Ok((version, content))
}

/// The published version of procedure `code`, and its content.
///
/// # Errors
/// `validation_failed` when no published procedure has this code.
pub fn current_procedure(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<(persistence::repo::procedures::VersionRow, stored::ProcedureContent), AppError> {
    let version =
        procedures::current(conn, code)?.ok_or_else(|| AppError::invalid("procedure_code", "no published procedure has this code"))?;
    let content = crate::app::procedures::content_of(&version)?;
    Ok((version, content))
}
