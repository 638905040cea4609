//! Finding case files, applying folder defaults, resolving each suite's
//! contract and release, and building a [`CaseSet`]. Every problem is
//! collected with its location.
//!
//! An `each:` over ranges is kept unexpanded: its first value is built at
//! load time (so `check` finds its mistakes) and the rest one at a time when
//! the set is iterated, so a million-case range costs the memory of one case.

use super::compile::{compile, merge_expect, merge_request};
use super::context::case_context;
use super::error::{did_you_mean, LoadError, LoadErrors};
use super::expand::{check_name, each_items, valid_expanded_name, Budget, EachItem};
use super::files::{self, LoadWarning};
use super::generate;
use super::matcher::Compiler;
use super::raw::{self, RawCase, RawDefaults, RawFile};
use super::set::{CaseSet, Entry, Template};
use super::vars::Vars;
use super::yaml::{parse_yaml, parse_yaml_str};
use super::Case;
use crate::location::Location;
use crate::schema::SchemaCatalog;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What loading needs besides the files.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Variables for `${name}`.
    pub vars: Vars,
    /// The contracts and their schemas; a suite naming a `contract:` needs it.
    pub catalog: Option<Arc<SchemaCatalog>>,
    /// The release the run expects (`--release`), for every contract that
    /// documents it; `None`: each contract's default.
    pub release: Option<String>,
    /// The contract of cases whose folder names none (for tools and tests
    /// that load a file alone).
    pub default_contract: Option<String>,
    /// Most cases one load may produce, after `each:` and `generate:`
    /// expansion (default [`DEFAULT_MAX_CASES`]; `--max-cases`). Counted
    /// before any case is built, so a few lines cannot ask for millions.
    pub max_cases: usize,
}

/// Default of [`LoadOptions::max_cases`].
pub const DEFAULT_MAX_CASES: usize = 1_000_000;

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            vars: Vars::default(),
            catalog: None,
            release: None,
            default_contract: None,
            max_cases: DEFAULT_MAX_CASES,
        }
    }
}

/// Name of the per-folder defaults file.
pub const DEFAULTS_FILE: &str = "_defaults.yaml";

/// Load every case under `paths` (files or folders, searched for `*.yaml`).
/// What was skipped on the way is dropped: front ends use
/// [`load_paths_with_warnings`] and show it.
pub fn load_paths(paths: &[PathBuf], opts: &LoadOptions) -> Result<CaseSet, LoadErrors> {
    load_paths_with_warnings(paths, opts, &mut Vec::new())
}

/// [`load_paths`], adding to `warnings` what was skipped (files that are
/// not regular files, folders reached twice through links), also when
/// loading fails.
pub fn load_paths_with_warnings(
    paths: &[PathBuf],
    opts: &LoadOptions,
    warnings: &mut Vec<LoadWarning>,
) -> Result<CaseSet, LoadErrors> {
    let mut errors = Vec::new();
    let mut set = CaseSet::default();
    let mut defaults_cache: HashMap<PathBuf, Option<RawDefaults>> = HashMap::new();
    let mut budget = Budget::new(opts.max_cases);
    // What each variable is for, from the folders' `vars:`.
    let mut purposes: BTreeMap<String, String> = BTreeMap::new();
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
            for (k, v) in &defaults.vars {
                purposes.entry(k.clone()).or_insert_with(|| v.clone());
            }
            match parse_yaml::<RawFile>(&file, raw::FILE_KEYS) {
                Ok(raw) => build_file(
                    &file,
                    raw,
                    &defaults,
                    opts,
                    &mut budget,
                    &mut set,
                    &mut errors,
                ),
                Err(e) => errors.push(e),
            }
        }
    }
    set.check_unique(&mut errors);
    // The invariants of the contracts the cases bind (compiled as they
    // were bound): their errors once each, where the manifest writes them.
    for c in opts.catalog.iter().flat_map(|cat| cat.contracts().iter()) {
        errors.extend_from_slice(c.invariants.errors_so_far());
    }
    super::vars::sum_up_undefined(&mut errors, &purposes, &opts.vars);
    if errors.is_empty() && set.is_empty() {
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
        Ok(set)
    } else {
        Err(LoadErrors(errors))
    }
}

