//! C2 "auth-v2" AK/SK request signing and verification.
//!
//! Follows `shared/spec/agentbyworkno.md`, section "Authentication", step by
//! step (which in turn follows the vendor's `SignInfo` sample code): a
//! signing key derived from the SK and the `auth-v2/AK/timestamp/signed_headers`
//! prefix, then an HMAC over a canonical request made of the method, path,
//! query, signed headers, an always-present newline and the body bytes
//! themselves (not a hash). The signature and the SK never appear in `Debug`
//! output, error messages or [`redact`]ed header values.
//!
//! Where the spec note and the vendor's code disagreed (the newline before an
//! empty body), the vendor's code won; the three known-answer vectors of the
//! spec are pinned by this crate's tests.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use percent_encoding::{percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The literal first segment of every C2 `Authorization` value.
pub const SCHEME: &str = "auth-v2";

/// The strict timestamp form of the signature: `YYYY-MM-DDTHH:MM:SSZ`.
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";
/// [`TIMESTAMP_FORMAT`] without its `Z`, for parsing the civil UTC time.
const CIVIL_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// Bytes `normalize` leaves alone: `A-Z a-z 0-9 - . _ ~` (RFC 3986 unreserved).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An access key (AK) and secret key (SK) pair handed out by the operator.
///
/// `Debug` prints the SK as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key; it travels in the clear inside `Authorization`.
    pub ak: String,
    sk: String,
}

impl Credentials {
    /// A new AK/SK pair.
    pub fn new(ak: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            ak: ak.into(),
            sk: sk.into(),
        }
    }

    /// The secret key. Callers must not log it.
    pub fn sk(&self) -> &str {
        &self.sk
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("ak", &self.ak)
            .field("sk", &"<redacted>")
            .finish()
    }
}

/// A signing timestamp: whole seconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The current time from the system clock (a clock before 1970 reads as 0).
    pub fn now() -> Self {
        Self(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        )
    }

    /// Parse the strict `YYYY-MM-DDTHH:MM:SSZ` form: exactly 20 ASCII bytes,
    /// a real calendar date, no leap second, year 1970 or later.
    pub fn parse(s: &str) -> Option<Self> {
        // jiff's strptime is lenient about widths and signs; the signature
        // form is not, so check the shape first.
        let shape = s.len() == 20
            && s.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                10 => b == b'T',
                13 | 16 => b == b':',
                19 => b == b'Z',
                _ => b.is_ascii_digit(),
            });
        // jiff clamps a leap second (:60) to :59; the signature has none.
        if !shape || &s[17..19] > "59" {
            return None;
        }
        let civil = jiff::civil::DateTime::strptime(CIVIL_FORMAT, &s[..19]).ok()?;
        let t = jiff::tz::Offset::UTC.to_timestamp(civil).ok()?;
        u64::try_from(t.as_second()).ok().map(Self)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match i64::try_from(self.0)
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
        {
            Some(t) => write!(f, "{}", t.strftime(TIMESTAMP_FORMAT)),
            // Beyond year 9999: not a signable time; say what it is.
            None => write!(f, "@{}Z", self.0),
        }
    }
}

/// HMAC-SHA256 of `msg` keyed with `key`, as 64 lower-case hex digits.
pub fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    hex::encode(hmac(key, msg).finalize().into_bytes())
}

/// The HMAC-SHA256 state over `msg` with `key`.
fn hmac(key: &[u8], msg: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(msg);
    mac
}

/// Percent-encode every byte except `A-Z a-z 0-9 - . _ ~`, with upper-case hex.
pub fn normalize(bytes: &[u8]) -> String {
    percent_encode(bytes, UNRESERVED).to_string()
}

/// What goes into the canonical request besides the signed-header list.
#[derive(Debug, Clone, Copy)]
pub struct CanonicalInput<'a> {
    /// HTTP method as sent, e.g. `POST`.
    pub method: &'a str,
    /// URL path without the query.
    pub path: &'a str,
    /// Decoded query pairs; empty when the URL has no query.
    pub query: &'a [(String, String)],
    /// The signed headers only: name (any case) and value.
    pub headers: &'a [(String, String)],
    /// The exact body bytes sent.
    pub body: &'a [u8],
}

