//! Contracts as data: one folder per endpoint, `schemas/<contract>/`, holding
//! a manifest (`contract.yaml`) and the JSON Schemas it names.
//!
//! The engine knows no endpoint. Everything endpoint-specific — paths,
//! releases, where a reply says success and where its payload is, the
//! request fields and their shape, the open-question options, volatile
//! fields, invariants — is read from the manifest into a [`Contract`]. Every
//! citation a report shows comes from a schema `title` or a `cites:` here.
//!
//! - [`manifest`]: the YAML form and its validation (located errors);
//! - [`options`]: choosing option values (profile, flags) against a contract.

mod invariants;
pub(crate) use invariants::invariant;
pub use invariants::Invariants;
pub mod manifest;
pub mod options;
pub(crate) mod raw;

use crate::expr::Expr;
use crate::location::Location;
use regex::Regex;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use manifest::{load_all, load_contract, MANIFEST_FILE};
pub use options::OptionValues;

/// One endpoint's contract.
#[derive(Debug)]
pub struct Contract {
    /// The name, also its folder's and the suites' `contract:` value.
    pub name: String,
    /// What the endpoint does, in words.
    pub title: String,
    /// The spec file it restates (under `shared/spec/`), cited in reports.
    pub spec: String,
    /// The one method the endpoint answers.
    pub method: String,
    /// The request Content-Type the endpoint documents.
    pub content_type: String,
    /// Documented releases; the first is the default.
    pub releases: Vec<Release>,
    /// Reply forms by name.
    pub envelopes: BTreeMap<String, Envelope>,
    /// How the request fields travel.
    pub request: RequestShape,
    /// The open questions, as switchable options.
    pub options: Vec<OptionDef>,
    /// Requests sent once per run whose answers cases may need.
    pub probes: Vec<Probe>,
    /// When a generated boundary case cannot tell.
    pub boundaries: Option<BoundaryRules>,
    /// Values that change by themselves (normalised by compare and bless).
    pub volatile: Vec<Volatile>,
    /// What `compare` treats as enums and as nullable.
    pub compare: CompareRules,
    /// Constants bound as `consts` in every expression.
    pub consts: Value,
    /// Checked on every reply of the contract; compiled on first use.
    pub invariants: Invariants,
    /// The contract's folder (schemas, overlays, patches).
    pub dir: PathBuf,
    /// The manifest file.
    pub source: Location,
}

impl Contract {
    /// The release named `name` (or one of its aliases).
    pub fn release(&self, name: &str) -> Option<&Release> {
        self.releases
            .iter()
            .find(|r| r.name == name || r.aliases.iter().any(|a| a == name))
    }

    /// The default release (the first listed).
    pub fn default_release(&self) -> &Release {
        // The manifest loader refuses a contract without releases.
        &self.releases[0]
    }

    /// Release names, in manifest order.
    pub fn release_names(&self) -> Vec<&str> {
        self.releases.iter().map(|r| r.name.as_str()).collect()
    }

    /// The envelope of `release`.
    pub fn envelope(&self, release: &Release) -> &Envelope {
        // The manifest loader checks every release names a known envelope.
        &self.envelopes[&release.envelope]
    }

    /// The option named `name`.
    pub fn option(&self, name: &str) -> Option<&OptionDef> {
        self.options.iter().find(|o| o.name == name)
    }

    /// The request shape chosen by `options` (or the only/first shape).
    pub fn shape(&self, options: &OptionValues) -> &Shape {
        let chosen = self
            .request
            .shape_option
            .as_deref()
            .and_then(|o| options.get(&self.name, o));
        chosen
            .and_then(|name| self.request.shapes.iter().find(|s| s.name == name))
            .unwrap_or(&self.request.shapes[0])
    }

    /// The body to send for the request `fields` under `options`.
    pub fn body_for(&self, fields: &Map<String, Value>, options: &OptionValues) -> Value {
        match &self.shape(options).wrap {
            Some(key) => {
                let mut m = Map::new();
                m.insert(key.clone(), Value::Object(fields.clone()));
                Value::Object(m)
            }
            None => Value::Object(fields.clone()),
        }
    }

    /// The request fields inside a sent body: unwrapped when a shape wraps
    /// them and the body carries that wrapper.
    pub fn fields_of<'a>(&self, body: &'a Value) -> Option<&'a Map<String, Value>> {
        let obj = body.as_object()?;
        for shape in &self.request.shapes {
            if let Some(Value::Object(inner)) = shape.wrap.as_ref().and_then(|w| obj.get(w)) {
                return Some(inner);
            }
        }
        Some(obj)
    }

    /// Whether a reply key is volatile, and so replaced by a placeholder.
    pub fn is_volatile(&self, key: &str, value: &Value) -> bool {
        self.volatile.iter().any(|v| {
            v.key.eq_ignore_ascii_case(key) && value.is_number() && !v.except.contains(value)
        })
    }
}

