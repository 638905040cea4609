//! A manifest's (or a case's) invariant as written, compiled into an
//! [`Invariant`]: its expressions, severity, `for_each` targets, location.

use super::raw::RawInvariant;
use super::{Invariant, Severity};
use crate::case::LoadError;
use crate::expr::Expr;
use crate::location::Location;
use serde_saphyr::Spanned;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// A contract's invariants, compiled on first use.
///
/// Compiling their CEL is most of loading a contract (the parser costs about
/// 0.4 ms an expression) and a run seldom uses every contract, so a manifest's
/// invariants are checked for everything but their expressions when it loads
/// and compiled when a case first binds the contract (the case loader reports
/// their errors then, once per contract) or when `check` asks for all of them.
pub struct Invariants {
    raw: Vec<RawInvariant>,
    file: Arc<PathBuf>,
    releases: Vec<String>,
    compiled: OnceLock<Result<Vec<Arc<Invariant>>, Vec<LoadError>>>,
}

impl Invariants {
    /// Invariants written in `file` (for a contract of `releases`), not yet
    /// compiled.
    pub(crate) fn new(raw: Vec<RawInvariant>, file: Arc<PathBuf>, releases: Vec<String>) -> Self {
        Self {
            raw,
            file,
            releases,
            compiled: OnceLock::new(),
        }
    }

    /// The invariants, compiled on the first call (by one thread; others
    /// wait), or every error of the manifest's invariants, located.
    pub fn get(&self) -> Result<&[Arc<Invariant>], &[LoadError]> {
        let compiled = self.compiled.get_or_init(|| {
            let mut errors = Vec::new();
            let ok = self
                .raw
                .iter()
                .filter_map(|ri| {
                    invariant(ri, &self.file, &self.releases)
                        .map_err(|e| errors.push(e))
                        .ok()
                })
                .map(Arc::new)
                .collect();
            if errors.is_empty() {
                Ok(ok)
            } else {
                Err(errors)
            }
        });
        compiled.as_ref().map(Vec::as_slice).map_err(Vec::as_slice)
    }

    /// The errors of an earlier [`Invariants::get`]; nothing when it was
    /// not called or they compiled.
    pub(crate) fn errors_so_far(&self) -> &[LoadError] {
        match self.compiled.get() {
            Some(Err(e)) => e,
            _ => &[],
        }
    }

    /// How many the manifest writes.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the manifest writes none.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

impl fmt::Debug for Invariants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.raw.iter().map(|r| r.name.value.as_str()).collect();
        f.debug_struct("Invariants")
            .field("names", &names)
            .field("compiled", &self.compiled.get().map(Result::is_ok))
            .finish()
    }
}

/// Build an invariant from its written form (manifest or case file).
pub(crate) fn invariant(
    ri: &RawInvariant,
    file: &Arc<PathBuf>,
    releases: &[String],
) -> Result<Invariant, LoadError> {
    let loc = |l: &serde_saphyr::Location| Location::from_yaml(file, l);
    let compile = |s: &Spanned<String>| {
        Expr::compile(&s.value).map_err(|e| {
            LoadError::new(loc(&s.referenced), format!("invalid CEL expression: {e}"))
                .label("fix the expression")
        })
    };
    if !valid_name(&ri.name.value) {
        return Err(LoadError::new(
            loc(&ri.name.referenced),
            format!("invalid invariant name `{}`", ri.name.value),
        )
        .label("use letters, digits, `_` and `-`"));
    }
    if let Some(rs) = &ri.releases {
        if let Some(bad) = rs
            .iter()
            .find(|r| !releases.is_empty() && !releases.contains(r))
        {
            return Err(LoadError::new(
                loc(&ri.name.referenced),
                format!(
                    "invariant `{}` names release `{bad}`, which the contract does not list",
                    ri.name.value
                ),
            )
            .help(format!("releases: {}", releases.join(", "))));
        }
    }
    let severity = match ri.severity.as_ref().map(|s| s.value.as_str()) {
        None | Some("error") => Severity::Error,
        Some("warning") => Severity::Warning,
        Some(other) => {
            let s = ri.severity.as_ref().map(|s| &s.referenced);
            return Err(LoadError::new(
                s.map_or_else(|| Location::file_only(file), loc),
                format!("unknown severity `{other}`"),
            )
            .label("`error` (default) or `warning`"));
        }
    };
    for f in &ri.for_each {
        let ok = matches!(f.value.as_str(), "payload" | "payload_copy") || f.value.starts_with('/');
        if !ok {
            return Err(LoadError::new(
                loc(&f.referenced),
                format!(
                    "`for_each` item `{}` is neither `payload`, `payload_copy` nor a JSON pointer",
                    f.value
                ),
            )
            .label("e.g. payload, or /resultDesc"));
        }
    }
    let binding = ri
        .binding
        .as_ref()
        .map_or_else(|| "item".to_owned(), |b| b.value.clone());
    Ok(Invariant {
        name: ri.name.value.clone(),
        cites: ri.cites.clone(),
        releases: ri.releases.clone(),
        for_each: ri.for_each.iter().map(|f| f.value.clone()).collect(),
        binding,
        when: ri.when.as_ref().map(compile).transpose()?,
        expr: compile(&ri.expr)?,
        severity,
        message: ri.message.clone(),
        show: ri.show.iter().map(compile).collect::<Result<_, _>>()?,
        source: loc(&ri.name.referenced),
    })
}

/// A name of letters, digits, `_` and `-`.
pub(crate) fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
