//! A loopback stub server for tests of contracts that are not the
//! simulator's: it answers every POST with what `answer` makes of the JSON
//! body and the call's number (from 0), as `application/json`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Start the stub; its base URL.
pub async fn serve<F>(answer: F) -> String
where
    F: Fn(&serde_json::Value, usize) -> String + Send + Sync + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = Arc::new(answer);
    let calls = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let answer = answer.clone();
            let calls = calls.clone();
            tokio::spawn(async move {
                let Some(body) = read_body(&mut sock).await else {
                    return;
                };
                let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                let reply = answer(&json, calls.fetch_add(1, Ordering::SeqCst));
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = sock.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

/// The body of one HTTP/1.1 request: the head, then Content-Length bytes.
async fn read_body(sock: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(body) = request_body(&buf) {
            return Some(body.to_vec());
        }
    }
}

/// The HTTP/1.1 request at the start of `buf`, once all of it is there:
/// its head (lower-cased) and where its Content-Length body lies in `buf`.
pub fn request_at_start(buf: &[u8]) -> Option<(String, std::ops::Range<usize>)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let body = end + 4..end + 4 + len;
    (buf.len() >= body.end).then_some((head, body))
}

/// The body of the HTTP/1.1 request at the start of `buf` (its
/// Content-Length bytes after the head), once all of it is there.
pub fn request_body(buf: &[u8]) -> Option<&[u8]> {
    request_at_start(buf).map(|(_, body)| &buf[body])
}

/// A small case that needs a 200 JSON reply, unsigned (for files loaded
/// alone, with agentbyworkno as their contract).
pub const PROBE_200: &str = "\
cases:
  - name: probe
    request:
      method: POST
      path: /rest/cmsapp/v1/openapi/agent/agentbyworkno
      headers:
        Content-Type: application/json; charset=UTF-8
      auth: none
      query: {ccId: 1, vdn: 1, agentId: 101}
    expect:
      status: 200
      json: true
";
