//! Streams with several real connections, through the `redis` crate:
//! blocked XREADs woken by XADD from another client, from MULTI/EXEC and
//! from a script, every ready reader served, timeouts, and the keyspace
//! events of stream writes. Run against a real Redis with
//! `RUSSET_IT_REFERENCE=/usr/bin/redis-server` to check the expectations.

mod common;

use common::{start, wait_until};
use redis::{Connection, Value};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(5);

fn blocked_clients(c: &mut Connection) -> i64 {
    let info: String = redis::cmd("INFO").arg("clients").query(c).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

fn await_blocked(c: &mut Connection, n: i64) {
    assert!(
        wait_until(WAIT, || blocked_clients(c) == n),
        "expected {n} blocked clients"
    );
}

/// Runs `args` on a new connection in a thread; returns once it is blocked.
fn spawn_blocked(
    srv: &common::Server,
    admin: &mut Connection,
    args: &[&str],
    already: i64,
) -> JoinHandle<Value> {
    let mut c = srv.con();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let h = std::thread::spawn(move || {
        let mut cmd = redis::cmd(&args[0]);
        for a in &args[1..] {
            cmd.arg(a);
        }
        cmd.query::<Value>(&mut c).unwrap()
    });
    await_blocked(admin, already + 1);
    h
}

fn xadd(c: &mut Connection, key: &str, id: &str, f: &str, v: &str) -> String {
    redis::cmd("XADD")
        .arg(key)
        .arg(id)
        .arg(f)
        .arg(v)
        .query(c)
        .unwrap()
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

/// XREAD's reply for one key and its entries of one field each.
fn read_reply(key: &str, entries: &[(&str, &str, &str)]) -> Value {
    let entries = entries
        .iter()
        .map(|(id, f, v)| Value::Array(vec![bulk(id), Value::Array(vec![bulk(f), bulk(v)])]))
        .collect();
    Value::Array(vec![Value::Array(vec![bulk(key), Value::Array(entries)])])
}

#[test]
fn blocked_xread_is_woken_by_xadd_from_another_client() {
    let srv = start();
    let mut admin = srv.con();
    xadd(&mut admin, "s", "1-1", "old", "x");
    let h = spawn_blocked(
        &srv,
        &mut admin,
        &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
        0,
    );
    xadd(&mut admin, "s", "2-1", "f", "v");
    assert_eq!(h.join().unwrap(), read_reply("s", &[("2-1", "f", "v")]));
    await_blocked(&mut admin, 0);
}

#[test]
fn every_ready_reader_gets_the_entries_and_they_stay() {
    let srv = start();
    let mut admin = srv.con();
    let readers: Vec<_> = (0..3)
        .map(|i| {
            spawn_blocked(
                &srv,
                &mut admin,
                &["XREAD", "BLOCK", "0", "STREAMS", "s", "0-0"],
                i,
            )
        })
        .collect();
    xadd(&mut admin, "s", "5-1", "f", "v");
    for h in readers {
        assert_eq!(h.join().unwrap(), read_reply("s", &[("5-1", "f", "v")]));
    }
    let len: i64 = redis::cmd("XLEN").arg("s").query(&mut admin).unwrap();
    assert_eq!(len, 1);
}

#[test]
fn blocked_xread_on_several_keys_gets_the_one_written() {
    let srv = start();
    let mut admin = srv.con();
    let h = spawn_blocked(
        &srv,
        &mut admin,
        &[
            "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "a", "b", "$", "$",
        ],
        0,
    );
    // A write of another type to a waited key does not serve the reader.
    let _: () = redis::cmd("SET")
        .arg("a")
        .arg("x")
        .query(&mut admin)
        .unwrap();
    let _: () = redis::cmd("DEL").arg("a").query(&mut admin).unwrap();
    await_blocked(&mut admin, 1);
    let mut pipe = redis::pipe();
    pipe.cmd("XADD").arg("b").arg("1-1").arg("f").arg("1");
    pipe.cmd("XADD").arg("b").arg("1-2").arg("f").arg("2");
    let _: Vec<String> = pipe.query(&mut admin).unwrap();
    assert_eq!(h.join().unwrap(), read_reply("b", &[("1-1", "f", "1")]));
}

#[test]
fn blocked_xread_is_woken_by_multi_exec_and_by_a_script() {
    let srv = start();
    let mut admin = srv.con();
    let h = spawn_blocked(
        &srv,
        &mut admin,
        &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
        0,
    );
    let _: Vec<Value> = redis::pipe()
        .atomic()
        .cmd("XADD")
        .arg("s")
        .arg("1-1")
        .arg("m")
        .arg("1")
        .cmd("XADD")
        .arg("s")
        .arg("1-2")
        .arg("m")
        .arg("2")
        .query(&mut admin)
        .unwrap();
    // Served after EXEC: both entries of the transaction at once.
    assert_eq!(
        h.join().unwrap(),
        read_reply("s", &[("1-1", "m", "1"), ("1-2", "m", "2")])
    );
    let h = spawn_blocked(
        &srv,
        &mut admin,
        &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
        0,
    );
    let _: String = redis::cmd("EVAL")
        .arg("return redis.call('XADD', KEYS[1], '2-1', 'lua', 'yes')")
        .arg(1)
        .arg("s")
        .query(&mut admin)
        .unwrap();
    assert_eq!(h.join().unwrap(), read_reply("s", &[("2-1", "lua", "yes")]));
}

#[test]
fn blocked_xread_times_out_with_nil() {
    let srv = start();
    let mut c = srv.con();
    let start = Instant::now();
    let v: Value = redis::cmd("XREAD")
        .arg("BLOCK")
        .arg(100)
        .arg("STREAMS")
        .arg("s")
        .arg("$")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, Value::Nil);
    assert!(start.elapsed() >= Duration::from_millis(90));
    let mut admin = srv.con();
    await_blocked(&mut admin, 0);
}

#[test]
fn stream_writes_send_keyspace_events() {
    let srv = start();
    let mut c = srv.con();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("notify-keyspace-events")
        .arg("Et")
        .query(&mut c)
        .unwrap();
    let mut sub = srv.client().get_connection().unwrap();
    let mut ps = sub.as_pubsub();
    ps.set_read_timeout(Some(WAIT)).unwrap();
    ps.psubscribe("__keyevent@0__:*").unwrap();
    xadd(&mut c, "s", "1-1", "f", "v");
    xadd(&mut c, "s", "2-1", "f", "v");
    let _: String = redis::cmd("XADD")
        .arg("s")
        .arg("MAXLEN")
        .arg("1")
        .arg("3-1")
        .arg("f")
        .arg("v")
        .query(&mut c)
        .unwrap();
    let _: i64 = redis::cmd("XDEL")
        .arg("s")
        .arg("3-1")
        .query(&mut c)
        .unwrap();
    let _: i64 = redis::cmd("XDEL")
        .arg("s")
        .arg("3-1")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("XSETID")
        .arg("s")
        .arg("9-9")
        .query(&mut c)
        .unwrap();
    xadd(&mut c, "t", "1-1", "f", "v");
    xadd(&mut c, "t", "2-1", "f", "v");
    let _: i64 = redis::cmd("XTRIM")
        .arg("t")
        .arg("MAXLEN")
        .arg("0")
        .query(&mut c)
        .unwrap();
    let got: Vec<(String, String)> = (0..9)
        .map(|_| {
            let m = ps.get_message().unwrap();
            let event = m
                .get_channel_name()
                .rsplit_once("__:")
                .unwrap()
                .1
                .to_string();
            (event, m.get_payload::<String>().unwrap())
        })
        .collect();
    let want = [
        ("xadd", "s"),
        ("xadd", "s"),
        ("xadd", "s"),
        ("xtrim", "s"),
        ("xdel", "s"),
        ("xsetid", "s"),
        ("xadd", "t"),
        ("xadd", "t"),
        ("xtrim", "t"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(e, k)| (e.to_string(), k.to_string()))
        .collect();
    assert_eq!(got, want);
}

/// The IDs in an XREADGROUP reply (empty for nil).
fn ids_of(v: &Value) -> Vec<String> {
    let Value::Array(streams) = v else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in streams {
        let Value::Array(kv) = s else { continue };
        let Some(Value::Array(entries)) = kv.get(1) else {
            continue;
        };
        for e in entries {
            if let Value::Array(e) = e {
                if let Some(Value::BulkString(id)) = e.first() {
                    out.push(String::from_utf8_lossy(id).into_owned());
                }
            }
        }
    }
    out
}

#[test]
fn xreadgroup_delivers_each_entry_to_exactly_one_consumer() {
    let srv = start();
    let mut admin = srv.con();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg("s")
        .arg("g")
        .arg("$")
        .arg("MKSTREAM")
        .query(&mut admin)
        .unwrap();
    let consumers: Vec<_> = ["c1", "c2"]
        .iter()
        .map(|name| {
            let mut c = srv.con();
            let name = name.to_string();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let v: Value = redis::cmd("XREADGROUP")
                        .arg("GROUP")
                        .arg("g")
                        .arg(&name)
                        .arg("COUNT")
                        .arg(3)
                        .arg("BLOCK")
                        .arg(300)
                        .arg("STREAMS")
                        .arg("s")
                        .arg(">")
                        .query(&mut c)
                        .unwrap();
                    if v == Value::Nil {
                        return got;
                    }
                    got.extend(ids_of(&v));
                }
            })
        })
        .collect();
    let n = 200;
    for i in 1..=n {
        xadd(&mut admin, "s", &format!("{i}-1"), "f", "v");
    }
    let mut all: Vec<String> = consumers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(all.len(), n);
    all.sort_by_key(|id| id.split('-').next().unwrap().parse::<u64>().unwrap());
    all.dedup();
    assert_eq!(all.len(), n);
    let pending: Vec<Value> = redis::cmd("XPENDING")
        .arg("s")
        .arg("g")
        .query(&mut admin)
        .unwrap();
    assert_eq!(pending[0], Value::Int(n as i64));
}

