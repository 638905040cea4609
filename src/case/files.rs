//! Finding and reading the files a suite is made of without trusting them:
//! only regular files are opened (a FIFO would block, `/dev/zero` would
//! never end), reads are bounded, a file that must not be reached through a
//! symbolic link (a snapshot) is refused when it is one, and folder walks
//! end (symlink cycles are noticed by file identity; depth and counts are
//! capped).

use super::error::LoadError;
use crate::location::Location;
use std::collections::HashSet;
use std::fmt;
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest case file, `_defaults.yaml` or profile read, in bytes (1 MiB);
/// the shipped case files are a few KiB.
pub const MAX_CASE_FILE_BYTES: u64 = 1024 * 1024;
/// Most case files found under one path given to load.
pub const MAX_CASE_FILES: usize = 10_000;
/// Most folders searched under one path given to load.
pub const MAX_FOLDERS: usize = 10_000;
/// Deepest folder searched below a path given to load.
pub const MAX_FOLDER_DEPTH: usize = 32;
/// Most entries read from one folder.
pub const MAX_FOLDER_ENTRIES: usize = 100_000;

/// Something loading skipped, for the CLI to print (`warning: skipped ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadWarning {
    /// What was skipped.
    pub path: PathBuf,
    /// Why, as a lowercase fragment: "not a regular file (a FIFO)".
    pub reason: String,
}

impl fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "warning: skipped {}: {}",
            self.path.display(),
            self.reason
        )
    }
}

/// Why a file could not be read as text.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Nothing at that path (for a link: the link itself is missing).
    NotFound,
    /// Something other than a regular file; the words say what it is.
    NotRegular(&'static str),
    /// Bigger than the cap (in bytes).
    TooLarge(u64),
    /// Not UTF-8 text.
    NotUtf8,
    /// Any other I/O error (permissions, a failing disk, ...).
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("no such file"),
            ReadError::NotRegular(what) => write!(f, "not a regular file ({what})"),
            ReadError::TooLarge(cap) => write!(f, "larger than {}", bytes(*cap)),
            ReadError::NotUtf8 => f.write_str("not UTF-8 text"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::NotFound {
            ReadError::NotFound
        } else {
            ReadError::Io(e)
        }
    }
}

/// `n` bytes in words: `1 MiB`, `64 KiB`, `100 bytes`.
pub(crate) fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// What a file that is not a regular one is, in words.
pub(crate) fn kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    if t.is_symlink() {
        return "a symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    "not a file"
}

/// Identity of a file or folder on its device, to notice the same one
/// reached twice (symlink cycles) or swapped between a check and the open.
#[cfg(unix)]
pub(crate) type Identity = (u64, u64);
/// Identity of a file or folder: without inode numbers, its canonical path.
#[cfg(not(unix))]
pub(crate) type Identity = std::path::PathBuf;

/// The [`Identity`] of what `meta` describes (`path` names it).
#[cfg(unix)]
pub(crate) fn identity(meta: &Metadata, _path: &Path) -> Identity {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// The [`Identity`] of what `meta` describes (`path` names it).
#[cfg(not(unix))]
pub(crate) fn identity(_meta: &Metadata, path: &Path) -> Identity {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Read the text of the regular file at `path` (through symbolic links), at
/// most `cap` bytes. The type is checked before opening, so a FIFO never
/// blocks and a device is never read.
pub(crate) fn read_text(path: &Path, cap: u64) -> Result<String, ReadError> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind(&meta)));
    }
    read_opened(path, cap, None)
}

/// Read the text of the regular file at `path`, at most `cap` bytes. A
/// symbolic link at `path` is refused, never followed (a link planted among
/// snapshots must not be read); the type is checked before opening, so a
/// FIFO never blocks and a device is never read.
pub(crate) fn read_text_no_follow(path: &Path, cap: u64) -> Result<String, ReadError> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind(&meta)));
    }
    read_opened(path, cap, Some(identity(&meta, path)))
}

/// Open and read; `expected` is the identity the path had when checked.
fn read_opened(path: &Path, cap: u64, expected: Option<Identity>) -> Result<String, ReadError> {
    let file = File::open(path)?;
    // What was opened, not what the path named a moment ago.
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind(&meta)));
    }
    #[cfg(unix)]
    if expected.is_some_and(|id| id != identity(&meta, path)) {
        return Err(ReadError::NotRegular("a file replaced while it was read"));
    }
    #[cfg(not(unix))]
    let _ = expected;
    if meta.len() > cap {
        return Err(ReadError::TooLarge(cap));
    }
    let mut buf = Vec::new();
    file.take(cap.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > cap {
        return Err(ReadError::TooLarge(cap));
    }
    String::from_utf8(buf).map_err(|_| ReadError::NotUtf8)
}

