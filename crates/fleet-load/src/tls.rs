//! The HTTPS side: a rustls client (the `ring` provider, as the server) that verifies the
//! server's certificate against the CA the bench made, and, with `--resume`, one store of
//! TLS 1.3 tickets shared by every worker. rustls's own in-memory store keeps 8 tickets per
//! server name, fewer than a bench's workers handshaking at once, which would turn some
//! resumable polls into full handshakes and blur the measure; this one keeps two per
//! worker (a server hands out two per handshake).

use std::collections::VecDeque;
use std::fmt;
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rustls::client::{
    ClientSessionStore, Resumption, Tls12ClientSessionValue, Tls13ClientSessionValue,
};
use rustls::{ClientConfig, NamedGroup, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio_rustls::TlsConnector;

/// The largest CA file read.
const CA_LIMIT: u64 = 1024 * 1024;

/// A client that trusts the certificates in `ca` and resumes sessions (`resume`) from one
/// store sized for `connections` workers, or never.
pub fn connector(ca: &Path, resume: bool, connections: usize) -> Result<TlsConnector, String> {
    let roots = roots(ca)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = if resume {
        Resumption::store(Arc::new(TicketStore::new(
            connections.saturating_mul(2).max(8),
        )))
    } else {
        Resumption::disabled()
    };
    Ok(TlsConnector::from(Arc::new(config)))
}

fn roots(ca: &Path) -> Result<RootCertStore, String> {
    let shown = ca.display();
    let size = fs::metadata(ca)
        .map_err(|e| format!("--ca {shown}: cannot be read: {e}"))?
        .len();
    if size > CA_LIMIT {
        return Err(format!(
            "--ca {shown}: {size} bytes; a CA file is at most {CA_LIMIT}"
        ));
    }
    let pem = fs::read(ca).map_err(|e| format!("--ca {shown}: cannot be read: {e}"))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("--ca {shown}: not a PEM file: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("--ca {shown}: a certificate rustls refuses: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "--ca {shown}: holds no certificate (expected -----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok(roots)
}

/// What is kept for the one server a run talks to.
#[derive(Default)]
struct Kept {
    kx_hint: Option<NamedGroup>,
    tls12: Option<Tls12ClientSessionValue>,
    tls13: VecDeque<Tls13ClientSessionValue>,
}

/// Tickets for the run's one server name, up to `capacity`, newest taken first; each
/// handed out once (rustls's rule). A run has one target and one `--server-name`, so the
/// name is not looked at.
pub struct TicketStore {
    capacity: usize,
    kept: Mutex<Kept>,
}

impl TicketStore {
    pub fn new(capacity: usize) -> TicketStore {
        TicketStore {
            capacity,
            kept: Mutex::new(Kept::default()),
        }
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        // A worker that panicked cannot leave a ticket half-written: take the store as is.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for TicketStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketStore")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl ClientSessionStore for TicketStore {
    fn set_kx_hint(&self, _: ServerName<'static>, group: NamedGroup) {
        self.kept().kx_hint = Some(group);
    }

    fn kx_hint(&self, _: &ServerName<'_>) -> Option<NamedGroup> {
        self.kept().kx_hint
    }

    fn set_tls12_session(&self, _: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.kept().tls12 = Some(value);
    }

    fn tls12_session(&self, _: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.kept().tls12.clone()
    }

    fn remove_tls12_session(&self, _: &ServerName<'static>) {
        self.kept().tls12 = None;
    }

    fn insert_tls13_ticket(&self, _: ServerName<'static>, value: Tls13ClientSessionValue) {
        let mut kept = self.kept();
        if kept.tls13.len() >= self.capacity {
            kept.tls13.pop_front();
        }
        kept.tls13.push_back(value);
    }

    fn take_tls13_ticket(&self, _: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        self.kept().tls13.pop_back()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_that_holds_no_certificate_is_refused_in_words() {
        let dir = std::env::temp_dir().join(format!("fleet-load-ca-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        fs::write(&empty, "not a certificate\n").unwrap();
        let error = connector(&empty, true, 4).err().unwrap();
        assert!(error.contains("holds no certificate"), "{error}");
        let missing = dir.join("missing.pem");
        let error = connector(&missing, false, 4).err().unwrap();
        assert!(error.contains("cannot be read"), "{error}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
