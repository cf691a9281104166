//! The keyspace: every database split into shards by key hash, each shard
//! behind its own mutex, so commands on unrelated keys never wait on each
//! other. A shard holds the slice of *every* database that hashes to it, so
//! MOVE, COPY ... DB and SWAPDB need no extra locks. Commands lock the shards
//! of their keys in ascending shard order (never out of order, so never a
//! deadlock); MULTI/EXEC, scripts and whole-keyspace commands lock all shards
//! in that same order.

pub mod bitmap;
pub mod bloom;
pub mod dict;
pub mod entry;
pub mod hash;
pub mod hll;
pub mod list;
pub mod set;
pub mod stream;
pub mod value;
pub mod zset;

pub use dict::{Dict, Live};
pub use entry::{Entry, NewValue, OwnedValue, ValueRef};
pub use value::Value;

use crate::blocking::Waiter;
use crate::pubsub::{events, PubSub};
use crate::stats::Counter;
use parking_lot::{Mutex, MutexGuard};
use smallvec::SmallVec;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

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
    /// WATCHed keys of this shard, per database: the dirty flags of the
    /// clients watching each key.
    pub watched: Vec<HashMap<Vec<u8>, Vec<WatchFlag>>>,
    /// Clients blocked on keys of this shard, per database, FIFO per key.
    pub blocked: Vec<HashMap<Vec<u8>, VecDeque<Arc<Waiter>>>>,
}

/// A client's "a watched key changed" flag (Redis's CLIENT_DIRTY_CAS).
pub type WatchFlag = Arc<AtomicBool>;

