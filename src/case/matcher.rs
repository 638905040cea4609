//! Body matchers: literals, `$`-markers and nested objects, compiled from YAML.
//!
//! Marker spellings (a string, or a mapping whose keys all start with `$`):
//! `$any`, `$absent`, `$integer`, `$number`, `$string`, `$bool`, `$null`,
//! `$object`, `$array`; `{$type: [string, null]}`, `{$regex: "^HW"}`,
//! `{$gte: 0, $lte: 86400}` (also `$gt`, `$lt`), `{$ne: value}`,
//! `{$one_of: [a, b]}`, `{$exact: {...}}`. A literal string that starts with
//! `$` is written `$$…`.

use super::error::{did_you_mean, LoadError};
use super::node::{Node, NodeValue};
use super::vars::{Expanded, Vars};
use crate::location::Location;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// A compiled expectation for one JSON value, with where it was written.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// What is checked.
    pub kind: MatcherKind,
    /// Where it was written.
    pub source: Location,
}

/// JSON value types, for `$type` and the type markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// JSON null.
    Null,
    /// true / false.
    Bool,
    /// A number without fraction that fits i64/u64.
    Integer,
    /// Any number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl JsonType {
    const ALL: [(&'static str, JsonType); 7] = [
        ("null", JsonType::Null),
        ("bool", JsonType::Bool),
        ("integer", JsonType::Integer),
        ("number", JsonType::Number),
        ("string", JsonType::String),
        ("array", JsonType::Array),
        ("object", JsonType::Object),
    ];

    /// The spelling used in case files.
    pub fn name(self) -> &'static str {
        super::word_name(&Self::ALL, self)
    }

    /// Does `v` have this type?
    pub fn accepts(self, v: &Value) -> bool {
        match self {
            JsonType::Null => v.is_null(),
            JsonType::Bool => v.is_boolean(),
            JsonType::Integer => v.is_i64() || v.is_u64(),
            JsonType::Number => v.is_number(),
            JsonType::String => v.is_string(),
            JsonType::Array => v.is_array(),
            JsonType::Object => v.is_object(),
        }
    }

    /// The type of `v` (integers are reported as integer).
    pub fn of(v: &Value) -> JsonType {
        match v {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Bool,
            Value::Number(n) if n.is_i64() || n.is_u64() => JsonType::Integer,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }
}

/// The kinds of matcher.
#[derive(Debug, Clone)]
pub enum MatcherKind {
    /// Equal to this scalar (numbers compare by value: `1` equals `1.0`).
    Literal(Value),
    /// Any value, but present.
    Any,
    /// The key must not be present.
    Absent,
    /// One of these types.
    Type(Vec<JsonType>),
    /// A string matching this regex.
    Regex(regex::Regex),
    /// A number inside these bounds (integer bounds stay exact).
    Range {
        /// `$gte` / `$gt` bound and whether it is inclusive.
        min: Option<(serde_json::Number, bool)>,
        /// `$lte` / `$lt` bound and whether it is inclusive.
        max: Option<(serde_json::Number, bool)>,
    },
    /// Anything that does not match the inner matcher.
    Not(Box<Matcher>),
    /// Matches if any alternative matches.
    OneOf(Vec<Matcher>),
    /// An object; `exact` forbids keys beyond those listed.
    Object {
        /// Expected entries, in written order.
        entries: Vec<(String, Matcher)>,
        /// Whether extra keys are failures.
        exact: bool,
    },
    /// An array, element by element, same length.
    Array(Vec<Matcher>),
}

const MARKER_WORDS: [&str; 9] = [
    "$any", "$absent", "$integer", "$number", "$string", "$bool", "$null", "$object", "$array",
];
const MARKER_KEYS: [&str; 9] = [
    "$type", "$regex", "$gte", "$gt", "$lte", "$lt", "$ne", "$one_of", "$exact",
];

/// Compiles YAML nodes into matchers and JSON values, expanding variables.
pub(crate) struct Compiler<'a> {
    pub file: &'a Arc<PathBuf>,
    pub vars: &'a Vars,
}

