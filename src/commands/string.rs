//! String commands: SET family, GET family, MGET/MSET, APPEND, STRLEN,
//! GETRANGE/SETRANGE, INCR family, INCRBYFLOAT, LCS.

use super::Ctx;
use crate::config;
use crate::pubsub::events;
use crate::store::{Entry, NewValue, Store, Value, ValueRef};
use crate::util::{eq_ignore_case, incr_by_float, parse_i64, IncrFloatError};

/// The bytes of a string entry (integers are printed into `buf`); None for
/// other types.
pub fn string_bytes<'e>(e: &'e Entry, buf: &'e mut itoa::Buffer) -> Option<&'e [u8]> {
    match e.value() {
        ValueRef::Str(s) => Some(s),
        ValueRef::Int(n) => Some(buf.format(n).as_bytes()),
        ValueRef::Obj(Value::Str(s)) => Some(s),
        #[allow(unreachable_patterns)]
        ValueRef::Obj(_) => None,
    }
}

/// Replies with a string entry's value; false (and no reply) for other types.
fn reply_string(ctx: &mut Ctx, e: &Entry) -> bool {
    let mut buf = itoa::Buffer::new();
    match string_bytes(e, &mut buf) {
        Some(s) => {
            ctx.out.bulk(s);
            true
        }
        None => false,
    }
}

pub fn get(ctx: &mut Ctx, db: &mut Store) {
    match db.read(ctx.args[1]) {
        None => ctx.out.null(),
        Some(e) => {
            if !reply_string(ctx, e) {
                ctx.wrong_type();
            }
        }
    }
}

/// Expiry options shared by SET and GETEX.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireOpt {
    None,
    Ex,
    Px,
    ExAt,
    PxAt,
    KeepTtl,
    Persist,
}

struct SetOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    expire: ExpireOpt,
    expire_arg: Option<&'a [u8]>,
}

/// Redis's parseExtendedStringArgumentsOrReply, including which repeats and
/// combinations it tolerates.
fn parse_set_options<'a>(ctx: &mut Ctx<'a>, from: usize, is_set: bool) -> Option<SetOptions<'a>> {
    let args = ctx.args;
    let mut o = SetOptions {
        nx: false,
        xx: false,
        get: false,
        expire: ExpireOpt::None,
        expire_arg: None,
    };
    let mut j = from;
    while j < args.len() {
        let opt = args[j];
        let has_next = j + 1 < args.len();
        let e = o.expire;
        let timed = |kind: ExpireOpt| {
            !matches!(e, ExpireOpt::KeepTtl | ExpireOpt::Persist)
                && (e == ExpireOpt::None || e == kind)
        };
        if is_set && eq_ignore_case(opt, "nx") && !o.xx {
            o.nx = true;
        } else if is_set && eq_ignore_case(opt, "xx") && !o.nx {
            o.xx = true;
        } else if is_set && eq_ignore_case(opt, "get") {
            o.get = true;
        } else if is_set
            && eq_ignore_case(opt, "keepttl")
            && matches!(e, ExpireOpt::None | ExpireOpt::KeepTtl)
        {
            o.expire = ExpireOpt::KeepTtl;
        } else if !is_set
            && eq_ignore_case(opt, "persist")
            && matches!(e, ExpireOpt::None | ExpireOpt::Persist)
        {
            o.expire = ExpireOpt::Persist;
        } else if has_next && eq_ignore_case(opt, "ex") && timed(ExpireOpt::Ex) {
            o.expire = ExpireOpt::Ex;
            o.expire_arg = Some(args[j + 1]);
            j += 1;
        } else if has_next && eq_ignore_case(opt, "px") && timed(ExpireOpt::Px) {
            o.expire = ExpireOpt::Px;
            o.expire_arg = Some(args[j + 1]);
            j += 1;
        } else if has_next && eq_ignore_case(opt, "exat") && timed(ExpireOpt::ExAt) {
            o.expire = ExpireOpt::ExAt;
            o.expire_arg = Some(args[j + 1]);
            j += 1;
        } else if has_next && eq_ignore_case(opt, "pxat") && timed(ExpireOpt::PxAt) {
            o.expire = ExpireOpt::PxAt;
            o.expire_arg = Some(args[j + 1]);
            j += 1;
        } else {
            ctx.syntax_error();
            return None;
        }
        j += 1;
    }
    Some(o)
}