/// A documented release.
#[derive(Debug, Clone)]
pub struct Release {
    /// The name used in profiles, cases and `--release`.
    pub name: String,
    /// Other names that select it.
    pub aliases: Vec<String>,
    /// Which page or revision it is.
    pub cites: String,
    /// The endpoint path it is served on.
    pub path: String,
    /// The envelope name of its replies.
    pub envelope: String,
    /// A folder, relative to the contract's, whose schema files replace the
    /// base files of the same name.
    pub overlay: Option<String>,
}

/// Where a reply says success or failure and where its payload is.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The envelope's name.
    pub name: String,
    /// The table rows it comes from.
    pub cites: String,
    /// JSON pointer of the outcome value.
    pub outcome: String,
    /// The outcome value that means success.
    pub success: String,
    /// The outcome value that means "invalid parameter".
    pub invalid_parameter: String,
    /// JSON pointer of the payload on success.
    pub payload: String,
    /// JSON pointer of a legacy copy of the payload, if the form has one.
    pub payload_copy: Option<String>,
    /// [`Envelope::to_json`], made on first use (every reply reads it).
    pub(crate) json: std::sync::OnceLock<Value>,
}

impl Envelope {
    /// The outcome value of a reply body, when it is a string there.
    pub fn outcome_of<'a>(&self, body: &'a Value) -> Option<&'a str> {
        crate::value::pointer(body, &self.outcome).and_then(Value::as_str)
    }

    /// Whether the body says success.
    pub fn is_success(&self, body: &Value) -> bool {
        self.outcome_of(body) == Some(self.success.as_str())
    }

    /// The envelope as the `envelope` variable of expressions.
    pub fn to_json(&self) -> &Value {
        self.json.get_or_init(|| {
            serde_json::json!({
                "name": self.name,
                "outcome": self.outcome,
                "success": self.success,
                "invalid_parameter": self.invalid_parameter,
                "payload": self.payload,
                "payload_copy": self.payload_copy,
            })
        })
    }
}

/// How the request fields travel.
#[derive(Debug, Clone)]
pub struct RequestShape {
    /// Schema file and JSON pointer of the object schema of the fields.
    pub fields: SchemaRef,
    /// The option that chooses the shape, if any.
    pub shape_option: Option<String>,
    /// The shapes, in manifest order.
    pub shapes: Vec<Shape>,
}

/// A schema file and a pointer into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRef {
    /// The schema file name, e.g. `request.json`.
    pub file: String,
    /// JSON pointer inside it (`""` for the root).
    pub pointer: String,
}

/// One body shape.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Its name (an option value when an option chooses it).
    pub name: String,
    /// The key the fields are wrapped in, if any.
    pub wrap: Option<String>,
    /// The schema of the whole body in this shape.
    pub schema: String,
}

/// One open question as an option.
#[derive(Debug, Clone)]
pub struct OptionDef {
    /// The option's name.
    pub name: String,
    /// The open question it answers.
    pub cites: String,
    /// What it chooses.
    pub description: String,
    /// Which values it takes.
    pub choice: Choice,
    /// The value when none is given.
    pub default: String,
    /// JSON Patches (RFC 6902) applied to schema files for a value:
    /// value → [(schema file, patch file)].
    pub patches: BTreeMap<String, Vec<(String, String)>>,
}

/// The values an option takes.
#[derive(Debug, Clone)]
pub enum Choice {
    /// One of these words.
    Values(Vec<String>),
    /// Any text matching this pattern.
    Pattern(Regex),
}

impl OptionDef {
    /// Why `value` is not a value of this option, if it is not.
    pub fn check(&self, value: &str) -> Result<(), String> {
        match &self.choice {
            Choice::Values(vs) if vs.iter().any(|v| v == value) => Ok(()),
            Choice::Values(vs) => Err(format!("one of: {}", vs.join(", "))),
            Choice::Pattern(re) if re.is_match(value) => Ok(()),
            Choice::Pattern(re) => Err(format!("a value matching {}", re.as_str())),
        }
    }
}

