//! Adding a file to a case (an application or supplement document, or the result).

use domain::case::{DocumentKind, DocumentRefusal, may_add_document};
use persistence::AnyConnection;
use persistence::repo::cases::{self as repo, DocumentRow};

use super::{access, actor_of, procedure_of};
use crate::app::AppError;
use crate::app::error::Code;
use crate::auditing::{self, Change};
use crate::auth::{Principal, RequestMeta};
use crate::state::AppState;

/// A file to add to the case `code`, its size, type and name already checked.
pub struct AddDocument {
    pub code: String,
    pub kind: DocumentKind,
    /// The required document of the procedure it answers, if any.
    pub requirement_code: Option<String>,
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Stores the file by its content hash and records it with the case, in the caller's
/// transaction, with its audit entry.
///
/// # Errors
/// `not_found` (unknown or out of scope), `forbidden` (not this caller's kind of file),
/// `conflict` (the case is closed), `validation_failed` (a requirement code the procedure does
/// not have); database and storage errors.
pub fn add(
    conn: &mut AnyConnection,
    ctx: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    file: AddDocument,
) -> Result<(String, DocumentRow), AppError> {
    let case = repo::find_for_update(conn, &file.code)?.ok_or_else(AppError::not_found)?;
    let actor = actor_of(&access(conn, principal, &case)?).ok_or_else(AppError::forbidden)?;
    let status = case.status;
    match may_add_document(&actor, file.kind, status) {
        Ok(()) => {}
        Err(DocumentRefusal::NotAllowed) => return Err(AppError::forbidden()),
        Err(DocumentRefusal::Closed) => {
            return Err(AppError::new(Code::Conflict).with_detail("Hồ sơ đã đóng.", "The case is closed."));
        }
    }
    if let Some(requirement) = &file.requirement_code {
        let content = procedure_of(conn, &case)?.1;
        if !content.required_documents.iter().any(|r| &r.code == requirement) {
            return Err(AppError::invalid("requirement_code", "is not a document of this procedure"));
        }
    }
    let sha256 = ctx.files.put(&file.bytes).map_err(AppError::internal)?;
    let row = DocumentRow {
        id: persistence::new_id(),
        case_id: case.id.clone(),
        kind: file.kind.as_str().to_owned(),
        requirement_code: file.requirement_code,
        name: file.name,
        content_type: file.content_type,
        size_bytes: i64::try_from(file.bytes.len()).unwrap_or(i64::MAX),
        sha256,
        uploaded_by: Some(principal.user_id.clone()),
        created_at: ctx.now(),
    };
    repo::insert_document(conn, &row)?;
    auditing::record(
        conn,
        meta,
        Change::<(), _> {
            actor_id: Some(&principal.user_id),
            action: "case.document",
            entity_type: "case",
            entity_id: &case.code,
            before: None,
            after: Some(&(&row.kind, &row.sha256)),
        },
    )?;
    Ok((case.code, row))
}
