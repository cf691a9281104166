//! Stream commands: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID,
//! XREAD (blocking too) and XINFO. The data structure lives in
//! store/stream.rs; blocked readers are served by commands/blocking.rs.

use super::{blocking, table::KeysProc, Ctx, KeyIndices};
use crate::blocking::{BlockOp, Waiter};
use crate::config;
use crate::protocol::Reply;
use crate::pubsub::events;
use crate::store::stream::{parse_id, Fields, Limits, Stream, StreamId, Trim, LISTPACK_MAX_SIZE};
use crate::store::{NewValue, Store, Value, ValueRef};
use crate::util::{eq_ignore_case, parse_i64};

const INVALID_ID: &str = "Invalid stream ID specified as stream command argument";

fn limits(ctx: &Ctx) -> Limits {
    let cfg = ctx.srv.config.read();
    let num = |id| usize::try_from(cfg.num(id)).unwrap_or(usize::MAX);
    Limits {
        max_bytes: num(config::STREAM_NODE_MAX_BYTES),
        max_entries: num(config::STREAM_NODE_MAX_ENTRIES),
    }
}

/// An argument as C's string functions see it: up to its first NUL.
fn c_str(a: &[u8]) -> &[u8] {
    super::truncate(a, a.len())
}

/// A stream ID argument (`missing_seq` completes "<ms>"; `strict` refuses
/// "-" and "+"), or None after replying Redis's error.
fn id_arg(ctx: &mut Ctx, arg: &[u8], missing_seq: u64, strict: bool) -> Option<StreamId> {
    let id = parse_id(arg, missing_seq, strict, false).map(|(id, _)| id);
    if id.is_none() {
        ctx.out.err(INVALID_ID);
    }
    id
}

/// An interval bound of XRANGE/XPENDING: "(" makes it exclusive.
fn bound_arg(ctx: &mut Ctx, arg: &[u8], start: bool) -> Option<StreamId> {
    if arg.len() > 1 && arg[0] == b'(' {
        let id = id_arg(ctx, &arg[1..], if start { 0 } else { u64::MAX }, true)?;
        let moved = if start { id.next() } else { id.prev() };
        if moved.is_none() {
            ctx.out.err(if start {
                "invalid start ID for the interval"
            } else {
                "invalid end ID for the interval"
            });
        }
        return moved;
    }
    id_arg(ctx, arg, if start { 0 } else { u64::MAX }, false)
}

pub(super) fn reply_id(out: &mut Reply, id: StreamId) {
    out.bulk(&id.to_bytes());
}

/// One entry: [id, [field, value, ...]].
fn reply_entry(out: &mut Reply, id: StreamId, fields: Fields) {
    out.array(2);
    reply_id(out, id);
    out.array(fields.len() * 2);
    for (f, v) in fields {
        out.bulk(f);
        out.bulk(v);
    }
}

/// Entries `start..=end` (at most `count`, 0 = all) as an array.
fn reply_range(
    out: &mut Reply,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    rev: bool,
    count: usize,
) {
    let it = s.range(start, end, rev);
    let entries: Vec<_> = if count == 0 {
        it.collect()
    } else {
        it.take(count).collect()
    };
    out.array(entries.len());
    for (id, fields) in entries {
        reply_entry(out, id, fields);
    }
}

/// The stream at `key` for reading: Ok(None) if there is no key, Err(())
/// after replying WRONGTYPE.
fn read_stream<'s>(ctx: &mut Ctx, db: &'s mut Store, key: &[u8]) -> Result<Option<&'s Stream>, ()> {
    let Some(e) = db.read(key) else {
        return Ok(None);
    };
    let e: &'s _ = e;
    match e.value() {
        ValueRef::Obj(Value::Stream(s)) => Ok(Some(s)),
        _ => {
            ctx.wrong_type();
            Err(())
        }
    }
}

