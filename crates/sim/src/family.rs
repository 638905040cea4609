//! What every CC-CMS open API shares, written once: the request checks in
//! the order the contract lists them (body size 413, path 404, auth-v2 401,
//! method 405, Content-Type, JSON body and its shape), the reply envelope
//! in its current form and its 8.13 legacy form, the family-wide faults and
//! variants, and serialisation.

use serde_json::{Map, Value};

use cms_auth_v2::{self as auth, AuthError, Timestamp};

use crate::catalogue::{Fault, Variant};
use crate::endpoint::{self, kind, Answer, Ctx, Endpoint, Success};
use crate::population::Snapshot;
use crate::{Release, SimConfig, SimRequest, SimResponse, AGENTBYWORKNO};

/// Largest request body read, in bytes; larger bodies get HTTP 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// `resultCode` on success (Table 3 row 2).
pub(crate) const RESULT_CODE_SUCCESS: &str = "0100000";
/// `resultCode` "failed (generic)" (error codes).
pub(crate) const RESULT_CODE_FAILED: &str = "0100001";
/// `resultCode` "invalid parameter" (error codes).
pub(crate) const RESULT_CODE_INVALID_PARAMETER: &str = "0100002";
/// Legacy `result` on success (Table 3 row 1).
const RESULT_SUCCESS: &str = "0";
/// Legacy `result` on failure.
const RESULT_FAILURE: &str = "1";
/// The documented request `Content-Type` (Table 1), also what CC-CMS answers.
const JSON_UTF8: &str = "application/json;charset=UTF-8";
/// `Content-Type` of the [`Variant::Charsetless`] variant.
const JSON_BARE: &str = "application/json";

/// The simulator's answer to `req` at time `now`. Pure and total: never
/// panics, and answers 5xx only under a fault. The population is taken at
/// `now`, once, for the whole reply.
///
/// Checks, in order: body size (413), path (404), `Authorization` (401),
/// method (405), `Content-Type`, JSON body and shape ("0100002"), then the
/// endpoint's own fields and answer.
pub fn respond(cfg: &SimConfig, req: &SimRequest, now: Timestamp) -> SimResponse {
    respond_at(cfg, req, now.0.saturating_mul(1000))
}

/// [`respond`] at `now_ms`, milliseconds since the Unix epoch: under churn,
/// agents change state between any two instants, not only on whole seconds
/// (signatures are still checked against whole seconds).
pub fn respond_at(cfg: &SimConfig, req: &SimRequest, now_ms: u64) -> SimResponse {
    let found = endpoint::find(&req.path);
    let release = Release::of(cfg);
    let resp = respond_current(cfg, req, now_ms, found, release);
    match found {
        Some((ep, twin)) if twin || release.is_legacy() => to_legacy(cfg, ep, resp),
        _ => resp,
    }
}

