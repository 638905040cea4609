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
    format!("{base}/{}", token.replace('~', "~0").replace('/', "~1"))
}
