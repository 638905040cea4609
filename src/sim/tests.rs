//! Unit tests for [`respond`](super::respond) and an end-to-end test of the
//! [`Simulator`](super::Simulator) over a raw TCP socket.

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;
use crate::auth::{authorization, CanonicalInput, Timestamp};
use crate::contract::{self, Status9, ENDPOINT_PATH};

const NOW: Timestamp = Timestamp(1_704_067_200);
const HOST: &str = "10.22.26.181:28080";
const CT: &str = "application/json;charset=UTF-8";
const SAMPLE_AGENT: &str = r#"{"workNo":101,"vdnId":1,"citStatus":0,"name":"HW35154101","phoneNumber":null,"loginDate":4294967295000,"currentStateTime":436879,"mediaType":0,"status":2}"#;
const AUTH_FAILED: &str =
    r#"{"result":"1","resultCode":"0100001","resultDesc":"authentication failed"}"#;

fn h(n: &str, v: &str) -> (String, String) {
    (n.to_owned(), v.to_owned())
}

fn wrapped(cc: i64, vdn: i64, agent: i64) -> Vec<u8> {
    json!({"queryParam": {"ccId": cc, "vdn": vdn, "agentId": agent}})
        .to_string()
        .into_bytes()
}

/// A request signed over `host` with the default credentials at `ts`.
fn signed_at(
    method: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    ts: Timestamp,
) -> SimRequest {
    let signed: Vec<(String, String)> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
        .cloned()
        .collect();
    let creds = SimConfig::default().credentials;
    let auth = authorization(
        &creds,
        ts,
        &CanonicalInput {
            method,
            path: ENDPOINT_PATH,
            query: &[],
            headers: &signed,
            body: &body,
        },
    );
    let mut headers = headers;
    headers.push(h("Authorization", &auth));
    SimRequest {
        method: method.to_owned(),
        path: ENDPOINT_PATH.to_owned(),
        query: vec![],
        headers,
        body,
    }
}

fn post_body(body: Vec<u8>) -> SimRequest {
    signed_at(
        "POST",
        vec![h("Host", HOST), h("Content-Type", CT)],
        body,
        NOW,
    )
}

fn post(cc: i64, vdn: i64, agent: i64) -> SimRequest {
    post_body(wrapped(cc, vdn, agent))
}

fn run(req: &SimRequest) -> SimResponse {
    respond(&SimConfig::default(), req, NOW)
}

fn body(resp: &SimResponse) -> Value {
    serde_json::from_slice(&resp.body).expect("JSON body")
}

fn assert_error(resp: &SimResponse, status: u16, code: &str, desc_part: &str) {
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

#[test]
fn sample_byte_for_byte() {
    let resp = run(&post(1, 1, 101));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.headers, vec![h("Content-Type", CT)]);
    let expected = format!(
        r#"{{"result":"0","resultCode":"0100000","resultDatas":{SAMPLE_AGENT},"resultDesc":{SAMPLE_AGENT}}}"#
    );
    assert_eq!(String::from_utf8_lossy(&resp.body), expected);
    assert_eq!(
        body(&resp),
        serde_json::from_str::<Value>(&expected).expect("valid")
    );
}

#[test]
fn every_known_agent_answers_itself() {
    for (vdn, w) in known_agents() {
        let v = body(&run(&post(1, vdn, w)));
        let expected = agent(1, vdn, w, Status9::Rejected).expect("known");
        assert_eq!(v["resultDesc"], expected);
        assert_eq!(v["resultDatas"], expected);
        assert_eq!(v["resultDesc"]["workNo"], w);
        assert_eq!(v["resultDesc"]["vdnId"], vdn);
    }
}

#[test]
fn wrong_path_is_404() {
    let mut req = post(1, 1, 101);
    for path in ["/", "/rest/cmsapp/v1/openapi/agent/agentbyworkno/", "/x"] {
        req.path = path.to_owned();
        assert_error(&run(&req), 404, "0100001", "no such endpoint");
    }
}

