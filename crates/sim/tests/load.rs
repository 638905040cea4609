//! Load test: the embedded simulator answers 100,000 signed POSTs on
//! loopback over a few keep-alive connections, every reply is the one for
//! its request, and the simulator's hit counter agrees with what was sent.
//!
//! The client is a minimal HTTP/1.1 writer and reader over tokio
//! `TcpStream` (one request in flight per connection, so a lost or
//! reordered reply shows up as a mismatch with the next request). Every
//! request is signed at the second it is sent, with the simulator's default
//! AK/SK. Traffic goes to 127.0.0.1 only; the count is fixed, every read has
//! a timeout and the whole run has a deadline, so the test ends by itself.

use cms_auth_v2::{authorization as sign_auth, CanonicalInput, Credentials, Timestamp};
use cms_sim::{
    known_agents, respond, SimConfig, SimRequest, Simulator, CC_ID, DEFAULT_AK, DEFAULT_SK,
};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Requests sent in total.
const REQUESTS: usize = 100_000;
/// Keep-alive connections, each with one request in flight.
const CONNECTIONS: usize = 4;
/// The whole exchange must end within this, pass or fail.
const DEADLINE: Duration = Duration::from_secs(300);
/// No single read may wait longer than this.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Mismatches shown in the failure message (all are counted).
const SHOWN: usize = 5;

const CONTENT_TYPE: &str = "application/json;charset=UTF-8";
/// agentbyworkno's path (its spec, "Endpoint").
const ENDPOINT_PATH: &str = "/rest/cmsapp/v1/openapi/agent/agentbyworkno";
const RESULT_CODE_SUCCESS: &str = "0100000";
const RESULT_CODE_FAILED: &str = "0100001";
const RESULT_CODE_INVALID_PARAMETER: &str = "0100002";

/// Where requests go: the simulator's `host:port`.
struct Target {
    authority: String,
}

impl Target {
    fn authority(&self) -> String {
        self.authority.clone()
    }
}

/// One kind of request and the reply it must get.
struct Template {
    /// For messages: what the request is.
    name: String,
    body: Vec<u8>,
    /// Sign with these (the right keys, or a wrong SK for the 401 cases).
    creds: Credentials,
    status: u16,
    reply: Vec<u8>,
    /// For success replies: the `(vdn, workNo)` the reply must carry.
    agent: Option<(i64, i64)>,
}

fn query(cc_id: Value, vdn: Value, agent_id: Value) -> Vec<u8> {
    json!({"queryParam": {"ccId": cc_id, "vdn": vdn, "agentId": agent_id}})
        .to_string()
        .into_bytes()
}

/// Sign `body` as sent at `ts` to `target`.
fn authorization(t: &Template, target: &Target, ts: Timestamp) -> String {
    let headers = [("host".to_string(), target.authority())];
    sign_auth(
        &t.creds,
        ts,
        &CanonicalInput {
            method: "POST",
            path: ENDPOINT_PATH,
            query: &[],
            headers: &headers,
            body: &t.body,
        },
    )
}

/// The raw request bytes.
fn request_bytes(t: &Template, target: &Target, ts: Timestamp) -> Vec<u8> {
    let mut out = format!(
        "POST {ENDPOINT_PATH} HTTP/1.1\r\nHost: {}\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {}\r\nAuthorization: {}\r\n\r\n",
        target.authority(),
        t.body.len(),
        authorization(t, target, ts)
    )
    .into_bytes();
    out.extend_from_slice(&t.body);
    out
}

