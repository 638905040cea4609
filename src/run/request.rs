//! Turning a [`Case`] into the exact bytes to send: the contract's body
//! shape for its request fields (an option when the spec leaves it open),
//! headers, and the auth-v2 signature (or a deliberate fault in it, for
//! negative cases).

use crate::auth::{self, CanonicalInput, Credentials, Timestamp};
use crate::case::{check_request_path, AuthMode, Body, Case};
use crate::contract::OptionValues;
use crate::result::SentRequest;
use crate::target::Target;
use serde_json::Value;
use std::sync::{Mutex, PoisonError};
use url::Url;

/// What every request to one target shares, worked out once per runner: the
/// parsed base URL, its path prefix and origin, and the Host value that is
/// signed. (Parsing the base URL again for each request, three times, was a
/// visible share of a case: see the README's "Performance".)
#[derive(Debug)]
pub struct Endpoint {
    /// The base URL, or why a request cannot be sent below it.
    base: Result<Url, String>,
    /// [`Target::path_prefix`].
    prefix: String,
    /// [`Target::authority`], for messages.
    authority: String,
    /// The `host` value that is signed: the target's Host, else the authority.
    host: String,
    /// The last path and query made into a URL, and its URL: a suite's
    /// cases mostly share their path, and parsing it below the base for each
    /// case was a visible share of one (see the README's "Performance").
    last: Mutex<Option<(String, Url)>>,
}

impl Endpoint {
    /// The parts of `target`'s base URL that every request uses.
    pub fn new(target: &Target) -> Self {
        let base = Url::parse(&target.base_url).map_err(|e| {
            format!(
                "refused to send: the base URL `{}` is not a URL ({e})",
                target.base_url
            )
        });
        let authority = target.authority();
        Endpoint {
            base,
            prefix: target.path_prefix(),
            host: target.host.clone().unwrap_or_else(|| authority.clone()),
            authority,
            last: Mutex::default(),
        }
    }

    /// The URL for `path_and_query` below the base URL: see [`request_url`].
    pub fn url(&self, path_and_query: &str) -> Result<Url, String> {
        let last = |m: &Mutex<Option<(String, Url)>>| -> Option<Url> {
            let last = m.lock().unwrap_or_else(PoisonError::into_inner);
            let (text, url) = last.as_ref()?;
            (text == path_and_query).then(|| url.clone())
        };
        if let Some(url) = last(&self.last) {
            return Ok(url);
        }
        let url = self.url_of(path_and_query)?;
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((path_and_query.to_owned(), url.clone()));
        Ok(url)
    }

    /// [`Endpoint::url`], worked out.
    fn url_of(&self, path_and_query: &str) -> Result<Url, String> {
        check_request_path(path_and_query)
            .map_err(|e| format!("refused to send: {}; {}", e.message, e.fix))?;
        let mut url = self.base.clone()?;
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let mut full = String::with_capacity(self.prefix.len() + path.len());
        full.push_str(&self.prefix);
        full.push_str(path);
        url.set_path(&full);
        url.set_query(query);
        url.set_fragment(None);
        self.check(&url)?;
        Ok(url)
    }

    /// `url` must go to the target: see [`check_destination`].
    pub fn check(&self, url: &Url) -> Result<(), String> {
        let base = self.base.as_ref().map_err(Clone::clone)?;
        let same_origin = url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default();
        if !same_origin {
            return Err(format!(
                "refused to send: the request URL {url} does not go to the target {} (scheme, host or port differ); check the case path",
                self.authority
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "refused to send: the request URL holds user info, which a client would send as credentials; check the case path".into(),
            );
        }
        Ok(())
    }
}

/// A request ready to send. Holds the real Authorization: never print it;
/// print [`PreparedRequest::redacted`].
#[derive(Clone)]
pub struct PreparedRequest {
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers to send, including Authorization when signed.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Why this request must not be sent (its URL would leave the target);
    /// such a request carries no Authorization and fails the case unsent.
    pub refused: Option<String>,
    /// `url` as built, so the client need not parse it again (used only
    /// while it still spells `url`).
    pub(crate) parsed: Option<Url>,
    /// The body as JSON, when it is JSON: what the `request` variable of
    /// expressions shows (see [`request_value_with`]), kept so that the
    /// body is shaped once per case, not once to send and again to check.
    pub(crate) body_json: Option<Value>,
}

impl std::fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.redacted(), f)
    }
}

