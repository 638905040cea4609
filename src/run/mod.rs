//! Running cases: one shared HTTP client per target, bounded concurrency,
//! a timeout per request, optional rate limit. Returns [`CaseResult`]s and
//! never prints.

mod client;
mod json;
pub mod request;
mod result;

pub use client::{build_client, ClientError};
pub use request::{prepare, PreparedRequest};
pub use result::{
    CaseResult, Failure, FailureKind, NumberToken, Outcome, ReceivedResponse, SentRequest,
    TransportError, Warning,
};

use crate::auth::Timestamp;
use crate::case::Case;
use crate::check;
use crate::sanitize::Secrets;
use crate::schema::SchemaCatalog;
use crate::target::Target;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

/// Runs cases against one target. Cheap to clone; clones share the client.
#[derive(Clone)]
pub struct Runner {
    client: reqwest::Client,
    target: Arc<Target>,
    schemas: Arc<SchemaCatalog>,
    pacer: Option<Arc<Pacer>>,
    deadline: Option<Instant>,
}

impl Runner {
    /// A runner for `target`, validating with `schemas`.
    pub fn new(target: Target, schemas: Arc<SchemaCatalog>) -> Result<Self, ClientError> {
        let client = build_client(&target)?;
        let pacer = target.rate_per_sec.map(|r| Arc::new(Pacer::new(r)));
        Ok(Self {
            client,
            target: Arc::new(target),
            schemas,
            pacer,
            deadline: None,
        })
    }

    /// Stop the whole run at `deadline`: cases not finished by then fail
    /// with a transport timeout instead of hanging the run.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The target this runner talks to.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Run one case: send, then run every check and collect every failure.
    pub async fn run_case(&self, case: &Case) -> CaseResult {
        let started = Instant::now();
        // Sign after pacing, so a long wait under --rate cannot make the signature stale.
        let exchange = async {
            if let Some(p) = &self.pacer {
                p.wait().await;
            }
            let prepared = prepare(case, &self.target, Timestamp::now());
            // Scrubbed in the client, before the display cut and before any
            // check or report sees the reply.
            let secrets = secrets(&prepared, &self.target);
            let (reply, retries) =
                client::send(&self.client, &self.target, &prepared, &secrets).await;
            (prepared, reply, retries)
        };
        let (prepared, reply, retries) = match self.deadline {
            None => exchange.await,
            Some(d) => tokio::time::timeout_at(d.into(), exchange).await.unwrap_or_else(|_| {
                let msg = "the whole-run timeout was reached before this case finished (raise --run-timeout)";
                let prepared = prepare(case, &self.target, Timestamp::now());
                (prepared, Err((TransportError::Timeout, msg.to_string())), 0)
            }),
        };
        let mut failures = Vec::new();
        let mut warnings = Vec::new();
        let response = match reply {
            Err((kind, cause)) => {
                failures.push(Failure {
                    kind: FailureKind::Transport(kind),
                    pointer: None,
                    message: cause,
                    expected: None,
                    actual: None,
                    source: case.source.clone(),
                    rule: None,
                });
                None
            }
            Ok(r) => {
                self.check(case, &prepared, &r, &mut failures, &mut warnings);
                Some(r)
            }
        };
        CaseResult {
            id: case.id(),
            description: case.description.clone(),
            source: case.source.clone(),
            request: prepared.redacted(),
            response,
            failures,
            warnings,
            duration: started.elapsed(),
            retries,
        }
    }

