//! Blocking pops: BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP, BZPOPMIN,
//! BZPOPMAX, BZMPOP, and the serving of blocked clients after a push.
//!
//! A command that finds data replies at once, like its non-blocking form
//! (which shares `serve_first` with it). Otherwise, while it still holds its
//! keys' shard locks, it leaves a `Waiter` on each key and the connection
//! parks. Any write to such a key (LPUSH, ZADD, LMOVE, RENAME, EXEC, a
//! script...) lists it in `Store::ready`; before the writer's locks are
//! released, `serve_ready` pops for the waiters in blocking order and sends
//! each its reply, so an element goes to exactly one client and none is lost.

use super::list::{self, WrongType};
use super::{stream, zset, After, Ctx};
use crate::blocking::{BlockOp, Waiter};
use crate::protocol::Reply;
use crate::server::{Blocked, Server};
use crate::store::list::Fill;
use crate::store::{hash_key, shard_of, Store, Value};
use crate::util::{eq_ignore_case, parse_i64};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Whether a key can serve a waiter now.
enum Probe {
    Ready,
    Empty,
    /// The key holds another type: nobody waiting for this op can use it.
    WrongSource,
    /// BLMOVE's destination holds another type: this waiter cannot be
    /// served, others on the same key may.
    WrongDest,
}

fn probe(db: &mut Store, key: &[u8], op: &BlockOp) -> Probe {
    let zset = op.wants_zset();
    match db.write(key).map(|e| e.obj_mut()) {
        None => return Probe::Empty,
        Some(Some(Value::ZSet(_))) if zset => {}
        Some(Some(Value::List(_))) if !zset => {}
        Some(_) => return Probe::WrongSource,
    }
    if let BlockOp::Move { dst, .. } = op {
        if list::list_at(db, dst).is_err() {
            return Probe::WrongDest;
        }
    }
    Probe::Ready
}

/// Pops for `op` from `key`, which `probe` found ready, and writes the reply.
fn serve_key(db: &mut Store, key: &[u8], op: &BlockOp, out: &mut Reply, fill: Fill) {
    match op {
        BlockOp::Pop { front } | BlockOp::MultiPop { front, .. } => {
            let Ok(Some(l)) = list::list_at(db, key) else {
                return out.null_array();
            };
            out.array(2);
            out.bulk(key);
            match op {
                BlockOp::MultiPop { count, .. } => list::pop_range(out, l, *count, *front),
                _ => {
                    let v = if *front { l.pop_front() } else { l.pop_back() };
                    out.bulk(v.as_deref().unwrap_or_default());
                }
            }
            let empty = l.is_empty();
            list::changed(db, key, list::pop_event(*front), empty);
        }
        BlockOp::Move {
            dst,
            from_front,
            to_front,
        } => match list::move_one(db, key, dst, *from_front, *to_front, fill) {
            Ok(Some(v)) => out.bulk(&v),
            _ => out.null(),
        },
        BlockOp::ZPop { max } => {
            let popped = zset::pop_members(db, key, *max, 1);
            let Some((m, s)) = popped.first() else {
                return out.null_array();
            };
            out.array(3);
            out.bulk(key);
            out.bulk(m);
            out.double(*s);
        }
        BlockOp::ZMultiPop { max, count } => {
            let popped = zset::pop_members(db, key, *max, *count);
            zset::reply_popped(out, Some(key), &popped, true);
        }
        // Stream readers never pop: `serve_key_waiters` serves them through
        // `stream::serve_blocked`.
        BlockOp::XRead { .. } => out.null_array(),
    }
}

/// The reply of a blocking command that got nothing (timeout, or no data
/// inside MULTI or a script).
fn reply_nothing(out: &mut Reply, op: &BlockOp) {
    match op {
        BlockOp::Move { .. } => out.null(),
        _ => out.null_array(),
    }
}

