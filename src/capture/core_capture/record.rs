//! One record of Bitcoin Core's message capture (`-capturemessages`), as
//! `CaptureMessageToFile` (src/net.cpp) writes it: pure functions over
//! bytes, no I/O.
//!
//! ```text
//! offset  size  field
//!      0     8  time: microseconds since the Unix epoch, u64 little-endian
//!               (when Core processed the message, not socket arrival;
//!               the system clock, or mocktime in tests)
//!      8    12  command: the message type, NUL padded
//!     20     4  payload length, u32 little-endian
//!     24     n  payload
//! ```
//!
//! There is no magic and no checksum: a record's start is known only from
//! the previous record's length, so nothing can resynchronise after a
//! broken length.

use crate::capture::Timestamp;
use crate::p2p::MAX_PROTOCOL_MESSAGE_LENGTH;
use crate::p2p::frame::Command;

/// time (8) + command (12) + length (4).
pub const RECORD_HEADER_LEN: usize = 24;

/// The largest payload accepted: Core's MAX_PROTOCOL_MESSAGE_LENGTH, the
/// limit of every message Core receives or sends (v1 and v2). A length
/// above it is refused before anything is allocated for it.
pub const MAX_RECORD_PAYLOAD: u32 = MAX_PROTOCOL_MESSAGE_LENGTH;

/// The fixed part of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// Microseconds since the Unix epoch.
    pub time_micros: u64,
    pub command: Command,
    /// The payload length field (not yet checked against the limit).
    pub length: u32,
}

impl RecordHeader {
    /// Reads the 24 header bytes.
    pub fn parse(bytes: &[u8; RECORD_HEADER_LEN]) -> RecordHeader {
        let (time, rest) = bytes.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
        let (command, rest) = rest.split_first_chunk::<12>().unwrap_or((&[0; 12], &[]));
        let length = rest.first_chunk::<4>().copied().unwrap_or_default();
        RecordHeader {
            time_micros: u64::from_le_bytes(*time),
            command: Command(*command),
            length: u32::from_le_bytes(length),
        }
    }

    /// The 24 bytes of this header (tests and tools writing captures).
    pub fn to_bytes(&self) -> [u8; RECORD_HEADER_LEN] {
        let mut out = [0u8; RECORD_HEADER_LEN];
        let parts = self
            .time_micros
            .to_le_bytes()
            .into_iter()
            .chain(self.command.0)
            .chain(self.length.to_le_bytes());
        for (dst, src) in out.iter_mut().zip(parts) {
            *dst = src;
        }
        out
    }

    /// Whether the length is within [`MAX_RECORD_PAYLOAD`].
    pub fn length_ok(&self) -> bool {
        self.length <= MAX_RECORD_PAYLOAD
    }

    /// The record's time as a capture timestamp.
    pub fn timestamp(&self) -> Timestamp {
        micros_to_timestamp(self.time_micros)
    }

    /// The whole record's size in the file.
    pub fn record_len(&self) -> u64 {
        (RECORD_HEADER_LEN as u64).saturating_add(u64::from(self.length))
    }
}

/// Microseconds since the epoch as a [`Timestamp`] (any u64 fits).
pub fn micros_to_timestamp(micros: u64) -> Timestamp {
    let secs = i64::try_from(micros / 1_000_000).unwrap_or(i64::MAX);
    let nanos = u32::try_from(micros % 1_000_000)
        .unwrap_or(0)
        .saturating_mul(1000);
    Timestamp::new(secs, nanos)
}

/// Whether a command field is what Core writes: at least one printable
/// ASCII byte (0x20-0x7e, as Core's `IsMessageTypeValid`), then only NUL
/// padding.
pub fn command_well_formed(command: &Command) -> bool {
    let name = command.as_bytes();
    !name.is_empty()
        && name.iter().all(|b| (0x20..0x7f).contains(b))
        && command
            .0
            .get(name.len()..)
            .unwrap_or(&[])
            .iter()
            .all(|&b| b == 0)
}

/// Whether `bytes` (a file's first bytes) start like a message capture: a
/// complete header with a well-formed command and a length within the
/// limit. Used to recognise a capture whose file name says nothing.
pub fn looks_like_records(bytes: &[u8]) -> bool {
    let Some(header) = bytes.first_chunk::<RECORD_HEADER_LEN>() else {
        return false;
    };
    let header = RecordHeader::parse(header);
    header.length_ok() && command_well_formed(&header.command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(time: u64, command: &[u8; 12], length: u32) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[..8].copy_from_slice(&time.to_le_bytes());
        b[8..20].copy_from_slice(command);
        b[20..].copy_from_slice(&length.to_le_bytes());
        b
    }

    #[test]
    fn fields_are_little_endian_at_their_offsets() {
        let bytes = header(0x0102_0304_0506_0708, b"ping\0\0\0\0\0\0\0\0", 8);
        let h = RecordHeader::parse(&bytes);
        assert_eq!(h.time_micros, 0x0102_0304_0506_0708);
        assert_eq!(h.command, Command::new("ping"));
        assert_eq!(h.length, 8);
        assert_eq!(h.to_bytes(), bytes);
        assert_eq!(h.record_len(), 32);
        assert_eq!(
            micros_to_timestamp(1_700_000_000_123_456),
            Timestamp::new(1_700_000_000, 123_456_000)
        );
        assert_eq!(micros_to_timestamp(u64::MAX).secs, 18_446_744_073_709);
    }

    #[test]
    fn commands_as_core_writes_them() {
        assert!(command_well_formed(&Command::new("version")));
        assert!(command_well_formed(&Command(*b"sendaddrv2\0\0")));
        assert!(command_well_formed(&Command(*b"twelve_chars")));
        assert!(!command_well_formed(&Command([0; 12])));
        assert!(!command_well_formed(&Command(*b"ping\0x\0\0\0\0\0\0")));
        assert!(!command_well_formed(&Command(*b"pi\x01g\0\0\0\0\0\0\0\0")));
        assert!(!command_well_formed(&Command(
            *b"p\xc3\xa9\0\0\0\0\0\0\0\0\0"
        )));
    }

    #[test]
    fn recognised_by_content() {
        assert!(looks_like_records(&header(1, b"version\0\0\0\0\0", 102)));
        assert!(looks_like_records(&header(
            u64::MAX,
            b"block\0\0\0\0\0\0\0",
            MAX_RECORD_PAYLOAD
        )));
        assert!(!looks_like_records(&header(
            1,
            b"block\0\0\0\0\0\0\0",
            MAX_RECORD_PAYLOAD + 1
        )));
        assert!(!looks_like_records(&header(
            1,
            b"\xd4\xc3\xb2\xa1\0\0\0\0\0\0\0\0",
            0
        )));
        assert!(!looks_like_records(
            &header(1, b"inv\0\0\0\0\0\0\0\0\0", 3)[..23]
        ));
    }
}
