//! Settings: one type for everything a run can be told, read from three
//! sources that are merged in one order — a target profile, then the
//! environment (`CMS_*`), then command-line flags — each source a [`Layer`]
//! of optional values. Values validate themselves ([`values`]), so every
//! source accepts exactly the same things.

pub mod profile;
pub mod values;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use values::{
    BaseUrl, Bytes, Jobs, MaxCases, Rate, Retries, Seconds, SignedHeaders, StaleSecs, ValueError,
};

/// A snapshot of the environment variables a run reads (`CMS_*` and `CI`).
pub type Env = BTreeMap<String, String>;

/// The process environment, `CMS_*` variables and `CI` only.
pub fn process_env() -> Env {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("CMS_") || k == "CI")
        .collect()
}

/// One source's settings; `None` / empty means "this source says nothing".
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// `--profile` / `CMS_PROFILE` (not in a profile itself).
    pub profile: Option<PathBuf>,
    /// `--target` / `CMS_BASE_URL` / `base_url`.
    pub target: Option<BaseUrl>,
    /// The Host value to sign and send (behind NSLB, open question 2).
    pub host: Option<String>,
    /// Headers to sign (open question 2).
    pub signed_headers: Option<SignedHeaders>,
    /// The release the target is expected to keep.
    pub release: Option<String>,
    /// Contract options, `name` or `contract.name` = value, in order.
    pub options: Vec<(String, String)>,
    /// Per-request limit.
    pub timeout: Option<Seconds>,
    /// Connect limit.
    pub connect_timeout: Option<Seconds>,
    /// Whole-run limit.
    pub run_timeout: Option<Seconds>,
    /// Largest reply read.
    pub max_response_bytes: Option<Bytes>,
    /// Requests per second at most.
    pub rate: Option<Rate>,
    /// Cases in flight.
    pub jobs: Option<Jobs>,
    /// Connect retries.
    pub retries: Option<Retries>,
    /// Age of the stale-timestamp negative case (open question 3).
    pub stale_secs: Option<StaleSecs>,
    /// The most cases a run expands to.
    pub max_cases: Option<MaxCases>,
    /// Extra trusted CA (PEM).
    pub cacert: Option<PathBuf>,
    /// Client certificate (PEM).
    pub client_cert: Option<PathBuf>,
    /// Client key (PEM).
    pub client_key: Option<PathBuf>,
    /// Skip certificate verification.
    pub insecure: Option<bool>,
    /// Variables for `${name}`, in order.
    pub vars: Vec<(String, String)>,
    /// Only cases with one of these tags.
    pub tags: Vec<String>,
    /// Never cases with one of these tags.
    pub exclude_tags: Vec<String>,
}

impl Layer {
    /// `self` with `over` on top: `over`'s values win, lists are appended
    /// (variables and options: a later value of the same name wins).
    pub fn merged(self, over: Layer) -> Layer {
        let mut vars = self.vars;
        vars.extend(over.vars);
        let mut options = self.options;
        options.extend(over.options);
        let mut tags = self.tags;
        tags.extend(over.tags);
        let mut exclude_tags = self.exclude_tags;
        exclude_tags.extend(over.exclude_tags);
        Layer {
            profile: over.profile.or(self.profile),
            target: over.target.or(self.target),
            host: over.host.or(self.host),
            signed_headers: over.signed_headers.or(self.signed_headers),
            release: over.release.or(self.release),
            options,
            timeout: over.timeout.or(self.timeout),
            connect_timeout: over.connect_timeout.or(self.connect_timeout),
            run_timeout: over.run_timeout.or(self.run_timeout),
            max_response_bytes: over.max_response_bytes.or(self.max_response_bytes),
            rate: over.rate.or(self.rate),
            jobs: over.jobs.or(self.jobs),
            retries: over.retries.or(self.retries),
            stale_secs: over.stale_secs.or(self.stale_secs),
            max_cases: over.max_cases.or(self.max_cases),
            cacert: over.cacert.or(self.cacert),
            client_cert: over.client_cert.or(self.client_cert),
            client_key: over.client_key.or(self.client_key),
            insecure: over.insecure.or(self.insecure),
            vars,
            tags,
            exclude_tags,
        }
    }

