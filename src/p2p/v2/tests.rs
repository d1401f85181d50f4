//! BIP-0324's published vectors (tests/data/bip324), and the decoder's
//! rules on sessions built with the encoder.

use super::*;
use crate::p2p::Network;

const VECTORS: &str = include_str!("../../../tests/data/bip324/packet_encoding_test_vectors.csv");

struct Row(std::collections::HashMap<String, String>);

impl Row {
    fn hex(&self, name: &str) -> Vec<u8> {
        hex::decode(&self.0[name]).unwrap()
    }
    fn array<const N: usize>(&self, name: &str) -> [u8; N] {
        self.hex(name).try_into().unwrap()
    }
    fn int(&self, name: &str) -> u64 {
        self.0[name].parse().unwrap()
    }
}

fn rows() -> Vec<Row> {
    let mut lines = VECTORS.lines();
    let names: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Row> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let values: Vec<&str> = l.split(',').collect();
            assert_eq!(values.len(), names.len());
            Row(names
                .iter()
                .zip(values)
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect())
        })
        .collect();
    assert_eq!(rows.len(), 7, "the published file has 7 vectors");
    rows
}

fn role(row: &Row) -> Role {
    if row.int("in_initiating") == 1 {
        Role::Initiator
    } else {
        Role::Responder
    }
}

#[test]
fn key_derivation_matches_the_published_vectors() {
    for row in rows() {
        let keys = SessionKeys::derive(&row.array("mid_shared_secret"), Network::Mainnet.magic());
        assert_eq!(keys.initiator.length_key, row.array("mid_initiator_l"));
        assert_eq!(keys.initiator.packet_key, row.array("mid_initiator_p"));
        assert_eq!(keys.responder.length_key, row.array("mid_responder_l"));
        assert_eq!(keys.responder.packet_key, row.array("mid_responder_p"));
        let role = role(&row);
        assert_eq!(
            keys.sent_by(role).terminator,
            row.array("mid_send_garbage_terminator")
        );
        assert_eq!(
            keys.sent_by(role.other()).terminator,
            row.array("mid_recv_garbage_terminator")
        );
        assert_eq!(keys.session_id, row.array("out_session_id"));
        assert_eq!(keys.session_id_hex(), row.0["out_session_id"]);
    }
}

/// The reference's v2_enc_packet on our ciphers.
fn seal(
    length: &mut LengthCipher,
    packet: &mut PacketCipher,
    contents: &[u8],
    aad: &[u8],
    ignore: bool,
) -> Vec<u8> {
    let mut text = vec![if ignore { IGNORE_BIT } else { 0 }];
    text.extend_from_slice(contents);
    let tag = packet.encrypt(aad, &mut text);
    let mut len = [0u8; 3];
    len.copy_from_slice(&(contents.len() as u32).to_le_bytes()[..3]);
    length.crypt(&mut len);
    [&len[..], &text, &tag].concat()
}

#[test]
fn packet_encryption_matches_the_published_vectors() {
    for row in rows() {
        let keys = SessionKeys::derive(&row.array("mid_shared_secret"), Network::Mainnet.magic());
        let send = keys.sent_by(role(&row));
        let mut length = LengthCipher::new(send.length_key);
        let mut packet = PacketCipher::new(send.packet_key);
        for _ in 0..row.int("in_idx") {
            seal(&mut length, &mut packet, &[], &[], false);
        }
        let contents = row
            .hex("in_contents")
            .repeat(row.int("in_multiply") as usize);
        let ciphertext = seal(
            &mut length,
            &mut packet,
            &contents,
            &row.hex("in_aad"),
            row.int("in_ignore") == 1,
        );
        let full = row.hex("out_ciphertext");
        if !full.is_empty() {
            assert_eq!(ciphertext, full, "in_idx {}", row.int("in_idx"));
        }
        let tail = row.hex("out_ciphertext_endswith");
        assert!(ciphertext.ends_with(&tail), "in_idx {}", row.int("in_idx"));
    }
}

