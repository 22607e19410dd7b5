//! Configuration from environment variables, read once at start and passed explicitly.
//!
//! Every variable is documented in the README. Unset integration URLs switch that integration off.

use std::path::PathBuf;
use std::time::Duration;

/// The settings of one `motcua` process.
#[derive(Clone)]
pub struct Config {
    /// `postgres://…`, or an SQLite path (optionally `sqlite://path`).
    pub database_url: String,
    /// Where the SQLite file, the generated JWT key and stored documents live.
    /// The S3-compatible object store for files (`MOTCUA_S3_*`); `None`: the local directory
    /// `$MOTCUA_DATA_DIR/files`.
    pub object_store: Option<integrations::objects::ObjectStoreConfig>,
    pub data_dir: PathBuf,
    /// Listen address.
    pub bind: String,
    /// HTTP worker threads (default: number of cores).
    pub workers: usize,
    /// Database connections in the pool.
    pub db_pool_size: u32,
    /// SQLite: the most queued writes committed in one transaction (1: each its own).
    pub sqlite_write_batch: usize,
    /// SQLite: how often the checkpointer copies the WAL back into the database file.
    pub sqlite_checkpoint_interval: Duration,
    /// Name of the first system administrator.
    pub admin_username: String,
    /// Password of the first system administrator; generated and printed once when unset.
    pub admin_password: Option<String>,
    /// HS256 signing key; generated into the data directory when unset.
    pub jwt_secret: Option<String>,
    /// Lifetime of access tokens.
    pub access_token_ttl: Duration,
    /// Lifetime of a login session (and its refresh tokens).
    pub refresh_token_ttl: Duration,
    /// Allowed CORS origins; empty allows none, `*` any.
    pub cors_origins: Vec<String>,
    /// Largest accepted JSON body in bytes.
    pub json_limit: usize,
    /// How long a client may take to send the request head, and then the body
    /// (`MOTCUA_REQUEST_TIMEOUT_SECONDS`); a slower one gets 408.
    pub request_timeout: Duration,
    /// Largest accepted uploaded file in bytes.
    pub upload_limit: usize,
    /// Requests per minute per client address on login and token endpoints.
    pub login_rate_per_minute: u32,
    /// Registrations per hour per client address.
    pub register_rate_per_hour: u32,
    /// Failed logins in a row that lock an account.
    pub lockout_threshold: i32,
    /// How long a locked account stays locked.
    pub lockout_duration: Duration,
    /// How many reverse proxies of ours stand before the server (0: none). Behind `n` of them
    /// the client address is the `n`-th address of `X-Forwarded-For` counted from the right
    /// (the one the outermost of our proxies appended); addresses further left were written by
    /// the client and are never used.
    pub trust_proxy: usize,
    /// External systems, by name, with whether each is configured.
    pub integrations: Vec<(&'static str, bool)>,
    /// Daily working periods (`MOTCUA_WORKING_HOURS`).
    pub working_hours: domain::calendar::WorkingHours,
    /// Rules of the default holiday generator.
    pub holiday_rules: domain::calendar::HolidayRules,
    /// The national procedure database, when `MOTCUA_NATIONAL_CATALOG_URL` is set.
    pub national_catalog: Option<integrations::AdapterConfig>,
    /// Digits of the daily sequence in case codes (4 for provinces, 6–7 for ministries).
    pub case_sequence_width: usize,
    /// What a finished supplement does to the clock (`MOTCUA_SUPPLEMENT_MODE`: `pause` or `restart`).
    pub supplement_mode: domain::case::SupplementMode,
    /// Public lookups per minute per client address.
    pub lookup_rate_per_minute: u32,
    /// How long an instance repeats a public lookup answer (0 disables).
    pub lookup_cache_ttl: Duration,
    /// How often the background chainer links committed audit entries into the hash chain.
    pub audit_chain_interval: Duration,
    /// The place printed before the date on forms ("Cao Bằng, ngày …").
    pub place_name: String,
    /// Codes per `LayDanhSachTTHC` page.
    pub national_catalog_page_size: u32,
    /// How often the report scheduler looks for periods to freeze (`None`: never).
    pub report_schedule_interval: Option<Duration>,
    /// Local time of day from which the last working day's internal statistics are frozen.
    pub report_time: chrono::NaiveTime,
    /// Lowest totals (out of 18) of the evaluation classes xuất sắc, tốt, khá, trung bình
    /// (below the last: yếu).
    pub evaluation_thresholds: [f64; 4],
    /// Anonymous feedback submissions per client address and hour.
    pub feedback_rate_per_hour: u32,
    /// Whether case changes update the statistics counters (off only to measure their cost).
    pub stats_incremental: bool,
    /// How often pending counter changes are folded into the statistics sums (answers add the
    /// pending changes, so this decides cost, not freshness).
    pub stats_fold_interval: Duration,
    /// The national portal's adapter (dossier and progress sync, lookup), when
    /// `MOTCUA_NATIONAL_PORTAL_URL` is set, with its paths and status mapping.
    pub national_portal: Option<(integrations::AdapterConfig, integrations::national::portal::PortalSettings)>,
    /// The outbox's settings.
    pub outbox: OutboxConfig,
    /// The reconciliation job's settings.
    pub reconcile: ReconcileConfig,
    /// The national PAKN system, when `MOTCUA_PAKN_URL` is set.
    pub pakn: Option<PaknConfig>,
    /// Login through the national portal, when `MOTCUA_OIDC_ISSUER_URL` is set.
    pub oidc: Option<integrations::oidc::OidcConfig>,
    /// JSON gateways by target (`reporting`, `sms`, `zalo`, `email`): URL and bearer token
    /// (`MOTCUA_<TARGET>_URL`, `MOTCUA_<TARGET>_TOKEN`).
    pub gateways: Vec<(domain::outbox::Target, String, Option<String>)>,
    /// Time-out of one gateway call (`MOTCUA_GATEWAY_TIMEOUT_SECONDS`, default 10).
    pub gateway_timeout: Duration,
    /// The public lookup page of a case for notification texts, `{code}` replaced
    /// (`MOTCUA_LOOKUP_LINK`, e.g. `https://dichvucong.caobang.gov.vn/tra-cuu?ma={code}`).
    pub lookup_link: Option<String>,
    /// The token the SMS and Zalo gateways present on inbound messages
    /// (`MOTCUA_INBOUND_TOKEN`; the inbound endpoint is off without it).
    pub inbound_token: Option<String>,
    /// Inbound lookups per sender and hour (`MOTCUA_INBOUND_RATE_PER_HOUR`, default 20).
    pub inbound_rate_per_hour: u32,
}

/// How the outbox dispatcher works.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// Retry schedule and horizon (`MOTCUA_OUTBOX_MAX_AGE`, default 72h;
    /// `MOTCUA_OUTBOX_BACKOFF_MS`, default 5000; `MOTCUA_OUTBOX_BACKOFF_CAP_MS`, default one hour).
    pub policy: domain::outbox::RetryPolicy,
    /// Whether this instance dispatches (`MOTCUA_OUTBOX_DISPATCH`, default true).
    pub dispatch: bool,
    /// How long the dispatcher sleeps when the queue is empty (`MOTCUA_OUTBOX_POLL_MS`, 200).
    pub poll: Duration,
    /// How long a claimed message is reserved for its dispatcher (`MOTCUA_OUTBOX_LEASE_SECONDS`,
    /// 120; longer than any delivery's time-out).
    pub lease: Duration,
    /// Messages per claim (`MOTCUA_OUTBOX_BATCH`, 200).
    pub batch: i64,
    /// Deliveries in flight at once (`MOTCUA_OUTBOX_CONCURRENCY`, 32).
    pub concurrency: usize,
    /// How long sent messages and their tries are kept (`MOTCUA_OUTBOX_RETENTION_DAYS`, 90;
    /// 0 keeps them). Open and dead messages are kept whatever their age.
    pub retention: Option<chrono::TimeDelta>,
}

