//! The initiator's half of the BIP324 key exchange, before the session
//! logic takes over: our ElligatorSwift key and random garbage, the
//! responder's key, the ECDH secret (libsecp256k1's BIP324 x-only ECDH),
//! then our garbage terminator, decoys and transport version packet.
//!
//! A refusal (the peer closed before sending a single byte, or answered
//! with a v1 message) is told apart from other failures: with
//! `--transport auto` it means "reconnect with v1", as Core does
//! (`ShouldReconnectV1`: a v2 connection closed before any byte arrived).

use super::wire::{Receiver, Sender};
use super::{Session, is_retry, remaining};
use crate::capture::Timestamp;
use crate::p2p::v2::{
    Candidate, ELLSWIFT_KEY_LEN, KeyLogEntry, MAX_GARBAGE_LEN, PacketDecoder, PacketEncoder, Role,
    SessionKeys,
};
use crate::probe::failure::Failure;
use crate::probe::record::Side;
use crate::probe::transport::{TransportChoice, TransportUsed};
use secp256k1::SecretKey;
use secp256k1::ellswift::{ElligatorSwift, ElligatorSwiftParty};
use std::io::{self, Read};
use std::time::Instant;

/// Largest decoy packet contents the probe sends (`--decoys`).
const MAX_DECOY_LEN: usize = 255;
/// Attempts at drawing a valid secret key (a random 32-byte value is one
/// with probability 1 - 2^-128: more than one attempt never happens).
const KEY_ATTEMPTS: usize = 4;

/// Why the v2 attempt did not get to a session.
pub(super) enum V2Start {
    /// The peer does not speak v2: fall back to v1 when allowed.
    Refused(String),
    /// Anything else: the session's failure is set.
    Failed,
}

pub(super) fn random_bytes(out: &mut [u8]) -> Result<(), Failure> {
    getrandom::getrandom(out).map_err(|e| Failure::Randomness {
        reason: format!("no randomness from the system: {e}"),
    })
}

fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
    )
}

impl Session<'_, '_> {
    /// Runs the key exchange; on success the sender speaks v2 and the
    /// returned receiver decrypts the peer's packets.
    pub(super) fn start_v2(&mut self) -> Result<Receiver, V2Start> {
        let (secret_key, ours) = match new_key() {
            Ok(k) => k,
            Err(reason) => {
                self.fail(reason);
                return Err(V2Start::Failed);
            }
        };
        let mut first = [0u8; 2];
        let mut garbage = Vec::new();
        let drawn = random_bytes(&mut first).and_then(|()| {
            let len = usize::from(u16::from_le_bytes(first)) % (MAX_GARBAGE_LEN + 1);
            garbage = vec![0u8; len];
            random_bytes(&mut garbage)
        });
        if let Err(reason) = drawn {
            self.fail(reason);
            return Err(V2Start::Failed);
        }
        // With `auto`, the garbage waits for the responder's key: a v1-only
        // node parses whatever we send before it gives up, and bcoin scores
        // every 24 bytes without its magic as misbehaviour (+10; at 100 it
        // bans our address, so the v1 retry would be refused). Same bytes
        // on the stream, only the timing differs.
        let garbage_with_key = self.config.transport == TransportChoice::V2;
        let mut hello = ours.to_vec();
        if garbage_with_key {
            hello.extend_from_slice(&garbage);
        }
        self.send_raw(&hello, "our v2 key")?;
        self.observer.note(&format!(
            "v2: sent our ElligatorSwift key{}",
            if garbage_with_key {
                format!(" and {} bytes of garbage", garbage.len())
            } else {
                String::new()
            }
        ));

        let (theirs, rest) = self.receive_key()?;
        let secret = ElligatorSwift::shared_secret(
            ElligatorSwift::from_array(ours),
            ElligatorSwift::from_array(theirs),
            secret_key,
            ElligatorSwiftParty::A,
            None,
        )
        .to_secret_bytes();
        let keys = SessionKeys::derive(&secret, self.config.network.magic());
        self.log_key(&KeyLogEntry {
            initiator_key: ours,
            shared_secret: secret,
        })
        .map_err(|()| V2Start::Failed)?;

        let mut encoder = PacketEncoder::new(keys.sent_by(Role::Initiator), &garbage);
        let mut out = Vec::new();
        if !garbage_with_key {
            out.extend_from_slice(&garbage);
        }
        out.extend_from_slice(&keys.sent_by(Role::Initiator).terminator);
        for _ in 0..self.config.decoys {
            let mut len = [0u8; 1];
            let mut contents = Vec::new();
            let drawn = random_bytes(&mut len).and_then(|()| {
                contents = vec![0u8; usize::from(len[0]).min(MAX_DECOY_LEN)];
                random_bytes(&mut contents)
            });
            if let Err(reason) = drawn {
                self.fail(reason);
                return Err(V2Start::Failed);
            }
            // At most 255 bytes: always fits a packet.
            let _ = encoder.packet(true, &contents, &mut out);
        }
        encoder.version(&mut out);
        self.send_raw(&out, "our v2 terminator and version packet")?;
        let session_id = keys.session_id_hex();
        self.observer.note(&format!(
            "v2: sent {}our garbage terminator, {} decoy packets and our transport version \
             packet; session id {session_id}",
            if garbage_with_key {
                String::new()
            } else {
                format!("{} bytes of garbage, ", garbage.len())
            },
            self.config.decoys
        ));
        self.transport = TransportUsed::V2 { session_id };

        let mut decoder = PacketDecoder::new(ELLSWIFT_KEY_LEN as u64);
        decoder.set_candidates(vec![Candidate {
            magic: self.config.network.magic(),
            keys: keys.sent_by(Role::Responder).clone(),
        }]);
        decoder.push(&rest);
        self.sender = Sender::V2(Box::new(encoder));
        Ok(Receiver::V2 {
            decoder,
            network: self.config.network,
        })
    }

