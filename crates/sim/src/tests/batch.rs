//! agentstatusinfobyagentids: the page's sample, the id-list checks it
//! shares with the counts endpoint, its options and its faults.

use serde_json::{json, Value};

use super::*;

const ITEM_1031: &str = r#"{"prevState":1,"agentId":1031,"logonTime":4294967295000,"agentRelease":0,"locationId":65535,"currentPrivateCallNum":0,"currentStateTime":2224439,"currentStateReason":65535,"prevStateTime":4294967295,"currentState":0}"#;
const ITEM_1099: &str = r#"{"prevState":1,"agentId":1099,"logonTime":4294967295000,"agentRelease":0,"locationId":65535,"currentPrivateCallNum":0,"currentStateTime":230703,"currentStateReason":258,"prevStateTime":4294967295,"currentState":0}"#;

fn ids_of(items: &Value) -> Vec<i64> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["agentId"].as_i64().expect("agentId"))
        .collect()
}

#[test]
fn the_sample_exchange_byte_for_byte() {
    let resp = run(&post_raw(
        path_of(BATCH),
        br#"{"ccId":1,"vdn":170,"agentIds":[1031,1099]}"#.to_vec(),
    ));
    assert_eq!(resp.headers, vec![h("Content-Type", CT)]);
    let expected = format!(
        r#"{{"result":"0","resultCode":"0100000","resultDatas":[{ITEM_1031},{ITEM_1099}],"resultDesc":[{ITEM_1031},{ITEM_1099}]}}"#
    );
    assert_eq!(String::from_utf8_lossy(&resp.body), expected);
}

#[test]
fn items_follow_the_population() {
    let items = desc(&run(&batch(1, &[102, 103, 111, 59_999])));
    assert_eq!(ids_of(&items), [102, 103, 111, 59_999]);
    let states: Vec<i64> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["currentState"].as_i64().unwrap())
        .collect();
    assert_eq!(states, [1, 7, 0, 1]);
    let idle = &items[0];
    assert_eq!(idle["logonTime"], 1_722_556_800_000_i64 + 102 * 60_000);
    assert_eq!(idle["prevState"], 0);
    assert_eq!(idle["currentStateTime"], 102 * 37);
    assert_eq!(items[2]["logonTime"], 4_294_967_295_000_i64);
    assert_eq!(items[2]["prevStateTime"], 4_294_967_295_i64);
}

