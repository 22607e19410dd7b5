//! Who may open a case on which channel (Decree 61/2018 Art. 13; the regulation's Art. 5.2.c):
//! citizens submit online, reception officers receive at the counter and by post (the case is
//! accepted at once), and the national portal forwards online submissions.

use super::CaseStatus;
use crate::procedure::Channel;
use crate::role::wire_enum;

wire_enum! {
    /// Where a case came from.
    CaseSource {
        /// Submitted to this system (online, at the counter or by post).
        Local = "local", "Tại địa phương", "Local";
        /// Forwarded by the national public service portal.
        NationalPortal = "national_portal", "Cổng Dịch vụ công quốc gia", "National public service portal";
    }
}

/// Who submits a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitter {
    /// A citizen or business on their own behalf.
    Applicant,
    /// An officer with the reception capability.
    Reception,
    /// The national portal, through an integration client allowed to submit.
    NationalPortal,
    /// Anyone else (staff without reception, clients without the scope).
    Other,
}

/// How a new case starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intake {
    /// `submitted` (online, awaiting reception) or `accepted` (received at the counter or by post).
    pub status: CaseStatus,
    pub source: CaseSource,
}

/// How a case submitted by `submitter` on `channel` starts, or `None` when they may not
/// submit on that channel.
pub fn intake(submitter: Submitter, channel: Channel) -> Option<Intake> {
    match (submitter, channel) {
        (Submitter::Applicant, Channel::Online) => Some(Intake { status: CaseStatus::Submitted, source: CaseSource::Local }),
        (Submitter::Reception, Channel::Counter | Channel::Postal) => {
            Some(Intake { status: CaseStatus::Accepted, source: CaseSource::Local })
        }
        (Submitter::NationalPortal, Channel::Online) => Some(Intake { status: CaseStatus::Submitted, source: CaseSource::NationalPortal }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_submitter_has_its_channels() {
        for channel in Channel::ALL.iter().copied() {
            let online = channel == Channel::Online;
            assert_eq!(intake(Submitter::Applicant, channel).is_some(), online);
            assert_eq!(intake(Submitter::NationalPortal, channel).is_some(), online);
            assert_eq!(intake(Submitter::Reception, channel).is_some(), !online);
            assert_eq!(intake(Submitter::Other, channel), None);
        }
        assert_eq!(intake(Submitter::Reception, Channel::Counter).map(|i| i.status), Some(CaseStatus::Accepted));
        assert_eq!(intake(Submitter::NationalPortal, Channel::Online).map(|i| i.source), Some(CaseSource::NationalPortal));
    }
}
