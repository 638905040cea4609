//! Running cases: one shared HTTP client per target, bounded concurrency,
//! a timeout per request, optional rate limit, the contracts' probes asked
//! once. Returns [`CaseResult`]s and never prints.

mod client;
mod flow;
mod json;
mod pool;
mod probe;
pub mod request;

pub use client::{build_client, ClientError, HttpClient};
pub use flow::MAX_FLOW_EXCHANGES;
pub use probe::{PlannedProbe, ProbeAnswer, ProbePlan};
pub use request::{prepare, request_value, PreparedRequest};

use crate::auth::Timestamp;
use crate::case::Case;
use crate::check::{self, invariant};
use crate::contract::OptionValues;
use crate::expr::Root;
use crate::result::{
    CaseResult, Failure, FailureKind, ReceivedResponse, SentRequest, Skip, SkipKind,
    TransportError, Warning,
};
use crate::sanitize::Secrets;
use crate::schema::SchemaCatalog;
use crate::target::Target;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Runs cases against one target. Cheap to clone; clones share the client,
/// the compiled schemas and expressions, and the probe answers.
#[derive(Clone)]
pub struct Runner {
    client: client::HttpClient,
    target: Arc<Target>,
    /// The target's base URL, parsed once.
    endpoint: Arc<request::Endpoint>,
    catalog: Arc<SchemaCatalog>,
    /// The expression root of each contract (its constants and options).
    roots: Arc<BTreeMap<String, Root>>,
    /// The root of flow expressions: `consts` and `options` of every
    /// contract, by contract name.
    flow_root: Arc<Root>,
    probes: Arc<probe::Probes>,
    pacer: Option<Arc<Pacer>>,
    deadline: Option<Instant>,
    retention: Retention,
    /// [`REORDER_WINDOW_BYTES`], unless set.
    window_bytes: usize,
}

/// What a result keeps of a case that did not fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Retention {
    /// Every result keeps its request and reply (`--bless` and `compare`
    /// need them).
    #[default]
    Full,
    /// A case that passed or was skipped keeps only what a summary needs
    /// (id, source, description, timing, counts, warnings, skip reason):
    /// its request and reply are dropped as soon as it is checked. Failing,
    /// erroring and inconclusive cases keep everything.
    Failures,
}

/// How far results may complete ahead of the oldest unfinished case in
/// [`Runner::run_each`] (they wait, in order, in a buffer of this many).
pub const REORDER_WINDOW: usize = 4096;

/// How many bytes of kept exchanges ([`CaseResult::kept_bytes`]) the
/// results waiting in [`Runner::run_each`]'s window may hold before no new
/// case starts: red cases with large replies (or every case under
/// `Retention::Full`) behind one slow case cannot fill memory.
pub const REORDER_WINDOW_BYTES: usize = 64 << 20;

/// The tokio runtime a run of `jobs` cases at a time needs: one worker
/// thread per core, or one alone at `jobs` 1. With one case in flight a
/// second worker has nothing to do but take turns with the first: each
/// exchange then wakes a parked thread or two (the connection's task, the
/// embedded simulator's), and a wake-up costs more CPU than a case's checks.
/// One worker ran a `--jobs 1` case in about 100 µs instead of 270, with
/// 0.1 context switches a case instead of 1.6 (`cargo bench --bench
/// throughput`, README "Performance").
pub fn runtime(jobs: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    if jobs <= 1 {
        b.worker_threads(1);
    }
    b.enable_all().build()
}

