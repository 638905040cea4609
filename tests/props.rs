//! Property tests: the case loader, the body matchers and the auth helpers
//! never panic on any input, and what they return keeps its promises:
//! located load errors, JSON pointers that resolve in the reply, and exact
//! round-trips for timestamps and percent-encoding.
//!
//! Bounded and seeded, so a run takes a few seconds in a debug build and
//! finds the same things every time. `PROPTEST_CASES=N` runs N cases per
//! property instead; `PROPTEST_RNG_SEED=S` explores another part of the
//! input space. Failures are not persisted to files (tests never write to
//! the source tree); the printed minimal input is the regression case.

use cms_contract::auth::{self, AuthError, CanonicalInput, Credentials, Timestamp};
use cms_contract::case::{load_str, JsonType, LoadOptions, Matcher, MatcherKind, Vars};
use cms_contract::check::body;
use cms_contract::location::Location;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Map, Number, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `cases` per property unless `PROPTEST_CASES` says otherwise; a fixed
/// seed unless `PROPTEST_RNG_SEED` says otherwise; no regression files.
fn config(cases: u32) -> Config {
    let mut c = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = RngSeed::Fixed(0x00C0_FFEE);
    }
    c.failure_persistence = None;
    c
}

// ---------------------------------------------------------------------------
// The case loader
// ---------------------------------------------------------------------------

/// The file name every generated case file is loaded as.
const CASE_FILE: &str = "cases/props/generated.yaml";

/// The shipped contracts, loaded once.
fn catalog() -> std::sync::Arc<cms_contract::schema::SchemaCatalog> {
    use cms_contract::contract::{load_all, ContractSet, OptionValues};
    static CATALOG: std::sync::OnceLock<std::sync::Arc<cms_contract::schema::SchemaCatalog>> =
        std::sync::OnceLock::new();
    CATALOG
        .get_or_init(|| {
            let set = std::sync::Arc::new(ContractSet::new(
                load_all(&Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas"))
                    .expect("contracts"),
            ));
            let options = OptionValues::resolve(&set, &[]).expect("defaults");
            std::sync::Arc::new(cms_contract::schema::SchemaCatalog::new(set, options))
        })
        .clone()
}

/// The citation of a reply pointer, as the runner gives it: the title that
/// governs it in agentbyworkno's response.json.
fn table_row(pointer: &str) -> Option<String> {
    let c = catalog()
        .contracts()
        .get("agentbyworkno")
        .expect("shipped")
        .clone();
    let set = catalog().get(&c, c.default_release()).expect("compiles");
    set.title_at("response.json", pointer)
}

fn load_options() -> LoadOptions {
    let mut vars = Vars::new();
    for (k, v) in [
        ("ccId", "1"),
        ("vdn", "1"),
        ("agentId", "101"),
        ("agent", "101"),
        ("known_agents", "101..=103"),
        ("who", "HW"),
    ] {
        vars.set(k, v, "props");
    }
    LoadOptions {
        vars,
        catalog: Some(catalog()),
        default_contract: Some("agentbyworkno".into()),
        ..LoadOptions::default()
    }
}

/// Lines in `text` as YAML counts them (`\n`, `\r\n` and a lone `\r` end a line).
fn yaml_lines(text: &str) -> usize {
    let b = text.as_bytes();
    let breaks = b
        .iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')))
        .count();
    breaks + 1
}

/// Load `text` and check what comes back: cases located in the file, or
/// errors that are each located in the file, inside it, with a message,
/// and that render without panicking.
fn check_load(text: &str) -> Result<(), TestCaseError> {
    let path = Path::new(CASE_FILE);
    match load_str(path, text, &load_options()) {
        Ok(cases) => {
            prop_assert!(!cases.is_empty(), "Ok with zero cases");
            for c in &cases {
                prop_assert_eq!(c.source.file.as_path(), path);
                prop_assert!(!c.name.is_empty());
            }
        }
        Err(errs) => {
            prop_assert!(!errs.0.is_empty(), "Err with zero errors");
            let lines = yaml_lines(text);
            for e in &errs.0 {
                prop_assert_eq!(e.location.file.as_path(), path, "error {:?}", e);
                prop_assert!(!e.message.trim().is_empty(), "empty message: {:?}", e);
                prop_assert!(
                    e.location.line as usize <= lines + 1,
                    "error line {} beyond the {} lines of the text: {:?}",
                    e.location.line,
                    lines,
                    e
                );
                let shown = e.render_with_source(Some(text));
                prop_assert!(shown.starts_with("error: "), "{}", shown);
            }
            let _ = errs.render();
        }
    }
    Ok(())
}

/// Pieces of YAML syntax and of our case format, glued at random: mostly
/// invalid documents that reach deep into the YAML parser's error paths.
const YAML_TOKENS: &[&str] = &[
    "cases:",
    "cases: []",
    "\n",
    "\n  ",
    "\n    ",
    "  ",
    "- ",
    "-",
    "name: ",
    "x",
    "one",
    "request:",
    "expect:",
    "body:",
    "query:",
    "status: ",
    "200",
    "[",
    "]",
    "{",
    "}",
    ",",
    ": ",
    ":",
    "? ",
    "&a ",
    "*a",
    "!!str ",
    "!tag ",
    "|\n",
    ">-\n",
    "'",
    "\"",
    "\\",
    "#",
    "$integer",
    "$intger",
    "{$gte: 1}",
    "${agentId}",
    "${nope}",
    "${",
    "\t",
    "\r",
    "\r\n",
    "~",
    "101..=103",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "\u{feff}",
    "é",
    "\u{0}",
    "<<: ",
    "1e999",
    ".nan",
];

fn yaml_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(YAML_TOKENS), 0..60).prop_map(|v| v.concat())
}

