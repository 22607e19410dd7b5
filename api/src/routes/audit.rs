//! Reading and verifying the audit trail. There is deliberately no endpoint that changes it.

use actix_web::{get, web};
use chrono::{DateTime, FixedOffset};
use domain::Role;
use persistence::repo::audit::{self, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::error::{AppError, Problem};
use crate::pagination::{PageQuery, Paged};
use crate::state::AppState;
use crate::views::utc;

const READERS: &[Role] = &[Role::SystemAdmin, Role::Supervisor];

/// Filters of the audit list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// e.g. `user`, `agency`.
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    /// From this instant (inclusive, RFC 3339).
    pub from: Option<DateTime<FixedOffset>>,
    /// Up to this instant (exclusive, RFC 3339).
    pub to: Option<DateTime<FixedOffset>>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Position in the chain, from 1.
    pub seq: i64,
    pub at: DateTime<chrono::Utc>,
    pub actor_id: Option<String>,
    /// e.g. `user.create`, `agency.update`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// SHA-256 of the entity's state before the change.
    pub before_digest: Option<String>,
    /// SHA-256 of the entity's state after the change.
    pub after_digest: Option<String>,
    /// The `X-Audit-Reason` of the request.
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The outcome of checking the hash chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    /// Whether every entry is present, unedited and in order.
    pub ok: bool,
    /// Entries checked.
    pub entries: i64,
    /// The first entry found missing, edited or out of order.
    pub first_broken_seq: Option<i64>,
}

/// The audit trail, oldest first.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    params(AuditQuery, PageQuery),
    responses(
        (status = 200, description = "A page of entries", body = Paged<AuditEntryView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator or supervisor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<AuditQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<AuditEntryView>>, AppError> {
    principal.require(READERS)?;
    let (limit, after) = page.resolve()?;
    let after_seq =
        after.map(|a| a.parse::<i64>().map_err(|_| AppError::invalid("cursor", "is not a cursor issued by this API"))).transpose()?;
    let query = query.into_inner();
    let filter = AuditFilter {
        entity_type: query.entity_type,
        entity_id: query.entity_id,
        actor_id: query.actor_id,
        from: query.from.map(|t| t.naive_utc()),
        to: query.to.map(|t| t.naive_utc()),
        after_seq,
        limit,
    };
    let page = crate::db::run(&state.pool, move |conn| {
        // Entries committed a moment ago join the chain first, so the reader sees them.
        audit::chain_all(conn)?;
        Ok(audit::list(conn, &filter)?)
    })
    .await?;
    Ok(web::Json(Paged::from_page(page, |row| AuditEntryView {
        seq: row.seq,
        at: utc(row.at),
        actor_id: row.actor_id,
        action: row.action,
        entity_type: row.entity_type,
        entity_id: row.entity_id,
        before_digest: row.before_digest,
        after_digest: row.after_digest,
        reason: row.reason,
        request_id: row.request_id,
        prev_hash: row.prev_hash,
        hash: row.hash,
    })))
}

/// Check the hash chain of the whole trail.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The outcome", body = VerifyResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator or supervisor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit/verify")]
pub async fn verify_audit(state: web::Data<AppState>, principal: Principal) -> Result<web::Json<VerifyResponse>, AppError> {
    principal.require(READERS)?;
    let outcome = crate::db::run(&state.pool, |conn| {
        audit::chain_all(conn)?;
        Ok(audit::verify(conn)?)
    })
    .await?;
    Ok(web::Json(VerifyResponse { ok: outcome.ok, entries: outcome.entries, first_broken_seq: outcome.first_broken_seq }))
}
