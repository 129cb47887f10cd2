//! One definition per setting of `server.yaml`: its key, flag, environment variable,
//! default, bounds, the form an operator reads in an error, and one line of doc. The
//! command line (`cli`), the file reader (`file`), `Config::resolve` and README's tables
//! are all held to this list (ripgrep's `flags/defs.rs` is the model): a new setting is
//! one item here plus the line in `resolve` that says what it means.

use crate::model::lang::fill;
use crate::words::config::ConfigText;
use crate::words::{FromTable, Words};

/// The allowed range of a number setting, in the words an operator reads in an error.
/// Every duration and count has an upper bound: a value near `u64::MAX` that passed
/// `check` used to panic a worker (`keep_alive_s`) or the shutdown (`shutdown_timeout_s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub min: u64,
    pub max: u64,
    /// The unit, as words after the range ("milliseconds"), or "" for a count.
    pub unit: &'static str,
}

/// What a setting holds, which says how the command line and the file are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Text (an address, a URL, a mode, a token).
    Text,
    /// A path: relative to the file when written in the file.
    Path,
    /// A list of paths (comma-separated on the command line).
    Paths,
    /// A list of texts (comma-separated on the command line).
    Texts,
    /// A whole number within bounds.
    Number(Bound),
    /// A date written yyyymmdd (0 means none).
    Date,
    /// true or false.
    Bool,
    /// `operators:`: a list of entries with keys of their own (`config::operators`). File
    /// only: a structured value has no flag and no environment variable.
    Operators,
}

/// The value a setting has when nobody gives one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Not set (the feature is off, or derived from another setting).
    Unset,
    Text(&'static str),
    Number(u64),
    Bool(bool),
}

/// One setting: everything the flag, the environment, the file, `check` and README say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The key in `server.yaml`.
    pub key: &'static str,
    /// The long flag, without `--`.
    pub flag: &'static str,
    /// The environment variable.
    pub env: &'static str,
    /// The placeholder in `--help`.
    pub value_name: &'static str,
    pub shape: Shape,
    pub default: Builtin,
    /// What the value must be, in plain words ("a whole number of seconds, like 30").
    pub form: &'static str,
    /// One line for `--help`.
    pub doc: &'static str,
    /// `null` in the file is a value of its own (not "absent").
    pub nullable: bool,
    /// Never shown in `--help` from the environment (passwords, tokens).
    pub secret: bool,
}

/// The fields every setting but a few shares, so each item below says only what is its own.
const BASE: Setting = Setting {
    key: "",
    flag: "",
    env: "",
    value_name: "",
    shape: Shape::Text,
    default: Builtin::Unset,
    form: "",
    doc: "",
    nullable: false,
    secret: false,
};

