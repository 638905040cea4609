//! Target profiles: a YAML file holding the base URL, TLS settings, signed
//! headers, variables and the open-question choices for one deployment.
//! Secrets never live here: AK/SK come only from `CMS_AK` / `CMS_SK`.
//! Every invalid value is a located error, never ignored.

use crate::case::{did_you_mean, LoadError, Node, NodeValue, Vars};
use crate::contract::{BodyShape, Release, Status9};
use crate::location::Location;
use crate::target::Target;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    base_url: Option<Spanned<String>>,
    host: Option<Spanned<String>>,
    signed_headers: Option<Vec<Spanned<String>>>,
    body_shape: Option<Spanned<String>>,
    status9: Option<Spanned<String>>,
    release: Option<Spanned<String>>,
    timeout_secs: Option<Spanned<f64>>,
    connect_timeout_secs: Option<Spanned<f64>>,
    max_response_bytes: Option<Spanned<u64>>,
    rate: Option<Spanned<f64>>,
    jobs: Option<Spanned<u64>>,
    connect_retries: Option<Spanned<u32>>,
    stale_secs: Option<Spanned<u64>>,
    tls: Option<RawTls>,
    vars: Option<Node>,
    exclude_tags: Option<Vec<String>>,
    /// Present only to give a clear error: secrets come from the environment.
    ak: Option<Spanned<Node>>,
    /// Present only to give a clear error: secrets come from the environment.
    sk: Option<Spanned<Node>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cacert: Option<Spanned<String>>,
    client_cert: Option<Spanned<String>>,
    client_key: Option<Spanned<String>>,
    insecure: Option<bool>,
}

/// A parsed, validated profile.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// The file it came from.
    pub path: PathBuf,
    /// `base_url`.
    pub base_url: Option<String>,
    /// `host`: the Host value to sign and send.
    pub host: Option<String>,
    /// `signed_headers`, lower-cased and sorted.
    pub signed_headers: Option<Vec<String>>,
    /// `body_shape` (open question 1).
    pub body_shape: Option<BodyShape>,
    /// `status9` (open question 5).
    pub status9: Option<Status9>,
    /// `release`: the release whose contract the target is expected to keep.
    pub release: Option<Release>,
    /// `timeout_secs`.
    pub timeout: Option<Duration>,
    /// `connect_timeout_secs`.
    pub connect_timeout: Option<Duration>,
    /// `max_response_bytes`.
    pub max_response_bytes: Option<usize>,
    /// `rate` (requests per second).
    pub rate: Option<f64>,
    /// `jobs`.
    pub jobs: Option<usize>,
    /// `connect_retries`.
    pub connect_retries: Option<u32>,
    /// `stale_secs`: age of the stale-timestamp negative case (open question 3).
    pub stale_secs: Option<u64>,
    /// `tls.cacert`, relative to the profile's folder.
    pub cacert: Option<PathBuf>,
    /// `tls.client_cert`.
    pub client_cert: Option<PathBuf>,
    /// `tls.client_key`.
    pub client_key: Option<PathBuf>,
    /// `tls.insecure`.
    pub insecure: Option<bool>,
    /// `vars`, as name/value text.
    pub vars: Vec<(String, String)>,
    /// `exclude_tags`: cases with these tags are not run against this target.
    pub exclude_tags: Vec<String>,
}

/// Header names that may be signed (open question 2).
pub const SIGNABLE: [&str; 3] = ["host", "content-type", "content-length"];

