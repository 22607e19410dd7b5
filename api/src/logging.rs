//! The process's logger: env_logger (`RUST_LOG`, default `info`), with one adjustment. The HTTP
//! server logs a request it cannot parse (a garbage request line, an over-long URI, invalid
//! bytes in a header) as an error of its own, although the fault is the client's and the server
//! answered 400 and carried on; those lines are logged as warnings. Their text names the kind of
//! fault only, never the offending bytes.

use log::{Level, Log, Metadata, Record};

struct Logger(env_logger::Logger);

/// Whether `record` is the HTTP server's report of a request it could not parse.
fn is_client_parse_error(record: &Record<'_>) -> bool {
    record.target().starts_with("actix_http::h1") && record.level() == Level::Error && {
        let text = record.args().to_string();
        text.contains("parse error") || text.contains("URI error")
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if is_client_parse_error(record) {
            let demoted = Record::builder()
                .args(*record.args())
                .level(Level::Warn)
                .target(record.target())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build();
            if self.0.enabled(demoted.metadata()) {
                self.0.log(&demoted);
            }
            return;
        }
        self.0.log(record);
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Installs the logger (once, at start).
pub fn init() {
    let inner = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).build();
    let max = inner.filter();
    if log::set_boxed_logger(Box::new(Logger(inner))).is_ok() {
        log::set_max_level(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_servers_parse_errors_are_demoted() {
        let args = format_args!("stream error: request parse error: invalid Header provided");
        let parse = Record::builder().args(args).level(Level::Error).target("actix_http::h1::dispatcher").build();
        assert!(is_client_parse_error(&parse));
        let other = format_args!("database unavailable");
        let ours = Record::builder().args(other).level(Level::Error).target("api::middleware").build();
        assert!(!is_client_parse_error(&ours));
    }
}
