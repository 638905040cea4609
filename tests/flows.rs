//! Flow cases: several exchanges, possibly to several contracts, and
//! relations between their replies. Mistakes in a flow are located load
//! errors; a false relation is a failure naming the element it was false
//! for, after every allowed attempt; hostile lists are bounded.

mod common;

use cms_contract::report::{text, Style};
use cms_contract::result::Outcome;
use common::{run, Setup};

/// A suite folder of the agentbyworkno contract holding `yaml` as flow.yaml.
fn suite(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("agentbyworkno");
    std::fs::create_dir_all(&suite).unwrap();
    std::fs::write(suite.join("_defaults.yaml"), "contract: agentbyworkno\n").unwrap();
    std::fs::write(suite.join("flow.yaml"), yaml).unwrap();
    dir
}

/// The rendered load error for `yaml`.
fn load_error(yaml: &str) -> String {
    let dir = suite(yaml);
    let session = Setup::default().session();
    match session
        .load(&[dir.path().to_path_buf()], &mut Vec::new())
        .and_then(|s| s.to_vec())
    {
        Ok(cases) => panic!("loaded {} cases", cases.len()),
        Err(e) => e.render(),
    }
}

const TWO_STEPS: &str = "\
cases:
  - name: twice
    flow:
      steps:
        - id: first
          request:
            query: {ccId: 1, vdn: 1, agentId: 101}
          capture:
            work_no: first.payload.workNo
        - id: again
          for_each: \"[work_no, work_no + 1]\"
          as: w
          request:
            query: {ccId: 1, vdn: 1, agentId: {$expr: w}}
      relations:
        - name: same_vdn
          cites: Table 4 row 2.2
          for_each: [again]
          as: a
          expr: a.payload.vdnId == first.payload.vdnId
";

#[tokio::test]
async fn a_flow_sends_its_steps_in_order_and_checks_its_relations() {
    let results = run(Setup::default(), &[suite(TWO_STEPS).path().to_path_buf()]).await;
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(
        r.outcome(),
        Outcome::Pass,
        "{}",
        text::render(r, Style::default())
    );
    assert_eq!(r.attempts, 1);
    // The first exchange is the case's own request.
    assert!(
        r.request.body.contains("\"agentId\":101"),
        "{}",
        r.request.body
    );
}

#[tokio::test]
async fn a_false_relation_names_each_element_after_every_attempt() {
    let yaml = TWO_STEPS
        .replace(
            "a.payload.vdnId == first.payload.vdnId",
            "a.payload.workNo == first.payload.workNo",
        )
        .replace("    flow:\n", "    flow:\n      attempts: 2\n");
    let results = run(Setup::default(), &[suite(&yaml).path().to_path_buf()]).await;
    let r = &results[0];
    assert_eq!(r.outcome(), Outcome::Fail);
    assert_eq!(r.attempts, 2);
    assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
    assert_eq!(
        r.failures[0].message,
        "relation same_vdn is false for again[1]: a.payload.workNo = 102, first.payload.workNo = 101 \
         (false on all 2 attempts)"
    );
    assert_eq!(r.failures[0].rule.as_deref(), Some("Table 4 row 2.2"));
    assert!(r.failures[0]
        .source
        .to_string()
        .ends_with("flow.yaml:17:17"));
    // A failing flow keeps its exchanges for the report.
    let labels: Vec<&str> = r.exchanges.iter().map(|x| x.label.as_str()).collect();
    assert_eq!(labels, ["first", "again[0]", "again[1]"]);
    let report = text::render(r, Style { color: false });
    // The whole report, reviewed once and pinned (what changes between
    // runs masked).
    let port = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let path = regex::Regex::new(r"/[^ ]*/agentbyworkno/flow\.yaml").unwrap();
    let pinned = port.replace_all(&report, "127.0.0.1:PORT");
    let pinned = path.replace_all(&pinned, "TMP/agentbyworkno/flow.yaml");
    insta::assert_snapshot!("false_relation_report", pinned);
    assert!(
        report.contains("exchanges of attempt 2 (3 shown):"),
        "{report}"
    );
    assert!(report.contains("    again[1]: POST "), "{report}");
    // The machine and browser reports carry the exchanges too.
    let info = cms_contract::report::RunInfo::default();
    let doc = cms_contract::report::json::render(results.as_slice(), &info);
    let case = &doc["cases"][0];
    assert_eq!(case["attempts"], 2);
    assert_eq!(case["exchanges"][2]["label"], "again[1]");
    assert!(case["exchanges"][2]["request"]["body"]
        .as_str()
        .unwrap()
        .contains("\"agentId\":102"));
    assert_eq!(case["exchanges"][2]["response"]["status"], 200);
    let html = cms_contract::report::html::render(results.as_slice(), &info);
    assert!(html.contains("<h4>again[1]: 200</h4>"), "{html}");
}