/// A YAML value tree, emitted by [`emit`].
#[derive(Debug, Clone)]
enum Y {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
}

fn map(entries: Vec<(&str, Option<Y>)>) -> Y {
    Y::Map(
        entries
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect(),
    )
}

/// Strings a case file is made of: keywords, markers, variables, typos.
const WORDS: &[&str] = &[
    "",
    "POST",
    "GET",
    "post",
    "/rest/cmsapp/v1/openapi/agent/agentbyworkno",
    "/p?x=1",
    "application/json;charset=UTF-8",
    "${agentId}",
    "${vdn}",
    "${known_agents}",
    "id-${agent}-${who}",
    "${undefined}",
    "${unclosed",
    "$any",
    "$absent",
    "$integer",
    "$number",
    "$string",
    "$bool",
    "$null",
    "$object",
    "$array",
    "$intger",
    "$$literal",
    "$",
    "signed",
    "none",
    "blank",
    "garbled",
    "wrong_signature",
    "tampered_body",
    "stale_timestamp",
    "signd",
    "boundaries",
    "boundary",
    "subset",
    "exact",
    "exakt",
    "response.json",
    "success.json",
    "error.json",
    "nope.json",
    "legacy_mirror",
    "echo_work_no",
    "echo_vdn",
    "result_agrees",
    "unknown_fields",
    "echo_workno",
    "101..=103",
    "101, 102 ,103",
    "5..=1",
    "1..=200000",
    "a..=b",
    "0100000",
    "^HW[0-9]+$",
    "([unclosed",
    "string",
    "integer",
    "intger",
    "null",
    "true",
    "1.5",
    "ok name",
    "ünïcödé",
    "multi\nline",
    "tab\there",
    "quote\"and'apostrophe",
    "colon: space",
    "# not a comment",
];

/// Mapping keys: the real ones, matcher keys, and near misses.
const KEYS: &[&str] = &[
    "cases",
    "name",
    "description",
    "tags",
    "request",
    "expect",
    "generate",
    "each",
    "release",
    "var",
    "values",
    "method",
    "path",
    "headers",
    "auth",
    "query",
    "body",
    "raw_body",
    "status",
    "json",
    "schema",
    "match",
    "rules",
    "rejected",
    "ccId",
    "vdn",
    "agentId",
    "resultCode",
    "resultDesc",
    "workNo",
    "Content-Type",
    "Authorization",
    "$type",
    "$regex",
    "$gte",
    "$gt",
    "$lte",
    "$lt",
    "$ne",
    "$one_of",
    "$exact",
    "$nope",
    "expcet",
    "",
    "with space",
    "x/y",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(WORDS).prop_map(str::to_string),
        1 => "[a-zA-Z0-9_$.{}=/ -]{0,12}",
        1 => any::<String>(),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(KEYS).prop_map(str::to_string),
        1 => "[a-z$_]{1,6}",
    ]
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => prop::sample::select(&[0i64, 1, 100, 101, 120, 200, 401, 555, 599, 600, 5000, 5001, 59999, 60000, -1][..]),
        1 => any::<i64>(),
    ]
}

fn scalar() -> BoxedStrategy<Y> {
    prop_oneof![
        1 => Just(Y::Null),
        1 => any::<bool>().prop_map(Y::Bool),
        2 => int().prop_map(Y::Int),
        1 => prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(1.5)
        ]
        .prop_map(Y::Float),
        4 => word().prop_map(Y::Str),
    ]
    .boxed()
}

fn value() -> BoxedStrategy<Y> {
    scalar()
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Y::Seq),
                prop::collection::vec((key(), inner), 0..4).prop_map(Y::Map),
            ]
        })
        .boxed()
}

/// Mostly a plausible value for a field, sometimes anything at all.
fn field(plausible: impl Strategy<Value = Y> + 'static) -> impl Strategy<Value = Option<Y>> {
    prop::option::weighted(
        0.5,
        prop_oneof![12 => plausible.boxed(), 1 => value().boxed()],
    )
}

fn pick(words: &'static [&'static str]) -> impl Strategy<Value = Y> {
    prop::sample::select(words).prop_map(|s| Y::Str(s.to_string()))
}

