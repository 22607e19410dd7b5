//! The adapter transport: log in with `dstcode`, cache the session, call services.
//!
//! `POST {base}{auth_path}` with `{"username","password"}` and header `dstcode` answers
//! `{"error_code":0,"session":"…"}`. Calls `POST {base}{share_path}` with
//! `{"session","madonvi","service",…}` answer `{"error_code":0,"message":"…","result":…}`.
//! A rejected session is renewed once per call; 5xx answers and time-outs are retried with
//! exponential backoff; other failures are returned at once.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

/// How to reach one national system through the adapter.
#[derive(Clone)]
pub struct AdapterConfig {
    /// The adapter's base URL, e.g. `https://lgsp.caobang.gov.vn/dvcqg`.
    pub base_url: String,
    /// Path of the login service (default `/auth`).
    pub auth_path: String,
    /// Path of the catalogue (share) services (default `/share`).
    pub share_path: String,
    pub username: String,
    pub password: String,
    /// The destination code sent as the `dstcode` header.
    pub dstcode: String,
    /// The caller's agency code (`madonvi`), e.g. `000.00.00.H14`.
    pub madonvi: String,
    /// Time-out of one HTTP request.
    pub timeout: Duration,
    /// Retries after a 5xx answer or a time-out.
    pub retries: u32,
    /// The first backoff; it doubles on each retry.
    pub backoff: Duration,
    /// `error_code` values that mean "log in again".
    pub session_error_codes: Vec<i64>,
}

impl std::fmt::Debug for AdapterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdapterConfig").field("base_url", &self.base_url).field("dstcode", &self.dstcode).finish_non_exhaustive()
    }
}

impl AdapterConfig {
    /// A configuration with the documented defaults for everything but the credentials.
    pub fn new(base_url: &str, username: &str, password: &str, dstcode: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            auth_path: "/auth".to_owned(),
            share_path: "/share".to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            dstcode: dstcode.to_owned(),
            madonvi: "000.00.00.H14".to_owned(),
            timeout: Duration::from_secs(30),
            retries: 3,
            backoff: Duration::from_millis(500),
            session_error_codes: vec![-1, 401],
        }
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    /// No answer in time, after the retries.
    #[error("the national system did not answer in time")]
    Timeout,
    /// Unreachable, after the retries.
    #[error("the national system is unavailable: {0}")]
    Unavailable(String),
    /// Answered with a 5xx status, after the retries.
    #[error("the national system is unavailable: HTTP {0}")]
    ServerError(u16),
    /// Answered with something other than JSON (an HTML error page, a proxy's text).
    #[error("the national system answered HTTP {status} with a body that is not JSON")]
    NotJson { status: u16 },
    /// The login was refused.
    #[error("login refused: {0}")]
    Auth(String),
    /// The system answered with an `error_code` other than 0.
    #[error("rejected with error_code {code}: {message}")]
    Rejected { code: i64, message: String },
    /// The answer is not what the protocol says.
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

impl AdapterError {
    /// The HTTP status behind the error, when one came back.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::ServerError(status) | Self::NotJson { status } => Some(*status),
            Self::Rejected { .. } | Self::Auth(_) | Self::Protocol(_) => Some(200),
            Self::Timeout | Self::Unavailable(_) => None,
        }
    }
}

/// A service's answer with `error_code` 0: its message and result.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The `error_code` (0, or one of the codes the caller accepted).
    pub code: i64,
    /// The `message` field ("" when absent).
    pub message: String,
    /// The `result` field (`null` when absent).
    pub result: Value,
}

/// The body of a service call: the service's parameters and the adapter's fields.
#[derive(Serialize)]
struct CallBody<'a, P> {
    #[serde(flatten)]
    params: &'a P,
    madonvi: &'a str,
    service: &'a str,
    session: &'a str,
}

/// A client of one national system; cheap to share, keeps the session.
pub struct AdapterClient {
    http: reqwest::Client,
    config: AdapterConfig,
    session: Mutex<Option<String>>,
}

