//! Finding case files, applying folder defaults and variables, and building
//! [`Case`] values. Every problem is collected with its location.

use super::error::{did_you_mean, LoadError, LoadErrors};
use super::files::{self, LoadWarning, ReadError, MAX_CASE_FILE_BYTES};
use super::generate;
use super::matcher::Compiler;
use super::node::{Node, NodeValue};
use super::raw::{self, RawCase, RawDefaults, RawExpect, RawFile, RawRequest};
use super::vars::{Expanded, Vars};
use super::{check_request_path, word_value, AuthMode, Body, Case, Expect, Request, Rule};
use crate::contract::Release;
use crate::location::Location;
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What loading needs besides the files.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Variables for `${name}`.
    pub vars: Vars,
    /// Folder of the request schema, for `generate: boundaries`.
    pub schema_dir: PathBuf,
    /// The release cases expect unless their folder or they say otherwise.
    pub release: Release,
    /// Most cases one load may produce, after `each:` and `generate:`
    /// expansion (default [`DEFAULT_MAX_CASES`]; `--max-cases`). Counted
    /// before any case is built, so a few lines cannot ask for millions.
    pub max_cases: usize,
}

/// Default of [`LoadOptions::max_cases`]: far above the shipped suite
/// (about 100 cases) and any real contact centre's agent list.
pub const DEFAULT_MAX_CASES: usize = 100_000;

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            vars: Vars::default(),
            schema_dir: PathBuf::new(),
            release: Release::default(),
            max_cases: DEFAULT_MAX_CASES,
        }
    }
}

/// The cases one load has produced so far, against [`LoadOptions::max_cases`].
struct Budget {
    used: u128,
    max: usize,
}

impl Budget {
    fn new(max: usize) -> Self {
        Self { used: 0, max }
    }

    /// Account for `n` more cases, written at `loc`; `what` says what makes
    /// them ("this `each` expands to").
    fn take(&mut self, n: u128, loc: &Location, what: &str) -> Result<(), LoadError> {
        let total = self.used.saturating_add(n);
        if total > self.max as u128 {
            return Err(LoadError::new(
                loc.clone(),
                format!(
                    "too many cases: {total} with these, over the limit of {}",
                    self.max
                ),
            )
            .label(format!("{what} {n} case{}", if n == 1 { "" } else { "s" }))
            .help("raise the limit with `--max-cases N`, or use fewer values"));
        }
        self.used = total;
        Ok(())
    }
}

/// Name of the per-folder defaults file.
pub const DEFAULTS_FILE: &str = "_defaults.yaml";

/// Load every case under `paths` (files or folders, searched for `*.yaml`).
/// What was skipped on the way is dropped: front ends use
/// [`load_paths_with_warnings`] and show it.
pub fn load_paths(paths: &[PathBuf], opts: &LoadOptions) -> Result<Vec<Case>, LoadErrors> {
    load_paths_with_warnings(paths, opts, &mut Vec::new())
}

/// [`load_paths`], adding to `warnings` what was skipped (files that are
/// not regular files, folders reached twice through links), also when
/// loading fails.
pub fn load_paths_with_warnings(
    paths: &[PathBuf],
    opts: &LoadOptions,
    warnings: &mut Vec<LoadWarning>,
) -> Result<Vec<Case>, LoadErrors> {
    let mut errors = Vec::new();
    let mut cases = Vec::new();
    let mut defaults_cache: HashMap<PathBuf, Option<RawDefaults>> = HashMap::new();
    let mut budget = Budget::new(opts.max_cases);
    for root in paths {
        let files = match files::discover(root, warnings) {
            Ok(f) => f,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let root_dir = if root.is_dir() {
            root.clone()
        } else {
            root.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        for file in files {
            let defaults = defaults_for(&file, &root_dir, &mut defaults_cache, &mut errors);
            match load_file(&file, &defaults, opts, &mut budget) {
                Ok(mut c) => cases.append(&mut c),
                Err(mut e) => errors.append(&mut e),
            }
        }
    }
    check_unique(&cases, &mut errors);
    if errors.is_empty() && cases.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        errors.push(
            LoadError::new(
                Location::file_only(paths.first().map_or(Path::new("."), PathBuf::as_path)),
                format!("no cases found in {}", shown.join(", ")),
            )
            .help("case files are `*.yaml` with a `cases:` list; an empty run is a failure"),
        );
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(LoadErrors(errors))
    }
}

/// `_defaults.yaml` files from `root_dir` down to the file's folder, merged (nearer wins).
fn defaults_for(
    file: &Path,
    root_dir: &Path,
    cache: &mut HashMap<PathBuf, Option<RawDefaults>>,
    errors: &mut Vec<LoadError>,
) -> RawDefaults {
    let mut dirs = Vec::new();
    let mut dir = file.parent();
    while let Some(d) = dir {
        dirs.push(d.to_path_buf());
        if d == root_dir || d.as_os_str().is_empty() {
            break;
        }
        dir = d.parent();
    }
    let mut merged = RawDefaults::default();
    for d in dirs.iter().rev() {
        let path = d.join(DEFAULTS_FILE);
        let entry = cache.entry(path.clone()).or_insert_with(|| {
            // Only a missing file means "no defaults": one that is there but
            // unusable (a FIFO, a device, too large) is an error, since
            // cases without their folder's checks would pass too easily.
            if std::fs::symlink_metadata(&path)
                .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
            {
                return None;
            }
            match parse_yaml::<RawDefaults>(&path, raw::DEFAULTS_KEYS) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.push(e);
                    None
                }
            }
        });
        if let Some(d) = entry {
            if d.release.is_some() {
                merged.release = d.release.clone();
            }
            merged.request = merge_request(&merged.request, &d.request);
            merged.expect = merge_expect(&merged.expect, &d.expect);
        }
    }
    merged
}

fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    }
}