fn request() -> BoxedStrategy<Y> {
    let query = prop::collection::vec(
        (
            prop::sample::select(&["ccId", "vdn", "agentId", "extra"][..]),
            prop_oneof![int().prop_map(Y::Int), scalar()],
        ),
        0..4,
    )
    .prop_map(|kv| Y::Map(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    let headers = prop::collection::vec(
        (
            prop::sample::select(&["Content-Type", "X-Trace", "authorization", "Host"][..]),
            scalar(),
        ),
        0..3,
    )
    .prop_map(|kv| Y::Map(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    (
        prop::option::weighted(0.9, pick(&["POST", "GET", "post", "${agentId}", "${nope}"])),
        prop::option::weighted(
            0.9,
            pick(&[
                "/rest/cmsapp/v1/openapi/agent/agentbyworkno",
                "/p?x=1&y",
                "/${agent}",
            ]),
        ),
        field(headers),
        field(pick(&[
            "signed",
            "none",
            "blank",
            "garbled",
            "wrong_signature",
            "tampered_body",
            "stale_timestamp",
            "signd",
        ])),
        field(query),
        prop::option::weighted(0.2, value()),
        prop::option::weighted(0.1, word().prop_map(Y::Str)),
    )
        .prop_map(|(method, path, headers, auth, query, body, raw_body)| {
            map(vec![
                ("method", method),
                ("path", path),
                ("headers", headers),
                ("auth", auth),
                ("query", query),
                ("body", body),
                ("raw_body", raw_body),
            ])
        })
        .boxed()
}

fn expect() -> BoxedStrategy<Y> {
    let status = prop_oneof![
        int().prop_map(Y::Int),
        prop::collection::vec(int().prop_map(Y::Int), 0..3).prop_map(Y::Seq),
    ];
    let rules = prop::collection::vec(
        pick(&[
            "legacy_mirror",
            "echo_work_no",
            "echo_vdn",
            "result_agrees",
            "unknown_fields",
            "echo_workno",
        ]),
        0..3,
    )
    .prop_map(Y::Seq);
    (
        field(status),
        field(any::<bool>().prop_map(Y::Bool)),
        field(pick(&[
            "response.json",
            "success.json",
            "none",
            "nope.json",
        ])),
        prop::option::weighted(0.7, value()),
        field(pick(&["subset", "exact", "exakt"])),
        field(rules),
        field(any::<bool>().prop_map(Y::Bool)),
    )
        .prop_map(|(status, json, schema, body, mode, rules, rejected)| {
            map(vec![
                ("status", status),
                ("json", json),
                ("schema", schema),
                ("body", body),
                ("match", mode),
                ("rules", rules),
                ("rejected", rejected),
            ])
        })
        .boxed()
}

fn case() -> BoxedStrategy<Y> {
    let name = prop_oneof![
        12 => "[a-z_][a-z0-9_-]{0,8}".prop_map(Y::Str),
        1 => scalar(),
    ];
    let each = (
        pick(&["agent", "a", "x y"]),
        prop_oneof![
            pick(&["101..=103", "101, 102", "5..=1", "1..=200000", "a..=b", ""]),
            prop::collection::vec(int().prop_map(Y::Int), 0..3).prop_map(Y::Seq),
        ],
    )
        .prop_map(|(var, values)| map(vec![("var", Some(var)), ("values", Some(values))]));
    (
        prop::option::weighted(0.95, name),
        prop::option::weighted(0.3, word().prop_map(Y::Str)),
        prop::option::weighted(
            0.3,
            prop::collection::vec(word().prop_map(Y::Str), 0..3).prop_map(Y::Seq),
        ),
        prop::option::weighted(0.9, request()),
        prop::option::weighted(0.9, expect()),
        // `generate: boundaries` reads the request schema file: keep it rare.
        prop::option::weighted(0.1, pick(&["boundaries", "boundary"])),
        prop::option::weighted(0.15, each),
        prop::option::weighted(0.15, pick(&["2024-08", "2025-11", "8.13", "2099-01"])),
        prop::option::weighted(0.05, (key(), value())),
    )
        .prop_map(
            |(name, description, tags, request, expect, generate, each, release, extra)| {
                let mut m = map(vec![
                    ("name", name),
                    ("description", description),
                    ("tags", tags),
                    ("request", request),
                    ("expect", expect),
                    ("generate", generate),
                    ("each", each),
                    ("release", release),
                ]);
                if let (Y::Map(entries), Some((k, v))) = (&mut m, extra) {
                    entries.push((k, v));
                }
                m
            },
        )
        .boxed()
}

/// A matcher tree built only from valid spellings: literals, marker words
/// and marker maps, nested in ordinary objects and lists.
fn clean_matcher() -> BoxedStrategy<Y> {
    let leaf = prop_oneof![
        int().prop_map(Y::Int),
        any::<bool>().prop_map(Y::Bool),
        Just(Y::Null),
        pick(&[
            "HW35154101",
            "0100000",
            "$any",
            "$absent",
            "$integer",
            "$number",
            "$string",
            "$bool",
            "$null",
            "$object",
            "$array",
            "$$dollar",
            "${agentId}",
            "id-${agent}-${who}",
        ]),
        (int(), int()).prop_map(|(lo, hi)| {
            map(vec![("$gte", Some(Y::Int(lo))), ("$lt", Some(Y::Int(hi)))])
        }),
        pick(&["^HW", "[0-9]+"]).prop_map(|r| map(vec![("$regex", Some(r))])),
        pick(&["string", "null", "integer"])
            .prop_map(|t| map(vec![("$type", Some(Y::Seq(vec![t])))])),
        int().prop_map(|i| map(vec![("$ne", Some(Y::Int(i)))])),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(
                (
                    prop::sample::select(&["resultCode", "resultDesc", "workNo", "a", "x/y"][..]),
                    inner.clone()
                ),
                0..4,
            )
            .prop_map(|kv| Y::Map(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            prop::collection::vec(inner.clone(), 0..3).prop_map(Y::Seq),
            prop::collection::vec(inner.clone(), 1..3)
                .prop_map(|alts| map(vec![("$one_of", Some(Y::Seq(alts)))])),
            inner.prop_map(|m| map(vec![("$exact", Some(m))])),
        ]
    })
    .boxed()
}

/// A case made only of valid spellings, so that it loads and the build
/// layer (variables, matchers, rules, `each`) runs to the end.
fn clean_case() -> BoxedStrategy<Y> {
    let query = prop::collection::vec(
        (
            prop::sample::select(&["ccId", "vdn", "agentId"][..]),
            prop_oneof![int().prop_map(Y::Int), pick(&["${agentId}", "${vdn}", "x"])],
        ),
        0..4,
    )
    .prop_map(|kv| {
        let mut seen = Vec::new();
        Y::Map(
            kv.into_iter()
                .filter(|(k, _)| {
                    let fresh = !seen.contains(k);
                    seen.push(*k);
                    fresh
                })
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    });
    let request = (
        pick(&["POST", "GET", "post", "${agentId}"]),
        pick(&[
            "/rest/cmsapp/v1/openapi/agent/agentbyworkno",
            "/p?x=1&y",
            "/${agent}",
        ]),
        prop::option::of(pick(&["application/json", "text/plain"])),
        prop::option::of(pick(&[
            "signed",
            "none",
            "blank",
            "garbled",
            "wrong_signature",
            "tampered_body",
            "stale_timestamp",
        ])),
        prop_oneof![
            query.prop_map(|q| ("query", Some(q))),
            json_like().prop_map(|b| ("body", Some(b))),
            word().prop_map(|w| ("raw_body", Some(Y::Str(w)))),
            Just(("query", None)),
        ],
    )
        .prop_map(|(method, path, content_type, auth, (body_key, body))| {
            let headers = content_type.map(|c| map(vec![("Content-Type", Some(c))]));
            map(vec![
                ("method", Some(method)),
                ("path", Some(path)),
                ("headers", headers),
                ("auth", auth),
                (body_key, body),
            ])
        });
    let status = prop_oneof![
        prop::sample::select(&[200i64, 401, 404, 405, 413, 599][..]).prop_map(Y::Int),
        prop::collection::vec(
            prop::sample::select(&[200i64, 400][..]).prop_map(Y::Int),
            1..3
        )
        .prop_map(Y::Seq),
    ];
    let rules = prop::collection::vec(
        pick(&[
            "legacy_mirror",
            "echo_work_no",
            "echo_vdn",
            "result_agrees",
            "unknown_fields",
        ]),
        0..3,
    )
    .prop_map(Y::Seq);
    let expect = (
        prop::option::of(status),
        prop::option::of(any::<bool>().prop_map(Y::Bool)),
        prop::option::of(pick(&["response.json", "success.json", "none"])),
        prop::option::of(clean_matcher()),
        prop::option::of(pick(&["subset", "exact"])),
        prop::option::of(rules),
        prop::option::of(any::<bool>().prop_map(Y::Bool)),
    )
        .prop_map(|(status, json, schema, body, mode, rules, rejected)| {
            map(vec![
                ("status", status),
                ("json", json),
                ("schema", schema),
                ("body", body),
                ("match", mode),
                ("rules", rules),
                ("rejected", rejected),
            ])
        });
    let each = (
        pick(&["agent", "a"]),
        prop_oneof![
            pick(&["101..=103", "101, 102", "7"]),
            prop::collection::vec(int().prop_map(Y::Int), 1..3).prop_map(Y::Seq),
        ],
    )
        .prop_map(|(var, values)| map(vec![("var", Some(var)), ("values", Some(values))]));
    (
        "[a-z_][a-z0-9_-]{0,8}",
        prop::option::of(word()),
        prop::option::of(
            prop::collection::vec("[a-z]{1,6}".prop_map(Y::Str), 0..3).prop_map(Y::Seq),
        ),
        request,
        prop::option::of(expect),
        prop::option::weighted(0.2, each),
        prop::option::weighted(0.2, pick(&["2024-08", "2025-11", "8.13"])),
    )
        .prop_map(
            |(name, description, tags, request, expect, each, release)| {
                map(vec![
                    ("name", Some(Y::Str(name))),
                    ("description", description.map(Y::Str)),
                    ("tags", tags),
                    ("request", Some(request)),
                    ("expect", expect),
                    ("each", each),
                    ("release", release),
                ])
            },
        )
        .boxed()
}

/// Any JSON-shaped value (no YAML-only scalars such as `.nan`).
fn json_like() -> BoxedStrategy<Y> {
    prop_oneof![
        Just(Y::Null),
        int().prop_map(Y::Int),
        word().prop_map(Y::Str),
    ]
    .prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Y::Seq),
            prop::collection::vec(("[a-z]{1,3}", inner), 0..3).prop_map(|kv| {
                let mut kv = kv;
                kv.sort_by(|a, b| a.0.cmp(&b.0));
                kv.dedup_by(|a, b| a.0 == b.0);
                Y::Map(kv)
            }),
        ]
    })
    .boxed()
}

fn document() -> BoxedStrategy<Y> {
    let cases = |c: BoxedStrategy<Y>, n: std::ops::Range<usize>| {
        prop::collection::vec(c, n).prop_map(|cs| Y::Map(vec![("cases".into(), Y::Seq(cs))]))
    };
    prop_oneof![
        6 => cases(clean_case().boxed(), 1..3),
        4 => cases(case().boxed(), 1..4),
        2 => (clean_case(), case()).prop_map(|(a, b)| {
            Y::Map(vec![("cases".into(), Y::Seq(vec![a, b]))])
        }),
        1 => Just(Y::Map(vec![("cases".into(), Y::Seq(vec![]))])),
        1 => (prop::collection::vec(case(), 0..2), key(), value()).prop_map(|(cs, k, v)| {
            Y::Map(vec![("cases".into(), Y::Seq(cs)), (k, v)])
        }),
        1 => value(),
    ]
    .boxed()
}

/// A tiny deterministic generator for emission choices (block or flow,
/// quoting style), so one proptest seed gives one text.
struct Choices(u64);

impl Choices {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
}

fn is_plain(s: &str) -> bool {
    // Words YAML 1.2 reads as something other than a string.
    let special = ["true", "false", "null", "nan", "inf"];
    !s.is_empty()
        && !special.iter().any(|w| s.eq_ignore_ascii_case(w))
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '$' || c == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "$_/.=-".contains(c))
}

