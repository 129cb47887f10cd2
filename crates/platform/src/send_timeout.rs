//! How long a connection may sit with response bytes the client does not take
//! (`send_timeout_s`, like nginx's `send_timeout`): a client that asks for a large file and
//! never reads would otherwise hold a connection slot for ever. On Linux the kernel does
//! it for us: `TCP_USER_TIMEOUT` closes a connection whose sent data stays unacknowledged,
//! or whose peer keeps a zero window, that long (Linux 5.11 and later count zero-window
//! probes too). A register on a slow line is not cut off: every byte it acknowledges
//! starts the time again. Other systems offer no such option on a socket; there only
//! `keep_alive_s` and the peer's own timeouts end such a connection.

use std::time::Duration;

/// Sets the limit on an accepted connection; `false` when the system would not.
#[cfg(target_os = "linux")]
pub fn limit<S: std::os::fd::AsFd>(stream: &S, timeout: Duration) -> bool {
    socket2::SockRef::from(stream)
        .set_tcp_user_timeout(Some(timeout))
        .is_ok()
}

/// Not available on this system (see the module's note).
#[cfg(not(target_os = "linux"))]
pub fn limit<S>(_stream: &S, _timeout: Duration) -> bool {
    false
}
