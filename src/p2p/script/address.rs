//! Addresses: a [`Destination`] written for a network, base58check for
//! P2PKH and P2SH, bech32 (witness v0) or bech32m (v1 and later, BIP350)
//! for witness programs, both by our own encoders (`segwit.rs`, checked
//! against the `bech32` crate; `base58.rs`, checked against `base58ck`).

use super::Destination;
use std::fmt;

use crate::p2p::Network;

/// A network's address prefixes (Core's chainparams `base58Prefixes` and
/// `bech32_hrp`).
struct Prefixes {
    pubkey_hash: u8,
    script_hash: u8,
    /// The human-readable part of segwit addresses.
    hrp: &'static str,
}

const MAINNET: Prefixes = Prefixes {
    pubkey_hash: 0x00,
    script_hash: 0x05,
    hrp: "bc",
};
/// testnet3, testnet4 and signet.
const TEST: Prefixes = Prefixes {
    pubkey_hash: 0x6f,
    script_hash: 0xc4,
    hrp: "tb",
};
const REGTEST: Prefixes = Prefixes {
    pubkey_hash: 0x6f,
    script_hash: 0xc4,
    hrp: "bcrt",
};

/// A destination's address on one network, written by `Display`.
#[derive(Clone, Copy)]
pub struct Address<'a> {
    destination: Destination<'a>,
    prefixes: &'static Prefixes,
}

impl<'a> Address<'a> {
    /// `None` on a network of unknown magic (its prefixes are unknown: a
    /// custom signet uses testnet's, another chain anything).
    pub fn new(destination: Destination<'a>, network: Network) -> Option<Address<'a>> {
        let prefixes = match network {
            Network::Mainnet => &MAINNET,
            Network::Testnet3 | Network::Testnet4 | Network::Signet => &TEST,
            Network::Regtest => &REGTEST,
            Network::Unknown(_) => return None,
        };
        Some(Address {
            destination,
            prefixes,
        })
    }
}

impl Address<'_> {
    /// The address's text, written on the stack.
    pub fn text(&self) -> AddressText {
        let mut text = AddressText {
            bytes: [0; AddressText::CAPACITY],
            len: 0,
        };
        let written = fmt::Write::write_fmt(&mut text, format_args!("{self}"));
        debug_assert!(written.is_ok(), "an address longer than its buffer");
        text
    }
}

/// An address's text: at most 90 characters (BIP173's limit; the longest
/// address, a 40-byte witness program on regtest, has 76).
pub struct AddressText {
    bytes: [u8; AddressText::CAPACITY],
    len: usize,
}

impl AddressText {
    const CAPACITY: usize = 90;

    pub fn as_str(&self) -> &str {
        self.bytes
            .get(..self.len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
    }
}

impl fmt::Write for AddressText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let into = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        into.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl fmt::Display for Address<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (prefix, hash) = match self.destination {
            Destination::PubKeyHash(hash) => (self.prefixes.pubkey_hash, hash),
            Destination::ScriptHash(hash) => (self.prefixes.script_hash, hash),
            Destination::Witness { version, program } => {
                // Checked by the classifier: version 0..=16, 2 to 40 bytes.
                let mut text = [0u8; super::segwit::MAX_LEN];
                let len = super::segwit::encode(self.prefixes.hrp, version, program, &mut text)
                    .ok_or(fmt::Error)?;
                let text = text.get(..len).ok_or(fmt::Error)?;
                return f.write_str(std::str::from_utf8(text).map_err(|_| fmt::Error)?);
            }
        };
        let mut payload = [0u8; 21];
        let (first, rest) = payload.split_at_mut(1);
        first.copy_from_slice(&[prefix]);
        rest.copy_from_slice(hash);
        f.write_str(super::base58::encode_check(&payload).as_str())
    }
}

impl fmt::Debug for Address<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::p2p::script::OutputScript;

    fn address(script_hex: &str, network: Network) -> Option<String> {
        let script = hex::decode(script_hex).unwrap();
        let destination = OutputScript::classify(&script).destination?;
        let address = Address::new(destination, network)?;
        assert_eq!(address.text().as_str(), address.to_string());
        Some(address.to_string())
    }

    /// Well-known addresses (the differential test covers the rest).
    #[test]
    fn known_addresses() {
        assert_eq!(
            address(
                "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac",
                Network::Mainnet
            )
            .as_deref(),
            Some("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
        );
        assert_eq!(
            address("51024e73", Network::Mainnet).as_deref(),
            Some("bc1pfeessrawgf")
        );
        assert_eq!(
            address("51024e73", Network::Regtest).as_deref(),
            Some("bcrt1pfeesnyr2tx")
        );
        assert_eq!(address("51024e73", Network::Unknown([1, 2, 3, 4])), None);
        assert_eq!(address("6a", Network::Mainnet), None);
    }
}
