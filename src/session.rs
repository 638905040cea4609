//! The session: the one way every front end (CLI commands, the `cargo test`
//! harness, tests, the benchmark) goes from settings to a running
//! [`Runner`]. [`Session::prepare`] reads the profile, the environment and
//! the flags into [`Settings`], loads the contracts, checks the options,
//! decides the target and the variables; [`Session::load`] builds the cases;
//! [`Session::start`] starts the embedded reference target when there is no
//! real one and returns the runner.
//!
//! The session knows no simulator: a front end that wants one passes an
//! [`Embedded`] (the CLI and harness pass the `cms-sim` one).

use crate::auth::Credentials;
use crate::case::{
    load_paths_with_warnings, AuthMode, Body, Case, CaseSet, Expect, LoadErrors, LoadOptions,
    LoadWarning, Request, Vars,
};
use crate::contract::{load_all, ContractSet, OptionValues};
use crate::location::Location;
pub use crate::result::RunInfo;
use crate::run::{ClientError, PlannedProbe, ProbeAnswer, ProbePlan, Runner};
use crate::schema::SchemaCatalog;
use crate::settings::{profile, Env, Layer, Settings};
use crate::target::{Target, Tls};
use serde_json::Value;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

/// A reference target started in-process when no real one is configured.
pub trait Embedded: Send + Sync {
    /// How reports name it, e.g. `embedded simulator`.
    fn name(&self) -> String;
    /// The AK/SK it accepts when `CMS_AK`/`CMS_SK` are not set.
    fn credentials(&self) -> Credentials;
    /// Variables its reference data satisfies (a profile, `CMS_VAR_*` or
    /// `--var` may still override them).
    fn vars(&self) -> Vec<(String, String)>;
    /// Start it on loopback, serving `start`'s release and options.
    fn start(&self, start: EmbeddedStart) -> BoxFuture<std::io::Result<Box<dyn Running>>>;
}

/// A boxed future, for the object-safe [`Embedded::start`].
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What an embedded target is asked to be.
#[derive(Debug, Clone)]
pub struct EmbeddedStart {
    /// The AK/SK to accept.
    pub credentials: Credentials,
    /// The release the run expects (`None`: defaults).
    pub release: Option<String>,
    /// The option values the run checks against, `contract.option` = value.
    pub options: Vec<(String, String)>,
}

/// A started embedded target; dropping it stops it.
pub trait Running: Send + Sync {
    /// `http://127.0.0.1:PORT`.
    fn base_url(&self) -> String;
}

/// How a front end prepares a session.
#[derive(Default)]
pub struct SessionOptions {
    /// Settings given as flags (the strongest source).
    pub flags: Layer,
    /// The folder of contract folders (`--schemas`); default `schemas/`.
    pub schemas: Option<PathBuf>,
    /// The reference target to start when no real one is configured.
    pub embedded: Option<Arc<dyn Embedded>>,
    /// Use `embedded` even when the profile or `CMS_BASE_URL` names a
    /// target (a `compare` side written `sim`), with its variables: the
    /// profile's and `CMS_VAR_*` ones describe that target and are
    /// ignored; only the flags' override them.
    pub force_embedded: bool,
}

/// Why a session could not be prepared or started (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A file (profile, manifest) is invalid: rendered, located errors.
    #[error("{}", .0.render())]
    Load(LoadErrors),
    /// A setting is invalid.
    #[error("{}", .0.iter().map(|e| format!("error: {e}")).collect::<Vec<_>>().join("\n"))]
    Config(Vec<String>),
    /// The HTTP client could not be built.
    #[error("error: {0}")]
    Client(#[from] ClientError),
    /// The embedded target could not start.
    #[error("error: cannot start the embedded target: {0}")]
    Embedded(std::io::Error),
}

impl SetupError {
    fn config(message: impl Into<String>) -> Self {
        SetupError::Config(vec![message.into()])
    }
}

/// A prepared run: settings, contracts, schemas, variables, target.
pub struct Session {
    /// Every setting, merged and defaulted.
    pub settings: Settings,
    /// The contracts and their schemas, with the option values.
    pub catalog: Arc<SchemaCatalog>,
    /// Variables for the cases.
    pub vars: Vars,
    /// AK/SK to sign with.
    pub credentials: Option<Credentials>,
    /// What the user should know before the run (e.g. `--insecure`), one line each.
    pub notices: Vec<String>,
    embedded: Option<Arc<dyn Embedded>>,
}

