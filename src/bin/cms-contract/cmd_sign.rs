//! `sign`: the auth-v2 Authorization header for one request, to debug a
//! deployment that refuses the harness's signatures. The signed headers are
//! validated like the profile's; the Host is signed exactly as given (a
//! value that cannot be a Host is refused, never rewritten); the
//! Content-Type is the contract's unless given. Printing the Authorization
//! is the command's purpose; nothing else it prints depends on the SK.

use crate::output::{note, stdout, Printed};
use clap::Args;
use cms_contract::auth::{Credentials, Timestamp};
use cms_contract::contract::{load_all, Contract};
use cms_contract::settings::SignedHeaders;
use cms_contract::target::Target;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Largest `--body-file` read.
const MAX_BODY_FILE_BYTES: u64 = 16 * 1024 * 1024;

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
    /// The folder of contract folders (for --contract and the default Content-Type) [default: schemas, else the shipped ones]
    #[arg(long, value_name = "DIR")]
    schemas: Option<PathBuf>,
    /// Body text
    #[arg(long, default_value = "", conflicts_with = "body_file")]
    body: String,
    /// Read the body from FILE (its exact bytes; at most 16 MiB)
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    /// Host value to sign, exactly as the server will see it (host or host:port)
    #[arg(long, value_name = "HOST[:PORT]")]
    host: String,
    /// Headers to sign, comma-separated: host, content-type, content-length (checked like the profile's)
    #[arg(long, value_name = "NAMES", default_value = "host")]
    signed_headers: SignedHeaders,
    /// Content-Type value, when signed [default: the contract's, as the runner sends it]
    #[arg(long, value_name = "VALUE")]
    content_type: Option<String>,
    /// Timestamp YYYY-MM-DDTHH:MM:SSZ [default: now]
    #[arg(long)]
    timestamp: Option<String>,
    /// Also print the canonical request that was signed, on stderr (it holds no secret)
    #[arg(long)]
    verbose: bool,
}

pub fn sign(a: SignArgs) -> anyhow::Result<ExitCode> {
    check_host(&a.host)?;
    let path = match (&a.path, &a.contract) {
        (Some(p), _) => p.clone(),
        (None, Some(name)) => release_path(&a, &contract(&a, name)?)?,
        (None, None) => unreachable!("clap requires --path or --contract"),
    };
    if !path.starts_with('/') {
        anyhow::bail!("error: --path `{path}` must start with `/`");
    }
    let signs_content_type = a.signed_headers.names().iter().any(|n| n == "content-type");
    let content_type = match (&a.content_type, signs_content_type) {
        (Some(ct), _) => Some(ct.clone()),
        (None, false) => None,
        (None, true) => Some(default_content_type(&a, &path)?),
    };
    let body = match &a.body_file {
        Some(file) => read_body(file)?,
        None => a.body.clone().into_bytes(),
    };
    let ts = match &a.timestamp {
        Some(t) => Timestamp::parse(t).ok_or_else(|| {
            anyhow::anyhow!("error: --timestamp `{t}` is not YYYY-MM-DDTHH:MM:SSZ")
        })?,
        None => Timestamp::now(),
    };
    let (Ok(ak), Ok(sk)) = (std::env::var("CMS_AK"), std::env::var("CMS_SK")) else {
        anyhow::bail!("error: set CMS_AK and CMS_SK (secrets come only from the environment)");
    };
    if let Some(bare) = default_port(&a.host) {
        note!(
            "note: signing Host `{}` exactly as given; a client sending to that port puts `{bare}` in Host (it drops a default port), and the runner signs what it sends",
            a.host
        );
    }
    // A neutral base URL: no path prefix; the Host is the one given, as is.
    let mut target = Target::new("http://sign.invalid");
    target.host = Some(a.host.clone());
    target.signed_headers = a.signed_headers.names().to_vec();
    let headers: Vec<(String, String)> = content_type
        .map(|ct| ("Content-Type".to_owned(), ct))
        .into_iter()
        .collect();
    let (value, canonical) = cms_contract::run::request::sign_explained(
        &Credentials::new(ak, sk),
        ts,
        &target,
        &a.method,
        &path,
        &headers,
        &body,
    );
    if a.verbose {
        note!("canonical request (each line shown with ⏎ at its end):");
        for line in canonical.split('\n') {
            note!("  {line}⏎");
        }
    }
    writeln!(stdout(), "Authorization: {value}")?;
    Ok(ExitCode::SUCCESS)
}

