//! Framing tests over real bytes: the twelve single-message regtest
//! captures (tests/data/jnewbery-regtest/*.pcap, Bitcoin Core 0.13.99;
//! each constant is the TCP payload of the capture's one packet, extracted
//! with `tshark -r F.pcap -T fields -e tcp.payload`) and the 2011 mainnet
//! capture (tests/data/mainnet-2011-ndpi.pcap, TCP stream 1).

use super::*;
use crate::p2p::sha256d;
use proptest::prelude::*;

pub const BLOCK: &str = "fabfb5da626c6f636b0000000000000090000000396b37590400000006226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f3c7551a04560944eedf4236788a21b117e60adbf21111a7cc79734f853b3cde9dbe5494dffff7f20010000000101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff020101ffffffff0100f2052a01000000015100000000";
pub const BLOCKTXN: &str = "fabfb5da626c6f636b74786e000000006100000007dd7279e7d465f955e94a93c55202168d35ab09a23014c8815f9f9c1e88bf6b6ad8ae0d0101000000010000000000000000000000000000000000000000000000000000000000000000ffffffff03024601ffffffff01807c814a00000000015100000000";
pub const CMPCTBLOCK: &str = "fabfb5da636d706374626c6f636b0000be0000008dee196b0000002097ee31cb0d9cc3e068bf18f1acbddce9cdb7fcce2ca66c9e928ce17545201f5ffe1f8d91d363ea15c0ada48464d2425e7487da71e5c3044eb07e4a39e233039c254c5958ffff7f200300000009587a994afbb32700010001000000010000000000000000000000000000000000000000000000000000000000000000ffffffff04016b0101ffffffff0100f2052a0100000023210307394f288a38051c2725751bed89452ed160dd5cfb80eeca3308e7dce200d9bcac00000000";
pub const FEEFILTER: &str = "fabfb5da66656566696c746572000000080000003190f875983a000000000000";
pub const GETBLOCKTXN: &str = "fabfb5da676574626c6f636b74786e00220000005658075ce7d465f955e94a93c55202168d35ab09a23014c8815f9f9c1e88bf6b6ad8ae0d0100";
pub const PING: &str = "fabfb5da70696e6700000000000000000800000038e6aedfc7c5f1c5de373ff7";
pub const PONG: &str = "fabfb5da706f6e6700000000000000000800000031763d5dac0a3a9160a19854";
pub const SENDCMPCT: &str = "fabfb5da73656e64636d70637400000009000000e92f5ef8000200000000000000";
pub const SENDHEADERS: &str = "fabfb5da73656e646865616465727300000000005df6e0e2";
pub const VERACK: &str = "fabfb5da76657261636b000000000000000000005df6e0e2";
pub const VERSION1: &str = "fabfb5da76657273696f6e0000000000670000008084b6097f1101000500000000000000134c59580000000000000000000000000000000000000000000000000000000000000500000000000000000000000000000000000000000000000000cb26f42f485334e1112f5361746f7368693a302e31332e39392f0000000001";
pub const VERSION2: &str = "fabfb5da76657273696f6e0000000000660000008084b6097f1101000500000000000000134c59580000000000000000000000000000000000000000000000000000000000000500000000000000000000000000000000000000000000000000cb26f42f485334e1112f5361746f7368693a302e31332e39392f00000000";

