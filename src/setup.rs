//! From flags, a profile and the environment to a ready [`Runner`]: the one
//! place that decides the target (a real CMS or the embedded simulator), the
//! variables, the credentials and the schema options. Used by the CLI and by
//! the `cargo test` harness alike.

use crate::auth::Credentials;
use crate::case::{LoadError, Vars};
use crate::contract::Release;
use crate::profile::Profile;
use crate::run::{ClientError, Runner};
use crate::schema::{SchemaCatalog, SchemaError};
use crate::sim::{Fault, SimConfig, Simulator, Variant, DEFAULT_AK, DEFAULT_SK};
use crate::target::Target;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Settings given on the command line (or by the harness).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--target URL`; falls back to `CMS_BASE_URL`, then the profile, then
    /// the embedded simulator.
    pub target: Option<String>,
    /// `--profile FILE`; falls back to `CMS_PROFILE`.
    pub profile: Option<PathBuf>,
    /// `--var name=value`, in order.
    pub vars: Vec<String>,
    /// `--cacert FILE`.
    pub cacert: Option<PathBuf>,
    /// `--cert FILE`.
    pub client_cert: Option<PathBuf>,
    /// `--key FILE`.
    pub client_key: Option<PathBuf>,
    /// `--insecure`.
    pub insecure: bool,
    /// `--timeout SECS`.
    pub timeout: Option<Duration>,
    /// `--rate N`.
    pub rate: Option<f64>,
    /// `--retries N`.
    pub retries: Option<u32>,
    /// `--max-response-bytes N`.
    pub max_response_bytes: Option<usize>,
    /// A fault for the embedded simulator (self-checks).
    pub sim_fault: Option<Fault>,
    /// A conforming variant for the embedded simulator.
    pub sim_variant: Option<Variant>,
    /// `--release`: the release the suite expects.
    pub release: Option<Release>,
    /// The release the embedded simulator serves (default: the expected one).
    pub sim_release: Option<Release>,
}

/// What a run will talk to and with which values.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The target (base URL filled in once the simulator is up).
    pub target: Target,
    /// Variables for the case files.
    pub vars: Vars,
    /// Tags the profile excludes.
    pub exclude_tags: Vec<String>,
    /// `jobs` from the profile.
    pub jobs: Option<usize>,
    /// `Some` when the embedded simulator is the target.
    pub embedded: Option<SimConfig>,
    /// Things the user should know (e.g. `--insecure`).
    pub notices: Vec<String>,
    /// The release the suite expects (profile `release`, `--release`).
    pub release: Release,
}

/// Why a run could not be set up (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The profile is invalid.
    #[error("{}", .0.render())]
    Profile(LoadError),
    /// A `--var` or environment value is invalid.
    #[error("error: {0}")]
    Config(String),
    /// The schemas could not be loaded.
    #[error("error: {0}")]
    Schema(#[from] SchemaError),
    /// The HTTP client could not be built.
    #[error("error: {0}")]
    Client(#[from] ClientError),
    /// The embedded simulator could not start.
    #[error("error: cannot start the embedded simulator: {0}")]
    Simulator(std::io::Error),
}

/// The whole-run limit when none is given (`--run-timeout`): unfinished
/// cases fail instead of hanging a CI job.
pub const DEFAULT_RUN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Variables the embedded simulator's reference data satisfies. A real
/// target gets its variables from its profile, `--var` or `CMS_VAR_*`.
pub const REFERENCE_VARS: [(&str, &str); 5] = [
    ("ccId", "1"),
    ("vdn", "1"),
    ("agentId", "101"),
    ("known_agents", "101..=120, 59999"),
    ("unknown_agent", "555"),
];

/// A snapshot of the environment variables a run reads.
pub type Env = std::collections::BTreeMap<String, String>;

/// The process environment (`CMS_*` variables only).
pub fn process_env() -> Env {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("CMS_"))
        .collect()
}

/// Decide the target and variables from `opts` and `env_vars`.
pub fn plan(opts: &Options, env_vars: &Env) -> Result<Plan, SetupError> {
    let env = |k: &str| env_vars.get(k).cloned();
    let profile_path = opts
        .profile
        .clone()
        .or_else(|| env("CMS_PROFILE").map(PathBuf::from));
    let profile = profile_path
        .as_deref()
        .map(Profile::load)
        .transpose()
        .map_err(SetupError::Profile)?;
    let url = opts
        .target
        .clone()
        .or_else(|| env("CMS_BASE_URL").filter(|s| !s.is_empty()))
        .or_else(|| profile.as_ref().and_then(|p| p.base_url.clone()));
    if let Some(u) = &url {
        Target::check_base_url(u).map_err(|e| SetupError::Config(format!("target: {e}")))?;
    }
    let mut target = Target::new(url.clone().unwrap_or_default());
    let mut vars = Vars::new();
    // Defaults first, so a profile, --var or CMS_VAR_* can override them.
    let release = opts
        .release
        .or(profile.as_ref().and_then(|p| p.release))
        .unwrap_or_default();
    vars.set("release", release.name(), "release");
    vars.set("endpoint", release.endpoint(), "release");
    if url.is_none() {
        for (k, v) in REFERENCE_VARS {
            vars.set(k, v, "simulator");
        }
    }
    if let Some(p) = &profile {
        p.apply(&mut target);
        if let Some(u) = &url {
            target.base_url = u.trim_end_matches('/').to_string();
        }
        p.add_vars(&mut vars);
    }
    if let Some(c) = &opts.cacert {
        target.tls.cacert = Some(c.clone());
    }
    if let Some(c) = &opts.client_cert {
        target.tls.client_cert = Some(c.clone());
    }
    if let Some(k) = &opts.client_key {
        target.tls.client_key = Some(k.clone());
    }
    target.tls.insecure |= opts.insecure;
    if let Some(t) = opts.timeout {
        target.timeout = t;
    }
    if opts.rate.is_some() {
        target.rate_per_sec = opts.rate;
    }
    if let Some(r) = opts.retries {
        target.connect_retries = r;
    }
    if let Some(m) = opts.max_response_bytes {
        target.max_response_bytes = m;
    }
    vars.set_from_env(env_vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    for pair in &opts.vars {
        vars.set_pair(pair).map_err(SetupError::Config)?;
    }
    let ak = env("CMS_AK").filter(|s| !s.is_empty());
    let sk = env("CMS_SK").filter(|s| !s.is_empty());
    let credentials = match (ak, sk) {
        (Some(ak), Some(sk)) => Some(Credentials::new(ak, sk)),
        (None, None) => None,
        _ => {
            return Err(SetupError::Config(
                "only one of CMS_AK and CMS_SK is set; set both (or neither, for the embedded simulator)".into(),
            ))
        }
    };
    let mut notices = Vec::new();
    if target.tls.insecure {
        notices.push(
            "warning: --insecure: TLS certificates are NOT verified; use --cacert FILE for a private CA instead".into(),
        );
    }
    let embedded = if url.is_none() {
        let creds = credentials
            .clone()
            .unwrap_or_else(|| Credentials::new(DEFAULT_AK, DEFAULT_SK));
        target.credentials = Some(creds.clone());
        Some(SimConfig {
            credentials: creds,
            fault: opts.sim_fault,
            variant: opts.sim_variant,
            // The profile's open-question choices are agentbyworkno's.
            options: [
                ("agentbyworkno.body_shape", target.body_shape.as_str()),
                ("agentbyworkno.status9", target.status9.as_str()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            release: opts.sim_release.unwrap_or(release).name().to_owned(),
            ..SimConfig::default()
        })
    } else {
        target.credentials = credentials;
        None
    };
    Ok(Plan {
        target,
        vars,
        exclude_tags: profile
            .as_ref()
            .map(|p| p.exclude_tags.clone())
            .unwrap_or_default(),
        jobs: profile.as_ref().and_then(|p| p.jobs),
        embedded,
        notices,
        release,
    })
}

/// A started run: the runner and, if it is the target, the simulator.
pub struct Live {
    /// The runner.
    pub runner: Runner,
    /// The embedded simulator, kept alive for the run.
    pub simulator: Option<Simulator>,
}

/// Start the simulator if needed and build the runner. Must run inside a
/// tokio runtime.
pub async fn start(mut plan: Plan, schemas: Arc<SchemaCatalog>) -> Result<Live, SetupError> {
    let simulator = match plan.embedded.take() {
        Some(cfg) => {
            let sim = Simulator::start(cfg).await.map_err(SetupError::Simulator)?;
            plan.target.base_url = sim.base_url();
            Some(sim)
        }
        None => None,
    };
    if plan.target.credentials.is_none() {
        return Err(SetupError::Config(format!(
            "target {} needs credentials: set CMS_AK and CMS_SK (secrets come only from the environment)",
            plan.target.base_url
        )));
    }
    let runner = Runner::new(plan.target, schemas)?;
    Ok(Live { runner, simulator })
}

/// Load the schemas a plan needs: every release's set, compiled once per process.
pub fn schemas(dir: &std::path::Path, plan: &Plan) -> Result<Arc<SchemaCatalog>, SetupError> {
    Ok(Arc::new(SchemaCatalog::shared(dir, plan.target.status9)?))
}
