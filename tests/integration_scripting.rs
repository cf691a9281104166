//! Lua scripts and functions with several real connections: atomicity under
//! concurrency, scripts touching undeclared keys and other databases, a
//! script's push waking a blocked client, and SCRIPT KILL / FUNCTION KILL of
//! a busy script. Run against a real Redis with
//! `RUSSET_IT_REFERENCE=/usr/bin/redis-server` to check the expectations.

mod common;

use common::{start, start_with, wait_until, Resp};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// A read-modify-write that is only correct if nothing runs between its GET
/// and its SET.
const INCR_SCRIPT: &str =
    "local v = tonumber(redis.call('get', KEYS[1]) or '0'); redis.call('set', KEYS[1], v + 1); return v + 1";

#[test]
fn concurrent_read_modify_write_scripts_lose_no_update() {
    let srv = start();
    let clients = 8;
    let per_client = 200;
    std::thread::scope(|s| {
        for _ in 0..clients {
            s.spawn(|| {
                let mut c = srv.conn();
                for _ in 0..per_client {
                    let r = c.cmd(&["EVAL", INCR_SCRIPT, "1", "counter"]);
                    assert!(!r.is_error(), "{r:?}");
                }
            });
        }
    });
    let mut c = srv.conn();
    assert_eq!(
        c.get("GET counter"),
        Some((clients * per_client).to_string())
    );
}

#[test]
fn scripts_are_atomic_against_plain_commands_on_undeclared_keys() {
    // The script moves one unit between two keys it does not declare; a
    // reader summing both with MGET must always see the same total.
    let srv = start();
    let mut c = srv.conn();
    c.ok("MSET a 1000 b 0");
    let mover = "for i = 1, 50 do redis.call('decr', 'a'); redis.call('incr', 'b') end return 1";
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut w = srv.conn();
            for _ in 0..20 {
                assert_eq!(w.cmd(&["EVAL", mover, "0"]).as_int(), 1);
            }
        });
        let mut r = srv.conn();
        while !writer.is_finished() {
            let v = r.run("MGET a b").as_strings();
            let total: i64 = v.iter().map(|x| x.parse::<i64>().unwrap()).sum();
            assert_eq!(total, 1000, "saw a partial script: {v:?}");
        }
    });
    assert_eq!(c.get("GET b"), Some("1000".into()));
}

#[test]
fn scripts_select_other_databases_without_changing_the_callers() {
    let srv = start();
    let mut c = srv.conn();
    let r = c.cmd(&[
        "EVAL",
        "redis.call('select', 3); redis.call('set', 'k', 'in3'); return redis.call('get', 'k')",
        "0",
    ]);
    assert_eq!(r, Resp::bulk("in3"));
    assert_eq!(c.get("GET k"), None);
    c.ok("SELECT 3");
    assert_eq!(c.get("GET k"), Some("in3".into()));
}

#[test]
fn a_push_from_a_script_wakes_a_blocked_client() {
    let srv = start();
    let mut blocked = srv.conn();
    blocked.send(&common::encode_str(&["BLPOP", "jobs", "0"]));
    let mut admin = srv.conn();
    assert!(wait_until(WAIT, || {
        admin
            .run("INFO clients")
            .as_str()
            .contains("blocked_clients:1")
    }));
    let r = admin.cmd(&[
        "EVAL",
        "return redis.call('rpush', KEYS[1], ARGV[1])",
        "1",
        "jobs",
        "job-1",
    ]);
    assert_eq!(r.as_int(), 1);
    assert_eq!(blocked.read(), Resp::bulks(&["jobs", "job-1"]));
    assert_eq!(admin.int("LLEN jobs"), 0);
}

#[test]
fn a_function_push_wakes_a_blocked_client() {
    let srv = start();
    let mut admin = srv.conn();
    let lib = "#!lua name=q\nredis.register_function('push', function(keys, args) return redis.call('lpush', keys[1], args[1]) end)";
    assert_eq!(admin.cmd(&["FUNCTION", "LOAD", lib]), Resp::bulk("q"));
    let mut blocked = srv.conn();
    blocked.send(&common::encode_str(&["BRPOP", "q1", "0"]));
    assert!(wait_until(WAIT, || {
        admin
            .run("INFO clients")
            .as_str()
            .contains("blocked_clients:1")
    }));
    assert_eq!(admin.cmd(&["FCALL", "push", "1", "q1", "x"]).as_int(), 1);
    assert_eq!(blocked.read(), Resp::bulks(&["q1", "x"]));
}

