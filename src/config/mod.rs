//! The checked configuration: `server.yaml` with the command line and environment laid
//! over it (CLI > env > file). Relative paths in the file are relative to the file;
//! relative paths given on the command line are relative to the working directory.
//! An unknown key is an error: a typo such as `critcal_version` must not pass silently.
//!
//! Every setting is defined once, in `settings` (key, flag, variable, default, bounds, the
//! form errors name); the command line (`cli`) and the file (`file`) are each read into a
//! `layer` of given values, and `Config::resolve` lays them over the defaults. The wing also
//! holds the trusted-proxy list, the guard that keeps `firmware_dir` from publishing the
//! server's own files (`firmware_dir_guard`), and what a scan needs of it (`scan_settings`).
//! It may use only the crates below the server (`model`, `platform`, and `catalog` for the
//! `ScanSettings` it fills and the private files it names); the wings above it in README's
//! map may use it.

pub mod cli;
mod file;
pub mod firmware_dir_guard;
mod layer;
pub mod operators;
pub mod postgres_url;
mod scan_settings;
pub mod search;
pub mod settings;
pub mod tls;

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Result};

use crate::config::cli::RawArgs;
pub use crate::config::file::{parse_file, FileConfig};
use crate::config::layer::Layer;
use crate::config::postgres_url::PostgresSetting;
use crate::config::settings::*;
use crate::model::lang::{fill, Lang, LanguageChoice};
use crate::model::text_file::utf8_text;
use crate::model::trusted_proxies::TrustedProxies;
use crate::model::version::Version;
use crate::words::{cause_in, chain_in, Said, Words};

