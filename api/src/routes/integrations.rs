//! Integration endpoints: the national catalogue sync and its jobs.

use actix_web::{HttpResponse, get, post, web};
use domain::Role;
use persistence::repo::jobs;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Principal, RequestMeta};
use crate::catalog_sync::{self, ItemOutcome};
use crate::error::{ApiError, Code, Problem};
use crate::routes::views::utc;
use crate::state::AppState;

/// A background job and its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    /// e.g. `national_catalog_sync`.
    pub kind: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    pub total: i32,
    pub done: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed: i32,
    /// The outcome per item.
    pub items: Vec<ItemOutcome>,
    pub error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<jobs::JobRow> for JobView {
    fn from(row: jobs::JobRow) -> Self {
        let items: Vec<ItemOutcome> = serde_json::from_str(&row.items).unwrap_or_default();
        JobView {
            id: row.id,
            kind: row.kind,
            status: row.status,
            total: row.total,
            done: row.done,
            created: row.created,
            updated: row.updated,
            unchanged: row.unchanged,
            failed: row.failed,
            items,
            error: row.error,
            created_at: utc(row.created_at),
            started_at: row.started_at.map(utc),
            finished_at: row.finished_at.map(utc),
        }
    }
}

/// Start a catalogue sync from the national procedure database; returns the job (202).
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The job, queued", body = JobView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The national catalogue is not configured", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/integrations/national-catalog/sync")]
pub async fn start_catalog_sync(state: web::Data<AppState>, principal: Principal, meta: RequestMeta) -> Result<HttpResponse, ApiError> {
    principal.require(&[Role::SystemAdmin])?;
    if state.config.national_catalog.is_none() {
        return Err(ApiError::new(Code::Conflict).with_detail(
            "Chưa cấu hình kết nối CSDL quốc gia về TTHC (MOTCUA_NATIONAL_CATALOG_URL).",
            "The national catalogue is not configured (MOTCUA_NATIONAL_CATALOG_URL).",
        ));
    }
    let user_id = principal.user_id.clone();
    let job = crate::db::run(&state.pool, move |conn| Ok(jobs::create(conn, "national_catalog_sync", Some(&user_id))?)).await?;
    let runner_state = state.get_ref().clone();
    let queued = job.clone();
    actix_web::rt::spawn(async move {
        catalog_sync::run(runner_state, queued, meta).await;
    });
    Ok(HttpResponse::Accepted()
        .insert_header((actix_web::http::header::LOCATION, format!("/api/v1/integrations/jobs/{}", job.id)))
        .json(JobView::from(job)))
}

/// A job's progress and outcome.
#[utoipa::path(
    tag = "integrations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown job", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/integrations/jobs/{id}")]
pub async fn get_job(state: web::Data<AppState>, principal: Principal, id: web::Path<String>) -> Result<web::Json<JobView>, ApiError> {
    principal.require(&[Role::SystemAdmin])?;
    let id = id.into_inner();
    let job = crate::db::run(&state.pool, move |conn| jobs::find(conn, &id)?.ok_or_else(ApiError::not_found)).await?;
    Ok(web::Json(JobView::from(job)))
}
