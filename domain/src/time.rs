//! Time conventions: storage in UTC with microsecond precision, civil time in Asia/Ho_Chi_Minh.

use chrono::{DateTime, FixedOffset, SubsecRound, Utc};

/// Vietnam has used UTC+07:00 without daylight saving since 1975.
pub const VN_OFFSET_SECONDS: i32 = 7 * 3600;

/// The `Asia/Ho_Chi_Minh` offset (checked at compile time).
pub const VN: FixedOffset = match FixedOffset::east_opt(VN_OFFSET_SECONDS) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// Truncates an instant to microseconds, the precision both backends keep.
pub fn to_storage_precision(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// The local (Asia/Ho_Chi_Minh) date of a stored UTC instant.
pub fn local_date(at: chrono::NaiveDateTime) -> chrono::NaiveDate {
    (at + chrono::TimeDelta::seconds(i64::from(VN_OFFSET_SECONDS))).date()
}

/// The instants from the start of local day `from` to the end of local day `to` (both
/// inclusive), as a half-open range.
///
/// # Errors
/// `to` before `from`.
pub fn local_days(from: chrono::NaiveDate, to: chrono::NaiveDate) -> Result<(DateTime<Utc>, DateTime<Utc>), crate::ValidationError> {
    if to < from {
        return Err(crate::ValidationError::new("to", "must not be before `from`"));
    }
    Ok((local_midnight_utc(from), local_midnight_utc(to + chrono::Days::new(1))))
}

/// The instant a local (Asia/Ho_Chi_Minh) date begins.
pub fn local_midnight_utc(date: chrono::NaiveDate) -> DateTime<Utc> {
    (date.and_time(chrono::NaiveTime::MIN) - chrono::TimeDelta::seconds(i64::from(VN_OFFSET_SECONDS))).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn storage_precision_drops_nanoseconds() {
        let at = Utc.timestamp_opt(1_700_000_000, 123_456_789).single().unwrap_or_default();
        assert_eq!(to_storage_precision(at).timestamp_subsec_nanos(), 123_456_000);
    }

    #[test]
    fn vietnam_is_utc_plus_seven() {
        assert_eq!(VN.local_minus_utc(), 25_200);
        let evening = Utc.with_ymd_and_hms(2026, 11, 28, 16, 59, 59).single().unwrap_or_default().naive_utc();
        assert_eq!(local_date(evening).to_string(), "2026-11-28");
        assert_eq!(local_date(evening + chrono::TimeDelta::seconds(1)).to_string(), "2026-11-29", "local midnight");
    }
}
