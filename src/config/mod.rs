//! The checked configuration: `server.yaml` with the command line and environment laid
//! over it (CLI > env > file). Relative paths in the file are relative to the file;
//! relative paths given on the command line are relative to the working directory.
//! An unknown key is an error: a typo such as `critcal_version` must not pass silently.
//!
//! The wing also holds the raw command line (`cli`), the trusted-proxy list and the guard
//! that keeps `firmware_dir` from publishing the server's own files (`firmware_dir_guard`).
//! It may use only `model` and `platform` (the system's folders, file identities); every
//! other wing may use it.

pub mod cli;
pub mod firmware_dir_guard;
pub mod tls;
pub mod trusted_proxies;

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::config::cli::RawArgs;
use crate::config::trusted_proxies::TrustedProxies;
use crate::model::problem::yaml_message;
use crate::model::text_file::utf8_text;
use crate::model::version::Version;

const DEFAULT_CONFIG: &str = "server.yaml";
const DEFAULT_LISTEN: &str = "0.0.0.0:8888";
const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:8889";
const DEFAULT_SETTLE_MS: u64 = 1000;
const DEFAULT_UNCONFIRMED_SETTLE_MS: u64 = 60_000;
const DEFAULT_POLL_INTERVAL_MS: u64 = 2000;
const DEFAULT_INVENTORY: &str = "inventory.sqlite";
const DEFAULT_RETENTION_DAYS: u64 = 400;
/// Registers flash after the shift closes: a day and a half before "stuck".
const DEFAULT_STUCK_AFTER_S: u64 = 36 * 3600;
const DEFAULT_FLEET_MAX_DEVICES: usize = 100_000;
const DEFAULT_SHUTDOWN_TIMEOUT_S: u64 = 30;
const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 5000;
const DEFAULT_KEEP_ALIVE_S: u64 = 5;
/// nginx's `send_timeout` default.
const DEFAULT_SEND_TIMEOUT_S: u64 = 60;
const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// The allowed range of a number setting, in the words an operator reads in an error.
/// Every duration and count has an upper bound: a value near `u64::MAX` that passed
/// `check` used to panic a worker (`keep_alive_s`) or the shutdown (`shutdown_timeout_s`).
pub struct Bound {
    pub key: &'static str,
    pub min: u64,
    pub max: u64,
    /// The unit, as words after the range ("milliseconds"), or "" for a count.
    pub unit: &'static str,
}

/// Up to an hour: a release that waits longer to be published has not settled.
pub const SETTLE_MS: Bound = Bound {
    key: "settle_ms",
    min: 0,
    max: 3_600_000,
    unit: "milliseconds",
};
pub const UNCONFIRMED_SETTLE_MS: Bound = Bound {
    key: "unconfirmed_settle_ms",
    min: 0,
    max: 3_600_000,
    unit: "milliseconds",
};
pub const POLL_INTERVAL_MS: Bound = Bound {
    key: "poll_interval_ms",
    min: 100,
    max: 600_000,
    unit: "milliseconds",
};
pub const REQUEST_TIMEOUT_MS: Bound = Bound {
    key: "request_timeout_ms",
    min: 100,
    max: 600_000,
    unit: "milliseconds",
};
/// A hundred years: the bench keeps everything.
pub const RETENTION_DAYS: Bound = Bound {
    key: "inventory_retention_days",
    min: 1,
    max: 36_500,
    unit: "days",
};
/// Up to 30 days; tests use a second.
pub const STUCK_AFTER_S: Bound = Bound {
    key: "stuck_after_s",
    min: 1,
    max: 2_592_000,
    unit: "seconds",
};
pub const SHUTDOWN_TIMEOUT_S: Bound = Bound {
    key: "shutdown_timeout_s",
    min: 0,
    max: 3600,
    unit: "seconds",
};
pub const KEEP_ALIVE_S: Bound = Bound {
    key: "keep_alive_s",
    min: 0,
    max: 3600,
    unit: "seconds",
};
pub const SEND_TIMEOUT_S: Bound = Bound {
    key: "send_timeout_s",
    min: 1,
    max: 3600,
    unit: "seconds",
};
/// A remembered device costs a few hundred bytes: ten million is a few GB.
pub const FLEET_MAX_DEVICES: Bound = Bound {
    key: "fleet_max_devices",
    min: 1,
    max: 10_000_000,
    unit: "",
};
/// More than the open files a process gets on any system we run on.
pub const MAX_CONNECTIONS: Bound = Bound {
    key: "max_connections",
    min: 1,
    max: 1_000_000,
    unit: "",
};

