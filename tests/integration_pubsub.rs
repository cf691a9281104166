//! Pub/sub with several real connections: fan-out, pattern and channel
//! subscriptions, delivery order, cleanup on disconnect, slow subscribers
//! hitting client-output-buffer-limit, and keyspace notifications. Run
//! against a real Redis with `RUSSET_IT_REFERENCE=/usr/bin/redis-server` to
//! check the expectations.

mod common;

use common::{encode_str, is_closed, start, start_with, wait_until, Conn, Resp};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

fn numsub(c: &mut Conn, channel: &str) -> i64 {
    c.cmd(&["PUBSUB", "NUMSUB", channel]).as_array()[1].as_int()
}

fn message(channel: &str, payload: &str) -> Resp {
    Resp::bulks(&["message", channel, payload])
}

/// A raw connection subscribed to `channels`, confirmations read.
fn subscriber(srv: &common::Server, cmd: &str, channels: &[&str]) -> Conn {
    let mut c = srv.conn();
    let mut args = vec![cmd];
    args.extend_from_slice(channels);
    c.send(&encode_str(&args));
    for _ in channels {
        assert_eq!(c.read().as_array()[0].as_str(), cmd.to_lowercase());
    }
    c
}

#[test]
fn every_subscriber_gets_each_message() {
    let srv = start();
    let mut subs: Vec<Conn> = (0..3)
        .map(|_| subscriber(&srv, "SUBSCRIBE", &["news"]))
        .collect();
    let mut other = subscriber(&srv, "SUBSCRIBE", &["sports"]);
    let mut p = srv.conn();
    assert_eq!(p.int("PUBLISH news hello"), 3);
    assert_eq!(p.int("PUBLISH sports goal"), 1);
    assert_eq!(p.int("PUBLISH weather rain"), 0);
    for s in &mut subs {
        assert_eq!(s.read(), message("news", "hello"));
    }
    assert_eq!(other.read(), message("sports", "goal"));
    assert_eq!(numsub(&mut p, "news"), 3);
    let mut channels = p.run("PUBSUB CHANNELS").as_strings();
    channels.sort();
    assert_eq!(channels, ["news", "sports"]);
}

#[test]
fn channel_and_pattern_both_matching_deliver_twice() {
    let srv = start();
    let mut s = subscriber(&srv, "SUBSCRIBE", &["news.tech"]);
    s.send(&encode_str(&["PSUBSCRIBE", "news.*"]));
    assert_eq!(
        s.read(),
        Resp::arr(vec![
            Resp::bulk("psubscribe"),
            Resp::bulk("news.*"),
            Resp::Int(2)
        ])
    );
    let mut p = srv.conn();
    assert_eq!(p.int("PUBLISH news.tech rust"), 2);
    assert_eq!(s.read(), message("news.tech", "rust"));
    assert_eq!(
        s.read(),
        Resp::bulks(&["pmessage", "news.*", "news.tech", "rust"])
    );
    assert_eq!(p.int("PUBLISH news.art paint"), 1);
    assert_eq!(
        s.read(),
        Resp::bulks(&["pmessage", "news.*", "news.art", "paint"])
    );
    assert_eq!(p.int("PUBSUB NUMPAT"), 1);
}

#[test]
fn messages_arrive_in_publish_order() {
    let srv = start();
    let mut con = srv.client().get_connection().unwrap();
    let mut ps = con.as_pubsub();
    ps.subscribe("seq").unwrap();
    ps.psubscribe("s*").unwrap();
    ps.set_read_timeout(Some(WAIT)).unwrap();
    const N: usize = 5000;
    // Two publishers at once: each one's messages keep their order.
    let publishers: Vec<_> = ["a", "b"]
        .iter()
        .map(|tag| {
            let mut c = srv.con();
            let tag = tag.to_string();
            std::thread::spawn(move || {
                let mut pipe = redis::pipe();
                for i in 0..N {
                    pipe.cmd("PUBLISH").arg("seq").arg(format!("{tag}{i}"));
                }
                let counts: Vec<i64> = pipe.query(&mut c).unwrap();
                assert!(counts.iter().all(|&n| n == 2));
            })
        })
        .collect();
    let mut next = [0usize; 2];
    let mut next_pattern = [0usize; 2];
    for _ in 0..4 * N {
        let msg = ps.get_message().unwrap();
        let payload: String = msg.get_payload().unwrap();
        let (tag, i) = payload.split_at(1);
        let slot = if tag == "a" { 0 } else { 1 };
        let counter = if msg.from_pattern() {
            &mut next_pattern[slot]
        } else {
            &mut next[slot]
        };
        assert_eq!(i.parse::<usize>().unwrap(), *counter, "{payload}");
        *counter += 1;
    }
    for p in publishers {
        p.join().unwrap();
    }
    assert_eq!(next, [N, N]);
    assert_eq!(next_pattern, [N, N]);
}