fn emit_str(s: &str, ch: &mut Choices, out: &mut String) {
    if is_plain(s) && !ch.one_in(4) {
        out.push_str(s);
    } else if !s.chars().any(char::is_control) && ch.one_in(3) {
        out.push('\'');
        out.push_str(&s.replace('\'', "''"));
        out.push('\'');
    } else {
        // JSON string escapes are valid in YAML double-quoted scalars.
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

fn emit_flow(y: &Y, ch: &mut Choices, out: &mut String) {
    match y {
        Y::Null => out.push_str(if ch.one_in(2) { "~" } else { "null" }),
        Y::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Y::Int(i) => out.push_str(&i.to_string()),
        Y::Float(f) if f.is_nan() => out.push_str(".nan"),
        Y::Float(f) if f.is_infinite() => out.push_str(if *f > 0.0 { ".inf" } else { "-.inf" }),
        Y::Float(f) => out.push_str(&format!("{f:?}")),
        Y::Str(s) => emit_str(s, ch, out),
        Y::Seq(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                emit_flow(v, ch, out);
            }
            out.push(']');
        }
        Y::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push_str(": ");
                emit_flow(v, ch, out);
            }
            out.push('}');
        }
    }
}

/// Emit `y` as the value after `key:` (or `-`) at `indent`.
fn emit_block(y: &Y, indent: usize, ch: &mut Choices, out: &mut String) {
    match y {
        Y::Map(entries) if !entries.is_empty() && !ch.one_in(5) => {
            for (k, v) in entries {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                emit_str(k, ch, out);
                out.push(':');
                emit_block(v, indent + 2, ch, out);
            }
        }
        Y::Seq(items) if !items.is_empty() && !ch.one_in(5) => {
            for v in items {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                out.push('-');
                emit_block(v, indent + 2, ch, out);
            }
        }
        other => {
            out.push(' ');
            emit_flow(other, ch, out);
        }
    }
}

