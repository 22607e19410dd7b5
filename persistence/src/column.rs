//! Columns that hold a closed value set of `domain` (statuses, channels, sources) as text.
//!
//! A row field of a domain enum is read through [`Wire`] (`#[diesel(deserialize_as =
//! Wire<CaseStatus>)]`), which fails the read for a stored name the enum does not know, and
//! written as its stored name (`#[diesel(serialize_as = String)]`, through `From<T> for
//! String`, which every `wire_enum!` has). The `CHECK (… IN …)` constraints of the migrations
//! list the same names; a test compares them with the enums.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Text;
use diesel::sqlite::{Sqlite, SqliteValue};
use domain::WireName;

use crate::db::{MultiBackend, MultiRawValue};

/// A text column read as the domain enum `T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct Wire<T>(pub T);

fn parse<T: WireName>(text: &str) -> deserialize::Result<Wire<T>> {
    T::from_wire_name(text).map(Wire).ok_or_else(|| format!("unknown stored value `{text}` of {}", std::any::type_name::<T>()).into())
}

impl<T: WireName> FromSql<Text, Sqlite> for Wire<T> {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        parse(value.read_text())
    }
}

impl<T: WireName> FromSql<Text, Pg> for Wire<T> {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        parse(std::str::from_utf8(value.as_bytes())?)
    }
}

// Through `AnyConnection`, values come as the multi-connection backend's, which hands each to
// the impl of the backend it came from (above).
impl<T: WireName> FromSql<Text, MultiBackend> for Wire<T> {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Text>()
    }
}

/// `From<Wire<T>> for T`, which `deserialize_as` needs, for each enum stored this way.
macro_rules! unwrap_wire {
    ($($enum:ty),+ $(,)?) => {
        $(impl From<Wire<$enum>> for $enum {
            fn from(value: Wire<$enum>) -> Self {
                value.0
            }
        })+
    };
}

unwrap_wire!(domain::case::CaseStatus, domain::procedure::Channel, domain::case::intake::CaseSource);
