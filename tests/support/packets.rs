//! Packet builders for tests, written from the RFC layouts (independent of
//! etherparse, which the code under test uses).

use std::net::{Ipv4Addr, Ipv6Addr};

pub const SYN: u8 = 0x02;
pub const FIN: u8 = 0x01;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// A 20-byte TCP header (no options) followed by `payload`.
pub fn tcp(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.push(5 << 4); // data offset: 5 words
    t.push(flags);
    t.extend_from_slice(&65535u16.to_be_bytes()); // window
    t.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    t.extend_from_slice(payload);
    t
}

/// An IPv4 packet (no options) carrying `l4` with protocol `proto`.
pub fn ipv4_proto(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, flags_frag: u16, l4: &[u8]) -> Vec<u8> {
    let total = (20 + l4.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34]); // identification
    p.extend_from_slice(&flags_frag.to_be_bytes());
    p.push(64); // ttl
    p.push(proto);
    p.extend_from_slice(&[0, 0]); // checksum (not checked by the parser)
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(l4);
    p
}

pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, l4: &[u8]) -> Vec<u8> {
    ipv4_proto(src, dst, 6, 0x4000, l4) // DF set
}

/// An IPv6 packet; with `hop_by_hop` the TCP segment follows an 8-byte
/// hop-by-hop options extension header.
pub fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, hop_by_hop: bool, l4: &[u8]) -> Vec<u8> {
    let ext_len = if hop_by_hop { 8 } else { 0 };
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&((ext_len + l4.len()) as u16).to_be_bytes());
    p.push(if hop_by_hop { 0 } else { 6 });
    p.push(64); // hop limit
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    if hop_by_hop {
        // next header TCP, length 0 (= 8 bytes), PadN option filling 6 bytes
        p.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
    }
    p.extend_from_slice(l4);
    p
}

/// Ethernet II with the given VLAN tag protocol identifiers (outermost
/// first) in front of `ethertype`.
pub fn ethernet(vlan_tpids: &[u16], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    for (i, tpid) in vlan_tpids.iter().enumerate() {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&(100 + i as u16).to_be_bytes()); // TCI: VLAN id
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Linux cooked v1: packet type, ARPHRD_ETHER, address length 6, address
/// padded to 8, protocol.
pub fn sll(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Linux cooked v2: protocol, reserved, interface index, ARPHRD_ETHER,
/// packet type, address length, 8 address bytes.
pub fn sll2(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&3u32.to_be_bytes());
    f.extend_from_slice(&1u16.to_be_bytes());
    f.push(0);
    f.push(6);
    f.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// A NULL/LOOP header: the 4-byte address family as given.
pub fn family(family_bytes: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut f = family_bytes.to_vec();
    f.extend_from_slice(payload);
    f
}
