//! JSON Lines: one object per line. The envelope is a contract (README,
//! "JSON output"): `type` is message, finding, flow, note or stats.
//!
//! The envelope is written directly (no intermediate tree); payloads and
//! records are written by their field walks ([`fields`]) through the one
//! line writer ([`line::JsonLine`]) straight into the output buffer.

use super::{Sink, SinkOptions};
use crate::analyzer::{Event, Finding, Meta};
use crate::capture::Timestamp;
use crate::p2p::Network;
use crate::p2p::frame::{Checksum, Frame};
use crate::p2p::hash::write_hex;
use crate::p2p::v2::MessageType;
use fields::Fields as _;
use std::io::{self, Write};

pub mod announce;
mod envelope;
pub mod fields;
mod flow_peer;
mod flows;
pub mod line;
pub mod payload;
mod peer;
pub mod records;

/// A command as a JSON string's contents: as is when nothing needs
/// escaping (every real command), escaped like any peer-sent text if not.
fn write_command(out: &mut Vec<u8>, command: &[u8]) {
    if command
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.extend_from_slice(command);
    } else {
        line::write_escaped(out, &String::from_utf8_lossy(command));
    }
}

/// Unix seconds with microsecond precision, as
/// [`super::time::format_unix`] writes them.
fn write_unix_time(out: &mut Vec<u8>, ts: Timestamp) {
    line::write_i64(out, ts.secs);
    match super::time::micros_digits(ts) {
        Some(digits) => out.extend_from_slice(&digits),
        None => {
            let _ = write!(out, ".{:06}", ts.nanos / 1000);
        }
    }
}

/// A decoded payload as the sink writes it (public for the differential
/// tests); `addresses`: the network with `-v` (see [`payload`]).
pub fn write_payload(
    out: &mut Vec<u8>,
    message: &crate::p2p::message::Message<'_>,
    addresses: Option<Network>,
) {
    payload::payload(message, addresses, &mut line::JsonLine::new(out));
}

pub struct JsonSink<W: Write> {
    out: W,
    options: SinkOptions,
    /// Lines are built here, one after the other, and written out when it
    /// holds [`WRITE_AT`] bytes (or after each line with `flush_each`): the
    /// buffer of a `BufWriter` without copying every line into it.
    line: Vec<u8>,
    envelopes: envelope::EnvelopeCache,
    peer_envelopes: peer::PeerEnvelopes,
}

/// How many bytes of finished lines are written at once.
const WRITE_AT: usize = 256 * 1024;
/// The line buffer's usual capacity: the lines written at once, plus room
/// for the line that crosses [`WRITE_AT`].
const LINE_CAPACITY: usize = WRITE_AT + 64 * 1024;
/// A larger buffer (grown by a big block) is given back after writing.
const KEEP_AT_MOST: usize = 32 * 1024 * 1024;

impl<W: Write> JsonSink<W> {
    pub fn new(out: W, options: SinkOptions) -> Self {
        JsonSink {
            out,
            options,
            line: Vec::with_capacity(LINE_CAPACITY),
            envelopes: envelope::EnvelopeCache::default(),
            peer_envelopes: peer::PeerEnvelopes::default(),
        }
    }

    /// `{"type":KIND,"ts":…,"flow":…,"src":…,"dst":…` and, for a message,
    /// its `"network"` and `"magic"`.
    fn meta(&mut self, kind: &str, meta: &Meta, network: Option<Network>) {
        let line = &mut self.line;
        line.extend_from_slice(b"{\"type\":\"");
        line.extend_from_slice(kind.as_bytes());
        line.extend_from_slice(b"\",\"ts\":");
        write_unix_time(line, meta.ts);
        self.envelopes
            .write(line, meta.flow, meta.src, meta.dst, network);
    }

    fn message(&mut self, meta: &Meta, frame: &Frame<'_>, message: &MessageResult<'_>) {
        self.meta("message", meta, Some(frame.network));
        self.message_fields(frame, message);
    }

    /// Everything of a message after its envelope: `,"command":…` to the
    /// closing brace.
    fn message_fields(&mut self, frame: &Frame<'_>, message: &MessageResult<'_>) {
        let line = &mut self.line;
        line.extend_from_slice(b",\"command\":\"");
        write_command(line, frame.command.as_bytes());
        line.push(b'"');
        if let Ok(crate::p2p::message::Message::Unknown { .. }) = message {
            // A command this decoder does not know: its payload is only
            // `{"raw":…}`. Absent for every known command.
            line.extend_from_slice(b",\"known\":false");
        }
        line.extend_from_slice(b",\"length\":");
        line::write_u64(line, u64::from(frame.length));
        line.extend_from_slice(b",\"checksum\":\"");
        line.extend_from_slice(frame.checksum.name().as_bytes());
        line.push(b'"');
        if let Checksum::Invalid { expected, actual } = frame.checksum {
            line.extend_from_slice(b",\"checksum_header\":\"");
            write_hex(line, &expected);
            line.extend_from_slice(b"\",\"checksum_computed\":\"");
            write_hex(line, &actual);
            line.push(b'"');
        }
        if let Some(message_type) = frame.v2 {
            line.extend_from_slice(b",\"transport\":\"v2\",\"v2_encoding\":\"");
            line.extend_from_slice(message_type.name().as_bytes());
            line.push(b'"');
            if let MessageType::ShortId(id) = message_type {
                line.extend_from_slice(b",\"v2_short_id\":");
                line::write_u64(line, u64::from(id));
            }
        }
        match message {
            Ok(m) => {
                // The JSON of a payload is about three times its size (hex
                // doubles scripts and hashes): one allocation up front.
                line.reserve(frame.payload.len().saturating_mul(4));
                line.extend_from_slice(b",\"payload\":");
                write_payload(line, m, self.options.verbose.then_some(frame.network));
                if self.options.raw {
                    line.extend_from_slice(b",\"raw\":\"");
                    write_hex(line, frame.payload);
                    line.push(b'"');
                }
            }
            Err(e) => {
                line.extend_from_slice(b",\"payload\":null,\"decode_error\":\"");
                line::write_escaped(line, &e.to_string());
                line.extend_from_slice(b"\",\"raw\":\"");
                write_hex(line, frame.payload);
                line.push(b'"');
            }
        }
        line.push(b'}');
    }

