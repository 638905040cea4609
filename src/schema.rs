//! JSON Schema layer: loads `schemas/agentbyworkno/*.json` once, validates
//! request headers, request bodies and response bodies against them, and
//! explains each failure by the spec table and row it breaks.
//!
//! The schema files are the contract in JSON Schema 2020-12; every subschema
//! that encodes a rule carries a `title` naming its source in
//! `shared/spec/agentbyworkno.md` ("Table 4 row 2.9 status", "Table 5 row
//! status 7 (talking) ↔ CTI 2, 3, 4, 5", ...). [`SchemaViolation::rule`] is the
//! title of the deepest titled subschema on the failing evaluation path, so a
//! failure names the table row without a second mapping in Rust.
//!
//! Compilation is offline: the files are put in a local registry under
//! `https://cms-contract.local/schemas/agentbyworkno/<file>` and every `$ref`
//! must resolve there; nothing is fetched from the network or the file system.
//! Format assertions are on. The only in-memory change to a file is the
//! status-9 option (open question 5), see [`SchemaOptions`].

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::{json, Value};

use crate::contract::{self, Release, Status9, StatusRow};

/// Base URI of the schema files: each file's `$id` is this plus its file name,
/// so `$ref`s between the files are plain relative file names.
pub const BASE_URI: &str = "https://cms-contract.local/schemas/agentbyworkno/";

/// Name of the file that the status-9 option patches.
const AGENT_SCHEMA: &str = "agent.json";

/// Choices that change what the schemas accept (the spec's open questions
/// and the release whose contract is expected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SchemaOptions {
    /// Open question 5: whether `status` 9 (pre-rest) is accepted, with CTI state 8.
    pub status9: Status9,
    /// The release: files in `releases/<name>/` replace the base files of the
    /// same name (spec "Versions").
    pub release: Release,
}

/// Folder of a release's overlay files, below the base schema folder.
pub fn release_dir(dir: &Path, release: Release) -> PathBuf {
    dir.join("releases").join(release.name())
}

/// The schema files of one directory, each compiled once, ready to validate.
///
/// `Send + Sync`: share it through [`SchemaSet::shared`] or an `Arc`.
pub struct SchemaSet {
    dir: PathBuf,
    options: SchemaOptions,
    /// Each file as compiled (after the status-9 patch), by file name; used to
    /// find the `title` along an evaluation path.
    documents: BTreeMap<String, Value>,
    validators: BTreeMap<String, Validator>,
}

impl fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaSet")
            .field("dir", &self.dir)
            .field("options", &self.options)
            .field("names", &self.names())
            .finish()
    }
}

/// One way an instance breaks a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer to the failing value in the instance, `""` for the root.
    pub instance_path: String,
    /// Evaluation path through the schema, `$ref`s included, JSON-pointer style,
    /// e.g. `/properties/resultDesc/$ref/allOf/2/then/properties/citStatus/const`.
    pub schema_path: String,
    /// The validator's message, e.g. `0 was expected`.
    pub message: String,
    /// The `title` of the deepest titled subschema on `schema_path`: the spec
    /// table and row the value breaks. `None` if no subschema on the way has one.
    pub rule: Option<String>,
}

/// Why the schemas could not be loaded or a schema could not be found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// A directory or file could not be read.
    #[error(
        "cannot read {}: {source}; check that the schema directory exists and is readable",
        path.display()
    )]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A schema file is not valid JSON.
    #[error("{}:{line}:{column}: invalid JSON: {message}; fix the schema file", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's message, without its position.
        message: String,
    },
    /// A schema file is JSON but not a usable schema: it breaks the 2020-12
    /// meta-schema, has the wrong `$id`, has a `$ref` that does not resolve
    /// among the files, or cannot take the status-9 option.
    #[error("{}: schema does not compile: {message}; fix the schema file", path.display())]
    Compile {
        /// The file (or the directory, for a problem not tied to one file).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The directory holds no `*.json` file.
    #[error(
        "no *.json schema files in {}; point the schema directory at schemas/agentbyworkno",
        dir.display()
    )]
    Empty {
        /// The directory.
        dir: PathBuf,
    },
    /// [`SchemaSet::validate`] was asked for a schema the set does not hold.
    #[error("unknown schema `{name}`; {}", unknown_hint(name, known))]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names the set holds, sorted.
        known: Vec<String>,
    },
}

/// The "what to do" part of [`SchemaError::Unknown`].
fn unknown_hint(name: &str, known: &[String]) -> String {
    let with_ext = format!("{name}.json");
    let list = if known.is_empty() {
        "the set holds no schemas".to_owned()
    } else {
        format!("known schemas: {}", known.join(", "))
    };
    if known.contains(&with_ext) {
        format!("did you mean `{with_ext}`? {list}")
    } else {
        list
    }
}

impl SchemaSet {
    /// Read every `*.json` file directly in `dir` (not recursive), register
    /// them in a local registry (no network, no file resolver) and compile each
    /// once as JSON Schema 2020-12 with format assertions on.
    ///
    /// With [`Status9::Allowed`], `agent.json` is patched in memory first:
    /// 9 joins the `status` enum and a Table 5 row "Status 9 … ↔ CTI 8" is
    /// appended (see [`contract::STATUS9_ROW`]).
    pub fn load(dir: &Path, options: SchemaOptions) -> Result<SchemaSet, SchemaError> {
        let mut documents = read_documents(dir)?;
        let overlay = release_dir(dir, options.release);
        if overlay.is_dir() {
            documents.extend(read_documents(&overlay)?);
        }
        if options.status9 == Status9::Allowed {
            let path = dir.join(AGENT_SCHEMA);
            let agent = documents
                .get_mut(AGENT_SCHEMA)
                .ok_or_else(|| SchemaError::Compile {
                    path: path.clone(),
                    message: "status 9 is allowed (open question 5) but there is no agent.json \
                              to add it to"
                        .to_owned(),
                })?;
            allow_status9(agent).map_err(|message| SchemaError::Compile { path, message })?;
        }

        // The builder's default retriever fetches nothing, so every `$ref` must
        // resolve among the files just read.
        let registry = documents
            .iter()
            .try_fold(
                Registry::new().draft(Draft::Draft202012),
                |builder, (name, doc)| builder.add(format!("{BASE_URI}{name}"), doc),
            )
            .and_then(|builder| builder.prepare())
            .map_err(|error| registry_error(dir, &documents, &error))?;

        let mut validators = BTreeMap::new();
        for (name, doc) in &documents {
            let validator = jsonschema::options()
                .with_draft(Draft::Draft202012)
                .should_validate_formats(true)
                .should_ignore_unknown_formats(false)
                .with_base_uri(format!("{BASE_URI}{name}"))
                .with_registry(&registry)
                .offline()
                .build(doc)
                .map_err(|error| SchemaError::Compile {
                    path: dir.join(name),
                    message: compile_message(&error),
                })?;
            validators.insert(name.clone(), validator);
        }
        // The validators own what they need; end the registry's borrow of
        // `documents` so they can move into the set.
        drop(registry);

        Ok(SchemaSet {
            dir: dir.to_path_buf(),
            options,
            documents,
            validators,
        })
    }