impl Profile {
    /// Read and validate the profile at `path`.
    pub fn load(path: &Path) -> Result<Profile, LoadError> {
        // A profile may sit beside secrets or hold a mistyped one: its errors
        // give file:line:col but never quote the line.
        let raw: RawProfile =
            crate::case::parse_yaml(path, &[]).map_err(LoadError::without_snippet)?;
        let file = Arc::new(path.to_path_buf());
        let loc = |l: &serde_saphyr::Location| Location::from_yaml(&file, l);
        let dir = path.parent().unwrap_or(Path::new(""));
        let rel = |s: &Spanned<String>| dir.join(&s.value);
        for (key, v) in [("ak", &raw.ak), ("sk", &raw.sk)] {
            if let Some(v) = v {
                return Err(LoadError::new(
                    loc(&v.referenced),
                    format!("`{key}` cannot be set in a profile"),
                )
                .label("remove it")
                .help("secrets come only from the environment: set CMS_AK and CMS_SK")
                .without_snippet());
            }
        }
        let mut p = Profile {
            path: path.to_path_buf(),
            ..Profile::default()
        };
        if let Some(u) = &raw.base_url {
            if let Err(e) = Target::check_base_url(&u.value) {
                return Err(LoadError::new(loc(&u.referenced), "invalid `base_url`")
                    .label(e)
                    .without_snippet());
            }
            p.base_url = Some(u.value.clone());
        }
        p.host = raw.host.as_ref().map(|h| h.value.clone());
        if let Some(list) = &raw.signed_headers {
            let mut names = Vec::new();
            for h in list {
                let n = h.value.to_ascii_lowercase();
                if !SIGNABLE.contains(&n.as_str()) {
                    let e = LoadError::new(
                        loc(&h.referenced),
                        format!("cannot sign header `{}`", h.value),
                    );
                    return Err(match did_you_mean(&n, SIGNABLE) {
                        Some(s) => e.label(format!("did you mean `{s}`?")),
                        None => e.label("not a header this tool sends"),
                    }
                    .help("signable headers: host, content-type, content-length"));
                }
                names.push(n);
            }
            if names.is_empty() {
                return Err(
                    LoadError::new(Location::file_only(path), "`signed_headers` is empty")
                        .help("sign at least `host` (the vendor sample)"),
                );
            }
            names.sort();
            names.dedup();
            p.signed_headers = Some(names);
        }
        if let Some(s) = &raw.body_shape {
            p.body_shape = Some(BodyShape::parse(&s.value).ok_or_else(|| {
                choice(
                    &loc(&s.referenced),
                    "body_shape",
                    &s.value,
                    &["wrapped", "flat"],
                )
            })?);
        }
        if let Some(s) = &raw.status9 {
            p.status9 = Some(Status9::parse(&s.value).ok_or_else(|| {
                choice(
                    &loc(&s.referenced),
                    "status9",
                    &s.value,
                    &["rejected", "allowed"],
                )
            })?);
        }
        if let Some(s) = &raw.release {
            let names: Vec<&str> = Release::ALL.iter().map(|r| r.name()).collect();
            p.release = Some(
                Release::parse(&s.value)
                    .ok_or_else(|| choice(&loc(&s.referenced), "release", &s.value, &names))?,
            );
        }
        let secs = |v: &Option<Spanned<f64>>, key: &str| -> Result<Option<Duration>, LoadError> {
            match v {
                None => Ok(None),
                Some(s) if s.value.is_finite() && s.value > 0.0 && s.value <= 3600.0 => {
                    Ok(Some(Duration::from_secs_f64(s.value)))
                }
                Some(s) => Err(LoadError::new(
                    loc(&s.referenced),
                    format!("`{key}` must be between 0 and 3600 seconds"),
                )
                .label("a timeout of zero or less would never let a request finish")),
            }
        };
        p.timeout = secs(&raw.timeout_secs, "timeout_secs")?;
        p.connect_timeout = secs(&raw.connect_timeout_secs, "connect_timeout_secs")?;
        if let Some(m) = &raw.max_response_bytes {
            if m.value < 1024 {
                return Err(LoadError::new(
                    loc(&m.referenced),
                    "`max_response_bytes` must be at least 1024",
                )
                .label("a CMS reply is a few hundred bytes; leave room"));
            }
            p.max_response_bytes = Some(usize::try_from(m.value).unwrap_or(usize::MAX));
        }
        if let Some(r) = &raw.rate {
            if !(r.value.is_finite() && r.value >= Target::MIN_RATE) {
                return Err(LoadError::new(
                    loc(&r.referenced),
                    "`rate` must be at least 0.01 requests per second",
                ));
            }
            p.rate = Some(r.value);
        }
        if let Some(j) = &raw.jobs {
            if j.value == 0 || j.value > 1024 {
                return Err(LoadError::new(
                    loc(&j.referenced),
                    "`jobs` must be between 1 and 1024",
                ));
            }
            p.jobs = Some(j.value as usize);
        }
        if let Some(r) = &raw.connect_retries {
            if r.value > 10 {
                return Err(LoadError::new(
                    loc(&r.referenced),
                    "`connect_retries` must be at most 10",
                ));
            }
            p.connect_retries = Some(r.value);
        }
        if let Some(st) = &raw.stale_secs {
            if !(60..=30 * 24 * 3600).contains(&st.value) {
                return Err(LoadError::new(
                    loc(&st.referenced),
                    "`stale_secs` must be between 60 and 2592000",
                )
                .label("make it larger than the target's clock-skew window"));
            }
            p.stale_secs = Some(st.value);
        }
        if let Some(t) = &raw.tls {
            p.cacert = t.cacert.as_ref().map(rel);
            p.client_cert = t.client_cert.as_ref().map(rel);
            p.client_key = t.client_key.as_ref().map(rel);
            p.insecure = t.insecure;
        }
        if let Some(v) = &raw.vars {
            let NodeValue::Map(entries) = &v.value else {
                return Err(LoadError::new(
                    loc(&v.loc),
                    "`vars` must be a mapping of names to values",
                ));
            };
            for (k, val) in entries {
                let text = match &val.value {
                    NodeValue::Str(s) => s.clone(),
                    NodeValue::Int(i) => i.to_string(),
                    NodeValue::UInt(u) => u.to_string(),
                    NodeValue::Float(f) => f.to_string(),
                    NodeValue::Bool(b) => b.to_string(),
                    NodeValue::Null => "null".into(),
                    NodeValue::Seq(items) => {
                        let mut parts = Vec::new();
                        for i in items {
                            match &i.value {
                                NodeValue::Str(s) => parts.push(s.clone()),
                                NodeValue::Int(n) => parts.push(n.to_string()),
                                NodeValue::UInt(n) => parts.push(n.to_string()),
                                other => {
                                    return Err(LoadError::new(
                                        loc(&i.loc),
                                        format!(
                                        "a `{}` list item must be a string or an integer, found {}",
                                        k.value,
                                        other.kind()
                                    ),
                                    )
                                    .without_snippet())
                                }
                            }
                        }
                        parts.join(",")
                    }
                    NodeValue::Map(_) => {
                        return Err(LoadError::new(
                            loc(&val.loc),
                            format!("variable `{}` must be a scalar or a list", k.value),
                        ))
                    }
                };
                p.vars.push((k.value.clone(), text));
            }
        }
        p.exclude_tags = raw.exclude_tags.unwrap_or_default();
        Ok(p)
    }

