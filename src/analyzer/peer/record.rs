//! The peer record: what each side of a connection sent and negotiated,
//! as the flow's end record and `--stats` show it (README, "Peer
//! records"). Plain data; the output renders it.

use super::MAX_USER_AGENT;
use super::commands::CommandCounts;
use crate::capture::Timestamp;
use crate::flow::FlowInfo;
use crate::p2p::message::Version;

/// A side's `version` message, the fields people look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFields {
    pub version: i32,
    /// Lossy UTF-8, at most [`MAX_USER_AGENT`] bytes of it.
    pub user_agent: String,
    pub services: u64,
    pub start_height: Option<i32>,
    pub relay: Option<bool>,
}

impl From<&Version<'_>> for VersionFields {
    fn from(v: &Version<'_>) -> Self {
        let ua = v.user_agent.unwrap_or_default();
        let ua = ua.get(..MAX_USER_AGENT).unwrap_or(ua);
        VersionFields {
            version: v.version,
            user_agent: String::from_utf8_lossy(ua).into_owned(),
            services: v.services.0,
            start_height: v.start_height,
            relay: v.relay,
        }
    }
}

/// Inventory items announced (inv), by type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InvCounts {
    pub tx: u64,
    pub wtx: u64,
    pub block: u64,
    pub cmpct_block: u64,
    pub filtered_block: u64,
    pub other: u64,
}

impl InvCounts {
    /// Items of an inv by type: runs of one type (an inv is nearly always
    /// all tx or all wtx) are added at once.
    pub fn count_all(&mut self, type_ids: impl Iterator<Item = u32>) {
        let mut run: Option<(u32, u64)> = None;
        for type_id in type_ids {
            run = match run {
                Some((t, n)) if t == type_id => Some((t, n.saturating_add(1))),
                Some((t, n)) => {
                    self.count_n(t, n);
                    Some((type_id, 1))
                }
                None => Some((type_id, 1)),
            };
        }
        if let Some((t, n)) = run {
            self.count_n(t, n);
        }
    }

    fn count_n(&mut self, type_id: u32, n: u64) {
        let slot = match type_id & !super::MSG_WITNESS_FLAG {
            super::MSG_TX => &mut self.tx,
            super::MSG_WTX => &mut self.wtx,
            super::MSG_BLOCK => &mut self.block,
            super::MSG_CMPCT_BLOCK => &mut self.cmpct_block,
            super::MSG_FILTERED_BLOCK => &mut self.filtered_block,
            _ => &mut self.other,
        };
        *slot = slot.saturating_add(n);
    }
}

/// Round trips of a side's pings to the other side's pongs, in
/// microseconds as the sensor saw them (the median over the last
/// [`super::MAX_RTT_SAMPLES`], the upper one of an even count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RttSummary {
    pub count: u64,
    pub min: Option<u32>,
    pub median: Option<u32>,
    pub max: Option<u32>,
}

/// What one side sent: its version, the features it asked for, counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SideRecord {
    pub version: Option<VersionFields>,
    pub wtxidrelay: bool,
    pub sendaddrv2: bool,
    pub sendheaders: bool,
    /// The highest compact block version it announced (BIP152).
    pub sendcmpct_version: Option<u64>,
    /// Its last sendcmpct's `announce`: high-bandwidth mode asked for.
    pub sendcmpct_high_bandwidth: Option<bool>,
    /// Its last feefilter, sat/kvB.
    pub feefilter: Option<i64>,
    /// Its sendtxrcncl version (BIP330).
    pub sendtxrcncl: Option<u32>,
    pub commands: CommandCounts,
    /// Its pings, answered.
    pub ping: RttSummary,
    pub inv: InvCounts,
    pub getdata_items: u64,
    pub notfound_items: u64,
    /// tx and block messages it delivered.
    pub tx: u64,
    pub blocks: u64,
    /// addr and addrv2 entries it sent.
    pub addr_entries: u64,
}

/// The TCP handshake as the sensor saw it, microseconds: `rtt` is SYN to
/// the client's ACK; `server` SYN to SYN-ACK (sensor to server and back),
/// `client` SYN-ACK to ACK (sensor to client and back).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpTiming {
    pub rtt: Option<u64>,
    pub server: Option<u64>,
    pub client: Option<u64>,
}

/// A connection's peer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRecord {
    /// `client` when the SYN was captured (the client opened it); `None`
    /// when joined mid-stream.
    pub initiator: Option<&'static str>,
    /// First to last packet, microseconds.
    pub duration: u64,
    pub tcp: TcpTiming,
    /// Bytes the client and the server sent again.
    pub retransmitted_bytes: [u64; 2],
    /// What the client sent, what the server sent.
    pub sides: [SideRecord; 2],
    /// Unsolicited/unmatched-pong findings beyond what a flow holds until
    /// its end ([`super::MAX_DEFERRED`]): not reported, counted here.
    pub checks_dropped: u64,
}

impl PeerRecord {
    pub fn new(info: &FlowInfo, sides: [SideRecord; 2]) -> PeerRecord {
        let hs = info.handshake;
        let span = |a: Option<Timestamp>, b: Option<Timestamp>| Some(micros(a?, b?));
        PeerRecord {
            initiator: info.syn_seen.then_some("client"),
            duration: micros(info.first_ts, info.last_ts),
            tcp: TcpTiming {
                rtt: span(hs.syn, hs.ack),
                server: span(hs.syn, hs.syn_ack),
                client: span(hs.syn_ack, hs.ack),
            },
            retransmitted_bytes: [
                info.to_server.reassembly.retransmitted_bytes,
                info.to_client.reassembly.retransmitted_bytes,
            ],
            sides,
            checks_dropped: 0,
        }
    }

    /// Payload bytes of every message both sides sent (the `--stats`
    /// table's order).
    pub fn message_bytes(&self) -> u64 {
        self.sides
            .iter()
            .fold(0u64, |a, s| a.saturating_add(s.commands.total_bytes()))
    }
}

/// Microseconds from `a` to `b`, 0 when `b` is earlier.
pub fn micros(a: Timestamp, b: Timestamp) -> u64 {
    let a = i128::from(a.secs) * 1_000_000 + i128::from(a.nanos / 1000);
    let b = i128::from(b.secs) * 1_000_000 + i128::from(b.nanos / 1000);
    u64::try_from((b - a).max(0)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inv_runs_are_counted_by_type() {
        let mut c = InvCounts::default();
        let witness_tx = 1 | super::super::MSG_WITNESS_FLAG;
        c.count_all([5, 5, 5, 2, 1, witness_tx, 99, 5].into_iter());
        c.count_all(std::iter::empty());
        let expected = InvCounts {
            tx: 2,
            wtx: 4,
            block: 1,
            other: 1,
            ..InvCounts::default()
        };
        assert_eq!(c, expected);
    }
}