/// A sentence of the table with `values`, ending in why (an error's whole chain, each
/// part in the same language).
fn said(
    template: impl Fn(&'static Words) -> &'static str,
    values: &[(&str, &dyn std::fmt::Display)],
    why: &anyhow::Error,
) -> anyhow::Error {
    Said::new(|w| {
        let why = chain_in(&**why, w.lang);
        let mut all: Vec<(&str, &dyn std::fmt::Display)> = values.to_vec();
        all.push(("why", &why));
        fill(template(w), &all)
    })
    .into()
}

/// The settings the server runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file these settings came from, when there was one.
    pub path: Option<PathBuf>,
    /// How that file was chosen, or where none was found (`search`).
    pub found: search::Found,
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
    /// The language of the command line's output and the operator's log lines, resolved
    /// (`auto` already asked the system).
    pub language: Lang,
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
    /// `operators:` (file only), checked; `admin_token` is not among them (see
    /// `operator_table`).
    pub operators: Vec<operators::OperatorEntry>,
    /// How long a login form's session lasts.
    pub session_ttl: Duration,
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
    // groups
    /// `groups.yaml` (`groups:`), when set; none: no device groups.
    pub groups: Option<PathBuf>,
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

/// The `language` the configuration file names, when the file can be read and parsed: a
/// configuration refused further on (a bad `listen`) is still explained in the language
/// its file asks for. `None` when there is no such file or key.
pub fn file_language(raw: &RawArgs) -> Option<LanguageChoice> {
    let named = raw.config.clone().map(|path| (path, search::NamedBy::Flag));
    let found = search::choose(named, &search::places());
    let bytes = read_config_file(found.path()?).ok()?;
    let text = utf8_text(bytes, "").ok()?;
    let file = parse_file(&text).ok()?;
    LanguageChoice::parse(&file.given.text(&LANGUAGE)??)
}

impl Config {
    /// Reads the configuration file named by `raw`, or the first one `search` finds, and
    /// lays `raw` over it. No file anywhere means "all defaults"; a missing named file is
    /// an error.
    pub fn load(raw: &RawArgs) -> Result<Config> {
        let named = raw.config.clone().map(|path| {
            let by = if raw.config_from_env {
                search::NamedBy::Env
            } else {
                search::NamedBy::Flag
            };
            (path, by)
        });
        let mut found = search::choose(named, &search::places());
        let file = match found.path() {
            None => None,
            Some(path) => match read_config_file(path) {
                Ok(bytes) => {
                    let text = utf8_text(bytes, &path.display().to_string())
                        .map_err(anyhow::Error::msg)?;
                    Some(parse_file(&text).map_err(|e| {
                        said(|w| w.config.invalid, &[("file", &path.display())], &e)
                    })?)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !found.named() => None,
                Err(e) => {
                    return Err(Said::new(|w| {
                        fill(
                            w.config.cannot_read,
                            &[("file", &path.display()), ("why", &cause_in(&e, w.lang))],
                        )
                    })
                    .into())
                }
            },
        };
        let path = found.path().map(Path::to_path_buf);
        if file.is_none() {
            // Searched, but gone before it could be read: as if never there.
            if let Some(gone) = path.clone() {
                found = search::Found::Nothing { tried: vec![gone] };
            }
        }
        let base = path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let used_path = file.is_some().then_some(path).flatten();
        let mut config = Config::resolve(raw, file.unwrap_or_default(), &base, used_path)?;
        config.found = found;
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
        let given = Sources {
            cli: &raw.given(),
            file: &file.given,
            base,
        };
        let listen = parse_addr(LISTEN.key, &given.text(&LISTEN).unwrap_or_default())?;
        let settle_ms = given.number(&SETTLE_MS)?;
        let unconfirmed_settle_ms = given.number(&UNCONFIRMED_SETTLE_MS)?;
        let admin_listen = given.admin_listen()?;
        let tls = given.tls(listen, admin_listen)?;
        Ok(Config {
            path,
            found: search::Found::default(),
            listen,
            firmware_dir: given.path(&FIRMWARE_DIR).unwrap_or_default(),
            licenses: given.licenses(),
            critical_version: given.critical_version()?,
            public_url: given.public_url()?,
            admin_listen,
            settle: Duration::from_millis(settle_ms),
            unconfirmed_settle: Duration::from_millis(unconfirmed_settle_ms.max(settle_ms)),
            language: language(&given.text(&LANGUAGE).unwrap_or_default())?,
            watch: WatchMode::parse(&given.text(&WATCH).unwrap_or_default())?,
            poll_interval: Duration::from_millis(given.number(&POLL_INTERVAL_MS)?),
            static_files: given.bool(&STATIC_FILES),
            access_log: given.access_log(),
            inventory: given.inventory()?,
            inventory_retention_days: given.number(&INVENTORY_RETENTION_DAYS)?,
            stuck_after_s: given.number(&STUCK_AFTER_S)?,
            admin_token: given.admin_token()?,
            operators: given.operators()?,
            session_ttl: Duration::from_secs(given.number(&SESSION_TTL_S)?),
            admin_hosts: admin_hosts(given.texts(&ADMIN_HOSTS))?,
            trusted_proxies: TrustedProxies::parse(&given.texts(&TRUSTED_PROXIES))
                .map_err(|e| Said::of(&e))?,
            fleet_max_devices: given.count(&FLEET_MAX_DEVICES)?,
            shutdown_timeout: Duration::from_secs(given.number(&SHUTDOWN_TIMEOUT_S)?),
            request_timeout: Duration::from_millis(given.number(&REQUEST_TIMEOUT_MS)?),
            keep_alive: Duration::from_secs(given.number(&KEEP_ALIVE_S)?),
            send_timeout: Duration::from_secs(given.number(&SEND_TIMEOUT_S)?),
            max_connections: given.count(&MAX_CONNECTIONS)?,
            tls,
            groups: given.path(&GROUPS).filter(|p| !p.as_os_str().is_empty()),
        })
    }
}

/// The command line (with the environment) laid over the file, over each setting's
/// default: one place says CLI > env > file > default, and what a path in the file is
/// relative to.
struct Sources<'a> {
    cli: &'a Layer,
    file: &'a Layer,
    /// The file's folder.
    base: &'a Path,
}

impl Sources<'_> {
    fn in_file(&self, path: PathBuf) -> PathBuf {
        if path.is_absolute() {
            path
        } else {
            self.base.join(path)
        }
    }

    /// Text: `Some(None)` is an explicit `null` in the file; `None` is "not given, and no
    /// default".
    fn text_or_null(&self, setting: &Setting) -> Option<Option<String>> {
        self.cli
            .text(setting)
            .or_else(|| self.file.text(setting))
            .or_else(|| match setting.default {
                Builtin::Text(text) => Some(Some(text.to_string())),
                _ => None,
            })
    }

    fn text(&self, setting: &Setting) -> Option<String> {
        self.text_or_null(setting).flatten()
    }

    /// A path: from the command line as given, from the file (or the default) relative to
    /// the file.
    fn path(&self, setting: &Setting) -> Option<PathBuf> {
        if let Some(path) = self.cli.path(setting) {
            return Some(path);
        }
        let from_file = self.file.path(setting).or(match setting.default {
            Builtin::Text(text) => Some(PathBuf::from(text)),
            _ => None,
        });
        from_file.map(|p| self.in_file(p))
    }

    fn texts(&self, setting: &Setting) -> Vec<String> {
        self.cli
            .texts(setting)
            .or_else(|| self.file.texts(setting))
            .unwrap_or_default()
    }

    /// A number within the setting's bounds.
    fn number(&self, setting: &Setting) -> Result<u64> {
        let default = match setting.default {
            Builtin::Number(n) => n,
            _ => 0,
        };
        let value = self
            .cli
            .number(setting)
            .or_else(|| self.file.number(setting))
            .unwrap_or(default);
        Ok(setting.bounded(value).map_err(|e| Said::of(&e))?)
    }

    /// [`Sources::number`] for counts held as `usize`.
    fn count(&self, setting: &Setting) -> Result<usize> {
        let value = self.number(setting)?;
        usize::try_from(value).map_err(|_| {
            Said::new(|w| {
                fill(
                    w.config.too_large_here,
                    &[("key", &setting.key), ("value", &value)],
                )
            })
            .into()
        })
    }

    fn bool(&self, setting: &Setting) -> bool {
        let default = matches!(setting.default, Builtin::Bool(true));
        self.cli
            .bool(setting)
            .or_else(|| self.file.bool(setting))
            .unwrap_or(default)
    }

    fn licenses(&self) -> Vec<PathBuf> {
        match (self.cli.paths(&LICENSES), self.file.paths(&LICENSES)) {
            (Some(list), _) => list
                .into_iter()
                .filter(|p| !p.as_os_str().is_empty())
                .collect(),
            (None, Some(list)) => list.into_iter().map(|p| self.in_file(p)).collect(),
            (None, None) => Vec::new(),
        }
    }

    fn critical_version(&self) -> Result<Option<Version>> {
        let value = self
            .cli
            .number(&CRITICAL_VERSION)
            .or_else(|| self.file.number(&CRITICAL_VERSION));
        match value.map(u32::try_from) {
            None | Some(Ok(0)) => Ok(None),
            Some(Ok(value)) => Ok(Some(Version::from_yyyymmdd(value).ok_or_else(|| {
                Said::new(|w| fill(w.config.critical_not_a_date, &[("value", &value)]))
            })?)),
            Some(Err(_)) => Err(Said::of(&SettingError::WrongForm {
                key: CRITICAL_VERSION.key,
                form: CRITICAL_VERSION.form,
                given: value.unwrap_or_default().to_string(),
            })
            .into()),
        }
    }

    fn public_url(&self) -> Result<Option<String>> {
        match self.text(&PUBLIC_URL) {
            Some(url) if url.trim().is_empty() => Ok(None),
            Some(url) => Ok(Some(check_public_url(&url)?)),
            None => Ok(None),
        }
    }

    fn admin_listen(&self) -> Result<Option<SocketAddr>> {
        match self
            .text_or_null(&ADMIN_LISTEN)
            .flatten()
            .as_deref()
            .map(str::trim)
        {
            None | Some("" | "off" | "none" | "null") => Ok(None),
            Some(text) => Ok(Some(parse_addr(ADMIN_LISTEN.key, text)?)),
        }
    }

    /// An empty KKT_ADMIN_TOKEN (a blank line in an environment file) is "not given": it
    /// must never switch off the token the file sets. `admin_token:` with nothing in the
    /// file is a blank token, refused like `"   "` (absent means "no token").
    fn admin_token(&self) -> Result<Option<String>> {
        let token = self
            .cli
            .text(&ADMIN_TOKEN)
            .flatten()
            .filter(|t| !t.is_empty())
            .or_else(|| self.file.text(&ADMIN_TOKEN).map(Option::unwrap_or_default));
        token.map(|t| admin_token(&t)).transpose()
    }

    /// `operators:` from the file, checked beside `admin_token` (whose name and hash are
    /// its own).
    fn operators(&self) -> Result<Vec<operators::OperatorEntry>> {
        let list = self.file.operators(&OPERATORS).unwrap_or_default();
        let token = self.admin_token()?;
        operators::check_with_admin_token(&list, token.as_deref())
            .map_err(|e| Said::of(&SettingError::Operators(e)))?;
        Ok(list)
    }

    fn access_log(&self) -> LogDestination {
        if let Some(text) = self.cli.text(&ACCESS_LOG).flatten() {
            return LogDestination::parse(&text);
        }
        match LogDestination::parse(&self.text(&ACCESS_LOG).unwrap_or_default()) {
            LogDestination::File(path) => LogDestination::File(self.in_file(path)),
            other => other,
        }
    }

    fn inventory(&self) -> Result<InventorySetting> {
        if let Some(text) = self.cli.text(&INVENTORY).flatten() {
            return InventorySetting::parse(&text, Path::new(""));
        }
        InventorySetting::parse(&self.text(&INVENTORY).unwrap_or_default(), self.base)
    }

    /// `tls_listen`, `tls_cert`, `tls_key`, `admin_tls`, which only make sense together.
    fn tls(
        &self,
        listen: SocketAddr,
        admin_listen: Option<SocketAddr>,
    ) -> Result<Option<TlsSetting>> {
        let tls_listen = match self.text(&TLS_LISTEN) {
            None => None,
            Some(text) if matches!(text.trim(), "" | "off" | "none" | "null") => None,
            Some(text) => Some(parse_addr(TLS_LISTEN.key, &text)?),
        };
        let admin_tls = self.bool(&ADMIN_TLS);
        let tls = match (
            tls_listen.is_some() || admin_tls,
            self.path(&TLS_CERT),
            self.path(&TLS_KEY),
        ) {
            (false, _, _) => None,
            (true, Some(cert), Some(key)) => Some(TlsSetting {
                listen: tls_listen,
                files: tls::TlsFiles { cert, key },
                admin: admin_tls,
            }),
            (true, _, _) => bail!(Said::new(|w| w.config.tls_needs_files.to_string())),
        };
        if let Some(tls_addr) = tls
            .as_ref()
            .and_then(|t| t.listen)
            .filter(|a| a.port() != 0)
        {
            if tls_addr == listen || Some(tls_addr) == admin_listen {
                bail!(Said::new(|w| w.config.tls_listen_own.to_string()));
            }
        }
        Ok(tls)
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
    /// A PostgreSQL URL (`postgres://user:password@host/db?sslmode=…`), checked.
    Postgres(PostgresSetting),
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
            return Ok(InventorySetting::Postgres(PostgresSetting::parse(
                text, base,
            )?));
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
            // A URL of another scheme, a misspelt one (`postgres:/…`) or libpq's `key=value`
            // form may hold a password: only what comes before the first `:`, `/`, `@` or
            // `=` is echoed, unless there is nothing after it but a path (`sqlit:inv.db`).
            _ => {
                let got = format!("{:?}", shown_inventory(text));
                bail!(Said::new(|w| fill(
                    w.config.inventory_form,
                    &[("got", &got)]
                )))
            }
        }
    }
}