/// The id-list checks, the same on the batch and the counts endpoint.
#[test]
fn id_list_checks() {
    let cases: &[(&str, &str)] = &[
        (r#"{}"#, "missing field ccId"),
        (r#"{"ccId":1,"agentIds":[1031]}"#, "missing field vdn"),
        (r#"{"ccId":1,"vdn":170}"#, "missing field agentIds"),
        (
            r#"{"queryParam":{"ccId":1,"vdn":170,"agentIds":[1031]}}"#,
            "missing field ccId",
        ),
        (
            r#"{"ccId":"1","vdn":170,"agentIds":[1031]}"#,
            "field ccId must be an integer, found string",
        ),
        (
            r#"{"ccId":1,"vdn":170,"agentIds":1031}"#,
            "field agentIds must be an array, found integer",
        ),
        (
            r#"{"ccId":1,"vdn":170,"agentIds":{"0":1031}}"#,
            "field agentIds must be an array, found object",
        ),
        (
            r#"{"ccId":1,"vdn":170,"agentIds":[1031,"1099"]}"#,
            "field agentIds[1] must be an integer, found string",
        ),
        (
            r#"{"ccId":1,"vdn":170,"agentIds":[1031.0]}"#,
            "field agentIds[0] must be an integer, found float",
        ),
        (
            r#"{"ccId":1,"vdn":170,"agentIds":[null]}"#,
            "field agentIds[0] must be an integer, found null",
        ),
        // Types first: a bad element beats an out-of-range ccId.
        (
            r#"{"ccId":0,"vdn":170,"agentIds":[[1]]}"#,
            "field agentIds[0] must be an integer, found array",
        ),
        (
            r#"{"ccId":0,"vdn":170,"agentIds":[1031]}"#,
            "field ccId out of range (Table 2 row 1: 1-65535)",
        ),
        (
            r#"{"ccId":1,"vdn":5001,"agentIds":[1031]}"#,
            "field vdn out of range (Table 2 row 2: 1-5000)",
        ),
        (
            r#"{"ccId":1,"vdn":170,"agentIds":[]}"#,
            "field agentIds is empty",
        ),
        (
            r#"{"ccId":1,"vdn":170,"agentIds":[1031,100]}"#,
            "field agentIds[1] out of range (Table 2 row 3: 101-59999)",
        ),
        (
            r#"{"ccId":1,"vdn":170,"agentIds":[60000]}"#,
            "field agentIds[0] out of range",
        ),
        (
            r#"{"ccId":1,"vdn":170,"agentIds":[70000]}"#,
            "field agentIds[0] out of range",
        ),
        (
            r#"{"ccId":1,"vdn":170,"agentIds":[18446744073709551615]}"#,
            "field agentIds[0] out of range",
        ),
    ];
    for name in [BATCH, TEAM] {
        for (b, text) in cases {
            assert_error(
                &run(&post_raw(path_of(name), b.as_bytes().to_vec())),
                200,
                "0100002",
                text,
            );
        }
        let over: Vec<i64> = (40_000..=46_000).collect();
        assert_error(
            &run(&post_json(name, json!({"ccId":1,"vdn":40,"agentIds":over}))),
            200,
            "0100002",
            "field agentIds has 6001 ids (Table 2 row 3: at most 6000)",
        );
        let at_limit: Vec<i64> = (40_000..46_000).collect();
        assert_eq!(
            body(&run(&post_json(
                name,
                json!({"ccId":1,"vdn":40,"agentIds":at_limit})
            )))["resultCode"],
            "0100000"
        );
        // Out of range: the wrong-error-code fault touches these.
        let resp = run_with(
            &with_fault(Fault::WrongErrorCode),
            &post_raw(path_of(name), cases[11].0.as_bytes().to_vec()),
        );
        assert_eq!(body(&resp)["resultCode"], "0100001");
        // 2025-11 accepts the new band (70000 is in no VDN).
        let cfg = SimConfig {
            release: "2025-11".into(),
            ..SimConfig::default()
        };
        let resp = run_with(
            &cfg,
            &post_json(name, json!({"ccId":1,"vdn":170,"agentIds":[70_000, 1031]})),
        );
        assert_eq!(body(&resp)["resultCode"], "0100000", "{name}");
    }
}

#[test]
fn body_shape_option() {
    let wrapped = post_json(
        BATCH,
        json!({"queryParam": {"ccId": 1, "vdn": 170, "agentIds": [1031]}}),
    );
    for key in ["body_shape", "agentstatusinfobyagentids.body_shape"] {
        let cfg = with_options(&[(key, "wrapped")]);
        assert_eq!(ids_of(&desc(&run_with(&cfg, &wrapped))), [1031]);
        assert_error(
            &run_with(&cfg, &batch(170, &[1031])),
            200,
            "0100002",
            "missing field queryParam",
        );
    }
}

#[test]
fn item_order_option() {
    let req = batch(1, &[105, 59_999, 102, 110]);
    assert_eq!(ids_of(&desc(&run(&req))), [105, 59_999, 102, 110]);
    let sorted = with_options(&[("item_order", "sorted")]);
    assert_eq!(
        ids_of(&desc(&run_with(&sorted, &req))),
        [102, 105, 110, 59_999]
    );
}

#[test]
fn unknown_ids_option() {
    // 101 is in VDN 1, 555 nowhere: both unknown in VDN 170.
    let req = batch(170, &[1031, 101, 555, 1099]);
    assert_eq!(ids_of(&desc(&run(&req))), [1031, 1099]);
    let other_cc = post_json(BATCH, json!({"ccId": 2, "vdn": 170, "agentIds": [1031]}));
    assert_eq!(desc(&run(&other_cc)), json!([]));
    let reject = with_options(&[("unknown_ids", "reject")]);
    assert_error(
        &run_with(&reject, &req),
        200,
        "0100002",
        "agent 101 not found in vdn 170",
    );
    assert_eq!(
        ids_of(&desc(&run_with(&reject, &batch(170, &[1099])))),
        [1099]
    );
}

#[test]
fn duplicate_ids_option() {
    let req = batch(170, &[1031, 1099, 1031, 1031]);
    assert_eq!(ids_of(&desc(&run(&req))), [1031, 1099]);
    let each = with_options(&[("duplicate_ids", "each")]);
    assert_eq!(
        ids_of(&desc(&run_with(&each, &req))),
        [1031, 1099, 1031, 1031]
    );
}

#[test]
fn empty_and_over_limit_options() {
    let allowed = with_options(&[("empty_ids", "allowed")]);
    assert_eq!(desc(&run_with(&allowed, &batch(170, &[]))), json!([]));
    let over: Vec<i64> = (40_000..=46_000).collect();
    let truncated = with_options(&[("over_limit", "truncated")]);
    let items = desc(&run_with(&truncated, &batch(40, &over)));
    let ids = ids_of(&items);
    assert_eq!(ids.len(), 6000);
    assert_eq!(ids.last(), Some(&45_999));
}

#[test]
fn faults_do_what_they_say() {
    let req = batch(1, &[101, 102, 103]);
    let base = desc(&run(&req));
    let with = |f: Fault, req: &SimRequest| body(&run_with(&with_fault(f), req));
    assert_eq!(
        ids_of(&with(Fault::BatchMissingItem, &req)["resultDesc"]),
        [101, 102]
    );
    let extra = ids_of(&with(Fault::BatchExtraItem, &req)["resultDesc"]);
    assert_eq!(extra, [101, 102, 103, 104]);
    assert_eq!(
        ids_of(&with(Fault::BatchDuplicateItems, &req)["resultDesc"]),
        [101, 101, 102, 103]
    );
    assert_eq!(
        ids_of(&with(Fault::BatchOrderReversed, &req)["resultDesc"]),
        [103, 102, 101]
    );
    let v = with(Fault::BatchLogonSeconds, &req)["resultDesc"].clone();
    assert_eq!(v[0]["logonTime"], base[0]["logonTime"]);
    assert_eq!(
        v[1]["logonTime"],
        base[1]["logonTime"].as_i64().unwrap() / 1000
    );
    let v = with(Fault::BatchLogonSentinelSignedIn, &req)["resultDesc"].clone();
    assert_eq!(v[1]["logonTime"], 4_294_967_295_000_i64);
    assert_eq!(v[2]["logonTime"], 4_294_967_295_000_i64);
    let v = with(Fault::BatchLogonRealSignedOut, &req)["resultDesc"].clone();
    assert_eq!(v[0]["logonTime"], 1_722_556_800_000_i64 + 101 * 60_000);
    assert_eq!(v[1]["logonTime"], base[1]["logonTime"]);
    let v = with(Fault::BatchStateOutOfRange, &req)["resultDesc"].clone();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["currentState"] == 11));
    assert_eq!(
        with(Fault::BatchAgentIdString, &req)["resultDesc"][0]["agentId"],
        "101"
    );
    assert_eq!(
        with(Fault::BatchNegativeStateTime, &req)["resultDesc"][1]["currentStateTime"],
        -(102 * 37)
    );
    let v = with(Fault::BatchStateDisagrees, &req)["resultDesc"].clone();
    for (item, b) in v.as_array().unwrap().iter().zip(base.as_array().unwrap()) {
        assert_eq!(item["currentState"], b["prevState"]);
        assert_ne!(item["currentState"], b["currentState"]);
    }
    let v = with(Fault::BatchDescNotArray, &req);
    assert_eq!(v["resultDesc"]["102"], base[1]);
    assert_eq!(v["resultDatas"], base);
    let over: Vec<i64> = (40_000..=46_000).collect();
    let v = with(Fault::BatchAccepts6001, &batch(40, &over));
    assert_eq!(v["resultDesc"].as_array().map(Vec::len), Some(6001));
    let more: Vec<i64> = (40_000..=46_001).collect();
    assert_eq!(
        with(Fault::BatchAccepts6001, &batch(40, &more))["resultCode"],
        "0100002"
    );
    // The extra item comes from another VDN when the whole VDN was asked for.
    let all: Vec<i64> = (1031..=1040).chain([1099]).collect();
    let extra = ids_of(&with(Fault::BatchExtraItem, &batch(170, &all))["resultDesc"]);
    assert_eq!(extra.last(), Some(&101));
}

#[test]
fn variants_conform() {
    let req = batch(1, &[101, 102, 103]);
    let base = body(&run(&req));
    let v = body(&run_with(&with_variant(Variant::ExtraField), &req));
    for key in ["resultDesc", "resultDatas"] {
        for (item, b) in v[key]
            .as_array()
            .unwrap()
            .iter()
            .zip(base[key].as_array().unwrap())
        {
            let mut item = item.clone();
            let obj = item.as_object_mut().unwrap();
            assert_eq!(obj.shift_remove("skillGroup"), Some(json!("default")));
            assert_eq!(&item, b);
        }
    }
    for variant in [
        Variant::ReorderedKeys,
        Variant::Pretty,
        Variant::Charsetless,
    ] {
        let resp = run_with(&with_variant(variant), &req);
        assert_eq!(body(&resp), base, "{variant}");
    }
    let reversed = run_with(&with_variant(Variant::ReorderedKeys), &req);
    assert!(reversed
        .body
        .starts_with(br#"{"resultDesc":[{"currentState":0,"prevStateTime""#));
    // agentbyworkno's own variants leave the batch alone.
    for variant in [Variant::PhoneString, Variant::MediaZero] {
        assert_eq!(run_with(&with_variant(variant), &req), run(&req));
    }
}
