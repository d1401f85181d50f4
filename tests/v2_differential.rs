//! btcsniff's BIP324 codec against an independent implementation, the
//! `bip324` crate (rust-bitcoin): sessions it encrypts are decrypted by
//! ours message for message (garbage 0-4095 bytes, decoys, rekeys, every
//! split of the byte stream), and packets our encoder seals are opened by
//! its responder.

mod v2session;

use btcsniff::p2p::Network;
use btcsniff::p2p::v2::{
    Candidate, PacketDecoder, PacketEncoder, Role, SessionKeys, V2Event, V2Finding,
};
use v2session::{MAINNET, REGTEST, SIGNET, Side, V2Session};

/// What our decoder saw in one direction.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    magic: Option<[u8; 4]>,
    garbage: Option<usize>,
    decoys: u64,
    version: bool,
    messages: Vec<(String, Vec<u8>)>,
    findings: Vec<V2Finding>,
}

fn candidates(secret: &[u8; 32], role: Role) -> Vec<Candidate> {
    Network::KNOWN
        .iter()
        .map(|n| Candidate {
            magic: n.magic(),
            keys: SessionKeys::derive(secret, n.magic()).sent_by(role).clone(),
        })
        .collect()
}

fn drain(dec: &mut PacketDecoder, seen: &mut Seen) {
    while let Some(ev) = dec.next_event() {
        match ev {
            V2Event::Terminator {
                magic, garbage_len, ..
            } => {
                seen.magic = Some(magic);
                seen.garbage = Some(garbage_len);
            }
            V2Event::Decoy { .. } => seen.decoys += 1,
            V2Event::Version { contents, .. } => {
                assert!(contents.is_empty());
                seen.version = true;
            }
            V2Event::Message(m) => seen.messages.push((
                String::from_utf8(m.command.as_bytes().to_vec()).unwrap(),
                m.payload.to_vec(),
            )),
            V2Event::Finding(f) => seen.findings.push(f),
        }
    }
}

/// Decodes one direction (bytes after the 64-byte key) fed in `pieces`.
fn decode(secret: &[u8; 32], role: Role, pieces: &[&[u8]]) -> Seen {
    let mut dec = PacketDecoder::new(64);
    dec.set_candidates(candidates(secret, role));
    let mut seen = Seen::default();
    for p in pieces {
        dec.push(p);
        drain(&mut dec, &mut seen);
    }
    dec.finish();
    drain(&mut dec, &mut seen);
    seen
}

/// Deterministic pseudo-random numbers (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const COMMANDS: [&str; 10] = [
    "version",
    "verack",
    "inv",
    "tx",
    "ping",
    "pong",
    "sendaddrv2",
    "wtxidrelay",
    "addrv2",
    "madeupcmd",
];

/// Sends `n` random messages (and some decoys) from `side`; returns them.
fn chatter(s: &mut V2Session, side: Side, n: usize, rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
    let mut sent = Vec::new();
    for i in 0..n {
        if rng.below(10) == 0 {
            let len = rng.below(300) as usize;
            s.decoy(side, &vec![0xde; len]);
        }
        let command = COMMANDS[rng.below(COMMANDS.len() as u64) as usize];
        let len = if rng.below(50) == 0 {
            rng.below(70_000)
        } else {
            rng.below(400)
        } as usize;
        let payload: Vec<u8> = (0..len).map(|j| (i + j) as u8).collect();
        s.send(side, command, &payload);
        sent.push((command.to_string(), payload));
    }
    sent
}

