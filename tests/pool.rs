//! The runner's connection pool, against raw HTTP/1 servers on 127.0.0.1
//! that count the connections they accept and the requests they read: a
//! server that keeps connections alive gets every sequential case on one
//! connection; a server that closes each connection after one reply still
//! passes every case, each request read exactly once (a stale pooled
//! connection is replaced before the request is written, never resent).
//! Also what goes on the wire: Host, User-Agent, Accept, Content-Length;
//! and that a `--jobs 1` run's one-worker runtime runs its cases.

mod common;

use cms_contract::case::{load_str, Case, LoadOptions};
use cms_contract::result::Outcome;
use cms_contract::run::{ProbePlan, Runner};
use cms_contract::settings::Layer;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How many sequential cases each test runs.
const CASES: usize = 6;
/// The longest any test server lives.
const LIFETIME: Duration = Duration::from_secs(15);

/// What a test server does after each reply.
#[derive(Clone, Copy, PartialEq)]
enum After {
    /// Waits for the next request on the same connection.
    KeepAlive,
    /// Says `Connection: close` and closes.
    SayClose,
    /// Closes without a word (the client finds out when it next looks).
    Drop,
}

/// What a test server saw.
#[derive(Default)]
struct Seen {
    accepts: AtomicUsize,
    requests: AtomicUsize,
    /// The head of the first request, lower-cased.
    first_head: Mutex<Option<String>>,
}

/// A good reply to the probe (agent 101 of VDN 1, signed out).
fn ok_reply(close: bool) -> Vec<u8> {
    const AGENT: &str = r#"{"workNo":101,"vdnId":1,"citStatus":0,"name":"a","phoneNumber":null,"loginDate":4294967295000,"currentStateTime":5,"mediaType":0,"status":2}"#;
    let body = format!(
        r#"{{"result":"0","resultCode":"0100000","resultDatas":{AGENT},"resultDesc":{AGENT}}}"#
    );
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\n{}\r\n",
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes();
    r.extend_from_slice(body.as_bytes());
    r
}

/// One request's head (lower-cased), its Content-Length body read from
/// `buf` + `stream` and dropped, or `None` when the client closed first.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((head, body)) = common::stub::request_at_start(buf) {
            buf.drain(..body.end);
            return Some(head);
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 1 << 20 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn server(after: After) -> (SocketAddr, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        let serve = async {
            for _ in 0..4 * CASES {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                s.accepts.fetch_add(1, Ordering::SeqCst);
                let s = s.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    while let Some(head) = read_request(&mut stream, &mut buf).await {
                        s.requests.fetch_add(1, Ordering::SeqCst);
                        s.first_head.lock().unwrap().get_or_insert(head);
                        let reply = ok_reply(after == After::SayClose);
                        if stream.write_all(&reply).await.is_err() || after != After::KeepAlive {
                            return;
                        }
                    }
                });
            }
        };
        let _ = tokio::time::timeout(LIFETIME, serve).await;
    });
    (addr, seen)
}

/// A runner for `url` and the probe case.
fn runner_and_case(url: &str) -> (Runner, Case) {
    let mut flags = Layer {
        target: Some(url.parse().expect("a base URL")),
        ..Layer::default()
    };
    flags.vars.extend(
        cms_sim::reference_vars()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v)),
    );
    let session = common::Setup {
        flags,
        ..common::Setup::default()
    }
    .session();
    let opts = LoadOptions {
        vars: session.vars.clone(),
        catalog: Some(session.catalog.clone()),
        default_contract: Some("agentbyworkno".into()),
        ..LoadOptions::default()
    };
    let mut cases = load_str(Path::new("pool/probe.yaml"), common::stub::PROBE_200, &opts)
        .expect("probe loads");
    let mut target = session.target();
    target.timeout = Duration::from_secs(5);
    target.connect_timeout = Duration::from_secs(2);
    let runner =
        Runner::new(target, session.catalog.clone(), ProbePlan::default()).expect("runner");
    (runner, cases.remove(0))
}

