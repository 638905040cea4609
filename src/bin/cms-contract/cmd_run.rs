//! `run`: send the cases, print each failure and a summary, write reports,
//! all as results come: no case is built before it is needed and no passing
//! result is kept, so memory does not grow with the suite.

use crate::args::{self, ConnectArgs, SelectArgs, SimArgs, TargetArgs};
use crate::output::{note, printed, stdout, Printed};
use anyhow::Context;
use clap::Args;
use cms_contract::auth::Timestamp;
use cms_contract::case::{Case, LoadError, LoadErrors};
use cms_contract::report::spool::Spool;
use cms_contract::report::{html, json, junit, palette, text, RunInfo, Style};
use cms_contract::result::CaseResult;
use cms_contract::run::{prepare, Retention};
use cms_contract::session::Session;
use cms_contract::settings::Jobs;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
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
    // The cases stay a lazy set (an `each:` range is a template): they are
    // built one at a time here to count the selection and to find a case
    // that cannot be built before anything is sent, then again as the run
    // needs them. Memory stays that of one case, whatever the suite's size.
    let set = args::load(&session, &a.select)?;
    let selects = |c: &Case| args::selects(&session, &a.select, c);
    let mut total = 0usize;
    for c in set.iter() {
        let c = c.map_err(|e| Printed(LoadErrors(vec![e]).render()))?;
        total += usize::from(selects(&c));
    }
    if total == 0 {
        return Err(args::nothing_selected(&session, &a.select));
    }
    for n in &session.notices {
        note!("{n}");
    }
    // Built again, in the same order; a case that no longer builds (a
    // snapshot changed meanwhile) ends the run with its error.
    let unbuilt: RefCell<Option<LoadError>> = RefCell::new(None);
    let cases = set
        .iter()
        .map_while(|c| c.map_err(|e| *unbuilt.borrow_mut() = Some(e)).ok())
        .filter(selects);
    if a.dry_run {
        dry_run(cases, total, &session)?;
        return match unbuilt.into_inner() {
            Some(e) => Err(Printed(LoadErrors(vec![e]).render()).into()),
            None => Ok(ExitCode::SUCCESS),
        };
    }
    let info = session.run_info();
    // Opened before anything is sent: a report that cannot be written
    // fails the run at once, not after it.
    let mut reports = Reports::open(
        [
            (ReportKind::Junit, a.junit.as_deref()),
            (ReportKind::Json, a.json.as_deref()),
            (ReportKind::Html, a.html.as_deref()),
        ],
        &info,
    )?;
    let jobs = session.settings.jobs.get();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // `--bless` records the reply of every case, passing ones too: the
    // runner keeps them all, and each case waits here, in order, until its
    // result comes (at most the cases in flight and the runner's window).
    let blessing: RefCell<VecDeque<Case>> = RefCell::new(VecDeque::new());
    let cases = cases.map(|mut c| {
        if bless {
            // Re-recorded: the run reports the contract checks only.
            c.expect.snapshot = None;
            blessing.borrow_mut().push_back(c.clone());
        }
        c
    });
    let mut blessed = Blessed::default();
    let mut out = stdout();
    let mut printing: anyhow::Result<()> = Ok(());
    let mut summary = text::Summary::default();
    rt.block_on(async {
        let live = session.start().await.map_err(printed)?;
        note!(
            "running {total} cases against {} ({jobs} at a time)",
            info.target
        );
        let retention = if bless {
            Retention::Full
        } else {
            Retention::Failures
        };
        let runner = live.runner.clone().with_retention(retention);
        let mut progress = Progress::new(total, err_style);
        runner
            .run_each(cases, jobs, |_, mut r| {
                progress.update(&r);
                if bless {
                    if let Some(case) = blessing.borrow_mut().pop_front() {
                        blessed.write(&case, &r);
                    }
                    r.keep_failures_only();
                }
                if !r.failures.is_empty() && printing.is_ok() {
                    printing = progress
                        .suspend(|| writeln!(out, "\n{}", text::render(&r, style)))
                        .map_err(anyhow::Error::from);
                }
                summary.add(&r);
                reports.push(&r);
            })
            .await;
        progress.finish();
        anyhow::Ok(())
    })?;
    if let Some(e) = unbuilt.into_inner() {
        return Err(Printed(LoadErrors(vec![e]).render()).into());
    }
    printing?;
    if bless {
        if let Some(e) = blessed.failed {
            reports.finish()?;
            return Err(e).context("cannot write snapshots");
        }
        note!(
            "blessed: {} snapshots written ({} cases had no reply)",
            blessed.written,
            summary.cases() - blessed.written
        );
    }
    reports.finish()?;
    writeln!(out, "\ncontract result: {}", summary.line())?;
    Ok(if summary.failed + summary.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Snapshots written by `--bless` so far; the first failure stops it.
#[derive(Default)]
struct Blessed {
    written: usize,
    failed: Option<std::io::Error>,
}

impl Blessed {
    fn write(&mut self, case: &Case, r: &CaseResult) {
        if self.failed.is_some() {
            return;
        }
        match cms_contract::bless::write_case(case, r) {
            Ok(Some(_)) => self.written += 1,
            Ok(None) => {}
            Err(e) => self.failed = Some(e),
        }
    }
}

/// The report files asked for on the command line.
#[derive(Clone, Copy)]
enum ReportKind {
    Junit,
    Json,
    Html,
}

impl ReportKind {
    fn name(self) -> &'static str {
        match self {
            ReportKind::Junit => "JUnit",
            ReportKind::Json => "JSON",
            ReportKind::Html => "HTML",
        }
    }
}