/// The largest configuration file read (a real one is a few KiB).
const CONFIG_FILE_MAX: u64 = 1 << 20;

/// The bytes of the configuration file: a regular file (links followed) of at most
/// `CONFIG_FILE_MAX`, never a FIFO waited on, a folder or a device; what it is otherwise,
/// in words, as an `io::Error` (`NotFound` when missing, as the search expects).
fn read_config_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use crate::platform::regular_file::{read_regular_followed, NotOpened, NotRead};
    use std::io::{Error, ErrorKind};
    read_regular_followed(path, CONFIG_FILE_MAX).map_err(|e| match e {
        NotRead::NotOpened(NotOpened::Missing) => Error::from(ErrorKind::NotFound),
        NotRead::NotOpened(NotOpened::NotRegular(kind)) => Error::new(
            ErrorKind::InvalidInput,
            Said::new(|w| fill(w.config.not_regular, &[("kind", &w.config.file_kind(kind))])),
        ),
        NotRead::NotOpened(NotOpened::Io(e)) | NotRead::Io(e) => e,
        NotRead::Larger(limit) => Error::new(
            ErrorKind::InvalidData,
            Said::new(|w| fill(w.config.too_big, &[("kib", &(limit >> 10))])),
        ),
    })
}

/// An `inventory` value that is none of the known forms, as an error may show it: a URL's
/// scheme only (`mysql://…`); the whole text only when it cannot hold a password (no `@`, no `=`, at most one `:`, 60
/// characters), else what comes before its first `:`, `/`, `@`, `=` or space, then "…".
fn shown_inventory(text: &str) -> String {
    if let Some((scheme, _)) = text.split_once("://") {
        return format!("{}://…", scheme.chars().take(20).collect::<String>());
    }
    let harmless = !text.contains(['@', '=']) && text.matches(':').count() <= 1;
    if harmless && text.chars().count() <= 60 {
        return text.to_string();
    }
    let head: String = text
        .split([':', '/', '@', '=', ' '])
        .next()
        .unwrap_or_default()
        .chars()
        .take(20)
        .collect();
    format!("{head}…")
}