/// Every known agent, plus error inputs: unknown agents, out-of-range and
/// mistyped fields, a body that is not JSON, and a wrong signature. The
/// expected reply of each is the simulator's pure `respond` (what the
/// server must send byte for byte), cross-checked here against the
/// contract so a broken oracle cannot pass silently.
fn templates(cfg: &SimConfig, target: &Target) -> Vec<Template> {
    let good = Credentials::new(DEFAULT_AK, DEFAULT_SK);
    let wrong = Credentials::new(DEFAULT_AK, format!("{DEFAULT_SK}-wrong"));
    let template = |name: &str, body: Vec<u8>, creds: &Credentials, agent| Template {
        name: name.to_string(),
        body,
        creds: creds.clone(),
        status: 0,
        reply: Vec::new(),
        agent,
    };
    let mut out: Vec<Template> = known_agents()
        .into_iter()
        .map(|(vdn, work_no)| {
            template(
                &format!("agent {work_no} in vdn {vdn}"),
                query(json!(CC_ID), json!(vdn), json!(work_no)),
                &good,
                Some((vdn, work_no)),
            )
        })
        .collect();
    let q = |cc_id: i64, vdn: i64, agent_id: Value| query(json!(cc_id), json!(vdn), agent_id);
    out.extend([
        template("unknown agent", q(1, 1, json!(555)), &good, None),
        template("unknown vdn", q(1, 7, json!(101)), &good, None),
        template("unknown ccId", q(2, 1, json!(101)), &good, None),
        template("agentId out of range", q(1, 1, json!(60000)), &good, None),
        template("vdn out of range", q(1, 0, json!(101)), &good, None),
        template("agentId as a string", q(1, 1, json!("101")), &good, None),
        template(
            "body not JSON",
            b"ccId=1&vdn=1&agentId=101".to_vec(),
            &good,
            None,
        ),
        template("wrong signature", q(1, 1, json!(101)), &wrong, None),
    ]);
    let now = Timestamp::now();
    for t in &mut out {
        let sim_req = SimRequest {
            method: "POST".into(),
            path: ENDPOINT_PATH.into(),
            query: vec![],
            headers: vec![
                ("host".into(), target.authority().to_string()),
                ("content-type".into(), CONTENT_TYPE.into()),
                ("content-length".into(), t.body.len().to_string()),
                ("authorization".into(), authorization(t, target, now)),
            ],
            body: t.body.clone(),
        };
        let r = respond(cfg, &sim_req, now);
        t.status = r.status;
        t.reply = r.body;
        cross_check(t);
    }
    out
}

/// The expected reply agrees with the contract: the right agent on success,
/// the documented result codes on errors, 401 for a bad signature.
fn cross_check(t: &Template) {
    let v: Value = serde_json::from_slice(&t.reply).expect("expected reply is JSON");
    let code = v["resultCode"].as_str().unwrap_or_default();
    match (t.agent, t.name.as_str()) {
        (Some((vdn, work_no)), _) => {
            assert_eq!(t.status, 200, "{}", t.name);
            assert_eq!(code, RESULT_CODE_SUCCESS, "{}", t.name);
            assert_eq!(v["resultDesc"]["workNo"], json!(work_no), "{}", t.name);
            assert_eq!(v["resultDesc"]["vdnId"], json!(vdn), "{}", t.name);
        }
        (None, "wrong signature") => assert_eq!(t.status, 401, "{}", t.name),
        (None, n) if n.starts_with("unknown") => {
            assert_eq!((t.status, code), (200, RESULT_CODE_FAILED), "{n}");
        }
        (None, n) => assert_eq!(
            (t.status, code),
            (200, RESULT_CODE_INVALID_PARAMETER),
            "{n}"
        ),
    }
}

/// The start of a body, for messages.
fn preview(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(160).collect()
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    sent: usize,
    matched: usize,
    mismatches: usize,
    shown: Vec<String>,
    transport: Option<String>,
}