#[tokio::test]
async fn a_step_that_fails_its_checks_stops_the_flow() {
    // Agent 60000 is out of range: the first step's reply is not a success.
    let yaml = TWO_STEPS.replace("agentId: 101}", "agentId: 60000}");
    let results = run(Setup::default(), &[suite(&yaml).path().to_path_buf()]).await;
    let r = &results[0];
    assert_eq!(r.outcome(), Outcome::Fail);
    assert!(
        r.failures
            .iter()
            .all(|f| f.message.starts_with("step `first`: ")),
        "{:?}",
        r.failures
    );
    assert_eq!(r.exchanges.len(), 1, "later steps are not sent");
}

#[tokio::test]
async fn a_hostile_list_is_bounded() {
    let yaml = TWO_STEPS.replace("\"[work_no, work_no + 1]\"", "seq(0, 20000, 1)");
    let results = run(Setup::default(), &[suite(&yaml).path().to_path_buf()]).await;
    let r = &results[0];
    assert_eq!(r.outcome(), Outcome::Fail);
    assert_eq!(
        r.failures[0].message,
        "step `again`: the flow would send 20001 requests; at most 10000 are sent per attempt"
    );
    let at = r.failures[0].source.to_string();
    assert!(at.ends_with("flow.yaml:11:21"), "{at}");
    let yaml = TWO_STEPS.replace("\"[work_no, work_no + 1]\"", "seq(0, 2000000, 1)");
    let results = run(Setup::default(), &[suite(&yaml).path().to_path_buf()]).await;
    assert_eq!(
        results[0].failures[0].message,
        "step `again`: `for_each` could not be evaluated: seq: it would make 2000000 values; at most 100000"
    );
}

#[test]
fn a_name_no_step_defines_is_a_located_error_with_a_suggestion() {
    let e = load_error(&TWO_STEPS.replace("first.payload.vdnId", "frist.payload.vdnId"));
    assert!(
        e.contains("error: `frist` is not a step, capture or name known here"),
        "{e}"
    );
    assert!(e.contains("flow.yaml:20:17"), "{e}");
    assert!(e.contains("did you mean `first`?"), "{e}");
    // A step reads only the steps before it.
    let e =
        load_error(&TWO_STEPS.replace("work_no: first.payload.workNo", "work_no: again.payload"));
    assert!(
        e.contains("`again` is not a step, capture or name known here"),
        "{e}"
    );
}

#[test]
fn flow_mistakes_are_located_errors() {
    let cases = [
        (
            TWO_STEPS.replace("- id: again", "- id: first"),
            "`first` is already a step or capture of this flow",
        ),
        (
            TWO_STEPS.replace("    flow:\n", "    request: {path: /x}\n    flow:\n"),
            "a flow case has no `request`, `expect` or `generate` of its own",
        ),
        (
            TWO_STEPS.replace("    flow:\n", "    flow:\n      attempts: 0\n"),
            "`attempts: 0` is out of range",
        ),
        (
            TWO_STEPS.replace("{$expr: w}", "{$expr: [w]}"),
            "`$expr` takes one CEL expression, as a string",
        ),
        (
            TWO_STEPS.replace("- id: again", "- id: 2nd"),
            "`2nd` cannot name a step",
        ),
        (
            TWO_STEPS.replace("contract: agentbyworkno", "x").replace(
                "        - id: again\n",
                "        - id: again\n          contract: agentbywork\n",
            ),
            "unknown contract `agentbywork`",
        ),
        (
            TWO_STEPS.replace("work_no + 1", "work_no +"),
            "invalid CEL expression",
        ),
    ];
    for (i, (yaml, want)) in cases.iter().enumerate() {
        let e = load_error(yaml);
        assert!(e.contains(want), "case {i}: want {want:?} in\n{e}");
        assert!(e.contains("flow.yaml:"), "case {i}: {e}");
    }
}

