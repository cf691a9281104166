//! Per-client state. `Client` is owned by the connection task; the parts other
//! connections need to see (CLIENT LIST, CLIENT KILL) live in a shared
//! `ClientHandle` kept in the server's registry.

use crate::blocking::Waiter;
use crate::commands::{After, CommandSpec};
use crate::pubsub::Subscriptions;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{oneshot, Notify};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Suppress the reply of the next command only.
    Skip,
    /// Set by CLIENT REPLY SKIP; becomes Skip after that command.
    SkipNext,
}

pub struct ClientHandle {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub created_ms: i64,
    pub name: Mutex<Option<Vec<u8>>>,
    pub lib_name: Mutex<Option<Vec<u8>>>,
    pub lib_ver: Mutex<Option<Vec<u8>>>,
    pub db: AtomicUsize,
    pub resp: AtomicU8,
    pub last_interaction_ms: AtomicI64,
    pub query_buffer: AtomicUsize,
    pub output_buffer: AtomicUsize,
    pub no_evict: AtomicBool,
    last_command: AtomicPtr<CommandSpec>,
    pub killed: AtomicBool,
    pub kill: Notify,
    /// The waiter of a client parked in a blocking command (CLIENT UNBLOCK).
    pub blocked: Mutex<Option<Arc<Waiter>>>,
    /// Held by CLIENT PAUSE: blocked too for CLIENT LIST and INFO.
    pub paused: AtomicBool,
    /// Channel and pattern subscriptions (CLIENT LIST sub/psub).
    pub sub: AtomicUsize,
    pub psub: AtomicUsize,
    pub ssub: AtomicUsize,
    pub monitor: AtomicBool,
}

impl ClientHandle {
    pub fn new(id: u64, addr: String, laddr: String, now_ms: i64) -> ClientHandle {
        ClientHandle {
            id,
            addr,
            laddr,
            created_ms: now_ms,
            name: Mutex::new(None),
            lib_name: Mutex::new(None),
            lib_ver: Mutex::new(None),
            db: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            last_interaction_ms: AtomicI64::new(now_ms),
            query_buffer: AtomicUsize::new(0),
            output_buffer: AtomicUsize::new(0),
            no_evict: AtomicBool::new(false),
            last_command: AtomicPtr::new(std::ptr::null_mut()),
            killed: AtomicBool::new(false),
            kill: Notify::new(),
            blocked: Mutex::new(None),
            paused: AtomicBool::new(false),
            sub: AtomicUsize::new(0),
            psub: AtomicUsize::new(0),
            ssub: AtomicUsize::new(0),
            monitor: AtomicBool::new(false),
        }
    }

    #[inline]
    pub fn set_last_command(&self, cmd: &'static CommandSpec) {
        self.last_command.store(
            cmd as *const CommandSpec as *mut CommandSpec,
            Ordering::Relaxed,
        );
    }

    pub fn last_command(&self) -> Option<&'static CommandSpec> {
        let p = self.last_command.load(Ordering::Relaxed);
        // SAFETY: only ever set from &'static CommandSpec references.
        unsafe { p.as_ref() }
    }

    /// Asks the connection to close as soon as it can.
    pub fn request_kill(&self) {
        self.killed.store(true, Ordering::Relaxed);
        self.kill.notify_one();
    }

    /// Subscribed to a channel, pattern or shard channel: a pubsub-class
    /// client.
    pub fn is_pubsub(&self) -> bool {
        [&self.sub, &self.psub, &self.ssub]
            .iter()
            .any(|n| n.load(Ordering::Relaxed) > 0)
    }

    /// CLIENT LIST flags, in Redis's order.
    fn flags(&self) -> String {
        let mut f = String::new();
        for (set, c) in [
            (self.monitor.load(Ordering::Relaxed), 'O'),
            (self.is_pubsub(), 'P'),
            (
                self.blocked.lock().is_some() || self.paused.load(Ordering::Relaxed),
                'b',
            ),
            (self.no_evict.load(Ordering::Relaxed), 'e'),
        ] {
            if set {
                f.push(c);
            }
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }

    /// One CLIENT LIST / CLIENT INFO line, with Redis 7's fields.
    pub fn describe(&self, now_ms: i64) -> String {
        let name = self.name.lock().clone().unwrap_or_default();
        let lib_name = self.lib_name.lock().clone().unwrap_or_default();
        let lib_ver = self.lib_ver.lock().clone().unwrap_or_default();
        let cmd = self
            .last_command()
            .map(|c| c.fullname().into_owned())
            .unwrap_or_else(|| "NULL".into());
        let qbuf = self.query_buffer.load(Ordering::Relaxed);
        let omem = self.output_buffer.load(Ordering::Relaxed);
        format!(
            "id={} addr={} laddr={} fd=0 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi=-1 \
             qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} \
             user=default redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            String::from_utf8_lossy(&name),
            (now_ms - self.created_ms) / 1000,
            (now_ms - self.last_interaction_ms.load(Ordering::Relaxed)) / 1000,
            self.flags(),
            self.db.load(Ordering::Relaxed),
            self.sub.load(Ordering::Relaxed),
            self.psub.load(Ordering::Relaxed),
            self.ssub.load(Ordering::Relaxed),
            qbuf,
            omem,
            qbuf + omem,
            cmd,
            self.resp.load(Ordering::Relaxed),
            String::from_utf8_lossy(&lib_name),
            String::from_utf8_lossy(&lib_ver),
        )
    }
}