/// `value` if `bound` allows it, else a sentence naming the key, the value and the range.
pub fn bounded(bound: Bound, value: u64) -> Result<u64> {
    if (bound.min..=bound.max).contains(&value) {
        return Ok(value);
    }
    let unit = if bound.unit.is_empty() {
        String::new()
    } else {
        format!(" ({})", bound.unit)
    };
    bail!(
        "{} must be between {} and {}{unit}; got {value}",
        bound.key,
        bound.min,
        bound.max
    )
}

/// [`bounded`] for counts held as `usize`.
fn bounded_count(bound: Bound, value: usize) -> Result<usize> {
    let wide = u64::try_from(value).unwrap_or(u64::MAX);
    bounded(bound, wide).map(|_| value)
}

/// `server.yaml` as written. `admin_listen` and `admin_token` distinguish absent (default)
/// from `null`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<String>,
    firmware_dir: Option<PathBuf>,
    licenses: Option<Vec<PathBuf>>,
    critical_version: Option<u32>,
    public_url: Option<String>,
    #[serde(default, deserialize_with = "present")]
    admin_listen: Option<Option<String>>,
    settle_ms: Option<u64>,
    unconfirmed_settle_ms: Option<u64>,
    watch: Option<String>,
    poll_interval_ms: Option<u64>,
    static_files: Option<bool>,
    access_log: Option<String>,
    inventory: Option<String>,
    inventory_retention_days: Option<u64>,
    stuck_after_s: Option<u64>,
    /// `admin_token:` with no value is `Some(None)`: a blank token, refused like `"   "`
    /// (absent means "no token").
    #[serde(default, deserialize_with = "present")]
    admin_token: Option<Option<String>>,
    admin_hosts: Option<Vec<String>>,
    trusted_proxies: Option<Vec<String>>,
    fleet_max_devices: Option<usize>,
    shutdown_timeout_s: Option<u64>,
    request_timeout_ms: Option<u64>,
    keep_alive_s: Option<u64>,
    send_timeout_s: Option<u64>,
    max_connections: Option<usize>,
    tls_listen: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    admin_tls: Option<bool>,
}

/// Lets `admin_listen: null` (and `admin_token:`) be told apart from a missing key.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The settings the server runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file these settings came from, when there was one.
    pub path: Option<PathBuf>,
    pub listen: SocketAddr,
    pub firmware_dir: PathBuf,
    pub licenses: Vec<PathBuf>,
    pub critical_version: Option<Version>,
    /// Base of download URLs, without a trailing `/`.
    pub public_url: Option<String>,
    pub admin_listen: Option<SocketAddr>,
    pub settle: Duration,
    /// Quiet time for a file whose writer nobody could vouch for (never seen closed by the
    /// watcher, and the kernel would not say): at least `settle`.
    pub unconfirmed_settle: Duration,
    /// How changes under `firmware_dir` and the license files are seen.
    pub watch: WatchMode,
    /// How often polled folders are looked at.
    pub poll_interval: Duration,
    /// Serve other files below `firmware_dir` (release notes, installers) from disk.
    pub static_files: bool,
    /// Where the access log goes.
    pub access_log: LogDestination,
    /// Where the fleet's memory is kept.
    pub inventory: InventorySetting,
    /// Days of history, downloads and unseen devices the inventory keeps.
    pub inventory_retention_days: u64,
    /// Seconds after a whole download without a new build date: the device is stuck.
    pub stuck_after_s: u64,
    /// When set, every admin request needs `Authorization: Bearer <token>`.
    pub admin_token: Option<String>,
    /// Host names (besides IP literals and `localhost`) the admin listener answers when it
    /// has no token: the defence against DNS rebinding. Lower case, without a port.
    pub admin_hosts: Vec<String>,
    /// Peers whose `X-Forwarded-For` is believed (reverse proxies, load balancers).
    pub trusted_proxies: TrustedProxies,
    /// How many devices the fleet view remembers (least recently seen are forgotten).
    pub fleet_max_devices: usize,
    /// How long a SIGTERM waits for running requests (downloads) to finish.
    pub shutdown_timeout: Duration,
    /// How long a client may take to send its request (head and body); a client that
    /// sends a byte a second is cut off. Downloads are not limited by it.
    pub request_timeout: Duration,
    /// How long an idle keep-alive connection stays open (0: no keep-alive).
    pub keep_alive: Duration,
    /// How long response bytes the client does not take may wait before the connection is
    /// closed (Linux; see `platform::send_timeout`).
    pub send_timeout: Duration,
    /// At most this many connections at once (beyond it, new ones wait in the backlog).
    pub max_connections: usize,
    /// Native TLS, when configured.
    pub tls: Option<TlsSetting>,
}

