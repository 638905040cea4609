//! Checks: one file per assertion kind, each a pure function from the reply
//! (and the case) to a list of [`Failure`](crate::result::Failure)s. Checks
//! read the contract's data; they name no endpoint.

pub mod body;
pub mod content_type;
pub mod invariant;
pub mod rejected;
pub mod schema;
pub mod snapshot;
pub mod status;
pub mod wire;

/// Append a JSON-pointer token, escaping `~` and `/` (RFC 6901).
pub fn pointer_push(base: &str, token: &str) -> String {
    format!("{base}/{}", token.replace('~', "~0").replace('/', "~1"))
}
