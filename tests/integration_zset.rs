//! Sorted sets through a real client (the `redis` crate) against an
//! in-process server: both encodings, conversions, large sets, and the
//! multi-key commands across shards.

mod common;

use redis::{Commands, Connection};

fn connect() -> (common::Server, Connection) {
    let server = common::start();
    let con = server.con();
    (server, con)
}

fn encoding(con: &mut Connection, key: &str) -> String {
    redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg(key)
        .query(con)
        .expect("object encoding")
}

#[test]
fn add_score_rank_and_range_in_both_encodings() {
    let (_h, mut con) = connect();
    for (key, n) in [("small", 100usize), ("large", 5000)] {
        // Insert in a scrambled order so the structure really sorts.
        for i in 0..n {
            let j = (i * 7919) % n;
            let added: i64 = con.zadd(key, format!("m{j}"), j as f64 * 1.5).unwrap();
            assert_eq!(added, 1);
        }
        let expected = if n > 128 { "skiplist" } else { "listpack" };
        assert_eq!(encoding(&mut con, key), expected);
        assert_eq!(con.zcard::<_, usize>(key).unwrap(), n);
        for j in [0, 1, n / 2, n - 1] {
            let m = format!("m{j}");
            assert_eq!(con.zrank::<_, _, usize>(key, &m).unwrap(), j);
            assert_eq!(con.zscore::<_, _, f64>(key, &m).unwrap(), j as f64 * 1.5);
        }
        let top: Vec<(String, f64)> = con.zrevrange_withscores(key, 0, 2).unwrap();
        assert_eq!(top[0], (format!("m{}", n - 1), (n - 1) as f64 * 1.5));
        let mid: Vec<String> = con.zrangebyscore_limit(key, 15.0, "+inf", 2, 3).unwrap();
        assert_eq!(mid, vec!["m12", "m13", "m14"]);
        let count: usize = con.zcount(key, "(15", 30).unwrap();
        assert_eq!(count, 10);
        let removed: usize = con.zrembyscore(key, "-inf", "(15").unwrap();
        assert_eq!(removed, 10);
        let popped: Vec<(String, f64)> = con.zpopmin(key, 2).unwrap();
        assert_eq!(popped, vec![("m10".into(), 15.0), ("m11".into(), 16.5)]);
        assert_eq!(con.zcard::<_, usize>(key).unwrap(), n - 12);
    }
}

#[test]
fn incr_updates_order_and_rejects_nan() {
    let (_h, mut con) = connect();
    let _: () = con
        .zadd_multiple("z", &[(1, "a"), (2, "b"), (3, "c")])
        .unwrap();
    let s: f64 = con.zincr("z", "a", 10).unwrap();
    assert_eq!(s, 11.0);
    let order: Vec<String> = con.zrange("z", 0, -1).unwrap();
    assert_eq!(order, vec!["b", "c", "a"]);
    let _: f64 = con.zincr("z", "a", f64::INFINITY).unwrap();
    let err = con
        .zincr::<_, _, _, f64>("z", "a", f64::NEG_INFINITY)
        .unwrap_err();
    assert!(err.to_string().contains("NaN"), "{err}");
}

#[test]
fn store_commands_across_shards_and_conversion() {
    let (_h, mut con) = connect();
    // Keys chosen to land on different shards; the command must lock all.
    for k in 0..8 {
        let key = format!("src{k}");
        for i in 0..40 {
            let _: i64 = con.zadd(&key, format!("e{}", i + k * 10), i).unwrap();
        }
    }
    let keys: Vec<String> = (0..8).map(|k| format!("src{k}")).collect();
    let n: usize = con.zunionstore("dst", &keys).unwrap();
    assert_eq!(n, 110);
    assert_eq!(encoding(&mut con, "dst"), "listpack");
    let n: usize = con.zinterstore("inter", &keys[..2]).unwrap();
    assert_eq!(n, 30);
    let card: usize = redis::cmd("ZINTERCARD")
        .arg(2)
        .arg(&keys[0])
        .arg(&keys[1])
        .query(&mut con)
        .unwrap();
    assert_eq!(card, 30);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("zset-max-listpack-entries")
        .arg(16)
        .query(&mut con)
        .unwrap();
    let n: usize = con.zunionstore("dst2", &keys).unwrap();
    assert_eq!(n, 110);
    assert_eq!(encoding(&mut con, "dst2"), "skiplist");
    let popped: redis::Value = redis::cmd("ZMPOP")
        .arg(2)
        .arg("missing")
        .arg("dst2")
        .arg("MAX")
        .arg("COUNT")
        .arg(2)
        .query(&mut con)
        .unwrap();
    assert!(format!("{popped:?}").contains("dst2"));
    assert_eq!(con.zcard::<_, usize>("dst2").unwrap(), 108);
}

#[test]
fn zscan_returns_every_member_of_a_skiplist() {
    let (_h, mut con) = connect();
    for i in 0..1000 {
        let _: i64 = con.zadd("big", format!("m{i}"), i).unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0u64;
    loop {
        let (next, items): (u64, Vec<(String, f64)>) = redis::cmd("ZSCAN")
            .arg("big")
            .arg(cursor)
            .arg("COUNT")
            .arg(50)
            .query(&mut con)
            .unwrap();
        for (m, s) in items {
            assert_eq!(format!("m{s}"), m);
            seen.insert(m);
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
}