#[test]
fn disconnect_and_reset_remove_subscriptions() {
    let srv = start();
    let mut admin = srv.conn();
    let s1 = subscriber(&srv, "SUBSCRIBE", &["a", "b"]);
    let mut s2 = subscriber(&srv, "SUBSCRIBE", &["a"]);
    let s3 = subscriber(&srv, "PSUBSCRIBE", &["a*", "b*"]);
    assert_eq!(numsub(&mut admin, "a"), 2);
    assert_eq!(admin.int("PUBSUB NUMPAT"), 2);
    let list = admin.run("CLIENT LIST TYPE pubsub").as_str();
    assert_eq!(list.lines().count(), 3);
    assert!(list.contains("flags=P db=0 sub=2 psub=0"), "{list}");
    assert!(list.contains("sub=0 psub=2"), "{list}");
    // Only the admin connection is normal (the readiness probe may linger).
    assert!(wait_until(WAIT, || admin
        .run("CLIENT LIST TYPE normal")
        .as_str()
        .lines()
        .count()
        == 1));
    drop(s1);
    drop(s3);
    assert!(wait_until(WAIT, || numsub(&mut admin, "a") == 1
        && admin.int("PUBSUB NUMPAT") == 0));
    assert_eq!(numsub(&mut admin, "b"), 0);
    assert_eq!(admin.int("PUBLISH a x"), 1);
    assert_eq!(s2.read(), message("a", "x"));
    assert_eq!(s2.run("RESET"), Resp::simple("RESET"));
    assert_eq!(numsub(&mut admin, "a"), 0);
    assert_eq!(admin.int("PUBLISH a x"), 0);
    assert_eq!(s2.run("PING"), Resp::simple("PONG"));
    assert_eq!(admin.int("CLIENT KILL TYPE pubsub"), 0);
    let _s4 = subscriber(&srv, "SUBSCRIBE", &["c"]);
    assert_eq!(admin.int("CLIENT KILL TYPE pubsub"), 1);
    assert!(wait_until(WAIT, || numsub(&mut admin, "c") == 0));
}

#[test]
fn resp3_subscriber_runs_commands_and_gets_pushes() {
    let srv = start();
    let mut s = srv.conn();
    assert!(matches!(s.run("HELLO 3"), Resp::Map(_)));
    assert_eq!(
        s.run("SUBSCRIBE ch"),
        Resp::Push(vec![
            Resp::bulk("subscribe"),
            Resp::bulk("ch"),
            Resp::Int(1)
        ])
    );
    s.ok("SET k v");
    let mut p = srv.conn();
    assert_eq!(p.int("PUBLISH ch m1"), 1);
    assert_eq!(
        s.read(),
        Resp::Push(vec![
            Resp::bulk("message"),
            Resp::bulk("ch"),
            Resp::bulk("m1")
        ])
    );
    assert_eq!(s.run("GET k"), Resp::bulk("v"));
    // A message published before the command is delivered before its reply.
    assert_eq!(p.int("PUBLISH ch m2"), 1);
    s.send(&encode_str(&["GET", "k"]));
    assert!(matches!(s.read(), Resp::Push(m) if m.len() == 3));
    assert_eq!(s.read(), Resp::bulk("v"));
    // Blocked in BLPOP, the subscriber still gets its messages.
    s.send(&encode_str(&["BLPOP", "q", "0"]));
    assert!(wait_until(WAIT, || p
        .run("INFO clients")
        .as_str()
        .contains("blocked_clients:1")));
    assert_eq!(p.int("PUBLISH ch m3"), 1);
    assert_eq!(
        s.read(),
        Resp::Push(vec![
            Resp::bulk("message"),
            Resp::bulk("ch"),
            Resp::bulk("m3")
        ])
    );
    assert_eq!(p.int("RPUSH q x"), 1);
    assert_eq!(s.read(), Resp::arr(vec![Resp::bulk("q"), Resp::bulk("x")]));
}

