//! List commands (the non-blocking ones): LPUSH/RPUSH[X], LPOP/RPOP, LLEN,
//! LRANGE, LINDEX, LSET, LREM, LTRIM, LINSERT, LPOS, LMOVE, RPOPLPUSH, LMPOP.
//! Argument checks happen in Redis's order (some before the key lookup, some
//! after), since that decides which error a client sees.

use super::{blocking, Ctx};
use crate::blocking::BlockOp;
use crate::config;
use crate::protocol::Reply;
use crate::pubsub::events;
use crate::server::Server;
use crate::store::list::{Fill, List};
use crate::store::{NewValue, Store, Value, ValueRef};
use crate::util::{eq_ignore_case, parse_i64};

/// `list-max-listpack-size` as of this write.
pub(super) fn fill(srv: &Server) -> Fill {
    Fill::from_config(srv.config.read().num(config::LIST_MAX_LISTPACK_SIZE))
}

/// The list at `key` for writing: Ok(None) if there is no key, Err(()) after
/// replying WRONGTYPE.
fn list_mut<'s>(ctx: &mut Ctx, db: &'s mut Store, key: &[u8]) -> Result<Option<&'s mut List>, ()> {
    list_at(db, key).map_err(|WrongType| ctx.wrong_type())
}

/// The list at `key` for writing, None if there is no key.
pub(super) fn list_at<'s>(
    db: &'s mut Store,
    key: &[u8],
) -> Result<Option<&'s mut List>, WrongType> {
    match db.write(key) {
        None => Ok(None),
        Some(e) => match e.obj_mut() {
            Some(Value::List(l)) => Ok(Some(l)),
            _ => Err(WrongType),
        },
    }
}

/// The list at `key` for reading (counts a keyspace hit or miss).
fn list_ref<'s>(ctx: &mut Ctx, db: &'s mut Store, key: &[u8]) -> Result<Option<&'s List>, ()> {
    match db.read(key) {
        None => Ok(None),
        Some(e) => match e.value() {
            ValueRef::Obj(Value::List(l)) => Ok(Some(l)),
            _ => {
                ctx.wrong_type();
                Err(())
            }
        },
    }
}

/// Records `event` on the list at `key`, deleting the key if the list is
/// now empty.
pub(super) fn changed(db: &mut Store, key: &[u8], event: &str, now_empty: bool) {
    db.collection_changed(key, events::LIST, event, now_empty);
}

/// The keyspace event of a pop from either end.
pub(super) fn pop_event(front: bool) -> &'static str {
    if front {
        "lpop"
    } else {
        "rpop"
    }
}

/// The list at `key` was found holding another type.
pub(super) struct WrongType;

/// Pushes `values` one by one onto the list at `key`, creating it unless
/// `only_existing`. Returns the new length, None if the key is missing and
/// `only_existing`.
pub(super) fn push_into(
    db: &mut Store,
    key: &[u8],
    values: &[&[u8]],
    front: bool,
    only_existing: bool,
    fill: Fill,
) -> Result<Option<usize>, WrongType> {
    let push = |l: &mut List| {
        for v in values {
            if front {
                l.push_front(v, fill);
            } else {
                l.push_back(v, fill);
            }
        }
        l.len()
    };
    let n = match list_at(db, key)? {
        Some(l) => {
            let n = push(l);
            db.modified(key);
            n
        }
        None if only_existing => return Ok(None),
        None => {
            let mut l = List::new();
            let n = push(&mut l);
            db.set(key, NewValue::Obj(Value::List(l)), None);
            n
        }
    };
    db.notify(events::LIST, if front { "lpush" } else { "rpush" }, key);
    Ok(Some(n))
}

/// `push_into`, replying WRONGTYPE on a wrong type.
fn push_values(
    ctx: &mut Ctx,
    db: &mut Store,
    key: &[u8],
    values: &[&[u8]],
    front: bool,
    only_existing: bool,
) -> Result<Option<usize>, ()> {
    let fill = fill(ctx.srv);
    push_into(db, key, values, front, only_existing, fill).map_err(|WrongType| ctx.wrong_type())
}

