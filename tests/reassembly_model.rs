//! The reassembler against a naive model: a random stream cut into
//! segments, reordered, duplicated, overlapped and partly lost; the output
//! (data and gaps) must be the stream where bytes arrived and gaps of exactly
//! the lost sizes elsewhere. With the peer's ACKs (tests/reassembly_acks.rs)
//! the same model must hold, and holes the peer acknowledged must be gaps
//! at once.

use btcsniff::capture::Timestamp;
use btcsniff::flow::reassembly::{Chunk, FAR_RESYNC_STRIKES, Reassembler, ReassemblyLimits};
use proptest::prelude::*;
use std::time::Duration;

const T0: Timestamp = Timestamp {
    secs: 1_700_000_000,
    nanos: 0,
};

/// `budget` for every bound, and no timeout within a test.
fn limits(budget: usize) -> ReassemblyLimits {
    ReassemblyLimits {
        unacked_budget: budget,
        ..ReassemblyLimits::new(budget, Duration::from_secs(3600))
    }
}

/// Output normalized to runs: adjacent data merged, adjacent gaps merged.
#[derive(Debug, PartialEq, Eq)]
enum Run {
    Data(Vec<u8>),
    Gap(u64),
}

#[derive(Default)]
struct Collect(Vec<Run>);

impl Collect {
    fn push(&mut self, c: Chunk<'_>) {
        match (c, self.0.last_mut()) {
            (Chunk::Data { bytes: [], .. }, _) => {}
            (Chunk::Gap { bytes: 0, .. }, _) => {}
            (Chunk::Data { bytes, .. }, Some(Run::Data(d))) => d.extend_from_slice(bytes),
            (Chunk::Gap { bytes, .. }, Some(Run::Gap(g))) => *g += bytes,
            (Chunk::Data { bytes, .. }, _) => self.0.push(Run::Data(bytes.to_vec())),
            (Chunk::Gap { bytes, .. }, _) => self.0.push(Run::Gap(bytes)),
        }
    }
}

/// The model: runs over `[0, end)` from a coverage bitmap.
fn model(stream: &[u8], covered: &[bool], end: usize) -> Vec<Run> {
    let mut c = Collect::default();
    for i in 0..end {
        if covered[i] {
            c.push(Chunk::Data {
                ts: T0,
                bytes: &stream[i..i + 1],
            });
        } else {
            c.push(Chunk::Gap {
                ts: T0,
                offset: i as u64,
                bytes: 1,
            });
        }
    }
    c.0
}

/// A segment: stream range and whether it carries the FIN.
#[derive(Clone, Debug)]
struct Seg {
    start: usize,
    end: usize,
    fin: bool,
}

fn scenario() -> impl Strategy<Value = (Vec<u8>, Vec<Seg>, u32)> {
    let isn = prop_oneof![any::<u32>(), (u32::MAX - 40_000)..=u32::MAX];
    (
        proptest::collection::vec(any::<u8>(), 1..12_000),
        proptest::collection::vec(1usize..1500, 1..40),
        isn,
    )
        .prop_flat_map(|(stream, cuts, isn)| {
            // Cut the stream at the given sizes, cycling.
            let mut segs = Vec::new();
            let mut at = 0;
            let mut i = 0;
            while at < stream.len() {
                let end = (at + cuts[i % cuts.len()]).min(stream.len());
                segs.push(Seg {
                    start: at,
                    end,
                    fin: end == stream.len(),
                });
                at = end;
                i += 1;
            }
            let n = segs.len();
            let len = stream.len();
            // Per segment: 0 = lost, 1 = once, 2 = twice; extra overlapping
            // ranges (retransmissions that re-cut the stream); a shuffle.
            let fates = proptest::collection::vec(
                prop_oneof![1 => Just(0u8), 6 => Just(1u8), 1 => Just(2u8)],
                n,
            );
            let extra = proptest::collection::vec((0..len, 1usize..2000), 0..6);
            (
                Just(stream),
                Just(segs),
                Just(isn),
                fates,
                extra,
                any::<u64>(),
            )
        })
        .prop_map(|(stream, segs, isn, fates, extra, seed)| {
            let mut sent = Vec::new();
            for (s, f) in segs.iter().zip(&fates) {
                for _ in 0..*f {
                    sent.push(s.clone());
                }
            }
            for (start, len) in extra {
                let end = (start + len).min(stream.len());
                sent.push(Seg {
                    start,
                    end,
                    fin: false,
                });
            }
            // Deterministic Fisher-Yates from the seed (xorshift).
            let mut x = seed | 1;
            for i in (1..sent.len()).rev() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                sent.swap(i, (x % (i as u64 + 1)) as usize);
            }
            (stream, sent, isn)
        })
}

