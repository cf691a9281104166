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

const HUGE_PAGE: usize = 2 << 20;

/// Transparent huge pages are off for the heap (as Redis turns them off):
/// zeroing a 2 MB page on first touch stalls a growing list for
/// milliseconds. A large array that random lookups descend through (a
/// skiplist's node slab) is the exception: with 4 KB pages nearly every
/// step of a descent misses the TLB, which costs more than the one-time
/// zeroing. Grows `v` to hold `additional` more elements; once the buffer
/// reaches 2 MB, each new buffer is advised for huge pages before the old
/// elements are copied in, so its pages are faulted in huge.
pub fn reserve_huge<T: Copy>(v: &mut Vec<T>, additional: usize) {
    let need = v.len() + additional;
    if need <= v.capacity() {
        return;
    }
    let cap = need.max(v.capacity() * 2);
    if cap * std::mem::size_of::<T>() < HUGE_PAGE {
        v.reserve(additional);
        return;
    }
    let mut grown = Vec::with_capacity(cap);
    advise_huge(
        grown.as_mut_ptr() as *mut u8,
        cap * std::mem::size_of::<T>(),
    );
    grown.extend_from_slice(v);
    *v = grown;
}

/// MADV_HUGEPAGE over the 2 MB-aligned part of `[p, p + len)`.
fn advise_huge(p: *mut u8, len: usize) {
    let start = (p as usize).next_multiple_of(HUGE_PAGE);
    let end = (p as usize + len) & !(HUGE_PAGE - 1);
    if end > start {
        // SAFETY: the range lies inside one live allocation of ours, and
        // MADV_HUGEPAGE only changes how its pages are backed, never their
        // contents; failure (THP unsupported) is harmless.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}
