//! Keyspace commands and expiry end to end over TCP.

mod common;

use common::*;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn del_unlink_exists_type() {
    let s = start();
    let mut c = s.conn();
    c.ok("MSET a 1 b 2 c 3 d 4");
    assert_eq!(c.int("EXISTS a a b missing"), 3);
    assert_eq!(c.int("EXISTS missing"), 0);
    assert_eq!(c.int("DEL a a missing"), 1);
    assert_eq!(c.int("EXISTS a"), 0);
    assert_eq!(c.int("UNLINK b c c missing"), 2);
    assert_eq!(c.int("DEL missing"), 0);
    assert_eq!(c.int("DBSIZE"), 1);
    assert_eq!(c.run("TYPE d"), Resp::simple("string"));
    assert_eq!(c.run("TYPE missing"), Resp::simple("none"));
    assert_eq!(
        c.err("DEL"),
        "ERR wrong number of arguments for 'del' command"
    );
    assert_eq!(
        c.err("EXISTS"),
        "ERR wrong number of arguments for 'exists' command"
    );
}

#[test]
fn rename_and_renamenx() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET a 1 EX 100");
    c.ok("RENAME a b");
    assert_eq!(c.int("EXISTS a"), 0);
    assert_eq!(c.get("GET b").as_deref(), Some("1"));
    assert!(c.int("TTL b") > 90, "RENAME keeps the TTL");
    // Overwrites the destination (including its TTL).
    c.ok("SET c 2");
    c.ok("RENAME c b");
    assert_eq!(c.get("GET b").as_deref(), Some("2"));
    assert_eq!(c.int("TTL b"), -1);
    // Same name is fine when the key exists.
    c.ok("RENAME b b");
    assert_eq!(c.get("GET b").as_deref(), Some("2"));
    assert_eq!(c.err("RENAME missing x"), "ERR no such key");
    assert_eq!(c.err("RENAME missing missing"), "ERR no such key");
    c.ok("SET x 1");
    assert_eq!(c.int("RENAMENX x b"), 0);
    assert_eq!(c.get("GET x").as_deref(), Some("1"));
    assert_eq!(c.int("RENAMENX x y"), 1);
    assert_eq!(c.int("EXISTS x"), 0);
    assert_eq!(c.get("GET y").as_deref(), Some("1"));
    assert_eq!(c.int("RENAMENX y y"), 0);
    assert_eq!(c.err("RENAMENX missing z"), "ERR no such key");
    // An expired key cannot be renamed.
    c.ok("SET gone v PX 1");
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(c.err("RENAME gone z"), "ERR no such key");
}

