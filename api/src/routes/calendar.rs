//! The working calendar (api.md §3.4): the year's days off and swapped working days, their
//! maintenance by system administrators, and due-date computation.

use actix_web::{HttpRequest, HttpResponse, delete, get, put, web};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use domain::Role;
use domain::calendar::{DayKind, DayStatus, DurationUnit, ProcessingTime};
use persistence::repo::calendar::{self as repo, CalendarDayRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auditing::{self, Change};
use crate::auth::{Principal, RequestMeta};
use crate::error::{AppError, Problem};
use crate::i18n::Lang;
use crate::state::AppState;

/// A day off or a swapped working day.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarDayView {
    #[schema(value_type = String, format = Date, example = "2026-09-02")]
    pub date: NaiveDate,
    /// `holiday`, `compensatory_off` or `compensatory_workday`.
    pub kind: String,
    /// The kind's label in the caller's language.
    pub kind_label: String,
    /// What the day is, e.g. `Quốc khánh`.
    pub name: String,
    /// `default` (generated from the Labour Code) or `override` (the administrator's table).
    pub source: String,
}

/// The entries of one year.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarYearView {
    pub year: i32,
    /// In date order; ordinary weekends are not listed.
    pub items: Vec<CalendarDayView>,
}

/// The year to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// 1900–2200.
    #[param(minimum = 1900, maximum = 2200)]
    pub year: i32,
}

/// An override.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PutCalendarDayRequest {
    /// `holiday`, `compensatory_off` or `compensatory_workday`.
    pub kind: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, example = "Nghỉ bù Quốc khánh")]
    pub name: String,
}

/// The inputs of a due-date computation.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueDateQuery {
    /// The receipt instant, RFC 3339 (e.g. `2026-11-02T09:10:00+07:00`).
    pub start: DateTime<FixedOffset>,
    /// The processing time in `unit`s.
    #[param(minimum = 0, maximum = 20800)]
    pub duration: i64,
    /// `working_day`, `calendar_day` or `working_hour`.
    pub unit: String,
    /// The procedure's receipt cut-off time, `HH:MM`; receipts at or after it count from the
    /// next working day.
    pub cutoff: Option<String>,
}

/// A day the deadline skipped.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedDayView {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// `weekend`, `holiday`, `compensatory_off`.
    pub kind: String,
    /// Why, in the caller's language (e.g. `Thứ Bảy, Chủ nhật` or the holiday's name).
    pub reason: String,
}

/// A deadline and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueDateView {
    /// When the time started to run: the receipt moved into working hours.
    pub start_at: DateTime<FixedOffset>,
    /// The deadline (Asia/Ho_Chi_Minh).
    pub due_at: DateTime<FixedOffset>,
    pub skipped_days: Vec<SkippedDayView>,
}

impl CalendarDayView {
    fn new(date: NaiveDate, kind: DayKind, name: String, is_override: bool, lang: Lang) -> Self {
        CalendarDayView {
            date,
            kind: kind.as_str().to_owned(),
            kind_label: lang.pick(kind.label()).to_owned(),
            name,
            source: if is_override { "override" } else { "default" }.to_owned(),
        }
    }
}

fn year_in_range(year: i32) -> Result<(), AppError> {
    if (1900..=2200).contains(&year) { Ok(()) } else { Err(AppError::invalid("year", "must be between 1900 and 2200")) }
}

fn parse_date(text: &str) -> Result<NaiveDate, AppError> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| AppError::invalid("date", "must be a date YYYY-MM-DD"))?;
    year_in_range(chrono::Datelike::year(&date)).map_err(|_| AppError::invalid("date", "must lie between 1900 and 2200"))?;
    Ok(date)
}

