//! MONITOR, SLOWLOG and CLIENT PAUSE with several real connections. Run
//! against a real Redis with `RUSSET_IT_REFERENCE=/usr/bin/redis-server` to
//! check the expectations.

mod common;

use common::{encode_str, start, Conn, Resp};
use std::time::{Duration, Instant};

/// The next MONITOR line with its timestamp and client port masked.
fn line(m: &mut Conn) -> String {
    let Resp::Simple(s) = m.read() else {
        panic!("not a monitor line")
    };
    let (ts, rest) = s.split_once(' ').expect("timestamp");
    let (secs, micros) = ts.split_once('.').expect("seconds.micros");
    assert!(secs.len() >= 10 && micros.len() == 6, "{ts}");
    // "[db 127.0.0.1:port]" -> "[db addr]"; "[db lua]" stays.
    match rest.find("127.0.0.1:") {
        Some(i) => {
            let end = rest[i..].find(']').unwrap() + i;
            format!("{}addr{}", &rest[..i], &rest[end..])
        }
        None => rest.to_string(),
    }
}

fn no_reply_within(c: &mut Conn, ms: u64) -> bool {
    c.stream
        .set_read_timeout(Some(Duration::from_millis(ms)))
        .unwrap();
    let none = c.try_read().is_err();
    c.stream
        .set_read_timeout(Some(common::READ_TIMEOUT))
        .unwrap();
    none
}

