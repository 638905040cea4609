//! `init [DIR]`: a starter target profile (every key commented, values that
//! work against `cms-contract serve` as written) and, with `--with-cases`,
//! a copy of the shipped suites to edit. Writes only inside DIR, never
//! through a symbolic link, and never over an existing file unless
//! `--force` (which still refuses links).

use crate::output::{stdout, Printed};
use crate::shipped;
use clap::Args;
use cms_contract::contract::{load_all, Choice, Contract};
use cms_contract::settings::{Layer, Settings};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The profile's file name in DIR.
const PROFILE: &str = "profile.yaml";
/// The port `serve` listens on by default (its `--port`).
const SERVE_PORT: u16 = 28080;

#[derive(Args)]
pub struct InitArgs {
    /// Folder to write into (made if missing)
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Also copy the shipped suites to DIR/cases, to edit
    #[arg(long)]
    with_cases: bool,
    /// Overwrite files that exist (never a symbolic link)
    #[arg(long)]
    force: bool,
}

pub fn init(a: InitArgs) -> anyhow::Result<ExitCode> {
    refuse_links_in(&a.dir)?;
    let profile = a.dir.join(PROFILE);
    let cases = a.dir.join("cases");
    let cases_arg = if a.with_cases {
        format!(" {}", shell_word(&cases.display().to_string()))
    } else {
        String::new()
    };
    let p = shell_word(&profile.display().to_string());
    let mut plan: Vec<(PathBuf, Vec<u8>)> = vec![(
        profile.clone(),
        template(&format!("{p}{cases_arg}"))?.into_bytes(),
    )];
    if a.with_cases {
        for (rel, bytes) in shipped::files_under("cases/") {
            plan.push((a.dir.join(rel), bytes.to_vec()));
        }
    }
    // Everything is checked before anything is written: a refusal leaves DIR as it was.
    let mut existing = Vec::new();
    for (path, _) in &plan {
        check_destination(&a.dir, path)?;
        if std::fs::symlink_metadata(path).is_ok() {
            existing.push(path.display().to_string());
        }
    }
    if !existing.is_empty() && !a.force {
        let shown = existing.len().min(5);
        let more = match existing.len() - shown {
            0 => String::new(),
            n => format!("\n  ... and {n} more"),
        };
        anyhow::bail!(
            "error: init writes no file that exists, and these do:\n  {}{more}\n  = help: nothing was written; pass --force to overwrite them",
            existing[..shown].join("\n  ")
        );
    }
    for (path, bytes) in &plan {
        if std::fs::symlink_metadata(path).is_ok() {
            std::fs::remove_file(path)
                .map_err(|e| anyhow::anyhow!("error: cannot replace {}: {e}", path.display()))?;
        }
        shipped::write_new(path, bytes)
            .map_err(|e| anyhow::anyhow!("error: cannot write {}: {e}", path.display()))?;
    }
    let mut out = stdout();
    writeln!(out, "wrote {}", profile.display())?;
    if a.with_cases {
        writeln!(
            out,
            "copied the shipped suites to {} ({} files)",
            cases.display(),
            plan.len() - 1
        )?;
    }
    writeln!(
        out,
        "\nnext, against the reference simulator (the profile works with it as written):\n  \
         cms-contract serve          # in another terminal\n  \
         export CMS_AK={ak} CMS_SK={sk}   # the simulator's; your CMS's for a real run\n  \
         cms-contract check --profile {p}{cases_arg}   # validates, sends nothing\n  \
         cms-contract run --profile {p}{cases_arg}\n\
         then against your CMS: edit base_url and vars in {p}, export your AK/SK, and run the same two commands.",
        ak = cms_sim::DEFAULT_AK,
        sk = cms_sim::DEFAULT_SK,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `s` as one shell word (quoted if it needs to be).
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=,@".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Refuse DIR if it, or a folder on the way to it as written, is a
/// symbolic link: what is written would land somewhere else than where the
/// user pointed.
fn refuse_links_in(dir: &Path) -> anyhow::Result<()> {
    for step in dir.ancestors() {
        if step.as_os_str().is_empty() || step.parent().is_none() {
            continue;
        }
        if let Ok(meta) = std::fs::symlink_metadata(step) {
            if meta.file_type().is_symlink() {
                let to = std::fs::read_link(step)
                    .map(|t| t.display().to_string())
                    .unwrap_or_else(|_| "?".into());
                anyhow::bail!(
                    "error: `{}` is a symbolic link (to `{to}`): init writes only where you point, not through a link\n  \
                     = help: pass the folder it resolves to, if that is where the files belong",
                    step.display()
                );
            }
            if !meta.is_dir() {
                anyhow::bail!("error: `{}` is not a folder", step.display());
            }
        }
    }
    Ok(())
}

/// Refuse a destination below `dir` that is, or lies under, a symbolic link
/// or something else that is not a folder.
fn check_destination(dir: &Path, path: &Path) -> anyhow::Result<()> {
    let mut step = path.to_path_buf();
    loop {
        if let Ok(meta) = std::fs::symlink_metadata(&step) {
            let is_leaf = step == path;
            if meta.file_type().is_symlink() {
                anyhow::bail!(
                    "error: `{}` is a symbolic link: init never writes through one (not even with --force)",
                    step.display()
                );
            }
            if is_leaf && !meta.is_file() {
                anyhow::bail!("error: `{}` exists and is not a file", step.display());
            }
            if !is_leaf && !meta.is_dir() {
                anyhow::bail!("error: `{}` is not a folder", step.display());
            }
        }
        if step == dir || !step.pop() || step.as_os_str().is_empty() {
            return Ok(());
        }
    }
}

/// The starter profile: every key with what it is, values that work
/// against `cms-contract serve` as written.
fn template(run_args: &str) -> Result<String, Printed> {
    let schemas = shipped::schemas(None).map_err(Printed)?;
    let contracts = load_all(&schemas).map_err(|e| Printed(e.render()))?;
    Ok(render_template(&contracts, &var_descriptions(), run_args))
}

/// `(name, what it is for)` of every variable the shipped suites use, from
/// their `_defaults.yaml` (`vars:`), in order of first appearance.
fn var_descriptions() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (rel, bytes) in shipped::files_under("cases/") {
        if !rel.ends_with("/_defaults.yaml") {
            continue;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        let Ok(doc) = serde_saphyr::from_str::<serde_json::Value>(text) else {
            continue;
        };
        if let Some(vars) = doc.get("vars").and_then(|v| v.as_object()) {
            for (k, v) in vars {
                if !out.iter().any(|(n, _)| n == k) {
                    out.push((k.clone(), v.as_str().unwrap_or_default().to_owned()));
                }
            }
        }
    }
    out
}

/// A YAML scalar for `v`: bare when it is a plain number or word, else quoted.
fn scalar(v: &str) -> String {
    let bare = !v.is_empty() && v.chars().all(|c| c.is_ascii_digit());
    if bare {
        v.to_owned()
    } else {
        serde_json::to_string(v).expect("a string serialises")
    }
}

/// One line of comment text (no line breaks).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `run_args`: what follows `--profile` in the commands shown (this file,
/// and the copied cases if any).
fn render_template(contracts: &[Contract], vars: &[(String, String)], run_args: &str) -> String {
    let sim_vars = cms_sim::reference_vars();
    let mut t = String::new();
    let mut line = |s: &str| {
        t.push_str(s);
        t.push('\n');
    };
    line("# cms-contract target profile: one deployment's settings, everything but the secrets.");
    line("# Written by `cms-contract init`. As written, every value works against the reference");
    line("# simulator (`cms-contract serve`, on its default port); edit them for your CMS.");
    line("# Every value is checked like the matching flag; a wrong one is an error with its line.");
    line("#");
    line("# Secrets never go in this file: the AK/SK come only from the environment variables");
    line("# CMS_AK and CMS_SK. Your CMS administrator issues them (an app key and its secret for");
    line("# the open API); the simulator accepts cms-contract-ak / cms-contract-sk, or whatever");
    line("# CMS_AK / CMS_SK were when it started.");
    line("#");
    line("# Next:");
    line("#   cms-contract serve                  # in another terminal (skip for a real CMS)");
    line("#   export CMS_AK=cms-contract-ak CMS_SK=cms-contract-sk");
    line(&format!(
        "#   cms-contract check --profile {run_args}   # validates cases, contracts and this file; sends nothing"
    ));
    line(&format!(
        "#   cms-contract run --profile {run_args} --junit report.xml --html report.html"
    ));
    line("# Flags override this file, and CMS_* environment variables override it too.");
    line("");
    line("# The CMS's base URL: scheme, host, port and an optional path prefix (no user, query or fragment).");
    line(&format!("base_url: http://127.0.0.1:{SERVE_PORT}"));
    line("");
    line("# The Host value to sign and send instead of the URL's host:port, when a load balancer");
    line("# (NSLB) forwards under another name (spec open question 2). Default: the URL's.");
    line("# host: cms.example.com:28080");
    line("");
    line("# Headers the auth-v2 signature covers: any of host, content-type, content-length.");
    line("# The vendor's sample signs host only (open question 2).");
    line("signed_headers: [host]");
    line("");
    let releases: Vec<String> = {
        let mut r: Vec<String> = Vec::new();
        for c in contracts {
            for n in c.release_names() {
                if !r.iter().any(|x| x == n) {
                    r.push(n.to_owned());
                }
            }
        }
        r
    };
    line("# The contract release the CMS is expected to keep; default: each contract's first.");
    line(&format!("# Known: {}.", releases.join(", ")));
    line(&format!("release: {}", scalar(cms_sim::DEFAULT_RELEASE)));
    line("");
    line("# Answers to the spec's open questions, `name: value` or `contract.name: value`.");
    line("# Leave them out to use the defaults shown.");
    line("options:");
    let mut any_option = false;
    for c in contracts {
        for o in &c.options {
            any_option = true;
            let values = match &o.choice {
                Choice::Values(vs) => vs.join(" | "),
                Choice::Pattern(re) => format!("matching {}", re.as_str()),
            };
            line(&format!(
                "  # {}: {} ({values}; {})",
                o.name,
                one_line(&o.description),
                one_line(&o.cites)
            ));
            line(&format!(
                "  {}.{}: {}",
                c.name,
                o.name,
                scalar_word(&o.default)
            ));
        }
    }
    if !any_option {
        line("  {}");
    }
    line("");
    let d = Settings::from_layer(Layer::default());
    line(&format!(
        "# Seconds to wait for one reply (default {}), to connect (default {}), for the whole run (default {}).",
        d.timeout.get().as_secs(),
        d.connect_timeout.get().as_secs(),
        d.run_timeout.get().as_secs()
    ));
    line(&format!("timeout_secs: {}", d.timeout.get().as_secs()));
    line(&format!(
        "connect_timeout_secs: {}",
        d.connect_timeout.get().as_secs()
    ));
    line(&format!(
        "run_timeout_secs: {}",
        d.run_timeout.get().as_secs()
    ));
    line("");
    line(&format!(
        "# The largest reply read, in bytes; a bigger one fails its case (default {}).",
        d.max_response_bytes.get()
    ));
    line(&format!(
        "max_response_bytes: {}",
        d.max_response_bytes.get()
    ));
    line("");
    line("# At most this many requests per second (default: no limit): be gentle with a live contact centre.");
    line("rate: 20");
    line(&format!(
        "# Cases in flight at once (default {}).",
        d.jobs.get()
    ));
    line("jobs: 4");
    line(&format!(
        "# Retries of connect errors only, with back-off (default {}); each retry is reported.",
        d.retries.get()
    ));
    line(&format!("connect_retries: {}", d.retries.get()));
    line("");
    line(
        "# Age in seconds of the timestamp in the stale-signature case: above the CMS's clock-skew",
    );
    line(&format!(
        "# window (open question 3; the simulator allows {}). Default {}.",
        cms_sim::DEFAULT_SKEW_SECS,
        d.stale_secs.get()
    ));
    line(&format!("stale_secs: {}", d.stale_secs.get()));
    line("");
    line(&format!(
        "# The most cases a run may expand to (each:, generate:); default {}.",
        d.max_cases.get()
    ));
    line(&format!("# max_cases: {}", d.max_cases.get()));
    line("");
    line(
        "# TLS, for an https:// base_url. Paths are relative to this file. Verification stays on;",
    );
    line("# `insecure: true` turns it off, with a warning in the output and in every report.");
    line("# tls:");
    line("#   cacert: private-ca.pem        # a private CA to trust (PEM)");
    line("#   client_cert: client.pem       # a client certificate (PEM; may hold the key too)");
    line("#   client_key: client-key.pem    # its key (PEM)");
    line("#   insecure: false");
    line("");
    line("# Values for ${name} in the cases: the deployment's own ids. These are the simulator's");
    line("# (`cms-contract serve`); replace them with agents that exist on your CMS.");
    line("vars:");
    for (name, what) in vars {
        line(&format!("  # {}", one_line(what)));
        match sim_vars.iter().find(|(n, _)| n == name) {
            Some((_, v)) => line(&format!("  {name}: {}", scalar(v))),
            None => line(&format!(
                "  # {name}:                # no simulator value: set your own"
            )),
        }
    }
    line("");
    line("# Run only cases with one of these tags (default: all), and never those with these.");
    line(
        "# `reference-data` cases check the simulator's own agents: leave them out for a real CMS.",
    );
    line("# Add `legacy` if your CMS does not serve the 8.13 twin endpoint. `cms-contract list --tags`");
    line("# lists the tags.");
    line("# tags: [sample]");
    line("exclude_tags: [reference-data]");
    t
}

/// An option value as YAML: bare when it is a word YAML reads as text.
fn scalar_word(v: &str) -> String {
    let word = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && v.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"]
            .contains(&v.to_ascii_lowercase().as_str());
    if word {
        v.to_owned()
    } else {
        serde_json::to_string(v).expect("a string serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cms_contract::settings::profile::{self, PROFILE_KEYS};

    fn written() -> (tempfile::TempDir, PathBuf, String) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(PROFILE);
        let contracts = load_all(&cms_contract::session::checkout_root().join("schemas")).unwrap();
        let text = render_template(&contracts, &var_descriptions(), "p.yaml");
        std::fs::write(&p, &text).unwrap();
        (d, p, text)
    }

    #[test]
    fn the_template_loads_and_targets_serve() {
        let (_d, p, text) = written();
        let layer = profile::load(&p).unwrap_or_else(|e| panic!("{}\n{text}", e.render()));
        assert_eq!(
            layer.target.unwrap().as_str(),
            format!("http://127.0.0.1:{SERVE_PORT}")
        );
        assert_eq!(layer.signed_headers.unwrap().names(), ["host"]);
        assert_eq!(layer.exclude_tags, ["reference-data"]);
        let vars: Vec<&str> = layer.vars.iter().map(|(k, _)| k.as_str()).collect();
        for name in ["ccId", "vdn", "agentId", "known_agents", "unknown_agent"] {
            assert!(vars.contains(&name), "{name} in {vars:?}");
        }
        assert!(layer
            .options
            .iter()
            .any(|(k, v)| k == "agentbyworkno.body_shape" && v == "wrapped"));
    }

    #[test]
    fn every_profile_key_is_in_the_template_and_commented() {
        let (_d, _p, text) = written();
        let lines: Vec<&str> = text.lines().collect();
        for key in PROFILE_KEYS {
            let at = lines
                .iter()
                .position(|l| {
                    let l = l.trim_start_matches("# ");
                    l.starts_with(&format!("{key}:"))
                })
                .unwrap_or_else(|| panic!("`{key}` is not in the template:\n{text}"));
            // A comment heads the key's block (keys may share one).
            let above = lines[..at]
                .iter()
                .rev()
                .find(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
            assert!(
                above.is_some_and(|l| l.trim_start().starts_with('#')),
                "`{key}` has no comment above it:\n{text}"
            );
        }
        // Secrets are named only as environment variables.
        assert!(text.contains("CMS_AK") && text.contains("CMS_SK"));
        assert!(!text
            .lines()
            .any(|l| l.starts_with("ak:") || l.starts_with("sk:")));
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("a/b.yaml"), "a/b.yaml");
        assert_eq!(shell_word("my dir/p.yaml"), "'my dir/p.yaml'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
