//! Prometheus metrics: requests by route and status, latency, what devices were told,
//! license hits and misses, reloads, access lines dropped, and the state devices see
//! (release, critical version, devices seen); and, set from the whole state when scraped,
//! each release's outcomes and the fleet's gauges (lines, rollouts and their projected
//! finish and lateness, unmapped build dates, rejected releases, the inventory's health,
//! its writer's backlog and records written, TLS expiry, files that do not load); the
//! groups file's state is set with each snapshot.
//! Rendered in the text exposition format for `GET /metrics`.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::catalog::firmware_offer::FirmwareOffer;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    check_firmware: IntCounterVec,
    license_lookups: IntCounterVec,
    reloads: IntCounterVec,
    current_release: IntGauge,
    critical_version: IntGauge,
    devices_seen: IntGauge,
    access_log_dropped: IntCounter,
    /// Tokens refused at the admin listener's login form.
    admin_login_failures: IntCounter,
    release_devices: IntGaugeVec,
    fleet_state: FleetGauges,
    /// Devices in the inventory per group (`groups.yaml`, at most 1,000 groups).
    group_devices: IntGaugeVec,
    // hardening: set with the snapshot, like `current_release`.
    /// `groups.yaml`, labelled as the snapshot names it: 1 while it does not load.
    groups_stale: IntGaugeVec,
}

/// The help of `release_devices`, the same in the full and the limited exposition.
const RELEASE_DEVICES_HELP: &str =
    "Devices per release offered as an update: offered, downloaded, updated, stuck";
/// The help of `group_devices`.
const GROUP_DEVICES_HELP: &str =
    "Devices in the inventory per group of groups.yaml (by network, else by a serial asked for)";

/// Gauges set from the whole state when scraped: lines, rollouts, unmapped build dates,
/// rejected releases, the inventory's health.
struct FleetGauges {
    line_current: IntGaugeVec,
    rollout_admitted: IntGaugeVec,
    rollout_halted: IntGaugeVec,
    rollout_paused: IntGaugeVec,
    unmapped: IntGaugeVec,
    rejected: IntGauge,
    inventory_ok: IntGauge,
    inventory_dropped: IntGauge,
    inventory_limited: IntGauge,
    inventory_waiting: IntGauge,
    /// Brought up to the writer's own count when scraped (it only grows while the process
    /// runs: one inventory per process).
    inventory_written: IntCounter,
    tls_expires: IntGauge,
    config_stale: IntGaugeVec,
    licenses_stale: IntGaugeVec,
    rollout_projected_finish: IntGaugeVec,
    rollout_late: IntGaugeVec,
}

/// One release's outcome counts: line, version, and (outcome, devices) four times.
pub type ReleaseOutcomeRow<'a> = (&'a str, u32, [(&'static str, u64); 4]);

/// What the scrape-time gauges show.
#[derive(Debug, Default)]
pub struct FleetState {
    /// Per line (`""`: default): the newest published release (0: none).
    pub line_current: Vec<(String, u32)>,
    /// Per release under rollout: line, version, admitted, halted, paused.
    pub rollouts: Vec<(String, u32, u64, bool, bool)>,
    /// Devices of the last day whose build date no line claims, and whose several do.
    pub unknown_build_date_devices: usize,
    pub ambiguous_build_date_devices: usize,
    /// Release folders rejected, in every line.
    pub rejected_releases: usize,
    /// `None`: no inventory.
    pub inventory_ok: Option<bool>,
    pub inventory_dropped: u64,
    /// Inventory records of addresses over their share, not kept.
    pub inventory_limited: u64,
    /// Records waiting to be written (in the queue, or taken by the writer and not written).
    pub inventory_waiting: u64,
    /// Records written since the start.
    pub inventory_written: u64,
    /// When the TLS certificate serving expires (Unix seconds); none without native TLS.
    pub tls_expires_at: Option<i64>,
    /// The configuration file, and whether it fails to load (the running one is kept).
    pub config_stale: Vec<(String, bool)>,
    /// Each license file, and whether it is broken as a whole.
    pub licenses_stale: Vec<(String, bool)>,
    /// Per release under rollout: line, version, its projected finish (Unix seconds; none:
    /// not projected, no series), and whether it will miss its deadline.
    pub rollout_projections: Vec<(String, u32, Option<u64>, bool)>,
}

/// Makes metrics and registers each with the registry as it is made.
struct Register<'a>(&'a Registry);

impl Register<'_> {
    fn add<M: prometheus::core::Collector + Clone + 'static>(
        &self,
        metric: M,
    ) -> prometheus::Result<M> {
        self.0.register(Box::new(metric.clone()))?;
        Ok(metric)
    }

    fn counter(&self, name: &str, help: &str) -> prometheus::Result<IntCounter> {
        self.add(IntCounter::new(name, help)?)
    }

    fn counter_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> prometheus::Result<IntCounterVec> {
        self.add(IntCounterVec::new(Opts::new(name, help), labels)?)
    }

    fn gauge(&self, name: &str, help: &str) -> prometheus::Result<IntGauge> {
        self.add(IntGauge::new(name, help)?)
    }

    fn gauge_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> prometheus::Result<IntGaugeVec> {
        self.add(IntGaugeVec::new(Opts::new(name, help), labels)?)
    }
}

