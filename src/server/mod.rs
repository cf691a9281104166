//! The server: shared state, the TCP listener, the background cron, and the
//! per-connection loop (`connection.rs`).

mod client;
mod connection;
pub mod pause;

pub use client::{Blocked, Client, ClientHandle, Clients, MultiState, ReplyMode};

use crate::config::{self, Config};
use crate::stats::ServerStats;
use crate::store::Keyspace;
use crate::util::now_ms;
use parking_lot::{Mutex, RwLock};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The Redis version whose behaviour russet matches (clients gate features on it).
pub const REDIS_VERSION: &str = "7.0.15";
pub const RUSSET_VERSION: &str = env!("CARGO_PKG_VERSION");

pub struct Server {
    pub config: RwLock<Config>,
    pub keyspace: Keyspace,
    pub clients: Clients,
    pub stats: ServerStats,
    pub started: Instant,
    pub start_ms: i64,
    pub run_id: String,
    pub threads: usize,
    pub tcp_port: u16,
    pub active_expire_enabled: AtomicBool,
    pub lastsave: AtomicI64,
    /// The Lua engine (EVAL, FCALL) and the running script's state.
    pub scripts: crate::scripting::Engine,
    pub monitors: crate::monitor::Monitors,
    pub pause: pause::Pause,
    pub slowlog: crate::slowlog::SlowLog,
    next_client_id: AtomicU64,
    /// Cached from the config: read on every command.
    auth_required: AtomicBool,
    shutdown: watch::Sender<bool>,
    /// Recent (time, commands processed) samples for instantaneous_ops_per_sec.
    ops_samples: Mutex<std::collections::VecDeque<(Instant, u64)>>,
}

impl Server {
    pub fn new(config: Config, tcp_port: u16, threads: usize) -> Server {
        let databases = config.num(config::DATABASES) as usize;
        let run_id: String = (0..40)
            .map(|_| format!("{:x}", rand::random::<u8>() & 0xf))
            .collect();
        let auth = !config.text(config::REQUIREPASS).is_empty();
        let now = now_ms();
        apply_access_policy(&config);
        let keyspace = Keyspace::new(databases);
        apply_pubsub_settings(&keyspace, &config);
        let monitors = crate::monitor::Monitors::default();
        let slowlog = crate::slowlog::SlowLog::default();
        apply_ops_settings(&monitors, &slowlog, &config);
        Server {
            config: RwLock::new(config),
            keyspace,
            clients: Clients::default(),
            stats: ServerStats::new(),
            started: Instant::now(),
            start_ms: now,
            run_id,
            threads,
            tcp_port,
            active_expire_enabled: AtomicBool::new(true),
            lastsave: AtomicI64::new(now / 1000),
            next_client_id: AtomicU64::new(1),
            auth_required: AtomicBool::new(auth),
            shutdown: watch::channel(false).0,
            ops_samples: Mutex::new(std::collections::VecDeque::new()),
            scripts: crate::scripting::Engine::new(),
            monitors,
            slowlog,
            pause: pause::Pause::default(),
        }
    }

    #[inline]
    pub fn auth_required(&self) -> bool {
        self.auth_required.load(Ordering::Relaxed)
    }

    /// Re-derives cached settings after CONFIG SET.
    pub fn config_changed(&self) {
        let cfg = self.config.read();
        self.auth_required
            .store(!cfg.text(config::REQUIREPASS).is_empty(), Ordering::Relaxed);
        apply_access_policy(&cfg);
        apply_pubsub_settings(&self.keyspace, &cfg);
        apply_ops_settings(&self.monitors, &self.slowlog, &cfg);
    }

    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Records a sample of the command counter (called by the cron).
    fn sample_ops(&self) {
        let mut s = self.ops_samples.lock();
        s.push_back((Instant::now(), self.stats.commands.get()));
        while s.len() > 16 {
            s.pop_front();
        }
    }

    /// Commands per second over the last samples (about 1.6 s at hz 10).
    pub fn ops_per_sec(&self) -> u64 {
        let s = self.ops_samples.lock();
        match (s.front(), s.back()) {
            (Some(a), Some(b)) if b.0 > a.0 => {
                ((b.1 - a.1) as f64 / (b.0 - a.0).as_secs_f64()) as u64
            }
            _ => 0,
        }
    }

