//! Annotated text: one line per message, finding and flow event; `-v` adds
//! the decoded field tree below each message.
//!
//! ```text
//! 2011-03-28 14:05:06.000007 1.2.3.4:8333 -> 5.6.7.8:50001 mainnet inv 37B ok  1 item: 1 tx
//! ```
//! Every peer-controlled string goes through [`escape`](super::escape).
//!
//! On a terminal ([`TextLook`](super::TextLook)) the same line is laid out
//! in aligned columns with a `Z` on UTC times, and coloured; piped, it is
//! exactly the line above.

mod announce;
mod clock;
mod peer_table;
mod style;
mod tree;

use super::direction_cache::{DirectionCache, DirectionKey};
use super::escape::{escape_str, push_escaped};
use super::json::{payload, records};
use super::{Sink, SinkOptions, summary};
use crate::analyzer::Stats;
use crate::analyzer::event::{Event, Finding, FlowEvent, FlowRecord, Meta, Transport, V2Summary};
use crate::capture::Timestamp;
use crate::p2p::frame::{Checksum, Frame};
use crate::p2p::message::Message;
use crate::p2p::v2::MessageType;
use crate::p2p::{DecodeError, Network};
use clock::Clock;
use std::fmt::Write as _;
use std::io::{self, Write};
use style::Painter;
use tree::{Pairs, Tree};

mod peer;

pub struct TextSink<W: Write> {
    out: io::BufWriter<W>,
    options: SinkOptions,
    line: String,
    /// ` SRC -> DST ` (and the network) per flow direction.
    directions: DirectionCache,
    clock: Clock,
    paint: Painter,
    /// On a terminal: the endpoint columns' width, the widest seen so far.
    endpoint_width: usize,
}

/// Column widths on a terminal: endpoints at least `127.0.0.1:18444` wide
/// (wider when one is), a network name (`testnet3`), a command (12 bytes
/// at most), a length (Core's 4,000,000-byte limit).
const MIN_ENDPOINT_WIDTH: usize = 15;
const NETWORK_WIDTH: usize = 8;
const COMMAND_WIDTH: usize = 12;
const LENGTH_WIDTH: usize = 7;

impl<W: Write> TextSink<W> {
    pub fn new(out: W, options: SinkOptions) -> Self {
        TextSink {
            out: io::BufWriter::with_capacity(256 * 1024, out),
            options,
            line: String::with_capacity(512),
            directions: DirectionCache::default(),
            clock: Clock::new(options.look.time, options.look.terminal),
            paint: Painter {
                colour: options.look.colour,
            },
            endpoint_width: MIN_ENDPOINT_WIDTH,
        }
    }

    /// The time column.
    fn timestamp(&mut self, ts: Timestamp) {
        self.paint.start(&mut self.line, style::QUIET);
        self.clock.push(ts, &mut self.line);
        self.paint.end(&mut self.line, style::QUIET);
    }

    /// `TIME SRC -> DST ` and, for a message, its network.
    fn prefix(&mut self, meta: &Meta, network: Option<Network>) {
        self.timestamp(meta.ts);
        let key = DirectionKey {
            flow: meta.flow,
            src: meta.src,
            dst: meta.dst,
            network,
        };
        if self.options.look.terminal {
            self.aligned_direction(key);
            return;
        }
        let cached = self.directions.get_or_build(key, |bytes| {
            let _ = match network {
                Some(n) => write!(bytes, " {} -> {} {n} ", key.src, key.dst),
                None => write!(bytes, " {} -> {} ", key.src, key.dst),
            };
        });
        // Built by `write!` above: always UTF-8.
        self.line
            .push_str(std::str::from_utf8(cached).unwrap_or_default());
    }

