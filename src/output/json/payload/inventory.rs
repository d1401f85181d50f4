//! inv, getdata, notfound; getblocks, getheaders.

use super::super::fields::{Fields, Prerendered, array, hash_list, key};
use crate::p2p::message::inventory::inv_type_name;
use crate::p2p::message::{BlockLocator, Inventory};
use std::sync::LazyLock;

pub fn inventory<F: Fields>(inv: &Inventory<'_>, f: &mut F) {
    f.key(key!("inventory"));
    array(f, inv.inventory.iter(), |f, item| {
        f.prerendered(common_head(item.type_id), |f| {
            item_head(f, item.type_name, item.type_id)
        });
        f.hash(&item.hash);
        f.end_object();
    });
}

/// An item up to its hash: `{"type":…,"type_id":…,"hash":`.
fn item_head<F: Fields>(f: &mut F, type_name: &'static str, type_id: u32) {
    f.begin_object();
    f.field_name(key!("type"), type_name);
    f.field_u64(key!("type_id"), u64::from(type_id));
    f.key(key!("hash"));
}

/// The item types most inventories are made of (MSG_TX, MSG_BLOCK,
/// MSG_WTX), whose heads the JSON writer copies as rendered once by
/// [`item_head`].
const COMMON_TYPES: [u32; 3] = [1, 2, 5];

static COMMON_HEADS: LazyLock<[Prerendered; 3]> = LazyLock::new(|| {
    COMMON_TYPES
        .map(|type_id| Prerendered::render(|f| item_head(f, inv_type_name(type_id), type_id)))
});

#[inline(always)]
fn common_head(type_id: u32) -> Option<&'static Prerendered> {
    let index = COMMON_TYPES.iter().position(|&common| common == type_id)?;
    COMMON_HEADS.get(index)
}

pub fn locator<F: Fields>(locator: &BlockLocator, f: &mut F) {
    f.field_u64(key!("version"), u64::from(locator.version));
    hash_list(f, key!("locator_hashes"), &locator.locator_hashes);
    f.field_hash(key!("hash_stop"), &locator.hash_stop);
}

#[cfg(test)]
mod tests {
    use crate::p2p::frame::Command;
    use crate::p2p::message::{DecodeContext, decode};

    /// The copied heads of the common types and the walked heads of the
    /// rest: both as serde_json writes the same item, at every position.
    #[test]
    fn items_of_every_type_match_serde_json() {
        let types = [
            0u32,
            1,
            2,
            3,
            4,
            5,
            6,
            0x4000_0001,
            0x4000_0002,
            0x4000_0003,
            u32::MAX,
        ];
        let mut payload = vec![types.len() as u8 * 2];
        let mut expected = Vec::new();
        for (n, &type_id) in types.iter().chain(types.iter().rev()).enumerate() {
            payload.extend_from_slice(&type_id.to_le_bytes());
            let hash = [n as u8; 32];
            payload.extend_from_slice(&hash);
            expected.push(serde_json::json!({
                "type": crate::p2p::message::inventory::inv_type_name(type_id),
                "type_id": type_id,
                "hash": crate::p2p::Hash256(hash).to_string(),
            }));
        }
        let decoded = decode(&Command::new("inv"), &payload, &DecodeContext::default());
        let mut line = Vec::new();
        crate::output::json::write_payload(&mut line, &decoded.message.unwrap(), None);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            serde_json::json!({ "inventory": expected }).to_string()
        );
    }
}
