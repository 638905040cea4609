//! `generate: boundaries`: Table 2 boundary cases derived from the request schema.
//!
//! For each field of `$defs/queryParam` in `request.json` that has `minimum`
//! and `maximum`: min and max (accepted: success or a non-success "no such
//! agent" answer, never 5xx), min−1 and max+1 (rejected with `0100002`,
//! "invalid parameter"), and a string, a float, null and a missing field
//! (rejected with a non-success `resultCode`). Names are deterministic:
//! `<case>::<field>_<value>_<accepted|rejected>`.

use super::error::LoadError;
use super::matcher::{Matcher, MatcherKind};
use super::{Body, Case};
use crate::contract::{
    Release, RESULT_CODE_INVALID_PARAMETER, RESULT_CODE_SUCCESS, RESULT_SUCCESS,
};
use crate::location::Location;
use serde_json::{json, Value};
use std::path::Path;

/// One Table 2 field's documented ranges, as read from the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRange {
    /// Field name.
    pub name: String,
    /// Inclusive `(minimum, maximum)` pairs: one, or several under `anyOf`
    /// (the 2025-11 agentId).
    pub ranges: Vec<(i64, i64)>,
}

fn bounds(p: &Value) -> Option<(i64, i64)> {
    Some((p.get("minimum")?.as_i64()?, p.get("maximum")?.as_i64()?))
}

/// Read the field ranges from the release's `request.json` (its overlay if
/// it has one, else the base file).
pub fn request_ranges(
    schema_dir: &Path,
    release: Release,
    loc: &Location,
) -> Result<Vec<FieldRange>, LoadError> {
    let overlay = crate::schema::release_dir(schema_dir, release).join("request.json");
    let path = if overlay.is_file() {
        overlay
    } else {
        schema_dir.join("request.json")
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        LoadError::new(
            loc.clone(),
            format!("cannot read `{}`: {e}", path.display()),
        )
        .label("`generate: boundaries` derives its values from the request schema")
        .help("run from the project folder or pass --schemas DIR")
    })?;
    let schema: Value = serde_json::from_str(&text).map_err(|e| {
        LoadError::new(
            loc.clone(),
            format!("`{}` is not valid JSON: {e}", path.display()),
        )
    })?;
    let props = schema
        .pointer("/$defs/queryParam/properties")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            LoadError::new(
                loc.clone(),
                format!("`{}` has no `$defs/queryParam/properties`", path.display()),
            )
        })?;
    let mut out = Vec::new();
    for (name, p) in props {
        let ranges: Vec<(i64, i64)> = match bounds(p) {
            Some(b) => vec![b],
            None => p
                .get("anyOf")
                .and_then(Value::as_array)
                .map(|alts| alts.iter().filter_map(bounds).collect())
                .unwrap_or_default(),
        };
        if !ranges.is_empty() {
            out.push(FieldRange {
                name: name.clone(),
                ranges,
            });
        }
    }
    Ok(out)
}

/// Expand `base` into its boundary cases.
pub fn boundaries(
    base: &Case,
    schema_dir: &Path,
    release: Release,
    loc: &Location,
) -> Result<Vec<Case>, LoadError> {
    let Body::Query(template) = &base.request.body else {
        return Err(LoadError::new(
            loc.clone(),
            "`generate: boundaries` needs a `request.query` template",
        )
        .label("give valid values for every Table 2 field in `request.query`"));
    };
    let ranges = request_ranges(schema_dir, release, loc)?;
    let mut out = Vec::new();
    for r in &ranges {
        let Some(valid) = template.get(&r.name).cloned() else {
            return Err(LoadError::new(
                loc.clone(),
                format!("the query template has no `{}`", r.name),
            )
            .label("the template must hold a valid value for every Table 2 field"));
        };
        let mut variant = |label: String, value: Option<Value>, expect: Outcome| {
            let mut body = template.clone();
            match value {
                Some(v) => body.insert(r.name.clone(), v),
                None => body.remove(&r.name),
            };
            out.push(derive(
                base,
                loc,
                &format!("{}_{label}", r.name),
                body,
                expect,
            ));
        };
        let (accepted, rejected) = edges(r);
        for v in accepted {
            variant(format!("{v}_accepted"), Some(json!(v)), Outcome::Accepted);
        }
        for v in rejected {
            variant(format!("{v}_rejected"), Some(json!(v)), Outcome::OutOfRange);
        }
        let as_text = match &valid {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let as_float = valid.as_f64().map_or(json!(1.5), |f| json!(f + 0.5));
        variant(
            "string_rejected".into(),
            Some(Value::String(as_text)),
            Outcome::Invalid,
        );
        variant("float_rejected".into(), Some(as_float), Outcome::Invalid);
        variant("null_rejected".into(), Some(Value::Null), Outcome::Invalid);
        variant("missing_rejected".into(), None, Outcome::Invalid);
    }
    Ok(out)
}

/// The type cases made per field besides its edges: string, float, null,
/// missing.
const TYPE_CASES: usize = 4;

/// A field's edge values: the accepted bounds, and the rejected values just
/// outside them (not inside another range), each sorted, without repeats.
fn edges(r: &FieldRange) -> (Vec<i64>, Vec<i64>) {
    let inside = |v: i64| r.ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&v));
    let mut accepted: Vec<i64> = r.ranges.iter().flat_map(|(lo, hi)| [*lo, *hi]).collect();
    let mut rejected: Vec<i64> = r
        .ranges
        .iter()
        .flat_map(|(lo, hi)| [lo.saturating_sub(1), hi.saturating_add(1)])
        .filter(|v| !inside(*v))
        .collect();
    for list in [&mut accepted, &mut rejected] {
        list.sort_unstable();
        list.dedup();
    }
    (accepted, rejected)
}