/// The answer in the current (2024-08 / 2025-11) form.
fn respond_current(
    cfg: &SimConfig,
    req: &SimRequest,
    now_ms: u64,
    found: Option<(&'static dyn Endpoint, bool)>,
    release: Release,
) -> SimResponse {
    if req.body.len() > MAX_BODY_BYTES {
        return too_large(cfg);
    }
    let Some((ep, _)) = found else {
        return error(cfg, 404, RESULT_CODE_FAILED, "no such endpoint");
    };
    if authenticate(cfg, req, Timestamp(now_ms / 1000)).is_err() {
        // Never echo the header or say which check failed.
        return error(cfg, 401, RESULT_CODE_FAILED, "authentication failed");
    }
    let get_as_post = cfg.fault == Some(Fault::AcceptsGet) && req.method == "GET";
    if req.method != "POST" && !get_as_post {
        let mut resp = error(cfg, 405, RESULT_CODE_FAILED, "method not allowed; use POST");
        resp.headers.push(("Allow".into(), "POST".into()));
        return resp;
    }
    if !content_type_ok(req.header("content-type")) {
        return invalid_parameter(
            cfg,
            RESULT_CODE_INVALID_PARAMETER,
            "unsupported content type; expected application/json;charset=UTF-8",
        );
    }
    let wrapped = cfg.option(ep.name(), "body_shape") == Some("wrapped");
    let fields = match parse_body(wrapped, &req.body) {
        Ok(f) => f,
        Err(desc) => return invalid_parameter(cfg, RESULT_CODE_INVALID_PARAMETER, &desc),
    };
    let status9 = cfg.option(AGENTBYWORKNO, "status9") == Some("allowed");
    let ctx = Ctx {
        cfg,
        release,
        population: Snapshot::at_ms(now_ms, cfg.churn, status9),
        endpoint: ep.name(),
    };
    match ep.answer(&ctx, &fields) {
        Answer::Success(s) => success(cfg, ep, s),
        Answer::Invalid(desc) => invalid_parameter(cfg, RESULT_CODE_INVALID_PARAMETER, &desc),
        Answer::OutOfRange(desc) => {
            let code = if cfg.fault == Some(Fault::WrongErrorCode) {
                RESULT_CODE_FAILED
            } else {
                RESULT_CODE_INVALID_PARAMETER
            };
            invalid_parameter(cfg, code, &desc)
        }
        Answer::Failed { code, desc } => error(cfg, 200, code, &desc),
        Answer::Raw(resp) => resp,
    }
}

/// The 413 answer for a body over [`MAX_BODY_BYTES`].
pub(crate) fn too_large(cfg: &SimConfig) -> SimResponse {
    let desc = format!("request body larger than {MAX_BODY_BYTES} bytes");
    let mut resp = error(cfg, 413, RESULT_CODE_INVALID_PARAMETER, &desc);
    resp.headers.push(("Connection".into(), "close".into()));
    resp
}

/// The 408 answer for a body not received within the body timeout; the
/// connection closes after it (the rest of the body is never read).
pub(crate) fn too_slow(cfg: &SimConfig) -> SimResponse {
    let desc = format!(
        "request body not received within {} ms",
        cfg.body_timeout.as_millis()
    );
    let mut resp = error(cfg, 408, RESULT_CODE_INVALID_PARAMETER, &desc);
    resp.headers.push(("Connection".into(), "close".into()));
    resp
}

/// The 400 answer for a body that could not be read (broken framing).
pub(crate) fn unreadable(cfg: &SimConfig) -> SimResponse {
    let mut resp = error(
        cfg,
        400,
        RESULT_CODE_INVALID_PARAMETER,
        "request body could not be read",
    );
    resp.headers.push(("Connection".into(), "close".into()));
    resp
}

/// Check `Authorization`, with the auth faults applied. The Host (and any
/// other signed header) is the value the client sent.
fn authenticate(cfg: &SimConfig, req: &SimRequest, now: Timestamp) -> Result<(), AuthError> {
    let value = req.header("authorization");
    match (cfg.fault, value) {
        (Some(Fault::NoAuth), None) => return Ok(()),
        (Some(Fault::AcceptsBadSignature), None) => return Err(AuthError::Missing),
        (Some(Fault::AcceptsBadSignature), Some(v)) => {
            return if v.trim().is_empty() {
                Err(AuthError::Blank)
            } else {
                Ok(())
            };
        }
        _ => {}
    }
    let skew = if cfg.fault == Some(Fault::AcceptsStale) {
        u64::MAX
    } else {
        cfg.skew_secs
    };
    let lookup = |name: &str| req.header(name).map(str::to_owned);
    auth::verify(
        value,
        &cfg.credentials,
        &req.method,
        &req.path,
        &req.query,
        &lookup,
        &req.body,
        now,
        skew,
    )
}

/// `application/json` (media type case-insensitive), optionally followed by
/// `;charset=utf-8` (one optional space after `;`, charset case-insensitive).
fn content_type_ok(value: Option<&str>) -> bool {
    let Some(value) = value else {
        return false;
    };
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return false;
    }
    match (parts.next(), parts.next()) {
        (None, _) => true,
        (Some(param), None) => {
            let param = param.strip_prefix(' ').unwrap_or(param);
            match param.split_once('=') {
                Some((name, charset)) => {
                    name.eq_ignore_ascii_case("charset") && charset.eq_ignore_ascii_case("utf-8")
                }
                None => false,
            }
        }
        (Some(_), Some(_)) => false,
    }
}

