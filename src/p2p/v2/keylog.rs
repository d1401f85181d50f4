//! The BIP324 key log: one line per session, like SSLKEYLOGFILE's
//! `CLIENT_RANDOM <client random> <master secret>`:
//!
//! ```text
//! # comment
//! BIP324 <initiator's 64-byte ElligatorSwift key, 128 hex> <ECDH shared secret, 64 hex>
//! ```
//!
//! The initiator's key is the first 64 bytes the initiator sent, so it
//! finds its flow in a capture. Blank lines and `#` comments are skipped;
//! any other line is counted and ignored (a file may hold other keys), a
//! `BIP324` line that does not parse is counted as malformed. Text in,
//! keys out: reading the file (and again when it grows) is the caller's.

use super::ELLSWIFT_KEY_LEN;
use super::keys::SECRET_LEN;
use std::collections::HashMap;

/// The label that starts a line of this format.
pub const LABEL: &str = "BIP324";

/// Longest line kept while it is being read (a real one is 201 bytes);
/// the rest of a longer line is skipped and the line counted as other.
pub const MAX_LINE_LEN: usize = 1024;

#[derive(Clone, PartialEq, Eq)]
pub struct KeyLogEntry {
    pub initiator_key: [u8; ELLSWIFT_KEY_LEN],
    pub shared_secret: [u8; SECRET_LEN],
}

impl KeyLogEntry {
    /// The entry as a key-log line (with its newline).
    pub fn to_line(&self) -> String {
        format!(
            "{LABEL} {} {}\n",
            crate::p2p::hash::to_hex(self.initiator_key),
            crate::p2p::hash::to_hex(self.shared_secret)
        )
    }
}

impl std::fmt::Debug for KeyLogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLogEntry")
            .field(
                "initiator_key",
                &crate::p2p::hash::to_hex(self.initiator_key),
            )
            .finish_non_exhaustive()
    }
}

/// What one line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Entry(KeyLogEntry),
    /// Blank, or a `#` comment.
    Skipped,
    /// A `BIP324` line whose keys do not parse.
    Malformed,
    /// Anything else (another kind of key, text).
    Other,
}

/// Parses one line (without its newline; a trailing `\r` is whitespace).
pub fn parse_line(line: &[u8]) -> Line {
    let text = match std::str::from_utf8(line) {
        Ok(t) => t.trim(),
        Err(_) => return Line::Other,
    };
    if text.is_empty() || text.starts_with('#') {
        return Line::Skipped;
    }
    let mut fields = text.split_ascii_whitespace();
    if fields.next() != Some(LABEL) {
        return Line::Other;
    }
    let key = fields.next().and_then(hex_array::<ELLSWIFT_KEY_LEN>);
    let secret = fields.next().and_then(hex_array::<SECRET_LEN>);
    match (key, secret, fields.next()) {
        (Some(initiator_key), Some(shared_secret), None) => Line::Entry(KeyLogEntry {
            initiator_key,
            shared_secret,
        }),
        _ => Line::Malformed,
    }
}

fn hex_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// The keys read so far, and what the lines were. Fed in any chunks (a
/// file read as it grows); a line is taken when its newline arrives, or at
/// [`KeyLog::finish`].
#[derive(Debug, Default, Clone)]
pub struct KeyLog {
    keys: HashMap<[u8; ELLSWIFT_KEY_LEN], [u8; SECRET_LEN]>,
    /// Lines read (complete ones).
    pub lines: u64,
    /// `BIP324` lines taken (a later line for the same key replaces the
    /// earlier one).
    pub entries: u64,
    /// Lines that are neither entries, comments nor blank.
    pub other_lines: u64,
    /// `BIP324` lines that do not parse, and the first one's number.
    pub malformed_lines: u64,
    pub first_malformed_line: Option<u64>,
    /// The line being read, up to [`MAX_LINE_LEN`] bytes.
    partial: Vec<u8>,
    partial_too_long: bool,
}

impl KeyLog {
    pub fn new() -> KeyLog {
        KeyLog::default()
    }

    /// Parses a whole file's contents.
    pub fn parse(text: &[u8]) -> KeyLog {
        let mut log = KeyLog::new();
        log.push(text);
        log.finish();
        log
    }

    /// The shared secret of the session whose initiator sent `key` first.
    pub fn get(&self, key: &[u8; ELLSWIFT_KEY_LEN]) -> Option<&[u8; SECRET_LEN]> {
        self.keys.get(key)
    }

    /// Distinct initiator keys known.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds an entry directly (e.g. the probe's own session).
    pub fn insert(&mut self, entry: KeyLogEntry) {
        self.keys.insert(entry.initiator_key, entry.shared_secret);
    }

    /// Appends bytes of the file; complete lines are parsed.
    pub fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let (piece, rest, ended) = match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => (
                    bytes.get(..i).unwrap_or(&[]),
                    bytes.get(i.saturating_add(1)..).unwrap_or(&[]),
                    true,
                ),
                None => (bytes, &[][..], false),
            };
            let room = MAX_LINE_LEN.saturating_sub(self.partial.len());
            if piece.len() > room {
                self.partial_too_long = true;
            } else {
                self.partial.extend_from_slice(piece);
            }
            if ended {
                self.end_line();
            }
            bytes = rest;
        }
    }

    /// The file ended: a last line without newline is taken.
    pub fn finish(&mut self) {
        if !self.partial.is_empty() || self.partial_too_long {
            self.end_line();
        }
    }

    /// Bytes of an unfinished last line held (at most [`MAX_LINE_LEN`]).
    pub fn pending_bytes(&self) -> usize {
        self.partial.len()
    }

    fn end_line(&mut self) {
        self.lines = self.lines.saturating_add(1);
        let line = if self.partial_too_long {
            Line::Other
        } else {
            parse_line(&self.partial)
        };
        self.partial.clear();
        self.partial_too_long = false;
        match line {
            Line::Entry(e) => {
                self.entries = self.entries.saturating_add(1);
                self.insert(e);
            }
            Line::Skipped => {}
            Line::Malformed => {
                self.malformed_lines = self.malformed_lines.saturating_add(1);
                self.first_malformed_line.get_or_insert(self.lines);
            }
            Line::Other => self.other_lines = self.other_lines.saturating_add(1),
        }
    }

    /// One line for a person: what was read.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{} BIP324 session key{}",
            self.len(),
            if self.len() == 1 { "" } else { "s" }
        );
        if self.other_lines > 0 {
            text.push_str(&format!(
                ", {} other line{} ignored",
                self.other_lines,
                if self.other_lines == 1 { "" } else { "s" }
            ));
        }
        if let Some(first) = self.first_malformed_line {
            text.push_str(&format!(
                ", {} malformed BIP324 line{} (first: line {first})",
                self.malformed_lines,
                if self.malformed_lines == 1 { "" } else { "s" }
            ));
        }
        text
    }
}
