//! Live capture with libpcap (loaded at run time): one thread per
//! interface, packets handed to the analyzer in batches.
//!
//! The capture path, and why (see the README's performance section):
//! - A kernel buffer sized for bursts (`-B`, default [`DEFAULT_BUFFER_KIB`]):
//!   libpcap's 2 MB default overflows during a single block burst.
//! - Not immediate mode: on Linux that selects libpcap's TPACKET_V2 ring,
//!   whose slots are each sized for a whole snap length, so a 32 MiB ring
//!   holds only ~500 packets (measured: drops from 100 Mbps of small
//!   messages). Without it libpcap uses TPACKET_V3, whose blocks pack
//!   packets by their real size, as tcpdump does; the kernel hands a block
//!   over when it is full or [`DELIVERY_TIMEOUT_MS`] after its first
//!   packet, which bounds the latency of sparse traffic.
//! - Every packet waiting is taken in the same wake-up (`pcap_dispatch`).
//! - Packets are copied into a [`Batch`] (one byte buffer plus an index),
//!   and batches are reused: they go back to their capture thread after the
//!   analyzer is done with them. No allocation per packet; a wake-up of the
//!   analyzer per batch, not per packet.
//! - Non-blocking reads with our own poll() and a 100 ms timeout, so every
//!   thread notices a stop request (Ctrl-C, `--duration`, `-c`, a closed
//!   output pipe) promptly even when no packet arrives.
//! - libpcap's drop counters are read every [`STATS_INTERVAL`]; a change is
//!   sent as [`LiveEvent::Dropped`] at once.
//!
//! Memory: the kernel ring (`-B`) plus at most
//! ([`CHANNEL_BATCHES`] + 2) batches per interface, each at most
//! [`BATCH_BYTES`] + [`DISPATCH_PACKETS`] × snaplen bytes.

use super::libpcap::{Activated, Device, Handle, PcapError};
use super::{LinkType, Packet, Timestamp};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest a captured packet waits in a partly filled kernel block before
/// it is handed over (libpcap's timeout; TPACKET_V3's block retire time).
const DELIVERY_TIMEOUT_MS: i32 = 10;
/// How long a thread may wait for packets before checking the stop flag.
const POLL_TIMEOUT_MS: i32 = 100;
/// Default kernel buffer, KiB (tcpdump's `-B` unit): several 4 MB blocks
/// arriving at once fit.
pub const DEFAULT_BUFFER_KIB: u32 = 32 * 1024;
/// Batches queued between one capture thread and the analyzer.
pub const CHANNEL_BATCHES: usize = 8;
/// A batch is handed over once it holds this many bytes (or the ring is
/// empty).
pub const BATCH_BYTES: usize = 256 * 1024;
/// Packets taken from libpcap per `pcap_dispatch` call, which bounds how far
/// one call can overshoot [`BATCH_BYTES`].
pub const DISPATCH_PACKETS: i32 = 16;
/// How often libpcap's drop counters are read.
pub const STATS_INTERVAL: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub interfaces: Vec<String>,
    pub snaplen: i32,
    pub promisc: bool,
    /// BPF capture filter (libpcap syntax).
    pub filter: String,
    /// Kernel buffer size in KiB (`-B`).
    pub buffer_kib: u32,
}

/// Where one packet of a batch lies in its buffer.
#[derive(Debug, Clone, Copy)]
struct Slot {
    ts: Timestamp,
    start: usize,
    end: usize,
    orig_len: u32,
}

/// Packets of one interface, copied out of libpcap's ring.
pub struct Batch {
    pub interface: usize,
    pub link_type: LinkType,
    slots: Vec<Slot>,
    bytes: Vec<u8>,
}

impl Batch {
    fn new(interface: usize, link_type: LinkType) -> Batch {
        Batch {
            interface,
            link_type,
            slots: Vec::with_capacity(256),
            bytes: Vec::with_capacity(BATCH_BYTES),
        }
    }

    fn push(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(data);
        self.slots.push(Slot {
            ts,
            start,
            end: self.bytes.len(),
            orig_len,
        });
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.bytes.clear();
    }

    /// The packets, in capture order.
    pub fn packets(&self) -> impl Iterator<Item = Packet<'_>> {
        let interface = u32::try_from(self.interface).unwrap_or(u32::MAX);
        self.slots.iter().map(move |s| {
            // Slots are made by `push` from this buffer, which only grows
            // until `clear` empties both: always in range.
            let data = self.bytes.get(s.start..s.end);
            debug_assert!(
                data.is_some(),
                "slot {}..{} of {}",
                s.start,
                s.end,
                self.bytes.len()
            );
            Packet {
                ts: s.ts,
                link_type: self.link_type,
                data: data.unwrap_or_default(),
                orig_len: s.orig_len,
                interface,
            }
        })
    }
}

/// libpcap's counters for one interface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DropCounters {
    pub received: u64,
    pub dropped: u64,
    pub if_dropped: u64,
}

