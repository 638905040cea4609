//! A JSON report for machines: the run's target and whether TLS was
//! verified, then one object per case with its outcome, request
//! (redacted), reply, a flow's exchanges, and every failure and warning,
//! then the counts.
//!
//! Written as results come ([`Writer`]): the head, each case as it is
//! pushed, and the `summary` last, so memory does not grow with the run.
//! A case that kept no exchange (a passing case of a streaming run, whose
//! request and reply are dropped once checked, or a case that was never
//! sent) has `request` and `response` `null`.

use super::text::Summary;
use super::RunInfo;
use crate::result::{CaseResult, ReceivedResponse, SentRequest};
use serde_json::{json, Value};
use std::io::{self, Write};

/// The report document for `results` of the run described by `info`.
pub fn render(results: &[CaseResult], info: &RunInfo) -> Value {
    let mut w = Writer::new(Vec::new(), info).expect("writing to memory does not fail");
    for r in results {
        w.push(r).expect("writing to memory does not fail");
    }
    let bytes = w.finish().expect("writing to memory does not fail");
    serde_json::from_slice(&bytes).expect("the writer writes JSON")
}

/// Writes the report to `out` as results come: exactly what
/// `serde_json::to_string_pretty` writes for the whole document, with the
/// keys in the order `tool`, `version`, `target`, `tls_verify`, `release`,
/// `options`, `started_unix_ms`, `cases`, `summary`.
pub struct Writer<W: Write> {
    out: W,
    cases: usize,
    summary: Summary,
}

impl<W: Write> Writer<W> {
    /// Write the head of the report for the run described by `info`.
    pub fn new(mut out: W, info: &RunInfo) -> io::Result<Self> {
        let head = serde_json::to_string_pretty(&head(info))?;
        // `{ … }` without its closing line: the cases and summary follow.
        let open = head.strip_suffix("\n}").unwrap_or(&head);
        write!(out, "{open},\n  \"cases\": [")?;
        Ok(Writer {
            out,
            cases: 0,
            summary: Summary::default(),
        })
    }

    /// Write one case.
    pub fn push(&mut self, r: &CaseResult) -> io::Result<()> {
        let text = serde_json::to_string_pretty(&case(r))?;
        let sep = if self.cases == 0 { "" } else { "," };
        // Two levels deep. A JSON string holds no raw line break, so every
        // line break of the text is one of the pretty printer's.
        write!(self.out, "{sep}\n    {}", text.replace('\n', "\n    "))?;
        self.cases += 1;
        self.summary.add(r);
        Ok(())
    }

    /// Write the counts and close the document; returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        let summary = serde_json::to_string_pretty(&counts(&self.summary))?.replace('\n', "\n  ");
        let close = if self.cases == 0 { "]" } else { "\n  ]" };
        write!(self.out, "{close},\n  \"summary\": {summary}\n}}")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// What the report says of the run before its cases.
fn head(info: &RunInfo) -> Value {
    json!({
        "tool": "cms-contract",
        "version": env!("CARGO_PKG_VERSION"),
        "target": info.target,
        "tls_verify": info.tls_verify,
        "release": info.release,
        "options": info.options.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
        "started_unix_ms": info.started.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_millis() as u64),
    })
}

/// The run's counts, the report's `summary`.
fn counts(s: &Summary) -> Value {
    json!({
        "passed": s.passed,
        "failed": s.failed,
        "errors": s.errors,
        "skipped": s.skipped,
        "inconclusive": s.inconclusive,
        "warnings": s.warnings,
    })
}