/// Run the probe [`CASES`] times, one after the other, pausing `pause`
/// between cases; every case must pass.
async fn run_all(addr: SocketAddr, pause: Duration) {
    let (runner, case) = runner_and_case(&format!("http://{addr}"));
    for i in 0..CASES {
        let r = runner.run_case(&case).await;
        assert_eq!(r.outcome(), Outcome::Pass, "case {i}: {r:?}");
        tokio::time::sleep(pause).await;
    }
}

#[tokio::test]
async fn sequential_cases_share_one_kept_alive_connection() {
    let (addr, seen) = server(After::KeepAlive).await;
    run_all(addr, Duration::ZERO).await;
    assert_eq!(seen.requests.load(Ordering::SeqCst), CASES);
    assert_eq!(seen.accepts.load(Ordering::SeqCst), 1, "one connection");
}

#[tokio::test]
async fn a_server_that_says_close_gets_each_request_once_on_a_new_connection() {
    let (addr, seen) = server(After::SayClose).await;
    run_all(addr, Duration::ZERO).await;
    assert_eq!(seen.requests.load(Ordering::SeqCst), CASES, "none twice");
    assert_eq!(seen.accepts.load(Ordering::SeqCst), CASES);
}

#[tokio::test]
async fn a_pooled_connection_the_server_dropped_is_replaced() {
    let (addr, seen) = server(After::Drop).await;
    // The pause lets the server's close reach the idle connection: the next
    // case finds it stale and connects again instead of failing.
    run_all(addr, Duration::from_millis(50)).await;
    assert_eq!(seen.requests.load(Ordering::SeqCst), CASES, "none twice");
    assert_eq!(seen.accepts.load(Ordering::SeqCst), CASES);
}

#[tokio::test]
async fn the_request_carries_host_user_agent_accept_and_its_length() {
    let (addr, seen) = server(After::KeepAlive).await;
    let (runner, case) = runner_and_case(&format!("http://{addr}"));
    let r = runner.run_case(&case).await;
    assert_eq!(r.outcome(), Outcome::Pass, "{r:?}");
    let head = seen.first_head.lock().unwrap().clone().expect("a request");
    let lines: Vec<&str> = head.lines().collect();
    assert_eq!(
        lines[0], "post /rest/cmsapp/v1/openapi/agent/agentbyworkno http/1.1",
        "origin form: {head}"
    );
    // The authority with its port, as signed (Target::authority).
    assert!(lines.contains(&format!("host: {addr}").as_str()), "{head}");
    let ua = format!("user-agent: cms-contract/{}", env!("CARGO_PKG_VERSION"));
    assert!(lines.contains(&ua.as_str()), "{head}");
    assert!(lines.contains(&"accept: */*"), "{head}");
    let body = r.request.body.len();
    assert!(body > 0, "the probe has a body");
    assert!(
        lines.contains(&format!("content-length: {body}").as_str()),
        "{head}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("accept-encoding")),
        "no encoding asked: {head}"
    );
}

#[test]
fn a_jobs_1_run_has_one_worker_thread_and_runs_every_case_on_it() {
    // `run::runtime` is what `cms-contract run` and `compare` build: one
    // worker at jobs 1 (a second only takes turns with the first, paying a
    // wake-up each time); above it tokio's default, one per core (or
    // TOKIO_WORKER_THREADS).
    let default = std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let many = cms_contract::run::runtime(8).expect("runtime");
    assert_eq!(many.metrics().num_workers(), default);
    drop(many);
    let rt = cms_contract::run::runtime(1).expect("runtime");
    assert_eq!(rt.metrics().num_workers(), 1);
    // The worker pool, the client's connection task and this server all
    // share that one thread: every case still passes, on one connection.
    rt.block_on(async {
        let (addr, seen) = server(After::KeepAlive).await;
        let (runner, case) = runner_and_case(&format!("http://{addr}"));
        let mut outcomes = Vec::new();
        runner
            .run_each(std::iter::repeat_n(case, CASES), 1, |_, r| {
                outcomes.push(r.outcome())
            })
            .await;
        assert_eq!(outcomes, vec![Outcome::Pass; CASES]);
        assert_eq!(seen.requests.load(Ordering::SeqCst), CASES);
        assert_eq!(seen.accepts.load(Ordering::SeqCst), 1, "one connection");
    });
}
