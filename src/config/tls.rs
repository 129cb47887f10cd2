//! Native TLS for the device listener (and, if asked, the admin listener): the certificate
//! chain and private key (PEM files, as certbot writes them) checked into a pair rustls can
//! serve, and a store that hands every new handshake the newest good pair. A renewal is
//! taken while the server runs; a broken or mismatched pair is refused and the last good
//! one keeps serving. rustls with the `ring` provider (aws-lc-rs would need cmake and NASM
//! to build on Windows); PEM through `rustls-pki-types` (`rustls-pemfile` is archived).

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::model::lang::fill;
use crate::platform::lock_recover::LockRecover;
use crate::words::{FromTable, Words};

/// The two files, as configured (`tls_cert`, `tls_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The provider every TLS listener uses: ring's, with the AES-128-GCM suites (SHA-256) put
/// first, TLS 1.3's and TLS 1.2's, the rest in ring's order (see `server_config`).
pub fn provider() -> Arc<CryptoProvider> {
    use rustls::CipherSuite as Suite;
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.sort_by_key(|suite| {
        !matches!(
            suite.suite(),
            Suite::TLS13_AES_128_GCM_SHA256
                | Suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                | Suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        )
    });
    Arc::new(provider)
}

/// Why a certificate and key do not make a pair to serve, naming the file (by its setting,
/// `tls_cert` or `tls_key`) and what is wrong with it.
#[derive(Debug)]
pub enum TlsError {
    CertUnreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    CertNotPem {
        path: PathBuf,
        error: rustls_pki_types::pem::Error,
    },
    NoCertificate(PathBuf),
    KeyUnreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    NoKey {
        path: PathBuf,
        error: rustls_pki_types::pem::Error,
    },
    NotTheirKey {
        files: TlsFiles,
    },
    /// Anything else rustls refuses in the key.
    KeyRefused {
        path: PathBuf,
        error: rustls::Error,
    },
    SetUp(rustls::Error),
}

impl FromTable for TlsError {
    /// The sentence of the table; the causes quoted (the system's, rustls's) as they give
    /// them.
    fn said(&self, words: &'static Words) -> String {
        let t = words.config;
        let file = |template, path: &Path, why: &dyn std::fmt::Display| {
            fill(template, &[("file", &path.display()), ("why", why)])
        };
        match self {
            TlsError::CertUnreadable { path, error } => file(t.tls_cert_unreadable, path, error),
            TlsError::CertNotPem { path, error } => file(t.tls_cert_not_pem, path, error),
            TlsError::NoCertificate(path) => file(t.tls_no_certificate, path, &""),
            TlsError::KeyUnreadable { path, error } => file(t.tls_key_unreadable, path, error),
            TlsError::NoKey { path, error } => file(t.tls_no_key, path, error),
            TlsError::NotTheirKey { files } => fill(
                t.tls_not_their_key,
                &[
                    ("key", &files.key.display()),
                    ("cert", &files.cert.display()),
                ],
            ),
            TlsError::KeyRefused { path, error } => file(t.tls_key_refused, path, error),
            TlsError::SetUp(error) => fill(t.tls_set_up, &[("why", error)]),
        }
    }
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english())
    }
}

impl crate::model::lang::InLanguage for TlsError {
    fn in_russian(&self) -> String {
        self.russian()
    }
}

impl std::error::Error for TlsError {}

/// Reads and checks the pair: a chain of at least one certificate, one private key, and the
/// key belonging to the first certificate. Errors name the file and say what is wrong.
pub fn load_pair(files: &TlsFiles) -> Result<Arc<CertifiedKey>, TlsError> {
    let cert_pem = fs::read(&files.cert).map_err(|error| TlsError::CertUnreadable {
        path: files.cert.clone(),
        error,
    })?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|error| TlsError::CertNotPem {
            path: files.cert.clone(),
            error,
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(files.cert.clone()));
    }
    let key_pem = fs::read(&files.key).map_err(|error| TlsError::KeyUnreadable {
        path: files.key.clone(),
        error,
    })?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|error| TlsError::NoKey {
        path: files.key.clone(),
        error,
    })?;
    CertifiedKey::from_der(chain, key, &provider())
        .map(Arc::new)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => TlsError::NotTheirKey {
                files: files.clone(),
            },
            error => TlsError::KeyRefused {
                path: files.key.clone(),
                error,
            },
        })
}

