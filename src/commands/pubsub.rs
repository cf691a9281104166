//! Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH
//! and PUBSUB. The registry and delivery live in `crate::pubsub`.

use super::Ctx;
use crate::pubsub::{PubSub, Space, Subscriptions};
use crate::store::Store;
use bytes::Bytes;
use std::collections::HashSet;

/// The commands a RESP2 client may run while subscribed.
pub fn allowed_when_subscribed(name: &str) -> bool {
    matches!(
        name,
        "subscribe"
            | "unsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ssubscribe"
            | "sunsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// `[kind, name, count]`: Redis's subscription confirmation, a push in RESP3.
/// Shard confirmations count shard channels only; the others count
/// channels plus patterns, as in Redis 7.0.
fn confirm(ctx: &mut Ctx, kind: &[u8], name: Option<&[u8]>) {
    let count = ctx.client.subs.as_ref().map_or(0, |s| {
        if matches!(kind, b"ssubscribe" | b"sunsubscribe") {
            s.shard_channels.len()
        } else {
            s.count()
        }
    });
    ctx.out.push(3);
    ctx.out.bulk(kind);
    match name {
        Some(n) => ctx.out.bulk(n),
        None => ctx.out.null(),
    }
    ctx.out.int(count as i64);
}

type Change = fn(&PubSub, &mut Subscriptions, &[u8]) -> bool;

/// (P|S)SUBSCRIBE: one confirmation per argument.
fn add(ctx: &mut Ctx, kind: &[u8], op: Change) {
    let (srv, args) = (ctx.srv, ctx.args);
    let registry = &srv.keyspace.pubsub;
    for name in &args[1..] {
        op(registry, ctx.client.subs_mut(), name);
        ctx.client.sync_sub_counts();
        confirm(ctx, kind, Some(name));
    }
}

/// (P|S)UNSUBSCRIBE: one confirmation per argument, or per current
/// subscription in `current` without arguments (a null name when there is
/// none).
fn remove(ctx: &mut Ctx, kind: &[u8], op: Change, current: fn(&Subscriptions) -> &HashSet<Bytes>) {
    let srv = ctx.srv;
    let registry = &srv.keyspace.pubsub;
    let names: Vec<Vec<u8>> = if ctx.args.len() > 1 {
        ctx.args[1..].iter().map(|a| a.to_vec()).collect()
    } else {
        let Some(subs) = ctx.client.subs.as_ref() else {
            return confirm(ctx, kind, None);
        };
        let current = current(subs);
        if current.is_empty() {
            return confirm(ctx, kind, None);
        }
        current.iter().map(|b| b.to_vec()).collect()
    };
    for name in &names {
        if let Some(subs) = ctx.client.subs.as_mut() {
            op(registry, subs, name);
        }
        ctx.client.sync_sub_counts();
        confirm(ctx, kind, Some(name));
    }
}

pub fn subscribe(ctx: &mut Ctx, _: &mut Store) {
    add(ctx, b"subscribe", PubSub::subscribe);
}

pub fn psubscribe(ctx: &mut Ctx, _: &mut Store) {
    add(ctx, b"psubscribe", PubSub::psubscribe);
}

pub fn unsubscribe(ctx: &mut Ctx, _: &mut Store) {
    remove(ctx, b"unsubscribe", PubSub::unsubscribe, |s| &s.channels);
}

pub fn punsubscribe(ctx: &mut Ctx, _: &mut Store) {
    remove(ctx, b"punsubscribe", PubSub::punsubscribe, |s| &s.patterns);
}

/// Redis 7.0 refuses SSUBSCRIBE inside MULTI (where SUBSCRIBE is allowed).
pub fn ssubscribe(ctx: &mut Ctx, _: &mut Store) {
    if ctx.client.no_block {
        return ctx
            .out
            .err("SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    }
    add(ctx, b"ssubscribe", PubSub::ssubscribe);
}

pub fn sunsubscribe(ctx: &mut Ctx, _: &mut Store) {
    remove(ctx, b"sunsubscribe", PubSub::sunsubscribe, |s| {
        &s.shard_channels
    });
}

/// Drops all of a client's subscriptions, silently (RESET, disconnect).
pub fn unsubscribe_all(srv: &crate::server::Server, client: &mut crate::server::Client) {
    if let Some(subs) = client.subs.as_mut() {
        srv.keyspace.pubsub.unsubscribe_all(subs);
        client.sync_sub_counts();
    }
}

pub fn publish(ctx: &mut Ctx, _: &mut Store) {
    publish_in(ctx, Space::Channels);
}

pub fn spublish(ctx: &mut Ctx, _: &mut Store) {
    publish_in(ctx, Space::Shard);
}

fn publish_in(ctx: &mut Ctx, space: Space) {
    let n = ctx.srv.keyspace.pubsub.publish(
        space,
        ctx.args[1],
        ctx.args[2],
        ctx.client.id,
        Some(&mut ctx.out),
    );
    ctx.out.int(n as i64);
}

pub fn pubsub_channels(ctx: &mut Ctx, _: &mut Store) {
    channels(ctx, Space::Channels);
}

pub fn pubsub_shardchannels(ctx: &mut Ctx, _: &mut Store) {
    channels(ctx, Space::Shard);
}

fn channels(ctx: &mut Ctx, space: Space) {
    if ctx.args.len() > 3 {
        return super::server::subcommand_syntax_error(ctx, "PUBSUB");
    }
    let channels = ctx
        .srv
        .keyspace
        .pubsub
        .channels(space, ctx.args.get(2).copied());
    ctx.out.bulks(channels.iter().map(|c| c.as_ref()));
}

pub fn pubsub_numsub(ctx: &mut Ctx, _: &mut Store) {
    numsub(ctx, Space::Channels);
}

pub fn pubsub_shardnumsub(ctx: &mut Ctx, _: &mut Store) {
    numsub(ctx, Space::Shard);
}

fn numsub(ctx: &mut Ctx, space: Space) {
    let (args, registry) = (ctx.args, &ctx.srv.keyspace.pubsub);
    ctx.out.array(2 * (args.len() - 2));
    for c in &args[2..] {
        ctx.out.bulk(c);
        ctx.out.int(registry.numsub(space, c) as i64);
    }
}

pub fn pubsub_numpat(ctx: &mut Ctx, _: &mut Store) {
    ctx.out.int(ctx.srv.keyspace.pubsub.numpat() as i64);
}

pub fn pubsub_help(ctx: &mut Ctx, _: &mut Store) {
    super::server::help(
        ctx,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
}
