//! Invariants: a contract's (and a case's) named, cited CEL relations,
//! checked on a reply. Each false one is a failure that names the rule, its
//! citation and the values it saw:
//!
//! `invariant login_date is false for /resultDesc: agent.status = 4,
//! agent.loginDate = 4294967295000` with `spec: Table 4 row 2.6 loginDate`.
//!
//! The reply's scope (what an expression can read) is built once per reply
//! by [`ReplyScope`]: `response`, `status`, `success`, `outcome`, `payload`,
//! `request` (`method`, `path`, `body`, `query`), `release`, `envelope`,
//! `probes`, `now_ms`, and from the contract's root `consts` and `options`.

use crate::check::pointer_push;
use crate::contract::{Contract, Envelope, Invariant, Release, Severity};
use crate::expr::{Expr, Root, Scope};
use crate::result::{Failure, FailureKind, Warning};
use serde_json::{json, Value};

/// What the reply's scope is built from.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    /// HTTP status.
    pub status: u16,
    /// The body, when it is JSON.
    pub body: Option<&'a Value>,
    /// The request as the `request` variable (`method`, `path`, `body`, `query`).
    pub request: &'a Value,
    /// Probe answers by name, as the `probes` variable.
    pub probes: &'a Value,
}

/// The variables of one reply, bound once.
pub struct ReplyScope<'r> {
    scope: Scope<'r>,
}

impl<'r> ReplyScope<'r> {
    /// Bind `reply`'s variables below `root` (the contract's constants and
    /// options), for a reply of `release` in `envelope`'s form.
    pub fn new(root: &'r Root, release: &Release, envelope: &Envelope, reply: Reply<'_>) -> Self {
        let null = Value::Null;
        let body = reply.body.unwrap_or(&null);
        let outcome = body.pointer(&envelope.outcome).cloned().unwrap_or(Value::Null);
        let success = envelope.is_success(body);
        let payload = body.pointer(&envelope.payload).cloned().unwrap_or(Value::Null);
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let mut scope = root.scope();
        scope
            .bind("response", body)
            .bind("status", &json!(reply.status))
            .bind("success", &json!(success))
            .bind("outcome", &outcome)
            .bind("payload", &payload)
            .bind("request", reply.request)
            .bind("release", &json!(release.name))
            .bind("envelope", &envelope.to_json())
            .bind("probes", reply.probes)
            .bind("now_ms", &json!(now_ms));
        ReplyScope { scope }
    }

    /// The scope, to evaluate expressions in.
    pub fn scope(&self) -> &Scope<'r> {
        &self.scope
    }
}

/// Check `invariants` (those applying to `release`) on the reply in
/// `scope`. `body` is the reply body (for `for_each` pointers).
pub fn check<'i>(
    invariants: impl IntoIterator<Item = &'i Invariant>,
    contract: &Contract,
    release: &Release,
    scope: &ReplyScope<'_>,
    body: Option<&Value>,
) -> (Vec<Failure>, Vec<Warning>) {
    let envelope = contract.envelope(release);
    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    for inv in invariants.into_iter().filter(|i| i.applies_to(&release.name)) {
        for (pointer, value) in targets(inv, envelope, body) {
            let mut child = scope.scope().child();
            if let Some(v) = value {
                child.bind(&inv.binding, v);
            }
            let holds = |e: &Expr| e.eval_bool(&child);
            if let Some(when) = &inv.when {
                // A condition that cannot be evaluated does not hold: the
                // schema reports a reply of the wrong shape.
                if !matches!(holds(when), Ok(true)) {
                    continue;
                }
            }
            let verdict = holds(&inv.expr);
            if matches!(verdict, Ok(true)) {
                continue;
            }
            // Constants are the manifest's own data: not what the reply showed.
            let mut shown: Vec<(String, String)> = inv
                .expr
                .explain(&child)
                .into_iter()
                .filter(|(p, _)| p != "consts" && !p.starts_with("consts."))
                .collect();
            for s in &inv.show {
                if let Ok(v) = s.eval_json(&child) {
                    shown.push((s.text().to_owned(), v.to_string()));
                }
            }
            let values = shown
                .iter()
                .map(|(p, v)| format!("{p} = {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            let at = pointer.as_deref().map(|p| format!(" for {}", show(p))).unwrap_or_default();
            let mut message = match &verdict {
                Err(e) => format!("invariant {} could not be checked{at}: {e}", inv.name),
                Ok(_) => format!("invariant {} is false{at}", inv.name),
            };
            if !values.is_empty() {
                message.push_str(&format!(": {values}"));
            }
            if let Some(m) = &inv.message {
                message.push_str(&format!(" ({m})"));
            }
            let cites = interpolate(&inv.cites, &child);
            match inv.severity {
                Severity::Error => failures.push(Failure {
                    kind: FailureKind::Invariant,
                    pointer: pointer.clone(),
                    message,
                    expected: Some(json!(format!("<invariant {}>", inv.name))),
                    actual: None,
                    source: inv.source.clone(),
                    rule: Some(cites),
                }),
                Severity::Warning => warnings.push(Warning {
                    pointer: pointer.clone(),
                    message: format!("{message}; allowed ({cites})"),
                    source: inv.source.clone(),
                }),
            }
        }
    }
    (failures, warnings)
}

/// Whether `when` holds in `scope` (an error counts as "does not").
pub fn holds(when: &Expr, scope: &ReplyScope<'_>) -> bool {
    matches!(when.eval_bool(scope.scope()), Ok(true))
}

/// What an invariant is checked on: the whole reply once, or each object
/// its `for_each` names (array elements one by one), with their pointers.
fn targets<'v>(
    inv: &Invariant,
    envelope: &Envelope,
    body: Option<&'v Value>,
) -> Vec<(Option<String>, Option<&'v Value>)> {
    if inv.for_each.is_empty() {
        return vec![(None, None)];
    }
    let Some(body) = body else { return vec![] };
    let mut out = Vec::new();
    for f in &inv.for_each {
        let pointer = match f.as_str() {
            "payload" => envelope.payload.clone(),
            "payload_copy" => match &envelope.payload_copy {
                Some(p) => p.clone(),
                None => continue,
            },
            p => p.to_owned(),
        };
        match body.pointer(&pointer) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    out.push((Some(pointer_push(&pointer, &i.to_string())), Some(item)));
                }
            }
            Some(v) => out.push((Some(pointer.clone()), Some(v))),
        }
    }
    out
}

/// `text` with each `{expr}` replaced by its value in `scope` (strings
/// without quotes); a hole that cannot be evaluated is left as written.
pub fn interpolate(text: &str, scope: &Scope<'_>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        out.push_str(&rest[..open]);
        let hole = &rest[open + 1..open + close];
        match Expr::compile(hole).and_then(|e| e.eval_json(scope)) {
            Ok(Value::String(s)) => out.push_str(&s),
            Ok(v) => out.push_str(&v.to_string()),
            Err(_) => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn show(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the body"
    } else {
        pointer
    }
}