impl Session {
    /// Merge profile < environment < flags, load the contracts under the
    /// schema folder, check the options, and decide target and variables.
    /// Sends nothing.
    pub fn prepare(opts: SessionOptions, env: &Env) -> Result<Session, SetupError> {
        let (from_env, warnings) = Layer::from_env(env);
        let from_env = from_env.map_err(SetupError::Config)?;
        let profile_path = opts.flags.profile.clone().or(from_env.profile.clone());
        let from_profile = match &profile_path {
            Some(p) => profile::load(p).map_err(|e| SetupError::Load(LoadErrors(vec![e])))?,
            None => Layer::default(),
        };
        // A `sim` side keeps the simulator's variables: the profile's and
        // CMS_VAR_*'s describe the real target; only --var overrides them.
        let flag_vars = opts.flags.vars.clone();
        let mut settings = Settings::from_layer(from_profile.merged(from_env).merged(opts.flags));
        settings.profile = profile_path;
        if opts.force_embedded {
            settings.target = None;
        }
        let schemas = opts.schemas.unwrap_or_else(|| PathBuf::from("schemas"));
        let contracts = Arc::new(ContractSet::new(
            load_all(&schemas).map_err(SetupError::Load)?,
        ));
        let options =
            OptionValues::resolve(&contracts, &settings.options).map_err(SetupError::Config)?;
        if let Some(r) = &settings.release {
            if !contracts.iter().any(|c| c.release(r).is_some()) {
                let known: Vec<String> = contracts
                    .iter()
                    .map(|c| format!("{}: {}", c.name, c.release_names().join(", ")))
                    .collect();
                return Err(SetupError::config(format!(
                    "no contract documents release `{r}` ({})",
                    known.join("; ")
                )));
            }
        }
        let catalog = Arc::new(SchemaCatalog::new(contracts, options));
        let embedded = match &settings.target {
            Some(_) => None,
            None => Some(opts.embedded.ok_or_else(|| {
                SetupError::config(
                    "no target: give --target URL, CMS_BASE_URL or a profile's base_url",
                )
            })?),
        };
        let credentials = credentials(env, embedded.as_deref())?;
        let mut vars = Vars::new();
        if let Some(e) = &embedded {
            for (k, v) in e.vars() {
                vars.set(&k, &v, "simulator");
            }
        }
        let given = if opts.force_embedded {
            &flag_vars
        } else {
            &settings.vars
        };
        for (k, v) in given {
            vars.set(k, v, "settings");
        }
        let mut notices = warnings;
        if settings.insecure {
            notices.push(
                "warning: --insecure: TLS certificates are NOT verified; use --cacert FILE for a private CA instead".into(),
            );
        }
        for (what, path) in [
            ("CA certificate", &settings.cacert),
            ("client certificate", &settings.client_cert),
            ("client key", &settings.client_key),
        ] {
            if let Some(p) = path {
                if !p.is_file() {
                    return Err(SetupError::config(format!(
                        "the {what} `{}` is not a readable file",
                        p.display()
                    )));
                }
            }
        }
        Ok(Session {
            settings,
            catalog,
            vars,
            credentials,
            notices,
            embedded,
        })
    }

    /// Whether the run goes to the embedded reference target.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// The option values the run checks against.
    pub fn options(&self) -> &OptionValues {
        self.catalog.options()
    }

    /// What reports say about the run.
    pub fn run_info(&self) -> RunInfo {
        RunInfo {
            target: match (&self.settings.target, &self.embedded) {
                (Some(u), _) => u.to_string(),
                (None, Some(e)) => e.name(),
                (None, None) => "no target".into(),
            },
            tls_verify: !self.settings.insecure,
            release: self.settings.release.clone(),
            options: self.options().pairs(),
            started: Some(std::time::SystemTime::now()),
        }
    }

    /// Load the cases under `paths` with the session's variables, contracts
    /// and release; `warnings` gets what was skipped.
    pub fn load(
        &self,
        paths: &[PathBuf],
        warnings: &mut Vec<LoadWarning>,
    ) -> Result<CaseSet, LoadErrors> {
        let opts = LoadOptions {
            vars: self.vars.clone(),
            catalog: Some(self.catalog.clone()),
            release: self.settings.release.clone(),
            default_contract: None,
            max_cases: self.settings.max_cases.get(),
        };
        load_paths_with_warnings(paths, &opts, warnings)
    }

    /// Whether `case` is selected by the tag settings (`tags`, `exclude_tags`).
    pub fn selects(&self, case: &Case) -> bool {
        let s = &self.settings;
        (s.tags.is_empty() || case.tags.iter().any(|t| s.tags.contains(t)))
            && !case.tags.iter().any(|t| s.exclude_tags.contains(t))
    }

    /// The target as the runner sees it (base URL `http://127.0.0.1:0` for
    /// the embedded one until it starts).
    pub fn target(&self) -> Target {
        let s = &self.settings;
        let mut t = Target::new(
            s.target
                .as_ref()
                .map_or_else(|| "http://127.0.0.1:0".to_owned(), |u| u.to_string()),
        );
        t.credentials = self.credentials.clone();
        t.signed_headers = s.signed_headers.names().to_vec();
        t.host = s.host.clone();
        t.timeout = s.timeout.get();
        t.connect_timeout = s.connect_timeout.get();
        t.max_response_bytes = s.max_response_bytes.get();
        t.rate_per_sec = s.rate.map(|r| r.per_sec());
        t.connect_retries = s.retries.get();
        t.stale_secs = s.stale_secs.get();
        t.tls = Tls {
            cacert: s.cacert.clone(),
            client_cert: s.client_cert.clone(),
            client_key: s.client_key.clone(),
            insecure: s.insecure,
        };
        t
    }

