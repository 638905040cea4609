//! `cms-contract`: the command-line edge. Parses flags, calls the library,
//! prints what the runner decided. Exit codes: 0 all pass, 1 a case failed,
//! 2 usage, configuration or load error. A reader that goes away (`| head`)
//! ends the output quietly, never with a panic; the exit code stays the
//! command's own.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use cms_contract::auth::{Credentials, Timestamp};
use cms_contract::case::{load_paths_with_warnings, Case, LoadOptions};
use cms_contract::contract::Release;
use cms_contract::report::{html, json, junit, text, RunInfo, Style};
use cms_contract::run::{prepare, CaseResult};
use cms_contract::setup::{self, Options, Plan};
use cms_contract::sim::{Fault, SimConfig, Simulator, Variant};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "cms-contract",
    version,
    about = "Contract tests for the Huawei CC-CMS agentbyworkno open API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run case files against a CMS (default: the embedded reference simulator).
    Run(Box<RunArgs>),
    /// List the cases that would run.
    List(SelectArgs),
    /// Validate case files and the profile without sending anything.
    Check(SelectArgs),
    /// Serve the embedded reference simulator.
    Serve(ServeArgs),
    /// Print the auth-v2 Authorization header for a request (AK/SK from CMS_AK/CMS_SK).
    Sign(SignArgs),
    /// Send each case to a baseline and a candidate and classify every difference.
    Compare(Box<CompareArgs>),
    /// Print the JSON Schema of the case-file format (for YAML language servers).
    Schema,
}

#[derive(Args, Clone)]
struct SelectArgs {
    /// Case files or folders [default: cases]
    paths: Vec<PathBuf>,
    /// Target base URL, e.g. https://cms-host:28080 [env: CMS_BASE_URL]
    #[arg(long)]
    target: Option<String>,
    /// Target profile (YAML) [env: CMS_PROFILE]
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Set a variable: --var name=value (repeatable; also CMS_VAR_<name>)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Folder of the JSON Schemas
    #[arg(long, default_value = "schemas/agentbyworkno")]
    schemas: PathBuf,
    /// Only cases whose id contains this text (repeatable: any of them)
    #[arg(long)]
    filter: Vec<String>,
    /// Only cases with this tag (repeatable: any of them)
    #[arg(long)]
    tag: Vec<String>,
    /// Leave out cases with this tag (repeatable)
    #[arg(long)]
    exclude_tag: Vec<String>,
    /// The release the suite expects: 2024-08, 2025-11 or 8.13 [profile: release]
    #[arg(long, value_parser = parse_release)]
    release: Option<Release>,
    /// Most cases after `each:` and `generate:` expansion, for the whole run
    #[arg(long, value_name = "N", default_value_t = cms_contract::case::DEFAULT_MAX_CASES, value_parser = parse_max_cases)]
    max_cases: usize,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    select: SelectArgs,
    /// Cases in flight at once
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Write a JUnit XML report
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a JSON report
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a self-contained HTML report
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Per-request timeout in seconds [default: 10]
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Whole-run timeout in seconds; unfinished cases fail
    #[arg(long, value_name = "SECS", default_value_t = 1800.0)]
    run_timeout: f64,
    /// At most N requests per second (e.g. 5 or 5/s), for live contact centres
    #[arg(long, value_name = "N/s")]
    rate: Option<String>,
    /// Retries for connect errors only, with back-off
    #[arg(long)]
    retries: Option<u32>,
    /// Largest reply accepted, in bytes [default: 1048576]
    #[arg(long, value_name = "BYTES")]
    max_response_bytes: Option<usize>,
    /// Extra trusted CA certificate (PEM)
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// Client certificate (PEM; may also hold the key)
    #[arg(long, value_name = "FILE")]
    cert: Option<PathBuf>,
    /// Client key (PEM)
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Do not verify TLS certificates (prints a warning)
    #[arg(long)]
    insecure: bool,
    /// Print the requests (Authorization redacted) without sending them
    #[arg(long)]
    dry_run: bool,
    /// Record every reply as a snapshot beside its case (__snapshots__/); also CMS_CONTRACT_BLESS=1. Refused in CI
    #[arg(long)]
    bless: bool,
    /// Colour: auto, always, never (NO_COLOR is honoured)
    #[arg(long, default_value = "auto")]
    color: String,
    /// Embedded simulator only: commit this contract violation (self-check)
    #[arg(long, value_name = "NAME")]
    sim_fault: Option<String>,
    /// Embedded simulator only: take this conforming latitude
    #[arg(long, value_name = "NAME")]
    sim_variant: Option<String>,
    /// Embedded simulator only: serve this release (default: the expected one)
    #[arg(long, value_name = "RELEASE", value_parser = parse_release)]
    sim_release: Option<Release>,
}