/// Converts an EX/PX/EXAT/PXAT argument to an absolute deadline in ms.
fn expire_deadline(ctx: &mut Ctx, kind: ExpireOpt, arg: &[u8], now: i64) -> Option<i64> {
    let value = match parse_i64(arg) {
        Some(v) => v,
        None => {
            ctx.not_integer();
            return None;
        }
    };
    let seconds = matches!(kind, ExpireOpt::Ex | ExpireOpt::ExAt);
    let relative = matches!(kind, ExpireOpt::Ex | ExpireOpt::Px);
    let ms = if value <= 0 || (seconds && value > i64::MAX / 1000) {
        None
    } else {
        let ms = if seconds { value * 1000 } else { value };
        if relative {
            ms.checked_add(now).filter(|v| *v > 0)
        } else {
            Some(ms)
        }
    };
    if ms.is_none() {
        let msg = format!("invalid expire time in '{}' command", ctx.cmd.fullname());
        ctx.out.err(&msg);
    }
    ms
}

/// SET and its relatives; `nx_reply` is the reply for a refused NX/XX
/// (SETNX answers 0/1 instead of nil/OK).
fn set_generic(
    ctx: &mut Ctx,
    db: &mut Store,
    key: &[u8],
    value: &[u8],
    opts: SetOptions,
    counts: bool,
) {
    let deadline = match (opts.expire, opts.expire_arg) {
        (kind, Some(arg)) => match expire_deadline(ctx, kind, arg, db.now) {
            Some(d) => Some(d),
            None => return,
        },
        _ => None,
    };
    let existing = db.write(key);
    let found = existing.is_some();
    if opts.get {
        match existing {
            None => ctx.out.null(),
            Some(e) => {
                if !reply_string(ctx, e) {
                    return ctx.wrong_type();
                }
            }
        }
    }
    if (opts.nx && found) || (opts.xx && !found) {
        if !opts.get {
            if counts {
                ctx.out.int(0);
            } else {
                ctx.out.null();
            }
        }
        return;
    }
    if opts.expire == ExpireOpt::KeepTtl {
        db.set_keep_ttl(key, NewValue::string(value));
    } else {
        db.set(key, NewValue::string(value), deadline);
    }
    db.notify(events::STRING, "set", key);
    if deadline.is_some() {
        db.notify(events::GENERIC, "expire", key);
    }
    if !opts.get {
        if counts {
            ctx.out.int(1);
        } else {
            ctx.out.ok();
        }
    }
}

pub fn set(ctx: &mut Ctx, db: &mut Store) {
    let Some(opts) = parse_set_options(ctx, 3, true) else {
        return;
    };
    let (key, value) = (ctx.args[1], ctx.args[2]);
    set_generic(ctx, db, key, value, opts, false);
}

pub fn setnx(ctx: &mut Ctx, db: &mut Store) {
    let opts = SetOptions {
        nx: true,
        xx: false,
        get: false,
        expire: ExpireOpt::None,
        expire_arg: None,
    };
    let (key, value) = (ctx.args[1], ctx.args[2]);
    set_generic(ctx, db, key, value, opts, true);
}

fn setex_generic(ctx: &mut Ctx, db: &mut Store, kind: ExpireOpt) {
    let opts = SetOptions {
        nx: false,
        xx: false,
        get: false,
        expire: kind,
        expire_arg: Some(ctx.args[2]),
    };
    let (key, value) = (ctx.args[1], ctx.args[3]);
    set_generic(ctx, db, key, value, opts, false);
}

pub fn setex(ctx: &mut Ctx, db: &mut Store) {
    setex_generic(ctx, db, ExpireOpt::Ex);
}

pub fn psetex(ctx: &mut Ctx, db: &mut Store) {
    setex_generic(ctx, db, ExpireOpt::Px);
}

pub fn getex(ctx: &mut Ctx, db: &mut Store) {
    let Some(opts) = parse_set_options(ctx, 2, false) else {
        return;
    };
    let key = ctx.args[1];
    match db.read(key) {
        None => return ctx.out.null(),
        Some(e) => {
            if matches!(e.value(), ValueRef::Obj(v) if v.type_name() != "string") {
                return ctx.wrong_type();
            }
        }
    }
    let deadline = match opts.expire_arg {
        Some(arg) => match expire_deadline(ctx, opts.expire, arg, db.now) {
            Some(d) => Some(d),
            None => return,
        },
        None => None,
    };
    if let Some(e) = db.write(key) {
        reply_string(ctx, e);
    }
    match (opts.expire, deadline) {
        (_, Some(when)) => db.expire_or_delete(key, when),
        (ExpireOpt::Persist, None) if db.write(key).is_some_and(|e| e.has_expire()) => {
            db.set_expire(key, None);
            db.notify(events::GENERIC, "persist", key);
        }
        _ => {}
    }
}