impl Compiler<'_> {
    pub fn loc(&self, l: &serde_saphyr::Location) -> Location {
        Location::from_yaml(self.file, l)
    }

    /// A node as plain JSON (request bodies), with variables expanded.
    pub fn value(&self, n: &Node) -> Result<Value, LoadError> {
        Ok(match &n.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::from(*i),
            NodeValue::UInt(u) => Value::from(*u),
            NodeValue::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            NodeValue::Str(s) => match self.vars.expand(s, &self.loc(&n.loc))? {
                Expanded::Typed(v) => v,
                Expanded::Text(t) => Value::String(t),
            },
            NodeValue::Seq(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.value(i))
                    .collect::<Result<_, _>>()?,
            ),
            NodeValue::Map(entries) => {
                let mut m = serde_json::Map::new();
                for (k, v) in entries {
                    m.insert(k.value.clone(), self.value(v)?);
                }
                Value::Object(m)
            }
        })
    }

    /// A node as a matcher. `exact` says whether objects forbid extra keys.
    pub fn matcher(&self, n: &Node, exact: bool) -> Result<Matcher, LoadError> {
        let source = self.loc(&n.loc);
        let kind = match &n.value {
            NodeValue::Str(s) if s.starts_with("$$") => {
                MatcherKind::Literal(Value::String(s[1..].to_owned()))
            }
            NodeValue::Str(s) if s.starts_with('$') && !s.starts_with("${") => {
                self.word(s, &source)?
            }
            NodeValue::Seq(items) => MatcherKind::Array(
                items
                    .iter()
                    .map(|i| self.matcher(i, exact))
                    .collect::<Result<_, _>>()?,
            ),
            NodeValue::Map(entries) if entries.iter().any(|(k, _)| k.value.starts_with('$')) => {
                self.marker_map(entries, exact, &source)?
            }
            NodeValue::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((k.value.clone(), self.matcher(v, exact)?));
                }
                MatcherKind::Object {
                    entries: out,
                    exact,
                }
            }
            _ => MatcherKind::Literal(self.value(n)?),
        };
        Ok(Matcher { kind, source })
    }

    fn word(&self, s: &str, source: &Location) -> Result<MatcherKind, LoadError> {
        Ok(match s {
            "$any" => MatcherKind::Any,
            "$absent" => MatcherKind::Absent,
            "$integer" => MatcherKind::Type(vec![JsonType::Integer]),
            "$number" => MatcherKind::Type(vec![JsonType::Number]),
            "$string" => MatcherKind::Type(vec![JsonType::String]),
            "$bool" => MatcherKind::Type(vec![JsonType::Bool]),
            "$null" => MatcherKind::Type(vec![JsonType::Null]),
            "$object" => MatcherKind::Type(vec![JsonType::Object]),
            "$array" => MatcherKind::Type(vec![JsonType::Array]),
            other => {
                let e = LoadError::new(source.clone(), format!("unknown marker `{other}`"));
                return Err(match did_you_mean(other, MARKER_WORDS) {
                    Some(s) => e.label(format!("did you mean `{s}`?")),
                    None => e.label("not a marker"),
                }
                .help(format!(
                    "markers are {}; write `$${}` for a literal string",
                    MARKER_WORDS.join(", "),
                    &other[1..]
                )));
            }
        })
    }

    fn marker_map(
        &self,
        entries: &[(serde_saphyr::Spanned<String>, Node)],
        exact: bool,
        source: &Location,
    ) -> Result<MatcherKind, LoadError> {
        let mut min = None;
        let mut max = None;
        let mut kind = None;
        for (k, v) in entries {
            let kloc = self.loc(&k.referenced);
            let key = k.value.as_str();
            let single = |kind: &Option<MatcherKind>| -> Result<(), LoadError> {
                if kind.is_some() {
                    Err(LoadError::new(
                        kloc.clone(),
                        format!("`{key}` cannot be combined with another marker"),
                    )
                    .label("put each marker in its own matcher, or use `$one_of`"))
                } else {
                    Ok(())
                }
            };
            match key {
                "$gte" | "$gt" | "$lte" | "$lt" => {
                    let n = self.number(v)?;
                    let bound = Some((n, key.ends_with('e')));
                    if key.starts_with("$g") {
                        min = bound
                    } else {
                        max = bound
                    }
                }
                "$type" => {
                    single(&kind)?;
                    kind = Some(MatcherKind::Type(self.types(v)?));
                }
                "$regex" => {
                    single(&kind)?;
                    let NodeValue::Str(pat) = &v.value else {
                        return Err(self.expected(v, "a regex string"));
                    };
                    let re = regex::Regex::new(pat).map_err(|e| {
                        LoadError::new(self.loc(&v.loc), "invalid regex").label(e.to_string())
                    })?;
                    kind = Some(MatcherKind::Regex(re));
                }
                "$ne" => {
                    single(&kind)?;
                    kind = Some(MatcherKind::Not(Box::new(self.matcher(v, exact)?)));
                }
                "$one_of" => {
                    single(&kind)?;
                    let NodeValue::Seq(items) = &v.value else {
                        return Err(self.expected(v, "a list of alternatives"));
                    };
                    kind = Some(MatcherKind::OneOf(
                        items
                            .iter()
                            .map(|i| self.matcher(i, exact))
                            .collect::<Result<_, _>>()?,
                    ));
                }
                "$exact" => {
                    single(&kind)?;
                    kind = Some(self.matcher(v, true)?.kind);
                }
                other => {
                    let e = LoadError::new(kloc.clone(), format!("unknown matcher key `{other}`"));
                    let e = if other.starts_with('$') {
                        match did_you_mean(other, MARKER_KEYS) {
                            Some(s) => e.label(format!("did you mean `{s}`?")),
                            None => e.label("not a matcher key"),
                        }
                    } else {
                        e.label("a mapping with `$` keys is a matcher; it cannot also hold fields")
                    };
                    return Err(e.help(format!("matcher keys are {}", MARKER_KEYS.join(", "))));
                }
            }
        }
        match (kind, min.is_some() || max.is_some()) {
            (Some(_), true) => Err(LoadError::new(
                source.clone(),
                "a range cannot be combined with another marker",
            )
            .label("split it, or use `$one_of`")),
            (Some(k), false) => Ok(k),
            (None, _) => Ok(MatcherKind::Range { min, max }),
        }
    }

    fn number(&self, v: &Node) -> Result<serde_json::Number, LoadError> {
        match &v.value {
            NodeValue::Int(i) => Ok((*i).into()),
            NodeValue::UInt(u) => Ok((*u).into()),
            // The YAML reader refuses .inf and .nan, so this is always Some.
            NodeValue::Float(f) => {
                serde_json::Number::from_f64(*f).ok_or_else(|| self.expected(v, "a finite number"))
            }
            NodeValue::Str(_) => match self.value(v)? {
                Value::Number(n) => Ok(n),
                _ => Err(self.expected(v, "a number")),
            },
            _ => Err(self.expected(v, "a number")),
        }
    }

    fn types(&self, v: &Node) -> Result<Vec<JsonType>, LoadError> {
        let one = |n: &Node| -> Result<JsonType, LoadError> {
            let NodeValue::Str(s) = &n.value else {
                return Err(self.expected(n, "a type name"));
            };
            super::word_value(&JsonType::ALL, s).ok_or_else(|| {
                let names = JsonType::ALL.iter().map(|(n, _)| *n);
                let e = LoadError::new(self.loc(&n.loc), format!("unknown type `{s}`"));
                match did_you_mean(s, names) {
                    Some(m) => e.label(format!("did you mean `{m}`?")),
                    None => e.label("not a JSON type"),
                }
                .help("types are null, bool, integer, number, string, array, object")
            })
        };
        match &v.value {
            NodeValue::Seq(items) => items.iter().map(one).collect(),
            _ => Ok(vec![one(v)?]),
        }
    }

    pub fn expected(&self, n: &Node, what: &str) -> LoadError {
        LoadError::new(
            self.loc(&n.loc),
            format!("expected {what}, found {}", n.value.kind()),
        )
        .label(format!("write {what} here"))
    }
}

