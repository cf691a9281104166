//! Stream commands: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID,
//! XREAD (blocking too) and XINFO. The data structure lives in
//! store/stream.rs; blocked readers are served by commands/blocking.rs.

use super::{blocking, table::KeysProc, Ctx, KeyIndices};
use crate::blocking::{BlockOp, GroupRead, Waiter};
use crate::config;
use crate::protocol::Reply;
use crate::pubsub::events;
use crate::store::stream::{
    parse_id, Fields, Group, Limits, Stream, StreamId, Trim, INVALID_ENTRIES_READ,
    LISTPACK_MAX_SIZE,
};
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

// ---- XREAD, XREADGROUP ----

/// XREAD's and XREADGROUP's options.
struct ReadArgs {
    /// BLOCK's timeout in ms (0 = forever).
    block: Option<i64>,
    count: usize,
    /// Index of the first key; as many IDs follow the keys.
    streams_at: usize,
    nkeys: usize,
    /// Index of GROUP's group name (the consumer follows).
    group_at: Option<usize>,
    noack: bool,
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

/// Parses the options up to STREAMS (shared with the key finders).
fn read_args(args: &[&[u8]], xreadgroup: bool) -> Result<ReadArgs, ReadError> {
    let mut a = ReadArgs {
        block: None,
        count: 0,
        streams_at: 0,
        nkeys: 0,
        group_at: None,
        noack: false,
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
            if !xreadgroup {
                return Err(ReadError::Group);
            }
            a.group_at = Some(i + 1);
            i += 2;
        } else if eq_ignore_case(o, "noack") {
            if !xreadgroup {
                return Err(ReadError::NoAck);
            }
            a.noack = true;
        } else {
            return Err(ReadError::Syntax);
        }
        i += 1;
    }
    Err(ReadError::Syntax)
}

fn read_keys(args: &[&[u8]], out: &mut KeyIndices, xreadgroup: bool) {
    if let Ok(a) = read_args(args, xreadgroup) {
        out.extend(a.streams_at..a.streams_at + a.nkeys);
    }
}

/// XREAD's keys follow its STREAMS option.
pub static READ_KEYS: KeysProc = KeysProc {
    extra: |args, out: &mut KeyIndices| read_keys(args, out, false),
    undeclared: |_| false,
};

