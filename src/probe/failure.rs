//! Why a probe failed (exit code 1), with the values involved; `Display`
//! is the one line shown in the notes and on stderr.

use crate::p2p::Network;
use crate::p2p::frame::Command;
use crate::p2p::v2::V2Finding;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How far the handshake got when the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeStage {
    NoVersion,
    VersionNoVerack,
    VerackReceived,
}

impl fmt::Display for HandshakeStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HandshakeStage::NoVersion => "no version received",
            HandshakeStage::VersionNoVerack => "version received, no verack",
            HandshakeStage::VerackReceived => "verack received",
        })
    }
}

/// A probe's failure. I/O errors are kept as their text (the outcome
/// outlives the socket).
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    NothingToAsk,
    CannotRecord {
        error: String,
    },
    NoAddress,
    /// Every address refused (one entry per address: `addr: error`).
    CannotConnect {
        attempts: Vec<String>,
    },
    ConnectionLost {
        error: String,
    },
    Connection {
        remote: SocketAddr,
        error: String,
    },
    Randomness {
        reason: String,
    },
    RefusedV2 {
        reason: String,
    },
    V1RetryFailed {
        reason: String,
        error: String,
    },
    NoV2Key {
        waited_secs: f64,
        received: usize,
    },
    ClosedInV2Key {
        received: usize,
    },
    KeyLog {
        path: PathBuf,
        error: String,
    },
    /// Our message could not be encoded (v2 packet limits).
    Encode {
        command: &'static str,
        error: String,
    },
    Send {
        what: String,
        remote: SocketAddr,
        error: String,
    },
    ClosedInHandshake {
        stage: HandshakeStage,
        sending: Option<(&'static str, String)>,
    },
    ClosedWhileSending {
        command: &'static str,
        error: String,
    },
    ClosedBeforeAnswering,
    HandshakeTimeout {
        timeout: Duration,
        stage: HandshakeStage,
    },
    TooManyBytes {
        limit: u64,
    },
    TooManyMessages {
        limit: u64,
    },
    VersionTooOld {
        version: i32,
        minimum: i32,
    },
    SelfConnection,
    UndecodableVersion {
        error: String,
    },
    WrongMagic {
        theirs: [u8; 4],
        ours: Network,
    },
    WrongNetwork {
        theirs: Network,
        ours: Network,
    },
    OversizeMessage {
        command: Command,
        length: u32,
        limit: u32,
    },
    NotV1 {
        bytes: u64,
    },
    V2BadTag {
        packet: u64,
        offset: u64,
        length: u32,
    },
    V2OversizeLength {
        length: u32,
        limit: u32,
    },
    V2NoTerminator {
        searched: u64,
    },
    V2Stream(V2Finding),
    Recording {
        path: PathBuf,
        error: String,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let magic = |network: &Network| crate::p2p::hash::to_hex(network.magic());
        match self {
            Failure::NothingToAsk => write!(f, "nothing to ask for"),
            Failure::CannotRecord { error } => write!(f, "cannot record the session: {error}"),
            Failure::NoAddress => write!(f, "no address to connect to"),
            Failure::CannotConnect { attempts } => {
                write!(f, "cannot connect: {}", attempts.join("; "))
            }
            Failure::ConnectionLost { error } => write!(f, "connection lost: {error}"),
            Failure::Connection { remote, error } => write!(f, "connection to {remote}: {error}"),
            Failure::Randomness { reason } => f.write_str(reason),
            Failure::RefusedV2 { reason } => write!(f, "the peer refused v2: {reason}"),
            Failure::V1RetryFailed { reason, error } => write!(
                f,
                "the peer refused v2 ({reason}), and reconnecting with v1 failed: {error}"
            ),
            Failure::NoV2Key {
                waited_secs,
                received,
            } => write!(
                f,
                "no v2 key from the peer within {waited_secs:.1} s ({received} bytes received)"
            ),
            Failure::ClosedInV2Key { received } => write!(
                f,
                "the peer closed the connection inside its v2 key ({received} of 64 bytes)"
            ),
            Failure::KeyLog { path, error } => {
                write!(f, "writing the key log {}: {error}", path.display())
            }
            Failure::Encode { command, error } => write!(f, "sending {command}: {error}"),
            Failure::Send {
                what,
                remote,
                error,
            } => write!(f, "sending {what} to {remote}: {error}"),
            Failure::ClosedInHandshake { stage, sending } => {
                write!(
                    f,
                    "the peer closed the connection during the handshake ({stage}"
                )?;
                if let Some((command, error)) = sending {
                    write!(f, "; sending {command}: {error}")?;
                }
                f.write_str(")")
            }
            Failure::ClosedWhileSending { command, error } => write!(
                f,
                "the peer closed the connection (sending {command}: {error})"
            ),
            Failure::ClosedBeforeAnswering => {
                write!(f, "the peer closed the connection before answering")
            }
            Failure::HandshakeTimeout { timeout, stage } => write!(
                f,
                "handshake not complete within {} s ({stage})",
                timeout.as_secs_f64()
            ),
            Failure::TooManyBytes { limit } => {
                write!(f, "the peer sent more than {limit} bytes: cut off")
            }
            Failure::TooManyMessages { limit } => {
                write!(f, "the peer sent more than {limit} messages: cut off")
            }
            Failure::VersionTooOld { version, minimum } => write!(
                f,
                "the peer's protocol version {version} is below {minimum} \
                 (Core's MIN_PEER_PROTO_VERSION)"
            ),
            Failure::SelfConnection => write!(
                f,
                "connected to ourselves: the peer's version nonce is ours"
            ),
            Failure::UndecodableVersion { error } => write!(
                f,
                "the peer's version message could not be decoded: {error}"
            ),
            Failure::WrongMagic { theirs, ours } => write!(
                f,
                "wrong network: the peer uses magic {}, {ours} is {}",
                crate::p2p::hash::to_hex(theirs),
                magic(ours)
            ),
            Failure::WrongNetwork { theirs, ours } => write!(
                f,
                "wrong network: the peer uses the magic of {theirs} ({}), {ours} is {}",
                magic(theirs),
                magic(ours)
            ),
            Failure::OversizeMessage {
                command,
                length,
                limit,
            } => write!(
                f,
                "the peer announced a '{}' message of {length} bytes (limit {limit}): cut off",
                String::from_utf8_lossy(command.as_bytes()).escape_default()
            ),
            Failure::NotV1 { bytes } => {
                write!(f, "the peer sent {bytes} bytes that are not a v1 message")
            }
            Failure::V2BadTag {
                packet,
                offset,
                length,
            } => write!(
                f,
                "the peer's v2 packet {packet} (stream offset {offset}, {length} bytes) \
                 does not authenticate: cut off"
            ),
            Failure::V2OversizeLength { length, limit } => write!(
                f,
                "the peer announced a v2 packet of {length} bytes (limit {limit}): cut off"
            ),
            Failure::V2NoTerminator { searched } => write!(
                f,
                "no garbage terminator from the peer within {searched} bytes: \
                 it does not speak BIP324 with our keys"
            ),
            Failure::V2Stream(finding) => write!(f, "the peer's v2 stream: {finding:?}"),
            Failure::Recording { path, error } => {
                write!(f, "recording to {}: {error}", path.display())
            }
        }
    }
}
