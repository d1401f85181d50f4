//! The flow table end to end: real capture -> parse_tcp -> FlowTable, and
//! synthetic connections for directions, endings, expiry and eviction.

use btcsniff::capture::{FileReader, Timestamp};
use btcsniff::flow::{
    Direction, EndReason, FlowHandler, FlowInfo, FlowLimits, FlowTable, StreamEvent,
};
use btcsniff::net::{TcpFlags, TcpSegment, parse_tcp};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Per flow: the two reassembled streams (gaps as `None` runs) and the end.
#[derive(Debug, Default)]
struct Flow {
    info: Option<FlowInfo>,
    to_server: Vec<u8>,
    to_client: Vec<u8>,
    gaps: Vec<(Direction, u64)>,
    /// When each gap was decided, and the times of the data chunks.
    gap_times: Vec<Timestamp>,
    data_times: Vec<Timestamp>,
    end: Option<EndReason>,
}

#[derive(Default)]
struct Recorder {
    flows: BTreeMap<u64, Flow>,
}

impl FlowHandler<u64> for Recorder {
    fn new_flow(&mut self, info: &FlowInfo) -> u64 {
        self.flows.insert(info.id, Flow::default());
        info.id
    }
    fn event(&mut self, _info: &FlowInfo, id: &mut u64, ev: StreamEvent<'_>) {
        let f = self.flows.get_mut(id).expect("known flow");
        match ev {
            StreamEvent::Data { ts, .. } => f.data_times.push(ts),
            StreamEvent::Gap { ts, .. } => f.gap_times.push(ts),
        }
        match ev {
            StreamEvent::Data {
                dir: Direction::ClientToServer,
                bytes,
                ..
            } => f.to_server.extend_from_slice(bytes),
            StreamEvent::Data {
                dir: Direction::ServerToClient,
                bytes,
                ..
            } => f.to_client.extend_from_slice(bytes),
            StreamEvent::Gap { dir, bytes, .. } => f.gaps.push((dir, bytes)),
        }
    }
    fn end(&mut self, info: &FlowInfo, id: u64, reason: EndReason) {
        let f = self.flows.get_mut(&id).expect("known flow");
        assert!(f.end.is_none(), "ended twice");
        f.end = Some(reason);
        f.info = Some(info.clone());
    }
}

#[test]
fn mainnet_capture_flows() {
    let mut reader = FileReader::open("tests/data/mainnet-2011-ndpi.pcap").expect("open");
    let mut table: FlowTable<u64> = FlowTable::new(FlowLimits::default(), &[]);
    let mut rec = Recorder::default();
    while let Some(p) = reader.next_packet().expect("read") {
        let seg = parse_tcp(p.link_type, p.data).expect("all TCP");
        table.segment(p.ts, &seg, &mut rec);
    }
    table.finish(&mut rec);
    assert!(table.is_empty());
    // Six connections to port 8333, all joined mid-stream (see
    // tests/data README); the client is the local node.
    assert_eq!(rec.flows.len(), 6);
    let mut gaps = Vec::new();
    for f in rec.flows.values() {
        let info = f.info.as_ref().expect("ended");
        assert_eq!(info.server.port(), 8333);
        assert_eq!(info.client.ip().to_string(), "192.168.1.142");
        assert!(!info.syn_seen);
        // Every client stream starts at a message: the mainnet magic.
        assert_eq!(&f.to_server[..4], &[0xf9, 0xbe, 0xb4, 0xd9]);
        gaps.extend(f.gaps.iter().copied());
        let up = &info.to_server;
        assert_eq!(up.reassembly.delivered_bytes, f.to_server.len() as u64);
    }
    // The three holes tshark reports as never filled ("previous segment not
    // captured" without a later retransmission), server to client: 7366-126,
    // 29312-352 and 1574-126 in tshark's relative sequence numbers; and the
    // tails the capture lost although the other side acknowledged them
    // (tcpdump shows the ACKs), reported at the flow's end.
    // - flow 1: the client ACKs 18189 while 126..7366 is missing (a gap at
    //   once), and nothing after 8814 was captured (a tail of 9375);
    // - flow 2: the server ACKs 3129 client bytes never captured;
    // - flow 3: the capture stops showing the server after 126992 bytes,
    //   the client ACKs 674715;
    // - flow 5: the client ACKs 1800 while 352..29312 is missing: an ACK
    //   inside the hole, whose rest might still come; nobody ACKs past it
    //   for 29 s, so it is given up after the gap timeout (3 s);
    // - flow 6: 126..1574 given up after the timeout, then an ACKed tail.
    assert_eq!(
        gaps,
        vec![
            (Direction::ServerToClient, 7240),
            (Direction::ServerToClient, 9375),
            (Direction::ClientToServer, 3129),
            (Direction::ServerToClient, 547722),
            (Direction::ServerToClient, 28960),
            (Direction::ServerToClient, 1448),
            (Direction::ServerToClient, 76637),
        ]
    );
    // Two flows went quiet for more than 10 minutes of capture time.
    let ends: Vec<_> = rec.flows.values().map(|f| f.end.expect("ended")).collect();
    assert_eq!(
        ends.iter()
            .filter(|e| **e == EndReason::IdleTimeout)
            .count(),
        2
    );
    assert_eq!(
        ends.iter().filter(|e| **e == EndReason::EndOfInput).count(),
        4
    );
    assert_eq!(table.stats().flows_created, 6);
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

const SYN: TcpFlags = TcpFlags {
    syn: true,
    fin: false,
    rst: false,
    ack: false,
    psh: false,
};
const SYNACK: TcpFlags = TcpFlags {
    syn: true,
    ack: true,
    ..NONE
};
const ACK: TcpFlags = TcpFlags { ack: true, ..NONE };
const FIN: TcpFlags = TcpFlags {
    fin: true,
    ack: true,
    ..NONE
};
const RST: TcpFlags = TcpFlags { rst: true, ..NONE };
const NONE: TcpFlags = TcpFlags {
    syn: false,
    fin: false,
    rst: false,
    ack: false,
    psh: false,
};

fn seg<'a>(src: &str, dst: &str, seq: u32, flags: TcpFlags, payload: &'a [u8]) -> TcpSegment<'a> {
    TcpSegment {
        src: addr(src),
        dst: addr(dst),
        seq,
        ack: 0,
        flags,
        window: 1000,
        payload,
    }
}

