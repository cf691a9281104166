//! Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP,
//! SRANDMEMBER, SMOVE, SUNION/SINTER/SDIFF and their STORE forms,
//! SINTERCARD, SSCAN. Encodings and conversions follow Redis 7.0 (see
//! store/set.rs); result sets are built the way Redis builds them, so they
//! get the same encoding.

use super::keys::{reply_scan, scan_cursor, scan_dict, scan_options};
use super::Ctx;
use crate::config;
use crate::protocol::Reply;
use crate::pubsub::events;
use crate::store::set::{Member, OwnedMember, Set};
use crate::store::{NewValue, Store, Value};
use crate::util::{eq_ignore_case, parse_i64};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Read command: counts a keyspace hit or miss.
    Read,
    Write,
    /// A key already looked up once by this command.
    Again,
}

/// The set at `key`: Ok(None) if there is none, Err(()) after replying
/// WRONGTYPE if the key holds another type.
fn lookup<'s>(
    ctx: &mut Ctx,
    db: &'s mut Store,
    key: &[u8],
    access: Access,
) -> Result<Option<&'s mut Set>, ()> {
    let entry = match access {
        Access::Read => db.read(key),
        Access::Write => db.write(key),
        Access::Again => db.peek(key),
    };
    match entry.map(|e| e.obj_mut()) {
        None => Ok(None),
        Some(Some(Value::Set(s))) => Ok(Some(s)),
        Some(_) => {
            ctx.wrong_type();
            Err(())
        }
    }
}

fn max_intset(ctx: &Ctx) -> usize {
    let n = ctx.srv.config.read().num(config::SET_MAX_INTSET_ENTRIES);
    usize::try_from(n).unwrap_or(0)
}

fn reply_member(out: &mut Reply, m: Member) {
    match m {
        Member::Int(n) => out.bulk_int(n),
        Member::Str(s) => out.bulk(s),
    }
}

/// Replies with every member, as a RESP3 set.
fn reply_members(out: &mut Reply, set: &Set) {
    out.set(set.len());
    for m in set.iter() {
        reply_member(out, m);
    }
}

/// Records `event` on the set at `key`, deleting the key if the set is
/// now empty.
fn changed(db: &mut Store, key: &[u8], event: &str, now_empty: bool) {
    db.collection_changed(key, events::SET, event, now_empty);
}

pub fn sadd(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let (key, members) = (args[1], &args[2..]);
    let max = max_intset(ctx);
    let added = match lookup(ctx, db, key, Access::Write) {
        Err(()) => return,
        Ok(Some(set)) => members.iter().filter(|m| set.add(m, max)).count(),
        Ok(None) => {
            let mut set = Set::for_member(members[0]);
            let n = members.iter().filter(|m| set.add(m, max)).count();
            db.set(key, NewValue::Obj(Value::Set(set)), None);
            db.notify(events::SET, "sadd", key);
            return ctx.out.int(n as i64);
        }
    };
    if added > 0 {
        changed(db, key, "sadd", false);
    }
    ctx.out.int(added as i64);
}

pub fn srem(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let key = args[1];
    let (removed, empty) = match lookup(ctx, db, key, Access::Write) {
        Err(()) => return,
        Ok(None) => return ctx.out.int(0),
        Ok(Some(set)) => {
            let n = args[2..].iter().filter(|m| set.remove(m)).count();
            (n, set.is_empty())
        }
    };
    if removed > 0 {
        changed(db, key, "srem", empty);
    }
    ctx.out.int(removed as i64);
}

pub fn smembers(ctx: &mut Ctx, db: &mut Store) {
    match lookup(ctx, db, ctx.args[1], Access::Read) {
        Err(()) => {}
        Ok(None) => ctx.out.set(0),
        Ok(Some(set)) => reply_members(&mut ctx.out, set),
    }
}

pub fn sismember(ctx: &mut Ctx, db: &mut Store) {
    let member = ctx.args[2];
    match lookup(ctx, db, ctx.args[1], Access::Read) {
        Err(()) => {}
        Ok(set) => {
            let found = set.is_some_and(|s| s.contains(member));
            ctx.out.int(found as i64);
        }
    }
}

pub fn smismember(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let Ok(set) = lookup(ctx, db, args[1], Access::Read) else {
        return;
    };
    ctx.out.array(args.len() - 2);
    for m in &args[2..] {
        let found = set.as_ref().is_some_and(|s| s.contains(m));
        ctx.out.int(found as i64);
    }
}

pub fn scard(ctx: &mut Ctx, db: &mut Store) {
    if let Ok(set) = lookup(ctx, db, ctx.args[1], Access::Read) {
        let n = set.map_or(0, |s| s.len());
        ctx.out.int(n as i64);
    }
}

