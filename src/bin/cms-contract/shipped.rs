//! The contract folders (`schemas/`) and suites (`cases/`) shipped inside
//! the binary (embedded by `build.rs`), so an installed `cms-contract` runs
//! from any folder. They are used when the user names no `--schemas` / case
//! path and the current folder has no `schemas/` / `cases/`.
//!
//! They are written out once to a private cache folder
//! (`$XDG_CACHE_HOME/cms-contract/shipped-VERSION-DIGEST/`, mode 0700) and
//! loaded from there by the ordinary loaders. Extracting, rather than
//! teaching every loader a second, in-memory file system, keeps every
//! safety property of loading from disk (size caps, regular files only,
//! link and depth checks) by running the very same code, and every error
//! and report names a real `file:line:col` the user can open. The copy is
//! checked against the embedded bytes on every use (same files, same
//! bytes, nothing else, no links), and rebuilt if it differs; a fresh copy
//! is built in a temporary folder beside it and renamed into place, so a
//! concurrent run never sees half a copy. Without a usable cache folder the
//! copy goes to a private temporary folder removed when the command ends.

use crate::output::note;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

mod table {
    include!(concat!(env!("OUT_DIR"), "/shipped.rs"));
}

/// Every shipped file: its `/`-separated path below the crate root
/// (`cases/...` or `schemas/...`) and its bytes, sorted by path.
pub fn files() -> &'static [(&'static str, &'static [u8])] {
    table::FILES
}

/// The shipped files under `prefix` (`cases/` or `schemas/`).
pub fn files_under(prefix: &str) -> impl Iterator<Item = (&'static str, &'static [u8])> + '_ {
    files()
        .iter()
        .copied()
        .filter(move |(p, _)| p.starts_with(prefix))
}

/// Where the contract folders are: `given`, else `./schemas`, else the
/// shipped ones.
pub fn schemas(given: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = given {
        return Ok(p);
    }
    let local = PathBuf::from("schemas");
    if std::fs::symlink_metadata(&local).is_ok() {
        return Ok(local);
    }
    let dir = root()?.join("schemas");
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        note!(
            "note: this folder has no schemas/: using the contracts shipped in this binary ({})",
            dir.display()
        )
    });
    Ok(dir)
}

/// The case paths: `given`, else `./cases`, else the shipped suites; and
/// whether they are the shipped ones.
pub fn cases(given: &[PathBuf]) -> Result<(Vec<PathBuf>, bool), String> {
    if !given.is_empty() {
        return Ok((given.to_vec(), false));
    }
    let local = PathBuf::from("cases");
    if std::fs::symlink_metadata(&local).is_ok() {
        return Ok((vec![local], false));
    }
    let dir = root()?.join("cases");
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        note!(
            "note: this folder has no cases/: using the suites shipped in this binary ({})",
            dir.display()
        )
    });
    Ok((vec![dir], true))
}

/// The folder holding the extracted `cases/` and `schemas/`, made on first
/// use (once per process).
fn root() -> Result<PathBuf, String> {
    static ROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    ROOT.get_or_init(extract).clone()
}

/// A temporary copy to remove when the command ends (no cache folder).
static TEMPORARY: Mutex<Option<tempfile::TempDir>> = Mutex::new(None);

/// Remove the temporary copy, if one was made. Called once the command has
/// finished with its files.
pub fn cleanup() {
    if let Ok(mut t) = TEMPORARY.lock() {
        t.take();
    }
}

fn extract() -> Result<PathBuf, String> {
    let name = format!("shipped-{}-{}", env!("CARGO_PKG_VERSION"), digest());
    let cache_error = match dirs::cache_dir().filter(|d| d.is_absolute()) {
        Some(base) => match cached(&base.join("cms-contract"), &name) {
            Ok(p) => return Ok(p),
            Err(e) => format!("cannot use the cache folder {}: {e}", base.display()),
        },
        None => "no cache folder (set XDG_CACHE_HOME or HOME)".to_owned(),
    };
    let dir = private(tempfile::Builder::new().prefix("cms-contract-shipped-"))
        .tempdir()
        .map_err(|e| format!("error: {cache_error}; and cannot make a temporary folder: {e}"))?;
    write_all(dir.path()).map_err(|e| {
        format!(
            "error: cannot write the shipped files to {}: {e}",
            dir.path().display()
        )
    })?;
    note!("note: {cache_error}; the shipped files are in a temporary folder for this run");
    let path = dir.path().to_path_buf();
    if let Ok(mut t) = TEMPORARY.lock() {
        *t = Some(dir);
    }
    Ok(path)
}

