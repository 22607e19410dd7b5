//! Due dates: receipt instant + processing time → due instant, with the days skipped and why.
//!
//! Rules (domain.md §7.3, with the defaults of the Cao Bằng regulation):
//! - A receipt on a non-working day, after closing time, or at or after the procedure's cut-off
//!   time counts from the next working day's opening; before opening, from opening; in the
//!   lunch break, from the afternoon opening.
//! - `working_hour` and `working_day` (× the hours of a working day, 8 by default) count working
//!   time only: lunch breaks, weekends, holidays and compensatory days off are skipped. A due
//!   time that falls on a period's end stays there (17:00, not the next morning), so 5 working
//!   days from Monday 09:10 is the next Monday 09:10.
//! - `calendar_day` counts every day, then moves a due date that is not worked to the next
//!   working day, keeping the clock time of the (normalised) start.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use super::{Calendar, DayStatus};
use crate::ValidationError;
use crate::role::wire_enum;
use crate::time::VN;

wire_enum! {
    /// The unit of a processing time.
    DurationUnit {
        /// Ngày làm việc.
        WorkingDay = "working_day", "Ngày làm việc", "Working days";
        /// Ngày (calendar days).
        CalendarDay = "calendar_day", "Ngày", "Calendar days";
        /// Giờ làm việc.
        WorkingHour = "working_hour", "Giờ làm việc", "Working hours";
    }
}

/// The longest processing time accepted: ten years of working days.
pub const MAX_VALUE: u32 = 2_600;

/// A processing time, e.g. 15 working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessingTime {
    value: u32,
    unit: DurationUnit,
}

impl ProcessingTime {
    /// Validates the value (0 to [`MAX_VALUE`], and at most `MAX_VALUE × 8` working hours).
    ///
    /// # Errors
    /// When the value is out of range.
    pub fn new(value: u32, unit: DurationUnit) -> Result<Self, ValidationError> {
        let max = if unit == DurationUnit::WorkingHour { MAX_VALUE * 8 } else { MAX_VALUE };
        if value > max {
            return Err(ValidationError::new("duration", format!("must be between 0 and {max}")));
        }
        Ok(Self { value, unit })
    }

    /// The number of units.
    pub fn value(self) -> u32 {
        self.value
    }

    /// The unit.
    pub fn unit(self) -> DurationUnit {
        self.unit
    }
}

/// A day the computation passed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedDay {
    pub date: NaiveDate,
    /// The day's status: weekend, or the calendar entry that made it a day off.
    pub status: DayStatus,
}

/// A computed deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// When the time started to run (the receipt, normalised into working hours).
    pub start_at: DateTime<FixedOffset>,
    /// The deadline, in Asia/Ho_Chi_Minh time.
    pub due_at: DateTime<FixedOffset>,
    /// Non-working days between the receipt and the deadline, in order.
    pub skipped_days: Vec<SkippedDay>,
}

struct Walker<'a> {
    calendar: &'a Calendar,
    skipped: Vec<SkippedDay>,
}

impl Walker<'_> {
    /// The next working day after `date`, recording the days passed over.
    fn next_working_day(&mut self, date: NaiveDate) -> Option<NaiveDate> {
        let mut day = date.succ_opt()?;
        for _ in 0..3_700 {
            let status = self.calendar.status(day);
            if status.is_working() {
                return Some(day);
            }
            self.skipped.push(SkippedDay { date: day, status });
            day = day.succ_opt()?;
        }
        None
    }

    /// Moves `at` into working time: the same instant when it is worked, otherwise the next
    /// period's start. `cutoff` sends receipts at or after it to the next working day.
    fn normalise(&mut self, at: NaiveDateTime, cutoff: Option<NaiveTime>) -> Option<NaiveDateTime> {
        let hours = self.calendar.hours();
        let mut date = at.date();
        let status = self.calendar.status(date);
        if !status.is_working() {
            self.skipped.push(SkippedDay { date, status });
            date = self.next_working_day(date)?;
            return Some(date.and_time(hours.opening()));
        }
        let time = at.time();
        if cutoff.is_some_and(|c| time >= c) || time >= hours.closing() {
            date = self.next_working_day(date)?;
            return Some(date.and_time(hours.opening()));
        }
        for (start, end) in hours.periods() {
            if time < *start {
                return Some(date.and_time(*start));
            }
            if time < *end {
                return Some(at);
            }
        }
        Some(date.and_time(hours.opening()))
    }

    /// Adds `minutes` of working time to `at`, which must be in working time (see `normalise`).
    fn add_working_minutes(&mut self, at: NaiveDateTime, mut minutes: i64) -> Option<NaiveDateTime> {
        let hours = self.calendar.hours();
        let per_day = hours.minutes_per_day();
        let mut date = at.date();
        let mut time = at.time();
        loop {
            // Whole days at once from an opening: the fast path for long durations.
            if time == hours.opening() {
                while minutes > per_day {
                    minutes -= per_day;
                    date = self.next_working_day(date)?;
                }
            }
            for (start, end) in hours.periods() {
                if time >= *end {
                    continue;
                }
                let from = time.max(*start);
                let available = (*end - from).num_minutes();
                if minutes <= available {
                    return Some(date.and_time(from) + Duration::minutes(minutes));
                }
                minutes -= available;
                time = *end;
            }
            date = self.next_working_day(date)?;
            time = hours.opening();
        }
    }
}

