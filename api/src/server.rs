//! Assembling the application (one place registers every route, for the router and the
//! OpenAPI document alike), preparing the state, and running the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, QueryPayloadError, UrlencodedError};
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, web};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::jwt::{JwtKeys, load_secret};
use crate::config::Config;
use crate::error::{AppError, Code};
use crate::metrics::Metrics;
use crate::middleware::{idempotency, observe};
use crate::openapi::ApiDoc;
use crate::ratelimit::RateLimiter;
use crate::routes::{
    agencies, audit, auth, calendar, cases, evaluations, faqs, feedback, forms, health, integrations, procedures, reports, sso, statistics,
    templates, users,
};
use crate::state::AppState;

/// The OpenAPI document, serialised once.
struct OpenApiJson(String);

/// `GET /api/v1/openapi.json`: the same document as the committed `openapi.yaml`, in JSON.
async fn openapi_json(spec: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(spec.0.clone())
}

/// Route templates and their methods, for telling 404 from 405.
struct RouteTable(Vec<(Vec<String>, Vec<String>)>);

impl RouteTable {
    fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let mut routes = Vec::new();
        for (path, item) in &api.paths.paths {
            let segments = path.split('/').map(str::to_owned).collect();
            let value = serde_json::to_value(item).unwrap_or_default();
            let methods = value
                .as_object()
                .map(|o| {
                    o.keys()
                        .filter(|k| matches!(k.as_str(), "get" | "post" | "put" | "patch" | "delete"))
                        .map(|k| k.to_uppercase())
                        .collect()
                })
                .unwrap_or_default();
            routes.push((segments, methods));
        }
        RouteTable(routes)
    }

    fn allowed(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut methods: Vec<String> = Vec::new();
        for (template, route_methods) in &self.0 {
            let matches =
                template.len() == parts.len() && template.iter().zip(&parts).all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p);
            if matches {
                methods.extend(route_methods.iter().cloned());
            }
        }
        methods.sort();
        methods.dedup();
        (!methods.is_empty()).then(|| methods.join(", "))
    }
}

async fn fallback(req: HttpRequest, table: web::Data<RouteTable>) -> Result<HttpResponse, AppError> {
    match table.allowed(req.path()) {
        Some(allow) => {
            let mut error = AppError::new(Code::MethodNotAllowed);
            error.allow = Some(allow);
            Err(error)
        }
        None => Err(AppError::not_found()),
    }
}

/// `GET /api/v1/lookup/cases/{code}` ([`cases::lookup_case`], documented there): the code is the
/// one segment after the scope's prefix; anything else is the fallback's 404 or 405.
async fn lookup_entry(state: web::Data<AppState>, req: HttpRequest, table: web::Data<RouteTable>) -> Result<HttpResponse, AppError> {
    let code = req.match_info().unprocessed().strip_prefix('/').filter(|code| !code.is_empty() && !code.contains('/')).map(str::to_owned);
    match code {
        Some(code) if req.method() == actix_web::http::Method::GET => cases::lookup_case(state, req, code).await,
        _ => fallback(req, table).await,
    }
}

fn json_error(error: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let api = match &error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => AppError::new(Code::PayloadTooLarge),
        JsonPayloadError::ContentType => AppError::new(Code::UnsupportedMediaType)
            .with_detail("Nội dung phải có Content-Type: application/json.", "The body must be sent as Content-Type: application/json."),
        JsonPayloadError::Deserialize(e) if e.is_data() => body_field_error(e),
        JsonPayloadError::Deserialize(_) => {
            AppError::new(Code::MalformedRequest).with_detail("Nội dung không phải JSON hợp lệ.", "The body is not valid JSON.")
        }
        _ => AppError::new(Code::MalformedRequest),
    };
    api.into()
}

/// Names the field of a serde data error (`missing field `x``, `unknown variant`, wrong type).
fn body_field_error(error: &serde_json::Error) -> AppError {
    let message = error.to_string();
    let reason = message.split(" at line ").next().unwrap_or(&message).to_owned();
    let name =
        reason.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()).map_or_else(|| "body".to_owned(), str::to_owned);
    AppError::invalid(name, reason)
}

