//! Synchronising the procedure catalogue from the national database (Art. 5.2.a, 16.2).
//!
//! One run lists the province's procedures, fetches each record, maps it, and upserts it:
//! a new procedure, a new version when the content changed, nothing when it did not. Local
//! data is never deleted: fields the national record does not carry (the e-form, the cut-off
//! time, agencies the national record names but we do not know) are kept from the latest
//! version. Imported versions are drafts: publishing them on the portal still runs the
//! lifecycle of Art. 9–10. Each item's outcome is kept on the job.

use integrations::national::catalog::{CatalogClient, CatalogProcedure, map_procedure};
use persistence::AnyConnection;
use persistence::repo::jobs::{self, JobRow};
use persistence::repo::{agencies, procedures};

use crate::app::procedures::{new_version, normalise};
use crate::auditing::{self, Change};
use crate::auth::RequestMeta;
use crate::error::AppError;
use crate::state::AppState;
pub use persistence::stored::job::ItemOutcome;
use persistence::stored::procedure::{Fee, FieldRef, LegalBasis, ProcedureContent, RequiredDocument, ResultSpec, TimeSpec};

/// Our content for a national record, keeping local-only fields of `previous`.
fn content_of(record: &CatalogProcedure, agency_ids: Vec<String>, previous: Option<&ProcedureContent>) -> ProcedureContent {
    let mut levels: Vec<String> = previous.map(|p| p.levels.clone()).unwrap_or_default();
    if levels.is_empty() {
        levels = vec!["province".to_owned()];
    }
    let agency_ids = if agency_ids.is_empty() { previous.map(|p| p.agency_ids.clone()).unwrap_or_default() } else { agency_ids };
    ProcedureContent {
        national_code: Some(record.national_code.clone()),
        name: record.name.clone(),
        sector: record.sector.clone(),
        field: FieldRef { code: record.field_code.clone(), name: record.field_name.clone() },
        levels,
        agency_ids,
        online_level: record.online_level.as_str().to_owned(),
        channels: record.channels.iter().map(|c| c.as_str().to_owned()).collect(),
        processing_time: TimeSpec::of(record.processing_time),
        online_processing_time: record.online_processing_time.map(TimeSpec::of),
        cutoff_time: previous.and_then(|p| p.cutoff_time.clone()),
        fees: record.fees.iter().map(|f| Fee { code: f.code.clone(), amount: f.amount, description: f.description.clone() }).collect(),
        required_documents: record
            .documents
            .iter()
            .map(|d| RequiredDocument {
                code: d.code.clone(),
                name: d.name.clone(),
                originals: d.originals,
                copies: d.copies,
                mandatory: d.mandatory,
            })
            .collect(),
        result: match &record.result {
            Some((code, name)) => ResultSpec { code: code.clone(), name: Some(name.clone()), has_result: true },
            None => ResultSpec { code: None, name: None, has_result: false },
        },
        legal_basis: record.legal_basis.iter().map(|(number, title)| LegalBasis { number: number.clone(), title: title.clone() }).collect(),
        form_schema: previous.and_then(|p| p.form_schema.clone()),
        effective_from: None,
    }
}

