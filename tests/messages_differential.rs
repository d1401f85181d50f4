//! Differential tests, every other message rust-bitcoin 0.32 knows: random
//! values encoded by rust-bitcoin, decoded by ours, fields compared.
//! (Block data lives in messages_differential_tx.rs.) The JSON line of
//! each is compared with the payload built from rust-bitcoin's values
//! (tests/bitcoin_json).

mod bitcoin_json;

use bitcoin::hashes::{Hash, sha256d};
use bitcoin::p2p::address::{AddrV2, AddrV2Message, Address};
use bitcoin::p2p::message::{NetworkMessage, RawNetworkMessage};
use bitcoin::p2p::message_blockdata::{GetBlocksMessage, GetHeadersMessage, Inventory};
use bitcoin::p2p::message_bloom::{BloomFlags, FilterAdd, FilterLoad};
use bitcoin::p2p::message_compact_blocks::SendCmpct;
use bitcoin::p2p::message_filter::{CFCheckpt, CFHeaders, CFilter, GetCFCheckpt};
use bitcoin::p2p::message_filter::{GetCFHeaders, GetCFilters};
use bitcoin::p2p::message_network::{Reject, RejectReason, VersionMessage};
use bitcoin::p2p::{Magic, ServiceFlags};
use bitcoin::{BlockHash, FilterHash, FilterHeader, Txid, Wtxid};
use btcsniff::output::json::payload::network_address_text;
use btcsniff::p2p::frame::Command;
use btcsniff::p2p::message::{self, DecodeContext, Message};
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn payload_of(msg: NetworkMessage) -> (&'static str, Vec<u8>) {
    let raw = RawNetworkMessage::new(Magic::BITCOIN, msg);
    let bytes = bitcoin::consensus::serialize(&raw);
    (raw.cmd(), bytes[24..].to_vec())
}