pub static READGROUP_KEYS: KeysProc = KeysProc {
    extra: |args, out: &mut KeyIndices| read_keys(args, out, true),
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
/// a stream whose last ID went past the one it waits after (for
/// XREADGROUP, its group's last ID). A blocked XREADGROUP whose key or
/// group went away is "served" its error.
pub(super) fn ready_for(db: &mut Store, key: &[u8], w: &Waiter) -> bool {
    let (Some(after), BlockOp::XRead { group, .. }) = (waited_id(w, key), &w.op) else {
        return false;
    };
    match (db.write(key).map(|e| e.value()), group) {
        (Some(ValueRef::Obj(Value::Stream(s))), None) => s.last_id > after,
        (Some(ValueRef::Obj(Value::Stream(s))), Some(g)) => s
            .groups
            .get(&g.group)
            .is_none_or(|cg| s.last_id > cg.last_id),
        (_, None) => false,
        (_, Some(_)) => true,
    }
}

/// Serves a blocked XREAD that `ready_for` found ready: [[key, entries]].
pub(super) fn serve_blocked(db: &mut Store, key: &[u8], w: &Waiter, out: &mut Reply) {
    let (Some(after), BlockOp::XRead { count, group, .. }) = (waited_id(w, key), &w.op) else {
        return out.null_array();
    };
    let now = db.now;
    let Some(ValueRef::Obj(Value::Stream(_))) = db.get_ref(key).map(|e| e.value()) else {
        return out.error("UNBLOCKED the stream key no longer exists");
    };
    let Some(Some(Value::Stream(s))) = db.write(key).map(|e| e.obj_mut()) else {
        return out.null_array();
    };
    let s: &mut Stream = s;
    if let Some(g) = group {
        if !s.groups.contains_key(&g.group) {
            return out
                .error("NOGROUP the consumer group this client was blocked on no longer exists");
        }
    }
    if out.resp == 2 {
        out.array(1);
        out.array(2);
    } else {
        out.map(1);
    }
    out.bulk(key);
    match group {
        None => match after.next() {
            Some(start) => reply_range(out, s, start, StreamId::MAX, false, *count),
            None => out.array(0),
        },
        Some(g) => {
            let from = s.groups.get(&g.group).map_or(after, |cg| cg.last_id);
            read_group(out, s, g, from, *count, false, now);
        }
    }
}

/// Delivers to a consumer of a group the entries after `after`: new ones
/// (advancing the group and, unless NOACK, adding them to its pending
/// list), or with `history` the consumer's own pending ones.
fn read_group(
    out: &mut Reply,
    s: &mut Stream,
    g: &GroupRead,
    after: StreamId,
    count: usize,
    history: bool,
    now: i64,
) {
    let Some(mut cg) = s.groups.remove(&g.group) else {
        return out.array(0);
    };
    let limit = if count == 0 { usize::MAX } else { count };
    let start = after.next().unwrap_or(StreamId::MAX);
    let pel: Vec<StreamId> = if history {
        let c = cg.consumer(&g.consumer, now);
        c.pel.range(start..).take(limit).copied().collect()
    } else {
        cg.consumer(&g.consumer, now);
        Vec::new()
    };
    if history {
        out.array(pel.len());
        for id in pel {
            match s.get(id) {
                Some(fields) => {
                    reply_entry(out, id, fields);
                    if let Some(n) = cg.pel.get_mut(&id) {
                        n.delivery_time = now;
                        n.delivery_count += 1;
                    }
                }
                None => {
                    out.array(2);
                    reply_id(out, id);
                    out.null_array();
                }
            }
        }
    } else {
        let entries: Vec<_> = s.range(start, StreamId::MAX, false).take(limit).collect();
        out.array(entries.len());
        for (id, fields) in entries {
            s.advance_group(&mut cg, id);
            reply_entry(out, id, fields);
            if !g.noack {
                let n = cg.assign(id, &g.consumer, now);
                n.delivery_time = now;
                n.delivery_count = 1;
            }
        }
    }
    s.groups.insert(g.group.clone(), cg);
}

/// Blocked reads return at most this many entries when no COUNT was given.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// Marks XREADGROUP's `>` among the IDs, as Redis does.
const NEW_ENTRIES: StreamId = StreamId::MAX;

fn no_group_error(ctx: &mut Ctx, msg: &[&[u8]]) {
    ctx.out.error_bytes(&msg.concat());
}

fn read_generic(ctx: &mut Ctx, db: &mut Store, xreadgroup: bool) {
    let args = ctx.args;
    let a = match read_args(args, xreadgroup) {
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
    let group = a.group_at.map(|i| GroupRead {
        group: args[i].to_vec(),
        consumer: args[i + 1].to_vec(),
        noack: a.noack,
    });
    if xreadgroup && group.is_none() {
        return ctx.out.err("Missing GROUP option for XREADGROUP");
    }
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
            Ok(s) => {
                if let Some(g) = &group {
                    if !s.is_some_and(|s| s.groups.contains_key(&g.group)) {
                        return no_group_error(
                            ctx,
                            &[
                                b"NOGROUP No such key '",
                                key,
                                b"' or consumer group '",
                                &g.group,
                                b"' in XREADGROUP with GROUP option",
                            ],
                        );
                    }
                }
                s.map(|s| s.last_id)
            }
        };
        if *arg == b"$" {
            if group.is_some() {
                return ctx.out.err("The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
            }
            after.push(last.unwrap_or(StreamId::MIN));
            continue;
        }
        if *arg == b">" {
            if group.is_none() {
                return ctx.out.err(
                    "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                );
            }
            after.push(NEW_ENTRIES);
            continue;
        }
        let Some(id) = id_arg(ctx, arg, 0, true) else {
            return;
        };
        after.push(id);
    }
    // Serve synchronously the streams that have something: (key index,
    // entries after this ID, history).
    let mut ready = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let Ok(Some(s)) = read_stream(ctx, db, key) else {
            continue;
        };
        let top = s.edge_id(false);
        match &group {
            Some(_) if after[i] != NEW_ENTRIES => ready.push((i, after[i], true)),
            Some(g) => {
                let last = s
                    .groups
                    .get(&g.group)
                    .map_or(StreamId::MAX, |cg| cg.last_id);
                if top.is_some_and(|top| top > last) {
                    ready.push((i, last, false));
                }
            }
            None => {
                if top.is_some_and(|top| top > after[i]) {
                    ready.push((i, after[i], false));
                }
            }
        }
    }
    if !ready.is_empty() {
        if ctx.out.resp == 2 {
            ctx.out.array(ready.len());
        } else {
            ctx.out.map(ready.len());
        }
        let now = db.now;
        for (i, from, history) in ready {
            if ctx.out.resp == 2 {
                ctx.out.array(2);
            }
            ctx.out.bulk(keys[i]);
            let Some(Some(Value::Stream(s))) = db.write(keys[i]).map(|e| e.obj_mut()) else {
                ctx.out.array(0);
                continue;
            };
            match &group {
                Some(g) => read_group(&mut ctx.out, s, g, from, a.count, history, now),
                None => match from.next() {
                    Some(start) => {
                        reply_range(&mut ctx.out, s, start, StreamId::MAX, false, a.count)
                    }
                    None => ctx.out.array(0),
                },
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
    let op = BlockOp::XRead {
        after: ids,
        count,
        group,
    };
    blocking::block(ctx, db, &uniq, op, deadline);
}

pub fn xread(ctx: &mut Ctx, db: &mut Store) {
    read_generic(ctx, db, false);
}

pub fn xreadgroup(ctx: &mut Ctx, db: &mut Store) {
    read_generic(ctx, db, true);
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
        reply_full_groups(out, s, count);
    } else {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        for (name, rev) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            out.bulk(name);
            match s.range(StreamId::MIN, StreamId::MAX, rev).next() {
                Some((id, fields)) => reply_entry(out, id, fields),
                None => out.null(),
            }
        }
    }
}

pub fn xinfo_groups(ctx: &mut Ctx, db: &mut Store) {
    let Some(s) = info_stream(ctx, db) else {
        return;
    };
    let out = &mut ctx.out;
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(g.consumers.len() as i64);
        out.bulk(b"pending");
        out.int(g.pel.len() as i64);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        reply_counters(out, s, g);
    }
}

/// A group's entries-read and lag fields (null when unknown).
fn reply_counters(out: &mut Reply, s: &Stream, g: &Group) {
    out.bulk(b"entries-read");
    match g.entries_read {
        INVALID_ENTRIES_READ => out.null(),
        n => out.int(n),
    }
    out.bulk(b"lag");
    match s.lag(g) {
        Some(n) => out.int(n),
        None => out.null(),
    }
}

pub fn xinfo_consumers(ctx: &mut Ctx, db: &mut Store) {
    let now = crate::util::now_ms();
    let gname = ctx.args[3];
    let Some(s) = info_stream(ctx, db) else {
        return;
    };
    let Some(g) = s.groups.get(gname) else {
        let key = ctx.args[2];
        return no_group_error(
            ctx,
            &[
                b"NOGROUP No such consumer group '",
                gname,
                b"' for key name '",
                key,
                b"'",
            ],
        );
    };
    let out = &mut ctx.out;
    out.array(g.consumers.len());
    for (name, c) in &g.consumers {
        out.map(3);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"pending");
        out.int(c.pel.len() as i64);
        out.bulk(b"idle");
        out.int((now - c.seen_time).max(0));
    }
}