    /// Like [`SchemaSet::load`], but compiled at most once per process for a
    /// given (canonical directory, options) pair; later calls return the same `Arc`.
    ///
    /// A failed load is not cached, so a fixed file is picked up by the next call.
    pub fn shared(dir: &Path, options: SchemaOptions) -> Result<Arc<SchemaSet>, SchemaError> {
        type Cache = Mutex<HashMap<(PathBuf, SchemaOptions), Arc<SchemaSet>>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();

        let canonical = dir.canonicalize().map_err(|source| SchemaError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        // Held while compiling so that two threads never compile the same set;
        // a panic elsewhere cannot leave the map half-written, so poison is ignored.
        let mut cache = CACHE
            .get_or_init(Cache::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key = (canonical, options);
        if let Some(set) = cache.get(&key) {
            return Ok(Arc::clone(set));
        }
        let set = Arc::new(SchemaSet::load(dir, options)?);
        cache.insert(key, Arc::clone(&set));
        Ok(set)
    }

    /// The schema file names, sorted, e.g. `["agent.json", "error.json", …]`.
    pub fn names(&self) -> Vec<String> {
        self.validators.keys().cloned().collect()
    }

    /// The directory the set was loaded from, as given to [`SchemaSet::load`].
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options the set was compiled with.
    pub fn options(&self) -> SchemaOptions {
        self.options
    }

    /// Validate `instance` against the schema file `name` (e.g. `"success.json"`)
    /// and return every violation; an empty list means valid.
    ///
    /// A failed `oneOf`/`anyOf` is replaced by the violations of its nearest
    /// branch (the one with the fewest), so that a success body with a wrong
    /// CTI state is explained by Table 5 rather than by "not valid under any of
    /// the schemas"; on a tie the `oneOf`/`anyOf` violation itself is kept.
    pub fn validate(
        &self,
        name: &str,
        instance: &Value,
    ) -> Result<Vec<SchemaViolation>, SchemaError> {
        let validator = self
            .validators
            .get(name)
            .ok_or_else(|| SchemaError::Unknown {
                name: name.to_owned(),
                known: self.names(),
            })?;
        let mut raw = Vec::new();
        for error in validator.iter_errors(instance) {
            flatten(&error, &mut raw);
        }
        Ok(raw
            .into_iter()
            .map(|(instance_path, schema_path, message)| SchemaViolation {
                rule: rule_for(&self.documents, name, &schema_path),
                instance_path,
                schema_path,
                message,
            })
            .collect())
    }
}

impl SchemaSet {
    /// Whether schema `name` requires an integer (`"type": "integer"`) at
    /// the instance `pointer`, and if so the rule that says it: the `title`
    /// of that subschema or of its nearest titled ancestor on the way
    /// (e.g. "Table 4 row 2.1 workNo (int)"), else `schema <name>`.
    ///
    /// The walk follows `properties`, `additionalProperties`, `prefixItems`,
    /// `items` and `$ref`, and every branch of `allOf`, `anyOf`, `oneOf`,
    /// `then` and `else` that could apply: a pointer is an integer position if
    /// any of them says so (e.g. `/resultDesc/workNo` through the success
    /// branch of response.json, whichever envelope the reply has).
    pub fn integer_at(&self, name: &str, pointer: &str) -> Option<String> {
        let (doc_name, doc) = self.documents.get_key_value(name)?;
        let tokens: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        let walk = IntegerWalk {
            documents: &self.documents,
            steps: Cell::new(0),
        };
        walk.find(doc_name, doc, &tokens, None, 0)
            .map(|title| title.unwrap_or_else(|| format!("schema {name}")))
    }
}

/// State of one [`SchemaSet::integer_at`] walk.
struct IntegerWalk<'a> {
    documents: &'a BTreeMap<String, Value>,
    /// Subschemas visited so far: a `$ref` cycle or a huge schema ends the walk.
    steps: Cell<usize>,
}

impl<'a> IntegerWalk<'a> {
    /// More than any of our schema files needs.
    const MAX_STEPS: usize = 10_000;
    /// Nesting of subschemas: a JSON pointer of a reply is at most 128 deep
    /// (serde_json's limit), plus `$ref`s and branches on the way.
    const MAX_DEPTH: usize = 192;

    /// `Some(title)` if `node` (in file `doc_name`) or a subschema that
    /// applies at the same place requires an integer at `tokens` below it.
    fn find(
        &self,
        doc_name: &'a str,
        node: &'a Value,
        tokens: &[String],
        title: Option<String>,
        depth: usize,
    ) -> Option<Option<String>> {
        self.steps.set(self.steps.get() + 1);
        if self.steps.get() > Self::MAX_STEPS || depth > Self::MAX_DEPTH {
            return None;
        }
        let schema = node.as_object()?;
        let title = title_of(node).or(title);
        // Subschemas that apply to the same instance.
        let refs = ["$ref", "$dynamicRef"].into_iter().filter_map(|k| {
            let reference = schema.get(k)?.as_str()?;
            resolve_ref(self.documents, doc_name, reference).map(|(n, t)| (n.as_str(), t))
        });
        let branches = ["allOf", "anyOf", "oneOf"]
            .into_iter()
            .filter_map(|k| schema.get(k)?.as_array())
            .flatten()
            .chain(["then", "else"].into_iter().filter_map(|k| schema.get(k)))
            .map(|b| (doc_name, b));
        for (name, sub) in refs.chain(branches) {
            if let Some(hit) = self.find(name, sub, tokens, title.clone(), depth + 1) {
                return Some(hit);
            }
        }
        let Some((first, rest)) = tokens.split_first() else {
            let integer = match schema.get("type") {
                Some(Value::String(t)) => t == "integer",
                // ["integer", "null"]: a number there must be an integer.
                Some(Value::Array(ts)) => {
                    ts.iter().any(|t| t == "integer") && !ts.iter().any(|t| t == "number")
                }
                _ => false,
            };
            return integer.then_some(title);
        };
        let index = first.parse::<usize>().ok();
        let child = schema
            .get("properties")
            .and_then(|p| p.get(first))
            .or_else(|| {
                let i = index?;
                schema
                    .get("prefixItems")
                    .and_then(|p| p.get(i))
                    .or_else(|| schema.get("items"))
            })
            .or_else(|| schema.get("additionalProperties"))?;
        self.find(doc_name, child, rest, title, depth + 1)
    }
}

/// One compiled [`SchemaSet`] per documented release, so each case is
/// checked against the release it expects and a failure can say which other
/// release the reply matches.
#[derive(Debug, Clone)]
pub struct SchemaCatalog {
    sets: BTreeMap<Release, Arc<SchemaSet>>,
}

impl SchemaCatalog {
    /// Load (once per process) the sets of every release under `dir`.
    pub fn shared(dir: &Path, status9: Status9) -> Result<SchemaCatalog, SchemaError> {
        let mut sets = BTreeMap::new();
        for release in Release::ALL {
            sets.insert(
                release,
                SchemaSet::shared(dir, SchemaOptions { status9, release })?,
            );
        }
        Ok(SchemaCatalog { sets })
    }

