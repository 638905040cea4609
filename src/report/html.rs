//! A self-contained HTML report (no scripts, styles inline, no external
//! resources): the target and whether TLS was verified (a banner when it
//! was not), a summary, then every case; failed cases open, with the
//! request, the diff at the failing paths and every failure.

use super::{diff, text::Summary, RunInfo};
use crate::result::{CaseResult, Outcome};
use std::fmt::Write;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:1.4em}.pass{color:#1a7f37}.fail{color:#cf222e}.error{color:#8250df}\
details{border:1px solid #ddd;border-radius:6px;margin:.4em 0;padding:.3em .8em}\
summary{cursor:pointer;font-family:monospace}pre{background:#f6f8fa;padding:.6em;overflow:auto}\
.del{color:#cf222e}.ins{color:#1a7f37}.hunk{color:#0969da}table{border-collapse:collapse}\
td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #eee}.src{color:#666}\
.insecure{background:#fff1e5;border:2px solid #cf222e;color:#cf222e;font-weight:bold;padding:.6em}";

/// Escape text for HTML; the characters XML forbids become visible escapes.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::sanitize::markup(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The report document for `results` of the run described by `info`.
pub fn render(results: &[CaseResult], info: &RunInfo) -> String {
    let s = Summary::of(results);
    let title = format!("cms-contract: {}", info.target);
    let title = title.as_str();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(title)
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(title));
    let _ = if info.tls_verify {
        writeln!(out, "<p class=\"src\">{}</p>", escape(info.tls_line()))
    } else {
        writeln!(out, "<p class=\"insecure\">{}</p>", escape(info.tls_line()))
    };
    let _ = writeln!(
        out,
        "<table><tr><th>passed</th><th>failed</th><th>transport errors</th><th>warnings</th></tr>\
         <tr><td class=\"pass\">{}</td><td class=\"fail\">{}</td><td class=\"error\">{}</td><td>{}</td></tr></table>",
        s.passed, s.failed, s.errors, s.warnings
    );
    for r in results {
        let (class, word) = match r.outcome() {
            Outcome::Pass => ("pass", "PASS"),
            Outcome::Fail => ("fail", "FAIL"),
            Outcome::Error => ("error", "ERROR"),
            Outcome::Skipped => ("skip", "SKIPPED"),
            Outcome::Inconclusive => ("skip", "INCONCLUSIVE"),
        };
        let open = if !r.outcome().is_red() { "" } else { " open" };
        let _ = writeln!(
            out,
            "<details{open}><summary><span class=\"{class}\">{word}</span> {} <span class=\"src\">{}</span></summary>",
            escape(&r.id),
            escape(&r.source.to_string())
        );
        if let Some(d) = &r.description {
            let _ = writeln!(out, "<p>{}</p>", escape(d));
        }
        let mut req = format!("{} {}\n", r.request.method, r.request.url);
        for (k, v) in &r.request.headers {
            let _ = writeln!(req, "{k}: {v}");
        }
        if !r.request.body.is_empty() {
            let _ = write!(req, "\n{}", r.request.body);
        }
        let _ = writeln!(out, "<h4>request</h4><pre>{}</pre>", escape(&req));
        if let Some(resp) = &r.response {
            let _ = writeln!(
                out,
                "<h4>response {} ({} ms)</h4><pre>{}</pre>",
                resp.status,
                r.duration.as_millis(),
                escape(&resp.body_text)
            );
        }
        if let Some((expected, actual)) = diff::documents(r) {
            let _ = writeln!(
                out,
                "<h4>diff at the failing paths (- expected, + actual)</h4><pre>"
            );
            for line in diff::unified(&expected, &actual, super::Style::default()).lines() {
                let class = match line.chars().next() {
                    Some('-') => "del",
                    Some('+') => "ins",
                    Some('@') => "hunk",
                    _ => "",
                };
                let _ = writeln!(out, "<span class=\"{class}\">{}</span>", escape(line));
            }
            out.push_str("</pre>\n");
        }
        if !r.failures.is_empty() {
            out.push_str("<h4>failures</h4><ol>\n");
            for f in &r.failures {
                let rule = f
                    .rule
                    .as_deref()
                    .map(|x| format!("<br><i>spec: {}</i>", escape(x)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "<li>[{}] {} <span class=\"src\">--&gt; {}</span>{rule}</li>",
                    escape(f.kind.label()),
                    escape(&f.message),
                    escape(&f.source.to_string())
                );
            }
            out.push_str("</ol>\n");
        }
        if !r.warnings.is_empty() {
            out.push_str("<h4>warnings</h4><ul>\n");
            for w in &r.warnings {
                let _ = writeln!(
                    out,
                    "<li>{} <span class=\"src\">{}</span></li>",
                    escape(&w.message),
                    escape(&w.source.to_string())
                );
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</details>\n");
    }
    let _ = writeln!(
        out,
        "<p class=\"src\">{}</p></body></html>",
        escape(&s.line())
    );
    out
}