fn push_command(ctx: &mut Ctx, db: &mut Store, front: bool, only_existing: bool) {
    let args = ctx.args;
    if let Ok(n) = push_values(ctx, db, args[1], &args[2..], front, only_existing) {
        ctx.out.int(n.unwrap_or(0) as i64);
    }
}

pub fn lpush(ctx: &mut Ctx, db: &mut Store) {
    push_command(ctx, db, true, false);
}

pub fn rpush(ctx: &mut Ctx, db: &mut Store) {
    push_command(ctx, db, false, false);
}

pub fn lpushx(ctx: &mut Ctx, db: &mut Store) {
    push_command(ctx, db, true, true);
}

pub fn rpushx(ctx: &mut Ctx, db: &mut Store) {
    push_command(ctx, db, false, true);
}

/// Replies with up to `count` elements popped from one end, as an array in
/// pop order, and removes them.
pub(super) fn pop_range(out: &mut Reply, l: &mut List, count: usize, front: bool) {
    let n = count.min(l.len());
    if front {
        out.bulks(l.iter().take(n));
        l.remove_front(n);
    } else {
        out.bulks(l.iter().rev().take(n));
        l.remove_back(n);
    }
}

/// LPOP/RPOP key [count]: a bulk without count, an array with one; a
/// missing key is a null of the matching kind.
fn pop_command(ctx: &mut Ctx, db: &mut Store, front: bool) {
    let args = ctx.args;
    if args.len() > 3 {
        return ctx.arity_error();
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_i64(a).filter(|&n| n >= 0) {
            Some(n) => Some(n as usize),
            None => return ctx.out.err("value is out of range, must be positive"),
        },
    };
    let key = args[1];
    let l = match list_mut(ctx, db, key) {
        Err(()) => return,
        Ok(None) if count.is_some() => return ctx.out.null_array(),
        Ok(None) => return ctx.out.null(),
        Ok(Some(l)) => l,
    };
    match count {
        Some(0) => return ctx.out.array(0),
        Some(n) => pop_range(&mut ctx.out, l, n, front),
        None => {
            let v = if front { l.front() } else { l.back() };
            if let Some(v) = v {
                ctx.out.bulk(v);
            }
            if front {
                l.remove_front(1);
            } else {
                l.remove_back(1);
            }
        }
    }
    let empty = l.is_empty();
    changed(db, key, pop_event(front), empty);
}

pub fn lpop(ctx: &mut Ctx, db: &mut Store) {
    pop_command(ctx, db, true);
}

pub fn rpop(ctx: &mut Ctx, db: &mut Store) {
    pop_command(ctx, db, false);
}

pub fn llen(ctx: &mut Ctx, db: &mut Store) {
    if let Ok(l) = list_ref(ctx, db, ctx.args[1]) {
        ctx.out.int(l.map_or(0, |l| l.len() as i64));
    }
}

/// Index arguments count from the tail when negative.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 {
        index.checked_add(len as i64)?
    } else {
        index
    };
    (0..len as i64).contains(&i).then_some(i as usize)
}

pub fn lindex(ctx: &mut Ctx, db: &mut Store) {
    let l = match list_ref(ctx, db, ctx.args[1]) {
        Err(()) => return,
        Ok(None) => return ctx.out.null(),
        Ok(Some(l)) => l,
    };
    let Some(index) = ctx.int_arg(2) else { return };
    match resolve_index(index, l.len()).and_then(|i| l.get(i)) {
        Some(v) => ctx.out.bulk(v),
        None => ctx.out.null(),
    }
}

pub fn lset(ctx: &mut Ctx, db: &mut Store) {
    let key = ctx.args[1];
    let fill = fill(ctx.srv);
    let l = match list_mut(ctx, db, key) {
        Err(()) => return,
        Ok(None) => return ctx.out.err("no such key"),
        Ok(Some(l)) => l,
    };
    let Some(index) = ctx.int_arg(2) else { return };
    let done = resolve_index(index, l.len()).is_some_and(|i| l.set(i, ctx.args[3], fill));
    if !done {
        return ctx.out.err("index out of range");
    }
    changed(db, key, "lset", false);
    ctx.out.ok();
}

/// Start and end arguments of LRANGE/LTRIM as an inclusive index range of a
/// list of `len` elements, None when it selects nothing.
fn resolve_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { start + len } else { start }.max(0);
    let end = if end < 0 { end + len } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// The two integer arguments at 2 and 3, or None after an error reply.