    /// The settings the environment gives. Each bad value is an error
    /// naming the variable; an unknown `CMS_*` name is a warning.
    pub fn from_env(env: &Env) -> (Result<Layer, Vec<String>>, Vec<String>) {
        let mut layer = Layer::default();
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        for (key, value) in env {
            let mut set = |r: Result<(), ValueError>| {
                if let Err(e) = r {
                    errors.push(format!("environment variable {key}: {e}"));
                }
            };
            fn parse<T: std::str::FromStr<Err = ValueError>>(
                slot: &mut Option<T>,
                v: &str,
            ) -> Result<(), ValueError> {
                *slot = Some(v.parse()?);
                Ok(())
            }
            let list = |v: &str| -> Vec<String> {
                v.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            // An empty variable says nothing (so `CMS_BASE_URL= cmd` unsets it).
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "CMS_PROFILE" => layer.profile = Some(PathBuf::from(value)),
                "CMS_BASE_URL" => set(parse(&mut layer.target, value)),
                "CMS_HOST" => layer.host = Some(value.clone()),
                "CMS_SIGNED_HEADERS" => set(parse(&mut layer.signed_headers, value)),
                "CMS_RELEASE" => layer.release = Some(value.clone()),
                "CMS_TIMEOUT" => set(parse(&mut layer.timeout, value)),
                "CMS_CONNECT_TIMEOUT" => set(parse(&mut layer.connect_timeout, value)),
                "CMS_RUN_TIMEOUT" => set(parse(&mut layer.run_timeout, value)),
                "CMS_MAX_RESPONSE_BYTES" => set(parse(&mut layer.max_response_bytes, value)),
                "CMS_RATE" => set(parse(&mut layer.rate, value)),
                "CMS_JOBS" => set(parse(&mut layer.jobs, value)),
                "CMS_RETRIES" => set(parse(&mut layer.retries, value)),
                "CMS_STALE_SECS" => set(parse(&mut layer.stale_secs, value)),
                "CMS_MAX_CASES" => set(parse(&mut layer.max_cases, value)),
                "CMS_CACERT" => layer.cacert = Some(PathBuf::from(value)),
                "CMS_CERT" => layer.client_cert = Some(PathBuf::from(value)),
                "CMS_KEY" => layer.client_key = Some(PathBuf::from(value)),
                "CMS_INSECURE" => match value.as_str() {
                    "1" | "true" => layer.insecure = Some(true),
                    "0" | "false" => layer.insecure = Some(false),
                    _ => set(Err(ValueError(format!("`{value}` is not 1 or 0")))),
                },
                "CMS_TAG" => layer.tags = list(value),
                "CMS_EXCLUDE_TAG" => layer.exclude_tags = list(value),
                // Read elsewhere: secrets, bless, and the harness's own.
                "CMS_AK" | "CMS_SK" | "CMS_CONTRACT_BLESS" | "CI" => {}
                k if k.starts_with("CMS_VAR_") => {
                    let name = &k["CMS_VAR_".len()..];
                    if !name.is_empty() {
                        layer.vars.push((name.to_owned(), value.clone()));
                    }
                }
                k if k.starts_with("CMS_OPTION_") => {
                    let name = &k["CMS_OPTION_".len()..];
                    if !name.is_empty() {
                        layer.options.push((name.to_owned(), value.clone()));
                    }
                }
                k => {
                    let hint = crate::case::did_you_mean(k, ENV_NAMES.iter().copied())
                        .map(|m| format!(" (did you mean {m}?)"))
                        .unwrap_or_default();
                    warnings.push(format!(
                        "warning: environment variable {k} is not a cms-contract setting; ignored{hint}"
                    ));
                }
            }
        }
        let r = if errors.is_empty() {
            Ok(layer)
        } else {
            Err(errors)
        };
        (r, warnings)
    }
}

/// The environment variables read, for "did you mean".
pub const ENV_NAMES: &[&str] = &[
    "CMS_PROFILE",
    "CMS_BASE_URL",
    "CMS_HOST",
    "CMS_SIGNED_HEADERS",
    "CMS_RELEASE",
    "CMS_TIMEOUT",
    "CMS_CONNECT_TIMEOUT",
    "CMS_RUN_TIMEOUT",
    "CMS_MAX_RESPONSE_BYTES",
    "CMS_RATE",
    "CMS_JOBS",
    "CMS_RETRIES",
    "CMS_STALE_SECS",
    "CMS_MAX_CASES",
    "CMS_CACERT",
    "CMS_CERT",
    "CMS_KEY",
    "CMS_INSECURE",
    "CMS_TAG",
    "CMS_EXCLUDE_TAG",
    "CMS_AK",
    "CMS_SK",
    "CMS_CONTRACT_BLESS",
];

