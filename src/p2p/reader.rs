//! A bounds-checked cursor over a message payload.
//!
//! Every read checks the remaining length first, so no accessor can panic,
//! and no read sizes an allocation by a wire value: `bytes(n)` borrows from
//! the payload (a lying `n` runs out of input, not memory), and callers
//! growing a `Vec` by a wire count cap the pre-allocation with
//! [`Reader::capacity_for`].

use std::fmt;

/// Why a payload failed to decode. Carries the values involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The payload ended: `needed` more bytes at `offset` for `what`.
    UnexpectedEnd {
        what: &'static str,
        offset: usize,
        needed: usize,
    },
    /// A value outside what the protocol allows.
    Invalid {
        what: &'static str,
        offset: usize,
        detail: String,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnexpectedEnd {
                what,
                offset,
                needed,
            } => write!(
                f,
                "payload ends at offset {offset}: {needed} more bytes needed for {what}"
            ),
            DecodeError::Invalid {
                what,
                offset,
                detail,
            } => write!(f, "invalid {what} at offset {offset}: {detail}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// An anomaly noticed while decoding a payload that did not stop decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anomaly {
    /// A CompactSize not in its shortest form (Core rejects these).
    NonCanonicalCompactSize { offset: usize, value: u64 },
    /// A count above the limit Core enforces (e.g. MAX_INV_SZ).
    CountOverLimit {
        field: &'static str,
        count: u64,
        limit: u64,
    },
    /// Bytes left after the payload was fully decoded.
    TrailingBytes { bytes: usize },
}

/// Most bytes a `Vec` is pre-allocated with from a wire count; beyond that
/// it grows as elements are actually decoded.
pub const MAX_PREALLOC_BYTES: usize = 64 * 1024;

pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    anomalies: Vec<Anomaly>,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader {
            data,
            pos: 0,
            anomalies: Vec::new(),
        }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The bytes from `start` to the current position (for hashing a
    /// decoded structure without re-serialising it).
    pub fn consumed_since(&self, start: usize) -> &'a [u8] {
        debug_assert!(
            start <= self.pos,
            "{start} is after the position {}",
            self.pos
        );
        self.data.get(start..self.pos).unwrap_or_default()
    }

    /// The bytes not read yet, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        // The position never passes the end (every read checks it).
        self.data.get(self.pos..).unwrap_or_default()
    }

    pub fn note(&mut self, anomaly: Anomaly) {
        self.anomalies.push(anomaly);
    }

    /// Anomalies noted so far (non-canonical sizes, counts over limits).
    pub fn take_anomalies(&mut self) -> Vec<Anomaly> {
        std::mem::take(&mut self.anomalies)
    }

    /// Borrows the next `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end.and_then(|e| self.data.get(self.pos..e)) {
            Some(slice) => {
                self.pos = self.pos.saturating_add(n);
                Ok(slice)
            }
            None => Err(DecodeError::UnexpectedEnd {
                what,
                offset: self.pos,
                needed: n.saturating_sub(self.remaining()),
            }),
        }
    }

    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let slice = self.bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn u16_le(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    /// Big-endian u16: ports in addr records are in network byte order.
    pub fn u16_be(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    pub fn u32_le(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub fn i32_le(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }

    pub fn u64_le(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    pub fn i64_le(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    pub fn hash(&mut self, what: &'static str) -> Result<super::Hash256, DecodeError> {
        Ok(super::Hash256(self.array(what)?))
    }

    /// A CompactSize integer. A non-canonical encoding is noted as an
    /// anomaly and its value used anyway.
    #[inline]
    pub fn compact_size(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        // Almost every count and length fits in its first byte.
        match self.data.get(self.pos) {
            Some(&small) if small < 0xfd => {
                self.pos = self.pos.saturating_add(1);
                Ok(u64::from(small))
            }
            _ => self.compact_size_wide(what),
        }
    }

    #[cold]
    fn compact_size_wide(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let offset = self.pos;
        let (value, min) = match self.u8(what)? {
            0xfd => (u64::from(self.u16_le(what)?), 0xfd),
            0xfe => (u64::from(self.u32_le(what)?), 0x1_0000),
            0xff => (self.u64_le(what)?, 0x1_0000_0000),
            small => return Ok(u64::from(small)),
        };
        if value < min {
            self.note(Anomaly::NonCanonicalCompactSize { offset, value });
        }
        Ok(value)
    }

    /// A CompactSize count of elements. Above `limit` (Core's limit for this
    /// field) an anomaly is noted; decoding goes on, bounded by the input.
    pub fn count(&mut self, field: &'static str, limit: u64) -> Result<u64, DecodeError> {
        let count = self.compact_size(field)?;
        if count > limit {
            self.note(Anomaly::CountOverLimit {
                field,
                count,
                limit,
            });
        }
        Ok(count)
    }

    /// A CompactSize length followed by that many bytes, borrowed.
    pub fn var_bytes(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.compact_size(what)?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        self.bytes(len, what)
    }

    /// A safe `Vec::with_capacity` argument for `count` elements of
    /// `elem_size` bytes each on the wire: never more than the input could
    /// hold, nor more than [`MAX_PREALLOC_BYTES`].
    pub fn capacity_for(&self, count: u64, elem_size: usize) -> usize {
        let by_input = self.remaining().checked_div(elem_size).unwrap_or(0);
        let by_cap = MAX_PREALLOC_BYTES.checked_div(elem_size).unwrap_or(0);
        usize::try_from(count)
            .unwrap_or(usize::MAX)
            .min(by_input)
            .min(by_cap)
    }

    /// Ends decoding: notes trailing bytes, returns the anomalies.
    pub fn finish(mut self) -> Vec<Anomaly> {
        let rest = self.remaining();
        if rest > 0 {
            self.note(Anomaly::TrailingBytes { bytes: rest });
        }
        self.anomalies
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_size_forms() {
        let mut r = Reader::new(&[0xfc, 0xfd, 0xfd, 0x00, 0xfd, 0x05, 0x00]);
        assert_eq!(r.compact_size("x").unwrap(), 0xfc);
        assert_eq!(r.compact_size("x").unwrap(), 0xfd);
        assert!(r.take_anomalies().is_empty());
        assert_eq!(r.compact_size("x").unwrap(), 5);
        assert_eq!(
            r.take_anomalies(),
            vec![Anomaly::NonCanonicalCompactSize {
                offset: 4,
                value: 5
            }]
        );
    }

    #[test]
    fn short_input_is_an_error_not_a_panic() {
        let mut r = Reader::new(&[0xff, 1, 2]);
        assert!(matches!(
            r.compact_size("count"),
            Err(DecodeError::UnexpectedEnd { needed: 6, .. })
        ));
        let mut r = Reader::new(&[0xfe, 0xff, 0xff, 0xff, 0xff]);
        assert!(r.var_bytes("script").is_err());
    }

    #[test]
    fn capacity_is_bounded_by_input() {
        let r = Reader::new(&[0u8; 100]);
        assert_eq!(r.capacity_for(u64::MAX, 36), 2);
        assert_eq!(r.capacity_for(1, 36), 1);
    }

    #[test]
    fn trailing_bytes_are_reported() {
        let mut r = Reader::new(&[1, 2, 3]);
        r.u8("x").unwrap();
        assert_eq!(r.finish(), vec![Anomaly::TrailingBytes { bytes: 2 }]);
    }
}
