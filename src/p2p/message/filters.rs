//! BIP157 compact block filters: getcfilters/cfilter,
//! getcfheaders/cfheaders, getcfcheckpt/cfcheckpt.

use super::MAX_SIZE;
use crate::p2p::Hash256;
use crate::p2p::reader::{DecodeError, Reader};

/// BIP157 / Core's MAX_GETCFILTERS_SIZE (net_processing.cpp): most blocks
/// one getcfilters may span. Checking it needs the chain (stop_hash's
/// height), so the decoder cannot; kept here for callers.
pub const MAX_GETCFILTERS_SIZE: u64 = 1_000;

/// BIP157 / Core's MAX_GETCFHEADERS_SIZE (net_processing.cpp): most
/// headers one getcfheaders may ask for, hence most hashes in cfheaders.
pub const MAX_GETCFHEADERS_SIZE: u64 = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetCFilters {
    /// 0: basic (BIP158).
    pub filter_type: u8,
    pub start_height: u32,
    pub stop_hash: Hash256,
}

pub(super) fn read_get_cfilters(r: &mut Reader<'_>) -> Result<GetCFilters, DecodeError> {
    Ok(GetCFilters {
        filter_type: r.u8("getcfilters.filter_type")?,
        start_height: r.u32_le("getcfilters.start_height")?,
        stop_hash: r.hash("getcfilters.stop_hash")?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CFilter<'a> {
    pub filter_type: u8,
    pub block_hash: Hash256,
    pub filter: &'a [u8],
}

pub(super) fn read_cfilter<'a>(r: &mut Reader<'a>) -> Result<CFilter<'a>, DecodeError> {
    Ok(CFilter {
        filter_type: r.u8("cfilter.filter_type")?,
        block_hash: r.hash("cfilter.block_hash")?,
        filter: r.var_bytes("cfilter.filter")?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetCFHeaders {
    pub filter_type: u8,
    pub start_height: u32,
    pub stop_hash: Hash256,
}

pub(super) fn read_get_cfheaders(r: &mut Reader<'_>) -> Result<GetCFHeaders, DecodeError> {
    Ok(GetCFHeaders {
        filter_type: r.u8("getcfheaders.filter_type")?,
        start_height: r.u32_le("getcfheaders.start_height")?,
        stop_hash: r.hash("getcfheaders.stop_hash")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CFHeaders {
    pub filter_type: u8,
    pub stop_hash: Hash256,
    pub previous_filter_header: Hash256,
    pub filter_hashes: Vec<Hash256>,
}

fn read_hashes(
    r: &mut Reader<'_>,
    what: &'static str,
    limit: u64,
) -> Result<Vec<Hash256>, DecodeError> {
    let count = r.count(what, limit)?;
    let mut hashes = Vec::with_capacity(r.capacity_for(count, 32));
    for _ in 0..count {
        hashes.push(r.hash(what)?);
    }
    Ok(hashes)
}

pub(super) fn read_cfheaders(r: &mut Reader<'_>) -> Result<CFHeaders, DecodeError> {
    Ok(CFHeaders {
        filter_type: r.u8("cfheaders.filter_type")?,
        stop_hash: r.hash("cfheaders.stop_hash")?,
        previous_filter_header: r.hash("cfheaders.previous_filter_header")?,
        filter_hashes: read_hashes(r, "cfheaders.filter_hashes", MAX_GETCFHEADERS_SIZE)?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetCFCheckpt {
    pub filter_type: u8,
    pub stop_hash: Hash256,
}

pub(super) fn read_get_cfcheckpt(r: &mut Reader<'_>) -> Result<GetCFCheckpt, DecodeError> {
    Ok(GetCFCheckpt {
        filter_type: r.u8("getcfcheckpt.filter_type")?,
        stop_hash: r.hash("getcfcheckpt.stop_hash")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CFCheckpt {
    pub filter_type: u8,
    pub stop_hash: Hash256,
    /// One filter header per 1000 blocks up to stop_hash.
    pub filter_headers: Vec<Hash256>,
}

pub(super) fn read_cfcheckpt(r: &mut Reader<'_>) -> Result<CFCheckpt, DecodeError> {
    Ok(CFCheckpt {
        filter_type: r.u8("cfcheckpt.filter_type")?,
        stop_hash: r.hash("cfcheckpt.stop_hash")?,
        filter_headers: read_hashes(r, "cfcheckpt.filter_headers", MAX_SIZE)?,
    })
}
