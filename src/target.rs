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
    /// How old the `stale_timestamp` negative case's signature is: beyond any
    /// clock-skew window the target allows (open question 3).
    pub stale_secs: u64,
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
            stale_secs: 2 * 60 * 60,
        }
    }

    /// `host:port` of the base URL (what a client sends as Host).
    ///
    /// Normalised as the HTTP client sends it (and so as it must be signed):
    /// host in lower case, no user info, the port only when it is not the
    /// scheme's default.
    pub fn authority(&self) -> String {
        let Ok(url) = reqwest::Url::parse(&self.base_url) else {
            let rest = self
                .base_url
                .split_once("://")
                .map_or(self.base_url.as_str(), |(_, r)| r);
            return rest.split('/').next().unwrap_or(rest).to_string();
        };
        match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => String::new(),
        }
    }

    /// The path part of the base URL without a trailing `/` (e.g. `/cms` for
    /// `https://gw/cms`), which prefixes every case path and is signed with it.
    pub fn path_prefix(&self) -> String {
        reqwest::Url::parse(&self.base_url)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default()
    }

    /// The smallest `--rate` / profile `rate` accepted: one request per 100 s.
    pub const MIN_RATE: f64 = 0.01;

    /// Why `url` cannot be a base URL, if it cannot: not http(s), or it holds
    /// user info (credentials belong in `CMS_AK` / `CMS_SK`), a query or a fragment.
    pub fn check_base_url(url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            format!("`{url}` is not a URL ({e}); write it like https://cms-host:28080")
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "`{url}` is not an http(s) URL; write it like https://cms-host:28080"
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("the base URL holds user info; remove it (credentials come only from CMS_AK and CMS_SK)".into());
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(format!("`{url}` has a query or fragment; give only scheme, host, port and an optional path prefix"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn authority_is_what_the_client_sends() {
        assert_eq!(
            Target::new("http://LOCALHOST:28999").authority(),
            "localhost:28999"
        );
        assert_eq!(Target::new("https://cms:443/").authority(), "cms");
        assert_eq!(
            Target::new("https://cms:28080/gw/").authority(),
            "cms:28080"
        );
        assert_eq!(Target::new("http://[::1]:8080").authority(), "[::1]:8080");
        assert_eq!(Target::new("https://cms:28080/gw/").path_prefix(), "/gw");
        assert_eq!(Target::new("https://cms:28080").path_prefix(), "");
    }

    #[test]
    fn base_urls_with_secrets_or_queries_are_refused() {
        assert!(Target::check_base_url("https://cms-host:28080").is_ok());
        assert!(Target::check_base_url("https://user:pw@cms")
            .unwrap_err()
            .contains("user info"));
        assert!(Target::check_base_url("cms-host:28080").is_err());
        assert!(Target::check_base_url("ftp://cms").is_err());
        assert!(Target::check_base_url("https://cms/?a=1").is_err());
    }
}
