//! `contract.yaml`: the manifest's YAML form, read strictly (unknown keys are
//! errors) and checked against itself and its schema folder. Every problem
//! is a located error; loading goes on past the first.

use super::invariants::{valid_name, Invariants};
use super::raw::*;
use super::{
    BoundaryRules, Choice, CompareRules, Contract, Envelope, InconclusiveRule, OptionDef, Probe,
    Release, RequestShape, SchemaRef, Shape, Volatile,
};
use crate::case::{did_you_mean, parse_yaml, LoadError, LoadErrors, Node};
use crate::expr::Expr;
use crate::location::Location;
use serde_json::Value;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The manifest's file name inside a contract folder.
pub const MANIFEST_FILE: &str = "contract.yaml";

/// Keys of a manifest, for "did you mean" and help lines.
const MANIFEST_KEYS: &[&str] = &[
    "contract",
    "title",
    "spec",
    "method",
    "content_type",
    "releases",
    "envelopes",
    "request",
    "options",
    "probes",
    "boundaries",
    "volatile",
    "compare",
    "consts",
    "invariants",
];

/// Load every contract under `root`: each folder holding a `contract.yaml`.
pub fn load_all(root: &Path) -> Result<Vec<Contract>, LoadErrors> {
    let entries = std::fs::read_dir(root).map_err(|e| {
        LoadErrors(vec![LoadError::new(
            Location::file_only(root),
            format!("cannot list the schema folder `{}`: {e}", root.display()),
        )
        .help(
            "pass --schemas DIR, a folder of contract folders (each with contract.yaml)",
        )])
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(MANIFEST_FILE).is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(LoadErrors(vec![LoadError::new(
            Location::file_only(root),
            format!("no contract in `{}`", root.display()),
        )
        .help(
            "a contract is a folder with a contract.yaml beside its JSON Schemas",
        )]));
    }
    // Compiling a contract's CEL is most of a one-case run's start-up: the
    // contracts load side by side, and their results are taken in order.
    let loaded: Vec<Result<Contract, LoadErrors>> = std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|dir| s.spawn(|| load_contract(dir)))
            .collect();
        handles
            .into_iter()
            .zip(&dirs)
            .map(|(h, dir)| {
                h.join().unwrap_or_else(|_| {
                    Err(LoadErrors(vec![LoadError::new(
                        Location::file_only(&dir.join(MANIFEST_FILE)),
                        "loading this contract failed unexpectedly (a bug: please report it)",
                    )]))
                })
            })
            .collect()
    });
    let mut contracts = Vec::new();
    let mut errors = Vec::new();
    for c in loaded {
        match c {
            Ok(c) => contracts.push(c),
            Err(mut e) => errors.append(&mut e.0),
        }
    }
    if errors.is_empty() {
        Ok(contracts)
    } else {
        Err(LoadErrors(errors))
    }
}

/// Load the contract in folder `dir`.
pub fn load_contract(dir: &Path) -> Result<Contract, LoadErrors> {
    let path = dir.join(MANIFEST_FILE);
    let raw: RawManifest = parse_yaml(&path, MANIFEST_KEYS).map_err(|e| LoadErrors(vec![e]))?;
    let mut b = Builder {
        file: Arc::new(path.clone()),
        dir: dir.to_path_buf(),
        errors: Vec::new(),
    };
    let contract = b.build(raw);
    match contract {
        Some(c) if b.errors.is_empty() => Ok(c),
        _ => Err(LoadErrors(b.errors)),
    }
}

struct Builder {
    file: Arc<PathBuf>,
    dir: PathBuf,
    errors: Vec<LoadError>,
}

impl Builder {
    fn loc(&self, l: &serde_saphyr::Location) -> Location {
        Location::from_yaml(&self.file, l)
    }

    fn error(&mut self, at: &serde_saphyr::Location, message: String, label: &str) {
        let e = LoadError::new(self.loc(at), message).label(label);
        self.errors.push(e);
    }

    fn expr(&mut self, s: &Spanned<String>) -> Option<Expr> {
        match Expr::compile(&s.value) {
            Ok(e) => Some(e),
            Err(e) => {
                self.error(
                    &s.referenced,
                    format!("invalid CEL expression: {e}"),
                    "fix the expression",
                );
                None
            }
        }
    }

    fn pointer(&mut self, s: &Spanned<String>, what: &str) -> String {
        if !(s.value.is_empty() || s.value.starts_with('/')) {
            self.error(
                &s.referenced,
                format!("`{}` is not a JSON pointer", s.value),
                &format!("write the {what} as a JSON pointer, e.g. /resultDesc"),
            );
        }
        s.value.clone()
    }

