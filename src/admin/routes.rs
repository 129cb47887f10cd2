//! The operator's listener (`admin_listen`, 127.0.0.1:8889 by default, never the device
//! port): the dashboard, `/status`, `/metrics`, `/healthz` and `/readyz`. With
//! `operators:` or `admin_token` set, every request needs a token: `Authorization: Bearer
//! <token>` (Prometheus, scripts), HTTP Basic with the token as the password and any user
//! name (a browser asks for it), or the login form's session. Which role each route needs
//! is listed in `operator`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::admin::admin_error::AdminError;
use crate::admin::csrf;
use crate::admin::dashboard;
use crate::admin::dashboard_forms::Forms;
use crate::admin::group_metrics;
use crate::admin::inventory_routes;
use crate::admin::login;
use crate::admin::operator::{Operator, Role};
use crate::admin::release_routes;
use crate::admin::status_report::{self, FolderLabel, OperatorState, Status, UnmappedKind};
use crate::admin::view_scope::ViewScope;
use crate::app_state::AppState;
use crate::model::clock;
use crate::observe::metrics::FleetState;
use crate::words::dashboard::for_request;

/// The largest body `POST /reload` reads (a form with its CSRF token).
const RELOAD_FORM_MAX: usize = 4 * 1024;

/// How many devices the dashboard lists.
const RECENT_DEVICES: usize = 50;

/// Registers the admin routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        ("/", Handler::Dashboard),
        ("/status", Handler::Status),
        ("/metrics", Handler::Metrics),
        ("/healthz", Handler::Healthz),
        ("/readyz", Handler::Readyz),
    ] {
        cfg.service(
            web::resource(path)
                .route(web::get().to(move |req, state, query, operator| {
                    handle(handler, req, state, query, operator)
                }))
                .route(web::head().to(move |req, state, query, operator| {
                    handle(handler, req, state, query, operator)
                }))
                .default_service(web::to(|| async {
                    Err::<HttpResponse, _>(AdminError::MethodNotAllowed { allow: "GET, HEAD" })
                })),
        );
    }
    cfg.service(
        web::resource("/reload")
            .app_data(web::PayloadConfig::new(RELOAD_FORM_MAX))
            .route(web::post().to(reload))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(AdminError::MethodNotAllowed { allow: "POST" })
            })),
    );
    login::configure(cfg);
    // Before the inventory's routes: POST /releases shares its path with GET /releases.
    release_routes::configure(cfg);
    inventory_routes::configure(cfg);
    crate::admin::audit_routes::configure(cfg);
    cfg.default_service(web::to(|req: HttpRequest| async move {
        Err::<HttpResponse, _>(AdminError::NotFound(req.path().to_string()))
    }));
}

#[derive(Clone, Copy)]
enum Handler {
    Dashboard,
    Status,
    Metrics,
    Healthz,
    Readyz,
}

async fn handle(
    handler: Handler,
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<std::collections::HashMap<String, String>>,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    let scope = || ViewScope::of(&operator, &query, state.snapshot().groups());
    match handler {
        Handler::Dashboard => dashboard_page(&req, &state, &scope()?, &operator).await,
        Handler::Status => json(&current_status(&state, &scope()?)),
        Handler::Metrics => match operator.groups.as_deref() {
            None => metrics_page(&state).await,
            Some(own) => group_metrics::limited(&state, own).await,
        },
        Handler::Healthz => json(&serde_json::json!({"status": "ok"})),
        Handler::Readyz => readiness(&state),
    }
}

/// `GET /`: the dashboard, in the language the browser asks for, of the devices `scope`
/// shows (a limited viewer's groups, or the group `?group=` picks).
async fn dashboard_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    scope: &ViewScope,
    operator: &Operator,
) -> Result<HttpResponse, AdminError> {
    let status = current_status(state, scope);
    let groups = scope.groups().map(<[String]>::to_vec);
    let (outcomes, adoption) = if state.inventory.is_on() {
        let reader = state.clone();
        let of = groups.clone();
        let adoption = web::block(move || {
            reader
                .inventory
                .read(|db| crate::store::release_reads::adoption_of(db, of.as_deref()))
        })
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
        (release_outcomes(state, groups).await, adoption)
    } else {
        (Vec::new(), Vec::new())
    };
    let t = for_request(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let lines = status.lines.iter().map(|l| l.name.to_string()).collect();
    let forms = Forms::for_request(req, operator, lines, t);
    let selector = dashboard::GroupSelector::new(
        ViewScope::choices(operator, state.snapshot().groups()),
        scope,
        operator,
        t,
    );
    let page = dashboard::render(
        &status,
        clock::unix_now(),
        &outcomes,
        &adoption,
        state.inventory.is_on(),
        dashboard::Reader {
            t,
            forms: &forms,
            groups: &selector,
        },
    )
    .map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(page))
}