/// The lower-cased, sorted, de-duplicated, `;`-joined names of `headers`.
fn signed_header_list(headers: &[(String, String)]) -> String {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    names.join(";")
}

/// Where the canonical request's bytes go: a string (for display) or the
/// HMAC straight away (signing and verifying, with no copy of the body).
trait Sink {
    fn put(&mut self, text: &str);

    /// `bytes` as [`normalize`] spells them, without building the string.
    fn put_normalized(&mut self, bytes: &[u8]) {
        for piece in percent_encode(bytes, UNRESERVED) {
            self.put(piece);
        }
    }
}

impl Sink for String {
    fn put(&mut self, text: &str) {
        self.push_str(text);
    }
}

impl Sink for HmacSha256 {
    fn put(&mut self, text: &str) {
        self.update(text.as_bytes());
    }
}

/// The canonical request of step 3, for the given `signed_headers` list.
pub fn canonical_request(signed_headers: &str, input: &CanonicalInput) -> String {
    let mut out = String::new();
    write_canonical(&mut out, signed_headers, input);
    out
}

/// Write the canonical request of step 3 into `out`. The one definition of
/// its bytes: [`canonical_request`] shows them, [`authorization`] and
/// [`verify`] hash them.
fn write_canonical(out: &mut impl Sink, signed_headers: &str, input: &CanonicalInput) {
    out.put(input.method);
    out.put("\n");
    out.put(input.path);
    out.put("\n");
    if !input.query.is_empty() {
        let mut pairs: Vec<String> = input
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", normalize(k.as_bytes()), normalize(v.as_bytes())))
            .collect();
        pairs.sort();
        out.put(&pairs.join("&"));
        out.put("\n");
    }
    out.put(signed_headers);
    out.put("\n");
    let mut lines: Vec<String> = input
        .headers
        .iter()
        .map(|(n, v)| {
            format!(
                "{}:{}",
                normalize(n.to_ascii_lowercase().as_bytes()),
                normalize(v.as_bytes())
            )
        })
        .collect();
    lines.sort();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.put("\n");
        }
        out.put(line);
    }
    // Always, even for an empty body: the vendor's `SignInfo.canonicalRequest()`
    // appends this newline unconditionally (spec step 3, corrected).
    out.put("\n");
    out.put_normalized(input.body);
}

/// The signing key of step 2: the hex HMAC of the prefix, used as text.
fn signing_key(sk: &str, ak: &str, ts: Timestamp, signed_headers: &str) -> String {
    let prefix = format!("{SCHEME}/{ak}/{ts}/{signed_headers}");
    hmac_hex(sk.as_bytes(), prefix.as_bytes())
}

/// The HMAC of the canonical request of `input`, keyed with the signing key
/// of step 2.
fn canonical_mac(key: &str, signed_headers: &str, input: &CanonicalInput) -> HmacSha256 {
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length");
    write_canonical(&mut mac, signed_headers, input);
    mac
}

/// The full `Authorization` header value (step 5), signing every header in
/// `input.headers`.
pub fn authorization(creds: &Credentials, ts: Timestamp, input: &CanonicalInput) -> String {
    let signed = signed_header_list(input.headers);
    let key = signing_key(&creds.sk, &creds.ak, ts, &signed);
    let sig = hex::encode(canonical_mac(&key, &signed, input).finalize().into_bytes());
    format!("{SCHEME}/{}/{ts}/{signed}/{sig}", creds.ak)
}

/// The signature part of an `Authorization` value, if it has the auth-v2
/// shape: what must never be printed.
pub fn signature_of(authorization: &str) -> Option<&str> {
    parse_authorization(authorization)
        .ok()
        .and_then(|_| authorization.trim().rsplit('/').next())
}

/// An `Authorization` value safe to log: `auth-v2/AK/ts/headers/<redacted>`,
/// or just `<redacted>` when it does not parse.
pub fn redact(authorization: &str) -> String {
    match parse_authorization(authorization) {
        Ok(p) => format!(
            "{SCHEME}/{}/{}/{}/<redacted>",
            p.ak,
            p.timestamp,
            p.signed_headers.join(";")
        ),
        Err(_) => "<redacted>".to_owned(),
    }
}

