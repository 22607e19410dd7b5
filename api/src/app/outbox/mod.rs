//! The outbox in the server: which messages a change writes (in the change's transaction), and
//! the dispatcher thread that delivers them to the configured systems.
//!
//! `deliverers` holds the clients of the configured systems, `messages` which messages a change
//! writes, `portal` what the national portal is sent for a case event, `dispatcher` the thread
//! that claims and delivers them. The periodic jobs beside it are in `crate::app::jobs`.
//!
//! Delivery is at least once: a message is marked sent only after its receiver answered
//! success, and a dispatcher that dies mid-delivery leaves a lease that runs out, after which
//! any instance tries again. Receivers are asked to be idempotent (the portal's dossier sync is
//! an upsert by case code).

mod deliverers;
mod dispatcher;
mod messages;
mod portal;

pub use deliverers::Deliverers;
pub use dispatcher::start;
pub use messages::{CaseChange, REPORTS_KEY, Subject, case_changed, case_messages, notifications, subject_keys};
pub use portal::{CASE_EVENT, CASE_SYNC, CaseEventRef};
