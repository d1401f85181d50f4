//! Reassembly with the peer's ACKs and with capture time: holes the peer
//! acknowledged are gaps at once; holes filled by a retransmission before
//! the bounds are not gaps at all; holes nobody fills are given up after
//! the gap timeout or beyond the byte budget; every byte keeps the time of
//! the packet it came in.
//!
//! The property test extends the naive model of tests/reassembly_model.rs with a
//! receiver: segments lost by the *sensor* reach the receiver (which ACKs
//! them, so the hole is a gap at once), segments lost on the *network*
//! reach nobody and are retransmitted (the receiver's ACKs stay below them,
//! so the hole must wait and be filled).

use btcsniff::capture::Timestamp;
use btcsniff::flow::after;
use btcsniff::flow::reassembly::{Chunk, Reassembler, ReassemblyLimits, SEGMENT_OVERHEAD};
use proptest::prelude::*;
use std::time::Duration;

const T0: Timestamp = Timestamp {
    secs: 1_700_000_000,
    nanos: 0,
};
const ISN: u32 = 4_000_000_000;

fn ms(ms: u64) -> Timestamp {
    after(T0, Duration::from_millis(ms))
}

/// What came out, chunk by chunk (adjacent chunks not merged: times differ).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Data(Timestamp, Vec<u8>),
    Gap(Timestamp, u64, u64),
}

#[derive(Default)]
struct Sink {
    out: Vec<Out>,
    /// Stream offset reached (data plus gaps).
    off: u64,
}

impl Sink {
    fn take(&mut self, c: Chunk<'_>) {
        match c {
            Chunk::Data { ts, bytes } => {
                self.off += bytes.len() as u64;
                self.out.push(Out::Data(ts, bytes.to_vec()));
            }
            Chunk::Gap { ts, offset, bytes } => {
                assert_eq!(offset, self.off, "gap offset");
                self.off += bytes;
                self.out.push(Out::Gap(ts, offset, bytes));
            }
        }
    }
}

fn limits() -> ReassemblyLimits {
    ReassemblyLimits::new(1 << 20, Duration::from_secs(3))
}

/// A stream anchored by a SYN at `T0`: data offset `o` is `ISN + 1 + o`.
fn anchored(limits: ReassemblyLimits) -> Reassembler {
    let mut r = Reassembler::new(limits);
    r.segment(T0, ISN, true, false, b"", &mut |c| panic!("{c:?}"));
    r
}

fn seq(off: u32) -> u32 {
    ISN.wrapping_add(1).wrapping_add(off)
}

#[test]
fn retransmission_within_the_timeout_fills_the_hole_without_a_gap() {
    let mut r = anchored(limits());
    let mut s = Sink::default();
    r.segment(ms(1), seq(0), false, false, b"0123456789", &mut |c| {
        s.take(c)
    });
    // 10..20 lost on the way; the receiver ACKs only 10 (duplicate ACKs).
    r.segment(ms(2), seq(20), false, false, b"KLMNOPQRST", &mut |c| {
        s.take(c)
    });
    r.ack(ms(3), seq(10), &mut |c| s.take(c));
    r.segment(ms(4), seq(30), false, false, b"UVWXYZ", &mut |c| s.take(c));
    r.ack(ms(5), seq(10), &mut |c| s.take(c));
    assert_eq!(r.deadline(), Some(ms(3002)), "the hole showed at 2 ms");
    r.expire(ms(2999), &mut |c| s.take(c));
    // The retransmission, 2.9 s later, still in time.
    r.segment(ms(2900), seq(10), false, false, b"abcdefghij", &mut |c| {
        s.take(c)
    });
    assert_eq!(r.deadline(), None);
    assert_eq!(
        s.out,
        vec![
            Out::Data(ms(1), b"0123456789".to_vec()),
            Out::Data(ms(2900), b"abcdefghij".to_vec()),
            // Buffered bytes keep the time they arrived.
            Out::Data(ms(2), b"KLMNOPQRST".to_vec()),
            Out::Data(ms(4), b"UVWXYZ".to_vec()),
        ]
    );
    assert_eq!(r.stats().gap_bytes, 0);
}

