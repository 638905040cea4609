//! Content-Type: `application/json`, with or without a UTF-8 charset, in any
//! letter case (Table 1 row 1 states the request side; replies are JSON).

use crate::location::Location;
use crate::result::{Failure, FailureKind};
use serde_json::json;

/// Is `value` a JSON media type with an absent or UTF-8 charset?
pub fn is_json(value: &str) -> bool {
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return false;
    }
    parts.all(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        let k = k.trim();
        let v = v.trim().trim_matches('"');
        !k.eq_ignore_ascii_case("charset")
            || v.eq_ignore_ascii_case("utf-8")
            || v.eq_ignore_ascii_case("utf8")
    })
}

/// Check the reply's Content-Type header.
pub fn check(value: Option<&str>, source: &Location) -> Vec<Failure> {
    match value {
        Some(v) if is_json(v) => vec![],
        other => vec![Failure {
            kind: FailureKind::ContentType,
            pointer: None,
            message: match other {
                Some(v) => format!("Content-Type `{v}` is not application/json"),
                None => "no Content-Type header; expected application/json".into(),
            },
            expected: Some(json!("application/json; charset=UTF-8")),
            actual: other.map(|v| json!(v)),
            source: source.clone(),
            rule: Some("Table 3 (response is JSON)".into()),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_media_types_with_latitude() {
        for ok in [
            "application/json",
            "application/json;charset=UTF-8",
            "application/json; charset=utf-8",
            "Application/JSON; Charset=\"UTF-8\"",
        ] {
            assert!(is_json(ok), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/json; charset=ISO-8859-1",
            "text/html;charset=UTF-8",
            "",
        ] {
            assert!(!is_json(bad), "{bad}");
        }
    }
}
