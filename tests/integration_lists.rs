//! List commands against the in-process server, through the `redis` crate:
//! long lists under every node size checked against a model, moves between
//! lists from many clients at once (nothing lost or duplicated), LMPOP's key
//! finder, large elements, and the per-element memory cost.

use redis::{Commands, Connection};
use std::collections::VecDeque;
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

fn used_memory(c: &mut Connection) -> i64 {
    let info: String = redis::cmd("INFO").arg("memory").query(c).expect("INFO");
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory in INFO")
}

fn set_fill(c: &mut Connection, fill: &str) {
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("list-max-listpack-size")
        .arg(fill)
        .query(c)
        .expect("CONFIG SET");
}

fn all(c: &mut Connection, key: &str) -> Vec<String> {
    c.lrange(key, 0, -1).expect("LRANGE")
}

#[test]
fn basic_commands_round_trip() {
    let srv = start();
    let mut c = srv.conn();
    assert_eq!(c.rpush::<_, _, i64>("l", &["a", "b", "c"]).unwrap(), 3);
    assert_eq!(c.lpush::<_, _, i64>("l", "z").unwrap(), 4);
    assert_eq!(all(&mut c, "l"), ["z", "a", "b", "c"]);
    let enc: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("l")
        .query(&mut c)
        .unwrap();
    assert_eq!(enc, "quicklist");
    assert_eq!(
        c.lpop::<_, Option<String>>("l", None).unwrap().as_deref(),
        Some("z")
    );
    let popped: Vec<String> = c.rpop("l", std::num::NonZeroUsize::new(2)).unwrap();
    assert_eq!(popped, ["c", "b"]);
    let moved: String = redis::cmd("LMOVE")
        .arg("l")
        .arg("other")
        .arg("LEFT")
        .arg("RIGHT")
        .query(&mut c)
        .unwrap();
    assert_eq!(moved, "a");
    assert!(!c.exists::<_, bool>("l").unwrap());
    let (key, items): (String, Vec<String>) = redis::cmd("LMPOP")
        .arg(2)
        .arg("l")
        .arg("other")
        .arg("LEFT")
        .arg("COUNT")
        .arg(5)
        .query(&mut c)
        .unwrap();
    assert_eq!((key.as_str(), items), ("other", vec!["a".to_string()]));
    let keys: Vec<String> = redis::cmd("COMMAND")
        .arg("GETKEYS")
        .arg("LMPOP")
        .arg(2)
        .arg("x")
        .arg("y")
        .arg("RIGHT")
        .query(&mut c)
        .unwrap();
    assert_eq!(keys, ["x", "y"]);
}

/// A long list edited at both ends and in the middle, under several node
/// sizes (changed half-way, as CONFIG SET may do), always equals a model.
#[test]
fn long_lists_match_a_model_under_every_fill() {
    let srv = start();
    let mut c = srv.conn();
    let mut seed = 7u64;
    let mut rnd = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n.max(1)
    };
    for fill in ["-2", "3", "-1", "1", "-5", "128"] {
        let key = format!("l{fill}");
        let mut model: VecDeque<String> = VecDeque::new();
        let batch: Vec<String> = (0..5000).map(|i| format!("v{i}")).collect();
        set_fill(&mut c, fill);
        let _: i64 = c.rpush(&key, &batch).unwrap();
        model.extend(batch);
        set_fill(&mut c, if fill == "-2" { "4" } else { "-2" });
        for step in 0..400 {
            let v = format!("n{step}-{}", "x".repeat(rnd(40)));
            match rnd(7) {
                0 => {
                    let _: i64 = c.lpush(&key, &v).unwrap();
                    model.push_front(v);
                }
                1 => {
                    let _: i64 = c.rpush(&key, &v).unwrap();
                    model.push_back(v);
                }
                2 => {
                    let got: Option<String> = c.lpop(&key, None).unwrap();
                    assert_eq!(got, model.pop_front());
                }
                3 => {
                    let got: Option<String> = c.rpop(&key, None).unwrap();
                    assert_eq!(got, model.pop_back());
                }
                4 => {
                    let i = rnd(model.len());
                    let _: () = c.lset(&key, i as isize, &v).unwrap();
                    model[i] = v;
                }
                5 => {
                    let i = rnd(model.len());
                    let pivot = model[i].clone();
                    let at = model.iter().position(|x| *x == pivot).unwrap_or(0);
                    let n: i64 = c.linsert_before(&key, &pivot, &v).unwrap();
                    model.insert(at, v);
                    assert_eq!(n as usize, model.len());
                }
                _ => {
                    let i = rnd(model.len()) as isize;
                    let got: Option<String> = c.lindex(&key, i).unwrap();
                    assert_eq!(got.as_ref(), model.get(i as usize));
                }
            }
        }
        assert_eq!(all(&mut c, &key), Vec::from(model.clone()));
        let mid: Vec<String> = c.lrange(&key, 1000, 1099).unwrap();
        assert_eq!(
            mid,
            model
                .iter()
                .skip(1000)
                .take(100)
                .cloned()
                .collect::<Vec<_>>()
        );
        let _: () = c.ltrim(&key, 10, -11).unwrap();
        let trimmed: Vec<String> = model
            .iter()
            .skip(10)
            .take(model.len() - 20)
            .cloned()
            .collect();
        assert_eq!(all(&mut c, &key), trimmed);
        let removed: i64 = c.lrem(&key, 0, "v2500").unwrap();
        assert_eq!(removed, 1);
        let len: i64 = c.llen(&key).unwrap();
        assert_eq!(len as usize, trimmed.len() - 1);
    }
    set_fill(&mut c, "-2");
}

