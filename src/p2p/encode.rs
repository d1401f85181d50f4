//! Encoders for the messages the probe sends, with header and checksum,
//! and a small [`Writer`] that capture generators and test peers reuse.

use super::hash::checksum;
use super::{Hash256, Network};
use std::net::{IpAddr, SocketAddr};

/// Appends little-endian fields, CompactSizes and addresses to a `Vec`.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    pub fn with_capacity(capacity: usize) -> Writer {
        Writer {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }

    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    pub fn u16_le(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    /// Ports in addr records are big-endian (network byte order).
    pub fn u16_be(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    pub fn u32_le(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    pub fn i32_le(&mut self, v: i32) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    pub fn u64_le(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    pub fn i64_le(&mut self, v: i64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(u8::from(v))
    }

    /// A hash in wire (internal) byte order.
    pub fn hash(&mut self, h: &Hash256) -> &mut Self {
        self.bytes(&h.0)
    }

    /// CompactSize in its canonical (shortest) form.
    pub fn compact_size(&mut self, v: u64) -> &mut Self {
        match v {
            0..=0xfc => self.u8(v as u8),
            0xfd..=0xffff => self.u8(0xfd).u16_le(v as u16),
            0x1_0000..=0xffff_ffff => self.u8(0xfe).u32_le(v as u32),
            _ => self.u8(0xff).u64_le(v),
        }
    }

    /// CompactSize length followed by the bytes.
    pub fn var_bytes(&mut self, b: &[u8]) -> &mut Self {
        self.compact_size(b.len() as u64).bytes(b)
    }

    /// 16-byte IPv6 address; IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d).
    pub fn ip(&mut self, ip: IpAddr) -> &mut Self {
        let v6 = match ip {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        self.bytes(&v6.octets())
    }

    /// net_addr without time (as in `version`): services, IP, port (BE).
    pub fn net_addr(&mut self, services: u64, addr: SocketAddr) -> &mut Self {
        self.u64_le(services).ip(addr.ip()).u16_be(addr.port())
    }
}

/// A complete v1 message: 24-byte header (magic, command, length,
/// checksum) and payload. Commands longer than 12 bytes are cut.
pub fn frame(network: Network, command: &str, payload: &[u8]) -> Vec<u8> {
    let mut w = Writer::with_capacity(24usize.saturating_add(payload.len()));
    let length = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    w.bytes(&network.magic())
        .bytes(&super::frame::Command::new(command).0)
        .u32_le(length)
        .bytes(&checksum(payload))
        .bytes(payload);
    w.into_bytes()
}

/// The fields of a `version` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionParams {
    /// Protocol version (70016 today).
    pub version: i32,
    pub services: u64,
    /// Unix time in seconds.
    pub timestamp: i64,
    /// (services, address) of the peer we talk to (addr_recv).
    pub receiver: (u64, SocketAddr),
    /// (services, address) we claim (addr_from).
    pub sender: (u64, SocketAddr),
    pub nonce: u64,
    pub user_agent: String,
    pub start_height: i32,
    /// BIP37 relay flag.
    pub relay: bool,
}

/// `version` payload, with every optional field present.
pub fn version(p: &VersionParams) -> Vec<u8> {
    let mut w = Writer::with_capacity(p.user_agent.len().saturating_add(86));
    w.i32_le(p.version)
        .u64_le(p.services)
        .i64_le(p.timestamp)
        .net_addr(p.receiver.0, p.receiver.1)
        .net_addr(p.sender.0, p.sender.1)
        .u64_le(p.nonce)
        .var_bytes(p.user_agent.as_bytes())
        .i32_le(p.start_height)
        .bool(p.relay);
    w.into_bytes()
}

/// `verack`, `sendheaders`, `wtxidrelay`, `sendaddrv2`, `getaddr` and
/// `mempool` have empty payloads.
pub fn empty() -> Vec<u8> {
    Vec::new()
}

pub fn verack() -> Vec<u8> {
    empty()
}

pub fn sendheaders() -> Vec<u8> {
    empty()
}

/// BIP339: sent between version and verack.
pub fn wtxidrelay() -> Vec<u8> {
    empty()
}

/// BIP155: sent between version and verack.
pub fn sendaddrv2() -> Vec<u8> {
    empty()
}

/// BIP31 ping: the nonce the pong must echo.
pub fn ping(nonce: u64) -> Vec<u8> {
    nonce.to_le_bytes().to_vec()
}

pub fn pong(nonce: u64) -> Vec<u8> {
    nonce.to_le_bytes().to_vec()
}

/// Inventory vector payload: `getdata`, also `inv` and `notfound`.
pub fn getdata(items: &[(u32, Hash256)]) -> Vec<u8> {
    let mut w = Writer::with_capacity(items.len().saturating_mul(36).saturating_add(9));
    w.compact_size(items.len() as u64);
    for (inv_type, hash) in items {
        w.u32_le(*inv_type).hash(hash);
    }
    w.into_bytes()
}

/// BIP152 sendcmpct: announce flag and compact block version (1 or 2).
pub fn sendcmpct(announce: bool, version: u64) -> Vec<u8> {
    let mut w = Writer::with_capacity(9);
    w.bool(announce).u64_le(version);
    w.into_bytes()
}

/// BIP133 feefilter: minimum fee rate in sat per 1000 vbytes.
pub fn feefilter(fee_rate: i64) -> Vec<u8> {
    fee_rate.to_le_bytes().to_vec()
}

#[cfg(test)]
mod tests;
