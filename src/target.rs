//! The target under test: where it is, how to reach it safely and how to
//! sign. Built by the session from the settings; the runner only reads it.

use crate::auth::Credentials;
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
    /// 10 s per request, 5 s to connect, 16 MiB reply cap, `host` signed.
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
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_response_bytes: 16 << 20,
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
        let Ok(url) = url::Url::parse(&self.base_url) else {
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
        url::Url::parse(&self.base_url)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default()
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
}
