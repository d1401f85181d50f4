//! Annotated text: one line per message, finding and flow event; `-v` adds
//! the decoded field tree below each message.
//!
//! ```text
//! 2011-03-28 14:05:06.000007 1.2.3.4:8333 -> 5.6.7.8:50001 mainnet inv 37B ok  1 item: 1 tx
//! ```
//! Every peer-controlled string goes through [`escape`](super::escape).

use super::direction_cache::{DirectionCache, DirectionKey};
use super::escape::{escape_str, push_escaped};
use super::event::{Event, Finding, FlowRecord, Meta};
use super::stats::Stats;
use super::{Sink, SinkOptions, summary, time};
use crate::capture::Timestamp;
use crate::p2p::frame::{Checksum, Frame};
use crate::p2p::message::Message;
use crate::p2p::{DecodeError, Network};
use std::fmt::Write as _;
use std::io::{self, Write};

pub struct TextSink<W: Write> {
    out: io::BufWriter<W>,
    options: SinkOptions,
    line: String,
    /// ` SRC -> DST ` (and the network) per flow direction.
    directions: DirectionCache,
    /// The last second written and its `YYYY-MM-DD HH:MM:SS`.
    second: Option<(i64, String)>,
}

impl<W: Write> TextSink<W> {
    pub fn new(out: W, options: SinkOptions) -> Self {
        TextSink {
            out: io::BufWriter::with_capacity(256 * 1024, out),
            options,
            line: String::with_capacity(512),
            directions: DirectionCache::default(),
            second: None,
        }
    }

    /// The capture time; the part up to the second is formatted once per
    /// second of capture time.
    fn timestamp(&mut self, ts: Timestamp) {
        match &self.second {
            Some((secs, text)) if *secs == ts.secs => self.line.push_str(text),
            _ => {
                let mut text = String::with_capacity(20);
                time::format_utc_second(ts.secs, &mut text);
                self.line.push_str(&text);
                self.second = Some((ts.secs, text));
            }
        }
        time::push_micros(ts, &mut self.line);
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

    fn message(
        &mut self,
        meta: &Meta,
        frame: &Frame<'_>,
        message: &Result<Message<'_>, DecodeError>,
    ) {
        self.prefix(meta, Some(frame.network));
        push_escaped(&mut self.line, frame.command.as_bytes());
        self.line.push(' ');
        push_u64(&mut self.line, u64::from(frame.length));
        self.line.push_str("B ");
        match frame.checksum {
            Checksum::Valid => self.line.push_str("ok"),
            Checksum::Absent => self.line.push_str("no-checksum"),
            Checksum::Invalid { expected, actual } => {
                let _ = write!(
                    self.line,
                    "BAD-CHECKSUM(header {} computed {})",
                    hex::encode(expected),
                    hex::encode(actual)
                );
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
                    match serde_json::to_value(m) {
                        Ok(tree) => write_tree(&tree, 1, &mut self.line),
                        Err(e) => {
                            let _ = write!(self.line, "    (cannot render: {e})");
                        }
                    }
                    trim_newline(&mut self.line);
                }
            }
            Err(e) => {
                let _ = write!(self.line, "  DECODE-ERROR {}", escape_str(&e.to_string()));
                if self.options.verbose {
                    let _ = write!(self.line, "\n    raw {}", hex::encode(frame.payload));
                }
            }
        }
    }

    fn finding(&mut self, meta: &Meta, finding: &Finding) {
        self.prefix(meta, None);
        let _ = write!(self.line, "! {}", finding.kind());
        // Values as `key=value`, from the same serialization as JSON.
        if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(finding) {
            for (k, v) in map.iter().filter(|(k, _)| k.as_str() != "kind") {
                let _ = write!(self.line, " {k}={}", scalar(v));
            }
        }
    }

    fn flow(&mut self, record: &FlowRecord) {
        if let Some(ts) = record.ts {
            time::format_utc(ts, &mut self.line);
            self.line.push(' ');
        }
        let transport = match record.transport {
            super::event::Transport::V1 => "v1",
            super::event::Transport::V2 => "v2 (BIP324 encrypted)",
            super::event::Transport::Unknown => "unknown (too few bytes to tell v1 from v2)",
        };
        let _ = write!(
            self.line,
            "flow {} {} {} <-> {} {}",
            record.flow, record.event, record.client, record.server, transport
        );
        if let Some(n) = record.network {
            let _ = write!(self.line, " {n}");
        }
        if !record.syn_seen {
            self.line.push_str(" (joined mid-stream)");
        }
        if let Some(reason) = record.reason {
            let _ = write!(self.line, " reason={reason}");
        }
        if record.event == "end" || record.transport != super::event::Transport::V1 {
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
    }

    fn stats(&mut self, s: &Stats) {
        let _ = writeln!(
            self.line,
            "== summary: {} packets ({} not TCP/IP), {} messages, {} payload bytes",
            s.packets, s.packets_skipped, s.messages, s.message_bytes
        );
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
        if let Some(c) = s.capture {
            let _ = writeln!(
                self.line,
                "   capture: {} received, {} dropped by kernel, {} dropped by interface",
                c.received, c.dropped, c.if_dropped
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
        for f in &s.flows {
            let _ = writeln!(
                self.line,
                "   flow {} {} <-> {} {} {} messages {} bytes",
                f.flow,
                f.client,
                f.server,
                f.transport.name(),
                f.messages,
                f.bytes
            );
        }
        if s.flows_not_listed > 0 {
            let _ = writeln!(
                self.line,
                "   ({} more flows not listed)",
                s.flows_not_listed
            );
        }
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
            Event::Flow(record) => self.flow(record),
            Event::Note { ts, source, text } => {
                time::format_utc(*ts, &mut self.line);
                let _ = write!(self.line, " {source}: {}", escape_str(text));
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

/// A JSON scalar for a text line; strings escaped for the terminal.
fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => escape_str(s),
        other => escape_str(&other.to_string()),
    }
}

/// The decoded field tree, indented four spaces per level.
fn write_tree(v: &serde_json::Value, depth: usize, out: &mut String) {
    let pad = "    ".repeat(depth);
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                match child {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_)
                        if !is_empty(child) =>
                    {
                        let _ = writeln!(out, "{pad}{k}:");
                        write_tree(child, depth + 1, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{k}: {}", scalar(child));
                    }
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                match child {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_)
                        if !is_empty(child) =>
                    {
                        let _ = writeln!(out, "{pad}[{i}]");
                        write_tree(child, depth + 1, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}[{i}] {}", scalar(child));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other));
        }
    }
}

fn is_empty(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(m) => m.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        _ => false,
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
