//! Throughput of the harness against the embedded simulator, next to a raw
//! request loop that sends the same requests with the same client settings
//! and concurrency but checks nothing; plus the start-up time of the
//! release binary for a one-case run.
//!
//! Run with `cargo bench --bench throughput`. It prints its figures and a
//! markdown table for the README; it asserts nothing about speed. All
//! traffic goes to the in-process simulator on 127.0.0.1, a fixed number of
//! requests. Under `cargo test --benches` (no `--bench` flag) it runs one
//! small round only, as a smoke test.

use cms_contract::auth::Timestamp;
use cms_contract::case::{load_paths, Case, LoadOptions};
use cms_contract::report::{text, Style};
use cms_contract::run::{build_client, prepare, Outcome, PreparedRequest, Runner};
use cms_contract::setup::{self, Env, Live, Options};
use cms_contract::sim::Fault;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Cases (or requests) in flight at once, for the harness and the raw loop alike.
const JOBS: usize = 16;
/// Suite sizes measured.
const SIZES: [usize; 2] = [1_000, 10_000];
/// Rounds per size; the median is reported.
const ROUNDS: usize = 3;
/// Runs of the binary for the start-up figure.
const STARTUP_RUNS: usize = 10;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One size's figures.
struct Row {
    scenario: &'static str,
    cases: usize,
    harness_rate: f64,
    raw_rate: f64,
    passed: usize,
    failed: usize,
    raw_errors: usize,
    rendered_bytes: usize,
    peak_mib: f64,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.harness_rate / self.raw_rate
    }

    /// Extra time the harness spends per case, beyond the bare exchange.
    fn overhead_us(&self) -> f64 {
        (1.0 / self.harness_rate - 1.0 / self.raw_rate) * 1e6
    }
}

/// `VmHWM` (peak resident set) of this process, in MiB; 0 where unknown.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `n` cases: the shipped suite repeated, names made unique per copy.
fn repeat(shipped: &[Case], n: usize) -> Vec<Case> {
    (0..n)
        .map(|i| {
            let mut c = shipped[i % shipped.len()].clone();
            c.name = format!("{}#{}", c.name, i / shipped.len());
            c
        })
        .collect()
}

/// Everything a CLI run does per case: send, every check (status, content
/// type, schema, matchers, rules), and the text report with its diff for
/// each case that did not pass.
async fn harness(runner: &Runner, cases: &[Case]) -> (Duration, usize, usize, usize) {
    let started = Instant::now();
    let results = runner.run_all(cases, JOBS, |_| {}).await;
    let rendered: usize = results
        .iter()
        .filter(|r| r.outcome() != Outcome::Pass)
        .map(|r| text::render(r, Style::default()).len())
        .sum();
    let elapsed = started.elapsed();
    let passed = results
        .iter()
        .filter(|r| r.outcome() == Outcome::Pass)
        .count();
    (elapsed, passed, results.len() - passed, rendered)
}

/// Send one prepared request and read the whole reply; `false` on any error.
async fn send(client: &reqwest::Client, r: &PreparedRequest) -> bool {
    let Ok(method) = reqwest::Method::from_bytes(r.method.as_bytes()) else {
        return false;
    };
    let mut rb = client.request(method, &r.url).body(r.body.clone());
    for (k, v) in &r.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    match rb.send().await {
        Ok(resp) => resp.bytes().await.is_ok(),
        Err(_) => false,
    }
}

