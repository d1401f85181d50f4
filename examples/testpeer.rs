//! A scripted Bitcoin peer built on btcsniff's own codec, for live-capture
//! tests and demos on loopback.
//!
//! ```text
//! testpeer serve 127.0.0.1:18444 [CONNECTIONS]   answer handshakes, pings, getdata (notfound);
//!                                                 a connection not starting with the
//!                                                 magic is closed (a v2 attempt)
//! testpeer client 127.0.0.1:18444                handshake, ping, getdata, close
//! testpeer pings 127.0.0.1:18444 N MS HOLD_MS     handshake, pings with nonces 1..=N
//!                                                 MS apart (each answered), the
//!                                                 connection held HOLD_MS, close
//! ```
//! Regtest magic. Every read has a deadline; the server ends after
//! CONNECTIONS connections (default 1) or 30 s without one.

use btcsniff::p2p::Network;
use btcsniff::p2p::encode::{self, VersionParams};
use btcsniff::p2p::frame::{FrameDecoder, FrameEvent};
use btcsniff::p2p::message::{self, DecodeContext, Message};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

const NET: Network = Network::Regtest;
const DEADLINE: Duration = Duration::from_secs(10);
/// An arbitrary txid the client asks for (the server never has it).
const ASKED_TXID: [u8; 32] = [0x11; 32];

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn version_msg(local: SocketAddr, remote: SocketAddr, agent: &str) -> Vec<u8> {
    let params = VersionParams {
        version: 70016,
        services: 0,
        timestamp: 1_700_000_000,
        receiver: (0, remote),
        sender: (0, local),
        nonce: 0x5eed,
        user_agent: agent.to_string(),
        start_height: 0,
        relay: false,
    };
    encode::frame(NET, "version", &encode::version(&params))
}

/// Reads until `want` returns Some for a message, answering pings.
fn wait_for<T>(
    stream: &mut TcpStream,
    decoder: &mut FrameDecoder,
    mut want: impl FnMut(&str, &Message<'_>, &mut Vec<Vec<u8>>) -> Option<T>,
) -> Result<T> {
    let start = Instant::now();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let mut replies = Vec::new();
        let mut found = None;
        while let Some(event) = decoder.next_event() {
            if let FrameEvent::Frame(frame) = event {
                let decoded =
                    message::decode(&frame.command, frame.payload, &DecodeContext::default());
                let Ok(m) = decoded.message else { continue };
                if let Message::Ping(p) = &m {
                    replies.push(encode::frame(
                        NET,
                        "pong",
                        &encode::pong(p.nonce.unwrap_or(0)),
                    ));
                }
                if found.is_none() {
                    found = want(m.command(), &m, &mut replies);
                }
            }
        }
        for r in replies {
            stream.write_all(&r)?;
        }
        if let Some(v) = found {
            return Ok(v);
        }
        let left = DEADLINE.checked_sub(start.elapsed()).ok_or("timeout")?;
        stream.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err("peer closed".into());
        }
        decoder.push(&buf[..n]);
    }
}

fn serve_one(mut stream: TcpStream) -> Result<()> {
    let local = stream.local_addr()?;
    let remote = stream.peer_addr()?;
    let mut decoder = FrameDecoder::new();
    // Like Core: a connection that does not start with our network's
    // magic (e.g. a v2 initiator's key) is dropped at once.
    let mut magic = [0u8; 4];
    stream.set_read_timeout(Some(DEADLINE))?;
    stream.read_exact(&mut magic)?;
    if magic != NET.magic() {
        return Err(format!("not a v1 message (first bytes {magic:02x?}): disconnecting").into());
    }
    decoder.push(&magic);
    wait_for(&mut stream, &mut decoder, |cmd, _, out| {
        (cmd == "version").then(|| {
            out.push(version_msg(local, remote, "/testpeer-server:1.0/"));
            out.push(encode::frame(NET, "wtxidrelay", &encode::wtxidrelay()));
            out.push(encode::frame(NET, "sendaddrv2", &encode::sendaddrv2()));
            out.push(encode::frame(NET, "verack", &encode::verack()));
            out.push(encode::frame(
                NET,
                "sendcmpct",
                &encode::sendcmpct(false, 2),
            ));
            out.push(encode::frame(NET, "feefilter", &encode::feefilter(1000)));
        })
    })?;
    // Serve until the client closes: getdata is answered with notfound.
    let result = wait_for(&mut stream, &mut decoder, |_, m, out| {
        if let Message::GetData(inv) = m {
            let items: Vec<(u32, _)> = inv.inventory.iter().map(|i| (i.type_id, i.hash)).collect();
            out.push(encode::frame(NET, "notfound", &encode::getdata(&items)));
        }
        None::<()>
    });
    match result {
        Err(e) if e.to_string() == "peer closed" => Ok(()),
        other => other,
    }
}

