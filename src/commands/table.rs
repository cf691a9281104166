//! The command table: every command's name, arity, flags, key positions
//! (first, last, step, as Redis defines them) and ACL categories, and the
//! handler that runs it. Dispatch, arity errors, key locking and COMMAND
//! output all read this one table.

use super::{
    bitmap, blocking, bloom, connection, geo, hll, keys, list, ops, pubsub, scripting, server, set,
    sort, stream, string, transaction, zset, Ctx, KeyIndices,
};
use crate::store::Store;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

pub type Handler = fn(&mut Ctx<'_>, &mut Store<'_>);

/// Command flags, in the order COMMAND INFO prints them.
pub mod f {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const ASKING: u32 = 1 << 11;
    pub const FAST: u32 = 1 << 12;
    pub const NO_AUTH: u32 = 1 << 13;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 14;
    pub const NO_ASYNC_LOADING: u32 = 1 << 15;
    pub const NO_MULTI: u32 = 1 << 16;
    pub const MOVABLE_KEYS: u32 = 1 << 17;
    pub const ALLOW_BUSY: u32 = 1 << 18;
    /// russet-internal, not printed: the command locks every shard.
    pub const ALL_SHARDS: u32 = 1 << 31;
    /// Hidden in COMMAND output, as in Redis: allowed only by a config option.
    pub const PROTECTED: u32 = 1 << 30;
    /// russet-internal: the key positions name shard channels (Redis's
    /// `not_key` key spec). COMMAND shows them; nothing locks them and
    /// COMMAND GETKEYS finds none.
    pub const NOT_KEY: u32 = 1 << 29;
    /// russet-internal, Redis's `may_replicate` (not printed by 7.0): a
    /// write-paused server (CLIENT PAUSE WRITE) holds these back too.
    pub const MAY_REPLICATE: u32 = 1 << 28;

    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories, in the order Redis prints them.
pub mod acl {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const SET: u32 = 1 << 3;
    pub const SORTEDSET: u32 = 1 << 4;
    pub const LIST: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const STRING: u32 = 1 << 7;
    pub const BITMAP: u32 = 1 << 8;
    pub const HYPERLOGLOG: u32 = 1 << 9;
    pub const GEO: u32 = 1 << 10;
    pub const STREAM: u32 = 1 << 11;
    pub const PUBSUB: u32 = 1 << 12;
    pub const ADMIN: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const SLOW: u32 = 1 << 15;
    pub const BLOCKING: u32 = 1 << 16;
    pub const DANGEROUS: u32 = 1 << 17;
    pub const CONNECTION: u32 = 1 << 18;
    pub const TRANSACTION: u32 = 1 << 19;
    pub const SCRIPTING: u32 = 1 << 20;
    /// Redis 8's category of the RedisBloom commands.
    pub const BLOOM: u32 = 1 << 21;

    pub const NAMES: &[&str] = &[
        "keyspace",
        "read",
        "write",
        "set",
        "sortedset",
        "list",
        "hash",
        "string",
        "bitmap",
        "hyperloglog",
        "geo",
        "stream",
        "pubsub",
        "admin",
        "fast",
        "slow",
        "blocking",
        "dangerous",
        "connection",
        "transaction",
        "scripting",
        "bloom",
    ];
}

pub struct CommandSpec {
    pub name: &'static str,
    /// The container command's name for subcommands ("config" for CONFIG GET).
    pub parent: &'static str,
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// For commands whose keys are counted by an argument (Redis's "keynum"
    /// key spec, e.g. SINTERCARD numkeys key...): the index of that count,
    /// the keys following it; 0 for none.
    pub numkeys_at: usize,
    /// For commands whose options name keys or make them read keys no
    /// argument names (Redis's getkeys procs).
    pub keys_proc: Option<&'static KeysProc>,
    pub categories: u32,
    pub handler: Handler,
    pub subcommands: &'static [CommandSpec],
}

/// Keys found by parsing a command's options (SORT and GEORADIUS ... STORE
/// dst, SORT's BY/GET patterns). Both functions must agree with how the
/// handler parses its arguments, so they call the handler's own parser.
pub struct KeysProc {
    /// Appends the positions of the keys named by options.
    pub extra: fn(&[&[u8]], &mut KeyIndices),
    /// Whether these arguments make the command read keys that no argument
    /// names (SORT BY/GET patterns): it then locks every shard.
    pub undeclared: fn(&[&[u8]]) -> bool,
}

impl CommandSpec {
    #[inline]
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// "config|get" for subcommands, like Redis's fullname.
    pub fn fullname(&self) -> Cow<'static, str> {
        if self.parent.is_empty() {
            Cow::Borrowed(self.name)
        } else {
            Cow::Owned(format!("{}|{}", self.parent, self.name))
        }
    }

    #[inline]
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }

    /// Positions of the key arguments, from first/last/step and numkeys.
    pub fn key_indices(&self, args: &[&[u8]]) -> KeyIndices {
        let mut out = KeyIndices::new();
        if self.has(f::NOT_KEY) {
            return out;
        }
        if self.first_key <= 0 {
            if self.numkeys_at > 0 {
                out.extend(self.counted_keys(args));
            }
            if let Some(p) = self.keys_proc {
                (p.extra)(args, &mut out);
            }
            return out;
        }
        let argc = args.len() as i32;
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key
        };
        let mut i = self.first_key;
        while i <= last && i < argc {
            out.push(i as usize);
            i += self.step.max(1);
        }
        if self.numkeys_at > 0 {
            out.extend(self.counted_keys(args));
        }
        if let Some(p) = self.keys_proc {
            (p.extra)(args, &mut out);
        }
        out
    }

    /// Whether running these arguments needs every shard locked.
    pub fn locks_all(&self, args: &[&[u8]]) -> bool {
        self.has(f::ALL_SHARDS) || self.keys_proc.is_some_and(|p| (p.undeclared)(args))
    }

    /// The keys counted by argument `numkeys_at`; none when the count is not
    /// a positive integer or exceeds the arguments (the command then fails
    /// before touching any key).
    fn counted_keys(&self, args: &[&[u8]]) -> std::ops::Range<usize> {
        let at = self.numkeys_at;
        let n = args
            .get(at)
            .and_then(|a| crate::util::parse_i64(a))
            .filter(|&n| n > 0 && n as u64 <= (args.len() - at - 1) as u64)
            .unwrap_or(0) as usize;
        at + 1..at + 1 + n
    }

    /// The module Redis 8 serves the command from ("bf" for the Bloom
    /// filter commands of RedisBloom); None for Redis's own commands.
    pub fn module(&self) -> Option<&'static str> {
        self.name.strip_prefix("bf.").map(|_| "bf")
    }

    /// Whether the command has key arguments at all (COMMAND GETKEYS).
    pub fn takes_keys(&self) -> bool {
        (self.first_key > 0 || self.numkeys_at > 0 || self.keys_proc.is_some())
            && !self.has(f::NOT_KEY)
    }
}

macro_rules! cmd {
    ($name:literal, $arity:expr, $flags:expr, [$first:expr, $last:expr, $step:expr], $cats:expr, $handler:path, numkeys_at = $at:expr) => {
        CommandSpec {
            numkeys_at: $at,
            ..cmd!(
                $name,
                $arity,
                $flags,
                [$first, $last, $step],
                $cats,
                $handler
            )
        }
    };
    ($name:literal, $arity:expr, $flags:expr, [$first:expr, $last:expr, $step:expr], $cats:expr, $handler:path, keys_proc = $p:expr) => {
        CommandSpec {
            keys_proc: Some($p),
            ..cmd!(
                $name,
                $arity,
                $flags,
                [$first, $last, $step],
                $cats,
                $handler
            )
        }
    };
    ($name:literal, $arity:expr, $flags:expr, [$first:expr, $last:expr, $step:expr], $cats:expr, $handler:path) => {
        CommandSpec {
            name: $name,
            parent: "",
            arity: $arity,
            flags: $flags,
            first_key: $first,
            last_key: $last,
            step: $step,
            numkeys_at: 0,
            keys_proc: None,
            categories: $cats,
            handler: $handler,
            subcommands: &[],
        }
    };
}