fn error_code(body: &Value) -> Option<i64> {
    match body.get("error_code")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl AdapterClient {
    /// A client for `config`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS set-up).
    pub fn new(config: AdapterConfig) -> Result<Self, AdapterError> {
        let http = reqwest::Client::builder().timeout(config.timeout).build().map_err(|e| AdapterError::Unavailable(e.to_string()))?;
        Ok(Self { http, config, session: Mutex::new(None) })
    }

    /// The configuration.
    pub fn config(&self) -> &AdapterConfig {
        &self.config
    }

    /// POSTs `body` to `path`, retrying 5xx answers and time-outs; returns the JSON answer.
    async fn post<B: Serialize + Sync + ?Sized>(&self, path: &str, body: &B) -> Result<Value, AdapterError> {
        let url = format!("{}{}", self.config.base_url, path);
        let mut delay = self.config.backoff;
        let mut attempt = 0;
        loop {
            let outcome = self.http.post(&url).header("dstcode", &self.config.dstcode).json(body).send().await;
            let retryable = match outcome {
                Ok(response) if response.status().is_server_error() => AdapterError::ServerError(response.status().as_u16()),
                Ok(response) => {
                    let status = response.status();
                    match response.text().await {
                        Ok(text) => {
                            return match serde_json::from_str::<Value>(&text) {
                                Ok(value) => Ok(value),
                                Err(_) if status.as_u16() == 401 => Ok(json!({"error_code": 401, "message": "unauthorized"})),
                                Err(_) => Err(AdapterError::NotJson { status: status.as_u16() }),
                            };
                        }
                        Err(e) if e.is_timeout() => AdapterError::Timeout,
                        Err(e) => return Err(AdapterError::Protocol(e.without_url().to_string())),
                    }
                }
                Err(e) if e.is_timeout() => AdapterError::Timeout,
                Err(e) => AdapterError::Unavailable(e.without_url().to_string()),
            };
            if attempt >= self.config.retries {
                return Err(retryable);
            }
            attempt += 1;
            log::warn!("national adapter: {retryable}; retry {attempt} in {} ms", delay.as_millis());
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }

    async fn login(&self) -> Result<String, AdapterError> {
        let body = json!({"username": self.config.username, "password": self.config.password});
        let answer = self.post(&self.config.auth_path, &body).await?;
        match (error_code(&answer), answer.get("session").and_then(Value::as_str)) {
            (Some(0), Some(session)) if !session.is_empty() => Ok(session.to_owned()),
            (Some(0), _) => Err(AdapterError::Protocol("login answered without a session".into())),
            (code, _) => Err(AdapterError::Auth(format!(
                "error_code {}: {}",
                code.map_or("?".into(), |c| c.to_string()),
                answer.get("message").and_then(Value::as_str).unwrap_or("")
            ))),
        }
    }

    async fn session(&self, renew: bool) -> Result<String, AdapterError> {
        let mut cached = self.session.lock().await;
        if renew || cached.is_none() {
            *cached = Some(self.login().await?);
        }
        cached.clone().ok_or_else(|| AdapterError::Protocol("no session".into()))
    }

    /// Calls a catalogue service with extra `params`; returns its `result`.
    ///
    /// # Errors
    /// See [`AdapterError`]; a rejected session is renewed once.
    pub async fn share(&self, service: &str, params: Map<String, Value>) -> Result<Value, AdapterError> {
        self.call(&self.config.share_path.clone(), service, &params).await
    }

    /// Calls `service` at `path`.
    ///
    /// # Errors
    /// See [`AdapterError`].
    pub async fn call<P: Serialize + Sync>(&self, path: &str, service: &str, params: &P) -> Result<Value, AdapterError> {
        Ok(self.call_answer(path, service, params, &[]).await?.result)
    }

    /// Calls `service` at `path` with `params` (an object: its fields go into the body beside
    /// the adapter's own, `madonvi`, `service` and `session`); `also_ok` lists `error_code`s
    /// other than 0 that are answers rather than failures (the caller reads their message, e.g.
    /// "already exists").
    ///
    /// # Errors
    /// See [`AdapterError`]; a rejected session is renewed once.
    pub async fn call_answer<P: Serialize + Sync>(
        &self,
        path: &str,
        service: &str,
        params: &P,
        also_ok: &[i64],
    ) -> Result<Answer, AdapterError> {
        let mut renewed = false;
        loop {
            let session = self.session(false).await?;
            // Serialised straight into the request body (no JSON tree of the parameters).
            let body = CallBody { params, madonvi: &self.config.madonvi, service, session: &session };
            let answer = self.post(path, &body).await?;
            let message = || answer.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
            match error_code(&answer) {
                Some(code) if code == 0 || also_ok.contains(&code) => {
                    return Ok(Answer { code, message: message(), result: answer.get("result").cloned().unwrap_or(Value::Null) });
                }
                Some(code) if self.config.session_error_codes.contains(&code) && !renewed => {
                    renewed = true;
                    let mut cached = self.session.lock().await;
                    if cached.as_deref() == Some(session.as_str()) {
                        *cached = None;
                    }
                }
                Some(code) => return Err(AdapterError::Rejected { code, message: message() }),
                None => return Err(AdapterError::Protocol("no error_code in the answer".into())),
            }
        }
    }
}
