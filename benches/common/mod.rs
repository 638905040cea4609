//! What the benches share: running a child process and reading its own
//! peak memory.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run `cmd` (a child of this process) and return its exit status, its
/// own peak RSS in KiB from `wait4`, its wall time and its stdout.
///
/// Linux counts in a child's `ru_maxrss` the peak of the memory it was
/// spawned from (the child shares it until `exec`): call it from a process
/// that is small (the throughput bench spawns a wrapper for that), or the
/// figure is the parent's peak, not the child's.
// The child is reaped by `wait4` below, which std's `wait` cannot replace:
// it gives no rusage.
#[allow(clippy::zombie_processes)]
pub fn wait_child(mut cmd: Command) -> (std::process::ExitStatus, u64, Duration, String) {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn a child");
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child by pid, with valid pointers.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert!(pid > 0, "wait4 failed: {}", std::io::Error::last_os_error());
    let took = started.elapsed();
    (
        std::process::ExitStatus::from_raw(status),
        usage.ru_maxrss as u64,
        took,
        out,
    )
}
