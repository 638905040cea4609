//! The checks every endpoint shares, in their order: body size, path,
//! auth-v2, method, Content-Type, JSON body and shape; and the 8.13 form.

use serde_json::{json, Value};

use super::*;

#[test]
fn check_order_413_404_401_405() {
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    let mut req = signed("GET", "/nowhere", vec![h("Host", HOST)], big, NOW);
    req.headers.retain(|(n, _)| n != "Authorization");
    assert_eq!(run(&req).status, 413);
    req.body.clear();
    assert_error(&run(&req), 404, "0100001", "no such endpoint");
    for &(_, path) in ENDPOINTS {
        req.path = path.to_owned();
        // Unsigned GET: authentication is checked before the method.
        assert_eq!(String::from_utf8_lossy(&run(&req).body), AUTH_FAILED);
        assert_eq!(run(&req).status, 401);
    }
}

#[test]
fn wrong_path_is_404() {
    let mut req = abw(1, 1, 101);
    for path in [
        "/",
        "/rest/cmsapp/v1/openapi/agent/agentbyworkno/",
        "/rest/cmsapp/v1/openapi/agentgroup/agentstatusinfobyagentids/",
        "/rest/cmsapp/v1/openapi/vdn/totalagentabstractex3x",
        "/x",
        "",
    ] {
        req.path = path.to_owned();
        assert_error(&run(&req), 404, "0100001", "no such endpoint");
    }
}

#[test]
fn authentication_failures_are_401_on_every_endpoint() {
    for &(name, path) in ENDPOINTS {
        let good = happy(name);
        assert_eq!(run(&good).status, 200, "{name}");
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
        let at = |ts: u64| {
            signed(
                "POST",
                path,
                vec![h("Host", HOST), h("Content-Type", CT)],
                good.body.clone(),
                Timestamp(ts),
            )
        };
        let cases: Vec<(&str, SimRequest)> = vec![
            ("missing", with_auth(None)),
            ("blank", with_auth(Some("   "))),
            ("garbled", with_auth(Some("auth-v2/garbage"))),
            ("unknown ak", with_auth(Some(&other_ak))),
            ("bad signature", with_auth(Some(&bad_sig))),
            ("stale", at(NOW.0 - 901)),
            ("future", at(NOW.0 + 901)),
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
                r.body.push(b' ');
                r
            }),
            ("method changed", {
                let mut r = good.clone();
                r.method = "PUT".to_owned();
                r
            }),
            ("path changed", {
                let mut r = good.clone();
                let other = ENDPOINTS.iter().find(|(_, p)| *p != path).unwrap().1;
                r.path = other.to_owned();
                r
            }),
        ];
        for (what, req) in cases {
            let resp = run(&req);
            assert_eq!(resp.status, 401, "{name} {what}");
            assert_eq!(String::from_utf8_lossy(&resp.body), AUTH_FAILED, "{what}");
            assert_eq!(resp.header("content-type"), Some(CT));
        }
        // Within the skew window both ways, and lower-case header names.
        for ts in [NOW.0 - 900, NOW.0 + 900] {
            let r = signed(
                "POST",
                path,
                vec![h("host", HOST), h("content-type", CT)],
                good.body.clone(),
                Timestamp(ts),
            );
            assert_eq!(run(&r).status, 200, "{name}");
        }
        // The skew window is configurable.
        let narrow = SimConfig {
            skew_secs: 10,
            ..SimConfig::default()
        };
        assert_eq!(run_with(&narrow, &at(NOW.0 - 11)).status, 401);
        assert_eq!(run_with(&narrow, &at(NOW.0 - 10)).status, 200);
    }
}