/// A subscriber that never reads is disconnected once what it has pending
/// passes the hard limit, instead of growing the server's memory.
#[test]
fn slow_subscriber_hits_hard_limit() {
    let srv = start_with(&[("client-output-buffer-limit", &["pubsub", "1mb", "0", "0"])]);
    let mut slow = subscriber(&srv, "SUBSCRIBE", &["flood"]);
    let mut reader = subscriber(&srv, "SUBSCRIBE", &["other"]);
    let mut p = srv.conn();
    let payload = "x".repeat(64 * 1024);
    let mut published = 0;
    while numsub(&mut p, "flood") > 0 {
        assert!(
            published < 2000,
            "the slow subscriber was never disconnected"
        );
        p.cmd(&["PUBLISH", "flood", &payload]);
        published += 1;
    }
    // The kernel's socket buffers take a few MB before the server queues.
    assert!(published > 16, "{published}");
    assert!(is_closed(&mut slow.stream, WAIT));
    // Other subscribers are unaffected.
    assert_eq!(p.int("PUBLISH other hi"), 1);
    assert_eq!(reader.read(), message("other", "hi"));
}

/// Over the soft limit for longer than its seconds also disconnects.
#[test]
fn slow_subscriber_hits_soft_limit() {
    let srv = start();
    let mut p = srv.conn();
    assert_eq!(
        p.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 0 512kb 1"
        ]),
        Resp::ok()
    );
    let mut slow = subscriber(&srv, "SUBSCRIBE", &["flood"]);
    let payload = "x".repeat(64 * 1024);
    let mut published = 0;
    while numsub(&mut p, "flood") > 0 {
        assert!(
            published < 2000,
            "the slow subscriber was never disconnected"
        );
        p.cmd(&["PUBLISH", "flood", &payload]);
        published += 1;
        if published > 400 {
            // Well over the soft limit by now: only time is missing.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    assert!(is_closed(&mut slow.stream, WAIT));
}

fn config_round_trip(c: &mut Conn, set: &str, get: &str) {
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", set]);
    assert_eq!(
        c.run("CONFIG GET notify-keyspace-events").as_strings()[1],
        get,
        "{set}"
    );
}

#[test]
fn notify_keyspace_events_config_formats_like_redis() {
    let srv = start();
    let mut c = srv.conn();
    for (set, get) in [
        ("KEA", "AKE"),
        ("Kg", "gK"),
        ("An", "A"),
        ("n", "n"),
        ("KEAmn", "AKEm"),
        ("g$lshzxetd", "A"),
        ("KEl$", "$lKE"),
        ("", ""),
    ] {
        config_round_trip(&mut c, set, get);
    }
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "q"]).error_text(),
        "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
    );
}

/// Reads keyevent notifications as (event, key) until `n` have arrived.
fn events(s: &mut Conn, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|_| {
            let m = s.read().as_strings();
            assert_eq!(m[0], "pmessage", "{m:?}");
            let event = m[2].rsplit_once("__:").unwrap().1.to_string();
            (event, m[3].clone())
        })
        .collect()
}

fn ev(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(e, k)| (e.to_string(), k.to_string()))
        .collect()
}

