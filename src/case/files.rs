//! Reading the files a suite is made of without trusting them: only regular
//! files are opened (a FIFO would block, `/dev/zero` would never end), reads
//! are bounded, and a file that must not be reached through a symbolic link
//! (a snapshot) is refused when it is one.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

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