/// Parse a YAML file into `T`, turning serde-saphyr errors into located ones.
pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned>(
    path: &Path,
    keys_hint: &[&str],
) -> Result<T, LoadError> {
    let text = files::read_text(path, MAX_CASE_FILE_BYTES).map_err(|e| {
        let err = LoadError::new(
            Location::file_only(path),
            format!("cannot read `{}`: {e}", path.display()),
        );
        match e {
            ReadError::TooLarge(_) => err.help("split it into several files"),
            ReadError::NotRegular(_) => {
                err.help("case files, `_defaults.yaml` and profiles are regular files")
            }
            _ => err,
        }
    })?;
    parse_yaml_str(path, &text, keys_hint)
}

/// Parse YAML text that came from `path`.
pub(crate) fn parse_yaml_str<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
    keys_hint: &[&str],
) -> Result<T, LoadError> {
    serde_saphyr::from_str_with_options::<T>(text, yaml_options())
        .map_err(|e| yaml_error(path, &e, keys_hint))
}

fn yaml_error(path: &Path, e: &serde_saphyr::Error, keys_hint: &[&str]) -> LoadError {
    let file = Arc::new(path.to_path_buf());
    let loc = e.location().map_or_else(
        || Location::file_only(path),
        |l| Location::from_yaml(&file, &l),
    );
    match e {
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let err = LoadError::new(loc, format!("unknown field `{field}`"));
            let err = match did_you_mean(field, expected.iter().copied()) {
                Some(s) => err.label(format!("did you mean `{s}`?")),
                None => err.label("not allowed here"),
            };
            err.help(format!("expected one of: {}", expected.join(", ")))
        }
        serde_saphyr::Error::SerdeMissingField { field, .. } => {
            LoadError::new(loc, format!("missing field `{field}`"))
                .label(format!("add `{field}:` here"))
        }
        // Say these in the case format's words, not serde's advice to Rust developers.
        serde_saphyr::Error::NullIntoString { .. } => {
            LoadError::new(loc, "expected a string, found null")
                .label("write a string here (quote it, e.g. \"~\", if you mean the text)")
        }
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => {
            let what = key
                .as_deref()
                .map_or("a key".to_string(), |k| format!("`{k}`"));
            LoadError::new(loc, format!("duplicate key {what}")).label("remove one of them")
        }
        serde_saphyr::Error::NonFiniteFloat { value, .. } => {
            LoadError::new(loc, format!("`{value}` is not a JSON number"))
                .label("write a finite number")
        }
        serde_saphyr::Error::Unexpected { expected, .. } => {
            let what = match *expected {
                "sequence start" => "a list",
                "mapping start" => "a mapping",
                other => other,
            };
            LoadError::new(loc, format!("expected {what}")).label("fix the value here")
        }
        serde_saphyr::Error::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => LoadError::new(loc, format!("expected {expected}, found {unexpected}"))
            .label("fix the value here"),
        other => {
            let text = other.to_string();
            let first = text.lines().next().unwrap_or("invalid YAML").to_string();
            let msg = strip_location_suffix(&first);
            let err = LoadError::new(loc.clone(), msg).label("fix the YAML here");
            // The key list only helps for mistakes at the top level of the file.
            if keys_hint.is_empty() || loc.column > 1 {
                err
            } else {
                err.help(format!("top-level keys: {}", keys_hint.join(", ")))
            }
        }
    }
}