/// The stream at `key` for writing, as `read_stream`.
fn write_stream<'s>(
    ctx: &mut Ctx,
    db: &'s mut Store,
    key: &[u8],
) -> Result<Option<&'s mut Stream>, ()> {
    let Some(e) = db.write(key) else {
        return Ok(None);
    };
    match e.obj_mut() {
        Some(Value::Stream(s)) => Ok(Some(s)),
        _ => {
            ctx.wrong_type();
            Err(())
        }
    }
}

/// XADD's and XTRIM's options (Redis's streamAddTrimArgs).
struct AddTrim {
    trim: Option<Trim>,
    approx: bool,
    limit: u64,
    nomkstream: bool,
    /// XADD's explicit ID, and whether its sequence was given (not "ms-*").
    id: Option<(StreamId, bool)>,
    /// Where the ID is (XADD): the fields follow it.
    idpos: usize,
}

/// Redis's streamParseAddOrTrimArgsOrReply.
fn add_trim_args(ctx: &mut Ctx, xadd: bool) -> Option<AddTrim> {
    let args = ctx.args;
    let mut a = AddTrim {
        trim: None,
        approx: false,
        limit: 0,
        nomkstream: false,
        id: None,
        idpos: args.len(),
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args[i];
        if xadd && c_str(opt) == b"*" {
            a.idpos = i;
            break;
        } else if (eq_ignore_case(opt, "maxlen") || eq_ignore_case(opt, "minid")) && more > 0 {
            if a.trim.is_some() {
                ctx.out.err(
                    "syntax error, MAXLEN and MINID options at the same time are not compatible",
                );
                return None;
            }
            a.approx = false;
            let next = c_str(args[i + 1]);
            if more >= 2 && (next == b"~" || next == b"=") {
                a.approx = next == b"~";
                i += 1;
            }
            let arg = args[i + 1];
            if eq_ignore_case(opt, "maxlen") {
                let n = ctx.int_arg(i + 1)?;
                if n < 0 {
                    ctx.out.err("The MAXLEN argument must be >= 0.");
                    return None;
                }
                a.trim = Some(Trim::MaxLen(n as u64));
            } else {
                a.trim = Some(Trim::MinId(id_arg(ctx, arg, 0, true)?));
            }
            i += 1;
        } else if eq_ignore_case(opt, "limit") && more > 0 {
            let n = ctx.int_arg(i + 1)?;
            if n < 0 {
                ctx.out.err("The LIMIT argument must be >= 0.");
                return None;
            }
            a.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && eq_ignore_case(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            let Some((id, seq_given)) = parse_id(opt, 0, true, true) else {
                ctx.out.err(INVALID_ID);
                return None;
            };
            a.id = Some((id, seq_given));
            a.idpos = i;
            break;
        } else {
            ctx.syntax_error();
            return None;
        }
        i += 1;
    }
    if a.limit != 0 && a.trim.is_none() {
        ctx.out
            .err("syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return None;
    }
    if !xadd && a.trim.is_none() {
        ctx.out
            .err("syntax error, XTRIM must be called with a trimming strategy");
        return None;
    }
    if limit_given {
        if !a.approx {
            ctx.out
                .err("syntax error, LIMIT cannot be used without the special ~ option");
            return None;
        }
    } else if a.approx {
        // Redis bounds the work of an approximate trim to 100 nodes.
        a.limit = 100u64.saturating_mul(limits(ctx).max_entries as u64);
    }
    Some(a)
}

pub fn xadd(ctx: &mut Ctx, db: &mut Store) {
    let Some(a) = add_trim_args(ctx, true) else {
        return;
    };
    let args = ctx.args;
    let key = args[1];
    let fields = args.get(a.idpos + 1..).unwrap_or_default();
    if fields.len() < 2 || fields.len() % 2 == 1 {
        return ctx.arity_error();
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            return ctx
                .out
                .err("The ID specified in XADD must be greater than 0-0");
        }
    }
    let last = match write_stream(ctx, db, key) {
        Err(()) => return,
        Ok(Some(s)) => s.last_id,
        Ok(None) if a.nomkstream => return ctx.out.null(),
        Ok(None) => StreamId::MIN,
    };
    if last == StreamId::MAX {
        return ctx
            .out
            .err("The stream has exhausted the last possible ID, unable to add more items");
    }
    let id = match a.id {
        Some((id, true)) => Some(id),
        // "<ms>-*" with that millisecond's sequences used up: Redis 7.0
        // reports it with this (misleading) error.
        Some((id, false)) if id.ms == last.ms && last.seq == u64::MAX => {
            return ctx.out.err("Elements are too large to be stored");
        }
        // "<ms>-*": the next sequence within the same millisecond.
        Some((id, false)) if id.ms == last.ms => last.next(),
        Some((id, false)) => Some(id),
        None => {
            let now = db.now.max(0) as u64;
            if now > last.ms {
                Some(StreamId::new(now, 0))
            } else {
                last.next()
            }
        }
    };
    let Some(id) = id.filter(|&id| id > last) else {
        return ctx
            .out
            .err("The ID specified in XADD is equal or smaller than the target stream top item");
    };
    if fields.iter().map(|f| f.len()).sum::<usize>() > LISTPACK_MAX_SIZE {
        return ctx.out.err("Elements are too large to be stored");
    }
    let limits = limits(ctx);
    if last == StreamId::MIN && db.write(key).is_none() {
        db.set(key, NewValue::Obj(Value::Stream(Box::default())), None);
    }
    let Ok(Some(s)) = write_stream(ctx, db, key) else {
        return;
    };
    s.append(id, fields, limits);
    let trimmed = a.trim.map_or(0, |how| s.trim(how, a.approx, a.limit));
    reply_id(&mut ctx.out, id);
    db.notify(events::STREAM, "xadd", key);
    if trimmed > 0 {
        db.notify(events::STREAM, "xtrim", key);
    }
    db.modified(key);
}

pub fn xlen(ctx: &mut Ctx, db: &mut Store) {
    if let Ok(s) = read_stream(ctx, db, ctx.args[1]) {
        ctx.out.int(s.map_or(0, |s| s.length as i64));
    }
}

fn range_generic(ctx: &mut Ctx, db: &mut Store, rev: bool) {
    let args = ctx.args;
    let (start_arg, end_arg) = if rev {
        (args[3], args[2])
    } else {
        (args[2], args[3])
    };
    let Some(start) = bound_arg(ctx, start_arg, true) else {
        return;
    };
    let Some(end) = bound_arg(ctx, end_arg, false) else {
        return;
    };
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if eq_ignore_case(args[j], "count") && j + 1 < args.len() {
            let Some(n) = ctx.int_arg(j + 1) else {
                return;
            };
            count = n.max(0);
            j += 2;
        } else {
            return ctx.syntax_error();
        }
    }
    let s = match read_stream(ctx, db, args[1]) {
        Err(()) => return,
        Ok(None) => return ctx.out.array(0),
        Ok(Some(s)) => s,
    };
    match count {
        0 => ctx.out.null_array(),
        -1 => reply_range(&mut ctx.out, s, start, end, rev, 0),
        n => reply_range(&mut ctx.out, s, start, end, rev, n as usize),
    }
}