#[test]
fn packet_decryption_of_the_published_vectors() {
    for row in rows()
        .into_iter()
        .filter(|r| !r.0["out_ciphertext"].is_empty())
    {
        let keys = SessionKeys::derive(&row.array("mid_shared_secret"), Network::Mainnet.magic());
        let send = keys.sent_by(role(&row));
        // Bring the receiving ciphers to packet in_idx with the encoder's.
        let mut length = LengthCipher::new(send.length_key);
        let mut packet = PacketCipher::new(send.packet_key);
        let (mut tx_length, mut tx_packet) = (
            LengthCipher::new(send.length_key),
            PacketCipher::new(send.packet_key),
        );
        for _ in 0..row.int("in_idx") {
            let sealed = seal(&mut tx_length, &mut tx_packet, &[], &[], false);
            let mut len: [u8; 3] = sealed[..3].try_into().unwrap();
            length.crypt(&mut len);
            let (mut text, tag) = (sealed[3..4].to_vec(), &sealed[4..]);
            packet
                .decrypt(&[], &mut text, tag.try_into().unwrap())
                .unwrap();
        }
        let ciphertext = row.hex("out_ciphertext");
        let mut len: [u8; 3] = ciphertext[..3].try_into().unwrap();
        length.crypt(&mut len);
        let n = u32::from_le_bytes([len[0], len[1], len[2], 0]) as usize;
        let contents = row
            .hex("in_contents")
            .repeat(row.int("in_multiply") as usize);
        assert_eq!(n, contents.len());
        let mut text = ciphertext[3..4 + n].to_vec();
        let tag: [u8; 16] = ciphertext[4 + n..].try_into().unwrap();
        let aad = row.hex("in_aad");
        let mut wrong = text.clone();
        let mut other = PacketCipher::new(send.packet_key);
        assert_eq!(
            other.decrypt(b"not the garbage", &mut wrong, &tag),
            Err(TagMismatch)
        );
        packet.decrypt(&aad, &mut text, &tag).unwrap();
        assert_eq!(text[0] & IGNORE_BIT != 0, row.int("in_ignore") == 1);
        assert_eq!(&text[1..], &contents[..]);
    }
}

#[test]
fn short_ids_follow_bip324() {
    assert_eq!(message_type::command_of_short_id(1), Some("addr"));
    assert_eq!(message_type::command_of_short_id(14), Some("inv"));
    assert_eq!(message_type::command_of_short_id(28), Some("addrv2"));
    assert_eq!(message_type::command_of_short_id(0), None);
    assert_eq!(message_type::command_of_short_id(29), None);
    for id in 1..=28u8 {
        let c = message_type::command_of_short_id(id).unwrap();
        assert_eq!(message_type::short_id_of(c), Some(id));
    }
    assert_eq!(message_type::short_id_of("version"), None);
}

#[test]
fn message_types_split_like_core() {
    use message_type::split_contents;
    let (c, t, p) = split_contents(&[14, 1, 2]).unwrap();
    assert_eq!(
        (c.as_str(), t, p),
        (Some("inv"), MessageType::ShortId(14), &[1u8, 2][..])
    );
    let mut long = vec![0u8];
    long.extend_from_slice(b"version\0\0\0\0\0");
    long.push(7);
    let (c, t, p) = split_contents(&long).unwrap();
    assert_eq!(
        (c.as_str(), t, p),
        (Some("version"), MessageType::Long, &[7u8][..])
    );
    assert_eq!(split_contents(&[]), Err(TypeError::Empty));
    assert_eq!(split_contents(&[29]), Err(TypeError::UnknownShortId(29)));
    assert_eq!(
        split_contents(&[0, b'a', b'b']),
        Err(TypeError::LongTooShort { bytes: 2 })
    );
    let mut bad = vec![0u8];
    bad.extend_from_slice(b"ver\0sion\0\0\0\0");
    assert_eq!(split_contents(&bad), Err(TypeError::LongInvalid));
    let mut bad = vec![0u8];
    bad.extend_from_slice(b"ver\x01\0\0\0\0\0\0\0\0");
    assert_eq!(split_contents(&bad), Err(TypeError::LongInvalid));
}

// ---- The decoder on sessions built with the encoder ----

const SECRET: [u8; 32] = [7u8; 32];

/// One direction as the initiator sends it after its key: garbage,
/// terminator, decoys, version packet, then messages.
fn direction(
    magic: [u8; 4],
    garbage: &[u8],
    decoys_before_version: usize,
    messages: &[(&str, Vec<u8>)],
) -> Vec<u8> {
    let keys = SessionKeys::derive(&SECRET, magic);
    let send = keys.sent_by(Role::Initiator);
    let mut enc = PacketEncoder::new(send, garbage);
    let mut out = garbage.to_vec();
    out.extend_from_slice(&send.terminator);
    for i in 0..decoys_before_version {
        enc.packet(true, &vec![0xaa; i], &mut out).unwrap();
    }
    enc.version(&mut out);
    for (command, payload) in messages {
        enc.message(command, payload, &mut out).unwrap();
    }
    out
}

