//! `btcsniff probe` against scripted peers built on the project's own codec
//! (encoders + FrameDecoder), listening on loopback in a thread. Every run
//! of the real binary is bounded by its own --timeout and by a kill after
//! a generous wall-clock bound; every peer read has a deadline.

mod support;

use bitcoin::consensus::encode::{deserialize, serialize};
use bitcoin::hashes::Hash;
use btcsniff::p2p::encode::{self, VersionParams};
use btcsniff::p2p::frame::{FrameDecoder, FrameEvent};
use btcsniff::p2p::{Hash256, Network};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_btcsniff");
/// How long a scripted peer waits for the probe, at most.
const PEER_WAIT: Duration = Duration::from_secs(20);
/// Wall-clock bound on one run of the binary (its --timeout is far lower).
const RUN_BOUND: Duration = Duration::from_secs(60);
const MSG_WITNESS_TX: u32 = 0x4000_0001;
const MSG_WITNESS_BLOCK: u32 = 0x4000_0002;
const NET: Network = Network::Regtest;

type Received = Vec<(String, Vec<u8>)>;

/// The node side of one connection.
struct Peer {
    stream: TcpStream,
    decoder: FrameDecoder,
    network: Network,
    received: Received,
    deadline: Instant,
}

impl Peer {
    fn send(&mut self, command: &str, payload: &[u8]) -> Result<(), String> {
        let bytes = encode::frame(self.network, command, payload);
        self.send_raw(&bytes)
    }

    fn send_raw(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .map_err(|e| format!("peer write: {e}"))
    }

    /// The probe's next message; `None` once it closed the connection.
    fn recv(&mut self) -> Result<Option<(String, Vec<u8>)>, String> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(event) = self.decoder.next_event() {
                return match event {
                    FrameEvent::Frame(f) => {
                        let m = (
                            String::from_utf8_lossy(f.command.as_bytes()).into_owned(),
                            f.payload.to_vec(),
                        );
                        self.received.push(m.clone());
                        Ok(Some(m))
                    }
                    FrameEvent::Finding(f) => Err(format!("the probe's bytes framed badly: {f:?}")),
                };
            }
            let left = self
                .deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or("peer: no message from the probe in time")?;
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            match self.stream.read(&mut buf) {
                Ok(0) => return Ok(None),
                Ok(n) => self.decoder.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(None),
                Err(e) => return Err(format!("peer read: {e}")),
            }
        }
    }

    fn expect(&mut self, command: &str) -> Result<Vec<u8>, String> {
        match self.recv()? {
            Some((c, p)) if c == command => Ok(p),
            Some((c, _)) => Err(format!("expected {command} from the probe, got {c}")),
            None => Err(format!("expected {command}, the probe closed")),
        }
    }

    /// Reads until the probe closes (bounded by the peer's deadline).
    fn drain(&mut self) -> Result<(), String> {
        while self.recv()?.is_some() {}
        Ok(())
    }
}

/// A peer on `bind` running `script` on the first connection; the thread
/// returns what the probe sent.
fn spawn_peer_on<F>(
    bind: &str,
    network: Network,
    script: F,
) -> Option<(SocketAddr, JoinHandle<Result<Received, String>>)>
where
    F: FnOnce(&mut Peer) -> Result<(), String> + Send + 'static,
{
    let listener = TcpListener::bind(bind).ok()?;
    let addr = listener.local_addr().ok()?;
    let handle = thread::spawn(move || {
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + PEER_WAIT;
        let stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() > deadline {
                        return Err("peer: no connection".to_string());
                    }
                    thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(e.to_string()),
            }
        };
        stream.set_nonblocking(false).map_err(|e| e.to_string())?;
        let mut peer = Peer {
            stream,
            decoder: FrameDecoder::new(),
            network,
            received: Vec::new(),
            deadline,
        };
        script(&mut peer)?;
        Ok(peer.received)
    });
    Some((addr, handle))
}

fn spawn_peer<F>(script: F) -> (SocketAddr, JoinHandle<Result<Received, String>>)
where
    F: FnOnce(&mut Peer) -> Result<(), String> + Send + 'static,
{
    spawn_peer_on("127.0.0.1:0", NET, script).expect("bind 127.0.0.1:0")
}

