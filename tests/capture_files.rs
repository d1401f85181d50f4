//! Reading capture files: the real test captures, pcap variants built here
//! byte by byte (nanosecond magic, big-endian), pcapng with two interfaces
//! of different link types and resolutions, and broken files.

mod support;

use support::packets;

use btcsniff::capture::{CaptureErrorKind, FileReader, LinkType, PcapWriter, Timestamp};
use btcsniff::net::parse_tcp;
use std::io::Cursor;

const MAINNET: &str = "tests/data/mainnet-2011-ndpi.pcap";

/// Reads every packet as (ts, link, interface, orig_len, data) and the
/// final error if any.
type Rec = (Timestamp, LinkType, u32, u32, Vec<u8>);
fn read_all(mut r: FileReader) -> (Vec<Rec>, Option<CaptureErrorKind>) {
    let mut out = Vec::new();
    for _ in 0..100_000 {
        match r.next_packet() {
            Ok(Some(p)) => out.push((p.ts, p.link_type, p.interface, p.orig_len, p.data.to_vec())),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e.kind)),
        }
    }
    panic!("runaway reader");
}

/// Reads `bytes` as a stream and, written to a file, memory-mapped (as
/// `read` reads a regular file); both must give the same packets and the
/// same error (kind, offset, packet). Returns the stream's result.
fn read_both(bytes: Vec<u8>) -> (Vec<Rec>, Option<CaptureErrorKind>) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "btcsniff-mapped-{}-{}.pcap",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, &bytes).expect("write");
    let file = std::fs::File::open(&path).expect("open");
    let counter = std::sync::Arc::new(AtomicU64::new(0));
    let mapped = FileReader::mapped("mem.pcap", &file, Some(counter.clone()));
    std::fs::remove_file(&path).ok();
    let streamed = FileReader::from_read("mem.pcap", Cursor::new(bytes.clone()));
    let (mapped, streamed) = match (mapped, streamed) {
        (Some(Ok(m)), Ok(s)) => (read_all(m), read_all(s)),
        (Some(Err(m)), Err(s)) => {
            assert_eq!(format!("{:?}", m.kind), format!("{:?}", s.kind));
            return (Vec::new(), Some(s.kind));
        }
        (None, _) if bytes.is_empty() => panic!("empty input"),
        (m, s) => panic!(
            "mapped {:?} against streamed {:?}",
            m.map(|r| r.err().map(|e| e.to_string())),
            s.err().map(|e| e.to_string())
        ),
    };
    assert_eq!(mapped.0, streamed.0, "packets, mapped against streamed");
    assert_eq!(
        format!("{:?}", mapped.1),
        format!("{:?}", streamed.1),
        "error, mapped against streamed"
    );
    if streamed.1.is_none() {
        // Progress counts every byte of a file read to its end.
        assert_eq!(counter.load(Ordering::Relaxed), bytes.len() as u64);
    }
    streamed
}

#[test]
fn mainnet_capture_packet_count_and_timestamps() {
    let (pkts, err) = read_all(FileReader::open(MAINNET).expect("open"));
    assert!(err.is_none(), "{err:?}");
    // `tcpdump -r tests/data/mainnet-2011-ndpi.pcap | wc -l` prints 529.
    assert_eq!(pkts.len(), 529);
    // `tcpdump -tt`: first 1301327937.725033, last 1301329810.839993.
    assert_eq!(
        pkts[0].0,
        Timestamp {
            secs: 1301327937,
            nanos: 725_033_000
        }
    );
    assert_eq!(
        pkts[528].0,
        Timestamp {
            secs: 1301329810,
            nanos: 839_993_000
        }
    );
    assert!(pkts.iter().all(|p| p.1 == LinkType::ETHERNET && p.2 == 0));
    let tcp = pkts.iter().filter(|p| parse_tcp(p.1, &p.4).is_ok()).count();
    assert_eq!(tcp, 529);
}