/// `tls_listen`, `tls_cert`, `tls_key`, `admin_tls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSetting {
    /// Where the device API is served over HTTPS (beside plain `listen`).
    pub listen: Option<SocketAddr>,
    pub files: tls::TlsFiles,
    /// The admin listener speaks HTTPS too.
    pub admin: bool,
}

impl Config {
    /// Reads the configuration file named by `raw` (or `server.yaml`) and lays `raw` over it.
    /// A missing default file means "all defaults"; a missing named file is an error.
    pub fn load(raw: &RawArgs) -> Result<Config> {
        let (path, named) = match &raw.config {
            Some(path) => (path.clone(), true),
            None => (PathBuf::from(DEFAULT_CONFIG), false),
        };
        let file = match fs::read(&path) {
            Ok(bytes) => {
                let text =
                    utf8_text(bytes, &path.display().to_string()).map_err(anyhow::Error::msg)?;
                Some(
                    parse_file(&text)
                        .with_context(|| format!("{}: invalid configuration", path.display()))?,
                )
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => None,
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot read the configuration file {}", path.display())
                })
            }
        };
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let used_path = file.is_some().then_some(path);
        let config = Config::resolve(raw, file.unwrap_or_default(), &base, used_path)?;
        firmware_dir_guard::check(&config)?;
        Ok(config)
    }

    /// Merges `raw` over `file` and checks every value.
    pub fn resolve(
        raw: &RawArgs,
        file: FileConfig,
        base: &Path,
        path: Option<PathBuf>,
    ) -> Result<Config> {
        let in_file = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        let listen_text = raw
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen = parse_addr("listen", &listen_text)?;
        let firmware_dir = match (&raw.firmware_dir, file.firmware_dir) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => in_file(dir),
            (None, None) => in_file(PathBuf::from("firmware")),
        };
        let licenses = match (&raw.licenses, file.licenses) {
            (Some(list), _) => list
                .iter()
                .filter(|p| !p.as_os_str().is_empty())
                .cloned()
                .collect(),
            (None, Some(list)) => list.into_iter().map(in_file).collect(),
            (None, None) => Vec::new(),
        };
        let critical_version = match raw.critical_version.or(file.critical_version) {
            None | Some(0) => None,
            Some(value) => Some(Version::from_yyyymmdd(value).with_context(|| {
                format!("critical_version {value} is not a real date written yyyymmdd")
            })?),
        };
        let public_url = match raw.public_url.clone().or(file.public_url) {
            Some(url) if url.trim().is_empty() => None,
            Some(url) => Some(check_public_url(&url)?),
            None => None,
        };
        let admin_text = match (&raw.admin_listen, file.admin_listen) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(value)) => value,
            (None, None) => Some(DEFAULT_ADMIN_LISTEN.to_string()),
        };
        let admin_listen = match admin_text.as_deref().map(str::trim) {
            None | Some("" | "off" | "none" | "null") => None,
            Some(text) => Some(parse_addr("admin_listen", text)?),
        };
        let settle_ms = bounded(
            SETTLE_MS,
            layered(raw.settle_ms, file.settle_ms, DEFAULT_SETTLE_MS),
        )?;
        let unconfirmed_settle_ms = bounded(
            UNCONFIRMED_SETTLE_MS,
            layered(
                raw.unconfirmed_settle_ms,
                file.unconfirmed_settle_ms,
                DEFAULT_UNCONFIRMED_SETTLE_MS,
            ),
        )?;
        let watch = match raw.watch.clone().or(file.watch) {
            None => WatchMode::Auto,
            Some(text) => WatchMode::parse(&text)?,
        };
        let poll_interval_ms = bounded(
            POLL_INTERVAL_MS,
            layered(
                raw.poll_interval_ms,
                file.poll_interval_ms,
                DEFAULT_POLL_INTERVAL_MS,
            ),
        )?;
        let access_log = match (&raw.access_log, file.access_log) {
            (Some(text), _) => LogDestination::parse(text),
            (None, Some(text)) => match LogDestination::parse(&text) {
                LogDestination::File(path) => LogDestination::File(in_file(path)),
                other => other,
            },
            (None, None) => LogDestination::Stderr,
        };
        let inventory = match (&raw.inventory, file.inventory) {
            (Some(text), _) => InventorySetting::parse(text, Path::new(""))?,
            (None, Some(text)) => InventorySetting::parse(&text, base)?,
            (None, None) => InventorySetting::Sqlite(in_file(PathBuf::from(DEFAULT_INVENTORY))),
        };
        let inventory_retention_days = bounded(
            RETENTION_DAYS,
            layered(
                raw.inventory_retention_days,
                file.inventory_retention_days,
                DEFAULT_RETENTION_DAYS,
            ),
        )?;
        let stuck_after_s = bounded(
            STUCK_AFTER_S,
            layered(raw.stuck_after_s, file.stuck_after_s, DEFAULT_STUCK_AFTER_S),
        )?;
        // An empty KKT_ADMIN_TOKEN (a blank line in an environment file) is "not given": it
        // must never switch off the token the file sets.
        let admin_token = match raw
            .admin_token
            .clone()
            .filter(|t| !t.is_empty())
            .or(file.admin_token.map(Option::unwrap_or_default))
        {
            None => None,
            Some(token) => Some(admin_token(&token)?),
        };
        let admin_hosts = admin_hosts(
            raw.admin_hosts
                .clone()
                .or(file.admin_hosts)
                .unwrap_or_default(),
        )?;
        let proxies = raw
            .trusted_proxies
            .clone()
            .or(file.trusted_proxies)
            .unwrap_or_default();
        let trusted_proxies = TrustedProxies::parse(&proxies)?;
        let fleet_max_devices = bounded_count(
            FLEET_MAX_DEVICES,
            layered(
                raw.fleet_max_devices,
                file.fleet_max_devices,
                DEFAULT_FLEET_MAX_DEVICES,
            ),
        )?;
        let shutdown_timeout_s = bounded(
            SHUTDOWN_TIMEOUT_S,
            layered(
                raw.shutdown_timeout_s,
                file.shutdown_timeout_s,
                DEFAULT_SHUTDOWN_TIMEOUT_S,
            ),
        )?;
        let request_timeout_ms = bounded(
            REQUEST_TIMEOUT_MS,
            layered(
                raw.request_timeout_ms,
                file.request_timeout_ms,
                DEFAULT_REQUEST_TIMEOUT_MS,
            ),
        )?;
        let keep_alive_s = bounded(
            KEEP_ALIVE_S,
            layered(raw.keep_alive_s, file.keep_alive_s, DEFAULT_KEEP_ALIVE_S),
        )?;
        let send_timeout_s = bounded(
            SEND_TIMEOUT_S,
            layered(
                raw.send_timeout_s,
                file.send_timeout_s,
                DEFAULT_SEND_TIMEOUT_S,
            ),
        )?;
        let max_connections = bounded_count(
            MAX_CONNECTIONS,
            layered(
                raw.max_connections,
                file.max_connections,
                DEFAULT_MAX_CONNECTIONS,
            ),
        )?;
        let tls_listen = match raw.tls_listen.clone().or(file.tls_listen) {
            None => None,
            Some(text) if matches!(text.trim(), "" | "off" | "none" | "null") => None,
            Some(text) => Some(parse_addr("tls_listen", &text)?),
        };
        let admin_tls = layered(raw.admin_tls, file.admin_tls, false);
        let tls_cert = raw.tls_cert.clone().or(file.tls_cert.map(in_file));
        let tls_key = raw.tls_key.clone().or(file.tls_key.map(in_file));
        let tls = match (tls_listen.is_some() || admin_tls, tls_cert, tls_key) {
            (false, _, _) => None,
            (true, Some(cert), Some(key)) => Some(TlsSetting {
                listen: tls_listen,
                files: tls::TlsFiles { cert, key },
                admin: admin_tls,
            }),
            (true, _, _) => bail!(
                "tls_listen and admin_tls need tls_cert and tls_key: the certificate chain and \
                 its private key as PEM files (for example certbot's fullchain.pem and privkey.pem)"
            ),
        };
        if let Some(tls_addr) = tls
            .as_ref()
            .and_then(|t| t.listen)
            .filter(|a| a.port() != 0)
        {
            if tls_addr == listen || Some(tls_addr) == admin_listen {
                bail!("tls_listen must be an address of its own, not listen's or admin_listen's");
            }
        }
        Ok(Config {
            path,
            listen,
            firmware_dir,
            licenses,
            critical_version,
            public_url,
            admin_listen,
            settle: Duration::from_millis(settle_ms),
            unconfirmed_settle: Duration::from_millis(unconfirmed_settle_ms.max(settle_ms)),
            watch,
            poll_interval: Duration::from_millis(poll_interval_ms),
            static_files: layered(raw.static_files, file.static_files, true),
            access_log,
            inventory,
            inventory_retention_days,
            stuck_after_s,
            admin_token,
            admin_hosts,
            trusted_proxies,
            fleet_max_devices,
            shutdown_timeout: Duration::from_secs(shutdown_timeout_s),
            request_timeout: Duration::from_millis(request_timeout_ms),
            keep_alive: Duration::from_secs(keep_alive_s),
            send_timeout: Duration::from_secs(send_timeout_s),
            max_connections,
            tls,
        })
    }
}

