//! The base of the download URLs a device is sent: `public_url` when the operator set one
//! (a reverse proxy, a CDN), else `http://` (`https://` for a request that came in over
//! native TLS) + the request's Host header like the reference, else (HTTP/1.0 without
//! Host) the address the request arrived on.

use std::net::SocketAddr;

use crate::device_api::api_error::ApiError;

/// Builds the base URL (no trailing `/`).
pub fn base_url(
    public_url: Option<&str>,
    host: Option<&[u8]>,
    local: Option<SocketAddr>,
    over_tls: bool,
) -> Result<String, ApiError> {
    if let Some(url) = public_url {
        return Ok(url.to_string());
    }
    let scheme = if over_tls { "https" } else { "http" };
    match host {
        Some(host) if !host.is_empty() => {
            let text = std::str::from_utf8(host).ok().filter(|h| is_host(h));
            match text {
                Some(host) => Ok(format!("{scheme}://{host}")),
                None => Err(ApiError::InvalidHost(
                    String::from_utf8_lossy(host).into_owned(),
                )),
            }
        }
        _ => Ok(match local {
            Some(addr) => format!("{scheme}://{addr}"),
            None => format!("{scheme}://127.0.0.1"),
        }),
    }
}

/// A host name, IPv4 address or bracketed IPv6 address, with an optional port: nothing
/// that could break out of the URL (no `/`, `@`, spaces, quotes).
fn is_host(host: &str) -> bool {
    host.len() <= 255
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_wins_then_host_then_local_address() {
        let local: SocketAddr = "10.0.0.5:8888".parse().unwrap();
        assert_eq!(
            base_url(
                Some("https://fw.example.ru"),
                Some(b"x"),
                Some(local),
                false
            )
            .unwrap(),
            "https://fw.example.ru"
        );
        assert_eq!(
            base_url(None, Some(b"kkt.local:8888"), Some(local), false).unwrap(),
            "http://kkt.local:8888"
        );
        assert_eq!(
            base_url(None, Some(b"[::1]:8888"), Some(local), false).unwrap(),
            "http://[::1]:8888"
        );
        assert_eq!(
            base_url(None, None, Some(local), false).unwrap(),
            "http://10.0.0.5:8888"
        );
        let v6: SocketAddr = "[::1]:8888".parse().unwrap();
        assert_eq!(
            base_url(None, Some(b""), Some(v6), false).unwrap(),
            "http://[::1]:8888"
        );
        // A request that came in over native TLS is sent https:// URLs.
        assert_eq!(
            base_url(None, Some(b"fw.example.ru:8443"), Some(local), true).unwrap(),
            "https://fw.example.ru:8443"
        );
        assert_eq!(
            base_url(None, None, Some(local), true).unwrap(),
            "https://10.0.0.5:8888"
        );
    }

    #[test]
    fn hosts_that_would_break_the_url_are_refused() {
        for bad in [&b"evil.com/x"[..], b"a b", b"user@host", b"h\"", b"\xff"] {
            assert!(
                matches!(
                    base_url(None, Some(bad), None, false),
                    Err(ApiError::InvalidHost(_))
                ),
                "{bad:?}"
            );
        }
    }
}
