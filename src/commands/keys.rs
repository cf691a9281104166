//! Keyspace commands: DEL, EXISTS, TYPE, RENAME, MOVE, COPY, SWAPDB, KEYS,
//! SCAN, RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, TOUCH, OBJECT, and expiry
//! (EXPIRE family, TTL family, PERSIST).

use super::Ctx;
use crate::config;
use crate::pubsub::events;
use crate::store::{self, Entry, Store, ValueRef, SHARDS, SHARD_BITS};
use crate::util::{eq_ignore_case, glob_match, parse_cursor, parse_i64};

pub fn del(ctx: &mut Ctx, db: &mut Store) {
    let n = ctx.args[1..]
        .iter()
        .filter(|k| {
            let deleted = db.delete(k);
            if deleted {
                db.notify(events::GENERIC, "del", k);
            }
            deleted
        })
        .count();
    ctx.out.int(n as i64);
}

pub fn unlink(ctx: &mut Ctx, db: &mut Store) {
    del(ctx, db);
}

pub fn exists(ctx: &mut Ctx, db: &mut Store) {
    let n = ctx.args[1..]
        .iter()
        .filter(|k| db.read(k).is_some())
        .count();
    ctx.out.int(n as i64);
}

pub fn touch(ctx: &mut Ctx, db: &mut Store) {
    let n = ctx.args[1..]
        .iter()
        .filter(|k| db.write(k).is_some())
        .count();
    ctx.out.int(n as i64);
}

/// The name TYPE reports for an entry.
pub fn type_name(e: &Entry) -> &'static str {
    match e.value() {
        ValueRef::Str(_) | ValueRef::Int(_) => "string",
        ValueRef::Obj(v) => v.type_name(),
    }
}

pub fn type_cmd(ctx: &mut Ctx, db: &mut Store) {
    let name = db.peek(ctx.args[1]).map_or("none", |e| type_name(e));
    ctx.out.simple(name);
}

fn rename_generic(ctx: &mut Ctx, db: &mut Store, nx: bool) {
    let (src, dst) = (ctx.args[1], ctx.args[2]);
    if db.write(src).is_none() {
        return ctx.out.err("no such key");
    }
    if src == dst {
        return if nx { ctx.out.int(0) } else { ctx.out.ok() };
    }
    if nx && db.write(dst).is_some() {
        return ctx.out.int(0);
    }
    let dbi = db.db;
    if let Some(mut e) = db.take_in(dbi, src) {
        let value = e.take_value();
        let mut scratch = Vec::new();
        db.put_in(
            dbi,
            Entry::new(dst, value.into_new(&mut scratch), e.expire(), e.lru()),
        );
        db.notify(events::GENERIC, "rename_from", src);
        db.notify(events::GENERIC, "rename_to", dst);
    }
    if nx {
        ctx.out.int(1)
    } else {
        ctx.out.ok()
    }
}

pub fn rename(ctx: &mut Ctx, db: &mut Store) {
    rename_generic(ctx, db, false);
}

pub fn renamenx(ctx: &mut Ctx, db: &mut Store) {
    rename_generic(ctx, db, true);
}

/// A database index argument, with Redis's two errors.
fn db_index(ctx: &mut Ctx, arg: &[u8]) -> Option<usize> {
    let Some(id) = parse_i64(arg).filter(|v| i32::try_from(*v).is_ok()) else {
        ctx.not_integer();
        return None;
    };
    if id < 0 || id as usize >= ctx.srv.keyspace.databases() {
        ctx.out.err("DB index is out of range");
        return None;
    }
    Some(id as usize)
}

pub fn move_cmd(ctx: &mut Ctx, db: &mut Store) {
    let Some(target) = db_index(ctx, ctx.args[2]) else {
        return;
    };
    if target == db.db {
        return ctx.out.err("source and destination objects are the same");
    }
    let key = ctx.args[1];
    if db.write(key).is_none() || db.write_in(target, key).is_some() {
        return ctx.out.int(0);
    }
    let src = db.db;
    // The same block moves: no copy of key or value.
    if let Some(e) = db.take_in(src, key) {
        db.put_in(target, e);
        db.notify_in(src, events::GENERIC, "move_from", key);
        db.notify_in(target, events::GENERIC, "move_to", key);
    }
    ctx.out.int(1);
}

