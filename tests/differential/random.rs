//! Randomized command sequences (proptest) over a tiny key and value space,
//! so keys collide and types clash. Every reply is compared byte-for-byte,
//! except TTL-like replies (compared within a tolerance), KEYS/SCAN
//! (unordered) and RANDOMKEY (type only).

use super::compare::Mode;
use super::runner::{report, show_cmd, Pair, Stats};
use super::scenario::Step;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{BoxedStrategy, Union};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::RefCell;

type Cmd = Vec<Vec<u8>>;

/// A generated case: protocol plus commands.
#[derive(Clone)]
pub struct Seq {
    pub resp3: bool,
    pub cmds: Vec<Cmd>,
}

impl std::fmt::Debug for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "RESP{} sequence:", if self.resp3 { 3 } else { 2 })?;
        for c in &self.cmds {
            writeln!(f, "    {}", show_cmd(c))?;
        }
        Ok(())
    }
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn pick(items: &[&[u8]]) -> BoxedStrategy<Vec<u8>> {
    select(items.iter().map(|x| x.to_vec()).collect::<Vec<_>>()).boxed()
}

fn key() -> BoxedStrategy<Vec<u8>> {
    pick(&[b"a", b"b", b"c", b""])
}

fn val() -> BoxedStrategy<Vec<u8>> {
    pick(&[
        b"0",
        b"1",
        b"-1",
        b"10",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"1.5",
        b"-0",
        b"3e3",
        b"abc",
        b"",
        b" 1",
        b"hello world",
        b"\x00\xff",
        b"inf",
        b"0x10",
    ])
}

fn int() -> BoxedStrategy<Vec<u8>> {
    pick(&[
        b"0",
        b"1",
        b"-1",
        b"3",
        b"-5",
        b"100",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"1.5",
        b"x",
        b"",
    ])
}

fn float() -> BoxedStrategy<Vec<u8>> {
    pick(&[
        b"0", b"1.5", b"-2.25", b"0.1", b"1e3", b"-0", b"inf", b"nan", b"1e400", b"abc", b"10",
    ])
}

fn index() -> BoxedStrategy<Vec<u8>> {
    pick(&[
        b"0",
        b"1",
        b"2",
        b"5",
        b"-1",
        b"-3",
        b"-100",
        b"100",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"x",
    ])
}

/// A command: fixed words followed by generated arguments.
/// A blocking command's timeout: short enough that an empty key costs
/// little (never 0, which would wait forever), plus invalid ones.
fn block_timeout() -> BoxedStrategy<Vec<u8>> {
    pick(&[b"0.01", b"0.001", b"-1", b"x"])
}

fn cmd(words: &'static str, args: Vec<BoxedStrategy<Vec<u8>>>) -> BoxedStrategy<Cmd> {
    args.prop_map(move |rest| {
        let mut c: Cmd = words.split(' ').map(b).collect();
        c.extend(rest);
        c
    })
    .boxed()
}

