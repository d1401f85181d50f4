//! Decrypt throughput of the BIP324 v2 codec against v1 framing on the
//! same traffic.
//!
//! ```text
//! cargo run --release --example v2bench -- [MEGABYTES [OUT_DIR]]
//! ```
//!
//! Builds one direction's worth of messages (inv of 1 to 50,000 items:
//! about MEGABYTES of payload), frames them once as v1 (header and
//! checksum) and once as a v2 session (garbage, terminator, version
//! packet, one packet per message, decoys), then decodes each in memory,
//! fed in 64 KiB pieces, and prints MB/s of stream bytes (best of 5). The
//! v1 side computes every checksum (double SHA-256), the v2 side every
//! ChaCha20-Poly1305 tag and decryption (plus its length cipher).
//!
//! With OUT_DIR, also writes v1.pcap, v2.pcap and v2.keys (one TCP flow
//! each, same messages), to time the whole tool:
//! `btcsniff read OUT/v2.pcap --keylog OUT/v2.keys --format json >/dev/null`.

#[path = "../tests/support/mod.rs"]
mod support;

use btcsniff::p2p::frame::{FrameDecoder, FrameEvent};
use btcsniff::p2p::v2::{
    Candidate, KeyLogEntry, PacketDecoder, PacketEncoder, Role, SessionKeys, V2Event,
};
use std::time::Instant;

const MAGIC: [u8; 4] = support::MAINNET;
const CHUNK: usize = 64 * 1024;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// inv payloads: mostly small, some of 50,000 items (1.8 MB).
fn payloads(megabytes: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut out = Vec::new();
    let mut total = 0;
    while total < megabytes * 1_000_000 {
        let items: u32 = if rng.next().is_multiple_of(20) {
            50_000
        } else {
            1 + (rng.next() % 500) as u32
        };
        let mut p = Vec::with_capacity(5 + items as usize * 36);
        if items < 0xfd {
            p.push(items as u8);
        } else {
            p.push(0xfe);
            p.extend_from_slice(&items.to_le_bytes());
        }
        for _ in 0..items {
            p.extend_from_slice(&1u32.to_le_bytes());
            for _ in 0..4 {
                p.extend_from_slice(&rng.next().to_le_bytes());
            }
        }
        total += p.len();
        out.push(p);
    }
    out
}

fn best_of(runs: usize, bytes: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut count = 0;
    for _ in 0..runs {
        let start = Instant::now();
        count = f();
        best = best.min(start.elapsed().as_secs_f64());
    }
    (bytes as f64 / 1e6 / best, count)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let megabytes: usize = args.first().map_or(256, |a| a.parse().expect("MEGABYTES"));
    let out_dir = args.get(1).map(std::path::PathBuf::from);
    let messages = payloads(megabytes);

    let mut v1 = Vec::new();
    for p in &messages {
        v1.extend_from_slice(&support::frame(MAGIC, "inv", p));
    }

    // v2: any 64 bytes stand for the initiator's key (the key log maps it
    // to the secret; nothing checks the curve point).
    let key = [0x8fu8; 64];
    let secret = [0x42u8; 32];
    let keys = SessionKeys::derive(&secret, MAGIC);
    let send = keys.sent_by(Role::Initiator);
    let garbage = vec![0x17u8; 1000];
    let mut enc = PacketEncoder::new(send, &garbage);
    let mut v2 = key.to_vec();
    v2.extend_from_slice(&garbage);
    v2.extend_from_slice(&send.terminator);
    enc.version(&mut v2);
    for (i, p) in messages.iter().enumerate() {
        if i % 50 == 0 {
            enc.packet(true, &[0; 100], &mut v2).expect("decoy");
        }
        enc.message("inv", p, &mut v2).expect("inv fits");
    }

    let (v1_mbs, v1_count) = best_of(5, v1.len(), || {
        let mut dec = FrameDecoder::new();
        let mut n = 0;
        for piece in v1.chunks(CHUNK) {
            dec.feed(piece, |ev| {
                if let FrameEvent::Frame(_) = ev {
                    n += 1;
                }
            });
        }
        n
    });
    let candidates: Vec<Candidate> = btcsniff::p2p::Network::KNOWN
        .iter()
        .map(|n| Candidate {
            magic: n.magic(),
            keys: SessionKeys::derive(&secret, n.magic())
                .sent_by(Role::Initiator)
                .clone(),
        })
        .collect();
    let (v2_mbs, v2_count) = best_of(5, v2.len(), || {
        let mut dec = PacketDecoder::new(64);
        dec.set_candidates(candidates.clone());
        let mut n = 0;
        for piece in v2[64..].chunks(CHUNK) {
            dec.feed(piece, |ev| {
                if let V2Event::Message(_) = ev {
                    n += 1;
                }
            });
        }
        n
    });
    assert_eq!(v1_count, messages.len());
    assert_eq!(v2_count, messages.len());
    println!(
        "{} messages, {:.1} MB payload; v1 stream {:.1} MB, v2 stream {:.1} MB",
        messages.len(),
        messages.iter().map(Vec::len).sum::<usize>() as f64 / 1e6,
        v1.len() as f64 / 1e6,
        v2.len() as f64 / 1e6
    );
    println!("v1 framing (checksums):          {v1_mbs:8.1} MB/s");
    println!("v2 decryption (ChaCha20-Poly1305): {v2_mbs:6.1} MB/s");

    if let Some(dir) = out_dir {
        std::fs::create_dir_all(&dir).expect("create OUT_DIR");
        let mut pcap = support::PcapStream::create(&dir.join("v1.pcap"));
        let mut conn = support::Conn::new("10.1.0.1:50000", "10.1.0.2:8333");
        conn.handshake(&mut pcap);
        conn.c2s(&mut pcap, &v1);
        conn.close(&mut pcap);
        pcap.finish();
        let mut pcap = support::PcapStream::create(&dir.join("v2.pcap"));
        let mut conn = support::Conn::new("10.1.0.1:50001", "10.1.0.2:8333");
        conn.handshake(&mut pcap);
        conn.c2s(&mut pcap, &v2[..64 + garbage.len()]);
        // The responder: its key, terminator and version packet.
        let theirs = keys.sent_by(Role::Responder);
        let mut reply = vec![0x3cu8; 64];
        reply.extend_from_slice(&theirs.terminator);
        PacketEncoder::new(theirs, &[]).version(&mut reply);
        conn.s2c(&mut pcap, &reply);
        conn.c2s(&mut pcap, &v2[64 + garbage.len()..]);
        conn.close(&mut pcap);
        pcap.finish();
        let entry = KeyLogEntry {
            initiator_key: key,
            shared_secret: secret,
        };
        std::fs::write(dir.join("v2.keys"), entry.to_line()).expect("write key log");
        println!("wrote {}/v1.pcap, v2.pcap, v2.keys", dir.display());
    }
}
