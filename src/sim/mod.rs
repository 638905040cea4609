//! The embedded reference CC-CMS simulator for `agentbyworkno`.
//!
//! A deterministic, conforming CC-CMS for [`crate::contract::ENDPOINT_PATH`]
//! only, with switchable single-violation [`Fault`]s (to prove the harness
//! catches each) and conforming [`Variant`]s (to prove it does not flag
//! allowed latitude). All behaviour lives in the pure [`respond`]; the
//! [`Simulator`] server only moves bytes between hyper and it.
//!
//! - `data`: the fixed agent population ([`agent`], [`known_agents`]).
//! - `fault`: the [`Fault`] and [`Variant`] catalogues.
//! - `respond`: request checks, in the order the contract lists them.
//! - `render`: envelopes, fault and variant rewriting, serialisation.
//! - `server`: the hyper 1 HTTP/1.1 server, over plain TCP or TLS.
//! - [`tls`]: throwaway CA, server and client certificates
//!   ([`tls::generate`]) and the [`TlsServerConfig`] for
//!   [`Simulator::start_tls`].

mod data;
mod fault;
mod render;
mod respond;
mod server;
pub mod tls;

pub use data::{agent, known_agents, CC_ID};
pub use fault::{Fault, Variant};
pub use respond::{respond, MAX_BODY_BYTES};
pub use server::Simulator;
pub use tls::{ClientAuth, TestPki, TlsServerConfig, TlsSetupError};

use crate::auth::Credentials;
use crate::contract::{BodyShape, Release, Status9};
use std::time::Duration;

/// Access key the simulator accepts by default.
pub const DEFAULT_AK: &str = "cms-contract-ak";
/// Secret key the simulator accepts by default.
pub const DEFAULT_SK: &str = "cms-contract-sk";
/// Default clock-skew window, in seconds (open question 3; the vendor's other
/// products allow 15 minutes).
pub const DEFAULT_SKEW_SECS: u64 = 900;
/// Default time a client has to send a request head, once it has started one.
pub const DEFAULT_HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a client has to send a request body, once the head is in.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// How the simulator behaves: credentials, open-question choices and at most
/// one fault and one variant.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The one AK/SK pair accepted.
    pub credentials: Credentials,
    /// Allowed distance between the signature timestamp and the server clock.
    pub skew_secs: u64,
    /// A single contract violation to commit, if any.
    pub fault: Option<Fault>,
    /// A conforming latitude to take, if any.
    pub variant: Option<Variant>,
    /// Open question 1: how the request body carries the Table 2 fields.
    pub body_shape: BodyShape,
    /// Open question 5: whether agent 120 in VDN 1 is in status 9 (pre-rest).
    pub status9: Status9,
    /// The release served (spec "Versions"): 2025-11 widens agentId, 8.13
    /// answers the legacy form on the main endpoint too. The legacy twin
    /// endpoint always answers the legacy form.
    pub release: Release,
    /// How long a client may take to send a whole request head; a slower
    /// one is disconnected, so a dribbling client cannot hold a connection.
    pub head_timeout: Duration,
    /// How long a client may take to send the body after the head; a slower
    /// one is answered 408 and disconnected.
    pub body_timeout: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            credentials: Credentials::new(DEFAULT_AK, DEFAULT_SK),
            skew_secs: DEFAULT_SKEW_SECS,
            fault: None,
            variant: None,
            body_shape: BodyShape::Wrapped,
            status9: Status9::Rejected,
            release: Release::default(),
            head_timeout: DEFAULT_HEAD_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

/// One HTTP request, as the simulator sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimRequest {
    /// Method as sent, e.g. `POST`.
    pub method: String,
    /// URL path without the query.
    pub path: String,
    /// Percent-decoded query pairs, in URL order.
    pub query: Vec<(String, String)>,
    /// Header names and values, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl SimRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP response from [`respond`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimResponse {
    /// HTTP status code.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl SimResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests;
