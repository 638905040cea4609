//! A JSON report for machines: the run's target and whether TLS was
//! verified, then one object per case with its outcome, request
//! (redacted), reply status and every failure and warning.

use super::RunInfo;
use crate::result::CaseResult;
use serde_json::{json, Value};

/// The report document for `results` of the run described by `info`.
pub fn render(results: &[CaseResult], info: &RunInfo) -> Value {
    let summary = super::text::Summary::of(results);
    json!({
        "tool": "cms-contract",
        "version": env!("CARGO_PKG_VERSION"),
        "target": info.target,
        "tls_verify": info.tls_verify,
        "summary": {
            "passed": summary.passed,
            "failed": summary.failed,
            "errors": summary.errors,
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
        "request": {
            "method": r.request.method,
            "url": r.request.url,
            "headers": r.request.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "body": r.request.body,
        },
        "response": r.response.as_ref().map(|resp| json!({
            "status": resp.status,
            "headers": resp.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "body": resp.json.clone().unwrap_or_else(|| Value::String(resp.body_text.clone())),
        })),
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
