//! Bloom filter commands (Redis 8 / RedisBloom) against the in-process
//! server. Redis 7.0 has no BF.* commands, so the expected replies and error
//! texts are RedisBloom's documented behaviour and the strings of its source
//! (rebloom.c), and the sizes are those RedisBloom's own tests expect.

mod common;

use common::Resp;
use proptest::prelude::*;

fn ints(v: &[i64]) -> Resp {
    Resp::arr(v.iter().map(|&n| Resp::Int(n)).collect())
}

fn info(c: &mut common::Conn, key: &str) -> Vec<(String, Resp)> {
    let r = c.run(&format!("BF.INFO {key}"));
    let items = r.as_array();
    items
        .chunks(2)
        .map(|p| (p[0].as_str(), p[1].clone()))
        .collect()
}

#[test]
fn reserve_add_exists_card() {
    let s = common::start();
    let mut c = s.conn();
    c.ok("BF.RESERVE bf 0.01 1000");
    assert_eq!(c.err("BF.RESERVE bf 0.01 1000"), "ERR item exists");
    assert_eq!(c.int("BF.ADD bf foo"), 1);
    assert_eq!(c.int("BF.ADD bf foo"), 0);
    assert_eq!(c.int("BF.EXISTS bf foo"), 1);
    assert_eq!(c.int("BF.EXISTS bf bar"), 0);
    assert_eq!(c.run("BF.MADD bf foo bar baz"), ints(&[0, 1, 1]));
    assert_eq!(c.run("BF.MEXISTS bf foo nope bar"), ints(&[1, 0, 1]));
    assert_eq!(c.int("BF.CARD bf"), 3);
    // A missing key holds nothing.
    assert_eq!(c.int("BF.EXISTS missing foo"), 0);
    assert_eq!(c.run("BF.MEXISTS missing a b"), ints(&[0, 0]));
    assert_eq!(c.int("BF.CARD missing"), 0);
    assert_eq!(c.run("TYPE bf"), Resp::simple("MBbloom--"));
    assert_eq!(c.get("OBJECT ENCODING bf").as_deref(), Some("raw"));
    // Binary and empty items.
    assert_eq!(
        c.cmd_bytes(&[b"BF.ADD", b"bin", b"\x00\xff\r\n"]),
        Resp::Int(1)
    );
    assert_eq!(c.cmd_bytes(&[b"BF.ADD", b"bin", b""]), Resp::Int(1));
    assert_eq!(
        c.cmd_bytes(&[b"BF.MEXISTS", b"bin", b"\x00\xff\r\n", b"", b"\x00"]),
        ints(&[1, 1, 0])
    );
}

#[test]
fn add_creates_default_filter() {
    let s = common::start();
    let mut c = s.conn();
    assert_eq!(c.int("BF.ADD auto x"), 1);
    // Defaults: capacity 100, error 0.01 (first link at 0.005: 144 bytes),
    // expansion 2.
    let i = info(&mut c, "auto");
    let labels: Vec<&str> = i.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Capacity",
            "Size",
            "Number of filters",
            "Number of items inserted",
            "Expansion rate"
        ]
    );
    let values: Vec<Resp> = i.into_iter().map(|(_, v)| v).collect();
    assert_eq!(
        values,
        [
            Resp::Int(100),
            Resp::Int(256),
            Resp::Int(1),
            Resp::Int(1),
            Resp::Int(2)
        ]
    );
    assert_eq!(c.run("BF.MADD auto2 a b a"), ints(&[1, 1, 0]));
    assert_eq!(c.int("BF.CARD auto2"), 2);
}