#[test]
fn jnewbery_single_message_capture() {
    let (pkts, err) =
        read_all(FileReader::open("tests/data/jnewbery-regtest/ping.pcap").expect("open"));
    assert!(err.is_none());
    assert_eq!(pkts.len(), 1);
    let (ts, link, _, _, data) = &pkts[0];
    assert_eq!(
        *ts,
        Timestamp {
            secs: 1482447582,
            nanos: 0
        }
    );
    let seg = parse_tcp(*link, data).expect("tcp");
    assert_eq!(seg.src.to_string(), "10.1.1.1:8333");
    assert_eq!(seg.dst.to_string(), "10.2.2.2:8333");
    // regtest magic, then the command "ping"
    assert_eq!(&seg.payload[..8], b"\xfa\xbf\xb5\xdaping");
    assert_eq!(seg.payload.len(), 32);
}

/// A classic pcap built by hand: `big_endian` byte order, `nanos` magic.
fn classic(
    big_endian: bool,
    nanos: bool,
    link: u32,
    snaplen: u32,
    recs: &[(u32, u32, &[u8], u32)],
) -> Vec<u8> {
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u16b = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut f = Vec::new();
    f.extend_from_slice(&u32b(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    f.extend_from_slice(&u16b(2));
    f.extend_from_slice(&u16b(4));
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&u32b(snaplen));
    f.extend_from_slice(&u32b(link));
    for &(sec, frac, data, orig) in recs {
        f.extend_from_slice(&u32b(sec));
        f.extend_from_slice(&u32b(frac));
        f.extend_from_slice(&u32b(data.len() as u32));
        f.extend_from_slice(&u32b(orig));
        f.extend_from_slice(data);
    }
    f
}

#[test]
fn classic_pcap_in_both_byte_orders_and_resolutions() {
    let recs: &[(u32, u32, &[u8], u32)] = &[
        (1_700_000_000, 123_456_789, b"abc", 3),
        (1_700_000_001, 5, b"defgh", 1500),
    ];
    for big_endian in [false, true] {
        let (p, err) = read_both(classic(big_endian, true, 101, 65535, recs));
        assert!(err.is_none(), "{err:?}");
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0].0,
            Timestamp {
                secs: 1_700_000_000,
                nanos: 123_456_789
            }
        );
        assert_eq!(
            (p[1].1, p[1].3, &p[1].4[..]),
            (LinkType::RAW, 1500, &b"defgh"[..])
        );

        let micro = [(1_700_000_000, 654_321, &b"x"[..], 1)];
        let (p, _) = read_both(classic(big_endian, false, 113, 65535, &micro));
        assert_eq!(
            p[0].0,
            Timestamp {
                secs: 1_700_000_000,
                nanos: 654_321_000
            }
        );
        assert_eq!(p[0].1, LinkType::LINUX_SLL);
    }
}

