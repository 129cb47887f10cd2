//! The Windows service: installing and removing it in the service control manager, and the
//! entry point the manager starts (`kkt-update-server service run`). The body (the server)
//! comes from the caller; Stop and Shutdown are answered by `service_control` and start the
//! same drain as Ctrl-C through `stop_signal::request_stop`. The `windows-service` crate
//! does the Win32 calls. Elsewhere these answer that services are a Windows thing.

use std::fmt;
#[cfg(not(windows))]
use std::{ffi::OsString, path::Path, time::Duration};

/// Why the service could not be installed, removed or run; Display is the sentence the
/// operator reads (`reason` is what Windows said).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceError {
    /// Not Windows.
    NotHere,
    /// The service control manager refused us (not an administrator, usually).
    Manager {
        reason: String,
    },
    Create {
        name: String,
        reason: String,
    },
    Describe {
        name: String,
        reason: String,
    },
    NoSuchService {
        name: String,
        reason: String,
    },
    Remove {
        name: String,
        reason: String,
    },
    /// `run` was called twice in one process.
    AlreadyRunning,
    /// The process was not started by the service manager.
    NotStartedAsService {
        reason: String,
    },
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::NotHere => f.write_str(
                "Windows services exist only on Windows; on Linux run it with the systemd unit \
                 in contrib/ (or the .deb, which installs it)",
            ),
            ServiceError::Manager { reason } => write!(
                f,
                "cannot open the service manager (run as administrator): {reason}"
            ),
            ServiceError::Create { name, reason } => {
                write!(f, "cannot create the service {name}: {reason}")
            }
            ServiceError::Describe { name, reason } => {
                write!(f, "cannot describe the service {name}: {reason}")
            }
            ServiceError::NoSuchService { name, reason } => {
                write!(f, "there is no service {name}: {reason}")
            }
            ServiceError::Remove { name, reason } => {
                write!(f, "cannot remove the service {name}: {reason}")
            }
            ServiceError::AlreadyRunning => f.write_str("the service is already running"),
            ServiceError::NotStartedAsService { reason } => write!(
                f,
                "cannot start as a service ({reason}); `service run` is what the service \
                 manager starts: install the service with `kkt-update-server service install`, \
                 or run the server directly"
            ),
        }
    }
}

impl std::error::Error for ServiceError {}

/// Registers the service to start at boot as `exe args...`.
#[cfg(not(windows))]
pub fn install(
    _name: &str,
    _display: &str,
    _description: &str,
    _exe: &Path,
    _args: Vec<OsString>,
) -> Result<(), ServiceError> {
    Err(ServiceError::NotHere)
}

/// Removes the service.
#[cfg(not(windows))]
pub fn uninstall(_name: &str) -> Result<(), ServiceError> {
    Err(ServiceError::NotHere)
}

/// Runs `body` as the service `name` (blocks until it stops).
#[cfg(not(windows))]
pub fn run(
    _name: &'static str,
    _wait_hint: Duration,
    _body: Box<dyn Fn() -> bool + Send + Sync>,
) -> Result<(), ServiceError> {
    Err(ServiceError::NotHere)
}

#[cfg(windows)]
pub use windows::{install, run, uninstall};

#[cfg(windows)]
mod windows {
    use std::ffi::OsString;
    use std::path::Path;
    use std::sync::OnceLock;
    use std::time::Duration;

    use windows_service::service::{
        ServiceAccess, ServiceControl, ServiceControlAccept, ServiceErrorControl, ServiceExitCode,
        ServiceInfo, ServiceStartType, ServiceState, ServiceStatus, ServiceType,
    };
    use windows_service::service_control_handler::{
        self, ServiceControlHandlerResult, ServiceStatusHandle,
    };
    use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
    use windows_service::{define_windows_service, service_dispatcher};

    use super::ServiceError;
    use crate::service_control::{answer, Control, State};
    use crate::stop_signal;

    struct Service {
        name: &'static str,
        wait_hint: Duration,
        body: Box<dyn Fn() -> bool + Send + Sync>,
    }

    static SERVICE: OnceLock<Service> = OnceLock::new();
    static HANDLE: OnceLock<ServiceStatusHandle> = OnceLock::new();

    define_windows_service!(ffi_service_main, service_main);

