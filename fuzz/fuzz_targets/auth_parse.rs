//! `auth::parse_authorization` and `auth::verify` on arbitrary strings:
//! never a panic, never the signature in a redacted value, never a random
//! value accepted; and a value `auth::authorization` made verifies.

#![no_main]

use arbitrary::Arbitrary;
use cms_contract::auth::{self, CanonicalInput, Credentials, Timestamp};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    /// An Authorization value as a client might send it.
    value: &'a str,
    ak: &'a str,
    sk: &'a str,
    method: &'a str,
    path: &'a str,
    query: Vec<(String, String)>,
    host: &'a str,
    body: &'a [u8],
    /// Signing time and server clock, in the range `Timestamp` displays.
    now: u32,
    skew: u64,
}

fuzz_target!(|i: Input| {
    let redacted = auth::redact(i.value);
    match auth::parse_authorization(i.value) {
        Ok(p) => {
            assert_eq!(p.signature.len(), 64);
            assert!(!redacted.contains(&p.signature), "{redacted}");
        }
        Err(e) => {
            assert_eq!(redacted, "<redacted>");
            assert!(!e.to_string().is_empty());
        }
    }

    let creds = Credentials::new(i.ak, i.sk);
    let now = Timestamp(u64::from(i.now));
    let host = |name: &str| (name == "host").then(|| i.host.to_string());
    // Whatever it says, verify must answer without panicking.
    let _ = auth::verify(
        Some(i.value),
        &creds,
        i.method,
        i.path,
        &i.query,
        &host,
        i.body,
        now,
        i.skew,
    );

    // A well-formed AK: what the signer produces must verify, exactly once.
    let ak_ok = !i.ak.is_empty()
        && !i.ak.contains('/')
        && !i.ak.chars().any(|c| c.is_control() || c.is_whitespace());
    if ak_ok {
        let headers = vec![("host".to_string(), i.host.to_string())];
        let input = CanonicalInput {
            method: i.method,
            path: i.path,
            query: &i.query,
            headers: &headers,
            body: i.body,
        };
        let value = auth::authorization(&creds, now, &input);
        let verdict = auth::verify(
            Some(&value),
            &creds,
            i.method,
            i.path,
            &i.query,
            &host,
            i.body,
            now,
            0,
        );
        assert_eq!(verdict, Ok(()), "{}", auth::redact(&value));
    }
});
