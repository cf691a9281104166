//! Configuration: one table of every supported option (name, aliases, type,
//! default, mutability), used by the config file parser, the command line,
//! CONFIG GET and CONFIG SET alike, with Redis's validation and error texts.

use crate::util::{glob_match, parse_i64};

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Bool,
    Int(i64, i64),
    /// Integer with memory units (1k, 1kb, 1mb, 1gb...).
    Memory(i64, i64),
    Enum(&'static [&'static str]),
    Str,
    /// Validated by `validate_special`.
    Special,
}

pub struct OptSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    pub default: &'static str,
    pub mutable: bool,
    /// Redis refuses CONFIG SET of these unless enable-protected-configs.
    pub protected: bool,
}

macro_rules! options {
    ($( $id:ident = $name:literal $aliases:expr, $kind:expr, $default:literal, $flags:ident; )*) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy)]
        #[repr(usize)]
        enum OptIndex { $($id,)* }
        $(pub const $id: usize = OptIndex::$id as usize;)*
        pub static OPTIONS: &[OptSpec] = &[
            $(OptSpec {
                name: $name,
                aliases: $aliases,
                kind: $kind,
                default: $default,
                mutable: !matches!(stringify!($flags).as_bytes(), b"immutable"),
                protected: matches!(stringify!($flags).as_bytes(), b"protected"),
            },)*
        ];
    };
}

const I32: (i64, i64) = (i32::MIN as i64, i32::MAX as i64);
const POS_I32: i64 = i32::MAX as i64;

