//! Expected-vs-actual JSON at the failing paths, as a unified diff.

use super::Style;
use crate::result::{CaseResult, FailureKind};
use crate::sanitize::terminal;
use serde_json::{Map, Value};

/// Build the two documents to compare: for each failure with a pointer, the
/// expected value and the actual value at that pointer. `None` when no
/// failure is about a value.
pub fn documents(result: &CaseResult) -> Option<(Value, Value)> {
    let actual_body = result.response.as_ref().and_then(|r| r.json.as_ref());
    let mut expected = Value::Object(Map::new());
    let mut actual = Value::Object(Map::new());
    let mut any = false;
    for f in &result.failures {
        // An invariant's message names the values it read; the object it was
        // checked on, whole, would only bury the diff.
        if f.kind == FailureKind::Invariant {
            continue;
        }
        let Some(ptr) = &f.pointer else { continue };
        let want = match (&f.kind, &f.expected) {
            (_, Some(v)) => Some(v.clone()),
            (FailureKind::Schema, None) => Some(Value::String(format!(
                "<{}>",
                f.rule.clone().unwrap_or_else(|| "schema".into())
            ))),
            _ => None,
        };
        let got = actual_body
            .and_then(|b| b.pointer(ptr))
            .cloned()
            .or_else(|| f.actual.clone());
        if ptr.is_empty() {
            if let Some(w) = want {
                expected = w;
            }
            if let Some(g) = got {
                actual = g;
            }
            any = true;
            continue;
        }
        if let Some(w) = want {
            insert(&mut expected, ptr, w);
        }
        if let Some(g) = got {
            insert(&mut actual, ptr, g);
        }
        any = true;
    }
    any.then_some((expected, actual))
}

fn insert(doc: &mut Value, ptr: &str, v: Value) {
    let tokens: Vec<String> = ptr
        .trim_start_matches('/')
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut cur = doc;
    for (i, t) in tokens.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else { return };
        if i + 1 == tokens.len() {
            // Keep the first (more specific) value when two failures share a path.
            m.entry(t.clone()).or_insert(v);
            return;
        }
        cur = m
            .entry(t.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// A unified diff of two JSON values (pretty-printed), `-` expected, `+` actual.
/// Each line is escaped for terminals ([`terminal`]) before it is painted:
/// serde escapes C0 controls in JSON strings, not DEL, C1 or bidi controls.
pub fn unified(expected: &Value, actual: &Value, style: Style) -> String {
    let a = pretty(expected);
    let b = pretty(actual);
    let diff = similar::TextDiff::from_lines(&a, &b);
    let mut out = String::new();
    for hunk in diff
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .iter_hunks()
    {
        out.push_str(&style.paint(super::palette::HUNK, &hunk.header().to_string()));
        out.push('\n');
        for change in hunk.iter_changes() {
            let line = terminal(change.value().trim_end_matches('\n'));
            match change.tag() {
                similar::ChangeTag::Delete => {
                    out.push_str(&style.paint(super::palette::EXPECTED, &format!("-{line}")))
                }
                similar::ChangeTag::Insert => {
                    out.push_str(&style.paint(super::palette::ACTUAL, &format!("+{line}")))
                }
                similar::ChangeTag::Equal => out.push_str(&format!(" {line}")),
            }
            out.push('\n');
        }
    }
    out
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    s.push('\n');
    s
}
