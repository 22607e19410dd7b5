//! The transactional outbox's rules (domain.md §10.2 "API guidance"): targets, message states,
//! the retry schedule and when a message is given up.
//!
//! A message is written in the same transaction as the change it reports, so it exists exactly
//! when the change does. A dispatcher delivers it at least once: `pending` until the first try,
//! `failed` between tries (with the next try's time), `sent` on success, `dead` once the retry
//! horizon has passed; a `dead` (or `failed`) message can be replayed by hand.

use std::time::Duration;

crate::role::wire_enum! {
    /// Where a message goes.
    Target {
        /// The national public service portal (DVCQG): dossier and progress sync.
        NationalPortal = "national_portal", "Cổng Dịch vụ công quốc gia", "National public service portal";
        /// The government reporting system: frozen periodic reports.
        Reporting = "reporting", "Hệ thống thông tin báo cáo Chính phủ", "Government reporting system";
        /// The national feedback (PAKN) system.
        Pakn = "pakn", "Hệ thống tiếp nhận phản ánh, kiến nghị", "National feedback system";
        /// The SMS gateway.
        Sms = "sms", "Tin nhắn SMS", "SMS";
        /// The Zalo gateway.
        Zalo = "zalo", "Zalo", "Zalo";
        /// The e-mail gateway or relay.
        Email = "email", "Thư điện tử", "E-mail";
    }
}

crate::role::wire_enum! {
    /// The state of a message.
    MessageStatus {
        /// Not tried yet.
        Pending = "pending", "Chờ gửi", "Pending";
        /// Delivered: the receiver answered success.
        Sent = "sent", "Đã gửi", "Sent";
        /// Tried without success; tried again at its next attempt time.
        Failed = "failed", "Gửi lỗi, sẽ thử lại", "Failed, will retry";
        /// Given up after the retry horizon; replayed only by hand.
        Dead = "dead", "Ngừng gửi", "Dead";
    }
}

impl MessageStatus {
    /// Whether the dispatcher still has work with the message.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Failed)
    }

    /// Whether a replay by hand makes sense (a message tried without success, or given up).
    pub fn can_retry(self) -> bool {
        matches!(self, Self::Failed | Self::Dead)
    }
}

/// The retry schedule: exponential from `base`, capped at `cap`, with "full jitter" (a uniform
/// share of the step), so that many messages failing together do not return together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The delay before the second try (before jitter).
    pub base: Duration,
    /// The longest delay between two tries.
    pub cap: Duration,
    /// How long after its creation a message is still tried; then it is `dead`.
    pub horizon: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { base: Duration::from_secs(5), cap: Duration::from_secs(3600), horizon: Duration::from_secs(72 * 3600) }
    }
}

impl RetryPolicy {
    /// The delay after failed try number `attempt` (1 for the first try), with `unit` a uniform
    /// random number in `[0, 1)`: between half the exponential step and the whole step.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let step = self.base.saturating_mul(1_u32 << exponent).min(self.cap);
        let unit = if unit.is_finite() { unit.clamp(0.0, 1.0) } else { 0.0 };
        step.mul_f64(0.5 + unit / 2.0)
    }

    /// What follows a failed try: the next try after `delay`, unless that falls past the
    /// horizon counted from `age` (the message's age now), then `None` (dead).
    pub fn after_failure(&self, attempt: u32, age: Duration, unit: f64) -> Option<Duration> {
        let delay = self.delay(attempt, unit);
        (age.saturating_add(delay) <= self.horizon).then_some(delay)
    }
}

/// The digest logged for a try of a message: SHA-256 of its payload, the body the dispatcher
/// sends (credentials and session fields are added by the transport and left out).
pub fn request_digest(payload: &str) -> String {
    crate::audit::digest(payload.as_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for target in Target::ALL {
            assert_eq!(Target::parse(target.as_str(), "target").unwrap(), *target);
        }
        for status in MessageStatus::ALL {
            assert_eq!(MessageStatus::parse(status.as_str(), "status").unwrap(), *status);
        }
        assert!(Target::parse("fax", "target").is_err());
        assert!(MessageStatus::parse("lost", "status").is_err());
    }

    #[test]
    fn delays_grow_exponentially_up_to_the_cap_with_jitter_within_the_step() {
        let policy = RetryPolicy { base: Duration::from_secs(2), cap: Duration::from_secs(60), horizon: Duration::from_secs(600) };
        assert_eq!(policy.delay(1, 0.0), Duration::from_secs(1));
        assert_eq!(policy.delay(1, 0.999_999).as_secs(), 1);
        assert_eq!(policy.delay(3, 1.0), Duration::from_secs(8));
        assert_eq!(policy.delay(3, 0.0), Duration::from_secs(4));
        assert_eq!(policy.delay(20, 1.0), Duration::from_secs(60), "capped");
        assert_eq!(policy.delay(u32::MAX, 1.0), Duration::from_secs(60), "no overflow");
        assert_eq!(policy.delay(2, f64::NAN), Duration::from_secs(2), "a bad random number is no panic");
        for attempt in 1..40 {
            let (low, high) = (policy.delay(attempt, 0.0), policy.delay(attempt, 1.0));
            assert!(low <= high && high <= policy.cap);
            assert!(policy.delay(attempt + 1, 1.0) >= high, "never shorter than the previous step");
        }
    }

    #[test]
    fn a_message_is_dead_once_its_next_try_would_fall_past_the_horizon() {
        let policy = RetryPolicy { base: Duration::from_secs(10), cap: Duration::from_secs(3600), horizon: Duration::from_secs(100) };
        assert_eq!(policy.after_failure(1, Duration::from_secs(0), 1.0), Some(Duration::from_secs(10)));
        assert_eq!(policy.after_failure(1, Duration::from_secs(90), 1.0), Some(Duration::from_secs(10)), "exactly at the horizon");
        assert_eq!(policy.after_failure(1, Duration::from_secs(91), 1.0), None);
        assert_eq!(policy.after_failure(5, Duration::from_secs(0), 1.0), None, "160 s > 100 s");
        assert!(MessageStatus::Failed.is_open() && MessageStatus::Pending.is_open());
        assert!(!MessageStatus::Sent.is_open() && !MessageStatus::Dead.is_open());
        assert!(MessageStatus::Dead.can_retry() && !MessageStatus::Sent.can_retry() && !MessageStatus::Pending.can_retry());
    }
}
