//! `motcua seed --cases N`: bulk-loads a realistic volume of cases for benchmarks and capacity
//! tests (issue 4: 1,000,000 cases over 200 agencies and 3 years, in minutes).
//!
//! On top of the demo data it creates load-test communes under the province (`000.3x.yy.H14`)
//! and spreads the cases evenly over them and over the past `years`, with statuses by age
//! (old cases mostly returned, some late, recent ones pending). Codes follow the real format
//! and each agency's daily sequence, which is then raised so that live intake continues after
//! the loaded numbers. Rows go in with multi-row inserts, many per transaction. Each loaded
//! case has one event (its acceptance) rather than a full history, and due dates are
//! approximated in calendar days: the data is for measuring, not for reports.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use persistence::repo::cases::{CaseRow, EventRow};
use persistence::repo::{agencies, case_sequences, procedures};
use persistence::{Pool, RepoError};

use crate::bootstrap::BootstrapError;

/// What to load.
#[derive(Debug, Clone, Copy)]
pub struct SeedPlan {
    pub cases: u64,
    pub agencies: u32,
    pub years: u32,
    /// Digits of the daily sequence in case codes (`MOTCUA_CASE_SEQUENCE_WIDTH`).
    pub sequence_width: usize,
}

/// A small, fast, reproducible generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const FAMILY: [&str; 8] = ["Nông", "Hoàng", "Lương", "Bế", "Đàm", "Nguyễn", "Lục", "Triệu"];
const MIDDLE: [&str; 6] = ["Văn", "Thị", "Đức", "Minh", "Thu", "Quang"];
const GIVEN: [&str; 10] = ["Bình", "Mai", "Hùng", "Lan", "Tuấn", "Hoa", "Dũng", "Thảo", "Sơn", "Hằng"];

/// The load-test agency codes: `000.30.00.H14` … (two digits per group).
fn agency_code(index: u32) -> String {
    format!("000.{:02}.{:02}.H14", 30 + index / 100, index % 100)
}

