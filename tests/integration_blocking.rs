//! Blocking pops (BLPOP & co) with several real connections: who is woken,
//! in which order, with what, and what is left behind when a blocked client
//! times out, is unblocked or disconnects. Run against a real Redis with
//! `RUSSET_IT_REFERENCE=/usr/bin/redis-server` to check the expectations.

mod common;

use common::{start, wait_until, Conn, Resp};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(5);

fn info_field(c: &mut Conn, field: &str) -> i64 {
    let info = c.run("INFO clients").as_str();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO"))
}

/// Waits until the server reports `n` blocked clients, so that the order in
/// which test clients blocked is the order the test intends.
fn await_blocked(c: &mut Conn, n: i64) {
    assert!(
        wait_until(WAIT, || info_field(c, "blocked_clients") == n),
        "expected {n} blocked clients"
    );
}

fn blocked(srv: &common::Server, admin: &mut Conn, cmd: &str, already: i64) -> Conn {
    let mut c = srv.conn();
    c.send(&common::encode_str(
        &cmd.split(' ').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
    ));
    await_blocked(admin, already + 1);
    c
}

fn pair(key: &str, val: &str) -> Resp {
    Resp::bulks(&[key, val])
}

#[test]
fn longest_waiting_client_is_served_first_one_element_each() {
    let srv = start();
    let mut admin = srv.conn();
    let mut waiters: Vec<Conn> = (0..3)
        .map(|i| blocked(&srv, &mut admin, "BLPOP q 0", i))
        .collect();
    assert_eq!(admin.int("RPUSH q a b"), 2);
    assert_eq!(waiters[0].read(), pair("q", "a"));
    assert_eq!(waiters[1].read(), pair("q", "b"));
    // Both elements went to waiters: nothing left, the third still waits.
    assert_eq!(admin.int("LLEN q"), 0);
    await_blocked(&mut admin, 1);
    assert_eq!(admin.int("LPUSH q c"), 1);
    assert_eq!(waiters[2].read(), pair("q", "c"));
    await_blocked(&mut admin, 0);
}

#[test]
fn pusher_sees_the_list_after_waiters_were_served() {
    let srv = start();
    let mut admin = srv.conn();
    let mut w = blocked(&srv, &mut admin, "BRPOP q 0", 0);
    // One pipeline: the push serves the waiter before the next command runs.
    admin.send(&common::encode_str(&["RPUSH", "q", "x", "y"]));
    admin.send(&common::encode_str(&["LRANGE", "q", "0", "-1"]));
    assert_eq!(admin.read(), Resp::Int(2));
    assert_eq!(admin.read(), Resp::bulks(&["x"]));
    assert_eq!(w.read(), pair("q", "y"));
}

#[test]
fn several_keys_serve_from_the_first_with_data_or_the_one_pushed() {
    let srv = start();
    let mut admin = srv.conn();
    admin.int("RPUSH k2 two");
    admin.int("RPUSH k3 three");
    let mut c = srv.conn();
    assert_eq!(c.run("BLPOP k1 k2 k3 0"), pair("k2", "two"));
    let mut w = blocked(&srv, &mut admin, "BLPOP a b c 0", 0);
    admin.int("RPUSH c late");
    assert_eq!(w.read(), pair("c", "late"));
    // The waiter left no registration on a and b behind.
    await_blocked(&mut admin, 0);
    admin.int("RPUSH a stays");
    assert_eq!(admin.int("LLEN a"), 1);
}

#[test]
fn timeouts_are_fractional_and_accurate_and_zero_waits_forever() {
    let srv = start();
    let mut c = srv.conn();
    for (cmd, null) in [
        ("BLPOP none 0.2", Resp::Array(None)),
        ("BLMOVE none d LEFT LEFT 0.2", Resp::Array(None)),
        ("BZPOPMIN none 0.2", Resp::Array(None)),
        ("BLMPOP 0.2 1 none LEFT", Resp::Array(None)),
    ] {
        let t = Instant::now();
        assert_eq!(c.run(cmd), null, "{cmd}");
        let took = t.elapsed();
        assert!(
            took >= Duration::from_millis(195) && took < Duration::from_millis(1500),
            "{cmd} took {took:?}"
        );
    }
    let mut admin = srv.conn();
    let mut w = blocked(&srv, &mut admin, "BLPOP forever 0", 0);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(info_field(&mut admin, "blocked_clients"), 1);
    admin.int("RPUSH forever v");
    assert_eq!(w.read(), pair("forever", "v"));
}