/// Where the access log goes (`access_log`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDestination {
    Stderr,
    File(PathBuf),
    Off,
}

impl LogDestination {
    /// `stderr`, `off`, or a file path.
    pub fn parse(text: &str) -> LogDestination {
        match text.trim() {
            "" | "stderr" => LogDestination::Stderr,
            "off" | "none" => LogDestination::Off,
            path => LogDestination::File(PathBuf::from(path)),
        }
    }
}

/// Where the inventory (fleet memory) is kept (`inventory`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventorySetting {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://user:password@host/db`).
    Postgres(String),
    /// Memory only, as before: a restart forgets the fleet.
    Off,
}

impl InventorySetting {
    /// `sqlite:<path>` (relative to `base`), `postgres://…` or `postgresql://…`, `off`.
    fn parse(text: &str, base: &Path) -> Result<InventorySetting> {
        let text = text.trim();
        if text == "off" {
            return Ok(InventorySetting::Off);
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(InventorySetting::Postgres(text.to_string()));
        }
        match text.strip_prefix("sqlite:") {
            Some(path) if !path.trim().is_empty() => {
                let path = PathBuf::from(path.trim());
                Ok(InventorySetting::Sqlite(if path.is_absolute() {
                    path
                } else {
                    base.join(path)
                }))
            }
            _ => bail!(
                "inventory must be sqlite:<file>, postgres://user:password@host/database or off; \
                 got {text:?}"
            ),
        }
    }
}

