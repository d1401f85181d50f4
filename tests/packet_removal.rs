//! One lost packet loses only what it carried: for real captures, every
//! packet that carries TCP payload is removed in turn (as `editcap F G N`
//! would) and the whole capture analyzed again, in process. Compared with
//! the intact capture:
//!
//! - every message of the other directions and flows is decoded, with
//!   its original timestamp;
//! - in the packet's direction, every message whose bytes do not touch the
//!   packet's sequence range is decoded with its original timestamp, and
//!   nothing is decoded that the intact capture did not have;
//! - the bytes reported as gaps are exactly the intact capture's plus the
//!   bytes only that packet carried (when anything shows they existed:
//!   data after them, the peer's ACK or a FIN), and they come as one more
//!   gap finding (none more when the hole joins one the capture already
//!   had).
//!
//! Every flow stays v1 (these captures predate BIP324 or have no v2 peer).
//!
//! The counts are printed (`cargo test --release --test packet_removal --
//! --nocapture`); README "Gaps and time" quotes them.

use btcsniff::analyzer::{Analyzer, AnalyzerConfig};
use btcsniff::analyzer::{Event, Finding};
use btcsniff::capture::{FileReader, LinkType, Packet, Timestamp};
use btcsniff::net::parse_tcp;
use btcsniff::output::Sink;
use btcsniff::p2p::frame::Checksum;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

/// One captured packet, owned.
struct Pkt {
    ts: Timestamp,
    link: LinkType,
    data: Vec<u8>,
}

fn read(path: &str) -> Vec<Pkt> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let mut reader = FileReader::open(&path).expect("open capture");
    let mut out = Vec::new();
    while let Some(p) = reader.next_packet().expect("read") {
        out.push(Pkt {
            ts: p.ts,
            link: p.link_type,
            data: p.data.to_vec(),
        });
    }
    out
}

type Dir = (SocketAddr, SocketAddr);

/// A decoded message as the test compares it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Msg {
    ts: Timestamp,
    command: Vec<u8>,
    payload: Vec<u8>,
    /// Stream offset of the header, and the wire bytes of the header.
    offset: u64,
    header: Vec<u8>,
}

impl Msg {
    fn wire_len(&self) -> u64 {
        (self.header.len() + self.payload.len()) as u64
    }
}

/// Messages and gaps per direction.
#[derive(Default)]
struct Recorder {
    msgs: BTreeMap<Dir, Vec<Msg>>,
    /// (stream offset, bytes) of every gap finding.
    gaps: BTreeMap<Dir, Vec<(u64, u64)>>,
    /// The transport of every flow record.
    transports: Vec<&'static str>,
}

