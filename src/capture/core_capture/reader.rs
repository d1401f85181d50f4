//! Records read one by one from any byte stream, in bounded memory.
//!
//! The header and the payload are read separately so that a merge can
//! order records by time before reading their payloads. A payload is read
//! into a buffer the caller owns, in steps of at most [`READ_STEP`] bytes
//! reserved exactly: a length field that lies (within the limit) runs out
//! of input before it runs out of memory, and a length above
//! [`MAX_RECORD_PAYLOAD`] is refused before anything is allocated.

use super::record::{MAX_RECORD_PAYLOAD, RECORD_HEADER_LEN, RecordHeader};
use crate::capture::input::read_full;
use std::fmt;
use std::io::{self, Read};

/// Bytes reserved per read of a payload: large payloads grow the buffer
/// in these steps, never ahead of the bytes actually present.
pub const READ_STEP: usize = 1 << 20;

/// A record's header with where it is in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordAt {
    pub header: RecordHeader,
    /// Byte offset of the record's first byte in the file.
    pub offset: u64,
    /// Record number in the file, from 1.
    pub index: u64,
}

/// Why a file cannot be read further. Offsets are byte offsets in the
/// file, records count from 1.
#[derive(Debug)]
pub enum RecordError {
    Io(io::Error),
    /// The file ends inside record `index`: `have` of its `needed` bytes
    /// are present (`needed` is the header size when the header itself is
    /// cut).
    Truncated {
        offset: u64,
        index: u64,
        have: u64,
        needed: u64,
    },
    /// A length above [`MAX_RECORD_PAYLOAD`]: no record can be that long,
    /// and without magic or checksum the next record's start is unknown.
    Oversize {
        record: RecordAt,
        limit: u32,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Io(e) => write!(f, "I/O error: {e}"),
            RecordError::Truncated {
                offset,
                index,
                have,
                needed,
            } => write!(
                f,
                "file truncated inside record {index} starting at byte offset {offset} ({have} of {needed} bytes present)"
            ),
            RecordError::Oversize { record, limit } => write!(
                f,
                "record {} at byte offset {} claims a {}-byte payload, above the limit of {limit}; \
                 records carry no magic to resynchronise on, so the rest of the file was not read",
                record.index, record.offset, record.header.length
            ),
        }
    }
}

impl std::error::Error for RecordError {}

/// Reads records from `R`. See the module docs.
pub struct RecordReader<R> {
    input: R,
    /// Offset of the next unread byte.
    offset: u64,
    records: u64,
    /// A header whose payload is still to be read.
    pending: Option<RecordAt>,
}

impl<R: Read> RecordReader<R> {
    pub fn new(input: R) -> RecordReader<R> {
        RecordReader {
            input,
            offset: 0,
            records: 0,
            pending: None,
        }
    }

    /// The underlying input.
    pub fn get_ref(&self) -> &R {
        &self.input
    }

    /// The underlying input.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.input
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record's header, `Ok(None)` at the clean end of the input.
    /// Skips the payload of a header whose payload was not read. An
    /// oversize length is an error (nothing after it can be read).
    pub fn next_header(&mut self) -> Result<Option<RecordAt>, RecordError> {
        if self.pending.is_some() {
            self.skip_payload()?;
        }
        let offset = self.offset;
        let index = self.records.saturating_add(1);
        let mut bytes = [0u8; RECORD_HEADER_LEN];
        let got = read_full(&mut self.input, &mut bytes).map_err(RecordError::Io)?;
        self.offset = self.offset.saturating_add(got as u64);
        if got == 0 {
            return Ok(None);
        }
        if got < RECORD_HEADER_LEN {
            return Err(RecordError::Truncated {
                offset,
                index,
                have: got as u64,
                needed: RECORD_HEADER_LEN as u64,
            });
        }
        self.records = index;
        let record = RecordAt {
            header: RecordHeader::parse(&bytes),
            offset,
            index,
        };
        if !record.header.length_ok() {
            return Err(RecordError::Oversize {
                record,
                limit: MAX_RECORD_PAYLOAD,
            });
        }
        self.pending = Some(record);
        Ok(Some(record))
    }

    /// Reads the payload of the header [`next_header`](Self::next_header)
    /// returned last into `out` (cleared first).
    pub fn read_payload(&mut self, out: &mut Vec<u8>) -> Result<(), RecordError> {
        out.clear();
        let Some(record) = self.pending.take() else {
            return Ok(());
        };
        // Checked by next_header: at most MAX_RECORD_PAYLOAD.
        let length = record.header.length as usize;
        debug_assert!(record.header.length_ok());
        while out.len() < length {
            let start = out.len();
            let step = length.saturating_sub(start).min(READ_STEP);
            out.reserve_exact(step);
            out.resize(start.saturating_add(step), 0);
            let got = read_full(&mut self.input, out.get_mut(start..).unwrap_or_default())
                .map_err(RecordError::Io)?;
            out.truncate(start.saturating_add(got));
            self.offset = self.offset.saturating_add(got as u64);
            if got < step {
                return Err(Self::truncated(record, out.len()));
            }
        }
        Ok(())
    }

