//! agentbyworkno: the page's sample, the population, Table 2 checks,
//! options, releases, and what each of its faults and variants does.

use serde_json::{json, Value};

use super::*;

const SAMPLE_AGENT: &str = r#"{"workNo":101,"vdnId":1,"citStatus":0,"name":"HW35154101","phoneNumber":null,"loginDate":4294967295000,"currentStateTime":436879,"mediaType":0,"status":2}"#;
const TWIN: &str = "/rest/cmsapp/v1/openapi/agentgroup/agentbyworkno";

/// Table 5: the CTI states each status goes with (status 9 under `allowed`).
fn table5(status: i64) -> &'static [i64] {
    match status {
        0 => &[9],
        2 => &[0],
        3 => &[7],
        4 => &[1],
        5 => &[6],
        7 => &[2, 3, 4, 5],
        8 | 9 => &[8],
        _ => &[],
    }
}

#[test]
fn sample_byte_for_byte() {
    let resp = run(&abw(1, 1, 101));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.headers, vec![h("Content-Type", CT)]);
    let expected = format!(
        r#"{{"result":"0","resultCode":"0100000","resultDatas":{SAMPLE_AGENT},"resultDesc":{SAMPLE_AGENT}}}"#
    );
    assert_eq!(String::from_utf8_lossy(&resp.body), expected);
}

#[test]
fn every_known_agent_answers_itself() {
    for (vdn, w) in known_agents() {
        // The large VDN is the same rules 10,000 times: a sample will do.
        if vdn == 40 && w % 97 != 0 {
            continue;
        }
        let a = desc(&run(&abw(1, vdn, w)));
        assert_eq!(
            (a["workNo"].clone(), a["vdnId"].clone()),
            (json!(w), json!(vdn))
        );
        let status = a["status"].as_i64().expect("status");
        let cti = a["citStatus"].as_i64().expect("citStatus");
        assert!(table5(status).contains(&cti), "{a}");
        let signed_out = status == 2;
        assert_eq!(a["loginDate"] == 4_294_967_295_000_i64, signed_out, "{a}");
        assert_eq!(a["phoneNumber"].is_null(), signed_out, "{a}");
        assert_eq!(a["name"], format!("HW35154{w}"));
        let media = a["mediaType"].as_i64().expect("mediaType");
        assert!(
            (0..=23).contains(&media) || (50..=55).contains(&media),
            "{a}"
        );
    }
}

#[test]
fn todays_agents_are_unchanged() {
    let a = desc(&run(&abw(1, 2, 203)));
    assert_eq!(
        a,
        json!({"workNo":203,"vdnId":2,"citStatus":7,"name":"HW35154203","phoneNumber":"8801203",
               "loginDate":1_722_556_800_000_i64 + 203 * 60_000,"currentStateTime":203 * 37,
               "mediaType":51,"status":3})
    );
    let states: Vec<(i64, i64)> = (101..=120)
        .map(|w| {
            let a = desc(&run(&abw(1, 1, w)));
            (
                a["status"].as_i64().unwrap(),
                a["citStatus"].as_i64().unwrap(),
            )
        })
        .collect();
    let cycle = [
        (2, 0),
        (4, 1),
        (3, 7),
        (5, 6),
        (7, 2),
        (7, 3),
        (7, 4),
        (7, 5),
        (8, 8),
        (0, 9),
    ];
    assert_eq!(states, [cycle, cycle].concat());
    let top = desc(&run(&abw(1, 1, 59_999)));
    assert_eq!(
        (top["status"].clone(), top["citStatus"].clone()),
        (json!(4), json!(1))
    );
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
            &run(&abw(cc, vdn, agent_id)),
            200,
            "0100002",
            &format!("field {field} out of range"),
        );
    }
    let huge = br#"{"queryParam":{"ccId":1,"vdn":1,"agentId":18446744073709551615}}"#;
    assert_error(
        &run(&post_raw(path_of(AGENTBYWORKNO), huge.to_vec())),
        200,
        "0100002",
        "field agentId out of range (Table 2 row 3: 101-59999)",
    );
    // Edges are in range (and 59999 exists).
    assert_eq!(body(&run(&abw(1, 1, 59_999)))["resultCode"], "0100000");
    assert_error(&run(&abw(65_535, 5_000, 101)), 200, "0100001", "not found");
}

#[test]
fn type_errors_come_before_range_errors() {
    let b = br#"{"queryParam":{"ccId":0,"vdn":1,"agentId":"101"}}"#;
    assert_error(
        &run(&post_raw(path_of(AGENTBYWORKNO), b.to_vec())),
        200,
        "0100002",
        "field agentId must be an integer, found string",
    );
}