macro_rules! container {
    ($name:literal, $arity:expr, $flags:expr, $cats:expr, $handler:path, [$($sub:expr,)*]) => {
        CommandSpec {
            name: $name,
            parent: "",
            arity: $arity,
            flags: $flags,
            first_key: 0,
            last_key: 0,
            step: 0,
            numkeys_at: 0,
            keys_proc: None,
            categories: $cats,
            handler: $handler,
            subcommands: &[$(CommandSpec { parent: $name, ..$sub },)*],
        }
    };
}

pub static COMMANDS: &[CommandSpec] = &[
    cmd!(
        "ping",
        -1,
        f::FAST,
        [0, 0, 0],
        acl::FAST | acl::CONNECTION,
        connection::ping
    ),
    cmd!(
        "echo",
        2,
        f::LOADING | f::STALE | f::FAST,
        [0, 0, 0],
        acl::FAST | acl::CONNECTION,
        connection::echo
    ),
    cmd!(
        "quit",
        -1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::NO_AUTH | f::ALLOW_BUSY,
        [0, 0, 0],
        acl::FAST | acl::CONNECTION,
        connection::quit
    ),
    cmd!(
        "reset",
        1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::NO_AUTH | f::ALLOW_BUSY,
        [0, 0, 0],
        acl::FAST | acl::CONNECTION,
        connection::reset
    ),
    cmd!(
        "hello",
        -1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::NO_AUTH | f::ALLOW_BUSY,
        [0, 0, 0],
        acl::FAST | acl::CONNECTION,
        connection::hello
    ),
    cmd!(
        "auth",
        -2,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::NO_AUTH | f::ALLOW_BUSY,
        [0, 0, 0],
        acl::FAST | acl::CONNECTION,
        connection::auth
    ),
    cmd!(
        "select",
        2,
        f::LOADING | f::STALE | f::FAST,
        [0, 0, 0],
        acl::FAST | acl::CONNECTION,
        connection::select
    ),
    container!(
        "client",
        -2,
        0,
        acl::SLOW,
        container_without_subcommand,
        [
            cmd!(
                "getname",
                2,
                f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                connection::client_getname
            ),
            cmd!(
                "help",
                2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                connection::client_help
            ),
            cmd!(
                "id",
                2,
                f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                connection::client_id
            ),
            cmd!(
                "info",
                2,
                f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                connection::client_info
            ),
            cmd!(
                "kill",
                -3,
                f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION,
                connection::client_kill
            ),
            cmd!(
                "unblock",
                -3,
                f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION,
                blocking::client_unblock
            ),
            cmd!(
                "list",
                -2,
                f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION,
                connection::client_list
            ),
            cmd!(
                "no-evict",
                3,
                f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION,
                connection::client_no_evict
            ),
            cmd!(
                "pause",
                -3,
                f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION,
                ops::client_pause
            ),
            cmd!(
                "unpause",
                2,
                f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION,
                ops::client_unpause
            ),
            cmd!(
                "reply",
                3,
                f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                connection::client_reply
            ),
            cmd!(
                "setinfo",
                4,
                f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                connection::client_setinfo
            ),
            cmd!(
                "setname",
                3,
                f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                connection::client_setname
            ),
        ]
    ),
    cmd!(
        "del",
        -2,
        f::WRITE,
        [1, -1, 1],
        acl::KEYSPACE | acl::WRITE | acl::SLOW,
        keys::del
    ),
    cmd!(
        "unlink",
        -2,
        f::WRITE | f::FAST,
        [1, -1, 1],
        acl::KEYSPACE | acl::WRITE | acl::FAST,
        keys::unlink
    ),
    cmd!(
        "exists",
        -2,
        f::READONLY | f::FAST,
        [1, -1, 1],
        acl::KEYSPACE | acl::READ | acl::FAST,
        keys::exists
    ),
    cmd!(
        "type",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::KEYSPACE | acl::READ | acl::FAST,
        keys::type_cmd
    ),
    cmd!(
        "rename",
        3,
        f::WRITE,
        [1, 2, 1],
        acl::KEYSPACE | acl::WRITE | acl::SLOW,
        keys::rename
    ),
    cmd!(
        "renamenx",
        3,
        f::WRITE | f::FAST,
        [1, 2, 1],
        acl::KEYSPACE | acl::WRITE | acl::FAST,
        keys::renamenx
    ),
    cmd!(
        "move",
        3,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::KEYSPACE | acl::WRITE | acl::FAST,
        keys::move_cmd
    ),
    cmd!(
        "copy",
        -3,
        f::WRITE | f::DENYOOM,
        [1, 2, 1],
        acl::KEYSPACE | acl::WRITE | acl::SLOW,
        keys::copy
    ),
    cmd!(
        "swapdb",
        3,
        f::WRITE | f::FAST | f::ALL_SHARDS,
        [0, 0, 0],
        acl::KEYSPACE | acl::WRITE | acl::FAST | acl::DANGEROUS,
        keys::swapdb
    ),
    cmd!(
        "keys",
        2,
        f::READONLY | f::ALL_SHARDS,
        [0, 0, 0],
        acl::KEYSPACE | acl::READ | acl::SLOW | acl::DANGEROUS,
        keys::keys
    ),
    cmd!(
        "scan",
        -2,
        f::READONLY,
        [0, 0, 0],
        acl::KEYSPACE | acl::READ | acl::SLOW,
        keys::scan
    ),
    cmd!(
        "randomkey",
        1,
        f::READONLY | f::ALL_SHARDS,
        [0, 0, 0],
        acl::KEYSPACE | acl::READ | acl::SLOW,
        keys::randomkey
    ),
    cmd!(
        "dbsize",
        1,
        f::READONLY | f::FAST | f::ALL_SHARDS,
        [0, 0, 0],
        acl::KEYSPACE | acl::READ | acl::FAST,
        keys::dbsize
    ),
    cmd!(
        "flushdb",
        -1,
        f::WRITE | f::ALL_SHARDS,
        [0, 0, 0],
        acl::KEYSPACE | acl::WRITE | acl::SLOW | acl::DANGEROUS,
        keys::flushdb
    ),
    cmd!(
        "flushall",
        -1,
        f::WRITE | f::ALL_SHARDS,
        [0, 0, 0],
        acl::KEYSPACE | acl::WRITE | acl::SLOW | acl::DANGEROUS,
        keys::flushall
    ),
    cmd!(
        "touch",
        -2,
        f::READONLY | f::FAST,
        [1, -1, 1],
        acl::KEYSPACE | acl::READ | acl::FAST,
        keys::touch
    ),
    container!(
        "object",
        -2,
        0,
        acl::SLOW,
        container_without_subcommand,
        [
            cmd!(
                "encoding",
                3,
                f::READONLY,
                [2, 2, 1],
                acl::KEYSPACE | acl::READ | acl::SLOW,
                keys::object_encoding
            ),
            cmd!(
                "freq",
                3,
                f::READONLY,
                [2, 2, 1],
                acl::KEYSPACE | acl::READ | acl::SLOW,
                keys::object_freq
            ),
            cmd!(
                "help",
                2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::KEYSPACE | acl::SLOW,
                keys::object_help
            ),
            cmd!(
                "idletime",
                3,
                f::READONLY,
                [2, 2, 1],
                acl::KEYSPACE | acl::READ | acl::SLOW,
                keys::object_idletime
            ),
            cmd!(
                "refcount",
                3,
                f::READONLY,
                [2, 2, 1],
                acl::KEYSPACE | acl::READ | acl::SLOW,
                keys::object_refcount
            ),
        ]
    ),
    cmd!(
        "expire",
        -3,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::KEYSPACE | acl::WRITE | acl::FAST,
        keys::expire
    ),
    cmd!(
        "pexpire",
        -3,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::KEYSPACE | acl::WRITE | acl::FAST,
        keys::pexpire
    ),
    cmd!(
        "expireat",
        -3,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::KEYSPACE | acl::WRITE | acl::FAST,
        keys::expireat
    ),
    cmd!(
        "pexpireat",
        -3,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::KEYSPACE | acl::WRITE | acl::FAST,
        keys::pexpireat
    ),
    cmd!(
        "ttl",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::KEYSPACE | acl::READ | acl::FAST,
        keys::ttl
    ),
    cmd!(
        "pttl",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::KEYSPACE | acl::READ | acl::FAST,
        keys::pttl
    ),
    cmd!(
        "expiretime",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::KEYSPACE | acl::READ | acl::FAST,
        keys::expiretime
    ),
    cmd!(
        "pexpiretime",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::KEYSPACE | acl::READ | acl::FAST,
        keys::pexpiretime
    ),
    cmd!(
        "persist",
        2,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::KEYSPACE | acl::WRITE | acl::FAST,
        keys::persist
    ),
    cmd!(
        "set",
        -3,
        f::WRITE | f::DENYOOM,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::SLOW,
        string::set
    ),
    cmd!(
        "get",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::STRING | acl::FAST,
        string::get
    ),
    cmd!(
        "getex",
        -2,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::FAST,
        string::getex
    ),
    cmd!(
        "getdel",
        2,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::FAST,
        string::getdel
    ),
    cmd!(
        "getset",
        3,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::FAST,
        string::getset
    ),
    cmd!(
        "mget",
        -2,
        f::READONLY | f::FAST,
        [1, -1, 1],
        acl::READ | acl::STRING | acl::FAST,
        string::mget
    ),
    cmd!(
        "mset",
        -3,
        f::WRITE | f::DENYOOM,
        [1, -1, 2],
        acl::WRITE | acl::STRING | acl::SLOW,
        string::mset
    ),
    cmd!(
        "msetnx",
        -3,
        f::WRITE | f::DENYOOM,
        [1, -1, 2],
        acl::WRITE | acl::STRING | acl::SLOW,
        string::msetnx
    ),
    cmd!(
        "setnx",
        3,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::FAST,
        string::setnx
    ),
    cmd!(
        "setex",
        4,
        f::WRITE | f::DENYOOM,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::SLOW,
        string::setex
    ),
    cmd!(
        "psetex",
        4,
        f::WRITE | f::DENYOOM,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::SLOW,
        string::psetex
    ),
    cmd!(
        "append",
        3,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::FAST,
        string::append
    ),
    cmd!(
        "strlen",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::STRING | acl::FAST,
        string::strlen
    ),
    cmd!(
        "getrange",
        4,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::STRING | acl::SLOW,
        string::getrange
    ),
    cmd!(
        "substr",
        4,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::STRING | acl::SLOW,
        string::substr
    ),
    cmd!(
        "setrange",
        4,
        f::WRITE | f::DENYOOM,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::SLOW,
        string::setrange
    ),
    cmd!(
        "incr",
        2,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::FAST,
        string::incr
    ),
    cmd!(
        "decr",
        2,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::FAST,
        string::decr
    ),
    cmd!(
        "incrby",
        3,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::FAST,
        string::incrby
    ),
    cmd!(
        "decrby",
        3,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::FAST,
        string::decrby
    ),
    cmd!(
        "incrbyfloat",
        3,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STRING | acl::FAST,
        string::incrbyfloat
    ),
    cmd!(
        "lcs",
        -3,
        f::READONLY,
        [1, 2, 1],
        acl::READ | acl::STRING | acl::SLOW,
        string::lcs
    ),
    cmd!(
        "setbit",
        4,
        f::WRITE | f::DENYOOM,
        [1, 1, 1],
        acl::WRITE | acl::BITMAP | acl::SLOW,
        bitmap::setbit
    ),
    cmd!(
        "getbit",
        3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::BITMAP | acl::FAST,
        bitmap::getbit
    ),
    cmd!(
        "bitcount",
        -2,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::BITMAP | acl::SLOW,
        bitmap::bitcount
    ),
    cmd!(
        "bitpos",
        -3,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::BITMAP | acl::SLOW,
        bitmap::bitpos
    ),
    cmd!(
        "bitop",
        -4,
        f::WRITE | f::DENYOOM,
        [2, -1, 1],
        acl::WRITE | acl::BITMAP | acl::SLOW,
        bitmap::bitop
    ),
    cmd!(
        "bitfield",
        -2,
        f::WRITE | f::DENYOOM,
        [1, 1, 1],
        acl::WRITE | acl::BITMAP | acl::SLOW,
        bitmap::bitfield
    ),
    cmd!(
        "bitfield_ro",
        -2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::BITMAP | acl::FAST,
        bitmap::bitfield_ro
    ),
    cmd!(
        "subscribe",
        -2,
        f::PUBSUB | f::NOSCRIPT | f::LOADING | f::STALE,
        [0, 0, 0],
        acl::PUBSUB | acl::SLOW,
        pubsub::subscribe
    ),
    cmd!(
        "unsubscribe",
        -1,
        f::PUBSUB | f::NOSCRIPT | f::LOADING | f::STALE,
        [0, 0, 0],
        acl::PUBSUB | acl::SLOW,
        pubsub::unsubscribe
    ),
    cmd!(
        "psubscribe",
        -2,
        f::PUBSUB | f::NOSCRIPT | f::LOADING | f::STALE,
        [0, 0, 0],
        acl::PUBSUB | acl::SLOW,
        pubsub::psubscribe
    ),
    cmd!(
        "punsubscribe",
        -1,
        f::PUBSUB | f::NOSCRIPT | f::LOADING | f::STALE,
        [0, 0, 0],
        acl::PUBSUB | acl::SLOW,
        pubsub::punsubscribe
    ),
    cmd!(
        "publish",
        3,
        f::MAY_REPLICATE | f::PUBSUB | f::LOADING | f::STALE | f::FAST,
        [0, 0, 0],
        acl::PUBSUB | acl::FAST,
        pubsub::publish
    ),
    cmd!(
        "ssubscribe",
        -2,
        f::PUBSUB | f::NOSCRIPT | f::LOADING | f::STALE | f::NOT_KEY,
        [1, -1, 1],
        acl::PUBSUB | acl::SLOW,
        pubsub::ssubscribe
    ),
    cmd!(
        "sunsubscribe",
        -1,
        f::PUBSUB | f::NOSCRIPT | f::LOADING | f::STALE | f::NOT_KEY,
        [1, -1, 1],
        acl::PUBSUB | acl::SLOW,
        pubsub::sunsubscribe
    ),
    cmd!(
        "spublish",
        3,
        f::MAY_REPLICATE | f::PUBSUB | f::LOADING | f::STALE | f::FAST | f::NOT_KEY,
        [1, 1, 1],
        acl::PUBSUB | acl::FAST,
        pubsub::spublish
    ),
    container!(
        "pubsub",
        -2,
        0,
        acl::SLOW,
        container_without_subcommand,
        [
            cmd!(
                "channels",
                -2,
                f::PUBSUB | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::PUBSUB | acl::SLOW,
                pubsub::pubsub_channels
            ),
            cmd!(
                "help",
                2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW,
                pubsub::pubsub_help
            ),
            cmd!(
                "numpat",
                2,
                f::PUBSUB | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::PUBSUB | acl::SLOW,
                pubsub::pubsub_numpat
            ),
            cmd!(
                "numsub",
                -2,
                f::PUBSUB | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::PUBSUB | acl::SLOW,
                pubsub::pubsub_numsub
            ),
            cmd!(
                "shardchannels",
                -2,
                f::PUBSUB | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::PUBSUB | acl::SLOW,
                pubsub::pubsub_shardchannels
            ),
            cmd!(
                "shardnumsub",
                -2,
                f::PUBSUB | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::PUBSUB | acl::SLOW,
                pubsub::pubsub_shardnumsub
            ),
        ]
    ),
    cmd!(
        "multi",
        1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::ALLOW_BUSY,
        [0, 0, 0],
        acl::FAST | acl::TRANSACTION,
        transaction::multi
    ),
    cmd!(
        "exec",
        1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::SKIP_SLOWLOG,
        [0, 0, 0],
        acl::SLOW | acl::TRANSACTION,
        transaction::exec
    ),
    cmd!(
        "discard",
        1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::ALLOW_BUSY,
        [0, 0, 0],
        acl::FAST | acl::TRANSACTION,
        transaction::discard
    ),
    cmd!(
        "watch",
        -2,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::ALLOW_BUSY,
        [1, -1, 1],
        acl::FAST | acl::TRANSACTION,
        transaction::watch
    ),
    cmd!(
        "unwatch",
        1,
        f::NOSCRIPT | f::LOADING | f::STALE | f::FAST | f::ALLOW_BUSY,
        [0, 0, 0],
        acl::FAST | acl::TRANSACTION,
        transaction::unwatch
    ),
    cmd!(
        "info",
        -1,
        f::LOADING | f::STALE,
        [0, 0, 0],
        acl::SLOW | acl::DANGEROUS,
        server::info
    ),
    container!(
        "config",
        -2,
        0,
        acl::SLOW,
        container_without_subcommand,
        [
            cmd!(
                "get",
                -3,
                f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::ADMIN | acl::SLOW | acl::DANGEROUS,
                server::config_get
            ),
            cmd!(
                "help",
                2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW,
                server::config_help
            ),
            cmd!(
                "resetstat",
                2,
                f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::ADMIN | acl::SLOW | acl::DANGEROUS,
                server::config_resetstat
            ),
            cmd!(
                "set",
                -4,
                f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::ADMIN | acl::SLOW | acl::DANGEROUS,
                server::config_set
            ),
        ]
    ),
    container!(
        "command",
        -1,
        f::LOADING | f::STALE,
        acl::SLOW | acl::CONNECTION,
        server::command_all,
        [
            cmd!(
                "count",
                2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                server::command_count
            ),
            cmd!(
                "docs",
                -2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                server::command_docs
            ),
            cmd!(
                "getkeys",
                -4,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                server::command_getkeys
            ),
            cmd!(
                "getkeysandflags",
                -4,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                server::command_getkeysandflags
            ),
            cmd!(
                "help",
                2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                server::command_help
            ),
            cmd!(
                "info",
                -2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                server::command_info
            ),
            cmd!(
                "list",
                -2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::CONNECTION,
                server::command_list
            ),
        ]
    ),
    cmd!(
        "time",
        1,
        f::LOADING | f::STALE | f::FAST,
        [0, 0, 0],
        acl::FAST,
        server::time
    ),
    cmd!(
        "monitor",
        1,
        f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE,
        [0, 0, 0],
        acl::ADMIN | acl::SLOW | acl::DANGEROUS,
        ops::monitor
    ),
    container!(
        "slowlog",
        -2,
        0,
        acl::SLOW,
        container_without_subcommand,
        [
            cmd!(
                "reset",
                2,
                f::ADMIN | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::ADMIN | acl::SLOW | acl::DANGEROUS,
                ops::slowlog_reset
            ),
            cmd!(
                "get",
                -2,
                f::ADMIN | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::ADMIN | acl::SLOW | acl::DANGEROUS,
                ops::slowlog_get
            ),
            cmd!(
                "len",
                2,
                f::ADMIN | f::LOADING | f::STALE,
                [0, 0, 0],
                acl::ADMIN | acl::SLOW | acl::DANGEROUS,
                ops::slowlog_len
            ),
            cmd!(
                "help",
                2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW,
                ops::slowlog_help
            ),
        ]
    ),
    cmd!(
        "lastsave",
        1,
        f::LOADING | f::STALE | f::FAST,
        [0, 0, 0],
        acl::ADMIN | acl::FAST | acl::DANGEROUS,
        server::lastsave
    ),
    cmd!(
        "shutdown",
        -1,
        f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE | f::NO_MULTI | f::ALLOW_BUSY,
        [0, 0, 0],
        acl::ADMIN | acl::SLOW | acl::DANGEROUS,
        server::shutdown
    ),
    cmd!(
        "debug",
        -2,
        f::ADMIN | f::NOSCRIPT | f::LOADING | f::STALE | f::PROTECTED,
        [0, 0, 0],
        acl::ADMIN | acl::SLOW | acl::DANGEROUS,
        server::debug
    ),
    // ---- scripting ----
    cmd!(
        "eval",
        -3,
        f::MAY_REPLICATE
            | f::NOSCRIPT
            | f::STALE
            | f::SKIP_MONITOR
            | f::NO_MANDATORY_KEYS
            | f::MOVABLE_KEYS
            | f::ALL_SHARDS,
        [0, 0, 0],
        acl::SLOW | acl::SCRIPTING,
        scripting::eval,
        numkeys_at = 2
    ),
    cmd!(
        "evalsha",
        -3,
        f::MAY_REPLICATE
            | f::NOSCRIPT
            | f::STALE
            | f::SKIP_MONITOR
            | f::NO_MANDATORY_KEYS
            | f::MOVABLE_KEYS
            | f::ALL_SHARDS,
        [0, 0, 0],
        acl::SLOW | acl::SCRIPTING,
        scripting::evalsha,
        numkeys_at = 2
    ),
    cmd!(
        "eval_ro",
        -3,
        f::READONLY
            | f::NOSCRIPT
            | f::STALE
            | f::SKIP_MONITOR
            | f::NO_MANDATORY_KEYS
            | f::MOVABLE_KEYS
            | f::ALL_SHARDS,
        [0, 0, 0],
        acl::SLOW | acl::SCRIPTING,
        scripting::eval_ro,
        numkeys_at = 2
    ),
    cmd!(
        "evalsha_ro",
        -3,
        f::READONLY
            | f::NOSCRIPT
            | f::STALE
            | f::SKIP_MONITOR
            | f::NO_MANDATORY_KEYS
            | f::MOVABLE_KEYS
            | f::ALL_SHARDS,
        [0, 0, 0],
        acl::SLOW | acl::SCRIPTING,
        scripting::evalsha_ro,
        numkeys_at = 2
    ),
    container!(
        "script",
        -2,
        0,
        acl::SLOW,
        container_without_subcommand,
        [
            cmd!(
                "exists",
                -3,
                f::NOSCRIPT,
                [0, 0, 0],
                acl::SLOW | acl::SCRIPTING,
                scripting::script_exists
            ),
            cmd!(
                "flush",
                -2,
                f::NOSCRIPT,
                [0, 0, 0],
                acl::SLOW | acl::SCRIPTING,
                scripting::script_flush
            ),
            cmd!(
                "help",
                2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::SCRIPTING,
                scripting::script_help
            ),
            cmd!(
                "kill",
                2,
                f::NOSCRIPT | f::ALLOW_BUSY,
                [0, 0, 0],
                acl::SLOW | acl::SCRIPTING,
                scripting::script_kill
            ),
            cmd!(
                "load",
                3,
                f::NOSCRIPT | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::SCRIPTING,
                scripting::script_load
            ),
        ]
    ),
    container!(
        "function",
        -2,
        0,
        acl::SLOW,
        container_without_subcommand,
        [
            cmd!(
                "delete",
                3,
                f::WRITE | f::NOSCRIPT,
                [0, 0, 0],
                acl::WRITE | acl::SLOW | acl::SCRIPTING,
                scripting::function_delete
            ),
            cmd!(
                "dump",
                2,
                f::NOSCRIPT,
                [0, 0, 0],
                acl::SLOW | acl::SCRIPTING,
                scripting::function_dump
            ),
            cmd!(
                "flush",
                -2,
                f::WRITE | f::NOSCRIPT,
                [0, 0, 0],
                acl::WRITE | acl::SLOW | acl::SCRIPTING,
                scripting::function_flush
            ),
            cmd!(
                "help",
                2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::SLOW | acl::SCRIPTING,
                scripting::function_help
            ),
            cmd!(
                "kill",
                2,
                f::NOSCRIPT | f::ALLOW_BUSY,
                [0, 0, 0],
                acl::SLOW | acl::SCRIPTING,
                scripting::function_kill
            ),
            cmd!(
                "list",
                -2,
                f::NOSCRIPT,
                [0, 0, 0],
                acl::SLOW | acl::SCRIPTING,
                scripting::function_list
            ),
            cmd!(
                "load",
                -3,
                f::WRITE | f::DENYOOM | f::NOSCRIPT,
                [0, 0, 0],
                acl::WRITE | acl::SLOW | acl::SCRIPTING,
                scripting::function_load
            ),
            cmd!(
                "restore",
                -3,
                f::WRITE | f::DENYOOM | f::NOSCRIPT,
                [0, 0, 0],
                acl::WRITE | acl::SLOW | acl::SCRIPTING,
                scripting::function_restore
            ),
            cmd!(
                "stats",
                2,
                f::NOSCRIPT | f::ALLOW_BUSY,
                [0, 0, 0],
                acl::SLOW | acl::SCRIPTING,
                scripting::function_stats
            ),
        ]
    ),
    cmd!(
        "fcall",
        -3,
        f::MAY_REPLICATE
            | f::NOSCRIPT
            | f::STALE
            | f::SKIP_MONITOR
            | f::NO_MANDATORY_KEYS
            | f::MOVABLE_KEYS
            | f::ALL_SHARDS,
        [0, 0, 0],
        acl::SLOW | acl::SCRIPTING,
        scripting::fcall,
        numkeys_at = 2
    ),
    cmd!(
        "fcall_ro",
        -3,
        f::READONLY
            | f::NOSCRIPT
            | f::STALE
            | f::SKIP_MONITOR
            | f::NO_MANDATORY_KEYS
            | f::MOVABLE_KEYS
            | f::ALL_SHARDS,
        [0, 0, 0],
        acl::SLOW | acl::SCRIPTING,
        scripting::fcall_ro,
        numkeys_at = 2
    ),
    // ---- sets ----
    cmd!(
        "sadd",
        -3,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::SET | acl::FAST,
        set::sadd
    ),
    cmd!(
        "srem",
        -3,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::SET | acl::FAST,
        set::srem
    ),
    cmd!(
        "smembers",
        2,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::SET | acl::SLOW,
        set::smembers
    ),
    cmd!(
        "sismember",
        3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::SET | acl::FAST,
        set::sismember
    ),
    cmd!(
        "smismember",
        -3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::SET | acl::FAST,
        set::smismember
    ),
    cmd!(
        "scard",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::SET | acl::FAST,
        set::scard
    ),
    cmd!(
        "spop",
        -2,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::SET | acl::FAST,
        set::spop
    ),
    cmd!(
        "srandmember",
        -2,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::SET | acl::SLOW,
        set::srandmember
    ),
    cmd!(
        "smove",
        4,
        f::WRITE | f::FAST,
        [1, 2, 1],
        acl::WRITE | acl::SET | acl::FAST,
        set::smove
    ),
    cmd!(
        "sunion",
        -2,
        f::READONLY,
        [1, -1, 1],
        acl::READ | acl::SET | acl::SLOW,
        set::sunion
    ),
    cmd!(
        "sinter",
        -2,
        f::READONLY,
        [1, -1, 1],
        acl::READ | acl::SET | acl::SLOW,
        set::sinter
    ),
    cmd!(
        "sdiff",
        -2,
        f::READONLY,
        [1, -1, 1],
        acl::READ | acl::SET | acl::SLOW,
        set::sdiff
    ),
    cmd!(
        "sunionstore",
        -3,
        f::WRITE | f::DENYOOM,
        [1, -1, 1],
        acl::WRITE | acl::SET | acl::SLOW,
        set::sunionstore
    ),
    cmd!(
        "sinterstore",
        -3,
        f::WRITE | f::DENYOOM,
        [1, -1, 1],
        acl::WRITE | acl::SET | acl::SLOW,
        set::sinterstore
    ),
    cmd!(
        "sdiffstore",
        -3,
        f::WRITE | f::DENYOOM,
        [1, -1, 1],
        acl::WRITE | acl::SET | acl::SLOW,
        set::sdiffstore
    ),
    CommandSpec {
        numkeys_at: 1,
        ..cmd!(
            "sintercard",
            -3,
            f::READONLY | f::MOVABLE_KEYS,
            [0, 0, 0],
            acl::READ | acl::SET | acl::SLOW,
            set::sintercard
        )
    },
    cmd!(
        "sscan",
        -3,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::SET | acl::SLOW,
        set::sscan
    ),
    // ---- hashes ----
    cmd!(
        "hset",
        -4,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::HASH | acl::FAST,
        super::hash::hset
    ),
    cmd!(
        "hsetnx",
        4,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::HASH | acl::FAST,
        super::hash::hsetnx
    ),
    cmd!(
        "hmset",
        -4,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::HASH | acl::FAST,
        super::hash::hmset
    ),
    cmd!(
        "hget",
        3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::HASH | acl::FAST,
        super::hash::hget
    ),
    cmd!(
        "hmget",
        -3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::HASH | acl::FAST,
        super::hash::hmget
    ),
    cmd!(
        "hgetall",
        2,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::HASH | acl::SLOW,
        super::hash::hgetall
    ),
    cmd!(
        "hkeys",
        2,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::HASH | acl::SLOW,
        super::hash::hkeys
    ),
    cmd!(
        "hvals",
        2,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::HASH | acl::SLOW,
        super::hash::hvals
    ),
    cmd!(
        "hdel",
        -3,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::HASH | acl::FAST,
        super::hash::hdel
    ),
    cmd!(
        "hlen",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::HASH | acl::FAST,
        super::hash::hlen
    ),
    cmd!(
        "hexists",
        3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::HASH | acl::FAST,
        super::hash::hexists
    ),
    cmd!(
        "hstrlen",
        3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::HASH | acl::FAST,
        super::hash::hstrlen
    ),
    cmd!(
        "hincrby",
        4,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::HASH | acl::FAST,
        super::hash::hincrby
    ),
    cmd!(
        "hincrbyfloat",
        4,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::HASH | acl::FAST,
        super::hash::hincrbyfloat
    ),
    cmd!(
        "hrandfield",
        -2,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::HASH | acl::SLOW,
        super::hash::hrandfield
    ),
    cmd!(
        "hscan",
        -3,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::HASH | acl::SLOW,
        super::hash::hscan
    ),
    // Sorted sets
    cmd!(
        "zadd",
        -4,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::SORTEDSET | acl::FAST,
        zset::zadd
    ),
    cmd!(
        "zincrby",
        4,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::SORTEDSET | acl::FAST,
        zset::zincrby
    ),
    cmd!(
        "zrem",
        -3,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::SORTEDSET | acl::FAST,
        zset::zrem
    ),
    cmd!(
        "zcard",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::FAST,
        zset::zcard
    ),
    cmd!(
        "zscore",
        3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::FAST,
        zset::zscore
    ),
    cmd!(
        "zmscore",
        -3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::FAST,
        zset::zmscore
    ),
    cmd!(
        "zrank",
        3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::FAST,
        zset::zrank
    ),
    cmd!(
        "zrevrank",
        3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::FAST,
        zset::zrevrank
    ),
    cmd!(
        "zcount",
        4,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::FAST,
        zset::zcount
    ),
    cmd!(
        "zlexcount",
        4,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::FAST,
        zset::zlexcount
    ),
    cmd!(
        "zrange",
        -4,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::SLOW,
        zset::zrange
    ),
    cmd!(
        "zrangestore",
        -5,
        f::WRITE | f::DENYOOM,
        [1, 2, 1],
        acl::WRITE | acl::SORTEDSET | acl::SLOW,
        zset::zrangestore
    ),
    cmd!(
        "zrevrange",
        -4,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::SLOW,
        zset::zrevrange
    ),
    cmd!(
        "zrangebyscore",
        -4,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::SLOW,
        zset::zrangebyscore
    ),
    cmd!(
        "zrevrangebyscore",
        -4,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::SLOW,
        zset::zrevrangebyscore
    ),
    cmd!(
        "zrangebylex",
        -4,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::SLOW,
        zset::zrangebylex
    ),
    cmd!(
        "zrevrangebylex",
        -4,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::SLOW,
        zset::zrevrangebylex
    ),
    cmd!(
        "zpopmin",
        -2,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::SORTEDSET | acl::FAST,
        zset::zpopmin
    ),
    cmd!(
        "zpopmax",
        -2,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::SORTEDSET | acl::FAST,
        zset::zpopmax
    ),
    cmd!(
        "zmpop",
        -4,
        f::WRITE | f::MOVABLE_KEYS,
        [0, 0, 0],
        acl::WRITE | acl::SORTEDSET | acl::SLOW,
        zset::zmpop,
        numkeys_at = 1
    ),
    cmd!(
        "bzpopmin",
        -3,
        f::WRITE | f::NOSCRIPT | f::BLOCKING | f::FAST,
        [1, -2, 1],
        acl::WRITE | acl::SORTEDSET | acl::FAST | acl::BLOCKING,
        blocking::bzpopmin
    ),
    cmd!(
        "bzpopmax",
        -3,
        f::WRITE | f::NOSCRIPT | f::BLOCKING | f::FAST,
        [1, -2, 1],
        acl::WRITE | acl::SORTEDSET | acl::FAST | acl::BLOCKING,
        blocking::bzpopmax
    ),
    cmd!(
        "bzmpop",
        -5,
        f::WRITE | f::BLOCKING | f::MOVABLE_KEYS,
        [0, 0, 0],
        acl::WRITE | acl::SORTEDSET | acl::SLOW | acl::BLOCKING,
        blocking::bzmpop,
        numkeys_at = 2
    ),
    cmd!(
        "zremrangebyrank",
        4,
        f::WRITE,
        [1, 1, 1],
        acl::WRITE | acl::SORTEDSET | acl::SLOW,
        zset::zremrangebyrank
    ),
    cmd!(
        "zremrangebyscore",
        4,
        f::WRITE,
        [1, 1, 1],
        acl::WRITE | acl::SORTEDSET | acl::SLOW,
        zset::zremrangebyscore
    ),
    cmd!(
        "zremrangebylex",
        4,
        f::WRITE,
        [1, 1, 1],
        acl::WRITE | acl::SORTEDSET | acl::SLOW,
        zset::zremrangebylex
    ),
    cmd!(
        "zrandmember",
        -2,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::SLOW,
        zset::zrandmember
    ),
    cmd!(
        "zscan",
        -3,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::SORTEDSET | acl::SLOW,
        zset::zscan
    ),
    cmd!(
        "zunion",
        -3,
        f::READONLY | f::MOVABLE_KEYS,
        [0, 0, 0],
        acl::READ | acl::SORTEDSET | acl::SLOW,
        zset::zunion,
        numkeys_at = 1
    ),
    cmd!(
        "zinter",
        -3,
        f::READONLY | f::MOVABLE_KEYS,
        [0, 0, 0],
        acl::READ | acl::SORTEDSET | acl::SLOW,
        zset::zinter,
        numkeys_at = 1
    ),
    cmd!(
        "zdiff",
        -3,
        f::READONLY | f::MOVABLE_KEYS,
        [0, 0, 0],
        acl::READ | acl::SORTEDSET | acl::SLOW,
        zset::zdiff,
        numkeys_at = 1
    ),
    cmd!(
        "zunionstore",
        -4,
        f::WRITE | f::DENYOOM | f::MOVABLE_KEYS,
        [1, 1, 1],
        acl::WRITE | acl::SORTEDSET | acl::SLOW,
        zset::zunionstore,
        numkeys_at = 2
    ),
    cmd!(
        "zinterstore",
        -4,
        f::WRITE | f::DENYOOM | f::MOVABLE_KEYS,
        [1, 1, 1],
        acl::WRITE | acl::SORTEDSET | acl::SLOW,
        zset::zinterstore,
        numkeys_at = 2
    ),
    cmd!(
        "zdiffstore",
        -4,
        f::WRITE | f::DENYOOM | f::MOVABLE_KEYS,
        [1, 1, 1],
        acl::WRITE | acl::SORTEDSET | acl::SLOW,
        zset::zdiffstore,
        numkeys_at = 2
    ),
    cmd!(
        "zintercard",
        -3,
        f::READONLY | f::MOVABLE_KEYS,
        [0, 0, 0],
        acl::READ | acl::SORTEDSET | acl::SLOW,
        zset::zintercard,
        numkeys_at = 1
    ),
    // --- lists
    cmd!(
        "lpush",
        -3,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::LIST | acl::FAST,
        list::lpush
    ),
    cmd!(
        "rpush",
        -3,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::LIST | acl::FAST,
        list::rpush
    ),
    cmd!(
        "lpushx",
        -3,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::LIST | acl::FAST,
        list::lpushx
    ),
    cmd!(
        "rpushx",
        -3,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::LIST | acl::FAST,
        list::rpushx
    ),
    cmd!(
        "lpop",
        -2,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::LIST | acl::FAST,
        list::lpop
    ),
    cmd!(
        "rpop",
        -2,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::LIST | acl::FAST,
        list::rpop
    ),
    cmd!(
        "llen",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::LIST | acl::FAST,
        list::llen
    ),
    cmd!(
        "lrange",
        4,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::LIST | acl::SLOW,
        list::lrange
    ),
    cmd!(
        "lindex",
        3,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::LIST | acl::SLOW,
        list::lindex
    ),
    cmd!(
        "lset",
        4,
        f::WRITE | f::DENYOOM,
        [1, 1, 1],
        acl::WRITE | acl::LIST | acl::SLOW,
        list::lset
    ),
    cmd!(
        "lrem",
        4,
        f::WRITE,
        [1, 1, 1],
        acl::WRITE | acl::LIST | acl::SLOW,
        list::lrem
    ),
    cmd!(
        "ltrim",
        4,
        f::WRITE,
        [1, 1, 1],
        acl::WRITE | acl::LIST | acl::SLOW,
        list::ltrim
    ),
    cmd!(
        "linsert",
        5,
        f::WRITE | f::DENYOOM,
        [1, 1, 1],
        acl::WRITE | acl::LIST | acl::SLOW,
        list::linsert
    ),
    cmd!(
        "lpos",
        -3,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::LIST | acl::SLOW,
        list::lpos
    ),
    cmd!(
        "lmove",
        5,
        f::WRITE | f::DENYOOM,
        [1, 2, 1],
        acl::WRITE | acl::LIST | acl::SLOW,
        list::lmove
    ),
    cmd!(
        "rpoplpush",
        3,
        f::WRITE | f::DENYOOM,
        [1, 2, 1],
        acl::WRITE | acl::LIST | acl::SLOW,
        list::rpoplpush
    ),
    cmd!(
        "lmpop",
        -4,
        f::WRITE | f::MOVABLE_KEYS,
        [0, 0, 0],
        acl::WRITE | acl::LIST | acl::SLOW,
        list::lmpop,
        numkeys_at = 1
    ),
    cmd!(
        "blpop",
        -3,
        f::WRITE | f::NOSCRIPT | f::BLOCKING,
        [1, -2, 1],
        acl::WRITE | acl::LIST | acl::SLOW | acl::BLOCKING,
        blocking::blpop
    ),
    cmd!(
        "brpop",
        -3,
        f::WRITE | f::NOSCRIPT | f::BLOCKING,
        [1, -2, 1],
        acl::WRITE | acl::LIST | acl::SLOW | acl::BLOCKING,
        blocking::brpop
    ),
    cmd!(
        "brpoplpush",
        4,
        f::WRITE | f::DENYOOM | f::NOSCRIPT | f::BLOCKING,
        [1, 2, 1],
        acl::WRITE | acl::LIST | acl::SLOW | acl::BLOCKING,
        blocking::brpoplpush
    ),
    cmd!(
        "blmove",
        6,
        f::WRITE | f::DENYOOM | f::NOSCRIPT | f::BLOCKING,
        [1, 2, 1],
        acl::WRITE | acl::LIST | acl::SLOW | acl::BLOCKING,
        blocking::blmove
    ),
    cmd!(
        "blmpop",
        -5,
        f::WRITE | f::BLOCKING | f::MOVABLE_KEYS,
        [0, 0, 0],
        acl::WRITE | acl::LIST | acl::SLOW | acl::BLOCKING,
        blocking::blmpop,
        numkeys_at = 2
    ),
    // SORT's STORE destination and its BY/GET patterns (which may read any
    // key) come from parsing its options: KEYS_PROC.
    cmd!(
        "sort",
        -2,
        f::WRITE | f::DENYOOM | f::MOVABLE_KEYS,
        [1, 1, 1],
        acl::WRITE | acl::SET | acl::SORTEDSET | acl::LIST | acl::SLOW | acl::DANGEROUS,
        sort::sort,
        keys_proc = &sort::KEYS_PROC
    ),
    cmd!(
        "sort_ro",
        -2,
        f::READONLY | f::MOVABLE_KEYS,
        [1, 1, 1],
        acl::READ | acl::SET | acl::SORTEDSET | acl::LIST | acl::SLOW | acl::DANGEROUS,
        sort::sort_ro,
        keys_proc = &sort::KEYS_PROC
    ),
    // Geo (sorted sets underneath). GEORADIUS[BYMEMBER]'s STORE key is an option.
    cmd!(
        "geoadd",
        -5,
        f::WRITE | f::DENYOOM,
        [1, 1, 1],
        acl::WRITE | acl::GEO | acl::SLOW,
        geo::geoadd
    ),
    cmd!(
        "geopos",
        -2,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::GEO | acl::SLOW,
        geo::geopos
    ),
    cmd!(
        "geodist",
        -4,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::GEO | acl::SLOW,
        geo::geodist
    ),
    cmd!(
        "geohash",
        -2,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::GEO | acl::SLOW,
        geo::geohash_cmd
    ),
    cmd!(
        "geosearch",
        -7,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::GEO | acl::SLOW,
        geo::geosearch
    ),
    cmd!(
        "geosearchstore",
        -8,
        f::WRITE | f::DENYOOM,
        [1, 2, 1],
        acl::WRITE | acl::GEO | acl::SLOW,
        geo::geosearchstore
    ),
    cmd!(
        "georadius",
        -6,
        f::WRITE | f::DENYOOM | f::MOVABLE_KEYS,
        [1, 1, 1],
        acl::WRITE | acl::GEO | acl::SLOW,
        geo::georadius,
        keys_proc = &geo::RADIUS_KEYS
    ),
    cmd!(
        "georadius_ro",
        -6,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::GEO | acl::SLOW,
        geo::georadius_ro
    ),
    cmd!(
        "georadiusbymember",
        -5,
        f::WRITE | f::DENYOOM | f::MOVABLE_KEYS,
        [1, 1, 1],
        acl::WRITE | acl::GEO | acl::SLOW,
        geo::georadiusbymember,
        keys_proc = &geo::RADIUS_KEYS
    ),
    cmd!(
        "georadiusbymember_ro",
        -5,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::GEO | acl::SLOW,
        geo::georadiusbymember_ro
    ),
    // Streams. XREAD's keys follow its STREAMS option: READ_KEYS.
    cmd!(
        "xadd",
        -5,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STREAM | acl::FAST,
        stream::xadd
    ),
    cmd!(
        "xlen",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::STREAM | acl::FAST,
        stream::xlen
    ),
    cmd!(
        "xrange",
        -4,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::STREAM | acl::SLOW,
        stream::xrange
    ),
    cmd!(
        "xrevrange",
        -4,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::STREAM | acl::SLOW,
        stream::xrevrange
    ),
    cmd!(
        "xdel",
        -3,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STREAM | acl::FAST,
        stream::xdel
    ),
    cmd!(
        "xtrim",
        -4,
        f::WRITE,
        [1, 1, 1],
        acl::WRITE | acl::STREAM | acl::SLOW,
        stream::xtrim
    ),
    cmd!(
        "xsetid",
        -3,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STREAM | acl::FAST,
        stream::xsetid
    ),
    cmd!(
        "xread",
        -4,
        f::READONLY | f::BLOCKING | f::MOVABLE_KEYS,
        [0, 0, 0],
        acl::READ | acl::STREAM | acl::SLOW | acl::BLOCKING,
        stream::xread,
        keys_proc = &stream::READ_KEYS
    ),
    container!(
        "xinfo",
        -2,
        0,
        acl::SLOW,
        container_without_subcommand,
        [
            cmd!(
                "help",
                2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::STREAM | acl::SLOW,
                stream::xinfo_help
            ),
            cmd!(
                "stream",
                -3,
                f::READONLY,
                [2, 2, 1],
                acl::READ | acl::STREAM | acl::SLOW,
                stream::xinfo_stream
            ),
            cmd!(
                "groups",
                3,
                f::READONLY,
                [2, 2, 1],
                acl::READ | acl::STREAM | acl::SLOW,
                stream::xinfo_groups
            ),
            cmd!(
                "consumers",
                4,
                f::READONLY,
                [2, 2, 1],
                acl::READ | acl::STREAM | acl::SLOW,
                stream::xinfo_consumers
            ),
        ]
    ),
    cmd!(
        "xreadgroup",
        -7,
        f::WRITE | f::BLOCKING | f::MOVABLE_KEYS,
        [0, 0, 0],
        acl::WRITE | acl::STREAM | acl::SLOW | acl::BLOCKING,
        stream::xreadgroup,
        keys_proc = &stream::READGROUP_KEYS
    ),
    container!(
        "xgroup",
        -2,
        0,
        acl::SLOW,
        container_without_subcommand,
        [
            cmd!(
                "help",
                2,
                f::LOADING | f::STALE,
                [0, 0, 0],
                acl::STREAM | acl::SLOW,
                stream::xgroup_help
            ),
            cmd!(
                "create",
                -5,
                f::WRITE | f::DENYOOM,
                [2, 2, 1],
                acl::WRITE | acl::STREAM | acl::SLOW,
                stream::xgroup_create
            ),
            cmd!(
                "setid",
                -5,
                f::WRITE,
                [2, 2, 1],
                acl::WRITE | acl::STREAM | acl::SLOW,
                stream::xgroup_setid
            ),
            cmd!(
                "destroy",
                4,
                f::WRITE,
                [2, 2, 1],
                acl::WRITE | acl::STREAM | acl::SLOW,
                stream::xgroup_destroy
            ),
            cmd!(
                "createconsumer",
                5,
                f::WRITE | f::DENYOOM,
                [2, 2, 1],
                acl::WRITE | acl::STREAM | acl::SLOW,
                stream::xgroup_createconsumer
            ),
            cmd!(
                "delconsumer",
                5,
                f::WRITE,
                [2, 2, 1],
                acl::WRITE | acl::STREAM | acl::SLOW,
                stream::xgroup_delconsumer
            ),
        ]
    ),
    cmd!(
        "xack",
        -4,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STREAM | acl::FAST,
        stream::xack
    ),
    cmd!(
        "xpending",
        -3,
        f::READONLY,
        [1, 1, 1],
        acl::READ | acl::STREAM | acl::SLOW,
        stream::xpending
    ),
    cmd!(
        "xclaim",
        -6,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STREAM | acl::FAST,
        stream::xclaim
    ),
    cmd!(
        "xautoclaim",
        -6,
        f::WRITE | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::STREAM | acl::FAST,
        stream::xautoclaim
    ),
    // ---- Bloom filters (Redis 8 / RedisBloom; not in Redis 7.0) ----
    cmd!(
        "bf.reserve",
        -4,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::FAST | acl::BLOOM,
        bloom::bf_reserve
    ),
    cmd!(
        "bf.add",
        3,
        f::WRITE | f::DENYOOM,
        [1, 1, 1],
        acl::WRITE | acl::SLOW | acl::BLOOM,
        bloom::bf_add
    ),
    cmd!(
        "bf.madd",
        -3,
        f::WRITE | f::DENYOOM,
        [1, 1, 1],
        acl::WRITE | acl::SLOW | acl::BLOOM,
        bloom::bf_madd
    ),
    cmd!(
        "bf.insert",
        -4,
        f::WRITE | f::DENYOOM,
        [1, 1, 1],
        acl::WRITE | acl::SLOW | acl::BLOOM,
        bloom::bf_insert
    ),
    cmd!(
        "bf.exists",
        3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::FAST | acl::BLOOM,
        bloom::bf_exists
    ),
    cmd!(
        "bf.mexists",
        -3,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::FAST | acl::BLOOM,
        bloom::bf_mexists
    ),
    cmd!(
        "bf.info",
        -2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::FAST | acl::BLOOM,
        bloom::bf_info
    ),
    cmd!(
        "bf.card",
        2,
        f::READONLY | f::FAST,
        [1, 1, 1],
        acl::READ | acl::FAST | acl::BLOOM,
        bloom::bf_card
    ),
    // ---- HyperLogLog ----
    cmd!(
        "pfadd",
        -2,
        f::WRITE | f::DENYOOM | f::FAST,
        [1, 1, 1],
        acl::WRITE | acl::HYPERLOGLOG | acl::FAST,
        hll::pfadd
    ),
    cmd!(
        "pfcount",
        -2,
        f::MAY_REPLICATE | f::READONLY,
        [1, -1, 1],
        acl::READ | acl::HYPERLOGLOG | acl::SLOW,
        hll::pfcount
    ),
    cmd!(
        "pfmerge",
        -2,
        f::WRITE | f::DENYOOM,
        [1, -1, 1],
        acl::WRITE | acl::HYPERLOGLOG | acl::SLOW,
        hll::pfmerge
    ),
    cmd!(
        "pfdebug",
        3,
        f::WRITE | f::DENYOOM | f::ADMIN,
        [2, 2, 1],
        acl::WRITE | acl::HYPERLOGLOG | acl::ADMIN | acl::SLOW | acl::DANGEROUS,
        hll::pfdebug
    ),
    cmd!(
        "pfselftest",
        1,
        f::ADMIN,
        [0, 0, 0],
        acl::HYPERLOGLOG | acl::ADMIN | acl::SLOW | acl::DANGEROUS,
        hll::pfselftest
    ),
];

