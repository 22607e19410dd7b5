//! The case use cases on a temporary SQLite database with a fixed clock.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use domain::case::CaseAction;
use domain::case::lifecycle::ActionParams;
use domain::procedure::Channel;
use persistence::stored::case::{DeclaredDocument, EventDetails, Party, SupplementRequest};

use super::act::{ActOnCase, act};
use super::submit::{SubmitCase, admit, submit};
use crate::app::clock::FixedClock;
use crate::auth::{Principal, RequestMeta};
use crate::state::AppState;

/// A local (UTC+7) instant.
fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    domain::time::VN.with_ymd_and_hms(y, m, d, h, min, 0).single().unwrap().with_timezone(&Utc)
}

struct World {
    state: AppState,
    clock: Arc<FixedClock>,
    pool: persistence::Pool,
    officer: Principal,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh SQLite database with the demo agencies, accounts and procedures, and a clock at `at`.
fn world(at: DateTime<Utc>) -> World {
    let dir = std::env::temp_dir().join(format!("motcua-app-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let data_dir = dir.to_string_lossy().into_owned();
    let config = crate::config::Config::from_lookup(|key| match key {
        "MOTCUA_DATA_DIR" => Some(data_dir.clone()),
        "MOTCUA_ADMIN_PASSWORD" => Some("fixed-clock-2026".to_owned()),
        "MOTCUA_REPORT_SCHEDULE_MS" => Some("0".to_owned()),
        _ => None,
    })
    .unwrap();
    let url = config.database_url.clone();
    let mut state = crate::server::prepare(config).unwrap();
    let clock = Arc::new(FixedClock::new(at));
    state.clock = clock.clone();
    let pool = persistence::build_pool(&url, 2, false).unwrap();
    crate::bootstrap::seed_demo(&pool, "demo-password-2026").unwrap();
    let mut conn = pool.get().unwrap();
    let user = persistence::repo::users::find_by_username(&mut conn, "demo.officer").unwrap().unwrap();
    let agency = persistence::repo::agencies::find(&mut conn, user.agency_id.as_deref().unwrap()).unwrap().unwrap();
    let officer = Principal {
        user_id: user.id,
        username: user.username,
        role: domain::Role::Officer,
        capabilities: ["reception", "processing", "approval", "result_return"].map(str::to_owned).to_vec(),
        agency_id: Some(agency.id),
        agency_path: Some(agency.path),
        session_id: "test".to_owned(),
    };
    World { state, clock, pool, officer, _dir: TempDir(dir) }
}

fn meta() -> RequestMeta {
    RequestMeta { request_id: Some("fixed-clock".to_owned()), reason: None }
}

fn marriage_at_the_counter() -> SubmitCase {
    SubmitCase {
        procedure_code: "1.000656.000.00.00.H14".to_owned(),
        agency_id: None,
        channel: Channel::Counter,
        applicant: Party {
            kind: "citizen".to_owned(),
            full_name: "Nông Thị Hoa".to_owned(),
            id_type: "cccd".to_owned(),
            id_number: "004199012345".to_owned(),
            phone: None,
            email: None,
            address: None,
        },
        representative: None,
        summary: "Đăng ký kết hôn".to_owned(),
        form_data: serde_json::json!({}),
        documents: ["GT01", "GT02"]
            .map(|code| DeclaredDocument { requirement_code: code.to_owned(), name: code.to_owned(), originals: 1, copies: 0 })
            .to_vec(),
        return_method: Channel::Counter,
        external_id: None,
    }
}

fn action(code: &str, action: CaseAction, params: ActionParams) -> ActOnCase {
    ActOnCase {
        code: code.to_owned(),
        action,
        details: match action {
            CaseAction::RequestSupplement => EventDetails::RequestSupplement(SupplementRequest {
                items: params.items.clone(),
                deadline_days: params.deadline_days,
                supplement_due_at: None,
            }),
            _ => EventDetails::None,
        },
        params,
        note: Some("Thiếu giấy tờ".to_owned()),
        assignee_id: None,
        expected_tag: None,
    }
}

fn due(case: &persistence::repo::cases::CaseRow) -> DateTime<Utc> {
    case.due_at.unwrap().and_utc()
}

/// A marriage registration (3 working days) received at the counter on Wednesday 30 December
/// 2026, paused for a supplement on Thursday 31 December and answered on Tuesday 5 January
/// 2027: the pause spans New Year's Day (Friday, a holiday) and a weekend. Working hours are
/// 07:00–11:30 and 13:30–17:00.
#[test]
fn a_supplement_pause_across_a_holiday_and_a_weekend_moves_the_due_date_by_the_paused_working_time() {
    let w = world(local(2026, 12, 30, 8, 0));
    let mut conn = w.pool.get().unwrap();
    let command = marriage_at_the_counter();
    let admitted = admit(&w.officer, &command).unwrap();
    let received = submit(&mut conn, &w.state, &w.officer, &meta(), admitted, command).unwrap().case;
    // Received Wednesday 08:00: three working days later is Tuesday 08:00 (Friday is New
    // Year's Day, then the weekend).
    assert_eq!(received.status, domain::case::CaseStatus::Accepted);
    assert_eq!(received.received_at.map(|r| r.and_utc()), Some(local(2026, 12, 30, 8, 0)));
    assert_eq!(due(&received), local(2027, 1, 5, 8, 0));

    w.clock.set(local(2026, 12, 31, 10, 0));
    let params =
        ActionParams {
            items: vec!["Giấy xác nhận tình trạng hôn nhân".to_owned()], deadline_days: Some(2), ..ActionParams::default()
        };
    let paused = act(&mut conn, &w.state, &w.officer, &meta(), action(&received.code, CaseAction::RequestSupplement, params)).unwrap().case;
    assert_eq!(paused.status, domain::case::CaseStatus::SupplementRequested);
    assert_eq!(paused.paused_at.map(|p| p.and_utc()), Some(local(2026, 12, 31, 10, 0)));
    assert_eq!(due(&paused), due(&received), "a request alone does not move the due date");
    // Two working days for the applicant from Thursday 10:00: Tuesday 10:00.
    let events = persistence::repo::cases::events(&mut conn, &paused.id).unwrap();
    let last = events.last().unwrap();
    let EventDetails::RequestSupplement(request) = EventDetails::of_column(last.action, last.details.as_deref()) else {
        panic!("the request's details")
    };
    assert_eq!(request.supplement_due_at, Some(local(2027, 1, 5, 10, 0)));

    w.clock.set(local(2027, 1, 5, 9, 0));
    let resumed =
        act(&mut conn, &w.state, &w.officer, &meta(), action(&received.code, CaseAction::SubmitSupplement, ActionParams::default()))
            .unwrap()
            .case;
    assert_eq!(resumed.status, domain::case::CaseStatus::Processing);
    assert_eq!(resumed.paused_at, None);
    // Paused: Thursday 10:00–17:00 (5 working hours), Monday (8 hours) and Tuesday 07:00–09:00
    // (2 hours); New Year's Day and the weekend are not working time. The 14 working hours left
    // at the pause run again from Tuesday 09:00, to Wednesday 17:00: 15 working hours after
    // the first due date.
    let calendar = crate::app::calendar::load(&mut conn, &w.state).unwrap();
    assert_eq!(calendar.working_minutes_between(due(&received), due(&resumed)), 15 * 60);
    assert_eq!(due(&resumed), local(2027, 1, 6, 17, 0));
    assert_eq!(resumed.supplement_seconds, (local(2027, 1, 5, 9, 0) - local(2026, 12, 31, 10, 0)).num_seconds());
    assert_eq!(resumed.supplement_count, 1);
    assert_eq!(resumed.original_due_at, None);
}
