//! The inventory's PostgreSQL address (`inventory: postgres://…`) and how it is reached:
//! libpq's `sslmode` and `sslrootcert`. The `postgres` crate knows only
//! `sslmode=disable|prefer|require` and refuses `sslrootcert`, so both are read here and taken
//! out of the URL; the rest is the `postgres` crate's to parse. Everything is checked when
//! the configuration is read, so `check` and the start name the key, the value and the
//! accepted forms instead of failing at the first connection.
//!
//! The meanings are libpq's (what every PostgreSQL operator knows): `disable` plain;
//! `prefer` (the default) TLS when the server offers it, else plain; `require` TLS, the
//! certificate not checked unless `sslrootcert` is given (then as `verify-ca`); `verify-ca`
//! TLS with the certificate chained to a CA of `sslrootcert`; `verify-full` that and the
//! host name in the certificate.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Result;
use percent_encoding::percent_decode_str;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::model::lang::fill;
use crate::words::watch::WatchText;
use crate::words::{cause_in, Said, Words};

/// A CA file larger than this is not a CA file (a whole system bundle is about 200 KiB).
pub const ROOT_CERT_AT_MOST: u64 = 4 << 20;

/// `sslmode`: whether TLS is used and what is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    const FORMS: &'static str = "disable, prefer, require, verify-ca or verify-full";

    fn parse(text: &str) -> Result<SslMode> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                let value = format!("{:?}", other.chars().take(40).collect::<String>());
                return Err(refused(|w| {
                    fill(
                        w.watch.pg_sslmode_form,
                        &[("value", &value), ("forms", &SslMode::FORMS)],
                    )
                }));
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A refusal in both languages, from the tables: it travels in the `anyhow` chain, and
/// whoever prints it picks the operator's language (`words::chain_in`).
fn refused(say: impl Fn(&'static Words) -> String) -> anyhow::Error {
    anyhow::Error::new(Said::new(say))
}

/// A checked PostgreSQL address.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresSetting {
    /// The URL without `sslmode` and `sslrootcert`: what `postgres::Config` parses.
    pub url: String,
    pub ssl_mode: SslMode,
    /// The CA certificates (PEM) the server's certificate must chain to.
    pub root_cert: Option<PathBuf>,
    /// For logs and `/status`: scheme, hosts, ports, database and sslmode, built from the
    /// parsed address, so no password (in the user part or as `?password=`) can show.
    shown: String,
}

impl PostgresSetting {
    /// Reads `text` (`postgres://…` or `postgresql://…`); a relative `sslrootcert` is taken
    /// from `base` (the configuration file's folder).
    pub fn parse(text: &str, base: &Path) -> Result<PostgresSetting> {
        let (address, query) = text.split_once('?').unwrap_or((text, ""));
        let mut ssl_mode = None;
        let mut root_cert = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = || percent_decode_str(value).decode_utf8_lossy().into_owned();
            match key {
                "sslmode" => {
                    if ssl_mode.replace(SslMode::parse(&decoded())?).is_some() {
                        return Err(refused(|w| fill(w.watch.pg_twice, &[("key", &"sslmode")])));
                    }
                }
                "sslrootcert" => {
                    let path = PathBuf::from(decoded());
                    if path.as_os_str().is_empty() {
                        return Err(refused(|w| w.watch.pg_rootcert_empty.to_string()));
                    }
                    let path = if path.is_absolute() {
                        path
                    } else {
                        base.join(path)
                    };
                    if root_cert.replace(path).is_some() {
                        return Err(refused(|w| {
                            fill(w.watch.pg_twice, &[("key", &"sslrootcert")])
                        }));
                    }
                }
                "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir" => {
                    return Err(refused(|w| fill(w.watch.pg_unsupported, &[("key", &key)])))
                }
                _ => kept.push(pair),
            }
        }
        let url = if kept.is_empty() {
            address.to_string()
        } else {
            format!("{address}?{}", kept.join("&"))
        };
        // libpq's default.
        let ssl_mode = ssl_mode.unwrap_or(SslMode::Prefer);
        match (ssl_mode, &root_cert) {
            (SslMode::VerifyCa | SslMode::VerifyFull, None) => {
                return Err(refused(|w| {
                    fill(w.watch.pg_needs_rootcert, &[("mode", &ssl_mode.name())])
                }))
            }
            (SslMode::Disable, Some(_)) => {
                return Err(refused(|w| w.watch.pg_disable_with_rootcert.to_string()))
            }
            (_, Some(path)) => {
                load_root_certs(path)?;
            }
            _ => {}
        }
        let parsed: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            let why = with_causes(&e);
            refused(|w| fill(w.watch.pg_not_understood, &[("why", &why)]))
        })?;
        let shown = shown(&url, &parsed, ssl_mode);
        Ok(PostgresSetting {
            url,
            ssl_mode,
            root_cert,
            shown,
        })
    }
}