impl PreparedRequest {
    /// The request with Authorization redacted, safe for any output.
    pub fn redacted(&self) -> SentRequest {
        SentRequest {
            method: self.method.clone(),
            url: self.url.clone(),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| {
                    if k.eq_ignore_ascii_case("authorization") {
                        (k.clone(), auth::redact(v))
                    } else {
                        (k.clone(), v.clone())
                    }
                })
                .collect(),
            body: String::from_utf8_lossy(&self.body).into_owned(),
        }
    }
}

/// The body `case` sends, as JSON when it is JSON.
fn body_json(case: &Case, options: &OptionValues) -> Option<Value> {
    match &case.request.body {
        Body::Query(m) => Some(match &case.contract {
            Some(c) => c.body_for(m, options),
            None => Value::Object(m.clone()),
        }),
        Body::Json(v) => Some(v.clone()),
        Body::Raw(_) | Body::Empty => None,
    }
}

/// The request as the `request` variable of expressions: `method`, `path`,
/// `body` (JSON or null) and `query` (the contract's request fields as
/// sent, unwrapped from the body shape; null when the body has none).
pub fn request_value(case: &Case, options: &OptionValues) -> Value {
    request_value_with(case, body_json(case, options))
}

/// [`request_value`] with the body `case` sends already shaped (as
/// [`PreparedRequest::body_json`] holds it).
pub(crate) fn request_value_with(case: &Case, body: Option<Value>) -> Value {
    let query = match (&case.request.body, &body, &case.contract) {
        (Body::Query(m), _, _) => Value::Object(m.clone()),
        (_, Some(b), Some(c)) => c
            .fields_of(b)
            .map_or(Value::Null, |m| Value::Object(m.clone())),
        (_, Some(Value::Object(o)), None) => Value::Object(o.clone()),
        _ => Value::Null,
    };
    // Built by moving the values in (`json!` would serialise each again).
    let mut m = serde_json::Map::with_capacity(4);
    m.insert("method".into(), Value::String(case.request.method.clone()));
    m.insert("path".into(), Value::String(case.request.path.clone()));
    m.insert("body".into(), body.unwrap_or(Value::Null));
    m.insert("query".into(), query);
    Value::Object(m)
}

/// Build the request for `case` against `target` (its body shaped by
/// `options`), signed at `now`.
pub fn prepare(
    case: &Case,
    target: &Target,
    options: &OptionValues,
    now: Timestamp,
) -> PreparedRequest {
    prepare_at(case, target, &Endpoint::new(target), options, now)
}

/// [`prepare`] with the target's [`Endpoint`] already worked out.
pub fn prepare_at(
    case: &Case,
    target: &Target,
    endpoint: &Endpoint,
    options: &OptionValues,
    now: Timestamp,
) -> PreparedRequest {
    let req = &case.request;
    let body_json = body_json(case, options);
    let body: Vec<u8> = match (&req.body, &body_json) {
        (Body::Raw(s), _) => s.clone().into_bytes(),
        // Serialising a `Value` cannot fail (its keys are strings).
        (_, Some(v)) => serde_json::to_vec(v).unwrap_or_default(),
        (_, None) => Vec::new(),
    };
    let url = match endpoint.url(&req.path) {
        Ok(url) => url,
        Err(why) => {
            // Shown as written, never sent: no signature is made for it.
            return PreparedRequest {
                method: req.method.clone(),
                url: format!("{}{}", target.base_url, req.path),
                headers: req.headers.clone(),
                body,
                refused: Some(why),
                parsed: None,
                body_json,
            };
        }
    };
    let mut headers = req.headers.clone();
    if let Some(h) = &target.host {
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("host"));
        headers.push(("Host".into(), h.clone()));
    }
    let authorization = match (req.auth, &target.credentials) {
        (AuthMode::Blank, _) => Some(String::new()),
        (AuthMode::Garbled, _) => Some("Basic not-an-auth-v2-signature".into()),
        (AuthMode::None, _) | (_, None) => None,
        (mode, Some(creds)) => {
            let (creds, ts) = match mode {
                AuthMode::WrongSignature => (
                    Credentials::new(creds.ak.clone(), format!("{}-wrong", creds.sk())),
                    now,
                ),
                AuthMode::StaleTimestamp => (
                    creds.clone(),
                    Timestamp(now.0.saturating_sub(target.stale_secs)),
                ),
                _ => (creds.clone(), now),
            };
            // The path and query as the URL API wrote them: exactly what is sent.
            Some(
                sign_parts(
                    &creds,
                    ts,
                    target,
                    &endpoint.host,
                    &req.method,
                    url.path(),
                    url.query().unwrap_or(""),
                    &headers,
                    &body,
                    false,
                )
                .0,
            )
        }
    };
    let mut body = body;
    if req.auth == AuthMode::TamperedBody {
        // Same meaning, different bytes: only a server that checks the body signature notices.
        body.push(b' ');
    }
    if let Some(a) = authorization {
        headers.push(("Authorization".into(), a));
    }
    PreparedRequest {
        method: req.method.clone(),
        url: url.as_str().to_owned(),
        headers,
        body,
        refused: None,
        parsed: Some(url),
        body_json,
    }
}

