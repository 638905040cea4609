//! Where the commands write: standard output that goes quiet once its
//! reader has gone, stderr notes that cannot panic, and errors that have
//! already been rendered.

use std::io::Write;

/// Standard output that goes quiet once its reader has gone (`| head`): a
/// broken pipe is not a failure of the command, so the rest of the output
/// is dropped (report files are still written) and the command ends with
/// the exit code it would have had. `println!` would panic instead.
pub struct Quiet<W> {
    inner: W,
    gone: bool,
}

impl<W: Write> Quiet<W> {
    fn settle<T>(&mut self, r: std::io::Result<T>, gone: T) -> std::io::Result<T> {
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.gone = true;
                Ok(gone)
            }
            other => other,
        }
    }
}

impl<W: Write> Write for Quiet<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.gone {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.settle(r, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.gone {
            return Ok(());
        }
        let r = self.inner.flush();
        self.settle(r, ())
    }
}

/// Standard output for everything the commands print.
pub fn stdout() -> Quiet<std::io::StdoutLock<'static>> {
    Quiet {
        inner: std::io::stdout().lock(),
        gone: false,
    }
}

/// `eprintln!` without its panic: a message for a closed stderr is dropped.
/// The line is written whole, in one call: stderr is unbuffered, so a line
/// written piece by piece was a system call per piece (a visible share of a
/// large run's CPU, with a line per case off a terminal) and could be cut
/// by another writer's output.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut line = format!($($arg)*);
        line.push('\n');
        let _ = std::io::stderr().write_all(line.as_bytes());
    }};
}
pub(crate) use note;

/// A failure whose message is already rendered (located, rustc-style).
#[derive(Debug)]
pub struct Printed(pub String);

impl std::fmt::Display for Printed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.trim_end())
    }
}

impl std::error::Error for Printed {}

/// Render any displayable library error as a [`Printed`] one.
pub fn printed(e: impl std::fmt::Display) -> Printed {
    Printed(e.to_string())
}
