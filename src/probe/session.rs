//! One probe session over TCP: connect, handshake, getdata, answers.
//!
//! The peer's bytes are read as they come (any chunking) into the framing
//! decoder, which hands out whole messages by their length field; every
//! read waits at most until the probe's single deadline. The peer is
//! bounded in total bytes and messages, and a refused length (above
//! 4,000,000) ends the session at once.

use super::failure::Failure;
use super::observer::Observer;
use super::outcome::{ProbeOutcome, RequestResult, Status};
use super::record::{SessionRecorder, Side};
use super::{PROTOCOL_VERSION, ProbeConfig, Request};
use crate::analyzer::Meta;
use crate::capture::Timestamp;
use crate::output::Sink;
use crate::p2p::MAX_PROTOCOL_MESSAGE_LENGTH;
use crate::p2p::frame::{Command, Frame};
use crate::p2p::message::{self, DecodeContext};
use std::fs::File;
use std::io::{self, BufWriter, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The probe's connection is flow 1 in the event stream (2 for the v1
/// connection after a refused v2 attempt).
const FLOW_ID: u64 = 1;
/// Bytes a peer may send besides the blocks asked for: far more than any
/// handshake and chatter needs in a probe's lifetime.
const BASE_BYTE_LIMIT: u64 = 64 * 1024 * 1024;
/// Allowance per requested block: one maximal message with its header.
const BYTES_PER_BLOCK: u64 = MAX_PROTOCOL_MESSAGE_LENGTH as u64 + 24;
/// Messages a peer may send in one probe (a flood of tiny messages is cut).
const MAX_MESSAGES: u64 = 50_000;
/// Core's MAX_INV_SZ: getdata carries at most this many items.
const MAX_GETDATA_ITEMS: usize = 50_000;
const READ_BUFFER: usize = 64 * 1024;

mod answers;
mod handshake;
mod receive;
mod socket;
mod v2_start;
mod wire;

use super::transport::{TransportChoice, TransportUsed};
use handshake::Handshake;
use socket::{connect, is_retry, remaining};
use v2_start::V2Start;
use wire::{Receiver, Sender, WireEvent};

type Recorder = SessionRecorder<BufWriter<File>>;

/// A random 64-bit value from std's per-process random hasher keys (the
/// version nonce and the synthesized TCP sequence numbers need no more).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher, RandomState};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// The BIP37 relay flag of our version: true when a transaction is asked
/// for. Bitcoin Core (0.19 and later, without NODE_BLOOM) keeps no
/// transaction-relay state for a peer that announced relay=false and then
/// ignores its getdata for transactions: no tx, not even notfound. With
/// only blocks asked for, relay=false spares us the peer's tx announcements.
fn announces_relay(requests: &[Request]) -> bool {
    requests.iter().any(|r| matches!(r, Request::Tx(_)))
}

/// The outcome of a probe that ended before the handshake could start.
fn early_failure(
    config: &ProbeConfig,
    mut observer: Observer<'_>,
    reason: Failure,
) -> ProbeOutcome {
    let outcome = ProbeOutcome {
        results: config
            .requests
            .iter()
            .map(|r| RequestResult {
                request: *r,
                status: Status::Unanswered,
            })
            .collect(),
        failure: Some(reason),
        timeout: config.timeout,
        output_error: None,
        transport: None,
    };
    for line in outcome.result_texts() {
        observer.note(&line);
    }
    observer.flush();
    ProbeOutcome {
        output_error: observer.error,
        ..outcome
    }
}

pub(super) fn run(config: &ProbeConfig, sink: Option<&mut dyn Sink>) -> ProbeOutcome {
    let mut observer = Observer { sink, error: None };
    let deadline = config.deadline();
    if config.requests.is_empty() {
        return early_failure(config, observer, Failure::NothingToAsk);
    }
    let isn = [random_u64() as u32, random_u64() as u32];
    let recorder = match &config.record {
        Some(path) => match SessionRecorder::create(path, isn) {
            Ok(r) => Some(r),
            Err(e) => {
                let error = e.to_string();
                return early_failure(config, observer, Failure::CannotRecord { error });
            }
        },
        None => None,
    };
    let targets: Vec<String> = config.addrs.iter().map(|a| a.to_string()).collect();
    observer.note(&format!(
        "connecting to {} ({}, timeout {} s)",
        targets.join(" or "),
        config.network,
        config.timeout.as_secs_f64()
    ));
    let stream = match connect(&config.addrs, deadline) {
        Ok(s) => s,
        Err(reason) => return early_failure(config, observer, reason),
    };
    let (local, remote) = match (stream.local_addr(), stream.peer_addr()) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(e), _) | (_, Err(e)) => {
            let error = e.to_string();
            return early_failure(config, observer, Failure::ConnectionLost { error });
        }
    };
    observer.note(&format!("connected {local} -> {remote}"));
    let blocks = config
        .requests
        .iter()
        .filter(|r| matches!(r, Request::Block(_)))
        .count() as u64;
    let mut session = Session {
        config,
        deadline,
        flow: FLOW_ID,
        transport: TransportUsed::V1,
        sender: Sender::V1(config.network),
        stream,
        local,
        remote,
        observer,
        recorder,
        record_error: None,
        nonce: random_u64(),
        peer_version: None,
        peer_summary: String::new(),
        handshake: Handshake::AwaitingVersion { verack: false },
        statuses: vec![Status::Pending; config.requests.len()],
        failure: None,
        sent_bytes: 0,
        received_bytes: 0,
        received_messages: 0,
        byte_limit: BASE_BYTE_LIMIT.saturating_add(BYTES_PER_BLOCK.saturating_mul(blocks)),
    };
    let ts = Timestamp::now();
    session.record(|r| r.connected(ts, local, remote));
    let receiver = match config.transport {
        TransportChoice::V1 => Some(Receiver::v1()),
        TransportChoice::V2 | TransportChoice::Auto => match session.start_v2() {
            Ok(receiver) => Some(receiver),
            Err(V2Start::Failed) => None,
            Err(V2Start::Refused(reason)) if config.transport == TransportChoice::Auto => {
                session.reconnect_v1(reason)
            }
            Err(V2Start::Refused(reason)) => {
                session.fail(Failure::RefusedV2 { reason });
                None
            }
        },
    };
    if let Some(receiver) = receiver {
        session.exchange(receiver);
    }
    session.finish()
}