fn at(secs: i64) -> Timestamp {
    Timestamp { secs, nanos: 0 }
}

const C: &str = "10.0.0.1:50000";
const S: &str = "10.0.0.2:8333";

#[test]
fn full_connection_ends_on_both_fins() {
    let mut t: FlowTable<u64> = FlowTable::new(FlowLimits::default(), &[]);
    let mut r = Recorder::default();
    for (ts, s) in [
        (1, seg(C, S, 100, SYN, b"")),
        (1, seg(S, C, 500, SYNACK, b"")),
        (1, seg(C, S, 101, ACK, b"")),
        (2, seg(C, S, 101, ACK, b"hello")),
        (2, seg(S, C, 501, ACK, b"world")),
        (3, seg(C, S, 106, FIN, b"")),
        (3, seg(S, C, 506, FIN, b"")),
        (3, seg(C, S, 107, ACK, b"")), // the last ACK: no new flow
    ] {
        t.segment(at(ts), &s, &mut r);
    }
    assert!(t.is_empty());
    assert_eq!(t.stats().segments_ignored, 1);
    let f = &r.flows[&1];
    let info = f.info.as_ref().expect("ended");
    assert_eq!(
        (info.client, info.server, info.syn_seen),
        (addr(C), addr(S), true)
    );
    assert_eq!(
        (f.to_server.as_slice(), f.to_client.as_slice()),
        (&b"hello"[..], &b"world"[..])
    );
    assert_eq!(f.end, Some(EndReason::Fin));
    assert_eq!((info.to_server.packets, info.to_client.packets), (4, 3));
    assert_eq!((info.first_ts, info.last_ts), (at(1), at(3)));
    assert_eq!(r.flows.len(), 1);
}