/// Whether a folder entry is a case file by its name: `*.yaml` / `*.yml`,
/// not `_defaults.yaml` and the like.
fn case_file_name(name: &str) -> bool {
    (name.ends_with(".yaml") || name.ends_with(".yml")) && !name.starts_with('_')
}

/// The case files under `root` (a case file or a folder searched for
/// `*.yaml`), sorted. Through symbolic links, but each folder is searched
/// once (a link back up is skipped with a warning, so two links to `.` end);
/// a case file that is not a regular file (a FIFO, a device) is skipped with
/// a warning; depth and counts are capped with a located error.
pub(crate) fn discover(
    root: &Path,
    warnings: &mut Vec<LoadWarning>,
) -> Result<Vec<PathBuf>, LoadError> {
    let error = |at: &Path, message: String| LoadError::new(Location::file_only(at), message);
    let meta = std::fs::metadata(root).map_err(|e| {
        error(root, format!("cannot read `{}`: {e}", root.display()))
            .help("pass a case file or a folder of case files (default: cases/)")
    })?;
    if meta.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    if !meta.is_dir() {
        return Err(error(
            root,
            format!(
                "`{}` is not a case file or folder ({})",
                root.display(),
                kind(&meta)
            ),
        )
        .help("pass a case file or a folder of case files (default: cases/)"));
    }
    let mut seen = HashSet::from([identity(&meta, root)]);
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let listing = std::fs::read_dir(&dir)
            .map_err(|e| error(&dir, format!("cannot list `{}`: {e}", dir.display())))?;
        let mut entries = Vec::new();
        for entry in listing.flatten() {
            if entries.len() == MAX_FOLDER_ENTRIES {
                return Err(error(
                    &dir,
                    format!(
                        "`{}` holds more than {MAX_FOLDER_ENTRIES} entries",
                        dir.display()
                    ),
                )
                .help("keep case folders to case files and their sub-folders"));
            }
            entries.push(entry);
        }
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(own_type) = entry.file_type() else {
                continue;
            };
            let is_case = case_file_name(&name);
            // Only folders, links and case files are looked at further.
            if !(own_type.is_dir() || own_type.is_symlink() || is_case) {
                continue;
            }
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                // A dangling case-file link: reading it gives the located error.
                Err(_) if is_case => {
                    out.push(path);
                    continue;
                }
                Err(_) => continue,
            };
            if meta.is_dir() {
                if name.starts_with('.') {
                    continue;
                }
                if !seen.insert(identity(&meta, &path)) {
                    warnings.push(LoadWarning {
                        path,
                        reason:
                            "folder already searched (a symbolic link loop or a second link to it)"
                                .into(),
                    });
                    continue;
                }
                if depth + 1 > MAX_FOLDER_DEPTH {
                    return Err(error(
                        &path,
                        format!(
                            "case folders nest more than {MAX_FOLDER_DEPTH} levels deep under `{}`",
                            root.display()
                        ),
                    )
                    .help("pass a shallower folder"));
                }
                if seen.len() > MAX_FOLDERS {
                    return Err(error(
                        root,
                        format!("more than {MAX_FOLDERS} folders under `{}`", root.display()),
                    )
                    .help("pass the folder of one suite, or a few"));
                }
                subdirs.push(path);
            } else if is_case {
                if !meta.is_file() {
                    warnings.push(LoadWarning {
                        path,
                        reason: format!("not a regular file ({})", kind(&meta)),
                    });
                    continue;
                }
                if out.len() == MAX_CASE_FILES {
                    return Err(error(
                        root,
                        format!(
                            "more than {MAX_CASE_FILES} case files under `{}`",
                            root.display()
                        ),
                    )
                    .help("pass the folder of one suite, or a few"));
                }
                out.push(path);
            }
        }
        // Depth first, in name order.
        stack.extend(subdirs.into_iter().rev().map(|d| (d, depth + 1)));
    }
    out.sort();
    if out.is_empty() {
        return Err(error(
            root,
            format!("no case files (`*.yaml`) under `{}`", root.display()),
        )
        .help("an empty run is a failure: check the path"));
    }
    Ok(out)
}
