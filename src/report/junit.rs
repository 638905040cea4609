//! JUnit XML, written with `quick-junit` (cargo-nextest's writer) in the
//! shape that the strictest common consumer accepts: the junit-10 XSD of
//! Jenkins' xunit plugin (Ant/Surefire), which GitLab, Azure DevOps and
//! python's `junitparser` read too.
//!
//! - One `<testsuite>` per suite (folder), one `<testcase name classname
//!   time>` per case. Its `<properties>` state the run: `target`,
//!   `tls.verify` (`off` under `--insecure`), `release`, and one
//!   `option.<contract>.<option>` per option value; `timestamp` is when the
//!   run started.
//! - A failed case has a `<failure message type>` (the first failure; the
//!   body is the whole text report of the case), a transport error an
//!   `<error>`; a skipped or inconclusive case `<skipped message="skipped:
//!   …">` / `"inconclusive: …"`.
//! - The case's location (`file:line`) is the first line of its
//!   `<system-out>`, and each warning a line after it: junit-10 has no
//!   `file`/`line` attributes or `<properties>` on a `<testcase>`.
//!
//! All text goes through [`markup`] (step 4 of [`crate::sanitize`]) before
//! `quick-junit`, which would otherwise drop controls silently (and an
//! ANSI sequence's text with them) and pass U+FFFE/U+FFFF, which XML
//! forbids. Reply text is scrubbed of secrets by the runner already.

use super::{text, RunInfo, Style};
use crate::result::{CaseResult, Outcome};
use crate::sanitize::{cut, markup, terminal};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;

/// Longest `message` attribute, in bytes: it is shown on one line.
const MESSAGE_BYTES: usize = 1024;

/// The JUnit document for `results` of the run described by `info`.
pub fn render(results: &[CaseResult], info: &RunInfo) -> String {
    let mut suites: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        let suite = r.id.split("::").next().unwrap_or("cases");
        suites.entry(suite).or_default().push(r);
    }
    let mut report = Report::new("cms-contract");
    report.set_time(results.iter().map(|r| r.duration).sum());
    for (name, rs) in suites {
        let mut suite = TestSuite::new(xml(name));
        suite.set_time(rs.iter().map(|r| r.duration).sum());
        if let Some(started) = info.started {
            suite.set_timestamp(chrono::DateTime::<chrono::Utc>::from(started).fixed_offset());
        }
        // Per suite: junit-10 allows <properties> in a testsuite only.
        suite.add_properties(run_properties(info));
        for r in rs {
            suite.add_test_case(case(name, r));
        }
        report.add_test_suite(suite);
    }
    let doc = report
        .to_string()
        .expect("serializing a JUnit report to memory does not fail");
    without_testsuites_skipped(doc, report.skipped)
}

/// `target`, `tls.verify`, `release`, `option.*`: what every consumer shows
/// beside the suite.
fn run_properties(info: &RunInfo) -> Vec<Property> {
    let mut props = vec![
        Property::new("target", xml(&info.target)),
        Property::new("tls.verify", info.tls_word()),
        Property::new("release", xml(info.release.as_deref().unwrap_or("default"))),
    ];
    props.extend(
        info.options
            .iter()
            .map(|(k, v)| Property::new(xml(&format!("option.{k}")), xml(v))),
    );
    props
}

