//! Under `cargo test` (the libtest-mimic harness, `tests/contract.rs`),
//! `CMS_TAG` / `CMS_EXCLUDE_TAG` select the trials, as `--tag` /
//! `--exclude-tag` do for the CLI; a selection of nothing is a failure.

mod common;

use cms_contract::case::Case;
use cms_contract::embedded::simulator;
use cms_contract::harness;
use cms_contract::settings::Env;
use libtest_mimic::Arguments;

fn env(pairs: &[(&str, &str)]) -> Env {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Every shipped case, unselected.
fn all_cases() -> Vec<Case> {
    let session = common::Setup::default().session();
    session
        .load(&[common::root().join("cases")], &mut Vec::new())
        .and_then(|s| s.to_vec())
        .unwrap()
}

fn has(c: &Case, tag: &str) -> bool {
    c.tags.iter().any(|t| t == tag)
}

/// Trials run (passed or ignored) and failed, under `env`.
fn trials(env: &Env) -> Result<(u64, u64), String> {
    let args = Arguments {
        quiet: true,
        ..Arguments::default()
    };
    harness::run(&args, common::root(), Some(simulator()), env)
        .map(|c| (c.num_passed + c.num_ignored, c.num_failed))
}

#[test]
fn cms_tag_and_cms_exclude_tag_select_the_trials() {
    let all = all_cases();
    let count = |f: &dyn Fn(&Case) -> bool| all.iter().filter(|c| f(c)).count() as u64;
    let sample = count(&|c| has(c, "sample"));
    let auth = count(&|c| has(c, "auth"));
    assert!(
        sample > 0 && auth > 0,
        "the shipped suite tags sample and auth cases"
    );

    assert_eq!(trials(&env(&[("CMS_TAG", "sample")])), Ok((sample, 0)));
    assert_eq!(
        trials(&env(&[("CMS_TAG", "sample, auth")])),
        Ok((count(&|c| has(c, "sample") || has(c, "auth")), 0))
    );
    assert_eq!(
        trials(&env(&[("CMS_TAG", "auth"), ("CMS_EXCLUDE_TAG", "sample")])),
        Ok((count(&|c| has(c, "auth") && !has(c, "sample")), 0))
    );
    let not_reference = count(&|c| !has(c, "reference-data") && !has(c, "boundary"));
    assert!(not_reference < all.len() as u64);
    assert_eq!(
        trials(&env(&[("CMS_EXCLUDE_TAG", "reference-data,boundary")])),
        Ok((not_reference, 0))
    );
}

#[test]
fn a_tag_that_selects_nothing_fails_the_run() {
    let e = trials(&env(&[("CMS_TAG", "no-such-tag")])).unwrap_err();
    assert!(e.contains("no case matches the selection"), "{e}");
    assert!(e.contains("no-such-tag"), "{e}");
}