/// Zero to `max` options drawn from `opts` (each option may be several words).
fn opts(options: &[&'static str], max: usize) -> BoxedStrategy<Vec<u8>> {
    // Encoded as words joined by '\n'; split again in `with_opts`.
    let v: Vec<&'static str> = options.to_vec();
    proptest::collection::vec(select(v), 0..=max)
        .prop_map(|o| o.join(" ").into_bytes())
        .boxed()
}

/// Expands a trailing options argument produced by `opts`.
fn with_opts(s: BoxedStrategy<Cmd>) -> BoxedStrategy<Cmd> {
    s.prop_map(|mut c| {
        let last = c.pop().unwrap_or_default();
        c.extend(
            last.split(|&x| x == b' ')
                .filter(|w| !w.is_empty())
                .map(|w| w.to_vec()),
        );
        c
    })
    .boxed()
}

fn collections() -> Vec<BoxedStrategy<Cmd>> {
    vec![
        cmd("SADD", vec![key(), val()]),
        cmd("HSET", vec![key(), val(), val()]),
        cmd("RPUSH", vec![key(), val()]),
    ]
}

pub fn strings_cmd() -> BoxedStrategy<Cmd> {
    let set_opts = &[
        "NX",
        "XX",
        "GET",
        "KEEPTTL",
        "EX 1000",
        "PX 100000",
        "EXAT 4102444800",
        "PXAT 4102444800000",
        "EX 0",
        "PX -1",
        "EX x",
        "EXAT 1",
    ];
    let mut v = vec![
        with_opts(cmd("SET", vec![key(), val(), opts(set_opts, 3)])),
        cmd("SET", vec![key(), val()]),
        cmd("GET", vec![key()]),
        with_opts(cmd(
            "GETEX",
            vec![
                key(),
                opts(
                    &["EX 1000", "PX 100000", "PERSIST", "EXAT 4102444800", "EX 0"],
                    2,
                ),
            ],
        )),
        cmd("GETDEL", vec![key()]),
        cmd("GETSET", vec![key(), val()]),
        cmd("MGET", vec![key(), key(), key()]),
        cmd("MSET", vec![key(), val(), key(), val()]),
        cmd("MSETNX", vec![key(), val(), key(), val()]),
        cmd("SETNX", vec![key(), val()]),
        cmd(
            "SETEX",
            vec![key(), pick(&[b"1000", b"0", b"-1", b"x"]), val()],
        ),
        cmd(
            "PSETEX",
            vec![key(), pick(&[b"100000", b"0", b"-1"]), val()],
        ),
        cmd("APPEND", vec![key(), val()]),
        cmd("STRLEN", vec![key()]),
        cmd("GETRANGE", vec![key(), index(), index()]),
        cmd("SUBSTR", vec![key(), index(), index()]),
        cmd(
            "SETRANGE",
            vec![key(), pick(&[b"0", b"1", b"3", b"10", b"-1", b"x"]), val()],
        ),
        cmd("INCR", vec![key()]),
        cmd("DECR", vec![key()]),
        cmd("INCRBY", vec![key(), int()]),
        cmd("DECRBY", vec![key(), int()]),
        cmd("INCRBYFLOAT", vec![key(), float()]),
        with_opts(cmd(
            "LCS",
            vec![
                key(),
                key(),
                opts(&["LEN", "IDX", "MINMATCHLEN 1", "WITHMATCHLEN"], 2),
            ],
        )),
        cmd("DEL", vec![key()]),
        cmd("EXISTS", vec![key()]),
        cmd("TYPE", vec![key()]),
    ];
    v.extend(collections());
    Union::new(v).boxed()
}

pub fn keys_cmd() -> BoxedStrategy<Cmd> {
    let db = || pick(&[b"0", b"1", b"2", b"16", b"-1", b"x"]);
    let pattern = || pick(&[b"*", b"a", b"?", b"[a-b]", b"[^a]*", b"\\*", b"", b"*b*"]);
    let mut v = vec![
        cmd("SET", vec![key(), val()]),
        cmd("GET", vec![key()]),
        cmd("DEL", vec![key(), key()]),
        cmd("UNLINK", vec![key()]),
        cmd("EXISTS", vec![key(), key()]),
        cmd("TYPE", vec![key()]),
        cmd("RENAME", vec![key(), key()]),
        cmd("RENAMENX", vec![key(), key()]),
        cmd("MOVE", vec![key(), db()]),
        with_opts(cmd(
            "COPY",
            vec![key(), key(), opts(&["DB 1", "DB 0", "REPLACE", "DB x"], 2)],
        )),
        cmd("SWAPDB", vec![db(), db()]),
        cmd("SELECT", vec![pick(&[b"0", b"1", b"2"])]),
        cmd("DBSIZE", vec![]),
        cmd("KEYS", vec![pattern()]),
        with_opts(cmd(
            "SCAN",
            vec![opts(&["MATCH a", "MATCH *", "COUNT 100", "TYPE string"], 2)],
        )),
        cmd("RANDOMKEY", vec![]),
        cmd("TOUCH", vec![key(), key()]),
        cmd("OBJECT ENCODING", vec![key()]),
        cmd("FLUSHDB", vec![]),
        cmd("APPEND", vec![key(), val()]),
        cmd("INCR", vec![key()]),
    ];
    v.extend(collections());
    Union::new(v).boxed()
}

pub fn expire_cmd() -> BoxedStrategy<Cmd> {
    // Relative times are only ever compared to very different ones (or used
    // without GT/LT), so replies don't depend on the millisecond they land in.
    let rel = || pick(&[b"-1", b"0", b"100", b"1000", b"x", b"9223372036854775807"]);
    let prel = || pick(&[b"-1", b"0", b"5000000", b"400000", b"9223372036854775807"]);
    let abs = || pick(&[b"1", b"4102444800", b"4102448400", b"0", b"-5"]);
    let pabs = || pick(&[b"1", b"4102444800000", b"4102446600000", b"0"]);
    let nx_xx = || opts(&["NX", "XX"], 2);
    let any_flag = || opts(&["NX", "XX", "GT", "LT"], 2);
    let gt_lt = || pick(&[b"GT", b"LT"]);
    let mut v = vec![
        cmd("SET", vec![key(), val()]),
        with_opts(cmd(
            "SET",
            vec![
                key(),
                val(),
                opts(&["EX 1000", "PX 2000000", "KEEPTTL", "EXAT 4102444800"], 1),
            ],
        )),
        with_opts(cmd("EXPIRE", vec![key(), rel(), nx_xx()])),
        cmd("EXPIRE", vec![key(), pick(&[b"-1", b"0"]), gt_lt()]),
        with_opts(cmd("PEXPIRE", vec![key(), prel(), nx_xx()])),
        cmd("PEXPIRE", vec![key(), pick(&[b"-1", b"0"]), gt_lt()]),
        with_opts(cmd("EXPIREAT", vec![key(), abs(), any_flag()])),
        with_opts(cmd("PEXPIREAT", vec![key(), pabs(), any_flag()])),
        cmd("TTL", vec![key()]),
        cmd("PTTL", vec![key()]),
        cmd("EXPIRETIME", vec![key()]),
        cmd("PEXPIRETIME", vec![key()]),
        cmd("PERSIST", vec![key()]),
        with_opts(cmd(
            "GETEX",
            vec![
                key(),
                opts(&["PERSIST", "EX 1000", "PXAT 4102444800000"], 1),
            ],
        )),
        cmd("GET", vec![key()]),
        cmd("EXISTS", vec![key()]),
        cmd("DEL", vec![key()]),
        cmd("RENAME", vec![key(), key()]),
        cmd("COPY", vec![key(), key()]),
        cmd("MOVE", vec![key(), pick(&[b"1"])]),
        cmd("SELECT", vec![pick(&[b"0", b"1"])]),
    ];
    v.extend(collections());
    Union::new(v).boxed()
}

/// Set commands. Random picks that change the data (SPOP of part of a set)
/// would make the two servers diverge, so SPOP only takes all or nothing;
/// SRANDMEMBER is compared by reply length.
pub fn sets_cmd() -> BoxedStrategy<Cmd> {
    let count = || pick(&[b"-3", b"-1", b"0", b"1", b"2", b"1000"]);
    let limit = || opts(&["LIMIT 0", "LIMIT 1", "LIMIT 2"], 1);
    let mut v = vec![
        cmd("SADD", vec![key(), val()]),
        cmd("SADD", vec![key(), val(), val(), val()]),
        cmd("SADD", vec![key(), int(), int()]),
        cmd("SREM", vec![key(), val(), val()]),
        cmd("SMEMBERS", vec![key()]),
        cmd("SISMEMBER", vec![key(), val()]),
        cmd("SMISMEMBER", vec![key(), val(), val()]),
        cmd("SCARD", vec![key()]),
        cmd("SPOP", vec![key(), pick(&[b"0", b"1000"])]),
        cmd("SRANDMEMBER", vec![key()]),
        cmd("SRANDMEMBER", vec![key(), count()]),
        cmd("SMOVE", vec![key(), key(), val()]),
        cmd("SUNION", vec![key(), key()]),
        cmd("SINTER", vec![key(), key(), key()]),
        cmd("SDIFF", vec![key(), key()]),
        cmd("SUNIONSTORE", vec![key(), key(), key()]),
        cmd("SINTERSTORE", vec![key(), key(), key()]),
        cmd("SDIFFSTORE", vec![key(), key(), key()]),
        with_opts(cmd("SINTERCARD 2", vec![key(), key(), limit()])),
        with_opts(cmd(
            "SSCAN",
            vec![key(), opts(&["0 COUNT 1000", "0 MATCH 1* COUNT 1000"], 1)],
        )),
        cmd("OBJECT ENCODING", vec![key()]),
        cmd(
            "CONFIG SET set-max-intset-entries",
            vec![pick(&[b"0", b"1", b"3", b"512"])],
        ),
        cmd("SET", vec![key(), val()]),
        cmd("DEL", vec![key()]),
        cmd("TYPE", vec![key()]),
        cmd("EXISTS", vec![key()]),
    ];
    v.extend(collections());
    Union::new(v).boxed()
}

pub fn hashes_cmd() -> BoxedStrategy<Cmd> {
    let field = || pick(&[b"f", b"g", b"h", b""]);
    let long = || {
        pick(&[
            b"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
            b"x",
        ])
    };
    let count = || pick(&[b"0", b"1", b"2", b"5", b"-1", b"-3", b"x"]);
    let mut v = vec![
        cmd("HSET", vec![key(), field(), val()]),
        cmd("HSET", vec![key(), field(), val(), field(), val()]),
        cmd("HSET", vec![key(), field()]),
        cmd("HSET", vec![key(), long(), long()]),
        cmd("HMSET", vec![key(), field(), val()]),
        cmd("HSETNX", vec![key(), field(), val()]),
        cmd("HGET", vec![key(), field()]),
        cmd("HMGET", vec![key(), field(), field()]),
        cmd("HGETALL", vec![key()]),
        cmd("HKEYS", vec![key()]),
        cmd("HVALS", vec![key()]),
        cmd("HDEL", vec![key(), field(), field()]),
        cmd("HLEN", vec![key()]),
        cmd("HEXISTS", vec![key(), field()]),
        cmd("HSTRLEN", vec![key(), field()]),
        cmd("HINCRBY", vec![key(), field(), int()]),
        cmd("HINCRBYFLOAT", vec![key(), field(), float()]),
        cmd("HRANDFIELD", vec![key()]),
        cmd("HRANDFIELD", vec![key(), count()]),
        cmd(
            "HRANDFIELD",
            vec![key(), count(), pick(&[b"WITHVALUES", b"x"])],
        ),
        with_opts(cmd(
            "HSCAN",
            vec![
                key(),
                pick(&[b"0", b"x"]),
                opts(
                    &["MATCH f", "MATCH *", "COUNT 1000", "COUNT 0", "TYPE hash"],
                    2,
                ),
            ],
        )),
        cmd(
            "CONFIG SET hash-max-listpack-entries",
            vec![pick(&[b"0", b"2", b"512"])],
        ),
        cmd(
            "CONFIG SET hash-max-listpack-value",
            vec![pick(&[b"0", b"3", b"64"])],
        ),
        cmd("OBJECT ENCODING", vec![key()]),
        cmd("SET", vec![key(), val()]),
        cmd("GET", vec![key()]),
        cmd("DEL", vec![key()]),
        cmd("EXISTS", vec![key()]),
        cmd("TYPE", vec![key()]),
        cmd("COPY", vec![key(), key()]),
        cmd("RENAME", vec![key(), key()]),
    ];
    v.extend(collections());
    Union::new(v).boxed()
}

pub fn zset_cmd() -> BoxedStrategy<Cmd> {
    let member = || pick(&[b"a", b"b", b"c", b"d", b"", b"\x00\xff"]);
    let score = || {
        pick(&[
            b"0", b"1", b"-1", b"2.5", b"-0", b"inf", b"-inf", b"1e300", b"0.1", b"x", b"nan",
        ])
    };
    let bound = || {
        pick(&[
            b"-inf", b"+inf", b"0", b"(0", b"1", b"(1", b"2.5", b"(2.5", b"-1", b"x", b"(",
        ])
    };
    let lex = || pick(&[b"-", b"+", b"[a", b"(a", b"[b", b"(c", b"[", b"a", b"[d"]);
    let count = || pick(&[b"0", b"1", b"2", b"10", b"-1", b"x"]);
    let limit = || opts(&["LIMIT 0 1", "LIMIT 1 2", "LIMIT 0 -1", "LIMIT -1 1"], 1);
    let numkeys = || pick(&[b"1", b"2", b"0"]);
    let mut v = vec![
        with_opts(cmd(
            "ZADD",
            vec![
                key(),
                opts(&["NX", "XX", "GT", "LT", "CH", "INCR"], 2),
                score(),
                member(),
            ],
        )),
        cmd("ZADD", vec![key(), score(), member(), score(), member()]),
        cmd("ZINCRBY", vec![key(), score(), member()]),
        cmd("ZREM", vec![key(), member(), member()]),
        cmd("ZCARD", vec![key()]),
        cmd("ZSCORE", vec![key(), member()]),
        cmd("ZMSCORE", vec![key(), member(), member()]),
        cmd("ZRANK", vec![key(), member()]),
        cmd("ZREVRANK", vec![key(), member()]),
        cmd("ZCOUNT", vec![key(), bound(), bound()]),
        cmd("ZLEXCOUNT", vec![key(), lex(), lex()]),
        with_opts(cmd(
            "ZRANGE",
            vec![key(), index(), index(), opts(&["REV", "WITHSCORES"], 2)],
        )),
        with_opts(cmd(
            "ZRANGE",
            vec![
                key(),
                bound(),
                bound(),
                opts(&["BYSCORE", "REV", "WITHSCORES", "LIMIT 1 1"], 3),
            ],
        )),
        with_opts(cmd(
            "ZRANGE",
            vec![key(), lex(), lex(), opts(&["BYLEX", "REV", "LIMIT 0 2"], 3)],
        )),
        cmd("ZREVRANGE", vec![key(), index(), index()]),
        with_opts(cmd("ZRANGEBYSCORE", vec![key(), bound(), bound(), limit()])),
        with_opts(cmd(
            "ZREVRANGEBYSCORE",
            vec![key(), bound(), bound(), limit()],
        )),
        with_opts(cmd("ZRANGEBYLEX", vec![key(), lex(), lex(), limit()])),
        with_opts(cmd("ZREVRANGEBYLEX", vec![key(), lex(), lex(), limit()])),
        with_opts(cmd(
            "ZRANGESTORE",
            vec![key(), key(), index(), index(), opts(&["REV"], 1)],
        )),
        cmd("ZPOPMIN", vec![key()]),
        cmd("ZPOPMAX", vec![key(), count()]),
        cmd(
            "ZMPOP",
            vec![numkeys(), key(), key(), pick(&[b"MIN", b"MAX"])],
        ),
        cmd("BZPOPMIN", vec![key(), key(), block_timeout()]),
        cmd("BZPOPMAX", vec![key(), block_timeout()]),
        cmd(
            "BZMPOP",
            vec![
                block_timeout(),
                numkeys(),
                key(),
                key(),
                pick(&[b"MIN", b"MAX"]),
            ],
        ),
        cmd("ZREMRANGEBYRANK", vec![key(), index(), index()]),
        cmd("ZREMRANGEBYSCORE", vec![key(), bound(), bound()]),
        cmd("ZREMRANGEBYLEX", vec![key(), lex(), lex()]),
        cmd("ZSCAN", vec![key(), pick(&[b"0", b"x"])]),
        with_opts(cmd(
            "ZUNION",
            vec![
                numkeys(),
                key(),
                key(),
                opts(
                    &[
                        "WEIGHTS 2 -1",
                        "AGGREGATE MIN",
                        "AGGREGATE MAX",
                        "WITHSCORES",
                    ],
                    2,
                ),
            ],
        )),
        with_opts(cmd(
            "ZINTER",
            vec![
                numkeys(),
                key(),
                key(),
                opts(&["WEIGHTS 0.5 inf", "AGGREGATE MAX", "WITHSCORES"], 2),
            ],
        )),
        with_opts(cmd(
            "ZDIFF",
            vec![numkeys(), key(), key(), opts(&["WITHSCORES"], 1)],
        )),
        cmd("ZUNIONSTORE", vec![key(), numkeys(), key(), key()]),
        cmd("ZINTERSTORE", vec![key(), numkeys(), key(), key()]),
        cmd("ZDIFFSTORE", vec![key(), numkeys(), key(), key()]),
        cmd("ZINTERCARD", vec![numkeys(), key(), key()]),
        cmd("ZRANDMEMBER", vec![key(), pick(&[b"0", b"5", b"x"])]),
        cmd("OBJECT ENCODING", vec![key()]),
        cmd("SET", vec![key(), val()]),
        cmd("DEL", vec![key()]),
        cmd("TYPE", vec![key()]),
    ];
    v.extend(collections());
    Union::new(v).boxed()
}

/// SORT over lists, int-only sets (intsets iterate in the same order in
/// both servers) and sorted sets, with BY/GET patterns over strings and
/// hash fields. ALPHA comes without BY patterns and LIMIT: equal ALPHA BY
/// values (missing ones, say) have no tie-break in Redis, so their order is
/// that of its hash table, or of its unstable partial quicksort under LIMIT.
pub fn sort_cmd() -> BoxedStrategy<Cmd> {
    let elem = || pick(&[b"1", b"2", b"10", b"-1", b"x", b"y", b"", b"1.5"]);
    let weight = || pick(&[b"1", b"5", b"-2", b"0.5", b"abc", b"", b"inf"]);
    let pat_key = || {
        pick(&[
            b"w_1", b"w_2", b"w_10", b"w_x", b"w_", b"h_1", b"h_x", b"h_y",
        ])
    };
    let common = [
        "BY w_*",
        "BY h_*->f",
        "BY nosort",
        "DESC",
        "GET #",
        "GET w_*",
        "GET h_*->f",
        "STORE c",
    ];
    let numeric: Vec<&'static str> = common
        .iter()
        .copied()
        .chain(["LIMIT 0 2", "LIMIT 1 -1", "LIMIT 2 1"])
        .collect();
    let alpha: Vec<&'static str> = common
        .iter()
        .copied()
        .filter(|o| !o.starts_with("BY ") || *o == "BY nosort")
        .chain(["ALPHA"])
        .collect();
    let v = vec![
        cmd("RPUSH", vec![key(), elem(), elem(), elem()]),
        cmd("LPUSH", vec![key(), elem()]),
        cmd("SADD", vec![key(), pick(&[b"1", b"2", b"10", b"-1"])]),
        cmd("ZADD", vec![key(), weight(), elem()]),
        cmd("SET", vec![pat_key(), weight()]),
        cmd("HSET", vec![pat_key(), pick(&[b"f", b"g"]), weight()]),
        cmd("DEL", vec![key()]),
        cmd("SET", vec![key(), elem()]),
        with_opts(cmd("SORT", vec![key(), opts(&numeric, 3)])),
        with_opts(cmd("SORT", vec![key(), pick(&[b"ALPHA"]), opts(&alpha, 3)])),
        with_opts(cmd("SORT_RO", vec![key(), opts(&numeric, 3)])),
        cmd("LRANGE", vec![pick(&[b"c"]), pick(&[b"0"]), pick(&[b"-1"])]),
        cmd("TYPE", vec![pick(&[b"c"])]),
    ];
    Union::new(v).boxed()
}

/// Geo commands over a handful of points (some sharing a position, some
/// near the antimeridian). COUNT comes only with ANY: without it Redis picks
/// the nearest with an unstable partial sort, so ties would be arbitrary.
pub fn geo_cmd() -> BoxedStrategy<Cmd> {
    let member = || pick(&[b"a", b"b", b"c", b"d", b""]);
    let lon = || {
        pick(&[
            b"0", b"0.01", b"-0.02", b"13.36", b"179.99", b"-179.99", b"181", b"x",
        ])
    };
    let lat = || pick(&[b"0", b"0.01", b"38.1", b"-45", b"85", b"85.1"]);
    let radius = || pick(&[b"0", b"1", b"5", b"1000", b"-1", b"x"]);
    let unit = || pick(&[b"m", b"km", b"mi", b"ft", b"KM", b"au"]);
    let with = &[
        "WITHDIST",
        "WITHCOORD",
        "WITHHASH",
        "ASC",
        "DESC",
        "COUNT 2 ANY",
        "COUNT 1 ANY",
    ];
    let v = vec![
        with_opts(cmd(
            "GEOADD",
            vec![key(), opts(&["NX", "XX", "CH"], 2), lon(), lat(), member()],
        )),
        cmd(
            "GEOADD",
            vec![key(), lon(), lat(), member(), lon(), lat(), member()],
        ),
        cmd("GEOPOS", vec![key(), member(), member()]),
        cmd("GEOHASH", vec![key(), member(), member()]),
        cmd("GEODIST", vec![key(), member(), member(), unit()]),
        with_opts(cmd(
            "GEOSEARCH",
            vec![
                key(),
                pick(&[b"FROMMEMBER"]),
                member(),
                pick(&[b"BYRADIUS"]),
                radius(),
                unit(),
                opts(with, 3),
            ],
        )),
        with_opts(cmd(
            "GEOSEARCH",
            vec![
                key(),
                pick(&[b"FROMLONLAT"]),
                lon(),
                lat(),
                pick(&[b"BYBOX"]),
                radius(),
                radius(),
                unit(),
                opts(with, 3),
            ],
        )),
        with_opts(cmd(
            "GEOSEARCHSTORE",
            vec![
                key(),
                key(),
                pick(&[b"FROMMEMBER"]),
                member(),
                pick(&[b"BYRADIUS"]),
                radius(),
                unit(),
                opts(&["STOREDIST", "ASC", "COUNT 1 ANY"], 2),
            ],
        )),
        with_opts(cmd(
            "GEORADIUS",
            vec![key(), lon(), lat(), radius(), unit(), opts(with, 3)],
        )),
        with_opts(cmd(
            "GEORADIUSBYMEMBER",
            vec![
                key(),
                member(),
                radius(),
                unit(),
                opts(&["STORE c", "STOREDIST c", "WITHDIST", "DESC"], 2),
            ],
        )),
        cmd(
            "ZRANGE",
            vec![key(), pick(&[b"0"]), pick(&[b"-1"]), pick(&[b"WITHSCORES"])],
        ),
        cmd(
            "ZADD",
            vec![key(), pick(&[b"1", b"-5", b"4503599627370496"]), member()],
        ),
        cmd("SET", vec![key(), val()]),
        cmd("DEL", vec![key()]),
    ];
    Union::new(v).boxed()
}

pub fn lists_cmd() -> BoxedStrategy<Cmd> {
    let elem = || pick(&[b"a", b"b", b"c", b"", b"1", b"-1", b"\x00\xff"]);
    let end = || pick(&[b"LEFT", b"RIGHT", b"left", b"UP"]);
    let count = || pick(&[b"0", b"1", b"2", b"5", b"-1", b"x", b"9223372036854775807"]);
    let numkeys = || pick(&[b"1", b"2", b"0", b"3", b"x"]);
    let mut v = vec![
        cmd("LPUSH", vec![key(), elem()]),
        cmd("LPUSH", vec![key(), elem(), elem(), elem()]),
        cmd("RPUSH", vec![key(), elem()]),
        cmd("RPUSH", vec![key(), elem(), elem(), elem()]),
        cmd("LPUSHX", vec![key(), elem()]),
        cmd("RPUSHX", vec![key(), elem(), elem()]),
        cmd("LPOP", vec![key()]),
        cmd("RPOP", vec![key()]),
        cmd("LPOP", vec![key(), count()]),
        cmd("RPOP", vec![key(), count()]),
        cmd("LLEN", vec![key()]),
        cmd("LRANGE", vec![key(), index(), index()]),
        cmd("LINDEX", vec![key(), index()]),
        cmd("LSET", vec![key(), index(), elem()]),
        cmd("LREM", vec![key(), index(), elem()]),
        cmd("LTRIM", vec![key(), index(), index()]),
        cmd(
            "LINSERT",
            vec![key(), pick(&[b"BEFORE", b"after", b"x"]), elem(), elem()],
        ),
        with_opts(cmd(
            "LPOS",
            vec![
                key(),
                elem(),
                opts(
                    &[
                        "RANK 1",
                        "RANK -1",
                        "RANK 2",
                        "RANK -2",
                        "RANK 0",
                        "COUNT 0",
                        "COUNT 1",
                        "COUNT 2",
                        "COUNT -1",
                        "MAXLEN 0",
                        "MAXLEN 2",
                        "MAXLEN -1",
                        "RANK x",
                    ],
                    3,
                ),
            ],
        )),
        cmd("LMOVE", vec![key(), key(), end(), end()]),
        cmd("RPOPLPUSH", vec![key(), key()]),
        cmd("BLPOP", vec![key(), key(), block_timeout()]),
        cmd("BRPOP", vec![key(), block_timeout()]),
        cmd("BLMOVE", vec![key(), key(), end(), end(), block_timeout()]),
        cmd("BRPOPLPUSH", vec![key(), key(), block_timeout()]),
        with_opts(cmd(
            "BLMPOP",
            vec![
                block_timeout(),
                numkeys(),
                key(),
                key(),
                end(),
                opts(&["COUNT 1", "COUNT 3", "COUNT 0"], 1),
            ],
        )),
        with_opts(cmd(
            "LMPOP",
            vec![
                numkeys(),
                key(),
                key(),
                end(),
                opts(&["COUNT 1", "COUNT 3", "COUNT 0", "COUNT x"], 2),
            ],
        )),
        cmd(
            "CONFIG SET list-max-listpack-size",
            vec![pick(&[b"1", b"2", b"-1", b"-2"])],
        ),
        cmd("OBJECT ENCODING", vec![key()]),
        cmd("SET", vec![key(), val()]),
        cmd("DEL", vec![key()]),
        cmd("EXISTS", vec![key()]),
        cmd("TYPE", vec![key()]),
        cmd("COPY", vec![key(), key()]),
        cmd("RENAME", vec![key(), key()]),
    ];
    v.extend(collections());
    Union::new(v).boxed()
}

/// HyperLogLog commands over a few keys and elements, with the sketches'
/// raw bytes read back by GET and damaged through SET, APPEND and SETRANGE.
/// Written bytes avoid 0x40..=0x7f so no value ends in half an XZERO opcode
/// (Redis then reads past the string's end: see store/hll.rs).
pub fn hll_cmd() -> BoxedStrategy<Cmd> {
    let element = || {
        prop_oneof![
            (0u32..60).prop_map(|n| n.to_string().into_bytes()),
            pick(&[b"a", b"b", b"", b"\x00\xff"]),
        ]
        .boxed()
    };
    let elements = |max| proptest::collection::vec(element(), 0..=max);
    let keys = |min, max| proptest::collection::vec(key(), min..=max);
    let with = |words: &'static str, args: BoxedStrategy<Vec<Vec<u8>>>| {
        args.prop_map(move |rest| {
            let mut c: Cmd = words.split(' ').map(b).collect();
            c.extend(rest);
            c
        })
        .boxed()
    };
    const HDR: &[u8] = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80";
    let crafted = |tail: &[u8]| [HDR, tail].concat();
    let stored = select(vec![
        crafted(b"\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a"),
        crafted(b"\x7f\xff"),
        crafted(b"\x7f\xfe"),
        crafted(b"\x7f\xff\xff"),
        crafted(b"\x3f\x7f\xbf\x81"),
        crafted(b""),
        b"HYLL\x01\0\0\0\x05\0\0\0\0\0\0\0\x7f\xff\x7f\xff".to_vec(),
        b"HYLL\x00\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff".to_vec(),
        b"abc".to_vec(),
        b"HYLL".to_vec(),
    ])
    .boxed();
    let byte = || {
        pick(&[
            b"\x00", b"\x01", b"\x3f", b"\x80", b"\x81", b"\xbf", b"\xff",
        ])
    };
    let offset = || pick(&[b"4", b"8", b"15", b"16", b"17", b"18", b"30"]);
    let mut v = vec![
        with(
            "PFADD",
            (key(), elements(6))
                .prop_map(|(k, e)| [vec![k], e].concat())
                .boxed(),
        ),
        with(
            "PFADD",
            (key(), elements(30))
                .prop_map(|(k, e)| [vec![k], e].concat())
                .boxed(),
        ),
        with("PFCOUNT", keys(1, 3).boxed()),
        with("PFCOUNT", keys(1, 1).boxed()),
        with("PFMERGE", keys(1, 3).boxed()),
        cmd("GET", vec![key()]),
        cmd("STRLEN", vec![key()]),
        cmd("SET", vec![key(), stored]),
        cmd("APPEND", vec![key(), byte()]),
        cmd("SETRANGE", vec![key(), offset(), byte()]),
        cmd("PFDEBUG ENCODING", vec![key()]),
        cmd("PFDEBUG DECODE", vec![key()]),
        cmd("PFDEBUG TODENSE", vec![key()]),
        cmd(
            "CONFIG SET hll-sparse-max-bytes",
            vec![pick(&[b"0", b"30", b"60", b"3000"])],
        ),
        cmd("DEL", vec![key()]),
        cmd("SET", vec![key(), val()]),
    ];
    v.extend(collections());
    Union::new(v).boxed()
}

