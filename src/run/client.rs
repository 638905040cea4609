//! The HTTP client: hyper's HTTP/1 connections over tokio (and rustls for
//! https), a pool of idle connections to the target, timeouts, a capped
//! body read, connect retries with back-off, and one-line causes for
//! transport errors.
//!
//! Every transport error becomes one line that names the host and says what
//! to do. Errors are told apart by the step that failed (DNS, TCP, TLS, the
//! exchange) and, for TLS, by the rustls error inside (untrusted CA, wrong
//! name, expired, client certificate missing or refused, not TLS at all),
//! not by matching message text.

mod conn;
mod tls;

pub use conn::HttpClient;

use super::request::{Endpoint, PreparedRequest};
use crate::result::{ReceivedResponse, TransportError};
use crate::sanitize::{self, Secrets};
use crate::target::Target;
use bytes::Bytes;
use conn::Failure;
use http_body_util::{BodyExt, Full};
use hyper::body::Body as _;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};
use std::error::Error as StdError;
use std::time::Duration;
use tokio_rustls::rustls;

/// Why a client could not be built (bad CA file, bad client certificate).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A PEM file could not be read.
    #[error("cannot read {what} `{path}`: {source}")]
    Read {
        /// What the file is for.
        what: &'static str,
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A PEM file did not hold what it should.
    #[error("{what} `{path}` is not usable: {message} (expected PEM)")]
    Pem {
        /// What the file is for.
        what: &'static str,
        /// The path.
        path: String,
        /// Why.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// Build the shared client for `target` (once per run: it reads the CA and
/// client certificate files, so a bad one is reported before any case).
pub fn build_client(target: &Target) -> Result<HttpClient, ClientError> {
    HttpClient::new(target)
}

/// Sent when a case sets no User-Agent.
const USER_AGENT: &str = concat!("cms-contract/", env!("CARGO_PKG_VERSION"));

/// Bodies longer than this are cut for display (after scrubbing); checks
/// see the whole body.
const DISPLAY_CUT: usize = 64 * 1024;

/// Send `req`, retrying connect errors only. Returns the reply, with
/// `secrets` scrubbed from it, or a transport error with a one-line cause,
/// and the retries used.
pub async fn send(
    client: &HttpClient,
    target: &Target,
    endpoint: &Endpoint,
    req: &PreparedRequest,
    secrets: &Secrets,
) -> (Result<ReceivedResponse, (TransportError, String)>, u32) {
    let mut attempt = 0;
    loop {
        let r = send_once(client, target, endpoint, req, secrets).await;
        match r {
            // Nothing reached the server, so sending again cannot repeat a request.
            Err((TransportError::Connect, _)) if attempt < target.connect_retries => {
                tokio::time::sleep(Duration::from_millis(200 << attempt.min(6))).await;
                attempt += 1;
            }
            other => return (other, attempt),
        }
    }
}

/// One attempt, bounded by the per-request timeout from connect to the last
/// body byte: one timer for the whole exchange, so a server which sends
/// headers and then stalls or trickles can never hold a case longer.
async fn send_once(
    client: &HttpClient,
    target: &Target,
    endpoint: &Endpoint,
    req: &PreparedRequest,
    secrets: &Secrets,
) -> Result<ReceivedResponse, (TransportError, String)> {
    let exchange = exchange(client, target, endpoint, req, secrets);
    match tokio::time::timeout(target.timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(timed_out(target)),
    }
}

async fn exchange(
    client: &HttpClient,
    target: &Target,
    endpoint: &Endpoint,
    req: &PreparedRequest,
    secrets: &Secrets,
) -> Result<ReceivedResponse, (TransportError, String)> {
    let method = Method::from_bytes(req.method.as_bytes()).map_err(|_| {
        (
            TransportError::Request,
            one_line(&format!(
                "`{}` is not an HTTP method; use e.g. POST",
                req.method
            )),
        )
    })?;
    // Nothing leaves for a URL that is not the target's: checked when the
    // request was prepared, and again on the URL exactly as it is sent.
    if let Some(why) = &req.refused {
        return Err((TransportError::Request, one_line(why)));
    }
    // The URL as prepared, unless `url` was changed since: then as it reads.
    let parsed;
    let url = match &req.parsed {
        Some(u) if u.as_str() == req.url => u,
        _ => {
            parsed = url::Url::parse(&req.url).map_err(|e| {
                (
                    TransportError::Request,
                    one_line(&format!(
                        "refused to send: `{}` is not a URL ({e})",
                        req.url
                    )),
                )
            })?;
            &parsed
        }
    };
    endpoint
        .check(url)
        .map_err(|why| (TransportError::Request, one_line(&why)))?;
    let request = http_request(method, url, req).map_err(|e| classify(e, target))?;
    let (resp, conn) = client
        .send(url, request)
        .await
        .map_err(|e| classify(e, target))?;
    let (head, mut incoming) = resp.into_parts();
    let status = head.status.as_u16();
    let mut headers: Vec<(String, String)> = head
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let host = || target.authority();
    let cap = target.max_response_bytes;
    // The declared Content-Length, as hyper read it.
    let declared = incoming.size_hint().exact();
    if let Some(n) = declared.filter(|n| *n > cap as u64) {
        let host = host();
        return Err((
            TransportError::TooLarge,
            format!(
                "reply from {host} declares {n} bytes, over the {cap}-byte cap (raise --max-response-bytes if it is legitimate)"
            ),
        ));
    }
    // Sized by the declared length (already under the cap), so a reply
    // read in several chunks is not copied as the buffer grows.
    let mut body = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|e| classify(Failure::Http(e), target))?;
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers
        };
        if body.len().saturating_add(chunk.len()) > cap {
            let host = host();
            return Err((
                TransportError::TooLarge,
                format!(
                    "reply from {host} is over the {cap}-byte cap (raise --max-response-bytes if it is legitimate)"
                ),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    // Read to its end: the connection can carry the next request.
    client.put_back(conn);
    // The sanitize pipeline's order: scrub the whole reply, then parse,
    // then cut for display, so no secret survives across the cut.
    secrets.scrub_headers(&mut headers);
    let body = secrets.scrub_bytes(&body);
    let (mut json, not_json, duplicate_keys, float_tokens) = match super::json::parse(&body) {
        Ok(p) => (Some(p.value), None, p.duplicate_keys, p.float_tokens),
        Err(e) => (None, Some(why_not_json(&body, &e)), vec![], vec![]),
    };
    let mut text = String::from_utf8_lossy(&body);
    if let Some(j) = json.as_mut().filter(|_| !secrets.is_empty()) {
        if secrets.scrub_parsed_from(&body, j) {
            // Spelt with JSON escapes the raw text still shows the secret to
            // anyone who decodes it: show the scrubbed document instead.
            text = j.to_string().into();
        }
    }
    let body_text = sanitize::cut(&text, DISPLAY_CUT).into_owned();
    Ok(ReceivedResponse {
        status,
        headers,
        body_text,
        json,
        not_json,
        duplicate_keys,
        float_tokens,
    })
}

/// The request as it goes on the wire: `method`, the origin-form target
/// (path and query), the prepared headers in order, then what a case does
/// not set: `Accept: */*`, the User-Agent and `Host` (the URL's host, with
/// the port unless it is the scheme's default: what is signed, see
/// [`Target::authority`]). hyper adds the Content-Length of the body.
fn http_request(
    method: Method,
    url: &url::Url,
    req: &PreparedRequest,
) -> Result<Request<conn::Body>, Failure> {
    let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let uri = Uri::try_from(target).map_err(|e| Failure::Request(e.to_string()))?;
    let mut request = Request::new(Full::new(Bytes::from(req.body.clone())));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    for (k, v) in &req.headers {
        let name =
            HeaderName::from_bytes(k.as_bytes()).map_err(|e| Failure::Request(e.to_string()))?;
        let value = HeaderValue::from_str(v).map_err(|e| Failure::Request(e.to_string()))?;
        headers.append(name, value);
    }
    if !headers.contains_key(header::ACCEPT) {
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
    }
    if !headers.contains_key(header::USER_AGENT) {
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    }
    if !headers.contains_key(header::HOST) {
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => String::new(),
        };
        let value = HeaderValue::from_str(&host).map_err(|e| Failure::Request(e.to_string()))?;
        headers.insert(header::HOST, value);
    }
    Ok(request)
}

/// Why a body is not JSON, in words a user can act on.
fn why_not_json(body: &[u8], e: &serde_json::Error) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        "the body is empty, expected JSON".into()
    } else if std::str::from_utf8(body).is_err() {
        "the body is not valid UTF-8, so it cannot be JSON".into()
    } else if e.is_eof() {
        format!("the body is truncated JSON ({e})")
    } else {
        format!("the body is not JSON ({e})")
    }
}

