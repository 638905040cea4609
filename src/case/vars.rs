//! `${name}` variables: from the target profile, `--var name=value` and
//! `CMS_VAR_<NAME>` (later sources win). An undefined variable is an error.

use super::error::{did_you_mean, LoadError};
use crate::location::Location;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Variable values and where each came from. Names and values are shared
/// by clones, and so is the table of them: every case of an `each:` range
/// clones its context's variables and sets one, which goes on a short list
/// of its own (a clone once copied the whole table, a visible share of
/// building a case).
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// The table, shared by clones.
    shared: Arc<BTreeMap<Arc<str>, Entry>>,
    /// Set while `shared` was shared, each name once: read first.
    own: Vec<(Arc<str>, Entry)>,
}

/// A variable's value and where it came from.
type Entry = Arc<(String, String)>;

/// At most this many variables are set on a clone before its table is
/// copied.
const OWN_MAX: usize = 8;

/// The result of expanding one string.
#[derive(Debug, Clone, PartialEq)]
pub enum Expanded {
    /// The string was exactly `${name}` and the value reads as JSON
    /// (number, boolean, null): the typed value.
    Typed(serde_json::Value),
    /// Anything else: the string with every `${name}` replaced.
    Text(String),
}

impl Vars {
    /// No variables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set `name` to `value`; `origin` says where it came from ("profile", "--var", "env").
    pub fn set(&mut self, name: &str, value: &str, origin: &str) {
        let entry = Arc::new((value.to_owned(), origin.to_owned()));
        if let Some(slot) = self.own.iter_mut().find(|(k, _)| **k == *name) {
            slot.1 = entry;
            return;
        }
        if Arc::get_mut(&mut self.shared).is_none() && self.own.len() < OWN_MAX {
            self.own.push((Arc::from(name), entry));
            return;
        }
        let table = Arc::make_mut(&mut self.shared);
        table.extend(self.own.drain(..));
        table.insert(Arc::from(name), entry);
    }

    fn entry(&self, name: &str) -> Option<&Entry> {
        match self.own.iter().find(|(k, _)| **k == *name) {
            Some((_, e)) => Some(e),
            None => self.shared.get(name),
        }
    }

    /// Read `CMS_VAR_<NAME>` variables from an environment listing. The name
    /// keeps its spelling after the prefix: `CMS_VAR_agentId=5` sets `agentId`.
    pub fn set_from_env(&mut self, env: impl IntoIterator<Item = (String, String)>) {
        for (k, v) in env {
            if let Some(name) = k.strip_prefix("CMS_VAR_") {
                if !name.is_empty() {
                    self.set(name, &v, "env");
                }
            }
        }
    }

    /// Parse a `name=value` command-line pair.
    pub fn set_pair(&mut self, pair: &str) -> Result<(), String> {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("`--var {pair}` is not name=value"))?;
        if !valid_name(k) {
            return Err(format!(
                "`{k}` is not a variable name (letters, digits, `_`, `-`)"
            ));
        }
        self.set(k, v, "--var");
        Ok(())
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entry(name).map(|e| e.0.as_str())
    }

    /// Where `name` was set: "profile", "env", "--var", "each", ...
    pub fn origin(&self, name: &str) -> Option<&str> {
        self.entry(name).map(|e| e.1.as_str())
    }

    /// All names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let own = self.own.iter().map(|(k, _)| &**k);
        let mut names: Vec<&str> = self.shared.keys().map(|k| &**k).chain(own).collect();
        names.sort_unstable();
        names.dedup();
        names.into_iter()
    }

    /// Expand `${name}` in `s`, written at `loc`.
    pub fn expand(&self, s: &str, loc: &Location) -> Result<Expanded, LoadError> {
        if !s.contains("${") {
            return Ok(Expanded::Text(s.to_owned()));
        }
        let mut out = String::new();
        let mut rest = s;
        let mut whole: Option<&str> = None;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| {
                LoadError::new(loc.clone(), format!("unclosed variable in `{s}`"))
                    .label("add the closing `}`")
            })?;
            let name = &after[..end];
            let value = self.get(name).ok_or_else(|| self.undefined(name, loc))?;
            if start == 0 && end + 3 == rest.len() && out.is_empty() {
                whole = Some(value);
            }
            out.push_str(value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        if let Some(v) = whole {
            if let Ok(json) = serde_json::from_str::<serde_json::Value>(v) {
                if json.is_number() || json.is_boolean() || json.is_null() {
                    return Ok(Expanded::Typed(json));
                }
            }
        }
        Ok(Expanded::Text(out))
    }

    /// Every variable as a JSON map of its text (for flow expressions).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.names()
                .map(|k| {
                    let v = self.get(k).unwrap_or_default();
                    (k.to_owned(), serde_json::Value::String(v.to_owned()))
                })
                .collect(),
        )
    }

    fn undefined(&self, name: &str, loc: &Location) -> LoadError {
        let mut e = LoadError::new(loc.clone(), format!("undefined variable `{name}`"));
        e = match did_you_mean(name, self.names()) {
            Some(s) => e.label(format!("did you mean `{s}`?")),
            None => {
                let mut e = e.label("not defined by the profile, --var or CMS_VAR_*");
                e.undefined = Some(name.into());
                e
            }
        };
        e.help(format!(
            "define it: `--var {name}=VALUE`, `CMS_VAR_{name}=VALUE`, or `vars:` in the target profile"
        ))
    }
}