#[test]
fn client_side_by_syn_synack_and_ports() {
    let mut t: FlowTable<u64> = FlowTable::new(FlowLimits::default(), &[12345]);
    let mut r = Recorder::default();
    // 1: SYN-ACK seen first: its receiver is the client.
    t.segment(at(1), &seg(S, C, 1, SYNACK, b""), &mut r);
    // 2: mid-stream, first packet from port 8333 to an ephemeral port.
    t.segment(
        at(1),
        &seg("10.0.0.3:8333", "10.0.0.4:40000", 1, ACK, b"x"),
        &mut r,
    );
    // 3: mid-stream between two ephemeral ports: the sender is the client.
    t.segment(
        at(1),
        &seg("10.0.0.5:40000", "10.0.0.6:40001", 1, ACK, b"x"),
        &mut r,
    );
    // 4: from a configured extra port.
    t.segment(
        at(1),
        &seg("10.0.0.7:12345", "10.0.0.8:40001", 1, ACK, b"x"),
        &mut r,
    );
    // 5: Bitcoin port to Bitcoin port: the sender is the client.
    t.segment(
        at(1),
        &seg("10.0.0.9:8333", "10.0.0.10:18333", 1, ACK, b"x"),
        &mut r,
    );
    t.finish(&mut r);
    let clients: Vec<String> = r
        .flows
        .values()
        .map(|f| f.info.as_ref().expect("ended").client.to_string())
        .collect();
    assert_eq!(
        clients,
        [
            C,
            "10.0.0.4:40000",
            "10.0.0.5:40000",
            "10.0.0.8:40001",
            "10.0.0.9:8333"
        ]
    );
    // Direction follows the client: flow 2's payload came from the server.
    assert_eq!(r.flows[&2].to_client, b"x");
    assert!(r.flows[&2].to_server.is_empty());
    assert!(!r.flows[&2].info.as_ref().expect("ended").syn_seen);
}

#[test]
fn rst_ends_the_flow_and_flushes_holes() {
    let mut t: FlowTable<u64> = FlowTable::new(FlowLimits::default(), &[]);
    let mut r = Recorder::default();
    t.segment(at(1), &seg(C, S, 0, ACK, b"ab"), &mut r);
    t.segment(at(1), &seg(C, S, 5, ACK, b"fg"), &mut r); // 2..5 missing
    t.segment(at(2), &seg(S, C, 0, RST, b""), &mut r);
    assert!(t.is_empty());
    let f = &r.flows[&1];
    assert_eq!(f.end, Some(EndReason::Rst));
    assert_eq!(f.to_server, b"abfg");
    assert_eq!(f.gaps, vec![(Direction::ClientToServer, 3)]);
    assert_eq!(
        f.info
            .as_ref()
            .expect("ended")
            .to_server
            .reassembly
            .gap_bytes,
        3
    );
}

#[test]
fn idle_flows_expire_by_capture_time() {
    let limits = FlowLimits {
        idle_timeout_secs: 600,
        ..FlowLimits::default()
    };
    let mut t: FlowTable<u64> = FlowTable::new(limits, &[]);
    let mut r = Recorder::default();
    t.segment(at(1000), &seg(C, S, 0, ACK, b"a"), &mut r);
    t.segment(at(1600), &seg("10.9.9.9:1", S, 0, ACK, b"b"), &mut r);
    assert_eq!(r.flows[&1].end, None, "exactly the timeout is not idle yet");
    t.segment(at(1601), &seg("10.9.9.9:2", S, 0, ACK, b"c"), &mut r);
    assert_eq!(r.flows[&1].end, Some(EndReason::IdleTimeout));
    assert_eq!(t.len(), 2);
    t.expire(at(3000), &mut r);
    assert!(t.is_empty());
    assert_eq!(t.stats().flows_expired, 3);
}

#[test]
fn full_table_evicts_least_recently_active() {
    let limits = FlowLimits {
        max_flows: 2,
        ..FlowLimits::default()
    };
    let mut t: FlowTable<u64> = FlowTable::new(limits, &[]);
    let mut r = Recorder::default();
    t.segment(at(1), &seg("10.0.0.1:1", S, 0, ACK, b"a"), &mut r);
    t.segment(at(2), &seg("10.0.0.1:2", S, 0, ACK, b"b"), &mut r);
    t.segment(at(3), &seg("10.0.0.1:1", S, 1, ACK, b"a"), &mut r); // flow 1 active again
    t.segment(at(4), &seg("10.0.0.1:3", S, 0, ACK, b"c"), &mut r);
    assert_eq!(r.flows[&2].end, Some(EndReason::Evicted));
    assert_eq!(r.flows[&1].end, None);
    assert_eq!(t.len(), 2);
    t.finish(&mut r);
    assert_eq!(r.flows[&1].to_server, b"aa");
    assert_eq!(r.flows[&3].end, Some(EndReason::EndOfInput));
}

#[test]
fn finish_delivers_buffered_data_after_a_gap() {
    let mut t: FlowTable<u64> = FlowTable::new(FlowLimits::default(), &[]);
    let mut r = Recorder::default();
    t.segment(at(1), &seg(C, S, 10, ACK, b"0123"), &mut r);
    t.segment(at(1), &seg(C, S, 20, ACK, b"held"), &mut r);
    // A mid-stream start is held briefly (it may be out of order).
    assert_eq!(r.flows[&1].to_server, b"");
    t.finish(&mut r);
    let f = &r.flows[&1];
    assert_eq!(f.to_server, b"0123held");
    assert_eq!(f.gaps, vec![(Direction::ClientToServer, 6)]);
    assert_eq!(f.end, Some(EndReason::EndOfInput));
}

