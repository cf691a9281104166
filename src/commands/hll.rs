//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST. The
//! sketch is a plain string in Redis's byte layout (`store/hll.rs`), edited
//! in place in its `raw` buffer.

use super::string::{string_bytes, unshare};
use super::{truncate, Ctx};
use crate::config;
use crate::pubsub::events;
use crate::store::hll::{self, Registers};
use crate::store::{Entry, NewValue, Store, Value};
use crate::util::eq_ignore_case;

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

fn sparse_max_bytes(ctx: &Ctx) -> usize {
    ctx.srv.config.read().num(config::HLL_SPARSE_MAX_BYTES) as usize
}

/// The bytes of `e` if it holds a valid HLL; otherwise replies Redis's error.
fn hll_of<'e>(ctx: &mut Ctx, e: &'e Entry, buf: &'e mut itoa::Buffer) -> Option<&'e [u8]> {
    match string_bytes(e, buf) {
        None => {
            ctx.wrong_type();
            None
        }
        Some(b) if hll::is_valid(b) => Some(b),
        Some(_) => {
            ctx.out.error(NOT_HLL);
            None
        }
    }
}

/// Looks `key` up for writing: Some(true) if it holds a valid HLL,
/// Some(false) if missing, None (error sent) otherwise.
fn existing_hll(ctx: &mut Ctx, db: &mut Store, key: &[u8]) -> Option<bool> {
    let Some(e) = db.write(key) else {
        return Some(false);
    };
    let mut buf = itoa::Buffer::new();
    hll_of(ctx, e, &mut buf).map(|_| true)
}

pub fn pfadd(ctx: &mut Ctx, db: &mut Store) {
    let key = ctx.args[1];
    let max_bytes = sparse_max_bytes(ctx);
    let Some(exists) = existing_hll(ctx, db, key) else {
        return;
    };
    let mut fresh = Vec::new();
    let h = if exists {
        match unshare(db, key) {
            Some(h) => h,
            None => return ctx.wrong_type(),
        }
    } else {
        fresh = hll::new();
        &mut fresh
    };
    // Creating the key is a change even without elements.
    let mut updated = u64::from(!exists);
    for ele in &ctx.args[2..] {
        match hll::add(h, ele, max_bytes) {
            Ok(changed) => updated += u64::from(changed),
            // Registers set so far stay set, as in Redis.
            Err(hll::Corrupt) => return ctx.out.error(CORRUPT),
        }
    }
    if updated > 0 {
        hll::invalidate_cache(h);
        if exists {
            db.modified(key);
        } else {
            db.set(key, NewValue::Obj(Value::Str(fresh)), None);
        }
        db.notify(events::STRING, "pfadd", key);
        // Redis counts one change per register raised.
        db.ks.stats.dirty.add(updated - 1);
    }
    ctx.out.int(i64::from(updated > 0));
}

pub fn pfcount(ctx: &mut Ctx, db: &mut Store) {
    if ctx.args.len() > 2 {
        let mut union = Registers::default();
        for key in &ctx.args[1..] {
            let Some(e) = db.read(key) else { continue };
            let mut buf = itoa::Buffer::new();
            let Some(h) = hll_of(ctx, e, &mut buf) else {
                return;
            };
            if union.merge(h).is_err() {
                return ctx.out.error(CORRUPT);
            }
        }
        return ctx.out.int(union.count() as i64);
    }
    let key = ctx.args[1];
    let Some(e) = db.read(key) else {
        return ctx.out.int(0);
    };
    let mut buf = itoa::Buffer::new();
    if hll_of(ctx, e, &mut buf).is_none() {
        return;
    }
    let Some(h) = unshare(db, key) else {
        return ctx.wrong_type();
    };
    // A stale cache is only checked for corruption when recomputed.
    if let Some(card) = hll::cached_count(h) {
        return ctx.out.int(card as i64);
    }
    let Ok(card) = hll::count(h) else {
        return ctx.out.error(CORRUPT);
    };
    // The cache is part of the value: storing it is a write (replicated and
    // WATCH-visible in Redis), though PFCOUNT is a read command.
    hll::set_cached_count(h, card);
    db.modified(key);
    ctx.out.int(card as i64);
}

