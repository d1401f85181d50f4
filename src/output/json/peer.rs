//! The envelope of messages and findings from an already-framed source
//! (Core's message capture): the peer and the capturing node as `src` and
//! `dst`, then `source`, `peer` and `direction`; the rest of a message is
//! written as for captured traffic.
//!
//! ```text
//! {"type":"message","ts":…,"flow":3,"src":"1.2.3.4:8333","dst":"local","network":"regtest","magic":"fabfb5da","source":"core-capture","peer":"1.2.3.4:8333","direction":"recv","command":…
//! ```
//! `network` is `"unknown"` (and `magic` absent) when the network is not
//! known: the records carry no magic.

use super::line::{write_escaped, write_u64};
use super::{JsonSink, MessageResult, write_unix_time};
use crate::analyzer::event::{Finding, PeerMeta};
use crate::capture::core_capture::MessageDirection;
use crate::p2p::Network;
use crate::p2p::frame::Frame;
use crate::p2p::hash::write_hex;
use std::io::Write;

impl<W: Write> JsonSink<W> {
    pub(super) fn peer_message(
        &mut self,
        meta: &PeerMeta<'_>,
        frame: &Frame<'_>,
        message: &MessageResult<'_>,
    ) {
        self.peer_envelope("message", meta, true);
        self.message_fields(frame, message);
    }

    pub(super) fn peer_finding(&mut self, meta: &PeerMeta<'_>, finding: &Finding) {
        self.peer_envelope("finding", meta, false);
        self.finding_fields(finding);
    }

    /// Everything from `"flow"` to `"direction"`, built once per peer,
    /// direction and kind (see [`PeerEnvelopes`]).
    fn peer_envelope(&mut self, kind: &str, meta: &PeerMeta<'_>, with_network: bool) {
        let line = &mut self.line;
        line.extend_from_slice(b"{\"type\":\"");
        line.extend_from_slice(kind.as_bytes());
        line.extend_from_slice(b"\",\"ts\":");
        write_unix_time(line, meta.ts);
        let key = Key {
            flow: meta.flow,
            direction: meta.direction,
            network: meta.network,
            with_network,
        };
        line.extend_from_slice(
            self.peer_envelopes
                .get_or_build(key, |out| build(out, meta, with_network)),
        );
    }
}

fn build(out: &mut Vec<u8>, meta: &PeerMeta<'_>, with_network: bool) {
    out.extend_from_slice(b",\"flow\":");
    write_u64(out, meta.flow);
    let (src, dst) = meta.endpoints();
    for (key, value) in [(&b",\"src\":\""[..], src), (b"\",\"dst\":\"", dst)] {
        out.extend_from_slice(key);
        write_escaped(out, value);
    }
    out.push(b'"');
    if with_network {
        out.extend_from_slice(b",\"network\":\"");
        match meta.network {
            Some(network) => {
                out.extend_from_slice(network.name().as_bytes());
                out.extend_from_slice(b"\",\"magic\":\"");
                write_hex(out, &network.magic());
            }
            None => out.extend_from_slice(b"unknown"),
        }
        out.push(b'"');
    }
    out.extend_from_slice(b",\"source\":\"");
    write_escaped(out, meta.source);
    out.extend_from_slice(b"\",\"peer\":\"");
    write_escaped(out, meta.peer);
    out.extend_from_slice(b"\",\"direction\":\"");
    out.extend_from_slice(meta.direction.name().as_bytes());
    out.push(b'"');
}

/// What a peer envelope depends on: a flow number names one peer (and
/// its label and source) for the whole run.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    flow: u64,
    direction: MessageDirection,
    network: Option<Network>,
    with_network: bool,
}

/// Peer envelopes, direct-mapped by flow and direction (as the flow
/// envelopes are): a busy capture has many small messages per peer.
#[derive(Default)]
pub(super) struct PeerEnvelopes {
    slots: Vec<Option<(Key, Vec<u8>)>>,
}

const SLOTS: usize = 256;