struct Session<'c, 'o> {
    config: &'c ProbeConfig,
    deadline: Instant,
    /// The flow id of the current connection in the events.
    flow: u64,
    transport: TransportUsed,
    /// v1 framing or v2 packets: the session logic does not care.
    sender: Sender,
    stream: TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    observer: Observer<'o>,
    recorder: Option<Recorder>,
    record_error: Option<String>,
    /// Our version nonce (a peer echoing it is ourselves).
    nonce: u64,
    peer_version: Option<i32>,
    /// "version 70016, /Satoshi:27.0.0/, height 101" for the notes.
    peer_summary: String,
    handshake: Handshake,
    /// Parallel to `config.requests`.
    statuses: Vec<Status>,
    failure: Option<Failure>,
    sent_bytes: u64,
    received_bytes: u64,
    received_messages: u64,
    byte_limit: u64,
}

impl Session<'_, '_> {
    fn fail(&mut self, reason: Failure) {
        if self.failure.is_none() {
            self.failure = Some(reason);
        }
    }

    fn all_answered(&self) -> bool {
        self.getdata_sent() && !self.statuses.contains(&Status::Pending)
    }

    fn connection_error(&mut self, e: &io::Error) {
        self.fail(Failure::Connection {
            remote: self.remote,
            error: e.to_string(),
        });
    }

    fn record(
        &mut self,
        f: impl FnOnce(&mut Recorder) -> Result<(), crate::capture::CaptureError>,
    ) {
        if let Some(r) = self.recorder.as_mut()
            && let Err(e) = f(r)
        {
            self.record_error = Some(e.to_string());
            self.recorder = None;
        }
    }

    fn meta(&self, from: Side) -> Meta {
        let (src, dst) = match from {
            Side::Local => (self.local, self.remote),
            Side::Remote => (self.remote, self.local),
        };
        Meta {
            ts: Timestamp::now(),
            flow: self.flow,
            src,
            dst,
        }
    }