/// The error and each cause: a `postgres::Error` says only its kind ("invalid connection
/// string", "db error", "error performing TLS handshake"); the reason is in its causes.
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut said = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        said.push_str(": ");
        said.push_str(&e.to_string());
        next = e.source();
    }
    said
}

fn shown(url: &str, parsed: &postgres::Config, ssl_mode: SslMode) -> String {
    let scheme = url.split_once("://").map_or("postgres", |(s, _)| s);
    let hosts: Vec<String> = parsed
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let host = match host {
                postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            // One port for all hosts, or one each.
            match parsed.get_ports().get(i).or(parsed.get_ports().first()) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect();
    format!(
        "{scheme}://{}/{}?sslmode={}",
        hosts.join(","),
        parsed.get_dbname().unwrap_or_default(),
        ssl_mode.name()
    )
}

impl fmt::Display for PostgresSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Never the URL itself: it may hold the password.
impl fmt::Debug for PostgresSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresSetting")
            .field("shown", &self.shown)
            .field("root_cert", &self.root_cert)
            .finish()
    }
}

/// The certificates of `path` (PEM, at least one): read when the configuration is checked
/// and again at every connection, so a renewed CA file is taken without a restart.
pub fn load_root_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    // On one line whatever the path holds (it comes from a file someone may have edited).
    let shown = crate::model::one_line::escaped(&path.to_string_lossy()).into_owned();
    // Not a FIFO or a device, which would block or never end.
    let about = |template: fn(&'static WatchText) -> &'static str| {
        refused(|w| fill(template(w.watch), &[("file", &shown)]))
    };
    let unreadable = |e: std::io::Error| {
        refused(|w| {
            fill(
                w.watch.pg_rootcert_unreadable,
                &[("file", &shown), ("why", &cause_in(&e, w.lang))],
            )
        })
    };
    match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => return Err(about(|t| t.pg_rootcert_not_file)),
        _ => {}
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut pem = Vec::new();
    file.take(ROOT_CERT_AT_MOST + 1)
        .read_to_end(&mut pem)
        .map_err(unreadable)?;
    if pem.len() as u64 > ROOT_CERT_AT_MOST {
        return Err(refused(|w| {
            fill(
                w.watch.pg_rootcert_too_large,
                &[("file", &shown), ("mib", &(ROOT_CERT_AT_MOST >> 20))],
            )
        }));
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            refused(|w| {
                fill(
                    w.watch.pg_rootcert_not_pem,
                    &[("file", &shown), ("why", &e)],
                )
            })
        })?;
    if certs.is_empty() {
        return Err(about(|t| t.pg_rootcert_empty_file));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PostgresSetting> {
        PostgresSetting::parse(text, Path::new("/etc/kkt"))
    }

    fn error(text: &str) -> String {
        format!("{:#}", parse(text).expect_err(text))
    }

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_and_the_rest_kept() {
        let setting =
            parse("postgres://kkt:secret@db.example:6432/fleet?sslmode=require&connect_timeout=5")
                .unwrap();
        assert_eq!(setting.ssl_mode, SslMode::Require);
        assert_eq!(
            setting.url,
            "postgres://kkt:secret@db.example:6432/fleet?connect_timeout=5"
        );
        assert_eq!(setting.root_cert, None);
        let setting = parse("postgresql://kkt@db/fleet").unwrap();
        assert_eq!(setting.ssl_mode, SslMode::Prefer, "libpq's default");
        assert_eq!(setting.url, "postgresql://kkt@db/fleet");
        assert_eq!(
            parse("postgres://kkt@db/fleet?sslmode=disable")
                .unwrap()
                .ssl_mode,
            SslMode::Disable
        );
    }

    #[test]
    fn a_relative_sslrootcert_is_taken_from_the_configuration_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), TEST_CA).unwrap();
        let setting = PostgresSetting::parse(
            "postgres://kkt@db/fleet?sslrootcert=ca%2Epem&sslmode=verify-full",
            dir.path(),
        )
        .unwrap();
        assert_eq!(setting.root_cert, Some(dir.path().join("ca.pem")));
        assert_eq!(setting.ssl_mode, SslMode::VerifyFull);
        assert_eq!(setting.url, "postgres://kkt@db/fleet");
    }

    #[test]
    fn bad_values_are_named_with_the_accepted_forms() {
        let said = error("postgres://kkt@db/fleet?sslmode=verify_full");
        assert!(said.contains("sslmode=\"verify_full\""), "{said}");
        assert!(
            said.contains("disable, prefer, require, verify-ca or verify-full"),
            "{said}"
        );
        let said = error("postgres://kkt@db/fleet?sslmode=verify-full");
        assert!(said.contains("needs sslrootcert="), "{said}");
        let said = error("postgres://kkt@db/fleet?sslmode=disable&sslrootcert=/ca.pem");
        assert!(said.contains("sslmode=disable uses no TLS"), "{said}");
        let said = error("postgres://kkt@db/fleet?sslmode=require&sslmode=disable");
        assert!(said.contains("sslmode is given twice"), "{said}");
        let said = error("postgres://kkt@db/fleet?sslmode=require&sslrootcert=/nowhere/ca.pem");
        assert!(
            said.contains("sslrootcert /nowhere/ca.pem cannot be read"),
            "{said}"
        );
        let said = error("postgres://kkt@db/fleet?sslmode=require&sslrootcert=/dev/zero");
        assert!(said.contains("is not a regular file"), "{said}");
        let said = error("postgres://kkt@db/fleet?sslkey=/k.pem");
        assert!(said.contains("sslkey is not supported"), "{said}");
        let said = error("postgres://kkt@db/fleet?sslmdoe=require");
        assert!(said.contains("unknown option `sslmdoe`"), "{said}");
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), "not a certificate\n").unwrap();
        let said = format!(
            "{:#}",
            PostgresSetting::parse(
                "postgres://kkt@db/fleet?sslmode=verify-ca&sslrootcert=ca.pem",
                dir.path()
            )
            .unwrap_err()
        );
        assert!(said.contains("holds no certificate"), "{said}");
    }

    #[test]
    fn what_is_shown_never_holds_the_password() {
        for url in [
            "postgres://kkt:s3cret@db.example:6432/fleet?sslmode=require",
            "postgres://kkt@db.example:6432/fleet?password=s3cret&sslmode=require",
        ] {
            let setting = parse(url).unwrap();
            assert_eq!(
                setting.to_string(),
                "postgres://db.example:6432/fleet?sslmode=require"
            );
            assert!(!format!("{setting:?}").contains("s3cret"));
        }
    }

    /// A self-signed CA certificate (openssl req -x509, P-256), for parsing only.
    const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBgjCCASegAwIBAgIUVwr//rPIy6oGlzvxa+4Cx3f58O4wCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLa2t0IHRlc3QgQ0EwHhcNMjYxMTMwMDYwMjQyWhcNMzYxMTI3
MDYwMjQyWjAWMRQwEgYDVQQDDAtra3QgdGVzdCBDQTBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABDabADhVtcvPEEyrGQgiRpotKpmSWW7xofxaqJS/2J1KIlSEf2j8
ukHmuy/HQqWnxz9LU/bmR3E+GTfDB6PxCmCjUzBRMB0GA1UdDgQWBBQzURLVnvnD
buzv4mTAduBbgNgmzDAfBgNVHSMEGDAWgBQzURLVnvnDbuzv4mTAduBbgNgmzDAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQD47y29VCAjQ72FVrhJ
nhU2qzvmNilbck0WeHiFqnGfrwIhAMYrn8prq4q64PH6qWLA8HsgKMfgbUJZ4nGr
tWZZ+ae8
-----END CERTIFICATE-----
";

    #[test]
    fn a_root_cert_path_with_control_characters_is_shown_on_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca\n[OK] check passed\u{1b}[2J.pem");
        let error = load_root_certs(&path).unwrap_err().to_string();
        assert!(
            !error.contains('\n') && !error.contains('\u{1b}'),
            "{error}"
        );
        assert!(
            error.contains("ca\\n[OK] check passed\\u{1b}[2J.pem"),
            "{error}"
        );
    }
}