pub fn spop(ctx: &mut Ctx, db: &mut Store) {
    match ctx.args.len() {
        2 => {}
        3 => return spop_count(ctx, db),
        _ => return ctx.syntax_error(),
    }
    let key = ctx.args[1];
    let (popped, empty) = match lookup(ctx, db, key, Access::Write) {
        Err(()) => return,
        Ok(None) => return ctx.out.null(),
        Ok(Some(set)) => (set.pop_random(&mut rand::thread_rng()), set.is_empty()),
    };
    match popped {
        Some(m) => {
            reply_member(&mut ctx.out, m.as_member());
            changed(db, key, "spop", empty);
        }
        None => ctx.out.null(),
    }
}

fn spop_count(ctx: &mut Ctx, db: &mut Store) {
    let key = ctx.args[1];
    let Some(count) = parse_i64(ctx.args[2]).filter(|&n| n >= 0) else {
        return ctx.out.err("value is out of range, must be positive");
    };
    let max = max_intset(ctx);
    let set = match lookup(ctx, db, key, Access::Write) {
        Err(()) => return,
        Ok(None) => return ctx.out.set(0),
        Ok(Some(set)) => set,
    };
    let count = count as usize;
    if count == 0 {
        return ctx.out.set(0);
    }
    let size = set.len();
    let rng = &mut rand::thread_rng();
    if count >= size {
        reply_members(&mut ctx.out, set);
        return changed(db, key, "spop", true);
    }
    let remaining = size - count;
    if remaining.saturating_mul(5) > count {
        // Popping a small part: take members out one by one.
        ctx.out.set(count);
        for _ in 0..count {
            if let Some(m) = set.pop_random(rng) {
                reply_member(&mut ctx.out, m.as_member());
            }
        }
    } else {
        // Popping most of it: like Redis, move the few survivors into a new
        // set (created for its first member, so a hashtable of integers
        // becomes an intset again) and reply with what is left behind.
        let kept: Vec<OwnedMember> = set
            .random_distinct(remaining, rng)
            .into_iter()
            .map(Member::to_owned)
            .collect();
        let mut survivors = Set::new_ints();
        let mut buf = itoa::Buffer::new();
        if let Some(first) = kept.first() {
            survivors = Set::for_member(first.as_member().bytes(&mut buf));
        }
        for m in &kept {
            survivors.add_member(m.as_member(), max);
        }
        ctx.out.set(count);
        for m in set.iter().filter(|m| !survivors.contains_member(*m)) {
            reply_member(&mut ctx.out, m);
        }
        *set = survivors;
    }
    changed(db, key, "spop", false);
}

pub fn srandmember(ctx: &mut Ctx, db: &mut Store) {
    match ctx.args.len() {
        2 => {}
        3 => return srandmember_count(ctx, db),
        _ => return ctx.syntax_error(),
    }
    match lookup(ctx, db, ctx.args[1], Access::Read) {
        Err(()) => {}
        Ok(None) => ctx.out.null(),
        Ok(Some(set)) => match set.random(&mut rand::thread_rng()) {
            Some(m) => reply_member(&mut ctx.out, m),
            None => ctx.out.null(),
        },
    }
}