#[test]
fn move_copy_swapdb() {
    let s = start();
    let mut c = s.conn();
    let mut other = s.conn();
    c.ok("SET k v EX 100");
    assert_eq!(c.int("MOVE k 1"), 1);
    assert_eq!(c.int("EXISTS k"), 0);
    c.ok("SELECT 1");
    assert_eq!(c.get("GET k").as_deref(), Some("v"));
    assert!(c.int("TTL k") > 90, "MOVE keeps the TTL");
    c.ok("SELECT 0");
    c.ok("SET k v0");
    assert_eq!(c.int("MOVE k 1"), 0, "target exists");
    assert_eq!(c.get("GET k").as_deref(), Some("v0"));
    assert_eq!(c.int("MOVE missing 1"), 0);
    assert_eq!(
        c.err("MOVE k 0"),
        "ERR source and destination objects are the same"
    );
    assert_eq!(c.err("MOVE k 16"), "ERR DB index is out of range");
    assert_eq!(c.err("MOVE k -1"), "ERR DB index is out of range");
    assert_eq!(
        c.err("MOVE k x"),
        "ERR value is not an integer or out of range"
    );

    // COPY
    c.ok("SET src hello EX 200");
    assert_eq!(c.int("COPY src dst"), 1);
    assert_eq!(c.get("GET dst").as_deref(), Some("hello"));
    assert!(c.int("TTL dst") > 190, "COPY keeps the TTL");
    c.ok("SET src changed");
    assert_eq!(
        c.get("GET dst").as_deref(),
        Some("hello"),
        "copy is independent"
    );
    assert_eq!(c.int("COPY src dst"), 0);
    assert_eq!(c.get("GET dst").as_deref(), Some("hello"));
    assert_eq!(c.int("COPY src dst REPLACE"), 1);
    assert_eq!(c.get("GET dst").as_deref(), Some("changed"));
    assert_eq!(c.int("TTL dst"), -1);
    assert_eq!(c.int("COPY src dst DB 2"), 1);
    assert_eq!(c.int("COPY src dst DB 2"), 0);
    assert_eq!(c.int("COPY src dst DB 2 REPLACE"), 1);
    assert_eq!(c.int("COPY missing dst2"), 0);
    assert_eq!(
        c.err("COPY src src"),
        "ERR source and destination objects are the same"
    );
    assert_eq!(c.int("COPY src src DB 3"), 1);
    assert_eq!(c.err("COPY src x DB 16"), "ERR DB index is out of range");
    assert_eq!(c.err("COPY src x FOO"), "ERR syntax error");
    c.ok("SELECT 2");
    assert_eq!(c.get("GET dst").as_deref(), Some("changed"));
    c.ok("SELECT 3");
    assert_eq!(c.get("GET src").as_deref(), Some("changed"));

    // SWAPDB is visible to other connections immediately.
    c.ok("SELECT 0");
    c.ok("FLUSHALL");
    c.ok("SET in0 zero");
    c.ok("SELECT 1");
    c.ok("SET in1 one EX 100");
    other.ok("SELECT 1");
    assert_eq!(other.get("GET in1").as_deref(), Some("one"));
    c.ok("SWAPDB 0 1");
    assert_eq!(other.get("GET in0").as_deref(), Some("zero"));
    assert_eq!(other.get("GET in1"), None);
    c.ok("SELECT 0");
    assert_eq!(c.get("GET in1").as_deref(), Some("one"));
    assert!(c.int("TTL in1") > 90);
    c.ok("SWAPDB 1 1");
    assert_eq!(c.err("SWAPDB 0 16"), "ERR DB index is out of range");
    assert_eq!(c.err("SWAPDB 0 x"), "ERR invalid second DB index");
    assert_eq!(c.err("SWAPDB x 0"), "ERR invalid first DB index");
}

#[test]
fn keys_glob_patterns() {
    let s = start();
    let mut c = s.conn();
    c.ok("MSET hello 1 hallo 1 hxllo 1 heeeello 1 hillo 1 hbllo 1 h*llo 1 other 1");
    let mut keys = |pat: &str| {
        let mut v = c.cmd(&["KEYS", pat]).as_strings();
        v.sort();
        v
    };
    assert_eq!(
        keys("h?llo"),
        ["h*llo", "hallo", "hbllo", "hello", "hillo", "hxllo"]
    );
    assert_eq!(
        keys("h*llo"),
        ["h*llo", "hallo", "hbllo", "heeeello", "hello", "hillo", "hxllo"]
    );
    assert_eq!(keys("h[ae]llo"), ["hallo", "hello"]);
    assert_eq!(
        keys("h[^e]llo"),
        ["h*llo", "hallo", "hbllo", "hillo", "hxllo"]
    );
    assert_eq!(keys("h[a-b]llo"), ["hallo", "hbllo"]);
    assert_eq!(keys("h\\*llo"), ["h*llo"]);
    assert_eq!(
        keys("*"),
        ["h*llo", "hallo", "hbllo", "heeeello", "hello", "hillo", "hxllo", "other"]
    );
    assert_eq!(keys("nomatch*"), Vec::<String>::new());
    assert_eq!(keys("other"), ["other"]);
    // Expired keys are not listed.
    let mut c2 = s.conn();
    c2.ok("SET hzllo 1 PX 1");
    std::thread::sleep(Duration::from_millis(10));
    assert!(!keys("h?llo").contains(&"hzllo".to_string()));
}

