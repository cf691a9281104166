//! Sorted set commands: ZADD/ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE,
//! ZRANK/ZREVRANK, ZCOUNT/ZLEXCOUNT, the ZRANGE family and ZRANGESTORE,
//! ZPOPMIN/ZPOPMAX/ZMPOP, ZREMRANGEBY*, ZRANDMEMBER, ZSCAN, and
//! ZUNION/ZINTER/ZDIFF (+STORE) and ZINTERCARD.

use super::keys::{scan_cursor, scan_options};
use super::Ctx;
use crate::config;
use crate::protocol::Reply;
use crate::pubsub::events;
use crate::store::zset::{LexBound, Limits, Range, ZSet};
use crate::store::{Entry, NewValue, Store, Value, ValueRef};
use crate::util::{eq_ignore_case, format_double, parse_f64, parse_i64};
use std::collections::HashMap;

fn limits(ctx: &Ctx) -> Limits {
    let cfg = ctx.srv.config.read();
    Limits {
        entries: cfg.num(config::ZSET_MAX_LISTPACK_ENTRIES).max(0) as usize,
        value: cfg.num(config::ZSET_MAX_LISTPACK_VALUE).max(0) as usize,
    }
}

fn as_zset(e: &Entry) -> Option<&ZSet> {
    match e.value() {
        ValueRef::Obj(Value::ZSet(z)) => Some(z),
        _ => None,
    }
}

/// The sorted set at `key` for a read: Ok(None) if there is no key, Err
/// (after replying WRONGTYPE) if it holds another type.
pub(super) fn read_zset<'s>(
    ctx: &mut Ctx,
    db: &'s mut Store,
    key: &[u8],
) -> Result<Option<&'s ZSet>, ()> {
    match db.read(key) {
        None => Ok(None),
        Some(e) => {
            let e: &'s Entry = e;
            match as_zset(e) {
                Some(z) => Ok(Some(z)),
                None => {
                    ctx.wrong_type();
                    Err(())
                }
            }
        }
    }
}

/// As `read_zset`, for a change in place.
fn write_zset<'s>(
    ctx: &mut Ctx,
    db: &'s mut Store,
    key: &[u8],
) -> Result<Option<&'s mut ZSet>, ()> {
    match db.write(key) {
        None => Ok(None),
        Some(e) => match e.obj_mut() {
            Some(Value::ZSet(z)) => Ok(Some(z)),
            _ => {
                ctx.wrong_type();
                Err(())
            }
        },
    }
}

/// Records `event` for a change made in place; a set left empty is
/// deleted, as in Redis.
fn written(db: &mut Store, key: &[u8], event: &str, changed: bool, empty: bool) {
    if changed || empty {
        db.collection_changed(key, events::ZSET, event, empty);
    }
}

/// Stores a computed set at `dst` (or deletes `dst` when it is empty).
/// Stores sorted `items` at `dst`, announced as `event` (zunionstore,
/// zrangestore, geosearchstore...).
pub(super) fn store_result(
    ctx: &Ctx,
    db: &mut Store,
    dst: &[u8],
    items: &[(Vec<u8>, f64)],
    event: &str,
) {
    let value = (!items.is_empty()).then(|| {
        let z = ZSet::from_sorted(items.iter().map(|(m, s)| (m.as_slice(), *s)), limits(ctx));
        NewValue::Obj(Value::ZSet(z))
    });
    db.store_result(dst, value, events::ZSET, event);
}

/// Members, with their scores as [member, score] pairs in RESP3 and a flat
/// list in RESP2 (Redis 7.0).
fn reply_elements<M: AsRef<[u8]>>(out: &mut Reply, items: &[(M, f64)], withscores: bool) {
    let pairs = withscores && out.resp >= 3;
    out.array(if withscores && !pairs {
        items.len() * 2
    } else {
        items.len()
    });
    for (m, s) in items {
        if pairs {
            out.array(2);
        }
        out.bulk(m.as_ref());
        if withscores {
            out.double(*s);
        }
    }
}

/// Sort order of computed results.
pub(super) fn sort_elements(items: &mut [(Vec<u8>, f64)]) {
    items.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
}

// ---- ZADD / ZINCRBY ----

#[derive(Default)]
pub(super) struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub ch: bool,
    pub incr: bool,
}

