//! `run`: send the cases, print each failure and a summary, write reports.

use crate::args::{self, ConnectArgs, SelectArgs, SimArgs, TargetArgs};
use crate::output::{note, printed, stdout, Printed};
use anyhow::Context;
use clap::Args;
use cms_contract::auth::Timestamp;
use cms_contract::case::Case;
use cms_contract::report::{html, json, junit, palette, text, RunInfo, Style};
use cms_contract::result::CaseResult;
use cms_contract::run::prepare;
use cms_contract::session::Session;
use cms_contract::settings::Jobs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub sim: SimArgs,
    /// Cases in flight at once [default: 8]
    #[arg(long, short = 'j')]
    pub jobs: Option<Jobs>,
    /// Write a JUnit XML report
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Print the requests (Authorization redacted) without sending them
    #[arg(long)]
    pub dry_run: bool,
    /// Record every reply as a snapshot beside its case (__snapshots__/); also CMS_CONTRACT_BLESS=1. Refused in CI
    #[arg(long)]
    pub bless: bool,
    /// Colour: auto (a terminal, unless NO_COLOR; CLICOLOR_FORCE forces it), always, never
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub color: clap::ColorChoice,
}

pub fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let choice = match a.color {
        clap::ColorChoice::Auto => anstream::ColorChoice::Auto,
        clap::ColorChoice::Always => anstream::ColorChoice::Always,
        clap::ColorChoice::Never => anstream::ColorChoice::Never,
    };
    let style = Style::for_stream(choice, &std::io::stdout());
    let err_style = Style::for_stream(choice, &std::io::stderr());
    let mut flags = a.target.common.layer();
    flags.target = a.target.target.clone();
    a.connect.apply(&mut flags);
    a.select.apply(&mut flags);
    let session = args::session(
        flags,
        a.target.common.schemas.clone(),
        a.sim.simulated(),
        a.jobs,
    )?;
    if a.sim.any() && !session.is_embedded() {
        anyhow::bail!("error: --sim-* flags apply to the embedded simulator only; drop --target/CMS_BASE_URL/the profile's base_url");
    }
    let bless = cms_contract::bless::requested(a.bless, &|k| std::env::var(k).ok())
        .map_err(|e| anyhow::anyhow!("error: {e}"))?;
    if bless && a.select.paths()?.1 {
        anyhow::bail!(
            "error: --bless writes snapshots beside the cases, and these are the ones shipped in the binary; \
             run `cms-contract init --with-cases DIR` for a copy to edit, then bless that"
        );
    }
    let mut cases = args::cases(&session, &a.select)?
        .to_vec()
        .map_err(|e| Printed(e.render()))?;
    if bless {
        cms_contract::bless::forget_snapshots(&mut cases);
    }
    for n in &session.notices {
        note!("{n}");
    }
    if a.dry_run {
        return dry_run(&cases, &session);
    }
    let jobs = session.settings.jobs.get();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let info = session.run_info();
    let results = rt.block_on(async {
        let live = session.start().await.map_err(printed)?;
        note!(
            "running {} cases against {} ({jobs} at a time)",
            cases.len(),
            info.target
        );
        let mut progress = Progress::new(cases.len(), err_style);
        let results = live
            .runner
            .run_all(&cases, jobs, |r| progress.update(r))
            .await;
        progress.finish();
        anyhow::Ok(results)
    })?;
    if bless {
        let written =
            cms_contract::bless::write(&cases, &results).context("cannot write snapshots")?;
        note!(
            "blessed: {} snapshots written ({} cases had no reply)",
            written.len(),
            cases.len() - written.len()
        );
    }
    let files = ReportFiles {
        junit: a.junit.as_deref(),
        json: a.json.as_deref(),
        html: a.html.as_deref(),
    };
    report(&results, style, &files, &info)
}

/// Report files asked for on the command line.
struct ReportFiles<'a> {
    junit: Option<&'a Path>,
    json: Option<&'a Path>,
    html: Option<&'a Path>,
}

fn write_report(path: &Path, what: &str, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text)
        .with_context(|| format!("cannot write the {what} report to {}", path.display()))
}

fn report(
    results: &[CaseResult],
    style: Style,
    files: &ReportFiles,
    info: &RunInfo,
) -> anyhow::Result<ExitCode> {
    let mut out = stdout();
    for r in results.iter().filter(|r| !r.failures.is_empty()) {
        writeln!(out, "\n{}", text::render(r, style))?;
    }
    let summary = text::Summary::of(results);
    if let Some(p) = files.junit {
        write_report(p, "JUnit", &junit::render(results, info))?;
    }
    if let Some(p) = files.json {
        write_report(
            p,
            "JSON",
            &serde_json::to_string_pretty(&json::render(results, info))?,
        )?;
    }
    if let Some(p) = files.html {
        write_report(p, "HTML", &html::render(results, info))?;
    }
    writeln!(out, "\ncontract result: {}", summary.line())?;
    Ok(if summary.failed + summary.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn dry_run(cases: &[Case], session: &Session) -> anyhow::Result<ExitCode> {
    let target = session.target();
    // The embedded simulator's port is only known once it runs: prepare for
    // a real URL (requests are built with a URL API), then show `PORT`.
    const EMBEDDED: &str = "http://127.0.0.1:0";
    if !session.is_embedded() && target.credentials.is_none() {
        note!("note: CMS_AK/CMS_SK are not set, so these requests are shown unsigned");
    }
    let now = Timestamp::now();
    let mut out = stdout();
    for c in cases {
        if let Some(why) = &c.skip {
            writeln!(out, "# {}  ({})\n# skipped: {why}\n", c.id(), c.source)?;
            continue;
        }
        let prepared = prepare(c, &target, session.options(), now);
        let mut p = prepared.redacted();
        if session.is_embedded() {
            if let Some(rest) = p.url.strip_prefix(EMBEDDED) {
                p.url = format!("http://127.0.0.1:PORT{rest}");
            }
        }
        writeln!(out, "# {}  ({})\n{} {}", c.id(), c.source, p.method, p.url)?;
        if let Some(why) = &prepared.refused {
            writeln!(out, "# {why}")?;
        }
        for (k, v) in &p.headers {
            writeln!(out, "{k}: {v}")?;
        }
        writeln!(out, "\n{}\n", p.body)?;
    }
    writeln!(out, "dry run: {} requests printed, none sent", cases.len())?;
    Ok(ExitCode::SUCCESS)
}

/// Progress on stderr: an indicatif bar on a terminal (outside CI), one
/// plain line per case otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    failed: usize,
    style: Style,
}

impl Progress {
    fn new(total: usize, style: Style) -> Self {
        let tty = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = tty.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stderr(),
            );
            let template =
                indicatif::ProgressStyle::with_template("[{bar:30}] {pos}/{len} cases, {msg}")
                    .expect("a valid template")
                    .progress_chars("=> ");
            bar.set_style(template);
            bar
        });
        let mut p = Self {
            bar,
            failed: 0,
            style,
        };
        p.set_failed();
        p
    }

    fn set_failed(&mut self) {
        if let Some(bar) = &self.bar {
            let text = format!("{} failed", self.failed);
            bar.set_message(if self.failed > 0 {
                self.style.paint(palette::FAIL, &text)
            } else {
                text
            });
        }
    }

    fn update(&mut self, r: &CaseResult) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        } else {
            note!("{}", text::line(r, self.style));
        }
        if r.outcome().is_red() {
            self.failed += 1;
            self.set_failed();
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