/// The request fields: the body's JSON object, or (`wrapped`) the object
/// under its `queryParam` key.
fn parse_body(wrapped: bool, body: &[u8]) -> Result<Map<String, Value>, String> {
    let root: Value =
        serde_json::from_slice(body).map_err(|_| "request body is not valid JSON".to_owned())?;
    let Value::Object(mut root) = root else {
        return Err(format!(
            "request body must be a JSON object, found {}",
            kind(&root)
        ));
    };
    if !wrapped {
        return Ok(root);
    }
    match root.shift_remove("queryParam") {
        None => Err("missing field queryParam".to_owned()),
        Some(Value::Object(inner)) => Ok(inner),
        Some(other) => Err(format!(
            "field queryParam must be an object, found {}",
            kind(&other)
        )),
    }
}

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
pub(crate) fn error_envelope(code: &str, desc: Value) -> Value {
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
fn invalid_parameter(cfg: &SimConfig, code: &str, desc: &str) -> SimResponse {
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

/// Add `ep`'s extra key to a payload object, or to every object item of a
/// payload array ([`Variant::ExtraField`]).
pub(crate) fn add_extra_field(cfg: &SimConfig, ep: &dyn Endpoint, payload: &mut Value) {
    if cfg.variant != Some(Variant::ExtraField) {
        return;
    }
    let (key, value) = ep.extra_field();
    match payload {
        Value::Object(m) => {
            m.insert(key.into(), value);
        }
        Value::Array(items) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                item.insert(key.into(), value.clone());
            }
        }
        _ => {}
    }
}

/// The success answer: the envelope around the payload, with the
/// family-wide faults and variants applied.
fn success(cfg: &SimConfig, ep: &dyn Endpoint, s: Success) -> SimResponse {
    let mut payload = s.payload;
    add_extra_field(cfg, ep, &mut payload);
    let mut datas = payload.clone();
    if cfg.fault == Some(Fault::LegacyDatasDiffer) {
        match &mut datas {
            Value::Object(m) => ep.perturb_legacy(m),
            Value::Array(items) => {
                items.pop();
            }
            _ => {}
        }
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
    for (k, v) in s.extras {
        env.insert(k.into(), v);
    }
    if cfg.fault != Some(Fault::MissingLegacyDatas) {
        env.insert("resultDatas".into(), datas);
    }
    let desc = if cfg.fault == Some(Fault::DescNotObject) {
        Value::from("success")
    } else if let Some(reshape) = s.reshape_desc {
        reshape(&payload)
    } else {
        payload
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

fn lower_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(lower_keys).collect()),
        other => other,
    }
}

/// Rewrite a current-form answer into the legacy 8.13 form (spec
/// "Versions"): `result` + `resultDatas` only (plus top-level extras such
/// as `count`), payload keys lower-cased where the endpoint's twin does
/// so. On error `result` carries the error code (Table 3 row 1: "anything
/// else: failure, see error codes"). Non-JSON answers (faults) pass
/// unchanged.
fn to_legacy(cfg: &SimConfig, ep: &dyn Endpoint, resp: SimResponse) -> SimResponse {
    let Ok(Value::Object(mut env)) = serde_json::from_slice::<Value>(&resp.body) else {
        return resp;
    };
    let mut out = Map::new();
    let success = env.get("resultCode").and_then(Value::as_str) == Some(RESULT_CODE_SUCCESS)
        || (env.get("resultCode").is_none()
            && env.get("result").and_then(Value::as_str) == Some(RESULT_SUCCESS));
    if success {
        if let Some(r) = env.shift_remove("result") {
            out.insert("result".into(), r);
        }
        env.shift_remove("resultCode");
        env.shift_remove("resultDesc");
        let datas = env.shift_remove("resultDatas");
        // What is left are top-level extras (the VDN listing's count).
        out.extend(env);
        if let Some(datas) = datas {
            let datas = if ep.lowercase_legacy_keys() {
                lower_keys(datas)
            } else {
                datas
            };
            out.insert("resultDatas".into(), datas);
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
