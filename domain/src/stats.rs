//! Case statistics and report 06 (Biểu số 06/VPCP/KSTT, domain.md §9.1) from additive daily
//! counters.
//!
//! Every case contributes a handful of `+1`s, each to one counter on one local day (reception
//! day, finishing day, due day). The database keeps the sums per agency, procedure, channel and
//! day, updated with the difference between a case's contributions before and after each change
//! ([`diff`]), so that any window can be reported from sums over days instead of a scan of the
//! cases. [`row_from_sums`] turns the sums into a report row; [`classify`] states the counting
//! rules of §9.1 directly, case by case, and the property test below holds the two equal.
//!
//! Counting rules (TD.DichVuCongApi, `ThongKeWhereBuilder.cs`, as domain.md §9.1 transcribes
//! them), judged on the case's current status as that implementation does:
//! * counted: received (has a reception date) and neither still `submitted` nor `refused`;
//! * received in the window by channel, or carried over (received before, not closed before);
//! * resolved in the window: `resolved`/`returned` early, on time or late by date, `withdrawn`
//!   as on time;
//! * pending at the window's end: counted, received by then and not closed by then; waiting for
//!   a supplement, for payment or stopped counts as within the deadline, otherwise overdue when
//!   the due date lies before the last day.

use chrono::NaiveDate;

use crate::case::{CaseStatus, Timeliness, report_timeliness};

/// Additive counters of one (agency, procedure, channel, day) cell. Each counter has its own
/// day: the reception day (`received`), the finishing day (`resolved_*`, `withdrawn`, `refused`,
/// `past_due`), the request day (`supplement_requested`) or the due day (`due`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Cases received (counted cases only).
    pub received: i64,
    /// Of those, received online.
    pub received_online: i64,
    /// Finished before the due day.
    pub resolved_early: i64,
    /// Finished on the due day, or without a due date.
    pub resolved_on_time: i64,
    /// Finished after the due day.
    pub resolved_late: i64,
    /// Withdrawn after reception (reported as resolved on time).
    pub withdrawn: i64,
    /// Refused (at reception, or for a supplement never made); not counted as received.
    pub refused: i64,
    /// Supplement requests made after reception.
    pub supplement_requested: i64,
    /// Counted cases by due day that are open (and whose clock runs) or closed after that day.
    pub due: i64,
    /// Closed cases, by finishing day, closed after their due day.
    pub past_due: i64,
}

impl Counters {
    /// The names of the counters, in storage order.
    pub const NAMES: [&'static str; 10] = [
        "received",
        "received_online",
        "resolved_early",
        "resolved_on_time",
        "resolved_late",
        "withdrawn",
        "refused",
        "supplement_requested",
        "due",
        "past_due",
    ];

    /// The counters as an array in [`Counters::NAMES`] order.
    pub fn to_array(self) -> [i64; 10] {
        [
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
        ]
    }

    /// The counters from an array in [`Counters::NAMES`] order.
    pub fn from_array(a: [i64; 10]) -> Self {
        Self {
            received: a[0],
            received_online: a[1],
            resolved_early: a[2],
            resolved_on_time: a[3],
            resolved_late: a[4],
            withdrawn: a[5],
            refused: a[6],
            supplement_requested: a[7],
            due: a[8],
            past_due: a[9],
        }
    }

    /// Cases that left the pending set (resolved or withdrawn).
    pub fn closed(self) -> i64 {
        self.resolved_early + self.resolved_on_time + self.resolved_late + self.withdrawn
    }

    /// Whether every counter is zero.
    pub fn is_zero(self) -> bool {
        self == Self::default()
    }

    fn zip(self, other: Self, f: impl Fn(i64, i64) -> i64) -> Self {
        let (a, b) = (self.to_array(), other.to_array());
        Self::from_array(std::array::from_fn(|i| f(a[i], b[i])))
    }
}

impl std::ops::Add for Counters {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        self.zip(other, |a, b| a + b)
    }
}

impl std::ops::AddAssign for Counters {
    fn add_assign(&mut self, other: Self) {
        *self = *self + other;
    }
}

impl std::ops::Sub for Counters {
    type Output = Self;
    fn sub(self, other: Self) -> Self {
        self.zip(other, |a, b| a - b)
    }
}

/// What the statistics need to know of a case (dates are local, Asia/Ho_Chi_Minh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts {
    /// Current status.
    pub status: CaseStatus,
    /// Whether the case came in online (the other channels are counter and post).
    pub online: bool,
    /// Reception day (`NgayTiepNhan`).
    pub received: Option<NaiveDate>,
    /// Day processing ended (`NgayKetThucXuLy`): resolved, withdrawn, refused or stopped.
    pub finished: Option<NaiveDate>,
    /// Due day (`NgayHenTra`).
    pub due: Option<NaiveDate>,
}