    /// The set of `release`.
    pub fn get(&self, release: Release) -> &SchemaSet {
        // `shared` inserts every release, so the map is total.
        &self.sets[&release]
    }

    /// Every release with its set.
    pub fn iter(&self) -> impl Iterator<Item = (Release, &SchemaSet)> {
        self.sets.iter().map(|(r, s)| (*r, s.as_ref()))
    }
}

/// Read and parse every `*.json` file directly in `dir`, by file name.
fn read_documents(dir: &Path) -> Result<BTreeMap<String, Value>, SchemaError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SchemaError::Io { path, source }
    };
    let mut documents = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        if !entry.file_type().map_err(io(&path))?.is_file() && !path.is_file() {
            continue;
        }
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            return Err(SchemaError::Compile {
                path,
                message: "the file name is not valid UTF-8, so it cannot be part of a $ref; \
                          rename it"
                    .to_owned(),
            });
        };
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let doc: Value = serde_json::from_str(&text).map_err(|error| SchemaError::Json {
            line: error.line(),
            column: error.column(),
            message: json_message(&error),
            path: path.clone(),
        })?;
        let expected_id = format!("{BASE_URI}{name}");
        if let Some(id) = doc.get("$id") {
            if id.as_str() != Some(expected_id.as_str()) {
                return Err(SchemaError::Compile {
                    path,
                    message: format!(
                        "$id is {id}, expected \"{expected_id}\" (the base URI plus the file \
                         name, so that relative $refs between the files resolve)"
                    ),
                });
            }
        }
        documents.insert(name, doc);
    }
    if documents.is_empty() {
        return Err(SchemaError::Empty {
            dir: dir.to_path_buf(),
        });
    }
    Ok(documents)
}

/// A registry error as a [`SchemaError::Compile`]. A `$ref` that resolves to no
/// file of the set is blamed on the first file holding such a `$ref`.
fn registry_error(
    dir: &Path,
    documents: &BTreeMap<String, Value>,
    error: &jsonschema::ReferencingError,
) -> SchemaError {
    if let jsonschema::ReferencingError::Unretrievable { uri, .. } = error {
        let file = documents
            .iter()
            .find(|(name, doc)| refers_to(doc, name, uri))
            .map_or_else(|| dir.to_path_buf(), |(name, _)| dir.join(name));
        return SchemaError::Compile {
            path: file,
            message: format!(
                "$ref to {uri} does not resolve: $refs resolve offline, only to the *.json files \
                 of {}",
                dir.display()
            ),
        };
    }
    SchemaError::Compile {
        path: dir.to_path_buf(),
        message: error.to_string(),
    }
}

/// Whether `doc` (the file `name`) holds a `$ref` to the document `uri`.
fn refers_to(doc: &Value, name: &str, uri: &str) -> bool {
    match doc {
        Value::Object(map) => map.iter().any(|(key, value)| {
            let hit = key == "$ref"
                && value.as_str().is_some_and(|reference| {
                    let file = reference.split('#').next().unwrap_or_default();
                    let relative = file.strip_prefix("./").unwrap_or(file);
                    let relative = if relative.is_empty() { name } else { relative };
                    file == uri || format!("{BASE_URI}{relative}") == uri
                });
            hit || refers_to(value, name, uri)
        }),
        Value::Array(items) => items.iter().any(|item| refers_to(item, name, uri)),
        _ => false,
    }
}

/// serde_json's message without the " at line L column C" suffix, which
/// [`SchemaError::Json`] carries in its own fields.
fn json_message(error: &serde_json::Error) -> String {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_owned()
}

/// A compile error's message, with its location in the schema document.
fn compile_message(error: &ValidationError<'_>) -> String {
    let at = error.instance_path().as_str();
    if at.is_empty() {
        error.to_string()
    } else {
        format!("{error} (at {at})")
    }
}

/// `(instance_path, schema_path, message)` of one error, or of the nearest
/// branch of a failed `oneOf`/`anyOf` (see [`SchemaSet::validate`]).
fn flatten(error: &ValidationError<'_>, out: &mut Vec<(String, String, String)>) {
    let context = match error.kind() {
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            Some(context)
        }
        _ => None,
    };
    if let Some(branch) = context.and_then(|c| nearest_branch(c)) {
        for inner in branch {
            flatten(inner, out);
        }
        return;
    }
    out.push((
        error.instance_path().as_str().to_owned(),
        error.evaluation_path().as_str().to_owned(),
        error.to_string(),
    ));
}

