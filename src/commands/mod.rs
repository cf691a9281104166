//! Command dispatch. `table.rs` is the one command table (name, arity, flags,
//! key positions, ACL categories, handler); each command family has its own
//! module. `execute` looks the command up, checks auth and arity, locks the
//! shards of the command's keys and calls its handler.

pub mod bitmap;
pub mod blocking;
pub mod bloom;
pub mod connection;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod list;
pub mod meta;
pub mod ops;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod table;
pub mod transaction;
pub mod zset;

use crate::config;
use crate::protocol::Reply;
use crate::server::{Client, Server};
use crate::store::Store;
use smallvec::SmallVec;

pub use table::{lookup, CommandSpec, Handler};

/// Everything a handler sees besides the keyspace.
pub struct Ctx<'a> {
    pub srv: &'a Server,
    pub client: &'a mut Client,
    pub out: Reply<'a>,
    pub args: &'a [&'a [u8]],
    pub cmd: &'static CommandSpec,
}

impl<'a> Ctx<'a> {
    pub fn syntax_error(&mut self) {
        self.out.err("syntax error");
    }

    pub fn wrong_type(&mut self) {
        self.out
            .error("WRONGTYPE Operation against a key holding the wrong kind of value");
    }

    pub fn not_integer(&mut self) {
        self.out.err("value is not an integer or out of range");
    }

    pub fn arity_error(&mut self) {
        let msg = format!(
            "wrong number of arguments for '{}' command",
            self.cmd.fullname()
        );
        self.out.err(&msg);
    }

    /// Parses argument `i` as an integer, replying with Redis's error if it is not one.
    pub fn int_arg(&mut self, i: usize) -> Option<i64> {
        let v = crate::util::parse_i64(self.args[i]);
        if v.is_none() {
            self.not_integer();
        }
        v
    }
}

/// What the connection must do after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Continue,
    /// Send what is buffered, then close (QUIT, CLIENT KILL of oneself).
    Close,
    /// Stop the server (SHUTDOWN).
    Shutdown,
    /// Park until the blocking command in `Client::blocked` is served or
    /// times out; later pipelined commands wait for it.
    Block,
    /// CLIENT PAUSE holds the command back: it did not run and must run
    /// again, from the same bytes, once the pause ends.
    Postponed,
}