/// When the first certificate of the chain expires, as Unix seconds: `notAfter` of its
/// validity. Read by hand from the DER (one field of a certificate rustls has already
/// parsed and accepted; a parsing crate would bring eight more for it). `None` for anything
/// unexpected.
pub fn not_after(pair: &CertifiedKey) -> Option<i64> {
    let cert = pair.cert.first()?;
    let (0x30, certificate, _) = der_item(cert.as_ref())? else {
        return None;
    };
    let (0x30, tbs, _) = der_item(certificate)? else {
        return None;
    };
    let (tag, _, mut rest) = der_item(tbs)?;
    if tag == 0xa0 {
        // [0] version, then the serial number.
        rest = der_item(rest)?.2;
    }
    let rest = der_item(rest)?.2; // signature algorithm
    let rest = der_item(rest)?.2; // issuer
    let (0x30, validity, _) = der_item(rest)? else {
        return None;
    };
    let (_, _, after_before) = der_item(validity)?;
    let (tag, time, _) = der_item(after_before)?;
    let text = std::str::from_utf8(time).ok()?;
    let (year, rest) = match tag {
        // UTCTime, YYMMDDHHMMSSZ: 50-99 are 19xx (RFC 5280).
        0x17 => {
            let yy: i32 = text.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, text.get(2..)?)
        }
        // GeneralizedTime, YYYYMMDDHHMMSSZ.
        0x18 => (text.get(..4)?.parse().ok()?, text.get(4..)?),
        _ => return None,
    };
    let field = |i: usize| -> Option<u32> { rest.get(i..i + 2)?.parse().ok() };
    let date = chrono::NaiveDate::from_ymd_opt(year, field(0)?, field(2)?)?;
    let time = date.and_hms_opt(field(4)?, field(6)?, field(8)?)?;
    Some(time.and_utc().timestamp())
}

/// One DER item: its tag, its content and what follows it.
fn der_item(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(count)?;
        rest = after;
        bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b))
    };
    let (content, after) = rest.split_at_checked(length)?;
    Some((tag, content, after))
}

/// What a file looks like now: size, modification time and where its links lead (certbot
/// renews by pointing `live/` links at new files).
type Stamp = Vec<(Option<PathBuf>, u64, Option<SystemTime>)>;

fn stamp(files: &TlsFiles) -> Stamp {
    [&files.cert, &files.key]
        .iter()
        .map(|path| {
            let meta = fs::metadata(path).ok();
            (
                fs::canonicalize(path).ok(),
                meta.as_ref().map_or(0, fs::Metadata::len),
                meta.and_then(|m| m.modified().ok()),
            )
        })
        .collect()
}

/// The pair new handshakes get, replaced whole when the files change and still check.
pub struct CertificateStore {
    files: TlsFiles,
    current: ArcSwap<CertifiedKey>,
    seen: Mutex<Stamp>,
}

impl fmt::Debug for CertificateStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateStore")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

/// What a look at the files found.
#[derive(Debug)]
pub enum Renewal {
    /// Nothing changed.
    Same,
    /// A new pair serves from now on.
    Taken,
    /// The files changed but do not make a good pair; the last good one keeps serving.
    Refused(TlsError),
}

impl CertificateStore {
    /// Loads the pair; an error at start-up is a configuration error.
    pub fn open(files: TlsFiles) -> Result<CertificateStore, TlsError> {
        let seen = stamp(&files);
        let pair = load_pair(&files)?;
        Ok(CertificateStore {
            files,
            current: ArcSwap::new(pair),
            seen: Mutex::new(seen),
        })
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// Takes the files again if they changed since the last look.
    pub fn renew_if_changed(&self) -> Renewal {
        let now = stamp(&self.files);
        let mut seen = self.seen.lock_recover();
        if *seen == now {
            return Renewal::Same;
        }
        *seen = now;
        match load_pair(&self.files) {
            Ok(pair) => {
                self.current.store(pair);
                Renewal::Taken
            }
            Err(reason) => Renewal::Refused(reason),
        }
    }

    /// The pair serving now.
    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current.load_full()
    }

    /// When the certificate serving now expires (Unix seconds).
    pub fn expires_at(&self) -> Option<i64> {
        not_after(&self.current.load())
    }
}

