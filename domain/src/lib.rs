//! Pure rules of motcua: entities, value objects, code formats and the arithmetic behind them.
//!
//! Architecture invariant: this crate performs no I/O, never reads the clock or the environment,
//! and depends on no other crate of the workspace nor on diesel, actix, reqwest, tokio or utoipa
//! (`make check-layers` enforces it). The current instant, when a rule needs one, is a parameter.

pub mod agency;
pub mod audit;
pub mod calendar;
pub mod case;
pub mod evaluation;
pub mod feedback;
pub mod files;
pub mod identity;
pub mod lockout;
pub mod notification;
pub mod outbox;
pub mod procedure;
pub mod report;
pub mod role;
pub mod stats;
pub mod text;
pub mod time;

pub use agency::{AgencyCode, AgencyLevel};
pub use identity::{Email, Password, PersonalIdNumber, Phone, Username};
pub use role::{Capability, IntegrationScope, Role};

/// A value that failed a domain rule; `field` names the input, `reason` says why in English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    /// The name of the offending input field, as the client sent it.
    pub field: &'static str,
    /// A short English sentence saying what is wrong.
    pub reason: String,
}

impl ValidationError {
    /// Builds an error for `field` with `reason`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }
}

/// A closed value set with stable wire and storage names (every `wire_enum!`): how the storage
/// layer reads and writes such a value as text.
pub trait WireName: Sized + Copy {
    /// The stored name.
    fn wire_name(self) -> &'static str;
    /// The value with the stored name `value`, if any.
    fn from_wire_name(value: &str) -> Option<Self>;
}

/// What an event of a history (of a case, of a feedback item) records: the submission that
/// opens it (`submit`), or one of the actions `A`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryAction<A> {
    /// The submission (nộp) that opens the history.
    Submit,
    /// An action.
    Act(A),
}

impl<A: WireName> HistoryAction<A> {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        self.wire_name()
    }

    /// The action, unless this is the submission.
    pub fn action(self) -> Option<A> {
        match self {
            HistoryAction::Submit => None,
            HistoryAction::Act(action) => Some(action),
        }
    }
}

impl<A: WireName> WireName for HistoryAction<A> {
    fn wire_name(self) -> &'static str {
        match self {
            HistoryAction::Submit => "submit",
            HistoryAction::Act(action) => action.wire_name(),
        }
    }

    fn from_wire_name(value: &str) -> Option<Self> {
        match value {
            "submit" => Some(HistoryAction::Submit),
            other => A::from_wire_name(other).map(HistoryAction::Act),
        }
    }
}

impl<A> From<A> for HistoryAction<A> {
    fn from(action: A) -> Self {
        HistoryAction::Act(action)
    }
}

impl<A: WireName> From<HistoryAction<A>> for String {
    fn from(value: HistoryAction<A>) -> String {
        value.as_str().to_owned()
    }
}

impl<A: WireName> std::fmt::Display for HistoryAction<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user-facing label in both languages of the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    /// Vietnamese (the default language).
    pub vi: &'static str,
    /// English.
    pub en: &'static str,
}