impl PeerEnvelopes {
    fn get_or_build(&mut self, key: Key, build: impl FnOnce(&mut Vec<u8>)) -> &[u8] {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, || None);
        }
        let direction = key.direction as u64;
        let index = key
            .flow
            .wrapping_mul(6)
            .wrapping_add(direction * 2 + u64::from(key.with_network))
            % SLOTS as u64;
        let Some(slot) = self.slots.get_mut(index as usize) else {
            return &[];
        };
        if slot.as_ref().is_none_or(|(k, _)| *k != key) {
            let mut bytes = slot.take().map(|(_, b)| b).unwrap_or_default();
            bytes.clear();
            build(&mut bytes);
            *slot = Some((key, bytes));
        }
        slot.as_ref().map_or(&[], |(_, b)| b)
    }
}

#[cfg(test)]
mod tests {
    use crate::analyzer::event::{Event, Finding, PeerMeta};
    use crate::capture::Timestamp;
    use crate::capture::core_capture::MessageDirection;
    use crate::output::json::JsonSink;
    use crate::output::{Sink, SinkOptions};
    use crate::p2p::Network;
    use crate::p2p::frame::{Checksum, Command, Frame, FramingFinding};
    use crate::p2p::message::{self, DecodeContext};

    fn line(event: &Event<'_, '_>) -> serde_json::Value {
        let mut out = Vec::new();
        {
            let mut sink = JsonSink::new(&mut out, SinkOptions::default());
            sink.event(event).unwrap();
            sink.flush().unwrap();
        }
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn envelopes_for_each_direction_and_escaped_peers() {
        let payload = 7u64.to_le_bytes();
        let frame = Frame {
            network: Network::Unknown([0; 4]),
            command: Command::new("ping"),
            length: 8,
            checksum: Checksum::Absent,
            payload: &payload,
            stream_offset: 0,
            payload_hash: None,
            v2: None,
        };
        let decoded = message::decode(&frame.command, &payload, &DecodeContext::default());
        let mut meta = PeerMeta {
            ts: Timestamp::new(1_700_000_000, 5_000),
            flow: 4,
            peer: "odd\"name",
            direction: MessageDirection::Sent,
            source: "core-capture",
            network: Some(Network::Regtest),
        };
        let v = line(&Event::PeerMessage {
            meta: &meta,
            frame: &frame,
            message: &decoded.message,
        });
        assert_eq!(v["src"], "local");
        assert_eq!(v["dst"], "odd\"name");
        assert_eq!(v["peer"], "odd\"name");
        assert_eq!(v["direction"], "sent");
        assert_eq!(v["source"], "core-capture");
        assert_eq!(
            (&v["network"], &v["magic"]),
            (&"regtest".into(), &"fabfb5da".into())
        );
        assert_eq!(v["checksum"], "absent");
        assert_eq!(v["payload"]["nonce"], "7");
        assert_eq!(v["ts"].as_f64(), Some(1_700_000_000.000005));

        meta.direction = MessageDirection::Recv;
        meta.network = None;
        let v = line(&Event::PeerMessage {
            meta: &meta,
            frame: &frame,
            message: &decoded.message,
        });
        assert_eq!(
            (&v["src"], &v["dst"]),
            (&"odd\"name".into(), &"local".into())
        );
        assert_eq!(v["network"], "unknown");
        assert!(v.get("magic").is_none());

        meta.direction = MessageDirection::Unknown;
        let finding = Finding::Framing(FramingFinding::Truncated {
            offset: 24,
            have: 30,
            needed: 61,
        });
        let v = line(&Event::PeerFinding {
            meta: &meta,
            finding: &finding,
        });
        assert_eq!(
            (&v["src"], &v["dst"]),
            (&"unknown".into(), &"unknown".into())
        );
        assert_eq!(v["type"], "finding");
        // Flow 4 + 128 maps to flow 4's slot: another peer, another line.
        let other = PeerMeta {
            flow: 132,
            peer: "5.6.7.8:8333",
            direction: MessageDirection::Recv,
            ..meta
        };
        for (m, peer, flow) in [(&other, "5.6.7.8:8333", 132), (&meta, "odd\"name", 4)] {
            let v = line(&Event::PeerFinding {
                meta: m,
                finding: &finding,
            });
            assert_eq!((&v["peer"], &v["flow"]), (&peer.into(), &flow.into()));
        }
        assert_eq!(v["kind"], "truncated");
        assert_eq!(v["needed"], 61);
        assert!(v.get("network").is_none());
    }
}
