//! Case files: YAML → [`Case`] values with locations.
//!
//! This layer owns every serde type and all YAML handling. What it hands on
//! ([`Case`], [`Request`], [`Expect`], [`Matcher`]) is plain domain data; the
//! runner never sees YAML.

mod compile;
mod context;
mod error;
mod expand;
mod files;
mod flow;
mod generate;
mod load;
mod matcher;
mod node;
mod path;
mod raw;
mod set;
pub mod snapshot;
mod vars;
mod yaml;

pub use error::{did_you_mean, LoadError, LoadErrors};
pub use files::{
    LoadWarning, MAX_CASE_FILES, MAX_CASE_FILE_BYTES, MAX_FOLDERS, MAX_FOLDER_DEPTH,
    MAX_FOLDER_ENTRIES,
};
pub use load::{
    load_paths, load_paths_with_warnings, load_str, LoadOptions, DEFAULTS_FILE, DEFAULT_MAX_CASES,
};
pub use matcher::{JsonType, Matcher, MatcherKind};
pub use node::{Node, NodeValue};
pub use path::{check_request_path, PathProblem};
pub use set::CaseSet;
pub use vars::{Expanded, Vars};
pub(crate) use yaml::parse_yaml;

use crate::contract::{Contract, Invariant, Release};
use crate::expr::Expr;
use crate::location::Location;
use serde_json::Value;
use std::sync::Arc;

/// The JSON Schema of the case-file format (draft-07, for YAML language
/// servers); `definitions/defaults` describes `_defaults.yaml`.
pub fn case_file_schema() -> &'static str {
    include_str!("../../schemas/case-file.schema.json")
}

/// The value `word` names in a case-file spelling table such as [`AuthMode::ALL`].
pub(crate) fn word_value<T: Copy>(table: &[(&'static str, T)], word: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == word).map(|(_, v)| *v)
}

/// The case-file spelling of `value` in `table`.
pub(crate) fn word_name<T: Copy + PartialEq>(
    table: &[(&'static str, T)],
    value: T,
) -> &'static str {
    table
        .iter()
        .find(|(_, v)| *v == value)
        .map_or("?", |(n, _)| n)
}

/// One contract check: a request and what must come back.
#[derive(Debug, Clone)]
pub struct Case {
    /// The suite: the name of the folder that holds the case file.
    pub suite: String,
    /// The case name, unique in its suite (generated cases add `::` parts).
    pub name: String,
    /// What the case checks, in words (shown on failure).
    pub description: Option<String>,
    /// Tags for `--tag` filtering.
    pub tags: Vec<String>,
    /// Where the case starts (`- name:` line).
    pub source: Location,
    /// The contract the case checks (its suite's); `None` for a plain HTTP case.
    pub contract: Option<Arc<Contract>>,
    /// The release of the contract the reply must keep.
    pub release: Option<Arc<Release>>,
    /// Why the case does not apply to this run (it is reported skipped, and
    /// nothing is sent), e.g. a release it is not written for.
    pub skip: Option<String>,
    /// What to send.
    pub request: Request,
    /// What must come back.
    pub expect: Expect,
    /// A flow case: several exchanges and relations between their replies.
    /// Its `request` and `expect` are then its first step's (what `list`
    /// and a dry run show).
    pub flow: Option<Arc<Flow>>,
}

impl Case {
    /// The trial name: `<suite>::<case>`.
    pub fn id(&self) -> String {
        format!("{}::{}", self.suite, self.name)
    }
}

/// The request half of a case, after defaults and variables are applied.
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method.
    pub method: String,
    /// Path (and optional `?query`) below the target's base URL.
    pub path: String,
    /// Headers to send, in order. Authorization is never written here; see [`AuthMode`].
    pub headers: Vec<(String, String)>,
    /// What to send as the body.
    pub body: Body,
    /// How to authenticate.
    pub auth: AuthMode,
}

/// The request body, as the case wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// No body.
    Empty,
    /// The contract's request fields, shaped (flat, or wrapped) as the
    /// contract's request shape and the run's options say. Values may be of
    /// any JSON type, for negative cases; a field left out is simply absent.
    Query(serde_json::Map<String, Value>),
    /// A literal JSON body, sent as written.
    Json(Value),
    /// Literal bytes (for "not JSON" cases).
    Raw(String),
}

/// How a case authenticates (Table 1 row 2, spec "Authentication").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// A correct auth-v2 signature with the target's AK/SK (the default).
    Signed,
    /// No Authorization header.
    None,
    /// An empty Authorization header.
    Blank,
    /// A header that is not auth-v2 at all.
    Garbled,
    /// Right form and AK, wrong signature.
    WrongSignature,
    /// Signed, then the body is changed before sending.
    TamperedBody,
    /// Signed with a timestamp two hours old.
    StaleTimestamp,
}

