//! russet: a Redis-compatible in-memory data server.