/// How far a command got, for INFO commandstats/errorstats.
pub enum Stage {
    Unknown,
    Rejected(&'static CommandSpec),
    Queued,
    Postponed,
    Ran(&'static CommandSpec, std::time::Duration),
}

/// Runs one command, appending its reply to `out`.
pub fn execute(srv: &Server, client: &mut Client, args: &[&[u8]], out: &mut Vec<u8>) -> After {
    let start = out.len();
    let (after, stage) = dispatch(srv, client, args, out);
    if after != After::Postponed {
        srv.stats.commands.incr();
    }
    srv.stats.record(&stage, &out[start..]);
    after
}

fn dispatch(
    srv: &Server,
    client: &mut Client,
    args: &[&[u8]],
    out: &mut Vec<u8>,
) -> (After, Stage) {
    let resp = client.resp;
    let mut reply = Reply::new(out, resp);
    let Some(cmd) = lookup(args) else {
        reject_unknown(&mut reply, args);
        transaction::abort_queueing(client);
        return (After::Continue, Stage::Unknown);
    };
    if !cmd.arity_ok(args.len()) {
        transaction::abort_queueing(client);
        reply.err(&format!(
            "wrong number of arguments for '{}' command",
            cmd.fullname()
        ));
        return (After::Continue, Stage::Rejected(cmd));
    }
    if cmd.has(table::f::PROTECTED)
        && !server::protected_allowed(srv, client, config::ENABLE_DEBUG_COMMAND)
    {
        reply.err("DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
        return (After::Continue, Stage::Rejected(cmd));
    }
    if !client.authenticated && !cmd.has(table::f::NO_AUTH) && srv.auth_required() {
        reply.error("NOAUTH Authentication required.");
        return (After::Continue, Stage::Rejected(cmd));
    }
    if client.resp == 2 && client.subscriptions() > 0 && !pubsub::allowed_when_subscribed(cmd.name)
    {
        transaction::abort_queueing(client);
        reply.err(&format!(
            "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            cmd.fullname()
        ));
        return (After::Continue, Stage::Rejected(cmd));
    }
    if client.monitor && cmd.has(table::f::WRITE | table::f::READONLY) {
        transaction::abort_queueing(client);
        reply.err("Replica can't interact with the keyspace");
        return (After::Continue, Stage::Rejected(cmd));
    }
    client.handle.set_last_command(cmd);
    if srv.scripts.busy.running() && !cmd.has(table::f::ALLOW_BUSY) {
        let threshold = srv.config.read().num(config::BUSY_REPLY_THRESHOLD);
        if let Some(busy) = srv.scripts.busy.wait(threshold) {
            transaction::abort_queueing(client);
            reply.error(busy);
            return (After::Continue, Stage::Rejected(cmd));
        }
    }
    if srv.pause.mode() != 0 && paused(srv, client, cmd, args) {
        return (After::Postponed, Stage::Postponed);
    }
    if client.multi.is_some() && transaction::queue(client, cmd, args, &mut reply) {
        return (After::Continue, Stage::Queued);
    }
    let now = crate::util::now_ms();
    let ks = &srv.keyspace;
    let guards = if cmd.locks_all(args) {
        ks.lock_all()
    } else {
        let keys = cmd.key_indices(args);
        if keys.is_empty() {
            ks.lock_none()
        } else {
            ks.lock_keys(keys.iter().map(|&i| args[i]))
        }
    };
    let mut store = Store::new(ks, guards, client.db, now);
    let mut ctx = Ctx {
        srv,
        client,
        out: reply,
        args,
        cmd,
    };
    let took = call(&mut ctx, &mut store, false);
    if !store.ready.is_empty() {
        blocking::serve_ready(srv, &mut store);
    }
    let after = ctx.client.after;
    ctx.client.after = After::Continue;
    (after, Stage::Ran(cmd, took))
}

/// Whether the pause in force holds `cmd` back, as in Redis 7.0: under ALL
/// every command, under WRITE those that may write or propagate (checked
/// before MULTI queues them, so an EXEC can only hold writes queued before
/// the pause). Monitors, being replicas to Redis, are never paused.
#[cold]
fn paused(srv: &Server, client: &Client, cmd: &CommandSpec, args: &[&[u8]]) -> bool {
    if client.monitor {
        return false;
    }
    if srv.pause.mode() == crate::server::pause::ALL {
        return true;
    }
    may_write(srv, cmd, args)
        || (cmd.name == "exec"
            && client.multi.as_ref().is_some_and(|m| {
                m.queue.iter().any(|argv| {
                    let args: SmallVec<[&[u8]; 16]> = argv.iter().map(|a| a.as_slice()).collect();
                    lookup(&args).is_some_and(|c| may_write(srv, c, &args))
                })
            }))
}

/// Whether a command may write or propagate; for scripts, what they declare.
fn may_write(srv: &Server, cmd: &CommandSpec, args: &[&[u8]]) -> bool {
    use table::f::{MAY_REPLICATE, WRITE};
    srv.scripts
        .declares_writes(cmd.name, args)
        .unwrap_or_else(|| cmd.has(WRITE | MAY_REPLICATE))
}

/// Runs the handler of `ctx.cmd` as Redis's call() does: shows the command
/// to MONITOR clients and logs it in the SLOWLOG when slow enough. `script`
/// marks a `redis.call` from a script. Returns how long the handler ran.
#[inline]
pub fn call(ctx: &mut Ctx, store: &mut Store, script: bool) -> std::time::Duration {
    use crate::monitor::Feed;
    let (srv, cmd) = (ctx.srv, ctx.cmd);
    let feed = if srv.monitors.active() {
        crate::monitor::feed_point(cmd)
    } else {
        Feed::Never
    };
    if feed == Feed::Before {
        monitor(ctx, script);
    }
    let started = std::time::Instant::now();
    (cmd.handler)(ctx, store);
    let took = started.elapsed();
    if feed == Feed::After {
        monitor(ctx, script);
    }
    let us = took.as_micros() as i64;
    if srv.slowlog.wants(us) && !cmd.has(table::f::SKIP_SLOWLOG) {
        slowlog(ctx, us, script);
    }
    took
}

#[cold]
fn monitor(ctx: &Ctx, script: bool) {
    use crate::monitor::Origin;
    let origin = if script {
        Origin::Script
    } else {
        Origin::Client(&ctx.client.handle.addr)
    };
    ctx.srv
        .monitors
        .feed(ctx.client.db, origin, ctx.cmd, ctx.args);
}

/// Script commands are logged as Redis's fake Lua client: no address, no
/// name.
#[cold]
fn slowlog(ctx: &Ctx, us: i64, script: bool) {
    let (addr, name) = if script {
        ("?:0".to_string(), Vec::new())
    } else {
        let h = &ctx.client.handle;
        (h.addr.clone(), h.name.lock().clone().unwrap_or_default())
    };
    let redacted = crate::monitor::redacted(ctx.cmd, ctx.args);
    ctx.srv.slowlog.push(ctx.args, &redacted, us, addr, name);
}

fn reject_unknown(reply: &mut Reply, args: &[&[u8]]) {
    let name = truncate(args[0], 128);
    let mut msg = b"ERR ".to_vec();
    if args.len() >= 2 && table::is_container(args[0]) {
        msg.extend_from_slice(b"unknown subcommand '");
        msg.extend_from_slice(truncate(args[1], 128));
        msg.extend_from_slice(b"'. Try ");
        msg.extend(name.iter().map(|c| c.to_ascii_uppercase()));
        msg.extend_from_slice(b" HELP.");
    } else {
        msg.extend_from_slice(b"unknown command '");
        msg.extend_from_slice(name);
        msg.extend_from_slice(b"', with args beginning with: ");
        let mut listed = 0;
        for a in &args[1..] {
            if listed >= 128 {
                break;
            }
            let part = truncate(a, 128 - listed);
            msg.push(b'\'');
            msg.extend_from_slice(part);
            msg.extend_from_slice(b"' ");
            listed += part.len() + 3;
        }
    }
    reply.error_bytes(&msg);
}

/// At most `n` bytes, cut at the first NUL as C's `%s` would.
pub fn truncate(b: &[u8], n: usize) -> &[u8] {
    let b = &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())];
    &b[..b.len().min(n)]
}

/// Indices of the arguments that are keys.
pub type KeyIndices = SmallVec<[usize; 8]>;
