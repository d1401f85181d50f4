//! `kill -USR1 PID`: `live` writes every open flow's record as it stands,
//! with its peer record (`flow` records with `"event":"snapshot"`), as
//! tcpdump prints its counts on SIGUSR1. The handler only sets a flag; the
//! session's loop takes it within a tick.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigusr1(_signal: libc::c_int) {
    // Async-signal-safe: one atomic store.
    REQUESTED.store(true, Ordering::Relaxed);
}

/// Installs the SIGUSR1 handler (with SA_RESTART, so that blocking calls
/// of other threads go on; the capture's poll() wakes with EINTR and
/// polls again).
pub fn install() -> io::Result<()> {
    // SAFETY: a zeroed sigaction is valid (empty mask, no flags); the
    // handler only stores to an atomic, which is async-signal-safe.
    let rc = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigusr1 as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut())
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether a snapshot was asked for since the last call.
pub(super) fn take() -> bool {
    REQUESTED.swap(false, Ordering::Relaxed)
}