#[test]
fn a_disconnected_waiter_leaves_no_trace() {
    let srv = start();
    let mut admin = srv.conn();
    let w = blocked(&srv, &mut admin, "BLPOP gone 0", 0);
    drop(w);
    await_blocked(&mut admin, 0);
    assert_eq!(admin.int("RPUSH gone v"), 1);
    assert_eq!(admin.get("LPOP gone"), Some("v".into()));
    let list = admin.run("CLIENT LIST").as_str();
    assert_eq!(list.lines().count(), 1, "{list}");
}

#[test]
fn blmove_chains_wake_the_clients_blocked_on_its_destination() {
    let srv = start();
    let mut admin = srv.conn();
    let mut mover = blocked(&srv, &mut admin, "BLMOVE src mid RIGHT LEFT 0", 0);
    let mut mover2 = blocked(&srv, &mut admin, "BRPOPLPUSH mid dst 0", 1);
    let mut end = blocked(&srv, &mut admin, "BLPOP dst 0", 2);
    admin.int("LPUSH src job");
    assert_eq!(mover.read(), Resp::bulk("job"));
    assert_eq!(mover2.read(), Resp::bulk("job"));
    assert_eq!(end.read(), pair("dst", "job"));
    assert_eq!(admin.int("EXISTS src mid dst"), 0);
}

#[test]
fn sorted_set_pops_block_until_zadd() {
    let srv = start();
    let mut admin = srv.conn();
    let mut min = blocked(&srv, &mut admin, "BZPOPMIN z 0", 0);
    let mut max = blocked(&srv, &mut admin, "BZPOPMAX z 0", 1);
    let mut m = blocked(&srv, &mut admin, "BZMPOP 0 1 z MIN COUNT 10", 2);
    assert_eq!(admin.int("ZADD z 1 a 2 b 3 c 4 d"), 4);
    assert_eq!(min.read(), Resp::bulks(&["z", "a", "1"]));
    assert_eq!(max.read(), Resp::bulks(&["z", "d", "4"]));
    assert_eq!(
        m.read(),
        Resp::arr(vec![
            Resp::bulk("z"),
            Resp::arr(vec![Resp::bulks(&["b", "2"]), Resp::bulks(&["c", "3"])]),
        ])
    );
    assert_eq!(admin.int("EXISTS z"), 0);
}

#[test]
fn blmpop_takes_count_elements_and_resp3_gets_native_nulls() {
    let srv = start();
    let mut admin = srv.conn();
    let mut w = blocked(&srv, &mut admin, "BLMPOP 0 2 a b RIGHT COUNT 2", 0);
    admin.int("RPUSH b 1 2 3");
    assert_eq!(
        w.read(),
        Resp::arr(vec![Resp::bulk("b"), Resp::bulks(&["3", "2"])])
    );
    let mut c3 = srv.conn();
    c3.run("HELLO 3");
    assert_eq!(c3.run("BLPOP none 0.05"), Resp::Null);
    assert_eq!(c3.run("BZPOPMIN none 0.05"), Resp::Null);
}

#[test]
fn inside_multi_blocking_commands_do_not_block_and_exec_pushes_wake() {
    let srv = start();
    let mut admin = srv.conn();
    let mut c = srv.conn();
    c.ok("MULTI");
    c.run("BLPOP q 0");
    c.run("BLMOVE q d LEFT LEFT 0");
    assert_eq!(
        c.run("EXEC"),
        Resp::arr(vec![Resp::Array(None), Resp::Bulk(None)])
    );
    let mut w = blocked(&srv, &mut admin, "BLPOP q 0", 0);
    admin.ok("MULTI");
    admin.run("RPUSH q a");
    admin.run("RPUSH q b");
    admin.run("LLEN q");
    // Inside the transaction nobody is served yet: LLEN sees both.
    assert_eq!(
        admin.run("EXEC"),
        Resp::arr(vec![Resp::Int(1), Resp::Int(2), Resp::Int(2)])
    );
    assert_eq!(w.read(), pair("q", "a"));
    assert_eq!(admin.int("LLEN q"), 1);
}

#[test]
fn client_unblock_with_timeout_or_error() {
    let srv = start();
    let mut admin = srv.conn();
    let mut w = srv.conn();
    let id = w.int("CLIENT ID");
    w.send(&common::encode_str(&["BLPOP", "q", "0"]));
    await_blocked(&mut admin, 1);
    assert_eq!(admin.int(&format!("CLIENT UNBLOCK {id}")), 1);
    assert_eq!(w.read(), Resp::Array(None));
    assert_eq!(admin.int(&format!("CLIENT UNBLOCK {id}")), 0);
    w.send(&common::encode_str(&["BRPOPLPUSH", "q", "d", "0"]));
    await_blocked(&mut admin, 1);
    assert_eq!(admin.int(&format!("CLIENT UNBLOCK {id} ERROR")), 1);
    assert_eq!(
        w.read(),
        Resp::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
    );
    await_blocked(&mut admin, 0);
    // The unblocked client works normally afterwards.
    assert_eq!(w.run("PING"), Resp::simple("PONG"));
}