impl FleetGauges {
    fn new(register: &Register) -> prometheus::Result<FleetGauges> {
        Ok(FleetGauges {
            line_current: register.gauge_vec(
                "line_current_release",
                "Per firmware line (\"\": the default line), the newest published release (yyyymmdd, 0: none)",
                &["line"],
            )?,
            rollout_admitted: register.gauge_vec(
                "rollout_admitted",
                "Devices admitted to a release under rollout",
                &["line", "version"],
            )?,
            rollout_halted: register.gauge_vec(
                "rollout_halted",
                "1 while a rollout is halted by its stuck devices",
                &["line", "version"],
            )?,
            rollout_paused: register.gauge_vec(
                "rollout_paused",
                "1 while a rollout is paused in its meta.yaml",
                &["line", "version"],
            )?,
            unmapped: register.gauge_vec(
                "unmapped_build_date_devices",
                "Devices of the last 24 h whose build date no line claims (unknown) or several do (ambiguous)",
                &["kind"],
            )?,
            rejected: register.gauge("releases_rejected", "Release folders kept out (invalid, incomplete, hash mismatch)")?,
            inventory_ok: register.gauge(
                "inventory_ok",
                "1 while the inventory is written without error, 0 while writes fail (absent: no inventory)",
            )?,
            inventory_dropped: register.gauge(
                "inventory_dropped",
                "Inventory records dropped because the writer could not keep up or the store was down too long",
            )?,
            inventory_limited: register.gauge(
                "inventory_limited",
                "Inventory records not kept because their address sent more than its share of the queue (that address's only)",
            )?,
            inventory_waiting: register.gauge(
                "inventory_waiting",
                "Inventory records waiting for the writer (queued, or taken and not yet written: the backlog of a store that is behind or down; at most 100000 queued and 100000 taken)",
            )?,
            inventory_written: register.counter(
                "inventory_written_total",
                "Inventory records written to the store since the start",
            )?,
            tls_expires: register.gauge(
                "tls_certificate_expires_timestamp_seconds",
                "When the TLS certificate serving expires, Unix seconds (0: no native TLS)",
            )?,
            config_stale: register.gauge_vec(
                "config_stale",
                "1 while server.yaml does not load and the running configuration is kept",
                &["file"],
            )?,
            licenses_stale: register.gauge_vec(
                "licenses_stale",
                "1 while a license file cannot be used as a whole (it serves what it loaded before it broke, or nothing after a start)",
                &["file"],
            )?,
            rollout_projected_finish: register.gauge_vec(
                "rollout_projected_finish_timestamp_seconds",
                "When the last device of the line below a release under rollout is projected to report it, Unix seconds (absent: not projected yet, paused, halted or done)",
                &["line", "version"],
            )?,
            rollout_late: register.gauge_vec(
                "rollout_late",
                "1 while a rollout is projected to miss its deadline (or the deadline passed with devices still below the release)",
                &["line", "version"],
            )?,
        })
    }
}