/// The parts of an `auth-v2/{AK}/{timestamp}/{signed_headers}/{signature}` value.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// The access key.
    pub ak: String,
    /// The signing time.
    pub timestamp: Timestamp,
    /// Signed header names, lower-case, in the order sent.
    pub signed_headers: Vec<String>,
    /// The signature: 64 lower-case hex digits.
    pub signature: String,
}

impl fmt::Debug for ParsedAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedAuthorization")
            .field("ak", &self.ak)
            .field("timestamp", &self.timestamp)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"<redacted>")
            .finish()
    }
}

/// Why an `Authorization` header was refused. Messages never contain the SK
/// or the signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("missing authorization header")]
    Missing,
    /// The header is empty or whitespace.
    #[error("blank authorization header")]
    Blank,
    /// The header is not `auth-v2/AK/timestamp/headers/signature`.
    #[error("malformed authorization header: {0}")]
    Malformed(String),
    /// The AK is not the one the verifier knows.
    #[error("unknown access key")]
    UnknownAk,
    /// The timestamp is further than the allowed skew from the verifier's clock.
    #[error("timestamp outside the allowed clock skew of {skew_secs} s")]
    Stale {
        /// The allowed skew, in seconds.
        skew_secs: u64,
    },
    /// A header named in the signed-header list is absent from the request.
    #[error("signed header {0} is absent from the request")]
    MissingSignedHeader(String),
    /// The signature does not match.
    #[error("signature mismatch")]
    BadSignature,
}

fn is_header_name(s: &str) -> bool {
    // RFC 9110 token characters, lower case only (the list is lower-cased by the signer).
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}

/// Split an `Authorization` value into its parts. Surrounding whitespace is
/// ignored; anything else out of shape is [`AuthError::Malformed`].
pub fn parse_authorization(value: &str) -> Result<ParsedAuthorization, AuthError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AuthError::Blank);
    }
    let malformed = |why: &str| AuthError::Malformed(why.to_owned());
    let parts: Vec<&str> = value.split('/').collect();
    let [scheme, ak, timestamp, signed_headers, signature] = parts[..] else {
        return Err(malformed(
            "expected auth-v2/AK/timestamp/signed-headers/signature",
        ));
    };
    if scheme != SCHEME {
        return Err(malformed("scheme is not auth-v2"));
    }
    if ak.is_empty() || ak.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(malformed("access key is empty or contains whitespace"));
    }
    let timestamp = Timestamp::parse(timestamp)
        .ok_or_else(|| malformed("timestamp is not YYYY-MM-DDTHH:MM:SSZ"))?;
    let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_owned).collect();
    if !signed_headers.iter().all(|h| is_header_name(h)) {
        return Err(malformed(
            "signed headers are not lower-case header names joined by ';'",
        ));
    }
    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(malformed("signature is not 64 lower-case hex digits"));
    }
    Ok(ParsedAuthorization {
        ak: ak.to_owned(),
        timestamp,
        signed_headers,
        signature: signature.to_owned(),
    })
}