#[test]
fn authentication_failures_are_401() {
    let good = post(1, 1, 101);
    let auth = good.header("authorization").expect("signed").to_owned();
    let with_auth = |value: Option<&str>| {
        let mut r = good.clone();
        r.headers.retain(|(n, _)| n != "Authorization");
        if let Some(v) = value {
            r.headers.push(h("Authorization", v));
        }
        r
    };
    let mut bad_sig = auth.clone();
    bad_sig.replace_range(bad_sig.len() - 4.., "0000");
    let other_ak = auth.replacen(DEFAULT_AK, "someone-else", 1);
    let cases: Vec<(&str, SimRequest)> = vec![
        ("missing", with_auth(None)),
        ("blank", with_auth(Some("   "))),
        ("garbled", with_auth(Some("auth-v2/garbage"))),
        ("unknown ak", with_auth(Some(&other_ak))),
        ("bad signature", with_auth(Some(&bad_sig))),
        (
            "stale",
            signed_at(
                "POST",
                vec![h("Host", HOST), h("Content-Type", CT)],
                wrapped(1, 1, 101),
                Timestamp(NOW.0 - 901),
            ),
        ),
        (
            "future",
            signed_at(
                "POST",
                vec![h("Host", HOST), h("Content-Type", CT)],
                wrapped(1, 1, 101),
                Timestamp(NOW.0 + 901),
            ),
        ),
        ("host changed", {
            let mut r = good.clone();
            r.headers[0] = h("Host", "10.22.26.181");
            r
        }),
        ("host missing", {
            let mut r = good.clone();
            r.headers.retain(|(n, _)| n != "Host");
            r
        }),
        ("body tampered", {
            let mut r = good.clone();
            r.body = wrapped(1, 1, 102);
            r
        }),
        ("method changed", {
            let mut r = good.clone();
            r.method = "PUT".to_owned();
            r
        }),
    ];
    for (what, req) in cases {
        let resp = run(&req);
        assert_eq!(resp.status, 401, "{what}");
        assert_eq!(String::from_utf8_lossy(&resp.body), AUTH_FAILED, "{what}");
        assert_eq!(resp.header("content-type"), Some(CT));
        let text = String::from_utf8_lossy(&resp.body);
        assert!(
            !text.contains("auth-v2") && !text.contains(DEFAULT_SK),
            "{what}"
        );
    }
    // Within the skew window both ways, and a lower-case header name, is fine.
    for ts in [NOW.0 - 900, NOW.0 + 900] {
        let r = signed_at(
            "POST",
            vec![h("host", HOST), h("content-type", CT)],
            wrapped(1, 1, 101),
            Timestamp(ts),
        );
        assert_eq!(run(&r).status, 200);
    }
}

#[test]
fn signed_query_and_more_headers_verify() {
    let query = vec![h("lang", "zh cn"), h("a", "{1}")];
    let headers = vec![h("Host", HOST), h("Content-Type", CT), h("X-Trace", "t-1")];
    let body = wrapped(1, 2, 201);
    let auth = authorization(
        &SimConfig::default().credentials,
        NOW,
        &CanonicalInput {
            method: "POST",
            path: ENDPOINT_PATH,
            query: &query,
            headers: &headers,
            body: &body,
        },
    );
    let mut req = SimRequest {
        method: "POST".into(),
        path: ENDPOINT_PATH.into(),
        query,
        headers: headers.clone(),
        body,
    };
    req.headers.push(h("Authorization", &auth));
    assert_eq!(run(&req).status, 200);
    // A signed header that does not arrive fails.
    req.headers.retain(|(n, _)| n != "X-Trace");
    assert_eq!(run(&req).status, 401);
}

