//! The JUnit report as the CI tools that read it see it, for a green run
//! with warnings and TLS off, a red run with HTML bodies, transport errors,
//! skipped cases, inconclusive cases and hostile reply text:
//!
//! - **Jenkins** (xunit plugin): xmllint validates every report against the
//!   plugin's own junit-10 XSD (tests/fixtures/junit-10.xsd, vendored with
//!   its source and licence), the strictest of them. Needs `xmllint`
//!   (libxml2-utils).
//! - **GitLab, Azure DevOps** (PublishTestResults, JUnit): they read
//!   testsuite/testcase `name`, `classname`, `time`, `failure`/`error`/
//!   `skipped` and `system-out`. Every one of those is present where it
//!   must be, and no element or attribute outside the junit-10 set appears.
//! - **python `junitparser`**: a script reads each report back; its counts
//!   of tests, failures, errors and skipped equal the run's (taken from the
//!   `--json` report or the results, not from the JUnit writer). Needs
//!   python with junitparser: `CMS_TEST_PYTHON`, else target/ci-venv (made
//!   by .ci/run), else `python3`.
//!
//! A missing tool fails the test with install advice; nothing is skipped.

mod common;
mod reports;

use reports::Counts;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Elements of the junit-10 XSD and the attributes it allows on each.
const JUNIT_10: &[(&str, &[&str])] = &[
    (
        "testsuites",
        &["name", "time", "tests", "failures", "errors"],
    ),
    (
        "testsuite",
        &[
            "name",
            "tests",
            "failures",
            "errors",
            "group",
            "time",
            "skipped",
            "timestamp",
            "hostname",
            "id",
            "package",
            "file",
            "log",
            "url",
        ],
    ),
    ("properties", &[]),
    ("property", &["name", "value"]),
    ("testcase", &["name", "time", "classname", "group"]),
    ("failure", &["type", "message"]),
    ("error", &["type", "message"]),
    ("skipped", &["type", "message"]),
    ("system-out", &[]),
    ("system-err", &[]),
];

fn xsd() -> PathBuf {
    common::root().join("tests/fixtures/junit-10.xsd")
}

/// Jenkins: xmllint --schema junit-10.xsd.
fn assert_jenkins_accepts(path: &Path) {
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(xsd())
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "xmllint is needed to validate the JUnit report ({e}): \
                 apt-get install libxml2-utils (.ci/run installs it)"
            )
        });
    assert!(
        out.status.success(),
        "{} does not validate against Jenkins' junit-10.xsd:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The python that has junitparser: CMS_TEST_PYTHON, else the venv that
/// .ci/run makes, else python3.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("CMS_TEST_PYTHON") {
        return p.into();
    }
    let venv = common::root().join("target/ci-venv/bin/python");
    if venv.exists() {
        return venv;
    }
    "python3".into()
}

/// Reads a report with junitparser; prints the suites' declared counts and
/// the counts of the cases' result elements, as JSON.
const JUNITPARSER: &str = r#"
import json, sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
suites, total = [], dict(tests=0, failures=0, errors=0, skipped=0)
for suite in xml:
    counted = dict(tests=0, failures=0, errors=0, skipped=0)
    for case in suite:
        counted["tests"] += 1
        assert case.name and case.classname == suite.name, (case.name, case.classname)
        assert case.time >= 0
        for r in case.result:
            key = {Failure: "failures", Error: "errors", Skipped: "skipped"}[type(r)]
            counted[key] += 1
            assert r.message, (case.name, key)
        assert (case.system_out or "").startswith("location: "), case.name
    declared = dict(tests=suite.tests, failures=suite.failures, errors=suite.errors, skipped=suite.skipped)
    suites.append(dict(name=suite.name, declared=declared, counted=counted))
    for k in total:
        total[k] += counted[k]
print(json.dumps(dict(suites=suites, total=total)))
"#;

