//! The Vietnamese lunisolar calendar (âm lịch), computed astronomically at UTC+7.
//!
//! This is Hồ Ngọc Đức's published algorithm: new moons and solar longitudes from Meeus-style
//! series, month 11 holds the winter solstice, and a leap month is the first month without a
//! major solar term. It differs from the Chinese calendar (UTC+8) in some years, e.g. Tết 2007
//! is 17 February in Vietnam and 18 February in China.

use std::f64::consts::PI;

use chrono::{Datelike, NaiveDate};

/// The time zone of the Vietnamese calendar, in hours east of UTC.
const TIME_ZONE: f64 = 7.0;
const SYNODIC_MONTH: f64 = 29.530588853;

/// Julian day number of a Gregorian date.
pub fn julian_day(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) + 1_721_425
}

/// Gregorian date of a Julian day number.
pub fn from_julian_day(jd: i64) -> Option<NaiveDate> {
    i32::try_from(jd - 1_721_425).ok().and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// The Julian day (with fraction) of the `k`-th new moon after 1900-01-01.
fn new_moon(k: f64) -> f64 {
    let t = k / 1236.85;
    let t2 = t * t;
    let t3 = t2 * t;
    let dr = PI / 180.0;
    let mut jd1 = 2_415_020.759_33 + 29.530_588_68 * k + 0.000_117_8 * t2 - 0.000_000_155 * t3;
    jd1 += 0.000_33 * ((166.56 + 132.87 * t - 0.009_173 * t2) * dr).sin();
    let m = 359.2242 + 29.105_356_08 * k - 0.000_033_3 * t2 - 0.000_003_47 * t3;
    let mpr = 306.0253 + 385.816_918_06 * k + 0.010_730_6 * t2 + 0.000_012_36 * t3;
    let f = 21.2964 + 390.670_506_46 * k - 0.001_652_8 * t2 - 0.000_002_39 * t3;
    let mut c1 = (0.1734 - 0.000_393 * t) * (m * dr).sin() + 0.0021 * (2.0 * dr * m).sin();
    c1 = c1 - 0.4068 * (mpr * dr).sin() + 0.0161 * (dr * 2.0 * mpr).sin();
    c1 -= 0.0004 * (dr * 3.0 * mpr).sin();
    c1 = c1 + 0.0104 * (dr * 2.0 * f).sin() - 0.0051 * (dr * (m + mpr)).sin();
    c1 = c1 - 0.0074 * (dr * (m - mpr)).sin() + 0.0004 * (dr * (2.0 * f + m)).sin();
    c1 = c1 - 0.0004 * (dr * (2.0 * f - m)).sin() - 0.0006 * (dr * (2.0 * f + mpr)).sin();
    c1 = c1 + 0.0010 * (dr * (2.0 * f - mpr)).sin() + 0.0005 * (dr * (2.0 * mpr + m)).sin();
    let delta_t = if t < -11.0 {
        0.001 + 0.000_839 * t + 0.000_226_1 * t2 - 0.000_008_45 * t3 - 0.000_000_081 * t * t3
    } else {
        -0.000_278 + 0.000_265 * t + 0.000_262 * t2
    };
    jd1 + c1 - delta_t
}

/// The solar longitude at Julian day `jdn`, in radians (0..2π).
fn sun_longitude(jdn: f64) -> f64 {
    let t = (jdn - 2_451_545.0) / 36_525.0;
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.529_10 + 35_999.050_30 * t - 0.000_155_9 * t2 - 0.000_000_48 * t * t2;
    let l0 = 280.466_45 + 36_000.769_83 * t + 0.000_303_2 * t2;
    let mut dl = (1.914_600 - 0.004_817 * t - 0.000_014 * t2) * (dr * m).sin();
    dl = dl + (0.019_993 - 0.000_101 * t) * (dr * 2.0 * m).sin() + 0.000_290 * (dr * 3.0 * m).sin();
    let l = (l0 + dl) * dr;
    l - PI * 2.0 * (l / (PI * 2.0)).floor()
}

/// The local day (Julian day number) of the `k`-th new moon.
#[expect(clippy::cast_possible_truncation, reason = "Julian day numbers of this era fit i64 exactly")]
fn new_moon_day(k: i64) -> i64 {
    #[expect(clippy::cast_precision_loss, reason = "k is a few thousand at most")]
    let k = k as f64;
    (new_moon(k) + 0.5 + TIME_ZONE / 24.0).floor() as i64
}

/// Which of the twelve 30° sectors the sun is in at the start of local day `jd`.
#[expect(clippy::cast_possible_truncation, reason = "the value is 0..12")]
fn sun_sector(jd: i64) -> i64 {
    #[expect(clippy::cast_precision_loss, reason = "Julian day numbers fit f64 exactly")]
    let jd = jd as f64;
    (sun_longitude(jd - 0.5 - TIME_ZONE / 24.0) / PI * 6.0).floor() as i64
}

#[expect(clippy::cast_possible_truncation, reason = "month counts fit i64")]
fn month_index(jd: i64, rounding: f64) -> i64 {
    #[expect(clippy::cast_precision_loss, reason = "Julian day numbers fit f64 exactly")]
    let jd = jd as f64;
    ((jd - 2_415_021.076_998_695) / SYNODIC_MONTH + rounding).floor() as i64
}

/// The first day of lunar month 11 (the month of the winter solstice) of Gregorian year `year`.
fn lunar_month_11(year: i32) -> Option<i64> {
    let off = julian_day(NaiveDate::from_ymd_opt(year, 12, 31)?) - 2_415_021;
    #[expect(clippy::cast_possible_truncation, clippy::cast_precision_loss, reason = "small magnitudes")]
    let k = (off as f64 / SYNODIC_MONTH).floor() as i64;
    let nm = new_moon_day(k);
    Some(if sun_sector(nm) >= 9 { new_moon_day(k - 1) } else { nm })
}

fn leap_month_offset(a11: i64) -> i64 {
    let k = month_index(a11, 0.5);
    let mut i = 1;
    let mut arc = sun_sector(new_moon_day(k + i));
    loop {
        let last = arc;
        i += 1;
        arc = sun_sector(new_moon_day(k + i));
        if arc == last || i >= 14 {
            break;
        }
    }
    i - 1
}

/// The Gregorian date of lunar `day`/`month` of lunar year `year` (`leap` for the leap month).
/// `None` when the date does not exist (a leap month that year does not have).
pub fn to_solar(day: u32, month: u32, year: i32, leap: bool) -> Option<NaiveDate> {
    if !(1..=30).contains(&day) || !(1..=12).contains(&month) {
        return None;
    }
    let (a11, b11) =
        if month < 11 { (lunar_month_11(year - 1)?, lunar_month_11(year)?) } else { (lunar_month_11(year)?, lunar_month_11(year + 1)?) };
    let k = month_index(a11, 0.5);
    let mut off = i64::from(month) - 11;
    if off < 0 {
        off += 12;
    }
    if b11 - a11 > 365 {
        let leap_off = leap_month_offset(a11);
        let mut leap_month = leap_off - 2;
        if leap_month < 0 {
            leap_month += 12;
        }
        if leap && i64::from(month) != leap_month {
            return None;
        }
        if leap || off >= leap_off {
            off += 1;
        }
    } else if leap {
        return None;
    }
    let month_start = new_moon_day(k + off);
    from_julian_day(month_start + i64::from(day) - 1)
}

/// Tết Nguyên đán: the Gregorian date of lunar 1/1 of year `year`.
pub fn tet(year: i32) -> Option<NaiveDate> {
    to_solar(1, 1, year, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn tet_differs_from_the_chinese_new_year_where_it_should() {
        assert_eq!(tet(2007), Some(date("2007-02-17")));
        assert_eq!(tet(1985), Some(date("1985-01-21")));
        assert_eq!(tet(2026), Some(date("2026-02-17")));
    }

    #[test]
    fn leap_months_exist_only_in_leap_years() {
        // 2023 had a leap second month (tháng 2 nhuận) from 2023-03-22.
        assert_eq!(to_solar(1, 2, 2023, true), Some(date("2023-03-22")));
        assert_eq!(to_solar(1, 3, 2023, true), None);
        assert_eq!(to_solar(1, 2, 2024, true), None);
        assert_eq!(to_solar(0, 2, 2024, false), None);
    }
}
