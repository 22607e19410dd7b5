//! The working calendar and deadline arithmetic (domain.md §7).
//!
//! A [`Calendar`] knows which days are worked: Monday to Friday, minus the public holidays that
//! the Labour Code 2019 Art. 112 generates for any year ([`holidays`]), with an
//! administrator-maintained table of overrides that wins over both (`holiday`,
//! `compensatory_off`, `compensatory_workday`). [`Calendar::due`] turns a receipt instant and a
//! processing time into a due instant, and says which days it skipped and why.

pub mod due;
pub mod holidays;
pub mod lunar;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};

pub use due::{Due, DurationUnit, ProcessingTime, SkippedDay};
pub use holidays::HolidayRules;

use crate::ValidationError;
use crate::role::wire_enum;

wire_enum! {
    /// What an entry of the calendar table says about a date.
    DayKind {
        /// A public holiday: not worked.
        Holiday = "holiday", "Ngày lễ, tết", "Public holiday";
        /// A day off given in compensation or in a swap: not worked.
        CompensatoryOff = "compensatory_off", "Ngày nghỉ bù", "Compensatory day off";
        /// A weekend day (or a default holiday) that is worked, e.g. a swapped Saturday.
        CompensatoryWorkday = "compensatory_workday", "Ngày làm bù", "Compensatory working day";
    }
}

/// One dated entry of the calendar: a generated default or an administrator's override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// What the day is, e.g. `Tết Nguyên đán`.
    pub name: String,
}

/// The daily working periods, e.g. 07:00–11:30 and 13:30–17:00 (the default, 8 hours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    periods: Vec<(NaiveTime, NaiveTime)>,
}

impl WorkingHours {
    /// Validates sorted, non-overlapping, non-empty periods.
    ///
    /// # Errors
    /// When the list is empty or a period is empty, reversed or overlaps the previous one.
    pub fn new(periods: Vec<(NaiveTime, NaiveTime)>) -> Result<Self, ValidationError> {
        if periods.is_empty() {
            return Err(ValidationError::new("working_hours", "needs at least one period"));
        }
        let mut previous_end: Option<NaiveTime> = None;
        for (start, end) in &periods {
            if start >= end || previous_end.is_some_and(|p| *start < p) {
                return Err(ValidationError::new("working_hours", "periods must be non-empty, in order and not overlap"));
            }
            previous_end = Some(*end);
        }
        Ok(Self { periods })
    }

    /// The periods of a day.
    pub fn periods(&self) -> &[(NaiveTime, NaiveTime)] {
        &self.periods
    }

    /// Working minutes in a full day.
    pub fn minutes_per_day(&self) -> i64 {
        self.periods.iter().map(|(s, e)| (*e - *s).num_minutes()).sum()
    }

    /// Opening time of the day.
    pub fn opening(&self) -> NaiveTime {
        self.periods.first().map_or(NaiveTime::MIN, |p| p.0)
    }

    /// Closing time of the day.
    pub fn closing(&self) -> NaiveTime {
        self.periods.last().map_or(NaiveTime::MIN, |p| p.1)
    }
}

impl Default for WorkingHours {
    fn default() -> Self {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
        Self { periods: vec![(t(7, 0), t(11, 30)), (t(13, 30), t(17, 0))] }
    }
}

/// Why a date is or is not worked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayStatus {
    /// An ordinary working day.
    Working,
    /// Saturday or Sunday.
    Weekend,
    /// A calendar entry (default or override) decides.
    Entry(CalendarDay),
}

impl DayStatus {
    /// Whether the day is worked.
    pub fn is_working(&self) -> bool {
        match self {
            DayStatus::Working => true,
            DayStatus::Weekend => false,
            DayStatus::Entry(day) => day.kind == DayKind::CompensatoryWorkday,
        }
    }
}

/// The generated default holidays, computed once per year and shared (they depend only on
/// the rules, never on the override table).
#[derive(Debug, Default)]
pub struct DefaultHolidays {
    rules: HolidayRules,
    years: RwLock<HashMap<i32, Arc<HashMap<NaiveDate, CalendarDay>>>>,
}

impl DefaultHolidays {
    /// An empty cache for `rules`.
    pub fn new(rules: HolidayRules) -> Self {
        Self { rules, years: RwLock::new(HashMap::new()) }
    }

    /// The defaults of `year`, by date.
    pub fn of_year(&self, year: i32) -> Arc<HashMap<NaiveDate, CalendarDay>> {
        if let Some(found) = self.years.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&year) {
            return Arc::clone(found);
        }
        let table: Arc<HashMap<NaiveDate, CalendarDay>> =
            Arc::new(holidays::default_holidays(year, &self.rules).into_iter().map(|d| (d.date, d)).collect());
        self.years.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(year, Arc::clone(&table));
        table
    }
}

/// The working calendar: working hours, default holidays and overrides.
#[derive(Debug)]
pub struct Calendar {
    hours: WorkingHours,
    defaults: Arc<DefaultHolidays>,
    overrides: HashMap<NaiveDate, CalendarDay>,
}

impl Calendar {
    /// A calendar with `overrides` taking precedence over the defaults generated by `rules`.
    pub fn new(hours: WorkingHours, rules: HolidayRules, overrides: impl IntoIterator<Item = CalendarDay>) -> Self {
        Self::with_defaults(hours, Arc::new(DefaultHolidays::new(rules)), overrides)
    }

    /// A calendar over a shared cache of defaults.
    pub fn with_defaults(hours: WorkingHours, defaults: Arc<DefaultHolidays>, overrides: impl IntoIterator<Item = CalendarDay>) -> Self {
        Self { hours, defaults, overrides: overrides.into_iter().map(|d| (d.date, d)).collect() }
    }

    /// The working hours.
    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    fn defaults_of(&self, year: i32) -> Arc<HashMap<NaiveDate, CalendarDay>> {
        self.defaults.of_year(year)
    }

    /// The status of `date`.
    pub fn status(&self, date: NaiveDate) -> DayStatus {
        if let Some(day) = self.overrides.get(&date) {
            return DayStatus::Entry(day.clone());
        }
        if let Some(day) = self.defaults_of(date.year()).get(&date) {
            return DayStatus::Entry(day.clone());
        }
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) { DayStatus::Weekend } else { DayStatus::Working }
    }

    /// Whether `date` is worked.
    pub fn is_working(&self, date: NaiveDate) -> bool {
        if let Some(day) = self.overrides.get(&date) {
            return day.kind == DayKind::CompensatoryWorkday;
        }
        if let Some(day) = self.defaults_of(date.year()).get(&date) {
            return day.kind == DayKind::CompensatoryWorkday;
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// Every entry of `year`: the generated defaults, replaced by overrides of the same date,
    /// plus the other overrides; in date order.
    pub fn days_of_year(&self, year: i32) -> Vec<(CalendarDay, bool)> {
        let mut merged: BTreeMap<NaiveDate, (CalendarDay, bool)> = BTreeMap::new();
        for day in self.defaults_of(year).values() {
            merged.insert(day.date, (day.clone(), false));
        }
        for day in self.overrides.values().filter(|d| d.date.year() == year) {
            merged.insert(day.date, (day.clone(), true));
        }
        merged.into_values().collect()
    }
}
