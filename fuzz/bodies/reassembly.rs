//! The reassembler and the flow table fed arbitrary segment sequences.
//!
//! Mode 0: one direction with a budget larger than anything the input can
//! reach, checked against a naive model (first arrival wins per byte; after
//! flush the output is exactly the covered bytes, gaps for the rest).
//! Mode 1: a tiny budget, so holes are given up and far segments dropped,
//! with arbitrary ACKs and capture times (so holes are also given up on
//! ACKs and timeouts); every byte sent agrees with `byte_at(offset)`, so
//! whatever comes out must too, at the right offsets, and the buffer never
//! exceeds the budget.
//! Mode 2: the flow table with few slots and arbitrary endpoints, flags and
//! timestamps: every flow ends exactly once, nothing arrives after its end,
//! the table never exceeds its limit.
use btcsniff::capture::Timestamp;
use btcsniff::flow::reassembly::{Chunk, Reassembler, ReassemblyLimits, SEGMENT_OVERHEAD};
use btcsniff::flow::{EndReason, FlowHandler, FlowInfo, FlowLimits, FlowTable, StreamEvent};
use btcsniff::net::{TcpFlags, TcpSegment};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

const T0: Timestamp = Timestamp {
    secs: 1_700_000_000,
    nanos: 0,
};

/// `budget` for every bound; no timeout unless the caller sets one.
fn limits(budget: usize) -> ReassemblyLimits {
    ReassemblyLimits {
        unacked_budget: budget,
        ..ReassemblyLimits::new(budget, Duration::from_secs(1 << 20))
    }
}

/// Reads the fuzz input as a little script.
struct Script<'a>(&'a [u8]);

