//! Model questions and answers (hỏi đáp, Art. 5.2.đ): public reads, administrators write.

use actix_web::{HttpResponse, get, patch, post, web};
use domain::Role;
use persistence::repo::{faqs, procedures};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auditing::{self, Change};
use crate::auth::{Principal, RequestMeta};
use crate::error::{AppError, Problem};
use crate::pagination::{PageQuery, Paged};
use crate::state::AppState;
use crate::views::utc;

/// A question and its answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaqView {
    pub id: String,
    pub procedure_code: Option<String>,
    pub question: String,
    pub answer: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<faqs::FaqRow> for FaqView {
    fn from(row: faqs::FaqRow) -> Self {
        FaqView {
            id: row.id,
            procedure_code: row.procedure_code,
            question: row.question,
            answer: row.answer,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

/// A new question.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateFaqRequest {
    /// The procedure it is about, if any.
    pub procedure_code: Option<String>,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000, example = "Đăng ký khai sinh cần giấy tờ gì?")]
    pub question: String,
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub answer: String,
}

/// Changes to a question; absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateFaqRequest {
    pub procedure_code: Option<String>,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub question: Option<String>,
    #[validate(length(min = 1, max = 20000))]
    #[schema(min_length = 1, max_length = 20000)]
    pub answer: Option<String>,
}

/// Filters of the questions.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FaqQuery {
    pub procedure_code: Option<String>,
    /// Text search in question and answer (case- and diacritic-insensitive).
    pub q: Option<String>,
}

/// Questions and answers.
#[utoipa::path(
    tag = "procedures",
    security(()),
    params(FaqQuery, PageQuery),
    responses(
        (status = 200, description = "A page of questions", body = Paged<FaqView>),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/faqs")]
pub async fn list_faqs(
    state: web::Data<AppState>,
    query: web::Query<FaqQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<FaqView>>, AppError> {
    let (limit, after) = page.resolve()?;
    let query = query.into_inner();
    let pattern = query.q.as_deref().filter(|q| !q.trim().is_empty()).map(domain::text::like_contains);
    let page = crate::db::run(&state.pool, move |conn| {
        Ok(faqs::list(conn, query.procedure_code.as_deref(), pattern.as_deref(), after.as_deref(), limit)?)
    })
    .await?;
    Ok(web::Json(Paged::from_page(page, FaqView::from)))
}

fn check_procedure(conn: &mut persistence::AnyConnection, code: Option<&str>) -> Result<(), AppError> {
    if let Some(code) = code
        && procedures::find(conn, code)?.is_none()
    {
        return Err(AppError::invalid("procedure_code", "no such procedure"));
    }
    Ok(())
}

/// Add a question (administrators).
#[utoipa::path(
    tag = "procedures",
    security(("bearer" = [])),
    request_body = CreateFaqRequest,
    responses(
        (status = 201, description = "Created", body = FaqView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/faqs")]
pub async fn create_faq(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    body: web::Json<CreateFaqRequest>,
) -> Result<HttpResponse, AppError> {
    principal.require(&[Role::SystemAdmin, Role::AgencyAdmin])?;
    body.validate()?;
    let body = body.into_inner();
    let row = crate::db::write(&state.pool, move |conn| {
        check_procedure(conn, body.procedure_code.as_deref())?;
        let row = faqs::insert(
            conn,
            body.procedure_code,
            body.question.trim().to_owned(),
            body.answer.trim().to_owned(),
            Some(principal.user_id.clone()),
        )?;
        auditing::record(
            conn,
            &meta,
            Change::<(), _> {
                actor_id: Some(&principal.user_id),
                action: "faq.create",
                entity_type: "faq",
                entity_id: &row.id,
                before: None,
                after: Some(&(&row.question, &row.answer)),
            },
        )?;
        Ok(row)
    })
    .await?;
    Ok(crate::http::created(format!("/api/v1/faqs/{}", row.id), &FaqView::from(row)))
}

/// Edit a question (administrators).
#[utoipa::path(
    tag = "procedures",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Question id")),
    request_body = UpdateFaqRequest,
    responses(
        (status = 200, description = "Updated", body = FaqView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown question", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/faqs/{id}")]
pub async fn update_faq(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: web::Json<UpdateFaqRequest>,
) -> Result<web::Json<FaqView>, AppError> {
    principal.require(&[Role::SystemAdmin, Role::AgencyAdmin])?;
    body.validate()?;
    let body = body.into_inner();
    let id = id.into_inner();
    let row = crate::db::write(&state.pool, move |conn| {
        let before = faqs::find(conn, &id)?.ok_or_else(AppError::not_found)?;
        check_procedure(conn, body.procedure_code.as_deref())?;
        let mut row = before.clone();
        if body.procedure_code.is_some() {
            row.procedure_code = body.procedure_code;
        }
        if let Some(q) = body.question {
            row.question = q.trim().to_owned();
        }
        if let Some(a) = body.answer {
            row.answer = a.trim().to_owned();
        }
        let after = faqs::update(conn, &row)?;
        auditing::record(
            conn,
            &meta,
            Change {
                actor_id: Some(&principal.user_id),
                action: "faq.update",
                entity_type: "faq",
                entity_id: &after.id,
                before: Some(&(&before.question, &before.answer)),
                after: Some(&(&after.question, &after.answer)),
            },
        )?;
        Ok(after)
    })
    .await?;
    Ok(web::Json(FaqView::from(row)))
}
