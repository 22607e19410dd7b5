//! Accounts: registration, administration within the administrator's agency subtree, and the
//! role ledger.
//!
//! Every grant and revocation of a role (creation, role or capability change, move between
//! agencies, disable, enable) is written to the role ledger of the agency concerned (Art. 7.3)
//! and to the audit trail, in the transaction of the change.

use chrono::NaiveDateTime;
use domain::Role;
use integrations::oidc::{AccountKind, NationalIdentity};
use persistence::AnyConnection;
use persistence::repo::users::{NewUser, UserChanges, UserRow};
use persistence::repo::{agencies, ledger, sessions, users};
use serde::Serialize;

use crate::app::AppError;
use crate::app::error::Code;
use crate::auditing::{self, Change};
use crate::auth::{Principal, RequestMeta};
use crate::state::AppState;

/// What the audit trail keeps of an account (no secrets).
#[derive(Debug, Serialize)]
pub struct UserAuditState<'a> {
    pub username: &'a str,
    pub full_name: &'a str,
    pub role: &'a str,
    pub capabilities: &'a str,
    pub agency_id: Option<&'a str>,
    pub active: bool,
    pub token_version: i64,
}

impl<'a> UserAuditState<'a> {
    /// The audited state of `row`.
    pub fn of(row: &'a UserRow) -> Self {
        UserAuditState {
            username: &row.username,
            full_name: &row.full_name,
            role: &row.role,
            capabilities: &row.capabilities,
            agency_id: row.agency_id.as_deref(),
            active: row.active,
            token_version: row.token_version,
        }
    }
}

/// Changes to an account; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UpdateAccount {
    pub id: String,
    pub full_name: Option<String>,
    pub role: Option<Role>,
    pub agency_id: Option<String>,
    /// Officer capabilities or integration scopes, unchecked.
    pub capabilities: Option<Vec<String>>,
    /// `Some(None)` clears the phone.
    pub phone: Option<Option<String>>,
    /// `Some(None)` clears the e-mail.
    pub email: Option<Option<String>>,
    /// A new password's hash; revokes the account's sessions.
    pub password_hash: Option<String>,
}

/// Loads an account the caller may administer; 404 otherwise.
///
/// # Errors
/// `not_found`; database errors.
pub fn load_in_scope(conn: &mut AnyConnection, principal: &Principal, id: &str) -> Result<UserRow, AppError> {
    let user = users::find(conn, id)?.ok_or_else(AppError::not_found)?;
    let in_scope = match principal.role {
        Role::SystemAdmin => true,
        Role::AgencyAdmin => match (&user.agency_id, &principal.agency_path) {
            (Some(agency_id), Some(root)) => agencies::is_within(conn, agency_id, root)?,
            _ => false,
        },
        _ => false,
    };
    if in_scope { Ok(user) } else { Err(AppError::not_found()) }
}

/// Checks that `agency_id` exists (422) and lies in the caller's scope (403).
fn check_agency(conn: &mut AnyConnection, principal: &Principal, agency_id: &str) -> Result<(), AppError> {
    let agency = agencies::find(conn, agency_id)?.ok_or_else(|| AppError::invalid("agency_id", "no such agency"))?;
    if !principal.covers_path(&agency.path) {
        return Err(AppError::forbidden().with_detail("Cơ quan nằm ngoài phạm vi quản lý của bạn.", "The agency is outside your scope."));
    }
    Ok(())
}

fn may_not_grant() -> AppError {
    AppError::forbidden().with_detail("Bạn không được cấp vai trò này.", "You may not grant this role.")
}

fn ledger_entry(conn: &mut AnyConnection, actor: &Principal, user: &UserRow, action: &str, meta: &RequestMeta) -> Result<(), AppError> {
    ledger::record(
        conn,
        user.agency_id.as_deref(),
        Some(&actor.user_id),
        &user.id,
        action,
        &user.role,
        &user.capability_list(),
        meta.reason.as_deref(),
    )?;
    Ok(())
}

fn audit(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    actor: &str,
    action: &str,
    before: Option<&UserRow>,
    after: &UserRow,
) -> Result<(), AppError> {
    let before = before.map(UserAuditState::of);
    auditing::record(
        conn,
        meta,
        Change {
            actor_id: Some(actor),
            action,
            entity_type: "user",
            entity_id: &after.id,
            before: before.as_ref(),
            after: Some(&UserAuditState::of(after)),
        },
    )
}

/// A citizen's own registration, audited.
///
/// # Errors
/// `conflict` for a taken user name or personal id number; database errors.
pub fn register(conn: &mut AnyConnection, meta: &RequestMeta, new: NewUser) -> Result<UserRow, AppError> {
    let row = users::insert(conn, new)?;
    audit(conn, meta, &row.id, "user.register", None, &row)?;
    Ok(row)
}

