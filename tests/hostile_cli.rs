//! What a hostile target can make the `cms-contract` binary write: every
//! output (stdout, stderr, `--json`, `--junit`, `--html`, `compare`, bless
//! snapshots) is checked for secrets a target echoed back, and the human
//! output for terminal escapes and CI log commands in replies.
//!
//! Each server is a tiny blocking TCP server on 127.0.0.1 that reads one
//! request, answers it from a script that may use the request's signature,
//! and stops by itself after [`LIFETIME`] or [`MAX_CONNS`] connections.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest any test server lives.
const LIFETIME: Duration = Duration::from_secs(20);
/// The most connections any test server accepts.
const MAX_CONNS: usize = 8;

const AK: &str = "hostile-test-ak";
const SK: &str = "hostile-test-secret-key";

/// One signed request that fails (status 201 is expected, 200 comes), so
/// the text report shows the reply.
const PROBE: &str = "\
cases:
  - name: probe
    request:
      method: POST
      path: /rest/cmsapp/v1/openapi/agent/agentbyworkno
      headers:
        Content-Type: application/json; charset=UTF-8
      auth: signed
      query: {ccId: 1, vdn: 1, agentId: 101}
    expect:
      status: 201
";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "cms-contract-hostile-cli-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("hostile")).unwrap();
    std::fs::write(d.join("hostile/probe.yaml"), PROBE).unwrap();
    d
}

fn cli(args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
    c.current_dir(root()).args(args).env("NO_COLOR", "1");
    for k in [
        "CMS_BASE_URL",
        "CMS_PROFILE",
        "CMS_CONTRACT_BLESS",
        "CI",
        "CLICOLOR_FORCE",
    ] {
        c.env_remove(k);
    }
    c.env("CMS_AK", AK).env("CMS_SK", SK);
    c.output().expect("run cms-contract")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A running test server.
struct Server {
    addr: SocketAddr,
    /// The signature of every request it answered.
    seen: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The signatures it was sent; at least one.
    fn signatures(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap().clone();
        assert!(!seen.is_empty(), "the server was never asked");
        for sig in &seen {
            assert_eq!(sig.len(), 64, "a signature: {sig}");
        }
        seen
    }
}

/// Serve each connection with `reply(signature)`, where `signature` is the
/// last part of the request's Authorization value ("" when unsigned).
fn server(reply: fn(&str) -> Vec<u8>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + LIFETIME;
        let mut served = 0;
        while served < MAX_CONNS && Instant::now() < deadline {
            match listener.accept() {
                Ok((s, _)) => {
                    served += 1;
                    answer(s, reply, &record);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(_) => return,
            }
        }
    });
    Server { addr, seen }
}

fn answer(mut s: TcpStream, reply: fn(&str) -> Vec<u8>, seen: &Mutex<Vec<String>>) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&got[..head_end]).to_string();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while got.len() < head_end + 4 + len {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let auth = header("authorization").unwrap_or_default();
    let signature = auth.rsplit('/').next().unwrap_or("").to_string();
    if !signature.is_empty() {
        seen.lock().unwrap().push(signature.clone());
    }
    let _ = s.write_all(&reply(&signature));
    let _ = s.shutdown(std::net::Shutdown::Write);
}