#[test]
fn a_hole_the_peer_acknowledged_is_a_gap_at_once() {
    let mut r = anchored(limits());
    let mut s = Sink::default();
    r.segment(ms(1), seq(0), false, false, b"0123456789", &mut |c| {
        s.take(c)
    });
    // 10..20 not captured, but received: the ACK of 30 says so.
    r.segment(ms(2), seq(20), false, false, b"KLMNOPQRST", &mut |c| {
        s.take(c)
    });
    r.ack(ms(3), seq(30), &mut |c| s.take(c));
    assert_eq!(
        s.out,
        vec![
            Out::Data(ms(1), b"0123456789".to_vec()),
            Out::Gap(ms(3), 10, 10),
            Out::Data(ms(2), b"KLMNOPQRST".to_vec()),
        ]
    );
    // A late copy of the missing bytes changes nothing.
    r.segment(ms(4), seq(10), false, false, b"abcdefghij", &mut |c| {
        s.take(c)
    });
    assert_eq!(s.out.len(), 3);
    assert_eq!(r.stats().retransmitted_bytes, 10);
}

#[test]
fn an_ack_inside_a_hole_waits_for_the_rest_of_it() {
    let mut r = anchored(limits());
    let mut s = Sink::default();
    r.segment(ms(1), seq(0), false, false, b"0123456789", &mut |c| {
        s.take(c)
    });
    r.segment(ms(2), seq(30), false, false, b"UVWXYZ", &mut |c| s.take(c));
    // The receiver has 10..20 (the sensor missed it); 20..30 may still come.
    r.ack(ms(3), seq(20), &mut |c| s.take(c));
    assert_eq!(s.out.len(), 1);
    r.segment(ms(4), seq(20), false, false, b"KLMNOPQRST", &mut |c| {
        s.take(c)
    });
    assert_eq!(
        s.out,
        vec![
            Out::Data(ms(1), b"0123456789".to_vec()),
            Out::Gap(ms(4), 10, 10),
            Out::Data(ms(4), b"KLMNOPQRST".to_vec()),
            Out::Data(ms(2), b"UVWXYZ".to_vec()),
        ]
    );
    // Two ACKs inside one hole, then past it: one gap.
    let mut r = anchored(limits());
    let mut s = Sink::default();
    r.segment(ms(1), seq(0), false, false, b"0123456789", &mut |c| {
        s.take(c)
    });
    r.segment(ms(2), seq(30), false, false, b"UVWXYZ", &mut |c| s.take(c));
    r.ack(ms(3), seq(15), &mut |c| s.take(c));
    r.ack(ms(4), seq(25), &mut |c| s.take(c));
    r.ack(ms(5), seq(36), &mut |c| s.take(c));
    assert_eq!(
        s.out[1..],
        [
            Out::Gap(ms(5), 10, 20),
            Out::Data(ms(2), b"UVWXYZ".to_vec())
        ]
    );
}