#[test]
fn blocked_xreadgroup_gets_an_error_when_its_key_or_group_goes() {
    let srv = start();
    let mut admin = srv.con();
    let create = |c: &mut Connection| {
        let _: () = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg("s")
            .arg("g")
            .arg("$")
            .arg("MKSTREAM")
            .query(c)
            .unwrap();
    };
    create(&mut admin);
    let mut c = srv.con();
    fn reader(c: &mut Connection) -> redis::RedisResult<Value> {
        let read = ["GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"];
        redis::cmd("XREADGROUP").arg(&read[..]).query(c)
    }
    let h = std::thread::spawn(move || {
        let first = reader(&mut c).unwrap_err().to_string();
        (first, c)
    });
    await_blocked(&mut admin, 1);
    let _: () = redis::cmd("DEL").arg("s").query(&mut admin).unwrap();
    let (err, mut c) = h.join().unwrap();
    assert!(err.contains("the stream key no longer exists"), "{err}");
    create(&mut admin);
    let h = std::thread::spawn(move || reader(&mut c).unwrap_err().to_string());
    await_blocked(&mut admin, 1);
    let _: i64 = redis::cmd("XGROUP")
        .arg("DESTROY")
        .arg("s")
        .arg("g")
        .query(&mut admin)
        .unwrap();
    let err = h.join().unwrap();
    assert!(err.contains("no longer exists"), "{err}");
    await_blocked(&mut admin, 0);
}

#[test]
fn blocked_xreadgroup_is_woken_by_xadd_and_the_entry_becomes_pending() {
    let srv = start();
    let mut admin = srv.con();
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg("s")
        .arg("g")
        .arg("$")
        .arg("MKSTREAM")
        .query(&mut admin)
        .unwrap();
    let h = spawn_blocked(
        &srv,
        &mut admin,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
        0,
    );
    xadd(&mut admin, "s", "7-1", "f", "v");
    assert_eq!(h.join().unwrap(), read_reply("s", &[("7-1", "f", "v")]));
    let pending: Vec<Value> = redis::cmd("XPENDING")
        .arg("s")
        .arg("g")
        .query(&mut admin)
        .unwrap();
    assert_eq!(pending[0], Value::Int(1));
    assert_eq!(pending[1], bulk("7-1"));
}