/// Bitmap commands mixed with the string commands that share their values.
pub fn bitmaps_cmd() -> BoxedStrategy<Cmd> {
    let offset = || {
        pick(&[
            b"0",
            b"1",
            b"7",
            b"8",
            b"13",
            b"31",
            b"63",
            b"64",
            b"100",
            b"-1",
            b"x",
            b"4294967296",
        ])
    };
    let bit = || pick(&[b"0", b"1", b"2"]);
    let range_end = || {
        pick(&[
            b"0", b"1", b"2", b"3", b"-1", b"-2", b"-9", b"15", b"100", b"-100", b"x",
        ])
    };
    let unit = || pick(&[b"BIT", b"BYTE", b"bit", b"nope"]);
    let bitval = || {
        pick(&[
            b"\xff\x00\x0f",
            b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xfe",
            b"foobar",
            b"255",
            b"-1",
            b"",
        ])
    };
    let field_type = || {
        pick(&[
            b"u1", b"i1", b"u4", b"i5", b"u8", b"i8", b"u16", b"i17", b"u63", b"i64", b"u64",
        ])
    };
    let field_offset = || pick(&[b"0", b"1", b"3", b"8", b"13", b"#0", b"#1", b"#3", b"-1"]);
    let field_value = || {
        pick(&[
            b"0",
            b"1",
            b"-1",
            b"5",
            b"100",
            b"127",
            b"128",
            b"255",
            b"-129",
            b"65536",
            b"9223372036854775807",
            b"-9223372036854775808",
            b"x",
        ])
    };
    let field_op = || {
        Union::new(vec![
            cmd("GET", vec![field_type(), field_offset()]),
            cmd("SET", vec![field_type(), field_offset(), field_value()]),
            cmd("INCRBY", vec![field_type(), field_offset(), field_value()]),
            cmd("OVERFLOW", vec![pick(&[b"WRAP", b"SAT", b"FAIL"])]),
        ])
        .boxed()
    };
    let field_ops = || {
        proptest::collection::vec(field_op(), 0..=4)
            .prop_map(|ops| ops.concat())
            .boxed()
    };
    let with_ops = |s: BoxedStrategy<Cmd>| {
        s.prop_map(|mut c| {
            let ops = c.pop().unwrap_or_default();
            c.extend(
                ops.split(|&x| x == 0)
                    .filter(|w| !w.is_empty())
                    .map(|w| w.to_vec()),
            );
            c
        })
        .boxed()
    };
    // Field operations travel as one NUL-joined argument, split by `with_ops`.
    let joined_ops = || field_ops().prop_map(|words| words.join(&0u8)).boxed();
    let v = vec![
        cmd("SETBIT", vec![key(), offset(), bit()]),
        cmd("SETBIT", vec![key(), offset(), bit()]),
        cmd("GETBIT", vec![key(), offset()]),
        cmd("BITCOUNT", vec![key()]),
        cmd("BITCOUNT", vec![key(), range_end(), range_end()]),
        cmd("BITCOUNT", vec![key(), range_end(), range_end(), unit()]),
        cmd("BITPOS", vec![key(), bit()]),
        cmd("BITPOS", vec![key(), bit(), range_end()]),
        cmd("BITPOS", vec![key(), bit(), range_end(), range_end()]),
        cmd(
            "BITPOS",
            vec![key(), bit(), range_end(), range_end(), unit()],
        ),
        cmd(
            "BITOP",
            vec![pick(&[b"AND", b"OR", b"XOR"]), key(), key(), key()],
        ),
        cmd(
            "BITOP",
            vec![pick(&[b"AND", b"OR", b"XOR", b"NOT"]), key(), key()],
        ),
        with_ops(cmd("BITFIELD", vec![key(), joined_ops()])),
        with_ops(cmd("BITFIELD_RO", vec![key(), joined_ops()])),
        cmd("SET", vec![key(), bitval()]),
        cmd("SET", vec![key(), val()]),
        cmd("GET", vec![key()]),
        cmd("APPEND", vec![key(), bitval()]),
        cmd(
            "SETRANGE",
            vec![key(), pick(&[b"0", b"1", b"5", b"12"]), bitval()],
        ),
        cmd("STRLEN", vec![key()]),
        cmd("INCR", vec![key()]),
        cmd("DEL", vec![key()]),
        cmd("RPUSH", vec![key(), val()]),
    ];
    Union::new(v).boxed()
}