pub fn pfmerge(ctx: &mut Ctx, db: &mut Store) {
    let max_bytes = sparse_max_bytes(ctx);
    let mut union = Registers::default();
    let mut any_dense = false;
    // The destination is one of the inputs.
    for key in &ctx.args[1..] {
        let Some(e) = db.read(key) else { continue };
        let mut buf = itoa::Buffer::new();
        let Some(h) = hll_of(ctx, e, &mut buf) else {
            return;
        };
        any_dense |= !hll::is_sparse(h);
        if union.merge(h).is_err() {
            return ctx.out.error(CORRUPT);
        }
    }
    let dest = ctx.args[1];
    let write = |h: &mut Vec<u8>| -> Result<(), hll::Corrupt> {
        // A dense input makes the result dense straight away; sparse inputs
        // keep it sparse until it outgrows hll-sparse-max-bytes.
        if any_dense {
            hll::to_dense(h)?;
        }
        union.store_into(h, max_bytes)
    };
    let done = if db.write(dest).is_some() {
        let Some(h) = unshare(db, dest) else {
            return ctx.wrong_type();
        };
        let done = write(h);
        db.modified(dest);
        done
    } else {
        let mut h = hll::new();
        let done = write(&mut h);
        db.set(dest, NewValue::Obj(Value::Str(h)), None);
        done
    };
    match done {
        Ok(()) => {
            // Redis announces a merge as "pfadd" too.
            db.notify(events::STRING, "pfadd", dest);
            ctx.out.ok()
        }
        Err(hll::Corrupt) => ctx.out.error(CORRUPT),
    }
}

pub fn pfdebug(ctx: &mut Ctx, db: &mut Store) {
    let (sub, key) = (ctx.args[1], ctx.args[2]);
    match existing_hll(ctx, db, key) {
        None => return,
        Some(false) => return ctx.out.err("The specified key does not exist"),
        Some(true) => {}
    }
    let ks = db.ks;
    let Some(h) = unshare(db, key) else {
        return ctx.wrong_type();
    };
    let to_dense = |h: &mut Vec<u8>| {
        let converted = hll::to_dense(h)?;
        // An encoding change is propagated in Redis, without a WATCH signal.
        if converted {
            ks.stats.dirty.incr();
        }
        Ok::<bool, hll::Corrupt>(converted)
    };
    if eq_ignore_case(sub, "getreg") {
        if to_dense(h).is_err() {
            return ctx.out.error(CORRUPT);
        }
        ctx.out.array(hll::REGISTERS);
        for r in hll::dense_registers(h) {
            ctx.out.int(i64::from(r));
        }
    } else if eq_ignore_case(sub, "decode") {
        if !hll::is_sparse(h) {
            return ctx.out.err("HLL encoding is not sparse");
        }
        ctx.out.bulk(hll::decode(h).as_bytes());
    } else if eq_ignore_case(sub, "encoding") {
        ctx.out
            .simple(if hll::is_sparse(h) { "sparse" } else { "dense" });
    } else if eq_ignore_case(sub, "todense") {
        match to_dense(h) {
            Ok(converted) => ctx.out.int(i64::from(converted)),
            Err(hll::Corrupt) => ctx.out.error(CORRUPT),
        }
    } else {
        let mut msg = b"ERR Unknown PFDEBUG subcommand '".to_vec();
        msg.extend_from_slice(truncate(sub, usize::MAX));
        msg.push(b'\'');
        ctx.out.error_bytes(&msg);
    }
}

pub fn pfselftest(ctx: &mut Ctx, _db: &mut Store) {
    match hll::self_test(sparse_max_bytes(ctx)) {
        Ok(()) => ctx.out.ok(),
        Err(msg) => ctx.out.err(&msg),
    }
}
