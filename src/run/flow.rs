//! Running a flow case: its steps in order (each reply checked like a
//! single case's), then its relations across the replies; the whole flow
//! again while a relation is false, up to its `attempts`.
//!
//! Expressions see each step by its id as `{status, success, response,
//! payload, request}` (a list of those, each with its element under the
//! step's `as` name, for a `for_each` step), the captures, `consts` /
//! `options` by contract name, and the case's `vars`.

use super::{request_value, Retention, Runner};
use crate::case::{Body, Case, Flow, Step};
use crate::check::invariant::{judge, Finding};
use crate::expr::Scope;
use crate::result::{CaseResult, ExchangeRecord, Failure, FailureKind, Warning};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Instant;

/// Most exchanges one attempt of a flow may send: a `for_each` over a
/// hostile reply must not turn into millions of requests.
pub const MAX_FLOW_EXCHANGES: usize = 10_000;

/// Exchanges of a failed flow kept for the report (the first ones, and
/// every one whose checks failed, up to this many).
const KEPT_EXCHANGES: usize = 50;

/// One attempt's outcome.
#[derive(Default)]
struct Attempt {
    failures: Vec<Failure>,
    warnings: Vec<Warning>,
    /// False relations (failures or, by their severity, warnings), keyed by
    /// relation and element (`state_agrees#single[3]`).
    relations: Vec<(String, Finding)>,
    exchanges: Vec<(ExchangeRecord, bool)>,
    retries: u32,
    /// Set when a step (not a relation) failed: nothing to re-query.
    step_failed: bool,
}

impl Runner {
    /// Run the flow case `case`.
    ///
    /// Agents change state between two replies, so a false relation may be
    /// churn: the flow is asked again, up to its `attempts`, and each
    /// relation (each element of a `for_each` relation, matched by its
    /// position) must hold in at least one attempt. A real disagreement is
    /// false every time and stays red; requiring one attempt where *every*
    /// element agrees would fail a large flow under any churn.
    pub(crate) async fn run_flow(&self, case: &Case, flow: &Flow) -> CaseResult {
        let started = Instant::now();
        let mut earlier: Vec<String> = Vec::new();
        let mut attempt_no = 0;
        // The relations (and elements) false in every attempt so far.
        let mut outstanding: Option<BTreeSet<String>> = None;
        let mut last = loop {
            attempt_no += 1;
            let attempt = self.attempt(flow).await;
            if attempt.step_failed {
                break attempt;
            }
            let keys: BTreeSet<String> = attempt.relations.iter().map(|(k, _)| k.clone()).collect();
            let still: BTreeSet<String> = match outstanding.take() {
                None => keys,
                Some(before) => before.intersection(&keys).cloned().collect(),
            };
            let done = still.is_empty() || attempt_no >= flow.attempts;
            if !done {
                if let Some((_, f)) = attempt.relations.iter().find(|(k, _)| still.contains(k)) {
                    earlier.push(format!("attempt {attempt_no}: {}", finding_text(f)));
                }
            }
            outstanding = Some(still);
            if done {
                break attempt;
            }
            if !flow.delay.is_zero() {
                tokio::time::sleep(flow.delay).await;
            }
        };
        // What stays false is what was false in every attempt.
        let outstanding = outstanding.unwrap_or_default();
        let mut failures = std::mem::take(&mut last.failures);
        let mut warnings = std::mem::take(&mut last.warnings);
        let again = |m: &mut String| {
            if attempt_no > 1 {
                m.push_str(&format!(" (false on all {attempt_no} attempts)"));
            }
        };
        for (key, finding) in std::mem::take(&mut last.relations) {
            if !outstanding.contains(&key) {
                continue;
            }
            match finding {
                Finding::Failure(mut f) => {
                    again(&mut f.message);
                    failures.push(f);
                }
                Finding::Warning(mut w) => {
                    again(&mut w.message);
                    warnings.push(w);
                }
            }
        }
        let Attempt {
            exchanges, retries, ..
        } = last;
        if outstanding.is_empty() && !earlier.is_empty() {
            warnings.push(Warning {
                pointer: None,
                message: format!(
                    "each relation held in at least one of {attempt_no} attempts ({})",
                    earlier.join("; ")
                ),
                source: case.source.clone(),
            });
        }
        let (request, response) = exchanges
            .first()
            .map(|(x, _)| (x.request.clone(), x.response.clone()))
            .unwrap_or_default();
        // A passing flow keeps no exchanges; a failing one the first and the
        // failing ones, bounded.
        let kept = if failures.is_empty() {
            Vec::new()
        } else {
            keep(exchanges, &mut warnings, &case.source)
        };
        CaseResult {
            id: case.id(),
            description: case.description.clone(),
            source: case.source.clone(),
            request,
            response,
            failures,
            warnings,
            duration: started.elapsed(),
            retries,
            skipped: None,
            exchanges: kept,
            attempts: attempt_no,
        }
    }

