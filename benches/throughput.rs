//! Throughput, per-case cost, memory and start-up of the harness, measured
//! against the wire itself (issue 11).
//!
//! `cargo bench --bench throughput` prints, in one run, with the date and
//! the machine:
//!
//! - the **raw ceiling**: a minimal client that only signs (auth-v2) and
//!   sends the same requests over the same number of connections as the
//!   harness uses, with hyper directly (one tight loop per connection, no
//!   checks, the body read and dropped);
//! - **harness cases/s** at 10,000 and 100,000 cases, schemas, matchers and
//!   the contract's invariants on, and the ratio to the ceiling (raw and
//!   harness rounds interleaved, medians of several, and the lowest and
//!   highest ratio of a single round). The harness runs the suite as
//!   `cms-contract run` does: cases built one at a time from the lazy set,
//!   `Runner::run_each` with `Retention::Failures` (`THROUGHPUT_HARNESS=kept`:
//!   as the CLI did before it streamed, every case built first, untimed, and
//!   every result kept by `Runner::run_all`);
//! - **sequential** µs per case (`jobs 1`) beside the raw sequential figure
//!   (one connection);
//! - **peak RSS** at 10k / 100k / 1M cases, each in a child process of its
//!   own (`wait4` gives the child's own peak), so runs do not pollute each
//!   other: the library path that streams results (lazy cases,
//!   `Runner::run_each` with `Retention::Failures`: results handed on and
//!   dropped), and the `cms-contract run` CLI as shipped, without reports
//!   (`cli`) and writing all three of `--junit`, `--json` and `--html`
//!   (`reports`), up to 1M cases like the library path;
//! - **start-up**: wall time of a one-case `cms-contract run` (median).
//!
//! The simulator is the embedded one, in this process, on the same tokio
//! runtime as the client, built as `cms-contract run` builds it for the
//! part's jobs (`run::runtime`: one worker thread at jobs 1): that is how
//! the harness runs with no target configured, and the raw loop and the
//! harness talk to the very same simulator instance, so the server's share
//! of the two CPUs is the same on both sides of the ratio. (A separate
//! server process would compete for the same two cores anyway.)
//!
//! The suite is generated like the issue's: each case one signed POST to
//! agentbyworkno, checked for status, resultCode, workNo and a status range
//! plus the shipped contract's schema (`success.json`) and invariants
//! (`schemas/agentbyworkno`). Agents 40000..=49999 (the simulator's large
//! VDN) are cycled, ten thousand cases per `each:` range.
//!
//! `THROUGHPUT_SCALE=0.1` scales every size down (a quick check);
//! `THROUGHPUT_CHILD` is internal (a child process's job). Without `--bench`
//! (`cargo test --benches`) it runs one small smoke round. All traffic goes to
//! 127.0.0.1; every loop is bounded by its case count.

mod common;

/// The CLI's allocator (src/bin/cms-contract/main.rs), so that the harness
/// is measured as `cms-contract run` runs it. The raw loop shares the
/// process, and so the allocator: the ratio is not flattered by it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use bytes::Bytes;
use cms_contract::auth::{self, CanonicalInput, Credentials, Timestamp};
use cms_contract::case::{Case, CaseSet};
use cms_contract::embedded::simulator;
use cms_contract::run::{prepare, Retention, Runner};
use cms_contract::session::{Live, Session, SessionOptions};
use cms_contract::settings::{Env, Layer};
use http_body_util::{BodyExt, Full};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What one bench run measures.
struct Plan {
    /// Suite sizes for the parallel throughput figure.
    sizes: Vec<usize>,
    /// Interleaved raw/harness rounds per size.
    rounds: Vec<usize>,
    /// Cases of the sequential figure, and its rounds.
    seq_cases: usize,
    seq_rounds: usize,
    /// Suite sizes for the library-path peak RSS (each in a child).
    rss_sizes: Vec<usize>,
    /// Suite sizes for the CLI's peak RSS (each in a child), without and
    /// with report files.
    cli_sizes: Vec<usize>,
    /// One-case CLI runs for the start-up figure.
    startup_runs: usize,
    full: bool,
    /// `THROUGHPUT_ONLY`: the parts to run (default: all).
    only: Option<Vec<String>>,
}

