//! The ring of recent hashes of one kind behind the first-announcer table
//! (see [`super::table`]): fixed-size entries, each with the peers that
//! announced the hash and when, evicted oldest first.

use super::table::IndexHasher;
use crate::p2p::Hash256;
use std::collections::HashMap;
use std::collections::hash_map::Entry as Slot;

/// One hash: who announced it, and when relative to `base`.
pub(super) struct Entry<const K: usize> {
    pub hash: Hash256,
    /// Microseconds since the epoch of the first announcement decoded.
    pub base: i64,
    pub peers: [u16; K],
    /// Per peer: microseconds after `base` (negative when announced
    /// earlier but decoded later).
    pub offsets: [i32; K],
    pub len: u8,
    /// Announcements by further peers once the slots were full: counted
    /// here and in the table's `beyond_slots`, not tallied.
    pub overflow: u32,
}

impl<const K: usize> Entry<K> {
    fn new(hash: Hash256, peer: u16, micros: i64) -> Self {
        let mut peers = [0; K];
        peers[0] = peer;
        Entry {
            hash,
            base: micros,
            peers,
            offsets: [0; K],
            len: 1,
            overflow: 0,
        }
    }

    /// Notes `peer`'s announcement; false when it found no free slot.
    fn announce(&mut self, peer: u16, micros: i64) -> bool {
        let offset = micros
            .saturating_sub(self.base)
            .clamp(i32::MIN.into(), i32::MAX.into()) as i32;
        let len = usize::from(self.len);
        if let Some(i) = self.peers[..len].iter().position(|&p| p == peer) {
            // Announced again (inv, then the tx itself): its first time.
            self.offsets[i] = self.offsets[i].min(offset);
            return true;
        }
        if len >= K {
            self.overflow = self.overflow.saturating_add(1);
            return false;
        }
        self.peers[len] = peer;
        self.offsets[len] = offset;
        self.len += 1;
        true
    }

    /// (slot of the first announcement, earliest offset, latest offset).
    pub fn first(&self) -> (usize, i32, i32) {
        let offsets = &self.offsets[..usize::from(self.len)];
        let mut first = 0;
        for (i, &o) in offsets.iter().enumerate() {
            if o < offsets[first] {
                first = i;
            }
        }
        let last = offsets.iter().copied().max().unwrap_or(0);
        (first, offsets[first], last)
    }
}

/// Recent hashes of one kind, evicted oldest first.
pub(super) struct Ring<const K: usize> {
    index: HashMap<Hash256, u32, IndexHasher>,
    pub entries: Vec<Entry<K>>,
    pub capacity: usize,
    /// Once full: the entry to evict next (the oldest).
    oldest: usize,
    pub seen: u64,
    pub evicted: u64,
}

impl<const K: usize> Ring<K> {
    pub fn new(capacity: usize) -> Self {
        Ring {
            index: HashMap::default(),
            entries: Vec::new(),
            capacity: capacity.max(1),
            oldest: 0,
            seen: 0,
            evicted: 0,
        }
    }

    /// Notes an announcement; returns false when its slots were full, and
    /// hands an evicted entry to `gone`.
    pub fn observe(
        &mut self,
        hash: Hash256,
        peer: u16,
        micros: i64,
        gone: impl FnOnce(&Entry<K>),
    ) -> bool {
        let slot = match self.index.entry(hash) {
            Slot::Occupied(i) => {
                let i = *i.get() as usize;
                debug_assert!(i < self.entries.len());
                return match self.entries.get_mut(i) {
                    Some(entry) => entry.announce(peer, micros),
                    None => true,
                };
            }
            Slot::Vacant(slot) => slot,
        };
        self.seen += 1;
        let entry = Entry::new(hash, peer, micros);
        if self.entries.len() < self.capacity {
            if self.entries.len() == self.entries.capacity() {
                // Grow as doubling would, but never past the capacity.
                let len = self.entries.len();
                self.entries
                    .reserve_exact(len.max(16).min(self.capacity - len));
            }
            slot.insert(self.entries.len() as u32);
            self.entries.push(entry);
            return true;
        }
        let at = self.oldest;
        slot.insert(at as u32);
        self.oldest = (at + 1) % self.capacity;
        self.evicted += 1;
        if let Some(old) = self.entries.get_mut(at) {
            gone(old);
            self.index.remove(&old.hash);
            *old = entry;
        }
        true
    }

    /// Hashes remembered now: never above the capacity.
    pub fn len(&self) -> usize {
        debug_assert_eq!(self.index.len(), self.entries.len());
        self.entries.len()
    }

    /// The entries, oldest first.
    pub fn in_order(&self) -> impl Iterator<Item = &Entry<K>> {
        let (newer, older) = self.entries.split_at(self.oldest.min(self.entries.len()));
        older.iter().chain(newer)
    }
}

/// The README's memory figures: an entry's own size (its index adds a
/// 32-byte key, a 4-byte slot and a control byte, at most 8/7 of them).
#[test]
fn entry_sizes_are_as_documented() {
    use super::table::{BLOCK_PEER_SLOTS, TX_PEER_SLOTS};
    assert_eq!(std::mem::size_of::<Entry<TX_PEER_SLOTS>>(), 96);
    assert_eq!(std::mem::size_of::<Entry<BLOCK_PEER_SLOTS>>(), 432);
}
