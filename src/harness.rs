//! `cargo test` / `cargo nextest` glue: every case becomes a libtest-mimic
//! trial named `<suite>::<case>`; a failure shows the rendered report.
//!
//! Target selection is the CLI's: `CMS_BASE_URL` / `CMS_PROFILE` /
//! `CMS_VAR_*` / `CMS_AK` / `CMS_SK`; with none, the embedded simulator.

use crate::case::{load_paths_with_warnings, Case, LoadOptions};
use crate::report::{text, Style};
use crate::run::Outcome;
use crate::setup::{self, Options};
use libtest_mimic::{Arguments, Failed, Trial};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// Run the suite under `root` (which holds `cases/` and `schemas/`) as trials.
pub fn main(root: &Path) -> ExitCode {
    let args = Arguments::from_args();
    let env = setup::process_env();
    let plan = match setup::plan(&Options::default(), &env) {
        Ok(p) => p,
        Err(e) => return setup_failed(&e.to_string()),
    };
    let schema_dir = root.join("schemas/agentbyworkno");
    let opts = LoadOptions {
        vars: plan.vars.clone(),
        schema_dir: schema_dir.clone(),
        release: plan.release,
        ..LoadOptions::default()
    };
    let mut warnings = Vec::new();
    let loaded = load_paths_with_warnings(&[root.join("cases")], &opts, &mut warnings);
    for w in &warnings {
        eprintln!("{w}");
    }
    let cases = match loaded {
        Ok(c) => c,
        Err(e) => return setup_failed(&e.render()),
    };
    let mut cases: Vec<Case> = cases
        .into_iter()
        .filter(|c| !c.tags.iter().any(|t| plan.exclude_tags.contains(t)))
        .collect();
    let bless = match crate::bless::requested(false, &|k| std::env::var(k).ok()) {
        Ok(b) => b,
        Err(e) => return setup_failed(&format!("error: {e}")),
    };
    if bless {
        crate::bless::forget_snapshots(&mut cases);
    }
    if args.list {
        let trials = cases
            .iter()
            .map(|c| Trial::test(c.id(), || Ok(())))
            .collect();
        return libtest_mimic::run(&args, trials).exit_code();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Arc::new(rt),
        Err(e) => return setup_failed(&format!("error: cannot start the async runtime: {e}")),
    };
    for n in &plan.notices {
        eprintln!("{n}");
    }
    let schemas = match setup::schemas(&schema_dir, &plan) {
        Ok(s) => s,
        Err(e) => return setup_failed(&e.to_string()),
    };
    let live = match runtime.block_on(setup::start(plan, schemas)) {
        Ok(l) => l,
        Err(e) => return setup_failed(&e.to_string()),
    };
    let runner = Arc::new(
        live.runner
            .clone()
            .with_deadline(std::time::Instant::now() + setup::DEFAULT_RUN_TIMEOUT),
    );
    let style = Style::detect(std::io::stdout().is_terminal());
    let trials = cases
        .into_iter()
        .map(|case| {
            let (rt, runner) = (runtime.clone(), runner.clone());
            Trial::test(case.id(), move || {
                let r = rt.block_on(runner.run_case(&case));
                if bless {
                    crate::bless::write(std::slice::from_ref(&case), std::slice::from_ref(&r))
                        .map_err(|e| Failed::from(format!("cannot write the snapshot: {e}")))?;
                }
                match r.outcome() {
                    Outcome::Pass => Ok(()),
                    Outcome::Fail | Outcome::Error => Err(Failed::from(text::render(&r, style))),
                }
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    drop(live);
    conclusion.exit_code()
}

fn setup_failed(msg: &str) -> ExitCode {
    eprintln!("{msg}");
    ExitCode::from(2)
}