    /// Every step once, then the relations.
    async fn attempt(&self, flow: &Flow) -> Attempt {
        let mut out = Attempt::default();
        let root = &self.flow_root;
        // The names bound so far, in order.
        let mut bound: Vec<(String, Value)> = vec![("vars".to_owned(), flow.vars.clone())];
        let scope_of = |bound: &[(String, Value)]| -> Scope<'_> {
            let mut s = root.scope();
            for (k, v) in bound {
                s.bind(k, v);
            }
            s
        };
        let mut sent = 0usize;
        for step in &flow.steps {
            let items = match &step.for_each {
                None => None,
                Some(fe) => {
                    let scope = scope_of(&bound);
                    match fe.list.eval_json(&scope) {
                        Ok(Value::Array(items)) => Some(items),
                        Ok(other) => {
                            out.fail(step_error(
                                step,
                                &fe.source,
                                format!("`for_each` gave {}, not a list", json_kind(&other)),
                            ));
                            return out;
                        }
                        Err(e) => {
                            out.fail(step_error(
                                step,
                                &fe.source,
                                format!("`for_each` could not be evaluated: {e}"),
                            ));
                            return out;
                        }
                    }
                }
            };
            let count = items.as_ref().map_or(1, Vec::len);
            if sent + count > MAX_FLOW_EXCHANGES {
                let at = step
                    .for_each
                    .as_ref()
                    .map_or(&step.case.source, |f| &f.source);
                out.fail(step_error(
                    step,
                    at,
                    format!(
                        "the flow would send {} requests; at most {MAX_FLOW_EXCHANGES} are sent per attempt",
                        sent + count
                    ),
                ));
                return out;
            }
            sent += count;
            // Every exchange's computed fields first, in one scope of what is
            // bound so far (each element in a child scope of it): the
            // replies are converted for CEL once per step, not per element.
            let fields = {
                let base = scope_of(&bound);
                let mut all = Vec::with_capacity(count);
                for i in 0..count {
                    let mut child = base.child();
                    if let (Some(fe), Some(list)) = (&step.for_each, &items) {
                        child.bind(&fe.binding, &list[i]);
                    }
                    match self.fields(step, &child) {
                        Ok(f) => all.push(f),
                        Err(f) => {
                            out.fail(*f);
                            return out;
                        }
                    }
                }
                all
            };
            let mut values = Vec::with_capacity(count);
            for (i, computed) in fields.into_iter().enumerate() {
                let item = items.as_ref().map(|list| &list[i]);
                let label = match items {
                    Some(_) => format!("{}[{i}]", step.id),
                    None => step.id.clone(),
                };
                let mut case = step.case.clone();
                if let Body::Query(map) = &mut case.request.body {
                    map.extend(computed);
                }
                let r = self.run_single(&case, Retention::Full).await;
                out.retries += r.retries;
                let failed = !r.failures.is_empty();
                for mut f in r.failures {
                    f.message = format!("step `{label}`: {}", f.message);
                    out.failures.push(f);
                }
                for mut w in r.warnings {
                    w.message = format!("step `{label}`: {}", w.message);
                    out.warnings.push(w);
                }
                // The reply's JSON moves into the step's value; the record
                // keeps its text, for the reports of a failing flow.
                let mut response = r.response;
                let body = response.as_mut().and_then(|x| x.json.take());
                let status = response.as_ref().map(|x| x.status);
                let mut v = self.step_value(&case, status, body);
                if let (Some(fe), Some(item), Value::Object(m)) = (&step.for_each, item, &mut v) {
                    m.insert(fe.binding.clone(), item.clone());
                }
                values.push(v);
                out.exchanges.push((
                    ExchangeRecord {
                        label,
                        request: r.request,
                        response,
                    },
                    failed,
                ));
            }
            if out.step_failed || !out.failures.is_empty() {
                // Later steps read this one's replies: stop here.
                out.step_failed = true;
                return out;
            }
            let value = match items {
                Some(_) => Value::Array(values),
                None => values.pop().unwrap_or(Value::Null),
            };
            bound.push((step.id.clone(), value));
            for cap in &step.captures {
                match cap.expr.eval_json(&scope_of(&bound)) {
                    Ok(v) => bound.push((cap.name.clone(), v)),
                    Err(e) => {
                        out.fail(step_error(
                            step,
                            &cap.source,
                            format!("capture `{}` could not be evaluated: {e}", cap.name),
                        ));
                        return out;
                    }
                }
            }
        }
        let scope = scope_of(&bound);
        for rel in &flow.relations {
            let inv = &rel.invariant;
            let mut check = |s: &Scope<'_>, at: Option<&str>| match judge(inv, "relation", s, at) {
                None => {}
                Some(finding) => out
                    .relations
                    .push((format!("{}#{}", inv.name, at.unwrap_or("")), finding)),
            };
            match &rel.for_each {
                None => check(&scope, None),
                Some(fe) => match fe.list.eval_json(&scope) {
                    Ok(Value::Array(items)) => {
                        // `again[3]` when the list is a step, else `item[3]`.
                        let name = fe.list.text().trim();
                        let name = if bound.iter().any(|(k, _)| k == name) {
                            name
                        } else {
                            fe.binding.as_str()
                        };
                        for (i, item) in items.iter().enumerate() {
                            let mut child = scope.child();
                            child.bind(&fe.binding, item);
                            check(&child, Some(&format!("{name}[{i}]")));
                        }
                    }
                    Ok(other) => out.relations.push((
                        inv.name.clone(),
                        Finding::Failure(relation_error(
                            inv,
                            &fe.source,
                            format!("`for_each` gave {}, not a list", json_kind(&other)),
                        )),
                    )),
                    Err(e) => out.relations.push((
                        inv.name.clone(),
                        Finding::Failure(relation_error(
                            inv,
                            &fe.source,
                            format!("`for_each` could not be evaluated: {e}"),
                        )),
                    )),
                },
            }
        }
        out
    }

    /// `step`'s computed request fields, evaluated in `scope`.
    fn fields(&self, step: &Step, scope: &Scope<'_>) -> Result<Vec<(String, Value)>, Box<Failure>> {
        let mut out = Vec::with_capacity(step.fields.len());
        for f in &step.fields {
            match f.expr.eval_json(scope) {
                Ok(v) => out.push((f.name.clone(), v)),
                Err(e) => {
                    return Err(Box::new(step_error(
                        step,
                        &f.source,
                        format!("request field `{}` could not be computed: {e}", f.name),
                    )))
                }
            }
        }
        Ok(out)
    }

    /// What later expressions see of one exchange of `case`.
    fn step_value(&self, case: &Case, status: Option<u16>, body: Option<Value>) -> Value {
        let envelope = case
            .contract
            .as_deref()
            .zip(case.release.as_ref())
            .map(|(c, r)| c.envelope(r));
        let payload = match (&body, envelope) {
            (Some(b), Some(e)) => b.pointer(&e.payload).cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        };
        let success = match (&body, envelope) {
            (Some(b), Some(e)) => e.is_success(b),
            _ => false,
        };
        json!({
            "status": status,
            "success": success,
            "response": body.unwrap_or(Value::Null),
            "payload": payload,
            "request": request_value(case, self.options()),
        })
    }
}