/// XINFO STREAM FULL's groups, each with at most `count` pending entries
/// (0 = all) in its and its consumers' lists.
fn reply_full_groups(out: &mut Reply, s: &Stream, count: usize) {
    let limit = if count == 0 { usize::MAX } else { count };
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        reply_counters(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        out.array(g.pel.len().min(limit));
        for (id, n) in g.pel.iter().take(limit) {
            out.array(4);
            reply_id(out, *id);
            out.bulk(&n.consumer);
            out.int(n.delivery_time);
            out.int(n.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            out.array(c.pel.len().min(limit));
            for id in c.pel.iter().take(limit) {
                let n = g.pel.get(id);
                out.array(3);
                reply_id(out, *id);
                out.int(n.map_or(0, |n| n.delivery_time));
                out.int(n.map_or(0, |n| n.delivery_count as i64));
            }
        }
    }
}

// ---- XGROUP ----

pub fn xgroup_help(ctx: &mut Ctx, _: &mut Store) {
    super::server::help(
        ctx,
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    );
}

/// CREATE's and SETID's options: (MKSTREAM, ENTRIESREAD), None after
/// replying the error.
fn group_options(ctx: &mut Ctx, create: bool) -> Option<(bool, i64)> {
    let args = ctx.args;
    let (mut mkstream, mut entries_read) = (false, INVALID_ENTRIES_READ);
    let mut i = 5;
    while i < args.len() {
        if create && eq_ignore_case(args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if eq_ignore_case(args[i], "entriesread") && i + 1 < args.len() {
            let n = ctx.int_arg(i + 1)?;
            if n < 0 && n != INVALID_ENTRIES_READ {
                ctx.out.err("value for ENTRIESREAD must be positive or -1");
                return None;
            }
            entries_read = n;
            i += 2;
        } else {
            super::server::subcommand_syntax_error(ctx, "XGROUP");
            return None;
        }
    }
    Some((mkstream, entries_read))
}

/// The stream of an XGROUP subcommand, which must exist (unless
/// `mkstream`) and hold the group if `need_group`; None after replying.
fn group_stream<'s>(
    ctx: &mut Ctx,
    db: &'s mut Store,
    mkstream: bool,
    need_group: bool,
) -> Option<Option<&'s mut Stream>> {
    let (key, gname) = (ctx.args[2], ctx.args[3]);
    let s = write_stream(ctx, db, key).ok()?;
    if mkstream {
        return Some(s);
    }
    let Some(s) = s else {
        ctx.out.err("The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
        return None;
    };
    if need_group && !s.groups.contains_key(gname) {
        no_group_error(
            ctx,
            &[
                b"NOGROUP No such consumer group '",
                gname,
                b"' for key name '",
                key,
                b"'",
            ],
        );
        return None;
    }
    Some(Some(s))
}

pub fn xgroup_create(ctx: &mut Ctx, db: &mut Store) {
    let Some((mkstream, entries_read)) = group_options(ctx, true) else {
        return;
    };
    let (key, gname, id_arg_) = (ctx.args[2], ctx.args[3], ctx.args[4]);
    let Some(s) = group_stream(ctx, db, mkstream, false) else {
        return;
    };
    let last = s.map(|s| s.last_id);
    let id = if id_arg_ == b"$" {
        last.unwrap_or(StreamId::MIN)
    } else {
        match id_arg(ctx, id_arg_, 0, true) {
            Some(id) => id,
            None => return,
        }
    };
    if last.is_none() {
        db.set(key, NewValue::Obj(Value::Stream(Box::default())), None);
    }
    let Ok(Some(s)) = write_stream(ctx, db, key) else {
        return;
    };
    if s.groups.contains_key(gname) {
        return ctx
            .out
            .error("BUSYGROUP Consumer Group name already exists");
    }
    s.groups
        .insert(gname.to_vec(), Group::new(id, entries_read));
    ctx.out.ok();
    db.notify(events::STREAM, "xgroup-create", key);
    db.modified(key);
}

pub fn xgroup_setid(ctx: &mut Ctx, db: &mut Store) {
    let Some((_, entries_read)) = group_options(ctx, false) else {
        return;
    };
    let (key, gname, arg) = (ctx.args[2], ctx.args[3], ctx.args[4]);
    let Some(Some(s)) = group_stream(ctx, db, false, true) else {
        return;
    };
    let id = if arg == b"$" {
        s.last_id
    } else {
        match parse_id(arg, 0, false, false) {
            Some((id, _)) => id,
            None => return ctx.out.err(INVALID_ID),
        }
    };
    let Ok(Some(s)) = write_stream(ctx, db, key) else {
        return;
    };
    if let Some(g) = s.groups.get_mut(gname) {
        g.last_id = id;
        g.entries_read = entries_read;
    }
    ctx.out.ok();
    db.notify(events::STREAM, "xgroup-setid", key);
    db.modified(key);
}

pub fn xgroup_destroy(ctx: &mut Ctx, db: &mut Store) {
    let (key, gname) = (ctx.args[2], ctx.args[3]);
    let Some(Some(s)) = group_stream(ctx, db, false, false) else {
        return;
    };
    if s.groups.remove(gname).is_none() {
        return ctx.out.int(0);
    }
    ctx.out.int(1);
    db.notify(events::STREAM, "xgroup-destroy", key);
    // Also wakes the XREADGROUPs blocked on the group, with an error.
    db.modified(key);
}

pub fn xgroup_createconsumer(ctx: &mut Ctx, db: &mut Store) {
    let (key, gname, cname) = (ctx.args[2], ctx.args[3], ctx.args[4]);
    let now = crate::util::now_ms();
    let Some(Some(s)) = group_stream(ctx, db, false, true) else {
        return;
    };
    let Some(g) = s.groups.get_mut(gname) else {
        return;
    };
    if g.consumers.contains_key(cname) {
        return ctx.out.int(0);
    }
    g.consumer(cname, now);
    ctx.out.int(1);
    db.notify(events::STREAM, "xgroup-createconsumer", key);
    db.modified(key);
}

pub fn xgroup_delconsumer(ctx: &mut Ctx, db: &mut Store) {
    let (key, gname, cname) = (ctx.args[2], ctx.args[3], ctx.args[4]);
    let Some(Some(s)) = group_stream(ctx, db, false, true) else {
        return;
    };
    let Some(g) = s.groups.get_mut(gname) else {
        return;
    };
    let Some(c) = g.consumers.remove(cname) else {
        return ctx.out.int(0);
    };
    for id in &c.pel {
        g.pel.remove(id);
    }
    ctx.out.int(c.pel.len() as i64);
    db.notify(events::STREAM, "xgroup-delconsumer", key);
    db.modified(key);
}

// ---- XACK, XPENDING, XCLAIM, XAUTOCLAIM ----

pub fn xack(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let exists = match read_stream(ctx, db, args[1]) {
        Err(()) => return,
        Ok(s) => s.is_some_and(|s| s.groups.contains_key(args[2])),
    };
    if !exists {
        return ctx.out.int(0);
    }
    let mut ids = Vec::with_capacity(args.len() - 3);
    for a in &args[3..] {
        let Some(id) = id_arg(ctx, a, 0, true) else {
            return;
        };
        ids.push(id);
    }
    let Ok(Some(s)) = write_stream(ctx, db, args[1]) else {
        return;
    };
    let Some(g) = s.groups.get_mut(args[2]) else {
        return ctx.out.int(0);
    };
    let acked = ids.into_iter().filter(|&id| g.unpend(id)).count();
    ctx.out.int(acked as i64);
}

/// The stream and group of XPENDING/XCLAIM/XAUTOCLAIM; None after replying
/// WRONGTYPE or NOGROUP.
fn stream_group<'s>(ctx: &mut Ctx, db: &'s mut Store) -> Option<&'s mut Stream> {
    let (key, gname) = (ctx.args[1], ctx.args[2]);
    match write_stream(ctx, db, key) {
        Err(()) => None,
        Ok(Some(s)) if s.groups.contains_key(gname) => Some(s),
        Ok(_) => {
            no_group_error(
                ctx,
                &[
                    b"NOGROUP No such key '",
                    key,
                    b"' or consumer group '",
                    gname,
                    b"'",
                ],
            );
            None
        }
    }
}

