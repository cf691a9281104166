//! Server commands: INFO, CONFIG, COMMAND, TIME, LASTSAVE, DEBUG, FUNCTION,
//! and the generic error replies.

mod common;

use common::*;
use std::time::Duration;

fn info_field(info: &str, name: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim_end().to_string())
}

fn sections(info: &str) -> Vec<String> {
    info.lines()
        .filter_map(|l| l.strip_prefix("# "))
        .map(|s| s.trim_end().to_string())
        .collect()
}

#[test]
fn info_sections_and_fields() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET a 1");
    c.ok("SET b 2 EX 1000");
    c.ok("SELECT 3");
    c.ok("SET x 1");
    let info = c.run("INFO").as_str();
    assert!(info.contains("\r\n"), "INFO lines are CRLF separated");
    assert_eq!(
        info_field(&info, "redis_version").as_deref(),
        Some("7.0.15")
    );
    if !s.is_reference() {
        assert!(
            info_field(&info, "russet_version").is_some(),
            "russet_version: missing"
        );
    }
    let db0 = info_field(&info, "db0").expect("db0 line");
    assert!(db0.starts_with("keys=2,expires=1,avg_ttl="), "{db0}");
    let db3 = info_field(&info, "db3").expect("db3 line");
    assert!(db3.starts_with("keys=1,expires=0,avg_ttl=0"), "{db3}");
    assert!(
        info_field(&info, "db1").is_none(),
        "empty DBs are not listed"
    );
    assert_eq!(
        info_field(&info, "tcp_port").unwrap(),
        s.addr.port().to_string()
    );
    let default_sections = sections(&info);
    for want in [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Keyspace",
    ] {
        assert!(
            default_sections.iter().any(|s| s == want),
            "section {want} missing: {default_sections:?}"
        );
    }
    // A single section.
    let server = c.run("INFO server").as_str();
    assert_eq!(sections(&server), ["Server"]);
    assert!(server.contains("redis_version:7.0.15"));
    assert!(server.contains(&format!("process_id:{}", std::process::id())) || s.is_reference());
    let ks = c.run("INFO keyspace").as_str();
    assert_eq!(sections(&ks), ["Keyspace"]);
    assert!(ks.contains("db0:keys=2,expires=1"));
    // Several sections at once (7.0), case-insensitive.
    let two = c.run("INFO CLIENTS keyspace").as_str();
    assert_eq!(sections(&two), ["Clients", "Keyspace"]);
    let clients = info_field(&two, "connected_clients").unwrap();
    assert_eq!(clients, "1");
    // all / everything include at least the default sections.
    let all = c.run("INFO everything").as_str();
    for want in ["Server", "Clients", "Stats", "Keyspace"] {
        assert!(
            sections(&all).iter().any(|s| s == want),
            "{want} not in INFO everything"
        );
    }
    // Unknown section: empty.
    assert_eq!(c.run("INFO nosuchsection").as_str(), "");
    // Stats counters move.
    let before: i64 = info_field(&c.run("INFO stats").as_str(), "total_commands_processed")
        .unwrap()
        .parse()
        .unwrap();
    for _ in 0..5 {
        c.run("PING");
    }
    let after: i64 = info_field(&c.run("INFO stats").as_str(), "total_commands_processed")
        .unwrap()
        .parse()
        .unwrap();
    assert!(after >= before + 5, "{before} -> {after}");
}

