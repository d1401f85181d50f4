//! Link layers: strip the link header and say which network protocol follows.
//!
//! etherparse knows Ethernet, VLAN and SLL but not SLL2, NULL or LOOP, and the
//! raw-IP link types need no parsing at all, so every link header is handled
//! here the same way: a fixed-size header and a protocol field, then VLAN tags
//! if the protocol says so. Only the IP packet goes to etherparse.

use super::{Layer, Skip};
use crate::capture::LinkType;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
/// 802.1Q customer tag, 802.1ad service tag, and the pre-standard QinQ tag.
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];
const VLAN_TAG_LEN: usize = 4;

/// BSD address families as written by the NULL and LOOP link types: IPv4 is 2
/// everywhere, IPv6 differs by OS (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS).
const AF_INET: u32 = 2;
const AF_INET6: [u32; 3] = [24, 28, 30];

/// Which IP version the link layer announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetProto {
    Ipv4,
    Ipv6,
    /// Raw IP link types: the version nibble decides.
    AnyIp,
}

/// Returns the network-layer bytes after the link header, or why not.
pub fn strip_link(link: LinkType, data: &[u8]) -> Result<(NetProto, &[u8]), Skip> {
    match link {
        LinkType::ETHERNET => {
            // dst MAC, src MAC, ethertype
            let ethertype = be16(data, 12)?;
            ethertype_payload(ethertype, rest(data, 14)?)
        }
        LinkType::LINUX_SLL => {
            // packet type, ARPHRD, address length, 8 address bytes, protocol
            let protocol = be16(data, 14)?;
            ethertype_payload(protocol, rest(data, 16)?)
        }
        LinkType::LINUX_SLL2 => {
            // protocol first, then reserved, ifindex, ARPHRD, type, addr len, addr
            let protocol = be16(data, 0)?;
            ethertype_payload(protocol, rest(data, 20)?)
        }
        LinkType::NULL => {
            // Family in the byte order of the host that captured, which the
            // file does not record: accept either reading.
            let raw: [u8; 4] = data
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or(Skip::Truncated(Layer::Link))?;
            let le = family_proto(u32::from_le_bytes(raw));
            let proto = le.or_else(|_| family_proto(u32::from_be_bytes(raw)))?;
            Ok((proto, rest(data, 4)?))
        }
        LinkType::LOOP => {
            let raw: [u8; 4] = data
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or(Skip::Truncated(Layer::Link))?;
            Ok((family_proto(u32::from_be_bytes(raw))?, rest(data, 4)?))
        }
        LinkType::RAW | LinkType::RAW_BSD => Ok((NetProto::AnyIp, data)),
        LinkType::IPV4 => Ok((NetProto::Ipv4, data)),
        LinkType::IPV6 => Ok((NetProto::Ipv6, data)),
        other => Err(Skip::UnsupportedLinkType(other.0)),
    }
}

/// Follows VLAN tags (any depth; each costs 4 bytes of input, so the loop is
/// bounded by the packet length) to the IP payload.
fn ethertype_payload(mut ethertype: u16, mut data: &[u8]) -> Result<(NetProto, &[u8]), Skip> {
    while ETHERTYPE_VLAN.contains(&ethertype) {
        // TCI (2 bytes), then the inner ethertype.
        ethertype = be16(data, 2)?;
        data = rest(data, VLAN_TAG_LEN)?;
    }
    match ethertype {
        ETHERTYPE_IPV4 => Ok((NetProto::Ipv4, data)),
        ETHERTYPE_IPV6 => Ok((NetProto::Ipv6, data)),
        other => Err(Skip::NotIp { ethertype: other }),
    }
}

fn family_proto(family: u32) -> Result<NetProto, Skip> {
    if family == AF_INET {
        Ok(NetProto::Ipv4)
    } else if AF_INET6.contains(&family) {
        Ok(NetProto::Ipv6)
    } else {
        Err(Skip::NotIpFamily { family })
    }
}

fn be16(data: &[u8], at: usize) -> Result<u16, Skip> {
    let b: [u8; 2] = data
        .get(at..at.saturating_add(2))
        .and_then(|b| b.try_into().ok())
        .ok_or(Skip::Truncated(Layer::Link))?;
    Ok(u16::from_be_bytes(b))
}

fn rest(data: &[u8], from: usize) -> Result<&[u8], Skip> {
    data.get(from..).ok_or(Skip::Truncated(Layer::Link))
}
