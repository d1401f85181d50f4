//! The flow table: flows by key, in a slab linked in least-recently-active
//! order, so eviction and idle expiry take the list's tail in O(1) per flow;
//! reassembly timers (hole timeouts, mid-stream start holds) in a set
//! ordered by deadline, holding only flows that have one.

use super::{
    Direction, EndReason, FlowHandler, FlowInfo, FlowKey, FlowLimits, StreamEvent,
    reassembly::{Chunk, Reassembler, ReassemblyLimits},
};
use crate::capture::Timestamp;
use crate::net::TcpSegment;
use crate::p2p::network::BITCOIN_PORTS;
use std::collections::{BTreeSet, HashMap};

const NIL: u32 = u32::MAX;

/// The hasher of the flow index. Keys are 4-tuples anyone on the wire
/// chooses, so the hash must be seeded per process, unknown to them
/// (std's SipHash is, at several times the cost of one lookup here).
/// foldhash's RandomState is seeded per process and per map; `quality`
/// rather than `fast`: the same hashing plus one multiply that mixes the
/// final bits, which are the ones the table indexes with, so keys that
/// differ little (sequential ports, adjacent addresses) still spread.
type FlowIndexHasher = foldhash::quality::RandomState;

/// Table-wide counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    pub flows_created: u64,
    pub flows_evicted: u64,
    pub flows_expired: u64,
    /// Segments of unknown flows without SYN or payload (the last ACK after
    /// a close, keep-alives of flows already expired): they start no flow.
    pub segments_ignored: u64,
}

struct Slot<S> {
    key: FlowKey,
    info: FlowInfo,
    /// Whether `key.lo` is the client.
    client_is_lo: bool,
    to_server: Reassembler,
    to_client: Reassembler,
    state: S,
    /// The earlier of the two reassemblers' deadlines, as registered in
    /// the table's timer set.
    timer: Option<Timestamp>,
    /// Neighbours in the activity list (towards head = more recent).
    newer: u32,
    older: u32,
}

/// All tracked flows. See the module docs of [`crate::flow`].
pub struct FlowTable<S> {
    limits: FlowLimits,
    bitcoin_ports: Vec<u16>,
    index: HashMap<FlowKey, u32, FlowIndexHasher>,
    /// Invariant: `slots[i]` is `Some` exactly for the indices in `index`'s
    /// values, which are also exactly the members of the activity list;
    /// `free` holds the other indices.
    slots: Vec<Option<Slot<S>>>,
    free: Vec<u32>,
    /// Most recently active flow.
    head: u32,
    /// Least recently active flow.
    tail: u32,
    next_id: u64,
    last_expiry: Option<Timestamp>,
    /// `(deadline, flow id, slot)` of every flow with a timer. Invariant:
    /// exactly the slots whose `timer` is `Some`, with that deadline.
    timers: BTreeSet<(Timestamp, u64, u32)>,
    /// The latest capture time seen: when flows ended by the table (end
    /// of input, eviction) give up their holes.
    now: Timestamp,
    stats: TableStats,
}

