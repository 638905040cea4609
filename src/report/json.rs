//! A JSON report for machines: the run's target and whether TLS was
//! verified, then one object per case with its outcome, request
//! (redacted), reply, a flow's exchanges, and every failure and warning.

use super::RunInfo;
use crate::result::{CaseResult, ReceivedResponse, SentRequest};
use serde_json::{json, Value};

/// The report document for `results` of the run described by `info`.
pub fn render(results: &[CaseResult], info: &RunInfo) -> Value {
    let summary = super::text::Summary::of(results);
    json!({
        "tool": "cms-contract",
        "version": env!("CARGO_PKG_VERSION"),
        "target": info.target,
        "tls_verify": info.tls_verify,
        "release": info.release,
        "options": info.options.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
        "started_unix_ms": info.started.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_millis() as u64),
        "summary": {
            "passed": summary.passed,
            "failed": summary.failed,
            "errors": summary.errors,
            "skipped": summary.skipped,
            "inconclusive": summary.inconclusive,
            "warnings": summary.warnings,
        },
        "cases": results.iter().map(case).collect::<Vec<_>>(),
    })
}

fn case(r: &CaseResult) -> Value {
    json!({
        "id": r.id,
        "outcome": r.outcome().as_str(),
        "source": r.source.to_string(),
        "duration_ms": r.duration.as_secs_f64() * 1000.0,
        "skip_reason": r.skipped.as_ref().map(|s| s.reason.clone()),
        "request": request(&r.request),
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