fn peer_result(handle: JoinHandle<Result<Received, String>>) -> Received {
    handle
        .join()
        .expect("peer thread panicked")
        .expect("peer script")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    fn notes(&self) -> Vec<String> {
        self.json()
            .iter()
            .filter(|v| v["type"] == "note")
            .map(|v| v["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// Runs the binary with `args`, bounded by RUN_BOUND.
fn btcsniff(args: &[String]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    let done = support::run_bounded(cmd, RUN_BOUND);
    Run {
        code: done.status.code().unwrap_or(-1),
        stdout: done.stdout,
        stderr: done.stderr,
    }
}

fn probe(addr: SocketAddr, extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec![
        "probe".into(),
        addr.to_string(),
        "--network".into(),
        "regtest".into(),
        "--format".into(),
        "json".into(),
        // These peers speak v1 only (tests/probe_v2.rs has v2 and auto).
        "--transport".into(),
        "v1".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    btcsniff(&args)
}

fn version_payload(version: i32) -> Vec<u8> {
    let any: SocketAddr = "127.0.0.1:18444".parse().unwrap();
    encode::version(&VersionParams {
        version,
        services: 1 | 8,
        timestamp: 1_700_000_000,
        receiver: (0, any),
        sender: (1 | 8, any),
        nonce: 0x1234_5678,
        user_agent: "/Scripted:1.0/".into(),
        start_height: 101,
        relay: true,
    })
}

/// A modern node's handshake, with everything Core sends around it: the
/// probe must answer the ping sent before verack and reach getdata.
/// Returns the getdata payload.
fn modern_handshake(peer: &mut Peer) -> Result<Vec<u8>, String> {
    let version = peer.expect("version")?;
    let announced = i32::from_le_bytes(version[..4].try_into().unwrap());
    if announced != 70016 {
        return Err(format!("probe announced version {announced}"));
    }
    peer.send("version", &version_payload(70016))?;
    peer.send("wtxidrelay", &[])?;
    peer.send("sendaddrv2", &[])?;
    let mut txrcncl = 1u32.to_le_bytes().to_vec();
    txrcncl.extend_from_slice(&42u64.to_le_bytes());
    peer.send("sendtxrcncl", &txrcncl)?;
    peer.send("ping", &encode::ping(0x0102_0304_0506_0708))?;
    peer.send("verack", &[])?;
    peer.send("sendcmpct", &encode::sendcmpct(false, 2))?;
    peer.send("feefilter", &encode::feefilter(1000))?;
    peer.send("sendheaders", &[])?;
    peer.send("getheaders", &{
        let mut p = 70016u32.to_le_bytes().to_vec();
        p.push(0);
        p.extend_from_slice(&[0u8; 32]);
        p
    })?;
    // Our version arrives first, so the probe's replies come in this order.
    for command in ["wtxidrelay", "sendaddrv2", "verack"] {
        peer.expect(command)?;
    }
    let pong = peer.expect("pong")?;
    if pong != 0x0102_0304_0506_0708u64.to_le_bytes() {
        return Err(format!("pong nonce {pong:02x?}"));
    }
    peer.expect("getdata")
}

/// The (type, hash) items of a getdata payload.
fn inv_items(payload: &[u8]) -> Vec<(u32, Hash256)> {
    let count = payload[0] as usize;
    (0..count)
        .map(|i| {
            let item = &payload[1 + 36 * i..1 + 36 * (i + 1)];
            (
                u32::from_le_bytes(item[..4].try_into().unwrap()),
                Hash256(item[4..].try_into().unwrap()),
            )
        })
        .collect()
}

fn genesis() -> bitcoin::Block {
    bitcoin::blockdata::constants::genesis_block(bitcoin::Network::Bitcoin)
}

/// A real mainnet block of 2011 with ten transactions.
fn block_2011() -> bitcoin::Block {
    let hex = include_str!("../src/p2p/message/vectors/mainnet-2011-block-00000000000001e1a.hex");
    deserialize(&hex::decode(hex.trim()).unwrap()).unwrap()
}

/// A segwit transaction (its txid differs from its wtxid).
fn segwit_tx() -> bitcoin::Transaction {
    use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, TxIn, TxOut, Witness};
    let prev = genesis().txdata[0].compute_txid();
    bitcoin::Transaction {
        version: bitcoin::transaction::Version::TWO,
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: prev,
                vout: 0,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence::MAX,
            witness: Witness::from_slice(&[vec![0x30; 71], vec![0x02; 33]]),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(4_999_000_000),
            script_pubkey: ScriptBuf::from_bytes([vec![0x00, 0x14], vec![0xab; 20]].concat()),
        }],
    }
}

fn commands(received: &Received) -> Vec<&str> {
    received.iter().map(|(c, _)| c.as_str()).collect()
}

#[test]
fn handshake_with_extras_then_tx_verified_with_pings_answered() {
    let tx = segwit_tx();
    let txid = tx.compute_txid();
    assert_ne!(txid.to_byte_array(), tx.compute_wtxid().to_byte_array());
    let tx_bytes = serialize(&tx);
    let (addr, peer) = spawn_peer(move |peer| {
        let getdata = modern_handshake(peer)?;
        let items = inv_items(&getdata);
        if items != [(MSG_WITNESS_TX, Hash256(txid.to_byte_array()))] {
            return Err(format!("getdata items {items:?}"));
        }
        // A ping in the middle must be answered before the tx comes.
        peer.send("inv", &encode::getdata(&[(2, Hash256([9; 32]))]))?;
        peer.send("ping", &encode::ping(99))?;
        let pong = peer.expect("pong")?;
        if pong != 99u64.to_le_bytes() {
            return Err(format!("mid-session pong {pong:02x?}"));
        }
        peer.send("tx", &tx_bytes)?;
        peer.drain()
    });
    let run = probe(addr, &["--tx", &txid.to_string(), "--timeout", "20"]);
    let received = peer_result(peer);
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(
        commands(&received),
        [
            "version",
            "wtxidrelay",
            "sendaddrv2",
            "verack",
            "pong",
            "getdata",
            "pong"
        ]
    );
    // The version is the probe's: no services, our user agent, height 0,
    // relay on (Core ignores tx requests from a peer that turned it off).
    let v = &received[0].1;
    assert_eq!(&v[4..12], &0u64.to_le_bytes(), "services 0");
    assert_eq!(*v.last().unwrap(), 1, "relay true when a tx is asked for");
    assert!(String::from_utf8_lossy(v).contains("/btcsniff:"));

    let json = run.json();
    // Every message either way is in the output as flow 1, in order.
    let messages: Vec<(&str, &str)> = json
        .iter()
        .filter(|v| v["type"] == "message")
        .map(|v| (v["command"].as_str().unwrap(), v["src"].as_str().unwrap()))
        .collect();
    let me = addr.to_string();
    let sent: Vec<&str> = messages
        .iter()
        .filter(|(_, s)| *s != me)
        .map(|(c, _)| *c)
        .collect();
    let got: Vec<&str> = messages
        .iter()
        .filter(|(_, s)| *s == me)
        .map(|(c, _)| *c)
        .collect();
    assert_eq!(sent, commands(&received));
    assert_eq!(
        got,
        [
            "version",
            "wtxidrelay",
            "sendaddrv2",
            "sendtxrcncl",
            "ping",
            "verack",
            "sendcmpct",
            "feefilter",
            "sendheaders",
            "getheaders",
            "inv",
            "ping",
            "tx"
        ]
    );
    assert!(
        json.iter()
            .filter(|v| v["type"] == "message")
            .all(|v| v["flow"] == 1)
    );
    let tx_line = json.iter().find(|v| v["command"] == "tx").unwrap();
    assert_eq!(tx_line["payload"]["txid"], txid.to_string());
    let notes = run.notes();
    assert!(
        notes.contains(&format!(
            "tx {txid} received and verified ({} bytes)",
            serialize(&tx).len()
        )),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("handshake complete: peer version 70016")),
        "{notes:?}"
    );
}

#[test]
fn blocks_verified_by_hash_and_merkle_root() {
    let blocks = [genesis(), block_2011()];
    let hashes: Vec<String> = blocks.iter().map(|b| b.block_hash().to_string()).collect();
    let payloads: Vec<Vec<u8>> = blocks.iter().map(serialize).collect();
    let expected: Vec<(u32, Hash256)> = blocks
        .iter()
        .map(|b| (MSG_WITNESS_BLOCK, Hash256(b.block_hash().to_byte_array())))
        .collect();
    let (addr, peer) = spawn_peer(move |peer| {
        let getdata = modern_handshake(peer)?;
        if inv_items(&getdata) != expected {
            return Err(format!("getdata {:?}", inv_items(&getdata)));
        }
        for p in &payloads {
            peer.send("block", p)?;
        }
        peer.drain()
    });
    let run = probe(
        addr,
        &[
            "--block",
            &hashes[0],
            "--block",
            &hashes[1],
            "--timeout",
            "20",
        ],
    );
    let received = peer_result(peer);
    let version = &received[0].1;
    assert_eq!(
        *version.last().unwrap(),
        0,
        "relay false with only blocks asked for"
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let notes = run.notes();
    for h in &hashes {
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with(&format!("block {h} received and verified"))),
            "{notes:?}"
        );
    }
}

