//! The serde shape of case files and `_defaults.yaml`. Unknown keys are errors.

use super::node::Node;
pub(crate) use crate::contract::raw::RawInvariant;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// A case file: `cases:` and nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub cases: Vec<RawCase>,
}

/// `_defaults.yaml`: the contract and the request and expect parts shared
/// by the cases of a folder.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDefaults {
    /// The contract the folder's cases check (a folder under the schemas).
    pub contract: Option<Spanned<String>>,
    /// The release the folder's cases expect whatever the run expects (the
    /// 8.13 twin endpoint is always 8.13).
    pub release: Option<Spanned<String>>,
    /// The releases the folder's cases apply to; under another, they are
    /// skipped with the reason.
    pub releases: Option<Vec<Spanned<String>>>,
    /// What each variable the folder's cases use is for (shown when one is
    /// missing).
    #[serde(default)]
    pub vars: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub request: RawRequest,
    #[serde(default)]
    pub expect: RawExpect,
}

/// One entry of `cases:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCase {
    pub name: Spanned<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    #[serde(default)]
    pub request: RawRequest,
    #[serde(default)]
    pub expect: RawExpect,
    /// `boundaries`: derive Table 2 boundary cases from the request schema.
    pub generate: Option<Spanned<String>>,
    /// Run the case once per value of a variable.
    pub each: Option<RawEach>,
    /// The release this case expects; overrides the folder and the profile.
    pub release: Option<Spanned<String>>,
    /// The releases this case applies to; overrides the folder's list.
    pub releases: Option<Vec<Spanned<String>>>,
    /// Several exchanges and relations between their replies, instead of
    /// one `request`.
    pub flow: Option<RawFlow>,
}

/// `flow:` — steps sent in order, then relations checked across replies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFlow {
    pub steps: Vec<RawStep>,
    #[serde(default)]
    pub relations: Vec<RawInvariant>,
    /// How many times the whole flow may be sent while a relation is
    /// false (agents change state between two replies); default 1.
    pub attempts: Option<Spanned<u32>>,
    /// Pause between attempts, in milliseconds; default 0.
    pub delay_ms: Option<Spanned<u64>>,
}

/// One step of a flow: a request to one contract, sent once or once per
/// element of a list (`for_each`), its reply bound by `id`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub id: Spanned<String>,
    /// The contract of this step; default: the suite's.
    pub contract: Option<Spanned<String>>,
    /// The release this step's reply must keep; default: the run's.
    pub release: Option<Spanned<String>>,
    /// CEL over earlier steps giving a list: one exchange per element.
    pub for_each: Option<Spanned<String>>,
    /// The name each element is bound to (default `item`).
    #[serde(rename = "as")]
    pub binding: Option<Spanned<String>>,
    #[serde(default)]
    pub request: RawRequest,
    #[serde(default)]
    pub expect: RawExpect,
    /// Names bound to CEL values of this step's reply, for later steps.
    #[serde(default)]
    pub capture: std::collections::BTreeMap<String, Spanned<String>>,
}

/// `request:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequest {
    pub method: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    /// Mapping of header name to value; `~` removes a default header.
    pub headers: Option<Node>,
    pub auth: Option<Spanned<String>>,
    /// Table 2 fields, shaped per the target profile.
    pub query: Option<Node>,
    /// Literal JSON body.
    pub body: Option<Node>,
    /// Literal text body.
    pub raw_body: Option<Spanned<String>>,
}

/// `expect:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    /// An integer or a list of integers.
    pub status: Option<Node>,
    /// Require a JSON Content-Type.
    pub json: Option<Spanned<bool>>,
    pub schema: Option<Spanned<String>>,
    pub body: Option<Node>,
    /// `subset` (default) or `exact`.
    #[serde(rename = "match")]
    pub match_mode: Option<Spanned<String>>,
    /// Old key: the rules are the contract's invariants now.
    pub rules: Option<Node>,
    /// Invariants of this case, beside the contract's.
    pub invariants: Option<Vec<RawInvariant>>,
    /// `true`: the request must be refused (4xx or a non-success answer).
    pub rejected: Option<Spanned<bool>>,
}

/// `each: {var: agent, values: [...] | "101..=110, 201"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEach {
    pub var: Spanned<String>,
    pub values: Node,
}

/// Keys of each mapping, for "did you mean" and help lines.
pub(crate) const FILE_KEYS: &[&str] = &["cases"];
pub(crate) const DEFAULTS_KEYS: &[&str] = &[
    "contract", "release", "releases", "vars", "request", "expect",
];
