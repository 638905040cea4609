//! One strict pass over a reply body: builds the JSON value and, on the way,
//! notes what plain `serde_json::from_slice` would hide.
//!
//! - A key repeated in one object: RFC 8259 §4 only says names SHOULD be
//!   unique, and parsers differ on which value wins, so the reply is
//!   ambiguous. The pointer of each repeat is kept (the value kept is the last).
//! - A number token that is not a plain integer: serde_json calls
//!   `visit_f64` for a token with a fraction or an exponent (`101.0`,
//!   `4.294967295E12`) and for an integer token wider than 64 bits, and
//!   `visit_u64` / `visit_i64` for the others, which therefore stay exact
//!   (u64 above `i64::MAX` included). The token's text is kept, as written.
//!
//! The text of a number is found through the reader: serde_json reads from
//! an [`io::Read`] one byte at a time, so when it hands over a number it has
//! read the token and at most one byte after it. serde_json's recursion limit
//! (128 levels) stays on.

use crate::check::pointer_push;
use crate::result::NumberToken;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;

/// A body parsed by [`parse`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parsed {
    /// The value (for a repeated key, the last one written).
    pub value: Value,
    /// JSON pointers of members whose key was already used in the same object.
    pub duplicate_keys: Vec<String>,
    /// Number tokens that are not plain 64-bit integers, as written.
    pub float_tokens: Vec<NumberToken>,
}