/// The peer answers with `answer(getdata items)` and the run is checked.
fn answered_with(
    request: &[&str],
    answer: impl FnOnce(&mut Peer, Vec<(u32, Hash256)>) -> Result<(), String> + Send + 'static,
) -> Run {
    let (addr, peer) = spawn_peer(move |peer| {
        let getdata = modern_handshake(peer)?;
        answer(peer, inv_items(&getdata))?;
        peer.drain()
    });
    let mut args = request.to_vec();
    args.extend(["--timeout", "20"]);
    let run = probe(addr, &args);
    peer_result(peer);
    run
}

#[test]
fn notfound_exits_3_and_says_so() {
    let txid = "11".repeat(32);
    let run = answered_with(&["--tx", &txid], |peer, items| {
        peer.send("notfound", &encode::getdata(&items))
    });
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let notes = run.notes();
    assert!(
        notes.contains(&format!(
            "tx {txid}: notfound (nodes serve transactions only from their mempool)"
        )),
        "{notes:?}"
    );
}

#[test]
fn one_notfound_one_verified_exits_3() {
    let tx = genesis().txdata[0].clone();
    let txid = tx.compute_txid().to_string();
    let missing = "22".repeat(32);
    let run = answered_with(&["--tx", &txid, "--tx", &missing], move |peer, items| {
        peer.send("tx", &serialize(&tx))?;
        peer.send("notfound", &encode::getdata(&items[1..]))
    });
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn silence_after_handshake_times_out_with_4() {
    let (addr, peer) = spawn_peer(|peer| {
        modern_handshake(peer)?;
        peer.drain()
    });
    let txid = "33".repeat(32);
    let run = probe(addr, &["--tx", &txid, "--timeout", "1"]);
    peer_result(peer);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let notes = run.notes();
    assert!(notes.contains(&format!(
        "tx {txid}: timeout: no answer within 1 s (nodes serve transactions only from their mempool)"
    )), "{notes:?}");
}

#[test]
fn wrong_txid_is_not_accepted() {
    let other = genesis().txdata[0].clone();
    let asked = "44".repeat(32);
    let run = answered_with(&["--tx", &asked], move |peer, _| {
        peer.send("tx", &serialize(&other))
    });
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.starts_with("btcsniff: tx "), "{}", run.stderr);
    assert!(run.stderr.contains("instead of"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn block_with_a_wrong_merkle_root_is_not_accepted() {
    let mut block = block_2011();
    let hash = block.block_hash().to_string();
    // Same header (same hash), one transaction fewer.
    block.txdata.pop();
    let run = answered_with(&["--block", &hash], move |peer, _| {
        peer.send("block", &serialize(&block))
    });
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("merkle root mismatch"),
        "{}",
        run.stderr
    );
}

#[test]
fn block_with_duplicated_transactions_is_not_accepted() {
    let mut block = block_2011();
    let hash = block.block_hash().to_string();
    // Ten transactions: repeating the last two keeps the merkle root
    // (CVE-2012-2459), but the tree pairs two equal hashes.
    let tail = block.txdata[8..].to_vec();
    block.txdata.extend(tail);
    assert!(block.check_merkle_root(), "the forged list keeps the root");
    let run = answered_with(&["--block", &hash], move |peer, _| {
        peer.send("block", &serialize(&block))
    });
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("CVE-2012-2459"), "{}", run.stderr);
}

#[test]
fn no_witness_asks_with_plain_types() {
    let tx = genesis().txdata[0].clone();
    let txid = tx.compute_txid();
    let hash = genesis().block_hash();
    let (addr, peer) = spawn_peer(move |peer| {
        let getdata = modern_handshake(peer)?;
        let expected = [
            (1, Hash256(txid.to_byte_array())),
            (2, Hash256(hash.to_byte_array())),
        ];
        if inv_items(&getdata) != expected {
            return Err(format!("getdata {:?}", inv_items(&getdata)));
        }
        peer.send("tx", &serialize(&tx))?;
        peer.send("block", &serialize(&genesis()))?;
        peer.drain()
    });
    let run = probe(
        addr,
        &[
            "--tx",
            &txid.to_string(),
            "--block",
            &hash.to_string(),
            "--no-witness",
            "--timeout",
            "20",
        ],
    );
    peer_result(peer);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn wrong_network_magic_fails() {
    let (addr, peer) = spawn_peer_on("127.0.0.1:0", Network::Mainnet, |peer| {
        peer.expect("version")?;
        peer.send("version", &version_payload(70016))?;
        peer.send("verack", &[])?;
        peer.drain()
    })
    .unwrap();
    let run = probe(addr, &["--tx", &"55".repeat(32), "--timeout", "20"]);
    peer_result(peer);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.starts_with("btcsniff: wrong network: the peer uses the magic of mainnet (f9beb4d9), regtest is fabfb5da"),
        "{}",
        run.stderr
    );
}

#[test]
fn peer_too_old_fails() {
    let (addr, peer) = spawn_peer(|peer| {
        peer.expect("version")?;
        peer.send("version", &version_payload(31799))?;
        peer.send("verack", &[])?;
        peer.drain()
    });
    let run = probe(addr, &["--tx", &"66".repeat(32), "--timeout", "20"]);
    let received = peer_result(peer);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("31799 is below 31800"),
        "{}",
        run.stderr
    );
    assert_eq!(
        commands(&received),
        ["version"],
        "no verack to a peer that old"
    );
}

