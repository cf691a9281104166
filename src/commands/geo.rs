//! Geo commands on sorted sets, as Redis 7.0's geo.c: GEOADD (through
//! ZADD's code), GEOPOS, GEODIST, GEOHASH, GEOSEARCH, GEOSEARCHSTORE,
//! GEORADIUS, GEORADIUSBYMEMBER and their _RO forms. The geohash math is in
//! `crate::geohash`.

use super::table::KeysProc;
use super::zset::{add_scored, read_zset, reply_per_member, sort_elements, store_result, AddFlags};
use super::{Ctx, KeyIndices};
use crate::geohash::{self, Search, Shape};
use crate::protocol::Reply;
use crate::pubsub::events;
use crate::store::zset::{Range, ZSet};
use crate::store::Store;
use crate::util::{eq_ignore_case, parse_f64, parse_i64};

/// (longitude, latitude) from two arguments, or None after Redis's error.
fn lon_lat(ctx: &mut Ctx, lon: &[u8], lat: &[u8]) -> Option<(f64, f64)> {
    let (Some(x), Some(y)) = (parse_f64(lon), parse_f64(lat)) else {
        ctx.out.err("value is not a valid float");
        return None;
    };
    if !(geohash::LON_MIN..=geohash::LON_MAX).contains(&x)
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&y)
    {
        ctx.out
            .err(&format!("invalid longitude,latitude pair {x:.6},{y:.6}"));
        return None;
    }
    Some((x, y))
}

/// Meters per unit, or None after Redis's error.
fn unit(ctx: &mut Ctx, u: &[u8]) -> Option<f64> {
    let m = [("m", 1.0), ("km", 1000.0), ("ft", 0.3048), ("mi", 1609.34)]
        .into_iter()
        .find(|(name, _)| eq_ignore_case(u, name))
        .map(|(_, m)| m);
    if m.is_none() {
        ctx.out
            .err("unsupported unit provided. please use M, KM, FT, MI");
    }
    m
}

/// A non-negative distance argument, or None after Redis's error.
fn distance_arg(ctx: &mut Ctx, a: &[u8], what: &str) -> Option<f64> {
    match parse_f64(a) {
        None => {
            ctx.out.err(&format!("need numeric {what}"));
            None
        }
        Some(d) => Some(d),
    }
}

/// A distance as Redis prints it: `%.4f`, always a bulk string.
fn reply_distance(out: &mut Reply, d: f64) {
    out.bulk(format!("{d:.4}").as_bytes());
}

/// A coordinate as addReplyHumanLongDouble prints it: `%.17Lf` without
/// trailing zeros, a bulk string in RESP2 and a double in RESP3.
fn reply_coord(out: &mut Reply, v: f64) {
    let mut s = format!("{v:.17}");
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    if s == "-0" {
        s = "0".into();
    }
    out.double_text(s.as_bytes());
}

fn reply_position(out: &mut Reply, score: f64) {
    let (lon, lat) = geohash::decode_score(score);
    out.array(2);
    reply_coord(out, lon);
    reply_coord(out, lat);
}

pub fn geoadd(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let mut o = AddFlags::default();
    let mut i = 2;
    while i < args.len() {
        if eq_ignore_case(args[i], "nx") {
            o.nx = true;
        } else if eq_ignore_case(args[i], "xx") {
            o.xx = true;
        } else if eq_ignore_case(args[i], "ch") {
            o.ch = true;
        } else {
            break;
        }
        i += 1;
    }
    let triples = &args[i..];
    if !triples.len().is_multiple_of(3) || (o.nx && o.xx) {
        return ctx.syntax_error();
    }
    let mut items = Vec::with_capacity(triples.len() / 3);
    for t in triples.chunks_exact(3) {
        let Some((lon, lat)) = lon_lat(ctx, t[0], t[1]) else {
            return;
        };
        let bits = geohash::encode_wgs84(lon, lat).unwrap_or(0);
        items.push((bits as f64, t[2]));
    }
    if items.is_empty() {
        // ZADD with flags and no pairs.
        return ctx.syntax_error();
    }
    add_scored(ctx, db, args[1], &o, &items);
}

pub fn geopos(ctx: &mut Ctx, db: &mut Store) {
    reply_per_member(ctx, db, reply_position, |out| out.null_array());
}