/// Load the cases of one case file given as text (`path` names it in errors
/// and gives the suite), without folder defaults, every case built. For
/// tools, tests and fuzzing.
pub fn load_str(path: &Path, text: &str, opts: &LoadOptions) -> Result<Vec<Case>, LoadErrors> {
    let raw: RawFile =
        parse_yaml_str(path, text, raw::FILE_KEYS).map_err(|e| LoadErrors(vec![e]))?;
    let mut budget = Budget::new(opts.max_cases);
    let (mut set, mut errors) = (CaseSet::default(), Vec::new());
    build_file(
        path,
        raw,
        &RawDefaults::default(),
        opts,
        &mut budget,
        &mut set,
        &mut errors,
    );
    set.check_unique(&mut errors);
    if errors.is_empty() {
        set.to_vec()
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
            merged.contract = d.contract.clone().or(merged.contract);
            merged.release = d.release.clone().or(merged.release);
            merged.releases = d.releases.clone().or(merged.releases);
            merged.vars.extend(d.vars.clone());
            merged.request = merge_request(&merged.request, &d.request);
            merged.expect = merge_expect(&merged.expect, &d.expect);
        }
    }
    merged
}

fn build_file(
    path: &Path,
    raw: RawFile,
    defaults: &RawDefaults,
    opts: &LoadOptions,
    budget: &mut Budget,
    set: &mut CaseSet,
    errors: &mut Vec<LoadError>,
) {
    let file = Arc::new(path.to_path_buf());
    if raw.cases.is_empty() {
        errors.push(
            LoadError::new(Location::file_only(path), "the file holds no cases")
                .help("add at least one entry under `cases:` or delete the file"),
        );
        return;
    }
    let suite = path
        .parent()
        .and_then(|p| p.file_name())
        .map_or_else(|| "cases".to_string(), |n| n.to_string_lossy().into_owned());
    for rc in raw.cases {
        if let Err(e) = build_case(&suite, &file, rc, defaults, opts, budget, set) {
            errors.push(e);
        }
    }
}