/// Full SCAN iteration; returns all keys seen (with duplicates collapsed).
fn scan_all(c: &mut Conn, extra: &[&str]) -> (HashSet<String>, usize) {
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let r = c.cmd(&args);
        let parts = r.as_array();
        assert_eq!(parts.len(), 2, "{r:?}");
        let next = parts[0].as_str();
        for k in parts[1].as_strings() {
            seen.insert(k);
        }
        calls += 1;
        assert!(calls < 50_000, "SCAN did not terminate");
        if next == "0" {
            return (seen, calls);
        }
        cursor = next;
    }
}

#[test]
fn scan_full_iteration_with_concurrent_writes() {
    let s = start();
    let mut c = s.conn();
    let mut pipe = Vec::new();
    for i in 0..1000 {
        pipe.extend(encode_str(&["SET", &format!("k:{i}"), "v"]));
    }
    c.send(&pipe);
    for _ in 0..1000 {
        assert_eq!(c.read(), Resp::ok());
    }
    // Another connection keeps adding and deleting unrelated keys, which
    // forces the keyspace to grow (and rehash) during the scan.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let mut w = s.conn();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) && n < 200_000 {
                w.cmd(&["SET", &format!("tmp:{n}"), "x"]);
                if n >= 50 {
                    w.cmd(&["DEL", &format!("tmp:{}", n - 50)]);
                }
                n += 1;
            }
            n
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    for round in 0..3 {
        let (seen, calls) = scan_all(&mut c, &["COUNT", "7"]);
        let missing: Vec<usize> = (0..1000)
            .filter(|i| !seen.contains(&format!("k:{i}")))
            .collect();
        assert!(
            missing.is_empty(),
            "round {round}: SCAN missed {} keys, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(10)]
        );
        assert!(
            calls > 10,
            "COUNT 7 over 1000+ keys should need many calls, took {calls}"
        );
    }
    // MATCH returns only (and all) matching keys even while writes continue.
    let (seen, _) = scan_all(&mut c, &["MATCH", "k:1*", "COUNT", "7"]);
    let want: HashSet<String> = (0..1000)
        .map(|i| format!("k:{i}"))
        .filter(|k| k.starts_with("k:1"))
        .collect();
    assert_eq!(seen, want);
    stop.store(true, Ordering::Relaxed);
    let n = writer.join().unwrap();
    assert!(n > 0);
    // TYPE filter.
    let (seen, _) = scan_all(&mut c, &["TYPE", "string", "MATCH", "k:*"]);
    assert_eq!(seen.len(), 1000);
    let (seen, _) = scan_all(&mut c, &["TYPE", "list"]);
    assert!(seen.is_empty());
    assert_eq!(c.err("SCAN x"), "ERR invalid cursor");
    assert_eq!(c.err("SCAN 0 COUNT 0"), "ERR syntax error");
    assert_eq!(c.err("SCAN 0 FOO"), "ERR syntax error");
    assert_eq!(
        c.err("SCAN 0 COUNT x"),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn randomkey_dbsize_flush_touch() {
    let s = start();
    let mut c = s.conn();
    assert_eq!(c.get("RANDOMKEY"), None);
    assert_eq!(c.int("DBSIZE"), 0);
    c.ok("MSET a 1 b 2 c 3");
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let k = c.get("RANDOMKEY").expect("a key");
        assert!(["a", "b", "c"].contains(&k.as_str()), "{k}");
        seen.insert(k);
        if seen.len() == 3 {
            break;
        }
    }
    assert_eq!(
        seen.len(),
        3,
        "RANDOMKEY should eventually return every key"
    );
    assert_eq!(c.int("DBSIZE"), 3);
    assert_eq!(c.int("TOUCH a b missing a"), 3);
    c.ok("SELECT 1");
    c.ok("SET x 1");
    assert_eq!(c.int("DBSIZE"), 1);
    c.ok("SELECT 0");
    c.ok("FLUSHDB");
    assert_eq!(c.int("DBSIZE"), 0);
    c.ok("SELECT 1");
    assert_eq!(c.int("DBSIZE"), 1, "FLUSHDB only flushes the selected DB");
    c.ok("SELECT 0");
    c.ok("SET y 1");
    c.ok("FLUSHALL");
    assert_eq!(c.int("DBSIZE"), 0);
    c.ok("SELECT 1");
    assert_eq!(c.int("DBSIZE"), 0);
    c.ok("SET z 1");
    c.ok("FLUSHDB ASYNC");
    assert_eq!(c.int("DBSIZE"), 0);
    c.ok("FLUSHDB SYNC");
    c.ok("FLUSHALL ASYNC");
    assert_eq!(c.err("FLUSHDB FOO"), "ERR syntax error");
    assert_eq!(c.err("FLUSHALL FOO"), "ERR syntax error");
}

