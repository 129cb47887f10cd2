//! The command line as typed: every flag also read from a `KKT_…` environment variable
//! (clap gives the command line precedence over the environment). These are raw values;
//! `config` merges them over `server.yaml` and checks the result.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::layer::{Given, Layer};

impl Cli {
    /// The command line and environment as given, except that an empty `KKT_…` variable
    /// (a blank `KKT_ADMIN_TOKEN=` line in an environment file) counts as not set: an empty
    /// variable must never weaken what the file says, such as switching its token off.
    pub fn from_process() -> Cli {
        let empty: Vec<std::ffi::OsString> = std::env::vars_os()
            .filter(|(key, value)| key.to_string_lossy().starts_with("KKT_") && value.is_empty())
            .map(|(key, _)| key)
            .collect();
        for key in empty {
            // Before any thread starts: nothing else reads the environment yet.
            std::env::remove_var(key);
        }
        Cli::parse()
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "kkt-update-server",
    version,
    about = "Firmware update server for Shtrih-M fiscal registers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub args: RawArgs,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve devices (the default).
    Serve,
    /// Check the configuration, every release folder and every license file, print what
    /// was found and every problem, and exit non-zero on problems (like `nginx -t`).
    Check,
    /// Ask the running server to rescan now, through its admin listener (works on every
    /// system; on Unix, SIGHUP does the same).
    Reload,
    /// Publish a release safely: check the source, stage it beside firmware_dir's releases,
    /// pin both files by SHA-256, rename it into place, and wait until the server serves it.
    Publish(PublishArgs),
    /// Withdraw a release: move its folder into firmware_dir/.withdrawn/ (nothing is deleted).
    Withdraw(WithdrawArgs),
    /// The Windows service: install (starts at boot), uninstall, or run (what Windows starts)
    #[command(subcommand)]
    Service(ServiceAction),
}

/// `kkt-update-server service ...` (Windows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum ServiceAction {
    /// Register the service (run as administrator); it starts at boot with --config
    Install,
    /// Remove the service
    Uninstall,
    /// Serve as the service (Windows' service manager starts this; not for a terminal)
    #[command(hide = true)]
    Run,
}

/// `kkt-update-server publish`. Per-invocation choices, so no environment variables.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct PublishArgs {
    /// A folder (or .zip) holding upd_app.bin and upd_app_for_old_frs.bin, and optionally
    /// a meta.yaml to start from
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// The release's date, yyyymmdd [default: the source's name, when it is a date]
    #[arg(long, value_name = "YYYYMMDD")]
    pub version: Option<String>,
    /// The firmware line to publish into (a folder of firmware_dir with a line.yaml)
    #[arg(long, value_name = "NAME")]
    pub line: Option<String>,
    /// What devices show for the update [default: the source's meta.yaml, else "firmware <version>"]
    #[arg(long, value_name = "TEXT", value_parser = clap::value_parser!(std::ffi::OsString))]
    pub description: Option<std::ffi::OsString>,
    /// Mark the release critical (devices built before it are told the update is critical)
    #[arg(long)]
    pub critical: bool,
    /// Offer it to this share of the addresses (0-100) besides the pilots
    #[arg(long, value_name = "N")]
    pub rollout_percent: Option<String>,
    /// Addresses or networks always offered it (repeat for more)
    #[arg(long = "pilot", value_name = "CIDR")]
    pub pilot: Vec<String>,
    /// Replace a release of the same version in place (devices never see a mix or an older release)
    #[arg(long)]
    pub replace: bool,
    /// Check everything and say what would be done; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not wait for the running server to serve it
    #[arg(long)]
    pub no_wait: bool,
}

/// `kkt-update-server withdraw`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct WithdrawArgs {
    /// The release to withdraw, yyyymmdd
    #[arg(value_name = "YYYYMMDD")]
    pub version: String,
    /// The firmware line it is in
    #[arg(long, value_name = "NAME")]
    pub line: Option<String>,
    /// Do not wait for the running server to stop serving it
    #[arg(long)]
    pub no_wait: bool,
}

