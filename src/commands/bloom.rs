//! Bloom filter commands as Redis 8 ships them from RedisBloom: BF.RESERVE,
//! BF.ADD, BF.MADD, BF.INSERT, BF.EXISTS, BF.MEXISTS, BF.INFO, BF.CARD.
//! Redis 7.0 has none of these, so replies and error texts follow
//! RedisBloom's source (rebloom.c): some of its errors carry no `ERR` code.
//! The filter itself lives in store/bloom.rs.

use super::Ctx;
use crate::store::bloom::{AddError, Bloom};
use crate::store::{NewValue, Store, Value};
use crate::util::{eq_ignore_case, parse_f64, parse_i64};

/// What BF.ADD, BF.MADD and BF.INSERT create a missing filter with.
const DEFAULT_ERROR: f64 = 0.01;
const DEFAULT_CAPACITY: i64 = 100;
const DEFAULT_EXPANSION: i64 = 2;
/// Redis 8's bounds on a filter's initial capacity and expansion factor.
const MAX_CAPACITY: i64 = 1 << 30;
const MAX_EXPANSION: i64 = 32768;

/// COMMAND DOCS for these commands (Redis 7.0's captured data has none):
/// name, summary, complexity, as redis.io documents them.
pub const DOCS: &[(&str, &str, &str)] = &[
    (
        "bf.add",
        "Adds an item to a Bloom Filter",
        "O(k), where k is the number of hash functions used by the last sub-filter",
    ),
    (
        "bf.card",
        "Returns the cardinality of a Bloom filter",
        "O(1)",
    ),
    (
        "bf.exists",
        "Checks whether an item exists in a Bloom Filter",
        "O(k), where k is the number of hash functions used by the last sub-filter",
    ),
    (
        "bf.info",
        "Returns information about a Bloom Filter",
        "O(1)",
    ),
    (
        "bf.insert",
        "Adds one or more items to a Bloom Filter. A filter will be created if it does not exist",
        "O(k * n), where k is the number of hash functions and n is the number of items",
    ),
    (
        "bf.madd",
        "Adds one or more items to a Bloom Filter. A filter will be created if it does not exist",
        "O(k * n), where k is the number of hash functions and n is the number of items",
    ),
    (
        "bf.mexists",
        "Checks whether one or more items exist in a Bloom Filter",
        "O(k * n), where k is the number of hash functions and n is the number of items",
    ),
    ("bf.reserve", "Creates a new Bloom Filter", "O(1)"),
];

/// The filter at `key`: Ok(None) if there is none, Err(()) after replying
/// WRONGTYPE if the key holds another type.
fn lookup<'s>(
    ctx: &mut Ctx,
    db: &'s mut Store,
    key: &[u8],
    write: bool,
) -> Result<Option<&'s mut Bloom>, ()> {
    let entry = if write { db.write(key) } else { db.read(key) };
    match entry.map(|e| e.obj_mut()) {
        None => Ok(None),
        Some(Some(Value::Bloom(b))) => Ok(Some(b)),
        Some(_) => {
            ctx.wrong_type();
            Err(())
        }
    }
}

/// Parameters of a filter to create.
struct Params {
    error: f64,
    capacity: i64,
    expansion: i64,
    scaling: bool,
}

impl Params {
    fn in_range(&self) -> bool {
        self.error > 0.0
            && self.error < 1.0
            && (1..=MAX_CAPACITY).contains(&self.capacity)
            && (1..=MAX_EXPANSION).contains(&self.expansion)
    }

    fn build(&self) -> Option<Bloom> {
        Bloom::new(
            self.error,
            u64::try_from(self.capacity).ok()?,
            u32::try_from(self.expansion).ok()?,
            self.scaling,
        )
    }
}

