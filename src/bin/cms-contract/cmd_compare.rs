//! `compare`: the same cases against a baseline and a candidate, each
//! difference classified breaking or not by what the contracts say.

use crate::args::{self, CommonArgs, ConnectArgs, SelectArgs};
use crate::output::{note, printed, stdout, Printed};
use anyhow::Context;
use clap::Args;
use cms_contract::compare::{compare as classify, render, Rules, Severity};
use cms_contract::embedded::{Fault, Simulated, Variant};
use cms_contract::session::{Session, SessionOptions};
use cms_contract::settings::{process_env, BaseUrl, Jobs, Layer};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(flatten)]
    select: SelectArgs,
    /// Baseline: a URL, or `sim[:RELEASE[:FAULT-OR-VARIANT]]` for the embedded simulator
    #[arg(long)]
    baseline: String,
    /// Candidate: a URL, or `sim[:RELEASE[:FAULT-OR-VARIANT]]`
    #[arg(long)]
    candidate: String,
    /// Cases in flight at once, per side [default: 8]
    #[arg(long, short = 'j')]
    jobs: Option<Jobs>,
    /// Write the changes as JSON
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also list data differences (info), not only contract changes
    #[arg(long)]
    verbose: bool,
}

/// A side: a target URL, or the simulator with a release and a fault or variant.
enum Side {
    Url(BaseUrl),
    Sim(Simulated),
}

fn side(spec: &str) -> anyhow::Result<Side> {
    let Some(rest) = spec.strip_prefix("sim") else {
        let url: BaseUrl = spec
            .parse()
            .map_err(|e| anyhow::anyhow!("error: {spec}: {e}"))?;
        return Ok(Side::Url(url));
    };
    let mut sim = Simulated::default();
    let mut parts = rest
        .trim_start_matches(':')
        .split(':')
        .filter(|p| !p.is_empty());
    if let Some(r) = parts.next() {
        if !cms_sim::RELEASES.contains(&r) {
            anyhow::bail!(
                "error: {spec}: unknown release `{r}`; the simulator serves releases {}",
                cms_sim::RELEASES.join(", ")
            );
        }
        sim.release = Some(r.to_owned());
    }
    if let Some(name) = parts.next() {
        match (Fault::parse(name), Variant::parse(name)) {
            (Some(f), _) => sim.fault = Some(f),
            (None, Some(v)) => sim.variant = Some(v),
            _ => anyhow::bail!("error: {spec}: `{name}` is neither a fault nor a variant (see `cms-contract serve --list-faults`)"),
        }
    }
    Ok(Side::Sim(sim))
}

fn prepare(a: &CompareArgs, spec: &str) -> anyhow::Result<Session> {
    let mut flags: Layer = a.common.layer();
    a.connect.apply(&mut flags);
    a.select.apply(&mut flags);
    flags.jobs = a.jobs;
    let (embedded, force_embedded) = match side(spec)? {
        Side::Url(u) => {
            flags.target = Some(u);
            (Simulated::default(), false)
        }
        // A `sim` side is the simulator whatever CMS_BASE_URL or the profile says.
        Side::Sim(s) => (s, true),
    };
    Session::prepare(
        SessionOptions {
            flags,
            schemas: Some(crate::shipped::schemas(a.common.schemas.clone()).map_err(Printed)?),
            embedded: Some(embedded.shared()),
            force_embedded,
        },
        &process_env(),
    )
    .map_err(|e| printed(e).into())
}

pub fn compare(a: CompareArgs) -> anyhow::Result<ExitCode> {
    let baseline = prepare(&a, &a.baseline)?;
    let candidate = prepare(&a, &a.candidate)?;
    // One set of cases (the baseline's variables) so both sides get the same requests.
    let cases = args::cases(&baseline, &a.select)?
        .to_vec()
        .map_err(|e| Printed(e.render()))?;
    let jobs = baseline.settings.jobs.get();
    // Both sides run at once: `jobs` cases in flight on each.
    let rt = cms_contract::run::runtime(2 * jobs)?;
    let (b, c) = rt.block_on(async {
        for n in baseline.notices.iter().chain(&candidate.notices) {
            note!("{n}");
        }
        let lb = baseline.start().await.map_err(printed)?;
        let lc = candidate.start().await.map_err(printed)?;
        note!(
            "comparing {} cases: baseline {} vs candidate {}",
            cases.len(),
            a.baseline,
            a.candidate
        );
        let (b, c) = tokio::join!(
            lb.runner.run_all(&cases, jobs, |_| {}),
            lc.runner.run_all(&cases, jobs, |_| {})
        );
        anyhow::Ok((b, c))
    })?;
    let mut cmp = classify(&b, &c, &Rules::of(baseline.catalog.contracts()));
    if let Some(p) = &a.json {
        let doc: Vec<serde_json::Value> = cmp
            .changes
            .iter()
            .map(|ch| {
                serde_json::json!({
                    "case": ch.case_id, "pointer": ch.pointer, "change": ch.kind.describe(),
                    "class": ch.kind.severity().as_str(), "baseline": ch.baseline, "candidate": ch.candidate,
                })
            })
            .collect();
        std::fs::write(p, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    let breaking = cmp.is_breaking();
    if !a.verbose {
        cmp.changes
            .retain(|c| c.kind.severity() != Severity::Info || c.case_id.is_none());
    }
    write!(stdout(), "{}", render(&cmp))?;
    Ok(if breaking {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
