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
//!
//! Written as results come ([`Writer`]): quick-junit serializes a whole
//! document, and the counts it writes on `<testsuites>` and on each
//! `<testsuite>` are known only at the end, so each `<testcase>` is
//! serialized by quick-junit as it arrives (inside a throwaway one-case
//! document, at the same depth as in the real one) and appended to a
//! [`Spool`]; only each suite's counts, time and spool ranges stay in
//! memory. At the end quick-junit serializes the frame (the suites with
//! their properties and counts, no cases) and the testcases are copied
//! into it suite by suite: the bytes are those quick-junit writes for the
//! whole tree.

use super::spool::{Spool, SpoolReader};
use super::{text, RunInfo, Style};
use crate::result::{CaseResult, Outcome};
use crate::sanitize::{cut, markup, terminal};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

/// Longest `message` attribute, in bytes: it is shown on one line.
const MESSAGE_BYTES: usize = 1024;

/// What closes a `<testsuite>` in quick-junit's output (4-space indent).
const SUITE_END: &str = "\n    </testsuite>";

/// The JUnit document for `results` of the run described by `info`.
pub fn render(results: &[CaseResult], info: &RunInfo) -> String {
    let mut w = Writer::new(Spool::memory(), info);
    for r in results {
        w.push(r).expect("writing to memory does not fail");
    }
    let mut out = Vec::new();
    w.finish(&mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("quick-junit writes UTF-8")
}

/// Writes the report as results come: testcases to a spool, the document
/// at [`finish`](Writer::finish). Suites are in name order, cases in the
/// order pushed, as [`render`] has them.
pub struct Writer {
    spool: Spool,
    info: RunInfo,
    suites: BTreeMap<String, Tally>,
    time: Duration,
}

/// One suite so far: its counts, its time and where its testcases are.
#[derive(Default)]
struct Tally {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    time: Duration,
    /// Spool ranges (offset, length), contiguous ones merged: one per
    /// stretch of cases of this suite.
    ranges: Vec<(u64, u64)>,
}

impl Writer {
    /// A writer for the run described by `info`, spooling to `spool`.
    pub fn new(spool: Spool, info: &RunInfo) -> Self {
        Writer {
            spool,
            info: info.clone(),
            suites: BTreeMap::new(),
            time: Duration::ZERO,
        }
    }

    /// Serialize one case into the spool.
    pub fn push(&mut self, r: &CaseResult) -> io::Result<()> {
        let name = r.id.split("::").next().unwrap_or("cases");
        let tc = case(name, r);
        let tally = match self.suites.get_mut(name) {
            Some(t) => t,
            None => self.suites.entry(name.to_owned()).or_default(),
        };
        tally.tests += 1;
        match &tc.status {
            TestCaseStatus::Success { .. } => {}
            TestCaseStatus::NonSuccess { kind, .. } => match kind {
                NonSuccessKind::Failure => tally.failures += 1,
                NonSuccessKind::Error => tally.errors += 1,
            },
            TestCaseStatus::Skipped { .. } => tally.skipped += 1,
        }
        tally.time += r.duration;
        self.time += r.duration;
        let xml = testcase_xml(tc)?;
        let at = self.spool.len();
        match tally.ranges.last_mut() {
            Some((off, len)) if *off + *len == at => *len += xml.len() as u64,
            _ => tally.ranges.push((at, xml.len() as u64)),
        }
        self.spool.append(xml.as_bytes())
    }

    /// Write the whole document to `out`.
    pub fn finish(self, out: &mut impl Write) -> io::Result<()> {
        let mut report = Report::new("cms-contract");
        report.set_time(self.time);
        for (name, t) in &self.suites {
            let mut suite = TestSuite::new(xml(name));
            suite.set_time(t.time);
            if let Some(started) = self.info.started {
                suite.set_timestamp(chrono::DateTime::<chrono::Utc>::from(started).fixed_offset());
            }
            // Per suite: junit-10 allows <properties> in a testsuite only.
            suite.add_properties(run_properties(&self.info));
            // The counts `add_test_case` would have made.
            suite.tests = t.tests;
            suite.failures = t.failures;
            suite.errors = t.errors;
            suite.skipped = t.skipped;
            report.add_test_suite(suite);
        }
        let frame = report.to_string().map_err(io::Error::other)?;
        let frame = without_testsuites_skipped(frame, report.skipped);
        let mut cases = self.spool.finish()?;
        splice(&frame, self.suites.values(), &mut cases, out)?;
        out.flush()
    }
}

/// `frame` with each suite's testcases copied in before its closing tag.
/// The frame's suites are the tallies' suites, in the same order; no text
/// quick-junit writes inside a suite can look like [`SUITE_END`] (`<` is
/// always escaped in attribute values).
fn splice<'a>(
    frame: &str,
    suites: impl Iterator<Item = &'a Tally>,
    cases: &mut SpoolReader,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut rest = frame;
    for t in suites {
        let at = rest
            .find(SUITE_END)
            .ok_or_else(|| io::Error::other("quick-junit wrote fewer suites than the run has"))?;
        out.write_all(&rest.as_bytes()[..at])?;
        for &(off, len) in &t.ranges {
            cases.copy(off, len, out)?;
        }
        rest = &rest[at..];
        out.write_all(SUITE_END.as_bytes())?;
        rest = &rest[SUITE_END.len()..];
    }
    out.write_all(rest.as_bytes())
}

