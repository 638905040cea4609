//! Table-driven: every fault changes some reply of its endpoint (of every
//! endpoint, for a family-wide one) and nothing of the others, no answer
//! is a 5xx except under `error-500`, every variant changes something
//! without breaking the contract, and every option value is served.

use serde_json::{json, Value};

use super::*;

/// Requests that together exercise every branch a fault, variant or option
/// of endpoint `name` can touch, with a label each.
fn probes(name: &str) -> Vec<(String, SimRequest)> {
    let mut out: Vec<(&str, SimRequest)> = match name {
        AGENTBYWORKNO => vec![
            ("sample", abw(1, 1, 101)),
            ("idle", abw(1, 1, 102)),
            ("signed out", abw(1, 1, 111)),
            ("rest 109", abw(1, 1, 109)),
            ("agent 120", abw(1, 1, 120)),
            ("web chat", abw(1, 2, 203)),
            ("unknown", abw(1, 1, 555)),
            ("out of range", abw(1, 1, 60_000)),
            (
                "bad type",
                post_raw(
                    path_of(AGENTBYWORKNO),
                    br#"{"queryParam":{"ccId":1,"vdn":1,"agentId":"101"}}"#.to_vec(),
                ),
            ),
        ],
        BATCH | TEAM => {
            let ids = |vdn: i64, ids: &[i64]| {
                post_json(name, json!({"ccId": 1, "vdn": vdn, "agentIds": ids}))
            };
            let over: Vec<i64> = (40_000..=46_000).collect();
            vec![
                ("sample", ids(170, &[1031, 1099])),
                ("vdn 1", ids(1, &(101..=120).collect::<Vec<_>>())),
                (
                    "unsorted, twice, unknown",
                    ids(1, &[105, 102, 103, 105, 555]),
                ),
                ("empty", ids(170, &[])),
                ("6001 ids", ids(40, &over)),
                ("out of range", ids(170, &[100])),
            ]
        }
        VDN_LISTING => vec![
            ("first page", listing(1, 5, 0)),
            ("second page", listing(1, 5, 5)),
            ("whole vdn", listing(1, 21, 0)),
            ("limit 1001", listing(1, 1001, 0)),
            ("unknown vdn", listing(4, 5, 0)),
            ("out of range", listing(1, 0, 0)),
        ],
        other => panic!("no endpoint {other}"),
    };
    // The family's checks, on this endpoint.
    let good = happy(name);
    let mut unsigned = good.clone();
    unsigned.headers.retain(|(n, _)| n != "Authorization");
    let mut bad_sig = good.clone();
    bad_sig.body.push(b' ');
    let stale = signed(
        "POST",
        &good.path,
        vec![h("Host", HOST), h("Content-Type", CT)],
        good.body.clone(),
        Timestamp(NOW.0 - 3_600),
    );
    let get = signed(
        "GET",
        &good.path,
        vec![h("Host", HOST), h("Content-Type", CT)],
        good.body.clone(),
        NOW,
    );
    out.extend([
        ("unsigned", unsigned),
        ("bad signature", bad_sig),
        ("stale", stale),
        ("get", get),
    ]);
    out.into_iter()
        .map(|(label, req)| (format!("{name} {label}"), req))
        .collect()
}

/// The labels of `name`'s probes whose reply differs between `a` and `b`.
fn changed(name: &str, a: &SimConfig, b: &SimConfig) -> Vec<String> {
    probes(name)
        .into_iter()
        .filter(|(_, req)| run_with(a, req) != run_with(b, req))
        .map(|(label, _)| label)
        .collect()
}

#[test]
fn every_fault_changes_its_endpoints_replies_and_only_those() {
    let base = SimConfig::default();
    for fault in Fault::all() {
        let cfg = with_fault(fault);
        for &(name, _) in ENDPOINTS {
            let diff = changed(name, &base, &cfg);
            match fault.endpoint() {
                None => assert!(
                    !diff.is_empty(),
                    "family-wide {fault} changes nothing on {name}"
                ),
                Some(e) if e == name => assert!(!diff.is_empty(), "{fault} changes nothing"),
                Some(_) => assert!(
                    diff.is_empty(),
                    "{fault} changes another endpoint: {diff:?}"
                ),
            }
        }
    }
}

