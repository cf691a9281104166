//! String commands end to end over TCP.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};

#[test]
fn set_basic_nx_xx_get() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET k v");
    assert_eq!(c.get("GET k").as_deref(), Some("v"));
    // NX: only when missing.
    assert!(c.run("SET k other NX").is_null());
    assert_eq!(c.get("GET k").as_deref(), Some("v"));
    c.ok("SET fresh 1 NX");
    assert_eq!(c.get("GET fresh").as_deref(), Some("1"));
    // XX: only when present.
    assert!(c.run("SET missing v XX").is_null());
    assert_eq!(c.int("EXISTS missing"), 0);
    c.ok("SET k v2 XX");
    assert_eq!(c.get("GET k").as_deref(), Some("v2"));
    // GET returns the old value (null when missing) and sets.
    assert_eq!(c.get("SET k v3 GET").as_deref(), Some("v2"));
    assert_eq!(c.get("GET k").as_deref(), Some("v3"));
    assert_eq!(c.get("SET newkey x GET"), None);
    assert_eq!(c.get("GET newkey").as_deref(), Some("x"));
    // NX GET is allowed since 7.0: returns the old value and does not set.
    assert_eq!(c.get("SET k v4 NX GET").as_deref(), Some("v3"));
    assert_eq!(c.get("GET k").as_deref(), Some("v3"));
    assert_eq!(c.get("SET nxget v NX GET"), None);
    assert_eq!(c.get("GET nxget").as_deref(), Some("v"));
    // XX GET on a missing key: null and not created.
    assert_eq!(c.get("SET nope v XX GET"), None);
    assert_eq!(c.int("EXISTS nope"), 0);
    // Options are case-insensitive.
    c.ok("set k lower ex 100 xx");
    assert!(c.int("TTL k") > 0);
    // GET on a missing key.
    assert_eq!(c.get("GET never"), None);
}

#[test]
fn set_expire_options() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET k v EX 100");
    let ttl = c.int("TTL k");
    assert!((99..=100).contains(&ttl), "ttl {ttl}");
    c.ok("SET k v PX 100000");
    let pttl = c.int("PTTL k");
    assert!((98_000..=100_000).contains(&pttl), "pttl {pttl}");
    let at = unix_secs() + 200;
    c.ok(&format!("SET k v EXAT {at}"));
    assert_eq!(c.int("EXPIRETIME k"), at);
    let atms = unix_ms() + 300_000;
    c.ok(&format!("SET k v PXAT {atms}"));
    assert_eq!(c.int("PEXPIRETIME k"), atms);
    // Plain SET clears the TTL, KEEPTTL keeps it.
    c.ok("SET k v KEEPTTL");
    assert_eq!(c.int("PEXPIRETIME k"), atms);
    c.ok("SET k v2");
    assert_eq!(c.int("TTL k"), -1);
    assert_eq!(c.get("GET k").as_deref(), Some("v2"));
    // KEEPTTL on a key with no TTL.
    c.ok("SET k v3 KEEPTTL");
    assert_eq!(c.int("TTL k"), -1);
    // SET ... GET with EX sets the TTL and returns the old value.
    assert_eq!(c.get("SET k v4 GET EX 50").as_deref(), Some("v3"));
    assert!((49..=50).contains(&c.int("TTL k")));
    // EXAT in the past: the key is set and immediately expired.
    c.ok("SET past v EXAT 1");
    assert_eq!(c.get("GET past"), None);
    assert_eq!(c.int("EXISTS past"), 0);
}

