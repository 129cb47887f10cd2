//! The TLS a PostgreSQL connection is made with, by `sslmode` as libpq means it: rustls with
//! the `ring` provider (the listeners' own), through `tokio-postgres-rustls`.
//!
//! What is checked of the server's certificate: nothing for `prefer` and `require` without
//! `sslrootcert` (encrypted, not authenticated: libpq's meaning, for servers with a
//! self-made certificate); the chain up to a CA of `sslrootcert` for `verify-ca`, and for
//! `prefer`/`require` when `sslrootcert` is given (libpq does the same); the chain and the
//! host name for `verify-full`. A failed check is told in plain words.

use std::sync::Arc;

use anyhow::Result;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::postgres_url::{load_root_certs, with_causes, PostgresSetting, SslMode};

/// The connector for `setting` (the CA file read anew, so a renewed one is taken).
pub fn connector(setting: &PostgresSetting) -> Result<MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow::anyhow!("inventory: cannot set up TLS: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = match &setting.root_cert {
        None => Arc::new(Unchecked(provider)),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for cert in load_root_certs(path)? {
                roots.add(cert).map_err(|e| {
                    anyhow::anyhow!(
                        "inventory: sslrootcert {} holds a certificate that cannot be a CA: {e}",
                        path.display()
                    )
                })?;
            }
            let chain = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| anyhow::anyhow!("inventory: sslrootcert {}: {e}", path.display()))?;
            match setting.ssl_mode {
                SslMode::VerifyFull => chain,
                _ => Arc::new(ChainOnly(chain)),
            }
        }
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// What a failed connection says, in plain words when rustls refused the certificate.
pub fn explain(error: &postgres::Error, setting: &PostgresSetting) -> String {
    let said = with_causes(error);
    let Some(refused) = rustls_error(error) else {
        return said;
    };
    let ca = setting
        .root_cert
        .as_ref()
        .map_or_else(String::new, |p| p.display().to_string());
    let plainly = match refused {
        // BadSignature: a CA of the same name, not the one that signed it.
        rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature,
        ) => format!(
            "the server's certificate is not signed by a CA of sslrootcert {ca} \
             (sslmode={})",
            setting.ssl_mode.name()
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "the server's certificate is not made out to the host name in the URL \
              (sslmode=verify-full checks it; connect by a name the certificate holds)"
            .to_string(),
        rustls::Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "the server's certificate has expired".to_string(),
        _ => return said,
    };
    format!("{plainly}: {said}")
}

fn rustls_error(error: &postgres::Error) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        // io::Error's `source` skips the error it wraps: look inside.
        if let Some(found) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// `verify-ca`: the chain is checked, the host name is not. webpki checks the name last,
/// after the chain, so a name mismatch means the chain was good.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` and `require` without `sslrootcert`: any certificate is taken (libpq's
/// meaning); the handshake's signatures are still checked, so the session key is the one
/// the certificate's holder agreed.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
