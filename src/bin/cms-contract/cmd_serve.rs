//! `serve`: the reference simulator on a port, for manual poking and for
//! pointing a real-CMS profile at (its agents are documented in the README).

use crate::args::{fault, pair, variant};
use crate::output::{note, stdout};
use anyhow::Context;
use clap::Args;
use cms_contract::auth::Credentials;
use cms_sim::{Fault, SimConfig, Simulator, Variant};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ServeArgs {
    /// Port to listen on (0: any free port)
    #[arg(long, default_value_t = 28080)]
    port: u16,
    /// Address to bind
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Commit one contract violation (see --list-faults)
    #[arg(long, value_parser = fault)]
    fault: Option<Fault>,
    /// Take one conforming latitude (see --list-faults)
    #[arg(long, value_parser = variant)]
    variant: Option<Variant>,
    /// Answer an open question: --option name=value or endpoint.name=value (see --list-faults)
    #[arg(long = "option", value_name = "NAME=VALUE", value_parser = pair)]
    options: Vec<(String, String)>,
    /// Agents change state this many times per second (a live contact centre)
    #[arg(long, value_name = "RATE")]
    churn: Option<f64>,
    /// Clock-skew window for signatures, seconds (open question 3)
    #[arg(long, default_value_t = 900)]
    skew: u64,
    /// Release to serve: 2024-08, 2025-11 or 8.13
    #[arg(long, default_value = cms_sim::DEFAULT_RELEASE)]
    release: String,
    /// List the fault modes, variants and options, and exit
    #[arg(long)]
    list_faults: bool,
    /// Serve HTTPS with a freshly generated private CA; its files (ca.pem,
    /// server.pem, client.pem, ...) are written to DIR
    #[arg(long, value_name = "DIR")]
    tls: Option<PathBuf>,
    /// With --tls: require a client certificate signed by the generated CA
    #[arg(long, requires = "tls")]
    require_client_cert: bool,
}

pub fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    if a.list_faults {
        return list();
    }
    if !cms_sim::RELEASES.contains(&a.release.as_str()) {
        anyhow::bail!(
            "error: --release `{}` is not one the simulator serves ({})",
            a.release,
            cms_sim::RELEASES.join(", ")
        );
    }
    let mut cfg = SimConfig {
        fault: a.fault,
        variant: a.variant,
        churn: a.churn,
        skew_secs: a.skew,
        release: a.release.clone(),
        options: a.options.iter().cloned().collect(),
        ..SimConfig::default()
    };
    cfg.validate().map_err(|e| anyhow::anyhow!("error: {e}"))?;
    match (std::env::var("CMS_AK"), std::env::var("CMS_SK")) {
        (Ok(ak), Ok(sk)) if !ak.is_empty() && !sk.is_empty() => {
            cfg.credentials = Credentials::new(ak, sk)
        }
        _ => {}
    }
    let addr: std::net::SocketAddr = format!("{}:{}", a.bind, a.port)
        .parse()
        .with_context(|| format!("`{}:{}` is not an address to bind", a.bind, a.port))?;
    let ak = cfg.credentials.ak.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let tls = match &a.tls {
        None => None,
        Some(dir) => {
            use cms_sim::tls::{generate, ClientAuth};
            let pki = generate(&["localhost", "127.0.0.1", &a.bind])
                .map_err(|e| anyhow::anyhow!("error: {e}"))?;
            let files = pki
                .write_to(dir)
                .map_err(|e| anyhow::anyhow!("error: {e}"))?;
            let auth = if a.require_client_cert {
                ClientAuth::Required
            } else {
                ClientAuth::Off
            };
            let server = pki
                .server_config(auth)
                .map_err(|e| anyhow::anyhow!("error: {e}"))?;
            note!(
                "TLS: trust {} with --cacert (client certificate: {})",
                files.ca.display(),
                files.client_cert.display()
            );
            Some(server)
        }
    };
    rt.block_on(async move {
        let sim = match tls {
            Some(server) => Simulator::bind_tls(addr, cfg, server).await,
            None => Simulator::bind(addr, cfg).await,
        }
        .with_context(|| format!("cannot listen on {addr}"))?;
        note!(
            "cms-contract simulator listening on {} (release {}, AK {ak}; Ctrl-C stops)",
            sim.base_url(),
            a.release
        );
        tokio::signal::ctrl_c().await.ok();
        sim.shutdown().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn list() -> anyhow::Result<ExitCode> {
    let mut out = stdout();
    let scope = |e: Option<&str>| e.unwrap_or("every endpoint").to_owned();
    writeln!(out, "fault modes (each one contract violation):")?;
    let mut faults = Fault::all();
    faults.sort_by_key(|f| (f.endpoint().map(str::to_owned), f.name()));
    let mut last = None;
    for f in faults {
        if last != Some(f.endpoint()) {
            writeln!(out, "  [{}]", scope(f.endpoint()))?;
            last = Some(f.endpoint());
        }
        writeln!(out, "    {:<34} {}", f.name(), f.describe())?;
    }
    writeln!(out, "conforming variants (allowed latitude):")?;
    for v in Variant::all() {
        writeln!(
            out,
            "    {:<34} [{}] {}",
            v.name(),
            scope(v.endpoint()),
            v.describe()
        )?;
    }
    writeln!(
        out,
        "options (open questions; every value conforming; --option endpoint.name=value):"
    )?;
    for o in cms_sim::options() {
        writeln!(
            out,
            "    {:<34} {} (default {}; {})",
            format!("{}.{}", o.endpoint, o.name),
            o.values.join(" | "),
            o.default,
            o.cites
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
