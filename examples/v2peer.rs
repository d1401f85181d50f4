//! A BIP324 v2 peer built on rust-bitcoin's `bip324` crate (an
//! implementation independent of btcsniff's), for live-capture tests of
//! `--keylog` on loopback.
//!
//! ```text
//! v2peer serve 127.0.0.1:18444 [CONNECTIONS]   v2 responder: answers version, verack, ping,
//!                                              getdata (notfound)
//! v2peer refuse 127.0.0.1:18444                 reads the initiator's 64-byte key, closes
//! v2peer corrupt 127.0.0.1:18444                like serve (one connection), but its
//!                                              version packet has a corrupted tag
//!                                              (a v1-only node meeting a v2 attempt)
//! v2peer client 127.0.0.1:18444 KEYLOG         v2 initiator: appends its session's key-log
//!                                              line, then version, verack, ping; close
//! ```
//! Regtest magic. The client logs its key after the handshake started,
//! as a real client would (the secret exists only once the responder's
//! key arrived), and waits a little before its messages so that a live
//! capture sees traffic of a session whose key is not logged yet.

use bip324::{
    CipherSession, FillBytes, GarbageResult, Handshake, Initialized, PacketType, ReceivedKey, Role,
    SentVersion, VersionResult,
};
use bitcoin::secp256k1::{Secp256k1, SecretKey, ellswift};
use btcsniff::p2p::encode::{self, VersionParams};
use btcsniff::p2p::v2::message_type::{encode_contents, split_contents};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

const REGTEST: [u8; 4] = [0xfa, 0xbf, 0xb5, 0xda];
const DEADLINE: Duration = Duration::from_secs(10);

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Key([u8; 32]);
impl FillBytes for Key {
    fn fill_bytes(&mut self, dest: &mut [u8; 32]) {
        *dest = self.0;
    }
}

fn random_key() -> Result<[u8; 32]> {
    let mut k = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut k)?;
    Ok(k)
}

fn version_payload(local: SocketAddr, remote: SocketAddr, agent: &str) -> Vec<u8> {
    encode::version(&VersionParams {
        version: 70016,
        services: 0,
        timestamp: 1_700_000_000,
        receiver: (0, remote),
        sender: (0, local),
        nonce: 0x5eed,
        user_agent: agent.to_string(),
        start_height: 0,
        relay: false,
    })
}

/// A stream and the bytes read from it but not used yet.
struct Peer {
    stream: TcpStream,
    pending: Vec<u8>,
}

impl Peer {
    /// The next `n` bytes (None: closed before any of them).
    fn take(&mut self, n: usize) -> Result<Option<Vec<u8>>> {
        while self.pending.len() < n {
            let mut chunk = [0u8; 4096];
            let got = self.stream.read(&mut chunk)?;
            if got == 0 {
                if self.pending.is_empty() {
                    return Ok(None);
                }
                return Err("closed inside a packet".into());
            }
            self.pending.extend_from_slice(&chunk[..got]);
        }
        Ok(Some(self.pending.drain(..n).collect()))
    }
}

/// Reads the peer's garbage, terminator, decoys and version packet.
fn finish_handshake(peer: &mut Peer, hs: Handshake<SentVersion>) -> Result<CipherSession> {
    let stream = &mut peer.stream;
    let mut buf = Vec::new();
    let mut hs = Some(hs);
    let (mut got, consumed) = loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err("closed during the handshake".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        match hs.take().ok_or("state")?.receive_garbage(&buf)? {
            GarbageResult::FoundGarbage {
                handshake,
                consumed_bytes,
            } => break (handshake, consumed_bytes),
            GarbageResult::NeedMoreData(h) => hs = Some(h),
        }
    };
    peer.pending = buf[consumed..].to_vec();
    loop {
        let len = peer.take(3)?.ok_or("closed")?;
        let len = got.decrypt_packet_len(len[..].try_into()?)?;
        let mut packet = peer.take(len)?.ok_or("closed")?;
        match got.receive_version(&mut packet)? {
            VersionResult::Complete { cipher } => return Ok(cipher),
            VersionResult::Decoy(next) => got = next,
        }
    }
}

