//! inv, getdata, notfound; getblocks, getheaders.

use super::super::fields::{Fields, array, hash_list, key};
use crate::p2p::message::{BlockLocator, Inventory};

pub fn inventory<F: Fields>(inv: &Inventory<'_>, f: &mut F) {
    f.key(key!("inventory"));
    array(f, inv.inventory.iter(), |f, item| {
        f.begin_object();
        f.field_name(key!("type"), item.type_name);
        f.field_u64(key!("type_id"), u64::from(item.type_id));
        f.field_hash(key!("hash"), &item.hash);
        f.end_object();
    });
}

pub fn locator<F: Fields>(locator: &BlockLocator, f: &mut F) {
    f.field_u64(key!("version"), u64::from(locator.version));
    hash_list(f, key!("locator_hashes"), &locator.locator_hashes);
    f.field_hash(key!("hash_stop"), &locator.hash_stop);
}
