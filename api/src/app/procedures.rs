//! Procedures: the checks every new version passes (from an administrator, the catalogue sync
//! or the demo seed), its stored form, who reaches it, and the workflow that applies to it.

use chrono::{NaiveDate, NaiveTime};
use domain::calendar::ProcessingTime;
use domain::procedure::{Channel, OnlineLevel, ProcedureCode, WorkflowStep};
use domain::{AgencyLevel, Capability, Role};
use persistence::AnyConnection;
use persistence::repo::procedures::{self as repo, NewVersion, VersionRow};
use persistence::repo::templates::{self, TemplateRow};
use persistence::repo::{agencies, workflows};
use persistence::stored::procedure::{self as stored, ProcedureContent};

use crate::app::error::{AppError, InvalidParam};
use crate::auth::{Principal, RequestMeta};
use crate::state::AppState;

/// A length rule of a text field: `name` must hold `min..=max` characters.
fn length(problems: &mut Vec<InvalidParam>, name: impl Into<String>, value: &str, min: usize, max: usize) {
    let count = value.chars().count();
    if !(min..=max).contains(&count) {
        problems.push(InvalidParam { name: name.into(), reason: format!("length must be between {min} and {max}") });
    }
}

/// A range rule of a number field.
fn range(problems: &mut Vec<InvalidParam>, name: impl Into<String>, value: i64, min: i64, max: i64) {
    if !(min..=max).contains(&value) {
        problems.push(InvalidParam { name: name.into(), reason: "out of range".to_owned() });
    }
}

/// The length and range rules of the content's fields, sorted by field name.
fn shape_problems(content: &ProcedureContent) -> Vec<InvalidParam> {
    let mut problems = Vec::new();
    length(&mut problems, "name", &content.name, 1, 500);
    length(&mut problems, "sector", &content.sector, 1, 200);
    length(&mut problems, "field.code", &content.field.code, 1, 50);
    length(&mut problems, "field.name", &content.field.name, 1, 300);
    for (i, fee) in content.fees.iter().enumerate() {
        range(&mut problems, format!("fees[{i}].amount"), fee.amount, 0, 1_000_000_000_000);
        length(&mut problems, format!("fees[{i}].description"), &fee.description, 1, 1000);
    }
    for (i, document) in content.required_documents.iter().enumerate() {
        length(&mut problems, format!("required_documents[{i}].code"), &document.code, 1, 50);
        length(&mut problems, format!("required_documents[{i}].name"), &document.name, 1, 1000);
        range(&mut problems, format!("required_documents[{i}].originals"), i64::from(document.originals), 0, 100);
        range(&mut problems, format!("required_documents[{i}].copies"), i64::from(document.copies), 0, 100);
    }
    for (i, basis) in content.legal_basis.iter().enumerate() {
        length(&mut problems, format!("legal_basis[{i}].number"), &basis.number, 1, 100);
        length(&mut problems, format!("legal_basis[{i}].title"), &basis.title, 1, 1000);
    }
    problems.sort_by(|a, b| a.name.cmp(&b.name));
    problems
}

