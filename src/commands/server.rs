//! Server commands: INFO, CONFIG, COMMAND, TIME, LASTSAVE, SHUTDOWN, DEBUG.

use super::table::{acl, f, COMMANDS};
use super::{meta, After, CommandSpec, Ctx};
use crate::config;
use crate::pubsub::Space;
use crate::server::{Client, Server, REDIS_VERSION, RUSSET_VERSION};
use crate::store::{self, Store};
use crate::util::{eq_ignore_case, now_us, parse_f64};
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// Redis's addReplyHelp: a header, the lines, and the HELP footer.
pub fn help(ctx: &mut Ctx, name: &str, lines: &[&str]) {
    ctx.out.array(lines.len() + 3);
    ctx.out.simple(&format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        name
    ));
    for l in lines {
        ctx.out.simple(l);
    }
    ctx.out.simple("HELP");
    ctx.out.simple("    Prints this help.");
}

/// Whether a protected command (DEBUG) may run for this client under the
/// given `enable-*-command` option: yes, or local and the client is local.
pub fn protected_allowed(srv: &Server, client: &Client, option: usize) -> bool {
    match srv.config.read().text(option) {
        "yes" => true,
        "local" => {
            client.handle.addr.starts_with("127.") || client.handle.addr.starts_with("[::1]")
        }
        _ => false,
    }
}

/// Redis's addReplySubcommandSyntaxError.
pub fn subcommand_syntax_error(ctx: &mut Ctx, container: &str) {
    let sub = ctx.args.get(1).copied().unwrap_or_default();
    let msg = format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)]),
        container
    );
    ctx.out.err(&msg);
}

// ---- INFO ----

/// Sections `INFO all` adds to the default ones.
const EXTRA_SECTIONS: &[&str] = &["commandstats", "errorstats"];

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "cluster",
    "keyspace",
];

pub fn info(ctx: &mut Ctx, db: &mut Store) {
    let mut wanted: Vec<String> = Vec::new();
    for a in &ctx.args[1..] {
        let s = String::from_utf8_lossy(a).to_ascii_lowercase();
        match s.as_str() {
            "default" => wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
            "all" | "everything" => wanted.extend(
                DEFAULT_SECTIONS
                    .iter()
                    .chain(EXTRA_SECTIONS)
                    .map(|s| s.to_string()),
            ),
            _ => wanted.push(s),
        }
    }
    if wanted.is_empty() {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    let text = info_text(ctx, db, &wanted);
    ctx.out.verbatim("txt", text.as_bytes());
}

fn human_bytes(n: u64) -> String {
    let f = n as f64;
    if n < 1024 {
        format!("{}B", n)
    } else if f < 1024.0 * 1024.0 {
        format!("{:.2}K", f / 1024.0)
    } else if f < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", f / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", f / (1024.0 * 1024.0 * 1024.0))
    }
}

/// Resident set size from /proc, in bytes.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

fn cpu_times() -> (f64, f64) {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_stime), t(ru.ru_utime))
}

