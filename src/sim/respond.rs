//! The simulator's behaviour as one pure function, [`respond`]: the request
//! checks in the order the contract lists them, then the answer.

use serde_json::Value;

use super::data::{self, CC_ID, IDLE, SIGNED_OUT};
use super::fault::Fault;
use super::render;
use super::{SimConfig, SimRequest, SimResponse};
use crate::auth::{self, AuthError, Timestamp};
use crate::contract::{
    BodyShape, RequestField, ENDPOINT_PATH, LEGACY_ENDPOINT_PATH, RESULT_CODE_FAILED,
    RESULT_CODE_INVALID_PARAMETER, TABLE2,
};

/// Largest request body read, in bytes; larger bodies get HTTP 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The Table 2 fields of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Query {
    cc_id: i64,
    vdn: i64,
    agent_id: i64,
}

/// The simulator's answer to `req` at time `now`. Pure and total: never
/// panics, and answers 5xx only under a fault.
///
/// Checks, in order: body size (413), path (404), `Authorization` (401),
/// method (405), `Content-Type`, body shape and types, Table 2 ranges (all
/// three "0100002"), then agent lookup ("0100001" when absent).
pub fn respond(cfg: &SimConfig, req: &SimRequest, now: Timestamp) -> SimResponse {
    let legacy =
        req.path == LEGACY_ENDPOINT_PATH || (req.path == ENDPOINT_PATH && cfg.release.is_legacy());
    let resp = respond_current(cfg, req, now);
    if legacy {
        render::to_legacy(cfg, resp)
    } else {
        resp
    }
}

/// The answer in the current (2024-08 / 2025-11) form.
fn respond_current(cfg: &SimConfig, req: &SimRequest, now: Timestamp) -> SimResponse {
    if req.body.len() > MAX_BODY_BYTES {
        return too_large(cfg);
    }
    if req.path != ENDPOINT_PATH && req.path != LEGACY_ENDPOINT_PATH {
        return render::error(cfg, 404, RESULT_CODE_FAILED, "no such endpoint");
    }
    if authenticate(cfg, req, now).is_err() {
        // Never echo the header or say which check failed.
        return render::error(cfg, 401, RESULT_CODE_FAILED, "authentication failed");
    }
    let get_as_post = cfg.fault == Some(Fault::AcceptsGet) && req.method == "GET";
    if req.method != "POST" && !get_as_post {
        let mut resp = render::error(cfg, 405, RESULT_CODE_FAILED, "method not allowed; use POST");
        resp.headers.push(("Allow".into(), "POST".into()));
        return resp;
    }
    if !content_type_ok(req.header("content-type")) {
        return render::invalid_parameter(
            cfg,
            RESULT_CODE_INVALID_PARAMETER,
            "unsupported content type; expected application/json;charset=UTF-8",
        );
    }
    let fields = match parse_fields(cfg.body_shape, &req.body) {
        Ok(f) => f,
        Err(desc) => return render::invalid_parameter(cfg, RESULT_CODE_INVALID_PARAMETER, &desc),
    };
    let q = match check_ranges(fields, &cfg.release.table2()) {
        Ok(q) => q,
        Err(desc) => {
            let [cc_id, vdn, agent_id] = fields;
            if cfg.fault == Some(Fault::OutOfRangeAccepted)
                && (cc_id, vdn, agent_id) == (CC_ID, 1, 60_000)
            {
                return render::success(cfg, data::synthesize(vdn, agent_id, IDLE));
            }
            let code = if cfg.fault == Some(Fault::WrongErrorCode) {
                RESULT_CODE_FAILED
            } else {
                RESULT_CODE_INVALID_PARAMETER
            };
            return render::invalid_parameter(cfg, code, &desc);
        }
    };
    match data::record(q.cc_id, q.vdn, q.agent_id, cfg.status9) {
        Some(rec) => render::success(cfg, rec),
        None => {
            let desc = if q.cc_id == CC_ID {
                format!("agent {} not found in vdn {}", q.agent_id, q.vdn)
            } else {
                format!(
                    "agent {} not found in vdn {} of call center {}",
                    q.agent_id, q.vdn, q.cc_id
                )
            };
            let would_be = data::synthesize(q.vdn, q.agent_id, SIGNED_OUT);
            render::unknown_agent(cfg, &desc, would_be)
        }
    }
}

/// The 413 answer for a body over [`MAX_BODY_BYTES`].
pub(crate) fn too_large(cfg: &SimConfig) -> SimResponse {
    let desc = format!("request body larger than {MAX_BODY_BYTES} bytes");
    let mut resp = render::error(cfg, 413, RESULT_CODE_INVALID_PARAMETER, &desc);
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
    let mut resp = render::error(cfg, 408, RESULT_CODE_INVALID_PARAMETER, &desc);
    resp.headers.push(("Connection".into(), "close".into()));
    resp
}

/// The 400 answer for a body that could not be read (broken framing).
pub(crate) fn unreadable(cfg: &SimConfig) -> SimResponse {
    let mut resp = render::error(
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

/// What a JSON value is, for error messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The Table 2 fields, in TABLE2 order, type-checked (JSON integers only).
/// Integers beyond `i64` saturate, which is out of every range.
fn parse_fields(shape: BodyShape, body: &[u8]) -> Result<[i64; 3], String> {
    let root: Value =
        serde_json::from_slice(body).map_err(|_| "request body is not valid JSON".to_owned())?;
    let Value::Object(root) = root else {
        return Err(format!(
            "request body must be a JSON object, found {}",
            kind(&root)
        ));
    };
    let obj = match shape {
        BodyShape::Flat => &root,
        BodyShape::Wrapped => match root.get("queryParam") {
            None => return Err("missing field queryParam".to_owned()),
            Some(Value::Object(inner)) => inner,
            Some(other) => {
                return Err(format!(
                    "field queryParam must be an object, found {}",
                    kind(other)
                ))
            }
        },
    };
    let mut out = [0i64; 3];
    for (slot, field) in out.iter_mut().zip(TABLE2.iter()) {
        let name = field.name;
        *slot = match obj.get(name) {
            None => return Err(format!("missing field {name}")),
            Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or(i64::MAX),
            Some(Value::Number(n)) if n.is_u64() => i64::MAX,
            Some(other) => {
                return Err(format!(
                    "field {name} must be an integer, found {}",
                    kind(other)
                ))
            }
        };
    }
    Ok(out)
}

/// Check each field against its Table 2 range(s).
fn check_ranges(fields: [i64; 3], table2: &[RequestField; 3]) -> Result<Query, String> {
    for (value, field) in fields.iter().zip(table2.iter()) {
        if !field
            .ranges
            .iter()
            .any(|(lo, hi)| (lo..=hi).contains(&value))
        {
            let ranges: Vec<String> = field
                .ranges
                .iter()
                .map(|(lo, hi)| format!("{lo}-{hi}"))
                .collect();
            return Err(format!(
                "field {} out of range (Table 2 row {}: {})",
                field.name,
                field.row,
                ranges.join(", ")
            ));
        }
    }
    let [cc_id, vdn, agent_id] = fields;
    Ok(Query {
        cc_id,
        vdn,
        agent_id,
    })
}