    /// ` SRC -> DST NETWORK ` in columns as wide as the widest endpoint
    /// seen so far (a human reads this: no cache needed).
    fn aligned_direction(&mut self, key: DirectionKey) {
        let (src, dst) = (key.src.to_string(), key.dst.to_string());
        self.endpoint_width = self.endpoint_width.max(src.len()).max(dst.len());
        let width = self.endpoint_width;
        let _ = write!(self.line, " {src:>width$} -> {dst:<width$} ");
        if let Some(n) = key.network {
            let _ = write!(self.line, "{:<NETWORK_WIDTH$} ", n.to_string());
        }
    }

    /// The command in its family's colour, padded to the command column,
    /// and the padding that right-aligns the length after it.
    fn aligned_command(&mut self, command: &[u8], length: u32) {
        let family = style::family(command).style();
        self.paint.start(&mut self.line, family);
        let before = self.line.len();
        push_escaped(&mut self.line, command);
        let width = self.line.len() - before;
        self.paint.end(&mut self.line, family);
        // Padded outside the colour, so that only the name is coloured.
        let digits = length.checked_ilog10().unwrap_or(0) as usize + 1;
        let pad = COMMAND_WIDTH.saturating_sub(width) + LENGTH_WIDTH.saturating_sub(digits);
        self.line.extend(std::iter::repeat_n(' ', pad));
    }

    fn message(
        &mut self,
        meta: &Meta,
        frame: &Frame<'_>,
        message: &Result<Message<'_>, DecodeError>,
    ) {
        self.prefix(meta, Some(frame.network));
        self.message_fields(frame, message);
    }

    /// Everything of a message's line after its endpoints and network.
    fn message_fields(&mut self, frame: &Frame<'_>, message: &Result<Message<'_>, DecodeError>) {
        let command = frame.command.as_bytes();
        if self.options.look.terminal {
            self.aligned_command(command, frame.length);
        } else {
            push_escaped(&mut self.line, command);
        }
        self.line.push(' ');
        push_u64(&mut self.line, u64::from(frame.length));
        self.line.push_str("B ");
        match frame.checksum {
            Checksum::Valid => self.line.push_str("ok"),
            // v2 has no checksum; the AEAD tag verified instead.
            Checksum::Absent => self.line.push_str(match frame.v2 {
                Some(MessageType::ShortId(_)) => "v2",
                Some(MessageType::Long) => "v2-long",
                None => "no-checksum",
            }),
            Checksum::Invalid { expected, actual } => {
                self.paint.start(&mut self.line, style::BAD);
                let _ = write!(
                    self.line,
                    "BAD-CHECKSUM(header {} computed {})",
                    crate::p2p::hash::to_hex(expected),
                    crate::p2p::hash::to_hex(actual)
                );
                self.paint.end(&mut self.line, style::BAD);
            }
        }
        match message {
            Ok(m) => {
                let before = self.line.len();
                self.line.push_str("  ");
                summary::summarize(m, &mut self.line);
                if self.line.len() == before + 2 {
                    self.line.truncate(before);
                }
                if self.options.verbose {
                    self.line.push('\n');
                    // The same walk as the JSON payload.
                    payload::payload(m, Some(frame.network), &mut Tree::new(&mut self.line, 1));
                    trim_newline(&mut self.line);
                }
                if self.options.raw {
                    let _ = write!(
                        self.line,
                        "\n    raw {}",
                        crate::p2p::hash::to_hex(frame.payload)
                    );
                }
            }
            Err(e) => {
                self.line.push_str("  ");
                let error = format!("DECODE-ERROR {}", escape_str(&e.to_string()));
                self.paint.paint(&mut self.line, style::BAD, error);
                if self.options.verbose || self.options.raw {
                    let _ = write!(
                        self.line,
                        "\n    raw {}",
                        crate::p2p::hash::to_hex(frame.payload)
                    );
                }
            }
        }
    }

    fn finding(&mut self, meta: &Meta, finding: &Finding) {
        self.prefix(meta, None);
        self.finding_fields(finding);
    }