/// The branch with the fewest (but at least one) errors, if exactly one has that many.
fn nearest_branch<T>(branches: &[Vec<T>]) -> Option<&[T]> {
    let fewest = branches.iter().map(Vec::len).filter(|&n| n > 0).min()?;
    let mut nearest = branches.iter().filter(|b| b.len() == fewest);
    match (nearest.next(), nearest.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// What the walk in [`rule_for`] is looking at.
#[derive(Clone, Copy)]
enum Position {
    /// A schema: its members are keywords.
    Schema,
    /// A map from names to schemas (`properties`, `$defs`, …).
    Map,
    /// A list of schemas (`allOf`, `oneOf`, …).
    List,
}

/// The `title` of the deepest titled subschema on `evaluation_path`, walking
/// from the root of `documents[start]` and following each `$ref` into the
/// referenced file (a relative file name, or [`BASE_URI`] plus one) and
/// fragment (`#/$defs/...`). Only schema positions count, so a property named
/// `title` is not mistaken for one. The walk stops, keeping what it found, at
/// a leaf keyword or a step it cannot follow.
fn rule_for(
    documents: &BTreeMap<String, Value>,
    start: &str,
    evaluation_path: &str,
) -> Option<String> {
    let (mut doc_name, mut node) = documents.get_key_value(start)?;
    let mut rule = title_of(node);
    let mut position = Position::Schema;
    for raw in evaluation_path.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        let next = match position {
            Position::Schema if segment == "$ref" || segment == "$dynamicRef" => {
                let Some((name, target)) = node
                    .get(&segment)
                    .and_then(Value::as_str)
                    .and_then(|reference| resolve_ref(documents, doc_name, reference))
                else {
                    break;
                };
                doc_name = name;
                Some((target, Position::Schema))
            }
            Position::Schema => node.get(&segment).and_then(|child| {
                let position = match segment.as_str() {
                    "properties" | "patternProperties" | "$defs" | "definitions"
                    | "dependentSchemas" => Position::Map,
                    "allOf" | "anyOf" | "oneOf" | "prefixItems" => Position::List,
                    "not"
                    | "if"
                    | "then"
                    | "else"
                    | "items"
                    | "additionalItems"
                    | "contains"
                    | "additionalProperties"
                    | "propertyNames"
                    | "unevaluatedItems"
                    | "unevaluatedProperties"
                    | "contentSchema" => Position::Schema,
                    // A leaf keyword (`const`, `type`, `required`, …): nothing deeper.
                    _ => return None,
                };
                Some((child, position))
            }),
            Position::Map => node.get(&segment).map(|child| (child, Position::Schema)),
            Position::List => segment
                .parse::<usize>()
                .ok()
                .and_then(|index| node.get(index))
                .map(|child| (child, Position::Schema)),
        };
        let Some((child, child_position)) = next else {
            break;
        };
        node = child;
        position = child_position;
        if matches!(position, Position::Schema) {
            if let Some(title) = title_of(node) {
                rule = Some(title);
            }
        }
    }
    rule
}

/// A schema's `title`, if it is an object schema with a string title.
fn title_of(schema: &Value) -> Option<String> {
    schema
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The file and subschema a `$ref` inside `current` points to.
fn resolve_ref<'a>(
    documents: &'a BTreeMap<String, Value>,
    current: &str,
    reference: &str,
) -> Option<(&'a String, &'a Value)> {
    let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
    let file = file.strip_prefix(BASE_URI).unwrap_or(file);
    let file = file.strip_prefix("./").unwrap_or(file);
    let file = if file.is_empty() { current } else { file };
    let (name, doc) = documents.get_key_value(file)?;
    let target = if fragment.is_empty() {
        doc
    } else if fragment.starts_with('/') {
        doc.pointer(fragment)?
    } else {
        // An `$anchor` name: not used by our files, so not followed.
        return None;
    };
    Some((name, target))
}

/// The `allOf` entry of `agent.json` for one Table 5 row: if `status` is the
/// row's value then `citStatus` must be one of its CTI states (any, for a
/// "not used" row with none).
fn status_row_schema(title: &str, row: StatusRow) -> Value {
    let then = match row.cti {
        [] => Value::Bool(true),
        [one] => json!({ "properties": { "citStatus": { "const": one } } }),
        many => json!({ "properties": { "citStatus": { "enum": many } } }),
    };
    json!({
        "title": title,
        "if": { "properties": { "status": { "const": row.status } }, "required": ["status"] },
        "then": then,
    })
}

/// Apply [`Status9::Allowed`] to `agent.json`: add 9 to the `status` enum and
/// append its Table 5 row. Fails, with what is missing, if the file does not
/// have the shape to take it.
fn allow_status9(agent: &mut Value) -> Result<(), String> {
    let row = contract::STATUS9_ROW;
    let cti = row
        .cti
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let row_title = format!(
        "Status {} ({}, vendor appendix cec_07_0581; open question 5) ↔ CTI {cti}",
        row.status, row.meaning
    );

    let status = agent
        .pointer_mut("/properties/status")
        .and_then(Value::as_object_mut)
        .ok_or(
            "status 9 is allowed (open question 5) but agent.json has no properties/status \
                subschema to add it to",
        )?;
    let values = status.get_mut("enum").and_then(Value::as_array_mut).ok_or(
        "status 9 is allowed (open question 5) but agent.json properties/status has no \
                enum to add it to",
    )?;
    if !values.contains(&json!(row.status)) {
        values.push(json!(row.status));
    }
    if let Some(Value::String(title)) = status.get_mut("title") {
        title.push_str(&format!(
            "; status {} ({}) allowed by open question 5",
            row.status, row.meaning
        ));
    }
    agent
        .get_mut("allOf")
        .and_then(Value::as_array_mut)
        .ok_or(
            "status 9 is allowed (open question 5) but agent.json has no allOf list of \
                Table 5 rows to add it to",
        )?
        .push(status_row_schema(&row_title, row));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/agentbyworkno")
    }

    fn set() -> Arc<SchemaSet> {
        SchemaSet::shared(&dir(), SchemaOptions::default()).expect("schemas load")
    }

    fn set9() -> Arc<SchemaSet> {
        let options = SchemaOptions {
            status9: Status9::Allowed,
            ..SchemaOptions::default()
        };
        SchemaSet::shared(&dir(), options).expect("schemas load")
    }

    fn agent() -> Value {
        json!({"workNo":101,"vdnId":1,"citStatus":0,"name":"HW35154101",
               "phoneNumber":null,"loginDate":4294967295000_i64,"currentStateTime":436879,
               "mediaType":0,"status":2})
    }

    /// The spec's sample response.
    fn sample() -> Value {
        json!({"result":"0","resultCode":"0100000","resultDatas":agent(),"resultDesc":agent()})
    }

    /// The sample with `resultDesc` changed by `edit`.
    fn sample_with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
        let mut body = sample();
        if let Some(desc) = body.get_mut("resultDesc").and_then(Value::as_object_mut) {
            edit(desc);
        }
        body
    }

    fn violations(set: &SchemaSet, name: &str, instance: &Value) -> Vec<SchemaViolation> {
        set.validate(name, instance).expect("schema exists")
    }

    /// Exactly one violation, returned.
    fn only(set: &SchemaSet, name: &str, instance: &Value) -> SchemaViolation {
        let mut found = violations(set, name, instance);
        assert_eq!(found.len(), 1, "{name}: {found:#?}");
        found.remove(0)
    }

    fn rule(v: &SchemaViolation) -> &str {
        v.rule.as_deref().unwrap_or("<none>")
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let path = std::env::temp_dir()
                .join(format!("cms-contract-schema-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("create temp dir");
            TempDir(path)
        }

        fn write(&self, name: &str, text: &str) {
            std::fs::write(self.0.join(name), text).expect("write temp file");
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn integer_positions_are_found_through_refs_and_branches() {
        let set = set();
        for name in ["success.json", "response.json"] {
            for (pointer, rule) in [
                ("/resultDesc/workNo", "Table 4 row 2.1 workNo (int)"),
                ("/resultDatas/vdnId", "Table 4 row 2.2 vdnId (int)"),
                (
                    "/resultDesc/loginDate",
                    "Table 4 row 2.6 loginDate (long, epoch ms ≥ 0)",
                ),
                (
                    "/resultDesc/status",
                    "Table 4 row 2.9 status (Table 5 values 0–8)",
                ),
            ] {
                assert_eq!(
                    set.integer_at(name, pointer).as_deref(),
                    Some(rule),
                    "{name} {pointer}"
                );
            }
            for other in [
                "",
                "/resultCode",
                "/resultDesc",
                "/resultDesc/name",
                "/resultDesc/workNo/x",
                "/nope",
            ] {
                assert_eq!(set.integer_at(name, other), None, "{name} {other}");
            }
        }
        assert_eq!(set.integer_at("error.json", "/resultDesc"), None);
        assert_eq!(set.integer_at("missing.json", "/resultDesc/workNo"), None);
        let legacy = SchemaSet::shared(
            &dir(),
            SchemaOptions {
                release: Release::V8_13,
                ..SchemaOptions::default()
            },
        )
        .expect("schemas load");
        assert_eq!(
            legacy
                .integer_at("success.json", "/resultDatas/workno")
                .as_deref(),
            Some("Table 4 row 2.1 workNo (int)")
        );
        assert_eq!(
            legacy.integer_at("success.json", "/resultDatas/workNo"),
            None
        );
    }

    #[test]
    fn integer_walks_end_on_ref_cycles_and_arrays_count() {
        let tmp = TempDir::new("integer-walk");
        tmp.write(
            "loop.json",
            r##"{"$id":"https://cms-contract.local/schemas/agentbyworkno/loop.json","$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"properties":{"x":{"$ref":"#/$defs/a"},"list":{"prefixItems":[{"type":"string"}],"items":{"title":"T","type":["integer","null"]}}}}"##,
        );
        let set = SchemaSet::load(&tmp.0, SchemaOptions::default()).expect("loads");
        assert_eq!(set.integer_at("loop.json", "/x"), None);
        assert_eq!(set.integer_at("loop.json", "/list/0"), None);
        assert_eq!(set.integer_at("loop.json", "/list/3").as_deref(), Some("T"));
    }

    #[test]
    fn schema_set_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SchemaSet>();
    }

    #[test]
    fn names_lists_every_file_sorted() {
        assert_eq!(
            set().names(),
            [
                "agent.json",
                "error.json",
                "headers.json",
                "request-flat.json",
                "request.json",
                "response.json",
                "success.json"
            ]
        );
    }

    #[test]
    fn spec_sample_response_is_valid() {
        let set = set();
        for name in ["success.json", "response.json"] {
            assert_eq!(violations(&set, name, &sample()), [], "{name}");
        }
        assert_eq!(violations(&set, "agent.json", &agent()), []);
    }

    #[test]
    fn status_2_with_cti_1_breaks_table_5_row_2() {
        let body = sample_with(|d| {
            d.insert("citStatus".into(), json!(1));
        });
        let v = only(&set(), "success.json", &body);
        assert_eq!(v.instance_path, "/resultDesc/citStatus");
        assert_eq!(
            v.schema_path,
            "/properties/resultDesc/$ref/allOf/2/then/properties/citStatus/const"
        );
        assert_eq!(v.message, "0 was expected");
        assert_eq!(rule(&v), "Table 5 row status 2 (signed out) ↔ CTI 0");
    }

    #[test]
    fn response_reports_the_nearest_envelope_not_just_one_of() {
        let body = sample_with(|d| {
            d.insert("citStatus".into(), json!(1));
        });
        let v = only(&set(), "response.json", &body);
        assert_eq!(v.instance_path, "/resultDesc/citStatus");
        assert_eq!(
            v.schema_path,
            "/oneOf/0/$ref/properties/resultDesc/$ref/allOf/2/then/properties/citStatus/const"
        );
        assert_eq!(rule(&v), "Table 5 row status 2 (signed out) ↔ CTI 0");
    }

    #[test]
    fn talking_accepts_cti_2_to_5_only() {
        let set = set();
        for cti in 0..=10 {
            let body = sample_with(|d| {
                d.insert("status".into(), json!(7));
                d.insert("citStatus".into(), json!(cti));
            });
            let found = violations(&set, "success.json", &body);
            if (2..=5).contains(&cti) {
                assert_eq!(found, [], "cti {cti}");
            } else {
                assert_eq!(found.len(), 1, "cti {cti}: {found:#?}");
                assert_eq!(
                    rule(&found[0]),
                    "Table 5 row status 7 (talking) ↔ CTI 2, 3, 4, 5"
                );
            }
        }
    }

    #[test]
    fn not_used_statuses_accept_any_cti_state() {
        let set = set();
        for status in [1, 6] {
            for cti in 0..=10 {
                let body = sample_with(|d| {
                    d.insert("status".into(), json!(status));
                    d.insert("citStatus".into(), json!(cti));
                });
                assert_eq!(
                    violations(&set, "success.json", &body),
                    [],
                    "{status}/{cti}"
                );
            }
        }
    }

    #[test]
    fn work_no_as_string_breaks_table_4_row_2_1() {
        let body = sample_with(|d| {
            d.insert("workNo".into(), json!("101"));
        });
        let v = only(&set(), "success.json", &body);
        assert_eq!(v.instance_path, "/resultDesc/workNo");
        assert_eq!(
            v.schema_path,
            "/properties/resultDesc/$ref/properties/workNo/type"
        );
        assert_eq!(v.message, r#""101" is not of type "integer""#);
        assert_eq!(rule(&v), "Table 4 row 2.1 workNo (int)");
    }

    #[test]
    fn missing_name_breaks_table_4() {
        let body = sample_with(|d| {
            d.remove("name");
        });
        let v = only(&set(), "success.json", &body);
        assert_eq!(v.instance_path, "/resultDesc");
        assert_eq!(v.schema_path, "/properties/resultDesc/$ref/required");
        assert_eq!(v.message, r#""name" is a required property"#);
        assert_eq!(
            rule(&v),
            "Table 4 agent object (rows 2.1–2.9, all keys required)"
        );
    }

    #[test]
    fn media_type_30_breaks_table_4_row_2_8() {
        let body = sample_with(|d| {
            d.insert("mediaType".into(), json!(30));
        });
        let v = only(&set(), "success.json", &body);
        assert_eq!(v.instance_path, "/resultDesc/mediaType");
        assert_eq!(
            rule(&v),
            "Table 4 row 2.8 mediaType (media types 0–23, 50–55)"
        );
        for ok in [0, 1, 23, 50, 55] {
            let body = sample_with(|d| {
                d.insert("mediaType".into(), json!(ok));
            });
            assert_eq!(violations(&set(), "success.json", &body), [], "{ok}");
        }
    }

    #[test]
    fn status_9_is_rejected_by_default_and_allowed_by_the_option() {
        let body = sample_with(|d| {
            d.insert("status".into(), json!(9));
            d.insert("citStatus".into(), json!(8));
        });
        let v = only(&set(), "success.json", &body);
        assert_eq!(v.instance_path, "/resultDesc/status");
        assert_eq!(rule(&v), "Table 4 row 2.9 status (Table 5 values 0–8)");

        let set9 = set9();
        assert_eq!(violations(&set9, "success.json", &body), []);
        assert_eq!(violations(&set9, "response.json", &body), []);

        let wrong_cti = sample_with(|d| {
            d.insert("status".into(), json!(9));
            d.insert("citStatus".into(), json!(1));
        });
        let v = only(&set9, "success.json", &wrong_cti);
        assert_eq!(v.instance_path, "/resultDesc/citStatus");
        assert_eq!(
            rule(&v),
            "Status 9 (pre-rest, vendor appendix cec_07_0581; open question 5) ↔ CTI 8"
        );
        // The option does not widen anything else.
        let status_10 = sample_with(|d| {
            d.insert("status".into(), json!(10));
        });
        let v = only(&set9, "success.json", &status_10);
        assert_eq!(
            rule(&v),
            "Table 4 row 2.9 status (Table 5 values 0–8); status 9 (pre-rest) allowed by open \
             question 5"
        );
    }

    #[test]
    fn error_envelope_passes_error_and_response_not_success() {
        let set = set();
        let body = json!({"result":"1","resultCode":"0100002","resultDesc":"invalid parameter"});
        assert_eq!(violations(&set, "error.json", &body), []);
        assert_eq!(violations(&set, "response.json", &body), []);
        assert!(!violations(&set, "success.json", &body).is_empty());

        let without_result = json!({"resultCode":"0100999","resultDesc":"x","resultDatas":null});
        assert_eq!(violations(&set, "error.json", &without_result), []);
    }

    #[test]
    fn error_envelope_rules() {
        let set = set();
        let cases = [
            (
                json!({"resultCode":"0100000","resultDesc":"ok?"}),
                "/resultCode",
                "Error codes: resultCode is \"01\" + 5 digits, not 0100000",
            ),
            (
                json!({"resultCode":"100002","resultDesc":"x"}),
                "/resultCode",
                "Error codes: resultCode is \"01\" + 5 digits, not 0100000",
            ),
            (
                json!({"result":"0","resultCode":"0100001","resultDesc":"x"}),
                "/result",
                "Table 3 row 1 result: on error, a string other than \"0\"",
            ),
            (
                json!({"resultCode":"0100001","resultDesc":{"workNo":1}}),
                "/resultDesc",
                "Error codes: resultDesc is a string on error",
            ),
            (
                json!({"resultCode":"0100001","resultDesc":"x","resultDatas":agent()}),
                "/resultDatas",
                "Error codes: resultDatas is absent or null on error (project decision)",
            ),
        ];
        for (body, at, expected) in cases {
            let v = only(&set, "error.json", &body);
            assert_eq!(
                (v.instance_path.as_str(), rule(&v)),
                (at, expected),
                "{body}"
            );
        }
    }

    #[test]
    fn request_sample_passes_and_agent_id_out_of_table_2_fails() {
        let set = set();
        let sample = json!({"queryParam":{"ccId":1,"vdn":1,"agentId":101}});
        assert_eq!(violations(&set, "request.json", &sample), []);
        for bad in [json!(60000), json!(100), json!("101"), json!(1.5)] {
            let body = json!({"queryParam":{"ccId":1,"vdn":1,"agentId":bad}});
            // 1.5 breaks both `type` and `minimum`.
            let found = violations(&set, "request.json", &body);
            assert!(!found.is_empty(), "{bad}");
            for v in &found {
                assert_eq!(v.instance_path, "/queryParam/agentId", "{bad}");
                assert_eq!(rule(v), "Table 2 row 3 agentId (int, 101–59999)", "{bad}");
            }
        }
        for (body, at, expected) in [
            (
                json!({"queryParam":{"ccId":0,"vdn":1,"agentId":101}}),
                "/queryParam/ccId",
                "Table 2 row 1 ccId (int, 1–65535)",
            ),
            (
                json!({"queryParam":{"ccId":1,"vdn":5001,"agentId":101}}),
                "/queryParam/vdn",
                "Table 2 row 2 vdn (int, 1–5000)",
            ),
            (
                json!({"queryParam":{"ccId":1,"vdn":1}}),
                "/queryParam",
                "Table 2 fields (ccId, vdn, agentId, all required, no others)",
            ),
            (
                json!({"ccId":1,"vdn":1,"agentId":101}),
                "",
                "Table 2 request body, queryParam-wrapped (open question 1: the page's sample)",
            ),
        ] {
            let found = violations(&set, "request.json", &body);
            assert!(!found.is_empty(), "{body}");
            for v in &found {
                assert_eq!(
                    (v.instance_path.as_str(), rule(v)),
                    (at, expected),
                    "{body}"
                );
            }
        }
    }

    #[test]
    fn flat_request_reuses_the_table_2_fields() {
        let set = set();
        let flat = json!({"ccId":65535,"vdn":5000,"agentId":59999});
        assert_eq!(violations(&set, "request-flat.json", &flat), []);
        let wrapped = json!({"queryParam":{"ccId":1,"vdn":1,"agentId":101}});
        assert!(!violations(&set, "request-flat.json", &wrapped).is_empty());
        let v = only(
            &set,
            "request-flat.json",
            &json!({"ccId":1,"vdn":1,"agentId":60000}),
        );
        assert_eq!(v.instance_path, "/agentId");
        assert_eq!(v.schema_path, "/$ref/properties/agentId/maximum");
        assert_eq!(rule(&v), "Table 2 row 3 agentId (int, 101–59999)");
    }

    #[test]
    fn headers_follow_table_1() {
        let set = set();
        let auth = "auth-v2/ak/2024-01-01T00:00:00Z/host/00";
        for content_type in [
            "application/json",
            "application/json; charset=UTF-8",
            "application/json;charset=utf-8",
        ] {
            let headers = json!({"content-type":content_type,"authorization":auth,"host":"h"});
            assert_eq!(
                violations(&set, "headers.json", &headers),
                [],
                "{content_type}"
            );
        }
        let v = only(
            &set,
            "headers.json",
            &json!({"content-type":"text/plain","authorization":auth}),
        );
        assert_eq!(
            rule(&v),
            "Table 1 row 1 Content-Type (application/json; charset=UTF-8)"
        );
        let v = only(
            &set,
            "headers.json",
            &json!({"content-type":"application/json","authorization":"Basic x"}),
        );
        assert_eq!(
            rule(&v),
            "Table 1 row 2 Authorization (C2 auth-v2 signature)"
        );
        let v = only(
            &set,
            "headers.json",
            &json!({"content-type":"application/json"}),
        );
        assert_eq!(v.message, r#""authorization" is a required property"#);
    }

    #[test]
    fn unknown_extra_agent_key_is_not_a_schema_failure() {
        let body = sample_with(|d| {
            d.insert("skillId".into(), json!(3));
        });
        assert_eq!(violations(&set(), "success.json", &body), []);
    }

    #[test]
    fn unknown_schema_name_lists_known_ones() {
        let error = set()
            .validate("agent", &json!({}))
            .expect_err("no such schema");
        let SchemaError::Unknown { name, known } = &error else {
            panic!("expected Unknown, got {error:?}");
        };
        assert_eq!(name, "agent");
        assert_eq!(known, &set().names());
        assert_eq!(
            error.to_string(),
            "unknown schema `agent`; did you mean `agent.json`? known schemas: agent.json, \
             error.json, headers.json, request-flat.json, request.json, response.json, \
             success.json"
        );
        let error = set()
            .validate("nope.json", &json!({}))
            .expect_err("no such schema");
        assert!(error
            .to_string()
            .starts_with("unknown schema `nope.json`; known schemas: agent.json, "));
    }

    #[test]
    fn invalid_json_gives_line_and_column() {
        let tmp = TempDir::new("badjson");
        tmp.write("ok.json", r#"{"type":"object"}"#);
        tmp.write(
            "broken.json",
            "{\n  \"type\": \"object\",\n  \"title\": }\n",
        );
        let error = SchemaSet::load(&tmp.0, SchemaOptions::default()).expect_err("broken");
        let SchemaError::Json {
            path, line, column, ..
        } = &error
        else {
            panic!("expected Json, got {error:?}");
        };
        assert_eq!((path, *line, *column), (&tmp.0.join("broken.json"), 3, 12));
        assert_eq!(
            error.to_string(),
            format!(
                "{}:3:12: invalid JSON: expected value; fix the schema file",
                tmp.0.join("broken.json").display()
            )
        );
    }

    #[test]
    fn schema_problems_are_compile_errors() {
        let tmp = TempDir::new("compile");
        tmp.write("a.json", r#"{"$ref":"missing.json"}"#);
        tmp.write("b.json", r#"{"type":"object"}"#);
        let error = SchemaSet::load(&tmp.0, SchemaOptions::default()).expect_err("bad ref");
        assert_eq!(
            error.to_string(),
            format!(
                "{}: schema does not compile: $ref to \
                 https://cms-contract.local/schemas/agentbyworkno/missing.json does not resolve: \
                 $refs resolve offline, only to the *.json files of {}; fix the schema file",
                tmp.0.join("a.json").display(),
                tmp.0.display()
            )
        );

        tmp.write("a.json", r#"{"type":"objekt"}"#);
        let error = SchemaSet::load(&tmp.0, SchemaOptions::default()).expect_err("bad type");
        assert!(matches!(error, SchemaError::Compile { .. }), "{error:?}");

        tmp.write("a.json", r#"{"type":"string","format":"no-such-format"}"#);
        let error = SchemaSet::load(&tmp.0, SchemaOptions::default()).expect_err("bad format");
        assert!(matches!(error, SchemaError::Compile { .. }), "{error:?}");

        tmp.write("a.json", r#"{"$id":"https://example.com/a.json"}"#);
        let error = SchemaSet::load(&tmp.0, SchemaOptions::default()).expect_err("bad $id");
        assert_eq!(
            error.to_string(),
            format!(
                "{}: schema does not compile: $id is \"https://example.com/a.json\", expected \
                 \"https://cms-contract.local/schemas/agentbyworkno/a.json\" (the base URI plus \
                 the file name, so that relative $refs between the files resolve); fix the \
                 schema file",
                tmp.0.join("a.json").display()
            )
        );

        // Status 9 cannot be honoured without agent.json.
        tmp.write("a.json", r#"{"type":"object"}"#);
        let options = SchemaOptions {
            status9: Status9::Allowed,
            ..SchemaOptions::default()
        };
        let error = SchemaSet::load(&tmp.0, options).expect_err("no agent.json");
        assert!(
            matches!(&error, SchemaError::Compile { path, .. } if path == &tmp.0.join("agent.json"))
        );
        tmp.write("agent.json", r#"{"type":"object"}"#);
        let error = SchemaSet::load(&tmp.0, options).expect_err("agent.json has no status");
        assert!(
            error.to_string().contains("no properties/status subschema"),
            "{error}"
        );
        // Without the option the same directory loads, and refs resolve by file name.
        tmp.write("b.json", r#"{"properties":{"x":{"$ref":"a.json"}}}"#);
        let set = SchemaSet::load(&tmp.0, SchemaOptions::default()).expect("loads");
        assert_eq!(violations(&set, "b.json", &json!({"x":{}})), []);
        assert_eq!(violations(&set, "b.json", &json!({"x":1})).len(), 1);
    }

    #[test]
    fn missing_and_empty_directories_are_errors() {
        let tmp = TempDir::new("empty");
        let error = SchemaSet::load(&tmp.0, SchemaOptions::default()).expect_err("empty");
        assert_eq!(
            error.to_string(),
            format!(
                "no *.json schema files in {}; point the schema directory at \
                 schemas/agentbyworkno",
                tmp.0.display()
            )
        );
        let missing = tmp.0.join("missing");
        let error = SchemaSet::shared(&missing, SchemaOptions::default()).expect_err("missing");
        assert!(matches!(&error, SchemaError::Io { path, .. } if path == &missing));
        assert!(error
            .to_string()
            .starts_with(&format!("cannot read {}: ", missing.display())));
    }

    #[test]
    fn shared_compiles_once_per_dir_and_options() {
        let a = set();
        let b = SchemaSet::shared(&dir().join("../agentbyworkno"), SchemaOptions::default())
            .expect("same dir");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &set9()));
        assert!(Arc::ptr_eq(&set9(), &set9()));
        assert_eq!(set9().options().status9, Status9::Allowed);
    }

    // The schema files and `contract` state the same contract.

    #[test]
    fn agent_rows_match_contract_table5() {
        let set = set();
        let agent = &set.documents["agent.json"];
        let rows = agent["allOf"].as_array().expect("allOf");
        assert_eq!(rows.len(), contract::TABLE5.len());
        for (row, schema) in contract::TABLE5.iter().zip(rows) {
            let title = schema["title"].as_str().expect("title");
            assert!(
                title.starts_with(&format!("Table 5 row status {} (", row.status)),
                "{title}"
            );
            let expected = status_row_schema(title, *row);
            assert_eq!(schema["if"], expected["if"], "{title}");
            assert_eq!(schema["then"], expected["then"], "{title}");
        }
        let statuses: Vec<Value> = contract::TABLE5.iter().map(|r| json!(r.status)).collect();
        assert_eq!(agent["properties"]["status"]["enum"], Value::from(statuses));
        let keys: Vec<Value> = contract::TABLE4_KEYS.iter().map(|k| json!(k)).collect();
        assert_eq!(agent["required"], Value::from(keys));
        let media: Vec<Value> = (0..=100)
            .filter(|&m| contract::is_media_type(m))
            .map(Value::from)
            .collect();
        assert_eq!(agent["properties"]["mediaType"]["enum"], Value::from(media));
        let cti: Vec<Value> = contract::CTI_STATES.iter().map(|(c, _)| json!(c)).collect();
        assert_eq!(agent["properties"]["citStatus"]["enum"], Value::from(cti));
    }

    #[test]
    fn request_ranges_match_contract_table2() {
        let set = set();
        let fields = &set.documents["request.json"]["$defs"]["queryParam"]["properties"];
        for field in contract::TABLE2 {
            let schema = &fields[field.name];
            let (min, max) = field.ranges[0];
            assert_eq!(field.ranges.len(), 1);
            assert_eq!(
                (&schema["minimum"], &schema["maximum"]),
                (&json!(min), &json!(max))
            );
            let title = schema["title"].as_str().expect("title");
            assert!(
                title.starts_with(&format!("Table 2 row {} {} ", field.row, field.name)),
                "{title}"
            );
        }
    }

    // `rule_for` on its own.

    fn docs() -> BTreeMap<String, Value> {
        BTreeMap::from([
            (
                "outer.json".to_owned(),
                json!({
                    "title": "outer",
                    "properties": {
                        "title": { "type": "string" },
                        "a": { "title": "outer a", "$ref": "inner.json" },
                        "b": { "$ref": "#/$defs/b" },
                        "c": { "$ref": "https://cms-contract.local/schemas/agentbyworkno/inner.json#/$defs/deep" },
                        "d": { "$ref": "#anchor" }
                    },
                    "$defs": { "b": { "title": "outer $defs b", "type": "integer" } }
                }),
            ),
            (
                "inner.json".to_owned(),
                json!({
                    "title": "inner",
                    "allOf": [
                        { "title": "inner row 0", "then": { "properties": { "x": { "const": 1 } } } }
                    ],
                    "$defs": { "deep": { "title": "inner deep" } }
                }),
            ),
        ])
    }

    #[test]
    fn rule_for_follows_refs_and_keeps_the_deepest_title() {
        let docs = docs();
        let cases = [
            ("", Some("outer")),
            ("/required", Some("outer")),
            ("/properties/title/type", Some("outer")),
            (
                "/properties/a/$ref/allOf/0/then/properties/x/const",
                Some("inner row 0"),
            ),
            ("/properties/a/$ref/type", Some("inner")),
            ("/properties/a/type", Some("outer a")),
            ("/properties/b/$ref/type", Some("outer $defs b")),
            ("/properties/c/$ref/type", Some("inner deep")),
            ("/properties/d/$ref/type", Some("outer")),
            ("/properties/zzz/type", Some("outer")),
            ("/allOf/x", Some("outer")),
        ];
        for (path, expected) in cases {
            assert_eq!(
                rule_for(&docs, "outer.json", path).as_deref(),
                expected,
                "{path}"
            );
        }
        assert_eq!(rule_for(&docs, "nope.json", ""), None);
        let untitled = BTreeMap::from([("u.json".to_owned(), json!({"type": "object"}))]);
        assert_eq!(rule_for(&untitled, "u.json", "/type"), None);
    }

    #[test]
    fn rule_for_unescapes_pointer_segments() {
        let docs = BTreeMap::from([(
            "p.json".to_owned(),
            json!({"properties": {"a/b~c": {"title": "slash and tilde"}}}),
        )]);
        assert_eq!(
            rule_for(&docs, "p.json", "/properties/a~1b~0c/type").as_deref(),
            Some("slash and tilde")
        );
    }

    #[test]
    fn nearest_branch_needs_a_unique_minimum() {
        assert_eq!(nearest_branch(&[vec![1, 2], vec![3]]), Some(&[3][..]));
        assert_eq!(nearest_branch(&[vec![1], vec![3]]), None);
        assert_eq!(nearest_branch::<u8>(&[vec![], vec![]]), None);
        assert_eq!(nearest_branch::<u8>(&[]), None);
    }
}
