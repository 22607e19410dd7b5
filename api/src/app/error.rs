//! The one error type of the application layer and the table of stable error codes.
//!
//! Use cases, jobs and the outbox return [`AppError`]; lower layers keep their own error enums
//! (`domain::ValidationError`, `persistence::RepoError`), converted here. The HTTP layer
//! (`crate::error`) renders an [`AppError`] as an RFC 9457 problem document; `docs/ERRORS.md` is
//! generated from [`Code::ALL`]. An internal error keeps its cause for the log line written
//! where the error is answered (once, with the request id), never for the client.

use std::sync::Arc;

use crate::i18n::Lang;

macro_rules! codes {
    ($($variant:ident = $code:literal, $status:literal, $vi:literal, $en:literal, $doc:literal;)+) => {
        /// A stable, machine-readable error code. Never rename or reuse one once released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Code { $(#[doc = $doc] $variant,)+ }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)+ }
            }

            /// The HTTP status.
            pub fn status(self) -> u16 {
                match self { $(Code::$variant => $status,)+ }
            }

            /// The localized title.
            pub fn title(self, lang: Lang) -> &'static str {
                match (self, lang) { $((Code::$variant, Lang::Vi) => $vi, (Code::$variant, Lang::En) => $en,)+ }
            }

            /// When a client gets this code.
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $doc,)+ }
            }
        }
    };
}

codes! {
    MalformedRequest = "malformed_request", 400, "Yêu cầu sai cú pháp", "Malformed request", "The body is not valid JSON, or a header or parameter cannot be parsed.";
    Unauthorized = "unauthorized", 401, "Chưa xác thực", "Authentication required", "No bearer token, or the token is invalid, expired or revoked.";
    InvalidCredentials = "invalid_credentials", 401, "Sai tên đăng nhập hoặc mật khẩu", "Invalid credentials", "Login or client credentials do not match an active account (the same answer for an unknown user).";
    Forbidden = "forbidden", 403, "Không có quyền", "Forbidden", "Authenticated, but the role or capability does not allow this action.";
    NotFound = "not_found", 404, "Không tìm thấy", "Not found", "The resource does not exist or lies outside the caller's scope; also an unknown route.";
    MethodNotAllowed = "method_not_allowed", 405, "Phương thức không được hỗ trợ", "Method not allowed", "The route exists but not with this HTTP method; `Allow` lists the methods.";
    Conflict = "conflict", 409, "Xung đột dữ liệu", "Conflict", "The change conflicts with the current state of the resource.";
    DuplicateUsername = "duplicate_username", 409, "Tên đăng nhập đã tồn tại", "Username already taken", "Another account has this user name.";
    DuplicateIdNumber = "duplicate_id_number", 409, "Số định danh đã được đăng ký", "Personal id number already registered", "Another account has this personal id number.";
    DuplicateProcedureCode = "duplicate_procedure_code", 409, "Mã thủ tục đã tồn tại", "Procedure code already exists", "Another procedure has this code.";
    InvalidTransition = "invalid_transition", 409, "Thao tác không hợp lệ ở trạng thái hiện tại", "Invalid transition", "The action does not apply to the resource's current status; `allowed_actions` lists those that do.";
    ResultRequired = "result_required", 409, "Chưa có kết quả giải quyết", "Result required", "A case cannot be resolved before its result document is uploaded (Art. 19.4), unless the procedure has no result.";
    DuplicateAgencyCode = "duplicate_agency_code", 409, "Mã định danh cơ quan đã tồn tại", "Agency code already exists", "Another agency has this electronic identifier code.";
    IdempotencyKeyInUse = "idempotency_key_in_use", 409, "Yêu cầu cùng khóa đang được xử lý", "Request with this key in progress", "A request with the same `Idempotency-Key` is still running; retry later.";
    PreconditionFailed = "precondition_failed", 412, "Điều kiện tiên quyết không thỏa", "Precondition failed", "`If-Match` does not match the current `ETag`.";
    RequestTimeout = "request_timeout", 408, "Gửi yêu cầu quá chậm", "Request timeout", "The body did not arrive within `MOTCUA_REQUEST_TIMEOUT_SECONDS`; nothing was done.";
    PayloadTooLarge = "payload_too_large", 413, "Dữ liệu gửi lên quá lớn", "Payload too large", "The body exceeds the configured limit (JSON 1 MiB by default).";
    UnsupportedMediaType = "unsupported_media_type", 415, "Định dạng dữ liệu không được hỗ trợ", "Unsupported media type", "The `Content-Type` is not one the endpoint accepts.";
    ValidationFailed = "validation_failed", 422, "Dữ liệu không hợp lệ", "Validation failed", "One or more fields break a rule; `invalid_params` names them.";
    IdempotencyKeyReused = "idempotency_key_reused", 422, "Khóa Idempotency-Key đã dùng cho yêu cầu khác", "Idempotency key reused", "The same `Idempotency-Key` was sent earlier with a different request.";
    RateLimited = "rate_limited", 429, "Quá nhiều yêu cầu", "Too many requests", "Too many requests from this client; `Retry-After` says when to retry.";
    AccountLocked = "account_locked", 429, "Tài khoản tạm khóa do đăng nhập sai nhiều lần", "Account temporarily locked", "Too many failed logins; `Retry-After` says when the lock ends.";
    Internal = "internal", 500, "Lỗi hệ thống", "Internal error", "A fault on the server; the request id in `instance` helps the operator find it.";
    CaseCodesExhausted = "case_codes_exhausted", 503, "Đã hết số hồ sơ trong ngày", "Case numbers exhausted for today", "The agency has received as many cases today as its case-code sequence width allows (`MOTCUA_CASE_SEQUENCE_WIDTH`); an operator must widen it. Nothing was stored.";
    Unavailable = "unavailable", 503, "Hệ thống tạm thời không phục vụ được", "Service unavailable", "The database or a dependency cannot be reached; retry later.";
}

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidParam {
    /// The field, as the client named it (dotted path for nested fields).
    pub name: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Localized {
    /// Vietnamese.
    pub vi: String,
    /// English.
    pub en: String,
}

impl Localized {
    /// Builds a text pair.
    pub fn new(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self { vi: vi.into(), en: en.into() }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

/// The error of every use case, job and handler.
#[derive(Debug, Clone)]
pub struct AppError {
    /// The stable code (and so the status).
    pub code: Code,
    /// Explanation of this occurrence; the code's title when absent.
    pub detail: Option<Box<Localized>>,
    /// Invalid fields, for `validation_failed`.
    pub invalid_params: Vec<InvalidParam>,
    /// Seconds for `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
    /// Methods for `Allow` (405).
    pub allow: Option<String>,
    /// Actions that do apply, for `invalid_transition`.
    pub allowed_actions: Option<Vec<String>>,
    /// What went wrong inside, for the one log line of a server error; never sent to a client.
    pub cause: Option<Arc<str>>,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code.as_str())?;
        if let Some(detail) = &self.detail {
            write!(f, ": {}", detail.en)?;
        }
        if let Some(cause) = &self.cause {
            write!(f, " ({cause})")?;
        }
        Ok(())
    }
}

impl AppError {
    /// An error with only a code.
    pub fn new(code: Code) -> Self {
        Self { code, detail: None, invalid_params: Vec::new(), retry_after: None, allow: None, allowed_actions: None, cause: None }
    }

    /// Adds a detail in both languages.
    pub fn with_detail(mut self, vi: impl Into<String>, en: impl Into<String>) -> Self {
        self.detail = Some(Box::new(Localized::new(vi, en)));
        self
    }

    /// A `validation_failed` error naming the fields.
    pub fn validation(params: Vec<InvalidParam>) -> Self {
        let mut error =
            Self::new(Code::ValidationFailed).with_detail("Một hoặc nhiều trường không hợp lệ.", "One or more fields are invalid.");
        error.invalid_params = params;
        error
    }

    /// A `validation_failed` error for a single field.
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::validation(vec![InvalidParam { name: name.into(), reason: reason.into() }])
    }

    /// 404 that does not tell whether the thing exists elsewhere.
    pub fn not_found() -> Self {
        Self::new(Code::NotFound)
    }

    /// 403.
    pub fn forbidden() -> Self {
        Self::new(Code::Forbidden)
    }

    /// 409 `invalid_transition` listing what the caller may do instead.
    pub fn invalid_transition(allowed: Vec<String>) -> Self {
        let mut error = Self::new(Code::InvalidTransition);
        error.detail = Some(Box::new(Localized::new(
            format!("Thao tác được phép: {}.", if allowed.is_empty() { "không có".to_owned() } else { allowed.join(", ") }),
            format!("Allowed actions: {}.", if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") }),
        )));
        error.allowed_actions = Some(allowed);
        error
    }

    /// 412 for a stale `If-Match`.
    pub fn precondition_failed() -> Self {
        Self::new(Code::PreconditionFailed).with_detail("Dữ liệu đã thay đổi; hãy tải lại.", "The resource has changed; fetch it again.")
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut error = Self::new(Code::RateLimited);
        error.retry_after = Some(retry_after.max(1));
        error
    }

    /// 500 with `cause`, which is logged where the error is answered and never sent to the
    /// client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut error = Self::new(Code::Internal);
        error.cause = Some(Arc::from(cause.to_string()));
        error
    }
}

