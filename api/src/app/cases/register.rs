//! The case register (sổ theo dõi hồ sơ, form 06 of Circular 01/2018) of an agency subtree for
//! a period: the cases received, with their applicant, procedure, agency and receiving officer.

use std::collections::HashMap;
use std::collections::hash_map::Entry as Slot;

use chrono::{DateTime, Utc};
use domain::case::CaseAction;
use persistence::AnyConnection;
use persistence::repo::agencies::{self, AgencyRow};
use persistence::repo::cases::{self as repo, CaseFilter, CaseRow};
use persistence::repo::users;
use persistence::stored::case::Party;

use crate::app::AppError;
use crate::auth::Principal;

/// One case of the register.
pub struct Entry {
    pub case: CaseRow,
    pub applicant: Party,
    pub procedure_name: String,
    pub agency_name: String,
    /// The officer who received it (empty for cases not received at a counter).
    pub received_by: String,
}

/// The register of an agency.
pub struct Register {
    pub agency: AgencyRow,
    pub entries: Vec<Entry>,
}

/// The cases received in `[start, end)` under `agency_id` (default: the caller's agency), at
/// most `limit`.
///
/// # Errors
/// `forbidden` for callers who are not staff, `not_found` for an agency outside their scope,
/// `validation_failed` without an agency or for more than `limit` cases; database errors.
pub fn register(
    conn: &mut AnyConnection,
    principal: &Principal,
    agency_id: Option<String>,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    limit: i64,
) -> Result<Register, AppError> {
    let wanted = agency_id.or(principal.agency_id.clone());
    let agency = crate::app::scope::scope_agency(conn, principal, wanted.as_deref())?
        .ok_or_else(|| AppError::invalid("agency_id", "is required"))?;
    let filter = CaseFilter {
        under_path: Some(agency.path.clone()),
        received_from: Some(start.naive_utc()),
        received_to: Some(end.naive_utc()),
        limit,
        ..CaseFilter::default()
    };
    let page = repo::list(conn, &filter)?;
    if page.next_after.is_some() {
        return Err(AppError::invalid("to", format!("more than {limit} cases: ask for a shorter period")));
    }
    let mut names: HashMap<(String, i32, String), (String, String)> = HashMap::new();
    let mut entries = Vec::with_capacity(page.items.len());
    for case in page.items {
        let applicant: Party = persistence::stored::read(&case.applicant)?;
        let (procedure_name, agency_name) = match names.entry((case.procedure_code.clone(), case.procedure_version, case.agency_id.clone()))
        {
            Slot::Occupied(e) => e.get().clone(),
            Slot::Vacant(e) => {
                let version = persistence::repo::procedures::version(conn, &case.procedure_code, case.procedure_version)?;
                let agency_name = agencies::find(conn, &case.agency_id)?.map(|a| a.name).unwrap_or_default();
                e.insert((version.map(|v| v.name).unwrap_or_default(), agency_name)).clone()
            }
        };
        let received_by = repo::events(conn, &case.id)?
            .into_iter()
            .find(|e| e.action == CaseAction::Accept.into())
            .and_then(|e| e.actor_id)
            .map(|id| users::find(conn, &id))
            .transpose()?
            .flatten()
            .map(|u| u.full_name)
            .unwrap_or_default();
        entries.push(Entry { case, applicant, procedure_name, agency_name, received_by });
    }
    Ok(Register { agency, entries })
}