    /// `! KIND key=value…`
    fn finding_fields(&mut self, finding: &Finding) {
        self.paint.start(&mut self.line, style::FINDING);
        self.line.push_str("! ");
        self.line.push_str(finding.kind());
        // Values as `key=value`, from the same walk as JSON.
        records::finding_values(
            finding,
            &mut Pairs {
                out: &mut self.line,
            },
        );
        self.paint.end(&mut self.line, style::FINDING);
    }

    fn flow(&mut self, record: &FlowRecord) {
        if let Some(ts) = record.ts {
            self.timestamp(ts);
            self.line.push(' ');
        }
        self.paint.start(&mut self.line, style::QUIET);
        let transport = match record.transport {
            Transport::V1 => "v1",
            Transport::V2 => "v2 (BIP324 encrypted)",
            Transport::Unknown => "unknown (too few bytes to tell v1 from v2)",
        };
        let _ = write!(
            self.line,
            "flow {} {} {} <-> {} {}",
            record.flow,
            record.event.name(),
            record.client,
            record.server,
            transport
        );
        if let Some(n) = record.network {
            let _ = write!(self.line, " {n}");
        }
        if !record.syn_seen {
            self.line.push_str(" (joined mid-stream)");
        }
        if let Some(reason) = record.reason {
            let _ = write!(self.line, " reason={}", reason.name());
        }
        if let Some(v2) = &record.v2 {
            write_v2_summary(v2, &mut self.line);
        }
        if matches!(record.event, FlowEvent::End | FlowEvent::Snapshot)
            || record.transport != Transport::V1
        {
            let _ = write!(
                self.line,
                " packets {}/{} bytes {}/{} messages {}/{} (client/server)",
                record.packets.c2s,
                record.packets.s2c,
                record.bytes.c2s,
                record.bytes.s2c,
                record.messages.c2s,
                record.messages.s2c
            );
        }
        self.paint.end(&mut self.line, style::QUIET);
    }

    fn stats(&mut self, s: &Stats) {
        let _ = writeln!(
            self.line,
            "== summary: {} packets ({} not TCP/IP), {} messages, {} payload bytes",
            s.packets, s.packets_skipped, s.messages, s.message_bytes
        );
        if s.packets_cut_by_snaplen > 0 || !s.unsupported_link_types.is_empty() {
            let _ = write!(
                self.line,
                "   skipped: {} cut by the snap length",
                s.packets_cut_by_snaplen
            );
            for (link, n) in &s.unsupported_link_types {
                let _ = write!(self.line, ", {n} of unsupported link type {link}");
            }
            self.line.push('\n');
        }
        let _ = writeln!(
            self.line,
            "   checksums invalid {}, absent {}; decode errors {}; gaps {} ({} bytes); flows v1 {}, v2 {}, unknown {}",
            s.checksum_invalid,
            s.checksum_absent,
            s.decode_errors,
            s.gaps,
            s.gap_bytes,
            s.flows_v1,
            s.flows_v2,
            s.flows_unknown
        );
        if s.flows_v2 > 0 {
            let _ = writeln!(
                self.line,
                "   v2 flows decrypted {} of {}, v2 messages {}",
                s.flows_v2_decrypted, s.flows_v2, s.messages_v2
            );
        }
        if let Some(c) = s.capture {
            let _ = writeln!(
                self.line,
                "   capture: {} received, {} dropped by kernel, {} dropped by interface",
                c.received, c.dropped, c.if_dropped
            );
        }
        for w in &s.workers {
            let _ = writeln!(
                self.line,
                "   worker {}: {} flows, {} events, {} messages",
                w.worker, w.flows, w.events, w.messages
            );
        }
        let _ = writeln!(
            self.line,
            "   {:<14} {:>10} {:>14}",
            "command", "count", "bytes"
        );
        for (cmd, c) in &s.by_command {
            let _ = writeln!(
                self.line,
                "   {:<14} {:>10} {:>14}",
                escape_str(cmd),
                c.count,
                c.bytes
            );
        }
        for (kind, n) in &s.findings {
            let _ = writeln!(self.line, "   finding {kind}: {n}");
        }
        if !s.flows.is_empty() {
            peer_table::write_peer_table(&s.flows, &mut self.line);
        }
        for p in &s.peers {
            let _ = writeln!(
                self.line,
                "   peer {} {} {} {}: recv {} messages {} bytes, sent {} messages {} bytes",
                p.flow,
                escape_str(&p.peer),
                p.source,
                p.network,
                p.messages.recv,
                p.bytes.recv,
                p.messages.sent,
                p.bytes.sent
            );
            if p.messages.unknown > 0 {
                let _ = writeln!(
                    self.line,
                    "     (direction unknown: {} messages {} bytes)",
                    p.messages.unknown, p.bytes.unknown
                );
            }
        }
        if s.peers_not_listed > 0 {
            let _ = writeln!(
                self.line,
                "   ({} more peers not listed)",
                s.peers_not_listed
            );
        }
        if s.flows_not_listed > 0 {
            let _ = writeln!(
                self.line,
                "   ({} more flows not listed)",
                s.flows_not_listed
            );
        }
        self.announce_summary(&s.announce);
        trim_newline(&mut self.line);
    }
}