impl Shard {
    fn flag_watchers(&mut self, db: usize, key: &[u8]) {
        if let Some(flags) = self.watched[db].get(key) {
            for f in flags {
                f.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Flags the watchers of every watched key of `db` that exists now (a
    /// FLUSHDB or SWAPDB is about to change it).
    pub fn flag_existing_watched(&mut self, db: usize, also_in: Option<usize>) {
        let Shard { dbs, watched, .. } = self;
        for (key, flags) in watched[db].iter() {
            let h = hash_key(key);
            let exists = dbs[db].get(key, h).is_some()
                || also_in.is_some_and(|o| dbs[o].get(key, h).is_some());
            if exists {
                for f in flags {
                    f.store(true, Ordering::Relaxed);
                }
            }
        }
    }
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
    /// Live WATCH registrations; writes skip the watcher lookup while zero.
    pub watches: AtomicUsize,
    /// Registered blocked-client waiters (one per client and key); writes
    /// skip the waiter lookup while zero.
    pub blocked: AtomicUsize,
    /// Clients parked in a blocking command (INFO blocked_clients).
    pub blocked_clients: AtomicUsize,
    /// Pub/sub subscribers, here so that keyspace notifications can reach
    /// them from any write path, active expiry included.
    pub pubsub: PubSub,
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
                    watched: (0..databases).map(|_| HashMap::new()).collect(),
                    blocked: (0..databases).map(|_| HashMap::new()).collect(),
                }))
            })
            .collect();
        Keyspace {
            shards,
            databases,
            stats: KeyStats::default(),
            watches: AtomicUsize::new(0),
            blocked: AtomicUsize::new(0),
            blocked_clients: AtomicUsize::new(0),
            pubsub: PubSub::default(),
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

    /// One round of active expiry: walks a slice of every shard's tables and
    /// deletes keys whose time has passed, so memory of expired keys nobody
    /// reads is reclaimed. Each round covers about 1/64 of every table, so a
    /// full pass takes 64 rounds whatever the size; a table where many keys
    /// are expiring gets extra passes until `budget` runs out.
    pub fn active_expire_cycle(&self, now: i64, budget: std::time::Duration) -> usize {
        let start = std::time::Instant::now();
        let mut total = 0;
        let watching = self.watches.load(Ordering::Relaxed) > 0;
        for shard in &self.shards {
            let mut shard = shard.0.lock();
            let Shard { dbs, watched, .. } = &mut *shard;
            for (dbi, dict) in dbs.iter_mut().enumerate() {
                if dict.volatile() == 0 {
                    continue;
                }
                // An expired key counts as modified for WATCH.
                let mut on_removed = |key: &[u8]| {
                    if watching {
                        for f in watched[dbi].get(key).into_iter().flatten() {
                            f.store(true, Ordering::Relaxed);
                        }
                    }
                    self.pubsub.notify(events::EXPIRED, "expired", key, dbi);
                };
                loop {
                    let steps = (dict.capacity() / 64).max(16);
                    let (mut seen, mut removed) = (0, 0);
                    for _ in 0..steps {
                        let (next, s, r) =
                            dict.expire_bucket(dict.expire_cursor, now, &mut on_removed);
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

    /// The shard if this command holds its lock.
    pub fn try_shard(&mut self, idx: usize) -> Option<&mut Shard> {
        if self.all {
            return Some(&mut self.held[idx].1);
        }
        self.held
            .iter_mut()
            .find(|(i, _)| *i == idx)
            .map(|(_, g)| &mut **g)
    }

    /// The shard, shared, if this command holds its lock.
    pub fn shard_ref(&self, idx: usize) -> Option<&Shard> {
        if self.all {
            return self.held.get(idx).map(|(_, g)| &**g);
        }
        self.held.iter().find(|(i, _)| *i == idx).map(|(_, g)| &**g)
    }

    pub fn shards_mut(&mut self) -> impl Iterator<Item = &mut Shard> + use<'_, 'a> {
        self.held.iter_mut().map(|(_, g)| &mut **g)
    }

    /// Adds shard `idx` to the held locks (serving a blocked BLMOVE may need
    /// its destination's shard). Locks are only ever waited for in ascending
    /// order: a lower shard that is busy makes us release the higher ones
    /// and take them again after it. The command's own effects are complete
    /// by then, so that brief release is invisible to its atomicity.
    pub fn ensure(&mut self, ks: &'a Keyspace, idx: usize) {
        if self.all || self.held.iter().any(|(i, _)| *i == idx) {
            return;
        }
        let pos = self.held.partition_point(|(i, _)| *i < idx);
        if pos == self.held.len() {
            self.held.push((idx, ks.lock_shard(idx)));
            return;
        }
        if let Some(g) = ks.shards[idx].0.try_lock() {
            self.held.insert(pos, (idx, g));
            return;
        }
        let higher: SmallVec<[usize; 4]> = self.held.drain(pos..).map(|(i, _)| i).collect();
        self.held.push((idx, ks.lock_shard(idx)));
        for i in higher {
            self.held.push((i, ks.lock_shard(i)));
        }
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
    /// Keys that blocked clients wait on and that this command wrote, in
    /// write order: the dispatcher serves their waiters before releasing
    /// the locks.
    pub ready: Vec<(usize, Vec<u8>)>,
}

impl<'a> Store<'a> {
    pub fn new(ks: &'a Keyspace, guards: Guards<'a>, db: usize, now: i64) -> Store<'a> {
        Store {
            guards,
            ks,
            db,
            now,
            ready: Vec::new(),
        }
    }

    #[inline]
    pub fn dict_in(&mut self, db: usize, hash: u64) -> &mut Dict {
        &mut self.guards.shard(shard_of(hash)).dbs[db]
    }

    fn live_in(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let ks = self.ks;
        let hash = hash_key(key);
        let now = self.now;
        let expired = &self.ks.stats.expired;
        let watching = self.ks.watches.load(Ordering::Relaxed) > 0;
        let Shard { dbs, watched, .. } = self.guards.shard(shard_of(hash));
        match dbs[db].get_live(key, hash, now) {
            Live::Found(e) => Some(e),
            Live::Expired => {
                expired.incr();
                if watching {
                    for f in watched[db].get(key).into_iter().flatten() {
                        f.store(true, Ordering::Relaxed);
                    }
                }
                ks.pubsub.notify(events::EXPIRED, "expired", key, db);
                None
            }
            Live::Missing => None,
        }
    }

    /// Lookup for a read command: counts keyspace hits/misses, updates LRU.
    #[inline]
    pub fn read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let ks = self.ks;
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
                ks.pubsub.notify(events::KEY_MISS, "keymiss", key, db);
                None
            }
        }
    }

    /// A shared view of a key this command already looked up with `read` or
    /// `write` (which handled its expiry), so several values can be borrowed
    /// at once (ZUNION and friends).
    pub fn get_ref(&self, key: &[u8]) -> Option<&Entry> {
        let hash = hash_key(key);
        let shard = self.guards.shard_ref(shard_of(hash))?;
        shard.dbs[self.db]
            .get(key, hash)
            .filter(|e| !e.is_expired(self.now))
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
        self.changed(db, entry.key(), hash);
        if self.ks.pubsub.notifies(events::NEW) {
            let created = self.dict_in(db, hash).get(entry.key(), hash).is_none();
            if created {
                self.ks.pubsub.notify(events::NEW, "new", entry.key(), db);
            }
        }
        drop(self.dict_in(db, hash).replace(entry, hash));
    }

    /// Every write goes through here: counts it for INFO and makes EXEC fail
    /// for clients WATCHing the key.
    #[inline]
    fn changed(&mut self, db: usize, key: &[u8], hash: u64) {
        self.ks.stats.dirty.incr();
        if self.ks.watches.load(Ordering::Relaxed) > 0 {
            self.guards.shard(shard_of(hash)).flag_watchers(db, key);
        }
        if self.ks.blocked.load(Ordering::Relaxed) > 0 {
            self.signal_if_blocked(db, key, hash);
        }
    }

    #[cold]
    fn signal_if_blocked(&mut self, db: usize, key: &[u8], hash: u64) {
        let waited_on = self.guards.shard(shard_of(hash)).blocked[db].contains_key(key);
        if waited_on && !self.ready.iter().any(|(d, k)| *d == db && k == key) {
            self.ready.push((db, key.to_vec()));
        }
    }

    /// Removes `key` and returns it (None if absent or expired).
    pub fn take_in(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        self.live_in(db, key)?;
        let hash = hash_key(key);
        self.changed(db, key, hash);
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
        let hash = hash_key(key);
        if let Some(when) = expire {
            if e.update_expire_in_place(when) {
                self.changed(db, key, hash);
                return true;
            }
        }
        self.changed(db, key, hash);
        self.dict_in(db, hash)
            .rebuild(key, hash, |e| e.with_expire(expire))
    }

    /// A command changed the collection at `key` in place: reports `event`
    /// and deletes the key if the collection is now empty (Redis never
    /// keeps empty collections), reporting that too.
    pub fn collection_changed(&mut self, key: &[u8], class: u32, event: &str, now_empty: bool) {
        self.notify(class, event, key);
        if now_empty {
            self.delete(key);
            self.notify(events::GENERIC, "del", key);
        } else {
            self.modified(key);
        }
    }

    /// A *STORE command's result: stored at `dst` and reported as `event`,
    /// or, when the result is empty (None), `dst` deleted and reported as
    /// "del" if it existed, as every Redis STORE form does.
    pub fn store_result(
        &mut self,
        dst: &[u8],
        result: Option<NewValue<'_>>,
        class: u32,
        event: &str,
    ) {
        match result {
            Some(v) => {
                self.set(dst, v, None);
                self.notify(class, event, dst);
            }
            None => {
                if self.delete(dst) {
                    self.notify(events::GENERIC, "del", dst);
                }
            }
        }
    }

    /// EXPIRE and GETEX on an existing key: a deadline already past deletes
    /// it, as Redis does.
    pub fn expire_or_delete(&mut self, key: &[u8], when: i64) {
        if when <= self.now {
            self.delete(key);
            self.notify(events::GENERIC, "del", key);
        } else {
            self.set_expire(key, Some(when));
            self.notify(events::GENERIC, "expire", key);
        }
    }

    /// Replaces the value of an existing key with a differently sized one,
    /// keeping its expiry.
    pub fn rebuild(&mut self, key: &[u8], f: impl FnOnce(Entry) -> Entry) -> bool {
        let db = self.db;
        let hash = hash_key(key);
        self.changed(db, key, hash);
        self.dict_in(db, hash).rebuild(key, hash, f)
    }

    /// Like `rebuild`, for a new representation of the same value, which
    /// Redis does not count as a write (no dirty count, no WATCH trigger).
    pub fn reencode(&mut self, key: &[u8], f: impl FnOnce(Entry) -> Entry) -> bool {
        let db = self.db;
        let hash = hash_key(key);
        self.dict_in(db, hash).rebuild(key, hash, f)
    }

    /// Runs `f` on shard `idx`, through the lock this command already holds
    /// (inside EXEC it holds all of them) or by taking it just for `f`.
    pub fn with_shard<R>(&mut self, idx: usize, f: impl FnOnce(&mut Shard) -> R) -> R {
        if let Some(shard) = self.guards.try_shard(idx) {
            return f(shard);
        }
        let mut guard = self.ks.lock_shard(idx);
        f(&mut guard)
    }

    /// (keys, keys with expiry) per database, for INFO keyspace.
    pub fn db_counts(&mut self) -> Vec<(usize, usize)> {
        let mut out = vec![(0, 0); self.ks.databases()];
        for idx in 0..SHARDS {
            self.with_shard(idx, |s| {
                for (i, d) in s.dbs.iter().enumerate() {
                    out[i].0 += d.len();
                    out[i].1 += d.volatile();
                }
            });
        }
        out
    }

    /// Redis's notifyKeyspaceEvent: publishes `event` on `key` of this
    /// command's database if notifications of `class` are enabled. Every
    /// handler reports its changes here, with Redis's event names.
    #[inline]
    pub fn notify(&self, class: u32, event: &str, key: &[u8]) {
        self.notify_in(self.db, class, event, key);
    }

    #[inline]
    pub fn notify_in(&self, db: usize, class: u32, event: &str, key: &[u8]) {
        self.ks.pubsub.notify(class, event, key, db);
    }

    /// Marks a change made in place through `write()`.
    pub fn modified(&mut self, key: &[u8]) {
        let db = self.db;
        self.changed(db, key, hash_key(key));
    }

    /// Marks a whole-database change (FLUSHDB, SWAPDB): watchers of keys that
    /// exist in `db` (or in `also_in`, the database swapped in) are flagged.
    pub fn changed_database(&mut self, db: usize, also_in: Option<usize>) {
        self.ks.stats.dirty.incr();
        if self.ks.watches.load(Ordering::Relaxed) > 0 {
            for shard in self.guards.shards_mut() {
                shard.flag_existing_watched(db, also_in);
            }
        }
        // SWAPDB can bring data to keys clients are blocked on.
        if self.ks.blocked.load(Ordering::Relaxed) > 0 {
            let mut ready = Vec::new();
            for shard in self.guards.shards_mut() {
                for d in std::iter::once(db).chain(also_in) {
                    ready.extend(shard.blocked[d].keys().map(|k| (d, k.clone())));
                }
            }
            for r in ready {
                if !self.ready.contains(&r) {
                    self.ready.push(r);
                }
            }
        }
    }
}
