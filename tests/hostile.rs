//! Hostile or broken targets: each one a tiny raw TCP server on 127.0.0.1
//! that misbehaves in one way. Every case must end as a failed or erroring
//! `CaseResult` with a one-line cause and the request that triggered it;
//! nothing may hang or panic. Also connect retries, the whole-run deadline
//! and `--rate`.
//!
//! Every server here lives at most [`LIFETIME`] and handles a bounded number
//! of connections, then stops by itself.

mod common;

use cms_contract::case::{load_paths, load_str, Case, LoadOptions, Vars};
use cms_contract::embedded::Simulated;
use cms_contract::report::{text, Style};
use cms_contract::result::{CaseResult, FailureKind, Outcome, TransportError};
use cms_contract::run::{ProbePlan, Runner};
use cms_contract::schema::SchemaCatalog;
use cms_contract::session::{Session, SessionOptions};
use cms_contract::settings::{Env, Layer};
use cms_contract::target::Target;
use cms_sim::{DEFAULT_AK, DEFAULT_SK};
use common::stub::PROBE_200 as PROBE;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The longest any test server lives.
const LIFETIME: Duration = Duration::from_secs(15);
/// The most connections any test server accepts.
const MAX_CONNS: usize = 8;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What a hostile test runs with: the target (to tweak), the variables and
/// the contracts.
#[derive(Clone)]
struct Plan {
    target: Target,
    vars: Vars,
    catalog: Arc<SchemaCatalog>,
}

/// A session for `flags` with the simulator's reference variables and AK/SK.
fn session(mut flags: Layer, env: &Env) -> Session {
    flags.vars.extend(
        cms_sim::reference_vars()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v)),
    );
    Session::prepare(
        SessionOptions {
            flags,
            schemas: Some(root().join("schemas")),
            embedded: Some(Simulated::default().shared()),
            force_embedded: false,
        },
        env,
    )
    .expect("session")
}

fn plan_of(s: &Session) -> Plan {
    Plan {
        target: s.target(),
        vars: s.vars.clone(),
        catalog: s.catalog.clone(),
    }
}

/// Load options for `plan`: its variables and contracts, agentbyworkno for
/// files without a folder.
fn load_opts(plan: &Plan) -> LoadOptions {
    LoadOptions {
        vars: plan.vars.clone(),
        catalog: Some(plan.catalog.clone()),
        default_contract: Some("agentbyworkno".into()),
        ..LoadOptions::default()
    }
}

fn env() -> Env {
    [("CMS_AK", DEFAULT_AK), ("CMS_SK", DEFAULT_SK)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn plan_for(url: &str) -> Plan {
    let flags = Layer {
        target: Some(url.parse().expect("a base URL")),
        ..Layer::default()
    };
    plan_of(&session(flags, &env()))
}

fn probe(plan: &Plan) -> Case {
    let mut cases =
        load_str(Path::new("hostile/probe.yaml"), PROBE, &load_opts(plan)).expect("probe loads");
    assert_eq!(cases.len(), 1);
    cases.remove(0)
}

async fn runner(plan: Plan) -> Runner {
    Runner::new(plan.target, plan.catalog, ProbePlan::default()).expect("runner")
}

/// Run the probe against `url` with the target adjusted by `tweak`; return
/// the result and how long it took.
async fn run_probe(url: &str, tweak: impl FnOnce(&mut Target)) -> (CaseResult, Duration) {
    let mut plan = plan_for(url);
    tweak(&mut plan.target);
    let case = probe(&plan);
    let runner = runner(plan).await;
    let started = Instant::now();
    let r = runner.run_case(&case).await;
    (r, started.elapsed())
}

/// Short limits so every failure shows up fast.
fn quick(t: &mut Target) {
    t.timeout = Duration::from_secs(1);
    t.connect_timeout = Duration::from_secs(1);
}

/// Checks every non-passing result must meet: the request is reported and
/// every message is one line.
fn well_formed(r: &CaseResult) {
    assert_ne!(r.outcome(), Outcome::Pass, "{r:?}");
    assert_eq!(r.request.method, "POST", "the request is reported: {r:?}");
    assert!(r.request.url.starts_with("http"), "{}", r.request.url);
    assert!(
        r.request.url.ends_with("/agentbyworkno"),
        "{}",
        r.request.url
    );
    for f in &r.failures {
        assert!(!f.message.contains('\n'), "one line: {:?}", f.message);
        assert!(!f.message.is_empty());
    }
    // The text report renders without trouble.
    let _ = text::render(r, Style { color: false });
}

/// The single transport error of `r`.
fn transport(r: &CaseResult) -> (TransportError, String) {
    well_formed(r);
    assert_eq!(r.outcome(), Outcome::Error, "{r:?}");
    let f = r
        .failures
        .iter()
        .find_map(|f| match f.kind {
            FailureKind::Transport(k) => Some((k, f.message.clone())),
            _ => None,
        })
        .expect("a transport failure");
    eprintln!("{:?}: {}", f.0, f.1);
    f
}

/// The failure kinds of a result that got a reply but failed its checks.
fn checks(r: &CaseResult) -> Vec<FailureKind> {
    well_formed(r);
    assert_eq!(r.outcome(), Outcome::Fail, "{r:?}");
    for f in &r.failures {
        eprintln!("{:?}: {}", f.kind, f.message);
    }
    r.failures.iter().map(|f| f.kind.clone()).collect()
}

/// A raw server on 127.0.0.1:0: for each connection (at most [`MAX_CONNS`]),
/// read the request, then let `script` answer (or not). Everything stops by
/// itself after [`LIFETIME`].
async fn raw_server<F, Fut>(script: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve(listener, script));
    addr
}

async fn serve<F, Fut>(listener: TcpListener, script: F)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut conns = tokio::task::JoinSet::new();
    let accept_all = async {
        for _ in 0..MAX_CONNS {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            read_request(&mut stream).await;
            conns.spawn(script(stream));
        }
        // Let the connections play out; the outer timeout ends them.
        while conns.join_next().await.is_some() {}
    };
    // Dropping the JoinSet at the deadline aborts whatever still runs.
    let _ = tokio::time::timeout(LIFETIME, accept_all).await;
}