#[test]
fn monitor_shows_commands_like_redis() {
    let srv = start();
    let mut m = srv.conn();
    m.ok("MONITOR");
    let mut c = srv.conn();
    c.ok("SET k v");
    assert_eq!(line(&mut m), r#"[0 addr] "SET" "k" "v""#);
    c.cmd_bytes(&[b"SET", b"b", b"a\x00\"\\\n\xff"]);
    assert_eq!(line(&mut m), r#"[0 addr] "SET" "b" "a\x00\"\\\n\xff""#);
    // The database is the one the command left selected.
    c.ok("SELECT 3");
    assert_eq!(line(&mut m), r#"[3 addr] "SELECT" "3""#);
    c.ok("SELECT 0");
    line(&mut m);
    // Rejected commands and admin commands are not shown; credentials are
    // redacted even when the command fails.
    assert!(c.run("NOPE").is_error());
    assert!(c.run("GET").is_error());
    c.run("CONFIG GET maxmemory");
    c.run("CLIENT LIST");
    c.run("SLOWLOG LEN");
    assert!(c.run("AUTH user secret").is_error());
    assert_eq!(line(&mut m), r#"[0 addr] "AUTH" "(redacted)" "(redacted)""#);
    // MULTI's commands show at EXEC, before it; scripts before their calls.
    c.ok("MULTI");
    c.run("INCR n");
    c.run("GET n");
    c.run("EXEC");
    assert_eq!(line(&mut m), r#"[0 addr] "MULTI""#);
    assert_eq!(line(&mut m), r#"[0 addr] "INCR" "n""#);
    assert_eq!(line(&mut m), r#"[0 addr] "GET" "n""#);
    assert_eq!(line(&mut m), r#"[0 addr] "EXEC""#);
    c.cmd(&[
        "EVAL",
        "redis.call('select','5') return redis.call('get','a')",
        "0",
    ]);
    assert_eq!(
        line(&mut m),
        r#"[0 addr] "EVAL" "redis.call('select','5') return redis.call('get','a')" "0""#
    );
    assert_eq!(line(&mut m), r#"[5 lua] "select" "5""#);
    assert_eq!(line(&mut m), r#"[5 lua] "get" "a""#);
    // A monitor cannot touch the keyspace, still sees its own commands and
    // shows as flag O.
    assert_eq!(
        m.err("GET k"),
        "ERR Replica can't interact with the keyspace"
    );
    assert_eq!(m.run("ECHO hi"), Resp::bulk("hi"));
    assert_eq!(line(&mut m), r#"[0 addr] "ECHO" "hi""#);
    let list = String::from_utf8(c.run("CLIENT LIST").as_bytes()).unwrap();
    assert!(list.contains("flags=O "), "{list}");
    // RESET leaves MONITOR mode.
    assert_eq!(m.run("RESET"), Resp::simple("RESET"));
    c.ok("SET k2 v");
    assert_eq!(m.run("GET k2"), Resp::bulk("v"));
}

#[test]
fn monitor_refused_in_multi() {
    let srv = start();
    let mut c = srv.conn();
    c.ok("MULTI");
    assert_eq!(c.run("MONITOR"), Resp::simple("QUEUED"));
    assert_eq!(
        c.run("EXEC"),
        Resp::arr(vec![Resp::err(
            "ERR MONITOR isn't allowed for DENY BLOCKING client"
        )])
    );
}

#[test]
fn slowlog_records_client_and_trims() {
    let srv = start();
    let mut c = srv.conn();
    c.ok("CONFIG SET slowlog-log-slower-than 0");
    c.ok("CLIENT SETNAME tester");
    c.ok("SLOWLOG RESET");
    let big = "x".repeat(200);
    c.cmd(&["SET", "k", &big]);
    let entries = c.run("SLOWLOG GET 1");
    let e = entries.as_array()[0].as_array();
    assert!(e[1].as_int() > 1_600_000_000);
    assert!(e[2].as_int() >= 0);
    let argv = e[3].as_strings();
    assert_eq!(argv[2], format!("{}... (72 more bytes)", &big[..128]));
    assert!(e[4].as_str().starts_with("127.0.0.1:"));
    assert_eq!(e[5].as_str(), "tester");
    // Off with a negative threshold.
    c.ok("CONFIG SET slowlog-log-slower-than -1");
    c.ok("SLOWLOG RESET");
    c.ok("SET a b");
    assert_eq!(c.int("SLOWLOG LEN"), 0);
}

#[test]
fn write_pause_holds_writes_and_lets_reads_through() {
    let srv = start();
    let mut admin = srv.conn();
    let mut w = srv.conn();
    let mut r = srv.conn();
    r.ok("SET k v");
    let w_id = w.int("CLIENT ID");
    admin.ok("CLIENT PAUSE 10000 WRITE");
    w.send(&encode_str(&["SET", "k", "new"]));
    assert!(no_reply_within(&mut w, 200));
    assert_eq!(r.get("GET k").as_deref(), Some("v"));
    assert_eq!(r.cmd(&["EVAL_RO", "return 1", "0"]), Resp::Int(1));
    // MULTI itself runs; a write is held back while being queued.
    r.ok("MULTI");
    r.send(&encode_str(&["INCR", "n"]));
    assert!(no_reply_within(&mut r, 100));
    // So is PUBLISH, and a script.
    let mut p = srv.conn();
    p.send(&encode_str(&["PUBLISH", "ch", "x"]));
    assert!(no_reply_within(&mut p, 100));
    // Held clients count as blocked, as in Redis (flag `b`).
    let info = admin.run("INFO clients");
    assert!(info.as_str().contains("blocked_clients:3\r\n"), "{info:?}");
    let list = admin.run("CLIENT LIST");
    let held = list
        .as_str()
        .lines()
        .find(|l| l.starts_with(&format!("id={w_id} ")))
        .unwrap_or_default()
        .to_string();
    assert!(
        held.contains(" flags=b ") && held.contains(" cmd=set "),
        "{held}"
    );
    admin.ok("CLIENT UNPAUSE");
    assert_eq!(w.read(), Resp::ok());
    assert_eq!(r.read(), Resp::simple("QUEUED"));
    assert_eq!(r.run("EXEC"), Resp::arr(vec![Resp::Int(1)]));
    assert_eq!(p.read(), Resp::Int(0));
    assert_eq!(admin.get("GET k").as_deref(), Some("new"));
    let info = admin.run("INFO clients");
    assert!(info.as_str().contains("blocked_clients:0\r\n"), "{info:?}");
}

/// Redis decides from a script's declared flags: `no-writes` scripts and
/// functions run during a WRITE pause, scripts that may write wait.
#[test]
fn write_pause_lets_declared_read_only_scripts_through() {
    let srv = start();
    let mut admin = srv.conn();
    let mut c = srv.conn();
    let lib = "#!lua name=lib\n\
        redis.register_function{function_name='ro', callback=function() return 7 end, flags={'no-writes'}}\n\
        redis.register_function('rw', function() return 8 end)";
    assert_eq!(admin.cmd(&["FUNCTION", "LOAD", lib]), Resp::bulk("lib"));
    let ro_script = "#!lua flags=no-writes\nreturn 5";
    admin.ok("CLIENT PAUSE 10000 WRITE");
    assert_eq!(c.cmd(&["EVAL", ro_script, "0"]), Resp::Int(5));
    assert_eq!(c.cmd(&["FCALL", "ro", "0"]), Resp::Int(7));
    assert_eq!(c.cmd(&["FCALL_RO", "ro", "0"]), Resp::Int(7));
    // Loaded by the EVAL above, so EVALSHA finds its flags too.
    let sha = match c.cmd(&["SCRIPT", "LOAD", ro_script]) {
        Resp::Bulk(Some(s)) => String::from_utf8(s).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(c.cmd(&["EVALSHA", &sha, "0"]), Resp::Int(5));
    // A MULTI holding only read-only scripts executes too.
    c.ok("MULTI");
    assert_eq!(c.cmd(&["FCALL", "ro", "0"]), Resp::simple("QUEUED"));
    assert_eq!(c.run("EXEC"), Resp::arr(vec![Resp::Int(7)]));
    // Without flags, or with write flags, scripts wait for the pause.
    let mut held = Vec::new();
    for cmd in [
        vec!["EVAL", "return 1", "0"],
        vec!["EVAL", "#!lua\nreturn 2", "0"],
        vec!["FCALL", "rw", "0"],
    ] {
        let mut w = srv.conn();
        w.send(&encode_str(&cmd));
        assert!(no_reply_within(&mut w, 100), "{cmd:?} was not held");
        held.push(w);
    }
    admin.ok("CLIENT UNPAUSE");
    let replies: Vec<Resp> = held.iter_mut().map(|w| w.read()).collect();
    assert_eq!(replies, vec![Resp::Int(1), Resp::Int(2), Resp::Int(8)]);
}

#[test]
fn all_pause_holds_everything_until_it_expires() {
    let srv = start();
    let mut admin = srv.conn();
    let mut c = srv.conn();
    admin.ok("CLIENT PAUSE 300 ALL");
    let started = Instant::now();
    assert_eq!(c.run("PING"), Resp::simple("PONG"));
    assert!(started.elapsed() >= Duration::from_millis(250));
    // Pipelined commands behind a held one run in order once it ends.
    admin.ok("CLIENT PAUSE 200 WRITE");
    let mut pipeline = encode_str(&["SET", "a", "1"]);
    pipeline.extend(encode_str(&["GET", "a"]));
    c.send(&pipeline);
    assert_eq!(c.read(), Resp::ok());
    assert_eq!(c.read(), Resp::bulk("1"));
    assert_eq!(
        admin.err("CLIENT PAUSE 10 NOPE"),
        "ERR CLIENT PAUSE mode must be WRITE or ALL"
    );
    assert_eq!(admin.err("CLIENT PAUSE -1"), "ERR timeout is negative");
}