/// One report being written: JSON straight to its file; JUnit and HTML to
/// spools beside it, then to the file at the end.
enum Writer {
    Junit(junit::Writer, BufWriter<File>),
    Json(json::Writer<BufWriter<File>>),
    Html(html::Writer, BufWriter<File>),
}

/// The report files of a run, fed one result at a time.
struct Reports {
    open: Vec<(ReportKind, PathBuf, Writer)>,
    /// The first write that failed; nothing more is written then.
    failed: Option<anyhow::Error>,
}

impl Reports {
    fn open<'a>(
        asked: impl IntoIterator<Item = (ReportKind, Option<&'a Path>)>,
        info: &RunInfo,
    ) -> anyhow::Result<Self> {
        let mut open = Vec::new();
        for (kind, path) in asked {
            let Some(path) = path else { continue };
            let cannot = || {
                format!(
                    "cannot write the {} report to {}",
                    kind.name(),
                    path.display()
                )
            };
            let file =
                BufWriter::with_capacity(64 * 1024, File::create(path).with_context(cannot)?);
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let spool = || Spool::file_in(dir).with_context(cannot);
            let writer = match kind {
                ReportKind::Junit => Writer::Junit(junit::Writer::new(spool()?, info), file),
                ReportKind::Json => {
                    Writer::Json(json::Writer::new(file, info).with_context(cannot)?)
                }
                ReportKind::Html => Writer::Html(html::Writer::new(spool()?, spool()?, info), file),
            };
            open.push((kind, path.to_path_buf(), writer));
        }
        Ok(Reports { open, failed: None })
    }

    fn push(&mut self, r: &CaseResult) {
        if self.failed.is_some() {
            return;
        }
        for (kind, path, w) in &mut self.open {
            let done = match w {
                Writer::Junit(w, _) => w.push(r),
                Writer::Json(w) => w.push(r),
                Writer::Html(w, _) => w.push(r),
            };
            if let Err(e) = done {
                self.failed = Some(anyhow::Error::from(e).context(format!(
                    "cannot write the {} report to {}",
                    kind.name(),
                    path.display()
                )));
                return;
            }
        }
    }

    fn finish(self) -> anyhow::Result<()> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        for (kind, path, w) in self.open {
            let done = match w {
                Writer::Junit(w, mut file) => w.finish(&mut file),
                Writer::Json(w) => w.finish().and_then(|mut f| f.flush()),
                Writer::Html(w, mut file) => w.finish(&mut file),
            };
            done.with_context(|| {
                format!(
                    "cannot write the {} report to {}",
                    kind.name(),
                    path.display()
                )
            })?;
        }
        Ok(())
    }
}

fn dry_run(
    cases: impl Iterator<Item = Case>,
    total: usize,
    session: &Session,
) -> anyhow::Result<()> {
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
        let c = &c;
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
    writeln!(out, "dry run: {total} requests printed, none sent")?;
    Ok(())
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

    /// Run `f` (which prints) with the bar out of the way.
    fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
