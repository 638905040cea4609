//! Throwaway TLS material for the simulator's HTTPS mode: a private CA, a
//! server certificate it signs for the given names, and a client certificate
//! it signs (for mutual TLS). Also the [`TlsServerConfig`] that
//! [`Simulator::start_tls`](super::Simulator::start_tls) serves with.
//!
//! Nothing here is meant for production keys: everything is generated in
//! memory, with ECDSA P-256 and the `ring` provider that the harness's client also uses,
//! so one crypto backend serves both ends of the tests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why test certificates or TLS server settings could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// No name to issue the server certificate for.
    #[error("no server name given: pass at least one DNS name or IP address, e.g. `localhost`")]
    NoNames,
    /// rcgen refused a name or could not sign.
    #[error("cannot generate the test certificates: {0}")]
    Generate(String),
    /// A PEM text did not hold what it should.
    #[error("{what} is not usable: {message} (expected PEM)")]
    Pem {
        /// What the text is for.
        what: &'static str,
        /// Why.
        message: String,
    },
    /// rustls refused the certificate, the key or the client CA.
    #[error("cannot build the TLS server settings: {0}")]
    Config(String),
    /// A file could not be written.
    #[error("cannot write `{path}`: {source} (check that the folder is writable)")]
    Write {
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Whether the server asks for a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// No client certificate is asked for.
    #[default]
    Off,
    /// A client certificate signed by the CA is required; the handshake
    /// fails without one.
    Required,
}

/// A private CA with one server and one client certificate it signed, all
/// as PEM text.
#[derive(Clone)]
pub struct TestPki {
    /// The CA certificate: what a client passes as `--cacert` / `tls.cacert`.
    pub ca_pem: String,
    /// The server certificate, valid for [`TestPki::names`].
    pub server_cert_pem: String,
    /// The server's private key (PKCS#8).
    pub server_key_pem: String,
    /// A client certificate for mutual TLS (`--cert` / `tls.client_cert`).
    pub client_cert_pem: String,
    /// The client's private key (PKCS#8; `--key` / `tls.client_key`).
    pub client_key_pem: String,
    /// The DNS names and IP addresses the server certificate is valid for.
    pub names: Vec<String>,
}

impl std::fmt::Debug for TestPki {
    // Keys stay out of debug output, even throwaway ones.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// Where [`TestPki::write_to`] put each file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiFiles {
    /// `ca.pem`.
    pub ca: PathBuf,
    /// `server.pem`.
    pub server_cert: PathBuf,
    /// `server-key.pem`.
    pub server_key: PathBuf,
    /// `client.pem`.
    pub client_cert: PathBuf,
    /// `client-key.pem`.
    pub client_key: PathBuf,
}

/// Generate a private CA, a server certificate for `names` (DNS names or IP
/// addresses, e.g. `["localhost", "127.0.0.1"]`) and a client certificate,
/// both signed by the CA.
pub fn generate(names: &[&str]) -> Result<TestPki, TlsSetupError> {
    if names.is_empty() {
        return Err(TlsSetupError::NoNames);
    }
    let gen = |e: rcgen::Error| TlsSetupError::Generate(e.to_string());

    let ca_key = KeyPair::generate().map_err(gen)?;
    // A name of its own per CA (from its key), so two test CAs are never
    // mistaken for each other by name.
    let tag: String = ca_key
        .public_key_raw()
        .iter()
        .rev()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(gen)?;
    ca.distinguished_name
        .push(DnType::CommonName, format!("cms-contract test CA {tag}"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).map_err(gen)?;
    let issuer = Issuer::new(ca, ca_key);

    let owned: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut server = CertificateParams::new(owned.clone()).map_err(gen)?;
    server.distinguished_name.push(DnType::CommonName, names[0]);
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.use_authority_key_identifier_extension = true;
    let server_key = KeyPair::generate().map_err(gen)?;
    let server_cert = server.signed_by(&server_key, &issuer).map_err(gen)?;

    let mut client = CertificateParams::new(Vec::<String>::new()).map_err(gen)?;
    client
        .distinguished_name
        .push(DnType::CommonName, "cms-contract client");
    client.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    client.use_authority_key_identifier_extension = true;
    let client_key = KeyPair::generate().map_err(gen)?;
    let client_cert = client.signed_by(&client_key, &issuer).map_err(gen)?;

    Ok(TestPki {
        ca_pem: ca_cert.pem(),
        server_cert_pem: server_cert.pem(),
        server_key_pem: server_key.serialize_pem(),
        client_cert_pem: client_cert.pem(),
        client_key_pem: client_key.serialize_pem(),
        names: owned,
    })
}

impl TestPki {
    /// Write `ca.pem`, `server.pem`, `server-key.pem`, `client.pem` and
    /// `client-key.pem` into `dir` (created if missing). Key files are
    /// readable by the owner only on Unix.
    pub fn write_to(&self, dir: &Path) -> Result<PkiFiles, TlsSetupError> {
        std::fs::create_dir_all(dir).map_err(|source| TlsSetupError::Write {
            path: dir.display().to_string(),
            source,
        })?;
        let files = PkiFiles {
            ca: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server-key.pem"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client-key.pem"),
        };
        write(&files.ca, &self.ca_pem, false)?;
        write(&files.server_cert, &self.server_cert_pem, false)?;
        write(&files.server_key, &self.server_key_pem, true)?;
        write(&files.client_cert, &self.client_cert_pem, false)?;
        write(&files.client_key, &self.client_key_pem, true)?;
        Ok(files)
    }

    /// Server settings with this server certificate; with
    /// [`ClientAuth::Required`], clients must present a certificate signed
    /// by this CA.
    pub fn server_config(&self, client_auth: ClientAuth) -> Result<TlsServerConfig, TlsSetupError> {
        let client_ca = match client_auth {
            ClientAuth::Off => None,
            ClientAuth::Required => Some(self.ca_pem.as_str()),
        };
        TlsServerConfig::from_pem(&self.server_cert_pem, &self.server_key_pem, client_ca)
    }
}

