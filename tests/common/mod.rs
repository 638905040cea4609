//! Shared by the integration tests: run case folders in-process against the
//! embedded simulator (or whatever target the options name).

#![allow(dead_code)]

use cms_contract::case::{load_paths, Case, LoadOptions};
use cms_contract::run::{CaseResult, Outcome};
use cms_contract::setup::{self, Env, Options};
use std::path::{Path, PathBuf};

/// The crate root (holds `cases/` and `schemas/`).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Load `paths` (default: all of `cases/`) under `opts` and run them.
pub async fn run(opts: Options, paths: &[PathBuf]) -> Vec<CaseResult> {
    let plan = setup::plan(&opts, &Env::new()).expect("plan");
    let schema_dir = root().join("schemas/agentbyworkno");
    let lo = LoadOptions {
        vars: plan.vars.clone(),
        schema_dir: schema_dir.clone(),
        release: plan.release,
        ..LoadOptions::default()
    };
    let paths = if paths.is_empty() {
        vec![root().join("cases")]
    } else {
        paths.to_vec()
    };
    let cases: Vec<Case> = load_paths(&paths, &lo).expect("cases load");
    let schemas = setup::schemas(&schema_dir, &plan).expect("schemas");
    let live = setup::start(plan, schemas).await.expect("start");
    live.runner.run_all(&cases, 8, |_| {}).await
}

/// The shipped suite (all of `cases/`) under `opts`.
pub async fn run_suite(opts: Options) -> Vec<CaseResult> {
    run(opts, &[]).await
}

/// The results that did not pass.
pub fn failed(results: &[CaseResult]) -> Vec<&CaseResult> {
    results
        .iter()
        .filter(|r| r.outcome() != Outcome::Pass)
        .collect()
}

/// `--var` flags a real (non-simulator) target needs for the shipped suite.
pub const REAL_TARGET_VARS: [&str; 10] = [
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
];

/// Fail with every rendered report unless all `results` passed.
pub fn assert_green(results: &[CaseResult], context: &str) {
    let red: Vec<String> = failed(results)
        .iter()
        .map(|r| cms_contract::report::text::render(r, cms_contract::report::Style::default()))
        .collect();
    assert!(red.is_empty(), "{context}:\n{}", red.join("\n"));
}
