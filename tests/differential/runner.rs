//! Runs cases against both servers and collects mismatches.

use super::compare::{compare, Mode};
use super::resp::{escape, Conn, Reply, Value};
use super::scenario::Step;
use super::server::{reference_binary, russet_binary, Server};
use std::io::Write;
use std::path::PathBuf;

/// The reference server and the server under test.
pub struct Pair {
    ref_bin: PathBuf,
    rus_bin: PathBuf,
    pub reference: Server,
    pub russet: Server,
    /// Cases in which russet gave no complete reply; after a few, the
    /// remaining cases are skipped (each such case costs a read timeout).
    stalls: usize,
}

const MAX_STALLS: usize = 5;

#[derive(Default, Debug)]
pub struct Stats {
    pub compared: usize,
    pub mismatches: Vec<String>,
}

fn verbose() -> bool {
    std::env::var("RUSSET_DIFF_VERBOSE").is_ok_and(|v| v == "1")
}

/// Renders a command like redis-cli input.
pub fn show_cmd(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| {
            let e = escape(a);
            if a.is_empty() || e.len() != a.len() || a.iter().any(|c| c.is_ascii_whitespace()) {
                format!("\"{e}\"")
            } else {
                e
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn show_reply(r: &Result<Reply, String>) -> String {
    match r {
        Ok(r) => format!("\"{}\"", escape(&r.raw)),
        Err(e) => format!("<{e}>"),
    }
}

impl Pair {
    /// Starts both servers, or returns `None` when the run is skipped.
    pub fn start() -> Option<Pair> {
        let ref_bin = reference_binary()?;
        let rus_bin = russet_binary();
        let reference = Server::start("reference", &ref_bin);
        let russet = Server::start("russet", &rus_bin);
        Some(Pair {
            ref_bin,
            rus_bin,
            reference,
            russet,
            stalls: 0,
        })
    }

    fn open(server: &Server, proto: u8) -> Result<Conn, String> {
        const DEFAULT_LIMITS: [&str; 20] = [
            "CONFIG",
            "SET",
            "zset-max-listpack-entries",
            "128",
            "zset-max-listpack-value",
            "64",
            "hash-max-listpack-entries",
            "128",
            "hash-max-listpack-value",
            "64",
            "set-max-intset-entries",
            "512",
            "list-max-listpack-size",
            "-2",
            "hll-sparse-max-bytes",
            "3000",
            "stream-node-max-entries",
            "100",
            "stream-node-max-bytes",
            "4096",
        ];
        let mut c = server
            .connect()
            .map_err(|e| format!("{} server: cannot connect: {e}", server.name))?;
        // Random families change encoding limits; each case starts from the
        // defaults so that a failing case replays from its own commands.
        let mut setup: Vec<&[&str]> = vec![&["FLUSHALL"], &["SELECT", "0"], &DEFAULT_LIMITS];
        if proto == 3 {
            setup.insert(0, &["HELLO", "3"]);
        }
        for cmd in setup {
            let r = c
                .call_str(cmd)
                .map_err(|e| format!("{} server: {cmd:?} failed: {e}", server.name))?;
            if matches!(r.value, Value::Error(_) | Value::BlobError(_)) {
                return Err(format!(
                    "{} server: {cmd:?} replied {}",
                    server.name,
                    escape(&r.raw)
                ));
            }
        }
        Ok(c)
    }

    /// Runs one case on fresh connections (after FLUSHALL, SELECT 0, and
    /// HELLO 3 for RESP3), comparing every reply; then checks both servers
    /// are still alive (restarting them if not, so later cases can run).
    pub fn run_case(&mut self, proto: u8, steps: &[Step], stats: &mut Stats) {
        if self.stalls >= MAX_STALLS {
            return;
        }
        let rc = Self::open(&self.reference, proto);
        let uc = Self::open(&self.russet, proto);
        let (mut rc, mut uc) = match (rc, uc) {
            (Ok(a), Ok(b)) => (a, b),
            (a, b) => {
                let loc = steps.first().map_or("?", |s| s.location.as_str());
                for e in [a.err(), b.err()].into_iter().flatten() {
                    stats
                        .mismatches
                        .push(format!("{loc} [RESP{proto}] case setup: {e}"));
                }
                self.ensure_alive(proto, loc, stats);
                return;
            }
        };
        let v = verbose();
        for step in steps {
            if step.proto.is_some_and(|p| p != proto) {
                continue;
            }
            let sent = rc.send(&step.args).and(uc.send(&step.args));
            if step.mode == Mode::NoReply {
                if let Err(e) = sent {
                    stats.mismatches.push(format!(
                        "{} [RESP{proto}] {}: send failed: {e}",
                        step.location,
                        show_cmd(&step.args)
                    ));
                    break;
                }
                continue;
            }
            let a = rc.read_reply().map_err(|e| e.to_string());
            let b = uc.read_reply().map_err(|e| e.to_string());
            if v {
                let _ = writeln!(
                    std::io::stderr(),
                    "{} [RESP{proto}] {} -> {}",
                    step.location,
                    show_cmd(&step.args),
                    show_reply(&a)
                );
            }
            if !matches!(step.mode, Mode::Any) {
                stats.compared += 1;
            }
            let verdict = match (&a, &b) {
                (Ok(x), Ok(y)) => compare(&step.mode, x, y),
                _ => Err("no complete reply".into()),
            };
            if let Err(why) = verdict {
                stats.mismatches.push(format!(
                    "{} [RESP{proto}] {}: {why}\n    redis:  {}\n    russet: {}",
                    step.location,
                    show_cmd(&step.args),
                    show_reply(&a),
                    show_reply(&b)
                ));
            }
            if b.is_err() {
                self.stalls += 1;
                if self.stalls == MAX_STALLS {
                    stats.mismatches.push(format!(
                        "russet gave no complete reply in {MAX_STALLS} cases: skipping the rest"
                    ));
                }
            }
            if a.is_err() || b.is_err() {
                break; // the connections are out of step; abandon the case
            }
        }
        let loc = steps.last().map_or("?", |s| s.location.as_str());
        self.ensure_alive(proto, loc, stats);
    }

    fn ensure_alive(&mut self, proto: u8, loc: &str, stats: &mut Stats) {
        if !self.reference.alive() {
            stats.mismatches.push(format!(
                "{loc} [RESP{proto}] reference server died during the case"
            ));
            self.reference = Server::start("reference", &self.ref_bin);
        }
        if !self.russet.alive() {
            stats.mismatches.push(format!(
                "{loc} [RESP{proto}] russet server died or stopped answering PING after the case"
            ));
            self.russet = Server::start("russet", &self.rus_bin);
        }
    }
}

/// Prints the per-family summary line (past the test harness's capture).
pub fn report(family: &str, stats: &Stats) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "differential {family}: {} commands compared, {} mismatches",
        stats.compared,
        stats.mismatches.len()
    );
}

/// Prints the mismatches and panics when there are any.
pub fn finish(family: &str, stats: &Stats) {
    report(family, stats);
    if !stats.mismatches.is_empty() {
        let mut err = std::io::stderr().lock();
        for m in &stats.mismatches {
            let _ = writeln!(err, "MISMATCH {m}");
        }
        drop(err);
        panic!(
            "differential {family}: {} mismatches (listed above)",
            stats.mismatches.len()
        );
    }
}
