//! HTTP status: one of the expected codes, and never a 5xx.

use crate::case::Expect;
use crate::result::{Failure, FailureKind};
use serde_json::json;

/// Check `status` against the case's expectation.
pub fn check(expect: &Expect, status: u16) -> Vec<Failure> {
    let mut out = Vec::new();
    if status >= 500 && !expect.status.contains(&status) {
        out.push(Failure {
            kind: FailureKind::ServerError,
            pointer: None,
            message: format!(
                "server error {status}: a CMS must never answer 5xx, even to bad input"
            ),
            expected: Some(json!(expect.status)),
            actual: Some(json!(status)),
            source: expect.status_source.clone(),
            rule: Some("Error codes: errors are HTTP 200 with a non-success resultCode".into()),
        });
    } else if !expect.status.contains(&status) {
        let want = expect
            .status
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        out.push(Failure {
            kind: FailureKind::Status,
            pointer: None,
            message: format!("HTTP status {status}, expected {want}"),
            expected: Some(json!(expect.status)),
            actual: Some(json!(status)),
            source: expect.status_source.clone(),
            rule: None,
        });
    }
    out
}
