//! Case statistics and periodic reports (api.md §3.8, domain.md §9): the counts of report 06
//! for any window and agency subtree from the additive counters of `domain::stats`, grouped by
//! agency, field, procedure, channel or day; the statutory and internal periods; frozen
//! snapshots (by hand, and by the scheduler once per period whatever the number of instances);
//! JSON, CSV and PDF.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use domain::Role;
use domain::report::Template;
use persistence::AnyConnection;
use persistence::repo::agencies::{self};
use persistence::repo::reports::{self as repo, SnapshotRow};
use persistence::repo::stats::{self, Group};
use persistence::stored::report as stored;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::reports;
use crate::app::scope::scope_agency;
use crate::auth::Principal;
use crate::error::{AppError, Problem};
use crate::http::{csv_response, pdf_response, to_csv, wants};
use crate::pdf::{Align, Column, Layout, Weight};
use crate::state::AppState;

/// How statistic rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Agency,
    Field,
    Procedure,
    Channel,
    Day,
}

impl GroupBy {
    fn heading(self) -> &'static str {
        match self {
            Self::Agency => "Đơn vị",
            Self::Field => "Lĩnh vực",
            Self::Procedure => "Thủ tục hành chính",
            Self::Channel => "Kênh",
            Self::Day => "Ngày",
        }
    }
}

/// Cases received (số hồ sơ nhận giải quyết).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReceivedCounts {
    pub total: i64,
    /// Received online in the window (trực tuyến).
    pub online: i64,
    /// Received at the counter or by post in the window (trực tiếp, dịch vụ bưu chính).
    pub direct_postal: i64,
    /// Still pending from before the window (từ kỳ trước).
    pub carried_over: i64,
}

/// Cases resolved in the window (số hồ sơ đã giải quyết); withdrawn ones count as on time.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResolvedCounts {
    pub total: i64,
    pub early: i64,
    pub on_time: i64,
    pub late: i64,
}

/// Cases pending at the end of the window (số hồ sơ đang giải quyết).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PendingCounts {
    pub total: i64,
    pub within: i64,
    pub overdue: i64,
}

/// One row: received.total = resolved.total + pending.total.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatisticsRow {
    /// Agency id, field code, procedure code, channel or `YYYY-MM-DD`; `total` for the sum.
    pub key: String,
    /// Agency name, field or procedure name, channel label or the date.
    pub label: String,
    pub received: ReceivedCounts,
    pub resolved: ResolvedCounts,
    pub pending: PendingCounts,
    /// Withdrawn in the window (included in resolved.on_time).
    pub withdrawn: i64,
    /// Refused in the window (not counted as received).
    pub refused: i64,
    /// Supplement requests made in the window.
    pub supplement_requested: i64,
}

impl StatisticsRow {
    fn cells(&self, no: &str) -> Vec<String> {
        let n = |v: i64| v.to_string();
        vec![
            no.to_owned(),
            self.label.clone(),
            n(self.received.total),
            n(self.received.online),
            n(self.received.direct_postal),
            n(self.received.carried_over),
            n(self.resolved.total),
            n(self.resolved.early),
            n(self.resolved.on_time),
            n(self.resolved.late),
            n(self.pending.total),
            n(self.pending.within),
            n(self.pending.overdue),
            n(self.withdrawn),
            n(self.refused),
            n(self.supplement_requested),
        ]
    }
}

/// Case counts for a window and agency subtree.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatisticsView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The agency whose subtree is counted; none for the whole province.
    pub agency_id: Option<String>,
    pub agency_name: Option<String>,
    pub group_by: GroupBy,
    /// Rows that count anything, in label order (date order by day).
    pub rows: Vec<StatisticsRow>,
    pub total: StatisticsRow,
}

const CSV_COLUMNS: [&str; 16] = [
    "STT",
    "Nhóm",
    "Tổng số nhận giải quyết",
    "Trực tuyến",
    "Trực tiếp, dịch vụ bưu chính",
    "Từ kỳ trước",
    "Tổng số đã giải quyết",
    "Trước hạn",
    "Đúng hạn",
    "Quá hạn",
    "Tổng số đang giải quyết",
    "Trong hạn",
    "Quá hạn (đang giải quyết)",
    "Rút hồ sơ",
    "Từ chối",
    "Yêu cầu bổ sung",
];

fn csv_of(view: &StatisticsView) -> Vec<u8> {
    let mut header = CSV_COLUMNS;
    header[1] = view.group_by.heading();
    let rows = view.rows.iter().enumerate().map(|(i, r)| r.cells(&(i + 1).to_string())).chain(std::iter::once(view.total.cells("")));
    to_csv(&header, rows)
}