/// BF.RESERVE key error_rate capacity [EXPANSION n] [NONSCALING]
pub fn bf_reserve(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    if args.len() > 7 {
        return ctx.arity_error();
    }
    let error = match parse_f64(args[2]) {
        None => return ctx.out.err("bad error rate"),
        Some(e) if !(e > 0.0 && e < 1.0) => return ctx.out.err("(0 < error rate range < 1)"),
        Some(e) => e,
    };
    let capacity = match parse_i64(args[3]) {
        Some(c) if c <= 0 => return ctx.out.err("(capacity should be larger than 0)"),
        Some(c) if c <= MAX_CAPACITY => c,
        _ => return ctx.out.err("bad capacity"),
    };
    // RedisBloom looks for its options anywhere after the capacity and
    // ignores other words.
    let opts = &args[4..];
    let scaling = !opts.iter().any(|a| eq_ignore_case(a, "nonscaling"));
    let mut expansion = DEFAULT_EXPANSION;
    if let Some(at) = opts.iter().position(|a| eq_ignore_case(a, "expansion")) {
        let Some(value) = opts.get(at + 1) else {
            return ctx.out.err("no expansion");
        };
        if !scaling {
            return ctx.out.error("Nonscaling filters cannot expand");
        }
        expansion = match parse_i64(value) {
            Some(n) if n < 1 => return ctx.out.err("expansion should be greater or equal to 1"),
            Some(n) if n <= MAX_EXPANSION => n,
            _ => return ctx.out.err("bad expansion"),
        };
    }
    let key = args[1];
    match lookup(ctx, db, key, true) {
        Err(()) => return,
        Ok(Some(_)) => return ctx.out.err("item exists"),
        Ok(None) => {}
    }
    let params = Params {
        error,
        capacity,
        expansion,
        scaling,
    };
    let Some(bloom) = params.build() else {
        return ctx.out.err("could not create filter");
    };
    db.set(key, NewValue::Obj(Value::Bloom(bloom)), None);
    ctx.out.ok();
}

/// Adds `items` to the filter at `key`, creating it with `create` if it is
/// missing (an error if None). A multi reply is an array that ends at the
/// first item that could not be added, with that error as its last element.
fn insert(ctx: &mut Ctx, db: &mut Store, items: &[&[u8]], create: Option<Params>, multi: bool) {
    let key = ctx.args[1];
    let bloom = match lookup(ctx, db, key, true) {
        Err(()) => return,
        Ok(Some(b)) => b,
        Ok(None) => {
            let Some(params) = create else {
                return ctx.out.err("not found");
            };
            let Some(bloom) = params.build() else {
                return ctx.out.err("could not create filter");
            };
            db.set(key, NewValue::Obj(Value::Bloom(bloom)), None);
            match lookup(ctx, db, key, true) {
                Ok(Some(b)) => b,
                _ => return,
            }
        }
    };
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let r = bloom.add(item);
        let stop = r.is_err();
        results.push(r);
        if stop {
            break;
        }
    }
    db.modified(key);
    if multi {
        ctx.out.array(results.len());
    }
    for r in results {
        match r {
            Ok(added) => ctx.out.boolean(added),
            Err(AddError::Full) => ctx.out.err("non scaling filter is full"),
            Err(AddError::NoMemory) => ctx.out.err("could not create filter"),
        }
    }
}

fn defaults() -> Params {
    Params {
        error: DEFAULT_ERROR,
        capacity: DEFAULT_CAPACITY,
        expansion: DEFAULT_EXPANSION,
        scaling: true,
    }
}

pub fn bf_add(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    insert(ctx, db, &args[2..], Some(defaults()), false);
}

pub fn bf_madd(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    insert(ctx, db, &args[2..], Some(defaults()), true);
}