impl std::fmt::Display for InventorySetting {
    /// For logs and `/status`: never the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InventorySetting::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            InventorySetting::Off => write!(f, "off"),
            InventorySetting::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
                write!(f, "{scheme}://{host}")
            }
        }
    }
}

/// How changes are seen (`watch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchMode {
    /// The system's notifications, except on network file systems, which are polled.
    Auto,
    /// The system's notifications everywhere (inotify on Linux).
    Notify,
    /// Polling everywhere, every `poll_interval_ms`.
    Poll,
}

impl WatchMode {
    fn parse(text: &str) -> Result<WatchMode> {
        match text.trim() {
            "auto" => Ok(WatchMode::Auto),
            "inotify" | "native" | "notify" => Ok(WatchMode::Notify),
            "poll" => Ok(WatchMode::Poll),
            other => bail!("watch must be auto, inotify or poll; got {other:?}"),
        }
    }
}

impl Config {
    /// Settings that work but leave a door open: `check` prints each as a warning and
    /// start-up logs it, every time, until it is fixed.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if let Some(addr) = self.admin_listen.filter(|a| !a.ip().is_loopback()) {
            if self.admin_token.is_none() {
                warnings.push(format!(
                    "admin_listen {addr} can be reached from other machines and admin_token is \
                     not set: anyone who reaches it can read the fleet (serials, addresses) and \
                     ask for reloads. Set admin_token (better: KKT_ADMIN_TOKEN in the service's \
                     environment), or listen on 127.0.0.1"
                ));
            }
        }
        for everyone in self.trusted_proxies.everyone() {
            warnings.push(format!(
                "trusted_proxies holds {everyone}, which is every address: any device can name \
                 any address in X-Forwarded-For and pass for a rollout pilot or another shop. \
                 List only your proxies' addresses"
            ));
        }
        warnings
    }

    /// The log file of the Windows service (`service run`, which has no terminal):
    /// `kkt-update-server.log` next to the configuration file as it was named, rotated
    /// into `.1`, `.2`, `.3`.
    pub fn service_log(&self) -> PathBuf {
        let dir = self
            .path
            .as_ref()
            .and_then(|p| p.parent().map(PathBuf::from))
            .unwrap_or_default();
        dir.join("kkt-update-server.log")
    }

    /// Start-up refuses a `firmware_dir` that is missing or cannot be listed: a server that
    /// starts with nothing to serve would look healthy while offering devices nothing.
    pub fn require_firmware_dir(&self) -> Result<()> {
        let dir = &self.firmware_dir;
        match fs::read_dir(dir) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "firmware_dir {} does not exist; create it (one folder per release inside) \
                 or point firmware_dir (--firmware-dir, KKT_FIRMWARE_DIR) at the right folder",
                dir.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
                bail!("firmware_dir {} is a file, not a folder", dir.display())
            }
            Err(e) => bail!("firmware_dir {} cannot be listed: {e}", dir.display()),
        }
    }
}

