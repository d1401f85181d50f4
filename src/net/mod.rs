//! Packet bytes to a TCP segment: link header (here, [`link`]), then IP and
//! TCP (etherparse).
//!
//! [`parse_tcp`] either returns a [`TcpSegment`] borrowing the packet's
//! payload or a [`Skip`] saying why the packet is not one we follow. Neither
//! allocates. IPv4 fragments are skipped, not reassembled: Bitcoin nodes
//! speak TCP with path-MTU discovery, so fragments are rare and belong to
//! someone else's traffic or to an attack.
// Bytes from the wire reach this module: no panic by construction (no
// unwrap/expect, no unchecked indexing or arithmetic). Tests may.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod link;

use crate::capture::LinkType;
use etherparse::{IpNumber, IpSlice, TcpSlice};
use link::{NetProto, strip_link};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The TCP flags the flow layer uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub ack: bool,
    pub psh: bool,
}

/// A TCP segment, borrowing its payload from the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// The TCP payload, trimmed to the IP length (Ethernet padding removed).
    pub payload: &'a [u8],
}

/// The protocol layer a [`Skip`] refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Link,
    Ip,
    Tcp,
}

/// Why a packet is not a TCP segment we can follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    UnsupportedLinkType(u32),
    /// The link layer carries something other than IP (ARP, LLDP, ...).
    NotIp {
        ethertype: u16,
    },
    /// NULL/LOOP address family that is neither IPv4 nor IPv6.
    NotIpFamily {
        family: u32,
    },
    /// The IP packet carries another protocol (UDP, ICMP, ...).
    NotTcp {
        protocol: u8,
    },
    /// The IP version disagrees with what the link layer announced.
    IpVersionMismatch,
    /// An IPv4 fragment or an IPv6 packet with a fragment header.
    Fragment,
    /// The packet ends before the layer does (snap length, or a lying length).
    Truncated(Layer),
    /// A header field is invalid (IPv4 IHL < 5, TCP data offset < 5, ...).
    Malformed(Layer),
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::UnsupportedLinkType(l) => write!(f, "unsupported link type {l}"),
            Skip::NotIp { ethertype } => write!(f, "not IP (ethertype {ethertype:#06x})"),
            Skip::NotIpFamily { family } => write!(f, "not IP (address family {family})"),
            Skip::NotTcp { protocol } => write!(f, "not TCP (IP protocol {protocol})"),
            Skip::IpVersionMismatch => f.write_str("IP version differs from the link layer's"),
            Skip::Fragment => f.write_str("IP fragment"),
            Skip::Truncated(layer) => write!(f, "truncated {layer:?} header or payload"),
            Skip::Malformed(layer) => write!(f, "malformed {layer:?} header"),
        }
    }
}

/// Parses a captured packet of link type `link` down to its TCP segment.
pub fn parse_tcp(link: LinkType, data: &[u8]) -> Result<TcpSegment<'_>, Skip> {
    let (proto, net) = strip_link(link, data)?;
    let ip = IpSlice::from_slice(net).map_err(ip_skip)?;
    let version_ok = matches!(
        (proto, &ip),
        (NetProto::Ipv4, IpSlice::Ipv4(_))
            | (NetProto::Ipv6, IpSlice::Ipv6(_))
            | (NetProto::AnyIp, _)
    );
    if !version_ok {
        return Err(Skip::IpVersionMismatch);
    }
    // `payload()` is already cut to the IP total/payload length, so link
    // padding (Ethernet minimum frame size) never reaches TCP.
    let payload = ip.payload();
    if payload.fragmented {
        return Err(Skip::Fragment);
    }
    if payload.ip_number != IpNumber::TCP {
        return Err(Skip::NotTcp {
            protocol: payload.ip_number.0,
        });
    }
    let tcp = TcpSlice::from_slice(payload.payload).map_err(|e| match e {
        etherparse::err::tcp::HeaderSliceError::Len(_) => Skip::Truncated(Layer::Tcp),
        etherparse::err::tcp::HeaderSliceError::Content(_) => Skip::Malformed(Layer::Tcp),
    })?;
    let (src_ip, dst_ip): (IpAddr, IpAddr) = (ip.source_addr(), ip.destination_addr());
    Ok(TcpSegment {
        src: SocketAddr::new(src_ip, tcp.source_port()),
        dst: SocketAddr::new(dst_ip, tcp.destination_port()),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        flags: TcpFlags {
            syn: tcp.syn(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            ack: tcp.ack(),
            psh: tcp.psh(),
        },
        window: tcp.window_size(),
        payload: tcp.payload(),
    })
}

fn ip_skip(e: etherparse::err::ip::SliceError) -> Skip {
    match e {
        etherparse::err::ip::SliceError::Len(_) => Skip::Truncated(Layer::Ip),
        etherparse::err::ip::SliceError::IpHeaders(_) => Skip::Malformed(Layer::Ip),
    }
}
