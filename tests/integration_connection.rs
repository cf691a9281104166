//! Connection-level commands: PING, ECHO, SELECT, QUIT, RESET, HELLO, AUTH,
//! CLIENT *, maxclients and idle timeout.

mod common;

use common::*;
use std::time::{Duration, Instant};

fn map_get<'a>(m: &'a Resp, key: &str) -> &'a Resp {
    match m {
        Resp::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no {key} in {m:?}")),
        Resp::Array(Some(items)) => items
            .chunks(2)
            .find(|kv| kv[0].as_str() == key)
            .map(|kv| &kv[1])
            .unwrap_or_else(|| panic!("no {key} in {m:?}")),
        other => panic!("expected a map, got {other:?}"),
    }
}

/// Parses a CLIENT LIST / CLIENT INFO line into (field, value) pairs.
fn client_fields(line: &str) -> Vec<(String, String)> {
    line.split(' ')
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

fn field(line: &str, name: &str) -> String {
    client_fields(line)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}

#[test]
fn ping_echo() {
    let s = start();
    let mut c = s.conn();
    assert_eq!(c.run("PING"), Resp::simple("PONG"));
    assert_eq!(c.run("PING hello"), Resp::bulk("hello"));
    assert_eq!(c.cmd(&["PING", ""]), Resp::bulk(""));
    assert_eq!(
        c.err("PING a b"),
        "ERR wrong number of arguments for 'ping' command"
    );
    assert_eq!(c.cmd(&["ECHO", "hello world"]), Resp::bulk("hello world"));
    assert_eq!(
        c.cmd_bytes(&[b"ECHO", b"\x00\r\n\xff"]),
        Resp::bulk(b"\x00\r\n\xff")
    );
    assert_eq!(
        c.err("ECHO"),
        "ERR wrong number of arguments for 'echo' command"
    );
    assert_eq!(
        c.err("ECHO a b"),
        "ERR wrong number of arguments for 'echo' command"
    );
    // Case-insensitive command names.
    assert_eq!(c.run("pInG"), Resp::simple("PONG"));
    // Raw check of the exact bytes.
    assert_eq!(
        send_raw(&mut c.stream, b"*1\r\n$4\r\nPING\r\n"),
        b"+PONG\r\n"
    );
}

#[test]
fn select_isolates_databases() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET k db0");
    c.ok("SELECT 15");
    assert_eq!(c.get("GET k"), None);
    c.ok("SET k db15");
    c.ok("SELECT 0");
    assert_eq!(c.get("GET k").as_deref(), Some("db0"));
    assert_eq!(c.err("SELECT 16"), "ERR DB index is out of range");
    assert_eq!(c.err("SELECT -1"), "ERR DB index is out of range");
    assert_eq!(
        c.err("SELECT abc"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        c.err("SELECT"),
        "ERR wrong number of arguments for 'select' command"
    );
    // A failed SELECT keeps the current DB.
    assert_eq!(c.get("GET k").as_deref(), Some("db0"));
    // Each connection has its own selected DB.
    let mut other = s.conn();
    other.ok("SELECT 15");
    assert_eq!(other.get("GET k").as_deref(), Some("db15"));
    assert_eq!(c.get("GET k").as_deref(), Some("db0"));
    // `databases` config limits the range.
    let s4 = start_with(&[("databases", &["4"])]);
    let mut c4 = s4.conn();
    c4.ok("SELECT 3");
    assert_eq!(c4.err("SELECT 4"), "ERR DB index is out of range");
}

#[test]
fn quit_closes_connection() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET k v");
    assert_eq!(c.run("QUIT"), Resp::ok());
    assert!(
        c.closed_within(Duration::from_secs(3)),
        "connection still open after QUIT"
    );
    // Commands pipelined after QUIT are not executed.
    let mut c2 = s.conn();
    c2.send(&[encode_str(&["QUIT"]), encode_str(&["SET", "after", "quit"])].concat());
    assert_eq!(c2.read(), Resp::ok());
    assert!(c2.closed_within(Duration::from_secs(3)));
    let mut c3 = s.conn();
    assert_eq!(c3.get("GET after"), None);
    assert_eq!(c3.get("GET k").as_deref(), Some("v"));
}