/// One `<testcase>` as quick-junit writes it inside a suite: serialized in
/// a one-case document, where it sits at the same depth (so the same
/// indentation) as in the whole report, and cut out of it.
fn testcase_xml(tc: TestCase) -> io::Result<String> {
    let mut suite = TestSuite::new("s");
    suite.add_test_case(tc);
    let mut report = Report::new("r");
    report.add_test_suite(suite);
    let doc = report.to_string().map_err(io::Error::other)?;
    let start = doc
        .find("<testsuite ")
        .and_then(|s| doc[s..].find('>').map(|e| s + e + 1));
    let end = doc.rfind(SUITE_END);
    match (start, end) {
        (Some(a), Some(b)) if a <= b => Ok(doc[a..b].to_owned()),
        _ => Err(io::Error::other(
            "quick-junit wrote a testcase in an unexpected shape",
        )),
    }
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

#[cfg(test)]
mod streaming_tests {
    use super::*;
    use crate::location::Location;
    use crate::result::{Failure, FailureKind, Skip, SkipKind, TransportError, Warning};
    use std::sync::Arc;

    /// The report as quick-junit writes the whole tree at once (what
    /// `render` was before it streamed).
    fn whole_tree(results: &[CaseResult], info: &RunInfo) -> String {
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
            suite.add_properties(run_properties(info));
            for r in rs {
                suite.add_test_case(case(name, r));
            }
            report.add_test_suite(suite);
        }
        let doc = report.to_string().unwrap();
        without_testsuites_skipped(doc, report.skipped)
    }

    fn result(id: &str, n: u64) -> CaseResult {
        let source = Location {
            file: Arc::new(format!("cases/{id}.yaml").into()),
            line: 3,
            column: 1,
        };
        let mut r = CaseResult::skipped(id.into(), Some("d".into()), source.clone(), String::new());
        r.skipped = None;
        r.duration = Duration::from_micros(1234 * n + 7);
        let failure = |kind| Failure {
            kind,
            pointer: None,
            message: "<&> \u{1b}[1m [[ATTACHMENT|x]]".into(),
            expected: None,
            actual: None,
            source: source.clone(),
            rule: Some("Table 4 row 2".into()),
        };
        match n % 5 {
            0 => {}
            1 => r.failures.push(failure(FailureKind::Body)),
            2 => r
                .failures
                .push(failure(FailureKind::Transport(TransportError::Timeout))),
            3 => {
                r.skipped = Some(Skip {
                    kind: SkipKind::Inconclusive,
                    reason: "open question <4>".into(),
                })
            }
            _ => {
                r.skipped = Some(Skip {
                    kind: SkipKind::NotApplicable,
                    reason: "release".into(),
                })
            }
        }
        if n.is_multiple_of(3) {
            r.warnings.push(Warning {
                pointer: None,
                message: "extra \"field\"".into(),
                source,
            });
        }
        r
    }

    #[test]
    fn the_streamed_report_is_byte_for_byte_the_whole_tree() {
        let info = RunInfo {
            target: "https://cms:28080 & <co>".into(),
            tls_verify: false,
            release: Some("r1".into()),
            options: vec![("c.o".into(), "v\"1\"".into())],
            started: Some(std::time::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)),
        };
        // Suites out of name order, and one that comes back after another.
        let ids = [
            "b::x", "b::y", "a::x", "a::y", "b::z", "c::x", "a::z", "nosuite",
        ];
        let all: Vec<CaseResult> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| result(id, i as u64))
            .collect();
        for n in [0, 1, 2, 5, all.len()] {
            let results = &all[..n];
            for spool in [
                Spool::memory(),
                Spool::file_in(&std::env::temp_dir()).unwrap(),
            ] {
                let mut w = Writer::new(spool, &info);
                for r in results {
                    w.push(r).unwrap();
                }
                let mut out = Vec::new();
                w.finish(&mut out).unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    whole_tree(results, &info),
                    "{n} cases"
                );
            }
        }
        assert_eq!(
            render(&all, &RunInfo::default()),
            whole_tree(&all, &RunInfo::default())
        );
    }
}
