//! `sign`: the auth-v2 Authorization header for one request, to debug a
//! deployment that refuses the harness's signatures. The signed headers are
//! validated like the profile's; the Host is signed exactly as given.

use crate::output::{note, stdout};
use anyhow::Context;
use clap::Args;
use cms_contract::auth::{Credentials, Timestamp};
use cms_contract::settings::SignedHeaders;
use cms_contract::target::Target;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct SignArgs {
    /// HTTP method
    #[arg(long, default_value = "POST")]
    method: String,
    /// Path (and ?query), e.g. /rest/cmsapp/v1/openapi/agent/agentbyworkno
    #[arg(long, required_unless_present = "contract")]
    path: Option<String>,
    /// Take the path from this contract's release instead of --path
    #[arg(long, conflicts_with = "path")]
    contract: Option<String>,
    /// With --contract: the release whose path to sign [default: the contract's first]
    #[arg(long, requires = "contract")]
    release: Option<String>,
    /// With --contract: the folder of contract folders [default: schemas]
    #[arg(long, value_name = "DIR", requires = "contract")]
    schemas: Option<PathBuf>,
    /// Body text
    #[arg(long, default_value = "", conflicts_with = "body_file")]
    body: String,
    /// Read the body from FILE (its exact bytes)
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// Host value to sign, exactly as the server will see it (host:port)
    #[arg(long)]
    host: String,
    /// Headers to sign, comma-separated: host, content-type, content-length
    #[arg(long, default_value = "host")]
    signed_headers: SignedHeaders,
    /// Content-Type value, when signed [default: what the harness sends]
    #[arg(long, default_value = "application/json; charset=UTF-8")]
    content_type: String,
    /// Timestamp YYYY-MM-DDTHH:MM:SSZ [default: now]
    #[arg(long)]
    timestamp: Option<String>,
    /// Also print the canonical request that was signed (it holds no secret)
    #[arg(long)]
    verbose: bool,
}

pub fn sign(a: SignArgs) -> anyhow::Result<ExitCode> {
    let (Ok(ak), Ok(sk)) = (std::env::var("CMS_AK"), std::env::var("CMS_SK")) else {
        anyhow::bail!("error: set CMS_AK and CMS_SK (secrets come only from the environment)");
    };
    let path = match (&a.path, &a.contract) {
        (Some(p), _) => p.clone(),
        (None, Some(name)) => contract_path(&a, name)?,
        (None, None) => unreachable!("clap requires --path or --contract"),
    };
    if !path.starts_with('/') {
        anyhow::bail!("error: --path `{path}` must start with `/`");
    }
    let body = match &a.body_file {
        Some(file) => std::fs::read(file)
            .with_context(|| format!("cannot read body file {}", file.display()))?,
        None => a.body.clone().into_bytes(),
    };
    let ts = match &a.timestamp {
        Some(t) => Timestamp::parse(t).ok_or_else(|| {
            anyhow::anyhow!("error: --timestamp `{t}` is not YYYY-MM-DDTHH:MM:SSZ")
        })?,
        None => Timestamp::now(),
    };
    // The target only carries the host: signed exactly as given, never
    // normalised (a server behind NSLB sees what the client sends).
    let mut target = Target::new(format!("https://{}", a.host));
    target.host = Some(a.host.clone());
    target.signed_headers = a.signed_headers.names().to_vec();
    let headers = vec![("Content-Type".to_string(), a.content_type.clone())];
    let (value, canonical) = cms_contract::run::request::sign_explained(
        &Credentials::new(ak, sk),
        ts,
        &target,
        &a.method,
        &path,
        &headers,
        &body,
    );
    let mut out = stdout();
    if a.verbose {
        note!("canonical request (each line shown with ⏎ at its end):");
        for line in canonical.split('\n') {
            note!("  {line}⏎");
        }
    }
    writeln!(out, "Authorization: {value}")?;
    Ok(ExitCode::SUCCESS)
}

/// The path of `release` (or the first release) of contract `name`.
fn contract_path(a: &SignArgs, name: &str) -> anyhow::Result<String> {
    let dir = crate::shipped::schemas(a.schemas.clone())
        .map_err(crate::output::Printed)?
        .join(name);
    let c = cms_contract::contract::load_contract(&dir)
        .map_err(|e| crate::output::Printed(e.render()))?;
    let r = match &a.release {
        Some(r) => c.release(r).ok_or_else(|| {
            anyhow::anyhow!(
                "error: contract {name} has no release `{r}` (it has {})",
                c.release_names().join(", ")
            )
        })?,
        None => c.default_release(),
    };
    Ok(r.path.clone())
}
