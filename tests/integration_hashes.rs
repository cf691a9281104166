//! Hash commands against the in-process server, through the `redis` crate:
//! encodings and their conversion points, HSCAN's guarantee on a hash table
//! that changes size, HRANDFIELD's counting rules, atomic HINCRBY from many
//! clients, and the memory footprint of small hashes.

use redis::{Commands, Connection, RedisResult};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

// The memory test reads the process-wide allocation counter, so the tests
// of this file run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

struct Server {
    handle: russet::ServerHandle,
    _serial: MutexGuard<'static, ()>,
}

fn start() -> Server {
    let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let handle = russet::start_background(russet::Config::default()).expect("server starts");
    Server {
        handle,
        _serial: serial,
    }
}

impl Server {
    fn conn(&self) -> Connection {
        let url = format!("redis://{}/", self.handle.addr);
        redis::Client::open(url)
            .and_then(|c| c.get_connection())
            .expect("connect")
    }
}

fn encoding(c: &mut Connection, key: &str) -> String {
    redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg(key)
        .query(c)
        .expect("OBJECT ENCODING")
}

fn used_memory(c: &mut Connection) -> i64 {
    let info: String = redis::cmd("INFO").arg("memory").query(c).expect("INFO");
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory in INFO")
}

#[test]
fn basic_commands_round_trip() {
    let srv = start();
    let mut c = srv.conn();
    let added: i64 = c
        .hset_multiple("h", &[("a", "1"), ("b", "2")])
        .map(|()| 2)
        .unwrap();
    assert_eq!(added, 2);
    assert_eq!(c.hset::<_, _, _, i64>("h", "c", "3").unwrap(), 1);
    assert_eq!(c.hset::<_, _, _, i64>("h", "c", "4").unwrap(), 0);
    assert_eq!(c.hget::<_, _, String>("h", "c").unwrap(), "4");
    assert_eq!(c.hget::<_, _, Option<String>>("h", "zz").unwrap(), None);
    let all: HashMap<String, String> = c.hgetall("h").unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all["a"], "1");
    assert_eq!(c.hlen::<_, i64>("h").unwrap(), 3);
    assert!(c.hexists::<_, _, bool>("h", "a").unwrap());
    assert_eq!(c.hincr::<_, _, _, i64>("h", "a", 41).unwrap(), 42);
    let f: String = redis::cmd("HINCRBYFLOAT")
        .arg("h")
        .arg("b")
        .arg("0.1")
        .query(&mut c)
        .unwrap();
    assert_eq!(f, "2.1");
    assert_eq!(c.hdel::<_, _, i64>("h", &["a", "b", "c"]).unwrap(), 3);
    assert!(!c.exists::<_, bool>("h").unwrap());
    let _: () = c.set("s", "x").unwrap();
    let err: RedisResult<i64> = c.hset("s", "f", "v");
    assert!(err.unwrap_err().to_string().contains("WRONGTYPE"));
}

#[test]
fn converts_to_hashtable_at_redis_thresholds_and_keeps_contents() {
    let srv = start();
    let mut c = srv.conn();
    let pairs: Vec<(String, String)> = (0..512)
        .map(|i| (format!("f{i}"), format!("v{i}")))
        .collect();
    let _: () = c.hset_multiple("h", &pairs).unwrap();
    assert_eq!(encoding(&mut c, "h"), "listpack");
    let _: i64 = c.hset("h", "f512", "v512").unwrap();
    assert_eq!(encoding(&mut c, "h"), "hashtable");
    let all: HashMap<String, String> = c.hgetall("h").unwrap();
    assert_eq!(all.len(), 513);
    assert!((0..513).all(|i| all[&format!("f{i}")] == format!("v{i}")));
    // Deleting back below the limit does not convert back.
    let fields: Vec<String> = (0..500).map(|i| format!("f{i}")).collect();
    let _: i64 = c.hdel("h", &fields).unwrap();
    assert_eq!(encoding(&mut c, "h"), "hashtable");

    let _: i64 = c.hset("v", "f", "x".repeat(64)).unwrap();
    assert_eq!(encoding(&mut c, "v"), "listpack");
    let _: i64 = c.hset("v", "g", "x".repeat(65)).unwrap();
    assert_eq!(encoding(&mut c, "v"), "hashtable");
    assert_eq!(c.hget::<_, _, String>("v", "f").unwrap(), "x".repeat(64));
}