pub fn xpending(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return ctx.syntax_error();
    }
    let mut range = None;
    if argc >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if eq_ignore_case(args[3], "idle") {
            let Some(n) = ctx.int_arg(4) else {
                return;
            };
            if argc < 8 {
                return ctx.syntax_error();
            }
            min_idle = n;
            at += 2;
        }
        let Some(count) = ctx.int_arg(at + 2) else {
            return;
        };
        let Some(start) = bound_arg(ctx, args[at], true) else {
            return;
        };
        let Some(end) = bound_arg(ctx, args[at + 1], false) else {
            return;
        };
        range = Some((
            start,
            end,
            count.max(0) as usize,
            min_idle,
            args.get(at + 3),
        ));
    }
    let Some(s) = stream_group(ctx, db) else {
        return;
    };
    let Some(g) = s.groups.get(args[2]) else {
        return;
    };
    let out = &mut ctx.out;
    let Some((start, end, count, min_idle, consumer)) = range else {
        out.array(4);
        out.int(g.pel.len() as i64);
        let (Some((first, _)), Some((last, _))) = (g.pel.first_key_value(), g.pel.last_key_value())
        else {
            out.null();
            out.null();
            return out.null_array();
        };
        reply_id(out, *first);
        reply_id(out, *last);
        let owners: Vec<_> = g
            .consumers
            .iter()
            .filter(|(_, c)| !c.pel.is_empty())
            .collect();
        out.array(owners.len());
        for (name, c) in owners {
            out.array(2);
            out.bulk(name);
            out.bulk_int(c.pel.len() as i64);
        }
        return;
    };
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match g.consumers.get(*name) {
            Some(c) if start <= end => c.pel.range(start..=end).copied().collect(),
            _ => Vec::new(),
        },
        None if start <= end => g.pel.range(start..=end).map(|(id, _)| *id).collect(),
        None => Vec::new(),
    };
    let now = crate::util::now_ms();
    let rows: Vec<_> = ids
        .into_iter()
        .filter_map(|id| g.pel.get(&id).map(|n| (id, n)))
        .filter(|(_, n)| min_idle == 0 || now - n.delivery_time >= min_idle)
        .take(count)
        .collect();
    out.array(rows.len());
    for (id, n) in rows {
        out.array(4);
        reply_id(out, id);
        out.bulk(&n.consumer);
        out.int((now - n.delivery_time).max(0));
        out.int(n.delivery_count as i64);
    }
}

