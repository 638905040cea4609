//! JSON Schema: every violation becomes a failure naming the instance path,
//! the schema path and the spec table/row the schema cites.

use crate::contract::table_row;
use crate::contract::Release;
use crate::location::Location;
use crate::run::{Failure, FailureKind};
use crate::schema::SchemaCatalog;
use serde_json::Value;

/// Validate `body` against schema `name` of `release`. When it fails and
/// another release's schema of the same name accepts it, say so.
pub fn check(
    catalog: &SchemaCatalog,
    release: Release,
    name: &str,
    body: &Value,
    source: &Location,
) -> Vec<Failure> {
    let mut out = violations(catalog, release, name, body, source);
    if out.is_empty() {
        return out;
    }
    let like: Vec<&str> = catalog
        .iter()
        .filter(|(r, set)| *r != release && set.validate(name, body).is_ok_and(|v| v.is_empty()))
        .map(|(r, _)| r.name())
        .collect();
    if !like.is_empty() {
        out.insert(
            0,
            Failure {
                kind: FailureKind::Schema,
                pointer: None,
                message: format!(
                    "server behaves like release {}, suite expects {release} (the reply matches that release's {name})",
                    like.join(" or ")
                ),
                expected: None,
                actual: None,
                source: source.clone(),
                rule: Some("spec \"Versions\"".into()),
            },
        );
    }
    out
}

fn violations(
    catalog: &SchemaCatalog,
    release: Release,
    name: &str,
    body: &Value,
    source: &Location,
) -> Vec<Failure> {
    match catalog.get(release).validate(name, body) {
        Ok(violations) => violations
            .into_iter()
            .map(|v| Failure {
                kind: FailureKind::Schema,
                rule: v.rule.or_else(|| table_row(&v.instance_path)),
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
        Err(e) => vec![Failure {
            kind: FailureKind::Schema,
            pointer: None,
            message: e.to_string(),
            expected: None,
            actual: None,
            source: source.clone(),
            rule: None,
        }],
    }
}