/// Replace the errors for uses of undefined variables by one that lists
/// what the suites need, what each is for, and ready `--var` and profile
/// templates: a run without its variables is one mistake, not twenty.
pub(crate) fn sum_up_undefined(
    errors: &mut Vec<LoadError>,
    purposes: &BTreeMap<String, String>,
    defined: &Vars,
) {
    // A case stops at its first undefined variable, so the suites' own
    // list (`vars:`) names the others it needs.
    let mut uses: BTreeMap<String, (Option<Location>, usize)> = BTreeMap::new();
    let mut first: Option<Location> = None;
    errors.retain(|e| {
        let Some(name) = &e.undefined else {
            return true;
        };
        first.get_or_insert_with(|| e.location.clone());
        let entry = uses.entry(name.to_string()).or_insert((None, 0));
        entry.0.get_or_insert_with(|| e.location.clone());
        entry.1 += 1;
        false
    });
    let Some(first) = first else { return };
    let known: Vec<&str> = defined.names().collect();
    for name in purposes.keys() {
        if !known.contains(&name.as_str()) {
            uses.entry(name.clone()).or_insert((None, 0));
        }
    }
    let total: usize = uses.values().map(|(_, n)| n).sum();
    let width = uses.keys().map(String::len).max().unwrap_or(0);
    let mut notes = Vec::new();
    for (name, (at, n)) in &uses {
        let purpose = purposes.get(name).map_or(
            "(no description in the suite's _defaults.yaml `vars:`)",
            String::as_str,
        );
        let seen = match at {
            Some(at) => format!(
                "  [{n} use{}, first at {at}]",
                if *n == 1 { "" } else { "s" }
            ),
            None => String::new(),
        };
        notes.push(format!("  {name:<width$}  {purpose}{seen}"));
    }
    notes.push(String::new());
    notes.push("set them with flags:".to_owned());
    notes.push(format!(
        "  {}",
        uses.keys()
            .map(|k| format!("--var {k}=VALUE"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    notes.push("or in the target profile (--profile FILE):".to_owned());
    notes.push("  vars:".to_owned());
    for name in uses.keys() {
        let purpose = purposes.get(name).map_or("", String::as_str);
        notes.push(
            format!("    {name}: \"\"  # {purpose}")
                .trim_end()
                .trim_end_matches('#')
                .trim_end()
                .to_owned(),
        );
    }
    let mut e = LoadError::new(
        first,
        format!(
            "{} variable{} the cases need {} not defined ({total} use{} so far)",
            uses.len(),
            if uses.len() == 1 { "" } else { "s" },
            if uses.len() == 1 { "is" } else { "are" },
            if total == 1 { "" } else { "s" }
        ),
    )
    .label("first use")
    .help("or CMS_VAR_<name>=VALUE in the environment; against the embedded simulator they are set for you");
    e.notes = Some(Box::new(notes));
    errors.insert(0, e);
}

/// Whether `k` is a variable name: letters, digits, `_`, `-`.
pub(crate) fn valid_name(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn loc() -> Location {
        Location::new(Arc::new(PathBuf::from("c.yaml")), 2, 3)
    }

    #[test]
    fn whole_value_keeps_its_json_type_and_embedded_is_text() {
        let mut v = Vars::new();
        v.set("agent", "101", "test");
        v.set("who", "HW", "test");
        assert_eq!(
            v.expand("${agent}", &loc()).unwrap(),
            Expanded::Typed(serde_json::json!(101))
        );
        assert_eq!(
            v.expand("id-${agent}-${who}", &loc()).unwrap(),
            Expanded::Text("id-101-HW".into())
        );
        assert_eq!(
            v.expand("${who}", &loc()).unwrap(),
            Expanded::Text("HW".into())
        );
    }

    /// A clone and its original never see each other's later values, however
    /// many are set on either, and both list every name once, sorted.
    #[test]
    fn a_clone_sets_its_own_values() {
        let mut base = Vars::new();
        base.set("b", "1", "profile");
        base.set("a", "1", "profile");
        let mut each = base.clone();
        each.set("a", "2", "each");
        each.set("a", "3", "each");
        each.set("c", "3", "each");
        assert_eq!((each.get("a"), each.origin("a")), (Some("3"), Some("each")));
        assert_eq!(
            (base.get("a"), base.origin("a")),
            (Some("1"), Some("profile"))
        );
        assert_eq!(base.get("c"), None);
        assert_eq!(each.names().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(
            each.to_json(),
            serde_json::json!({"a": "3", "b": "1", "c": "3"})
        );
        base.set("b", "9", "--var");
        assert_eq!(each.get("b"), Some("1"));
        for i in 0..3 * OWN_MAX {
            each.set(&format!("v{i}"), &i.to_string(), "each");
            each.set("a", &i.to_string(), "each");
        }
        let last = (3 * OWN_MAX - 1).to_string();
        assert_eq!(each.get("a"), Some(last.as_str()));
        assert_eq!(each.get("v0"), Some("0"));
        assert_eq!(each.names().count(), 3 + 3 * OWN_MAX);
        assert_eq!(
            (base.get("a"), base.get("b"), base.get("v0")),
            (Some("1"), Some("9"), None)
        );
    }

    #[test]
    fn undefined_variable_is_a_located_error_with_a_suggestion() {
        let mut v = Vars::new();
        v.set("agentId", "101", "test");
        let e = v.expand("${agentid}", &loc()).unwrap_err();
        assert_eq!(e.message, "undefined variable `agentid`");
        assert_eq!(e.label.as_deref(), Some("did you mean `agentId`?"));
        assert_eq!(e.location.line, 2);
    }

    #[test]
    fn env_and_pairs() {
        let mut v = Vars::new();
        v.set_from_env([("CMS_VAR_vdn".to_string(), "2".to_string())]);
        v.set_pair("ccId=1").unwrap();
        assert!(v.set_pair("novalue").is_err());
        assert_eq!(v.get("vdn"), Some("2"));
        assert_eq!(v.get("ccId"), Some("1"));
    }
}