#[test]
fn other_methods_are_405() {
    for m in ["GET", "PUT", "DELETE", "PATCH", "HEAD", "post"] {
        let req = signed_at(
            m,
            vec![h("Host", HOST), h("Content-Type", CT)],
            wrapped(1, 1, 101),
            NOW,
        );
        let resp = run(&req);
        assert_error(&resp, 405, "0100001", "method not allowed");
        assert_eq!(resp.header("allow"), Some("POST"), "{m}");
    }
}

#[test]
fn content_type_checks() {
    let with_ct = |ct: Option<&str>| {
        let mut headers = vec![h("Host", HOST)];
        if let Some(ct) = ct {
            headers.push(h("Content-Type", ct));
        }
        signed_at("POST", headers, wrapped(1, 1, 101), NOW)
    };
    for ok in [
        "application/json",
        "application/json;charset=UTF-8",
        "application/json; charset=UTF-8",
        "application/json;charset=utf-8",
        "Application/JSON; charset=utf-8",
    ] {
        assert_eq!(run(&with_ct(Some(ok))).status, 200, "{ok}");
    }
    for bad in [
        None,
        Some(""),
        Some("text/plain"),
        Some("application/xml"),
        Some("application/json;charset=ISO-8859-1"),
        Some("application/json;  charset=UTF-8"),
        Some("application/json;charset=UTF-8;x=1"),
        Some("application/json;"),
        Some("application/jsonx"),
        Some("multipart/form-data; boundary=x"),
    ] {
        assert_error(&run(&with_ct(bad)), 200, "0100002", "content type");
    }
}

