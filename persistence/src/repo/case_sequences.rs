//! Case-code sequences: the next number of an agency's cases on a local date.
//!
//! The increment is one atomic statement on the row (`UPDATE … SET last_value = last_value + 1
//! RETURNING last_value`), which PostgreSQL serialises with a row lock and SQLite with its write
//! lock; the first number of a day inserts the row, and a racing insert falls back to the
//! update inside a savepoint. The increment belongs to the intake transaction: a committed case
//! holds its number for good, and a rolled-back intake undoes its increment, so the committed
//! numbers of a day are exactly 1, 2, 3, … with neither repeats nor gaps.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::query_builder::{Query, QueryFragment, QueryId};

use crate::schema::case_sequences;
use crate::{AnyConnection, ConflictKind, RepoError};

fn increment(conn: &mut AnyConnection, agency_id: &str, date: NaiveDate) -> Result<Option<i64>, RepoError> {
    let query = Increment { agency_id, date };
    Ok(crate::per_backend!(conn, |c| query.get_result::<i64>(c).optional())?)
}

/// `UPDATE case_sequences SET last_value = last_value + 1 … RETURNING last_value`, written by
/// hand because diesel prepares its UPDATE statements anew on every call; this one, the same
/// text every time, stays prepared on the connection (one round trip instead of two, no parse).
struct Increment<'a> {
    agency_id: &'a str,
    date: NaiveDate,
}

impl<DB> QueryFragment<DB> for Increment<'_>
where
    DB: diesel::backend::Backend,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    NaiveDate: diesel::serialize::ToSql<diesel::sql_types::Date, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE case_sequences SET last_value = last_value + 1 WHERE agency_id = ");
        out.push_bind_param::<diesel::sql_types::Text, str>(self.agency_id)?;
        out.push_sql(" AND local_date = ");
        out.push_bind_param::<diesel::sql_types::Date, NaiveDate>(&self.date)?;
        out.push_sql(" RETURNING last_value");
        Ok(())
    }
}

/// One statement text: a static query id keys the connection's prepared statement.
impl QueryId for Increment<'_> {
    type QueryId = Increment<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for Increment<'_> {
    type SqlType = diesel::sql_types::BigInt;
}

impl<Conn> RunQueryDsl<Conn> for Increment<'_> {}

/// The next sequence number (from 1) of `agency_id` on `date`. Call inside the transaction
/// that stores the case.
///
/// # Errors
/// Database errors.
pub fn next(conn: &mut AnyConnection, agency_id: &str, date: NaiveDate) -> Result<i64, RepoError> {
    if let Some(value) = increment(conn, agency_id, date)? {
        return Ok(value);
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(case_sequences::table)
            .values((case_sequences::agency_id.eq(agency_id), case_sequences::local_date.eq(date), case_sequences::last_value.eq(1_i64)))
            .execute(conn)
            .map_err(RepoError::from)
    });
    match inserted {
        Ok(_) => Ok(1),
        // Another transaction created the day's row first: take the next number from it.
        Err(RepoError::Conflict(ConflictKind::Other)) => increment(conn, agency_id, date)?.ok_or(RepoError::NotFound),
        Err(e) => Err(e),
    }
}

/// Makes sure the next number of `agency_id` on `date` is above `at_least` (after bulk loading
/// cases with numbers taken outside [`next`]).
///
/// # Errors
/// Database errors.
pub fn raise_to(conn: &mut AnyConnection, agency_id: &str, date: NaiveDate, at_least: i64) -> Result<(), RepoError> {
    let updated = diesel::update(case_sequences::table.find((agency_id, date)))
        .filter(case_sequences::last_value.lt(at_least))
        .set(case_sequences::last_value.eq(at_least))
        .execute(conn)?;
    let exists = updated > 0 || case_sequences::table.find((agency_id, date)).count().get_result::<i64>(conn)? > 0;
    if !exists {
        diesel::insert_into(case_sequences::table)
            .values((case_sequences::agency_id.eq(agency_id), case_sequences::local_date.eq(date), case_sequences::last_value.eq(at_least)))
            .execute(conn)?;
    }
    Ok(())
}
