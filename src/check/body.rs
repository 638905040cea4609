//! Body matchers: walk the expected tree against the reply and collect every
//! mismatch with its JSON pointer and the case line that asked for it.

use super::pointer_push;
use crate::case::{Matcher, MatcherKind};
use crate::contract::table_row;
use crate::run::{Failure, FailureKind};
use serde_json::Value;

/// Every mismatch between `m` and `actual`.
pub fn check(m: &Matcher, actual: &Value) -> Vec<Failure> {
    let mut out = Vec::new();
    walk(m, Some(actual), "", &mut out);
    out
}

/// Does `actual` satisfy `m`? (No failures collected.)
pub fn matches(m: &Matcher, actual: Option<&Value>) -> bool {
    let mut out = Vec::new();
    walk(m, actual, "", &mut out);
    out.is_empty()
}

fn fail(m: &Matcher, ptr: &str, message: String, actual: Option<&Value>, out: &mut Vec<Failure>) {
    out.push(Failure {
        kind: FailureKind::Body,
        pointer: Some(ptr.to_string()),
        message,
        expected: Some(m.display_value()),
        actual: actual.cloned(),
        source: m.source.clone(),
        rule: table_row(ptr),
    });
}

fn show(ptr: &str) -> &str {
    if ptr.is_empty() {
        "the body"
    } else {
        ptr
    }
}

