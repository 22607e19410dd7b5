//! The additive case counters of [`domain::stats`]: one row per agency, procedure, channel and
//! local day (`case_stats_daily`) and the same summed per month (`case_stats_monthly`, keyed by
//! the first day of the month). Every change of a case adds the difference of its contributions
//! in the same transaction ([`on_insert`], [`on_save`]); a report sums rows instead of scanning
//! cases ([`window_sums`]). [`recount`] recomputes everything from the raw cases and events, and
//! [`rebuild`] replaces the counters with it (after bulk loading, or when a migration asks).
//!
//! Rows are written in one global order (daily before monthly, then by key and day), so that
//! concurrent transactions on PostgreSQL, which lock the rows they update, cannot deadlock on
//! them.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel::upsert::excluded;
use domain::case::CaseStatus;
use domain::stats::{CaseFacts, Counters, WindowSums};

use crate::repo::cases::CaseRow;
use crate::schema::{case_events, case_stats_daily, case_stats_monthly, case_stats_state, cases};
use crate::{AnyConnection, RepoError};

/// The dimensions of a counter cell.
pub type Key = (String, String, String);

/// Every counter cell: (agency, procedure, channel) → day → counters.
pub type Cells = BTreeMap<Key, BTreeMap<NaiveDate, Counters>>;

fn local_date(at: NaiveDateTime) -> NaiveDate {
    (at + chrono::TimeDelta::seconds(i64::from(domain::time::VN_OFFSET_SECONDS))).date()
}

fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// What the statistics need of a stored case (`None` for a status this build does not know).
pub fn facts(
    status: &str,
    channel: &str,
    received: Option<NaiveDateTime>,
    finished: Option<NaiveDateTime>,
    due: Option<NaiveDateTime>,
) -> Option<CaseFacts> {
    Some(CaseFacts {
        status: CaseStatus::parse(status, "status").ok()?,
        online: channel == "online",
        received: received.map(local_date),
        finished: finished.map(local_date),
        due: due.map(local_date),
    })
}

fn facts_of(row: &CaseRow) -> Option<CaseFacts> {
    facts(&row.status, &row.channel, row.received_at, row.finished_at, row.due_at)
}

macro_rules! cell_row {
    ($name:ident, $table:ident) => {
        #[derive(Insertable)]
        #[diesel(table_name = $table)]
        struct $name<'a> {
            agency_id: &'a str,
            procedure_code: &'a str,
            channel: &'a str,
            day: NaiveDate,
            received: i64,
            resolved_early: i64,
            resolved_on_time: i64,
            resolved_late: i64,
            withdrawn: i64,
            refused: i64,
            supplement_requested: i64,
            due: i64,
            past_due: i64,
        }

        impl<'a> $name<'a> {
            fn new(key: (&'a str, &'a str, &'a str), day: NaiveDate, c: Counters) -> Self {
                Self {
                    agency_id: key.0,
                    procedure_code: key.1,
                    channel: key.2,
                    day,
                    received: c.received,
                    resolved_early: c.resolved_early,
                    resolved_on_time: c.resolved_on_time,
                    resolved_late: c.resolved_late,
                    withdrawn: c.withdrawn,
                    refused: c.refused,
                    supplement_requested: c.supplement_requested,
                    due: c.due,
                    past_due: c.past_due,
                }
            }
        }
    };
}

cell_row!(DailyRow, case_stats_daily);
cell_row!(MonthlyRow, case_stats_monthly);

macro_rules! upsert {
    ($conn:expr, $table:ident, $rows:expr) => {{
        use $table::dsl as t;
        crate::per_backend!($conn, |c| diesel::insert_into($table::table)
            .values($rows)
            .on_conflict((t::agency_id, t::procedure_code, t::channel, t::day))
            .do_update()
            .set((
                t::received.eq(t::received + excluded(t::received)),
                t::resolved_early.eq(t::resolved_early + excluded(t::resolved_early)),
                t::resolved_on_time.eq(t::resolved_on_time + excluded(t::resolved_on_time)),
                t::resolved_late.eq(t::resolved_late + excluded(t::resolved_late)),
                t::withdrawn.eq(t::withdrawn + excluded(t::withdrawn)),
                t::refused.eq(t::refused + excluded(t::refused)),
                t::supplement_requested.eq(t::supplement_requested + excluded(t::supplement_requested)),
                t::due.eq(t::due + excluded(t::due)),
                t::past_due.eq(t::past_due + excluded(t::past_due)),
            ))
            .execute(c))
    }};
}

