//! The framing decoder and encoders through the crate's public API, the way
//! the pipeline and the probe use them.

use btcsniff::p2p::encode::{self, VersionParams};
use btcsniff::p2p::frame::{
    Checksum, FrameDecoder, FrameEvent, FramingFinding, looks_like_v1_header,
};
use btcsniff::p2p::{Hash256, Network};
use std::net::SocketAddr;

fn handshake(network: Network) -> Vec<u8> {
    let addr: SocketAddr = "127.0.0.1:18444".parse().unwrap();
    let params = VersionParams {
        version: 70016,
        services: 0,
        timestamp: 1_700_000_000,
        receiver: (1, addr),
        sender: (0, addr),
        nonce: 42,
        user_agent: "/test:1/".into(),
        start_height: 0,
        relay: false,
    };
    let txid = Hash256([7; 32]);
    [
        encode::frame(network, "version", &encode::version(&params)),
        encode::frame(network, "wtxidrelay", &encode::wtxidrelay()),
        encode::frame(network, "sendaddrv2", &encode::sendaddrv2()),
        encode::frame(network, "verack", &encode::verack()),
        encode::frame(network, "sendcmpct", &encode::sendcmpct(false, 2)),
        encode::frame(network, "ping", &encode::ping(9)),
        encode::frame(network, "feefilter", &encode::feefilter(1000)),
        encode::frame(network, "getdata", &encode::getdata(&[(0x4000_0001, txid)])),
    ]
    .concat()
}

#[test]
fn probe_transcript_frames_in_tcp_sized_chunks() {
    for network in Network::KNOWN {
        let bytes = handshake(network);
        assert!(looks_like_v1_header(&bytes[..16]));
        let mut dec = FrameDecoder::new();
        let mut commands = Vec::new();
        for segment in bytes.chunks(37) {
            dec.push(segment);
            while let Some(ev) = dec.next_event() {
                match ev {
                    FrameEvent::Frame(f) => {
                        assert_eq!(f.network, network);
                        assert_eq!(f.checksum, Checksum::Valid);
                        commands.push(f.command.as_str().unwrap().to_string());
                    }
                    FrameEvent::Finding(f) => panic!("unexpected {f:?}"),
                }
            }
        }
        dec.finish();
        assert!(dec.next_event().is_none());
        assert_eq!(
            commands,
            [
                "version",
                "wtxidrelay",
                "sendaddrv2",
                "verack",
                "sendcmpct",
                "ping",
                "feefilter",
                "getdata"
            ]
        );
    }
}

#[test]
fn v2_looking_bytes_are_not_v1() {
    // A BIP324 initiator opens with 64 bytes of ElligatorSwift key, which
    // look random; a key starting with a magic byte is caught by the
    // command bytes. These bytes are the sha256d of "v2" repeated.
    let key: Vec<u8> = (0u8..2)
        .flat_map(|i| btcsniff::p2p::sha256d(&[b'v', b'2', i]))
        .collect();
    assert!(!looks_like_v1_header(&key));
    let mut disguised = key.clone();
    disguised[..4].copy_from_slice(&Network::Mainnet.magic());
    assert!(!looks_like_v1_header(&disguised));
    // The decoder reports such bytes as skipped, never as frames.
    let mut dec = FrameDecoder::new();
    dec.push(&disguised);
    assert!(dec.next_event().is_none());
    dec.finish();
    let Some(FrameEvent::Finding(skipped)) = dec.next_event() else {
        panic!("the end of the stream accounts for the bytes")
    };
    assert_eq!(
        skipped,
        FramingFinding::SkippedBytes {
            offset: 0,
            bytes: 64
        }
    );
    assert!(dec.next_event().is_none());
}