#[test]
fn pre_70016_peer_gets_no_wtxidrelay() {
    let tx = genesis().txdata[0].clone();
    let txid = tx.compute_txid().to_string();
    let (addr, peer) = spawn_peer(move |peer| {
        peer.expect("version")?;
        peer.send("version", &version_payload(70015))?;
        peer.send("verack", &[])?;
        peer.expect("verack")?;
        peer.expect("getdata")?;
        peer.send("tx", &serialize(&tx))?;
        peer.drain()
    });
    let run = probe(addr, &["--tx", &txid, "--timeout", "20"]);
    peer_result(peer);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn peer_closing_mid_handshake_fails() {
    let (addr, peer) = spawn_peer(|peer| {
        peer.expect("version")?;
        peer.send("version", &version_payload(70016))?;
        // Drop the connection without verack.
        peer.stream
            .shutdown(std::net::Shutdown::Both)
            .map_err(|e| e.to_string())
    });
    let run = probe(addr, &["--tx", &"77".repeat(32), "--timeout", "20"]);
    peer_result(peer);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.starts_with("btcsniff: "), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("closed the connection during the handshake")
            || run.stderr.contains("reset"),
        "{}",
        run.stderr
    );
}

#[test]
fn four_gigabyte_length_is_cut_off() {
    let (addr, peer) = spawn_peer(|peer| {
        peer.expect("version")?;
        let mut header = NET.magic().to_vec();
        header.extend_from_slice(b"version\0\0\0\0\0");
        header.extend_from_slice(&u32::MAX.to_le_bytes());
        header.extend_from_slice(&[0; 4]);
        peer.send_raw(&header)?;
        peer.drain()
    });
    // A 30 s budget: the cut must come from the length, not the deadline.
    let run = probe(addr, &["--tx", &"88".repeat(32), "--timeout", "30"]);
    peer_result(peer);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("'version' message of 4294967295 bytes (limit 4000000)"),
        "{}",
        run.stderr
    );
    assert!(
        run.json()
            .iter()
            .any(|v| v["type"] == "finding" && v["kind"] == "oversize_length")
    );
}