/// Read one request head and its Content-Length body (bounded), so closing
/// the socket afterwards sends FIN, not RST over unread data.
async fn read_request(stream: &mut TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = async {
        loop {
            let Ok(n) = stream.read(&mut chunk).await else {
                return;
            };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = find(&buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len || buf.len() > 1 << 20 {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), read).await;
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A server that answers every connection with `reply`, then closes.
async fn replying(reply: Vec<u8>) -> SocketAddr {
    let reply = std::sync::Arc::new(reply);
    raw_server(move |mut s| {
        let reply = reply.clone();
        async move {
            let _ = s.write_all(&reply).await;
            let _ = s.shutdown().await;
        }
    })
    .await
}

fn response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

/// A good reply to the probe (agent 101 of VDN 1, signed out), so the
/// probe passes with the contract's schemas and invariants on.
fn ok_reply() -> Vec<u8> {
    const AGENT: &str = r#"{"workNo":101,"vdnId":1,"citStatus":0,"name":"a","phoneNumber":null,"loginDate":4294967295000,"currentStateTime":5,"mediaType":0,"status":2}"#;
    let body = format!(
        r#"{{"result":"0","resultCode":"0100000","resultDatas":{AGENT},"resultDesc":{AGENT}}}"#
    );
    response("200 OK", "application/json;charset=UTF-8", body.as_bytes())
}

#[tokio::test]
async fn a_well_behaved_raw_server_passes_the_probe() {
    // Control for everything below: the probe and the helpers are sound.
    let addr = replying(ok_reply()).await;
    let (r, _) = run_probe(&url(addr), quick).await;
    assert_eq!(r.outcome(), Outcome::Pass, "{r:?}");
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let (r, took) = run_probe(&format!("http://127.0.0.1:{port}"), quick).await;
    let (kind, msg) = transport(&r);
    assert_eq!(kind, TransportError::Connect, "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(msg.contains("refused"), "{msg}");
    assert!(msg.contains("check that the CMS is running"), "{msg}");
    assert_eq!(r.retries, 0);
    eprintln!("refused in {took:?}");
}

#[tokio::test]
async fn an_unresolvable_host_is_a_connect_error_quickly() {
    let (r, took) = run_probe("http://cms-contract-test.invalid:28080", |t| {
        t.timeout = Duration::from_secs(3);
        t.connect_timeout = Duration::from_secs(2);
    })
    .await;
    let (kind, msg) = transport(&r);
    assert_eq!(kind, TransportError::Connect, "{msg}");
    assert!(msg.contains("cms-contract-test.invalid:28080"), "{msg}");
    eprintln!("dns failure in {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn a_connect_that_hangs_is_a_connect_error_at_the_connect_timeout() {
    // A listener whose accept queue is full drops new SYNs, so connecting
    // hangs: a black hole on loopback.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let addr = socket.local_addr().expect("addr");
    let listener = socket.listen(0).expect("listen");
    let mut fillers = Vec::new();
    for _ in 0..4 {
        match tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => fillers.push(s),
            _ => break,
        }
    }
    if fillers.len() == 4 {
        eprintln!("skipped: this kernel accepts connections past a full accept queue");
        return;
    }
    let (r, took) = run_probe(&url(addr), |t| {
        t.timeout = Duration::from_secs(5);
        t.connect_timeout = Duration::from_millis(500);
        t.connect_retries = 1;
    })
    .await;
    drop((listener, fillers));
    let (kind, msg) = transport(&r);
    eprintln!("hanging connect: {took:?}");
    assert_eq!(kind, TransportError::Connect, "{msg}");
    assert!(msg.contains("no connection within 500ms"), "{msg}");
    assert_eq!(r.retries, 1, "a connect timeout is retried");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let addr = raw_server(|s| async move {
        // Hold the connection open, say nothing.
        tokio::time::sleep(LIFETIME).await;
        drop(s);
    })
    .await;
    let took = assert_times_out(addr, "silent server").await;
    assert!(took >= Duration::from_millis(900), "{took:?}");
}

/// The probe against `addr` ends in a per-request timeout that names the
/// host and the flag, well before anything could be said to hang.
async fn assert_times_out(addr: std::net::SocketAddr, what: &str) -> Duration {
    let (r, took) = run_probe(&url(addr), quick).await;
    let (kind, msg) = transport(&r);
    assert_eq!(kind, TransportError::Timeout, "{msg}");
    assert!(msg.contains(&addr.to_string()), "{msg}");
    assert!(msg.contains("--timeout"), "{msg}");
    eprintln!("{what}: {took:?}");
    assert!(took < Duration::from_secs(10), "nothing hangs: {took:?}");
    took
}

#[tokio::test]
async fn headers_then_a_stalled_body_times_out() {
    let addr = raw_server(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"resu")
            .await;
        tokio::time::sleep(LIFETIME).await;
    })
    .await;
    assert_times_out(addr, "stalled body").await;
}

#[tokio::test]
async fn a_server_that_trickles_bytes_times_out() {
    let addr = raw_server(|mut s| async move {
        let reply = ok_reply();
        // One byte every 100 ms: the whole reply would take seconds.
        for b in reply {
            if s.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert_times_out(addr, "trickle").await;
}

#[tokio::test]
async fn a_reply_over_the_cap_is_too_large_with_content_length() {
    let body = vec![b' '; 5000];
    let addr = replying(response("200 OK", "application/json", &body)).await;
    let (r, _) = run_probe(&url(addr), |t| {
        quick(t);
        t.max_response_bytes = 1024;
    })
    .await;
    let (kind, msg) = transport(&r);
    assert_eq!(kind, TransportError::TooLarge, "{msg}");
    assert!(msg.contains("5000"), "{msg}");
    assert!(msg.contains("1024-byte cap"), "{msg}");
    assert!(msg.contains("--max-response-bytes"), "{msg}");
}

#[tokio::test]
async fn a_reply_over_the_cap_is_too_large_when_chunked() {
    let mut reply =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            .to_vec();
    for _ in 0..10 {
        reply.extend_from_slice(b"200\r\n");
        reply.extend_from_slice(&[b' '; 0x200]);
        reply.extend_from_slice(b"\r\n");
    }
    reply.extend_from_slice(b"0\r\n\r\n");
    let addr = replying(reply).await;
    let (r, _) = run_probe(&url(addr), |t| {
        quick(t);
        t.max_response_bytes = 1024;
    })
    .await;
    let (kind, msg) = transport(&r);
    assert_eq!(kind, TransportError::TooLarge, "{msg}");
    assert!(msg.contains("1024-byte cap"), "{msg}");
}

#[tokio::test]
async fn a_non_json_reply_fails_as_not_json() {
    let addr = replying(response(
        "200 OK",
        "text/html",
        b"<html><body>Welcome to nginx!</body></html>",
    ))
    .await;
    let (r, _) = run_probe(&url(addr), quick).await;
    let kinds = checks(&r);
    assert!(kinds.contains(&FailureKind::NotJson), "{kinds:?}");
    assert!(kinds.contains(&FailureKind::ContentType), "{kinds:?}");
    let f = r
        .failures
        .iter()
        .find(|f| f.kind == FailureKind::NotJson)
        .expect("not json");
    assert!(
        f.message.starts_with("the body is not JSON"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn invalid_utf8_is_reported_as_such() {
    let addr = replying(response(
        "200 OK",
        "application/json;charset=UTF-8",
        b"{\"resultCode\":\"0100000\",\"name\":\"\xff\xfe\"}",
    ))
    .await;
    let (r, _) = run_probe(&url(addr), quick).await;
    let kinds = checks(&r);
    assert_eq!(kinds, [FailureKind::NotJson]);
    assert!(
        r.failures[0].message.contains("not valid UTF-8"),
        "{}",
        r.failures[0].message
    );
}

#[tokio::test]
async fn a_body_cut_short_of_its_content_length_is_a_protocol_error() {
    let addr = raw_server(|mut s| async move {
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"resultCode\":\"01")
            .await;
        let _ = s.shutdown().await;
    })
    .await;
    let (r, took) = run_probe(&url(addr), quick).await;
    let (kind, msg) = transport(&r);
    assert_eq!(kind, TransportError::Protocol, "{msg}");
    assert!(msg.contains(&addr.to_string()), "{msg}");
    assert!(msg.contains("closed the connection"), "{msg}");
    assert!(
        took < Duration::from_secs(1),
        "no wait for the rest: {took:?}"
    );
}

#[tokio::test]
async fn short_json_with_a_matching_length_fails_as_not_json() {
    let addr = replying(response(
        "200 OK",
        "application/json",
        b"{\"resultCode\":\"0100000\",",
    ))
    .await;
    let (r, _) = run_probe(&url(addr), quick).await;
    assert_eq!(checks(&r), [FailureKind::NotJson]);
    assert!(
        r.failures[0].message.contains("the body is truncated JSON"),
        "{}",
        r.failures[0].message
    );
}

#[tokio::test]
async fn a_reply_that_is_not_http_is_a_protocol_error() {
    let addr = replying(b"SSH-2.0-OpenSSH_9.6\r\n".to_vec()).await;
    let (r, _) = run_probe(&url(addr), quick).await;
    let (kind, msg) = transport(&r);
    assert_eq!(kind, TransportError::Protocol, "{msg}");
    assert!(msg.contains("not HTTP/1.x"), "{msg}");
}

#[tokio::test]
async fn a_connection_closed_without_a_reply_is_a_protocol_error() {
    let addr = raw_server(|s| async move { drop(s) }).await;
    let (r, _) = run_probe(&url(addr), quick).await;
    let (kind, msg) = transport(&r);
    assert_eq!(kind, TransportError::Protocol, "{msg}");
    assert!(msg.contains("closed"), "{msg}");
}

#[tokio::test]
async fn server_errors_with_html_bodies_fail_as_server_errors() {
    for status in [
        "500 Internal Server Error",
        "502 Bad Gateway",
        "503 Service Unavailable",
    ] {
        let page = format!(
            "<html><head><title>{status}</title></head>\n<body><h1>{status}</h1></body></html>\n"
        );
        let addr = replying(response(status, "text/html", page.as_bytes())).await;
        let (r, _) = run_probe(&url(addr), quick).await;
        let kinds = checks(&r);
        assert_eq!(kinds[0], FailureKind::ServerError, "{status}: {kinds:?}");
        assert!(kinds.contains(&FailureKind::NotJson), "{status}: {kinds:?}");
        assert_eq!(
            r.response.as_ref().map(|x| x.status),
            status[..3].parse().ok()
        );
    }
}

/// Bind `port` on 127.0.0.1 after `delay` and answer like [`ok_reply`].
fn listen_later(port: u16, delay: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await else {
            return;
        };
        let reply = std::sync::Arc::new(ok_reply());
        serve(listener, move |mut s| {
            let reply = reply.clone();
            async move {
                let _ = s.write_all(&reply).await;
                let _ = s.shutdown().await;
            }
        })
        .await;
    })
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test]
async fn connect_retries_reach_a_server_that_starts_late() {
    let port = free_port();
    let server = listen_later(port, Duration::from_millis(300));
    let (r, took) = run_probe(&format!("http://127.0.0.1:{port}"), |t| {
        quick(t);
        t.connect_retries = 3;
    })
    .await;
    server.abort();
    assert_eq!(r.outcome(), Outcome::Pass, "{r:?}");
    assert!(r.retries > 0, "{}", r.retries);
    let report = text::render(&r, Style { color: false });
    assert!(report.contains("connect retr"), "{report}");
    eprintln!(
        "late server reached after {} retries in {took:?}",
        r.retries
    );
}

#[tokio::test]
async fn without_retries_a_late_server_is_a_connect_error() {
    let port = free_port();
    let (r, _) = run_probe(&format!("http://127.0.0.1:{port}"), quick).await;
    let (kind, msg) = transport(&r);
    assert_eq!(kind, TransportError::Connect, "{msg}");
    assert_eq!(r.retries, 0);
}

#[tokio::test]
async fn the_whole_run_deadline_stops_a_silent_target() {
    let addr = raw_server(|s| async move {
        tokio::time::sleep(LIFETIME).await;
        drop(s);
    })
    .await;
    let mut plan = plan_for(&url(addr));
    plan.target.timeout = Duration::from_secs(30);
    let case = probe(&plan);
    let started = Instant::now();
    let runner = runner(plan)
        .await
        .with_deadline(started + Duration::from_millis(500));
    let results = runner.run_all(&[case.clone(), case], 2, |_| {}).await;
    let took = started.elapsed();
    eprintln!("deadline: {took:?}");
    assert_eq!(results.len(), 2);
    for r in &results {
        let (kind, msg) = transport(r);
        assert_eq!(kind, TransportError::Timeout, "{msg}");
        assert!(msg.contains("--run-timeout"), "{msg}");
    }
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(
        took < Duration::from_secs(10),
        "finished at the deadline: {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_spaces_requests() {
    // The embedded simulator as the target, the sample case ten times.
    let flags = Layer {
        rate: Some("20".parse().unwrap()),
        ..Layer::default()
    };
    let session = session(flags, &Env::new());
    assert_eq!(session.target().rate_per_sec, Some(20.0));
    let sample: Vec<Case> = load_paths(
        &[root().join("cases/agentbyworkno")],
        &load_opts(&plan_of(&session)),
    )
    .expect("shipped cases load")
    .to_vec()
    .expect("built")
    .into_iter()
    .filter(|c| c.tags.iter().any(|t| t == "sample"))
    .take(1)
    .collect();
    assert_eq!(sample.len(), 1);
    let cases = vec![sample[0].clone(); 10];
    let live = session.start().await.expect("start");
    let started = Instant::now();
    let results = live.runner.run_all(&cases, 10, |_| {}).await;
    let took = started.elapsed();
    eprintln!("10 cases at 20/s: {took:?}");
    assert!(results.iter().all(|r| r.outcome() == Outcome::Pass));
    // Ten requests 50 ms apart: the last starts 450 ms after the first.
    assert!(took >= Duration::from_millis(400), "{took:?}");
}

#[tokio::test]
async fn a_target_that_echoes_the_authorization_header_does_not_leak_the_signature() {
    // raw_server consumes the request; this one needs to read it.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let Ok(Ok((mut s, _))) = tokio::time::timeout(LIFETIME, listener.accept()).await else {
            return;
        };
        let mut buf = vec![0u8; 8192];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let text = String::from_utf8_lossy(&got).to_string();
        let auth = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("authorization: ")
                    .or_else(|| l.strip_prefix("Authorization: "))
            })
            .unwrap_or("")
            .to_string();
        let body = format!("{{\"echo\":\"{auth}\"}}");
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Echo: {auth}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = s.write_all(reply.as_bytes()).await;
    });
    let mut plan = plan_for(&url(addr));
    quick(&mut plan.target);
    let mut case = probe(&plan);
    case.request.auth = cms_contract::case::AuthMode::Signed;
    let r = runner(plan).await.run_case(&case).await;
    let resp = r
        .response
        .as_ref()
        .unwrap_or_else(|| panic!("a reply: {:?}", r.failures));
    assert!(
        resp.body_text.contains("auth-v2/"),
        "the echo came back: {}",
        resp.body_text
    );
    let everything = format!(
        "{}{}{:?}",
        cms_contract::report::text::render(&r, cms_contract::report::Style::default()),
        cms_contract::report::json::render(
            std::slice::from_ref(&r),
            &cms_contract::report::RunInfo {
                target: url(addr),
                tls_verify: true,
                ..Default::default()
            }
        ),
        resp.headers
    );
    let hex_run = everything.as_bytes().windows(64).any(|w| {
        w.iter()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    });
    assert!(!hex_run, "a signature leaked:\n{everything}");
    assert!(everything.contains("<redacted>"));
}

/// A server that counts the connections it accepts and answers each like
/// [`ok_reply`]: the "other host" a request must never reach.
async fn counting() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let addr = raw_server(move |mut s| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let _ = s.write_all(&ok_reply()).await;
            let _ = s.shutdown().await;
        }
    })
    .await;
    (addr, hits)
}