    fn schema_file(&mut self, s: &Spanned<String>) {
        if !self.dir.join(&s.value).is_file() {
            self.error(
                &s.referenced,
                format!("no schema file `{}` in {}", s.value, self.dir.display()),
                "name a file beside contract.yaml",
            );
        }
    }

    fn build(&mut self, raw: RawManifest) -> Option<Contract> {
        let folder = self
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if raw.contract.value != folder {
            self.error(
                &raw.contract.referenced,
                format!(
                    "the contract is named `{}` but its folder is `{folder}`",
                    raw.contract.value
                ),
                "name the contract like its folder",
            );
        }
        if !valid_name(&raw.contract.value) {
            self.error(
                &raw.contract.referenced,
                format!("invalid contract name `{}`", raw.contract.value),
                "use letters, digits, `_` and `-`",
            );
        }
        let method = raw.method.value.to_ascii_uppercase();
        if hyper::Method::from_bytes(method.as_bytes()).is_err() {
            self.error(
                &raw.method.referenced,
                format!("`{method}` is not an HTTP method"),
                "e.g. POST",
            );
        }
        let envelopes = self.envelopes(raw.envelopes);
        let releases = self.releases(raw.releases, &envelopes);
        let request = self.request(raw.request);
        let options = self.options(raw.options, &request);
        let probes = self.probes(raw.probes, &options);
        let boundaries = raw.boundaries.and_then(|b| {
            for s in [&b.accepted_schema, &b.refused_schema]
                .into_iter()
                .flatten()
            {
                self.schema_file(s);
            }
            let inconclusive = match b.inconclusive {
                None => None,
                Some(i) => Some(InconclusiveRule {
                    when: Arc::new(self.expr(&i.when)?),
                    reason: i.reason,
                    source: self.loc(&i.when.referenced),
                }),
            };
            Some(BoundaryRules {
                accepted_schema: b.accepted_schema.map(|s| s.value),
                refused_schema: b.refused_schema.map(|s| s.value),
                inconclusive,
            })
        });
        let volatile = raw
            .volatile
            .into_iter()
            .map(|v| Volatile {
                key: v.key,
                except: v.except.iter().map(Node::to_json).collect(),
            })
            .collect();
        let consts = match raw.consts {
            None => Value::Object(Default::default()),
            Some(n) => match n.to_json() {
                v @ Value::Object(_) => v,
                _ => {
                    self.error(
                        &n.loc,
                        "`consts` must be a mapping".into(),
                        "name each constant",
                    );
                    Value::Null
                }
            },
        };
        let release_names: Vec<String> = releases.iter().map(|r| r.name.clone()).collect();
        // Names are checked now; expressions when the contract is first used.
        let mut seen = std::collections::BTreeSet::new();
        for ri in &raw.invariants {
            if !valid_name(&ri.name.value) {
                self.error(
                    &ri.name.referenced,
                    format!("invalid invariant name `{}`", ri.name.value),
                    "use letters, digits, `_` and `-`",
                );
            } else if !seen.insert(ri.name.value.clone()) {
                self.error(
                    &ri.name.referenced,
                    format!("duplicate invariant `{}`", ri.name.value),
                    "rename one of them",
                );
            }
        }
        let invariants = Invariants::new(raw.invariants, self.file.clone(), release_names);
        if releases.is_empty() {
            self.errors.push(
                LoadError::new(
                    Location::file_only(&self.file),
                    "the contract lists no release",
                )
                .help("add at least one entry under `releases:`"),
            );
            return None;
        }
        Some(Contract {
            name: raw.contract.value,
            title: raw.title,
            spec: raw.spec,
            method,
            content_type: raw.content_type,
            releases,
            envelopes,
            request: request?,
            options,
            probes,
            boundaries,
            volatile,
            compare: CompareRules {
                enums: raw.compare.enums,
                nullable: raw.compare.nullable,
            },
            consts,
            invariants,
            dir: self.dir.clone(),
            source: Location::file_only(&self.file),
        })
    }

    fn envelopes(&mut self, raw: BTreeMap<String, RawEnvelope>) -> BTreeMap<String, Envelope> {
        raw.into_iter()
            .map(|(name, e)| {
                let env = Envelope {
                    name: name.clone(),
                    cites: e.cites,
                    outcome: self.pointer(&e.outcome, "outcome"),
                    success: e.success,
                    invalid_parameter: e.invalid_parameter,
                    payload: self.pointer(&e.payload, "payload"),
                    payload_copy: e.payload_copy.map(|p| self.pointer(&p, "payload copy")),
                    json: Default::default(),
                };
                (name, env)
            })
            .collect()
    }

