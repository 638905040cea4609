//! An endpoint is a folder, not a Rust change: a made-up contract written
//! from scratch in a temporary folder (a manifest, two schemas, three case
//! entries, one invariant) runs against a loopback stub server through the
//! same session as the shipped contracts. The stub can be made to break the
//! invariant; the failure then cites the toy's own table and row. This is
//! the README's "Add an endpoint" recipe, followed to the letter.

mod common;

use cms_contract::report::{text, Style};
use cms_contract::result::Outcome;

const CASES: &str = r#"
cases:
  - name: sample
    description: the sample exchange (toy.md)
    request:
      query: {id: 7}
    expect:
      body: {code: "OK", item: {id: 7}}
  - name: out_of_range
    request:
      query: {id: 101}
    expect:
      body: {code: "BAD"}
  - name: bounds
    generate: boundaries
    request:
      query: {id: 50}
"#;

fn toy() -> common::toy::Toy {
    common::toy::folder(&[("items.yaml", CASES)])
}

/// A stub of the toy endpoint: ids 1-100 are items (echoed, or echoed
/// plus one when `off_by_one`), anything else is refused.
async fn stub(off_by_one: bool) -> String {
    common::stub::serve(move |body: &serde_json::Value, _call: usize| {
        match body.get("id").and_then(serde_json::Value::as_i64) {
            Some(id) if (1..=100).contains(&id) => {
                let echoed = if off_by_one { id + 1 } else { id };
                format!(r#"{{"code":"OK","item":{{"id":{echoed},"name":"item {id}"}}}}"#)
            }
            _ => r#"{"code":"BAD","item":"id out of range"}"#.to_owned(),
        }
    })
    .await
}

#[tokio::test]
async fn a_new_endpoint_is_a_folder_and_runs_green_against_a_conforming_server() {
    let toy = toy();
    let target = stub(false).await;
    let results = common::toy::run(&toy.schemas, &toy.cases, &target).await;
    let report: Vec<String> = results
        .iter()
        .filter(|r| r.outcome() != Outcome::Pass)
        .map(|r| text::render(r, Style { color: false }))
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
    // sample, out_of_range, and the boundaries the toy's Table 2 row 1
    // (int, 1-100) makes, all derived from its request schema.
    let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "toy::sample",
            "toy::out_of_range",
            "toy::bounds::id_1_accepted",
            "toy::bounds::id_100_accepted",
            "toy::bounds::id_0_rejected",
            "toy::bounds::id_101_rejected",
            "toy::bounds::id_float_rejected",
            "toy::bounds::id_string_rejected",
            "toy::bounds::id_null_rejected",
            "toy::bounds::id_missing_rejected",
        ]
    );
}

#[tokio::test]
async fn the_toy_invariant_catches_a_server_that_breaks_it_and_cites_the_toy_table() {
    let toy = toy();
    let target = stub(true).await;
    let results = common::toy::run(&toy.schemas, &toy.cases, &target).await;
    let sample = results.iter().find(|r| r.id == "toy::sample").unwrap();
    assert_eq!(sample.outcome(), Outcome::Fail);
    let inv = sample
        .failures
        .iter()
        .find(|f| f.message.starts_with("invariant echo_id is false"))
        .unwrap_or_else(|| panic!("{:?}", sample.failures));
    assert_eq!(
        inv.message,
        "invariant echo_id is false: payload.id = 8, request.query.id = 7"
    );
    assert_eq!(
        inv.rule.as_deref(),
        Some("Table 4 row 1 id = the requested id (Table 2 row 1)")
    );
    assert!(
        inv.source.to_string().ends_with("toy/contract.yaml:27:11"),
        "{}",
        inv.source
    );
    // The body matcher names the toy's schema row too.
    let report = text::render(sample, Style { color: false });
    assert!(report.contains("Table 4 row 1 id"), "{report}");
}
