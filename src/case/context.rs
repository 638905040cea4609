//! What a case is compiled against besides its text: its contract, the
//! release its reply must keep, whether it applies to the run, and the
//! variables that go with them. Used for whole cases and for flow steps.

use super::compile::CaseContext;
use super::error::{did_you_mean, LoadError};
use super::load::LoadOptions;
use super::matcher::Compiler;
use super::raw::{RawCase, RawDefaults};
use crate::contract::{Contract, Release};
use crate::schema::SchemaCatalog;
use serde_saphyr::Spanned;
use std::path::PathBuf;
use std::sync::Arc;

/// The case's contract and release, whether it applies to the run, and the
/// `release` / `endpoint` variables that go with them.
///
/// The release: the case's `release:`, else its folder's (both pin it, e.g.
/// the 8.13 twin endpoint), else the run's (`--release`), else the
/// contract's default. A run release the contract does not document, or one
/// outside the case's `releases:` list, makes the case not apply.
pub(crate) fn case_context(
    file: &Arc<PathBuf>,
    rc: &RawCase,
    defaults: &RawDefaults,
    opts: &LoadOptions,
) -> Result<CaseContext, LoadError> {
    let c = Compiler {
        file,
        vars: &opts.vars,
    };
    let mut cx = CaseContext {
        vars: opts.vars.clone(),
        contract: None,
        release: None,
        skip: None,
        catalog: opts.catalog.clone(),
        run_release: opts.release.clone(),
    };
    let fallback = opts.default_contract.as_ref().map(|n| Spanned {
        value: n.clone(),
        referenced: rc.name.referenced,
        defined: rc.name.defined,
    });
    let Some(name) = defaults.contract.as_ref().or(fallback.as_ref()) else {
        if let Some(r) = rc.release.as_ref().or(defaults.release.as_ref()) {
            return Err(
                LoadError::new(c.loc(&r.referenced), "a release needs a contract")
                    .label("name the suite's contract in its _defaults.yaml (`contract: NAME`)"),
            );
        }
        return Ok(cx);
    };
    let contract = find_contract(&c, opts.catalog.as_deref(), name)?;
    let pinned = rc.release.as_ref().or(defaults.release.as_ref());
    let (release, skip) = resolve_release(&c, &contract, pinned, opts.release.as_deref())?;
    cx.skip = skip;
    if let Some(list) = rc.releases.as_ref().or(defaults.releases.as_ref()) {
        for r in list {
            release_named(&c, &contract, r)?;
        }
        let applies = list.iter().any(|r| {
            contract
                .release(&r.value)
                .is_some_and(|x| x.name == release.name)
        });
        if !applies && cx.skip.is_none() {
            let names: Vec<&str> = list.iter().map(|r| r.value.as_str()).collect();
            cx.skip = Some(format!(
                "written for release {} of {}; this run expects {}",
                names.join(", "),
                contract.name,
                release.name
            ));
        }
    }
    cx.vars.set("release", &release.name, "case release");
    cx.vars.set("endpoint", &release.path, "case release");
    cx.contract = Some(contract);
    cx.release = Some(Arc::new(release));
    Ok(cx)
}

/// The contract `name` names, or a located error with a "did you mean".
pub(crate) fn find_contract(
    c: &Compiler,
    catalog: Option<&SchemaCatalog>,
    name: &Spanned<String>,
) -> Result<Arc<Contract>, LoadError> {
    let Some(catalog) = catalog else {
        return Err(LoadError::new(
            c.loc(&name.referenced),
            format!("no contracts are loaded, so `{}` is unknown", name.value),
        )
        .help("pass --schemas DIR, the folder of contract folders"));
    };
    let contracts = catalog.contracts();
    let found = contracts.get(&name.value).cloned();
    if let Some(c) = &found {
        // Compiled once, now that a case binds it; the loader reports the
        // errors once per contract (`load_paths_with_warnings`).
        let _ = c.invariants.get();
    }
    found.ok_or_else(|| {
        let names = contracts.names();
        let e = LoadError::new(
            c.loc(&name.referenced),
            format!("unknown contract `{}`", name.value),
        );
        match did_you_mean(&name.value, names.iter().copied()) {
            Some(m) => e.label(format!("did you mean `{m}`?")),
            None => e.label("not a contract folder"),
        }
        .help(format!("contracts: {}", names.join(", ")))
    })
}

/// The release of `contract` that `r` names (or aliases).
fn release_named(
    c: &Compiler,
    contract: &Contract,
    r: &Spanned<String>,
) -> Result<Release, LoadError> {
    contract.release(&r.value).cloned().ok_or_else(|| {
        let names = contract.release_names();
        let e = LoadError::new(
            c.loc(&r.referenced),
            format!("contract {} has no release `{}`", contract.name, r.value),
        );
        match did_you_mean(&r.value, names.iter().copied()) {
            Some(m) => e.label(format!("did you mean `{m}`?")),
            None => e.label("not a release of the contract"),
        }
        .help(format!("releases: {}", names.join(", ")))
    })
}

/// The release a reply of `contract` must keep: `pinned` (the case's or its
/// folder's), else the run's, else the contract's default; with the reason
/// the case does not apply when the run's release is not the contract's.
pub(crate) fn resolve_release(
    c: &Compiler,
    contract: &Contract,
    pinned: Option<&Spanned<String>>,
    run: Option<&str>,
) -> Result<(Release, Option<String>), LoadError> {
    Ok(match (pinned, run) {
        (Some(r), _) => (release_named(c, contract, r)?, None),
        (None, Some(run)) => match contract.release(run) {
            Some(r) => (r.clone(), None),
            None => (
                contract.default_release().clone(),
                Some(format!(
                    "contract {} documents no release {run} (it has {})",
                    contract.name,
                    contract.release_names().join(", ")
                )),
            ),
        },
        (None, None) => (contract.default_release().clone(), None),
    })
}
