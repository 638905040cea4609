//! The TLS side of the client: which roots are trusted (the webpki roots,
//! plus `--cacert`), the client certificate, and `--insecure`.
//!
//! rustls with the `ring` provider, HTTP/1.1 as the only ALPN protocol.

use super::ClientError;
use crate::target::Target;
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{self, WebPkiSupportedAlgorithms};
use tokio_rustls::rustls::pki_types::pem::{self, PemObject, SectionKind};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// The rustls configuration for `target`: verification on (webpki roots and
/// `--cacert`) unless `--insecure`, the client certificate if one is given.
pub(super) fn config(target: &Target) -> Result<ClientConfig, ClientError> {
    let provider = Arc::new(crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = &target.tls.cacert {
        let certs = ca_certificates(ca)?;
        for c in certs {
            roots.add(c).map_err(|e| ClientError::Pem {
                what: "CA certificate",
                path: ca.display().to_string(),
                message: format!("not a usable CA certificate: {e}"),
            })?;
        }
    }
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| ClientError::Build(e.to_string()))?;
    let builder = if target.tls.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(
                provider.signature_verification_algorithms,
            )))
    } else {
        builder.with_root_certificates(roots)
    };
    let mut config = match &target.tls.client_cert {
        None => builder.with_no_client_auth(),
        Some(cert) => {
            let (certs, key) = identity(cert, target.tls.client_key.as_deref())?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| ClientError::Pem {
                    what: "client certificate",
                    path: cert.display().to_string(),
                    message: e.to_string(),
                })?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The name the server's certificate is checked against (and sent as SNI
/// when it is a DNS name): the URL's host, an IP address allowed.
pub(super) fn server_name(host: &url::Host<&str>) -> Result<ServerName<'static>, String> {
    match host {
        url::Host::Domain(d) => ServerName::try_from(d.to_string())
            .map_err(|e| format!("`{d}` cannot be a TLS server name ({e})")),
        url::Host::Ipv4(ip) => Ok(ServerName::IpAddress(std::net::IpAddr::V4(*ip).into())),
        url::Host::Ipv6(ip) => Ok(ServerName::IpAddress(std::net::IpAddr::V6(*ip).into())),
    }
}

fn read(what: &'static str, p: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(p).map_err(|source| ClientError::Read {
        what,
        path: p.display().to_string(),
        source,
    })
}

/// Every certificate in the `--cacert` bundle; at least one.
fn ca_certificates(ca: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let pem = read("CA certificate", ca)?;
    let bad = |message: String| ClientError::Pem {
        what: "CA certificate",
        path: ca.display().to_string(),
        message,
    };
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("invalid certificate encoding ({e})")))?;
    if certs.is_empty() {
        return Err(bad("no certificate found".into()));
    }
    Ok(certs)
}

/// The client certificate chain and its key, from one file holding both or
/// from `key` when given.
fn identity(
    cert: &Path,
    key: Option<&Path>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), ClientError> {
    let mut pem = read("client certificate", cert)?;
    if let Some(key) = key {
        pem.push(b'\n');
        pem.extend(read("client key", key)?);
    }
    let bad = |message: &str| ClientError::Pem {
        what: "client certificate",
        path: cert.display().to_string(),
        message: message.to_string(),
    };
    let (mut certs, mut keys) = (Vec::new(), Vec::new());
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(&pem) {
        let (kind, der) = section.map_err(|e: pem::Error| bad(&format!("invalid PEM ({e})")))?;
        match kind {
            SectionKind::Certificate => certs.push(CertificateDer::from(der)),
            SectionKind::PrivateKey => keys.push(PrivateKeyDer::Pkcs8(der.into())),
            SectionKind::RsaPrivateKey => keys.push(PrivateKeyDer::Pkcs1(der.into())),
            SectionKind::EcPrivateKey => keys.push(PrivateKeyDer::Sec1(der.into())),
            other => {
                return Err(bad(&format!(
                    "holds a {other:?} section, expected certificates and a private key"
                )))
            }
        }
    }
    match (keys.pop(), certs.is_empty()) {
        (Some(key), false) => Ok((certs, key)),
        _ => Err(bad("private key or certificate not found")),
    }
}

/// `--insecure`: any certificate is accepted, but the handshake's
/// signatures are still checked with the provider's algorithms (the server
/// must hold the key of the certificate it shows).
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
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
        crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
