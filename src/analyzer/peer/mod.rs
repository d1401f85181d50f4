//! What one connection's two sides did: a [`PeerState`] per flow (and per
//! peer of Core's message capture) follows every message, answers the
//! checks that need history (a pong's ping, a tx's getdata) and makes the
//! [`PeerRecord`] of the flow's end record and `--stats`.
//!
//! Memory per flow (x86-64): the state itself is about 2 KiB (two
//! command tables of 38 counter pairs, 608 bytes each, records, version
//! fields), allocated at the flow's first message;
//! on top, bounded by constants below: up to [`MAX_PENDING_PINGS`] pings
//! and [`MAX_RTT_SAMPLES`] round-trip samples (4 bytes each) per side,
//! and up to [`MAX_REQUESTED`] outstanding getdata hashes (32 bytes plus
//! the set's overhead) per side — in practice the few a node has in
//! flight (Core: 100 transactions, 16 blocks per peer).

pub mod commands;
mod record;

pub use record::{InvCounts, PeerRecord, RttSummary, SideRecord, TcpTiming, VersionFields, micros};

use crate::analyzer::Finding;
use crate::capture::Timestamp;
use crate::p2p::message::{InvItem, Message};
use commands::CommandCounts;
use foldhash::HashSet;

/// Pings of one side awaiting their pong (Core has one in flight).
pub const MAX_PENDING_PINGS: usize = 8;
/// Round-trip samples kept per side for the median (the count, minimum
/// and maximum cover every sample).
pub const MAX_RTT_SAMPLES: usize = 512;
/// Requested hashes remembered per side for the unsolicited check;
/// beyond it the check stops for that side (no false alarms).
pub const MAX_REQUESTED: usize = 4096;
/// Longest user agent kept (Core's MAX_SUBVERSION_LENGTH).
pub const MAX_USER_AGENT: usize = 256;

/// inv type ids (protocol.h).
const MSG_TX: u32 = 1;
const MSG_BLOCK: u32 = 2;
const MSG_FILTERED_BLOCK: u32 = 3;
const MSG_CMPCT_BLOCK: u32 = 4;
const MSG_WTX: u32 = 5;
const MSG_WITNESS_FLAG: u32 = 0x4000_0000;

/// One side's view: what it sent, and what the other side may answer.
#[derive(Debug, Default)]
struct Side {
    record: SideRecord,
    commands: CommandCounts,
    /// Its first message was its `version`, and no byte of it was lost
    /// since: what it asked for (getdata, ping) is all known.
    complete: bool,
    /// Bytes were lost (perhaps before its first message).
    lost_before_start: bool,
    pings: Vec<(u64, Timestamp)>,
    pings_overflowed: bool,
    rtt_samples: Vec<u32>,
    rtt_next: usize,
    /// Hashes it requested with getdata and that were not yet delivered.
    requested: HashSet<[u8; 32]>,
    requests_overflowed: bool,
    /// It asked for a filtered block: matched txs then come unrequested.
    filtered_blocks: bool,
}

/// Findings of the request and ping checks held until the flow ends.
pub const MAX_DEFERRED: usize = 256;

/// Per-connection behaviour of both sides (index 0: the flow's client or
/// the capture file's peer side; 1: the other).
#[derive(Debug, Default)]
pub struct PeerState {
    sides: [Side; 2],
    /// TCP flows: a gap is decided after later bytes of the other
    /// direction were handed out (up to the gap timeout), so a pong or tx
    /// may arrive before the loss of its ping or getdata is known. Their
    /// findings wait for the flow's end: (side that sent the message,
    /// side whose request is missing, time, finding).
    defer: bool,
    deferred: Vec<(usize, usize, Timestamp, Finding)>,
    /// Deferred findings beyond [`MAX_DEFERRED`], counted in the record.
    deferred_dropped: u64,
}

impl PeerState {
    /// The state of a TCP flow (its request findings wait for its end).
    pub fn for_tcp() -> PeerState {
        PeerState {
            defer: true,
            ..PeerState::default()
        }
    }

