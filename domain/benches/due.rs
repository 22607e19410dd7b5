//! Due-date throughput (`make bench`): computations per second with the default calendar,
//! over starts spread across 2026–2028 and durations of 1–30 working days (and some hours
//! and calendar days). Target (issue 3): at least 200,000 per second.

use std::hint::black_box;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use domain::calendar::{Calendar, DurationUnit, HolidayRules, ProcessingTime, WorkingHours};

fn main() {
    let calendar = Calendar::new(WorkingHours::default(), HolidayRules::default(), Vec::new());
    let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default().timestamp();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let inputs: Vec<_> = (0..100_000)
        .map(|_| {
            let r = next();
            let start = Utc.timestamp_opt(base + i64::try_from(r % (3 * 365 * 86_400)).unwrap_or(0), 0).single().unwrap_or_default();
            let unit = match r % 10 {
                0 => DurationUnit::WorkingHour,
                1 => DurationUnit::CalendarDay,
                _ => DurationUnit::WorkingDay,
            };
            let value = u32::try_from(1 + (r >> 20) % 30).unwrap_or(1);
            (start, ProcessingTime::new(value, unit).unwrap_or_else(|_| unreachable!()))
        })
        .collect();
    // Warm up the per-year holiday cache.
    for (start, time) in inputs.iter().take(1_000) {
        let _ = calendar.due(*start, *time, None);
    }
    let rounds = 10;
    let started = Instant::now();
    let mut checksum = 0_i64;
    for _ in 0..rounds {
        for (start, time) in &inputs {
            if let Ok(due) = calendar.due(black_box(*start), black_box(*time), None) {
                checksum = checksum.wrapping_add(due.due_at.timestamp());
            }
        }
    }
    let elapsed = started.elapsed();
    let total = inputs.len() * rounds;
    #[expect(clippy::cast_precision_loss, reason = "a rate for display")]
    let rate = total as f64 / elapsed.as_secs_f64();
    println!("due-date: {total} computations in {:.2} s = {rate:.0}/s (target >= 200000/s) [checksum {checksum}]", elapsed.as_secs_f64());
}