fn build_case(
    suite: &str,
    file: &Arc<PathBuf>,
    rc: RawCase,
    defaults: &RawDefaults,
    opts: &LoadOptions,
    budget: &mut Budget,
    set: &mut CaseSet,
) -> Result<(), LoadError> {
    let name_loc = Location::from_yaml(file, &rc.name.referenced);
    check_name(&rc.name.value, &name_loc)?;
    let request = merge_request(&defaults.request, &rc.request);
    let expect = merge_expect(&defaults.expect, &rc.expect);
    let cx = case_context(file, &rc, defaults, opts)?;
    let catalog = opts.catalog.as_deref();
    // How many cases one value makes, known before any is built.
    let per_value = match &rc.generate {
        Some(g) if g.value == "boundaries" => {
            let loc = Location::from_yaml(file, &g.referenced);
            match (&cx.contract, &cx.release, catalog) {
                (Some(c), Some(r), Some(cat)) => {
                    let s = cat
                        .get(c, r)
                        .map_err(|e| LoadError::new(loc.clone(), e.to_string()))?;
                    generate::count(c, &s, &loc)? as u128
                }
                _ => 1,
            }
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
        let case = compile(
            suite,
            rc.name.value.clone(),
            file,
            &rc,
            &request,
            &expect,
            &cx,
        )?;
        for mut c in expand_generate(&rc, case, file, catalog)? {
            c.expect.snapshot = super::snapshot::read(file, &c.name)?;
            set.push(c);
        }
        return Ok(());
    };
    let c = Compiler {
        file,
        vars: &cx.vars,
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
    let template = Template {
        suite: suite.to_owned(),
        file: file.clone(),
        request,
        expect,
        cx,
        var,
        values_loc,
        items,
        catalog: opts.catalog.clone(),
        rc,
        // An entry that is not a folder is refused when a case reads it.
        snapshots: !matches!(
            super::snapshot::check_dir(&super::snapshot::snapshot_dir(file)),
            Ok(false)
        ),
    };
    // Every written value is built now, and a range's first value, so that
    // loading (and `check`) finds every mistake a value can make.
    let mut eager = Vec::new();
    for item in &template.items {
        match item {
            EachItem::One(v) => eager.extend(template.build(v)?),
            EachItem::Range(a, _) => {
                template.build(&a.to_string())?;
            }
        }
    }
    if template.items.iter().all(|i| matches!(i, EachItem::One(_))) {
        for c in eager {
            set.push(c);
        }
    } else {
        set.len += (count.saturating_mul(per_value)) as usize;
        set.entries.push(Entry::Lazy(Arc::new(template)));
    }
    Ok(())
}

pub(super) fn expand_generate(
    rc: &RawCase,
    case: Case,
    file: &Arc<PathBuf>,
    catalog: Option<&SchemaCatalog>,
) -> Result<Vec<Case>, LoadError> {
    match &rc.generate {
        None => Ok(vec![case]),
        Some(g) if g.value == "boundaries" => {
            let loc = Location::from_yaml(file, &g.referenced);
            let set =
                match (&case.contract, &case.release, catalog) {
                    (Some(c), Some(r), Some(cat)) => cat
                        .get(c, r)
                        .map_err(|e| LoadError::new(loc.clone(), e.to_string()))?,
                    _ => return Err(LoadError::new(
                        loc,
                        "`generate: boundaries` needs a contract",
                    )
                    .label("name the suite's contract in its _defaults.yaml (`contract: NAME`)")),
                };
            let cases = generate::boundaries(&case, &set, &loc)?;
            // Field names come from the request schema.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Body;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn tmp(_tag: &str) -> crate::testing::TempDir {
        crate::testing::tmp()
    }

    #[test]
    fn defaults_and_variables_apply() {
        let d = tmp("defaults");
        write(&d, "s/_defaults.yaml", "request:\n  method: POST\n  path: /p\n  headers:\n    Content-Type: application/json\nexpect:\n  status: 200\n");
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
        .unwrap()
        .to_vec()
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
    fn undefined_variables_are_summed_up_in_one_error_with_templates() {
        let d = tmp("undefined");
        write(
            &d,
            "s/_defaults.yaml",
            "vars:\n  ccId: the call center (Table 2 row 1)\n  agent: a known agent\n  spare: declared, not used here\n",
        );
        write(&d, "s/a.yaml", "cases:\n  - name: one\n    request: {method: POST, path: /p, query: {ccId: \"${ccId}\", agentId: \"${agent}\"}}\n  - name: two\n    request: {method: POST, path: /p, query: {ccId: \"${ccId}\"}}\n");
        write(
            &d,
            "s/b.yaml",
            "cases:\n  - name: three\n    request: {method: POST, path: \"/p/${other}\"}\n",
        );
        let errs = load_paths(&[d.join("s")], &LoadOptions::default()).unwrap_err();
        assert_eq!(errs.0.len(), 1, "{}", errs.render());
        let text = errs.0[0].render_with_source(None);
        let a = d.join("s/a.yaml").display().to_string();
        let b = d.join("s/b.yaml").display().to_string();
        let want = r#"error: 4 variables the cases need are not defined (3 uses so far)
 --> @A:3:53
  = note: first use
      agent  a known agent
      ccId   the call center (Table 2 row 1)  [2 uses, first at @A:3:53]
      other  (no description in the suite's _defaults.yaml `vars:`)  [1 use, first at @B:3:35]
      spare  declared, not used here

    set them with flags:
      --var agent=VALUE --var ccId=VALUE --var other=VALUE --var spare=VALUE
    or in the target profile (--profile FILE):
      vars:
        agent: ""  # a known agent
        ccId: ""  # the call center (Table 2 row 1)
        other: ""
        spare: ""  # declared, not used here
  = help: or CMS_VAR_<name>=VALUE in the environment; against the embedded simulator they are set for you
"#;
        assert_eq!(text, want.replace("@A", &a).replace("@B", &b));
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
        let names: Vec<String> = cases.iter().map(|c| c.unwrap().name).collect();
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
            "1..=2000000",
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
        let ids: Vec<String> = cases.unwrap().iter().map(|c| c.unwrap().id()).collect();
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
                "too many cases: 4000000 with these, over the limit of 1000000"
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
            catalog: Some(crate::testing::catalog(&[])),
            default_contract: Some("agentbyworkno".into()),
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
