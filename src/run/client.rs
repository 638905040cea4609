//! The HTTP client: TLS settings, timeouts, a capped body read, connect
//! retries with back-off, and one-line causes for transport errors.

use super::request::PreparedRequest;
use super::result::{ReceivedResponse, TransportError};
use crate::target::Target;
use std::time::Duration;

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
    /// reqwest refused the configuration.
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// Build the shared client for `target`.
pub fn build_client(target: &Target) -> Result<reqwest::Client, ClientError> {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(target.timeout)
        .connect_timeout(target.connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("cms-contract/", env!("CARGO_PKG_VERSION")))
        .no_proxy();
    let read = |what: &'static str, p: &std::path::Path| {
        std::fs::read(p).map_err(|source| ClientError::Read {
            what,
            path: p.display().to_string(),
            source,
        })
    };
    if let Some(ca) = &target.tls.cacert {
        let pem = read("CA certificate", ca)?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ClientError::Pem {
            what: "CA certificate",
            path: ca.display().to_string(),
            message: e.to_string(),
        })?;
        if certs.is_empty() {
            return Err(ClientError::Pem {
                what: "CA certificate",
                path: ca.display().to_string(),
                message: "no certificate found".into(),
            });
        }
        for c in certs {
            b = b.add_root_certificate(c);
        }
    }
    if let Some(cert) = &target.tls.client_cert {
        let mut pem = read("client certificate", cert)?;
        if let Some(key) = &target.tls.client_key {
            pem.push(b'\n');
            pem.extend(read("client key", key)?);
        }
        let id = reqwest::Identity::from_pem(&pem).map_err(|e| ClientError::Pem {
            what: "client certificate",
            path: cert.display().to_string(),
            message: e.to_string(),
        })?;
        b = b.identity(id);
    }
    if target.tls.insecure {
        b = b.danger_accept_invalid_certs(true);
    }
    b.build().map_err(|e| ClientError::Build(cause(&e)))
}

/// Send `req`, retrying connect errors only. Returns the reply or a
/// transport error with a one-line cause, and the retries used.
pub async fn send(
    client: &reqwest::Client,
    target: &Target,
    req: &PreparedRequest,
) -> (Result<ReceivedResponse, (TransportError, String)>, u32) {
    let mut attempt = 0;
    loop {
        let r = send_once(client, target, req).await;
        match r {
            Err((TransportError::Connect, _)) if attempt < target.connect_retries => {
                tokio::time::sleep(Duration::from_millis(200 << attempt.min(6))).await;
                attempt += 1;
            }
            other => return (other, attempt),
        }
    }
}

async fn send_once(
    client: &reqwest::Client,
    target: &Target,
    req: &PreparedRequest,
) -> Result<ReceivedResponse, (TransportError, String)> {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| {
        (
            TransportError::Request,
            format!("`{}` is not an HTTP method", req.method),
        )
    })?;
    let mut rb = client.request(method, &req.url).body(req.body.clone());
    for (k, v) in &req.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    let host = target.authority().to_string();
    let mut resp = rb.send().await.map_err(|e| classify(&e, &host, target))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let cap = target.max_response_bytes;
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err((
            TransportError::TooLarge,
            format!(
                "reply of {} bytes is over the {cap}-byte cap (raise --max-response-bytes)",
                resp.content_length().unwrap_or(0)
            ),
        ));
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Err((
                        TransportError::TooLarge,
                        format!("reply is over the {cap}-byte cap (raise --max-response-bytes)"),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(classify(&e, &host, target)),
        }
    }
    let json = serde_json::from_slice(&body).ok();
    let mut body_text = String::from_utf8_lossy(&body).into_owned();
    if body_text.len() > 64 * 1024 {
        let mut cut = 64 * 1024;
        while !body_text.is_char_boundary(cut) {
            cut -= 1;
        }
        body_text.truncate(cut);
        body_text.push_str("… (cut)");
    }
    Ok(ReceivedResponse {
        status,
        headers,
        body_text,
        json,
    })
}

/// One line: the error and its causes, joined by ": ".
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        src = s.source();
    }
    parts.join(": ")
}

fn classify(e: &reqwest::Error, host: &str, target: &Target) -> (TransportError, String) {
    let full = cause(e);
    let lower = full.to_ascii_lowercase();
    if e.is_timeout() {
        return (
            TransportError::Timeout,
            format!(
                "no complete reply from {host} within {:?} (raise --timeout if the target is slow)",
                target.timeout
            ),
        );
    }
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        let fix = if lower.contains("notvalidforname") || lower.contains("not valid for") {
            "the certificate does not name this host: use the name it was issued for, or set `host:` in the profile"
        } else {
            "pass the CA that signed it with --cacert FILE (or, for a throwaway test, --insecure)"
        };
        return (
            TransportError::Tls,
            format!("TLS error talking to {host}: {full}; {fix}"),
        );
    }
    if e.is_connect() {
        let hint = if lower.contains("dns")
            || lower.contains("failed to lookup")
            || lower.contains("name or service")
        {
            "check the host name"
        } else {
            "check that the CMS is running and the URL/port are right"
        };
        return (
            TransportError::Connect,
            format!("cannot connect to {host}: {full}; {hint}"),
        );
    }
    if e.is_builder()
        || e.is_request() && !e.is_body() && !e.is_decode() && lower.contains("builder")
    {
        return (
            TransportError::Request,
            format!("cannot build the request: {full}"),
        );
    }
    (
        TransportError::Protocol,
        format!("broken reply from {host}: {full}"),
    )
}