pub fn xrange(ctx: &mut Ctx, db: &mut Store) {
    range_generic(ctx, db, false);
}

pub fn xrevrange(ctx: &mut Ctx, db: &mut Store) {
    range_generic(ctx, db, true);
}

pub fn xdel(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let key = args[1];
    match write_stream(ctx, db, key) {
        Err(()) => return,
        Ok(None) => return ctx.out.int(0),
        Ok(Some(_)) => {}
    }
    let mut ids = Vec::with_capacity(args.len() - 2);
    for a in &args[2..] {
        let Some(id) = id_arg(ctx, a, 0, true) else {
            return;
        };
        ids.push(id);
    }
    let Ok(Some(s)) = write_stream(ctx, db, key) else {
        return;
    };
    let mut deleted = 0;
    let mut first_gone = false;
    for id in ids {
        if s.delete(id) {
            first_gone |= id == s.first_id;
            s.max_deleted = s.max_deleted.max(id);
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.length == 0 {
            s.first_id = StreamId::MIN;
        } else if first_gone {
            s.first_id = s.edge_id(true).unwrap_or(StreamId::MAX);
        }
        db.notify(events::STREAM, "xdel", key);
        db.modified(key);
    }
    ctx.out.int(deleted);
}

pub fn xtrim(ctx: &mut Ctx, db: &mut Store) {
    let Some(a) = add_trim_args(ctx, false) else {
        return;
    };
    let key = ctx.args[1];
    let s = match write_stream(ctx, db, key) {
        Err(()) => return,
        Ok(None) => return ctx.out.int(0),
        Ok(Some(s)) => s,
    };
    let removed = a.trim.map_or(0, |how| s.trim(how, a.approx, a.limit));
    if removed > 0 {
        db.notify(events::STREAM, "xtrim", key);
        db.modified(key);
    }
    ctx.out.int(removed as i64);
}

pub fn xsetid(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let Some(id) = id_arg(ctx, args[2], 0, true) else {
        return;
    };
    let mut entries_added = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        if eq_ignore_case(args[i], "entriesadded") && more {
            let Some(n) = ctx.int_arg(i + 1) else {
                return;
            };
            if n < 0 {
                return ctx.out.err("entries_added must be positive");
            }
            entries_added = Some(n as u64);
        } else if eq_ignore_case(args[i], "maxdeletedid") && more {
            let Some(m) = id_arg(ctx, args[i + 1], 0, true) else {
                return;
            };
            if id < m {
                return ctx.out.err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                );
            }
            max_deleted = m;
        } else {
            return ctx.syntax_error();
        }
        i += 2;
    }
    let key = args[1];
    let s = match write_stream(ctx, db, key) {
        Err(()) => return,
        Ok(None) => return ctx.out.err("no such key"),
        Ok(Some(s)) => s,
    };
    if s.length > 0 {
        if s.edge_id(false).is_some_and(|top| id < top) {
            return ctx
                .out
                .err("The ID specified in XSETID is smaller than the target stream top item");
        }
        if entries_added.is_some_and(|n| s.length > n) {
            return ctx.out.err(
                "The entries_added specified in XSETID is smaller than the target stream length",
            );
        }
    }
    s.last_id = id;
    if let Some(n) = entries_added {
        s.entries_added = n;
    }
    if !max_deleted.is_zero() {
        s.max_deleted = max_deleted;
    }
    ctx.out.ok();
    db.notify(events::STREAM, "xsetid", key);
    db.modified(key);
}

