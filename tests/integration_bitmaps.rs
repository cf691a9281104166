//! Bitmaps through a real client (the `redis` crate) against an in-process
//! server: a long random run checked against a bit-by-bit model (so the
//! word-at-a-time BITCOUNT/BITPOS paths meet every alignment), the
//! proto-max-bulk-len bound, which writes touch WATCHers, BITOP across shards and concurrent
//! writers to one bitmap.

mod common;

use redis::{Commands, Connection};

fn connect() -> (common::Server, Connection) {
    let server = common::start();
    let con = server.con();
    (server, con)
}

fn bit(model: &[u8], i: u64) -> bool {
    model
        .get((i / 8) as usize)
        .is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
}

/// Redis's range normalisation, written out independently of the server.
fn clamp(start: i64, end: i64, total: i64) -> Option<(i64, i64)> {
    let s = if start < 0 { start + total } else { start }.max(0);
    let e = if end < 0 { end + total } else { end }
        .max(0)
        .min(total - 1);
    (s <= e).then_some((s, e))
}

#[test]
fn random_operations_match_a_bit_model() {
    let (_h, mut con) = connect();
    let mut rng = common::Rng(0x5eed_b175);
    let mut model: Vec<u8> = Vec::new();
    // Clustered offsets make long runs of zeros and of ones.
    for round in 0..3000 {
        let offset = if round % 3 == 0 {
            rng.below(40_000)
        } else {
            8_000 + rng.below(700)
        };
        let on = rng.below(4) != 0;
        let old: i64 = con
            .setbit("bm", offset as usize, on)
            .map(|b: bool| b as i64)
            .unwrap();
        assert_eq!(old, bit(&model, offset) as i64, "SETBIT {offset}");
        let byte = (offset / 8) as usize;
        if model.len() <= byte {
            model.resize(byte + 1, 0);
        }
        if on {
            model[byte] |= 0x80 >> (offset % 8);
        } else {
            model[byte] &= !(0x80 >> (offset % 8));
        }
        if round % 50 != 0 {
            continue;
        }
        let len = model.len() as i64;
        let total: i64 = con.bitcount("bm").unwrap();
        assert_eq!(
            total,
            model.iter().map(|b| b.count_ones() as i64).sum::<i64>()
        );
        for _ in 0..20 {
            let is_bit = rng.below(2) == 0;
            let units = if is_bit { len * 8 } else { len };
            let start = rng.below(units as u64 + 20) as i64 - 10;
            let end = rng.below(units as u64 + 20) as i64 - 10;
            let unit = if is_bit { "BIT" } else { "BYTE" };
            let bits =
                clamp(start, end, units).map(
                    |(s, e)| {
                        if is_bit {
                            (s, e)
                        } else {
                            (s * 8, e * 8 + 7)
                        }
                    },
                );
            let count: i64 = redis::cmd("BITCOUNT")
                .arg("bm")
                .arg(start)
                .arg(end)
                .arg(unit)
                .query(&mut con)
                .unwrap();
            let expected = if start < 0 && end < 0 && start > end {
                0
            } else {
                bits.map_or(0, |(s, e)| {
                    (s..=e).filter(|&i| bit(&model, i as u64)).count()
                })
            };
            assert_eq!(count, expected as i64, "BITCOUNT {start} {end} {unit}");
            for want in [false, true] {
                let pos: i64 = redis::cmd("BITPOS")
                    .arg("bm")
                    .arg(want as i64)
                    .arg(start)
                    .arg(end)
                    .arg(unit)
                    .query(&mut con)
                    .unwrap();
                let expected = bits
                    .and_then(|(s, e)| (s..=e).find(|&i| bit(&model, i as u64) == want))
                    .unwrap_or(-1);
                assert_eq!(pos, expected, "BITPOS {} {start} {end} {unit}", want as i64);
            }
        }
        let field_at = rng.below(len as u64 * 8);
        let got: Vec<i64> = redis::cmd("BITFIELD")
            .arg("bm")
            .arg("GET")
            .arg("u63")
            .arg(field_at)
            .arg("GET")
            .arg("i64")
            .arg(field_at)
            .query(&mut con)
            .unwrap();
        let raw = (0..64).fold(0u64, |acc, i| acc << 1 | bit(&model, field_at + i) as u64);
        assert_eq!(
            got,
            vec![(raw >> 1) as i64, raw as i64],
            "BITFIELD at {field_at}"
        );
    }
    let stored: Vec<u8> = con.get("bm").unwrap();
    assert_eq!(stored, model);
}

