//! The global allocator: mimalloc (size classes without per-block headers,
//! which keeps small keys compact) wrapped to count live heap bytes for INFO
//! `used_memory` and, later, `maxmemory`. The count is kept per thread slot
//! to stay off a shared cache line on every allocation.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicIsize, Ordering};

pub struct CountingAlloc;

use crate::stats::SLOTS;

#[repr(align(64))]
struct Slot(AtomicIsize);

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: Slot = Slot(AtomicIsize::new(0));
static USED: [Slot; SLOTS] = [ZERO; SLOTS];
/// Bytes currently allocated through the global allocator.
pub fn used_memory() -> usize {
    USED.iter()
        .map(|s| s.0.load(Ordering::Relaxed))
        .sum::<isize>()
        .max(0) as usize
}

// SAFETY: every call forwards to mimalloc with the same arguments; the
// counters only observe sizes.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = mimalloc::MiMalloc.alloc(layout);
        if !p.is_null() {
            USED[crate::stats::thread_slot()]
                .0
                .fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        mimalloc::MiMalloc.dealloc(ptr, layout);
        USED[crate::stats::thread_slot()]
            .0
            .fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = mimalloc::MiMalloc.alloc_zeroed(layout);
        if !p.is_null() {
            USED[crate::stats::thread_slot()]
                .0
                .fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = mimalloc::MiMalloc.realloc(ptr, layout, new_size);
        if !p.is_null() {
            USED[crate::stats::thread_slot()].0.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}