    /// The held findings whose requesting side stayed complete to the end:
    /// (sending side, time, finding).
    pub fn take_deferred(&mut self) -> Vec<(usize, Timestamp, Finding)> {
        let deferred = std::mem::take(&mut self.deferred);
        deferred
            .into_iter()
            .filter(|(_, requester, _, _)| self.sides.get(*requester).is_some_and(|s| s.complete))
            .map(|(side, _, ts, f)| (side, ts, f))
            .collect()
    }

    fn check_finding(&mut self, side: usize, ts: Timestamp, f: Finding, out: &mut Vec<Finding>) {
        if !self.defer {
            out.push(f);
        } else if self.deferred.len() < MAX_DEFERRED {
            self.deferred
                .push((side, 1usize.saturating_sub(side), ts, f));
        } else {
            self.deferred_dropped = self.deferred_dropped.saturating_add(1);
        }
    }

    /// Counts a framed message of `side` (before and whether or not it is
    /// decoded); `first`: the side's first message.
    pub fn frame(&mut self, side: usize, first: bool, command: &[u8], bytes: u64) {
        if let Some(s) = self.sides.get_mut(side) {
            if first {
                s.complete = command == b"version" && !s.lost_before_start;
            }
            s.commands.count(command, bytes);
        }
    }

    /// Bytes of `side` were lost: its requests may be unknown from now on.
    pub fn lost(&mut self, side: usize) {
        if let Some(s) = self.sides.get_mut(side) {
            s.complete = false;
            // A direction whose first bytes are gone never starts complete.
            s.lost_before_start = true;
        }
    }

    /// A decoded message of `side` at `ts`; findings go to `out`.
    pub fn message(
        &mut self,
        side: usize,
        ts: Timestamp,
        message: &Message<'_>,
        out: &mut Vec<Finding>,
    ) {
        let mut found = Vec::new();
        self.update(side, ts, message, &mut found);
        for f in found {
            self.check_finding(side, ts, f, out);
        }
    }

    fn update(
        &mut self,
        side: usize,
        ts: Timestamp,
        message: &Message<'_>,
        out: &mut Vec<Finding>,
    ) {
        let [a, b] = &mut self.sides;
        let (me, them) = if side == 0 { (a, b) } else { (b, a) };
        let r = &mut me.record;
        match message {
            Message::Version(v) => r.version = Some(VersionFields::from(v)),
            Message::WtxidRelay => r.wtxidrelay = true,
            Message::SendAddrV2 => r.sendaddrv2 = true,
            Message::SendHeaders => r.sendheaders = true,
            Message::SendCmpct(c) => {
                r.sendcmpct_version = r.sendcmpct_version.max(Some(c.version));
                r.sendcmpct_high_bandwidth = Some(c.announce);
            }
            Message::FeeFilter(f) => r.feefilter = Some(f.fee_rate_sat_per_kvb),
            Message::SendTxRcncl(t) => r.sendtxrcncl = Some(t.version),
            Message::Inv(inv) => r.inv.count_all(inv.inventory.type_ids()),
            Message::GetData(inv) => {
                r.getdata_items = r.getdata_items.saturating_add(inv.inventory.len() as u64);
                for item in inv.inventory.iter() {
                    me.request(&item);
                }
            }
            Message::NotFound(inv) => {
                r.notfound_items = r.notfound_items.saturating_add(inv.inventory.len() as u64);
                for item in inv.inventory.iter() {
                    them.requested.remove(&item.hash.0);
                }
            }
            Message::Tx(tx) => {
                r.tx = r.tx.saturating_add(1);
                // Asked for by txid, else by wtxid (BIP339).
                let asked = them.requested.remove(&tx.txid.0)
                    || tx.wtxid.is_some_and(|w| them.requested.remove(&w.0));
                if !asked && them.checks_requests() && !them.filtered_blocks {
                    out.push(Finding::Unsolicited {
                        command: "tx",
                        hash: tx.txid,
                    });
                }
            }
            Message::Block(block) => {
                r.blocks = r.blocks.saturating_add(1);
                let hash = block.header.hash;
                if !them.requested.remove(&hash.0) && them.checks_requests() {
                    out.push(Finding::Unsolicited {
                        command: "block",
                        hash,
                    });
                }
            }
            Message::Addr(a) => {
                r.addr_entries = r.addr_entries.saturating_add(a.addresses.len() as u64)
            }
            Message::AddrV2(a) => {
                r.addr_entries = r.addr_entries.saturating_add(a.addresses.len() as u64)
            }
            Message::Ping(p) => {
                if let Some(nonce) = p.nonce {
                    if me.pings.len() >= MAX_PENDING_PINGS {
                        me.pings.remove(0);
                        me.pings_overflowed = true;
                    }
                    me.pings.push((nonce, ts));
                }
            }
            Message::Pong(p) => them.pong(p.nonce, ts, out),
            _ => {}
        }
    }

