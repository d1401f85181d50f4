//! A peer's folder name back to its address.
//!
//! Core names each peer's folder `CService::ToStringAddrPort()` with every
//! `:` replaced by `_` (Windows folder names cannot hold a colon):
//!
//! | peer | ToStringAddrPort | folder |
//! |---|---|---|
//! | IPv4 | `1.2.3.4:8333` | `1.2.3.4_8333` |
//! | IPv6, CJDNS | `[2001:db8::1]:8333` | `[2001_db8__1]_8333` |
//! | Tor v3 | `xyz…xyz.onion:8333` | `xyz…xyz.onion_8333` |
//! | I2P | `xyz….b32.i2p:0` | `xyz….b32.i2p_0` |
//!
//! An IPv6 address may carry a `%scope` (link-local peers). A folder that
//! is not of this form (a renamed copy) keeps its name as the label.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

/// How a peer is shown: `ip:port` (IPv6 as `[addr]:port`, as the endpoints
/// of packet captures, so the two can be matched), `name.onion:port`, or
/// the folder name when it is not Core's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerName {
    pub label: String,
    /// The port when the folder name has one.
    pub port: Option<u16>,
}

impl PeerName {
    /// Parses a peer folder's name.
    pub fn from_folder(folder: &str) -> PeerName {
        let parsed = folder
            .rsplit_once('_')
            .and_then(|(host, port)| Some((host, parse_port(port)?)));
        let Some((host, port)) = parsed else {
            return PeerName {
                label: folder.to_string(),
                port: None,
            };
        };
        let label = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            ipv6_label(&inner.replace('_', ":"), port)
        } else if let Ok(ip) = host.parse::<Ipv4Addr>() {
            SocketAddr::from((ip, port)).to_string()
        } else {
            format!("{host}:{port}")
        };
        PeerName {
            label,
            port: Some(port),
        }
    }
}

/// Decimal digits only (no sign, no spaces), as Core prints a port.
fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `[addr]:port` in the standard form (RFC 5952), the scope kept as
/// written; the text as given when it is not an IPv6 address.
fn ipv6_label(text: &str, port: u16) -> String {
    let (addr, scope) = match text.split_once('%') {
        Some((addr, scope)) => (addr, Some(scope)),
        None => (text, None),
    };
    match (addr.parse::<Ipv6Addr>(), scope) {
        (Ok(ip), None) => SocketAddr::V6(SocketAddrV6::new(ip, port, 0, 0)).to_string(),
        (Ok(ip), Some(scope)) => format!("[{ip}%{scope}]:{port}"),
        (Err(_), _) => format!("[{text}]:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(folder: &str) -> (String, Option<u16>) {
        let p = PeerName::from_folder(folder);
        (p.label, p.port)
    }

    #[test]
    fn core_folder_names() {
        assert_eq!(
            label("127.0.0.1_18444"),
            ("127.0.0.1:18444".into(), Some(18444))
        );
        assert_eq!(label("[__1]_8333"), ("[::1]:8333".into(), Some(8333)));
        assert_eq!(
            label("[2001_db8__ff00_42_8329]_50001"),
            ("[2001:db8::ff00:42:8329]:50001".into(), Some(50001))
        );
        assert_eq!(
            label("[fc32_17ea_e415_c3bf_9808_149d_b5a2_c9aa]_8333").1,
            Some(8333)
        );
        assert_eq!(
            label("[fe80__1%2]_8333"),
            ("[fe80::1%2]:8333".into(), Some(8333))
        );
        let onion = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion";
        assert_eq!(
            label(&format!("{onion}_8333")),
            (format!("{onion}:8333"), Some(8333))
        );
        assert_eq!(
            label("ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p_0"),
            (
                "ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p:0".into(),
                Some(0)
            )
        );
    }

    #[test]
    fn other_names_are_kept() {
        assert_eq!(label("node-a"), ("node-a".into(), None));
        assert_eq!(label("tmp"), ("tmp".into(), None));
        assert_eq!(label("peer_x"), ("peer_x".into(), None));
        assert_eq!(label("1.2.3.4_99999"), ("1.2.3.4_99999".into(), None));
        assert_eq!(label("1.2.3.4_+80"), ("1.2.3.4_+80".into(), None));
        assert_eq!(label("[nonsense]_1"), ("[nonsense]:1".into(), Some(1)));
    }
}
