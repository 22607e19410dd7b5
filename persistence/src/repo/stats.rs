//! The additive case counters of [`domain::stats`]. A change of a case appends the difference
//! of its contributions to `case_stats_pending` in the change's transaction ([`insert_counted`],
//! [`save_counted`]): one insert, no shared row locked, so intake does not queue on counters,
//! and on PostgreSQL sent in the same statement as the case's own write. A
//! folder in every instance ([`fold`], one at a time under the `case_stats_state` row lock)
//! moves pending rows into the sums per agency, procedure, channel and local day
//! (`case_stats_daily`), per month (`case_stats_monthly`, keyed by the first day), and per
//! agency alone (`case_stats_agency_daily`, `case_stats_agency_monthly`: what report 06 and the
//! statistics by agency or day read). Readers add the pending rows in the same statement, so
//! every answer is exact. [`recount`] recomputes everything from the raw cases and events,
//! [`rebuild`] replaces the counters with it (after bulk loading, or when a migration asks), and
//! [`check`] compares the two.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{QueryFragment, QueryId};
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel::sqlite::Sqlite;
use diesel::upsert::excluded;
use domain::case::CaseStatus;
use domain::stats::{CaseFacts, Counters, WindowSums};

use crate::db::Chained;
use crate::repo::cases::CaseRow;
use crate::schema::{
    case_events, case_stats_agency_daily, case_stats_agency_monthly, case_stats_daily, case_stats_monthly, case_stats_pending,
    case_stats_state, cases,
};
use crate::{AnyConnection, RepoError};

/// Whether case changes update the counters (on by default). Off is a diagnostic for measuring
/// their cost: the counters are then marked stale and rebuilt at the next start with it on.
static INCREMENTAL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns the incremental counters on or off for this process (see [`INCREMENTAL`]); off marks
/// them stale.
///
/// # Errors
/// Database errors.
pub fn set_incremental(conn: &mut AnyConnection, on: bool) -> Result<(), RepoError> {
    INCREMENTAL.store(on, std::sync::atomic::Ordering::Relaxed);
    if !on {
        invalidate(conn)?;
    }
    Ok(())
}

fn incremental() -> bool {
    INCREMENTAL.load(std::sync::atomic::Ordering::Relaxed)
}

/// The dimensions of a counter cell.
pub type Key = (String, String, String);

/// Every counter cell: (agency, procedure, channel) → day → counters.
pub type Cells = BTreeMap<Key, BTreeMap<NaiveDate, Counters>>;

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
        received: received.map(domain::time::local_date),
        finished: finished.map(domain::time::local_date),
        due: due.map(domain::time::local_date),
    })
}

fn facts_of(row: &CaseRow) -> Option<CaseFacts> {
    facts(row.status.as_str(), row.channel.as_str(), row.received_at, row.finished_at, row.due_at)
}