// ---- XREAD ----

/// XREAD's options.
struct ReadArgs {
    /// BLOCK's timeout in ms (0 = forever).
    block: Option<i64>,
    count: usize,
    /// Index of the first key; as many IDs follow the keys.
    streams_at: usize,
    nkeys: usize,
}

enum ReadError {
    Syntax,
    NotInteger,
    Unbalanced,
    Group,
    NoAck,
    TimeoutNotInteger,
    TimeoutNegative,
}

/// Parses XREAD's options, up to STREAMS (shared with the key finder).
fn read_args(args: &[&[u8]]) -> Result<ReadArgs, ReadError> {
    let mut a = ReadArgs {
        block: None,
        count: 0,
        streams_at: 0,
        nkeys: 0,
    };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = args[i];
        if eq_ignore_case(o, "block") && more > 0 {
            i += 1;
            let ms = parse_i64(args[i]).ok_or(ReadError::TimeoutNotInteger)?;
            if ms < 0 {
                return Err(ReadError::TimeoutNegative);
            }
            a.block = Some(ms);
        } else if eq_ignore_case(o, "count") && more > 0 {
            i += 1;
            let n = parse_i64(args[i]).ok_or(ReadError::NotInteger)?;
            a.count = n.max(0) as usize;
        } else if eq_ignore_case(o, "streams") && more > 0 {
            a.streams_at = i + 1;
            let n = args.len() - a.streams_at;
            if !n.is_multiple_of(2) {
                return Err(ReadError::Unbalanced);
            }
            a.nkeys = n / 2;
            return Ok(a);
        } else if eq_ignore_case(o, "group") && more >= 2 {
            return Err(ReadError::Group);
        } else if eq_ignore_case(o, "noack") {
            return Err(ReadError::NoAck);
        } else {
            return Err(ReadError::Syntax);
        }
        i += 1;
    }
    Err(ReadError::Syntax)
}