/// One line: the error and its causes, joined by ": ".
fn cause(e: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        src = s.source();
    }
    one_line(&parts.join(": "))
}

/// Newlines and other control characters become single spaces, so a cause
/// is always one line whatever a server or library put in it.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_control() || c == ' ' {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out.trim().to_string()
}

/// The rustls error somewhere in `e`'s chain. It hides inside `io::Error`s,
/// whose `source()` skips the wrapped error, so look inside those too.
fn find_rustls<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut cur = Some(e);
    let mut depth = 0;
    while let Some(x) = cur {
        depth += 1;
        if depth > 32 {
            return None;
        }
        if let Some(r) = x.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(inner) = x
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if let Some(r) = find_rustls(inner) {
                return Some(r);
            }
        }
        cur = x.source();
    }
    None
}

fn timed_out(target: &Target) -> (TransportError, String) {
    (
        TransportError::Timeout,
        format!(
            "no complete reply from {} within {:?} (raise --timeout if the target is slow)",
            target.authority(),
            target.timeout
        ),
    )
}

fn classify(e: Failure, target: &Target) -> (TransportError, String) {
    let host = target.authority();
    let cannot_connect = |full: String, hint: &str| {
        (
            TransportError::Connect,
            format!("cannot connect to {host}: {full}; {hint}"),
        )
    };
    match e {
        Failure::Dns(e) => cannot_connect(
            format!("dns error: {}", cause(&e)),
            "the host name does not resolve; check its spelling and DNS",
        ),
        Failure::Tcp(e) => {
            let hint = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                "nothing listens there; check that the CMS is running and the URL/port are right"
            } else {
                "check that the CMS is running and the URL/port are right"
            };
            cannot_connect(format!("tcp connect error: {}", cause(&e)), hint)
        }
        Failure::ConnectTimeout => (
            TransportError::Connect,
            format!(
                "cannot connect to {host}: no connection within {:?}; check that the CMS is running and reachable from here",
                target.connect_timeout
            ),
        ),
        Failure::Tls(e) => {
            if let Some(tls) = find_rustls(&e) {
                return (TransportError::Tls, one_line(&tls_cause(tls, target)));
            }
            if matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
            ) {
                return cannot_connect(
                    format!("tls handshake: {}", cause(&e)),
                    "check that the CMS is running and the URL/port are right",
                );
            }
            (
                TransportError::Tls,
                format!(
                    "TLS error talking to {host}: tls handshake: {}; pass the CA that signed its certificate with --cacert FILE (profile `tls.cacert`), or --insecure for a throwaway test",
                    cause(&e)
                ),
            )
        }
        Failure::Request(why) => (
            TransportError::Request,
            format!(
                "cannot build the request: {}; check the target URL",
                one_line(&why)
            ),
        ),
        Failure::Http(e) => {
            // A TLS alert can come after the handshake: TLS 1.3 servers
            // check the client certificate then.
            if let Some(tls) = find_rustls(&e) {
                return (TransportError::Tls, one_line(&tls_cause(tls, target)));
            }
            let hint = if e.is_parse() || e.is_parse_status() || e.is_parse_too_large() {
                if target.base_url.starts_with("http://") {
                    "; the reply is not HTTP/1.x (if the port speaks TLS, use an https:// URL)"
                } else {
                    "; the reply is not HTTP/1.x"
                }
            } else if e.is_incomplete_message()
                || e.is_closed()
                || e.is_canceled()
                || cut_short(&e)
            {
                "; the server closed the connection before the reply was complete"
            } else {
                ""
            };
            (
                TransportError::Protocol,
                format!("broken reply from {host}: {}{hint}", cause(&e)),
            )
        }
    }
}