#[test]
fn writer_round_trip() {
    let dir = std::env::temp_dir().join(format!("btcsniff-writer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join("out.pcap");
    let mut w = PcapWriter::create(&path, LinkType::ETHERNET, 8).expect("create");
    w.write_packet(
        Timestamp {
            secs: 10,
            nanos: 999_999_999,
        },
        b"0123456789",
        10,
    )
    .expect("write");
    w.write_packet(
        Timestamp {
            secs: 11,
            nanos: 1_000,
        },
        b"ab",
        60,
    )
    .expect("write");
    w.flush().expect("flush");
    drop(w);
    let (p, err) = read_all(FileReader::open(&path).expect("open"));
    std::fs::remove_dir_all(&dir).ok();
    assert!(err.is_none());
    // Cut to the snap length of 8; nanoseconds truncated to microseconds.
    assert_eq!(
        p[0],
        (
            Timestamp {
                secs: 10,
                nanos: 999_999_000
            },
            LinkType::ETHERNET,
            0,
            10,
            b"01234567".to_vec()
        )
    );
    assert_eq!(
        p[1],
        (
            Timestamp {
                secs: 11,
                nanos: 1_000
            },
            LinkType::ETHERNET,
            0,
            60,
            b"ab".to_vec()
        )
    );
}

/// pcapng blocks, in either byte order.
struct Ng {
    be: bool,
    out: Vec<u8>,
}

impl Ng {
    fn u32(&self, v: u32) -> [u8; 4] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn u16(&self, v: u16) -> [u8; 2] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn block(&mut self, kind: u32, body: &[u8]) {
        let len = 12 + body.len().div_ceil(4) * 4;
        let (k, l) = (self.u32(kind), self.u32(len as u32));
        self.out.extend_from_slice(&k);
        self.out.extend_from_slice(&l);
        self.out.extend_from_slice(body);
        self.out.resize(self.out.len() + (len - 12 - body.len()), 0);
        self.out.extend_from_slice(&l);
    }
    fn shb(&mut self) {
        let mut b = self.u32(0x1a2b_3c4d).to_vec();
        b.extend_from_slice(&self.u16(1));
        b.extend_from_slice(&self.u16(0));
        b.extend_from_slice(&[0xff; 8]); // section length unknown
        self.block(0x0a0d_0d0a, &b);
    }
    fn idb(&mut self, link: u16, snaplen: u32, tsresol: Option<u8>) {
        self.idb_offset(link, snaplen, tsresol, None);
    }
    fn idb_offset(&mut self, link: u16, snaplen: u32, tsresol: Option<u8>, tsoffset: Option<i64>) {
        let mut b = self.u16(link).to_vec();
        b.extend_from_slice(&self.u16(0));
        b.extend_from_slice(&self.u32(snaplen));
        if let Some(r) = tsresol {
            b.extend_from_slice(&self.u16(9)); // if_tsresol
            b.extend_from_slice(&self.u16(1));
            b.extend_from_slice(&[r, 0, 0, 0]);
        }
        if let Some(o) = tsoffset {
            b.extend_from_slice(&self.u16(14)); // if_tsoffset
            b.extend_from_slice(&self.u16(8));
            b.extend_from_slice(&if self.be {
                o.to_be_bytes()
            } else {
                o.to_le_bytes()
            });
        }
        if tsresol.is_some() || tsoffset.is_some() {
            b.extend_from_slice(&[0; 4]); // opt_endofopt
        }
        self.block(1, &b);
    }
    fn epb(&mut self, if_id: u32, units: u64, data: &[u8], orig: u32) {
        let mut b = self.u32(if_id).to_vec();
        b.extend_from_slice(&self.u32((units >> 32) as u32));
        b.extend_from_slice(&self.u32(units as u32));
        b.extend_from_slice(&self.u32(data.len() as u32));
        b.extend_from_slice(&self.u32(orig));
        b.extend_from_slice(data);
        b.resize(20 + data.len().div_ceil(4) * 4, 0);
        self.block(6, &b);
    }
}

#[test]
fn pcapng_two_interfaces_two_link_types_and_sections() {
    let eth = packets::ethernet(
        &[],
        0x0800,
        &packets::ipv4(
            [10, 0, 0, 1].into(),
            [10, 0, 0, 2].into(),
            &packets::tcp(40000, 8333, 1, 0, packets::SYN, b""),
        ),
    );
    let raw = packets::ipv4(
        [10, 0, 0, 2].into(),
        [10, 0, 0, 1].into(),
        &packets::tcp(8333, 40000, 9, 2, packets::SYN | packets::ACK, b""),
    );
    let mut ng = Ng {
        be: false,
        out: Vec::new(),
    };
    ng.shb();
    ng.idb(1, 262144, None); // Ethernet, default microseconds
    ng.idb(101, 262144, Some(9)); // raw IP, nanoseconds
    ng.epb(0, 1_700_000_000_123_456, &eth, eth.len() as u32);
    ng.epb(1, 1_700_000_000_123_456_789, &raw, raw.len() as u32);
    // A second, big-endian section restarts interface numbering.
    let mut be = Ng {
        be: true,
        out: Vec::new(),
    };
    be.shb();
    be.idb_offset(113, 0, Some(0x80 | 10), Some(1000)); // SLL, 2^-10 s units, +1000 s
    be.epb(0, (5 << 10) | 512, b"sll!x", 5); // odd length: padded in the file
    ng.out.extend_from_slice(&be.out);

    let (p, err) = read_both(ng.out);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(p.len(), 3);
    assert_eq!(
        (p[0].0, p[0].1, p[0].2),
        (
            Timestamp {
                secs: 1_700_000_000,
                nanos: 123_456_000
            },
            LinkType::ETHERNET,
            0
        )
    );
    assert_eq!(
        (p[1].0, p[1].1, p[1].2),
        (
            Timestamp {
                secs: 1_700_000_000,
                nanos: 123_456_789
            },
            LinkType::RAW,
            1
        )
    );
    let a = parse_tcp(p[0].1, &p[0].4).expect("eth tcp");
    let b = parse_tcp(p[1].1, &p[1].4).expect("raw tcp");
    assert_eq!((a.src, a.dst), (b.dst, b.src));
    assert_eq!(
        (p[2].0, p[2].1, p[2].2),
        (
            Timestamp {
                secs: 1005,
                nanos: 500_000_000
            },
            LinkType::LINUX_SLL,
            0
        )
    );
    assert_eq!(p[2].4, b"sll!x");
}

#[test]
fn pcapng_packet_on_undescribed_interface_is_an_error() {
    let mut ng = Ng {
        be: false,
        out: Vec::new(),
    };
    ng.shb();
    ng.idb(1, 0, None);
    ng.epb(0, 1, b"ok", 2);
    ng.epb(3, 2, b"no", 2);
    let (p, err) = read_both(ng.out);
    assert_eq!(p.len(), 1);
    match err {
        Some(CaptureErrorKind::UnknownInterface {
            packet: 2,
            interface: 3,
            known: 1,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncated_file_yields_the_packets_before_the_cut() {
    let bytes = std::fs::read(MAINNET).expect("read");
    // Walk the records (little-endian file) to the start of record 10.
    let mut off = 24;
    for _ in 0..9 {
        let caplen = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().unwrap()) as usize;
        off += 16 + caplen;
    }
    for cut in [off + 5, off + 16 + 3] {
        let (p, err) = read_both(bytes[..cut].to_vec());
        assert_eq!(p.len(), 9);
        match err {
            Some(CaptureErrorKind::Truncated { offset, packet: 10 }) => {
                assert_eq!(offset, off as u64)
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    // Cut exactly between records: a clean end.
    let (p, err) = read_both(bytes[..off].to_vec());
    assert_eq!((p.len(), err.is_none()), (9, true));
}

#[test]
fn not_a_capture_names_the_magic() {
    let err = FileReader::from_read("page.html", Cursor::new(b"GET / HTTP/1.1\r\n".to_vec()))
        .err()
        .expect("error");
    assert!(matches!(err.kind, CaptureErrorKind::NotACapture { magic, .. } if &magic == b"GET "));
    let text = err.to_string();
    assert!(
        text.starts_with("page.html: not a capture file: magic 47455420"),
        "{text}"
    );
    let short = FileReader::from_read("tiny", Cursor::new(vec![0xd4, 0xc3]))
        .err()
        .expect("error");
    assert!(matches!(
        short.kind,
        CaptureErrorKind::NotACapture { len: 2, .. }
    ));
    let dir = FileReader::open("tests/data").err().expect("error");
    assert!(matches!(dir.kind, CaptureErrorKind::Io(_)), "{dir}");
}

#[test]
fn oversized_records_are_rejected_before_allocation() {
    // caplen above the snap length, claimed by the header only: read as
    // tshark does (the record cap below still bounds it), so the record is
    // simply cut by the end of the file.
    let mut f = classic(false, false, 1, 65535, &[(1, 0, b"ok", 2)]);
    f.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    f.extend_from_slice(&100_000u32.to_le_bytes());
    f.extend_from_slice(&100_000u32.to_le_bytes());
    f.extend_from_slice(&[0; 64]);
    let (p, err) = read_both(f);
    assert_eq!(p.len(), 1);
    assert!(
        matches!(
            err,
            Some(CaptureErrorKind::Truncated {
                packet: 2,
                offset: 42
            })
        ),
        "{err:?}"
    );
    // No snap length: the 16 MiB record cap applies, both when the file ends
    // early and when it goes on past the read buffer.
    for tail in [64, 3 << 20] {
        let mut f = classic(true, false, 1, 0, &[]);
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
        f.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
        f.resize(f.len() + tail, 0);
        let (_, err) = read_both(f);
        assert!(
            matches!(
                err,
                Some(CaptureErrorKind::OversizedRecord {
                    len: 0x8000_000f,
                    packet: 1,
                    offset: 24,
                    ..
                })
            ),
            "{err:?}"
        );
    }
}

#[test]
fn record_larger_than_the_initial_buffer_is_read() {
    // 3 MiB record (caplen under the snap length): the buffer grows for it.
    let big = vec![0x5a; 3 << 20];
    let f = classic(
        false,
        false,
        1,
        4 << 20,
        &[(1, 0, &big, big.len() as u32), (2, 0, b"after", 5)],
    );
    let (p, err) = read_both(f);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].4.len(), 3 << 20);
    assert_eq!(p[1].4, b"after");
}

#[test]
fn pcapng_block_with_impossible_length_is_malformed() {
    let mut ng = Ng {
        be: false,
        out: Vec::new(),
    };
    ng.shb();
    ng.idb(1, 0, None);
    let good_end = ng.out.len();
    ng.epb(0, 1, b"data", 4);
    // Block length 8: shorter than any block's fixed header and trailer.
    ng.out[good_end + 4..good_end + 8].copy_from_slice(&8u32.to_le_bytes());
    let (p, err) = read_both(ng.out);
    assert!(p.is_empty());
    match err {
        Some(CaptureErrorKind::Malformed {
            offset, packet: 1, ..
        }) => assert_eq!(offset, good_end as u64),
        other => panic!("{other:?}"),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]
    /// Corrupted files end in packets and at most one error, never a panic
    /// or a hang.
    #[test]
    fn corrupted_capture_never_panics(flips in proptest::collection::vec((0usize..20_000, proptest::prelude::any::<u8>()), 1..20), ng in proptest::prelude::any::<bool>()) {
        let mut bytes = if ng {
            let mut ng = Ng { be: false, out: Vec::new() };
            ng.shb();
            ng.idb(1, 0, Some(9));
            ng.idb(113, 0, None);
            for i in 0..200u32 {
                ng.epb(i % 2, u64::from(i), &[i as u8; 60], 60);
            }
            ng.out
        } else {
            std::fs::read(MAINNET).expect("read")[..20_000].to_vec()
        };
        for (at, v) in flips {
            if let Some(b) = bytes.get_mut(at) {
                *b = v;
            }
        }
        // The same packets and error whether streamed or mapped.
        let _ = read_both(bytes);
    }
}

#[test]
fn mapped_and_streamed_agree_at_every_cut() {
    // A file cut anywhere (inside the file header, a record header, a
    // record): the same packets and the same error either way.
    let pcap = std::fs::read(MAINNET).expect("read")[..6_000].to_vec();
    let mut ng = Ng {
        be: true,
        out: Vec::new(),
    };
    ng.shb();
    ng.idb(1, 0, Some(9));
    for i in 0..40u32 {
        ng.epb(0, u64::from(i), &[i as u8; 90], 90);
    }
    for bytes in [pcap, ng.out] {
        let mut cuts = 0;
        for cut in (1..bytes.len()).step_by(7) {
            read_both(bytes[..cut].to_vec());
            cuts += 1;
        }
        assert!(cuts > 100);
    }
}