fn candidates(role: Role) -> Vec<Candidate> {
    Network::KNOWN
        .iter()
        .map(|n| Candidate {
            magic: n.magic(),
            keys: SessionKeys::derive(&SECRET, n.magic())
                .sent_by(role)
                .clone(),
        })
        .collect()
}

#[derive(Debug, PartialEq)]
enum Ev {
    Terminator(usize, usize),
    Decoy(u64),
    Version,
    Message(String, MessageType, Vec<u8>),
    Finding(V2Finding),
}

fn events(dec: &mut PacketDecoder, out: &mut Vec<Ev>) {
    while let Some(ev) = dec.next_event() {
        out.push(match ev {
            V2Event::Terminator {
                candidate,
                garbage_len,
                ..
            } => Ev::Terminator(candidate, garbage_len),
            V2Event::Decoy { packet, .. } => Ev::Decoy(packet),
            V2Event::Version { .. } => Ev::Version,
            V2Event::Message(m) => Ev::Message(
                m.command.as_str().unwrap().to_string(),
                m.message_type,
                m.payload.to_vec(),
            ),
            V2Event::Finding(f) => Ev::Finding(f),
        });
    }
}

fn decode_in_chunks(stream: &[u8], chunk: usize, role: Role) -> Vec<Ev> {
    let mut dec = PacketDecoder::new(64);
    dec.set_candidates(candidates(role));
    let mut out = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        dec.push(piece);
        events(&mut dec, &mut out);
    }
    dec.finish();
    events(&mut dec, &mut out);
    out
}

#[test]
fn a_session_decodes_the_same_in_every_chunking_and_finds_its_network() {
    let messages = vec![
        ("version", vec![1u8; 100]),
        ("verack", vec![]),
        ("inv", vec![1, 1, 0, 0, 0]),
        ("sendtxrcncl", vec![0; 12]),
    ];
    let stream = direction(Network::Regtest.magic(), b"some garbage", 2, &messages);
    let whole = decode_in_chunks(&stream, stream.len(), Role::Initiator);
    assert_eq!(whole[0], Ev::Terminator(4, 12), "regtest is candidate 4");
    assert_eq!(&whole[1..4], &[Ev::Decoy(0), Ev::Decoy(1), Ev::Version]);
    assert_eq!(
        whole[4],
        Ev::Message("version".into(), MessageType::Long, vec![1u8; 100])
    );
    assert_eq!(
        whole[6],
        Ev::Message("inv".into(), MessageType::ShortId(14), vec![1, 1, 0, 0, 0])
    );
    assert_eq!(whole.len(), 8);
    for chunk in [1, 2, 3, 7, 16, 19, 64, 333] {
        assert_eq!(
            decode_in_chunks(&stream, chunk, Role::Initiator),
            whole,
            "chunk {chunk}"
        );
    }
}

#[test]
fn the_wrong_direction_keys_find_no_terminator() {
    let stream = direction(Network::Mainnet.magic(), &[0x55; 4095], 0, &[]);
    let evs = decode_in_chunks(&stream, 1000, Role::Responder);
    assert_eq!(
        evs,
        vec![Ev::Finding(V2Finding::NoTerminator {
            offset: 64,
            searched: 4111,
            candidates: 5
        })]
    );
}

#[test]
fn a_corrupted_tag_stops_the_direction_with_its_packet_and_offset() {
    let stream = direction(Network::Mainnet.magic(), b"", 0, &[("ping", vec![0; 8])]);
    // terminator (16) + version packet (20) + ping packet (1 + 8 + 20 = 29)
    let mut bad = stream.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let evs = decode_in_chunks(&bad, 5, Role::Initiator);
    assert_eq!(
        evs.last(),
        Some(&Ev::Finding(V2Finding::BadTag {
            packet: 1,
            offset: 64 + 16 + 20,
            length: 9
        }))
    );
}

