//! Request counters and latency histograms in the Prometheus text format.
//!
//! Counters are per process, as Prometheus expects: it scrapes every instance.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

const BUCKETS: [f64; 12] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum_seconds: f64,
    buckets: [u64; 12],
}

/// Counters by route, method and status.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
    /// Outbox delivery attempts by target and outcome.
    outbox: Mutex<BTreeMap<(String, &'static str), u64>>,
}

impl Metrics {
    /// Counts one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = series.entry((route.to_owned(), method.to_owned(), status)).or_default();
        entry.count += 1;
        entry.sum_seconds += seconds;
        for (slot, bound) in entry.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *slot += 1;
            }
        }
    }

    /// Counts one outbox delivery attempt (`sent`, `failed` or `dead`).
    pub fn count_outbox(&self, target: &str, outcome: &'static str) {
        let mut counts = self.outbox.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *counts.entry((target.to_owned(), outcome)).or_default() += 1;
    }

    /// The Prometheus exposition text.
    pub fn render(&self, extra: &str) -> String {
        let series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let mut out = String::new();
        out.push_str("# HELP motcua_http_requests_total HTTP requests by route, method and status.\n");
        out.push_str("# TYPE motcua_http_requests_total counter\n");
        for ((route, method, status), s) in &series {
            let _ = writeln!(out, "motcua_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {}", s.count);
        }
        out.push_str("# HELP motcua_http_request_duration_seconds HTTP request latency by route, method and status.\n");
        out.push_str("# TYPE motcua_http_request_duration_seconds histogram\n");
        for ((route, method, status), s) in &series {
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"");
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(out, "motcua_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "motcua_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "motcua_http_request_duration_seconds_sum{{{labels}}} {}", s.sum_seconds);
            let _ = writeln!(out, "motcua_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        let outbox = self.outbox.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        out.push_str("# HELP motcua_outbox_attempts_total Outbox delivery attempts of this instance by target and outcome.\n");
        out.push_str("# TYPE motcua_outbox_attempts_total counter\n");
        for ((target, outcome), n) in &outbox {
            let _ = writeln!(out, "motcua_outbox_attempts_total{{target=\"{target}\",outcome=\"{outcome}\"}} {n}");
        }
        out.push_str(extra);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_show_up_as_counters_and_buckets() {
        let metrics = Metrics::default();
        metrics.observe("GET", "/health/live", 200, 0.002);
        metrics.observe("GET", "/health/live", 200, 0.2);
        let text = metrics.render("");
        assert!(text.contains("motcua_http_requests_total{route=\"/health/live\",method=\"GET\",status=\"200\"} 2"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"+Inf\"} 2"));
    }
}