impl Runner {
    /// A runner for `target`, checking with `catalog` (its contracts and
    /// option values); `probes` says what to ask once per contract.
    pub fn new(
        target: Target,
        catalog: Arc<SchemaCatalog>,
        probes: ProbePlan,
    ) -> Result<Self, ClientError> {
        let client = build_client(&target)?;
        let pacer = target.rate_per_sec.map(|r| Arc::new(Pacer::new(r)));
        let roots = catalog
            .contracts()
            .iter()
            .map(|c| {
                let options = catalog.options().to_json(&c.name);
                let root = Root::new([("consts", &c.consts), ("options", &options)]);
                (c.name.clone(), root)
            })
            .collect();
        let mut consts = serde_json::Map::new();
        let mut options = serde_json::Map::new();
        for c in catalog.contracts().iter() {
            consts.insert(c.name.clone(), c.consts.clone());
            options.insert(c.name.clone(), catalog.options().to_json(&c.name));
        }
        let flow_root = Root::new([
            ("consts", &Value::Object(consts)),
            ("options", &Value::Object(options)),
        ]);
        Ok(Self {
            client,
            endpoint: Arc::new(request::Endpoint::new(&target)),
            target: Arc::new(target),
            catalog,
            roots: Arc::new(roots),
            flow_root: Arc::new(flow_root),
            probes: Arc::new(probe::Probes::new(probes)),
            pacer,
            deadline: None,
            retention: Retention::Full,
            window_bytes: REORDER_WINDOW_BYTES,
        })
    }

    /// The option values the run checks against.
    pub fn options(&self) -> &OptionValues {
        self.catalog.options()
    }

    /// Stop the whole run at `deadline`: cases not finished by then fail
    /// with a transport timeout instead of hanging the run.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Keep the request and reply of failing cases only (see [`Retention`]).
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// This runner with another bound on the bytes of kept exchanges that
    /// may wait in [`Runner::run_each`]'s window (default
    /// [`REORDER_WINDOW_BYTES`]).
    pub fn with_window_bytes(mut self, bytes: usize) -> Self {
        self.window_bytes = bytes;
        self
    }

    /// The target this runner talks to.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Run one case: send, then run every check and collect every failure.
    /// A case that does not apply to the run is reported skipped, unsent.
    pub async fn run_case(&self, case: &Case) -> CaseResult {
        if let Some(reason) = &case.skip {
            return CaseResult::skipped(
                case.id(),
                case.description.clone(),
                case.source.clone(),
                reason.clone(),
            );
        }
        match &case.flow {
            Some(flow) => self.run_flow(case, flow).await,
            None => self.run_single(case, self.retention).await,
        }
    }