/// Adds `cells` (sorted by day) to the counters of `key`, daily and monthly.
///
/// # Errors
/// Database errors.
pub fn apply(conn: &mut AnyConnection, key: (&str, &str, &str), cells: &[(NaiveDate, Counters)]) -> Result<(), RepoError> {
    let mut months: Vec<(NaiveDate, Counters)> = Vec::new();
    for (day, c) in cells {
        upsert!(conn, case_stats_daily, &DailyRow::new(key, *day, *c))?;
        match months.iter_mut().find(|(m, _)| *m == month_of(*day)) {
            Some((_, sum)) => *sum += *c,
            None => months.push((month_of(*day), *c)),
        }
    }
    for (month, c) in months.into_iter().filter(|(_, c)| !c.is_zero()) {
        upsert!(conn, case_stats_monthly, &MonthlyRow::new(key, month, c))?;
    }
    Ok(())
}

/// Counts a new case (call in its intake transaction).
///
/// # Errors
/// Database errors.
pub fn on_insert(conn: &mut AnyConnection, row: &CaseRow) -> Result<(), RepoError> {
    let Some(after) = facts_of(row) else { return Ok(()) };
    let cells = domain::stats::diff(None, &after, 0, local_date(row.updated_at));
    apply(conn, (&row.agency_id, &row.procedure_code, &row.channel), &cells)
}

/// Counts the change of a case from `before` to `after` (call in the action's transaction).
///
/// # Errors
/// Database errors.
pub fn on_save(conn: &mut AnyConnection, before: &CaseRow, after: &CaseRow) -> Result<(), RepoError> {
    let Some(new) = facts_of(after) else { return Ok(()) };
    let requests = i64::from(after.supplement_count - before.supplement_count).max(0);
    let cells = domain::stats::diff(facts_of(before).as_ref(), &new, requests, local_date(after.updated_at));
    apply(conn, (&after.agency_id, &after.procedure_code, &after.channel), &cells)
}

type FactColumns = (String, String, String, String, String, Option<NaiveDateTime>, Option<NaiveDateTime>, Option<NaiveDateTime>);

/// Every counter cell recomputed from the raw cases and their supplement-request events.
///
/// # Errors
/// Database errors.
pub fn recount(conn: &mut AnyConnection) -> Result<Cells, RepoError> {
    let mut cells = Cells::new();
    let mut add = |key: Key, day: NaiveDate, c: Counters| {
        *cells.entry(key).or_default().entry(day).or_default() += c;
    };
    let mut after = String::new();
    loop {
        let rows: Vec<FactColumns> = cases::table
            .filter(cases::id.gt(&after))
            .order(cases::id.asc())
            .limit(20_000)
            .select((
                cases::id,
                cases::agency_id,
                cases::procedure_code,
                cases::channel,
                cases::status,
                cases::received_at,
                cases::finished_at,
                cases::due_at,
            ))
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after.clone_from(&last.0);
        for (_, agency, procedure, channel, status, received, finished, due) in rows {
            if let Some(f) = facts(&status, &channel, received, finished, due) {
                for (day, c) in domain::stats::contributions(&f) {
                    add((agency.clone(), procedure.clone(), channel.clone()), day, c);
                }
            }
        }
    }
    let requests: Vec<(String, String, String, NaiveDateTime)> = case_events::table
        .inner_join(cases::table.on(cases::id.eq(case_events::case_id)))
        .filter(case_events::action.eq("request_supplement"))
        .filter(case_events::from_status.ne("submitted"))
        .select((cases::agency_id, cases::procedure_code, cases::channel, case_events::at))
        .load(conn)?;
    for (agency, procedure, channel, at) in requests {
        add((agency, procedure, channel), local_date(at), Counters { supplement_requested: 1, ..Counters::default() });
    }
    for days in cells.values_mut() {
        days.retain(|_, c| !c.is_zero());
    }
    cells.retain(|_, days| !days.is_empty());
    Ok(cells)
}

type StoredRow = (String, String, String, NaiveDate, i64, i64, i64, i64, i64, i64, i64, i64, i64);

fn to_cells(rows: Vec<StoredRow>) -> Cells {
    let mut cells = Cells::new();
    for (a, p, ch, day, c0, c1, c2, c3, c4, c5, c6, c7, c8) in rows {
        let c = Counters::from_array([c0, c1, c2, c3, c4, c5, c6, c7, c8]);
        if !c.is_zero() {
            cells.entry((a, p, ch)).or_default().insert(day, c);
        }
    }
    cells
}