#[test]
fn commands_pipelined_behind_a_blocked_command_run_after_it() {
    let srv = start();
    let mut admin = srv.conn();
    let mut w = srv.conn();
    let mut batch = common::encode_str(&["BLPOP", "q", "0"]);
    batch.extend(common::encode_str(&["SET", "after", "1"]));
    batch.extend(common::encode_str(&["LLEN", "q"]));
    w.send(&batch);
    await_blocked(&mut admin, 1);
    assert_eq!(admin.get("GET after"), None);
    admin.int("RPUSH q a b");
    assert_eq!(w.read(), pair("q", "a"));
    assert_eq!(w.read(), Resp::ok());
    assert_eq!(w.read(), Resp::Int(1));
}

#[test]
fn wrong_type_keys_do_not_serve_and_the_client_stays_blocked() {
    let srv = start();
    let mut admin = srv.conn();
    let mut w = blocked(&srv, &mut admin, "BLPOP k 0", 0);
    admin.ok("SET k string");
    admin.int("DEL k");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(info_field(&mut admin, "blocked_clients"), 1);
    admin.int("RPUSH k v");
    assert_eq!(w.read(), pair("k", "v"));
}

#[test]
fn waiters_on_many_shards_keep_their_blocking_order() {
    let srv = start();
    let mut admin = srv.conn();
    // Each waiter blocks on its own key plus a shared one; keys spread over
    // shards. A single push on the shared key must go to the first waiter.
    let mut waiters: Vec<Conn> = (0..8)
        .map(|i| blocked(&srv, &mut admin, &format!("BLPOP own{i} shared 0"), i))
        .collect();
    admin.int("RPUSH shared a b c");
    for (i, w) in waiters.iter_mut().take(3).enumerate() {
        let v = ["a", "b", "c"][i];
        assert_eq!(w.read(), pair("shared", v), "waiter {i}");
    }
    await_blocked(&mut admin, 5);
    for i in (3..8).rev() {
        admin.int(&format!("RPUSH own{i} x{i}"));
        assert_eq!(
            waiters[i].read(),
            pair(&format!("own{i}"), &format!("x{i}"))
        );
    }
}

/// Producers and consumers over several queues for a bounded time: every
/// element is delivered exactly once.
#[test]
fn soak_every_element_delivered_exactly_once() {
    let srv = start();
    let queues = ["q0", "q1", "q2", "q3"];
    let producers = 4;
    let consumers = 6;
    let per_producer = 2000;
    let done = Arc::new(AtomicBool::new(false));
    let mut consumer_threads = Vec::new();
    for ci in 0..consumers {
        let mut c = srv.conn();
        let done = done.clone();
        consumer_threads.push(std::thread::spawn(move || {
            let mut got = Vec::new();
            loop {
                let mut args = vec!["BLPOP"];
                // Each consumer waits on all queues, in a rotated order.
                for k in 0..queues.len() {
                    args.push(queues[(ci + k) % queues.len()]);
                }
                args.push("0.1");
                match c.cmd(&args) {
                    Resp::Array(Some(v)) => got.push(v[1].as_str()),
                    Resp::Array(None) if done.load(Ordering::SeqCst) => return got,
                    Resp::Array(None) => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
        }));
    }
    let mut producer_threads = Vec::new();
    for p in 0..producers {
        let mut c = srv.conn();
        producer_threads.push(std::thread::spawn(move || {
            for i in 0..per_producer {
                let q = queues[(p + i) % queues.len()];
                let item = format!("{p}:{i}");
                let push = if i % 2 == 0 { "RPUSH" } else { "LPUSH" };
                c.cmd(&[push, q, &item]);
            }
        }));
    }
    for t in producer_threads {
        t.join().expect("producer");
    }
    let mut admin = srv.conn();
    assert!(wait_until(Duration::from_secs(30), || {
        queues.iter().all(|q| admin.int(&format!("LLEN {q}")) == 0)
    }));
    done.store(true, Ordering::SeqCst);
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in consumer_threads {
        for item in t.join().expect("consumer") {
            total += 1;
            assert!(seen.insert(item.clone()), "{item} delivered twice");
        }
    }
    assert_eq!(total, producers * per_producer);
    await_blocked(&mut admin, 0);
}