fn case(r: &CaseResult) -> Value {
    json!({
        "id": r.id,
        "outcome": r.outcome().as_str(),
        "source": r.source.to_string(),
        "duration_ms": r.duration.as_secs_f64() * 1000.0,
        "skip_reason": r.skipped.as_ref().map(|s| s.reason.clone()),
        "request": kept(&r.request).map(request),
        "response": r.response.as_ref().map(response),
        "attempts": r.attempts,
        "exchanges": r.exchanges.iter().map(|x| json!({
            "label": x.label,
            "request": request(&x.request),
            "response": x.response.as_ref().map(response),
        })).collect::<Vec<_>>(),
        "failures": r.failures.iter().map(|f| json!({
            "kind": f.kind.label(),
            "pointer": f.pointer,
            "message": f.message,
            "expected": f.expected,
            "actual": f.actual,
            "source": f.source.to_string(),
            "spec": f.rule,
        })).collect::<Vec<_>>(),
        "warnings": r.warnings.iter().map(|w| json!({
            "pointer": w.pointer,
            "message": w.message,
            "source": w.source.to_string(),
        })).collect::<Vec<_>>(),
    })
}

/// The request, unless none was kept (a method is always set on one that was).
fn kept(r: &SentRequest) -> Option<&SentRequest> {
    (!r.method.is_empty()).then_some(r)
}

fn request(r: &SentRequest) -> Value {
    json!({
        "method": r.method,
        "url": r.url,
        "headers": r.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "body": r.body,
    })
}

fn response(r: &ReceivedResponse) -> Value {
    json!({
        "status": r.status,
        "headers": r.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "body": r.json.clone().unwrap_or_else(|| Value::String(r.body_text.clone())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::Location;
    use crate::result::{Failure, FailureKind, Warning};
    use std::time::Duration;

    fn result(id: &str, red: bool) -> CaseResult {
        let source = Location {
            file: std::sync::Arc::new("cases/s/a.yaml".into()),
            line: 3,
            column: 5,
        };
        let mut r = CaseResult::skipped(id.into(), None, source.clone(), String::new());
        r.skipped = None;
        r.duration = Duration::from_micros(1500);
        r.warnings.push(Warning {
            pointer: Some("/x".into()),
            message: "an extra field \"x\"\nwith a line break".into(),
            source: source.clone(),
        });
        if red {
            r.request = SentRequest {
                method: "POST".into(),
                url: "http://h/p".into(),
                headers: vec![("a".into(), "b".into())],
                body: "{\n}".into(),
            };
            r.failures.push(Failure {
                kind: FailureKind::Body,
                pointer: None,
                message: "m".into(),
                expected: Some(json!({"a": [1, {"b": null}], "c": {}})),
                actual: Some(json!([])),
                source,
                rule: None,
            });
        }
        r
    }

    /// The document as one value: what the report was before it streamed.
    fn whole(results: &[CaseResult], info: &RunInfo) -> Value {
        let mut doc = head(info);
        doc["cases"] = results.iter().map(case).collect();
        doc["summary"] = counts(&Summary::of(results));
        doc
    }

    #[test]
    fn the_streamed_text_is_the_pretty_printed_document() {
        let infos = [
            RunInfo::default(),
            RunInfo {
                target: "http://t".into(),
                tls_verify: true,
                release: Some("r1".into()),
                options: vec![("c.o".into(), "v".into()), ("c.p".into(), "w".into())],
                started: Some(std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            },
        ];
        let runs: [&[CaseResult]; 3] = [
            &[],
            &[result("s::a", false)],
            &[
                result("s::a", false),
                result("s::b", true),
                result("t::c", false),
            ],
        ];
        for info in &infos {
            for results in runs {
                let mut w = Writer::new(Vec::new(), info).unwrap();
                for r in results {
                    w.push(r).unwrap();
                }
                let streamed = String::from_utf8(w.finish().unwrap()).unwrap();
                let expected = serde_json::to_string_pretty(&whole(results, info)).unwrap();
                assert_eq!(streamed, expected);
            }
        }
    }

    #[test]
    fn a_case_that_kept_no_exchange_has_null_request_and_response() {
        let doc = render(
            &[result("s::a", false), result("s::b", true)],
            &RunInfo::default(),
        );
        assert_eq!(doc["cases"][0]["request"], Value::Null);
        assert_eq!(doc["cases"][0]["response"], Value::Null);
        assert_eq!(doc["cases"][1]["request"]["method"], "POST");
        assert_eq!(doc["summary"]["failed"], 1);
        assert_eq!(doc["summary"]["warnings"], 2);
    }
}