/// Redis's zsetAdd for one element: the score the member has afterwards, or
/// None when NX/XX/GT/LT skipped it; Err when an increment gives NaN.
fn add_one(
    z: &mut ZSet,
    member: &[u8],
    score: f64,
    o: &AddFlags,
    limits: Limits,
    counts: &mut (usize, usize),
) -> Result<Option<f64>, ()> {
    match z.score(member) {
        Some(cur) => {
            if o.nx {
                return Ok(None);
            }
            let new = if o.incr { cur + score } else { score };
            if new.is_nan() {
                return Err(());
            }
            if (o.lt && new >= cur) || (o.gt && new <= cur) {
                return Ok(None);
            }
            if new != cur {
                z.update(member, new);
                counts.1 += 1;
            }
            Ok(Some(new))
        }
        None if !o.xx => {
            z.insert(member, score, limits);
            counts.0 += 1;
            Ok(Some(score))
        }
        None => Ok(None),
    }
}

fn zadd_generic(ctx: &mut Ctx, db: &mut Store, zincrby: bool) {
    let args = ctx.args;
    let key = args[1];
    let mut o = AddFlags {
        incr: zincrby,
        ..AddFlags::default()
    };
    let mut i = 2;
    while !zincrby && i < args.len() {
        let a = args[i];
        if eq_ignore_case(a, "nx") {
            o.nx = true;
        } else if eq_ignore_case(a, "xx") {
            o.xx = true;
        } else if eq_ignore_case(a, "gt") {
            o.gt = true;
        } else if eq_ignore_case(a, "lt") {
            o.lt = true;
        } else if eq_ignore_case(a, "ch") {
            o.ch = true;
        } else if eq_ignore_case(a, "incr") {
            o.incr = true;
        } else {
            break;
        }
        i += 1;
    }
    let pairs = &args[i..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return ctx.syntax_error();
    }
    if o.nx && o.xx {
        return ctx
            .out
            .err("XX and NX options at the same time are not compatible");
    }
    if (o.nx && (o.gt || o.lt)) || (o.gt && o.lt) {
        return ctx
            .out
            .err("GT, LT, and/or NX options at the same time are not compatible");
    }
    if o.incr && pairs.len() > 2 {
        return ctx
            .out
            .err("INCR option supports a single increment-element pair");
    }
    let mut items = Vec::with_capacity(pairs.len() / 2);
    for p in pairs.chunks_exact(2) {
        match parse_f64(p[0]) {
            Some(s) => items.push((s, p[1])),
            None => return ctx.out.err("value is not a valid float"),
        }
    }
    add_scored(ctx, db, key, &o, &items);
}

