//! Text that is the same for every line of one flow direction (the
//! endpoints, the network), formatted once and copied afterwards: a busy
//! capture has many small messages per direction, and formatting two
//! socket addresses costs as much as rendering a small payload. Both sinks
//! keep one.

use crate::p2p::Network;
use std::net::SocketAddr;

/// Direct-mapped by flow id and direction: flows are numbered in order, so
/// the flows active at one time rarely share a slot, and a miss costs one
/// rebuild.
const SLOTS: usize = 512;

/// What the cached text depends on. `network` is `None` for lines that do
/// not show it (findings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectionKey {
    pub flow: u64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub network: Option<Network>,
}

#[derive(Default)]
pub struct DirectionCache {
    slots: Vec<Slot>,
}

#[derive(Default)]
struct Slot {
    key: Option<DirectionKey>,
    bytes: Vec<u8>,
}

impl DirectionCache {
    /// The cached bytes for `key`, built by `build` (into an empty buffer)
    /// when the slot holds another key.
    pub fn get_or_build(&mut self, key: DirectionKey, build: impl FnOnce(&mut Vec<u8>)) -> &[u8] {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, Slot::default);
        }
        // The two directions of a flow in neighbouring slots.
        let direction = u64::from(key.src > key.dst);
        let index = (key.flow.wrapping_mul(2).wrapping_add(direction) % SLOTS as u64) as usize;
        let Some(slot) = self.slots.get_mut(index) else {
            return &[];
        };
        if slot.key != Some(key) {
            slot.key = Some(key);
            slot.bytes.clear();
            build(&mut slot.bytes);
        }
        &slot.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(flow: u64, src: &str, dst: &str, network: Option<Network>) -> DirectionKey {
        DirectionKey {
            flow,
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            network,
        }
    }

    #[test]
    fn a_slot_is_rebuilt_only_for_another_key() {
        let mut cache = DirectionCache::default();
        let mut builds = 0;
        let mut get = |cache: &mut DirectionCache, k: DirectionKey| {
            cache
                .get_or_build(k, |b| {
                    builds += 1;
                    b.extend_from_slice(format!("{}>{}", k.src, k.dst).as_bytes());
                })
                .to_vec()
        };
        let a = key(1, "1.2.3.4:1", "5.6.7.8:2", Some(Network::Mainnet));
        let back = key(1, "5.6.7.8:2", "1.2.3.4:1", Some(Network::Mainnet));
        assert_eq!(get(&mut cache, a), b"1.2.3.4:1>5.6.7.8:2");
        assert_eq!(get(&mut cache, back), b"5.6.7.8:2>1.2.3.4:1");
        assert_eq!(get(&mut cache, a), b"1.2.3.4:1>5.6.7.8:2");
        // Flow 257 shares flow 1's slots; another network is another key.
        get(
            &mut cache,
            key(257, "1.2.3.4:1", "5.6.7.8:2", Some(Network::Mainnet)),
        );
        get(&mut cache, key(257, "1.2.3.4:1", "5.6.7.8:2", None));
        assert_eq!(get(&mut cache, a), b"1.2.3.4:1>5.6.7.8:2");
        assert_eq!(builds, 5);
    }
}