/// Two reads of item 1's state, which must agree (on the toy contract).
const AGREE: &str = "\
cases:
  - name: agree
    flow:
      attempts: ATTEMPTS
      steps:
        - id: a
          request: {query: {id: 1}}
        - id: b
          request: {query: {id: 1}}
      relations:
        - name: same_state
          cites: toy Table 4 row 3 state, read twice
          expr: a.payload.state == b.payload.state
";

/// A toy server whose item 1 is in `state(call)` on call `call`.
async fn stateful(state: fn(usize) -> i64) -> String {
    common::stub::serve(move |_body, call| {
        format!(
            r#"{{"code":"OK","item":{{"id":1,"name":"one","state":{}}}}}"#,
            state(call)
        )
    })
    .await
}

async fn agree(attempts: u32, state: fn(usize) -> i64) -> cms_contract::result::CaseResult {
    let yaml = AGREE.replace("ATTEMPTS", &attempts.to_string());
    let toy = common::toy::folder(&[("agree.yaml", &yaml)]);
    let target = stateful(state).await;
    let mut results = common::toy::run(&toy.schemas, &toy.cases, &target).await;
    results.remove(0)
}

#[tokio::test]
async fn a_disagreement_that_goes_away_on_requery_passes_and_says_so() {
    // The state changes once, between the first two replies (churn).
    let r = agree(3, |call| if call == 0 { 1 } else { 2 }).await;
    assert_eq!(
        r.outcome(),
        Outcome::Pass,
        "{}",
        text::render(&r, Style::default())
    );
    assert_eq!(r.attempts, 2);
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(
        r.warnings[0].message,
        "each relation held in at least one of 2 attempts (attempt 1: relation same_state is false: \
         a.payload.state = 1, b.payload.state = 2)"
    );
    // Without requery the same server fails the flow.
    let r = agree(1, |call| if call == 0 { 1 } else { 2 }).await;
    assert_eq!(r.outcome(), Outcome::Fail);
    assert_eq!(r.attempts, 1);
}

#[tokio::test]
async fn a_disagreement_on_every_attempt_fails_after_all_of_them() {
    // Two endpoints that truly disagree: every second reply differs.
    let r = agree(3, |call| (call % 2) as i64).await;
    assert_eq!(r.outcome(), Outcome::Fail);
    assert_eq!(r.attempts, 3);
    assert_eq!(
        r.failures[0].message,
        "relation same_state is false: a.payload.state = 0, b.payload.state = 1 \
         (false on all 3 attempts)"
    );
    assert_eq!(
        r.failures[0].rule.as_deref(),
        Some("toy Table 4 row 3 state, read twice")
    );
}

/// The shipped cross-endpoint flows against a simulator whose agents
/// change state while the flows run.
async fn family_under_churn(fault: Option<&str>) -> Vec<cms_contract::result::CaseResult> {
    let setup = Setup {
        sim: cms_contract::embedded::Simulated {
            // About one state change per agent every five seconds: the 21
            // agents of VDN 1 move several times during the run.
            churn: Some(
                std::env::var("CHURN")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0.2),
            ),
            fault: fault.map(|f| cms_contract::embedded::Fault::parse(f).unwrap()),
            ..Default::default()
        },
        ..Setup::default()
    };
    run(setup, &[common::root().join("cases/family")]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_endpoint_flows_stay_green_under_churn() {
    let results = family_under_churn(None).await;
    assert!(results.len() >= 5, "{}", results.len());
    common::assert_green(&results, "family flows under churn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_that_truly_disagree_stay_red_under_churn() {
    // The VDN listing answers each agent's previous state: no requery
    // makes it agree with agentbyworkno.
    let results = family_under_churn(Some("vdn-state-disagrees")).await;
    let r = results
        .iter()
        .find(|r| r.id == "family::vdn_listing_agrees_with_agentbyworkno")
        .unwrap();
    assert_eq!(r.outcome(), Outcome::Fail);
    assert_eq!(r.attempts, 5);
    let f = r
        .failures
        .iter()
        .find(|f| {
            f.message
                .starts_with("relation state_agrees is false for single[")
        })
        .unwrap_or_else(|| panic!("{:?}", r.failures));
    assert!(
        f.message.ends_with("(false on all 5 attempts)"),
        "{}",
        f.message
    );
    assert_eq!(
        f.rule.as_deref(),
        Some("totalagentabstractex3 Table 4 row 2.2 currentState = agentbyworkno Table 4 row 2.3 citStatus")
    );
}