/// The parts `THROUGHPUT_ONLY` may name.
const PARTS: [&str; 6] = [
    "throughput",
    "sequential",
    "rss",
    "cli",
    "reports",
    "startup",
];

impl Plan {
    fn wants(&self, part: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|p| p == part))
    }

    fn new(full: bool) -> Plan {
        let only = std::env::var("THROUGHPUT_ONLY").ok().map(|s| {
            let parts: Vec<String> = s.split(',').map(|p| p.trim().to_owned()).collect();
            for p in &parts {
                assert!(
                    PARTS.contains(&p.as_str()),
                    "THROUGHPUT_ONLY: unknown part `{p}`; the parts are {}",
                    PARTS.join(", ")
                );
            }
            parts
        });
        if !full {
            return Plan {
                sizes: vec![200],
                rounds: vec![1],
                seq_cases: 50,
                seq_rounds: 1,
                rss_sizes: vec![200],
                cli_sizes: vec![],
                startup_runs: 1,
                full,
                only,
            };
        }
        let scale: f64 = std::env::var("THROUGHPUT_SCALE")
            .ok()
            .map(|s| {
                s.parse()
                    .ok()
                    .filter(|x: &f64| *x > 0.0 && *x <= 1.0)
                    .unwrap_or_else(|| panic!("THROUGHPUT_SCALE `{s}` must be a number in (0, 1]"))
            })
            .unwrap_or(1.0);
        let n = |x: usize| ((x as f64 * scale) as usize).max(100);
        Plan {
            sizes: vec![n(10_000), n(100_000)],
            rounds: vec![5, 3],
            seq_cases: n(2_000),
            seq_rounds: 5,
            rss_sizes: vec![n(10_000), n(100_000), n(1_000_000)],
            cli_sizes: vec![n(10_000), n(100_000), n(1_000_000)],
            startup_runs: 21,
            full,
            only,
        }
    }
}

/// The generated suite folder: `_defaults.yaml` naming the shipped contract
/// and a `cases.yaml` of `n` cases, `per_range` per `each:` over the
/// simulator's agents 40000..=49999.
fn write_suite(dir: &Path, n: usize, per_range: usize) -> PathBuf {
    let suite = dir.join("bench");
    std::fs::create_dir_all(&suite).expect("create the suite folder");
    std::fs::write(
        suite.join("_defaults.yaml"),
        "contract: agentbyworkno\nrequest:\n  auth: signed\nexpect:\n  status: 200\n  json: true\n",
    )
    .expect("write _defaults.yaml");
    let mut text = String::from("cases:\n");
    let mut left = n;
    let mut k = 0;
    while left > 0 {
        let take = left.min(per_range);
        if per_range <= 10_000 {
            // Agents cycle: agentId is the `each` value.
            text.push_str(&format!(
                "  - name: agents_{k}\n    each: {{var: agent, values: \"40000..={}\"}}\n    request:\n      query: {{ccId: 1, vdn: 40, agentId: \"${{agent}}\"}}\n    expect:\n      schema: success.json\n      body:\n        resultCode: \"0100000\"\n        resultDesc: {{workNo: \"${{agent}}\", status: {{$gte: 0, $lte: 9}}}}\n",
                40_000 + take - 1
            ));
        } else {
            // One `each:` over a large range (the 1M figure): one agent.
            text.push_str(&format!(
                "  - name: many_{k}\n    each: {{var: n, values: \"1..={take}\"}}\n    request:\n      query: {{ccId: 1, vdn: 40, agentId: 40000}}\n    expect:\n      schema: success.json\n      body:\n        resultCode: \"0100000\"\n        resultDesc: {{workNo: 40000, status: {{$gte: 0, $lte: 9}}}}\n"
            ));
        }
        left -= take;
        k += 1;
    }
    std::fs::write(suite.join("cases.yaml"), text).expect("write cases.yaml");
    suite
}

/// A session over the shipped contracts with the embedded simulator, no
/// `CMS_*` variable from the caller's environment (it could name a real
/// target).
fn session(max_cases: usize) -> Session {
    let flags = Layer {
        max_cases: Some(max_cases.to_string().parse().expect("a case limit")),
        ..Layer::default()
    };
    Session::prepare(
        SessionOptions {
            flags,
            schemas: Some(root().join("schemas")),
            embedded: Some(simulator()),
            force_embedded: true,
        },
        &Env::new(),
    )
    .unwrap_or_else(|e| panic!("session: {e}"))
}

