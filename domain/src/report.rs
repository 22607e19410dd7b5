//! Reporting periods (domain.md §9.2): the statutory windows of report 06 (Decree 09/2019
//! cut-offs, 15th to 14th) and the weekly and monthly internal statistics that Art. 19.5 of the
//! Cao Bằng regulation wants on the last working day of the week and of the month.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

use crate::ValidationError;

crate::role::wire_enum! {
    /// What a periodic report is.
    Template {
        /// Biểu số 06/VPCP/KSTT with the statutory cut-off windows.
        Report06 = "06", "Biểu số 06/VPCP/KSTT", "Template 06/VPCP/KSTT";
        /// Weekly internal statistics (Monday to Sunday).
        Weekly = "weekly", "Thống kê tuần", "Weekly statistics";
        /// Monthly internal statistics (calendar month).
        Monthly = "monthly", "Thống kê tháng", "Monthly statistics";
    }
}

/// A reporting period and its data window (inclusive local dates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// What is reported.
    pub template: Template,
    /// The period as written in the API: `2026-11`, `2026-Q3`, `2026-H1`, `2026-9M`, `2026`,
    /// `2026-W48`.
    pub code: String,
    /// First day of the data window.
    pub from: NaiveDate,
    /// Last day of the data window.
    pub to: NaiveDate,
    /// How the period reads in Vietnamese (`Tháng 11 năm 2026`, `Quý III năm 2026`…).
    pub label: String,
}

fn ymd(y: i32, m: u32, d: u32) -> Result<NaiveDate, ValidationError> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| ValidationError::new("period", "is out of range"))
}

/// The statutory window ending on the 14th of month `m` of `y` and starting on the 15th of the
/// month `months` months earlier.
fn cutoff_window(y: i32, m: u32, months: u32) -> Result<(NaiveDate, NaiveDate), ValidationError> {
    let to = ymd(y, m, 14)?;
    let from = ymd(y, m, 15)?.checked_sub_months(Months::new(months)).ok_or_else(|| ValidationError::new("period", "is out of range"))?;
    Ok((from, to))
}

/// Parses `period` for `template`.
///
/// # Errors
/// A period that is not one of the documented forms, or not valid for the template.
pub fn parse_period(template: Template, period: &str) -> Result<Period, ValidationError> {
    let bad = || {
        ValidationError::new(
            "period",
            match template {
                Template::Report06 => "must be YYYY-MM, YYYY-Qn, YYYY-H1, YYYY-9M or YYYY",
                Template::Weekly => "must be an ISO week, YYYY-Www",
                Template::Monthly => "must be YYYY-MM",
            },
        )
    };
    let (year, rest) = period.split_once('-').map_or((period, None), |(y, r)| (y, Some(r)));
    let year: i32 = year.parse().ok().filter(|y| (2000..=2100).contains(y)).ok_or_else(bad)?;
    let month = |r: &str| r.parse::<u32>().ok().filter(|m| (1..=12).contains(m) && r.len() == 2);
    let (from, to, label) = match (template, rest) {
        (Template::Report06, None) => {
            let (from, to) = cutoff_window(year, 12, 12)?;
            (from, to, format!("Năm {year}"))
        }
        (Template::Report06, Some("H1")) => {
            let (from, to) = cutoff_window(year, 6, 6)?;
            (from, to, format!("6 tháng đầu năm {year}"))
        }
        (Template::Report06, Some("9M")) => {
            let (from, to) = cutoff_window(year, 9, 9)?;
            (from, to, format!("9 tháng năm {year}"))
        }
        (Template::Report06, Some(r)) if r.starts_with('Q') => {
            let q: u32 = r[1..].parse().ok().filter(|q| (1..=4).contains(q)).ok_or_else(bad)?;
            let (from, to) = cutoff_window(year, q * 3, 3)?;
            (from, to, format!("Quý {} năm {year}", ["I", "II", "III", "IV"][(q - 1) as usize]))
        }
        (Template::Report06, Some(r)) => {
            let m = month(r).ok_or_else(bad)?;
            let (from, to) = cutoff_window(year, m, 1)?;
            (from, to, format!("Tháng {m} năm {year}"))
        }
        (Template::Monthly, Some(r)) => {
            let m = month(r).ok_or_else(bad)?;
            let from = ymd(year, m, 1)?;
            let to = from.checked_add_months(Months::new(1)).and_then(|d| d.pred_opt()).ok_or_else(bad)?;
            (from, to, format!("Tháng {m} năm {year}"))
        }
        (Template::Weekly, Some(r)) if r.starts_with('W') => {
            let w: u32 = r[1..].parse().ok().filter(|_| r.len() == 3).ok_or_else(bad)?;
            let from = NaiveDate::from_isoywd_opt(year, w, Weekday::Mon).ok_or_else(bad)?;
            (from, from + Days::new(6), format!("Tuần {w} năm {year}"))
        }
        _ => return Err(bad()),
    };
    Ok(Period { template, code: period.to_owned(), from, to, label })
}

/// A calendar quarter `YYYY-Qn` (agency evaluations) as its first and last local dates.
///
/// # Errors
/// Anything else.
pub fn parse_quarter(value: &str) -> Result<(NaiveDate, NaiveDate), ValidationError> {
    let bad = || ValidationError::new("quarter", "must be YYYY-Qn");
    let (year, q) = value.split_once("-Q").ok_or_else(bad)?;
    let year: i32 = year.parse().ok().filter(|y| (2000..=2100).contains(y)).ok_or_else(bad)?;
    let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q)).ok_or_else(bad)?;
    let from = NaiveDate::from_ymd_opt(year, q * 3 - 2, 1).ok_or_else(bad)?;
    let to = from.checked_add_months(Months::new(3)).and_then(|d| d.pred_opt()).ok_or_else(bad)?;
    Ok((from, to))
}