pub const LISTEN: Setting = Setting {
    key: "listen",
    flag: "listen",
    env: "KKT_LISTEN",
    value_name: "ADDR",
    default: Builtin::Text("0.0.0.0:8888"),
    form: "an address like 0.0.0.0:8888",
    doc: "Address for devices, e.g. 0.0.0.0:8888 (port 0 picks a free port)",
    ..BASE
};
pub const FIRMWARE_DIR: Setting = Setting {
    key: "firmware_dir",
    flag: "firmware-dir",
    env: "KKT_FIRMWARE_DIR",
    value_name: "PATH",
    shape: Shape::Path,
    default: Builtin::Text("firmware"),
    form: "a folder, like firmware",
    doc: "Folder of release folders named yyyymmdd",
    ..BASE
};
pub const LICENSES: Setting = Setting {
    key: "licenses",
    flag: "licenses",
    env: "KKT_LICENSES",
    value_name: "PATHS",
    shape: Shape::Paths,
    form: "a list of files or folders, like [licenses.yaml, /srv/kkt/licenses/]",
    doc: "License files or folders, comma-separated (replaces the list in server.yaml)",
    ..BASE
};
pub const CRITICAL_VERSION: Setting = Setting {
    key: "critical_version",
    flag: "critical-version",
    env: "KKT_CRITICAL_VERSION",
    value_name: "YYYYMMDD",
    shape: Shape::Date,
    form: "a date written yyyymmdd, like 20250115",
    doc: "Devices built before this yyyymmdd get `critical: true`",
    ..BASE
};
pub const PUBLIC_URL: Setting = Setting {
    key: "public_url",
    flag: "public-url",
    env: "KKT_PUBLIC_URL",
    value_name: "URL",
    form: "a URL like https://fw.example.ru",
    doc: "Base of the download URLs, e.g. https://fw.example.ru (default: http:// + Host)",
    ..BASE
};
pub const ADMIN_LISTEN: Setting = Setting {
    key: "admin_listen",
    flag: "admin-listen",
    env: "KKT_ADMIN_LISTEN",
    value_name: "ADDR",
    default: Builtin::Text("127.0.0.1:8889"),
    form: "an address like 127.0.0.1:8889, or null",
    doc: "Address of the admin listener (\"off\" disables it)",
    nullable: true,
    ..BASE
};
/// Up to an hour: a release that waits longer to be published has not settled.
pub const SETTLE_MS: Setting = Setting {
    key: "settle_ms",
    flag: "settle-ms",
    env: "KKT_SETTLE_MS",
    value_name: "MS",
    shape: Shape::Number(Bound {
        min: 0,
        max: 3_600_000,
        unit: "milliseconds",
    }),
    default: Builtin::Number(1000),
    form: "a whole number of milliseconds, like 1000",
    doc: "How long a release folder must be unchanged before it is published, in ms",
    ..BASE
};
pub const UNCONFIRMED_SETTLE_MS: Setting = Setting {
    key: "unconfirmed_settle_ms",
    flag: "unconfirmed-settle-ms",
    env: "KKT_UNCONFIRMED_SETTLE_MS",
    value_name: "MS",
    shape: Shape::Number(Bound {
        min: 0,
        max: 3_600_000,
        unit: "milliseconds",
    }),
    default: Builtin::Number(60_000),
    form: "a whole number of milliseconds, like 60000",
    doc: "Quiet time for files nobody saw closed (no watcher event, the kernel would not say), \
          in ms",
    ..BASE
};
pub const WATCH: Setting = Setting {
    key: "watch",
    flag: "watch",
    env: "KKT_WATCH",
    value_name: "MODE",
    default: Builtin::Text("auto"),
    form: "auto, inotify or poll",
    doc: "How changes are seen: auto (poll network shares), inotify (the system's \
          notifications), poll",
    ..BASE
};
pub const POLL_INTERVAL_MS: Setting = Setting {
    key: "poll_interval_ms",
    flag: "poll-interval-ms",
    env: "KKT_POLL_INTERVAL_MS",
    value_name: "MS",
    shape: Shape::Number(Bound {
        min: 100,
        max: 600_000,
        unit: "milliseconds",
    }),
    default: Builtin::Number(2000),
    form: "a whole number of milliseconds, like 2000",
    doc: "How often polled folders are looked at, in ms",
    ..BASE
};
pub const STATIC_FILES: Setting = Setting {
    key: "static_files",
    flag: "static-files",
    env: "KKT_STATIC_FILES",
    value_name: "BOOL",
    shape: Shape::Bool,
    default: Builtin::Bool(true),
    form: "true or false",
    doc: "Serve other files below firmware_dir (notes, installers) from disk: true or false",
    ..BASE
};
pub const ACCESS_LOG: Setting = Setting {
    key: "access_log",
    flag: "access-log",
    env: "KKT_ACCESS_LOG",
    value_name: "stderr|off|PATH",
    default: Builtin::Text("stderr"),
    form: "stderr, off, or a file",
    doc: "Where access lines go: stderr, off, or a file (reopened on SIGHUP)",
    ..BASE
};
pub const INVENTORY: Setting = Setting {
    key: "inventory",
    flag: "inventory",
    env: "KKT_INVENTORY",
    value_name: "STORE",
    default: Builtin::Text("sqlite:inventory.sqlite"),
    form: "sqlite:<file>, postgres://… or off",
    doc: "Fleet memory: sqlite:FILE, postgres://user:password@host/db, or off",
    secret: true,
    ..BASE
};
/// A hundred years: the bench keeps everything.
pub const INVENTORY_RETENTION_DAYS: Setting = Setting {
    key: "inventory_retention_days",
    flag: "inventory-retention-days",
    env: "KKT_INVENTORY_RETENTION_DAYS",
    value_name: "DAYS",
    shape: Shape::Number(Bound {
        min: 1,
        max: 36_500,
        unit: "days",
    }),
    default: Builtin::Number(400),
    form: "a whole number of days, like 400",
    doc: "Days of history, downloads and unseen devices the inventory keeps",
    ..BASE
};
/// Registers flash after the shift closes: a day and a half before "stuck"; up to 30 days
/// (tests use a second).
pub const STUCK_AFTER_S: Setting = Setting {
    key: "stuck_after_s",
    flag: "stuck-after-s",
    env: "KKT_STUCK_AFTER_S",
    value_name: "SECONDS",
    shape: Shape::Number(Bound {
        min: 1,
        max: 2_592_000,
        unit: "seconds",
    }),
    default: Builtin::Number(36 * 3600),
    form: "a whole number of seconds, like 129600",
    doc: "Seconds after a whole download without a new build date before a device counts as \
          stuck",
    ..BASE
};
pub const ADMIN_TOKEN: Setting = Setting {
    key: "admin_token",
    flag: "admin-token",
    env: "KKT_ADMIN_TOKEN",
    value_name: "TOKEN",
    form: "a text of at least 16 characters",
    doc: "Bearer token every admin request must carry (prefer the environment variable)",
    nullable: true,
    secret: true,
    ..BASE
};
/// File only (`flag` and `env` empty): a list of entries, see `config::operators`.
pub const OPERATORS: Setting = Setting {
    key: "operators",
    shape: Shape::Operators,
    form: "a list of operators, like - {name: \"Иванов\", token_sha256: \"<64 hexadecimal \
           digits>\", role: admin} (role viewer, publisher or admin; groups: [...] for a viewer)",
    doc: "Who may use the admin listener: name, the SHA-256 of the token, role, and the groups a \
          viewer is limited to (server.yaml only; `token new` prints an entry)",
    ..BASE
};
/// A shift, by default: a login form's session then asks again the next morning.
pub const SESSION_TTL_S: Setting = Setting {
    key: "session_ttl_s",
    flag: "session-ttl-s",
    env: "KKT_SESSION_TTL_S",
    value_name: "SECONDS",
    shape: Shape::Number(Bound {
        min: 1,
        max: 2_592_000,
        unit: "seconds",
    }),
    default: Builtin::Number(28_800),
    form: "a whole number of seconds, like 28800",
    doc: "Seconds a login form's session lasts before the token is asked again",
    ..BASE
};
pub const ADMIN_HOSTS: Setting = Setting {
    key: "admin_hosts",
    flag: "admin-hosts",
    env: "KKT_ADMIN_HOSTS",
    value_name: "NAMES",
    shape: Shape::Texts,
    form: "a list of host names, like [kkt-admin.example.ru]",
    doc: "Host names the admin listener answers without a token, besides IP addresses and \
          localhost (comma-separated)",
    ..BASE
};
pub const TRUSTED_PROXIES: Setting = Setting {
    key: "trusted_proxies",
    flag: "trusted-proxies",
    env: "KKT_TRUSTED_PROXIES",
    value_name: "NETS",
    shape: Shape::Texts,
    form: "a list of addresses or networks, like [127.0.0.1, 10.0.0.0/8]",
    doc: "Reverse proxies whose X-Forwarded-For is believed: IPs or CIDRs, comma-separated",
    ..BASE
};
/// A remembered device costs a few hundred bytes: ten million is a few GB.
pub const FLEET_MAX_DEVICES: Setting = Setting {
    key: "fleet_max_devices",
    flag: "fleet-max-devices",
    env: "KKT_FLEET_MAX_DEVICES",
    value_name: "N",
    shape: Shape::Number(Bound {
        min: 1,
        max: 10_000_000,
        unit: "",
    }),
    default: Builtin::Number(100_000),
    form: "a whole number, like 100000",
    doc: "How many devices the fleet view remembers",
    ..BASE
};
pub const SHUTDOWN_TIMEOUT_S: Setting = Setting {
    key: "shutdown_timeout_s",
    flag: "shutdown-timeout-s",
    env: "KKT_SHUTDOWN_TIMEOUT_S",
    value_name: "SECONDS",
    shape: Shape::Number(Bound {
        min: 0,
        max: 3600,
        unit: "seconds",
    }),
    default: Builtin::Number(30),
    form: "a whole number of seconds, like 30",
    doc: "Seconds a SIGTERM waits for running downloads to finish",
    ..BASE
};
pub const REQUEST_TIMEOUT_MS: Setting = Setting {
    key: "request_timeout_ms",
    flag: "request-timeout-ms",
    env: "KKT_REQUEST_TIMEOUT_MS",
    value_name: "MS",
    shape: Shape::Number(Bound {
        min: 100,
        max: 600_000,
        unit: "milliseconds",
    }),
    default: Builtin::Number(5000),
    form: "a whole number of milliseconds, like 5000",
    doc: "Milliseconds a client may take to send its request (slow senders are cut off)",
    ..BASE
};
pub const KEEP_ALIVE_S: Setting = Setting {
    key: "keep_alive_s",
    flag: "keep-alive-s",
    env: "KKT_KEEP_ALIVE_S",
    value_name: "SECONDS",
    shape: Shape::Number(Bound {
        min: 0,
        max: 3600,
        unit: "seconds",
    }),
    default: Builtin::Number(5),
    form: "a whole number of seconds, like 5",
    doc: "Seconds an idle keep-alive connection stays open (0 disables keep-alive)",
    ..BASE
};
/// nginx's `send_timeout` default.
pub const SEND_TIMEOUT_S: Setting = Setting {
    key: "send_timeout_s",
    flag: "send-timeout-s",
    env: "KKT_SEND_TIMEOUT_S",
    value_name: "SECONDS",
    shape: Shape::Number(Bound {
        min: 1,
        max: 3600,
        unit: "seconds",
    }),
    default: Builtin::Number(60),
    form: "a whole number of seconds, like 60",
    doc: "Seconds response bytes a client does not take may wait before its connection is \
          closed",
    ..BASE
};
/// More than the open files a process gets on any system we run on.
pub const MAX_CONNECTIONS: Setting = Setting {
    key: "max_connections",
    flag: "max-connections",
    env: "KKT_MAX_CONNECTIONS",
    value_name: "N",
    shape: Shape::Number(Bound {
        min: 1,
        max: 1_000_000,
        unit: "",
    }),
    default: Builtin::Number(10_000),
    form: "a whole number, like 10000",
    doc: "Most connections at once",
    ..BASE
};
pub const TLS_LISTEN: Setting = Setting {
    key: "tls_listen",
    flag: "tls-listen",
    env: "KKT_TLS_LISTEN",
    value_name: "ADDR",
    form: "an address like 0.0.0.0:8443",
    doc: "Address for devices over HTTPS, e.g. 0.0.0.0:8443 (beside plain --listen)",
    ..BASE
};
pub const TLS_CERT: Setting = Setting {
    key: "tls_cert",
    flag: "tls-cert",
    env: "KKT_TLS_CERT",
    value_name: "PATH",
    shape: Shape::Path,
    form: "a PEM file with the certificate chain, like \
           /etc/letsencrypt/live/fw.example.ru/fullchain.pem",
    doc: "Certificate chain, PEM (e.g. certbot's fullchain.pem); re-read when it changes",
    ..BASE
};
pub const TLS_KEY: Setting = Setting {
    key: "tls_key",
    flag: "tls-key",
    env: "KKT_TLS_KEY",
    value_name: "PATH",
    shape: Shape::Path,
    form: "a PEM file with the private key, like /etc/letsencrypt/live/fw.example.ru/privkey.pem",
    doc: "Private key, PEM (e.g. certbot's privkey.pem)",
    ..BASE
};
pub const ADMIN_TLS: Setting = Setting {
    key: "admin_tls",
    flag: "admin-tls",
    env: "KKT_ADMIN_TLS",
    value_name: "BOOL",
    shape: Shape::Bool,
    default: Builtin::Bool(false),
    form: "true or false",
    doc: "Serve the admin listener over HTTPS with the same certificate: true or false",
    ..BASE
};