#[derive(Args)]
struct CompareArgs {
    #[command(flatten)]
    select: SelectArgs,
    /// Baseline: a URL, or `sim[:RELEASE[:FAULT-OR-VARIANT]]` for the embedded simulator
    #[arg(long)]
    baseline: String,
    /// Candidate: a URL, or `sim[:RELEASE[:FAULT-OR-VARIANT]]`
    #[arg(long)]
    candidate: String,
    /// Cases in flight at once, per side
    #[arg(long, short = 'j', default_value_t = 8)]
    jobs: usize,
    /// Write the changes as JSON
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also list data differences (info), not only contract changes
    #[arg(long)]
    verbose: bool,
    /// Whole-run timeout in seconds; unfinished cases count as no reply
    #[arg(long, value_name = "SECS", default_value_t = 1800.0)]
    run_timeout: f64,
}

#[derive(Args)]
struct ServeArgs {
    /// Port to listen on (0: any free port)
    #[arg(long, default_value_t = 28080)]
    port: u16,
    /// Address to bind
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Commit one contract violation (see --list-faults)
    #[arg(long)]
    fault: Option<String>,
    /// Take one conforming latitude
    #[arg(long)]
    variant: Option<String>,
    /// agentbyworkno body shape: wrapped (default) or flat (open question 1;
    /// same as --option agentbyworkno.body_shape=...)
    #[arg(long)]
    body_shape: Option<String>,
    /// agentbyworkno status 9: rejected (default) or allowed (open question 5)
    #[arg(long)]
    status9: Option<String>,
    /// An open-question answer, `[endpoint.]name=value` (repeatable; see --list-faults)
    #[arg(long = "option", value_name = "NAME=VALUE")]
    options: Vec<String>,
    /// Agents change state this many times per second each (default: a static population)
    #[arg(long, value_name = "RATE")]
    churn: Option<f64>,
    /// Clock-skew window for signatures, seconds (open question 3)
    #[arg(long, default_value_t = 900)]
    skew: u64,
    /// List the fault modes, variants and options by endpoint, and exit
    #[arg(long)]
    list_faults: bool,
    /// Serve HTTPS with a freshly generated private CA; its files (ca.pem, server.pem,
    /// client.pem, ...) are written to DIR
    #[arg(long, value_name = "DIR")]
    tls: Option<PathBuf>,
    /// With --tls: require a client certificate signed by the generated CA
    #[arg(long, requires = "tls")]
    require_client_cert: bool,
    /// Release to serve: 2024-08, 2025-11 or 8.13
    #[arg(long, value_parser = parse_release, default_value = "2024-08")]
    release: Release,
}

#[derive(Args)]
struct SignArgs {
    /// HTTP method
    #[arg(long, default_value = "POST")]
    method: String,
    /// Path (and ?query)
    #[arg(long, default_value = cms_contract::contract::ENDPOINT_PATH)]
    path: String,
    /// Body text, or @FILE
    #[arg(long, default_value = "")]
    body: String,
    /// Host value to sign (host:port)
    #[arg(long)]
    host: String,
    /// Headers to sign, comma-separated (host, content-type, content-length)
    #[arg(long, default_value = "host")]
    signed_headers: String,
    /// Content-Type value, when signed
    #[arg(long, default_value = "application/json;charset=UTF-8")]
    content_type: String,
    /// Timestamp YYYY-MM-DDTHH:MM:SSZ [default: now]
    #[arg(long)]
    timestamp: Option<String>,
}

