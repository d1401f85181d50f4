//! The active probe: connect to a node over v1 or BIP324 v2 P2P (v2
//! first by default, v1 when the node refuses it), take part in the
//! handshake like a real peer, ask for transactions and blocks with
//! `getdata`, and verify what comes back.
//!
//! Everything sent and received goes through the same codec (framing
//! decoder, typed messages) and the same sinks as a capture, as flow 1;
//! progress and results are `Note` events. The whole probe (connect,
//! handshake, answers) is bounded by one deadline, and the peer is bounded
//! in bytes and messages. Exit codes: see [`outcome`] and
//! [`crate::exit_code`].

pub mod failure;
mod observer;
pub mod outcome;
pub mod record;
mod session;
pub mod target;
pub mod transport;
pub mod verify;

pub use failure::{Failure, HandshakeStage};
pub use outcome::{ProbeOutcome, RequestResult, Status};
pub use target::Target;
pub use transport::{TransportChoice, TransportUsed};

use crate::output::Sink;
use crate::p2p::{Hash256, Network};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The protocol version the probe announces (Core's PROTOCOL_VERSION).
pub const PROTOCOL_VERSION: i32 = 70016;
/// Core's MIN_PEER_PROTO_VERSION: older peers are refused.
pub const MIN_PEER_PROTO_VERSION: i32 = 31800;
/// BIP339: wtxidrelay (and BIP155 sendaddrv2) are sent to peers at this
/// version or later, between version and verack.
pub const WTXID_RELAY_VERSION: i32 = 70016;
/// BIP31: pings carry a nonce the pong must echo from this version on.
pub const BIP0031_VERSION: i32 = 60000;

/// Inventory types (PROTOCOL.md, "Inventory types").
pub const MSG_TX: u32 = 1;
pub const MSG_BLOCK: u32 = 2;
pub const MSG_WTX: u32 = 5;
pub const MSG_WITNESS_FLAG: u32 = 1 << 30;

/// Default overall timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// One object to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Tx(Hash256),
    Block(Hash256),
}

impl Request {
    pub fn hash(&self) -> &Hash256 {
        match self {
            Request::Tx(h) | Request::Block(h) => h,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Request::Tx(_) => "tx",
            Request::Block(_) => "block",
        }
    }

    /// The getdata inventory type: witness variants unless `witness` is off
    /// (for peers that predate segwit).
    pub fn inv_type(&self, witness: bool) -> u32 {
        let base = match self {
            Request::Tx(_) => MSG_TX,
            Request::Block(_) => MSG_BLOCK,
        };
        if witness {
            base | MSG_WITNESS_FLAG
        } else {
            base
        }
    }

    /// Whether a `notfound` inventory item answers this request.
    pub fn answered_by_inv(&self, type_id: u32, hash: &Hash256) -> bool {
        let kind_matches = matches!(
            (self, type_id & !MSG_WITNESS_FLAG),
            (Request::Tx(_), MSG_TX | MSG_WTX) | (Request::Block(_), MSG_BLOCK)
        );
        kind_matches && hash == self.hash()
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.hash())
    }
}

/// The user agent announced by default: `/btcsniff:VERSION/` (BIP14 form).
pub fn default_user_agent() -> String {
    format!("/btcsniff:{}/", env!("CARGO_PKG_VERSION"))
}

/// Everything a probe needs.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Addresses to try in order (a name may resolve to several); the
    /// first that accepts the connection is probed.
    pub addrs: Vec<SocketAddr>,
    pub network: Network,
    pub requests: Vec<Request>,
    /// Bound on the whole probe, counted from `started`.
    pub timeout: Duration,
    /// Ask with MSG_WITNESS_TX / MSG_WITNESS_BLOCK (default) or the plain
    /// types (`--no-witness`, for peers older than segwit).
    pub witness: bool,
    pub user_agent: String,
    /// Record the session as a pcap file.
    pub record: Option<PathBuf>,
    /// Compute every optional hash when decoding (wtxids inside blocks).
    pub full_detail: bool,
    /// When the time budget started (before name resolution, in the CLI).
    pub started: Instant,
    /// v1, v2, or v2 with fallback to v1 (default).
    pub transport: TransportChoice,
    /// v2: decoy packets sent before our transport version packet.
    pub decoys: u32,
    /// v2: append the session's key-log line to this file.
    pub keylog: Option<PathBuf>,
    /// v2: hand the session's key to this channel (a live capture
    /// decrypting the probe's own session).
    pub key_channel: Option<std::sync::mpsc::Sender<crate::p2p::v2::KeyLogEntry>>,
}

impl ProbeConfig {
    /// A configuration with the defaults: 10 s, witness requests, the
    /// default user agent, no recording, time counted from now.
    pub fn new(addrs: Vec<SocketAddr>, network: Network, requests: Vec<Request>) -> ProbeConfig {
        ProbeConfig {
            addrs,
            network,
            requests,
            timeout: DEFAULT_TIMEOUT,
            witness: true,
            user_agent: default_user_agent(),
            record: None,
            full_detail: false,
            started: Instant::now(),
            transport: TransportChoice::default(),
            decoys: 0,
            keylog: None,
            key_channel: None,
        }
    }

    /// Resolves `target` (default port: the network's) within `timeout`,
    /// counting the time from now, and builds a configuration with the
    /// other defaults. The error is a one-line reason.
    pub fn for_target(
        target: &Target,
        network: Network,
        requests: Vec<Request>,
        timeout: Duration,
    ) -> Result<ProbeConfig, String> {
        let started = Instant::now();
        let port = network
            .default_port()
            .ok_or_else(|| format!("network {network} has no default port"))?;
        let addrs = target::resolve(target, port, timeout)?;
        Ok(ProbeConfig {
            timeout,
            started,
            ..ProbeConfig::new(addrs, network, requests)
        })
    }

    /// The instant the probe gives up.
    pub fn deadline(&self) -> Instant {
        self.started
            .checked_add(self.timeout)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365))
    }
}

/// Runs a probe to its end (all answered, failure, or deadline). Events go
/// to `observer` when given; the outcome carries the per-request results
/// and the exit code. Never panics on peer input, never blocks past the
/// deadline (plus the time to flush a -w file).
///
/// Next to a live capture, the probe runs without a sink of its own (the
/// capture shows its packets) and its result is printed at the end:
///
/// ```no_run
/// use btcsniff::p2p::{Hash256, Network};
/// use btcsniff::probe::{ProbeConfig, Request, Target};
/// use std::time::Duration;
///
/// let target: Target = "127.0.0.1:18444".parse().unwrap();
/// let txid = Hash256::from_display_hex(&"ab".repeat(32)).unwrap();
/// let config = ProbeConfig::for_target(&target, Network::Regtest, vec![Request::Tx(txid)], Duration::from_secs(10)).unwrap();
/// let probe = std::thread::spawn(move || btcsniff::probe::run(&config, None));
/// // ... capture ...
/// let outcome = probe.join().unwrap();
/// for line in outcome.summary_lines() {
///     eprintln!("{line}");
/// }
/// std::process::exit(i32::from(outcome.exit_code()));
/// ```
pub fn run(config: &ProbeConfig, observer: Option<&mut dyn Sink>) -> ProbeOutcome {
    session::run(config, observer)
}
