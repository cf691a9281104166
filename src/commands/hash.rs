//! Hash commands: HSET, HSETNX, HMSET, HGET, HMGET, HGETALL, HKEYS, HVALS,
//! HDEL, HLEN, HEXISTS, HSTRLEN, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN.
//! The encodings live in store/hash.rs.

use super::keys::{scan_cursor, scan_options};
use super::Ctx;
use crate::config;
use crate::pubsub::events;
use crate::store::hash::{entry_value, Hash, Limits};
use crate::store::{NewValue, Store, Value, ValueRef};
use crate::util::{eq_ignore_case, incr_by_float, parse_i64, IncrFloatError};
use rand::Rng;
use std::collections::HashSet;

fn limits(ctx: &Ctx) -> Limits {
    let cfg = ctx.srv.config.read();
    let num = |id| usize::try_from(cfg.num(id)).unwrap_or(0);
    Limits {
        max_entries: num(config::HASH_MAX_LISTPACK_ENTRIES),
        max_value: num(config::HASH_MAX_LISTPACK_VALUE),
    }
}

/// The hash at `key` for a read command: Ok(None) if there is no key,
/// Err(()) once WRONGTYPE has been replied.
fn read_hash<'s>(ctx: &mut Ctx, db: &'s mut Store, key: &[u8]) -> Result<Option<&'s Hash>, ()> {
    let Some(e) = db.read(key) else {
        return Ok(None);
    };
    let e: &'s _ = e;
    match e.value() {
        ValueRef::Obj(Value::Hash(h)) => Ok(Some(h)),
        _ => {
            ctx.wrong_type();
            Err(())
        }
    }
}

/// The hash at `key` for a write command, as `read_hash`.
fn write_hash<'s>(
    ctx: &mut Ctx,
    db: &'s mut Store,
    key: &[u8],
) -> Result<Option<&'s mut Hash>, ()> {
    let Some(e) = db.write(key) else {
        return Ok(None);
    };
    match e.obj_mut() {
        Some(Value::Hash(h)) => Ok(Some(h)),
        _ => {
            ctx.wrong_type();
            Err(())
        }
    }
}

/// The hash at `key`, created empty if missing (Redis's
/// hashTypeLookupWriteOrCreate); None once WRONGTYPE has been replied.
/// Callers must leave it non-empty.
fn hash_or_new<'s>(ctx: &mut Ctx, db: &'s mut Store, key: &[u8]) -> Option<&'s mut Hash> {
    if write_hash(ctx, db, key).ok()?.is_none() {
        db.set(key, NewValue::Obj(Value::Hash(Hash::default())), None);
    }
    write_hash(ctx, db, key).ok().flatten()
}

/// Records `event` on the (non-empty) hash at `key`.
fn changed(db: &mut Store, key: &[u8], event: &str) {
    db.collection_changed(key, events::HASH, event, false);
}

fn set_pairs(ctx: &mut Ctx, db: &mut Store) -> Option<usize> {
    let args = ctx.args;
    if args.len() % 2 == 1 {
        ctx.arity_error();
        return None;
    }
    let limits = limits(ctx);
    let h = hash_or_new(ctx, db, args[1])?;
    let added = args[2..]
        .chunks_exact(2)
        .filter(|p| h.set(p[0], p[1], limits))
        .count();
    changed(db, args[1], "hset");
    Some(added)
}

pub fn hset(ctx: &mut Ctx, db: &mut Store) {
    if let Some(n) = set_pairs(ctx, db) {
        ctx.out.int(n as i64);
    }
}

pub fn hmset(ctx: &mut Ctx, db: &mut Store) {
    if set_pairs(ctx, db).is_some() {
        ctx.out.ok();
    }
}

pub fn hsetnx(ctx: &mut Ctx, db: &mut Store) {
    let (key, field, value) = (ctx.args[1], ctx.args[2], ctx.args[3]);
    let limits = limits(ctx);
    let Some(h) = hash_or_new(ctx, db, key) else {
        return;
    };
    if h.get(field).is_some() {
        return ctx.out.int(0);
    }
    h.set(field, value, limits);
    changed(db, key, "hset");
    ctx.out.int(1);
}

pub fn hget(ctx: &mut Ctx, db: &mut Store) {
    let field = ctx.args[2];
    match read_hash(ctx, db, ctx.args[1]) {
        Err(()) => {}
        Ok(h) => match h.and_then(|h| h.get(field)) {
            Some(v) => ctx.out.bulk(v),
            None => ctx.out.null(),
        },
    }
}