#[tokio::test]
async fn a_path_that_would_change_the_host_is_refused_unsent() {
    use std::sync::atomic::Ordering;
    let (target, target_hits) = counting().await;
    let (other, other_hits) = counting().await;
    let mut plan = plan_for(&url(target));
    quick(&mut plan.target);
    let probe_case = probe(&plan);
    let runner = runner(plan.clone()).await;
    // Glued to `http://127.0.0.1:T`, the first reads as user info
    // `127.0.0.1:T` at the other listener, the second as a host name.
    for path in [format!("@{other}/x"), ".evil.example/x".to_string()] {
        // The loader refuses it, located at the path.
        let yaml = PROBE.replace(
            "path: /rest/cmsapp/v1/openapi/agent/agentbyworkno",
            &format!("path: \"{path}\""),
        );
        let errs = load_str(Path::new("hostile/escape.yaml"), &yaml, &load_opts(&plan))
            .expect_err("the loader refuses the path");
        let e = &errs.0[0];
        assert_eq!(
            e.message,
            format!("request path {path:?} must start with `/`")
        );
        assert_eq!((e.location.line, e.location.column), (5, 13), "{e}");
        // A case built some other way is refused before anything is sent.
        let mut case = probe_case.clone();
        case.request.path = path.clone();
        case.request.auth = cms_contract::case::AuthMode::Signed;
        let r = runner.run_case(&case).await;
        assert_eq!(r.outcome(), Outcome::Error, "{path}: {r:?}");
        let (kind, msg) = match &r.failures[..] {
            [f] => match f.kind {
                FailureKind::Transport(k) => (k, f.message.clone()),
                _ => panic!("{path}: {r:?}"),
            },
            _ => panic!("{path}: {r:?}"),
        };
        assert_eq!(kind, TransportError::Request, "{msg}");
        assert!(msg.starts_with("refused to send: request path"), "{msg}");
        assert!(r.response.is_none());
        assert!(
            !r.request.headers.iter().any(|(k, _)| k == "Authorization"),
            "no signature is made for it: {:?}",
            r.request.headers
        );
    }
    // Bounded wait: a connection in flight would have been accepted by now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        other_hits.load(Ordering::SeqCst),
        0,
        "the other host was reached"
    );
    assert_eq!(target_hits.load(Ordering::SeqCst), 0, "nothing was sent");
}