/// BF.INSERT key [CAPACITY c] [ERROR e] [EXPANSION n] [NOCREATE] [NONSCALING]
/// ITEMS item...: the options apply only when the filter is created.
pub fn bf_insert(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let mut params = defaults();
    let mut create = true;
    let mut i = 2;
    let items_at = loop {
        let Some(word) = args.get(i) else {
            return ctx.arity_error();
        };
        i += 1;
        if eq_ignore_case(word, "items") {
            break i;
        } else if eq_ignore_case(word, "nocreate") {
            create = false;
        } else if eq_ignore_case(word, "nonscaling") {
            params.scaling = false;
        } else if ["error", "capacity", "expansion"]
            .iter()
            .any(|k| eq_ignore_case(word, k))
        {
            let Some(value) = args.get(i) else {
                return ctx.arity_error();
            };
            i += 1;
            if eq_ignore_case(word, "error") {
                match parse_f64(value) {
                    Some(e) => params.error = e,
                    None => return ctx.out.error("Bad error rate"),
                }
            } else if eq_ignore_case(word, "capacity") {
                match parse_i64(value) {
                    Some(c) => params.capacity = c,
                    None => return ctx.out.error("Bad capacity"),
                }
            } else {
                match parse_i64(value) {
                    Some(n) => params.expansion = n,
                    None => return ctx.out.error("Bad expansion"),
                }
            }
        } else {
            return ctx.out.error("Unknown argument received");
        }
    };
    if items_at >= args.len() {
        return ctx.arity_error();
    }
    if !params.in_range() {
        return ctx.out.error("Bad argument received");
    }
    insert(ctx, db, &args[items_at..], create.then_some(params), true);
}

/// BF.EXISTS / BF.MEXISTS: a missing key holds nothing. A key of another
/// type is WRONGTYPE, as for every Redis read (older RedisBloom answered 0).
fn check(ctx: &mut Ctx, db: &mut Store, multi: bool) {
    let args = ctx.args;
    let Ok(bloom) = lookup(ctx, db, args[1], false) else {
        return;
    };
    let items = &args[2..];
    if multi {
        ctx.out.array(items.len());
    }
    for item in items {
        ctx.out
            .boolean(bloom.as_ref().is_some_and(|b| b.contains(item)));
    }
}

pub fn bf_exists(ctx: &mut Ctx, db: &mut Store) {
    check(ctx, db, false);
}

pub fn bf_mexists(ctx: &mut Ctx, db: &mut Store) {
    check(ctx, db, true);
}

pub fn bf_card(ctx: &mut Ctx, db: &mut Store) {
    if let Ok(bloom) = lookup(ctx, db, ctx.args[1], false) {
        ctx.out.int(bloom.map_or(0, |b| b.items() as i64));
    }
}

/// BF.INFO key [CAPACITY | SIZE | FILTERS | ITEMS | EXPANSION]: all fields
/// (a map in RESP3), or one as a one-element array.
pub fn bf_info(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    if args.len() > 3 {
        return ctx.arity_error();
    }
    let bloom = match lookup(ctx, db, args[1], false) {
        Err(()) => return,
        Ok(None) => return ctx.out.err("not found"),
        Ok(Some(b)) => b,
    };
    let fields: [(&str, &str, Option<i64>); 5] = [
        ("capacity", "Capacity", Some(bloom.capacity() as i64)),
        ("size", "Size", Some(bloom.size() as i64)),
        (
            "filters",
            "Number of filters",
            Some(bloom.links().len() as i64),
        ),
        (
            "items",
            "Number of items inserted",
            Some(bloom.items() as i64),
        ),
        (
            "expansion",
            "Expansion rate",
            bloom.expansion().map(i64::from),
        ),
    ];
    let out = &mut ctx.out;
    let reply_value = |out: &mut crate::protocol::Reply, v: Option<i64>| match v {
        Some(n) => out.int(n),
        None => out.null(),
    };
    if let Some(which) = args.get(2) {
        let Some(&(_, _, value)) = fields.iter().find(|(k, _, _)| eq_ignore_case(which, k)) else {
            return out.error("Invalid information value");
        };
        out.array(1);
        return reply_value(out, value);
    }
    out.map(fields.len());
    for (_, label, value) in fields {
        out.simple(label);
        reply_value(out, value);
    }
}
