//! SORT through a real client against an in-process server: BY/GET
//! patterns reading keys spread over every shard, STORE, MULTI, and the
//! atomicity of a pattern SORT against concurrent multi-key writers.

mod common;

use redis::{Commands, Connection};

fn connect() -> (common::Server, Connection) {
    let server = common::start();
    let con = server.con();
    (server, con)
}

#[test]
fn by_and_get_patterns_across_shards() {
    let (_h, mut con) = connect();
    let n = 300i64;
    for i in 0..n {
        let _: () = con.rpush("ids", i).unwrap();
        // Weights reverse the natural order; names live in hashes.
        let _: () = con.set(format!("weight_{i}"), n - i).unwrap();
        let _: () = con
            .hset(format!("obj:{i}"), "name", format!("name{i:03}"))
            .unwrap();
    }
    let by_weight: Vec<i64> = redis::cmd("SORT")
        .arg("ids")
        .arg("BY")
        .arg("weight_*")
        .arg("LIMIT")
        .arg(0)
        .arg(3)
        .query(&mut con)
        .unwrap();
    assert_eq!(by_weight, vec![299, 298, 297]);
    let names: Vec<Option<String>> = redis::cmd("SORT")
        .arg("ids")
        .arg("BY")
        .arg("weight_*")
        .arg("DESC")
        .arg("GET")
        .arg("obj:*->name")
        .arg("GET")
        .arg("#")
        .arg("GET")
        .arg("missing_*")
        .arg("LIMIT")
        .arg(0)
        .arg(2)
        .query(&mut con)
        .unwrap();
    assert_eq!(
        names,
        vec![
            Some("name000".into()),
            Some("0".into()),
            None,
            Some("name001".into()),
            Some("1".into()),
            None
        ]
    );
    // ALPHA on the hash field, stored as a list.
    let stored: i64 = redis::cmd("SORT")
        .arg("ids")
        .arg("BY")
        .arg("obj:*->name")
        .arg("ALPHA")
        .arg("DESC")
        .arg("GET")
        .arg("weight_*")
        .arg("STORE")
        .arg("out")
        .query(&mut con)
        .unwrap();
    assert_eq!(stored, n);
    let head: Vec<i64> = con.lrange("out", 0, 2).unwrap();
    assert_eq!(head, vec![1, 2, 3]);
    let ro: Vec<i64> = redis::cmd("SORT_RO")
        .arg("ids")
        .arg("BY")
        .arg("nosort")
        .arg("DESC")
        .arg("LIMIT")
        .arg(0)
        .arg(2)
        .query(&mut con)
        .unwrap();
    assert_eq!(ro, vec![299, 298]);
}

#[test]
fn store_replaces_any_type_and_deletes_on_empty() {
    let (_h, mut con) = connect();
    let _: () = con.sadd("s", &[5, 3, 9]).unwrap();
    let _: () = con.hset("dst", "f", "v").unwrap();
    let _: () = con.expire("dst", 100).unwrap();
    let n: i64 = redis::cmd("SORT")
        .arg("s")
        .arg("STORE")
        .arg("dst")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 3);
    let kind: String = redis::cmd("TYPE").arg("dst").query(&mut con).unwrap();
    assert_eq!(kind, "list");
    assert_eq!(con.ttl::<_, i64>("dst").unwrap(), -1);
    assert_eq!(
        con.lrange::<_, Vec<i64>>("dst", 0, -1).unwrap(),
        vec![3, 5, 9]
    );
    let n: i64 = redis::cmd("SORT")
        .arg("nokey")
        .arg("STORE")
        .arg("dst")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 0);
    assert!(!con.exists::<_, bool>("dst").unwrap());
    let err = redis::cmd("SORT_RO")
        .arg("s")
        .arg("STORE")
        .arg("dst")
        .query::<i64>(&mut con)
        .unwrap_err();
    assert!(err.to_string().contains("syntax error"), "{err}");
}

#[test]
fn sort_inside_multi() {
    let (_h, mut con) = connect();
    let (sorted, stored): (Vec<String>, i64) = redis::pipe()
        .atomic()
        .rpush("l", &["b", "a", "c"])
        .ignore()
        .set("k_a", 3)
        .ignore()
        .set("k_b", 1)
        .ignore()
        .cmd("SORT")
        .arg("l")
        .arg("BY")
        .arg("k_*")
        .cmd("SORT")
        .arg("l")
        .arg("ALPHA")
        .arg("STORE")
        .arg("l2")
        .query(&mut con)
        .unwrap();
    assert_eq!(sorted, vec!["c", "b", "a"]);
    assert_eq!(stored, 3);
}

/// A writer keeps `a_*` + `b_*` constant with MSETs over keys in different
/// shards; a SORT ... GET of both must never see half of one MSET.
#[test]
fn pattern_reads_are_atomic_against_writers() {
    let (h, mut con) = connect();
    let _: () = con.rpush("ids", &[1, 2, 3, 4]).unwrap();
    let _: () = redis::cmd("MSET")
        .arg(&["a_1", "0", "b_1", "100"])
        .query(&mut con)
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let mut w = h.con();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut i = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i = (i + 1) % 100;
                let _: () = redis::cmd("MSET")
                    .arg("a_1")
                    .arg(i)
                    .arg("b_1")
                    .arg(100 - i)
                    .query(&mut w)
                    .unwrap();
            }
        })
    };
    for _ in 0..2000 {
        let vals: Vec<Option<i64>> = redis::cmd("SORT")
            .arg("ids")
            .arg("GET")
            .arg("a_*")
            .arg("GET")
            .arg("b_*")
            .arg("LIMIT")
            .arg(0)
            .arg(1)
            .query(&mut con)
            .unwrap();
        assert_eq!(vals.len(), 2);
        assert_eq!(vals[0].unwrap() + vals[1].unwrap(), 100);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
}
