//! Target profiles: a YAML file with one deployment's settings (base URL,
//! TLS, signing, options, variables). Secrets never live here: AK/SK come
//! only from `CMS_AK` / `CMS_SK`. Every value is checked by the same parser
//! as its flag; an invalid one is a located error. Profile errors give
//! `file:line:col` but never quote the line: it may hold a secret.

use super::{Layer, ValueError};
use crate::case::{parse_yaml, LoadError, Node, NodeValue};
use crate::location::Location;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    base_url: Option<Node>,
    host: Option<Spanned<String>>,
    signed_headers: Option<Vec<Node>>,
    release: Option<Node>,
    options: Option<Node>,
    timeout_secs: Option<Node>,
    connect_timeout_secs: Option<Node>,
    run_timeout_secs: Option<Node>,
    max_response_bytes: Option<Node>,
    rate: Option<Node>,
    jobs: Option<Node>,
    connect_retries: Option<Node>,
    stale_secs: Option<Node>,
    max_cases: Option<Node>,
    tls: Option<RawTls>,
    vars: Option<Node>,
    tags: Option<Vec<String>>,
    exclude_tags: Option<Vec<String>>,
    /// Present only to give a clear error: secrets come from the environment.
    ak: Option<Node>,
    /// Present only to give a clear error: secrets come from the environment.
    sk: Option<Node>,
    /// Moved under `options:`; present only to say so.
    body_shape: Option<Node>,
    /// Moved under `options:`; present only to say so.
    status9: Option<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cacert: Option<Spanned<String>>,
    client_cert: Option<Spanned<String>>,
    client_key: Option<Spanned<String>>,
    insecure: Option<bool>,
}

/// The keys of a profile, for help lines.
pub const PROFILE_KEYS: &[&str] = &[
    "base_url",
    "host",
    "signed_headers",
    "release",
    "options",
    "timeout_secs",
    "connect_timeout_secs",
    "run_timeout_secs",
    "max_response_bytes",
    "rate",
    "jobs",
    "connect_retries",
    "stale_secs",
    "max_cases",
    "tls",
    "vars",
    "tags",
    "exclude_tags",
];

