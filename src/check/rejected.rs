//! "The request must be refused": a 4xx, or HTTP 200 with a non-success
//! `resultCode` and no agent object. For inputs the spec rejects without
//! fixing the exact answer (other methods, wrong Content-Type).

use crate::contract::RESULT_CODE_SUCCESS;
use crate::location::Location;
use crate::run::{Failure, FailureKind};
use serde_json::{json, Value};

/// Check that the reply refuses the request.
pub fn check(status: u16, body: Option<&Value>, source: &Location) -> Vec<Failure> {
    let failure = |message: String| Failure {
        kind: FailureKind::Rule,
        pointer: None,
        message,
        expected: Some(json!(
            "a refusal: 4xx, or 200 with a non-success resultCode and no agent"
        )),
        actual: None,
        source: source.clone(),
        rule: Some("Endpoint (POST only) / Error codes".into()),
    };
    match status {
        400..=499 => vec![],
        200..=299 => {
            let Some(b) = body else {
                return vec![failure(format!(
                    "HTTP {status} with a body that is not JSON; expected a refusal"
                ))];
            };
            let code = b.get("resultCode").and_then(Value::as_str);
            let agent = b.get("resultDesc").is_some_and(Value::is_object)
                || b.get("resultDatas").is_some_and(Value::is_object);
            if code == Some(RESULT_CODE_SUCCESS) || agent {
                vec![failure(format!(
                    "the request was accepted (HTTP {status}, resultCode {}); expected a refusal",
                    code.unwrap_or("missing")
                ))]
            } else if code.is_none() {
                vec![failure(format!(
                    "HTTP {status} without a resultCode; expected a refusal"
                ))]
            } else {
                vec![]
            }
        }
        // 5xx is reported by the status check; 1xx/3xx are not refusals.
        500..=599 => vec![],
        _ => vec![failure(format!("HTTP {status} is not a refusal"))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_pass_and_acceptance_fails() {
        let loc = Location::file_only(std::path::Path::new("c.yaml"));
        assert!(check(405, None, &loc).is_empty());
        assert!(check(
            200,
            Some(&json!({"resultCode": "0100002", "resultDesc": "bad"})),
            &loc
        )
        .is_empty());
        assert_eq!(
            check(
                200,
                Some(&json!({"resultCode": "0100000", "resultDesc": {}})),
                &loc
            )
            .len(),
            1
        );
        assert_eq!(
            check(
                200,
                Some(&json!({"resultCode": "0100001", "resultDesc": {"workNo": 1}})),
                &loc
            )
            .len(),
            1
        );
        assert_eq!(check(200, None, &loc).len(), 1);
        assert_eq!(check(302, None, &loc).len(), 1);
    }
}
