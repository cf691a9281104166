//! Set commands against the in-process server with the `redis` crate: the
//! rules for random replies (SPOP, SRANDMEMBER) that the differential tests
//! can only compare by shape, multi-key commands across shards, SSCAN's
//! guarantee, encodings, and atomicity under concurrent clients.

mod common;

use redis::{Commands, Connection, RedisResult};
use std::collections::{HashMap, HashSet};

fn server() -> (common::Server, redis::Client) {
    let server = common::start();
    let client = server.client();
    (server, client)
}

fn conn(client: &redis::Client) -> Connection {
    client.get_connection().expect("connection")
}

fn members(c: &mut Connection, key: &str) -> HashSet<String> {
    c.smembers(key).expect("SMEMBERS")
}

fn encoding(c: &mut Connection, key: &str) -> String {
    redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg(key)
        .query(c)
        .expect("OBJECT ENCODING")
}

/// Creates `key` with `n` members: integers, or strings when `strings`.
fn fill(c: &mut Connection, key: &str, n: usize, strings: bool) -> HashSet<String> {
    let all: Vec<String> = (0..n)
        .map(|i| {
            if strings {
                format!("m{i}")
            } else {
                i.to_string()
            }
        })
        .collect();
    let _: () = c.del(key).unwrap();
    let added: usize = c.sadd(key, &all).unwrap();
    assert_eq!(added, n);
    all.into_iter().collect()
}

#[test]
fn spop_with_count_returns_distinct_members_and_removes_them() {
    let (_h, client) = server();
    let mut c = conn(&client);
    for strings in [false, true] {
        // Small counts pop one by one; large ones keep the few survivors.
        for (size, count) in [
            (100, 3),
            (100, 50),
            (100, 95),
            (100, 99),
            (10, 10),
            (10, 20),
        ] {
            let original = fill(&mut c, "s", size, strings);
            let popped: Vec<String> = redis::cmd("SPOP")
                .arg("s")
                .arg(count)
                .query(&mut c)
                .unwrap();
            let uniq: HashSet<String> = popped.iter().cloned().collect();
            assert_eq!(uniq.len(), popped.len(), "SPOP returned a member twice");
            assert_eq!(popped.len(), count.min(size));
            assert!(uniq.is_subset(&original));
            let left = members(&mut c, "s");
            assert!(left.is_disjoint(&uniq), "popped members are still there");
            assert_eq!(left.len() + uniq.len(), size);
            let exists: bool = c.exists("s").unwrap();
            assert_eq!(exists, count < size, "an emptied set must be deleted");
        }
    }
}

#[test]
fn spop_of_most_of_a_large_integer_set_leaves_an_intset() {
    let (_h, client) = server();
    let mut c = conn(&client);
    fill(&mut c, "s", 600, false);
    assert_eq!(encoding(&mut c, "s"), "hashtable");
    let _: Vec<String> = redis::cmd("SPOP").arg("s").arg(590).query(&mut c).unwrap();
    assert_eq!(encoding(&mut c, "s"), "intset");
    assert_eq!(c.scard::<_, usize>("s").unwrap(), 10);
    // A few pops leave the encoding alone.
    fill(&mut c, "t", 600, false);
    let _: Vec<String> = redis::cmd("SPOP").arg("t").arg(5).query(&mut c).unwrap();
    assert_eq!(encoding(&mut c, "t"), "hashtable");
}

#[test]
fn srandmember_positive_count_is_distinct_negative_count_repeats() {
    let (_h, client) = server();
    let mut c = conn(&client);
    for strings in [false, true] {
        let original = fill(&mut c, "s", 50, strings);
        for count in [1i64, 5, 16, 17, 30, 49, 50, 51, 1000] {
            let got: Vec<String> = c.srandmember_multiple("s", count as usize).unwrap();
            let uniq: HashSet<String> = got.iter().cloned().collect();
            assert_eq!(got.len(), (count as usize).min(50), "count {count}");
            assert_eq!(uniq.len(), got.len(), "count {count}: repeated member");
            assert!(uniq.is_subset(&original));
        }
        for count in [1i64, 7, 50, 500] {
            let got: Vec<String> = redis::cmd("SRANDMEMBER")
                .arg("s")
                .arg(-count)
                .query(&mut c)
                .unwrap();
            assert_eq!(got.len(), count as usize);
            assert!(got.iter().all(|m| original.contains(m)));
        }
        // Far more draws than members: repeats are certain.
        let got: Vec<String> = redis::cmd("SRANDMEMBER")
            .arg("s")
            .arg(-500)
            .query(&mut c)
            .unwrap();
        let uniq: HashSet<&String> = got.iter().collect();
        assert!(uniq.len() < got.len());
        // Reading never changes the set.
        assert_eq!(members(&mut c, "s"), original);
    }
}

