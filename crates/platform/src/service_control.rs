//! What the Windows service control manager asks of a service, and how we answer, as plain
//! data so it is tested on every system (Wine cannot show the service control manager): a
//! Stop or a Shutdown (the machine going down) starts the same drain as Ctrl-C or SIGTERM,
//! the service reports StopPending while running downloads finish, then Stopped; an
//! Interrogate is answered; anything else is not ours.

/// A request from the service control manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Stop,
    Shutdown,
    Interrogate,
    /// Pause, Continue, parameter changes, power events...
    Other,
}

/// The states we report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    StartPending,
    Running,
    StopPending,
    Stopped,
}

/// How a control is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// Whether the control is handled (else "not implemented").
    pub handled: bool,
    /// Start the drain.
    pub stop: bool,
    /// Report this state now.
    pub report: Option<State>,
}

/// The answer to `control`.
pub fn answer(control: Control) -> Answer {
    match control {
        Control::Stop | Control::Shutdown => Answer {
            handled: true,
            stop: true,
            report: Some(State::StopPending),
        },
        Control::Interrogate => Answer {
            handled: true,
            stop: false,
            report: None,
        },
        Control::Other => Answer {
            handled: false,
            stop: false,
            report: None,
        },
    }
}

/// How long the drain may take before Windows gives up on us: the configured shutdown
/// time plus a margin for writing the last records (reported as StopPending's wait hint).
pub fn stop_wait_hint(shutdown_timeout: std::time::Duration) -> std::time::Duration {
    shutdown_timeout.saturating_add(std::time::Duration::from_secs(15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_and_shutdown_drain_like_sigterm() {
        for control in [Control::Stop, Control::Shutdown] {
            assert_eq!(
                answer(control),
                Answer {
                    handled: true,
                    stop: true,
                    report: Some(State::StopPending)
                }
            );
        }
        assert!(answer(Control::Interrogate).handled && !answer(Control::Interrogate).stop);
        assert!(!answer(Control::Other).handled);
        assert_eq!(
            stop_wait_hint(std::time::Duration::from_secs(30)),
            std::time::Duration::from_secs(45)
        );
    }
}
