//! Operations commands: MONITOR, SLOWLOG, CLIENT PAUSE/UNPAUSE. The monitor feed and the log
//! itself live in `crate::monitor` and `crate::slowlog`; `commands::call`
//! feeds both.

use super::Ctx;
use crate::server::{Client, Server};
use crate::store::Store;
use std::sync::atomic::Ordering;

pub fn monitor(ctx: &mut Ctx, _: &mut Store) {
    if ctx.client.no_block {
        return ctx
            .out
            .err("MONITOR isn't allowed for DENY BLOCKING client");
    }
    // Redis ignores MONITOR from a monitor, without a reply.
    if ctx.client.monitor {
        return;
    }
    let me = ctx.client.subs_mut().me.clone();
    ctx.srv.monitors.add(me);
    ctx.client.monitor = true;
    ctx.client.handle.monitor.store(true, Ordering::Relaxed);
    ctx.out.ok();
}

/// Leaves MONITOR mode (RESET, disconnect).
pub fn stop_monitor(srv: &Server, client: &mut Client) {
    if !client.monitor {
        return;
    }
    if let Some(subs) = client.subs.as_ref() {
        srv.monitors.remove(&subs.me);
    }
    client.monitor = false;
    client.handle.monitor.store(false, Ordering::Relaxed);
}

pub fn slowlog_get(ctx: &mut Ctx, _: &mut Store) {
    if ctx.args.len() > 3 {
        return super::server::subcommand_syntax_error(ctx, "SLOWLOG");
    }
    let count = match ctx.args.get(2) {
        None => Some(10),
        Some(a) => match crate::util::parse_i64(a) {
            Some(-1) => None,
            Some(n) if n >= 0 => Some(n as usize),
            _ => return ctx.out.err("count should be greater than or equal to -1"),
        },
    };
    let out = &mut ctx.out;
    ctx.srv.slowlog.with_entries(count, |entries| {
        out.array(entries.len());
        for e in entries {
            out.array(6);
            out.int(e.id);
            out.int(e.time);
            out.int(e.duration_us);
            out.bulks(e.argv.iter().map(|a| a.as_slice()));
            out.bulk(e.addr.as_bytes());
            out.bulk(&e.name);
        }
    });
}

pub fn slowlog_len(ctx: &mut Ctx, _: &mut Store) {
    ctx.out.int(ctx.srv.slowlog.len() as i64);
}

pub fn slowlog_reset(ctx: &mut Ctx, _: &mut Store) {
    ctx.srv.slowlog.reset();
    ctx.out.ok();
}

pub fn slowlog_help(ctx: &mut Ctx, _: &mut Store) {
    super::server::help(
        ctx,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
}

/// CLIENT PAUSE timeout [WRITE|ALL]
pub fn client_pause(ctx: &mut Ctx, _: &mut Store) {
    use crate::server::pause::{ALL, WRITE};
    use crate::util::eq_ignore_case;
    if ctx.args.len() > 4 {
        return super::server::subcommand_syntax_error(ctx, "CLIENT");
    }
    let mode = match ctx.args.get(3) {
        None => ALL,
        Some(m) if eq_ignore_case(m, "write") => WRITE,
        Some(m) if eq_ignore_case(m, "all") => ALL,
        Some(_) => return ctx.out.err("CLIENT PAUSE mode must be WRITE or ALL"),
    };
    let ms = match crate::util::parse_i64(ctx.args[2]) {
        None => return ctx.out.err("timeout is not an integer or out of range"),
        Some(ms) if ms < 0 => return ctx.out.err("timeout is negative"),
        Some(ms) => ms,
    };
    // A zero timeout pauses nothing, as in Redis.
    let until = if ms == 0 {
        0
    } else {
        crate::util::now_ms().saturating_add(ms)
    };
    ctx.srv.pause.start(mode, until);
    ctx.out.ok();
}

pub fn client_unpause(ctx: &mut Ctx, _: &mut Store) {
    ctx.srv.pause.end();
    ctx.out.ok();
}