/// Checks and normalises content (online level, default channels, effective date).
///
/// # Errors
/// `validation_failed` naming every invalid field.
pub fn normalise(content: &mut ProcedureContent, today: NaiveDate) -> Result<(), AppError> {
    let mut problems = shape_problems(content);
    let mut check = |result: Result<(), AppError>| {
        if let Err(e) = result {
            problems.extend(e.invalid_params);
        }
    };
    if let Some(code) = &content.national_code {
        check(ProcedureCode::parse(code, "national_code").map(|_| ()).map_err(AppError::from));
    }
    if content.levels.is_empty() {
        check(Err(AppError::invalid("levels", "name at least one implementing level")));
    }
    for level in &content.levels {
        check(AgencyLevel::parse(level, "levels").map(|_| ()).map_err(AppError::from));
    }
    if content.agency_ids.len() > 500 {
        check(Err(AppError::invalid("agency_ids", "at most 500 agencies")));
    }
    match OnlineLevel::parse_with_legacy(&content.online_level) {
        Ok(level) => {
            content.online_level = level.as_str().to_owned();
            if content.channels.is_empty() {
                content.channels = Channel::ALL
                    .iter()
                    .filter(|c| level != OnlineLevel::Info || **c != Channel::Online)
                    .map(|c| c.as_str().to_owned())
                    .collect();
            }
            for channel in &content.channels {
                match Channel::parse(channel, "channels") {
                    Ok(Channel::Online) if level == OnlineLevel::Info => {
                        check(Err(AppError::invalid("channels", "an information-only procedure accepts no online submissions")))
                    }
                    Ok(_) => {}
                    Err(e) => check(Err(e.into())),
                }
            }
        }
        Err(e) => check(Err(e.into())),
    }
    check(content.processing_time.to_domain("processing_time").map(|_| ()).map_err(AppError::from));
    if let Some(online) = content.online_processing_time {
        check(online.to_domain("online_processing_time").map(|_| ()).map_err(AppError::from));
    }
    if let Some(cutoff) = &content.cutoff_time {
        check(NaiveTime::parse_from_str(cutoff, "%H:%M").map(|_| ()).map_err(|_| AppError::invalid("cutoff_time", "must be a time HH:MM")));
    }
    let mut codes = std::collections::HashSet::new();
    for document in &content.required_documents {
        if !codes.insert(document.code.as_str()) {
            check(Err(AppError::invalid("required_documents", format!("the code `{}` appears twice", document.code))));
        }
    }
    if let Some(schema) = &content.form_schema {
        let valid = schema.is_object() && jsonschema::meta::validate(schema).is_ok() && jsonschema::validator_for(schema).is_ok();
        if !valid {
            check(Err(AppError::invalid("form_schema", "must be a valid JSON Schema object (without remote references)")));
        }
    }
    let effective = content.effective_from.unwrap_or(today);
    if !(1990..=2200).contains(&chrono::Datelike::year(&effective)) {
        check(Err(AppError::invalid("effective_from", "must lie between 1990 and 2200")));
    }
    content.effective_from = Some(effective);
    if problems.is_empty() { Ok(()) } else { Err(AppError::validation(problems)) }
}

/// The stored form of normalised content.
///
/// # Errors
/// Serialisation failures (none for this type).
pub fn new_version(
    code: &str,
    content: &ProcedureContent,
    created_by: Option<String>,
    source: (&str, Option<String>, Option<chrono::NaiveDateTime>),
) -> Result<NewVersion, AppError> {
    let json = persistence::stored::write(content)?;
    let search = format!(
        "{} {} {} {}",
        domain::text::fold(&content.name),
        code.to_lowercase(),
        content.national_code.as_deref().unwrap_or(""),
        domain::text::fold(&content.field.name)
    );
    Ok(NewVersion {
        effective_from: content.effective_from.unwrap_or_default(),
        name: content.name.clone(),
        search,
        sector: content.sector.clone(),
        field_code: content.field.code.clone(),
        online_level: content.online_level.clone(),
        levels: content.levels.clone(),
        agency_ids: content.agency_ids.clone(),
        content_hash: domain::audit::digest(json.as_bytes()),
        content: json,
        source_system: source.0.to_owned(),
        source_version: source.1,
        synced_at: source.2,
        created_by,
    })
}

/// The content of a stored version.
///
/// # Errors
/// A version whose content no longer reads (an internal error).
pub fn content_of(version: &VersionRow) -> Result<ProcedureContent, AppError> {
    Ok(persistence::stored::read(&version.content)?)
}