const BUSY_LOOP: &str = "local i = 0 while true do i = i + 1 end";

/// Starts `script` on its own connection and waits until other clients get
/// BUSY; returns that connection to read the script's reply later.
fn start_busy(srv: &common::Server, args: &[&str]) -> common::Conn {
    let mut runner = srv.conn();
    runner.send(&common::encode_str(args));
    let mut probe = srv.conn();
    let started = Instant::now();
    loop {
        let r = probe.run("PING");
        if r.is_error() {
            assert!(r.error_text().starts_with("BUSY "), "{r:?}");
            break;
        }
        assert!(started.elapsed() < WAIT, "script never became busy");
        std::thread::sleep(Duration::from_millis(20));
    }
    runner
}

/// With one worker thread the script starts on the only worker and must
/// hand it over for the other clients to get BUSY and send SCRIPT KILL.
#[test]
fn script_kill_stops_a_busy_read_only_script() {
    let srv = start_with(&[("busy-reply-threshold", &["100"]), ("threads", &["1"])]);
    let mut runner = start_busy(&srv, &["EVAL", BUSY_LOOP, "0"]);
    let mut admin = srv.conn();
    assert!(admin.err("GET x").starts_with(
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    ));
    assert!(admin
        .err("FUNCTION KILL")
        .starts_with("BUSY Redis is busy running a script. You can only call SCRIPT KILL"));
    admin.ok("SCRIPT KILL");
    let r = runner.read();
    assert!(
        r.error_text()
            .starts_with("ERR Script killed by user with SCRIPT KILL..."),
        "{r:?}"
    );
    assert!(wait_until(WAIT, || admin.run("PING") == Resp::simple("PONG")));
    assert!(admin.err("SCRIPT KILL").starts_with("NOTBUSY"));
    assert_eq!(runner.run("PING"), Resp::simple("PONG"));
}

#[test]
fn a_script_that_wrote_is_unkillable() {
    let srv = start_with(&[("busy-reply-threshold", &["100"])]);
    let script = "redis.call('set', 'w', 1); local t = redis.call('time')[1] + 1; while tonumber(redis.call('time')[1]) <= t do end return 'done'";
    let mut runner = start_busy(&srv, &["EVAL", script, "0"]);
    let mut admin = srv.conn();
    assert!(admin.err("SCRIPT KILL").starts_with("UNKILLABLE"));
    assert_eq!(runner.read(), Resp::bulk("done"));
    assert_eq!(admin.get("GET w"), Some("1".into()));
}

#[test]
fn function_kill_stops_a_busy_function() {
    let srv = start_with(&[("busy-reply-threshold", &["100"])]);
    let mut admin = srv.conn();
    let lib = format!("#!lua name=spin\nredis.register_function{{function_name='spin', callback=function() {BUSY_LOOP} end, flags={{'no-writes'}}}}");
    assert_eq!(admin.cmd(&["FUNCTION", "LOAD", &lib]), Resp::bulk("spin"));
    let mut runner = start_busy(&srv, &["FCALL", "spin", "0"]);
    assert!(admin.err("GET x").starts_with(
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    ));
    let stats = admin.run("FUNCTION STATS");
    let running = stats.as_array()[1].as_array();
    assert_eq!(running[0].as_str(), "name");
    assert_eq!(running[1].as_str(), "spin");
    admin.ok("FUNCTION KILL");
    let r = runner.read();
    assert!(
        r.error_text()
            .starts_with("ERR Script killed by user with SCRIPT KILL..."),
        "{r:?}"
    );
    assert!(wait_until(WAIT, || admin.run("PING") == Resp::simple("PONG")));
}

/// Lua memory is bounded: a script (or a library's load) that allocates
/// past the limit fails with an error, and the server and the Lua state
/// stay usable.
#[test]
fn scripts_cannot_allocate_without_bound() {
    let srv = start();
    let mut c = srv.conn();
    let doubling = "local s = 'x' while true do s = s .. s end";
    let r = c.cmd(&["EVAL", doubling, "0"]);
    assert!(r.error_text().contains("not enough memory"), "{r:?}");
    let lib = format!(
        "#!lua name=big\n{doubling}\nredis.register_function('f', function() return 1 end)"
    );
    let r = c.cmd(&["FUNCTION", "LOAD", &lib]);
    assert!(r.error_text().contains("not enough memory"), "{r:?}");
    assert_eq!(
        c.cmd(&["EVAL", "return #string.rep('x', 1000)", "0"]),
        Resp::Int(1000)
    );
    assert_eq!(c.run("PING"), Resp::simple("PONG"));
}