pub const LANGUAGE: Setting = Setting {
    key: "language",
    flag: "language",
    env: "KKT_LANGUAGE",
    value_name: "ru|en|auto",
    default: Builtin::Text("auto"),
    form: "ru, en or auto",
    doc: "Language of the command line's output and the operator's log lines: ru, en, or \
          auto (the system's: LC_ALL, LC_MESSAGES, LANG; the Windows UI language)",
    ..BASE
};

// groups
/// Only the key turns groups on: a `groups.yaml` lying next to `server.yaml` without it is
/// not read (an operator who copies a sample in does not change every store's window).
/// The one flag that does not follow its key: `token new NAME --groups G ...` names the
/// groups a viewer is limited to, and the server's flags reach every command.
pub const GROUPS: Setting = Setting {
    key: "groups",
    flag: "groups-file",
    env: "KKT_GROUPS",
    value_name: "PATH",
    shape: Shape::Path,
    form: "a file, like groups.yaml",
    doc: "Device groups file (groups.yaml: client companies by networks and serials, each with \
          its time zone for rollout windows); re-read when it changes",
    ..BASE
};

/// Every key of `server.yaml`, in the order `--help` and README list them.
pub const SETTINGS: &[Setting] = &[
    LISTEN,
    FIRMWARE_DIR,
    LICENSES,
    CRITICAL_VERSION,
    PUBLIC_URL,
    ADMIN_LISTEN,
    SETTLE_MS,
    UNCONFIRMED_SETTLE_MS,
    WATCH,
    POLL_INTERVAL_MS,
    STATIC_FILES,
    ACCESS_LOG,
    INVENTORY,
    INVENTORY_RETENTION_DAYS,
    STUCK_AFTER_S,
    ADMIN_TOKEN,
    OPERATORS,
    SESSION_TTL_S,
    ADMIN_HOSTS,
    TRUSTED_PROXIES,
    FLEET_MAX_DEVICES,
    SHUTDOWN_TIMEOUT_S,
    REQUEST_TIMEOUT_MS,
    KEEP_ALIVE_S,
    SEND_TIMEOUT_S,
    MAX_CONNECTIONS,
    TLS_LISTEN,
    TLS_CERT,
    TLS_KEY,
    ADMIN_TLS,
    LANGUAGE,
    GROUPS,
];

