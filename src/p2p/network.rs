//! Bitcoin networks, identified by the 4-byte magic that opens every v1
//! message header (PROTOCOL.md, "Networks").

use std::fmt;

/// A network, or an unknown magic (a custom signet's magic is the first four
/// bytes of sha256d(challenge), so an unknown magic can still be Bitcoin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    Mainnet,
    Testnet3,
    Testnet4,
    Signet,
    Regtest,
    Unknown([u8; 4]),
}

impl Network {
    /// The five networks whose magics are known.
    pub const KNOWN: [Network; 5] = [
        Network::Mainnet,
        Network::Testnet3,
        Network::Testnet4,
        Network::Signet,
        Network::Regtest,
    ];

    /// The network with these magic bytes (wire order); `Unknown` otherwise.
    pub fn from_magic(magic: [u8; 4]) -> Network {
        match magic {
            [0xf9, 0xbe, 0xb4, 0xd9] => Network::Mainnet,
            [0x0b, 0x11, 0x09, 0x07] => Network::Testnet3,
            [0x1c, 0x16, 0x3f, 0x28] => Network::Testnet4,
            [0x0a, 0x03, 0xcf, 0x40] => Network::Signet,
            [0xfa, 0xbf, 0xb5, 0xda] => Network::Regtest,
            other => Network::Unknown(other),
        }
    }

    /// The magic bytes in wire order.
    pub fn magic(self) -> [u8; 4] {
        match self {
            Network::Mainnet => [0xf9, 0xbe, 0xb4, 0xd9],
            Network::Testnet3 => [0x0b, 0x11, 0x09, 0x07],
            Network::Testnet4 => [0x1c, 0x16, 0x3f, 0x28],
            Network::Signet => [0x0a, 0x03, 0xcf, 0x40],
            Network::Regtest => [0xfa, 0xbf, 0xb5, 0xda],
            Network::Unknown(m) => m,
        }
    }

    /// The name used in text and JSON output ("unknown" for custom magics).
    pub fn name(self) -> &'static str {
        match self {
            Network::Mainnet => "mainnet",
            Network::Testnet3 => "testnet3",
            Network::Testnet4 => "testnet4",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
            Network::Unknown(_) => "unknown",
        }
    }

    /// Parses a `--network` argument.
    pub fn from_name(name: &str) -> Option<Network> {
        Network::KNOWN.into_iter().find(|n| n.name() == name)
    }

    /// The default P2P port, `None` for unknown magics.
    pub fn default_port(self) -> Option<u16> {
        match self {
            Network::Mainnet => Some(8333),
            Network::Testnet3 => Some(18333),
            Network::Testnet4 => Some(48333),
            Network::Signet => Some(38333),
            Network::Regtest => Some(18444),
            Network::Unknown(_) => None,
        }
    }

    pub fn is_known(self) -> bool {
        !matches!(self, Network::Unknown(_))
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The default ports of the five networks: a flow on one of these that does
/// not speak v1 is reported as a BIP324 v2 session.
pub const BITCOIN_PORTS: [u16; 5] = [8333, 18333, 48333, 38333, 18444];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_round_trip() {
        for n in Network::KNOWN {
            assert_eq!(Network::from_magic(n.magic()), n);
            assert_eq!(Network::from_name(n.name()), Some(n));
        }
        assert_eq!(
            Network::from_magic([1, 2, 3, 4]),
            Network::Unknown([1, 2, 3, 4])
        );
        assert_eq!(Network::Unknown([1, 2, 3, 4]).name(), "unknown");
    }
}
