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
use crate::contract::{RESULT_CODE_INVALID_PARAMETER, RESULT_CODE_SUCCESS};
use crate::location::Location;
use serde_json::{json, Value};
use std::path::Path;

/// One Table 2 field's documented range, as read from the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRange {
    /// Field name.
    pub name: String,
    /// `minimum`.
    pub min: i64,
    /// `maximum`.
    pub max: i64,
}

/// Read the field ranges from `<schema_dir>/request.json`.
pub fn request_ranges(schema_dir: &Path, loc: &Location) -> Result<Vec<FieldRange>, LoadError> {
    let path = schema_dir.join("request.json");
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
        if let (Some(min), Some(max)) = (
            p.get("minimum").and_then(Value::as_i64),
            p.get("maximum").and_then(Value::as_i64),
        ) {
            out.push(FieldRange {
                name: name.clone(),
                min,
                max,
            });
        }
    }
    Ok(out)
}

/// Expand `base` into its boundary cases.
pub fn boundaries(base: &Case, schema_dir: &Path, loc: &Location) -> Result<Vec<Case>, LoadError> {
    let Body::Query(template) = &base.request.body else {
        return Err(LoadError::new(
            loc.clone(),
            "`generate: boundaries` needs a `request.query` template",
        )
        .label("give valid values for every Table 2 field in `request.query`"));
    };
    let ranges = request_ranges(schema_dir, loc)?;
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
        for v in [r.min, r.max] {
            variant(format!("{v}_accepted"), Some(json!(v)), Outcome::Accepted);
        }
        for v in [r.min - 1, r.max + 1] {
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
    let code = |kind| Matcher {
        kind: MatcherKind::Object {
            entries: vec![("resultCode".into(), m(kind))],
            exact: false,
        },
        source: loc.clone(),
    };
    match outcome {
        Outcome::Accepted => {
            c.expect.schema = Some(("response.json".into(), loc.clone()));
            c.expect.body = None;
        }
        Outcome::OutOfRange => {
            c.expect.schema = Some(("error.json".into(), loc.clone()));
            c.expect.body = Some(code(MatcherKind::Literal(json!(
                RESULT_CODE_INVALID_PARAMETER
            ))));
        }
        Outcome::Invalid => {
            c.expect.schema = Some(("error.json".into(), loc.clone()));
            let not_success = MatcherKind::Not(Box::new(m(MatcherKind::Literal(json!(
                RESULT_CODE_SUCCESS
            )))));
            c.expect.body = Some(code(not_success));
        }
    }
    c
}