fn load(session: &Session, suite: &Path) -> CaseSet {
    session
        .load(&[suite.to_path_buf()], &mut Vec::new())
        .unwrap_or_else(|e| panic!("the generated suite loads: {}", e.render()))
}

/// One request of the raw loop: what the harness sends, less Authorization,
/// which the loop makes itself.
struct RawRequest {
    path: String,
    content_type: String,
    body: Bytes,
}

/// The raw loop's view of the harness's requests for `cases`.
fn raw_requests<'c>(
    runner: &Runner,
    session: &Session,
    cases: impl IntoIterator<Item = &'c Case>,
) -> Vec<RawRequest> {
    let now = Timestamp::now();
    cases
        .into_iter()
        .map(|c| {
            let p = prepare(c, runner.target(), session.options(), now);
            let url = url::Url::parse(&p.url).expect("a URL");
            let header = |n: &str| {
                p.headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(n))
                    .map(|(_, v)| v.clone())
            };
            assert_eq!(p.method, "POST");
            assert!(url.query().is_none());
            RawRequest {
                path: url.path().to_owned(),
                content_type: header("content-type").expect("a Content-Type"),
                body: Bytes::from(p.body),
            }
        })
        .collect()
}

/// CPU time (user and system) this process has used, and its context
/// switches (voluntary and not): both clients, the simulator and the
/// runtime, all of it in this process.
fn process_usage() -> (Duration, u64) {
    // SAFETY: an all-zero rusage is a valid value; getrusage fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(
        rc,
        0,
        "getrusage failed: {}",
        std::io::Error::last_os_error()
    );
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    let switches = usage.ru_nvcsw.max(0) as u64 + usage.ru_nivcsw.max(0) as u64;
    (tv(usage.ru_utime) + tv(usage.ru_stime), switches)
}

/// Wall and CPU time of one timed part. On this shared machine the wall
/// time depends on what else runs; the CPU time a part costs much less so.
#[derive(Clone, Copy)]
struct Timing {
    wall: Duration,
    cpu: Duration,
    /// Context switches of the process's threads: each is a thread that
    /// slept and was woken (or was preempted).
    switches: u64,
}

/// A started [`Timing`].
struct Clock(Instant, (Duration, u64));

impl Clock {
    fn start() -> Clock {
        Clock(Instant::now(), process_usage())
    }

    fn stop(&self) -> Timing {
        let (cpu, switches) = process_usage();
        Timing {
            wall: self.0.elapsed(),
            cpu: cpu.saturating_sub(self.1 .0),
            switches: switches.saturating_sub(self.1 .1),
        }
    }
}

/// The embedded simulator started on the current runtime, with both paths
/// warmed up on up to 2,000 cases of `set`, `jobs` at a time.
async fn warm(session: &Session, set: &CaseSet, jobs: usize, mode: Mode) -> Live {
    let live: Live = session.start().await.expect("start the simulator");
    let runner = &live.runner;
    let (authority, creds) = raw_target(runner);
    let n = set.len().min(2_000);
    let reqs = Arc::new(raw_requests(runner, session, &built(set, n)));
    let _ = harness(runner, set, n, jobs, mode).await;
    let _ = raw(&authority, &creds, &reqs, jobs).await;
    live
}

/// Where the raw loop sends, and what it signs with: the runner's target.
fn raw_target(runner: &Runner) -> (String, Credentials) {
    let creds = runner
        .target()
        .credentials
        .clone()
        .expect("the simulator's credentials");
    (runner.target().authority(), creds)
}