fn serve(addr: &str, connections: usize) -> Result<()> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let start = Instant::now();
    let mut served = 0;
    while served < connections {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                served += 1;
                if let Err(e) = serve_one(stream) {
                    eprintln!("testpeer: connection {served}: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if start.elapsed() > Duration::from_secs(30) {
                    return Err("no connection within 30 s".into());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn client(addr: &str) -> Result<()> {
    let addr: SocketAddr = addr.parse()?;
    let mut stream = TcpStream::connect_timeout(&addr, DEADLINE)?;
    let local = stream.local_addr()?;
    let mut decoder = FrameDecoder::new();
    stream.write_all(&version_msg(local, addr, "/testpeer-client:1.0/"))?;
    let mut got_version = false;
    wait_for(&mut stream, &mut decoder, |cmd, _, out| {
        if cmd == "version" {
            got_version = true;
            out.push(encode::frame(NET, "verack", &encode::verack()));
        }
        (got_version && cmd == "verack").then_some(())
    })?;
    stream.write_all(&encode::frame(NET, "ping", &encode::ping(77)))?;
    wait_for(&mut stream, &mut decoder, |_, m, _| {
        matches!(m, Message::Pong(p) if p.nonce == 77).then_some(())
    })?;
    let item = (1u32, btcsniff::p2p::Hash256(ASKED_TXID));
    stream.write_all(&encode::frame(NET, "getdata", &encode::getdata(&[item])))?;
    wait_for(&mut stream, &mut decoder, |cmd, _, _| {
        (cmd == "notfound").then_some(())
    })?;
    stream.shutdown(std::net::Shutdown::Both)?;
    Ok(())
}

/// Handshake, then `count` pings (nonces 1..=count), each answered before
/// the next, `interval` apart; the connection stays open `hold` after the
/// last pong (a live capture must show the pings before the close).
fn pings(addr: &str, count: u64, interval: Duration, hold: Duration) -> Result<()> {
    let addr: SocketAddr = addr.parse()?;
    let mut stream = TcpStream::connect_timeout(&addr, DEADLINE)?;
    stream.set_nodelay(true)?;
    let local = stream.local_addr()?;
    let mut decoder = FrameDecoder::new();
    stream.write_all(&version_msg(local, addr, "/testpeer-pings:1.0/"))?;
    let mut got_version = false;
    wait_for(&mut stream, &mut decoder, |cmd, _, out| {
        if cmd == "version" {
            got_version = true;
            out.push(encode::frame(NET, "verack", &encode::verack()));
        }
        (got_version && cmd == "verack").then_some(())
    })?;
    for nonce in 1..=count.min(1000) {
        std::thread::sleep(interval);
        stream.write_all(&encode::frame(NET, "ping", &encode::ping(nonce)))?;
        wait_for(&mut stream, &mut decoder, |_, m, _| {
            matches!(m, Message::Pong(p) if p.nonce == nonce).then_some(())
        })?;
    }
    std::thread::sleep(hold);
    stream.shutdown(std::net::Shutdown::Both)?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("serve"), Some(addr)) => {
            let n = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
            serve(addr, n)
        }
        (Some("client"), Some(addr)) => client(addr),
        (Some("pings"), Some(addr)) => {
            let arg = |i: usize, default: u64| {
                args.get(i)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(default)
            };
            pings(
                addr,
                arg(3, 5),
                Duration::from_millis(arg(4, 500)),
                Duration::from_millis(arg(5, 5000)),
            )
        }
        _ => Err(
            "usage: testpeer serve ADDR [CONNECTIONS] | testpeer client ADDR | testpeer pings ADDR [N MS HOLD_MS]"
                .into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("testpeer: {e}");
        std::process::exit(1);
    }
}
