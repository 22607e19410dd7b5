//! Text that reaches the platform is clean before any handler sees it: no control characters
//! (a NUL byte cannot be stored in PostgreSQL text, and none belongs in a name, a code or a
//! query), and Vietnamese text in one Unicode form (NFC), so that "Nông Văn Bình" typed with
//! combining marks and with precomposed letters is the same name, the same search key and the same
//! stored value.
//!
//! [`clean_input`] checks the decoded path and query string, and the strings (and keys) of a JSON
//! body, before the request goes on; it answers 422 `validation_failed` naming the field (`path`,
//! the query parameter, or the JSON path such as `applicant.full_name`), and rewrites a JSON body
//! whose strings were not in NFC. Tab, line feed and carriage return are allowed in JSON strings
//! (multi-line content); nothing else below U+0020, nor U+007F–U+009F.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::web;
use serde_json::Value;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::app::AppError;
use crate::app::error::{Code, InvalidParam};

/// A control character no input may carry; `multiline` allows tab, line feed and carriage return.
fn forbidden(c: char, multiline: bool) -> bool {
    match c {
        '\t' | '\n' | '\r' => !multiline,
        c => c.is_control(),
    }
}

/// Whether `text` is already NFC (the common case, decided without allocating).
fn is_nfc(text: &str) -> bool {
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => true,
        IsNormalized::No => false,
        IsNormalized::Maybe => text.nfc().eq(text.chars()),
    }
}

