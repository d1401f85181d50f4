//! The BIP324 packet decoder on hostile input, two ways (first byte):
//! - raw: arbitrary bytes after a correct terminator are taken as
//!   ciphertext (lying lengths, failing tags) or, without it, as garbage;
//! - scripted: the input drives an encoder (messages, decoys, garbage,
//!   bit flips, junk, gaps); without damage every message must come back
//!   exactly as sent, in any chunking.
//!
//! Always: no panic, a bounded buffer, and decryption that stops never
//! starts again.
use btcsniff::p2p::v2::{
    Candidate, PacketDecoder, PacketEncoder, Role, SessionKeys, V2Event, V2Finding,
};

/// One packet (<= 4,000,033 bytes) or the bytes held without keys, plus the
/// largest chunk this body pushes at once.
const MAX_BUFFER: usize = 2 * (4_000_033 + 64 * 1024);

const SECRET: [u8; 32] = [0x5a; 32];
const MAGICS: [[u8; 4]; 2] = [[0xf9, 0xbe, 0xb4, 0xd9], [0xfa, 0xbf, 0xb5, 0xda]];
const COMMANDS: [&str; 6] = ["inv", "ping", "version", "sendaddrv2", "tx", "x"];

fn candidates() -> Vec<Candidate> {
    MAGICS
        .iter()
        .map(|&magic| Candidate {
            magic,
            keys: SessionKeys::derive(&SECRET, magic)
                .sent_by(Role::Initiator)
                .clone(),
        })
        .collect()
}

/// What came out of the decoder.
#[derive(Debug, Default, PartialEq)]
struct Out {
    messages: Vec<(String, Vec<u8>)>,
    findings: Vec<V2Finding>,
    decoys: u64,
}

fn drain(dec: &mut PacketDecoder, out: &mut Out) {
    while let Some(ev) = dec.next_event() {
        match ev {
            V2Event::Message(m) => out.messages.push((
                String::from_utf8_lossy(m.command.as_bytes()).into_owned(),
                m.payload.to_vec(),
            )),
            V2Event::Finding(f) => out.findings.push(f),
            V2Event::Decoy { .. } => out.decoys += 1,
            V2Event::Terminator { .. } | V2Event::Version { .. } => {}
        }
    }
}

/// Feeds `stream` in chunks of 1..=64 (or larger) bytes chosen by `seed`,
/// with gaps at `gaps` (offsets in the stream).
fn decode(stream: &[u8], seed: u8, gaps: &[usize], keys_late: bool) -> Out {
    let mut dec = PacketDecoder::new(64);
    if !keys_late {
        dec.set_candidates(candidates());
    }
    let mut out = Out::default();
    let chunk = if seed & 0x40 != 0 {
        usize::from(seed) * 97 + 1
    } else {
        usize::from(seed % 64) + 1
    };
    let mut at = 0;
    let mut stopped = false;
    while at < stream.len() {
        let end = (at + chunk).min(stream.len());
        let end = gaps
            .iter()
            .copied()
            .find(|&g| g > at && g < end)
            .unwrap_or(end);
        dec.push(&stream[at..end]);
        drain(&mut dec, &mut out);
        if gaps.contains(&end) {
            dec.gap(u64::from(seed) + 1);
        }
        assert!(dec.capacity() <= MAX_BUFFER, "capacity {}", dec.capacity());
        if stopped {
            assert!(dec.stopped_at().is_some(), "decryption started again");
        }
        stopped = dec.stopped_at().is_some();
        at = end;
    }
    if keys_late {
        dec.set_candidates(candidates());
        drain(&mut dec, &mut out);
    }
    dec.finish();
    drain(&mut dec, &mut out);
    out
}

/// One fuzz input (shared by the fuzz target and the regression test).
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let seed = rest.first().copied().unwrap_or(0);
    if mode & 1 == 0 {
        // Raw: arbitrary bytes, after a real terminator when bit 1 is set.
        let mut stream = Vec::new();
        if mode & 2 != 0 {
            let keys = SessionKeys::derive(&SECRET, MAGICS[usize::from(mode >> 7)]);
            stream.extend_from_slice(&keys.sent_by(Role::Initiator).terminator);
        }
        stream.extend_from_slice(rest);
        decode(&stream, seed, &[], mode & 4 != 0);
        return;
    }
    // Scripted: build a direction with the encoder.
    let keys = SessionKeys::derive(&SECRET, MAGICS[usize::from(mode >> 7)]);
    let send = keys.sent_by(Role::Initiator);
    let mut ops = rest.iter().copied();
    let garbage_len = usize::from(ops.next().unwrap_or(0)) * 16;
    let garbage = vec![0x47u8; garbage_len];
    let mut enc = PacketEncoder::new(send, &garbage);
    let mut stream = garbage.clone();
    stream.extend_from_slice(&send.terminator);
    enc.version(&mut stream);
    let mut sent = Vec::new();
    let mut damaged = false;
    let mut gaps = Vec::new();
    while let Some(op) = ops.next() {
        let arg = ops.next().unwrap_or(0);
        match op % 6 {
            0 | 1 => {
                let command = COMMANDS[usize::from(arg) % COMMANDS.len()];
                let payload: Vec<u8> = (0..usize::from(arg) * 3).map(|i| i as u8).collect();
                enc.message(command, &payload, &mut stream).expect("fits");
                sent.push((command.to_string(), payload));
            }
            2 => enc
                .packet(true, &vec![arg; usize::from(arg)], &mut stream)
                .expect("fits"),
            3 => {
                let len = stream.len();
                if len > 0 {
                    stream[usize::from(arg) * 31 % len] ^= 1 << (arg % 8);
                    damaged = true;
                }
            }
            4 => {
                stream.extend(std::iter::repeat_n(arg, usize::from(arg)));
                damaged = true;
            }
            _ => {
                gaps.push(stream.len() / 2 + usize::from(arg));
                damaged = true;
            }
        }
    }
    let out = decode(&stream, seed, &gaps, mode & 2 != 0);
    if !damaged {
        assert_eq!(out.findings, vec![], "clean stream");
        assert_eq!(out.messages, sent);
    } else {
        // A flipped bit fails its packet's tag, junk and gaps stop the
        // direction: what was decrypted is a prefix of what was sent (a
        // flip inside the garbage fails the first packet).
        assert!(
            sent.starts_with(&out.messages),
            "not a prefix of what was sent"
        );
    }
}
