//! Form templates of procedures (metadata; the bytes are in the file store).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::procedure_templates;
use crate::{AnyConnection, RepoError};

/// A template's metadata.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = procedure_templates, treat_none_as_default_value = false)]
pub struct TemplateRow {
    pub id: String,
    pub procedure_code: String,
    pub document_code: Option<String>,
    pub name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Records a template.
pub fn insert(conn: &mut AnyConnection, row: &TemplateRow) -> Result<(), RepoError> {
    diesel::insert_into(procedure_templates::table).values(row).execute(conn)?;
    Ok(())
}

/// The templates of a procedure, oldest first (a handful per procedure).
pub fn list(conn: &mut AnyConnection, procedure_code: &str) -> Result<Vec<TemplateRow>, RepoError> {
    Ok(procedure_templates::table
        .filter(procedure_templates::procedure_code.eq(procedure_code))
        .order(procedure_templates::id.asc())
        .limit(200)
        .select(TemplateRow::as_select())
        .load(conn)?)
}

/// One template of a procedure.
pub fn find(conn: &mut AnyConnection, procedure_code: &str, id: &str) -> Result<Option<TemplateRow>, RepoError> {
    Ok(procedure_templates::table
        .filter(procedure_templates::procedure_code.eq(procedure_code))
        .filter(procedure_templates::id.eq(id))
        .select(TemplateRow::as_select())
        .first(conn)
        .optional()?)
}