/// `GET /metrics`: the gauges that are read at scrape time are brought up to date (dropped
/// log lines, release outcomes, the fleet's state), then everything is rendered.
async fn metrics_page(state: &web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    state.metrics.access_log_dropped(state.access_log.dropped());
    if state.inventory.is_on() {
        let rows = release_outcomes(state, None).await;
        state.metrics.release_outcomes(
            &rows
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
                .collect::<Vec<_>>(),
        );
    }
    group_metrics::set_group_devices(state).await;
    let status = current_status(state, &ViewScope::all());
    state.metrics.fleet_state(&fleet_state(
        &status,
        state.config_file.get().map(String::as_str),
    ));
    let text = state
        .metrics
        .render()
        .map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .body(text))
}

/// `GET /readyz`: ready once a release is published. A file that does not load is said in
/// the body (`config_stale`) but keeps the answer 200: a typo in `server.yaml` must never
/// take every instance out of a load balancer at once.
fn readiness(state: &web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let snapshot = state.snapshot();
    let stale =
        status_report::stale_files(&snapshot, state.config_stale().as_ref(), clock::unix_now());
    match snapshot.releases.current() {
        Some(current) => json(&serde_json::json!({
            "status": "ready",
            "current_release": current.version.as_u32(),
            "config_stale": stale,
        })),
        // Not ready, with the same `config_stale` as a ready answer: a broken file may be
        // why nothing is published (a load balancer's log then says so).
        None => {
            let error = AdminError::NotReady(format!(
                "no release is published in {}",
                snapshot.firmware_dir.display()
            ));
            Ok(
                HttpResponse::build(error.status_code()).json(serde_json::json!({
                    "error": error.to_string(),
                    "status": "not ready",
                    "config_stale": stale,
                })),
            )
        }
    }
}