fn write(path: &Path, text: &str, secret: bool) -> Result<(), TlsSetupError> {
    use std::io::Write;
    let err = |source| TlsSetupError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        // The mode applies only when the file is created, so replace an old one.
        let _ = std::fs::remove_file(path);
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(path).map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)
}

/// TLS settings for [`Simulator::start_tls`](super::Simulator::start_tls):
/// a certificate chain, its key and, optionally, the CA that client
/// certificates must chain to. Cheap to clone.
#[derive(Clone)]
pub struct TlsServerConfig {
    config: Arc<rustls::ServerConfig>,
    client_auth: ClientAuth,
}

impl std::fmt::Debug for TlsServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServerConfig")
            .field("client_auth", &self.client_auth)
            .finish_non_exhaustive()
    }
}

impl TlsServerConfig {
    /// Settings from PEM text: `cert_chain_pem` (the server certificate,
    /// then any intermediates), `key_pem` (PKCS#8, PKCS#1 or SEC1), and,
    /// when given, `client_ca_pem`: clients must then present a certificate
    /// signed by one of its CAs. Speaks HTTP/1.1 only (ALPN `http/1.1`).
    pub fn from_pem(
        cert_chain_pem: &str,
        key_pem: &str,
        client_ca_pem: Option<&str>,
    ) -> Result<Self, TlsSetupError> {
        let chain = certs(cert_chain_pem, "server certificate")?;
        let key =
            PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| TlsSetupError::Pem {
                what: "server key",
                message: e.to_string(),
            })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = |e: rustls::Error| TlsSetupError::Config(e.to_string());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(config)?;
        let (builder, client_auth) = match client_ca_pem {
            None => (builder.with_no_client_auth(), ClientAuth::Off),
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in certs(pem, "client CA certificate")? {
                    roots.add(c).map_err(config)?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| TlsSetupError::Config(e.to_string()))?;
                (
                    builder.with_client_cert_verifier(verifier),
                    ClientAuth::Required,
                )
            }
        };
        let mut server = builder.with_single_cert(chain, key).map_err(config)?;
        // hyper serves HTTP/1.1 only; say so, so clients never try h2.
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(server),
            client_auth,
        })
    }

    /// Whether clients must present a certificate.
    pub fn client_auth(&self) -> ClientAuth {
        self.client_auth
    }

    pub(super) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.clone())
    }
}

fn certs(pem: &str, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let list = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsSetupError::Pem {
            what,
            message: e.to_string(),
        })?;
    if list.is_empty() {
        return Err(TlsSetupError::Pem {
            what,
            message: "no certificate found".into(),
        });
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_usable_chain_for_names_and_ips() {
        let pki = generate(&["localhost", "127.0.0.1"]).expect("generate");
        assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.server_key_pem.contains("PRIVATE KEY"));
        assert_eq!(pki.names, ["localhost", "127.0.0.1"]);
        let off = pki.server_config(ClientAuth::Off).expect("server config");
        assert_eq!(off.client_auth(), ClientAuth::Off);
        let mtls = pki
            .server_config(ClientAuth::Required)
            .expect("mtls config");
        assert_eq!(mtls.client_auth(), ClientAuth::Required);
        assert!(!format!("{pki:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn errors_are_lowercase_and_say_what_to_do() {
        let e = generate(&[]).expect_err("no names");
        assert_eq!(
            e.to_string(),
            "no server name given: pass at least one DNS name or IP address, e.g. `localhost`"
        );
        let e = TlsServerConfig::from_pem("not pem", "not pem", None).expect_err("bad pem");
        assert_eq!(
            e.to_string(),
            "server certificate is not usable: no certificate found (expected PEM)"
        );
        let pki = generate(&["localhost"]).expect("generate");
        let e = TlsServerConfig::from_pem(&pki.server_cert_pem, "junk", None).expect_err("key");
        assert!(
            e.to_string().starts_with("server key is not usable: "),
            "{e}"
        );
    }

    #[test]
    fn writes_the_files_the_cli_needs() {
        let dir = std::env::temp_dir().join(format!("cms-contract-pki-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let pki = generate(&["localhost"]).expect("generate");
        let files = pki.write_to(&dir).expect("write");
        assert_eq!(files.ca, dir.join("ca.pem"));
        assert_eq!(
            std::fs::read_to_string(&files.server_key).expect("read"),
            pki.server_key_pem
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files.client_key)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "key files are private");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
