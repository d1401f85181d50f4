//! BIP157 compact block filters: getcfilters/cfilter,
//! getcfheaders/cfheaders, getcfcheckpt/cfcheckpt.

use super::super::fields::{Fields, hash_list, key};
use crate::p2p::Hash256;
use crate::p2p::message::{CFCheckpt, CFHeaders, CFilter, GetCFCheckpt, GetCFHeaders, GetCFilters};

/// `filter_type` (0: basic, BIP158) and where the range starts and stops.
fn range<F: Fields>(filter_type: u8, start_height: u32, stop_hash: &Hash256, f: &mut F) {
    f.field_u64(key!("filter_type"), u64::from(filter_type));
    f.field_u64(key!("start_height"), u64::from(start_height));
    f.field_hash(key!("stop_hash"), stop_hash);
}

pub fn get_cfilters<F: Fields>(m: &GetCFilters, f: &mut F) {
    range(m.filter_type, m.start_height, &m.stop_hash, f);
}

pub fn get_cfheaders<F: Fields>(m: &GetCFHeaders, f: &mut F) {
    range(m.filter_type, m.start_height, &m.stop_hash, f);
}

pub fn cfilter<F: Fields>(m: &CFilter<'_>, f: &mut F) {
    f.field_u64(key!("filter_type"), u64::from(m.filter_type));
    f.field_hash(key!("block_hash"), &m.block_hash);
    f.field_hex(key!("filter"), m.filter);
}

pub fn cfheaders<F: Fields>(m: &CFHeaders, f: &mut F) {
    f.field_u64(key!("filter_type"), u64::from(m.filter_type));
    f.field_hash(key!("stop_hash"), &m.stop_hash);
    f.field_hash(key!("previous_filter_header"), &m.previous_filter_header);
    hash_list(f, key!("filter_hashes"), &m.filter_hashes);
}

pub fn get_cfcheckpt<F: Fields>(m: &GetCFCheckpt, f: &mut F) {
    f.field_u64(key!("filter_type"), u64::from(m.filter_type));
    f.field_hash(key!("stop_hash"), &m.stop_hash);
}

pub fn cfcheckpt<F: Fields>(m: &CFCheckpt, f: &mut F) {
    get_cfcheckpt(
        &GetCFCheckpt {
            filter_type: m.filter_type,
            stop_hash: m.stop_hash,
        },
        f,
    );
    hash_list(f, key!("filter_headers"), &m.filter_headers);
}