/// The setting named `key`, if there is one.
pub fn find(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

impl Setting {
    /// It has a flag and an environment variable (all but the file-only `operators`).
    pub fn on_command_line(&self) -> bool {
        !self.flag.is_empty()
    }

    /// The bounds of a number setting.
    pub fn bound(&self) -> Option<Bound> {
        match self.shape {
            Shape::Number(bound) => Some(bound),
            _ => None,
        }
    }

    /// `value` if the setting's bounds allow it, else why not (the key, the value and the
    /// range).
    pub fn bounded(&self, value: u64) -> Result<u64, SettingError> {
        let Some(bound) = self.bound() else {
            return Ok(value);
        };
        if (bound.min..=bound.max).contains(&value) {
            return Ok(value);
        }
        Err(SettingError::OutOfBounds {
            key: self.key,
            bound,
            value,
        })
    }
}

/// A value a setting does not take: a sentence naming the key, the value and the form or
/// range expected, in the operator's language (`words::config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingError {
    OutOfBounds {
        key: &'static str,
        bound: Bound,
        value: u64,
    },
    /// `given`: the value as written.
    WrongForm {
        key: &'static str,
        form: &'static str,
        given: String,
    },
    Twice {
        key: &'static str,
    },
    /// A key `server.yaml` does not have, as written (shown only when it looks like a key).
    UnknownKey(String),
    /// An entry of `operators:` is refused (which, and why).
    Operators(crate::config::operators::OperatorsError),
}

