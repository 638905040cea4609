//! `Runner::run_each`: results come in input order, one per case, with the
//! same outcomes as `run_all`; under `Retention::Failures` only red cases
//! keep their request and reply; a lazy `each:` range is run without
//! building it first.

mod common;

use cms_contract::embedded::Fault;
use cms_contract::result::CaseResult;
use cms_contract::run::Retention;
use common::{root, Setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_each_hands_results_on_in_order_and_keeps_only_failures() {
    // A fault that turns part of the suite red, so both kinds are there.
    let session = Setup::fault(Fault::StatusCtiMismatch).session();
    let cases = session
        .load(&[root().join("cases")], &mut Vec::new())
        .and_then(|s| s.to_vec())
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let live = session.start().await.expect("start");
    let full = live.runner.run_all(&cases, 8, |_| {}).await;
    let slim_runner = live.runner.clone().with_retention(Retention::Failures);
    let mut slim: Vec<(usize, CaseResult)> = Vec::new();
    slim_runner
        .run_each(cases.iter().cloned(), 3, |i, r| slim.push((i, r)))
        .await;
    assert_eq!(slim.len(), cases.len());
    let mut red = 0;
    for ((i, s), (case, f)) in slim.iter().zip(cases.iter().zip(&full)) {
        assert_eq!(s.id, case.id(), "result {i} out of order");
        assert_eq!(s.id, f.id);
        assert_eq!(s.outcome(), f.outcome(), "{}", s.id);
        assert_eq!(s.failures.len(), f.failures.len(), "{}", s.id);
        assert_eq!(s.warnings, f.warnings, "{}", s.id);
        if s.outcome().is_red() {
            red += 1;
            assert_eq!(s.response.is_some(), f.response.is_some(), "{}", s.id);
            assert!(!s.request.url.is_empty(), "{}", s.id);
        } else {
            assert!(s.response.is_none() && s.request.url.is_empty(), "{}", s.id);
            assert!(s.exchanges.is_empty(), "{}", s.id);
        }
    }
    assert_eq!(
        slim.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (0..cases.len()).collect::<Vec<_>>()
    );
    assert!(red > 0 && red < cases.len(), "{red} red of {}", cases.len());
    // Full retention keeps every reply.
    assert!(full
        .iter()
        .filter(|r| !r.outcome().is_red())
        .all(|r| r.response.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lazy_each_range_runs_case_by_case() {
    let dir = std::env::temp_dir().join(format!("cms-streaming-{}", std::process::id()));
    let suite = dir.join("lazy");
    std::fs::create_dir_all(&suite).unwrap();
    std::fs::write(
        suite.join("_defaults.yaml"),
        "contract: agentbyworkno\nexpect:\n  status: 200\n  json: true\n",
    )
    .unwrap();
    std::fs::write(
        suite.join("cases.yaml"),
        "cases:\n  - name: agents\n    each: {var: agent, values: \"40000..=40299\"}\n    request:\n      query: {ccId: 1, vdn: 40, agentId: \"${agent}\"}\n    expect:\n      schema: success.json\n      body: {resultDesc: {workNo: \"${agent}\"}}\n",
    )
    .unwrap();
    let session = Setup::default().session();
    let set = session.load(&[suite], &mut Vec::new()).expect("loads");
    assert_eq!(set.len(), 300);
    let live = session.start().await.expect("start");
    let runner = live.runner.clone().with_retention(Retention::Failures);
    let mut ids = Vec::new();
    runner
        .run_each(set.iter().map(|c| c.expect("builds")), 8, |_, r| {
            assert!(!r.outcome().is_red(), "{r:?}");
            ids.push(r.id);
        })
        .await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(ids.len(), 300);
    assert_eq!(ids[0], "lazy::agents::agent_40000");
    assert_eq!(ids[299], "lazy::agents::agent_40299");
}
