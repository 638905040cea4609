//! JSON Schema: every violation becomes a failure naming the instance path,
//! the schema path and the spec table/row the schema cites. When a reply
//! breaks the release it is checked against but keeps another release of
//! the same contract, the failure says which.

use crate::contract::{Contract, Release};
use crate::location::Location;
use crate::result::{Failure, FailureKind};
use crate::schema::{SchemaCatalog, SchemaSet};
use serde_json::Value;

/// Validate `body` against schema `name` of `release` of `contract`. When it
/// fails and another release's schema of the same name accepts it, say so.
pub fn check(
    catalog: &SchemaCatalog,
    contract: &Contract,
    release: &Release,
    name: &str,
    body: &Value,
    source: &Location,
) -> Vec<Failure> {
    let set = match catalog.get(contract, release) {
        Ok(s) => s,
        Err(e) => return vec![schema_failure(e.to_string(), source)],
    };
    let mut out = violations(&set, name, body, source);
    if out.is_empty() {
        return out;
    }
    let like: Vec<&str> = contract
        .releases
        .iter()
        .filter(|r| r.name != release.name)
        .filter(|r| {
            catalog
                .get(contract, r)
                .is_ok_and(|s| s.validate(name, body).is_ok_and(|v| v.is_empty()))
        })
        .map(|r| r.name.as_str())
        .collect();
    if !like.is_empty() {
        out.insert(
            0,
            Failure {
                kind: FailureKind::Schema,
                pointer: None,
                message: format!(
                    "server behaves like release {}, suite expects {} (the reply matches that release's {name})",
                    like.join(" or "),
                    release.name
                ),
                expected: None,
                actual: None,
                source: source.clone(),
                rule: Some(format!("{} \"Versions\"", contract.spec)),
            },
        );
    }
    out
}

fn schema_failure(message: String, source: &Location) -> Failure {
    Failure {
        kind: FailureKind::Schema,
        pointer: None,
        message,
        expected: None,
        actual: None,
        source: source.clone(),
        rule: None,
    }
}

fn violations(set: &SchemaSet, name: &str, body: &Value, source: &Location) -> Vec<Failure> {
    match set.validate(name, body) {
        Ok(violations) => violations
            .into_iter()
            .map(|v| Failure {
                kind: FailureKind::Schema,
                rule: v.rule.or_else(|| set.title_at(name, &v.instance_path)),
                pointer: Some(v.instance_path.clone()),
                message: format!(
                    "{}: {} (schema {name}#{})",
                    if v.instance_path.is_empty() {
                        "the body"
                    } else {
                        &v.instance_path
                    },
                    v.message,
                    v.schema_path
                ),
                expected: None,
                actual: (!v.instance_path.is_empty())
                    .then(|| body.pointer(&v.instance_path).cloned())
                    .flatten(),
                source: source.clone(),
            })
            .collect(),
        Err(e) => vec![schema_failure(e.to_string(), source)],
    }
}
