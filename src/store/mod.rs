//! The keyspace: every database split into shards by key hash, each shard
//! behind its own mutex, so commands on unrelated keys never wait on each
//! other. A shard holds the slice of *every* database that hashes to it, so
//! MOVE, COPY ... DB and SWAPDB need no extra locks. Commands lock the shards
//! of their keys in ascending shard order (never out of order, so never a
//! deadlock); MULTI/EXEC, scripts and whole-keyspace commands lock all shards
//! in that same order.

pub mod dict;
pub mod entry;
pub mod value;

pub use dict::{Dict, Live};
pub use entry::{Entry, NewValue, OwnedValue, ValueRef};
pub use value::Value;

use crate::stats::Counter;
use parking_lot::{Mutex, MutexGuard};
use smallvec::SmallVec;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::OnceLock;

pub const SHARD_BITS: u32 = 6;
pub const SHARDS: usize = 1 << SHARD_BITS;

static HASHER: OnceLock<ahash::RandomState> = OnceLock::new();

/// The keyspace hash (random per process, like Redis's seeded siphash, so
/// clients cannot aim keys at one bucket). High bits pick the shard, low bits
/// the bucket.
#[inline]
pub fn hash_key(key: &[u8]) -> u64 {
    HASHER.get_or_init(ahash::RandomState::new).hash_one(key)
}

#[inline]
pub fn shard_of(hash: u64) -> usize {
    (hash >> (64 - SHARD_BITS)) as usize
}

/// Seconds clock for LRU/idle time, advanced by the server cron.
static LRU_CLOCK: AtomicU32 = AtomicU32::new(0);

pub fn lru_clock() -> u32 {
    LRU_CLOCK.load(Ordering::Relaxed)
}

pub fn update_lru_clock(now_ms: i64) {
    LRU_CLOCK.store((now_ms / 1000) as u32, Ordering::Relaxed);
}

// Under an LFU maxmemory policy an entry's access field holds Redis's LFU
// data instead of a clock: the last decrement time in minutes (16 bits) and
// a logarithmic access counter (8 bits).
static LFU_MODE: AtomicBool = AtomicBool::new(false);
static LFU_LOG_FACTOR: AtomicU32 = AtomicU32::new(10);
static LFU_DECAY_TIME: AtomicU32 = AtomicU32::new(1);
const LFU_INIT_VAL: u32 = 5;

pub fn set_access_policy(lfu: bool, log_factor: u32, decay_time: u32) {
    LFU_MODE.store(lfu, Ordering::Relaxed);
    LFU_LOG_FACTOR.store(log_factor, Ordering::Relaxed);
    LFU_DECAY_TIME.store(decay_time, Ordering::Relaxed);
}

fn lfu_minutes() -> u32 {
    (lru_clock() / 60) & 0xFFFF
}

/// The access field for a new entry.
pub fn initial_access() -> u32 {
    if LFU_MODE.load(Ordering::Relaxed) {
        (lfu_minutes() << 8) | LFU_INIT_VAL
    } else {
        lru_clock()
    }
}