#[test]
fn an_acknowledged_lost_tail_is_a_gap_when_data_follows_or_at_the_end() {
    // Data follows: the gap comes with it.
    let mut r = anchored(limits());
    let mut s = Sink::default();
    r.segment(ms(1), seq(0), false, false, b"0123456789", &mut |c| {
        s.take(c)
    });
    r.ack(ms(2), seq(20), &mut |c| s.take(c));
    assert_eq!(s.out.len(), 1, "nothing after the hole yet: nothing to say");
    r.segment(ms(3), seq(20), false, false, b"KLMNOPQRST", &mut |c| {
        s.take(c)
    });
    assert_eq!(
        s.out[1..],
        [
            Out::Gap(ms(3), 10, 10),
            Out::Data(ms(3), b"KLMNOPQRST".to_vec())
        ]
    );
    // Nothing follows: the flush reports it.
    let mut r = anchored(limits());
    let mut s = Sink::default();
    r.segment(ms(1), seq(0), false, false, b"0123456789", &mut |c| {
        s.take(c)
    });
    r.ack(ms(2), seq(25), &mut |c| s.take(c));
    r.flush(ms(9), &mut |c| s.take(c));
    assert_eq!(s.out[1..], [Out::Gap(ms(9), 10, 15)]);
    // An ACK seen just before the data it acknowledges is no gap.
    let mut r = anchored(limits());
    let mut s = Sink::default();
    r.ack(ms(1), seq(10), &mut |c| s.take(c));
    r.segment(ms(1), seq(0), false, false, b"0123456789", &mut |c| {
        s.take(c)
    });
    r.flush(ms(2), &mut |c| s.take(c));
    assert_eq!(s.out, [Out::Data(ms(1), b"0123456789".to_vec())]);
}

#[test]
fn implausible_acks_are_ignored() {
    let mut r = anchored(limits());
    let mut s = Sink::default();
    r.segment(ms(1), seq(0), false, false, b"0123456789", &mut |c| {
        s.take(c)
    });
    r.segment(ms(2), seq(20), false, false, b"KLMNOPQRST", &mut |c| {
        s.take(c)
    });
    // Far beyond anything seen plus the reach; far behind.
    r.ack(ms(3), seq(30 + (1 << 20) + 1), &mut |c| s.take(c));
    r.ack(ms(3), seq(0).wrapping_sub(1 << 31), &mut |c| s.take(c));
    r.flush(ms(4), &mut |c| s.take(c));
    assert_eq!(
        s.out[1],
        Out::Gap(ms(4), 10, 10),
        "given up at the end only"
    );
    assert_eq!(s.off, 30);
}

#[test]
fn a_hole_is_given_up_after_the_gap_timeout_with_the_deadline_as_its_time() {
    let mut r = anchored(limits());
    let mut s = Sink::default();
    r.segment(ms(1), seq(0), false, false, b"0123456789", &mut |c| {
        s.take(c)
    });
    r.segment(ms(100), seq(20), false, false, b"KLMNOPQRST", &mut |c| {
        s.take(c)
    });
    r.segment(ms(200), seq(40), false, false, b"uvwxyz", &mut |c| {
        s.take(c)
    });
    // The first hole's clock started at 100 ms (data behind it seen); the
    // second's at 200 ms.
    assert_eq!(r.deadline(), Some(ms(3100)));
    r.expire(ms(3099), &mut |c| s.take(c));
    assert_eq!(s.out.len(), 1);
    r.expire(ms(3150), &mut |c| s.take(c));
    assert_eq!(
        s.out[1..],
        [
            Out::Gap(ms(3100), 10, 10),
            Out::Data(ms(100), b"KLMNOPQRST".to_vec())
        ]
    );
    assert_eq!(r.deadline(), Some(ms(3200)));
    r.expire(ms(60_000), &mut |c| s.take(c));
    assert_eq!(
        s.out[3..],
        [
            Out::Gap(ms(3200), 30, 10),
            Out::Data(ms(200), b"uvwxyz".to_vec())
        ]
    );
    assert_eq!(r.deadline(), None);
}

#[test]
fn without_acks_the_budget_is_small_with_them_it_is_the_cap() {
    let lim = ReassemblyLimits {
        unacked_budget: 4 * (1000 + SEGMENT_OVERHEAD),
        ..limits()
    };
    let chunk = [0x55u8; 1000];
    // No ACK seen: the fifth buffered segment gives the hole up.
    let mut r = anchored(lim);
    let mut s = Sink::default();
    for i in 0..5 {
        r.segment(
            ms(i),
            seq(100 + 1000 * i as u32),
            false,
            false,
            &chunk,
            &mut |c| s.take(c),
        );
    }
    assert_eq!(s.out[0], Out::Gap(ms(4), 0, 100));
    assert_eq!(s.off, 5100);
    // The receiver's ACKs are visible and stay at the hole: it is missing
    // the bytes too, a retransmission is coming; keep waiting.
    let mut r = anchored(lim);
    let mut s = Sink::default();
    r.ack(ms(0), seq(0), &mut |c| s.take(c));
    for i in 0..20 {
        r.segment(
            ms(i),
            seq(100 + 1000 * i as u32),
            false,
            false,
            &chunk,
            &mut |c| s.take(c),
        );
    }
    assert!(s.out.is_empty());
    r.segment(ms(30), seq(0), false, false, &[1u8; 100], &mut |c| {
        s.take(c)
    });
    assert_eq!(s.off, 20_100);
    assert_eq!(r.stats().gap_bytes, 0);
}

