//! Address gossip: addr (with or without timestamps) and addrv2 (BIP155).

use super::DecodeContext;
use super::network::Services;
use crate::p2p::reader::{DecodeError, Reader};
use std::net::Ipv6Addr;

/// Core's MAX_ADDR_TO_SEND (net_processing.cpp): more addresses in one
/// addr/addrv2 message make Core treat the peer as misbehaving.
pub const MAX_ADDR_TO_SEND: u64 = 1_000;

/// Protocol version from which addr entries carry a timestamp
/// (CADDR_TIME_VERSION in Core's protocol.h).
pub const CADDR_TIME_VERSION: i32 = 31_402;

/// BIP155's MAX_ADDRV2_SIZE: longer addresses make Core reject the message.
pub const MAX_ADDRV2_SIZE: u64 = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrEntry {
    /// Absent when the sender's protocol predates CADDR_TIME_VERSION.
    pub time: Option<u32>,
    pub services: Services,
    pub ip: Ipv6Addr,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addresses {
    pub addresses: Vec<AddrEntry>,
}

pub(super) fn read_addr(r: &mut Reader<'_>, ctx: &DecodeContext) -> Result<Addresses, DecodeError> {
    let with_time = ctx.peer_version.is_none_or(|v| v >= CADDR_TIME_VERSION);
    let count = r.count("addr.count", MAX_ADDR_TO_SEND)?;
    let entry_size = if with_time { 30 } else { 26 };
    let mut addresses = Vec::with_capacity(r.capacity_for(count, entry_size));
    for _ in 0..count {
        let time = if with_time {
            Some(r.u32_le("addr.time")?)
        } else {
            None
        };
        addresses.push(AddrEntry {
            time,
            services: Services(r.u64_le("addr.services")?),
            ip: Ipv6Addr::from(r.array::<16>("addr.ip")?),
            port: r.u16_be("addr.port")?,
        });
    }
    Ok(Addresses { addresses })
}

/// BIP155 network ids and their address lengths.
fn network_of(id: u8) -> Option<(&'static str, usize)> {
    Some(match id {
        1 => ("IPV4", 4),
        2 => ("IPV6", 16),
        3 => ("TORV2", 10),
        4 => ("TORV3", 32),
        5 => ("I2P", 32),
        6 => ("CJDNS", 16),
        _ => return None,
    })
}

/// An addrv2 address: network id and the bytes as sent (the output shows
/// each network's usual text form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkAddress<'a> {
    pub network_id: u8,
    pub bytes: &'a [u8],
}

impl NetworkAddress<'_> {
    pub fn network_name(&self) -> &'static str {
        network_of(self.network_id).map_or("unknown", |(name, _)| name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrV2Entry<'a> {
    pub time: u32,
    /// A CompactSize in addrv2 (a u64 in addr).
    pub services: Services,
    pub network_id: u8,
    pub network: &'static str,
    pub addr: NetworkAddress<'a>,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressesV2<'a> {
    pub addresses: Vec<AddrV2Entry<'a>>,
}

pub(super) fn read_addrv2<'a>(r: &mut Reader<'a>) -> Result<AddressesV2<'a>, DecodeError> {
    let count = r.count("addrv2.count", MAX_ADDR_TO_SEND)?;
    // Smallest entry: time 4, services 1, network 1, length 1, port 2.
    let mut addresses = Vec::with_capacity(r.capacity_for(count, 9));
    for _ in 0..count {
        let time = r.u32_le("addrv2.time")?;
        let services = Services(r.compact_size("addrv2.services")?);
        let network_id = r.u8("addrv2.network_id")?;
        let len_offset = r.position();
        let len = r.compact_size("addrv2.addr_len")?;
        // Core refuses (whole message) an oversize address, or a known
        // network's address of the wrong length.
        if len > MAX_ADDRV2_SIZE {
            return Err(DecodeError::Invalid {
                what: "addrv2.addr_len",
                offset: len_offset,
                detail: format!("{len} bytes, more than MAX_ADDRV2_SIZE {MAX_ADDRV2_SIZE}"),
            });
        }
        if let Some((name, expected)) = network_of(network_id)
            && len != expected as u64
        {
            return Err(DecodeError::Invalid {
                what: "addrv2.addr_len",
                offset: len_offset,
                detail: format!("{name} address of {len} bytes, expected {expected}"),
            });
        }
        let bytes = r.bytes(len as usize, "addrv2.addr")?;
        let addr = NetworkAddress { network_id, bytes };
        addresses.push(AddrV2Entry {
            time,
            services,
            network_id,
            network: addr.network_name(),
            addr,
            port: r.u16_be("addrv2.port")?,
        });
    }
    Ok(AddressesV2 { addresses })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::p2p::frame::Command;
    use crate::p2p::message::{DecodeContext, Message, decode};

    #[test]
    fn addrv2_entries() {
        // time 1, services 0x0409 (compact), IPv4 1.2.3.4:8333; I2P 32 x 0;
        // unknown network 9 with 2 bytes.
        let mut p = hex::decode("03").unwrap();
        p.extend(hex::decode("01000000fd09040104010203042094").unwrap());
        p.extend(hex::decode("02000000000520").unwrap());
        p.extend([0u8; 32]);
        p.extend(hex::decode("0000").unwrap());
        p.extend(hex::decode("03000000010902abcd0001").unwrap());
        let d = decode(&Command::new("addrv2"), &p, &DecodeContext::default());
        let Ok(Message::AddrV2(a)) = &d.message else {
            panic!("{d:?}")
        };
        assert!(d.anomalies.is_empty(), "{:?}", d.anomalies);
        let [ipv4, i2p, unknown] = &a.addresses[..] else {
            panic!("{a:?}")
        };
        assert_eq!((ipv4.addr.bytes, ipv4.port), (&[1, 2, 3, 4][..], 8340));
        assert_eq!((ipv4.services.0, ipv4.network), (0x0409, "IPV4"));
        assert_eq!((i2p.network, i2p.addr.bytes), ("I2P", &[0u8; 32][..]));
        assert_eq!((unknown.network_id, unknown.network), (9, "unknown"));
        assert_eq!(unknown.addr.bytes, [0xab, 0xcd]);
    }

    #[test]
    fn addrv2_known_network_with_wrong_length_is_invalid() {
        // One entry: IPv4 claiming 5 bytes.
        let p = hex::decode("0100000000000105010203040500").unwrap();
        let d = decode(&Command::new("addrv2"), &p, &DecodeContext::default());
        assert!(
            matches!(
                d.message,
                Err(DecodeError::Invalid {
                    what: "addrv2.addr_len",
                    offset: 7,
                    ..
                })
            ),
            "{d:?}"
        );
    }
}
