//! JSON Schema layer: each contract's schema files, compiled once per
//! (contract, release, schema-changing options), validating replies and
//! explaining each failure by the spec table and row it breaks.
//!
//! The schema files are a contract in JSON Schema 2020-12; every subschema
//! that encodes a rule carries a `title` naming its source in the contract's
//! spec ("Table 4 row 2.9 status", …). [`SchemaViolation::rule`] is the title
//! of the deepest titled subschema on the failing evaluation path, and
//! [`SchemaSet::title_at`] the one governing an instance pointer, so a failure
//! names the table row without a second mapping in Rust.
//!
//! Compilation is offline: a contract's files are put in a local registry under
//! `https://cms-contract.local/schemas/<contract>/<file>` and every `$ref` must
//! resolve there; nothing is fetched from the network. Format assertions are
//! on. A release's overlay folder replaces base files of the same name, and an
//! option value's JSON Patches (RFC 6902) change files in memory: both are
//! declared in the contract's manifest.

mod walk;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::Value;

use crate::contract::{Contract, ContractSet, OptionValues, Release};
use walk::Docs;

/// The base of every contract's schema URIs; a file's `$id` is this, the
/// contract's name, `/` and the file name, so `$ref`s between a contract's
/// files are plain relative file names.
pub const BASE: &str = "https://cms-contract.local/schemas/";

/// The base URI of `contract`'s schema files.
pub fn base_uri(contract: &str) -> String {
    format!("{BASE}{contract}/")
}

/// The schema files of one contract and release, each compiled once.
///
/// `Send + Sync`: share it through an `Arc`.
pub struct SchemaSet {
    contract: String,
    release: String,
    base: String,
    /// Each file as compiled (after overlays and patches), by file name;
    /// used to find the `title` along an evaluation path.
    documents: BTreeMap<String, Value>,
    validators: BTreeMap<String, Validator>,
}

impl fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaSet")
            .field("contract", &self.contract)
            .field("release", &self.release)
            .field("names", &self.names())
            .finish()
    }
}

/// One way an instance breaks a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer to the failing value in the instance, `""` for the root.
    pub instance_path: String,
    /// Evaluation path through the schema, `$ref`s included, JSON-pointer style.
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
        "no *.json schema files in {}; a contract folder holds its JSON Schemas beside contract.yaml",
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
    /// Read `contract`'s schema files for `release`: every `*.json` directly
    /// in the contract's folder, replaced by the release overlay's files of
    /// the same name, then patched by the option values that declare
    /// patches; register them in a local registry (no network, no file
    /// resolver) and compile each once as JSON Schema 2020-12 with format
    /// assertions on.
    pub fn load(
        contract: &Contract,
        release: &Release,
        options: &OptionValues,
    ) -> Result<SchemaSet, SchemaError> {
        let dir = &contract.dir;
        let base = base_uri(&contract.name);
        let mut documents = read_documents(dir, &base)?;
        if let Some(overlay) = &release.overlay {
            documents.extend(read_documents(&dir.join(overlay), &base)?);
        }
        for (file, patch_file) in patches_for(contract, options) {
            let path = dir.join(&patch_file);
            let text = std::fs::read_to_string(&path).map_err(|source| SchemaError::Io {
                path: path.clone(),
                source,
            })?;
            let patch: json_patch::Patch =
                serde_json::from_str(&text).map_err(|error| SchemaError::Json {
                    line: error.line(),
                    column: error.column(),
                    message: json_message(&error),
                    path: path.clone(),
                })?;
            let doc = documents
                .get_mut(&file)
                .ok_or_else(|| SchemaError::Compile {
                    path: path.clone(),
                    message: format!("the patch is for `{file}`, which the contract does not have"),
                })?;
            json_patch::patch(doc, &patch).map_err(|e| SchemaError::Compile {
                path: path.clone(),
                message: format!("the patch does not apply to `{file}`: {e}"),
            })?;
        }

        // The builder's default retriever fetches nothing, so every `$ref` must
        // resolve among the files just read.
        let registry = documents
            .iter()
            .try_fold(
                Registry::new().draft(Draft::Draft202012),
                |builder, (name, doc)| builder.add(format!("{base}{name}"), doc),
            )
            .and_then(|builder| builder.prepare())
            .map_err(|error| registry_error(dir, &base, &documents, &error))?;

        let mut validators = BTreeMap::new();
        for (name, doc) in &documents {
            let validator = jsonschema::options()
                .with_draft(Draft::Draft202012)
                .should_validate_formats(true)
                .should_ignore_unknown_formats(false)
                .with_base_uri(format!("{base}{name}"))
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
            contract: contract.name.clone(),
            release: release.name.clone(),
            base,
            documents,
            validators,
        })
    }

    /// The schema file names, sorted, e.g. `["agent.json", "error.json", …]`.
    pub fn names(&self) -> Vec<String> {
        self.validators.keys().cloned().collect()
    }

    /// Whether the set has a schema called `name` (a file name).
    pub fn has(&self, name: &str) -> bool {
        self.validators.contains_key(name)
    }

    /// The release the set was compiled for.
    pub fn release(&self) -> &str {
        &self.release
    }

    /// A schema document as compiled, by file name.
    pub fn document(&self, name: &str) -> Option<&Value> {
        self.documents.get(name)
    }

    fn docs(&self) -> Docs<'_> {
        Docs {
            documents: &self.documents,
            base: &self.base,
        }
    }

    /// The citation for the value at instance `pointer` under schema `name`.
    pub fn title_at(&self, name: &str, pointer: &str) -> Option<String> {
        self.docs().title_at(name, pointer)
    }

    /// Whether schema `name` requires an integer (`"type": "integer"`) at
    /// the instance `pointer`, and if so the rule that says it (the title of
    /// that subschema or its nearest titled ancestor, else `schema <name>`).
    pub fn integer_at(&self, name: &str, pointer: &str) -> Option<String> {
        self.docs().integer_at(name, pointer)
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
        // Most replies are valid: a yes/no pass is much cheaper than
        // collecting errors, which only an invalid reply needs.
        if validator.is_valid(instance) {
            return Ok(Vec::new());
        }
        let mut raw = Vec::new();
        for error in validator.iter_errors(instance) {
            flatten(&error, &mut raw);
        }
        Ok(raw
            .into_iter()
            .map(|(instance_path, schema_path, message)| SchemaViolation {
                rule: self.docs().rule_for(name, &schema_path),
                instance_path,
                schema_path,
                message,
            })
            .collect())
    }
}