    /// Writes the finished lines. A block's line grows the buffer to a few
    /// megabytes, kept for the next block; past [`KEEP_AT_MOST`] (a 4 MB
    /// block of tiny transactions) it goes back to the usual size.
    fn write_out(&mut self) -> io::Result<()> {
        let result = self.out.write_all(&self.line);
        self.line.clear();
        if self.line.capacity() > KEEP_AT_MOST {
            self.line.shrink_to(LINE_CAPACITY);
        }
        result
    }

    fn finding(&mut self, meta: &Meta, finding: &Finding) {
        self.meta("finding", meta, None);
        self.finding_fields(finding);
    }

    /// A finding's `kind` and values, closing the line's object.
    fn finding_fields(&mut self, finding: &Finding) {
        let mut f = line::JsonLine::continuing(&mut self.line);
        f.field_name(fields::key!("kind"), finding.kind());
        records::finding_values(finding, &mut f);
        self.line.push(b'}');
    }

    /// A record: `{"type":KIND`, its `ts` when it has one, the fields
    /// `walk` writes, and the closing brace.
    fn record(
        &mut self,
        kind: &str,
        ts: Option<Timestamp>,
        walk: impl FnOnce(&mut line::JsonLine<'_>),
    ) {
        self.line.extend_from_slice(b"{\"type\":\"");
        self.line.extend_from_slice(kind.as_bytes());
        self.line.push(b'"');
        if let Some(ts) = ts {
            self.line.extend_from_slice(b",\"ts\":");
            write_unix_time(&mut self.line, ts);
        }
        walk(&mut line::JsonLine::continuing(&mut self.line));
        self.line.push(b'}');
    }
}

/// Lines not yet written go out when the sink is dropped, as a
/// `BufWriter`'s would (errors then have nowhere to go; `flush` reports
/// them).
impl<W: Write> Drop for JsonSink<W> {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            let _ = self.out.write_all(&self.line);
            let _ = self.out.flush();
        }
    }
}

type MessageResult<'a> = Result<crate::p2p::message::Message<'a>, crate::p2p::DecodeError>;

impl<W: Write> Sink for JsonSink<W> {
    fn event(&mut self, event: &Event<'_, '_>) -> io::Result<()> {
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
            Event::Flow(record) => {
                self.record("flow", record.ts, |f| flows::flow_record(record, f))
            }
            Event::Note { ts, source, text } => {
                self.record("note", Some(*ts), |f| flows::note(source, text, f))
            }
            Event::Stats(stats) => self.record("stats", None, |f| flows::stats(stats, f)),
        }
        self.line.push(b'\n');
        if self.options.flush_each || self.line.len() >= WRITE_AT && !self.options.held {
            self.write_out()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_out()?;
        self.out.flush()
    }

    fn unwritten(&self) -> Option<usize> {
        Some(self.line.len())
    }

    fn take_unwritten(&mut self, mut spare: Vec<u8>) -> Result<Vec<u8>, Vec<u8>> {
        spare.clear();
        Ok(std::mem::replace(&mut self.line, spare))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_time_matches_the_shared_formatter() {
        for (secs, nanos) in [
            (0, 0),
            (1_732_000_000, 1_420_999),
            (-5, 999_999_999),
            (7, 1_000),
        ] {
            let ts = Timestamp { secs, nanos };
            let mut expected = String::new();
            crate::output::time::format_unix(ts, &mut expected);
            let mut ours = Vec::new();
            write_unix_time(&mut ours, ts);
            assert_eq!(String::from_utf8(ours).unwrap(), expected);
        }
    }

    #[test]
    fn commands_are_escaped_only_when_needed() {
        for (command, expected) in [
            (&b"inv"[..], "inv"),
            (b"sendaddrv2", "sendaddrv2"),
            (b"a\"b\\c", "a\\\"b\\\\c"),
            (b"x\x01\xff", "x\\u0001\u{fffd}"),
        ] {
            let mut ours = Vec::new();
            write_command(&mut ours, command);
            assert_eq!(String::from_utf8(ours).unwrap(), expected);
            let reference = serde_json::to_string(&String::from_utf8_lossy(command)).unwrap();
            assert_eq!(format!("\"{expected}\""), reference);
        }
    }

    #[test]
    fn lines_are_written_when_the_sink_is_dropped_unflushed() {
        let mut out = Vec::new();
        {
            let mut sink = JsonSink::new(&mut out, SinkOptions::default());
            let ts = Timestamp { secs: 1, nanos: 0 };
            let note = Event::Note {
                ts,
                source: "probe",
                text: "hello",
            };
            sink.event(&note).unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"type\":\"note\",\"ts\":1.000000,\"source\":\"probe\",\"text\":\"hello\"}\n"
        );
    }
}
