//! SORT and SORT_RO on lists, sets and sorted sets, as Redis 7.0's
//! sortCommandGeneric: BY and GET patterns (`*` replaced by the element,
//! `->field` reading a hash field, `#` the element itself), LIMIT,
//! ASC/DESC, ALPHA and STORE.
//!
//! Locking: a BY or GET pattern may name any key, in any shard, so a SORT
//! with a pattern that contains `*` locks every shard (`KEYS_PROC`); one
//! without patterns locks only the sorted key and its STORE destination.

use super::table::KeysProc;
use super::{Ctx, KeyIndices};
use crate::pubsub::events;
use crate::store::{NewValue, Store, Value, ValueRef};
use crate::util::{eq_ignore_case, parse_i64, strtod};
use std::cmp::Ordering;

struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    /// Index of the STORE destination (the last STORE wins, as in Redis).
    store: Option<usize>,
    /// The last BY pattern.
    by: Option<&'a [u8]>,
    /// Some BY had no `*`, meaning "do not sort" (even if a later BY has one).
    dontsort: bool,
    gets: Vec<&'a [u8]>,
}

enum ParseError {
    Syntax,
    NotInteger,
}

fn readonly(args: &[&[u8]]) -> bool {
    eq_ignore_case(args[0], "sort_ro")
}

