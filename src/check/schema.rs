//! JSON Schema: every violation becomes a failure naming the instance path,
//! the schema path and the spec table/row the schema cites.

use crate::contract::table_row;
use crate::location::Location;
use crate::run::{Failure, FailureKind};
use crate::schema::SchemaSet;
use serde_json::Value;

/// Validate `body` against schema `name`.
pub fn check(schemas: &SchemaSet, name: &str, body: &Value, source: &Location) -> Vec<Failure> {
    match schemas.validate(name, body) {
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