/// Whether `e` comes from the connection ending (or being reset) early.
fn cut_short(e: &hyper::Error) -> bool {
    use std::io::ErrorKind::*;
    let mut src = e.source();
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe
            );
        }
        src = s.source();
    }
    false
}

/// What a rustls error means for the user and what to do about it.
fn tls_cause(err: &rustls::Error, target: &Target) -> String {
    use rustls::{AlertDescription as Alert, CertificateError as Cert};
    let host = target.authority();
    let throwaway = "or --insecure for a throwaway test";
    match err {
        rustls::Error::InvalidCertificate(c) => match c {
            Cert::UnknownIssuer => format!(
                "TLS: the certificate of {host} is not signed by a trusted CA ({err}); pass the CA that signed it with --cacert FILE (profile `tls.cacert`), {throwaway}"
            ),
            Cert::NotValidForName => format!(
                "TLS: the certificate of {host} is not valid for the name `{}` ({err}); use a URL with a name the certificate was issued for (--target or the profile's `base_url`), {throwaway}",
                url_host(target)
            ),
            Cert::NotValidForNameContext { presented, .. } => format!(
                "TLS: the certificate of {host} is not valid for the name `{}`, only for {}; use a URL with a name the certificate was issued for (--target or the profile's `base_url`), {throwaway}",
                url_host(target),
                presented_names(presented)
            ),
            Cert::Expired
            | Cert::ExpiredContext { .. }
            | Cert::NotValidYet
            | Cert::NotValidYetContext { .. } => format!(
                "TLS: the certificate of {host} is outside its validity period ({err}); renew it on the server or check this machine's clock, {throwaway}"
            ),
            _ => format!(
                "TLS: the certificate of {host} was rejected ({err}); check the server's certificate chain, {throwaway}"
            ),
        },
        rustls::Error::AlertReceived(Alert::CertificateRequired) => format!(
            "TLS: {host} requires a client certificate ({err}); pass --cert FILE and --key FILE (profile `tls.client_cert` / `tls.client_key`)"
        ),
        rustls::Error::AlertReceived(
            Alert::BadCertificate
            | Alert::UnknownCA
            | Alert::CertificateUnknown
            | Alert::CertificateExpired
            | Alert::CertificateRevoked
            | Alert::UnsupportedCertificate
            | Alert::AccessDenied
            // rustls's answer to a client certificate whose signature does
            // not verify against the CA of the same name.
            | Alert::DecryptError,
        ) if target.tls.client_cert.is_some() => format!(
            "TLS: {host} refused the client certificate ({err}); use one signed by a CA the server trusts (--cert / profile `tls.client_cert`)"
        ),
        rustls::Error::AlertReceived(Alert::HandshakeFailure) if target.tls.client_cert.is_none() => format!(
            "TLS: the handshake with {host} failed ({err}); the server may require a client certificate (--cert FILE --key FILE) or a TLS version or cipher this client lacks"
        ),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => format!(
            "TLS: {host} did not answer with TLS ({err}); if it serves plain HTTP, use an http:// URL"
        ),
        _ => format!("TLS: the handshake with {host} failed ({err})"),
    }
}

