//! Wire protocol: RESP3 types, pipelining, inline commands, protocol errors,
//! limits, concurrency and robustness against garbage input.

mod common;

use common::*;
use std::collections::HashSet;
use std::io::Write;
use std::net::Shutdown;
use std::time::Duration;

#[test]
fn resp3_types_on_the_wire() {
    let s = start();
    let mut c = s.tcp();
    // RESP2 first.
    assert_eq!(
        send_raw(&mut c, &encode_str(&["GET", "missing"])),
        b"$-1\r\n"
    );
    let hello = send_raw(&mut c, &encode_str(&["HELLO", "3"]));
    assert_eq!(
        hello[0],
        b'%',
        "HELLO 3 reply must be a map: {:?}",
        preview(&hello)
    );
    assert!(hello
        .windows(b"proto\r\n:3\r\n".len())
        .any(|w| w == b"proto\r\n:3\r\n"));
    // Null.
    assert_eq!(send_raw(&mut c, &encode_str(&["GET", "missing"])), b"_\r\n");
    // MGET keeps per-element nulls as `_`.
    assert_eq!(
        send_raw(&mut c, &encode_str(&["MGET", "missing"])),
        b"*1\r\n_\r\n"
    );
    // Map from CONFIG GET.
    assert_eq!(
        send_raw(&mut c, &encode_str(&["CONFIG", "GET", "maxclients"])),
        b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    );
    // Verbatim string from INFO.
    let info = send_raw(&mut c, &encode_str(&["INFO", "server"]));
    assert_eq!(info[0], b'=', "{:?}", preview(&info));
    let (r, _) = parse_reply(&info).unwrap().unwrap();
    match r {
        Resp::Verbatim(fmt, body) => {
            assert_eq!(fmt, "txt");
            assert!(String::from_utf8(body)
                .unwrap()
                .contains("redis_version:7.0.15"));
        }
        other => panic!("{other:?}"),
    }
    // Integers, simple strings, errors are unchanged.
    assert_eq!(
        send_raw(&mut c, &encode_str(&["SET", "k", "1"])),
        b"+OK\r\n"
    );
    assert_eq!(send_raw(&mut c, &encode_str(&["INCR", "k"])), b":2\r\n");
    assert_eq!(
        send_raw(&mut c, &encode_str(&["GET"])),
        b"-ERR wrong number of arguments for 'get' command\r\n"
    );
    // SET ... GET on a missing key is a RESP3 null too.
    assert_eq!(
        send_raw(&mut c, &encode_str(&["SET", "n", "v", "GET"])),
        b"_\r\n"
    );
    // LCS IDX replies with a map in RESP3.
    send_raw(
        &mut c,
        &encode_str(&["MSET", "a", "ohmytext", "b", "mynewtext"]),
    );
    let lcs = send_raw(&mut c, &encode_str(&["LCS", "a", "b", "IDX"]));
    assert_eq!(lcs[0], b'%', "{:?}", preview(&lcs));
    // Back to RESP2.
    let hello2 = send_raw(&mut c, &encode_str(&["HELLO", "2"]));
    assert_eq!(hello2[0], b'*');
    assert_eq!(
        send_raw(&mut c, &encode_str(&["GET", "missing"])),
        b"$-1\r\n"
    );
    assert_eq!(
        send_raw(&mut c, &encode_str(&["CONFIG", "GET", "maxclients"])),
        b"*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    );
    let info2 = send_raw(&mut c, &encode_str(&["INFO", "server"]));
    assert_eq!(info2[0], b'$');
}

#[test]
fn resp3_via_redis_crate() {
    let s = start();
    let client = redis::Client::open(format!("redis://{}/?protocol=resp3", s.addr)).unwrap();
    let mut con = client.get_connection().unwrap();
    let v: redis::Value = redis::cmd("GET").arg("missing").query(&mut con).unwrap();
    assert_eq!(v, redis::Value::Nil);
    let v: redis::Value = redis::cmd("CONFIG")
        .arg("GET")
        .arg("timeout")
        .query(&mut con)
        .unwrap();
    match v {
        redis::Value::Map(pairs) => {
            assert_eq!(pairs.len(), 1);
            assert_eq!(pairs[0].0, redis::Value::BulkString(b"timeout".to_vec()));
        }
        other => panic!("expected a map, got {other:?}"),
    }
    let v: redis::Value = redis::cmd("INFO").arg("server").query(&mut con).unwrap();
    assert!(matches!(v, redis::Value::VerbatimString { .. }), "{v:?}");
}

#[test]
fn pipeline_10000_in_one_write() {
    let s = start();
    let mut c = s.conn();
    let mut buf = Vec::new();
    for i in 0..10_000 {
        let cmd = match i % 4 {
            0 => encode_str(&["SET", &format!("k{i}"), &format!("v{i}")]),
            1 => encode_str(&["GET", &format!("k{}", i - 1)]),
            2 => encode_str(&["INCR", "counter"]),
            _ => encode_str(&["ECHO", &format!("e{i}")]),
        };
        buf.extend(cmd);
    }
    let mut w = c.stream.try_clone().unwrap();
    // Write from another thread so a full socket buffer cannot deadlock us.
    let writer = std::thread::spawn(move || {
        w.write_all(&buf).unwrap();
    });
    for i in 0..10_000 {
        let r = c.read();
        let want = match i % 4 {
            0 => Resp::ok(),
            1 => Resp::bulk(format!("v{}", i - 1)),
            2 => Resp::Int((i / 4 + 1) as i64),
            _ => Resp::bulk(format!("e{i}")),
        };
        assert_eq!(r, want, "reply #{i}");
    }
    writer.join().unwrap();
    assert_eq!(c.run("DBSIZE"), Resp::Int(2501));
}

#[test]
fn inline_commands() {
    let s = start();
    let mut c = s.tcp();
    assert_eq!(send_raw(&mut c, b"PING\r\n"), b"+PONG\r\n");
    assert_eq!(send_raw(&mut c, b"SET a \"b c\"\r\n"), b"+OK\r\n");
    assert_eq!(
        send_raw(&mut c, &encode_str(&["GET", "a"])),
        b"$3\r\nb c\r\n"
    );
    assert_eq!(send_raw(&mut c, b"GET a\r\n"), b"$3\r\nb c\r\n");
    // Bare \n terminator, extra spaces, single quotes, escapes.
    assert_eq!(send_raw(&mut c, b"PING\n"), b"+PONG\r\n");
    assert_eq!(send_raw(&mut c, b"  ECHO   'x y'  \r\n"), b"$3\r\nx y\r\n");
    assert_eq!(send_raw(&mut c, b"ECHO \"\\x41\\n\"\r\n"), b"$2\r\nA\n\r\n");
    // Empty lines are ignored.
    assert_eq!(send_raw(&mut c, b"\r\n\r\nPING\r\n"), b"+PONG\r\n");
    // Inline and multibulk mixed in one write.
    let mut mixed = b"SET m 1\r\n".to_vec();
    mixed.extend(encode_str(&["INCR", "m"]));
    mixed.extend(b"INCR m\r\n");
    c.write_all(&mixed).unwrap();
    assert_eq!(read_raw_reply(&mut c), b"+OK\r\n");
    assert_eq!(read_raw_reply(&mut c), b":2\r\n");
    assert_eq!(read_raw_reply(&mut c), b":3\r\n");
    // Unknown inline command.
    assert_eq!(
        send_raw(&mut c, b"NOPE x\r\n"),
        b"-ERR unknown command 'NOPE', with args beginning with: 'x' \r\n"
    );
    // Unbalanced quotes: protocol error and disconnect.
    assert_eq!(
        send_raw(&mut c, b"SET a \"b\r\n"),
        b"-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    assert!(is_closed(&mut c, Duration::from_secs(3)));
}

#[test]
fn invalid_multibulk_length_closes() {
    let s = start();
    let mut c = s.tcp();
    assert_eq!(send_raw(&mut c, b"PING\r\n"), b"+PONG\r\n");
    let got = {
        c.write_all(b"*x\r\n").unwrap();
        read_until_closed(&mut c, Duration::from_secs(3))
    };
    assert_eq!(got, b"-ERR Protocol error: invalid multibulk length\r\n");
    // Negative (other than -1) and oversize lengths too.
    let mut c = s.tcp();
    c.write_all(b"*3000000000\r\n").unwrap();
    assert_eq!(
        read_until_closed(&mut c, Duration::from_secs(3)),
        b"-ERR Protocol error: invalid multibulk length\r\n"
    );
    // `*0` and `*-1` are silently skipped.
    let mut c = s.tcp();
    assert_eq!(send_raw(&mut c, b"*0\r\n*-1\r\nPING\r\n"), b"+PONG\r\n");
}

#[test]
fn invalid_bulk_length_closes() {
    let s = start();
    for (req, want) in [
        (
            &b"*1\r\n$600000000\r\n"[..],
            &b"-ERR Protocol error: invalid bulk length\r\n"[..],
        ),
        (
            b"*1\r\n$x\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$-1\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\nfoo\r\n",
            b"-ERR Protocol error: expected '$', got 'f'\r\n",
        ),
    ] {
        let mut c = s.tcp();
        c.write_all(req).unwrap();
        let got = read_until_closed(&mut c, Duration::from_secs(3));
        assert_eq!(got, want, "request {:?}", preview(req));
    }
    let mut c = s.conn();
    assert_eq!(c.run("PING"), Resp::simple("PONG"));
}

#[test]
fn garbage_client_is_dropped_others_unaffected() {
    let s = start();
    let mut good = s.conn();
    good.ok("SET k v");
    let mut bad = s.tcp();
    bad.write_all(b"*\xff\xfegarbage\r\n$$$\x01\x02\r\n")
        .unwrap();
    let got = read_until_closed(&mut bad, Duration::from_secs(3));
    assert!(
        got.starts_with(b"-ERR Protocol error"),
        "{:?}",
        preview(&got)
    );
    assert_eq!(good.get("GET k").as_deref(), Some("v"));
    // A binary blob that is not RESP is an inline command, which yields an
    // error reply but no crash.
    let mut bad2 = s.tcp();
    bad2.write_all(b"\x01\x02\xfe\xff\r\n").unwrap();
    let r = read_raw_reply(&mut bad2);
    assert!(r.starts_with(b"-ERR unknown command"), "{:?}", preview(&r));
    assert_eq!(good.int("INCR n"), 1);
}

#[test]
fn too_big_inline_request() {
    let s = start();
    let mut c = s.tcp();
    let blob = vec![b'a'; 70 * 1024];
    // The server may close while we are still writing.
    let _ = c.write_all(&blob);
    let got = read_until_closed(&mut c, Duration::from_secs(5));
    assert_eq!(got, b"-ERR Protocol error: too big inline request\r\n");
    // Same for an unterminated multibulk header line.
    let mut c = s.tcp();
    let mut req = b"*1\r\n$".to_vec();
    req.extend(vec![b'1'; 70 * 1024]);
    let _ = c.write_all(&req);
    let got = read_until_closed(&mut c, Duration::from_secs(5));
    assert_eq!(got, b"-ERR Protocol error: too big bulk count string\r\n");
    assert_eq!(s.conn().run("PING"), Resp::simple("PONG"));
}

#[test]
fn proto_max_bulk_len_limit() {
    let s = start_with(&[("proto-max-bulk-len", &["1mb"])]);
    let mut c = s.conn();
    let ok_val = "x".repeat(1024 * 1024);
    assert_eq!(c.cmd(&["SET", "k", &ok_val]), Resp::ok());
    assert_eq!(c.int("STRLEN k"), 1024 * 1024);
    // One byte more than the limit is rejected at the protocol level.
    let mut t = s.tcp();
    t.write_all(format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", 1024 * 1024 + 1).as_bytes())
        .unwrap();
    assert_eq!(
        read_until_closed(&mut t, Duration::from_secs(3)),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    // String growth is limited by the same setting.
    assert_eq!(
        c.err("SETRANGE k 1048576 x"),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(
        c.err("APPEND k x"),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(c.int("STRLEN k"), 1024 * 1024);
    // CONFIG SET changes the limit at runtime.
    c.ok("CONFIG SET proto-max-bulk-len 2mb");
    assert_eq!(c.int("APPEND k x"), 1024 * 1024 + 1);
}

#[test]
fn client_query_buffer_limit_enforced() {
    let s = start_with(&[("client-query-buffer-limit", &["1mb"])]);
    let mut good = s.conn();
    good.ok("SET k v");
    let mut t = s.tcp();
    t.write_all(format!("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n${}\r\n", 2 * 1024 * 1024).as_bytes())
        .unwrap();
    // Send 1.5 MB of the declared 2 MB (never complete), in chunks.
    let chunk = vec![b'z'; 64 * 1024];
    for _ in 0..24 {
        if t.write_all(&chunk).is_err() {
            break; // already closed by the server
        }
    }
    let got = read_until_closed(&mut t, Duration::from_secs(5));
    assert!(
        got.is_empty() || got.starts_with(b"-"),
        "unexpected data {:?}",
        preview(&got)
    );
    assert_eq!(good.get("GET k").as_deref(), Some("v"));
    assert_eq!(good.int("EXISTS x"), 0);
    let mut fresh = s.conn();
    assert_eq!(fresh.run("PING"), Resp::simple("PONG"));
}

#[test]
fn concurrent_incr_is_exact() {
    let s = start();
    let addr = s.addr;
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                let client = redis::Client::open(format!("redis://{addr}/")).unwrap();
                let mut con = client.get_connection().unwrap();
                let mut got = Vec::with_capacity(2000);
                for _ in 0..2000 {
                    let v: i64 = redis::cmd("INCR").arg("counter").query(&mut con).unwrap();
                    got.push(v);
                }
                got
            })
        })
        .collect();
    let mut all = HashSet::new();
    for t in threads {
        for v in t.join().unwrap() {
            assert!(all.insert(v), "INCR returned {v} twice");
        }
    }
    assert_eq!(all.len(), 16_000);
    assert_eq!(all.iter().max(), Some(&16_000));
    let mut c = s.conn();
    assert_eq!(c.get("GET counter").as_deref(), Some("16000"));
}

#[test]
fn fuzz_random_bytes_do_not_crash() {
    let s = start();
    let mut rng = Rng(0x9E3779B97F4A7C15);
    let alphabet: &[u8] = b"*$+-:_,#%~>=!(|\r\n0123456789-abcSETGETPINGHELLO \"'\\\x00\xff";
    for i in 0..200 {
        let len = 1 + rng.below(48) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.below(4) == 0 {
                    rng.next() as u8
                } else {
                    alphabet[rng.below(alphabet.len() as u64) as usize]
                }
            })
            .collect();
        let mut c = s.tcp();
        c.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        if c.write_all(&bytes).is_err() {
            continue;
        }
        let _ = c.shutdown(Shutdown::Write);
        // Drain whatever comes back (bounded); the server must not hang up
        // on other clients.
        let _ = is_closed(
            &mut c,
            Duration::from_millis(if i % 20 == 0 { 200 } else { 20 }),
        );
    }
    let mut c = s.conn();
    assert_eq!(c.run("PING"), Resp::simple("PONG"));
    c.ok("SET after fuzz");
    assert_eq!(c.get("GET after").as_deref(), Some("fuzz"));
}