/// The national feedback (PAKN) system.
#[derive(Debug, Clone)]
pub struct PaknConfig {
    /// The system's base URL (`MOTCUA_PAKN_URL`).
    pub url: String,
    /// Bearer token (`MOTCUA_PAKN_TOKEN`).
    pub token: Option<String>,
    /// Where items are pushed (`MOTCUA_PAKN_PUSH_PATH`, default `/pakn`).
    pub push_path: String,
    /// Where assigned items are read (`MOTCUA_PAKN_PULL_PATH`, default `/pakn/assigned`).
    pub pull_path: String,
    /// How often they are read (`MOTCUA_PAKN_PULL_MS`, default 15 minutes; 0 turns it off).
    pub pull_interval: Option<Duration>,
}

/// What the reconciliation job compares and how often.
#[derive(Debug, Clone)]
pub struct ReconcileConfig {
    /// How often (`MOTCUA_RECONCILE_MS`, default six hours; 0 turns it off).
    pub interval: Option<Duration>,
    /// Cases changed within this many days (`MOTCUA_RECONCILE_DAYS`, default 30).
    pub days: u32,
    /// At most this many cases per run, the most recently changed first (`MOTCUA_RECONCILE_LIMIT`, 2000).
    pub limit: i64,
}

/// Parses a duration such as `72h`, `30m`, `45s`, `500ms` or a number of seconds.
fn parse_duration(name: &'static str, value: &str) -> Result<Duration, ConfigError> {
    let value = value.trim();
    let bad = || ConfigError { name, reason: format!("`{value}`: expected a duration such as 72h, 30m, 45s or 500ms") };
    let (number, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => value.split_at(i),
        None => (value, "s"),
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        "d" => Ok(Duration::from_secs(n * 86_400)),
        _ => Err(bad()),
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database", &redact_url(&self.database_url))
            .field("data_dir", &self.data_dir)
            .field("bind", &self.bind)
            .finish_non_exhaustive()
    }
}