/// Refuse a value that cannot be an HTTP Host: it would be signed, but no
/// client could send it.
fn check_host(host: &str) -> anyhow::Result<()> {
    let bad = host
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "/?#@\\".contains(*c));
    if host.is_empty() || bad.is_some() {
        let what = match bad {
            Some(c) => format!(" (it holds {c:?})"),
            None => " (it is empty)".into(),
        };
        anyhow::bail!(
            "error: --host `{}` is not a Host value{what}: give host or host:port, exactly as the server sees it",
            host.escape_debug()
        );
    }
    Ok(())
}

/// `host` without a `:80` or `:443` it ends with, if it does.
fn default_port(host: &str) -> Option<&str> {
    host.strip_suffix(":443")
        .or_else(|| host.strip_suffix(":80"))
        .filter(|h| !h.is_empty())
}

/// The exact bytes of FILE, a regular file of at most 16 MiB.
fn read_body(file: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let fail =
        |e: String| anyhow::anyhow!("error: cannot read the body file {}: {e}", file.display());
    let meta = std::fs::metadata(file).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    let mut body = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_BODY_FILE_BYTES + 1).read_to_end(&mut body))
        .map_err(|e| fail(e.to_string()))?;
    if body.len() as u64 > MAX_BODY_FILE_BYTES {
        return Err(fail("larger than 16 MiB".into()));
    }
    Ok(body)
}

/// The contracts under the schema folder.
fn contracts(a: &SignArgs) -> anyhow::Result<Vec<Contract>> {
    let dir = crate::shipped::schemas(a.schemas.clone()).map_err(Printed)?;
    Ok(load_all(&dir).map_err(|e| Printed(e.render()))?)
}

/// Contract `name`.
fn contract(a: &SignArgs, name: &str) -> anyhow::Result<Contract> {
    let mut all = contracts(a)?;
    let names: Vec<String> = all.iter().map(|c| c.name.clone()).collect();
    match all.iter().position(|c| c.name == name) {
        Some(i) => Ok(all.swap_remove(i)),
        None => anyhow::bail!(
            "error: no contract `{name}` (there are: {})",
            names.join(", ")
        ),
    }
}

/// The path of `--release` (or the first release) of `c`.
fn release_path(a: &SignArgs, c: &Contract) -> anyhow::Result<String> {
    let r = match &a.release {
        Some(r) => c.release(r).ok_or_else(|| {
            anyhow::anyhow!(
                "error: contract {} has no release `{r}` (it has {})",
                c.name,
                c.release_names().join(", ")
            )
        })?,
        None => c.default_release(),
    };
    Ok(r.path.clone())
}

/// The Content-Type the runner sends for `path`: that of `--contract`, or
/// of the contract one of whose releases is served on `path`.
fn default_content_type(a: &SignArgs, path: &str) -> anyhow::Result<String> {
    if let Some(name) = &a.contract {
        return Ok(contract(a, name)?.content_type);
    }
    let bare = path.split('?').next().unwrap_or(path);
    let all = contracts(a)?;
    let mut types: Vec<&str> = all
        .iter()
        .filter(|c| c.releases.iter().any(|r| r.path == bare))
        .map(|c| c.content_type.as_str())
        .collect();
    types.dedup();
    match types.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => anyhow::bail!(
            "error: content-type is signed but no contract is served on `{bare}`, so there is no default: give --content-type VALUE (or --contract NAME)"
        ),
        _ => anyhow::bail!(
            "error: content-type is signed and contracts served on `{bare}` send different ones ({}): give --content-type VALUE",
            types.join(", ")
        ),
    }
}