#[test]
fn offsets_are_bounded_by_proto_max_bulk_len() {
    let server = common::start_with(&[("proto-max-bulk-len", &["1mb"])]);
    let mut con = server.con();
    let limit = 1024 * 1024 * 8;
    let err = con.setbit::<_, bool>("k", limit, true).unwrap_err();
    assert_eq!(
        err.detail(),
        Some("bit offset is not an integer or out of range")
    );
    assert!(!con.exists::<_, bool>("k").unwrap());
    assert!(!con.setbit::<_, bool>("k", limit - 1, true).unwrap());
    assert_eq!(con.strlen::<_, usize>("k").unwrap(), 1024 * 1024);
    assert_eq!(con.bitcount::<_, i64>("k").unwrap(), 1);
    // A field may end a few bytes past the bound, as in Redis. It starts at
    // the bit just set: the old value is that bit followed by zeros.
    let r: Vec<i64> = redis::cmd("BITFIELD")
        .arg("k")
        .arg("SET")
        .arg("i64")
        .arg(limit - 1)
        .arg(-1)
        .query(&mut con)
        .unwrap();
    assert_eq!(r, vec![i64::MIN]);
    assert_eq!(con.strlen::<_, usize>("k").unwrap(), 1024 * 1024 + 8);
    let err = redis::cmd("GETBIT")
        .arg("k")
        .arg("4294967295")
        .query::<i64>(&mut con)
        .unwrap_err();
    assert_eq!(
        err.detail(),
        Some("bit offset is not an integer or out of range")
    );
}

/// Runs `write` from another client between WATCH w and EXEC; true if
/// the transaction was aborted.
fn aborts_watcher(con: &mut Connection, other: &mut Connection, write: &[&str]) -> bool {
    let _: () = redis::cmd("WATCH").arg("w").query(con).unwrap();
    let _: redis::Value = redis::cmd(write[0]).arg(&write[1..]).query(other).unwrap();
    let _: () = redis::cmd("MULTI").query(con).unwrap();
    let _: () = redis::cmd("PING").query(con).unwrap();
    let r: Option<Vec<String>> = redis::cmd("EXEC").query(con).unwrap();
    r.is_none()
}