impl std::fmt::Display for InventorySetting {
    /// For logs and `/status`: never the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InventorySetting::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            InventorySetting::Off => write!(f, "off"),
            InventorySetting::Postgres(setting) => write!(f, "{setting}"),
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

/// The `language` setting, `auto` resolved to the system's language.
fn language(text: &str) -> Result<Lang> {
    match LanguageChoice::parse(text) {
        Some(choice) => Ok(choice.resolve()),
        None => bail!(Said::of(&SettingError::WrongForm {
            key: LANGUAGE.key,
            form: LANGUAGE.form,
            given: format!("{:?}", text.trim()),
        })),
    }
}

impl WatchMode {
    fn parse(text: &str) -> Result<WatchMode> {
        match text.trim() {
            "auto" => Ok(WatchMode::Auto),
            "inotify" | "native" | "notify" => Ok(WatchMode::Notify),
            "poll" => Ok(WatchMode::Poll),
            other => bail!(Said::of(&SettingError::WrongForm {
                key: WATCH.key,
                form: WATCH.form,
                given: format!("{other:?}"),
            })),
        }
    }
}

impl Config {
    /// Every operator the admin listener knows: `operators:` and `admin_token`'s `admin`.
    pub fn operator_table(&self) -> operators::OperatorTable {
        operators::OperatorTable::new(&self.operators, self.admin_token.as_deref())
    }

