//! FUNCTION DUMP / FUNCTION RESTORE against a real redis-server: dumps of
//! the same library are byte-identical (short, compressible and
//! incompressible code, so the LZF compressor is checked against liblzf),
//! payloads cross in both directions, the RDB string encodings match
//! Redis's key DUMP, and damaged payloads are rejected, with the same error
//! as Redis when the checksum is right, without touching loaded functions.

mod common;

use common::{Conn, Resp};
use rand::{Rng, SeedableRng};
use russet::persistence::rdb;
use std::collections::BTreeSet;

fn run(c: &mut Conn, args: &[&[u8]]) -> Resp {
    c.cmd_bytes(args)
}

fn load(c: &mut Conn, code: &[u8]) {
    let r = run(c, &[b"FUNCTION", b"LOAD", code]);
    assert!(!r.is_error(), "FUNCTION LOAD: {r:?}");
}

fn dump(c: &mut Conn) -> Vec<u8> {
    run(c, &[b"FUNCTION", b"DUMP"]).as_bytes()
}

fn restore(c: &mut Conn, payload: &[u8], policy: &[u8]) -> Resp {
    let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", payload];
    if !policy.is_empty() {
        args.push(policy);
    }
    run(c, &args)
}

fn flush(c: &mut Conn) {
    assert_eq!(run(c, &[b"FUNCTION", b"FLUSH"]), Resp::ok());
}

/// The code of every loaded library (FUNCTION LIST's order is Redis's
/// random dict order, so compare sets).
fn codes(c: &mut Conn) -> BTreeSet<Vec<u8>> {
    let list = run(c, &[b"FUNCTION", b"LIST", b"WITHCODE"]);
    list.as_array()
        .iter()
        .map(|lib| {
            let fields = lib.as_array();
            let at = fields
                .iter()
                .position(|f| f == &Resp::bulk("library_code"))
                .expect("library_code field");
            fields[at + 1].as_bytes()
        })
        .collect()
}

/// A library named `name`: `kind` 0 has many similar functions (very
/// compressible), 1..=3 a comment of `n` random bytes from a growing
/// alphabet (2 letters: compressible; all bytes: incompressible).
fn library(rng: &mut impl Rng, name: &str, kind: u8, n: usize) -> Vec<u8> {
    let mut code = format!("#!lua name={name}\n").into_bytes();
    if kind == 0 {
        for j in 0..n.max(1) {
            code.extend_from_slice(
                format!("redis.register_function('{name}_{j}', function(keys, args) return redis.call('get', keys[1]) end)\n")
                    .as_bytes(),
            );
        }
        return code;
    }
    let alphabet: Vec<u8> = match kind {
        1 => b"ab".to_vec(),
        2 => (b'0'..=b'z').collect(),
        _ => (1..=255u8).filter(|&b| b != b']').collect(),
    };
    code.extend_from_slice(b"--[==[");
    code.extend((0..n).map(|_| alphabet[rng.gen_range(0..alphabet.len())]));
    code.extend_from_slice(b"]==]\n");
    code.extend_from_slice(
        format!("redis.register_function('{name}', function() return 1 end)").as_bytes(),
    );
    code
}

#[test]
fn dumps_are_byte_identical_to_redis() {
    let (redis, russet) = (common::start_redis(), common::start());
    let (mut r, mut s) = (redis.conn(), russet.conn());
    assert_eq!(dump(&mut r), dump(&mut s), "no libraries");
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut fixed = vec![
        b"#!lua name=a\nredis.register_function('f', function() return 1 end)".to_vec(),
        library(&mut rng, "long", 0, 400),
        library(&mut rng, "bin", 3, 20_000),
        library(&mut rng, "ab", 1, 70_000),
    ];
    for i in 0..150 {
        let kind = (i % 4) as u8;
        let n = if kind == 0 {
            rng.gen_range(1..40)
        } else {
            rng.gen_range(0..4000)
        };
        fixed.push(library(&mut rng, &format!("l{i}"), kind, n));
    }
    for code in &fixed {
        flush(&mut r);
        flush(&mut s);
        load(&mut r, code);
        load(&mut s, code);
        let expected = dump(&mut r);
        assert_eq!(dump(&mut s), expected, "library of {} bytes", code.len());
    }
}

/// Every string encoding (integers, LZF, verbatim) against Redis's DUMP of
/// a string key: type 0, the string, the footer.
#[test]
fn rdb_strings_match_redis_key_dumps() {
    let redis = common::start_redis();
    let mut r = redis.conn();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut values: Vec<Vec<u8>> = [
        "0",
        "-1",
        "127",
        "128",
        "-32768",
        "32768",
        "2147483647",
        "-2147483649",
        "007",
        "+5",
        "1e3",
        "",
    ]
    .iter()
    .map(|v| v.as_bytes().to_vec())
    .collect();
    for _ in 0..400 {
        let len = rng.gen_range(0..3000);
        let alphabet = [2u8, 5, 30, 255][rng.gen_range(0..4)];
        values.push((0..len).map(|_| rng.gen_range(0..=alphabet)).collect());
    }
    for v in values {
        run(&mut r, &[b"SET", b"k", &v]);
        let mut w = rdb::Writer::new();
        w.save_type(0);
        w.save_string(&v);
        let expected = run(&mut r, &[b"DUMP", b"k"]).as_bytes();
        assert_eq!(
            w.into_dump_payload(),
            expected,
            "value of {} bytes",
            v.len()
        );
    }
}

