//! Background jobs and their progress.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::jobs;
use crate::{AnyConnection, RepoError};

/// A job.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = jobs, treat_none_as_default_value = false)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub total: i32,
    pub done: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed: i32,
    /// JSON array of per-item outcomes.
    pub items: String,
    pub error: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

/// Queues a job of `kind`.
pub fn create(conn: &mut AnyConnection, kind: &str, created_by: Option<&str>) -> Result<JobRow, RepoError> {
    let row = JobRow {
        id: crate::new_id(),
        kind: kind.to_owned(),
        status: "queued".to_owned(),
        total: 0,
        done: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        failed: 0,
        items: "[]".to_owned(),
        error: None,
        created_by: created_by.map(str::to_owned),
        created_at: crate::now(),
        started_at: None,
        finished_at: None,
    };
    diesel::insert_into(jobs::table).values(&row).execute(conn)?;
    Ok(row)
}

/// One job.
pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<JobRow>, RepoError> {
    Ok(jobs::table.find(id).select(JobRow::as_select()).first(conn).optional()?)
}

/// Stores the job's state as given (status, counters, items, error, times).
pub fn save(conn: &mut AnyConnection, row: &JobRow) -> Result<(), RepoError> {
    diesel::update(jobs::table.find(&row.id))
        .set((
            jobs::status.eq(&row.status),
            jobs::total.eq(row.total),
            jobs::done.eq(row.done),
            jobs::created.eq(row.created),
            jobs::updated.eq(row.updated),
            jobs::unchanged.eq(row.unchanged),
            jobs::failed.eq(row.failed),
            jobs::items.eq(&row.items),
            jobs::error.eq(&row.error),
            jobs::started_at.eq(row.started_at),
            jobs::finished_at.eq(row.finished_at),
        ))
        .execute(conn)?;
    Ok(())
}