/// XREAD's keys follow its STREAMS option.
pub static READ_KEYS: KeysProc = KeysProc {
    extra: |args, out: &mut KeyIndices| {
        if let Ok(a) = read_args(args) {
            out.extend(a.streams_at..a.streams_at + a.nkeys);
        }
    },
    undeclared: |_| false,
};

/// The id a blocked XREAD waits to see exceeded on `key`.
fn waited_id(w: &Waiter, key: &[u8]) -> Option<StreamId> {
    let BlockOp::XRead { after, .. } = &w.op else {
        return None;
    };
    let i = w.keys.iter().position(|k| k == key)?;
    after.get(i).copied()
}

/// Whether a client blocked in XREAD on `key` can be served now: the key is
/// a stream whose last ID went past the one it waits after.
pub(super) fn ready_for(db: &mut Store, key: &[u8], w: &Waiter) -> bool {
    let Some(after) = waited_id(w, key) else {
        return false;
    };
    match db.write(key).map(|e| e.value()) {
        Some(ValueRef::Obj(Value::Stream(s))) => s.last_id > after,
        _ => false,
    }
}

/// Serves a blocked XREAD that `ready_for` found ready: [[key, entries]].
pub(super) fn serve_blocked(db: &mut Store, key: &[u8], w: &Waiter, out: &mut Reply) {
    let (Some(after), BlockOp::XRead { count, .. }) = (waited_id(w, key), &w.op) else {
        return out.null_array();
    };
    let Some(ValueRef::Obj(Value::Stream(s))) = db.get_ref(key).map(|e| e.value()) else {
        return out.null_array();
    };
    if out.resp == 2 {
        out.array(1);
        out.array(2);
    } else {
        out.map(1);
    }
    out.bulk(key);
    match after.next() {
        Some(start) => reply_range(out, s, start, StreamId::MAX, false, *count),
        None => out.array(0),
    }
}

/// Blocked XREADs read at most this many entries when no COUNT was given.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