/// The spec's sample agent, with `workNo` and `loginDate` written as given.
fn sample_agent(work_no: &str, login_date: &str) -> String {
    format!(
        r#"{{"workNo":{work_no},"vdnId":1,"citStatus":0,"name":"HW35154101","phoneNumber":null,"loginDate":{login_date},"currentStateTime":436879,"mediaType":0,"status":2}}"#
    )
}

/// The spec's sample reply with `agent` as `resultDesc`.
fn sample_reply(agent: &str) -> String {
    format!(
        r#"{{"result":"0","resultCode":"0100000","resultDatas":{},"resultDesc":{agent}}}"#,
        sample_agent("101", "4294967295000")
    )
}

/// Run the probe, asking for `schema`, against a server that answers `reply`.
async fn probe_with_schema(reply: Vec<u8>, schema: &str) -> CaseResult {
    let addr = replying(reply).await;
    let mut plan = plan_for(&url(addr));
    quick(&mut plan.target);
    let yaml = format!("{PROBE}      schema: {schema}\n");
    let mut cases =
        load_str(Path::new("hostile/probe.yaml"), &yaml, &load_opts(&plan)).expect("probe loads");
    runner(plan).await.run_case(&cases.remove(0)).await
}

/// The wire failures of `r`: (pointer, message, rule).
fn wire_failures(r: &CaseResult) -> Vec<(Option<String>, String, Option<String>)> {
    checks(r);
    r.failures
        .iter()
        .filter(|f| f.kind == FailureKind::Wire)
        .map(|f| (f.pointer.clone(), f.message.clone(), f.rule.clone()))
        .collect()
}

