//! The global allocator: mimalloc (size classes without per-block headers,
//! which keeps small keys compact) wrapped to count live heap bytes for INFO
//! `used_memory` and, later, `maxmemory`. The count is kept per thread slot
//! to stay off a shared cache line on every allocation.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

pub struct CountingAlloc;

const SLOTS: usize = 16;

#[repr(align(64))]
struct Slot(AtomicIsize);

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: Slot = Slot(AtomicIsize::new(0));
static USED: [Slot; SLOTS] = [ZERO; SLOTS];
static NEXT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // A const-initialised Cell needs no destructor, so using it inside the
    // allocator cannot recurse into the allocator.
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[inline]
fn slot() -> usize {
    SLOT.try_with(|s| {
        let v = s.get();
        if v != usize::MAX {
            return v;
        }
        let v = NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS;
        s.set(v);
        v
    })
    .unwrap_or(0)
}

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
            USED[slot()]
                .0
                .fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        mimalloc::MiMalloc.dealloc(ptr, layout);
        USED[slot()]
            .0
            .fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = mimalloc::MiMalloc.alloc_zeroed(layout);
        if !p.is_null() {
            USED[slot()]
                .0
                .fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = mimalloc::MiMalloc.realloc(ptr, layout, new_size);
        if !p.is_null() {
            USED[slot()].0.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}
