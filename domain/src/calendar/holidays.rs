//! Default public holidays of the Labour Code 2019, Art. 112, for any year.
//!
//! The yearly government decision (exact Tết days, the day next to 2 September, swapped
//! Saturdays) cannot be computed: it goes into the override table. These rules only propose the
//! default, and every choice below is a field of [`HolidayRules`].

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::{CalendarDay, DayKind, lunar};

/// Which day next to 2 September is the second National Day holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NationalDayAdjacent {
    /// 1 September.
    Before,
    /// 3 September.
    After,
    /// The one that bridges to a weekend: 3 September when 2 September is a Monday or a
    /// Thursday, otherwise 1 September (what the government chose in 2021–2026).
    Bridge,
}

/// The choices of the default holiday generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayRules {
    /// Tết days before lunar 1/1 (default 1: New Year's Eve).
    pub tet_days_before: u32,
    /// Tết days after lunar 1/1 (default 3: the 2nd to 4th day), 5 days in all.
    pub tet_days_after: u32,
    /// The second National Day holiday.
    pub national_day_adjacent: NationalDayAdjacent,
    /// The first year with a second National Day holiday (the Labour Code 2019 took effect in 2021).
    pub national_day_second_from: i32,
    /// Give the next working day off for each holiday on a weekend (Art. 112(3)).
    pub compensate_weekends: bool,
    /// Further fixed-date holidays: (month, day, name, first year), e.g. a newly enacted day.
    pub extra_fixed: Vec<(u32, u32, String, i32)>,
}

impl Default for HolidayRules {
    fn default() -> Self {
        Self {
            tet_days_before: 1,
            tet_days_after: 3,
            national_day_adjacent: NationalDayAdjacent::Bridge,
            national_day_second_from: 2021,
            compensate_weekends: true,
            extra_fixed: Vec::new(),
        }
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The default holidays of `year` and their compensatory days off, in date order.
pub fn default_holidays(year: i32, rules: &HolidayRules) -> Vec<CalendarDay> {
    let mut days: Vec<CalendarDay> = Vec::new();
    let mut add = |date: Option<NaiveDate>, name: &str| {
        if let Some(date) = date {
            days.push(CalendarDay { date, kind: DayKind::Holiday, name: name.to_owned() });
        }
    };
    let ymd = |m, d| NaiveDate::from_ymd_opt(year, m, d);
    add(ymd(1, 1), "Tết Dương lịch");
    if let Some(tet) = lunar::tet(year) {
        for offset in -i64::from(rules.tet_days_before)..=i64::from(rules.tet_days_after) {
            add(tet.checked_add_signed(Duration::days(offset)), "Tết Nguyên đán");
        }
    }
    add(lunar::to_solar(10, 3, year, false), "Giỗ Tổ Hùng Vương");
    add(ymd(4, 30), "Ngày Chiến thắng");
    add(ymd(5, 1), "Ngày Quốc tế lao động");
    add(ymd(9, 2), "Quốc khánh");
    if let Some(national) = ymd(9, 2).filter(|_| year >= rules.national_day_second_from) {
        let after = match rules.national_day_adjacent {
            NationalDayAdjacent::Before => false,
            NationalDayAdjacent::After => true,
            NationalDayAdjacent::Bridge => matches!(national.weekday(), Weekday::Mon | Weekday::Thu),
        };
        add(if after { ymd(9, 3) } else { ymd(9, 1) }, "Quốc khánh");
    }
    for (month, day, name, from_year) in &rules.extra_fixed {
        if year >= *from_year {
            add(ymd(*month, *day), name);
        }
    }
    days.sort_by_key(|d| d.date);
    days.dedup_by_key(|d| d.date);
    if rules.compensate_weekends {
        let holidays: std::collections::HashSet<NaiveDate> = days.iter().map(|d| d.date).collect();
        let mut taken = holidays.clone();
        let mut compensations = Vec::new();
        for day in days.iter().filter(|d| is_weekend(d.date)) {
            // The first working day after the block of holidays and weekend days.
            let mut candidate = day.date;
            while taken.contains(&candidate) || is_weekend(candidate) {
                match candidate.succ_opt() {
                    Some(next) => candidate = next,
                    None => break,
                }
            }
            taken.insert(candidate);
            compensations.push(CalendarDay { date: candidate, kind: DayKind::CompensatoryOff, name: format!("Nghỉ bù {}", day.name) });
        }
        days.extend(compensations);
        days.sort_by_key(|d| d.date);
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn the_2026_defaults_match_the_labour_code() {
        let days = default_holidays(2026, &HolidayRules::default());
        let dates: Vec<String> = days.iter().filter(|d| d.kind == DayKind::Holiday).map(|d| d.date.to_string()).collect();
        assert_eq!(
            dates,
            [
                "2026-01-01",
                "2026-02-16",
                "2026-02-17",
                "2026-02-18",
                "2026-02-19",
                "2026-02-20",
                "2026-04-26",
                "2026-04-30",
                "2026-05-01",
                "2026-09-01",
                "2026-09-02"
            ]
        );
        // Hùng Kings' day 2026 is a Sunday: Monday 27 April is off instead.
        assert!(days.iter().any(|d| d.date == date("2026-04-27") && d.kind == DayKind::CompensatoryOff));
    }

    #[test]
    fn a_saturday_national_day_is_compensated_after_the_block() {
        // 2023: 1 September (Fri) and 2 September (Sat) are holidays; Monday 4 September is off.
        let days = default_holidays(2023, &HolidayRules::default());
        assert!(days.iter().any(|d| d.date == date("2023-09-04") && d.kind == DayKind::CompensatoryOff));
    }
}