/// The LFU counter after decay (OBJECT FREQ).
pub fn lfu_counter(access: u32) -> u32 {
    let last = access >> 8;
    let counter = access & 0xFF;
    let now = lfu_minutes();
    let elapsed = if now >= last {
        now - last
    } else {
        0xFFFF - last + now
    };
    let decay = LFU_DECAY_TIME.load(Ordering::Relaxed);
    let periods = elapsed.checked_div(decay).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// Records an access: the clock under LRU, a probabilistic counter bump under LFU.
#[inline]
pub fn touch(e: &mut Entry) {
    if !LFU_MODE.load(Ordering::Relaxed) {
        e.set_lru(lru_clock());
        return;
    }
    let mut counter = lfu_counter(e.lru());
    if counter < 255 {
        let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
        let p = 1.0 / (base * LFU_LOG_FACTOR.load(Ordering::Relaxed) as f64 + 1.0);
        if rand::random::<f64>() < p {
            counter += 1;
        }
    }
    e.set_lru((lfu_minutes() << 8) | counter);
}

pub struct Shard {
    pub dbs: Vec<Dict>,
}

#[repr(align(64))]
struct PaddedShard(Mutex<Shard>);

#[derive(Default)]
pub struct KeyStats {
    pub hits: Counter,
    pub misses: Counter,
    pub expired: Counter,
    pub dirty: Counter,
}

pub struct Keyspace {
    shards: Vec<PaddedShard>,
    databases: usize,
    pub stats: KeyStats,
}

/// Shard locks held by one command (or one EXEC, one script).
pub struct Guards<'a> {
    held: SmallVec<[(usize, MutexGuard<'a, Shard>); 4]>,
    all: bool,
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        let shards = (0..SHARDS)
            .map(|_| {
                PaddedShard(Mutex::new(Shard {
                    dbs: (0..databases).map(|_| Dict::default()).collect(),
                }))
            })
            .collect();
        Keyspace {
            shards,
            databases,
            stats: KeyStats::default(),
        }
    }

    pub fn databases(&self) -> usize {
        self.databases
    }

    pub fn lock_none(&self) -> Guards<'_> {
        Guards {
            held: SmallVec::new(),
            all: false,
        }
    }

    /// Locks the shards of `keys`, in ascending shard order.
    pub fn lock_keys<'k>(&self, keys: impl Iterator<Item = &'k [u8]>) -> Guards<'_> {
        let mut idx: SmallVec<[usize; 8]> = keys.map(|k| shard_of(hash_key(k))).collect();
        idx.sort_unstable();
        idx.dedup();
        Guards {
            held: idx
                .into_iter()
                .map(|i| (i, self.shards[i].0.lock()))
                .collect(),
            all: false,
        }
    }

    pub fn lock_all(&self) -> Guards<'_> {
        Guards {
            held: self
                .shards
                .iter()
                .enumerate()
                .map(|(i, s)| (i, s.0.lock()))
                .collect(),
            all: true,
        }
    }

    pub fn lock_shard(&self, idx: usize) -> MutexGuard<'_, Shard> {
        self.shards[idx].0.lock()
    }

    pub fn dbsize(&self, db: usize) -> usize {
        self.shards.iter().map(|s| s.0.lock().dbs[db].len()).sum()
    }

    /// (keys, keys with expiry) per database, for INFO keyspace.
    pub fn db_counts(&self) -> Vec<(usize, usize)> {
        let mut out = vec![(0, 0); self.databases];
        for s in &self.shards {
            let s = s.0.lock();
            for (i, d) in s.dbs.iter().enumerate() {
                out[i].0 += d.len();
                out[i].1 += d.volatile();
            }
        }
        out
    }

    /// One round of active expiry: walks a slice of every shard's tables and
    /// deletes keys whose time has passed, so memory of expired keys nobody
    /// reads is reclaimed. Each round covers about 1/64 of every table, so a
    /// full pass takes 64 rounds whatever the size; a table where many keys
    /// are expiring gets extra passes until `budget` runs out.
    pub fn active_expire_cycle(&self, now: i64, budget: std::time::Duration) -> usize {
        let start = std::time::Instant::now();
        let mut total = 0;
        for shard in &self.shards {
            let mut shard = shard.0.lock();
            for dict in shard.dbs.iter_mut() {
                if dict.volatile() == 0 {
                    continue;
                }
                loop {
                    let steps = (dict.capacity() / 64).max(16);
                    let (mut seen, mut removed) = (0, 0);
                    for _ in 0..steps {
                        let (next, s, r) = dict.expire_bucket(dict.expire_cursor, now);
                        dict.expire_cursor = next;
                        seen += s;
                        removed += r;
                        if dict.volatile() == 0 {
                            break;
                        }
                    }
                    total += removed;
                    if removed * 10 <= seen || dict.volatile() == 0 || start.elapsed() > budget {
                        break;
                    }
                }
            }
            if start.elapsed() > budget {
                break;
            }
        }
        self.stats.expired.add(total as u64);
        total
    }
}

impl<'a> Guards<'a> {
    pub fn is_all(&self) -> bool {
        self.all
    }

    #[inline]
    pub fn shard(&mut self, idx: usize) -> &mut Shard {
        if self.all {
            return &mut self.held[idx].1;
        }
        match self.held.iter_mut().find(|(i, _)| *i == idx) {
            Some((_, g)) => g,
            // A command touched a key its key specification did not declare:
            // a bug in the command table, caught by the dispatcher's unwind guard.
            None => panic!("shard {} not locked by this command", idx),
        }
    }

    pub fn shards_mut(&mut self) -> impl Iterator<Item = &mut Shard> + use<'_, 'a> {
        self.held.iter_mut().map(|(_, g)| &mut **g)
    }
}

