//! Asking the CPU for memory ahead of its use: a hint, never a fault, and
//! nothing on targets other than x86-64. Where it pays is measured at
//! each use (the parallel pipeline's handoffs between cores, the capture
//! file's record headers).

/// Fetches the cache lines of the first `bytes` bytes from `at` (the
/// address may be anywhere: a prefetch of an unmapped address is dropped).
#[inline]
pub fn lines<T>(at: *const T, bytes: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let first = at.cast::<i8>();
        for offset in (0..bytes).step_by(64) {
            // SAFETY: a prefetch never faults, whatever the address;
            // `wrapping_add` makes no claim on the allocation.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(first.wrapping_add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (at, bytes);
}
