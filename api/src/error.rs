//! Problem documents: how an [`AppError`] reaches an HTTP client.
//!
//! Every failure a client can see is an [`AppError`] (the application layer's one error type,
//! `crate::app::error`) rendered as RFC 9457 `application/problem+json`; the request middleware
//! re-renders it in the caller's language with the request id and logs a server error once.
//! `docs/ERRORS.md` is generated from [`Code::ALL`] and checked by a test.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::app::error::{AppError, Code, InvalidParam, Localized};
use crate::i18n::Lang;

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = InvalidParam)]
pub struct ProblemParam {
    /// The field, as the client named it (dotted path for nested fields).
    pub name: String,
    /// What is wrong with it.
    pub reason: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`urn:motcua:problem:<code>`).
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short, localized summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// Localized explanation of this occurrence.
    pub detail: String,
    /// The request id (`urn:motcua:request:<id>`).
    pub instance: String,
    /// Stable machine-readable code (see `docs/ERRORS.md`).
    pub code: String,
    /// The invalid fields of a `validation_failed` problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_params: Option<Vec<ProblemParam>>,
    /// The actions the caller may take instead, for `invalid_transition`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<String>>,
}

impl AppError {
    /// The problem document in `lang` for request `request_id`.
    pub fn problem(&self, lang: Lang, request_id: &str) -> Problem {
        Problem {
            problem_type: format!("urn:motcua:problem:{}", self.code.as_str()),
            title: self.code.title(lang).to_owned(),
            status: self.code.status(),
            detail: self.detail.as_ref().map_or_else(|| self.code.title(lang).to_owned(), |d| d.get(lang).to_owned()),
            instance: format!("urn:motcua:request:{request_id}"),
            code: self.code.as_str().to_owned(),
            invalid_params: if self.invalid_params.is_empty() {
                None
            } else {
                Some(self.invalid_params.iter().map(|p| ProblemParam { name: p.name.clone(), reason: p.reason.clone() }).collect())
            },
            allowed_actions: self.allowed_actions.clone(),
        }
    }

    /// The response; the request middleware re-renders it with the caller's language and
    /// request id (see `middleware::observe`).
    pub fn render(&self, lang: Lang, request_id: &str) -> HttpResponse {
        let status = StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = HttpResponse::build(status);
        builder.content_type("application/problem+json");
        if let Some(seconds) = self.retry_after {
            builder.insert_header(("Retry-After", seconds.to_string()));
        }
        if let Some(allow) = &self.allow {
            builder.insert_header(("Allow", allow.clone()));
        }
        let body = serde_json::to_vec(&self.problem(lang, request_id)).unwrap_or_default();
        let mut response = builder.body(body);
        response.extensions_mut().insert(self.clone());
        response
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        self.render(Lang::Vi, "-")
    }
}

impl From<validator::ValidationErrors> for AppError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut params = Vec::new();
        collect_validation(&errors, "", &mut params);
        params.sort_by(|a, b| a.name.cmp(&b.name));
        AppError::validation(params)
    }
}

fn collect_validation(errors: &validator::ValidationErrors, prefix: &str, out: &mut Vec<InvalidParam>) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let name = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    let reason = error.message.as_ref().map_or_else(|| describe_rule(error), ToString::to_string);
                    out.push(InvalidParam { name: name.clone(), reason });
                }
            }
            ValidationErrorsKind::Struct(inner) => collect_validation(inner, &name, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect_validation(inner, &format!("{name}[{index}]"), out);
                }
            }
        }
    }
}

fn describe_rule(error: &validator::ValidationError) -> String {
    let param = |key: &str| error.params.get(key).map(ToString::to_string);
    match error.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("length must be between {min} and {max}"),
            (Some(min), None) => format!("length must be at least {min}"),
            (None, Some(max)) => format!("length must be at most {max}"),
            _ => "invalid length".to_owned(),
        },
        "range" => "out of range".to_owned(),
        "email" => "must be an e-mail address".to_owned(),
        other => format!("breaks rule `{other}`"),
    }
}

/// The body of `docs/ERRORS.md`, generated from the code table.
pub fn errors_markdown() -> String {
    let mut out = String::from(
        "# Error codes\n\nGenerated from `api/src/app/error.rs` (`Code`); a test fails when this file is stale.\n\
         Every error is an RFC 9457 `application/problem+json` document with a stable `code`.\n\
         `title` and `detail` follow `Accept-Language` (`vi` by default, `en`).\n\n\
         | code | status | title (vi) | title (en) | when |\n|---|---|---|---|---|\n",
    );
    for code in Code::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            code.as_str(),
            code.status(),
            code.title(Lang::Vi),
            code.title(Lang::En),
            code.description()
        ));
    }
    out
}