#[test]
fn payloads_cross_both_ways() {
    let (redis, russet) = (common::start_redis(), common::start());
    let (mut r, mut s) = (redis.conn(), russet.conn());
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let libs: Vec<Vec<u8>> = (0..8)
        .map(|i| library(&mut rng, &format!("x{i}"), (i % 4) as u8, 500))
        .collect();
    for code in &libs[..4] {
        load(&mut r, code);
    }
    for code in &libs[4..] {
        load(&mut s, code);
    }
    let from_redis = dump(&mut r);
    let from_russet = dump(&mut s);
    assert_eq!(restore(&mut s, &from_redis, b""), Resp::ok());
    assert_eq!(restore(&mut r, &from_russet, b"APPEND"), Resp::ok());
    let all: BTreeSet<Vec<u8>> = libs.iter().cloned().collect();
    assert_eq!(codes(&mut r), all);
    assert_eq!(codes(&mut s), all);
    let call = |c: &mut Conn| run(c, &[b"FCALL", b"x0_3", b"1", b"nokey"]);
    assert_eq!(call(&mut s), call(&mut r));
    assert_eq!(run(&mut s, &[b"FCALL", b"x1", b"0"]), Resp::Int(1));

    // Restoring a server's own dump: APPEND collides, REPLACE and FLUSH
    // leave the same libraries.
    let whole = dump(&mut s);
    for c in [&mut r, &mut s] {
        // Which library Redis names depends on its dict order.
        let e = restore(c, &whole, b"append");
        assert!(e.error_text().starts_with("ERR Library x"), "{e:?}");
        assert!(e.error_text().ends_with(" already exists"), "{e:?}");
        assert_eq!(restore(c, &whole, b"REPLACE"), Resp::ok());
        assert_eq!(restore(c, &whole, b"FLUSH"), Resp::ok());
        assert_eq!(codes(c), all);
    }
    // FLUSH with a payload of one library drops the others.
    flush(&mut r);
    load(&mut r, &libs[2]);
    let one = dump(&mut r);
    assert_eq!(restore(&mut s, &one, b"flush"), Resp::ok());
    assert_eq!(codes(&mut s), BTreeSet::from([libs[2].clone()]));
}

/// Recomputes the footer of a payload whose body was edited.
fn reseal(payload: &[u8]) -> Vec<u8> {
    let body = &payload[..payload.len() - rdb::DUMP_FOOTER_LEN];
    let mut p = body.to_vec();
    p.extend_from_slice(&rdb::RDB_VERSION.to_le_bytes());
    let crc = rdb::crc64(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

#[test]
fn damaged_payloads_fail_and_keep_functions() {
    let (redis, russet) = (common::start_redis(), common::start());
    let (mut r, mut s) = (redis.conn(), russet.conn());
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let kept = library(&mut rng, "kept", 0, 3);
    let payload = {
        flush(&mut s);
        load(&mut s, &library(&mut rng, "p1", 0, 30));
        load(&mut s, &library(&mut rng, "p2", 1, 300));
        load(&mut s, &library(&mut rng, "p3", 3, 300));
        dump(&mut s)
    };
    for c in [&mut r, &mut s] {
        flush(c);
        load(c, &kept);
    }
    let before = codes(&mut s);
    let checksum_error = Resp::Error("ERR DUMP payload version or checksum are wrong".into());
    // Truncations and bit flips break the checksum.
    for len in 0..payload.len() {
        assert_eq!(restore(&mut s, &payload[..len], b"FLUSH"), checksum_error);
    }
    for _ in 0..500 {
        let mut bad = payload.clone();
        let at = rng.gen_range(0..bad.len());
        bad[at] ^= 1 << rng.gen_range(0..8);
        assert_eq!(restore(&mut s, &bad, b"FLUSH"), checksum_error);
    }
    assert_eq!(codes(&mut s), before);
    // With a valid checksum, damaged bodies get Redis's error (or load what
    // they still say), on both servers alike.
    for i in 0..600 {
        let body_len = payload.len() - rdb::DUMP_FOOTER_LEN;
        let mut bad = payload.clone();
        match i % 3 {
            0 => {
                bad.drain(rng.gen_range(0..body_len)..body_len);
            }
            1 => {
                bad.drain(..rng.gen_range(1..body_len));
            }
            // The structure (opcodes, lengths, LZF controls) rather than
            // the Lua text.
            _ => bad[rng.gen_range(0..body_len.min(64))] = rng.gen(),
        }
        let bad = reseal(&bad);
        for policy in [&b"FLUSH"[..], b"APPEND"] {
            let expected = restore(&mut r, &bad, policy);
            assert_eq!(restore(&mut s, &bad, policy), expected, "case {i}");
            assert_eq!(codes(&mut s), codes(&mut r), "case {i}");
            for c in [&mut r, &mut s] {
                flush(c);
                load(c, &kept);
            }
        }
    }
    assert_eq!(run(&mut s, &[b"PING"]), Resp::simple("PONG"));
}
