//! The field walk: how every payload and record is described, key by key,
//! once. Both sinks render from it: the JSON line writer
//! ([`super::line::JsonLine`]) and the text sink's `-v` tree and finding
//! lines ([`crate::output::text`]). A key written in a walk is the only
//! place that key appears in the source, so JSON and text cannot drift.
//!
//! A walk calls [`Fields::key`] before each value of an object; values of
//! an array come without keys. Keys are this crate's constants and never
//! need escaping.

use crate::p2p::Hash256;
use std::fmt;

/// A key of a walk: its name, and its JSON form with the comma before it
/// (`,"name":`), made by [`key!`] from one literal.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub json: &'static str,
}

/// `key!("name")`: the [`Key`] `name`.
macro_rules! key {
    ($name:literal) => {
        $crate::output::json::fields::Key {
            name: $name,
            json: concat!(",\"", $name, "\":"),
        }
    };
}
pub(crate) use key;

pub trait Fields {
    fn begin_object(&mut self);
    fn end_object(&mut self);
    fn begin_array(&mut self);
    fn end_array(&mut self);
    /// The key of the next value (inside an object).
    fn key(&mut self, key: Key);
    /// A key that is data (a command name, a number): escaped as needed.
    fn key_text(&mut self, key: &str);
    fn u64(&mut self, n: u64);
    fn i64(&mut self, n: i64);
    fn f64(&mut self, x: f64);
    /// A fixed-point number, `whole.frac` with `digits` decimals (a
    /// duration in seconds or milliseconds, exact, as `ts` is written).
    fn decimal(&mut self, whole: u64, frac: u64, digits: usize);
    fn bool(&mut self, b: bool);
    fn null(&mut self);
    /// A string: a name of this crate's, or text already decoded.
    fn str(&mut self, s: &str);
    /// A value's `Display` form as a string (addresses).
    #[inline]
    fn display(&mut self, value: &dyn fmt::Display) {
        self.str(&value.to_string());
    }
    /// A name of this crate's (a type, a network): nothing to escape.
    #[inline]
    fn name(&mut self, name: &'static str) {
        self.str(name);
    }
    /// Network-supplied bytes as (lossy) UTF-8 text.
    #[inline]
    fn lossy(&mut self, bytes: &[u8]) {
        self.str(&String::from_utf8_lossy(bytes));
    }
    /// Bytes as a lowercase hex string.
    fn hex(&mut self, bytes: &[u8]);
    /// A hash as a hex string in display order (reversed).
    fn hash(&mut self, hash: &Hash256);
    /// A 64-bit identifier (a nonce, a salt, service bits) as a decimal
    /// string. I-JSON (RFC 7493) keeps numbers to what a double holds
    /// exactly (2^53): jq 1.6 and JavaScript round larger ones, and these
    /// use all 64 bits. Quantities stay numbers.
    fn id64(&mut self, n: u64);

    /// A fragment of a walk whose output never varies (the head of a
    /// common inventory item), with its JSON rendered once by that same
    /// walk ([`Prerendered::render`]): the JSON writer copies the bytes,
    /// other sinks run `walk`. `None` (an uncommon case): every sink walks.
    #[inline(always)]
    fn prerendered(&mut self, json: Option<&Prerendered>, walk: impl FnOnce(&mut Self))
    where
        Self: Sized,
    {
        let _ = json;
        walk(self);
    }

    /// `key` and an unsigned number.
    #[inline(always)]
    fn field_u64(&mut self, key: Key, n: u64) {
        self.key(key);
        self.u64(n);
    }

    #[inline(always)]
    fn field_i64(&mut self, key: Key, n: i64) {
        self.key(key);
        self.i64(n);
    }

    #[inline(always)]
    fn field_str(&mut self, key: Key, s: &str) {
        self.key(key);
        self.str(s);
    }

    #[inline(always)]
    fn field_name(&mut self, key: Key, name: &'static str) {
        self.key(key);
        self.name(name);
    }

    #[inline(always)]
    fn field_hash(&mut self, key: Key, hash: &Hash256) {
        self.key(key);
        self.hash(hash);
    }

    #[inline(always)]
    fn field_hex(&mut self, key: Key, bytes: &[u8]) {
        self.key(key);
        self.hex(bytes);
    }

    #[inline(always)]
    fn field_bool(&mut self, key: Key, b: bool) {
        self.key(key);
        self.bool(b);
    }
}

/// The JSON of a fragment of a walk, rendered by [`super::line::JsonLine`]
/// at a fresh level (no comma before it), and whether the level needs a
/// comma after it.
#[derive(Debug)]
pub struct Prerendered {
    pub(super) json: Box<[u8]>,
    pub(super) comma_after: bool,
}

impl Prerendered {
    /// Runs `walk` through the JSON writer once and keeps what it wrote.
    pub fn render(walk: impl FnOnce(&mut super::line::JsonLine<'_>)) -> Prerendered {
        let mut json = Vec::new();
        let comma_after = super::line::JsonLine::render(&mut json, walk);
        debug_assert!(!json.is_empty(), "an empty fragment");
        Prerendered {
            json: json.into_boxed_slice(),
            comma_after,
        }
    }
}

/// An array of `items`, each written by `each`.
#[inline]
pub fn array<F: Fields + ?Sized, T>(
    f: &mut F,
    items: impl IntoIterator<Item = T>,
    mut each: impl FnMut(&mut F, T),
) {
    f.begin_array();
    for item in items {
        each(f, item);
    }
    f.end_array();
}

/// `key` and an array of hashes.
pub fn hash_list<'h, F: Fields + ?Sized>(
    f: &mut F,
    key: Key,
    hashes: impl IntoIterator<Item = &'h Hash256>,
) {
    f.key(key);
    array(f, hashes, |f, h| f.hash(h));
}

/// `whole.frac` with `frac` zero-padded to `digits` decimals.
pub fn decimal_text(whole: u64, frac: u64, digits: usize) -> String {
    format!("{whole}.{frac:0digits$}")
}
