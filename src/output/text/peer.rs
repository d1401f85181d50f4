//! Lines of messages and findings from an already-framed source (Core's
//! message capture): the peer and the capturing node (`local`) in the
//! message's direction, then the same fields as captured traffic.
//!
//! ```text
//! 2024-05-01 12:00:00.000001 1.2.3.4:8333 -> local regtest ping 8B no-checksum  nonce 7
//! 2024-05-01 12:00:00.000002 local -> 1.2.3.4:8333 regtest pong 8B no-checksum  nonce 7
//! ```
//! A file whose name gives no direction shows `PEER <-> local`.

use super::TextSink;
use crate::analyzer::event::{Finding, LOCAL_ENDPOINT, PeerMeta};
use crate::capture::core_capture::MessageDirection;
use crate::output::escape::push_escaped;
use crate::p2p::DecodeError;
use crate::p2p::frame::Frame;
use crate::p2p::message::Message;
use std::io::Write;

impl<W: Write> TextSink<W> {
    pub(super) fn peer_message(
        &mut self,
        meta: &PeerMeta<'_>,
        frame: &Frame<'_>,
        message: &Result<Message<'_>, DecodeError>,
    ) {
        self.peer_prefix(meta);
        self.line
            .push_str(meta.network.map_or("unknown", |n| n.name()));
        self.line.push(' ');
        self.message_fields(frame, message);
    }

    pub(super) fn peer_finding(&mut self, meta: &PeerMeta<'_>, finding: &Finding) {
        self.peer_prefix(meta);
        self.finding_fields(finding);
    }

    /// `TIME SRC -> DST `
    fn peer_prefix(&mut self, meta: &PeerMeta<'_>) {
        self.timestamp(meta.ts);
        self.line.push(' ');
        let peer = meta.peer.as_bytes();
        let local = LOCAL_ENDPOINT.as_bytes();
        let (src, arrow, dst) = match meta.direction {
            MessageDirection::Recv => (peer, " -> ", local),
            MessageDirection::Sent => (local, " -> ", peer),
            MessageDirection::Unknown => (peer, " <-> ", local),
        };
        push_escaped(&mut self.line, src);
        self.line.push_str(arrow);
        push_escaped(&mut self.line, dst);
        self.line.push(' ');
    }
}
