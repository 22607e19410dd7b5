//! Notifications to applicants (Art. 26.3 of the Cao Bằng regulation; domain.md §14): when they
//! are sent and their Vietnamese texts. Texts carry the case code and public facts only (no
//! name, id number or address), since SMS and Zalo messages are read on shared phones.

use chrono::{DateTime, Utc};

use crate::case::{CaseAction, CaseStatus, EventAction};

/// What happened that the applicant hears about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The case was received (online submission or counter intake), with its due date when set.
    Received { due: Option<DateTime<Utc>> },
    /// A supplement is requested.
    SupplementRequested,
    /// The agency apologised and set a new due date.
    Apology { new_due: DateTime<Utc>, agency: String },
    /// The result is ready to be collected or sent.
    ResultReady,
    /// A feedback (PAKN) was answered.
    FeedbackAnswered,
}

impl Notice {
    /// The notice of a case action that moved the case to `to`, if the applicant hears of it.
    pub fn of_case_action(action: EventAction, to: CaseStatus, due: Option<DateTime<Utc>>, agency: &str) -> Option<Notice> {
        match (action, to) {
            (EventAction::Submit | EventAction::Act(CaseAction::Accept), CaseStatus::Submitted | CaseStatus::Accepted) => {
                Some(Notice::Received { due })
            }
            (EventAction::Act(CaseAction::RequestSupplement), _) => Some(Notice::SupplementRequested),
            (EventAction::Act(CaseAction::Apologize), _) => due.map(|new_due| Notice::Apology { new_due, agency: agency.to_owned() }),
            (EventAction::Act(CaseAction::Resolve), CaseStatus::Resolved) => Some(Notice::ResultReady),
            _ => None,
        }
    }

    /// The machine name (`received`, `supplement_requested`, `apology`, `result_ready`,
    /// `feedback_answered`).
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::Received { .. } => "received",
            Notice::SupplementRequested => "supplement_requested",
            Notice::Apology { .. } => "apology",
            Notice::ResultReady => "result_ready",
            Notice::FeedbackAnswered => "feedback_answered",
        }
    }
}

/// A rendered message: a subject (e-mail) and a text (all channels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
}

fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&crate::time::VN).format("%H:%M ngày %d/%m/%Y").to_string()
}

/// The Vietnamese text of `notice` about `code`, with the lookup link when one is configured.
pub fn render(notice: &Notice, code: &str, lookup_link: Option<&str>) -> Message {
    let look = lookup_link.map_or_else(String::new, |link| format!(" Tra cứu: {link}"));
    let (subject, text) = match notice {
        Notice::Received { due: Some(due) } => {
            (format!("Tiếp nhận hồ sơ {code}"), format!("Hồ sơ {code} đã được tiếp nhận. Hẹn trả kết quả lúc {}.{look}", local(*due)))
        }
        Notice::Received { due: None } => {
            (format!("Đã nhận hồ sơ {code}"), format!("Hồ sơ {code} đã được gửi đến cơ quan giải quyết và đang chờ tiếp nhận.{look}"))
        }
        Notice::SupplementRequested => (
            format!("Yêu cầu bổ sung hồ sơ {code}"),
            format!("Hồ sơ {code} cần bổ sung giấy tờ. Vui lòng xem nội dung yêu cầu và bổ sung một lần đầy đủ.{look}"),
        ),
        Notice::Apology { new_due, agency } => (
            format!("Thư xin lỗi về hồ sơ {code}"),
            format!("{agency} gửi ông/bà thư xin lỗi vì hồ sơ {code} chậm so với hẹn; hẹn lại trả kết quả lúc {}.{look}", local(*new_due)),
        ),
        Notice::ResultReady => (format!("Có kết quả hồ sơ {code}"), format!("Hồ sơ {code} đã có kết quả.{look}")),
        Notice::FeedbackAnswered => {
            (format!("Trả lời phản ánh, kiến nghị {code}"), format!("Phản ánh, kiến nghị {code} đã được trả lời.{look}"))
        }
    };
    Message { subject, text }
}