/// What capture threads send.
pub enum LiveEvent {
    Batch(Batch),
    /// libpcap's drop counters of `interface` went up (totals since start).
    Dropped {
        interface: usize,
        at: Timestamp,
        counters: DropCounters,
        previous: DropCounters,
    },
    /// The thread of `interface` ended (stop requested, or `error`).
    Ended {
        interface: usize,
        error: Option<String>,
        counters: Option<DropCounters>,
    },
}

/// Why a capture could not start: one line each, with what to do.
#[derive(Debug)]
pub enum LiveError {
    Permission {
        interface: String,
        detail: String,
    },
    UnknownInterface {
        interface: String,
        known: Vec<String>,
    },
    Filter {
        filter: String,
        detail: String,
    },
    Other {
        interface: String,
        detail: String,
    },
}

impl std::fmt::Display for LiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LiveError::Permission { interface, detail } => write!(
                f,
                "cannot capture on {interface}: {detail} (capture needs root, or the \
                 CAP_NET_RAW and CAP_NET_ADMIN capabilities: sudo setcap \
                 cap_net_raw,cap_net_admin=eip $(which btcsniff))"
            ),
            LiveError::UnknownInterface { interface, known } => write!(
                f,
                "no such interface: {interface} (interfaces: {})",
                known.join(", ")
            ),
            LiveError::Filter { filter, detail } => {
                write!(f, "bad capture filter '{filter}': {detail}")
            }
            LiveError::Other { interface, detail } => {
                write!(f, "cannot capture on {interface}: {detail}")
            }
        }
    }
}

impl std::error::Error for LiveError {}

/// Names of the interfaces libpcap can capture on, in its order.
pub fn interface_names() -> Vec<String> {
    Device::list()
        .map(|list| list.into_iter().map(|d| d.name).collect())
        .unwrap_or_default()
}

/// An interface given by name, or by its number in `interfaces` (`-D`), as
/// tcpdump's `-i 2` does.
pub fn resolve_interface(name: &str) -> String {
    match name.parse::<usize>() {
        Ok(n) if n >= 1 => interface_names()
            .get(n.saturating_sub(1))
            .cloned()
            .unwrap_or_else(|| name.to_string()),
        _ => name.to_string(),
    }
}

fn open_error(interface: &str, err: PcapError) -> LiveError {
    if err.is_permission() || err.message.to_lowercase().contains("not permitted") {
        LiveError::Permission {
            interface: interface.to_string(),
            detail: err.message,
        }
    } else if err.is_no_such_device() {
        LiveError::UnknownInterface {
            interface: interface.to_string(),
            known: interface_names(),
        }
    } else {
        LiveError::Other {
            interface: interface.to_string(),
            detail: err.message,
        }
    }
}

/// An opened capture, ready to run.
pub struct OpenCapture {
    pub interface: String,
    pub link_type: u32,
    /// A warning from `pcap_activate` (e.g. no promiscuous mode).
    pub warning: Option<String>,
    /// libpcap's counters, updated by the capture thread every
    /// [`STATS_INTERVAL`] (for `live --metrics`).
    pub totals: Arc<CaptureTotals>,
    handle: Handle,
}

/// libpcap's counters of one interface, readable from any thread.
#[derive(Debug, Default)]
pub struct CaptureTotals {
    pub received: AtomicU64,
    pub dropped: AtomicU64,
    pub if_dropped: AtomicU64,
}

impl CaptureTotals {
    fn store(&self, c: DropCounters) {
        self.received.store(c.received, Ordering::Relaxed);
        self.dropped.store(c.dropped, Ordering::Relaxed);
        self.if_dropped.store(c.if_dropped, Ordering::Relaxed);
    }
}

/// Opens every interface (all errors are reported before anything runs).
pub fn open(options: &LiveOptions) -> anyhow::Result<Vec<OpenCapture>> {
    let mut opened = Vec::new();
    let buffer_bytes =
        i32::try_from(u64::from(options.buffer_kib).saturating_mul(1024)).unwrap_or(i32::MAX);
    for name in &options.interfaces {
        let mut handle = Handle::create(name).map_err(|e| anyhow::anyhow!("{e}"))?;
        let other = |e: PcapError| open_error(name, e);
        handle
            .configure(
                options.snaplen,
                options.promisc,
                DELIVERY_TIMEOUT_MS,
                false,
                Some(buffer_bytes),
            )
            .map_err(other)?;
        let warning = match handle.activate().map_err(other)? {
            Activated::Ok => None,
            Activated::Warning(w) => Some(w),
        };
        // Non-blocking, with our own poll(): a stop request must be noticed
        // even when no packet arrives.
        handle.set_nonblocking().map_err(other)?;
        handle
            .set_filter(&options.filter)
            .map_err(|e| LiveError::Filter {
                filter: options.filter.clone(),
                detail: e.message,
            })?;
        opened.push(OpenCapture {
            interface: name.clone(),
            link_type: handle.link_type(),
            warning,
            totals: Arc::default(),
            handle,
        });
    }
    Ok(opened)
}

