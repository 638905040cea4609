//! Option values: the answers a target gives to its contracts' open
//! questions, checked against the manifests. A key `name` sets the option of
//! every contract that declares it; `contract.name` sets one contract's.

use super::ContractSet;
use crate::case::did_you_mean;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The chosen value of every option of every contract (defaults filled in).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OptionValues {
    values: BTreeMap<(String, String), String>,
}

impl OptionValues {
    /// Every option at its default, then `given` applied in order (later
    /// wins). Each error is one line naming the key and what it takes.
    pub fn resolve(
        contracts: &ContractSet,
        given: &[(String, String)],
    ) -> Result<OptionValues, Vec<String>> {
        let mut values = BTreeMap::new();
        for c in contracts.iter() {
            for o in &c.options {
                values.insert((c.name.clone(), o.name.clone()), o.default.clone());
            }
        }
        let mut errors = Vec::new();
        for (key, value) in given {
            let (only, name) = match key.split_once('.') {
                Some((c, n)) => (Some(c), n),
                None => (None, key.as_str()),
            };
            if let Some(c) = only {
                if contracts.get(c).is_none() {
                    errors.push(unknown(key, "contract", c, contracts.names()));
                    continue;
                }
            }
            let targets: Vec<_> = contracts
                .iter()
                .filter(|c| only.is_none_or(|o| o == c.name))
                .filter_map(|c| c.option(name).map(|o| (c, o)))
                .collect();
            if targets.is_empty() {
                let all: Vec<&str> = contracts
                    .iter()
                    .filter(|c| only.is_none_or(|o| o == c.name))
                    .flat_map(|c| c.options.iter().map(|o| o.name.as_str()))
                    .collect();
                errors.push(unknown(key, "option", name, all));
                continue;
            }
            for (c, o) in targets {
                match o.check(value) {
                    Ok(()) => {
                        values.insert((c.name.clone(), o.name.clone()), value.clone());
                    }
                    Err(why) => errors.push(format!(
                        "option `{key}` = `{value}` is not valid for contract {}: it takes {why} ({})",
                        c.name, o.cites
                    )),
                }
            }
        }
        if errors.is_empty() {
            Ok(OptionValues { values })
        } else {
            Err(errors)
        }
    }

    /// The value of `option` of `contract`.
    pub fn get(&self, contract: &str, option: &str) -> Option<&str> {
        self.values
            .get(&(contract.to_owned(), option.to_owned()))
            .map(String::as_str)
    }

    /// Set one value (for tools and tests; no checking).
    pub fn set(&mut self, contract: &str, option: &str, value: &str) {
        self.values
            .insert((contract.to_owned(), option.to_owned()), value.to_owned());
    }

    /// A contract's options as the `options` variable of expressions.
    pub fn to_json(&self, contract: &str) -> Value {
        Value::Object(
            self.values
                .iter()
                .filter(|((c, _), _)| c == contract)
                .map(|((_, o), v)| (o.clone(), Value::String(v.clone())))
                .collect::<Map<_, _>>(),
        )
    }

    /// Every `(contract.option, value)` pair, for reports.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .map(|((c, o), v)| (format!("{c}.{o}"), v.clone()))
            .collect()
    }
}

fn unknown(key: &str, what: &str, name: &str, known: Vec<&str>) -> String {
    let hint = match did_you_mean(name, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if known.is_empty() => format!("there is no {what} to set"),
        None => format!("{what}s: {}", known.join(", ")),
    };
    format!("unknown {what} `{name}` in option `{key}`; {hint}")
}