    pub fn request_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

fn apply_access_policy(cfg: &Config) {
    crate::store::set_access_policy(
        cfg.text(config::MAXMEMORY_POLICY).ends_with("-lfu"),
        cfg.num(config::LFU_LOG_FACTOR) as u32,
        cfg.num(config::LFU_DECAY_TIME) as u32,
    );
}

fn apply_pubsub_settings(ks: &Keyspace, cfg: &Config) {
    ks.pubsub.configure(
        cfg.num(config::NOTIFY_KEYSPACE_EVENTS) as u32,
        cfg.output_limits("pubsub"),
    );
}

fn apply_ops_settings(
    monitors: &crate::monitor::Monitors,
    slowlog: &crate::slowlog::SlowLog,
    cfg: &Config,
) {
    monitors.configure(cfg.output_limits("slave"));
    slowlog.configure(
        cfg.num(config::SLOWLOG_LOG_SLOWER_THAN),
        cfg.num(config::SLOWLOG_MAX_LEN) as usize,
    );
}

/// The number of worker threads: the `threads` option, or one per core this
/// process may run on (so `taskset -c 1 russet-server` runs one thread).
pub fn thread_count(config: &Config) -> usize {
    match config.num(config::THREADS) {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        n => n as usize,
    }
}

/// Binds the configured addresses. Addresses prefixed with `-` are optional,
/// as in Redis (`-::1` is skipped on hosts without IPv6).
pub async fn bind(config: &Config) -> std::io::Result<Vec<TcpListener>> {
    let port = config.num(config::PORT) as u16;
    let mut listeners = Vec::new();
    let mut last_err = None;
    for addr in config.text(config::BIND).split_whitespace() {
        let (optional, host) = match addr.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, addr),
        };
        let host = if host == "*" { "0.0.0.0" } else { host };
        let target = if host.contains(':') {
            format!("[{}]:{}", host, port)
        } else {
            format!("{}:{}", host, port)
        };
        match TcpListener::bind(&target).await {
            Ok(l) => listeners.push(l),
            Err(e) if optional => {
                tracing::debug!("skipping optional bind address {}: {}", target, e)
            }
            Err(e) => last_err = Some(std::io::Error::new(e.kind(), format!("{}: {}", target, e))),
        }
    }
    if let Some(e) = last_err {
        return Err(e);
    }
    if listeners.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "no address to listen on",
        ));
    }
    Ok(listeners)
}

/// Serves until SHUTDOWN (or `srv.request_shutdown()`).
pub async fn run(srv: Arc<Server>, listeners: Vec<TcpListener>) {
    let mut shutdown = srv.shutdown_signal();
    tokio::spawn(cron(srv.clone()));
    for listener in listeners {
        tokio::spawn(accept_loop(srv.clone(), listener));
    }
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            break;
        }
    }
    for c in srv.clients.snapshot() {
        c.request_kill();
    }
}

async fn accept_loop(srv: Arc<Server>, listener: TcpListener) {
    let mut shutdown = srv.shutdown_signal();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                srv.stats.connections_received.incr();
                connection::admit(&srv, stream, peer);
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!("accept failed: {}", e);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Background work, `hz` times a second: the LRU clock and active expiry.
async fn cron(srv: Arc<Server>) {
    let mut shutdown = srv.shutdown_signal();
    loop {
        let (hz, effort) = {
            let c = srv.config.read();
            (
                c.num(config::HZ).max(1),
                c.num(config::ACTIVE_EXPIRE_EFFORT),
            )
        };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis((1000 / hz) as u64)) => {}
            _ = shutdown.changed() => return,
        }
        let now = now_ms();
        crate::store::update_lru_clock(now);
        srv.sample_ops();
        // A running script holds every shard: expiry waits for the next tick.
        if srv.active_expire_enabled.load(Ordering::Relaxed) && !srv.scripts.busy.running() {
            // Like Redis: at most ~25% of one core (more with higher effort).
            let budget =
                Duration::from_micros((250_000 + 50_000 * (effort as u64 - 1)) / hz as u64);
            srv.keyspace.active_expire_cycle(now, budget);
        }
    }
}

/// A server running on its own runtime thread, for tests and embedding.
pub struct ServerHandle {
    pub addr: SocketAddr,
    pub server: Arc<Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerHandle {
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.server.request_shutdown();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a server on 127.0.0.1 with an ephemeral port (the config's port is
/// ignored) in a background thread.
pub fn start_background(mut config: Config) -> std::io::Result<ServerHandle> {
    config
        .set_startup("bind", &["127.0.0.1".to_string()])
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.0))?;
    let threads = thread_count(&config);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    crate::store::update_lru_clock(now_ms());
    let server = Arc::new(Server::new(config, addr.port(), threads));
    let srv = server.clone();
    let thread = std::thread::Builder::new()
        .name("russet-server".into())
        .spawn(move || {
            rt.block_on(run(srv, vec![listener]));
            rt.shutdown_timeout(Duration::from_secs(1));
        })?;
    Ok(ServerHandle {
        addr,
        server,
        thread: Some(thread),
    })
}
