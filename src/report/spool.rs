//! Where a streaming reporter keeps the parts of its document that come
//! before something known only at the end of the run: the JUnit testcases
//! (the `<testsuites>` and `<testsuite>` tags above them carry the counts),
//! the HTML report's case sections and its failure list (the failures and
//! the run's counts come first on the page). Each part is written out as
//! its case arrives and copied into the report once the run is over, so a
//! reporter's memory does not grow with the run.
//!
//! In memory for [`render`](super::junit::render)-style callers that want a
//! string; in an anonymous temporary file (gone when dropped, even on a
//! crash) for the CLI.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// An append-only byte store whose ranges are copied out at the end.
#[derive(Debug)]
pub struct Spool {
    store: Store,
    len: u64,
}

#[derive(Debug)]
enum Store {
    Memory(Vec<u8>),
    File(BufWriter<File>),
}

impl Spool {
    /// A spool in memory.
    pub fn memory() -> Self {
        Spool {
            store: Store::Memory(Vec::new()),
            len: 0,
        }
    }

    /// A spool in an anonymous temporary file in `dir` (beside the report,
    /// so on the disk it goes to, not a RAM-backed `/tmp`), or in the
    /// system's temporary folder when `dir` takes no file (e.g. `/dev`).
    pub fn file_in(dir: &Path) -> io::Result<Self> {
        let file = match tempfile::tempfile_in(dir) {
            Ok(f) => f,
            // A full disk is an error, not a reason to fill the temporary
            // folder (often RAM) instead.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
                ) =>
            {
                return Err(e)
            }
            Err(_) => tempfile::tempfile()?,
        };
        Ok(Spool {
            store: Store::File(BufWriter::with_capacity(64 * 1024, file)),
            len: 0,
        })
    }

    /// Bytes written so far: the offset the next write starts at.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append `bytes`.
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.store {
            Store::Memory(v) => v.extend_from_slice(bytes),
            Store::File(f) => f.write_all(bytes)?,
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Done writing: a reader of what was written.
    pub fn finish(self) -> io::Result<SpoolReader> {
        Ok(SpoolReader(match self.store {
            Store::Memory(v) => Reader::Memory(v),
            Store::File(f) => Reader::File(f.into_inner().map_err(|e| e.into_error())?),
        }))
    }
}

/// What a [`Spool`] holds, read back a range at a time.
#[derive(Debug)]
pub struct SpoolReader(Reader);

#[derive(Debug)]
enum Reader {
    Memory(Vec<u8>),
    File(File),
}

impl SpoolReader {
    /// Copy `len` bytes from `offset` to `out`.
    pub fn copy(&mut self, offset: u64, len: u64, out: &mut impl Write) -> io::Result<()> {
        match &mut self.0 {
            Reader::Memory(v) => {
                let range = usize::try_from(offset)
                    .ok()
                    .zip(usize::try_from(offset + len).ok())
                    .and_then(|(a, b)| v.get(a..b))
                    .ok_or_else(|| io::Error::other("spool range out of bounds"))?;
                out.write_all(range)
            }
            Reader::File(f) => {
                f.seek(SeekFrom::Start(offset))?;
                let copied = io::copy(&mut (&mut *f).take(len), out)?;
                if copied == len {
                    Ok(())
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the report's temporary file is shorter than what was written to it",
                    ))
                }
            }
        }
    }

    /// Copy everything to `out`.
    pub fn copy_all(&mut self, len: u64, out: &mut impl Write) -> io::Result<()> {
        self.copy(0, len, out)
    }
}

#[cfg(test)]
mod tests {
    use super::Spool;

    #[test]
    fn ranges_come_back_as_written_from_memory_and_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        for mut s in [Spool::memory(), Spool::file_in(dir.path()).unwrap()] {
            s.append(b"hello ").unwrap();
            let at = s.len();
            s.append(b"world").unwrap();
            assert_eq!((at, s.len()), (6, 11));
            let mut r = s.finish().unwrap();
            let mut out = Vec::new();
            r.copy(at, 5, &mut out).unwrap();
            r.copy(0, 5, &mut out).unwrap();
            r.copy_all(11, &mut out).unwrap();
            assert_eq!(out, b"worldhellohello world");
            assert!(r.copy(8, 10, &mut Vec::new()).is_err(), "past the end");
        }
    }

    #[test]
    fn a_folder_that_takes_no_file_falls_back_to_the_temporary_folder() {
        let mut s = Spool::file_in(std::path::Path::new("/nonexistent/folder")).unwrap();
        s.append(b"x").unwrap();
        let mut out = Vec::new();
        s.finish().unwrap().copy_all(1, &mut out).unwrap();
        assert_eq!(out, b"x");
    }
}
