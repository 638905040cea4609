//! `list` and `check`: load without sending. `check` also compiles every
//! contract's schemas and makes sure what `run` would need is there
//! (credentials for a real target, TLS files, schema names).

use crate::args::{self, SelectArgs, TargetArgs};
use crate::output::{note, stdout, Printed};
use clap::Args;
use cms_contract::embedded::Simulated;
use std::io::Write;
use std::process::ExitCode;

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub select: SelectArgs,
}

pub fn list(a: ListArgs, check_only: bool) -> anyhow::Result<ExitCode> {
    let mut flags = a.target.common.layer();
    flags.target = a.target.target.clone();
    a.select.apply(&mut flags);
    let session = args::session(
        flags,
        a.target.common.schemas.clone(),
        Simulated::default(),
        None,
    )?;
    let set = args::cases(&session, &a.select)?;
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
    let schemas = session
        .catalog
        .compile_all()
        .map_err(|e| anyhow::anyhow!("error: {e}"))?;
    if !session.is_embedded() && session.credentials.is_none() {
        anyhow::bail!(
            "error: target {} needs credentials: set CMS_AK and CMS_SK (secrets come only from the environment)",
            session.run_info().target
        );
    }
    let contracts = session.catalog.contracts().names().join(", ");
    writeln!(
        stdout(),
        "ok: {} cases, {} contracts ({contracts}), {schemas} schemas, target {}",
        set.len(),
        session.catalog.contracts().names().len(),
        session.run_info().target
    )?;
    Ok(ExitCode::SUCCESS)
}