    /// Run a one-request case (or one exchange of a flow's step).
    /// `retention` says what a passing result keeps (a flow's step keeps
    /// everything: the flow reads its reply).
    async fn run_single(&self, case: &Case, retention: Retention) -> CaseResult {
        let probes = match (&case.contract, &case.expect.inconclusive) {
            (Some(c), Some(_)) => self.probes.answers(c, self).await,
            _ => Value::Object(Default::default()),
        };
        let (mut prepared, reply, retries, took) = self.exchange(case).await;
        let sent_body = prepared.body_json.take();
        let mut failures = Vec::new();
        let mut warnings = Vec::new();
        let mut skipped = None;
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
                let sent = Sent {
                    request: &prepared,
                    body: sent_body,
                };
                skipped = self.check(case, sent, &r, &probes, &mut failures, &mut warnings);
                Some(r)
            }
        };
        let mut result = CaseResult {
            id: case.id(),
            description: case.description.clone(),
            source: case.source.clone(),
            request: SentRequest::default(),
            response: None,
            failures,
            warnings,
            duration: took,
            retries,
            skipped,
            exchanges: vec![],
            attempts: 1,
        };
        // Under `Retention::Failures` a result that would drop its exchange
        // (`keep_failures_only`) gets none: no redacted copy made to drop.
        if retention == Retention::Full || result.outcome().keeps_exchange() {
            result.request = prepared.redacted();
            result.response = response;
        }
        result
    }

    /// Send `case`'s request (after the rate limit's wait, so a long wait
    /// cannot make the signature stale) and read the reply. The time taken
    /// is the exchange's, from the send: never the wait.
    pub(crate) async fn exchange(
        &self,
        case: &Case,
    ) -> (
        PreparedRequest,
        Result<ReceivedResponse, (TransportError, String)>,
        u32,
        Duration,
    ) {
        let exchange = async {
            if let Some(p) = &self.pacer {
                p.wait().await;
            }
            let prepared = self.prepare(case);
            // Scrubbed in the client, before the display cut and before any
            // check or report sees the reply.
            let secrets = secrets(&prepared, &self.target);
            let sent = Instant::now();
            let (reply, retries) = client::send(
                &self.client,
                &self.target,
                &self.endpoint,
                &prepared,
                &secrets,
            )
            .await;
            (prepared, reply, retries, sent.elapsed())
        };
        match self.deadline {
            None => exchange.await,
            Some(d) => tokio::time::timeout_at(d.into(), exchange).await.unwrap_or_else(|_| {
                let msg = "the whole-run timeout was reached before this case finished (raise --run-timeout)";
                let prepared = self.prepare(case);
                (prepared, Err((TransportError::Timeout, msg.to_string())), 0, Duration::ZERO)
            }),
        }
    }

    /// `case`'s request, signed now.
    fn prepare(&self, case: &Case) -> PreparedRequest {
        let now = Timestamp::now();
        request::prepare_at(case, &self.target, &self.endpoint, self.options(), now)
    }

    /// Every check of `case` on reply `r`; `Some` when the reply leaves the
    /// case undecided.
    fn check(
        &self,
        case: &Case,
        sent: Sent<'_>,
        r: &ReceivedResponse,
        probes: &Value,
        failures: &mut Vec<Failure>,
        warnings: &mut Vec<Warning>,
    ) -> Option<Skip> {
        let e = &case.expect;
        let contract = case.contract.as_deref().zip(case.release.as_ref());
        failures.extend(check::status::check(e, r.status));
        if e.json {
            failures.extend(check::content_type::check(
                r.header("content-type"),
                &e.status_source,
            ));
        }
        // Ambiguity fails any case, whatever it expects.
        failures.extend(check::wire::headers(
            &sent.request.headers,
            r,
            &e.status_source,
        ));
        failures.extend(check::wire::duplicate_keys(r, &e.status_source));
        let set = contract.and_then(|(c, rel)| self.catalog.get(c, rel).ok());
        // Citations come from the schema the case names, else any reply's.
        let cite_schema = e.schema.as_ref().map(|(n, _)| n.clone());
        let cite = |pointer: &str| -> Option<String> {
            let set = set.as_ref()?;
            let name = cite_schema.clone().or_else(|| {
                let (c, _) = contract?;
                c.boundaries.as_ref()?.accepted_schema.clone()
            })?;
            set.title_at(&name, pointer)
        };
        if let (Some(loc), Some((c, rel))) = (&e.rejected, contract) {
            failures.extend(check::rejected::check(
                r.status,
                r.json.as_ref(),
                c.envelope(rel),
                loc,
            ));
        }
        if let Some(snap) = &e.snapshot {
            let volatile =
                |k: &str, v: &Value| case.contract.as_ref().is_some_and(|c| c.is_volatile(k, v));
            failures.extend(check::snapshot::check(
                snap,
                r.status,
                r.json.as_ref(),
                &volatile,
                &cite,
            ));
        }
        let needs_json = e.json || e.schema.is_some() || e.body.is_some();
        let Some(json) = &r.json else {
            if needs_json {
                failures.push(not_json(r, case));
            }
            return None;
        };
        if let Some((name, loc)) = &e.schema {
            match (contract, &set) {
                (Some((c, rel)), Some(set)) => {
                    failures.extend(check::schema::check(&self.catalog, c, rel, name, json, loc));
                    failures.extend(check::wire::integer_tokens(set, name, r, loc));
                }
                _ => failures.push(Failure {
                    kind: FailureKind::Schema,
                    pointer: None,
                    message: format!("schema `{name}` cannot be checked: the case has no contract"),
                    expected: None,
                    actual: None,
                    source: loc.clone(),
                    rule: None,
                }),
            }
        }
        if let Some(m) = &e.body {
            failures.extend(check::body::check(m, json, &cite));
        }
        let (Some((c, rel)), Some(root)) = (
            contract,
            case.contract.as_ref().and_then(|c| self.roots.get(&c.name)),
        ) else {
            return None;
        };
        let request = request::request_value_with(case, sent.body);
        let scope = invariant::ReplyScope::new(
            root,
            rel,
            c.envelope(rel),
            invariant::Reply {
                status: r.status,
                body: Some(json),
                request: &request,
                probes,
            },
        );
        // The case loader compiles a bound contract's invariants and refuses
        // a case whose contract's do not compile; a case built another way
        // is failed, never checked without them.
        let written = c.invariants.get().unwrap_or_else(|errors| {
            failures.push(Failure {
                kind: FailureKind::Invariant,
                pointer: None,
                message: format!(
                    "contract {}'s invariants do not compile ({} errors; `cms-contract check` shows them)",
                    c.name,
                    errors.len()
                ),
                expected: None,
                actual: None,
                source: c.source.clone(),
                rule: None,
            });
            &[]
        });
        let all = written.iter().chain(&e.invariants).map(|i| i.as_ref());
        let (f, w) = invariant::check(all, c, rel, &scope, Some(json));
        failures.extend(f);
        warnings.extend(w);
        let inconclusive = e.inconclusive.as_ref()?;
        // Only a case with nothing else wrong is left undecided; its one
        // failure is the undecidable outcome itself.
        let undecided = invariant::holds(&inconclusive.when, &scope);
        if undecided && failures.iter().all(|f| f.kind == FailureKind::Body) {
            failures.clear();
            return Some(Skip {
                kind: SkipKind::Inconclusive,
                reason: inconclusive.reason.clone(),
            });
        }
        None
    }

    /// Run `cases` with at most `jobs` in flight; `on_result` sees each result
    /// as it is handed on (for progress). Results come back in input order.
    pub async fn run_all(
        &self,
        cases: &[Case],
        jobs: usize,
        mut on_result: impl FnMut(&CaseResult),
    ) -> Vec<CaseResult> {
        let mut out = Vec::with_capacity(cases.len());
        self.run_each(cases.iter().cloned(), jobs, |_, r| {
            on_result(&r);
            out.push(r);
        })
        .await;
        out
    }

    /// Run `cases` (built as they are needed, e.g. from a lazy
    /// [`CaseSet`](crate::case::CaseSet)) with at most `jobs` in flight and
    /// hand each result to `on_result` with its index, in input order, keeping
    /// none: memory stays that of the cases in flight, of at most `16 × jobs`
    /// (at most 1024) more built and queued for the workers (requests not yet
    /// sent: a queued case waits for room in the window before it starts),
    /// and of at most [`REORDER_WINDOW`] results (and
    /// [`REORDER_WINDOW_BYTES`] of kept exchanges, give or take the results
    /// of the cases in flight) waiting for a slower case before them. A
    /// case whose task panics or dies is handed on as an error, never
    /// dropped.
    pub async fn run_each<I>(&self, cases: I, jobs: usize, on_result: impl FnMut(usize, CaseResult))
    where
        I: IntoIterator<Item = Case>,
    {
        self.run_pooled(cases, jobs.max(1), on_result).await;
    }
}

/// The request a reply answers, as the checks read it: as sent, and its
/// body as JSON (moved out of the request, to be the `request` variable's).
struct Sent<'a> {
    request: &'a PreparedRequest,
    body: Option<Value>,
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
        rule: case
            .contract
            .as_deref()
            .zip(case.release.as_ref())
            .map(|(c, r)| format!("{} (the reply is a JSON envelope)", c.envelope(r).cites)),
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
            rate.max(crate::settings::Rate::MIN)
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
