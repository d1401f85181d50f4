//! The socket side of a session: connecting and writing, each bounded
//! by the probe's one deadline.

use super::Session;
use crate::probe::failure::Failure;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Connects to the first address that accepts, within the deadline.
pub(super) fn connect(addrs: &[SocketAddr], deadline: Instant) -> Result<TcpStream, Failure> {
    let mut attempts = Vec::new();
    for addr in addrs {
        let Some(remaining) = remaining(deadline) else {
            attempts.push(format!("{addr}: no connection before the deadline"));
            break;
        };
        match TcpStream::connect_timeout(addr, remaining) {
            Ok(stream) => {
                // Like Core: small messages go out at once (no Nagle wait
                // behind an unacknowledged one).
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => attempts.push(format!("{addr}: {e}")),
        }
    }
    if attempts.is_empty() {
        return Err(Failure::NoAddress);
    }
    Err(Failure::CannotConnect { attempts })
}

/// A read or write that timed out or was interrupted: try again (the
/// deadline is checked before each try).
pub(super) fn is_retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Time left before `deadline`, `None` once it has passed.
pub(super) fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

impl Session<'_, '_> {
    /// write_all where every write waits at most until the deadline.
    pub(super) fn write_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let wait = remaining(self.deadline).ok_or_else(|| {
                io::Error::new(io::ErrorKind::TimedOut, "the probe's deadline passed")
            })?;
            self.stream.set_write_timeout(Some(wait))?;
            match self.stream.write(bytes) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => bytes = bytes.get(n..).unwrap_or(&[]),
                Err(e) if is_retry(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