#[test]
fn a_lying_length_is_refused_without_buffering_it() {
    let keys = SessionKeys::derive(&SECRET, Network::Mainnet.magic());
    let send = keys.sent_by(Role::Initiator);
    let mut out = send.terminator.to_vec();
    // A length of 16 MB - 1, encrypted as the sender would.
    let mut len = [0xff, 0xff, 0xff];
    LengthCipher::new(send.length_key).crypt(&mut len);
    out.extend_from_slice(&len);
    out.extend_from_slice(&[0u8; 1000]);
    let mut dec = PacketDecoder::new(64);
    dec.set_candidates(candidates(Role::Initiator));
    let mut evs = Vec::new();
    dec.push(&out);
    events(&mut dec, &mut evs);
    dec.push(&[0u8; 100_000]);
    events(&mut dec, &mut evs);
    assert_eq!(
        evs,
        vec![
            Ev::Terminator(0, 0),
            Ev::Finding(V2Finding::OversizeLength {
                packet: 0,
                offset: 64 + 16,
                length: 0xff_ffff,
                limit: MAX_CONTENTS_LEN
            })
        ]
    );
    assert!(dec.capacity() < 200_000, "capacity {}", dec.capacity());
    assert_eq!(dec.stopped_at(), Some(64 + 16));
    assert_eq!(dec.ignored_bytes(), 1003 + 100_000);
}

#[test]
fn the_first_packet_authenticates_the_garbage() {
    let mut stream = direction(Network::Mainnet.magic(), b"0123456789", 0, &[]);
    stream[3] ^= 0x20; // one garbage byte changed: the version packet's tag fails
    let evs = decode_in_chunks(&stream, 4, Role::Initiator);
    assert_eq!(
        evs,
        vec![
            Ev::Terminator(0, 10),
            Ev::Finding(V2Finding::BadTag {
                packet: 0,
                offset: 64 + 10 + 16,
                length: 0
            })
        ]
    );
}

#[test]
fn a_gap_stops_the_direction_from_the_cut_packet() {
    let stream = direction(
        Network::Mainnet.magic(),
        b"",
        0,
        &[("ping", vec![1; 8]), ("pong", vec![2; 8])],
    );
    // Cut inside the ping packet (which starts at 16 + 20).
    let cut = 16 + 20 + 5;
    let mut dec = PacketDecoder::new(64);
    dec.set_candidates(candidates(Role::Initiator));
    let mut evs = Vec::new();
    dec.push(&stream[..cut]);
    events(&mut dec, &mut evs);
    dec.gap(10);
    events(&mut dec, &mut evs);
    dec.push(&stream[cut + 10..]);
    dec.finish();
    events(&mut dec, &mut evs);
    assert_eq!(
        evs.last(),
        Some(&Ev::Finding(V2Finding::Gap {
            packet: 1,
            offset: 64 + 36,
            gap_at: 64 + cut as u64,
            bytes: 10
        }))
    );
    assert_eq!(dec.stopped_at(), Some(64 + 36));
    assert_eq!(
        dec.ignored_bytes(),
        5 + (stream.len() - cut - 10) as u64,
        "the cut packet's captured bytes and everything after the gap"
    );
}

#[test]
fn the_end_inside_a_packet_is_truncated_and_an_unfinished_garbage_is_reported() {
    let stream = direction(Network::Mainnet.magic(), b"", 0, &[("ping", vec![1; 8])]);
    let evs = decode_in_chunks(&stream[..stream.len() - 4], 3, Role::Initiator);
    assert_eq!(
        evs.last(),
        Some(&Ev::Finding(V2Finding::Truncated {
            packet: 1,
            offset: 64 + 36,
            have: 25,
            needed: 29
        }))
    );
    let evs = decode_in_chunks(&[9u8; 100], 3, Role::Initiator);
    assert_eq!(
        evs,
        vec![Ev::Finding(V2Finding::HandshakeIncomplete {
            offset: 64,
            garbage: 100
        })]
    );
}

#[test]
fn keys_given_late_still_decrypt_what_was_buffered() {
    let stream = direction(Network::Signet.magic(), b"g", 0, &[("pong", vec![3; 8])]);
    let mut dec = PacketDecoder::new(64);
    let mut evs = Vec::new();
    dec.push(&stream);
    events(&mut dec, &mut evs);
    assert!(evs.is_empty());
    dec.set_candidates(candidates(Role::Initiator));
    events(&mut dec, &mut evs);
    assert_eq!(
        evs,
        vec![
            Ev::Terminator(3, 1),
            Ev::Version,
            Ev::Message("pong".into(), MessageType::ShortId(19), vec![3; 8])
        ]
    );
}

