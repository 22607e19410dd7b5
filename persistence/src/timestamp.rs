//! Timestamps read from SQLite without chrono's format parser.
//!
//! SQLite keeps timestamps as text, which diesel parses with `NaiveDateTime::parse_from_str`
//! and a format string for every value read: a quarter of the outbox dispatcher's reads (nine
//! timestamps a message) went into it. A row field marked `#[diesel(deserialize_as = Ts)]` (or
//! `OptTs` for a nullable column) reads the form diesel writes, `YYYY-MM-DD HH:MM:SS[.fraction]`,
//! digit by digit, and hands anything else to diesel's own parser, so it reads every value
//! diesel does. PostgreSQL's binary timestamps go to diesel unchanged.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::{Sqlite, SqliteType, SqliteValue};

use crate::db::{MultiBackend, MultiRawValue};

/// A `TIMESTAMP` column's value, for `#[diesel(deserialize_as = Ts)]` on a `NaiveDateTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct Ts(pub NaiveDateTime);

/// A nullable `TIMESTAMP` column's value, for `#[diesel(deserialize_as = OptTs)]` on an
/// `Option<NaiveDateTime>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct OptTs(pub Option<NaiveDateTime>);

impl From<Ts> for NaiveDateTime {
    fn from(value: Ts) -> Self {
        value.0
    }
}

impl From<OptTs> for Option<NaiveDateTime> {
    fn from(value: OptTs) -> Self {
        value.0
    }
}

impl FromSql<Timestamp, Sqlite> for Ts {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let fast = match value.value_type() {
            Some(SqliteType::Text) => parse(value.read_text()),
            _ => None,
        };
        match fast {
            Some(at) => Ok(Self(at)),
            None => <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self),
        }
    }
}

impl FromSql<Timestamp, Pg> for Ts {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

impl FromSql<Nullable<Timestamp>, Sqlite> for OptTs {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        <Ts as FromSql<Timestamp, Sqlite>>::from_sql(value).map(|t| Self(Some(t.0)))
    }

    fn from_nullable_sql(value: Option<SqliteValue<'_, '_, '_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(Self(None)), <Self as FromSql<Nullable<Timestamp>, Sqlite>>::from_sql)
    }
}

impl FromSql<Nullable<Timestamp>, Pg> for OptTs {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <Ts as FromSql<Timestamp, Pg>>::from_sql(value).map(|t| Self(Some(t.0)))
    }

    fn from_nullable_sql(value: Option<PgValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(Self(None)), <Self as FromSql<Nullable<Timestamp>, Pg>>::from_sql)
    }
}

// Through `AnyConnection`, values come as the multi-connection backend's, which hands each to
// the impl of the backend it came from (above).
impl FromSql<Timestamp, MultiBackend> for Ts {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl FromSql<Nullable<Timestamp>, MultiBackend> for OptTs {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Nullable<Timestamp>>()
    }

    fn from_nullable_sql(value: Option<MultiRawValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(Self(None)), <Self as FromSql<Nullable<Timestamp>, MultiBackend>>::from_sql)
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of 1 to 9 digits (what diesel writes, and
/// SQLite's `CURRENT_TIMESTAMP`); `None` for any other form, including leap seconds.
fn parse(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    let (head, fraction) = (bytes.get(..19)?, &bytes[19..]);
    let number = |digits: &[u8]| digits.iter().try_fold(0_u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')));
    let separators = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, separator)| head[at] != separator) {
        return None;
    }
    let nanos = match fraction {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => number(digits)? * 10_u32.pow(9 - u32::try_from(digits.len()).ok()?),
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(number(&head[0..4])?).ok()?, number(&head[5..7])?, number(&head[8..10])?)?;
    let time = NaiveTime::from_hms_nano_opt(number(&head[11..13])?, number(&head[14..16])?, number(&head[17..19])?, nanos)?;
    Some(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%F %T%.f").unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn reads_what_diesel_writes_as_chrono_does() {
        for text in [
            "2026-11-30 00:12:34",
            "2026-11-30 00:12:34.5",
            "2026-11-30 00:12:34.123",
            "2026-11-30 00:12:34.123456",
            "2026-11-30 23:59:59.999999999",
            "2024-02-29 12:00:00.000001",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59.1",
        ] {
            assert_eq!(parse(text), Some(at(text)), "{text}");
            // Diesel writes `%F %T%.f`; reading that back gives the same instant.
            let written = at(text).format("%F %T%.f").to_string();
            assert_eq!(parse(&written), Some(at(text)), "{written}");
        }
    }

    #[test]
    fn leaves_every_other_form_to_diesel() {
        for text in [
            "",
            "2026-11-30",
            "2026-11-30T00:12:34",
            "2026-11-30 00:12:34Z",
            "2026-11-30 00:12:34+07:00",
            "2026-11-30 00:12:34.",
            "2026-11-30 00:12:34.1234567891",
            "2026-13-30 00:12:34",
            "2026-02-30 00:12:34",
            "2026-11-30 24:00:00",
            "2026-11-30 23:59:60",
            "2026-11-30 0a:12:34",
            "+026-11-30 00:12:34",
            "2458000.5",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