fn check_format(format: Option<&str>) -> Result<(), AppError> {
    if format.is_some_and(|f| !["json", "csv", "pdf"].contains(&f)) {
        return Err(AppError::invalid("format", "must be json, csv or pdf"));
    }
    Ok(())
}

/// The window, agency and grouping of `/statistics/cases`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseStatisticsQuery {
    /// First day (inclusive), `YYYY-MM-DD`.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// The agency (its subtree is included); default: the caller's agency for agency staff,
    /// the province for supervisors and system administrators.
    pub agency_id: Option<String>,
    /// `agency` (default), `field`, `procedure`, `channel` or `day`.
    pub group_by: Option<String>,
    /// `json` or `csv`; default from `Accept`.
    pub format: Option<String>,
}

/// Case counts (domain.md §9.1) for a window and agency subtree, grouped (staff, supervisors);
/// `text/csv` on request.
#[utoipa::path(
    tag = "statistics",
    security(("bearer" = [])),
    params(CaseStatisticsQuery),
    responses(
        (status = 200, description = "Rows and total; received = resolved + pending in each", content(
            (StatisticsView = "application/json"),
            (String = "text/csv"),
        )),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown agency, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad window, grouping or format", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/statistics/cases")]
pub async fn case_statistics(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: web::Query<CaseStatisticsQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let group_by = reports::group_by(query.group_by.as_deref(), stored::GroupBy::Agency)?;
    if query.format.as_deref().is_some_and(|f| !["json", "csv"].contains(&f)) {
        return Err(AppError::invalid("format", "must be json or csv"));
    }
    domain::time::local_days(query.from, query.to)?;
    let shared = state.get_ref().clone();
    let (from, to, agency_id) = (query.from, query.to, query.agency_id.clone());
    let view = crate::db::run(&state.pool, move |conn| {
        let agency = scope_agency(conn, &principal, agency_id.as_deref())?;
        reports::compute(conn, &shared.names, agency.as_ref(), group_by, from, to)
    })
    .await
    .map(StatisticsView::from)?;
    if wants(&req, query.format.as_deref(), "text/csv", "csv") {
        return Ok(csv_response(csv_of(&view), &format!("thong-ke-ho-so-{from}-{to}")));
    }
    Ok(HttpResponse::Ok().json(view))
}

/// A periodic report: the template, its period and window, and the counts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportView {
    /// `06`, `weekly` or `monthly`.
    pub template: String,
    pub title: String,
    pub period: String,
    pub period_label: String,
    /// When the numbers were computed.
    pub generated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub statistics: StatisticsView,
}

fn parse_template(value: &str) -> Result<Template, AppError> {
    Template::parse(value, "template").map_err(|_| AppError::invalid("template", "must be 06, weekly or monthly"))
}

fn report_group(value: Option<&str>) -> Result<stored::GroupBy, AppError> {
    match reports::group_by(value, stored::GroupBy::Agency)? {
        g @ (stored::GroupBy::Agency | stored::GroupBy::Field) => Ok(g),
        _ => Err(AppError::invalid("group_by", "a report is grouped by agency or field")),
    }
}