/// Every member must come up about equally often: with 2000 expected picks
/// each, ±25% is over ten standard deviations, yet a picker that favours
/// short hash chains (members alone in their bucket) fails it.
#[test]
fn random_picks_cover_every_member_roughly_uniformly() {
    let (_h, client) = server();
    let mut c = conn(&client);
    for strings in [false, true] {
        let original = fill(&mut c, "s", 20, strings);
        let draws = 40_000;
        let got: Vec<String> = redis::cmd("SRANDMEMBER")
            .arg("s")
            .arg(-draws)
            .query(&mut c)
            .unwrap();
        let mut freq: HashMap<&str, usize> = HashMap::new();
        for m in &got {
            *freq.entry(m).or_default() += 1;
        }
        assert_eq!(freq.len(), original.len(), "some member never picked");
        let expected = draws as usize / original.len();
        for (m, n) in freq {
            assert!(
                n > expected * 3 / 4 && n < expected * 5 / 4,
                "member {m} picked {n} times, expected about {expected} (strings: {strings})"
            );
        }
        // Single picks and single pops reach every member too.
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            let m: String = c.srandmember("s").unwrap();
            seen.insert(m);
        }
        assert_eq!(seen, original);
        let mut popped = HashSet::new();
        while let Some(m) = c.spop::<_, Option<String>>("s").unwrap() {
            assert!(popped.insert(m), "SPOP returned a member twice");
        }
        assert_eq!(popped, original);
        assert!(!c.exists::<_, bool>("s").unwrap());
    }
}

