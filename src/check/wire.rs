//! The reply as written on the wire: anything a client could read two ways,
//! or read differently from the harness, fails the case.
//!
//! - A key repeated in one JSON object (RFC 8259 §4: names SHOULD be unique;
//!   parsers differ on which value wins).
//! - More than one Content-Type header (RFC 9110 §8.3: one media type).
//! - A Content-Encoding the request did not accept (RFC 9110 §12.5.3): the
//!   harness reads the bytes as they are, a client would decode them, or fail.
//! - A number token with a fraction or an exponent (`101.0`,
//!   `4.294967295E12`) where the schema says `integer`: JSON Schema's
//!   `integer` accepts it, but an `int` / `long` field of the spec is written
//!   as an integer token, and a client reading it as one fails. Likewise an
//!   integer token wider than 64 bits.

use crate::location::Location;
use crate::result::{Failure, FailureKind, ReceivedResponse};
use crate::schema::SchemaSet;
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

/// One failure per number token of the reply that schema `name` of `set`
/// requires to be an integer but that is not written as a 64-bit integer
/// token. Tokens with a fraction (`101.5`) are left to the schema check,
/// which already rejects them.
pub fn integer_tokens(
    set: &SchemaSet,
    name: &str,
    r: &ReceivedResponse,
    source: &Location,
) -> Vec<Failure> {
    let Some(body) = &r.json else {
        return vec![];
    };
    let mut out = Vec::new();
    for token in &r.float_tokens {
        let Some(rule) = set.integer_at(name, &token.pointer) else {
            continue;
        };
        let actual = body.pointer(&token.pointer);
        let at = if token.pointer.is_empty() {
            "the body"
        } else {
            &token.pointer
        };
        let raw = &token.raw;
        let (message, expected) = if token.has_fraction_or_exponent() {
            let Some(x) = actual.and_then(Value::as_f64).filter(|x| x.fract() == 0.0) else {
                continue;
            };
            (
                format!("{at} is written {raw}; an integer field must be an integer token, without fraction or exponent"),
                integer_value(x),
            )
        } else {
            (
                format!("{at} is written {raw}, wider than 64 bits; no int or long field holds it"),
                None,
            )
        };
        out.push(wire(
            Some(token.pointer.clone()),
            message,
            expected,
            actual.cloned(),
            source,
            rule,
        ));
    }
    out
}

/// `x` as an exact integer value, if it is one that fits 64 bits.
fn integer_value(x: f64) -> Option<Value> {
    // 2^63 and 2^64 are exact in f64; every integral f64 below them converts exactly.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_63..TWO_63).contains(&x) {
        Some(Value::from(x as i64))
    } else if (0.0..2.0 * TWO_63).contains(&x) {
        Some(Value::from(x as u64))
    } else {
        None
    }
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
    use crate::result::NumberToken;
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

    #[test]
    fn integer_fields_need_integer_tokens() {
        let set = crate::testing::agentbyworkno("2024-08");
        let mut r = reply(
            &[],
            Some(
                json!({"resultDesc": {"workNo": 101.0, "loginDate": 4294967295000.0, "name": 1.0, "vdnId": 1.5, "status": 1.8446744073709552e19}}),
            ),
        );
        let t = |p: &str, raw: &str| NumberToken {
            pointer: p.into(),
            raw: raw.into(),
        };
        r.float_tokens = vec![
            t("/resultDesc/workNo", "101.0"),
            t("/resultDesc/loginDate", "4.294967295E12"),
            t("/resultDesc/name", "1.0"),
            t("/resultDesc/vdnId", "1.5"),
            t("/resultDesc/status", "18446744073709551616"),
        ];
        let f = integer_tokens(&set, "response.json", &r, &loc());
        let shown: Vec<(&str, Option<&str>, Option<Value>)> = f
            .iter()
            .map(|f| (f.message.as_str(), f.rule.as_deref(), f.expected.clone()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "/resultDesc/workNo is written 101.0; an integer field must be an integer token, without fraction or exponent",
                    Some("Table 4 row 2.1 workNo (int)"),
                    Some(json!(101)),
                ),
                (
                    "/resultDesc/loginDate is written 4.294967295E12; an integer field must be an integer token, without fraction or exponent",
                    Some("Table 4 row 2.6 loginDate (long, epoch ms ≥ 0)"),
                    Some(json!(4294967295000_u64)),
                ),
                (
                    "/resultDesc/status is written 18446744073709551616, wider than 64 bits; no int or long field holds it",
                    Some("Table 4 row 2.9 status (Table 5 values 0–8)"),
                    None,
                ),
            ]
        );
        assert!(f
            .iter()
            .all(|f| f.kind == FailureKind::Wire && f.pointer.is_some()));
    }

    #[test]
    fn integral_floats_convert_exactly() {
        assert_eq!(integer_value(101.0), Some(json!(101)));
        assert_eq!(
            integer_value(-9_223_372_036_854_775_808.0),
            Some(json!(i64::MIN))
        );
        assert_eq!(
            integer_value(9_223_372_036_854_775_808.0),
            Some(json!(9_223_372_036_854_775_808_u64))
        );
        assert_eq!(integer_value(18_446_744_073_709_551_616.0), None);
    }
}
