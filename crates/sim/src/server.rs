//! The [`Simulator`] HTTP server: hyper 1, HTTP/1.1 with keep-alive, one
//! tokio task per connection, over plain TCP or TLS (tokio-rustls). It reads
//! at most [`MAX_BODY_BYTES`] of a body, within the configured head and body
//! timeouts (a slower client is dropped), converts the request to a
//! [`SimRequest`], and sends back what [`respond`] decides.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::family::{too_large, too_slow, unreadable};
use crate::tls::TlsServerConfig;
use crate::{respond_at, SimConfig, SimRequest, SimResponse, MAX_BODY_BYTES};

/// How long [`Simulator::shutdown`] lets open connections finish.
const GRACE: Duration = Duration::from_secs(5);

/// How long a client may take to finish the TLS handshake, so a peer that
/// connects and says nothing cannot hold a task for ever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A running simulator. Dropping it stops it at once; [`Simulator::shutdown`]
/// stops it gracefully.
#[derive(Debug)]
pub struct Simulator {
    addr: SocketAddr,
    tls: bool,
    counters: Arc<Counters>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

/// What the server counts, shared with its tasks.
#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    handshake_failures: AtomicU64,
}

/// Everything a connection task needs.
#[derive(Clone)]
struct Shared {
    cfg: Arc<SimConfig>,
    counters: Arc<Counters>,
    tls: Option<TlsAcceptor>,
}