/// Upserts one mapped record; returns the outcome.
fn upsert(
    conn: &mut AnyConnection,
    record: &CatalogProcedure,
    actor: Option<&str>,
    meta: &RequestMeta,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ItemOutcome, AppError> {
    let code = record.code.as_str().to_owned();
    let mut agency_ids = Vec::new();
    let mut unknown = Vec::new();
    for agency_code in &record.agency_codes {
        match agencies::find_by_code(conn, agency_code)? {
            Some(agency) => agency_ids.push(agency.id),
            None => unknown.push(agency_code.clone()),
        }
    }
    let note = (!unknown.is_empty()).then(|| format!("unknown agency codes: {}", unknown.join(", ")));
    persistence::write_tx(conn, |conn| {
        let header = procedures::find_for_update(conn, &code)?;
        let latest = match &header {
            Some(_) => procedures::latest(conn, &code)?,
            None => None,
        };
        let previous: Option<ProcedureContent> = latest.as_ref().and_then(|l| persistence::stored::read(&l.content).ok());
        let mut content = content_of(record, agency_ids, previous.as_ref());
        let today = now.with_timezone(&domain::time::VN).date_naive();
        content.effective_from = previous.as_ref().and_then(|p| p.effective_from).or(Some(today));
        normalise(&mut content, today)?;
        let synced = (String::from("national_catalog"), Some(record.source_version.clone()), Some(crate::app::clock::stored(now)));
        let new = new_version(&code, &content, actor.map(str::to_owned), (&synced.0, synced.1, synced.2))?;
        let (outcome, row) = match (&header, &latest) {
            (Some(h), _) if h.abolished => {
                return Ok(ItemOutcome {
                    code: code.clone(),
                    outcome: "unchanged".into(),
                    version: Some(h.latest_version),
                    note: Some("abolished locally; not reopened".into()),
                });
            }
            (Some(_), Some(latest)) if latest.content_hash == new.content_hash => {
                return Ok(ItemOutcome {
                    code: code.clone(),
                    outcome: "unchanged".into(),
                    version: Some(latest.version),
                    note: note.clone(),
                });
            }
            (Some(_), _) => ("updated", procedures::add_version(conn, &code, new)?),
            (None, _) => ("created", procedures::create(conn, &code, content.national_code.clone(), new)?),
        };
        auditing::record(
            conn,
            meta,
            Change::<(), _> {
                actor_id: actor,
                action: "procedure.sync",
                entity_type: "procedure",
                entity_id: &code,
                before: None,
                after: Some(&(row.version, &row.content_hash, &record.source_version)),
            },
        )?;
        Ok(ItemOutcome { code: code.clone(), outcome: outcome.into(), version: Some(row.version), note: note.clone() })
    })
}

async fn save(state: &AppState, job: &JobRow) {
    let job = job.clone();
    if let Err(e) = crate::db::run(&state.pool, move |conn| Ok(jobs::save(conn, &job)?)).await {
        log::error!("catalogue sync: cannot save job progress: {e}");
    }
}

/// Runs job `job` to its end, saving progress as it goes.
pub async fn run(state: AppState, mut job: JobRow, meta: RequestMeta) -> JobRow {
    let Some(config) = state.config.national_catalog.clone() else {
        job.status = "failed".into();
        job.error = Some("the national catalogue is not configured".into());
        save(&state, &job).await;
        return job;
    };
    job.status = "running".into();
    job.started_at = Some(state.now());
    save(&state, &job).await;
    let client = match integrations::AdapterClient::new(config) {
        Ok(adapter) => CatalogClient::new(adapter, state.config.national_catalog_page_size),
        Err(e) => return finish(&state, job, Vec::new(), Some(e.to_string())).await,
    };
    let codes = match client.list_codes().await {
        Ok(codes) => codes,
        Err(e) => return finish(&state, job, Vec::new(), Some(format!("LayDanhSachTTHC: {e}"))).await,
    };
    job.total = i32::try_from(codes.len()).unwrap_or(i32::MAX);
    let mut outcomes: Vec<ItemOutcome> = Vec::with_capacity(codes.len());
    for code in codes {
        let outcome = match client.fetch(&code).await {
            Err(e) => ItemOutcome { code: code.clone(), outcome: "failed".into(), version: None, note: Some(format!("LayThuTuc: {e}")) },
            Ok(raw) => match map_procedure(&raw) {
                Err(e) => {
                    ItemOutcome { code: code.clone(), outcome: "failed".into(), version: None, note: Some(format!("cannot map {e}")) }
                }
                Ok(record) => {
                    let actor = job.created_by.clone();
                    let (meta, now) = (meta.clone(), state.clock.now());
                    let result = crate::db::run(&state.pool, move |conn| upsert(conn, &record, actor.as_deref(), &meta, now)).await;
                    result.unwrap_or_else(|e| {
                        let reasons: Vec<String> = e.invalid_params.iter().map(|p| format!("{}: {}", p.name, p.reason)).collect();
                        ItemOutcome {
                            code: code.clone(),
                            outcome: "failed".into(),
                            version: None,
                            note: Some(if reasons.is_empty() { e.to_string() } else { reasons.join("; ") }),
                        }
                    })
                }
            },
        };
        match outcome.outcome.as_str() {
            "created" => job.created += 1,
            "updated" => job.updated += 1,
            "unchanged" => job.unchanged += 1,
            _ => job.failed += 1,
        }
        job.done += 1;
        outcomes.push(outcome);
        if job.done % 10 == 0 {
            job.items = serde_json::to_string(&outcomes).unwrap_or_else(|_| "[]".into());
            save(&state, &job).await;
        }
    }
    finish(&state, job, outcomes, None).await
}

async fn finish(state: &AppState, mut job: JobRow, outcomes: Vec<ItemOutcome>, error: Option<String>) -> JobRow {
    job.items = serde_json::to_string(&outcomes).unwrap_or_else(|_| "[]".into());
    job.status = if error.is_some() { "failed" } else { "succeeded" }.into();
    job.error = error;
    job.finished_at = Some(state.now());
    save(state, &job).await;
    log::info!(
        "catalogue sync {}: {} ({} created, {} updated, {} unchanged, {} failed)",
        job.id,
        job.status,
        job.created,
        job.updated,
        job.unchanged,
        job.failed
    );
    job
}
