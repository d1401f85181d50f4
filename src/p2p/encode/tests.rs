//! Encoder tests: byte layout against real Core bytes, round trips through
//! the framing decoder, and rust-bitcoin as an independent decoder.

use super::*;
use crate::p2p::frame::{Checksum, FrameDecoder, FrameEvent};
use bitcoin::consensus::deserialize;
use bitcoin::hashes::Hash as _;
use bitcoin::p2p::message::{NetworkMessage, RawNetworkMessage};
use bitcoin::p2p::message_blockdata::Inventory;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4};

fn params() -> VersionParams {
    VersionParams {
        version: 70016,
        services: 0x409,
        timestamp: 1_700_000_000,
        receiver: (
            1,
            SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 7), 8333)),
        ),
        sender: (
            0,
            SocketAddr::new(
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
                18444,
            ),
        ),
        nonce: 0x0102_0304_0506_0708,
        user_agent: "/btcsniff:0.1.0/".to_string(),
        start_height: 812_345,
        relay: true,
    }
}

fn txid(byte: u8) -> Hash256 {
    Hash256([byte; 32])
}

fn decode_one(bytes: &[u8]) -> (String, Checksum, Vec<u8>) {
    let mut dec = FrameDecoder::new();
    dec.push(bytes);
    let Some(FrameEvent::Frame(f)) = dec.next_event() else {
        panic!("no frame")
    };
    let out = (
        f.command.as_str().unwrap_or_default().to_string(),
        f.checksum,
        f.payload.to_vec(),
    );
    assert!(dec.next_event().is_none());
    dec.finish();
    assert!(dec.next_event().is_none());
    out
}

fn oracle(bytes: &[u8]) -> RawNetworkMessage {
    deserialize::<RawNetworkMessage>(bytes).expect("rust-bitcoin decodes it")
}

#[test]
fn compact_size_boundaries() {
    let cases: [(u64, &[u8]); 7] = [
        (0, &[0]),
        (0xfc, &[0xfc]),
        (0xfd, &[0xfd, 0xfd, 0]),
        (0xffff, &[0xfd, 0xff, 0xff]),
        (0x1_0000, &[0xfe, 0, 0, 1, 0]),
        (0xffff_ffff, &[0xfe, 0xff, 0xff, 0xff, 0xff]),
        (0x1_0000_0000, &[0xff, 0, 0, 0, 0, 1, 0, 0, 0]),
    ];
    for (v, bytes) in cases {
        let mut w = Writer::new();
        w.compact_size(v);
        assert_eq!(w.as_bytes(), bytes, "{v:#x}");
        let mut r = crate::p2p::Reader::new(bytes);
        assert_eq!(r.compact_size("n").unwrap(), v);
    }
}

#[test]
fn ping_matches_the_regtest_capture() {
    // tests/data/jnewbery-regtest/ping.pcap, TCP payload.
    let real =
        hex::decode("fabfb5da70696e6700000000000000000800000038e6aedfc7c5f1c5de373ff7").unwrap();
    let nonce = u64::from_le_bytes(real[24..32].try_into().unwrap());
    assert_eq!(frame(Network::Regtest, "ping", &ping(nonce)), real);
    // verack.pcap and sendheaders.pcap: empty payloads.
    assert_eq!(
        crate::p2p::hash::to_hex(frame(Network::Regtest, "verack", &verack())),
        "fabfb5da76657261636b000000000000000000005df6e0e2"
    );
    assert_eq!(
        crate::p2p::hash::to_hex(frame(Network::Regtest, "sendheaders", &sendheaders())),
        "fabfb5da73656e646865616465727300000000005df6e0e2"
    );
    // sendcmpct.pcap: announce=false, version 2; feefilter.pcap: 15000.
    assert_eq!(
        crate::p2p::hash::to_hex(frame(Network::Regtest, "sendcmpct", &sendcmpct(false, 2))),
        "fabfb5da73656e64636d70637400000009000000e92f5ef8000200000000000000"
    );
    assert_eq!(
        crate::p2p::hash::to_hex(frame(Network::Regtest, "feefilter", &feefilter(15_000))),
        "fabfb5da66656566696c746572000000080000003190f875983a000000000000"
    );
}

#[test]
fn round_trip_through_the_decoder() {
    let inv = [(0x4000_0001, txid(0xab)), (2, txid(0x01))];
    let messages: Vec<(&str, Vec<u8>)> = vec![
        ("version", version(&params())),
        ("wtxidrelay", wtxidrelay()),
        ("sendaddrv2", sendaddrv2()),
        ("verack", verack()),
        ("ping", ping(7)),
        ("pong", pong(7)),
        ("getdata", getdata(&inv)),
        ("sendcmpct", sendcmpct(true, 1)),
        ("feefilter", feefilter(1000)),
    ];
    for (command, payload) in messages {
        let bytes = frame(Network::Signet, command, &payload);
        assert_eq!(
            decode_one(&bytes),
            (command.to_string(), Checksum::Valid, payload)
        );
    }
}

#[test]
fn rust_bitcoin_reads_our_version() {
    let p = params();
    let raw = oracle(&frame(Network::Mainnet, "version", &version(&p)));
    assert_eq!(raw.magic().to_bytes(), Network::Mainnet.magic());
    let NetworkMessage::Version(v) = raw.payload() else {
        panic!("{:?}", raw.payload())
    };
    assert_eq!(v.version, 70016);
    assert_eq!(v.services.to_u64(), p.services);
    assert_eq!(v.timestamp, p.timestamp);
    assert_eq!(v.receiver.services.to_u64(), 1);
    assert_eq!(v.receiver.socket_addr().unwrap(), p.receiver.1);
    assert_eq!(v.receiver.address[5], 0xffff, "IPv4-mapped");
    assert_eq!(v.sender.socket_addr().unwrap(), p.sender.1);
    assert_eq!(v.nonce, p.nonce);
    assert_eq!(v.user_agent, p.user_agent);
    assert_eq!(v.start_height, p.start_height);
    assert!(v.relay);
}

#[test]
fn rust_bitcoin_reads_our_small_messages() {
    let raw = oracle(&frame(Network::Testnet4, "ping", &ping(0xdead_beef)));
    assert_eq!(raw.payload(), &NetworkMessage::Ping(0xdead_beef));
    let raw = oracle(&frame(Network::Testnet4, "verack", &verack()));
    assert_eq!(raw.payload(), &NetworkMessage::Verack);
    let items = [(1, txid(3)), (0x4000_0002, txid(4)), (5, txid(5))];
    let raw = oracle(&frame(Network::Regtest, "getdata", &getdata(&items)));
    let NetworkMessage::GetData(inv) = raw.payload() else {
        panic!("{:?}", raw.payload())
    };
    assert_eq!(inv.len(), 3);
    assert!(matches!(inv[0], Inventory::Transaction(t) if t.to_byte_array() == [3; 32]));
    assert!(matches!(inv[1], Inventory::WitnessBlock(b) if b.to_byte_array() == [4; 32]));
    assert!(matches!(inv[2], Inventory::WTx(w) if w.to_byte_array() == [5; 32]));
    let raw = oracle(&frame(Network::Regtest, "sendcmpct", &sendcmpct(true, 2)));
    let NetworkMessage::SendCmpct(s) = raw.payload() else {
        panic!()
    };
    assert!(s.send_compact);
    assert_eq!(s.version, 2);
    let raw = oracle(&frame(Network::Regtest, "feefilter", &feefilter(5_000)));
    assert_eq!(raw.payload(), &NetworkMessage::FeeFilter(5_000));
}
