//! A self-contained HTML report: one file, styles inline, no script, no
//! external resource (a Content-Security-Policy forbids both), readable
//! offline and with JavaScript off.
//!
//! From the top: a banner when TLS was not verified; the failures, each
//! linking to its case (`#case-N`) with its first message and case line;
//! the run (start time, target, release, TLS, options, counts); then every
//! case, failed ones open, with the request, the reply, the diff at the
//! failing paths, every failure and warning. Long lines wrap: nothing is
//! wider than the window.
//!
//! Everything that comes from a case or a reply goes through `esc`:
//! [`markup`] (step 4 of [`crate::sanitize`]: controls, bidi overrides and
//! XML-forbidden characters made visible) and then HTML escaping, so a
//! reply can neither add markup nor reorder what is shown.
//!
//! Written as results come ([`Writer`]): the failure list and the run's
//! counts come first on the page but are known only at the end, so each
//! case's `<details>` and each red case's line of the list are rendered as
//! the case arrives and appended to two [`Spool`]s; at the end the page is
//! written in its order (head, failures, run, cases) with the spools copied
//! in. Only the counts stay in memory.

use super::spool::Spool;
use super::{diff, text::Summary, RunInfo};
use crate::result::{CaseResult, Outcome};
use crate::sanitize::{cut, markup, terminal};
use std::fmt::Write;
use std::io;
use std::time::Duration;

/// Longest target in the title, in bytes.
const TITLE_TARGET_BYTES: usize = 120;

/// Longest failure message in the summary at the top, in bytes.
const SUMMARY_MESSAGE_BYTES: usize = 300;

const STYLE: &str = "*{box-sizing:border-box}\
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;overflow-wrap:anywhere}\
h1{font-size:1.4em;margin:0 0 .4em}h2{font-size:1.15em;margin:1em 0 .4em}\
.pass{color:#1a7f37}.fail{color:#cf222e}.error{color:#8250df}.skip{color:#9a6700}\
details{border:1px solid #ddd;border-radius:6px;margin:.4em 0;padding:.3em .8em}\
details:target{border-color:#0969da;box-shadow:0 0 0 2px #0969da55}\
summary{cursor:pointer;font-family:monospace}\
pre{background:#f6f8fa;padding:.6em;white-space:pre-wrap;overflow-wrap:anywhere;margin:.3em 0}\
.del{color:#cf222e}.ins{color:#1a7f37}.hunk{color:#0969da}\
table{border-collapse:collapse;width:100%;table-layout:fixed}\
td,th{padding:.2em .8em;text-align:left;vertical-align:top;border-bottom:1px solid #eee}\
th{width:11em}.src{color:#666}\
ol.failures{margin:.2em 0;padding-left:2em}ol.failures li{margin:.2em 0}\
ol.failures a{font-family:monospace;font-weight:bold;text-decoration:none}\
.insecure{background:#fff1e5;border:2px solid #cf222e;color:#cf222e;font-weight:bold;padding:.6em}";