pub fn hmget(ctx: &mut Ctx, db: &mut Store) {
    let Ok(h) = read_hash(ctx, db, ctx.args[1]) else {
        return;
    };
    let fields = &ctx.args[2..];
    ctx.out.array(fields.len());
    for f in fields {
        match h.and_then(|h| h.get(f)) {
            Some(v) => ctx.out.bulk(v),
            None => ctx.out.null(),
        }
    }
}

fn get_all(ctx: &mut Ctx, db: &mut Store, fields: bool, values: bool) {
    let Ok(h) = read_hash(ctx, db, ctx.args[1]) else {
        return;
    };
    let len = h.map_or(0, |h| h.len());
    if fields && values {
        ctx.out.map(len);
    } else {
        ctx.out.array(len);
    }
    for (f, v) in h.into_iter().flat_map(|h| h.iter()) {
        if fields {
            ctx.out.bulk(f);
        }
        if values {
            ctx.out.bulk(v);
        }
    }
}

pub fn hgetall(ctx: &mut Ctx, db: &mut Store) {
    get_all(ctx, db, true, true);
}

pub fn hkeys(ctx: &mut Ctx, db: &mut Store) {
    get_all(ctx, db, true, false);
}

pub fn hvals(ctx: &mut Ctx, db: &mut Store) {
    get_all(ctx, db, false, true);
}

pub fn hdel(ctx: &mut Ctx, db: &mut Store) {
    let key = ctx.args[1];
    let h = match write_hash(ctx, db, key) {
        Err(()) => return,
        Ok(None) => return ctx.out.int(0),
        Ok(Some(h)) => h,
    };
    let removed = ctx.args[2..].iter().filter(|f| h.remove(f)).count();
    let empty = h.is_empty();
    if removed > 0 {
        db.collection_changed(key, events::HASH, "hdel", empty);
    }
    ctx.out.int(removed as i64);
}

pub fn hlen(ctx: &mut Ctx, db: &mut Store) {
    if let Ok(h) = read_hash(ctx, db, ctx.args[1]) {
        ctx.out.int(h.map_or(0, |h| h.len()) as i64);
    }
}

/// HEXISTS and HSTRLEN: a number about one field (0 when it is missing).
fn field_int(ctx: &mut Ctx, db: &mut Store, f: fn(&[u8]) -> usize) {
    let field = ctx.args[2];
    if let Ok(h) = read_hash(ctx, db, ctx.args[1]) {
        let n = h.and_then(|h| h.get(field)).map_or(0, f);
        ctx.out.int(n as i64);
    }
}

pub fn hexists(ctx: &mut Ctx, db: &mut Store) {
    field_int(ctx, db, |_| 1);
}

pub fn hstrlen(ctx: &mut Ctx, db: &mut Store) {
    field_int(ctx, db, |v| v.len());
}

pub fn hincrby(ctx: &mut Ctx, db: &mut Store) {
    let (key, field) = (ctx.args[1], ctx.args[2]);
    let Some(incr) = ctx.int_arg(3) else {
        return;
    };
    let limits = limits(ctx);
    let Some(h) = hash_or_new(ctx, db, key) else {
        return;
    };
    let current = match h.get(field) {
        None => 0,
        Some(v) => match parse_i64(v) {
            Some(n) => n,
            None => return ctx.out.err("hash value is not an integer"),
        },
    };
    let Some(n) = current.checked_add(incr) else {
        return ctx.out.err("increment or decrement would overflow");
    };
    h.set(field, itoa::Buffer::new().format(n).as_bytes(), limits);
    changed(db, key, "hincrby");
    ctx.out.int(n);
}

pub fn hincrbyfloat(ctx: &mut Ctx, db: &mut Store) {
    let (key, field, incr) = (ctx.args[1], ctx.args[2], ctx.args[3]);
    // Redis validates the increment alone first, before the key's type.
    match incr_by_float(None, incr) {
        Ok(_) => {}
        Err(IncrFloatError::NotAFloat) => return ctx.out.err("value is not a valid float"),
        Err(IncrFloatError::NanOrInfinity) => return ctx.out.err("value is NaN or Infinity"),
    }
    let limits = limits(ctx);
    let Some(h) = hash_or_new(ctx, db, key) else {
        return;
    };
    match incr_by_float(h.get(field), incr) {
        Ok(text) => {
            h.set(field, &text, limits);
            changed(db, key, "hincrbyfloat");
            ctx.out.bulk(&text);
        }
        // The increment parsed above, so it is the stored value that is not a number.
        Err(IncrFloatError::NotAFloat) => ctx.out.err("hash value is not a float"),
        Err(IncrFloatError::NanOrInfinity) => {
            ctx.out.err("increment would produce NaN or Infinity")
        }
    }
}

