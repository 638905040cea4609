//! `--bless` / `CMS_CONTRACT_BLESS=1`: record observed replies as snapshots
//! beside the cases (`__snapshots__/<case>.json`). Never in CI.

use crate::case::snapshot::{document, path_for};
use crate::case::Case;
use crate::run::CaseResult;
use std::path::PathBuf;

/// Whether to bless: the `--bless` flag or `CMS_CONTRACT_BLESS`, refused when
/// `CI` is set. `env` reads an environment variable.
pub fn requested(flag: bool, env: &dyn Fn(&str) -> Option<String>) -> Result<bool, String> {
    let from_env = match env("CMS_CONTRACT_BLESS").as_deref() {
        None | Some("") | Some("0") | Some("false") => false,
        Some("1") | Some("true") => true,
        Some(other) => {
            return Err(format!(
                "CMS_CONTRACT_BLESS=`{other}` is not understood; use 1 or 0"
            ));
        }
    };
    let bless = flag || from_env;
    let ci = env("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    if bless && ci {
        return Err("refusing to write snapshots in CI (CI is set); bless on a developer machine and commit the snapshots".into());
    }
    Ok(bless)
}

/// Drop recorded snapshots from cases about to be re-recorded, so the run
/// reports the contract checks only.
pub fn forget_snapshots(cases: &mut [Case]) {
    for c in cases {
        c.expect.snapshot = None;
    }
}

/// Write one snapshot per case that got a reply; returns the files written.
/// Cases without a reply (transport errors) are skipped.
pub fn write(cases: &[Case], results: &[CaseResult]) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (case, result) in cases.iter().zip(results) {
        let Some(resp) = &result.response else {
            continue;
        };
        let path = path_for(&case.source.file, &case.name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut text = serde_json::to_string_pretty(&document(resp.status, resp.json.as_ref()))?;
        text.push('\n');
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::requested;

    #[test]
    fn bless_is_opt_in_and_refused_in_ci() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(requested(false, &env(&[])), Ok(false));
        assert_eq!(requested(true, &env(&[])), Ok(true));
        assert_eq!(
            requested(false, &env(&[("CMS_CONTRACT_BLESS", "1")])),
            Ok(true)
        );
        assert!(requested(false, &env(&[("CMS_CONTRACT_BLESS", "yes")])).is_err());
        assert!(requested(true, &env(&[("CI", "true")])).is_err());
        assert_eq!(requested(false, &env(&[("CI", "true")])), Ok(false));
    }
}
