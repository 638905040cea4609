//! totalagentabstractex3: pages, count, checks, options and faults.

use serde_json::{json, Value};

use super::*;

fn ids_of(items: &Value) -> Vec<i64> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["agentId"].as_i64().expect("agentId"))
        .collect()
}

/// `(resultDesc, count)` of a success answer.
fn page(cfg: &SimConfig, vdn: i64, limit: i64, offset: i64) -> (Value, Value) {
    let resp = run_with(cfg, &listing(vdn, limit, offset));
    let v = body(&resp);
    assert_eq!(v["resultCode"], "0100000", "{v}");
    assert_eq!(v["resultDatas"], v["resultDesc"]);
    (v["resultDesc"].clone(), v["count"].clone())
}

/// Every agent of `vdn`, walking pages of `limit`.
fn walk(cfg: &SimConfig, vdn: i64, limit: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let (items, _) = page(cfg, vdn, limit, offset);
        let ids = ids_of(&items);
        if ids.is_empty() {
            return out;
        }
        out.extend(ids);
        offset += limit;
    }
}

#[test]
fn first_page_byte_for_byte() {
    let resp = run(&listing(1, 2, 0));
    assert_eq!(
        String::from_utf8_lossy(&resp.body),
        r#"{"result":"0","resultCode":"0100000","count":21,"resultDatas":[{"agentId":101,"currentState":0,"currentStateTime":436879,"locationId":65535},{"agentId":102,"currentState":1,"currentStateTime":3774,"locationId":65535}],"resultDesc":[{"agentId":101,"currentState":0,"currentStateTime":436879,"locationId":65535},{"agentId":102,"currentState":1,"currentStateTime":3774,"locationId":65535}]}"#
    );
}

#[test]
fn walks_list_every_agent_once_with_one_count() {
    let cfg = SimConfig::default();
    let mut expected: Vec<i64> = (101..=120).collect();
    expected.push(59_999);
    assert_eq!(walk(&cfg, 1, 4), expected);
    for offset in [0, 4, 20, 21, 22, 1_000_000, i64::MAX] {
        assert_eq!(page(&cfg, 1, 4, offset).1, 21, "offset {offset}");
    }
    assert_eq!(page(&cfg, 1, 4, 21).0, json!([]));
    let sample: Vec<i64> = (1031..=1040).chain([1099]).collect();
    assert_eq!(walk(&cfg, 170, 1000), sample);
    let (items, count) = page(&cfg, 40, 1000, 9_000);
    assert_eq!(
        (ids_of(&items).first().copied(), count),
        (Some(49_000), json!(10_000))
    );
    assert_eq!(walk(&cfg, 40, 1000).len(), 10_000);
}

#[test]
fn request_checks() {
    let cases: &[(&str, &str)] = &[
        (r#"{}"#, "missing field ccId"),
        (r#"{"ccId":1,"vdn":1,"limit":5}"#, "missing field offset"),
        (r#"{"ccId":1,"vdn":1,"offset":0}"#, "missing field limit"),
        (
            r#"{"ccId":1,"vdn":1,"limit":"5","offset":0}"#,
            "field limit must be an integer, found string",
        ),
        (
            r#"{"ccId":1,"vdn":1,"limit":5,"offset":0.5}"#,
            "field offset must be an integer, found float",
        ),
        (
            r#"{"ccId":1,"vdn":1,"limit":0,"offset":0}"#,
            "field limit out of range (Table 2 row 3: 1-1000)",
        ),
        (
            r#"{"ccId":1,"vdn":1,"limit":1001,"offset":0}"#,
            "field limit out of range",
        ),
        (
            r#"{"ccId":1,"vdn":1,"limit":5,"offset":-1}"#,
            "field offset out of range (Table 2 row 4: 0 or more)",
        ),
        (
            r#"{"ccId":1,"vdn":0,"limit":5,"offset":0}"#,
            "field vdn out of range",
        ),
        (
            r#"{"ccId":65536,"vdn":1,"limit":5,"offset":0}"#,
            "field ccId out of range",
        ),
        (
            r#"{"queryParam":{"ccId":1,"vdn":1,"limit":5,"offset":0}}"#,
            "missing field ccId",
        ),
    ];
    for (b, text) in cases {
        assert_error(
            &run(&post_raw(path_of(VDN_LISTING), b.as_bytes().to_vec())),
            200,
            "0100002",
            text,
        );
    }
    assert_eq!(page(&SimConfig::default(), 1, 1000, 0).1, 21);
    assert_eq!(page(&SimConfig::default(), 1, 1, 0).1, 21);
}

#[test]
fn unknown_vdn_option() {
    let cfg = SimConfig::default();
    assert_eq!(page(&cfg, 4, 10, 0), (json!([]), json!(0)));
    let other_cc = post_json(
        VDN_LISTING,
        json!({"ccId": 2, "vdn": 1, "limit": 10, "offset": 0}),
    );
    assert_eq!(body(&run(&other_cc))["count"], 0);
    let reject = with_options(&[("unknown_vdn", "reject")]);
    assert_error(
        &run_with(&reject, &listing(4, 10, 0)),
        200,
        "0100002",
        "vdn 4 not found",
    );
    assert_eq!(page(&reject, 1, 10, 0).1, 21);
}

#[test]
fn order_option() {
    let cfg = with_options(&[("order", "stable_unsorted")]);
    for (vdn, n) in [(1, 21), (170, 11), (2, 10)] {
        let ids = walk(&cfg, vdn, 3);
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), n, "every agent once");
        assert_eq!(sorted, walk(&SimConfig::default(), vdn, 1000));
        assert_ne!(ids, sorted, "not sorted");
        assert_eq!(ids, walk(&cfg, vdn, 5), "stable");
    }
    let ids = walk(&cfg, 40, 1000);
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 10_000);
}

