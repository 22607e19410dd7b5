//! The procedure catalogue: a procedure and its versions.
//!
//! Every change is a new version; old versions stay readable. `is_latest` marks the version
//! that edits and the publication lifecycle act on; `is_current` marks the version the portal
//! serves (at most one per procedure), so that an amendment runs through the lifecycle while
//! the published version keeps serving. The full content is stored as JSON text; the columns
//! beside it exist for filtering and search.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::repo::Page;
use crate::schema::{procedure_versions, procedures};
use crate::{AnyConnection, RepoError};

/// A procedure's header.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = procedures, treat_none_as_default_value = false)]
pub struct ProcedureRow {
    pub code: String,
    pub national_code: Option<String>,
    pub latest_version: i32,
    pub current_version: Option<i32>,
    pub abolished: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One version of a procedure.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = procedure_versions, treat_none_as_default_value = false)]
pub struct VersionRow {
    pub procedure_code: String,
    pub version: i32,
    pub status: String,
    pub is_latest: bool,
    pub is_current: bool,
    pub effective_from: NaiveDate,
    pub name: String,
    pub search: String,
    pub sector: String,
    pub field_code: String,
    pub online_level: String,
    /// `,level,level,` for `LIKE` filtering.
    pub levels: String,
    /// `,id,id,` for `LIKE` filtering.
    pub agency_ids: String,
    pub content: String,
    pub content_hash: String,
    pub decision_ref: Option<String>,
    pub source_system: String,
    pub source_version: Option<String>,
    pub synced_at: Option<NaiveDateTime>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The content of a new version.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub effective_from: NaiveDate,
    pub name: String,
    /// Folded text to search: name, code, field.
    pub search: String,
    pub sector: String,
    pub field_code: String,
    pub online_level: String,
    pub levels: Vec<String>,
    pub agency_ids: Vec<String>,
    pub content: String,
    pub content_hash: String,
    pub source_system: String,
    pub source_version: Option<String>,
    pub synced_at: Option<NaiveDateTime>,
    pub created_by: Option<String>,
}

/// `,a,b,` from a list.
pub fn marked_list(items: &[String]) -> String {
    if items.is_empty() { String::new() } else { format!(",{},", items.join(",")) }
}