#[test]
fn no_5xx_but_under_error_500() {
    for cfg in Fault::all()
        .into_iter()
        .map(with_fault)
        .chain(Variant::all().into_iter().map(with_variant))
        .chain([SimConfig::default()])
    {
        let mut server_errors = Vec::new();
        for &(name, _) in ENDPOINTS {
            for (label, req) in probes(name) {
                if run_with(&cfg, &req).status >= 500 {
                    server_errors.push(label);
                }
            }
        }
        if cfg.fault == Some(Fault::Error500) {
            // Every endpoint's out-of-range probe, and nothing that succeeds.
            assert!(server_errors.len() >= ENDPOINTS.len(), "{server_errors:?}");
            assert!(server_errors.iter().all(|l| !l.ends_with("sample")));
        } else {
            assert!(
                server_errors.is_empty(),
                "{:?}: {server_errors:?}",
                cfg.fault
            );
        }
    }
}

/// `v` with `key` removed from every payload object and item.
fn without(mut v: Value, key: &str) -> Value {
    for top in ["resultDesc", "resultDatas"] {
        match v.get_mut(top) {
            Some(Value::Object(m)) => {
                m.shift_remove(key);
            }
            Some(Value::Array(items)) => {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    item.shift_remove(key);
                }
            }
            _ => {}
        }
    }
    v
}

#[test]
fn every_variant_conforms_on_every_endpoint_it_touches() {
    let base = SimConfig::default();
    for variant in Variant::all() {
        let cfg = with_variant(variant);
        for &(name, _) in ENDPOINTS {
            let diff = changed(name, &base, &cfg);
            match variant.endpoint() {
                Some(e) if e != name => {
                    assert!(diff.is_empty(), "{variant} changes {name}: {diff:?}");
                    continue;
                }
                _ => assert!(!diff.is_empty(), "{variant} changes nothing on {name}"),
            }
            for (label, req) in probes(name) {
                let (a, b) = (run_with(&base, &req), run_with(&cfg, &req));
                assert_eq!(a.status, b.status, "{variant} {label}");
                let (va, vb) = (body(&a), body(&b));
                match variant {
                    Variant::ReorderedKeys | Variant::Pretty => assert_eq!(va, vb, "{label}"),
                    Variant::Charsetless => assert_eq!(a.body, b.body),
                    Variant::ExtraField => {
                        let key = if name == TEAM {
                            "callOut"
                        } else {
                            "skillGroup"
                        };
                        assert_eq!(va, without(vb, key), "{label}");
                    }
                    // Field-level latitude, checked in agentbyworkno.rs.
                    Variant::PhoneString | Variant::MediaZero => {}
                }
            }
        }
    }
}

#[test]
fn every_option_value_is_served() {
    let base = SimConfig::default();
    for o in options() {
        assert!(o.values.contains(&o.default));
        assert_eq!(
            SimConfig::default().option(o.endpoint, o.name),
            Some(o.default),
            "{}.{}",
            o.endpoint,
            o.name
        );
        for value in o.values.iter().filter(|v| **v != o.default) {
            let cfg = with_options(&[(&format!("{}.{}", o.endpoint, o.name), value)]);
            assert_eq!(cfg.validate(), Ok(()));
            assert_eq!(cfg.option(o.endpoint, o.name), Some(*value));
            let diff = changed(o.endpoint, &base, &cfg);
            assert!(
                !diff.is_empty(),
                "{}.{} = {value} changes nothing",
                o.endpoint,
                o.name
            );
            for &(other, _) in ENDPOINTS.iter().filter(|(n, _)| *n != o.endpoint) {
                let diff = changed(other, &base, &cfg);
                // status9 is the population's: other views of agent 120 move too.
                if o.name != "status9" {
                    assert!(diff.is_empty(), "{}.{} changes {other}", o.endpoint, o.name);
                }
            }
            // No value is a 5xx.
            for (label, req) in probes(o.endpoint) {
                assert!(run_with(&cfg, &req).status < 500, "{label}");
            }
        }
    }
}