#[test]
fn config_get_set_resetstat() {
    let s = start();
    let mut c = s.conn();
    assert_eq!(
        c.run("CONFIG GET maxclients"),
        Resp::bulks(&["maxclients", "10000"])
    );
    assert_eq!(c.run("CONFIG GET nosuchoption"), Resp::arr(vec![]));
    // Glob pattern.
    let r = c.run("CONFIG GET maxmemory*").as_strings();
    let names: Vec<&String> = r.iter().step_by(2).collect();
    for want in ["maxmemory", "maxmemory-policy", "maxmemory-samples"] {
        assert!(names.iter().any(|n| *n == want), "{want} not in {names:?}");
    }
    assert!(
        names.iter().all(|n| n.starts_with("maxmemory")),
        "{names:?}"
    );
    // Several patterns in one call (7.0), no duplicates.
    let r = c.run("CONFIG GET timeout databases timeout").as_strings();
    let mut pairs: Vec<(String, String)> =
        r.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("databases".to_string(), "16".to_string()),
            ("timeout".to_string(), "0".to_string())
        ]
    );
    // SET and read back.
    c.ok("CONFIG SET timeout 300");
    assert_eq!(
        c.run("CONFIG GET timeout"),
        Resp::bulks(&["timeout", "300"])
    );
    c.ok("CONFIG SET maxmemory 10mb");
    assert_eq!(
        c.run("CONFIG GET maxmemory"),
        Resp::bulks(&["maxmemory", "10485760"])
    );
    c.ok("CONFIG SET maxmemory 0");
    // Several at once (7.0).
    c.ok("CONFIG SET timeout 10 maxclients 500");
    assert_eq!(c.run("CONFIG GET timeout"), Resp::bulks(&["timeout", "10"]));
    assert_eq!(
        c.run("CONFIG GET maxclients"),
        Resp::bulks(&["maxclients", "500"])
    );
    // Errors.
    assert_eq!(
        c.err("CONFIG SET nosuch 1"),
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    );
    assert_eq!(
        c.err("CONFIG SET maxclients abc"),
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"
    );
    assert_eq!(
        c.err("CONFIG SET timeout"),
        "ERR wrong number of arguments for 'config|set' command"
    );
    assert!(c
        .err("CONFIG SET databases 5")
        .contains("can't set immutable config"));
    assert_eq!(
        c.err("CONFIG GET"),
        "ERR wrong number of arguments for 'config|get' command"
    );
    assert!(c
        .err("CONFIG FOO")
        .starts_with("ERR unknown subcommand 'FOO'"));
    // A failed multi-set changes nothing.
    assert!(c.run("CONFIG SET timeout 20 maxclients abc").is_error());
    assert_eq!(c.run("CONFIG GET timeout"), Resp::bulks(&["timeout", "10"]));
    // RESETSTAT.
    for _ in 0..10 {
        c.run("PING");
    }
    c.ok("CONFIG RESETSTAT");
    let stats = c.run("INFO stats").as_str();
    let total: i64 = info_field(&stats, "total_commands_processed")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        total <= 2,
        "total_commands_processed after RESETSTAT: {total}"
    );
}

#[test]
fn info_commandstats() {
    let s = start();
    let mut c = s.conn();
    c.ok("SET a 1");
    c.ok("SET a 2");
    c.get("GET a");
    let _ = c.err("GET");
    let all = c.run("INFO all").as_str();
    let secs = sections(&all);
    for want in ["Commandstats", "Errorstats"] {
        assert!(
            secs.iter().any(|s| s == want),
            "{want} not in INFO all: {secs:?}"
        );
    }
    let cs = c.run("INFO commandstats").as_str();
    assert_eq!(sections(&cs), ["Commandstats"]);
    let set = info_field(&cs, "cmdstat_set").expect("cmdstat_set line");
    assert!(set.starts_with("calls=2,usec="), "{set}");
    let get = info_field(&cs, "cmdstat_get").expect("cmdstat_get line");
    assert!(get.contains("rejected_calls=1"), "{get}");
    let es = c.run("INFO errorstats").as_str();
    assert!(es.contains("errorstat_ERR:count=1"), "{es}");
    c.ok("CONFIG RESETSTAT");
    let cs = c.run("INFO commandstats").as_str();
    assert!(!cs.contains("cmdstat_set"), "{cs}");
}

#[test]
fn command_count_list_getkeys_info() {
    let s = start();
    let mut c = s.conn();
    let count = c.int("COMMAND COUNT");
    let list = c.run("COMMAND LIST").as_strings();
    // COMMAND LIST also names subcommands as `container|sub`.
    let top = list.iter().filter(|n| !n.contains('|')).count();
    assert_eq!(
        count as usize, top,
        "COMMAND COUNT equals the top-level COMMAND LIST entries"
    );
    assert!(list.iter().any(|n| n == "config|get"), "subcommands listed");
    for want in [
        "get",
        "set",
        "incrbyfloat",
        "lcs",
        "scan",
        "client",
        "config",
        "hello",
        "command",
    ] {
        assert!(
            list.iter().any(|n| n == want),
            "{want} missing from COMMAND LIST"
        );
    }
    let full = c.run("COMMAND");
    assert_eq!(full.as_array().len(), count as usize);
    let filtered = c.run("COMMAND LIST FILTERBY PATTERN get*").as_strings();
    assert!(filtered.iter().any(|n| n == "getrange"));
    assert!(
        filtered.iter().all(|n| n.starts_with("get")),
        "{filtered:?}"
    );

    assert_eq!(c.run("COMMAND GETKEYS SET a b"), Resp::bulks(&["a"]));
    assert_eq!(
        c.run("COMMAND GETKEYS MSET a 1 b 2"),
        Resp::bulks(&["a", "b"])
    );
    assert_eq!(
        c.run("COMMAND GETKEYS MGET x y z"),
        Resp::bulks(&["x", "y", "z"])
    );
    assert_eq!(
        c.run("COMMAND GETKEYS LCS k1 k2 LEN"),
        Resp::bulks(&["k1", "k2"])
    );
    assert_eq!(
        c.run("COMMAND GETKEYS RENAME old new"),
        Resp::bulks(&["old", "new"])
    );
    assert_eq!(
        c.err("COMMAND GETKEYS GET a b"),
        "ERR Invalid number of arguments specified for command"
    );
    assert_eq!(
        c.err("COMMAND GETKEYS GET"),
        "ERR wrong number of arguments for 'command|getkeys' command"
    );
    assert_eq!(
        c.err("COMMAND GETKEYS FOO a"),
        "ERR Invalid command specified"
    );
    assert_eq!(
        c.err("COMMAND GETKEYS PING x"),
        "ERR The command has no key arguments"
    );
    assert_eq!(
        c.err("COMMAND GETKEYS"),
        "ERR wrong number of arguments for 'command|getkeys' command"
    );

    // COMMAND INFO get: name, arity, flags, first key, last key, step.
    let info = c.run("COMMAND INFO get nosuch");
    let items = info.as_array();
    assert_eq!(items.len(), 2);
    assert!(items[1].is_null());
    let get = items[0].as_array();
    assert_eq!(get[0].as_str(), "get");
    assert_eq!(get[1], Resp::Int(2));
    let flags: Vec<String> = get[2].as_array().iter().map(|f| f.as_str()).collect();
    assert!(flags.contains(&"readonly".to_string()), "{flags:?}");
    assert_eq!(&get[3..6], &[Resp::Int(1), Resp::Int(1), Resp::Int(1)]);
    let set = c.run("COMMAND INFO set");
    assert_eq!(set.as_array()[0].as_array()[1], Resp::Int(-3));
}