impl CaseFacts {
    /// Whether report 06 counts the case at all.
    pub fn counted(&self) -> bool {
        self.received.is_some() && !matches!(self.status, CaseStatus::Submitted | CaseStatus::Refused)
    }

    /// The day the case left the pending set, for counted cases that did.
    fn closed_on(&self) -> Option<NaiveDate> {
        match self.status {
            CaseStatus::Resolved | CaseStatus::Returned | CaseStatus::Withdrawn => self.finished,
            _ => None,
        }
    }
}

/// The `+1`s of one case: (day, counters with a single 1).
pub fn contributions(facts: &CaseFacts) -> Vec<(NaiveDate, Counters)> {
    let one = |f: fn(&mut Counters)| {
        let mut c = Counters::default();
        f(&mut c);
        c
    };
    let mut out = Vec::with_capacity(4);
    if facts.status == CaseStatus::Refused
        && let Some(day) = facts.finished
    {
        out.push((day, one(|c| c.refused = 1)));
    }
    let Some(received) = facts.received.filter(|_| facts.counted()) else {
        return out;
    };
    out.push((received, if facts.online { one(|c| (c.received, c.received_online) = (1, 1)) } else { one(|c| c.received = 1) }));
    match (facts.closed_on(), facts.status) {
        (Some(day), status) => {
            out.push((
                day,
                match (status, report_timeliness(facts.due, Some(day), day)) {
                    (CaseStatus::Withdrawn, _) => one(|c| c.withdrawn = 1),
                    (_, Timeliness::Early) => one(|c| c.resolved_early = 1),
                    (_, Timeliness::Late) => one(|c| c.resolved_late = 1),
                    _ => one(|c| c.resolved_on_time = 1),
                },
            ));
            if let Some(due) = facts.due.filter(|due| day > *due) {
                out.push((due, one(|c| c.due = 1)));
                out.push((day, one(|c| c.past_due = 1)));
            }
        }
        (None, CaseStatus::Accepted | CaseStatus::Processing) => {
            if let Some(due) = facts.due {
                out.push((due, one(|c| c.due = 1)));
            }
        }
        // Waiting for a supplement or payment, or stopped: within the deadline (§9.1).
        (None, _) => {}
    }
    out
}

/// What a change of a case adds to the daily counters: its contributions after the change
/// minus those before (`None` for a new case), plus `supplement_requests` new requests made on
/// `today`. Cells that cancel out are left out; the result is sorted by day.
pub fn diff(before: Option<&CaseFacts>, after: &CaseFacts, supplement_requests: i64, today: NaiveDate) -> Vec<(NaiveDate, Counters)> {
    let mut cells: Vec<(NaiveDate, Counters)> = Vec::new();
    let mut add = |day: NaiveDate, c: Counters, sign: i64| {
        let c = if sign < 0 { Counters::default() - c } else { c };
        match cells.iter_mut().find(|(d, _)| *d == day) {
            Some((_, sum)) => *sum += c,
            None => cells.push((day, c)),
        }
    };
    for (day, c) in before.map(contributions).unwrap_or_default() {
        add(day, c, -1);
    }
    for (day, c) in contributions(after) {
        add(day, c, 1);
    }
    if supplement_requests != 0 {
        add(today, Counters { supplement_requested: supplement_requests, ..Counters::default() }, 1);
    }
    cells.retain(|(_, c)| !c.is_zero());
    cells.sort_by_key(|(d, _)| *d);
    cells
}

/// One row of report 06 and of the case statistics (api.md §3.8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportRow {
    /// Received: carried over from before the window plus received in it.
    pub received_total: i64,
    /// Received online in the window.
    pub received_online: i64,
    /// Received at the counter or by post in the window.
    pub received_direct_postal: i64,
    /// Carried over (từ kỳ trước).
    pub carried_over: i64,
    /// Resolved in the window (withdrawn included, as on time).
    pub resolved_total: i64,
    /// Resolved before the due day.
    pub resolved_early: i64,
    /// Resolved on the due day (and withdrawn).
    pub resolved_on_time: i64,
    /// Resolved after the due day.
    pub resolved_late: i64,
    /// Pending at the end of the window.
    pub pending_total: i64,
    /// Pending, due day not before the last day.
    pub pending_within: i64,
    /// Pending, due day before the last day.
    pub pending_overdue: i64,
    /// Withdrawn in the window.
    pub withdrawn: i64,
    /// Refused in the window.
    pub refused: i64,
    /// Supplement requests made in the window.
    pub supplement_requested: i64,
}