fn query_error(error: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let message = error.to_string();
    let reason = message.strip_prefix("Query deserialize error: ").unwrap_or(&message).to_owned();
    AppError::invalid("query", reason).into()
}

fn form_error(error: UrlencodedError, _: &HttpRequest) -> actix_web::Error {
    let api = match error {
        UrlencodedError::Overflow { .. } => AppError::new(Code::PayloadTooLarge),
        UrlencodedError::ContentType => AppError::new(Code::UnsupportedMediaType)
            .with_detail("Nội dung phải là application/x-www-form-urlencoded.", "The body must be application/x-www-form-urlencoded."),
        UrlencodedError::Parse(_) => AppError::invalid("body", error.to_string()),
        _ => AppError::new(Code::MalformedRequest),
    };
    api.into()
}

fn multipart_error(error: actix_multipart::MultipartError, _: &HttpRequest) -> actix_web::Error {
    use actix_multipart::MultipartError as M;
    let api = match &error {
        M::ContentTypeMissing | M::ContentTypeParse | M::ContentTypeIncompatible => AppError::new(Code::UnsupportedMediaType)
            .with_detail("Nội dung phải là multipart/form-data.", "The body must be multipart/form-data."),
        M::Payload(actix_web::error::PayloadError::Overflow) => AppError::new(Code::PayloadTooLarge),
        M::Field { source, .. } if source.as_response_error().status_code().as_u16() == 413 => AppError::new(Code::PayloadTooLarge),
        M::MissingField(name) | M::DuplicateField(name) | M::UnknownField(name) => AppError::invalid(name.clone(), error.to_string()),
        _ => AppError::new(Code::MalformedRequest).with_detail("Dữ liệu multipart không hợp lệ.", "The multipart body is malformed."),
    };
    api.into()
}

fn path_error(error: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    AppError::invalid("path", error.to_string()).into()
}

fn cors(config: &Config) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "accept",
            "accept-language",
            "idempotency-key",
            "if-match",
            "if-none-match",
            "x-audit-reason",
            "x-request-id",
        ])
        .expose_headers(["etag", "location", "retry-after", "x-request-id", "idempotent-replayed"])
        .max_age(3600);
    for origin in &config.cors_origins {
        cors = if origin == "*" { cors.allow_any_origin() } else { cors.allowed_origin(origin) };
    }
    cors
}

