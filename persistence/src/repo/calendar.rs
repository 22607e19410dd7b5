//! The calendar override table.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::calendar_days;
use crate::{AnyConnection, RepoError};

/// One override.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calendar_days, treat_none_as_default_value = false)]
pub struct CalendarDayRow {
    pub day: NaiveDate,
    pub kind: String,
    pub name: String,
    pub updated_by: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// Every override (a few dozen a year).
pub fn all(conn: &mut AnyConnection) -> Result<Vec<CalendarDayRow>, RepoError> {
    Ok(calendar_days::table.order(calendar_days::day.asc()).select(CalendarDayRow::as_select()).load(conn)?)
}

/// One override.
pub fn find(conn: &mut AnyConnection, day: NaiveDate) -> Result<Option<CalendarDayRow>, RepoError> {
    Ok(calendar_days::table.find(day).select(CalendarDayRow::as_select()).first(conn).optional()?)
}

/// Sets the override of `row.day`, replacing any; returns the previous one.
pub fn put(conn: &mut AnyConnection, row: &CalendarDayRow) -> Result<Option<CalendarDayRow>, RepoError> {
    let previous = find(conn, row.day)?;
    if previous.is_some() {
        diesel::update(calendar_days::table.find(row.day))
            .set((
                calendar_days::kind.eq(&row.kind),
                calendar_days::name.eq(&row.name),
                calendar_days::updated_by.eq(&row.updated_by),
                calendar_days::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(calendar_days::table).values(row).execute(conn)?;
    }
    Ok(previous)
}

/// Removes the override of `day`; returns it.
pub fn delete(conn: &mut AnyConnection, day: NaiveDate) -> Result<Option<CalendarDayRow>, RepoError> {
    let previous = find(conn, day)?;
    if previous.is_some() {
        diesel::delete(calendar_days::table.find(day)).execute(conn)?;
    }
    Ok(previous)
}
