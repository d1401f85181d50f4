//! The one JSON writer: compact JSON appended to a line buffer, byte for
//! byte what serde_json writes for the same values (the tests parse it
//! back). Strings are escaped eight bytes at a time (hex scripts and hashes
//! never need escaping), integers go through `itoa`, floats through `zmij`
//! (serde_json's own float formatter), hex and hashes straight into the
//! buffer.

use super::fields::{Fields, Key, Prerendered};
use crate::p2p::Hash256;
use crate::p2p::hash::{display_hex, write_hex};
use std::fmt::{self, Write as _};

/// A [`Fields`] sink writing JSON at the end of `out`.
pub struct JsonLine<'o> {
    out: &'o mut Vec<u8>,
    /// A value was written at this level: the next one needs a comma.
    comma: bool,
}

impl<'o> JsonLine<'o> {
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        JsonLine { out, comma: false }
    }

    /// Appends to an object whose `{` and first fields are already in
    /// `out` (an envelope): the next key starts with a comma.
    pub fn continuing(out: &'o mut Vec<u8>) -> Self {
        JsonLine { out, comma: true }
    }

    /// Runs `walk` on a fresh level at the end of `out`; whether that
    /// level then needs a comma before its next key or value.
    pub(super) fn render(out: &'o mut Vec<u8>, walk: impl FnOnce(&mut JsonLine<'_>)) -> bool {
        let mut line = JsonLine::new(out);
        walk(&mut line);
        line.comma
    }

    /// Writes a field's key, having reserved room for it and for
    /// `value_max` bytes of its value: one capacity check per field.
    #[inline(always)]
    fn open_field(&mut self, key: Key, value_max: usize) {
        debug_assert!(
            key.name
                .bytes()
                .all(|b| b >= 0x20 && b != b'"' && b != b'\\'),
            "key {:?} needs escaping",
            key.name
        );
        // One constant-size copy: `,"key":`, or `"key":` first in an
        // object.
        let json = key.json.as_bytes();
        self.out.reserve(json.len().saturating_add(value_max));
        if self.comma {
            self.out.extend_from_slice(json);
        } else {
            self.out.extend_from_slice(json.get(1..).unwrap_or(json));
        }
    }

    /// A comma before a value or key that is not the first of its level.
    #[inline(always)]
    fn separate(&mut self) {
        if self.comma {
            self.out.push(b',');
        }
        self.comma = true;
    }

    /// Bytes of a value that are valid JSON as they are.
    #[inline(always)]
    fn raw(&mut self, bytes: &[u8]) {
        self.separate();
        self.out.extend_from_slice(bytes);
    }
}