/// The URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let user_info = &url[scheme_end + 3..at];
            let user = user_info.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// A configuration variable that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {reason}")]
pub struct ConfigError {
    name: &'static str,
    reason: String,
}

const INTEGRATIONS: &[(&str, &str)] = &[
    ("national_portal", "MOTCUA_NATIONAL_PORTAL_URL"),
    ("national_catalog", "MOTCUA_NATIONAL_CATALOG_URL"),
    ("reporting", "MOTCUA_REPORTING_URL"),
    ("pakn", "MOTCUA_PAKN_URL"),
    ("sms", "MOTCUA_SMS_URL"),
    ("zalo", "MOTCUA_ZALO_URL"),
    ("email", "MOTCUA_EMAIL_URL"),
    ("oidc", "MOTCUA_OIDC_ISSUER_URL"),
];

impl Config {
    /// The directory of the local file store (`$MOTCUA_DATA_DIR/files`).
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Reads variables through `get`, so tests can pass their own.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        fn parse<T: std::str::FromStr>(get: &dyn Fn(&str) -> Option<String>, name: &'static str, default: T) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            match get(name) {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError { name, reason: e.to_string() }),
            }
        }
        let data_dir = PathBuf::from(get("MOTCUA_DATA_DIR").unwrap_or_else(|| "./data".to_owned()));
        let database_url = get("DATABASE_URL").unwrap_or_else(|| data_dir.join("motcua.db").to_string_lossy().into_owned());
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        let default_pool = if database_url.starts_with("postgres") { 10 } else { 8 };
        Ok(Config {
            workers: parse(&get, "MOTCUA_WORKERS", cores)?,
            db_pool_size: parse(&get, "MOTCUA_DB_POOL_SIZE", default_pool)?,
            sqlite_write_batch: parse(&get, "MOTCUA_SQLITE_WRITE_BATCH", 64)?,
            sqlite_checkpoint_interval: Duration::from_millis(parse(&get, "MOTCUA_SQLITE_CHECKPOINT_MS", 100)?.max(10)),
            bind: get("BIND").unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            admin_username: get("MOTCUA_ADMIN_USERNAME").unwrap_or_else(|| "admin".to_owned()),
            admin_password: get("MOTCUA_ADMIN_PASSWORD"),
            jwt_secret: get("JWT_SECRET"),
            access_token_ttl: Duration::from_secs(parse(&get, "MOTCUA_ACCESS_TOKEN_TTL_SECONDS", 900)?),
            refresh_token_ttl: Duration::from_secs(parse(&get, "MOTCUA_REFRESH_TOKEN_TTL_SECONDS", 7 * 24 * 3600)?),
            cors_origins: get("MOTCUA_CORS_ORIGINS")
                .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
            json_limit: parse(&get, "MOTCUA_JSON_LIMIT_BYTES", 1024 * 1024)?,
            request_timeout: Duration::from_secs(parse(&get, "MOTCUA_REQUEST_TIMEOUT_SECONDS", 30_u64)?.max(1)),
            upload_limit: parse(&get, "MOTCUA_UPLOAD_LIMIT_BYTES", 20 * 1024 * 1024)?,
            login_rate_per_minute: parse(&get, "MOTCUA_LOGIN_RATE_PER_MINUTE", 30)?,
            register_rate_per_hour: parse(&get, "MOTCUA_REGISTER_RATE_PER_HOUR", 20)?,
            lockout_threshold: parse(&get, "MOTCUA_LOCKOUT_THRESHOLD", 5)?,
            lockout_duration: Duration::from_secs(parse(&get, "MOTCUA_LOCKOUT_SECONDS", 900)?),
            trust_proxy: parse_proxy_hops(get("MOTCUA_TRUST_PROXY"))?,
            integrations: INTEGRATIONS.iter().map(|(name, var)| (*name, get(var).is_some())).collect(),
            working_hours: match get("MOTCUA_WORKING_HOURS") {
                None => domain::calendar::WorkingHours::default(),
                Some(v) => parse_working_hours(&v).map_err(|reason| ConfigError { name: "MOTCUA_WORKING_HOURS", reason })?,
            },
            holiday_rules: parse_holiday_rules(&get)?,
            national_catalog: adapter_config(&get, "MOTCUA_NATIONAL_CATALOG")?,
            national_catalog_page_size: parse(&get, "MOTCUA_NATIONAL_CATALOG_PAGE_SIZE", 100)?,
            case_sequence_width: parse(&get, "MOTCUA_CASE_SEQUENCE_WIDTH", 4)?,
            supplement_mode: match get("MOTCUA_SUPPLEMENT_MODE").as_deref().map(str::trim) {
                None | Some("pause") => domain::case::SupplementMode::PauseAndExtend,
                Some("restart") => domain::case::SupplementMode::Restart,
                Some(other) => {
                    return Err(ConfigError { name: "MOTCUA_SUPPLEMENT_MODE", reason: format!("`{other}`: expected pause or restart") });
                }
            },
            lookup_rate_per_minute: parse(&get, "MOTCUA_LOOKUP_RATE_PER_MINUTE", 60)?,
            lookup_cache_ttl: Duration::from_millis(parse(&get, "MOTCUA_LOOKUP_CACHE_MS", 2000)?),
            place_name: get("MOTCUA_PLACE_NAME").filter(|v| !v.trim().is_empty()).unwrap_or_else(|| "Cao Bằng".to_owned()),
            audit_chain_interval: Duration::from_millis(parse(&get, "MOTCUA_AUDIT_CHAIN_MS", 500)?.max(10)),
            report_schedule_interval: match parse(&get, "MOTCUA_REPORT_SCHEDULE_MS", 60_000_u64)? {
                0 => None,
                ms => Some(Duration::from_millis(ms.max(100))),
            },
            report_time: match get("MOTCUA_REPORT_TIME") {
                None => chrono::NaiveTime::from_hms_opt(16, 30, 0).unwrap_or_default(),
                Some(v) => chrono::NaiveTime::parse_from_str(v.trim(), "%H:%M")
                    .map_err(|_| ConfigError { name: "MOTCUA_REPORT_TIME", reason: format!("`{v}`: expected HH:MM") })?,
            },
            evaluation_thresholds: parse_thresholds(get("MOTCUA_EVALUATION_THRESHOLDS"))?,
            feedback_rate_per_hour: parse(&get, "MOTCUA_FEEDBACK_RATE_PER_HOUR", 10)?,
            stats_incremental: parse(&get, "MOTCUA_STATS_INCREMENTAL", true)?,
            stats_fold_interval: Duration::from_millis(parse(&get, "MOTCUA_STATS_FOLD_MS", 5000)?.max(10)),
            national_portal: portal_config(&get)?,
            oidc: oidc_config(&get)?,
            pakn: match get("MOTCUA_PAKN_URL") {
                None => None,
                Some(url) => Some(PaknConfig {
                    url,
                    token: get("MOTCUA_PAKN_TOKEN"),
                    push_path: get("MOTCUA_PAKN_PUSH_PATH").unwrap_or_else(|| "/pakn".into()),
                    pull_path: get("MOTCUA_PAKN_PULL_PATH").unwrap_or_else(|| "/pakn/assigned".into()),
                    pull_interval: match parse(&get, "MOTCUA_PAKN_PULL_MS", 15 * 60 * 1000_u64)? {
                        0 => None,
                        ms => Some(Duration::from_millis(ms.max(100))),
                    },
                }),
            },
            reconcile: ReconcileConfig {
                interval: match parse(&get, "MOTCUA_RECONCILE_MS", 6 * 3600 * 1000_u64)? {
                    0 => None,
                    ms => Some(Duration::from_millis(ms.max(100))),
                },
                days: parse(&get, "MOTCUA_RECONCILE_DAYS", 30_u32)?.clamp(1, 3660),
                limit: parse(&get, "MOTCUA_RECONCILE_LIMIT", 2000_i64)?.clamp(1, 100_000),
            },
            gateways: [
                (domain::outbox::Target::Reporting, "MOTCUA_REPORTING"),
                (domain::outbox::Target::Sms, "MOTCUA_SMS"),
                (domain::outbox::Target::Zalo, "MOTCUA_ZALO"),
                (domain::outbox::Target::Email, "MOTCUA_EMAIL"),
            ]
            .into_iter()
            .filter_map(|(target, prefix)| get(&format!("{prefix}_URL")).map(|url| (target, url, get(&format!("{prefix}_TOKEN")))))
            .collect(),
            gateway_timeout: Duration::from_secs(parse(&get, "MOTCUA_GATEWAY_TIMEOUT_SECONDS", 10_u64)?.max(1)),
            lookup_link: get("MOTCUA_LOOKUP_LINK"),
            inbound_token: match get("MOTCUA_INBOUND_TOKEN") {
                Some(t) if t.trim().len() < 16 => {
                    return Err(ConfigError { name: "MOTCUA_INBOUND_TOKEN", reason: "use at least 16 characters".into() });
                }
                other => other.map(|t| t.trim().to_owned()),
            },
            inbound_rate_per_hour: parse(&get, "MOTCUA_INBOUND_RATE_PER_HOUR", 20)?,
            outbox: OutboxConfig {
                policy: domain::outbox::RetryPolicy {
                    base: Duration::from_millis(parse(&get, "MOTCUA_OUTBOX_BACKOFF_MS", 5000)?.max(1)),
                    cap: Duration::from_millis(parse(&get, "MOTCUA_OUTBOX_BACKOFF_CAP_MS", 3_600_000)?.max(1)),
                    horizon: match get("MOTCUA_OUTBOX_MAX_AGE") {
                        Some(v) => parse_duration("MOTCUA_OUTBOX_MAX_AGE", &v)?,
                        None => Duration::from_secs(72 * 3600),
                    },
                },
                dispatch: parse(&get, "MOTCUA_OUTBOX_DISPATCH", true)?,
                poll: Duration::from_millis(parse(&get, "MOTCUA_OUTBOX_POLL_MS", 200)?.max(5)),
                lease: Duration::from_secs(parse(&get, "MOTCUA_OUTBOX_LEASE_SECONDS", 120)?.max(1)),
                batch: parse(&get, "MOTCUA_OUTBOX_BATCH", 200_i64)?.clamp(1, 5000),
                concurrency: parse(&get, "MOTCUA_OUTBOX_CONCURRENCY", 32_usize)?.clamp(1, 1024),
                retention: match parse(&get, "MOTCUA_OUTBOX_RETENTION_DAYS", 90_i64)? {
                    days if days <= 0 => None,
                    days => Some(chrono::TimeDelta::days(days.min(36_500))),
                },
            },
            database_url,
            object_store: object_store_config(&get)?,
            data_dir,
        })
    }
}

