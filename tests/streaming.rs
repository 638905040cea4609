//! `Runner::run_each`: results come in input order, one per case, with the
//! same outcomes as `run_all`; under `Retention::Failures` only red cases
//! keep their request and reply; a lazy `each:` range is run without
//! building it first.

mod common;

use cms_contract::embedded::Fault;
use cms_contract::result::CaseResult;
use cms_contract::run::Retention;
use common::{root, Setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_each_hands_results_on_in_order_and_keeps_only_failures() {
    // A fault that turns part of the suite red, so both kinds are there.
    let session = Setup::fault(Fault::StatusCtiMismatch).session();
    let cases = session
        .load(&[root().join("cases")], &mut Vec::new())
        .and_then(|s| s.to_vec())
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let live = session.start().await.expect("start");
    let full = live.runner.run_all(&cases, 8, |_| {}).await;
    let slim_runner = live.runner.clone().with_retention(Retention::Failures);
    let mut slim: Vec<(usize, CaseResult)> = Vec::new();
    slim_runner
        .run_each(cases.iter().cloned(), 3, |i, r| slim.push((i, r)))
        .await;
    assert_eq!(slim.len(), cases.len());
    let mut red = 0;
    for ((i, s), (case, f)) in slim.iter().zip(cases.iter().zip(&full)) {
        assert_eq!(s.id, case.id(), "result {i} out of order");
        assert_eq!(s.id, f.id);
        assert_eq!(s.outcome(), f.outcome(), "{}", s.id);
        assert_eq!(s.failures.len(), f.failures.len(), "{}", s.id);
        assert_eq!(s.warnings, f.warnings, "{}", s.id);
        if s.outcome().is_red() {
            red += 1;
            assert_eq!(s.response.is_some(), f.response.is_some(), "{}", s.id);
            assert!(!s.request.url.is_empty(), "{}", s.id);
        } else if s.outcome() == cms_contract::result::Outcome::Pass {
            assert!(s.response.is_none() && s.request.url.is_empty(), "{}", s.id);
            assert!(s.exchanges.is_empty(), "{}", s.id);
        }
    }
    assert_eq!(
        slim.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (0..cases.len()).collect::<Vec<_>>()
    );
    assert!(red > 0 && red < cases.len(), "{red} red of {}", cases.len());
    // Full retention keeps every reply.
    assert!(full
        .iter()
        .filter(|r| !r.outcome().is_red())
        .all(|r| r.response.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lazy_each_range_runs_case_by_case() {
    let dir = std::env::temp_dir().join(format!("cms-streaming-{}", std::process::id()));
    let suite = dir.join("lazy");
    std::fs::create_dir_all(&suite).unwrap();
    std::fs::write(
        suite.join("_defaults.yaml"),
        "contract: agentbyworkno\nexpect:\n  status: 200\n  json: true\n",
    )
    .unwrap();
    std::fs::write(
        suite.join("cases.yaml"),
        "cases:\n  - name: agents\n    each: {var: agent, values: \"40000..=40299\"}\n    request:\n      query: {ccId: 1, vdn: 40, agentId: \"${agent}\"}\n    expect:\n      schema: success.json\n      body: {resultDesc: {workNo: \"${agent}\"}}\n",
    )
    .unwrap();
    let session = Setup::default().session();
    let set = session.load(&[suite], &mut Vec::new()).expect("loads");
    assert_eq!(set.len(), 300);
    let live = session.start().await.expect("start");
    let runner = live.runner.clone().with_retention(Retention::Failures);
    let mut ids = Vec::new();
    runner
        .run_each(set.iter().map(|c| c.expect("builds")), 8, |_, r| {
            assert!(!r.outcome().is_red(), "{r:?}");
            ids.push(r.id);
        })
        .await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(ids.len(), 300);
    assert_eq!(ids[0], "lazy::agents::agent_40000");
    assert_eq!(ids[299], "lazy::agents::agent_40299");
}

/// A suite of `n` passing cases from one lazy `each:` range, and one case
/// that fails (it expects another work number).
fn range_suite(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let suite = dir.join("range");
    std::fs::create_dir_all(&suite).unwrap();
    std::fs::write(
        suite.join("_defaults.yaml"),
        "contract: agentbyworkno\nrequest:\n  auth: signed\nexpect:\n  status: 200\n  json: true\n",
    )
    .unwrap();
    std::fs::write(
        suite.join("cases.yaml"),
        format!(
            "cases:\n  - name: many\n    each: {{var: n, values: \"1..={n}\"}}\n    request:\n      query: {{ccId: 1, vdn: 40, agentId: 40000}}\n    expect:\n      schema: success.json\n      body: {{resultDesc: {{workNo: 40000}}}}\n  - name: wrong\n    request:\n      query: {{ccId: 1, vdn: 40, agentId: 40001}}\n    expect:\n      body: {{resultDesc: {{workNo: 40002}}}}\n"
        ),
    )
    .unwrap();
    suite
}

/// `VmHWM` (peak resident set, KiB) of a running process.
fn peak_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Run `cms-contract run` on an `n`-case range with every report file;
/// its exit code, its peak RSS (KiB, the last reading of `VmHWM` before
/// it ended) and the reports' folder.
fn run_range(n: usize) -> (Option<i32>, u64, std::path::PathBuf) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("streaming-cli-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let suite = range_suite(&dir, n);
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cms-contract"));
    c.current_dir(root())
        .arg("run")
        .arg(&suite)
        .args(["--color", "never", "--max-cases", "100000"])
        .arg("--junit")
        .arg(dir.join("r.xml"))
        .arg("--json")
        .arg(dir.join("r.json"))
        .arg("--html")
        .arg(dir.join("r.html"))
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap());
    for k in ["CMS_BASE_URL", "CMS_PROFILE", "CMS_AK", "CMS_SK", "CI"] {
        c.env_remove(k);
    }
    let mut child = c.spawn().expect("run cms-contract");
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = peak_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    (status.code(), peak, dir)
}

#[test]
fn the_cli_streams_a_lazy_range_into_every_report_in_flat_memory() {
    let (small_code, small, _) = run_range(200);
    let (code, large, dir) = run_range(6_000);
    assert_eq!((small_code, code), (Some(1), Some(1)), "one case fails");
    // Kept results cost about 25 KiB a case with the three reports (they
    // were all kept until the end): 2,000 cases grew the peak by ~45 MiB.
    // 4 MiB over 5,800 cases catches a leak of 0.7 KiB a case.
    assert!(
        large < small + 4 * 1024,
        "peak RSS grows with the suite: {small} KiB at 201 cases, {large} KiB at 6,001"
    );
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let stdout = read("stdout");
    assert!(stdout.contains("FAIL range::wrong"), "{stdout}");
    assert!(
        stdout.ends_with("\ncontract result: 6000 passed, 1 failed\n"),
        "{stdout}"
    );
    let doc: serde_json::Value = serde_json::from_str(&read("r.json")).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6_001);
    assert_eq!(cases[0]["id"], "range::many::n_1");
    assert_eq!(cases[5_999]["id"], "range::many::n_6000");
    // Passing cases keep no exchange; the failing one keeps both sides.
    assert!(cases[..6_000]
        .iter()
        .all(|c| c["outcome"] == "pass" && c["request"].is_null() && c["response"].is_null()));
    assert_eq!(cases[6_000]["outcome"], "fail");
    assert_eq!(cases[6_000]["request"]["method"], "POST");
    assert_eq!(cases[6_000]["response"]["status"], 200);
    assert_eq!(doc["summary"]["passed"], 6_000);
    let xml = read("r.xml");
    assert!(
        xml.contains(
            "<testsuite name=\"range\" tests=\"6001\" skipped=\"0\" errors=\"0\" failures=\"1\""
        ),
        "{}",
        &xml[..xml.len().min(2000)]
    );
    assert_eq!(xml.matches("<testcase ").count(), 6_001);
    let html = read("r.html");
    assert_eq!(html.matches("<details id=\"case-").count(), 6_001);
    assert!(html
        .contains("<li><a href=\"#case-6001\"><span class=\"fail\">FAIL</span> range::wrong</a>"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A loopback server on threads of its own: the request asking agent 101
/// is answered after `slow`, every other one at once with a JSON reply of
/// about `size` bytes. Returns its base URL and, per request, whether the
/// slow one had been answered when it came.
fn slow_head_server(
    slow: std::time::Duration,
    size: usize,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<bool>>>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let answered = Arc::new(AtomicBool::new(false));
    let (seen2, pad) = (seen.clone(), "x".repeat(size));
    std::thread::spawn(move || {
        for sock in listener.incoming() {
            let Ok(mut sock) = sock else { return };
            let (seen, answered, pad) = (seen2.clone(), answered.clone(), pad.clone());
            std::thread::spawn(move || loop {
                // One request: the head, then Content-Length bytes.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let body = loop {
                    let Ok(n) = sock.read(&mut chunk) else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(body) = common::stub::request_body(&buf) {
                        break String::from_utf8_lossy(body).into_owned();
                    }
                };
                seen.lock().unwrap().push(answered.load(Ordering::SeqCst));
                let reply = if body.contains("\"agentId\":101") {
                    std::thread::sleep(slow);
                    answered.store(true, Ordering::SeqCst);
                    "{}".to_owned()
                } else {
                    format!("{{\"pad\":\"{pad}\"}}")
                };
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{reply}",
                    reply.len()
                );
                if sock.write_all(response.as_bytes()).is_err() {
                    return;
                }
            });
        }
    });
    (url, seen)
}

/// `cases` (one case file of agentbyworkno) loaded in a temporary folder
/// for a session against `url`.
fn suite_against(
    url: &str,
    cases: &str,
) -> (
    tempfile::TempDir,
    cms_contract::session::Session,
    cms_contract::case::CaseSet,
) {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite");
    std::fs::create_dir_all(&suite).unwrap();
    std::fs::write(suite.join("_defaults.yaml"), "contract: agentbyworkno\n").unwrap();
    std::fs::write(suite.join("cases.yaml"), cases).unwrap();
    let mut setup = Setup::default();
    setup.flags.target = Some(url.parse().unwrap());
    setup.env = [("CMS_AK", "ak"), ("CMS_SK", "sk")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let session = setup.session();
    let set = session.load(&[suite], &mut Vec::new()).expect("loads");
    (dir, session, set)
}

/// Run 60 red cases (status 201 expected) with 100 KiB replies behind one
/// that is answered after `slow`, `jobs` at a time, with a window of
/// `window_bytes`; every result must come, in order, within 30 s (a pool
/// that stops waking its caller or its workers fails here instead of
/// hanging). Returns how many requests came before the slow one was
/// answered.
async fn behind_a_slow_case(slow_ms: u64, window_bytes: usize, jobs: usize) -> usize {
    let (url, seen) = slow_head_server(std::time::Duration::from_millis(slow_ms), 100 << 10);
    let (_dir, session, set) = suite_against(
        &url,
        "cases:\n  - name: agents\n    each: {var: agent, values: \"101..=160\"}\n    request:\n      auth: none\n      query: {ccId: 1, vdn: 1, agentId: \"${agent}\"}\n    expect:\n      status: 201\n",
    );
    assert_eq!(set.len(), 60);
    let live = session.start().await.expect("start");
    let runner = live
        .runner
        .clone()
        .with_retention(Retention::Failures)
        .with_window_bytes(window_bytes);
    let mut kept = Vec::new();
    let run = runner.run_each(set.iter().map(|c| c.expect("builds")), jobs, |i, r| {
        assert!(r.outcome().is_red(), "{r:?}");
        assert_eq!(i, kept.len(), "in input order");
        kept.push(r.kept_bytes());
    });
    tokio::time::timeout(std::time::Duration::from_secs(30), run)
        .await
        .unwrap_or_else(|_| panic!("stuck after {} of 60 results", kept.len()));
    assert_eq!(kept.len(), 60);
    // Each red result keeps its 100 KiB reply.
    assert!(kept[1..].iter().all(|&b| b > 100 << 10), "{kept:?}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 60);
    seen.iter().filter(|answered| !**answered).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_waiting_behind_a_slow_case_are_bounded_in_bytes() {
    // With a 1 MiB window only a few may run ahead of the slow case; with
    // the count window alone (4,096) all 59 would.
    let ahead = behind_a_slow_case(800, 1 << 20, 4).await;
    // The slow one, 3 more in flight, and the results that fit in 1 MiB
    // (each about 170 KiB: the reply parsed plus its text cut for display),
    // with room for the ones counted as the window filled. Cases queued for
    // the workers (16) wait for room before they start.
    assert!(
        ahead <= 1 + 3 + 8,
        "{ahead} requests came before the slow one was answered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_that_two_results_fill_still_runs_every_case() {
    // A 256 KiB window holds one 170 KiB result, not two: the oldest
    // unfinished case's result often comes while the window still has
    // room, and the next one fills it. Workers then hold their queued
    // cases until the caller hands results on, so whoever fills the window
    // must wake it (a pool that woke it only for the oldest case's result
    // stopped here after 0 to 15 results, every time).
    let ahead = behind_a_slow_case(200, 256 << 10, 4).await;
    assert!(
        ahead <= 1 + 3 + 4,
        "{ahead} requests came before the slow one was answered"
    );
}

#[test]
fn a_full_window_on_a_one_worker_runtime_still_runs_every_case() {
    // `--jobs 1`'s runtime (run::runtime): the caller, the worker and the
    // client share one thread with the window's waits.
    let rt = cms_contract::run::runtime(1).unwrap();
    let ahead = rt.block_on(behind_a_slow_case(200, 256 << 10, 1));
    assert_eq!(ahead, 1, "only the slow one itself");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inconclusive_case_keeps_its_exchange() {
    // Open question 4 answered "0100002": the boundaries that name no agent
    // are inconclusive; the reply that left them undecided is what their
    // reader needs, so they keep it like a red case.
    let setup = Setup {
        sim: cms_contract::embedded::Simulated {
            options: vec![("agentbyworkno.unknown_agent_code".into(), "0100002".into())],
            ..Default::default()
        },
        ..Setup::default()
    };
    let session = setup.session();
    let set = session
        .load(&[root().join("cases/agentbyworkno")], &mut Vec::new())
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let live = session.start().await.expect("start");
    let runner = live.runner.clone().with_retention(Retention::Failures);
    let (mut undecided, mut passed) = (0, 0);
    runner
        .run_each(set.iter().map(|c| c.expect("builds")), 8, |_, r| {
            match r.outcome() {
                cms_contract::result::Outcome::Inconclusive => {
                    undecided += 1;
                    assert!(
                        r.response.is_some() && !r.request.url.is_empty(),
                        "{}",
                        r.id
                    );
                }
                cms_contract::result::Outcome::Pass => {
                    passed += 1;
                    assert!(r.response.is_none() && r.request.url.is_empty(), "{}", r.id);
                }
                _ => {}
            }
        })
        .await;
    assert!(
        undecided > 0 && passed > 0,
        "{undecided} inconclusive, {passed} passed"
    );
}

#[test]
fn a_slow_run_hands_each_result_on_as_it_finishes() {
    // 24 cases of 100 ms each (every request asks agent 101, the slow one)
    // at jobs 1: the queue (16 deep) alone would wake the caller only once
    // 8 were taken, so the first result would wait for the ninth request;
    // a result left HAND_ON_AFTER (50 ms) after the caller's last wake-up
    // wakes it, so each is handed on while the next case is in flight.
    let rt = cms_contract::run::runtime(1).unwrap();
    rt.block_on(async {
        let (url, seen) = slow_head_server(std::time::Duration::from_millis(100), 10);
        let (_dir, session, set) = suite_against(
            &url,
            "cases:\n  - name: vdns\n    each: {var: vdn, values: \"1..=24\"}\n    request:\n      auth: none\n      query: {ccId: 1, vdn: \"${vdn}\", agentId: 101}\n    expect:\n      status: 200\n",
        );
        let live = session.start().await.expect("start");
        let mut requests_when_handed_on = Vec::new();
        live.runner
            .run_each(set.iter().map(|c| c.expect("builds")), 1, |_, _| {
                requests_when_handed_on.push(seen.lock().unwrap().len());
            })
            .await;
        assert_eq!(requests_when_handed_on.len(), 24);
        assert!(
            requests_when_handed_on
                .iter()
                .enumerate()
                .all(|(i, &n)| n <= i + 3),
            "requests sent when each result was handed on: {requests_when_handed_on:?}"
        );
    });
}
