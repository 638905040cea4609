//! The embedded reference target: the `cms-sim` simulator (crates/sim)
//! behind [`Embedded`], so the engine itself knows no simulator. Used by the
//! CLI, the `cargo test` harness, the tests and the benchmark when no real
//! CMS is configured.

use crate::auth::Credentials;
use crate::session::{BoxFuture, Embedded, EmbeddedStart, Running};
use cms_sim::{SimConfig, Simulator};
use std::sync::Arc;

pub use cms_sim::{Fault, Variant};

/// The simulator, with what the run may ask of it beyond the contract's
/// options: a fault, a variant, another release, churn.
#[derive(Debug, Clone, Default)]
pub struct Simulated {
    /// Commit this contract violation (detection self-checks).
    pub fault: Option<Fault>,
    /// Take this conforming latitude.
    pub variant: Option<Variant>,
    /// Serve this release instead of the one the run expects.
    pub release: Option<String>,
    /// Agents change state this often (per agent per second).
    pub churn: Option<f64>,
    /// Simulator options beyond the run's (`endpoint.name` or `name`).
    pub options: Vec<(String, String)>,
}

/// The plain simulator, as an [`Embedded`].
pub fn simulator() -> Arc<dyn Embedded> {
    Arc::new(Simulated::default())
}

impl Simulated {
    /// This configuration as an [`Embedded`].
    pub fn shared(self) -> Arc<dyn Embedded> {
        Arc::new(self)
    }

    /// The simulator configuration for `start`.
    pub fn config(&self, start: &EmbeddedStart) -> SimConfig {
        let known = cms_sim::options();
        let mut cfg = SimConfig {
            credentials: start.credentials.clone(),
            fault: self.fault,
            variant: self.variant,
            churn: self.churn,
            ..SimConfig::default()
        };
        if let Some(r) = self.release.clone().or_else(|| start.release.clone()) {
            cfg.release = r;
        }
        // The run's option values, where the simulator serves that value:
        // it then behaves as the run expects (a flat body, status 9, ...).
        for (key, value) in &start.options {
            let (endpoint, name) = key.split_once('.').unwrap_or(("", key));
            let served = known.iter().any(|o| {
                o.endpoint == endpoint && o.name == name && o.values.contains(&value.as_str())
            });
            if served {
                cfg.options.insert(key.clone(), value.clone());
            }
        }
        for (k, v) in &self.options {
            cfg.options.insert(k.clone(), v.clone());
        }
        cfg
    }
}

struct Started(Simulator);

impl Running for Started {
    fn base_url(&self) -> String {
        self.0.base_url()
    }
}

impl Embedded for Simulated {
    fn name(&self) -> String {
        let mut name = "embedded simulator".to_owned();
        for (what, v) in [
            ("release", self.release.clone()),
            ("fault", self.fault.map(|f| f.name().to_owned())),
            ("variant", self.variant.map(|v| v.name().to_owned())),
            ("churn", self.churn.map(|c| format!("{c}/s"))),
        ] {
            if let Some(v) = v {
                name.push_str(&format!(" {what}={v}"));
            }
        }
        name
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(cms_sim::DEFAULT_AK, cms_sim::DEFAULT_SK)
    }

    fn vars(&self) -> Vec<(String, String)> {
        cms_sim::reference_vars()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    }

    fn start(&self, start: EmbeddedStart) -> BoxFuture<std::io::Result<Box<dyn Running>>> {
        let cfg = self.config(&start);
        Box::pin(async move {
            cfg.validate().map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
            })?;
            let sim = Simulator::start(cfg).await?;
            Ok(Box::new(Started(sim)) as Box<dyn Running>)
        })
    }
}