fn case(suite: &str, r: &CaseResult) -> TestCase {
    let name =
        r.id.strip_prefix(suite)
            .and_then(|n| n.strip_prefix("::"))
            .unwrap_or(&r.id);
    let outcome = r.outcome();
    let status = match outcome {
        Outcome::Pass => TestCaseStatus::success(),
        Outcome::Fail | Outcome::Error => {
            let kind = if outcome == Outcome::Error {
                NonSuccessKind::Error
            } else {
                NonSuccessKind::Failure
            };
            let mut s = TestCaseStatus::non_success(kind);
            if let Some(first) = r.failures.first() {
                s.set_message(xml(&cut(&terminal(&first.message), MESSAGE_BYTES)));
                s.set_type(first.kind.label());
            }
            s.set_description(xml(&text::render(r, Style::default())));
            s
        }
        Outcome::Skipped | Outcome::Inconclusive => {
            let mut s = TestCaseStatus::skipped();
            let reason = r.skipped.as_ref().map(|s| s.reason.as_str()).unwrap_or("");
            s.set_message(xml(&cut(
                &format!("{}: {}", outcome.as_str(), terminal(reason)),
                MESSAGE_BYTES,
            )));
            s.set_type(outcome.as_str());
            s
        }
    };
    let mut tc = TestCase::new(xml(name), status);
    tc.set_classname(xml(suite));
    tc.set_time(r.duration);
    let mut out = format!("location: {}", terminal(&r.source.to_string()));
    for w in &r.warnings {
        out.push_str(&format!(
            "\nwarning: {} ({})",
            terminal(&w.message),
            terminal(&w.source.to_string())
        ));
    }
    tc.set_system_out(xml(&out));
    tc
}

/// Text as the report writes it: controls and XML-forbidden characters made
/// visible ([`markup`]), and output markers such as `[[ATTACHMENT|path]]`
/// defused (`[\x5bATTACHMENT|path]]`): the Jenkins junit-attachments plugin
/// and GitLab read them in a case's output and attach the file named, so a
/// reply must not be able to name one.
fn xml(s: &str) -> String {
    let s = markup(s);
    if !s.contains("[[") {
        return s.into_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s.as_ref();
    while let Some(at) = rest.find("[[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let word = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        if word > 0 && after[word..].starts_with('|') {
            out.push_str("[\\x5b");
            rest = after;
        } else {
            out.push('[');
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// quick-junit always writes `skipped` on `<testsuites>`; the junit-10 XSD
/// (Ant, Surefire) has no such attribute there, and Jenkins' xunit plugin
/// rejects a file that has it. Every attribute of that tag is ours (the
/// fixed name, counts, time), so the exact attribute is known and removed;
/// the suites keep their `skipped` counts.
fn without_testsuites_skipped(doc: String, skipped: usize) -> String {
    let attr = format!(" skipped=\"{skipped}\"");
    let Some(start) = doc.find("<testsuites ") else {
        return doc;
    };
    let end = doc[start..].find('>').map_or(doc.len(), |e| start + e);
    match doc[start..end].find(&attr) {
        Some(at) => {
            let at = start + at;
            format!("{}{}", &doc[..at], &doc[at + attr.len()..])
        }
        None => doc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_markers_are_defused_and_json_arrays_kept() {
        assert_eq!(
            xml("a [[ATTACHMENT|/etc/passwd]] b"),
            "a [\\x5bATTACHMENT|/etc/passwd]] b"
        );
        assert_eq!(xml("[[[attachment|x]]"), "[[\\x5battachment|x]]");
        assert_eq!(xml("[[1,2],[3]] [[ ]] [[x"), "[[1,2],[3]] [[ ]] [[x");
        assert_eq!(xml("\u{1b}[1m[[A|b]]"), "\\x1b[1m[\\x5bA|b]]");
    }

    #[test]
    fn only_the_skipped_attribute_of_testsuites_goes() {
        let doc = "<?xml version=\"1.0\"?>\n<testsuites name=\"cms-contract\" tests=\"3\" skipped=\"2\" failures=\"0\">\n<testsuite name=\"s\" tests=\"3\" skipped=\"2\"/>\n</testsuites>\n";
        assert_eq!(
            without_testsuites_skipped(doc.to_string(), 2),
            "<?xml version=\"1.0\"?>\n<testsuites name=\"cms-contract\" tests=\"3\" failures=\"0\">\n<testsuite name=\"s\" tests=\"3\" skipped=\"2\"/>\n</testsuites>\n"
        );
    }
}