/// Read the profile at `path` into a settings layer. Relative TLS paths are
/// taken relative to the profile's folder.
pub fn load(path: &Path) -> Result<Layer, LoadError> {
    let raw: RawProfile = parse_yaml(path, PROFILE_KEYS).map_err(LoadError::without_snippet)?;
    let file = Arc::new(path.to_path_buf());
    let at = |n: &Node| Location::from_yaml(&file, &n.loc);
    let fail = |n: &Node, message: String| LoadError::new(at(n), message).without_snippet();
    for (key, v) in [("ak", &raw.ak), ("sk", &raw.sk)] {
        if let Some(n) = v {
            return Err(fail(n, format!("`{key}` cannot be set in a profile"))
                .label("remove it")
                .help("secrets come only from the environment: set CMS_AK and CMS_SK"));
        }
    }
    for (key, v) in [("body_shape", &raw.body_shape), ("status9", &raw.status9)] {
        if let Some(n) = v {
            return Err(
                fail(n, format!("`{key}` is a contract option now")).label(format!(
                    "move it under `options:`, e.g. `options: {{{key}: ...}}`"
                )),
            );
        }
    }
    // One parser per value: the flag's.
    fn value<T: FromStr<Err = ValueError>>(
        key: &str,
        n: &Option<Node>,
        fail: &dyn Fn(&Node, String) -> LoadError,
    ) -> Result<Option<T>, LoadError> {
        let Some(n) = n else { return Ok(None) };
        let text = scalar(n).ok_or_else(|| fail(n, format!("`{key}` must be a single value")))?;
        text.parse()
            .map(Some)
            .map_err(|e: ValueError| fail(n, format!("invalid `{key}`: {e}")))
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    let rel = |s: &Spanned<String>| -> PathBuf { dir.join(&s.value) };
    let signed_headers = match &raw.signed_headers {
        None => None,
        Some(list) if list.is_empty() => {
            return Err(
                LoadError::new(Location::file_only(path), "`signed_headers` is empty")
                    .help("sign at least `host` (the vendor sample)")
                    .without_snippet(),
            )
        }
        Some(list) => {
            let mut names = Vec::new();
            for n in list {
                names.push(
                    scalar(n).ok_or_else(|| fail(n, "a header name must be a string".into()))?,
                );
            }
            let first = &list[0];
            Some(
                names.join(",").parse().map_err(|e: ValueError| {
                    fail(first, format!("invalid `signed_headers`: {e}"))
                })?,
            )
        }
    };
    let mut layer = Layer {
        target: value("base_url", &raw.base_url, &fail)?,
        host: raw.host.map(|h| h.value),
        signed_headers,
        release: match &raw.release {
            None => None,
            Some(n) => Some(scalar(n).ok_or_else(|| fail(n, "`release` must be a name".into()))?),
        },
        timeout: value("timeout_secs", &raw.timeout_secs, &fail)?,
        connect_timeout: value("connect_timeout_secs", &raw.connect_timeout_secs, &fail)?,
        run_timeout: value("run_timeout_secs", &raw.run_timeout_secs, &fail)?,
        max_response_bytes: value("max_response_bytes", &raw.max_response_bytes, &fail)?,
        rate: value("rate", &raw.rate, &fail)?,
        jobs: value("jobs", &raw.jobs, &fail)?,
        retries: value("connect_retries", &raw.connect_retries, &fail)?,
        stale_secs: value("stale_secs", &raw.stale_secs, &fail)?,
        max_cases: value("max_cases", &raw.max_cases, &fail)?,
        tags: raw.tags.unwrap_or_default(),
        exclude_tags: raw.exclude_tags.unwrap_or_default(),
        ..Layer::default()
    };
    if let Some(t) = &raw.tls {
        layer.cacert = t.cacert.as_ref().map(rel);
        layer.client_cert = t.client_cert.as_ref().map(rel);
        layer.client_key = t.client_key.as_ref().map(rel);
        layer.insecure = t.insecure;
    }
    if let Some(n) = &raw.options {
        layer.options = pairs(n, "options", &fail)?;
    }
    if let Some(n) = &raw.vars {
        layer.vars = pairs(n, "vars", &fail)?;
    }
    Ok(layer)
}

/// A scalar's text (`1`, `2.5`, `true`, `text`); `None` for lists and maps.
fn scalar(n: &Node) -> Option<String> {
    match &n.value {
        NodeValue::Str(s) => Some(s.clone()),
        NodeValue::Int(i) => Some(i.to_string()),
        NodeValue::UInt(u) => Some(u.to_string()),
        NodeValue::Float(f) => Some(f.to_string()),
        NodeValue::Bool(b) => Some(b.to_string()),
        NodeValue::Null | NodeValue::Seq(_) | NodeValue::Map(_) => None,
    }
}

/// A mapping of names to scalars (a list value becomes `a,b`).
fn pairs(
    n: &Node,
    key: &str,
    fail: &dyn Fn(&Node, String) -> LoadError,
) -> Result<Vec<(String, String)>, LoadError> {
    let NodeValue::Map(entries) = &n.value else {
        return Err(fail(
            n,
            format!("`{key}` must be a mapping of names to values"),
        ));
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let text = match &v.value {
            NodeValue::Seq(items) => {
                let mut parts = Vec::new();
                for i in items {
                    match (&i.value, scalar(i)) {
                        (NodeValue::Str(_) | NodeValue::Int(_) | NodeValue::UInt(_), Some(t)) => {
                            parts.push(t)
                        }
                        (other, _) => {
                            return Err(fail(
                                i,
                                format!(
                                    "a `{}` list item must be a string or an integer, found {}",
                                    k.value,
                                    other.kind()
                                ),
                            ))
                        }
                    }
                }
                parts.join(",")
            }
            NodeValue::Null => "null".into(),
            _ => scalar(v).ok_or_else(|| {
                fail(
                    v,
                    format!("`{}.{}` must be a scalar or a list", key, k.value),
                )
            })?,
        };
        out.push((k.value.clone(), text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cms-contract-settings-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn full_profile_reads_into_a_layer() {
        let p = write(
            "ok.yaml",
            "base_url: https://cms:28080/\nhost: cms.example:28080\nsigned_headers: [Host, content-type]\n\
             options: {body_shape: flat, agentbyworkno.status9: allowed}\ntimeout_secs: 3\nrate: 5\njobs: 4\n\
             tls: {cacert: ca.pem, insecure: false}\nvars: {ccId: 1, known_agents: [1001, 1002]}\n\
             exclude_tags: [reference-data]\n",
        );
        let l = load(&p).unwrap();
        assert_eq!(l.target.unwrap().as_str(), "https://cms:28080");
        assert_eq!(l.signed_headers.unwrap().names(), ["content-type", "host"]);
        assert_eq!(
            l.options,
            [
                ("body_shape".to_string(), "flat".to_string()),
                ("agentbyworkno.status9".to_string(), "allowed".to_string())
            ]
        );
        assert_eq!(l.jobs.unwrap().get(), 4);
        assert_eq!(l.cacert, Some(p.parent().unwrap().join("ca.pem")));
        assert_eq!(
            l.vars[1],
            ("known_agents".to_string(), "1001,1002".to_string())
        );
    }

    #[test]
    fn invalid_values_are_located_and_say_what_the_flag_says() {
        let e = load(&write("b1.yaml", "jobs: 0\n")).unwrap_err();
        assert_eq!(
            e.message,
            "invalid `jobs`: `0` is not a number of jobs: give a whole number from 1 to 1024"
        );
        assert_eq!(e.location.line, 1);
        let e = load(&write("b2.yaml", "base_url: http://x\nsk: s3cr3t-value\n")).unwrap_err();
        assert_eq!(e.message, "`sk` cannot be set in a profile");
        assert_eq!(e.location.line, 2);
        assert!(!e.render().contains("s3cr3t"), "{}", e.render());
        let e = load(&write("b3.yaml", "signed_headers: [hots]\n")).unwrap_err();
        assert!(e.message.contains("did you mean `host`?"), "{}", e.message);
        let e = load(&write("b4.yaml", "body_shape: flat\n")).unwrap_err();
        assert_eq!(e.message, "`body_shape` is a contract option now");
        let e = load(&write("b5.yaml", "connect_retries: 4294967295\n")).unwrap_err();
        assert!(e.message.contains("from 0 to 10"), "{}", e.message);
    }
}