pub fn geohash_cmd(ctx: &mut Ctx, db: &mut Store) {
    reply_per_member(
        ctx,
        db,
        |out, s| out.bulk(&geohash::to_string(s)),
        |out| out.null(),
    );
}

pub fn geodist(ctx: &mut Ctx, db: &mut Store) {
    let args = ctx.args;
    let to_meter = match args.len() {
        4 => 1.0,
        5 => match unit(ctx, args[4]) {
            Some(u) => u,
            None => return,
        },
        _ => return ctx.syntax_error(),
    };
    let Ok(z) = read_zset(ctx, db, args[1]) else {
        return;
    };
    match z.and_then(|z| Some((z.score(args[2])?, z.score(args[3])?))) {
        Some((a, b)) => {
            let (x1, y1) = geohash::decode_score(a);
            let (x2, y2) = geohash::decode_score(b);
            reply_distance(&mut ctx.out, geohash::distance(x1, y1, x2, y2) / to_meter);
        }
        None => ctx.out.null(),
    }
}

// ---- searches ----

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GEORADIUS[_RO]: key lon lat radius unit.
    Coords,
    /// GEORADIUSBYMEMBER[_RO]: key member radius unit.
    Member,
    /// GEOSEARCH: key FROM... BY...
    Search,
    /// GEOSEARCHSTORE: dst key FROM... BY...
    SearchStore,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    None,
    Asc,
    Desc,
}

#[derive(Default)]
struct Flags {
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    any: bool,
    count: i64,
    /// Index of the STORE/STOREDIST key (GEORADIUS) or of GEOSEARCHSTORE's
    /// destination.
    store: Option<usize>,
    storedist: bool,
}

/// Where GEORADIUS[BYMEMBER]'s options start.
fn radius_base(args: &[&[u8]]) -> usize {
    if eq_ignore_case(args[0], "georadius") {
        6
    } else {
        5
    }
}

/// The STORE/STOREDIST destination the handler will write: the last one,
/// scanning options as georadiusGeneric does (COUNT takes a value).
fn radius_store_key(args: &[&[u8]]) -> Option<usize> {
    let mut store = None;
    let mut i = radius_base(args);
    while i < args.len() {
        let a = args[i];
        let has_value = i + 1 < args.len();
        if (eq_ignore_case(a, "store") || eq_ignore_case(a, "storedist")) && has_value {
            store = Some(i + 1);
            i += 1;
        } else if eq_ignore_case(a, "count") && has_value {
            i += 1;
        }
        i += 1;
    }
    store
}

/// GEORADIUS and GEORADIUSBYMEMBER name their destination in an option.
/// Redis's key specs report the first STORE and the first STOREDIST
/// (COMMAND GETKEYS); the key the handler writes is locked as well.
pub static RADIUS_KEYS: KeysProc = KeysProc {
    extra: |args, out: &mut KeyIndices| {
        let opts = radius_base(args)..args.len().saturating_sub(1);
        for word in ["store", "storedist"] {
            if let Some(i) = opts.clone().find(|&i| eq_ignore_case(args[i], word)) {
                out.push(i + 1);
            }
        }
        if let Some(i) = radius_store_key(args) {
            if !out.contains(&i) {
                out.push(i);
            }
        }
    },
    undeclared: |_| false,
};

fn member_position(z: &ZSet, member: &[u8]) -> Option<(f64, f64)> {
    z.score(member).map(geohash::decode_score)
}

struct Found {
    member: Vec<u8>,
    score: f64,
    lon: f64,
    lat: f64,
    dist: f64,
}

/// membersOfAllNeighbors: the members inside the search, box by box in
/// score order; with `limit` (COUNT ANY) it stops once that many are found.
fn collect(z: &ZSet, search: &Search, limit: usize) -> Vec<Found> {
    let mut found = Vec::new();
    for (min, max) in search.boxes() {
        if limit > 0 && found.len() >= limit {
            break;
        }
        let range = Range::Score {
            min,
            minex: false,
            max,
            maxex: true,
        };
        let Some(first) = z.first_in_range(&range) else {
            continue;
        };
        z.walk(first, false, |m, s| {
            if !range.lte_max(m, s) {
                return false;
            }
            let (lon, lat) = geohash::decode_score(s);
            if let Some(dist) = search.contains(lon, lat) {
                found.push(Found {
                    member: m.to_vec(),
                    score: s,
                    lon,
                    lat,
                    dist,
                });
            }
            !(limit > 0 && found.len() >= limit)
        });
    }
    found
}