#[test]
fn reset_restores_defaults() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET k v");
    let id = c.int("CLIENT ID");
    c.ok("SELECT 2");
    c.ok("CLIENT SETNAME myname");
    assert!(matches!(c.run("HELLO 3"), Resp::Map(_)));
    assert_eq!(c.run("GET missing"), Resp::Null);
    assert_eq!(c.run("RESET"), Resp::simple("RESET"));
    // Back to RESP2, db 0, no name; same client id.
    assert_eq!(
        send_raw(&mut c.stream, &encode_str(&["GET", "missing"])),
        b"$-1\r\n"
    );
    assert_eq!(c.get("GET k").as_deref(), Some("v"));
    assert_eq!(c.get("CLIENT GETNAME"), None);
    assert_eq!(c.int("CLIENT ID"), id);
    // CLIENT REPLY is reset too.
    c.send(&encode_str(&["CLIENT", "REPLY", "OFF"]));
    assert_eq!(c.run("RESET"), Resp::simple("RESET"));
    assert_eq!(c.run("PING"), Resp::simple("PONG"));
}

#[test]
fn hello_versions() {
    let s = start();
    let mut c = s.conn();
    let id = c.int("CLIENT ID");
    let h = c.run("HELLO 3");
    assert!(
        matches!(h, Resp::Map(_)),
        "HELLO 3 must reply with a RESP3 map, got {h:?}"
    );
    assert_eq!(map_get(&h, "server").as_str(), "redis");
    assert_eq!(map_get(&h, "version").as_str(), "7.0.15");
    assert_eq!(map_get(&h, "proto"), &Resp::Int(3));
    assert_eq!(map_get(&h, "id"), &Resp::Int(id));
    assert_eq!(map_get(&h, "mode").as_str(), "standalone");
    assert_eq!(map_get(&h, "role").as_str(), "master");
    assert_eq!(map_get(&h, "modules"), &Resp::Array(Some(vec![])));
    // HELLO without a version keeps the current protocol.
    let h = c.run("HELLO");
    assert_eq!(map_get(&h, "proto"), &Resp::Int(3));
    // HELLO 2 switches back to an array reply.
    let h = c.run("HELLO 2");
    assert!(
        matches!(h, Resp::Array(Some(_))),
        "HELLO 2 must reply with a flat array, got {h:?}"
    );
    assert_eq!(map_get(&h, "proto"), &Resp::Int(2));
    assert_eq!(map_get(&h, "version").as_str(), "7.0.15");
    assert_eq!(c.err("HELLO 4"), "NOPROTO unsupported protocol version");
    assert_eq!(c.err("HELLO 1"), "NOPROTO unsupported protocol version");
    assert_eq!(
        c.err("HELLO abc"),
        "ERR Protocol version is not an integer or out of range"
    );
    // Still RESP2 after the failed HELLO.
    assert_eq!(
        send_raw(&mut c.stream, &encode_str(&["GET", "missing"])),
        b"$-1\r\n"
    );
    // SETNAME option.
    let h = c.run("HELLO 3 SETNAME viahello");
    assert_eq!(map_get(&h, "proto"), &Resp::Int(3));
    assert_eq!(c.get("CLIENT GETNAME").as_deref(), Some("viahello"));
    assert!(c
        .err("HELLO 3 FOO")
        .starts_with("ERR Syntax error in HELLO option 'FOO'"));
}