#[test]
fn sessions_of_the_bip324_crate_decrypt_message_for_message() {
    let decoy_a: &[u8] = &[1, 2, 3];
    let decoy_b: &[u8] = &[];
    for (magic, garbage_c2s, garbage_s2c, decoys) in [
        (MAINNET, 0usize, 0usize, vec![]),
        (REGTEST, 4095, 17, vec![decoy_a]),
        (SIGNET, 1, 4095, vec![decoy_a, decoy_b]),
    ] {
        let gc: Vec<u8> = (0..garbage_c2s).map(|i| i as u8).collect();
        let gs: Vec<u8> = (0..garbage_s2c).map(|i| (i * 7) as u8).collect();
        let mut s = V2Session::new(magic, 7, &gc, &gs, &decoys, &decoys[..decoys.len().min(1)]);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let sent_c2s = chatter(&mut s, Side::Initiator, 30, &mut rng);
        let sent_s2c = chatter(&mut s, Side::Responder, 30, &mut rng);

        let keys = SessionKeys::derive(&s.secret, magic);
        assert_eq!(keys.session_id, s.session_id, "the session id Core shows");

        let c2s = decode(&s.secret, Role::Initiator, &[&s.c2s[64..]]);
        assert_eq!(c2s.findings, vec![]);
        assert_eq!(c2s.magic, Some(magic));
        assert_eq!(c2s.garbage, Some(garbage_c2s));
        assert!(c2s.version);
        assert_eq!(c2s.messages, sent_c2s);
        let s2c = decode(&s.secret, Role::Responder, &[&s.s2c[64..]]);
        assert_eq!(s2c.findings, vec![]);
        assert_eq!((s2c.magic, s2c.garbage), (Some(magic), Some(garbage_s2c)));
        assert_eq!(s2c.messages, sent_s2c);
        assert!(c2s.decoys >= decoys.len() as u64);
    }
}

#[test]
fn rekeys_are_crossed_in_both_directions() {
    let mut s = V2Session::new(MAINNET, 3, b"", b"xyz", &[], &[]);
    let mut rng = Rng(42);
    // 700 messages plus ~70 decoys: three rekeys of each cipher.
    let sent_c2s = chatter(&mut s, Side::Initiator, 700, &mut rng);
    let sent_s2c = chatter(&mut s, Side::Responder, 480, &mut rng);
    let c2s = decode(&s.secret, Role::Initiator, &[&s.c2s[64..]]);
    assert_eq!(c2s.findings, vec![]);
    assert_eq!(c2s.messages.len(), 700);
    assert_eq!(c2s.messages, sent_c2s);
    let s2c = decode(&s.secret, Role::Responder, &[&s.s2c[64..]]);
    assert_eq!(s2c.messages, sent_s2c);
    assert!(c2s.decoys + 700 > 3 * 224);
}

#[test]
fn every_split_of_a_session_decodes_the_same() {
    let decoy: &[u8] = &[9; 5];
    let mut s = V2Session::new(REGTEST, 11, &[0x42; 40], b"", &[decoy], &[]);
    let mut rng = Rng(7);
    for (i, command) in COMMANDS.iter().take(6).enumerate() {
        let len = rng.below(60) as usize;
        s.send(Side::Initiator, command, &vec![i as u8; len]);
    }
    s.decoy(Side::Initiator, &[0; 3]);
    s.send(Side::Initiator, "pong", &[1; 8]);
    let stream = &s.c2s[64..];
    let whole = decode(&s.secret, Role::Initiator, &[stream]);
    assert_eq!(whole.messages.len(), 7);
    assert_eq!(whole.decoys, 2);
    for at in 0..=stream.len() {
        let (a, b) = stream.split_at(at);
        assert_eq!(
            decode(&s.secret, Role::Initiator, &[a, b]),
            whole,
            "split at {at}"
        );
    }
    for at in (0..stream.len()).step_by(7) {
        for at2 in (at..=stream.len()).step_by(13) {
            let (a, rest) = stream.split_at(at);
            let (b, c) = rest.split_at(at2 - at);
            assert_eq!(decode(&s.secret, Role::Initiator, &[a, b, c]), whole);
        }
    }
    // One byte at a time, and random chunks over a rekeying session.
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(decode(&s.secret, Role::Initiator, &bytes), whole);
    let mut big = V2Session::new(MAINNET, 5, &[1; 4095], b"", &[], &[]);
    let sent = chatter(&mut big, Side::Initiator, 500, &mut rng);
    let stream = &big.c2s[64..];
    let mut pieces = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        let n = (1 + rng.below(3000) as usize).min(stream.len() - at);
        pieces.push(&stream[at..at + n]);
        at += n;
    }
    assert_eq!(decode(&big.secret, Role::Initiator, &pieces).messages, sent);
}