options! {
    PORT = "port" &[], Kind::Int(0, 65535), "6379", immutable;
    BIND = "bind" &[], Kind::Special, "127.0.0.1 -::1", immutable;
    PROTECTED_MODE = "protected-mode" &[], Kind::Bool, "yes", mutable;
    REQUIREPASS = "requirepass" &[], Kind::Str, "", mutable;
    DATABASES = "databases" &[], Kind::Int(1, POS_I32), "16", immutable;
    MAXCLIENTS = "maxclients" &[], Kind::Int(1, u32::MAX as i64), "10000", mutable;
    TIMEOUT = "timeout" &[], Kind::Int(0, POS_I32), "0", mutable;
    TCP_KEEPALIVE = "tcp-keepalive" &[], Kind::Int(0, POS_I32), "300", mutable;
    THREADS = "threads" &[], Kind::Int(0, 1024), "0", immutable;
    DIR = "dir" &[], Kind::Special, "", protected;
    DBFILENAME = "dbfilename" &[], Kind::Str, "dump.rdb", protected;
    LOGFILE = "logfile" &[], Kind::Str, "", immutable;
    LOGLEVEL = "loglevel" &[], Kind::Enum(&["debug", "verbose", "notice", "warning"]), "notice", mutable;
    PROTO_MAX_BULK_LEN = "proto-max-bulk-len" &[], Kind::Memory(1024 * 1024, i64::MAX), "536870912", mutable;
    CLIENT_QUERY_BUFFER_LIMIT = "client-query-buffer-limit" &[], Kind::Memory(1024 * 1024, i64::MAX), "1073741824", mutable;
    CLIENT_OUTPUT_BUFFER_LIMIT = "client-output-buffer-limit" &[], Kind::Special,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", mutable;
    MAXMEMORY = "maxmemory" &[], Kind::Memory(0, i64::MAX), "0", mutable;
    MAXMEMORY_POLICY = "maxmemory-policy" &[], Kind::Enum(&["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
        "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]), "noeviction", mutable;
    MAXMEMORY_SAMPLES = "maxmemory-samples" &[], Kind::Int(1, 64), "5", mutable;
    MAXMEMORY_EVICTION_TENACITY = "maxmemory-eviction-tenacity" &[], Kind::Int(0, 100), "10", mutable;
    MAXMEMORY_CLIENTS = "maxmemory-clients" &[], Kind::Memory(0, i64::MAX), "0", mutable;
    HZ = "hz" &[], Kind::Int(0, POS_I32), "10", mutable;
    ACTIVE_EXPIRE_EFFORT = "active-expire-effort" &[], Kind::Int(1, 10), "1", mutable;
    LFU_LOG_FACTOR = "lfu-log-factor" &[], Kind::Int(0, POS_I32), "10", mutable;
    LFU_DECAY_TIME = "lfu-decay-time" &[], Kind::Int(0, POS_I32), "1", mutable;
    SAVE = "save" &[], Kind::Special, "3600 1 300 100 60 10000", mutable;
    APPENDONLY = "appendonly" &[], Kind::Bool, "no", mutable;
    APPENDFSYNC = "appendfsync" &[], Kind::Enum(&["always", "everysec", "no"]), "everysec", mutable;
    APPENDFILENAME = "appendfilename" &[], Kind::Str, "appendonly.aof", immutable;
    APPENDDIRNAME = "appenddirname" &[], Kind::Str, "appendonlydir", immutable;
    LIST_MAX_LISTPACK_SIZE = "list-max-listpack-size" &["list-max-ziplist-size"], Kind::Int(I32.0, I32.1), "-2", mutable;
    LIST_COMPRESS_DEPTH = "list-compress-depth" &[], Kind::Int(0, POS_I32), "0", mutable;
    HASH_MAX_LISTPACK_ENTRIES = "hash-max-listpack-entries" &["hash-max-ziplist-entries"], Kind::Int(0, i64::MAX), "512", mutable;
    HASH_MAX_LISTPACK_VALUE = "hash-max-listpack-value" &["hash-max-ziplist-value"], Kind::Memory(0, i64::MAX), "64", mutable;
    SET_MAX_INTSET_ENTRIES = "set-max-intset-entries" &[], Kind::Int(0, i64::MAX), "512", mutable;
    ZSET_MAX_LISTPACK_ENTRIES = "zset-max-listpack-entries" &["zset-max-ziplist-entries"], Kind::Int(0, i64::MAX), "128", mutable;
    ZSET_MAX_LISTPACK_VALUE = "zset-max-listpack-value" &["zset-max-ziplist-value"], Kind::Memory(0, i64::MAX), "64", mutable;
    HLL_SPARSE_MAX_BYTES = "hll-sparse-max-bytes" &[], Kind::Memory(0, i64::MAX), "3000", mutable;
    STREAM_NODE_MAX_BYTES = "stream-node-max-bytes" &[], Kind::Memory(0, i64::MAX), "4096", mutable;
    STREAM_NODE_MAX_ENTRIES = "stream-node-max-entries" &[], Kind::Int(0, i64::MAX), "100", mutable;
    NOTIFY_KEYSPACE_EVENTS = "notify-keyspace-events" &[], Kind::Special, "", mutable;
    SLOWLOG_LOG_SLOWER_THAN = "slowlog-log-slower-than" &[], Kind::Int(-1, i64::MAX), "10000", mutable;
    SLOWLOG_MAX_LEN = "slowlog-max-len" &[], Kind::Int(0, i64::MAX), "128", mutable;
    BUSY_REPLY_THRESHOLD = "busy-reply-threshold" &["lua-time-limit"], Kind::Int(0, i64::MAX), "5000", mutable;
    ENABLE_DEBUG_COMMAND = "enable-debug-command" &[], Kind::Enum(&["no", "yes", "local"]), "no", immutable;
    ENABLE_PROTECTED_CONFIGS = "enable-protected-configs" &[], Kind::Enum(&["no", "yes", "local"]), "no", immutable;
    DAEMONIZE = "daemonize" &[], Kind::Bool, "no", immutable;
}

/// Current values, as CONFIG GET prints them, plus the parsed number for
/// numeric and boolean options (hot paths read `num`).
#[derive(Clone)]
pub struct Config {
    text: Vec<String>,
    num: Vec<i64>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

pub fn lookup(name: &str) -> Option<usize> {
    OPTIONS.iter().position(|o| {
        o.name.eq_ignore_ascii_case(name) || o.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

impl Default for Config {
    fn default() -> Self {
        let mut c = Config {
            text: vec![String::new(); OPTIONS.len()],
            num: vec![0; OPTIONS.len()],
        };
        for (i, o) in OPTIONS.iter().enumerate() {
            let (text, num) = validate(i, o.default, "")
                .unwrap_or_else(|e| panic!("bad default for {}: {:?}", o.name, e));
            c.text[i] = text;
            c.num[i] = num;
        }
        c
    }
}

impl Config {
    pub fn num(&self, id: usize) -> i64 {
        self.num[id]
    }

    pub fn flag(&self, id: usize) -> bool {
        self.num[id] != 0
    }

    pub fn text(&self, id: usize) -> &str {
        &self.text[id]
    }

    /// Sets one option from a config file line or the command line (where
    /// immutable options are allowed).
    pub fn set_startup(&mut self, name: &str, args: &[String]) -> Result<(), ConfigError> {
        let id = lookup(name)
            .ok_or_else(|| ConfigError("Bad directive or wrong number of arguments".into()))?;
        // Repeated `save` lines accumulate, as do `bind` addresses given as
        // several arguments.
        let value = if id == SAVE && args.len() == 2 {
            let v = args.join(" ");
            if self.text[SAVE].is_empty() || self.text[SAVE] == OPTIONS[SAVE].default {
                v
            } else {
                format!("{} {}", self.text[SAVE], v)
            }
        } else {
            args.join(" ")
        };
        let (text, num) = validate(id, &value, &self.text[id])?;
        self.text[id] = text;
        self.num[id] = num;
        Ok(())
    }

    /// CONFIG SET of several pairs, all or nothing, with Redis's errors.
    pub fn set_runtime(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), ConfigError> {
        let mut staged: Vec<(usize, String, i64)> = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            let name_s = String::from_utf8_lossy(name);
            let Some(id) = lookup(&name_s) else {
                return Err(ConfigError(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                    name_s
                )));
            };
            let fail = |msg: &str| {
                ConfigError(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{}') - {}",
                    name_s, msg
                ))
            };
            if staged.iter().any(|(i, _, _)| *i == id) {
                return Err(fail("duplicate parameter"));
            }
            let spec = &OPTIONS[id];
            if !spec.mutable {
                return Err(fail("can't set immutable config"));
            }
            if spec.protected && self.text[ENABLE_PROTECTED_CONFIGS] == "no" {
                return Err(fail("can't set protected config"));
            }
            let value = String::from_utf8_lossy(value);
            let (text, num) = validate(id, &value, &self.text[id]).map_err(|e| fail(&e.0))?;
            staged.push((id, text, num));
        }
        for (id, text, num) in staged {
            self.text[id] = text;
            self.num[id] = num;
        }
        Ok(())
    }

    /// (name, value) pairs for CONFIG GET: a pattern without glob characters
    /// names one option (echoed as the client spelled it, like Redis); other
    /// patterns match every option name and alias.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, &str)> {
        fn push<'c>(name: String, value: &'c str, out: &mut Vec<(String, &'c str)>) {
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, value));
            }
        }
        let mut out: Vec<(String, &str)> = Vec::new();
        for p in patterns {
            if !p.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
                let name = String::from_utf8_lossy(p).into_owned();
                if let Some(id) = lookup(&name) {
                    push(name, self.text[id].as_str(), &mut out);
                }
                continue;
            }
            for (i, o) in OPTIONS.iter().enumerate() {
                for name in std::iter::once(&o.name).chain(o.aliases.iter()) {
                    if glob_match(p, name.as_bytes(), true) {
                        push(name.to_string(), self.text[i].as_str(), &mut out);
                    }
                }
            }
        }
        out
    }
}