#[test]
fn set_invalid_combinations() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET k orig");
    for line in [
        "SET k v NX XX",
        "SET k v EX 10 PX 100",
        "SET k v EX 10 EXAT 99999999999",
        "SET k v PX 10 PXAT 99999999999",
        "SET k v EX 10 KEEPTTL",
        "SET k v KEEPTTL PX 10",
        "SET k v EX",
        "SET k v PX",
        "SET k v FOO",
        "SET k v NX NX XX",
    ] {
        assert_eq!(c.err(line), "ERR syntax error", "{line}");
    }
    for line in [
        "SET k v EX 0",
        "SET k v EX -1",
        "SET k v PX 0",
        "SET k v PX -100",
        "SET k v EXAT 0",
        "SET k v PXAT -5",
        "SET k v EX 9223372036854775807",
        "SET k v PX 9223372036854775807",
    ] {
        assert_eq!(
            c.err(line),
            "ERR invalid expire time in 'set' command",
            "{line}"
        );
    }
    assert_eq!(
        c.err("SET k v EX abc"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        c.err("SET k v PX 1.5"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        c.err("SET k"),
        "ERR wrong number of arguments for 'set' command"
    );
    // None of the failed commands modified the key.
    assert_eq!(c.get("GET k").as_deref(), Some("orig"));
    assert_eq!(c.int("TTL k"), -1);
}

#[test]
fn getex_getdel_getset() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET k v");
    assert_eq!(c.get("GETEX k").as_deref(), Some("v"));
    assert_eq!(c.int("TTL k"), -1);
    assert_eq!(c.get("GETEX k EX 100").as_deref(), Some("v"));
    assert!((99..=100).contains(&c.int("TTL k")));
    assert_eq!(c.get("GETEX k PX 50000").as_deref(), Some("v"));
    assert!((49_000..=50_000).contains(&c.int("PTTL k")));
    let at = unix_secs() + 500;
    assert_eq!(c.get(&format!("GETEX k EXAT {at}")).as_deref(), Some("v"));
    assert_eq!(c.int("EXPIRETIME k"), at);
    let atms = unix_ms() + 600_000;
    assert_eq!(c.get(&format!("GETEX k PXAT {atms}")).as_deref(), Some("v"));
    assert_eq!(c.int("PEXPIRETIME k"), atms);
    // Plain GETEX leaves the TTL alone; PERSIST removes it.
    assert_eq!(c.get("GETEX k").as_deref(), Some("v"));
    assert_eq!(c.int("PEXPIRETIME k"), atms);
    assert_eq!(c.get("GETEX k PERSIST").as_deref(), Some("v"));
    assert_eq!(c.int("TTL k"), -1);
    assert_eq!(c.get("GETEX missing EX 10"), None);
    assert_eq!(c.int("EXISTS missing"), 0);
    assert_eq!(c.err("GETEX k EX 10 PX 100"), "ERR syntax error");
    assert_eq!(c.err("GETEX k PERSIST EX 10"), "ERR syntax error");
    assert_eq!(c.err("GETEX k FOO"), "ERR syntax error");
    assert_eq!(
        c.err("GETEX k EX 0"),
        "ERR invalid expire time in 'getex' command"
    );
    assert_eq!(
        c.err("GETEX k EX -10"),
        "ERR invalid expire time in 'getex' command"
    );
    assert_eq!(
        c.err("GETEX k EX nope"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(c.int("TTL k"), -1);
    // GETEX with a past EXAT deletes the key but returns the value.
    assert_eq!(c.get("GETEX k EXAT 1").as_deref(), Some("v"));
    assert_eq!(c.int("EXISTS k"), 0);

    // GETDEL
    c.ok("SET d val");
    assert_eq!(c.get("GETDEL d").as_deref(), Some("val"));
    assert_eq!(c.int("EXISTS d"), 0);
    assert_eq!(c.get("GETDEL d"), None);

    // GETSET returns the old value and clears the TTL.
    assert_eq!(c.get("GETSET g first"), None);
    assert_eq!(c.int("EXPIRE g 100"), 1);
    assert_eq!(c.get("GETSET g second").as_deref(), Some("first"));
    assert_eq!(c.get("GET g").as_deref(), Some("second"));
    assert_eq!(c.int("TTL g"), -1);
}

#[test]
fn mget_mset_msetnx() {
    let s = start();
    let mut c = s.conn();
    c.ok("MSET a 1 b 2 c 3");
    assert_eq!(
        c.run("MGET a b missing c a"),
        Resp::arr(vec![
            Resp::bulk("1"),
            Resp::bulk("2"),
            Resp::Bulk(None),
            Resp::bulk("3"),
            Resp::bulk("1")
        ])
    );
    // Later pairs win.
    c.ok("MSET x 1 x 2");
    assert_eq!(c.get("GET x").as_deref(), Some("2"));
    assert_eq!(
        c.err("MSET a 1 b"),
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        c.err("MSET"),
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        c.err("MGET"),
        "ERR wrong number of arguments for 'mget' command"
    );
    // MSET clears TTLs.
    assert_eq!(c.int("EXPIRE a 100"), 1);
    c.ok("MSET a 10");
    assert_eq!(c.int("TTL a"), -1);
    // MSETNX is all or nothing.
    assert_eq!(c.int("MSETNX n1 1 n2 2"), 1);
    assert_eq!(c.get("GET n2").as_deref(), Some("2"));
    assert_eq!(c.int("MSETNX n3 3 n1 x"), 0);
    assert_eq!(c.int("EXISTS n3"), 0);
    assert_eq!(c.get("GET n1").as_deref(), Some("1"));
    assert_eq!(
        c.err("MSETNX n1"),
        "ERR wrong number of arguments for 'msetnx' command"
    );
    assert_eq!(
        c.err("MSETNX a 1 b"),
        "ERR wrong number of arguments for 'msetnx' command"
    );
}

#[test]
fn setnx_setex_psetex() {
    let s = start();
    let mut c = s.conn();
    assert_eq!(c.int("SETNX k 1"), 1);
    assert_eq!(c.int("SETNX k 2"), 0);
    assert_eq!(c.get("GET k").as_deref(), Some("1"));
    c.ok("SETEX e 100 val");
    assert_eq!(c.get("GET e").as_deref(), Some("val"));
    assert!((99..=100).contains(&c.int("TTL e")));
    c.ok("PSETEX p 100000 val");
    assert!((98_000..=100_000).contains(&c.int("PTTL p")));
    assert_eq!(
        c.err("SETEX e 0 v"),
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        c.err("SETEX e -1 v"),
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        c.err("PSETEX p 0 v"),
        "ERR invalid expire time in 'psetex' command"
    );
    assert_eq!(
        c.err("PSETEX p -1 v"),
        "ERR invalid expire time in 'psetex' command"
    );
    assert_eq!(
        c.err("SETEX e abc v"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        c.err("SETEX e 9223372036854775807 v"),
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        c.err("SETEX e 10"),
        "ERR wrong number of arguments for 'setex' command"
    );
    // The failed calls did not touch the existing value or its TTL.
    assert_eq!(c.get("GET e").as_deref(), Some("val"));
    assert!(c.int("TTL e") > 90);
}

#[test]
fn append_strlen() {
    let s = start();
    let mut c = s.conn();
    assert_eq!(c.int("APPEND k hello"), 5);
    assert_eq!(c.int("APPEND k _world"), 11);
    assert_eq!(c.get("GET k").as_deref(), Some("hello_world"));
    assert_eq!(c.int("STRLEN k"), 11);
    assert_eq!(c.int("STRLEN missing"), 0);
    // Integer-encoded values.
    c.ok("SET n 123");
    assert_eq!(c.int("STRLEN n"), 3);
    assert_eq!(c.int("APPEND n 45"), 5);
    assert_eq!(c.get("GET n").as_deref(), Some("12345"));
    assert_eq!(c.int("INCR n"), 12346);
    c.ok("SET neg -9223372036854775808");
    assert_eq!(c.int("STRLEN neg"), 20);
    // APPEND keeps the TTL.
    c.ok("SET t a EX 100");
    assert_eq!(c.int("APPEND t b"), 2);
    assert!(c.int("TTL t") > 0);
    // APPEND of an empty string creates the key.
    assert_eq!(c.cmd(&["APPEND", "empty", ""]), Resp::Int(0));
    assert_eq!(c.int("EXISTS empty"), 1);
}

#[test]
fn getrange_substr() {
    let s = start();
    let mut c = s.conn();
    c.cmd(&["SET", "k", "This is a string"]);
    let cases: &[(&str, &str)] = &[
        ("0 3", "This"),
        ("-3 -1", "ing"),
        ("0 -1", "This is a string"),
        ("10 100", "string"),
        ("5 3", ""),
        ("-1 -5", ""),
        ("100 200", ""),
        ("-100 -50", "T"),
        ("-100 2", "Thi"),
        ("15 15", "g"),
    ];
    for (range, want) in cases {
        assert_eq!(
            c.get(&format!("GETRANGE k {range}")).as_deref(),
            Some(*want),
            "GETRANGE {range}"
        );
        assert_eq!(
            c.get(&format!("SUBSTR k {range}")).as_deref(),
            Some(*want),
            "SUBSTR {range}"
        );
    }
    assert_eq!(c.get("GETRANGE missing 0 10").as_deref(), Some(""));
    c.ok("SET n 12345");
    assert_eq!(c.get("GETRANGE n 1 2").as_deref(), Some("23"));
    assert_eq!(c.get("GETRANGE n -2 -1").as_deref(), Some("45"));
    c.cmd(&["SET", "e", ""]);
    assert_eq!(c.get("GETRANGE e 0 -1").as_deref(), Some(""));
    assert_eq!(
        c.err("GETRANGE k a 1"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        c.err("GETRANGE k 0"),
        "ERR wrong number of arguments for 'getrange' command"
    );
}

#[test]
fn setrange() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET k Hello_World");
    assert_eq!(c.int("SETRANGE k 6 Redis"), 11);
    assert_eq!(c.get("GET k").as_deref(), Some("Hello_Redis"));
    // Zero-filled when writing past the end of a missing key.
    assert_eq!(c.int("SETRANGE z 5 hi"), 7);
    assert_eq!(c.cmd(&["GET", "z"]), Resp::bulk(b"\0\0\0\0\0hi"));
    // And past the end of an existing key.
    assert_eq!(c.int("SETRANGE k 13 !"), 14);
    assert_eq!(c.cmd(&["GET", "k"]), Resp::bulk(b"Hello_Redis\0\0!"));
    // Empty value on a missing key: no key created.
    assert_eq!(c.cmd(&["SETRANGE", "none", "10", ""]), Resp::Int(0));
    assert_eq!(c.int("EXISTS none"), 0);
    // Empty value on an existing key: length returned, unchanged.
    assert_eq!(c.cmd(&["SETRANGE", "k", "100", ""]), Resp::Int(14));
    assert_eq!(c.int("STRLEN k"), 14);
    // On an integer-encoded value.
    c.ok("SET n 12345");
    assert_eq!(c.int("SETRANGE n 1 x"), 5);
    assert_eq!(c.get("GET n").as_deref(), Some("1x345"));
    // Limits.
    assert_eq!(c.err("SETRANGE k -1 x"), "ERR offset is out of range");
    assert_eq!(
        c.err("SETRANGE k 536870912 x"),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(
        c.err("SETRANGE k 536870911 xx"),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(
        c.err("SETRANGE k abc x"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(c.int("STRLEN k"), 14);
    // SETRANGE keeps the TTL.
    c.ok("SET t abc EX 100");
    c.int("SETRANGE t 0 x");
    assert!(c.int("TTL t") > 0);
}

#[test]
fn incr_decr_family() {
    let s = start();
    let mut c = s.conn();
    assert_eq!(c.int("INCR n"), 1);
    assert_eq!(c.int("INCR n"), 2);
    assert_eq!(c.int("INCRBY n 10"), 12);
    assert_eq!(c.int("DECR n"), 11);
    assert_eq!(c.int("DECRBY n 20"), -9);
    assert_eq!(c.int("INCRBY n -1"), -10);
    assert_eq!(c.int("DECR missing"), -1);
    assert_eq!(c.int("DECRBY missing2 5"), -5);
    assert_eq!(c.get("GET n").as_deref(), Some("-10"));
    // INCR keeps the TTL.
    c.ok("SET t 5 EX 100");
    assert_eq!(c.int("INCR t"), 6);
    assert!(c.int("TTL t") > 0);
    // Overflow.
    c.ok("SET max 9223372036854775807");
    assert_eq!(
        c.err("INCR max"),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        c.err("INCRBY max 1"),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(c.int("DECRBY max 1"), 9223372036854775806);
    c.ok("SET min -9223372036854775808");
    assert_eq!(
        c.err("DECR min"),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        c.err("INCRBY min -1"),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        c.err("DECRBY min 1"),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        c.err("DECRBY zero -9223372036854775808"),
        "ERR decrement would overflow"
    );
    assert_eq!(c.get("GET min").as_deref(), Some("-9223372036854775808"));
    // Non-integer values and increments.
    for v in [
        "abc",
        "1.5",
        " 1",
        "1 ",
        "007",
        "+1",
        "12345678901234567890",
        "",
        "0x10",
        "1e3",
    ] {
        c.cmd(&["SET", "bad", v]);
        assert_eq!(
            c.cmd(&["INCR", "bad"]),
            Resp::err("ERR value is not an integer or out of range"),
            "value {v:?}"
        );
        assert_eq!(c.cmd(&["GET", "bad"]), Resp::bulk(v));
    }
    assert_eq!(
        c.err("INCRBY n abc"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        c.err("INCRBY n 9223372036854775808"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        c.err("DECRBY n 1.0"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        c.err("INCR"),
        "ERR wrong number of arguments for 'incr' command"
    );
    // Negative zero and boundary parse.
    c.ok("SET z -0");
    assert_eq!(
        c.err("INCR z"),
        "ERR value is not an integer or out of range"
    );
    c.ok("SET z 0");
    assert_eq!(c.int("INCRBY z -9223372036854775808"), i64::MIN);
}

#[test]
fn incrbyfloat() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET k 10.50");
    assert_eq!(c.get("INCRBYFLOAT k 0.1").as_deref(), Some("10.6"));
    assert_eq!(c.get("GET k").as_deref(), Some("10.6"));
    assert_eq!(c.get("INCRBYFLOAT k -5").as_deref(), Some("5.6"));
    c.ok("SET e 5.0e3");
    assert_eq!(c.get("INCRBYFLOAT e 2.0e2").as_deref(), Some("5200"));
    assert_eq!(c.get("INCRBYFLOAT new 3.0e3").as_deref(), Some("3000"));
    assert_eq!(c.get("INCRBYFLOAT i 1").as_deref(), Some("1"));
    c.ok("SET i2 10");
    assert_eq!(c.get("INCRBYFLOAT i2 0.25").as_deref(), Some("10.25"));
    assert_eq!(c.get("INCRBYFLOAT i2 -10.25").as_deref(), Some("0"));
    // Keeps TTL.
    c.ok("SET t 1 EX 100");
    c.get("INCRBYFLOAT t 1.5");
    assert!(c.int("TTL t") > 0);
    // Errors.
    assert_eq!(c.err("INCRBYFLOAT k abc"), "ERR value is not a valid float");
    c.ok("SET s hello");
    assert_eq!(c.err("INCRBYFLOAT s 1"), "ERR value is not a valid float");
    assert_eq!(
        c.err("INCRBYFLOAT k inf"),
        "ERR increment would produce NaN or Infinity"
    );
    assert_eq!(c.err("INCRBYFLOAT k nan"), "ERR value is not a valid float");
    assert_eq!(c.get("GET k").as_deref(), Some("5.6"));
    assert_eq!(
        c.err("INCRBYFLOAT k"),
        "ERR wrong number of arguments for 'incrbyfloat' command"
    );
}

#[test]
fn incrbyfloat_uses_long_double_range() {
    // Redis computes INCRBYFLOAT in long double: 1.7e308 + 1.7e308 does not
    // overflow and is printed in full (%.17Lf, trailing zeros trimmed).
    let s = start();
    let mut c = s.conn();
    c.ok("SET big 1.7e308");
    let r = c.run("INCRBYFLOAT big 1.7e308");
    let v = match &r {
        Resp::Bulk(Some(b)) => String::from_utf8(b.clone()).unwrap(),
        other => panic!("expected the long double sum, got {other:?}"),
    };
    assert_eq!(v.len(), 309, "{v}");
    assert!(v.starts_with("340000000000000000"), "{v}");
    assert_eq!(c.get("GET big"), Some(v));
}

#[test]
fn lcs() {
    let s = start();
    let mut c = s.conn();
    c.ok("MSET key1 ohmytext key2 mynewtext");
    assert_eq!(c.get("LCS key1 key2").as_deref(), Some("mytext"));
    assert_eq!(c.int("LCS key1 key2 LEN"), 6);
    let m = |a: i64, b: i64, c: i64, d: i64| {
        Resp::arr(vec![
            Resp::arr(vec![Resp::Int(a), Resp::Int(b)]),
            Resp::arr(vec![Resp::Int(c), Resp::Int(d)]),
        ])
    };
    assert_eq!(
        c.run("LCS key1 key2 IDX"),
        Resp::arr(vec![
            Resp::bulk("matches"),
            Resp::arr(vec![m(4, 7, 5, 8), m(2, 3, 0, 1)]),
            Resp::bulk("len"),
            Resp::Int(6),
        ])
    );
    assert_eq!(
        c.run("LCS key1 key2 IDX MINMATCHLEN 4"),
        Resp::arr(vec![
            Resp::bulk("matches"),
            Resp::arr(vec![m(4, 7, 5, 8)]),
            Resp::bulk("len"),
            Resp::Int(6)
        ])
    );
    let with_len = |a: i64, b: i64, cc: i64, d: i64, l: i64| {
        Resp::arr(vec![
            Resp::arr(vec![Resp::Int(a), Resp::Int(b)]),
            Resp::arr(vec![Resp::Int(cc), Resp::Int(d)]),
            Resp::Int(l),
        ])
    };
    assert_eq!(
        c.run("LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN"),
        Resp::arr(vec![
            Resp::bulk("matches"),
            Resp::arr(vec![with_len(4, 7, 5, 8, 4)]),
            Resp::bulk("len"),
            Resp::Int(6),
        ])
    );
    assert_eq!(
        c.run("LCS key1 key2 IDX WITHMATCHLEN"),
        Resp::arr(vec![
            Resp::bulk("matches"),
            Resp::arr(vec![with_len(4, 7, 5, 8, 4), with_len(2, 3, 0, 1, 2)]),
            Resp::bulk("len"),
            Resp::Int(6),
        ])
    );
    // Missing keys are empty strings.
    assert_eq!(c.get("LCS key1 missing").as_deref(), Some(""));
    assert_eq!(c.int("LCS missing1 missing2 LEN"), 0);
    assert_eq!(
        c.run("LCS key1 missing IDX"),
        Resp::arr(vec![
            Resp::bulk("matches"),
            Resp::arr(vec![]),
            Resp::bulk("len"),
            Resp::Int(0)
        ])
    );
    assert_eq!(c.get("LCS key1 key1").as_deref(), Some("ohmytext"));
    // Errors.
    assert_eq!(
        c.err("LCS key1 key2 LEN IDX"),
        "ERR If you want both the length and indexes, please just use IDX."
    );
    assert_eq!(c.err("LCS key1 key2 FOO"), "ERR syntax error");
    assert_eq!(c.err("LCS key1 key2 MINMATCHLEN"), "ERR syntax error");
    assert_eq!(
        c.err("LCS key1 key2 IDX MINMATCHLEN x"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        c.err("LCS key1"),
        "ERR wrong number of arguments for 'lcs' command"
    );
}

#[test]
fn binary_safe_keys_and_values() {
    let s = start();
    let mut c = s.conn();
    let all: Vec<u8> = (0..=255u8).collect();
    assert_eq!(c.cmd_bytes(&[b"SET", &all, &all]), Resp::ok());
    assert_eq!(c.cmd_bytes(&[b"GET", &all]), Resp::Bulk(Some(all.clone())));
    assert_eq!(c.cmd_bytes(&[b"STRLEN", &all]), Resp::Int(256));
    assert_eq!(c.cmd_bytes(&[b"EXISTS", &all]), Resp::Int(1));
    // Each single byte as a key holding its own byte value.
    let mut pipeline = Vec::new();
    for b in 0..=255u8 {
        pipeline.extend(encode(&[b"SET", &[b], &[b, b'\r', b'\n', b]]));
    }
    c.send(&pipeline);
    for _ in 0..=255u8 {
        assert_eq!(c.read(), Resp::ok());
    }
    for b in 0..=255u8 {
        assert_eq!(
            c.cmd_bytes(&[b"GET", &[b]]),
            Resp::Bulk(Some(vec![b, b'\r', b'\n', b])),
            "key byte {b}"
        );
    }
    // KEYS returns the binary key untouched.
    let keys = c.cmd(&["KEYS", "*"]);
    let keys = keys.as_array();
    assert_eq!(keys.len(), 257);
    assert!(keys.contains(&Resp::Bulk(Some(all.clone()))));
    // Prefix-sharing and NUL-containing keys are distinct.
    assert_eq!(c.cmd_bytes(&[b"SET", b"a\0b", b"1"]), Resp::ok());
    assert_eq!(c.cmd_bytes(&[b"SET", b"a\0c", b"2"]), Resp::ok());
    assert_eq!(c.cmd_bytes(&[b"GET", b"a\0b"]), Resp::bulk("1"));
    assert_eq!(c.cmd_bytes(&[b"GET", b"a\0"]), Resp::Bulk(None));
    assert_eq!(c.cmd_bytes(&[b"GET", b"a\0b\0"]), Resp::Bulk(None));
    // APPEND / GETRANGE / SETRANGE on binary data.
    assert_eq!(c.cmd_bytes(&[b"APPEND", &all, b"\xff\x00"]), Resp::Int(258));
    assert_eq!(
        c.cmd_bytes(&[b"GETRANGE", &all, b"254", b"-1"]),
        Resp::bulk(b"\xfe\xff\xff\x00")
    );
    assert_eq!(
        c.cmd_bytes(&[b"SETRANGE", &all, b"0", b"\x00\x00"]),
        Resp::Int(258)
    );
    assert_eq!(
        c.cmd_bytes(&[b"GETRANGE", &all, b"0", b"3"]),
        Resp::bulk(b"\x00\x00\x02\x03")
    );
}

fn pattern_byte(i: usize) -> u8 {
    (i.wrapping_mul(2654435761) >> 13) as u8 ^ (i as u8)
}

#[test]
fn value_100mb_round_trip() {
    const LEN: usize = 100 * 1024 * 1024;
    let s = start();
    let mut stream = s.tcp();
    stream.set_nodelay(false).unwrap();
    let data: Vec<u8> = (0..LEN).map(pattern_byte).collect();
    let want_hash = fnv1a(&data);
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut stream);
        w.write_all(format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${LEN}\r\n").as_bytes())
            .unwrap();
        w.write_all(&data).unwrap();
        w.write_all(b"\r\n").unwrap();
        w.flush().unwrap();
    }
    drop(data);
    assert_eq!(read_raw_reply(&mut stream), b"+OK\r\n");
    assert_eq!(
        send_raw(&mut stream, &encode_str(&["STRLEN", "big"])),
        format!(":{LEN}\r\n").into_bytes()
    );
    let tail = send_raw(&mut stream, &encode_str(&["GETRANGE", "big", "-3", "-1"]));
    let want_tail: Vec<u8> = (LEN - 3..LEN).map(pattern_byte).collect();
    let mut expect = b"$3\r\n".to_vec();
    expect.extend(&want_tail);
    expect.extend(b"\r\n");
    assert_eq!(tail, expect);

    // Stream the GET reply and hash it without holding a second copy.
    stream.write_all(&encode_str(&["GET", "big"])).unwrap();
    let mut r = BufReader::with_capacity(1 << 20, &mut stream);
    let mut header = String::new();
    r.read_line(&mut header).unwrap();
    assert_eq!(header, format!("${LEN}\r\n"));
    let mut h: u64 = 0xcbf29ce484222325;
    let mut remaining = LEN;
    let mut buf = vec![0u8; 1 << 20];
    while remaining > 0 {
        let n = r.read(&mut buf[..remaining.min(1 << 20)]).unwrap();
        assert!(n > 0, "EOF with {remaining} bytes left");
        for &b in &buf[..n] {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        remaining -= n;
    }
    let mut crlf = [0u8; 2];
    r.read_exact(&mut crlf).unwrap();
    assert_eq!(&crlf, b"\r\n");
    assert_eq!(h, want_hash, "100 MB value corrupted");
    drop(r);
    assert_eq!(
        send_raw(&mut stream, &encode_str(&["DEL", "big"])),
        b":1\r\n"
    );
}

#[test]
fn redis_crate_typed_round_trip() {
    let s = start();
    let mut con = s.con();
    let () = redis::cmd("SET").arg("k").arg(42).query(&mut con).unwrap();
    let v: i64 = redis::cmd("GET").arg("k").query(&mut con).unwrap();
    assert_eq!(v, 42);
    let v: i64 = redis::cmd("INCRBY")
        .arg("k")
        .arg(8)
        .query(&mut con)
        .unwrap();
    assert_eq!(v, 50);
    let e = redis::cmd("INCRBY")
        .arg("k")
        .arg("x")
        .query::<i64>(&mut con)
        .unwrap_err();
    assert_eq!(e.code(), Some("ERR"));
    assert_eq!(e.detail(), Some("value is not an integer or out of range"));
}