#[test]
fn a_segment_alone_over_the_budget_gives_the_hole_up_rather_than_being_dropped() {
    let lim = ReassemblyLimits {
        unacked_budget: 2000,
        ..limits()
    };
    let mut r = anchored(lim);
    let mut s = Sink::default();
    r.segment(ms(1), seq(10), false, false, &[9u8; 5000], &mut |c| {
        s.take(c)
    });
    assert_eq!(
        s.out,
        vec![Out::Gap(ms(1), 0, 10), Out::Data(ms(1), vec![9u8; 5000])]
    );
    assert_eq!(r.stats().dropped_bytes, 0);
}

// ---- the naive model with a receiver ----

/// What happens to one segment.
#[derive(Clone, Copy, Debug)]
enum Fate {
    /// Captured and received.
    Delivered,
    /// Captured twice (a duplicate), received.
    Duplicated,
    /// Not captured but received: the sensor dropped it.
    SensorLost,
    /// Lost before the sensor and the receiver: sent again later, then
    /// captured and received.
    NetworkLost,
}

/// One event at the sensor.
#[derive(Clone, Debug)]
enum Ev {
    /// A transmission of stream range `start..end`; captured or not.
    Send {
        start: usize,
        end: usize,
        captured: bool,
        received: bool,
    },
    /// The receiver's cumulative ACK now (computed while replaying).
    Ack,
}