/// Checks every string and key of `value` (reporting each offending field once, by its JSON
/// path) and brings them to NFC; whether anything was rewritten.
fn clean_value(value: &mut Value, path: &mut String, problems: &mut Vec<InvalidParam>) -> bool {
    let reason = "must not contain control characters";
    match value {
        Value::String(text) => {
            if text.chars().any(|c| forbidden(c, true)) {
                problems.push(InvalidParam { name: path.clone(), reason: reason.into() });
                false
            } else if is_nfc(text) {
                false
            } else {
                *text = text.nfc().collect();
                true
            }
        }
        Value::Array(items) => {
            let mut changed = false;
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                changed |= clean_value(item, path, problems);
                path.truncate(len);
            }
            changed
        }
        Value::Object(map) => {
            let mut changed = false;
            let mut renamed = Vec::new();
            for (key, item) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                if key.chars().any(|c| forbidden(c, false)) {
                    problems.push(InvalidParam { name: path.escape_debug().to_string(), reason: reason.into() });
                } else if !is_nfc(key) {
                    renamed.push(key.clone());
                }
                changed |= clean_value(item, path, problems);
                path.truncate(len);
            }
            for key in renamed {
                if let Some(item) = map.remove(&key) {
                    map.insert(key.nfc().collect(), item);
                    changed = true;
                }
            }
            changed
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// The problems of a query string: each parameter whose decoded name or value holds a control
/// character, by name.
fn query_problems(query: &str) -> Vec<InvalidParam> {
    let mut problems = Vec::new();
    for (name, value) in form_urlencoded_pairs(query) {
        if name.chars().chain(value.chars()).any(|c| forbidden(c, false)) {
            let name = if name.chars().any(|c| forbidden(c, false)) { "query".to_owned() } else { name };
            problems.push(InvalidParam { name, reason: "must not contain control characters".into() });
        }
    }
    problems
}

/// `application/x-www-form-urlencoded` pairs of a query string, decoded (invalid UTF-8 replaced).
fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

/// A query-string component decoded: `+` is a space, `%XX` a byte.
fn percent_decode(text: &str) -> String {
    crate::auth::principal::decode_header_text(text.replace('+', " ").as_bytes())
}

/// The media type of the request body without parameters, lower-case (empty without one).
pub fn content_essence(req: &ServiceRequest) -> String {
    let header = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    header.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

fn is_json(req: &ServiceRequest) -> bool {
    let essence = content_essence(req);
    essence == "application/json" || essence.ends_with("+json")
}

/// Reads the body of `req`, refusing more than `limit` bytes (by `Content-Length` before reading
/// anything, and while reading) and a body slower than the configured request timeout.
///
/// # Errors
/// `payload_too_large`, `request_timeout`; a broken connection as `malformed_request`.
pub async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, AppError> {
    let declared =
        req.headers().get(actix_web::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(AppError::new(Code::PayloadTooLarge));
    }
    let timeout =
        req.app_data::<web::Data<crate::state::AppState>>().map_or(std::time::Duration::from_secs(30), |s| s.config.request_timeout);
    let payload = req.extract::<web::Payload>().await.map_err(|_| AppError::new(Code::MalformedRequest))?;
    match tokio::time::timeout(timeout, payload.to_bytes_limited(limit)).await {
        Ok(Ok(Ok(body))) => Ok(body),
        Ok(Ok(Err(_))) => Err(AppError::new(Code::PayloadTooLarge)),
        Ok(Err(_)) => Err(AppError::new(Code::MalformedRequest)),
        Err(_) => Err(AppError::new(Code::RequestTimeout)),
    }
}

/// The middleware: see the module documentation.
///
/// # Errors
/// Problem documents for refused input.
pub async fn clean_input(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let path = percent_decode(req.path());
    if path.chars().any(|c| forbidden(c, false)) {
        return Ok(crate::middleware::reject(req, AppError::invalid("path", "must not contain control characters")));
    }
    let problems = query_problems(req.query_string());
    if !problems.is_empty() {
        return Ok(crate::middleware::reject(req, AppError::validation(problems)));
    }
    if is_json(&req) {
        let limit = req.app_data::<web::Data<crate::state::AppState>>().map_or(1024 * 1024, |s| s.config.json_limit);
        let body = match read_body(&mut req, limit).await {
            Ok(body) => body,
            Err(error) => return Ok(crate::middleware::reject(req, error)),
        };
        // Malformed JSON is left to the extractor, which names the problem.
        let body = match serde_json::from_slice::<Value>(&body) {
            Ok(mut value) => {
                let mut problems = Vec::new();
                let changed = clean_value(&mut value, &mut String::new(), &mut problems);
                if !problems.is_empty() {
                    return Ok(crate::middleware::reject(req, AppError::validation(problems)));
                }
                if changed { serde_json::to_vec(&value).map_or(body, web::Bytes::from) } else { body }
            }
            Err(_) => body,
        };
        req.set_payload(actix_web::dev::Payload::from(body));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(json: &str) -> (Value, Vec<String>) {
        let mut value: Value = serde_json::from_str(json).unwrap_or(Value::Null);
        let mut problems = Vec::new();
        clean_value(&mut value, &mut String::new(), &mut problems);
        (value, problems.into_iter().map(|p| p.name).collect())
    }

    #[test]
    fn control_characters_are_named_by_their_json_path() {
        let (_, problems) =
            clean(r#"{"applicant": {"full_name": "A\u0000B"}, "documents": [{"name": "x"}, {"name": "\u0007"}], "ok": "a\nb\tc"}"#);
        assert_eq!(problems, ["applicant.full_name", "documents[1].name"]);
    }

    #[test]
    fn text_is_brought_to_nfc() {
        let decomposed = "No\u{302}ng Va\u{306}n Bi\u{300}nh";
        let (value, problems) = clean(&serde_json::json!({"full_name": decomposed}).to_string());
        assert!(problems.is_empty());
        assert_eq!(value["full_name"], "Nông Văn Bình");
    }

    #[test]
    fn query_parameters_are_decoded_before_the_check() {
        assert_eq!(query_problems("q=a%00b&limit=5").iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["q"]);
        assert!(query_problems("q=n%C3%B4ng+v%C4%83n&limit=5").is_empty());
        assert!(query_problems("q=100%").is_empty(), "a stray % is text");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
