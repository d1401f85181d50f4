//! BIP37 bloom filters: filterload, filteradd (filterclear is empty).

use crate::p2p::reader::{Anomaly, DecodeError, Reader};

/// Core's MAX_BLOOM_FILTER_SIZE (common/bloom.h), in bytes: a larger
/// filterload makes Core treat the peer as misbehaving.
pub const MAX_BLOOM_FILTER_SIZE: u64 = 36_000;

/// Core's MAX_HASH_FUNCS (common/bloom.h).
pub const MAX_HASH_FUNCS: u64 = 50;

/// Core's MAX_SCRIPT_ELEMENT_SIZE (script/script.h): the largest
/// filteradd data Core accepts.
pub const MAX_SCRIPT_ELEMENT_SIZE: u64 = 520;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLoad<'a> {
    pub filter: &'a [u8],
    pub n_hash_funcs: u32,
    pub n_tweak: u32,
    /// BLOOM_UPDATE_NONE 0, BLOOM_UPDATE_ALL 1, BLOOM_UPDATE_P2PUBKEY_ONLY 2.
    pub n_flags: u8,
}

/// A CompactSize length, checked against `limit`, then the bytes.
fn limited_bytes<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
    limit: u64,
) -> Result<&'a [u8], DecodeError> {
    let len = r.count(what, limit)?;
    r.bytes(usize::try_from(len).unwrap_or(usize::MAX), what)
}

pub(super) fn read_filter_load<'a>(r: &mut Reader<'a>) -> Result<FilterLoad<'a>, DecodeError> {
    let filter = limited_bytes(r, "filterload.filter", MAX_BLOOM_FILTER_SIZE)?;
    let n_hash_funcs = r.u32_le("filterload.n_hash_funcs")?;
    if u64::from(n_hash_funcs) > MAX_HASH_FUNCS {
        r.note(Anomaly::CountOverLimit {
            field: "filterload.n_hash_funcs",
            count: u64::from(n_hash_funcs),
            limit: MAX_HASH_FUNCS,
        });
    }
    Ok(FilterLoad {
        filter,
        n_hash_funcs,
        n_tweak: r.u32_le("filterload.n_tweak")?,
        n_flags: r.u8("filterload.n_flags")?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterAdd<'a> {
    pub data: &'a [u8],
}

pub(super) fn read_filter_add<'a>(r: &mut Reader<'a>) -> Result<FilterAdd<'a>, DecodeError> {
    Ok(FilterAdd {
        data: limited_bytes(r, "filteradd.data", MAX_SCRIPT_ELEMENT_SIZE)?,
    })
}
