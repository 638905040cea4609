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
