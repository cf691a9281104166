//! Connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT, CLIENT.

use super::{After, Ctx};
use crate::config;
use crate::server::{ReplyMode, REDIS_VERSION};
use crate::store::Store;
use crate::util::{eq_ignore_case, now_ms, parse_i64};
use std::sync::atomic::Ordering;

pub fn ping(ctx: &mut Ctx, _: &mut Store) {
    // A subscribed RESP2 client can only read push-shaped replies.
    if ctx.client.resp == 2 && ctx.client.subscriptions() > 0 && ctx.args.len() <= 2 {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        return ctx.out.bulk(ctx.args.get(1).copied().unwrap_or_default());
    }
    match ctx.args.len() {
        1 => ctx.out.simple("PONG"),
        2 => ctx.out.bulk(ctx.args[1]),
        _ => ctx.arity_error(),
    }
}

pub fn echo(ctx: &mut Ctx, _: &mut Store) {
    ctx.out.bulk(ctx.args[1]);
}

pub fn quit(ctx: &mut Ctx, _: &mut Store) {
    ctx.out.ok();
    ctx.client.after = After::Close;
}

pub fn reset(ctx: &mut Ctx, db: &mut Store) {
    ctx.client.multi = None;
    super::transaction::unwatch_all(ctx.client, db);
    super::pubsub::unsubscribe_all(ctx.srv, ctx.client);
    super::ops::stop_monitor(ctx.srv, ctx.client);
    ctx.client.select(0);
    ctx.client.set_resp(2);
    ctx.client.reply_mode = ReplyMode::On;
    *ctx.client.handle.name.lock() = None;
    ctx.client.handle.no_evict.store(false, Ordering::Relaxed);
    ctx.client.authenticated = !ctx.srv.auth_required();
    ctx.out.resp = 2;
    ctx.out.simple("RESET");
}

/// Checks a password for `user` (only the default user exists until ACLs land).
fn password_matches(ctx: &Ctx, user: &[u8], pass: &[u8]) -> bool {
    let cfg = ctx.srv.config.read();
    let required = cfg.text(config::REQUIREPASS).as_bytes();
    // Without requirepass the default user is `nopass`: any password works.
    user == b"default" && (required.is_empty() || required == pass)
}

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

