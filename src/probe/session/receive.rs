//! What the peer sends: frames (decoded, shown, then acted on) and the
//! findings of its stream, some of which end the session.

use super::{MAX_MESSAGES, Session, WireEvent};
use crate::analyzer::{Event, Finding};
use crate::p2p::frame::{Checksum, Frame, FramingFinding};
use crate::p2p::message::{self, DecodeContext, Decoded};
use crate::p2p::v2::V2Finding;
use crate::probe::failure::Failure;
use crate::probe::record::Side;

impl Session<'_, '_> {
    pub(super) fn on_event(&mut self, event: WireEvent<'_>) {
        match event {
            WireEvent::Frame(frame) => self.on_frame(&frame),
            WireEvent::Framing(f) => self.on_framing_finding(f),
            WireEvent::V2(f) => self.on_v2_finding(f),
            WireEvent::Note(text) => self.observer.note(&text),
        }
    }

    fn on_v2_finding(&mut self, f: V2Finding) {
        let finding = Finding::from(&f);
        let meta = self.meta(Side::Remote);
        self.observer.emit(&Event::Finding {
            meta: &meta,
            finding: &finding,
        });
        match f {
            // Core drops such a packet and keeps the connection.
            V2Finding::BadMessageType { packet, .. } => self.observer.note(&format!(
                "ignored v2 packet {packet} of the peer: no valid message type"
            )),
            // Reported at the end of the stream; `closed_by_peer` decides.
            V2Finding::Truncated { .. } | V2Finding::HandshakeIncomplete { .. } => {}
            V2Finding::BadTag {
                packet,
                offset,
                length,
            } => self.fail(Failure::V2BadTag {
                packet,
                offset,
                length,
            }),
            V2Finding::OversizeLength { length, limit, .. } => {
                self.fail(Failure::V2OversizeLength { length, limit })
            }
            V2Finding::NoTerminator { searched, .. } => {
                self.fail(Failure::V2NoTerminator { searched })
            }
            // Not on a socket (no gaps, keys known from the start).
            V2Finding::Gap { .. } | V2Finding::KeysTooLate { .. } => {
                self.fail(Failure::V2Stream(f))
            }
        }
    }

    fn on_framing_finding(&mut self, f: FramingFinding) {
        let finding = Finding::from(&f);
        let meta = self.meta(Side::Remote);
        self.observer.emit(&Event::Finding {
            meta: &meta,
            finding: &finding,
        });
        match f {
            FramingFinding::OversizeLength {
                command,
                length,
                limit,
                ..
            } => self.fail(Failure::OversizeMessage {
                command,
                length,
                limit,
            }),
            FramingFinding::SkippedBytes { bytes, .. } => self.fail(Failure::NotV1 { bytes }),
            FramingFinding::UnknownMagicAdopted { magic, .. } => self.fail(Failure::WrongMagic {
                theirs: magic,
                ours: self.config.network,
            }),
            // Reported at the end of the stream; `closed_by_peer` decides.
            FramingFinding::Truncated { .. } => {}
        }
    }

    pub(super) fn emit_message(&mut self, from: Side, frame: &Frame<'_>, decoded: &Decoded<'_>) {
        let meta = self.meta(from);
        self.observer.emit(&Event::Message {
            meta: &meta,
            frame,
            message: &decoded.message,
        });
        if decoded.anomalies.is_empty() {
            return;
        }
        let command = String::from_utf8_lossy(frame.command.as_bytes());
        for anomaly in &decoded.anomalies {
            let finding = Finding::from_anomaly(&command, anomaly);
            self.observer.emit(&Event::Finding {
                meta: &meta,
                finding: &finding,
            });
        }
    }

    fn on_frame(&mut self, frame: &Frame<'_>) {
        self.received_messages = self.received_messages.saturating_add(1);
        let ctx = DecodeContext {
            peer_version: self.peer_version,
            full_detail: self.config.full_detail,
            payload_hash: frame.payload_hash,
        };
        let decoded = message::decode(&frame.command, frame.payload, &ctx);
        self.emit_message(Side::Remote, frame, &decoded);
        if self.received_messages > MAX_MESSAGES {
            self.fail(Failure::TooManyMessages {
                limit: MAX_MESSAGES,
            });
            return;
        }
        if frame.network != self.config.network {
            self.fail(Failure::WrongNetwork {
                theirs: frame.network,
                ours: self.config.network,
            });
            return;
        }
        if let Checksum::Invalid { expected, actual } = frame.checksum {
            // Core drops such a message and keeps the connection: so do we.
            self.observer.note(&format!(
                "ignored a '{}' message with a wrong checksum (header {}, payload {})",
                String::from_utf8_lossy(frame.command.as_bytes()).escape_default(),
                crate::p2p::hash::to_hex(expected),
                crate::p2p::hash::to_hex(actual)
            ));
            return;
        }
        match &decoded.message {
            Ok(message) => self.on_message(message, frame.payload),
            Err(e) => self.on_undecodable(&frame.command, e),
        }
    }
}