/// The two ends the analyzer holds: batches in, spent batches back.
pub struct Channels {
    pub batches: Receiver<LiveEvent>,
    returns: Vec<Sender<Batch>>,
}

impl Channels {
    /// Gives a spent batch back to its capture thread for reuse.
    pub fn recycle(&self, mut batch: Batch) {
        batch.clear();
        if let Some(back) = self.returns.get(batch.interface) {
            let _ = back.send(batch);
        }
    }
}

/// Starts one thread per capture. Each runs until `stop` is set or its
/// interface fails, then sends `Ended` with libpcap's counters.
pub fn spawn(
    captures: Vec<OpenCapture>,
    stop: &Arc<AtomicBool>,
) -> (Channels, Vec<JoinHandle<()>>) {
    let capacity = CHANNEL_BATCHES.saturating_mul(captures.len().max(1));
    let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
    let mut returns = Vec::new();
    let mut threads = Vec::new();
    for (index, open) in captures.into_iter().enumerate() {
        let (back_tx, back_rx) = std::sync::mpsc::channel();
        returns.push(back_tx);
        let stop = Arc::clone(stop);
        let tx = tx.clone();
        threads.push(std::thread::spawn(move || {
            capture_loop(index, open, &stop, &tx, &back_rx)
        }));
    }
    let channels = Channels {
        batches: rx,
        returns,
    };
    (channels, threads)
}

/// Waits until the capture has packets, or POLL_TIMEOUT_MS.
fn wait_readable(fd: Option<i32>) {
    let Some(fd) = fd else {
        std::thread::sleep(Duration::from_millis(1));
        return;
    };
    let mut fds = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, count 1; poll only writes `revents`.
    unsafe {
        libc::poll(&mut fds, 1, POLL_TIMEOUT_MS);
    }
}

fn counters_of(handle: &mut Handle) -> Option<DropCounters> {
    handle.stats().ok().map(|s| DropCounters {
        received: u64::from(s.ps_recv),
        dropped: u64::from(s.ps_drop),
        if_dropped: u64::from(s.ps_ifdrop),
    })
}

/// Takes what libpcap has waiting into `batch`, until the ring is empty or
/// the batch holds [`BATCH_BYTES`].
fn fill(handle: &mut Handle, batch: &mut Batch) -> Result<(), PcapError> {
    loop {
        let mut push = |h: &super::libpcap::PktHdr, data: &[u8]| {
            let ts = Timestamp::new(
                h.ts.tv_sec,
                u32::try_from(h.ts.tv_usec)
                    .unwrap_or(0)
                    .saturating_mul(1000),
            );
            batch.push(ts, data, h.len);
        };
        let taken = handle.dispatch(DISPATCH_PACKETS, &mut push)?;
        if taken == 0 || batch.bytes.len() >= BATCH_BYTES {
            return Ok(());
        }
    }
}

fn capture_loop(
    index: usize,
    mut open: OpenCapture,
    stop: &AtomicBool,
    tx: &SyncSender<LiveEvent>,
    spent: &Receiver<Batch>,
) {
    let link_type = LinkType(open.link_type);
    let fd = open.handle.selectable_fd();
    let mut error = None;
    let mut last_counters = DropCounters::default();
    let mut last_check = Instant::now();
    let mut idle: Option<Batch> = None;
    while !stop.load(Ordering::Relaxed) {
        let mut batch = idle
            .take()
            .or_else(|| spent.try_recv().ok())
            .unwrap_or_else(|| Batch::new(index, link_type));
        let mut failed = false;
        if let Err(e) = fill(&mut open.handle, &mut batch) {
            error = Some(format!("{}: {e}", open.interface));
            failed = true;
        }
        if last_check.elapsed() >= STATS_INTERVAL {
            last_check = Instant::now();
            if let Some(now) = counters_of(&mut open.handle) {
                open.totals.store(now);
                if now.dropped > last_counters.dropped || now.if_dropped > last_counters.if_dropped
                {
                    let event = LiveEvent::Dropped {
                        interface: index,
                        at: Timestamp::now(),
                        counters: now,
                        previous: last_counters,
                    };
                    if tx.send(event).is_err() {
                        break;
                    }
                }
                last_counters = now;
            }
        }
        if batch.is_empty() {
            if failed {
                break;
            }
            idle = Some(batch);
            wait_readable(fd);
            continue;
        }
        if tx.send(LiveEvent::Batch(batch)).is_err() || failed {
            break; // the analyzer is gone, or the interface failed
        }
    }
    let counters = counters_of(&mut open.handle);
    let _ = tx.send(LiveEvent::Ended {
        interface: index,
        error,
        counters,
    });
}