/// ZADD's work once its arguments are checked (GEOADD comes here too):
/// adds or updates `items` (score, member) under the flags and replies.
pub(super) fn add_scored(
    ctx: &mut Ctx,
    db: &mut Store,
    key: &[u8],
    o: &AddFlags,
    items: &[(f64, &[u8])],
) {
    let limits = limits(ctx);
    let mut counts = (0, 0);
    let mut last = None;
    let mut nan = false;
    let mut apply = |z: &mut ZSet| {
        for &(s, m) in items {
            match add_one(z, m, s, o, limits, &mut counts) {
                Ok(r) => last = r,
                Err(()) => {
                    nan = true;
                    return;
                }
            }
        }
    };
    let event = if o.incr { "zincr" } else { "zadd" };
    match write_zset(ctx, db, key) {
        Err(()) => return,
        Ok(Some(z)) => {
            apply(z);
            let changed = counts.0 + counts.1 > 0;
            written(db, key, event, changed, false);
        }
        Ok(None) if o.xx => {}
        Ok(None) => {
            let mut z = ZSet::new();
            apply(&mut z);
            if !z.is_empty() {
                db.set(key, NewValue::Obj(Value::ZSet(z)), None);
                db.notify(events::ZSET, event, key);
            }
        }
    }
    if nan {
        return ctx.out.err("resulting score is not a number (NaN)");
    }
    if o.incr {
        match last {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    } else {
        let n = counts.0 + if o.ch { counts.1 } else { 0 };
        ctx.out.int(n as i64);
    }
}

pub fn zadd(ctx: &mut Ctx, db: &mut Store) {
    zadd_generic(ctx, db, false);
}

pub fn zincrby(ctx: &mut Ctx, db: &mut Store) {
    zadd_generic(ctx, db, true);
}

// ---- simple reads and ZREM ----

pub fn zrem(ctx: &mut Ctx, db: &mut Store) {
    let key = ctx.args[1];
    let Ok(found) = write_zset(ctx, db, key) else {
        return;
    };
    let Some(z) = found else {
        return ctx.out.int(0);
    };
    let mut n = 0;
    for m in &ctx.args[2..] {
        if z.remove(m) {
            n += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    let empty = z.is_empty();
    written(db, key, "zrem", n > 0, empty);
    ctx.out.int(n);
}

pub fn zcard(ctx: &mut Ctx, db: &mut Store) {
    if let Ok(z) = read_zset(ctx, db, ctx.args[1]) {
        ctx.out.int(z.map_or(0, |z| z.len() as i64));
    }
}

pub fn zscore(ctx: &mut Ctx, db: &mut Store) {
    if let Ok(z) = read_zset(ctx, db, ctx.args[1]) {
        match z.and_then(|z| z.score(ctx.args[2])) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
}

pub fn zmscore(ctx: &mut Ctx, db: &mut Store) {
    reply_per_member(ctx, db, |out, s| out.double(s), |out| out.null());
}

/// One reply element per member argument of `key member...` (ZMSCORE,
/// GEOPOS, GEOHASH): `found` with the member's score, or `missing`.
pub(super) fn reply_per_member(
    ctx: &mut Ctx,
    db: &mut Store,
    found: impl Fn(&mut Reply, f64),
    missing: impl Fn(&mut Reply),
) {
    let Ok(z) = read_zset(ctx, db, ctx.args[1]) else {
        return;
    };
    let members = &ctx.args[2..];
    ctx.out.array(members.len());
    for m in members {
        match z.and_then(|z| z.score(m)) {
            Some(s) => found(&mut ctx.out, s),
            None => missing(&mut ctx.out),
        }
    }
}

fn zrank_generic(ctx: &mut Ctx, db: &mut Store, rev: bool) {
    let Ok(z) = read_zset(ctx, db, ctx.args[1]) else {
        return;
    };
    let rank = z.and_then(|z| {
        let r = z.rank(ctx.args[2])?;
        Some(if rev { z.len() - 1 - r } else { r })
    });
    match rank {
        Some(r) => ctx.out.int(r as i64),
        None => ctx.out.null(),
    }
}

pub fn zrank(ctx: &mut Ctx, db: &mut Store) {
    zrank_generic(ctx, db, false);
}

pub fn zrevrank(ctx: &mut Ctx, db: &mut Store) {
    zrank_generic(ctx, db, true);
}

// ---- ranges ----

/// `[(]score` as zslParseRange reads it: strtod up to the end (or a NUL),
/// so `""` and `" 1"` are valid and NaN is not.
fn score_bound(a: &[u8]) -> Option<(f64, bool)> {
    let (ex, text) = match a.split_first() {
        Some((b'(', rest)) => (true, rest),
        _ => (false, a),
    };
    let (v, used, _) = crate::util::strtod(text);
    if v.is_nan() || text.get(used).is_some_and(|&c| c != 0) {
        return None;
    }
    Some((v, ex))
}

fn score_range<'a>(ctx: &mut Ctx, min: &[u8], max: &[u8]) -> Option<Range<'a>> {
    match (score_bound(min), score_bound(max)) {
        (Some((min, minex)), Some((max, maxex))) => Some(Range::Score {
            min,
            minex,
            max,
            maxex,
        }),
        _ => {
            ctx.out.err("min or max is not a float");
            None
        }
    }
}

fn lex_bound(a: &[u8]) -> Option<LexBound<'_>> {
    match a.split_first()? {
        (b'+', []) => Some(LexBound::PosInf),
        (b'-', []) => Some(LexBound::NegInf),
        (b'(', rest) => Some(LexBound::Excl(rest)),
        (b'[', rest) => Some(LexBound::Incl(rest)),
        _ => None,
    }
}

fn lex_range<'a>(ctx: &mut Ctx, min: &'a [u8], max: &'a [u8]) -> Option<Range<'a>> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(min), Some(max)) => Some(Range::Lex { min, max }),
        _ => {
            ctx.out.err("min or max not valid string range item");
            None
        }
    }
}