    fn check(
        &self,
        case: &Case,
        sent: &PreparedRequest,
        r: &ReceivedResponse,
        failures: &mut Vec<Failure>,
        warnings: &mut Vec<Warning>,
    ) {
        let e = &case.expect;
        failures.extend(check::status::check(e, r.status));
        if e.json {
            failures.extend(check::content_type::check(
                r.header("content-type"),
                &e.status_source,
            ));
        }
        // Ambiguity fails any case, whatever it expects.
        failures.extend(check::wire::headers(&sent.headers, r, &e.status_source));
        failures.extend(check::wire::duplicate_keys(r, &e.status_source));
        if let Some(loc) = &e.rejected {
            failures.extend(check::rejected::check(r.status, r.json.as_ref(), loc));
        }
        if let Some(snap) = &e.snapshot {
            failures.extend(check::snapshot::check(snap, r.status, r.json.as_ref()));
        }
        let needs_json = e.json || e.schema.is_some() || e.body.is_some();
        let Some(json) = &r.json else {
            if needs_json {
                failures.push(not_json(r, case));
            }
            return;
        };
        if let Some((name, loc)) = &e.schema {
            failures.extend(check::schema::check(
                &self.schemas,
                e.release,
                name,
                json,
                loc,
            ));
            failures.extend(check::wire::integer_tokens(
                self.schemas.get(e.release),
                name,
                r,
                loc,
            ));
        }
        if let Some(m) = &e.body {
            failures.extend(check::body::check(m, json));
        }
        let requested = request::requested_fields(case);
        let (f, w) = check::rules::check(&e.rules, e.release, requested.as_ref(), json);
        failures.extend(f);
        warnings.extend(w);
    }

    /// Run `cases` with at most `jobs` in flight; `on_result` sees each result
    /// as it completes (for progress). Results come back in input order.
    pub async fn run_all(
        &self,
        cases: &[Case],
        jobs: usize,
        mut on_result: impl FnMut(&CaseResult),
    ) -> Vec<CaseResult> {
        let sem = Arc::new(Semaphore::new(jobs.max(1)));
        let mut set = tokio::task::JoinSet::new();
        let mut slots: Vec<Option<CaseResult>> = vec![None; cases.len()];
        let mut store = |joined: Result<(usize, CaseResult), tokio::task::JoinError>| {
            if let Ok((i, r)) = joined {
                on_result(&r);
                slots[i] = Some(r);
            }
        };
        for (i, case) in cases.iter().enumerate() {
            // The semaphore is never closed, so acquiring cannot fail.
            let Ok(permit) = sem.clone().acquire_owned().await else {
                break;
            };
            let runner = self.clone();
            let case = case.clone();
            set.spawn(async move {
                let _permit = permit;
                (i, runner.run_case(&case).await)
            });
            while let Some(joined) = set.try_join_next() {
                store(joined);
            }
        }
        while let Some(joined) = set.join_next().await {
            store(joined);
        }
        slots
            .into_iter()
            .zip(cases)
            .map(|(slot, case)| slot.unwrap_or_else(|| lost(case)))
            .collect()
    }
}

/// What must never come back out of a reply: the signature just sent (a
/// target may echo the Authorization header) and the SK.
fn secrets(sent: &PreparedRequest, target: &Target) -> Secrets {
    let mut s = Secrets::new();
    let signature = sent
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.rsplit('/').next())
        .filter(|s| s.len() >= 16 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    if let Some(sig) = signature {
        s.add(sig);
    }
    if let Some(c) = &target.credentials {
        s.add(c.sk());
    }
    s
}

/// A result for a case whose task died: counted as an error, never dropped.
fn lost(case: &Case) -> CaseResult {
    CaseResult {
        id: case.id(),
        description: case.description.clone(),
        source: case.source.clone(),
        request: SentRequest::default(),
        response: None,
        failures: vec![Failure {
            kind: FailureKind::Transport(TransportError::Request),
            pointer: None,
            message: "internal error: the case's task did not complete (please report this)".into(),
            expected: None,
            actual: None,
            source: case.source.clone(),
            rule: None,
        }],
        warnings: vec![],
        duration: Duration::ZERO,
        retries: 0,
    }
}

fn not_json(r: &ReceivedResponse, case: &Case) -> Failure {
    let preview: String = r.body_text.chars().take(120).collect();
    let why = r.not_json.as_deref().unwrap_or("the body is not JSON");
    Failure {
        kind: FailureKind::NotJson,
        pointer: None,
        message: format!("{why}: {preview:?}"),
        expected: None,
        actual: None,
        source: case.expect.status_source.clone(),
        rule: Some("Table 3 (response is JSON)".into()),
    }
}

/// Spaces requests evenly to at most `rate` per second across all tasks.
struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    fn new(rate: f64) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate.max(Target::MIN_RATE)
        } else {
            1.0
        };
        Self {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: Mutex::new(Instant::now()),
        }
    }

    async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }
}