/// Connection-local client state, passed to every command.
pub struct Client {
    pub id: u64,
    pub db: usize,
    pub resp: u8,
    pub authenticated: bool,
    pub reply_mode: ReplyMode,
    pub handle: Arc<ClientHandle>,
    /// Set by a command that needs the connection to act after it.
    pub after: After,
    /// Commands queued since MULTI.
    pub multi: Option<MultiState>,
    /// WATCHed keys: (database, key, already expired when watched).
    pub watched: Vec<(usize, Vec<u8>, bool)>,
    /// Set by any change to a watched key.
    pub watch_dirty: crate::store::WatchFlag,
    /// Set while running EXEC or a script: blocking commands act non-blocking.
    pub no_block: bool,
    /// Set by a blocking command that found no data (`After::Block`).
    pub blocked: Option<Blocked>,
    /// Created by the first (P|S)SUBSCRIBE or MONITOR.
    pub subs: Option<Subscriptions>,
    /// In MONITOR mode (its lines come through `subs`' queue).
    pub monitor: bool,
}

/// A client parked in a blocking command.
pub struct Blocked {
    pub waiter: Arc<Waiter>,
    /// The reply, sent by whoever serves or unblocks the client.
    pub reply: oneshot::Receiver<Vec<u8>>,
    /// Unix time in ms when the command times out; 0 = never.
    pub deadline_ms: i64,
    /// CLIENT REPLY OFF/SKIP was in effect for the command.
    pub silent: bool,
}

#[derive(Default)]
pub struct MultiState {
    pub queue: Vec<Vec<Vec<u8>>>,
    /// A command was refused while queueing: EXEC must fail with EXECABORT.
    pub aborted: bool,
}

impl Client {
    pub fn new(handle: Arc<ClientHandle>) -> Client {
        Client {
            id: handle.id,
            db: 0,
            resp: 2,
            authenticated: false,
            reply_mode: ReplyMode::On,
            handle,
            after: After::Continue,
            multi: None,
            watched: Vec::new(),
            watch_dirty: Default::default(),
            no_block: false,
            blocked: None,
            subs: None,
            monitor: false,
        }
    }

    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.handle.db.store(db, Ordering::Relaxed);
    }

    /// Channels, patterns and shard channels subscribed to.
    pub fn subscriptions(&self) -> usize {
        self.subs.as_ref().map_or(0, Subscriptions::total)
    }

    /// The client's subscription state, created on first use.
    pub fn subs_mut(&mut self) -> &mut Subscriptions {
        let handle = &self.handle;
        self.subs
            .get_or_insert_with(|| Subscriptions::new(handle.clone()))
    }

    /// Publishes the subscription counts for CLIENT LIST.
    pub fn sync_sub_counts(&self) {
        let (sub, psub, ssub) = self.subs.as_ref().map_or((0, 0, 0), |s| {
            (s.channels.len(), s.patterns.len(), s.shard_channels.len())
        });
        self.handle.sub.store(sub, Ordering::Relaxed);
        self.handle.psub.store(psub, Ordering::Relaxed);
        self.handle.ssub.store(ssub, Ordering::Relaxed);
    }

    pub fn set_resp(&mut self, resp: u8) {
        self.resp = resp;
        self.handle.resp.store(resp, Ordering::Relaxed);
    }
}

/// Every connected client, in connection order (CLIENT LIST order).
#[derive(Default)]
pub struct Clients {
    map: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
}

impl Clients {
    pub fn add(&self, h: Arc<ClientHandle>) {
        self.map.lock().insert(h.id, h);
    }

    pub fn remove(&self, id: u64) {
        self.map.lock().remove(&id);
    }

    pub fn len(&self) -> usize {
        self.map.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn snapshot(&self) -> Vec<Arc<ClientHandle>> {
        self.map.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
        self.map.lock().get(&id).cloned()
    }
}
