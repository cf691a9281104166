//! Differential tests: russet vs. a real Redis 7.0 server, reply bytes compared.
//!
//! Each test function starts a reference redis-server (the binary named by
//! `RUSSET_REFERENCE_SERVER`, else `redis-server` on PATH) and the server under
//! test (`RUSSET_SERVER_BIN`, else this crate's `russet-server`), both on free
//! ports on 127.0.0.1 with `--save '' --appendonly no` and their own temp dir.
//! It then runs scenario files from tests/scenarios/ (format in
//! tests/scenarios/README.md) or proptest-generated sequences, in RESP2 and
//! RESP3, and compares the raw replies.
//!
//! If redis-server is missing these tests FAIL, saying to install it with
//! `apt-get install redis-server`; set `RUSSET_SKIP_DIFFERENTIAL=1` to skip them
//! (they then pass, printing that they were skipped).
//!
//! Other knobs: `RUSSET_DIFF_CASES` (proptest cases per random family, default
//! 256), `RUSSET_DIFF_PENDING=1` (also run tests/scenarios/pending/*.txt),
//! `RUSSET_DIFF_VERBOSE=1`
//! (print every command with the reference reply).
//!
//! Validate the harness itself with redis against redis:
//! `RUSSET_SERVER_BIN=/usr/bin/redis-server cargo test --release --test differential`

#[path = "differential/compare.rs"]
mod compare;
#[path = "differential/random.rs"]
mod random;
#[path = "differential/resp.rs"]
mod resp;
#[path = "differential/runner.rs"]
mod runner;
#[path = "differential/scenario.rs"]
mod scenario;
#[path = "differential/server.rs"]
mod server;

use runner::{finish, Pair, Stats};
use std::path::{Path, PathBuf};

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

/// Runs the given scenario files (relative to tests/scenarios) in RESP2 and
/// RESP3 against one pair of servers, and reports them as `family`.
fn run_scenarios(family: &str, files: &[PathBuf]) {
    let Some(mut pair) = Pair::start() else {
        return;
    };
    let mut stats = Stats::default();
    for path in files {
        let name = path
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")))
            .unwrap_or(path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read scenario file {name}: {e}"));
        let cases = scenario::parse_file(&name, &text).unwrap_or_else(|e| panic!("{e}"));
        assert!(!cases.is_empty(), "{name}: no cases");
        for proto in [2u8, 3] {
            for case in &cases {
                pair.run_case(proto, &case.steps, &mut stats);
            }
        }
    }
    finish(family, &stats);
}

fn family(name: &str) {
    run_scenarios(name, &[scenario_dir().join(format!("{name}.txt"))]);
}

#[test]
fn scenarios_strings() {
    family("strings");
}

#[test]
fn scenarios_lists() {
    family("lists");
}

#[test]
fn scenarios_stream() {
    family("stream");
}

#[test]
fn scenarios_blocking() {
    family("blocking");
}

#[test]
fn scenarios_keys() {
    family("keys");
}

#[test]
fn scenarios_expire() {
    family("expire");
}

#[test]
fn scenarios_connection() {
    family("connection");
}

#[test]
fn scenarios_server() {
    family("server");
}

#[test]
fn scenarios_sets() {
    family("sets");
}

#[test]
fn scenarios_hashes() {
    family("hashes");
}

#[test]
fn scenarios_zset() {
    family("zset");
}

#[test]
fn scenarios_pubsub() {
    family("pubsub");
}

#[test]
fn scenarios_bitmaps() {
    family("bitmaps");
}

#[test]
fn scenarios_sort() {
    family("sort");
}

#[test]
fn scenarios_geo() {
    family("geo");
}

#[test]
fn scenarios_ops() {
    family("ops");
}

/// Cases that need commands russet does not implement yet (lists, hashes...).
/// Run with `RUSSET_DIFF_PENDING=1`.
#[test]
fn scenarios_pending() {
    if std::env::var("RUSSET_DIFF_PENDING").map_or(true, |v| v != "1") {
        return;
    }
    // The directory disappears from git once every pending case has moved
    // into its family's file.
    let Ok(dir) = std::fs::read_dir(scenario_dir().join("pending")) else {
        return;
    };
    let mut files: Vec<PathBuf> = dir
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    if files.is_empty() {
        return;
    }
    files.sort();
    run_scenarios("pending", &files);
}

#[test]
fn random_strings() {
    random::run_family("strings", random::strings_cmd());
}

#[test]
fn random_keys() {
    random::run_family("keys", random::keys_cmd());
}

#[test]
fn random_expire() {
    random::run_family("expire", random::expire_cmd());
}

#[test]
fn random_sets() {
    random::run_family("sets", random::sets_cmd());
}

#[test]
fn random_lists() {
    random::run_family("lists", random::lists_cmd());
}

#[test]
fn random_stream() {
    random::run_family("stream", random::stream_cmd());
}

#[test]
fn random_hashes() {
    random::run_family("hashes", random::hashes_cmd());
}

#[test]
fn random_zset() {
    random::run_family("zset", random::zset_cmd());
}

#[test]
fn scenarios_hll() {
    family("hll");
}

#[test]
fn random_hll() {
    random::run_family("hll", random::hll_cmd());
}

#[test]
fn random_bitmaps() {
    random::run_family("bitmaps", random::bitmaps_cmd());
}

#[test]
fn random_geo() {
    random::run_family("geo", random::geo_cmd());
}

#[test]
fn random_sort() {
    random::run_family("sort", random::sort_cmd());
}

#[test]
fn scenarios_scripting() {
    family("scripting");
}

#[test]
fn scenarios_function_dump() {
    family("function_dump");
}

#[test]
fn scenarios_scripting_libs() {
    family("scripting_libs");
}