    fn releases(
        &mut self,
        raw: Vec<RawRelease>,
        envelopes: &BTreeMap<String, Envelope>,
    ) -> Vec<Release> {
        let mut out: Vec<Release> = Vec::new();
        for r in raw {
            if out.iter().any(|o| o.name == r.name.value) {
                self.error(
                    &r.name.referenced,
                    format!("duplicate release `{}`", r.name.value),
                    "rename one of them",
                );
            }
            if !envelopes.contains_key(&r.envelope.value) {
                let names: Vec<&str> = envelopes.keys().map(String::as_str).collect();
                let label = did_you_mean(&r.envelope.value, names.iter().copied()).map_or_else(
                    || format!("envelopes: {}", names.join(", ")),
                    |s| format!("did you mean `{s}`?"),
                );
                self.error(
                    &r.envelope.referenced,
                    format!("unknown envelope `{}`", r.envelope.value),
                    &label,
                );
            }
            if !r.path.value.starts_with('/') {
                self.error(
                    &r.path.referenced,
                    format!("path `{}` does not start with `/`", r.path.value),
                    "write the path below the base URL, e.g. /rest/...",
                );
            }
            if let Some(o) = &r.overlay {
                if !self.dir.join(&o.value).is_dir() {
                    self.error(
                        &o.referenced,
                        format!("no overlay folder `{}` in {}", o.value, self.dir.display()),
                        "name a folder of schema files",
                    );
                }
            }
            out.push(Release {
                name: r.name.value,
                aliases: r.aliases,
                cites: r.cites,
                path: r.path.value,
                envelope: r.envelope.value,
                overlay: r.overlay.map(|o| o.value),
            });
        }
        out
    }

    fn request(&mut self, raw: RawRequest) -> Option<RequestShape> {
        let (file, pointer) = raw
            .fields
            .value
            .split_once('#')
            .unwrap_or((&raw.fields.value, ""));
        let fields = SchemaRef {
            file: file.to_owned(),
            pointer: pointer.to_owned(),
        };
        self.schema_file(&Spanned {
            value: fields.file.clone(),
            ..raw.fields.clone()
        });
        if raw.shapes.is_empty() {
            self.errors.push(
                LoadError::new(
                    self.loc(&raw.fields.referenced),
                    "`request.shapes` is empty",
                )
                .help("give at least one shape, e.g. `flat: {schema: request.json}`"),
            );
            return None;
        }
        let mut shapes = Vec::new();
        for (name, s) in raw.shapes {
            self.schema_file(&s.schema);
            shapes.push(Shape {
                name,
                wrap: s.wrap,
                schema: s.schema.value,
            });
        }
        Some(RequestShape {
            fields,
            shape_option: raw.shape_option.map(|s| s.value),
            shapes,
        })
    }

    fn options(
        &mut self,
        raw: BTreeMap<String, RawOption>,
        request: &Option<RequestShape>,
    ) -> Vec<OptionDef> {
        let mut out = Vec::new();
        for (name, o) in raw {
            let choice = match (o.values, &o.pattern) {
                (Some(vs), None) if !vs.is_empty() => Choice::Values(vs),
                (None, Some(p)) => match regex::Regex::new(&p.value) {
                    Ok(re) => Choice::Pattern(re),
                    Err(e) => {
                        self.error(
                            &p.referenced,
                            format!("invalid pattern: {e}"),
                            "fix the regex",
                        );
                        continue;
                    }
                },
                _ => {
                    self.error(
                        &o.default.referenced,
                        format!("option `{name}` needs `values` or `pattern`, not both or neither"),
                        "say which values it takes",
                    );
                    continue;
                }
            };
            let mut def = OptionDef {
                name: name.clone(),
                cites: o.cites,
                description: o.description,
                choice,
                default: o.default.value.clone(),
                patches: BTreeMap::new(),
            };
            if let Err(why) = def.check(&def.default) {
                self.error(
                    &o.default.referenced,
                    format!(
                        "default `{}` is not a value of option `{name}`",
                        def.default
                    ),
                    &why,
                );
            }
            for (value, files) in o.patches {
                if let Err(why) = def.check(&value) {
                    self.error(
                        &o.default.referenced,
                        format!("patches for `{value}`, not a value of option `{name}`"),
                        &why,
                    );
                }
                let mut list = Vec::new();
                for (schema, patch) in files {
                    if !self.dir.join(&patch.value).is_file() {
                        self.error(
                            &patch.referenced,
                            format!("no patch file `{}` in {}", patch.value, self.dir.display()),
                            "name a JSON Patch file beside contract.yaml",
                        );
                    }
                    list.push((schema, patch.value));
                }
                def.patches.insert(value, list);
            }
            out.push(def);
        }
        if let Some(opt) = request.as_ref().and_then(|r| r.shape_option.as_ref()) {
            match out.iter().find(|o| &o.name == opt) {
                None => self.errors.push(
                    LoadError::new(
                        Location::file_only(&self.file),
                        format!("`request.shape_option` names `{opt}`, which is not an option"),
                    )
                    .help("declare it under `options:`"),
                ),
                Some(def) => {
                    let shapes: Vec<&str> = request
                        .iter()
                        .flat_map(|r| r.shapes.iter().map(|s| s.name.as_str()))
                        .collect();
                    if let Choice::Values(vs) = &def.choice {
                        for v in vs.iter().filter(|v| !shapes.contains(&v.as_str())) {
                            self.errors.push(
                                LoadError::new(
                                    Location::file_only(&self.file),
                                    format!("option `{opt}` value `{v}` names no request shape"),
                                )
                                .help(format!("shapes: {}", shapes.join(", "))),
                            );
                        }
                    }
                }
            }
        }
        out
    }