impl Calendar {
    /// Working minutes between two instants (0 when `to` is not after `from`): the time a
    /// supplement request paused the clock, or what remains until a due date.
    pub fn working_minutes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let (from, to) = (from.with_timezone(&VN).naive_local(), to.with_timezone(&VN).naive_local());
        let mut total = 0_i64;
        let mut date = from.date();
        let mut guard = 0;
        while date <= to.date() && guard < 40_000 {
            guard += 1;
            if self.is_working(date) {
                for (start, end) in self.hours().periods() {
                    let lo = date.and_time(*start).max(from);
                    let hi = date.and_time(*end).min(to);
                    if hi > lo {
                        total += (hi - lo).num_minutes();
                    }
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// The instant `minutes` of working time after `from` (normalised into working time first).
    ///
    /// # Errors
    /// When the result lies beyond the calendar's range.
    pub fn add_working_minutes(&self, from: DateTime<Utc>, minutes: i64) -> Result<DateTime<FixedOffset>, ValidationError> {
        let out_of_range = || ValidationError::new("start", "the deadline lies outside the supported calendar");
        let mut walker = Walker { calendar: self, skipped: Vec::new() };
        let start = walker.normalise(from.with_timezone(&VN).naive_local(), None).ok_or_else(out_of_range)?;
        let due = walker.add_working_minutes(start, minutes.max(0)).ok_or_else(out_of_range)?;
        VN.from_local_datetime(&due).single().ok_or_else(out_of_range)
    }

    /// The deadline of a processing time that starts with a receipt at `received_at`.
    ///
    /// # Errors
    /// When the deadline lies beyond the calendar's range (year 262143).
    pub fn due(&self, received_at: DateTime<Utc>, time: ProcessingTime, cutoff: Option<NaiveTime>) -> Result<Due, ValidationError> {
        let out_of_range = || ValidationError::new("start", "the deadline lies outside the supported calendar");
        let local = received_at.with_timezone(&VN).naive_local();
        let mut walker = Walker { calendar: self, skipped: Vec::new() };
        let start = walker.normalise(local, cutoff).ok_or_else(out_of_range)?;
        let due = match time.unit() {
            DurationUnit::WorkingHour => walker.add_working_minutes(start, i64::from(time.value()) * 60),
            DurationUnit::WorkingDay => walker.add_working_minutes(start, i64::from(time.value()) * self.hours().minutes_per_day()),
            DurationUnit::CalendarDay => {
                let mut date = start.date().checked_add_signed(Duration::days(i64::from(time.value()))).ok_or_else(out_of_range)?;
                for day in start.date().iter_days().skip(1).take_while(|d| *d < date) {
                    let status = self.status(day);
                    if !status.is_working() {
                        walker.skipped.push(SkippedDay { date: day, status });
                    }
                }
                let status = self.status(date);
                if !status.is_working() {
                    walker.skipped.push(SkippedDay { date, status });
                    date = walker.next_working_day(date).ok_or_else(out_of_range)?;
                }
                Some(date.and_time(start.time()))
            }
        }
        .ok_or_else(out_of_range)?;
        let to_local = |t: NaiveDateTime| VN.from_local_datetime(&t).single().ok_or_else(out_of_range);
        Ok(Due { start_at: to_local(start)?, due_at: to_local(due)?, skipped_days: walker.skipped })
    }
}