/// Redis's option loop: SORT_RO does not know STORE, so there it is a
/// syntax error like any unknown word.
fn parse<'a>(args: &[&'a [u8]], readonly: bool) -> Result<Options<'a>, ParseError> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit: None,
        store: None,
        by: None,
        dontsort: false,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < args.len() {
        let a = args[j];
        let left = args.len() - j - 1;
        if eq_ignore_case(a, "asc") {
            o.desc = false;
        } else if eq_ignore_case(a, "desc") {
            o.desc = true;
        } else if eq_ignore_case(a, "alpha") {
            o.alpha = true;
        } else if eq_ignore_case(a, "limit") && left >= 2 {
            match (parse_i64(args[j + 1]), parse_i64(args[j + 2])) {
                (Some(s), Some(c)) => o.limit = Some((s, c)),
                _ => return Err(ParseError::NotInteger),
            }
            j += 2;
        } else if !readonly && eq_ignore_case(a, "store") && left >= 1 {
            o.store = Some(j + 1);
            j += 1;
        } else if eq_ignore_case(a, "by") && left >= 1 {
            o.by = Some(args[j + 1]);
            o.dontsort |= !has_star(args[j + 1]);
            j += 1;
        } else if eq_ignore_case(a, "get") && left >= 1 {
            o.gets.push(args[j + 1]);
            j += 1;
        } else {
            return Err(ParseError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// The pattern up to its first NUL, as Redis's C string functions see it.
fn c_str(p: &[u8]) -> &[u8] {
    &p[..p.iter().position(|&c| c == 0).unwrap_or(p.len())]
}

fn has_star(pattern: &[u8]) -> bool {
    c_str(pattern).contains(&b'*')
}

fn is_self(pattern: &[u8]) -> bool {
    matches!(pattern, [b'#'] | [b'#', 0, ..])
}

pub static KEYS_PROC: KeysProc = KeysProc {
    extra: |args, out: &mut KeyIndices| {
        if let Ok(Options { store: Some(i), .. }) = parse(args, readonly(args)) {
            out.push(i);
        }
    },
    undeclared: |args| {
        parse(args, readonly(args)).is_ok_and(|o| {
            (!o.dontsort && o.by.is_some()) || o.gets.iter().any(|g| !is_self(g) && has_star(g))
        })
    },
};

/// Redis's lookupKeyByPattern: the string at the key made by replacing the
/// first `*` of `pattern` with `subst`, or the hash field after `->`.
/// None for a missing key or field, a value of another type, or a pattern
/// without `*`.
fn lookup_pattern(db: &mut Store, pattern: &[u8], subst: &[u8], write: bool) -> Option<Vec<u8>> {
    if is_self(pattern) {
        return Some(subst.to_vec());
    }
    let star = c_str(pattern).iter().position(|&c| c == b'*')?;
    let after = c_str(&pattern[star + 1..]);
    let field = after
        .windows(2)
        .position(|w| w == b"->")
        .map(|f| star + 1 + f)
        .filter(|&f| pattern.get(f + 2).is_some_and(|&c| c != 0));
    let postfix_end = field.unwrap_or(pattern.len());
    let mut key = Vec::with_capacity(pattern.len() + subst.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(&pattern[star + 1..postfix_end]);
    let e = if write { db.write(&key) } else { db.read(&key) }?;
    match (field, e.value()) {
        (Some(f), ValueRef::Obj(Value::Hash(h))) => h.get(&pattern[f + 2..]).map(<[u8]>::to_vec),
        (Some(_), _) => None,
        (None, _) => {
            let mut buf = itoa::Buffer::new();
            super::string::string_bytes(e, &mut buf).map(<[u8]>::to_vec)
        }
    }
}

struct Item {
    elem: Vec<u8>,
    score: f64,
    /// The BY value for ALPHA sorting, None when it is missing.
    cmp: Option<Vec<u8>>,
}

/// strtod over the whole value, as SORT reads weights: trailing bytes,
/// overflow and NaN are errors, an empty string is 0.
fn weight(v: &[u8]) -> Option<f64> {
    let (x, used, erange) = strtod(v);
    let trailing = v.get(used).is_some_and(|&c| c != 0);
    (!trailing && !erange && !x.is_nan()).then_some(x)
}

/// strcoll in the C.UTF-8 locale Redis runs with: byte order of the C
/// strings (up to the first NUL).
fn collate(a: &[u8], b: &[u8]) -> Ordering {
    c_str(a).cmp(c_str(b))
}

/// Redis's sortCompare. Numeric ties fall back to comparing the elements,
/// so the result does not depend on the input order; ALPHA BY ties do not.
fn compare(a: &Item, b: &Item, alpha: bool, by: bool, store: bool) -> Ordering {
    let text = |x: &[u8], y: &[u8]| if store { x.cmp(y) } else { collate(x, y) };
    if !alpha {
        return a
            .score
            .partial_cmp(&b.score)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.elem.cmp(&b.elem));
    }
    if !by {
        return text(&a.elem, &b.elem);
    }
    match (&a.cmp, &b.cmp) {
        (Some(x), Some(y)) => text(x, y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

enum Source {
    List,
    Set,
    ZSet,
}

/// The elements of the value at `key` in its native order, or Err after a
/// WRONGTYPE reply. A missing key sorts as an empty list.
fn elements(ctx: &mut Ctx, db: &mut Store, key: &[u8]) -> Result<(Source, Vec<Vec<u8>>), ()> {
    let Some(e) = db.read(key) else {
        return Ok((Source::List, Vec::new()));
    };
    let mut buf = itoa::Buffer::new();
    match e.value() {
        ValueRef::Obj(Value::List(l)) => Ok((Source::List, l.iter().map(|x| x.to_vec()).collect())),
        ValueRef::Obj(Value::Set(s)) => Ok((
            Source::Set,
            s.iter().map(|m| m.bytes(&mut buf).to_vec()).collect(),
        )),
        ValueRef::Obj(Value::ZSet(z)) => {
            Ok((Source::ZSet, z.iter().map(|(m, _)| m.to_vec()).collect()))
        }
        _ => {
            ctx.wrong_type();
            Err(())
        }
    }
}

/// The inclusive output range after Redis's LIMIT checks (C `long`
/// arithmetic); empty when `end < start`.
fn limit_range(limit: Option<(i64, i64)>, len: i64) -> (i64, i64) {
    let (ls, lc) = limit.unwrap_or((0, -1));
    let mut start = ls.max(0);
    let mut end = if lc < 0 {
        len - 1
    } else {
        start.wrapping_add(lc).wrapping_sub(1)
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    (start, end)
}

fn sort_generic(ctx: &mut Ctx, db: &mut Store, readonly: bool) {
    let args = ctx.args;
    let mut o = match parse(args, readonly) {
        Ok(o) => o,
        Err(ParseError::Syntax) => return ctx.syntax_error(),
        Err(ParseError::NotInteger) => return ctx.not_integer(),
    };
    let store = o.store.map(|i| args[i]);
    let mut dontsort = o.dontsort;
    let Ok((source, elems)) = elements(ctx, db, args[1]) else {
        return;
    };
    // A set has no stable order, so a stored result is sorted anyway.
    if dontsort && matches!(source, Source::Set) && store.is_some() {
        dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    let (start, end) = limit_range(o.limit, elems.len() as i64);
    let mut items: Vec<Item> = elems
        .into_iter()
        .map(|elem| Item {
            elem,
            score: 0.0,
            cmp: None,
        })
        .collect();
    let write = store.is_some();
    let mut bad_weight = false;
    if dontsort {
        // Lists and sorted sets keep their order, DESC reversing it.
        if o.desc && !matches!(source, Source::Set) {
            items.reverse();
        }
    } else {
        for it in &mut items {
            let by = match o.by {
                Some(p) => match lookup_pattern(db, p, &it.elem, write) {
                    Some(v) => Some(v),
                    None => continue,
                },
                None => None,
            };
            if o.alpha {
                it.cmp = by;
            } else {
                match weight(by.as_deref().unwrap_or(&it.elem)) {
                    Some(w) => it.score = w,
                    None => bad_weight = true,
                }
            }
        }
        let (alpha, by, desc) = (o.alpha, o.by.is_some(), o.desc);
        items.sort_by(|a, b| {
            let c = compare(a, b, alpha, by, write);
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    if bad_weight {
        return ctx
            .out
            .err("One or more scores can't be converted into double");
    }
    let selected: &[Item] = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let per = o.gets.len().max(1);
    match store {
        None => {
            ctx.out.array(selected.len() * per);
            for it in selected {
                if o.gets.is_empty() {
                    ctx.out.bulk(&it.elem);
                }
                for g in &o.gets {
                    match lookup_pattern(db, g, &it.elem, false) {
                        Some(v) => ctx.out.bulk(&v),
                        None => ctx.out.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let fill = super::list::fill(ctx.srv);
            let mut list = crate::store::list::List::new();
            for it in selected {
                if o.gets.is_empty() {
                    list.push_back(&it.elem, fill);
                }
                for g in &o.gets {
                    let v = lookup_pattern(db, g, &it.elem, true).unwrap_or_default();
                    list.push_back(&v, fill);
                }
            }
            let value = (!list.is_empty()).then(|| NewValue::Obj(Value::List(list)));
            db.store_result(dst, value, events::LIST, "sortstore");
            ctx.out.int((selected.len() * per) as i64);
        }
    }
}

pub fn sort(ctx: &mut Ctx, db: &mut Store) {
    sort_generic(ctx, db, false);
}

pub fn sort_ro(ctx: &mut Ctx, db: &mut Store) {
    sort_generic(ctx, db, true);
}
