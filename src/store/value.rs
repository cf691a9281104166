//! Values that live outside the entry block: strings that are mutated in
//! place (APPEND, SETRANGE grow them with amortised reallocation, Redis's
//! `raw` encoding) and, as their issues land, the collection types.

use super::hash::Hash;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Vec<u8>),
    Set(super::set::Set),
    Hash(Hash),
    ZSet(super::zset::ZSet),
    List(super::list::List),
    Bloom(super::bloom::Bloom),
    Stream(Box<super::stream::Stream>),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Set(_) => "set",
            Value::Hash(_) => "hash",
            Value::ZSet(_) => "zset",
            Value::List(_) => "list",
            // RedisBloom's module type name, as Redis 8 reports it.
            Value::Bloom(_) => "MBbloom--",
            Value::Stream(_) => "stream",
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(_) => "raw",
            Value::Set(s) => s.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::ZSet(z) => z.encoding(),
            // Redis 7.0 keeps every list a quicklist, however small.
            Value::List(_) => "quicklist",
            // Module values report `raw`.
            Value::Bloom(_) => "raw",
            Value::Stream(_) => "stream",
        }
    }
}