/// Sign and send every request over `conns` connections, each a tight loop
/// taking the next request; the reply body is read and dropped. Returns the
/// time taken and the replies that were not 200.
async fn raw(
    authority: &str,
    creds: &Credentials,
    reqs: &Arc<Vec<RawRequest>>,
    conns: usize,
) -> (Timing, usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let clock = Clock::start();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..conns {
        let (next, reqs, creds, authority) = (
            next.clone(),
            reqs.clone(),
            creds.clone(),
            authority.to_owned(),
        );
        tasks.spawn(async move {
            let stream = tokio::net::TcpStream::connect(&authority)
                .await
                .expect("connect to the simulator");
            stream.set_nodelay(true).expect("nodelay");
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .expect("HTTP/1 handshake");
            tokio::spawn(conn);
            let signed = [("host".to_owned(), authority.clone())];
            let mut bad = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(r) = reqs.get(i) else { break };
                let authorization = auth::authorization(
                    &creds,
                    Timestamp::now(),
                    &CanonicalInput {
                        method: "POST",
                        path: &r.path,
                        query: &[],
                        headers: &signed,
                        body: &r.body,
                    },
                );
                let req = hyper::Request::post(r.path.as_str())
                    .header("host", authority.as_str())
                    .header("content-type", r.content_type.as_str())
                    .header("authorization", authorization)
                    .body(Full::new(r.body.clone()))
                    .expect("a request");
                let resp = sender.send_request(req).await.expect("a reply");
                bad += usize::from(resp.status() != 200);
                let _ = resp.into_body().collect().await.expect("the body");
            }
            bad
        });
    }
    let mut bad = 0;
    while let Some(b) = tasks.join_next().await {
        bad += b.expect("raw task");
    }
    (clock.stop(), bad)
}

/// How the harness side of the ratio runs (`THROUGHPUT_HARNESS`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `streaming` (the default), as `cms-contract run` runs a suite: cases
    /// built one at a time from the lazy set, `Runner::run_each` with
    /// `Retention::Failures`, each result handed on and dropped.
    Streaming,
    /// `kept`, as the CLI ran before it streamed (and as the first figures
    /// of the README were taken): every case built up front (not timed),
    /// `Runner::run_all`, every result kept with its request and reply
    /// until the clock stops.
    Kept,
}

impl Mode {
    fn from_env() -> Mode {
        match std::env::var("THROUGHPUT_HARNESS").as_deref() {
            Err(_) | Ok("streaming") => Mode::Streaming,
            Ok("kept") => Mode::Kept,
            Ok(other) => panic!("THROUGHPUT_HARNESS `{other}`: expected `streaming` or `kept`"),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Mode::Streaming => "streaming (lazy cases, run_each, Retention::Failures)",
            Mode::Kept => "kept (cases built first, run_all, every result kept)",
        }
    }
}

/// The harness on the first `n` cases of `set`, `jobs` in flight, in
/// `mode`. Returns the time taken and the red cases.
async fn harness(
    runner: &Runner,
    set: &CaseSet,
    n: usize,
    jobs: usize,
    mode: Mode,
) -> (Timing, usize) {
    let cases = set.iter().take(n).map(|c| c.expect("case builds"));
    match mode {
        Mode::Streaming => {
            let runner = runner.clone().with_retention(Retention::Failures);
            let mut red = 0;
            let clock = Clock::start();
            runner
                .run_each(cases, jobs, |_, r| red += usize::from(r.outcome().is_red()))
                .await;
            (clock.stop(), red)
        }
        Mode::Kept => {
            let cases: Vec<Case> = cases.collect();
            let clock = Clock::start();
            let results = runner.run_all(&cases, jobs, |_| {}).await;
            let took = clock.stop();
            let red = results.iter().filter(|r| r.outcome().is_red()).count();
            drop(results);
            (took, red)
        }
    }
}

/// The first `n` cases of `set`, built.
fn built(set: &CaseSet, n: usize) -> Vec<Case> {
    set.iter()
        .take(n)
        .map(|c| c.expect("case builds"))
        .collect()
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// `12345.6` as `12,346`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn spread(xs: &[f64]) -> String {
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{}–{}", thousands(lo), thousands(hi))
}

/// `VmHWM` (peak resident set) of this process since its `exec`, in KiB.
fn own_peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The wrapper's job: run the command in its arguments, then print its
/// exit code, peak RSS (KiB) and wall time (s).
fn wrapper(args: &[String]) {
    let mut cmd = Command::new(&args[0]);
    cmd.args(&args[1..]).stderr(Stdio::null());
    let (status, kib, took, _) = common::wait_child(cmd);
    println!(
        "{} {kib} {}",
        status.code().unwrap_or(-1),
        took.as_secs_f64()
    );
}

