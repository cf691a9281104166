//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Queued commands are kept as owned arguments. EXEC locks every shard (in
//! the fixed order, like any multi-key command) and runs the queue with that
//! one set of locks, so no other client sees a partial transaction, whatever
//! keys and databases it touches. WATCH registers the client's dirty flag on
//! each key in its shard; every write path in `Store` raises the flags of the
//! key's watchers.

use super::table::f;
use super::{lookup, After, CommandSpec, Ctx};
use crate::protocol::Reply;
use crate::server::{Client, MultiState};
use crate::store::{hash_key, shard_of, Store};
use smallvec::SmallVec;
use std::sync::atomic::Ordering;

/// Commands that act on the transaction itself instead of being queued.
fn runs_immediately(cmd: &CommandSpec) -> bool {
    matches!(
        cmd.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Queues the command if the client is inside MULTI; true if it was handled.
pub fn queue(
    client: &mut Client,
    cmd: &'static CommandSpec,
    args: &[&[u8]],
    out: &mut Reply,
) -> bool {
    if runs_immediately(cmd) {
        return false;
    }
    let Some(multi) = client.multi.as_mut() else {
        return false;
    };
    if cmd.has(f::NO_MULTI) {
        multi.aborted = true;
        out.err("Command not allowed inside a transaction");
        return true;
    }
    multi.queue.push(args.iter().map(|a| a.to_vec()).collect());
    out.simple("QUEUED");
    true
}

/// A command was refused while queueing (unknown, wrong arity).
pub fn abort_queueing(client: &mut Client) {
    if let Some(m) = client.multi.as_mut() {
        m.aborted = true;
    }
}

pub fn multi(ctx: &mut Ctx, _: &mut Store) {
    if ctx.client.multi.is_some() {
        return ctx.out.err("MULTI calls can not be nested");
    }
    ctx.client.multi = Some(MultiState::default());
    ctx.out.ok();
}

pub fn discard(ctx: &mut Ctx, db: &mut Store) {
    if ctx.client.multi.take().is_none() {
        return ctx.out.err("DISCARD without MULTI");
    }
    unwatch_all(ctx.client, db);
    ctx.out.ok();
}

pub fn exec(ctx: &mut Ctx, _: &mut Store) {
    let Some(multi) = ctx.client.multi.take() else {
        return ctx.out.err("EXEC without MULTI");
    };
    let ks = &ctx.srv.keyspace;
    if multi.aborted {
        unwatch_all(ctx.client, &mut Store::new(ks, ks.lock_none(), 0, 0));
        return ctx
            .out
            .error("EXECABORT Transaction discarded because of previous errors.");
    }
    let mut all = Store::new(ks, ks.lock_all(), ctx.client.db, crate::util::now_ms());
    let conflict =
        ctx.client.watch_dirty.load(Ordering::Relaxed) || watched_key_expired(ctx.client, &mut all);
    unwatch_all(ctx.client, &mut all);
    if conflict {
        return ctx.out.null_array();
    }
    ctx.out.array(multi.queue.len());
    ctx.client.no_block = true;
    for argv in &multi.queue {
        let args: SmallVec<[&[u8]; 16]> = argv.iter().map(|a| a.as_slice()).collect();
        let Some(cmd) = lookup(&args) else { continue };
        all.db = ctx.client.db;
        all.now = crate::util::now_ms();
        let resp = ctx.client.resp;
        let mut inner = Ctx {
            srv: ctx.srv,
            client: &mut *ctx.client,
            out: Reply::new(&mut *ctx.out.buf, resp),
            args: &args,
            cmd,
        };
        super::call(&mut inner, &mut all, false);
        // Connection-level effects (QUIT/SHUTDOWN cannot be queued) are kept
        // for after the whole transaction.
        if inner.client.after != After::Continue {
            ctx.client.after = inner.client.after;
        }
        ctx.out.resp = ctx.client.resp;
    }
    ctx.client.no_block = false;
    if !all.ready.is_empty() {
        super::blocking::serve_ready(ctx.srv, &mut all);
    }
}

/// Redis 7 also fails EXEC when a watched key expired after WATCH.
fn watched_key_expired(client: &Client, all: &mut Store) -> bool {
    let now = all.now;
    client.watched.iter().any(|(db, key, expired_before)| {
        !expired_before && {
            let h = hash_key(key);
            all.dict_in(*db, h)
                .get(key, h)
                .is_some_and(|e| e.is_expired(now))
        }
    })
}

pub fn watch(ctx: &mut Ctx, db: &mut Store) {
    if ctx.client.multi.is_some() {
        return ctx.out.err("WATCH inside MULTI is not allowed");
    }
    let dbi = db.db;
    let now = db.now;
    for key in &ctx.args[1..] {
        if ctx
            .client
            .watched
            .iter()
            .any(|(d, k, _)| *d == dbi && k == key)
        {
            continue;
        }
        let h = hash_key(key);
        let shard = db.guards.shard(shard_of(h));
        let expired = shard.dbs[dbi]
            .get(key, h)
            .is_some_and(|e| e.is_expired(now));
        shard.watched[dbi]
            .entry(key.to_vec())
            .or_default()
            .push(ctx.client.watch_dirty.clone());
        ctx.srv.keyspace.watches.fetch_add(1, Ordering::Relaxed);
        ctx.client.watched.push((dbi, key.to_vec(), expired));
    }
    ctx.out.ok();
}

pub fn unwatch(ctx: &mut Ctx, db: &mut Store) {
    unwatch_all(ctx.client, db);
    ctx.out.ok();
}

/// Drops all of the client's WATCH registrations and clears its dirty flag,
/// using the locks `db` holds (all of them inside EXEC) or taking them.
pub fn unwatch_all(client: &mut Client, db: &mut Store) {
    let watched = std::mem::take(&mut client.watched);
    let flag = client.watch_dirty.clone();
    for (dbi, key, _) in &watched {
        db.with_shard(shard_of(hash_key(key)), |shard| {
            if let Some(list) = shard.watched[*dbi].get_mut(key.as_slice()) {
                list.retain(|f| !std::sync::Arc::ptr_eq(f, &flag));
                if list.is_empty() {
                    shard.watched[*dbi].remove(key.as_slice());
                }
            }
        });
        db.ks.watches.fetch_sub(1, Ordering::Relaxed);
    }
    flag.store(false, Ordering::Relaxed);
}