/// Writes `n` picked pairs: fields only, or with values as a flat array in
/// RESP2 and as [field, value] pairs in RESP3, like Redis 7.0.
fn reply_picks<'h>(
    ctx: &mut Ctx,
    n: usize,
    withvalues: bool,
    picks: impl Iterator<Item = (&'h [u8], &'h [u8])>,
) {
    let resp3 = ctx.out.resp >= 3;
    ctx.out.array(if withvalues && !resp3 {
        n.saturating_mul(2)
    } else {
        n
    });
    for (f, v) in picks {
        if withvalues && resp3 {
            ctx.out.array(2);
        }
        ctx.out.bulk(f);
        if withvalues {
            ctx.out.bulk(v);
        }
    }
}

pub fn hrandfield(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let mut rng = rand::thread_rng();
    if args.len() == 2 {
        if let Ok(h) = read_hash(ctx, db, args[1]) {
            match h.and_then(|h| h.random_pair(&mut rng)) {
                Some((f, _)) => ctx.out.bulk(f),
                None => ctx.out.null(),
            }
        }
        return;
    }
    let Some(count) = ctx.int_arg(2) else {
        return;
    };
    if count == i64::MIN {
        return ctx.out.err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    if args.len() > 4 || (args.len() == 4 && !eq_ignore_case(args[3], "withvalues")) {
        return ctx.syntax_error();
    }
    let withvalues = args.len() == 4;
    // Redis bounds the count so that twice it (field and value) fits a long.
    if withvalues && count.unsigned_abs() > (i64::MAX / 2) as u64 {
        return ctx.out.err("value is out of range");
    }
    let h = match read_hash(ctx, db, args[1]) {
        Err(()) => return,
        Ok(None) => return ctx.out.array(0),
        Ok(Some(h)) => h,
    };
    let n = count.unsigned_abs() as usize;
    if count < 0 {
        // Repetitions allowed: independent picks. A packed hash is listed
        // once so that each pick is O(1), not a walk of the buffer.
        let listed: Vec<_> = match h {
            Hash::Pack(_) => h.iter().collect(),
            Hash::Table(_) => Vec::new(),
        };
        let picks = (0..n).filter_map(|_| {
            if listed.is_empty() {
                h.random_pair(&mut rng)
            } else {
                listed.get(rng.gen_range(0..listed.len())).copied()
            }
        });
        return reply_picks(ctx, n, withvalues, picks);
    }
    let size = h.len();
    if n >= size {
        return reply_picks(ctx, size, withvalues, h.iter());
    }
    if n.saturating_mul(3) > size {
        // A large share of the hash: sample positions of the whole listing.
        let all: Vec<_> = h.iter().collect();
        let picked = rand::seq::index::sample(&mut rng, size, n);
        let picks = picked.into_iter().filter_map(|i| all.get(i).copied());
        return reply_picks(ctx, n, withvalues, picks);
    }
    // A small share: random picks, skipping repeats.
    let mut seen = HashSet::with_capacity(n);
    let mut picks = Vec::with_capacity(n);
    while picks.len() < n {
        match h.random_pair(&mut rng) {
            Some(p) if seen.insert(p.0) => picks.push(p),
            Some(_) => {}
            None => break,
        }
    }
    reply_picks(ctx, picks.len(), withvalues, picks.into_iter());
}

pub fn hscan(ctx: &mut Ctx, db: &mut Store) {
    let Some(cursor) = scan_cursor(ctx, 2) else {
        return;
    };
    let h = match read_hash(ctx, db, ctx.args[1]) {
        Err(()) => return,
        Ok(h) => h,
    };
    // Options are parsed only for an existing key, as in Redis.
    let Some(h) = h else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        return ctx.out.array(0);
    };
    let Some(opts) = scan_options(ctx, cursor, 3, false) else {
        return;
    };
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let next = match h {
        // The packed form is small: all of it in one call, cursor 0.
        Hash::Pack(_) => {
            found.extend(h.iter().filter(|(f, _)| opts.matches(f)));
            0
        }
        Hash::Table(d) => {
            let mut cursor = opts.cursor;
            let mut budget = opts.count.saturating_mul(10);
            loop {
                cursor = d.scan_bucket(cursor, |e| {
                    if opts.matches(e.key()) {
                        found.push((e.key(), entry_value(e)));
                    }
                });
                budget = budget.saturating_sub(1);
                if cursor == 0 || found.len() >= opts.count || budget == 0 {
                    break cursor;
                }
            }
        }
    };
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(found.len() * 2);
    for (f, v) in found {
        ctx.out.bulk(f);
        ctx.out.bulk(v);
    }
}