/// The schema sets of every contract and release, compiled on first use
/// (at most once per process for a folder, release and patch options).
#[derive(Debug)]
pub struct SchemaCatalog {
    contracts: Arc<ContractSet>,
    options: OptionValues,
    /// This catalog's sets by contract folder and release name (the option
    /// values are the catalog's): a look-up per case and per reply that
    /// builds no key and takes only a shared lock (the process cache's key
    /// is built, and its lock taken, on a set's first use here). A list
    /// compared in place: a run has a few contracts and releases, and
    /// hashing a folder's path with SipHash was a visible share of a case.
    memo: RwLock<Vec<(PathBuf, String, Arc<SchemaSet>)>>,
}

/// Compiled sets by (contract folder, release, patches that apply).
type Cache = Mutex<HashMap<(PathBuf, String, Vec<(String, String)>), Arc<SchemaSet>>>;

impl SchemaCatalog {
    /// A catalog over `contracts` with these option values.
    pub fn new(contracts: Arc<ContractSet>, options: OptionValues) -> Self {
        Self {
            contracts,
            options,
            memo: RwLock::default(),
        }
    }

    /// The set of `contract` and `release`, compiled on first use.
    pub fn get(
        &self,
        contract: &Contract,
        release: &Release,
    ) -> Result<Arc<SchemaSet>, SchemaError> {
        let memo = self.memo.read().unwrap_or_else(PoisonError::into_inner);
        let is = |(dir, rel, _): &&(PathBuf, String, Arc<SchemaSet>)| {
            *rel == release.name && dir.as_os_str() == contract.dir.as_os_str()
        };
        if let Some((_, _, set)) = memo.iter().find(is) {
            return Ok(Arc::clone(set));
        }
        drop(memo);
        let set = self.compiled(contract, release)?;
        let mut memo = self.memo.write().unwrap_or_else(PoisonError::into_inner);
        if !memo.iter().any(|e| is(&e)) {
            memo.push((contract.dir.clone(), release.name.clone(), Arc::clone(&set)));
        }
        Ok(set)
    }

    /// The set of `contract` and `release` from the process's cache,
    /// compiled there on first use.
    fn compiled(
        &self,
        contract: &Contract,
        release: &Release,
    ) -> Result<Arc<SchemaSet>, SchemaError> {
        static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
        let key = (
            contract.dir.clone(),
            release.name.clone(),
            patches_for(contract, &self.options),
        );
        // Held while compiling so that two threads never compile the same set;
        // a panic elsewhere cannot leave the map half-written, so poison is ignored.
        let mut cache = CACHE
            .get_or_init(Cache::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = cache.get(&key) {
            return Ok(Arc::clone(set));
        }
        let set = Arc::new(SchemaSet::load(contract, release, &self.options)?);
        cache.insert(key, Arc::clone(&set));
        Ok(set)
    }

    /// Compile every set of every contract (for `check`): the first problem.
    pub fn compile_all(&self) -> Result<usize, SchemaError> {
        let mut n = 0;
        for c in self.contracts.iter() {
            for r in &c.releases {
                n += self.get(c, r)?.names().len();
            }
        }
        Ok(n)
    }

    /// The contracts.
    pub fn contracts(&self) -> &Arc<ContractSet> {
        &self.contracts
    }

    /// The option values the sets are compiled with.
    pub fn options(&self) -> &OptionValues {
        &self.options
    }
}

/// The `(schema file, patch file)` pairs the chosen option values apply.
fn patches_for(contract: &Contract, options: &OptionValues) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for o in &contract.options {
        if let Some(files) = options
            .get(&contract.name, &o.name)
            .and_then(|v| o.patches.get(v))
        {
            out.extend(files.iter().cloned());
        }
    }
    out
}

/// Read and parse every `*.json` file directly in `dir`, by file name.
fn read_documents(dir: &Path, base: &str) -> Result<BTreeMap<String, Value>, SchemaError> {
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
        let expected_id = format!("{base}{name}");
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
    base: &str,
    documents: &BTreeMap<String, Value>,
    error: &jsonschema::ReferencingError,
) -> SchemaError {
    if let jsonschema::ReferencingError::Unretrievable { uri, .. } = error {
        let file = documents
            .iter()
            .find(|(name, doc)| refers_to(doc, name, base, uri))
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
fn refers_to(doc: &Value, name: &str, base: &str, uri: &str) -> bool {
    match doc {
        Value::Object(map) => map.iter().any(|(key, value)| {
            let hit = key == "$ref"
                && value.as_str().is_some_and(|reference| {
                    let file = reference.split('#').next().unwrap_or_default();
                    let relative = file.strip_prefix("./").unwrap_or(file);
                    let relative = if relative.is_empty() { name } else { relative };
                    file == uri || format!("{base}{relative}") == uri
                });
            hit || refers_to(value, name, base, uri)
        }),
        Value::Array(items) => items.iter().any(|item| refers_to(item, name, base, uri)),
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

#[cfg(test)]
mod tests;