pub fn getdel(ctx: &mut Ctx, db: &mut Store) {
    let key = ctx.args[1];
    match db.read(key) {
        None => ctx.out.null(),
        Some(e) => {
            if reply_string(ctx, e) {
                db.delete(key);
                db.notify(events::GENERIC, "del", key);
            } else {
                ctx.wrong_type();
            }
        }
    }
}

pub fn getset(ctx: &mut Ctx, db: &mut Store) {
    let opts = SetOptions {
        nx: false,
        xx: false,
        get: true,
        expire: ExpireOpt::None,
        expire_arg: None,
    };
    let (key, value) = (ctx.args[1], ctx.args[2]);
    set_generic(ctx, db, key, value, opts, false);
}

pub fn mget(ctx: &mut Ctx, db: &mut Store) {
    ctx.out.array(ctx.args.len() - 1);
    for key in &ctx.args[1..] {
        match db.read(key) {
            Some(e) => {
                if !reply_string(ctx, e) {
                    ctx.out.null();
                }
            }
            None => ctx.out.null(),
        }
    }
}

pub fn mset(ctx: &mut Ctx, db: &mut Store) {
    if ctx.args.len().is_multiple_of(2) {
        return ctx.arity_error();
    }
    for pair in ctx.args[1..].chunks(2) {
        db.set(pair[0], NewValue::string(pair[1]), None);
        db.notify(events::STRING, "set", pair[0]);
    }
    ctx.out.ok();
}

pub fn msetnx(ctx: &mut Ctx, db: &mut Store) {
    if ctx.args.len().is_multiple_of(2) {
        return ctx.arity_error();
    }
    if ctx.args[1..]
        .chunks(2)
        .any(|pair| db.write(pair[0]).is_some())
    {
        return ctx.out.int(0);
    }
    for pair in ctx.args[1..].chunks(2) {
        db.set(pair[0], NewValue::string(pair[1]), None);
        db.notify(events::STRING, "set", pair[0]);
    }
    ctx.out.int(1);
}

/// Redis's checkStringLength: the result may not exceed proto-max-bulk-len.
fn check_length(ctx: &mut Ctx, size: i64, append: i64) -> bool {
    let max = ctx.srv.config.read().num(config::PROTO_MAX_BULK_LEN);
    match size.checked_add(append) {
        Some(total) if total <= max => true,
        _ => {
            ctx.out
                .err("string exceeds maximum allowed size (proto-max-bulk-len)");
            false
        }
    }
}

/// The buffer of a string entry in the growable `raw` form, converting it
/// without counting a change (Redis's dbUnshareStringValue: same contents).
/// None if the key is missing or not a string.
pub fn unshare<'s>(db: &'s mut Store, key: &[u8]) -> Option<&'s mut Vec<u8>> {
    let needs_rebuild = !matches!(db.write(key)?.value(), ValueRef::Obj(_));
    if needs_rebuild {
        db.reencode(key, |e| {
            let mut buf = itoa::Buffer::new();
            let bytes = string_bytes(&e, &mut buf).unwrap_or_default().to_vec();
            e.with_value(NewValue::Obj(Value::Str(bytes)))
        });
    }
    match db.write(key)?.obj_mut()? {
        Value::Str(s) => Some(s),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// `unshare` for a command about to modify the string. Writers that may
/// leave the bytes as they were (SETBIT of a bit already set, which in Redis
/// does not touch WATCHers) call `unshare` and mark the change themselves.
fn make_raw<'s>(db: &'s mut Store, key: &[u8]) -> Option<&'s mut Vec<u8>> {
    db.write(key)?;
    db.modified(key);
    unshare(db, key)
}

/// Some(length) for a string key, None if missing; Err(()) (with the reply
/// sent) for another type.
pub(crate) fn string_len(ctx: &mut Ctx, db: &mut Store, key: &[u8]) -> Result<Option<usize>, ()> {
    match db.write(key) {
        None => Ok(None),
        Some(e) => {
            let mut buf = itoa::Buffer::new();
            match string_bytes(e, &mut buf) {
                Some(s) => Ok(Some(s.len())),
                None => {
                    ctx.wrong_type();
                    Err(())
                }
            }
        }
    }
}

