//! russet: a Redis-compatible in-memory data server.
//!
//! Data path: socket → `protocol` (RESP parser) → `commands` (command table,
//! dispatch) → `store` (sharded keyspace) → `protocol::Reply` (output buffer)
//! → socket. See docs/ARCHITECTURE.md.

pub mod alloc;
pub mod blocking;
pub mod commands;
pub mod config;
pub mod geohash;
pub mod monitor;
pub mod persistence;
pub mod protocol;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod slowlog;
pub mod stats;
pub mod store;
pub mod util;

/// The library installs the allocator, so every program built on it (the
/// server, the in-process test servers) reports real `used_memory`.
#[global_allocator]
static GLOBAL: alloc::CountingAlloc = alloc::CountingAlloc;

pub use config::Config;
pub use server::{start_background, Server, ServerHandle};
