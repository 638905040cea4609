//! `generate: boundaries`: boundary cases derived from a contract's request
//! fields schema (the manifest's `request.fields`, after the release's
//! overlay and the options' patches).
//!
//! For an integer field with `minimum` (and `maximum`, or several ranges under
//! `anyOf`): each bound is accepted (success, or a non-success answer that is
//! not "invalid parameter", e.g. "no such agent"), each value just outside is
//! rejected with the envelope's invalid-parameter code. For an array field
//! with `minItems` / `maxItems`: those sizes accepted, one less and one more
//! rejected; an element at its item bounds accepted, just outside rejected,
//! and a non-integer element rejected. For every field: a string, a float
//! (integers), null and a missing field are rejected with a non-success
//! outcome. Names are deterministic: `<case>::<field>_<what>_<accepted|rejected>`.

use super::error::LoadError;
use super::matcher::{Matcher, MatcherKind};
use super::{Body, Case, Inconclusive};
use crate::contract::{Contract, Envelope, Release};
use crate::location::Location;
use crate::schema::SchemaSet;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// What a field's schema says about its values.
#[derive(Debug, Clone, PartialEq)]
enum FieldKind {
    /// An integer in one of these inclusive ranges (`None`: unbounded side).
    Integer(Vec<(Option<i64>, Option<i64>)>),
    /// An array of `min..=max` items, each an integer in these ranges.
    Array {
        min: Option<u64>,
        max: Option<u64>,
        items: Vec<(Option<i64>, Option<i64>)>,
    },
}

/// One request field with what its schema says.
#[derive(Debug, Clone, PartialEq)]
struct Field {
    name: String,
    kind: FieldKind,
}

fn range_of(p: &Value) -> Option<(Option<i64>, Option<i64>)> {
    let lo = p.get("minimum").and_then(Value::as_i64);
    let hi = p.get("maximum").and_then(Value::as_i64);
    (lo.is_some() || hi.is_some()).then_some((lo, hi))
}

fn ranges_of(p: &Value) -> Vec<(Option<i64>, Option<i64>)> {
    match range_of(p) {
        Some(r) => vec![r],
        None => p
            .get("anyOf")
            .and_then(Value::as_array)
            .map(|alts| alts.iter().filter_map(range_of).collect())
            .unwrap_or_default(),
    }
}

/// The fields of the contract's request fields schema that have bounds.
fn fields(contract: &Contract, set: &SchemaSet, loc: &Location) -> Result<Vec<Field>, LoadError> {
    let r = &contract.request.fields;
    let props = set
        .document(&r.file)
        .and_then(|d| d.pointer(&r.pointer))
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            LoadError::new(
                loc.clone(),
                format!(
                    "contract {}: `{}#{}` has no `properties`",
                    contract.name, r.file, r.pointer
                ),
            )
            .label("`generate: boundaries` derives its values from the request fields schema")
            .help(format!("fix `request.fields` in {}", contract.source))
        })?;
    let mut out = Vec::new();
    for (name, p) in props {
        let kind = if p.get("type").and_then(Value::as_str) == Some("array") {
            let items = p.get("items").map(ranges_of).unwrap_or_default();
            let min = p.get("minItems").and_then(Value::as_u64);
            let max = p.get("maxItems").and_then(Value::as_u64);
            if min.is_none() && max.is_none() && items.is_empty() {
                continue;
            }
            FieldKind::Array { min, max, items }
        } else {
            let ranges = ranges_of(p);
            if ranges.is_empty() {
                continue;
            }
            FieldKind::Integer(ranges)
        };
        out.push(Field {
            name: name.clone(),
            kind,
        });
    }
    Ok(out)
}

/// Accepted edges and the rejected values just outside them (not inside
/// another range), each sorted, without repeats.
fn edges(ranges: &[(Option<i64>, Option<i64>)]) -> (Vec<i64>, Vec<i64>) {
    let inside = |v: i64| {
        ranges
            .iter()
            .any(|(lo, hi)| lo.is_none_or(|l| v >= l) && hi.is_none_or(|h| v <= h))
    };
    let mut accepted: Vec<i64> = ranges
        .iter()
        .flat_map(|(lo, hi)| [*lo, *hi])
        .flatten()
        .collect();
    let mut rejected: Vec<i64> = ranges
        .iter()
        .flat_map(|(lo, hi)| {
            [
                lo.map(|l| l.saturating_sub(1)),
                hi.map(|h| h.saturating_add(1)),
            ]
        })
        .flatten()
        .filter(|v| !inside(*v))
        .collect();
    for list in [&mut accepted, &mut rejected] {
        list.sort_unstable();
        list.dedup();
    }
    (accepted, rejected)
}

