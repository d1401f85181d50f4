//! The operations the front sends to workers: one per call the flow
//! table makes to its handler, with what the worker needs of the flow's
//! info (what does not change once, the counts with each call).

use crate::capture::Timestamp;
use crate::flow::{Direction, EndReason, FlowInfo};
use std::net::SocketAddr;
use std::sync::Arc;

/// One call of the flow table to its handler, for a worker.
pub(super) struct Op {
    /// The flow's slot in its worker.
    pub(super) slot: u32,
    /// The analyzer's capture time when the call was made.
    pub(super) now: Timestamp,
    /// The flow's packets and payload bytes so far (client to server,
    /// server to client), which flow records show.
    pub(super) counts: Counts,
    pub(super) kind: OpKind,
}

/// Packets and payload bytes per direction, as [`FlowInfo`] has them.
#[derive(Clone, Copy, Default)]
pub(super) struct Counts {
    pub(super) packets: [u64; 2],
    pub(super) bytes: [u64; 2],
}

impl Counts {
    pub(super) fn of(info: &FlowInfo) -> Counts {
        Counts {
            packets: [info.to_server.packets, info.to_client.packets],
            bytes: [info.to_server.payload_bytes, info.to_client.payload_bytes],
        }
    }
}

/// What a worker keeps of a flow's [`FlowInfo`]: what does not change.
/// The counts come with each operation; reassembly statistics and the last
/// packet's time are the table's own (the analyzer does not read them).
pub(super) struct Ident {
    pub(super) id: u64,
    pub(super) client: SocketAddr,
    pub(super) server: SocketAddr,
    pub(super) syn_seen: bool,
    pub(super) first_ts: Timestamp,
}

impl Ident {
    pub(super) fn of(info: &FlowInfo) -> Ident {
        Ident {
            id: info.id,
            client: info.client,
            server: info.server,
            syn_seen: info.syn_seen,
            first_ts: info.first_ts,
        }
    }

    /// The flow's info as the analyzer sees it, with `counts`.
    pub(super) fn info(&self, counts: Counts) -> FlowInfo {
        let [p0, p1] = counts.packets;
        let [b0, b1] = counts.bytes;
        let dir = |packets, payload_bytes| crate::flow::DirStats {
            packets,
            payload_bytes,
            ..Default::default()
        };
        FlowInfo {
            id: self.id,
            client: self.client,
            server: self.server,
            syn_seen: self.syn_seen,
            first_ts: self.first_ts,
            last_ts: self.first_ts,
            to_server: dir(p0, b0),
            to_client: dir(p1, b1),
            handshake: Default::default(),
        }
    }
}

/// What a flow's end record needs of the table's [`FlowInfo`] beyond the
/// counts (the peer record's duration, TCP handshake, retransmissions).
pub(super) struct EndFacts {
    pub(super) last_ts: Timestamp,
    pub(super) handshake: crate::flow::TcpHandshake,
    pub(super) retransmitted_bytes: [u64; 2],
}

impl EndFacts {
    pub(super) fn of(info: &FlowInfo) -> EndFacts {
        EndFacts {
            last_ts: info.last_ts,
            handshake: info.handshake,
            retransmitted_bytes: [
                info.to_server.reassembly.retransmitted_bytes,
                info.to_client.reassembly.retransmitted_bytes,
            ],
        }
    }

    /// `info` (made by [`Ident::info`]) as the table had it at the end
    /// (or at a snapshot).
    pub(super) fn apply(&self, info: &mut FlowInfo) {
        info.last_ts = self.last_ts;
        info.handshake = self.handshake;
        let [c2s, s2c] = self.retransmitted_bytes;
        info.to_server.reassembly.retransmitted_bytes = c2s;
        info.to_client.reassembly.retransmitted_bytes = s2c;
    }
}

pub(super) enum OpKind {
    New(Box<Ident>),
    /// Stream bytes, at `start..end` of the batch's data, or of its
    /// source when `shared`.
    Data {
        dir: Direction,
        ts: Timestamp,
        start: usize,
        end: usize,
        shared: bool,
    },
    Gap {
        dir: Direction,
        ts: Timestamp,
        offset: u64,
        bytes: u64,
    },
    End(EndReason, Box<EndFacts>),
    /// The flow's record as it stands (live, on SIGUSR1).
    Snapshot(Box<EndFacts>),
    /// A note from the source (live capture's drop notices).
    Note {
        ts: Timestamp,
        source: &'static str,
        text: Box<str>,
    },
    /// Bytes a growing key log appended (to every worker).
    KeyLog(Arc<[u8]>),
}