impl std::error::Error for AppError {}

impl From<domain::ValidationError> for AppError {
    fn from(error: domain::ValidationError) -> Self {
        AppError::invalid(error.field, error.reason)
    }
}

impl From<persistence::RepoError> for AppError {
    fn from(error: persistence::RepoError) -> Self {
        use persistence::{ConflictKind, RepoError};
        match error {
            RepoError::NotFound => AppError::not_found(),
            RepoError::Conflict(kind) => match kind {
                ConflictKind::DuplicateUsername => AppError::new(Code::DuplicateUsername),
                ConflictKind::DuplicateIdNumber => AppError::new(Code::DuplicateIdNumber),
                ConflictKind::DuplicateAgencyCode => AppError::new(Code::DuplicateAgencyCode),
                ConflictKind::DuplicateProcedureCode => AppError::new(Code::DuplicateProcedureCode),
                ConflictKind::DuplicateRating => {
                    AppError::new(Code::Conflict).with_detail("Hồ sơ này đã được đánh giá.", "This case has already been rated.")
                }
                ConflictKind::DuplicateExternalId => AppError::new(Code::Conflict).with_detail(
                    "Hồ sơ này vừa được chuyển đến; hãy gửi lại để nhận hồ sơ đã tạo.",
                    "This case was forwarded concurrently; retry to receive the stored case.",
                ),
                ConflictKind::IdempotencyKeyInUse => AppError::new(Code::IdempotencyKeyInUse),
                ConflictKind::MissingReference => AppError::invalid("reference", "refers to a record that does not exist"),
                ConflictKind::Other => AppError::new(Code::Conflict),
            },
            RepoError::Unavailable(cause) => {
                let mut e = AppError::new(Code::Unavailable);
                e.retry_after = Some(5);
                e.cause = Some(Arc::from(format!("database unavailable: {cause}")));
                e
            }
            RepoError::Other(cause) => AppError::internal(cause),
        }
    }
}

impl From<persistence::DbError> for AppError {
    fn from(error: persistence::DbError) -> Self {
        AppError::from(persistence::RepoError::from(error))
    }
}