#[test]
fn object_encoding_refcount_idletime() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET n 12345");
    assert_eq!(c.get("OBJECT ENCODING n").as_deref(), Some("int"));
    c.ok("SET neg -42");
    assert_eq!(c.get("OBJECT ENCODING neg").as_deref(), Some("int"));
    c.ok("SET s hello");
    assert_eq!(c.get("OBJECT ENCODING s").as_deref(), Some("embstr"));
    c.ok("SET big 12345678901234567890");
    assert_eq!(c.get("OBJECT ENCODING big").as_deref(), Some("embstr"));
    let s44 = "a".repeat(44);
    let s45 = "a".repeat(45);
    c.cmd(&["SET", "e44", &s44]);
    c.cmd(&["SET", "e45", &s45]);
    assert_eq!(c.get("OBJECT ENCODING e44").as_deref(), Some("embstr"));
    assert_eq!(c.get("OBJECT ENCODING e45").as_deref(), Some("raw"));
    c.int("APPEND s !");
    assert_eq!(
        c.get("OBJECT ENCODING s").as_deref(),
        Some("raw"),
        "APPEND makes it raw"
    );
    c.int("INCR n");
    assert_eq!(c.get("OBJECT ENCODING n").as_deref(), Some("int"));
    assert_eq!(c.run("OBJECT ENCODING missing"), Resp::Bulk(None));

    c.ok("SET r hello");
    assert_eq!(c.int("OBJECT REFCOUNT r"), 1);
    // Small integers are shared objects in Redis.
    c.ok("SET small 100");
    assert_eq!(c.int("OBJECT REFCOUNT small"), 2147483647);
    assert_eq!(c.run("OBJECT REFCOUNT missing"), Resp::Bulk(None));
    assert_eq!(c.run("OBJECT IDLETIME missing"), Resp::Bulk(None));
    assert!(c
        .err("OBJECT FOO x")
        .starts_with("ERR unknown subcommand 'FOO'"));

    c.ok("SET idle v");
    assert!(c.int("OBJECT IDLETIME idle") <= 1);
    std::thread::sleep(Duration::from_millis(2100));
    let idle = c.int("OBJECT IDLETIME idle");
    assert!((1..=4).contains(&idle), "idletime after 2.1 s: {idle}");
    // OBJECT itself does not touch the key; GET does.
    assert!(c.int("OBJECT IDLETIME idle") >= 1);
    c.get("GET idle");
    assert_eq!(c.int("OBJECT IDLETIME idle"), 0);
    // TOUCH resets it too.
    assert!(c.int("OBJECT IDLETIME r") >= 1);
    c.int("TOUCH r");
    assert_eq!(c.int("OBJECT IDLETIME r"), 0);
}

