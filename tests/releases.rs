//! Contract versions as data: release overlays, the simulator serving each
//! release, and the "server behaves like release X" diagnosis.

mod common;

use cms_contract::embedded::Simulated;
use cms_contract::report::{text, Style};
use cms_contract::settings::Layer;
use common::{assert_green, failed, root, run, undecided, Setup};
use serde_json::Value;

fn read(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

fn lower_keys(props: &Value) -> Vec<String> {
    let mut k: Vec<String> = props
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.to_ascii_lowercase())
        .collect();
    k.sort();
    k
}

#[test]
fn the_8_13_agent_schema_stays_in_step_with_table_4() {
    let base = read("schemas/agentbyworkno/agent.json");
    let legacy = read("schemas/agentbyworkno/releases/8.13/agent.json");
    assert_eq!(
        lower_keys(&base["properties"]),
        lower_keys(&legacy["properties"])
    );
    for (k, v) in base["properties"].as_object().unwrap() {
        assert_eq!(
            legacy["properties"][k.to_ascii_lowercase()],
            *v,
            "{k} differs between the forms"
        );
    }
    assert_eq!(
        base["required"].as_array().unwrap().len(),
        legacy["required"].as_array().unwrap().len()
    );
}

/// A setup expecting `release`, with the simulator serving `served`.
fn setup(release: Option<&str>, served: Option<&str>) -> Setup {
    Setup {
        flags: Layer {
            release: release.map(str::to_owned),
            ..Layer::default()
        },
        sim: Simulated {
            release: served.map(str::to_owned),
            ..Simulated::default()
        },
        ..Setup::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_server_is_named_as_such() {
    let results = run(
        setup(None, Some("8.13")),
        &[root().join("cases/agentbyworkno/sample.yaml")],
    )
    .await;
    let red = failed(&results);
    assert_eq!(red.len(), 1);
    let report = text::render(red[0], Style::default());
    assert!(
        report.contains("server behaves like release 8.13, suite expects 2024-08"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_release_suite_is_green_on_its_own_release() {
    for release in ["2024-08", "2025-11", "8.13"] {
        let folder = if release == "8.13" {
            "cases/agentbyworkno-legacy"
        } else {
            "cases/agentbyworkno"
        };
        let results = run(setup(Some(release), None), &[root().join(folder)]).await;
        assert_green(&results, &format!("release {release}"));
        if release == "2025-11" {
            assert!(results
                .iter()
                .any(|r| r.id == "agentbyworkno::boundary::agentId_999999_accepted"));
            assert!(results
                .iter()
                .any(|r| r.id == "agentbyworkno::boundary::agentId_69999_rejected"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_11_suite_catches_a_2024_08_server_on_the_new_agent_ids() {
    let results = run(
        setup(Some("2025-11"), Some("2024-08")),
        &[root().join("cases/agentbyworkno/boundaries.yaml")],
    )
    .await;
    let mut red: Vec<&str> = failed(&results).iter().map(|r| r.id.as_str()).collect();
    red.sort();
    assert_eq!(
        red,
        [
            "agentbyworkno::boundary::agentId_70000_accepted",
            "agentbyworkno::boundary::agentId_999999_accepted"
        ]
    );
}

/// Under `--release 8.13` against a simulator serving 8.13, the whole shipped
/// suite is green: cases written for the current envelope are skipped with
/// the reason, not failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conforming_8_13_server_is_green_and_the_rest_is_skipped_with_the_reason() {
    let results = run(setup(Some("8.13"), None), &[]).await;
    assert_green(&results, "release 8.13");
    let skipped = undecided(&results);
    assert!(skipped.len() > 50, "{}", skipped.len());
    let reason = &skipped[0].skipped.as_ref().unwrap().reason;
    assert!(
        reason.contains(
            "written for release 2024-08, 2025-11 of agentbyworkno; this run expects 8.13"
        ),
        "{reason}"
    );
    assert!(results
        .iter()
        .any(|r| r.id == "agentbyworkno-legacy::sample_exchange_legacy" && r.skipped.is_none()));
    let report = text::render(skipped[0], Style::default());
    assert!(report.starts_with("SKIPPED "), "{report}");
}

/// The three sibling contracts of the agent-monitoring family.
const FAMILY: [&str; 3] = [
    "agentstatusinfobyagentids",
    "teamagentstatusinfo",
    "totalagentabstractex3",
];

/// A sibling's 2025-11 request schema differs from its base only in the
/// agentIds element range (the revision's one change), so the two files
/// cannot drift apart unnoticed.
#[test]
fn the_family_2025_11_overlays_change_only_the_agent_id_range() {
    for contract in FAMILY {
        let overlay = root().join(format!("schemas/{contract}/releases/2025-11/request.json"));
        if !overlay.exists() {
            continue; // no agent id in the request: nothing to widen
        }
        let mut base = read(&format!("schemas/{contract}/request.json"));
        let mut wide = read(&format!("schemas/{contract}/releases/2025-11/request.json"));
        let items = |v: &mut Value| v["$defs"]["fields"]["properties"]["agentIds"]["items"].take();
        let (b, w) = (items(&mut base), items(&mut wide));
        assert_eq!(
            (b["minimum"].clone(), b["maximum"].clone()),
            (101.into(), 59999.into()),
            "{contract}"
        );
        let ranges: Vec<(Value, Value)> = w["anyOf"]
            .as_array()
            .unwrap_or_else(|| panic!("{contract}: 2025-11 elements are anyOf ranges"))
            .iter()
            .map(|r| (r["minimum"].clone(), r["maximum"].clone()))
            .collect();
        assert_eq!(
            ranges,
            [(101.into(), 59999.into()), (70000.into(), 999999.into())],
            "{contract}"
        );
        for v in [&mut base, &mut wide] {
            for key in ["title", "description"] {
                v[key].take();
                v["$defs"]["fields"]["properties"]["agentIds"][key].take();
            }
        }
        assert_eq!(
            base, wide,
            "{contract}: the 2025-11 request differs beyond the element range"
        );
    }
}

/// Every sibling suite applies to every release: green on each, with no
/// case skipped, the 2025-11 boundaries reaching the widened range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_family_suites_are_green_on_every_release() {
    let folders: Vec<_> = FAMILY
        .iter()
        .map(|c| root().join("cases").join(c))
        .collect();
    for release in ["2024-08", "2025-11", "8.13"] {
        let results = run(setup(Some(release), None), &folders).await;
        assert_green(&results, &format!("release {release}"));
        assert!(
            undecided(&results).is_empty(),
            "release {release}: a case did not apply"
        );
        assert!(results.len() > 200, "{}", results.len());
        if release == "2025-11" {
            for id in [
                "agentstatusinfobyagentids::boundary::agentIds_item_999999_accepted",
                "teamagentstatusinfo::boundary::agentIds_item_69999_rejected",
            ] {
                assert!(results.iter().any(|r| r.id == id), "{id}");
            }
        }
    }
}

/// The 8.13 form is told apart: a suite expecting it fails against a
/// current server, and the other way round, on the envelope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_family_suites_tell_the_8_13_form_from_the_current_one() {
    let sample: Vec<_> = FAMILY
        .iter()
        .map(|c| root().join(format!("cases/{c}/sample.yaml")))
        .collect();
    for (expected, served) in [("8.13", "2024-08"), ("2024-08", "8.13")] {
        let results = run(setup(Some(expected), Some(served)), &sample).await;
        assert_eq!(results.len(), 4, "the family's sample cases");
        assert_eq!(
            failed(&results).len(),
            results.len(),
            "expects {expected}, served {served}"
        );
    }
    let results = run(
        setup(None, Some("8.13")),
        &[root().join("cases/totalagentabstractex3/sample.yaml")],
    )
    .await;
    let report = text::render(failed(&results)[0], Style::default());
    assert!(
        report.contains("server behaves like release 8.13, suite expects 2024-08"),
        "{report}"
    );
}
