//! addr and addrv2 (BIP155), with the usual text form of each network's
//! addresses.

use super::super::fields::{Fields, array, key};
use super::network::{ip, services};
use crate::p2p::message::address::NetworkAddress;
use crate::p2p::message::{Addresses, AddressesV2};
use sha3::{Digest, Sha3_256};
use std::net::{Ipv4Addr, Ipv6Addr};

pub fn addresses<F: Fields>(addr: &Addresses, f: &mut F) {
    f.key(key!("addresses"));
    array(f, &addr.addresses, |f, entry| {
        f.begin_object();
        // Absent when the sender's protocol predates CADDR_TIME_VERSION.
        if let Some(time) = entry.time {
            f.field_u64(key!("time"), u64::from(time));
        }
        services(&entry.services, f);
        ip(&entry.ip, f);
        f.field_u64(key!("port"), u64::from(entry.port));
        f.end_object();
    });
}

pub fn addresses_v2<F: Fields>(addr: &AddressesV2<'_>, f: &mut F) {
    f.key(key!("addresses"));
    array(f, &addr.addresses, |f, entry| {
        f.begin_object();
        f.field_u64(key!("time"), u64::from(entry.time));
        services(&entry.services, f);
        f.field_u64(key!("network_id"), u64::from(entry.network_id));
        f.field_name(key!("network"), entry.network);
        f.field_str(key!("addr"), &network_address_text(&entry.addr));
        f.field_u64(key!("port"), u64::from(entry.port));
        f.end_object();
    });
}

/// The usual text form of an addrv2 address: dotted IPv4, IPv6, .onion,
/// .b32.i2p; hex for unknown networks.
pub fn network_address_text(addr: &NetworkAddress<'_>) -> String {
    match (addr.network_id, addr.bytes) {
        (1, &[a, b, c, d]) => Ipv4Addr::new(a, b, c, d).to_string(),
        (2 | 6, b) => match <[u8; 16]>::try_from(b) {
            Ok(a) => Ipv6Addr::from(a).to_string(),
            Err(_) => crate::p2p::hash::to_hex(b),
        },
        (3, b) => format!("{}.onion", base32(b)),
        (4, b) => format!("{}.onion", tor_v3_text(b)),
        (5, b) => format!("{}.b32.i2p", base32(b)),
        (_, b) => crate::p2p::hash::to_hex(b),
    }
}

/// RFC 4648 base32, lowercase, without padding (as Tor and I2P write
/// their addresses).
fn base32(data: &[u8]) -> String {
    base32::encode(base32::Alphabet::Rfc4648Lower { padding: false }, data)
}

/// rend-spec-v3: onion address = base32(pubkey || checksum || version)
/// with checksum = sha3_256(".onion checksum" || pubkey || version)[..2].
fn tor_v3_text(pubkey: &[u8]) -> String {
    const VERSION: u8 = 3;
    let digest = Sha3_256::new()
        .chain_update(b".onion checksum")
        .chain_update(pubkey)
        .chain_update([VERSION])
        .finalize();
    let mut full = Vec::with_capacity(pubkey.len().saturating_add(3));
    full.extend_from_slice(pubkey);
    full.extend(digest.iter().take(2));
    full.push(VERSION);
    base32(&full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_rfc4648_vectors() {
        // RFC 4648 section 10, lowercased, padding removed.
        let cases = [
            ("", ""),
            ("f", "my"),
            ("fo", "mzxq"),
            ("foo", "mzxw6"),
            ("foob", "mzxw6yq"),
            ("fooba", "mzxw6ytb"),
            ("foobar", "mzxw6ytboi"),
        ];
        for (data, text) in cases {
            assert_eq!(base32(data.as_bytes()), text);
        }
    }

    #[test]
    fn tor_v3_text_has_the_right_checksum() {
        // Real v3 onions (torproject.org's, and the one in Core's net
        // tests): re-encoding the 32-byte key must reproduce the checksum
        // and version bytes.
        for onion in [
            "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid",
            "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd",
        ] {
            let key =
                base32::decode(base32::Alphabet::Rfc4648Lower { padding: false }, onion).unwrap();
            let addr = NetworkAddress {
                network_id: 4,
                bytes: &key[..32],
            };
            assert_eq!(network_address_text(&addr), format!("{onion}.onion"));
        }
    }

    #[test]
    fn addrv2_text_forms_in_json() {
        use crate::p2p::frame::Command;
        use crate::p2p::message::{DecodeContext, decode};
        // time 1, services 0x0409 (compact), IPv4 1.2.3.4:8340; I2P 32 x 0;
        // unknown network 9 with 2 bytes.
        let mut p = hex::decode("03").unwrap();
        p.extend(hex::decode("01000000fd09040104010203042094").unwrap());
        p.extend(hex::decode("02000000000520").unwrap());
        p.extend([0u8; 32]);
        p.extend(hex::decode("0000").unwrap());
        p.extend(hex::decode("03000000010902abcd0001").unwrap());
        let d = decode(&Command::new("addrv2"), &p, &DecodeContext::default());
        let mut line = Vec::new();
        crate::output::json::write_payload(&mut line, &d.message.unwrap(), None);
        let json: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(json["addresses"][0]["addr"], "1.2.3.4");
        assert_eq!(json["addresses"][0]["port"], 8340);
        assert_eq!(json["addresses"][0]["services"]["names"][0], "NODE_NETWORK");
        assert_eq!(json["addresses"][1]["network"], "I2P");
        assert_eq!(
            json["addresses"][1]["addr"],
            format!("{}.b32.i2p", "a".repeat(52))
        );
        assert_eq!(json["addresses"][2]["network"], "unknown");
        assert_eq!(json["addresses"][2]["addr"], "abcd");
    }
}