/// junitparser reads the report back with the run's counts.
fn assert_junitparser_counts(path: &Path, expected: Counts) {
    let py = python();
    let out = Command::new(&py)
        .arg("-c")
        .arg(JUNITPARSER)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}): install python3", py.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'junitparser'"),
        "{} has no junitparser: python3 -m venv target/ci-venv && \
         target/ci-venv/bin/pip install junitparser (.ci/run does this), \
         or set CMS_TEST_PYTHON to a python that has it",
        py.display()
    );
    assert!(
        out.status.success(),
        "junitparser on {}:\n{stderr}",
        path.display()
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let get = |v: &serde_json::Value| Counts {
        tests: v["tests"].as_u64().unwrap() as usize,
        failures: v["failures"].as_u64().unwrap() as usize,
        errors: v["errors"].as_u64().unwrap() as usize,
        skipped: v["skipped"].as_u64().unwrap() as usize,
    };
    for s in doc["suites"].as_array().unwrap() {
        assert_eq!(
            get(&s["declared"]),
            get(&s["counted"]),
            "suite {}",
            s["name"]
        );
    }
    assert_eq!(
        get(&doc["total"]),
        expected,
        "junitparser's counts of {}",
        path.display()
    );
}

/// GitLab / Azure DevOps: what they read is there, nothing outside junit-10
/// is. Returns the report's counts by element, for the caller's checks.
fn assert_gitlab_azure_read(xml: &str) -> Counts {
    let allowed: BTreeMap<&str, &[&str]> = JUNIT_10.iter().copied().collect();
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    for n in doc.descendants().filter(|n| n.is_element()) {
        let name = n.tag_name().name();
        let attrs = allowed
            .get(name)
            .unwrap_or_else(|| panic!("<{name}> is not a junit-10 element"));
        for a in n.attributes() {
            assert!(
                attrs.contains(&a.name()),
                "<{name} {}> is not a junit-10 attribute",
                a.name()
            );
        }
    }
    let mut counts = Counts::default();
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert!(!suites.is_empty(), "no testsuite");
    for suite in suites {
        assert_eq!(suite.tag_name().name(), "testsuite");
        let suite_name = suite.attribute("name").expect("testsuite name");
        for a in ["tests", "failures", "errors", "skipped"] {
            suite
                .attribute(a)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or_else(|| panic!("testsuite {suite_name} has a numeric {a}"));
        }
        let props: BTreeMap<&str, &str> = suite
            .descendants()
            .filter(|n| n.has_tag_name("property"))
            .map(|p| (p.attribute("name").unwrap(), p.attribute("value").unwrap()))
            .collect();
        for p in ["target", "tls.verify", "release"] {
            assert!(props.contains_key(p), "suite {suite_name} states {p}");
        }
        for case in suite.children().filter(|n| n.has_tag_name("testcase")) {
            counts.tests += 1;
            let name = case.attribute("name").expect("testcase name");
            assert!(!name.is_empty());
            assert_eq!(case.attribute("classname"), Some(suite_name), "{name}");
            let time: f64 = case
                .attribute("time")
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| panic!("{name}: time in seconds"));
            assert!(time >= 0.0);
            let kids: Vec<_> = case.children().filter(|n| n.is_element()).collect();
            let statuses: Vec<_> = kids
                .iter()
                .filter(|k| matches!(k.tag_name().name(), "failure" | "error" | "skipped"))
                .collect();
            assert!(statuses.len() <= 1, "{name}: one status element at most");
            if let Some(s) = statuses.first() {
                assert!(
                    s.attribute("message").is_some_and(|m| !m.is_empty()),
                    "{name}: <{}> has a message",
                    s.tag_name().name()
                );
                assert!(s.attribute("type").is_some(), "{name}: a type");
                match s.tag_name().name() {
                    "failure" => counts.failures += 1,
                    "error" => counts.errors += 1,
                    _ => counts.skipped += 1,
                }
                if s.tag_name().name() != "skipped" {
                    assert!(
                        s.text().is_some_and(|t| t.contains("failures:")),
                        "{name}: the case's whole report is the body"
                    );
                }
            }
            // The location is what GitLab and Azure show as the case's output.
            let out = kids
                .iter()
                .find(|k| k.has_tag_name("system-out"))
                .and_then(|k| k.text())
                .unwrap_or_else(|| panic!("{name}: a system-out"));
            let location = out.lines().next().unwrap();
            let loc = location.strip_prefix("location: ").expect("location line");
            let (file, line) = loc.split_once(".yaml:").expect("file.yaml:line");
            assert!(file.contains("cases/"), "{location}");
            assert!(
                line.split(':')
                    .next()
                    .unwrap()
                    .parse::<u32>()
                    .is_ok_and(|l| l > 0),
                "{location}"
            );
        }
    }
    counts
}