pub fn stream_cmd() -> BoxedStrategy<Cmd> {
    // Explicit IDs only ("*" would take the clock), colliding often.
    let id = || {
        pick(&[
            b"1-1", b"1-2", b"2", b"2-*", b"3-0", b"3-*", b"5-5", b"0-1", b"0-0", b"9-9", b"x",
        ])
    };
    let bound = || {
        pick(&[
            b"-", b"+", b"0", b"1-1", b"2", b"(1-1", b"(2-0", b"3-0", b"(5-5", b"9", b"x",
        ])
    };
    let field = || pick(&[b"f", b"g", b"", b"1"]);
    let count = || pick(&[b"0", b"1", b"2", b"-1", b"x"]);
    let group = || pick(&[b"g", b"h"]);
    let consumer = || pick(&[b"c1", b"c2"]);
    let trim = || {
        opts(
            &[
                "MAXLEN 1",
                "MAXLEN ~ 2",
                "MAXLEN = 0",
                "MINID 2",
                "MINID ~ 3-0",
                "LIMIT 1",
                "LIMIT 0",
                "NOMKSTREAM",
            ],
            2,
        )
    };
    let v = vec![
        with_opts(cmd("XADD", vec![key(), trim(), id(), field(), val()])),
        cmd("XADD", vec![key(), id(), field(), val(), field(), val()]),
        cmd("XADD", vec![key(), id(), field()]),
        cmd("XDEL", vec![key(), id()]),
        cmd("XDEL", vec![key(), id(), id()]),
        with_opts(cmd("XTRIM", vec![key(), trim()])),
        cmd("XLEN", vec![key()]),
        cmd("XRANGE", vec![key(), bound(), bound()]),
        cmd(
            "XRANGE",
            vec![key(), bound(), bound(), pick(&[b"COUNT"]), count()],
        ),
        cmd("XREVRANGE", vec![key(), bound(), bound()]),
        cmd(
            "XREVRANGE",
            vec![key(), bound(), bound(), pick(&[b"COUNT"]), count()],
        ),
        cmd(
            "XREAD STREAMS",
            vec![key(), pick(&[b"0", b"1-1", b"$", b"x"])],
        ),
        cmd(
            "XREAD COUNT",
            vec![count(), pick(&[b"STREAMS"]), key(), key(), id(), id()],
        ),
        cmd("XREAD BLOCK 1 STREAMS", vec![key(), pick(&[b"0", b"$"])]),
        cmd("XSETID", vec![key(), id()]),
        with_opts(cmd(
            "XSETID",
            vec![
                key(),
                id(),
                opts(&["ENTRIESADDED 0", "ENTRIESADDED 5", "MAXDELETEDID 2-0"], 2),
            ],
        )),
        cmd("XINFO STREAM", vec![key()]),
        // FULL would show delivery times once groups exist.
        cmd(
            "XGROUP CREATE",
            vec![key(), group(), pick(&[b"0", b"$", b"2-0", b"x"])],
        ),
        cmd(
            "XGROUP CREATE",
            vec![key(), group(), pick(&[b"0"]), pick(&[b"MKSTREAM"])],
        ),
        cmd(
            "XGROUP SETID",
            vec![key(), group(), pick(&[b"0", b"$", b"1-1"])],
        ),
        cmd("XGROUP DESTROY", vec![key(), group()]),
        cmd("XGROUP CREATECONSUMER", vec![key(), group(), consumer()]),
        cmd("XGROUP DELCONSUMER", vec![key(), group(), consumer()]),
        cmd(
            "XREADGROUP GROUP",
            vec![
                group(),
                consumer(),
                pick(&[b"STREAMS"]),
                key(),
                pick(&[b">", b"0", b"1-1", b"$"]),
            ],
        ),
        cmd(
            "XREADGROUP GROUP",
            vec![
                group(),
                consumer(),
                pick(&[b"COUNT"]),
                count(),
                pick(&[b"NOACK"]),
                pick(&[b"STREAMS"]),
                key(),
                pick(&[b">"]),
            ],
        ),
        cmd("XACK", vec![key(), group(), id(), id()]),
        cmd("XPENDING", vec![key(), group()]),
        cmd(
            "XCLAIM",
            vec![
                key(),
                group(),
                consumer(),
                pick(&[b"0"]),
                id(),
                id(),
                pick(&[b"JUSTID", b"FORCE"]),
            ],
        ),
        cmd(
            "XCLAIM",
            vec![key(), group(), consumer(), pick(&[b"0"]), id()],
        ),
        cmd(
            "XAUTOCLAIM",
            vec![
                key(),
                group(),
                consumer(),
                pick(&[b"0"]),
                bound(),
                pick(&[b"COUNT"]),
                count(),
            ],
        ),
        cmd(
            "XAUTOCLAIM",
            vec![
                key(),
                group(),
                consumer(),
                pick(&[b"0"]),
                bound(),
                pick(&[b"JUSTID"]),
            ],
        ),
        cmd("XINFO GROUPS", vec![key()]),
        cmd(
            "CONFIG SET stream-node-max-entries",
            vec![pick(&[b"1", b"2", b"100"])],
        ),
        cmd(
            "CONFIG SET stream-node-max-bytes",
            vec![pick(&[b"0", b"40", b"4096"])],
        ),
        cmd("SET", vec![key(), val()]),
        cmd("DEL", vec![key()]),
        cmd("TYPE", vec![key()]),
        cmd("COPY", vec![key(), key()]),
        cmd("RENAME", vec![key(), key()]),
        cmd("RPUSH", vec![key(), val()]),
    ];
    Union::new(v).boxed()
}