/// A command's view of the keyspace: the shards it locked, its database and
/// the time it started (Redis freezes the clock for the duration of a command,
/// so that a key does not expire half-way through it).
pub struct Store<'a> {
    pub guards: Guards<'a>,
    pub ks: &'a Keyspace,
    pub db: usize,
    pub now: i64,
}

impl<'a> Store<'a> {
    pub fn new(ks: &'a Keyspace, guards: Guards<'a>, db: usize, now: i64) -> Store<'a> {
        Store {
            guards,
            ks,
            db,
            now,
        }
    }

    #[inline]
    pub fn dict_in(&mut self, db: usize, hash: u64) -> &mut Dict {
        &mut self.guards.shard(shard_of(hash)).dbs[db]
    }

    fn live_in(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let hash = hash_key(key);
        let now = self.now;
        let expired = &self.ks.stats.expired;
        match self.guards.shard(shard_of(hash)).dbs[db].get_live(key, hash, now) {
            Live::Found(e) => Some(e),
            Live::Expired => {
                expired.incr();
                None
            }
            Live::Missing => None,
        }
    }

    /// Lookup for a read command: counts keyspace hits/misses, updates LRU.
    #[inline]
    pub fn read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let db = self.db;
        let stats = &self.ks.stats;
        match self.live_in(db, key) {
            Some(e) => {
                stats.hits.incr();
                touch(e);
                Some(e)
            }
            None => {
                stats.misses.incr();
                None
            }
        }
    }

    /// Lookup for a write command (no hit/miss accounting).
    #[inline]
    pub fn write(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let db = self.db;
        self.write_in(db, key)
    }

    pub fn write_in(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let e = self.live_in(db, key)?;
        touch(e);
        Some(e)
    }

    /// Looks a key up without touching its access time (OBJECT, TYPE-like peeks).
    pub fn peek(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let db = self.db;
        self.live_in(db, key)
    }

    pub fn exists(&mut self, key: &[u8]) -> bool {
        let db = self.db;
        self.live_in(db, key).is_some()
    }

    /// Stores `value` under `key`, replacing any value and its expiry.
    pub fn set(&mut self, key: &[u8], value: NewValue<'_>, expire: Option<i64>) {
        let db = self.db;
        self.put_in(db, Entry::new(key, value, expire, initial_access()));
    }

    /// Stores `value` under `key`, keeping the current expiry if any.
    pub fn set_keep_ttl(&mut self, key: &[u8], value: NewValue<'_>) {
        let expire = self.write(key).and_then(|e| e.expire());
        self.set(key, value, expire);
    }

    /// Inserts a ready entry into `db`, replacing what was there.
    pub fn put_in(&mut self, db: usize, entry: Entry) {
        let hash = hash_key(entry.key());
        self.ks.stats.dirty.incr();
        drop(self.dict_in(db, hash).replace(entry, hash));
    }

    /// Removes `key` and returns it (None if absent or expired).
    pub fn take_in(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        self.live_in(db, key)?;
        let hash = hash_key(key);
        self.ks.stats.dirty.incr();
        self.dict_in(db, hash).remove(key, hash)
    }

    pub fn delete(&mut self, key: &[u8]) -> bool {
        let db = self.db;
        self.take_in(db, key).is_some()
    }

    /// Sets or clears the expiry of an existing key; false if there is no key.
    pub fn set_expire(&mut self, key: &[u8], expire: Option<i64>) -> bool {
        let db = self.db;
        let Some(e) = self.live_in(db, key) else {
            return false;
        };
        if let Some(when) = expire {
            if e.update_expire_in_place(when) {
                self.ks.stats.dirty.incr();
                return true;
            }
        }
        let hash = hash_key(key);
        self.ks.stats.dirty.incr();
        self.dict_in(db, hash)
            .rebuild(key, hash, |e| e.with_expire(expire))
    }

    /// Replaces the value of an existing key with a differently sized one,
    /// keeping its expiry.
    pub fn rebuild(&mut self, key: &[u8], f: impl FnOnce(Entry) -> Entry) -> bool {
        let db = self.db;
        let hash = hash_key(key);
        self.ks.stats.dirty.incr();
        self.dict_in(db, hash).rebuild(key, hash, f)
    }

    /// Marks a change made in place through `write()`.
    pub fn modified(&mut self) {
        self.ks.stats.dirty.incr();
    }
}
