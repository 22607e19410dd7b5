//! The working calendar against reference data, worked examples and properties.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use domain::calendar::{
    Calendar, CalendarDay, DayKind, DayStatus, DurationUnit, HolidayRules, ProcessingTime, WorkingHours, holidays, lunar,
};
use domain::time::VN;
use proptest::prelude::*;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A Vietnamese local time as UTC.
fn vn(s: &str) -> DateTime<Utc> {
    VN.from_local_datetime(&chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()).unwrap().with_timezone(&Utc)
}

fn calendar() -> Calendar {
    Calendar::new(WorkingHours::default(), HolidayRules::default(), Vec::new())
}

fn due(cal: &Calendar, start: &str, value: u32, unit: DurationUnit, cutoff: Option<&str>) -> String {
    let cutoff = cutoff.map(|c| NaiveTime::parse_from_str(c, "%H:%M").unwrap());
    cal.due(vn(start), ProcessingTime::new(value, unit).unwrap(), cutoff).unwrap().due_at.format("%Y-%m-%d %H:%M").to_string()
}

#[test]
fn lunar_new_year_and_hung_kings_day_agree_with_reference_data_1990_to_2050() {
    let data = include_str!("data/vn-lunar-1990-2050.csv");
    let mut checked = 0;
    for line in data.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let year: i32 = fields[0].parse().unwrap();
        assert_eq!(lunar::tet(year), Some(date(fields[1])), "Tết {year}");
        assert_eq!(lunar::to_solar(10, 3, year, false), Some(date(fields[2])), "Giỗ Tổ {year}");
        checked += 1;
    }
    assert_eq!(checked, 61);
}

#[test]
fn generated_defaults_agree_with_the_published_holidays_2020_to_2030() {
    let data = include_str!("data/vn-public-holidays-2020-2030.csv");
    let mut published: std::collections::HashMap<NaiveDate, (String, String)> = std::collections::HashMap::new();
    for line in data.lines().skip(1) {
        let mut parts = line.splitn(3, ',');
        let (d, kind, name) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap().trim_matches('"'));
        published.insert(date(d), (kind.to_owned(), name.to_owned()));
    }
    let rules = HolidayRules::default();
    for year in 2020..=2030 {
        // Tết and Hùng Kings' day fall on the same dates as published.
        let tet = lunar::tet(year).unwrap();
        assert_eq!(published.get(&tet).map(|p| p.1.as_str()), Some("Lunar New Year"), "{year}");
        let hung = lunar::to_solar(10, 3, year, false).unwrap();
        assert!(published.get(&hung).is_some_and(|p| p.1.starts_with("Hung Kings")), "{year}: {hung}");
        // Every default holiday that is not a weekend day is off in the published calendar too
        // (the government only ever adds days to the Labour Code set, or swaps whole days).
        for day in holidays::default_holidays(year, &rules).into_iter().filter(|d| d.kind == DayKind::Holiday) {
            let weekend = matches!(day.date.weekday(), Weekday::Sat | Weekday::Sun);
            if !weekend {
                let kind = published.get(&day.date).map(|p| p.0.as_str());
                assert!(matches!(kind, Some("holiday" | "compensatory_off")), "{year}: {} ({}) is {kind:?}", day.date, day.name);
            }
        }
    }
}