/// Redis's start/end normalisation for rank ranges: inclusive ranks, or
/// None for an empty range.
fn rank_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { start + len } else { start }.max(0);
    let end = if end < 0 { end + len } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// Elements of a score or lex range as Redis walks it: from the first (or,
/// reversed, last) element in range, skip `offset`, then take up to `limit`
/// (negative: no limit) while still in range. A negative offset skips
/// everything, as in Redis.
fn range_elements<'z>(
    z: &'z ZSet,
    r: &Range,
    rev: bool,
    offset: i64,
    limit: i64,
) -> Vec<(&'z [u8], f64)> {
    let mut out = Vec::new();
    let start = if rev {
        z.last_in_range(r)
    } else {
        z.first_in_range(r)
    };
    let Some(start) = start else { return out };
    if offset < 0 || offset as u64 >= z.len() as u64 {
        return out;
    }
    let offset = offset as usize;
    let pos = if rev {
        match start.checked_sub(offset) {
            Some(p) => p,
            None => return out,
        }
    } else {
        start + offset
    };
    if pos >= z.len() {
        return out;
    }
    let mut left = limit;
    z.walk(pos, rev, |m, s| {
        let inside = if rev {
            r.gte_min(m, s)
        } else {
            r.lte_max(m, s)
        };
        if left == 0 || !inside {
            return false;
        }
        left -= 1;
        out.push((m, s));
        true
    });
    out
}

/// Elements of the inclusive ascending ranks `start..=end`, reversed
/// (ranks counted from the top) when `rev`.
fn rank_elements(z: &ZSet, start: usize, end: usize, rev: bool) -> Vec<(&[u8], f64)> {
    let n = end - start + 1;
    let mut out = Vec::with_capacity(n);
    let from = if rev { z.len() - 1 - start } else { start };
    z.walk(from, rev, |m, s| {
        out.push((m, s));
        out.len() < n
    });
    out
}