/// Whether an agency administrator's subtree holds one of the version's implementing agencies
/// (system administrators and supervisors reach every procedure).
///
/// # Errors
/// Database errors.
pub fn implemented_in_scope(conn: &mut AnyConnection, principal: &Principal, version: &VersionRow) -> Result<bool, AppError> {
    if principal.role != Role::AgencyAdmin {
        return Ok(true);
    }
    for id in repo::unmark_list(&version.agency_ids) {
        if let Some(agency) = agencies::find(conn, &id)?
            && principal.covers_path(&agency.path)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The workflow that applies to a procedure at an agency.
pub struct ResolvedWorkflow {
    pub agency_id: Option<String>,
    pub version: i32,
    /// `stored` or `default`.
    pub origin: &'static str,
    pub steps: Vec<WorkflowStep>,
}

/// The stored form of workflow steps.
pub fn stored_steps(steps: &[WorkflowStep]) -> Vec<stored::WorkflowStep> {
    steps
        .iter()
        .map(|step| stored::WorkflowStep {
            key: step.key.clone(),
            name: step.name.clone(),
            capability: step.capability.as_str().to_owned(),
            agency_id: step.agency_id.clone(),
            duration_hours: i64::from(step.duration_hours),
        })
        .collect()
}

/// The agency's workflow, else the procedure-wide one, else the default generated from the
/// processing time.
///
/// # Errors
/// Database errors; a stored workflow that no longer parses.
pub fn resolve_workflow(
    conn: &mut AnyConnection,
    code: &str,
    agency_id: Option<&str>,
    processing_time: ProcessingTime,
) -> Result<ResolvedWorkflow, AppError> {
    let stored = match agency_id {
        Some(id) => workflows::effective(conn, code, id)?,
        None => workflows::latest(conn, code, None)?,
    };
    Ok(match stored {
        Some(row) => {
            let stored_steps: Vec<stored::WorkflowStep> = persistence::stored::read(&row.steps)?;
            let steps = stored_steps
                .iter()
                .map(|step| {
                    Ok(WorkflowStep {
                        key: step.key.clone(),
                        name: step.name.clone(),
                        capability: Capability::parse(&step.capability, "capability").map_err(AppError::internal)?,
                        agency_id: step.agency_id.clone(),
                        duration_hours: u32::try_from(step.duration_hours).unwrap_or(0),
                    })
                })
                .collect::<Result<_, AppError>>()?;
            ResolvedWorkflow { agency_id: row.agency_id, version: row.version, origin: "stored", steps }
        }
        None => {
            ResolvedWorkflow { agency_id: None, version: 0, origin: "default", steps: domain::procedure::default_workflow(processing_time) }
        }
    })
}

/// The processing time of a stored version (the counter time).
///
/// # Errors
/// A version whose content no longer reads.
pub fn processing_time_of(row: &VersionRow) -> Result<ProcessingTime, AppError> {
    Ok(content_of(row)?.processing_time_for(false)?)
}

/// A form template to store with a procedure (its file already checked).
pub struct NewTemplate {
    pub code: String,
    /// The required document it is the form of.
    pub document_code: Option<String>,
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// Stores a form template of a procedure that the caller's agency implements, audited. The
/// bytes go to the file store before the row commits: a failed commit leaves an unreferenced
/// file, never a row without its file.
///
/// # Errors
/// `not_found` for an unknown procedure, `forbidden` outside the caller's agencies; storage and
/// database errors.
pub fn add_template(
    conn: &mut AnyConnection,
    ctx: &AppState,
    principal: &Principal,
    meta: &RequestMeta,
    command: NewTemplate,
) -> Result<TemplateRow, AppError> {
    let latest = repo::latest(conn, &command.code)?.ok_or_else(AppError::not_found)?;
    if !implemented_in_scope(conn, principal, &latest)? {
        return Err(AppError::forbidden());
    }
    let sha256 = ctx.files.put(&command.data).map_err(AppError::internal)?;
    let row = TemplateRow {
        id: persistence::new_id(),
        procedure_code: command.code,
        document_code: command.document_code,
        name: command.name,
        content_type: command.content_type,
        size_bytes: i64::try_from(command.data.len()).unwrap_or(i64::MAX),
        sha256,
        created_by: Some(principal.user_id.clone()),
        created_at: ctx.now(),
    };
    templates::insert(conn, &row)?;
    crate::auditing::record(
        conn,
        meta,
        crate::auditing::Change::<(), _> {
            actor_id: Some(&principal.user_id),
            action: "template.upload",
            entity_type: "procedure_template",
            entity_id: &row.id,
            before: None,
            after: Some(&(&row.procedure_code, &row.sha256)),
        },
    )?;
    Ok(row)
}

/// Whether a procedure (and what hangs off it: templates, FAQs) is visible to the caller: to
/// anyone once a version is published and current, to staff also while it is a draft.
///
/// # Errors
/// Database errors.
pub fn visible(conn: &mut AnyConnection, code: &str, staff: bool) -> Result<bool, AppError> {
    if repo::current(conn, code)?.is_some() {
        return Ok(true);
    }
    Ok(staff && repo::find(conn, code)?.is_some())
}