/// A configured admin token, trimmed (an HTTP header loses surrounding spaces, so a token
/// with them could never match). A blank one is an error, never "no token": one space in
/// the file must not switch authentication off.
fn admin_token(token: &str) -> Result<String> {
    let token = token.trim();
    if token.is_empty() {
        bail!(
            "admin_token is blank; write a random text of at least 16 characters, or remove \
             the key to run the admin listener without a token"
        );
    }
    if token.chars().count() < 16 {
        bail!(
            "admin_token must be at least 16 characters; it has {}",
            token.chars().count()
        );
    }
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        bail!(
            "admin_token may hold only Latin letters, digits and punctuation (no spaces, no \
             Cyrillic): a browser or curl could not send it otherwise"
        );
    }
    Ok(token.to_string())
}

/// `admin_hosts`: plain host names (`kkt-admin.example.ru`), lower-cased, without ports.
fn admin_hosts(list: Vec<String>) -> Result<Vec<String>> {
    list.into_iter()
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .map(|name| {
            let plain = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            if plain {
                Ok(name)
            } else {
                bail!(
                    "admin_hosts: {name:?} is not a host name like kkt-admin.example.ru \
                     (letters, digits, dots and dashes; no port, no scheme)"
                )
            }
        })
        .collect()
}

/// The command line (or environment) value, else the file's, else the default.
fn layered<T>(cli: Option<T>, file: Option<T>, default: T) -> T {
    cli.or(file).unwrap_or(default)
}

/// Parses the YAML text of a configuration file (an empty file is all defaults).
pub fn parse_file(text: &str) -> Result<FileConfig> {
    if text.trim().is_empty() {
        return Ok(FileConfig::default());
    }
    let file = serde_yaml::from_str::<Option<FileConfig>>(text)
        .map_err(|e| anyhow::anyhow!(plain_type_error(&yaml_message(&e))))?;
    Ok(file.unwrap_or_default())
}