#[test]
fn worked_examples() {
    let cal = calendar();
    // 5 working days from Monday 09:10 is the next Monday 09:10.
    assert_eq!(due(&cal, "2026-11-02 09:10", 5, DurationUnit::WorkingDay, None), "2026-11-09 09:10");
    // Received after closing: the time starts next morning; one day ends that evening.
    assert_eq!(due(&cal, "2026-11-02 17:30", 1, DurationUnit::WorkingDay, None), "2026-11-03 17:00");
    // After the procedure's 15:00 cut-off: the same.
    assert_eq!(due(&cal, "2026-11-02 15:20", 1, DurationUnit::WorkingDay, Some("15:00")), "2026-11-03 17:00");
    assert_eq!(due(&cal, "2026-11-02 14:59", 1, DurationUnit::WorkingDay, Some("15:00")), "2026-11-03 14:59");
    // Working hours skip the lunch break.
    assert_eq!(due(&cal, "2026-11-02 10:30", 2, DurationUnit::WorkingHour, None), "2026-11-02 14:30");
    assert_eq!(due(&cal, "2026-11-02 12:00", 1, DurationUnit::WorkingHour, None), "2026-11-02 14:30");
    // Received on Saturday: Monday 07:00 starts the clock.
    assert_eq!(due(&cal, "2026-11-07 10:00", 3, DurationUnit::WorkingHour, None), "2026-11-09 10:00");
    // Across Tết 2026 (16–20 February, plus the weekends around it).
    assert_eq!(due(&cal, "2026-02-13 09:00", 1, DurationUnit::WorkingDay, None), "2026-02-23 09:00");
    // Calendar days are pushed off a non-working day: 10 days from Tuesday 2026-04-21 is Friday 1 May (holiday) → Monday 4 May.
    assert_eq!(due(&cal, "2026-04-21 08:00", 10, DurationUnit::CalendarDay, None), "2026-05-04 08:00");
    assert_eq!(due(&cal, "2026-11-02 09:10", 0, DurationUnit::WorkingDay, None), "2026-11-02 09:10");
}

#[test]
fn the_answer_explains_the_skipped_days() {
    let cal = calendar();
    let result = cal.due(vn("2026-04-24 16:00"), ProcessingTime::new(2, DurationUnit::WorkingDay).unwrap(), None).unwrap();
    let skipped: Vec<(String, String)> = result
        .skipped_days
        .iter()
        .map(|s| {
            let why = match &s.status {
                DayStatus::Weekend => "weekend".to_owned(),
                DayStatus::Entry(day) => format!("{}: {}", day.kind, day.name),
                DayStatus::Working => "working".to_owned(),
            };
            (s.date.to_string(), why)
        })
        .collect();
    assert_eq!(
        skipped,
        vec![
            ("2026-04-25".into(), "weekend".into()),
            ("2026-04-26".into(), "holiday: Giỗ Tổ Hùng Vương".into()),
            ("2026-04-27".into(), "compensatory_off: Nghỉ bù Giỗ Tổ Hùng Vương".into()),
        ]
    );
    assert_eq!(result.due_at.format("%Y-%m-%d %H:%M").to_string(), "2026-04-29 16:00");
}

#[test]
fn overrides_win_over_defaults_and_weekends() {
    let swap = [
        CalendarDay { date: date("2026-08-22"), kind: DayKind::CompensatoryWorkday, name: "Làm bù".into() },
        CalendarDay { date: date("2026-08-31"), kind: DayKind::CompensatoryOff, name: "Nghỉ bù".into() },
        CalendarDay { date: date("2026-09-01"), kind: DayKind::CompensatoryWorkday, name: "Không nghỉ".into() },
    ];
    let cal = Calendar::new(WorkingHours::default(), HolidayRules::default(), swap);
    assert!(cal.is_working(date("2026-08-22")), "a swapped Saturday is worked");
    assert!(!cal.is_working(date("2026-08-31")));
    assert!(cal.is_working(date("2026-09-01")), "an override cancels a default holiday");
    assert!(!cal.is_working(date("2026-09-02")));
    let year = cal.days_of_year(2026);
    assert!(year.iter().any(|(d, is_override)| d.date == date("2026-08-22") && *is_override));
    assert!(year.iter().any(|(d, is_override)| d.date == date("2026-01-01") && !*is_override));
}