#[test]
fn keyspace_notifications_for_writes_and_expiry() {
    let srv = start();
    let mut c = srv.conn();
    // Off by default: nothing is published.
    let mut s = subscriber(&srv, "PSUBSCRIBE", &["__keyevent@*__:*"]);
    c.ok("SET quiet v");
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Eg$lx"]);
    c.ok("SET k v");
    c.run("SET k2 v EX 100");
    assert_eq!(c.int("DEL k k2 missing"), 2);
    c.ok("SET e v");
    assert_eq!(c.int("EXPIRE e 100"), 1);
    assert_eq!(c.int("PERSIST e"), 1);
    assert_eq!(c.int("LPUSH l a b"), 2);
    assert_eq!(c.run("RPOP l 2").as_strings(), ["a", "b"]);
    // Hash events are not enabled ('h' missing).
    assert_eq!(c.int("HSET h f v"), 1);
    c.ok("SET lazy v PX 1");
    c.ok("SET active v PX 1");
    assert_eq!(
        events(&mut s, 12),
        ev(&[
            ("set", "k"),
            ("set", "k2"),
            ("expire", "k2"),
            ("del", "k"),
            ("del", "k2"),
            ("set", "e"),
            ("expire", "e"),
            ("persist", "e"),
            ("lpush", "l"),
            ("rpop", "l"),
            ("del", "l"),
            ("set", "lazy"),
        ])
    );
    // The two expire one way or another (read access or the active cycle),
    // so those events may come in either order.
    std::thread::sleep(Duration::from_millis(20));
    c.run("GET lazy");
    let mut rest = events(&mut s, 5);
    rest.sort();
    assert_eq!(
        rest,
        ev(&[
            ("expire", "active"),
            ("expire", "lazy"),
            ("expired", "active"),
            ("expired", "lazy"),
            ("set", "active"),
        ])
    );
}

#[test]
fn keyspace_channel_carries_the_event_name() {
    let srv = start();
    let mut c = srv.conn();
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KA"]);
    let mut s = subscriber(&srv, "SUBSCRIBE", &["__keyspace@0__:key"]);
    c.run("SELECT 1");
    c.ok("SET key v");
    c.run("SELECT 0");
    assert_eq!(c.int("LPUSH key x"), 1);
    assert_eq!(s.read(), message("__keyspace@0__:key", "lpush"));
    c.ok("CONFIG SET notify-keyspace-events KEA");
    assert_eq!(c.int("DEL key"), 1);
    assert_eq!(s.read(), message("__keyspace@0__:key", "del"));
}

#[test]
fn hyperloglog_writes_notify_pfadd() {
    let srv = start();
    let mut c = srv.conn();
    let mut s = subscriber(&srv, "PSUBSCRIBE", &["__keyevent@*__:*"]);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "E$"]);
    assert_eq!(c.int("PFADD h1 a b"), 1);
    // No register changed: no event, as in Redis.
    assert_eq!(c.int("PFADD h1 a"), 0);
    assert_eq!(c.int("PFADD h2 c"), 1);
    c.ok("PFMERGE h3 h1 h2");
    c.ok("SET last v");
    assert_eq!(
        events(&mut s, 4),
        ev(&[
            ("pfadd", "h1"),
            ("pfadd", "h2"),
            ("pfadd", "h3"),
            ("set", "last")
        ])
    );
}

#[test]
fn bitmap_writes_notify_like_redis() {
    let srv = start();
    let mut c = srv.conn();
    let mut s = subscriber(&srv, "PSUBSCRIBE", &["__keyevent@*__:*"]);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "E$g"]);
    assert_eq!(c.int("SETBIT b 7 1"), 0);
    // The bit is already set: nothing changed, nothing announced.
    assert_eq!(c.int("SETBIT b 7 1"), 1);
    assert_eq!(c.int("BITOP NOT n b"), 1);
    // An empty result deletes the destination.
    assert_eq!(c.int("BITOP AND n missing"), 0);
    c.run("BITFIELD b SET u8 0 255");
    c.ok("SET last v");
    assert_eq!(
        events(&mut s, 5),
        ev(&[
            ("setbit", "b"),
            ("set", "n"),
            ("del", "n"),
            ("setbit", "b"),
            ("set", "last")
        ])
    );
}