impl Metrics {
    /// Registers every metric. Fails only on a programming error (a duplicate name).
    pub fn new() -> prometheus::Result<Metrics> {
        let registry = Registry::new_custom(Some("kkt".into()), None)?;
        let register = Register(&registry);
        let latency = register.add(HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Device API request latency by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
            ]),
            &["route"],
        )?)?;
        Ok(Metrics {
            requests: register.counter_vec(
                "http_requests_total",
                "Device API requests by route and status",
                &["route", "status"],
            )?,
            latency,
            check_firmware: register.counter_vec(
                "check_firmware_total",
                "check_firmware answers: up_to_date, update_offered, critical_offered",
                &["outcome"],
            )?,
            license_lookups: register.counter_vec(
                "license_lookups_total",
                "feature_licenses lookups",
                &["result"],
            )?,
            reloads: register.counter_vec("reloads_total", "Reloads by outcome", &["outcome"])?,
            current_release: register.gauge(
                "current_release",
                "The release devices are offered (yyyymmdd, 0: none)",
            )?,
            critical_version: register.gauge(
                "critical_version",
                "Builds before this date are critical (yyyymmdd, 0: none)",
            )?,
            devices_seen: register.gauge("devices_seen", "Devices remembered by the fleet view")?,
            access_log_dropped: register.counter(
                "access_log_dropped_total",
                "Access lines dropped because the writer could not keep up",
            )?,
            admin_login_failures: register.counter(
                "admin_login_failures_total",
                "Tokens the admin listener's login form refused (no operator has them)",
            )?,
            release_devices: register.gauge_vec(
                "release_devices",
                RELEASE_DEVICES_HELP,
                &["line", "version", "outcome"],
            )?,
            fleet_state: FleetGauges::new(&register)?,
            group_devices: register.gauge_vec("group_devices", GROUP_DEVICES_HELP, &["group"])?,
            groups_stale: register.gauge_vec(
                "groups_stale",
                "1 while groups.yaml does not load (the groups loaded before it broke are kept, none after a start)",
                &["file"],
            )?,
            // Last: every metric above is registered with it by now.
            registry,
        })
    }

    pub fn request(&self, route: &str, status: u16, took: Duration) {
        self.requests
            .with_label_values(&[route, status_label(status)])
            .inc();
        self.latency
            .with_label_values(&[route])
            .observe(took.as_secs_f64());
    }

    pub fn offered(&self, offer: &FirmwareOffer) {
        let outcome = match (offer.update_available, offer.critical) {
            (false, _) => "up_to_date",
            (true, false) => "update_offered",
            (true, true) => "critical_offered",
        };
        self.check_firmware.with_label_values(&[outcome]).inc();
    }

    pub fn license_lookup(&self, hit: bool) {
        self.license_lookups
            .with_label_values(&[if hit { "hit" } else { "miss" }])
            .inc();
    }

    /// The login form refused a token.
    pub fn admin_login_failed(&self) {
        self.admin_login_failures.inc();
    }

    pub fn reload(&self, ok: bool) {
        self.reloads
            .with_label_values(&[if ok { "ok" } else { "failed" }])
            .inc();
    }

    pub fn state(&self, current_release: u32, critical_version: u32) {
        self.current_release.set(i64::from(current_release));
        self.critical_version.set(i64::from(critical_version));
    }

    /// The groups file of the snapshot now served, and whether it does not load (`None`: no
    /// `groups:` set, no series).
    pub fn groups_stale(&self, file: Option<(&str, bool)>) {
        self.groups_stale.reset();
        if let Some((file, stale)) = file {
            self.groups_stale
                .with_label_values(&[file])
                .set(i64::from(stale));
        }
    }

    /// Brings the dropped-lines counter up to `total` (the access log counts them itself).
    pub fn access_log_dropped(&self, total: u64) {
        let seen = self.access_log_dropped.get();
        if total > seen {
            self.access_log_dropped.inc_by(total - seen);
        }
    }

    /// Sets the per-release outcome counts (read from the inventory when scraped).
    pub fn release_outcomes(&self, rows: &[ReleaseOutcomeRow<'_>]) {
        set_release_devices(&self.release_devices, rows);
    }

    /// Sets the devices per group (read from the inventory when scraped): one series per
    /// group of `groups.yaml`, so at most 1,000.
    pub fn group_devices(&self, counts: &[(String, u64)]) {
        set_group_devices(&self.group_devices, counts);
    }

    /// Sets the scrape-time gauges.
    pub fn fleet_state(&self, state: &FleetState) {
        let g = &self.fleet_state;
        let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        g.line_current.reset();
        for (line, current) in &state.line_current {
            g.line_current
                .with_label_values(&[line.as_str()])
                .set(i64::from(*current));
        }
        for vec in [&g.rollout_admitted, &g.rollout_halted, &g.rollout_paused] {
            vec.reset();
        }
        for (line, version, admitted, halted, paused) in &state.rollouts {
            let labels = [line.as_str(), &version.to_string()];
            g.rollout_admitted
                .with_label_values(&labels)
                .set(int(*admitted));
            g.rollout_halted
                .with_label_values(&labels)
                .set(i64::from(*halted));
            g.rollout_paused
                .with_label_values(&labels)
                .set(i64::from(*paused));
        }
        g.rollout_projected_finish.reset();
        g.rollout_late.reset();
        for (line, version, finish, late) in &state.rollout_projections {
            let labels = [line.as_str(), &version.to_string()];
            if let Some(finish) = finish {
                g.rollout_projected_finish
                    .with_label_values(&labels)
                    .set(int(*finish));
            }
            g.rollout_late
                .with_label_values(&labels)
                .set(i64::from(*late));
        }
        g.unmapped
            .with_label_values(&["unknown"])
            .set(int(state.unknown_build_date_devices as u64));
        g.unmapped
            .with_label_values(&["ambiguous"])
            .set(int(state.ambiguous_build_date_devices as u64));
        g.rejected.set(int(state.rejected_releases as u64));
        g.inventory_ok.set(match state.inventory_ok {
            Some(true) => 1,
            Some(false) => 0,
            None => -1,
        });
        g.inventory_dropped.set(int(state.inventory_dropped));
        g.inventory_limited.set(int(state.inventory_limited));
        g.inventory_waiting.set(int(state.inventory_waiting));
        let seen = g.inventory_written.get();
        if state.inventory_written > seen {
            g.inventory_written.inc_by(state.inventory_written - seen);
        }
        g.tls_expires.set(state.tls_expires_at.unwrap_or(0));
        for (vec, files) in [
            (&g.config_stale, &state.config_stale),
            (&g.licenses_stale, &state.licenses_stale),
        ] {
            vec.reset();
            for (file, stale) in files {
                vec.with_label_values(&[file.as_str()])
                    .set(i64::from(*stale));
            }
        }
    }

    pub fn devices(&self, count: usize) {
        self.devices_seen
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Requests counted so far, as (route, status, count).
    pub fn request_counts(&self) -> Vec<(String, String, u64)> {
        let mut out = Vec::new();
        for family in self.registry.gather() {
            if !family.name().ends_with("http_requests_total") {
                continue;
            }
            for metric in family.get_metric() {
                let label = |name: &str| {
                    metric
                        .get_label()
                        .iter()
                        .find(|l| l.name() == name)
                        .map(|l| l.value().to_string())
                        .unwrap_or_default()
                };
                out.push((
                    label("route"),
                    label("status"),
                    metric.get_counter().get_value() as u64,
                ));
            }
        }
        out
    }

    /// The text exposition format.
    pub fn render(&self) -> Result<String, RenderError> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(String::from_utf8(buffer)?)
    }
}

