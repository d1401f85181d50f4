//! Every core: the analyzer's flow-sharded parallel pipeline (`--threads`).
//!
//! ```text
//!   reading thread                workers (N)                merge thread
//!   capture -> net -> FlowTable   per-flow Handler (framing,  route + outputs
//!   (reassembly, timers, ids,  -> v2, decoding, hashing,   -> in the table's
//!    idle ends, evictions)        formatting) per shard       call order -> out
//! ```
//!
//! The flow table, with its reassembly, stays in the reading thread: flow
//! numbers, idle timeouts, evictions under `--max-flows` and hole timers
//! all depend on every flow at once (and a flow's end on FIN depends on
//! its reassembly), so they are decided where they are today, in the same
//! order. Each call the table makes to its handler becomes an operation
//! for the worker that owns the flow; workers wrap the analyzer's own
//! per-flow handler (they do not fork it) and write what it emits into
//! their own buffers. The merge writes the operations' output in call
//! order: the bytes are those of the single-threaded pipeline.
//!
//! Memory: the table's caps are the same (one table); each flow's
//! analyzer state lives in exactly one worker, so the total is bounded as
//! with one thread. Rounds in flight are bounded ([`ROUNDS_IN_FLIGHT`],
//! each at most ~256 KiB of stream data and 1024 operations); what they
//! still refer to of a memory-mapped capture is held resident, and no
//! more (`Front::hold_source`).

mod affinity;
mod budget;
mod front;
mod merge;
mod ops;
mod tally;
mod worker;

pub use tally::CommandTally;

use super::{AnalyzerConfig, Progress, SharedSource};
use crate::analyzer::Sink;
use crate::analyzer::Stats;
pub use crate::analyzer::stats::WorkerLoad;
use crate::analyzer::stats::{CaptureCounters, FlowStats};
use crate::capture::{Packet, Timestamp};
use crate::flow::FlowTable;
use crate::p2p::v2::KeyLog;
use front::{Front, Route};
use ops::{Counts, EndFacts, Ident, Op, OpKind};
use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

/// Rounds in flight (sent by the reading thread, not yet written by the
/// merge): the reorder window, up to 8 MiB of stream data. A message's
/// work comes at once when its last byte does (a block: a megabyte hashed
/// and formatted), so while one worker finishes a block the other must
/// have rounds queued. Measured on 2 cores (gencap captures, JSON, 2
/// threads; wall time, peak RSS on 1 GB): 2 rounds, blocks 1.03x one
/// thread; 16 rounds, 1.76-1.98 s, 46-52 MiB; 32 rounds, 1.61-1.71 s,
/// 52-58 MiB; 64 rounds, no faster, 64-72 MiB. CPUs busy (perf stat, 256
/// MB blocks): 1.57-1.76 with 16, 1.69-1.84 with 32, 1.85-1.92 with 64.
pub(super) const ROUNDS_IN_FLIGHT: usize = 32;

/// Most worker threads (the route stores a worker in 16 bits).
pub const MAX_THREADS: usize = 256;

/// Builds a worker's sink writing into its buffer: the output's formatting,
/// through the [`Sink`] interface only.
pub type SinkFactory = Arc<dyn Fn(SharedBuf) -> Box<dyn Sink> + Send + Sync>;

/// A worker's output buffer (the sink writes, the worker takes).
#[derive(Clone, Default)]
pub struct SharedBuf(Rc<RefCell<Vec<u8>>>);

impl SharedBuf {
    fn len(&self) -> usize {
        self.0.borrow().len()
    }

