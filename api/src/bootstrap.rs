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
                after_digest: crate::auditing::digest_of(&crate::routes::views::UserAuditState::of(&row)),
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
    Ok(report)
}