/// A fresh copy of this bench doing `job` (see [`main`]), without any
/// `CMS_*` variable of the caller's environment (it could name a real target).
fn job(job: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("this bench's path"));
    cmd.env("THROUGHPUT_CHILD", job).stderr(Stdio::inherit());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CMS_")) {
        cmd.env_remove(k);
    }
    cmd
}

/// `cmd`'s exit code, peak RSS (KiB), wall time and stdout, measured by a
/// small wrapper process (see [`wait_child`]).
fn wrapped(cmd: &Command) -> Option<(i32, u64, Duration)> {
    let mut w = job("wrap");
    w.arg(cmd.get_program()).args(cmd.get_args());
    if let Some(d) = cmd.get_current_dir() {
        w.current_dir(d);
    }
    let out = w.output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut f = text.split_whitespace();
    let code = f.next()?.parse().ok()?;
    let kib = f.next()?.parse().ok()?;
    let secs: f64 = f.next()?.parse().ok()?;
    Some((code, kib, Duration::from_secs_f64(secs)))
}

/// A child's job: run an `n`-case suite through the library, as a
/// streaming front end would (cases built one at a time from the lazy set,
/// results handed on and dropped), and print `cases red seconds`.
fn child(n: usize) {
    let dir = std::env::temp_dir().join(format!("cms-bench-child-{}", std::process::id()));
    let suite = write_suite(&dir, n, if n > 100_000 { n } else { 10_000 });
    let session = session(n);
    let set = load(&session, &suite);
    // For profiling (`perf record` on a child): THROUGHPUT_CHILD_JOBS=1 is
    // the sequential path.
    let jobs = std::env::var("THROUGHPUT_CHILD_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(session.settings.jobs.get());
    let rt = cms_contract::run::runtime(jobs).expect("runtime");
    let (count, red, took) = rt.block_on(async {
        let live = session.start().await.expect("start the simulator");
        let started = Instant::now();
        let (mut count, mut red) = (0usize, 0usize);
        // Cases are built one at a time from the lazy set; a passing
        // result keeps no request or reply and is dropped once counted.
        let runner = live.runner.clone().with_retention(Retention::Failures);
        runner
            .run_each(set.iter().map(|c| c.expect("case builds")), jobs, |_, r| {
                count += 1;
                red += usize::from(r.outcome().is_red());
            })
            .await;
        (count, red, started.elapsed())
    });
    let _ = std::fs::remove_dir_all(&dir);
    println!("{count} {red} {} {}", took.as_secs_f64(), own_peak_kib());
}

/// Peak RSS (MiB) of the library path on an `n`-case suite, in a child,
/// its cases/s and its red cases.
fn rss_library(n: usize) -> Option<(f64, f64, usize)> {
    let out = job(&n.to_string()).output().ok()?;
    if !out.status.success() {
        println!(
            "  library path, {n} cases: the child failed ({})",
            out.status
        );
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut f = text.split_whitespace();
    let count: usize = f.next()?.parse().ok()?;
    let red: usize = f.next()?.parse().ok()?;
    let secs: f64 = f.next()?.parse().ok()?;
    let kib: f64 = f.next()?.parse().ok()?;
    if count != n {
        println!("  library path: ran {count} of {n} cases");
    }
    Some((kib / 1024.0, count as f64 / secs, red))
}

/// Peak RSS (MiB) and wall time of `cms-contract run` on the suite in `dir`;
/// with `reports`, writing `--junit`, `--json` and `--html` there (and
/// their total size in MiB, the files removed after).
fn rss_cli(suite: &Path, n: usize, reports: Option<&Path>) -> Option<(f64, Duration, f64)> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
    cmd.arg("run")
        .arg(suite)
        .args(["--color", "never", "--max-cases", &n.to_string()])
        .current_dir(root());
    let files: Vec<PathBuf> = reports.map_or_else(Vec::new, |d| {
        std::fs::create_dir_all(d).expect("create the reports folder");
        ["junit.xml", "report.json", "report.html"]
            .iter()
            .map(|f| d.join(f))
            .collect()
    });
    for (flag, file) in ["--junit", "--json", "--html"].iter().zip(&files) {
        cmd.arg(flag).arg(file);
    }
    let (code, kib, took) = wrapped(&cmd)?;
    let size: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    for f in &files {
        let _ = std::fs::remove_file(f);
    }
    if code != 0 {
        println!("  cms-contract run, {n} cases: exit code {code}");
        return None;
    }
    Some((kib as f64 / 1024.0, took, size as f64 / 1024.0 / 1024.0))
}

/// Wall time of a one-case `cms-contract run`, `runs` times; the median and
/// the minimum.
fn startup(suite: &Path, runs: usize) -> Option<(Duration, Duration)> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
        cmd.arg("run")
            .arg(suite)
            .args(["--color", "never"])
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CMS_")) {
            cmd.env_remove(k);
        }
        let started = Instant::now();
        let status = cmd.status().ok()?;
        let took = started.elapsed();
        if !status.success() {
            println!("  start-up: the one-case run failed ({status})");
            return None;
        }
        times.push(took);
    }
    times.sort();
    Some((times[times.len() / 2], times[0]))
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or_else(String::new, |kb| {
            format!(", {:.0} GiB", kb / 1024.0 / 1024.0)
        });
    format!("{cores} cores ({model}{mem})")
}

