//! The `motcua` command: `serve` (default), `migrate`, `create-admin`, `seed --demo`,
//! `openapi`, `backup <file>`, `restore <file>`, `move-files` (local files into the object store). Every command reads the same environment.

use std::net::TcpListener;
use std::path::Path;
use std::process::ExitCode;

use api::config::{Config, redact_url};

const USAGE: &str = "usage: motcua [serve | migrate | create-admin [username] | seed --demo | seed --cases N [--agencies 200] [--years 3] | sync-catalog | openapi | backup <file> | restore <file> | move-files]";

fn main() -> ExitCode {
    api::logging::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map_or("serve", String::as_str);
    if matches!(command, "-h" | "--help" | "help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if command == "openapi" {
        print!("{}", api::openapi_yaml());
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let result =
        match (command, args.get(1).map(String::as_str)) {
            ("serve", None) => serve(config),
            ("migrate", None) => persistence::build_pool(&config.database_url, 1, true)
                .map(|_| log::info!("migrations applied to {}", redact_url(&config.database_url)))
                .map_err(|e| e.to_string()),
            ("create-admin", name) => create_admin(&config, name),
            ("seed", Some("--demo")) => seed(&config),
            ("seed", Some("--cases")) => seed_cases(&config, &args[2..]),
            ("sync-catalog", None) => sync_catalog(config),
            ("backup", Some(file)) => api::backup::backup(&config.database_url, &config.files_dir(), Path::new(file))
                .map(|()| log::info!("backup written to {file}")),
            ("move-files", None) => move_files(&config),
            ("restore", Some(file)) => api::backup::restore(&config.database_url, &config.files_dir(), Path::new(file))
                .map(|()| log::info!("restored from {file}")),
            _ => Err(USAGE.to_owned()),
        };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    log::error!("{message}");
    eprintln!("motcua: {message}");
    ExitCode::FAILURE
}

fn serve(config: Config) -> Result<(), String> {
    log::info!("database {} (data directory {})", redact_url(&config.database_url), config.data_dir.display());
    let listener = TcpListener::bind(&config.bind).map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let bind = config.bind.clone();
    let state = api::server::prepare(config).map_err(|e| e.to_string())?;
    actix_web::rt::System::new().block_on(async move {
        let started = api::server::start(state, listener).map_err(|e| e.to_string())?;
        log::info!("serving on http://{bind} (Swagger UI at /docs/)");
        let served = started.server.await.map_err(|e| e.to_string());
        let mut workers = started.workers;
        workers.stop();
        served
    })?;
    log::info!("stopped");
    Ok(())
}

fn create_admin(config: &Config, name: Option<&str>) -> Result<(), String> {
    let pool = persistence::build_pool(&config.database_url, 1, true).map_err(|e| e.to_string())?;
    let username = name.unwrap_or(&config.admin_username);
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.clone(), false),
        None => (format!("{}-9", api::auth::jwt::random_token(15)), true),
    };
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    api::bootstrap::create_user(&mut conn, username, &password, "Quản trị hệ thống", domain::Role::SystemAdmin, None, &[])
        .map_err(|e| e.to_string())?;
    if generated {
        println!("created system administrator `{username}` with password: {password}");
    } else {
        println!("created system administrator `{username}`");
    }
    Ok(())
}

/// Copies the local file store into the configured object store.
fn move_files(config: &api::config::Config) -> Result<(), String> {
    let Some(bucket) = &config.object_store else { return Err("MOTCUA_S3_ENDPOINT is not set: nothing to move the files to".to_owned()) };
    let store = api::files::FileStore::object(bucket).map_err(|e| e.to_string())?;
    let moved = api::backup::move_files(&config.files_dir(), &store)?;
    log::info!("{moved} files copied from {} to {}", config.files_dir().display(), store.describe());
    Ok(())
}

fn seed(config: &Config) -> Result<(), String> {
    let state = api::server::prepare(config.clone()).map_err(|e| e.to_string())?;
    let password = std::env::var("MOTCUA_DEMO_PASSWORD").unwrap_or_else(|_| "motcua-demo-2026".to_owned());
    let report = api::bootstrap::seed_demo(&state.pool, &password).map_err(|e| e.to_string())?;
    for line in &report {
        log::info!("seeded {line}");
    }
    log::info!("demo data ready: {} new rows; demo accounts use password `{password}`", report.len());
    Ok(())
}

fn seed_cases(config: &Config, args: &[String]) -> Result<(), String> {
    let number = |flag: &str, default: u64| -> Result<u64, String> {
        match args.iter().position(|a| a == flag) {
            Some(i) => args.get(i + 1).and_then(|v| v.replace('_', "").parse().ok()).ok_or_else(|| format!("{flag} needs a number")),
            None => Ok(default),
        }
    };
    let cases = args.first().and_then(|v| v.replace('_', "").parse().ok()).ok_or("seed --cases needs a number of cases")?;
    let plan = api::seed::SeedPlan {
        cases,
        agencies: u32::try_from(number("--agencies", 200)?).map_err(|e| e.to_string())?.clamp(1, 9_999),
        years: u32::try_from(number("--years", 3)?).map_err(|e| e.to_string())?.clamp(1, 30),
        sequence_width: config.case_sequence_width,
    };
    let state = api::server::prepare(config.clone()).map_err(|e| e.to_string())?;
    let password = std::env::var("MOTCUA_DEMO_PASSWORD").unwrap_or_else(|_| "motcua-demo-2026".to_owned());
    let started = std::time::Instant::now();
    let step = (plan.cases / 10).max(1);
    let written = api::seed::seed_cases(&state.pool, plan, &password, |n| {
        if n % step < 8_000 || n == plan.cases {
            log::info!("seeded {n} cases ({:.0} s)", started.elapsed().as_secs_f64());
        }
    })
    .map_err(|e| e.to_string())?;
    log::info!("{written} cases over {} agencies and {} years in {:.0} s", plan.agencies, plan.years, started.elapsed().as_secs_f64());
    Ok(())
}

fn sync_catalog(config: Config) -> Result<(), String> {
    let state = api::server::prepare(config).map_err(|e| e.to_string())?;
    actix_web::rt::System::new().block_on(async move {
        let pool = state.pool.clone();
        let job = actix_web::web::block(move || {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            persistence::repo::jobs::create(&mut conn, "national_catalog_sync", None).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??;
        let meta = api::auth::RequestMeta { request_id: Some(format!("cli-{}", job.id)), reason: Some("motcua sync-catalog".into()) };
        let job = api::app::jobs::catalog_sync::run(state, job, meta).await;
        println!(
            "{}: {} created, {} updated, {} unchanged, {} failed of {}",
            job.status, job.created, job.updated, job.unchanged, job.failed, job.total
        );
        match job.error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    })
}