/// mainnet-2011-ndpi.pcap, stream 1, 192.168.1.142:55328 -> 69.118.54.122:8333,
/// frames 20 and 26: legacy version (20-byte header), legacy verack, then a
/// checksummed getaddr.
const LEGACY_CLIENT: &str = "f9beb4d976657273696f6e000000000055000000017d00000100000000000000d9b0904d00000000010000000000000000000000000000000000ffff4576367a208d010000000000000000000000000000000000ffff2660841e208de920c27e8bbdb89f0050be0100f9beb4d976657261636b00000000000000000000f9beb4d9676574616464720000000000000000005df6e0e2";
/// Same stream, the other direction, frames 21-25: legacy version, legacy
/// verack, inv, addr, inv (checksummed).
const LEGACY_SERVER: &str = "f9beb4d976657273696f6e000000000055000000027d00000100000000000000d9b0904d00000000010000000000000000000000000000000000ffff2660841ed820010000000000000000000000000000000000ffff4576367a208df10da38aedcf41c20006c30100f9beb4d976657261636b00000000000000000000f9beb4d9696e7600000000000000000025000000e21b3fa00102000000139d38138819524b1390f9251a0c354551605acf21d49dd91a1e000000000000f9beb4d96164647200000000000000001f0000001a503eb1019db0904d010000000000000000000000000000000000ffff7cc530f9208df9beb4d9696e76000000000000000000250000003d9c5ce501010000001559ef4220dcb29de047c1580e96fd4bfbf3f6d5b0ff912fac711a77e1fc3204";

const ALL_REGTEST: [&str; 12] = [
    VERSION1,
    VERACK,
    SENDHEADERS,
    SENDCMPCT,
    PING,
    PONG,
    FEEFILTER,
    CMPCTBLOCK,
    GETBLOCKTXN,
    BLOCKTXN,
    BLOCK,
    VERSION2,
];

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test vector hex")
}

fn regtest_stream() -> Vec<u8> {
    ALL_REGTEST.iter().flat_map(|h| unhex(h)).collect()
}

/// An owned copy of an event, for comparing runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Frame {
        network: Network,
        command: String,
        length: u32,
        checksum: Checksum,
        payload: Vec<u8>,
        offset: u64,
        payload_hash: Option<Hash256>,
    },
    Finding(FramingFinding),
}

impl Ev {
    fn of(ev: FrameEvent<'_>) -> Ev {
        match ev {
            FrameEvent::Frame(f) => Ev::Frame {
                network: f.network,
                command: String::from_utf8_lossy(f.command.as_bytes()).into_owned(),
                length: f.length,
                checksum: f.checksum,
                payload: f.payload.to_vec(),
                offset: f.stream_offset,
                payload_hash: f.payload_hash,
            },
            FrameEvent::Finding(f) => Ev::Finding(f),
        }
    }

    fn command(&self) -> Option<&str> {
        match self {
            Ev::Frame { command, .. } => Some(command),
            Ev::Finding(_) => None,
        }
    }
}

fn drain(dec: &mut FrameDecoder, out: &mut Vec<Ev>) {
    while let Some(ev) = dec.next_event() {
        out.push(Ev::of(ev));
    }
}

fn finish(dec: &mut FrameDecoder, out: &mut Vec<Ev>) {
    dec.finish();
    drain(dec, out);
}

/// Pushes `bytes` cut at `cuts` (sorted), draining after every push.
fn run_push(bytes: &[u8], cuts: &[usize]) -> Vec<Ev> {
    let mut dec = FrameDecoder::new();
    let mut out = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let cut = cut.clamp(from, bytes.len());
        dec.push(&bytes[from..cut]);
        drain(&mut dec, &mut out);
        from = cut;
    }
    finish(&mut dec, &mut out);
    out
}

/// The same through `feed` (zero-copy path).
fn run_feed(bytes: &[u8], cuts: &[usize]) -> Vec<Ev> {
    let mut dec = FrameDecoder::new();
    let mut out = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let cut = cut.clamp(from, bytes.len());
        dec.feed(&bytes[from..cut], |ev| out.push(Ev::of(ev)));
        from = cut;
    }
    finish(&mut dec, &mut out);
    out
}

fn whole(bytes: &[u8]) -> Vec<Ev> {
    run_push(bytes, &[])
}

fn frame_count(evs: &[Ev]) -> usize {
    evs.iter().filter(|e| e.command().is_some()).count()
}