fn at_ms(ms: i64) -> Timestamp {
    Timestamp::new(ms / 1000, (ms % 1000) as u32 * 1_000_000)
}

#[test]
fn a_hole_times_out_when_any_packet_brings_capture_time_past_it() {
    let mut t: FlowTable<u64> = FlowTable::new(FlowLimits::default(), &[]);
    let mut r = Recorder::default();
    t.segment(at_ms(1000), &seg(C, S, 99, SYN, b""), &mut r);
    t.segment(at_ms(1000), &seg(C, S, 100, ACK, b"ab"), &mut r);
    t.segment(at_ms(1200), &seg(C, S, 105, ACK, b"fg"), &mut r); // 102..105 missing
    assert_eq!(r.flows[&1].to_server, b"ab");
    // Another flow's packets: 4.1 s is before the deadline (1.2 s + 3 s).
    t.segment(at_ms(4100), &seg("10.0.0.9:1", S, 0, ACK, b"x"), &mut r);
    assert_eq!(r.flows[&1].to_server, b"ab");
    t.segment(at_ms(4300), &seg("10.0.0.9:1", S, 1, ACK, b"y"), &mut r);
    let f = &r.flows[&1];
    assert_eq!(f.to_server, b"abfg");
    assert_eq!(f.gaps, vec![(Direction::ClientToServer, 3)]);
    // Decided at the deadline; the data keeps its own time.
    assert_eq!(f.gap_times, vec![at_ms(4200)]);
    assert_eq!(f.data_times, vec![at_ms(1000), at_ms(1200)]);
    // No packet at all: advance() moves capture time (a live capture's
    // clock).
    t.segment(at_ms(5000), &seg(C, S, 110, ACK, b"kl"), &mut r);
    t.advance(at_ms(7999), &mut r);
    assert_eq!(r.flows[&1].gaps.len(), 1);
    t.advance(at_ms(8000), &mut r);
    assert_eq!(r.flows[&1].gaps, vec![(Direction::ClientToServer, 3); 2]);
    assert_eq!(r.flows[&1].to_server, b"abfgkl");
}

#[test]
fn the_peers_ack_declares_a_hole_in_the_other_direction_at_once() {
    let mut t: FlowTable<u64> = FlowTable::new(FlowLimits::default(), &[]);
    let mut r = Recorder::default();
    t.segment(at_ms(1000), &seg(C, S, 99, SYN, b""), &mut r);
    t.segment(at_ms(1000), &seg(S, C, 499, SYNACK, b""), &mut r);
    t.segment(at_ms(1001), &seg(C, S, 100, ACK, b"ab"), &mut r);
    t.segment(at_ms(1002), &seg(C, S, 105, ACK, b"fg"), &mut r); // 102..105 missing
    assert_eq!(r.flows[&1].to_server, b"ab");
    let mut ack = seg(S, C, 500, ACK, b"");
    ack.ack = 107;
    t.segment(at_ms(1003), &ack, &mut r);
    let f = &r.flows[&1];
    assert_eq!(f.to_server, b"abfg");
    assert_eq!(f.gaps, vec![(Direction::ClientToServer, 3)]);
    assert_eq!(f.gap_times, vec![at_ms(1003)]);
}

#[test]
fn a_mid_stream_flow_closed_during_its_start_hold_still_ends_on_fin() {
    let mut t: FlowTable<u64> = FlowTable::new(FlowLimits::default(), &[]);
    let mut r = Recorder::default();
    t.segment(at_ms(1000), &seg(C, S, 100, ACK, b"last"), &mut r);
    t.segment(at_ms(1001), &seg(S, C, 700, ACK, b"words"), &mut r);
    t.segment(at_ms(1002), &seg(C, S, 104, FIN, b""), &mut r);
    t.segment(at_ms(1003), &seg(S, C, 705, FIN, b""), &mut r);
    assert!(t.is_empty());
    let f = &r.flows[&1];
    assert_eq!(f.end, Some(EndReason::Fin));
    assert_eq!(
        (&f.to_server[..], &f.to_client[..]),
        (&b"last"[..], &b"words"[..])
    );
    assert!(f.gaps.is_empty(), "{:?}", f.gaps);
}
