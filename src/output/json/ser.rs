//! A serde serializer writing compact JSON into a `Vec<u8>`, byte for byte
//! what `serde_json::to_writer` writes (the tests compare the two), but
//! faster where the output spends its time: string escaping looks at eight
//! bytes at once (hex scripts and hashes never need escaping), integers are
//! formatted without `fmt`. Floats and 128-bit integers, which payloads
//! hardly ever carry, are handed to serde_json itself.

use crate::p2p::hash::{HEX_NEWTYPE, write_hex};
use serde::ser::{self, Serialize};
use std::fmt::{self, Write as _};

#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

type Result<T = ()> = std::result::Result<T, Error>;

/// Serializes `value` as compact JSON at the end of `out`. On an error
/// (a map key that is not a string, a failing `Display`) `out` may hold a
/// partial value; the caller truncates.
pub fn to_vec<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result {
    value.serialize(&mut JsonWriter { out })
}

pub struct JsonWriter<'o> {
    out: &'o mut Vec<u8>,
}

const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Appends `n` in decimal.
#[inline]
pub fn write_u64(out: &mut Vec<u8>, n: u64) {
    if n < 10 {
        out.push(b'0' + n as u8);
        return;
    }
    let len = n.ilog10() as usize + 1;
    // A constant-size append (no memcpy call for a few bytes), the digits
    // written in place from the end, then the rest cut.
    let start = out.len();
    out.extend_from_slice(&[b'0'; 20]);
    let digits = &mut out[start..start + len];
    let pair = |i: u64| &DIGIT_PAIRS[i as usize * 2..i as usize * 2 + 2];
    let mut at = len;
    let mut n = n;
    // Four digits per division: the divisions form a dependency chain, the
    // two table lookups of each step do not.
    while n >= 10_000 {
        let four = n % 10_000;
        n /= 10_000;
        at -= 4;
        digits[at..at + 2].copy_from_slice(pair(four / 100));
        digits[at + 2..at + 4].copy_from_slice(pair(four % 100));
    }
    if n >= 100 {
        at -= 2;
        digits[at..at + 2].copy_from_slice(pair(n % 100));
        n /= 100;
    }
    if n >= 10 {
        digits[at - 2..at].copy_from_slice(pair(n));
    } else {
        digits[at - 1] = b'0' + n as u8;
    }
    out.truncate(start + len);
}

/// `extend_from_slice`, with a plain loop for a few bytes: a memcpy call
/// costs more than copying a field name, a number or a short string.
#[inline]
fn append(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() > 16 {
        out.extend_from_slice(bytes);
        return;
    }
    let start = out.len();
    out.resize(start + bytes.len(), 0);
    if let Some(dst) = out.get_mut(start..) {
        for (d, &b) in dst.iter_mut().zip(bytes) {
            *d = b;
        }
    }
}

#[inline]
pub fn write_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(out, n.unsigned_abs());
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
    append(out, bytes.get(start..).unwrap_or(&[]));
}

#[inline]
fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_escaped(out, s);
    out.push(b'"');
}

/// A struct field's name: a Rust identifier or a serde rename in this
/// crate's own code, never network data, never needing escapes (checked
/// in debug builds, so every test run checks every name it writes).
#[inline]
fn write_field_name(out: &mut Vec<u8>, comma: bool, key: &'static str) {
    debug_assert!(
        escape_mask_all_clean(key),
        "field name {key:?} needs escaping"
    );
    // One bounds check for `,"key":` and a short copy loop: field names
    // are a few bytes, where a memcpy call costs more than the copy.
    let start = out.len();
    let comma = usize::from(comma);
    out.resize(start + comma + key.len() + 3, b'"');
    if let Some(dst) = out.get_mut(start..) {
        if comma == 1 {
            dst[0] = b',';
        }
        for (d, &b) in dst[comma + 1..].iter_mut().zip(key.as_bytes()) {
            *d = b;
        }
        if let Some(colon) = dst.last_mut() {
            *colon = b':';
        }
    }
}

fn escape_mask_all_clean(key: &str) -> bool {
    key.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}

/// `Display` output escaped straight into the buffer (for `collect_str`).
struct EscapeAdapter<'a>(&'a mut Vec<u8>);

impl fmt::Write for EscapeAdapter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_escaped(self.0, s);
        Ok(())
    }
}

/// What serde_json writes for values this writer does not format itself.
fn delegate<T: Serialize>(out: &mut Vec<u8>, value: &T) -> Result {
    serde_json::to_writer(out, value).map_err(|e| Error(e.to_string()))
}

