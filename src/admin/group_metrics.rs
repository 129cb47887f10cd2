//! `/metrics` by group: the devices of each group of `groups.yaml` (`kkt_group_devices`,
//! one series per group, so at most 1,000), set when scraped; and what a viewer limited to
//! groups scrapes instead of the whole exposition: only its groups' series, and the
//! releases' outcomes counted over its groups' devices (`observe::metrics::GroupExposition`).

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::admin::admin_error::AdminError;
use crate::app_state::AppState;
use crate::observe::metrics::{GroupExposition, ReleaseOutcomeRow};
use crate::store::release_reads::{self, ReleaseRow};

/// Devices per group named in `names`, from the inventory (none when it is off or cannot
/// be read: the scrape still answers).
async fn group_devices(state: &web::Data<AppState>, names: Vec<String>) -> Vec<(String, u64)> {
    if !state.inventory.is_on() || names.is_empty() {
        return Vec::new();
    }
    let reader = state.clone();
    web::block(move || {
        reader
            .inventory
            .read(|db| release_reads::group_devices(db, &names))
            .map(|counts| (names, counts))
    })
    .await
    .ok()
    .and_then(Result::ok)
    .map(|(names, counts)| {
        // Every group named gets its series, 0 when none of its devices is known.
        names
            .into_iter()
            .map(|name| {
                let n = counts.iter().find(|(g, _)| *g == name).map_or(0, |c| c.1);
                (name, n)
            })
            .collect::<Vec<_>>()
    })
    .unwrap_or_default()
}

/// Sets `kkt_group_devices` for every group of the serving `groups.yaml`.
pub async fn set_group_devices(state: &web::Data<AppState>) {
    let names: Vec<String> = state
        .snapshot()
        .groups()
        .names()
        .map(str::to_string)
        .collect();
    let counts = group_devices(state, names).await;
    state.metrics.group_devices(&counts);
}

/// `/metrics` for a viewer limited to `own` groups.
pub async fn limited(
    state: &web::Data<AppState>,
    own: &[String],
) -> Result<HttpResponse, AdminError> {
    let counts = group_devices(state, own.to_vec()).await;
    let outcomes: Vec<ReleaseRow> = if state.inventory.is_on() {
        let (reader, own) = (state.clone(), own.to_vec());
        web::block(move || {
            let now = crate::model::clock::unix_now();
            let stuck = reader.inventory.settings().stuck_after;
            reader
                .inventory
                .read(|db| release_reads::releases_of(db, now, stuck, Some(&own)))
        })
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
    } else {
        Vec::new()
    };
    let rows: Vec<ReleaseOutcomeRow<'_>> = outcomes
        .iter()
        .map(|r| {
            (
                r.line.as_str(),
                r.version,
                [
                    ("offered", r.offered),
                    ("downloaded", r.downloaded),
                    ("updated", r.updated),
                    ("stuck", r.stuck),
                ],
            )
        })
        .collect();
    let snapshot = state.snapshot();
    let text = GroupExposition {
        current_release: snapshot
            .releases
            .current()
            .map_or(0, |r| r.version.as_u32()),
        critical_version: snapshot.critical.map_or(0, |c| c.version.as_u32()),
        group_devices: &counts,
        release_devices: &rows,
    }
    .render()
    .map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .body(text))
}