/// One size's parallel figures.
struct Row {
    cases: usize,
    raw: Vec<f64>,
    harness: Vec<f64>,
    /// CPU µs per request / case, per round.
    raw_cpu: Vec<f64>,
    harness_cpu: Vec<f64>,
    /// Context switches per request / case.
    raw_switches: Vec<f64>,
    harness_switches: Vec<f64>,
    red: usize,
    raw_bad: usize,
}

impl Row {
    fn ratio(&self) -> f64 {
        median(&self.harness) / median(&self.raw)
    }

    /// Raw CPU per request over harness CPU per case: the ratio the two
    /// cores would give if nothing else ran on them.
    fn cpu_ratio(&self) -> f64 {
        median(&self.raw_cpu) / median(&self.harness_cpu)
    }

    /// Each round's harness / raw, lowest to highest: the noise of the ratio.
    fn round_ratios(&self) -> String {
        let r: Vec<f64> = self
            .harness
            .iter()
            .zip(&self.raw)
            .map(|(h, r)| h / r * 100.0)
            .collect();
        let lo = r.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = r.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{lo:.0}–{hi:.0} %")
    }
}

fn main() {
    if let Ok(n) = std::env::var("THROUGHPUT_CHILD") {
        if n == "wrap" {
            wrapper(&std::env::args().skip(1).collect::<Vec<_>>());
        } else {
            child(
                n.parse()
                    .expect("THROUGHPUT_CHILD is a case count or `wrap`"),
            );
        }
        return;
    }
    let full = std::env::args().any(|a| a == "--bench");
    let plan = Plan::new(full);
    let dir = std::env::temp_dir().join(format!("cms-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let max = *plan.sizes.iter().max().unwrap_or(&1);
    let session = session(max.max(plan.seq_cases));
    let jobs = session.settings.jobs.get();
    println!(
        "throughput: {} · {} · build {} · embedded simulator in this process, on the client's tokio runtime as `cms-contract run` builds it ({} worker threads; 1 for the sequential part) · jobs {jobs} (the default), raw: {jobs} connections",
        Timestamp::now(),
        machine(),
        if cfg!(debug_assertions) { "debug" } else { "release" },
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    let sizes: Vec<usize> = if plan.wants("throughput") {
        plan.sizes.clone()
    } else {
        vec![]
    };
    let seq_sizes: Vec<usize> = if plan.wants("sequential") {
        vec![plan.seq_cases]
    } else {
        vec![]
    };
    let mode = Mode::from_env();
    println!("  harness: {}", mode.describe());
    let suites: Vec<(usize, CaseSet)> = sizes
        .iter()
        .chain(&seq_sizes)
        .map(|&n| {
            let suite = write_suite(&dir.join(format!("s{n}")), n, 10_000);
            let set = load(&session, &suite);
            assert_eq!(set.len(), n);
            (n, set)
        })
        .collect();
    // Each part on the runtime `cms-contract run` builds for its jobs
    // (`run::runtime`: one worker thread at jobs 1), with a simulator of
    // its own on it, warmed up on both paths: connections, schemas,
    // allocator.
    let rows = if sizes.is_empty() {
        vec![]
    } else {
        let rt = cms_contract::run::runtime(jobs).expect("tokio runtime");
        rt.block_on(async {
            let live = warm(&session, &suites[0].1, jobs, mode).await;
            let runner = &live.runner;
            let (authority, creds) = raw_target(runner);
            let mut rows = Vec::new();
            for (i, &n) in sizes.iter().enumerate() {
                let set = &suites.iter().find(|(m, _)| *m == n).expect("suite").1;
                let mut row = Row {
                    cases: n,
                    raw: vec![],
                    harness: vec![],
                    raw_cpu: vec![],
                    harness_cpu: vec![],
                    raw_switches: vec![],
                    harness_switches: vec![],
                    red: 0,
                    raw_bad: 0,
                };
                for _ in 0..plan.rounds[i] {
                    // Signed now inside the loop, so never stale; built here so
                    // that only the sign-and-send loop is timed.
                    let reqs = Arc::new(raw_requests(runner, &session, &built(set, n)));
                    let (t, bad) = raw(&authority, &creds, &reqs, jobs).await;
                    drop(reqs);
                    row.raw.push(n as f64 / t.wall.as_secs_f64());
                    row.raw_cpu.push(t.cpu.as_secs_f64() * 1e6 / n as f64);
                    row.raw_switches.push(t.switches as f64 / n as f64);
                    row.raw_bad = bad;
                    let (t, red) = harness(runner, set, n, jobs, mode).await;
                    row.harness.push(n as f64 / t.wall.as_secs_f64());
                    row.harness_cpu.push(t.cpu.as_secs_f64() * 1e6 / n as f64);
                    row.harness_switches.push(t.switches as f64 / n as f64);
                    row.red = red;
                }
                println!(
                    "  {:>7} cases: raw {:>7} req/s ({}) | harness {:>7} cases/s ({}) | ratio {:.0} % (rounds {}) | red {} | raw non-200 {}",
                    thousands(n as f64),
                    thousands(median(&row.raw)),
                    spread(&row.raw),
                    thousands(median(&row.harness)),
                    spread(&row.harness),
                    row.ratio() * 100.0,
                    row.round_ratios(),
                    row.red,
                    row.raw_bad
                );
                println!(
                    "  {:>13} CPU of this process: raw {:.0} µs/request | harness {:.0} µs/case | raw / harness {:.0} % | context switches: raw {:.2}/request, harness {:.2}/case",
                    "",
                    median(&row.raw_cpu),
                    median(&row.harness_cpu),
                    row.cpu_ratio() * 100.0,
                    median(&row.raw_switches),
                    median(&row.harness_switches)
                );
                rows.push(row);
            }
            rows
        })
    };
    // Sequential: one case at a time, one connection for the raw loop.
    let seq = if seq_sizes.is_empty() {
        None
    } else {
        let rt = cms_contract::run::runtime(1).expect("tokio runtime");
        rt.block_on(async {
            let (n, set) = suites.last().expect("suite");
            let n = *n;
            let live = warm(&session, set, 1, mode).await;
            let runner = &live.runner;
            let (authority, creds) = raw_target(runner);
            let (mut h, mut r, mut hc, mut rc) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let (mut hs, mut rs) = (Vec::new(), Vec::new());
            let us = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
            let per = |s: u64| s as f64 / n as f64;
            for _ in 0..plan.seq_rounds {
                let reqs = Arc::new(raw_requests(runner, &session, &built(set, n)));
                let (t, _) = raw(&authority, &creds, &reqs, 1).await;
                r.push(us(t.wall));
                rc.push(us(t.cpu));
                rs.push(per(t.switches));
                let (t, _) = harness(runner, set, n, 1, mode).await;
                h.push(us(t.wall));
                hc.push(us(t.cpu));
                hs.push(per(t.switches));
            }
            println!(
                "  sequential ({n} cases, jobs 1 / 1 connection): harness {:.0} µs/case ({:.0}–{:.0}) | raw {:.0} µs/request | CPU: harness {:.0} µs/case, raw {:.0} µs/request | context switches: harness {:.1}/case, raw {:.1}/request",
                median(&h),
                h.iter().copied().fold(f64::INFINITY, f64::min),
                h.iter().copied().fold(0.0, f64::max),
                median(&r),
                median(&hc),
                median(&rc),
                median(&hs),
                median(&rs)
            );
            Some((median(&h), median(&r)))
        })
    };
    drop(suites);

    // Start-up before the memory parts: measured right after their minutes
    // of 1M-case runs (and 690 MiB of reports written and removed), the
    // same binary's median came out 30-100 % above its figure in a run of
    // the part alone minutes later (22.6 against 16.8-18.3 ms, 40 against
    // 20.7-22 ms): what those runs leave behind, not start-up.
    let one = write_suite(&dir.join("one"), 1, 10_000);
    let start = if plan.wants("startup") {
        startup(&one, plan.startup_runs)
    } else {
        None
    };
    if let Some((med, min)) = start {
        println!(
            "  start-up, one-case `cms-contract run` x{}: median {:.1} ms, min {:.1} ms",
            plan.startup_runs,
            med.as_secs_f64() * 1e3,
            min.as_secs_f64() * 1e3
        );
    }
    // Memory: each in a child of its own.
    let mut rss = Vec::new();
    for &n in plan.rss_sizes.iter().filter(|_| plan.wants("rss")) {
        if let Some((mib, rate, red)) = rss_library(n) {
            println!(
                "  peak RSS, library path (lazy cases, results dropped as they come), {:>9} cases: {mib:.1} MiB ({} cases/s, red {red})",
                thousands(n as f64),
                thousands(rate)
            );
            rss.push((n, mib));
        }
    }
    let mut cli = Vec::new();
    for &n in &plan.cli_sizes {
        let parts = [("cli", None), ("reports", Some(dir.join("reports")))];
        let parts: Vec<_> = parts.into_iter().filter(|(p, _)| plan.wants(p)).collect();
        if parts.is_empty() {
            continue;
        }
        // Like the library path: the 1M suite is one `each:` range.
        let suite = write_suite(
            &dir.join(format!("c{n}")),
            n,
            if n > 100_000 { n } else { 10_000 },
        );
        for (part, reports) in parts {
            if let Some((mib, took, size)) = rss_cli(&suite, n, reports.as_deref()) {
                let what = if reports.is_some() {
                    format!("with --junit --json --html ({size:.0} MiB of reports)")
                } else {
                    "no report files".to_owned()
                };
                println!(
                    "  peak RSS, `cms-contract run`, {what}, {:>9} cases: {mib:.1} MiB ({:.1} s)",
                    thousands(n as f64),
                    took.as_secs_f64()
                );
                cli.push((n, part, mib));
            }
        }
        let _ = std::fs::remove_dir_all(dir.join(format!("c{n}")));
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!("\n| figure | value |\n|---|---:|");
    for r in &rows {
        println!(
            "| raw ceiling, {} requests, {jobs} connections | {} req/s |",
            thousands(r.cases as f64),
            thousands(median(&r.raw))
        );
        println!(
            "| harness, {} cases, jobs {jobs} | {} cases/s |",
            thousands(r.cases as f64),
            thousands(median(&r.harness))
        );
        println!(
            "| **harness / raw, {} cases** | **{:.0} %** (rounds {}) |",
            thousands(r.cases as f64),
            r.ratio() * 100.0,
            r.round_ratios()
        );
        println!(
            "| CPU per case, {} cases: raw / harness | {:.0} / {:.0} µs ({:.0} %) |",
            thousands(r.cases as f64),
            median(&r.raw_cpu),
            median(&r.harness_cpu),
            r.cpu_ratio() * 100.0
        );
    }
    if let Some((h, r)) = seq {
        println!(
            "| sequential (jobs 1), harness | {h:.0} µs/case |\n| sequential, raw (1 connection) | {r:.0} µs/request |"
        );
    }
    for (n, mib) in &rss {
        println!(
            "| peak RSS, library path, {} cases | {mib:.0} MiB |",
            thousands(*n as f64)
        );
    }
    for (n, part, mib) in &cli {
        let with = if *part == "reports" {
            ", --junit --json --html"
        } else {
            ""
        };
        println!(
            "| peak RSS, `cms-contract run`{with}, {} cases | {mib:.0} MiB |",
            thousands(*n as f64)
        );
    }
    if let Some((med, _)) = start {
        println!(
            "| start-up, one-case `cms-contract run` (median of {}) | {:.1} ms |",
            plan.startup_runs,
            med.as_secs_f64() * 1e3
        );
    }
    if !plan.full {
        println!("\nSmoke run (one small round): not a measurement; run `cargo bench --bench throughput`.");
    }
}