fn feed(r: &mut Reassembler, out: &mut Collect, stream: &[u8], isn: u32, s: &Seg) {
    let seq = isn.wrapping_add(1).wrapping_add(s.start as u32);
    r.segment(T0, seq, false, s.fin, &stream[s.start..s.end], &mut |c| {
        out.push(c)
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// With a budget larger than the stream nothing is given up early: the
    /// output after flush is exactly the model.
    #[test]
    fn matches_model_after_syn((stream, sent, isn) in scenario()) {
        let mut r = Reassembler::new(limits(1 << 24));
        let mut out = Collect::default();
        r.segment(T0, isn, true, false, &[], &mut |c| out.push(c));
        let mut covered = vec![false; stream.len()];
        let mut fin = false;
        for s in &sent {
            feed(&mut r, &mut out, &stream, isn, s);
            covered[s.start..s.end].iter_mut().for_each(|c| *c = true);
            fin |= s.fin;
        }
        r.flush(T0, &mut |c| out.push(c));
        // Without a FIN, lost bytes after the last received one are unknown.
        let end = if fin { stream.len() } else { covered.iter().rposition(|&c| c).map_or(0, |i| i + 1) };
        prop_assert_eq!(out.0, model(&stream, &covered, end));
        prop_assert_eq!(r.buffered_bytes(), 0);
    }

    /// With a small budget holes are given up early, but every delivered
    /// byte is still at its true position and the budget is never exceeded.
    #[test]
    fn small_budget_keeps_positions((stream, sent, isn) in scenario(), budget in 1usize..4000) {
        let mut r = Reassembler::new(limits(budget));
        let mut out = Collect::default();
        r.segment(T0, isn, true, false, &[], &mut |c| out.push(c));
        for s in &sent {
            feed(&mut r, &mut out, &stream, isn, s);
            prop_assert!(r.buffered_bytes() <= budget);
        }
        r.flush(T0, &mut |c| out.push(c));
        let mut pos = 0usize;
        for run in &out.0 {
            match run {
                Run::Data(d) => {
                    prop_assert!(pos + d.len() <= stream.len());
                    prop_assert_eq!(&d[..], &stream[pos..pos + d.len()]);
                    pos += d.len();
                }
                Run::Gap(g) => pos += *g as usize,
            }
        }
        prop_assert!(pos <= stream.len());
    }
}

fn run(r: &mut Reassembler, segs: &[(u32, bool, bool, &[u8])]) -> Vec<Run> {
    let mut out = Collect::default();
    for &(seq, syn, fin, data) in segs {
        r.segment(T0, seq, syn, fin, data, &mut |c| out.push(c));
    }
    out.0
}

/// `T0` plus `ms` milliseconds.
fn ms(ms: u64) -> Timestamp {
    btcsniff::flow::after(T0, Duration::from_millis(ms))
}

#[test]
fn mid_stream_start_is_the_lowest_segment_of_the_hold() {
    let mut r = Reassembler::new(limits(1 << 20));
    let mut out = Collect::default();
    // The payload (100..200) is captured just before its header (0..100):
    // both are held, then the stream starts at the header.
    r.segment(T0, 1100, false, false, &[b'b'; 100], &mut |c| out.push(c));
    r.segment(T0, 1000, false, false, &[b'a'; 100], &mut |c| out.push(c));
    assert!(out.0.is_empty(), "held");
    assert_eq!(r.deadline(), Some(ms(200)));
    r.expire(ms(199), &mut |c| out.push(c));
    assert!(out.0.is_empty(), "still held");
    r.expire(ms(200), &mut |c| out.push(c));
    r.segment(ms(201), 1200, false, false, &[b'c'; 100], &mut |c| {
        out.push(c)
    });
    let mut want = vec![b'a'; 100];
    want.extend_from_slice(&[b'b'; 100]);
    want.extend_from_slice(&[b'c'; 100]);
    assert_eq!(out.0, vec![Run::Data(want)]);
    // After the hold, older data is old.
    r.segment(ms(202), 900, false, false, &[b'z'; 100], &mut |c| {
        out.push(c)
    });
    assert_eq!(r.stats().retransmitted_bytes, 100);
}

#[test]
fn mid_stream_hold_ends_at_its_byte_allowance_and_keeps_times() {
    let lim = limits(1 << 20);
    let mut r = Reassembler::new(lim);
    let big = vec![7u8; lim.start_hold_bytes / 2];
    r.segment(ms(1), 5000, false, false, &big, &mut |c| {
        panic!("held, yet {c:?}")
    });
    let mut seen = Vec::new();
    r.segment(
        ms(2),
        5000 + big.len() as u32,
        false,
        false,
        &big,
        &mut |c| {
            if let Chunk::Data { ts, bytes } = c {
                seen.push((ts, bytes.len()));
            }
        },
    );
    assert_eq!(seen, vec![(ms(1), big.len()), (ms(2), big.len())]);
}

#[test]
fn empty_segments_do_not_anchor_a_mid_stream_start() {
    let mut r = Reassembler::new(limits(1 << 20));
    // A keep-alive sits one byte before the next data.
    let out = run(
        &mut r,
        &[(999, false, false, b""), (1000, false, false, b"data")],
    );
    assert!(out.is_empty());
    let mut out = Collect::default();
    r.flush(T0, &mut |c| out.push(c));
    assert_eq!(out.0, vec![Run::Data(b"data".to_vec())]);
}

#[test]
fn wraparound_in_order_and_out_of_order() {
    let mut r = Reassembler::new(limits(1 << 20));
    let isn = u32::MAX - 2; // data starts at MAX-1; wraps after 2 bytes
    let out = run(
        &mut r,
        &[
            (isn, true, false, b""),
            (3, false, false, b"fgh"),
            (u32::MAX - 1, false, false, b"abcde"),
            (6, false, true, b"ij"),
        ],
    );
    assert_eq!(out, vec![Run::Data(b"abcdefghij".to_vec())]);
    assert!(r.fin_seen());
}

#[test]
fn overlap_first_arrival_wins() {
    let mut r = Reassembler::new(limits(1 << 20));
    let out = run(
        &mut r,
        &[
            (u32::MAX, true, false, b""),
            (0, false, false, b"AB"),
            (4, false, false, b"EF"),
            (3, false, false, b"xyzw"),
            (2, false, false, b"cd"),
        ],
    );
    // Buffered "EF" at 4..6 beats "yz"; "x" fills 3; "w" adds 7; "c" fills 2.
    assert_eq!(out, vec![Run::Data(b"ABcxEFw".to_vec())]);
}

#[test]
fn fin_lets_flush_report_trailing_loss() {
    let mut r = Reassembler::new(limits(1 << 20));
    let mut out = Collect::default();
    // 0..3 arrives; 3..8 lost; 8..10 arrives with FIN.
    r.segment(T0, u32::MAX, true, false, b"", &mut |c| out.push(c));
    r.segment(T0, 0, false, false, b"abc", &mut |c| out.push(c));
    r.segment(T0, 8, false, true, b"ij", &mut |c| out.push(c));
    r.flush(T0, &mut |c| out.push(c));
    assert_eq!(
        out.0,
        vec![
            Run::Data(b"abc".to_vec()),
            Run::Gap(5),
            Run::Data(b"ij".to_vec())
        ]
    );
    // A bare FIN after lost data: the gap up to it is known.
    let mut r = Reassembler::new(limits(1 << 20));
    let mut out = Collect::default();
    r.segment(T0, u32::MAX, true, false, b"", &mut |c| out.push(c));
    r.segment(T0, 0, false, false, b"abc", &mut |c| out.push(c));
    r.segment(T0, 10, false, true, b"", &mut |c| out.push(c));
    r.flush(T0, &mut |c| out.push(c));
    assert_eq!(out.0, vec![Run::Data(b"abc".to_vec()), Run::Gap(7)]);
}

#[test]
fn far_ahead_segments_are_dropped_then_resynced() {
    let budget = 1000;
    let mut r = Reassembler::new(limits(budget));
    let mut out = Collect::default();
    r.segment(T0, u32::MAX, true, false, b"", &mut |c| out.push(c));
    r.segment(T0, 0, false, false, b"start", &mut |c| out.push(c));
    let far = 5 + 50_000u32;
    for i in 0..FAR_RESYNC_STRIKES {
        r.segment(T0, far + 10 * i, false, false, b"0123456789", &mut |c| {
            out.push(c)
        });
        if i + 1 < FAR_RESYNC_STRIKES {
            assert_eq!(r.buffered_bytes(), 0, "far data must not be buffered");
        }
    }
    let jumped_to = far + 10 * (FAR_RESYNC_STRIKES - 1);
    assert_eq!(
        out.0,
        vec![
            Run::Data(b"start".to_vec()),
            Run::Gap(u64::from(jumped_to - 5)),
            Run::Data(b"0123456789".to_vec())
        ]
    );
    assert_eq!(
        r.stats().dropped_bytes,
        10 * u64::from(FAR_RESYNC_STRIKES - 1)
    );
}

#[test]
fn budget_overflow_gives_up_the_oldest_hole() {
    let mut r = Reassembler::new(limits(800));
    let mut out = Collect::default();
    r.segment(T0, u32::MAX, true, false, b"", &mut |c| out.push(c));
    r.segment(T0, 0, false, false, b"a", &mut |c| out.push(c));
    // Hole at 1..11; 11..211 buffered; then 211..611 does not fit.
    r.segment(T0, 11, false, false, &[b'b'; 200], &mut |c| out.push(c));
    assert!(out.0.len() == 1);
    r.segment(T0, 211, false, false, &[b'c'; 400], &mut |c| out.push(c));
    let mut tail = vec![b'b'; 200];
    tail.extend_from_slice(&[b'c'; 400]);
    assert_eq!(
        out.0,
        vec![Run::Data(b"a".to_vec()), Run::Gap(10), Run::Data(tail)]
    );
    assert_eq!(r.stats().gap_bytes, 10);
}