/// Every check, on a report whose run had `expected` counts.
fn assert_consumers_accept(path: &Path, expected: Counts) -> String {
    let xml = std::fs::read_to_string(path).unwrap();
    assert_jenkins_accepts(path);
    assert_eq!(
        assert_gitlab_azure_read(&xml),
        expected,
        "counted by element"
    );
    assert_junitparser_counts(path, expected);
    assert!(
        !reports::leaks_secret(&xml),
        "a secret in {}",
        path.display()
    );
    xml
}

/// Run the CLI with `args` plus `--junit` and `--json`, expect `code`, and
/// check the JUnit report against the `--json` report's counts.
fn cli_report(test: &str, args: &[&str], code: i32) -> (String, Counts) {
    let d = reports::dir(test);
    let (junit, json) = (d.join("junit.xml"), d.join("report.json"));
    let mut all = args.to_vec();
    all.extend([
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let o = reports::cli(&all);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let expected = Counts::of_json(&json);
    (assert_consumers_accept(&junit, expected), expected)
}

/// The decoded `message` attributes of `<tag>` elements.
fn messages(xml: &str, tag: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name(tag))
        .filter_map(|n| n.attribute("message").map(str::to_owned))
        .collect()
}

fn property<'a>(doc: &'a roxmltree::Document, name: &str) -> Option<&'a str> {
    doc.descendants()
        .find(|n| n.has_tag_name("property") && n.attribute("name") == Some(name))
        .and_then(|n| n.attribute("value"))
}

#[test]
fn a_green_run_with_warnings_and_tls_off() {
    let (xml, counts) = cli_report(
        "junit-green",
        &["run", "--sim-variant", "extra-field", "--insecure"],
        0,
    );
    assert_eq!((counts.failures, counts.errors), (0, 0));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(property(&doc, "tls.verify"), Some("off"));
    assert_eq!(property(&doc, "release"), Some("default"));
    assert_eq!(
        property(&doc, "option.agentbyworkno.body_shape"),
        Some("wrapped")
    );
    assert!(property(&doc, "target").is_some_and(|t| t.contains("embedded simulator")));
    let warned = doc
        .descendants()
        .filter(|n| n.has_tag_name("system-out"))
        .filter_map(|n| n.text())
        .find(|t| t.contains("\nwarning: "))
        .expect("warnings in system-out");
    assert!(
        warned.contains("warning: invariant unknown_fields is false for /resultDesc"),
        "{warned}"
    );
    assert!(
        warned.contains("[\"skillGroup\"]")
            && warned.contains("(schemas/agentbyworkno/contract.yaml:"),
        "the warning quotes the value and says where the check is: {warned}"
    );
}

#[test]
fn a_red_run_with_html_bodies() {
    let (xml, counts) = cli_report("junit-red", &["run", "--sim-fault", "html-error"], 1);
    assert!(counts.failures > 0);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert_eq!(failure.attribute("type"), Some("content type"));
    let body = failure.text().unwrap();
    // The HTML reply is text of the report, not markup in it.
    assert!(body.contains("<h1>Invalid parameter</h1>"), "{body}");
    assert!(
        body.contains("Authorization: auth-v2/reports-test-ak/"),
        "{body}"
    );
    assert!(body.contains("/host/<redacted>"), "{body}");
    assert!(messages(&xml, "failure")[0].contains("is not application/json"));
}

#[test]
fn transport_errors() {
    let mut args = vec!["run", "--target", "http://127.0.0.1:9", "--tag", "sample"];
    args.extend(common::REAL_TARGET_VARS);
    let (xml, counts) = cli_report("junit-transport", &args, 1);
    assert!(
        counts.errors > 0 && counts.errors == counts.tests,
        "{counts:?}"
    );
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(property(&doc, "target"), Some("http://127.0.0.1:9"));
    assert_eq!(property(&doc, "tls.verify"), Some("on"));
    let error = doc.descendants().find(|n| n.has_tag_name("error")).unwrap();
    assert_eq!(error.attribute("type"), Some("transport"));
    assert!(
        error
            .attribute("message")
            .unwrap()
            .starts_with("cannot connect"),
        "{:?}",
        error.attribute("message")
    );
}