/// Standard output that goes quiet once its reader has gone (`| head`): a
/// broken pipe is not a failure of the command, so the rest of the output
/// is dropped (report files are still written) and the command ends with
/// the exit code it would have had. `println!` would panic instead.
struct Quiet<W> {
    inner: W,
    gone: bool,
}

impl<W: Write> Quiet<W> {
    fn settle<T>(&mut self, r: std::io::Result<T>, gone: T) -> std::io::Result<T> {
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.gone = true;
                Ok(gone)
            }
            other => other,
        }
    }
}

impl<W: Write> Write for Quiet<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.gone {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.settle(r, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.gone {
            return Ok(());
        }
        let r = self.inner.flush();
        self.settle(r, ())
    }
}

/// Standard output for everything the commands print.
fn stdout() -> Quiet<std::io::StdoutLock<'static>> {
    Quiet {
        inner: std::io::stdout().lock(),
        gone: false,
    }
}

/// `eprintln!` without its panic: a message for a closed stderr is dropped.
macro_rules! note {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd_run(*a),
        Command::List(a) => cmd_list(a, false),
        Command::Check(a) => cmd_list(a, true),
        Command::Serve(a) => cmd_serve(a),
        Command::Sign(a) => cmd_sign(a),
        Command::Compare(a) => cmd_compare(*a),
        Command::Schema => writeln!(stdout(), "{}", cms_contract::case::case_file_schema())
            .map(|()| ExitCode::SUCCESS)
            .map_err(anyhow::Error::from),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Library errors render themselves (rustc style); anyhow adds context.
            note!("{e:#}");
            ExitCode::from(2)
        }
    }
}

/// A failure that already printed its located message.
#[derive(Debug)]
struct Printed(String);
impl std::fmt::Display for Printed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.trim_end())
    }
}
impl std::error::Error for Printed {}

fn options(s: &SelectArgs) -> Options {
    Options {
        target: s.target.clone(),
        profile: s.profile.clone(),
        vars: s.vars.clone(),
        release: s.release,
        ..Options::default()
    }
}