impl ResolvesServerCert for CertificateStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// A rustls server configuration that asks `store` for the pair at every handshake.
///
/// Session resumption by tickets: registers poll every 10 minutes on a fresh connection, so
/// without it every HTTPS poll is a full handshake. rustls's own cache of resumable
/// sessions holds 256, far fewer than a fleet; stateless tickets (rustls's `Ticketer`:
/// ChaCha20-Poly1305 under random keys made in memory at start, a new key every 6 hours,
/// a ticket valid 12 hours) resume any number of registers. Resumption in TLS 1.3 still
/// runs an (EC)DHE exchange (rustls offers only `psk_dhe_ke`), so a stolen ticket key does
/// not open recorded sessions. The keys never leave the process: after a restart, or on
/// another instance behind a balancer, a register's next poll is a full handshake again.
/// The one configuration is shared by every worker and both listeners, so are the keys.
///
/// Two savings on every poll's handshake, both measured (bench/RESULTS.md): one ticket per
/// handshake, not rustls's two (a register polls on one connection at a time and every
/// resumption brings it a fresh ticket, so the second was sealed and sent for nothing), and
/// the server's order of cipher suites, AES-128-GCM first (as Mozilla's recommended order):
/// most clients, Java's included, list AES-256-GCM-SHA384 first, whose key schedule runs on
/// SHA-384, several times the cost of SHA-256 on processors with SHA extensions (TLS 1.2's
/// ECDHE suites alike). Every suite stays on offer; only the choice among those a client
/// offers changes (a client preferring ChaCha20, as some ARM phones do, gets AES-GCM: the
/// drivers run on shop PCs).
pub fn server_config(store: Arc<CertificateStore>) -> Result<rustls::ServerConfig, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::SetUp)?
        .with_no_client_auth()
        .with_cert_resolver(store);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(TlsError::SetUp)?;
    config.send_tls13_tickets = 1;
    config.ignore_client_order = true;
    Ok(config)
}

/// Resolves `path` against the folder of `server.yaml`, as every path in it is.
pub fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The refusals say the sentences they said when they were strings.
    #[test]
    fn refusals_say_the_sentences_they_said_as_strings() {
        let files = TlsFiles {
            cert: "cert.pem".into(),
            key: "key.pem".into(),
        };
        let cases = [
            (
                TlsError::CertUnreadable {
                    path: files.cert.clone(),
                    error: std::io::Error::other("gone"),
                },
                "tls_cert cert.pem: cannot be read: gone",
            ),
            (
                TlsError::NoCertificate(files.cert.clone()),
                "tls_cert cert.pem: holds no certificate (expected -----BEGIN CERTIFICATE-----)",
            ),
            (
                TlsError::KeyUnreadable {
                    path: files.key.clone(),
                    error: std::io::Error::other("gone"),
                },
                "tls_key key.pem: cannot be read: gone",
            ),
            (
                TlsError::NoKey {
                    path: files.key.clone(),
                    error: rustls_pki_types::pem::Error::NoItemsFound,
                },
                "tls_key key.pem: no private key in it (expected -----BEGIN PRIVATE KEY----- or \
                 an RSA/EC key): no items found",
            ),
            (
                TlsError::NotTheirKey {
                    files: files.clone(),
                },
                "tls_key key.pem does not belong to the certificate in tls_cert cert.pem",
            ),
            (
                TlsError::SetUp(rustls::Error::General("x".into())),
                "TLS set-up failed: unexpected error: x",
            ),
        ];
        for (error, said) in cases {
            assert_eq!(error.to_string(), said);
        }
    }

    #[test]
    fn der_items_with_short_and_long_lengths_and_garbage() {
        assert_eq!(
            der_item(&[0x30, 2, 1, 2, 9]),
            Some((0x30, &[1u8, 2][..], &[9u8][..]))
        );
        let mut long = vec![0x04, 0x81, 200];
        long.extend([7u8; 200]);
        let (tag, content, rest) = der_item(&long).unwrap();
        assert_eq!((tag, content.len(), rest.len()), (4, 200, 0));
        assert_eq!(der_item(&[0x30, 5, 1]), None, "shorter than it says");
        assert_eq!(
            der_item(&[0x30, 0x85, 1, 1, 1, 1, 1]),
            None,
            "absurd length"
        );
        assert_eq!(der_item(&[]), None);
    }
}
