//! Checks shared by every file upload: size, type decided from the bytes, a safe display name.

use crate::error::{AppError, Code};

/// An upload that passed the checks.
pub struct CheckedUpload {
    /// The content type to store and serve.
    pub content_type: String,
    /// A display name without control characters, slashes or quotes.
    pub name: String,
}

/// Checks `bytes` against `limit`, sniffs their type and cleans the display name (the given
/// `name`, else the client's file name, else `fallback`).
///
/// # Errors
/// 413 beyond the limit, 415 for formats we do not accept, 422 for an empty name.
pub fn check(bytes: &[u8], limit: usize, name: Option<String>, file_name: Option<&str>, fallback: &str) -> Result<CheckedUpload, AppError> {
    if bytes.len() > limit {
        return Err(AppError::new(Code::PayloadTooLarge));
    }
    let kind = domain::files::sniff(bytes).ok_or_else(|| {
        AppError::new(Code::UnsupportedMediaType).with_detail(
            "Chỉ nhận tệp PDF, ảnh PNG/JPEG, Word, Excel hoặc OpenDocument.",
            "Only PDF, PNG/JPEG images, Word, Excel or OpenDocument files are accepted.",
        )
    })?;
    let raw = name.or_else(|| file_name.map(str::to_owned)).unwrap_or_else(|| fallback.to_owned());
    let name: String = raw.chars().filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"')).take(200).collect();
    if name.trim().is_empty() {
        return Err(AppError::invalid("name", "must not be empty"));
    }
    Ok(CheckedUpload { content_type: kind.content_type(file_name.or(Some(&name))).to_owned(), name })
}

/// A download response with the stored type, as an attachment, never sniffed by browsers.
pub fn attachment(bytes: Vec<u8>, content_type: &str, name: &str, sha256: &str) -> actix_web::HttpResponse {
    let ascii_name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    actix_web::HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((actix_web::http::header::ETAG, format!("\"{sha256}\"")))
        .insert_header((actix_web::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{ascii_name}\"")))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes)
}

/// Reads a stored file off the async executor and answers it as an [`attachment`].
///
/// # Errors
/// `internal` when the store cannot be read or lacks the content of the row `id`.
pub async fn download(
    store: &crate::files::FileStore,
    sha256: &str,
    content_type: &str,
    name: &str,
    id: &str,
) -> Result<actix_web::HttpResponse, crate::error::AppError> {
    let (store, sha) = (store.clone(), sha256.to_owned());
    let bytes = actix_web::web::block(move || store.get(&sha))
        .await
        .map_err(crate::error::AppError::internal)?
        .map_err(crate::error::AppError::internal)?
        .ok_or_else(|| crate::error::AppError::internal(format!("file {id} has no stored content")))?;
    Ok(attachment(bytes, content_type, name, sha256))
}