/// The application, and the OpenAPI document built from the same registrations. `state` is
/// `None` only to produce the document.
pub fn build_app(
    state: Option<web::Data<AppState>>,
) -> (
    App<
        impl ServiceFactory<ServiceRequest, Config = (), Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error, InitError = ()>,
    >,
    utoipa::openapi::OpenApi,
) {
    let json_limit = state.as_ref().map_or(1024 * 1024, |s| s.config.json_limit);
    let upload_limit = state.as_ref().map_or(20 * 1024 * 1024, |s| s.config.upload_limit);
    let cors_config = state.as_ref().map(|s| cors(&s.config));
    let enable_cors = state.as_ref().is_some_and(|s| !s.config.cors_origins.is_empty());
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(health::live)
        .service(health::ready)
        .service(health::metrics)
        .service(
            scope::scope("/api/v1")
                .map(|scope| scope.route("/openapi.json", web::get().to(openapi_json)))
                // The public lookup, matched by its fixed prefix (see `lookup_entry`).
                .map(|scope| scope.service(web::scope("/lookup/cases").default_service(web::to(lookup_entry))))
                .service(auth::login)
                .service(sso::authorize)
                .service(sso::callback)
                .service(auth::refresh_session)
                .service(auth::logout)
                .service(auth::register)
                .service(auth::client_credentials)
                .service(auth::get_me)
                .service(users::list_users)
                .service(users::create_user)
                .service(users::get_user)
                .service(users::update_user)
                .service(users::disable_user)
                .service(users::enable_user)
                .service(users::role_ledger)
                .service(agencies::list_agencies)
                .service(agencies::create_agency)
                .service(agencies::get_agency)
                .service(agencies::update_agency)
                .service(procedures::list_procedures)
                .service(procedures::create_procedure)
                .service(procedures::get_procedure)
                .service(procedures::update_procedure)
                .service(procedures::list_procedure_versions)
                .service(procedures::publication_action)
                .service(procedures::get_workflow)
                .service(procedures::put_workflow)
                .service(templates::upload_template)
                .service(templates::list_templates)
                .service(templates::download_template)
                .service(faqs::list_faqs)
                .service(faqs::create_faq)
                .service(faqs::update_faq)
                .service(cases::create_case)
                .service(cases::list_cases)
                .service(cases::list_my_cases)
                .service(cases::get_case)
                .service(cases::case_action)
                .service(cases::list_case_events)
                .service(cases::rate_case)
                .service(cases::upload_case_document)
                .service(cases::list_case_documents)
                .service(cases::download_case_document)
                .service(forms::get_case_form)
                .service(forms::get_case_register)
                .service(forms::get_case_evaluation)
                .service(statistics::satisfaction_statistics)
                .service(reports::case_statistics)
                .service(reports::public_statistics)
                .service(evaluations::agency_evaluations)
                .service(evaluations::put_manual_scores)
                .service(feedback::submit_feedback)
                .service(feedback::list_feedback)
                .service(feedback::list_my_feedback)
                .service(feedback::get_feedback)
                .service(feedback::feedback_action)
                .service(feedback::react_to_feedback)
                .service(feedback::upload_feedback_document)
                .service(feedback::download_feedback_document)
                .service(feedback::public_feedback)
                .service(feedback::public_feedback_item)
                .service(reports::periodic_report)
                .service(reports::freeze_report)
                .service(reports::list_reports)
                .service(reports::get_report)
                .service(calendar::list_calendar_days)
                .service(calendar::put_calendar_day)
                .service(calendar::delete_calendar_day)
                .service(calendar::compute_due_date)
                .service(integrations::start_catalog_sync)
                .service(integrations::get_job)
                .service(integrations::list_outbox)
                .service(integrations::get_outbox_message)
                .service(integrations::retry_outbox_message)
                .service(integrations::inbound_message)
                .service(integrations::reconciliation)
                .service(audit::list_audit)
                .service(audit::verify_audit),
        )
        .split_for_parts();
    let mut api = api;
    crate::openapi::share_problem_responses(&mut api);
    let routes = web::Data::new(RouteTable::from_openapi(&api));
    let spec = web::Data::new(OpenApiJson(api.to_json().unwrap_or_default()));
    let mut app = app
        .app_data(web::JsonConfig::default().limit(json_limit).error_handler(json_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::FormConfig::default().limit(64 * 1024).error_handler(form_error))
        .app_data(web::PayloadConfig::new(json_limit.max(upload_limit + 64 * 1024)))
        .app_data(
            actix_multipart::form::MultipartFormConfig::default()
                .total_limit(upload_limit + 64 * 1024)
                .memory_limit(upload_limit + 64 * 1024)
                .error_handler(multipart_error),
        )
        .app_data(routes)
        .app_data(spec);
    if let Some(state) = state {
        app = app.app_data(state);
    }
    let app = app
        .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::new(["/api/v1/openapi.json"])))
        .default_service(web::to(fallback))
        .wrap(Condition::new(enable_cors, cors_config.unwrap_or_default()))
        .wrap(from_fn(idempotency))
        .wrap(from_fn(crate::input::clean_input))
        .wrap(from_fn(observe));
    (app, api)
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    build_app(None).1
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] persistence::db::PoolError),
    /// A file in the data directory could not be read or written.
    #[error("data directory: {0}")]
    Io(#[from] std::io::Error),
    /// The first administrator could not be created.
    #[error("bootstrap: {0}")]
    Bootstrap(String),
}