/// Decodes `payload` as `cmd` with ours; no anomalies expected. The JSON
/// sink's line for it must be JSON, and byte for byte `expected` (the
/// payload built from rust-bitcoin's values) when given.
fn ours(
    cmd: &str,
    payload: &[u8],
    expected: Option<serde_json::Value>,
    check: impl FnOnce(&Message<'_>),
) {
    let decoded = message::decode(&Command::new(cmd), payload, &DecodeContext::default());
    assert!(decoded.anomalies.is_empty(), "{:?}", decoded.anomalies);
    let m = decoded.message.expect("decodes");
    assert_eq!(m.command(), cmd);
    let line = json_line(&m);
    serde_json::from_str::<serde_json::Value>(&line).expect("the line is JSON");
    if let Some(expected) = expected {
        assert_eq!(line, expected.to_string());
    }
    check(&m);
}

/// The payload as the JSON sink writes it.
fn json_line(m: &Message<'_>) -> String {
    let mut line = Vec::new();
    btcsniff::output::json::write_payload(&mut line, m, None);
    String::from_utf8(line).expect("UTF-8")
}

fn json_of(m: &Message<'_>) -> serde_json::Value {
    serde_json::from_str(&json_line(m)).unwrap()
}

fn roundtrip(msg: NetworkMessage, check: impl FnOnce(&Message<'_>)) {
    let expected = bitcoin_json::payload(&msg, true, None);
    assert!(expected.is_some(), "no expected JSON for {msg:?}");
    let (cmd, payload) = payload_of(msg);
    ours(cmd, &payload, expected, check);
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn arb_address() -> impl Strategy<Value = Address> {
    (any::<u64>(), any::<[u16; 8]>(), any::<u16>()).prop_map(|(s, address, port)| Address {
        services: ServiceFlags::from(s),
        address,
        port,
    })
}

fn check_address(ours: &message::NetAddr, theirs: &Address) {
    assert_eq!(ours.services.0, theirs.services.to_u64());
    assert_eq!(ours.ip, Ipv6Addr::from(theirs.address));
    assert_eq!(ours.port, theirs.port);
}

fn arb_inventory() -> impl Strategy<Value = Inventory> {
    (0u32..9, any::<[u8; 32]>(), any::<u32>()).prop_map(|(kind, h, other)| match kind {
        0 => Inventory::Transaction(Txid::from_byte_array(h)),
        1 => Inventory::Block(BlockHash::from_byte_array(h)),
        2 => Inventory::CompactBlock(BlockHash::from_byte_array(h)),
        3 => Inventory::WTx(Wtxid::from_byte_array(h)),
        4 => Inventory::WitnessTransaction(Txid::from_byte_array(h)),
        5 => Inventory::WitnessBlock(BlockHash::from_byte_array(h)),
        6 => Inventory::Error,
        _ => Inventory::Unknown {
            inv_type: other,
            hash: h,
        },
    })
}

/// The type id rust-bitcoin puts on the wire for an inventory item.
fn wire_type(item: &Inventory) -> u32 {
    let bytes = bitcoin::consensus::serialize(item);
    u32::from_le_bytes(bytes[..4].try_into().unwrap())
}

fn check_inventory(ours: &message::Inventory, theirs: &[Inventory]) {
    assert_eq!(ours.inventory.len(), theirs.len());
    for (a, b) in ours.inventory.iter().zip(theirs) {
        assert_eq!(a.type_id, wire_type(b));
        assert_eq!(a.type_name, message::inventory::inv_type_name(a.type_id));
        assert_eq!(Some(a.hash.0), b.network_hash());
    }
}

fn arb_addrv2() -> impl Strategy<Value = AddrV2> {
    (0u8..7, any::<[u8; 32]>(), 7u8..=255, bytes(40)).prop_map(|(kind, b, id, other)| {
        let v6: [u8; 16] = b[..16].try_into().unwrap();
        match kind {
            0 => AddrV2::Ipv4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
            1 => AddrV2::Ipv6(Ipv6Addr::from(v6)),
            2 => AddrV2::TorV2(b[..10].try_into().unwrap()),
            3 => AddrV2::TorV3(b),
            4 => AddrV2::I2p(b),
            5 => AddrV2::Cjdns(Ipv6Addr::from(v6)),
            _ => AddrV2::Unknown(id, other),
        }
    })
}

/// rust-bitcoin's network id and address bytes, read off its encoding.
fn addrv2_parts(addr: &AddrV2) -> (u8, Vec<u8>) {
    let bytes = bitcoin::consensus::serialize(addr);
    let len = usize::from(bytes[1]); // all generated lengths are < 0xfd
    (bytes[0], bytes[2..2 + len].to_vec())
}

fn hash() -> impl Strategy<Value = [u8; 32]> {
    any::<[u8; 32]>()
}

fn hashes(max: usize) -> impl Strategy<Value = Vec<[u8; 32]>> {
    prop::collection::vec(any::<[u8; 32]>(), 0..max)
}

fn raw(hs: &[btcsniff::p2p::Hash256]) -> Vec<[u8; 32]> {
    hs.iter().map(|h| h.0).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn version(
        v in any::<u32>(), s in any::<u64>(), ts in any::<i64>(),
        recv in arb_address(), from in arb_address(), nonce in any::<u64>(),
        ua in "[ -~]{0,40}", height in any::<i32>(), relay in any::<bool>(),
    ) {
        let vm = VersionMessage {
            version: v, services: ServiceFlags::from(s), timestamp: ts,
            receiver: recv.clone(), sender: from.clone(), nonce,
            user_agent: ua.clone(), start_height: height, relay,
        };
        roundtrip(NetworkMessage::Version(vm), |m| {
            let Message::Version(o) = m else { panic!("{m:?}") };
            assert_eq!(o.version as u32, v);
            assert_eq!((o.services.0, o.timestamp), (s, ts));
            check_address(&o.addr_recv, &recv);
            check_address(&o.addr_from, &from);
            assert_eq!(o.nonce, Some(nonce));
            assert_eq!(o.user_agent, Some(ua.as_bytes()));
            assert_eq!((o.start_height, o.relay), (Some(height), Some(relay)));
            // 64-bit identifiers are decimal strings in JSON (I-JSON).
            let json = json_of(m);
            assert_eq!(json["nonce"], nonce.to_string());
            assert_eq!(json["services"]["bits"], s.to_string());
            assert_eq!(json["addr_recv"]["services"]["bits"], recv.services.to_u64().to_string());
        });
    }

    #[test]
    fn addr(entries in prop::collection::vec((any::<u32>(), arb_address()), 0..8)) {
        roundtrip(NetworkMessage::Addr(entries.clone()), |m| {
            let Message::Addr(o) = m else { panic!("{m:?}") };
            assert_eq!(o.addresses.len(), entries.len());
            for (a, (t, b)) in o.addresses.iter().zip(&entries) {
                assert_eq!(a.time, Some(*t));
                assert_eq!((a.services.0, a.ip, a.port), (b.services.to_u64(), Ipv6Addr::from(b.address), b.port));
            }
        });
    }

    #[test]
    fn addrv2(entries in prop::collection::vec((any::<u32>(), any::<u64>(), arb_addrv2(), any::<u16>()), 0..8)) {
        let msgs: Vec<AddrV2Message> = entries.iter().map(|(time, s, addr, port)| AddrV2Message {
            time: *time, services: ServiceFlags::from(*s), addr: addr.clone(), port: *port,
        }).collect();
        roundtrip(NetworkMessage::AddrV2(msgs.clone()), |m| {
            let Message::AddrV2(o) = m else { panic!("{m:?}") };
            assert_eq!(o.addresses.len(), msgs.len());
            for (a, b) in o.addresses.iter().zip(&msgs) {
                let (id, addr_bytes) = addrv2_parts(&b.addr);
                assert_eq!((a.time, a.services.0, a.port), (b.time, b.services.to_u64(), b.port));
                assert_eq!((a.network_id, a.addr.bytes), (id, &addr_bytes[..]));
                match &b.addr {
                    AddrV2::Ipv4(ip) => assert_eq!(network_address_text(&a.addr), ip.to_string()),
                    AddrV2::Ipv6(ip) | AddrV2::Cjdns(ip) => assert_eq!(network_address_text(&a.addr), ip.to_string()),
                    AddrV2::TorV3(_) => assert!(network_address_text(&a.addr).ends_with(".onion") && network_address_text(&a.addr).len() == 62),
                    AddrV2::I2p(_) => assert!(network_address_text(&a.addr).ends_with(".b32.i2p") && network_address_text(&a.addr).len() == 60),
                    _ => {}
                }
            }
        });
    }

    #[test]
    fn inv_getdata_notfound(items in prop::collection::vec(arb_inventory(), 0..8)) {
        roundtrip(NetworkMessage::Inv(items.clone()), |m| {
            let Message::Inv(o) = m else { panic!("{m:?}") };
            check_inventory(o, &items);
        });
        roundtrip(NetworkMessage::GetData(items.clone()), |m| {
            let Message::GetData(o) = m else { panic!("{m:?}") };
            check_inventory(o, &items);
        });
        roundtrip(NetworkMessage::NotFound(items.clone()), |m| {
            let Message::NotFound(o) = m else { panic!("{m:?}") };
            check_inventory(o, &items);
        });
    }

    #[test]
    fn getblocks_getheaders(v in any::<u32>(), loc in hashes(12), stop in hash()) {
        let locator: Vec<BlockHash> = loc.iter().map(|h| BlockHash::from_byte_array(*h)).collect();
        let stop_hash = BlockHash::from_byte_array(stop);
        let gb = GetBlocksMessage { version: v, locator_hashes: locator.clone(), stop_hash };
        roundtrip(NetworkMessage::GetBlocks(gb), |m| {
            let Message::GetBlocks(o) = m else { panic!("{m:?}") };
            assert_eq!((o.version, raw(&o.locator_hashes), o.hash_stop.0), (v, loc.clone(), stop));
        });
        let gh = GetHeadersMessage { version: v, locator_hashes: locator, stop_hash };
        roundtrip(NetworkMessage::GetHeaders(gh), |m| {
            let Message::GetHeaders(o) = m else { panic!("{m:?}") };
            assert_eq!((o.version, raw(&o.locator_hashes), o.hash_stop.0), (v, loc.clone(), stop));
        });
    }

    #[test]
    fn small_fixed_messages(n in any::<u64>(), rate in any::<i64>(), announce in any::<bool>(), cv in any::<u64>()) {
        for message in [NetworkMessage::Ping(n), NetworkMessage::Pong(n)] {
            roundtrip(message, |m| {
                let nonce = match m {
                    Message::Ping(p) => p.nonce,
                    Message::Pong(p) => Some(p.nonce),
                    other => panic!("{other:?}"),
                };
                assert_eq!(nonce, Some(n));
                // A decimal string, exact for jq 1.6 (numbers are doubles).
                assert_eq!(json_of(m)["nonce"], n.to_string());
            });
        }
        roundtrip(NetworkMessage::FeeFilter(rate), |m| {
            let Message::FeeFilter(f) = m else { panic!("{m:?}") };
            assert_eq!(f.fee_rate_sat_per_kvb, rate);
            assert_eq!(f.fee_rate_sat_per_vb, rate as f64 / 1000.0);
        });
        roundtrip(NetworkMessage::SendCmpct(SendCmpct { send_compact: announce, version: cv }), |m| {
            assert_eq!(m, &Message::SendCmpct(message::SendCmpct { announce, version: cv }));
        });
    }

    #[test]
    fn bloom(filter in bytes(300), funcs in 0u32..=50, tweak in any::<u32>(), flag in 0u8..3, data in bytes(520)) {
        let flags = [BloomFlags::None, BloomFlags::All, BloomFlags::PubkeyOnly][usize::from(flag)];
        let fl = FilterLoad { filter: filter.clone(), hash_funcs: funcs, tweak, flags };
        roundtrip(NetworkMessage::FilterLoad(fl), |m| {
            let Message::FilterLoad(o) = m else { panic!("{m:?}") };
            assert_eq!((o.filter, o.n_hash_funcs, o.n_tweak, o.n_flags), (&filter[..], funcs, tweak, flag));
        });
        roundtrip(NetworkMessage::FilterAdd(FilterAdd { data: data.clone() }), |m| {
            let Message::FilterAdd(o) = m else { panic!("{m:?}") };
            assert_eq!(o.data, &data[..]);
        });
    }

    #[test]
    fn compact_filters(ft in any::<u8>(), height in any::<u32>(), stop in hash(), prev in hash(), hs in hashes(10), filter in bytes(200)) {
        let stop_hash = BlockHash::from_byte_array(stop);
        roundtrip(NetworkMessage::GetCFilters(GetCFilters { filter_type: ft, start_height: height, stop_hash }), |m| {
            let Message::GetCFilters(o) = m else { panic!("{m:?}") };
            assert_eq!((o.filter_type, o.start_height, o.stop_hash.0), (ft, height, stop));
        });
        roundtrip(NetworkMessage::GetCFHeaders(GetCFHeaders { filter_type: ft, start_height: height, stop_hash }), |m| {
            let Message::GetCFHeaders(o) = m else { panic!("{m:?}") };
            assert_eq!((o.filter_type, o.start_height, o.stop_hash.0), (ft, height, stop));
        });
        roundtrip(NetworkMessage::GetCFCheckpt(GetCFCheckpt { filter_type: ft, stop_hash }), |m| {
            let Message::GetCFCheckpt(o) = m else { panic!("{m:?}") };
            assert_eq!((o.filter_type, o.stop_hash.0), (ft, stop));
        });
        roundtrip(NetworkMessage::CFilter(CFilter { filter_type: ft, block_hash: stop_hash, filter: filter.clone() }), |m| {
            let Message::CFilter(o) = m else { panic!("{m:?}") };
            assert_eq!((o.filter_type, o.block_hash.0, o.filter), (ft, stop, &filter[..]));
        });
        let cfh = CFHeaders {
            filter_type: ft,
            stop_hash,
            previous_filter_header: FilterHeader::from_byte_array(prev),
            filter_hashes: hs.iter().map(|h| FilterHash::from_byte_array(*h)).collect(),
        };
        roundtrip(NetworkMessage::CFHeaders(cfh), |m| {
            let Message::CFHeaders(o) = m else { panic!("{m:?}") };
            assert_eq!((o.filter_type, o.stop_hash.0, o.previous_filter_header.0), (ft, stop, prev));
            assert_eq!(raw(&o.filter_hashes), hs.clone());
        });
        let filter_headers = hs.iter().map(|h| FilterHeader::from_byte_array(*h)).collect();
        roundtrip(NetworkMessage::CFCheckpt(CFCheckpt { filter_type: ft, stop_hash, filter_headers }), |m| {
            let Message::CFCheckpt(o) = m else { panic!("{m:?}") };
            assert_eq!((o.filter_type, o.stop_hash.0, raw(&o.filter_headers)), (ft, stop, hs.clone()));
        });
    }

    #[test]
    fn reject(cmd in "[a-z]{0,12}", code in 0usize..8, reason in "[ -~]{0,60}", h in hash()) {
        let codes = [
            RejectReason::Malformed, RejectReason::Invalid, RejectReason::Obsolete, RejectReason::Duplicate,
            RejectReason::NonStandard, RejectReason::Dust, RejectReason::Fee, RejectReason::Checkpoint,
        ];
        let names = [
            "REJECT_MALFORMED", "REJECT_INVALID", "REJECT_OBSOLETE", "REJECT_DUPLICATE",
            "REJECT_NONSTANDARD", "REJECT_DUST", "REJECT_INSUFFICIENTFEE", "REJECT_CHECKPOINT",
        ];
        let r = Reject {
            message: cmd.clone().into(), ccode: codes[code], reason: reason.clone().into(),
            hash: sha256d::Hash::from_byte_array(h),
        };
        roundtrip(NetworkMessage::Reject(r), |m| {
            let Message::Reject(o) = m else { panic!("{m:?}") };
            assert_eq!((o.message, o.ccode, o.ccode_name), (cmd.as_bytes(), codes[code] as u8, names[code]));
            assert_eq!((o.reason, o.data.map(|d| d.0)), (reason.as_bytes(), Some(h)));
        });
    }

    #[test]
    fn alert(payload in bytes(200), signature in bytes(80)) {
        // rust-bitcoin's Alert is one var-bytes field; the signature that
        // follows on the wire is encoded as a second one.
        let (cmd, mut wire) = payload_of(NetworkMessage::Alert(payload.clone()));
        wire.extend(bitcoin::consensus::serialize(&signature));
        ours(cmd, &wire, None, |m| {
            let Message::Alert(o) = m else { panic!("{m:?}") };
            assert_eq!((o.payload, o.signature), (&payload[..], &signature[..]));
            let json = json_of(m);
            assert_eq!(json["payload"], hex::encode(&payload));
            assert_eq!(json["signature"], hex::encode(&signature));
        });
    }
}

#[test]
fn empty_messages() {
    let cases = [
        (NetworkMessage::Verack, Message::Verack),
        (NetworkMessage::GetAddr, Message::GetAddr),
        (NetworkMessage::MemPool, Message::MemPool),
        (NetworkMessage::SendHeaders, Message::SendHeaders),
        (NetworkMessage::FilterClear, Message::FilterClear),
        (NetworkMessage::WtxidRelay, Message::WtxidRelay),
        (NetworkMessage::SendAddrV2, Message::SendAddrV2),
    ];
    for (theirs, expected) in cases {
        roundtrip(theirs, |m| assert_eq!(m, &expected));
    }
}
