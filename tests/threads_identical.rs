//! `--threads N` writes the same bytes as `--threads 1` (the single-threaded
//! analyzer): random captures of many flows (v1 and BIP324 v2, with and
//! without their keys), segmented at random, reordered, duplicated, with
//! lost segments, bad checksums, idle timeouts, gap timeouts, evictions
//! under `--max-flows`, read with 1, 2, 3 and 7 threads. Flows announce
//! txs and blocks from a shared pool, so the `--stats` first-announcer
//! table is fed across flows.

mod support;
mod v2session;

use proptest::prelude::*;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use support::*;
use v2session::{Side, V2Session};

/// xorshift: the capture follows from one seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A packet of one flow, before the flows are interleaved.
struct Seg {
    from_client: bool,
    /// Offset in its direction's stream.
    offset: u32,
    bytes: Vec<u8>,
    fin: bool,
    rst: bool,
}

struct Flow {
    client: SocketAddr,
    server: SocketAddr,
    client_isn: u32,
    server_isn: u32,
    syn: bool,
    segs: Vec<Seg>,
}

/// v1 messages of one direction: a handshake, then a mix of commands,
/// some with a bad checksum.
fn v1_stream(rng: &mut Rng) -> Vec<u8> {
    let mut out = frame(REGTEST, "version", &version_payload(b"/t:1/"));
    out.extend(frame(REGTEST, "verack", &[]));
    for _ in 0..rng.below(12) {
        let mut msg = match rng.below(5) {
            0 => frame(REGTEST, "ping", &rng.next().to_le_bytes()),
            1 => {
                // Txs and blocks, half of them from a pool every flow
                // draws from: the same hashes announced across flows.
                let n = rng.below(40) as usize;
                let mut p = vec![n as u8];
                for _ in 0..n {
                    let kind: u32 = [1, 2, 5][rng.below(3) as usize];
                    p.extend_from_slice(&kind.to_le_bytes());
                    p.extend(shared_or_new(rng, 32));
                }
                if rng.chance(30) {
                    // A headers message of one header from the pool.
                    let mut h = vec![1u8];
                    h.extend(shared_or_new(rng, 80));
                    h.push(0);
                    frame(REGTEST, "headers", &h)
                } else {
                    frame(REGTEST, "inv", &p)
                }
            }
            2 => frame(REGTEST, "tx", &noise(rng.below(3000) as usize, rng.next())),
            3 => frame(
                REGTEST,
                &format!("cmd{}", rng.below(6)),
                &noise(20, rng.next()),
            ),
            _ => frame(REGTEST, "sendheaders", &[]),
        };
        if rng.chance(10) {
            msg[20] ^= 0xff;
        }
        out.extend(msg);
    }
    out
}

/// `n` bytes: from a pool of 16 shared by all flows, or new.
fn shared_or_new(rng: &mut Rng, n: usize) -> Vec<u8> {
    if rng.chance(50) {
        noise(n, 1_000 + rng.below(16))
    } else {
        noise(n, rng.next())
    }
}

fn cut(rng: &mut Rng, stream: &[u8], from_client: bool, segs: &mut Vec<(bool, u32, Vec<u8>)>) {
    let mut off = 0;
    while off < stream.len() {
        let len = (1 + rng.below(1460) as usize).min(stream.len() - off);
        segs.push((from_client, off as u32, stream[off..off + len].to_vec()));
        off += len;
    }
}