/// `MOTCUA_EVALUATION_THRESHOLDS`: four descending totals, e.g. `15,12,9,6` (the default:
/// 15 and above is xuất sắc, 12 tốt, 9 khá, 6 trung bình, below yếu; domain.md §8.2 without
/// its gap at exactly 15).
/// `MOTCUA_S3_ENDPOINT` (presence switches files to the object store), `MOTCUA_S3_BUCKET`,
/// `MOTCUA_S3_ACCESS_KEY_ID`, `MOTCUA_S3_SECRET_ACCESS_KEY` (required with it),
/// `MOTCUA_S3_REGION` (default `garage`), `MOTCUA_S3_PREFIX` (default none).
fn object_store_config(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<integrations::objects::ObjectStoreConfig>, ConfigError> {
    let Some(endpoint) = get("MOTCUA_S3_ENDPOINT").filter(|e| !e.trim().is_empty()) else { return Ok(None) };
    let required = |name: &'static str| {
        get(name).filter(|v| !v.trim().is_empty()).ok_or(ConfigError { name, reason: "is required with MOTCUA_S3_ENDPOINT".into() })
    };
    Ok(Some(integrations::objects::ObjectStoreConfig {
        endpoint: endpoint.trim().trim_end_matches('/').to_owned(),
        bucket: required("MOTCUA_S3_BUCKET")?,
        prefix: get("MOTCUA_S3_PREFIX").unwrap_or_default(),
        region: get("MOTCUA_S3_REGION").unwrap_or_else(|| "garage".to_owned()),
        access_key_id: required("MOTCUA_S3_ACCESS_KEY_ID")?,
        secret_access_key: required("MOTCUA_S3_SECRET_ACCESS_KEY")?,
    }))
}