// The rows own their text: an array of owned rows is an insert of a fixed shape, which diesel
// keeps prepared per connection (an insert of borrowed rows in a slice is parsed and planned
// anew by PostgreSQL each time, and a case change writes two or three pending cells).
macro_rules! cell_row {
    ($name:ident, $table:ident, $($dim:ident),+) => {
        #[derive(Insertable)]
        #[diesel(table_name = $table, treat_none_as_default_value = false)]
        struct $name {
            $($dim: String,)+
            day: NaiveDate,
            received: i64,
            received_online: i64,
            resolved_early: i64,
            resolved_on_time: i64,
            resolved_late: i64,
            withdrawn: i64,
            refused: i64,
            supplement_requested: i64,
            due: i64,
            past_due: i64,
        }

        impl $name {
            fn new(($($dim,)+): ($(cell_row!(@str $dim),)+), day: NaiveDate, c: Counters) -> Self {
                Self {
                    $($dim: $dim.to_owned(),)+
                    day,
                    received: c.received,
                    received_online: c.received_online,
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
    (@str $dim:ident) => { &str };
}

cell_row!(DailyRow, case_stats_daily, agency_id, procedure_code, channel);
cell_row!(MonthlyRow, case_stats_monthly, agency_id, procedure_code, channel);
cell_row!(PendingRow, case_stats_pending, agency_id, procedure_code, channel);
cell_row!(AgencyDailyRow, case_stats_agency_daily, agency_id);
cell_row!(AgencyMonthlyRow, case_stats_agency_monthly, agency_id);

macro_rules! upsert {
    ($conn:expr, $table:ident, $rows:expr, ($($key:ident),+)) => {{
        use $table::dsl as t;
        macro_rules! statement {
            ($values:expr) => {
                diesel::insert_into($table::table)
                    .values($values)
                    .on_conflict(($(t::$key,)+))
                    .do_update()
                    .set((
                        t::received.eq(t::received + excluded(t::received)),
                        t::received_online.eq(t::received_online + excluded(t::received_online)),
                        t::resolved_early.eq(t::resolved_early + excluded(t::resolved_early)),
                        t::resolved_on_time.eq(t::resolved_on_time + excluded(t::resolved_on_time)),
                        t::resolved_late.eq(t::resolved_late + excluded(t::resolved_late)),
                        t::withdrawn.eq(t::withdrawn + excluded(t::withdrawn)),
                        t::refused.eq(t::refused + excluded(t::refused)),
                        t::supplement_requested.eq(t::supplement_requested + excluded(t::supplement_requested)),
                        t::due.eq(t::due + excluded(t::due)),
                        t::past_due.eq(t::past_due + excluded(t::past_due)),
                    ))
            };
        }
        // PostgreSQL takes the rows in one statement; SQLite (no batch upsert in diesel) one by
        // one, which costs little inside its single writer.
        match $conn {
            AnyConnection::Postgresql(c) => statement!($rows).execute(c).map(|_| ()),
            AnyConnection::Sqlite(c) => $rows.iter().try_for_each(|row| statement!(row).execute(c).map(|_| ())),
        }
    }};
}

/// Appends `cells` of the case dimensions `key` to the pending counters.
///
/// # Errors
/// Database errors.
pub fn apply(conn: &mut AnyConnection, key: (&str, &str, &str), cells: &[(NaiveDate, Counters)]) -> Result<(), RepoError> {
    with_cells(conn, None::<NoChange>, key, cells)
}

/// A change that writes nothing: [`apply`] appends cells alone.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
struct NoChange;

impl<DB: diesel::backend::Backend> QueryFragment<DB> for NoChange {
    fn walk_ast<'b>(&'b self, _: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        Err(diesel::result::Error::QueryBuilderError("no change to write".into()))
    }
}

/// Runs `change` (the write of a case; none for cells alone) and appends `cells` of the case
/// dimensions `key` to the pending counters: on PostgreSQL in one statement
/// ([`crate::db::Chained`]), so that the counters cost no round trip of their own; on SQLite
/// (in process) one after the other.
fn with_cells<S>(
    conn: &mut AnyConnection,
    change: Option<S>,
    key: (&str, &str, &str),
    cells: &[(NaiveDate, Counters)],
) -> Result<(), RepoError>
where
    S: QueryFragment<Pg> + QueryFragment<Sqlite> + QueryId,
{
    let rows: Vec<PendingRow> = cells.iter().map(|(day, c)| PendingRow::new(key, *day, *c)).collect();
    // The rows go in as an array when there are two (receipt and due day, the usual change) or
    // three: an insert of a fixed shape stays prepared.
    macro_rules! write_cells {
        ($rows:expr) => {{
            let pending = diesel::insert_into(case_stats_pending::table).values($rows);
            match (conn, change) {
                (AnyConnection::Postgresql(c), Some(change)) => ExecuteDsl::execute(Chained(change, pending), c)?,
                (AnyConnection::Postgresql(c), None) => ExecuteDsl::execute(pending, c)?,
                (AnyConnection::Sqlite(c), change) => {
                    if let Some(change) = change {
                        ExecuteDsl::execute(change, c)?;
                    }
                    ExecuteDsl::execute(pending, c)?
                }
            };
            return Ok(());
        }};
    }
    if rows.is_empty() {
        if let Some(change) = change {
            crate::per_backend!(conn, |c| ExecuteDsl::execute(change, c))?;
        }
        return Ok(());
    }
    let rows = match <[PendingRow; 2]>::try_from(rows) {
        Ok(rows) => write_cells!(rows),
        Err(rows) => rows,
    };
    let rows = match <[PendingRow; 3]>::try_from(rows) {
        Ok(rows) => write_cells!(rows),
        Err(rows) => rows,
    };
    if let [row] = rows.as_slice() {
        write_cells!(row)
    }
    write_cells!(rows.as_slice())
}

/// Writes a new case with `insert` and counts it (call in its intake transaction).
///
/// # Errors
/// Database errors.
pub fn insert_counted<S>(conn: &mut AnyConnection, insert: S, row: &CaseRow) -> Result<(), RepoError>
where
    S: QueryFragment<Pg> + QueryFragment<Sqlite> + QueryId,
{
    let cells = match facts_of(row).filter(|_| incremental()) {
        Some(after) => domain::stats::diff(None, &after, 0, domain::time::local_date(row.updated_at)),
        None => Vec::new(),
    };
    with_cells(conn, Some(insert), (&row.agency_id, &row.procedure_code, row.channel.as_str()), &cells)
}

/// Writes the change of a case from `before` to `after` with `update` and counts it (call in
/// the action's transaction).
///
/// # Errors
/// Database errors.
pub fn save_counted<S>(conn: &mut AnyConnection, update: S, before: &CaseRow, after: &CaseRow) -> Result<(), RepoError>
where
    S: QueryFragment<Pg> + QueryFragment<Sqlite> + QueryId,
{
    let cells = match facts_of(after).filter(|_| incremental()) {
        Some(new) => {
            let requests = i64::from(after.supplement_count - before.supplement_count).max(0);
            domain::stats::diff(facts_of(before).as_ref(), &new, requests, domain::time::local_date(after.updated_at))
        }
        None => Vec::new(),
    };
    with_cells(conn, Some(update), (&after.agency_id, &after.procedure_code, after.channel.as_str()), &cells)
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
        add((agency, procedure, channel), domain::time::local_date(at), Counters { supplement_requested: 1, ..Counters::default() });
    }
    for days in cells.values_mut() {
        days.retain(|_, c| !c.is_zero());
    }
    cells.retain(|_, days| !days.is_empty());
    Ok(cells)
}

type StoredRow = (String, String, String, NaiveDate, [i64; 10]);

macro_rules! counter_columns {
    ($t:ident) => {
        (
            $t::received,
            $t::received_online,
            $t::resolved_early,
            $t::resolved_on_time,
            $t::resolved_late,
            $t::withdrawn,
            $t::refused,
            $t::supplement_requested,
            $t::due,
            $t::past_due,
        )
    };
}

type CounterTuple = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);

fn counters_of(t: CounterTuple) -> Counters {
    Counters::from_array([t.0, t.1, t.2, t.3, t.4, t.5, t.6, t.7, t.8, t.9])
}

fn to_cells(rows: Vec<StoredRow>) -> Cells {
    let mut cells = Cells::new();
    for (a, p, ch, day, c) in rows {
        let c = Counters::from_array(c);
        if !c.is_zero() {
            cells.entry((a, p, ch)).or_default().insert(day, c);
        }
    }
    cells
}

fn load_detail(conn: &mut AnyConnection, monthly: bool) -> Result<Cells, RepoError> {
    macro_rules! load {
        ($table:ident) => {{
            use $table::dsl as t;
            $table::table.select((t::agency_id, t::procedure_code, t::channel, t::day, counter_columns!(t))).load::<(
                String,
                String,
                String,
                NaiveDate,
                CounterTuple,
            )>(conn)?
        }};
    }
    let rows = if monthly { load!(case_stats_monthly) } else { load!(case_stats_daily) };
    Ok(to_cells(rows.into_iter().map(|(a, p, ch, d, c)| (a, p, ch, d, counters_of(c).to_array())).collect()))
}

fn load_agency(conn: &mut AnyConnection, monthly: bool) -> Result<Cells, RepoError> {
    macro_rules! load {
        ($table:ident) => {{
            use $table::dsl as t;
            $table::table.select((t::agency_id, t::day, counter_columns!(t))).load::<(String, NaiveDate, CounterTuple)>(conn)?
        }};
    }
    let rows = if monthly { load!(case_stats_agency_monthly) } else { load!(case_stats_agency_daily) };
    Ok(to_cells(rows.into_iter().map(|(a, d, c)| (a, String::new(), String::new(), d, counters_of(c).to_array())).collect()))
}

/// Cells summed per month (what the monthly tables hold).
pub fn by_month(cells: &Cells) -> Cells {
    regroup(cells, |key| key.clone(), month_of)
}

/// Cells summed per agency (what the agency tables hold; procedure and channel empty).
pub fn by_agency(cells: &Cells) -> Cells {
    regroup(cells, |(a, _, _)| (a.clone(), String::new(), String::new()), |d| d)
}

fn regroup(cells: &Cells, key: impl Fn(&Key) -> Key, day: impl Fn(NaiveDate) -> NaiveDate) -> Cells {
    let mut out = Cells::new();
    for (k, days) in cells {
        let target = out.entry(key(k)).or_default();
        for (d, c) in days {
            *target.entry(day(*d)).or_default() += *c;
        }
    }
    for days in out.values_mut() {
        days.retain(|_, c| !c.is_zero());
    }
    out.retain(|_, days| !days.is_empty());
    out
}

/// Locks the counters' state row (PostgreSQL; SQLite's write transaction is exclusive), so
/// that one folder or rebuild runs at a time.
fn lock_state(conn: &mut AnyConnection) -> Result<bool, RepoError> {
    Ok(match conn {
        AnyConnection::Postgresql(c) => case_stats_state::table.find(1).select(case_stats_state::built).for_update().first(c)?,
        AnyConnection::Sqlite(c) => case_stats_state::table.find(1).select(case_stats_state::built).first(c)?,
    })
}

fn flat(cells: &Cells) -> Vec<(Key, NaiveDate, Counters)> {
    cells.iter().flat_map(|(k, days)| days.iter().map(move |(d, c)| (k.clone(), *d, *c))).collect()
}

/// Writes `cells` into the four sum tables, in key order: added to what is there, or plainly
/// inserted when the tables are `empty` (a rebuild; much faster on SQLite, which has no batch
/// upsert in diesel).
fn add_to_tables(conn: &mut AnyConnection, daily: &Cells, empty: bool) -> Result<(), RepoError> {
    let monthly = by_month(daily);
    let agency_daily = by_agency(daily);
    let agency_monthly = by_month(&agency_daily);
    /// One sum table: its rows in chunks of 1,000 (14 columns a row: well under SQLite's bind
    /// limit), inserted into an empty table or added to what is there.
    macro_rules! write_sums {
        ($cells:expr, $table:ident, $row:ident, $key:pat => $parts:expr, ($($col:ident),+)) => {
            for chunk in flat($cells).chunks(1000) {
                let rows: Vec<$row> = chunk.iter().map(|($key, d, c)| $row::new($parts, *d, *c)).collect();
                if empty {
                    crate::per_backend!(conn, |c| diesel::insert_into($table::table).values(&rows).execute(c))?;
                } else {
                    upsert!(conn, $table, &rows, ($($col),+))?;
                }
            }
        };
    }
    write_sums!(daily, case_stats_daily, DailyRow, (a, p, ch) => (a, p, ch), (agency_id, procedure_code, channel, day));
    write_sums!(&monthly, case_stats_monthly, MonthlyRow, (a, p, ch) => (a, p, ch), (agency_id, procedure_code, channel, day));
    write_sums!(&agency_daily, case_stats_agency_daily, AgencyDailyRow, (a, _, _) => (a,), (agency_id, day));
    write_sums!(&agency_monthly, case_stats_agency_monthly, AgencyMonthlyRow, (a, _, _) => (a,), (agency_id, day));
    Ok(())
}

/// The ten counter columns of a row read by SQL text (named as in [`Counters::NAMES`]).
#[derive(QueryableByName)]
#[diesel(table_name = case_stats_pending)]
struct CounterFields {
    received: i64,
    received_online: i64,
    resolved_early: i64,
    resolved_on_time: i64,
    resolved_late: i64,
    withdrawn: i64,
    refused: i64,
    supplement_requested: i64,
    due: i64,
    past_due: i64,
}

impl CounterFields {
    fn counters(&self) -> Counters {
        Counters::from_array([
            self.received,
            self.received_online,
            self.resolved_early,
            self.resolved_on_time,
            self.resolved_late,
            self.withdrawn,
            self.refused,
            self.supplement_requested,
            self.due,
            self.past_due,
        ])
    }
}

/// A pending row as the folder takes it out.
#[derive(QueryableByName)]
#[diesel(table_name = case_stats_pending)]
struct Pending {
    agency_id: String,
    procedure_code: String,
    channel: String,
    day: NaiveDate,
    #[diesel(embed)]
    counters: CounterFields,
}

/// Moves up to `limit` pending rows into the sums, in one write transaction; returns how many.
/// The rows are taken out with one `DELETE … RETURNING`: exactly the rows deleted are added,
/// and rows committed meanwhile stay for the next run.
///
/// # Errors
/// Database errors.
pub fn fold(conn: &mut AnyConnection, limit: i64) -> Result<usize, RepoError> {
    crate::write_tx(conn, |conn| {
        lock_state(conn)?;
        // (A subselect with its own order and limit is no delete target diesel can express.)
        let sql = format!(
            "DELETE FROM case_stats_pending WHERE id IN (SELECT id FROM case_stats_pending ORDER BY id LIMIT $1) \
             RETURNING agency_id, procedure_code, channel, day, {}",
            Counters::NAMES.join(", ")
        );
        let rows: Vec<Pending> = crate::per_backend!(conn, |c| diesel::sql_query(&sql).bind::<BigInt, _>(limit).load(c))?;
        if rows.is_empty() {
            return Ok(0);
        }
        let moved = rows.len();
        let mut cells = Cells::new();
        for r in rows {
            *cells.entry((r.agency_id, r.procedure_code, r.channel)).or_default().entry(r.day).or_default() += r.counters.counters();
        }
        add_to_tables(conn, &cells, false)?;
        Ok(moved)
    })
}

/// Moves every pending row into the sums.
///
/// # Errors
/// Database errors.
pub fn fold_all(conn: &mut AnyConnection) -> Result<usize, RepoError> {
    const BATCH: i64 = 20_000;
    let mut total = 0;
    loop {
        let n = fold(conn, BATCH)?;
        total += n;
        if i64::try_from(n).map_or(true, |n| n < BATCH) {
            return Ok(total);
        }
    }
}

/// Replaces the counters with a recount (in a write transaction; on PostgreSQL the case table
/// is locked against writers meanwhile).
///
/// # Errors
/// Database errors.
pub fn rebuild(conn: &mut AnyConnection) -> Result<(), RepoError> {
    lock_state(conn)?;
    if let AnyConnection::Postgresql(c) = conn {
        diesel::connection::SimpleConnection::batch_execute(c, "LOCK TABLE cases IN SHARE MODE")?;
    }
    let daily = recount(conn)?;
    diesel::delete(case_stats_pending::table).execute(conn)?;
    diesel::delete(case_stats_daily::table).execute(conn)?;
    diesel::delete(case_stats_monthly::table).execute(conn)?;
    diesel::delete(case_stats_agency_daily::table).execute(conn)?;
    diesel::delete(case_stats_agency_monthly::table).execute(conn)?;
    add_to_tables(conn, &daily, true)?;
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
        if lock_state(conn)? {
            return Ok(false);
        }
        rebuild(conn)?;
        Ok(true)
    })
}