fn flow(rng: &mut Rng, i: u64, keylog: &mut String) -> Flow {
    let client: SocketAddr = format!("10.0.{}.{}:{}", i / 200, i % 200 + 1, 40000 + rng.below(3))
        .parse()
        .unwrap();
    let server: SocketAddr = format!("10.9.0.{}:18444", 1 + rng.below(3))
        .parse()
        .unwrap();
    let (c2s, s2c) = if rng.chance(25) {
        let mut s = V2Session::new(v2session::REGTEST, rng.next(), b"gc", b"", &[], &[]);
        s.send(Side::Initiator, "ping", &rng.next().to_le_bytes());
        s.send(Side::Responder, "pong", &rng.next().to_le_bytes());
        s.send(
            Side::Initiator,
            "tx",
            &noise(rng.below(500) as usize, rng.next()),
        );
        if rng.chance(70) {
            keylog.push_str(&s.keylog_line());
        }
        (s.c2s.clone(), s.s2c.clone())
    } else {
        (v1_stream(rng), v1_stream(rng))
    };
    // Each direction cut into segments, the two interleaved in order.
    let (mut a, mut b) = (Vec::new(), Vec::new());
    cut(rng, &c2s, true, &mut a);
    cut(rng, &s2c, false, &mut b);
    let mut merged = Vec::new();
    let (mut ia, mut ib) = (0, 0);
    while ia < a.len() || ib < b.len() {
        if ib >= b.len() || (ia < a.len() && rng.chance(50)) {
            merged.push(a[ia].clone());
            ia += 1;
        } else {
            merged.push(b[ib].clone());
            ib += 1;
        }
    }
    let mut segs: Vec<Seg> = Vec::new();
    for (from_client, offset, bytes) in merged {
        if rng.chance(3) {
            continue; // lost
        }
        let dup = rng.chance(2);
        let seg = Seg {
            from_client,
            offset,
            bytes,
            fin: false,
            rst: false,
        };
        if dup {
            segs.push(Seg {
                bytes: seg.bytes.clone(),
                ..seg
            });
        }
        segs.push(seg);
        let n = segs.len();
        if n >= 2 && rng.chance(6) {
            segs.swap(n - 1, n - 2);
        }
    }
    let close = rng.below(10);
    if close < 5 {
        for from_client in [true, false] {
            let stream = if from_client { &c2s } else { &s2c };
            segs.push(Seg {
                from_client,
                offset: stream.len() as u32,
                bytes: Vec::new(),
                fin: true,
                rst: false,
            });
        }
    } else if close < 7 {
        segs.push(Seg {
            from_client: true,
            offset: c2s.len() as u32,
            bytes: Vec::new(),
            fin: false,
            rst: true,
        });
    }
    Flow {
        client,
        server,
        client_isn: rng.next() as u32,
        server_isn: rng.next() as u32,
        syn: rng.chance(80),
        segs,
    }
}

/// Writes the capture and key log for `seed`; returns the key log's path.
fn capture(seed: u64, flows: u64, path: &Path, keylog_path: &Path) {
    let mut rng = Rng(seed | 1);
    let mut keylog = String::new();
    let mut all: Vec<Flow> = (0..flows).map(|i| flow(&mut rng, i, &mut keylog)).collect();
    let mut pcap = Pcap::new();
    let mut next = vec![0usize; all.len()];
    let mut started = vec![false; all.len()];
    // Flows start one after the other, at random, and then interleave.
    let mut open = 1usize;
    loop {
        let live: Vec<usize> = (0..open.min(all.len()))
            .filter(|&f| next[f] < all[f].segs.len() || !started[f])
            .collect();
        if live.is_empty() {
            if open >= all.len() {
                break;
            }
            open += 1;
            continue;
        }
        if open < all.len() && rng.chance(15) {
            open += 1;
        }
        if rng.chance(2) {
            pcap.skip_secs(1 + rng.below(8));
        }
        let f = live[rng.below(live.len() as u64) as usize];
        let fl = &mut all[f];
        if !started[f] {
            started[f] = true;
            if fl.syn {
                let syn = Flags {
                    syn: true,
                    ack: false,
                    fin: false,
                    rst: false,
                };
                let synack = Flags {
                    syn: true,
                    ack: true,
                    fin: false,
                    rst: false,
                };
                pcap.record(&segment(fl.client, fl.server, fl.client_isn, 0, syn, &[]));
                pcap.record(&segment(
                    fl.server,
                    fl.client,
                    fl.server_isn,
                    fl.client_isn.wrapping_add(1),
                    synack,
                    &[],
                ));
            }
            continue;
        }
        let s = &fl.segs[next[f]];
        next[f] += 1;
        let base = |isn: u32| isn.wrapping_add(u32::from(fl.syn));
        let (src, dst, seq, ack) = if s.from_client {
            (
                fl.client,
                fl.server,
                base(fl.client_isn),
                base(fl.server_isn),
            )
        } else {
            (
                fl.server,
                fl.client,
                base(fl.server_isn),
                base(fl.client_isn),
            )
        };
        let flags = Flags {
            syn: false,
            ack: true,
            fin: s.fin,
            rst: s.rst,
        };
        let acked = rng.below(2000) as u32;
        pcap.record(&segment(
            src,
            dst,
            seq.wrapping_add(s.offset),
            ack.wrapping_add(acked),
            flags,
            &s.bytes,
        ));
    }
    pcap.write(path);
    std::fs::write(keylog_path, keylog).unwrap();
}

