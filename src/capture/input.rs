//! The byte source under pcap-parser.

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

pub(super) fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(buf.get_mut(got..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => got = got.saturating_add(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The input (its peeked magic chained back in front: `Read::chain`) as
/// pcap-parser reads it: keeps the `io::Error` that pcap-parser reduces to
/// `ReadError`, and returns at least [`MIN_READ`] bytes per call unless
/// the input ends (pcap-parser parses the file header after a single
/// read).
pub(super) struct ErrorTap<R> {
    pub(super) inner: R,
    pub(super) error: Arc<Mutex<Option<io::Error>>>,
}

/// Larger than a pcap file header (24) and a minimal pcapng SHB (28); small
/// enough not to delay packets from a pipe.
const MIN_READ: usize = 32;

impl<R: Read> Read for ErrorTap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut got = 0;
        while got < buf.len().min(MIN_READ) || got == 0 && !buf.is_empty() {
            match self.inner.read(buf.get_mut(got..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => got = got.saturating_add(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Bytes already copied are returned; the error repeats on
                // the next call.
                Err(_) if got > 0 => break,
                Err(e) => {
                    let kind = e.kind();
                    if let Ok(mut slot) = self.error.lock() {
                        *slot = Some(e);
                    }
                    return Err(io::Error::from(kind));
                }
            }
        }
        Ok(got)
    }
}
