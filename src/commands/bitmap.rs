//! Bitmap commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
//! BITFIELD, BITFIELD_RO. A bitmap is an ordinary string; the bit
//! algorithms live in store/bitmap.rs.

use super::string::{string_bytes, string_len, unshare};
use super::Ctx;
use crate::config;
use crate::pubsub::events;
use crate::store::bitmap::{self, BitOp, Overflow};
use crate::store::{NewValue, Store, Value};
use crate::util::{eq_ignore_case, parse_i64};

const OFFSET_ERR: &str = "bit offset is not an integer or out of range";

/// Redis's getBitOffsetFromArgument: a bit offset whose byte lies below
/// proto-max-bulk-len; with `field_bits` > 0 (BITFIELD) `#N` means N fields
/// of that width.
fn bit_offset(ctx: &mut Ctx, arg: &[u8], field_bits: u32) -> Option<u64> {
    let (digits, scale) = match arg.split_first() {
        Some((b'#', rest)) if field_bits > 0 => (rest, field_bits as i64),
        _ => (arg, 1),
    };
    // Redis multiplies in C without overflow checks: a wrapped product
    // usually turns negative and is refused like any negative offset.
    let offset = parse_i64(digits).map(|n| n.wrapping_mul(scale));
    let max = ctx.srv.config.read().num(config::PROTO_MAX_BULK_LEN);
    match offset {
        Some(n) if n >= 0 && (n >> 3) < max => Some(n as u64),
        _ => {
            ctx.out.err(OFFSET_ERR);
            None
        }
    }
}

/// Zero-extends `buf` to `len` bytes, reserving like Redis's sdsMakeRoomFor
/// (double while under 1 MB, then 1 MB more), so a bitmap grown bit by bit
/// reallocates rarely without a huge one doubling its memory. Err if the
/// allocation is refused (only possible with a raised proto-max-bulk-len,
/// where Redis would abort).
fn grow_zeroed(buf: &mut Vec<u8>, len: usize) -> Result<(), ()> {
    const MAX_PREALLOC: usize = 1024 * 1024;
    if len <= buf.len() {
        return Ok(());
    }
    if len > buf.capacity() {
        let target = if len < MAX_PREALLOC {
            len * 2
        } else {
            len.saturating_add(MAX_PREALLOC)
        };
        buf.try_reserve_exact(target - buf.len()).map_err(|_| ())?;
    }
    buf.resize(len, 0);
    Ok(())
}

/// A writable bitmap: the buffer, and whether it was just created or grown
/// (a change even if no bit then flips).
struct Bitmap<'s> {
    bytes: &'s mut Vec<u8>,
    grown: bool,
}

/// Redis's lookupStringForBitCommand: the string at `key` as a mutable
/// buffer covering bit `max_bit`, created zero-filled if missing; None once
/// an error (WRONGTYPE) has been replied. The caller marks the key modified
/// if `grown` or if it changes a bit.
fn bitmap_for_write<'s>(
    ctx: &mut Ctx,
    db: &'s mut Store,
    key: &[u8],
    max_bit: u64,
) -> Option<Bitmap<'s>> {
    let len = usize::try_from(max_bit >> 3).map_or(usize::MAX, |n| n.saturating_add(1));
    let oom = |ctx: &mut Ctx| ctx.out.err("out of memory growing the string");
    match string_len(ctx, db, key) {
        Err(()) => return None,
        Ok(None) => {
            let mut fresh = Vec::new();
            if grow_zeroed(&mut fresh, len).is_err() {
                oom(ctx);
                return None;
            }
            db.set(key, NewValue::Obj(Value::Str(fresh)), None);
        }
        Ok(Some(_)) => {}
    }
    let Some(bytes) = unshare(db, key) else {
        ctx.wrong_type();
        return None;
    };
    let before = bytes.len();
    if grow_zeroed(bytes, len).is_err() {
        oom(ctx);
        return None;
    }
    let grown = bytes.len() != before;
    Some(Bitmap { bytes, grown })
}