#[test]
fn cases_of_another_release_are_skipped_with_the_reason() {
    let (xml, counts) = cli_report("junit-skipped", &["run", "--release", "8.13"], 0);
    assert!(counts.skipped > 0, "{counts:?}");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(property(&doc, "release"), Some("8.13"));
    let skipped = messages(&xml, "skipped");
    assert_eq!(skipped.len(), counts.skipped);
    assert!(
        skipped
            .iter()
            .all(|m| m.starts_with("skipped: written for release")),
        "{skipped:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inconclusive_cases_are_skipped_with_the_reason() {
    let (results, info) = reports::inconclusive_run().await;
    let path = reports::dir("junit-inconclusive").join("junit.xml");
    std::fs::write(&path, cms_contract::report::junit::render(&results, &info)).unwrap();
    let xml = assert_consumers_accept(&path, Counts::of(&results));
    let skipped = messages(&xml, "skipped");
    assert!(!skipped.is_empty());
    assert!(
        skipped
            .iter()
            .all(|m| m.starts_with("inconclusive: ") && m.contains("open question 4")),
        "{skipped:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_reply_text_is_escaped_visibly_and_stays_valid() {
    let (results, info) = reports::hostile_run().await;
    let path = reports::dir("junit-hostile").join("junit.xml");
    std::fs::write(&path, cms_contract::report::junit::render(&results, &info)).unwrap();
    let xml = assert_consumers_accept(&path, Counts::of(&results));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let text: String = doc
        .descendants()
        .flat_map(|n| {
            n.attributes()
                .map(|a| a.value().to_owned())
                .chain(n.text().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .join("\n");
    // Markup from the reply is text; the controls are shown, not dropped.
    for shown in [
        "</system-out></failure></testcase><script>alert(1)</script>",
        "\\x1b]0;pwned\\x07",
        "\\x00\\x08\\x0b\\x0c\\x7f\\u{9b}31m",
        "\\u{202e}desrever\\u{202c}",
        "\\u{fffe}\\u{ffff}",
        "]]><![CDATA[x]]>&amp;",
    ] {
        assert!(text.contains(shown), "{shown:?} is shown");
    }
    assert!(
        !text.to_ascii_uppercase().contains("[[ATTACHMENT|"),
        "an attachment marker survived"
    );
    assert!(text.contains("[\\x5bATTACHMENT|/etc/passwd]]"));
    assert!(!text
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{202e}'));
    assert_eq!(
        property(&doc, "target").map(|t| t.starts_with("https://cms.example/\\x1b]0;pwned")),
        Some(true)
    );
    let inconclusive = messages(&xml, "skipped");
    assert!(
        inconclusive[0].starts_with("inconclusive: \\x1b]0;pwned"),
        "{inconclusive:?}"
    );
    assert!(
        inconclusive[0].len() < 1100,
        "the message is cut: {} bytes",
        inconclusive[0].len()
    );
}

/// The vendored XSD is the real constraint: the writer's old output (file
/// and line on a testcase) and quick-junit's unfixed `skipped` on
/// `<testsuites>` are both rejected by it.
#[test]
fn the_junit_10_xsd_rejects_what_jenkins_rejects() {
    let d = reports::dir("junit-xsd");
    for (name, xml) in [
        (
            "file-line",
            r#"<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="x" file="a.yaml" line="3"/></testsuite></testsuites>"#,
        ),
        (
            "testsuites-skipped",
            r#"<testsuites skipped="0"><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="x"/></testsuite></testsuites>"#,
        ),
        (
            "testcase-properties",
            r#"<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="x"><properties/></testcase></testsuite></testsuites>"#,
        ),
    ] {
        let p = d.join(format!("{name}.xml"));
        std::fs::write(&p, xml).unwrap();
        let out = Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(xsd())
            .arg(&p)
            .output()
            .expect("xmllint (apt-get install libxml2-utils)");
        assert!(!out.status.success(), "{name} must not validate");
    }
}
