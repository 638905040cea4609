//! Reading the reply's JSON on the hot path: a key of a small object, a
//! JSON pointer and the equality of two values, found without hashing or
//! allocating.
//!
//! `serde_json`'s map hashes the key sought with SipHash, and its
//! `Value::pointer` allocates two strings per token to unescape it; a reply
//! is read through a dozen pointers and a hundred keys by the invariants,
//! which made both visible in a profile (see the README's "Performance").

use serde_json::{Map, Value};

/// Up to this many keys, [`field`] compares keys instead of hashing.
const SMALL_MAP: usize = 16;

/// `key`'s value in `m`: in a small object, the keys are compared (their
/// lengths first), which is cheaper than hashing the one sought.
pub(crate) fn field<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if m.len() > SMALL_MAP {
        return m.get(key);
    }
    m.iter().find_map(|(k, v)| same(k, key).then_some(v))
}

/// `a == b`, telling most different names apart by their length before
/// comparing bytes, and comparing a name of up to 16 bytes as two
/// overlapping words (a call to `memcmp` for each name and key compared
/// was a tenth of an invariant's evaluation).
#[inline]
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        // Positions 0, n/2 and n-1 are every byte of a name this short.
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4),
        8..=16 => word::<8>(a, 0) == word::<8>(b, 0) && word::<8>(a, n - 8) == word::<8>(b, n - 8),
        _ => a == b,
    }
}

/// `W` bytes of `s` from `at` (which the caller keeps in bounds).
#[inline]
fn word<const W: usize>(s: &[u8], at: usize) -> [u8; W] {
    let mut w = [0; W];
    w.copy_from_slice(&s[at..at + W]);
    w
}

/// The value at JSON pointer `pointer` (RFC 6901) in `v`, as
/// [`Value::pointer`] finds it: `""` is `v` itself, a pointer that does not
/// start with `/` finds nothing, `~1` and `~0` are unescaped, and an array
/// index is decimal digits without a leading zero.
pub(crate) fn pointer<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(v);
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/').try_fold(v, |at, token| {
        if token.contains('~') {
            let token = token.replace("~1", "/").replace("~0", "~");
            step(at, &token)
        } else {
            step(at, token)
        }
    })
}

fn step<'a>(at: &'a Value, token: &str) -> Option<&'a Value> {
    match at {
        Value::Object(m) => field(m, token),
        Value::Array(items) => {
            let digits = token.bytes().all(|b| b.is_ascii_digit());
            if !digits || token.is_empty() || (token.len() > 1 && token.starts_with('0')) {
                return None;
            }
            items.get(token.parse::<usize>().ok()?)
        }
        _ => None,
    }
}

/// `a == b` as `serde_json` says it (objects equal whatever their key
/// order), with small objects' keys found by [`field`] instead of hashed.
pub(crate) fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| field(y, k).is_some_and(|w| equal(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| equal(v, w))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every pointer finds what `serde_json` finds, escapes and odd
    /// indexes included, in small objects and in one past the linear limit.
    #[test]
    fn pointers_find_what_serde_json_finds() {
        let mut big = Map::new();
        for i in 0..40 {
            big.insert(format!("k{i}"), json!(i));
        }
        let doc = json!({
            "a": {"b": [10, {"c/d": 1, "e~f": 2, "": 3}]},
            "big": big,
            "~1": "tilde-one",
            "0": "zero",
        });
        let pointers = [
            "",
            "/",
            "a",
            "/a",
            "/a/b",
            "/a/b/0",
            "/a/b/1",
            "/a/b/01",
            "/a/b/+1",
            "/a/b/2",
            "/a/b/-",
            "/a/b/1/c~1d",
            "/a/b/1/e~0f",
            "/a/b/1/",
            "/a/b/1/c~2d",
            "/~01",
            "/0",
            "/big/k39",
            "/big/k40",
            "/big/k0/x",
            "/a/b/18446744073709551616",
        ];
        for p in pointers {
            assert_eq!(pointer(&doc, p), doc.pointer(p), "{p}");
        }
        assert_eq!(field(big_map(&doc), "k7"), Some(&json!(7)));
        assert_eq!(field(doc.as_object().unwrap(), "0"), Some(&json!("zero")));
        assert_eq!(field(doc.as_object().unwrap(), "zz"), None);
    }

    /// Equal where serde_json says equal, whatever the key order, depth,
    /// number form or object size.
    #[test]
    fn equal_agrees_with_serde_json() {
        let mut big = Map::new();
        for i in 0..40 {
            big.insert(format!("k{i}"), json!(i));
        }
        let mut big2: Map<String, Value> = big.clone().into_iter().rev().collect();
        let values = [
            json!(null),
            json!(1),
            json!(1.0),
            json!("1"),
            json!([1, 2]),
            json!([2, 1]),
            json!([1, 2, 3]),
            json!({"a": 1, "b": [1, {"c": null}]}),
            json!({"b": [1, {"c": null}], "a": 1}),
            json!({"b": [1, {"c": false}], "a": 1}),
            json!({"a": 1}),
            json!({"a": 1, "z": 1}),
            Value::Object(big.clone()),
            Value::Object(big2.clone()),
        ];
        big2.insert("k0".into(), json!(-1));
        for a in values.iter().chain([&Value::Object(big2)]) {
            for b in &values {
                assert_eq!(equal(a, b), a == b, "{a} {b}");
            }
        }
    }

    /// `same` is `==`: every length up to past the word sizes, a difference
    /// at every position, and a different length.
    #[test]
    fn same_is_equality() {
        for n in 0..=24 {
            let a: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            assert!(same(&a, &a.clone()), "{a}");
            assert!(!same(&a, &format!("{a}a")), "{a}");
            for i in 0..n {
                let mut b = a.clone().into_bytes();
                b[i] = b'Z';
                let b = String::from_utf8(b).unwrap();
                assert!(!same(&a, &b) && !same(&b, &a), "{a} {b}");
            }
        }
    }

    fn big_map(doc: &Value) -> &Map<String, Value> {
        doc["big"].as_object().unwrap()
    }
}