/// Loads the plan; returns how many cases were written.
///
/// # Errors
/// Database errors; a demo seed that did not produce published procedures.
pub fn seed_cases(pool: &Pool, plan: SeedPlan, demo_password: &str, mut progress: impl FnMut(u64)) -> Result<u64, BootstrapError> {
    crate::bootstrap::seed_demo(pool, demo_password)?;
    let mut conn = pool.get().map_err(RepoError::from)?;
    let province = agencies::find_by_code(&mut conn, "000.00.00.H14")?.ok_or(RepoError::NotFound)?;
    let mut load_agencies = Vec::new();
    for index in 0..plan.agencies {
        let code = agency_code(index);
        let row = match agencies::find_by_code(&mut conn, &code)? {
            Some(row) => row,
            None => agencies::insert(
                &mut conn,
                agencies::NewAgency {
                    code: code.clone(),
                    name: format!("UBND xã Thử Tải {index:03}"),
                    level: "commune".into(),
                    parent_id: Some(province.id.clone()),
                },
            )?,
        };
        load_agencies.push((row.id, domain::AgencyCode::parse(&code).map_err(|e| BootstrapError::Invalid(e.reason))?));
    }
    let mut versions = Vec::new();
    for demo in crate::demo_procedures::DEMO_PROCEDURES {
        if let Some(version) = procedures::current(&mut conn, demo.code)? {
            versions.push((version.procedure_code, version.version));
        }
    }
    if versions.is_empty() || load_agencies.is_empty() {
        return Err(RepoError::NotFound.into());
    }
    let today = chrono::Utc::now().with_timezone(&domain::time::VN).date_naive();
    let days = i64::from(plan.years.max(1)) * 365;
    let mut rng = Rng(0x6d6f_7463_7561);
    let mut sequences: std::collections::HashMap<(usize, NaiveDate), i64> = std::collections::HashMap::new();
    let mut written = 0_u64;
    const BATCH: u64 = 8_000;
    while written < plan.cases {
        let count = BATCH.min(plan.cases - written);
        let mut rows = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        let mut events = Vec::with_capacity(rows.capacity());
        for n in 0..count {
            let i = written + n;
            let agency_index = usize::try_from(i % u64::from(plan.agencies.max(1))).unwrap_or(0);
            let (agency_id, agency_code) = &load_agencies[agency_index];
            // Evenly over the period, oldest first, at a working hour (UTC = local − 7 h).
            let age = days - 1 - i64::try_from(i * u64::try_from(days).unwrap_or(1) / plan.cases.max(1)).unwrap_or(0);
            let date = today - Duration::days(age.max(0));
            let received = date.and_hms_opt(0, 30, 0).unwrap_or_default() + Duration::minutes(i64::try_from(rng.below(480)).unwrap_or(0));
            let sequence = sequences.entry((agency_index, date)).or_insert(0);
            *sequence += 1;
            let code = domain::case::CaseCode::new(agency_code, date, u64::try_from(*sequence).unwrap_or(0), plan.sequence_width)
                .map_err(|e| BootstrapError::Invalid(e.reason))?
                .as_str()
                .to_owned();
            let (procedure_code, procedure_version) = &versions[usize::try_from(rng.below(versions.len() as u64)).unwrap_or(0)];
            let due = received + Duration::days(5 + i64::try_from(rng.below(11)).unwrap_or(0));
            let (status, finished, returned) = status_for(&mut rng, age, received, due);
            let name = format!(
                "{} {} {}",
                FAMILY[usize::try_from(rng.below(8)).unwrap_or(0)],
                MIDDLE[usize::try_from(rng.below(6)).unwrap_or(0)],
                GIVEN[usize::try_from(rng.below(10)).unwrap_or(0)]
            );
            let id = persistence::new_id();
            let channel = ["counter", "online", "counter", "postal"][usize::try_from(i % 4).unwrap_or(0)];
            events.push(EventRow {
                case_id: id.clone(),
                seq: 1,
                at: received,
                actor_id: None,
                action: domain::case::CaseAction::Accept.into(),
                from_status: None,
                to_status: domain::case::CaseStatus::Accepted,
                step: None,
                note: None,
                due_at: Some(due),
                step_due_at: None,
                details: None,
            });
            rows.push(CaseRow {
                id,
                code: code.clone(),
                procedure_code: procedure_code.clone(),
                procedure_version: *procedure_version,
                agency_id: agency_id.clone(),
                channel: domain::procedure::Channel::parse(channel, "channel").map_err(|e| BootstrapError::Invalid(e.to_string()))?,
                source: domain::case::intake::CaseSource::Local,
                external_id: None,
                status: domain::case::CaseStatus::parse(status, "status").map_err(|e| BootstrapError::Invalid(e.to_string()))?,
                owner_id: None,
                applicant: serde_json::json!({
                    "kind": "citizen", "full_name": name, "id_type": "cccd",
                    "id_number": format!("0040{:08}", i % 100_000_000), "phone": format!("09{:08}", i % 100_000_000)
                })
                .to_string(),
                representative: None,
                summary: "Hồ sơ nạp thử tải".into(),
                form_data: "{}".into(),
                documents: "[]".into(),
                return_method: domain::procedure::Channel::Counter,
                current_step: None,
                assignee_id: None,
                submitted_at: received,
                received_at: Some(received),
                due_at: Some(due),
                original_due_at: None,
                paused_at: None,
                supplement_count: 0,
                supplement_seconds: 0,
                finished_at: finished,
                returned_at: returned,
                revision: 1,
                created_at: received,
                updated_at: finished.unwrap_or(received),
                search: format!("{} {}", code.to_lowercase(), domain::text::fold(&name)),
                step_due_at: None,
            });
        }
        persistence::write_tx(&mut conn, |conn| persistence::repo::cases::insert_many(conn, &rows, &events))?;
        written += count;
        progress(written);
    }
    persistence::write_tx(&mut conn, |conn| {
        for ((agency_index, date), last) in &sequences {
            case_sequences::raise_to(conn, &load_agencies[*agency_index].0, *date, *last)?;
        }
        persistence::repo::audit::append(
            conn,
            persistence::repo::audit::NewAuditEntry {
                action: "seed.cases".into(),
                entity_type: "case".into(),
                entity_id: format!("{written} cases"),
                reason: Some("seed --cases".into()),
                ..Default::default()
            },
        )
    })?;
    // The case counters of the statistics, recounted once instead of case by case.
    persistence::repo::stats::ensure_built(&mut conn)?;
    // Fresh planner statistics, so inbox and lookup plans fit the new volume at once.
    persistence::db::analyze(&mut conn).map_err(RepoError::from)?;
    Ok(written)
}

/// The status of a loaded case by its age in days: old ones are closed (mostly returned, a
/// tenth of them late), recent ones spread over the pending statuses.
fn status_for(
    rng: &mut Rng,
    age: i64,
    received: NaiveDateTime,
    due: NaiveDateTime,
) -> (&'static str, Option<NaiveDateTime>, Option<NaiveDateTime>) {
    let roll = rng.below(100);
    let finish = |late: bool| {
        if late { due + Duration::days(1 + age % 3) } else { received + (due - received) / 2 }
    };
    if age > 30 {
        return match roll {
            0..=2 => ("withdrawn", None, None),
            3..=4 => ("refused", None, None),
            5..=7 => ("resolved", Some(finish(false)), None),
            8..=17 => ("returned", Some(finish(true)), Some(finish(true) + Duration::hours(2))),
            _ => ("returned", Some(finish(false)), Some(finish(false) + Duration::hours(2))),
        };
    }
    match roll {
        0..=29 => ("accepted", None, None),
        30..=59 => ("processing", None, None),
        60..=64 => ("supplement_requested", None, None),
        65..=69 => ("awaiting_payment", None, None),
        70..=79 => ("resolved", Some(finish(false)), None),
        _ => ("returned", Some(finish(false)), Some(finish(false) + Duration::hours(2))),
    }
}