    /// Apply the profile's settings to `target`.
    pub fn apply(&self, target: &mut Target) {
        if let Some(u) = &self.base_url {
            *target = Target {
                base_url: u.trim_end_matches('/').to_string(),
                ..target.clone()
            };
        }
        if self.host.is_some() {
            target.host = self.host.clone();
        }
        if let Some(h) = &self.signed_headers {
            target.signed_headers = h.clone();
        }
        if let Some(b) = self.body_shape {
            target.body_shape = b;
        }
        if let Some(s) = self.status9 {
            target.status9 = s;
        }
        if let Some(t) = self.timeout {
            target.timeout = t;
        }
        if let Some(t) = self.connect_timeout {
            target.connect_timeout = t;
        }
        if let Some(m) = self.max_response_bytes {
            target.max_response_bytes = m;
        }
        if self.rate.is_some() {
            target.rate_per_sec = self.rate;
        }
        if let Some(r) = self.connect_retries {
            target.connect_retries = r;
        }
        if let Some(st) = self.stale_secs {
            target.stale_secs = st;
        }
        if self.cacert.is_some() {
            target.tls.cacert = self.cacert.clone();
        }
        if self.client_cert.is_some() {
            target.tls.client_cert = self.client_cert.clone();
        }
        if self.client_key.is_some() {
            target.tls.client_key = self.client_key.clone();
        }
        if let Some(i) = self.insecure {
            target.tls.insecure = i;
        }
    }

