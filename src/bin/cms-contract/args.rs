//! Flags shared by the commands. Every setting flag parses with the same
//! value type as the profile and the environment (`cms_contract::settings`),
//! so the three accept exactly the same values; the flags form the
//! strongest settings layer.

use crate::output::{printed, Printed};
use clap::Args;
use cms_contract::case::{Case, CaseSet, LoadWarning};
use cms_contract::embedded::{Fault, Simulated, Variant};
use cms_contract::session::{Session, SessionOptions};
use cms_contract::settings::{
    process_env, BaseUrl, Bytes, Jobs, Layer, MaxCases, Rate, Retries, Seconds, SignedHeaders,
};
use std::path::PathBuf;

/// Where the target is and how to talk to it.
#[derive(Args, Clone, Debug, Default)]
pub struct TargetArgs {
    /// Target base URL, e.g. https://cms-host:28080 [env: CMS_BASE_URL]
    #[arg(long, value_name = "URL")]
    pub target: Option<BaseUrl>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Settings every command that loads cases takes.
#[derive(Args, Clone, Debug, Default)]
pub struct CommonArgs {
    /// Target profile (YAML) [env: CMS_PROFILE]
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Set a variable: --var name=value (repeatable; also CMS_VAR_<name>)
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = pair)]
    pub vars: Vec<(String, String)>,
    /// Answer an open question: --option name=value or contract.name=value (repeatable; also CMS_OPTION_<name>)
    #[arg(long = "option", value_name = "NAME=VALUE", value_parser = pair)]
    pub options: Vec<(String, String)>,
    /// The release the target is expected to keep, e.g. 2025-11 or 8.13 [env: CMS_RELEASE]
    #[arg(long)]
    pub release: Option<String>,
    /// Folder of contract folders (manifest and JSON Schemas) [default: schemas, else the shipped ones]
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
    /// Most cases after `each:` and `generate:` expansion, for the whole run [default: 1000000]
    #[arg(long, value_name = "N")]
    pub max_cases: Option<MaxCases>,
}

/// How to reach the target safely.
#[derive(Args, Clone, Debug, Default)]
pub struct ConnectArgs {
    /// Per-request timeout in seconds [default: 10]
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<Seconds>,
    /// Whole-run timeout in seconds; unfinished cases fail [default: 1800]
    #[arg(long, value_name = "SECS")]
    pub run_timeout: Option<Seconds>,
    /// At most N requests per second (e.g. 5 or 5/s), for live contact centres
    #[arg(long, value_name = "N/s")]
    pub rate: Option<Rate>,
    /// Retries for connect errors only, with back-off [default: 0]
    #[arg(long, value_name = "N")]
    pub retries: Option<Retries>,
    /// Largest reply accepted, in bytes [default: 16777216]
    #[arg(long, value_name = "BYTES")]
    pub max_response_bytes: Option<Bytes>,
    /// Headers to sign, comma-separated: host, content-type, content-length [default: host]
    #[arg(long, value_name = "NAMES")]
    pub signed_headers: Option<SignedHeaders>,
    /// Host value to sign and send instead of the URL's (behind NSLB)
    #[arg(long, value_name = "HOST:PORT")]
    pub host: Option<String>,
    /// Extra trusted CA certificate (PEM)
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Client certificate (PEM; may also hold the key)
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Client key (PEM)
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Do not verify TLS certificates (prints a warning; said in every report)
    #[arg(long)]
    pub insecure: bool,
}

/// Which cases.
#[derive(Args, Clone, Debug, Default)]
pub struct SelectArgs {
    /// Case files or folders [default: cases, else the shipped suites]
    pub paths: Vec<PathBuf>,
    /// Only cases whose id contains this text (repeatable: any of them)
    #[arg(long)]
    pub filter: Vec<String>,
    /// Only cases with this tag (repeatable: any of them) [env: CMS_TAG]
    #[arg(long)]
    pub tag: Vec<String>,
    /// Leave out cases with this tag (repeatable) [env: CMS_EXCLUDE_TAG]
    #[arg(long)]
    pub exclude_tag: Vec<String>,
}

/// What the embedded simulator should do (self-checks).
#[derive(Args, Clone, Debug, Default)]
pub struct SimArgs {
    /// Embedded simulator only: commit this contract violation (see `serve --list-faults`)
    #[arg(long, value_name = "NAME", value_parser = fault)]
    pub sim_fault: Option<Fault>,
    /// Embedded simulator only: take this conforming latitude
    #[arg(long, value_name = "NAME", value_parser = variant)]
    pub sim_variant: Option<Variant>,
    /// Embedded simulator only: serve this release (default: the expected one)
    #[arg(long, value_name = "RELEASE")]
    pub sim_release: Option<String>,
    /// Embedded simulator only: agents change state this many times per second
    #[arg(long, value_name = "RATE")]
    pub sim_churn: Option<f64>,
}