macro_rules! load_all {
    ($conn:expr, $table:ident) => {{
        use $table::dsl as t;
        $table::table
            .select((
                t::agency_id,
                t::procedure_code,
                t::channel,
                t::day,
                t::received,
                t::resolved_early,
                t::resolved_on_time,
                t::resolved_late,
                t::withdrawn,
                t::refused,
                t::supplement_requested,
                t::due,
                t::past_due,
            ))
            .load::<StoredRow>($conn)
    }};
}

/// The stored daily counters (non-zero cells).
///
/// # Errors
/// Database errors.
pub fn stored_daily(conn: &mut AnyConnection) -> Result<Cells, RepoError> {
    Ok(to_cells(load_all!(conn, case_stats_daily)?))
}

/// The stored monthly counters (non-zero cells).
///
/// # Errors
/// Database errors.
pub fn stored_monthly(conn: &mut AnyConnection) -> Result<Cells, RepoError> {
    Ok(to_cells(load_all!(conn, case_stats_monthly)?))
}

/// Daily cells summed per month (what the monthly table must hold).
pub fn by_month(cells: &Cells) -> Cells {
    let mut out = Cells::new();
    for (key, days) in cells {
        let months = out.entry(key.clone()).or_default();
        for (day, c) in days {
            *months.entry(month_of(*day)).or_default() += *c;
        }
        months.retain(|_, c| !c.is_zero());
    }
    out.retain(|_, m| !m.is_empty());
    out
}

/// Replaces the counters with a recount (in a write transaction; on PostgreSQL the case table
/// is locked against writers meanwhile).
///
/// # Errors
/// Database errors.
pub fn rebuild(conn: &mut AnyConnection) -> Result<(), RepoError> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::connection::SimpleConnection::batch_execute(
            c,
            "LOCK TABLE cases IN SHARE MODE; LOCK TABLE case_stats_daily, case_stats_monthly IN EXCLUSIVE MODE",
        )?;
    }
    let daily = recount(conn)?;
    let monthly = by_month(&daily);
    diesel::delete(case_stats_daily::table).execute(conn)?;
    diesel::delete(case_stats_monthly::table).execute(conn)?;
    // 13 columns a row: stay under SQLite's bind limit.
    let daily_rows: Vec<DailyRow<'_>> =
        daily.iter().flat_map(|((a, p, ch), days)| days.iter().map(move |(day, c)| DailyRow::new((a, p, ch), *day, *c))).collect();
    for chunk in daily_rows.chunks(2000) {
        crate::per_backend!(conn, |c| diesel::insert_into(case_stats_daily::table).values(chunk).execute(c))?;
    }
    let monthly_rows: Vec<MonthlyRow<'_>> =
        monthly.iter().flat_map(|((a, p, ch), days)| days.iter().map(move |(day, c)| MonthlyRow::new((a, p, ch), *day, *c))).collect();
    for chunk in monthly_rows.chunks(2000) {
        crate::per_backend!(conn, |c| diesel::insert_into(case_stats_monthly::table).values(chunk).execute(c))?;
    }
    diesel::update(case_stats_state::table).set(case_stats_state::built.eq(true)).execute(conn)?;
    Ok(())
}

/// Marks the counters as needing a rebuild (after loading cases without counting them).
///
/// # Errors
/// Database errors.
pub fn invalidate(conn: &mut AnyConnection) -> Result<(), RepoError> {
    diesel::update(case_stats_state::table).set(case_stats_state::built.eq(false)).execute(conn)?;
    Ok(())
}

/// Rebuilds the counters when they are marked stale; true when it did.
///
/// # Errors
/// Database errors.
pub fn ensure_built(conn: &mut AnyConnection) -> Result<bool, RepoError> {
    crate::write_tx(conn, |conn| {
        let built: bool = case_stats_state::table.select(case_stats_state::built).first(conn)?;
        if built {
            return Ok(false);
        }
        rebuild(conn)?;
        Ok(true)
    })
}

/// How the rows of a statistic are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// One row for everything.
    Total,
    /// Per agency id.
    Agency,
    /// Per procedure code.
    Procedure,
    /// Per channel.
    Channel,
    /// Per local day (keys `YYYY-MM-DD`; the days before the window under the key `""`).
    Day,
    /// Per agency and channel (keys `agency_id|channel`).
    AgencyChannel,
}