#[test]
fn unknown_agents_are_0100001_or_as_the_option_says() {
    for (cc, vdn, agent, text) in [
        (1, 1, 555, "agent 555 not found in vdn 1"),
        (1, 2, 101, "agent 101 not found in vdn 2"),
        (1, 4, 401, "agent 401 not found in vdn 4"),
        (2, 1, 101, "agent 101 not found in vdn 1 of call center 2"),
    ] {
        assert_error(&run(&abw(cc, vdn, agent)), 200, "0100001", text);
        for key in ["unknown_agent_code", "agentbyworkno.unknown_agent_code"] {
            let cfg = with_options(&[(key, "0100002")]);
            assert_error(&run_with(&cfg, &abw(cc, vdn, agent)), 200, "0100002", text);
        }
    }
}

#[test]
fn body_shape_option() {
    let flat = post_raw(
        path_of(AGENTBYWORKNO),
        br#"{"ccId":1,"vdn":1,"agentId":101}"#.to_vec(),
    );
    assert_error(&run(&flat), 200, "0100002", "missing field queryParam");
    for key in ["body_shape", "agentbyworkno.body_shape"] {
        let cfg = with_options(&[(key, "flat")]);
        assert_eq!(desc(&run_with(&cfg, &flat))["workNo"], 101);
        assert_error(
            &run_with(&cfg, &abw(1, 1, 101)),
            200,
            "0100002",
            "missing field ccId",
        );
    }
    // Another endpoint's shape does not touch this one.
    let cfg = with_options(&[("agentstatusinfobyagentids.body_shape", "wrapped")]);
    assert_eq!(run_with(&cfg, &abw(1, 1, 101)), run(&abw(1, 1, 101)));
}

#[test]
fn status9_option() {
    let allowed = with_options(&[("status9", "allowed")]);
    let a = desc(&run_with(&allowed, &abw(1, 1, 120)));
    assert_eq!(
        (a["status"].clone(), a["citStatus"].clone()),
        (json!(9), json!(8))
    );
    assert_eq!(desc(&run(&abw(1, 1, 120)))["status"], 0);
    // Nobody else changes.
    assert_eq!(run_with(&allowed, &abw(1, 1, 119)), run(&abw(1, 1, 119)));
}

#[test]
fn release_2025_11_widens_agent_id() {
    let cfg = SimConfig {
        release: "2025-11".into(),
        ..SimConfig::default()
    };
    assert_error(
        &run_with(&cfg, &abw(1, 1, 70_000)),
        200,
        "0100001",
        "not found",
    );
    assert_error(
        &run_with(&cfg, &abw(1, 1, 999_999)),
        200,
        "0100001",
        "not found",
    );
    assert_error(
        &run_with(&cfg, &abw(1, 1, 69_999)),
        200,
        "0100002",
        "(Table 2 row 3: 101-59999, 70000-999999)",
    );
    assert_error(
        &run_with(&cfg, &abw(1, 1, 1_000_000)),
        200,
        "0100002",
        "out of range",
    );
    // Unknown releases are served as 2024-08.
    let odd = SimConfig {
        release: "2099-01".into(),
        ..SimConfig::default()
    };
    assert_eq!(run_with(&odd, &abw(1, 1, 70_000)), run(&abw(1, 1, 70_000)));
}