    /// Writes handshake bytes, records and counts them. A peer that closed
    /// on them refused v2.
    fn send_raw(&mut self, bytes: &[u8], what: &str) -> Result<(), V2Start> {
        if let Err(e) = self.write_all(bytes) {
            if is_closed(&e) && self.received_bytes == 0 {
                return Err(V2Start::Refused(format!(
                    "it closed the connection when {what} was sent ({e})"
                )));
            }
            self.fail(Failure::Send {
                what: what.to_string(),
                remote: self.remote,
                error: e.to_string(),
            });
            return Err(V2Start::Failed);
        }
        let ts = Timestamp::now();
        self.record(|r| r.data(ts, Side::Local, bytes));
        self.sent_bytes = self.sent_bytes.saturating_add(bytes.len() as u64);
        Ok(())
    }

    /// Reads the responder's 64-byte key; also returns what came after it.
    /// With `auto`, waits at most half the time left, so that v1 still
    /// has time.
    fn receive_key(&mut self) -> Result<([u8; ELLSWIFT_KEY_LEN], Vec<u8>), V2Start> {
        let started = Instant::now();
        let key_deadline = match self.config.transport {
            TransportChoice::Auto => remaining(self.deadline)
                .map(|left| started + left / 2)
                .unwrap_or(started),
            TransportChoice::V1 | TransportChoice::V2 => self.deadline,
        };
        let magic = self.config.network.magic();
        let mut got: Vec<u8> = Vec::with_capacity(4096);
        let mut buf = [0u8; 4096];
        while got.len() < ELLSWIFT_KEY_LEN {
            let Some(wait) = remaining(key_deadline) else {
                let waited = started.elapsed().as_secs_f64();
                if self.config.transport == TransportChoice::Auto {
                    return Err(V2Start::Refused(format!(
                        "no v2 key from it within {waited:.1} s ({} bytes received)",
                        got.len()
                    )));
                }
                self.fail(Failure::NoV2Key {
                    waited_secs: waited,
                    received: got.len(),
                });
                return Err(V2Start::Failed);
            };
            let read = self
                .stream
                .set_read_timeout(Some(wait))
                .and_then(|()| self.stream.read(&mut buf));
            let n = match read {
                Ok(n) => n,
                Err(e) if is_retry(&e) => continue,
                Err(e) if is_closed(&e) => 0,
                Err(e) => {
                    self.connection_error(&e);
                    return Err(V2Start::Failed);
                }
            };
            let Some(bytes) = buf.get(..n) else {
                return Err(V2Start::Failed);
            };
            if bytes.is_empty() {
                let ts = Timestamp::now();
                self.record(|r| r.fin(ts, Side::Remote));
                if got.is_empty() {
                    return Err(V2Start::Refused(
                        "it closed the connection right after our key, without a byte".into(),
                    ));
                }
                self.fail(Failure::ClosedInV2Key {
                    received: got.len(),
                });
                return Err(V2Start::Failed);
            }
            let ts = Timestamp::now();
            self.record(|r| r.data(ts, Side::Remote, bytes));
            self.received_bytes = self.received_bytes.saturating_add(n as u64);
            got.extend_from_slice(bytes);
            if got.get(..4) == Some(&magic[..]) {
                // A v1 node answering (a version, or a reject): its
                // message starts with the network magic; no ElligatorSwift
                // key we would accept does (Core's responder makes sure).
                return Err(V2Start::Refused(format!(
                    "it answered with a v1 message (network magic {})",
                    crate::p2p::hash::to_hex(magic)
                )));
            }
        }
        let mut key = [0u8; ELLSWIFT_KEY_LEN];
        key.copy_from_slice(
            got.get(..ELLSWIFT_KEY_LEN)
                .unwrap_or(&[0; ELLSWIFT_KEY_LEN]),
        );
        let rest = got.split_off(ELLSWIFT_KEY_LEN);
        Ok((key, rest))
    }