/// Redis's memtoull: an integer with an optional b/k/kb/m/mb/g/gb unit.
pub fn parse_memory(s: &str) -> Option<i64> {
    if s.is_empty() {
        return Some(0);
    }
    let lower = s.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit() && c != '-')
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(split);
    let mul: i64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let n = digits.parse::<u64>().ok()?;
    let v = n.checked_mul(mul as u64)?;
    i64::try_from(v).ok()
}

fn validate(id: usize, value: &str, current: &str) -> Result<(String, i64), ConfigError> {
    let err = |m: &str| Err(ConfigError(m.to_string()));
    match OPTIONS[id].kind {
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "yes" => Ok(("yes".into(), 1)),
            "no" => Ok(("no".into(), 0)),
            _ => err("argument must be 'yes' or 'no'"),
        },
        Kind::Int(min, max) | Kind::Memory(min, max) => {
            let parsed = if matches!(OPTIONS[id].kind, Kind::Memory(..)) {
                match parse_memory(value) {
                    Some(n) => n,
                    None => return err("argument must be a memory value"),
                }
            } else {
                match parse_i64(value.as_bytes()) {
                    Some(n) => n,
                    None => return err("argument couldn't be parsed into an integer"),
                }
            };
            if parsed < min || parsed > max {
                return err(&format!(
                    "argument must be between {} and {} inclusive",
                    min, max
                ));
            }
            // Redis clamps hz to its supported range after validation.
            let parsed = if id == HZ {
                parsed.clamp(1, 500)
            } else {
                parsed
            };
            Ok((parsed.to_string(), parsed))
        }
        Kind::Enum(names) => {
            let lower = value.to_ascii_lowercase();
            match names.iter().position(|n| *n == lower) {
                Some(i) => Ok((lower, i as i64)),
                None => err(&format!(
                    "argument(s) must be one of the following: {}",
                    names.join(", ")
                )),
            }
        }
        Kind::Str => Ok((value.to_string(), 0)),
        Kind::Special => validate_special(id, value, current),
    }
}