pub fn copy(ctx: &mut Ctx, db: &mut Store) {
    let (src, dst) = (ctx.args[1], ctx.args[2]);
    let mut target = db.db;
    let mut replace = false;
    let mut j = 3;
    while j < ctx.args.len() {
        let more = ctx.args.len() - j - 1;
        if eq_ignore_case(ctx.args[j], "replace") {
            replace = true;
        } else if eq_ignore_case(ctx.args[j], "db") && more > 0 {
            let Some(t) = db_index(ctx, ctx.args[j + 1]) else {
                return;
            };
            target = t;
            j += 1;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    if target == db.db && src == dst {
        return ctx.out.err("source and destination objects are the same");
    }
    let copied = match db.write(src) {
        None => return ctx.out.int(0),
        Some(e) => {
            let expire = e.expire();
            match e.value() {
                ValueRef::Str(s) => Entry::new(
                    dst,
                    store::NewValue::Str(s),
                    expire,
                    store::initial_access(),
                ),
                ValueRef::Int(n) => Entry::new(
                    dst,
                    store::NewValue::Int(n),
                    expire,
                    store::initial_access(),
                ),
                ValueRef::Obj(v) => Entry::new(
                    dst,
                    store::NewValue::Obj(v.clone()),
                    expire,
                    store::initial_access(),
                ),
            }
        }
    };
    if db.write_in(target, dst).is_some() {
        if !replace {
            return ctx.out.int(0);
        }
        db.take_in(target, dst);
    }
    db.put_in(target, copied);
    db.notify_in(target, events::GENERIC, "copy_to", dst);
    ctx.out.int(1);
}

pub fn swapdb(ctx: &mut Ctx, db: &mut Store) {
    let ndb = ctx.srv.keyspace.databases() as i64;
    let parse = |a: &[u8]| parse_i64(a).filter(|v| i32::try_from(*v).is_ok());
    let Some(a) = parse(ctx.args[1]) else {
        return ctx.out.err("invalid first DB index");
    };
    let Some(b) = parse(ctx.args[2]) else {
        return ctx.out.err("invalid second DB index");
    };
    if a < 0 || a >= ndb || b < 0 || b >= ndb {
        return ctx.out.err("DB index is out of range");
    }
    db.changed_database(a as usize, Some(b as usize));
    db.changed_database(b as usize, Some(a as usize));
    for shard in db.guards.shards_mut() {
        shard.dbs.swap(a as usize, b as usize);
    }
    ctx.out.ok();
}

pub fn keys(ctx: &mut Ctx, db: &mut Store) {
    let pattern = ctx.args[1];
    let all = pattern == b"*";
    let (dbi, now) = (db.db, db.now);
    let mut found: Vec<Vec<u8>> = Vec::new();
    for shard in db.guards.shards_mut() {
        for e in shard.dbs[dbi].iter() {
            if !e.is_expired(now) && (all || glob_match(pattern, e.key(), false)) {
                found.push(e.key().to_vec());
            }
        }
    }
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
}

/// Options shared by SCAN and, later, HSCAN/SSCAN/ZSCAN.
pub struct ScanOptions<'a> {
    pub cursor: u64,
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
    pub type_filter: Option<&'a [u8]>,
}

impl ScanOptions<'_> {
    /// Whether `name` passes the MATCH pattern.
    pub fn matches(&self, name: &[u8]) -> bool {
        self.pattern.is_none_or(|p| glob_match(p, name, false))
    }
}

/// Parses `cursor [MATCH p] [COUNT n] [TYPE t]` starting at argument `at`.
pub fn parse_scan<'a>(ctx: &mut Ctx<'a>, at: usize, allow_type: bool) -> Option<ScanOptions<'a>> {
    let cursor = scan_cursor(ctx, at)?;
    scan_options(ctx, cursor, at + 1, allow_type)
}

/// The cursor argument at `at`, or None after replying "invalid cursor".
/// HSCAN and friends parse it before looking their key up, and the options
/// only once the key exists, as Redis does.
pub fn scan_cursor(ctx: &mut Ctx, at: usize) -> Option<u64> {
    let cursor = parse_cursor(ctx.args[at]);
    if cursor.is_none() {
        ctx.out.err("invalid cursor");
    }
    cursor
}

