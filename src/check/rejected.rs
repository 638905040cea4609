//! "The request must be refused": a 4xx, or HTTP 200 whose envelope says
//! failure and carries no payload object. For inputs the spec rejects
//! without fixing the exact answer (other methods, wrong Content-Type).
//! Success and payload are read where the release's envelope says (the
//! 8.13 form keeps its outcome in `result`, the current one in
//! `resultCode`).

use crate::contract::Envelope;
use crate::location::Location;
use crate::result::{Failure, FailureKind};
use serde_json::{json, Value};

/// Check that the reply refuses the request.
pub fn check(
    status: u16,
    body: Option<&Value>,
    envelope: &Envelope,
    source: &Location,
) -> Vec<Failure> {
    let failure = |message: String| Failure {
        kind: FailureKind::Rule,
        pointer: None,
        message,
        expected: Some(json!(format!(
            "a refusal: 4xx, or 200 with {} other than \"{}\" and no payload",
            envelope.outcome, envelope.success
        ))),
        actual: None,
        source: source.clone(),
        rule: Some(format!(
            "Endpoint (one method) / Error codes ({})",
            envelope.cites
        )),
    };
    match status {
        400..=499 => vec![],
        200..=299 => {
            let Some(b) = body else {
                return vec![failure(format!(
                    "HTTP {status} with a body that is not JSON; expected a refusal"
                ))];
            };
            let outcome = b.pointer(&envelope.outcome).and_then(Value::as_str);
            let payload = [
                Some(envelope.payload.as_str()),
                envelope.payload_copy.as_deref(),
            ]
            .into_iter()
            .flatten()
            .any(|p| b.pointer(p).is_some_and(|v| v.is_object() || v.is_array()));
            if outcome == Some(envelope.success.as_str()) || payload {
                vec![failure(format!(
                    "the request was accepted (HTTP {status}, {} {}); expected a refusal",
                    envelope.outcome,
                    outcome.unwrap_or("missing")
                ))]
            } else if outcome.is_none() {
                vec![failure(format!(
                    "HTTP {status} without {}; expected a refusal",
                    envelope.outcome
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

    fn envelope(outcome: &str, success: &str, payload: &str, copy: Option<&str>) -> Envelope {
        Envelope {
            name: "e".into(),
            cites: "Table 3".into(),
            outcome: outcome.into(),
            success: success.into(),
            invalid_parameter: "0100002".into(),
            payload: payload.into(),
            payload_copy: copy.map(str::to_owned),
            json: Default::default(),
        }
    }

    #[test]
    fn refusals_pass_and_acceptance_fails() {
        let loc = Location::file_only(std::path::Path::new("c.yaml"));
        let current = envelope(
            "/resultCode",
            "0100000",
            "/resultDesc",
            Some("/resultDatas"),
        );
        assert!(check(405, None, &current, &loc).is_empty());
        let refused = json!({"resultCode": "0100002", "resultDesc": "bad"});
        assert!(check(200, Some(&refused), &current, &loc).is_empty());
        let accepted = json!({"resultCode": "0100000", "resultDesc": {}});
        assert_eq!(check(200, Some(&accepted), &current, &loc).len(), 1);
        let with_agent = json!({"resultCode": "0100001", "resultDesc": {"workNo": 1}});
        assert_eq!(check(200, Some(&with_agent), &current, &loc).len(), 1);
        assert_eq!(check(200, None, &current, &loc).len(), 1);
        assert_eq!(check(302, None, &current, &loc).len(), 1);
    }

    #[test]
    fn the_legacy_form_refuses_in_result() {
        let loc = Location::file_only(std::path::Path::new("c.yaml"));
        let legacy = envelope("/result", "0", "/resultDatas", None);
        // A correct 8.13 refusal has no resultCode at all.
        assert!(check(200, Some(&json!({"result": "0100002"})), &legacy, &loc).is_empty());
        let accepted = json!({"result": "0", "resultDatas": {"workno": 101}});
        assert_eq!(check(200, Some(&accepted), &legacy, &loc).len(), 1);
        let silent = json!({"resultDatas": null});
        assert!(check(200, Some(&silent), &legacy, &loc)[0]
            .message
            .contains("without /result"));
    }
}
