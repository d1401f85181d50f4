//! A few large buffers kept between messages, shared by every decoder.
//!
//! A direction that receives a block grows its buffer to the block's size,
//! and must give that memory back afterwards (a 4 MB block must not pin
//! 4 MB per idle peer). Blocks come one after another on a few flows, so
//! allocating a fresh buffer for each one spends more time in page faults
//! (the kernel zeroing new pages) than in hashing the block. Released
//! large buffers are parked here instead, at most [`SPARE_BUFFERS`] of
//! them, and the next message that needs that much takes one.

use std::sync::Mutex;

/// Bounds the memory parked here: 2 x (4 MB + header).
const SPARE_BUFFERS: usize = 2;

static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A parked buffer of at least `capacity` bytes, emptied; `None` if none.
pub fn take(capacity: usize) -> Option<Vec<u8>> {
    let mut spare = SPARE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let i = spare.iter().position(|b| b.capacity() >= capacity)?;
    Some(spare.swap_remove(i))
}

/// Parks `buf` if there is room, else frees it.
pub fn give(mut buf: Vec<u8>) {
    buf.clear();
    let mut spare = SPARE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if spare.len() < SPARE_BUFFERS {
        spare.push(buf);
    } else if let Some(smallest) = spare.iter_mut().min_by_key(|b| b.capacity()) {
        // Keep the larger ones: they fit more messages.
        if smallest.capacity() < buf.capacity() {
            *smallest = buf;
        }
    }
}