/// The URL for `path_and_query` below `target`'s base URL, built with the URL
/// API (the base URL's path prefix, then the case path; never glued text), or
/// why there is none: a path that breaks [`check_request_path`], or a URL
/// whose scheme, host or port is not the target's or that holds user info.
pub fn request_url(target: &Target, path_and_query: &str) -> Result<Url, String> {
    Endpoint::new(target).url(path_and_query)
}

/// `url` must go to the target: the base URL's scheme, host and port, and no
/// user info (a client would send it as Basic credentials).
pub fn check_destination(url: &Url, target: &Target) -> Result<(), String> {
    Endpoint::new(target).check(url)
}

/// The auth-v2 Authorization value for a request to `target`, and the
/// canonical request it signed (for `cms-contract sign`; it holds no secret).
pub fn sign_explained(
    creds: &Credentials,
    ts: Timestamp,
    target: &Target,
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (String, String) {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let path = format!("{}{path}", target.path_prefix());
    let host = target.host.clone().unwrap_or_else(|| target.authority());
    sign_parts(
        creds, ts, target, &host, method, &path, query, headers, body, true,
    )
}

/// The auth-v2 Authorization value for the full `path` (base URL prefix
/// included) and raw `query` that are sent, `host` being the Host value.
#[allow(clippy::too_many_arguments)]
fn sign_parts(
    creds: &Credentials,
    ts: Timestamp,
    target: &Target,
    host: &str,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
    explain: bool,
) -> (String, String) {
    // Query pairs are signed decoded (the signature normalises them itself).
    let query: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    // Only headers that are actually sent are signed: a case that removes
    // Content-Type must not produce a signature no server could verify.
    let signed: Vec<(String, String)> = target
        .signed_headers
        .iter()
        .filter_map(|name| {
            let value = match name.as_str() {
                "host" => Some(host.to_owned()),
                "content-length" => Some(body.len().to_string()),
                other => headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(other))
                    .map(|(_, v)| v.clone()),
            };
            value.map(|v| (name.clone(), v))
        })
        .collect();
    let input = CanonicalInput {
        method,
        path,
        query: &query,
        headers: &signed,
        body,
    };
    let canonical = if explain {
        let names: Vec<String> = signed.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        auth::canonical_request(&names.join(";"), &input)
    } else {
        String::new()
    };
    (auth::authorization(creds, ts, &input), canonical)
}