/// A radius and its unit (GEORADIUS, GEORADIUSBYMEMBER, GEOSEARCH BYRADIUS):
/// the radius and the unit's factor to meters.
fn radius_arg(ctx: &mut Ctx, radius: &[u8], unit_name: &[u8]) -> Option<(f64, f64)> {
    let r = distance_arg(ctx, radius, "radius")?;
    if r < 0.0 {
        ctx.out.err("radius cannot be negative");
        return None;
    }
    Some((r, unit(ctx, unit_name)?))
}

fn search_generic(ctx: &mut Ctx, db: &mut Store, kind: Kind, nostore: bool) {
    let args = ctx.args;
    let src = if kind == Kind::SearchStore { 2 } else { 1 };
    let Ok(z) = read_zset(ctx, db, args[src]) else {
        return;
    };
    let mut center: Option<(f64, f64)> = None;
    let mut shape: Option<Shape> = None;
    let mut conversion = 1.0;
    let base = match kind {
        Kind::Coords => {
            let Some(c) = lon_lat(ctx, args[2], args[3]) else {
                return;
            };
            center = Some(c);
            let Some((r, u)) = radius_arg(ctx, args[4], args[5]) else {
                return;
            };
            shape = Some(Shape::Radius(r));
            conversion = u;
            6
        }
        Kind::Member => {
            if let Some(z) = z {
                let Some(c) = member_position(z, args[2]) else {
                    return ctx.out.err("could not decode requested zset member");
                };
                center = Some(c);
                let Some((r, u)) = radius_arg(ctx, args[3], args[4]) else {
                    return;
                };
                shape = Some(Shape::Radius(r));
                conversion = u;
            }
            5
        }
        Kind::Search => 2,
        Kind::SearchStore => 3,
    };
    let search_cmd = matches!(kind, Kind::Search | Kind::SearchStore);
    let mut fl = Flags {
        store: (kind == Kind::SearchStore).then_some(1),
        ..Flags::default()
    };
    let mut order = Order::None;
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut i = base;
    while i < args.len() {
        let a = args[i];
        let left = args.len() - i - 1;
        if eq_ignore_case(a, "withdist") {
            fl.withdist = true;
        } else if eq_ignore_case(a, "withhash") {
            fl.withhash = true;
        } else if eq_ignore_case(a, "withcoord") {
            fl.withcoord = true;
        } else if eq_ignore_case(a, "any") {
            fl.any = true;
        } else if eq_ignore_case(a, "asc") {
            order = Order::Asc;
        } else if eq_ignore_case(a, "desc") {
            order = Order::Desc;
        } else if eq_ignore_case(a, "count") && left >= 1 {
            let Some(n) = parse_i64(args[i + 1]) else {
                return ctx.not_integer();
            };
            if n <= 0 {
                return ctx.out.err("COUNT must be > 0");
            }
            fl.count = n;
            i += 1;
        } else if (eq_ignore_case(a, "store") || eq_ignore_case(a, "storedist"))
            && left >= 1
            && !nostore
            && !search_cmd
        {
            fl.store = Some(i + 1);
            fl.storedist = eq_ignore_case(a, "storedist");
            i += 1;
        } else if eq_ignore_case(a, "storedist") && kind == Kind::SearchStore {
            fl.storedist = true;
        } else if eq_ignore_case(a, "frommember") && left >= 1 && search_cmd && !fromloc {
            if let Some(z) = z {
                let Some(c) = member_position(z, args[i + 1]) else {
                    return ctx.out.err("could not decode requested zset member");
                };
                center = Some(c);
            }
            frommember = true;
            i += 1;
        } else if eq_ignore_case(a, "fromlonlat") && left >= 2 && search_cmd && !frommember {
            let Some(c) = lon_lat(ctx, args[i + 1], args[i + 2]) else {
                return;
            };
            center = Some(c);
            fromloc = true;
            i += 2;
        } else if eq_ignore_case(a, "byradius") && left >= 2 && search_cmd && !bybox {
            let Some((r, u)) = radius_arg(ctx, args[i + 1], args[i + 2]) else {
                return;
            };
            shape = Some(Shape::Radius(r));
            conversion = u;
            byradius = true;
            i += 2;
        } else if eq_ignore_case(a, "bybox") && left >= 3 && search_cmd && !byradius {
            let Some(w) = distance_arg(ctx, args[i + 1], "width") else {
                return;
            };
            let Some(h) = distance_arg(ctx, args[i + 2], "height") else {
                return;
            };
            if h < 0.0 || w < 0.0 {
                return ctx.out.err("height or width cannot be negative");
            }
            let Some(u) = unit(ctx, args[i + 3]) else {
                return;
            };
            shape = Some(Shape::Box {
                width: w,
                height: h,
            });
            conversion = u;
            bybox = true;
            i += 3;
        } else {
            return ctx.syntax_error();
        }
        i += 1;
    }
    if fl.store.is_some() && (fl.withdist || fl.withhash || fl.withcoord) {
        let who = if kind == Kind::SearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return ctx.out.err(&format!(
            "{who} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        ));
    }
    let name = String::from_utf8_lossy(args[0]);
    if search_cmd && !(frommember || fromloc) {
        return ctx.out.err(&format!(
            "exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        ));
    }
    if search_cmd && !(byradius || bybox) {
        return ctx.out.err(&format!(
            "exactly one of BYRADIUS and BYBOX can be specified for {name}"
        ));
    }
    if fl.any && fl.count == 0 {
        return ctx.out.err("the ANY argument requires COUNT argument");
    }
    let store = fl.store.map(|i| args[i]);
    let (Some(z), Some((lon, lat)), Some(shape)) = (z, center, shape) else {
        // No source key.
        return match store {
            Some(dst) => {
                db.store_result(dst, None, events::ZSET, "");
                ctx.out.int(0);
            }
            None => ctx.out.array(0),
        };
    };
    if fl.count != 0 && order == Order::None && !fl.any {
        order = Order::Asc;
    }
    let search = Search {
        lon,
        lat,
        shape,
        conversion,
    };
    let limit = if fl.any { fl.count as usize } else { 0 };
    let mut found = collect(z, &search, limit);
    match order {
        Order::None => {}
        Order::Asc => found.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Order::Desc => found.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
    }
    if fl.count > 0 && (fl.count as usize) < found.len() {
        found.truncate(fl.count as usize);
    }
    for f in &mut found {
        f.dist /= conversion;
    }
    match store {
        None => {
            let extra = [fl.withdist, fl.withhash, fl.withcoord]
                .iter()
                .filter(|&&b| b)
                .count();
            ctx.out.array(found.len());
            for f in &found {
                if extra > 0 {
                    ctx.out.array(extra + 1);
                }
                ctx.out.bulk(&f.member);
                if fl.withdist {
                    reply_distance(&mut ctx.out, f.dist);
                }
                if fl.withhash {
                    ctx.out.int(f.score as i64);
                }
                if fl.withcoord {
                    ctx.out.array(2);
                    reply_coord(&mut ctx.out, f.lon);
                    reply_coord(&mut ctx.out, f.lat);
                }
            }
        }
        Some(dst) => {
            let n = found.len();
            let mut items: Vec<(Vec<u8>, f64)> = found
                .into_iter()
                .map(|f| {
                    let score = if fl.storedist { f.dist } else { f.score };
                    (f.member, score)
                })
                .collect();
            sort_elements(&mut items);
            // GEORADIUS[BYMEMBER] ... STORE announces "georadiusstore".
            let event = if ctx.cmd.name.starts_with("geosearch") {
                "geosearchstore"
            } else {
                "georadiusstore"
            };
            store_result(ctx, db, dst, &items, event);
            ctx.out.int(n as i64);
        }
    }
}

pub fn georadius(ctx: &mut Ctx, db: &mut Store) {
    search_generic(ctx, db, Kind::Coords, false);
}

pub fn georadius_ro(ctx: &mut Ctx, db: &mut Store) {
    search_generic(ctx, db, Kind::Coords, true);
}

pub fn georadiusbymember(ctx: &mut Ctx, db: &mut Store) {
    search_generic(ctx, db, Kind::Member, false);
}

pub fn georadiusbymember_ro(ctx: &mut Ctx, db: &mut Store) {
    search_generic(ctx, db, Kind::Member, true);
}

pub fn geosearch(ctx: &mut Ctx, db: &mut Store) {
    search_generic(ctx, db, Kind::Search, false);
}

pub fn geosearchstore(ctx: &mut Ctx, db: &mut Store) {
    search_generic(ctx, db, Kind::SearchStore, false);
}