impl<W: Write> Sink for TextSink<W> {
    fn event(&mut self, event: &Event<'_, '_>) -> io::Result<()> {
        self.line.clear();
        match event {
            Event::Message {
                meta,
                frame,
                message,
            } => self.message(meta, frame, message),
            Event::Finding { meta, finding } => self.finding(meta, finding),
            Event::PeerMessage {
                meta,
                frame,
                message,
            } => self.peer_message(meta, frame, message),
            Event::PeerFinding { meta, finding } => self.peer_finding(meta, finding),
            Event::Flow(record) => self.flow(record),
            Event::Note { ts, source, text } => {
                self.timestamp(*ts);
                self.line.push(' ');
                let note = format!("{source}: {}", escape_str(text));
                self.paint.paint(&mut self.line, style::HEADING, note);
            }
            Event::Stats(stats) => self.stats(stats),
        }
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())?;
        if self.options.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn unwritten(&self) -> Option<usize> {
        Some(self.out.buffer().len())
    }
}

/// `n` in decimal, without `fmt`.
fn push_u64(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

fn trim_newline(s: &mut String) {
    while s.ends_with('\n') {
        s.pop();
    }
}

/// ` handshake captured decryption decrypted session_id … garbage 12/0
/// decoys 0/1`: a v2 flow's facts (client/server order).
fn write_v2_summary(v2: &V2Summary, line: &mut String) {
    let _ = write!(
        line,
        " handshake {} decryption {}",
        v2.handshake, v2.decryption
    );
    if let Some(id) = &v2.session_id {
        let _ = write!(line, " session_id {id}");
    }
    let opt = |n: Option<u64>| n.map_or("-".to_string(), |n| n.to_string());
    if v2.garbage.c2s.is_some() || v2.garbage.s2c.is_some() {
        let _ = write!(
            line,
            " garbage {}/{} decoys {}/{} v2-packets {}/{}",
            opt(v2.garbage.c2s),
            opt(v2.garbage.s2c),
            v2.decoys.c2s,
            v2.decoys.s2c,
            v2.packets_decrypted.c2s,
            v2.packets_decrypted.s2c
        );
    }
    if v2.undecrypted_bytes.c2s + v2.undecrypted_bytes.s2c > 0 {
        let _ = write!(
            line,
            " undecrypted bytes {}/{}",
            v2.undecrypted_bytes.c2s, v2.undecrypted_bytes.s2c
        );
    }
}

#[cfg(test)]
mod number_tests {
    use super::push_u64;

    #[test]
    fn decimal_like_display() {
        for n in [0, 7, 10, 99, 100, 4_000_000, u64::from(u32::MAX), u64::MAX] {
            let mut s = String::from("x");
            push_u64(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }
}