    /// Add the profile's variables to `vars`.
    pub fn add_vars(&self, vars: &mut Vars) {
        for (k, v) in &self.vars {
            vars.set(k, v, "profile");
        }
    }
}

fn choice(loc: &Location, key: &str, value: &str, choices: &[&str]) -> LoadError {
    let e = LoadError::new(loc.clone(), format!("invalid `{key}` value `{value}`"));
    match did_you_mean(value, choices.iter().copied()) {
        Some(s) => e.label(format!("did you mean `{s}`?")),
        None => e.label(format!("one of: {}", choices.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cms-contract-profile-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn full_profile_applies() {
        let p = write("ok.yaml", "base_url: https://cms:28080/\nhost: cms.example:28080\nsigned_headers: [Host, content-type]\nbody_shape: flat\nstatus9: allowed\ntimeout_secs: 3\nrate: 5\ntls: {cacert: ca.pem, insecure: false}\nvars: {ccId: 1, known_agents: [1001, 1002]}\nexclude_tags: [reference-data]\n");
        let prof = Profile::load(&p).unwrap();
        let mut t = Target::new("http://x");
        prof.apply(&mut t);
        assert_eq!(t.base_url, "https://cms:28080");
        assert_eq!(t.signed_headers, ["content-type", "host"]);
        assert_eq!(t.body_shape, BodyShape::Flat);
        assert_eq!(t.status9, Status9::Allowed);
        assert_eq!(t.timeout, Duration::from_secs(3));
        assert_eq!(t.tls.cacert, Some(p.parent().unwrap().join("ca.pem")));
        assert_eq!(
            prof.vars,
            [
                ("ccId".to_string(), "1".to_string()),
                ("known_agents".to_string(), "1001,1002".to_string())
            ]
        );
    }

    #[test]
    fn invalid_values_are_located_errors() {
        let e = Profile::load(&write("b1.yaml", "body_shape: flatt\n")).unwrap_err();
        assert_eq!(e.message, "invalid `body_shape` value `flatt`");
        assert_eq!(e.label.as_deref(), Some("did you mean `flat`?"));
        assert_eq!(e.location.line, 1);
        let e =
            Profile::load(&write("b2.yaml", "base_url: http://x\nsk: s3cr3t-value\n")).unwrap_err();
        assert_eq!(e.message, "`sk` cannot be set in a profile");
        assert_eq!(e.location.line, 2);
        assert!(!e.render().contains("s3cr3t"), "{}", e.render());
        let e = Profile::load(&write("b3.yaml", "timeout_secs: 0\n")).unwrap_err();
        assert!(e.message.contains("timeout_secs"));
        let e = Profile::load(&write("b4.yaml", "signed_headers: [hots]\n")).unwrap_err();
        assert_eq!(e.label.as_deref(), Some("did you mean `host`?"));
        let e = Profile::load(&write("b5.yaml", "base_urll: http://x\n")).unwrap_err();
        assert_eq!(e.message, "unknown field `base_urll`");
        let e =
            Profile::load(&write("b7.yaml", "vars: {known_agents: [101, [102]]}\n")).unwrap_err();
        assert!(
            e.message
                .contains("list item must be a string or an integer"),
            "{}",
            e.message
        );
        let e = Profile::load(&write("b6.yaml", "base_url: http://x\nsk: s3cr3t: value\n"))
            .unwrap_err();
        assert_eq!(e.location.line, 2);
        assert!(!e.render().contains("s3cr3t"), "{}", e.render());
    }
}
