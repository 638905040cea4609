//! JUnit XML: one `<testsuite>` per suite, one `<testcase>` per case;
//! `<failure>` for failed checks, `<error>` for transport errors. Each
//! suite's `<properties>` state the run's target and `tls.verify` (`off`
//! under `--insecure`).

use super::{text, RunInfo, Style};
use crate::result::{CaseResult, Outcome};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Escape text for XML attributes and content; drops characters XML 1.0 forbids.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The JUnit document for `results` of the run described by `info`.
pub fn render(results: &[CaseResult], info: &RunInfo) -> String {
    let mut suites: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        let suite = r.id.split("::").next().unwrap_or("cases");
        suites.entry(suite).or_default().push(r);
    }
    let total_time: f64 = results.iter().map(|r| r.duration.as_secs_f64()).sum();
    let count = |rs: &[&CaseResult], o: Outcome| rs.iter().filter(|r| r.outcome() == o).count();
    let all: Vec<&CaseResult> = results.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"cms-contract\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{total_time:.3}\">",
        results.len(),
        count(&all, Outcome::Fail),
        count(&all, Outcome::Error)
    );
    for (suite, rs) in suites {
        let time: f64 = rs.iter().map(|r| r.duration.as_secs_f64()).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time:.3}\">",
            escape(suite),
            rs.len(),
            count(&rs, Outcome::Fail),
            count(&rs, Outcome::Error),
            count(&rs, Outcome::Skipped) + count(&rs, Outcome::Inconclusive)
        );
        // Per suite: the common XSDs allow <properties> in a testsuite only.
        let _ = writeln!(
            out,
            "    <properties>\n      <property name=\"target\" value=\"{}\"/>\n      <property name=\"tls.verify\" value=\"{}\"/>\n    </properties>",
            escape(&info.target),
            info.tls_word()
        );
        for r in rs {
            let name = r.id.strip_prefix(&format!("{suite}::")).unwrap_or(&r.id);
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\" file=\"{}\" line=\"{}\"",
                escape(name),
                escape(suite),
                r.duration.as_secs_f64(),
                escape(&r.source.file.display().to_string()),
                r.source.line
            );
            let outcome = r.outcome();
            if outcome == Outcome::Pass && r.warnings.is_empty() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            if let (Outcome::Skipped | Outcome::Inconclusive, Some(skip)) = (outcome, &r.skipped) {
                let _ = writeln!(
                    out,
                    "      <skipped message=\"{}: {}\"/>",
                    outcome.as_str(),
                    escape(&skip.reason)
                );
            } else if outcome != Outcome::Pass {
                let tag = if outcome == Outcome::Error {
                    "error"
                } else {
                    "failure"
                };
                let first = r.failures.first().map(|f| f.message.as_str()).unwrap_or("");
                let kind = r.failures.first().map(|f| f.kind.label()).unwrap_or("");
                let _ = writeln!(
                    out,
                    "      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>",
                    escape(first),
                    escape(kind),
                    escape(&text::render(r, Style::default()))
                );
            }
            if !r.warnings.is_empty() {
                let w: Vec<String> = r
                    .warnings
                    .iter()
                    .map(|w| format!("warning: {} ({})", w.message, w.source))
                    .collect();
                let _ = writeln!(
                    out,
                    "      <system-out>{}</system-out>",
                    escape(&w.join("\n"))
                );
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