/// One message: (command, payload); None when the peer closed.
fn receive(peer: &mut Peer, cipher: &mut CipherSession) -> Result<Option<(String, Vec<u8>)>> {
    loop {
        let Some(len) = peer.take(3)? else {
            return Ok(None);
        };
        let n = cipher.inbound().decrypt_packet_len(len[..].try_into()?);
        let packet = peer.take(n)?.ok_or("closed")?;
        let (kind, plain) = cipher.inbound().decrypt_to_vec(&packet, None)?;
        if kind == PacketType::Decoy {
            continue;
        }
        let (command, _, payload) = split_contents(&plain[1..]).map_err(|e| e.to_string())?;
        let name = String::from_utf8_lossy(command.as_bytes()).into_owned();
        return Ok(Some((name, payload.to_vec())));
    }
}

fn send(peer: &mut Peer, cipher: &mut CipherSession, command: &str, payload: &[u8]) -> Result<()> {
    let mut contents = Vec::new();
    encode_contents(command, payload, &mut contents);
    let packet = cipher
        .outbound()
        .encrypt_to_vec(&contents, PacketType::Genuine, None);
    peer.stream.write_all(&packet)?;
    Ok(())
}

/// How the responder answers the initiator's version.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    Normal,
    /// Its version packet with one bit of the tag flipped.
    CorruptTag,
}

fn serve(addr: &str, connections: usize, answer: Answer) -> Result<()> {
    let listener = TcpListener::bind(addr)?;
    let secp = Secp256k1::signing_only();
    for _ in 0..connections {
        let (mut stream, remote) = listener.accept()?;
        stream.set_read_timeout(Some(DEADLINE))?;
        let local = stream.local_addr()?;
        let mut their_key = [0u8; 64];
        stream.read_exact(&mut their_key)?;
        let hs = Handshake::<Initialized>::new_with_rng(
            REGTEST,
            Role::Responder,
            &mut Key(random_key()?),
            &secp,
        )?;
        let garbage = [0x99u8; 23];
        let mut out = vec![0u8; Handshake::<Initialized>::send_key_len(Some(&garbage))];
        let hs = hs.send_key(Some(&garbage), &mut out)?;
        let hs = hs.receive_key(their_key)?;
        let decoy: &[u8] = &[7; 10];
        let mut version = vec![0u8; Handshake::<ReceivedKey>::send_version_len(Some(&[decoy]))];
        let hs = hs.send_version(&mut version, Some(&[decoy]))?;
        out.extend_from_slice(&version);
        stream.write_all(&out)?;
        let mut peer = Peer {
            stream,
            pending: Vec::new(),
        };
        let mut cipher = finish_handshake(&mut peer, hs)?;
        while let Some((command, payload)) = receive(&mut peer, &mut cipher)? {
            match command.as_str() {
                "version" => {
                    let v = version_payload(local, remote, "/v2peer-server:1.0/");
                    if answer == Answer::CorruptTag {
                        let mut contents = Vec::new();
                        encode_contents("version", &v, &mut contents);
                        let mut packet =
                            cipher
                                .outbound()
                                .encrypt_to_vec(&contents, PacketType::Genuine, None);
                        if let Some(last) = packet.last_mut() {
                            *last ^= 1;
                        }
                        peer.stream.write_all(&packet)?;
                        continue;
                    }
                    send(&mut peer, &mut cipher, "version", &v)?;
                    send(&mut peer, &mut cipher, "verack", &[])?;
                }
                "ping" => send(&mut peer, &mut cipher, "pong", &payload)?,
                // notfound has getdata's inventory format.
                "getdata" => send(&mut peer, &mut cipher, "notfound", &payload)?,
                _ => {}
            }
        }
    }
    Ok(())
}