#[test]
fn auth_with_requirepass() {
    let s = start_with(&[("requirepass", &["secret"])]);
    let mut c = s.conn();
    assert_eq!(c.err("GET a"), "NOAUTH Authentication required.");
    assert_eq!(c.err("SET a b"), "NOAUTH Authentication required.");
    assert_eq!(c.err("PING"), "NOAUTH Authentication required.");
    assert_eq!(
        c.err("AUTH wrong"),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(
        c.err("AUTH default wrong"),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(
        c.err("AUTH nobody secret"),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(c.err("GET a"), "NOAUTH Authentication required.");
    assert!(c
        .err("HELLO 3")
        .starts_with("NOAUTH HELLO must be called with the client already authenticated"));
    c.ok("AUTH secret");
    c.ok("SET a b");
    assert_eq!(c.get("GET a").as_deref(), Some("b"));
    // AUTH default <pass> works as well.
    let mut c2 = s.conn();
    c2.ok("AUTH default secret");
    assert_eq!(c2.get("GET a").as_deref(), Some("b"));
    // HELLO 3 AUTH authenticates and switches protocol in one go.
    let mut c3 = s.conn();
    assert_eq!(
        c3.err("HELLO 3 AUTH default wrong"),
        "WRONGPASS invalid username-password pair or user is disabled."
    );
    assert_eq!(c3.err("GET a"), "NOAUTH Authentication required.");
    let h = c3.run("HELLO 3 AUTH default secret");
    assert_eq!(map_get(&h, "proto"), &Resp::Int(3));
    assert_eq!(c3.get("GET a").as_deref(), Some("b"));
    assert_eq!(c3.run("GET missing"), Resp::Null);
    // The redis crate with a password in the URL.
    let client = redis::Client::open(format!("redis://:secret@{}/", s.addr)).unwrap();
    let mut con = client.get_connection().unwrap();
    let v: String = redis::cmd("GET").arg("a").query(&mut con).unwrap();
    assert_eq!(v, "b");
    // Without requirepass AUTH is an error.
    let s2 = start();
    let mut d = s2.conn();
    assert_eq!(
        d.err("AUTH foo"),
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
    );
    // The default user is `nopass`: any password is accepted.
    d.ok("AUTH default foo");
}

#[test]
fn client_id_name_list_info() {
    let s = start();
    let mut a = s.conn();
    let mut b = s.conn();
    let ida = a.int("CLIENT ID");
    let idb = b.int("CLIENT ID");
    assert_ne!(ida, idb);
    assert_eq!(a.get("CLIENT GETNAME"), None);
    a.ok("CLIENT SETNAME alpha");
    assert_eq!(a.get("CLIENT GETNAME").as_deref(), Some("alpha"));
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "has space"]),
        Resp::err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "nl\n"]),
        Resp::err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(a.get("CLIENT GETNAME").as_deref(), Some("alpha"));
    b.ok("SELECT 3");
    let list = a.run("CLIENT LIST").as_str();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    let la = lines
        .iter()
        .find(|l| field(l, "id") == ida.to_string())
        .expect("client a listed");
    let lb = lines
        .iter()
        .find(|l| field(l, "id") == idb.to_string())
        .expect("client b listed");
    assert_eq!(field(la, "name"), "alpha");
    assert_eq!(field(lb, "name"), "");
    assert_eq!(field(lb, "db"), "3");
    assert_eq!(field(la, "cmd"), "client|list");
    assert_eq!(
        field(la, "addr"),
        a.stream.local_addr().unwrap().to_string()
    );
    assert_eq!(field(la, "laddr"), s.addr.to_string());
    assert_eq!(field(la, "resp"), "2");
    // Field order matches Redis.
    let names: Vec<String> = client_fields(la).into_iter().map(|(k, _)| k).collect();
    assert_eq!(&names[..6], ["id", "addr", "laddr", "fd", "name", "age"]);
    // CLIENT LIST ID filter.
    let only = a.run(&format!("CLIENT LIST ID {idb}")).as_str();
    assert_eq!(only.lines().count(), 1);
    assert_eq!(field(only.lines().next().unwrap(), "id"), idb.to_string());
    // CLIENT INFO describes the calling connection only.
    let info = b.run("CLIENT INFO").as_str();
    assert_eq!(info.lines().count(), 1);
    assert_eq!(field(&info, "id"), idb.to_string());
    assert_eq!(field(&info, "cmd"), "client|info");
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", ""]), Resp::ok());
    assert_eq!(a.get("CLIENT GETNAME"), None, "empty name clears it");
    assert!(a
        .err("CLIENT FOO")
        .starts_with("ERR unknown subcommand 'FOO'"));
}