/// Parses `[MATCH p] [COUNT n] [TYPE t]` from argument `from` on.
pub fn scan_options<'a>(
    ctx: &mut Ctx<'a>,
    cursor: u64,
    from: usize,
    allow_type: bool,
) -> Option<ScanOptions<'a>> {
    let args = ctx.args;
    let mut opts = ScanOptions {
        cursor,
        pattern: None,
        count: 10,
        type_filter: None,
    };
    let mut i = from;
    while i < args.len() {
        let has_value = i + 1 < args.len();
        if eq_ignore_case(args[i], "count") && has_value {
            let n = ctx.int_arg(i + 1)?;
            if n < 1 {
                ctx.syntax_error();
                return None;
            }
            opts.count = n as usize;
        } else if eq_ignore_case(args[i], "match") && has_value {
            opts.pattern = Some(args[i + 1]).filter(|p| *p != b"*");
        } else if allow_type && eq_ignore_case(args[i], "type") && has_value {
            opts.type_filter = Some(args[i + 1]);
        } else {
            ctx.syntax_error();
            return None;
        }
        i += 2;
    }
    Some(opts)
}

/// One SSCAN/HSCAN/ZSCAN call over a collection's hashtable: visits buckets
/// until `count` elements were seen (before MATCH filtering, as Redis counts)
/// or ten times that many buckets; `emit` gets the entries that match.
/// Returns the next cursor (0 when done).
pub fn scan_dict(dict: &store::Dict, opts: &ScanOptions, mut emit: impl FnMut(&Entry)) -> u64 {
    let mut cursor = opts.cursor;
    let mut seen = 0;
    let mut budget = opts.count.saturating_mul(10);
    loop {
        cursor = dict.scan_bucket(cursor, |e| {
            seen += 1;
            if opts.matches(e.key()) {
                emit(e);
            }
        });
        budget = budget.saturating_sub(1);
        if cursor == 0 || budget == 0 || seen >= opts.count {
            return cursor;
        }
    }
}

/// The reply of a SCAN-like command: `[cursor, [items]]`.
pub fn reply_scan<'i>(ctx: &mut Ctx, cursor: u64, items: impl ExactSizeIterator<Item = &'i [u8]>) {
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(cursor).as_bytes());
    ctx.out.array(items.len());
    for i in items {
        ctx.out.bulk(i);
    }
}

/// SCAN over the sharded keyspace. The cursor packs the shard in its low
/// SHARD_BITS and that shard table's reverse-binary cursor above them, so
/// each call locks one shard at a time and Redis's guarantee holds per shard.
pub fn scan(ctx: &mut Ctx, db: &mut Store) {
    let Some(opts) = parse_scan(ctx, 1, true) else {
        return;
    };
    let mut shard = (opts.cursor as usize) & (SHARDS - 1);
    let mut local = opts.cursor >> SHARD_BITS;
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut budget = opts.count.saturating_mul(10);
    let (dbi, now) = (db.db, db.now);
    let ks = db.ks;
    let next = loop {
        db.with_shard(shard, |guard| {
            let dict = &mut guard.dbs[dbi];
            let mut expired: Vec<Vec<u8>> = Vec::new();
            loop {
                local = dict.scan_bucket(local, |e| {
                    if e.is_expired(now) {
                        expired.push(e.key().to_vec());
                        return;
                    }
                    if !opts.matches(e.key()) {
                        return;
                    }
                    if opts
                        .type_filter
                        .is_some_and(|t| !eq_ignore_case(t, type_name(e)))
                    {
                        return;
                    }
                    found.push(e.key().to_vec());
                });
                budget = budget.saturating_sub(1);
                if local == 0 || found.len() >= opts.count || budget == 0 {
                    break;
                }
            }
            for k in expired {
                let h = store::hash_key(&k);
                dict.remove(&k, h);
                ks.stats.expired.incr();
            }
        });
        if local != 0 {
            break ((local << SHARD_BITS) | shard as u64, false);
        }
        shard += 1;
        if shard == SHARDS {
            break (0, true);
        }
        if found.len() >= opts.count || budget == 0 {
            break (shard as u64, false);
        }
    };
    reply_scan(ctx, next.0, found.iter().map(Vec::as_slice));
}

