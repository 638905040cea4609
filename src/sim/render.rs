//! Turning simulator decisions into responses: envelopes, the fault and
//! variant rewrites of agent objects, serialisation and `Content-Type`.

use serde_json::{Map, Value};

use super::data::{AgentRecord, IDLE, SIGNED_OUT};
use super::fault::{Fault, Variant};
use super::{SimConfig, SimResponse};
use crate::contract::{RESULT_CODE_FAILED, RESULT_CODE_SUCCESS, RESULT_SUCCESS};

/// The documented request `Content-Type` (Table 1), also what CC-CMS answers.
const JSON_UTF8: &str = "application/json;charset=UTF-8";
/// `Content-Type` of the [`Variant::Charsetless`] variant.
const JSON_BARE: &str = "application/json";
/// Legacy `result` on failure.
const RESULT_FAILURE: &str = "1";

/// The `Content-Type` of JSON answers under `cfg`.
fn json_content_type(cfg: &SimConfig) -> &'static str {
    if cfg.variant == Some(Variant::Charsetless) {
        JSON_BARE
    } else {
        JSON_UTF8
    }
}

/// Reverse the key order of every object in `v`, recursively.
fn reverse_keys(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            entries.reverse();
            for (k, mut child) in entries {
                reverse_keys(&mut child);
                map.insert(k, child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(reverse_keys),
        _ => {}
    }
}

/// Serialise a JSON body, honouring the key-order and whitespace variants.
fn serialize(cfg: &SimConfig, mut body: Value) -> Vec<u8> {
    if cfg.variant == Some(Variant::ReorderedKeys) {
        reverse_keys(&mut body);
    }
    // Serialising a `Value` cannot fail; an empty body would be the fallback.
    if cfg.variant == Some(Variant::Pretty) {
        serde_json::to_vec_pretty(&body).unwrap_or_default()
    } else {
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// A JSON answer with the configured `Content-Type`.
pub(crate) fn json(cfg: &SimConfig, status: u16, body: Value) -> SimResponse {
    SimResponse {
        status,
        headers: vec![("Content-Type".into(), json_content_type(cfg).into())],
        body: serialize(cfg, body),
    }
}

/// The error envelope `{"result":"1","resultCode":code,"resultDesc":desc}`.
fn error_envelope(code: &str, desc: Value) -> Value {
    let mut m = Map::new();
    m.insert("result".into(), RESULT_FAILURE.into());
    m.insert("resultCode".into(), code.into());
    m.insert("resultDesc".into(), desc);
    Value::Object(m)
}

/// A JSON error envelope with a string `resultDesc`, at HTTP `status`.
pub(crate) fn error(cfg: &SimConfig, status: u16, code: &str, desc: &str) -> SimResponse {
    json(cfg, status, error_envelope(code, desc.into()))
}

/// An invalid-parameter answer (HTTP 200, error envelope), unless a fault
/// turns it into HTTP 500 or an HTML page.
pub(crate) fn invalid_parameter(cfg: &SimConfig, code: &str, desc: &str) -> SimResponse {
    match cfg.fault {
        Some(Fault::Error500) => error(cfg, 500, code, desc),
        Some(Fault::HtmlError) => SimResponse {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html;charset=UTF-8".into())],
            body: format!(
                "<!DOCTYPE html>\n<html><head><title>Error</title></head>\
                 <body><h1>Invalid parameter</h1><p>{}</p></body></html>\n",
                html_escape(desc)
            )
            .into_bytes(),
        },
        _ => error(cfg, 200, code, desc),
    }
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The agent object as served: the record with the configured variant and
/// fault applied.
fn agent_object(cfg: &SimConfig, mut rec: AgentRecord) -> Map<String, Value> {
    match cfg.variant {
        Some(Variant::PhoneString) if rec.status == SIGNED_OUT.0 && !rec.is_sample() => {
            rec.phone_number = Some(String::new());
        }
        Some(Variant::MediaZero) => rec.media_type = 0,
        _ => {}
    }
    match cfg.fault {
        Some(Fault::Status9) if rec.vdn_id == 1 && rec.work_no == 109 => {
            rec.status = 9;
            rec.cit_status = 8;
        }
        Some(Fault::StatusCtiMismatch) if rec.status == IDLE.0 => rec.cit_status = 7,
        Some(Fault::WorkNoMismatch) => rec.work_no = rec.work_no.saturating_add(1),
        Some(Fault::VdnMismatch) => rec.vdn_id = rec.vdn_id.saturating_add(1),
        _ => {}
    }
    let current_state_time = rec.current_state_time;
    let mut m = rec.to_json();
    match cfg.fault {
        Some(Fault::WorkNoString) => {
            m.insert("workNo".into(), rec.work_no.to_string().into());
        }
        Some(Fault::NameNumber) => {
            m.insert("name".into(), rec.work_no.into());
        }
        Some(Fault::PhoneNumberInt) => {
            let as_int = rec
                .phone_number
                .as_deref()
                .and_then(|p| p.parse::<i64>().ok());
            if let Some(n) = as_int {
                m.insert("phoneNumber".into(), n.into());
            }
        }
        Some(Fault::LoginDateString) => {
            m.insert("loginDate".into(), rec.login_date.to_string().into());
        }
        Some(Fault::CurrentStateTimeNegative) => {
            m.insert(
                "currentStateTime".into(),
                (-current_state_time.max(1)).into(),
            );
        }
        Some(Fault::CurrentStateTimeFloat) => {
            // i64 -> f64 is exact for the population's values (< 2^53).
            m.insert(
                "currentStateTime".into(),
                (current_state_time as f64 + 0.5).into(),
            );
        }
        Some(Fault::MissingFieldName) => {
            m.shift_remove("name");
        }
        Some(Fault::StatusOutOfEnum) => {
            m.insert("status".into(), 11.into());
        }
        Some(Fault::CtiOutOfRange) => {
            m.insert("citStatus".into(), 12.into());
        }
        Some(Fault::MediaTypeInvalid) => {
            m.insert("mediaType".into(), 30.into());
        }
        _ => {}
    }
    if cfg.variant == Some(Variant::ExtraField) {
        m.insert("skillGroup".into(), "default".into());
    }
    m
}

/// The success answer for `rec`.
pub(crate) fn success(cfg: &SimConfig, rec: AgentRecord) -> SimResponse {
    let desc = agent_object(cfg, rec);
    let mut datas = desc.clone();
    if cfg.fault == Some(Fault::LegacyDatasDiffer) {
        // Another valid Table 5 pair, so the only defect is the disagreement.
        let idle = datas.get("status") == Some(&Value::from(IDLE.0));
        let (status, cti) = if idle { (3, 7) } else { IDLE };
        datas.insert("citStatus".into(), cti.into());
        datas.insert("status".into(), status.into());
    }
    let mut env = Map::new();
    let result = match cfg.fault {
        Some(Fault::ResultDisagrees) => Some(Value::from(RESULT_FAILURE)),
        Some(Fault::MissingResult) => None,
        _ => Some(Value::from(RESULT_SUCCESS)),
    };
    if let Some(r) = result {
        env.insert("result".into(), r);
    }
    let code = match cfg.fault {
        Some(Fault::MissingResultCode) => None,
        Some(Fault::ResultCodeNumber) => Some(Value::from(100_000)),
        Some(Fault::SuccessCodeWrong) => Some(Value::from(RESULT_CODE_FAILED)),
        _ => Some(Value::from(RESULT_CODE_SUCCESS)),
    };
    if let Some(c) = code {
        env.insert("resultCode".into(), c);
    }
    if cfg.fault != Some(Fault::MissingLegacyDatas) {
        env.insert("resultDatas".into(), Value::Object(datas));
    }
    let desc = if cfg.fault == Some(Fault::DescNotObject) {
        Value::from("success")
    } else {
        Value::Object(desc)
    };
    env.insert("resultDesc".into(), desc);

    let mut resp = json(cfg, 200, Value::Object(env));
    match cfg.fault {
        Some(Fault::TextPlain) => {
            resp.headers = vec![("Content-Type".into(), "text/plain;charset=UTF-8".into())];
        }
        Some(Fault::NotJson) => resp.body = b"OK".to_vec(),
        _ => {}
    }
    resp
}

/// The answer for an in-range agent that does not exist (open question 4).
/// `rec` is what the agent would look like, for [`Fault::ErrorWithAgent`].
pub(crate) fn unknown_agent(cfg: &SimConfig, desc: &str, rec: AgentRecord) -> SimResponse {
    if cfg.fault == Some(Fault::ErrorWithAgent) {
        let agent = Value::Object(agent_object(cfg, rec));
        return json(cfg, 200, error_envelope(RESULT_CODE_FAILED, agent));
    }
    error(cfg, 200, RESULT_CODE_FAILED, desc)
}

/// Rewrite a current-form answer into the legacy 8.13 form (spec
/// "Versions"): `result` + `resultDatas` only, agent keys in lower case. On
/// error `result` carries the error code (Table 3 row 1: "anything else:
/// failure, see error codes"). Non-JSON answers (faults) pass unchanged.
pub(crate) fn to_legacy(cfg: &SimConfig, resp: SimResponse) -> SimResponse {
    let Ok(Value::Object(env)) = serde_json::from_slice::<Value>(&resp.body) else {
        return resp;
    };
    let mut out = Map::new();
    let success = env.get("resultCode").and_then(Value::as_str) == Some(RESULT_CODE_SUCCESS)
        || (env.get("resultCode").is_none()
            && env.get("result").and_then(Value::as_str) == Some(RESULT_SUCCESS));
    if success {
        if let Some(r) = env.get("result") {
            out.insert("result".into(), r.clone());
        }
        if let Some(Value::Object(agent)) = env.get("resultDatas") {
            let lower = agent
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect();
            out.insert("resultDatas".into(), Value::Object(lower));
        }
    } else {
        let code = env
            .get("resultCode")
            .and_then(Value::as_str)
            .unwrap_or(RESULT_CODE_FAILED);
        out.insert("result".into(), code.into());
    }
    let mut legacy = json(cfg, resp.status, Value::Object(out));
    // Keep every header but the body's own (Allow, Connection, ...).
    legacy.headers.extend(
        resp.headers
            .into_iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("content-type")),
    );
    legacy
}