fn ack_scenario() -> impl Strategy<Value = (Vec<u8>, Vec<Ev>)> {
    (
        proptest::collection::vec(any::<u8>(), 1..8_000),
        proptest::collection::vec(1usize..1500, 1..20),
    )
        .prop_flat_map(|(stream, cuts)| {
            let mut segs = Vec::new();
            let mut at = 0;
            let mut i = 0;
            while at < stream.len() {
                let end = (at + cuts[i % cuts.len()]).min(stream.len());
                segs.push((at, end));
                at = end;
                i += 1;
            }
            let n = segs.len();
            let fates = proptest::collection::vec(
                prop_oneof![
                    8 => Just(Fate::Delivered),
                    1 => Just(Fate::Duplicated),
                    2 => Just(Fate::SensorLost),
                    2 => Just(Fate::NetworkLost),
                ],
                n,
            );
            // Per transmission: how far it may be delayed (reordering), and
            // whether an ACK follows it.
            let delays = proptest::collection::vec(0usize..4, 2 * n);
            let acks = proptest::collection::vec(any::<bool>(), 2 * n + 1);
            (Just(stream), Just(segs), fates, delays, acks)
        })
        .prop_map(|(stream, segs, fates, delays, acks)| {
            // Transmissions in sending order, then displaced by a few places
            // (reordering on the path before the sensor).
            let mut sends = Vec::new();
            let mut retransmit = Vec::new();
            for (&(start, end), fate) in segs.iter().zip(&fates) {
                let send = |captured, received| Ev::Send {
                    start,
                    end,
                    captured,
                    received,
                };
                match fate {
                    Fate::Delivered => sends.push(send(true, true)),
                    Fate::Duplicated => {
                        sends.push(send(true, true));
                        sends.push(send(true, true));
                    }
                    Fate::SensorLost => sends.push(send(false, true)),
                    Fate::NetworkLost => {
                        sends.push(send(false, false));
                        retransmit.push(send(true, true));
                    }
                }
            }
            // Retransmissions come after the first sending round.
            sends.extend(retransmit);
            let mut keyed: Vec<(usize, Ev)> = sends
                .into_iter()
                .enumerate()
                .map(|(i, e)| (i + delays.get(i).copied().unwrap_or(0), e))
                .collect();
            keyed.sort_by_key(|(k, _)| *k);
            let mut events = Vec::new();
            for (i, (_, e)) in keyed.into_iter().enumerate() {
                events.push(e);
                if acks.get(i).copied().unwrap_or(false) {
                    events.push(Ev::Ack);
                }
            }
            events.push(Ev::Ack);
            (stream, events)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// With generous bounds: the output is exactly the captured bytes with
    /// gaps for the rest (no captured byte lost to an ACK-driven gap, no
    /// false gap where a retransmission came), and after every ACK every
    /// hole below it is already given up (nothing waits behind an
    /// acknowledged hole).
    #[test]
    fn acks_give_up_exactly_the_holes_the_receiver_has((stream, events) in ack_scenario()) {
        let generous = ReassemblyLimits {
            unacked_budget: 1 << 24,
            ..ReassemblyLimits::new(1 << 24, Duration::from_secs(3600))
        };
        let mut r = anchored(generous);
        let mut s = Sink::default();
        let mut captured = vec![false; stream.len()];
        let mut received = vec![false; stream.len()];
        let mut max_ack = 0usize;
        for (i, ev) in events.iter().enumerate() {
            let ts = ms(i as u64);
            match *ev {
                Ev::Send { start, end, captured: c, received: rcv } => {
                    if rcv {
                        received[start..end].iter_mut().for_each(|b| *b = true);
                    }
                    if c {
                        captured[start..end].iter_mut().for_each(|b| *b = true);
                        r.segment(ts, seq(start as u32), false, false, &stream[start..end], &mut |c| s.take(c));
                    }
                }
                Ev::Ack => {
                    let ack = received.iter().position(|&b| !b).unwrap_or(stream.len());
                    max_ack = max_ack.max(ack);
                    r.ack(ts, seq(ack as u32), &mut |c| s.take(c));
                    // Everything captured below the ACK is out, and every
                    // hole below it is given up, unless the ACK ends inside
                    // it (its rest may come) or nothing captured lies past
                    // it yet (a lost tail waits for data).
                    let captured_end = captured.iter().rposition(|&b| b).map_or(0, |i| i + 1);
                    let mut reach = ack.min(captured_end);
                    while reach > 0 && !captured[reach - 1] {
                        reach -= 1;
                    }
                    prop_assert!(s.off as usize >= reach,
                        "after ACK {ack}: output at {}, captured up to {captured_end}", s.off);
                }
            }
        }
        r.flush(ms(1_000_000), &mut |c| s.take(c));
        prop_assert_eq!(r.buffered_bytes(), 0);
        // The model: captured bytes as data, the rest up to the last byte
        // known to exist (captured, or acknowledged) as gaps. One byte
        // acknowledged past the captured end is the sequence number of a
        // FIN the capture missed, as the reassembler takes it at the end,
        // not a lost byte (a lost 1-byte tail reads the same on the wire).
        let captured_end = captured.iter().rposition(|&b| b).map_or(0, |i| i + 1);
        let end = if max_ack == captured_end + 1 {
            captured_end
        } else {
            captured_end.max(max_ack)
        };
        let mut got: Vec<Option<u8>> = Vec::new();
        for o in &s.out {
            match o {
                Out::Data(_, d) => got.extend(d.iter().map(|&b| Some(b))),
                Out::Gap(_, _, n) => got.extend(std::iter::repeat_n(None, *n as usize)),
            }
        }
        let want: Vec<Option<u8>> = (0..end).map(|i| captured[i].then_some(stream[i])).collect();
        prop_assert_eq!(got, want);
    }
}