#[test]
fn working_time_between_instants_skips_nights_lunches_and_days_off() {
    let cal = calendar();
    assert_eq!(cal.working_minutes_between(vn("2026-11-02 10:00"), vn("2026-11-02 14:00")), 90 + 30);
    assert_eq!(cal.working_minutes_between(vn("2026-11-06 16:00"), vn("2026-11-09 08:00")), 60 + 60, "Friday evening to Monday morning");
    assert_eq!(cal.working_minutes_between(vn("2026-11-09 08:00"), vn("2026-11-06 16:00")), 0);
    let later = cal.add_working_minutes(vn("2026-11-06 16:00"), 120).unwrap();
    assert_eq!(later.format("%Y-%m-%d %H:%M").to_string(), "2026-11-09 08:00");
}

#[test]
fn bad_input_is_refused() {
    assert!(ProcessingTime::new(2_601, DurationUnit::WorkingDay).is_err());
    assert!(ProcessingTime::new(20_800, DurationUnit::WorkingHour).is_ok());
    let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    assert!(WorkingHours::new(vec![]).is_err());
    assert!(WorkingHours::new(vec![(t(13, 0), t(11, 0))]).is_err());
    assert!(WorkingHours::new(vec![(t(7, 0), t(12, 0)), (t(11, 0), t(17, 0))]).is_err());
    assert_eq!(WorkingHours::default().minutes_per_day(), 480);
}

fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 2020-01-01 .. 2031-01-01, minute resolution.
    (1_577_836_800_i64 / 60..1_924_992_000_i64 / 60).prop_map(|m| Utc.timestamp_opt(m * 60, 0).unwrap())
}

fn any_unit() -> impl Strategy<Value = DurationUnit> {
    prop_oneof![Just(DurationUnit::WorkingDay), Just(DurationUnit::WorkingHour), Just(DurationUnit::CalendarDay)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_due_date_is_a_working_day_within_working_hours(start in any_instant(), value in 0_u32..80, unit in any_unit()) {
        let cal = calendar();
        let due = cal.due(start, ProcessingTime::new(value, unit).unwrap(), None).unwrap();
        let local = due.due_at.naive_local();
        prop_assert!(cal.is_working(local.date()), "{local}");
        let inside = cal.hours().periods().iter().any(|(s, e)| local.time() >= *s && local.time() <= *e);
        prop_assert!(inside, "{local}");
        prop_assert!(due.due_at >= due.start_at);
    }

    #[test]
    fn the_due_date_is_monotonic_in_start_and_duration(a in any_instant(), b in any_instant(), d1 in 0_u32..60, d2 in 0_u32..60, unit in any_unit()) {
        let cal = calendar();
        let (early, late) = if a <= b { (a, b) } else { (b, a) };
        let (short, long) = if d1 <= d2 { (d1, d2) } else { (d2, d1) };
        let at = |s, d| cal.due(s, ProcessingTime::new(d, unit).unwrap(), None).unwrap().due_at;
        prop_assert!(at(early, short) <= at(late, short));
        prop_assert!(at(early, short) <= at(early, long));
    }

    #[test]
    fn adding_working_time_composes(start in any_instant(), d1 in 0_u32..40, d2 in 0_u32..40, hours in any::<bool>()) {
        let cal = calendar();
        let unit = if hours { DurationUnit::WorkingHour } else { DurationUnit::WorkingDay };
        let first = cal.due(start, ProcessingTime::new(d1, unit).unwrap(), None).unwrap().due_at;
        let then = cal.due(first.with_timezone(&Utc), ProcessingTime::new(d2, unit).unwrap(), None).unwrap().due_at;
        let at_once = cal.due(start, ProcessingTime::new(d1 + d2, unit).unwrap(), None).unwrap().due_at;
        // Equal as working time: the same instant, or the end of one day and the next opening.
        let same = then == at_once || cal.due(then.with_timezone(&Utc), ProcessingTime::new(0, unit).unwrap(), None).unwrap().start_at
            == cal.due(at_once.with_timezone(&Utc), ProcessingTime::new(0, unit).unwrap(), None).unwrap().start_at;
        prop_assert!(same, "{start} +{d1} +{d2}: {then} vs {at_once}");
    }
}