/// Many clients rotate elements between lists in different shards: every
/// LMOVE/RPOPLPUSH is atomic, so no element is lost or duplicated.
#[test]
fn concurrent_moves_conserve_elements() {
    let srv = start();
    let mut c = srv.conn();
    let keys = ["ring:a", "ring:b", "ring:c", "ring:d"];
    let items: Vec<String> = (0..200).map(|i| format!("item{i}")).collect();
    let _: i64 = c.rpush(keys[0], &items).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let mut conn = srv.conn();
            s.spawn(move || {
                for i in 0..500 {
                    let src = keys[(t + i) % 4];
                    let dst = keys[(t + i + 1) % 4];
                    let _: Option<String> = if i % 2 == 0 {
                        conn.rpoplpush(src, dst).unwrap()
                    } else {
                        redis::cmd("LMOVE")
                            .arg(src)
                            .arg(dst)
                            .arg("LEFT")
                            .arg("RIGHT")
                            .query(&mut conn)
                            .unwrap()
                    };
                }
            });
        }
    });
    let mut seen: Vec<String> = keys.iter().flat_map(|k| all(&mut c, k)).collect();
    seen.sort();
    let mut want = items.clone();
    want.sort();
    assert_eq!(seen, want);
}

#[test]
fn large_elements_round_trip() {
    let srv = start();
    let mut c = srv.conn();
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let _: i64 = c.rpush("l", &["a"]).unwrap();
    let _: i64 = c.rpush("l", &big).unwrap();
    let _: i64 = c.lpush("l", &big[..20000]).unwrap();
    let got: Vec<u8> = c.lindex("l", 2).unwrap();
    assert_eq!(got, big);
    let got: Vec<u8> = c.lindex("l", 0).unwrap();
    assert_eq!(got, &big[..20000]);
    let _: () = c.lset("l", 1, &big[..300]).unwrap();
    let got: Vec<Vec<u8>> = c.lrange("l", 0, -1).unwrap();
    assert_eq!(
        got,
        vec![big[..20000].to_vec(), big[..300].to_vec(), big.clone()]
    );
    let got: Option<Vec<u8>> = c.rpop("l", None).unwrap();
    assert_eq!(got, Some(big));
}

/// Elements live packed in nodes: a million 8-byte elements cost a few
/// bytes each on top of their data, not an allocation each.
#[test]
fn small_elements_are_packed() {
    let srv = start();
    let mut c = srv.conn();
    let before = used_memory(&mut c);
    let n = 1_000_000;
    for chunk in 0..(n / 10_000) {
        let batch: Vec<String> = (0..10_000)
            .map(|i| format!("{:08}", chunk * 10_000 + i))
            .collect();
        let _: i64 = c.rpush("big", &batch).unwrap();
    }
    let after = used_memory(&mut c);
    let per_element = (after - before) as f64 / n as f64;
    assert!(
        per_element < 12.0,
        "{per_element:.1} bytes per 8-byte element"
    );
    let len: i64 = c.llen("big").unwrap();
    assert_eq!(len, n as i64);
    let mid: String = c.lindex("big", 500_000).unwrap();
    assert_eq!(mid, "00500000");
    let pos: i64 = redis::cmd("LPOS")
        .arg("big")
        .arg("00999999")
        .query(&mut c)
        .unwrap();
    assert_eq!(pos, 999_999);
    let _: () = c.del("big").unwrap();
}