fn read(path: &Path, threads: u32, args: &[String]) -> (Vec<u8>, Vec<u8>, Option<i32>) {
    let out = Command::new(env!("CARGO_BIN_EXE_btcsniff"))
        .arg("read")
        .arg(path)
        .args(["--threads", &threads.to_string(), "-q"])
        .args(args)
        .output()
        .expect("run btcsniff");
    (out.stdout, out.stderr, out.status.code())
}

/// Returns the output (of every thread count).
fn check(seed: u64, flows: u64, max_flows: Option<u64>, json: bool) -> Vec<u8> {
    let dir = scratch_dir(&format!("threads-{seed}-{flows}"));
    let path = dir.join("random.pcap");
    let keylog = dir.join("keys.log");
    capture(seed, flows, &path, &keylog);
    let mut args: Vec<String> = [
        "--stats",
        "--idle-timeout",
        "5",
        "--gap-timeout",
        "1.5",
        "--keylog",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(keylog.display().to_string());
    args.extend([
        "--format".to_string(),
        if json { "json" } else { "text" }.to_string(),
    ]);
    if let Some(m) = max_flows {
        args.extend(["--max-flows".to_string(), m.to_string()]);
    }
    let one = read(&path, 1, &args);
    assert_eq!(one.2, Some(0), "{}", String::from_utf8_lossy(&one.1));
    assert!(one.0.len() > 100, "some output");
    for threads in [2, 3, 7] {
        let many = read(&path, threads, &args);
        assert!(
            many.0 == one.0,
            "--threads {threads} differs from --threads 1 (seed {seed}, {flows} flows, {args:?}) at byte {}",
            one.0
                .iter()
                .zip(&many.0)
                .take_while(|(a, b)| a == b)
                .count()
        );
        assert_eq!(many.1, one.1, "stderr with --threads {threads}");
        assert_eq!(many.2, one.2, "exit code with --threads {threads}");
    }
    if std::env::var_os("THREADS_TEST_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    one.0
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_thread_count_writes_the_same_bytes(
        seed in any::<u64>(),
        flows in 1u64..40,
        max_flows in prop::option::of(2u64..6),
        json in any::<bool>(),
    ) {
        let _ = check(seed, flows, max_flows, json);
    }
}

/// One flow only: nothing to share out, the same bytes all the same.
#[test]
fn a_single_flow_gives_the_same_bytes() {
    let _ = check(7, 1, None, true);
}

/// A capture with everything at once: many flows, v2 with and without keys,
/// evictions, idle and gap timeouts (the random cases vary around it).
#[test]
fn a_busy_capture_gives_the_same_bytes() {
    let json = check(11, 60, Some(4), true);
    let _ = check(12, 60, None, false);
    // Announced across flows: some block hash by several peers (the
    // first-announcer table's order matters).
    let text = String::from_utf8_lossy(&json);
    let stats: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("stats line")).expect("JSON");
    let blocks = stats["blocks_first_seen"].as_array().expect("blocks");
    assert!(blocks.iter().any(|b| b["peers"].as_u64() > Some(1)));
}
