//! Checks: one file per assertion kind, each a pure function from the reply
//! (and the case) to a list of [`Failure`](crate::result::Failure)s. Checks
//! read the contract's data; they name no endpoint.

pub mod body;
pub(crate) mod content_type;
pub(crate) mod invariant;
pub(crate) mod rejected;
pub(crate) mod schema;
pub(crate) mod snapshot;
pub(crate) mod status;
pub(crate) mod wire;

/// Append a JSON-pointer token, escaping `~` and `/` (RFC 6901).
pub fn pointer_push(base: &str, token: &str) -> String {
    let mut p = String::with_capacity(base.len() + 1 + token.len());
    p.push_str(base);
    p.push('/');
    for c in token.chars() {
        match c {
            '~' => p.push_str("~0"),
            '/' => p.push_str("~1"),
            c => p.push(c),
        }
    }
    p
}

#[cfg(test)]
mod tests {
    /// `~` and `/` are escaped, in that order's sense: `~1` in a key stays
    /// a key's `~1`, not a `/`.
    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(super::pointer_push("", "a"), "/a");
        assert_eq!(super::pointer_push("/a", "b/c~1é"), "/a/b~1c~01é");
        let doc = serde_json::json!({"b/c~1é": 1});
        assert_eq!(
            doc.pointer(&super::pointer_push("", "b/c~1é")),
            Some(&serde_json::json!(1))
        );
    }
}
