//! The client's TLS configuration: webpki and system roots (or `--cacert` alone),
//! and `--insecure` (no certificate check at all). ALPN is the connector's business.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::InputError;

/// The rustls provider cakemock uses everywhere (ring: no C toolchain surprises).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the client configuration. With `cacert`, only that bundle is trusted (a
/// private CA is usually exactly what a test target uses); without it, the bundled
/// webpki roots plus whatever the system store has.
pub fn client_config(cacert: Option<&Path>, insecure: bool) -> Result<rustls::ClientConfig> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS: no protocol versions available")?;
    let config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider())))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        match cacert {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    InputError::new(format!("--cacert {}: cannot read it: {e}", path.display()))
                })?;
                let mut found = 0;
                for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                    let cert = cert.map_err(|e| {
                        InputError::new(format!(
                            "--cacert {}: not a PEM certificate bundle: {e}",
                            path.display()
                        ))
                    })?;
                    roots.add(cert).map_err(|e| {
                        InputError::new(format!(
                            "--cacert {}: a certificate is not usable: {e}",
                            path.display()
                        ))
                    })?;
                    found += 1;
                }
                if found == 0 {
                    return Err(InputError::new(format!(
                        "--cacert {}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)",
                        path.display()
                    ))
                    .into());
                }
            }
            None => {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                // The system store may be absent on minimal images; webpki roots remain.
                for cert in rustls_native_certs::load_native_certs().certs {
                    let _ = roots.add(cert);
                }
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    // ALPN (h2, http/1.1) is set by the hyper-rustls connector from the enabled versions.
    Ok(config)
}

/// `--insecure`: accepts any certificate but still checks handshake signatures, so the
/// connection is at least to whoever holds the presented key.
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
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

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
