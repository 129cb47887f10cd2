//! `kkt-update-server service install|uninstall` on Windows: registers the server with the
//! service control manager to start at boot as `kkt-update-server.exe service run --config
//! <absolute path>`, or removes it. (`service run`, what Windows starts, is dispatched by
//! `lib.rs`, which may start the server.) The log of the service goes to
//! `kkt-update-server.log` next to `server.yaml`, rotated at 10 MB, three kept.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::config::cli::ServiceAction;
use crate::config::Config;
use crate::platform::windows_service;

/// The service's name in the service control manager (`sc start kkt-update-server`).
pub const SERVICE_NAME: &str = "kkt-update-server";
const DISPLAY_NAME: &str = "kkt-update-server (обновления ККТ)";
const DESCRIPTION: &str = "Firmware updates and feature licenses for Shtrih-M fiscal registers";

/// The log file of the service: next to `server.yaml` (`Config::service_log`).
pub fn log_path(config: &Config) -> PathBuf {
    config.service_log()
}

/// Why the service could not be installed or removed, in one sentence.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("give --config with the path of server.yaml: the service reads it from there")]
    NoConfigPath,
    #[error("{} does not exist", .0.display())]
    ConfigMissing(PathBuf),
    #[error("cannot find {}: {error}", path.display())]
    ConfigPath {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot tell where this program is: {0}")]
    CurrentExe(std::io::Error),
    /// The service control manager refused (`platform::windows_service` says why).
    #[error("{0}")]
    Windows(String),
    #[error("`service run` is started by Windows' service manager")]
    RunByWindows,
}

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
                .map_err(|e| ServiceError::Windows(e.to_string()))?;
            Ok(format!(
                "installed the service {SERVICE_NAME} (starts at boot) with {}\n\
                 start it now: sc start {SERVICE_NAME}   (or in services.msc)\n\
                 its log: {}\n",
                config_path.display(),
                config_path
                    .parent()
                    .map(|dir| dir.join("kkt-update-server.log"))
                    .unwrap_or_else(|| log_path(config))
                    .display()
            ))
        }
        ServiceAction::Uninstall => {
            windows_service::uninstall(SERVICE_NAME)
                .map_err(|e| ServiceError::Windows(e.to_string()))?;
            Ok(format!("removed the service {SERVICE_NAME}\n"))
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
                ServiceError::Windows("access denied".into()),
                "access denied",
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