fn walk(m: &Matcher, actual: Option<&Value>, ptr: &str, out: &mut Vec<Failure>) {
    let Some(a) = actual else {
        let absence_ok = match &m.kind {
            MatcherKind::Absent => true,
            MatcherKind::OneOf(alts) => alts.iter().any(|alt| matches(alt, None)),
            _ => false,
        };
        if !absence_ok {
            fail(m, ptr, format!("{} is missing", show(ptr)), None, out);
        }
        return;
    };
    match &m.kind {
        MatcherKind::Absent => fail(
            m,
            ptr,
            format!("{} must be absent", show(ptr)),
            Some(a),
            out,
        ),
        MatcherKind::Any => {}
        MatcherKind::Literal(want) => {
            if !json_eq(want, a) {
                fail(
                    m,
                    ptr,
                    format!("{} is {a}, expected {want}", show(ptr)),
                    Some(a),
                    out,
                );
            }
        }
        MatcherKind::Type(types) => {
            if !types.iter().any(|t| t.accepts(a)) {
                let found = crate::case::JsonType::of(a).name();
                fail(
                    m,
                    ptr,
                    format!("{} is {found}, expected {}", show(ptr), m.kind.describe()),
                    Some(a),
                    out,
                );
            }
        }
        MatcherKind::Regex(re) => match a.as_str() {
            Some(s) if re.is_match(s) => {}
            _ => fail(
                m,
                ptr,
                format!(
                    "{} is {a}, expected a string that {}",
                    show(ptr),
                    m.kind.describe()
                ),
                Some(a),
                out,
            ),
        },
        MatcherKind::Range { min, max } => {
            let ok = a.as_f64().is_some_and(|x| {
                min.is_none_or(|(v, inc)| if inc { x >= v } else { x > v })
                    && max.is_none_or(|(v, inc)| if inc { x <= v } else { x < v })
            });
            if !ok {
                fail(
                    m,
                    ptr,
                    format!("{} is {a}, expected {}", show(ptr), m.kind.describe()),
                    Some(a),
                    out,
                );
            }
        }
        MatcherKind::Not(inner) => {
            if matches(inner, Some(a)) {
                fail(
                    m,
                    ptr,
                    format!("{} is {a}, expected {}", show(ptr), m.kind.describe()),
                    Some(a),
                    out,
                );
            }
        }
        MatcherKind::OneOf(alts) => {
            if !alts.iter().any(|alt| matches(alt, Some(a))) {
                fail(
                    m,
                    ptr,
                    format!(
                        "{} is {a}, expected one of {}",
                        show(ptr),
                        m.kind.describe()
                    ),
                    Some(a),
                    out,
                );
            }
        }
        MatcherKind::Object { entries, exact } => {
            let Some(obj) = a.as_object() else {
                fail(
                    m,
                    ptr,
                    format!("{} is {a}, expected an object", show(ptr)),
                    Some(a),
                    out,
                );
                return;
            };
            for (k, sub) in entries {
                walk(sub, obj.get(k), &pointer_push(ptr, k), out);
            }
            if *exact {
                for (k, v) in obj {
                    if !entries.iter().any(|(ek, _)| ek == k) {
                        let p = pointer_push(ptr, k);
                        fail(
                            m,
                            &p,
                            format!("{p} is not expected (exact match)"),
                            Some(v),
                            out,
                        );
                    }
                }
            }
        }
        MatcherKind::Array(items) => {
            let Some(arr) = a.as_array() else {
                fail(
                    m,
                    ptr,
                    format!("{} is {a}, expected an array", show(ptr)),
                    Some(a),
                    out,
                );
                return;
            };
            if arr.len() != items.len() {
                fail(
                    m,
                    ptr,
                    format!(
                        "{} has {} items, expected {}",
                        show(ptr),
                        arr.len(),
                        items.len()
                    ),
                    Some(a),
                    out,
                );
                return;
            }
            for (i, (sub, v)) in items.iter().zip(arr).enumerate() {
                walk(sub, Some(v), &pointer_push(ptr, &i.to_string()), out);
            }
        }
    }
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{JsonType, Matcher, MatcherKind};
    use crate::location::Location;
    use serde_json::json;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn m(kind: MatcherKind) -> Matcher {
        Matcher {
            kind,
            source: Location::new(Arc::new(PathBuf::from("c.yaml")), 7, 9),
        }
    }
    fn obj(entries: Vec<(&str, Matcher)>, exact: bool) -> Matcher {
        m(MatcherKind::Object {
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            exact,
        })
    }

    #[test]
    fn collects_every_failure_with_pointer_line_and_row() {
        let want = obj(
            vec![
                ("resultCode", m(MatcherKind::Literal(json!("0100000")))),
                (
                    "resultDesc",
                    obj(
                        vec![
                            ("workNo", m(MatcherKind::Type(vec![JsonType::Integer]))),
                            (
                                "status",
                                m(MatcherKind::Range {
                                    min: Some((0.0, true)),
                                    max: Some((8.0, true)),
                                }),
                            ),
                            (
                                "name",
                                m(MatcherKind::Regex(regex::Regex::new("^HW").unwrap())),
                            ),
                            ("gone", m(MatcherKind::Absent)),
                        ],
                        false,
                    ),
                ),
            ],
            false,
        );
        let actual = json!({"resultCode": "0100002", "resultDesc": {"workNo": "101", "status": 11, "name": "HW1", "extra": 1}});
        let f = check(&want, &actual);
        let ptrs: Vec<_> = f.iter().map(|f| f.pointer.clone().unwrap()).collect();
        assert_eq!(
            ptrs,
            ["/resultCode", "/resultDesc/workNo", "/resultDesc/status"]
        );
        assert_eq!(f[2].rule.as_deref(), Some("Table 4 row 2.9 status"));
        assert_eq!(f[0].source.line, 7);
        assert_eq!(
            f[1].message,
            "/resultDesc/workNo is string, expected integer"
        );
    }

    #[test]
    fn exact_mode_rejects_extra_keys_and_numbers_compare_by_value() {
        let want = obj(vec![("a", m(MatcherKind::Literal(json!(1))))], true);
        assert!(check(&want, &json!({"a": 1.0})).is_empty());
        let f = check(&want, &json!({"a": 1, "b": 2}));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].pointer.as_deref(), Some("/b"));
    }

    #[test]
    fn not_one_of_and_absent() {
        let ne = m(MatcherKind::Not(Box::new(m(MatcherKind::Literal(json!(
            "0"
        ))))));
        assert!(matches(&ne, Some(&json!("1"))));
        assert!(!matches(&ne, Some(&json!("0"))));
        let alt = m(MatcherKind::OneOf(vec![
            m(MatcherKind::Type(vec![JsonType::Null])),
            m(MatcherKind::Type(vec![JsonType::String])),
        ]));
        assert!(matches(&alt, Some(&json!(null))) && matches(&alt, Some(&json!("x"))));
        assert!(!matches(&alt, Some(&json!(1))));
        let absent = obj(vec![("resultDatas", m(MatcherKind::Absent))], false);
        assert!(check(&absent, &json!({})).is_empty());
        assert_eq!(check(&absent, &json!({"resultDatas": {}})).len(), 1);
    }
}