/// Settings from the command line or the environment; `None` means "not given".
#[derive(Debug, Clone, Default, Args)]
pub struct RawArgs {
    /// Configuration file [default: server.yaml]
    #[arg(
        long,
        short = 'c',
        env = "KKT_CONFIG",
        global = true,
        value_name = "PATH"
    )]
    pub config: Option<PathBuf>,
    /// Address for devices, e.g. 0.0.0.0:8888 (port 0 picks a free port)
    #[arg(long, env = "KKT_LISTEN", global = true, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Folder of release folders named yyyymmdd
    #[arg(long, env = "KKT_FIRMWARE_DIR", global = true, value_name = "PATH")]
    pub firmware_dir: Option<PathBuf>,
    /// License files or folders, comma-separated (replaces the list in server.yaml)
    #[arg(
        long,
        env = "KKT_LICENSES",
        global = true,
        value_delimiter = ',',
        value_name = "PATHS"
    )]
    pub licenses: Option<Vec<PathBuf>>,
    /// Devices built before this yyyymmdd get `critical: true`
    #[arg(
        long,
        env = "KKT_CRITICAL_VERSION",
        global = true,
        value_name = "YYYYMMDD"
    )]
    pub critical_version: Option<u32>,
    /// Base of the download URLs, e.g. https://fw.example.ru (default: http:// + Host)
    #[arg(long, env = "KKT_PUBLIC_URL", global = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// Address of the admin listener ("off" disables it)
    #[arg(long, env = "KKT_ADMIN_LISTEN", global = true, value_name = "ADDR")]
    pub admin_listen: Option<String>,
    /// How long a release folder must be unchanged before it is published, in ms
    #[arg(long, env = "KKT_SETTLE_MS", global = true, value_name = "MS")]
    pub settle_ms: Option<u64>,
    /// Quiet time for files nobody saw closed (no watcher event, the kernel would not say), in ms
    #[arg(
        long,
        env = "KKT_UNCONFIRMED_SETTLE_MS",
        global = true,
        value_name = "MS"
    )]
    pub unconfirmed_settle_ms: Option<u64>,
    /// How changes are seen: auto (poll network shares), inotify (the system's notifications), poll
    #[arg(long, env = "KKT_WATCH", global = true, value_name = "MODE")]
    pub watch: Option<String>,
    /// Serve other files below firmware_dir (notes, installers) from disk: true or false
    #[arg(long, env = "KKT_STATIC_FILES", global = true, value_name = "BOOL")]
    pub static_files: Option<bool>,
    /// Where access lines go: stderr, off, or a file (reopened on SIGHUP)
    #[arg(
        long,
        env = "KKT_ACCESS_LOG",
        global = true,
        value_name = "stderr|off|PATH"
    )]
    pub access_log: Option<String>,
    /// Fleet memory: sqlite:FILE, postgres://user:password@host/db, or off
    #[arg(
        long,
        env = "KKT_INVENTORY",
        global = true,
        value_name = "STORE",
        hide_env_values = true
    )]
    pub inventory: Option<String>,
    /// Days of history, downloads and unseen devices the inventory keeps
    #[arg(
        long,
        env = "KKT_INVENTORY_RETENTION_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub inventory_retention_days: Option<u64>,
    /// Seconds after a whole download without a new build date before a device counts as stuck
    #[arg(long, env = "KKT_STUCK_AFTER_S", global = true, value_name = "SECONDS")]
    pub stuck_after_s: Option<u64>,
    /// How often polled folders are looked at, in ms
    #[arg(long, env = "KKT_POLL_INTERVAL_MS", global = true, value_name = "MS")]
    pub poll_interval_ms: Option<u64>,
    /// Bearer token every admin request must carry (prefer the environment variable)
    #[arg(
        long,
        env = "KKT_ADMIN_TOKEN",
        global = true,
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// Host names the admin listener answers without a token, besides IP addresses and
    /// localhost (comma-separated)
    #[arg(
        long,
        env = "KKT_ADMIN_HOSTS",
        global = true,
        value_delimiter = ',',
        value_name = "NAMES"
    )]
    pub admin_hosts: Option<Vec<String>>,
    /// Reverse proxies whose X-Forwarded-For is believed: IPs or CIDRs, comma-separated
    #[arg(
        long,
        env = "KKT_TRUSTED_PROXIES",
        global = true,
        value_delimiter = ',',
        value_name = "NETS"
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// How many devices the fleet view remembers
    #[arg(long, env = "KKT_FLEET_MAX_DEVICES", global = true, value_name = "N")]
    pub fleet_max_devices: Option<usize>,
    /// Seconds a SIGTERM waits for running downloads to finish
    #[arg(
        long,
        env = "KKT_SHUTDOWN_TIMEOUT_S",
        global = true,
        value_name = "SECONDS"
    )]
    pub shutdown_timeout_s: Option<u64>,
    /// Milliseconds a client may take to send its request (slow senders are cut off)
    #[arg(long, env = "KKT_REQUEST_TIMEOUT_MS", global = true, value_name = "MS")]
    pub request_timeout_ms: Option<u64>,
    /// Seconds an idle keep-alive connection stays open (0 disables keep-alive)
    #[arg(long, env = "KKT_KEEP_ALIVE_S", global = true, value_name = "SECONDS")]
    pub keep_alive_s: Option<u64>,
    /// Seconds response bytes a client does not take may wait before its connection is closed
    #[arg(
        long,
        env = "KKT_SEND_TIMEOUT_S",
        global = true,
        value_name = "SECONDS"
    )]
    pub send_timeout_s: Option<u64>,
    /// Most connections at once
    #[arg(long, env = "KKT_MAX_CONNECTIONS", global = true, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Address for devices over HTTPS, e.g. 0.0.0.0:8443 (beside plain --listen)
    #[arg(long, env = "KKT_TLS_LISTEN", global = true, value_name = "ADDR")]
    pub tls_listen: Option<String>,
    /// Certificate chain, PEM (e.g. certbot's fullchain.pem); re-read when it changes
    #[arg(long, env = "KKT_TLS_CERT", global = true, value_name = "PATH")]
    pub tls_cert: Option<PathBuf>,
    /// Private key, PEM (e.g. certbot's privkey.pem)
    #[arg(long, env = "KKT_TLS_KEY", global = true, value_name = "PATH")]
    pub tls_key: Option<PathBuf>,
    /// Serve the admin listener over HTTPS with the same certificate: true or false
    #[arg(long, env = "KKT_ADMIN_TLS", global = true, value_name = "BOOL")]
    pub admin_tls: Option<bool>,
}