pub fn randomkey(ctx: &mut Ctx, db: &mut Store) {
    let (dbi, now) = (db.db, db.now);
    let mut rng = rand::thread_rng();
    loop {
        let sizes: Vec<usize> = db.guards.shards_mut().map(|s| s.dbs[dbi].len()).collect();
        let total: usize = sizes.iter().sum();
        if total == 0 {
            return ctx.out.null();
        }
        let mut pick = rand::Rng::gen_range(&mut rng, 0..total);
        let shard = sizes
            .iter()
            .position(|&n| {
                if pick < n {
                    true
                } else {
                    pick -= n;
                    false
                }
            })
            .unwrap_or(0);
        let dict = &mut db.guards.shard(shard).dbs[dbi];
        let Some(e) = dict.random_entry(&mut rng) else {
            continue;
        };
        if !e.is_expired(now) {
            let key = e.key().to_vec();
            return ctx.out.bulk(&key);
        }
        let key = e.key().to_vec();
        let h = store::hash_key(&key);
        dict.remove(&key, h);
        db.ks.stats.expired.incr();
    }
}

pub fn dbsize(ctx: &mut Ctx, db: &mut Store) {
    let dbi = db.db;
    let n: usize = db.guards.shards_mut().map(|s| s.dbs[dbi].len()).sum();
    ctx.out.int(n as i64);
}

/// FLUSHDB/FLUSHALL's optional ASYNC|SYNC; both free memory before replying.
fn flush_mode_ok(ctx: &mut Ctx) -> bool {
    match ctx.args.len() {
        1 => true,
        2 if eq_ignore_case(ctx.args[1], "async") || eq_ignore_case(ctx.args[1], "sync") => true,
        _ => {
            ctx.syntax_error();
            false
        }
    }
}

pub fn flushdb(ctx: &mut Ctx, db: &mut Store) {
    if !flush_mode_ok(ctx) {
        return;
    }
    let dbi = db.db;
    db.changed_database(dbi, None);
    for shard in db.guards.shards_mut() {
        shard.dbs[dbi].clear();
    }
    ctx.out.ok();
}

pub fn flushall(ctx: &mut Ctx, db: &mut Store) {
    if !flush_mode_ok(ctx) {
        return;
    }
    for dbi in 0..db.ks.databases() {
        db.changed_database(dbi, None);
    }
    for shard in db.guards.shards_mut() {
        for d in shard.dbs.iter_mut() {
            d.clear();
        }
    }
    ctx.out.ok();
}

// ---- OBJECT ----

/// The encoding name OBJECT ENCODING reports, matching Redis's choices.
pub fn encoding_name(e: &Entry) -> &'static str {
    match e.value() {
        ValueRef::Int(_) => "int",
        ValueRef::Str(s) if s.len() <= 44 => "embstr",
        ValueRef::Str(_) => "raw",
        ValueRef::Obj(v) => v.encoding(),
    }
}

pub fn object_encoding(ctx: &mut Ctx, db: &mut Store) {
    match db.peek(ctx.args[2]) {
        Some(e) => {
            let name = encoding_name(e);
            ctx.out.bulk(name.as_bytes())
        }
        None => ctx.out.null(),
    }
}

fn lfu_policy(ctx: &Ctx) -> bool {
    ctx.srv
        .config
        .read()
        .text(config::MAXMEMORY_POLICY)
        .ends_with("-lfu")
}