/// Nothing may load or run: the page is read offline, and a reply that
/// slipped past escaping still could not fetch or execute anything.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// Text from a case or a reply, made safe for HTML.
fn esc(s: &str) -> String {
    let s = markup(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The anchor of the `i`th case: made by us, never from case text.
fn anchor(i: usize) -> String {
    format!("case-{}", i + 1)
}

/// The report document for `results` of the run described by `info`.
pub fn render(results: &[CaseResult], info: &RunInfo) -> String {
    let mut w = Writer::new(Spool::memory(), Spool::memory(), info);
    for r in results {
        w.push(r).expect("writing to memory does not fail");
    }
    let mut out = Vec::new();
    w.finish(&mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("the page is UTF-8")
}

/// Writes the page as results come: case sections and failure lines to
/// spools, the page at [`finish`](Writer::finish).
pub struct Writer {
    cases: Spool,
    failures: Spool,
    info: RunInfo,
    summary: Summary,
    time: Duration,
    /// Reused for each case's text.
    buf: String,
}

impl Writer {
    /// A writer for the run described by `info`, spooling the case
    /// sections to `cases` and the failure list to `failures`.
    pub fn new(cases: Spool, failures: Spool, info: &RunInfo) -> Self {
        Writer {
            cases,
            failures,
            info: info.clone(),
            summary: Summary::default(),
            time: Duration::ZERO,
            buf: String::new(),
        }
    }

    /// Render one case into the spools.
    pub fn push(&mut self, r: &CaseResult) -> io::Result<()> {
        let i = self.summary.cases();
        self.summary.add(r);
        self.time += r.duration;
        self.buf.clear();
        case(&mut self.buf, i, r);
        self.cases.append(self.buf.as_bytes())?;
        if r.outcome().is_red() {
            self.buf.clear();
            failure_line(&mut self.buf, i, r);
            self.failures.append(self.buf.as_bytes())?;
        }
        // A huge case must not keep its buffer's size for the rest of the run.
        if self.buf.capacity() > 64 * 1024 {
            self.buf = String::new();
        }
        Ok(())
    }

    /// Write the page to `out`.
    pub fn finish(self, out: &mut impl io::Write) -> io::Result<()> {
        let (info, s) = (&self.info, &self.summary);
        // Cut: a long target must not push the failures off the first screen;
        // the run table shows it whole.
        let title = esc(&format!(
            "cms-contract: {}",
            cut(&terminal(&info.target), TITLE_TARGET_BYTES)
        ));
        let mut head = String::new();
        let _ = write!(
            head,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{title}</title><style>{STYLE}</style></head><body>\n"
        );
        let _ = writeln!(head, "<h1>{title}</h1>");
        if !info.tls_verify {
            let _ = writeln!(head, "<p class=\"insecure\">{}</p>", esc(info.tls_line()));
        }
        let red = failures_heading(&mut head, s);
        out.write_all(head.as_bytes())?;
        let failures_len = self.failures.len();
        self.failures.finish()?.copy_all(failures_len, out)?;
        let mut middle = String::new();
        if red {
            middle.push_str("</ol>\n");
        }
        run_table(&mut middle, s, self.time, info);
        middle.push_str("<h2>cases</h2>\n");
        out.write_all(middle.as_bytes())?;
        let cases_len = self.cases.len();
        self.cases.finish()?.copy_all(cases_len, out)?;
        writeln!(out, "<p class=\"src\">{}</p></body></html>", esc(&s.line()))?;
        out.flush()
    }
}

/// The heading of the summary at the top; `true` when a list of red cases
/// follows (its lines come from [`failure_line`]).
fn failures_heading(out: &mut String, s: &Summary) -> bool {
    let red = s.failed + s.errors;
    if red == 0 {
        let _ = writeln!(
            out,
            "<h2 id=\"failures\" class=\"pass\">no failures: {}</h2>",
            esc(&s.line())
        );
        return false;
    }
    let errors = match s.errors {
        0 => String::new(),
        1 => " (1 transport error)".to_string(),
        n => format!(" ({n} transport errors)"),
    };
    let _ = writeln!(
        out,
        "<h2 id=\"failures\" class=\"fail\">{red} failed{errors}</h2><ol class=\"failures\">"
    );
    true
}

/// The `i`th case's line in the summary at the top (a red case), linked to
/// its details.
fn failure_line(out: &mut String, i: usize, r: &CaseResult) {
    let (class, word) = word(r.outcome());
    let (message, source) = r
        .failures
        .first()
        .map(|f| {
            (
                cut(
                    &terminal(&format!("[{}] {}", f.kind.label(), f.message)),
                    SUMMARY_MESSAGE_BYTES,
                )
                .into_owned(),
                f.source.to_string(),
            )
        })
        .unwrap_or_default();
    let more = match r.failures.len() {
        0 | 1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    let _ = writeln!(
        out,
        "<li><a href=\"#{}\"><span class=\"{class}\">{word}</span> {}</a> {}{more} <span class=\"src\">--&gt; {}</span></li>",
        anchor(i),
        esc(&r.id),
        esc(&message),
        esc(&source)
    );
}

/// What the run was: when, against what, expecting what, and the counts.
fn run_table(out: &mut String, s: &Summary, total: Duration, info: &RunInfo) {
    let started = info
        .started
        .map(|t| {
            chrono::DateTime::<chrono::Utc>::from(t)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_else(|| "not recorded".into());
    let options = if info.options.is_empty() {
        "none".to_string()
    } else {
        info.options
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let counts = format!(
        "<span class=\"pass\">{} passed</span>, <span class=\"fail\">{} failed</span>, \
         <span class=\"error\">{} transport errors</span>, {} skipped, {} inconclusive, {} warnings \
         ({} cases, {} ms of exchanges)",
        s.passed,
        s.failed,
        s.errors,
        s.skipped,
        s.inconclusive,
        s.warnings,
        s.cases(),
        total.as_millis()
    );
    let rows: [(&str, String); 6] = [
        ("started (UTC)", esc(&started)),
        ("target", esc(&info.target)),
        ("release", esc(info.release.as_deref().unwrap_or("default"))),
        ("TLS", esc(info.tls_line())),
        ("options", esc(&options)),
        ("cases", counts),
    ];
    out.push_str("<h2>run</h2><table class=\"meta\">\n");
    for (k, v) in rows {
        let _ = writeln!(out, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    out.push_str("</table>\n");
}

fn word(o: Outcome) -> (&'static str, &'static str) {
    match o {
        Outcome::Pass => ("pass", "PASS"),
        Outcome::Fail => ("fail", "FAIL"),
        Outcome::Error => ("error", "ERROR"),
        Outcome::Skipped => ("skip", "SKIPPED"),
        Outcome::Inconclusive => ("skip", "INCONCLUSIVE"),
    }
}

/// One case's details, open when it is red.
fn case(out: &mut String, i: usize, r: &CaseResult) {
    let (class, word) = word(r.outcome());
    let open = if r.outcome().is_red() { " open" } else { "" };
    let _ = writeln!(
        out,
        "<details id=\"{}\"{open}><summary><span class=\"{class}\">{word}</span> {} <span class=\"src\">{}</span></summary>",
        anchor(i),
        esc(&r.id),
        esc(&r.source.to_string())
    );
    if let Some(d) = &r.description {
        let _ = writeln!(out, "<p>{}</p>", esc(d));
    }
    if let Some(skip) = &r.skipped {
        let _ = writeln!(
            out,
            "<p>{}: {}</p>",
            r.outcome().as_str(),
            esc(&skip.reason)
        );
    }
    if !r.exchanges.is_empty() {
        // A flow: each kept exchange, labelled by its step.
        let _ = writeln!(
            out,
            "<h4>exchanges of attempt {} ({} shown)</h4>",
            r.attempts,
            r.exchanges.len()
        );
        for x in &r.exchanges {
            let status = x
                .response
                .as_ref()
                .map_or_else(|| "no reply".to_owned(), |resp| resp.status.to_string());
            let _ = writeln!(
                out,
                "<h4>{}: {}</h4><pre>{}</pre>",
                esc(&x.label),
                esc(&status),
                esc(&exchange_text(&x.request, x.response.as_ref()))
            );
        }
    } else if r.outcome() != Outcome::Skipped && !r.request.method.is_empty() {
        // A passing case of a streaming run kept no request.
        let _ = writeln!(
            out,
            "<h4>request</h4><pre>{}</pre>",
            esc(&exchange_text(&r.request, None))
        );
    }
    if let (Some(resp), true) = (&r.response, r.exchanges.is_empty()) {
        let _ = writeln!(
            out,
            "<h4>response {} ({} ms)</h4><pre>{}</pre>",
            resp.status,
            r.duration.as_millis(),
            esc(&resp.body_text)
        );
    }
    if let Some((expected, actual)) = diff::documents(r) {
        out.push_str("<h4>diff at the failing paths (- expected, + actual)</h4><pre>");
        for line in diff::unified(&expected, &actual, super::Style::default()).lines() {
            let class = match line.chars().next() {
                Some('-') => "del",
                Some('+') => "ins",
                Some('@') => "hunk",
                _ => "",
            };
            let _ = writeln!(out, "<span class=\"{class}\">{}</span>", esc(line));
        }
        out.push_str("</pre>\n");
    }
    if !r.failures.is_empty() {
        out.push_str("<h4>failures</h4><ol>\n");
        for f in &r.failures {
            let rule = f
                .rule
                .as_deref()
                .map(|x| format!("<br><i>spec: {}</i>", esc(x)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "<li>[{}] {} <span class=\"src\">--&gt; {}</span>{rule}</li>",
                esc(f.kind.label()),
                esc(&f.message),
                esc(&f.source.to_string())
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
                esc(&w.message),
                esc(&w.source.to_string())
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</details>\n");
}

/// A request as text, and its reply's body when given.
fn exchange_text(
    request: &crate::result::SentRequest,
    response: Option<&crate::result::ReceivedResponse>,
) -> String {
    let mut t = format!("{} {}\n", request.method, request.url);
    for (k, v) in &request.headers {
        let _ = writeln!(t, "{k}: {v}");
    }
    if !request.body.is_empty() {
        let _ = writeln!(t, "\n{}", request.body);
    }
    if let Some(resp) = response {
        let _ = write!(t, "\n=> {}\n{}", resp.status, resp.body_text);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::Location;
    use crate::result::{Failure, FailureKind};
    use std::sync::Arc;

    fn result(id: &str, red: bool) -> CaseResult {
        let source = Location {
            file: Arc::new("cases/s/a.yaml".into()),
            line: 2,
            column: 1,
        };
        let mut r = CaseResult::skipped(id.into(), None, source.clone(), String::new());
        r.skipped = None;
        if red {
            r.request.method = "POST".into();
            r.failures.push(Failure {
                kind: FailureKind::Status,
                pointer: None,
                message: format!("bad {id}"),
                expected: None,
                actual: None,
                source,
                rule: None,
            });
        }
        r
    }

    #[test]
    fn the_page_is_in_reading_order_and_each_failure_links_to_its_case() {
        let results = [
            result("s::a", false),
            result("s::b", true),
            result("s::c", false),
            result("s::d", true),
        ];
        let info = RunInfo::default();
        let mut w = Writer::new(
            Spool::file_in(&std::env::temp_dir()).unwrap(),
            Spool::file_in(&std::env::temp_dir()).unwrap(),
            &info,
        );
        for r in &results {
            w.push(r).unwrap();
        }
        let mut out = Vec::new();
        w.finish(&mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert_eq!(
            page,
            render(&results, &info),
            "file and memory spools agree"
        );
        let at = |needle: &str| {
            page.find(needle)
                .unwrap_or_else(|| panic!("no {needle} in {page}"))
        };
        let order = [
            at("<h1>"),
            at("<h2 id=\"failures\" class=\"fail\">2 failed</h2>"),
            at("<li><a href=\"#case-2\"><span class=\"fail\">FAIL</span> s::b</a> [status] bad s::b"),
            at("<li><a href=\"#case-4\"><span class=\"fail\">FAIL</span> s::d</a> [status] bad s::d"),
            at("</ol>\n<h2>run</h2>"),
            at("(4 cases, 0 ms of exchanges)"),
            at("<h2>cases</h2>\n<details id=\"case-1\">"),
            at("<details id=\"case-2\" open><summary><span class=\"fail\">FAIL</span> s::b"),
            at("<details id=\"case-4\" open>"),
            at("<p class=\"src\">2 passed, 2 failed</p></body></html>\n"),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{page}");
        // A case that kept no request shows none.
        let passing = &page[at("<details id=\"case-1\">")..at("<details id=\"case-2\"")];
        assert!(!passing.contains("<h4>request</h4>"), "{passing}");
        let green = render(&results[..1], &info);
        assert!(green.contains("<h2 id=\"failures\" class=\"pass\">no failures: 1 passed, 0 failed</h2>\n<h2>run</h2>"), "{green}");
    }
}