fn emit(y: &Y, seed: u64) -> String {
    let mut ch = Choices(seed | 1);
    let mut out = String::new();
    emit_block(y, 0, &mut ch, &mut out);
    let mut text = out.trim_start().to_string();
    text.push('\n');
    text
}

/// Small edits that turn a valid document into a nearly valid one.
fn mutate(text: &str, edits: &[(usize, u8, char)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(at, op, c) in edits {
        let i = at % (chars.len() + 1);
        match op % 3 {
            0 if i < chars.len() => {
                chars.remove(i);
            }
            1 => chars.insert(i, c),
            _ if i < chars.len() => chars[i] = c,
            _ => chars.push(c),
        }
    }
    chars.into_iter().collect()
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, char)>> {
    prop_oneof![
        3 => Just(Vec::new()),
        1 => prop::collection::vec(
            (any::<usize>(), any::<u8>(), prop::sample::select(&[':', '-', ' ', '\n', '{', '"', '\t', '\'', '#', '$', 'x'][..])),
            1..4,
        ),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn loader_never_panics_on_arbitrary_text(text in any::<String>()) {
        check_load(&text)?;
    }

    #[test]
    fn loader_never_panics_on_yaml_soup(text in yaml_soup()) {
        check_load(&text)?;
    }

    #[test]
    fn loader_never_panics_on_case_shaped_documents(doc in document(), seed in any::<u64>(), edits in edits()) {
        let text = mutate(&emit(&doc, seed), &edits);
        check_load(&text)?;
    }
}

/// The generator is worth its name only if a good share of its documents
/// load (a quarter at least): otherwise the build layer goes untested.
#[test]
fn case_shaped_documents_often_load() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::new(config(0));
    let (mut ok, mut total) = (0, 0);
    for _ in 0..300 {
        let doc = document().new_tree(&mut runner).expect("tree").current();
        let seed = runner.rng().next_u64();
        let text = emit(&doc, seed);
        if load_str(Path::new(CASE_FILE), &text, &load_options()).is_ok() {
            ok += 1;
        }
        total += 1;
    }
    assert!(
        ok * 4 >= total,
        "only {ok} of {total} generated documents load; the generator no longer reaches the build layer"
    );
}

/// A hand-written document in the emitter's style loads, so the emitter's
/// block and flow output is what the loader reads.
#[test]
fn emitter_output_loads() {
    let doc = map(vec![(
        "cases",
        Some(Y::Seq(vec![map(vec![
            ("name", Some(Y::Str("one".into()))),
            (
                "request",
                Some(map(vec![
                    ("method", Some(Y::Str("POST".into()))),
                    ("path", Some(Y::Str("/p".into()))),
                    (
                        "query",
                        Some(map(vec![("agentId", Some(Y::Str("${agentId}".into())))])),
                    ),
                ])),
            ),
            (
                "expect",
                Some(map(vec![(
                    "body",
                    Some(map(vec![
                        ("resultCode", Some(Y::Str("0100000".into()))),
                        (
                            "status",
                            Some(map(vec![
                                ("$gte", Some(Y::Int(0))),
                                ("$lte", Some(Y::Float(8.0))),
                            ])),
                        ),
                    ])),
                )])),
            ),
        ])])),
    )]);
    for seed in 0..64 {
        let text = emit(&doc, seed);
        let cases = load_str(Path::new(CASE_FILE), &text, &load_options())
            .unwrap_or_else(|e| panic!("{}\n{text}", e.render()));
        assert_eq!(cases.len(), 1, "{text}");
    }
}

// ---------------------------------------------------------------------------
// Body matchers
// ---------------------------------------------------------------------------

/// Object keys shared by generated matchers and documents, so that they
/// meet; `x/y`, `t~1` and the empty key exercise pointer escaping.
const JSON_KEYS: &[&str] = &[
    "a",
    "b",
    "resultCode",
    "resultDesc",
    "status",
    "x/y",
    "t~1",
    "",
];

fn json_key() -> impl Strategy<Value = String> {
    prop::sample::select(JSON_KEYS).prop_map(str::to_string)
}

fn json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop::sample::select(&[0i64, 1, 2, 8, -1][..]).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![Just(1.0f64), Just(0.5), any::<f64>()]
            .prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(&["", "0100000", "HW1", "x"][..]).prop_map(Value::from),
        ".{0,6}".prop_map(Value::String),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    json_scalar().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((json_key(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn at(kind: MatcherKind) -> Matcher {
    Matcher {
        kind,
        source: Location::new(Arc::new(PathBuf::from(CASE_FILE)), 3, 7),
    }
}

const JSON_TYPES: &[JsonType] = &[
    JsonType::Null,
    JsonType::Bool,
    JsonType::Integer,
    JsonType::Number,
    JsonType::String,
    JsonType::Array,
    JsonType::Object,
];

const REGEXES: &[&str] = &["^HW", "^[0-9]+$", "", "x", "^$"];

fn bound() -> impl Strategy<Value = Option<(Number, bool)>> {
    let float = prop_oneof![Just(0.0f64), Just(8.0), Just(-1.5), any::<f64>()]
        .prop_map(|f| Number::from_f64(f).unwrap_or_else(|| 0.into()));
    let integer = prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
    ];
    prop::option::of((prop_oneof![float, integer], any::<bool>()))
}

fn matcher() -> impl Strategy<Value = Matcher> {
    let leaf = prop_oneof![
        3 => json_scalar().prop_map(|v| at(MatcherKind::Literal(v))),
        1 => json().prop_map(|v| at(MatcherKind::Literal(v))),
        1 => Just(at(MatcherKind::Any)),
        1 => Just(at(MatcherKind::Absent)),
        1 => prop::collection::vec(prop::sample::select(JSON_TYPES), 1..3)
            .prop_map(|t| at(MatcherKind::Type(t))),
        1 => prop::sample::select(REGEXES)
            .prop_map(|r| at(MatcherKind::Regex(regex::Regex::new(r).expect("valid regex")))),
        1 => (bound(), bound()).prop_map(|(min, max)| at(MatcherKind::Range { min, max })),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            1 => inner.clone().prop_map(|m| at(MatcherKind::Not(Box::new(m)))),
            1 => prop::collection::vec(inner.clone(), 0..3).prop_map(|ms| at(MatcherKind::OneOf(ms))),
            3 => (prop::collection::vec((json_key(), inner.clone()), 0..4), any::<bool>())
                .prop_map(|(entries, exact)| at(MatcherKind::Object { entries, exact })),
            1 => prop::collection::vec(inner, 0..4).prop_map(|ms| at(MatcherKind::Array(ms))),
        ]
    })
}

/// A matcher that spells out `v` exactly: objects (exact), arrays, literals.
fn spelled(v: &Value) -> Matcher {
    at(match v {
        Value::Object(o) => MatcherKind::Object {
            entries: o.iter().map(|(k, v)| (k.clone(), spelled(v))).collect(),
            exact: true,
        },
        Value::Array(a) => MatcherKind::Array(a.iter().map(spelled).collect()),
        other => MatcherKind::Literal(other.clone()),
    })
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn matcher_failures_point_into_the_reply(m in matcher(), v in json()) {
        let failures = body::check(&m, &v, &table_row);
        prop_assert_eq!(body::matches(&m, Some(&v)), failures.is_empty());
        for f in &failures {
            let p = f.pointer.as_deref();
            prop_assert!(p.is_some(), "a body failure without a pointer: {:?}", f);
            let p = p.unwrap_or_default();
            let resolves = v.pointer(p).is_some();
            // A missing key: the pointer names it, and its parent object exists.
            let parent_resolves = p
                .rsplit_once('/')
                .is_some_and(|(parent, _)| v.pointer(parent).is_some_and(Value::is_object));
            prop_assert!(
                resolves || parent_resolves,
                "pointer {:?} resolves neither itself nor its parent in {}",
                p,
                v
            );
            prop_assert!(!f.message.is_empty());
            prop_assert_eq!(&f.rule, &table_row(p));
            prop_assert_eq!(f.source.line, 3);
        }
    }

    #[test]
    fn any_matches_everything(v in json()) {
        prop_assert!(body::check(&at(MatcherKind::Any), &v, &table_row).is_empty());
        prop_assert!(body::matches(&at(MatcherKind::Any), Some(&v)));
    }

    #[test]
    fn a_literal_matches_itself(v in json()) {
        prop_assert!(body::check(&at(MatcherKind::Literal(v.clone())), &v, &table_row).is_empty());
        prop_assert!(body::check(&spelled(&v), &v, &table_row).is_empty(), "spelled-out matcher rejects {}", v);
        prop_assert!(body::json_eq(&v, &v));
    }

    #[test]
    fn integers_compare_exactly(
        a in prop_oneof![any::<i64>().prop_map(i128::from), any::<u64>().prop_map(i128::from)],
        d in -3i128..=3,
    ) {
        // Neighbours of any i64/u64, where f64 cannot tell them apart.
        let b = a + d;
        let num = |i: i128| -> Option<Value> {
            u64::try_from(i).map(Value::from).or_else(|_| i64::try_from(i).map(Value::from)).ok()
        };
        if let (Some(x), Some(y)) = (num(a), num(b)) {
            prop_assert_eq!(body::json_eq(&x, &y), a == b, "{} vs {}", x, y);
            let range = at(MatcherKind::Range {
                min: Some((y.as_number().cloned().unwrap(), true)),
                max: None,
            });
            prop_assert_eq!(body::matches(&range, Some(&x)), a >= b, "{} >= {}", x, y);
        }
    }
}

// ---------------------------------------------------------------------------
// Auth helpers and the contract table
// ---------------------------------------------------------------------------

/// Undo [`auth::normalize`]; `None` if the text is not in its output form.
fn denormalize(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(c);
            i += 1;
        } else if c == b'%' {
            let hex = |j: usize| {
                b.get(j)
                    .filter(|d| d.is_ascii_digit() || (b'A'..=b'F').contains(d))
                    .and_then(|d| char::from(*d).to_digit(16))
            };
            out.push(u8::try_from(hex(i + 1)? * 16 + hex(i + 2)?).ok()?);
            i += 3;
        } else {
            return None;
        }
    }
    Some(out)
}