    /// Skips the pending payload without keeping it.
    fn skip_payload(&mut self) -> Result<(), RecordError> {
        let Some(record) = self.pending.take() else {
            return Ok(());
        };
        let length = u64::from(record.header.length);
        let got = io::copy(&mut (&mut self.input).take(length), &mut io::sink())
            .map_err(RecordError::Io)?;
        self.offset = self.offset.saturating_add(got);
        if got < length {
            return Err(Self::truncated(record, got as usize));
        }
        Ok(())
    }

    fn truncated(record: RecordAt, payload_have: usize) -> RecordError {
        RecordError::Truncated {
            offset: record.offset,
            index: record.index,
            have: (RECORD_HEADER_LEN as u64).saturating_add(payload_have as u64),
            needed: record.header.record_len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::p2p::frame::Command;

    fn record(time: u64, command: &str, payload: &[u8]) -> Vec<u8> {
        let header = RecordHeader {
            time_micros: time,
            command: Command::new(command),
            length: payload.len() as u32,
        };
        let mut out = header.to_bytes().to_vec();
        out.extend_from_slice(payload);
        out
    }

    fn read_all(bytes: &[u8]) -> (Vec<(RecordAt, Vec<u8>)>, Option<RecordError>) {
        let mut reader = RecordReader::new(bytes);
        let mut got = Vec::new();
        let mut buf = Vec::new();
        loop {
            match reader.next_header() {
                Ok(None) => return (got, None),
                Ok(Some(at)) => match reader.read_payload(&mut buf) {
                    Ok(()) => got.push((at, buf.clone())),
                    Err(e) => return (got, Some(e)),
                },
                Err(e) => return (got, Some(e)),
            }
        }
    }

    #[test]
    fn records_in_order_with_offsets() {
        let mut file = record(10, "version", &[7; 102]);
        file.extend(record(11, "verack", &[]));
        file.extend(record(12, "ping", &8u64.to_le_bytes()));
        let (got, err) = read_all(&file);
        assert!(err.is_none());
        let summary: Vec<_> = got
            .iter()
            .map(|(at, p)| (at.header.time_micros, at.offset, at.index, p.len()))
            .collect();
        assert_eq!(summary, [(10, 0, 1, 102), (11, 126, 2, 0), (12, 150, 3, 8)]);
    }

    #[test]
    fn a_cut_payload_is_truncation_with_the_values() {
        let mut file = record(1, "verack", &[]);
        file.extend(record(2, "inv", &[1; 37]));
        file.truncate(24 + 24 + 30);
        let (got, err) = read_all(&file);
        assert_eq!(got.len(), 1);
        match err {
            Some(RecordError::Truncated {
                offset,
                index,
                have,
                needed,
            }) => assert_eq!((offset, index, have, needed), (24, 2, 54, 61)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cut_header_is_truncation() {
        let mut file = record(1, "verack", &[]);
        file.extend_from_slice(&[1, 2, 3, 4, 5]);
        let (got, err) = read_all(&file);
        assert_eq!(got.len(), 1);
        match err {
            Some(RecordError::Truncated {
                offset,
                index,
                have,
                needed,
            }) => assert_eq!((offset, index, have, needed), (24, 2, 5, 24)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_oversize_length_is_refused_before_reading() {
        let mut file = record(1, "verack", &[]);
        let mut lying = RecordHeader {
            time_micros: 2,
            command: Command::new("block"),
            length: u32::MAX,
        }
        .to_bytes()
        .to_vec();
        lying.extend_from_slice(&[0; 100]);
        file.extend(lying);
        let (got, err) = read_all(&file);
        assert_eq!(got.len(), 1);
        match err {
            Some(RecordError::Oversize { record, limit }) => {
                assert_eq!((record.offset, record.index), (24, 2));
                assert_eq!(record.header.length, u32::MAX);
                assert_eq!(limit, 4_000_000);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_lying_length_within_the_limit_grows_the_buffer_by_steps_only() {
        let mut file = record(1, "block", &[]);
        file[20..24].copy_from_slice(&3_999_999u32.to_le_bytes());
        file.extend_from_slice(&[9; 1000]);
        let mut reader = RecordReader::new(&file[..]);
        let mut buf = Vec::new();
        reader.next_header().unwrap();
        assert!(matches!(
            reader.read_payload(&mut buf),
            Err(RecordError::Truncated {
                have: 1024,
                needed: 4_000_023,
                ..
            })
        ));
        assert!(buf.capacity() <= READ_STEP, "{}", buf.capacity());
    }

    #[test]
    fn unread_payloads_are_skipped() {
        let mut file = record(1, "inv", &[5; 37]);
        file.extend(record(2, "pong", &[6; 8]));
        let mut reader = RecordReader::new(&file[..]);
        assert_eq!(reader.next_header().unwrap().unwrap().index, 1);
        let second = reader.next_header().unwrap().unwrap();
        assert_eq!((second.offset, second.index), (61, 2));
        let mut buf = Vec::new();
        reader.read_payload(&mut buf).unwrap();
        assert_eq!(buf, [6; 8]);
        assert!(reader.next_header().unwrap().is_none());
        assert_eq!(reader.offset(), file.len() as u64);
    }
}