/// The reply to a lookup by message (Art. 26.3) about `code`: the case's status and, while it
/// runs, its due date; nothing personal. `found` is `None` for an unknown code.
pub fn lookup_reply(code: &str, found: Option<(CaseStatus, Option<DateTime<Utc>>)>) -> String {
    match found {
        None => format!("Không tìm thấy hồ sơ {code}. Vui lòng kiểm tra lại mã hồ sơ."),
        Some((status, due)) => {
            let due = due
                .filter(|_| !status.is_terminal() && status != CaseStatus::Resolved)
                .map(|d| format!(" Hẹn trả: {}.", d.with_timezone(&crate::time::VN).format("%H:%M %d/%m/%Y")))
                .unwrap_or_default();
            format!("Hồ sơ {code}: {}.{due}", status.label().vi)
        }
    }
}

/// The reply to a message without a case code.
pub const LOOKUP_HELP: &str = "Để tra cứu hồ sơ, vui lòng gửi: TRACUU <mã hồ sơ>";

/// The first case code in an inbound SMS or Zalo text (`TRACUU 000.20.01.H14-261128-0001`),
/// as written.
pub fn find_case_code(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '#'))
        .map(|w| w.trim_matches(|c: char| matches!(c, '.' | '"' | '\'' | '(' | ')')))
        .find(|w| crate::case::CaseCode::parse(w).is_ok())
        .map(str::to_owned)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn texts_carry_the_code_the_local_due_time_and_the_link() {
        let due = Utc.with_ymd_and_hms(2026, 12, 2, 9, 30, 0).unwrap();
        let message =
            render(&Notice::Received { due: Some(due) }, "000.20.01.H14-261128-0001", Some("https://dvc.caobang.gov.vn/tra-cuu/x"));
        assert_eq!(
            message.text,
            "Hồ sơ 000.20.01.H14-261128-0001 đã được tiếp nhận. Hẹn trả kết quả lúc 16:30 ngày 02/12/2026. Tra cứu: https://dvc.caobang.gov.vn/tra-cuu/x"
        );
        let apology = render(&Notice::Apology { new_due: due, agency: "UBND phường Thục Phán".into() }, "C-1", None);
        assert!(apology.text.starts_with("UBND phường Thục Phán gửi ông/bà thư xin lỗi"), "{}", apology.text);
        assert!(!apology.text.contains("Tra cứu"));
    }

    #[test]
    fn only_the_actions_an_applicant_hears_about_notify() {
        assert_eq!(Notice::of_case_action(CaseAction::Accept.into(), CaseStatus::Accepted, None, "").map(|n| n.kind()), Some("received"));
        assert_eq!(
            Notice::of_case_action(CaseAction::Resolve.into(), CaseStatus::Resolved, None, "").map(|n| n.kind()),
            Some("result_ready")
        );
        assert_eq!(Notice::of_case_action(CaseAction::Forward.into(), CaseStatus::Processing, None, ""), None);
        assert_eq!(
            Notice::of_case_action(CaseAction::Apologize.into(), CaseStatus::Processing, None, ""),
            None,
            "no new date, no apology text"
        );
        assert_eq!(Notice::of_case_action(CaseAction::SubmitSupplement.into(), CaseStatus::Processing, None, ""), None);
    }

    #[test]
    fn lookup_replies_show_the_status_and_a_running_due_date_only() {
        let due = Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap();
        assert_eq!(lookup_reply("C-1", Some((CaseStatus::Accepted, Some(due)))), "Hồ sơ C-1: Được tiếp nhận. Hẹn trả: 17:00 02/12/2026.");
        assert_eq!(lookup_reply("C-1", Some((CaseStatus::Returned, Some(due)))), "Hồ sơ C-1: Đã trả kết quả.");
        assert!(lookup_reply("C-1", None).starts_with("Không tìm thấy"));
    }

    #[test]
    fn case_codes_are_found_in_free_text() {
        assert_eq!(find_case_code("TRACUU 000.20.01.H14-261128-0001").as_deref(), Some("000.20.01.H14-261128-0001"));
        assert_eq!(find_case_code("ma ho so: 000.20.01.H14-261128-0001.").as_deref(), Some("000.20.01.H14-261128-0001"));
        assert_eq!(find_case_code("xin chao"), None);
    }
}