#[test]
fn without_keys_only_a_bounded_amount_is_held() {
    let mut dec = PacketDecoder::new(64);
    let mut evs = Vec::new();
    for _ in 0..20 {
        dec.push(&[0u8; 16 * 1024]);
        events(&mut dec, &mut evs);
    }
    assert_eq!(
        evs,
        vec![Ev::Finding(V2Finding::KeysTooLate {
            offset: 64,
            buffered: 17 * 16 * 1024
        })]
    );
    assert!(dec.capacity() <= 2 * decoder::MAX_BUFFERED_WITHOUT_KEYS);
}

#[test]
fn rekeying_is_crossed_in_both_ciphers() {
    let messages: Vec<(&str, Vec<u8>)> = (0..500u32)
        .map(|i| ("ping", u64::from(i).to_le_bytes().to_vec()))
        .collect();
    let stream = direction(Network::Mainnet.magic(), b"", 0, &messages);
    let evs = decode_in_chunks(&stream, 977, Role::Initiator);
    let pings: Vec<&Ev> = evs
        .iter()
        .filter(|e| matches!(e, Ev::Message(..)))
        .collect();
    assert_eq!(pings.len(), 500);
    assert_eq!(
        *pings[499],
        Ev::Message(
            "ping".into(),
            MessageType::ShortId(18),
            499u64.to_le_bytes().to_vec()
        )
    );
}

#[test]
fn key_log_lines() {
    use keylog::{Line, parse_line};
    let key = "ab".repeat(64);
    let secret = "CD".repeat(32);
    let Line::Entry(e) = parse_line(format!("BIP324 {key} {secret}\r").as_bytes()) else {
        panic!("not an entry");
    };
    assert_eq!(e.initiator_key, [0xab; 64]);
    assert_eq!(e.shared_secret, [0xcd; 32]);
    assert_eq!(
        parse_line(e.to_line().trim_end().as_bytes()),
        Line::Entry(e)
    );
    assert_eq!(parse_line(b"  # comment"), Line::Skipped);
    assert_eq!(parse_line(b""), Line::Skipped);
    assert_eq!(parse_line(b"CLIENT_RANDOM aa bb"), Line::Other);
    assert_eq!(parse_line(b"\xff\xfe"), Line::Other);
    assert_eq!(
        parse_line(format!("BIP324 {key}").as_bytes()),
        Line::Malformed
    );
    assert_eq!(
        parse_line(format!("BIP324 {key} {secret} extra").as_bytes()),
        Line::Malformed
    );
    assert_eq!(
        parse_line(format!("BIP324 {} {secret}", &key[2..]).as_bytes()),
        Line::Malformed
    );
}

#[test]
fn a_key_log_read_in_any_chunks() {
    let key = "01".repeat(64);
    let secret = "02".repeat(32);
    let text = format!(
        "# btcsniff key log\n\nCLIENT_RANDOM x y\nBIP324 {key} {secret}\nBIP324 zz {secret}\n{}\nBIP324 {} {secret}",
        "x".repeat(5000),
        "03".repeat(64)
    );
    let whole = KeyLog::parse(text.as_bytes());
    assert_eq!(whole.len(), 2);
    assert_eq!(whole.get(&[1; 64]), Some(&[2; 32]));
    assert_eq!(whole.get(&[3; 64]), Some(&[2; 32]));
    assert_eq!((whole.other_lines, whole.malformed_lines), (2, 1));
    assert_eq!(whole.first_malformed_line, Some(5));
    for chunk in [1, 2, 7, 100] {
        let mut log = KeyLog::new();
        for piece in text.as_bytes().chunks(chunk) {
            log.push(piece);
            assert!(log.pending_bytes() <= keylog::MAX_LINE_LEN);
        }
        assert_eq!(log.len(), 1, "the last line waits for its newline");
        log.finish();
        assert_eq!(
            (log.len(), log.other_lines, log.malformed_lines, log.lines),
            (2, 2, 1, 7)
        );
    }
    assert_eq!(
        whole.summary(),
        "2 BIP324 session keys, 2 other lines ignored, 1 malformed BIP324 line (first: line 5)"
    );
}
