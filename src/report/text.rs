//! Human-readable reports: the request, a diff at the failing paths, then
//! every failure with its case line and spec table/row.
//!
//! Everything interpolated here goes through [`terminal`] (step 3 of
//! [`crate::sanitize`]): reply text, and what checks quote from it, must
//! not drive the terminal or start a line of a CI log.

use super::{diff, palette, Style};
use crate::result::{CaseResult, Outcome};
use crate::sanitize::terminal;
use std::fmt::Write;

/// The full report for one case (what a failing trial shows).
pub fn render(r: &CaseResult, style: Style) -> String {
    let mut out = String::new();
    let head = match r.outcome() {
        Outcome::Pass => style.paint(palette::PASS, "PASS"),
        Outcome::Fail => style.paint(palette::FAIL, "FAIL"),
        Outcome::Error => style.paint(palette::ERROR, "ERROR"),
        Outcome::Skipped => style.paint(palette::SKIPPED, "SKIPPED"),
        Outcome::Inconclusive => style.paint(palette::INCONCLUSIVE, "INCONCLUSIVE"),
    };
    let _ = writeln!(
        out,
        "{head} {}  ({})",
        terminal(&r.id),
        terminal(&r.source.to_string())
    );
    if let Some(d) = &r.description {
        let _ = writeln!(out, "  {}", terminal(d));
    }
    if let Some(skip) = &r.skipped {
        let _ = writeln!(out, "  reason: {}", terminal(&skip.reason));
    }
    if r.outcome() == Outcome::Skipped {
        return out;
    }
    if !r.exchanges.is_empty() {
        flow_exchanges(&mut out, r);
    } else {
        exchange(&mut out, r);
    }
    if r.retries > 0 {
        let _ = writeln!(
            out,
            "  ({} connect retr{})",
            r.retries,
            if r.retries == 1 { "y" } else { "ies" }
        );
    }
    if let Some((expected, actual)) = diff::documents(r) {
        let _ = writeln!(
            out,
            "\n  diff at the failing paths ({} expected, {} actual):",
            style.paint(palette::EXPECTED, "-"),
            style.paint(palette::ACTUAL, "+")
        );
        for line in diff::unified(&expected, &actual, style).lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    failures_and_warnings(&mut out, r);
    out
}

/// A flow's exchanges, one short block each.
fn flow_exchanges(out: &mut String, r: &CaseResult) {
    let _ = writeln!(
        out,
        "\n  exchanges of attempt {} ({} shown):",
        r.attempts,
        r.exchanges.len()
    );
    const SHOWN: usize = 8;
    for x in r.exchanges.iter().take(SHOWN) {
        let _ = writeln!(
            out,
            "    {}: {} {}",
            terminal(&x.label),
            terminal(&x.request.method),
            terminal(&x.request.url)
        );
        if !x.request.body.is_empty() {
            let _ = writeln!(out, "      > {}", terminal(&truncate(&x.request.body, 200)));
        }
        match &x.response {
            Some(resp) => {
                let _ = writeln!(
                    out,
                    "      < {} {}",
                    resp.status,
                    terminal(&truncate(&resp.body_text, 200))
                );
            }
            None => {
                let _ = writeln!(out, "      < no reply");
            }
        }
    }
    if r.exchanges.len() > SHOWN {
        let _ = writeln!(
            out,
            "    … {} more in the JSON and HTML reports",
            r.exchanges.len() - SHOWN
        );
    }
}

/// The one request and its reply.
fn exchange(out: &mut String, r: &CaseResult) {
    let _ = writeln!(out, "\n  request:");
    let _ = writeln!(
        out,
        "    {} {}",
        terminal(&r.request.method),
        terminal(&r.request.url)
    );
    for (k, v) in &r.request.headers {
        let _ = writeln!(out, "    {}: {}", terminal(k), terminal(v));
    }
    if !r.request.body.is_empty() {
        let _ = writeln!(out, "    {}", terminal(&truncate(&r.request.body, 2000)));
    }
    if let Some(resp) = &r.response {
        let ct = resp.header("content-type").unwrap_or("no content-type");
        let _ = writeln!(
            out,
            "\n  response: {} ({}), {} ms",
            resp.status,
            terminal(ct),
            r.duration.as_millis()
        );
        // Cut first, then escape (the pipeline's order): escapes only lengthen.
        let _ = writeln!(out, "    {}", terminal(&truncate(&resp.body_text, 2000)));
    }
}

fn failures_and_warnings(out: &mut String, r: &CaseResult) {
    if !r.failures.is_empty() {
        let _ = writeln!(out, "\n  failures:");
        for (i, f) in r.failures.iter().enumerate() {
            let _ = writeln!(
                out,
                "    {}. [{}] {}",
                i + 1,
                f.kind.label(),
                terminal(&f.message)
            );
            let _ = writeln!(out, "       --> {}", terminal(&f.source.to_string()));
            if let Some(rule) = &f.rule {
                let _ = writeln!(out, "       = spec: {}", terminal(rule));
            }
        }
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(out, "\n  warnings:");
        for w in &r.warnings {
            let _ = writeln!(
                out,
                "    - {} ({})",
                terminal(&w.message),
                terminal(&w.source.to_string())
            );
        }
    }
}

/// One line per case, for progress output.
pub fn line(r: &CaseResult, style: Style) -> String {
    let (word, with) = match r.outcome() {
        Outcome::Pass => ("ok", palette::PASS),
        Outcome::Fail => ("FAILED", palette::FAIL),
        Outcome::Error => ("ERROR", palette::ERROR),
        Outcome::Skipped => ("skipped", palette::SKIPPED),
        Outcome::Inconclusive => ("INCONCLUSIVE", palette::INCONCLUSIVE),
    };
    let why = r
        .skipped
        .as_ref()
        .map(|s| format!(": {}", terminal(&s.reason)))
        .unwrap_or_default();
    let warn = if r.warnings.is_empty() {
        String::new()
    } else {
        format!(
            " ({} warning{})",
            r.warnings.len(),
            if r.warnings.len() == 1 { "" } else { "s" }
        )
    };
    format!(
        "case {} ... {}{warn}{why}",
        terminal(&r.id),
        style.paint(with, word)
    )
}

/// Totals over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Cases that passed.
    pub passed: usize,
    /// Cases with failed checks.
    pub failed: usize,
    /// Cases with transport errors.
    pub errors: usize,
    /// Cases that did not apply to the run.
    pub skipped: usize,
    /// Cases the replies could not decide.
    pub inconclusive: usize,
    /// Warnings over all cases.
    pub warnings: usize,
}