pub fn setbit(ctx: &mut Ctx, db: &mut Store) {
    const BIT_ERR: &str = "bit is not an integer or out of range";
    let key = ctx.args[1];
    let Some(offset) = bit_offset(ctx, ctx.args[2], 0) else {
        return;
    };
    let on = match parse_i64(ctx.args[3]) {
        Some(v @ (0 | 1)) => v == 1,
        _ => return ctx.out.err(BIT_ERR),
    };
    let Some(map) = bitmap_for_write(ctx, db, key, offset) else {
        return;
    };
    let byte = &mut map.bytes[(offset >> 3) as usize];
    let mask = 0x80u8 >> (offset & 7);
    let was = *byte & mask != 0;
    if on {
        *byte |= mask;
    } else {
        *byte &= !mask;
    }
    if map.grown || was != on {
        db.modified(key);
        db.notify(events::STRING, "setbit", key);
    }
    ctx.out.int(was as i64);
}

pub fn getbit(ctx: &mut Ctx, db: &mut Store) {
    let Some(offset) = bit_offset(ctx, ctx.args[2], 0) else {
        return;
    };
    let Some(e) = db.read(ctx.args[1]) else {
        return ctx.out.int(0);
    };
    let mut buf = itoa::Buffer::new();
    let Some(s) = string_bytes(e, &mut buf) else {
        return ctx.wrong_type();
    };
    let set = usize::try_from(offset >> 3)
        .ok()
        .and_then(|i| s.get(i))
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0);
    ctx.out.int(set as i64);
}

/// Redis's start/end normalisation over `total` units: negative values
/// count from the end, then both are clamped into the string. None for an
/// empty range.
fn clamp_range(mut start: i64, mut end: i64, total: i64) -> Option<(u64, u64)> {
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    let start = start.max(0);
    let end = end.max(0).min(total - 1);
    (start <= end).then_some((start as u64, end as u64))
}

/// The BYTE|BIT argument at `i`: true for BIT; None after a syntax error.
fn unit_is_bit(ctx: &mut Ctx, i: usize) -> Option<bool> {
    let arg = ctx.args[i];
    if eq_ignore_case(arg, "bit") {
        Some(true)
    } else if eq_ignore_case(arg, "byte") {
        Some(false)
    } else {
        ctx.syntax_error();
        None
    }
}

/// A start..=end range in bytes or bits as the inclusive range of bits.
fn to_bits(range: (u64, u64), is_bit: bool) -> (u64, u64) {
    if is_bit {
        range
    } else {
        (range.0 * 8, range.1 * 8 + 7)
    }
}

pub fn bitcount(ctx: &mut Ctx, db: &mut Store) {
    // Redis 7.0 looks the key up before reading the range, so a missing key
    // answers 0 whatever the other arguments.
    let Some(e) = db.read(ctx.args[1]) else {
        return ctx.out.int(0);
    };
    let mut buf = itoa::Buffer::new();
    let Some(s) = string_bytes(e, &mut buf) else {
        return ctx.wrong_type();
    };
    let (start, end, is_bit) = match ctx.args.len() {
        2 => (0, -1, false),
        4 | 5 => {
            let Some(start) = ctx.int_arg(2) else { return };
            let Some(end) = ctx.int_arg(3) else { return };
            if start < 0 && end < 0 && start > end {
                return ctx.out.int(0);
            }
            let is_bit = if ctx.args.len() == 5 {
                let Some(b) = unit_is_bit(ctx, 4) else { return };
                b
            } else {
                false
            };
            (start, end, is_bit)
        }
        _ => return ctx.syntax_error(),
    };
    let total = s.len() as i64 * if is_bit { 8 } else { 1 };
    let count = match clamp_range(start, end, total) {
        None => 0,
        Some(range) => {
            let (lo, hi) = to_bits(range, is_bit);
            bitmap::count_range(s, lo, hi)
        }
    };
    ctx.out.int(count as i64);
}