/// The list stored by [`marked_list`].
pub fn unmark_list(stored: &str) -> Vec<String> {
    stored.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn version_row(code: &str, version: i32, new: NewVersion) -> VersionRow {
    let now = crate::now();
    VersionRow {
        procedure_code: code.to_owned(),
        version,
        status: "draft".to_owned(),
        is_latest: true,
        is_current: false,
        effective_from: new.effective_from,
        name: new.name,
        search: new.search,
        sector: new.sector,
        field_code: new.field_code,
        online_level: new.online_level,
        levels: marked_list(&new.levels),
        agency_ids: marked_list(&new.agency_ids),
        content: new.content,
        content_hash: new.content_hash,
        decision_ref: None,
        source_system: new.source_system,
        source_version: new.source_version,
        synced_at: new.synced_at,
        created_by: new.created_by,
        created_at: now,
        updated_at: now,
    }
}

/// Creates a procedure with its first version (a draft).
pub fn create(conn: &mut AnyConnection, code: &str, national_code: Option<String>, first: NewVersion) -> Result<VersionRow, RepoError> {
    let now = crate::now();
    let header = ProcedureRow {
        code: code.to_owned(),
        national_code,
        latest_version: 1,
        current_version: None,
        abolished: false,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(procedures::table).values(&header).execute(conn)?;
    let row = version_row(code, 1, first);
    diesel::insert_into(procedure_versions::table).values(&row).execute(conn)?;
    Ok(row)
}

/// A procedure's header, locked until the transaction ends on PostgreSQL.
pub fn find_for_update(conn: &mut AnyConnection, code: &str) -> Result<Option<ProcedureRow>, RepoError> {
    Ok(match conn {
        AnyConnection::Postgresql(c) => procedures::table.find(code).select(ProcedureRow::as_select()).for_update().first(c).optional()?,
        AnyConnection::Sqlite(c) => procedures::table.find(code).select(ProcedureRow::as_select()).first(c).optional()?,
    })
}

/// A procedure's header.
pub fn find(conn: &mut AnyConnection, code: &str) -> Result<Option<ProcedureRow>, RepoError> {
    Ok(procedures::table.find(code).select(ProcedureRow::as_select()).first(conn).optional()?)
}

/// Adds a new latest version (a draft). Call in [`crate::write_tx`].
pub fn add_version(conn: &mut AnyConnection, code: &str, new: NewVersion) -> Result<VersionRow, RepoError> {
    let header = find_for_update(conn, code)?.ok_or(RepoError::NotFound)?;
    let version = header.latest_version + 1;
    diesel::update(
        procedure_versions::table.filter(procedure_versions::procedure_code.eq(code)).filter(procedure_versions::is_latest.eq(true)),
    )
    .set(procedure_versions::is_latest.eq(false))
    .execute(conn)?;
    let row = version_row(code, version, new);
    diesel::insert_into(procedure_versions::table).values(&row).execute(conn)?;
    diesel::update(procedures::table.find(code))
        .set((procedures::latest_version.eq(version), procedures::updated_at.eq(crate::now())))
        .execute(conn)?;
    Ok(row)
}

/// One version.
pub fn version(conn: &mut AnyConnection, code: &str, version: i32) -> Result<Option<VersionRow>, RepoError> {
    Ok(procedure_versions::table.find((code, version)).select(VersionRow::as_select()).first(conn).optional()?)
}

/// The version the portal serves, if any.
pub fn current(conn: &mut AnyConnection, code: &str) -> Result<Option<VersionRow>, RepoError> {
    Ok(procedure_versions::table
        .filter(procedure_versions::procedure_code.eq(code))
        .filter(procedure_versions::is_current.eq(true))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?)
}

/// The latest version.
pub fn latest(conn: &mut AnyConnection, code: &str) -> Result<Option<VersionRow>, RepoError> {
    Ok(procedure_versions::table
        .filter(procedure_versions::procedure_code.eq(code))
        .filter(procedure_versions::is_latest.eq(true))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every version, oldest first.
pub fn versions(conn: &mut AnyConnection, code: &str) -> Result<Vec<VersionRow>, RepoError> {
    Ok(procedure_versions::table
        .filter(procedure_versions::procedure_code.eq(code))
        .order(procedure_versions::version.asc())
        .select(VersionRow::as_select())
        .load(conn)?)
}

/// Moves a version to `status`. `serve` makes it the served version (publish) or stops
/// serving it (withdraw, abolish). Call in [`crate::write_tx`] after [`find_for_update`].
pub fn set_status(
    conn: &mut AnyConnection,
    code: &str,
    version: i32,
    status: &str,
    decision_ref: Option<&str>,
    serve: Option<bool>,
) -> Result<(), RepoError> {
    let now = crate::now();
    if serve == Some(true) {
        diesel::update(
            procedure_versions::table.filter(procedure_versions::procedure_code.eq(code)).filter(procedure_versions::is_current.eq(true)),
        )
        .set(procedure_versions::is_current.eq(false))
        .execute(conn)?;
    }
    let target = procedure_versions::table.find((code, version));
    diesel::update(target).set((procedure_versions::status.eq(status), procedure_versions::updated_at.eq(now))).execute(conn)?;
    if let Some(reference) = decision_ref {
        diesel::update(target).set(procedure_versions::decision_ref.eq(reference)).execute(conn)?;
    }
    match serve {
        Some(true) => {
            diesel::update(target).set(procedure_versions::is_current.eq(true)).execute(conn)?;
            diesel::update(procedures::table.find(code))
                .set((procedures::current_version.eq(Some(version)), procedures::updated_at.eq(now)))
                .execute(conn)?;
        }
        Some(false) => {
            diesel::update(procedure_versions::table.filter(procedure_versions::procedure_code.eq(code)))
                .set(procedure_versions::is_current.eq(false))
                .execute(conn)?;
            diesel::update(procedures::table.find(code))
                .set((procedures::current_version.eq(None::<i32>), procedures::updated_at.eq(now)))
                .execute(conn)?;
        }
        None => {}
    }
    if status == "abolished" {
        diesel::update(procedures::table.find(code)).set(procedures::abolished.eq(true)).execute(conn)?;
    }
    Ok(())
}

/// Filters of the catalogue.
#[derive(Debug, Clone, Default)]
pub struct ProcedureFilter {
    /// `None`: the served (published) versions; `Some(status)`: latest versions in that status.
    pub status: Option<String>,
    pub search_like: Option<String>,
    /// A cheaper pattern tested first (see `domain::text::like_prefilter`).
    pub search_prefilter: Option<String>,
    pub sector: Option<String>,
    pub field_code: Option<String>,
    pub level: Option<String>,
    pub agency_id: Option<String>,
    pub online_level: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

/// A page of the catalogue in code order.
pub fn list(conn: &mut AnyConnection, filter: &ProcedureFilter) -> Result<Page<VersionRow>, RepoError> {
    let mut query = procedure_versions::table.select(VersionRow::as_select()).into_boxed();
    query = match &filter.status {
        None => query.filter(procedure_versions::is_current.eq(true)),
        Some(status) => query.filter(procedure_versions::is_latest.eq(true)).filter(procedure_versions::status.eq(status.clone())),
    };
    if let Some(v) = &filter.search_prefilter {
        query = query.filter(procedure_versions::search.like(v.clone()).escape('\\'));
    }
    if let Some(v) = &filter.search_like {
        query = query.filter(procedure_versions::search.like(v.clone()).escape('\\'));
    }
    if let Some(v) = &filter.sector {
        query = query.filter(procedure_versions::sector.eq(v.clone()));
    }
    if let Some(v) = &filter.field_code {
        query = query.filter(procedure_versions::field_code.eq(v.clone()));
    }
    if let Some(v) = &filter.level {
        query = query.filter(procedure_versions::levels.like(format!("%,{v},%")));
    }
    if let Some(v) = &filter.agency_id {
        query = query.filter(procedure_versions::agency_ids.like(format!("%,{v},%")));
    }
    if let Some(v) = &filter.online_level {
        query = query.filter(procedure_versions::online_level.eq(v.clone()));
    }
    if let Some(after) = &filter.after {
        query = query.filter(procedure_versions::procedure_code.gt(after.clone()));
    }
    let rows = query.order(procedure_versions::procedure_code.asc()).limit(filter.limit + 1).load(conn)?;
    Ok(Page::from_overfetch(rows, filter.limit, |r| r.procedure_code.clone()))
}

/// How many procedures exist.
pub fn count(conn: &mut AnyConnection) -> Result<i64, RepoError> {
    Ok(procedures::table.count().get_result(conn)?)
}

/// Display labels of a procedure (latest version).
#[derive(Debug, Clone)]
pub struct ProcedureLabel {
    pub name: String,
    pub field_code: String,
    pub field_name: String,
}

/// The latest name and field of each procedure in `codes`.
///
/// # Errors
/// Database errors.
pub fn latest_labels(conn: &mut AnyConnection, codes: &[String]) -> Result<std::collections::HashMap<String, ProcedureLabel>, RepoError> {
    let mut out = std::collections::HashMap::new();
    for chunk in codes.chunks(500) {
        let rows: Vec<(String, String, String, String)> = procedure_versions::table
            .filter(procedure_versions::procedure_code.eq_any(chunk))
            .filter(procedure_versions::is_latest.eq(true))
            .select((
                procedure_versions::procedure_code,
                procedure_versions::name,
                procedure_versions::field_code,
                procedure_versions::content,
            ))
            .load(conn)?;
        for (code, name, field_code, content) in rows {
            let field_name = serde_json::from_str::<serde_json::Value>(&content)
                .ok()
                .and_then(|v| v.pointer("/field/name").and_then(|n| n.as_str()).map(str::to_owned))
                .unwrap_or_default();
            out.insert(code, ProcedureLabel { name, field_code, field_name });
        }
    }
    Ok(out)
}