fn info_text(ctx: &Ctx, db: &mut Store, wanted: &[String]) -> String {
    let db_counts = db.db_counts();
    let srv = ctx.srv;
    let cfg = srv.config.read().clone();
    let mut out = String::new();
    let mut section = |name: &str, body: &dyn Fn(&mut String)| {
        if !wanted.iter().any(|w| w == &name.to_ascii_lowercase()) {
            return;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let _ = write!(out, "# {}\r\n", name);
        body(&mut out);
    };
    let uptime = srv.started.elapsed().as_secs();
    section("Server", &|o| {
        let kv = |o: &mut String, k: &str, v: &dyn std::fmt::Display| {
            let _ = write!(o, "{}:{}\r\n", k, v);
        };
        kv(o, "redis_version", &REDIS_VERSION);
        kv(o, "russet_version", &RUSSET_VERSION);
        kv(o, "redis_git_sha1", &"00000000");
        kv(o, "redis_git_dirty", &0);
        kv(o, "redis_mode", &"standalone");
        kv(
            o,
            "os",
            &format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        );
        kv(o, "arch_bits", &(usize::BITS));
        kv(o, "multiplexing_api", &"epoll");
        kv(o, "process_id", &std::process::id());
        kv(o, "run_id", &srv.run_id);
        kv(o, "tcp_port", &srv.tcp_port);
        kv(o, "server_time_usec", &now_us());
        kv(o, "uptime_in_seconds", &uptime);
        kv(o, "uptime_in_days", &(uptime / 86400));
        kv(o, "hz", &cfg.num(config::HZ));
        kv(o, "configured_hz", &cfg.num(config::HZ));
        kv(o, "lru_clock", &store::lru_clock());
        kv(
            o,
            "executable",
            &std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        );
        kv(o, "threads", &srv.threads);
    });
    section("Clients", &|o| {
        let _ = write!(
            o,
            "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nblocked_clients:{}\r\ntracking_clients:0\r\n",
            srv.clients.len(),
            cfg.num(config::MAXCLIENTS),
            srv.keyspace
                .blocked_clients
                .load(std::sync::atomic::Ordering::Relaxed)
        );
    });
    section("Memory", &|o| {
        let used = crate::alloc::used_memory() as u64;
        let rss = rss_bytes();
        let maxmemory = cfg.num(config::MAXMEMORY) as u64;
        let _ = write!(
            o,
            "used_memory:{}\r\nused_memory_human:{}\r\nused_memory_rss:{}\r\nused_memory_rss_human:{}\r\n\
             maxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nmem_fragmentation_ratio:{:.2}\r\n\
             mem_allocator:mimalloc\r\nlazyfree_pending_objects:0\r\n",
            used,
            human_bytes(used),
            rss,
            human_bytes(rss),
            maxmemory,
            human_bytes(maxmemory),
            cfg.text(config::MAXMEMORY_POLICY),
            if used > 0 { rss as f64 / used as f64 } else { 0.0 },
        );
    });
    section("Persistence", &|o| {
        let _ = write!(
            o,
            "loading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:0\r\n\
             rdb_last_save_time:{}\r\nrdb_last_bgsave_status:ok\r\nrdb_saves:0\r\naof_enabled:0\r\n\
             aof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_bgrewrite_status:ok\r\naof_last_write_status:ok\r\n",
            srv.keyspace.stats.dirty.get(),
            srv.lastsave.load(Ordering::Relaxed),
        );
    });
    section("Stats", &|o| {
        let s = &srv.stats;
        let ks = &srv.keyspace.stats;
        let _ = write!(
            o,
            "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\n\
             total_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\n\
             expired_keys:{}\r\nevicted_keys:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\n\
             pubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\ntotal_error_replies:{}\r\n",
            s.connections_received.get(),
            s.commands.get(),
            srv.ops_per_sec(),
            s.net_input_bytes.get(),
            s.net_output_bytes.get(),
            s.rejected_connections.get(),
            ks.expired.get(),
            ks.hits.get(),
            ks.misses.get(),
            srv.keyspace.pubsub.numchannels(Space::Channels),
            srv.keyspace.pubsub.numpat(),
            srv.keyspace.pubsub.numchannels(Space::Shard),
            s.total_error_replies.get(),
        );
    });
    section("Replication", &|o| {
        let _ = write!(
            o,
            "role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:{}\r\n\
             master_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\n\
             repl_backlog_active:0\r\nrepl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
            srv.run_id
        );
    });
    section("CPU", &|o| {
        let (sys, user) = cpu_times();
        let _ = write!(
            o,
            "used_cpu_sys:{:.6}\r\nused_cpu_user:{:.6}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\n",
            sys, user
        );
    });
    section("Commandstats", &|o| {
        for c in COMMANDS {
            for spec in std::iter::once(c).chain(c.subcommands.iter()) {
                let Some(s) = srv.stats.command(spec) else {
                    continue;
                };
                let (calls, usec) = (
                    s.calls.load(Ordering::Relaxed),
                    s.usec.load(Ordering::Relaxed),
                );
                let (rejected, failed) = (
                    s.rejected.load(Ordering::Relaxed),
                    s.failed.load(Ordering::Relaxed),
                );
                if calls + rejected + failed == 0 {
                    continue;
                }
                let per_call = if calls > 0 {
                    usec as f64 / calls as f64
                } else {
                    0.0
                };
                let _ = write!(
                    o,
                    "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
                    spec.fullname(),
                    calls,
                    usec,
                    per_call,
                    rejected,
                    failed
                );
            }
        }
    });
    section("Errorstats", &|o| {
        for (code, count) in srv.stats.errors.lock().iter() {
            let _ = write!(o, "errorstat_{}:count={}\r\n", code, count);
        }
    });
    section("Cluster", &|o| o.push_str("cluster_enabled:0\r\n"));
    section("Keyspace", &|o| {
        for (i, (keys, expires)) in db_counts.iter().copied().enumerate() {
            if keys > 0 {
                let _ = write!(o, "db{}:keys={},expires={},avg_ttl=0\r\n", i, keys, expires);
            }
        }
    });
    out
}

// ---- CONFIG ----

pub fn config_get(ctx: &mut Ctx, _: &mut Store) {
    let pairs: Vec<(String, String)> = {
        let cfg = ctx.srv.config.read();
        cfg.get_matching(&ctx.args[2..])
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect()
    };
    ctx.out.map(pairs.len());
    for (k, v) in &pairs {
        ctx.out.bulk(k.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
}

pub fn config_set(ctx: &mut Ctx, _: &mut Store) {
    let args = &ctx.args[2..];
    if !args.len().is_multiple_of(2) {
        return ctx.syntax_error();
    }
    let pairs: Vec<(&[u8], &[u8])> = args.chunks(2).map(|p| (p[0], p[1])).collect();
    let result = ctx.srv.config.write().set_runtime(&pairs);
    match result {
        Ok(()) => {
            ctx.srv.config_changed();
            ctx.out.ok();
        }
        Err(e) => ctx.out.error(&e.0),
    }
}

pub fn config_resetstat(ctx: &mut Ctx, _: &mut Store) {
    ctx.srv.stats.reset();
    let ks = &ctx.srv.keyspace.stats;
    ks.hits.reset();
    ks.misses.reset();
    ks.expired.reset();
    ctx.out.ok();
}

pub fn config_help(ctx: &mut Ctx, _: &mut Store) {
    help(
        ctx,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
}

// ---- COMMAND ----

fn names_of<T>(
    bits: u32,
    table: &[T],
    name: impl Fn(&T) -> Option<&'static str>,
) -> Vec<&'static str> {
    let _ = bits;
    table.iter().filter_map(name).collect()
}

/// One COMMAND INFO entry: name, arity, flags, key positions, ACL
/// categories, tips, key specs, subcommands.
fn command_entry(ctx: &mut Ctx, c: &CommandSpec) {
    let flags = names_of(c.flags, f::NAMES, |(bit, n)| {
        (c.flags & bit != 0).then_some(*n)
    });
    let cats: Vec<&str> = acl::NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| c.categories & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    let out = &mut ctx.out;
    out.array(10);
    out.bulk(c.fullname().as_bytes());
    out.int(c.arity as i64);
    out.set(flags.len());
    for fl in flags {
        out.simple(fl);
    }
    out.int(c.first_key as i64);
    out.int(c.last_key as i64);
    out.int(c.step as i64);
    out.set(cats.len());
    for cat in cats {
        out.simple(&format!("@{}", cat));
    }
    // Tips and key specifications are Redis's documentation data (meta.rs).
    let name = c.fullname();
    match meta::get(&name) {
        Some(m) => {
            let resp = out.resp;
            meta::write_converted(out.buf, m.tips, resp);
            meta::write_converted(out.buf, m.key_specs, resp);
        }
        None => {
            out.set(0);
            out.set(0);
        }
    }
    if c.subcommands.is_empty() {
        out.set(0);
    } else {
        out.array(c.subcommands.len());
        for sub in c.subcommands {
            command_entry(ctx, sub);
        }
    }
}

pub fn command_all(ctx: &mut Ctx, _: &mut Store) {
    ctx.out.array(COMMANDS.len());
    for c in COMMANDS {
        command_entry(ctx, c);
    }
}

pub fn command_count(ctx: &mut Ctx, _: &mut Store) {
    ctx.out.int(COMMANDS.len() as i64);
}

/// A command or "container|sub" name.
fn find_command(name: &[u8]) -> Option<&'static CommandSpec> {
    let text = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    let mut parts = text.splitn(2, '|');
    let top_name = parts.next()?;
    let top = COMMANDS.iter().find(|c| c.name == top_name)?;
    match parts.next() {
        None => Some(top),
        Some(sub) => top.subcommands.iter().find(|s| s.name == sub),
    }
}

pub fn command_info(ctx: &mut Ctx, _: &mut Store) {
    let names = &ctx.args[2..];
    if names.is_empty() {
        return command_all(
            ctx,
            &mut Store::new(&ctx.srv.keyspace, ctx.srv.keyspace.lock_none(), 0, 0),
        );
    }
    ctx.out.array(names.len());
    for n in names {
        match find_command(n) {
            Some(c) => command_entry(ctx, c),
            None => ctx.out.null(),
        }
    }
}

pub fn command_list(ctx: &mut Ctx, _: &mut Store) {
    let mut names: Vec<String> = Vec::new();
    for c in COMMANDS {
        names.push(c.name.to_string());
        names.extend(c.subcommands.iter().map(|s| s.fullname().into_owned()));
    }
    let args = &ctx.args[2..];
    if !args.is_empty() {
        if args.len() != 3 || !eq_ignore_case(args[0], "filterby") {
            return ctx.syntax_error();
        }
        let value = args[2];
        if eq_ignore_case(args[1], "pattern") {
            names.retain(|n| crate::util::glob_match(value, n.as_bytes(), true));
        } else if eq_ignore_case(args[1], "aclcat") {
            let Some(bit) = acl::NAMES.iter().position(|n| eq_ignore_case(value, n)) else {
                return ctx.out.array(0);
            };
            names.retain(|n| {
                find_command(n.as_bytes()).is_some_and(|c| c.categories & (1 << bit) != 0)
            });
        } else if eq_ignore_case(args[1], "module") {
            names.retain(|n| {
                find_command(n.as_bytes())
                    .and_then(|c| c.module())
                    .is_some_and(|m| eq_ignore_case(value, m))
            });
        } else {
            return ctx.syntax_error();
        }
    }
    ctx.out.array(names.len());
    for n in &names {
        ctx.out.bulk(n.as_bytes());
    }
}

/// The command named in COMMAND GETKEYS[ANDFLAGS] arguments and its key
/// positions, or None after replying with Redis's error.
fn command_keys<'a>(
    ctx: &mut Ctx<'a>,
) -> Option<(&'a [&'a [u8]], &'static CommandSpec, super::KeyIndices)> {
    let args = &ctx.args[2..];
    let Some(cmd) = super::lookup(args) else {
        ctx.out.err("Invalid command specified");
        return None;
    };
    if !cmd.arity_ok(args.len()) {
        ctx.out
            .err("Invalid number of arguments specified for command");
        return None;
    }
    let keys = cmd.key_indices(args);
    if keys.is_empty() {
        if cmd.takes_keys() {
            ctx.out.err("Invalid arguments specified for command");
        } else {
            ctx.out.err("The command has no key arguments");
        }
        return None;
    }
    Some((args, cmd, keys))
}

