//! The hashing limit of the throughput benchmark (bench/run.sh): times the
//! `sha2` crate's plain API (`Sha256::digest` twice: not btcsniff's own
//! code, so the limit is not defined by what it measures), in memory, over as many bytes as btcsniff's default output
//! must hash for a generated capture (every payload for its checksum, every
//! transaction's non-witness bytes for its txid), in chunks of the
//! capture's average message and transaction sizes.
//!
//! `hashlimit FILE.pcap.json` prints `{"seconds":..,"bytes":..}`: the median
//! of three runs.

use sha2::{Digest, Sha256};
use std::time::Instant;

/// Average non-witness transaction size assumed when the sidecar does not
/// say how many txids were counted.
const DEFAULT_TX_BYTES: u64 = 250;

/// Hashes `total` bytes in chunks of `chunk` bytes taken from `buf`.
fn hash_bytes(buf: &[u8], total: u64, chunk: usize) -> u8 {
    let chunk = chunk.clamp(1, buf.len());
    let mut done = 0u64;
    let mut offset = 0usize;
    let mut acc = 0u8;
    while done < total {
        let n = chunk.min(usize::try_from(total - done).unwrap_or(chunk));
        if offset + n > buf.len() {
            offset = 0;
        }
        acc ^= Sha256::digest(Sha256::digest(&buf[offset..offset + n]))[0];
        offset += n;
        done += n as u64;
    }
    acc
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: hashlimit FILE.pcap.json");
    let text = std::fs::read_to_string(&path).expect("read sidecar");
    let side: serde_json::Value = serde_json::from_str(&text).expect("sidecar JSON");
    let get = |k: &str| side.get(k).and_then(|v| v.as_u64());
    let payload = get("payload_bytes").expect("payload_bytes");
    let messages = get("messages").expect("messages").max(1);
    let txid_bytes = get("txid_bytes").unwrap_or(0);
    let txids = get("txids").unwrap_or(txid_bytes / DEFAULT_TX_BYTES).max(1);
    let buf: Vec<u8> = (0..16u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut times = Vec::new();
    let mut sink = 0u8;
    for _ in 0..3 {
        let start = Instant::now();
        sink ^= hash_bytes(&buf, payload, (payload / messages) as usize);
        sink ^= hash_bytes(&buf, txid_bytes, (txid_bytes / txids) as usize);
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"seconds\":{},\"bytes\":{},\"check\":{sink}}}",
        times[1],
        payload + txid_bytes
    );
}