/// Folds what is pending and compares every sum table with a recount from the raw cases;
/// returns the names of the tables that differ (none when the counters are right).
///
/// # Errors
/// Database errors.
pub fn check(conn: &mut AnyConnection) -> Result<Vec<&'static str>, RepoError> {
    fold_all(conn)?;
    let expected = recount(conn)?;
    let mut wrong = Vec::new();
    if load_detail(conn, false)? != expected {
        wrong.push("case_stats_daily");
    }
    if load_detail(conn, true)? != by_month(&expected) {
        wrong.push("case_stats_monthly");
    }
    let agencies = by_agency(&expected);
    if load_agency(conn, false)? != agencies {
        wrong.push("case_stats_agency_daily");
    }
    if load_agency(conn, true)? != by_month(&agencies) {
        wrong.push("case_stats_agency_monthly");
    }
    Ok(wrong)
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
    #[diesel(embed)]
    counters: CounterFields,
}

fn next_month(day: NaiveDate) -> NaiveDate {
    month_of(day).checked_add_months(chrono::Months::new(1)).unwrap_or(day)
}

/// `(monthly?, from inclusive, to exclusive, segment)`: segment 0 = before the window, 1 = the
/// window but its last day, 2 = the last day.
fn segments(from: NaiveDate, to: NaiveDate, whole_months_inside: bool) -> Vec<(bool, Option<NaiveDate>, NaiveDate, i32)> {
    let mut parts = vec![(true, None, month_of(from), 0), (false, Some(month_of(from)), from, 0)];
    let first_full = if from.day() == 1 { from } else { next_month(from) };
    let last_start = month_of(to);
    if whole_months_inside && first_full < last_start {
        parts.push((false, Some(from), first_full, 1));
        parts.push((true, Some(first_full), last_start, 1));
        parts.push((false, Some(last_start), to, 1));
    } else {
        parts.push((false, Some(from), to, 1));
    }
    parts.push((false, Some(to), to + chrono::Days::new(1), 2));
    parts
}