pub fn command_getkeys(ctx: &mut Ctx, _: &mut Store) {
    let Some((args, _, keys)) = command_keys(ctx) else {
        return;
    };
    ctx.out.array(keys.len());
    for i in keys {
        ctx.out.bulk(args[i]);
    }
}

/// COMMAND DOCS [name ...]: unknown names are skipped, as in Redis.
pub fn command_docs(ctx: &mut Ctx, _: &mut Store) {
    let names: Vec<String> = if ctx.args.len() == 2 {
        COMMANDS.iter().map(|c| c.name.to_string()).collect()
    } else {
        ctx.args[2..]
            .iter()
            .filter_map(|a| find_command(a).map(|c| c.fullname().into_owned()))
            .collect()
    };
    let found: Vec<(String, Docs)> = names
        .into_iter()
        .filter_map(|n| {
            let docs = match meta::get(&n) {
                Some(m) => Docs::Captured(m),
                None => Docs::Module(
                    super::bloom::DOCS.iter().find(|d| d.0 == n)?,
                    find_command(n.as_bytes())?.module()?,
                ),
            };
            Some((n, docs))
        })
        .collect();
    ctx.out.map(found.len());
    let resp = ctx.out.resp;
    for (name, docs) in found {
        ctx.out.bulk(name.as_bytes());
        match docs {
            Docs::Captured(m) => {
                meta::write_converted(ctx.out.buf, m.docs, resp);
            }
            // What Redis prints for a module command: its group is
            // "module" and the module is named.
            Docs::Module((_, summary, complexity), module) => {
                ctx.out.map(5);
                for (field, value) in [
                    ("summary", *summary),
                    ("since", "1.0.0"),
                    ("group", "module"),
                    ("complexity", *complexity),
                    ("module", module),
                ] {
                    ctx.out.bulk(field.as_bytes());
                    ctx.out.bulk(value.as_bytes());
                }
            }
        }
    }
}

