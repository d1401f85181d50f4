//! Live capture with libpcap (the `pcap` crate): one thread per interface,
//! packets handed to the analyzer over a bounded channel.
//!
//! Immediate mode so messages print as they arrive; a 100 ms read timeout
//! so every thread notices a stop request (Ctrl-C, `--duration`, `--count`,
//! a closed output pipe) promptly.

use super::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;

/// libpcap read timeout: how long a thread may wait before checking the
/// stop flag.
const READ_TIMEOUT_MS: i32 = 100;

/// Packets queued between capture threads and the analyzer; when full the
/// capture threads wait and the kernel buffer absorbs the burst (drops show
/// in libpcap's counters).
pub const CHANNEL_PACKETS: usize = 4096;

#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub interfaces: Vec<String>,
    pub snaplen: i32,
    pub promisc: bool,
    /// BPF capture filter (libpcap syntax).
    pub filter: String,
}

/// One captured packet, owned (it crosses threads).
pub struct LivePacket {
    pub ts: Timestamp,
    pub link_type: u32,
    pub data: Vec<u8>,
    pub orig_len: u32,
    pub interface: usize,
}

/// What capture threads send.
pub enum LiveEvent {
    Packet(LivePacket),
    /// The thread of `interface` ended (stop requested, or `error`).
    Ended {
        interface: usize,
        error: Option<String>,
        stats: Option<pcap::Stat>,
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

/// Names of the interfaces libpcap can capture on.
pub fn interface_names() -> Vec<String> {
    pcap::Device::list()
        .map(|list| list.into_iter().map(|d| d.name).collect())
        .unwrap_or_default()
}

fn classify_open_error(interface: &str, err: pcap::Error) -> LiveError {
    let detail = err.to_string();
    let lower = detail.to_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        LiveError::Permission {
            interface: interface.to_string(),
            detail,
        }
    } else if lower.contains("no such device")
        || lower.contains("doesn't exist")
        || lower.contains("no such file")
    {
        LiveError::UnknownInterface {
            interface: interface.to_string(),
            known: interface_names(),
        }
    } else {
        LiveError::Other {
            interface: interface.to_string(),
            detail,
        }
    }
}

/// An opened capture, ready to run.
pub struct OpenCapture {
    pub interface: String,
    pub link_type: u32,
    capture: pcap::Capture<pcap::Active>,
}

/// Opens every interface (all errors are reported before anything runs).
pub fn open(options: &LiveOptions) -> Result<Vec<OpenCapture>, LiveError> {
    let mut opened = Vec::new();
    for name in &options.interfaces {
        let known = interface_names();
        if name != "any" && !known.is_empty() && !known.contains(name) {
            return Err(LiveError::UnknownInterface {
                interface: name.clone(),
                known,
            });
        }
        let inactive =
            pcap::Capture::from_device(name.as_str()).map_err(|e| classify_open_error(name, e))?;
        // Non-blocking, with our own poll(): libpcap's read timeout is not
        // honoured in immediate mode on Linux, and a stop request must be
        // noticed even when no packet arrives.
        let mut capture = inactive
            .immediate_mode(true)
            .snaplen(options.snaplen)
            .promisc(options.promisc)
            .timeout(READ_TIMEOUT_MS)
            .open()
            .and_then(|c| c.setnonblock())
            .map_err(|e| classify_open_error(name, e))?;
        capture
            .filter(&options.filter, true)
            .map_err(|e| LiveError::Filter {
                filter: options.filter.clone(),
                detail: e.to_string(),
            })?;
        let link_type = u32::try_from(capture.get_datalink().0).unwrap_or(u32::MAX);
        opened.push(OpenCapture {
            interface: name.clone(),
            link_type,
            capture,
        });
    }
    Ok(opened)
}

/// Starts one thread per capture. Each runs until `stop` is set or its
/// interface fails, then sends `Ended` with libpcap's counters.
pub fn spawn(
    captures: Vec<OpenCapture>,
    stop: &Arc<AtomicBool>,
    tx: &SyncSender<LiveEvent>,
) -> Vec<JoinHandle<()>> {
    captures
        .into_iter()
        .enumerate()
        .map(|(index, open)| {
            let stop = Arc::clone(stop);
            let tx = tx.clone();
            std::thread::spawn(move || capture_loop(index, open, &stop, &tx))
        })
        .collect()
}

/// Waits until the capture has packets, or READ_TIMEOUT_MS.
fn wait_readable(capture: &pcap::Capture<pcap::Active>) {
    use std::os::fd::AsRawFd;
    let mut fds = libc::pollfd {
        fd: capture.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, count 1; poll only writes `revents`.
    unsafe {
        libc::poll(&mut fds, 1, READ_TIMEOUT_MS);
    }
}

fn capture_loop(
    index: usize,
    mut open: OpenCapture,
    stop: &AtomicBool,
    tx: &SyncSender<LiveEvent>,
) {
    let mut error = None;
    while !stop.load(Ordering::Relaxed) {
        match open.capture.next_packet() {
            Ok(packet) => {
                let ts = Timestamp {
                    secs: packet.header.ts.tv_sec,
                    nanos: u32::try_from(packet.header.ts.tv_usec)
                        .unwrap_or(0)
                        .saturating_mul(1000),
                };
                let event = LiveEvent::Packet(LivePacket {
                    ts,
                    link_type: open.link_type,
                    data: packet.data.to_vec(),
                    orig_len: packet.header.len,
                    interface: index,
                });
                if tx.send(event).is_err() {
                    break; // the analyzer is gone
                }
            }
            Err(pcap::Error::TimeoutExpired) => wait_readable(&open.capture),
            Err(e) => {
                error = Some(format!("{}: {e}", open.interface));
                break;
            }
        }
    }
    let stats = open.capture.stats().ok();
    let _ = tx.send(LiveEvent::Ended {
        interface: index,
        error,
        stats,
    });
}
