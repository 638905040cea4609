//! Snapshot: the reply, normalised, equals the recorded one; every differing
//! path is a failure that points at the snapshot file and says how to
//! re-record it.

use crate::case::snapshot::{normalize, Snapshot};
use crate::result::{Failure, FailureKind};
use serde_json::{json, Value};

/// Compare the reply, normalised by `volatile`, with the recorded snapshot;
/// `cite` gives the spec row of a pointer.
pub fn check(
    snap: &Snapshot,
    status: u16,
    body: Option<&Value>,
    volatile: &dyn Fn(&str, &Value) -> bool,
    cite: &dyn Fn(&str) -> Option<String>,
) -> Vec<Failure> {
    let mut out = Vec::new();
    let fail = |pointer: Option<String>,
                message: String,
                expected: Option<Value>,
                actual: Option<Value>| Failure {
        kind: FailureKind::Snapshot,
        rule: pointer.as_deref().and_then(cite),
        pointer,
        message: format!(
            "{message} (re-record with `cms-contract run --bless` if the change is intended)"
        ),
        expected,
        actual,
        source: snap.source.clone(),
    };
    if status != snap.status {
        out.push(fail(
            None,
            format!(
                "HTTP status {status} differs from the snapshot's {}",
                snap.status
            ),
            Some(json!(snap.status)),
            Some(json!(status)),
        ));
    }
    let actual = body.map_or(Value::Null, |b| normalize(b, volatile));
    let mut diffs = Vec::new();
    diff("", Some(&snap.body), Some(&actual), &mut diffs);
    for (ptr, want, got) in diffs {
        let shown = if ptr.is_empty() {
            "the body".to_string()
        } else {
            ptr.clone()
        };
        let msg = match (&want, &got) {
            (Some(_), None) => format!("{shown} is missing; the snapshot has it"),
            (None, Some(_)) => format!("{shown} is not in the snapshot"),
            _ => format!("{shown} differs from the snapshot"),
        };
        out.push(fail(Some(ptr), msg, want, got));
    }
    out
}

fn diff(
    ptr: &str,
    a: Option<&Value>,
    b: Option<&Value>,
    out: &mut Vec<(String, Option<Value>, Option<Value>)>,
) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            for (k, v) in x {
                diff(&super::pointer_push(ptr, k), Some(v), y.get(k), out);
            }
            for (k, v) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                diff(&super::pointer_push(ptr, k), None, Some(v), out);
            }
        }
        (a, b) if a != b => out.push((ptr.to_string(), a.cloned(), b.cloned())),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::Location;

    fn volatile(k: &str, _: &Value) -> bool {
        k == "currentStateTime"
    }

    fn cite(p: &str) -> Option<String> {
        (p == "/resultDesc/status").then(|| "Table 4 row 2.9 status".to_owned())
    }

    #[test]
    fn differences_are_listed_per_path() {
        let snap = Snapshot {
            status: 200,
            body: json!({"resultDesc": {"status": 2, "currentStateTime": "$VOLATILE_INTEGER", "gone": 1}}),
            source: Location::file_only(std::path::Path::new("s/__snapshots__/a.json")),
        };
        let same = json!({"resultDesc": {"status": 2, "currentStateTime": 99, "gone": 1}});
        assert!(check(&snap, 200, Some(&same), &volatile, &cite).is_empty());
        let other = json!({"resultDesc": {"status": 4, "currentStateTime": "x", "new": 1}});
        let f = check(&snap, 401, Some(&other), &volatile, &cite);
        let ptrs: Vec<Option<&str>> = f.iter().map(|f| f.pointer.as_deref()).collect();
        assert_eq!(
            ptrs,
            [
                None,
                Some("/resultDesc/status"),
                Some("/resultDesc/currentStateTime"),
                Some("/resultDesc/gone"),
                Some("/resultDesc/new")
            ]
        );
        assert!(f[1].message.contains("--bless"));
        assert_eq!(f[1].rule.as_deref(), Some("Table 4 row 2.9 status"));
    }
}