/// A sequence or map being written: whether a comma is due.
pub struct Compound<'a, 'o> {
    w: &'a mut JsonWriter<'o>,
    first: bool,
    /// Closing bytes: `]`, `}`, or `]}` / `}}` for enum variants.
    close: &'static [u8],
}

impl Compound<'_, '_> {
    #[inline]
    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.w.out.push(b',');
        }
    }

    #[inline]
    fn end(self) -> Result {
        self.w.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'a, 'o> ser::Serializer for &'a mut JsonWriter<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, 'o>;
    type SerializeTuple = Compound<'a, 'o>;
    type SerializeTupleStruct = Compound<'a, 'o>;
    type SerializeTupleVariant = Compound<'a, 'o>;
    type SerializeMap = Compound<'a, 'o>;
    type SerializeStruct = Compound<'a, 'o>;
    type SerializeStructVariant = Compound<'a, 'o>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result {
        write_i64(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result {
        delegate(self.out, &v)
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result {
        write_u64(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result {
        delegate(self.out, &v)
    }
    fn serialize_f32(self, v: f32) -> Result {
        delegate(self.out, &v)
    }
    fn serialize_f64(self, v: f64) -> Result {
        delegate(self.out, &v)
    }
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_str(self, v: &str) -> Result {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        // serde_json: an array of numbers.
        let mut seq = ser::Serializer::serialize_seq(self, Some(v.len()))?;
        for b in v {
            ser::SerializeSeq::serialize_element(&mut seq, b)?;
        }
        ser::SerializeSeq::end(seq)
    }
    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result {
        if name == HEX_NEWTYPE {
            return value.serialize(HexDigits { out: self.out });
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a, 'o>> {
        self.out.push(b'[');
        Ok(Compound {
            w: self,
            first: true,
            close: b"]",
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a, 'o>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a, 'o>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a, 'o>> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":[");
        Ok(Compound {
            w: self,
            first: true,
            close: b"]}",
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a, 'o>> {
        self.out.push(b'{');
        Ok(Compound {
            w: self,
            first: true,
            close: b"}",
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a, 'o>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a, 'o>> {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":{");
        Ok(Compound {
            w: self,
            first: true,
            close: b"}}",
        })
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result {
        self.out.push(b'"');
        write!(EscapeAdapter(self.out), "{value}")
            .map_err(|_| Error("a Display implementation failed".into()))?;
        self.out.push(b'"');
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.comma();
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.comma();
        key.serialize(MapKey { out: self.w.out })?;
        self.w.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        write_field_name(self.w.out, !std::mem::take(&mut self.first), key);
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

/// Map keys, as serde_json writes them: strings, and integers, booleans
/// and chars in quotes. Anything else is an error, as in serde_json.
struct MapKey<'o> {
    out: &'o mut Vec<u8>,
}

fn key_must_be_a_string() -> Error {
    Error("key must be a string".into())
}

impl MapKey<'_> {
    fn quoted(self, write: impl FnOnce(&mut Vec<u8>)) -> Result {
        self.out.push(b'"');
        write(self.out);
        self.out.push(b'"');
        Ok(())
    }
}

impl ser::Serializer for MapKey<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result {
        self.quoted(|o| o.extend_from_slice(if v { b"true" } else { b"false" }))
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.quoted(|o| write_i64(o, v))
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.quoted(|o| write_u64(o, v))
    }
    fn serialize_i128(self, v: i128) -> Result {
        self.out.push(b'"');
        delegate(self.out, &v)?;
        self.out.push(b'"');
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result {
        self.out.push(b'"');
        delegate(self.out, &v)?;
        self.out.push(b'"');
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result {
        if !v.is_finite() {
            return Err(Error("float key must be finite".into()));
        }
        self.out.push(b'"');
        delegate(self.out, &v)?;
        self.out.push(b'"');
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result {
        if !v.is_finite() {
            return Err(Error("float key must be finite".into()));
        }
        self.out.push(b'"');
        delegate(self.out, &v)?;
        self.out.push(b'"');
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_str(self, v: &str) -> Result {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(key_must_be_a_string())
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result {
        self.out.push(b'"');
        write!(EscapeAdapter(self.out), "{value}")
            .map_err(|_| Error("a Display implementation failed".into()))?;
        self.out.push(b'"');
        Ok(())
    }
}

/// The inside of a [`HEX_NEWTYPE`]: asked (as a non-human-readable
/// serializer) for the raw bytes, it writes them as a hex string directly.
struct HexDigits<'o> {
    out: &'o mut Vec<u8>,
}

fn not_hex_bytes() -> Error {
    Error("the hex newtype holds bytes only".into())
}

macro_rules! refuse {
    ($($method:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ret> {
            Err(not_hex_bytes())
        })*
    };
}

impl ser::Serializer for HexDigits<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        self.out.push(b'"');
        write_hex(self.out, v);
        self.out.push(b'"');
        Ok(())
    }
    refuse! {
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_str(&str) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result {
        Err(not_hex_bytes())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result {
        Err(not_hex_bytes())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result {
        Err(not_hex_bytes())
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, _value: &T) -> Result {
        Err(not_hex_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    fn same_as_serde_json<T: Serialize>(value: &T) {
        let mut ours = Vec::new();
        to_vec(&mut ours, value).unwrap();
        let theirs = serde_json::to_vec(value).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }

    #[derive(Serialize)]
    enum Shape<'a> {
        Unit,
        Newtype(u8),
        Tuple(i32, &'a str),
        Struct { a: Option<u16>, b: Vec<bool> },
    }

    #[derive(Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Tagged {
        One { x: i64 },
        Two,
    }

    #[derive(Serialize)]
    struct Everything<'a> {
        text: &'a str,
        bytes: &'a [u8],
        unit: (),
        tuple: (u8, char, f64),
        shapes: Vec<Shape<'a>>,
        tagged: Vec<Tagged>,
        map: BTreeMap<u32, &'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        big: (u128, i128, u64, i64, i64),
        float: (f32, f64, f64),
    }

    #[test]
    fn every_shape_matches_serde_json() {
        let mut map = BTreeMap::new();
        map.insert(7, "seven");
        map.insert(1_000_000, "a \"million\"");
        same_as_serde_json(&Everything {
            text: "plain",
            bytes: &[0, 1, 255],
            unit: (),
            tuple: (9, 'é', 0.5),
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(3),
                Shape::Tuple(-4, "t"),
                Shape::Struct {
                    a: None,
                    b: vec![true, false],
                },
                Shape::Struct {
                    a: Some(65535),
                    b: vec![],
                },
            ],
            tagged: vec![Tagged::One { x: i64::MIN }, Tagged::Two],
            map,
            skipped: None,
            big: (u128::MAX, i128::MIN, u64::MAX, i64::MAX, 0),
            float: (1.5, f64::NAN, 1e300),
        });
    }

    #[test]
    fn integers_at_every_width() {
        let mut n: u64 = 1;
        for _ in 0..20 {
            for v in [n - 1, n, n + 1, n.wrapping_mul(9)] {
                same_as_serde_json(&v);
                same_as_serde_json(&-(v as i64));
            }
            n = n.wrapping_mul(10);
        }
    }

    #[test]
    fn escaping_matches_serde_json_for_every_byte_at_every_position() {
        for b in 0u8..=127 {
            for pos in 0..17 {
                let mut s = "abcdefghijklmnopq".as_bytes().to_vec();
                s.insert(pos, b);
                let s = String::from_utf8(s).unwrap();
                same_as_serde_json(&s);
            }
        }
        same_as_serde_json(&"ünïcödé ✓ \u{7f} \u{1f}\"\\ end");
        same_as_serde_json(&"");
    }

    #[test]
    fn collect_str_escapes() {
        struct Show;
        impl Serialize for Show {
            fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.collect_str(&format_args!("a\"b{}\n", 5))
            }
        }
        same_as_serde_json(&Show);
        let mut map = BTreeMap::new();
        map.insert('k', 1u8);
        same_as_serde_json(&map);
    }

    #[test]
    fn hex_and_hashes_match_serde_json() {
        use crate::p2p::Hash256;
        use crate::p2p::hash::Hex;
        let bytes: Vec<u8> = (0..600u32).map(|i| (i * 37) as u8).collect();
        for len in [0, 1, 32, 128, 129, 600] {
            same_as_serde_json(&Hex(&bytes[..len]));
            same_as_serde_json(&vec![Hex(&bytes[..len]); 2]);
        }
        let hash = Hash256(std::array::from_fn(|i| i as u8));
        same_as_serde_json(&hash);
        assert_eq!(
            serde_json::to_value(hash).unwrap(),
            serde_json::Value::String(hash.to_string())
        );
    }

    #[test]
    fn non_string_keys_are_errors() {
        let mut map = BTreeMap::new();
        map.insert(vec![1u8], 1u8);
        assert!(serde_json::to_vec(&map).is_err());
        assert!(to_vec(&mut Vec::new(), &map).is_err());
    }
}