impl Attempt {
    fn fail(&mut self, f: Failure) {
        self.failures.push(f);
        self.step_failed = true;
    }
}

/// The exchanges kept for a failing flow's report: the failing ones and the
/// first ones, in order, at most [`KEPT_EXCHANGES`].
fn keep(
    exchanges: Vec<(ExchangeRecord, bool)>,
    warnings: &mut Vec<Warning>,
    source: &crate::location::Location,
) -> Vec<ExchangeRecord> {
    let total = exchanges.len();
    let failing = exchanges.iter().filter(|(_, f)| *f).count();
    let mut room = KEPT_EXCHANGES.saturating_sub(failing.min(KEPT_EXCHANGES));
    let mut kept = Vec::new();
    let mut failing_room = KEPT_EXCHANGES;
    for (x, failed) in exchanges {
        if failed && failing_room > 0 {
            failing_room -= 1;
            kept.push(x);
        } else if !failed && room > 0 {
            room -= 1;
            kept.push(x);
        }
    }
    if kept.len() < total {
        warnings.push(Warning {
            pointer: None,
            message: format!(
                "{} of the flow's {total} exchanges are shown (the failing ones first)",
                kept.len()
            ),
            source: source.clone(),
        });
    }
    kept
}

fn step_error(step: &Step, at: &crate::location::Location, message: String) -> Failure {
    Failure {
        kind: FailureKind::Rule,
        pointer: None,
        message: format!("step `{}`: {message}", step.id),
        expected: None,
        actual: None,
        source: at.clone(),
        rule: None,
    }
}

fn relation_error(
    inv: &crate::contract::Invariant,
    at: &crate::location::Location,
    message: String,
) -> Failure {
    Failure {
        kind: FailureKind::Invariant,
        pointer: None,
        message: format!("relation {}: {message}", inv.name),
        expected: None,
        actual: None,
        source: at.clone(),
        rule: Some(inv.cites.clone()),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

fn finding_text(f: &Finding) -> &str {
    match f {
        Finding::Failure(f) => &f.message,
        Finding::Warning(w) => &w.message,
    }
}