pub fn xread(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let a = match read_args(args) {
        Ok(a) => a,
        Err(e) => {
            return match e {
                ReadError::Syntax => ctx.syntax_error(),
                ReadError::NotInteger => ctx.not_integer(),
                ReadError::Unbalanced => ctx.out.err(
                    "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ),
                ReadError::Group => ctx.out.err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ),
                ReadError::NoAck => ctx.out.err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ),
                ReadError::TimeoutNotInteger => {
                    ctx.out.err("timeout is not an integer or out of range")
                }
                ReadError::TimeoutNegative => ctx.out.err("timeout is negative"),
            };
        }
    };
    // Redis refuses BLOCK in scripts (in MULTI it just does not block).
    if a.block.is_some() && ctx.client.no_block && ctx.srv.scripts.busy.running() {
        let name = String::from_utf8_lossy(args[0]).into_owned();
        return ctx.out.err(&format!(
            "{} command is not allowed with BLOCK option from scripts",
            name
        ));
    }
    let keys = &args[a.streams_at..a.streams_at + a.nkeys];
    let id_args = &args[a.streams_at + a.nkeys..];
    let mut after = Vec::with_capacity(a.nkeys);
    for (key, arg) in keys.iter().zip(id_args) {
        let last = match read_stream(ctx, db, key) {
            Err(()) => return,
            Ok(s) => s.map(|s| s.last_id),
        };
        if *arg == b"$" {
            after.push(last.unwrap_or(StreamId::MIN));
            continue;
        }
        if *arg == b">" {
            return ctx.out.err(
                "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
            );
        }
        let Some(id) = id_arg(ctx, arg, 0, true) else {
            return;
        };
        after.push(id);
    }
    // Serve synchronously the streams that have entries past their ID.
    let mut ready = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if let Ok(Some(s)) = read_stream(ctx, db, key) {
            if s.length > 0 && s.edge_id(false).is_some_and(|top| top > after[i]) {
                ready.push(i);
            }
        }
    }
    if !ready.is_empty() {
        if ctx.out.resp == 2 {
            ctx.out.array(ready.len());
        } else {
            ctx.out.map(ready.len());
        }
        for i in ready {
            if ctx.out.resp == 2 {
                ctx.out.array(2);
            }
            ctx.out.bulk(keys[i]);
            if let Some(ValueRef::Obj(Value::Stream(s))) = db.get_ref(keys[i]).map(|e| e.value()) {
                match after[i].next() {
                    Some(start) => {
                        reply_range(&mut ctx.out, s, start, StreamId::MAX, false, a.count)
                    }
                    None => ctx.out.array(0),
                }
            }
        }
        return;
    }
    let Some(timeout) = a.block else {
        return ctx.out.null_array();
    };
    if ctx.client.no_block {
        return ctx.out.null_array();
    }
    // Each key once, with the ID of its first occurrence, as Redis keeps it.
    let mut uniq: Vec<&[u8]> = Vec::with_capacity(keys.len());
    let mut ids = Vec::with_capacity(keys.len());
    for (k, id) in keys.iter().zip(after) {
        if !uniq.contains(k) {
            uniq.push(k);
            ids.push(id);
        }
    }
    let deadline = if timeout == 0 {
        0
    } else {
        crate::util::now_ms().saturating_add(timeout)
    };
    let count = if a.count == 0 {
        BLOCKED_DEFAULT_COUNT
    } else {
        a.count
    };
    let op = BlockOp::XRead { after: ids, count };
    blocking::block(ctx, db, &uniq, op, deadline);
}

// ---- XINFO ----

pub fn xinfo_help(ctx: &mut Ctx, _: &mut Store) {
    super::server::help(
        ctx,
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    );
}

/// The stream for XINFO: None after replying "no such key" or WRONGTYPE.
fn info_stream<'s>(ctx: &mut Ctx, db: &'s mut Store) -> Option<&'s Stream> {
    match read_stream(ctx, db, ctx.args[2]) {
        Err(()) => None,
        Ok(None) => {
            ctx.out.err("no such key");
            None
        }
        Ok(Some(s)) => Some(s),
    }
}

pub fn xinfo_stream(ctx: &mut Ctx, db: &mut Store) {
    let Some(s) = info_stream(ctx, db) else {
        return;
    };
    let opts = &ctx.args[3..];
    let mut count = 10;
    let full = !opts.is_empty();
    if full {
        let valid = (opts.len() == 1 || opts.len() == 3)
            && eq_ignore_case(opts[0], "full")
            && (opts.len() == 1 || eq_ignore_case(opts[1], "count"));
        if !valid {
            return super::server::subcommand_syntax_error(ctx, "XINFO");
        }
        if opts.len() == 3 {
            let Some(n) = ctx.int_arg(5) else {
                return;
            };
            count = if n < 0 { 10 } else { n as usize };
        }
    }
    let out = &mut ctx.out;
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.length as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.rax_nodes() as i64);
    out.bulk(b"last-generated-id");
    reply_id(out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(out, s.max_deleted);
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(out, s.first_id);
    if full {
        out.bulk(b"entries");
        reply_range(out, s, StreamId::MIN, StreamId::MAX, false, count);
        out.bulk(b"groups");
        out.array(0);
    } else {
        out.bulk(b"groups");
        out.int(0);
        for (name, rev) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            out.bulk(name);
            match s.range(StreamId::MIN, StreamId::MAX, rev).next() {
                Some((id, fields)) => reply_entry(out, id, fields),
                None => out.null(),
            }
        }
    }
}
