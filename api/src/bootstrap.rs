//! The first system administrator and the demo data of `motcua seed --demo`.

use domain::{AgencyLevel, Password, Role, Username};
use persistence::repo::{agencies, ledger, users};
use persistence::{AnyConnection, ConflictKind, Pool, RepoError};

use crate::auth::jwt::random_token;
use crate::auth::password;
use crate::config::Config;

/// Why a command-line account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// A name or password breaks the rules.
    #[error("invalid {0}")]
    Invalid(String),
    /// The database refused.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Creates the system administrator of the configuration when no system administrator exists.
/// A generated password is printed once to the log.
///
/// # Errors
/// A message when the database or the configured password is unusable.
pub fn ensure_admin(pool: &Pool, config: &Config) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    if users::any_system_admin(&mut conn).map_err(|e| e.to_string())? {
        return Ok(());
    }
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.clone(), false),
        None => (format!("{}-9", random_token(15)), true),
    };
    match create_user(&mut conn, &config.admin_username, &password, "Quản trị hệ thống", Role::SystemAdmin, None, &[]) {
        Ok(_) => {
            if generated {
                // Printed once, on purpose: the operator needs it for the first login.
                log::warn!("created system administrator `{}` with generated password: {password}", config.admin_username);
                log::warn!("log in and change it, or set MOTCUA_ADMIN_PASSWORD before the first start");
            } else {
                log::info!("created system administrator `{}` from MOTCUA_ADMIN_PASSWORD", config.admin_username);
            }
            Ok(())
        }
        // Another instance created it at the same moment.
        Err(BootstrapError::Repo(RepoError::Conflict(ConflictKind::DuplicateUsername))) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Creates an account with a validated name and password; records the grant in the ledger.
///
/// # Errors
/// Invalid name or password, and database errors.
pub fn create_user(
    conn: &mut AnyConnection,
    username: &str,
    password_text: &str,
    full_name: &str,
    role: Role,
    agency_id: Option<&str>,
    capabilities: &[&str],
) -> Result<users::UserRow, BootstrapError> {
    let invalid = |e: domain::ValidationError| BootstrapError::Invalid(format!("{}: {}", e.field, e.reason));
    let username = Username::parse(username).map_err(invalid)?;
    Password::parse(password_text, "password").map_err(invalid)?;
    let hash = password::hash(password_text).map_err(BootstrapError::Invalid)?;
    let row = persistence::write_tx(conn, |conn| {
        let row = users::insert(
            conn,
            users::NewUser {
                username: username.into_inner(),
                password_hash: hash,
                full_name: full_name.to_owned(),
                role: role.as_str().to_owned(),
                capabilities: capabilities.iter().map(|c| (*c).to_owned()).collect(),
                agency_id: agency_id.map(str::to_owned),
                id_number: None,
                phone: None,
                email: None,
            },
        )?;
        ledger::record(conn, agency_id, None, &row.id, "grant", &row.role, &row.capability_list(), Some("bootstrap"))?;
        persistence::repo::audit::append(
            conn,
            persistence::repo::audit::NewAuditEntry {
                action: "user.create".into(),
                entity_type: "user".into(),
                entity_id: row.id.clone(),
                after_digest: crate::auditing::digest_of(&crate::views::UserAuditState::of(&row)),
                reason: Some("command line".into()),
                ..Default::default()
            },
        )?;
        Ok::<_, RepoError>(row)
    })?;
    Ok(row)
}

/// The demo agency tree of Cao Bằng: code, name, level, parent code. Marked demo data: the
/// codes below the province are illustrative, not the official allocation.
const DEMO_AGENCIES: &[(&str, &str, AgencyLevel, Option<&str>)] = &[
    ("000.00.00.H14", "UBND tỉnh Cao Bằng", AgencyLevel::Province, None),
    ("000.00.01.H14", "Văn phòng UBND tỉnh Cao Bằng", AgencyLevel::Department, Some("000.00.00.H14")),
    ("000.00.02.H14", "Trung tâm Phục vụ hành chính công tỉnh Cao Bằng", AgencyLevel::Unit, Some("000.00.01.H14")),
    ("000.00.10.H14", "Sở Tư pháp tỉnh Cao Bằng", AgencyLevel::Department, Some("000.00.00.H14")),
    ("000.00.11.H14", "Sở Tài chính tỉnh Cao Bằng", AgencyLevel::Department, Some("000.00.00.H14")),
    ("000.00.12.H14", "Sở Nông nghiệp và Môi trường tỉnh Cao Bằng", AgencyLevel::Department, Some("000.00.00.H14")),
    ("000.00.13.H14", "Sở Xây dựng tỉnh Cao Bằng", AgencyLevel::Department, Some("000.00.00.H14")),
    ("000.20.01.H14", "UBND phường Thục Phán", AgencyLevel::Commune, Some("000.00.00.H14")),
    ("000.20.02.H14", "UBND phường Nùng Trí Cao", AgencyLevel::Commune, Some("000.00.00.H14")),
    ("000.20.03.H14", "UBND xã Hòa An", AgencyLevel::Commune, Some("000.00.00.H14")),
    ("000.20.04.H14", "UBND xã Trùng Khánh", AgencyLevel::Commune, Some("000.00.00.H14")),
];

/// A demo account: user name, full name, role, agency and capabilities.
type DemoAccount<'a> = (&'a str, &'a str, Role, Option<String>, &'a [&'a str]);

/// Loads the demo agencies and one account per role (password `MOTCUA_DEMO_PASSWORD` or
/// `motcua-demo-2026`). Running it again changes nothing.
///
/// # Errors
/// Database errors.
pub fn seed_demo(pool: &Pool, demo_password: &str) -> Result<Vec<String>, BootstrapError> {
    let mut conn = pool.get().map_err(RepoError::from)?;
    let mut report = Vec::new();
    for (code, name, level, parent) in DEMO_AGENCIES {
        if agencies::find_by_code(&mut conn, code)?.is_some() {
            continue;
        }
        let parent_id = match parent {
            Some(parent_code) => agencies::find_by_code(&mut conn, parent_code)?.map(|a| a.id),
            None => None,
        };
        let row = persistence::write_tx(&mut conn, |conn| {
            let row = agencies::insert(
                conn,
                agencies::NewAgency { code: (*code).into(), name: (*name).into(), level: level.as_str().into(), parent_id },
            )?;
            persistence::repo::audit::append(
                conn,
                persistence::repo::audit::NewAuditEntry {
                    action: "agency.create".into(),
                    entity_type: "agency".into(),
                    entity_id: row.id.clone(),
                    reason: Some("seed --demo".into()),
                    ..Default::default()
                },
            )?;
            Ok::<_, RepoError>(row)
        })?;
        report.push(format!("agency {} {}", row.code, row.name));
    }
    let agency = |conn: &mut AnyConnection, code: &str| agencies::find_by_code(conn, code).map(|a| a.map(|a| a.id));
    let province = agency(&mut conn, "000.00.00.H14")?;
    let commune = agency(&mut conn, "000.20.01.H14")?;
    let office = agency(&mut conn, "000.00.01.H14")?;
    let accounts: [DemoAccount<'_>; 6] = [
        ("demo.agencyadmin", "Quản trị UBND phường Thục Phán (demo)", Role::AgencyAdmin, commune.clone(), &[]),
        (
            "demo.officer",
            "Cán bộ một cửa phường Thục Phán (demo)",
            Role::Officer,
            commune,
            &["reception", "processing", "approval", "result_return"],
        ),
        ("demo.supervisor", "Cán bộ kiểm soát VP UBND tỉnh (demo)", Role::Supervisor, office, &[]),
        ("demo.provinceadmin", "Quản trị UBND tỉnh (demo)", Role::AgencyAdmin, province, &[]),
        (
            "demo.integration",
            "Cổng Dịch vụ công quốc gia (demo)",
            Role::Integration,
            None,
            &["cases.submit", "cases.read", "feedback.sync"],
        ),
        ("demo.citizen", "Nguyễn Văn Demo", Role::Citizen, None, &[]),
    ];
    for (username, full_name, role, agency_id, caps) in accounts {
        if users::find_by_username(&mut conn, username)?.is_some() {
            continue;
        }
        create_user(&mut conn, username, demo_password, full_name, role, agency_id.as_deref(), caps)?;
        report.push(format!("account {username} ({})", role.as_str()));
    }
    for demo in crate::demo_procedures::DEMO_PROCEDURES {
        if persistence::repo::procedures::find(&mut conn, demo.code)?.is_some() {
            continue;
        }
        let agency_id = agencies::find_by_code(&mut conn, demo.agency)?.map(|a| a.id);
        seed_procedure(&mut conn, demo, agency_id)?;
        report.push(format!("procedure {} {}", demo.code, demo.name));
    }
    Ok(report)
}

/// Creates, publishes and gives a workflow to one demo procedure.
fn seed_procedure(
    conn: &mut AnyConnection,
    demo: &crate::demo_procedures::DemoProcedure,
    agency_id: Option<String>,
) -> Result<(), BootstrapError> {
    use persistence::stored::procedure::{Fee, FieldRef, LegalBasis, ProcedureContent, RequiredDocument, ResultSpec, TimeSpec, TimeUnit};
    let unit = match demo.time.1 {
        "calendar_day" => TimeUnit::CalendarDay,
        "working_hour" => TimeUnit::WorkingHour,
        _ => TimeUnit::WorkingDay,
    };
    let mut content = ProcedureContent {
        national_code: Some(demo.code.split('.').take(2).collect::<Vec<_>>().join(".")),
        name: demo.name.to_owned(),
        sector: demo.sector.to_owned(),
        field: FieldRef { code: demo.field.0.to_owned(), name: demo.field.1.to_owned() },
        levels: vec![demo.level.to_owned()],
        agency_ids: agency_id.into_iter().collect(),
        online_level: demo.online.to_owned(),
        channels: Vec::new(),
        processing_time: TimeSpec { value: demo.time.0, unit },
        online_processing_time: None,
        cutoff_time: demo.cutoff.map(str::to_owned),
        fees: if demo.fee > 0 { vec![Fee { code: None, amount: demo.fee, description: "Phí, lệ phí".to_owned() }] } else { Vec::new() },
        required_documents: demo
            .documents
            .iter()
            .enumerate()
            .map(|(i, name)| RequiredDocument {
                code: format!("GT{:02}", i + 1),
                name: (*name).to_owned(),
                originals: 1,
                copies: 0,
                mandatory: true,
            })
            .collect(),
        result: ResultSpec { code: None, name: demo.result.map(str::to_owned), has_result: demo.result.is_some() },
        legal_basis: vec![LegalBasis { number: demo.law.0.to_owned(), title: demo.law.1.to_owned() }],
        form_schema: (demo.code == "1.001193.000.00.00.H14").then(crate::demo_procedures::birth_registration_form),
        effective_from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1),
    };
    let invalid = |e: crate::error::AppError| BootstrapError::Invalid(format!("demo procedure {}: {e}", demo.code));
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    crate::app::procedures::normalise(&mut content, today).map_err(invalid)?;
    let new =
        crate::app::procedures::new_version(demo.code, &content, None, ("demo", Some("demo-2026".to_owned()), None)).map_err(invalid)?;
    let time = content.processing_time.to_domain("processing_time").map_err(|e| invalid(e.into()))?;
    let steps = crate::app::procedures::stored_steps(&domain::procedure::default_workflow(time));
    let steps = serde_json::to_string(&steps).map_err(|e| BootstrapError::Invalid(e.to_string()))?;
    persistence::write_tx(conn, |conn| {
        let row = persistence::repo::procedures::create(conn, demo.code, content.national_code.clone(), new)?;
        persistence::repo::procedures::set_status(conn, demo.code, row.version, "published", Some("DEMO"), Some(true))?;
        persistence::repo::workflows::add(conn, demo.code, None, steps, None)?;
        persistence::repo::audit::append(
            conn,
            persistence::repo::audit::NewAuditEntry {
                action: "procedure.create".into(),
                entity_type: "procedure".into(),
                entity_id: demo.code.to_owned(),
                reason: Some("seed --demo".into()),
                ..Default::default()
            },
        )?;
        Ok::<_, RepoError>(())
    })?;
    Ok(())
}