#[test]
fn time_lastsave() {
    let s = start();
    let mut c = s.conn();
    let t = c.run("TIME").as_strings();
    assert_eq!(t.len(), 2);
    let secs: i64 = t[0].parse().unwrap();
    let usecs: i64 = t[1].parse().unwrap();
    assert!(
        (secs - unix_secs()).abs() <= 2,
        "TIME {secs} vs {}",
        unix_secs()
    );
    assert!((0..1_000_000).contains(&usecs));
    let t2 = c.run("TIME").as_strings();
    let a = secs * 1_000_000 + usecs;
    let b: i64 = t2[0].parse::<i64>().unwrap() * 1_000_000 + t2[1].parse::<i64>().unwrap();
    assert!(b >= a, "TIME went backwards");
    let last = c.int("LASTSAVE");
    assert!(
        last <= unix_secs() && last > unix_secs() - 3600,
        "LASTSAVE {last}"
    );
    assert_eq!(
        c.err("TIME x"),
        "ERR wrong number of arguments for 'time' command"
    );
}

#[test]
fn debug_requires_enable_and_sleeps() {
    let s = start();
    let mut c = s.conn();
    let e = c.err("DEBUG SLEEP 0");
    assert!(e.starts_with("ERR DEBUG command not allowed."), "{e}");
    let s = start_with(&[("enable-debug-command", &["yes"])]);
    let mut c = s.conn();
    c.ok("DEBUG SLEEP 0");
    let t0 = std::time::Instant::now();
    c.ok("DEBUG SLEEP 0.3");
    assert!(
        t0.elapsed() >= Duration::from_millis(280),
        "{:?}",
        t0.elapsed()
    );
    assert!(c
        .err("DEBUG NOSUCHSUB")
        .starts_with("ERR unknown subcommand"));
    assert_eq!(c.run("PING"), Resp::simple("PONG"));
}

#[test]
fn function_flush() {
    let s = start();
    let mut c = s.conn();
    c.ok("FUNCTION FLUSH");
    c.ok("FUNCTION FLUSH SYNC");
    c.ok("FUNCTION FLUSH ASYNC");
    assert_eq!(c.run("FUNCTION LIST"), Resp::arr(vec![]));
}

#[test]
fn unknown_command_and_arity_errors() {
    let s = start();
    let mut c = s.conn();
    assert_eq!(
        send_raw(&mut c.stream, &encode_str(&["foo", "a", "b"])),
        b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        c.err("foo"),
        "ERR unknown command 'foo', with args beginning with: "
    );
    assert_eq!(
        c.err("GET"),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        c.err("get a b"),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        c.err("SET a"),
        "ERR wrong number of arguments for 'set' command"
    );
    assert_eq!(
        c.err("CONFIG"),
        "ERR wrong number of arguments for 'config' command"
    );
    assert!(c
        .err("CONFIG NOSUCH")
        .starts_with("ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP."));
    // Long arguments are truncated to 128 characters in the error.
    let long = "x".repeat(200);
    let e = c.cmd(&["nosuchcmd", &long]);
    let e = e.error_text();
    assert_eq!(
        e,
        format!(
            "ERR unknown command 'nosuchcmd', with args beginning with: '{}' ",
            "x".repeat(128)
        )
    );
    // The connection keeps working after errors.
    assert_eq!(c.run("PING"), Resp::simple("PONG"));
}