/// How many cases [`boundaries`] makes from one case, without making them
/// (for the run's case limit).
pub fn count(schema_dir: &Path, release: Release, loc: &Location) -> Result<usize, LoadError> {
    let ranges = request_ranges(schema_dir, release, loc)?;
    Ok(ranges
        .iter()
        .map(|r| {
            let (a, b) = edges(r);
            a.len() + b.len() + TYPE_CASES
        })
        .sum())
}

#[derive(Clone, Copy)]
enum Outcome {
    Accepted,
    OutOfRange,
    Invalid,
}

fn derive(
    base: &Case,
    loc: &Location,
    suffix: &str,
    body: serde_json::Map<String, Value>,
    outcome: Outcome,
) -> Case {
    let mut c = base.clone();
    c.name = format!("{}::{suffix}", base.name);
    c.source = loc.clone();
    c.request.body = Body::Query(body);
    c.expect.status = vec![200];
    c.expect.status_source = loc.clone();
    c.expect.json = true;
    let m = |kind| Matcher {
        kind,
        source: loc.clone(),
    };
    // The 8.13 form carries the outcome in `result` (Table 3 row 1), where
    // success is "0"; the current form in `resultCode`, where it is "0100000".
    let (code_key, success) = if base.expect.release.is_legacy() {
        ("result", RESULT_SUCCESS)
    } else {
        ("resultCode", RESULT_CODE_SUCCESS)
    };
    let code = |kind| Matcher {
        kind: MatcherKind::Object {
            entries: vec![(code_key.into(), m(kind))],
            exact: false,
        },
        source: loc.clone(),
    };
    match outcome {
        Outcome::Accepted => {
            // Success, or a non-success "no such agent" answer; never "invalid parameter".
            c.expect.schema = Some(("response.json".into(), loc.clone()));
            let not_invalid = MatcherKind::Not(Box::new(m(MatcherKind::Literal(json!(
                RESULT_CODE_INVALID_PARAMETER
            )))));
            c.expect.body = Some(code(not_invalid));
        }
        Outcome::OutOfRange => {
            c.expect.schema = Some(("error.json".into(), loc.clone()));
            c.expect.body = Some(code(MatcherKind::Literal(json!(
                RESULT_CODE_INVALID_PARAMETER
            ))));
        }
        Outcome::Invalid => {
            c.expect.schema = Some(("error.json".into(), loc.clone()));
            let not_success = MatcherKind::Not(Box::new(m(MatcherKind::Literal(json!(success)))));
            c.expect.body = Some(code(not_success));
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use crate::case::{load_str, LoadOptions, MatcherKind};
    use crate::contract::Release;
    use serde_json::json;
    use std::path::{Path, PathBuf};

    fn generated(release: Release) -> Vec<crate::case::Case> {
        let opts = LoadOptions {
            schema_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/agentbyworkno"),
            release,
            ..LoadOptions::default()
        };
        let text = "cases:\n  - name: b\n    generate: boundaries\n    request: {method: POST, path: /p, query: {ccId: 1, vdn: 1, agentId: 101}}\n";
        load_str(Path::new("s/a.yaml"), text, &opts).unwrap()
    }

    /// The `$ne` a rejected type case puts on the outcome field: (key, value).
    fn refusal(c: &crate::case::Case) -> (String, serde_json::Value) {
        let Some(MatcherKind::Object { entries, .. }) = c.expect.body.as_ref().map(|m| &m.kind)
        else {
            panic!("object matcher expected")
        };
        let MatcherKind::Not(inner) = &entries[0].1.kind else {
            panic!("$ne expected")
        };
        let MatcherKind::Literal(v) = &inner.kind else {
            panic!("literal expected")
        };
        (entries[0].0.clone(), v.clone())
    }

    #[test]
    fn count_is_what_boundaries_makes() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/agentbyworkno");
        let loc = crate::location::Location::file_only(Path::new("s/a.yaml"));
        for release in Release::ALL {
            assert_eq!(
                super::count(&dir, release, &loc).unwrap(),
                generated(release).len(),
                "{release}"
            );
        }
    }

    #[test]
    fn names_ranges_and_the_outcome_field_follow_the_release() {
        let cases = generated(Release::V2024_08);
        assert_eq!(cases.len(), 24);
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert!(
            names.contains(&"b::agentId_60000_rejected")
                && names.contains(&"b::ccId_65535_accepted")
        );
        let string = cases
            .iter()
            .find(|c| c.name == "b::agentId_string_rejected")
            .unwrap();
        assert_eq!(
            refusal(string),
            ("resultCode".to_string(), json!("0100000"))
        );

        let widened = generated(Release::V2025_11);
        assert!(widened
            .iter()
            .any(|c| c.name == "b::agentId_69999_rejected"));
        assert!(widened
            .iter()
            .any(|c| c.name == "b::agentId_70000_accepted"));

        // In the 8.13 form success is result "0": that is what a refusal must not say.
        let legacy = generated(Release::V8_13);
        let string = legacy
            .iter()
            .find(|c| c.name == "b::agentId_string_rejected")
            .unwrap();
        assert_eq!(refusal(string), ("result".to_string(), json!("0")));
    }
}