/// Serves `op` from the first of `keys` that has data, in argument order.
/// Ok(false) if none has.
fn serve_first(
    db: &mut Store,
    keys: &[&[u8]],
    op: &BlockOp,
    out: &mut Reply,
    fill: Fill,
) -> Result<bool, WrongType> {
    for &key in keys {
        match probe(db, key, op) {
            Probe::Empty => continue,
            Probe::WrongSource | Probe::WrongDest => return Err(WrongType),
            Probe::Ready => {
                serve_key(db, key, op, out, fill);
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The non-blocking multi-key pops (LMPOP, ZMPOP): null when no key has data.
pub(super) fn pop_now(ctx: &mut Ctx, db: &mut Store, keys: &[&[u8]], op: BlockOp) {
    let fill = list::fill(ctx.srv);
    match serve_first(db, keys, &op, &mut ctx.out, fill) {
        Ok(true) => {}
        Ok(false) => reply_nothing(&mut ctx.out, &op),
        Err(WrongType) => ctx.wrong_type(),
    }
}

/// Serves at once, or blocks the client on `keys` until `deadline` (ms, 0 =
/// forever).
fn serve_or_block(ctx: &mut Ctx, db: &mut Store, keys: &[&[u8]], op: BlockOp, deadline: i64) {
    let fill = list::fill(ctx.srv);
    match serve_first(db, keys, &op, &mut ctx.out, fill) {
        Ok(true) => return,
        Err(WrongType) => return ctx.wrong_type(),
        Ok(false) => {}
    }
    // Inside MULTI/EXEC or a script a blocking command acts non-blocking.
    if ctx.client.no_block {
        return reply_nothing(&mut ctx.out, &op);
    }
    block(ctx, db, keys, op, deadline);
}

/// Parks the client on `keys` until one can serve `op` or `deadline` (ms,
/// 0 = forever) passes. The caller holds the keys' shards, so no write can
/// slip in between its check and the registration.
pub(super) fn block(ctx: &mut Ctx, db: &mut Store, keys: &[&[u8]], op: BlockOp, deadline: i64) {
    let mut owned: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
    for k in keys {
        if !owned.iter().any(|o| o == k) {
            owned.push(k.to_vec());
        }
    }
    let dbi = db.db;
    let (waiter, reply) = Waiter::new(ctx.client.id, dbi, ctx.client.resp, owned, op);
    let waiter = Arc::new(waiter);
    for key in &waiter.keys {
        let shard = db.guards.shard(shard_of(hash_key(key)));
        shard.blocked[dbi]
            .entry(key.clone())
            .or_default()
            .push_back(waiter.clone());
    }
    db.ks
        .blocked
        .fetch_add(waiter.keys.len(), Ordering::Relaxed);
    db.ks.blocked_clients.fetch_add(1, Ordering::Relaxed);
    *ctx.client.handle.blocked.lock() = Some(waiter.clone());
    ctx.client.blocked = Some(Blocked {
        waiter,
        reply,
        deadline_ms: deadline,
        silent: false,
    });
    ctx.client.after = After::Block;
}

/// Removes a waiter that is done (served, timed out, unblocked, or its
/// client left) from its keys, taking each key's shard lock in turn.
pub fn unregister(srv: &Server, waiter: &Arc<Waiter>) {
    let ks = &srv.keyspace;
    for key in &waiter.keys {
        let mut shard = ks.lock_shard(shard_of(hash_key(key)));
        remove_waiter(&mut shard.blocked[waiter.db], key, waiter, ks);
    }
    ks.blocked_clients.fetch_sub(1, Ordering::Relaxed);
}

fn remove_waiter(
    map: &mut std::collections::HashMap<Vec<u8>, std::collections::VecDeque<Arc<Waiter>>>,
    key: &[u8],
    waiter: &Arc<Waiter>,
    ks: &crate::store::Keyspace,
) {
    if let Some(q) = map.get_mut(key) {
        let before = q.len();
        q.retain(|w| !Arc::ptr_eq(w, waiter));
        ks.blocked.fetch_sub(before - q.len(), Ordering::Relaxed);
        if q.is_empty() {
            map.remove(key);
        }
    }
}

/// Serves the clients blocked on the keys this command wrote, longest
/// waiting first, while the keys have data. Serving a BLMOVE writes its
/// destination, which may serve further clients in turn.
pub fn serve_ready(srv: &Server, db: &mut Store) {
    let fill = list::fill(srv);
    let own_db = db.db;
    while !db.ready.is_empty() {
        for (dbi, key) in std::mem::take(&mut db.ready) {
            db.db = dbi;
            serve_key_waiters(db, &key, fill);
        }
    }
    db.db = own_db;
}

fn serve_key_waiters(db: &mut Store, key: &[u8], fill: Fill) {
    let idx = shard_of(hash_key(key));
    let dbi = db.db;
    let waiters: Vec<Arc<Waiter>> = match db.guards.shard(idx).blocked[dbi].get(key) {
        Some(q) => q.iter().cloned().collect(),
        None => return,
    };
    for w in waiters {
        if w.is_waiting() && w.op.reads_stream() {
            // Reading does not consume: serve every reader the key satisfies.
            if !stream::ready_for(db, key, &w) || !w.claim() {
                continue;
            }
            let mut buf = Vec::new();
            stream::serve_blocked(db, key, &w, &mut Reply::new(&mut buf, w.resp));
            w.send(buf);
        } else if w.is_waiting() {
            if let BlockOp::Move { dst, .. } = &w.op {
                db.guards.ensure(db.ks, shard_of(hash_key(dst)));
            }
            match probe(db, key, &w.op) {
                // Stream readers behind may still be served.
                Probe::Empty | Probe::WrongSource => continue,
                Probe::WrongDest => continue,
                Probe::Ready => {}
            }
            if !w.claim() {
                continue;
            }
            let mut buf = Vec::new();
            serve_key(db, key, &w.op, &mut Reply::new(&mut buf, w.resp), fill);
            w.send(buf);
        }
        let ks = db.ks;
        remove_waiter(&mut db.guards.shard(idx).blocked[dbi], key, &w, ks);
    }
}

/// Redis's timeout argument: seconds as a float, 0 = forever. The deadline
/// in ms, or None after replying the error.
fn deadline_arg(ctx: &mut Ctx, arg: &[u8]) -> Option<i64> {
    let Some(ms) = crate::util::timeout_ms(arg) else {
        ctx.out.err("timeout is not a float or out of range");
        return None;
    };
    if ms < 0 {
        ctx.out.err("timeout is negative");
        return None;
    }
    if ms == 0 {
        return Some(0);
    }
    // Redis 7.0 has no upper bound: a deadline past the end of time is
    // simply never reached.
    Some(crate::util::now_ms().saturating_add(ms))
}

fn bpop(ctx: &mut Ctx, db: &mut Store, front: bool) {
    let args = ctx.args;
    let Some(deadline) = deadline_arg(ctx, args[args.len() - 1]) else {
        return;
    };
    serve_or_block(
        ctx,
        db,
        &args[1..args.len() - 1],
        BlockOp::Pop { front },
        deadline,
    );
}

pub fn blpop(ctx: &mut Ctx, db: &mut Store) {
    bpop(ctx, db, true);
}

pub fn brpop(ctx: &mut Ctx, db: &mut Store) {
    bpop(ctx, db, false);
}

fn bmove(ctx: &mut Ctx, db: &mut Store, from_front: bool, to_front: bool, timeout: &[u8]) {
    let Some(deadline) = deadline_arg(ctx, timeout) else {
        return;
    };
    let (src, dst) = (ctx.args[1], ctx.args[2]);
    let op = BlockOp::Move {
        dst: dst.to_vec(),
        from_front,
        to_front,
    };
    serve_or_block(ctx, db, &[src], op, deadline);
}

pub fn brpoplpush(ctx: &mut Ctx, db: &mut Store) {
    let timeout = ctx.args[3];
    bmove(ctx, db, false, true, timeout);
}

pub fn blmove(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let Some(from_front) = list::parse_end(ctx, args[3]) else {
        return;
    };
    let Some(to_front) = list::parse_end(ctx, args[4]) else {
        return;
    };
    bmove(ctx, db, from_front, to_front, args[5]);
}

fn bzpop(ctx: &mut Ctx, db: &mut Store, max: bool) {
    let args = ctx.args;
    let Some(deadline) = deadline_arg(ctx, args[args.len() - 1]) else {
        return;
    };
    serve_or_block(
        ctx,
        db,
        &args[1..args.len() - 1],
        BlockOp::ZPop { max },
        deadline,
    );
}

pub fn bzpopmin(ctx: &mut Ctx, db: &mut Store) {
    bzpop(ctx, db, false);
}

pub fn bzpopmax(ctx: &mut Ctx, db: &mut Store) {
    bzpop(ctx, db, true);
}

/// The arguments of LMPOP/ZMPOP and their blocking forms, from the numkeys
/// argument at `at`: the keys, which end (true = LEFT/MAX, given by `ends`)
/// and the count. None after replying the error.
pub(super) fn mpop_args<'a>(
    ctx: &mut Ctx<'a>,
    at: usize,
    ends: [&str; 2],
) -> Option<(&'a [&'a [u8]], bool, usize)> {
    let args = ctx.args;
    let numkeys = match parse_i64(args[at]).filter(|&n| n >= 1) {
        Some(n) => n as u64,
        None => {
            ctx.out.err("numkeys should be greater than 0");
            return None;
        }
    };
    let where_at = match usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(at + 1))
    {
        Some(i) if i < args.len() => i,
        _ => {
            ctx.syntax_error();
            return None;
        }
    };
    let first = if eq_ignore_case(args[where_at], ends[0]) {
        true
    } else if eq_ignore_case(args[where_at], ends[1]) {
        false
    } else {
        ctx.syntax_error();
        return None;
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < args.len() {
        if count.is_none() && j + 1 < args.len() && eq_ignore_case(args[j], "count") {
            match parse_i64(args[j + 1]).filter(|&n| n >= 1) {
                Some(n) => count = Some(n as usize),
                None => {
                    ctx.out.err("count should be greater than 0");
                    return None;
                }
            }
            j += 2;
        } else {
            ctx.syntax_error();
            return None;
        }
    }
    Some((&args[at + 1..where_at], first, count.unwrap_or(1)))
}

pub fn blmpop(ctx: &mut Ctx, db: &mut Store) {
    // Redis reads numkeys, the direction and COUNT before the timeout.
    let Some((keys, front, count)) = mpop_args(ctx, 2, ["left", "right"]) else {
        return;
    };
    let Some(deadline) = deadline_arg(ctx, ctx.args[1]) else {
        return;
    };
    serve_or_block(ctx, db, keys, BlockOp::MultiPop { front, count }, deadline);
}

pub fn bzmpop(ctx: &mut Ctx, db: &mut Store) {
    // Redis reads numkeys, the direction and COUNT before the timeout.
    let Some((keys, min, count)) = mpop_args(ctx, 2, ["min", "max"]) else {
        return;
    };
    let Some(deadline) = deadline_arg(ctx, ctx.args[1]) else {
        return;
    };
    serve_or_block(
        ctx,
        db,
        keys,
        BlockOp::ZMultiPop { max: !min, count },
        deadline,
    );
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]
pub fn client_unblock(ctx: &mut Ctx, _: &mut Store) {
    let args = ctx.args;
    let Some(id) = parse_i64(args[2]) else {
        return ctx.not_integer();
    };
    let as_error = match args.get(3) {
        None => false,
        Some(a) if eq_ignore_case(a, "timeout") => false,
        Some(a) if eq_ignore_case(a, "error") => true,
        Some(_) => {
            return ctx
                .out
                .err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
        }
    };
    if args.len() > 4 {
        return super::server::subcommand_syntax_error(ctx, "CLIENT");
    }
    let waiter = u64::try_from(id)
        .ok()
        .and_then(|id| ctx.srv.clients.get(id))
        .and_then(|h| h.blocked.lock().clone());
    let Some(w) = waiter.filter(|w| w.claim()) else {
        return ctx.out.int(0);
    };
    let reply = if as_error {
        let mut buf = Vec::new();
        Reply::new(&mut buf, w.resp).error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
        buf
    } else {
        timeout_reply(&w)
    };
    w.send(reply);
    ctx.out.int(1);
}

/// What a blocked client gets when its timeout passes first (or CLIENT
/// UNBLOCK ... TIMEOUT): a null array, whatever the command (so BLMOVE's
/// differs from its reply inside MULTI, as in Redis).
pub fn timeout_reply(waiter: &Waiter) -> Vec<u8> {
    let mut buf = Vec::new();
    Reply::new(&mut buf, waiter.resp).null_array();
    buf
}