/// A keep-alive connection with a read buffer.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Read one response: status and body (by Content-Length).
    async fn read_response(&mut self) -> Result<(u16, Vec<u8>), String> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])
                    .map_err(|_| "response head is not UTF-8".to_string())?;
                let mut lines = head.split("\r\n");
                let status_line = lines.next().unwrap_or_default();
                let status = status_line
                    .strip_prefix("HTTP/1.1 ")
                    .and_then(|s| s.get(..3))
                    .and_then(|s| s.parse::<u16>().ok())
                    .ok_or_else(|| format!("bad status line {status_line:?}"))?;
                let len = lines
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                    .ok_or_else(|| format!("no Content-Length in {head:?}"))?;
                let total = end + 4 + len;
                while self.buf.len() < total {
                    self.fill().await?;
                }
                let body = self.buf[end + 4..total].to_vec();
                self.buf.drain(..total);
                return Ok((status, body));
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 16 * 1024];
        let n = tokio::time::timeout(READ_TIMEOUT, self.stream.read(&mut chunk))
            .await
            .map_err(|_| format!("no data within {READ_TIMEOUT:?}"))?
            .map_err(|e| format!("read failed: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// Send `count` requests on one connection, cycling through the templates
/// so that consecutive requests differ.
async fn drive(
    conn_no: usize,
    count: usize,
    templates: Arc<Vec<Template>>,
    target: Arc<Target>,
) -> Tally {
    let mut tally = Tally::default();
    let stream = match TcpStream::connect(target.authority()).await {
        Ok(s) => s,
        Err(e) => {
            tally.transport = Some(format!("connection {conn_no}: connect failed: {e}"));
            return tally;
        }
    };
    if let Err(e) = stream.set_nodelay(true) {
        tally.transport = Some(format!("connection {conn_no}: set_nodelay: {e}"));
        return tally;
    }
    let mut conn = Conn {
        stream,
        buf: Vec::with_capacity(32 * 1024),
    };
    let n = templates.len();
    for k in 0..count {
        // With more than 7 templates, k*7 and (k+1)*7 differ mod n: neighbours differ.
        let t = &templates[(k * 7 + conn_no * 13) % n];
        let bytes = request_bytes(t, &target, Timestamp::now());
        if let Err(e) = conn.stream.write_all(&bytes).await {
            tally.transport = Some(format!("connection {conn_no}, request {k}: write: {e}"));
            return tally;
        }
        tally.sent += 1;
        let (status, body) = match conn.read_response().await {
            Ok(r) => r,
            Err(e) => {
                tally.transport = Some(format!(
                    "connection {conn_no}, request {k} ({}): {e}",
                    t.name
                ));
                return tally;
            }
        };
        let echo_ok = t.agent.is_none_or(|(vdn, work_no)| {
            serde_json::from_slice::<Value>(&body).is_ok_and(|v| {
                v["resultDesc"]["workNo"] == json!(work_no)
                    && v["resultDesc"]["vdnId"] == json!(vdn)
            })
        });
        if status == t.status && body == t.reply && echo_ok {
            tally.matched += 1;
        } else {
            tally.mismatches += 1;
            if tally.shown.len() < SHOWN {
                tally.shown.push(format!(
                    "connection {conn_no}, request {k} ({}): got {status} {}, expected {} {}",
                    t.name,
                    preview(&body),
                    t.status,
                    preview(&t.reply)
                ));
            }
        }
    }
    tally
}

/// A long load test: `.ci/run` runs it on every CI run, in release, as its
/// own step (`cargo test --release -p cms-sim --test load -- --ignored`), so
/// the default `cargo test` stays fast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test: .ci/run runs it in release with --ignored"]
async fn simulator_answers_100k_signed_requests_without_loss() {
    let cfg = SimConfig::default();
    let sim = Simulator::start(cfg.clone())
        .await
        .expect("start simulator");
    let target = Arc::new(Target {
        authority: sim.addr().to_string(),
    });
    let templates = Arc::new(templates(&cfg, &target));
    assert!(templates.len() > 7);

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..CONNECTIONS {
        // Split REQUESTS as evenly as possible; the shares add up to REQUESTS.
        let count = (REQUESTS + CONNECTIONS - 1 - c) / CONNECTIONS;
        tasks.spawn(drive(c, count, templates.clone(), target.clone()));
    }
    let tallies = tokio::time::timeout(DEADLINE, async {
        let mut out = Vec::new();
        while let Some(t) = tasks.join_next().await {
            out.push(t.expect("a connection task panicked"));
        }
        out
    })
    .await
    .unwrap_or_else(|_| panic!("the load test did not finish within {DEADLINE:?}"));
    let elapsed = started.elapsed();

    let sent: usize = tallies.iter().map(|t| t.sent).sum();
    let matched: usize = tallies.iter().map(|t| t.matched).sum();
    let mismatches: usize = tallies.iter().map(|t| t.mismatches).sum();
    let transport: Vec<&String> = tallies
        .iter()
        .filter_map(|t| t.transport.as_ref())
        .collect();
    let shown: Vec<&String> = tallies.iter().flat_map(|t| &t.shown).collect();
    println!(
        "load: {sent} requests over {CONNECTIONS} connections in {:.2} s ({:.0} requests/s), {} kinds of request",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64(),
        templates.len()
    );
    assert!(transport.is_empty(), "transport errors: {transport:#?}");
    assert_eq!(
        mismatches, 0,
        "{mismatches} replies did not match their request, e.g.:\n{shown:#?}"
    );
    assert_eq!(sent, REQUESTS);
    assert_eq!(matched, REQUESTS);
    assert_eq!(sim.hits(), REQUESTS as u64, "simulator hit count");
    sim.shutdown().await;
}