/// The type cases made per field besides its edges: string, float (for an
/// integer) or a non-integer element (for an array), null, missing.
const TYPE_CASES: usize = 4;

/// How many cases [`boundaries`] makes from one case, without making them
/// (for the run's case limit).
pub fn count(contract: &Contract, set: &SchemaSet, loc: &Location) -> Result<usize, LoadError> {
    Ok(fields(contract, set, loc)?
        .iter()
        .map(|f| match &f.kind {
            FieldKind::Integer(r) => {
                let (a, b) = edges(r);
                a.len() + b.len() + TYPE_CASES
            }
            FieldKind::Array { min, max, items } => {
                let sizes = size_cases(*min, *max).len();
                let (a, b) = edges(items);
                sizes + a.len() + b.len() + TYPE_CASES
            }
        })
        .sum())
}

/// The sizes to try for an array: `(size, accepted)`.
fn size_cases(min: Option<u64>, max: Option<u64>) -> Vec<(u64, bool)> {
    let mut out = Vec::new();
    if let Some(lo) = min {
        out.push((lo, true));
        if lo > 0 {
            out.push((lo - 1, false));
        }
    }
    if let Some(hi) = max {
        if min != Some(hi) {
            out.push((hi, true));
        }
        out.push((hi.saturating_add(1), false));
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[derive(Clone, Copy)]
enum Outcome {
    Accepted,
    OutOfRange,
    Invalid,
}

/// Expand `base` into its boundary cases.
pub fn boundaries(base: &Case, set: &SchemaSet, loc: &Location) -> Result<Vec<Case>, LoadError> {
    let (Some(contract), Some(release)) = (&base.contract, &base.release) else {
        return Err(
            LoadError::new(loc.clone(), "`generate: boundaries` needs a contract")
                .label("name the suite's contract in its _defaults.yaml (`contract: NAME`)"),
        );
    };
    let Body::Query(template) = &base.request.body else {
        return Err(LoadError::new(
            loc.clone(),
            "`generate: boundaries` needs a `request.query` template",
        )
        .label("give a valid value for every request field in `request.query`"));
    };
    let mut out = Vec::new();
    for f in fields(contract, set, loc)? {
        let Some(valid) = template.get(&f.name).cloned() else {
            return Err(LoadError::new(
                loc.clone(),
                format!("the query template has no `{}`", f.name),
            )
            .label("the template must hold a valid value for every request field"));
        };
        let mut variant = |label: String, value: Option<Value>, expect: Outcome| {
            let mut body = template.clone();
            match value {
                Some(v) => body.insert(f.name.clone(), v),
                None => body.remove(&f.name),
            };
            out.push(derive(
                base,
                contract,
                release,
                loc,
                &format!("{}_{label}", f.name),
                body,
                expect,
            ));
        };
        match &f.kind {
            FieldKind::Integer(ranges) => {
                let (accepted, rejected) = edges(ranges);
                for v in accepted {
                    variant(format!("{v}_accepted"), Some(json!(v)), Outcome::Accepted);
                }
                for v in rejected {
                    variant(format!("{v}_rejected"), Some(json!(v)), Outcome::OutOfRange);
                }
                let as_float = valid.as_f64().map_or(json!(1.5), |v| json!(v + 0.5));
                variant("float_rejected".into(), Some(as_float), Outcome::Invalid);
            }
            FieldKind::Array { min, max, items } => {
                let first = valid
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(Value::as_i64)
                    .ok_or_else(|| {
                        LoadError::new(
                            loc.clone(),
                            format!(
                                "the query template's `{}` has no integer to start from",
                                f.name
                            ),
                        )
                        .label("give a non-empty list of valid values")
                    })?;
                for (size, ok) in size_cases(*min, *max) {
                    let list = distinct_values(first, items, size);
                    let (label, outcome) = if ok {
                        (format!("{size}_items_accepted"), Outcome::Accepted)
                    } else {
                        (format!("{size}_items_rejected"), Outcome::OutOfRange)
                    };
                    variant(label, Some(Value::Array(list)), outcome);
                }
                let (accepted, rejected) = edges(items);
                for v in accepted {
                    variant(
                        format!("item_{v}_accepted"),
                        Some(json!([v])),
                        Outcome::Accepted,
                    );
                }
                for v in rejected {
                    variant(
                        format!("item_{v}_rejected"),
                        Some(json!([v])),
                        Outcome::OutOfRange,
                    );
                }
                variant(
                    "item_string_rejected".into(),
                    Some(json!([first, first.to_string()])),
                    Outcome::Invalid,
                );
            }
        }
        let as_text = match &valid {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        variant(
            "string_rejected".into(),
            Some(Value::String(as_text)),
            Outcome::Invalid,
        );
        variant("null_rejected".into(), Some(Value::Null), Outcome::Invalid);
        variant("missing_rejected".into(), None, Outcome::Invalid);
    }
    Ok(out)
}

/// `size` distinct integers from `start` upwards inside `ranges` (wrapping to
/// the lowest bound), so a list at the size limit has no repeats.
fn distinct_values(start: i64, ranges: &[(Option<i64>, Option<i64>)], size: u64) -> Vec<Value> {
    let inside = |v: i64| {
        ranges.is_empty()
            || ranges
                .iter()
                .any(|(lo, hi)| lo.is_none_or(|l| v >= l) && hi.is_none_or(|h| v <= h))
    };
    let lowest = ranges
        .iter()
        .filter_map(|(lo, _)| *lo)
        .min()
        .unwrap_or(start);
    let mut out = Vec::with_capacity(size.min(1 << 20) as usize);
    let mut v = start;
    let mut misses = 0u64;
    while (out.len() as u64) < size && misses < 10_000_000 {
        if inside(v) {
            out.push(json!(v));
            misses = 0;
        } else {
            misses += 1;
        }
        v = if v == i64::MAX
            || (!inside(v.saturating_add(1))
                && ranges.iter().all(|(_, hi)| hi.is_some_and(|h| v >= h)))
        {
            lowest
        } else {
            v + 1
        };
    }
    out
}

fn derive(
    base: &Case,
    contract: &Contract,
    release: &Release,
    loc: &Location,
    suffix: &str,
    body: Map<String, Value>,
    outcome: Outcome,
) -> Case {
    let envelope = contract.envelope(release);
    let rules = contract.boundaries.as_ref();
    let mut c = base.clone();
    c.name = format!("{}::{suffix}", base.name);
    c.source = loc.clone();
    c.request.body = Body::Query(body);
    c.expect.status = vec![200];
    c.expect.status_source = loc.clone();
    c.expect.json = true;
    c.expect.rejected = None;
    let m = |kind| Matcher {
        kind,
        source: loc.clone(),
    };
    let literal = |s: &str| m(MatcherKind::Literal(json!(s)));
    let (schema, on_outcome) = match outcome {
        // Success, or a non-success answer that is not "invalid parameter"
        // (e.g. "no such agent"): never refused for its value.
        Outcome::Accepted => (
            rules.and_then(|r| r.accepted_schema.clone()),
            MatcherKind::Not(Box::new(literal(&envelope.invalid_parameter))),
        ),
        Outcome::OutOfRange => (
            rules.and_then(|r| r.refused_schema.clone()),
            MatcherKind::Literal(json!(envelope.invalid_parameter)),
        ),
        Outcome::Invalid => (
            rules.and_then(|r| r.refused_schema.clone()),
            MatcherKind::Not(Box::new(literal(&envelope.success))),
        ),
    };
    c.expect.schema = schema.map(|s| (s, loc.clone()));
    c.expect.body = Some(at_pointer(envelope, on_outcome, loc));
    c.expect.inconclusive = match (outcome, rules.and_then(|r| r.inconclusive.as_ref())) {
        (Outcome::Accepted, Some(r)) => Some(Arc::new(Inconclusive {
            when: r.when.clone(),
            reason: r.reason.clone(),
            source: r.source.clone(),
        })),
        _ => None,
    };
    c
}

/// A matcher that applies `kind` at the envelope's outcome pointer.
fn at_pointer(envelope: &Envelope, kind: MatcherKind, loc: &Location) -> Matcher {
    let mut m = Matcher {
        kind,
        source: loc.clone(),
    };
    for token in envelope.outcome.trim_start_matches('/').split('/').rev() {
        m = Matcher {
            kind: MatcherKind::Object {
                entries: vec![(token.replace("~1", "/").replace("~0", "~"), m)],
                exact: false,
            },
            source: loc.clone(),
        };
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_cover_open_and_multiple_ranges() {
        assert_eq!(
            edges(&[(Some(1), Some(5000))]),
            (vec![1, 5000], vec![0, 5001])
        );
        assert_eq!(edges(&[(Some(0), None)]), (vec![0], vec![-1]));
        assert_eq!(
            edges(&[(Some(101), Some(59999)), (Some(70000), Some(999_999))]),
            (
                vec![101, 59999, 70000, 999_999],
                vec![100, 60000, 69999, 1_000_000]
            )
        );
    }

    fn generated(release: &str, options: &[(&str, &str)]) -> Vec<Case> {
        let opts = crate::case::LoadOptions {
            catalog: Some(crate::testing::catalog(options)),
            default_contract: Some("agentbyworkno".into()),
            release: Some(release.into()),
            ..crate::case::LoadOptions::default()
        };
        let text = "cases:\n  - name: b\n    generate: boundaries\n    request: {query: {ccId: 1, vdn: 1, agentId: 101}}\n";
        crate::case::load_str(std::path::Path::new("s/a.yaml"), text, &opts).unwrap()
    }

    /// The matcher a generated case puts on the outcome field: (key, what).
    fn on_outcome(c: &Case) -> (String, String) {
        let Some(MatcherKind::Object { entries, .. }) = c.expect.body.as_ref().map(|m| &m.kind)
        else {
            panic!("object matcher expected")
        };
        (entries[0].0.clone(), entries[0].1.kind.describe())
    }

    #[test]
    fn names_ranges_and_the_outcome_field_follow_the_release() {
        let cases = generated("2024-08", &[]);
        assert_eq!(cases.len(), 24);
        let find = |cases: &[Case], n: &str| {
            cases
                .iter()
                .find(|c| c.name == n)
                .cloned()
                .unwrap_or_else(|| panic!("{n}"))
        };
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert!(
            names.contains(&"b::agentId_60000_rejected")
                && names.contains(&"b::ccId_65535_accepted")
        );
        assert_eq!(
            on_outcome(&find(&cases, "b::agentId_string_rejected")),
            ("resultCode".into(), "not \"0100000\"".into())
        );
        assert_eq!(
            on_outcome(&find(&cases, "b::agentId_60000_rejected")),
            ("resultCode".into(), "\"0100002\"".into())
        );
        let accepted = find(&cases, "b::ccId_65535_accepted");
        assert_eq!(
            on_outcome(&accepted),
            ("resultCode".into(), "not \"0100002\"".into())
        );
        assert!(accepted.expect.inconclusive.is_some());
        assert_eq!(
            accepted.expect.schema.as_ref().map(|s| s.0.as_str()),
            Some("response.json")
        );
        assert!(find(&cases, "b::vdn_0_rejected")
            .expect
            .inconclusive
            .is_none());

        let widened = generated("2025-11", &[]);
        assert!(widened
            .iter()
            .any(|c| c.name == "b::agentId_69999_rejected"));
        assert!(widened
            .iter()
            .any(|c| c.name == "b::agentId_70000_accepted"));

        // In the 8.13 form the outcome is `result`, success "0".
        let legacy = generated("8.13", &[]);
        assert_eq!(
            on_outcome(&find(&legacy, "b::agentId_string_rejected")),
            ("result".into(), "not \"0\"".into())
        );

        // The body shape option shapes the generated requests like any other.
        let flat = generated("2024-08", &[("body_shape", "flat")]);
        assert_eq!(flat.len(), 24);
    }

    #[test]
    fn sizes_and_distinct_lists() {
        assert_eq!(
            size_cases(Some(1), Some(6000)),
            [(0, false), (1, true), (6000, true), (6001, false)]
        );
        assert_eq!(
            size_cases(Some(0), Some(10)),
            [(0, true), (10, true), (11, false)]
        );
        let list = distinct_values(59990, &[(Some(101), Some(59999))], 20);
        assert_eq!(list.len(), 20);
        assert_eq!(list[9], json!(59999));
        assert_eq!(list[10], json!(101));
        let mut seen = list.clone();
        seen.dedup();
        assert_eq!(seen.len(), 20);
    }
}