#[test]
fn body_shape_and_type_errors() {
    let cases: &[(&str, &str)] = &[
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("queryParam", "not valid JSON"),
        ("[]", "must be a JSON object, found array"),
        ("null", "must be a JSON object, found null"),
        ("42", "must be a JSON object, found integer"),
        ("{}", "missing field queryParam"),
        (
            r#"{"ccId":1,"vdn":1,"agentId":101}"#,
            "missing field queryParam",
        ),
        (
            r#"{"queryParam":null}"#,
            "queryParam must be an object, found null",
        ),
        (
            r#"{"queryParam":[1,1,101]}"#,
            "queryParam must be an object, found array",
        ),
        (
            r#"{"queryParam":"x"}"#,
            "queryParam must be an object, found string",
        ),
        (r#"{"queryParam":{}}"#, "missing field ccId"),
        (
            r#"{"queryParam":{"ccId":1,"agentId":101}}"#,
            "missing field vdn",
        ),
        (
            r#"{"queryParam":{"ccId":1,"vdn":1}}"#,
            "missing field agentId",
        ),
        (
            r#"{"queryParam":{"ccId":null,"vdn":1,"agentId":101}}"#,
            "field ccId must be an integer, found null",
        ),
        (
            r#"{"queryParam":{"ccId":1,"vdn":"1","agentId":101}}"#,
            "field vdn must be an integer, found string",
        ),
        (
            r#"{"queryParam":{"ccId":1,"vdn":1,"agentId":101.0}}"#,
            "field agentId must be an integer, found float",
        ),
        (
            r#"{"queryParam":{"ccId":1,"vdn":1,"agentId":1e2}}"#,
            "field agentId must be an integer, found float",
        ),
        (
            r#"{"queryParam":{"ccId":true,"vdn":1,"agentId":101}}"#,
            "field ccId must be an integer, found boolean",
        ),
        (
            r#"{"queryParam":{"ccId":1,"vdn":[1],"agentId":101}}"#,
            "field vdn must be an integer, found array",
        ),
        (
            r#"{"queryParam":{"ccId":1,"vdn":1,"agentId":{}}}"#,
            "field agentId must be an integer, found object",
        ),
        // Type errors are reported before range errors.
        (
            r#"{"queryParam":{"ccId":0,"vdn":1,"agentId":"101"}}"#,
            "field agentId must be an integer",
        ),
    ];
    for (b, desc) in cases {
        assert_error(
            &run(&post_body(b.as_bytes().to_vec())),
            200,
            "0100002",
            desc,
        );
    }
}

#[test]
fn range_errors() {
    for (cc, vdn, agent_id, field) in [
        (0, 1, 101, "ccId"),
        (65_536, 1, 101, "ccId"),
        (-1, 1, 101, "ccId"),
        (1, 0, 101, "vdn"),
        (1, 5_001, 101, "vdn"),
        (1, 1, 100, "agentId"),
        (1, 1, 60_000, "agentId"),
        (1, 1, 70_000, "agentId"),
        (1, 1, i64::MIN, "agentId"),
    ] {
        assert_error(
            &run(&post(cc, vdn, agent_id)),
            200,
            "0100002",
            &format!("field {field} out of range"),
        );
    }
    let huge = br#"{"queryParam":{"ccId":1,"vdn":1,"agentId":18446744073709551615}}"#;
    assert_error(
        &run(&post_body(huge.to_vec())),
        200,
        "0100002",
        "field agentId out of range",
    );
    // Edges are in range (and 59999 exists).
    assert_eq!(body(&run(&post(1, 1, 59_999)))["resultCode"], "0100000");
    assert_error(&run(&post(65_535, 5_000, 101)), 200, "0100001", "not found");
}

#[test]
fn unknown_agents_are_0100001() {
    assert_error(
        &run(&post(1, 1, 555)),
        200,
        "0100001",
        "agent 555 not found in vdn 1",
    );
    assert_error(
        &run(&post(1, 2, 101)),
        200,
        "0100001",
        "agent 101 not found in vdn 2",
    );
    assert_error(
        &run(&post(1, 4, 401)),
        200,
        "0100001",
        "agent 401 not found in vdn 4",
    );
    assert_error(
        &run(&post(2, 1, 101)),
        200,
        "0100001",
        "agent 101 not found in vdn 1 of call center 2",
    );
}

#[test]
fn flat_body_shape() {
    let cfg = SimConfig {
        body_shape: contract::BodyShape::Flat,
        ..SimConfig::default()
    };
    let flat = post_body(br#"{"ccId":1,"vdn":1,"agentId":101}"#.to_vec());
    assert_eq!(
        body(&respond(&cfg, &flat, NOW))["resultDesc"]["workNo"],
        101
    );
    let resp = respond(&cfg, &post(1, 1, 101), NOW);
    assert_error(&resp, 200, "0100002", "missing field ccId");
}

#[test]
fn status9_choice() {
    let allowed = SimConfig {
        status9: Status9::Allowed,
        ..SimConfig::default()
    };
    let v = body(&respond(&allowed, &post(1, 1, 120), NOW));
    assert_eq!(
        (
            v["resultDesc"]["status"].clone(),
            v["resultDesc"]["citStatus"].clone()
        ),
        (json!(9), json!(8))
    );
    let v = body(&run(&post(1, 1, 120)));
    assert_eq!(v["resultDesc"]["status"], 0);
}

/// Bodies that must never produce a 5xx (or a panic).
fn nasty_bodies() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = [
        "",
        " ",
        "\u{0}",
        "{",
        "}",
        "[",
        "\"",
        "nul",
        "NaN",
        "Infinity",
        "-0",
        "1e999",
        "{\"queryParam\":{\"ccId\":1e999,\"vdn\":1,\"agentId\":101}}",
        "{\"queryParam\":{\"ccId\":-0,\"vdn\":-0.0,\"agentId\":101}}",
        "{\"queryParam\":{\"ccId\":99999999999999999999999,\"vdn\":1,\"agentId\":101}}",
        "{\"queryParam\":{\"ccId\":1,\"vdn\":1,\"agentId\":101},\"queryParam\":7}",
        "{\"queryParam\":{\"ccId\":1,\"ccId\":2,\"vdn\":1,\"agentId\":101}}",
        "{\"queryParam\":{\"ccId\":1,\"vdn\":1,\"agentId\":101}} trailing",
        "{\"queryParam\":{\"ccId\":1,\"vdn\":1,\"agentId\":101,\"extra\":[{},[]]}}",
        "{\"\u{fffd}\":\"\\ud800\"}",
        "\u{feff}{\"queryParam\":{\"ccId\":1,\"vdn\":1,\"agentId\":101}}",
        "<html></html>",
        "ccId=1&vdn=1&agentId=101",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    out.push(vec![0xff, 0xfe, 0x00, 0x7b]);
    out.push(b"[".repeat(10_000));
    out.push(format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200)).into_bytes());
    out.push(vec![b' '; MAX_BODY_BYTES]);
    out.push(vec![b'x'; MAX_BODY_BYTES + 1]);
    out
}

