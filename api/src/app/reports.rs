//! Reports: the counts of report 06 for a window and agency subtree (domain.md §9.1) from the
//! additive counters of `domain::stats`, periodic reports, frozen snapshots (pushed to the
//! reporting system through the outbox) and the scheduler that freezes each due period once,
//! whatever the number of instances.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::procedure::Channel;
use domain::report::{Period, Template};
use domain::stats::{ReportRow, WindowSums};
use persistence::AnyConnection;
use persistence::repo::agencies::AgencyRow;
use persistence::repo::reports::{self as repo, SnapshotRow};
use persistence::repo::stats::{self, Group};
use persistence::stored::report::{GroupBy, PendingCounts, ReceivedCounts, Report, ResolvedCounts, Statistics, StatisticsRow};

use crate::app::AppError;
use crate::names::Names;
use crate::state::AppState;

/// The grouping named `value` (`default` when absent).
///
/// # Errors
/// `validation_failed` for an unknown grouping.
pub fn group_by(value: Option<&str>, default: GroupBy) -> Result<GroupBy, AppError> {
    Ok(match value {
        None => default,
        Some("agency") => GroupBy::Agency,
        Some("field") => GroupBy::Field,
        Some("procedure") => GroupBy::Procedure,
        Some("channel") => GroupBy::Channel,
        Some("day") => GroupBy::Day,
        Some(_) => return Err(AppError::invalid("group_by", "must be agency, field, procedure, channel or day")),
    })
}

fn row(key: String, label: String, r: &ReportRow) -> StatisticsRow {
    StatisticsRow {
        key,
        label,
        received: ReceivedCounts {
            total: r.received_total,
            online: r.received_online,
            direct_postal: r.received_direct_postal,
            carried_over: r.carried_over,
        },
        resolved: ResolvedCounts { total: r.resolved_total, early: r.resolved_early, on_time: r.resolved_on_time, late: r.resolved_late },
        pending: PendingCounts { total: r.pending_total, within: r.pending_within, overdue: r.pending_overdue },
        withdrawn: r.withdrawn,
        refused: r.refused,
        supplement_requested: r.supplement_requested,
    }
}

/// The longest window of one statistic.
const MAX_WINDOW_DAYS: i64 = 5 * 366;

/// The counts for `[from, to]` over `agency`'s subtree (everything when `None`).
///
/// # Errors
/// A bad window; database errors.
pub fn compute(
    conn: &mut AnyConnection,
    names: &Names,
    agency: Option<&AgencyRow>,
    group_by: GroupBy,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Statistics, AppError> {
    domain::time::local_days(from, to)?;
    let days = (to - from).num_days();
    if days > MAX_WINDOW_DAYS || (group_by == GroupBy::Day && days > 366) {
        return Err(AppError::invalid("to", "the window is too long (at most 5 years, or 1 year by day)"));
    }
    let group = match group_by {
        GroupBy::Agency => Group::Agency,
        GroupBy::Field | GroupBy::Procedure => Group::Procedure,
        GroupBy::Channel => Group::Channel,
        GroupBy::Day => Group::Day,
    };
    let sums = stats::window_sums(conn, agency.map(|a| a.path.as_str()), group, from, to)?;
    let mut all = WindowSums::default();
    for s in sums.values() {
        all += *s;
    }
    let mut rows: Vec<(String, ReportRow)> = Vec::new();
    if group_by == GroupBy::Day {
        let mut before = sums.get("").map(|s| s.before).unwrap_or_default();
        for day in from.iter_days().take_while(|d| *d <= to) {
            let key = day.to_string();
            let s = sums.get(&key).copied().unwrap_or_default();
            let today = s.inside + s.last;
            let row = domain::stats::row_from_sums(&WindowSums { before, inside: domain::stats::Counters::default(), last: today });
            before += today;
            rows.push((key, row));
        }
    } else {
        rows = sums.iter().map(|(k, s)| (k.clone(), domain::stats::row_from_sums(s))).collect();
    }
    let mut labelled: Vec<StatisticsRow> = match group_by {
        GroupBy::Agency => rows
            .iter()
            .filter(|(_, r)| !r.is_empty())
            .map(|(id, r)| Ok(row(id.clone(), names.agency(conn, id)?, r)))
            .collect::<Result<_, AppError>>()?,
        GroupBy::Procedure | GroupBy::Field => {
            let codes: Vec<String> = rows.iter().map(|(k, _)| k.clone()).collect();
            let labels = persistence::repo::procedures::latest_labels(conn, &codes)?;
            if group_by == GroupBy::Procedure {
                rows.iter()
                    .filter(|(_, r)| !r.is_empty())
                    .map(|(code, r)| {
                        let name = labels.get(code).map_or_else(|| code.clone(), |l| l.name.clone());
                        row(code.clone(), name, r)
                    })
                    .collect()
            } else {
                let mut fields: BTreeMap<String, (String, ReportRow)> = BTreeMap::new();
                for (code, r) in &rows {
                    let (field, name) =
                        labels.get(code).map_or_else(|| (String::new(), String::new()), |l| (l.field_code.clone(), l.field_name.clone()));
                    let entry = fields.entry(field).or_insert_with(|| (name, ReportRow::default()));
                    entry.1 += *r;
                }
                fields
                    .into_iter()
                    .filter(|(_, (_, r))| !r.is_empty())
                    .map(|(code, (name, r))| row(code.clone(), if name.is_empty() { code } else { name }, &r))
                    .collect()
            }
        }
        GroupBy::Channel => rows
            .iter()
            .filter(|(_, r)| !r.is_empty())
            .map(|(k, r)| {
                let label = Channel::parse(k, "channel").map_or_else(|_| k.clone(), |c| c.label().vi.to_owned());
                row(k.clone(), label, r)
            })
            .collect(),
        GroupBy::Day => rows.iter().map(|(k, r)| row(k.clone(), k.clone(), r)).collect(),
    };
    if group_by != GroupBy::Day {
        labelled.sort_by(|a, b| domain::text::fold(&a.label).cmp(&domain::text::fold(&b.label)).then_with(|| a.key.cmp(&b.key)));
    }
    let total = row("total".into(), "Tổng cộng".into(), &domain::stats::row_from_sums(&all));
    Ok(Statistics {
        from,
        to,
        agency_id: agency.map(|a| a.id.clone()),
        agency_name: agency.map(|a| a.name.clone()),
        group_by,
        rows: labelled,
        total,
    })
}

fn report_title(template: Template) -> &'static str {
    match template {
        Template::Report06 => {
            "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
        }
        Template::Weekly => "THỐNG KÊ TÌNH HÌNH GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH TRONG TUẦN",
        Template::Monthly => "THỐNG KÊ TÌNH HÌNH GIẢI QUYẾT HỒ SƠ THỦ TỤC HÀNH CHÍNH TRONG THÁNG",
    }
}