impl Simulator {
    /// Start on `127.0.0.1` with an ephemeral port.
    pub async fn start(cfg: SimConfig) -> std::io::Result<Simulator> {
        Self::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), cfg).await
    }

    /// Start on `addr`. Must be called inside a tokio runtime. Fails with
    /// `InvalidInput` when [`SimConfig::validate`] does.
    pub async fn bind(addr: SocketAddr, cfg: SimConfig) -> std::io::Result<Simulator> {
        Self::listen(addr, cfg, None).await
    }

    /// Start over HTTPS on `127.0.0.1` with an ephemeral port. Behaves like
    /// [`Simulator::start`] once the handshake is done; a failed handshake
    /// (untrusted certificate, missing client certificate, plain HTTP)
    /// closes that connection only.
    pub async fn start_tls(cfg: SimConfig, server: TlsServerConfig) -> std::io::Result<Simulator> {
        Self::bind_tls(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), cfg, server).await
    }

    /// Start over HTTPS on `addr`. Must be called inside a tokio runtime.
    pub async fn bind_tls(
        addr: SocketAddr,
        cfg: SimConfig,
        server: TlsServerConfig,
    ) -> std::io::Result<Simulator> {
        Self::listen(addr, cfg, Some(server.acceptor())).await
    }

    async fn listen(
        addr: SocketAddr,
        cfg: SimConfig,
        tls: Option<TlsAcceptor>,
    ) -> std::io::Result<Simulator> {
        // A typo in an option must not quietly serve the default.
        cfg.validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let (stop, stopped) = watch::channel(false);
        let is_tls = tls.is_some();
        let shared = Shared {
            cfg: Arc::new(cfg),
            counters: counters.clone(),
            tls,
        };
        let task = tokio::spawn(accept_loop(listener, shared, stopped));
        Ok(Simulator {
            addr,
            tls: is_tls,
            counters,
            stop,
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, or `https://IP:PORT` when serving TLS, without a
    /// trailing slash.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// How many requests have been answered so far.
    pub fn hits(&self) -> u64 {
        self.counters.hits.load(Ordering::SeqCst)
    }

    /// How many TLS handshakes failed or timed out (always 0 over plain HTTP).
    pub fn handshake_failures(&self) -> u64 {
        self.counters.handshake_failures.load(Ordering::SeqCst)
    }

    /// Stop accepting, let open connections finish their current request
    /// (up to 5 s), then stop.
    pub async fn shutdown(mut self) {
        // Receivers are gone only if the accept task already ended.
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            // Aborting drops the task's JoinSet, which aborts every connection.
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Shared, mut stopped: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            res = listener.accept() => match res {
                Ok((stream, _)) => {
                    // The handshake runs in the connection's own task: a slow
                    // or failing client never blocks or ends this loop.
                    conns.spawn(accepted(stream, shared.clone(), stopped.clone()));
                }
                // Out of file descriptors and the like: back off, keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = stopped.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drained =
        tokio::time::timeout(GRACE, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        conns.abort_all();
    }
}

async fn accepted(stream: TcpStream, shared: Shared, mut stopped: watch::Receiver<bool>) {
    let Some(acceptor) = shared.tls.clone() else {
        return connection(stream, shared, stopped).await;
    };
    let handshake =
        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream).into_fallible());
    tokio::select! {
        done = handshake => match done {
            Ok(Ok(tls)) => connection(tls, shared, stopped).await,
            // Bad certificate, no client certificate, plain HTTP: this
            // connection ends, the server goes on. The alert is on its way;
            // a close with the client's request still unread would reset the
            // connection, and the client could lose the alert with it.
            Ok(Err((_, stream))) => {
                shared.counters.handshake_failures.fetch_add(1, Ordering::SeqCst);
                linger(stream).await;
            }
            Err(_) => {
                shared.counters.handshake_failures.fetch_add(1, Ordering::SeqCst);
            }
        },
        _ = stopped.changed() => {}
    }
}

/// Close `stream` gracefully: send FIN, then read and drop what the client
/// still sends for a short while, so the close is not a reset.
async fn linger(mut stream: TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

async fn connection<S>(stream: S, shared: Shared, mut stopped: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Shared { cfg, counters, .. } = shared;
    let head_timeout = cfg.head_timeout;
    let service = service_fn(move |req| {
        let cfg = cfg.clone();
        let counters = counters.clone();
        async move { Ok::<_, Infallible>(handle(req, &cfg, &counters.hits).await) }
    });
    let mut builder = http1::Builder::new();
    // No Date header, so answers are byte-for-byte deterministic. The head
    // timeout needs the timer; the body timeout is `handle`'s.
    builder
        .keep_alive(true)
        .auto_date_header(false)
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stopped.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

async fn handle(
    req: Request<Incoming>,
    cfg: &SimConfig,
    hits: &AtomicU64,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let declared_too_large = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .is_some_and(|n| n > MAX_BODY_BYTES as u64);
    let answer = if declared_too_large {
        too_large(cfg)
    } else {
        // A client that sends a head and then dribbles its body would
        // otherwise hold this task and its connection for ever.
        let body = tokio::time::timeout(
            cfg.body_timeout,
            Limited::new(body, MAX_BODY_BYTES).collect(),
        );
        match body.await {
            Err(_) => too_slow(cfg),
            Ok(Ok(collected)) => {
                let sim_req = SimRequest {
                    method: parts.method.as_str().to_owned(),
                    path: parts.uri.path().to_owned(),
                    query: parts.uri.query().map(decode_query).unwrap_or_default(),
                    headers: parts
                        .headers
                        .iter()
                        .map(|(n, v)| {
                            (
                                n.as_str().to_owned(),
                                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                            )
                        })
                        .collect(),
                    body: collected.to_bytes().to_vec(),
                };
                respond_at(cfg, &sim_req, now_ms())
            }
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => too_large(cfg),
            Ok(Err(_)) => unreadable(cfg),
        }
    };
    hits.fetch_add(1, Ordering::SeqCst);
    to_hyper(answer)
}

fn to_hyper(answer: SimResponse) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(answer.body)));
    // Every status `respond` produces is valid; 500 is the unreachable fallback.
    *resp.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

/// Split a raw query into percent-decoded pairs (`+` stays `+`; a pair
/// without `=` has an empty value; empty segments are skipped).
fn decode_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|seg| !seg.is_empty())
        .map(|seg| {
            let (k, v) = seg.split_once('=').unwrap_or((seg, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| char::from(*c).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                // Two hex digits fit in a byte.
                out.push(u8::try_from(h * 16 + l).unwrap_or(0));
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Milliseconds since the Unix epoch (a clock before 1970 reads as 0).
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        assert_eq!(
            decode_query("a=%7B1%7D&&b&c=x+y&d=%zz%4"),
            vec![
                ("a".to_owned(), "{1}".to_owned()),
                ("b".to_owned(), String::new()),
                ("c".to_owned(), "x+y".to_owned()),
                ("d".to_owned(), "%zz%4".to_owned()),
            ]
        );
        assert_eq!(percent_decode("%C3%A9%ff"), "é\u{fffd}");
    }
}
