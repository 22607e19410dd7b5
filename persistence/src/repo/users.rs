//! Accounts of every role. Personal fields are stored for the account holder and never logged.

use diesel::prelude::*;

use crate::repo::Page;
use crate::schema::{agencies, users};
use crate::{AnyConnection, RepoError};

/// A stored account. No `Debug`: it holds personal data and a password hash.
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub full_name: String,
    pub search: String,
    pub role: String,
    pub capabilities: String,
    pub agency_id: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub token_version: i64,
    /// Kept for existing databases, no longer written: failed logins are counted per user name
    /// and client address (`repo::limits`).
    pub failed_logins: i32,
    /// As `failed_logins`.
    pub locked_until: Option<chrono::NaiveDateTime>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl UserRow {
    /// The grants as a list (stored comma-separated).
    pub fn capability_list(&self) -> Vec<String> {
        split_list(&self.capabilities)
    }
}

/// Splits a stored comma-separated list.
pub fn split_list(stored: &str) -> Vec<String> {
    stored.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The fields of a new account; the password arrives hashed.
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub full_name: String,
    pub role: String,
    pub capabilities: Vec<String>,
    pub agency_id: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

fn search_text(username: &str, full_name: &str) -> String {
    format!("{} {}", username, domain::text::fold(full_name))
}

/// Inserts an account.
pub fn insert(conn: &mut AnyConnection, new: NewUser) -> Result<UserRow, RepoError> {
    let now = crate::now();
    let row = UserRow {
        id: crate::new_id(),
        search: search_text(&new.username, &new.full_name),
        username: new.username,
        password_hash: new.password_hash,
        full_name: new.full_name,
        role: new.role,
        capabilities: new.capabilities.join(","),
        agency_id: new.agency_id,
        id_number: new.id_number,
        phone: new.phone,
        email: new.email,
        active: true,
        token_version: 0,
        failed_logins: 0,
        locked_until: None,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(users::table).values(&row).execute(conn)?;
    Ok(row)
}

/// One account by id.
pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<UserRow>, RepoError> {
    Ok(users::table.find(id).select(UserRow::as_select()).first(conn).optional()?)
}

/// One account by (lower-case) user name.
pub fn find_by_username(conn: &mut AnyConnection, username: &str) -> Result<Option<UserRow>, RepoError> {
    Ok(users::table.filter(users::username.eq(username)).select(UserRow::as_select()).first(conn).optional()?)
}

/// The account linked to a personal id number (or, with a prefix, a national portal key).
pub fn find_by_id_number(conn: &mut AnyConnection, id_number: &str) -> Result<Option<UserRow>, RepoError> {
    Ok(users::table.filter(users::id_number.eq(id_number)).select(UserRow::as_select()).first(conn).optional()?)
}

/// Whether an active system administrator exists.
pub fn any_system_admin(conn: &mut AnyConnection) -> Result<bool, RepoError> {
    let n: i64 = users::table.filter(users::role.eq("system_admin")).count().get_result(conn)?;
    Ok(n > 0)
}

/// Filters of the account list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<String>,
    pub agency_id: Option<String>,
    /// Only accounts of agencies under this path prefix.
    pub under_path: Option<String>,
    /// Exclude these roles (e.g. citizens from an agency admin's list).
    pub exclude_roles: Vec<String>,
    pub search_like: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

/// A page of accounts in creation order.
pub fn list(conn: &mut AnyConnection, filter: &UserFilter) -> Result<Page<UserRow>, RepoError> {
    let mut query = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(role) = &filter.role {
        query = query.filter(users::role.eq(role.clone()));
    }
    if !filter.exclude_roles.is_empty() {
        query = query.filter(users::role.ne_all(filter.exclude_roles.clone()));
    }
    if let Some(agency_id) = &filter.agency_id {
        query = query.filter(users::agency_id.eq(agency_id.clone()));
    }
    if let Some(prefix) = &filter.under_path {
        let in_subtree = agencies::table.filter(agencies::path.like(format!("{prefix}%"))).select(agencies::id.nullable());
        query = query.filter(users::agency_id.eq_any(in_subtree));
    }
    if let Some(pattern) = &filter.search_like {
        query = query.filter(users::search.like(pattern.clone()).escape('\\'));
    }
    if let Some(after) = &filter.after {
        query = query.filter(users::id.gt(after.clone()));
    }
    let rows = query.order(users::id.asc()).limit(filter.limit + 1).load(conn)?;
    Ok(Page::from_overfetch(rows, filter.limit, |r| r.id.clone()))
}

/// The changes of an account edit; `None` leaves a field as it is.
#[derive(Default)]
pub struct UserChanges {
    pub full_name: Option<String>,
    pub role: Option<String>,
    pub capabilities: Option<Vec<String>>,
    pub agency_id: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub password_hash: Option<String>,
    pub active: Option<bool>,
    /// Invalidate every token issued so far (role change, disable, password change).
    pub bump_token_version: bool,
}

/// Applies `changes` to the locked row and returns it.
pub fn update(conn: &mut AnyConnection, id: &str, changes: UserChanges) -> Result<UserRow, RepoError> {
    let mut row = find_for_update(conn, id)?.ok_or(RepoError::NotFound)?;
    if let Some(v) = changes.full_name {
        row.full_name = v;
    }
    if let Some(v) = changes.role {
        row.role = v;
    }
    if let Some(v) = changes.capabilities {
        row.capabilities = v.join(",");
    }
    if let Some(v) = changes.agency_id {
        row.agency_id = v;
    }
    if let Some(v) = changes.phone {
        row.phone = v;
    }
    if let Some(v) = changes.email {
        row.email = v;
    }
    if let Some(v) = changes.password_hash {
        row.password_hash = v;
    }
    if let Some(v) = changes.active {
        row.active = v;
    }
    if changes.bump_token_version {
        row.token_version += 1;
    }
    row.search = search_text(&row.username, &row.full_name);
    row.updated_at = crate::now();
    diesel::update(users::table.find(id))
        .set((
            users::full_name.eq(&row.full_name),
            users::search.eq(&row.search),
            users::role.eq(&row.role),
            users::capabilities.eq(&row.capabilities),
            users::agency_id.eq(&row.agency_id),
            users::phone.eq(&row.phone),
            users::email.eq(&row.email),
            users::password_hash.eq(&row.password_hash),
            users::active.eq(row.active),
            users::token_version.eq(row.token_version),
            users::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(row)
}

/// Reads an account and, on PostgreSQL, locks its row until the transaction ends.
pub fn find_for_update(conn: &mut AnyConnection, id: &str) -> Result<Option<UserRow>, RepoError> {
    Ok(match conn {
        AnyConnection::Postgresql(c) => users::table.find(id).select(UserRow::as_select()).for_update().first(c).optional()?,
        AnyConnection::Sqlite(c) => users::table.find(id).select(UserRow::as_select()).first(c).optional()?,
    })
}
