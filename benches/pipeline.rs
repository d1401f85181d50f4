//! Micro-benchmarks of the passive pipeline's layers, each in memory:
//! framing (header scan + checksum) over a stream of small messages,
//! transaction and block decoding (txids included), JSON rendering of a
//! decoded block, and TCP reassembly in order and with reordering.
//!
//! `cargo bench --bench pipeline [FILTER]`. Inputs are built with
//! rust-bitcoin (a dev-dependency) and btcsniff's own encoder, so the
//! numbers do not depend on capture files.

use bitcoin::absolute::LockTime;
use bitcoin::consensus::serialize;
use bitcoin::hashes::Hash;
use bitcoin::{
    Amount, Block, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxMerkleNode, TxOut, Txid,
    Witness, block,
};
use btcsniff::analyzer::{Event, Meta};
use btcsniff::flow::{Chunk, Reassembler, ReassemblyLimits};
use btcsniff::output::json::JsonSink;
use btcsniff::output::{Sink, SinkOptions};
use btcsniff::p2p::encode::frame;
use btcsniff::p2p::frame::{Command, FrameDecoder, FrameEvent};
use btcsniff::p2p::message::{self, DecodeContext};
use btcsniff::p2p::{Hash256, Network, sha256d};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

/// A deterministic byte stream (xorshift) for scripts and signatures.
struct Bytes(u64);

impl Bytes {
    fn take(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0 as u8
            })
            .collect()
    }
}

/// A 2-in 2-out transaction, segwit (P2WPKH-shaped witnesses) or legacy
/// (P2PKH-shaped script_sigs).
fn transaction(rng: &mut Bytes, segwit: bool) -> Transaction {
    let input = |rng: &mut Bytes| TxIn {
        previous_output: OutPoint {
            txid: Txid::from_slice(&rng.take(32)).expect("32 bytes"),
            vout: 1,
        },
        script_sig: if segwit {
            ScriptBuf::new()
        } else {
            ScriptBuf::from_bytes(rng.take(106))
        },
        sequence: Sequence::MAX,
        witness: if segwit {
            Witness::from_slice(&[rng.take(72), rng.take(33)])
        } else {
            Witness::new()
        },
    };
    let output = |rng: &mut Bytes| TxOut {
        value: Amount::from_sat(12_345),
        script_pubkey: ScriptBuf::from_bytes(rng.take(22)),
    };
    Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: LockTime::ZERO,
        input: vec![input(rng), input(rng)],
        output: vec![output(rng), output(rng)],
    }
}

/// A block of `n` transactions (~370 bytes each), three segwit for one
/// legacy: about 1.1 MB for n = 3000, a typical mainnet block's size.
fn block_payload(n: usize) -> Vec<u8> {
    let mut rng = Bytes(0x9e37_79b9_7f4a_7c15);
    let txdata: Vec<Transaction> = (0..n).map(|i| transaction(&mut rng, i % 4 != 0)).collect();
    let header = block::Header {
        version: block::Version::TWO,
        prev_blockhash: bitcoin::BlockHash::all_zeros(),
        merkle_root: TxMerkleNode::all_zeros(),
        time: 1_732_000_000,
        bits: bitcoin::CompactTarget::from_consensus(0x1703_6e3a),
        nonce: 7,
    };
    serialize(&Block { header, txdata })
}

fn small_message_stream(messages: usize) -> Vec<u8> {
    let mut rng = Bytes(42);
    let mut stream = Vec::new();
    for i in 0..messages {
        let bytes = if i % 2 == 0 {
            // inv of 3 tx hashes: 1 + 3 * 36 bytes.
            let mut p = vec![3u8];
            for _ in 0..3 {
                p.extend_from_slice(&1u32.to_le_bytes());
                p.extend(rng.take(32));
            }
            frame(Network::Mainnet, "inv", &p)
        } else {
            frame(Network::Mainnet, "ping", &rng.take(8))
        };
        stream.extend(bytes);
    }
    stream
}

fn framing(c: &mut Criterion) {
    let stream = small_message_stream(10_000);
    let mut g = c.benchmark_group("framing");
    g.throughput(Throughput::Elements(10_000));
    // Fed in 1448-byte pieces, like TCP segments of an Ethernet capture.
    g.bench_function("10k_small_messages_by_segment", |b| {
        b.iter(|| {
            let mut decoder = FrameDecoder::new();
            let mut frames = 0u64;
            for piece in stream.chunks(1448) {
                decoder.feed(piece, |e| {
                    if let FrameEvent::Frame(f) = e {
                        frames += u64::from(f.length > 0);
                    }
                });
            }
            black_box(frames)
        })
    });
    let block = frame(Network::Mainnet, "block", &block_payload(3000));
    g.throughput(Throughput::Bytes(block.len() as u64));
    g.bench_function("block_by_segment", |b| {
        b.iter(|| {
            let mut decoder = FrameDecoder::new();
            let mut len = 0u32;
            for piece in block.chunks(1448) {
                decoder.feed(piece, |e| {
                    if let FrameEvent::Frame(f) = e {
                        len = f.length;
                    }
                });
            }
            black_box(len)
        })
    });
    g.finish();
}

