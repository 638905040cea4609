//! Shared by the report tests (tests/junit_consumers.rs, tests/html_report.rs):
//! runs that produce reports, through the CLI or in-process, and a hostile
//! reply's text.

#![allow(dead_code)]

use crate::common::{self, Setup};
use cms_contract::embedded::{Fault, Simulated};
use cms_contract::report::RunInfo;
use cms_contract::result::{CaseResult, Outcome, Skip, SkipKind, Warning};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The SK every CLI run here signs with: it must appear in no report.
pub const SK: &str = "reports-test-very-secret-sk";

/// What a hostile server may send: terminal and CI-log escapes, markup that
/// tries to close the report's own elements, XML-forbidden characters, an
/// attachment marker, bidi overrides, CRLF, and one very long unbroken word.
pub fn hostile_text() -> String {
    format!(
        "\u{1b}]0;pwned\u{7}\u{1b}[2J</system-out></failure></testcase><script>alert(1)</script>\
         </pre></details><img src=x onerror=alert(2)>]]><![CDATA[x]]>&amp; \
         [[ATTACHMENT|/etc/passwd]] \u{0}\u{8}\u{b}\u{c}\u{7f}\u{9b}31m \
         \u{202e}desrever\u{202c} \u{fffe}\u{ffff} end\r\n##vso[task.setvariable variable=x]1\r\n\
         ::error::pwned\n{}",
        "W".repeat(3000)
    )
}

/// A folder under target/ for `test`'s files, emptied.
pub fn dir(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run the CLI with `args` (from the crate root), signing with [`SK`].
pub fn cli(args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
    c.current_dir(common::root())
        .args(args)
        .env("NO_COLOR", "1")
        .env("CMS_AK", "reports-test-ak")
        .env("CMS_SK", SK);
    for k in ["CMS_BASE_URL", "CMS_PROFILE", "CMS_TAG", "CMS_EXCLUDE_TAG"] {
        c.env_remove(k);
    }
    c.output().expect("run cms-contract")
}

/// Cases per outcome, as a report's consumers count them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Every case.
    pub tests: usize,
    /// Failed checks.
    pub failures: usize,
    /// Transport errors.
    pub errors: usize,
    /// Skipped or inconclusive.
    pub skipped: usize,
}

impl Counts {
    /// Count outcome words (`pass`, `fail`, `error`, `skipped`, `inconclusive`).
    pub fn of_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut c = Counts::default();
        for w in words {
            c.tests += 1;
            match w {
                "fail" => c.failures += 1,
                "error" => c.errors += 1,
                "skipped" | "inconclusive" => c.skipped += 1,
                "pass" => {}
                other => panic!("unknown outcome {other}"),
            }
        }
        c
    }

    /// Count `results`.
    pub fn of(results: &[CaseResult]) -> Self {
        Self::of_words(results.iter().map(|r| r.outcome().as_str()))
    }

    /// The counts of the CLI's `--json` report (its own reporter, not the
    /// JUnit writer).
    pub fn of_json(path: &Path) -> Self {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        Self::of_words(
            doc["cases"]
                .as_array()
                .expect("cases")
                .iter()
                .map(|c| c["outcome"].as_str().expect("outcome")),
        )
    }
}

/// Load and run `paths` (all of `cases/` when empty) under `setup`, with
/// the run's description.
pub async fn run(setup: Setup, paths: &[PathBuf]) -> (Vec<CaseResult>, RunInfo) {
    common::run_with_info(setup, paths).await
}

/// Open question 4 answered "0100002": the boundaries that name no agent
/// are inconclusive (see tests/detection.rs).
pub async fn inconclusive_run() -> (Vec<CaseResult>, RunInfo) {
    let setup = Setup {
        sim: Simulated {
            options: vec![("agentbyworkno.unknown_agent_code".into(), "0100002".into())],
            ..Simulated::default()
        },
        ..Setup::default()
    };
    let (results, info) = run(setup, &[]).await;
    assert!(
        results.iter().any(|r| r.outcome() == Outcome::Inconclusive),
        "the run has inconclusive cases"
    );
    (results, info)
}

/// A red run (`html-error`) whose first failure, first warning, one
/// inconclusive verdict and the run's target all carry [`hostile_text`].
pub async fn hostile_run() -> (Vec<CaseResult>, RunInfo) {
    let (mut results, mut info) = run(
        Setup::fault(Fault::parse("html-error").expect("fault html-error")),
        &[common::root().join("cases/agentbyworkno/boundaries.yaml")],
    )
    .await;
    let evil = hostile_text();
    let red = results
        .iter_mut()
        .find(|r| r.outcome() == Outcome::Fail)
        .expect("a failed case");
    red.description = Some(evil.clone());
    red.failures[0].message = evil.clone();
    if let Some(resp) = red.response.as_mut() {
        resp.body_text = evil.clone();
    }
    red.warnings.push(Warning {
        pointer: None,
        message: evil.clone(),
        source: red.source.clone(),
    });
    let mut undecided = red.clone();
    undecided.id = format!("{}_undecided", undecided.id);
    undecided.failures.clear();
    undecided.skipped = Some(Skip {
        kind: SkipKind::Inconclusive,
        reason: evil.clone(),
    });
    results.push(undecided);
    info.target = format!("https://cms.example/{evil}");
    (results, info)
}

/// Whether `text` holds a secret: the SK, or a 64-digit lower-case hex run
/// (an auth-v2 signature).
pub fn leaks_secret(text: &str) -> bool {
    text.contains(SK)
        || text.as_bytes().windows(64).any(|w| {
            w.iter()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        })
}