#[test]
fn store_forms_notify_their_event_or_del() {
    let srv = start();
    let mut c = srv.conn();
    let mut s = subscriber(&srv, "PSUBSCRIBE", &["__keyevent@*__:*"]);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Eglz$"]);
    assert_eq!(c.int("RPUSH l 3 1 2"), 3);
    assert_eq!(c.int("SORT l STORE sorted"), 3);
    assert_eq!(c.int("SORT missing STORE sorted"), 0);
    assert_eq!(c.int("GEOADD g 13.361389 38.115556 Palermo"), 1);
    c.run("GEOSEARCHSTORE near g FROMLONLAT 13.36 38.11 BYRADIUS 10 km");
    c.run("GEORADIUS g 13.36 38.11 10 km STORE near2");
    c.run("GEOSEARCHSTORE near nokey FROMLONLAT 0 0 BYRADIUS 1 km");
    c.ok("SET last v");
    assert_eq!(
        events(&mut s, 8),
        ev(&[
            ("rpush", "l"),
            ("sortstore", "sorted"),
            ("del", "sorted"),
            ("zadd", "g"),
            ("geosearchstore", "near"),
            ("georadiusstore", "near2"),
            ("del", "near"),
            ("set", "last"),
        ])
    );
}

fn shardnumsub(c: &mut Conn, channel: &str) -> i64 {
    c.cmd(&["PUBSUB", "SHARDNUMSUB", channel]).as_array()[1].as_int()
}

#[test]
fn shard_channels_are_their_own_namespace() {
    let srv = start();
    let mut shard = subscriber(&srv, "SSUBSCRIBE", &["orders", "users"]);
    let mut plain = subscriber(&srv, "SUBSCRIBE", &["orders"]);
    let mut pattern = subscriber(&srv, "PSUBSCRIBE", &["*"]);
    let mut p = srv.conn();
    assert_eq!(p.int("SPUBLISH orders o1"), 1);
    assert_eq!(shard.read(), Resp::bulks(&["smessage", "orders", "o1"]));
    assert_eq!(p.int("PUBLISH orders o2"), 2);
    assert_eq!(plain.read(), message("orders", "o2"));
    assert_eq!(
        pattern.read(),
        Resp::bulks(&["pmessage", "*", "orders", "o2"])
    );
    assert_eq!(p.int("SPUBLISH users u1"), 1);
    // Shard messages arrive in publish order, and nothing leaked to the
    // plain subscribers: their next message is the next PUBLISH.
    assert_eq!(shard.read(), Resp::bulks(&["smessage", "users", "u1"]));
    assert_eq!(p.int("PUBLISH orders o3"), 2);
    assert_eq!(plain.read(), message("orders", "o3"));
    assert_eq!(shardnumsub(&mut p, "orders"), 1);
    assert_eq!(numsub(&mut p, "orders"), 1);
    let mut names = p.run("PUBSUB SHARDCHANNELS").as_strings();
    names.sort();
    assert_eq!(names, ["orders", "users"]);
    assert_eq!(p.run("PUBSUB CHANNELS").as_strings(), ["orders"]);
    let info = String::from_utf8(p.run("INFO stats").as_bytes()).unwrap();
    assert!(info.contains("pubsubshard_channels:2\r\n"), "{info}");
    let list = String::from_utf8(p.run("CLIENT LIST").as_bytes()).unwrap();
    assert!(list.contains("sub=0 psub=0 ssub=2 "), "{list}");
    // Disconnecting drops the shard subscriptions too.
    drop(shard);
    assert!(wait_until(WAIT, || shardnumsub(&mut p, "orders") == 0));
    assert_eq!(p.run("PUBSUB SHARDCHANNELS").as_strings().len(), 0);
}

#[test]
fn slow_shard_subscriber_hits_hard_limit() {
    let srv = start_with(&[("client-output-buffer-limit", &["pubsub", "1mb", "0", "0"])]);
    let mut slow = subscriber(&srv, "SSUBSCRIBE", &["flood"]);
    let mut p = srv.conn();
    let payload = "x".repeat(64 * 1024);
    let mut published = 0;
    while shardnumsub(&mut p, "flood") > 0 {
        assert!(
            published < 2000,
            "the slow subscriber was never disconnected"
        );
        p.cmd(&["SPUBLISH", "flood", &payload]);
        published += 1;
    }
    assert!(published > 16, "{published}");
    assert!(is_closed(&mut slow.stream, WAIT));
}
