//! The listening sockets: taken over from systemd when it started us with sockets
//! (socket activation: `LISTEN_PID`, `LISTEN_FDS`, `LISTEN_FDNAMES`), else bound here.
//!
//! With socket activation the kernel keeps queuing connections while the service restarts
//! (systemd holds the socket), so a register that polls during an upgrade waits a moment
//! instead of being refused: the JavaPOS driver's update thread dies on a refused
//! connection. Binding here, before the first scan, also reports a port in use at once.

use std::net::{SocketAddr, TcpListener};

use anyhow::{bail, Context, Result};
use socket2::{Domain, Protocol, Socket, Type};

/// Connections the kernel queues before we accept them (systemd's `Backlog=` for ours).
const BACKLOG: i32 = 1024;

/// A socket systemd passed, by its `FileDescriptorName=`.
#[derive(Debug)]
pub struct Inherited {
    pub name: String,
    pub listener: TcpListener,
}

/// The names we accept in `LISTEN_FDNAMES`: plain HTTP for devices, the admin listener,
/// HTTPS for devices (`tls_listen`).
pub const SOCKET_NAMES: [&str; 3] = ["device", "admin", "tls"];

/// Reads systemd's variables: which file descriptors (from 3 on) carry which socket.
/// Unnamed sockets are, in order, `device`, `admin`, `tls`. Pure, for tests.
pub fn passed_names(
    own_pid: u32,
    listen_pid: Option<&str>,
    listen_fds: Option<&str>,
    fd_names: Option<&str>,
) -> Result<Vec<(i32, String)>> {
    let (Some(pid), Some(count)) = (listen_pid, listen_fds) else {
        return Ok(Vec::new());
    };
    if pid.trim().parse::<u32>().ok() != Some(own_pid) {
        // Meant for another process (a parent that did not clear them): not ours.
        return Ok(Vec::new());
    }
    let count: i32 = count
        .trim()
        .parse()
        .ok()
        .filter(|n| (0..=16).contains(n))
        .with_context(|| format!("LISTEN_FDS must be a number of sockets; got {count:?}"))?;
    let names: Vec<String> = match fd_names {
        Some(names) if !names.is_empty() => names.split(':').map(str::to_string).collect(),
        _ => SOCKET_NAMES
            .iter()
            .take(count as usize)
            .map(|n| n.to_string())
            .collect(),
    };
    if names.len() != count as usize {
        bail!(
            "systemd passed {count} sockets but LISTEN_FDNAMES names {} ({:?})",
            names.len(),
            fd_names.unwrap_or("")
        );
    }
    for name in &names {
        if !SOCKET_NAMES.contains(&name.as_str()) {
            bail!(
                "systemd passed a socket named {name:?}; FileDescriptorName= must be \
                 device, admin or tls"
            );
        }
    }
    Ok((3..).zip(names).collect())
}

/// The sockets systemd passed to this process, if any.
#[cfg(unix)]
pub fn inherited() -> Result<Vec<Inherited>> {
    use std::os::fd::FromRawFd;
    let var = |name: &str| std::env::var(name).ok();
    let passed = passed_names(
        std::process::id(),
        var("LISTEN_PID").as_deref(),
        var("LISTEN_FDS").as_deref(),
        var("LISTEN_FDNAMES").as_deref(),
    )?;
    let mut sockets = Vec::new();
    for (fd, name) in passed {
        // SAFETY: systemd's protocol hands these descriptors, from 3 on, to this process
        // (LISTEN_PID is ours); nothing else in the process owns them.
        let socket = unsafe { Socket::from_raw_fd(fd) };
        socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .with_context(|| {
                format!("the socket systemd passed as {name:?} is not a TCP socket")
            })?;
        socket.set_cloexec(true)?;
        socket.set_nonblocking(true)?;
        sockets.push(Inherited {
            name,
            listener: socket.into(),
        });
    }
    Ok(sockets)
}

#[cfg(not(unix))]
pub fn inherited() -> Result<Vec<Inherited>> {
    Ok(Vec::new())
}

/// Binds `addr` for listening; `setting` names where the address comes from, so that a
/// port in use says which key, flag or variable to change.
pub fn bind(addr: SocketAddr, setting: &str) -> Result<TcpListener> {
    let attempt = || -> std::io::Result<TcpListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        // Restarts must not wait out TIME_WAIT. (On Windows this would let two servers share
        // a port, so it is left off there.)
        #[cfg(unix)]
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(BACKLOG)?;
        socket.set_nonblocking(true)?;
        Ok(socket.into())
    };
    attempt().map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                "the address is in use (another kkt-update-server, or another program)".to_string()
            }
            std::io::ErrorKind::PermissionDenied => {
                "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)".to_string()
            }
            std::io::ErrorKind::AddrNotAvailable => {
                "no network interface has this address".to_string()
            }
            _ => e.to_string(),
        };
        anyhow::anyhow!("cannot listen on {addr}: {why}; it is set by {setting}")
    })
}

/// Stops a socket we bound from listening, while the server still holds it: connections
/// not yet accepted are refused at once (a load balancer then tries another instance)
/// instead of waiting in the queue for a process that is going away. Not for systemd's
/// sockets: their queue is for the next process.
pub fn stop_listening(listener: &TcpListener) {
    // On Linux, shutting down a listening socket's read side stops it listening.
    let _ = socket2::SockRef::from(listener).shutdown(std::net::Shutdown::Read);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_variables_name_the_sockets() {
        let names = |fds: Vec<(i32, String)>| fds.into_iter().collect::<Vec<_>>();
        assert!(passed_names(42, None, None, None).unwrap().is_empty());
        assert!(
            passed_names(42, Some("41"), Some("1"), None)
                .unwrap()
                .is_empty(),
            "meant for another process"
        );
        assert_eq!(
            names(passed_names(42, Some("42"), Some("2"), None).unwrap()),
            [(3, "device".to_string()), (4, "admin".to_string())]
        );
        assert_eq!(
            names(passed_names(42, Some("42"), Some("2"), Some("admin:device")).unwrap()),
            [(3, "admin".to_string()), (4, "device".to_string())]
        );
        // The HTTPS socket for tls_listen, as README tells systemd users to name it.
        assert_eq!(
            names(passed_names(42, Some("42"), Some("2"), Some("device:tls")).unwrap()),
            [(3, "device".to_string()), (4, "tls".to_string())]
        );
        let error = passed_names(42, Some("42"), Some("1"), Some("web")).unwrap_err();
        assert!(error.to_string().contains("\"web\""), "{error}");
        assert!(
            error.to_string().contains("device, admin or tls"),
            "{error}"
        );
        let error = passed_names(42, Some("42"), Some("x"), None).unwrap_err();
        assert!(error.to_string().contains("LISTEN_FDS"), "{error}");
        let error = passed_names(42, Some("42"), Some("2"), Some("device")).unwrap_err();
        assert!(error.to_string().contains("names 1"), "{error}");
    }

    #[test]
    fn a_port_in_use_names_the_setting() {
        let taken = bind("127.0.0.1:0".parse().unwrap(), "listen").unwrap();
        let addr = taken.local_addr().unwrap();
        let error = bind(addr, "listen (--listen, KKT_LISTEN)").unwrap_err();
        let text = error.to_string();
        assert!(text.contains("in use"), "{text}");
        assert!(text.contains("--listen, KKT_LISTEN"), "{text}");
    }
}
