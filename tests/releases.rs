//! Contract versions as data: release overlays, the simulator serving each
//! release, and the "server behaves like release X" diagnosis.

mod common;

use cms_contract::contract::Release;
use cms_contract::report::{text, Style};
use cms_contract::setup::Options;
use common::{assert_green, failed, root, run};
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
        base["allOf"].as_array().unwrap().len(),
        legacy["allOf"].as_array().unwrap().len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_server_is_named_as_such() {
    let opts = Options {
        sim_release: Some(Release::V8_13),
        ..Options::default()
    };
    let results = run(opts, &[root().join("cases/agentbyworkno/sample.yaml")]).await;
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
    for release in Release::ALL {
        let opts = Options {
            release: Some(release),
            ..Options::default()
        };
        let folder = if release.is_legacy() {
            "cases/agentbyworkno-legacy"
        } else {
            "cases/agentbyworkno"
        };
        let results = run(opts, &[root().join(folder)]).await;
        assert_green(&results, &format!("release {release}"));
        if release == Release::V2025_11 {
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
    let opts = Options {
        release: Some(Release::V2025_11),
        sim_release: Some(Release::V2024_08),
        ..Options::default()
    };
    let results = run(opts, &[root().join("cases/agentbyworkno/boundaries.yaml")]).await;
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