#[tokio::test]
async fn the_spec_sample_passes_with_the_schema() {
    // Control for the wire tests below.
    let r = probe_with_schema(
        response(
            "200 OK",
            "application/json;charset=UTF-8",
            sample_reply(&sample_agent("101", "4294967295000")).as_bytes(),
        ),
        "success.json",
    )
    .await;
    assert_eq!(r.outcome(), Outcome::Pass, "{r:?}");
}

#[tokio::test]
async fn a_repeated_json_key_fails_the_case() {
    let body = br#"{"resultCode":"0100000","resultCode":"0100001","resultDesc":{}}"#;
    let addr = replying(response("200 OK", "application/json;charset=UTF-8", body)).await;
    let (r, _) = run_probe(&url(addr), quick).await;
    let wire = wire_failures(&r);
    assert_eq!(wire.len(), 1, "{wire:?}");
    let (pointer, message, rule) = &wire[0];
    assert_eq!(pointer.as_deref(), Some("/resultCode"));
    assert!(
        message
            .starts_with("ambiguous reply: key `resultCode` appears twice in the top-level object"),
        "{message}"
    );
    assert!(
        rule.as_deref().is_some_and(|r| r.contains("RFC 8259 §4")),
        "{rule:?}"
    );
    let report = text::render(&r, Style { color: false });
    assert!(report.contains("[wire]"), "{report}");
}