    /// Request and ping check findings not held (beyond [`MAX_DEFERRED`]).
    pub fn checks_dropped(&self) -> u64 {
        self.deferred_dropped
    }

    /// The record of what each side did so far.
    pub fn record(&self) -> [SideRecord; 2] {
        let [a, b] = &self.sides;
        [a.finish(), b.finish()]
    }
}

impl Side {
    fn checks_requests(&self) -> bool {
        self.complete && !self.requests_overflowed
    }

    fn request(&mut self, item: &InvItem) {
        let base = item.type_id & !MSG_WITNESS_FLAG;
        match base {
            MSG_TX | MSG_WTX | MSG_BLOCK | MSG_CMPCT_BLOCK => {}
            MSG_FILTERED_BLOCK => {
                self.filtered_blocks = true;
                return;
            }
            _ => return,
        }
        // Core answers MSG_CMPCT_BLOCK for an old block with a block.
        if self.requested.len() >= MAX_REQUESTED {
            self.requests_overflowed = true;
            return;
        }
        self.requested.insert(item.hash.0);
    }

    /// A pong with `nonce` answering a ping of this side.
    fn pong(&mut self, nonce: u64, ts: Timestamp, out: &mut Vec<Finding>) {
        match self.pings.iter().position(|(n, _)| *n == nonce) {
            Some(i) => {
                let (_, sent) = self.pings.remove(i);
                // Older pings are not answered any more (Core replaces its
                // outstanding ping).
                self.pings.drain(..i);
                self.rtt(micros_between(sent, ts));
            }
            None if self.complete && !self.pings_overflowed => {
                out.push(Finding::UnmatchedPong { nonce });
            }
            None => {}
        }
    }

    fn rtt(&mut self, micros: u32) {
        let r = &mut self.record.ping;
        r.count = r.count.saturating_add(1);
        r.min = Some(r.min.map_or(micros, |m| m.min(micros)));
        r.max = Some(r.max.map_or(micros, |m| m.max(micros)));
        if self.rtt_samples.len() < MAX_RTT_SAMPLES {
            self.rtt_samples.push(micros);
        } else if let Some(slot) = self.rtt_samples.get_mut(self.rtt_next) {
            // The most recent samples: a ring once full.
            *slot = micros;
        }
        self.rtt_next = self.rtt_next.saturating_add(1) % MAX_RTT_SAMPLES;
    }

    fn finish(&self) -> SideRecord {
        let mut r = self.record.clone();
        r.commands = self.commands.clone();
        if !self.rtt_samples.is_empty() {
            let mut sorted = self.rtt_samples.clone();
            sorted.sort_unstable();
            r.ping.median = sorted.get(sorted.len() / 2).copied();
        }
        r
    }
}

/// Microseconds from `a` to `b` (0 if `b` is earlier; saturating at about
/// 71 minutes, far beyond any ping timeout).
fn micros_between(a: Timestamp, b: Timestamp) -> u32 {
    u32::try_from(record::micros(a, b)).unwrap_or(u32::MAX)
}
