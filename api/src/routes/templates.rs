//! Downloadable form templates of procedures (mẫu đơn, tờ khai; Art. 8.3).

use actix_multipart::form::MultipartForm;
use actix_multipart::form::bytes::Bytes as FormBytes;
use actix_multipart::form::text::Text;
use actix_web::{HttpResponse, get, post, web};
use domain::Role;
use persistence::repo::templates::{self as repo, TemplateRow};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::principal::MaybePrincipal;
use crate::auth::{Principal, RequestMeta};
use crate::error::{AppError, Problem};
use crate::state::AppState;
use crate::views::utc;

/// The multipart upload of a template.
#[derive(Debug, MultipartForm)]
pub struct TemplateUpload {
    pub file: FormBytes,
    pub name: Option<Text<String>>,
    pub document_code: Option<Text<String>>,
}

/// The multipart fields of a template upload (for the OpenAPI document).
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "describes the multipart body; the handler reads `TemplateUpload`")]
pub struct TemplateUploadSchema {
    /// The file: PDF, DOC/DOCX, XLS/XLSX, ODT/ODS (checked against its bytes).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// A display name (default: the file name).
    name: Option<String>,
    /// The required document this template is for.
    document_code: Option<String>,
}

/// A stored template.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    pub id: String,
    pub procedure_code: String,
    pub document_code: Option<String>,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Where to download it.
    pub download_url: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<TemplateRow> for TemplateView {
    fn from(row: TemplateRow) -> Self {
        TemplateView {
            download_url: format!("/api/v1/procedures/{}/templates/{}/content", row.procedure_code, row.id),
            id: row.id,
            procedure_code: row.procedure_code,
            document_code: row.document_code,
            name: row.name,
            content_type: row.content_type,
            size: row.size_bytes,
            sha256: row.sha256,
            created_at: utc(row.created_at),
        }
    }
}

/// Upload a form template (administrators of an implementing agency).
#[utoipa::path(
    tag = "procedures",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code")),
    request_body(content = TemplateUploadSchema, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = TemplateView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator of an implementing agency", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown procedure", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a document format we accept", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/procedures/{code}/templates")]
pub async fn upload_template(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    code: web::Path<String>,
    form: MultipartForm<TemplateUpload>,
) -> Result<HttpResponse, AppError> {
    principal.require(&[Role::SystemAdmin, Role::AgencyAdmin])?;
    let code = code.into_inner();
    let upload = form.into_inner();
    let file_name = upload.file.file_name.clone();
    let checked = crate::uploads::check(
        &upload.file.data,
        state.config.upload_limit,
        upload.name.map(|t| t.into_inner()),
        file_name.as_deref(),
        "mau-don",
    )?;
    let (name, content_type) = (checked.name, checked.content_type);
    let document_code = upload.document_code.map(|t| t.into_inner()).filter(|c| !c.trim().is_empty());
    let command = crate::app::procedures::NewTemplate { code, document_code, name, content_type, data: upload.file.data.into() };
    let shared = state.get_ref().clone();
    let row =
        crate::db::write(&state.pool, move |conn| crate::app::procedures::add_template(conn, &shared, &principal, &meta, command)).await?;
    let view = TemplateView::from(row);
    Ok(crate::http::created(view.download_url.clone(), &view))
}

/// The form templates of a procedure.
#[utoipa::path(
    tag = "procedures",
    security(()),
    params(("code" = String, Path, description = "Procedure code")),
    responses(
        (status = 200, description = "The templates", body = Vec<TemplateView>),
        (status = 404, description = "Unknown procedure", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/procedures/{code}/templates")]
pub async fn list_templates(
    state: web::Data<AppState>,
    principal: MaybePrincipal,
    code: web::Path<String>,
) -> Result<web::Json<Vec<TemplateView>>, AppError> {
    let code = code.into_inner();
    let staff = principal.is_staff();
    let rows = crate::db::run(&state.pool, move |conn| {
        if !crate::app::procedures::visible(conn, &code, staff)? {
            return Err(AppError::not_found());
        }
        Ok(repo::list(conn, &code)?)
    })
    .await?;
    Ok(web::Json(rows.into_iter().map(TemplateView::from).collect()))
}

/// Download a form template, with its stored content type.
#[utoipa::path(
    tag = "procedures",
    security(()),
    params(("code" = String, Path, description = "Procedure code"), ("id" = String, Path, description = "Template id")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "Unknown template", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/procedures/{code}/templates/{id}/content")]
pub async fn download_template(
    state: web::Data<AppState>,
    principal: MaybePrincipal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (code, id) = path.into_inner();
    let staff = principal.is_staff();
    let row = crate::db::run(&state.pool, move |conn| {
        if !crate::app::procedures::visible(conn, &code, staff)? {
            return Err(AppError::not_found());
        }
        repo::find(conn, &code, &id)?.ok_or_else(AppError::not_found)
    })
    .await?;
    crate::uploads::download(&state.files, &row.sha256, &row.content_type, &row.name, &row.id).await
}