/// Parse `body` as one JSON value (nothing but whitespace after it).
///
/// First in one fast pass over the slice, which has no read position to
/// find a number's text by; only a body that holds a number token which is
/// not a plain 64-bit integer (or that does not parse) is read again, byte
/// by byte, so that the token's text is exact and the error is the reader's.
pub(crate) fn parse(body: &[u8]) -> Result<Parsed, serde_json::Error> {
    let ctx = Context {
        body,
        pos: None,
        needs_text: Cell::new(false),
        duplicate_keys: RefCell::new(Vec::new()),
        float_tokens: RefCell::new(Vec::new()),
        last_len: Cell::new(0),
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let fast = Seed {
        ctx: &ctx,
        path: &Path::Root,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    if let (Ok(value), false) = (fast, ctx.needs_text.get()) {
        return Ok(Parsed {
            value,
            duplicate_keys: ctx.duplicate_keys.into_inner(),
            float_tokens: vec![],
        });
    }
    parse_exact(body)
}

/// [`parse`] reading one byte at a time, so that `pos` always says how far
/// serde_json has read.
fn parse_exact(body: &[u8]) -> Result<Parsed, serde_json::Error> {
    let pos = Cell::new(0);
    let ctx = Context {
        body,
        pos: Some(&pos),
        needs_text: Cell::new(false),
        duplicate_keys: RefCell::new(Vec::new()),
        float_tokens: RefCell::new(Vec::new()),
        last_len: Cell::new(0),
    };
    let mut de = serde_json::Deserializer::from_reader(ByteReader { body, pos: &pos });
    let value = Seed {
        ctx: &ctx,
        path: &Path::Root,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(Parsed {
        value,
        duplicate_keys: ctx.duplicate_keys.into_inner(),
        float_tokens: ctx.float_tokens.into_inner(),
    })
}

/// Hands `body` to serde_json one byte per call, so `pos` is always the
/// number of bytes it has consumed.
struct ByteReader<'a> {
    body: &'a [u8],
    pos: &'a Cell<usize>,
}

impl io::Read for ByteReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let at = self.pos.get();
        match (self.body.get(at), buf.first_mut()) {
            (Some(b), Some(slot)) => {
                *slot = *b;
                self.pos.set(at + 1);
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

struct Context<'a> {
    body: &'a [u8],
    /// How far the reader has read; `None` on the fast pass, which cannot tell.
    pos: Option<&'a Cell<usize>>,
    /// The fast pass met a number token whose text it cannot give.
    needs_text: Cell<bool>,
    duplicate_keys: RefCell<Vec<String>>,
    float_tokens: RefCell<Vec<NumberToken>>,
    /// The member count of the object finished last.
    last_len: Cell<usize>,
}

impl Context<'_> {
    /// The text of the number token serde_json has just read: it ends at the
    /// read position, less the one byte it may have looked at after it.
    fn last_number(&self) -> String {
        let is_number =
            |b: &u8| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E');
        let mut end = self.pos.map_or(0, Cell::get).min(self.body.len());
        if end > 0 && !is_number(&self.body[end - 1]) {
            end -= 1;
        }
        let start = self.body[..end]
            .iter()
            .rposition(|b| !is_number(b))
            .map_or(0, |i| i + 1);
        String::from_utf8_lossy(&self.body[start..end]).into_owned()
    }
}

/// Where a value is, as a chain up to the root: the JSON pointer is only
/// spelt out for the few values that need it (a repeated key, a number
/// token), not for every value of every reply.
enum Path<'p> {
    Root,
    Key(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    fn pointer(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(parent, key) => pointer_push(&parent.pointer(), key),
            Path::Index(parent, i) => pointer_push(&parent.pointer(), &i.to_string()),
        }
    }
}

/// Deserialises the value at `path`.
struct Seed<'c, 'a, 'p> {
    ctx: &'c Context<'a>,
    path: &'p Path<'p>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_, '_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        if self.ctx.pos.is_none() {
            // The fast pass: the body is read again, exactly.
            self.ctx.needs_text.set(true);
            return Ok(Value::Null);
        }
        let token = NumberToken {
            pointer: self.path.pointer(),
            raw: self.ctx.last_number(),
        };
        if v == 0.0 && !token.has_fraction_or_exponent() {
            // `-0`: an integer token, which serde_json reads as -0.0 for its sign.
            return Ok(Value::from(0));
        }
        self.ctx.float_tokens.borrow_mut().push(token);
        // serde_json refuses numbers out of f64's range, so `v` is finite.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Seed {
            ctx: self.ctx,
            path: &Path::Index(self.path, items.len()),
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // Made at the size of the object finished last (the first at 8):
        // the elements of a list, and a payload and its copy, are
        // mostly alike, and growing a map rehashes it (three times for
        // nine members).
        let mut members = Map::with_capacity(match self.ctx.last_len.get() {
            0 => 8,
            n => n.min(64),
        });
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Seed {
                ctx: self.ctx,
                path: &Path::Key(self.path, &key),
            })?;
            // One look-up per member (the key is hashed once): a repeat
            // keeps the first one's place and takes the last one's value.
            match members.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(mut slot) => {
                    let pointer = Path::Key(self.path, slot.key()).pointer();
                    self.ctx.duplicate_keys.borrow_mut().push(pointer);
                    slot.insert(value);
                }
            }
        }
        self.ctx.last_len.set(members.len());
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(pointer: &str, raw: &str) -> NumberToken {
        NumberToken {
            pointer: pointer.into(),
            raw: raw.into(),
        }
    }

    #[test]
    fn the_value_is_what_serde_json_builds() {
        for text in [
            r#"{"result":"0","resultDesc":{"workNo":101,"phoneNumber":null,"a":[true,false,-5,"x\u00e9"]}}"#,
            "[]",
            "  \"s\"  ",
            "[[[1]]]",
        ] {
            let p = parse(text.as_bytes()).unwrap();
            assert_eq!(
                p.value,
                serde_json::from_str::<Value>(text).unwrap(),
                "{text}"
            );
            assert!(p.duplicate_keys.is_empty() && p.float_tokens.is_empty());
        }
    }

    /// Maps are made at the size of the object finished before them:
    /// objects growing, shrinking and past the size bound still come out
    /// as serde_json builds them, in their order.
    #[test]
    fn objects_of_every_size_in_a_row_are_what_serde_json_builds() {
        let object = |n: usize| {
            let members: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
            format!("{{{}}}", members.join(","))
        };
        let sizes = [9, 9, 2, 0, 70, 3, 100, 100, 1, 16, 17];
        let items: Vec<String> = sizes.iter().map(|&n| object(n)).collect();
        let text = format!("{{\"list\":[{}],\"after\":{}}}", items.join(","), object(5));
        let p = parse(text.as_bytes()).unwrap();
        let want: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(p.value, want);
        let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
        for (got, want) in p.value["list"]
            .as_array()
            .unwrap()
            .iter()
            .zip(want["list"].as_array().unwrap())
        {
            assert_eq!(keys(got), keys(want), "member order");
        }
    }

    #[test]
    fn repeated_keys_are_noted_at_every_depth() {
        let p = parse(
            br#"{"resultCode":"0100000","resultCode":"0100001","d":[{"a/b":1,"a/b":2,"a/b":3}]}"#,
        )
        .unwrap();
        assert_eq!(p.duplicate_keys, ["/resultCode", "/d/0/a~1b", "/d/0/a~1b"]);
        assert_eq!(
            p.value["resultCode"],
            json!("0100001"),
            "the last one is kept"
        );
        assert_eq!(p.value["d"][0]["a/b"], json!(3));
    }

    /// Repeats early and late in an object of twenty keys: each is noted,
    /// the first one's place kept and the last one's value taken.
    #[test]
    fn repeats_in_a_large_object_keep_their_place() {
        let mut keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
        keys.insert(3, "k1".into());
        keys.push("k18".into());
        keys.push("k0".into());
        let members: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(n, k)| format!("\"{k}\":{n}"))
            .collect();
        let p = parse(format!("{{{}}}", members.join(",")).as_bytes()).unwrap();
        assert_eq!(p.duplicate_keys, ["/k1", "/k18", "/k0"]);
        let got: Vec<(&str, i64)> = p
            .value
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_i64().unwrap()))
            .collect();
        assert_eq!(got.len(), 20);
        assert_eq!(&got[..3], [("k0", 22), ("k1", 3), ("k2", 2)]);
        assert_eq!(got[18], ("k18", 21));
    }

    #[test]
    fn number_tokens_keep_their_text_and_integers_stay_exact() {
        let p = parse(
            br#"{"workNo":101.0,"loginDate":4.294967295E12,"n":[-1.5e-3 , 2],"big":18446744073709551615,"neg":-9223372036854775808,"odd":9007199254740993,"wide":18446744073709551616}"#,
        )
        .unwrap();
        assert_eq!(
            p.float_tokens,
            [
                token("/workNo", "101.0"),
                token("/loginDate", "4.294967295E12"),
                token("/n/0", "-1.5e-3"),
                token("/wide", "18446744073709551616"),
            ]
        );
        assert_eq!(p.value["big"].as_u64(), Some(u64::MAX));
        assert_eq!(p.value["neg"].as_i64(), Some(i64::MIN));
        assert_eq!(p.value["odd"].as_u64(), Some(9_007_199_254_740_993));
        assert!(!p.float_tokens[3].has_fraction_or_exponent());
        // `-0` is an integer token; `-0.0` is not.
        let p = parse(b"[-0,-0.0]").unwrap();
        assert_eq!(p.value[0].as_i64(), Some(0));
        assert_eq!(p.float_tokens, [token("/1", "-0.0")]);
        // A token at the very start or end of the body.
        assert_eq!(parse(b"1E2").unwrap().float_tokens, [token("", "1E2")]);
        assert_eq!(parse(b"[0.5]").unwrap().float_tokens, [token("/0", "0.5")]);
    }

    #[test]
    fn broken_or_deep_bodies_are_errors_not_panics() {
        for bad in [
            &b""[..],
            b"{\"a\":1,}",
            b"{\"a\":1} x",
            b"{\"a\":",
            b"[1.0-]",
            b"1e999",
            b"\"\xff\"",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        let e = parse(deep.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("recursion limit"), "{e}");
        let ok = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(ok.as_bytes()).is_ok());
    }
}