/// `%XX` decoding (and `+` kept as is), lossy on invalid UTF-8.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::Location;
    use serde_json::json;

    const ENDPOINT_PATH: &str = "/rest/cmsapp/v1/openapi/agent/agentbyworkno";

    /// The default option values (agentbyworkno wraps its fields).
    fn defaults() -> OptionValues {
        crate::testing::catalog(&[]).options().clone()
    }

    /// `prepare` with the default options.
    /// A target at `base` with credentials `ak`/`sk`.
    fn signed_target(base: &str) -> Target {
        let mut t = Target::new(base);
        t.credentials = Some(Credentials::new("ak", "sk"));
        t
    }

    fn prep(c: &Case, t: &Target, ts: Timestamp) -> PreparedRequest {
        prepare(c, t, &defaults(), ts)
    }

    fn case(auth: AuthMode) -> Case {
        let src = Location::file_only(std::path::Path::new("c.yaml"));
        Case {
            suite: "s".into(),
            name: "n".into(),
            description: None,
            tags: vec![],
            source: src.clone(),
            contract: Some(crate::testing::contract("agentbyworkno")),
            release: Some(std::sync::Arc::new(
                crate::testing::contract("agentbyworkno")
                    .default_release()
                    .clone(),
            )),
            skip: None,
            request: crate::case::Request {
                method: "POST".into(),
                path: ENDPOINT_PATH.into(),
                headers: vec![(
                    "Content-Type".into(),
                    "application/json;charset=UTF-8".into(),
                )],
                body: Body::Query(
                    json!({"ccId": 1, "vdn": 1, "agentId": 101})
                        .as_object()
                        .unwrap()
                        .clone(),
                ),
                auth,
            },
            expect: crate::case::Expect::nothing(src),
            flow: None,
        }
    }

    fn target() -> Target {
        let mut t = Target::new("https://10.22.26.181:28080/");
        t.credentials = Some(Credentials::new("globalaktest", "example-secret-key"));
        t
    }

    #[test]
    fn signed_request_matches_the_spec_vector_and_is_redacted() {
        let ts = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
        let p = prep(&case(AuthMode::Signed), &target(), ts);
        assert_eq!(
            p.body,
            br#"{"queryParam":{"ccId":1,"vdn":1,"agentId":101}}"#
        );
        let auth = &p
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .unwrap()
            .1;
        assert_eq!(
            auth,
            "auth-v2/globalaktest/2024-01-01T00:00:00Z/host/2da95fd4bf39ceb59782ffe762256861457efda80e2a2701cca0b565f27f894b"
        );
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("2da95fd4") && !shown.contains("example-secret-key"),
            "{shown}"
        );
    }

    #[test]
    fn three_header_vector_and_flat_shape() {
        let ts = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
        let mut t = target();
        t.signed_headers = vec![
            "content-length".into(),
            "content-type".into(),
            "host".into(),
        ];
        let p = prep(&case(AuthMode::Signed), &t, ts);
        let auth = &p
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .unwrap()
            .1;
        assert!(
            auth.ends_with("7066b2be902b5abaf611d7eab3235587250d7ef0048d6790aaa2458c4da31a9e"),
            "{auth}"
        );
        let mut flat = defaults();
        flat.set("agentbyworkno", "body_shape", "flat");
        assert_eq!(
            prepare(&case(AuthMode::Signed), &t, &flat, ts).body,
            br#"{"ccId":1,"vdn":1,"agentId":101}"#
        );
    }

    #[test]
    fn negative_auth_modes_differ_from_the_good_signature() {
        let ts = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
        let good = prep(&case(AuthMode::Signed), &target(), ts);
        let get = |p: &PreparedRequest| {
            p.headers
                .iter()
                .find(|(k, _)| k == "Authorization")
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get(&prep(&case(AuthMode::None), &target(), ts)), None);
        assert_eq!(
            get(&prep(&case(AuthMode::Blank), &target(), ts)).as_deref(),
            Some("")
        );
        assert_ne!(
            get(&prep(&case(AuthMode::WrongSignature), &target(), ts)),
            get(&good)
        );
        let stale = get(&prep(&case(AuthMode::StaleTimestamp), &target(), ts)).unwrap();
        assert!(stale.contains("2023-12-31T22:00:00Z"), "{stale}");
        let tampered = prep(&case(AuthMode::TamperedBody), &target(), ts);
        assert_eq!(get(&tampered), get(&good));
        assert_ne!(tampered.body, good.body);
    }

    #[test]
    fn paths_that_would_leave_the_target_are_refused_unsigned() {
        let ts = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
        for (base, path) in [
            // Glued, these read as another host: `cms.evil.example`,
            // user info `cms:28080` at `127.0.0.1:9`, a scheme-relative URL.
            ("https://cms", ".evil.example/x"),
            ("http://cms:28080", "@127.0.0.1:9/x"),
            ("http://cms:28080/gw", "@127.0.0.1:9/x"),
            ("http://cms:28080", "//127.0.0.1:9/x"),
            ("http://cms:28080", "/\\127.0.0.1:9/x"),
        ] {
            let t = signed_target(base);
            let mut c = case(AuthMode::Signed);
            c.request.path = path.into();
            let p = prep(&c, &t, ts);
            let why = p
                .refused
                .as_deref()
                .unwrap_or_else(|| panic!("{base} + {path}: sent to {}", p.url));
            assert!(why.starts_with("refused to send: request path"), "{why}");
            assert!(
                !p.headers.iter().any(|(k, _)| k == "Authorization"),
                "no signature for {path}"
            );
        }
    }

    #[test]
    fn one_endpoint_remembers_a_url_only_for_the_same_path() {
        let e = Endpoint::new(&signed_target("http://cms:28080/gw"));
        let bad = "//127.0.0.1:9/x";
        for path in ["/a?q=1", "/a?q=1", "/b", bad, "/a?q=1", bad, "/a?q=2"] {
            let got = e.url(path);
            if path == bad {
                assert!(
                    got.is_err_and(|e| e.starts_with("refused to send")),
                    "{path}"
                );
            } else {
                assert_eq!(got.unwrap().as_str(), format!("http://cms:28080/gw{path}"));
            }
        }
    }

    #[test]
    fn the_url_is_the_targets_and_the_signature_covers_the_path_as_sent() {
        let ts = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
        let t = signed_target("http://cms:28080/gw");
        let mut c = case(AuthMode::Signed);
        // A URL parser resolves `..`: what is signed must be what is sent.
        c.request.path = "/a/../rest/x y?q=1".into();
        let p = prep(&c, &t, ts);
        assert_eq!(p.refused, None);
        assert_eq!(p.url, "http://cms:28080/gw/rest/x%20y?q=1");
        let auth = p
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .map(|(_, v)| v.as_str());
        let header = |n: &str| (n == "host").then(|| "cms:28080".to_string());
        auth::verify(
            auth,
            t.credentials.as_ref().unwrap(),
            "POST",
            "/gw/rest/x%20y",
            &[("q".to_string(), "1".to_string())],
            &header,
            &p.body,
            ts,
            60,
        )
        .expect("signed over the path as sent");
        let url = Url::parse(&p.url).unwrap();
        assert_eq!(check_destination(&url, &t), Ok(()));
        for other in [
            "https://cms:28080/x",
            "http://cms:28081/x",
            "http://cms.evil.example:28080/x",
            "http://u:p@cms:28080/x",
        ] {
            let url = Url::parse(other).unwrap();
            assert!(
                check_destination(&url, &t).is_err_and(|e| e.starts_with("refused to send")),
                "{other}"
            );
        }
    }

    #[test]
    fn signature_covers_the_path_prefix_decoded_query_and_only_sent_headers() {
        let ts = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
        let mut t = signed_target("https://10.22.26.181:28080/gw/");
        t.signed_headers = vec!["content-type".into(), "host".into()];
        let mut c = case(AuthMode::Signed);
        c.request.path = format!("{}?x=a%20b", ENDPOINT_PATH);
        c.request.headers.clear();
        let p = prep(&c, &t, ts);
        assert!(
            p.url.starts_with("https://10.22.26.181:28080/gw/rest/"),
            "{}",
            p.url
        );
        let auth = p
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .map(|(_, v)| v.as_str());
        // Content-Type is not sent, so it is not signed.
        assert!(auth.is_some_and(|a| a.contains("/host/")), "{auth:?}");
        let header = |n: &str| (n == "host").then(|| "10.22.26.181:28080".to_string());
        let query = [("x".to_string(), "a b".to_string())];
        let path = format!("/gw{}", ENDPOINT_PATH);
        auth::verify(
            auth,
            t.credentials.as_ref().unwrap(),
            "POST",
            &path,
            &query,
            &header,
            &p.body,
            ts,
            60,
        )
        .expect("the server-side view verifies");
    }
}