/// Opens the database (applying migrations), loads the signing key and makes sure a system
/// administrator exists.
///
/// # Errors
/// See [`StartError`].
pub fn prepare(config: Config) -> Result<AppState, StartError> {
    let pool = persistence::build_pool(&config.database_url, config.db_pool_size, true)?;
    if !config.stats_incremental {
        log::warn!("MOTCUA_STATS_INCREMENTAL=false: statistics are stale until a restart with it on");
        let mut conn = pool.get().map_err(|e| StartError::Io(std::io::Error::other(e.to_string())))?;
        persistence::repo::stats::set_incremental(&mut conn, false).map_err(|e| StartError::Io(std::io::Error::other(e.to_string())))?;
    }
    let backend = persistence::Backend::detect(&config.database_url).0;
    let writer = match backend {
        persistence::Backend::Sqlite => Some(persistence::build_writer_pool(&config.database_url)?),
        persistence::Backend::Postgres => None,
    };
    let secret = load_secret(config.jwt_secret.as_deref(), &config.data_dir)?;
    if backend == persistence::Backend::Postgres && config.jwt_secret.is_none() {
        log::warn!("JWT_SECRET is unset: several instances on one PostgreSQL need the same JWT_SECRET");
    }
    crate::bootstrap::ensure_admin(&pool, &config).map_err(StartError::Bootstrap)?;
    let names = Arc::new(crate::names::Names::default());
    let lookup_batch = if backend == persistence::Backend::Postgres {
        Some(Arc::new(crate::lookup_batch::LookupBatcher::start(pool.clone(), names.clone()).map_err(StartError::Io)?))
    } else {
        None
    };
    let deliverers = crate::app::outbox::Deliverers::from_config(&config).map_err(|e| StartError::Io(std::io::Error::other(e)))?;
    let sso = match &config.oidc {
        Some(oidc) => Some(Arc::new(
            ::integrations::oidc::OidcClient::new(oidc.clone()).map_err(|e| StartError::Io(std::io::Error::other(e.to_string())))?,
        )),
        None => None,
    };
    Ok(AppState {
        sso,
        deliverers,
        lookup_batch,
        pool: crate::db::DbPool::new(pool, writer, config.sqlite_write_batch).map_err(StartError::Io)?,
        backend,
        keys: Arc::new(JwtKeys::new(&secret)),
        metrics: Arc::new(Metrics::default()),
        limiter: Arc::new(match backend {
            persistence::Backend::Postgres => RateLimiter::Shared,
            persistence::Backend::Sqlite => RateLimiter::default(),
        }),
        holidays: Arc::new(domain::calendar::DefaultHolidays::new(config.holiday_rules.clone())),
        background: Arc::default(),
        files: match &config.object_store {
            Some(bucket) => crate::files::FileStore::object(bucket).map_err(StartError::Io)?,
            None => crate::files::FileStore::local(config.files_dir()),
        },
        names,
        lookups: Arc::new(crate::lookup_cache::LookupCache::new(config.lookup_cache_ttl)),
        config: Arc::new(config),
        clock: Arc::new(crate::app::clock::SystemClock),
    })
}

/// A started server and its background threads.
pub struct Started {
    /// The HTTP server; await it to serve until stopped.
    pub server: actix_web::dev::Server,
    /// The background threads; stop them (or drop them) once the server has stopped.
    pub workers: crate::background::Workers,
}