fn ts_str() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u32>().prop_map(|s| Timestamp(u64::from(s)).to_string()),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z",
        ".{0,24}",
    ]
}

fn authorization_like() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        Just("auth-v2".to_string()),
        "[a-zA-Z0-9 -]{0,6}",
        ts_str(),
        "[a-z;-]{0,12}",
        "[0-9a-fA-F]{62,66}",
        ".{0,4}",
    ];
    prop_oneof![
        prop::collection::vec(part, 0..7).prop_map(|p| p.join("/")),
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn normalize_emits_only_unreserved_and_percent_xx(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let n = auth::normalize(&bytes);
        prop_assert!(n.is_ascii());
        prop_assert_eq!(denormalize(&n), Some(bytes), "{}", n);
    }

    #[test]
    fn timestamp_display_and_parse_round_trip(secs in any::<u32>()) {
        let ts = Timestamp(u64::from(secs));
        let shown = ts.to_string();
        prop_assert_eq!(shown.len(), 20, "{}", shown);
        prop_assert_eq!(Timestamp::parse(&shown), Some(ts), "{}", shown);
    }

    #[test]
    fn timestamp_parse_accepts_only_its_own_display(s in ts_str()) {
        if let Some(ts) = Timestamp::parse(&s) {
            prop_assert_eq!(ts.to_string(), s);
        }
    }

    #[test]
    fn citations_never_panic(p in prop_oneof![
        any::<String>(),
        prop::collection::vec(prop_oneof![json_key(), key(), ".{0,4}".prop_map(String::from)], 0..4)
            .prop_map(|parts| parts.iter().map(|s| format!("/{s}")).collect::<String>()),
    ]) {
        if let Some(row) = table_row(&p) {
            prop_assert!(row.starts_with("Table ") || row.starts_with("Error codes"), "{}", row);
        }
    }

    #[test]
    fn parse_authorization_never_panics_and_redact_hides_the_signature(value in authorization_like()) {
        let redacted = auth::redact(&value);
        match auth::parse_authorization(&value) {
            Ok(p) => {
                prop_assert!(!redacted.contains(&p.signature), "{}", redacted);
                prop_assert_eq!(p.signature.len(), 64);
            }
            Err(e) => {
                prop_assert_eq!(redacted, "<redacted>");
                prop_assert!(!e.to_string().is_empty());
            }
        }
        let creds = Credentials::new("ak", "sk");
        let host = |n: &str| (n == "host").then(|| "127.0.0.1:1".to_string());
        let verdict = auth::verify(Some(&value), &creds, "POST", "/p", &[], &host, b"{}", Timestamp(0), u64::MAX);
        prop_assert!(verdict.is_err(), "a random value verified: {:?}", value);
    }

    #[test]
    fn signed_requests_verify_and_tampered_ones_do_not(
        ak in "[A-Za-z0-9_.-]{1,12}",
        sk in ".{0,16}",
        method in "[A-Z]{1,7}",
        path in "/.{0,20}",
        query in prop::collection::vec((".{0,4}", ".{0,4}"), 0..3),
        host in ".{0,20}",
        body in prop::collection::vec(any::<u8>(), 0..40),
        secs in any::<u32>(),
    ) {
        let creds = Credentials::new(ak, sk);
        let ts = Timestamp(u64::from(secs));
        let headers = vec![("host".to_string(), host.clone())];
        let input = CanonicalInput { method: &method, path: &path, query: &query, headers: &headers, body: &body };
        let value = auth::authorization(&creds, ts, &input);
        let lookup = |n: &str| (n == "host").then(|| host.clone());
        prop_assert_eq!(
            auth::verify(Some(&value), &creds, &method, &path, &query, &lookup, &body, ts, 0),
            Ok(())
        );
        let mut tampered = body.clone();
        tampered.push(b' ');
        prop_assert_eq!(
            auth::verify(Some(&value), &creds, &method, &path, &query, &lookup, &tampered, ts, 0),
            Err(AuthError::BadSignature)
        );
    }
}

