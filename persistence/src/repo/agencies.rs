//! Agencies: a tree of any depth kept with a materialised path (`/root-id/child-id/`), so that
//! "everything under X" is one indexed prefix match on either backend.

use diesel::prelude::*;

use crate::repo::Page;
use crate::schema::agencies;
use crate::{AnyConnection, RepoError};

/// A stored agency.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = agencies, treat_none_as_default_value = false)]
pub struct AgencyRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub name_search: String,
    pub level: String,
    pub parent_id: Option<String>,
    pub path: String,
    pub active: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// The fields of a new agency; id, path and timestamps are set here.
#[derive(Debug, Clone)]
pub struct NewAgency {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_id: Option<String>,
}

/// The ids of the agencies under the materialised path `prefix` (the agency itself included).
pub fn ids_under(conn: &mut AnyConnection, prefix: &str) -> Result<Vec<String>, RepoError> {
    Ok(agencies::table.filter(agencies::path.like(format!("{prefix}%"))).select(agencies::id).load(conn)?)
}

/// Filters of the agency list.
#[derive(Debug, Clone, Default)]
pub struct AgencyFilter {
    pub parent_id: Option<String>,
    pub level: Option<String>,
    /// Folded `LIKE` pattern on name and code.
    pub name_like: Option<String>,
    /// Restrict to the subtree with this path prefix.
    pub under_path: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

/// Inserts an agency under its parent (which must exist).
pub fn insert(conn: &mut AnyConnection, new: NewAgency) -> Result<AgencyRow, RepoError> {
    let id = crate::new_id();
    let path = match &new.parent_id {
        Some(parent_id) => {
            let parent = find(conn, parent_id)?.ok_or(RepoError::Conflict(crate::ConflictKind::MissingReference))?;
            format!("{}{id}/", parent.path)
        }
        None => format!("/{id}/"),
    };
    let now = crate::now();
    let row = AgencyRow {
        name_search: format!("{} {}", domain::text::fold(&new.name), new.code.to_lowercase()),
        id,
        code: new.code,
        name: new.name,
        level: new.level,
        parent_id: new.parent_id,
        path,
        active: true,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(agencies::table).values(&row).execute(conn)?;
    Ok(row)
}

/// One agency by id.
pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<AgencyRow>, RepoError> {
    Ok(agencies::table.find(id).select(AgencyRow::as_select()).first(conn).optional()?)
}

/// One agency by electronic identifier code.
pub fn find_by_code(conn: &mut AnyConnection, code: &str) -> Result<Option<AgencyRow>, RepoError> {
    Ok(agencies::table.filter(agencies::code.eq(code)).select(AgencyRow::as_select()).first(conn).optional()?)
}

/// A page of agencies in id (creation) order.
pub fn list(conn: &mut AnyConnection, filter: &AgencyFilter) -> Result<Page<AgencyRow>, RepoError> {
    let mut query = agencies::table.select(AgencyRow::as_select()).into_boxed();
    if let Some(parent_id) = &filter.parent_id {
        query = query.filter(agencies::parent_id.eq(parent_id.clone()));
    }
    if let Some(level) = &filter.level {
        query = query.filter(agencies::level.eq(level.clone()));
    }
    if let Some(pattern) = &filter.name_like {
        query = query.filter(agencies::name_search.like(pattern.clone()).escape('\\'));
    }
    if let Some(prefix) = &filter.under_path {
        query = query.filter(agencies::path.like(format!("{prefix}%")));
    }
    if let Some(after) = &filter.after {
        query = query.filter(agencies::id.gt(after.clone()));
    }
    let rows = query.order(agencies::id.asc()).limit(filter.limit + 1).load(conn)?;
    Ok(Page::from_overfetch(rows, filter.limit, |r| r.id.clone()))
}

/// The changes of an agency edit; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgencyChanges {
    pub code: Option<String>,
    pub name: Option<String>,
    pub level: Option<String>,
    pub active: Option<bool>,
}

/// Applies `changes` and returns the updated row.
pub fn update(conn: &mut AnyConnection, id: &str, changes: AgencyChanges) -> Result<AgencyRow, RepoError> {
    let mut row = find(conn, id)?.ok_or(RepoError::NotFound)?;
    if let Some(code) = changes.code {
        row.code = code;
    }
    if let Some(name) = changes.name {
        row.name = name;
    }
    if let Some(level) = changes.level {
        row.level = level;
    }
    if let Some(active) = changes.active {
        row.active = active;
    }
    row.name_search = format!("{} {}", domain::text::fold(&row.name), row.code.to_lowercase());
    row.updated_at = crate::now();
    diesel::update(agencies::table.find(id))
        .set((
            agencies::code.eq(&row.code),
            agencies::name.eq(&row.name),
            agencies::name_search.eq(&row.name_search),
            agencies::level.eq(&row.level),
            agencies::active.eq(row.active),
            agencies::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(row)
}

/// Whether agency `id` lies in the subtree whose root has path `root_path`.
pub fn is_within(conn: &mut AnyConnection, id: &str, root_path: &str) -> Result<bool, RepoError> {
    Ok(find(conn, id)?.is_some_and(|a| a.path.starts_with(root_path)))
}

/// How many agencies exist.
pub fn count(conn: &mut AnyConnection) -> Result<i64, RepoError> {
    Ok(agencies::table.count().get_result(conn)?)
}

/// The top agency (the province's People's Committee): the first agency without a parent.
///
/// # Errors
/// Database errors.
pub fn root(conn: &mut AnyConnection) -> Result<Option<AgencyRow>, RepoError> {
    Ok(agencies::table
        .filter(agencies::parent_id.is_null())
        .order(agencies::path.asc())
        .select(AgencyRow::as_select())
        .first(conn)
        .optional()?)
}