impl FromTable for SettingError {
    fn said(&self, words: &'static Words) -> String {
        let t = words.config;
        match self {
            SettingError::OutOfBounds { key, bound, value } => {
                let unit = if bound.unit.is_empty() {
                    String::new()
                } else {
                    fill(t.unit, &[("unit", &t.unit_words(bound.unit))])
                };
                fill(
                    t.out_of_bounds,
                    &[
                        ("key", key),
                        ("min", &bound.min),
                        ("max", &bound.max),
                        ("unit", &unit),
                        ("value", value),
                    ],
                )
            }
            SettingError::WrongForm { key, form, given } => fill(
                t.wrong_form,
                &[("key", key), ("form", &t.form(key, form)), ("given", given)],
            ),
            SettingError::Twice { key } => fill(t.twice, &[("key", key)]),
            SettingError::Operators(refused) => refused.said(words),
            SettingError::UnknownKey(key) => fill(
                t.unknown_key,
                &[
                    ("field", &unknown_key(key, t)),
                    ("did_you_mean", &did_you_mean(key, t)),
                    (
                        "keys",
                        &SETTINGS
                            .iter()
                            .map(|s| s.key)
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                ],
            ),
        }
    }
}

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english())
    }
}

impl crate::model::lang::InLanguage for SettingError {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

impl std::error::Error for SettingError {}

/// The longest unknown key echoed (the longest real one is 24 characters).
const SHOWN_KEY_MAX: usize = 40;

/// "unknown field `lisen`", or, for what cannot be a mistyped key, its length only: a file
/// that is no configuration at all (`--config /etc/shadow` under a sudo rule for `check`)
/// reads as one long key, and its text (a password hash) must not be echoed.
fn unknown_key(key: &str, t: &ConfigText) -> String {
    let key_like = key.chars().count() <= SHOWN_KEY_MAX && !key.contains([':', '$', '/', '=', '@']);
    if key_like {
        // Escaped: a key is echoed to a terminal and a log.
        fill(t.unknown_field, &[("key", &key.escape_debug())])
    } else {
        fill(t.unknown_field_hidden, &[("count", &key.chars().count())])
    }
}

/// "did you mean critical_version? " when a setting's key is near the unknown `key`.
fn did_you_mean(key: &str, t: &ConfigText) -> String {
    crate::model::did_you_mean::nearest(key, SETTINGS.iter().map(|s| s.key))
        .map_or_else(String::new, |near| fill(t.did_you_mean, &[("near", &near)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The refusals say the sentences they said when they were strings.
    #[test]
    fn refusals_say_the_sentences_they_said_as_strings() {
        let bound = Bound {
            min: 1,
            max: 10,
            unit: "seconds",
        };
        let out = |unit| SettingError::OutOfBounds {
            key: "k",
            bound: Bound { unit, ..bound },
            value: 11,
        };
        assert_eq!(
            out("seconds").to_string(),
            "k must be between 1 and 10 (seconds); got 11"
        );
        assert_eq!(out("").to_string(), "k must be between 1 and 10; got 11");
        assert_eq!(
            SettingError::Twice { key: "k" }.to_string(),
            "k is written twice; keep one"
        );
        let unknown = SettingError::UnknownKey("lisen\u{1b}".into()).to_string();
        assert!(
            unknown.starts_with(
                "unknown field `lisen\\u{1b}`: did you mean listen? the keys of server.yaml are "
            ),
            "{unknown}"
        );
        assert!(unknown.contains(", firmware_dir, ") || unknown.contains("firmware_dir, "));
        let shadow = SettingError::UnknownKey("root:$6$SECRET$abc:19000:0:99999:7:::".into());
        assert!(
            shadow
                .to_string()
                .starts_with("unknown field of 37 characters (not shown"),
            "{shadow}"
        );
        let typo = SettingError::UnknownKey("critcal_version".into()).to_string();
        assert!(
            typo.starts_with(
                "unknown field `critcal_version`: did you mean critical_version? the keys of"
            ),
            "{typo}"
        );
    }

    /// The same refusals in Russian: the key, the value and the form, the form in Russian.
    #[test]
    fn refusals_speak_russian_from_the_table() {
        use crate::model::lang::InLanguage;
        let typo = SettingError::UnknownKey("critcal_version".into()).in_russian();
        assert!(
            typo.starts_with(
                "неизвестный ключ `critcal_version`: может быть, critical_version? ключи \
                 server.yaml: listen, "
            ),
            "{typo}"
        );
        let out = SettingError::OutOfBounds {
            key: "settle_ms",
            bound: Bound {
                min: 0,
                max: 10,
                unit: "milliseconds",
            },
            value: 11,
        };
        assert_eq!(
            out.in_russian(),
            "settle_ms: ожидается число от 0 до 10 (в миллисекундах); получено 11"
        );
        let form = SettingError::WrongForm {
            key: "static_files",
            form: STATIC_FILES.form,
            given: "maybe".into(),
        };
        assert_eq!(
            form.in_russian(),
            "static_files: ожидается true или false; получено maybe"
        );
        assert_eq!(
            form.to_string(),
            "static_files must be true or false; got maybe"
        );
    }

    /// Every setting has its form in the Russian table, and the table names no key that
    /// is not a setting (a renamed key would leave its Russian behind).
    #[test]
    fn every_setting_has_its_form_in_russian() {
        let ru = Words::of(crate::model::lang::Lang::Ru).config;
        for setting in SETTINGS {
            assert!(
                ru.forms
                    .iter()
                    .any(|(key, form)| *key == setting.key && !form.is_empty()),
                "{} has no Russian form",
                setting.key
            );
        }
        for (key, _) in ru.forms {
            assert!(find(key).is_some(), "{key} is no setting");
        }
        for bound in SETTINGS.iter().filter_map(Setting::bound) {
            assert!(
                bound.unit.is_empty() || ru.unit_words(bound.unit) != bound.unit,
                "{} has no Russian",
                bound.unit
            );
        }
    }

    #[test]
    fn flags_and_environment_names_follow_the_key() {
        for setting in SETTINGS.iter().filter(|s| s.on_command_line()) {
            let flag = match setting.key {
                "groups" => "groups-file".to_string(),
                key => key.replace('_', "-"),
            };
            assert_eq!(setting.flag, flag, "{}", setting.key);
            assert_eq!(
                setting.env,
                format!("KKT_{}", setting.key.to_ascii_uppercase()),
                "{}",
                setting.key
            );
            assert!(
                !setting.form.is_empty() && !setting.doc.is_empty(),
                "{}",
                setting.key
            );
            assert!(!setting.doc.contains('\n'), "{}", setting.key);
        }
        // File only: a structured value, and nothing else.
        for setting in SETTINGS.iter().filter(|s| !s.on_command_line()) {
            assert_eq!(setting.shape, Shape::Operators, "{}", setting.key);
            assert!(setting.env.is_empty() && !setting.doc.is_empty());
        }
        let mut keys: Vec<_> = SETTINGS.iter().map(|s| s.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), SETTINGS.len(), "a key is listed twice");
    }

    #[test]
    fn every_number_default_is_within_its_bounds() {
        for setting in SETTINGS {
            match (setting.shape, setting.default) {
                (Shape::Number(_), Builtin::Number(n)) => {
                    assert_eq!(setting.bounded(n), Ok(n), "{}", setting.key)
                }
                (Shape::Number(_), other) => panic!("{}: default {other:?}", setting.key),
                (_, Builtin::Number(_)) => panic!("{}: a number default", setting.key),
                _ => {}
            }
        }
    }

    /// The "Every key" section of docs/configuration.md, up to the next section.
    fn readme_configuration() -> String {
        let readme = include_str!("../../docs/configuration.md");
        let start = readme
            .find("## Every key")
            .expect("docs/configuration.md has an \"Every key\" section");
        let rest = &readme[start..];
        let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
        rest[..end].to_string()
    }

    /// The cells of a Markdown table row (`\|` is a bar inside a cell).
    fn cells(row: &str) -> Vec<String> {
        let row = row.trim().trim_start_matches('|').trim_end_matches('|');
        let mut cells = vec![String::new()];
        let mut chars = row.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'|') => {
                    chars.next();
                    cells.last_mut().unwrap().push('|');
                }
                '|' => cells.push(String::new()),
                c => cells.last_mut().unwrap().push(c),
            }
        }
        cells.iter().map(|c| c.trim().to_string()).collect()
    }