impl Fields for JsonLine<'_> {
    #[inline(always)]
    fn begin_object(&mut self) {
        self.separate();
        self.out.push(b'{');
        self.comma = false;
    }

    #[inline(always)]
    fn end_object(&mut self) {
        self.out.push(b'}');
        self.comma = true;
    }

    #[inline(always)]
    fn begin_array(&mut self) {
        self.separate();
        self.out.push(b'[');
        self.comma = false;
    }

    #[inline(always)]
    fn end_array(&mut self) {
        self.out.push(b']');
        self.comma = true;
    }

    #[inline(always)]
    fn key(&mut self, key: Key) {
        self.open_field(key, 0);
        self.comma = false;
    }

    fn key_text(&mut self, key: &str) {
        self.separate();
        write_str(self.out, key);
        self.out.push(b':');
        self.comma = false;
    }

    #[inline(always)]
    fn u64(&mut self, n: u64) {
        self.separate();
        write_u64(self.out, n);
    }

    #[inline(always)]
    fn i64(&mut self, n: i64) {
        self.separate();
        write_i64(self.out, n);
    }

    fn f64(&mut self, x: f64) {
        if x.is_finite() {
            self.raw(zmij::Buffer::new().format_finite(x).as_bytes());
        } else {
            self.null();
        }
    }

    fn decimal(&mut self, whole: u64, frac: u64, digits: usize) {
        self.raw(super::fields::decimal_text(whole, frac, digits).as_bytes());
    }

    #[inline(always)]
    fn bool(&mut self, b: bool) {
        self.raw(if b { b"true" } else { b"false" });
    }

    #[inline(always)]
    fn null(&mut self) {
        self.raw(b"null");
    }

    #[inline(always)]
    fn str(&mut self, s: &str) {
        self.separate();
        write_str(self.out, s);
    }

    #[inline(always)]
    fn name(&mut self, name: &'static str) {
        debug_assert!(
            name.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\'),
            "name {name:?} needs escaping"
        );
        self.separate();
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'"');
    }

    fn display(&mut self, value: &dyn fmt::Display) {
        self.separate();
        self.out.push(b'"');
        let _ = write!(EscapeAdapter(self.out), "{value}");
        self.out.push(b'"');
    }

    #[inline(always)]
    fn hex(&mut self, bytes: &[u8]) {
        self.separate();
        self.out.push(b'"');
        write_hex(self.out, bytes);
        self.out.push(b'"');
    }

    #[inline(always)]
    fn hash(&mut self, hash: &Hash256) {
        self.separate();
        self.out.extend_from_slice(&quoted_hash(hash));
    }

    #[inline(always)]
    fn id64(&mut self, n: u64) {
        self.separate();
        self.out.push(b'"');
        write_u64(self.out, n);
        self.out.push(b'"');
    }

    #[inline(always)]
    fn prerendered(&mut self, json: Option<&Prerendered>, walk: impl FnOnce(&mut Self)) {
        match json {
            Some(fragment) => {
                // Rendered at a fresh level: a comma goes before it here
                // exactly where one would go before its first key or value.
                self.separate();
                self.out.extend_from_slice(&fragment.json);
                self.comma = fragment.comma_after;
            }
            None => walk(self),
        }
    }

    // Fields as key and value in one go: one capacity check, no comma
    // test between the key and its value.

    #[inline(always)]
    fn field_u64(&mut self, key: Key, n: u64) {
        self.open_field(key, 20);
        write_u64(self.out, n);
        self.comma = true;
    }

    #[inline(always)]
    fn field_i64(&mut self, key: Key, n: i64) {
        self.open_field(key, 20);
        write_i64(self.out, n);
        self.comma = true;
    }

    #[inline(always)]
    fn field_str(&mut self, key: Key, s: &str) {
        self.open_field(key, s.len().saturating_add(2));
        write_str(self.out, s);
        self.comma = true;
    }

    #[inline(always)]
    fn field_name(&mut self, key: Key, name: &'static str) {
        debug_assert!(
            name.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\'),
            "name {name:?} needs escaping"
        );
        self.open_field(key, name.len().saturating_add(2));
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'"');
        self.comma = true;
    }

    #[inline(always)]
    fn field_hash(&mut self, key: Key, hash: &Hash256) {
        self.open_field(key, 66);
        self.out.extend_from_slice(&quoted_hash(hash));
        self.comma = true;
    }

    #[inline(always)]
    fn field_hex(&mut self, key: Key, bytes: &[u8]) {
        self.open_field(key, bytes.len().saturating_mul(2).saturating_add(2));
        self.out.push(b'"');
        write_hex(self.out, bytes);
        self.out.push(b'"');
        self.comma = true;
    }

    #[inline(always)]
    fn field_bool(&mut self, key: Key, b: bool) {
        self.open_field(key, 5);
        self.out
            .extend_from_slice(if b { b"true" } else { b"false" });
        self.comma = true;
    }
}

/// A hash's display-order digits in quotes, for one constant-size copy.
#[inline(always)]
fn quoted_hash(hash: &Hash256) -> [u8; 66] {
    let mut quoted = [b'"'; 66];
    if let Some(digits) = quoted.get_mut(1..65) {
        digits.copy_from_slice(&display_hex(&hash.0));
    }
    quoted
}

/// `Display` output escaped straight into the buffer.
struct EscapeAdapter<'a>(&'a mut Vec<u8>);

impl fmt::Write for EscapeAdapter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_escaped(self.0, s);
        Ok(())
    }
}

/// Appends `n` in decimal.
#[inline]
pub fn write_u64(out: &mut Vec<u8>, n: u64) {
    append_short(out, itoa::Buffer::new().format(n).as_bytes());
}