fn range_args(ctx: &mut Ctx) -> Option<(i64, i64)> {
    Some((ctx.int_arg(2)?, ctx.int_arg(3)?))
}

pub fn lrange(ctx: &mut Ctx, db: &mut Store) {
    let Some((start, end)) = range_args(ctx) else {
        return;
    };
    let l = match list_ref(ctx, db, ctx.args[1]) {
        Err(()) => return,
        Ok(None) => return ctx.out.array(0),
        Ok(Some(l)) => l,
    };
    match resolve_range(start, end, l.len()) {
        Some((s, e)) => ctx.out.bulks(l.iter_from(s).take(e - s + 1)),
        None => ctx.out.array(0),
    }
}

pub fn ltrim(ctx: &mut Ctx, db: &mut Store) {
    let Some((start, end)) = range_args(ctx) else {
        return;
    };
    let key = ctx.args[1];
    let l = match list_mut(ctx, db, key) {
        Err(()) => return,
        Ok(None) => return ctx.out.ok(),
        Ok(Some(l)) => l,
    };
    let len = l.len();
    match resolve_range(start, end, len) {
        Some((s, e)) => {
            l.remove_front(s);
            l.remove_back(len - 1 - e);
        }
        None => l.remove_front(len),
    }
    // Redis signals the key as modified even when nothing was trimmed.
    let empty = l.is_empty();
    changed(db, key, "ltrim", empty);
    ctx.out.ok();
}

pub fn lrem(ctx: &mut Ctx, db: &mut Store) {
    let Some(count) = ctx.int_arg(2) else { return };
    let key = ctx.args[1];
    let l = match list_mut(ctx, db, key) {
        Err(()) => return,
        Ok(None) => return ctx.out.int(0),
        Ok(Some(l)) => l,
    };
    // |i64::MIN| is 2^63, a limit never reached: Redis removes every match.
    let limit = (count != 0).then_some(count.unsigned_abs());
    let removed = l.remove_matching(ctx.args[3], limit, count < 0);
    let empty = l.is_empty();
    if removed > 0 {
        changed(db, key, "lrem", empty);
    }
    ctx.out.int(removed as i64);
}

