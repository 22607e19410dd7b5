//! Login lockout: failed logins are counted per user name and client address, whether the name
//! exists or not, so that the answer never tells which names exist and nobody can lock an
//! account from another address.

use chrono::NaiveDateTime;

/// The failure count of a (name, address) pair after one more failure, and the lock it sets:
/// failures before `forget_before` no longer count; the `threshold`-th locks the pair until
/// `lock_until` and starts the count again. `previous` is the stored count and the instant of
/// the last failure.
pub fn after_failure(
    previous: Option<(i32, NaiveDateTime)>,
    forget_before: NaiveDateTime,
    threshold: i32,
    lock_until: NaiveDateTime,
) -> (i32, Option<NaiveDateTime>) {
    let failures = match previous {
        Some((n, last)) if last >= forget_before => n + 1,
        _ => 1,
    };
    if failures >= threshold { (0, Some(lock_until)) } else { (failures, None) }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeDelta};

    use super::*;

    #[test]
    fn the_threshold_th_recent_failure_locks_and_old_ones_are_forgotten() {
        let t0 = NaiveDate::from_ymd_opt(2026, 12, 8).and_then(|d| d.and_hms_opt(2, 0, 0)).unwrap_or_default();
        let (forget, until) = (t0 - TimeDelta::minutes(15), t0 + TimeDelta::minutes(15));
        assert_eq!(after_failure(None, forget, 3, until), (1, None));
        assert_eq!(after_failure(Some((1, t0)), forget, 3, until), (2, None));
        assert_eq!(after_failure(Some((2, t0)), forget, 3, until), (0, Some(until)));
        assert_eq!(after_failure(Some((2, forget - TimeDelta::seconds(1))), forget, 3, until), (1, None), "too old to count");
    }
}