#[inline]
pub fn write_i64(out: &mut Vec<u8>, n: i64) {
    append_short(out, itoa::Buffer::new().format(n).as_bytes());
}

/// `extend_from_slice` for a few bytes (a number, a short string) as a
/// plain copy loop: a memcpy call (or a memset and a copy) costs more than
/// copying them.
#[inline]
fn append_short(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() > 16 {
        out.extend_from_slice(bytes);
    } else {
        out.extend(bytes.iter().copied());
    }
}

/// A quoted, escaped JSON string.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_escaped(out, s);
    out.push(b'"');
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Marks the bytes of `w` (little-endian) that JSON escapes: control
/// characters, `"` and `\\`, with their high bit. Borrows between bytes
/// can mark a byte above a marked one, never the lowest marked byte: its
/// position is exact.
#[inline]
fn escape_mask(w: u64) -> u64 {
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let below_space = w.wrapping_sub(LO * 0x20) & !w & HI;
    below_space | has_zero(w ^ (LO * u64::from(b'"'))) | has_zero(w ^ (LO * u64::from(b'\\')))
}

/// The escape sequence of `b`, `None` for a byte written as is.
fn escape_of(b: u8, unicode: &mut [u8; 6]) -> Option<&[u8]> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    Some(match b {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        0x08 => b"\\b",
        0x0c => b"\\f",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        0..=0x1f => {
            *unicode = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0x0f)],
            ];
            unicode
        }
        _ => return None,
    })
}

/// Appends the contents of a JSON string (without quotes), escaped as
/// serde_json escapes: `\"`, `\\`, `\b \f \n \r \t`, other control
/// characters as `\u00xx`; everything else (DEL, non-ASCII) as is.
pub fn write_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        let rest = bytes.get(at..).unwrap_or(&[]);
        let word = match rest.first_chunk::<8>() {
            Some(w) => *w,
            None => {
                // The tail, padded with a byte that needs no escaping.
                let mut w = [b'a'; 8];
                w[..rest.len()].copy_from_slice(rest);
                w
            }
        };
        let mask = escape_mask(u64::from_le_bytes(word));
        if mask == 0 {
            at += 8;
            continue;
        }
        at += (mask.trailing_zeros() / 8) as usize;
        let mut unicode = [0u8; 6];
        if let Some(escape) = bytes.get(at).and_then(|&b| escape_of(b, &mut unicode)) {
            out.extend_from_slice(bytes.get(start..at).unwrap_or(&[]));
            out.extend_from_slice(escape);
            start = at + 1;
        }
        at += 1;
    }
    append_short(out, bytes.get(start..).unwrap_or(&[]));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::json::fields::key;

    fn same_as_serde_json(s: &str) {
        let mut ours = Vec::new();
        write_str(&mut ours, s);
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string(s).unwrap()
        );
    }

    #[test]
    fn escaping_matches_serde_json_for_every_byte_at_every_position() {
        for b in 0u8..=127 {
            for pos in 0..17 {
                let mut s = "abcdefghijklmnopq".as_bytes().to_vec();
                s.insert(pos, b);
                same_as_serde_json(&String::from_utf8(s).unwrap());
            }
        }
        same_as_serde_json("ünïcödé ✓ \u{7f} \u{1f}\"\\ end");
        same_as_serde_json("");
    }

    #[test]
    fn nested_values_and_numbers_match_serde_json() {
        let mut out = Vec::new();
        let mut f = JsonLine::new(&mut out);
        f.begin_object();
        f.field_u64(key!("a"), u64::MAX);
        f.field_i64(key!("b"), i64::MIN);
        f.key(key!("c"));
        f.begin_array();
        f.f64(0.001);
        f.f64(1.0);
        f.f64(f64::NAN);
        f.begin_object();
        f.end_object();
        f.begin_array();
        f.end_array();
        f.null();
        f.bool(true);
        f.id64(7);
        f.end_array();
        f.field_hex(key!("d"), &[0, 255]);
        f.end_object();
        let expected = serde_json::json!({
            "a": u64::MAX, "b": i64::MIN,
            "c": [0.001, 1.0, null, {}, [], null, true, "7"], "d": "00ff",
        });
        assert_eq!(String::from_utf8(out).unwrap(), expected.to_string());
    }
}