#[test]
fn multi_key_commands_lock_every_shard_they_touch() {
    let (_h, client) = server();
    let mut c = conn(&client);
    // 40 keys land in many of the 64 shards.
    let keys: Vec<String> = (0..40).map(|i| format!("key:{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        let _: () = c.sadd(k, &["common", &format!("own{i}")]).unwrap();
    }
    let n: usize = redis::cmd("SINTERCARD")
        .arg(keys.len())
        .arg(&keys)
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 1);
    let n: usize = redis::cmd("SINTERCARD")
        .arg(keys.len())
        .arg(&keys)
        .arg("LIMIT")
        .arg(1)
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 1);
    let inter: Vec<String> = c.sinter(&keys).unwrap();
    assert_eq!(inter, vec!["common".to_string()]);
    let union: HashSet<String> = c.sunion(&keys).unwrap();
    assert_eq!(union.len(), 41);
    let n: usize = c.sunionstore("dest:union", &keys).unwrap();
    assert_eq!(n, 41);
    let n: usize = c.sinterstore("dest:inter", &keys).unwrap();
    assert_eq!(n, 1);
    let n: usize = c.sdiffstore("dest:diff", &keys).unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        members(&mut c, "dest:diff"),
        HashSet::from(["own0".to_string()])
    );
    let moved: bool = c.smove("key:1", "elsewhere", "own1").unwrap();
    assert!(moved);
    let keys_reply: Vec<String> = redis::cmd("COMMAND")
        .arg("GETKEYS")
        .arg("SINTERCARD")
        .arg(2)
        .arg("a")
        .arg("b")
        .arg("LIMIT")
        .arg(5)
        .query(&mut c)
        .unwrap();
    assert_eq!(keys_reply, vec!["a", "b"]);
    // A malformed count locks nothing and fails cleanly; the connection lives on.
    let r: RedisResult<usize> = redis::cmd("SINTERCARD").arg(5).arg("a").query(&mut c);
    assert!(r.is_err());
    let pong: String = redis::cmd("PING").query(&mut c).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn sscan_returns_every_member_while_the_set_grows() {
    let (_h, client) = server();
    let mut c = conn(&client);
    let original = fill(&mut c, "s", 3000, true);
    let mut seen = HashSet::new();
    let mut cursor = 0u64;
    let mut calls = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SSCAN")
            .arg("s")
            .arg(cursor)
            .arg("COUNT")
            .arg(50)
            .query(&mut c)
            .unwrap();
        seen.extend(batch);
        calls += 1;
        if calls == 10 {
            // Growing the table mid-scan must not lose members.
            let extra: Vec<String> = (0..5000).map(|i| format!("extra{i}")).collect();
            let _: () = c.sadd("s", &extra).unwrap();
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert!(calls > 10);
    assert!(original.is_subset(&seen));
    // An intset comes back whole, cursor 0.
    fill(&mut c, "i", 100, false);
    let (next, batch): (u64, Vec<String>) = redis::cmd("SSCAN")
        .arg("i")
        .arg(0)
        .arg("COUNT")
        .arg(5)
        .query(&mut c)
        .unwrap();
    assert_eq!((next, batch.len()), (0, 100));
}

#[test]
fn encodings_follow_the_intset_limit_from_config() {
    let (_h, client) = server();
    let mut c = conn(&client);
    fill(&mut c, "s", 512, false);
    assert_eq!(encoding(&mut c, "s"), "intset");
    let _: () = c.sadd("s", 512).unwrap();
    assert_eq!(encoding(&mut c, "s"), "hashtable");
    let _: () = c.srem("s", (0..500).collect::<Vec<i32>>()).unwrap();
    let _: () = c.sadd("s", 1).unwrap();
    // Never back to an intset.
    assert_eq!(encoding(&mut c, "s"), "hashtable");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("set-max-intset-entries")
        .arg(2)
        .query(&mut c)
        .unwrap();
    let _: () = c.sadd("t", &[1, 2]).unwrap();
    assert_eq!(encoding(&mut c, "t"), "intset");
    let _: () = c.sadd("t", 3).unwrap();
    assert_eq!(encoding(&mut c, "t"), "hashtable");
    let _: () = c.sadd("u", "x").unwrap();
    assert_eq!(encoding(&mut c, "u"), "hashtable");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("set-max-intset-entries")
        .arg(512)
        .query(&mut c)
        .unwrap();
    // Intsets keep their members sorted, across widths.
    let _: () = c.sadd("v", &[i64::MAX, 70000, i64::MIN, 0]).unwrap();
    assert_eq!(encoding(&mut c, "v"), "intset");
    let sorted: Vec<String> = c.smembers("v").unwrap();
    assert_eq!(
        sorted,
        [i64::MIN, 0, 70000, i64::MAX]
            .map(|n| n.to_string())
            .to_vec()
    );
}

#[test]
fn concurrent_smoves_never_lose_or_duplicate_members() {
    let (_h, client) = server();
    let mut c = conn(&client);
    let all = fill(&mut c, "left", 200, true);
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let client = client.clone();
            std::thread::spawn(move || {
                let mut c = conn(&client);
                for round in 0..300 {
                    let m = format!("m{}", (round * 7 + w * 13) % 200);
                    let (from, to) = if round % 2 == 0 {
                        ("left", "right")
                    } else {
                        ("right", "left")
                    };
                    let _: bool = c.smove(from, to, &m).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let left = members(&mut c, "left");
    let right = members(&mut c, "right");
    assert!(left.is_disjoint(&right));
    let union: HashSet<String> = left.union(&right).cloned().collect();
    assert_eq!(union, all);
}

#[test]
fn watch_sees_set_changes_and_multi_runs_set_commands() {
    let (_h, client) = server();
    let mut c = conn(&client);
    let mut other = conn(&client);
    let _: () = c.sadd("w", "a").unwrap();
    let _: () = redis::cmd("WATCH").arg("w").query(&mut c).unwrap();
    let _: () = other.sadd("w", "b").unwrap();
    let r: Option<(usize,)> = redis::pipe().atomic().scard("w").query(&mut c).unwrap();
    assert_eq!(r, None, "EXEC must fail after a watched set changed");
    // A no-op write (member already there) does not touch watchers.
    let _: () = redis::cmd("WATCH").arg("w").query(&mut c).unwrap();
    let _: usize = other.sadd("w", "b").unwrap();
    let r: Option<(usize,)> = redis::pipe().atomic().scard("w").query(&mut c).unwrap();
    assert_eq!(r, Some((2,)));
    let (added, card, popped): (usize, usize, Vec<String>) = redis::pipe()
        .atomic()
        .sadd("m", &["x", "y"])
        .scard("m")
        .cmd("SPOP")
        .arg("m")
        .arg(10)
        .query(&mut c)
        .unwrap();
    assert_eq!((added, card, popped.len()), (2, 2, 2));
    assert!(!c.exists::<_, bool>("m").unwrap());
}
