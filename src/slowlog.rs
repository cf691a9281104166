//! SLOWLOG: commands that ran for at least `slowlog-log-slower-than`
//! microseconds, newest first, at most `slowlog-max-len` of them. Entries
//! keep Redis's trimmed argv (32 arguments, 128-byte strings) and the
//! client's address and name. The threshold is cached in an atomic so the
//! dispatch path pays one relaxed load and a compare.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

const MAX_ARGC: usize = 32;
const MAX_STRING: usize = 128;

pub struct Entry {
    pub id: i64,
    pub time: i64,
    pub duration_us: i64,
    pub argv: Vec<Vec<u8>>,
    pub addr: String,
    pub name: Vec<u8>,
}

#[derive(Default)]
struct Log {
    entries: VecDeque<Entry>,
    next_id: i64,
}

pub struct SlowLog {
    /// In microseconds; negative turns logging off.
    threshold: AtomicI64,
    max_len: AtomicUsize,
    log: Mutex<Log>,
}

impl Default for SlowLog {
    fn default() -> Self {
        SlowLog {
            threshold: AtomicI64::new(-1),
            max_len: AtomicUsize::new(0),
            log: Mutex::default(),
        }
    }
}

impl SlowLog {
    pub fn configure(&self, threshold_us: i64, max_len: usize) {
        self.threshold.store(threshold_us, Ordering::Relaxed);
        self.max_len.store(max_len, Ordering::Relaxed);
    }

    #[inline]
    pub fn wants(&self, duration_us: i64) -> bool {
        let t = self.threshold.load(Ordering::Relaxed);
        t >= 0 && duration_us >= t
    }

    /// Logs a command; `redacted` are argument positions shown as
    /// "(redacted)". Like Redis, a lowered max length trims on the next push.
    pub fn push(
        &self,
        args: &[&[u8]],
        redacted: &[usize],
        duration_us: i64,
        addr: String,
        name: Vec<u8>,
    ) {
        let argv = trim_argv(args, redacted);
        let max_len = self.max_len.load(Ordering::Relaxed);
        let mut log = self.log.lock();
        let id = log.next_id;
        log.next_id += 1;
        log.entries.push_front(Entry {
            id,
            time: crate::util::now_ms() / 1000,
            duration_us,
            argv,
            addr,
            name,
        });
        log.entries.truncate(max_len);
    }

    /// Runs `f` on the newest `count` entries (all with None).
    pub fn with_entries<R>(
        &self,
        count: Option<usize>,
        f: impl FnOnce(&mut dyn ExactSizeIterator<Item = &Entry>) -> R,
    ) -> R {
        let log = self.log.lock();
        let n = count.unwrap_or(usize::MAX).min(log.entries.len());
        f(&mut log.entries.iter().take(n))
    }

    pub fn len(&self) -> usize {
        self.log.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn reset(&self) {
        self.log.lock().entries.clear();
    }
}

/// Redis's slowlogCreateEntry argv: past 32 arguments the 32nd says how
/// many more there were; strings past 128 bytes say how many bytes more.
fn trim_argv(args: &[&[u8]], redacted: &[usize]) -> Vec<Vec<u8>> {
    let kept = args.len().min(MAX_ARGC);
    (0..kept)
        .map(|j| {
            if kept != args.len() && j == kept - 1 {
                format!("... ({} more arguments)", args.len() - kept + 1).into_bytes()
            } else if redacted.contains(&j) {
                b"(redacted)".to_vec()
            } else if args[j].len() > MAX_STRING {
                let mut s = args[j][..MAX_STRING].to_vec();
                s.extend_from_slice(
                    format!("... ({} more bytes)", args[j].len() - MAX_STRING).as_bytes(),
                );
                s
            } else {
                args[j].to_vec()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_like_redis() {
        let long = vec![b'x'; 130];
        let many: Vec<&[u8]> = std::iter::repeat_n(b"a".as_slice(), 40).collect();
        let argv = trim_argv(&many, &[]);
        assert_eq!(argv.len(), 32);
        assert_eq!(argv[31], b"... (9 more arguments)");
        let argv = trim_argv(&[b"set", &long, b"pw"], &[2]);
        let mut expect = vec![b'x'; 128];
        expect.extend_from_slice(b"... (2 more bytes)");
        assert_eq!(argv, [b"set".to_vec(), expect, b"(redacted)".to_vec()]);
    }

    #[test]
    fn keeps_the_newest_up_to_max_len() {
        let log = SlowLog::default();
        log.configure(0, 2);
        for arg in [b"a", b"b", b"c"] {
            log.push(&[arg], &[], 1, String::new(), Vec::new());
        }
        let ids = log.with_entries(None, |e| e.map(|e| e.id).collect::<Vec<_>>());
        assert_eq!(ids, [2, 1]);
        assert!(log.wants(0));
        log.configure(-1, 2);
        assert!(!log.wants(1_000_000));
    }
}