    pub fn install(
        name: &str,
        display: &str,
        description: &str,
        exe: &Path,
        args: Vec<OsString>,
    ) -> Result<(), ServiceError> {
        let manager = ServiceManager::local_computer(
            None::<&str>,
            ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE,
        )
        .map_err(|e| ServiceError::Manager {
            reason: e.to_string(),
        })?;
        let info = ServiceInfo {
            name: OsString::from(name),
            display_name: OsString::from(display),
            service_type: ServiceType::OWN_PROCESS,
            start_type: ServiceStartType::AutoStart,
            error_control: ServiceErrorControl::Normal,
            executable_path: exe.to_path_buf(),
            launch_arguments: args,
            dependencies: Vec::new(),
            account_name: None,
            account_password: None,
        };
        let service = manager
            .create_service(&info, ServiceAccess::CHANGE_CONFIG)
            .map_err(|e| ServiceError::Create {
                name: name.to_string(),
                reason: e.to_string(),
            })?;
        service
            .set_description(description)
            .map_err(|e| ServiceError::Describe {
                name: name.to_string(),
                reason: e.to_string(),
            })
    }

    pub fn uninstall(name: &str) -> Result<(), ServiceError> {
        let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
            .map_err(|e| ServiceError::Manager {
            reason: e.to_string(),
        })?;
        let service = manager
            .open_service(name, ServiceAccess::DELETE | ServiceAccess::QUERY_STATUS)
            .map_err(|e| ServiceError::NoSuchService {
                name: name.to_string(),
                reason: e.to_string(),
            })?;
        service.delete().map_err(|e| ServiceError::Remove {
            name: name.to_string(),
            reason: e.to_string(),
        })
    }

    pub fn run(
        name: &'static str,
        wait_hint: Duration,
        body: Box<dyn Fn() -> bool + Send + Sync>,
    ) -> Result<(), ServiceError> {
        if SERVICE
            .set(Service {
                name,
                wait_hint,
                body,
            })
            .is_err()
        {
            return Err(ServiceError::AlreadyRunning);
        }
        service_dispatcher::start(name, ffi_service_main).map_err(|e| {
            ServiceError::NotStartedAsService {
                reason: e.to_string(),
            }
        })
    }

    fn report(state: State, exit: u32) {
        let Some(handle) = HANDLE.get() else { return };
        let wait_hint = SERVICE.get().map_or(Duration::ZERO, |s| s.wait_hint);
        let (current_state, accepted, wait) = match state {
            State::StartPending => (
                ServiceState::StartPending,
                ServiceControlAccept::empty(),
                Duration::from_secs(30),
            ),
            State::Running => (
                ServiceState::Running,
                ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN,
                Duration::ZERO,
            ),
            State::StopPending => (
                ServiceState::StopPending,
                ServiceControlAccept::empty(),
                wait_hint,
            ),
            State::Stopped => (
                ServiceState::Stopped,
                ServiceControlAccept::empty(),
                Duration::ZERO,
            ),
        };
        let _ = handle.set_service_status(ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state,
            controls_accepted: accepted,
            exit_code: ServiceExitCode::Win32(exit),
            checkpoint: 0,
            wait_hint: wait,
            process_id: None,
        });
    }

    fn service_main(_arguments: Vec<OsString>) {
        let Some(service) = SERVICE.get() else { return };
        let handler = move |control: ServiceControl| -> ServiceControlHandlerResult {
            let control = match control {
                ServiceControl::Stop => Control::Stop,
                ServiceControl::Shutdown => Control::Shutdown,
                ServiceControl::Interrogate => Control::Interrogate,
                _ => Control::Other,
            };
            let reply = answer(control);
            if let Some(state) = reply.report {
                report(state, 0);
            }
            if reply.stop {
                stop_signal::request_stop("the service manager's stop");
            }
            if reply.handled {
                ServiceControlHandlerResult::NoError
            } else {
                ServiceControlHandlerResult::NotImplemented
            }
        };
        let Ok(handle) = service_control_handler::register(service.name, handler) else {
            return;
        };
        let _ = HANDLE.set(handle);
        report(State::StartPending, 0);
        report(State::Running, 0);
        let ok = (service.body)();
        report(State::Stopped, if ok { 0 } else { 1 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_word_for_word_as_before() {
        assert_eq!(
            ServiceError::NotHere.to_string(),
            "Windows services exist only on Windows; on Linux run it with the systemd unit in \
             contrib/ (or the .deb, which installs it)"
        );
        assert_eq!(
            ServiceError::NotStartedAsService {
                reason: "The service process could not connect".into()
            }
            .to_string(),
            "cannot start as a service (The service process could not connect); `service run` \
             is what the service manager starts: install the service with `kkt-update-server \
             service install`, or run the server directly"
        );
        assert_eq!(
            ServiceError::NoSuchService {
                name: "kkt".into(),
                reason: "gone".into()
            }
            .to_string(),
            "there is no service kkt: gone"
        );
    }
}
