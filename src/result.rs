//! What running a case produces: the data that crosses from the runner to
//! the reporters. The runner decides, reporters read; nothing here prints.
//! Checks (`crate::check`) build [`Failure`]s and [`Warning`]s; the runner
//! (`crate::run`) builds [`CaseResult`]s; neither imports the other.

use crate::location::Location;
use serde_json::Value;
use std::time::Duration;

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// `<suite>::<case>`.
    pub id: String,
    /// The case's description, if any.
    pub description: Option<String>,
    /// Where the case was written.
    pub source: Location,
    /// What was sent (Authorization redacted).
    pub request: SentRequest,
    /// What came back, if anything did.
    pub response: Option<ReceivedResponse>,
    /// Every failed check, in check order.
    pub failures: Vec<Failure>,
    /// Allowed deviations worth knowing about (e.g. an extra field).
    pub warnings: Vec<Warning>,
    /// Wall time of the exchange and checks.
    pub duration: Duration,
    /// Connect retries that were needed.
    pub retries: u32,
    /// Set when the case was not decided: it does not apply to the run, or
    /// its reply cannot tell pass from fail.
    pub skipped: Option<Skip>,
    /// A flow's exchanges, in order (empty for a one-request case, whose
    /// exchange is `request` / `response`).
    pub exchanges: Vec<ExchangeRecord>,
    /// How many times a flow ran before its relations held (1 when they held
    /// at once; flows re-run on disagreement, see the case's `retry:`).
    pub attempts: u32,
}

/// Why a case was not decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// Not applicable, or inconclusive.
    pub kind: SkipKind,
    /// The reason, shown in every report.
    pub reason: String,
}

/// The two ways a case is left undecided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipKind {
    /// The case does not apply to what the run expects (another release);
    /// nothing was sent.
    NotApplicable,
    /// The reply cannot tell pass from fail on this deployment (an open
    /// question answered in a way that makes the case undecidable).
    Inconclusive,
}

/// One request of a flow and its reply.
#[derive(Debug, Clone)]
pub struct ExchangeRecord {
    /// The step, e.g. `batch` or `page[3]`.
    pub label: String,
    /// What was sent.
    pub request: SentRequest,
    /// What came back.
    pub response: Option<ReceivedResponse>,
}

/// Pass, fail, could not get an answer, or not decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every check held.
    Pass,
    /// At least one check failed.
    Fail,
    /// No usable reply (connect, TLS, timeout, size): a transport error.
    Error,
    /// Not applicable to this run; nothing was sent.
    Skipped,
    /// Sent, but the reply cannot decide the case on this deployment.
    Inconclusive,
}

impl Outcome {
    /// Lower-case word for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
            Outcome::Inconclusive => "inconclusive",
        }
    }

    /// Whether the case failed or erred (what makes a run red).
    pub fn is_red(self) -> bool {
        matches!(self, Outcome::Fail | Outcome::Error)
    }

    /// Whether a result with this outcome keeps its request and reply when
    /// only failures are kept: a red or inconclusive case does (they are
    /// what its reader needs), a passing or skipped one does not.
    pub fn keeps_exchange(self) -> bool {
        !matches!(self, Outcome::Pass | Outcome::Skipped)
    }
}

impl CaseResult {
    /// A result for a case that was not sent, with the reason.
    pub fn skipped(
        id: String,
        description: Option<String>,
        source: Location,
        reason: String,
    ) -> Self {
        CaseResult {
            id,
            description,
            source,
            request: SentRequest::default(),
            response: None,
            failures: vec![],
            warnings: vec![],
            duration: Duration::ZERO,
            retries: 0,
            skipped: Some(Skip {
                kind: SkipKind::NotApplicable,
                reason,
            }),
            exchanges: vec![],
            attempts: 0,
        }
    }

    /// Drop the request and reply (a flow's exchanges too) unless the
    /// outcome [keeps them](Outcome::keeps_exchange): what a passing or
    /// skipped case keeps is what a summary shows (id, source, description,
    /// timing, counts, warnings, skip reason).
    pub fn keep_failures_only(&mut self) {
        if !self.outcome().keeps_exchange() {
            self.request = SentRequest::default();
            self.response = None;
            self.exchanges = Vec::new();
        }
    }

    /// About how many bytes of memory the exchanges this result keeps take
    /// (texts, and the reply's JSON as parsed): what bounds how many results
    /// may wait to be handed on in order.
    pub fn kept_bytes(&self) -> usize {
        let request = |r: &SentRequest| r.url.len() + r.body.len();
        let response =
            |r: &ReceivedResponse| r.body_text.len() + r.json.as_ref().map_or(0, json_bytes);
        request(&self.request)
            + self.response.as_ref().map_or(0, response)
            + self
                .exchanges
                .iter()
                .map(|x| request(&x.request) + x.response.as_ref().map_or(0, response))
                .sum::<usize>()
    }

    /// Pass / Fail / Error / Skipped / Inconclusive. A failure outranks an
    /// inconclusive verdict: only a case with nothing else wrong is left
    /// undecided.
    pub fn outcome(&self) -> Outcome {
        if self
            .failures
            .iter()
            .any(|f| matches!(f.kind, FailureKind::Transport(_)))
        {
            Outcome::Error
        } else if !self.failures.is_empty() {
            Outcome::Fail
        } else {
            match &self.skipped {
                None => Outcome::Pass,
                Some(s) if s.kind == SkipKind::NotApplicable => Outcome::Skipped,
                Some(_) => Outcome::Inconclusive,
            }
        }
    }
}