/// A container (CONFIG, CLIENT...) called without a subcommand is an arity
/// error, raised before any handler runs; this only fills the table slot.
fn container_without_subcommand(ctx: &mut Ctx<'_>, _: &mut Store<'_>) {
    ctx.arity_error();
}

/// Name -> spec, looked up for every command: ahash rather than SipHash,
/// since command names are not attacker-chosen keys into a growing table.
type Index = HashMap<&'static str, &'static CommandSpec, ahash::RandomState>;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| COMMANDS.iter().map(|c| (c.name, c)).collect())
}

fn by_name(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    index().get(std::str::from_utf8(lower).ok()?).copied()
}

/// The command (or subcommand) named by the first arguments.
#[inline]
pub fn lookup(args: &[&[u8]]) -> Option<&'static CommandSpec> {
    let cmd = by_name(args.first()?)?;
    if cmd.subcommands.is_empty() || args.len() < 2 {
        return Some(cmd);
    }
    cmd.subcommands
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(args[1]))
}

pub fn is_container(name: &[u8]) -> bool {
    by_name(name).is_some_and(|c| !c.subcommands.is_empty())
}

/// The supported-command table in Markdown (docs/COMMANDS.md is generated
/// from this by `russet-server --commands docs/COMMANDS.md`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Supported commands\n\nGenerated from the command table by `russet-server --commands docs/COMMANDS.md`; do not edit.\n\n\
         | command | arity | flags | keys (first, last, step) | ACL categories |\n|---|---|---|---|---|\n",
    );
    let mut rows: Vec<&CommandSpec> = Vec::new();
    for c in COMMANDS {
        if c.subcommands.is_empty() {
            rows.push(c);
        }
        rows.extend(c.subcommands.iter());
    }
    rows.sort_by_key(|c| c.fullname());
    for c in rows {
        let flags: Vec<&str> = f::NAMES
            .iter()
            .filter(|(b, _)| c.flags & b != 0)
            .map(|(_, n)| *n)
            .collect();
        let cats: Vec<String> = acl::NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| c.categories & (1 << i) != 0)
            .map(|(_, n)| format!("@{}", n))
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} | {}, {}, {} | {} |\n",
            c.fullname().to_uppercase().replace('|', " "),
            c.arity,
            flags.join(" "),
            c.first_key,
            c.last_key,
            c.step,
            cats.join(" ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_finds_subcommands() {
        assert_eq!(lookup(&[b"GeT", b"k"]).map(|c| c.name), Some("get"));
        let sub = lookup(&[b"config", b"GET", b"x"]).map(|c| c.fullname());
        assert_eq!(sub.as_deref(), Some("config|get"));
        assert!(lookup(&[b"config", b"nope"]).is_none());
        assert!(lookup(&[b"nosuchcommand"]).is_none());
        assert_eq!(lookup(&[b"config"]).map(|c| c.name), Some("config"));
    }

    #[test]
    fn key_positions_follow_first_last_step() {
        let mset = lookup(&[b"mset"]).unwrap();
        let args: Vec<&[u8]> = vec![b"mset", b"a", b"1", b"b", b"2"];
        assert_eq!(mset.key_indices(&args).as_slice(), &[1, 3]);
        let del = lookup(&[b"del"]).unwrap();
        assert_eq!(del.key_indices(&[b"del", b"a", b"b"]).as_slice(), &[1, 2]);
    }

    #[test]
    fn every_name_is_unique_and_lowercase() {
        let mut seen = std::collections::HashSet::new();
        for c in COMMANDS {
            assert!(seen.insert(c.name), "duplicate {}", c.name);
            assert_eq!(c.name, c.name.to_ascii_lowercase());
        }
    }
}