fn validate_special(id: usize, value: &str, current: &str) -> Result<(String, i64), ConfigError> {
    let err = |m: &str| Err(ConfigError(m.to_string()));
    match id {
        SAVE => {
            let words: Vec<&str> = value.split_whitespace().collect();
            if !words.len().is_multiple_of(2)
                || words
                    .iter()
                    .any(|w| parse_i64(w.as_bytes()).is_none_or(|n| n < 0))
            {
                return err("Invalid save parameters");
            }
            Ok((words.join(" "), 0))
        }
        BIND => {
            let words: Vec<&str> = value.split_whitespace().collect();
            if words.is_empty() {
                return err("Failed to bind to specified addresses.");
            }
            Ok((words.join(" "), 0))
        }
        DIR => Ok((value.to_string(), 0)),
        NOTIFY_KEYSPACE_EVENTS => match crate::pubsub::events::parse(value) {
            Some(flags) => Ok((crate::pubsub::events::format(flags), flags as i64)),
            None => err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        },
        CLIENT_OUTPUT_BUFFER_LIMIT => parse_output_limits(value, current).map(|t| (t, 0)),
        _ => Ok((value.to_string(), 0)),
    }
}

/// `class hard soft seconds` triples for normal, replica and pubsub clients.
fn parse_output_limits(value: &str, current: &str) -> Result<String, ConfigError> {
    let words: Vec<&str> = value.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(4) {
        return Err(ConfigError(
            "Wrong number of arguments in buffer limit configuration.".into(),
        ));
    }
    let mut classes = [
        ("normal", [0i64; 3]),
        ("slave", [268435456, 67108864, 60]),
        ("pubsub", [33554432, 8388608, 60]),
    ];
    // Classes not named keep their current limits.
    let current_words: Vec<&str> = current.split_whitespace().collect();
    for chunk in current_words.chunks(4) {
        if let (Some(slot), [_, h, s, t]) =
            (classes.iter_mut().find(|(n, _)| *n == chunk[0]), chunk)
        {
            slot.1 = [
                h.parse().unwrap_or(0),
                s.parse().unwrap_or(0),
                t.parse().unwrap_or(0),
            ];
        }
    }
    for chunk in words.chunks(4) {
        let class = match chunk[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err(ConfigError(
                    "Invalid client class specified in buffer limit configuration.".into(),
                ))
            }
        };
        let hard = parse_memory(chunk[1]);
        let soft = parse_memory(chunk[2]);
        let secs = parse_i64(chunk[3].as_bytes());
        match (hard, soft, secs) {
            (Some(h), Some(s), Some(t)) if t >= 0 => classes[class].1 = [h, s, t],
            _ => {
                return Err(ConfigError(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                ))
            }
        }
    }
    Ok(classes
        .iter()
        .map(|(n, v)| format!("{} {} {} {}", n, v[0], v[1], v[2]))
        .collect::<Vec<_>>()
        .join(" "))
}