/// How a randomly generated command's reply is compared.
pub fn mode_for(c: &Cmd) -> Mode {
    let name = String::from_utf8_lossy(&c[0]).to_ascii_uppercase();
    match name.as_str() {
        "TTL" | "EXPIRETIME" => Mode::Near(1),
        "PTTL" | "PEXPIRETIME" => Mode::Near(1000),
        "KEYS" => Mode::Set,
        "SCAN" => Mode::Scan,
        "RANDOMKEY" => Mode::Type,
        "SMEMBERS" | "SUNION" | "SINTER" | "SDIFF" | "SPOP" => Mode::Set,
        "SSCAN" => Mode::Scan,
        "SRANDMEMBER" if c.len() == 2 => Mode::Type,
        "SRANDMEMBER" => Mode::Len,
        // Past the listpack limits the field order is the hash table's.
        "HGETALL" => Mode::Pairs,
        "HKEYS" | "HVALS" => Mode::Set,
        "HSCAN" => Mode::Scan,
        "HRANDFIELD" if c.len() == 2 => Mode::Type,
        "HRANDFIELD" => Mode::Len,
        _ => Mode::Exact,
    }
}

/// Number of proptest cases per family (`RUSSET_DIFF_CASES`, default 256).
pub fn cases() -> u32 {
    std::env::var("RUSSET_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Runs random sequences of one family against both servers.
pub fn run_family(family: &str, strategy: BoxedStrategy<Cmd>) {
    let Some(pair) = Pair::start() else { return };
    let pair = RefCell::new(pair);
    let stats = RefCell::new(Stats::default());
    let first_failure = RefCell::new(None::<usize>);
    let seq = (any::<bool>(), proptest::collection::vec(strategy, 1..=60))
        .prop_map(|(resp3, cmds)| Seq { resp3, cmds });
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    });
    let result = runner.run(&seq, |s| {
        let steps: Vec<Step> = s
            .cmds
            .iter()
            .enumerate()
            .map(|(i, c)| Step {
                location: format!("random-{family} #{}", i + 1),
                proto: None,
                mode: mode_for(c),
                args: c.clone(),
            })
            .collect();
        let mut st = Stats::default();
        pair.borrow_mut()
            .run_case(if s.resp3 { 3 } else { 2 }, &steps, &mut st);
        let mut total = stats.borrow_mut();
        total.compared += st.compared;
        if st.mismatches.is_empty() {
            Ok(())
        } else {
            first_failure
                .borrow_mut()
                .get_or_insert(st.mismatches.len());
            Err(TestCaseError::fail(st.mismatches.join("\n")))
        }
    });
    let mut total = stats.into_inner();
    let n = first_failure.into_inner().unwrap_or(0);
    if let Err(e) = result {
        total.mismatches = vec![String::new(); n.max(1)];
        report(&format!("random-{family}"), &total);
        panic!("differential random-{family}: mismatch; minimal failing case:\n{e}");
    }
    report(&format!("random-{family}"), &total);
}