/// Check an `Authorization` value against a request, in this order: presence,
/// shape, AK, clock skew (`|now - timestamp| <= skew_secs`), signed headers
/// present (looked up with `header`, by lower-case name), signature (compared
/// in constant time).
#[allow(clippy::too_many_arguments)]
pub fn verify(
    value: Option<&str>,
    creds: &Credentials,
    method: &str,
    path: &str,
    query: &[(String, String)],
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    now: Timestamp,
    skew_secs: u64,
) -> Result<(), AuthError> {
    let value = value.ok_or(AuthError::Missing)?;
    let parsed = parse_authorization(value)?;
    if !bool::from(parsed.ak.as_bytes().ct_eq(creds.ak.as_bytes())) {
        return Err(AuthError::UnknownAk);
    }
    if parsed.timestamp.0.abs_diff(now.0) > skew_secs {
        return Err(AuthError::Stale { skew_secs });
    }
    let mut headers = Vec::with_capacity(parsed.signed_headers.len());
    for name in &parsed.signed_headers {
        let v = header(name).ok_or_else(|| AuthError::MissingSignedHeader(name.clone()))?;
        headers.push((name.clone(), v));
    }
    // The list as sent is what the signer put in the prefix and canonical request.
    let signed = parsed.signed_headers.join(";");
    let input = CanonicalInput {
        method,
        path,
        query,
        headers: &headers,
        body,
    };
    let key = signing_key(&creds.sk, &parsed.ak, parsed.timestamp, &signed);
    // `parse_authorization` checked 64 hex digits, so this decodes.
    let given = hex::decode(&parsed.signature).map_err(|_| AuthError::BadSignature)?;
    canonical_mac(&key, &signed, &input)
        .verify_slice(&given)
        .map_err(|_| AuthError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    const ENDPOINT_PATH: &str = "/rest/cmsapp/v1/openapi/agent/agentbyworkno";

    const BODY: &[u8] = br#"{"queryParam":{"ccId":1,"vdn":1,"agentId":101}}"#;
    const HOST: &str = "10.22.26.181:28080";
    const SIG_HOST: &str = "2da95fd4bf39ceb59782ffe762256861457efda80e2a2701cca0b565f27f894b";
    const SIG_THREE: &str = "7066b2be902b5abaf611d7eab3235587250d7ef0048d6790aaa2458c4da31a9e";
    const SIG_EMPTY: &str = "33f6760098e9fd1104dd7282ad21970f040cf3b56a153c39da7bc1277f0322b8";

    fn creds() -> Credentials {
        Credentials::new("globalaktest", "example-secret-key")
    }

    fn ts() -> Timestamp {
        Timestamp::parse("2024-01-01T00:00:00Z").expect("valid timestamp")
    }

    fn h(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    fn sign(headers: &[(String, String)], body: &[u8]) -> String {
        authorization(
            &creds(),
            ts(),
            &CanonicalInput {
                method: "POST",
                path: ENDPOINT_PATH,
                query: &[],
                headers,
                body,
            },
        )
    }

    #[test]
    fn known_answer_host_only() {
        assert_eq!(
            sign(&[h("Host", HOST)], BODY),
            format!("auth-v2/globalaktest/2024-01-01T00:00:00Z/host/{SIG_HOST}")
        );
    }

    #[test]
    fn known_answer_three_headers() {
        let headers = [
            h("Host", HOST),
            h("Content-Type", "application/json;charset=UTF-8"),
            h("Content-Length", "47"),
        ];
        assert_eq!(BODY.len(), 47);
        assert_eq!(
            sign(&headers, BODY),
            format!(
                "auth-v2/globalaktest/2024-01-01T00:00:00Z/content-length;content-type;host/{SIG_THREE}"
            )
        );
    }

    #[test]
    fn known_answer_empty_body() {
        assert_eq!(
            sign(&[h("Host", HOST)], b""),
            format!("auth-v2/globalaktest/2024-01-01T00:00:00Z/host/{SIG_EMPTY}")
        );
    }

    #[test]
    fn canonical_request_layout() {
        let headers = [h("Host", HOST)];
        let query = [h("b", "2 3"), h("a", "{1}")];
        let input = CanonicalInput {
            method: "POST",
            path: "/p",
            query: &query,
            headers: &headers,
            body: b"{}",
        };
        assert_eq!(
            canonical_request("host", &input),
            "POST\n/p\na=%7B1%7D&b=2%203\nhost\nhost:10.22.26.181%3A28080\n%7B%7D"
        );
        let empty = CanonicalInput {
            query: &[],
            body: b"",
            ..input
        };
        assert_eq!(
            canonical_request("host", &empty),
            "POST\n/p\nhost\nhost:10.22.26.181%3A28080\n"
        );
    }

    #[test]
    fn the_signature_is_the_hmac_of_the_canonical_request_shown() {
        // Signing hashes the canonical request as it is written, without
        // building it; `canonical_request` builds it for display. Both must
        // be the same bytes, whatever the query, headers and body hold.
        let headers = [
            h("Host", HOST),
            h("Content-Type", "application/json;charset=UTF-8"),
            h("X-Odd", "a b/é"),
        ];
        let query = [h("z", "1"), h("a", "x y&"), h("é", "")];
        for (query, body) in [
            (&query[..], &b"{\"k\":\"v \xc3\xa9\"}"[..]),
            (&[][..], &b""[..]),
            (&query[..1], &[0u8, 0xff, b'~'][..]),
        ] {
            let input = CanonicalInput {
                method: "POST",
                path: "/gw/p%20q",
                query,
                headers: &headers,
                body,
            };
            let value = authorization(&creds(), ts(), &input);
            let signed = signed_header_list(&headers);
            let key = signing_key(creds().sk(), &creds().ak, ts(), &signed);
            let shown = canonical_request(&signed, &input);
            assert_eq!(
                value.rsplit('/').next(),
                Some(hmac_hex(key.as_bytes(), shown.as_bytes()).as_str()),
                "{shown:?}"
            );
        }
    }

    #[test]
    fn normalize_examples() {
        assert_eq!(normalize(b"{"), "%7B");
        assert_eq!(normalize(b":"), "%3A");
        assert_eq!(normalize(b" "), "%20");
        assert_eq!(normalize(b"AZaz09-._~"), "AZaz09-._~");
        assert_eq!(normalize("é/".as_bytes()), "%C3%A9%2F");
        assert_eq!(normalize(b"\xff"), "%FF");
    }

    #[test]
    fn hmac_hex_rfc4231_case2() {
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn timestamp_round_trip() {
        for (s, secs) in [
            ("1970-01-01T00:00:00Z", 0u64),
            ("2000-02-29T12:34:56Z", 951_827_696),
            ("2024-01-01T00:00:00Z", 1_704_067_200),
            ("2024-02-29T23:59:59Z", 1_709_251_199),
            ("2100-03-01T00:00:00Z", 4_107_542_400),
            ("2106-02-07T06:28:15Z", 4_294_967_295),
            ("2106-02-07T06:28:16Z", 4_294_967_296),
        ] {
            assert_eq!(Timestamp::parse(s), Some(Timestamp(secs)), "{s}");
            assert_eq!(Timestamp(secs).to_string(), s);
        }
        // Every day from 1970 to 2200 survives a round trip.
        for day in 0..84_000u64 {
            let t = Timestamp(day * 86_400 + 3_661);
            assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
        }
    }

    #[test]
    fn timestamp_rejects() {
        for s in [
            "",
            "2024-01-01T00:00:00",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00z",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-00-01T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:60Z",
            "1969-12-31T23:59:59Z",
            "+024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.0Z",
            "２024-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse(s), None, "{s:?}");
        }
        assert!(Timestamp::parse("2000-02-29T00:00:00Z").is_some());
        // jiff's range ends a day before the year 9999 does.
        assert_eq!(
            Timestamp::parse("9999-12-30T00:00:00Z")
                .map(|t| t.to_string())
                .as_deref(),
            Some("9999-12-30T00:00:00Z")
        );
        // Beyond year 9999 Display still works (and parse refuses 5-digit years).
        let far = Timestamp(u64::MAX).to_string();
        assert!(
            far.ends_with('Z') && Timestamp::parse(&far).is_none(),
            "{far}"
        );
    }

    fn check(
        value: Option<&str>,
        headers: &[(String, String)],
        body: &[u8],
        now: Timestamp,
    ) -> Result<(), AuthError> {
        let lookup = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        verify(
            value,
            &creds(),
            "POST",
            ENDPOINT_PATH,
            &[],
            &lookup,
            body,
            now,
            900,
        )
    }

    #[test]
    fn verify_outcomes() {
        let host = [h("Host", HOST)];
        let good = sign(&host, BODY);
        assert_eq!(check(Some(&good), &host, BODY, ts()), Ok(()));
        assert_eq!(
            check(
                Some(&format!("  {good} ")),
                &host,
                BODY,
                Timestamp(ts().0 + 900)
            ),
            Ok(())
        );
        assert_eq!(
            check(Some(&good), &host, BODY, Timestamp(ts().0 - 900)),
            Ok(())
        );

        let mut bad = good.clone();
        bad.replace_range(bad.len() - 1.., "c");
        assert_eq!(
            check(Some(&bad), &host, BODY, ts()),
            Err(AuthError::BadSignature)
        );

        let tampered = br#"{"queryParam":{"ccId":1,"vdn":1,"agentId":102}}"#;
        assert_eq!(
            check(Some(&good), &host, tampered, ts()),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            check(Some(&good), &[h("host", "10.22.26.181")], BODY, ts()),
            Err(AuthError::BadSignature)
        );

        assert_eq!(
            check(Some(&good), &host, BODY, Timestamp(ts().0 + 901)),
            Err(AuthError::Stale { skew_secs: 900 })
        );
        assert_eq!(
            check(Some(&good), &host, BODY, Timestamp(ts().0 - 901)),
            Err(AuthError::Stale { skew_secs: 900 })
        );

        let other = authorization(
            &Credentials::new("someone-else", "example-secret-key"),
            ts(),
            &CanonicalInput {
                method: "POST",
                path: ENDPOINT_PATH,
                query: &[],
                headers: &host,
                body: BODY,
            },
        );
        assert_eq!(
            check(Some(&other), &host, BODY, ts()),
            Err(AuthError::UnknownAk)
        );

        assert_eq!(
            check(
                Some(&good),
                &[h("Content-Type", "application/json")],
                BODY,
                ts()
            ),
            Err(AuthError::MissingSignedHeader("host".to_owned()))
        );
        assert_eq!(check(None, &host, BODY, ts()), Err(AuthError::Missing));
        assert_eq!(check(Some(""), &host, BODY, ts()), Err(AuthError::Blank));
        assert_eq!(
            check(Some(" \t "), &host, BODY, ts()),
            Err(AuthError::Blank)
        );
    }

    #[test]
    fn verify_rejects_garbled() {
        let host = [h("Host", HOST)];
        let good = sign(&host, BODY);
        let garbled = [
            "garbage".to_owned(),
            "Bearer abc".to_owned(),
            good.replacen("auth-v2", "auth-v1", 1),
            good.replacen("auth-v2", "AUTH-V2", 1),
            good.replacen("/host/", "/Host/", 1),
            good.replacen("/host/", "//", 1),
            good.replacen("/host/", "/host;/", 1),
            good.replacen("2024-01-01T00:00:00Z", "2024-01-01", 1),
            good.replacen("globalaktest", "", 1),
            good.to_uppercase(),
            format!("{good}/"),
            format!("{good}0"),
            good[..good.len() - 1].to_owned(),
            format!(
                "auth-v2/globalaktest/2024-01-01T00:00:00Z/host/{}",
                "g".repeat(64)
            ),
            "auth-v2////".to_owned(),
            "\u{0}\u{ffff}/é".to_owned(),
        ];
        for g in &garbled {
            let err = check(Some(g), &host, BODY, ts()).expect_err(g);
            assert!(matches!(err, AuthError::Malformed(_)), "{g:?}: {err:?}");
            assert!(!err.to_string().contains(SIG_HOST));
            assert_eq!(redact(g), "<redacted>");
        }
    }

    #[test]
    fn secrets_never_leak() {
        let c = creds();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("example-secret-key"), "{dbg}");
        assert!(
            dbg.contains("<redacted>") && dbg.contains("globalaktest"),
            "{dbg}"
        );
        assert_eq!(c.sk(), "example-secret-key");

        let good = sign(&[h("Host", HOST)], BODY);
        let r = redact(&good);
        assert_eq!(
            r,
            "auth-v2/globalaktest/2024-01-01T00:00:00Z/host/<redacted>"
        );
        assert!(!r.contains(SIG_HOST));

        let parsed = parse_authorization(&good).expect("parses");
        assert_eq!(parsed.signature, SIG_HOST);
        assert!(!format!("{parsed:?}").contains(SIG_HOST));

        let errors = [
            AuthError::Missing,
            AuthError::Blank,
            AuthError::Malformed("x".to_owned()),
            AuthError::UnknownAk,
            AuthError::Stale { skew_secs: 900 },
            AuthError::MissingSignedHeader("host".to_owned()),
            AuthError::BadSignature,
        ];
        for e in errors {
            let msg = e.to_string();
            assert!(!msg.contains("example-secret-key") && !msg.contains(SIG_HOST));
            assert_eq!(msg, msg.to_lowercase(), "lower-case fragment: {msg}");
        }
    }
}
