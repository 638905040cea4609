//! `list` and `check`: load without sending. `check` also compiles every
//! contract's schemas and makes sure what `run` would need is there
//! (credentials for a real target, TLS files, schema names).

use crate::args::{self, ConnectArgs, SelectArgs, TargetArgs};
use crate::output::{note, stdout, Printed};
use clap::Args;
use cms_contract::embedded::Simulated;
use cms_contract::sanitize::terminal;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// List the tags of the selected cases, each with its number of cases, instead of the cases
    #[arg(long)]
    pub tags: bool,
}

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The connection settings `run` would use, so `check` finds what
    /// `run` would stop on (unreadable certificate files, say).
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub select: SelectArgs,
}

pub fn check(a: CheckArgs) -> anyhow::Result<ExitCode> {
    list(
        ListArgs {
            target: a.target,
            select: a.select,
            tags: false,
        },
        Some(a.connect),
    )
}

/// `list`, or with `check: Some(connection flags)`, `check`.
pub fn list(a: ListArgs, check: Option<ConnectArgs>) -> anyhow::Result<ExitCode> {
    let check_only = check.is_some();
    let mut flags = a.target.common.layer();
    flags.target = a.target.target.clone();
    if let Some(c) = &check {
        c.apply(&mut flags);
    }
    a.select.apply(&mut flags);
    let session = args::session(
        flags,
        a.target.common.schemas.clone(),
        Simulated::default(),
        None,
    )?;
    // What `run` would stop on before sending anything, all of it at once:
    // the target's credentials and TLS files, then the case files.
    let mut problems = Vec::new();
    if check_only && !session.is_embedded() {
        if session.credentials.is_none() {
            problems.push(format!(
                "error: target {} needs credentials: set CMS_AK and CMS_SK (secrets come only from the environment)",
                session.run_info().target
            ));
        }
        if let Err(e) = cms_contract::run::build_client(&session.target()) {
            problems.push(format!("error: {e}"));
        }
    }
    let set = match args::cases(&session, &a.select) {
        Ok(set) => set,
        Err(e) if !problems.is_empty() => {
            problems.push(e.to_string());
            return Err(Printed(problems.join("\n")).into());
        }
        Err(e) => return Err(e),
    };
    if !problems.is_empty() {
        return Err(Printed(problems.join("\n")).into());
    }
    if a.tags {
        let mut cases = Vec::new();
        for c in set.iter() {
            cases.push(c.map_err(|e| Printed(e.render()))?);
        }
        write!(
            stdout(),
            "{}",
            tag_table(cases.iter().map(|c| c.tags.as_slice()))
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    if !check_only {
        let mut out = stdout();
        for c in set.iter() {
            let c = c.map_err(|e| Printed(e.render()))?;
            match &c.skip {
                Some(why) => writeln!(out, "{}  ({})  skipped: {why}", c.id(), c.source)?,
                None => writeln!(out, "{}  ({})", c.id(), c.source)?,
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    for n in &session.notices {
        note!("{n}");
    }
    let invariants = session
        .catalog
        .contracts()
        .compile_invariants()
        .map_err(|e| Printed(e.render()))?;
    let schemas = session
        .catalog
        .compile_all()
        .map_err(|e| anyhow::anyhow!("error: {e}"))?;

    let contracts = session.catalog.contracts().names().join(", ");
    writeln!(
        stdout(),
        "ok: {} cases, {} contracts ({contracts}), {schemas} schemas, {invariants} invariants, target {}",
        set.len(),
        session.catalog.contracts().names().len(),
        session.run_info().target
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Each tag with its number of cases, sorted by tag, aligned; cases with
/// no tag counted last as `(no tag)`.
fn tag_table<'a>(cases: impl Iterator<Item = &'a [String]>) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut untagged = 0usize;
    for tags in cases {
        if tags.is_empty() {
            untagged += 1;
        }
        let mut seen: Vec<&String> = tags.iter().collect();
        seen.sort();
        seen.dedup();
        for t in seen {
            *counts.entry(terminal(t).into_owned()).or_default() += 1;
        }
    }
    let mut rows: Vec<(String, usize)> = counts.into_iter().collect();
    if untagged > 0 {
        rows.push(("(no tag)".into(), untagged));
    }
    let name_width = rows
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    let count_width = rows
        .iter()
        .map(|(_, c)| c.to_string().len())
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(n, c)| format!("{n:<name_width$}  {c:>count_width$}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::tag_table;

    #[test]
    fn tags_are_sorted_counted_once_per_case_and_aligned() {
        let cases: Vec<Vec<String>> = [
            vec!["status", "reference-data"],
            vec!["auth"],
            vec!["status", "status"],
            vec![],
            vec!["status"],
        ]
        .iter()
        .map(|t| t.iter().map(|s| s.to_string()).collect())
        .collect();
        assert_eq!(
            tag_table(cases.iter().map(Vec::as_slice)),
            "auth            1\nreference-data  1\nstatus          3\n(no tag)        1\n"
        );
        assert_eq!(tag_table(std::iter::empty()), "");
    }
}