#[tokio::test]
async fn integer_fields_written_as_floats_fail_with_their_table_rows() {
    let body = sample_reply(&sample_agent("101.0", "4.294967295E12"));
    for schema in ["success.json", "response.json"] {
        let r = probe_with_schema(
            response("200 OK", "application/json;charset=UTF-8", body.as_bytes()),
            schema,
        )
        .await;
        assert_eq!(
            wire_failures(&r),
            [
                (
                    Some("/resultDesc/workNo".to_string()),
                    "/resultDesc/workNo is written 101.0; an integer field must be an integer token, without fraction or exponent".to_string(),
                    Some("Table 4 row 2.1 workNo (int)".to_string()),
                ),
                (
                    Some("/resultDesc/loginDate".to_string()),
                    "/resultDesc/loginDate is written 4.294967295E12; an integer field must be an integer token, without fraction or exponent".to_string(),
                    Some("Table 4 row 2.6 loginDate (long, epoch ms ≥ 0)".to_string()),
                ),
            ],
            "{schema}"
        );
        // JSON Schema's `integer` accepts both: nothing else fails.
        assert_eq!(r.failures.len(), 2, "{schema}: {:?}", r.failures);
        let report = text::render(&r, Style { color: false });
        assert!(report.contains("-    \"workNo\": 101,\n"), "{report}");
        assert!(report.contains("+    \"workNo\": 101.0,\n"), "{report}");
    }
}

#[tokio::test]
async fn two_content_type_headers_fail_the_case() {
    let body = br#"{"resultCode":"0100000","resultDesc":{}}"#;
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(body);
    let addr = replying(reply).await;
    let (r, _) = run_probe(&url(addr), quick).await;
    let wire = wire_failures(&r);
    assert_eq!(wire.len(), 1, "{wire:?}");
    assert_eq!(
        wire[0].1,
        "ambiguous reply: 2 Content-Type headers (`application/json;charset=UTF-8`, `text/html`); a client cannot know which one applies"
    );
}

#[tokio::test]
async fn an_encoding_the_request_did_not_accept_fails_the_case() {
    let body = br#"{"resultCode":"0100000","resultDesc":{}}"#;
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(body);
    let addr = replying(reply).await;
    let (r, _) = run_probe(&url(addr), quick).await;
    assert!(
        !r.request
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("accept-encoding")),
        "the probe asks for no encoding"
    );
    let wire = wire_failures(&r);
    assert_eq!(wire.len(), 1, "{wire:?}");
    assert_eq!(
        wire[0].1,
        "the reply is encoded (`gzip`) although the request did not accept any encoding"
    );
}