fn decoding(c: &mut Criterion) {
    let ctx = DecodeContext {
        peer_version: None,
        full_detail: false,
        payload_hash: None,
    };
    let mut rng = Bytes(7);
    let mut g = c.benchmark_group("decode");
    for segwit in [false, true] {
        let tx = serialize(&transaction(&mut rng, segwit));
        g.throughput(Throughput::Bytes(tx.len() as u64));
        let name = if segwit { "tx_segwit" } else { "tx_legacy" };
        g.bench_function(name, |b| {
            b.iter(|| black_box(message::decode(&Command::new("tx"), black_box(&tx), &ctx)))
        });
        // As the pipeline decodes it: the framing decoder's checksum hash
        // is the txid (legacy) or wtxid (segwit).
        let known = DecodeContext {
            payload_hash: Some(Hash256(sha256d(&tx))),
            ..ctx
        };
        g.bench_function(format!("{name}_hash_known"), |b| {
            b.iter(|| black_box(message::decode(&Command::new("tx"), black_box(&tx), &known)))
        });
    }
    let block = block_payload(3000);
    g.throughput(Throughput::Bytes(block.len() as u64));
    g.bench_function("block_3000_tx", |b| {
        b.iter(|| {
            black_box(message::decode(
                &Command::new("block"),
                black_box(&block),
                &ctx,
            ))
        })
    });
    g.finish();

    // Decoding plus the JSON line, as `read --format json` does per block.
    let decoded = message::decode(&Command::new("block"), &block, &ctx);
    let framed = frame(Network::Mainnet, "block", &block);
    let mut decoder = FrameDecoder::new();
    decoder.push(&framed);
    let Some(FrameEvent::Frame(frame)) = decoder.next_event() else {
        panic!("the block frames");
    };
    let meta = Meta {
        ts: Default::default(),
        flow: 1,
        src: "10.0.0.1:8333".parse().expect("addr"),
        dst: "10.0.0.2:50000".parse().expect("addr"),
    };
    let mut g = c.benchmark_group("json");
    g.throughput(Throughput::Bytes(block.len() as u64));
    let mut sink = JsonSink::new(std::io::sink(), SinkOptions::default());
    g.bench_function("block_3000_tx_line", |b| {
        b.iter(|| {
            sink.event(&Event::Message {
                meta: &meta,
                frame: &frame,
                message: &decoded.message,
            })
            .expect("io::sink")
        })
    });
    g.finish();
}

fn reassembly(c: &mut Criterion) {
    const SEG: usize = 1448;
    const SEGMENTS: usize = 1000;
    let data = Bytes(3).take(SEG * SEGMENTS);
    let segments: Vec<(u32, &[u8])> = data
        .chunks(SEG)
        .enumerate()
        .map(|(i, s)| (1000u32.wrapping_add((i * SEG) as u32), s))
        .collect();
    // Every pair swapped: each odd segment waits in the buffer.
    let mut swapped = segments.clone();
    for pair in swapped.chunks_mut(2) {
        pair.reverse();
    }
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Bytes(data.len() as u64));
    for (name, order) in [("in_order", &segments), ("pairs_swapped", &swapped)] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || {
                    Reassembler::new(ReassemblyLimits::new(
                        1 << 20,
                        std::time::Duration::from_secs(3),
                    ))
                },
                |mut r| {
                    let mut delivered = 0usize;
                    let mut emit = |c: Chunk<'_>| {
                        if let Chunk::Data { bytes, .. } = c {
                            delivered += bytes.len();
                        }
                    };
                    let ts = btcsniff::capture::Timestamp::ZERO;
                    // Anchor the stream at the first sequence number (SYN).
                    r.segment(
                        ts,
                        segments[0].0.wrapping_sub(1),
                        true,
                        false,
                        &[],
                        &mut emit,
                    );
                    for &(seq, payload) in order.iter() {
                        r.segment(ts, seq, false, false, payload, &mut emit);
                    }
                    black_box(delivered)
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, framing, decoding, reassembly);
criterion_main!(benches);