/// The ISO week of `day` as a period code (`2026-W48`).
pub fn week_code(day: NaiveDate) -> String {
    let w = day.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The periods a scheduler should have frozen by `today` (local): the latest statutory month,
/// quarter, half-year, nine months and year whose window has ended; and, on the last working
/// day of a week or month once `after_hours` (the configured time has passed), that week's and
/// that month's internal statistics. Freezing is idempotent, so the list may repeat.
pub fn due_periods(today: NaiveDate, after_hours: bool, is_working_day: impl Fn(NaiveDate) -> bool) -> Vec<(Template, String)> {
    let mut out = Vec::new();
    // A window ending on the 14th is complete from the 15th.
    let (y, m) = if today.day() >= 15 {
        (today.year(), today.month())
    } else if today.month() == 1 {
        (today.year() - 1, 12)
    } else {
        (today.year(), today.month() - 1)
    };
    out.push((Template::Report06, format!("{y}-{m:02}")));
    let q = m / 3;
    if q > 0 {
        out.push((Template::Report06, format!("{y}-Q{q}")));
    } else {
        out.push((Template::Report06, format!("{}-Q4", y - 1)));
    }
    out.push((Template::Report06, if m >= 6 { format!("{y}-H1") } else { format!("{}-H1", y - 1) }));
    out.push((Template::Report06, if m >= 9 { format!("{y}-9M") } else { format!("{}-9M", y - 1) }));
    out.push((Template::Report06, if m == 12 { format!("{y}") } else { format!("{}", y - 1) }));
    if after_hours && is_working_day(today) {
        let last_working = |until: NaiveDate| {
            (1..=until.signed_duration_since(today).num_days()).all(|n| !is_working_day(today + Days::new(n.unsigned_abs())))
        };
        let sunday = today + Days::new(u64::from(6 - today.weekday().num_days_from_monday()));
        if last_working(sunday) {
            out.push((Template::Weekly, week_code(today)));
        }
        let month_end = today.with_day(1).and_then(|d| d.checked_add_months(Months::new(1))).and_then(|d| d.pred_opt()).unwrap_or(today);
        if last_working(month_end) {
            out.push((Template::Monthly, format!("{}-{:02}", today.year(), today.month())));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn statutory_windows_run_from_the_15th_to_the_14th() {
        let w = |p: &str| {
            let p = parse_period(Template::Report06, p).unwrap();
            (p.from, p.to)
        };
        assert_eq!(w("2026-11"), (d(2026, 10, 15), d(2026, 11, 14)));
        assert_eq!(w("2026-01"), (d(2025, 12, 15), d(2026, 1, 14)));
        assert_eq!(w("2026-Q3"), (d(2026, 6, 15), d(2026, 9, 14)));
        assert_eq!(w("2026-Q1"), (d(2025, 12, 15), d(2026, 3, 14)));
        assert_eq!(w("2026-H1"), (d(2025, 12, 15), d(2026, 6, 14)));
        assert_eq!(w("2026-9M"), (d(2025, 12, 15), d(2026, 9, 14)));
        assert_eq!(w("2026"), (d(2025, 12, 15), d(2026, 12, 14)));
        assert_eq!(parse_period(Template::Report06, "2026-Q3").unwrap().label, "Quý III năm 2026");
        for bad in ["2026-13", "2026-Q5", "2026-H2", "26", "2026-1", "x", "2026-W01"] {
            assert!(parse_period(Template::Report06, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn internal_windows_are_calendar_weeks_and_months() {
        let p = parse_period(Template::Weekly, "2026-W48").unwrap();
        assert_eq!((p.from, p.to), (d(2026, 11, 23), d(2026, 11, 29)));
        let p = parse_period(Template::Monthly, "2026-02").unwrap();
        assert_eq!((p.from, p.to), (d(2026, 2, 1), d(2026, 2, 28)));
        assert!(parse_period(Template::Monthly, "2026").is_err());
    }

    #[test]
    fn the_scheduler_freezes_internal_statistics_on_the_last_working_day() {
        let weekdays = |day: NaiveDate| day.weekday().num_days_from_monday() < 5;
        // Friday 27 November 2026 is the last working day of its week but not of its month.
        let due = due_periods(d(2026, 11, 27), true, weekdays);
        assert!(due.contains(&(Template::Weekly, "2026-W48".into())));
        assert!(!due.iter().any(|(t, _)| *t == Template::Monthly));
        assert!(due_periods(d(2026, 11, 27), false, weekdays).iter().all(|(t, _)| *t == Template::Report06));
        // Monday 30 November 2026 is the last working day of November.
        let due = due_periods(d(2026, 11, 30), true, weekdays);
        assert!(due.contains(&(Template::Monthly, "2026-11".into())));
        assert!(!due.iter().any(|(t, _)| *t == Template::Weekly));
        // The statutory periods that have ended by 28 November 2026.
        let due = due_periods(d(2026, 11, 28), false, weekdays);
        for p in ["2026-11", "2026-Q3", "2026-H1", "2026-9M", "2025"] {
            assert!(due.contains(&(Template::Report06, p.into())), "{p}");
        }
        let due = due_periods(d(2026, 1, 10), false, weekdays);
        for p in ["2025-12", "2025-Q4", "2025-H1", "2025-9M", "2025"] {
            assert!(due.contains(&(Template::Report06, p.into())), "{p}");
        }
    }
}