#[test]
fn expire_nx_xx_gt_lt() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET k v");
    assert_eq!(c.int("EXPIRE k 100 XX"), 0, "XX on a key without TTL");
    assert_eq!(c.int("EXPIRE k 100 GT"), 0, "GT: no TTL counts as infinite");
    assert_eq!(c.int("TTL k"), -1);
    assert_eq!(c.int("EXPIRE k 100 NX"), 1);
    assert_eq!(c.int("EXPIRE k 200 NX"), 0);
    assert!((99..=100).contains(&c.int("TTL k")));
    assert_eq!(c.int("EXPIRE k 200 XX"), 1);
    assert!((199..=200).contains(&c.int("TTL k")));
    assert_eq!(c.int("EXPIRE k 100 GT"), 0);
    assert_eq!(c.int("EXPIRE k 300 GT"), 1);
    assert_eq!(c.int("EXPIRE k 400 LT"), 0);
    assert_eq!(c.int("EXPIRE k 150 LT"), 1);
    assert!((149..=150).contains(&c.int("TTL k")));
    assert_eq!(c.int("EXPIRE k 140 XX GT"), 0);
    assert_eq!(c.int("EXPIRE k 160 XX GT"), 1);
    c.ok("SET p v");
    assert_eq!(
        c.int("PEXPIRE p 100000 LT"),
        1,
        "LT: no TTL counts as infinite"
    );
    assert_eq!(c.int("PEXPIRE p 200000 LT"), 0);
    let at = unix_secs() + 1000;
    assert_eq!(c.int(&format!("EXPIREAT p {at} GT")), 1);
    assert_eq!(c.int("EXPIRETIME p"), at);
    assert_eq!(c.int(&format!("EXPIREAT p {} NX", at + 5)), 0);
    let atms = unix_ms() + 2_000_000;
    assert_eq!(c.int(&format!("PEXPIREAT p {atms} XX")), 1);
    assert_eq!(c.int("PEXPIRETIME p"), atms);
    assert_eq!(c.int(&format!("PEXPIREAT p {} LT", atms + 1)), 0);
    assert_eq!(c.int("EXPIRE missing 100"), 0);
    assert_eq!(c.int("EXPIRE missing 100 NX"), 0);
    assert_eq!(
        c.err("EXPIRE k 100 NX XX"),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        c.err("EXPIRE k 100 NX GT"),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        c.err("EXPIRE k 100 GT LT"),
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(c.err("EXPIRE k 100 FOO"), "ERR Unsupported option FOO");
    assert_eq!(c.err("PEXPIREAT k 100 FOO"), "ERR Unsupported option FOO");
    assert_eq!(
        c.err("EXPIRE k abc"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        c.err("EXPIRE k"),
        "ERR wrong number of arguments for 'expire' command"
    );
}

#[test]
fn ttl_edge_cases() {
    let s = start();
    let mut c = s.conn();
    assert_eq!(c.int("TTL missing"), -2);
    assert_eq!(c.int("PTTL missing"), -2);
    assert_eq!(c.int("EXPIRETIME missing"), -2);
    assert_eq!(c.int("PEXPIRETIME missing"), -2);
    c.ok("SET k v");
    assert_eq!(c.int("TTL k"), -1);
    assert_eq!(c.int("PTTL k"), -1);
    assert_eq!(c.int("EXPIRETIME k"), -1);
    assert_eq!(c.int("PEXPIRETIME k"), -1);
    assert_eq!(c.int("PERSIST k"), 0);
    assert_eq!(c.int("PERSIST missing"), 0);
    assert_eq!(c.int("EXPIRE k 100"), 1);
    assert_eq!(c.int("PERSIST k"), 1);
    assert_eq!(c.int("TTL k"), -1);
    // Negative or zero TTL deletes the key (and reports 1).
    for line in [
        "EXPIRE k -1",
        "EXPIRE k 0",
        "PEXPIRE k -5",
        "PEXPIRE k 0",
        "EXPIREAT k 1",
        "PEXPIREAT k 1000",
    ] {
        c.ok("SET k v");
        assert_eq!(c.int(line), 1, "{line}");
        assert_eq!(c.int("EXISTS k"), 0, "{line} should delete");
        assert_eq!(c.get("GET k"), None);
    }
    // Huge values overflow.
    c.ok("SET k v");
    assert_eq!(
        c.err("EXPIRE k 9223372036854775807"),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        c.err("EXPIRE k 9223372036854775"),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        c.err("EXPIRE k -9223372036854775808"),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        c.err("PEXPIRE k 9223372036854775807"),
        "ERR invalid expire time in 'pexpire' command"
    );
    assert_eq!(
        c.err("EXPIREAT k 9223372036854775807"),
        "ERR invalid expire time in 'expireat' command"
    );
    assert_eq!(
        c.err("EXPIRE k 9223372036854775808"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(c.int("TTL k"), -1, "failed EXPIRE must not change anything");
    // Large but valid.
    assert_eq!(c.int("EXPIRE k 100000000000"), 1);
    assert!(c.int("TTL k") > 99_999_000_000);
    assert_eq!(c.int("PEXPIREAT k 100000000000000"), 1);
    assert_eq!(c.int("PEXPIRETIME k"), 100_000_000_000_000);
    assert_eq!(c.int("EXPIRETIME k"), 100_000_000_000);
    // TTL rounds: PX 1500 → TTL 1 or 2 (Redis rounds to nearest).
    c.ok("SET r v PX 1500");
    let t = c.int("TTL r");
    assert!((1..=2).contains(&t), "{t}");
}

#[test]
fn lazy_expiry_px_50() {
    let s = start_with(&[("enable-debug-command", &["yes"])]);
    let mut c = s.conn();
    c.ok("SET k v PX 50");
    c.ok("SET long v PX 60000");
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(c.get("GET long").as_deref(), Some("v"));
    assert_eq!(c.get("GET k"), None);
    assert_eq!(c.int("EXISTS k"), 0);
    assert_eq!(c.int("TTL k"), -2);
    // Same with active expiry disabled: only the lazy path can hide it.
    c.ok("DEBUG SET-ACTIVE-EXPIRE 0");
    c.ok("SET k2 v PX 50");
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(c.get("GET k2"), None);
    assert_eq!(c.int("EXISTS k2"), 0);
    assert_eq!(
        c.int("DBSIZE"),
        1,
        "the lazy GET deleted it (only `long` left)"
    );
    c.ok("SET k3 v PX 50");
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(c.run("KEYS k*"), Resp::arr(vec![]));
    assert_eq!(c.run("MGET k3"), Resp::arr(vec![Resp::Bulk(None)]));
    assert_eq!(
        c.int("APPEND k3 x"),
        1,
        "APPEND on an expired key starts fresh"
    );
    assert_eq!(c.int("TTL k3"), -1);
    assert_eq!(c.int("INCR k4"), 1);
    c.ok("SET k5 5 PX 50");
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(c.int("INCR k5"), 1, "INCR on an expired key starts from 0");
}

fn set_many_with_ttl(c: &mut Conn, n: usize, prefix: &str, px: u64) {
    let mut pipe = Vec::new();
    for i in 0..n {
        pipe.extend(encode_str(&[
            "SET",
            &format!("{prefix}{i}"),
            "v",
            "PX",
            &px.to_string(),
        ]));
    }
    c.send(&pipe);
    for _ in 0..n {
        assert_eq!(c.read(), Resp::ok());
    }
}

#[test]
fn active_expiry_reclaims_untouched_keys() {
    let s = start_with(&[("enable-debug-command", &["yes"])]);
    let mut c = s.conn();
    c.ok("SET keeper v");
    set_many_with_ttl(&mut c, 10_000, "e:", 200);
    let done = wait_until(Duration::from_secs(8), || c.int("DBSIZE") == 1);
    assert!(
        done,
        "active expiry left {} keys after 8 s",
        c.int("DBSIZE")
    );
    assert_eq!(c.get("GET keeper").as_deref(), Some("v"));
    let info = c.run("INFO stats").as_str();
    let expired: i64 = info
        .lines()
        .find_map(|l| l.strip_prefix("expired_keys:"))
        .expect("expired_keys in INFO stats")
        .trim()
        .parse()
        .unwrap();
    assert!(expired >= 10_000, "expired_keys:{expired}");
}

#[test]
fn debug_set_active_expire_0_stops_active_expiry() {
    let s = start_with(&[("enable-debug-command", &["yes"])]);
    let mut c = s.conn();
    c.ok("DEBUG SET-ACTIVE-EXPIRE 0");
    set_many_with_ttl(&mut c, 10_000, "e:", 100);
    std::thread::sleep(Duration::from_millis(1500));
    // Nobody touched the keys and active expiry is off: they are still
    // physically there (DBSIZE counts logically expired keys, as in Redis).
    assert_eq!(c.int("DBSIZE"), 10_000);
    c.ok("DEBUG SET-ACTIVE-EXPIRE 1");
    let done = wait_until(Duration::from_secs(8), || c.int("DBSIZE") == 0);
    assert!(
        done,
        "re-enabled active expiry left {} keys",
        c.int("DBSIZE")
    );
}

#[test]
fn keys_glob_edge_cases_match_redis_stringmatch() {
    // Expected values come from Redis 7.0.15's stringmatchlen(), including
    // its quirks with unterminated and reversed brackets.
    let s = start();
    let mut c = s.conn();
    for k in [
        "a", "]", "-", "a[", "b", "\\", "z", "m", "ab", "[", "a]", "^", "A",
    ] {
        assert_eq!(c.cmd(&["SET", k, "1"]), Resp::ok());
    }
    let cases: &[(&str, &[&str])] = &[
        ("a[", &[]),
        ("[]", &[]),
        ("[a-]", &["]", "^", "a"]),
        ("[^]]", &["a]"]),
        ("*\\", &["\\"]),
        ("[\\]]", &["]"]),
        ("[z-a]", &["a", "b", "m", "z"]),
        ("**a", &["a"]),
        ("[", &[]),
        ("a[]", &[]),
        ("[!a]", &["a"]),
        ("[^a-y]", &["-", "A", "[", "\\", "]", "^", "z"]),
        ("\\a", &["a"]),
        ("a\\", &[]),
        ("[a-b-z]", &["-", "a", "b", "z"]),
        ("[-a]", &["-", "a"]),
        ("a*[", &[]),
        ("[[]", &["["]),
        ("[A-a]", &["A", "[", "\\", "]", "^", "a"]),
    ];
    for (pat, want) in cases {
        let mut got = c.cmd(&["KEYS", pat]).as_strings();
        got.sort();
        assert_eq!(got, *want, "KEYS {pat:?}");
        // SCAN MATCH uses the same matcher.
        let (seen, _) = scan_all(&mut c, &["MATCH", pat]);
        let mut seen: Vec<String> = seen.into_iter().collect();
        seen.sort();
        assert_eq!(seen, *want, "SCAN MATCH {pat:?}");
    }
    let all = c.cmd(&["KEYS", "?*"]).as_array().len();
    assert_eq!(all, 13);
}

#[test]
fn expired_keys_are_invisible_everywhere() {
    let s = start_with(&[("enable-debug-command", &["yes"])]);
    let mut c = s.conn();
    c.ok("DEBUG SET-ACTIVE-EXPIRE 0");
    c.ok("SET gone v PX 1");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(c.get("RANDOMKEY"), None, "RANDOMKEY must skip expired keys");
    let (seen, _) = scan_all(&mut c, &[]);
    assert!(seen.is_empty(), "SCAN returned expired keys {seen:?}");
    assert_eq!(c.int("TOUCH gone"), 0);
    assert_eq!(c.int("COPY gone x"), 0);
    assert_eq!(c.int("MOVE gone 1"), 0);
    assert_eq!(c.run("OBJECT ENCODING gone"), Resp::Bulk(None));
    assert_eq!(c.int("STRLEN gone"), 0);
    assert_eq!(c.int("SETNX gone fresh"), 1);
    assert_eq!(c.int("TTL gone"), -1);
    c.ok("SET g2 v PX 1");
    std::thread::sleep(Duration::from_millis(20));
    assert!(
        c.run("SET g2 w XX").is_null(),
        "XX must treat an expired key as missing"
    );
    assert!(
        c.run("SET g2 w GET").is_null(),
        "GET must not return an expired value"
    );
    assert_eq!(c.int("MSETNX g3 1"), 1);
    c.ok("SET g4 v PX 1");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        c.int("MSETNX g4 1"),
        1,
        "MSETNX treats expired keys as missing"
    );
    assert_eq!(c.int("EXPIRE g4 100 NX"), 1);
}