/// Everything a run was told, defaults filled in.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The profile file, if one was read.
    pub profile: Option<PathBuf>,
    /// The target; `None` means the embedded simulator.
    pub target: Option<BaseUrl>,
    /// The Host value to sign and send instead of the URL's.
    pub host: Option<String>,
    /// Headers to sign.
    pub signed_headers: SignedHeaders,
    /// The release expected (per contract; `None`: each contract's default).
    pub release: Option<String>,
    /// Contract options, in order.
    pub options: Vec<(String, String)>,
    /// Per-request limit (default 10 s).
    pub timeout: Seconds,
    /// Connect limit (default 5 s).
    pub connect_timeout: Seconds,
    /// Whole-run limit (default 30 min).
    pub run_timeout: Seconds,
    /// Largest reply read (default 16 MiB: a full 6000-agent batch reply,
    /// two copies of 6000 items, is about 2.6 MB).
    pub max_response_bytes: Bytes,
    /// Requests per second at most (default: no limit).
    pub rate: Option<Rate>,
    /// Cases in flight (default 8).
    pub jobs: Jobs,
    /// Connect retries (default 0).
    pub retries: Retries,
    /// Age of the stale-timestamp negative case (default 7200 s).
    pub stale_secs: StaleSecs,
    /// The most cases a run expands to (default 1,000,000).
    pub max_cases: MaxCases,
    /// Extra trusted CA.
    pub cacert: Option<PathBuf>,
    /// Client certificate.
    pub client_cert: Option<PathBuf>,
    /// Client key.
    pub client_key: Option<PathBuf>,
    /// Skip certificate verification (default: verify).
    pub insecure: bool,
    /// Variables, in order (later wins).
    pub vars: Vec<(String, String)>,
    /// Only cases with one of these tags (empty: all).
    pub tags: Vec<String>,
    /// Never cases with one of these tags.
    pub exclude_tags: Vec<String>,
}

impl Settings {
    /// Default per-request limit.
    pub const TIMEOUT: Seconds = Seconds::from_secs(10);
    /// Default connect limit.
    pub const CONNECT_TIMEOUT: Seconds = Seconds::from_secs(5);
    /// Default whole-run limit.
    pub const RUN_TIMEOUT: Seconds = Seconds::from_secs(30 * 60);

    /// Fill in the defaults of a merged layer.
    pub fn from_layer(l: Layer) -> Settings {
        Settings {
            profile: l.profile,
            target: l.target,
            host: l.host,
            signed_headers: l.signed_headers.unwrap_or_default(),
            release: l.release,
            options: l.options,
            timeout: l.timeout.unwrap_or(Self::TIMEOUT),
            connect_timeout: l.connect_timeout.unwrap_or(Self::CONNECT_TIMEOUT),
            run_timeout: l.run_timeout.unwrap_or(Self::RUN_TIMEOUT),
            max_response_bytes: l.max_response_bytes.unwrap_or(Bytes::new_const(16 << 20)),
            rate: l.rate,
            jobs: l.jobs.unwrap_or(Jobs::new_const(8)),
            retries: l.retries.unwrap_or(Retries::new_const(0)),
            stale_secs: l.stale_secs.unwrap_or(StaleSecs::new_const(7200)),
            max_cases: l.max_cases.unwrap_or(MaxCases::new_const(1_000_000)),
            cacert: l.cacert,
            client_cert: l.client_cert,
            client_key: l.client_key,
            insecure: l.insecure.unwrap_or(false),
            vars: l.vars,
            tags: l.tags,
            exclude_tags: l.exclude_tags,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn later_layers_win_and_lists_append() {
        let profile = Layer {
            jobs: Some("4".parse().unwrap()),
            vars: vec![("a".into(), "1".into())],
            exclude_tags: vec!["reference-data".into()],
            ..Layer::default()
        };
        let (from_env, warnings) = Layer::from_env(&env(&[
            ("CMS_JOBS", "2"),
            ("CMS_VAR_a", "2"),
            ("CMS_EXCLUDE_TAG", "legacy, slow"),
        ]));
        assert!(warnings.is_empty());
        let flags = Layer {
            jobs: Some("16".parse().unwrap()),
            ..Layer::default()
        };
        let s = Settings::from_layer(profile.merged(from_env.unwrap()).merged(flags));
        assert_eq!(s.jobs.get(), 16);
        assert_eq!(s.vars, [("a".into(), "1".into()), ("a".into(), "2".into())]);
        assert_eq!(s.exclude_tags, ["reference-data", "legacy", "slow"]);
        assert_eq!(s.timeout, Settings::TIMEOUT);
        assert!(!s.insecure);
    }

    #[test]
    fn bad_environment_values_are_errors_naming_the_variable() {
        let (r, _) = Layer::from_env(&env(&[("CMS_JOBS", "0"), ("CMS_RATE", "fast")]));
        let errors = r.unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors[0].starts_with("environment variable CMS_JOBS: `0` is not a number of jobs"));
        let (_, warnings) = Layer::from_env(&env(&[("CMS_BASEURL", "http://x")]));
        assert!(
            warnings[0].contains("did you mean CMS_BASE_URL?"),
            "{warnings:?}"
        );
    }
}