fn refuse(addr: &str) -> Result<()> {
    let listener = TcpListener::bind(addr)?;
    let (mut stream, _) = listener.accept()?;
    // Stop listening before the close: a reconnection must be refused,
    // not queued in the backlog and then reset when the listener goes.
    drop(listener);
    stream.set_read_timeout(Some(DEADLINE))?;
    let mut their_key = [0u8; 64];
    stream.read_exact(&mut their_key)?;
    stream.shutdown(std::net::Shutdown::Both)?;
    Ok(())
}

fn client(addr: &str, keylog: &str) -> Result<()> {
    let remote: SocketAddr = addr.parse()?;
    let mut stream = TcpStream::connect_timeout(&remote, DEADLINE)?;
    stream.set_read_timeout(Some(DEADLINE))?;
    let local = stream.local_addr()?;
    let secp = Secp256k1::signing_only();
    let secret_key = random_key()?;
    let hs = Handshake::<Initialized>::new_with_rng(
        REGTEST,
        Role::Initiator,
        &mut Key(secret_key),
        &secp,
    )?;
    let garbage = [0x55u8; 41];
    let mut out = vec![0u8; Handshake::<Initialized>::send_key_len(Some(&garbage))];
    let hs = hs.send_key(Some(&garbage), &mut out)?;
    stream.write_all(&out)?;
    let mut their_key = [0u8; 64];
    stream.read_exact(&mut their_key)?;
    let hs = hs.receive_key(their_key)?;
    let ours: [u8; 64] = out[..64].try_into()?;
    let secret = ellswift::ElligatorSwift::shared_secret(
        ellswift::ElligatorSwift::from_array(ours),
        ellswift::ElligatorSwift::from_array(their_key),
        SecretKey::from_slice(&secret_key)?,
        ellswift::ElligatorSwiftParty::A,
        Some(b"bip324_ellswift_xonly_ecdh"),
    )
    .to_secret_bytes();
    let mut version = vec![0u8; Handshake::<ReceivedKey>::send_version_len(None)];
    let hs = hs.send_version(&mut version, None)?;
    stream.write_all(&version)?;
    let mut peer = Peer {
        stream,
        pending: Vec::new(),
    };
    let mut cipher = finish_handshake(&mut peer, hs)?;
    // Let the capture see encrypted packets before the key is logged.
    let v = version_payload(local, remote, "/v2peer-client:1.0/");
    send(&mut peer, &mut cipher, "version", &v)?;
    std::thread::sleep(Duration::from_millis(400));
    let line = format!(
        "BIP324 {} {}\n",
        btcsniff::p2p::hash::to_hex(ours),
        btcsniff::p2p::hash::to_hex(secret)
    );
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(keylog)?
        .write_all(line.as_bytes())?;
    let mut got = Vec::new();
    while got.len() < 2 {
        let (command, _) = receive(&mut peer, &mut cipher)?.ok_or("closed")?;
        got.push(command);
    }
    send(&mut peer, &mut cipher, "verack", &[])?;
    send(&mut peer, &mut cipher, "ping", &0x77u64.to_le_bytes())?;
    let (command, _) = receive(&mut peer, &mut cipher)?.ok_or("closed")?;
    if command != "pong" {
        return Err(format!("expected pong, got {command}").into());
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match (args.first().map(String::as_str), args.get(1)) {
        (Some("serve"), Some(addr)) => {
            let connections = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1);
            serve(addr, connections, Answer::Normal)
        }
        (Some("corrupt"), Some(addr)) => serve(addr, 1, Answer::CorruptTag),
        (Some("client"), Some(addr)) if args.len() == 3 => client(addr, &args[2]),
        (Some("refuse"), Some(addr)) => refuse(addr),
        _ => Err("usage: v2peer serve ADDR [CONNECTIONS] | v2peer client ADDR KEYLOG | v2peer refuse ADDR | v2peer corrupt ADDR".into()),
    };
    if let Err(e) = result {
        eprintln!("v2peer: {e}");
        std::process::exit(1);
    }
}