impl Script<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.u8()?, self.u8()?]))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes([
            self.u8()?,
            self.u8()?,
            self.u8()?,
            self.u8()?,
        ]))
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fn byte_at(off: u64) -> u8 {
    (off.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8
}

/// One fuzz input (shared by the fuzz target and the regression test).
pub fn run(data: &[u8]) {
    let mut s = Script(data);
    let Some(mode) = s.u8() else { return };
    match mode % 3 {
        0 => exact_model(s),
        1 => tight_budget(s),
        _ => flow_table(s),
    }
}

/// What came out of a reassembler, by stream offset.
#[derive(Default)]
struct Out {
    off: u64,
    /// `Some(byte)` delivered, `None` gap, per offset (small streams only).
    bytes: Vec<Option<u8>>,
}

impl Out {
    fn take(&mut self, c: Chunk<'_>) {
        match c {
            Chunk::Data { bytes: b, .. } => {
                self.bytes.extend(b.iter().map(|&x| Some(x)));
                self.off += b.len() as u64;
            }
            Chunk::Gap {
                offset, bytes: n, ..
            } => {
                assert_eq!(offset, self.off, "gap at the wrong offset");
                assert!(n < 1 << 24, "gap of {n} bytes in a small stream");
                self.bytes.extend(std::iter::repeat_n(None, n as usize));
                self.off += n;
            }
        }
    }
}

fn exact_model(mut s: Script<'_>) {
    let Some(isn) = s.u32() else { return };
    let mut r = Reassembler::new(limits(1 << 24));
    let mut out = Out::default();
    r.segment(T0, isn, true, false, &[], &mut |c| out.take(c));
    // model[i]: the first byte that arrived for offset i.
    let mut model: Vec<Option<u8>> = Vec::new();
    let mut fin_end: Option<u64> = None;
    while let (Some(start), Some(len), Some(flags)) = (s.u16(), s.u8(), s.u8()) {
        let payload = s.bytes(usize::from(len)).to_vec();
        let start = u64::from(start);
        let fin = flags & 1 != 0;
        let seq = isn.wrapping_add(1).wrapping_add(start as u32);
        r.segment(T0, seq, false, fin, &payload, &mut |c| out.take(c));
        let end = start as usize + payload.len();
        if model.len() < end {
            model.resize(end, None);
        }
        for (slot, &b) in model[start as usize..end].iter_mut().zip(&payload) {
            slot.get_or_insert(b);
        }
        if fin && fin_end.is_none() {
            fin_end = Some(end as u64);
        }
        assert!(r.buffered_bytes() <= 1 << 24);
    }
    r.flush(T0, &mut |c| out.take(c));
    assert_eq!(r.buffered_bytes(), 0);
    let covered_end = model.iter().rposition(Option::is_some).map_or(0, |i| i + 1);
    let end = covered_end.max(fin_end.unwrap_or(0) as usize);
    model.resize(end, None);
    assert_eq!(
        out.bytes, model,
        "reassembled stream differs from the model"
    );
}

fn tight_budget(mut s: Script<'_>) {
    let (Some(isn), Some(budget)) = (s.u32(), s.u16()) else {
        return;
    };
    let budget = usize::from(budget) + SEGMENT_OVERHEAD;
    let lim = ReassemblyLimits {
        gap_timeout: Duration::from_millis(500),
        ..limits(budget)
    };
    let mut r = Reassembler::new(lim);
    let mut out = Out::default();
    // Per stream offset: whether any segment carried it.
    let mut sent: Vec<bool> = Vec::new();
    let mut ts = T0;
    r.segment(ts, isn, true, false, &[], &mut |c| out.take(c));
    while let (Some(start), Some(len), Some(flags)) = (s.u16(), s.u16(), s.u8()) {
        // Bit 1: an ACK, of `start` bytes past what is out, with `len`'s
        // low bits as milliseconds elapsed (timeouts fire).
        if flags & 2 != 0 {
            ts = btcsniff::flow::after(ts, Duration::from_millis(u64::from(len % 1024)));
            r.expire(ts, &mut |c| out.take(c));
            let ack = isn
                .wrapping_add(1)
                .wrapping_add(out.off as u32)
                .wrapping_add(u32::from(start));
            r.ack(ts, ack, &mut |c| out.take(c));
            assert!(r.buffered_bytes() <= budget, "buffer above its budget");
            continue;
        }
        // Up to 4 x 64 KiB ahead: beyond the reach of small budgets.
        let start = u64::from(start) * (u64::from(flags >> 6) + 1);
        let len = u64::from(len % 4096);
        let payload: Vec<u8> = (start..start + len).map(byte_at).collect();
        let end = (start + len) as usize;
        if sent.len() < end {
            sent.resize(end, false);
        }
        sent[start as usize..end].iter_mut().for_each(|s| *s = true);
        let seq = isn.wrapping_add(1).wrapping_add(start as u32);
        r.segment(ts, seq, false, flags & 1 != 0, &payload, &mut |c| {
            out.take(c)
        });
        assert!(r.buffered_bytes() <= budget, "buffer above its budget");
    }
    r.flush(ts, &mut |c| out.take(c));
    assert_eq!(r.buffered_bytes(), 0);
    assert_eq!(out.off, out.bytes.len() as u64);
    for (off, b) in out.bytes.iter().enumerate() {
        if let Some(b) = b {
            assert_eq!(*b, byte_at(off as u64), "wrong byte at offset {off}");
            assert!(sent.get(off) == Some(&true), "byte {off} was never sent");
        }
    }
}

/// Per-flow bookkeeping of the test handler.
#[derive(Default)]
struct Checker {
    live: HashSet<u64>,
    ended: HashSet<u64>,
}

impl FlowHandler<u64> for Checker {
    fn new_flow(&mut self, info: &FlowInfo) -> u64 {
        assert!(self.live.insert(info.id), "flow {} created twice", info.id);
        info.id
    }
    fn event(&mut self, info: &FlowInfo, state: &mut u64, ev: StreamEvent<'_>) {
        assert_eq!(*state, info.id);
        assert!(self.live.contains(&info.id), "event after end");
        if let StreamEvent::Data { bytes, .. } = ev {
            assert!(!bytes.is_empty(), "empty data event");
        }
    }
    fn end(&mut self, info: &FlowInfo, state: u64, _reason: EndReason) {
        assert_eq!(state, info.id);
        assert!(self.live.remove(&info.id), "flow {} ended twice", info.id);
        self.ended.insert(info.id);
    }
}

fn flow_table(mut s: Script<'_>) {
    let (Some(max_flows), Some(budget), Some(idle)) = (s.u8(), s.u16(), s.u8()) else {
        return;
    };
    let limits = FlowLimits {
        max_flows: usize::from(max_flows % 8),
        max_buffered_per_direction: usize::from(budget),
        gap_timeout: Duration::from_millis(u64::from(idle) * 50),
        idle_timeout_secs: u64::from(idle % 16),
    };
    let mut table: FlowTable<u64> = FlowTable::new(limits, &[18444]);
    let mut checker = Checker::default();
    let mut secs: i64 = 1_700_000_000;
    let payload_pool: Vec<u8> = (0..4096u64).map(byte_at).collect();
    while let (Some(ends), Some(seq), Some(flags), Some(len), Some(dt)) =
        (s.u8(), s.u32(), s.u8(), s.u16(), s.u8())
    {
        let addr = |n: u8| {
            let port = [8333, 18444, 50000, 50001][usize::from(n >> 2 & 3)];
            let ip = if n & 0x10 != 0 {
                IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
            } else {
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, n & 3))
            };
            SocketAddr::new(ip, port)
        };
        let payload = &payload_pool[..usize::from(len % 4096)];
        let seg = TcpSegment {
            src: addr(ends & 0x1f),
            dst: addr(ends >> 3),
            seq,
            ack: seq.rotate_left(u32::from(len % 32)),
            flags: TcpFlags {
                syn: flags & 1 != 0,
                fin: flags & 2 != 0,
                rst: flags & 4 != 0,
                ack: flags & 8 != 0,
                psh: flags & 16 != 0,
            },
            window: 0,
            payload,
        };
        // Time mostly moves forward, sometimes back (captures merged badly).
        secs = secs.saturating_add(i64::from(dt as i8) / 4);
        table.segment(Timestamp::new(secs, 0), &seg, &mut checker);
        assert!(table.len() <= limits.max_flows.max(1));
        assert_eq!(table.len(), checker.live.len());
    }
    table.finish(&mut checker);
    assert!(table.is_empty());
    assert!(checker.live.is_empty(), "flows never ended");
}