/// The same requests, the same client settings and concurrency, no checks.
async fn raw(client: &reqwest::Client, reqs: &Arc<Vec<PreparedRequest>>) -> (Duration, usize) {
    let sem = Arc::new(Semaphore::new(JOBS));
    let mut set = JoinSet::new();
    let mut errors = 0;
    let started = Instant::now();
    for i in 0..reqs.len() {
        let Ok(permit) = sem.clone().acquire_owned().await else {
            break;
        };
        let client = client.clone();
        let reqs = reqs.clone();
        set.spawn(async move {
            let _permit = permit;
            send(&client, &reqs[i]).await
        });
        while let Some(done) = set.try_join_next() {
            errors += usize::from(!done.unwrap_or(false));
        }
    }
    while let Some(done) = set.join_next().await {
        errors += usize::from(!done.unwrap_or(false));
    }
    (started.elapsed(), errors)
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

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

async fn measure(
    scenario: &'static str,
    live: &Live,
    shipped: &[Case],
    sizes: &[usize],
    rounds: usize,
) -> Vec<Row> {
    let runner = &live.runner;
    let client = build_client(runner.target()).expect("HTTP client");
    // Warm up: connections, schema caches, allocator.
    let warm = repeat(shipped, shipped.len().max(200));
    let _ = harness(runner, &warm).await;
    let mut rows = Vec::new();
    for &n in sizes {
        let cases = repeat(shipped, n);
        let mut h_rates = Vec::new();
        let mut r_rates = Vec::new();
        let (mut passed, mut failed, mut rendered, mut raw_errors) = (0, 0, 0, 0);
        for _ in 0..rounds {
            let (t, p, f, bytes) = harness(runner, &cases).await;
            h_rates.push(n as f64 / t.as_secs_f64());
            (passed, failed, rendered) = (p, f, bytes);
            // Signed now, so well inside the simulator's clock-skew window.
            let now = Timestamp::now();
            let prepared: Arc<Vec<PreparedRequest>> = Arc::new(
                cases
                    .iter()
                    .map(|c| prepare(c, runner.target(), now))
                    .collect(),
            );
            let (t, errors) = raw(&client, &prepared).await;
            r_rates.push(n as f64 / t.as_secs_f64());
            raw_errors = errors;
        }
        let row = Row {
            scenario,
            cases: n,
            harness_rate: median(h_rates),
            raw_rate: median(r_rates),
            passed,
            failed,
            raw_errors,
            rendered_bytes: rendered,
            peak_mib: peak_rss_mib(),
        };
        println!(
            "{scenario:>9} {n:>6} cases: harness {:>8.0} cases/s | raw {:>8.0} req/s | ratio {:>5.1} % | overhead {:>7.1} µs/case | {} passed, {} failed ({} bytes of reports) | raw errors {} | VmHWM {:.1} MiB",
            row.harness_rate,
            row.raw_rate,
            row.ratio() * 100.0,
            row.overhead_us(),
            row.passed,
            row.failed,
            row.rendered_bytes,
            row.raw_errors,
            row.peak_mib
        );
        rows.push(row);
    }
    rows
}

/// Wall time of `cms-contract run --filter sample_exchange` (embedded
/// simulator, one case), `runs` times: (min, median), or `None` if it failed.
fn startup(runs: usize) -> Option<(Duration, Duration)> {
    let exe = env!("CARGO_BIN_EXE_cms-contract");
    let mut times = Vec::new();
    for _ in 0..runs {
        let mut cmd = Command::new(exe);
        cmd.args(["run", "--filter", "sample_exchange", "--color", "never"])
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // A CMS_* variable in the caller's environment could point the run
        // at a real target: the figure is for the embedded simulator only.
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CMS_")) {
            cmd.env_remove(k);
        }
        let started = Instant::now();
        let out = cmd.output().ok()?;
        let elapsed = started.elapsed();
        if !out.status.success() {
            eprintln!(
                "startup run failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        times.push(elapsed);
    }
    times.sort();
    Some((times[0], times[times.len() / 2]))
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (sizes, rounds, startup_runs): (&[usize], usize, usize) = if full {
        (&SIZES, ROUNDS, STARTUP_RUNS)
    } else {
        (&[50], 1, 1)
    };
    let build = if full { "release" } else { "debug" };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let plan = setup::plan(&Options::default(), &Env::new()).expect("plan");
    let schema_dir = root().join("schemas/agentbyworkno");
    let lo = LoadOptions {
        vars: plan.vars.clone(),
        schema_dir: schema_dir.clone(),
        release: plan.release,
        ..LoadOptions::default()
    };
    let shipped = load_paths(&[root().join("cases")], &lo).expect("the shipped cases load");
    let schemas = setup::schemas(&schema_dir, &plan).expect("schemas");
    println!(
        "throughput: {} shipped cases repeated; jobs {JOBS}; {} worker threads; embedded simulator in-process",
        shipped.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    // A faulted simulator makes most cases fail, so diffs and reports are
    // rendered for them: the full cost of a red run.
    let faulted = Options {
        sim_fault: Some(Fault::WorkNoMismatch),
        ..Options::default()
    };
    let faulted_plan = setup::plan(&faulted, &Env::new()).expect("plan");
    let rows = rt.block_on(async {
        let mut rows = Vec::new();
        for (scenario, plan, sizes) in [
            ("green", plan, sizes),
            ("red", faulted_plan, &sizes[sizes.len() - 1..]),
        ] {
            let live = setup::start(plan, schemas.clone())
                .await
                .expect("start the simulator");
            rows.extend(measure(scenario, &live, &shipped, sizes, rounds).await);
            if let Some(sim) = live.simulator {
                sim.shutdown().await;
            }
        }
        rows
    });
    let start = startup(startup_runs);
    match start {
        Some((min, med)) => println!(
            "startup: `cms-contract run --filter sample_exchange` x{startup_runs}: min {:.1} ms, median {:.1} ms",
            min.as_secs_f64() * 1e3,
            med.as_secs_f64() * 1e3
        ),
        None => println!("startup: the one-case run failed; no figure"),
    }

    println!("\n| run | cases | jobs | failed (diffs rendered) | harness (cases/s) | raw reqwest (req/s) | harness / raw | overhead per case | peak RSS (VmHWM) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {JOBS} | {} | {} | {} | {:.0} % | {:.0} µs | {:.0} MiB |",
            r.scenario,
            thousands(r.cases as f64),
            thousands(r.failed as f64),
            thousands(r.harness_rate),
            thousands(r.raw_rate),
            r.ratio() * 100.0,
            r.overhead_us(),
            r.peak_mib
        );
    }
    if let Some((min, med)) = start {
        println!(
            "\nStart-up, `cms-contract run --filter sample_exchange` ({build}, embedded simulator, one case): min {:.0} ms, median {:.0} ms over {startup_runs} runs.",
            min.as_secs_f64() * 1e3,
            med.as_secs_f64() * 1e3
        );
    }
    if !full {
        println!("\nSmoke run (debug build, one small round): not a measurement; run `cargo bench --bench throughput`.");
        return;
    }
    println!(
        "\nMeasured with `cargo bench --bench throughput` on this machine ({} cores).",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
}