fn findings(evs: &[Ev]) -> Vec<FramingFinding> {
    evs.iter()
        .filter_map(|e| match e {
            Ev::Finding(f) => Some(f.clone()),
            Ev::Frame { .. } => None,
        })
        .collect()
}

fn ping(network: Network, nonce: u64) -> Vec<u8> {
    crate::p2p::encode::frame(network, "ping", &nonce.to_le_bytes())
}

#[test]
fn regtest_vectors_frame_in_order() {
    let stream = regtest_stream();
    let evs = whole(&stream);
    let commands: Vec<&str> = evs.iter().filter_map(Ev::command).collect();
    assert_eq!(
        commands,
        [
            "version",
            "verack",
            "sendheaders",
            "sendcmpct",
            "ping",
            "pong",
            "feefilter",
            "cmpctblock",
            "getblocktxn",
            "blocktxn",
            "block",
            "version"
        ]
    );
    assert_eq!(frame_count(&evs), evs.len(), "no findings: {evs:?}");
    assert!(payload_hashes_are_of_the_payload(&evs));
    let mut offset = 0u64;
    for (ev, hex) in evs.iter().zip(ALL_REGTEST) {
        let raw = unhex(hex);
        let Ev::Frame {
            network,
            length,
            payload,
            offset: at,
            ..
        } = ev
        else {
            unreachable!()
        };
        assert_eq!(*network, Network::Regtest);
        assert_eq!(*at, offset);
        assert_eq!(*length as usize, raw.len() - 24);
        assert_eq!(payload[..], raw[24..]);
        offset += raw.len() as u64;
    }
}

#[test]
fn version2_has_the_known_wrong_checksum() {
    let evs = whole(&unhex(VERSION2));
    let Some(Ev::Frame {
        checksum,
        length,
        payload_hash,
        ..
    }) = evs.first()
    else {
        panic!("{evs:?}")
    };
    assert_eq!(*length, 102);
    assert_eq!(
        *checksum,
        Checksum::Invalid {
            expected: [0x80, 0x84, 0xb6, 0x09],
            actual: [0x18, 0x6f, 0x7a, 0xb3],
        }
    );
    // The hash kept is ours (it starts with `actual`), not the header's.
    assert_eq!(
        payload_hash.map(|h| h.0[..4] == [0x18, 0x6f, 0x7a, 0xb3]),
        Some(true)
    );
    assert!(payload_hashes_are_of_the_payload(&evs));
    let evs = whole(&unhex(VERSION1));
    assert!(matches!(
        evs[..],
        [Ev::Frame {
            checksum: Checksum::Valid,
            ..
        }]
    ));
}

fn legacy_stream() -> Vec<u8> {
    unhex(LEGACY_SERVER)
}

