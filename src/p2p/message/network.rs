//! Connection-level messages: version, ping/pong, feefilter (BIP133),
//! sendtxrcncl (BIP330), and the pieces they share (services, net_addr).

use crate::p2p::reader::{DecodeError, Reader};
use std::net::Ipv6Addr;

/// Service bits with their names (names computed when serialised).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Services(pub u64);

/// Named service bits (protocol.h ServiceFlags).
const SERVICE_NAMES: [(u64, &str); 7] = [
    (1 << 0, "NODE_NETWORK"),
    (1 << 1, "NODE_GETUTXO"),
    (1 << 2, "NODE_BLOOM"),
    (1 << 3, "NODE_WITNESS"),
    (1 << 6, "NODE_COMPACT_FILTERS"),
    (1 << 10, "NODE_NETWORK_LIMITED"),
    (1 << 11, "NODE_P2P_V2"),
];

/// One set service bit: its protocol.h name, or its number if unnamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceName {
    Known(&'static str),
    /// Shown as "bit N".
    Bit(u32),
}

impl Services {
    /// The set bits, lowest first, without allocating.
    pub fn iter_names(&self) -> impl Iterator<Item = ServiceName> + use<> {
        let bits = self.0;
        (0..64u32)
            .filter(move |bit| bits & (1u64 << bit) != 0)
            .map(|bit| {
                let flag = 1u64 << bit;
                match SERVICE_NAMES.iter().find(|(f, _)| *f == flag) {
                    Some((_, name)) => ServiceName::Known(name),
                    None => ServiceName::Bit(bit),
                }
            })
    }

    /// Names of the set bits; unknown bits as "bit N".
    pub fn names(&self) -> Vec<String> {
        self.iter_names()
            .map(|name| match name {
                ServiceName::Known(name) => name.to_string(),
                ServiceName::Bit(bit) => format!("bit {bit}"),
            })
            .collect()
    }
}

/// A net_addr without its time field (as in `version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetAddr {
    pub services: Services,
    pub ip: Ipv6Addr,
    /// Network byte order on the wire.
    pub port: u16,
}

pub(super) fn read_net_addr(r: &mut Reader<'_>) -> Result<NetAddr, DecodeError> {
    Ok(NetAddr {
        services: Services(r.u64_le("net_addr.services")?),
        ip: Ipv6Addr::from(r.array::<16>("net_addr.ip")?),
        port: r.u16_be("net_addr.port")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version<'a> {
    pub version: i32,
    pub services: Services,
    pub timestamp: i64,
    pub addr_recv: NetAddr,
    pub addr_from: NetAddr,
    // Core reads each of the following only if bytes remain.
    pub nonce: Option<u64>,
    pub user_agent: Option<&'a [u8]>,
    pub start_height: Option<i32>,
    pub relay: Option<bool>,
}

/// Core's MAX_SUBVERSION_LENGTH (net_processing.cpp): a longer user agent
/// is truncated by Core's reader (and the peer misbehaves).
pub const MAX_SUBVERSION_LENGTH: u64 = 256;

pub(super) fn read_version<'a>(r: &mut Reader<'a>) -> Result<Version<'a>, DecodeError> {
    let version = r.i32_le("version.version")?;
    let services = Services(r.u64_le("version.services")?);
    let timestamp = r.i64_le("version.timestamp")?;
    let addr_recv = read_net_addr(r)?;
    // Before protocol 106 the message ended here; Core still reads the
    // later fields one by one, each only if the payload goes on.
    let addr_from = read_net_addr(r)?;
    let nonce = if r.is_empty() {
        None
    } else {
        Some(r.u64_le("version.nonce")?)
    };
    let user_agent = if r.is_empty() {
        None
    } else {
        let len = r.count("version.user_agent", MAX_SUBVERSION_LENGTH)?;
        Some(r.bytes(
            usize::try_from(len).unwrap_or(usize::MAX),
            "version.user_agent",
        )?)
    };
    let start_height = if r.is_empty() {
        None
    } else {
        Some(r.i32_le("version.start_height")?)
    };
    let relay = if r.is_empty() {
        None
    } else {
        Some(r.u8("version.relay")? != 0)
    };
    Ok(Version {
        version,
        services,
        timestamp,
        addr_recv,
        addr_from,
        nonce,
        user_agent,
        start_height,
        relay,
    })
}

/// Before BIP31 (protocol 60000) a ping had no nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ping {
    pub nonce: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pong {
    pub nonce: u64,
}

pub(super) fn read_ping(r: &mut Reader<'_>) -> Result<Ping, DecodeError> {
    let nonce = if r.is_empty() {
        None
    } else {
        Some(r.u64_le("ping.nonce")?)
    };
    Ok(Ping { nonce })
}

pub(super) fn read_pong(r: &mut Reader<'_>) -> Result<Pong, DecodeError> {
    Ok(Pong {
        nonce: r.u64_le("pong.nonce")?,
    })
}

/// BIP133: the minimum fee rate (sat per 1000 virtual bytes) for tx relay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeeFilter {
    pub fee_rate_sat_per_kvb: i64,
    pub fee_rate_sat_per_vb: f64,
}

pub(super) fn read_fee_filter(r: &mut Reader<'_>) -> Result<FeeFilter, DecodeError> {
    let rate = r.i64_le("feefilter.feerate")?;
    Ok(FeeFilter {
        fee_rate_sat_per_kvb: rate,
        fee_rate_sat_per_vb: rate as f64 / 1000.0,
    })
}

/// BIP330: offer of transaction reconciliation (Erlay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendTxRcncl {
    pub version: u32,
    pub salt: u64,
}

pub(super) fn read_send_txrcncl(r: &mut Reader<'_>) -> Result<SendTxRcncl, DecodeError> {
    Ok(SendTxRcncl {
        version: r.u32_le("sendtxrcncl.version")?,
        salt: r.u64_le("sendtxrcncl.salt")?,
    })
}
