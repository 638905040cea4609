//! Cross-field rules that JSON Schema cannot express: the legacy mirror, the
//! echo of the requested agent and VDN, and `result`/`resultCode` agreement.

use super::body::json_eq;
use crate::case::Rule;
use crate::contract::{Release, RESULT_CODE_SUCCESS, RESULT_SUCCESS, TABLE4_KEYS};
use crate::location::Location;
use crate::run::{Failure, FailureKind, Warning};
use serde_json::{Map, Value};

/// Apply `rules` to `body`; `requested` holds the Table 2 fields that were sent.
pub fn check(
    rules: &[(Rule, Location)],
    release: Release,
    requested: Option<&Map<String, Value>>,
    body: &Value,
) -> (Vec<Failure>, Vec<Warning>) {
    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    for (rule, source) in rules {
        let mut fail =
            |pointer: &str, message: String, expected: Option<Value>, actual: Option<Value>| {
                failures.push(Failure {
                    kind: FailureKind::Rule,
                    pointer: Some(pointer.to_string()),
                    message,
                    expected,
                    actual,
                    source: source.clone(),
                    rule: Some(rule.source().to_string()),
                });
            };
        let desc = body.get("resultDesc");
        let datas = body.get("resultDatas");
        // The 8.13 form carries the agent in resultDatas only (spec "Versions").
        let agent = if release.is_legacy() { datas } else { desc }.filter(|d| d.is_object());
        match rule {
            Rule::LegacyMirror if release.is_legacy() => {}
            Rule::LegacyMirror => match (agent, datas) {
                (Some(d), Some(l)) if !mirrors(d, l) => fail(
                    "/resultDatas",
                    "resultDatas does not mirror resultDesc".into(),
                    Some(d.clone()),
                    Some(l.clone()),
                ),
                (Some(d), None) => fail(
                    "/resultDatas",
                    "resultDatas is missing; it must mirror resultDesc for 8.13-and-earlier clients".into(),
                    Some(d.clone()),
                    None,
                ),
                (None, Some(l)) if l.is_object() => fail(
                    "/resultDatas",
                    "resultDatas carries an agent object but resultDesc does not".into(),
                    None,
                    Some(l.clone()),
                ),
                _ => {}
            },
            Rule::EchoWorkNo | Rule::EchoVdn => {
                let (sent_key, table4_key) = if *rule == Rule::EchoWorkNo {
                    ("agentId", "workNo")
                } else {
                    ("vdn", "vdnId")
                };
                let got_key = &release.agent_key(table4_key);
                let envelope = if release.is_legacy() { "resultDatas" } else { "resultDesc" };
                let sent = requested.and_then(|r| r.get(sent_key)).filter(|v| v.is_i64());
                if let (Some(sent), Some(a)) = (sent, agent) {
                    let got = a.get(got_key);
                    if !got.is_some_and(|g| json_eq(g, sent)) {
                        fail(
                            &format!("/{envelope}/{got_key}"),
                            format!(
                                "{got_key} is {}, expected the requested {sent_key} {sent}",
                                got.map_or("missing".into(), Value::to_string)
                            ),
                            Some(sent.clone()),
                            got.cloned(),
                        );
                    }
                }
            }
            Rule::ResultAgrees => {
                let (Some(Value::String(r)), Some(Value::String(c))) = (body.get("result"), body.get("resultCode"))
                else {
                    continue;
                };
                if (r == RESULT_SUCCESS) != (c == RESULT_CODE_SUCCESS) {
                    fail(
                        "/result",
                        format!("result \"{r}\" and resultCode \"{c}\" disagree on success"),
                        Some(Value::String(if c == RESULT_CODE_SUCCESS { "0".into() } else { "not \"0\"".into() })),
                        Some(Value::String(r.clone())),
                    );
                }
            }
            Rule::UnknownFields => {
                let known: Vec<String> = TABLE4_KEYS.iter().map(|k| release.agent_key(k)).collect();
                let desc_obj = desc.filter(|d| d.is_object() && !release.is_legacy());
                for (key, obj) in [("resultDesc", desc_obj), ("resultDatas", datas.filter(|d| d.is_object()))] {
                    let Some(Value::Object(o)) = obj else { continue };
                    for k in o.keys().filter(|k| !known.contains(k)) {
                        warnings.push(Warning {
                            pointer: Some(format!("/{key}/{k}")),
                            message: format!("extra field `{k}` in {key} (not in Table 4; allowed)"),
                            source: source.clone(),
                        });
                    }
                }
            }
        }
    }
    (failures, warnings)
}

