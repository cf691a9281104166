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

/// Per-command figures for INFO commandstats.
#[derive(Default)]
pub struct CommandStat {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
}

#[derive(Default)]
pub struct ServerStats {
    /// Keyed by the address of the command's static table entry.
    pub per_command: std::collections::HashMap<usize, CommandStat, ahash::RandomState>,
    /// Error replies by error code (INFO errorstats).
    pub errors: parking_lot::Mutex<std::collections::BTreeMap<String, u64>>,
    pub commands: Counter,
    pub connections_received: Counter,
    pub rejected_connections: Counter,
    pub net_input_bytes: Counter,
    pub net_output_bytes: Counter,
    pub unexpected_error_replies: Counter,
    pub total_error_replies: Counter,
}

impl ServerStats {
    pub fn new() -> ServerStats {
        let mut stats = ServerStats::default();
        for c in crate::commands::table::COMMANDS {
            for spec in std::iter::once(c).chain(c.subcommands.iter()) {
                stats
                    .per_command
                    .insert(spec as *const _ as usize, CommandStat::default());
            }
        }
        stats
    }

    pub fn command(&self, cmd: &crate::commands::CommandSpec) -> Option<&CommandStat> {
        self.per_command.get(&(cmd as *const _ as usize))
    }

    /// Accounts one command: its stage and, from its reply, whether it failed.
    pub fn record(&self, stage: &crate::commands::Stage, reply: &[u8]) {
        use crate::commands::Stage;
        let error_code = (reply.first() == Some(&b'-')).then(|| {
            let end = reply
                .iter()
                .position(|&c| c == b' ' || c == b'\r')
                .unwrap_or(reply.len());
            String::from_utf8_lossy(&reply[1..end]).into_owned()
        });
        match stage {
            Stage::Ran(cmd, took) => {
                if let Some(s) = self.command(cmd) {
                    s.calls.fetch_add(1, Ordering::Relaxed);
                    s.usec.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
                    if error_code.is_some() {
                        s.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Stage::Rejected(cmd) => {
                if let Some(s) = self.command(cmd) {
                    s.rejected.fetch_add(1, Ordering::Relaxed);
                }
            }
            Stage::Unknown | Stage::Queued | Stage::Postponed => {}
        }
        if let Some(code) = error_code {
            self.total_error_replies.incr();
            *self.errors.lock().entry(code).or_insert(0) += 1;
        }
    }

    pub fn reset(&self) {
        for s in self.per_command.values() {
            for c in [&s.calls, &s.usec, &s.rejected, &s.failed] {
                c.store(0, Ordering::Relaxed);
            }
        }
        self.errors.lock().clear();
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
