//! The working calendar as the use cases see it.

use domain::calendar::{Calendar, CalendarDay, DayKind};
use persistence::AnyConnection;
use persistence::repo::calendar as repo;

use crate::app::AppError;
use crate::state::AppState;

/// The calendar as it stands: generated defaults, the override table, the working hours.
///
/// # Errors
/// Database errors.
pub fn load(conn: &mut AnyConnection, state: &AppState) -> Result<Calendar, AppError> {
    let overrides = repo::all(conn)?
        .into_iter()
        .filter_map(|row| DayKind::parse(&row.kind, "kind").ok().map(|kind| CalendarDay { date: row.day, kind, name: row.name }))
        .collect::<Vec<_>>();
    Ok(Calendar::with_defaults(state.config.working_hours.clone(), state.holidays.clone(), overrides))
}
