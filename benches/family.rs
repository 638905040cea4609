//! The agent-monitoring family at scale (issue 12): the wall time and peak
//! memory of `cms-contract run` for
//!
//! - a 10,000-agent batch query: the simulator's large VDN (40, agents
//!   40000..=49999) asked of `agentstatusinfobyagentids` in the fewest
//!   batches the contract allows (6000 + 4000 ids), every item checked by
//!   the contract's schema and invariants, and one item per agent;
//! - a full walk of that VDN's listing (`totalagentabstractex3`, 1000 a
//!   page, the maximum): pages disjoint, their union `count` agents, `count`
//!   stable;
//! - beside them, a one-case run, for what starting the CLI costs.
//!
//! Each is a flow case run by the release CLI against its embedded
//! simulator, in a child process (peak RSS from `wait4`), `RUNS` times; the
//! median wall time and the largest peak are printed, with the date and the
//! machine. `cargo bench --bench family`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const RUNS: usize = 5;

const DEFAULTS: &str = "contract: agentbyworkno\n";

const SUITE: &str = r#"
cases:
  - name: batch_10000
    description: 10,000 agents of VDN 40 in two batches (6000 + 4000 ids, Table 2 row 3's maximum)
    flow:
      steps:
        - id: batch
          contract: agentstatusinfobyagentids
          for_each: "[numbers('40000..=45999'), numbers('46000..=49999')]"
          as: ids
          request:
            query: {ccId: 1, vdn: 40, agentIds: {$expr: ids}}
      relations:
        - name: one_item_per_agent
          cites: agentstatusinfobyagentids Table 4 (one item per requested agent)
          expr: size(distinct(flatten(batch.map(b, b.payload.map(i, i.agentId))))) == 10000
  - name: vdn_walk_10000
    description: the 10,000 agents of VDN 40, 1000 a page (Table 2 row limit's maximum)
    flow:
      steps:
        - id: first
          contract: totalagentabstractex3
          request:
            query: {ccId: 1, vdn: 40, limit: 1000, offset: 0}
        - id: pages
          contract: totalagentabstractex3
          for_each: seq(0, first.response.count, 1000)
          as: offset
          request:
            query: {ccId: 1, vdn: 40, limit: 1000, offset: {$expr: offset}}
          capture:
            ids: flatten(pages.map(p, p.payload.map(i, i.agentId)))
      relations:
        - name: walk_is_complete_and_disjoint
          cites: totalagentabstractex3 Table 3 row count and Table 4
          expr: size(ids) == 10000 && size(distinct(ids)) == 10000 && first.response.count == 10000
  - name: one_case
    description: agentbyworkno's sample agent, for the start-up cost
    request:
      query: {ccId: 1, vdn: 1, agentId: 101}
"#;

fn main() {
    // `cargo test --benches` runs benches once as tests: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { RUNS };
    let dir = tempdir();
    let suite = dir.join("family-bench");
    std::fs::create_dir_all(&suite).expect("bench folder");
    std::fs::write(suite.join("_defaults.yaml"), DEFAULTS).expect("write");
    std::fs::write(suite.join("scale.yaml"), SUITE).expect("write");
    println!(
        "family bench, {} UTC, {} cores, release CLI against its embedded simulator, {runs} run(s) each",
        now(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| case | requests | wall (median) | peak RSS (max) |");
    println!("|---|---:|---:|---:|");
    for (name, requests) in [("batch_10000", 2), ("vdn_walk_10000", 11), ("one_case", 1)] {
        let mut walls = Vec::new();
        let mut peak = 0u64;
        for _ in 0..runs {
            let (code, kib, wall) = run(&suite, name);
            assert_eq!(code, 0, "`cms-contract run --filter {name}` failed");
            walls.push(wall);
            peak = peak.max(kib);
        }
        walls.sort();
        println!(
            "| {name} | {requests} | {:.0} ms | {:.1} MiB |",
            walls[walls.len() / 2].as_secs_f64() * 1000.0,
            peak as f64 / 1024.0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Exit code, peak RSS (KiB) and wall time of one CLI run of case `name`.
fn run(suite: &Path, name: &str) -> (i32, u64, Duration) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
    cmd.arg("run")
        .arg(suite)
        .args(["--filter", name, "--color", "never"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::null());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CMS_")) {
        cmd.env_remove(k);
    }
    let (status, kib, wall, _) = common::wait_child(cmd);
    (status.code().unwrap_or(-1), kib, wall)
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("cms-contract-family-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp folder");
    d
}

fn now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