#[test]
fn client_ids_increase_in_connection_order() {
    // Redis documents: "if the ID of connection B is greater than connection
    // A, B was established later". Connect one after another, then ask.
    let s = start();
    let mut conns: Vec<Conn> = Vec::new();
    for _ in 0..6 {
        conns.push(s.conn());
    }
    let ids: Vec<i64> = conns.iter_mut().map(|c| c.int("CLIENT ID")).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        ids, sorted,
        "ids in connection order must be strictly increasing"
    );
}

#[test]
fn client_setinfo() {
    // Not in Redis 7.0.15 (added in 7.2), but russet accepts it and shows the
    // values in CLIENT INFO; the redis crate sends it on connect.
    let s = start();
    if s.is_reference() {
        return;
    }
    let mut c = s.conn();
    c.ok("CLIENT SETINFO lib-name mylib");
    c.ok("CLIENT SETINFO lib-ver 1.2.3");
    let info = c.run("CLIENT INFO").as_str();
    assert!(info.ends_with('\n'));
    let info = info.trim_end();
    assert_eq!(field(info, "lib-name"), "mylib");
    assert_eq!(field(info, "lib-ver"), "1.2.3");
    assert_eq!(
        c.err("CLIENT SETINFO foo 1"),
        "ERR Unrecognized option 'foo'"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-name", "a b"]),
        Resp::err("ERR lib-name cannot contain spaces, newlines or special characters.")
    );
}

#[test]
fn client_kill() {
    let s = start();
    let mut victim = s.conn();
    let mut killer = s.conn();
    let vid = victim.int("CLIENT ID");
    assert_eq!(killer.int(&format!("CLIENT KILL ID {vid}")), 1);
    assert!(
        victim.closed_within(Duration::from_secs(3)),
        "killed client should see EOF"
    );
    assert_eq!(killer.int(&format!("CLIENT KILL ID {vid}")), 0);
    assert_eq!(killer.int("CLIENT KILL ID 999999"), 0);
    // Old-style CLIENT KILL addr:port.
    let mut v2 = s.conn();
    v2.ok("SET x 1");
    let addr = v2.stream.local_addr().unwrap().to_string();
    assert_eq!(killer.run(&format!("CLIENT KILL {addr}")), Resp::ok());
    assert!(v2.closed_within(Duration::from_secs(3)));
    assert_eq!(killer.err("CLIENT KILL 1.2.3.4:5"), "ERR No such client");
    // New-style ADDR filter and SKIPME.
    let mut v3 = s.conn();
    v3.ok("SET y 1");
    let addr3 = v3.stream.local_addr().unwrap().to_string();
    assert_eq!(killer.int(&format!("CLIENT KILL ADDR {addr3}")), 1);
    assert!(v3.closed_within(Duration::from_secs(3)));
    let kid = killer.int("CLIENT ID");
    assert_eq!(killer.int(&format!("CLIENT KILL ID {kid} SKIPME yes")), 0);
    assert_eq!(
        killer.err("CLIENT KILL ID abc"),
        "ERR client-id should be greater than 0"
    );
    // The killer still works; killing yourself closes after the reply.
    assert_eq!(killer.run("PING"), Resp::simple("PONG"));
    assert_eq!(killer.int(&format!("CLIENT KILL ID {kid} SKIPME no")), 1);
    assert!(killer.closed_within(Duration::from_secs(3)));
    let mut c = s.conn();
    assert_eq!(c.get("GET x").as_deref(), Some("1"));
}

