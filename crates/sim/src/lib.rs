//! cms-sim: a reference implementation of four CC-CMS open API endpoints,
//! for contract tests that run offline.
//!
//! It knows nothing of the harness that tests it: it is written from the
//! contract notes alone, so a mistake in the harness's contract data cannot
//! hide in it. It serves the same agents on every endpoint ([`ENDPOINTS`]),
//! and can commit one contract violation at a time ([`Fault`], to prove a
//! harness catches it) or take one allowed latitude ([`Variant`], to prove a
//! harness does not flag it); open questions are [`options`].
//!
//! All behaviour lives in the pure [`respond`]; the [`Simulator`] server only
//! moves bytes between hyper and it.
//!
//! - `family`: what every CC-CMS open API shares: body cap, path dispatch,
//!   auth-v2, method, Content-Type, body shape, the envelope (current and
//!   8.13 legacy form), family-wide faults and variants, serialisation.
//! - `population`: the one agent population, static or churning.
//! - `endpoint`: one module per endpoint, each rendering its own view.
//! - `catalogue`: faults, variants and options.
//! - `server`: the hyper 1 HTTP/1.1 server, over plain TCP or TLS.
//! - [`tls`]: throwaway CA, server and client certificates.
#![warn(missing_docs)]

mod catalogue;
mod endpoint;
mod family;
mod population;
mod server;
pub mod tls;

pub use catalogue::{options, Fault, OptionInfo, Variant};
pub use family::{respond, respond_at, MAX_BODY_BYTES};
pub use server::Simulator;
pub use tls::{ClientAuth, PkiFiles, TestPki, TlsServerConfig, TlsSetupError};

use cms_auth_v2::Credentials;
use std::collections::BTreeMap;
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
/// The release served when none (or an unknown one) is given.
pub const DEFAULT_RELEASE: &str = "2024-08";
/// The releases the simulator can serve.
pub const RELEASES: [&str; 3] = ["2024-08", "2025-11", "8.13"];

/// Name of the "query agent details" endpoint.
pub const AGENTBYWORKNO: &str = "agentbyworkno";
/// Name of the "query agent information in batches" endpoint.
pub const BATCH: &str = "agentstatusinfobyagentids";
/// Name of the "count agents per state" endpoint.
pub const TEAM: &str = "teamagentstatusinfo";
/// Name of the "query all agents in a VDN" endpoint.
pub const VDN_LISTING: &str = "totalagentabstractex3";

/// Every endpoint served: `(name, path)`.
pub const ENDPOINTS: &[(&str, &str)] = &[
    (AGENTBYWORKNO, "/rest/cmsapp/v1/openapi/agent/agentbyworkno"),
    (
        BATCH,
        "/rest/cmsapp/v1/openapi/agentgroup/agentstatusinfobyagentids",
    ),
    (
        TEAM,
        "/rest/cmsapp/v1/openapi/agentgroup/teamagentstatusinfo",
    ),
    (
        VDN_LISTING,
        "/rest/cmsapp/v1/openapi/vdn/totalagentabstractex3",
    ),
];

/// Older twin paths that always answer the 8.13 legacy form: `(name, path)`.
pub const LEGACY_ENDPOINTS: &[(&str, &str)] = &[(
    AGENTBYWORKNO,
    "/rest/cmsapp/v1/openapi/agentgroup/agentbyworkno",
)];

/// The only call center (`ccId`) the simulator knows.
pub const CC_ID: i64 = population::CC_ID;

/// How the simulator behaves: credentials, release, open-question answers,
/// at most one fault and one variant, and whether agents change state.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The one AK/SK pair accepted.
    pub credentials: Credentials,
    /// Allowed distance between the signature timestamp and the server clock.
    pub skew_secs: u64,
    /// The release served: `"2024-08"` (default), `"2025-11"` (agentId also
    /// 70000-999999) or `"8.13"` (the legacy envelope on every path);
    /// anything else is served as 2024-08.
    pub release: String,
    /// Open-question answers: key `name` (every endpoint that has the
    /// option) or `endpoint.name` (that endpoint only, which wins); see
    /// [`options`]. A value the option does not have is served as its
    /// default; [`SimConfig::validate`] reports it.
    pub options: BTreeMap<String, String>,
    /// A single contract violation to commit, if any.
    pub fault: Option<Fault>,
    /// A conforming latitude to take, if any.
    pub variant: Option<Variant>,
    /// State changes per agent per second; `None`: a static population.
    pub churn: Option<f64>,
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
            release: DEFAULT_RELEASE.to_owned(),
            options: BTreeMap::new(),
            fault: None,
            variant: None,
            churn: None,
            head_timeout: DEFAULT_HEAD_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