    /// Start the embedded target if it is the target, and build the runner.
    /// Must run inside a tokio runtime.
    pub async fn start(&self) -> Result<Live, SetupError> {
        let mut target = self.target();
        let running = match &self.embedded {
            None => None,
            Some(e) => {
                let creds = self.credentials.clone().unwrap_or_else(|| e.credentials());
                let running = e
                    .start(EmbeddedStart {
                        credentials: creds,
                        release: self.settings.release.clone(),
                        options: self.options().pairs(),
                    })
                    .await
                    .map_err(SetupError::Embedded)?;
                target.base_url = running.base_url();
                Some(running)
            }
        };
        if target.credentials.is_none() {
            return Err(SetupError::config(format!(
                "target {} needs credentials: set CMS_AK and CMS_SK (secrets come only from the environment)",
                target.base_url
            )));
        }
        let runner = Runner::new(target, self.catalog.clone(), self.probe_plan())?
            .with_deadline(Instant::now() + self.settings.run_timeout.get());
        Ok(Live {
            runner,
            _running: running,
        })
    }

    /// Each contract's probes: pinned by an option, or a request to send.
    fn probe_plan(&self) -> ProbePlan {
        let mut plan = ProbePlan::default();
        for c in self.catalog.contracts().iter() {
            let mut list = Vec::new();
            for p in &c.probes {
                let pinned = p
                    .option
                    .as_ref()
                    .and_then(|o| self.options().get(&c.name, o))
                    .filter(|v| *v != "any");
                let answer = match pinned {
                    Some(v) => ProbeAnswer::Pinned(Value::String(v.to_owned())),
                    None => match self.probe_case(c, p) {
                        Some(case) => ProbeAnswer::Ask(Box::new(case)),
                        // Variables the probe needs are not defined: no answer.
                        None => ProbeAnswer::Pinned(Value::Null),
                    },
                };
                list.push(PlannedProbe {
                    name: p.name.clone(),
                    answer,
                });
            }
            plan.by_contract.insert(c.name.clone(), list);
        }
        plan
    }

    /// The request of probe `p` of contract `c`, with variables expanded.
    fn probe_case(
        &self,
        c: &Arc<crate::contract::Contract>,
        p: &crate::contract::Probe,
    ) -> Option<Case> {
        let release = self
            .settings
            .release
            .as_deref()
            .and_then(|r| c.release(r))
            .unwrap_or_else(|| c.default_release())
            .clone();
        let Value::Object(query) = expand(&p.query, &self.vars, &p.source)? else {
            return None;
        };
        Some(Case {
            suite: c.name.clone(),
            name: format!("probe::{}", p.name),
            description: Some(p.cites.clone()),
            tags: vec![],
            source: p.source.clone(),
            contract: Some(c.clone()),
            release: Some(Arc::new(release.clone())),
            skip: None,
            request: Request {
                method: c.method.clone(),
                path: release.path.clone(),
                headers: vec![("Content-Type".into(), c.content_type.clone())],
                body: Body::Query(query),
                auth: AuthMode::Signed,
            },
            expect: Expect::nothing(p.source.clone()),
            flow: None,
        })
    }
}

/// `${vars}` expanded in every string of `v`; `None` if one is undefined.
fn expand(v: &Value, vars: &Vars, at: &Location) -> Option<Value> {
    use crate::case::Expanded;
    Some(match v {
        Value::String(s) => match vars.expand(s, at).ok()? {
            Expanded::Typed(t) => t,
            Expanded::Text(t) => Value::String(t),
        },
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| expand(x, vars, at))
                .collect::<Option<_>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| Some((k.clone(), expand(x, vars, at)?)))
                .collect::<Option<_>>()?,
        ),
        other => other.clone(),
    })
}

/// AK/SK from `CMS_AK` / `CMS_SK` (both or neither), else the embedded
/// target's.
fn credentials(
    env: &Env,
    embedded: Option<&dyn Embedded>,
) -> Result<Option<Credentials>, SetupError> {
    let get = |k: &str| env.get(k).filter(|s| !s.is_empty()).cloned();
    match (get("CMS_AK"), get("CMS_SK")) {
        (Some(ak), Some(sk)) => Ok(Some(Credentials::new(ak, sk))),
        (None, None) => Ok(embedded.map(Embedded::credentials)),
        _ => Err(SetupError::config(
            "only one of CMS_AK and CMS_SK is set; set both (or neither, for the embedded simulator)",
        )),
    }
}

/// A started run: the runner and, while it lives, the embedded target.
pub struct Live {
    /// The runner.
    pub runner: Runner,
    _running: Option<Box<dyn Running>>,
}

/// The crate root of a checkout: where `cases/` and `schemas/` are.
pub fn checkout_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
