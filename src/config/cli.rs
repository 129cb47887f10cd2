//! The command line as typed: every flag also read from a `KKT_…` environment variable
//! (clap gives the command line precedence over the environment). These are raw values;
//! `config` merges them over `server.yaml` and checks the result.

use std::path::PathBuf;

use clap::{value_parser, Arg, ArgAction, ArgMatches, Args, FromArgMatches, Parser, Subcommand};

use crate::config::layer::{Given, Layer};
use crate::config::settings::{Setting, Shape, SETTINGS};

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
    Reload(ReloadArgs),
    /// Publish a release safely: check the source, stage it beside firmware_dir's releases,
    /// pin both files by SHA-256, rename it into place, and wait until the server serves it.
    Publish(PublishArgs),
    /// Withdraw a release: move its folder into firmware_dir/.withdrawn/ (nothing is deleted).
    Withdraw(WithdrawArgs),
    /// The Windows service: install (starts at boot), uninstall, or run (what Windows starts)
    #[command(subcommand)]
    Service(ServiceAction),
    /// The audit trail: `audit verify` checks its chain in the configured inventory
    #[command(subcommand)]
    Audit(AuditAction),
    /// Operators' tokens for the admin listener: `token new NAME` prints a new one and the
    /// line to paste under operators: in server.yaml
    #[command(subcommand)]
    Token(TokenAction),
}

/// `kkt-update-server audit ...`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum AuditAction {
    /// Check the audit trail's chain (read-only): "ok: N records, head H", or the first bad
    /// record and why; exit code 1 when bad
    Verify {
        /// The last head the server logged ("audit: record N ...; head H"): records cut off
        /// the end are found too
        #[arg(long, value_name = "HASH")]
        head: Option<String>,
    },
}

/// `kkt-update-server token ...`.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum TokenAction {
    /// Print a new random token for an operator and the line for operators: in server.yaml
    /// (the file keeps only the token's SHA-256)
    New(TokenNewArgs),
}

/// `kkt-update-server token new NAME [--role R] [--groups G ...]`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct TokenNewArgs {
    /// The operator's name, as the audit trail will record it (like "Иванов")
    #[arg(value_name = "NAME")]
    pub name: String,
    /// viewer (reads), publisher (also publishes, withdraws, pauses), or admin (also reloads)
    #[arg(long, value_name = "ROLE", default_value = "viewer")]
    pub role: String,
    /// The groups (of groups.yaml) a viewer is limited to; several may follow
    // Its own id: `groups` is the id of the server's `--groups-file` setting, which every
    // command accepts.
    #[arg(long = "groups", id = "viewer_groups", value_name = "GROUP", num_args = 1..)]
    pub groups: Vec<String>,
}

/// The token a command sends to the running server's admin listener. Per invocation and
/// secret: the flag, else `KKT_TOKEN`, else the configuration's `admin_token`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct ServerToken {
    /// The operator's token for the running server [default: KKT_TOKEN, else admin_token]
    #[arg(
        long = "token",
        env = "KKT_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
}

impl ServerToken {
    /// The token to send: `--token`, else `KKT_TOKEN`, else `admin_token`.
    pub fn or_admin_token<'a>(&'a self, admin_token: Option<&'a str>) -> Option<&'a str> {
        self.token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .or(admin_token)
    }
}

/// `kkt-update-server reload`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct ReloadArgs {
    #[command(flatten)]
    pub server: ServerToken,
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
    /// Make the release a floor of its line's upgrade path (devices built before it install it before anything newer)
    #[arg(long)]
    pub floor: bool,
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
    #[command(flatten)]
    pub server: ServerToken,
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

/// Settings from the command line or the environment, as given: one flag and one `KKT_…`
/// variable per item of `settings::SETTINGS`, built from the item (clap's builder, since
/// the derive cannot read a table).
#[derive(Debug, Clone, Default)]
pub struct RawArgs {
    /// Configuration file [default: searched, see `config::search`]
    pub config: Option<PathBuf>,
    /// `config` came from `KKT_CONFIG`, not `--config`.
    pub config_from_env: bool,
    given: Layer,
}