    /// Settings that work but leave a door open: `check` prints each as a warning and
    /// start-up logs it, every time, until it is fixed.
    pub fn warnings(&self) -> Vec<String> {
        let t = Words::of(self.language).config;
        let mut warnings = Vec::new();
        if let Some(addr) = self.admin_listen.filter(|a| !a.ip().is_loopback()) {
            if self.operator_table().is_empty() {
                warnings.push(fill(t.warn_admin_open, &[("addr", &addr)]));
            }
        }
        for everyone in self.trusted_proxies.everyone() {
            warnings.push(fill(t.warn_trusted_everyone, &[("everyone", &everyone)]));
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
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match &self.found {
                // The usual cause: the command ran where no server.yaml is. Say so first,
                // rather than send the operator to create ./firmware.
                search::Found::Nothing { .. } => bail!(Said::new(|w| fill(
                    w.config.firmware_dir_missing_no_config,
                    &[
                        ("dir", &dir.display()),
                        ("found", &self.found.describe(w.lang))
                    ],
                ))),
                _ => bail!(Said::new(|w| fill(
                    w.config.firmware_dir_missing,
                    &[("dir", &dir.display())]
                ))),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => bail!(Said::new(|w| {
                fill(w.config.firmware_dir_is_file, &[("dir", &dir.display())])
            })),
            Err(e) => bail!(Said::new(|w| fill(
                w.config.firmware_dir_unlistable,
                &[("dir", &dir.display()), ("why", &cause_in(&e, w.lang))],
            ))),
        }
    }
}

/// A configured admin token, trimmed (an HTTP header loses surrounding spaces, so a token
/// with them could never match). A blank one is an error, never "no token": one space in
/// the file must not switch authentication off.
fn admin_token(token: &str) -> Result<String> {
    let token = token.trim();
    if token.is_empty() {
        bail!(Said::new(|w| w.config.admin_token_blank.to_string()));
    }
    if token.chars().count() < 16 {
        let count = token.chars().count();
        bail!(Said::new(|w| fill(
            w.config.admin_token_short,
            &[("count", &count)]
        )));
    }
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        bail!(Said::new(|w| w.config.admin_token_chars.to_string()));
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
                let name = format!("{name:?}");
                bail!(Said::new(|w| fill(
                    w.config.admin_hosts_form,
                    &[("name", &name)]
                )))
            }
        })
        .collect()
}

