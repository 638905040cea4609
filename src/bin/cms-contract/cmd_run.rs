//! `run`: send the cases, print each failure and a summary, write reports,
//! all as results come: an `each:` range is built one case at a time as the
//! run needs it and no passing result is kept, so memory does not grow with
//! the range.

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
    // The cases stay a lazy set (an `each:` range is a template, built one
    // case at a time). With a selection (--filter, tags) they are built
    // once here to count it, and again as the run needs them; without one
    // the set's length is the count.
    let set = args::load(&session, &a.select)?;
    let selects = |c: &Case| args::selects(&session, &a.select, c);
    let everything = a.select.filter.is_empty()
        && session.settings.tags.is_empty()
        && session.settings.exclude_tags.is_empty();
    let mut total = 0usize;
    if everything {
        total = set.len();
    } else {
        for c in set.iter() {
            let c = c.map_err(|e| Printed(LoadErrors(vec![e]).render()))?;
            total += usize::from(selects(&c));
        }
    }
    if total == 0 {
        return Err(args::nothing_selected(&session, &a.select));
    }
    for n in &session.notices {
        note!("{n}");
    }
    // Built in order as they are sent; a case that does not build (e.g. its
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
    let rt = cms_contract::run::runtime(jobs).context("cannot start the async runtime")?;
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
    // Every report is finished and the result said before any error ends
    // the run: a report or snapshot that could not be written is exit 2.
    let report_errors = reports.finish();
    printing?;
    writeln!(out, "\ncontract result: {}", summary.line())?;
    if bless {
        if let Some(e) = blessed.failed {
            return Err(e).context("cannot write snapshots");
        }
        note!(
            "blessed: {} snapshots written ({} cases had no reply, {} flows have none)",
            blessed.written,
            summary.cases() - blessed.written - blessed.flows,
            blessed.flows
        );
    }
    if let Some((last, earlier)) = report_errors.split_last() {
        for e in earlier {
            note!("{e:#}");
        }
        return Err(anyhow::anyhow!("{last:#}"));
    }
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
    /// Flow cases: several replies, checked by relations, never by a
    /// snapshot.
    flows: usize,
    failed: Option<std::io::Error>,
}

impl Blessed {
    fn write(&mut self, case: &Case, r: &CaseResult) {
        self.flows += usize::from(case.flow.is_some());
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

/// Where a report goes: a temporary file beside it, put in its place when
/// the run is over (so a run that ends early leaves any earlier report
/// as it was, never an empty or cut one), or, for a path that is not a
/// regular file (`/dev/stdout`, a FIFO), that path itself.
enum Sink {
    Staged(BufWriter<tempfile::NamedTempFile>),
    Direct(BufWriter<File>),
}

impl Sink {
    fn open(path: &Path, dir: &Path) -> std::io::Result<Sink> {
        let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
        if special {
            let file = std::fs::OpenOptions::new().write(true).open(path)?;
            return Ok(Sink::Direct(BufWriter::with_capacity(64 * 1024, file)));
        }
        // Readable like a file `File::create` makes (not 0600): reports are
        // CI artefacts.
        use std::os::unix::fs::PermissionsExt;
        let staged = tempfile::Builder::new()
            .prefix(".cms-contract-report-")
            .permissions(std::fs::Permissions::from_mode(0o644))
            .tempfile_in(dir)?;
        Ok(Sink::Staged(BufWriter::with_capacity(64 * 1024, staged)))
    }

    /// Everything written: flushed and, if staged, renamed onto `path`.
    fn close(self, path: &Path) -> std::io::Result<()> {
        match self {
            Sink::Direct(mut f) => f.flush(),
            Sink::Staged(f) => {
                let staged = f.into_inner().map_err(|e| e.into_error())?;
                staged.persist(path).map(drop).map_err(|e| e.error)
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Staged(f) => f.write(buf),
            Sink::Direct(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Staged(f) => f.flush(),
            Sink::Direct(f) => f.flush(),
        }
    }
}

/// One report being written: JSON straight to its sink; JUnit and HTML to
/// spools beside it, then to the sink at the end.
enum Writer {
    Junit(junit::Writer, Sink),
    Json(json::Writer<Sink>),
    Html(html::Writer, Sink),
}

impl Writer {
    fn push(&mut self, r: &CaseResult) -> std::io::Result<()> {
        match self {
            Writer::Junit(w, _) => w.push(r),
            Writer::Json(w) => w.push(r),
            Writer::Html(w, _) => w.push(r),
        }
    }

    fn finish(self, path: &Path) -> std::io::Result<()> {
        let sink = match self {
            Writer::Junit(w, mut sink) => w.finish(&mut sink).map(|()| sink),
            Writer::Json(w) => w.finish(),
            Writer::Html(w, mut sink) => w.finish(&mut sink).map(|()| sink),
        }?;
        sink.close(path)
    }
}

/// One report file of the run.
struct Report {
    kind: ReportKind,
    path: PathBuf,
    /// `None` once a write failed (the error is in `Reports::failed`).
    writer: Option<Writer>,
}

fn cannot_write(kind: ReportKind, path: &Path, e: impl Into<anyhow::Error>) -> anyhow::Error {
    e.into().context(format!(
        "cannot write the {} report to {}",
        kind.name(),
        path.display()
    ))
}

/// The report files of a run, fed one result at a time. A report that
/// cannot be written is said at once and stops; the others go on.
struct Reports {
    open: Vec<Report>,
    /// The writes that failed, in order.
    failed: Vec<anyhow::Error>,
}

impl Reports {
    fn open<'a>(
        asked: impl IntoIterator<Item = (ReportKind, Option<&'a Path>)>,
        info: &RunInfo,
    ) -> anyhow::Result<Self> {
        let mut open: Vec<Report> = Vec::new();
        for (kind, path) in asked {
            let Some(path) = path else { continue };
            let same = |p: &Path| std::path::absolute(p).ok() == std::path::absolute(path).ok();
            if let Some(other) = open.iter().find(|o| same(&o.path)) {
                anyhow::bail!(
                    "error: the {} and {} reports would both be written to {}; give each its own file",
                    other.kind.name(),
                    kind.name(),
                    path.display()
                );
            }
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let cannot = |e: std::io::Error| cannot_write(kind, path, e);
            let sink = Sink::open(path, dir).map_err(cannot)?;
            let spool = || Spool::file_in(dir).map_err(cannot);
            let writer = match kind {
                ReportKind::Junit => Writer::Junit(junit::Writer::new(spool()?, info), sink),
                ReportKind::Json => Writer::Json(json::Writer::new(sink, info).map_err(cannot)?),
                ReportKind::Html => Writer::Html(html::Writer::new(spool()?, spool()?, info), sink),
            };
            open.push(Report {
                kind,
                path: path.to_path_buf(),
                writer: Some(writer),
            });
        }
        Ok(Reports {
            open,
            failed: Vec::new(),
        })
    }

    fn push(&mut self, r: &CaseResult) {
        for report in &mut self.open {
            let Some(w) = &mut report.writer else {
                continue;
            };
            if let Err(e) = w.push(r) {
                let e = cannot_write(report.kind, &report.path, e);
                note!("{e:#}; the run goes on without it");
                report.writer = None;
                self.failed.push(e);
            }
        }
    }

    /// Finish every report still being written; the errors of all that
    /// could not be.
    fn finish(mut self) -> Vec<anyhow::Error> {
        for report in self.open {
            if let Some(w) = report.writer {
                if let Err(e) = w.finish(&report.path) {
                    self.failed.push(cannot_write(report.kind, &report.path, e));
                }
            }
        }
        self.failed
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
