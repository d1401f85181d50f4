//! JSON Lines: one object per line. The envelope is a contract (README,
//! "JSON output"): `type` is message, finding, flow, note or stats.
//!
//! The envelope is written directly (no intermediate tree); payloads are
//! serialized by serde straight into the output buffer.

use super::event::{Event, Finding, Meta};
use super::{Sink, SinkOptions, time};
use crate::p2p::frame::{Checksum, Frame};
use std::io::{self, Write};
use std::net::SocketAddr;

/// `ip:port`, IPv6 as `[addr]:port` (SocketAddr's own Display).
pub fn endpoint(addr: SocketAddr) -> String {
    addr.to_string()
}

pub struct JsonSink<W: Write> {
    out: io::BufWriter<W>,
    options: SinkOptions,
    /// Reused per line: the envelope is built here, then written at once.
    line: Vec<u8>,
    scratch: String,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W, options: SinkOptions) -> Self {
        JsonSink {
            out: io::BufWriter::with_capacity(256 * 1024, out),
            options,
            line: Vec::with_capacity(4096),
            scratch: String::new(),
        }
    }

    fn meta(&mut self, kind: &str, meta: &Meta) {
        self.scratch.clear();
        time::format_unix(meta.ts, &mut self.scratch);
        let _ = write!(
            self.line,
            "{{\"type\":\"{kind}\",\"ts\":{},\"flow\":{},\"src\":\"{}\",\"dst\":\"{}\"",
            self.scratch, meta.flow, meta.src, meta.dst
        );
    }

    fn message(&mut self, meta: &Meta, frame: &Frame<'_>, message: &MessageResult<'_>) {
        self.meta("message", meta);
        let magic = frame.network.magic();
        let _ = write!(
            self.line,
            ",\"network\":\"{}\",\"magic\":\"{}\",\"command\":",
            frame.network.name(),
            hex::encode(magic)
        );
        let command = String::from_utf8_lossy(frame.command.as_bytes());
        let _ = serde_json::to_writer(&mut self.line, &command);
        let _ = write!(
            self.line,
            ",\"length\":{},\"checksum\":\"{}\"",
            frame.length,
            frame.checksum.name()
        );
        if let Checksum::Invalid { expected, actual } = frame.checksum {
            let _ = write!(
                self.line,
                ",\"checksum_header\":\"{}\",\"checksum_computed\":\"{}\"",
                hex::encode(expected),
                hex::encode(actual)
            );
        }
        match message {
            Ok(m) => {
                self.line.extend_from_slice(b",\"payload\":");
                if serde_json::to_writer(&mut self.line, m).is_err() {
                    self.line.extend_from_slice(b"null");
                }
            }
            Err(e) => {
                let _ = write!(self.line, ",\"payload\":null,\"decode_error\":");
                let _ = serde_json::to_writer(&mut self.line, &e.to_string());
                let _ = write!(self.line, ",\"raw\":\"{}\"", hex::encode(frame.payload));
            }
        }
        self.line.push(b'}');
    }

    fn finding(&mut self, meta: &Meta, finding: &Finding) {
        self.meta("finding", meta);
        // The finding serializes as {"kind":...,values}: splice its fields
        // into the envelope.
        match serde_json::to_vec(finding) {
            Ok(body) if body.len() > 2 => {
                self.line.push(b',');
                self.line.extend_from_slice(&body[1..]);
            }
            _ => self.line.push(b'}'),
        }
    }

    fn object<T: serde::Serialize>(
        &mut self,
        kind: &str,
        ts: Option<crate::capture::Timestamp>,
        value: &T,
    ) {
        let _ = write!(self.line, "{{\"type\":\"{kind}\"");
        if let Some(ts) = ts {
            self.scratch.clear();
            time::format_unix(ts, &mut self.scratch);
            let _ = write!(self.line, ",\"ts\":{}", self.scratch);
        }
        match serde_json::to_vec(value) {
            Ok(body) if body.len() > 2 => {
                self.line.push(b',');
                self.line.extend_from_slice(&body[1..]);
            }
            _ => self.line.push(b'}'),
        }
    }
}

type MessageResult<'a> = Result<crate::p2p::message::Message<'a>, crate::p2p::DecodeError>;

impl<W: Write> Sink for JsonSink<W> {
    fn event(&mut self, event: &Event<'_, '_>) -> io::Result<()> {
        self.line.clear();
        match event {
            Event::Message {
                meta,
                frame,
                message,
            } => self.message(meta, frame, message),
            Event::Finding { meta, finding } => self.finding(meta, finding),
            Event::Flow(record) => self.object("flow", record.ts, *record),
            Event::Note { ts, source, text } => {
                #[derive(serde::Serialize)]
                struct Note<'a> {
                    source: &'a str,
                    text: &'a str,
                }
                self.object("note", Some(*ts), &Note { source, text })
            }
            Event::Stats(stats) => self.object("stats", None, *stats),
        }
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        if self.options.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