/// The year's days off and swapped working days.
#[utoipa::path(
    tag = "calendar",
    security(()),
    params(YearQuery),
    responses(
        (status = 200, description = "The year", body = CalendarYearView),
        (status = 422, description = "Invalid year", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/calendar/days")]
pub async fn list_calendar_days(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<YearQuery>,
) -> Result<web::Json<CalendarYearView>, AppError> {
    let year = query.year;
    year_in_range(year)?;
    let lang = Lang::of(&req);
    let shared = state.clone();
    let calendar = crate::db::run(&state.pool, move |conn| crate::app::calendar::load(conn, &shared)).await?;
    let items = calendar
        .days_of_year(year)
        .into_iter()
        .map(|(day, is_override)| CalendarDayView::new(day.date, day.kind, day.name, is_override, lang))
        .collect();
    Ok(web::Json(CalendarYearView { year, items }))
}

/// Set the override of a date (system administrators).
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    request_body = PutCalendarDayRequest,
    responses(
        (status = 200, description = "Stored", body = CalendarDayView),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid date, kind or name", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/calendar/days/{date}")]
pub async fn put_calendar_day(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    meta: RequestMeta,
    date: web::Path<String>,
    body: web::Json<PutCalendarDayRequest>,
) -> Result<web::Json<CalendarDayView>, AppError> {
    principal.require(&[Role::SystemAdmin])?;
    let date = parse_date(&date)?;
    body.validate()?;
    let kind = DayKind::parse(&body.kind, "kind")?;
    let row = CalendarDayRow {
        day: date,
        kind: kind.as_str().to_owned(),
        name: body.name.trim().to_owned(),
        updated_by: Some(principal.user_id.clone()),
        updated_at: state.now(),
    };
    let stored = row.clone();
    crate::db::write(&state.pool, move |conn| {
        let previous = repo::put(conn, &row)?;
        let entity_id = row.day.to_string();
        let state_of = |r: &CalendarDayRow| (r.kind.clone(), r.name.clone());
        auditing::record(
            conn,
            &meta,
            Change {
                actor_id: Some(&principal.user_id),
                action: "calendar.put",
                entity_type: "calendar_day",
                entity_id: &entity_id,
                before: previous.as_ref().map(state_of).as_ref(),
                after: Some(&state_of(&row)),
            },
        )
    })
    .await?;
    let lang = Lang::of(&req);
    Ok(web::Json(CalendarDayView::new(stored.day, kind, stored.name, true, lang)))
}

/// Remove the override of a date (system administrators); the generated default applies again.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No override on that date", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid date", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/calendar/days/{date}")]
pub async fn delete_calendar_day(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    date: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    principal.require(&[Role::SystemAdmin])?;
    let date = parse_date(&date)?;
    crate::db::write(&state.pool, move |conn| {
        let previous = repo::delete(conn, date)?.ok_or_else(AppError::not_found)?;
        let entity_id = date.to_string();
        auditing::record(
            conn,
            &meta,
            Change::<_, ()> {
                actor_id: Some(&principal.user_id),
                action: "calendar.delete",
                entity_type: "calendar_day",
                entity_id: &entity_id,
                before: Some(&(previous.kind, previous.name)),
                after: None,
            },
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Compute a deadline: the due instant and the days skipped on the way.
#[utoipa::path(
    tag = "calendar",
    security(()),
    params(DueDateQuery),
    responses(
        (status = 200, description = "The deadline", body = DueDateView),
        (status = 422, description = "Invalid start, duration, unit or cut-off", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/calendar/due-date")]
pub async fn compute_due_date(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<DueDateQuery>,
) -> Result<web::Json<DueDateView>, AppError> {
    let query = query.into_inner();
    let unit = DurationUnit::parse(&query.unit, "unit")?;
    let value = u32::try_from(query.duration).map_err(|_| AppError::invalid("duration", "must not be negative"))?;
    let time = ProcessingTime::new(value, unit).map_err(|e| AppError::invalid("duration", e.reason))?;
    let cutoff = query
        .cutoff
        .as_deref()
        .map(|c| NaiveTime::parse_from_str(c, "%H:%M").map_err(|_| AppError::invalid("cutoff", "must be a time HH:MM")))
        .transpose()?;
    year_in_range(chrono::Datelike::year(&query.start)).map_err(|_| AppError::invalid("start", "must lie between 1900 and 2200"))?;
    let start: DateTime<Utc> = query.start.with_timezone(&Utc);
    let shared = state.clone();
    let calendar = crate::db::run(&state.pool, move |conn| crate::app::calendar::load(conn, &shared)).await?;
    let due = calendar.due(start, time, cutoff)?;
    let lang = Lang::of(&req);
    let skipped_days = due
        .skipped_days
        .into_iter()
        .map(|s| {
            let (kind, reason) = match s.status {
                DayStatus::Entry(day) => (day.kind.as_str().to_owned(), day.name),
                _ => ("weekend".to_owned(), if lang == Lang::En { "Weekend" } else { "Ngày nghỉ cuối tuần" }.to_owned()),
            };
            SkippedDayView { date: s.date, kind, reason }
        })
        .collect();
    Ok(web::Json(DueDateView { start_at: due.start_at, due_at: due.due_at, skipped_days }))
}