/// `MOTCUA_TRUST_PROXY`: `false` (or unset, or `0`), `true` (one proxy), or a number of proxies.
fn parse_proxy_hops(value: Option<String>) -> Result<usize, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("" | "false") => Ok(0),
        Some("true") => Ok(1),
        Some(n) => n.parse().map_err(|_| ConfigError {
            name: "MOTCUA_TRUST_PROXY",
            reason: format!("`{n}`: expected true, false or the number of trusted proxies"),
        }),
    }
}

fn parse_thresholds(value: Option<String>) -> Result<[f64; 4], ConfigError> {
    let Some(value) = value else { return Ok([15.0, 12.0, 9.0, 6.0]) };
    let bad = || ConfigError {
        name: "MOTCUA_EVALUATION_THRESHOLDS",
        reason: format!("`{value}`: expected four descending numbers, e.g. 15,12,9,6"),
    };
    let numbers: Vec<f64> = value.split(',').map(|v| v.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
    let array: [f64; 4] = numbers.try_into().map_err(|_| bad())?;
    if array.windows(2).any(|w| w[0] <= w[1]) || array[0] > 18.0 || array[3] < 0.0 {
        return Err(bad());
    }
    Ok(array)
}

/// The adapter settings under `prefix` (`_URL`, `_USERNAME`, `_PASSWORD`, `_DSTCODE`,
/// `_MADONVI`, `_AUTH_PATH`, `_SHARE_PATH`, `_TIMEOUT_SECONDS`, `_RETRIES`); `None` without a URL.
fn adapter_config(get: &dyn Fn(&str) -> Option<String>, prefix: &'static str) -> Result<Option<integrations::AdapterConfig>, ConfigError> {
    let var = |suffix: &str| get(&format!("{prefix}_{suffix}"));
    let Some(url) = var("URL") else { return Ok(None) };
    let mut config = integrations::AdapterConfig::new(
        &url,
        &var("USERNAME").unwrap_or_default(),
        &var("PASSWORD").unwrap_or_default(),
        &var("DSTCODE").unwrap_or_default(),
    );
    if let Some(v) = var("MADONVI") {
        config.madonvi = v;
    }
    if let Some(v) = var("AUTH_PATH") {
        config.auth_path = v;
    }
    if let Some(v) = var("SHARE_PATH") {
        config.share_path = v;
    }
    if let Some(v) = var("TIMEOUT_SECONDS") {
        let seconds: u64 =
            v.trim().parse().map_err(|_| ConfigError { name: prefix, reason: format!("_TIMEOUT_SECONDS `{v}` is not a number") })?;
        config.timeout = Duration::from_secs(seconds.max(1));
    }
    if let Some(v) = var("RETRIES") {
        config.retries = v.trim().parse().map_err(|_| ConfigError { name: prefix, reason: format!("_RETRIES `{v}` is not a number") })?;
    }
    Ok(Some(config))
}

/// The national portal: the adapter settings under `MOTCUA_NATIONAL_PORTAL` (retries inside
/// one delivery default to none: the outbox retries), `_INTEGRATION_PATH` (default
/// `/integration`), `_STATUS_MAP` (ten codes, default `1,…,10`) and `_BATCH` (cases per
/// dossier call, default 20).
fn portal_config(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(integrations::AdapterConfig, integrations::national::portal::PortalSettings)>, ConfigError> {
    const PREFIX: &str = "MOTCUA_NATIONAL_PORTAL";
    let Some(mut adapter) = adapter_config(get, PREFIX)? else { return Ok(None) };
    if get("MOTCUA_NATIONAL_PORTAL_RETRIES").is_none() {
        adapter.retries = 0;
    }
    let mut settings = integrations::national::portal::PortalSettings::default();
    if let Some(path) = get("MOTCUA_NATIONAL_PORTAL_INTEGRATION_PATH") {
        settings.integration_path = path;
    }
    if let Some(map) = get("MOTCUA_NATIONAL_PORTAL_STATUS_MAP") {
        settings.status_map = integrations::national::portal::PortalSettings::parse_status_map(&map)
            .map_err(|reason| ConfigError { name: "MOTCUA_NATIONAL_PORTAL_STATUS_MAP", reason })?;
    }
    if let Some(batch) = get("MOTCUA_NATIONAL_PORTAL_BATCH") {
        let name = "MOTCUA_NATIONAL_PORTAL_BATCH";
        settings.batch = batch.trim().parse::<usize>().map_err(|e| ConfigError { name, reason: e.to_string() })?.clamp(1, 500);
    }
    Ok(Some((adapter, settings)))
}

/// Login through the national portal: `MOTCUA_OIDC_ISSUER_URL`, `_CLIENT_ID`, `_CLIENT_SECRET`,
/// `_REDIRECT_URL` (all required once the issuer is set), `_AUTHORIZE_PATH`, `_TOKEN_PATH`,
/// `_USERINFO_PATH`, `_ACR_VALUES`.
fn oidc_config(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<integrations::oidc::OidcConfig>, ConfigError> {
    let Some(issuer) = get("MOTCUA_OIDC_ISSUER_URL") else { return Ok(None) };
    let required = |name: &'static str| get(name).ok_or(ConfigError { name, reason: "is required with MOTCUA_OIDC_ISSUER_URL".into() });
    let mut config = integrations::oidc::OidcConfig::new(
        &issuer,
        &required("MOTCUA_OIDC_CLIENT_ID")?,
        &required("MOTCUA_OIDC_CLIENT_SECRET")?,
        &required("MOTCUA_OIDC_REDIRECT_URL")?,
    );
    for (name, slot) in [
        ("MOTCUA_OIDC_AUTHORIZE_PATH", &mut config.authorize_path),
        ("MOTCUA_OIDC_TOKEN_PATH", &mut config.token_path),
        ("MOTCUA_OIDC_USERINFO_PATH", &mut config.userinfo_path),
        ("MOTCUA_OIDC_ACR_VALUES", &mut config.acr_values),
    ] {
        if let Some(v) = get(name) {
            *slot = v;
        }
    }
    Ok(Some(config))
}

/// Parses `07:00-11:30,13:30-17:00`.
fn parse_working_hours(value: &str) -> Result<domain::calendar::WorkingHours, String> {
    let time = |t: &str| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|e| format!("`{t}`: {e}"));
    let mut periods = Vec::new();
    for part in value.split(',') {
        let (start, end) = part.split_once('-').ok_or_else(|| format!("`{part}` is not HH:MM-HH:MM"))?;
        periods.push((time(start)?, time(end)?));
    }
    domain::calendar::WorkingHours::new(periods).map_err(|e| e.reason)
}

/// Reads `MOTCUA_NATIONAL_DAY_ADJACENT` (`bridge`, `before`, `after`) and
/// `MOTCUA_EXTRA_HOLIDAYS` (`MM-DD:name:first year`, separated by `;`).
fn parse_holiday_rules(get: &dyn Fn(&str) -> Option<String>) -> Result<domain::calendar::HolidayRules, ConfigError> {
    use domain::calendar::holidays::NationalDayAdjacent;
    let mut rules = domain::calendar::HolidayRules::default();
    if let Some(v) = get("MOTCUA_NATIONAL_DAY_ADJACENT") {
        rules.national_day_adjacent = match v.trim() {
            "bridge" => NationalDayAdjacent::Bridge,
            "before" => NationalDayAdjacent::Before,
            "after" => NationalDayAdjacent::After,
            other => {
                return Err(ConfigError {
                    name: "MOTCUA_NATIONAL_DAY_ADJACENT",
                    reason: format!("`{other}`: expected bridge, before or after"),
                });
            }
        };
    }
    if let Some(v) = get("MOTCUA_EXTRA_HOLIDAYS") {
        for item in v.split(';').filter(|i| !i.trim().is_empty()) {
            let bad = || ConfigError { name: "MOTCUA_EXTRA_HOLIDAYS", reason: format!("`{item}` is not MM-DD:name:first-year") };
            let mut parts = item.trim().splitn(3, ':');
            let (Some(md), Some(name), Some(from)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
            let (m, d) = md.split_once('-').ok_or_else(bad)?;
            let (m, d, from) = (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?, from.trim().parse().map_err(|_| bad())?);
            if chrono::NaiveDate::from_ymd_opt(2024, m, d).is_none() {
                return Err(bad());
            }
            rules.extra_fixed.push((m, d, name.trim().to_owned(), from));
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_environment() {
        let config = Config::from_lookup(|_| None).ok();
        let config = config.as_ref();
        assert_eq!(config.map(|c| c.bind.as_str()), Some("127.0.0.1:8080"));
        assert!(config.is_some_and(|c| c.database_url.ends_with("motcua.db")));
    }

    #[test]
    fn a_bad_number_is_reported_by_name() {
        let result = Config::from_lookup(|k| (k == "MOTCUA_WORKERS").then(|| "many".to_owned()));
        assert!(result.err().is_some_and(|e| e.to_string().contains("MOTCUA_WORKERS")));
    }

    #[test]
    fn calendar_settings_parse_and_bad_ones_are_named() {
        let config = Config::from_lookup(|k| match k {
            "MOTCUA_WORKING_HOURS" => Some("07:30-11:30,13:00-17:00".into()),
            "MOTCUA_EXTRA_HOLIDAYS" => Some("11-24:Ngày Văn hóa Việt Nam:2026".into()),
            _ => None,
        });
        let config = config.ok();
        assert_eq!(config.as_ref().map(|c| c.working_hours.minutes_per_day()), Some(480));
        assert_eq!(config.map(|c| c.holiday_rules.extra_fixed.len()), Some(1));
        for (name, value) in
            [("MOTCUA_WORKING_HOURS", "7-11"), ("MOTCUA_NATIONAL_DAY_ADJACENT", "never"), ("MOTCUA_EXTRA_HOLIDAYS", "13-40:x:2020")]
        {
            let result = Config::from_lookup(|k| (k == name).then(|| value.to_owned()));
            assert!(result.err().is_some_and(|e| e.to_string().contains(name)), "{name}");
        }
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(redact_url("postgres://app:secret@db:5432/motcua"), "postgres://app:***@db:5432/motcua");
        assert_eq!(redact_url("data/motcua.db"), "data/motcua.db");
    }
}