pub fn auth(ctx: &mut Ctx, _: &mut Store) {
    let (user, pass): (&[u8], &[u8]) = match ctx.args.len() {
        2 => {
            if !ctx.srv.auth_required() {
                ctx.out.err("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
                return;
            }
            (b"default", ctx.args[1])
        }
        3 => (ctx.args[1], ctx.args[2]),
        _ => return ctx.syntax_error(),
    };
    if password_matches(ctx, user, pass) {
        ctx.client.authenticated = true;
        ctx.out.ok();
    } else {
        ctx.out.error(WRONGPASS);
    }
}

/// Client names may not contain spaces, newlines or special characters.
fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

const BAD_NAME: &str = "Client names cannot contain spaces, newlines or special characters.";

pub fn hello(ctx: &mut Ctx, _: &mut Store) {
    let mut version = 0;
    let mut i = 1;
    if ctx.args.len() >= 2 {
        match parse_i64(ctx.args[1]) {
            None => {
                return ctx
                    .out
                    .err("Protocol version is not an integer or out of range")
            }
            Some(v) if !(2..=3).contains(&v) => {
                return ctx.out.error("NOPROTO unsupported protocol version")
            }
            Some(v) => version = v as u8,
        }
        i = 2;
    }
    let mut credentials = None;
    let mut name = None;
    while i < ctx.args.len() {
        let more = ctx.args.len() - 1 - i;
        let opt = ctx.args[i];
        if eq_ignore_case(opt, "auth") && more >= 2 {
            credentials = Some((ctx.args[i + 1], ctx.args[i + 2]));
            i += 3;
        } else if eq_ignore_case(opt, "setname") && more >= 1 {
            if !valid_client_name(ctx.args[i + 1]) {
                return ctx.out.err(BAD_NAME);
            }
            name = Some(ctx.args[i + 1]);
            i += 2;
        } else {
            let msg = format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            );
            return ctx.out.err(&msg);
        }
    }
    if let Some((user, pass)) = credentials {
        if !password_matches(ctx, user, pass) {
            return ctx.out.error(WRONGPASS);
        }
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated {
        return ctx.out.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some(n) = name {
        *ctx.client.handle.name.lock() = if n.is_empty() { None } else { Some(n.to_vec()) };
    }
    if version != 0 {
        ctx.client.set_resp(version);
        ctx.out.resp = version;
    }
    let out = &mut ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(ctx.client.resp as i64);
    out.bulk(b"id");
    out.int(ctx.client.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
}

pub fn select(ctx: &mut Ctx, _: &mut Store) {
    let Some(db) = parse_i64(ctx.args[1]).filter(|v| i32::try_from(*v).is_ok()) else {
        return ctx.not_integer();
    };
    if db < 0 || db as usize >= ctx.srv.keyspace.databases() {
        return ctx.out.err("DB index is out of range");
    }
    ctx.client.select(db as usize);
    ctx.out.ok();
}

pub fn client_id(ctx: &mut Ctx, _: &mut Store) {
    ctx.out.int(ctx.client.id as i64);
}

pub fn client_setname(ctx: &mut Ctx, _: &mut Store) {
    let name = ctx.args[2];
    if !valid_client_name(name) {
        return ctx.out.err(BAD_NAME);
    }
    *ctx.client.handle.name.lock() = if name.is_empty() {
        None
    } else {
        Some(name.to_vec())
    };
    ctx.out.ok();
}

pub fn client_getname(ctx: &mut Ctx, _: &mut Store) {
    match ctx.client.handle.name.lock().as_deref() {
        Some(n) => ctx.out.bulk(n),
        None => ctx.out.null(),
    }
}

/// CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; redis-py sends it on connect).
pub fn client_setinfo(ctx: &mut Ctx, _: &mut Store) {
    let (attr, value) = (ctx.args[2], ctx.args[3]);
    let slot = if eq_ignore_case(attr, "lib-name") {
        &ctx.client.handle.lib_name
    } else if eq_ignore_case(attr, "lib-ver") {
        &ctx.client.handle.lib_ver
    } else {
        let msg = format!("Unrecognized option '{}'", String::from_utf8_lossy(attr));
        return ctx.out.err(&msg);
    };
    if !value.iter().all(|&c| (b'!'..=b'~').contains(&c)) {
        let msg = format!(
            "{} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(attr).to_ascii_lowercase()
        );
        return ctx.out.err(&msg);
    }
    *slot.lock() = if value.is_empty() {
        None
    } else {
        Some(value.to_vec())
    };
    ctx.out.ok();
}

pub fn client_info(ctx: &mut Ctx, _: &mut Store) {
    let mut line = ctx.client.handle.describe(now_ms());
    line.push('\n');
    ctx.out.verbatim("txt", line.as_bytes());
}

pub fn client_list(ctx: &mut Ctx, _: &mut Store) {
    let mut ids: Option<Vec<u64>> = None;
    let mut i = 2;
    while i < ctx.args.len() {
        if eq_ignore_case(ctx.args[i], "type") && i + 1 < ctx.args.len() {
            let Some(t) = client_type(ctx, ctx.args[i + 1]) else {
                return;
            };
            ids = Some(
                ctx.srv
                    .clients
                    .snapshot()
                    .iter()
                    .filter(|c| {
                        c.is_pubsub() == (t == ClientType::Pubsub) && t != ClientType::Replica
                    })
                    .map(|c| c.id)
                    .collect(),
            );
            i += 2;
        } else if eq_ignore_case(ctx.args[i], "id") && i + 1 < ctx.args.len() {
            let mut list = Vec::new();
            for a in &ctx.args[i + 1..] {
                match parse_i64(a) {
                    Some(id) if id > 0 => list.push(id as u64),
                    _ => return ctx.out.err("Invalid client ID"),
                }
            }
            ids = Some(list);
            i = ctx.args.len();
        } else {
            return ctx.syntax_error();
        }
    }
    let now = now_ms();
    let mut text = String::new();
    for c in ctx.srv.clients.snapshot() {
        if ids.as_ref().is_some_and(|l| !l.contains(&c.id)) {
            continue;
        }
        text.push_str(&c.describe(now));
        text.push('\n');
    }
    ctx.out.verbatim("txt", text.as_bytes());
}

pub fn client_kill(ctx: &mut Ctx, _: &mut Store) {
    let args = ctx.args;
    // Old form: CLIENT KILL addr:port.
    if args.len() == 3 {
        let addr = args[2];
        match ctx
            .srv
            .clients
            .snapshot()
            .into_iter()
            .find(|c| c.addr.as_bytes() == addr)
        {
            Some(c) => {
                kill(ctx, &c);
                ctx.out.ok();
            }
            None => ctx.out.err("No such client"),
        }
        return;
    }
    let (mut id, mut addr, mut laddr, mut skipme) = (None, None, None, true);
    let mut kind = None;
    let mut i = 2;
    while i + 1 < args.len() {
        let (opt, val) = (args[i], args[i + 1]);
        if eq_ignore_case(opt, "id") {
            match parse_i64(val) {
                Some(v) if v > 0 => id = Some(v as u64),
                _ => return ctx.out.err("client-id should be greater than 0"),
            }
        } else if eq_ignore_case(opt, "addr") {
            addr = Some(val);
        } else if eq_ignore_case(opt, "laddr") {
            laddr = Some(val);
        } else if eq_ignore_case(opt, "skipme") {
            if eq_ignore_case(val, "yes") {
                skipme = true;
            } else if eq_ignore_case(val, "no") {
                skipme = false;
            } else {
                return ctx.syntax_error();
            }
        } else if eq_ignore_case(opt, "type") {
            let Some(t) = client_type(ctx, val) else {
                return;
            };
            kind = Some(t);
        } else if eq_ignore_case(opt, "user") {
            if val != b"default" {
                let msg = format!("No such user '{}'", String::from_utf8_lossy(val));
                return ctx.out.err(&msg);
            }
        } else {
            return ctx.syntax_error();
        }
        i += 2;
    }
    if i != args.len() {
        return ctx.syntax_error();
    }
    let mut killed = 0;
    for c in ctx.srv.clients.snapshot() {
        if id.is_some_and(|v| v != c.id)
            || addr.is_some_and(|a| a != c.addr.as_bytes())
            || laddr.is_some_and(|a| a != c.laddr.as_bytes())
            || (skipme && c.id == ctx.client.id)
            || kind.is_some_and(|t| {
                t == ClientType::Replica || c.is_pubsub() != (t == ClientType::Pubsub)
            })
        {
            continue;
        }
        kill(ctx, &c);
        killed += 1;
    }
    ctx.out.int(killed);
}

/// Client classes of CLIENT LIST/KILL TYPE; master and replica connections
/// do not exist until replication does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    Pubsub,
}

fn client_type(ctx: &mut Ctx, name: &[u8]) -> Option<ClientType> {
    let t = if eq_ignore_case(name, "normal") {
        ClientType::Normal
    } else if ["master", "replica", "slave"]
        .iter()
        .any(|n| eq_ignore_case(name, n))
    {
        ClientType::Replica
    } else if eq_ignore_case(name, "pubsub") {
        ClientType::Pubsub
    } else {
        let msg = format!("Unknown client type '{}'", String::from_utf8_lossy(name));
        ctx.out.err(&msg);
        return None;
    };
    Some(t)
}

fn kill(ctx: &mut Ctx, c: &crate::server::ClientHandle) {
    if c.id == ctx.client.id {
        // Closing oneself: the reply still goes out first.
        ctx.client.after = After::Close;
    } else {
        c.request_kill();
    }
}

pub fn client_reply(ctx: &mut Ctx, _: &mut Store) {
    let mode = ctx.args[2];
    if eq_ignore_case(mode, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.out.ok();
    } else if eq_ignore_case(mode, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if eq_ignore_case(mode, "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        ctx.syntax_error();
    }
}

pub fn client_no_evict(ctx: &mut Ctx, _: &mut Store) {
    let v = ctx.args[2];
    if eq_ignore_case(v, "on") {
        ctx.client.handle.no_evict.store(true, Ordering::Relaxed);
    } else if eq_ignore_case(v, "off") {
        ctx.client.handle.no_evict.store(false, Ordering::Relaxed);
    } else {
        return ctx.syntax_error();
    }
    ctx.out.ok();
}

pub fn client_help(ctx: &mut Ctx, _: &mut Store) {
    super::server::help(
        ctx,
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "    * ID <client-id>",
            "      Kill connections by client id.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <LIB-NAME|LIB-VER> <value>",
            "    Set client library name or version.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
        ],
    );
}
