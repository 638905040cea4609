//! Expanding `each:` values into case names: the run-wide case budget,
//! ranges kept unexpanded until iterated, and names that are safe as test
//! names and snapshot file names whatever a variable holds.

use super::error::LoadError;
use super::matcher::Compiler;
use super::node::{Node, NodeValue};
use super::vars::Vars;
use crate::location::Location;

/// The cases one load has produced so far, against [`LoadOptions::max_cases`].
pub(crate) struct Budget {
    used: u128,
    max: usize,
}

impl Budget {
    pub(crate) fn new(max: usize) -> Self {
        Self { used: 0, max }
    }

    /// Account for `n` more cases, written at `loc`; `what` says what makes
    /// them ("this `each` expands to").
    pub(crate) fn take(&mut self, n: u128, loc: &Location, what: &str) -> Result<(), LoadError> {
        let total = self.used.saturating_add(n);
        if total > self.max as u128 {
            return Err(LoadError::new(
                loc.clone(),
                format!(
                    "too many cases: {total} with these, over the limit of {}",
                    self.max
                ),
            )
            .label(format!("{what} {n} case{}", if n == 1 { "" } else { "s" }))
            .help("raise the limit with `--max-cases N`, or use fewer values"));
        }
        self.used = total;
        Ok(())
    }
}

pub(crate) fn check_name(name: &str, loc: &Location) -> Result<(), LoadError> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(
            LoadError::new(loc.clone(), format!("invalid case name `{name}`"))
                .label("use letters, digits, `_` and `-` (it becomes a test name)"),
        );
    }
    Ok(())
}

/// `value` as a part of a case name. Names become test names and snapshot
/// file names, so a value that names a path (`/`, `\`, `..`) or holds
/// control characters is refused; other characters outside letters, digits,
/// `_`, `-` and `.` become `_`, with a short hash of the value appended so
/// distinct values keep distinct names. Plain values (`101`, `-1`, `1.5`,
/// `HW1`) are kept as they are, so their names stay stable.
pub(crate) fn name_part(value: &str) -> Result<String, &'static str> {
    if value.contains(['/', '\\']) {
        return Err("a path separator is not allowed");
    }
    if value.contains("..") {
        return Err("`..` is not allowed");
    }
    if value.chars().any(char::is_control) {
        return Err("control characters are not allowed");
    }
    if value.chars().all(name_char) {
        return Ok(value.to_string());
    }
    let mapped: String = value
        .chars()
        .map(|ch| if name_char(ch) { ch } else { '_' })
        .collect();
    Ok(format!("{mapped}-{}", super::snapshot::short_hash(value)))
}

/// Characters a case name may hold besides its `::` separators (`.` only
/// from `each` values such as `1.5`; written names use the others).
fn name_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.'
}

/// Whether an expanded or generated case name is safe as a test name and a
/// snapshot file name: `::`-separated parts of [`name_char`]s, none empty,
/// none holding `..`.
pub(crate) fn valid_expanded_name(name: &str) -> bool {
    name.split("::")
        .all(|part| !part.is_empty() && !part.contains("..") && part.chars().all(name_char))
}

/// Where `each.values` got its values when they came from variables:
/// "the value comes from variable `x` (--var x=...)" for the help line.
pub(crate) fn value_origin(values: &Node, vars: &Vars) -> Option<String> {
    let mut texts = Vec::new();
    match &values.value {
        NodeValue::Str(s) => texts.push(s.as_str()),
        NodeValue::Seq(items) => texts.extend(items.iter().filter_map(|n| match &n.value {
            NodeValue::Str(s) => Some(s.as_str()),
            _ => None,
        })),
        _ => {}
    }
    let names: Vec<String> = texts
        .iter()
        .flat_map(|t| t.split("${").skip(1))
        .filter_map(|rest| rest.split_once('}').map(|(n, _)| n))
        .map(|n| match vars.origin(n) {
            Some("--var") => format!("`{n}` (--var {n}=...)"),
            Some("env") => format!("`{n}` (CMS_VAR_{n})"),
            Some("profile") => format!("`{n}` (the profile's `vars:`)"),
            _ => format!("`{n}`"),
        })
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "the values come from variable {}: give values of letters, digits, `_`, `-` and `.` there",
            names.join(", ")
        )
    })
}

/// One item of `each.values`: a `low..=high` range or one value.
#[derive(Debug, Clone)]
pub(crate) enum EachItem {
    Range(i64, i64),
    One(String),
}

impl EachItem {
    pub(crate) fn len(&self) -> u128 {
        match self {
            EachItem::Range(a, b) => (i128::from(*b) - i128::from(*a) + 1) as u128,
            EachItem::One(_) => 1,
        }
    }

    /// The values, one at a time (a range is never built as a list).
    pub(crate) fn values(&self) -> Box<dyn Iterator<Item = String> + '_> {
        match self {
            EachItem::Range(a, b) => Box::new((*a..=*b).map(|i| i.to_string())),
            EachItem::One(v) => Box::new(std::iter::once(v.clone())),
        }
    }
}

/// The items of `each.values`, ranges unexpanded; a range larger than
/// `max` values (the run's case limit) is an error by itself.
pub(crate) fn each_items(c: &Compiler, n: &Node, max: usize) -> Result<Vec<EachItem>, LoadError> {
    let scalar = |n: &Node| -> Result<String, LoadError> {
        match c.value(n)? {
            serde_json::Value::String(s) => Ok(s),
            serde_json::Value::Number(x) => Ok(x.to_string()),
            _ => Err(c.expected(n, "a number or a string")),
        }
    };
    let mut out = Vec::new();
    let items: Vec<String> = match &n.value {
        NodeValue::Seq(items) => items.iter().map(scalar).collect::<Result<_, _>>()?,
        _ => scalar(n)?
            .split(|ch: char| ch == ',' || ch.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    for item in items {
        if let Some((a, b)) = item.split_once("..=") {
            let (Ok(a), Ok(b)) = (a.trim().parse::<i64>(), b.trim().parse::<i64>()) else {
                return Err(c.expected(n, "values like `101..=110`"));
            };
            let range = EachItem::Range(a, b);
            if b < a || range.len() > max as u128 {
                return Err(LoadError::new(
                    c.loc(&n.loc),
                    format!("range `{item}` is empty or too large"),
                )
                .label(format!(
                    "use `low..=high` with at most {max} values (`--max-cases`)"
                )));
            }
            out.push(range);
        } else {
            out.push(EachItem::One(item));
        }
    }
    Ok(out)
}