#[test]
fn signed_query_and_more_headers_verify() {
    let query = vec![h("lang", "zh cn"), h("a", "{1}")];
    let headers = vec![h("Host", HOST), h("Content-Type", CT), h("X-Trace", "t-1")];
    let body = abw_body(1, 2, 201);
    let path = path_of(AGENTBYWORKNO);
    let auth = cms_auth_v2::authorization(
        &SimConfig::default().credentials,
        NOW,
        &cms_auth_v2::CanonicalInput {
            method: "POST",
            path,
            query: &query,
            headers: &headers,
            body: &body,
        },
    );
    let mut req = SimRequest {
        method: "POST".into(),
        path: path.into(),
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
fn other_methods_are_405_with_allow_post() {
    for &(name, path) in ENDPOINTS {
        for m in ["GET", "PUT", "DELETE", "PATCH", "HEAD", "post"] {
            let req = signed(
                m,
                path,
                vec![h("Host", HOST), h("Content-Type", CT)],
                happy(name).body,
                NOW,
            );
            let resp = run(&req);
            assert_error(&resp, 405, "0100001", "method not allowed");
            assert_eq!(resp.header("allow"), Some("POST"), "{name} {m}");
        }
    }
}

#[test]
fn content_type_checks() {
    for &(name, path) in ENDPOINTS {
        let with_ct = |ct: Option<&str>| {
            let mut headers = vec![h("Host", HOST)];
            if let Some(ct) = ct {
                headers.push(h("Content-Type", ct));
            }
            signed("POST", path, headers, happy(name).body, NOW)
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
}

#[test]
fn wrapped_body_errors() {
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
    ];
    for (b, text) in cases {
        let req = post_raw(path_of(AGENTBYWORKNO), b.as_bytes().to_vec());
        assert_error(&run(&req), 200, "0100002", text);
    }
}

#[test]
fn flat_body_errors_on_every_flat_endpoint() {
    for name in [BATCH, TEAM, VDN_LISTING] {
        for (b, text) in [
            ("", "not valid JSON"),
            ("[1031]", "must be a JSON object, found array"),
            ("\"x\"", "must be a JSON object, found string"),
            ("{}", "missing field ccId"),
        ] {
            let req = post_raw(path_of(name), b.as_bytes().to_vec());
            assert_error(&run(&req), 200, "0100002", text);
        }
    }
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
        "{\"ccId\":1,\"vdn\":1,\"agentIds\":[1e999]}",
        "{\"ccId\":1,\"vdn\":1,\"agentIds\":[-1,0,9223372036854775807]}",
        "{\"ccId\":1,\"vdn\":1,\"agentIds\":[[],{},null,true]}",
        "{\"ccId\":1,\"vdn\":1,\"limit\":9223372036854775807,\"offset\":9223372036854775807}",
        "{\"ccId\":1,\"vdn\":1,\"limit\":1000,\"offset\":18446744073709551615}",
        "{\"ccId\":1,\"vdn\":1,\"limit\":-9223372036854775808,\"offset\":0}",
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
    for shape in ["wrapped", "flat"] {
        let cfg = with_options(&[("body_shape", shape)]);
        for &(_, path) in ENDPOINTS {
            for b in nasty_bodies() {
                for method in ["POST", "GET", "OPTIONS", ""] {
                    let req = signed(
                        method,
                        path,
                        vec![h("Host", HOST), h("Content-Type", CT)],
                        b.clone(),
                        NOW,
                    );
                    let resp = run_with(&cfg, &req);
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
                    assert!(body(&resp)["resultCode"].is_string());
                }
            }
        }
    }
    // Odd request lines and headers too.
    let mut req = abw(1, 1, 101);
    req.headers.push(h("Content-Type", "text/plain"));
    req.query = vec![h("", ""), h("\u{0}", "\u{ffff}")];
    assert_eq!(run(&req).status, 401);
    req.path = String::new();
    assert_eq!(run(&req).status, 404);
}

#[test]
fn release_8_13_answers_the_legacy_form_everywhere() {
    let cfg = SimConfig {
        release: "8.13".into(),
        ..SimConfig::default()
    };
    for &(name, _) in ENDPOINTS {
        let current = body(&run(&happy(name)));
        let legacy = body(&run_with(&cfg, &happy(name)));
        let keys: Vec<&str> = legacy
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert!(keys == ["result", "resultDatas"] || keys == ["result", "count", "resultDatas"]);
        assert_eq!(legacy["result"], "0");
        if name != AGENTBYWORKNO {
            // Only agentbyworkno's twin lower-cases keys.
            assert_eq!(legacy["resultDatas"], current["resultDatas"], "{name}");
        }
    }
    let v = body(&run_with(&cfg, &batch(170, &[])));
    assert_eq!(v, json!({"result": "0100002"}));
    // The 2024-08 and 2025-11 forms carry both envelopes.
    for release in ["2024-08", "2025-11"] {
        let cfg = SimConfig {
            release: release.into(),
            ..SimConfig::default()
        };
        let v: Value = body(&run_with(&cfg, &happy(TEAM)));
        assert!(v.get("resultCode").is_some() && v.get("resultDesc").is_some());
    }
}
