//! Embeds the shipped contract folders (`schemas/`) and suites (`cases/`)
//! in the `cms-contract` binary, so an installed binary runs anywhere.
//!
//! Writes `$OUT_DIR/shipped.rs`: a sorted table of `(path, bytes)` with one
//! `include_bytes!` per file, which only the binary includes. A build script
//! rather than the `include_dir` crate: on stable Rust `include_dir!` does
//! not notice a file added to the folder (its issue #120), so a binary built
//! after adding a case would silently lack it; `rerun-if-changed` on a
//! folder makes Cargo re-run this script on any change below it.
//!
//! Only regular files are embedded; anything else under the two folders (a
//! symbolic link, a FIFO) fails the build rather than embedding whatever it
//! points at. Counts and sizes are bounded.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The folders embedded, relative to the crate root.
const ROOTS: [&str; 2] = ["cases", "schemas"];
/// Most files embedded.
const MAX_FILES: usize = 2_000;
/// Most bytes embedded in all.
const MAX_BYTES: u64 = 16 * 1024 * 1024;
/// Deepest folder embedded.
const MAX_DEPTH: usize = 16;

fn main() {
    let crate_root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by Cargo"));
    println!("cargo:rerun-if-changed=build.rs");
    let mut files = Vec::new();
    for root in ROOTS {
        println!("cargo:rerun-if-changed={root}");
        walk(&crate_root, Path::new(root), 0, &mut files);
    }
    files.sort();
    let total: u64 = files.iter().map(|(_, _, len)| len).sum();
    if files.len() > MAX_FILES || total > MAX_BYTES {
        panic!(
            "{} files, {total} bytes under {ROOTS:?}: more than the {MAX_FILES} files / {MAX_BYTES} bytes the binary embeds",
            files.len()
        );
    }
    let mut out = String::from(
        "/// Every shipped file: its path below the crate root ('/'-separated) and its bytes, sorted by path.\n\
         pub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (rel, abs, _) in &files {
        writeln!(out, "    ({rel:?}, include_bytes!({abs:?})),").expect("write to a String");
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by Cargo")).join("shipped.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}

/// Collect the regular files below `rel` as (relative path, absolute path, length).
fn walk(crate_root: &Path, rel: &Path, depth: usize, out: &mut Vec<(String, String, u64)>) {
    if depth > MAX_DEPTH {
        panic!("{} nests deeper than {MAX_DEPTH} folders", rel.display());
    }
    let dir = crate_root.join(rel);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            panic!("{}: a file name that is not UTF-8", dir.display());
        };
        // Editor and VCS leftovers are not part of the suite.
        if name.starts_with('.') {
            continue;
        }
        let child = rel.join(name);
        let meta = std::fs::symlink_metadata(entry.path())
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", child.display()));
        if meta.is_dir() {
            walk(crate_root, &child, depth + 1, out);
        } else if meta.is_file() {
            let rel_text = child
                .components()
                .map(|c| c.as_os_str().to_str().expect("checked above"))
                .collect::<Vec<_>>()
                .join("/");
            let abs = entry.path();
            let abs = abs
                .to_str()
                .unwrap_or_else(|| panic!("{}: not a UTF-8 path", abs.display()));
            out.push((rel_text, abs.to_owned(), meta.len()));
        } else {
            panic!(
                "{} is neither a folder nor a regular file (a symbolic link?): the binary embeds regular files only",
                child.display()
            );
        }
    }
}