#[derive(Clone, Copy, PartialEq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Redis's zrangeGenericCommand: ZRANGE and its legacy forms (which fix
/// `by` and the direction) and ZRANGESTORE (`store`: the destination at
/// argument 1, the source at 2).
fn zrange_generic(ctx: &mut Ctx, db: &mut Store, store: bool, mut by: By, mut rev: Option<bool>) {
    let args = ctx.args;
    let src = if store { 2 } else { 1 };
    let key = args[src];
    let (mut min_i, mut max_i) = (src + 1, src + 2);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = src + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args[j];
        if !store && eq_ignore_case(a, "withscores") {
            withscores = true;
        } else if eq_ignore_case(a, "limit") && left >= 2 {
            let Some(o) = ctx.int_arg(j + 1) else { return };
            let Some(l) = ctx.int_arg(j + 2) else { return };
            (offset, limit) = (o, l);
            j += 2;
        } else if rev.is_none() && eq_ignore_case(a, "rev") {
            rev = Some(true);
        } else if by == By::Auto && eq_ignore_case(a, "bylex") {
            by = By::Lex;
        } else if by == By::Auto && eq_ignore_case(a, "byscore") {
            by = By::Score;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if by == By::Auto {
        by = By::Rank;
    }
    if limit != -1 && by == By::Rank {
        return ctx.out.err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && by == By::Lex {
        return ctx
            .out
            .err("syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    if rev && by != By::Rank {
        std::mem::swap(&mut min_i, &mut max_i);
    }
    let range = match by {
        By::Score => match score_range(ctx, args[min_i], args[max_i]) {
            Some(r) => Some(r),
            None => return,
        },
        By::Lex => match lex_range(ctx, args[min_i], args[max_i]) {
            Some(r) => Some(r),
            None => return,
        },
        _ => None,
    };
    let ranks = if range.is_none() {
        let Some(s) = ctx.int_arg(min_i) else { return };
        let Some(e) = ctx.int_arg(max_i) else { return };
        Some((s, e))
    } else {
        None
    };
    let Ok(z) = read_zset(ctx, db, key) else {
        return;
    };
    let items: Vec<(&[u8], f64)> = match (z, &range, ranks) {
        (None, _, _) => Vec::new(),
        (Some(z), Some(r), _) => range_elements(z, r, rev, offset, limit),
        (Some(z), None, Some((s, e))) => match rank_range(s, e, z.len()) {
            Some((s, e)) => rank_elements(z, s, e, rev),
            None => Vec::new(),
        },
        (Some(_), None, None) => Vec::new(),
    };
    if !store {
        return reply_elements(&mut ctx.out, &items, withscores);
    }
    let mut owned: Vec<(Vec<u8>, f64)> = items.iter().map(|(m, s)| (m.to_vec(), *s)).collect();
    if rev {
        owned.reverse();
    }
    store_result(ctx, db, args[1], &owned, ctx.cmd.name);
    ctx.out.int(owned.len() as i64);
}

pub fn zrange(ctx: &mut Ctx, db: &mut Store) {
    zrange_generic(ctx, db, false, By::Auto, None);
}

pub fn zrangestore(ctx: &mut Ctx, db: &mut Store) {
    zrange_generic(ctx, db, true, By::Auto, None);
}

pub fn zrevrange(ctx: &mut Ctx, db: &mut Store) {
    zrange_generic(ctx, db, false, By::Rank, Some(true));
}

pub fn zrangebyscore(ctx: &mut Ctx, db: &mut Store) {
    zrange_generic(ctx, db, false, By::Score, Some(false));
}

pub fn zrevrangebyscore(ctx: &mut Ctx, db: &mut Store) {
    zrange_generic(ctx, db, false, By::Score, Some(true));
}

pub fn zrangebylex(ctx: &mut Ctx, db: &mut Store) {
    zrange_generic(ctx, db, false, By::Lex, Some(false));
}

pub fn zrevrangebylex(ctx: &mut Ctx, db: &mut Store) {
    zrange_generic(ctx, db, false, By::Lex, Some(true));
}

fn zcount_generic(ctx: &mut Ctx, db: &mut Store, lex: bool) {
    let (min, max) = (ctx.args[2], ctx.args[3]);
    let range = if lex {
        lex_range(ctx, min, max)
    } else {
        score_range(ctx, min, max)
    };
    let Some(range) = range else { return };
    if let Ok(z) = read_zset(ctx, db, ctx.args[1]) {
        ctx.out
            .int(z.map_or(0, |z| z.count_in_range(&range)) as i64);
    }
}

pub fn zcount(ctx: &mut Ctx, db: &mut Store) {
    zcount_generic(ctx, db, false);
}

pub fn zlexcount(ctx: &mut Ctx, db: &mut Store) {
    zcount_generic(ctx, db, true);
}

// ---- removal by range ----

fn zremrange_generic(ctx: &mut Ctx, db: &mut Store, by: By) {
    let (a, b) = (ctx.args[2], ctx.args[3]);
    let range = match by {
        By::Score => score_range(ctx, a, b),
        By::Lex => lex_range(ctx, a, b),
        _ => None,
    };
    let ranks = match (by, &range) {
        (By::Rank, _) => {
            let Some(s) = ctx.int_arg(2) else { return };
            let Some(e) = ctx.int_arg(3) else { return };
            Some((s, e))
        }
        (_, Some(_)) => None,
        (_, None) => return,
    };
    let key = ctx.args[1];
    let Ok(found) = write_zset(ctx, db, key) else {
        return;
    };
    let Some(z) = found else {
        return ctx.out.int(0);
    };
    let (start, end) = match (ranks, &range) {
        (Some((s, e)), _) => match rank_range(s, e, z.len()) {
            Some((s, e)) => (s, e + 1),
            None => (0, 0),
        },
        (None, Some(r)) => match z.first_in_range(r) {
            Some(first) => {
                let mut n = 0;
                z.walk(first, false, |m, s| {
                    let inside = r.lte_max(m, s);
                    n += inside as usize;
                    inside
                });
                (first, first + n)
            }
            None => (0, 0),
        },
        (None, None) => (0, 0),
    };
    let removed = z.remove_ranks(start, end);
    let empty = z.is_empty();
    written(db, key, ctx.cmd.name, removed > 0, empty);
    ctx.out.int(removed as i64);
}

pub fn zremrangebyrank(ctx: &mut Ctx, db: &mut Store) {
    zremrange_generic(ctx, db, By::Rank);
}

pub fn zremrangebyscore(ctx: &mut Ctx, db: &mut Store) {
    zremrange_generic(ctx, db, By::Score);
}

pub fn zremrangebylex(ctx: &mut Ctx, db: &mut Store) {
    zremrange_generic(ctx, db, By::Lex);
}

// ---- pops ----

/// Pops up to `count` members of the sorted set at `key` from its low or
/// high end (deleting the key when it empties).
pub(super) fn pop_members(
    db: &mut Store,
    key: &[u8],
    max: bool,
    count: usize,
) -> Vec<(Vec<u8>, f64)> {
    let Some(Value::ZSet(z)) = db.write(key).and_then(|e| e.obj_mut()) else {
        return Vec::new();
    };
    let n = count.min(z.len());
    let mut popped: Vec<(Vec<u8>, f64)> = Vec::with_capacity(n);
    if n == 0 {
        return popped;
    }
    let start = if max { z.len() - 1 } else { 0 };
    z.walk(start, max, |m, s| {
        popped.push((m.to_vec(), s));
        popped.len() < n
    });
    if max {
        z.remove_ranks(z.len() - n, z.len());
    } else {
        z.remove_ranks(0, n);
    }
    let empty = z.is_empty();
    written(
        db,
        key,
        if max { "zpopmax" } else { "zpopmin" },
        true,
        empty,
    );
    popped
}

/// Replies with popped members, as [key, pairs] when `key` is given (the
/// ZMPOP shape); pairs are [member, score] arrays when `nested`, else flat.
pub(super) fn reply_popped(
    out: &mut Reply,
    key: Option<&[u8]>,
    popped: &[(Vec<u8>, f64)],
    nested: bool,
) {
    if let Some(key) = key {
        out.array(2);
        out.bulk(key);
    }
    out.array(if nested {
        popped.len()
    } else {
        2 * popped.len()
    });
    for (m, s) in popped {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        out.double(*s);
    }
}

fn zpop(ctx: &mut Ctx, db: &mut Store, max: bool) {
    if ctx.args.len() > 3 {
        return ctx.syntax_error();
    }
    let count = match ctx.args.get(2) {
        None => None,
        Some(a) => match parse_i64(a).filter(|&n| n >= 0) {
            Some(n) => Some(n as usize),
            None => return ctx.out.err("value is out of range, must be positive"),
        },
    };
    let nested = ctx.out.resp >= 3 && count.is_some();
    let key = ctx.args[1];
    if write_zset(ctx, db, key).is_err() {
        return;
    }
    let popped = pop_members(db, key, max, count.unwrap_or(1));
    reply_popped(&mut ctx.out, None, &popped, nested);
}

pub fn zpopmin(ctx: &mut Ctx, db: &mut Store) {
    zpop(ctx, db, false);
}

pub fn zpopmax(ctx: &mut Ctx, db: &mut Store) {
    zpop(ctx, db, true);
}

pub fn zmpop(ctx: &mut Ctx, db: &mut Store) {
    let Some((keys, min, count)) = super::blocking::mpop_args(ctx, 1, ["min", "max"]) else {
        return;
    };
    let op = crate::blocking::BlockOp::ZMultiPop { max: !min, count };
    super::blocking::pop_now(ctx, db, keys, op);
}

// ---- ZRANDMEMBER ----

pub fn zrandmember(ctx: &mut Ctx, db: &mut Store) {
    let mut rng = rand::thread_rng();
    if ctx.args.len() == 2 {
        if let Ok(z) = read_zset(ctx, db, ctx.args[1]) {
            match z.and_then(|z| z.random(&mut rng)) {
                Some((m, _)) => ctx.out.bulk(m),
                None => ctx.out.null(),
            }
        }
        return;
    }
    let Some(l) = ctx.int_arg(2) else { return };
    if l == i64::MIN {
        return ctx.out.err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    let withscores = match ctx.args.len() {
        3 => false,
        4 if eq_ignore_case(ctx.args[3], "withscores") => true,
        _ => return ctx.syntax_error(),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return ctx.out.err("value is out of range");
    }
    let Ok(z) = read_zset(ctx, db, ctx.args[1]) else {
        return;
    };
    let Some(z) = z else {
        return ctx.out.array(0);
    };
    let count = l.unsigned_abs() as usize;
    let items: Vec<(&[u8], f64)> = if l < 0 || count == 1 {
        (0..count).filter_map(|_| z.random(&mut rng)).collect()
    } else if count >= z.len() {
        // The whole set, from the top (as Redis lists it).
        let mut all: Vec<(&[u8], f64)> = z.iter().collect();
        all.reverse();
        all
    } else {
        rand::seq::index::sample(&mut rng, z.len(), count)
            .into_iter()
            .filter_map(|i| z.at(i))
            .collect()
    };
    reply_elements(&mut ctx.out, &items, withscores);
}

// ---- ZSCAN ----

pub fn zscan(ctx: &mut Ctx, db: &mut Store) {
    let Some(cursor) = scan_cursor(ctx, 2) else {
        return;
    };
    let Ok(z) = read_zset(ctx, db, ctx.args[1]) else {
        return;
    };
    let Some(z) = z else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        return ctx.out.array(0);
    };
    // Options are parsed only for an existing key, as in Redis.
    let Some(opts) = scan_options(ctx, cursor, 3, false) else {
        return;
    };
    let mut found: Vec<(&[u8], f64)> = Vec::new();
    let next = z.scan(opts.cursor, opts.count, |m, s| {
        if opts.matches(m) {
            found.push((m, s));
        }
    });
    let out = &mut ctx.out;
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(found.len() * 2);
    let mut buf = [0u8; 32];
    for (m, s) in found {
        out.bulk(m);
        out.bulk(format_double(s, &mut buf));
    }
}

// ---- ZUNION / ZINTER / ZDIFF / ZINTERCARD ----

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
    InterCard,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// zunionInterAggregate: a sum of +inf and -inf counts as 0.
fn aggregate(target: &mut f64, val: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => *target = if val < *target { val } else { *target },
        Aggregate::Max => *target = if val > *target { val } else { *target },
    }
}

/// Redis's zunionInterDiffGenericCommand.
/// An input of ZUNION/ZINTER/ZDIFF: a sorted set, or a set whose members
/// all score 1.
enum Source<'a> {
    Sorted(&'a ZSet),
    Plain(&'a crate::store::set::Set),
}

impl<'a> Source<'a> {
    fn of(e: &'a Entry) -> Option<Source<'a>> {
        match e.value() {
            ValueRef::Obj(Value::ZSet(z)) => Some(Source::Sorted(z)),
            ValueRef::Obj(Value::Set(s)) => Some(Source::Plain(s)),
            _ => None,
        }
    }

    fn len(&self) -> usize {
        match self {
            Source::Sorted(z) => z.len(),
            Source::Plain(s) => s.len(),
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (std::borrow::Cow<'a, [u8]>, f64)> + 'a> {
        match *self {
            Source::Sorted(z) => {
                Box::new(z.iter().map(|(m, s)| (std::borrow::Cow::Borrowed(m), s)))
            }
            Source::Plain(set) => Box::new(set.iter().map(|m| {
                let mut buf = itoa::Buffer::new();
                (std::borrow::Cow::Owned(m.bytes(&mut buf).to_vec()), 1.0)
            })),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Sorted(z) => z.score(member),
            Source::Plain(s) => s.contains(member).then_some(1.0),
        }
    }
}

fn setop_generic(ctx: &mut Ctx, db: &mut Store, op: SetOp, store: bool) {
    let args = ctx.args;
    let numkeys_i = if store { 2 } else { 1 };
    let Some(n) = ctx.int_arg(numkeys_i) else {
        return;
    };
    if n < 1 {
        let msg = format!(
            "at least 1 input key is needed for '{}' command",
            ctx.cmd.fullname()
        );
        return ctx.out.err(&msg);
    }
    if n as u64 > (args.len() - numkeys_i - 1) as u64 {
        return ctx.syntax_error();
    }
    let n = n as usize;
    let keys = &args[numkeys_i + 1..numkeys_i + 1 + n];
    // Like Redis, plain sets are valid inputs (every member scores 1).
    for k in keys {
        let wrong = db
            .read(k)
            .is_some_and(|e| !matches!(e.value(), ValueRef::Obj(Value::ZSet(_) | Value::Set(_))));
        if wrong {
            return ctx.wrong_type();
        }
    }
    let mut weights = vec![1.0f64; n];
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = numkeys_i + 1 + n;
    while j < args.len() {
        let left = args.len() - j;
        let a = args[j];
        let weighted = matches!(op, SetOp::Union | SetOp::Inter);
        if weighted && left > n && eq_ignore_case(a, "weights") {
            for w in weights.iter_mut() {
                j += 1;
                match parse_f64(args[j]) {
                    Some(v) => *w = v,
                    None => return ctx.out.err("weight value is not a float"),
                }
            }
        } else if weighted && left >= 2 && eq_ignore_case(a, "aggregate") {
            j += 1;
            how = if eq_ignore_case(args[j], "sum") {
                Aggregate::Sum
            } else if eq_ignore_case(args[j], "min") {
                Aggregate::Min
            } else if eq_ignore_case(args[j], "max") {
                Aggregate::Max
            } else {
                return ctx.syntax_error();
            };
        } else if op == SetOp::InterCard && left >= 2 && eq_ignore_case(a, "limit") {
            j += 1;
            match parse_i64(args[j]).filter(|&l| l >= 0) {
                Some(l) => limit = l as usize,
                None => return ctx.out.err("LIMIT can't be negative"),
            }
        } else if !store && op != SetOp::InterCard && eq_ignore_case(a, "withscores") {
            withscores = true;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    let srcs: Vec<Option<Source>> = keys
        .iter()
        .map(|k| db.get_ref(k).and_then(Source::of))
        .collect();
    let len = |i: usize| srcs[i].as_ref().map_or(0, |z| z.len());
    // Smallest first, as Redis orders them (this also fixes the order in
    // which scores are summed).
    let mut order: Vec<usize> = (0..n).collect();
    if op != SetOp::Diff {
        order.sort_by_key(|&i| len(i));
    }
    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    match op {
        SetOp::Inter | SetOp::InterCard => {
            let first = order[0];
            let mut found = 0usize;
            for (m, s) in srcs[first].iter().flat_map(|z| z.iter()) {
                let mut score = weights[first] * s;
                if score.is_nan() {
                    score = 0.0;
                }
                let in_all =
                    order[1..]
                        .iter()
                        .all(|&i| match srcs[i].as_ref().and_then(|z| z.score(&m)) {
                            Some(v) => {
                                aggregate(&mut score, v * weights[i], how);
                                true
                            }
                            None => false,
                        });
                if !in_all {
                    continue;
                }
                if op == SetOp::InterCard {
                    found += 1;
                    if limit > 0 && found >= limit {
                        break;
                    }
                } else {
                    result.push((m.into_owned(), score));
                }
            }
            if op == SetOp::InterCard {
                return ctx.out.int(found as i64);
            }
        }
        SetOp::Union => {
            let mut acc: HashMap<std::borrow::Cow<[u8]>, f64> = HashMap::new();
            for &i in &order {
                for (m, s) in srcs[i].iter().flat_map(|z| z.iter()) {
                    let mut score = weights[i] * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    acc.entry(m)
                        .and_modify(|t| aggregate(t, score, how))
                        .or_insert(score);
                }
            }
            result = acc.into_iter().map(|(m, s)| (m.into_owned(), s)).collect();
        }
        SetOp::Diff => {
            for (m, s) in srcs[0].iter().flat_map(|z| z.iter()) {
                if !srcs[1..]
                    .iter()
                    .any(|z| z.as_ref().is_some_and(|z| z.score(&m).is_some()))
                {
                    result.push((m.into_owned(), s));
                }
            }
        }
    }
    sort_elements(&mut result);
    if store {
        store_result(ctx, db, args[1], &result, ctx.cmd.name);
        ctx.out.int(result.len() as i64);
    } else {
        reply_elements(&mut ctx.out, &result, withscores);
    }
}

pub fn zunion(ctx: &mut Ctx, db: &mut Store) {
    setop_generic(ctx, db, SetOp::Union, false);
}

pub fn zinter(ctx: &mut Ctx, db: &mut Store) {
    setop_generic(ctx, db, SetOp::Inter, false);
}

pub fn zdiff(ctx: &mut Ctx, db: &mut Store) {
    setop_generic(ctx, db, SetOp::Diff, false);
}

pub fn zunionstore(ctx: &mut Ctx, db: &mut Store) {
    setop_generic(ctx, db, SetOp::Union, true);
}

pub fn zinterstore(ctx: &mut Ctx, db: &mut Store) {
    setop_generic(ctx, db, SetOp::Inter, true);
}

pub fn zdiffstore(ctx: &mut Ctx, db: &mut Store) {
    setop_generic(ctx, db, SetOp::Diff, true);
}

pub fn zintercard(ctx: &mut Ctx, db: &mut Store) {
    setop_generic(ctx, db, SetOp::InterCard, false);
}