/// Starts serving on `listener` and starts the background threads. The returned server stops
/// gracefully on SIGINT/SIGTERM (finishing requests in flight for up to 30 s) or through its
/// handle.
///
/// # Errors
/// When the listener cannot be used or a thread cannot be started.
pub fn start(state: AppState, listener: TcpListener) -> std::io::Result<Started> {
    let workers = state.config.workers.max(1);
    let data = web::Data::new(state);
    let mut background = crate::background::Workers::new(data.background.clone());
    // Housekeeping: forget idempotency keys older than 24 hours, and sent outbox messages past
    // their retention (in slices, so that no transaction holds the writer for long).
    let (pool, retention, clock) = (data.pool.clone(), data.config.outbox.retention, data.clock.clone());
    background.every("motcua-housekeeping", std::time::Duration::from_secs(3600), move || {
        let now = crate::app::clock::stored(clock.now());
        let cutoff = now - chrono::TimeDelta::hours(24);
        match pool.background(|conn| persistence::repo::idempotency::purge(conn, cutoff)) {
            Some(Ok(n)) if n > 0 => log::info!("purged {n} expired idempotency keys"),
            Some(Err(e)) => log::warn!("idempotency purge failed: {e}"),
            _ => {}
        }
        // Counters and login failures of finished windows (none lasts a day).
        let limits = pool.background(|conn| {
            Ok::<_, persistence::RepoError>(
                persistence::repo::limits::purge_hits(conn, cutoff)? + persistence::repo::limits::purge_failures(conn, cutoff)?,
            )
        });
        if let Some(Err(e)) = limits {
            log::warn!("limit counters purge failed: {e}");
        }
        if let Some(keep) = retention {
            let before = now - keep;
            loop {
                match pool.background(|conn| persistence::repo::outbox::purge_sent(conn, before, 5000)) {
                    Some(Ok(n)) => {
                        if n > 0 {
                            log::info!("purged {n} sent outbox messages");
                        }
                        if n < 5000 {
                            break;
                        }
                    }
                    Some(Err(e)) => {
                        log::warn!("outbox purge failed: {e}");
                        break;
                    }
                    None => break,
                }
            }
        }
    })?;
    // The SQLite checkpointer: copies the WAL back into the database file beside the writer,
    // rather than inside a commit that then waits for the copy and its fsyncs.
    if data.backend == persistence::Backend::Sqlite {
        let pool = data.pool.clone();
        background.every("motcua-checkpoint", data.config.sqlite_checkpoint_interval, move || {
            if let Err(e) =
                pool.get().map_err(|e| e.to_string()).and_then(|mut c| persistence::db::checkpoint(&mut c).map_err(|e| e.to_string()))
            {
                log::warn!("SQLite checkpoint failed: {e}");
            }
        })?;
    }
    // The audit chainer: links entries committed by any instance into the one hash chain.
    let pool = data.pool.clone();
    background.every("motcua-audit-chainer", data.config.audit_chain_interval, move || {
        if let Some(Err(e)) = pool.background(persistence::repo::audit::chain_all) {
            log::warn!("audit chaining failed: {e}");
        }
    })?;
    // The statistics folder: moves the counters' pending changes into their sums.
    let pool = data.pool.clone();
    background.every("motcua-stats", data.config.stats_fold_interval, move || {
        if let Some(Err(e)) = pool.background(persistence::repo::stats::fold_all) {
            log::warn!("folding the statistics counters failed: {e}");
        }
    })?;
    // The report scheduler: freezes each due period once, whatever the number of instances
    // (a unique index decides who wins).
    if let Some(interval) = data.config.report_schedule_interval {
        let state = data.clone();
        background.every("motcua-reports", interval, move || {
            if let Some(Err(e)) = state.pool.background(|conn| crate::app::reports::run_schedule(conn, &state, state.clock.now())) {
                log::warn!("report scheduling failed: {e}");
            }
        })?;
    }
    // The outbox dispatcher: delivers messages to the configured national systems and gateways.
    crate::app::outbox::start(&mut background, data.clone().into_inner())?;
    // The reconciliation job: where the national portal's view of recent cases differs from ours.
    crate::app::jobs::reconcile::start(&mut background, data.clone().into_inner())?;
    // Feedback the national PAKN system assigns to the province.
    crate::app::jobs::pakn_pull::start(&mut background, data.clone().into_inner())?;
    // Database work is gated to the pool size (`db::DbPool`), so more blocking threads per
    // worker than connections would only hold memory (stacks and allocator arenas).
    let blocking = usize::try_from(data.config.db_pool_size).unwrap_or(16).max(4);
    let request_timeout = data.config.request_timeout;
    let server = actix_web::HttpServer::new(move || build_app(Some(data.clone())).0)
        .workers(workers)
        .worker_max_blocking_threads(blocking)
        .shutdown_timeout(30)
        .client_request_timeout(request_timeout)
        .listen(listener)?
        .run();
    Ok(Started { server, workers: background })
}
