//! A manifest's (or a case's) invariant as written, compiled into an
//! [`Invariant`]: its expressions, severity, `for_each` targets, location.

use super::raw::RawInvariant;
use super::{Invariant, Severity};
use crate::case::LoadError;
use crate::expr::Expr;
use crate::location::Location;
use serde_saphyr::Spanned;
use std::path::PathBuf;
use std::sync::Arc;

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