impl SimArgs {
    /// Whether any simulator flag was given.
    pub fn any(&self) -> bool {
        self.sim_fault.is_some()
            || self.sim_variant.is_some()
            || self.sim_release.is_some()
            || self.sim_churn.is_some()
    }

    /// The simulator these flags ask for.
    pub fn simulated(&self) -> Simulated {
        Simulated {
            fault: self.sim_fault,
            variant: self.sim_variant,
            release: self.sim_release.clone(),
            churn: self.sim_churn,
            options: vec![],
        }
    }
}

/// `name=value`, with a variable-like name.
pub fn pair(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not name=value"))?;
    let ok = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if !ok {
        return Err(format!(
            "`{k}` is not a name (letters, digits, `_`, `-`, `.`)"
        ));
    }
    Ok((k.to_owned(), v.to_owned()))
}

/// A fault name, with a pointer to the list.
pub fn fault(s: &str) -> Result<Fault, String> {
    Fault::parse(s)
        .ok_or_else(|| format!("unknown fault `{s}`; see `cms-contract serve --list-faults`"))
}

/// A variant name, with a pointer to the list.
pub fn variant(s: &str) -> Result<Variant, String> {
    Variant::parse(s)
        .ok_or_else(|| format!("unknown variant `{s}`; see `cms-contract serve --list-faults`"))
}

impl CommonArgs {
    /// These flags as a settings layer.
    pub fn layer(&self) -> Layer {
        Layer {
            profile: self.profile.clone(),
            release: self.release.clone(),
            vars: self.vars.clone(),
            options: self.options.clone(),
            max_cases: self.max_cases,
            ..Layer::default()
        }
    }
}

impl ConnectArgs {
    /// Add these flags to `layer`.
    pub fn apply(&self, layer: &mut Layer) {
        layer.timeout = self.timeout;
        layer.run_timeout = self.run_timeout;
        layer.rate = self.rate;
        layer.retries = self.retries;
        layer.max_response_bytes = self.max_response_bytes;
        layer.signed_headers = self.signed_headers.clone();
        layer.host = self.host.clone();
        layer.cacert = self.cacert.clone();
        layer.client_cert = self.cert.clone();
        layer.client_key = self.key.clone();
        if self.insecure {
            layer.insecure = Some(true);
        }
    }
}

impl SelectArgs {
    /// Add the tag flags to `layer`.
    pub fn apply(&self, layer: &mut Layer) {
        layer.tags = self.tag.clone();
        layer.exclude_tags = self.exclude_tag.clone();
    }

    /// The case paths: those given, else `cases/`, else the shipped
    /// suites; and whether they are the shipped ones.
    pub fn paths(&self) -> anyhow::Result<(Vec<PathBuf>, bool)> {
        crate::shipped::cases(&self.paths).map_err(anyhow::Error::msg)
    }
}

/// Prepare a session from a flag layer.
pub fn session(
    flags: Layer,
    schemas: Option<PathBuf>,
    sim: Simulated,
    jobs: Option<Jobs>,
) -> Result<Session, Printed> {
    let mut flags = flags;
    flags.jobs = jobs;
    let schemas = crate::shipped::schemas(schemas).map_err(Printed)?;
    Session::prepare(
        SessionOptions {
            flags,
            schemas: Some(schemas),
            embedded: Some(sim.shared()),
            ..SessionOptions::default()
        },
        &process_env(),
    )
    .map_err(printed)
}

/// Load and select the cases: warnings on stderr, an empty selection an error.
/// Every selected case is built (see [`load`] and [`selects`] to stream).
pub fn cases(session: &Session, select: &SelectArgs) -> anyhow::Result<CaseSet> {
    let set = load(session, select)?;
    let selected = set
        .retain(|c: &Case| selects(session, select, c))
        .map_err(|e| Printed(e.render()))?;
    if selected.is_empty() {
        return Err(nothing_selected(session, select));
    }
    Ok(selected)
}

/// Load the cases, `each:` ranges left lazy: warnings on stderr.
pub fn load(session: &Session, select: &SelectArgs) -> anyhow::Result<CaseSet> {
    let mut warnings: Vec<LoadWarning> = Vec::new();
    let (paths, _) = select.paths()?;
    let loaded = session.load(&paths, &mut warnings);
    for w in &warnings {
        crate::output::note!("{w}");
    }
    Ok(loaded.map_err(|e| Printed(e.render()))?)
}

/// Whether the run selects `c`: the session's tags and the `--filter`s.
pub fn selects(session: &Session, select: &SelectArgs, c: &Case) -> bool {
    session.selects(c)
        && (select.filter.is_empty() || select.filter.iter().any(|f| c.id().contains(f.as_str())))
}

/// The error for a selection with no case in it.
pub fn nothing_selected(session: &Session, select: &SelectArgs) -> anyhow::Error {
    anyhow::anyhow!(
        "error: no case matches the selection (--filter {:?}, tags {:?}, excluded tags {:?}); an empty run is a failure",
        select.filter,
        session.settings.tags,
        session.settings.exclude_tags
    )
}