#[test]
fn nasty_bodies_never_5xx() {
    for shape in [contract::BodyShape::Wrapped, contract::BodyShape::Flat] {
        let cfg = SimConfig {
            body_shape: shape,
            ..SimConfig::default()
        };
        for b in nasty_bodies() {
            for method in ["POST", "GET", "OPTIONS", ""] {
                let req = signed_at(
                    method,
                    vec![h("Host", HOST), h("Content-Type", CT)],
                    b.clone(),
                    NOW,
                );
                let resp = respond(&cfg, &req, NOW);
                assert!(
                    resp.status < 500,
                    "{} for {:?}",
                    resp.status,
                    String::from_utf8_lossy(&b)
                );
                if b.len() > MAX_BODY_BYTES {
                    assert_eq!(resp.status, 413);
                }
                // Every answer is a JSON error or success envelope.
                let v = body(&resp);
                assert!(v["resultCode"].is_string());
            }
        }
    }
    // Odd request lines and headers too.
    let mut req = post(1, 1, 101);
    req.headers.push(h("Content-Type", "text/plain"));
    req.query = vec![h("", ""), h("\u{0}", "\u{ffff}")];
    assert_eq!(run(&req).status, 401);
    req.path = String::new();
    assert_eq!(run(&req).status, 404);
}