/// Computes a report for `period` over `agency`'s subtree.
///
/// # Errors
/// Database errors.
pub fn build_report(
    conn: &mut AnyConnection,
    names: &Names,
    period: &Period,
    agency: Option<&AgencyRow>,
    group_by: GroupBy,
    now: DateTime<Utc>,
) -> Result<Report, AppError> {
    let statistics = compute(conn, names, agency, group_by, period.from, period.to)?;
    Ok(Report {
        template: period.template.as_str().to_owned(),
        title: report_title(period.template).to_owned(),
        period: period.code.clone(),
        period_label: period.label.clone(),
        generated_at: now,
        statistics,
    })
}

/// Freezes `period` for `agency` (the province when `None`) as a snapshot row.
///
/// # Errors
/// Database errors.
pub fn freeze(
    conn: &mut AnyConnection,
    state: &AppState,
    period: &Period,
    agency: Option<&AgencyRow>,
    group_by: GroupBy,
    trigger: &str,
    created_by: Option<String>,
) -> Result<Option<SnapshotRow>, AppError> {
    let report = build_report(conn, &state.names, period, agency, group_by, state.clock.now())?;
    let submit = state.deliverers.has(domain::outbox::Target::Reporting);
    let row = SnapshotRow {
        id: persistence::new_id(),
        template: period.template.as_str().to_owned(),
        period: period.code.clone(),
        from_date: period.from,
        to_date: period.to,
        scope: agency.map(|a| a.id.clone()).unwrap_or_default(),
        group_by: group_by.as_str().to_owned(),
        trigger_kind: trigger.to_owned(),
        content: serde_json::to_string(&report).map_err(AppError::internal)?,
        created_by,
        created_at: state.now(),
        submission_status: if submit { "queued" } else { "not_sent" }.into(),
        submission_ref: None,
        submitted_at: None,
    };
    if !repo::insert(conn, &row)? {
        return Ok(None);
    }
    if submit {
        // Pushed to the government reporting system through the outbox, in freezing order.
        let payload = ::integrations::gateway::ReportSubmission {
            id: row.id.clone(),
            template: row.template.clone(),
            period: row.period.clone(),
            from: row.from_date,
            to: row.to_date,
            agency_code: agency.map(|a| a.code.clone()),
            agency_name: agency.map(|a| a.name.clone()),
            group_by: row.group_by.clone(),
            frozen_at: row.created_at.and_utc(),
            report: serde_json::to_value(&report).map_err(AppError::internal)?,
        };
        persistence::repo::outbox::enqueue(
            conn,
            row.created_at,
            &[persistence::repo::outbox::NewMessage {
                target: domain::outbox::Target::Reporting.as_str().into(),
                kind: "report".into(),
                ordering_key: crate::app::outbox::REPORTS_KEY.into(),
                subject: row.id.clone(),
                payload: serde_json::to_string(&payload).map_err(AppError::internal)?,
            }],
        )?;
    }
    Ok(Some(row))
}

/// One pass of the report scheduler: freezes the province-wide report of every period that is
/// due and not frozen yet. Another instance freezing the same period first is not an error.
///
/// # Errors
/// Database errors.
pub fn run_schedule(conn: &mut AnyConnection, state: &AppState, now: DateTime<Utc>) -> Result<usize, AppError> {
    let local = now.with_timezone(&domain::time::VN);
    let calendar = crate::app::calendar::load(conn, state)?;
    let due = domain::report::due_periods(local.date_naive(), local.time() >= state.config.report_time, |d| calendar.is_working(d));
    let mut frozen = 0;
    for (template, code) in due {
        if repo::scheduled_exists(conn, template.as_str(), &code, "", GroupBy::Agency.as_str())? {
            continue;
        }
        let period = domain::report::parse_period(template, &code)?;
        let done = persistence::write_tx(conn, |conn| freeze(conn, state, &period, None, GroupBy::Agency, "scheduled", None))?;
        if let Some(row) = done {
            log::info!("froze report {} {} ({})", row.template, row.period, row.id);
            frozen += 1;
        }
    }
    Ok(frozen)
}