fn set_release_devices(gauges: &IntGaugeVec, rows: &[ReleaseOutcomeRow<'_>]) {
    gauges.reset();
    for (line, version, counts) in rows {
        let version = version.to_string();
        for (outcome, n) in counts {
            gauges
                .with_label_values(&[line, version.as_str(), outcome])
                .set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
    }
}

fn set_group_devices(gauges: &IntGaugeVec, counts: &[(String, u64)]) {
    gauges.reset();
    for (group, n) in counts {
        gauges
            .with_label_values(&[group.as_str()])
            .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
}

/// What a viewer limited to groups may scrape: the release devices are offered and the
/// critical version (the same for every client), its groups' device counts, and the
/// outcomes of the releases counted over its groups' devices only; nothing that counts
/// the whole fleet (requests, rollouts, the inventory's health).
pub struct GroupExposition<'a> {
    pub current_release: u32,
    pub critical_version: u32,
    pub group_devices: &'a [(String, u64)],
    pub release_devices: &'a [ReleaseOutcomeRow<'a>],
}

impl GroupExposition<'_> {
    /// The text exposition format, in the same names, labels and help as the full one.
    pub fn render(&self) -> Result<String, RenderError> {
        let registry = Registry::new_custom(Some("kkt".into()), None)?;
        let register = Register(&registry);
        register
            .gauge(
                "current_release",
                "The release devices are offered (yyyymmdd, 0: none)",
            )?
            .set(i64::from(self.current_release));
        register
            .gauge(
                "critical_version",
                "Builds before this date are critical (yyyymmdd, 0: none)",
            )?
            .set(i64::from(self.critical_version));
        let groups = register.gauge_vec("group_devices", GROUP_DEVICES_HELP, &["group"])?;
        set_group_devices(&groups, self.group_devices);
        let releases = register.gauge_vec(
            "release_devices",
            RELEASE_DEVICES_HELP,
            &["line", "version", "outcome"],
        )?;
        set_release_devices(&releases, self.release_devices);
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&registry.gather(), &mut buffer)?;
        Ok(String::from_utf8(buffer)?)
    }
}

/// Why the metrics could not be rendered (a programming error: the encoder writes UTF-8).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Encode(#[from] prometheus::Error),
    #[error(transparent)]
    NotUtf8(#[from] std::string::FromUtf8Error),
}

/// Status codes as static labels, so that label values need no allocation.
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        206 => "206",
        304 => "304",
        400 => "400",
        401 => "401",
        404 => "404",
        405 => "405",
        413 => "413",
        416 => "416",
        500 => "500",
        503 => "503",
        s if s < 300 => "2xx",
        s if s < 400 => "3xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}