/// The verified copy `name` under `cache`, made or remade if needed.
fn cached(cache: &Path, name: &str) -> std::io::Result<PathBuf> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(cache)?;
    let dest = cache.join(name);
    let existing = std::fs::symlink_metadata(&dest).is_ok();
    if existing {
        match verify(&dest) {
            Ok(()) => return Ok(dest),
            Err(why) => {
                note!(
                    "note: the shipped copy at {} was changed ({why}); writing it anew",
                    dest.display()
                );
                remove(&dest)?;
            }
        }
    }
    // Built aside, then renamed: a concurrent run sees all of it or none.
    let fresh = private(tempfile::Builder::new().prefix(".shipped-"))
        .tempdir_in(cache)?
        .keep();
    let made = write_all(&fresh).and_then(|()| std::fs::rename(&fresh, &dest));
    if made.is_err() {
        let _ = std::fs::remove_dir_all(&fresh);
    }
    // Another run may have renamed its own copy first: fine if it verifies.
    verify(&dest).map_err(|why| {
        let cause = made.err().map(|e| format!(" ({e})")).unwrap_or_default();
        std::io::Error::other(format!("{}: {why}{cause}", dest.display()))
    })?;
    Ok(dest)
}

/// `builder` making folders only their owner can enter.
fn private<'a, 'b>(
    builder: &'b mut tempfile::Builder<'a, 'a>,
) -> &'b mut tempfile::Builder<'a, 'a> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    builder
}

/// Remove what is at `path` without following a link.
fn remove(path: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// Write every shipped file below `dir`, creating new files only.
fn write_all(dir: &Path) -> std::io::Result<()> {
    for (rel, bytes) in files() {
        write_new(&dir.join(rel), bytes)?;
    }
    Ok(())
}

/// Create the file at `path` (and its folders) and write `bytes`; fails if
/// anything is already there, a link included.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(bytes)
}

/// The first 16 hex digits of a SHA-256 over every path and its bytes.
fn digest() -> String {
    let mut h = Sha256::new();
    for (rel, bytes) in files() {
        h.update((rel.len() as u64).to_le_bytes());
        h.update(rel.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `dir` holds exactly the shipped files: the same paths and bytes,
/// regular files and folders only, nothing more. Says what differs.
fn verify(dir: &Path) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| e.to_string())?;
    if !meta.is_dir() {
        return Err("not a folder".into());
    }
    let expected: BTreeSet<&str> = files().iter().map(|(p, _)| *p).collect();
    let mut found = BTreeSet::new();
    // Bounded: a copy holds the shipped files and their folders, no more.
    let limit = files().len() * 2 + 16;
    let mut seen = 0usize;
    let mut stack = vec![(dir.to_path_buf(), String::new(), 0usize)];
    while let Some((path, rel, depth)) = stack.pop() {
        let listing = std::fs::read_dir(&path).map_err(|e| e.to_string())?;
        for entry in listing {
            let entry = entry.map_err(|e| e.to_string())?;
            seen += 1;
            if seen > limit || depth > 16 {
                return Err("more files than were shipped".into());
            }
            let name = entry.file_name();
            let name = name.to_str().ok_or("a file name that is not UTF-8")?;
            let child_rel = if rel.is_empty() {
                name.to_owned()
            } else {
                format!("{rel}/{name}")
            };
            let t = entry.file_type().map_err(|e| e.to_string())?;
            if t.is_dir() {
                stack.push((entry.path(), child_rel, depth + 1));
            } else if t.is_file() {
                found.insert(child_rel);
            } else {
                return Err(format!("{child_rel} is not a regular file"));
            }
        }
    }
    for rel in &found {
        if !expected.contains(rel.as_str()) {
            return Err(format!("{rel} was not shipped"));
        }
    }
    for (rel, bytes) in files() {
        if !found.contains(*rel) {
            return Err(format!("{rel} is missing"));
        }
        let mut got = Vec::with_capacity(bytes.len());
        std::fs::File::open(dir.join(rel))
            .and_then(|f| f.take(bytes.len() as u64 + 1).read_to_end(&mut got))
            .map_err(|e| format!("{rel}: {e}"))?;
        if got != *bytes {
            return Err(format!("{rel} differs"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_both_folders_and_the_case_file_schema() {
        assert!(files_under("cases/").count() > 0);
        assert!(files()
            .iter()
            .any(|(p, _)| *p == "schemas/case-file.schema.json"));
        assert!(files().windows(2).all(|w| w[0].0 < w[1].0), "sorted");
    }

    #[test]
    fn a_copy_verifies_and_any_change_is_noticed() {
        let d = tempfile::tempdir().unwrap();
        let dest = cached(d.path(), "c").unwrap();
        assert_eq!(verify(&dest), Ok(()));
        // Reused as is.
        assert_eq!(cached(d.path(), "c").unwrap(), dest);
        let (rel, _) = files()[0];
        std::fs::write(dest.join(rel), "changed").unwrap();
        assert_eq!(verify(&dest), Err(format!("{rel} differs")));
        std::fs::write(dest.join("cases/extra.yaml"), "cases: []").unwrap();
        assert!(verify(&dest).is_err());
        // Remade.
        assert_eq!(cached(d.path(), "c").unwrap(), dest);
        assert_eq!(verify(&dest), Ok(()));
        #[cfg(unix)]
        {
            std::fs::remove_file(dest.join(rel)).unwrap();
            std::os::unix::fs::symlink("/etc/hostname", dest.join(rel)).unwrap();
            assert_eq!(verify(&dest), Err(format!("{rel} is not a regular file")));
            cached(d.path(), "c").unwrap();
            assert!(std::fs::symlink_metadata(dest.join(rel)).unwrap().is_file());
        }
    }
}