pub fn object_freq(ctx: &mut Ctx, db: &mut Store) {
    if db.peek(ctx.args[2]).is_none() {
        return ctx.out.null();
    }
    if !lfu_policy(ctx) {
        return ctx.out.err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    let access = db.peek(ctx.args[2]).map_or(0, |e| e.lru());
    ctx.out.int(store::lfu_counter(access) as i64);
}

pub fn object_idletime(ctx: &mut Ctx, db: &mut Store) {
    let Some(lru) = db.peek(ctx.args[2]).map(|e| e.lru()) else {
        return ctx.out.null();
    };
    if lfu_policy(ctx) {
        return ctx.out.err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    ctx.out.int(store::lru_clock().saturating_sub(lru) as i64);
}

pub fn object_refcount(ctx: &mut Ctx, db: &mut Store) {
    match db.peek(ctx.args[2]).map(|e| e.value()) {
        // Redis shares the objects for 0..9999 and reports them as immortal.
        Some(ValueRef::Int(n)) if (0..10000).contains(&n) => ctx.out.int(i32::MAX as i64),
        Some(_) => ctx.out.int(1),
        None => ctx.out.null(),
    }
}

pub fn object_help(ctx: &mut Ctx, _: &mut Store) {
    super::server::help(
        ctx,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
}

// ---- expiry ----

/// Parses EXPIRE's NX/XX/GT/LT flags.
#[derive(Default, Clone, Copy)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn expire_generic(ctx: &mut Ctx, db: &mut Store, base: i64, unit_ms: i64) {
    let mut flags = ExpireFlags::default();
    for opt in &ctx.args[3..] {
        if eq_ignore_case(opt, "nx") {
            flags.nx = true;
        } else if eq_ignore_case(opt, "xx") {
            flags.xx = true;
        } else if eq_ignore_case(opt, "gt") {
            flags.gt = true;
        } else if eq_ignore_case(opt, "lt") {
            flags.lt = true;
        } else {
            let msg = format!("Unsupported option {}", String::from_utf8_lossy(opt));
            return ctx.out.err(&msg);
        }
    }
    if flags.nx && (flags.xx || flags.gt || flags.lt) {
        return ctx
            .out
            .err("NX and XX, GT or LT options at the same time are not compatible");
    }
    if flags.gt && flags.lt {
        return ctx
            .out
            .err("GT and LT options at the same time are not compatible");
    }
    let Some(when) = ctx.int_arg(2) else { return };
    let Some(when) = when.checked_mul(unit_ms).and_then(|w| w.checked_add(base)) else {
        let msg = format!("invalid expire time in '{}' command", ctx.cmd.fullname());
        return ctx.out.err(&msg);
    };
    let key = ctx.args[1];
    let Some(e) = db.write(key) else {
        return ctx.out.int(0);
    };
    let current = e.expire();
    let refused = (flags.nx && current.is_some())
        || (flags.xx && current.is_none())
        || (flags.gt && current.is_none_or(|c| when <= c))
        || (flags.lt && current.is_some_and(|c| when >= c));
    if refused {
        return ctx.out.int(0);
    }
    db.expire_or_delete(key, when);
    ctx.out.int(1);
}

pub fn expire(ctx: &mut Ctx, db: &mut Store) {
    let now = db.now;
    expire_generic(ctx, db, now, 1000);
}

pub fn pexpire(ctx: &mut Ctx, db: &mut Store) {
    let now = db.now;
    expire_generic(ctx, db, now, 1);
}

pub fn expireat(ctx: &mut Ctx, db: &mut Store) {
    expire_generic(ctx, db, 0, 1000);
}

pub fn pexpireat(ctx: &mut Ctx, db: &mut Store) {
    expire_generic(ctx, db, 0, 1);
}

/// TTL family: -2 missing, -1 no expiry, else the value `f` derives from
/// (deadline, now).
fn ttl_generic(ctx: &mut Ctx, db: &mut Store, f: fn(i64, i64) -> i64) {
    let now = db.now;
    match db.read(ctx.args[1]) {
        None => ctx.out.int(-2),
        Some(e) => match e.expire() {
            None => ctx.out.int(-1),
            Some(when) => ctx.out.int(f(when, now)),
        },
    }
}

pub fn ttl(ctx: &mut Ctx, db: &mut Store) {
    ttl_generic(ctx, db, |when, now| ((when - now).max(0) + 500) / 1000);
}

pub fn pttl(ctx: &mut Ctx, db: &mut Store) {
    ttl_generic(ctx, db, |when, now| (when - now).max(0));
}

pub fn expiretime(ctx: &mut Ctx, db: &mut Store) {
    ttl_generic(ctx, db, |when, _| (when + 500) / 1000);
}

pub fn pexpiretime(ctx: &mut Ctx, db: &mut Store) {
    ttl_generic(ctx, db, |when, _| when);
}

pub fn persist(ctx: &mut Ctx, db: &mut Store) {
    let key = ctx.args[1];
    match db.write(key) {
        Some(e) if e.has_expire() => {
            db.set_expire(key, None);
            db.notify(events::GENERIC, "persist", key);
            ctx.out.int(1);
        }
        _ => ctx.out.int(0),
    }
}