/// Where a command's COMMAND DOCS come from: Redis 7.0's captured data, or
/// the short entries of a module command Redis 7.0 does not have.
enum Docs {
    Captured(&'static meta::Meta),
    Module(
        &'static (&'static str, &'static str, &'static str),
        &'static str,
    ),
}

/// COMMAND GETKEYSANDFLAGS: each key with the access flags of the key
/// specification that covers its position.
pub fn command_getkeysandflags(ctx: &mut Ctx, _: &mut Store) {
    let Some((args, cmd, keys)) = command_keys(ctx) else {
        return;
    };
    let specs = meta::range_key_specs(&cmd.fullname());
    let argc = args.len() as i64;
    ctx.out.array(keys.len());
    for i in keys {
        let pos = i as i64;
        let flags = specs
            .iter()
            .find(|s| {
                let last = if s.last_key < 0 {
                    argc + s.last_key
                } else {
                    s.begin + s.last_key
                };
                pos >= s.begin && pos <= last && (pos - s.begin) % s.step.max(1) == 0
            })
            .map(|s| s.flags.clone())
            .unwrap_or_default();
        ctx.out.array(2);
        ctx.out.bulk(args[i]);
        ctx.out.set(flags.len());
        for f in &flags {
            ctx.out.simple(f);
        }
    }
}