#[test]
fn trickling_peer_is_cut_by_the_deadline() {
    let (addr, peer) = spawn_peer(|peer| {
        peer.expect("version")?;
        let bytes = encode::frame(NET, "version", &version_payload(70016));
        for b in bytes {
            if peer.send_raw(&[b]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    });
    let run = probe(addr, &["--tx", &"99".repeat(32), "--timeout", "1"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("handshake not complete within 1 s (no version received)"),
        "{}",
        run.stderr
    );
    peer_result(peer);
}

#[test]
fn message_flood_is_cut_off() {
    let (addr, peer) = spawn_peer(|peer| {
        modern_handshake(peer)?;
        let one = encode::frame(NET, "junk", &[]);
        let burst: Vec<u8> = one.iter().copied().cycle().take(one.len() * 1000).collect();
        for _ in 0..60 {
            if peer.send_raw(&burst).is_err() {
                break;
            }
        }
        Ok(())
    });
    let run = probe(
        addr,
        &[
            "--tx",
            &"aa".repeat(32),
            "--timeout",
            "20",
            "--command",
            "tx",
        ],
    );
    peer_result(peer);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("more than 50000 messages"),
        "{}",
        run.stderr
    );
}

#[test]
fn byte_flood_is_cut_off() {
    let (addr, peer) = spawn_peer(|peer| {
        modern_handshake(peer)?;
        let big = encode::frame(NET, "junk", &vec![0u8; 3_999_000]);
        for _ in 0..20 {
            if peer.send_raw(&big).is_err() {
                break;
            }
        }
        Ok(())
    });
    let run = probe(
        addr,
        &[
            "--tx",
            &"bb".repeat(32),
            "--timeout",
            "30",
            "--command",
            "tx",
        ],
    );
    peer_result(peer);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("more than 67108864 bytes"),
        "{}",
        run.stderr
    );
}

#[test]
fn refused_connection_fails() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let run = probe(addr, &["--tx", &"cc".repeat(32), "--timeout", "5"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.starts_with("btcsniff: cannot connect: "),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["probe", "127.0.0.1:1"],
        vec!["probe", "127.0.0.1:1", "--tx", "xyz"],
        vec!["probe", "127.0.0.1:99999", "--tx", &"00".repeat(32)],
        vec![
            "probe",
            "127.0.0.1",
            "--network",
            "moon",
            "--tx",
            &"00".repeat(32),
        ],
        vec![
            "probe",
            "127.0.0.1",
            "--timeout",
            "0",
            "--tx",
            &"00".repeat(32),
        ],
    ] {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let run = btcsniff(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
}

#[test]
fn ipv6_and_names_connect() {
    let tx = genesis().txdata[0].clone();
    let txid = tx.compute_txid().to_string();
    let tx6 = tx.clone();
    match spawn_peer_on("[::1]:0", NET, move |peer| {
        modern_handshake(peer)?;
        peer.send("tx", &serialize(&tx6))?;
        peer.drain()
    }) {
        Some((addr, peer)) => {
            let run = probe(addr, &["--tx", &txid, "--timeout", "20"]);
            peer_result(peer);
            assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
            assert!(run.json().iter().any(|v| v["src"] == addr.to_string()));
        }
        None => eprintln!("SKIPPED ipv6 part: cannot bind [::1] here"),
    }
    // `localhost` may resolve to ::1 first: the probe tries every address.
    let (addr, peer) = spawn_peer(move |peer| {
        modern_handshake(peer)?;
        peer.send("tx", &serialize(&tx))?;
        peer.drain()
    });
    let args: Vec<String> = [
        "probe",
        &format!("localhost:{}", addr.port()),
        "--network",
        "regtest",
        "--transport",
        "v1",
        "--tx",
        &txid,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = btcsniff(&args);
    peer_result(peer);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // Text output: notes and messages, one per line.
    assert!(run.stdout.contains(" probe: tx "), "{}", run.stdout);
}

/// src, dst, command, length, checksum, payload of a JSON message line.
type MessageKey = (String, String, String, Option<u64>, String, Value);

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("btcsniff-probe-{}-{name}", std::process::id()))
}

#[test]
fn recorded_session_reads_back_as_the_same_messages() {
    let block = block_2011();
    let hash = block.block_hash().to_string();
    let payload = serialize(&block);
    let pcap = temp_path("session.pcap");
    let (addr, peer) = spawn_peer(move |peer| {
        modern_handshake(peer)?;
        peer.send("block", &payload)?;
        peer.drain()
    });
    let pcap_arg = pcap.to_string_lossy().into_owned();
    let run = probe(
        addr,
        &["--block", &hash, "--timeout", "20", "-w", &pcap_arg],
    );
    peer_result(peer);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let read = btcsniff(&[
        "read".into(),
        pcap_arg.clone(),
        "--format".into(),
        "json".into(),
    ]);
    let _ = std::fs::remove_file(&pcap);
    assert_eq!(read.code, 0, "{}", read.stderr);
    let key = |v: &Value| {
        (
            v["src"].as_str().unwrap_or_default().to_string(),
            v["dst"].as_str().unwrap_or_default().to_string(),
            v["command"].as_str().unwrap_or_default().to_string(),
            v["length"].as_u64(),
            v["checksum"].as_str().unwrap_or_default().to_string(),
            v["payload"].clone(),
        )
    };
    // Per direction, the same messages in the same order. (Between the two
    // directions the file keeps arrival order: a burst read at once comes
    // before the replies the probe made to it, while the probe shows each
    // reply right after the message that caused it.)
    let live: Vec<_> = run
        .json()
        .iter()
        .filter(|v| v["type"] == "message")
        .map(key)
        .collect();
    let replayed: Vec<_> = read
        .json()
        .iter()
        .filter(|v| v["type"] == "message")
        .map(key)
        .collect();
    assert!(live.len() >= 10, "{live:?}");
    assert_eq!(live.len(), replayed.len());
    for from in [addr.to_string(), live[0].0.clone()] {
        let side = |list: &[MessageKey]| {
            list.iter()
                .filter(|m| m.0 == from)
                .cloned()
                .collect::<Vec<_>>()
        };
        let (a, b) = (side(&live), side(&replayed));
        assert!(!a.is_empty());
        let names = |l: &[MessageKey]| {
            l.iter()
                .map(|m| format!("{} {:?} {}", m.2, m.3, m.4))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a), names(&b), "from {from}");
        assert!(a == b, "payloads from {from} differ");
    }
    assert!(
        !read.json().iter().any(|v| v["type"] == "finding"),
        "the recorded stream has no anomaly: {}",
        read.stdout
    );
}

#[test]
fn undecodable_answer_is_not_accepted() {
    let run = answered_with(&["--tx", &"dd".repeat(32)], |peer, _| {
        peer.send("tx", &[0xff; 10])
    });
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("could not be decoded"),
        "{}",
        run.stderr
    );
}

#[test]
fn answer_with_a_wrong_checksum_is_ignored_like_core_does() {
    let tx = genesis().txdata[0].clone();
    let txid = tx.compute_txid().to_string();
    let (addr, peer) = spawn_peer(move |peer| {
        modern_handshake(peer)?;
        let mut bytes = encode::frame(NET, "tx", &serialize(&tx));
        bytes[20] ^= 0xff;
        peer.send_raw(&bytes)?;
        peer.drain()
    });
    let run = probe(addr, &["--tx", &txid, "--timeout", "1"]);
    peer_result(peer);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let notes = run.notes();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("ignored a 'tx' message with a wrong checksum")),
        "{notes:?}"
    );
}
