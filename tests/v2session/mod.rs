//! BIP324 v2 sessions built by an independent implementation, rust-bitcoin's
//! `bip324` crate: both handshakes, then packets sealed by its
//! `CipherSession`s. The shared secret for the key log comes from
//! libsecp256k1's ElligatorSwift ECDH (the `secp256k1` crate), as the
//! crate computes it internally.
#![allow(dead_code)]

use bip324::{
    CipherSession, FillBytes, GarbageResult, Handshake, Initialized, PacketType, ReceivedKey, Role,
    VersionResult,
};
use bitcoin::secp256k1::{Secp256k1, SecretKey, ellswift};

pub const MAINNET: [u8; 4] = [0xf9, 0xbe, 0xb4, 0xd9];
pub const SIGNET: [u8; 4] = [0x0a, 0x03, 0xcf, 0x40];
pub const REGTEST: [u8; 4] = [0xfa, 0xbf, 0xb5, 0xda];

/// BIP324's short ids, restated from the BIP's table (independently of
/// btcsniff's own).
const SHORT_IDS: [(&str, u8); 28] = [
    ("addr", 1),
    ("block", 2),
    ("blocktxn", 3),
    ("cmpctblock", 4),
    ("feefilter", 5),
    ("filteradd", 6),
    ("filterclear", 7),
    ("filterload", 8),
    ("getblocks", 9),
    ("getblocktxn", 10),
    ("getdata", 11),
    ("getheaders", 12),
    ("headers", 13),
    ("inv", 14),
    ("mempool", 15),
    ("merkleblock", 16),
    ("notfound", 17),
    ("ping", 18),
    ("pong", 19),
    ("sendcmpct", 20),
    ("tx", 21),
    ("getcfilters", 22),
    ("cfilter", 23),
    ("getcfheaders", 24),
    ("cfheaders", 25),
    ("getcfcheckpt", 26),
    ("cfcheckpt", 27),
    ("addrv2", 28),
];

/// A message's contents: its short id, or 0 and the 12-byte command.
pub fn contents(command: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = match SHORT_IDS.iter().find(|(c, _)| *c == command) {
        Some((_, id)) => vec![*id],
        None => {
            let mut v = vec![0u8; 13];
            v[1..1 + command.len()].copy_from_slice(command.as_bytes());
            v
        }
    };
    out.extend_from_slice(payload);
    out
}

/// Hands the handshake a chosen secret key.
struct FixedKey([u8; 32]);