/// Whether the caller may create an account of `role` (checked before the password is hashed);
/// the capabilities it grants, checked against the role.
///
/// # Errors
/// `validation_failed` for a citizen role, a missing agency or unknown capabilities;
/// `forbidden` for a role above the caller's.
pub fn grant_for_new(principal: &Principal, role: Role, agency_id: Option<&str>, capabilities: &[String]) -> Result<Vec<String>, AppError> {
    if role == Role::Citizen {
        return Err(AppError::invalid("role", "citizen accounts are created by registration"));
    }
    if !principal.role.may_grant(role) {
        return Err(may_not_grant());
    }
    if role.is_agency_bound() && agency_id.is_none() {
        return Err(AppError::invalid("agency_id", "is required for this role"));
    }
    Ok(domain::role::validate_grants(role, capabilities)?)
}

/// A staff or integration account created by an administrator (after [`grant_for_new`]),
/// written to the role ledger and the audit trail.
///
/// # Errors
/// `validation_failed` / `forbidden` for an agency unknown or outside the caller's scope;
/// `conflict` for a taken user name; database errors.
pub fn create(conn: &mut AnyConnection, principal: &Principal, meta: &RequestMeta, new: NewUser) -> Result<UserRow, AppError> {
    if let Some(agency_id) = &new.agency_id {
        check_agency(conn, principal, agency_id)?;
    }
    let row = users::insert(conn, new)?;
    ledger_entry(conn, principal, &row, "grant", meta)?;
    audit(conn, meta, &principal.user_id, "user.create", None, &row)?;
    Ok(row)
}

/// Edits an account in the caller's scope. A change of role, capabilities or agency is a
/// revocation of the old grant and a grant of the new one (both in the ledger) and ends the
/// account's tokens; a new password ends its sessions.
///
/// # Errors
/// `not_found` outside scope; `conflict` for the caller's own grant; `forbidden` for a role
/// above the caller's; `validation_failed`; database errors.
pub fn update(
    conn: &mut AnyConnection,
    principal: &Principal,
    meta: &RequestMeta,
    now: NaiveDateTime,
    command: UpdateAccount,
) -> Result<UserRow, AppError> {
    let before = load_in_scope(conn, principal, &command.id)?;
    let old_role = Role::parse(&before.role, "role").map_err(AppError::internal)?;
    let new_role = command.role;
    let role = new_role.unwrap_or(old_role);
    if (new_role.is_some() || command.capabilities.is_some() || command.agency_id.is_some()) && before.id == principal.user_id {
        return Err(
            AppError::new(Code::Conflict).with_detail("Không thể tự thay đổi vai trò của mình.", "You cannot change your own role.")
        );
    }
    if role == Role::Citizen && old_role != Role::Citizen {
        return Err(AppError::invalid("role", "staff accounts cannot become citizen accounts"));
    }
    if !principal.role.may_grant(old_role) || !principal.role.may_grant(role) {
        return Err(may_not_grant());
    }
    let capabilities = match (&command.capabilities, new_role) {
        (Some(list), _) => Some(domain::role::validate_grants(role, list)?),
        (None, Some(r)) if r != old_role => Some(domain::role::validate_grants(role, &[])?),
        (None, _) => None,
    };
    if let Some(agency_id) = &command.agency_id {
        check_agency(conn, principal, agency_id)?;
    }
    if role.is_agency_bound() && command.agency_id.is_none() && before.agency_id.is_none() {
        return Err(AppError::invalid("agency_id", "is required for this role"));
    }
    let grant_changed = new_role.is_some_and(|r| r != old_role)
        || capabilities.as_ref().is_some_and(|c| c.join(",") != before.capabilities)
        || command.agency_id.as_ref().is_some_and(|a| Some(a) != before.agency_id.as_ref());
    let password_changed = command.password_hash.is_some();
    let changes = UserChanges {
        full_name: command.full_name.map(|n| n.trim().to_owned()),
        role: new_role.map(|r| r.as_str().to_owned()),
        capabilities,
        agency_id: command.agency_id.map(Some),
        phone: command.phone,
        email: command.email,
        password_hash: command.password_hash,
        active: None,
        bump_token_version: grant_changed || password_changed,
    };
    let after = users::update(conn, &before.id, changes)?;
    if grant_changed {
        ledger_entry(conn, principal, &before, "revoke", meta)?;
        ledger_entry(conn, principal, &after, "grant", meta)?;
    }
    if password_changed {
        sessions::revoke_all(conn, &after.id, now)?;
    }
    audit(conn, meta, &principal.user_id, "user.update", Some(&before), &after)?;
    Ok(after)
}

