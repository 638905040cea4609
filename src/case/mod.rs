//! Case files: YAML → [`Case`] values with locations.
//!
//! This layer owns every serde type and all YAML handling. What it hands on
//! ([`Case`], [`Request`], [`Expect`], [`Matcher`]) is plain domain data; the
//! runner never sees YAML.

mod error;
mod files;
mod generate;
mod load;
mod matcher;
mod node;
mod path;
mod raw;
pub mod snapshot;
mod vars;

pub use error::{did_you_mean, LoadError, LoadErrors};
pub use files::{
    LoadWarning, MAX_CASE_FILES, MAX_CASE_FILE_BYTES, MAX_FOLDERS, MAX_FOLDER_DEPTH,
    MAX_FOLDER_ENTRIES,
};
pub(crate) use load::parse_yaml;
pub use load::{
    load_paths, load_paths_with_warnings, load_str, LoadOptions, DEFAULTS_FILE, DEFAULT_MAX_CASES,
};
pub use matcher::{JsonType, Matcher, MatcherKind};
pub use node::{Node, NodeValue};
pub use path::{check_request_path, PathProblem};
pub use vars::Vars;

use crate::contract::Release;
use crate::location::Location;
use serde_json::Value;

/// The JSON Schema of the case-file format (draft-07, for YAML language
/// servers); `definitions/defaults` describes `_defaults.yaml`.
pub fn case_file_schema() -> &'static str {
    include_str!("../../schemas/case-file.schema.json")
}

/// The value `word` names in a case-file spelling table such as [`Rule::ALL`].
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
    /// What to send.
    pub request: Request,
    /// What must come back.
    pub expect: Expect,
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
    /// The Table 2 fields; wrapped in `queryParam` or sent flat as the target's
    /// body shape says (open question 1). Values may be of any JSON type, for
    /// negative cases; a field left out is simply absent.
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
    /// Cross-field rules to apply.
    pub rules: Vec<(Rule, Location)>,
    /// The release whose contract the reply must keep.
    pub release: Release,
    /// A recorded reply the reply must equal after normalisation
    /// (`__snapshots__/<case>.json` beside the case file; see `--bless`).
    pub snapshot: Option<snapshot::Snapshot>,
    /// The request must be refused: a 4xx, or HTTP 200 with a non-success
    /// `resultCode` and no agent object (for methods, content types and other
    /// inputs where the spec does not fix the exact answer).
    pub rejected: Option<Location>,
}

/// Cross-field rules the spec needs and JSON Schema cannot say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Table 3 rows 3–4: `resultDatas` mirrors `resultDesc` on success; no
    /// agent object in either on error.
    LegacyMirror,
    /// Table 4 row 2.1: `workNo` equals the requested `agentId`.
    EchoWorkNo,
    /// Table 4 row 2.2: `vdnId` equals the requested `vdn`.
    EchoVdn,
    /// Table 3 rows 1–2: `result` and `resultCode` agree on success/failure.
    ResultAgrees,
    /// Table 4: keys beyond rows 2.1–2.9 in the agent object are reported as
    /// warnings (allowed latitude, not a failure).
    UnknownFields,
}

impl Rule {
    /// Every rule with its case-file spelling.
    pub const ALL: [(&'static str, Rule); 5] = [
        ("legacy_mirror", Rule::LegacyMirror),
        ("echo_work_no", Rule::EchoWorkNo),
        ("echo_vdn", Rule::EchoVdn),
        ("result_agrees", Rule::ResultAgrees),
        ("unknown_fields", Rule::UnknownFields),
    ];

    /// The case-file spelling.
    pub fn name(self) -> &'static str {
        word_name(&Self::ALL, self)
    }

    /// The spec table and rows the rule comes from.
    pub fn source(self) -> &'static str {
        match self {
            Rule::LegacyMirror => "Table 3 rows 3-4 (resultDatas mirrors resultDesc)",
            Rule::EchoWorkNo => "Table 4 row 2.1 workNo = requested agentId (Table 2 row 3)",
            Rule::EchoVdn => "Table 4 row 2.2 vdnId = requested vdn (Table 2 row 2)",
            Rule::ResultAgrees => "Table 3 rows 1-2 (result \"0\" iff resultCode \"0100000\")",
            Rule::UnknownFields => "Table 4 (keys 2.1-2.9 only)",
        }
    }
}