impl ReportRow {
    /// Whether received = carried over + online + counter/post = resolved + pending.
    pub fn is_consistent(&self) -> bool {
        self.received_total == self.carried_over + self.received_online + self.received_direct_postal
            && self.received_total == self.resolved_total + self.pending_total
            && self.resolved_total == self.resolved_early + self.resolved_on_time + self.resolved_late
            && self.pending_total == self.pending_within + self.pending_overdue
    }

    /// Whether the row counts nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl std::ops::AddAssign for ReportRow {
    fn add_assign(&mut self, o: Self) {
        self.received_total += o.received_total;
        self.received_online += o.received_online;
        self.received_direct_postal += o.received_direct_postal;
        self.carried_over += o.carried_over;
        self.resolved_total += o.resolved_total;
        self.resolved_early += o.resolved_early;
        self.resolved_on_time += o.resolved_on_time;
        self.resolved_late += o.resolved_late;
        self.pending_total += o.pending_total;
        self.pending_within += o.pending_within;
        self.pending_overdue += o.pending_overdue;
        self.withdrawn += o.withdrawn;
        self.refused += o.refused;
        self.supplement_requested += o.supplement_requested;
    }
}

/// Sums of the daily counters of one group for a window `[from, to]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowSums {
    /// Days before `from`.
    pub before: Counters,
    /// Days `from` up to the day before `to`.
    pub inside: Counters,
    /// The day `to`.
    pub last: Counters,
}

impl std::ops::AddAssign for WindowSums {
    fn add_assign(&mut self, o: Self) {
        self.before += o.before;
        self.inside += o.inside;
        self.last += o.last;
    }
}

/// The report row of a window from its sums (see the module documentation).
pub fn row_from_sums(s: &WindowSums) -> ReportRow {
    let window = s.inside + s.last;
    let through = s.before + window;
    let carried_over = s.before.received - s.before.closed();
    let pending_total = through.received - through.closed();
    let pending_overdue = (s.before + s.inside).due - through.past_due;
    ReportRow {
        received_total: carried_over + window.received,
        received_online: window.received_online,
        received_direct_postal: window.received - window.received_online,
        carried_over,
        resolved_total: window.closed(),
        resolved_early: window.resolved_early,
        resolved_on_time: window.resolved_on_time + window.withdrawn,
        resolved_late: window.resolved_late,
        pending_total,
        pending_within: pending_total - pending_overdue,
        pending_overdue,
        withdrawn: window.withdrawn,
        refused: window.refused,
        supplement_requested: window.supplement_requested,
    }
}

