//! Unit tests of [`respond`](crate::respond) at a fixed instant, per
//! endpoint and across the family, and end-to-end tests of the
//! [`Simulator`](crate::Simulator) over raw TCP.

mod agentbyworkno;
mod batch;
mod catalogue;
mod family;
mod faults;
mod listing;
mod population;
mod server;
mod team;

use serde_json::{json, Value};

use crate::*;
use cms_auth_v2::{authorization, CanonicalInput, Timestamp};

/// 2024-01-01T00:00:00Z: every unit test answers at this instant.
pub(crate) const NOW: Timestamp = Timestamp(1_704_067_200);
pub(crate) const HOST: &str = "10.22.26.181:28080";
pub(crate) const CT: &str = "application/json;charset=UTF-8";
pub(crate) const AUTH_FAILED: &str =
    r#"{"result":"1","resultCode":"0100001","resultDesc":"authentication failed"}"#;

pub(crate) fn h(n: &str, v: &str) -> (String, String) {
    (n.to_owned(), v.to_owned())
}

/// The path of endpoint `name`.
pub(crate) fn path_of(name: &str) -> &'static str {
    ENDPOINTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| *p)
        .expect("known endpoint")
}

/// A request to `path` signed over `Host` with the default credentials at `ts`.
pub(crate) fn signed(
    method: &str,
    path: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    ts: Timestamp,
) -> SimRequest {
    let to_sign: Vec<(String, String)> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
        .cloned()
        .collect();
    let auth = authorization(
        &SimConfig::default().credentials,
        ts,
        &CanonicalInput {
            method,
            path,
            query: &[],
            headers: &to_sign,
            body: &body,
        },
    );
    let mut headers = headers;
    headers.push(h("Authorization", &auth));
    SimRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        query: vec![],
        headers,
        body,
    }
}

/// A signed POST of `body` bytes to `path` at [`NOW`].
pub(crate) fn post_raw(path: &str, body: Vec<u8>) -> SimRequest {
    signed(
        "POST",
        path,
        vec![h("Host", HOST), h("Content-Type", CT)],
        body,
        NOW,
    )
}

/// A signed POST of `body` to endpoint `name` at [`NOW`].
pub(crate) fn post_json(name: &str, body: Value) -> SimRequest {
    post_raw(path_of(name), body.to_string().into_bytes())
}

/// agentbyworkno, wrapped (its default shape).
pub(crate) fn abw_body(cc: i64, vdn: i64, agent: i64) -> Vec<u8> {
    json!({"queryParam": {"ccId": cc, "vdn": vdn, "agentId": agent}})
        .to_string()
        .into_bytes()
}

/// agentbyworkno for agent `agent` of `vdn` in `cc`.
pub(crate) fn abw(cc: i64, vdn: i64, agent: i64) -> SimRequest {
    post_raw(path_of(AGENTBYWORKNO), abw_body(cc, vdn, agent))
}

/// The batch endpoint for `ids` of `vdn` (call center 1).
pub(crate) fn batch(vdn: i64, ids: &[i64]) -> SimRequest {
    post_json(BATCH, json!({"ccId": 1, "vdn": vdn, "agentIds": ids}))
}

/// The counts endpoint for `ids` of `vdn` (call center 1).
pub(crate) fn team(vdn: i64, ids: &[i64]) -> SimRequest {
    post_json(TEAM, json!({"ccId": 1, "vdn": vdn, "agentIds": ids}))
}

/// The VDN listing: `limit` agents of `vdn` from `offset` (call center 1).
pub(crate) fn listing(vdn: i64, limit: i64, offset: i64) -> SimRequest {
    post_json(
        VDN_LISTING,
        json!({"ccId": 1, "vdn": vdn, "limit": limit, "offset": offset}),
    )
}

/// The default configuration with these options.
pub(crate) fn with_options(options: &[(&str, &str)]) -> SimConfig {
    SimConfig {
        options: options
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..SimConfig::default()
    }
}

/// The default configuration with `fault`.
pub(crate) fn with_fault(fault: Fault) -> SimConfig {
    SimConfig {
        fault: Some(fault),
        ..SimConfig::default()
    }
}

/// The default configuration with `variant`.
pub(crate) fn with_variant(variant: Variant) -> SimConfig {
    SimConfig {
        variant: Some(variant),
        ..SimConfig::default()
    }
}

/// The default simulator's answer at [`NOW`].
pub(crate) fn run(req: &SimRequest) -> SimResponse {
    respond(&SimConfig::default(), req, NOW)
}

/// `cfg`'s answer at [`NOW`].
pub(crate) fn run_with(cfg: &SimConfig, req: &SimRequest) -> SimResponse {
    respond(cfg, req, NOW)
}

pub(crate) fn body(resp: &SimResponse) -> Value {
    serde_json::from_slice(&resp.body).expect("JSON body")
}

/// `resultDesc` of a success answer (asserting it is one).
pub(crate) fn desc(resp: &SimResponse) -> Value {
    let v = body(resp);
    assert_eq!(
        (resp.status, v["result"].clone(), v["resultCode"].clone()),
        (200, json!("0"), json!("0100000")),
        "{v}"
    );
    assert_eq!(v["resultDatas"], v["resultDesc"], "legacy mirror");
    v["resultDesc"].clone()
}

/// An error envelope: exactly result, resultCode, resultDesc (a string
/// containing `desc_part`).
pub(crate) fn assert_error(resp: &SimResponse, status: u16, code: &str, desc_part: &str) {
    assert_eq!(
        resp.status,
        status,
        "{:?}",
        String::from_utf8_lossy(&resp.body)
    );
    assert_eq!(resp.header("content-type"), Some(CT));
    let v = body(resp);
    let obj = v.as_object().expect("object");
    assert_eq!(
        obj.keys().map(String::as_str).collect::<Vec<_>>(),
        ["result", "resultCode", "resultDesc"]
    );
    assert_eq!(v["result"], "1");
    assert_eq!(v["resultCode"], code);
    let desc = v["resultDesc"].as_str().expect("string resultDesc");
    assert!(desc.contains(desc_part), "{desc:?} lacks {desc_part:?}");
}

/// The usual happy request of each endpoint.
pub(crate) fn happy(name: &str) -> SimRequest {
    match name {
        AGENTBYWORKNO => abw(1, 1, 101),
        BATCH => batch(170, &[1031, 1099]),
        TEAM => team(1, &(101..=120).collect::<Vec<_>>()),
        VDN_LISTING => listing(1, 5, 0),
        other => panic!("no endpoint {other}"),
    }
}