impl AuthMode {
    /// Every mode with its case-file spelling.
    pub const ALL: [(&'static str, AuthMode); 7] = [
        ("signed", AuthMode::Signed),
        ("none", AuthMode::None),
        ("blank", AuthMode::Blank),
        ("garbled", AuthMode::Garbled),
        ("wrong_signature", AuthMode::WrongSignature),
        ("tampered_body", AuthMode::TamperedBody),
        ("stale_timestamp", AuthMode::StaleTimestamp),
    ];
}

/// What must come back.
#[derive(Debug, Clone)]
pub struct Expect {
    /// Accepted HTTP status codes and where they were written.
    pub status: Vec<u16>,
    /// Where `status` was written.
    pub status_source: Location,
    /// Require a JSON Content-Type (`application/json`, any charset spelling).
    pub json: bool,
    /// Schema file to validate the body against, e.g. `success.json`.
    pub schema: Option<(String, Location)>,
    /// Body matcher.
    pub body: Option<Matcher>,
    /// Invariants the case adds to its contract's.
    pub invariants: Vec<Arc<Invariant>>,
    /// A recorded reply the reply must equal after normalisation
    /// (`__snapshots__/<case>.json` beside the case file; see `--bless`).
    pub snapshot: Option<snapshot::Snapshot>,
    /// The request must be refused: a 4xx, or HTTP 200 whose envelope says
    /// failure and carries no payload object (for methods, content types and
    /// other inputs where the spec does not fix the exact answer).
    pub rejected: Option<Location>,
    /// When the reply cannot decide the case (a generated boundary value on a
    /// deployment whose answers make it undecidable).
    pub inconclusive: Option<Arc<Inconclusive>>,
}

impl Expect {
    /// Expect nothing but a reply (for requests the harness sends for its
    /// own use, such as probes).
    pub fn nothing(source: Location) -> Self {
        Expect {
            status: vec![],
            status_source: source,
            json: false,
            schema: None,
            body: None,
            invariants: vec![],
            snapshot: None,
            rejected: None,
            inconclusive: None,
        }
    }
}

/// A condition under which a reply leaves its case undecided.
#[derive(Debug)]
pub struct Inconclusive {
    /// CEL over the reply's scope (`probes` included).
    pub when: Arc<Expr>,
    /// The reason reported.
    pub reason: String,
    /// Where the condition is written.
    pub source: Location,
}

/// Several exchanges, possibly to several contracts, and relations between
/// their replies (an agent's state agrees between two endpoints; pages of a
/// listing are disjoint).
#[derive(Debug)]
pub struct Flow {
    /// Sent in order; a step reads the replies of the steps before it.
    pub steps: Vec<Step>,
    /// Checked once every step has its reply.
    pub relations: Vec<Relation>,
    /// How many times the whole flow may be sent while a relation is false:
    /// agents change state between two replies, a real disagreement stays.
    pub attempts: u32,
    /// Pause between attempts.
    pub delay: std::time::Duration,
    /// The case's variables (profile, `--var`, `each`), as the `vars` map
    /// of its expressions: `numbers(vars.known_agents)`.
    pub vars: Value,
}

/// One step of a [`Flow`].
#[derive(Debug)]
pub struct Step {
    /// The name its reply is bound to in later expressions.
    pub id: String,
    /// The request (its contract, release, headers, static fields) and the
    /// checks of each reply, as for a single case.
    pub case: Case,
    /// One exchange per element of this list, bound to a name.
    pub for_each: Option<ForEach>,
    /// Request fields computed from earlier replies when the step is sent.
    pub fields: Vec<Computed>,
    /// Names bound to values of this step's reply(ies), for later steps.
    pub captures: Vec<Computed>,
}

/// `for_each:` — a CEL list and the name each element is bound to.
#[derive(Debug)]
pub struct ForEach {
    /// Gives the list.
    pub list: Arc<Expr>,
    /// The name of each element.
    pub binding: String,
    /// Where it is written.
    pub source: Location,
}

/// A named CEL value: a request field or a capture.
#[derive(Debug)]
pub struct Computed {
    /// The field or variable name.
    pub name: String,
    /// Its value.
    pub expr: Arc<Expr>,
    /// Where it is written.
    pub source: Location,
}

/// A relation of a flow: an invariant over the steps' replies, checked once
/// or once per element of a list.
#[derive(Debug)]
pub struct Relation {
    /// Name, citation, condition, expression, message (its `for_each` is
    /// unused: see [`Relation::for_each`]).
    pub invariant: Arc<Invariant>,
    /// Check it once per element of this list.
    pub for_each: Option<ForEach>,
}