/// Every day from 1970 to the end of the u32 range, at its first, last and
/// one pseudo-random second: the calendar arithmetic holds everywhere, not
/// only where the random samples land.
#[test]
fn timestamp_round_trips_on_every_day_of_the_u32_range() {
    let last_day = u64::from(u32::MAX) / 86_400;
    for day in 0..=last_day {
        for offset in [0, 86_399, day.wrapping_mul(7_919) % 86_400] {
            let secs = day * 86_400 + offset;
            if secs > u64::from(u32::MAX) {
                continue;
            }
            let ts = Timestamp(secs);
            let shown = ts.to_string();
            assert_eq!(Timestamp::parse(&shown), Some(ts), "{secs} -> {shown}");
        }
    }
    assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
    assert_eq!(
        Timestamp(u64::from(u32::MAX)).to_string(),
        "2106-02-07T06:28:15Z"
    );
    assert_eq!(
        Timestamp::parse("2000-02-29T12:00:00Z").map(|t| t.to_string()),
        Some("2000-02-29T12:00:00Z".to_string())
    );
    assert_eq!(Timestamp::parse("2100-02-29T00:00:00Z"), None);
}

/// Load errors are for case authors: they name the case format, not the
/// Rust types or parser options behind it. Today serde-saphyr's own hints
/// come through for a null where a string belongs, a duplicate key and a
/// non-finite number.
#[test]
fn load_errors_speak_the_case_format_not_rust() {
    let docs = [
        "cases:\n  - name: ~\n    request: {method: POST, path: /p}\n",
        "cases:\n  - name: a\n    request: {method: POST, path: /p}\n    tags: [~]\n",
        "cases:\n  - name: a\n    request: {method: POST, path: /p, query: {vdn: 1, vdn: 2}}\n",
        "cases:\n  - name: a\n    request: {method: POST, path: /p, body: {x: .inf}}\n",
    ];
    for text in docs {
        let errs = load_str(Path::new(CASE_FILE), text, &load_options())
            .expect_err("each document has one mistake");
        let shown = errs.0[0].render_with_source(Some(text));
        for jargon in [
            "Option<",
            "DuplicateKeyPolicy",
            "configured policy",
            "deserialize",
        ] {
            assert!(!shown.contains(jargon), "{jargon:?} in:\n{shown}");
        }
    }
}