impl RawArgs {
    /// The settings given on the command line or in the environment.
    pub fn given(&self) -> Layer {
        use crate::config::settings::*;
        let mut layer = Layer::default();
        let mut text = |setting: &Setting, value: &Option<String>| {
            if let Some(value) = value {
                layer.set(setting, Given::Text(value.clone()));
            }
        };
        text(&LISTEN, &self.listen);
        text(&PUBLIC_URL, &self.public_url);
        text(&ADMIN_LISTEN, &self.admin_listen);
        text(&WATCH, &self.watch);
        text(&ACCESS_LOG, &self.access_log);
        text(&INVENTORY, &self.inventory);
        text(&ADMIN_TOKEN, &self.admin_token);
        text(&TLS_LISTEN, &self.tls_listen);
        let mut path = |setting: &Setting, value: &Option<PathBuf>| {
            if let Some(value) = value {
                layer.set(setting, Given::Path(value.clone()));
            }
        };
        path(&FIRMWARE_DIR, &self.firmware_dir);
        path(&TLS_CERT, &self.tls_cert);
        path(&TLS_KEY, &self.tls_key);
        if let Some(list) = &self.licenses {
            layer.set(&LICENSES, Given::Paths(list.clone()));
        }
        if let Some(list) = &self.admin_hosts {
            layer.set(&ADMIN_HOSTS, Given::Texts(list.clone()));
        }
        if let Some(list) = &self.trusted_proxies {
            layer.set(&TRUSTED_PROXIES, Given::Texts(list.clone()));
        }
        let mut number = |setting: &Setting, value: Option<u64>| {
            if let Some(value) = value {
                layer.set(setting, Given::Number(value));
            }
        };
        number(&CRITICAL_VERSION, self.critical_version.map(u64::from));
        number(&SETTLE_MS, self.settle_ms);
        number(&UNCONFIRMED_SETTLE_MS, self.unconfirmed_settle_ms);
        number(&POLL_INTERVAL_MS, self.poll_interval_ms);
        number(&INVENTORY_RETENTION_DAYS, self.inventory_retention_days);
        number(&STUCK_AFTER_S, self.stuck_after_s);
        number(&SHUTDOWN_TIMEOUT_S, self.shutdown_timeout_s);
        number(&REQUEST_TIMEOUT_MS, self.request_timeout_ms);
        number(&KEEP_ALIVE_S, self.keep_alive_s);
        number(&SEND_TIMEOUT_S, self.send_timeout_s);
        number(&FLEET_MAX_DEVICES, self.fleet_max_devices.map(|n| n as u64));
        number(&MAX_CONNECTIONS, self.max_connections.map(|n| n as u64));
        if let Some(value) = self.static_files {
            layer.set(&STATIC_FILES, Given::Bool(value));
        }
        if let Some(value) = self.admin_tls {
            layer.set(&ADMIN_TLS, Given::Bool(value));
        }
        layer
    }
}
