//! The transport under the session logic: v1 framing or BIP324 v2
//! packets. The session sends `(command, payload)` and receives frames
//! through these two halves, whatever the transport; only the bytes on the
//! wire differ.

use crate::p2p::Network;
use crate::p2p::encode;
use crate::p2p::frame::{Checksum, Frame, FrameDecoder, FrameEvent, FramingFinding};
use crate::p2p::v2::message_type::short_id_of;
use crate::p2p::v2::{
    ContentsTooLong, MessageType, PacketDecoder, PacketEncoder, V2Event, V2Finding,
};

/// The sending half.
pub(super) enum Sender {
    V1(Network),
    V2(Box<PacketEncoder>),
}

impl Sender {
    /// The bytes that carry one message, and its v2 message type.
    pub(super) fn encode(
        &mut self,
        command: &str,
        payload: &[u8],
    ) -> Result<(Vec<u8>, Option<MessageType>), ContentsTooLong> {
        match self {
            Sender::V1(network) => Ok((encode::frame(*network, command, payload), None)),
            Sender::V2(encoder) => {
                let mut out = Vec::with_capacity(payload.len().saturating_add(40));
                encoder.message(command, payload, &mut out)?;
                let kind = short_id_of(command).map_or(MessageType::Long, MessageType::ShortId);
                Ok((out, Some(kind)))
            }
        }
    }

    /// What a sent message's record says about its checksum.
    pub(super) fn checksum(&self) -> Checksum {
        match self {
            Sender::V1(_) => Checksum::Valid,
            Sender::V2(_) => Checksum::Absent,
        }
    }
}

/// One thing the receiving half hands the session.
pub(super) enum WireEvent<'a> {
    Frame(Frame<'a>),
    Framing(FramingFinding),
    V2(V2Finding),
    /// The peer's v2 handshake went a step further (for the notes).
    Note(String),
}

/// The receiving half.
pub(super) enum Receiver {
    V1(FrameDecoder),
    V2 {
        decoder: PacketDecoder,
        network: Network,
    },
}

impl Receiver {
    pub(super) fn v1() -> Receiver {
        Receiver::V1(FrameDecoder::new())
    }

    pub(super) fn push(&mut self, bytes: &[u8]) {
        match self {
            Receiver::V1(d) => d.push(bytes),
            Receiver::V2 { decoder, .. } => decoder.push(bytes),
        }
    }

    /// End of stream: a partial message is reported by the next events.
    pub(super) fn finish(&mut self) {
        match self {
            Receiver::V1(d) => d.finish(),
            Receiver::V2 { decoder, .. } => decoder.finish(),
        }
    }

    pub(super) fn next_event(&mut self) -> Option<WireEvent<'_>> {
        match self {
            Receiver::V1(d) => Some(match d.next_event()? {
                FrameEvent::Frame(f) => WireEvent::Frame(f),
                FrameEvent::Finding(f) => WireEvent::Framing(f),
            }),
            Receiver::V2 { decoder, network } => {
                let network = *network;
                Some(match decoder.next_event()? {
                    V2Event::Terminator { garbage_len, .. } => WireEvent::Note(format!(
                        "v2: the peer's garbage terminator after {garbage_len} bytes of garbage"
                    )),
                    V2Event::Decoy { packet, length, .. } => WireEvent::Note(format!(
                        "v2: the peer sent a decoy packet (packet {packet}, {length} bytes)"
                    )),
                    V2Event::Version { contents, .. } => WireEvent::Note(format!(
                        "v2: the peer's transport version packet ({} bytes of contents): \
                         v2 session established",
                        contents.len()
                    )),
                    V2Event::Message(m) => WireEvent::Frame(Frame {
                        network,
                        command: m.command,
                        length: u32::try_from(m.payload.len()).unwrap_or(u32::MAX),
                        checksum: Checksum::Absent,
                        payload: m.payload,
                        stream_offset: m.offset,
                        payload_hash: None,
                        v2: Some(m.message_type),
                    }),
                    V2Event::Finding(f) => WireEvent::V2(f),
                })
            }
        }
    }
}
