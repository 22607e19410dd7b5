//! Columns that hold a closed value set of `domain` (statuses, channels, sources) as text.
//!
//! A row field of a domain enum is read through [`Wire`] (`#[diesel(deserialize_as =
//! Wire<CaseStatus>)]`), which fails the read for a stored name the enum does not know, and
//! written as its stored name (`#[diesel(serialize_as = String)]`, through `From<T> for
//! String`, which every `wire_enum!` has). A nullable column is read through [`OptWire`] and
//! written as [`OptName`]. The `CHECK (… IN …)` constraints of the migrations list the same
//! names; a test compares them with the enums.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::{Nullable, Text};
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

/// A nullable text column read as an optional domain enum `T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct OptWire<T>(pub Option<T>);

impl<T: WireName> FromSql<Nullable<Text>, Sqlite> for OptWire<T> {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        <Wire<T> as FromSql<Text, Sqlite>>::from_sql(value).map(|w| Self(Some(w.0)))
    }

    fn from_nullable_sql(value: Option<SqliteValue<'_, '_, '_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(Self(None)), <Self as FromSql<Nullable<Text>, Sqlite>>::from_sql)
    }
}

impl<T: WireName> FromSql<Nullable<Text>, Pg> for OptWire<T> {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <Wire<T> as FromSql<Text, Pg>>::from_sql(value).map(|w| Self(Some(w.0)))
    }

    fn from_nullable_sql(value: Option<PgValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(Self(None)), <Self as FromSql<Nullable<Text>, Pg>>::from_sql)
    }
}

impl<T: WireName> FromSql<Nullable<Text>, MultiBackend> for OptWire<T> {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Nullable<Text>>()
    }

    fn from_nullable_sql(value: Option<MultiRawValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(Self(None)), <Self as FromSql<Nullable<Text>, MultiBackend>>::from_sql)
    }
}

/// The stored name of an optional domain enum, written to a nullable text column
/// (`#[diesel(serialize_as = OptName)]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptName(pub Option<&'static str>);

impl<T: WireName> From<Option<T>> for OptName {
    fn from(value: Option<T>) -> Self {
        Self(value.map(WireName::wire_name))
    }
}

impl AsExpression<Nullable<Text>> for OptName {
    type Expression = <Option<&'static str> as AsExpression<Nullable<Text>>>::Expression;

    fn as_expression(self) -> Self::Expression {
        <Option<&'static str> as AsExpression<Nullable<Text>>>::as_expression(self.0)
    }
}

/// `From<Wire<T>> for T` and `From<OptWire<T>> for Option<T>`, which `deserialize_as` needs,
/// for each enum stored this way.
macro_rules! unwrap_wire {
    ($($enum:ty),+ $(,)?) => {
        $(impl From<Wire<$enum>> for $enum {
            fn from(value: Wire<$enum>) -> Self {
                value.0
            }
        }

        impl From<OptWire<$enum>> for Option<$enum> {
            fn from(value: OptWire<$enum>) -> Self {
                value.0
            }
        })+
    };
}

unwrap_wire!(
    domain::case::CaseStatus,
    domain::case::EventAction,
    domain::procedure::Channel,
    domain::case::intake::CaseSource,
    domain::feedback::FeedbackStatus,
    domain::feedback::FeedbackKind,
    domain::feedback::FeedbackCategory,
    domain::feedback::EventAction,
);
