//! The envelope fields that are the same for every message of one flow
//! direction (`"flow"`, `"src"`, `"dst"`, `"network"`, `"magic"`), written
//! once and copied afterwards: a busy capture has many small messages per
//! direction, and formatting two endpoints costs as much as a small
//! payload.

use super::ser::write_u64;
use crate::p2p::Network;
use crate::p2p::hash::write_hex;
use std::io::Write;
use std::net::SocketAddr;

/// Direct-mapped by flow id and direction: flows are numbered in order, so
/// the flows active at one time rarely share a slot, and a miss costs one
/// rebuild.
const SLOTS: usize = 512;

#[derive(Default)]
pub struct EnvelopeCache {
    slots: Vec<Slot>,
}

#[derive(Default)]
struct Slot {
    key: Option<(u64, SocketAddr, SocketAddr, Network)>,
    /// `,"flow":N,"src":"…","dst":"…"` then `,"network":"…","magic":"…"`.
    bytes: Vec<u8>,
    /// Where the network part starts in `bytes`.
    network_at: usize,
}

impl EnvelopeCache {
    /// Appends `,"flow":N,"src":"…","dst":"…"` and, with `with_network`,
    /// `,"network":"…","magic":"…"`.
    pub fn write(
        &mut self,
        out: &mut Vec<u8>,
        flow: u64,
        src: SocketAddr,
        dst: SocketAddr,
        network: Network,
        with_network: bool,
    ) {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, Slot::default);
        }
        // The two directions of a flow in neighbouring slots.
        let direction = u64::from(src > dst);
        let index = (flow.wrapping_mul(2).wrapping_add(direction) % SLOTS as u64) as usize;
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        let key = (flow, src, dst, network);
        if slot.key != Some(key) {
            slot.key = Some(key);
            slot.bytes.clear();
            build(slot, flow, src, dst, network);
        }
        let end = if with_network {
            slot.bytes.len()
        } else {
            slot.network_at
        };
        out.extend_from_slice(slot.bytes.get(..end).unwrap_or(&[]));
    }
}

fn build(slot: &mut Slot, flow: u64, src: SocketAddr, dst: SocketAddr, network: Network) {
    let bytes = &mut slot.bytes;
    bytes.extend_from_slice(b",\"flow\":");
    write_u64(bytes, flow);
    bytes.extend_from_slice(b",\"src\":\"");
    write_endpoint(bytes, src);
    bytes.extend_from_slice(b"\",\"dst\":\"");
    write_endpoint(bytes, dst);
    bytes.push(b'"');
    slot.network_at = bytes.len();
    bytes.extend_from_slice(b",\"network\":\"");
    bytes.extend_from_slice(network.name().as_bytes());
    bytes.extend_from_slice(b"\",\"magic\":\"");
    write_hex(bytes, &network.magic());
    bytes.push(b'"');
}

/// `ip:port`, IPv6 as `[addr]:port` (SocketAddr's own Display); IPv4
/// without `fmt`.
pub fn write_endpoint(out: &mut Vec<u8>, addr: SocketAddr) {
    match addr {
        SocketAddr::V4(v4) => {
            let [a, b, c, d] = v4.ip().octets();
            for (i, octet) in [a, b, c, d].into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                write_u64(out, u64::from(octet));
            }
            out.push(b':');
            write_u64(out, u64::from(v4.port()));
        }
        SocketAddr::V6(_) => {
            let _ = write!(out, "{addr}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(cache: &mut EnvelopeCache, flow: u64, src: &str, dst: &str, net: Network) -> String {
        let mut out = Vec::new();
        cache.write(
            &mut out,
            flow,
            src.parse().unwrap(),
            dst.parse().unwrap(),
            net,
            true,
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_key_gets_its_own_bytes_through_slot_collisions() {
        let mut cache = EnvelopeCache::default();
        let a = written(&mut cache, 1, "1.2.3.4:8333", "[::1]:5", Network::Mainnet);
        assert_eq!(
            a,
            r#","flow":1,"src":"1.2.3.4:8333","dst":"[::1]:5","network":"mainnet","magic":"f9beb4d9""#
        );
        // Same slot (flow 1 + 256, same direction), other network: rebuilt.
        let b = written(&mut cache, 257, "[::1]:5", "1.2.3.4:8333", Network::Signet);
        assert!(
            b.starts_with(r#","flow":257,"src":"[::1]:5","dst":"1.2.3.4:8333","network":"signet""#)
        );
        assert_eq!(
            written(&mut cache, 1, "1.2.3.4:8333", "[::1]:5", Network::Mainnet),
            a
        );
        let mut short = Vec::new();
        let (src, dst) = ("1.2.3.4:8333".parse().unwrap(), "[::1]:5".parse().unwrap());
        cache.write(&mut short, 1, src, dst, Network::Mainnet, false);
        assert_eq!(short, br#","flow":1,"src":"1.2.3.4:8333","dst":"[::1]:5""#);
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
