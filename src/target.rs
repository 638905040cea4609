//! The target under test: where it is, how to reach it safely, how to sign,
//! and the open-question choices. Built by the CLI or harness from flags,
//! a profile and the environment; the runner only reads it.

use crate::auth::Credentials;
use crate::contract::{BodyShape, Status9};
use std::path::PathBuf;
use std::time::Duration;

/// Everything the runner needs to know about one CMS.
#[derive(Debug, Clone)]
pub struct Target {
    /// `https://cms-host:28080` (no trailing slash).
    pub base_url: String,
    /// AK/SK from `CMS_AK` / `CMS_SK`; `None` sends no signature.
    pub credentials: Option<Credentials>,
    /// Lower-case names of the headers to sign (open question 2; vendor sample: `host`).
    pub signed_headers: Vec<String>,
    /// The Host value to sign (and send), when it differs from the URL's
    /// authority, e.g. behind NSLB (open question 2).
    pub host: Option<String>,
    /// Open question 1.
    pub body_shape: BodyShape,
    /// Open question 5.
    pub status9: Status9,
    /// Per-request limit (connect + send + read).
    pub timeout: Duration,
    /// Connect limit.
    pub connect_timeout: Duration,
    /// Largest reply body read; bigger replies fail the case.
    pub max_response_bytes: usize,
    /// TLS settings.
    pub tls: Tls,
    /// At most this many requests per second (`--rate`), none by default.
    pub rate_per_sec: Option<f64>,
    /// Retries for connect errors only, with back-off.
    pub connect_retries: u32,
}

/// TLS settings. Verification is on unless `insecure` is set explicitly.
#[derive(Debug, Clone, Default)]
pub struct Tls {
    /// Extra trusted CA certificate (PEM), for private-CA deployments.
    pub cacert: Option<PathBuf>,
    /// Client certificate and key (PEM, one file holding both or two files).
    pub client_cert: Option<PathBuf>,
    /// Client key when it is in its own file.
    pub client_key: Option<PathBuf>,
    /// Skip certificate verification (prints a warning).
    pub insecure: bool,
}

impl Target {
    /// A target at `base_url` with safe defaults: TLS verification on,
    /// 10 s per request, 5 s to connect, 1 MiB reply cap, `host` signed.
    pub fn new(base_url: impl Into<String>) -> Self {
        let mut base_url = base_url.into();
        while base_url.ends_with('/') {
            base_url.pop();
        }
        Self {
            base_url,
            credentials: None,
            signed_headers: vec!["host".into()],
            host: None,
            body_shape: BodyShape::default(),
            status9: Status9::default(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_response_bytes: 1 << 20,
            tls: Tls::default(),
            rate_per_sec: None,
            connect_retries: 0,
        }
    }

    /// `host:port` of the base URL (what a client sends as Host).
    pub fn authority(&self) -> &str {
        let rest = self
            .base_url
            .split_once("://")
            .map_or(self.base_url.as_str(), |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }
}