impl Matcher {
    /// The expectation as JSON for display in diffs: literals as themselves,
    /// markers as `"<integer>"`-style placeholders.
    pub fn display_value(&self) -> Value {
        match &self.kind {
            MatcherKind::Literal(v) => v.clone(),
            MatcherKind::Object { entries, .. } => Value::Object(
                entries
                    .iter()
                    .filter(|(_, m)| !matches!(m.kind, MatcherKind::Absent))
                    .map(|(k, m)| (k.clone(), m.display_value()))
                    .collect(),
            ),
            MatcherKind::Array(items) => {
                Value::Array(items.iter().map(Matcher::display_value).collect())
            }
            other => Value::String(format!("<{}>", other.describe())),
        }
    }
}

impl MatcherKind {
    /// A short description: `integer`, `matches ^HW`, `>= 0 and <= 10`.
    pub fn describe(&self) -> String {
        match self {
            MatcherKind::Literal(v) => v.to_string(),
            MatcherKind::Any => "any value".into(),
            MatcherKind::Absent => "absent".into(),
            MatcherKind::Type(ts) => ts.iter().map(|t| t.name()).collect::<Vec<_>>().join(" or "),
            MatcherKind::Regex(r) => format!("matches /{}/", r.as_str()),
            MatcherKind::Range { min, max } => {
                let mut parts = Vec::new();
                if let Some((v, inc)) = min {
                    parts.push(format!("{} {v}", if *inc { ">=" } else { ">" }));
                }
                if let Some((v, inc)) = max {
                    parts.push(format!("{} {v}", if *inc { "<=" } else { "<" }));
                }
                if parts.is_empty() {
                    "a number".into()
                } else {
                    parts.join(" and ")
                }
            }
            MatcherKind::Not(m) => format!("not {}", m.kind.describe()),
            MatcherKind::OneOf(ms) => ms
                .iter()
                .map(|m| m.kind.describe())
                .collect::<Vec<_>>()
                .join(" | "),
            MatcherKind::Object { .. } => "object".into(),
            MatcherKind::Array(_) => "array".into(),
        }
    }
}
