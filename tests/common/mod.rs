//! Shared by the integration tests: run case folders in-process through a
//! [`Session`], against the embedded simulator or whatever the flags name.

#![allow(dead_code)]

pub mod stub;
pub mod toy;

use cms_contract::embedded::Simulated;
use cms_contract::result::{CaseResult, Outcome};
use cms_contract::session::{Session, SessionOptions};
use cms_contract::settings::{Env, Layer};
use std::path::{Path, PathBuf};

/// The crate root (holds `cases/` and `schemas/`).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// How a test sets a run up.
#[derive(Default)]
pub struct Setup {
    /// Settings as flags.
    pub flags: Layer,
    /// The embedded simulator and what it should do.
    pub sim: Simulated,
    /// The environment the run sees (none of the test process's).
    pub env: Env,
}

impl Setup {
    /// The embedded simulator committing `fault`.
    pub fn fault(fault: cms_contract::embedded::Fault) -> Self {
        Setup {
            sim: Simulated {
                fault: Some(fault),
                ..Simulated::default()
            },
            ..Setup::default()
        }
    }

    /// Options `name=value`, as flags.
    pub fn options(mut self, pairs: &[(&str, &str)]) -> Self {
        self.flags
            .options
            .extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    /// The session these settings make.
    pub fn session(self) -> Session {
        Session::prepare(
            SessionOptions {
                flags: self.flags,
                schemas: Some(root().join("schemas")),
                embedded: Some(self.sim.shared()),
                force_embedded: false,
            },
            &self.env,
        )
        .unwrap_or_else(|e| panic!("session: {e}"))
    }
}

/// Load `paths` (default: all of `cases/`) under `setup` and run them.
pub async fn run(setup: Setup, paths: &[PathBuf]) -> Vec<CaseResult> {
    run_with_info(setup, paths).await.0
}

/// [`run`], with what the reports say of the run.
pub async fn run_with_info(
    setup: Setup,
    paths: &[PathBuf],
) -> (Vec<CaseResult>, cms_contract::report::RunInfo) {
    let session = setup.session();
    let info = session.run_info();
    let paths = if paths.is_empty() {
        vec![root().join("cases")]
    } else {
        paths.to_vec()
    };
    let cases = session
        .load(&paths, &mut Vec::new())
        .and_then(|s| s.to_vec())
        .unwrap_or_else(|e| panic!("cases load:\n{}", e.render()));
    let cases: Vec<_> = cases.into_iter().filter(|c| session.selects(c)).collect();
    let live = session.start().await.expect("start");
    (live.runner.run_all(&cases, 8, |_| {}).await, info)
}

/// Run already loaded `cases` under `setup` (the cases must have been
/// loaded with the same options).
pub async fn run_cases(setup: Setup, cases: &[cms_contract::case::Case]) -> Vec<CaseResult> {
    let session = setup.session();
    let cases: Vec<_> = cases
        .iter()
        .filter(|c| session.selects(c))
        .cloned()
        .collect();
    let live = session.start().await.expect("start");
    live.runner.run_all(&cases, 8, |_| {}).await
}

/// Whether `case` sends a request to `contract` (itself, or a flow step).
pub fn touches(case: &cms_contract::case::Case, contract: &str) -> bool {
    let named =
        |c: &cms_contract::case::Case| c.contract.as_ref().is_some_and(|k| k.name == contract);
    named(case)
        || case
            .flow
            .as_ref()
            .is_some_and(|f| f.steps.iter().any(|s| named(&s.case)))
}

/// The shipped suite (all of `cases/`) under `setup`.
pub async fn run_suite(setup: Setup) -> Vec<CaseResult> {
    run(setup, &[]).await
}

/// The results that failed or erred.
pub fn failed(results: &[CaseResult]) -> Vec<&CaseResult> {
    results.iter().filter(|r| r.outcome().is_red()).collect()
}

/// The results that were not decided (skipped or inconclusive).
pub fn undecided(results: &[CaseResult]) -> Vec<&CaseResult> {
    results
        .iter()
        .filter(|r| matches!(r.outcome(), Outcome::Skipped | Outcome::Inconclusive))
        .collect()
}

/// `--var` flags a real (non-simulator) target needs for the shipped suite.
pub const REAL_TARGET_VARS: [&str; 14] = [
    "--var",
    "ccId=1",
    "--var",
    "vdn=1",
    "--var",
    "agentId=101",
    "--var",
    "known_agents=101",
    "--var",
    "unknown_agent=555",
    "--var",
    "vdn_count=21",
    "--var",
    "unknown_vdn=4",
];

/// Fail with every rendered report unless all `results` passed.
pub fn assert_green(results: &[CaseResult], context: &str) {
    let red: Vec<String> = failed(results)
        .iter()
        .map(|r| cms_contract::report::text::render(r, cms_contract::report::Style::default()))
        .collect();
    assert!(red.is_empty(), "{context}:\n{}", red.join("\n"));
}
