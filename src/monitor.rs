//! MONITOR: every command a client runs, as one line to each monitoring
//! client, in Redis 7.0's format
//! (`+1700000000.123456 [0 127.0.0.1:5000] "set" "k" "v"`).
//!
//! A monitor is fed through the same queue and output-limit accounting as a
//! pub/sub subscriber (with the `replica` class limits, as Redis treats
//! monitors as replicas). With no monitor attached the dispatch path pays a
//! single relaxed load (`Monitors::active`).

use crate::commands::table::f;
use crate::commands::CommandSpec;
use crate::pubsub::{Message, OutputLimits, Subscriber};
use bytes::Bytes;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Default)]
pub struct Monitors {
    active: AtomicBool,
    list: RwLock<Vec<Arc<Subscriber>>>,
    limits: OutputLimits,
}

/// Where a monitored command came from.
pub enum Origin<'a> {
    Client(&'a str),
    Script,
}

impl Monitors {
    #[inline]
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    pub fn configure(&self, limits: [i64; 3]) {
        self.limits.set(limits);
    }

    pub fn add(&self, s: Arc<Subscriber>) {
        let mut list = self.list.write();
        list.push(s);
        self.active.store(true, Ordering::Relaxed);
    }

    pub fn remove(&self, s: &Arc<Subscriber>) {
        let mut list = self.list.write();
        list.retain(|m| !Arc::ptr_eq(m, s));
        self.active.store(!list.is_empty(), Ordering::Relaxed);
    }

    /// Sends the line for one command to every monitor.
    #[cold]
    pub fn feed(&self, db: usize, origin: Origin, cmd: &CommandSpec, args: &[&[u8]]) {
        let line = Bytes::from(format_line(crate::util::now_us(), db, origin, cmd, args));
        for m in self.list.read().iter() {
            m.send(Message::Raw(line.clone()), &self.limits);
        }
    }
}

/// When MONITOR shows a command.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Admin commands are never shown.
    Never,
    /// Scripts (the `skip_monitor` commands) announce themselves ahead of
    /// the commands they call.
    Before,
    /// Everything else once it ran, with the database it left selected.
    After,
}

pub fn feed_point(cmd: &CommandSpec) -> Feed {
    if cmd.has(f::ADMIN) {
        Feed::Never
    } else if cmd.has(f::SKIP_MONITOR) {
        Feed::Before
    } else {
        Feed::After
    }
}

fn format_line(
    now_us: i64,
    db: usize,
    origin: Origin,
    cmd: &CommandSpec,
    args: &[&[u8]],
) -> Vec<u8> {
    let mut out =
        format!("+{}.{:06} [{} ", now_us / 1_000_000, now_us % 1_000_000, db).into_bytes();
    match origin {
        Origin::Client(addr) => out.extend_from_slice(addr.as_bytes()),
        Origin::Script => out.extend_from_slice(b"lua"),
    }
    out.push(b']');
    let hidden = redacted(cmd, args);
    for (i, a) in args.iter().enumerate() {
        out.push(b' ');
        let a: &[u8] = if hidden.contains(&i) {
            b"(redacted)"
        } else {
            a
        };
        repr(&mut out, a);
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The arguments Redis 7.0 replaces by "(redacted)" in MONITOR and SLOWLOG:
/// AUTH's credentials, and HELLO's AUTH pair once HELLO's version parsed.
pub fn redacted(cmd: &CommandSpec, args: &[&[u8]]) -> smallvec::SmallVec<[usize; 4]> {
    let mut out = smallvec::SmallVec::new();
    match cmd.name {
        "auth" => out.extend(1..args.len()),
        "hello" => {
            let version_ok = crate::util::parse_i64(args.get(1).copied().unwrap_or(b"2"))
                .is_some_and(|v| (2..=3).contains(&v));
            let mut j = 2;
            while version_ok && j < args.len() {
                let more = args.len() - 1 - j;
                if args[j].eq_ignore_ascii_case(b"auth") && more >= 2 {
                    out.extend([j + 1, j + 2]);
                    j += 3;
                } else if args[j].eq_ignore_ascii_case(b"setname") && more >= 1 {
                    j += 2;
                } else {
                    break;
                }
            }
        }
        _ => {}
    }
    out
}

/// Redis's sdscatrepr: a double-quoted string with C escapes.
pub fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{:02x}", c).as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_sdscatrepr() {
        let mut out = Vec::new();
        repr(&mut out, b"a\x00\"\\\n\r\t\x07\x08\xc3\xbf ~\x7f");
        assert_eq!(out, br#""a\x00\"\\\n\r\t\a\b\xc3\xbf ~\x7f""#.to_vec());
    }

    #[test]
    fn line_format() {
        let set = crate::commands::lookup(&[b"set"]).unwrap();
        let line = format_line(
            1_700_000_000_000_042,
            3,
            Origin::Client("127.0.0.1:5"),
            set,
            &[b"SET", b"k", b"v"],
        );
        assert_eq!(
            line,
            b"+1700000000.000042 [3 127.0.0.1:5] \"SET\" \"k\" \"v\"\r\n".to_vec()
        );
        let auth = crate::commands::lookup(&[b"auth"]).unwrap();
        let line = format_line(0, 0, Origin::Script, auth, &[b"auth", b"u", b"p"]);
        assert_eq!(
            line,
            b"+0.000000 [0 lua] \"auth\" \"(redacted)\" \"(redacted)\"\r\n".to_vec()
        );
    }

    #[test]
    fn hello_redacts_auth_pairs_only_after_a_valid_version() {
        let hello = crate::commands::lookup(&[b"hello"]).unwrap();
        let r = |args: &[&[u8]]| redacted(hello, args).to_vec();
        assert_eq!(r(&[b"hello", b"3", b"AUTH", b"u", b"p"]), [3, 4]);
        assert_eq!(
            r(&[b"hello", b"3", b"setname", b"n", b"auth", b"u", b"p"]),
            [5, 6]
        );
        assert_eq!(
            r(&[b"hello", b"4", b"AUTH", b"u", b"p"]),
            Vec::<usize>::new()
        );
        assert_eq!(r(&[b"hello", b"3", b"AUTH", b"u"]), Vec::<usize>::new());
    }
}
