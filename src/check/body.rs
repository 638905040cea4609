//! Body matchers: walk the expected tree against the reply and collect every
//! mismatch with its JSON pointer and the case line that asked for it.

use super::pointer_push;
use crate::case::{Matcher, MatcherKind};
use crate::result::{Failure, FailureKind};
use serde_json::{Number, Value};
use std::cmp::Ordering;

/// Every mismatch between `m` and `actual`.
pub fn check(m: &Matcher, actual: &Value, cite: &dyn Fn(&str) -> Option<String>) -> Vec<Failure> {
    let mut out = Vec::new();
    walk(m, Some(actual), "", &mut out);
    for f in &mut out {
        f.rule = f.pointer.as_deref().and_then(cite);
    }
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
        rule: None,
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
            let ok = a.as_number().is_some_and(|x| {
                let above = |(v, inc): &(Number, bool)| {
                    cmp_numbers(x, v).is_some_and(|o| o.is_gt() || (*inc && o.is_eq()))
                };
                let below = |(v, inc): &(Number, bool)| {
                    cmp_numbers(x, v).is_some_and(|o| o.is_lt() || (*inc && o.is_eq()))
                };
                min.as_ref().is_none_or(above) && max.as_ref().is_none_or(below)
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
                walk(sub, crate::value::field(obj, k), &pointer_push(ptr, k), out);
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

/// JSON equality where numbers compare by value (`1` equals `1.0`), exactly
/// (`9007199254740993` is not `9007199254740992`, which f64 cannot tell apart).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y).is_some_and(Ordering::is_eq),
        _ => a == b,
    }
}

/// Exact order of two JSON numbers: integers (i64 or u64) as integers, an
/// integer against a float by the float's exact value; never through a
/// lossy conversion. `None` only if a float is NaN, which JSON cannot hold.
pub fn cmp_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    match (exact(a), exact(b)) {
        (Exact::Int(i), Exact::Int(j)) => Some(i.cmp(&j)),
        (Exact::Float(x), Exact::Float(y)) => x.partial_cmp(&y),
        (Exact::Float(x), Exact::Int(j)) => cmp_float_int(x, j),
        (Exact::Int(i), Exact::Float(y)) => cmp_float_int(y, i).map(Ordering::reverse),
    }
}

/// A JSON number without loss: every i64 and u64 fits an i128.
enum Exact {
    Int(i128),
    Float(f64),
}

