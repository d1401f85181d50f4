//! Annotated text: one line per message, finding and flow event; `-v` adds
//! the decoded field tree below each message.
//!
//! ```text
//! 2011-03-28 14:05:06.000007 1.2.3.4:8333 -> 5.6.7.8:50001 mainnet inv 37B ok  1 item: 1 tx
//! ```
//! Every peer-controlled string goes through [`escape`](super::escape).

use super::escape::{escape_bytes, escape_str};
use super::event::{Event, Finding, FlowRecord, Meta};
use super::stats::Stats;
use super::{Sink, SinkOptions, summary, time};
use crate::p2p::DecodeError;
use crate::p2p::frame::{Checksum, Frame};
use crate::p2p::message::Message;
use std::fmt::Write as _;
use std::io::{self, Write};

pub struct TextSink<W: Write> {
    out: io::BufWriter<W>,
    options: SinkOptions,
    line: String,
}

impl<W: Write> TextSink<W> {
    pub fn new(out: W, options: SinkOptions) -> Self {
        TextSink {
            out: io::BufWriter::with_capacity(256 * 1024, out),
            options,
            line: String::with_capacity(512),
        }
    }

    fn prefix(&mut self, meta: &Meta) {
        time::format_utc(meta.ts, &mut self.line);
        let _ = write!(self.line, " {} -> {} ", meta.src, meta.dst);
    }

    fn message(
        &mut self,
        meta: &Meta,
        frame: &Frame<'_>,
        message: &Result<Message<'_>, DecodeError>,
    ) {
        self.prefix(meta);
        let command = escape_bytes(frame.command.as_bytes());
        let _ = write!(
            self.line,
            "{} {} {}B ",
            frame.network, command, frame.length
        );
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
        self.prefix(meta);
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
        if record.event == "end" || record.transport == super::event::Transport::V2 {
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
            "   checksums invalid {}, absent {}; decode errors {}; gaps {} ({} bytes); flows v1 {}, v2 {}",
            s.checksum_invalid,
            s.checksum_absent,
            s.decode_errors,
            s.gaps,
            s.gap_bytes,
            s.flows_v1,
            s.flows_v2
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
