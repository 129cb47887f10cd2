//! `kkt-update-server service install|uninstall` on Windows: registers the server with the
//! service control manager to start at boot as `kkt-update-server.exe service run --config
//! <absolute path>`, or removes it. (`service run`, what Windows starts, is dispatched by
//! `lib.rs`, which may start the server.) The log of the service goes to
//! `kkt-update-server.log` next to `server.yaml`, rotated at 10 MB, three kept.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::config::cli::ServiceAction;
use crate::config::Config;
use crate::model::lang::fill;
use crate::platform::windows_service;
use crate::words::{FromTable, Words};

/// The service's name in the service control manager (`sc start kkt-update-server`).
pub const SERVICE_NAME: &str = "kkt-update-server";
const DISPLAY_NAME: &str = "kkt-update-server (обновления ККТ)";
const DESCRIPTION: &str = "Firmware updates and feature licenses for Shtrih-M fiscal registers";

/// The log file of the service: next to `server.yaml` (`Config::service_log`).
pub fn log_path(config: &Config) -> PathBuf {
    config.service_log()
}

/// Why the service could not be installed or removed, in one sentence of the table.
#[derive(Debug)]
pub enum ServiceError {
    NoConfigPath,
    ConfigMissing(PathBuf),
    ConfigPath {
        path: PathBuf,
        error: std::io::Error,
    },
    CurrentExe(std::io::Error),
    /// The service control manager refused (the reason as Windows gives it).
    Windows(windows_service::ServiceError),
    RunByWindows,
}

impl FromTable for ServiceError {
    fn said(&self, words: &'static Words) -> String {
        let t = words.operator;
        match self {
            ServiceError::NoConfigPath => t.service_no_config.to_string(),
            ServiceError::ConfigMissing(path) => {
                fill(t.service_config_missing, &[("file", &path.display())])
            }
            ServiceError::ConfigPath { path, error } => fill(
                t.service_config_path,
                &[("file", &path.display()), ("why", error)],
            ),
            ServiceError::CurrentExe(error) => fill(t.service_current_exe, &[("why", error)]),
            ServiceError::Windows(refused) => manager_said(refused, words),
            ServiceError::RunByWindows => t.service_run_by_windows.to_string(),
        }
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english())
    }
}

impl crate::model::lang::InLanguage for ServiceError {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

/// The service manager's refusal in the table's words (the reason as Windows gives it).
pub fn manager_said(refused: &windows_service::ServiceError, words: &'static Words) -> String {
    use windows_service::ServiceError as E;
    let t = words.operator;
    let named =
        |template, name: &String, why: &String| fill(template, &[("name", name), ("why", why)]);
    match refused {
        E::NotHere => t.service_not_here.to_string(),
        E::Manager { reason } => fill(t.service_manager, &[("why", reason)]),
        E::Create { name, reason } => named(t.service_create, name, reason),
        E::Describe { name, reason } => named(t.service_describe, name, reason),
        E::NoSuchService { name, reason } => named(t.service_no_such, name, reason),
        E::Remove { name, reason } => named(t.service_remove, name, reason),
        E::AlreadyRunning => t.service_already_running.to_string(),
        E::NotStartedAsService { reason } => fill(t.service_not_started, &[("why", reason)]),
    }
}

impl std::error::Error for ServiceError {}

/// Installs or removes the service; what to tell the operator.
pub fn run(config: &Config, action: ServiceAction) -> Result<String, ServiceError> {
    match action {
        ServiceAction::Install => {
            let Some(path) = &config.path else {
                return Err(ServiceError::NoConfigPath);
            };
            if !path.is_file() {
                return Err(ServiceError::ConfigMissing(path.clone()));
            }
            // absolute, not canonicalize: Windows would get a \\?\ path it shows badly.
            let config_path =
                std::path::absolute(path).map_err(|error| ServiceError::ConfigPath {
                    path: path.clone(),
                    error,
                })?;
            let exe = std::env::current_exe().map_err(ServiceError::CurrentExe)?;
            let args: Vec<OsString> = vec![
                "service".into(),
                "run".into(),
                "--config".into(),
                config_path.clone().into_os_string(),
            ];
            windows_service::install(SERVICE_NAME, DISPLAY_NAME, DESCRIPTION, &exe, args)
                .map_err(ServiceError::Windows)?;
            let log = config_path
                .parent()
                .map(|dir| dir.join("kkt-update-server.log"))
                .unwrap_or_else(|| log_path(config));
            Ok(fill(
                Words::of(config.language).operator.service_installed,
                &[
                    ("name", &SERVICE_NAME),
                    ("config", &config_path.display()),
                    ("log", &log.display()),
                ],
            ))
        }
        ServiceAction::Uninstall => {
            windows_service::uninstall(SERVICE_NAME).map_err(ServiceError::Windows)?;
            Ok(fill(
                Words::of(config.language).operator.service_removed,
                &[("name", &SERVICE_NAME)],
            ))
        }
        ServiceAction::Run => Err(ServiceError::RunByWindows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The refusals say the sentences `service` said when they were strings.
    #[test]
    fn refusals_say_the_sentences_they_said_as_strings() {
        let cases = [
            (
                ServiceError::NoConfigPath,
                "give --config with the path of server.yaml: the service reads it from there",
            ),
            (
                ServiceError::ConfigMissing("server.yaml".into()),
                "server.yaml does not exist",
            ),
            (
                ServiceError::CurrentExe(std::io::Error::other("gone")),
                "cannot tell where this program is: gone",
            ),
            (
                ServiceError::Windows(windows_service::ServiceError::Manager {
                    reason: "access denied".into(),
                }),
                "cannot open the service manager (run as administrator): access denied",
            ),
            (
                ServiceError::RunByWindows,
                "`service run` is started by Windows' service manager",
            ),
        ];
        for (error, said) in cases {
            assert_eq!(error.to_string(), said);
        }
    }
}