/// Requests that together exercise every branch a fault can touch.
fn probes() -> Vec<(&'static str, SimRequest)> {
    let stale = signed_at(
        "POST",
        vec![h("Host", HOST), h("Content-Type", CT)],
        wrapped(1, 1, 101),
        Timestamp(NOW.0 - 3_600),
    );
    let mut unsigned = post(1, 1, 101);
    unsigned.headers.retain(|(n, _)| n != "Authorization");
    let mut bad_sig = post(1, 1, 101);
    bad_sig.body = wrapped(1, 1, 102);
    vec![
        ("sample", post(1, 1, 101)),
        ("idle", post(1, 1, 102)),
        ("rest 109", post(1, 1, 109)),
        ("web chat", post(1, 2, 203)),
        ("unknown", post(1, 1, 555)),
        ("out of range", post(1, 1, 60_000)),
        (
            "bad type",
            post_body(br#"{"queryParam":{"ccId":1,"vdn":1,"agentId":"101"}}"#.to_vec()),
        ),
        ("unsigned", unsigned),
        ("bad signature", bad_sig),
        ("stale", stale),
        (
            "get",
            signed_at(
                "GET",
                vec![h("Host", HOST), h("Content-Type", CT)],
                wrapped(1, 1, 101),
                NOW,
            ),
        ),
    ]
}

#[test]
fn every_fault_changes_some_answer() {
    let base = SimConfig::default();
    let probes = probes();
    for &fault in Fault::ALL {
        let cfg = SimConfig {
            fault: Some(fault),
            ..SimConfig::default()
        };
        let changed: Vec<&str> = probes
            .iter()
            .filter(|(_, req)| respond(&cfg, req, NOW) != respond(&base, req, NOW))
            .map(|(name, _)| *name)
            .collect();
        assert!(
            !changed.is_empty(),
            "fault {} changes nothing",
            fault.name()
        );
        let server_errors = probes
            .iter()
            .filter(|(_, r)| respond(&cfg, r, NOW).status >= 500)
            .count();
        assert_eq!(
            server_errors > 0,
            fault == Fault::Error500,
            "{}",
            fault.name()
        );
    }
}

#[test]
fn fault_spot_checks() {
    let with = |fault: Fault, req: &SimRequest| {
        let cfg = SimConfig {
            fault: Some(fault),
            ..SimConfig::default()
        };
        respond(&cfg, req, NOW)
    };
    let sample = post(1, 1, 101);
    assert_eq!(
        body(&with(Fault::ResultCodeNumber, &sample))["resultCode"],
        100_000
    );
    assert!(body(&with(Fault::MissingLegacyDatas, &sample))
        .get("resultDatas")
        .is_none());
    let v = body(&with(Fault::LegacyDatasDiffer, &sample));
    assert_ne!(v["resultDatas"]["status"], v["resultDesc"]["status"]);
    assert_eq!(
        body(&with(Fault::WorkNoString, &sample))["resultDesc"]["workNo"],
        "101"
    );
    assert_eq!(
        body(&with(Fault::CurrentStateTimeNegative, &sample))["resultDatas"]["currentStateTime"],
        -436_879
    );
    assert!(
        body(&with(Fault::CurrentStateTimeFloat, &sample))["resultDesc"]["currentStateTime"]
            .is_f64()
    );
    assert_eq!(
        body(&with(Fault::PhoneNumberInt, &post(1, 1, 102)))["resultDesc"]["phoneNumber"],
        8_801_102
    );
    assert_eq!(
        body(&with(Fault::Status9, &post(1, 1, 109)))["resultDesc"]["status"],
        9
    );
    assert_eq!(
        body(&with(Fault::StatusCtiMismatch, &post(1, 1, 102)))["resultDesc"]["citStatus"],
        7
    );
    assert_eq!(
        body(&with(Fault::WorkNoMismatch, &sample))["resultDesc"]["workNo"],
        102
    );
    assert_eq!(
        body(&with(Fault::VdnMismatch, &sample))["resultDatas"]["vdnId"],
        2
    );
    let v = body(&with(Fault::OutOfRangeAccepted, &post(1, 1, 60_000)));
    assert_eq!(
        (v["resultCode"].clone(), v["resultDesc"]["workNo"].clone()),
        (json!("0100000"), json!(60_000))
    );
    assert_eq!(
        body(&with(Fault::WrongErrorCode, &post(1, 1, 60_000)))["resultCode"],
        "0100001"
    );
    assert!(body(&with(Fault::ErrorWithAgent, &post(1, 1, 555)))["resultDesc"].is_object());
    let html = with(Fault::HtmlError, &post(1, 1, 60_000));
    assert_eq!(html.status, 200);
    assert!(html.body.starts_with(b"<!DOCTYPE html>"));
    assert_eq!(with(Fault::Error500, &post(1, 1, 60_000)).status, 500);
    assert_eq!(with(Fault::NotJson, &sample).body, b"OK");
    assert_eq!(
        with(Fault::TextPlain, &sample).header("content-type"),
        Some("text/plain;charset=UTF-8")
    );
    // Auth faults: each lifts exactly one check.
    let probes = probes();
    let find = |name: &str| {
        probes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| r.clone())
            .expect("probe")
    };
    assert_eq!(with(Fault::NoAuth, &find("unsigned")).status, 200);
    assert_eq!(with(Fault::NoAuth, &find("bad signature")).status, 401);
    assert_eq!(
        with(Fault::AcceptsBadSignature, &find("bad signature")).status,
        200
    );
    assert_eq!(
        with(Fault::AcceptsBadSignature, &find("unsigned")).status,
        401
    );
    assert_eq!(with(Fault::AcceptsStale, &find("stale")).status, 200);
    assert_eq!(
        with(Fault::AcceptsStale, &find("bad signature")).status,
        401
    );
    assert_eq!(with(Fault::AcceptsGet, &find("get")).status, 200);
    let mut put = find("get");
    put.method = "PUT".into();
    assert_eq!(with(Fault::AcceptsGet, &put).status, 401);
}