/// Report 06's rules applied to one case for the window `[from, to]`, directly (the
/// reference the counters are checked against). Supplement requests are not case facts and are
/// left out.
pub fn classify(f: &CaseFacts, from: NaiveDate, to: NaiveDate) -> ReportRow {
    let mut row = ReportRow::default();
    if f.status == CaseStatus::Refused && f.finished.is_some_and(|d| from <= d && d <= to) {
        row.refused = 1;
    }
    let Some(received) = f.received.filter(|_| f.counted()) else {
        return row;
    };
    let closed = f.closed_on();
    if received > to || closed.is_some_and(|d| d < from) {
        return row;
    }
    if received < from {
        row.carried_over = 1;
    } else if f.online {
        row.received_online = 1;
    } else {
        row.received_direct_postal = 1;
    }
    row.received_total = 1;
    match closed {
        Some(day) if day <= to => {
            row.resolved_total = 1;
            match (f.status, report_timeliness(f.due, Some(day), day)) {
                (CaseStatus::Withdrawn, _) => {
                    row.withdrawn = 1;
                    row.resolved_on_time = 1;
                }
                (_, Timeliness::Early) => row.resolved_early = 1,
                (_, Timeliness::Late) => row.resolved_late = 1,
                _ => row.resolved_on_time = 1,
            }
        }
        _ => {
            row.pending_total = 1;
            let paused = matches!(f.status, CaseStatus::SupplementRequested | CaseStatus::AwaitingPayment | CaseStatus::Stopped);
            if !paused && f.due.is_some_and(|due| due < to) {
                row.pending_overdue = 1;
            } else {
                row.pending_within = 1;
            }
        }
    }
    row
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(u64::try_from(n).unwrap())
    }

    /// Sums of the contributions of `cases` for the window [from, to].
    fn sums(cases: &[CaseFacts], from: NaiveDate, to: NaiveDate) -> WindowSums {
        let mut s = WindowSums::default();
        for f in cases {
            for (d, c) in contributions(f) {
                if d < from {
                    s.before += c;
                } else if d < to {
                    s.inside += c;
                } else if d == to {
                    s.last += c;
                }
            }
        }
        s
    }

    const STATUSES: [CaseStatus; 10] = [
        CaseStatus::Submitted,
        CaseStatus::Accepted,
        CaseStatus::Refused,
        CaseStatus::Processing,
        CaseStatus::SupplementRequested,
        CaseStatus::AwaitingPayment,
        CaseStatus::Withdrawn,
        CaseStatus::Stopped,
        CaseStatus::Resolved,
        CaseStatus::Returned,
    ];

    /// A random but coherent case: received on day r, due on or after r, finished on or after r.
    fn case() -> impl Strategy<Value = CaseFacts> {
        (0usize..10, any::<bool>(), 0i64..60, proptest::option::of(0i64..30), 0i64..40, any::<bool>()).prop_map(
            |(s, online, r, due, fin, received)| {
                let status = STATUSES[s];
                let finishes = matches!(
                    status,
                    CaseStatus::Resolved | CaseStatus::Returned | CaseStatus::Withdrawn | CaseStatus::Refused | CaseStatus::Stopped
                );
                CaseFacts {
                    status,
                    online,
                    received: (received || status != CaseStatus::Refused).then(|| day(r)).filter(|_| status != CaseStatus::Submitted),
                    finished: finishes.then(|| day(r + fin)),
                    due: due.map(|d| day(r + d)),
                }
            },
        )
    }

    proptest! {
        #[test]
        fn counters_agree_with_the_rules_case_by_case(cases in proptest::collection::vec(case(), 0..60), a in 0i64..100, len in 0i64..40) {
            let (from, to) = (day(a), day(a + len));
            let mut direct = ReportRow::default();
            for f in &cases {
                direct += classify(f, from, to);
            }
            let from_sums = row_from_sums(&sums(&cases, from, to));
            prop_assert_eq!(from_sums, direct);
            prop_assert!(from_sums.is_consistent(), "{:?}", from_sums);
        }

        #[test]
        fn applying_every_diff_leaves_the_contributions_of_the_last_state(states in proptest::collection::vec(case(), 1..6)) {
            let mut cells: Vec<(NaiveDate, Counters)> = Vec::new();
            let mut before: Option<CaseFacts> = None;
            for after in &states {
                for (d, c) in diff(before.as_ref(), after, 0, day(0)) {
                    match cells.iter_mut().find(|(x, _)| *x == d) {
                        Some((_, sum)) => *sum += c,
                        None => cells.push((d, c)),
                    }
                }
                before = Some(*after);
            }
            cells.retain(|(_, c)| !c.is_zero());
            cells.sort_by_key(|(d, _)| *d);
            let mut expected = diff(None, states.last().unwrap(), 0, day(0));
            expected.sort_by_key(|(d, _)| *d);
            prop_assert_eq!(cells, expected);
        }
    }

    #[test]
    fn a_late_case_is_overdue_while_pending_and_late_once_resolved() {
        let open = CaseFacts { status: CaseStatus::Processing, online: false, received: Some(day(0)), finished: None, due: Some(day(5)) };
        let done = CaseFacts { status: CaseStatus::Resolved, finished: Some(day(9)), ..open };
        // Window ending on day 7: the case was still pending (it finished on day 9), and overdue.
        let r = row_from_sums(&sums(&[done], day(0), day(7)));
        assert_eq!((r.pending_total, r.pending_overdue, r.resolved_total), (1, 1, 0));
        let r = row_from_sums(&sums(&[done], day(8), day(10)));
        assert_eq!((r.carried_over, r.resolved_late, r.pending_total), (1, 1, 0));
        // Due on the last day of the window: still within.
        let r = row_from_sums(&sums(&[open], day(0), day(5)));
        assert_eq!((r.pending_within, r.pending_overdue), (1, 0));
    }

    #[test]
    fn a_supplement_request_counts_on_its_day() {
        let f =
            CaseFacts { status: CaseStatus::SupplementRequested, online: true, received: Some(day(0)), finished: None, due: Some(day(5)) };
        let before = CaseFacts { status: CaseStatus::Processing, ..f };
        let cells = diff(Some(&before), &f, 1, day(3));
        assert_eq!(
            cells,
            vec![
                (day(3), Counters { supplement_requested: 1, ..Counters::default() }),
                (day(5), Counters { due: -1, ..Counters::default() })
            ]
        );
    }
}