pub fn linsert(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let after = if eq_ignore_case(args[2], "after") {
        true
    } else if eq_ignore_case(args[2], "before") {
        false
    } else {
        return ctx.syntax_error();
    };
    let fill = fill(ctx.srv);
    let l = match list_mut(ctx, db, args[1]) {
        Err(()) => return,
        Ok(None) => return ctx.out.int(0),
        Ok(Some(l)) => l,
    };
    let Some(pos) = l.iter().position(|v| v == args[3]) else {
        return ctx.out.int(-1);
    };
    l.insert(pos + after as usize, args[4], fill);
    let n = l.len();
    changed(db, args[1], "linsert", false);
    ctx.out.int(n as i64);
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
pub fn lpos(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let (mut rank, mut count, mut maxlen) = (1i64, None::<i64>, 0i64);
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = args[j];
        if more && eq_ignore_case(opt, "rank") {
            let Some(r) = ctx.int_arg(j + 1) else { return };
            if r == 0 {
                return ctx.out.err("RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
            }
            rank = r;
        } else if more && eq_ignore_case(opt, "count") {
            match parse_i64(args[j + 1]).filter(|&n| n >= 0) {
                Some(n) => count = Some(n),
                None => return ctx.out.err("COUNT can't be negative"),
            }
        } else if more && eq_ignore_case(opt, "maxlen") {
            match parse_i64(args[j + 1]).filter(|&n| n >= 0) {
                Some(n) => maxlen = n,
                None => return ctx.out.err("MAXLEN can't be negative"),
            }
        } else {
            return ctx.syntax_error();
        }
        j += 2;
    }
    let l = match list_ref(ctx, db, args[1]) {
        Err(()) => return,
        Ok(None) if count.is_some() => return ctx.out.array(0),
        Ok(None) => return ctx.out.null(),
        Ok(Some(l)) => l,
    };
    // Redis negates the rank in a C long: i64::MIN stays negative, so every
    // match qualifies, and its "enough matches" test wraps the same way.
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let len = l.len();
    let limit = if maxlen == 0 {
        len
    } else {
        len.min(maxlen as usize)
    };
    let mut it = l.iter();
    let mut found: Vec<i64> = Vec::new();
    let mut matches = 0i64;
    for scanned in 0..limit {
        let v = if from_tail { it.next_back() } else { it.next() };
        if v != Some(args[2]) {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        found.push(if from_tail {
            len - 1 - scanned
        } else {
            scanned
        } as i64);
        match count {
            None => break,
            Some(c) if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c => break,
            Some(_) => {}
        }
    }
    match count {
        Some(_) => {
            ctx.out.array(found.len());
            for i in found {
                ctx.out.int(i);
            }
        }
        None => match found.first() {
            Some(&i) => ctx.out.int(i),
            None => ctx.out.null(),
        },
    }
}

/// LEFT/RIGHT: Some(true) for the head.
pub(super) fn parse_end(ctx: &mut Ctx, arg: &[u8]) -> Option<bool> {
    if eq_ignore_case(arg, "left") {
        Some(true)
    } else if eq_ignore_case(arg, "right") {
        Some(false)
    } else {
        ctx.syntax_error();
        None
    }
}

/// Pops from one end of `src` and pushes onto one end of `dst` (the same
/// list when the keys are equal: a rotation that keeps the key and its TTL).
/// The moved element, None if `src` is missing.
pub(super) fn move_one(
    db: &mut Store,
    src: &[u8],
    dst: &[u8],
    from_front: bool,
    to_front: bool,
    fill: Fill,
) -> Result<Option<Vec<u8>>, WrongType> {
    if list_at(db, src)?.is_none() {
        return Ok(None);
    }
    list_at(db, dst)?;
    let Some(l) = list_at(db, src)? else {
        return Ok(None);
    };
    let Some(value) = (if from_front {
        l.pop_front()
    } else {
        l.pop_back()
    }) else {
        return Ok(None);
    };
    let empty = l.is_empty() && src != dst;
    // Redis reports the push before the pop.
    push_into(db, dst, &[&value], to_front, false, fill)?;
    changed(db, src, pop_event(from_front), empty);
    Ok(Some(value))
}

fn move_element(ctx: &mut Ctx, db: &mut Store, from_front: bool, to_front: bool) {
    let (src, dst) = (ctx.args[1], ctx.args[2]);
    match move_one(db, src, dst, from_front, to_front, fill(ctx.srv)) {
        Ok(Some(v)) => ctx.out.bulk(&v),
        Ok(None) => ctx.out.null(),
        Err(WrongType) => ctx.wrong_type(),
    }
}

pub fn lmove(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let Some(from_front) = parse_end(ctx, args[3]) else {
        return;
    };
    let Some(to_front) = parse_end(ctx, args[4]) else {
        return;
    };
    move_element(ctx, db, from_front, to_front);
}

pub fn rpoplpush(ctx: &mut Ctx, db: &mut Store) {
    move_element(ctx, db, false, true);
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: pops from the first
/// non-empty list, replying [key, [elements]].
pub fn lmpop(ctx: &mut Ctx, db: &mut Store) {
    let Some((keys, front, count)) = blocking::mpop_args(ctx, 1, ["left", "right"]) else {
        return;
    };
    blocking::pop_now(ctx, db, keys, BlockOp::MultiPop { front, count });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis_clamping() {
        assert_eq!(resolve_range(0, -1, 3), Some((0, 2)));
        assert_eq!(resolve_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(resolve_range(2, 1, 3), None);
        assert_eq!(resolve_range(3, 5, 3), None);
        assert_eq!(resolve_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(resolve_range(0, -4, 3), None);
        assert_eq!(resolve_range(0, 0, 0), None);
    }

    #[test]
    fn indexes_count_from_either_end() {
        assert_eq!(resolve_index(-1, 3), Some(2));
        assert_eq!(resolve_index(-3, 3), Some(0));
        assert_eq!(resolve_index(-4, 3), None);
        assert_eq!(resolve_index(3, 3), None);
        assert_eq!(resolve_index(i64::MIN, 3), None);
    }
}
