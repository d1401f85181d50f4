//! The envelope fields that are the same for every message of one flow
//! direction: `"flow"`, `"src"`, `"dst"`, and for messages `"network"`
//! and `"magic"`, formatted once per direction (see
//! [`DirectionCache`](crate::output::direction_cache)).

use super::line::write_u64;
use crate::output::direction_cache::{DirectionCache, DirectionKey};
use crate::p2p::Network;
use crate::p2p::hash::write_hex;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};

#[derive(Default)]
pub struct EnvelopeCache {
    cache: DirectionCache,
}

impl EnvelopeCache {
    /// Appends `,"flow":N,"src":"…","dst":"…"` and, with a network,
    /// `,"network":"…","magic":"…"`.
    pub fn write(
        &mut self,
        out: &mut Vec<u8>,
        flow: u64,
        src: SocketAddr,
        dst: SocketAddr,
        network: Option<Network>,
    ) {
        let key = DirectionKey {
            flow,
            src,
            dst,
            network,
        };
        out.extend_from_slice(self.cache.get_or_build(key, |bytes| build(bytes, key)));
    }
}

fn build(bytes: &mut Vec<u8>, key: DirectionKey) {
    bytes.extend_from_slice(b",\"flow\":");
    write_u64(bytes, key.flow);
    bytes.extend_from_slice(b",\"src\":\"");
    write_endpoint(bytes, key.src);
    bytes.extend_from_slice(b"\",\"dst\":\"");
    write_endpoint(bytes, key.dst);
    bytes.push(b'"');
    if let Some(network) = key.network {
        bytes.extend_from_slice(b",\"network\":\"");
        bytes.extend_from_slice(network.name().as_bytes());
        bytes.extend_from_slice(b"\",\"magic\":\"");
        write_hex(bytes, &network.magic());
        bytes.push(b'"');
    }
}

/// `ip:port`, IPv6 as `[addr]:port` (SocketAddr's own Display); IPv4
/// without `fmt`.
pub fn write_endpoint(out: &mut Vec<u8>, addr: SocketAddr) {
    match addr {
        SocketAddr::V4(v4) => {
            write_ipv4(out, *v4.ip());
            out.push(b':');
            write_u64(out, u64::from(v4.port()));
        }
        SocketAddr::V6(_) => {
            let _ = write!(out, "{addr}");
        }
    }
}

/// Dotted IPv4, as `Ipv4Addr`'s Display, without `fmt`.
pub fn write_ipv4(out: &mut Vec<u8>, ip: Ipv4Addr) {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        write_u64(out, u64::from(octet));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_with_and_without_the_network() {
        let mut cache = EnvelopeCache::default();
        let (src, dst) = ("1.2.3.4:8333".parse().unwrap(), "[::1]:5".parse().unwrap());
        let mut out = Vec::new();
        cache.write(&mut out, 1, src, dst, Some(Network::Signet));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#","flow":1,"src":"1.2.3.4:8333","dst":"[::1]:5","network":"signet","magic":"0a03cf40""#
        );
        let mut out = Vec::new();
        cache.write(&mut out, 1, src, dst, None);
        assert_eq!(out, br#","flow":1,"src":"1.2.3.4:8333","dst":"[::1]:5""#);
    }

    #[test]
    fn endpoints_match_socketaddr_display() {
        for addr in [
            "1.2.3.4:8333",
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "[::1]:18444",
        ] {
            let addr: SocketAddr = addr.parse().unwrap();
            let mut ours = Vec::new();
            write_endpoint(&mut ours, addr);
            assert_eq!(String::from_utf8(ours).unwrap(), addr.to_string());
        }
    }
}