pub fn append(ctx: &mut Ctx, db: &mut Store) {
    let (key, tail) = (ctx.args[1], ctx.args[2]);
    let Ok(len) = string_len(ctx, db, key) else {
        return;
    };
    let n = match len {
        None => {
            db.set(key, NewValue::string(tail), None);
            tail.len()
        }
        Some(len) => {
            if !check_length(ctx, len as i64, tail.len() as i64) {
                return;
            }
            let Some(buf) = make_raw(db, key) else {
                return ctx.wrong_type();
            };
            buf.extend_from_slice(tail);
            buf.len()
        }
    };
    db.notify(events::STRING, "append", key);
    ctx.out.int(n as i64);
}

pub fn strlen(ctx: &mut Ctx, db: &mut Store) {
    let key = ctx.args[1];
    if db.read(key).is_none() {
        return ctx.out.int(0);
    }
    if let Ok(len) = string_len(ctx, db, key) {
        ctx.out.int(len.unwrap_or(0) as i64);
    }
}

pub fn getrange(ctx: &mut Ctx, db: &mut Store) {
    let Some(mut start) = ctx.int_arg(2) else {
        return;
    };
    let Some(mut end) = ctx.int_arg(3) else {
        return;
    };
    let Some(e) = db.read(ctx.args[1]) else {
        return ctx.out.bulk(b"");
    };
    let mut buf = itoa::Buffer::new();
    let Some(s) = string_bytes(e, &mut buf) else {
        return ctx.wrong_type();
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        return ctx.out.bulk(b"");
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        ctx.out.bulk(b"");
    } else {
        ctx.out.bulk(&s[start as usize..=end as usize]);
    }
}

pub fn substr(ctx: &mut Ctx, db: &mut Store) {
    getrange(ctx, db);
}

pub fn setrange(ctx: &mut Ctx, db: &mut Store) {
    let (key, value) = (ctx.args[1], ctx.args[3]);
    let Some(offset) = ctx.int_arg(2) else { return };
    if offset < 0 {
        return ctx.out.err("offset is out of range");
    }
    let Ok(len) = string_len(ctx, db, key) else {
        return;
    };
    match len {
        None if value.is_empty() => return ctx.out.int(0),
        Some(len) if value.is_empty() => return ctx.out.int(len as i64),
        _ => {}
    }
    if !check_length(ctx, offset, value.len() as i64) {
        return;
    }
    if len.is_none() {
        db.set(key, NewValue::Obj(Value::Str(Vec::new())), None);
    }
    let Some(buf) = make_raw(db, key) else {
        return ctx.wrong_type();
    };
    let offset = offset as usize;
    let end = offset + value.len();
    if buf.len() < end {
        buf.resize(end, 0);
    }
    buf[offset..end].copy_from_slice(value);
    let n = buf.len();
    db.notify(events::STRING, "setrange", key);
    ctx.out.int(n as i64);
}

fn incr_generic(ctx: &mut Ctx, db: &mut Store, by: i64) {
    let key = ctx.args[1];
    let found = db.write(key).is_some();
    let current = match db.write(key) {
        None => 0,
        Some(e) => {
            let mut buf = itoa::Buffer::new();
            match string_bytes(e, &mut buf) {
                None => return ctx.wrong_type(),
                Some(s) => match parse_i64(s) {
                    Some(n) => n,
                    None => return ctx.not_integer(),
                },
            }
        }
    };
    let Some(next) = current.checked_add(by) else {
        return ctx.out.err("increment or decrement would overflow");
    };
    // Counters stay in their block: no allocation per INCR.
    if db.write(key).is_some_and(|e| e.set_int_in_place(next)) {
        db.modified(key);
    } else if found {
        db.set_keep_ttl(key, NewValue::Int(next));
    } else {
        db.set(key, NewValue::Int(next), None);
    }
    db.notify(events::STRING, "incrby", key);
    ctx.out.int(next);
}

pub fn incr(ctx: &mut Ctx, db: &mut Store) {
    incr_generic(ctx, db, 1);
}

pub fn decr(ctx: &mut Ctx, db: &mut Store) {
    incr_generic(ctx, db, -1);
}

pub fn incrby(ctx: &mut Ctx, db: &mut Store) {
    let Some(by) = ctx.int_arg(2) else { return };
    incr_generic(ctx, db, by);
}

