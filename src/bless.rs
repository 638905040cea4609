//! `--bless` / `CMS_CONTRACT_BLESS=1`: record observed replies as snapshots
//! beside the cases (`__snapshots__/<case>.json`). Never in CI.

use crate::case::snapshot::{check_dir, document, kind, path_for, snapshot_dir};
use crate::case::Case;
use crate::result::CaseResult;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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
/// Cases without a reply (transport errors) and flows are skipped.
///
/// A snapshot is only ever written as a plain file directly in its suite's
/// `__snapshots__/` folder: a `__snapshots__` or a snapshot that is a
/// symbolic link is refused, never written through, and the file is written
/// beside its place and renamed over it, so a link planted meanwhile is
/// replaced, not followed, and a failed write leaves the old snapshot whole.
pub fn write(cases: &[Case], results: &[CaseResult]) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (case, result) in cases.iter().zip(results) {
        written.extend(write_case(case, result)?);
    }
    Ok(written)
}

/// [`write`] for one case, as its result comes (a streaming run): the file
/// written, or `None` when the case got no reply or is a flow (several
/// replies, checked by its relations, never against a snapshot).
pub fn write_case(case: &Case, result: &CaseResult) -> std::io::Result<Option<PathBuf>> {
    let Some(resp) = result.response.as_ref().filter(|_| case.flow.is_none()) else {
        return Ok(None);
    };
    let volatile = |k: &str, v: &serde_json::Value| {
        case.contract.as_ref().is_some_and(|c| c.is_volatile(k, v))
    };
    let doc = document(resp.status, resp.json.as_ref(), &volatile);
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    let path = path_for(&case.source.file, &case.name);
    write_one(&case.source.file, &path, &text)?;
    Ok(Some(path))
}

fn refuse(path: &Path, why: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("{}: {why}", path.display()))
}

fn write_one(case_file: &Path, path: &Path, text: &str) -> std::io::Result<()> {
    let dir = snapshot_dir(case_file);
    // One plain file name directly in `__snapshots__`, whatever the case name.
    let name = match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if parent == dir => name,
        _ => {
            return Err(refuse(
                path,
                "outside the suite's __snapshots__ folder; not written",
            ))
        }
    };
    if Path::new(name).components().count() != 1 {
        return Err(refuse(path, "not a plain file name; not written"));
    }
    if !check_dir(&dir).map_err(std::io::Error::other)? {
        // Not create_dir_all: the case folder exists, and nothing above it is
        // made. Another trial (cargo test) may make it at the same moment:
        // then it is checked again, as a folder it must be.
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                check_dir(&dir).map_err(std::io::Error::other)?;
            }
            Err(e) => return Err(refuse(&dir, e)),
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.is_file() => {
            return Err(refuse(
                path,
                format!(
                    "is {}, not a snapshot file; delete it and bless again",
                    kind(&m)
                ),
            ))
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(refuse(path, e)),
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        // create_new: fails on anything already there, a link included.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        // rename replaces whatever is at `path` (a link too) without following it.
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| refuse(path, e))
}

#[cfg(test)]
mod tests {
    use super::{requested, write_one};
    use crate::case::snapshot::{path_for, SNAPSHOT_DIR};
    use std::path::Path;

    fn tmp(_tag: &str) -> crate::testing::TempDir {
        let d = crate::testing::tmp();
        std::fs::create_dir_all(d.join("s")).unwrap();
        d
    }

    /// Trials blessing at once (cargo test) all find or make the folder.
    #[test]
    fn concurrent_writers_share_the_new_snapshot_folder() {
        for round in 0..20 {
            let d = tmp(&format!("concurrent-{round}"));
            let case_file = d.join("s/a.yaml");
            let start = std::sync::Arc::new(std::sync::Barrier::new(8));
            let writers: Vec<_> = (0..8)
                .map(|i| {
                    let (case_file, start) = (case_file.clone(), start.clone());
                    std::thread::spawn(move || {
                        let p = path_for(&case_file, &format!("c{i}"));
                        start.wait();
                        write_one(&case_file, &p, "{}\n")
                    })
                })
                .collect();
            for w in writers {
                w.join().unwrap().unwrap();
            }
            let _ = std::fs::remove_dir_all(&d);
        }
    }

    /// Links are never written through: not a planted snapshot link, not a
    /// `__snapshots__` link; a path outside `__snapshots__` is refused.
    #[cfg(unix)]
    #[test]
    fn writing_never_follows_links_or_leaves_the_snapshot_folder() {
        let d = tmp("links");
        let case_file = d.join("s/a.yaml");
        let outside = d.join("outside.json");
        std::fs::write(&outside, "precious\n").unwrap();

        // A fresh folder is made and the file written.
        let p = path_for(&case_file, "ok");
        write_one(&case_file, &p, "{}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{}\n");
        // Re-blessing replaces it.
        write_one(&case_file, &p, "{\"a\": 1}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\"a\": 1}\n");

        let p = path_for(&case_file, "planted");
        std::os::unix::fs::symlink(&outside, &p).unwrap();
        let e = write_one(&case_file, &p, "{}\n").unwrap_err();
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious\n");

        let escape = d.join("s").join(SNAPSHOT_DIR).join("../../outside.json");
        let e = write_one(&case_file, &escape, "{}\n").unwrap_err();
        assert!(e.to_string().contains("outside the suite"), "{e}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious\n");

        std::fs::create_dir_all(d.join("t")).unwrap();
        std::fs::create_dir_all(d.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(d.join("elsewhere"), d.join("t").join(SNAPSHOT_DIR)).unwrap();
        let case_file = d.join("t/a.yaml");
        let e = write_one(&case_file, &path_for(&case_file, "x"), "{}\n").unwrap_err();
        assert!(
            e.to_string().contains("is a symbolic link, not a folder"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(d.join("elsewhere")).unwrap().count(), 0);
        assert!(!Path::new(&d.join("t/__snapshots__/x.json")).exists());
        let _ = std::fs::remove_dir_all(&d);
    }

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
