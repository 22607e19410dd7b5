//! Model questions and answers (Art. 5.2.đ).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::repo::Page;
use crate::schema::faqs;
use crate::{AnyConnection, RepoError};

/// A question and its answer.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = faqs, treat_none_as_default_value = false)]
pub struct FaqRow {
    pub id: String,
    pub procedure_code: Option<String>,
    pub question: String,
    pub answer: String,
    pub search: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

fn search_text(question: &str, answer: &str) -> String {
    format!("{} {}", domain::text::fold(question), domain::text::fold(answer))
}

/// Adds a question.
pub fn insert(
    conn: &mut AnyConnection,
    procedure_code: Option<String>,
    question: String,
    answer: String,
    created_by: Option<String>,
) -> Result<FaqRow, RepoError> {
    let now = crate::now();
    let row = FaqRow {
        id: crate::new_id(),
        search: search_text(&question, &answer),
        procedure_code,
        question,
        answer,
        created_by,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(faqs::table).values(&row).execute(conn)?;
    Ok(row)
}

/// One question.
pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<FaqRow>, RepoError> {
    Ok(faqs::table.find(id).select(FaqRow::as_select()).first(conn).optional()?)
}

/// Replaces the text (and link) of a question.
pub fn update(conn: &mut AnyConnection, row: &FaqRow) -> Result<FaqRow, RepoError> {
    let mut row = row.clone();
    row.search = search_text(&row.question, &row.answer);
    row.updated_at = crate::now();
    diesel::update(faqs::table.find(&row.id))
        .set((
            faqs::procedure_code.eq(&row.procedure_code),
            faqs::question.eq(&row.question),
            faqs::answer.eq(&row.answer),
            faqs::search.eq(&row.search),
            faqs::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(row)
}

/// A page of questions, oldest first.
pub fn list(
    conn: &mut AnyConnection,
    procedure_code: Option<&str>,
    search_like: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<FaqRow>, RepoError> {
    let mut query = faqs::table.select(FaqRow::as_select()).into_boxed();
    if let Some(code) = procedure_code {
        query = query.filter(faqs::procedure_code.eq(code.to_owned()));
    }
    if let Some(pattern) = search_like {
        query = query.filter(faqs::search.like(pattern.to_owned()).escape('\\'));
    }
    if let Some(after) = after {
        query = query.filter(faqs::id.gt(after.to_owned()));
    }
    let rows = query.order(faqs::id.asc()).limit(limit + 1).load(conn)?;
    Ok(Page::from_overfetch(rows, limit, |r| r.id.clone()))
}