/// `POST /reload` (role `admin`; a browser's form post with the CSRF token): rescans now
/// (as SIGHUP does) and answers with what the reload found, once it is done.
async fn reload(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    operator: Operator,
) -> Result<HttpResponse, AdminError> {
    operator.require(Role::Admin)?;
    csrf::check(&req, &operator, csrf::given(&req, Some(&body)).as_deref())?;
    let before = state.reload_count();
    // The audit trail's actor for this reload.
    state.request_reload(&operator.name);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if state.reload_count() > before {
            let newest = state.reloads().into_iter().next();
            if let Some(done) = newest.filter(|r| r.trigger == "request") {
                return json(&serde_json::json!({
                    "status": if done.ok { "reloaded" } else { "kept the running state" },
                    "outcome": done.outcome,
                    "duration_ms": done.duration_ms,
                }));
            }
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Err(AdminError::Internal(
        "the reload did not finish within 30 s; see the log".into(),
    ))
}

/// Per release offered as an update, what became of the offers (empty when the store
/// cannot be read: the page and the metrics still answer).
async fn release_outcomes(
    state: &web::Data<AppState>,
    groups: Option<Vec<String>>,
) -> Vec<crate::store::release_reads::ReleaseRow> {
    let reader = state.clone();
    web::block(move || {
        let now = clock::unix_now();
        let stuck = reader.inventory.settings().stuck_after;
        reader
            .inventory
            .read(|db| crate::store::release_reads::releases_of(db, now, stuck, groups.as_deref()))
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default()
}

/// What the scrape-time gauges show, read off the report (and the configuration file's
/// name, which the report does not hold).
fn fleet_state(status: &Status, config_file: Option<&str>) -> FleetState {
    let unmapped = |kind: UnmappedKind| {
        status
            .unmapped_build_dates
            .iter()
            .filter(|d| d.kind == kind)
            .map(|d| d.devices)
            .sum()
    };
    let rejected = |folders: &[status_report::FolderView]| {
        folders
            .iter()
            .filter(|f| f.state == FolderLabel::Rejected)
            .count()
    };
    FleetState {
        line_current: line_current(status),
        rollouts: status
            .rollouts
            .iter()
            .map(|r| {
                (
                    r.line.clone(),
                    r.version,
                    r.admitted,
                    r.halted.is_some(),
                    r.paused,
                )
            })
            .collect(),
        unknown_build_date_devices: unmapped(UnmappedKind::Unknown),
        ambiguous_build_date_devices: unmapped(UnmappedKind::Ambiguous),
        rejected_releases: rejected(&status.releases)
            + status
                .lines
                .iter()
                .map(|l| rejected(&l.releases))
                .sum::<usize>(),
        inventory_ok: (status.inventory.store != "off").then_some(status.inventory.ok),
        tls_expires_at: status.tls.as_ref().and_then(|t| t.expires_at),
        inventory_dropped: status.inventory.dropped,
        inventory_limited: status.inventory.limited,
        inventory_waiting: status.inventory.waiting,
        inventory_written: status.inventory.written,
        config_stale: config_file
            .map(|file| {
                let stale = status
                    .config_stale
                    .iter()
                    .any(|s| s.kind == status_report::StaleKind::Config);
                (file.to_string(), stale)
            })
            .into_iter()
            .collect(),
        licenses_stale: licenses_stale(status),
        rollout_projections: rollout_projections(status),
    }
}

/// Each line's current release (the default line's name is empty; 0: none).
fn line_current(status: &Status) -> Vec<(String, u32)> {
    std::iter::once((
        String::new(),
        status.current_release.as_ref().map_or(0, |r| r.version),
    ))
    .chain(status.lines.iter().map(|l| {
        (
            l.name.clone(),
            l.current_release.as_ref().map_or(0, |r| r.version),
        )
    }))
    .collect()
}

/// Each license file, and whether its last edit was refused (the last good one serving).
fn licenses_stale(status: &Status) -> Vec<(String, bool)> {
    status
        .licenses
        .files
        .iter()
        .map(|f| {
            let stale = status
                .config_stale
                .iter()
                .any(|s| s.kind == status_report::StaleKind::Licenses && s.file == f.path);
            (f.path.clone(), stale)
        })
        .collect()
}

/// Per release under rollout: its line, version, projected finish and lateness.
fn rollout_projections(status: &Status) -> Vec<(String, u32, Option<u64>, bool)> {
    status
        .rollouts
        .iter()
        .map(|r| (r.line.clone(), r.version, r.projected_finish, r.late))
        .collect()
}

/// The report, from one snapshot, of the devices `scope` shows; for a viewer limited to
/// groups, without the figures of the whole fleet (`limit_to_groups`).
fn current_status(state: &AppState, scope: &ViewScope) -> Status {
    let mut status = full_status(state, scope);
    if scope.is_limited() {
        limit_to_groups(&mut status);
    }
    status
}

/// What a viewer limited to groups is not shown of the report: every figure that counts
/// the whole fleet (other clients' registers) or describes the server rather than its
/// registers. Its own devices, their counts and chart, and the releases (what every
/// client is offered) stay. Rollouts go: their admitted, stage and projection figures
/// count the whole fleet.
fn limit_to_groups(status: &mut Status) {
    status.requests.clear();
    status.reloads.clear();
    status.rollouts.clear();
    status.config_stale.clear();
    status.licenses = status_report::LicensesView {
        serials: 0,
        files: Vec::new(),
        overrides: Vec::new(),
    };
    let inventory = &mut status.inventory;
    inventory.error = None;
    inventory.written = 0;
    inventory.dropped = 0;
    inventory.limited = 0;
    inventory.waiting = 0;
    inventory.audit_head = None;
    status.tls = None;
}

/// The whole report, its devices and their counts those `scope` shows.
fn full_status(state: &AppState, scope: &ViewScope) -> Status {
    let snapshot = state.snapshot_arc();
    let now = clock::now();
    let lines: std::collections::HashMap<&str, _> = snapshot
        .all_lines()
        .map(|line| {
            (
                line.name,
                (line.releases.current().map(|r| r.version), line.critical()),
            )
        })
        .collect();
    let line_of = |build: u32| {
        let version = crate::model::version::Version::from_yyyymmdd(build)?;
        let name = snapshot.line_index.line_of(version).serving_line()?;
        lines.get(name).copied()
    };
    let groups = snapshot.groups();
    let shown = |d: &crate::observe::fleet::Device| scope.shows_device(groups, d.address, d.serial);
    let (fleet, devices) = {
        let fleet = state.fleet();
        (
            fleet.summary_of(crate::model::unix_time::unix(now), &line_of, &shown),
            fleet.recent_of(RECENT_DEVICES, &shown),
        )
    };
    let operator = OperatorState {
        started: state.started,
        config_stale: state.config_stale(),
        reloads: state.reloads(),
        requests: state.metrics.request_counts(),
        fleet,
        devices,
        inventory: state.inventory.status(),
        tls: state.certificates.get().map(|store| {
            status_report::tls_view(
                store,
                i64::try_from(crate::model::unix_time::unix(now)).unwrap_or(0),
            )
        }),
        rollouts: crate::rollout::status::rollouts(
            &snapshot,
            &state.admissions,
            state
                .inventory
                .is_on()
                .then(|| state.forecasts.latest())
                .as_ref(),
            crate::model::unix_time::unix(now),
            &window_minutes(&snapshot, crate::model::unix_time::unix(now)),
        ),
    };
    status_report::status(&snapshot, operator, now)
}

/// The minute of the day at `now` by every clock rollout windows are read in: the server's,
/// then each device group's (`groups.yaml`).
fn window_minutes(snapshot: &crate::catalog::snapshot::Snapshot, now: u64) -> Vec<u32> {
    std::iter::once(crate::model::unix_time::local_minute(now))
        .chain(snapshot.groups().iter().map(|g| g.local_minute(now)))
        .collect()
}

fn json<T: Serialize>(value: &T) -> Result<HttpResponse, AdminError> {
    let body = serde_json::to_vec_pretty(value).map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(body))
}