/// The request as sent, safe to print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SentRequest {
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers as sent, Authorization redacted.
    pub headers: Vec<(String, String)>,
    /// Body as text (lossy UTF-8).
    pub body: String,
}

/// The reply, as far as it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// Body as text (lossy UTF-8; secrets scrubbed, then cut at 64 KiB for display).
    pub body_text: String,
    /// Body as JSON, when it parsed.
    pub json: Option<Value>,
    /// Why the body is not JSON (empty, not UTF-8, truncated, …), when it is not.
    pub not_json: Option<String>,
    /// JSON pointers of members whose key was already used in the same
    /// object, one per repeat; `json` holds the last value written.
    pub duplicate_keys: Vec<String>,
    /// Number tokens that are not plain 64-bit integers (written with a
    /// fraction or an exponent, or too wide), as written.
    pub float_tokens: Vec<NumberToken>,
}

/// A number as it was written in the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberToken {
    /// JSON pointer of the value.
    pub pointer: String,
    /// The token's text, e.g. `101.0` or `4.294967295E12`.
    pub raw: String,
}

impl NumberToken {
    /// Whether the token has a fraction or an exponent (else it is an
    /// integer token too wide for 64 bits).
    pub fn has_fraction_or_exponent(&self) -> bool {
        self.raw.contains(['.', 'e', 'E'])
    }
}

impl ReceivedResponse {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One failed check.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// What kind of check failed.
    pub kind: FailureKind,
    /// JSON pointer into the reply body, when the failure is about a value.
    pub pointer: Option<String>,
    /// What is wrong, as a lowercase fragment.
    pub message: String,
    /// What was expected, for display.
    pub expected: Option<Value>,
    /// What was found, for display.
    pub actual: Option<Value>,
    /// Where the expectation was written (case line).
    pub source: Location,
    /// The spec table/row the check comes from.
    pub rule: Option<String>,
}

/// Failure kinds: a transport error is not an assertion mismatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// No usable reply.
    Transport(TransportError),
    /// HTTP status not among those expected.
    Status,
    /// A 5xx answer to any request: never allowed.
    ServerError,
    /// Content-Type is not JSON.
    ContentType,
    /// The body is not JSON (or not UTF-8).
    NotJson,
    /// JSON Schema violation.
    Schema,
    /// A body matcher did not hold.
    Body,
    /// The request was not refused as it had to be.
    Rule,
    /// A contract invariant, a case invariant or a flow relation is false.
    Invariant,
    /// The reply differs from its recorded snapshot.
    Snapshot,
    /// The reply is ambiguous or mis-written on the wire: a repeated JSON
    /// key or Content-Type, an encoding that was not asked for, a number
    /// token that an integer field cannot hold.
    Wire,
}

impl FailureKind {
    /// Short label for reports.
    pub fn label(&self) -> &'static str {
        match self {
            FailureKind::Transport(_) => "transport",
            FailureKind::Status => "status",
            FailureKind::ServerError => "server error",
            FailureKind::ContentType => "content type",
            FailureKind::NotJson => "not json",
            FailureKind::Schema => "schema",
            FailureKind::Body => "body",
            FailureKind::Rule => "rule",
            FailureKind::Invariant => "invariant",
            FailureKind::Snapshot => "snapshot",
            FailureKind::Wire => "wire",
        }
    }
}

/// Why no usable reply came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportError {
    /// Could not connect (refused, unreachable, DNS).
    Connect,
    /// TLS handshake or certificate problem.
    Tls,
    /// No complete reply within the per-request timeout.
    Timeout,
    /// The reply body was larger than the cap.
    TooLarge,
    /// The connection broke mid-reply, or the reply was not HTTP.
    Protocol,
    /// The request could not be built (bad URL, bad header).
    Request,
}

/// An allowed deviation worth reporting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// JSON pointer, if about a value.
    pub pointer: Option<String>,
    /// What was noticed.
    pub message: String,
    /// Where the check was asked for.
    pub source: Location,
}

/// Facts about the whole run that every report file states, beside the
/// per-case results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// What was tested: a base URL, or `embedded simulator`.
    pub target: String,
    /// Whether TLS certificates were verified: `false` under `--insecure`
    /// or profile `tls.insecure`, when a report must say that the replies
    /// may not come from the CMS they claim to.
    pub tls_verify: bool,
    /// The release expected (`None`: each contract's default).
    pub release: Option<String>,
    /// The option values, `contract.option` = value.
    pub options: Vec<(String, String)>,
    /// When the run started (`None`: not recorded), for the reports' header.
    pub started: Option<std::time::SystemTime>,
}

impl RunInfo {
    /// `on` or `off`.
    pub fn tls_word(&self) -> &'static str {
        if self.tls_verify {
            "on"
        } else {
            "off"
        }
    }

    /// The sentence reports show.
    pub fn tls_line(&self) -> &'static str {
        if self.tls_verify {
            "TLS verification: on"
        } else {
            "TLS verification: off (--insecure or profile tls.insecure): certificates were NOT verified"
        }
    }
}

/// About how many bytes `v` takes in memory: its texts, and a word or so
/// per value and member.
fn json_bytes(v: &Value) -> usize {
    const NODE: usize = 32;
    match v {
        Value::String(s) => NODE + s.len(),
        Value::Array(a) => NODE + a.iter().map(json_bytes).sum::<usize>(),
        Value::Object(m) => {
            NODE + m
                .iter()
                .map(|(k, v)| NODE + k.len() + json_bytes(v))
                .sum::<usize>()
        }
        _ => NODE,
    }
}
