//! The periodic pull of the feedback the national PAKN system assigned to the province: each
//! item new to us becomes a local feedback item through the same use case as a sender's.

use std::sync::Arc;

use persistence::AnyConnection;

use crate::app::AppError;
use crate::background::Workers;
use crate::state::AppState;

/// Starts the periodic pull of the feedback the national PAKN system assigned to the province.
///
/// # Errors
/// When the thread cannot be started.
pub fn start(workers: &mut Workers, state: Arc<AppState>) -> std::io::Result<()> {
    let (Some(client), Some(interval)) = (state.deliverers.pakn.clone(), state.config.pakn.as_ref().and_then(|p| p.pull_interval)) else {
        return Ok(());
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    workers.every("motcua-pakn-pull", interval, move || {
        let items = match runtime.block_on(client.pull()) {
            Ok(items) => items,
            Err(e) => {
                log::warn!("PAKN pull failed: {e}");
                return;
            }
        };
        let mut taken = 0;
        for item in items {
            match state.pool.background(|conn| take_assigned(conn, &state, item)) {
                Some(Ok(true)) => taken += 1,
                Some(Err(e)) => log::warn!("PAKN pull: an item could not be taken over: {e}"),
                _ => {}
            }
        }
        if taken > 0 {
            log::info!("PAKN pull: {taken} new items assigned by the national system");
        }
    })
}

/// Creates an assigned item locally unless it exists already; returns whether it was created.
fn take_assigned(conn: &mut AnyConnection, state: &AppState, item: integrations::pakn::AssignedFeedback) -> Result<bool, AppError> {
    persistence::write_tx(conn, |conn| {
        if persistence::repo::feedback::find_by_external_id(conn, &item.external_id)?.is_some() {
            return Ok(false);
        }
        let agency = match item.agency_code.as_deref() {
            Some(code) => persistence::repo::agencies::find_by_code(conn, code)?,
            None => None,
        };
        let Some(agency) = agency.map_or_else(|| persistence::repo::agencies::root(conn), |a| Ok(Some(a)))? else {
            return Err(AppError::internal("no agency to assign national feedback to"));
        };
        let meta =
            crate::auth::RequestMeta { request_id: Some(format!("pakn-{}", item.external_id)), reason: Some("national PAKN pull".into()) };
        crate::app::feedback::submit(
            conn,
            state,
            &meta,
            crate::app::feedback::NewItem {
                kind: domain::feedback::FeedbackKind::Reflection,
                category: domain::feedback::FeedbackCategory::Regulation,
                title: item.title.chars().take(300).collect(),
                content: item.content,
                contact: persistence::stored::feedback::Contact {
                    full_name: if item.full_name.is_empty() { "Không rõ".into() } else { item.full_name },
                    phone: item.phone,
                    email: item.email,
                    address: item.address,
                },
                submitter_id: None,
                agency,
                case: None,
                external_id: Some(item.external_id),
            },
        )?;
        Ok(true)
    })
}