    /// What was written; `empty` (cleared, its capacity kept) takes its
    /// place.
    fn swap(&self, mut empty: Vec<u8>) -> Vec<u8> {
        empty.clear();
        std::mem::replace(&mut *self.0.borrow_mut(), empty)
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A worker's operations of one round.
#[derive(Default)]
struct Batch {
    /// The round's number (from 0).
    round: u64,
    ops: Vec<Op>,
    data: Vec<u8>,
    /// What `shared` stream data refers to (the capture file, in place).
    source: Option<SharedSource>,
}

impl Batch {
    /// Empties the batch for reuse; a batch grown by a huge round is
    /// dropped instead.
    fn recycled(mut self) -> Option<Batch> {
        if self.data.capacity() > KEEP_AT_MOST {
            return None;
        }
        self.ops.clear();
        self.data.clear();
        self.source = None;
        Some(self)
    }
}

/// Batches larger than this are not reused (one huge round must not keep
/// its memory).
const KEEP_AT_MOST: usize = 1 << 20;
/// Output buffers larger than this are not reused (a block written whole
/// with -v); a round of small messages (about 3 bytes of JSON per byte of
/// stream, ~800 KB) keeps its buffer instead of allocating a new one.
const KEEP_OUTPUT_AT_MOST: usize = 4 << 20;

/// A worker's channels: its rounds in, its output out, and the buffers
/// going back to be reused (batches to the front, output to the worker).
struct WorkerLinks {
    /// Shared by all: output waiting for the merge.
    budget: Arc<budget::OutputBudget>,
    /// Set after each round: whether this worker's v2 flows wait for keys.
    keys_awaited: Arc<AtomicBool>,
    batches: Receiver<Batch>,
    output: SyncSender<WorkerOutput>,
    spare_batches: Sender<Batch>,
    spare_bytes: Receiver<Vec<u8>>,
}

/// The order of one round: the worker of each operation.
struct Round {
    route: Vec<u16>,
}

/// A worker's output of one round.
struct RoundOutput {
    bytes: Vec<u8>,
    /// Where each operation's output ends in `bytes`.
    ends: Vec<usize>,
    commands: Vec<tally::CommandCount>,
    /// Flows ended this round: the operation, and the summary's entry.
    flows: Vec<(u32, FlowStats)>,
    /// Hashes announced this round, with their operation, in the order
    /// the worker decoded them.
    announced: Vec<(u32, crate::analyzer::announce::Observation)>,
}

enum WorkerOutput {
    Round(RoundOutput),
    /// The input ended: the worker's statistics and how many flows it
    /// analysed.
    Done(Box<Stats>, u64),
}

/// The analyzer over `threads` workers; used as [`super::Analyzer`] is.
pub struct ParallelAnalyzer {
    table: FlowTable<Route>,
    front: Front,
    /// The reading thread's counters (packets, skipped packets).
    stats: Stats,
    warnings: Vec<String>,
    workers: Vec<JoinHandle<()>>,
    merge: Option<JoinHandle<io::Result<merge::Merged>>>,
    /// Messages counted by the merge so far (progress display).
    messages: Arc<AtomicU64>,
    keys_awaited: Vec<Arc<AtomicBool>>,
}

impl ParallelAnalyzer {
    /// Starts `threads` workers and the merge, which writes to `out`.
    pub fn new(
        config: AnalyzerConfig,
        threads: usize,
        keylog: Option<KeyLog>,
        make_sink: SinkFactory,
        mut out: Box<dyn Write + Send>,
    ) -> io::Result<ParallelAnalyzer> {
        let threads = threads.clamp(1, MAX_THREADS);
        let (route_tx, route_rx) = sync_channel::<Round>(ROUNDS_IN_FLIGHT);
        let mut to_workers = Vec::new();
        let mut from_workers: Vec<Receiver<WorkerOutput>> = Vec::new();
        let mut spare_batches = Vec::new();
        let mut spare_bytes = Vec::new();
        let mut keys_awaited = Vec::new();
        let mut workers = Vec::new();
        let budget = Arc::new(budget::OutputBudget::default());
        for i in 0..threads {
            let (batch_tx, batches) = sync_channel::<Batch>(ROUNDS_IN_FLIGHT);
            let (output, out_rx) = sync_channel::<WorkerOutput>(ROUNDS_IN_FLIGHT);
            let (spare_batch_tx, spare_batch_rx) = channel::<Batch>();
            let (spare_bytes_tx, spare_bytes_rx) = channel::<Vec<u8>>();
            let awaited = Arc::new(AtomicBool::new(false));
            keys_awaited.push(Arc::clone(&awaited));
            let links = WorkerLinks {
                budget: Arc::clone(&budget),
                keys_awaited: awaited,
                batches,
                output,
                spare_batches: spare_batch_tx,
                spare_bytes: spare_bytes_rx,
            };
            let config = config.clone();
            let keylog = keylog.clone();
            let make_sink = Arc::clone(&make_sink);
            let handle = std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || worker::run(config, keylog, make_sink, links))?;
            workers.push(handle);
            to_workers.push(batch_tx);
            from_workers.push(out_rx);
            spare_batches.push(spare_batch_rx);
            spare_bytes.push(spare_bytes_tx);
        }
        let messages = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&messages);
        let merge_budget = Arc::clone(&budget);
        let board = config.announce_board.clone();
        let merge = std::thread::Builder::new()
            .name("merge".to_string())
            .spawn(move || {
                merge::run(
                    route_rx,
                    from_workers,
                    spare_bytes,
                    &mut out,
                    merge::Counters {
                        messages: &counted,
                        budget: &merge_budget,
                    },
                    board,
                )
            })?;
        Ok(ParallelAnalyzer {
            table: FlowTable::new(config.limits, &config.extra_ports),
            front: Front::new(to_workers, spare_batches, route_tx, budget),
            stats: Stats::default(),
            warnings: Vec::new(),
            workers,
            merge: Some(merge),
            messages,
            keys_awaited,
        })
    }