impl RawArgs {
    /// The settings given on the command line or in the environment.
    pub fn given(&self) -> Layer {
        self.given.clone()
    }
}

/// The id of `--config` (not a key of the file, so not in the table).
const CONFIG: &str = "config";

/// The flag and environment variable of one setting.
fn setting_arg(setting: &Setting) -> Arg {
    let arg = Arg::new(setting.key)
        .long(setting.flag)
        .env(setting.env)
        .global(true)
        .value_name(setting.value_name)
        .help(setting.doc)
        .hide_env_values(setting.secret);
    match setting.shape {
        Shape::Text => arg.value_parser(value_parser!(String)),
        Shape::Path => arg.value_parser(value_parser!(PathBuf)),
        Shape::Paths => arg
            .value_parser(value_parser!(PathBuf))
            .value_delimiter(',')
            .action(ArgAction::Append),
        Shape::Texts => arg
            .value_parser(value_parser!(String))
            .value_delimiter(',')
            .action(ArgAction::Append),
        Shape::Number(_) => arg.value_parser(value_parser!(u64)),
        Shape::Date => arg.value_parser(value_parser!(u32)),
        Shape::Bool => arg.value_parser(value_parser!(bool)),
        // Never on the command line (`on_command_line`).
        Shape::Operators => arg,
    }
}

impl Args for RawArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let config = Arg::new(CONFIG)
            .long("config")
            .short('c')
            .env("KKT_CONFIG")
            .global(true)
            .value_name("PATH")
            .help(
                "Configuration file [default: server.yaml in the working folder; packaged \
                 builds then look in /etc/kkt-update-server/ (Linux) or beside the .exe \
                 (Windows)]",
            )
            .value_parser(value_parser!(PathBuf));
        SETTINGS
            .iter()
            .filter(|s| s.on_command_line())
            .fold(cmd.arg(config), |cmd, setting| {
                cmd.arg(setting_arg(setting))
            })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for RawArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        let config_from_env =
            matches.value_source(CONFIG) == Some(clap::parser::ValueSource::EnvVariable);
        let mut raw = RawArgs {
            config: one(matches, CONFIG)?,
            config_from_env,
            given: Layer::default(),
        };
        for setting in SETTINGS.iter().filter(|s| s.on_command_line()) {
            let id = setting.key;
            let value = match setting.shape {
                Shape::Text => one(matches, id)?.map(Given::Text),
                Shape::Path => one(matches, id)?.map(Given::Path),
                Shape::Paths => many(matches, id)?.map(Given::Paths),
                Shape::Texts => many(matches, id)?.map(Given::Texts),
                Shape::Number(_) => one(matches, id)?.map(Given::Number),
                Shape::Date => one::<u32>(matches, id)?.map(|n| Given::Number(n.into())),
                Shape::Bool => one(matches, id)?.map(Given::Bool),
                Shape::Operators => None,
            };
            if let Some(value) = value {
                raw.given.set(setting, value);
            }
        }
        Ok(raw)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.update_from_arg_matches_mut(&mut matches.clone())
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        let update = Self::from_arg_matches_mut(matches)?;
        if update.config.is_some() {
            self.config = update.config;
            self.config_from_env = update.config_from_env;
        }
        for setting in SETTINGS.iter().filter(|s| s.on_command_line()) {
            if let Some(value) = update.given.get(setting) {
                self.given.set(setting, value.clone());
            }
        }
        Ok(())
    }
}

/// The value of `id`, typed as its parser made it.
fn one<T>(matches: &mut ArgMatches, id: &str) -> Result<Option<T>, clap::Error>
where
    T: Clone + Send + Sync + 'static,
{
    matches
        .try_remove_one::<T>(id)
        .map_err(|e| clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("--{id}: {e}")))
}

/// Every value of a list flag (repeated or comma-separated).
fn many<T>(matches: &mut ArgMatches, id: &str) -> Result<Option<Vec<T>>, clap::Error>
where
    T: Clone + Send + Sync + 'static,
{
    matches
        .try_remove_many::<T>(id)
        .map(|values| values.map(Iterator::collect))
        .map_err(|e| clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("--{id}: {e}")))
}
