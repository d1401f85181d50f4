//! The `--keylog` file followed as it grows during a live capture (a
//! client writes a session's line while the capture runs).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Most bytes taken from the file per poll (the rest on the next poll).
const MAX_READ_PER_POLL: u64 = 4 << 20;
/// The file is looked at no more often than this (not once per packet).
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A key log followed as it grows; it may not exist yet.
pub struct Follower {
    path: PathBuf,
    /// Bytes of the file taken so far.
    offset: u64,
    last_poll: Option<Instant>,
}

impl Follower {
    pub fn new(path: &Path) -> Follower {
        Follower {
            path: path.to_path_buf(),
            offset: 0,
            last_poll: None,
        }
    }

    /// What the file gained since the last look, if the last look is at
    /// least `POLL_INTERVAL` (100 ms) ago (else nothing).
    pub fn poll(&mut self) -> Vec<u8> {
        if self.last_poll.is_some_and(|t| t.elapsed() < POLL_INTERVAL) {
            return Vec::new();
        }
        self.poll_now()
    }

    /// What the file gained since the last look (empty when nothing or
    /// when it cannot be read now). A file that shrank was rewritten: it
    /// is read again from its start (known keys stay known).
    pub fn poll_now(&mut self) -> Vec<u8> {
        self.last_poll = Some(Instant::now());
        let Ok(mut file) = File::open(&self.path) else {
            return Vec::new();
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.offset {
            self.offset = 0;
        }
        if len == self.offset || file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut bytes = Vec::new();
        let _ = file.take(MAX_READ_PER_POLL).read_to_end(&mut bytes);
        self.offset += bytes.len() as u64;
        bytes
    }
}