fn parse_addr(key: &str, text: &str) -> Result<SocketAddr> {
    text.trim().parse().map_err(|e: std::net::AddrParseError| {
        let text = format!("{text:?}");
        Said::new(|w| {
            fill(
                w.config.address_form,
                &[("key", &key), ("text", &text), ("why", &e)],
            )
        })
        .into()
    })
}

/// `public_url` must be an absolute http(s) URL; its trailing `/` is dropped.
fn check_public_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.contains(char::is_whitespace)
                && !host.contains(['?', '#']) =>
        {
            Ok(url.to_string())
        }
        _ => {
            let url = format!("{url:?}");
            bail!(Said::new(|w| fill(
                w.config.public_url_form,
                &[("url", &url)]
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command line as clap reads it (the flags built from the settings table).
    fn args(list: &[&str]) -> RawArgs {
        use clap::Parser;
        let line = std::iter::once("kkt-update-server").chain(list.iter().copied());
        crate::config::cli::Cli::try_parse_from(line).unwrap().args
    }

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
        let raw = args(&[
            "--listen",
            "127.0.0.1:0",
            "--critical-version",
            "20180116",
            "--firmware-dir",
            "fw",
        ]);
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
    fn every_setting_is_a_flag_and_lists_split_on_commas() {
        let raw = args(&[
            "--licenses",
            "a.slf,b.slf",
            "--licenses",
            "c.slf",
            "--trusted-proxies",
            "10.0.0.0/8,127.0.0.1",
            "--static-files",
            "false",
            "--admin-listen",
            "off",
            "--max-connections",
            "7",
        ]);
        let config = resolve(raw, "licenses: [x.slf]\nstatic_files: true\n").unwrap();
        assert_eq!(
            config.licenses,
            ["a.slf", "b.slf", "c.slf"].map(PathBuf::from)
        );
        assert!(config.trusted_proxies.contains([10, 1, 2, 3].into()));
        assert!(config.trusted_proxies.contains([127, 0, 0, 1].into()));
        assert!(!config.static_files);
        assert_eq!(config.admin_listen, None);
        assert_eq!(config.max_connections, 7);
        let command = <crate::config::cli::Cli as clap::CommandFactory>::command();
        for setting in settings::SETTINGS.iter().filter(|s| s.on_command_line()) {
            let arg = command
                .get_arguments()
                .find(|a| a.get_id() == setting.key)
                .unwrap_or_else(|| panic!("{} has no flag", setting.key));
            assert_eq!(arg.get_long(), Some(setting.flag));
            assert_eq!(
                arg.get_env().and_then(|e| e.to_str()),
                Some(setting.env),
                "{}",
                setting.key
            );
        }
        // A bad number on the command line is still clap's sentence about the flag.
        let line = ["kkt-update-server", "--settle-ms", "fast"];
        let error = <crate::config::cli::Cli as clap::Parser>::try_parse_from(line).unwrap_err();
        assert!(error.to_string().contains("'--settle-ms <MS>'"), "{error}");
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

    #[test]
    fn a_mistyped_inventory_url_is_refused_without_its_password() {
        let said = format!(
            "{:#}",
            InventorySetting::parse("postgre://kkt:s3cret@db/x", Path::new("/")).unwrap_err()
        );
        assert!(said.contains("got \"postgre://…\""), "{said}");
        assert!(!said.contains("s3cret"), "{said}");
    }
}