fn render_report(view: &ReportView, place: &str) -> Result<Vec<u8>, AppError> {
    let mut layout = Layout::a4(true).map_err(AppError::internal)?;
    if view.template == "06" {
        layout.paragraph("Biểu số 06/VPCP/KSTT", 9.0, Weight::Regular, Align::Right);
    }
    layout.two_columns(
        &[(view.statistics.agency_name.as_deref().unwrap_or(&format!("UBND tỉnh {place}")), Weight::Bold)],
        &[("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Weight::Bold), ("Độc lập - Tự do - Hạnh phúc", Weight::Bold)],
        9.0,
    );
    layout.gap(6.0);
    layout.paragraph(&view.title, 12.0, Weight::Bold, Align::Center);
    layout.paragraph(
        &format!(
            "{} (Từ ngày {} đến ngày {})",
            view.period_label,
            view.statistics.from.format("%d/%m/%Y"),
            view.statistics.to.format("%d/%m/%Y")
        ),
        10.0,
        Weight::Regular,
        Align::Center,
    );
    layout.paragraph("Đơn vị tính: Số hồ sơ", 9.0, Weight::Regular, Align::Right);
    layout.gap(4.0);
    let titles = [
        "STT",
        view.statistics.group_by.heading(),
        "Nhận: Tổng số",
        "Trực tuyến",
        "Trực tiếp, bưu chính",
        "Từ kỳ trước",
        "Đã giải quyết: Tổng số",
        "Trước hạn",
        "Đúng hạn",
        "Quá hạn",
        "Đang giải quyết: Tổng số",
        "Trong hạn",
        "Quá hạn",
    ];
    let shares = [0.5, 3.2, 1.0, 1.0, 1.0, 1.0, 1.1, 0.9, 0.9, 0.9, 1.1, 0.9, 0.9];
    let columns: Vec<Column<'_>> = titles.iter().zip(shares).map(|(title, share)| Column { title, share }).collect();
    let mut rows: Vec<Vec<String>> =
        view.statistics.rows.iter().enumerate().map(|(i, r)| r.cells(&(i + 1).to_string())[..13].to_vec()).collect();
    rows.push(view.statistics.total.cells("")[..13].to_vec());
    layout.table(&columns, &rows, 7.5);
    layout.finish().map_err(AppError::internal)
}

fn respond_report(
    req: &HttpRequest,
    format: Option<&str>,
    body: serde_json::Value,
    view: ReportView,
    place: String,
) -> Result<HttpResponse, AppError> {
    let name = format!("bao-cao-{}-{}", view.template, view.period);
    if wants(req, format, "text/csv", "csv") {
        return Ok(csv_response(csv_of(&view.statistics), &name));
    }
    if wants(req, format, "application/pdf", "pdf") {
        return Ok(pdf_response(render_report(&view, &place)?, &name));
    }
    Ok(HttpResponse::Ok().json(body))
}

/// Which report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodicQuery {
    /// `06` (statutory windows, 15th to 14th), `weekly` or `monthly` (internal statistics).
    pub template: String,
    /// `2026-11`, `2026-Q3`, `2026-H1`, `2026-9M`, `2026` (06); `2026-W48` (weekly); `2026-11`
    /// (monthly).
    pub period: String,
    /// The agency (its subtree); default as for the statistics.
    pub agency_id: Option<String>,
    /// `agency` (06a, default) or `field`.
    pub group_by: Option<String>,
    /// `json`, `csv` or `pdf`; default from `Accept`.
    pub format: Option<String>,
}

/// A periodic report computed now (staff, supervisors): JSON, CSV (UTF-8 with BOM) or PDF.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(PeriodicQuery),
    responses(
        (status = 200, description = "The report", content(
            (ReportView = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/pdf"),
        )),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown agency, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad template, period, grouping or format", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/periodic")]
pub async fn periodic_report(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: web::Query<PeriodicQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    check_format(query.format.as_deref())?;
    let period = domain::report::parse_period(parse_template(&query.template)?, &query.period)?;
    let group_by = report_group(query.group_by.as_deref())?;
    let shared = state.get_ref().clone();
    let agency_id = query.agency_id.clone();
    let view = crate::db::run(&state.pool, move |conn| {
        let agency = scope_agency(conn, &principal, agency_id.as_deref())?;
        reports::build_report(conn, &shared.names, &period, agency.as_ref(), group_by, shared.clock.now())
    })
    .await
    .map(ReportView::from)?;
    let body = serde_json::to_value(&view).map_err(AppError::internal)?;
    respond_report(&req, query.format.as_deref(), body, view, state.config.place_name.clone())
}

/// What to freeze.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreezeRequest {
    /// `06`, `weekly` or `monthly`.
    pub template: String,
    pub period: String,
    /// Default: the caller's agency (agency administrators), the province (system administrators).
    pub agency_id: Option<String>,
    /// `agency` (default) or `field`.
    pub group_by: Option<String>,
}

/// A frozen report.
#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotView {
    pub id: String,
    pub template: String,
    pub period: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// None for the whole province.
    pub agency_id: Option<String>,
    pub group_by: String,
    /// `manual` or `scheduled`.
    pub trigger: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    /// `not_sent` (no reporting system configured), `queued` (in the outbox), `sent` (with
    /// `submission_ref`, the reporting system's reference) or `failed` (given up; replay the
    /// outbox message).
    pub submission_status: String,
    pub submission_ref: Option<String>,
    /// The report as frozen (absent in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportView>,
}

fn snapshot_view(row: &SnapshotRow, with_report: bool) -> Result<SnapshotView, AppError> {
    Ok(SnapshotView {
        id: row.id.clone(),
        template: row.template.clone(),
        period: row.period.clone(),
        from: row.from_date,
        to: row.to_date,
        agency_id: Some(row.scope.clone()).filter(|s| !s.is_empty()),
        group_by: row.group_by.clone(),
        trigger: row.trigger_kind.clone(),
        created_at: row.created_at.and_utc(),
        created_by: row.created_by.clone(),
        submission_status: row.submission_status.clone(),
        submission_ref: row.submission_ref.clone(),
        report: if with_report { Some(persistence::stored::read::<stored::Report>(&row.content)?.into()) } else { None },
    })
}