/// Parse an optional fault or variant name, with a pointer to the list.
fn named<T>(
    name: Option<&str>,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> anyhow::Result<Option<T>> {
    name.map(|n| {
        parse(n).ok_or_else(|| {
            anyhow::anyhow!("error: unknown {what} `{n}`; see `cms-contract serve --list-faults`")
        })
    })
    .transpose()
}

fn parse_max_cases(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{s}` is not a number of cases of at least 1")),
    }
}

fn parse_release(s: &str) -> Result<Release, String> {
    Release::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Release::ALL.iter().map(|r| r.name()).collect();
        format!("unknown release `{s}`; releases: {}", names.join(", "))
    })
}

fn load(s: &SelectArgs, plan: &Plan) -> anyhow::Result<Vec<Case>> {
    let paths = if s.paths.is_empty() {
        vec![PathBuf::from("cases")]
    } else {
        s.paths.clone()
    };
    let opts = LoadOptions {
        vars: plan.vars.clone(),
        schema_dir: s.schemas.clone(),
        release: plan.release,
        max_cases: s.max_cases,
    };
    let mut warnings = Vec::new();
    let loaded = load_paths_with_warnings(&paths, &opts, &mut warnings);
    for w in &warnings {
        eprintln!("{w}");
    }
    let cases = loaded.map_err(|e| Printed(e.render()))?;
    let mut excluded = plan.exclude_tags.clone();
    excluded.extend(s.exclude_tag.iter().cloned());
    let selected: Vec<Case> = cases
        .into_iter()
        .filter(|c| s.filter.is_empty() || s.filter.iter().any(|f| c.id().contains(f.as_str())))
        .filter(|c| s.tag.is_empty() || c.tags.iter().any(|t| s.tag.contains(t)))
        .filter(|c| !c.tags.iter().any(|t| excluded.contains(t)))
        .collect();
    if selected.is_empty() {
        anyhow::bail!(
            "error: no case matches the selection (--filter {:?}, --tag {:?}, excluded tags {:?}); an empty run is a failure",
            s.filter,
            s.tag,
            excluded
        );
    }
    Ok(selected)
}

fn cmd_list(s: SelectArgs, check_only: bool) -> anyhow::Result<ExitCode> {
    let plan =
        setup::plan(&options(&s), &setup::process_env()).map_err(|e| Printed(e.to_string()))?;
    let cases = load(&s, &plan)?;
    if check_only {
        // Compile the schemas too, and make sure every schema a case names exists.
        let schemas = setup::schemas(&s.schemas, &plan).map_err(|e| Printed(e.to_string()))?;
        let mut bad = 0;
        for c in &cases {
            if let Some((name, loc)) = &c.expect.schema {
                let known = schemas.get(c.expect.release).names();
                if !known.contains(name) {
                    note!(
                        "error: unknown schema `{name}`\n --> {loc}\n  = help: known schemas: {}",
                        known.join(", ")
                    );
                    bad += 1;
                }
            }
        }
        if bad > 0 {
            return Ok(ExitCode::from(2));
        }
        writeln!(
            stdout(),
            "ok: {} cases, {} schemas (release {}), target {}",
            cases.len(),
            schemas.get(plan.release).names().len(),
            plan.release,
            describe_target(&plan)
        )?;
    } else {
        let mut out = stdout();
        for c in &cases {
            writeln!(out, "{}  ({})", c.id(), c.source)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn describe_target(plan: &Plan) -> String {
    if plan.embedded.is_some() {
        "embedded simulator".into()
    } else {
        plan.target.base_url.clone()
    }
}

fn parse_rate(s: &str) -> anyhow::Result<f64> {
    let n = s.trim_end_matches("/s").trim();
    match n.parse::<f64>() {
        Ok(r) if r.is_finite() && r >= cms_contract::target::Target::MIN_RATE => Ok(r),
        _ => anyhow::bail!(
            "error: --rate `{s}` is not a number of requests per second of at least 0.01 (e.g. 5 or 5/s)"
        ),
    }
}

fn secs(v: f64, flag: &str) -> anyhow::Result<Duration> {
    if v.is_finite() && v > 0.0 && v <= 86_400.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        anyhow::bail!("error: {flag} must be between 0 and 86400 seconds")
    }
}

fn cmd_run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let mut opts = options(&a.select);
    opts.cacert = a.cacert.clone();
    opts.client_cert = a.cert.clone();
    opts.client_key = a.key.clone();
    opts.insecure = a.insecure;
    opts.timeout = a.timeout.map(|t| secs(t, "--timeout")).transpose()?;
    opts.rate = a.rate.as_deref().map(parse_rate).transpose()?;
    opts.retries = a.retries;
    opts.max_response_bytes = a.max_response_bytes;
    opts.sim_fault = named(a.sim_fault.as_deref(), Fault::parse, "fault")?;
    opts.sim_variant = named(a.sim_variant.as_deref(), Variant::parse, "variant")?;
    opts.sim_release = a.sim_release;
    let run_timeout = secs(a.run_timeout, "--run-timeout")?;
    let style = match a.color.as_str() {
        "auto" => Style::detect(std::io::stdout().is_terminal()),
        "always" => Style { color: true },
        "never" => Style { color: false },
        other => anyhow::bail!("error: --color `{other}` must be auto, always or never"),
    };
    let plan = setup::plan(&opts, &setup::process_env()).map_err(|e| Printed(e.to_string()))?;
    if (opts.sim_fault.is_some() || opts.sim_variant.is_some() || opts.sim_release.is_some())
        && plan.embedded.is_none()
    {
        anyhow::bail!("error: --sim-fault/--sim-variant/--sim-release apply to the embedded simulator only; drop --target/CMS_BASE_URL");
    }
    let bless = cms_contract::bless::requested(a.bless, &|k| std::env::var(k).ok())
        .map_err(|e| anyhow::anyhow!("error: {e}"))?;
    let mut cases = load(&a.select, &plan)?;
    if bless {
        cms_contract::bless::forget_snapshots(&mut cases);
    }
    for n in &plan.notices {
        note!("{n}");
    }
    if a.dry_run {
        return dry_run(&cases, &plan);
    }
    let jobs = a.jobs.or(plan.jobs).unwrap_or(8).clamp(1, 1024);
    let schemas = setup::schemas(&a.select.schemas, &plan).map_err(|e| Printed(e.to_string()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let target_name = describe_target(&plan);
    let info = RunInfo {
        target: target_name.clone(),
        tls_verify: !plan.target.tls.insecure,
    };
    let results = rt.block_on(async {
        let live = setup::start(plan, schemas)
            .await
            .map_err(|e| Printed(e.to_string()))?;
        let runner = live.runner.with_deadline(Instant::now() + run_timeout);
        note!(
            "running {} cases against {target_name} ({jobs} at a time)",
            cases.len()
        );
        let mut progress = Progress::new(cases.len(), style);
        let results = runner.run_all(&cases, jobs, |r| progress.update(r)).await;
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

fn dry_run(cases: &[Case], plan: &Plan) -> anyhow::Result<ExitCode> {
    let mut target = plan.target.clone();
    // The embedded simulator's port is only known once it runs: prepare for
    // a real URL (requests are built with a URL API), then show `PORT`.
    const EMBEDDED: &str = "http://127.0.0.1:0";
    if plan.embedded.is_some() {
        target.base_url = EMBEDDED.into();
    } else if target.credentials.is_none() {
        note!("note: CMS_AK/CMS_SK are not set, so these requests are shown unsigned");
    }
    let now = Timestamp::now();
    let mut out = stdout();
    for c in cases {
        let prepared = prepare(c, &target, now);
        let mut p = prepared.redacted();
        if plan.embedded.is_some() {
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

/// Progress: a rewritten counter line on a TTY, one plain line per case otherwise.
struct Progress {
    total: usize,
    done: usize,
    failed: usize,
    tty: bool,
    style: Style,
}

impl Progress {
    fn new(total: usize, style: Style) -> Self {
        let tty = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Self {
            total,
            done: 0,
            failed: 0,
            tty,
            style,
        }
    }

    fn update(&mut self, r: &CaseResult) {
        self.done += 1;
        if !r.failures.is_empty() {
            self.failed += 1;
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let width = 30;
            let filled = self.done * width / self.total.max(1);
            let _ = write!(
                err,
                "\r[{}{}] {}/{} cases, {} failed ",
                "=".repeat(filled),
                " ".repeat(width - filled),
                self.done,
                self.total,
                self.failed
            );
        } else {
            let _ = writeln!(err, "{}", text::line(r, self.style));
        }
    }

    fn finish(&self) {
        if self.tty {
            note!();
        }
    }
}

fn cmd_serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    if a.list_faults {
        return list_faults();
    }
    let mut options = std::collections::BTreeMap::new();
    for (key, value) in [("body_shape", &a.body_shape), ("status9", &a.status9)] {
        if let Some(v) = value {
            options.insert(format!("agentbyworkno.{key}"), v.clone());
        }
    }
    for pair in &a.options {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("error: --option `{pair}` is not NAME=VALUE (see --list-faults)")
        })?;
        options.insert(k.to_owned(), v.to_owned());
    }
    let mut cfg = SimConfig {
        fault: named(a.fault.as_deref(), Fault::parse, "fault")?,
        variant: named(a.variant.as_deref(), Variant::parse, "variant")?,
        options,
        churn: a.churn,
        skew_secs: a.skew,
        release: a.release.name().to_owned(),
        ..SimConfig::default()
    };
    cfg.validate().map_err(|e| anyhow::anyhow!("error: {e}"))?;
    match (std::env::var("CMS_AK"), std::env::var("CMS_SK")) {
        (Ok(ak), Ok(sk)) if !ak.is_empty() && !sk.is_empty() => {
            cfg.credentials = Credentials::new(ak, sk)
        }
        _ => {}
    }
    let addr: std::net::SocketAddr = format!("{}:{}", a.bind, a.port)
        .parse()
        .with_context(|| format!("`{}:{}` is not an address to bind", a.bind, a.port))?;
    let ak = cfg.credentials.ak.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let tls = match &a.tls {
        None => None,
        Some(dir) => {
            use cms_contract::sim::tls::{generate, ClientAuth};
            let host = a.bind.clone();
            let pki = generate(&["localhost", "127.0.0.1", &host])
                .map_err(|e| anyhow::anyhow!("error: {e}"))?;
            let files = pki
                .write_to(dir)
                .map_err(|e| anyhow::anyhow!("error: {e}"))?;
            let auth = if a.require_client_cert {
                ClientAuth::Required
            } else {
                ClientAuth::Off
            };
            let server = pki
                .server_config(auth)
                .map_err(|e| anyhow::anyhow!("error: {e}"))?;
            note!(
                "TLS: trust {} with --cacert (client certificate: {})",
                files.ca.display(),
                files.client_cert.display()
            );
            Some(server)
        }
    };
    rt.block_on(async move {
        let sim = match tls {
            Some(server) => Simulator::bind_tls(addr, cfg, server).await,
            None => Simulator::bind(addr, cfg).await,
        }
        .with_context(|| format!("cannot listen on {addr}"))?;
        note!(
            "cms-contract simulator listening on {} (release {}, AK {ak}; Ctrl-C stops)",
            sim.base_url(),
            a.release
        );
        tokio::signal::ctrl_c().await.ok();
        sim.shutdown().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `serve --list-faults`: every fault, variant and option, by endpoint.
fn list_faults() -> anyhow::Result<ExitCode> {
    use cms_contract::sim::{options, ENDPOINTS};
    let mut out = stdout();
    let groups: Vec<(Option<&str>, &str)> = std::iter::once((None, "every endpoint"))
        .chain(ENDPOINTS.iter().map(|&(name, _)| (Some(name), name)))
        .collect();
    writeln!(out, "fault modes (each one contract violation):")?;
    for &(endpoint, title) in &groups {
        writeln!(out, "  {title}:")?;
        for f in Fault::all()
            .into_iter()
            .filter(|f| f.endpoint() == endpoint)
        {
            writeln!(out, "    {:<30} {}", f.name(), f.describe())?;
        }
    }
    writeln!(out, "conforming variants (allowed latitude):")?;
    for &(endpoint, title) in &groups {
        let variants: Vec<Variant> = Variant::all()
            .into_iter()
            .filter(|v| v.endpoint() == endpoint)
            .collect();
        if !variants.is_empty() {
            writeln!(out, "  {title}:")?;
        }
        for v in variants {
            writeln!(out, "    {:<30} {}", v.name(), v.describe())?;
        }
    }
    writeln!(
        out,
        "open-question options (--option [ENDPOINT.]NAME=VALUE; the first value is the default):"
    )?;
    for o in options() {
        let name = format!("{}.{}", o.endpoint, o.name);
        writeln!(out, "  {name:<45} {:<36} {}", o.values.join(" | "), o.cites)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_sign(a: SignArgs) -> anyhow::Result<ExitCode> {
    let (Ok(ak), Ok(sk)) = (std::env::var("CMS_AK"), std::env::var("CMS_SK")) else {
        anyhow::bail!("error: set CMS_AK and CMS_SK (secrets come only from the environment)");
    };
    let body = match a.body.strip_prefix('@') {
        Some(file) => {
            std::fs::read(file).with_context(|| format!("cannot read body file {file}"))?
        }
        None => a.body.into_bytes(),
    };
    let ts = match &a.timestamp {
        Some(t) => Timestamp::parse(t).ok_or_else(|| {
            anyhow::anyhow!("error: --timestamp `{t}` is not YYYY-MM-DDTHH:MM:SSZ")
        })?,
        None => Timestamp::now(),
    };
    let mut target = cms_contract::target::Target::new(format!("https://{}", a.host));
    target.signed_headers = a
        .signed_headers
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    target.signed_headers.sort();
    let headers = vec![("Content-Type".to_string(), a.content_type.clone())];
    let value = cms_contract::run::request::sign(
        &Credentials::new(ak, sk),
        ts,
        &target,
        &a.method,
        &a.path,
        &headers,
        &body,
    );
    writeln!(stdout(), "Authorization: {value}")?;
    Ok(ExitCode::SUCCESS)
}

/// `sim`, `sim:RELEASE` or `sim:RELEASE:NAME` (a fault or variant), else a URL.
fn side_options(base: &Options, spec: &str) -> anyhow::Result<Options> {
    let mut o = base.clone();
    let Some(rest) = spec.strip_prefix("sim") else {
        o.target = Some(spec.to_string());
        return Ok(o);
    };
    o.target = None;
    let mut parts = rest
        .trim_start_matches(':')
        .split(':')
        .filter(|p| !p.is_empty());
    if let Some(r) = parts.next() {
        o.sim_release = Some(parse_release(r).map_err(|e| anyhow::anyhow!("error: {spec}: {e}"))?);
    }
    if let Some(name) = parts.next() {
        match (Fault::parse(name), Variant::parse(name)) {
            (Some(f), _) => o.sim_fault = Some(f),
            (None, Some(v)) => o.sim_variant = Some(v),
            _ => anyhow::bail!("error: {spec}: `{name}` is neither a fault nor a variant (see `cms-contract serve --list-faults`)"),
        }
    }
    Ok(o)
}

fn cmd_compare(a: CompareArgs) -> anyhow::Result<ExitCode> {
    if a.select.target.is_some() {
        anyhow::bail!("error: compare takes --baseline and --candidate, not --target");
    }
    let base = options(&a.select);
    let env = setup::process_env();
    let plans = [
        side_options(&base, &a.baseline)?,
        side_options(&base, &a.candidate)?,
    ]
    .map(|o| setup::plan(&o, &env).map_err(|e| Printed(e.to_string())));
    let [baseline, candidate] = plans;
    let (baseline, candidate) = (baseline?, candidate?);
    // One set of cases (the baseline's variables) so both sides get the same requests.
    let cases = load(&a.select, &baseline)?;
    let schemas =
        setup::schemas(&a.select.schemas, &baseline).map_err(|e| Printed(e.to_string()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let jobs = a.jobs.clamp(1, 1024);
    let deadline = Instant::now() + secs(a.run_timeout, "--run-timeout")?;
    let (b, c) = rt.block_on(async {
        for n in baseline.notices.iter().chain(&candidate.notices) {
            note!("{n}");
        }
        let lb = setup::start(baseline, schemas.clone())
            .await
            .map_err(|e| Printed(e.to_string()))?;
        let lc = setup::start(candidate, schemas)
            .await
            .map_err(|e| Printed(e.to_string()))?;
        note!(
            "comparing {} cases: baseline {} vs candidate {}",
            cases.len(),
            a.baseline,
            a.candidate
        );
        let (rb, rc) = (
            lb.runner.clone().with_deadline(deadline),
            lc.runner.clone().with_deadline(deadline),
        );
        let (b, c) = tokio::join!(
            rb.run_all(&cases, jobs, |_| {}),
            rc.run_all(&cases, jobs, |_| {})
        );
        anyhow::Ok((b, c))
    })?;
    let mut cmp = cms_contract::compare::compare(&b, &c);
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
        cmp.changes.retain(|c| {
            c.kind.severity() != cms_contract::compare::Severity::Info || c.case_id.is_none()
        });
    }
    write!(stdout(), "{}", cms_contract::compare::render(&cmp))?;
    Ok(if breaking {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
