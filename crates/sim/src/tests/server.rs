//! The server over a raw TCP socket: keep-alive, every endpoint, the body
//! cap, graceful shutdown, drop, read timeouts, config validation.

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

/// Read one HTTP/1.1 response (headers + Content-Length body).
async fn read_response(stream: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed before headers");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status: u16 = head[9..12].parse().expect("status");
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .expect("content-length");
    while buf.len() < head_end + len {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed before body");
        buf.extend_from_slice(&chunk[..n]);
    }
    (status, head, buf[head_end..head_end + len].to_vec())
}

fn raw_request(req: &SimRequest) -> Vec<u8> {
    let mut out = format!("{} {} HTTP/1.1\r\n", req.method, req.path).into_bytes();
    for (n, v) in &req.headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", req.body.len()).as_bytes());
    out.extend_from_slice(&req.body);
    out
}

/// `happy(name)`, signed now over the real Host.
fn live(name: &str, host: &str) -> SimRequest {
    let req = happy(name);
    signed(
        "POST",
        &req.path,
        vec![h("Host", host), h("Content-Type", CT)],
        req.body,
        Timestamp::now(),
    )
}

#[tokio::test]
async fn server_end_to_end() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let host = sim.addr().to_string();
    assert_eq!(sim.base_url(), format!("http://{host}"));
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(sim.hits(), 0);

    // Every endpoint on one keep-alive connection, signed over the real Host.
    let mut stream = TcpStream::connect(sim.addr()).await.expect("connect");
    for &(name, _) in ENDPOINTS {
        stream
            .write_all(&raw_request(&live(name, &host)))
            .await
            .expect("write");
        let (status, head, body) = read_response(&mut stream).await;
        assert_eq!(status, 200, "{name}: {head}");
        assert!(head
            .to_ascii_lowercase()
            .contains("content-type: application/json;charset=utf-8"));
        assert!(!head.to_ascii_lowercase().contains("date:"), "{head}");
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["resultCode"], "0100000", "{name}");
    }

    // Signed for another Host: 401.
    let mut sent = signed(
        "POST",
        path_of(AGENTBYWORKNO),
        vec![h("Host", "example.invalid"), h("Content-Type", CT)],
        abw_body(1, 1, 101),
        Timestamp::now(),
    );
    sent.headers[0] = h("Host", &host);
    stream.write_all(&raw_request(&sent)).await.expect("write");
    let (status, _, body) = read_response(&mut stream).await;
    assert_eq!((status, body.as_slice()), (401, AUTH_FAILED.as_bytes()));

    // A declared body over the cap: 413 without reading it.
    let big = format!(
        "POST {} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 70000\r\n\r\n",
        path_of(BATCH)
    );
    let mut s2 = TcpStream::connect(sim.addr()).await.expect("connect");
    s2.write_all(big.as_bytes()).await.expect("write");
    let (status, _, body) = read_response(&mut s2).await;
    assert_eq!(status, 413);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("json")["resultCode"],
        "0100002"
    );
    drop(s2);

    assert_eq!(sim.hits(), ENDPOINTS.len() as u64 + 2);
    let addr = sim.addr();
    tokio::time::timeout(std::time::Duration::from_secs(10), sim.shutdown())
        .await
        .expect("graceful shutdown within 10 s");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still listening after shutdown"
    );
    // The idle keep-alive connection was closed.
    let mut rest = Vec::new();
    let n = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut rest),
    )
    .await
    .expect("closed promptly")
    .unwrap_or(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn an_invalid_config_does_not_start() {
    let cfg = with_options(&[("order", "random")]);
    let err = Simulator::start(cfg).await.expect_err("bad option");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("`order` cannot be `random`"),
        "{err}"
    );
}

#[tokio::test]
async fn drop_stops_the_server() {
    let sim = Simulator::start(SimConfig::default()).await.expect("start");
    let addr = sim.addr();
    drop(sim);
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(refused, "still listening after drop");
}

/// Read until the server closes the connection; what it sent before closing.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
        }
    }
}

#[tokio::test]
async fn slow_clients_are_dropped_at_the_read_timeouts() {
    use std::time::{Duration, Instant};
    let cfg = SimConfig {
        head_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..SimConfig::default()
    };
    let sim = Simulator::start(cfg).await.expect("start");
    // Well above the 300 ms timeouts, well below hyper's 30 s default and
    // the 10 s defaults: only the configured timeouts can end these.
    let limit = Duration::from_secs(5);
    let path = path_of(AGENTBYWORKNO);

    // A head, then 1 byte of the 100 promised, then nothing.
    let mut s = TcpStream::connect(sim.addr()).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {CT}\r\nContent-Length: 100\r\n\r\n{{"
    );
    s.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    let sent = tokio::time::timeout(limit, read_until_closed(&mut s))
        .await
        .expect("a dribbled body must not hold the connection");
    let text = String::from_utf8_lossy(&sent).into_owned();
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    assert!(started.elapsed() >= Duration::from_millis(250), "{text}");

    // Half a head, then nothing: closed without an answer.
    let mut s = TcpStream::connect(sim.addr()).await.expect("connect");
    s.write_all(format!("POST {path} HTTP/1.1\r\nHost: x\r\n").as_bytes())
        .await
        .expect("write");
    tokio::time::timeout(limit, read_until_closed(&mut s))
        .await
        .expect("a dribbled head must not hold the connection");

    // Nothing at all.
    let mut s = TcpStream::connect(sim.addr()).await.expect("connect");
    tokio::time::timeout(limit, read_until_closed(&mut s))
        .await
        .expect("a silent client must not hold the connection");
}
