//! HyperLogLog against a real client: sketches copied between a real
//! redis-server and russet as plain strings (GET/SET) count the same and
//! keep growing byte for byte alike, and the standard error holds at a
//! million elements added through the server with pipelining.

mod common;

use redis::Connection;

/// Adds elements `prefix0..prefixN` in pipelined batches.
fn add_range(con: &mut Connection, key: &str, prefix: &str, range: std::ops::Range<u64>) {
    let ids: Vec<u64> = range.collect();
    for chunk in ids.chunks(50_000) {
        let mut pipe = redis::pipe();
        for batch in chunk.chunks(500) {
            let mut cmd = redis::cmd("PFADD");
            cmd.arg(key);
            for i in batch {
                cmd.arg(format!("{prefix}{i}"));
            }
            pipe.add_command(cmd).ignore();
        }
        pipe.query::<()>(con).expect("pipelined PFADD");
    }
}

fn count(con: &mut Connection, keys: &[&str]) -> u64 {
    redis::cmd("PFCOUNT").arg(keys).query(con).expect("PFCOUNT")
}

fn raw(con: &mut Connection, key: &str) -> Vec<u8> {
    redis::cmd("GET").arg(key).query(con).expect("GET")
}

fn encoding(con: &mut Connection, key: &str) -> String {
    redis::cmd("PFDEBUG")
        .arg("ENCODING")
        .arg(key)
        .query(con)
        .expect("PFDEBUG ENCODING")
}

fn set_raw(con: &mut Connection, key: &str, value: &[u8]) {
    redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query::<()>(con)
        .expect("SET");
}

#[test]
fn sketches_copied_between_redis_and_russet_count_the_same() {
    let reference = common::start_redis();
    let ours = common::start();
    let (mut r, mut o) = (reference.con(), ours.con());
    // A sparse and a dense sketch built by each server.
    for (key, n) in [("small", 300u64), ("large", 40_000)] {
        add_range(&mut r, key, "r", 0..n);
        add_range(&mut o, key, "o", 0..n);
    }
    assert_eq!(encoding(&mut r, "small"), "sparse");
    assert_eq!(encoding(&mut r, "large"), "dense");
    for key in ["small", "large"] {
        // Redis -> russet, before and after the cache is filled in.
        let fresh = raw(&mut r, key);
        set_raw(&mut o, "from_redis", &fresh);
        let want = count(&mut r, &[key]);
        assert_eq!(count(&mut o, &["from_redis"]), want, "{key}");
        assert_eq!(
            raw(&mut o, "from_redis"),
            raw(&mut r, key),
            "{key}: cache bytes"
        );
        // Both keep evolving identically.
        add_range(&mut r, key, "more", 0..2000);
        add_range(&mut o, "from_redis", "more", 0..2000);
        assert_eq!(
            raw(&mut o, "from_redis"),
            raw(&mut r, key),
            "{key}: after PFADD"
        );
        assert_eq!(count(&mut o, &["from_redis"]), count(&mut r, &[key]));
        // russet -> Redis.
        let ours_bytes = raw(&mut o, key);
        set_raw(&mut r, "from_russet", &ours_bytes);
        let want = count(&mut o, &[key]);
        assert_eq!(count(&mut r, &["from_russet"]), want, "{key}");
        assert_eq!(raw(&mut r, "from_russet"), raw(&mut o, key));
        // Unions across copies: PFCOUNT of many keys and PFMERGE agree.
        set_raw(&mut r, "theirs", &raw(&mut o, key));
        set_raw(&mut o, "theirs", &raw(&mut r, key));
        assert_eq!(
            count(&mut o, &[key, "theirs"]),
            count(&mut r, &[key, "theirs"])
        );
        for con in [&mut r, &mut o] {
            redis::cmd("PFMERGE")
                .arg("merged")
                .arg(key)
                .arg("theirs")
                .query::<()>(con)
                .unwrap();
        }
        assert_eq!(
            raw(&mut o, "merged"),
            raw(&mut r, "merged"),
            "{key}: PFMERGE"
        );
        for con in [&mut r, &mut o] {
            redis::cmd("DEL")
                .arg(&["from_redis", "from_russet", "theirs", "merged"])
                .query::<()>(con)
                .unwrap();
        }
    }
}

/// 3 standard errors of Redis's HLL (1.04/sqrt(16384) = 0.81%).
const TOLERANCE: f64 = 3.0 * 0.0081;

fn assert_close(estimate: u64, exact: u64) {
    let err = (estimate as f64 - exact as f64).abs() / exact as f64;
    assert!(
        err <= TOLERANCE,
        "estimate {estimate} for {exact} distinct elements: error {:.3}%",
        err * 100.0
    );
}

#[test]
fn standard_error_at_a_million_through_the_server() {
    let server = common::start();
    let mut con = server.con();
    let mut added = 0;
    for target in [1_000u64, 10_000, 100_000, 1_000_000] {
        add_range(&mut con, "visits", "user:", added..target);
        added = target;
        assert_close(count(&mut con, &["visits"]), target);
    }
    // Adding the same elements again changes nothing.
    let before = raw(&mut con, "visits");
    add_range(&mut con, "visits", "user:", 0..10_000);
    assert_eq!(raw(&mut con, "visits"), before);
    // A half-overlapping second sketch: the union is ~1.5M.
    add_range(&mut con, "other", "user:", 500_000..1_500_000);
    assert_close(count(&mut con, &["visits", "other"]), 1_500_000);
    redis::cmd("PFMERGE")
        .arg("all")
        .arg(&["visits", "other"])
        .query::<()>(&mut con)
        .unwrap();
    assert_close(count(&mut con, &["all"]), 1_500_000);
}
