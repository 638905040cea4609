//! A case file whose `expect.body` comes from the fuzzer, checked against a
//! JSON value from the fuzzer. `check::body::check` must never panic, agree
//! with `matches`, and point every failure at a place in the value (or, for
//! a missing key, at a key of an object that is there).

#![no_main]

use arbitrary::Arbitrary;
use cms_contract::case::{load_str, LoadOptions, Vars};
use cms_contract::check::body;
use cms_contract::contract::table_row;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Number, Value};
use std::path::Path;
use std::sync::OnceLock;

/// Keys generated documents share with typical matchers; `x/y`, `t~1` and
/// the empty key exercise JSON-pointer escaping.
const KEYS: &[&str] = &[
    "result",
    "resultCode",
    "resultDesc",
    "resultDatas",
    "workNo",
    "status",
    "a",
    "x/y",
    "t~1",
    "",
];

/// Deeper values are cut off (as null), to keep every run fast.
const MAX_DEPTH: usize = 16;

#[derive(Arbitrary, Debug)]
enum Key {
    Known(u8),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(Key, Json)>),
}

impl Json {
    fn to_value(&self, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => Value::from(*i),
            Json::UInt(u) => Value::from(*u),
            Json::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Json::Str(s) => Value::String(s.clone()),
            Json::Array(items) => {
                Value::Array(items.iter().map(|j| j.to_value(depth + 1)).collect())
            }
            Json::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let k = match k {
                            Key::Known(i) => KEYS[usize::from(*i) % KEYS.len()].to_string(),
                            Key::Other(s) => s.clone(),
                        };
                        (k, v.to_value(depth + 1))
                    })
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// YAML for `expect.body`, indented under it.
    body: String,
    /// `match: exact` instead of the default subset match.
    exact: bool,
    /// The reply body to check.
    actual: Json,
}

fn options() -> &'static LoadOptions {
    static OPTIONS: OnceLock<LoadOptions> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut vars = Vars::new();
        vars.set("agentId", "101", "fuzz");
        vars.set("vdn", "1", "fuzz");
        LoadOptions {
            vars,
            ..LoadOptions::default()
        }
    })
}

fuzz_target!(|input: Input| {
    let mut text = String::from(
        "cases:\n  - name: fuzz\n    request: {method: POST, path: /p}\n    expect:\n",
    );
    if input.exact {
        text.push_str("      match: exact\n");
    }
    text.push_str("      body:\n");
    for line in input.body.lines() {
        text.push_str("        ");
        text.push_str(line);
        text.push('\n');
    }
    let Ok(cases) = load_str(Path::new("cases/fuzz/matchers.yaml"), &text, options()) else {
        return;
    };
    let actual = input.actual.to_value(0);
    for case in &cases {
        let Some(m) = &case.expect.body else {
            continue;
        };
        let failures = body::check(m, &actual);
        assert_eq!(body::matches(m, Some(&actual)), failures.is_empty());
        for f in &failures {
            let p = f.pointer.as_deref().expect("a body failure has a pointer");
            let resolves = actual.pointer(p).is_some();
            let parent_resolves = p
                .rsplit_once('/')
                .is_some_and(|(parent, _)| actual.pointer(parent).is_some_and(Value::is_object));
            assert!(
                resolves || parent_resolves,
                "pointer {p:?} resolves neither itself nor its parent in {actual}"
            );
            assert!(!f.message.is_empty());
            assert_eq!(f.rule, table_row(p));
        }
    }
});