    /// Appends the session's key-log line to `--keylog` and hands it to
    /// the caller's key channel (live capture).
    fn log_key(&mut self, entry: &KeyLogEntry) -> Result<(), ()> {
        if let Some(tx) = &self.config.key_channel {
            // A receiver gone (capture ended) is not the probe's problem.
            let _ = tx.send(entry.clone());
        }
        let Some(path) = &self.config.keylog else {
            return Ok(());
        };
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| io::Write::write_all(&mut f, entry.to_line().as_bytes()));
        if let Err(e) = written {
            self.fail(Failure::KeyLog {
                path: path.clone(),
                error: e.to_string(),
            });
            return Err(());
        }
        Ok(())
    }
}

/// A fresh secret key and its ElligatorSwift encoding (with fresh
/// auxiliary randomness, so the encoding is uniform).
fn new_key() -> Result<(SecretKey, [u8; ELLSWIFT_KEY_LEN]), Failure> {
    for _ in 0..KEY_ATTEMPTS {
        let mut seed = [0u8; 32];
        let mut aux = [0u8; 32];
        random_bytes(&mut seed)?;
        random_bytes(&mut aux)?;
        if let Ok(sk) = SecretKey::from_slice(&seed) {
            // A context that can multiply by G (`ElligatorSwift::new`
            // uses one that cannot).
            let secp = secp256k1::Secp256k1::new();
            return Ok((
                sk,
                ElligatorSwift::from_seckey(&secp, sk, Some(aux)).to_array(),
            ));
        }
    }
    Err(Failure::Randomness {
        reason: "no valid secret key drawn from the system's randomness".into(),
    })
}

impl Session<'_, '_> {
    /// `--transport auto` after a refusal: close, connect again to the
    /// same address, and speak v1 (a new flow in the events and the -w
    /// file).
    pub(super) fn reconnect_v1(&mut self, reason: String) -> Option<Receiver> {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        let ts = Timestamp::now();
        self.record(|r| r.fin(ts, Side::Local));
        self.observer.note(&format!(
            "the peer refused v2 ({reason}): reconnecting with v1"
        ));
        let stream = match super::connect(&[self.remote], self.deadline) {
            Ok(s) => s,
            Err(e) => {
                self.fail(Failure::V1RetryFailed {
                    reason,
                    error: e.to_string(),
                });
                return None;
            }
        };
        let (local, remote) = match (stream.local_addr(), stream.peer_addr()) {
            (Ok(l), Ok(r)) => (l, r),
            (Err(e), _) | (_, Err(e)) => {
                self.fail(Failure::ConnectionLost {
                    error: e.to_string(),
                });
                return None;
            }
        };
        self.stream = stream;
        self.local = local;
        self.remote = remote;
        self.flow = self.flow.saturating_add(1);
        self.sent_bytes = 0;
        self.observer
            .note(&format!("connected {local} -> {remote} (v1)"));
        let ts = Timestamp::now();
        self.record(|r| r.connected(ts, local, remote));
        self.transport = TransportUsed::V1Fallback { reason };
        self.sender = Sender::V1(self.config.network);
        Some(Receiver::v1())
    }
}
