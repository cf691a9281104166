//! Server statistics. Counters bumped on every command are split into
//! per-thread slots on separate cache lines, so worker threads never fight
//! over one line; readers (INFO) sum the slots.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

pub const SLOTS: usize = 16;

#[repr(align(64))]
#[derive(Default)]
struct Slot(AtomicU64);

#[derive(Default)]
pub struct Counter {
    slots: [Slot; SLOTS],
}

static NEXT_THREAD_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static THREAD_SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// This thread's slot index, fixed on first use. Also used by the global
/// allocator: a const-initialised Cell has no destructor, so this never
/// allocates, and during thread teardown it falls back to slot 0.
#[inline]
pub fn thread_slot() -> usize {
    THREAD_SLOT
        .try_with(|s| {
            let v = s.get();
            if v != usize::MAX {
                return v;
            }
            let v = NEXT_THREAD_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS;
            s.set(v);
            v
        })
        .unwrap_or(0)
}

impl Counter {
    #[inline]
    pub fn add(&self, n: u64) {
        self.slots[thread_slot()].0.fetch_add(n, Ordering::Relaxed);
    }

    #[inline]
    pub fn incr(&self) {
        self.add(1);
    }

    pub fn get(&self) -> u64 {
        self.slots.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }

    pub fn reset(&self) {
        for s in &self.slots {
            s.0.store(0, Ordering::Relaxed);
        }
    }
}

#[derive(Default)]
pub struct ServerStats {
    pub commands: Counter,
    pub connections_received: Counter,
    pub rejected_connections: Counter,
    pub net_input_bytes: Counter,
    pub net_output_bytes: Counter,
    pub unexpected_error_replies: Counter,
    pub total_error_replies: Counter,
}

impl ServerStats {
    pub fn reset(&self) {
        for c in [
            &self.commands,
            &self.connections_received,
            &self.rejected_connections,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.unexpected_error_replies,
            &self.total_error_replies,
        ] {
            c.reset();
        }
    }
}