pub fn bitpos(ctx: &mut Ctx, db: &mut Store) {
    let Some(bit) = ctx.int_arg(2) else { return };
    if bit != 0 && bit != 1 {
        return ctx.out.err("The bit argument must be 1 or 0.");
    }
    let want = bit == 1;
    // A missing key is an endless run of zeros.
    let Some(e) = db.read(ctx.args[1]) else {
        return ctx.out.int(if want { -1 } else { 0 });
    };
    let mut buf = itoa::Buffer::new();
    let Some(s) = string_bytes(e, &mut buf) else {
        return ctx.wrong_type();
    };
    let argc = ctx.args.len();
    let (start, end, is_bit) = match argc {
        3 => (0, -1, false),
        4..=6 => {
            let Some(start) = ctx.int_arg(3) else { return };
            let is_bit = if argc == 6 {
                let Some(b) = unit_is_bit(ctx, 5) else { return };
                b
            } else {
                false
            };
            let end = if argc >= 5 {
                let Some(end) = ctx.int_arg(4) else { return };
                end
            } else {
                -1
            };
            (start, end, is_bit)
        }
        _ => return ctx.syntax_error(),
    };
    let end_given = argc >= 5;
    let total = s.len() as i64 * if is_bit { 8 } else { 1 };
    let Some(range) = clamp_range(start, end, total) else {
        return ctx.out.int(-1);
    };
    let (lo, hi) = to_bits(range, is_bit);
    let pos = match bitmap::first_bit(s, want, lo, hi) {
        Some(p) => p as i64,
        // Without an explicit end the string counts as padded with zeros,
        // so the first clear bit is the one just past it.
        None if !want && !end_given => hi as i64 + 1,
        None => -1,
    };
    ctx.out.int(pos);
}

pub fn bitop(ctx: &mut Ctx, db: &mut Store) {
    let name = ctx.args[1];
    let op = if eq_ignore_case(name, "and") {
        BitOp::And
    } else if eq_ignore_case(name, "or") {
        BitOp::Or
    } else if eq_ignore_case(name, "xor") {
        BitOp::Xor
    } else if eq_ignore_case(name, "not") {
        BitOp::Not
    } else {
        return ctx.syntax_error();
    };
    if op == BitOp::Not && ctx.args.len() != 4 {
        return ctx
            .out
            .err("BITOP NOT must be called with a single source key.");
    }
    let (dest, keys) = (ctx.args[2], &ctx.args[3..]);
    for key in keys {
        if let Some(e) = db.read(key) {
            if string_bytes(e, &mut itoa::Buffer::new()).is_none() {
                return ctx.wrong_type();
            }
        }
    }
    let mut bufs: Vec<itoa::Buffer> = keys.iter().map(|_| itoa::Buffer::new()).collect();
    let store: &Store = db;
    let sources: Vec<&[u8]> = keys
        .iter()
        .zip(bufs.iter_mut())
        .map(|(k, buf)| {
            store
                .get_ref(k)
                .and_then(|e| string_bytes(e, buf))
                .unwrap_or_default()
        })
        .collect();
    let result = bitmap::bitop(op, &sources);
    let len = result.len();
    let value = (len > 0).then(|| NewValue::Obj(Value::Str(result)));
    db.store_result(dest, value, events::STRING, "set");
    ctx.out.int(len as i64);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set,
    IncrBy,
}

struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    value: i64,
    overflow: Overflow,
}