#[test]
fn body_shape_option() {
    let cfg = with_options(&[("totalagentabstractex3.body_shape", "wrapped")]);
    let wrapped = post_json(
        VDN_LISTING,
        json!({"queryParam": {"ccId": 1, "vdn": 1, "limit": 2, "offset": 0}}),
    );
    assert_eq!(body(&run_with(&cfg, &wrapped))["count"], 21);
    assert_error(
        &run_with(&cfg, &listing(1, 2, 0)),
        200,
        "0100002",
        "missing field queryParam",
    );
}

#[test]
fn legacy_form_keeps_count() {
    let cfg = SimConfig {
        release: "8.13".into(),
        ..SimConfig::default()
    };
    let v = body(&run_with(&cfg, &listing(1, 2, 0)));
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["result", "count", "resultDatas"]);
    assert_eq!(v["resultDatas"][1]["agentId"], 102);
}

#[test]
fn faults_do_what_they_say() {
    let with = |f: Fault, limit: i64, offset: i64| {
        body(&run_with(&with_fault(f), &listing(1, limit, offset)))
    };
    assert_eq!(with(Fault::VdnCountPageSize, 5, 0)["count"], 5);
    assert_eq!(
        ids_of(&with(Fault::VdnOverlappingPages, 5, 0)["resultDesc"]),
        [101, 102, 103, 104, 105]
    );
    assert_eq!(
        ids_of(&with(Fault::VdnOverlappingPages, 5, 5)["resultDesc"]),
        [105, 106, 107, 108, 109]
    );
    assert_eq!(
        ids_of(&with(Fault::VdnDuplicateAgent, 3, 0)["resultDesc"]),
        [101, 102, 101]
    );
    assert_eq!(
        ids_of(&with(Fault::VdnDuplicateAgent, 5, 20)["resultDesc"]),
        [59_999, 59_999]
    );
    assert_eq!(
        ids_of(&with(Fault::VdnLimitIgnored, 3, 0)["resultDesc"]),
        [101, 102, 103, 104]
    );
    assert_eq!(with(Fault::VdnCountChanges, 5, 0)["count"], 21);
    assert_eq!(with(Fault::VdnCountChanges, 5, 5)["count"], 22);
    assert_eq!(with(Fault::VdnCountChanges, 5, 10)["count"], 21);
    let base = body(&run(&listing(1, 3, 0)))["resultDesc"].clone();
    let v = with(Fault::VdnStateDisagrees, 3, 0)["resultDesc"].clone();
    assert_eq!(ids_of(&v), [101, 102, 103]);
    for (a, b) in v.as_array().unwrap().iter().zip(base.as_array().unwrap()) {
        assert_ne!(a["currentState"], b["currentState"]);
    }
    assert_eq!(
        ids_of(&with(Fault::VdnForeignAgent, 3, 0)["resultDesc"]),
        [101, 102, 201]
    );
    let v = body(&run_with(
        &with_fault(Fault::VdnForeignAgent),
        &listing(2, 2, 0),
    ));
    assert_eq!(ids_of(&v["resultDesc"]), [201, 101]);
    let v = with(Fault::VdnAccepts1001, 1001, 0);
    assert_eq!(
        (v["resultCode"].clone(), v["count"].clone()),
        (json!("0100000"), json!(21))
    );
    assert_eq!(
        with(Fault::VdnAccepts1001, 1002, 0)["resultCode"],
        "0100002"
    );
    // The family's list faults: the legacy copy drops the page's last item,
    // a string resultDesc.
    let v = body(&run_with(
        &with_fault(Fault::LegacyDatasDiffer),
        &listing(1, 3, 0),
    ));
    assert_eq!(ids_of(&v["resultDatas"]), [101, 102]);
    let v = body(&run_with(
        &with_fault(Fault::DescNotObject),
        &listing(1, 3, 0),
    ));
    assert_eq!(v["resultDesc"], "success");
}
