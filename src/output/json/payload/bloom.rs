//! BIP37 bloom filters: filterload, filteradd (filterclear is empty).

use super::super::fields::{Fields, key};
use crate::p2p::message::{FilterAdd, FilterLoad};

pub fn filter_load<F: Fields>(m: &FilterLoad<'_>, f: &mut F) {
    f.field_hex(key!("filter"), m.filter);
    f.field_u64(key!("n_hash_funcs"), u64::from(m.n_hash_funcs));
    f.field_u64(key!("n_tweak"), u64::from(m.n_tweak));
    f.field_u64(key!("n_flags"), u64::from(m.n_flags));
}

pub fn filter_add<F: Fields>(m: &FilterAdd<'_>, f: &mut F) {
    f.field_hex(key!("data"), m.data);
}