pub fn decrby(ctx: &mut Ctx, db: &mut Store) {
    let Some(by) = ctx.int_arg(2) else { return };
    if by == i64::MIN {
        return ctx.out.err("decrement would overflow");
    }
    incr_generic(ctx, db, -by);
}

pub fn incrbyfloat(ctx: &mut Ctx, db: &mut Store) {
    let (key, incr) = (ctx.args[1], ctx.args[2]);
    let result = match db.write(key) {
        None => incr_by_float(None, incr),
        Some(e) => {
            let mut buf = itoa::Buffer::new();
            match string_bytes(e, &mut buf) {
                None => return ctx.wrong_type(),
                Some(s) => incr_by_float(Some(s), incr),
            }
        }
    };
    match result {
        Ok(text) => {
            db.set_keep_ttl(key, NewValue::Str(&text));
            db.notify(events::STRING, "incrbyfloat", key);
            ctx.out.bulk(&text);
        }
        Err(IncrFloatError::NotAFloat) => ctx.out.err("value is not a valid float"),
        Err(IncrFloatError::NanOrInfinity) => {
            ctx.out.err("increment would produce NaN or Infinity")
        }
    }
}

pub fn lcs(ctx: &mut Ctx, db: &mut Store) {
    let mut values: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for (i, slot) in values.iter_mut().enumerate() {
        if let Some(e) = db.read(ctx.args[1 + i]) {
            let mut buf = itoa::Buffer::new();
            match string_bytes(e, &mut buf) {
                Some(s) => *slot = s.to_vec(),
                None => return ctx.out.err("The specified keys must contain string values"),
            }
        }
    }
    let (mut get_idx, mut get_len, mut with_len, mut min_len) = (false, false, false, 0i64);
    let mut j = 3;
    while j < ctx.args.len() {
        let opt = ctx.args[j];
        let more = ctx.args.len() - 1 - j;
        if eq_ignore_case(opt, "idx") {
            get_idx = true;
        } else if eq_ignore_case(opt, "len") {
            get_len = true;
        } else if eq_ignore_case(opt, "withmatchlen") {
            with_len = true;
        } else if eq_ignore_case(opt, "minmatchlen") && more > 0 {
            let Some(n) = ctx.int_arg(j + 1) else { return };
            min_len = n.max(0);
            j += 1;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    if get_idx && get_len {
        return ctx
            .out
            .err("If you want both the length and indexes, please just use IDX.");
    }
    let (a, b) = (&values[0], &values[1]);
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen + 1).saturating_mul(blen + 1);
    let max = ctx.srv.config.read().num(config::PROTO_MAX_BULK_LEN) as usize;
    if cells.saturating_mul(4) > max {
        return ctx
            .out
            .err("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    }
    let w = blen + 1;
    let mut table = vec![0u32; cells];
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * w + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * w + j - 1] + 1
            } else {
                table[(i - 1) * w + j].max(table[i * w + j - 1])
            };
        }
    }
    let total = table[alen * w + blen] as usize;
    if get_len {
        return ctx.out.int(total as i64);
    }
    // Walk back from the end, collecting the LCS and the matching ranges,
    // exactly in the order Redis emits them.
    let mut result = vec![0u8; total];
    let mut idx = total;
    let mut ranges: Vec<[usize; 5]> = Vec::new();
    let (mut i, mut j) = (alen, blen);
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0, 0, 0);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                a_start = i - 1;
                a_end = i - 1;
                b_start = j - 1;
                b_end = j - 1;
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * w + j] > table[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        if emit {
            let match_len = a_end - a_start + 1;
            if min_len == 0 || match_len as i64 >= min_len {
                ranges.push([a_start, a_end, b_start, b_end, match_len]);
            }
            a_start = alen;
        }
    }
    if !get_idx {
        return ctx.out.bulk(&result);
    }
    let out = &mut ctx.out;
    out.map(2);
    out.bulk(b"matches");
    out.array(ranges.len());
    for r in &ranges {
        out.array(if with_len { 3 } else { 2 });
        out.array(2);
        out.int(r[0] as i64);
        out.int(r[1] as i64);
        out.array(2);
        out.int(r[2] as i64);
        out.int(r[3] as i64);
        if with_len {
            out.int(r[4] as i64);
        }
    }
    out.bulk(b"len");
    out.int(total as i64);
}