/// An integer option with its own error message.
fn int_or(ctx: &mut Ctx, i: usize, msg: &str) -> Option<i64> {
    let v = parse_i64(ctx.args[i]);
    if v.is_none() {
        ctx.out.err(msg);
    }
    v
}

pub fn xclaim(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let now = crate::util::now_ms();
    if stream_group(ctx, db).is_none() {
        return;
    }
    let Some(min_idle) = int_or(ctx, 4, "Invalid min-idle-time argument for XCLAIM") else {
        return;
    };
    let min_idle = min_idle.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match parse_id(args[j], 0, true, false) {
            Some((id, _)) => ids.push(id),
            None => break,
        }
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut retrycount = -1;
    let mut delivery: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = j + 1 < args.len();
        let o = args[j];
        if eq_ignore_case(o, "force") {
            force = true;
        } else if eq_ignore_case(o, "justid") {
            justid = true;
        } else if eq_ignore_case(o, "idle") && more {
            j += 1;
            let Some(n) = int_or(ctx, j, "Invalid IDLE option argument for XCLAIM") else {
                return;
            };
            delivery = Some(now - n);
        } else if eq_ignore_case(o, "time") && more {
            j += 1;
            let Some(n) = int_or(ctx, j, "Invalid TIME option argument for XCLAIM") else {
                return;
            };
            delivery = Some(n);
        } else if eq_ignore_case(o, "retrycount") && more {
            j += 1;
            let Some(n) = int_or(ctx, j, "Invalid RETRYCOUNT option argument for XCLAIM") else {
                return;
            };
            retrycount = n;
        } else if eq_ignore_case(o, "lastid") && more {
            j += 1;
            let Some(id) = id_arg(ctx, args[j], 0, true) else {
                return;
            };
            last_id = id;
        } else {
            let msg = [b"ERR Unrecognized XCLAIM option '", c_str(o), b"'"].concat();
            return ctx.out.error_bytes(&msg);
        }
        j += 1;
    }
    let delivery = match delivery {
        Some(t) if (0..=now).contains(&t) => t,
        _ => now,
    };
    let Some(s) = stream_group(ctx, db) else {
        return;
    };
    let Some(mut g) = s.groups.remove(args[2]) else {
        return;
    };
    let cname = args[3];
    if last_id > g.last_id {
        g.last_id = last_id;
    }
    let mut claimed: Vec<StreamId> = Vec::new();
    for id in ids {
        let exists = s.get(id).is_some();
        if !exists {
            g.unpend(id);
            continue;
        }
        let pending = g.pel.get(&id);
        if pending.is_none() && !force {
            continue;
        }
        if let Some(n) = pending {
            if min_idle > 0 && now - n.delivery_time < min_idle {
                continue;
            }
        }
        g.consumer(cname, now);
        let n = g.assign(id, cname, delivery);
        n.delivery_time = delivery;
        if retrycount >= 0 {
            n.delivery_count = retrycount as u64;
        } else if !justid {
            n.delivery_count += 1;
        }
        claimed.push(id);
    }
    let out = &mut ctx.out;
    out.array(claimed.len());
    for id in claimed {
        match (justid, s.get(id)) {
            (false, Some(fields)) => reply_entry(out, id, fields),
            _ => reply_id(out, id),
        }
    }
    s.groups.insert(args[2].to_vec(), g);
}