/// The host part of the base URL: the name certificates are checked against.
fn url_host(target: &Target) -> String {
    let authority = target.authority();
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    authority
        .split(':')
        .next()
        .unwrap_or(&authority)
        .to_string()
}

/// `DnsName("a.example")`, `IpAddress(10.0.0.1)` → `a.example, 10.0.0.1`.
fn presented_names(presented: &[String]) -> String {
    if presented.is_empty() {
        return "no name at all".into();
    }
    presented
        .iter()
        .map(|p| {
            let inner = p
                .split_once('(')
                .and_then(|(_, r)| r.strip_suffix(')'))
                .unwrap_or(p);
            inner.trim_matches('"').to_string()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_one_line() {
        assert_eq!(one_line("a\r\nb\n\n c\t"), "a b c");
        assert_eq!(one_line("plain"), "plain");
    }

    #[test]
    fn the_checked_name_is_the_url_host() {
        for (url, host) in [
            ("https://127.0.0.1:28080", "127.0.0.1"),
            ("https://cms.example", "cms.example"),
            ("https://[::1]:443/x", "::1"),
        ] {
            assert_eq!(url_host(&Target::new(url)), host, "{url}");
        }
    }

    #[test]
    fn presented_names_are_plain() {
        assert_eq!(
            presented_names(&[
                "DnsName(\"example.invalid\")".into(),
                "IpAddress(10.0.0.1)".into()
            ]),
            "example.invalid, 10.0.0.1"
        );
        assert_eq!(presented_names(&[]), "no name at all");
    }
}