impl Summary {
    /// Count `results`.
    pub fn of(results: &[CaseResult]) -> Self {
        let mut s = Summary::default();
        for r in results {
            s.add(r);
        }
        s
    }

    /// Count one more result (a streaming run counts as results come).
    pub fn add(&mut self, r: &CaseResult) {
        match r.outcome() {
            Outcome::Pass => self.passed += 1,
            Outcome::Fail => self.failed += 1,
            Outcome::Error => self.errors += 1,
            Outcome::Skipped => self.skipped += 1,
            Outcome::Inconclusive => self.inconclusive += 1,
        }
        self.warnings += r.warnings.len();
    }

    /// How many cases were counted.
    pub fn cases(&self) -> usize {
        self.passed + self.failed + self.errors + self.skipped + self.inconclusive
    }

    /// `N passed, N failed` (the plain closing line), with errors and warnings after.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} passed, {} failed",
            self.passed,
            self.failed + self.errors
        );
        if self.errors > 0 {
            s.push_str(&format!(
                " ({} transport error{})",
                self.errors,
                if self.errors == 1 { "" } else { "s" }
            ));
        }
        if self.skipped > 0 {
            s.push_str(&format!("; {} skipped", self.skipped));
        }
        if self.inconclusive > 0 {
            s.push_str(&format!("; {} inconclusive", self.inconclusive));
        }
        if self.warnings > 0 {
            s.push_str(&format!(
                "; {} warning{}",
                self.warnings,
                if self.warnings == 1 { "" } else { "s" }
            ));
        }
        s
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}… ({} bytes in all)", s.len())
    }
}