    /// Reads and answers until every request is answered, the session
    /// fails, the peer closes, or the deadline passes.
    fn exchange(&mut self, mut decoder: Receiver) {
        let mut buf = vec![0u8; READ_BUFFER];
        self.send_version();
        while self.failure.is_none() && !self.all_answered() {
            let Some(wait) = remaining(self.deadline) else {
                self.deadline_passed();
                return;
            };
            if let Err(e) = self.stream.set_read_timeout(Some(wait)) {
                self.connection_error(&e);
                return;
            }
            let n = match self.stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if is_retry(&e) => continue,
                Err(e) => {
                    self.connection_error(&e);
                    return;
                }
            };
            let Some(bytes) = buf.get(..n) else {
                debug_assert!(false, "read {n} bytes into {}", buf.len());
                return;
            };
            if bytes.is_empty() {
                self.closed_by_peer(&mut decoder);
                return;
            }
            let ts = Timestamp::now();
            self.record(|r| r.data(ts, Side::Remote, bytes));
            self.received_bytes = self.received_bytes.saturating_add(n as u64);
            if self.received_bytes > self.byte_limit {
                self.fail(Failure::TooManyBytes {
                    limit: self.byte_limit,
                });
                return;
            }
            decoder.push(bytes);
            while self.failure.is_none()
                && let Some(event) = decoder.next_event()
            {
                self.on_event(event);
            }
        }
    }

    fn closed_by_peer(&mut self, decoder: &mut Receiver) {
        let ts = Timestamp::now();
        self.record(|r| r.fin(ts, Side::Remote));
        decoder.finish();
        while let Some(event) = decoder.next_event() {
            self.on_event(event);
        }
        if !self.getdata_sent() {
            self.fail(Failure::ClosedInHandshake {
                stage: self.handshake.stage(),
                sending: None,
            });
        } else if !self.all_answered() {
            self.fail(Failure::ClosedBeforeAnswering);
        }
    }

    fn deadline_passed(&mut self) {
        if !self.getdata_sent() {
            self.fail(Failure::HandshakeTimeout {
                timeout: self.config.timeout,
                stage: self.handshake.stage(),
            });
        }
        // Requests still pending become TimedOut in `finish`.
    }

    /// Frames and sends one message, records it, and shows it.
    fn send(&mut self, command: &'static str, payload: &[u8]) {
        if self.failure.is_some() {
            return;
        }
        let (bytes, v2) = match self.sender.encode(command, payload) {
            Ok(b) => b,
            Err(e) => {
                let error = e.to_string();
                self.fail(Failure::Encode { command, error });
                return;
            }
        };
        if let Err(e) = self.write_all(&bytes) {
            let closed = matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
            );
            let error = e.to_string();
            let reason = match (closed, self.getdata_sent()) {
                (true, false) => Failure::ClosedInHandshake {
                    stage: self.handshake.stage(),
                    sending: Some((command, error)),
                },
                (true, true) => Failure::ClosedWhileSending { command, error },
                (false, _) => Failure::Send {
                    what: command.to_string(),
                    remote: self.remote,
                    error,
                },
            };
            self.fail(reason);
            return;
        }
        let ts = Timestamp::now();
        self.record(|r| r.data(ts, Side::Local, &bytes));
        let frame = Frame {
            network: self.config.network,
            command: Command::new(command),
            length: u32::try_from(payload.len()).unwrap_or(u32::MAX),
            checksum: self.sender.checksum(),
            payload,
            stream_offset: self.sent_bytes,
            // Built here, not framed: nothing hashed the payload.
            payload_hash: None,
            v2,
        };
        self.sent_bytes = self.sent_bytes.saturating_add(bytes.len() as u64);
        let ctx = DecodeContext {
            peer_version: Some(PROTOCOL_VERSION),
            full_detail: self.config.full_detail,
            payload_hash: frame.payload_hash,
        };
        let decoded = message::decode(&frame.command, payload, &ctx);
        self.emit_message(Side::Local, &frame, &decoded);
    }

    /// Closes the connection, settles every request and builds the outcome.
    fn finish(mut self) -> ProbeOutcome {
        // Our side of the close; the peer's FIN is recorded if it came.
        let _ = self.stream.shutdown(Shutdown::Both);
        let ts = Timestamp::now();
        self.record(|r| r.fin(ts, Side::Local));
        self.record(|r| r.flush());
        if let (Some(e), Some(path)) = (self.record_error.take(), self.config.record.as_ref()) {
            self.fail(Failure::Recording {
                path: path.clone(),
                error: e,
            });
        }
        let timed_out = self.failure.is_none() && self.getdata_sent();
        for i in 0..self.statuses.len() {
            if self.statuses.get(i) == Some(&Status::Pending) {
                let status = if timed_out {
                    Status::TimedOut
                } else {
                    Status::Unanswered
                };
                self.resolve(i, status);
            }
        }
        self.observer
            .note(&format!("transport: {}", self.transport));
        if let Some(f) = self.failure.clone() {
            self.observer.note(&format!("failed: {f}"));
        }
        self.observer.flush();
        ProbeOutcome {
            results: self
                .config
                .requests
                .iter()
                .zip(self.statuses)
                .map(|(request, status)| RequestResult {
                    request: *request,
                    status,
                })
                .collect(),
            failure: self.failure,
            timeout: self.config.timeout,
            output_error: self.observer.error,
            transport: Some(self.transport),
        }
    }
}