#[test]
fn variants_conform() {
    let base = SimConfig::default();
    for &variant in Variant::ALL {
        let cfg = SimConfig {
            variant: Some(variant),
            ..SimConfig::default()
        };
        let mut changed = false;
        let mut requests: Vec<SimRequest> = known_agents()
            .into_iter()
            .map(|(v, w)| post(1, v, w))
            .collect();
        requests.extend(probes().into_iter().map(|(_, r)| r));
        for req in &requests {
            let (a, b) = (respond(&base, req, NOW), respond(&cfg, req, NOW));
            changed |= a != b;
            assert_eq!(a.status, b.status, "{}", variant.name());
            let (va, mut vb) = (body(&a), body(&b));
            match variant {
                Variant::ReorderedKeys | Variant::Pretty => {
                    assert_eq!(va, vb);
                }
                Variant::Charsetless => {
                    assert_eq!(a.body, b.body);
                    assert_eq!(b.header("content-type"), Some("application/json"));
                }
                Variant::ExtraField => {
                    for key in ["resultDesc", "resultDatas"] {
                        if let Some(obj) = vb.get_mut(key).and_then(Value::as_object_mut) {
                            assert_eq!(obj.shift_remove("skillGroup"), Some(json!("default")));
                        }
                    }
                    assert_eq!(va, vb);
                }
                Variant::PhoneString => {
                    let phone = &vb["resultDesc"]["phoneNumber"];
                    if va["resultDesc"]["status"] == 2 && va["resultDesc"]["workNo"] != 101 {
                        assert_eq!(phone, "");
                    } else {
                        assert_eq!(*phone, va["resultDesc"]["phoneNumber"]);
                    }
                }
                Variant::MediaZero => {
                    if vb["resultDesc"].is_object() {
                        assert_eq!(vb["resultDesc"]["mediaType"], 0);
                        assert_eq!(vb["resultDatas"]["mediaType"], 0);
                    }
                }
            }
        }
        assert!(changed, "variant {} changes nothing", variant.name());
    }
    // Reordered keys really are reversed.
    let cfg = SimConfig {
        variant: Some(Variant::ReorderedKeys),
        ..SimConfig::default()
    };
    let text = String::from_utf8_lossy(&respond(&cfg, &post(1, 1, 101), NOW).body).into_owned();
    assert!(
        text.starts_with(r#"{"resultDesc":{"status":2,"mediaType":0"#),
        "{text}"
    );
}

/// Read one HTTP/1.1 response (headers + Content-Length body).
async fn read_response(stream: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed before headers");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status: u16 = head[9..12].parse().expect("status");
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .expect("content-length");
    while buf.len() < head_end + len {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed before body");
        buf.extend_from_slice(&chunk[..n]);
    }
    (status, head, buf[head_end..head_end + len].to_vec())
}

fn raw_request(req: &SimRequest) -> Vec<u8> {
    let mut out = format!("{} {} HTTP/1.1\r\n", req.method, req.path).into_bytes();
    for (n, v) in &req.headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", req.body.len()).as_bytes());
    out.extend_from_slice(&req.body);
    out
}

#[tokio::test]
async fn server_end_to_end() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let host = sim.addr().to_string();
    assert_eq!(sim.base_url(), format!("http://{host}"));
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(sim.hits(), 0);

    let mut stream = TcpStream::connect(sim.addr()).await.expect("connect");
    // Two requests on one keep-alive connection, signed over the real Host.
    for (agent_id, expected) in [(101, 200), (102, 200)] {
        let req = signed_at(
            "POST",
            vec![h("Host", &host), h("Content-Type", CT)],
            wrapped(1, 1, agent_id),
            Timestamp::now(),
        );
        stream.write_all(&raw_request(&req)).await.expect("write");
        let (status, head, body) = read_response(&mut stream).await;
        assert_eq!(status, expected, "{head}");
        assert!(head
            .to_ascii_lowercase()
            .contains("content-type: application/json;charset=utf-8"));
        assert!(!head.to_ascii_lowercase().contains("date:"), "{head}");
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["resultDesc"]["workNo"], agent_id);
    }

    // Signed for another Host: 401.
    let wrong_host = signed_at(
        "POST",
        vec![h("Host", "example.invalid"), h("Content-Type", CT)],
        wrapped(1, 1, 101),
        Timestamp::now(),
    );
    let mut sent = wrong_host.clone();
    sent.headers[0] = h("Host", &host);
    stream.write_all(&raw_request(&sent)).await.expect("write");
    let (status, _, body) = read_response(&mut stream).await;
    assert_eq!((status, body.as_slice()), (401, AUTH_FAILED.as_bytes()));

    // A declared body over the cap: 413 without reading it.
    let big =
        format!("POST {ENDPOINT_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 70000\r\n\r\n");
    let mut s2 = TcpStream::connect(sim.addr()).await.expect("connect");
    s2.write_all(big.as_bytes()).await.expect("write");
    let (status, _, body) = read_response(&mut s2).await;
    assert_eq!(status, 413);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("json")["resultCode"],
        "0100002"
    );
    drop(s2);

    assert_eq!(sim.hits(), 4);
    let addr = sim.addr();
    tokio::time::timeout(std::time::Duration::from_secs(10), sim.shutdown())
        .await
        .expect("graceful shutdown within 10 s");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still listening after shutdown"
    );
    // The idle keep-alive connection was closed.
    let mut rest = Vec::new();
    let n = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut rest),
    )
    .await
    .expect("closed promptly")
    .unwrap_or(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn drop_stops_the_server() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let addr = sim.addr();
    drop(sim);
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(refused, "still listening after drop");
}