/// The Table 4 fields of two agent objects agree (numbers by value); extra
/// keys are latitude, reported by `unknown_fields`, not a mirror break.
fn mirrors(desc: &Value, datas: &Value) -> bool {
    TABLE4_KEYS
        .iter()
        .all(|k| match (desc.get(*k), datas.get(*k)) {
            (Some(a), Some(b)) => json_eq_deep(a, b),
            (None, None) => true,
            _ => false,
        })
}

/// Deep equality with numbers compared by value.
fn json_eq_deep(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq_deep(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| json_eq_deep(v, w))
        }
        _ => json_eq(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn all() -> Vec<(Rule, Location)> {
        let loc = Location::new(Arc::new(PathBuf::from("d.yaml")), 3, 1);
        Rule::ALL.iter().map(|(_, r)| (*r, loc.clone())).collect()
    }

    fn agent(work: i64, vdn: i64) -> Value {
        json!({"workNo": work, "vdnId": vdn, "citStatus": 0, "name": "x", "phoneNumber": null,
               "loginDate": 4294967295000i64, "currentStateTime": 1, "mediaType": 0, "status": 2})
    }

    #[test]
    fn conforming_reply_passes_every_rule() {
        let req = json!({"ccId": 1, "vdn": 1, "agentId": 101});
        let body = json!({"result": "0", "resultCode": "0100000", "resultDatas": agent(101, 1), "resultDesc": agent(101, 1)});
        let (f, w) = check(&all(), Release::V2024_08, req.as_object(), &body);
        assert!(f.is_empty() && w.is_empty(), "{f:?} {w:?}");
        let err =
            json!({"result": "1", "resultCode": "0100002", "resultDesc": "invalid parameter"});
        assert!(check(&all(), Release::V2024_08, req.as_object(), &err)
            .0
            .is_empty());
    }

    #[test]
    fn each_rule_catches_its_violation() {
        let req = json!({"ccId": 1, "vdn": 1, "agentId": 101});
        let mut body = json!({"result": "1", "resultCode": "0100000", "resultDatas": agent(101, 1), "resultDesc": agent(102, 2)});
        body["resultDesc"]["skill"] = json!(1);
        let (f, w) = check(&all(), Release::V2024_08, req.as_object(), &body);
        let ptrs: Vec<_> = f.iter().map(|f| f.pointer.clone().unwrap()).collect();
        assert_eq!(
            ptrs,
            [
                "/resultDatas",
                "/resultDesc/workNo",
                "/resultDesc/vdnId",
                "/result"
            ]
        );
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].pointer.as_deref(), Some("/resultDesc/skill"));
        let missing = json!({"result": "0", "resultCode": "0100000", "resultDesc": agent(101, 1)});
        assert_eq!(
            check(&all(), Release::V2024_08, req.as_object(), &missing)
                .0
                .len(),
            1
        );
    }

    #[test]
    fn an_extra_field_in_one_envelope_is_not_a_mirror_break() {
        let req = json!({"ccId": 1, "vdn": 1, "agentId": 101});
        let mut desc = agent(101, 1);
        desc["skillGroup"] = json!("x");
        let body = json!({"result": "0", "resultCode": "0100000", "resultDatas": agent(101, 1), "resultDesc": desc});
        let (f, w) = check(&all(), Release::V2024_08, req.as_object(), &body);
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(w.len(), 1);
    }
}