/// Redis's getBitfieldTypeFromArgument: i1..i64 or u1..u63.
fn field_type(ctx: &mut Ctx, arg: &[u8]) -> Option<(bool, u32)> {
    // Redis reads the width with strlen, so it ends at a NUL byte.
    let width = |rest: &[u8]| {
        let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
        parse_i64(&rest[..end])
    };
    let parsed = match arg.split_first() {
        Some((b'i', rest)) => width(rest)
            .filter(|n| (1..=64).contains(n))
            .map(|n| (true, n)),
        Some((b'u', rest)) => width(rest)
            .filter(|n| (1..=63).contains(n))
            .map(|n| (false, n)),
        _ => None,
    };
    if parsed.is_none() {
        ctx.out.err("Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
    }
    parsed.map(|(signed, n)| (signed, n as u32))
}

/// Parses BITFIELD's operations; None once an error has been replied.
fn parse_fields(ctx: &mut Ctx) -> Option<Vec<Field>> {
    let args = ctx.args;
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let rest = args.len() - j - 1;
        let name = args[j];
        let op = if eq_ignore_case(name, "get") && rest >= 2 {
            FieldOp::Get
        } else if eq_ignore_case(name, "set") && rest >= 3 {
            FieldOp::Set
        } else if eq_ignore_case(name, "incrby") && rest >= 3 {
            FieldOp::IncrBy
        } else if eq_ignore_case(name, "overflow") && rest >= 1 {
            let kind = args[j + 1];
            overflow = if eq_ignore_case(kind, "wrap") {
                Overflow::Wrap
            } else if eq_ignore_case(kind, "sat") {
                Overflow::Sat
            } else if eq_ignore_case(kind, "fail") {
                Overflow::Fail
            } else {
                ctx.out.err("Invalid OVERFLOW type specified");
                return None;
            };
            j += 2;
            continue;
        } else {
            ctx.syntax_error();
            return None;
        };
        let (signed, bits) = field_type(ctx, args[j + 1])?;
        let offset = bit_offset(ctx, args[j + 2], bits)?;
        let value = if op == FieldOp::Get {
            0
        } else {
            ctx.int_arg(j + 3)?
        };
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    Some(fields)
}

fn get_field(bytes: &[u8], f: &Field) -> i64 {
    if f.signed {
        bitmap::get_signed_field(bytes, f.offset, f.bits)
    } else {
        bitmap::get_field(bytes, f.offset, f.bits) as i64
    }
}

/// Runs a SET or INCRBY: the reply value (the old value for SET, the new one
/// for INCRBY) and whether the field changed; None when OVERFLOW FAIL
/// refused it.
fn write_field(bytes: &mut [u8], f: &Field) -> Option<(i64, bool)> {
    let old = get_field(bytes, f);
    let (new, reply) = if f.signed {
        let new = match f.op {
            FieldOp::IncrBy => bitmap::add_signed(old, f.value, f.bits, f.overflow)?,
            _ => bitmap::add_signed(f.value, 0, f.bits, f.overflow)?,
        };
        (new as u64, if f.op == FieldOp::Set { old } else { new })
    } else {
        let new = match f.op {
            FieldOp::IncrBy => bitmap::add_unsigned(old as u64, f.value, f.bits, f.overflow)?,
            _ => bitmap::add_unsigned(f.value as u64, 0, f.bits, f.overflow)?,
        };
        (
            new,
            if f.op == FieldOp::Set {
                old
            } else {
                new as i64
            },
        )
    };
    bitmap::set_field(bytes, f.offset, f.bits, new);
    Some((reply, new != old as u64))
}

fn bitfield_generic(ctx: &mut Ctx, db: &mut Store, read_only: bool) {
    let Some(fields) = parse_fields(ctx) else {
        return;
    };
    let key = ctx.args[1];
    let highest = fields
        .iter()
        .filter(|f| f.op != FieldOp::Get)
        .map(|f| f.offset + f.bits as u64 - 1)
        .max();
    let Some(highest) = highest else {
        // Only GETs: read without creating the key.
        let mut buf = itoa::Buffer::new();
        let bytes = match db.read(key) {
            None => &[][..],
            Some(e) => match string_bytes(e, &mut buf) {
                Some(s) => s,
                None => return ctx.wrong_type(),
            },
        };
        ctx.out.array(fields.len());
        for f in &fields {
            ctx.out.int(get_field(bytes, f));
        }
        return;
    };
    if read_only {
        return ctx.out.err("BITFIELD_RO only supports the GET subcommand");
    }
    // Like Redis, the key is created (zero-filled up to the farthest bit
    // written) even if OVERFLOW FAIL then refuses every write.
    let Some(map) = bitmap_for_write(ctx, db, key, highest) else {
        return;
    };
    let mut changed = false;
    ctx.out.array(fields.len());
    for f in &fields {
        let reply = match f.op {
            FieldOp::Get => Some(get_field(map.bytes, f)),
            _ => write_field(map.bytes, f).map(|(n, differs)| {
                // Redis counts growth as a change only with a write done.
                changed |= differs || map.grown;
                n
            }),
        };
        match reply {
            Some(n) => ctx.out.int(n),
            None => ctx.out.null(),
        }
    }
    if changed {
        db.modified(key);
        db.notify(events::STRING, "setbit", key);
    }
}

pub fn bitfield(ctx: &mut Ctx, db: &mut Store) {
    bitfield_generic(ctx, db, false);
}

pub fn bitfield_ro(ctx: &mut Ctx, db: &mut Store) {
    bitfield_generic(ctx, db, true);
}