/// Read until the server closes the connection; what it sent before closing.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
        }
    }
}

#[tokio::test]
async fn slow_clients_are_dropped_at_the_read_timeouts() {
    use std::time::{Duration, Instant};
    let cfg = SimConfig {
        head_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..SimConfig::default()
    };
    let sim = Simulator::start(cfg).await.expect("start");
    // Well above the 300 ms timeouts, well below hyper's 30 s default and
    // the 10 s defaults: only the configured timeouts can end these.
    let limit = Duration::from_secs(5);

    // A head, then 1 byte of the 100 promised, then nothing.
    let mut s = TcpStream::connect(sim.addr()).await.expect("connect");
    let head = format!(
        "POST {ENDPOINT_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: {CT}\r\nContent-Length: 100\r\n\r\n{{"
    );
    s.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    let sent = tokio::time::timeout(limit, read_until_closed(&mut s))
        .await
        .expect("a dribbled body must not hold the connection");
    let text = String::from_utf8_lossy(&sent).into_owned();
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    assert!(started.elapsed() >= Duration::from_millis(250), "{text}");

    // Half a head, then nothing: closed without an answer.
    let mut s = TcpStream::connect(sim.addr()).await.expect("connect");
    s.write_all(format!("POST {ENDPOINT_PATH} HTTP/1.1\r\nHost: x\r\n").as_bytes())
        .await
        .expect("write");
    tokio::time::timeout(limit, read_until_closed(&mut s))
        .await
        .expect("a dribbled head must not hold the connection");

    // Nothing at all.
    let mut s = TcpStream::connect(sim.addr()).await.expect("connect");
    tokio::time::timeout(limit, read_until_closed(&mut s))
        .await
        .expect("a silent client must not hold the connection");
}
