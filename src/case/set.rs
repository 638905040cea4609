//! The cases of a load: built ones, and `each:` ranges kept as a template
//! and built one value at a time while iterating, so a million-case range
//! costs the memory of one case.

use super::compile::{compile, CaseContext};
use super::error::{LoadError, LoadErrors};
use super::expand::{name_part, value_origin, EachItem};
use super::load::expand_generate;
use super::raw::{RawCase, RawExpect, RawRequest};
use super::Case;
use crate::location::Location;
use crate::schema::SchemaCatalog;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The cases of a load, in a fixed order: files sorted, cases in file order,
/// `each` values in order. Ranges are expanded while iterating.
#[derive(Debug, Default)]
pub struct CaseSet {
    pub(super) entries: Vec<Entry>,
    pub(super) len: usize,
}

#[derive(Debug)]
pub(super) enum Entry {
    Ready(Box<Case>),
    Lazy(Arc<Template>),
}

/// A case written once and made for every value of its `each:`.
#[derive(Debug)]
pub(super) struct Template {
    pub(super) suite: String,
    pub(super) file: Arc<PathBuf>,
    pub(super) rc: RawCase,
    pub(super) request: RawRequest,
    pub(super) expect: RawExpect,
    pub(super) cx: CaseContext,
    pub(super) var: String,
    pub(super) values_loc: Location,
    pub(super) items: Vec<EachItem>,
    pub(super) catalog: Option<Arc<SchemaCatalog>>,
    /// Whether the suite had a `__snapshots__` entry when it loaded: when it
    /// had none, no value's case has a snapshot to look up (a look-up per
    /// case was a file-system call per case).
    pub(super) snapshots: bool,
}

impl CaseSet {
    /// How many cases iterating gives.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no case.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The cases, one at a time. A case of an `each` range that cannot be
    /// built (which load-time checks make unlikely) is an `Err` in its place.
    pub fn iter(&self) -> impl Iterator<Item = Result<Case, LoadError>> + '_ {
        self.entries.iter().flat_map(
            |e| -> Box<dyn Iterator<Item = Result<Case, LoadError>> + '_> {
                match e {
                    Entry::Ready(c) => Box::new(std::iter::once(Ok((**c).clone()))),
                    Entry::Lazy(t) => Box::new(t.items.iter().flat_map(EachItem::values).flat_map(
                        move |v| match t.build(&v) {
                            Ok(cases) => cases.into_iter().map(Ok).collect::<Vec<_>>(),
                            Err(e) => vec![Err(e)],
                        },
                    )),
                }
            },
        )
    }

    /// Every case, built (for front ends that need them all, such as the
    /// `cargo test` harness); the first build error stops it.
    pub fn to_vec(&self) -> Result<Vec<Case>, LoadErrors> {
        self.iter()
            .collect::<Result<_, _>>()
            .map_err(|e| LoadErrors(vec![e]))
    }

    /// Keep only the cases `keep` accepts; the count is recomputed by
    /// iterating (ranges stay lazy only when nothing is filtered out).
    pub fn retain(self, keep: impl Fn(&Case) -> bool) -> Result<CaseSet, LoadErrors> {
        let mut out = CaseSet::default();
        for c in self.iter() {
            let c = c.map_err(|e| LoadErrors(vec![e]))?;
            if keep(&c) {
                out.entries.push(Entry::Ready(Box::new(c)));
                out.len += 1;
            }
        }
        Ok(out)
    }

    pub(super) fn push(&mut self, case: Case) {
        self.entries.push(Entry::Ready(Box::new(case)));
        self.len += 1;
    }
}

impl Template {
    /// The cases of one `each` value (one, or its generated boundaries).
    pub(super) fn build(&self, value: &str) -> Result<Vec<Case>, LoadError> {
        let part = name_part(value).map_err(|why| {
            let e = LoadError::new(
                self.values_loc.clone(),
                format!(
                    "`each` value `{}` cannot be part of a case name",
                    value.escape_debug()
                ),
            )
            .label(format!(
                "{why}: values become test names and snapshot file names"
            ));
            match self
                .rc
                .each
                .as_ref()
                .and_then(|each| value_origin(&each.values, &self.cx.vars))
            {
                Some(origin) => e.help(origin),
                None => e.help("use letters, digits, `_`, `-` and `.`"),
            }
        })?;
        let mut cx = self.cx.clone();
        cx.vars.set(&self.var, value, "each");
        let name = format!("{}::{}_{part}", self.rc.name.value, self.var);
        let case = compile(
            &self.suite,
            name,
            &self.file,
            &self.rc,
            &self.request,
            &self.expect,
            &cx,
        )?;
        let mut cases = expand_generate(&self.rc, case, &self.file, self.catalog.as_deref())?;
        if self.snapshots {
            for c in &mut cases {
                c.expect.snapshot = super::snapshot::read(&self.file, &c.name)?;
            }
        }
        Ok(cases)
    }
}

impl CaseSet {
    /// Case ids are unique: built cases by id, ranges by their values.
    pub(super) fn check_unique(&self, errors: &mut Vec<LoadError>) {
        let mut seen: BTreeMap<String, Location> = BTreeMap::new();
        let mut ranges: BTreeMap<String, Vec<(i64, i64, Location)>> = BTreeMap::new();
        for e in &self.entries {
            match e {
                Entry::Ready(c) => {
                    let id = c.id();
                    if let Some(first) = seen.get(&id) {
                        errors.push(
                            LoadError::new(c.source.clone(), format!("duplicate case `{id}`"))
                                .label(format!("first defined at {first}"))
                                .help("case names must be unique within a suite (folder)"),
                        );
                    } else {
                        seen.insert(id, c.source.clone());
                    }
                }
                Entry::Lazy(t) => {
                    let key = format!("{}::{}::{}", t.suite, t.rc.name.value, t.var);
                    let list = ranges.entry(key.clone()).or_default();
                    for item in &t.items {
                        match item {
                            EachItem::Range(a, b) => {
                                if let Some((x, y, _)) =
                                    list.iter().find(|(x, y, _)| a <= y && x <= b)
                                {
                                    errors.push(
                                        LoadError::new(t.values_loc.clone(), format!("`each` ranges {x}..={y} and {a}..={b} overlap"))
                                            .label("each value makes one case; a value listed twice makes a duplicate case name")
                                            .help(format!("case `{key}`")),
                                    );
                                }
                                list.push((*a, *b, t.values_loc.clone()));
                            }
                            EachItem::One(v) => {
                                let id = format!("{}::{}::{}_{v}", t.suite, t.rc.name.value, t.var);
                                if seen.insert(id.clone(), t.values_loc.clone()).is_some() {
                                    errors.push(
                                        LoadError::new(
                                            t.values_loc.clone(),
                                            format!("duplicate case `{id}`"),
                                        )
                                        .help("case names must be unique within a suite (folder)"),
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