    fn probes(&mut self, raw: BTreeMap<String, RawProbe>, options: &[OptionDef]) -> Vec<Probe> {
        let mut out = Vec::new();
        for (name, p) in raw {
            if let Some(o) = &p.option {
                if !options.iter().any(|d| d.name == o.value) {
                    self.error(
                        &o.referenced,
                        format!("unknown option `{}`", o.value),
                        "declare it under `options:`",
                    );
                }
            }
            let Some(value) = self.expr(&p.value) else {
                continue;
            };
            out.push(Probe {
                name,
                cites: p.cites,
                option: p.option.map(|o| o.value),
                query: p.query.to_json(),
                value,
                source: self.loc(&p.value.referenced),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{ContractSet, OptionValues};

    /// A contract folder `name` under a fresh temp dir with this manifest.
    fn folder(tag: &str, name: &str, manifest: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!(
            "cms-contract-manifest-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(MANIFEST_FILE), manifest).unwrap();
        std::fs::write(dir.join("req.json"), r#"{"type":"object"}"#).unwrap();
        dir
    }

    const TOY: &str = "contract: toy\ntitle: t\nspec: t.md\nmethod: post\ncontent_type: application/json\n\
        releases: [{name: r1, cites: c, path: /p, envelope: e}]\n\
        envelopes: {e: {cites: c, outcome: /code, success: ok, invalid_parameter: bad, payload: /data}}\n\
        request: {fields: req.json, shapes: {flat: {schema: req.json}}}\n";

    #[test]
    fn the_shipped_contracts_load() {
        let set = ContractSet::new(load_all(&crate::testing::schemas_dir()).unwrap());
        let c = set.get("agentbyworkno").unwrap();
        assert_eq!(c.release_names(), ["2024-08", "2025-11", "8.13"]);
        assert_eq!(c.envelope(c.release("8.13").unwrap()).outcome, "/result");
        assert!(c
            .invariants
            .get()
            .unwrap()
            .iter()
            .any(|i| i.name == "login_date"));
        assert_eq!(c.option("status9").unwrap().default, "rejected");
    }

    #[test]
    fn a_toy_manifest_loads_and_defaults_fill_in() {
        let c = load_contract(&folder("toy", "toy", TOY)).unwrap();
        assert_eq!(c.method, "POST");
        assert_eq!(c.request.shapes[0].name, "flat");
        assert!(c.invariants.is_empty() && c.options.is_empty());
    }

    #[test]
    fn mistakes_are_located_and_all_reported() {
        let bad = TOY
            .replace("envelope: e}", "envelope: ee}")
            .replace(
                "request:",
                "invariants: [{name: x, cites: c, expr: \"true\"}, {name: x, cites: c, expr: \"true\"}]\nrequest:",
            )
            .replace(
                "shapes: {flat: {schema: req.json}}",
                "shapes: {flat: {schema: nope.json}}",
            );
        let errs = load_contract(&folder("bad", "toy", &bad)).unwrap_err();
        let messages: Vec<&str> = errs.0.iter().map(|e| e.message.as_str()).collect();
        assert!(messages.contains(&"unknown envelope `ee`"), "{messages:?}");
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("no schema file `nope.json`")),
            "{messages:?}"
        );
        assert!(
            messages.contains(&"duplicate invariant `x`"),
            "{messages:?}"
        );
        let env = errs
            .0
            .iter()
            .find(|e| e.message == "unknown envelope `ee`")
            .unwrap();
        assert_eq!(env.label.as_deref(), Some("did you mean `e`?"));
        assert_eq!(env.location.line, 6);

        let typo = TOY.replace("title: t", "titel: t");
        let e = &load_contract(&folder("typo", "toy", &typo)).unwrap_err().0[0];
        assert_eq!(e.message, "unknown field `titel`");
        assert_eq!(e.label.as_deref(), Some("did you mean `title`?"));

        let e = &load_contract(&folder("name", "other", TOY)).unwrap_err().0[0];
        assert_eq!(
            e.message,
            "the contract is named `toy` but its folder is `other`"
        );
    }

    /// An invariant's CEL is compiled when a case first binds its contract:
    /// a broken one fails the load of a suite that uses the contract (once,
    /// however many cases bind it, at the manifest's line), never a suite
    /// that does not, and always `check` (`compile_invariants`).
    #[test]
    fn invariants_compile_when_a_case_binds_the_contract() {
        use crate::case::{load_paths, LoadOptions};
        use crate::schema::SchemaCatalog;
        let bad = TOY.replace(
            "request:",
            "invariants:\n  - {name: ok, cites: c, expr: \"true\"}\n  - {name: broken, cites: c, expr: \"a ==\"}\nrequest:",
        );
        let dir = folder("lazy", "toy", &bad);
        let c = load_contract(&dir).expect("expressions are not compiled at load");
        assert_eq!(c.invariants.len(), 2);
        let catalog = |c| {
            Arc::new(SchemaCatalog::new(
                Arc::new(ContractSet::new([c])),
                OptionValues::default(),
            ))
        };
        let opts = |c| LoadOptions {
            catalog: Some(catalog(c)),
            ..LoadOptions::default()
        };
        let suites = dir.parent().unwrap().join("suites");
        for (name, defaults) in [("binds", "contract: toy\n"), ("free", "")] {
            let s = suites.join(name);
            std::fs::create_dir_all(&s).unwrap();
            std::fs::write(s.join("_defaults.yaml"), defaults).unwrap();
            std::fs::write(
                s.join("cases.yaml"),
                "cases:\n  - {name: a, request: {method: POST, path: /p}}\n  - {name: b, request: {method: POST, path: /p}}\n",
            )
            .unwrap();
        }
        let free = load_paths(&[suites.join("free")], &opts(load_contract(&dir).unwrap()));
        assert!(free.is_ok(), "{free:?}");
        let errs =
            load_paths(&[suites.join("binds")], &opts(load_contract(&dir).unwrap())).unwrap_err();
        let cel: Vec<_> = errs
            .0
            .iter()
            .filter(|e| e.message.starts_with("invalid CEL expression"))
            .collect();
        assert_eq!(cel.len(), 1, "{errs:?}");
        assert!(cel[0].location.file.ends_with("contract.yaml"));
        assert_eq!(cel[0].location.line, 10);

        let set = ContractSet::new([load_contract(&dir).unwrap()]);
        let errs = set.compile_invariants().unwrap_err();
        assert_eq!(errs.0.len(), 1, "{errs:?}");
        let good = ContractSet::new(load_all(&crate::testing::schemas_dir()).unwrap());
        assert!(good.compile_invariants().unwrap() >= 40);
    }

    #[test]
    fn options_resolve_by_name_or_contract_and_refuse_mistakes() {
        let set = crate::testing::contracts();
        let given = |pairs: &[(&str, &str)]| {
            let v: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            OptionValues::resolve(&set, &v)
        };
        let v = given(&[]).unwrap();
        assert_eq!(v.get("agentbyworkno", "body_shape"), Some("wrapped"));
        let v = given(&[("agentbyworkno.body_shape", "flat"), ("status9", "allowed")]).unwrap();
        assert_eq!(v.get("agentbyworkno", "body_shape"), Some("flat"));
        assert_eq!(v.get("agentbyworkno", "status9"), Some("allowed"));
        let e = given(&[("body_shap", "flat")]).unwrap_err();
        assert!(e[0].contains("did you mean `body_shape`?"), "{e:?}");
        let e = given(&[("status9", "maybe")]).unwrap_err();
        assert!(
            e[0].contains("it takes one of: rejected, allowed (open question 5)"),
            "{e:?}"
        );
        let e = given(&[("unknown_agent_code", "100002")]).unwrap_err();
        assert!(e[0].contains("a value matching"), "{e:?}");
        assert!(given(&[("unknown_agent_code", "0100002")]).is_ok());
        let e = given(&[("nope.status9", "allowed")]).unwrap_err();
        assert!(e[0].starts_with("unknown contract `nope`"), "{e:?}");
    }
}