fn hscan_all(
    c: &mut Connection,
    key: &str,
    mut between: impl FnMut(&mut Connection, usize),
) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut cursor = 0u64;
    let mut calls = 0;
    loop {
        let (next, items): (u64, Vec<String>) = redis::cmd("HSCAN")
            .arg(key)
            .arg(cursor)
            .arg("COUNT")
            .arg(10)
            .query(c)
            .unwrap();
        for pair in items.chunks(2) {
            seen.insert(pair[0].clone());
        }
        calls += 1;
        between(c, calls);
        cursor = next;
        if cursor == 0 {
            return seen;
        }
    }
}

#[test]
fn hscan_returns_every_stable_field_while_the_table_grows_and_shrinks() {
    let srv = start();
    let mut c = srv.conn();
    let stable: Vec<(String, String)> = (0..2000)
        .map(|i| (format!("s{i}"), i.to_string()))
        .collect();
    let _: () = c.hset_multiple("h", &stable).unwrap();
    let extra: Vec<(String, String)> = (0..20000)
        .map(|i| (format!("x{i}"), i.to_string()))
        .collect();
    let extra_fields: Vec<String> = extra.iter().map(|(f, _)| f.clone()).collect();
    let seen = hscan_all(&mut c, "h", |c, call| {
        if call == 20 {
            let _: () = c.hset_multiple("h", &extra).unwrap();
        }
        if call == 300 {
            let _: i64 = c.hdel("h", &extra_fields).unwrap();
        }
    });
    for (f, _) in &stable {
        assert!(seen.contains(f), "{f} missed by HSCAN");
    }
    // A listpack answers in one call.
    let _: i64 = c.hset("small", "a", "1").unwrap();
    let (cursor, items): (u64, Vec<String>) = redis::cmd("HSCAN")
        .arg("small")
        .arg(0)
        .query(&mut c)
        .unwrap();
    assert_eq!((cursor, items), (0, vec!["a".to_string(), "1".to_string()]));
}

#[test]
fn hrandfield_counts() {
    let srv = start();
    let mut c = srv.conn();
    for (key, size) in [("small", 30), ("big", 1000)] {
        let pairs: Vec<(String, String)> = (0..size)
            .map(|i| (format!("f{i}"), format!("v{i}")))
            .collect();
        let _: () = c.hset_multiple(key, &pairs).unwrap();
        // Distinct picks: a few (random probing), most (sampling), all, more than all.
        for n in [1, 5, size / 2, size - 1, size, size + 7] {
            let got: Vec<String> = redis::cmd("HRANDFIELD")
                .arg(key)
                .arg(n)
                .query(&mut c)
                .unwrap();
            let distinct: HashSet<&String> = got.iter().collect();
            assert_eq!(got.len(), n.min(size), "{key} {n}");
            assert_eq!(distinct.len(), got.len(), "{key} {n}: repeated field");
            assert!(got.iter().all(|f| f.starts_with('f')));
        }
        // Negative: exactly that many, repeats allowed, values match fields.
        let got: Vec<String> = redis::cmd("HRANDFIELD")
            .arg(key)
            .arg(-(3 * size as i64))
            .arg("WITHVALUES")
            .query(&mut c)
            .unwrap();
        assert_eq!(got.len(), 6 * size);
        for pair in got.chunks(2) {
            assert_eq!(pair[0][1..], pair[1][1..]);
        }
    }
}

#[test]
fn concurrent_hincrby_is_atomic() {
    let srv = start();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut c = srv.conn();
            std::thread::spawn(move || {
                for _ in 0..500 {
                    let _: i64 = c.hincr("counter", "n", 1).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut c = srv.conn();
    assert_eq!(c.hget::<_, _, i64>("counter", "n").unwrap(), 2000);
}

#[test]
fn small_hashes_cost_at_most_redis_21_bytes_per_field() {
    let srv = start();
    let mut c = srv.conn();
    let before = used_memory(&mut c);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut pipe = redis::pipe();
    for h in 0..10_000 {
        let mut cmd = redis::cmd("HSET");
        cmd.arg(format!("hash:{h}"));
        for i in 0..100 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = 8 + (state % 9) as usize;
            let value: String = (0..len)
                .map(|j| (b'a' + ((state >> j) % 26) as u8) as char)
                .collect();
            cmd.arg(format!("f{i}")).arg(value);
        }
        pipe.add_command(cmd).ignore();
        if h % 500 == 499 {
            let () = pipe.query(&mut c).unwrap();
            pipe = redis::pipe();
        }
    }
    assert_eq!(encoding(&mut c, "hash:1"), "listpack");
    let per_field = (used_memory(&mut c) - before) as f64 / 1_000_000.0;
    assert!(per_field <= 21.0, "{per_field:.1} bytes per field");
}