    fn unquoted(cell: &str) -> Option<&str> {
        cell.strip_prefix('`')?.split('`').next()
    }

    #[test]
    fn readme_documents_every_key_with_its_flag_environment_and_bounds() {
        let section = readme_configuration();
        let yaml = section
            .split("```yaml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("the section shows a server.yaml");
        let mut shown: Vec<&str> = yaml
            .lines()
            .filter_map(|l| l.split_once(':').map(|(key, _)| key))
            .filter(|key| !key.starts_with(' ') && !key.starts_with('-'))
            .collect();
        shown.sort_unstable();
        let mut keys: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
        keys.sort_unstable();
        assert_eq!(
            shown, keys,
            "README's server.yaml example and the settings differ"
        );
        for setting in SETTINGS {
            if let Builtin::Number(default) = setting.default {
                let line = yaml
                    .lines()
                    .find(|l| l.starts_with(&format!("{}:", setting.key)))
                    .unwrap();
                let value = line.split(':').nth(1).unwrap().split('#').next().unwrap();
                assert_eq!(
                    value.trim(),
                    default.to_string(),
                    "README's default of {}",
                    setting.key
                );
            }
        }

        let rows: Vec<Vec<String>> = section
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(cells)
            .collect();
        let flags: Vec<&Vec<String>> = rows.iter().filter(|r| r.len() == 3).collect();
        let mut listed = Vec::new();
        for row in &flags {
            let key = unquoted(&row[0]).unwrap();
            let setting = find(key).unwrap_or_else(|| panic!("README lists `{key}`, no setting"));
            let flag = unquoted(&row[1]).unwrap();
            assert!(
                flag == format!("--{}", setting.flag)
                    || flag.starts_with(&format!("--{} ", setting.flag)),
                "README's flag for {key}: {flag}"
            );
            assert_eq!(
                unquoted(&row[2]),
                Some(setting.env),
                "README's variable for {key}"
            );
            listed.push(key);
        }
        listed.sort_unstable();
        let mut flagged: Vec<&str> = SETTINGS
            .iter()
            .filter(|s| s.on_command_line())
            .map(|s| s.key)
            .collect();
        flagged.sort_unstable();
        assert_eq!(
            listed, flagged,
            "README's key/flag/environment table and the settings differ"
        );

        let mut bounded: Vec<&str> = Vec::new();
        for row in rows.iter().filter(|r| r.len() == 4) {
            for pair in row.chunks(2) {
                let Some(key) = unquoted(&pair[0]) else {
                    continue;
                };
                let setting = find(key).unwrap_or_else(|| panic!("README bounds `{key}`"));
                let bound = setting
                    .bound()
                    .unwrap_or_else(|| panic!("{key} has no bounds"));
                let numbers: Vec<u64> = pair[1]
                    .split(" (")
                    .next()
                    .unwrap()
                    .split(" to ")
                    .map(|n| n.replace(',', "").parse().unwrap())
                    .collect();
                assert_eq!(numbers, [bound.min, bound.max], "README's bounds of {key}");
                bounded.push(key);
            }
        }
        bounded.sort_unstable();
        let mut numbers: Vec<&str> = SETTINGS
            .iter()
            .filter(|s| s.bound().is_some())
            .map(|s| s.key)
            .collect();
        numbers.sort_unstable();
        assert_eq!(
            bounded, numbers,
            "README's bounds table and the settings differ"
        );
    }
}