fn exact(n: &Number) -> Exact {
    if let Some(u) = n.as_u64() {
        Exact::Int(i128::from(u))
    } else if let Some(i) = n.as_i64() {
        Exact::Int(i128::from(i))
    } else {
        Exact::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// `x` against the integer `j`, exactly.
fn cmp_float_int(x: f64, j: i128) -> Option<Ordering> {
    // 2^127: every float below it in magnitude truncates to an exact i128.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    if x.is_nan() {
        return None;
    }
    if x >= LIMIT {
        return Some(Ordering::Greater);
    }
    if x < -LIMIT {
        return Some(Ordering::Less);
    }
    let whole = x.trunc();
    Some((whole as i128).cmp(&j).then(if x > whole {
        Ordering::Greater
    } else if x < whole {
        Ordering::Less
    } else {
        Ordering::Equal
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Citations as agentbyworkno's schemas give them.
    fn cite(p: &str) -> Option<String> {
        (p == "/resultDesc/status").then(|| "Table 4 row 2.9 status".to_owned())
    }
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
                                    min: Some((0.into(), true)),
                                    max: Some((8.into(), true)),
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
        let f = check(&want, &actual, &cite);
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
        assert!(check(&want, &json!({"a": 1.0}), &cite).is_empty());
        let f = check(&want, &json!({"a": 1, "b": 2}), &cite);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].pointer.as_deref(), Some("/b"));
    }

    #[test]
    fn integers_compare_exactly_beyond_2_pow_53() {
        let (a, b) = (
            json!(9_007_199_254_740_993_u64),
            json!(9_007_199_254_740_992_u64),
        );
        assert!(!json_eq(&a, &b), "f64 would say equal");
        assert!(!json_eq(&a, &json!(9_007_199_254_740_992.0)));
        assert!(json_eq(&b, &json!(9_007_199_254_740_992.0)));
        assert!(json_eq(&json!(u64::MAX), &json!(u64::MAX)));
        assert!(!json_eq(&json!(u64::MAX), &json!(u64::MAX - 1)));
        assert!(!json_eq(&json!(-1), &json!(u64::MAX)));
        assert!(json_eq(&json!(i64::MIN), &json!(i64::MIN)));
        assert!(json_eq(&json!(-0.0), &json!(0)));
        let n = |v: Value| v.as_number().cloned().unwrap();
        assert_eq!(
            cmp_numbers(&n(json!(1.5)), &n(json!(1))),
            Some(Ordering::Greater)
        );
        assert_eq!(
            cmp_numbers(&n(json!(-1.5)), &n(json!(-1))),
            Some(Ordering::Less)
        );
        assert_eq!(
            cmp_numbers(&n(json!(1e300)), &n(json!(u64::MAX))),
            Some(Ordering::Greater)
        );
        assert_eq!(
            cmp_numbers(&n(json!(-1e300)), &n(json!(i64::MIN))),
            Some(Ordering::Less)
        );
        assert_eq!(
            cmp_numbers(&n(json!(i64::MIN)), &n(json!(u64::MAX))),
            Some(Ordering::Less)
        );
        // Ranges with integer bounds past 2^53 are exact too.
        let range = |min: Value, max: Value| {
            m(MatcherKind::Range {
                min: Some((n(min), true)),
                max: Some((n(max), false)),
            })
        };
        let r = range(json!(9_007_199_254_740_993_u64), json!(u64::MAX));
        assert!(!matches(&r, Some(&json!(9_007_199_254_740_992_u64))));
        assert!(matches(&r, Some(&json!(9_007_199_254_740_993_u64))));
        assert!(matches(&r, Some(&json!(u64::MAX - 1))));
        assert!(
            !matches(&r, Some(&json!(u64::MAX))),
            "the upper bound is exclusive"
        );
        assert!(!matches(&r, Some(&json!("9007199254740993"))));
        let r = range(json!(0), json!(1.5));
        assert!(matches(&r, Some(&json!(1))) && matches(&r, Some(&json!(1.4))));
        assert!(!matches(&r, Some(&json!(1.5))) && !matches(&r, Some(&json!(-0.5))));
    }

    #[test]
    fn case_file_numbers_past_2_pow_53_stay_exact() {
        let text = "cases:\n  - name: a\n    request: {method: POST, path: /p}\n    expect:\n      body:\n        workNo: 9007199254740993\n        big: 18446744073709551615\n        loginDate: {$gte: 9007199254740993, $lte: 9223372036854775808}\n";
        let cases = crate::case::load_str(
            std::path::Path::new("s/a.yaml"),
            text,
            &crate::case::LoadOptions::default(),
        )
        .unwrap();
        let want = cases[0].expect.body.as_ref().unwrap();
        let good = json!({"workNo": 9_007_199_254_740_993_u64, "big": u64::MAX, "loginDate": 9_223_372_036_854_775_808_u64});
        assert!(check(want, &good, &cite).is_empty());
        let bad = json!({"workNo": 9_007_199_254_740_992_u64, "big": u64::MAX - 1, "loginDate": 9_007_199_254_740_992_u64});
        let ptrs: Vec<_> = check(want, &bad, &cite)
            .into_iter()
            .map(|f| f.pointer.unwrap())
            .collect();
        assert_eq!(ptrs, ["/workNo", "/big", "/loginDate"]);
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
        assert!(check(&absent, &json!({}), &cite).is_empty());
        assert_eq!(check(&absent, &json!({"resultDatas": {}}), &cite).len(), 1);
    }
}