impl Config {
    /// Output buffer limits (hard, soft, soft seconds) for a client class.
    pub fn output_limits(&self, class: &str) -> [i64; 3] {
        let words: Vec<&str> = self.text[CLIENT_OUTPUT_BUFFER_LIMIT]
            .split_whitespace()
            .collect();
        for chunk in words.chunks(4) {
            if chunk.len() == 4 && chunk[0] == class {
                let n = |s: &str| s.parse::<i64>().unwrap_or(0);
                return [n(chunk[1]), n(chunk[2]), n(chunk[3])];
            }
        }
        [0, 0, 0]
    }
}

/// Parses a redis.conf file body into (line number, directive, arguments).
/// One config file line: (line number, directive, arguments).
pub type Directive = (usize, String, Vec<String>);

pub fn parse_file(body: &str) -> Result<Vec<Directive>, (usize, String, String)> {
    let mut out = Vec::new();
    for (i, line) in body.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut words = Vec::new();
        if crate::protocol::split_args(trimmed.as_bytes(), &mut words).is_none() {
            return Err((
                i + 1,
                line.to_string(),
                "Unbalanced quotes in configuration line".into(),
            ));
        }
        let mut words = words
            .into_iter()
            .map(|w| String::from_utf8_lossy(&w).into_owned());
        if let Some(name) = words.next() {
            out.push((i + 1, name.to_ascii_lowercase(), words.collect()));
        }
    }
    Ok(out)
}

/// Turns `--name value ... --other value` command-line arguments into config
/// directives, as redis-server does.
pub fn parse_cli(args: &[String]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for a in args {
        if let Some(name) = a.strip_prefix("--") {
            out.push((name.to_ascii_lowercase(), Vec::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push(a.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_like_redis() {
        let mut c = Config::default();
        assert_eq!(c.num(PROTO_MAX_BULK_LEN), 512 * 1024 * 1024);
        let e = c.set_runtime(&[(b"maxmemory", b"abc")]).unwrap_err().0;
        assert_eq!(e, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value");
        let e = c.set_runtime(&[(b"foo", b"bar")]).unwrap_err().0;
        assert_eq!(
            e,
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
        );
        let e = c
            .set_runtime(&[(b"hz", b"10"), (b"hz", b"11")])
            .unwrap_err()
            .0;
        assert!(e.ends_with("duplicate parameter"));
        c.set_runtime(&[(b"maxmemory", b"1GB"), (b"hz", b"100000")])
            .unwrap();
        assert_eq!(c.text(MAXMEMORY), "1073741824");
        assert_eq!(c.num(HZ), 500);
        c.set_runtime(&[(b"list-max-ziplist-size", b"5")]).unwrap();
        assert_eq!(c.num(LIST_MAX_LISTPACK_SIZE), 5);
        let got = c.get_matching(&[b"list-max-*"]);
        assert_eq!(got.len(), 2);
        assert!(c.set_runtime(&[(b"save", b"1 2 3")]).is_err());
        c.set_runtime(&[(b"notify-keyspace-events", b"KEA")])
            .unwrap();
        assert_eq!(c.text(NOTIFY_KEYSPACE_EVENTS), "AKE");
    }
}
