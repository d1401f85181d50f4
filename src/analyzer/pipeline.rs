//! What a packet source drives: the analyzer on one thread
//! ([`super::Analyzer`]) or over workers ([`super::parallel`]), with the
//! same calls for `read` and `live`.

use super::Progress;
use crate::analyzer::Stats;
use crate::analyzer::stats::CaptureCounters;
use crate::capture::{Packet, Timestamp};
use std::io;
use std::sync::Arc;

/// Bytes shared with the workers that stay valid as long as they are held
/// (a memory-mapped capture file).
pub type SharedSource = Arc<crate::capture::MappedFile>;

pub trait Pipeline {
    /// Feeds one captured packet. An `Err` is an output error.
    fn packet(&mut self, packet: &Packet<'_>) -> io::Result<Progress>;
    /// Warnings about the input not yet shown (one line each).
    fn take_warnings(&mut self) -> Vec<String>;
    /// Messages counted so far (progress display; behind the reading with
    /// workers).
    fn messages(&mut self) -> u64;
    /// Brings capture time to `now` while no packet comes (live).
    fn advance(&mut self, now: Timestamp) -> io::Result<()>;
    /// Writes every open flow's record as it stands, with its peer record,
    /// in order of creation (live, on SIGUSR1).
    fn snapshot(&mut self) -> io::Result<()>;
    /// Writes out what is held (live: once per batch of packets).
    fn flush_output(&mut self) -> io::Result<()>;
    /// A note from the source, between the events around it.
    fn note(&mut self, ts: Timestamp, source: &'static str, text: &str) -> io::Result<()>;
    /// Whether v2 flows wait for their key to be logged.
    fn keys_awaited(&self) -> bool;
    /// What a growing key log appended.
    fn append_keylog(&mut self, bytes: &[u8]);
    /// libpcap's counters, for the summary.
    fn set_capture_counters(&mut self, counters: CaptureCounters);
    /// The bytes the next packets borrow from, when they stay valid
    /// after the packet (a capture file read in place): stream data in
    /// them can be handed on without a copy. `None`: packets' bytes are
    /// only valid during the call. One thread ignores it.
    fn set_source(&mut self, _source: Option<SharedSource>) {}
    /// Ends every flow, writes everything out; the summary and each
    /// worker's share of the work (empty on one thread).
    fn finish(self) -> io::Result<(Stats, Vec<super::parallel::WorkerLoad>)>;
}

impl Pipeline for super::Analyzer<'_> {
    fn packet(&mut self, packet: &Packet<'_>) -> io::Result<Progress> {
        super::Analyzer::packet(self, packet)
    }
    fn take_warnings(&mut self) -> Vec<String> {
        super::Analyzer::take_warnings(self)
    }
    fn messages(&mut self) -> u64 {
        self.stats_mut().messages
    }
    fn advance(&mut self, now: Timestamp) -> io::Result<()> {
        super::Analyzer::advance(self, now)
    }
    fn snapshot(&mut self) -> io::Result<()> {
        super::Analyzer::snapshot(self)
    }
    fn flush_output(&mut self) -> io::Result<()> {
        super::Analyzer::flush_output(self)
    }
    fn note(&mut self, ts: Timestamp, source: &'static str, text: &str) -> io::Result<()> {
        super::Analyzer::note(self, ts, source, text)
    }
    fn keys_awaited(&self) -> bool {
        super::Analyzer::keys_awaited(self)
    }
    fn append_keylog(&mut self, bytes: &[u8]) {
        super::Analyzer::append_keylog(self, bytes)
    }
    fn set_capture_counters(&mut self, counters: CaptureCounters) {
        self.stats_mut().capture = Some(counters);
    }
    fn finish(self) -> io::Result<(Stats, Vec<super::parallel::WorkerLoad>)> {
        super::Analyzer::finish(self).map(|stats| (stats, Vec::new()))
    }
}