impl Sink for Recorder {
    fn event(&mut self, event: &Event<'_, '_>) -> std::io::Result<()> {
        match event {
            Event::Message { meta, frame, .. } => {
                let mut header = frame.network.magic().to_vec();
                header.extend_from_slice(&frame.command.0);
                header.extend_from_slice(&frame.length.to_le_bytes());
                match frame.checksum {
                    Checksum::Valid => {
                        header.extend_from_slice(&btcsniff::p2p::sha256d(frame.payload)[..4])
                    }
                    Checksum::Invalid { expected, .. } => header.extend_from_slice(&expected),
                    Checksum::Absent => {}
                }
                self.msgs
                    .entry((meta.src, meta.dst))
                    .or_default()
                    .push(Msg {
                        ts: meta.ts,
                        command: frame.command.as_bytes().to_vec(),
                        payload: frame.payload.to_vec(),
                        offset: frame.stream_offset,
                        header,
                    });
            }
            Event::Finding {
                meta,
                finding: Finding::Gap { offset, bytes },
            } => self
                .gaps
                .entry((meta.src, meta.dst))
                .or_default()
                .push((*offset, *bytes)),
            Event::Flow(record) => self.transports.push(record.transport.name()),
            _ => {}
        }
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn analyze(packets: &[Pkt], skip: Option<usize>) -> Recorder {
    let mut rec = Recorder::default();
    let mut analyzer = Analyzer::new(AnalyzerConfig::default(), &mut rec);
    for (i, p) in packets.iter().enumerate() {
        if Some(i) == skip {
            continue;
        }
        let packet = Packet {
            ts: p.ts,
            link_type: p.link,
            data: &p.data,
            orig_len: p.data.len() as u32,
            interface: 0,
        };
        analyzer.packet(&packet).expect("in-memory sink");
    }
    analyzer.finish().expect("in-memory sink");
    rec
}

/// The TCP view of a packet: direction, seq, ack (if any), payload, FIN.
struct Tcp {
    dir: Dir,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    len: u32,
}

fn tcp(p: &Pkt) -> Tcp {
    let s = parse_tcp(p.link, &p.data).expect("every packet is TCP");
    Tcp {
        dir: (s.src, s.dst),
        seq: s.seq,
        ack: s.flags.ack.then_some(s.ack),
        syn: s.flags.syn,
        fin: s.flags.fin,
        len: s.payload.len() as u32,
    }
}

/// The sequence number of stream offset 0 of direction `dir` in a run:
/// where one of its messages' wire bytes sit in a captured packet.
fn anchor(packets: &[Pkt], dir: Dir, msgs: &[Msg]) -> Option<u32> {
    for m in msgs {
        let mut wire = m.header.clone();
        wire.extend_from_slice(&m.payload[..m.payload.len().min(64)]);
        for p in packets {
            let s = parse_tcp(p.link, &p.data).expect("TCP");
            if (s.src, s.dst) != dir {
                continue;
            }
            if let Some(pos) = s.payload.windows(wire.len()).position(|w| w == wire) {
                return Some(s.seq.wrapping_add(pos as u32).wrapping_sub(m.offset as u32));
            }
        }
    }
    None
}

/// Byte ranges `[from, to)`, merged.
fn union(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.retain(|r| r.0 < r.1);
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Offset of `seq` relative to `base` (streams here are far below 2^31).
fn rel(seq: u32, base: u32) -> u64 {
    u64::from(seq.wrapping_sub(base))
}

/// Figures over all removals of one capture.
#[derive(Default, Debug)]
struct Tally {
    removals: u64,
    /// Messages of the intact capture, summed over removals.
    messages: u64,
    /// ... decoded again with their original timestamp.
    recovered: u64,
    /// ... whose bytes touched the removed packet.
    touched: u64,
    /// ... not decoded again (all touched: an untouched one fails the test).
    lost: u64,
    /// Removals that left bytes missing (no other packet carried them).
    holes: u64,
    /// ... of which the capture shows that bytes existed (reported as gap).
    detectable: u64,
}

fn removal_check(path: &str) -> Tally {
    let packets = read(path);
    let intact = analyze(&packets, None);
    let tcps: Vec<Tcp> = packets.iter().map(tcp).collect();
    let anchors: BTreeMap<Dir, u32> = intact
        .msgs
        .iter()
        .map(|(dir, msgs)| (*dir, anchor(&packets, *dir, msgs).expect("anchor found")))
        .collect();
    let total: u64 = intact.msgs.values().map(|m| m.len() as u64).sum();
    let mut tally = Tally::default();
    for (k, removed) in tcps.iter().enumerate() {
        if removed.len == 0 {
            continue;
        }
        let Some(&base) = anchors.get(&removed.dir) else {
            continue; // a direction without messages (none in these captures)
        };
        tally.removals += 1;
        tally.messages += total;
        let run = analyze(&packets, Some(k));
        assert!(
            run.transports.iter().all(|t| *t == "v1"),
            "{path}: removing packet {} made a flow {:?}",
            k + 1,
            run.transports
        );
        let (s, e) = (
            rel(removed.seq, base),
            rel(removed.seq, base) + u64::from(removed.len),
        );
        // What no other packet of the direction carried.
        let others: Vec<(u64, u64)> = tcps
            .iter()
            .enumerate()
            .filter(|(i, t)| *i != k && t.dir == removed.dir && t.len > 0)
            .map(|(_, t)| (rel(t.seq, base), rel(t.seq, base) + u64::from(t.len)))
            .collect();
        let covered = union(others.clone());
        let mut missing = vec![(s, e)];
        for &(a, b) in &covered {
            missing = missing
                .into_iter()
                .flat_map(|(x, y)| [(x, y.min(a)), (x.max(b), y)])
                .filter(|r| r.0 < r.1)
                .collect();
        }
        let reverse = (removed.dir.1, removed.dir.0);
        let evidence_after = others.iter().any(|r| r.0 >= e)
            || tcps.iter().enumerate().any(|(i, t)| {
                i != k
                    && ((t.dir == reverse && t.ack.is_some_and(|a| rel(a, base) >= e))
                        || (t.dir == removed.dir && t.fin && rel(t.seq, base) >= e))
            });
        // Where the stream starts is known from a SYN or earlier data.
        let data_before =
            others.iter().any(|r| r.0 < s) || tcps.iter().any(|t| t.dir == removed.dir && t.syn);
        let detectable = !missing.is_empty() && evidence_after && data_before;
        tally.holes += u64::from(!missing.is_empty());
        tally.detectable += u64::from(detectable);
        for (dir, msgs) in &intact.msgs {
            let got = run.msgs.get(dir).cloned().unwrap_or_default();
            let got_base = anchor(&packets, *dir, &got);
            let key = |m: &Msg| (m.ts, m.command.clone(), m.payload.clone());
            let mut pool: Vec<_> = got.iter().map(key).collect();
            for m in msgs {
                let from = m.offset;
                let touched = *dir == removed.dir && from < e && from + m.wire_len() > s;
                let here = pool.iter().position(|g| *g == key(m));
                match here {
                    Some(i) => {
                        pool.swap_remove(i);
                        tally.recovered += 1;
                    }
                    None if touched => tally.lost += 1,
                    None => panic!(
                        "{path}: removing packet {} lost an untouched {} of {dir:?} at offset {from} ({:?})",
                        k + 1,
                        String::from_utf8_lossy(&m.command),
                        m.ts
                    ),
                }
                tally.touched += u64::from(touched);
            }
            // Nothing new: what is left over is a touched message at another
            // time (its bytes came again later in a retransmission).
            for g in pool {
                let known = msgs
                    .iter()
                    .any(|m| (m.command.clone(), m.payload.clone()) == (g.1.clone(), g.2.clone()));
                assert!(
                    known,
                    "{path}: removing packet {} invented a message",
                    k + 1
                );
            }
            // Gaps: the intact ones plus what went missing, as byte ranges
            // in the intact run's offsets.
            let to_intact = |off: u64| match (got_base, anchors.get(dir)) {
                (Some(g), Some(&b)) => rel(g.wrapping_add(off as u32), b),
                _ => off,
            };
            let gap_ranges = |gaps: Option<&Vec<(u64, u64)>>, conv: &dyn Fn(u64) -> u64| {
                union(
                    gaps.into_iter()
                        .flatten()
                        .map(|&(o, n)| (conv(o), conv(o) + n))
                        .collect(),
                )
            };
            let before = gap_ranges(intact.gaps.get(dir), &|o| o);
            let after = gap_ranges(run.gaps.get(dir), &to_intact);
            let mut want = before.clone();
            if *dir == removed.dir && detectable {
                want.extend(missing.iter().copied());
            }
            let mut want = union(want);
            // The packet also carried an ACK of the other direction: when it
            // was the highest, the lost tail it vouched for ends earlier.
            if *dir == reverse
                && let (Some(a), Some(b)) = (after.last(), want.last_mut())
                && a.0 == b.0
            {
                b.1 = a.1;
            }
            assert_eq!(
                after,
                want,
                "{path}: removing packet {}: gap bytes of {dir:?}",
                k + 1
            );
            // One gap finding per hole: as many more findings as there are
            // more holes (one; none when the missing bytes join a hole the
            // capture had; one fewer when they join two).
            let count = |r: &Recorder| r.gaps.get(dir).map_or(0, Vec::len);
            let delta = count(&run) as i64 - count(&intact) as i64;
            let holes = after.len() as i64 - before.len() as i64;
            assert_eq!(
                delta,
                holes,
                "{path}: removing packet {}: gap findings of {dir:?}: {:?} -> {:?}",
                k + 1,
                intact.gaps.get(dir),
                run.gaps.get(dir)
            );
        }
    }
    eprintln!("{path}: {tally:?}");
    tally
}

#[test]
fn mainnet_2011_one_packet_removed_at_a_time() {
    let t = removal_check("tests/data/mainnet-2011-ndpi.pcap");
    assert!(t.removals > 300, "{t:?}");
    assert_eq!(t.recovered + t.lost, t.messages, "{t:?}");
}

#[test]
fn bcoin_regtest_one_packet_removed_at_a_time() {
    for path in [
        "samples/bcoin-regtest-sync.pcap",
        "samples/bcoin-regtest-port28444.pcap",
    ] {
        let t = removal_check(path);
        assert!(t.removals > 20, "{t:?}");
    }
}
