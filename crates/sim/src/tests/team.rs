//! teamagentstatusinfo: the counts, their options and their faults (the
//! id-list checks are tested with the batch's, in `batch.rs`).

use serde_json::{json, Value};

use super::*;

/// The ten per-state counts (all but loginEd and usable).
const PER_STATE: [&str; 10] = [
    "talking",
    "idle",
    "setBusy",
    "workSubstateBegin",
    "rest",
    "studying",
    "occupy",
    "preoccupy",
    "answering",
    "lateAdjust",
];

fn sum_per_state(counts: &Value) -> i64 {
    PER_STATE
        .iter()
        .map(|k| {
            counts[*k]
                .as_i64()
                .unwrap_or_else(|| panic!("{k} in {counts}"))
        })
        .sum()
}

#[test]
fn vdn_1_counts() {
    let ids: Vec<i64> = (101..=120).collect();
    let resp = run(&team(1, &ids));
    let expected = r#"{"loginEd":18,"talking":2,"idle":2,"usable":2,"setBusy":2,"workSubstateBegin":2,"rest":2,"studying":2,"occupy":2,"preoccupy":2,"answering":2,"lateAdjust":0}"#;
    assert_eq!(
        String::from_utf8_lossy(&resp.body),
        format!(
            r#"{{"result":"0","resultCode":"0100000","resultDatas":{expected},"resultDesc":{expected}}}"#
        )
    );
    let counts = desc(&resp);
    assert_eq!(sum_per_state(&counts), counts["loginEd"].as_i64().unwrap());
}

#[test]
fn the_sample_request_counts_two_signed_out_agents() {
    let counts = desc(&run(&team(170, &[1031, 1099])));
    assert_eq!(counts["loginEd"], 0);
    assert_eq!(sum_per_state(&counts), 0);
    assert_eq!(counts.as_object().map(|m| m.len()), Some(12));
}

#[test]
fn wrap_up_key_option() {
    let cfg = with_options(&[("wrap_up_key", "workSubStateBegin")]);
    let counts = desc(&run_with(&cfg, &team(1, &[104, 114, 101])));
    assert_eq!(counts["workSubStateBegin"], 2);
    assert!(counts.get("workSubstateBegin").is_none());
    let keys: Vec<&str> = counts
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys[5], "workSubStateBegin");
}

#[test]
fn id_options() {
    // 102 idle twice, 555 nowhere.
    let req = team(1, &[102, 102, 555]);
    assert_eq!(desc(&run(&req))["idle"], 1);
    let each = with_options(&[("teamagentstatusinfo.duplicate_ids", "each")]);
    let counts = desc(&run_with(&each, &req));
    assert_eq!(
        (counts["idle"].clone(), counts["loginEd"].clone()),
        (json!(2), json!(2))
    );
    let reject = with_options(&[("unknown_ids", "reject")]);
    assert_error(
        &run_with(&reject, &req),
        200,
        "0100002",
        "agent 555 not found in vdn 1",
    );
    let allowed = with_options(&[("empty_ids", "allowed")]);
    let zero = desc(&run_with(&allowed, &team(1, &[])));
    assert!(zero.as_object().unwrap().values().all(|v| v == 0));
    let over: Vec<i64> = (40_000..=46_000).collect();
    let truncated = with_options(&[("over_limit", "truncated")]);
    let counts = desc(&run_with(&truncated, &team(40, &over)));
    assert_eq!(counts["loginEd"], 5400);
    // The batch's options are its own.
    let batch_only = with_options(&[("agentstatusinfobyagentids.duplicate_ids", "each")]);
    assert_eq!(run_with(&batch_only, &req), run(&req));
}

#[test]
fn faults_do_what_they_say() {
    let ids: Vec<i64> = (101..=120).collect();
    let req = team(1, &ids);
    let base = desc(&run(&req));
    let with = |f: Fault| body(&run_with(&with_fault(f), &req));
    assert_eq!(
        with(Fault::TeamNegativeCount)["resultDesc"]["lateAdjust"],
        -1
    );
    assert_eq!(with(Fault::TeamCountString)["resultDesc"]["loginEd"], "18");
    assert!(with(Fault::TeamMissingKey)["resultDesc"]
        .get("rest")
        .is_none());
    assert_eq!(
        with(Fault::TeamLoginExceedsIds)["resultDesc"]["loginEd"],
        21
    );
    let v = with(Fault::TeamMiscount)["resultDesc"].clone();
    assert_eq!(
        (v["idle"].clone(), v["usable"].clone(), v["loginEd"].clone()),
        (json!(3), json!(3), json!(19))
    );
    // Consistent with itself, so only the cross-endpoint tally can see it.
    assert_eq!(sum_per_state(&v), v["loginEd"].as_i64().unwrap());
    let v = with(Fault::TeamDescNotObject);
    assert_eq!(v["resultDesc"], json!([base.clone()]));
    assert_eq!(v["resultDatas"], base);
    let v = with(Fault::LegacyDatasDiffer);
    assert_eq!(v["resultDesc"], base);
    assert_eq!(v["resultDatas"]["rest"], 3);
    assert_eq!(
        sum_per_state(&v["resultDatas"]),
        v["resultDatas"]["loginEd"].as_i64().unwrap()
    );
}

#[test]
fn extra_field_is_the_siblings_call_out() {
    let req = team(1, &[101, 102]);
    let v = body(&run_with(&with_variant(Variant::ExtraField), &req));
    assert_eq!(v["resultDesc"]["callOut"], 0);
    assert_eq!(v["resultDatas"]["callOut"], 0);
}