/// What each key of `server.yaml` holds, in words, for errors about a value of the wrong kind.
const EXPECTED_FORMS: &[(&str, &str)] = &[
    ("critical_version", "a date written yyyymmdd, like 20250115"),
    ("listen", "an address like 0.0.0.0:8888"),
    ("admin_listen", "an address like 127.0.0.1:8889, or null"),
    ("firmware_dir", "a folder, like firmware"),
    (
        "licenses",
        "a list of files or folders, like [licenses.yaml, /srv/kkt/licenses/]",
    ),
    ("public_url", "a URL like https://fw.example.ru"),
    ("settle_ms", "a whole number of milliseconds, like 1000"),
    (
        "unconfirmed_settle_ms",
        "a whole number of milliseconds, like 60000",
    ),
    (
        "poll_interval_ms",
        "a whole number of milliseconds, like 2000",
    ),
    (
        "request_timeout_ms",
        "a whole number of milliseconds, like 5000",
    ),
    ("shutdown_timeout_s", "a whole number of seconds, like 30"),
    ("keep_alive_s", "a whole number of seconds, like 5"),
    ("send_timeout_s", "a whole number of seconds, like 60"),
    ("stuck_after_s", "a whole number of seconds, like 129600"),
    (
        "inventory_retention_days",
        "a whole number of days, like 400",
    ),
    ("fleet_max_devices", "a whole number, like 100000"),
    ("max_connections", "a whole number, like 10000"),
    ("static_files", "true or false"),
    (
        "trusted_proxies",
        "a list of addresses or networks, like [127.0.0.1, 10.0.0.0/8]",
    ),
    ("admin_token", "a text of at least 16 characters"),
    (
        "admin_hosts",
        "a list of host names, like [kkt-admin.example.ru]",
    ),
    ("watch", "auto, inotify or poll"),
    ("access_log", "stderr, off, or a file"),
    ("tls_listen", "an address like 0.0.0.0:8443"),
    ("tls_cert", "a PEM file with the certificate chain, like /etc/letsencrypt/live/fw.example.ru/fullchain.pem"),
    ("tls_key", "a PEM file with the private key, like /etc/letsencrypt/live/fw.example.ru/privkey.pem"),
    ("admin_tls", "true or false"),
    ("inventory", "sqlite:<file>, postgres://… or off"),
];

/// Rewrites serde's "key: invalid type: string \"x\", expected u32 at line 2 column 19"
/// as "critical_version must be a date written yyyymmdd, like 20250115; got \"x\" (line 2)":
/// an operator should never read a Rust type name.
fn plain_type_error(message: &str) -> String {
    let Some((key, rest)) = message.split_once(": ") else {
        return message.to_string();
    };
    let Some(form) = EXPECTED_FORMS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, f)| f)
    else {
        return message.to_string();
    };
    let Some(detail) = rest
        .strip_prefix("invalid type: ")
        .or_else(|| rest.strip_prefix("invalid value: "))
    else {
        return message.to_string();
    };
    let (found, tail) = detail.split_once(", expected").unwrap_or((detail, ""));
    // serde quotes a number between backquotes, and past u64 adds the Rust type it tried
    // ("integer `18446744073709551616` as u128"): only what was written is shown.
    let quoted = found
        .strip_prefix("integer `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(number, _)| number);
    let got = quoted
        .unwrap_or(found)
        .trim_start_matches("string ")
        .trim_start_matches("integer ")
        .trim_start_matches("floating point ")
        .trim_start_matches("boolean ")
        .trim_matches('`');
    let line = tail
        .split(" at line ")
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .map(|l| format!(" (line {l})"))
        .unwrap_or_default();
    format!("{key} must be {form}; got {got}{line}")
}

fn parse_addr(key: &str, text: &str) -> Result<SocketAddr> {
    text.trim()
        .parse()
        .with_context(|| format!("{key} {text:?} is not an address like 0.0.0.0:8888 or [::]:8888"))
}

