//! Connections to the target: connect (DNS, TCP, TLS, the HTTP/1
//! handshake) and a bounded pool of idle ones.
//!
//! The runner only ever talks to one origin, the target's (every URL is
//! checked against it before it is sent), so the pool is one list of idle
//! senders rather than a map by origin.

use super::{tls, ClientError};
use crate::target::Target;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use url::{Host, Url};

/// A request body: the prepared bytes, sent whole with a Content-Length.
pub(super) type Body = Full<Bytes>;

/// The sending half of one HTTP/1 connection.
type Sender = SendRequest<Body>;

/// One HTTP/1 connection: its sending half and the task that drives it.
pub(super) struct Conn {
    sender: Sender,
    /// Ends with the connection's own error, when it failed: a TLS alert
    /// read while no request was in flight reaches only this (the request
    /// then just sees a closed channel).
    task: JoinHandle<hyper::Result<()>>,
}

/// At most this many idle connections are kept; more are closed.
const MAX_IDLE: usize = 64;

/// The runner's HTTP/1 client for one target: TLS settings, the connect
/// timeout and the idle connections. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    tls: TlsConnector,
    connect_timeout: Duration,
    idle: Mutex<Vec<Conn>>,
}

/// Why an exchange failed, by the step that failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The host name did not resolve.
    Dns(io::Error),
    /// No TCP connection.
    Tcp(io::Error),
    /// No connection (TCP and TLS) within the connect timeout.
    ConnectTimeout,
    /// The TLS handshake failed.
    Tls(io::Error),
    /// The request cannot be put on the wire as it is (a header, the URL).
    Request(String),
    /// The HTTP exchange failed (or the reply's body could not be read).
    Http(hyper::Error),
}

impl HttpClient {
    /// A client for `target`: reads the CA and client certificate files.
    pub fn new(target: &Target) -> Result<Self, ClientError> {
        let config = tls::config(target)?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                tls: TlsConnector::from(Arc::new(config)),
                connect_timeout: target.connect_timeout,
                idle: Mutex::new(Vec::new()),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Conn>> {
        // The list is valid whatever a panicking holder was doing.
        self.inner.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Send `req` to `url`'s origin on an idle connection, or on a new one.
    /// Returns the reply's head (its body still to read) and the connection,
    /// for [`HttpClient::put_back`] once the body is read.
    ///
    /// An idle connection the server closed is noticed before the request
    /// is written to it (hyper hands the request back); then, and only then,
    /// the request goes once more, on a new connection. A request that may
    /// have been written is never sent again.
    pub(super) async fn send(
        &self,
        url: &Url,
        mut req: Request<Body>,
    ) -> Result<(Response<Incoming>, Conn), Failure> {
        if let Some(mut conn) = self.take_idle() {
            if conn.sender.ready().await.is_ok() {
                match conn.sender.try_send_request(req).await {
                    Ok(resp) => return Ok((resp, conn)),
                    Err(mut e) => match e.take_message() {
                        Some(unsent) => req = unsent,
                        None => return Err(Failure::Http(why(conn, e.into_error()).await)),
                    },
                }
            }
        }
        let mut conn = self.connect(url).await?;
        if let Err(e) = conn.sender.ready().await {
            return Err(Failure::Http(why(conn, e).await));
        }
        match conn.sender.send_request(req).await {
            Ok(resp) => Ok((resp, conn)),
            Err(e) => Err(Failure::Http(why(conn, e).await)),
        }
    }

    /// Keep `sender` for the next request, unless it is closed or the pool
    /// is full. Only after the reply's body was read to its end.
    pub(super) fn put_back(&self, conn: Conn) {
        if conn.sender.is_closed() {
            return;
        }
        let mut idle = self.lock();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    /// The most recently used idle connection that is still open.
    fn take_idle(&self) -> Option<Conn> {
        let mut idle = self.lock();
        while let Some(c) = idle.pop() {
            if !c.sender.is_closed() {
                return Some(c);
            }
        }
        None
    }

    /// A new connection to `url`'s origin, within the connect timeout.
    async fn connect(&self, url: &Url) -> Result<Conn, Failure> {
        match tokio::time::timeout(self.inner.connect_timeout, self.connect_now(url)).await {
            Ok(r) => r,
            Err(_) => Err(Failure::ConnectTimeout),
        }
    }

    async fn connect_now(&self, url: &Url) -> Result<Conn, Failure> {
        let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
            return Err(Failure::Request(format!("`{url}` names no host")));
        };
        let tcp = match &host {
            Host::Domain(name) => {
                let addrs = tokio::net::lookup_host((*name, port))
                    .await
                    .map_err(Failure::Dns)?;
                tcp_connect(addrs).await?
            }
            Host::Ipv4(ip) => tcp_connect([SocketAddr::from((*ip, port))]).await?,
            Host::Ipv6(ip) => tcp_connect([SocketAddr::from((*ip, port))]).await?,
        };
        if url.scheme() == "https" {
            let name = tls::server_name(&host).map_err(Failure::Request)?;
            let stream = self
                .inner
                .tls
                .connect(name, tcp)
                .await
                .map_err(Failure::Tls)?;
            handshake(TokioIo::new(stream)).await
        } else {
            handshake(TokioIo::new(tcp)).await
        }
    }
}

/// A TCP connection to the first of `addrs` that accepts one, without
/// Nagle's delay (a request is written whole).
async fn tcp_connect(addrs: impl IntoIterator<Item = SocketAddr>) -> Result<TcpStream, Failure> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                s.set_nodelay(true).map_err(Failure::Tcp)?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => Failure::Tcp(e),
        None => Failure::Dns(io::Error::new(
            io::ErrorKind::NotFound,
            "the name resolves to no address",
        )),
    })
}

/// The HTTP/1 handshake on `io`; the connection runs in a task of its own
/// until both the sender and the last reply's body are dropped.
async fn handshake<T>(io: T) -> Result<Conn, Failure>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(io).await.map_err(Failure::Http)?;
    let task = tokio::spawn(conn);
    Ok(Conn { sender, task })
}

/// The better of `e` and the connection's own error: when the request only
/// saw the connection go (closed, canceled), the connection's task knows
/// why (a TLS alert, a reset). It has ended or is ending then; the wait is
/// bounded all the same.
async fn why(conn: Conn, e: hyper::Error) -> hyper::Error {
    if !(e.is_closed() || e.is_canceled()) {
        return e;
    }
    drop(conn.sender);
    match tokio::time::timeout(Duration::from_secs(1), conn.task).await {
        Ok(Ok(Err(cause))) => cause,
        _ => e,
    }
}