fn response(content_type: &str, body: &[u8], extra_headers: &str) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{extra_headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// Where the display cut falls (the client cuts reply text at 64 KiB).
const CUT: usize = 64 * 1024;

/// A JSON reply holding `fields` (already JSON), which fails the probe.
fn json_reply(fields: &str, extra_headers: &str) -> Vec<u8> {
    let body = format!("{{\"resultCode\":\"0100000\",{fields}}}");
    response("application/json", body.as_bytes(), extra_headers)
}

/// The signature as a JSON key.
fn echo_as_key(sig: &str) -> Vec<u8> {
    json_reply(&format!("\"{sig}\":1"), "")
}

/// The signature as a header name.
fn echo_as_header_name(sig: &str) -> Vec<u8> {
    json_reply("\"a\":1", &format!("{sig}: 1\r\n"))
}

/// The signature upper-cased, in a JSON value and a header value.
fn echo_upper_case(sig: &str) -> Vec<u8> {
    let upper = sig.to_ascii_uppercase();
    json_reply(
        &format!("\"echo\":\"auth-v2/{AK}/x/host/{upper}\""),
        &format!("X-Echo: auth-v2/{AK}/x/host/{upper}\r\n"),
    )
}

/// The signature spelt with a JSON escape (`\u0064` for `d`): only the
/// parsed value shows it, and the raw text to anyone who decodes it.
fn echo_json_escaped(sig: &str) -> Vec<u8> {
    let (first, rest) = sig.split_at(1);
    let mut chars = rest.chars();
    let second = chars.next().unwrap_or('0') as u32;
    json_reply(
        &format!("\"echo\":\"{first}\\u{second:04x}{}\"", chars.as_str()),
        "",
    )
}

/// The SK, which a target knows, in a JSON value.
fn echo_sk(_: &str) -> Vec<u8> {
    json_reply(&format!("\"sk\":\"{SK}\""), "")
}

/// The signature straddling the display cut, ten digits before it.
fn across_the_cut(prefix: &[u8], sig: &str, suffix: &str) -> Vec<u8> {
    let mut body = prefix.to_vec();
    body.resize(CUT - 10, b'x');
    body.extend_from_slice(sig.as_bytes());
    body.extend_from_slice(suffix.as_bytes());
    body
}

/// In a JSON string value (the HTML report shows the cut text).
fn echo_across_the_cut_in_json(sig: &str) -> Vec<u8> {
    let body = across_the_cut(b"{\"resultCode\":\"0100000\",\"pad\":\"", sig, "\"}");
    response("application/json", &body, "")
}

/// In a text reply (every report shows the cut text).
fn echo_across_the_cut_in_text(sig: &str) -> Vec<u8> {
    let body = across_the_cut(b"echo ", sig, " tail");
    response("text/plain", &body, "")
}

/// No piece of the signature (ten digits or more, any case: a prefix is
/// what a scrub after the display cut would leave) and not the SK.
fn assert_no_secret(what: &str, out: &str, sig: &str) {
    let lower = out.to_ascii_lowercase();
    assert!(
        !lower.contains(&SK.to_ascii_lowercase()),
        "{what}: the SK leaked"
    );
    for i in 0..=sig.len() - 10 {
        let piece = &sig[i..i + 10];
        assert!(
            !lower.contains(piece),
            "{what}: signature digits {piece} (at {i}) leaked"
        );
    }
}

/// Run the probe against a server answering with `reply`, with every
/// report; then bless it, and compare it with the simulator. No output
/// may hold any piece of a signature the server was sent, or the SK.
fn no_output_leaks(tag: &str, reply: fn(&str) -> Vec<u8>) {
    let d = tmp(tag);
    let cases = d.join("hostile");
    let cases = cases.to_str().unwrap();
    let (json, junit, html, cmp) = (
        d.join("r.json"),
        d.join("r.xml"),
        d.join("r.html"),
        d.join("compare.json"),
    );
    let target = server(reply);
    let o = cli(&[
        "run",
        cases,
        "--target",
        &target.url(),
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let run = text(&o);
    assert_eq!(o.status.code(), Some(1), "{run}");
    assert!(
        run.contains("FAIL hostile::probe"),
        "the reply is shown: {run}"
    );
    let blessed = cli(&["run", cases, "--target", &target.url(), "--bless"]);
    assert!(
        text(&blessed).contains("blessed: 1 snapshots written"),
        "{}",
        text(&blessed)
    );
    let compared = cli(&[
        "compare",
        cases,
        "--baseline",
        "sim",
        "--candidate",
        &target.url(),
        "--verbose",
        "--json",
        cmp.to_str().unwrap(),
    ]);
    assert!(
        text(&compared).contains("compare result:"),
        "{}",
        text(&compared)
    );
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
    let outputs = [
        ("run stdout and stderr", run),
        ("--json", read(&json)),
        ("--junit", read(&junit)),
        ("--html", read(&html)),
        ("bless output", text(&blessed)),
        (
            "snapshot",
            read(&d.join("hostile/__snapshots__/probe.json")),
        ),
        ("compare stdout and stderr", text(&compared)),
        ("compare --json", read(&cmp)),
    ];
    for sig in target.signatures() {
        for (what, out) in &outputs {
            assert_no_secret(what, out, &sig);
        }
    }
}

#[test]
fn a_signature_echoed_as_a_json_key_never_leaks() {
    no_output_leaks("key", echo_as_key);
}

#[test]
fn a_signature_echoed_as_a_header_name_never_leaks() {
    no_output_leaks("header-name", echo_as_header_name);
}

#[test]
fn a_signature_echoed_in_upper_case_never_leaks() {
    no_output_leaks("upper", echo_upper_case);
}

#[test]
fn a_signature_spelt_with_json_escapes_never_leaks() {
    no_output_leaks("escaped", echo_json_escaped);
}

#[test]
fn the_sk_never_leaks() {
    no_output_leaks("sk", echo_sk);
}

#[test]
fn a_signature_across_the_display_cut_never_leaks_from_json() {
    no_output_leaks("cut-json", echo_across_the_cut_in_json);
}

#[test]
fn a_signature_across_the_display_cut_never_leaks_from_text() {
    no_output_leaks("cut-text", echo_across_the_cut_in_text);
}

/// A second case whose body matcher fails, so reply values reach the
/// failure messages and the diff.
const BODY_CASE: &str = "\
cases:
  - name: body
    request:
      method: POST
      path: /rest/cmsapp/v1/openapi/agent/agentbyworkno
      headers:
        Content-Type: application/json; charset=UTF-8
      auth: signed
      query: {ccId: 1, vdn: 1, agentId: 101}
    expect:
      status: 200
      body: {resultCode: \"0100000\"}
";

/// Reply text that sets the window title, clears the screen, overwrites
/// the line, and writes CI log commands and a fake summary on lines of
/// their own (also behind blanks, which GitHub Actions trims).
const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\rok\u{8}\u{7f}\n::error file=x::pwned\n\
##vso[task.setvariable variable=x]pwned\ncontract result: 1 passed, 0 failed\n  \
::warning::indented\u{9b}2J\u{202e}desrever\u{2066}";

/// The hostile text as a plain-text body that starts with a command (the
/// report prints it after an indent), and a C1 control in Content-Type.
fn hostile_text(_: &str) -> Vec<u8> {
    let body = format!("::error file=x::first\n{HOSTILE}");
    response("text/plain; x=\u{9b}2J", body.as_bytes(), "")
}

/// The hostile text in JSON keys and values (serde escapes C0 controls
/// when it prints them, but not DEL, C1 or bidi controls).
fn hostile_json(_: &str) -> Vec<u8> {
    let body = serde_json::json!({
        "resultCode": HOSTILE,
        HOSTILE: HOSTILE,
        "resultDesc": {"\n::error file=x::key": "\u{9b}", "status": HOSTILE},
    });
    response("application/json", body.to_string().as_bytes(), "")
}

/// Characters that must not reach a terminal from a reply.
fn live(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// No control character, and no line a CI runner would take as a command
/// or a reader as our summary, except the real `summary` line if given.
fn assert_inert(what: &str, out: &str, summary: Option<&str>) {
    if let Some(c) = out.chars().find(|c| live(*c)) {
        panic!("{what}: control character {c:?} reached the output:\n{out}");
    }
    for line in out.lines() {
        let t = line.trim_start();
        assert!(!t.starts_with("::"), "{what}: a CI command line: {line:?}");
        assert!(
            !line.to_ascii_lowercase().contains("##vso[") && !line.contains("##["),
            "{what}: an Azure Pipelines command: {line:?}"
        );
        if t.starts_with("contract result:") || t.starts_with("compare result:") {
            assert_eq!(Some(line), summary, "{what}: a summary line: {line:?}");
        }
    }
    if let Some(s) = summary {
        assert_eq!(
            out.lines().filter(|l| *l == s).count(),
            1,
            "{what}: one summary:\n{out}"
        );
    }
}

/// Run both cases against a server answering with `reply`, and compare the
/// simulator with it; the human output stays inert.
fn human_output_is_inert(tag: &str, reply: fn(&str) -> Vec<u8>) {
    let d = tmp(tag);
    std::fs::write(d.join("hostile/body.yaml"), BODY_CASE).unwrap();
    let cases = d.join("hostile");
    let cases = cases.to_str().unwrap();
    let target = server(reply);
    let o = cli(&["run", cases, "--target", &target.url()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(stdout.contains("FAIL hostile::probe"), "{stdout}");
    assert!(stdout.contains("pwned"), "the reply is shown: {stdout}");
    assert_inert(
        "run stdout",
        &stdout,
        Some("contract result: 0 passed, 2 failed"),
    );
    assert_inert("run stderr", &String::from_utf8_lossy(&o.stderr), None);
    let o = cli(&[
        "compare",
        cases,
        "--baseline",
        "sim",
        "--candidate",
        &target.url(),
        "--verbose",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("compare result:"))
        .unwrap_or_else(|| panic!("a compare summary: {}", text(&o)))
        .to_string();
    assert_inert("compare stdout", &stdout, Some(&summary));
    assert_inert("compare stderr", &String::from_utf8_lossy(&o.stderr), None);
}

#[test]
fn a_hostile_text_reply_cannot_drive_the_terminal_or_the_ci_log() {
    human_output_is_inert("term-text", hostile_text);
}

#[test]
fn hostile_json_keys_and_values_cannot_drive_the_terminal_or_the_ci_log() {
    human_output_is_inert("term-json", hostile_json);
}
