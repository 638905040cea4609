//! Self-check of detection power: the shipped suites against the embedded
//! simulator with each fault mode (one contract violation each) must turn
//! red, and against each conforming variant and each open-question answer
//! the simulator serves must stay green.

mod common;

use cms_contract::case::Case;
use cms_contract::embedded::{Fault, Simulated, Variant};
use cms_contract::report::{text, Style};
use common::{assert_green, failed, run_cases, run_suite, touches, undecided, Setup};
use std::sync::OnceLock;

/// The shipped cases under the default options, loaded once.
fn shipped() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        Setup::default()
            .session()
            .load(&[common::root().join("cases")], &mut Vec::new())
            .and_then(|s| s.to_vec())
            .expect("cases load")
    })
}

/// The shipped cases that can see a fault or variant of `endpoint` (every
/// case for a family-wide one): the others never send it a request, so
/// they cannot turn red on it and need not run.
fn seeing(endpoint: Option<&str>) -> Vec<Case> {
    shipped()
        .iter()
        .filter(|c| endpoint.is_none_or(|e| touches(c, e)))
        .cloned()
        .collect()
}

/// The endpoints the shipped suites check (a suite per contract under `cases/`).
fn endpoints_with_suites() -> Vec<String> {
    let session = Setup::default().session();
    let cases = session
        .load(&[common::root().join("cases")], &mut Vec::new())
        .and_then(|s| s.to_vec())
        .expect("cases load");
    let mut names: Vec<String> = cases
        .iter()
        .filter_map(|c| c.contract.as_ref().map(|k| k.name.clone()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Every fault of the family, or of an endpoint the shipped suites check.
fn checked_faults() -> Vec<Fault> {
    let endpoints = endpoints_with_suites();
    Fault::all()
        .into_iter()
        .filter(|f| {
            f.endpoint()
                .is_none_or(|e| endpoints.iter().any(|n| n == e))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_caught_by_the_shipped_suite() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let mut missed = Vec::new();
    let mut out_of_date = Vec::new();
    let faults = checked_faults();
    for fault in &faults {
        let results = run_cases(Setup::fault(*fault), &seeing(fault.endpoint())).await;
        let red = failed(&results).len();
        if red == 0 {
            missed.push(fault.name());
        }
        // The README's detection table is checked against this run.
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", fault.name())));
        let documented = row
            .and_then(|l| l.trim_end_matches('|').rsplit('|').next())
            .map(str::trim);
        if documented != Some(red.to_string().as_str()) {
            out_of_date.push(format!(
                "| {} | {} | {red} |",
                fault.name(),
                fault.describe()
            ));
        }
    }
    assert!(
        missed.is_empty(),
        "faults the suite does not catch: {missed:?}"
    );
    assert!(faults.len() >= 36, "{} faults checked", faults.len());
    assert!(
        out_of_date.is_empty(),
        "README detection table is out of date; rows should read:\n{}",
        out_of_date.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conforming_variants_pass_with_zero_failures() {
    for variant in Variant::all() {
        let setup = Setup {
            sim: Simulated {
                variant: Some(variant),
                ..Simulated::default()
            },
            ..Setup::default()
        };
        let results = run_cases(setup, &seeing(variant.endpoint())).await;
        assert_green(
            &results,
            &format!("variant {} fails a conforming check", variant.name()),
        );
        assert!(results.len() > 50);
        if variant == Variant::ExtraField {
            let warned = results.iter().filter(|r| !r.warnings.is_empty()).count();
            assert!(warned > 0, "an extra field must be reported as a warning");
        }
    }
}

/// Every answer the simulator serves to an open question a checked contract
/// declares, set on both sides (the run expects what the simulator does):
/// green, and nothing left undecided but what the contract says can be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_open_question_answer_is_green() {
    let endpoints = endpoints_with_suites();
    let contracts = cms_contract::contract::load_all(&common::root().join("schemas")).unwrap();
    let mut tried = 0;
    for o in cms_sim::options()
        .into_iter()
        .filter(|o| endpoints.iter().any(|e| e == o.endpoint))
    {
        let declared = contracts
            .iter()
            .find(|c| c.name == o.endpoint)
            .and_then(|c| c.option(o.name))
            .is_some();
        if !declared {
            continue;
        }
        for value in o.values {
            let key = format!("{}.{}", o.endpoint, o.name);
            // Only the suites that ask this endpoint (loaded under the
            // option: it may change the schemas and generated cases).
            let setup = Setup::default().options(&[(key.as_str(), value)]);
            let cases: Vec<Case> = setup
                .session()
                .load(&[common::root().join("cases")], &mut Vec::new())
                .and_then(|s| s.to_vec())
                .expect("cases load")
                .into_iter()
                .filter(|c| touches(c, o.endpoint))
                .collect();
            let setup = Setup::default().options(&[(key.as_str(), value)]);
            let results = run_cases(setup, &cases).await;
            assert_green(&results, &format!("{key}={value}"));
            tried += 1;
        }
    }
    assert!(tried >= 6, "{tried} answers tried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_9_allowed_serves_and_accepts_pre_rest() {
    let results = run_suite(Setup::default().options(&[("status9", "allowed")])).await;
    assert_green(&results, "status9=allowed");
    // Agent 120 answers status 9 (pre-rest) under this choice, and passes.
    let r = results
        .iter()
        .find(|r| r.id == "agentbyworkno::known_agents::agent_120")
        .expect("agent 120 case");
    let status = r
        .response
        .as_ref()
        .and_then(|x| x.json.as_ref())
        .and_then(|j| j.pointer("/resultDesc/status"))
        .cloned();
    assert_eq!(status, Some(serde_json::json!(9)));
}

/// Open question 4: a deployment that answers unknown agents with the
/// invalid-parameter code makes the generated "max accepted" boundaries
/// undecidable. They are reported inconclusive, never failed nor passed:
/// whether the code is pinned by the option or learnt from the probe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boundaries_that_name_no_agent_are_inconclusive_where_unknown_agents_get_0100002() {
    let serve_0100002 = || Simulated {
        options: vec![("agentbyworkno.unknown_agent_code".into(), "0100002".into())],
        ..Simulated::default()
    };
    let learnt = run_suite(Setup {
        sim: serve_0100002(),
        ..Setup::default()
    })
    .await;
    let pinned = run_suite(
        Setup {
            sim: serve_0100002(),
            ..Setup::default()
        }
        .options(&[("unknown_agent_code", "0100002")]),
    )
    .await;
    for results in [&learnt, &pinned] {
        assert_green(results, "unknown agents answer 0100002");
        let mut undecided: Vec<&str> = undecided(results).iter().map(|r| r.id.as_str()).collect();
        undecided.sort();
        assert_eq!(
            undecided,
            [
                "agentbyworkno::boundary::ccId_65535_accepted",
                "agentbyworkno::boundary::vdn_5000_accepted"
            ],
            "only the boundaries that name no agent"
        );
        for r in undecided_results(results) {
            assert!(
                r.skipped
                    .as_ref()
                    .unwrap()
                    .reason
                    .contains("open question 4"),
                "{r:?}"
            );
        }
    }
    // A real failure of such a case still fails: out-of-range accepted.
    let results = run_suite(Setup::fault(Fault::parse("out-of-range-accepted").unwrap())).await;
    assert!(!failed(&results).is_empty());
}

fn undecided_results(
    results: &[cms_contract::result::CaseResult],
) -> Vec<&cms_contract::result::CaseResult> {
    undecided(results)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_field_turns_the_matching_cases_red_with_path_and_table_row() {
    let results = run_suite(Setup::fault(Fault::parse("status-cti-mismatch").unwrap())).await;
    let red = failed(&results);
    let idle = red
        .iter()
        .find(|r| r.id == "agentbyworkno::idle_agent_102")
        .expect("idle agent case is red");
    let report = text::render(idle, Style::default());
    assert!(report.contains("/resultDesc/citStatus"), "{report}");
    assert!(
        report.contains("Table 5 row status 4 (idle) ↔ CTI 1"),
        "{report}"
    );
    assert!(
        report.contains("-    \"citStatus\""),
        "diff shows the expected side:\n{report}"
    );
    assert!(
        report.contains("+    \"citStatus\": 7"),
        "diff shows the actual value:\n{report}"
    );
    assert!(
        report.contains("cases/agentbyworkno/success.yaml:"),
        "{report}"
    );
    assert!(
        report.contains(
            "invariant status_cti is false for /resultDesc: agent.citStatus = 7, agent.status = 4"
        ),
        "{report}"
    );
    // Agents in other states are not affected by this fault.
    assert!(!red.iter().any(|r| r.id == "agentbyworkno::busy_agent_103"));
    assert!(!report.contains("cms-contract-sk"));
}