#[test]
fn legacy_version_and_verack_then_checksummed() {
    let evs = whole(&legacy_stream());
    let summary: Vec<(&str, Checksum, u32)> = evs
        .iter()
        .map(|e| match e {
            Ev::Frame {
                command,
                checksum,
                length,
                ..
            } => (command.as_str(), *checksum, *length),
            Ev::Finding(f) => panic!("unexpected finding {f:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("version", Checksum::Absent, 85),
            ("verack", Checksum::Absent, 0),
            ("inv", Checksum::Valid, 37),
            ("addr", Checksum::Valid, 31),
            ("inv", Checksum::Valid, 37),
        ]
    );
    assert!(payload_hashes_are_of_the_payload(&evs));
    let Ev::Frame { payload, .. } = &evs[0] else {
        unreachable!()
    };
    // Legacy payload starts right after the 20-byte header: version 32002.
    assert_eq!(payload[..4], 32002i32.to_le_bytes());
    let client = whole(&unhex(LEGACY_CLIENT));
    let commands: Vec<_> = client.iter().filter_map(Ev::command).collect();
    assert_eq!(commands, ["version", "verack", "getaddr"]);
    assert!(matches!(
        client[2],
        Ev::Frame {
            checksum: Checksum::Valid,
            offset: 125,
            ..
        }
    ));
}

#[test]
fn legacy_verack_at_end_of_stream_and_before_gap() {
    let stream = legacy_stream();
    // version (105) + verack (20), then the capture ends.
    let evs = whole(&stream[..125]);
    assert_eq!(frame_count(&evs), 2, "{evs:?}");
    assert!(matches!(
        evs[1],
        Ev::Frame {
            checksum: Checksum::Absent,
            offset: 105,
            ..
        }
    ));
    // The same verack followed by a gap, then the rest of a message and a ping.
    let mut dec = FrameDecoder::new();
    let mut out = Vec::new();
    dec.push(&stream[..125]);
    drain(&mut dec, &mut out);
    assert_eq!(frame_count(&out), 1, "waits for 4 more bytes to decide");
    dec.gap(1000);
    dec.push(&[7u8; 30]);
    dec.push(&ping(Network::Mainnet, 9));
    drain(&mut dec, &mut out);
    finish(&mut dec, &mut out);
    assert_eq!(frame_count(&out), 3, "{out:?}");
    assert_eq!(
        findings(&out),
        [FramingFinding::SkippedBytes {
            offset: 1125,
            bytes: 30
        }]
    );
    assert!(matches!(out.last(), Some(Ev::Frame { offset: 1155, .. })));
}

/// All streams used for split tests: regtest vectors, legacy 2011 bytes,
/// and a stream with garbage, an oversize header and a truncated tail.
fn split_corpus() -> Vec<Vec<u8>> {
    let mut messy = vec![0x55; 9];
    messy.extend(unhex(PING));
    messy.extend([0xfa, 0xbf, 0xb5, 0xda, 1, 2, 3]);
    messy.extend(unhex(VERSION2));
    messy.extend(unhex(SENDCMPCT));
    let mut oversize = unhex(PONG);
    oversize[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    messy.extend(&oversize[..24]);
    messy.extend(unhex(FEEFILTER));
    messy.extend(&unhex(BLOCK)[..100]);
    vec![
        regtest_stream(),
        legacy_stream(),
        unhex(LEGACY_CLIENT),
        messy,
    ]
}

#[test]
fn every_two_way_split_and_byte_at_a_time_agree() {
    for stream in split_corpus() {
        let expected = whole(&stream);
        let bytewise: Vec<usize> = (1..stream.len()).collect();
        assert_eq!(run_push(&stream, &bytewise), expected);
        assert_eq!(run_feed(&stream, &bytewise), expected);
        for cut in 0..=stream.len() {
            assert_eq!(run_push(&stream, &[cut]), expected, "cut at {cut}");
            assert_eq!(run_feed(&stream, &[cut]), expected, "feed cut at {cut}");
        }
    }
}

#[test]
fn messy_stream_findings() {
    let evs = whole(&split_corpus()[3]);
    let commands: Vec<_> = evs.iter().filter_map(Ev::command).collect();
    // version2 after garbage is not confirmed (wrong checksum): skipped.
    assert_eq!(commands, ["ping", "sendcmpct", "feefilter"]);
    let version2_len = unhex(VERSION2).len() as u64;
    assert_eq!(
        findings(&evs),
        [
            FramingFinding::SkippedBytes {
                offset: 0,
                bytes: 9
            },
            FramingFinding::SkippedBytes {
                offset: 41,
                bytes: 7 + version2_len
            },
            FramingFinding::OversizeLength {
                offset: 41 + 7 + version2_len + 33,
                command: Command::new("pong"),
                length: u32::MAX,
                limit: crate::p2p::MAX_PROTOCOL_MESSAGE_LENGTH,
            },
            FramingFinding::Truncated {
                offset: 41 + 7 + version2_len + 33 + 24 + 32,
                have: 100,
                needed: 168,
            },
        ]
    );
}

proptest! {
    #[test]
    fn random_chunks_agree(cuts in proptest::collection::vec(0usize..700, 0..20), which in 0usize..4) {
        let stream = &split_corpus()[which];
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect();
        cuts.sort_unstable();
        let expected = whole(stream);
        prop_assert_eq!(run_push(stream, &cuts), expected.clone());
        prop_assert_eq!(run_feed(stream, &cuts), expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), cut in 0usize..300) {
        let cut = cut.min(bytes.len());
        let expected = whole(&bytes);
        prop_assert_eq!(run_push(&bytes, &[cut]), expected);
    }
}

#[test]
fn garbage_infix_is_one_skipped_run() {
    let mut stream = unhex(PING);
    stream.extend([
        0x00, 0x11, 0xfa, 0xbf, 0x22, 0xfa, 0xbf, 0xb5, 0xda, 0x01, 0x33, 0x44, 0x55,
    ]);
    stream.extend(unhex(PONG));
    let evs = whole(&stream);
    assert_eq!(frame_count(&evs), 2);
    assert_eq!(
        findings(&evs),
        [FramingFinding::SkippedBytes {
            offset: 32,
            bytes: 13
        }]
    );
    assert!(matches!(evs[2], Ev::Frame { offset: 45, .. }));
}

#[test]
fn oversize_length_allocates_nothing() {
    let mut header = unhex(BLOCK);
    header.truncate(24);
    header[16..20].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let mut dec = FrameDecoder::new();
    dec.push(&header);
    let Some(FrameEvent::Finding(f)) = dec.next_event() else {
        panic!("expected a finding")
    };
    assert_eq!(
        f,
        FramingFinding::OversizeLength {
            offset: 0,
            command: Command::new("block"),
            length: 0xffff_fff0,
            limit: 4_000_000,
        }
    );
    assert!(dec.capacity() < 1024, "capacity {}", dec.capacity());
    dec.push(&unhex(PING));
    let Some(FrameEvent::Frame(frame)) = dec.next_event() else {
        panic!("ping after the oversize header")
    };
    assert_eq!(frame.stream_offset, 24);
    assert!(dec.next_event().is_none());
    dec.finish();
    assert!(dec.next_event().is_none());
}

#[test]
fn truncated_tail_reported_by_finish() {
    let ping = unhex(PING);
    let mut dec = FrameDecoder::new();
    dec.push(&ping);
    dec.push(&ping[..29]);
    assert!(matches!(dec.next_event(), Some(FrameEvent::Frame(_))));
    assert!(dec.next_event().is_none());
    dec.finish();
    assert_eq!(
        finding(dec.next_event()),
        Some(FramingFinding::Truncated {
            offset: 32,
            have: 29,
            needed: 32
        })
    );
    assert!(dec.next_event().is_none());
    let mut dec = FrameDecoder::new();
    dec.push(&ping[..10]);
    assert!(dec.next_event().is_none());
    dec.finish();
    assert_eq!(
        finding(dec.next_event()),
        Some(FramingFinding::Truncated {
            offset: 0,
            have: 10,
            needed: 24
        })
    );
    assert!(dec.next_event().is_none());
}

/// The finding of an event (None for a frame or no event).
fn finding(event: Option<FrameEvent<'_>>) -> Option<FramingFinding> {
    match event? {
        FrameEvent::Finding(f) => Some(f),
        FrameEvent::Frame(_) => None,
    }
}

#[test]
fn gap_mid_message_then_resync() {
    let block = unhex(BLOCK);
    let mut dec = FrameDecoder::new();
    let mut out = Vec::new();
    dec.push(&unhex(PING));
    dec.push(&block[..50]);
    drain(&mut dec, &mut out);
    dec.gap(5000);
    // The block's remainder continues after the gap, then a pong.
    dec.push(&block[120..]);
    dec.push(&unhex(PONG));
    drain(&mut dec, &mut out);
    finish(&mut dec, &mut out);
    assert_eq!(
        findings(&out),
        [
            FramingFinding::Truncated {
                offset: 32,
                have: 50,
                needed: 168
            },
            FramingFinding::SkippedBytes {
                offset: 5082,
                bytes: 48
            },
        ]
    );
    assert!(matches!(
        out.last(),
        Some(Ev::Frame {
            offset: 5130,
            checksum: Checksum::Valid,
            ..
        })
    ));
}

#[test]
fn gap_before_draining_keeps_order() {
    let mut dec = FrameDecoder::new();
    let mut out = Vec::new();
    dec.push(&unhex(PING));
    dec.push(&unhex(PONG)[..5]);
    dec.gap(3);
    dec.push(&unhex(PONG));
    drain(&mut dec, &mut out);
    finish(&mut dec, &mut out);
    assert_eq!(frame_count(&out), 2);
    assert_eq!(
        findings(&out),
        [FramingFinding::Truncated {
            offset: 32,
            have: 5,
            needed: 24
        }]
    );
    assert!(matches!(out.last(), Some(Ev::Frame { offset: 40, .. })));
}

#[test]
fn unknown_magic_adopted_after_a_valid_frame() {
    let magic = [0x01, 0x02, 0x03, 0x04];
    let custom = Network::Unknown(magic);
    let mut stream = ping(custom, 1);
    stream.extend([0x99; 5]);
    stream.extend(ping(custom, 2));
    let evs = whole(&stream);
    assert_eq!(
        evs[0],
        Ev::Finding(FramingFinding::UnknownMagicAdopted { offset: 0, magic })
    );
    assert!(
        matches!(evs[1], Ev::Frame { network: Network::Unknown(m), checksum: Checksum::Valid, .. } if m == magic)
    );
    // Once adopted, the magic is found again by scanning.
    assert_eq!(
        evs[2],
        Ev::Finding(FramingFinding::SkippedBytes {
            offset: 32,
            bytes: 5
        })
    );
    assert!(matches!(evs[3], Ev::Frame { offset: 37, .. }));
    assert_eq!(evs.len(), 4);

    // An unknown magic with a wrong checksum proves nothing: skipped.
    let mut bad = ping(custom, 1);
    bad[20] ^= 1;
    let evs = whole(&bad);
    assert_eq!(
        evs,
        [Ev::Finding(FramingFinding::SkippedBytes {
            offset: 0,
            bytes: 32
        })]
    );
}

#[test]
fn four_megabyte_message_in_chunks() {
    let payload: Vec<u8> = (0..4_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut stream = crate::p2p::encode::frame(Network::Mainnet, "block", &payload);
    stream.extend(ping(Network::Mainnet, 3));
    let mut dec = FrameDecoder::new();
    let mut frames = 0;
    for chunk in stream.chunks(65_536) {
        dec.push(chunk);
        assert!(dec.buffered() <= 4_000_024 + 65_536);
        while let Some(ev) = dec.next_event() {
            let FrameEvent::Frame(f) = ev else {
                panic!("unexpected finding")
            };
            assert_eq!(f.checksum, Checksum::Valid);
            if frames == 0 {
                assert_eq!(f.payload, &payload[..]);
            }
            frames += 1;
        }
    }
    assert_eq!(frames, 2);
    dec.finish();
    assert!(dec.next_event().is_none());
    assert!(
        dec.capacity() <= 64 * 1024 + 32,
        "capacity released: {}",
        dec.capacity()
    );
}

#[test]
fn feed_frames_borrow_the_input() {
    let stream = regtest_stream();
    let mut dec = FrameDecoder::new();
    let range = stream.as_ptr_range();
    let mut frames = 0;
    dec.feed(&stream[..stream.len() - 3], |ev| {
        if let FrameEvent::Frame(f) = ev {
            assert!(range.contains(&f.payload.as_ptr()) || f.payload.is_empty());
            frames += 1;
        }
    });
    assert_eq!(frames, 11);
    assert_eq!(dec.buffered(), unhex(VERSION2).len() - 3);
}

#[test]
fn v1_detection_on_real_first_bytes() {
    for hex in ALL_REGTEST {
        let raw = unhex(hex);
        for n in 1..=24 {
            assert!(looks_like_v1_header(&raw[..n]));
        }
    }
    assert_eq!(
        find_v1_header(&regtest_stream()[1..]),
        Some(unhex(VERSION1).len() - 1)
    );
}

/// Every frame carries sha256d of exactly its payload, whether the
/// checksum matched or not, except a legacy one (no checksum: its payload
/// was never hashed as such; the 24-byte reading hashed other bytes).
fn payload_hashes_are_of_the_payload(evs: &[Ev]) -> bool {
    evs.iter().all(|e| match e {
        Ev::Frame {
            checksum: Checksum::Absent,
            payload_hash,
            ..
        } => payload_hash.is_none(),
        Ev::Frame {
            payload,
            payload_hash,
            ..
        } => *payload_hash == Some(Hash256(sha256d(payload))),
        Ev::Finding(_) => true,
    })
}

/// Bytes each event accounts for: together they must cover the stream.
fn accounted(evs: &[Ev]) -> u64 {
    evs.iter()
        .map(|e| match e {
            Ev::Frame {
                checksum, length, ..
            } => {
                let header = if *checksum == Checksum::Absent {
                    20
                } else {
                    24
                };
                header + u64::from(*length)
            }
            Ev::Finding(FramingFinding::SkippedBytes { bytes, .. }) => *bytes,
            Ev::Finding(FramingFinding::OversizeLength { .. }) => 24,
            Ev::Finding(FramingFinding::Truncated { have, .. }) => *have,
            Ev::Finding(FramingFinding::UnknownMagicAdopted { .. }) => 0,
        })
        .sum()
}

/// A stream assembled from real messages, cut messages, magic-led
/// garbage and random bytes.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let legacy = legacy_stream();
    prop_oneof![
        (0usize..12).prop_map(|i| unhex(ALL_REGTEST[i])),
        (0usize..12, 0usize..200).prop_map(|(i, n)| {
            let v = unhex(ALL_REGTEST[i]);
            v[..n.min(v.len())].to_vec()
        }),
        (0usize..302, 0usize..302).prop_map(move |(a, b)| legacy[a.min(b)..a.max(b)].to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|mut v| {
            v.splice(0..0, Network::Regtest.magic());
            v
        }),
        proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

proptest! {
    #[test]
    fn mixed_streams_split_invariant_and_fully_accounted(
        pieces in proptest::collection::vec(piece(), 0..12),
        cuts in proptest::collection::vec(0usize..3000, 0..8),
    ) {
        let stream: Vec<u8> = pieces.concat();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect();
        cuts.sort_unstable();
        let expected = whole(&stream);
        prop_assert_eq!(accounted(&expected), stream.len() as u64);
        prop_assert!(payload_hashes_are_of_the_payload(&expected));
        for ev in &expected {
            if let Ev::Frame { payload, offset, checksum, length, .. } = ev {
                prop_assert_eq!(payload.len(), *length as usize);
                let header = if *checksum == Checksum::Absent { 20 } else { 24 };
                let start = *offset as usize + header;
                prop_assert_eq!(&stream[start..start + payload.len()], &payload[..]);
            }
        }
        prop_assert_eq!(run_push(&stream, &cuts), expected.clone());
        prop_assert_eq!(run_feed(&stream, &cuts), expected);
    }
}

#[test]
fn arbitrary_bytes_fully_accounted() {
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..500), |bytes| {
            prop_assert_eq!(accounted(&whole(&bytes)), bytes.len() as u64);
            Ok(())
        })
        .unwrap();
}

#[test]
fn legacy_verack_followed_by_junk() {
    // A legacy verack whose following bytes were lost without a gap() call
    // (tshark's follow-stream output of the 2011 capture, stream 0, does
    // this): the verack is still legacy, the junk is skipped.
    let mut stream = legacy_stream();
    stream.truncate(125);
    stream.extend([0x84, 0x28, 0xe4, 0x8d, 0xfd, 0x64, 0x64, 0x3c]);
    let evs = whole(&stream);
    assert!(
        matches!(
            evs[1],
            Ev::Frame {
                checksum: Checksum::Absent,
                length: 0,
                offset: 105,
                ..
            }
        ),
        "{evs:?}"
    );
    assert_eq!(
        evs[2..],
        [Ev::Finding(FramingFinding::SkippedBytes {
            offset: 125,
            bytes: 8
        })]
    );
    // A modern verack with the constant checksum stays a 24-byte verack.
    let evs = whole(&unhex(VERACK));
    assert!(matches!(
        evs[..],
        [Ev::Frame {
            checksum: Checksum::Valid,
            ..
        }]
    ));
}

#[test]
fn legacy_version_followed_by_junk() {
    // The 2011 server's legacy version (nVersion 32002 where a checksum
    // would be), followed by bytes that are no header.
    let mut stream = legacy_stream();
    stream.truncate(105);
    stream.extend([0x00; 6]);
    let evs = whole(&stream);
    assert!(
        matches!(
            evs[0],
            Ev::Frame {
                checksum: Checksum::Absent,
                length: 85,
                ..
            }
        ),
        "{evs:?}"
    );
    assert_eq!(
        evs[1..],
        [Ev::Finding(FramingFinding::SkippedBytes {
            offset: 105,
            bytes: 6
        })]
    );
    // version2.pcap's wrong checksum (8084b609) is no protocol version:
    // it stays a 24-byte version with an invalid checksum (tested above).
}

/// Large messages go through the shared spare buffers: decoders that take
/// one mid-message (after a small message, with its bytes still buffered)
/// and give it back still frame every byte right, one after another and
/// interleaved.
#[test]
fn large_messages_through_the_spare_buffers() {
    let blocks: Vec<Vec<u8>> = (0..3u32)
        .map(|k| (0..300_000u32).map(|i| (i * 7 + k) as u8).collect())
        .collect();
    let streams: Vec<Vec<u8>> = blocks
        .iter()
        .map(|b| {
            let mut s = ping(Network::Mainnet, 1);
            s.extend(crate::p2p::encode::frame(Network::Mainnet, "block", b));
            s.extend(crate::p2p::encode::frame(Network::Mainnet, "block", b));
            s.extend(ping(Network::Mainnet, 2));
            s
        })
        .collect();
    let mut decoders: Vec<FrameDecoder> = streams.iter().map(|_| FrameDecoder::new()).collect();
    let mut seen = vec![Vec::new(); streams.len()];
    // Odd-sized chunks, round robin over the three directions.
    let chunked: Vec<Vec<&[u8]>> = streams.iter().map(|s| s.chunks(1_447).collect()).collect();
    let rounds = chunked.iter().map(Vec::len).max().unwrap();
    for round in 0..rounds {
        for (d, chunks) in chunked.iter().enumerate() {
            let Some(chunk) = chunks.get(round) else {
                continue;
            };
            decoders[d].push(chunk);
            while let Some(ev) = decoders[d].next_event() {
                let FrameEvent::Frame(f) = ev else {
                    panic!("finding")
                };
                assert_eq!(f.checksum, Checksum::Valid);
                seen[d].push((
                    String::from_utf8_lossy(f.command.as_bytes()).into_owned(),
                    f.payload.to_vec(),
                ));
            }
        }
    }
    for (d, frames) in seen.iter().enumerate() {
        let commands: Vec<&str> = frames.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(commands, ["ping", "block", "block", "ping"]);
        assert_eq!(frames[1].1, blocks[d]);
        assert_eq!(frames[2].1, blocks[d]);
        assert!(
            decoders[d].capacity() <= KEEP_CAPACITY,
            "released after use"
        );
    }
}