/// Sums of the counters for the window `[from, to]`, per group, over the agencies whose path
/// starts with `under_path` (all when `None`), pending changes included. For [`Group::Day`] the
/// window's days are their own groups (in `inside`, or `last` for the last day) and everything
/// before is under `""`.
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
    // Totals, agencies and days read the per-agency sums; the rest the detailed ones.
    let by_agency = matches!(group, Group::Total | Group::Agency | Group::Day);
    let (daily, monthly, dims) = if by_agency {
        ("case_stats_agency_daily", "case_stats_agency_monthly", "agency_id")
    } else {
        ("case_stats_daily", "case_stats_monthly", "agency_id, procedure_code, channel")
    };
    let columns = Counters::NAMES.join(", ");
    let part = |table: &str, lo: Option<NaiveDate>, hi: NaiveDate, seg: i32| {
        let lower = lo.map(|lo| format!("day >= '{lo}' AND ")).unwrap_or_default();
        format!("SELECT {dims}, day, {seg} AS seg, {columns} FROM {table} WHERE {lower}day < '{hi}'")
    };
    let mut parts: Vec<String> = segments(from, to, group != Group::Day)
        .into_iter()
        .filter(|(_, lo, hi, _)| lo.is_none_or(|lo| lo < *hi))
        .map(|(is_monthly, lo, hi, seg)| part(if is_monthly { monthly } else { daily }, lo, hi, seg))
        .collect();
    // Changes not folded yet.
    parts.push(part("case_stats_pending", None, from, 0));
    parts.push(part("case_stats_pending", Some(from), to, 1));
    parts.push(part("case_stats_pending", Some(to), to + chrono::Days::new(1), 2));
    let scope = under_path
        .map(|path| format!(" WHERE agency_id IN (SELECT id FROM agencies WHERE path LIKE '{}%')", path.replace('\'', "''")))
        .unwrap_or_default();
    let sums = Counters::NAMES.iter().map(|n| format!("CAST(SUM({n}) AS BIGINT) AS {n}")).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT CAST({key} AS TEXT) AS k, seg, {sums} FROM ({}) s{scope} GROUP BY 1, 2", parts.join(" UNION ALL "));
    let rows: Vec<SumRow> = crate::per_backend!(conn, |c| diesel::sql_query(&sql).load(c))?;
    let mut out: BTreeMap<String, WindowSums> = BTreeMap::new();
    for r in rows {
        let c = r.counters.counters();
        let s = out.entry(r.k).or_default();
        match r.seg {
            0 => s.before += c,
            1 => s.inside += c,
            _ => s.last += c,
        }
    }
    Ok(out)
}