/// A request sent once per run, remembered by name as `probes.<name>`.
#[derive(Debug)]
pub struct Probe {
    /// Its name.
    pub name: String,
    /// Why it exists.
    pub cites: String,
    /// An option that, when set to other than `any`, gives the value without asking.
    pub option: Option<String>,
    /// The request fields, with `${vars}` still to expand.
    pub query: Value,
    /// What to remember from the reply (CEL over the reply's scope).
    pub value: Expr,
    /// Where it is written.
    pub source: Location,
}

/// How generated boundary cases check their replies.
#[derive(Debug)]
pub struct BoundaryRules {
    /// The schema a reply to an accepted value must keep (any reply).
    pub accepted_schema: Option<String>,
    /// The schema a reply to a refused value must keep (an error reply).
    pub refused_schema: Option<String>,
    /// When an accepted value's reply cannot decide the case, if it ever
    /// cannot.
    pub inconclusive: Option<InconclusiveRule>,
}

/// When a reply to an accepted boundary value cannot decide its case.
#[derive(Debug)]
pub struct InconclusiveRule {
    /// CEL over the reply's scope, `probes` included.
    pub when: Arc<Expr>,
    /// The reason reported.
    pub reason: String,
    /// Where it is written.
    pub source: Location,
}

/// A value that changes by itself.
#[derive(Debug, Clone)]
pub struct Volatile {
    /// The key, matched in any object, case-insensitively.
    pub key: String,
    /// Values that are not volatile (sentinels).
    pub except: Vec<Value>,
}

/// What `compare` classifies specially.
#[derive(Debug, Clone, Default)]
pub struct CompareRules {
    /// Keys whose values form an enum: a new value is a breaking change.
    pub enums: Vec<String>,
    /// Keys that may be `null` without that being a type change.
    pub nullable: Vec<String>,
}

/// How much a false invariant matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The case fails.
    Error,
    /// Reported, the case still passes (allowed latitude).
    Warning,
}

/// A named, cited relation checked on every reply (or on every reply of a
/// case, when a case file adds it).
#[derive(Debug)]
pub struct Invariant {
    /// Its name.
    pub name: String,
    /// The spec rows it comes from; `{expr}` holes are filled by CEL.
    pub cites: String,
    /// Releases it applies to (all when `None`).
    pub releases: Option<Vec<String>>,
    /// What it is checked on: `payload`, `payload_copy` or JSON pointers;
    /// empty means once, on the whole reply.
    pub for_each: Vec<String>,
    /// The name each object of `for_each` is bound to.
    pub binding: String,
    /// Only checked when this holds (an error counts as "does not hold").
    pub when: Option<Expr>,
    /// What must hold.
    pub expr: Expr,
    /// Error or warning.
    pub severity: Severity,
    /// What to say when it does not hold, besides the values seen.
    pub message: Option<String>,
    /// Extra expressions whose values are shown when it does not hold.
    pub show: Vec<Expr>,
    /// Where it is written.
    pub source: Location,
}

impl Invariant {
    /// Whether it applies to replies of `release`.
    pub fn applies_to(&self, release: &str) -> bool {
        self.releases
            .as_ref()
            .is_none_or(|rs| rs.iter().any(|r| r == release))
    }
}

/// Every contract under a schema root, by name.
#[derive(Debug, Default)]
pub struct ContractSet {
    contracts: BTreeMap<String, Arc<Contract>>,
}

impl ContractSet {
    /// A set of the given contracts.
    pub fn new(contracts: impl IntoIterator<Item = Contract>) -> Self {
        Self {
            contracts: contracts
                .into_iter()
                .map(|c| (c.name.clone(), Arc::new(c)))
                .collect(),
        }
    }

    /// The contract named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Contract>> {
        self.contracts.get(name)
    }

    /// Every contract, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Contract>> {
        self.contracts.values()
    }

    /// The contract names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.contracts.keys().map(String::as_str).collect()
    }

    /// Whether there is no contract.
    pub fn is_empty(&self) -> bool {
        self.contracts.is_empty()
    }

    /// Compile every contract's invariants (for `check`; a run compiles
    /// only those of the contracts its cases bind): how many there are, or
    /// every error.
    pub fn compile_invariants(&self) -> Result<usize, crate::case::LoadErrors> {
        let mut n = 0;
        let mut errors = Vec::new();
        for c in self.iter() {
            match c.invariants.get() {
                Ok(v) => n += v.len(),
                Err(e) => errors.extend_from_slice(e),
            }
        }
        if errors.is_empty() {
            Ok(n)
        } else {
            Err(crate::case::LoadErrors(errors))
        }
    }
}