/// `public_url` must be an absolute http(s) URL; its trailing `/` is dropped.
fn check_public_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) && !host.contains(['?', '#']) => {
            Ok(url.to_string())
        }
        _ => bail!("public_url {url:?} must look like https://fw.example.ru or http://10.0.0.5:8888/prefix"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(raw: RawArgs, yaml: &str) -> Result<Config> {
        Config::resolve(&raw, parse_file(yaml)?, Path::new("/etc/kkt"), None)
    }

    #[test]
    fn defaults_and_paths_relative_to_the_file() {
        let config = resolve(
            RawArgs::default(),
            "licenses: [licenses.yaml, /abs/x.slf]\n",
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:8888");
        assert_eq!(config.firmware_dir, Path::new("/etc/kkt/firmware"));
        assert_eq!(
            config.licenses,
            [
                PathBuf::from("/etc/kkt/licenses.yaml"),
                PathBuf::from("/abs/x.slf")
            ]
        );
        assert_eq!(
            config.admin_listen.map(|a| a.to_string()).as_deref(),
            Some("127.0.0.1:8889")
        );
        assert_eq!(config.settle, Duration::from_secs(1));
        assert_eq!(config.critical_version, None);
    }

    #[test]
    fn command_line_values_win_over_the_file() {
        let raw = RawArgs {
            listen: Some("127.0.0.1:0".into()),
            critical_version: Some(20180116),
            firmware_dir: Some("fw".into()),
            ..RawArgs::default()
        };
        let config = resolve(
            raw,
            "listen: 0.0.0.0:1\ncritical_version: 20170101\nfirmware_dir: x\n",
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:0");
        assert_eq!(config.critical_version.map(Version::as_u32), Some(20180116));
        assert_eq!(config.firmware_dir, Path::new("fw"));
    }

    #[test]
    fn admin_listen_null_disables_it() {
        assert_eq!(
            resolve(RawArgs::default(), "admin_listen: null\n")
                .unwrap()
                .admin_listen,
            None
        );
        assert_eq!(
            resolve(RawArgs::default(), "admin_listen: ~\n")
                .unwrap()
                .admin_listen,
            None
        );
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        let error = resolve(RawArgs::default(), "critcal_version: 20180101\n").unwrap_err();
        assert!(
            format!("{error:#}").contains("unknown field `critcal_version`"),
            "{error:#}"
        );
        let error = resolve(RawArgs::default(), "critical_version: 20180231\n").unwrap_err();
        assert!(
            error.to_string().contains("20180231 is not a real date"),
            "{error}"
        );
        let error = resolve(RawArgs::default(), "listen: localhost\n").unwrap_err();
        assert!(
            error.to_string().contains("listen \"localhost\""),
            "{error}"
        );
        let error = resolve(RawArgs::default(), "public_url: fw.example.ru\n").unwrap_err();
        assert!(error.to_string().contains("public_url"), "{error}");
    }

    #[test]
    fn wrong_kinds_of_values_are_named_in_plain_words() {
        for (yaml, expected) in [
            (
                "critical_version: 2025-01-01\n",
                "critical_version must be a date written yyyymmdd, like 20250115; got \"2025-01-01\" (line 1)",
            ),
            (
                "settle_ms: fast\n",
                "settle_ms must be a whole number of milliseconds, like 1000; got \"fast\" (line 1)",
            ),
            (
                "licenses: 5\nsettle_ms: 1\n",
                "licenses must be a list of files or folders, like [licenses.yaml, /srv/kkt/licenses/]; got 5 (line 1)",
            ),
            (
                "static_files: maybe\n",
                "static_files must be true or false; got \"maybe\" (line 1)",
            ),
        ] {
            let error = format!("{:#}", resolve(RawArgs::default(), yaml).unwrap_err());
            assert_eq!(error, expected);
            assert!(!error.contains("u32") && !error.contains("u64") && !error.contains("bool"));
        }
    }

    #[test]
    fn public_url_loses_its_trailing_slash() {
        let config = resolve(
            RawArgs::default(),
            "public_url: https://fw.example.ru/kkt/\n",
        )
        .unwrap();
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://fw.example.ru/kkt")
        );
    }
}