fn strip_location_suffix(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// Load the cases of one case file given as text (`path` names it in errors
/// and gives the suite), without folder defaults. For tools and fuzzing.
pub fn load_str(path: &Path, text: &str, opts: &LoadOptions) -> Result<Vec<Case>, LoadErrors> {
    let raw: RawFile =
        parse_yaml_str(path, text, raw::FILE_KEYS).map_err(|e| LoadErrors(vec![e]))?;
    let mut budget = Budget::new(opts.max_cases);
    build_file(path, raw, &RawDefaults::default(), opts, &mut budget).map_err(LoadErrors)
}

fn load_file(
    path: &Path,
    defaults: &RawDefaults,
    opts: &LoadOptions,
    budget: &mut Budget,
) -> Result<Vec<Case>, Vec<LoadError>> {
    let raw: RawFile = parse_yaml(path, raw::FILE_KEYS).map_err(|e| vec![e])?;
    build_file(path, raw, defaults, opts, budget)
}

fn build_file(
    path: &Path,
    raw: RawFile,
    defaults: &RawDefaults,
    opts: &LoadOptions,
    budget: &mut Budget,
) -> Result<Vec<Case>, Vec<LoadError>> {
    let file = Arc::new(path.to_path_buf());
    if raw.cases.is_empty() {
        return Err(vec![LoadError::new(
            Location::file_only(path),
            "the file holds no cases",
        )
        .help("add at least one entry under `cases:` or delete the file")]);
    }
    let suite = path
        .parent()
        .and_then(|p| p.file_name())
        .map_or_else(|| "cases".to_string(), |n| n.to_string_lossy().into_owned());
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for rc in &raw.cases {
        match build_case(&suite, &file, rc, defaults, opts, budget) {
            Ok(mut c) => cases.append(&mut c),
            Err(e) => errors.push(e),
        }
    }
    for case in &mut cases {
        match super::snapshot::read(path, &case.name) {
            Ok(snap) => case.expect.snapshot = snap,
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

fn build_case(
    suite: &str,
    file: &Arc<PathBuf>,
    rc: &RawCase,
    defaults: &RawDefaults,
    opts: &LoadOptions,
    budget: &mut Budget,
) -> Result<Vec<Case>, LoadError> {
    let name_loc = Location::from_yaml(file, &rc.name.referenced);
    check_name(&rc.name.value, &name_loc)?;
    let request = merge_request(&defaults.request, &rc.request);
    let expect = merge_expect(&defaults.expect, &rc.expect);
    let opts = &case_options(file, rc, defaults, opts)?;
    // How many cases one value makes, known before any is built.
    let per_value = match &rc.generate {
        Some(g) if g.value == "boundaries" => {
            let loc = Location::from_yaml(file, &g.referenced);
            generate::count(&opts.schema_dir, opts.release, &loc)? as u128
        }
        _ => 1,
    };
    let Some(each) = &rc.each else {
        match &rc.generate {
            Some(g) => budget.take(
                per_value,
                &Location::from_yaml(file, &g.referenced),
                "this `generate` makes",
            )?,
            None => budget.take(1, &name_loc, "this case makes")?,
        }
        let name = rc.name.value.clone();
        let case = compile(suite, name, file, rc, &request, &expect, opts)?;
        return expand_generate(rc, case, file, opts);
    };
    let c = Compiler {
        file,
        vars: &opts.vars,
    };
    let var = each.var.value.clone();
    if !super::vars::valid_name(&var) {
        return Err(LoadError::new(
            c.loc(&each.var.referenced),
            format!("invalid variable name `{var}`"),
        )
        .label("use letters, digits, `_` and `-` (it becomes part of the case names)"));
    }
    let items = each_items(&c, &each.values, opts.max_cases)?;
    if items.is_empty() {
        return Err(
            LoadError::new(c.loc(&each.values.loc), "`each.values` is empty")
                .label("list at least one value"),
        );
    }
    let values_loc = c.loc(&each.values.loc);
    let count: u128 = items.iter().map(EachItem::len).sum();
    let what = if per_value == 1 {
        "this `each` expands to".to_string()
    } else {
        format!("this `each` times {per_value} generated cases makes")
    };
    budget.take(count.saturating_mul(per_value), &values_loc, &what)?;
    let mut out = Vec::new();
    for v in items.iter().flat_map(EachItem::values) {
        let part = name_part(&v).map_err(|why| {
            let e = LoadError::new(
                values_loc.clone(),
                format!(
                    "`each` value `{}` cannot be part of a case name",
                    v.escape_debug()
                ),
            )
            .label(format!(
                "{why}: values become test names and snapshot file names"
            ));
            match value_origin(&each.values, &opts.vars) {
                Some(origin) => e.help(origin),
                None => e.help("use letters, digits, `_`, `-` and `.`"),
            }
        })?;
        let mut one = opts.clone();
        one.vars.set(&var, &v, "each");
        let name = format!("{}::{var}_{part}", rc.name.value);
        let case = compile(suite, name, file, rc, &request, &expect, &one)?;
        out.append(&mut expand_generate(rc, case, file, &one)?);
    }
    Ok(out)
}

/// `value` as a part of a case name. Names become test names and snapshot
/// file names, so a value that names a path (`/`, `\`, `..`) or holds
/// control characters is refused; other characters outside letters, digits,
/// `_`, `-` and `.` become `_`, with a short hash of the value appended so
/// distinct values keep distinct names. Plain values (`101`, `-1`, `1.5`,
/// `HW1`) are kept as they are, so their names stay stable.
fn name_part(value: &str) -> Result<String, &'static str> {
    if value.contains(['/', '\\']) {
        return Err("a path separator is not allowed");
    }
    if value.contains("..") {
        return Err("`..` is not allowed");
    }
    if value.chars().any(char::is_control) {
        return Err("control characters are not allowed");
    }
    if value.chars().all(name_char) {
        return Ok(value.to_string());
    }
    let mapped: String = value
        .chars()
        .map(|ch| if name_char(ch) { ch } else { '_' })
        .collect();
    Ok(format!("{mapped}-{}", super::snapshot::short_hash(value)))
}

/// Characters a case name may hold besides its `::` separators (`.` only
/// from `each` values such as `1.5`; written names use the others).
fn name_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.'
}

/// Whether an expanded or generated case name is safe as a test name and a
/// snapshot file name: `::`-separated parts of [`name_char`]s, none empty,
/// none holding `..`.
fn valid_expanded_name(name: &str) -> bool {
    name.split("::")
        .all(|part| !part.is_empty() && !part.contains("..") && part.chars().all(name_char))
}

/// Where `each.values` got its values when they came from variables:
/// "the value comes from variable `x` (--var x=...)" for the help line.
fn value_origin(values: &Node, vars: &Vars) -> Option<String> {
    let mut texts = Vec::new();
    match &values.value {
        NodeValue::Str(s) => texts.push(s.as_str()),
        NodeValue::Seq(items) => texts.extend(items.iter().filter_map(|n| match &n.value {
            NodeValue::Str(s) => Some(s.as_str()),
            _ => None,
        })),
        _ => {}
    }
    let names: Vec<String> = texts
        .iter()
        .flat_map(|t| t.split("${").skip(1))
        .filter_map(|rest| rest.split_once('}').map(|(n, _)| n))
        .map(|n| match vars.origin(n) {
            Some("--var") => format!("`{n}` (--var {n}=...)"),
            Some("env") => format!("`{n}` (CMS_VAR_{n})"),
            Some("profile") => format!("`{n}` (the profile's `vars:`)"),
            _ => format!("`{n}`"),
        })
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "the values come from variable {}: give values of letters, digits, `_`, `-` and `.` there",
            names.join(", ")
        )
    })
}

/// The release a case expects (case, then folder, then run) and the
/// `release` / `endpoint` variables that go with it.
fn case_options(
    file: &Arc<PathBuf>,
    rc: &RawCase,
    defaults: &RawDefaults,
    opts: &LoadOptions,
) -> Result<LoadOptions, LoadError> {
    let Some(r) = rc.release.as_ref().or(defaults.release.as_ref()) else {
        return Ok(opts.clone());
    };
    let c = Compiler {
        file,
        vars: &opts.vars,
    };
    let names: Vec<&str> = Release::ALL.iter().map(|r| r.name()).collect();
    let release = Release::parse(&r.value)
        .ok_or_else(|| unknown_word(&c, r, "release", names.iter().copied()))?;
    let mut out = opts.clone();
    out.release = release;
    out.vars.set("release", release.name(), "case release");
    out.vars.set("endpoint", release.endpoint(), "case release");
    Ok(out)
}

fn expand_generate(
    rc: &RawCase,
    case: Case,
    file: &Arc<PathBuf>,
    opts: &LoadOptions,
) -> Result<Vec<Case>, LoadError> {
    match &rc.generate {
        None => Ok(vec![case]),
        Some(g) if g.value == "boundaries" => {
            let loc = Location::from_yaml(file, &g.referenced);
            let cases = generate::boundaries(&case, &opts.schema_dir, opts.release, &loc)?;
            // Field names come from the request schema (`--schemas DIR`).
            if let Some(bad) = cases.iter().find(|c| !valid_expanded_name(&c.name)) {
                return Err(LoadError::new(
                    loc,
                    format!(
                        "generated case name `{}` is not a valid test name",
                        bad.name.escape_debug()
                    ),
                )
                .label("the request schema's field names become part of case names")
                .help("field names of letters, digits, `_` and `-` only"));
            }
            Ok(cases)
        }
        Some(g) => Err(LoadError::new(
            Location::from_yaml(file, &g.referenced),
            format!("unknown generator `{}`", g.value),
        )
        .label(match did_you_mean(&g.value, ["boundaries"]) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "the only generator is `boundaries`".into(),
        })),
    }
}