/// Freezes a report snapshot for submission (agency administrators for their subtree, system
/// administrators). The snapshot never changes afterwards.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    request_body = FreezeRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for 24 h")),
    responses(
        (status = 201, description = "The frozen report", body = SnapshotView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown agency, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad template, period or grouping", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reports/periodic")]
pub async fn freeze_report(
    state: web::Data<AppState>,
    principal: Principal,
    meta: crate::auth::RequestMeta,
    body: web::Json<FreezeRequest>,
) -> Result<HttpResponse, AppError> {
    principal.require(&[Role::AgencyAdmin, Role::SystemAdmin])?;
    let body = body.into_inner();
    let period = domain::report::parse_period(parse_template(&body.template)?, &body.period)?;
    let group_by = report_group(body.group_by.as_deref())?;
    let shared = state.get_ref().clone();
    let view = crate::db::write(&state.pool, move |conn| {
        let agency = scope_agency(conn, &principal, body.agency_id.as_deref())?;
        let row = reports::freeze(conn, &shared, &period, agency.as_ref(), group_by, "manual", Some(principal.user_id.clone()))?
            .ok_or_else(|| AppError::internal("a manual snapshot cannot conflict"))?;
        crate::auditing::record(
            conn,
            &meta,
            crate::auditing::Change::<(), _> {
                actor_id: Some(&principal.user_id),
                action: "report.freeze",
                entity_type: "report_snapshot",
                entity_id: &row.id,
                before: None,
                after: Some(&row.content),
            },
        )?;
        snapshot_view(&row, true)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

fn snapshot_in_scope(conn: &mut AnyConnection, principal: &Principal, row: &SnapshotRow) -> Result<(), AppError> {
    principal.require(&[Role::Officer, Role::AgencyAdmin, Role::Supervisor, Role::SystemAdmin])?;
    if matches!(principal.role, Role::Supervisor | Role::SystemAdmin) {
        return Ok(());
    }
    let agency = if row.scope.is_empty() { None } else { agencies::find(conn, &row.scope)? };
    match agency {
        Some(a) if principal.covers_path(&a.path) => Ok(()),
        _ => Err(AppError::not_found()),
    }
}

/// A frozen report (staff in scope, supervisors): JSON, or its report as CSV or PDF.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Snapshot id"), crate::http::FormatQuery),
    responses(
        (status = 200, description = "The snapshot", content(
            (SnapshotView = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/pdf"),
        )),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown snapshot, or outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/{id}")]
pub async fn get_report(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<String>,
    query: web::Query<crate::http::FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let format = query.into_inner().format;
    check_format(format.as_deref())?;
    let view = crate::db::run(&state.pool, move |conn| {
        let row = repo::find(conn, &id)?.ok_or_else(AppError::not_found)?;
        snapshot_in_scope(conn, &principal, &row)?;
        snapshot_view(&row, true)
    })
    .await?;
    let body = serde_json::to_value(&view).map_err(AppError::internal)?;
    let report = view.report.ok_or_else(|| AppError::internal("snapshot without its report"))?;
    respond_report(&req, format.as_deref(), body, report, state.config.place_name.clone())
}

/// Filters of the snapshot list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnapshotListQuery {
    /// `06`, `weekly` or `monthly`.
    pub template: Option<String>,
    /// As in `/reports/periodic`.
    pub period: Option<String>,
}

/// Frozen reports, newest first (staff see those of their subtree; supervisors all).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(SnapshotListQuery, crate::pagination::PageQuery),
    responses(
        (status = 200, description = "Snapshots without their numbers", body = crate::pagination::Paged<SnapshotView>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad template or limit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports")]
pub async fn list_reports(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<SnapshotListQuery>,
    page: web::Query<crate::pagination::PageQuery>,
) -> Result<web::Json<crate::pagination::Paged<SnapshotView>>, AppError> {
    principal.require(&[Role::Officer, Role::AgencyAdmin, Role::Supervisor, Role::SystemAdmin])?;
    let query = query.into_inner();
    if let Some(t) = &query.template {
        parse_template(t)?;
    }
    let (limit, after) = page.resolve()?;
    let page = crate::db::run(&state.pool, move |conn| {
        let scopes = match (principal.role, principal.agency_path.as_deref()) {
            (Role::Supervisor | Role::SystemAdmin, _) => None,
            (_, Some(path)) => Some(agencies::ids_under(conn, path)?),
            (_, None) => Some(Vec::new()),
        };
        let rows = repo::list(conn, query.template.as_deref(), query.period.as_deref(), scopes.as_deref(), after.as_deref(), limit + 1)?;
        let page = persistence::repo::Page::from_overfetch(rows, limit, |r| r.id.clone());
        let items = page.items.iter().map(|r| snapshot_view(r, false)).collect::<Result<_, _>>()?;
        Ok(crate::pagination::Paged { items, next_cursor: page.next_after.as_deref().map(crate::pagination::encode_cursor) })
    })
    .await?;
    Ok(web::Json(page))
}

/// The year of the public counters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicStatisticsQuery {
    /// Default: the current year (up to today).
    pub year: Option<i32>,
}

/// Province-wide counters for the portal's statistics page (Art. 5.2.h).
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicStatisticsView {
    pub year: i32,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Received in the year (carried over from the year before included).
    pub received: i64,
    /// Received online in the year.
    pub received_online: i64,
    /// Share of the year's intake that came online, 0–1.
    pub online_share: f64,
    pub resolved: i64,
    /// Resolved early or on time.
    pub resolved_on_time: i64,
    /// Share of the resolved cases resolved early or on time, 0–1.
    pub on_time_share: f64,
    pub pending: i64,
    pub pending_overdue: i64,
    /// Ratings given in the year by level.
    pub ratings: BTreeMap<String, i64>,
    /// Questions answered publicly (all time).
    pub published_feedback: i64,
}

/// Province-wide counters (no authentication; rate limited per address).
#[utoipa::path(
    tag = "public",
    security(()),
    params(PublicStatisticsQuery),
    responses(
        (status = 200, description = "The counters", body = PublicStatisticsView),
        (status = 422, description = "Bad year", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/public/statistics")]
pub async fn public_statistics(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<PublicStatisticsQuery>,
) -> Result<web::Json<PublicStatisticsView>, AppError> {
    let client = crate::auth::principal::client_addr(&req, state.config.trust_proxy);
    state.limit("public", &client, state.config.lookup_rate_per_minute, std::time::Duration::from_secs(60)).await?;
    let today = state.clock.now().with_timezone(&domain::time::VN).date_naive();
    let year = query.year.unwrap_or(chrono::Datelike::year(&today));
    let from = NaiveDate::from_ymd_opt(year, 1, 1)
        .filter(|d| *d <= today && year >= 2000)
        .ok_or_else(|| AppError::invalid("year", "must be a past or the current year"))?;
    let to = NaiveDate::from_ymd_opt(year, 12, 31).map_or(today, |end| end.min(today));
    let view = crate::db::run(&state.pool, move |conn| {
        let sums = stats::window_sums(conn, None, Group::Total, from, to)?;
        let row = domain::stats::row_from_sums(&sums.values().copied().next().unwrap_or_default());
        let (start, end) = domain::time::local_days(from, to)?;
        let ratings = persistence::repo::cases::rating_counts(conn, None, start.naive_utc(), end.naive_utc())?.into_iter().collect();
        let published_feedback = persistence::repo::feedback::published_count(conn)?;
        #[expect(clippy::cast_precision_loss, reason = "shares for display")]
        let share = |part: i64, whole: i64| if whole == 0 { 0.0 } else { part as f64 / whole as f64 };
        let intake = row.received_online + row.received_direct_postal;
        Ok(PublicStatisticsView {
            year,
            from,
            to,
            received: row.received_total,
            received_online: row.received_online,
            online_share: share(row.received_online, intake),
            resolved: row.resolved_total,
            resolved_on_time: row.resolved_early + row.resolved_on_time,
            on_time_share: share(row.resolved_early + row.resolved_on_time, row.resolved_total),
            pending: row.pending_total,
            pending_overdue: row.pending_overdue,
            ratings,
            published_feedback,
        })
    })
    .await?;
    Ok(web::Json(view))
}

crate::views::mirror!(enum GroupBy, stored::GroupBy { Agency, Field, Procedure, Channel, Day });
crate::views::mirror!(ReceivedCounts, stored::ReceivedCounts { total, online, direct_postal, carried_over });
crate::views::mirror!(ResolvedCounts, stored::ResolvedCounts { total, early, on_time, late });
crate::views::mirror!(PendingCounts, stored::PendingCounts { total, within, overdue });
crate::views::mirror!(
    StatisticsRow,
    stored::StatisticsRow { key, label, received, resolved, pending, withdrawn, refused, supplement_requested }
);
crate::views::mirror!(StatisticsView, stored::Statistics { from, to, agency_id, agency_name, group_by, total } lists { rows });
crate::views::mirror!(ReportView, stored::Report { template, title, period, period_label, generated_at, statistics });