fn srandmember_count(ctx: &mut Ctx, db: &mut Store) {
    let Some(count) = ctx.int_arg(2) else {
        return;
    };
    if count == i64::MIN {
        return ctx.out.err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    let set = match lookup(ctx, db, ctx.args[1], Access::Read) {
        Err(()) => return,
        Ok(None) => return ctx.out.array(0),
        Ok(Some(set)) => set,
    };
    let rng = &mut rand::thread_rng();
    let n = count.unsigned_abs() as usize;
    if count < 0 {
        // Repeats allowed: independent draws.
        ctx.out.array(n);
        for _ in 0..n {
            if let Some(m) = set.random(rng) {
                reply_member(&mut ctx.out, m);
            }
        }
    } else if n >= set.len() {
        ctx.out.array(set.len());
        for m in set.iter() {
            reply_member(&mut ctx.out, m);
        }
    } else {
        let picked = set.random_distinct(n, rng);
        ctx.out.array(picked.len());
        for m in picked {
            reply_member(&mut ctx.out, m);
        }
    }
}

pub fn smove(ctx: &mut Ctx, db: &mut Store) {
    let (src, dst, member) = (ctx.args[1], ctx.args[2], ctx.args[3]);
    match lookup(ctx, db, src, Access::Write) {
        Err(()) => return,
        Ok(None) => return ctx.out.int(0),
        Ok(Some(_)) => {}
    }
    let dst_exists = match lookup(ctx, db, dst, Access::Write) {
        Err(()) => return,
        Ok(set) => set.is_some(),
    };
    let Ok(Some(from)) = lookup(ctx, db, src, Access::Again) else {
        return;
    };
    if src == dst {
        let found = from.contains(member);
        return ctx.out.int(found as i64);
    }
    if !from.remove(member) {
        return ctx.out.int(0);
    }
    let empty = from.is_empty();
    changed(db, src, "srem", empty);
    let max = max_intset(ctx);
    if dst_exists {
        if let Ok(Some(to)) = lookup(ctx, db, dst, Access::Again) {
            if to.add(member, max) {
                changed(db, dst, "sadd", false);
            }
        }
    } else {
        let mut to = Set::for_member(member);
        to.add(member, max);
        db.set(dst, NewValue::Obj(Value::Set(to)), None);
        db.notify(events::SET, "sadd", dst);
    }
    ctx.out.int(1);
}

/// Looks every key up in order (Redis reports the first WRONGTYPE even after
/// a missing key); the sizes, None for missing keys.
fn sizes_of(
    ctx: &mut Ctx,
    db: &mut Store,
    keys: &[&[u8]],
    write: bool,
) -> Option<Vec<Option<usize>>> {
    let access = if write { Access::Write } else { Access::Read };
    keys.iter()
        .map(|k| lookup(ctx, db, k, access).map(|s| s.map(|s| s.len())).ok())
        .collect()
}

fn copy_members(ctx: &mut Ctx, db: &mut Store, key: &[u8]) -> Vec<OwnedMember> {
    match lookup(ctx, db, key, Access::Again) {
        Ok(Some(set)) => set.iter().map(Member::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// Keeps the candidates that are (or, with `keep_present` false, are not)
/// members of the set at `key`.
fn filter_by(
    ctx: &mut Ctx,
    db: &mut Store,
    key: &[u8],
    cands: &mut Vec<OwnedMember>,
    keep_present: bool,
) {
    if let Ok(Some(set)) = lookup(ctx, db, key, Access::Again) {
        cands.retain(|m| set.contains_member(m.as_member()) == keep_present);
    }
}

/// Where a SINTER/SUNION/SDIFF result goes.
enum Output<'a> {
    Reply,
    Store(&'a [u8]),
    /// SINTERCARD: only the size, capped by LIMIT (0 = none).
    Cardinality(usize),
}

/// Stores a computed result at `dst` (deleting it when empty) and replies
/// with its size.
fn store_result(ctx: &mut Ctx, db: &mut Store, dst: &[u8], result: Set) {
    let n = result.len();
    let value = (n > 0).then(|| NewValue::Obj(Value::Set(result)));
    // The event is the command's name: sinterstore, sunionstore...
    db.store_result(dst, value, events::SET, ctx.cmd.name);
    ctx.out.int(n as i64);
}

fn sinter_generic(ctx: &mut Ctx, db: &mut Store, keys: &[&[u8]], out: Output) {
    let Some(sizes) = sizes_of(ctx, db, keys, matches!(out, Output::Store(_))) else {
        return;
    };
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(keys.len());
    for (i, size) in sizes.iter().enumerate() {
        match size {
            Some(n) => order.push((*n, i)),
            // Intersecting with an empty set: nothing.
            None => {
                return match out {
                    Output::Reply => ctx.out.set(0),
                    Output::Store(dst) => store_result(ctx, db, dst, Set::new_ints()),
                    Output::Cardinality(_) => ctx.out.int(0),
                };
            }
        }
    }
    // Walk the smallest set, checking the others, as Redis does.
    order.sort_by_key(|&(n, _)| n);
    let first = keys[order[0].1];
    let mut cands = copy_members(ctx, db, first);
    for &(_, i) in &order[1..] {
        if cands.is_empty() {
            break;
        }
        if keys[i] != first {
            filter_by(ctx, db, keys[i], &mut cands, true);
        }
    }
    match out {
        Output::Reply => {
            ctx.out.set(cands.len());
            for m in &cands {
                reply_member(&mut ctx.out, m.as_member());
            }
        }
        Output::Cardinality(limit) => {
            let n = if limit > 0 {
                cands.len().min(limit)
            } else {
                cands.len()
            };
            ctx.out.int(n as i64);
        }
        Output::Store(dst) => {
            let max = max_intset(ctx);
            let mut result = Set::new_ints();
            for m in &cands {
                result.add_member(m.as_member(), max);
            }
            store_result(ctx, db, dst, result);
        }
    }
}

fn sunion_diff_generic(
    ctx: &mut Ctx,
    db: &mut Store,
    keys: &[&[u8]],
    dst: Option<&[u8]>,
    diff: bool,
) {
    let Some(sizes) = sizes_of(ctx, db, keys, dst.is_some()) else {
        return;
    };
    let max = max_intset(ctx);
    // Like Redis, the result starts as an intset and grows member by member,
    // so it ends in the encoding Redis would give it.
    let mut result = Set::new_ints();
    let present = || {
        keys.iter()
            .zip(&sizes)
            .filter_map(|(k, s)| s.map(|n| (*k, n)))
    };
    if !diff {
        for (key, _) in present() {
            if let Ok(Some(set)) = lookup(ctx, db, key, Access::Again) {
                for m in set.iter() {
                    result.add_member(m, max);
                }
            }
        }
    } else if let Some(first_size) = sizes[0].filter(|&n| n > 0) {
        // Redis's choice between its two algorithms, which decides the
        // result's encoding when it shrinks below the intset limit.
        let (mut one, mut two) = (0usize, 0usize);
        for (_, n) in present() {
            one += first_size;
            two += n;
        }
        let others: Vec<&[u8]> = present().skip(1).map(|(k, _)| k).collect();
        if one / 2 <= two {
            let mut cands = copy_members(ctx, db, keys[0]);
            for key in others {
                filter_by(ctx, db, key, &mut cands, false);
            }
            for m in &cands {
                result.add_member(m.as_member(), max);
            }
        } else {
            if let Ok(Some(set)) = lookup(ctx, db, keys[0], Access::Again) {
                for m in set.iter() {
                    result.add_member(m, max);
                }
            }
            for key in others {
                if let Ok(Some(set)) = lookup(ctx, db, key, Access::Again) {
                    for m in set.iter() {
                        result.remove_member(m);
                    }
                }
            }
        }
    }
    match dst {
        None => reply_members(&mut ctx.out, &result),
        Some(dst) => store_result(ctx, db, dst, result),
    }
}

pub fn sinter(ctx: &mut Ctx, db: &mut Store) {
    sinter_generic(ctx, db, &ctx.args[1..], Output::Reply);
}

pub fn sinterstore(ctx: &mut Ctx, db: &mut Store) {
    sinter_generic(ctx, db, &ctx.args[2..], Output::Store(ctx.args[1]));
}

pub fn sunion(ctx: &mut Ctx, db: &mut Store) {
    sunion_diff_generic(ctx, db, &ctx.args[1..], None, false);
}

pub fn sunionstore(ctx: &mut Ctx, db: &mut Store) {
    sunion_diff_generic(ctx, db, &ctx.args[2..], Some(ctx.args[1]), false);
}

pub fn sdiff(ctx: &mut Ctx, db: &mut Store) {
    sunion_diff_generic(ctx, db, &ctx.args[1..], None, true);
}

pub fn sdiffstore(ctx: &mut Ctx, db: &mut Store) {
    sunion_diff_generic(ctx, db, &ctx.args[2..], Some(ctx.args[1]), true);
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn sintercard(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let Some(numkeys) = parse_i64(args[1]).filter(|&n| n > 0) else {
        return ctx.out.err("numkeys should be greater than 0");
    };
    if numkeys as u64 > (args.len() - 2) as u64 {
        return ctx
            .out
            .err("Number of keys can't be greater than number of args");
    }
    let end = 2 + numkeys as usize;
    let mut limit = 0;
    let mut j = end;
    while j < args.len() {
        if eq_ignore_case(args[j], "limit") && j + 1 < args.len() {
            let Some(n) = parse_i64(args[j + 1]).filter(|&n| n >= 0) else {
                return ctx.out.err("LIMIT can't be negative");
            };
            limit = usize::try_from(n).unwrap_or(usize::MAX);
            j += 2;
        } else {
            return ctx.syntax_error();
        }
    }
    sinter_generic(ctx, db, &args[2..end], Output::Cardinality(limit));
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
pub fn sscan(ctx: &mut Ctx, db: &mut Store) {
    let Some(cursor) = scan_cursor(ctx, 2) else {
        return;
    };
    let set = match lookup(ctx, db, ctx.args[1], Access::Read) {
        Err(()) => return,
        Ok(None) => return reply_scan(ctx, 0, std::iter::empty()),
        Ok(Some(set)) => set,
    };
    let Some(opts) = scan_options(ctx, cursor, 3, false) else {
        return;
    };
    let mut found: Vec<Vec<u8>> = Vec::new();
    let next = match set.table() {
        Some(dict) => scan_dict(dict, &opts, |e| found.push(e.key().to_vec())),
        None => {
            let mut buf = itoa::Buffer::new();
            for m in set.iter() {
                let bytes = m.bytes(&mut buf);
                if opts.matches(bytes) {
                    found.push(bytes.to_vec());
                }
            }
            0
        }
    };
    reply_scan(ctx, next, found.iter().map(Vec::as_slice));
}
