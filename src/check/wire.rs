//! The reply as written on the wire: anything a client could read two ways,
//! or read differently from the harness, fails the case.
//!
//! - A key repeated in one JSON object (RFC 8259 §4: names SHOULD be unique;
//!   parsers differ on which value wins).
//! - More than one Content-Type header (RFC 9110 §8.3: one media type).
//! - A Content-Encoding the request did not accept (RFC 9110 §12.5.3): the
//!   harness reads the bytes as they are, a client would decode them, or fail.

use crate::location::Location;
use crate::run::{Failure, FailureKind, ReceivedResponse};
use serde_json::Value;

/// A failure of this file's kind.
fn wire(
    pointer: Option<String>,
    message: String,
    expected: Option<Value>,
    actual: Option<Value>,
    source: &Location,
    rule: String,
) -> Failure {
    Failure {
        kind: FailureKind::Wire,
        pointer,
        message,
        expected,
        actual,
        source: source.clone(),
        rule: Some(rule),
    }
}

/// One failure per key repeated in an object of the reply.
pub fn duplicate_keys(r: &ReceivedResponse, source: &Location) -> Vec<Failure> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for p in &r.duplicate_keys {
        match seen.iter_mut().find(|(q, _)| q == p) {
            Some((_, n)) => *n += 1,
            None => seen.push((p, 1)),
        }
    }
    seen.into_iter()
        .map(|(pointer, repeats)| {
            let (object, token) = pointer.rsplit_once('/').unwrap_or(("", pointer));
            let key = token.replace("~1", "/").replace("~0", "~");
            let times = match repeats + 1 {
                2 => "twice".to_string(),
                n => format!("{n} times"),
            };
            let place = if object.is_empty() {
                "in the top-level object".to_string()
            } else {
                format!("at {object}")
            };
            wire(
                Some(pointer.to_string()),
                format!(
                    "ambiguous reply: key `{key}` appears {times} {place}; JSON parsers differ on which value they keep, so what a client reads cannot be known"
                ),
                None,
                r.json.as_ref().and_then(|j| j.pointer(pointer)).cloned(),
                source,
                "RFC 8259 §4 (names within an object SHOULD be unique)".into(),
            )
        })
        .collect()
}

/// Header checks: one Content-Type at most, no Content-Encoding that the
/// request (`sent` headers) did not accept.
pub fn headers(sent: &[(String, String)], r: &ReceivedResponse, source: &Location) -> Vec<Failure> {
    let values = |hs: &[(String, String)], name: &str| -> Vec<String> {
        hs.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let mut out = Vec::new();
    let types = values(&r.headers, "content-type");
    if types.len() > 1 {
        let listed = types
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(wire(
            None,
            format!(
                "ambiguous reply: {} Content-Type headers ({listed}); a client cannot know which one applies",
                types.len()
            ),
            None,
            Some(Value::Array(types.into_iter().map(Value::String).collect())),
            source,
            "RFC 9110 §8.3 (one Content-Type)".into(),
        ));
    }
    let accepted = accepted_codings(&values(sent, "accept-encoding"));
    let codings: Vec<String> = values(&r.headers, "content-encoding")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    let unasked: Vec<&String> = codings
        .iter()
        .filter(|c| !accepted.iter().any(|a| a == *c || a == "*"))
        .collect();
    if !unasked.is_empty() {
        let shown = codings.join(", ");
        let asked = if accepted.is_empty() {
            "the request did not accept any encoding".to_string()
        } else {
            format!("the request accepted only `{}`", accepted.join(", "))
        };
        out.push(wire(
            None,
            format!("the reply is encoded (`{shown}`) although {asked}"),
            None,
            Some(Value::String(shown)),
            source,
            "RFC 9110 §12.5.3 (Accept-Encoding)".into(),
        ));
    }
    out
}

/// The codings an Accept-Encoding header list accepts (lower case; `q=0`
/// refuses one).
fn accepted_codings(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';');
            let coding = parts.next()?.trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f64>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (!coding.is_empty() && !refused).then_some(coding)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn loc() -> Location {
        Location::file_only(Path::new("c.yaml"))
    }

    fn reply(headers: &[(&str, &str)], body: Option<Value>) -> ReceivedResponse {
        ReceivedResponse {
            status: 200,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body_text: String::new(),
            json: body,
            not_json: None,
            duplicate_keys: vec![],
            float_tokens: vec![],
        }
    }

    #[test]
    fn repeated_keys_are_ambiguous() {
        let mut r = reply(
            &[],
            Some(json!({"resultCode": "0100001", "resultDesc": {"a/b": 3}})),
        );
        r.duplicate_keys = vec![
            "/resultCode".into(),
            "/resultDesc/a~1b".into(),
            "/resultDesc/a~1b".into(),
        ];
        let f = duplicate_keys(&r, &loc());
        let messages: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "ambiguous reply: key `resultCode` appears twice in the top-level object; JSON parsers differ on which value they keep, so what a client reads cannot be known",
                "ambiguous reply: key `a/b` appears 3 times at /resultDesc; JSON parsers differ on which value they keep, so what a client reads cannot be known",
            ]
        );
        assert_eq!(f[0].kind, FailureKind::Wire);
        assert_eq!(f[0].pointer.as_deref(), Some("/resultCode"));
        assert_eq!(f[0].actual, Some(json!("0100001")));
        assert!(f[0]
            .rule
            .as_deref()
            .is_some_and(|r| r.starts_with("RFC 8259 §4")));
        assert!(duplicate_keys(&reply(&[], None), &loc()).is_empty());
    }

    #[test]
    fn repeated_content_types_and_unasked_encodings_fail() {
        let two = reply(
            &[
                ("content-type", "application/json"),
                ("Content-Type", "text/html"),
            ],
            None,
        );
        let f = headers(&[], &two, &loc());
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "ambiguous reply: 2 Content-Type headers (`application/json`, `text/html`); a client cannot know which one applies"
        );
        let gzip = reply(&[("content-encoding", "gzip")], None);
        let f = headers(&[], &gzip, &loc());
        assert_eq!(
            f[0].message,
            "the reply is encoded (`gzip`) although the request did not accept any encoding"
        );
        let sent = |v: &str| vec![("Accept-Encoding".to_string(), v.to_string())];
        assert!(headers(&sent("gzip, br"), &gzip, &loc()).is_empty());
        assert!(headers(&sent("*"), &gzip, &loc()).is_empty());
        assert_eq!(
            headers(&sent("br, gzip;q=0"), &gzip, &loc())[0].message,
            "the reply is encoded (`gzip`) although the request accepted only `br`"
        );
        for fine in [
            reply(&[("content-type", "application/json")], None),
            reply(&[("content-encoding", "identity")], None),
            reply(&[], None),
        ] {
            assert!(headers(&[], &fine, &loc()).is_empty(), "{fine:?}");
        }
    }
}