#[test]
fn info_fields_and_errors() {
    let s = common::start();
    let mut c = s.conn();
    c.ok("BF.RESERVE bf 0.001 100");
    assert_eq!(c.run("BF.INFO bf CAPACITY"), ints(&[100]));
    // 100 items at 0.0005: 1582 bits, rounded up to 200 bytes.
    assert_eq!(c.run("BF.INFO bf size"), ints(&[312]));
    assert_eq!(c.run("BF.INFO bf Filters"), ints(&[1]));
    assert_eq!(c.run("BF.INFO bf items"), ints(&[0]));
    assert_eq!(c.run("BF.INFO bf expansion"), ints(&[2]));
    assert_eq!(c.err("BF.INFO bf wrong_value"), "Invalid information value");
    assert!(c
        .err("BF.INFO bf capacity size")
        .starts_with("ERR wrong number of arguments for 'bf.info'"));
    assert_eq!(c.err("BF.INFO missing"), "ERR not found");
    assert!(c.err("BF.INFO").starts_with("ERR wrong number"));

    // NONSCALING: no expansion rate (null), error rate not tightened.
    c.ok("BF.RESERVE ns 0.01 1000 NONSCALING");
    let i = info(&mut c, "ns");
    assert_eq!(i[4].1, Resp::Bulk(None));
    assert_eq!(
        c.run("BF.INFO ns EXPANSION"),
        Resp::arr(vec![Resp::Bulk(None)])
    );
    // 1000 items at 0.01: 9585 bits -> 1200 bytes, plus the headers.
    assert_eq!(c.run("BF.INFO ns size"), ints(&[48 + 64 + 1200]));

    // RESP3: a map, and booleans for the add/exists family.
    c.run("HELLO 3");
    match c.run("BF.INFO bf") {
        Resp::Map(m) => {
            assert_eq!(m.len(), 5);
            assert_eq!(m[0], (Resp::simple("Capacity"), Resp::Int(100)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.run("BF.INFO ns expansion"), Resp::arr(vec![Resp::Null]));
    assert_eq!(c.run("BF.ADD bf item"), Resp::Bool(true));
    assert_eq!(c.run("BF.EXISTS bf item"), Resp::Bool(true));
    assert_eq!(
        c.run("BF.MADD bf item x"),
        Resp::arr(vec![Resp::Bool(false), Resp::Bool(true)])
    );
    assert_eq!(
        c.run("BF.INSERT bf ITEMS x y"),
        Resp::arr(vec![Resp::Bool(false), Resp::Bool(true)])
    );
    assert_eq!(
        c.run("BF.MEXISTS bf y nope"),
        Resp::arr(vec![Resp::Bool(true), Resp::Bool(false)])
    );
    assert_eq!(c.run("BF.CARD bf"), Resp::Int(3));
}

#[test]
fn reserve_errors() {
    let s = common::start();
    let mut c = s.conn();
    for line in ["BF.RESERVE", "BF.RESERVE k", "BF.RESERVE k 0.01"] {
        assert!(c
            .err(line)
            .starts_with("ERR wrong number of arguments for 'bf.reserve'"));
    }
    assert!(c
        .err("BF.RESERVE k 0.01 100 EXPANSION 2 NONSCALING x")
        .starts_with("ERR wrong number"));
    for (line, e) in [
        ("BF.RESERVE k abc 100", "ERR bad error rate"),
        ("BF.RESERVE k 0.01x 100", "ERR bad error rate"),
        ("BF.RESERVE k 0 100", "ERR (0 < error rate range < 1)"),
        ("BF.RESERVE k 1 100", "ERR (0 < error rate range < 1)"),
        ("BF.RESERVE k -0.5 100", "ERR (0 < error rate range < 1)"),
        ("BF.RESERVE k 7.7 1000", "ERR (0 < error rate range < 1)"),
        ("BF.RESERVE k 0.01 blah", "ERR bad capacity"),
        ("BF.RESERVE k 0.01 1.5", "ERR bad capacity"),
        (
            "BF.RESERVE k 0.01 0",
            "ERR (capacity should be larger than 0)",
        ),
        (
            "BF.RESERVE k 0.01 -5",
            "ERR (capacity should be larger than 0)",
        ),
        ("BF.RESERVE k 0.01 1073741825", "ERR bad capacity"),
        ("BF.RESERVE k 0.01 18446744073709551616", "ERR bad capacity"),
        ("BF.RESERVE k 0.01 100 EXPANSION", "ERR no expansion"),
        ("BF.RESERVE k 0.01 100 EXPANSION str", "ERR bad expansion"),
        ("BF.RESERVE k 0.01 100 EXPANSION 1.5", "ERR bad expansion"),
        ("BF.RESERVE k 0.01 100 EXPANSION 40000", "ERR bad expansion"),
        (
            "BF.RESERVE k 0.01 100 EXPANSION 0",
            "ERR expansion should be greater or equal to 1",
        ),
        (
            "BF.RESERVE k 0.01 100 EXPANSION -1",
            "ERR expansion should be greater or equal to 1",
        ),
        (
            "BF.RESERVE k 0.01 100 NONSCALING EXPANSION 2",
            "Nonscaling filters cannot expand",
        ),
        (
            "BF.RESERVE k 0.01 100 expansion 2 nonscaling",
            "Nonscaling filters cannot expand",
        ),
    ] {
        assert_eq!(c.err(line), e, "{line}");
    }
    assert_eq!(c.int("EXISTS k"), 0);
    // A filter too large to allocate is refused, not attempted.
    assert_eq!(
        c.err("BF.RESERVE k 1e-300 1073741824"),
        "ERR could not create filter"
    );
    // Options are case-insensitive; unknown words are ignored as RedisBloom does.
    c.ok("BF.RESERVE k 0.01 10 expansion 4");
    assert_eq!(c.run("BF.INFO k EXPANSION"), ints(&[4]));
    c.ok("BF.RESERVE k2 0.01 10 UNKNOWN 1");
    c.ok("BF.RESERVE k3 0.5 1 NonScaling");
    assert_eq!(
        c.run("BF.INFO k3 EXPANSION"),
        Resp::arr(vec![Resp::Bulk(None)])
    );
}

#[test]
fn wrong_type_both_ways() {
    let s = common::start();
    let mut c = s.conn();
    c.ok("SET str v");
    c.run("LPUSH list a");
    const WT: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for line in [
        "BF.RESERVE str 0.01 100",
        "BF.ADD str a",
        "BF.MADD str a b",
        "BF.INSERT str ITEMS a",
        "BF.INSERT list NOCREATE ITEMS a",
        "BF.EXISTS str a",
        "BF.MEXISTS list a",
        "BF.INFO str",
        "BF.CARD str",
    ] {
        assert_eq!(c.err(line), WT, "{line}");
    }
    assert_eq!(c.get("GET str").as_deref(), Some("v"));
    c.ok("BF.RESERVE bf 0.01 100");
    for line in [
        "GET bf",
        "LPUSH bf x",
        "HSET bf f v",
        "SADD bf m",
        "INCR bf",
        "APPEND bf x",
    ] {
        assert_eq!(c.err(line), WT, "{line}");
    }
    // Generic key commands work on filters.
    assert_eq!(c.int("EXPIRE bf 100"), 1);
    c.ok("RENAME bf bf2");
    assert_eq!(c.int("BF.ADD bf2 x"), 1);
    assert_eq!(c.int("DEL bf2"), 1);
    assert_eq!(c.int("BF.EXISTS bf2 x"), 0);
}

#[test]
fn arity_errors() {
    let s = common::start();
    let mut c = s.conn();
    for (line, name) in [
        ("BF.ADD k", "bf.add"),
        ("BF.ADD k a b", "bf.add"),
        ("BF.MADD k", "bf.madd"),
        ("BF.EXISTS k", "bf.exists"),
        ("BF.EXISTS k a b", "bf.exists"),
        ("BF.MEXISTS k", "bf.mexists"),
        ("BF.CARD", "bf.card"),
        ("BF.CARD a b", "bf.card"),
        ("BF.INSERT k", "bf.insert"),
        ("BF.INSERT k ITEMS", "bf.insert"),
        ("BF.INSERT k CAPACITY 10", "bf.insert"),
        ("BF.INSERT k NOCREATE ITEMS", "bf.insert"),
        ("BF.INSERT k NOCREATE CAPACITY", "bf.insert"),
        ("BF.INSERT k CAPACITY 10 ERROR", "bf.insert"),
    ] {
        assert_eq!(
            c.err(line),
            format!("ERR wrong number of arguments for '{name}' command"),
            "{line}"
        );
    }
    assert_eq!(c.int("EXISTS k"), 0);
}

#[test]
fn insert_options() {
    let s = common::start();
    let mut c = s.conn();
    assert_eq!(
        c.err("BF.INSERT missing NOCREATE ITEMS foo bar"),
        "ERR not found"
    );
    // NOCREATE with creation options is still just "not found".
    assert_eq!(
        c.err("BF.INSERT missing NOCREATE CAPACITY 10 ITEMS a"),
        "ERR not found"
    );
    for (line, e) in [
        (
            "BF.INSERT k DONTEXIST NOCREATE",
            "Unknown argument received",
        ),
        ("BF.INSERT k CAPACITY 0.3 ITEMS a", "Bad capacity"),
        ("BF.INSERT k ERROR big ITEMS a", "Bad error rate"),
        ("BF.INSERT k EXPANSION big ITEMS a", "Bad expansion"),
        ("BF.INSERT k EXPANSION 0 ITEMS a", "Bad argument received"),
        ("BF.INSERT k CAPACITY 0 ITEMS a", "Bad argument received"),
        ("BF.INSERT k CAPACITY -3 ITEMS a", "Bad argument received"),
        ("BF.INSERT k ERROR 1 ITEMS a", "Bad argument received"),
        ("BF.INSERT k ERROR 0 ITEMS a", "Bad argument received"),
        (
            "BF.INSERT k CAPACITY 2000000000 ITEMS a",
            "Bad argument received",
        ),
    ] {
        assert_eq!(c.err(line), e, "{line}");
    }
    assert_eq!(c.int("EXISTS k"), 0);

    assert_eq!(
        c.run("BF.INSERT f ERROR 0.001 CAPACITY 50000 EXPANSION 2 ITEMS foo"),
        ints(&[1])
    );
    // Creation options are ignored once the filter exists; items after
    // ITEMS are items even when they look like options.
    assert_eq!(
        c.run("BF.INSERT f ERROR 0.1 ITEMS foo bar CAPACITY"),
        ints(&[0, 1, 1])
    );
    assert_eq!(c.run("BF.INFO f capacity"), ints(&[50000]));
    // 50000 items at 0.0005: 98880 bytes, as RedisBloom's BF.DEBUG shows.
    assert_eq!(c.run("BF.INFO f size"), ints(&[48 + 64 + 98880]));
    assert_eq!(c.run("BF.INFO f items"), ints(&[3]));

    assert_eq!(
        c.run("bf.insert g capacity 5 expansion 3 items a"),
        ints(&[1])
    );
    assert_eq!(c.run("BF.INFO g EXPANSION"), ints(&[3]));
    assert_eq!(c.run("BF.INFO g CAPACITY"), ints(&[5]));
    assert_eq!(c.run("BF.INSERT h NONSCALING CAPACITY 2 ITEMS a b c d"), {
        Resp::arr(vec![
            Resp::Int(1),
            Resp::Int(1),
            Resp::err("ERR non scaling filter is full"),
        ])
    });
    assert_eq!(c.int("BF.CARD h"), 2);
    assert_eq!(
        c.run("BF.INFO h EXPANSION"),
        Resp::arr(vec![Resp::Bulk(None)])
    );
}

#[test]
fn nonscaling_filter_fills_up() {
    let s = common::start();
    let mut c = s.conn();
    c.ok("BF.RESERVE bf 0.01 3 NONSCALING");
    for i in 0..3 {
        assert_eq!(c.int(&format!("BF.ADD bf {i}")), 1);
    }
    // Already present: still 0, not an error.
    assert_eq!(c.int("BF.ADD bf 1"), 0);
    assert_eq!(c.err("BF.ADD bf extra"), "ERR non scaling filter is full");
    assert_eq!(
        c.run("BF.MADD bf 0 more1 more2"),
        Resp::arr(vec![
            Resp::Int(0),
            Resp::err("ERR non scaling filter is full")
        ])
    );
    assert_eq!(c.int("BF.CARD bf"), 3);
    assert_eq!(c.run("BF.INFO bf FILTERS"), ints(&[1]));
}

#[test]
fn scaling_adds_sub_filters() {
    let s = common::start();
    let mut c = s.conn();
    // RedisBloom's test_expansion: 100 adds into capacity 4 with expansion
    // 1, 2, 4 leave 23, 5 and 4 sub-filters.
    for (exp, filters) in [(1, 23), (2, 5), (4, 4)] {
        c.ok(&format!("BF.RESERVE exp{exp} 0.01 4 EXPANSION {exp}"));
        for i in 0..100 {
            c.run(&format!("BF.ADD exp{exp} {i}"));
        }
        for i in 0..100 {
            assert_eq!(c.int(&format!("BF.EXISTS exp{exp} {i}")), 1);
        }
        assert_eq!(
            c.run(&format!("BF.INFO exp{exp} FILTERS")),
            ints(&[filters])
        );
    }
    // Capacity is the sum of the sub-filters' capacities: 4 + 8 + 16 + 32 + 64.
    assert_eq!(c.run("BF.INFO exp2 CAPACITY"), ints(&[124]));
    // Size grows by each sub-filter's bits and descriptor.
    let sizes = c.run("BF.INFO exp2 SIZE").as_array()[0].as_int();
    assert!(sizes > 48 + 5 * 64, "{sizes}");
}

#[test]
fn command_metadata() {
    let s = common::start();
    let mut c = s.conn();
    let r = c.run("COMMAND INFO bf.add bf.exists");
    let entries = r.as_array();
    assert_eq!(entries[0].as_array()[0].as_str(), "bf.add");
    assert_eq!(entries[0].as_array()[1], Resp::Int(3));
    assert_eq!(
        entries[1].as_array()[6],
        Resp::arr(vec![
            Resp::simple("@read"),
            Resp::simple("@fast"),
            Resp::simple("@bloom")
        ])
    );
    let mut listed = c.run("COMMAND LIST FILTERBY MODULE bf").as_strings();
    listed.sort();
    assert_eq!(
        listed,
        [
            "bf.add",
            "bf.card",
            "bf.exists",
            "bf.info",
            "bf.insert",
            "bf.madd",
            "bf.mexists",
            "bf.reserve"
        ]
    );
    assert_eq!(
        c.run("COMMAND LIST FILTERBY MODULE json"),
        Resp::arr(vec![])
    );
    assert_eq!(
        c.run("COMMAND LIST FILTERBY ACLCAT bloom").as_array().len(),
        8
    );
    assert_eq!(c.run("COMMAND GETKEYS BF.MADD k a b"), Resp::bulks(&["k"]));
    let docs = c.run("COMMAND DOCS bf.reserve");
    let docs = docs.as_array();
    assert_eq!(docs[0].as_str(), "bf.reserve");
    let fields = docs[1].as_strings();
    assert_eq!(fields[0], "summary");
    assert_eq!(fields[1], "Creates a new Bloom Filter");
    assert!(fields.windows(2).any(|w| w[0] == "module" && w[1] == "bf"));
}

#[test]
fn server_false_positive_rate() {
    let s = common::start();
    let mut c = s.conn();
    // Through the server, pipelined in batches: 20000 items into a filter
    // reserved for 2000 (several sub-filters), and into a NONSCALING one.
    const N: usize = 20_000;
    for (key, reserve, error) in [
        ("scaling", "BF.RESERVE scaling 0.01 2000", 0.01),
        ("fixed", "BF.RESERVE fixed 0.001 20000 NONSCALING", 0.001),
    ] {
        c.ok(reserve);
        for chunk in (0..N).collect::<Vec<_>>().chunks(1000) {
            let mut args = vec!["BF.MADD".to_string(), key.to_string()];
            args.extend(chunk.iter().map(|i| format!("member:{i}")));
            let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
            let r = c.cmd(&refs);
            assert_eq!(r.as_array().len(), chunk.len());
            assert!(!r.as_array().iter().any(|x| x.is_error()));
        }
        let mut fp = 0;
        for chunk in (0..N).collect::<Vec<_>>().chunks(1000) {
            let mut present = vec!["BF.MEXISTS".to_string(), key.to_string()];
            present.extend(chunk.iter().map(|i| format!("member:{i}")));
            let refs: Vec<&str> = present.iter().map(|s| s.as_str()).collect();
            let r = c.cmd(&refs);
            assert!(
                r.as_array().iter().all(|x| x.as_int() == 1),
                "false negative"
            );
            let mut absent = vec!["BF.MEXISTS".to_string(), key.to_string()];
            absent.extend(chunk.iter().map(|i| format!("other:{i}")));
            let refs: Vec<&str> = absent.iter().map(|s| s.as_str()).collect();
            fp += c
                .cmd(&refs)
                .as_array()
                .iter()
                .filter(|x| x.as_int() == 1)
                .count();
        }
        let rate = fp as f64 / N as f64;
        assert!(rate <= error, "{key}: false-positive rate {rate}");
    }
    let filters = c.run("BF.INFO scaling FILTERS").as_array()[0].as_int();
    assert!(filters >= 4, "{filters}");
}

#[test]
fn bloom_inside_multi_and_watch() {
    let s = common::start();
    let mut c = s.conn();
    let mut other = s.conn();
    c.ok("BF.RESERVE bf 0.01 100");
    c.ok("WATCH bf");
    assert_eq!(other.int("BF.ADD bf x"), 1);
    c.ok("MULTI");
    assert_eq!(c.run("BF.ADD bf y"), Resp::simple("QUEUED"));
    assert_eq!(c.run("EXEC"), Resp::Array(None));
    c.ok("MULTI");
    c.run("BF.ADD bf y");
    c.run("BF.EXISTS bf x");
    assert_eq!(c.run("EXEC"), ints(&[1, 1]));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A model of any Bloom filter: no false negatives ever, and BF.ADD
    /// answers 0 only for an item BF.EXISTS reported just before.
    #[test]
    fn model(ops in proptest::collection::vec((any::<bool>(), 0u16..400), 1..300),
             capacity in 1u32..50, nonscaling in any::<bool>()) {
        let s = common::start();
        let mut c = s.conn();
        let reserve = format!(
            "BF.RESERVE m 0.05 {capacity}{}",
            if nonscaling { " NONSCALING" } else { "" }
        );
        c.ok(&reserve);
        let mut added = std::collections::HashSet::new();
        for (add, item) in ops {
            let item = format!("i{item}");
            let existed = c.int(&format!("BF.EXISTS m {item}"));
            if added.contains(&item) {
                prop_assert_eq!(existed, 1, "false negative for {}", item);
            }
            if add {
                match c.run(&format!("BF.ADD m {item}")) {
                    Resp::Int(0) => prop_assert_eq!(existed, 1),
                    Resp::Int(1) => {
                        prop_assert_eq!(existed, 0);
                        added.insert(item);
                    }
                    Resp::Error(e) => {
                        prop_assert!(nonscaling);
                        prop_assert_eq!(e.as_str(), "ERR non scaling filter is full");
                        prop_assert_eq!(existed, 0);
                        prop_assert_eq!(c.int("BF.CARD m"), capacity as i64);
                    }
                    other => prop_assert!(false, "{:?}", other),
                }
            }
        }
        prop_assert_eq!(c.int("BF.CARD m"), added.len() as i64);
        for item in &added {
            prop_assert_eq!(c.int(&format!("BF.EXISTS m {item}")), 1);
        }
    }
}