#[test]
fn only_bitmap_writes_that_change_something_abort_watchers() {
    let (h, mut con) = connect();
    let mut other = h.con();
    let _: () = con.set("w", 7).unwrap();
    // (command, whether it changes w), in sequence.
    let steps: &[(&[&str], bool)] = &[
        // "7" is 0x37: its last bit is already set, a new encoding alone
        // is no change.
        (&["SETBIT", "w", "7", "1"], false),
        (&["SETBIT", "w", "0", "1"], true),
        (&["SETBIT", "w", "7", "0"], true),
        (&["SETBIT", "w", "100", "0"], true),
        (&["SETBIT", "w", "100", "0"], false),
        (&["BITFIELD", "w", "SET", "u8", "0", "255"], true),
        (&["BITFIELD", "w", "SET", "u8", "0", "255"], false),
        (&["BITFIELD", "w", "INCRBY", "u8", "0", "0"], false),
        (
            &[
                "BITFIELD", "w", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1",
            ],
            false,
        ),
        (
            &["BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "1"],
            false,
        ),
        (&["BITFIELD", "w", "INCRBY", "u8", "0", "1"], true),
        (&["BITFIELD", "w", "GET", "u8", "0"], false),
        (&["BITFIELD", "w", "SET", "u8", "200", "0"], true),
        (&["BITOP", "OR", "w", "w"], true),
        (&["DEL", "w"], true),
        (&["BITOP", "AND", "w", "nokey"], false),
        (&["BITOP", "NOT", "w", "nokey"], false),
        (&["SETBIT", "w", "0", "0"], true),
    ];
    for (write, changes) in steps {
        assert_eq!(
            aborts_watcher(&mut con, &mut other, write),
            *changes,
            "{write:?}"
        );
    }
}

#[test]
fn bitop_across_shards_treats_missing_keys_as_zeros() {
    let (_h, mut con) = connect();
    // Many sources hash to many shards; one bit each, two of them twice.
    let keys: Vec<String> = (0..40).map(|i| format!("day:{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        let _: bool = con.setbit(k, i * 3, true).unwrap();
        let _: bool = con.setbit(k, 500, true).unwrap();
    }
    let mut or = redis::cmd("BITOP");
    or.arg("OR").arg("all").arg(&keys).arg("missing");
    assert_eq!(or.query::<i64>(&mut con).unwrap(), 63);
    assert_eq!(con.bitcount::<_, i64>("all").unwrap(), 41);
    let mut and = redis::cmd("BITOP");
    and.arg("AND").arg("both").arg(&keys);
    assert_eq!(and.query::<i64>(&mut con).unwrap(), 63);
    assert_eq!(con.bitcount::<_, i64>("both").unwrap(), 1);
    let mut and_missing = redis::cmd("BITOP");
    and_missing.arg("AND").arg("both").arg(&keys).arg("missing");
    let _: i64 = and_missing.query(&mut con).unwrap();
    assert_eq!(con.bitcount::<_, i64>("both").unwrap(), 0);
    let mut xor = redis::cmd("BITOP");
    xor.arg("XOR").arg("odd").arg(&keys[..3]);
    let _: i64 = xor.query(&mut con).unwrap();
    let odd: Vec<u8> = con.get("odd").unwrap();
    assert_eq!(odd.len(), 63);
    assert_eq!(odd[0], 0b1001_0010);
    assert_eq!(odd[62], 0x08);
    let deleted: i64 = redis::cmd("BITOP")
        .arg("AND")
        .arg("odd")
        .arg("nothing")
        .query(&mut con)
        .unwrap();
    assert_eq!(deleted, 0);
    assert!(!con.exists::<_, bool>("odd").unwrap());
}

#[test]
fn concurrent_writers_lose_no_bit_or_increment() {
    let (h, mut con) = connect();
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let mut c = h.con();
            std::thread::spawn(move || {
                for i in 0..500u64 {
                    let _: bool = c.setbit("seen", (i * 8 + t) as usize, true).unwrap();
                    let _: Vec<i64> = redis::cmd("BITFIELD")
                        .arg("counters")
                        .arg("INCRBY")
                        .arg("u32")
                        .arg("#1")
                        .arg(1)
                        .query(&mut c)
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(con.bitcount::<_, i64>("seen").unwrap(), 4000);
    let r: Vec<i64> = redis::cmd("BITFIELD_RO")
        .arg("counters")
        .arg("GET")
        .arg("u32")
        .arg("#1")
        .arg("GET")
        .arg("u32")
        .arg("#0")
        .query(&mut con)
        .unwrap();
    assert_eq!(r, vec![4000, 0]);
}

#[test]
fn overflow_fail_replies_nil_in_both_protocols() {
    let h = common::start();
    let mut c = h.conn();
    for proto in ["2", "3"] {
        c.run(&format!("HELLO {proto}"));
        let r = c.run("BITFIELD f OVERFLOW FAIL SET u4 0 15 INCRBY u4 0 1 GET u4 0");
        let items = r.as_array();
        assert_eq!(items[0].as_int(), 0);
        assert!(items[1].is_null(), "RESP{proto}: {r:?}");
        assert_eq!(items[2].as_int(), 15);
        c.run("DEL f");
    }
}