impl<S> FlowTable<S> {
    /// `extra_ports` are Bitcoin ports beyond the default ones.
    pub fn new(limits: FlowLimits, extra_ports: &[u16]) -> FlowTable<S> {
        let mut bitcoin_ports = BITCOIN_PORTS.to_vec();
        bitcoin_ports.extend_from_slice(extra_ports);
        FlowTable {
            limits: FlowLimits {
                max_flows: limits.max_flows.clamp(1, (NIL as usize).saturating_sub(1)),
                ..limits
            },
            bitcoin_ports,
            index: HashMap::with_hasher(FlowIndexHasher::default()),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            next_id: 1,
            last_expiry: None,
            timers: BTreeSet::new(),
            now: Timestamp::ZERO,
            stats: TableStats::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn stats(&self) -> TableStats {
        self.stats
    }

    /// Takes the next flow number for a connection that reaches the
    /// analyzer without packets (a peer of Core's message capture), so
    /// that numbers stay unique across sources.
    pub fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        id
    }

    /// Takes one TCP segment captured at `ts`.
    pub fn segment(
        &mut self,
        ts: Timestamp,
        seg: &TcpSegment<'_>,
        handler: &mut impl FlowHandler<S>,
    ) {
        self.advance(ts, handler);
        let (key, src_is_lo) = FlowKey::new(seg.src, seg.dst);
        let idx = match self.index.get(&key) {
            Some(&idx) => idx,
            None if seg.flags.syn || !seg.payload.is_empty() => self.create(ts, key, seg, handler),
            None => {
                self.stats.segments_ignored = self.stats.segments_ignored.saturating_add(1);
                return;
            }
        };
        self.touch(idx);
        let Some(slot) = self.slots.get_mut(idx as usize).and_then(Option::as_mut) else {
            return;
        };
        let dir = if src_is_lo == slot.client_is_lo {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let Slot {
            info,
            state,
            to_server,
            to_client,
            ..
        } = slot;
        info.last_ts = info.last_ts.max(ts);
        if info.handshake.ack.is_none() && (seg.flags.syn || seg.flags.ack) {
            info.handshake
                .segment(ts, dir, seg.flags.syn, seg.flags.ack);
        }
        let (reasm, peer, stats) = match dir {
            Direction::ClientToServer => (&mut *to_server, &mut *to_client, &mut info.to_server),
            Direction::ServerToClient => (&mut *to_client, &mut *to_server, &mut info.to_client),
        };
        stats.packets = stats.packets.saturating_add(1);
        stats.payload_bytes = stats.payload_bytes.saturating_add(seg.payload.len() as u64);
        // The ACK first: what it releases of the other direction was sent
        // before this segment's data.
        if seg.flags.ack {
            let rev = dir.reverse();
            peer.ack(ts, seg.ack, &mut |chunk| {
                emit(handler, info, state, rev, chunk)
            });
        }
        reasm.segment(
            ts,
            seg.seq,
            seg.flags.syn,
            seg.flags.fin,
            seg.payload,
            &mut |chunk| emit(handler, info, state, dir, chunk),
        );
        info.to_server.reassembly = to_server.stats();
        info.to_client.reassembly = to_client.stats();
        let both_fin = to_server.fin_seen() && to_client.fin_seen();
        if seg.flags.rst {
            self.end_flow(idx, EndReason::Rst, handler);
        } else if both_fin {
            self.end_flow(idx, EndReason::Fin, handler);
        } else {
            self.rearm(idx);
        }
    }

    /// Brings capture time to `now` (a packet's time, or a live capture's
    /// clock while no packet comes): fires the reassembly timers that are
    /// due, then (at most once per second of capture time) ends idle flows.
    pub fn advance(&mut self, now: Timestamp, handler: &mut impl FlowHandler<S>) {
        self.now = self.now.max(now);
        self.run_timers(now, handler);
        if self.last_expiry.is_none_or(|last| now.secs > last.secs) {
            self.expire(now, handler);
        }
    }

    /// Fires every timer due at `now`, earliest first (ties by flow id).
    fn run_timers(&mut self, now: Timestamp, handler: &mut impl FlowHandler<S>) {
        while let Some(&(deadline, id, idx)) = self.timers.first() {
            if deadline > now {
                return;
            }
            self.timers.pop_first();
            let Some(slot) = self.slots.get_mut(idx as usize).and_then(Option::as_mut) else {
                continue;
            };
            debug_assert_eq!(slot.info.id, id);
            slot.timer = None;
            let Slot {
                info,
                state,
                to_server,
                to_client,
                ..
            } = slot;
            for (dir, reasm) in [
                (Direction::ClientToServer, &mut *to_server),
                (Direction::ServerToClient, &mut *to_client),
            ] {
                reasm.expire(now, &mut |chunk| emit(handler, info, state, dir, chunk));
            }
            info.to_server.reassembly = to_server.stats();
            info.to_client.reassembly = to_client.stats();
            self.rearm(idx);
        }
    }

    /// Registers the flow's next reassembly deadline (after its
    /// reassemblers changed).
    fn rearm(&mut self, idx: u32) {
        let Some(slot) = self.slots.get_mut(idx as usize).and_then(Option::as_mut) else {
            return;
        };
        let next = match (slot.to_server.deadline(), slot.to_client.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if next == slot.timer {
            return;
        }
        if let Some(old) = slot.timer {
            self.timers.remove(&(old, slot.info.id, idx));
        }
        if let Some(new) = next {
            self.timers.insert((new, slot.info.id, idx));
        }
        slot.timer = next;
    }

    /// Ends flows idle for longer than the timeout at capture time `now`.
    pub fn expire(&mut self, now: Timestamp, handler: &mut impl FlowHandler<S>) {
        self.last_expiry = Some(now);
        while let Some(slot) = self.slots.get(self.tail as usize).and_then(Option::as_ref) {
            if slot.info.last_ts.plus_secs(self.limits.idle_timeout_secs) >= now {
                break;
            }
            self.stats.flows_expired = self.stats.flows_expired.saturating_add(1);
            self.end_flow(self.tail, EndReason::IdleTimeout, handler);
        }
    }

    /// Every open flow, in order of creation (a look at them while they
    /// run: live's snapshot on SIGUSR1). Nothing is delivered or ended.
    pub fn each_open(&mut self, mut look: impl FnMut(&FlowInfo, &mut S)) {
        let mut open: Vec<(u64, u32)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (s.info.id, i as u32)))
            .collect();
        open.sort_unstable();
        for (_, idx) in open {
            if let Some(slot) = self.slots.get_mut(idx as usize).and_then(Option::as_mut) {
                look(&slot.info, &mut slot.state);
            }
        }
    }

    /// Ends every flow ([`EndReason::EndOfInput`]) in order of creation,
    /// delivering buffered data after gaps for its holes.
    pub fn finish(&mut self, handler: &mut impl FlowHandler<S>) {
        let mut live: Vec<(u64, u32)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (s.info.id, i as u32)))
            .collect();
        live.sort_unstable();
        for (_, idx) in live {
            self.end_flow(idx, EndReason::EndOfInput, handler);
        }
    }

    fn create(
        &mut self,
        ts: Timestamp,
        key: FlowKey,
        seg: &TcpSegment<'_>,
        handler: &mut impl FlowHandler<S>,
    ) -> u32 {
        if self.index.len() >= self.limits.max_flows && self.tail != NIL {
            self.stats.flows_evicted = self.stats.flows_evicted.saturating_add(1);
            self.end_flow(self.tail, EndReason::Evicted, handler);
        }
        let src_is_client = if seg.flags.syn {
            // SYN from the client; SYN-ACK from the server.
            !seg.flags.ack
        } else {
            let from_bitcoin = self.bitcoin_ports.contains(&seg.src.port());
            let to_bitcoin = self.bitcoin_ports.contains(&seg.dst.port());
            // Mid-stream: the sender is the client, unless it answers from
            // a Bitcoin port to an ephemeral one.
            !from_bitcoin || to_bitcoin
        };
        let (client, server) = if src_is_client {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let info = FlowInfo {
            id: self.next_id,
            client,
            server,
            syn_seen: seg.flags.syn,
            first_ts: ts,
            last_ts: ts,
            to_server: Default::default(),
            to_client: Default::default(),
            handshake: Default::default(),
        };
        self.next_id = self.next_id.saturating_add(1);
        self.stats.flows_created = self.stats.flows_created.saturating_add(1);
        let state = handler.new_flow(&info);
        let limits = ReassemblyLimits::new(
            self.limits.max_buffered_per_direction,
            self.limits.gap_timeout,
        );
        let slot = Slot {
            key,
            info,
            client_is_lo: client == key.lo,
            to_server: Reassembler::new(limits),
            to_client: Reassembler::new(limits),
            state,
            timer: None,
            newer: NIL,
            older: NIL,
        };
        let idx = match self.free.pop() {
            Some(idx) => {
                if let Some(place) = self.slots.get_mut(idx as usize) {
                    *place = Some(slot);
                }
                idx
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len().saturating_sub(1) as u32
            }
        };
        self.index.insert(key, idx);
        self.push_head(idx);
        idx
    }

    /// Removes a flow, flushes both directions and hands its state back.
    fn end_flow(&mut self, idx: u32, reason: EndReason, handler: &mut impl FlowHandler<S>) {
        self.unlink(idx);
        let Some(slot) = self.slots.get_mut(idx as usize).and_then(Option::take) else {
            return;
        };
        self.free.push(idx);
        self.index.remove(&slot.key);
        if let Some(deadline) = slot.timer {
            self.timers.remove(&(deadline, slot.info.id, idx));
        }
        let Slot {
            mut info,
            mut state,
            mut to_server,
            mut to_client,
            ..
        } = slot;
        let now = self.now;
        for (dir, reasm) in [
            (Direction::ClientToServer, &mut to_server),
            (Direction::ServerToClient, &mut to_client),
        ] {
            reasm.flush(now, &mut |chunk| {
                emit(handler, &mut info, &mut state, dir, chunk)
            });
        }
        info.to_server.reassembly = to_server.stats();
        info.to_client.reassembly = to_client.stats();
        handler.end(&info, state, reason);
    }

    fn touch(&mut self, idx: u32) {
        if self.head != idx {
            self.unlink(idx);
            self.push_head(idx);
        }
    }

    fn push_head(&mut self, idx: u32) {
        let old_head = self.head;
        if let Some(s) = self.slot_mut(idx) {
            s.newer = NIL;
            s.older = old_head;
        }
        if let Some(h) = self.slot_mut(old_head) {
            h.newer = idx;
        }
        self.head = idx;
        if self.tail == NIL {
            self.tail = idx;
        }
    }

    fn unlink(&mut self, idx: u32) {
        let Some(s) = self.slot_mut(idx) else { return };
        let (newer, older) = (s.newer, s.older);
        s.newer = NIL;
        s.older = NIL;
        match self.slot_mut(newer) {
            Some(n) => n.older = older,
            None => self.head = older,
        }
        match self.slot_mut(older) {
            Some(o) => o.newer = newer,
            None => self.tail = newer,
        }
    }

    fn slot_mut(&mut self, idx: u32) -> Option<&mut Slot<S>> {
        self.slots.get_mut(idx as usize).and_then(Option::as_mut)
    }
}

/// Turns a reassembler chunk into a handler event.
fn emit<S>(
    handler: &mut impl FlowHandler<S>,
    info: &mut FlowInfo,
    state: &mut S,
    dir: Direction,
    chunk: Chunk<'_>,
) {
    let ev = match chunk {
        Chunk::Data { ts, bytes } => StreamEvent::Data { dir, ts, bytes },
        Chunk::Gap { ts, offset, bytes } => StreamEvent::Gap {
            dir,
            ts,
            offset,
            bytes,
        },
    };
    handler.event(info, state, ev);
}