fn check_name(name: &str, loc: &Location) -> Result<(), LoadError> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(
            LoadError::new(loc.clone(), format!("invalid case name `{name}`"))
                .label("use letters, digits, `_` and `-` (it becomes a test name)"),
        );
    }
    Ok(())
}

/// One item of `each.values`: a `low..=high` range or one value.
enum EachItem {
    Range(i64, i64),
    One(String),
}

impl EachItem {
    fn len(&self) -> u128 {
        match self {
            EachItem::Range(a, b) => (i128::from(*b) - i128::from(*a) + 1) as u128,
            EachItem::One(_) => 1,
        }
    }

    /// The values, one at a time (a range is never built as a list).
    fn values(&self) -> Box<dyn Iterator<Item = String> + '_> {
        match self {
            EachItem::Range(a, b) => Box::new((*a..=*b).map(|i| i.to_string())),
            EachItem::One(v) => Box::new(std::iter::once(v.clone())),
        }
    }
}

/// The items of `each.values`, ranges unexpanded; a range larger than
/// `max` values (the run's case limit) is an error by itself.
fn each_items(c: &Compiler, n: &Node, max: usize) -> Result<Vec<EachItem>, LoadError> {
    let scalar = |n: &Node| -> Result<String, LoadError> {
        match c.value(n)? {
            serde_json::Value::String(s) => Ok(s),
            serde_json::Value::Number(x) => Ok(x.to_string()),
            _ => Err(c.expected(n, "a number or a string")),
        }
    };
    let mut out = Vec::new();
    let items: Vec<String> = match &n.value {
        NodeValue::Seq(items) => items.iter().map(scalar).collect::<Result<_, _>>()?,
        _ => scalar(n)?
            .split(|ch: char| ch == ',' || ch.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    for item in items {
        if let Some((a, b)) = item.split_once("..=") {
            let (Ok(a), Ok(b)) = (a.trim().parse::<i64>(), b.trim().parse::<i64>()) else {
                return Err(c.expected(n, "values like `101..=110`"));
            };
            let range = EachItem::Range(a, b);
            if b < a || range.len() > max as u128 {
                return Err(LoadError::new(
                    c.loc(&n.loc),
                    format!("range `{item}` is empty or too large"),
                )
                .label(format!(
                    "use `low..=high` with at most {max} values (`--max-cases`)"
                )));
            }
            out.push(range);
        } else {
            out.push(EachItem::One(item));
        }
    }
    Ok(out)
}

fn merge_request(base: &RawRequest, over: &RawRequest) -> RawRequest {
    let headers = match (&base.headers, &over.headers) {
        (
            Some(Node {
                value: NodeValue::Map(a),
                loc,
            }),
            Some(Node {
                value: NodeValue::Map(b),
                ..
            }),
        ) => {
            let mut merged: Vec<(Spanned<String>, Node)> = a
                .iter()
                .filter(|(k, _)| {
                    !b.iter()
                        .any(|(k2, _)| k2.value.eq_ignore_ascii_case(&k.value))
                })
                .cloned()
                .collect();
            merged.extend(b.iter().cloned());
            Some(Node {
                value: NodeValue::Map(merged),
                loc: *loc,
            })
        }
        (a, b) => b.clone().or_else(|| a.clone()),
    };
    // A case that gives any body kind replaces the default body entirely.
    let case_has_body = over.query.is_some() || over.body.is_some() || over.raw_body.is_some();
    let pick =
        |a: &Option<Node>, b: &Option<Node>| if case_has_body { b.clone() } else { a.clone() };
    RawRequest {
        method: over.method.clone().or_else(|| base.method.clone()),
        path: over.path.clone().or_else(|| base.path.clone()),
        headers,
        auth: over.auth.clone().or_else(|| base.auth.clone()),
        query: pick(&base.query, &over.query),
        body: pick(&base.body, &over.body),
        raw_body: if case_has_body {
            over.raw_body.clone()
        } else {
            base.raw_body.clone()
        },
    }
}

fn merge_expect(base: &RawExpect, over: &RawExpect) -> RawExpect {
    RawExpect {
        status: over.status.clone().or_else(|| base.status.clone()),
        json: over.json.clone().or_else(|| base.json.clone()),
        schema: over.schema.clone().or_else(|| base.schema.clone()),
        body: over.body.clone().or_else(|| base.body.clone()),
        match_mode: over.match_mode.clone().or_else(|| base.match_mode.clone()),
        rules: over.rules.clone().or_else(|| base.rules.clone()),
        rejected: over.rejected.clone().or_else(|| base.rejected.clone()),
    }
}

fn compile(
    suite: &str,
    name: String,
    file: &Arc<PathBuf>,
    rc: &RawCase,
    req: &RawRequest,
    exp: &RawExpect,
    opts: &LoadOptions,
) -> Result<Case, LoadError> {
    let (vars, release) = (&opts.vars, opts.release);
    let c = Compiler { file, vars };
    let source = Location::from_yaml(file, &rc.name.referenced);
    let text = |s: &Spanned<String>| -> Result<String, LoadError> {
        match vars.expand(&s.value, &c.loc(&s.referenced))? {
            Expanded::Typed(v) => Ok(v.to_string()),
            Expanded::Text(t) => Ok(t),
        }
    };
    let method = match &req.method {
        Some(m) => text(m)?.to_ascii_uppercase(),
        None => {
            return Err(LoadError::new(source, "the case has no `request.method`")
                .label("set `method:` here or in the folder's _defaults.yaml"))
        }
    };
    let path = match &req.path {
        Some(p) => {
            let path = text(p)?;
            // Checked after expansion: a variable can carry `@host` as well.
            check_request_path(&path).map_err(|e| {
                LoadError::new(c.loc(&p.referenced), e.message)
                    .label(e.fix)
                    .help("a request path is an absolute path below the target's base URL, e.g. /rest/cmsapp/v1/openapi/agent/agentbyworkno")
            })?;
            path
        }
        None => {
            return Err(LoadError::new(source, "the case has no `request.path`")
                .label("set `path:` here or in the folder's _defaults.yaml"))
        }
    };
    let mut headers = Vec::new();
    if let Some(h) = &req.headers {
        let NodeValue::Map(entries) = &h.value else {
            return Err(c.expected(h, "a mapping of header names to values"));
        };
        for (k, v) in entries {
            if k.value.eq_ignore_ascii_case("authorization") {
                return Err(LoadError::new(
                    c.loc(&k.referenced),
                    "Authorization cannot be set in a case file",
                )
                .label(
                    "use `auth:` (signed, none, blank, garbled, ...); keys come from CMS_AK/CMS_SK",
                ));
            }
            match &v.value {
                NodeValue::Null => {}
                NodeValue::Str(_) | NodeValue::Int(_) | NodeValue::UInt(_) => {
                    let val = match c.value(v)? {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    headers.push((k.value.clone(), val));
                }
                _ => return Err(c.expected(v, "a header value (string) or `~` to remove it")),
            }
        }
    }
    let kinds = [
        req.query.is_some(),
        req.body.is_some(),
        req.raw_body.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() > 1 {
        return Err(
            LoadError::new(source, "a request has one of `query`, `body` or `raw_body`")
                .label("keep only one"),
        );
    }
    let body = if let Some(q) = &req.query {
        match c.value(q)? {
            serde_json::Value::Object(m) => Body::Query(m),
            _ => return Err(c.expected(q, "a mapping of Table 2 fields (ccId, vdn, agentId)")),
        }
    } else if let Some(b) = &req.body {
        Body::Json(c.value(b)?)
    } else if let Some(r) = &req.raw_body {
        Body::Raw(text(r)?)
    } else {
        Body::Empty
    };
    let auth = match &req.auth {
        None => AuthMode::Signed,
        Some(a) => word_value(&AuthMode::ALL, &a.value).ok_or_else(|| {
            unknown_word(&c, a, "auth mode", AuthMode::ALL.iter().map(|(n, _)| *n))
        })?,
    };
    let status_source = exp
        .status
        .as_ref()
        .map_or(source.clone(), |n| c.loc(&n.loc));
    let status = match &exp.status {
        None => vec![200],
        Some(n) => status_list(&c, n)?,
    };
    let exact = match &exp.match_mode {
        None => false,
        Some(m) if m.value == "subset" => false,
        Some(m) if m.value == "exact" => true,
        Some(m) => return Err(unknown_word(&c, m, "match mode", ["subset", "exact"])),
    };
    let body_matcher = exp.body.as_ref().map(|b| c.matcher(b, exact)).transpose()?;
    let mut rules = Vec::new();
    for r in exp.rules.iter().flatten() {
        let rule = word_value(&Rule::ALL, &r.value)
            .ok_or_else(|| unknown_word(&c, r, "rule", Rule::ALL.iter().map(|(n, _)| *n)))?;
        rules.push((rule, c.loc(&r.referenced)));
    }
    let tags = rc.tags.iter().map(|t| t.value.clone()).collect();
    Ok(Case {
        suite: suite.to_string(),
        name,
        description: rc.description.clone(),
        tags,
        source,
        request: Request {
            method,
            path,
            headers,
            body,
            auth,
        },
        expect: Expect {
            status,
            status_source,
            json: exp.json.as_ref().is_some_and(|j| j.value),
            // `schema: none` switches off a folder default.
            schema: exp
                .schema
                .as_ref()
                .filter(|s| s.value != "none")
                .map(|s| (s.value.clone(), c.loc(&s.referenced))),
            body: body_matcher,
            rules,
            release,
            snapshot: None,
            rejected: exp
                .rejected
                .as_ref()
                .filter(|r| r.value)
                .map(|r| c.loc(&r.referenced)),
        },
    })
}

fn status_list(c: &Compiler, n: &Node) -> Result<Vec<u16>, LoadError> {
    let one = |n: &Node| match &n.value {
        NodeValue::Int(i) if (100..=599).contains(i) => Ok(*i as u16),
        _ => Err(c.expected(n, "an HTTP status code (100-599)")),
    };
    match &n.value {
        NodeValue::Seq(items) if !items.is_empty() => items.iter().map(one).collect(),
        _ => Ok(vec![one(n)?]),
    }
}

fn unknown_word<'a>(
    c: &Compiler,
    s: &Spanned<String>,
    what: &str,
    choices: impl IntoIterator<Item = &'a str> + Clone,
) -> LoadError {
    let all: Vec<&str> = choices.clone().into_iter().collect();
    let e = LoadError::new(
        c.loc(&s.referenced),
        format!("unknown {what} `{}`", s.value),
    );
    match did_you_mean(&s.value, choices) {
        Some(m) => e.label(format!("did you mean `{m}`?")),
        None => e.label(format!("not a {what}")),
    }
    .help(format!("{what}s: {}", all.join(", ")))
}

fn check_unique(cases: &[Case], errors: &mut Vec<LoadError>) {
    let mut seen: BTreeMap<String, &Location> = BTreeMap::new();
    for c in cases {
        let id = c.id();
        if let Some(first) = seen.get(&id) {
            errors.push(
                LoadError::new(c.source.clone(), format!("duplicate case `{id}`"))
                    .label(format!("first defined at {first}"))
                    .help("case names must be unique within a suite (folder)"),
            );
        } else {
            seen.insert(id, &c.source);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn tmp(tag: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("cms-contract-load-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn defaults_and_variables_apply() {
        let d = tmp("defaults");
        write(&d, "s/_defaults.yaml", "request:\n  method: POST\n  path: /p\n  headers:\n    Content-Type: application/json\nexpect:\n  status: 200\n  rules: [echo_work_no]\n");
        write(&d, "s/a.yaml", "cases:\n  - name: one\n    request:\n      query: {ccId: 1, vdn: 1, agentId: \"${agent}\"}\n    expect:\n      body:\n        resultCode: \"0100000\"\n        resultDesc: {workNo: $integer, status: {$gte: 0, $lte: 8}}\n");
        let mut vars = Vars::new();
        vars.set("agent", "101", "test");
        let cases = load_paths(
            &[d.join("s")],
            &LoadOptions {
                vars,
                ..LoadOptions::default()
            },
        )
        .unwrap();
        assert_eq!(cases.len(), 1);
        let c = &cases[0];
        assert_eq!(c.id(), "s::one");
        assert_eq!(c.request.method, "POST");
        assert_eq!(
            c.request.headers,
            vec![("Content-Type".to_string(), "application/json".to_string())]
        );
        let Body::Query(q) = &c.request.body else {
            panic!("query body expected")
        };
        assert_eq!(q["agentId"], serde_json::json!(101));
        assert_eq!(c.expect.rules[0].0, Rule::EchoWorkNo);
        assert_eq!(c.source.line, 2);
    }

    #[test]
    fn unknown_key_is_located_with_a_suggestion() {
        let d = tmp("unknown");
        let f = write(
            &d,
            "s/a.yaml",
            "cases:\n  - name: one\n    expcet:\n      status: 200\n",
        );
        let errs = load_paths(&[f], &LoadOptions::default()).unwrap_err();
        let e = &errs.0[0];
        assert_eq!(e.message, "unknown field `expcet`");
        assert_eq!((e.location.line, e.location.column), (3, 5));
        assert_eq!(e.label.as_deref(), Some("did you mean `expect`?"));
    }

    #[test]
    fn empty_folder_and_empty_file_fail() {
        let d = tmp("empty");
        std::fs::create_dir_all(d.join("none")).unwrap();
        let errs = load_paths(&[d.join("none")], &LoadOptions::default()).unwrap_err();
        assert!(errs.0[0].message.starts_with("no case files"), "{errs:?}");
        let f = write(&d, "s/a.yaml", "cases: []\n");
        let errs = load_paths(&[f], &LoadOptions::default()).unwrap_err();
        assert_eq!(errs.0[0].message, "the file holds no cases");
    }

    #[test]
    fn each_expands_lists_and_ranges() {
        let d = tmp("each");
        let f = write(&d, "s/a.yaml", "cases:\n  - name: inv\n    each: {var: a, values: \"101..=103, 201\"}\n    request: {method: POST, path: /p, query: {agentId: \"${a}\"}}\n");
        let cases = load_paths(&[f], &LoadOptions::default()).unwrap();
        let names: Vec<String> = cases.iter().map(|c| c.name.clone()).collect();
        assert_eq!(
            names,
            ["inv::a_101", "inv::a_102", "inv::a_103", "inv::a_201"]
        );
    }

    #[test]
    fn duplicate_names_and_bad_markers_are_errors() {
        let d = tmp("dup");
        let f = write(&d, "s/a.yaml", "cases:\n  - name: x\n    request: {method: POST, path: /p}\n  - name: x\n    request: {method: POST, path: /p}\n");
        let errs = load_paths(&[f], &LoadOptions::default()).unwrap_err();
        assert_eq!(errs.0[0].message, "duplicate case `s::x`");
        assert_eq!(errs.0[0].location.line, 4);
        let f = write(&d, "t/a.yaml", "cases:\n  - name: x\n    request: {method: POST, path: /p}\n    expect:\n      body: {a: $intger}\n");
        let errs = load_paths(&[f], &LoadOptions::default()).unwrap_err();
        assert_eq!(errs.0[0].message, "unknown marker `$intger`");
        assert_eq!(errs.0[0].label.as_deref(), Some("did you mean `$integer`?"));
    }

    #[test]
    fn yaml_mistakes_are_worded_for_case_authors() {
        let opts = LoadOptions::default();
        let err = |text: &str| {
            load_str(Path::new("s/a.yaml"), text, &opts)
                .unwrap_err()
                .0
                .remove(0)
        };
        let e = err("cases:\n  - name: ~\n");
        assert_eq!(
            (e.message.as_str(), e.location.line),
            ("expected a string, found null", 2)
        );
        let e = err(
            "cases:\n  - name: a\n    request: {method: POST, path: /p, query: {vdn: 1, vdn: 2}}\n",
        );
        assert_eq!(e.message, "duplicate key `vdn`");
        assert_eq!(e.label.as_deref(), Some("remove one of them"));
        let e =
            err("cases:\n  - name: a\n    request: {method: POST, path: /p, body: {x: .inf}}\n");
        assert_eq!(e.message, "`.inf` is not a JSON number");
        let e = err("cases:\n  - name: a\n    tags: oops\n");
        assert_eq!(
            (e.message.as_str(), e.location.line),
            ("expected a list", 3)
        );
    }

    #[test]
    fn request_paths_must_stay_below_the_base_url() {
        let text = "cases:\n  - name: a\n    request:\n      method: POST\n      path: \"@127.0.0.1:9/x\"\n";
        let e = load_str(Path::new("s/a.yaml"), text, &LoadOptions::default())
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(
            e.render_with_source(Some(text)),
            "error: request path \"@127.0.0.1:9/x\" must start with `/`\n --> s/a.yaml:5:13\n  |\n5 |       path: \"@127.0.0.1:9/x\"\n  |             ^ start it with `/`; text before the first `/` would become part of the host\n  = help: a request path is an absolute path below the target's base URL, e.g. /rest/cmsapp/v1/openapi/agent/agentbyworkno\n"
        );
        // Checked after expansion: a variable can carry the authority too.
        let mut vars = Vars::new();
        vars.set("p", ".evil.example/x", "test");
        let opts = LoadOptions {
            vars,
            ..LoadOptions::default()
        };
        let text = "cases:\n  - name: a\n    request: {method: POST, path: \"${p}\"}\n";
        let e = load_str(Path::new("s/a.yaml"), text, &opts)
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(
            e.message,
            "request path \".evil.example/x\" must start with `/`"
        );
        assert_eq!((e.location.line, e.location.column), (3, 35));
        for (path, why) in [
            ("//evil.example/x", "must not start with `//`"),
            ("/a\\\\b", "holds a `\\`"),
            ("/a\\u0001b", "holds a control character"),
        ] {
            let text =
                format!("cases:\n  - name: a\n    request: {{method: POST, path: \"{path}\"}}\n");
            let e = load_str(Path::new("s/a.yaml"), &text, &LoadOptions::default())
                .unwrap_err()
                .0
                .remove(0);
            assert!(e.message.ends_with(why), "{path}: {}", e.message);
        }
    }

    #[test]
    fn huge_each_ranges_are_errors_not_panics() {
        let opts = LoadOptions::default();
        for range in [
            "-9223372036854775808..=9223372036854775807",
            "1..=200000",
            "5..=1",
        ] {
            let text = format!("cases:\n  - name: a\n    each: {{var: x, values: \"{range}\"}}\n    request: {{method: POST, path: /p}}\n");
            let e = load_str(Path::new("s/a.yaml"), &text, &opts).unwrap_err();
            assert!(
                e.0[0].message.contains("is empty or too large"),
                "{range}: {}",
                e.0[0].message
            );
        }
    }

    #[test]
    fn each_values_that_name_paths_are_located_errors() {
        let text = |values: &str| {
            format!("cases:\n  - name: inv\n    each: {{var: a, values: {values}}}\n    request: {{method: POST, path: /p}}\n")
        };
        let opts = LoadOptions::default();
        for bad in [
            "\"../x\"",
            "[\"a/b\"]",
            "[\"a\\\\b\"]",
            "[\"..\"]",
            "[\"a\\u0000b\"]",
            "[\"a\\nb\"]",
        ] {
            let e = load_str(Path::new("s/a.yaml"), &text(bad), &opts)
                .unwrap_err()
                .0
                .remove(0);
            assert!(
                e.message.contains("cannot be part of a case name"),
                "{bad}: {e:?}"
            );
            assert_eq!((e.location.line, e.location.column), (3, 28), "{bad}");
        }
        // Numbers and plain words keep their names; other characters are
        // replaced and a hash keeps distinct values apart.
        let cases = load_str(
            Path::new("s/a.yaml"),
            &text("[-1, 1.5, HW1, \"a b\", \"a+b\"]"),
            &opts,
        )
        .unwrap();
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(&names[..3], ["inv::a_-1", "inv::a_1.5", "inv::a_HW1"]);
        assert!(names[3].starts_with("inv::a_a_b-") && names[4].starts_with("inv::a_a_b-"));
        assert_ne!(names[3], names[4]);
        assert!(names.iter().all(|n| valid_expanded_name(n)), "{names:?}");
    }

    #[test]
    fn each_values_from_variables_say_where_the_variable_was_set() {
        let mut vars = Vars::new();
        vars.set("known", "101, ../../../../tmp/x", "--var");
        let opts = LoadOptions {
            vars,
            ..LoadOptions::default()
        };
        let text = "cases:\n  - name: inv\n    each: {var: agent, values: \"${known}\"}\n    request: {method: POST, path: /p}\n";
        let e = load_str(Path::new("s/a.yaml"), text, &opts)
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(
            e.message,
            "`each` value `../../../../tmp/x` cannot be part of a case name"
        );
        assert_eq!(
            e.label.as_deref(),
            Some(
                "a path separator is not allowed: values become test names and snapshot file names"
            )
        );
        assert_eq!(
            e.help.as_deref(),
            Some("the values come from variable `known` (--var known=...): give values of letters, digits, `_`, `-` and `.` there")
        );
        let text = "cases:\n  - name: inv\n    each: {var: \"a/b\", values: [1]}\n    request: {method: POST, path: /p}\n";
        let e = load_str(Path::new("s/a.yaml"), text, &LoadOptions::default())
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(e.message, "invalid variable name `a/b`");
    }

    /// `f` on another thread, failing the test if it has not finished in
    /// `secs` (loading once never ended on a symlink loop or a FIFO).
    #[cfg(unix)]
    fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(secs))
            .expect("loading did not finish in time")
    }

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let ok = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mkfifo {}", path.display());
    }

    const ONE_CASE: &str = "cases:\n  - name: one\n    request: {method: POST, path: /p}\n";

    #[cfg(unix)]
    #[test]
    fn symlink_loops_end_with_a_warning() {
        let d = tmp("loops");
        write(&d, "s/a.yaml", ONE_CASE);
        std::os::unix::fs::symlink(".", d.join("s/here")).unwrap();
        std::os::unix::fs::symlink(".", d.join("s/again")).unwrap();
        std::os::unix::fs::symlink("..", d.join("s/up")).unwrap();
        let root = d.join("s");
        let (cases, warnings) = within(5, move || {
            let mut w = Vec::new();
            let cases = load_paths_with_warnings(&[root], &LoadOptions::default(), &mut w);
            (cases, w)
        });
        let ids: Vec<String> = cases.unwrap().iter().map(Case::id).collect();
        assert_eq!(ids, ["s::one"]);
        let skipped: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        // `up` leads to the folder above, whose `s` was searched already.
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert!(
            skipped[2].contains("s/up/s: folder already searched"),
            "{skipped:?}"
        );
        assert!(
            skipped[0].starts_with("warning: skipped ")
                && skipped[0].ends_with("s/again: folder already searched (a symbolic link loop or a second link to it)"),
            "{skipped:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_named_like_case_files_are_skipped_with_a_warning() {
        let d = tmp("special");
        write(&d, "s/a.yaml", ONE_CASE);
        mkfifo(&d.join("s/fifo.yaml"));
        std::os::unix::fs::symlink("/dev/zero", d.join("s/zero.yaml")).unwrap();
        let root = d.join("s");
        let (cases, warnings) = within(5, move || {
            let mut w = Vec::new();
            let cases = load_paths_with_warnings(&[root], &LoadOptions::default(), &mut w);
            (cases, w)
        });
        assert_eq!(cases.unwrap().len(), 1);
        let skipped: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(
            skipped[0].ends_with("s/fifo.yaml: not a regular file (a FIFO)"),
            "{skipped:?}"
        );
        assert!(
            skipped[1].ends_with("s/zero.yaml: not a regular file (a character device)"),
            "{skipped:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn oversized_and_special_files_are_located_errors() {
        let d = tmp("oversized");
        // A regular file over the cap, in a folder and given by name.
        let big = write(
            &d,
            "s/big.yaml",
            &format!("{ONE_CASE}#{}\n", "x".repeat(1 << 20)),
        );
        let root = d.join("s");
        let errs = within(5, move || load_paths(&[root], &LoadOptions::default())).unwrap_err();
        assert_eq!(
            errs.0[0].message,
            format!("cannot read `{}`: larger than 1 MiB", big.display())
        );
        assert_eq!(
            errs.0[0].help.as_deref(),
            Some("split it into several files")
        );
        assert!(errs.0[0].render().starts_with("error: cannot read"));

        // Given by name, a FIFO or a device is an error, not a skip.
        mkfifo(&d.join("t.yaml"));
        std::os::unix::fs::symlink("/dev/zero", d.join("z.yaml")).unwrap();
        for (name, what) in [("t.yaml", "a FIFO"), ("z.yaml", "a character device")] {
            let path = d.join(name);
            let errs = within(5, move || load_paths(&[path], &LoadOptions::default())).unwrap_err();
            assert!(
                errs.0[0]
                    .message
                    .ends_with(&format!("is not a case file or folder ({what})")),
                "{errs:?}"
            );
        }

        // A `_defaults.yaml` that is not a regular file: an error, since
        // cases without their folder's checks would pass too easily.
        write(&d, "u/a.yaml", ONE_CASE);
        mkfifo(&d.join("u/_defaults.yaml"));
        write(&d, "v/a.yaml", ONE_CASE);
        std::os::unix::fs::symlink("/dev/zero", d.join("v/_defaults.yaml")).unwrap();
        for dir in ["u", "v"] {
            let root = d.join(dir);
            let errs = within(5, move || load_paths(&[root], &LoadOptions::default())).unwrap_err();
            assert!(
                errs.0[0]
                    .message
                    .contains("_defaults.yaml`: not a regular file"),
                "{errs:?}"
            );
            assert!(errs.0[0].render().contains("_defaults.yaml"));
        }
    }

    /// 40 ranges of 100,000 values in one `each` (a ~1 KB file).
    fn forty_ranges() -> String {
        let ranges: Vec<String> = (0..40i64)
            .map(|i| format!("{}..={}", i * 100_000 + 1, (i + 1) * 100_000))
            .collect();
        format!(
            "cases:\n  - name: many\n    each: {{var: a, values: \"{}\"}}\n    request: {{method: POST, path: /p}}\n",
            ranges.join(", ")
        )
    }

    #[test]
    fn the_case_limit_is_counted_before_any_case_is_built() {
        let text = forty_ranges();
        assert!(text.len() < 1200, "{}", text.len());
        let d = tmp("limit");
        let f = write(&d, "s/a.yaml", &text);
        let started = std::time::Instant::now();
        let from_str = load_str(&f, &text, &LoadOptions::default()).unwrap_err();
        let from_paths = load_paths(&[f], &LoadOptions::default()).unwrap_err();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        for e in [&from_str.0[0], &from_paths.0[0]] {
            assert_eq!(
                e.message,
                "too many cases: 4000000 with these, over the limit of 100000"
            );
            assert_eq!((e.location.line, e.location.column), (3, 28));
            assert_eq!(
                e.label.as_deref(),
                Some("this `each` expands to 4000000 cases")
            );
            assert_eq!(
                e.help.as_deref(),
                Some("raise the limit with `--max-cases N`, or use fewer values")
            );
        }
    }

    #[test]
    fn the_case_limit_is_run_wide_and_counts_generated_cases() {
        let opts = |max_cases| LoadOptions {
            schema_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/agentbyworkno"),
            max_cases,
            ..LoadOptions::default()
        };
        // 2 values x 24 boundary cases.
        let text = "cases:\n  - name: b\n    each: {var: v, values: [1, 2]}\n    generate: boundaries\n    request: {method: POST, path: /p, query: {ccId: 1, vdn: 1, agentId: 101}}\n";
        assert_eq!(
            load_str(Path::new("s/a.yaml"), text, &opts(48))
                .unwrap()
                .len(),
            48
        );
        let e = load_str(Path::new("s/a.yaml"), text, &opts(47))
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(
            e.message,
            "too many cases: 48 with these, over the limit of 47"
        );
        assert_eq!(
            e.label.as_deref(),
            Some("this `each` times 24 generated cases makes 48 cases")
        );
        let text = "cases:\n  - name: b\n    generate: boundaries\n    request: {method: POST, path: /p, query: {ccId: 1, vdn: 1, agentId: 101}}\n";
        let e = load_str(Path::new("s/a.yaml"), text, &opts(23))
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(e.label.as_deref(), Some("this `generate` makes 24 cases"));
        assert_eq!(e.location.line, 3);

        // Across files: the second file crosses the limit.
        let d = tmp("limit-run");
        write(&d, "s/a.yaml", "cases:\n  - name: a\n    each: {var: v, values: \"1..=3\"}\n    request: {method: POST, path: /p}\n");
        let second = write(&d, "s/b.yaml", "cases:\n  - name: b\n    request: {method: POST, path: /p}\n  - name: c\n    request: {method: POST, path: /p}\n");
        assert_eq!(load_paths(&[d.join("s")], &opts(5)).unwrap().len(), 5);
        let e = load_paths(&[d.join("s")], &opts(4))
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(*e.location.file, second);
        assert_eq!((e.location.line, e.location.column), (4, 11));
        assert_eq!(e.label.as_deref(), Some("this case makes 1 case"));

        // A single range over the limit says so.
        let text = "cases:\n  - name: a\n    each: {var: v, values: \"1..=11\"}\n    request: {method: POST, path: /p}\n";
        let e = load_str(Path::new("s/a.yaml"), text, &opts(10))
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(e.message, "range `1..=11` is empty or too large");
        assert_eq!(
            e.label.as_deref(),
            Some("use `low..=high` with at most 10 values (`--max-cases`)")
        );
    }
}