    /// Feeds one captured packet; as [`super::Analyzer::packet`]. An `Err`
    /// is an output error seen by the merge.
    pub fn packet(&mut self, packet: &Packet<'_>) -> io::Result<Progress> {
        self.stats.packets += 1;
        match crate::net::parse_tcp(packet.link_type, packet.data) {
            Ok(segment) => {
                self.front.now = packet.ts;
                self.table.segment(packet.ts, &segment, &mut self.front);
                self.front.hold_source();
            }
            Err(skip) => super::count_skipped(&mut self.stats, &mut self.warnings, packet, skip),
        }
        if self.front.stopped {
            return Err(self.stop());
        }
        Ok(Progress::Continue)
    }

    /// Warnings about the input not yet shown (one line each).
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Messages counted so far (a round or more behind the reading).
    pub fn messages(&self) -> u64 {
        self.messages.load(Ordering::Relaxed)
    }

    /// The merge stopped early: its error.
    fn stop(&mut self) -> io::Error {
        match self.join() {
            Err(e) => e,
            Ok(_) => io::Error::other("the parallel pipeline's merge stopped"),
        }
    }

    /// Ends the workers (their channels close) and waits for the merge.
    fn join(&mut self) -> io::Result<merge::Merged> {
        // Dropping the senders ends the workers' and the merge's loops.
        let front = std::mem::replace(
            &mut self.front,
            Front::new(Vec::new(), Vec::new(), sync_channel(0).0, Arc::default()),
        );
        drop(front);
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        match self.merge.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the parallel pipeline's merge panicked")),
            None => Err(io::Error::other("the parallel pipeline already ended")),
        }
    }

    /// An error if the merge stopped (the output failed).
    fn check(&mut self) -> io::Result<()> {
        if self.front.stopped {
            return Err(self.stop());
        }
        Ok(())
    }
}

impl super::Pipeline for ParallelAnalyzer {
    fn packet(&mut self, packet: &Packet<'_>) -> io::Result<Progress> {
        ParallelAnalyzer::packet(self, packet)
    }

    fn take_warnings(&mut self) -> Vec<String> {
        ParallelAnalyzer::take_warnings(self)
    }

    fn messages(&mut self) -> u64 {
        ParallelAnalyzer::messages(self)
    }

    fn advance(&mut self, now: Timestamp) -> io::Result<()> {
        self.front.now = self.front.now.max(now);
        self.table.advance(now, &mut self.front);
        self.check()
    }

    /// Sends the round being built: the merge writes it when the workers
    /// are done with it.
    fn snapshot(&mut self) -> io::Result<()> {
        let front = &mut self.front;
        self.table
            .each_open(|info, route| front.snapshot(info, *route));
        self.check()
    }

    fn flush_output(&mut self) -> io::Result<()> {
        self.front.send_round();
        self.check()
    }

    fn note(&mut self, ts: Timestamp, source: &'static str, text: &str) -> io::Result<()> {
        self.front.note(ts, source, text);
        self.check()
    }

    fn keys_awaited(&self) -> bool {
        self.keys_awaited.iter().any(|k| k.load(Ordering::Relaxed))
    }

    fn append_keylog(&mut self, bytes: &[u8]) {
        self.front.keylog(bytes);
    }

    fn set_capture_counters(&mut self, counters: CaptureCounters) {
        self.stats.capture = Some(counters);
    }

    fn set_source(&mut self, source: Option<SharedSource>) {
        self.front.set_source(source);
    }

    /// Ends every flow (end of input), waits for the output to be written
    /// and returns the statistics.
    fn finish(mut self) -> io::Result<(Stats, Vec<WorkerLoad>)> {
        self.table.finish(&mut self.front);
        self.front.send_round();
        let merged = self.join()?;
        let mut stats = merged.stats;
        stats.packets = self.stats.packets;
        stats.packets_skipped = self.stats.packets_skipped;
        stats.packets_cut_by_snaplen = self.stats.packets_cut_by_snaplen;
        stats.unsupported_link_types = std::mem::take(&mut self.stats.unsupported_link_types);
        stats.capture = self.stats.capture;
        Ok((stats, merged.load))
    }
}

impl Drop for ParallelAnalyzer {
    fn drop(&mut self) {
        if self.merge.is_some() {
            let _ = self.join();
        }
    }
}