#[derive(QueryableByName)]
struct SumRow {
    #[diesel(sql_type = Text)]
    k: String,
    #[diesel(sql_type = Integer)]
    seg: i32,
    #[diesel(sql_type = Integer)]
    online: i32,
    #[diesel(sql_type = BigInt)]
    received: i64,
    #[diesel(sql_type = BigInt)]
    resolved_early: i64,
    #[diesel(sql_type = BigInt)]
    resolved_on_time: i64,
    #[diesel(sql_type = BigInt)]
    resolved_late: i64,
    #[diesel(sql_type = BigInt)]
    withdrawn: i64,
    #[diesel(sql_type = BigInt)]
    refused: i64,
    #[diesel(sql_type = BigInt)]
    supplement_requested: i64,
    #[diesel(sql_type = BigInt)]
    due: i64,
    #[diesel(sql_type = BigInt)]
    past_due: i64,
}

fn next_month(day: NaiveDate) -> NaiveDate {
    month_of(day).checked_add_months(chrono::Months::new(1)).unwrap_or(day)
}

/// `(table, from inclusive, to exclusive, segment)`: segment 0 = before the window, 1 = the
/// window but its last day, 2 = the last day.
fn segments(from: NaiveDate, to: NaiveDate, whole_months_inside: bool) -> Vec<(&'static str, Option<NaiveDate>, NaiveDate, i32)> {
    let (daily, monthly) = ("case_stats_daily", "case_stats_monthly");
    let mut parts = vec![(monthly, None, month_of(from), 0), (daily, Some(month_of(from)), from, 0)];
    let first_full = if from.day() == 1 { from } else { next_month(from) };
    let last_start = month_of(to);
    if whole_months_inside && first_full < last_start {
        parts.push((daily, Some(from), first_full, 1));
        parts.push((monthly, Some(first_full), last_start, 1));
        parts.push((daily, Some(last_start), to, 1));
    } else {
        parts.push((daily, Some(from), to, 1));
    }
    parts.push((daily, Some(to), to + chrono::Days::new(1), 2));
    parts
}

/// Sums of the counters for the window `[from, to]`, per group, over the agencies whose path
/// starts with `under_path` (all when `None`). For [`Group::Day`] the window's days are their
/// own groups (in `inside`, or `last` for the last day) and everything before is under `""`.
///
/// # Errors
/// Database errors.
pub fn window_sums(
    conn: &mut AnyConnection,
    under_path: Option<&str>,
    group: Group,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<String, WindowSums>, RepoError> {
    let key = match group {
        Group::Total => "''",
        Group::Agency => "agency_id",
        Group::Procedure => "procedure_code",
        Group::Channel => "channel",
        Group::Day => "CASE WHEN seg = 0 THEN '' ELSE CAST(day AS TEXT) END",
        Group::AgencyChannel => "agency_id || '|' || channel",
    };
    let columns = Counters::NAMES.join(", ");
    let parts: Vec<String> = segments(from, to, group != Group::Day)
        .into_iter()
        .filter(|(_, lo, hi, _)| lo.is_none_or(|lo| lo < *hi))
        .map(|(table, lo, hi, seg)| {
            let lower = lo.map(|lo| format!("day >= '{lo}' AND ")).unwrap_or_default();
            format!("SELECT agency_id, channel, procedure_code, day, {seg} AS seg, {columns} FROM {table} WHERE {lower}day < '{hi}'")
        })
        .collect();
    let scope = under_path
        .map(|path| format!(" WHERE agency_id IN (SELECT id FROM agencies WHERE path LIKE '{}%')", path.replace('\'', "''")))
        .unwrap_or_default();
    let sums = Counters::NAMES.iter().map(|n| format!("CAST(SUM({n}) AS BIGINT) AS {n}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT CAST({key} AS TEXT) AS k, seg, CASE WHEN channel = 'online' THEN 1 ELSE 0 END AS online, {sums} \
         FROM ({}) s{scope} GROUP BY 1, 2, 3",
        parts.join(" UNION ALL ")
    );
    let rows: Vec<SumRow> = crate::per_backend!(conn, |c| diesel::sql_query(&sql).load(c))?;
    let mut out: BTreeMap<String, WindowSums> = BTreeMap::new();
    for r in rows {
        let c = Counters::from_array([
            r.received,
            r.resolved_early,
            r.resolved_on_time,
            r.resolved_late,
            r.withdrawn,
            r.refused,
            r.supplement_requested,
            r.due,
            r.past_due,
        ]);
        let s = out.entry(r.k).or_default();
        match r.seg {
            0 => s.before += c,
            1 => s.inside += c,
            _ => s.last += c,
        }
        if r.seg > 0 && r.online == 1 {
            s.received_online += c.received;
        }
    }
    Ok(out)
}