/// Why a [`SimConfig`] cannot be served as written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An option key no endpoint has.
    #[error("unknown simulator option `{key}`; options: {known}")]
    UnknownOption {
        /// The key as given.
        key: String,
        /// Every valid key, comma-separated.
        known: String,
    },
    /// A value the option does not have.
    #[error("simulator option `{key}` cannot be `{value}`; values: {values}")]
    BadValue {
        /// The key as given.
        key: String,
        /// The value as given.
        value: String,
        /// The values it can have, comma-separated.
        values: String,
    },
    /// A churn rate that is not a positive finite number.
    #[error("churn must be a positive number of state changes per agent per second, not {0}")]
    BadChurn(f64),
}

impl SimConfig {
    /// The value in force for option `name` of `endpoint`: `endpoint.name`,
    /// else `name`, else the default. `None` when the endpoint has no such
    /// option.
    pub fn option(&self, endpoint: &str, name: &str) -> Option<&str> {
        let info = catalogue::OPTIONS
            .iter()
            .find(|o| o.endpoint == endpoint && o.name == name)?;
        let given = self
            .options
            .get(&format!("{endpoint}.{name}"))
            .or_else(|| self.options.get(name));
        Some(match given {
            Some(v) if info.values.contains(&v.as_str()) => v.as_str(),
            _ => info.default,
        })
    }

    /// Check every option key and value and the churn rate.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in &self.options {
            let matching: Vec<&OptionInfo> = catalogue::OPTIONS
                .iter()
                .filter(|o| match key.split_once('.') {
                    Some((endpoint, name)) => o.endpoint == endpoint && o.name == name,
                    None => o.name == key,
                })
                .collect();
            if matching.is_empty() {
                let mut known: Vec<String> = catalogue::OPTIONS
                    .iter()
                    .map(|o| format!("{}.{}", o.endpoint, o.name))
                    .collect();
                known.extend(catalogue::OPTIONS.iter().map(|o| o.name.to_owned()));
                known.sort();
                known.dedup();
                return Err(ConfigError::UnknownOption {
                    key: key.clone(),
                    known: known.join(", "),
                });
            }
            if let Some(o) = matching
                .iter()
                .find(|o| !o.values.contains(&value.as_str()))
            {
                return Err(ConfigError::BadValue {
                    key: key.clone(),
                    value: value.clone(),
                    values: o.values.join(", "),
                });
            }
        }
        match self.churn {
            Some(r) if !(r.is_finite() && r > 0.0) => Err(ConfigError::BadChurn(r)),
            _ => Ok(()),
        }
    }
}

/// The `${vars}` the shipped suites need, as the simulator's population
/// satisfies them: `(name, value)`.
pub fn reference_vars() -> Vec<(&'static str, String)> {
    let v = |name: &'static str, value: &str| (name, value.to_owned());
    vec![
        v("ccId", "1"),
        v("vdn", "1"),
        v("agentId", "101"),
        v("known_agents", "101..=120, 59999"),
        v("unknown_agent", "555"),
        v("vdn_count", "21"),
        v("unknown_vdn", "4"),
        v("batch_vdn", "170"),
        v("batch_agents", "1031..=1040, 1099"),
        v("batch_sample_ids", "1031, 1099"),
        v("batch_vdn_count", "11"),
        v("large_vdn", "40"),
        v("large_vdn_agents", "40000..=49999"),
        v("large_vdn_count", "10000"),
    ]
}

/// Every `(vdn, workNo)` that exists (all in call center [`CC_ID`]), sorted.
pub fn known_agents() -> Vec<(i64, i64)> {
    population::known_agents()
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

/// The release as served; unknown names are 2024-08.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Release {
    V2024_08,
    V2025_11,
    V8_13,
}

impl Release {
    pub(crate) fn of(cfg: &SimConfig) -> Release {
        match cfg.release.as_str() {
            "2025-11" => Release::V2025_11,
            "8.13" => Release::V8_13,
            _ => Release::V2024_08,
        }
    }

    /// The documented agentId ranges (Table 2; the 2025-11 revision adds a band).
    pub(crate) fn agent_id_ranges(self) -> &'static [(i64, i64)] {
        match self {
            Release::V2025_11 => &[(101, 59_999), (70_000, 999_999)],
            Release::V2024_08 | Release::V8_13 => &[(101, 59_999)],
        }
    }

    /// Whether every reply uses the legacy envelope (`result` + `resultDatas`).
    pub(crate) fn is_legacy(self) -> bool {
        self == Release::V8_13
    }
}

#[cfg(test)]
mod tests;