impl FillBytes for FixedKey {
    fn fill_bytes(&mut self, dest: &mut [u8; 32]) {
        *dest = self.0;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Initiator,
    Responder,
}

pub struct V2Session {
    pub magic: [u8; 4],
    /// Everything the initiator sent: key, garbage, terminator, packets.
    pub c2s: Vec<u8>,
    pub s2c: Vec<u8>,
    pub initiator_key: [u8; 64],
    pub secret: [u8; 32],
    pub session_id: [u8; 32],
    initiator: CipherSession,
    responder: CipherSession,
}

fn secret_key(seed: u64, salt: u8) -> [u8; 32] {
    let mut k = [0x11u8; 32];
    k[..8].copy_from_slice(&seed.to_le_bytes());
    k[31] = salt;
    k
}

/// Finishes one side's handshake on the other side's bytes after its key.
fn complete(handshake: Handshake<bip324::SentVersion>, input: &[u8]) -> CipherSession {
    let (mut hs, consumed) = match handshake.receive_garbage(input).expect("garbage") {
        GarbageResult::FoundGarbage {
            handshake,
            consumed_bytes,
        } => (handshake, consumed_bytes),
        GarbageResult::NeedMoreData(_) => panic!("no terminator"),
    };
    let mut rest = &input[consumed..];
    loop {
        let len = hs
            .decrypt_packet_len(rest[..3].try_into().unwrap())
            .unwrap();
        let mut packet = rest[3..3 + len].to_vec();
        rest = &rest[3 + len..];
        match hs.receive_version(&mut packet).expect("version packet") {
            VersionResult::Complete { cipher } => return cipher,
            VersionResult::Decoy(next) => hs = next,
        }
    }
}

impl V2Session {
    /// Both handshakes: keys, garbage, terminators, decoys, version packets.
    pub fn new(
        magic: [u8; 4],
        seed: u64,
        initiator_garbage: &[u8],
        responder_garbage: &[u8],
        initiator_decoys: &[&[u8]],
        responder_decoys: &[&[u8]],
    ) -> V2Session {
        let secp = Secp256k1::signing_only();
        let init_sk = secret_key(seed, 1);
        let resp_sk = secret_key(seed, 2);
        let init = Handshake::<Initialized>::new_with_rng(
            magic,
            Role::Initiator,
            &mut FixedKey(init_sk),
            &secp,
        )
        .unwrap();
        let resp = Handshake::<Initialized>::new_with_rng(
            magic,
            Role::Responder,
            &mut FixedKey(resp_sk),
            &secp,
        )
        .unwrap();
        let mut c2s = vec![0u8; Handshake::<Initialized>::send_key_len(Some(initiator_garbage))];
        let init = init.send_key(Some(initiator_garbage), &mut c2s).unwrap();
        let mut s2c = vec![0u8; Handshake::<Initialized>::send_key_len(Some(responder_garbage))];
        let resp = resp.send_key(Some(responder_garbage), &mut s2c).unwrap();
        let init = init.receive_key(s2c[..64].try_into().unwrap()).unwrap();
        let resp = resp.receive_key(c2s[..64].try_into().unwrap()).unwrap();
        let mut buf = vec![0u8; Handshake::<ReceivedKey>::send_version_len(Some(initiator_decoys))];
        let init = init.send_version(&mut buf, Some(initiator_decoys)).unwrap();
        c2s.extend_from_slice(&buf);
        let mut buf = vec![0u8; Handshake::<ReceivedKey>::send_version_len(Some(responder_decoys))];
        let resp = resp.send_version(&mut buf, Some(responder_decoys)).unwrap();
        s2c.extend_from_slice(&buf);
        let initiator = complete(init, &s2c[64..]);
        let responder = complete(resp, &c2s[64..]);
        assert_eq!(initiator.id(), responder.id());

        let initiator_key: [u8; 64] = c2s[..64].try_into().unwrap();
        let a = ellswift::ElligatorSwift::from_array(initiator_key);
        let b = ellswift::ElligatorSwift::from_array(s2c[..64].try_into().unwrap());
        let secret = ellswift::ElligatorSwift::shared_secret(
            a,
            b,
            SecretKey::from_slice(&init_sk).unwrap(),
            ellswift::ElligatorSwiftParty::A,
            Some(b"bip324_ellswift_xonly_ecdh"),
        )
        .to_secret_bytes();
        let from_responder = ellswift::ElligatorSwift::shared_secret(
            a,
            b,
            SecretKey::from_slice(&resp_sk).unwrap(),
            ellswift::ElligatorSwiftParty::B,
            Some(b"bip324_ellswift_xonly_ecdh"),
        )
        .to_secret_bytes();
        assert_eq!(secret, from_responder);
        V2Session {
            magic,
            session_id: *initiator.id(),
            c2s,
            s2c,
            initiator_key,
            secret,
            initiator,
            responder,
        }
    }

    fn sealed(&mut self, from: Side, contents: &[u8], kind: PacketType) -> Vec<u8> {
        let cipher = match from {
            Side::Initiator => &mut self.initiator,
            Side::Responder => &mut self.responder,
        };
        cipher.outbound().encrypt_to_vec(contents, kind, None)
    }

    fn out(&mut self, from: Side) -> &mut Vec<u8> {
        match from {
            Side::Initiator => &mut self.c2s,
            Side::Responder => &mut self.s2c,
        }
    }

    /// One message packet; returns its bytes too (for pcap writers that
    /// interleave directions).
    pub fn send(&mut self, from: Side, command: &str, payload: &[u8]) -> Vec<u8> {
        let packet = self.sealed(from, &contents(command, payload), PacketType::Genuine);
        self.out(from).extend_from_slice(&packet);
        packet
    }

    /// One decoy packet.
    pub fn decoy(&mut self, from: Side, contents: &[u8]) -> Vec<u8> {
        let packet = self.sealed(from, contents, PacketType::Decoy);
        self.out(from).extend_from_slice(&packet);
        packet
    }

    /// The session's key-log line.
    pub fn keylog_line(&self) -> String {
        format!(
            "BIP324 {} {}\n",
            hex::encode(self.initiator_key),
            hex::encode(self.secret)
        )
    }
}