pub fn xautoclaim(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let now = crate::util::now_ms();
    let Some(min_idle) = int_or(ctx, 4, "Invalid min-idle-time argument for XAUTOCLAIM") else {
        return;
    };
    let min_idle = min_idle.max(0);
    let Some(start) = bound_arg(ctx, args[5], true) else {
        return;
    };
    // Redis scans at most 10 PEL entries per entry asked.
    const ATTEMPTS_FACTOR: i64 = 10;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        if eq_ignore_case(args[j], "count") && j + 1 < args.len() {
            match parse_i64(args[j + 1]).filter(|n| (1..=i64::MAX / ATTEMPTS_FACTOR).contains(n)) {
                Some(n) => count = n,
                None => return ctx.out.err("COUNT must be > 0"),
            }
            j += 1;
        } else if eq_ignore_case(args[j], "justid") {
            justid = true;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    let Some(s) = stream_group(ctx, db) else {
        return;
    };
    let Some(mut g) = s.groups.remove(args[2]) else {
        return;
    };
    let cname = args[3];
    let mut attempts = count * ATTEMPTS_FACTOR;
    let (mut claimed, mut deleted) = (Vec::new(), Vec::new());
    let mut cursor = g.pel.range(start..).map(|(id, _)| *id).next();
    while let Some(id) = cursor {
        if attempts == 0 || count == 0 {
            break;
        }
        attempts -= 1;
        cursor = g
            .pel
            .range((std::ops::Bound::Excluded(id), std::ops::Bound::Unbounded))
            .map(|(id, _)| *id)
            .next();
        if s.get(id).is_none() {
            g.unpend(id);
            deleted.push(id);
            count -= 1;
            continue;
        }
        if min_idle > 0
            && g.pel
                .get(&id)
                .is_some_and(|n| now - n.delivery_time < min_idle)
        {
            continue;
        }
        g.consumer(cname, now);
        let n = g.assign(id, cname, now);
        n.delivery_time = now;
        if !justid {
            n.delivery_count += 1;
        }
        claimed.push(id);
        count -= 1;
    }
    let out = &mut ctx.out;
    out.array(3);
    reply_id(out, cursor.unwrap_or(StreamId::MIN));
    out.array(claimed.len());
    for id in claimed {
        match (justid, s.get(id)) {
            (false, Some(fields)) => reply_entry(out, id, fields),
            _ => reply_id(out, id),
        }
    }
    out.array(deleted.len());
    for id in deleted {
        reply_id(out, id);
    }
    s.groups.insert(args[2].to_vec(), g);
}