/// Disables or enables an account in the caller's scope: disabling ends every token and
/// session of it at once; either is a ledger entry.
///
/// # Errors
/// `not_found` outside scope; `forbidden` for a role above the caller's; `conflict` for the
/// caller's own account; database errors.
pub fn set_active(
    conn: &mut AnyConnection,
    principal: &Principal,
    meta: &RequestMeta,
    now: NaiveDateTime,
    id: &str,
    active: bool,
) -> Result<UserRow, AppError> {
    let before = load_in_scope(conn, principal, id)?;
    let role = Role::parse(&before.role, "role").map_err(AppError::internal)?;
    if !principal.role.may_grant(role) {
        return Err(AppError::forbidden());
    }
    if before.id == principal.user_id {
        return Err(
            AppError::new(Code::Conflict).with_detail("Không thể tự khóa tài khoản của mình.", "You cannot disable your own account.")
        );
    }
    if before.active == active {
        return Ok(before);
    }
    let after =
        users::update(conn, &before.id, UserChanges { active: Some(active), bump_token_version: !active, ..UserChanges::default() })?;
    if !active {
        sessions::revoke_all(conn, &after.id, now)?;
    }
    ledger_entry(conn, principal, &after, if active { "grant" } else { "revoke" }, meta)?;
    audit(conn, meta, &principal.user_id, if active { "user.enable" } else { "user.disable" }, Some(&before), &after)?;
    Ok(after)
}

/// The key that links a national identity to an account: the personal id number of a citizen,
/// `mst:` and the tax code of an enterprise, `techid:` and the id of another organisation.
pub fn link_key(identity: &NationalIdentity) -> String {
    match identity.kind {
        AccountKind::Citizen => identity.key.clone(),
        AccountKind::Enterprise => format!("mst:{}", identity.key),
        AccountKind::Organisation => format!("techid:{}", identity.key),
    }
}

/// The citizen account linked to a national identity (its [`link_key`] is `key`), created on the
/// first login with `unusable_password` (a hash of a password nobody knows) and audited;
/// whether it was created.
///
/// # Errors
/// `forbidden` when the key belongs to a staff or disabled account; database errors.
pub fn link_national(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    key: &str,
    identity: &NationalIdentity,
    unusable_password: Option<String>,
) -> Result<(UserRow, bool), AppError> {
    match users::find_by_id_number(conn, key)? {
        Some(user) if user.role != Role::Citizen.as_str() || !user.active => Err(AppError::forbidden().with_detail(
            "Số định danh này thuộc một tài khoản không đăng nhập được qua Cổng Dịch vụ công quốc gia.",
            "This id number belongs to an account that cannot log in through the national portal.",
        )),
        Some(user) => Ok((user, false)),
        None => {
            let Some(unusable_password) = unusable_password else {
                return Err(AppError::internal("an account linked to this id number vanished during the login"));
            };
            let suffix = key.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
            let new = NewUser {
                username: format!("dvcqg.{suffix}"),
                password_hash: unusable_password,
                full_name: if identity.full_name.is_empty() { format!("Tài khoản {suffix}") } else { identity.full_name.clone() },
                role: Role::Citizen.as_str().to_owned(),
                capabilities: Vec::new(),
                agency_id: None,
                id_number: Some(key.to_owned()),
                phone: identity.phone.as_deref().and_then(|p| domain::Phone::parse(p).ok()).map(|p| p.as_str().to_owned()),
                email: identity.email.as_deref().and_then(|e| domain::Email::parse(e).ok()).map(|e| e.as_str().to_owned()),
            };
            let row = users::insert(conn, new)?;
            auditing::record(
                conn,
                meta,
                Change::<(), _> {
                    actor_id: Some(&row.id),
                    action: "user.register_national",
                    entity_type: "user",
                    entity_id: &row.id,
                    before: None,
                    after: Some(&(&row.username, &row.role)),
                },
            )?;
            Ok((row, true))
        }
    }
}

/// 429 `account_locked` until `until`.
pub fn locked(until: NaiveDateTime, now: NaiveDateTime) -> AppError {
    let mut error = AppError::new(Code::AccountLocked);
    error.retry_after = Some(u64::try_from((until - now).num_seconds()).unwrap_or(1).max(1));
    error
}

/// Counts a failed login of the user name `username` (known or not: the answer must not tell)
/// from `client`: after `lockout_threshold` failures within `lockout_duration`, that name waits
/// `lockout_duration` from that address. Another address is not affected, so nobody can lock a
/// citizen out from elsewhere; the per-address login rate limit bounds guessing across names.
///
/// # Errors
/// Database errors.
pub fn login_failed(conn: &mut AnyConnection, ctx: &AppState, username: &str, client: &str) -> Result<(), AppError> {
    let now = ctx.now();
    let span = chrono::TimeDelta::from_std(ctx.config.lockout_duration).unwrap_or(chrono::TimeDelta::minutes(15));
    persistence::repo::limits::record_failure(conn, username, client, now, now - span, ctx.config.lockout_threshold, now + span)?;
    Ok(())
}