#[test]
fn a_wrong_secret_finds_no_terminator_and_a_flipped_bit_fails_its_tag() {
    let mut s = V2Session::new(MAINNET, 9, &[5; 100], b"", &[], &[]);
    s.send(Side::Initiator, "ping", &[1; 8]);
    let mut wrong = s.secret;
    wrong[0] ^= 1;
    let seen = decode(&wrong, Role::Initiator, &[&s.c2s[64..]]);
    assert_eq!(
        seen.findings,
        vec![V2Finding::HandshakeIncomplete {
            offset: 64,
            garbage: (s.c2s.len() - 64) as u64
        }]
    );
    // Tag of the ping packet (the last 16 bytes) damaged.
    let mut damaged = s.c2s.clone();
    let n = damaged.len();
    damaged[n - 3] ^= 0x10;
    let seen = decode(&s.secret, Role::Initiator, &[&damaged[64..]]);
    let ping_at = (n - (3 + 1 + 9 + 16)) as u64;
    assert_eq!(
        seen.findings,
        vec![V2Finding::BadTag {
            packet: 1,
            offset: ping_at,
            length: 9
        }]
    );
}

#[test]
fn packets_sealed_by_our_encoder_are_opened_by_the_bip324_responder() {
    use bip324::{GarbageResult, Handshake, Initialized, VersionResult};
    use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey, ellswift};
    let secp = Secp256k1::new();
    let sk = SecretKey::from_slice(&[0x21; 32]).unwrap();
    let ours = ellswift::ElligatorSwift::from_pubkey(PublicKey::from_secret_key(&secp, &sk));
    let responder = Handshake::<Initialized>::new(REGTEST, bip324::Role::Responder).unwrap();
    let mut their_key = vec![0u8; 64];
    let responder = responder.send_key(None, &mut their_key).unwrap();
    let responder = responder.receive_key(ours.to_array()).unwrap();
    let mut their_version = vec![0u8; 36];
    let responder = responder.send_version(&mut their_version, None).unwrap();
    let theirs = ellswift::ElligatorSwift::from_array(their_key[..64].try_into().unwrap());
    let secret = ellswift::ElligatorSwift::shared_secret(
        ours,
        theirs,
        sk,
        ellswift::ElligatorSwiftParty::A,
        Some(b"bip324_ellswift_xonly_ecdh"),
    )
    .to_secret_bytes();

    let keys = SessionKeys::derive(&secret, REGTEST);
    let send = keys.sent_by(Role::Initiator);
    let garbage = [0x33u8; 70];
    let mut enc = PacketEncoder::new(send, &garbage);
    let mut wire = garbage.to_vec();
    wire.extend_from_slice(&send.terminator);
    enc.packet(true, &[7; 10], &mut wire).unwrap();
    enc.version(&mut wire);
    let mut sent = Vec::new();
    for i in 0..300u32 {
        let command = COMMANDS[i as usize % COMMANDS.len()];
        let payload = i.to_le_bytes().repeat(i as usize % 5);
        enc.message(command, &payload, &mut wire).unwrap();
        sent.push(v2session::contents(command, &payload));
    }

    let (mut hs, consumed) = match responder.receive_garbage(&wire).unwrap() {
        GarbageResult::FoundGarbage {
            handshake,
            consumed_bytes,
        } => (handshake, consumed_bytes),
        GarbageResult::NeedMoreData(_) => panic!("terminator not found"),
    };
    assert_eq!(consumed, garbage.len() + 16);
    let mut rest = &wire[consumed..];
    let mut cipher = loop {
        let len = hs
            .decrypt_packet_len(rest[..3].try_into().unwrap())
            .unwrap();
        let mut packet = rest[3..3 + len].to_vec();
        rest = &rest[3 + len..];
        match hs.receive_version(&mut packet).unwrap() {
            VersionResult::Complete { cipher } => break cipher,
            VersionResult::Decoy(next) => hs = next,
        }
    };
    assert_eq!(cipher.id(), &keys.session_id);
    let mut opened = Vec::new();
    while !rest.is_empty() {
        let inbound = cipher.inbound();
        let len = inbound.decrypt_packet_len(rest[..3].try_into().unwrap());
        let (_, plain) = inbound.decrypt_to_vec(&rest[3..3 + len], None).unwrap();
        opened.push(plain[1..].to_vec());
        rest = &rest[3 + len..];
    }
    assert_eq!(opened, sent);
}