#[test]
fn legacy_form_on_the_twin_and_under_8_13() {
    let lower = r#"{"workno":101,"vdnid":1,"citstatus":0,"name":"HW35154101","phonenumber":null,"logindate":4294967295000,"currentstatetime":436879,"mediatype":0,"status":2}"#;
    let expected = format!(r#"{{"result":"0","resultDatas":{lower}}}"#);
    let twin = signed(
        "POST",
        TWIN,
        vec![h("Host", HOST), h("Content-Type", CT)],
        abw_body(1, 1, 101),
        NOW,
    );
    assert_eq!(String::from_utf8_lossy(&run(&twin).body), expected);
    let v813 = SimConfig {
        release: "8.13".into(),
        ..SimConfig::default()
    };
    assert_eq!(
        String::from_utf8_lossy(&run_with(&v813, &abw(1, 1, 101)).body),
        expected
    );
    // Errors carry their code in `result`.
    assert_eq!(
        body(&run_with(&v813, &abw(1, 1, 60_000))),
        json!({"result": "0100002"})
    );
    let mut unsigned = abw(1, 1, 101);
    unsigned.headers.retain(|(n, _)| n != "Authorization");
    let resp = run_with(&v813, &unsigned);
    assert_eq!(
        (resp.status, body(&resp)),
        (401, json!({"result": "0100001"}))
    );
}

#[test]
fn login_faults() {
    let login = |fault: Fault, w: i64| {
        desc(&run_with(&with_fault(fault), &abw(1, 1, w)))["loginDate"].clone()
    };
    // 101 is signed out, 102 idle.
    let real_102 = 1_722_556_800_000_i64 + 102 * 60_000;
    assert_eq!(
        login(Fault::LoginSentinelSignedIn, 102),
        4_294_967_295_000_i64
    );
    assert_eq!(
        login(Fault::LoginSentinelSignedIn, 101),
        4_294_967_295_000_i64
    );
    assert_eq!(login(Fault::LoginSeconds, 102), real_102 / 1000);
    assert_eq!(login(Fault::LoginSeconds, 101), 4_294_967_295_000_i64);
    assert_eq!(
        login(Fault::LoginRealSignedOut, 101),
        1_722_556_800_000_i64 + 101 * 60_000
    );
    assert_eq!(login(Fault::LoginRealSignedOut, 102), real_102);
}

#[test]
fn fault_spot_checks() {
    let with = |fault: Fault, req: &SimRequest| run_with(&with_fault(fault), req);
    let sample = abw(1, 1, 101);
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
        body(&with(Fault::PhoneNumberInt, &abw(1, 1, 102)))["resultDesc"]["phoneNumber"],
        8_801_102
    );
    assert_eq!(
        body(&with(Fault::Status9, &abw(1, 1, 109)))["resultDesc"]["status"],
        9
    );
    assert_eq!(
        body(&with(Fault::StatusCtiMismatch, &abw(1, 1, 102)))["resultDesc"]["citStatus"],
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
    assert!(body(&with(Fault::MissingFieldName, &sample))["resultDesc"]
        .get("name")
        .is_none());
    assert_eq!(
        body(&with(Fault::NameNumber, &sample))["resultDesc"]["name"],
        101
    );
    assert_eq!(
        body(&with(Fault::LoginDateString, &sample))["resultDesc"]["loginDate"],
        "4294967295000"
    );
    assert_eq!(
        body(&with(Fault::StatusOutOfEnum, &sample))["resultDesc"]["status"],
        11
    );
    assert_eq!(
        body(&with(Fault::CtiOutOfRange, &sample))["resultDesc"]["citStatus"],
        12
    );
    assert_eq!(
        body(&with(Fault::MediaTypeInvalid, &sample))["resultDesc"]["mediaType"],
        30
    );
    let v = body(&with(Fault::OutOfRangeAccepted, &abw(1, 1, 60_000)));
    assert_eq!(
        (v["resultCode"].clone(), v["resultDesc"]["workNo"].clone()),
        (json!("0100000"), json!(60_000))
    );
    assert_eq!(
        body(&with(Fault::WrongErrorCode, &abw(1, 1, 60_000)))["resultCode"],
        "0100001"
    );
    let v = body(&with(Fault::ErrorWithAgent, &abw(1, 1, 555)));
    assert_eq!(
        (v["resultCode"].clone(), v["resultDesc"]["workNo"].clone()),
        (json!("0100001"), json!(555))
    );
    let html = with(Fault::HtmlError, &abw(1, 1, 60_000));
    assert_eq!(html.status, 200);
    assert!(html.body.starts_with(b"<!DOCTYPE html>"));
    assert_eq!(with(Fault::Error500, &abw(1, 1, 60_000)).status, 500);
    assert_eq!(with(Fault::NotJson, &sample).body, b"OK");
    assert_eq!(
        with(Fault::TextPlain, &sample).header("content-type"),
        Some("text/plain;charset=UTF-8")
    );
}

#[test]
fn variants_conform() {
    let mut requests: Vec<SimRequest> = (101..=120).map(|w| abw(1, 1, w)).collect();
    requests.extend([
        abw(1, 2, 203),
        abw(1, 1, 59_999),
        abw(1, 1, 555),
        abw(1, 1, 60_000),
    ]);
    for variant in Variant::all() {
        let cfg = with_variant(variant);
        let mut changed = false;
        for req in &requests {
            let (a, b) = (run(req), run_with(&cfg, req));
            changed |= a != b;
            assert_eq!(a.status, b.status, "{variant}");
            let (va, mut vb) = (body(&a), body(&b));
            match variant {
                Variant::ReorderedKeys | Variant::Pretty => assert_eq!(va, vb),
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
        assert!(
            changed,
            "variant {variant} changes nothing on agentbyworkno"
        );
    }
    let cfg = with_variant(Variant::ReorderedKeys);
    let text = String::from_utf8_lossy(&run_with(&cfg, &abw(1, 1, 101)).body).into_owned();
    assert!(
        text.starts_with(r#"{"resultDesc":{"status":2,"mediaType":0"#),
        "{text}"
    );
}