pub fn command_help(ctx: &mut Ctx, _: &mut Store) {
    help(
        ctx,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
}

// ---- misc ----

pub fn time(ctx: &mut Ctx, _: &mut Store) {
    let us = now_us();
    ctx.out.array(2);
    ctx.out.bulk_int(us / 1_000_000);
    ctx.out.bulk_int(us % 1_000_000);
}

pub fn lastsave(ctx: &mut Ctx, _: &mut Store) {
    ctx.out.int(ctx.srv.lastsave.load(Ordering::Relaxed));
}

pub fn shutdown(ctx: &mut Ctx, _: &mut Store) {
    let mut save = false;
    for a in &ctx.args[1..] {
        if eq_ignore_case(a, "nosave") {
            save = false;
        } else if eq_ignore_case(a, "save") {
            save = true;
        } else if eq_ignore_case(a, "now") || eq_ignore_case(a, "force") {
        } else if eq_ignore_case(a, "abort") {
            return ctx.out.err("No shutdown in progress.");
        } else {
            return ctx.syntax_error();
        }
    }
    if save {
        // There is no persistence yet, so SAVE cannot be honoured.
        tracing::warn!("SHUTDOWN SAVE refused: this russet version has no persistence");
        return ctx.out.err("Errors trying to SHUTDOWN. Check logs.");
    }
    tracing::info!("SHUTDOWN requested by client {}", ctx.client.id);
    ctx.client.after = After::Shutdown;
}

pub fn debug(ctx: &mut Ctx, db: &mut Store) {
    let sub = ctx.args[1];
    if eq_ignore_case(sub, "sleep") && ctx.args.len() == 3 {
        let secs = parse_f64(ctx.args[2]).unwrap_or(0.0);
        if secs > 0.0 {
            // Like Redis this blocks the thread serving this client.
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
        }
        ctx.out.ok();
    } else if eq_ignore_case(sub, "set-active-expire") && ctx.args.len() == 3 {
        let Some(v) = ctx.int_arg(2) else { return };
        ctx.srv
            .active_expire_enabled
            .store(v != 0, Ordering::Relaxed);
        ctx.out.ok();
    } else if eq_ignore_case(sub, "log") && ctx.args.len() == 3 {
        tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(ctx.args[2]));
        ctx.out.ok();
    } else if eq_ignore_case(sub, "object") && ctx.args.len() == 3 {
        // DEBUG declares no keys (as in Redis), so it locks the key's shard itself.
        let (dbi, now, key) = (db.db, db.now, ctx.args[2]);
        let h = store::hash_key(key);
        let line = db.with_shard(store::shard_of(h), |s| {
            let e = s.dbs[dbi].get(key, h).filter(|e| !e.is_expired(now))?;
            Some(format!(
                "Value at:{:p} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                e as *const _,
                super::keys::encoding_name(e),
                e.block_size(),
                e.lru() & 0xFF_FFFF,
                store::lru_clock().saturating_sub(e.lru())
            ))
        });
        match line {
            Some(l) => ctx.out.simple(&l),
            None => ctx.out.err("no such key"),
        }
    } else if eq_ignore_case(sub, "help") {
        help(
            ctx,
            "DEBUG",
            &[
                "LOG <message>",
                "    Write <message> to the server log.",
                "OBJECT <key>",
                "    Show low level info about `key` and associated value.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        );
    } else {
        subcommand_syntax_error(ctx, "DEBUG");
    }
}