#[test]
fn client_reply_off_on_skip() {
    let s = start();
    let mut c = s.conn();
    let mut pipe = Vec::new();
    pipe.extend(encode_str(&["CLIENT", "REPLY", "OFF"]));
    pipe.extend(encode_str(&["SET", "a", "1"]));
    pipe.extend(encode_str(&["GET", "a"]));
    pipe.extend(encode_str(&["NOSUCHCMD"]));
    pipe.extend(encode_str(&["CLIENT", "REPLY", "ON"]));
    pipe.extend(encode_str(&["GET", "a"]));
    c.send(&pipe);
    assert_eq!(c.read(), Resp::ok(), "first reply is from CLIENT REPLY ON");
    assert_eq!(c.read(), Resp::bulk("1"));
    let mut pipe = Vec::new();
    pipe.extend(encode_str(&["CLIENT", "REPLY", "SKIP"]));
    pipe.extend(encode_str(&["INCR", "n"]));
    pipe.extend(encode_str(&["INCR", "n"]));
    c.send(&pipe);
    assert_eq!(c.read(), Resp::Int(2), "only the second INCR replies");
    // Nothing else is pending.
    assert_eq!(c.run("PING"), Resp::simple("PONG"));
    assert_eq!(c.err("CLIENT REPLY MAYBE"), "ERR syntax error");
    c.ok("CLIENT NO-EVICT on");
    c.ok("CLIENT NO-EVICT off");
    assert_eq!(c.err("CLIENT NO-EVICT maybe"), "ERR syntax error");
}

#[test]
fn maxclients_limit() {
    let s = start_with(&[("maxclients", &["2"])]);
    let mut a = s.conn();
    // The readiness probe's connection may still be counted for a moment.
    assert!(wait_until(Duration::from_secs(5), || {
        a.run("INFO clients")
            .as_str()
            .contains("connected_clients:1\r\n")
    }));
    let mut b = s.conn();
    assert_eq!(a.run("PING"), Resp::simple("PONG"));
    assert_eq!(b.run("PING"), Resp::simple("PONG"));
    let mut third = s.tcp();
    let got = read_until_closed(&mut third, Duration::from_secs(5));
    assert_eq!(got, b"-ERR max number of clients reached\r\n");
    // The existing clients are unaffected.
    assert_eq!(a.run("PING"), Resp::simple("PONG"));
    drop(b);
    // Once a slot is free a new client is accepted (the close is async).
    let ok = wait_until(Duration::from_secs(5), || {
        let c = s.tcp();
        c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut conn = Conn::new(c);
        conn.send(&encode_str(&["PING"]));
        matches!(conn.try_read(), Ok(Resp::Simple(ref p)) if p == "PONG")
    });
    assert!(ok, "a new client should be accepted after one disconnects");
}

#[test]
fn idle_timeout_disconnects() {
    let s = start_with(&[("timeout", &["1"])]);
    let mut idle = s.conn();
    let mut busy = s.conn();
    assert_eq!(idle.run("PING"), Resp::simple("PONG"));
    let t0 = Instant::now();
    // Keep `busy` active while waiting for `idle` to be dropped.
    let mut closed = false;
    while t0.elapsed() < Duration::from_secs(5) {
        assert_eq!(busy.run("PING"), Resp::simple("PONG"));
        if idle.closed_within(Duration::from_millis(250)) {
            closed = true;
            break;
        }
    }
    let took = t0.elapsed();
    assert!(closed, "idle client not disconnected within 5 s");
    assert!(
        took >= Duration::from_millis(900),
        "disconnected too early: {took:?}"
    );
    assert_eq!(
        busy.run("PING"),
        Resp::simple("PONG"),
        "active client must survive"
    );
}
