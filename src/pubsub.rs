//! Pub/sub: the registry of channel, pattern and shard-channel subscribers,
//! delivery of messages to subscribed connections, output limits for slow
//! subscribers, and keyspace notifications.
//!
//! Shard channels (SSUBSCRIBE/SPUBLISH) are a namespace of their own, kept in
//! a second channel table: outside cluster mode they behave like channels
//! that patterns never match and keyspace notifications never use.
//!
//! PUBLISH touches no keys and takes no shard lock: it reads one of a few
//! channel-table shards (and the pattern list when patterns exist) under a
//! read lock and sends each receiver the message through its connection's
//! unbounded queue, which the connection task awaits alongside its socket.
//! A queue is FIFO, so messages from one publisher arrive in order. What a
//! subscriber has queued but not yet written is counted against the pubsub
//! class of `client-output-buffer-limit`; past it the client is closed
//! instead of growing memory without bound.

use crate::protocol::Reply;
use crate::server::ClientHandle;
use crate::util::{glob_match, now_ms};
use bytes::Bytes;
use parking_lot::RwLock;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

const CHANNEL_SHARDS: usize = 16;

/// A message on its way to one subscriber.
pub enum Message {
    Channel {
        /// Published with SPUBLISH: an `smessage`.
        shard: bool,
        channel: Bytes,
        payload: Bytes,
    },
    Pattern {
        pattern: Bytes,
        channel: Bytes,
        payload: Bytes,
    },
    /// Bytes written as they are (a MONITOR line).
    Raw(Bytes),
}

impl Message {
    /// What the message weighs in a subscriber's output (its RESP size,
    /// give or take the length digits).
    fn cost(&self) -> usize {
        match self {
            Message::Channel {
                channel, payload, ..
            } => 40 + channel.len() + payload.len(),
            Message::Pattern {
                pattern,
                channel,
                payload,
            } => 56 + pattern.len() + channel.len() + payload.len(),
            Message::Raw(b) => b.len(),
        }
    }

    /// Redis's `message` / `smessage` / `pmessage` reply: an array in
    /// RESP2, a push in RESP3.
    pub fn write(&self, out: &mut Reply) {
        match self {
            Message::Channel {
                shard,
                channel,
                payload,
            } => {
                out.push(3);
                out.bulk(if *shard { b"smessage" } else { b"message" });
                out.bulk(channel);
                out.bulk(payload);
            }
            Message::Pattern {
                pattern,
                channel,
                payload,
            } => {
                out.push(4);
                out.bulk(b"pmessage");
                out.bulk(pattern);
                out.bulk(channel);
                out.bulk(payload);
            }
            Message::Raw(b) => out.buf.extend_from_slice(b),
        }
    }
}

/// One class of client-output-buffer-limit: hard, soft, soft seconds.
#[derive(Default)]
pub struct OutputLimits([AtomicI64; 3]);

impl OutputLimits {
    pub fn set(&self, limits: [i64; 3]) {
        for (slot, v) in self.0.iter().zip(limits) {
            slot.store(v, Ordering::Relaxed);
        }
    }
}

/// A subscribed connection as the registry sees it.
pub struct Subscriber {
    pub client: Arc<ClientHandle>,
    tx: mpsc::UnboundedSender<Message>,
    /// Bytes of messages queued or buffered and not yet written out.
    pending: AtomicUsize,
    /// When `pending` went over the soft limit (ms; 0 = it is not over).
    soft_since: AtomicI64,
}

impl Subscriber {
    /// Queues `m` for the connection, or has the client closed when its
    /// unwritten output goes past `limits`.
    pub fn send(&self, m: Message, limits: &OutputLimits) {
        let pending = self.pending.fetch_add(m.cost(), Ordering::Relaxed) + m.cost();
        if self.over_limit(pending, limits) {
            if !self.client.killed.load(Ordering::Relaxed) {
                tracing::warn!(
                    "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                    self.client.id,
                    self.client.addr
                );
                self.client.request_kill();
            }
            return;
        }
        let _ = self.tx.send(m);
    }

    /// Redis's checkClientOutputBufferLimits.
    fn over_limit(&self, pending: usize, limits: &OutputLimits) -> bool {
        let [hard, soft, secs] = [0, 1, 2].map(|i| limits.0[i].load(Ordering::Relaxed));
        let pending = pending as i64;
        if hard > 0 && pending >= hard {
            return true;
        }
        if soft > 0 && pending >= soft {
            let now = now_ms();
            let since = self.soft_since.load(Ordering::Relaxed);
            if since == 0 {
                self.soft_since.store(now, Ordering::Relaxed);
                return false;
            }
            return now - since > secs * 1000;
        }
        self.soft_since.store(0, Ordering::Relaxed);
        false
    }
}

/// A connection's own side of its subscriptions (`Client::subs`).
pub struct Subscriptions {
    pub me: Arc<Subscriber>,
    pub rx: mpsc::UnboundedReceiver<Message>,
    pub channels: HashSet<Bytes>,
    pub patterns: HashSet<Bytes>,
    pub shard_channels: HashSet<Bytes>,
    /// Cost of the messages moved to the output buffer and not yet written.
    pub unsent: usize,
}

impl Subscriptions {
    pub fn new(client: Arc<ClientHandle>) -> Subscriptions {
        let (tx, rx) = mpsc::unbounded_channel();
        Subscriptions {
            me: Arc::new(Subscriber {
                client,
                tx,
                pending: AtomicUsize::new(0),
                soft_since: AtomicI64::new(0),
            }),
            rx,
            channels: HashSet::new(),
            patterns: HashSet::new(),
            shard_channels: HashSet::new(),
            unsent: 0,
        }
    }

    /// Channels plus patterns: the count (P)(UN)SUBSCRIBE replies report.
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Every subscription, shard channels included: RESP2 subscribed mode
    /// lasts while this is not zero.
    pub fn total(&self) -> usize {
        self.count() + self.shard_channels.len()
    }

    /// Moves every queued message into `out`, in arrival order.
    pub fn drain_into(&mut self, out: &mut Reply) {
        while let Ok(m) = self.rx.try_recv() {
            self.take(m, out);
        }
    }

    pub fn take(&mut self, m: Message, out: &mut Reply) {
        self.unsent += m.cost();
        m.write(out);
    }

    /// The buffered messages were written to the socket.
    pub fn written(&mut self) {
        if self.unsent > 0 {
            self.me.pending.fetch_sub(self.unsent, Ordering::Relaxed);
            self.unsent = 0;
        }
    }
}

type Subscribers = Vec<Arc<Subscriber>>;

/// Channel name -> subscribers, split in a few read-write-locked shards so
/// publishers to different channels rarely meet.
#[derive(Default)]
struct ChannelTable([RwLock<HashMap<Bytes, Subscribers>>; CHANNEL_SHARDS]);

impl ChannelTable {
    fn shard(&self, channel: &[u8]) -> &RwLock<HashMap<Bytes, Subscribers>> {
        &self.0[crate::store::hash_key(channel) as usize % CHANNEL_SHARDS]
    }

    /// Adds `me` to `channel` unless `mine` (the client's own set) has it.
    fn add(&self, mine: &mut HashSet<Bytes>, me: &Arc<Subscriber>, channel: &[u8]) -> bool {
        if mine.contains(channel) {
            return false;
        }
        let name = Bytes::copy_from_slice(channel);
        self.shard(channel)
            .write()
            .entry(name.clone())
            .or_default()
            .push(me.clone());
        mine.insert(name);
        true
    }

    fn remove(&self, mine: &mut HashSet<Bytes>, me: &Arc<Subscriber>, channel: &[u8]) -> bool {
        if !mine.remove(channel) {
            return false;
        }
        let mut shard = self.shard(channel).write();
        if let Some(list) = shard.get_mut(channel) {
            list.retain(|s| !same(s, me));
            if list.is_empty() {
                shard.remove(channel);
            }
        }
        true
    }

    /// Active channels matching `pattern` (all of them without one).
    fn names(&self, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let mut out = Vec::new();
        for shard in &self.0 {
            out.extend(
                shard
                    .read()
                    .keys()
                    .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
                    .cloned(),
            );
        }
        out
    }

    fn numsub(&self, channel: &[u8]) -> usize {
        self.shard(channel).read().get(channel).map_or(0, Vec::len)
    }

    fn len(&self) -> usize {
        self.0.iter().map(|s| s.read().len()).sum()
    }
}

/// Which channel namespace a command addresses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// SUBSCRIBE, PUBLISH.
    Channels,
    /// SSUBSCRIBE, SPUBLISH.
    Shard,
}

#[derive(Default)]
pub struct PubSub {
    channels: ChannelTable,
    shard_channels: ChannelTable,
    /// Pattern -> subscribers, in subscription order of the patterns.
    patterns: RwLock<Vec<(Bytes, Subscribers)>>,
    /// Distinct patterns: PUBLISH skips the pattern list while zero.
    npatterns: AtomicUsize,
    /// Subscriptions of all clients: notifications cost nothing while zero.
    subscriptions: AtomicUsize,
    /// notify-keyspace-events (`events::*` bits).
    events: AtomicU32,
    /// client-output-buffer-limit of the pubsub class.
    limits: OutputLimits,
}

fn same(a: &Arc<Subscriber>, b: &Arc<Subscriber>) -> bool {
    Arc::ptr_eq(a, b)
}

impl PubSub {
    fn table(&self, space: Space) -> &ChannelTable {
        match space {
            Space::Channels => &self.channels,
            Space::Shard => &self.shard_channels,
        }
    }

    /// Caches the settings read on every publish.
    pub fn configure(&self, events: u32, limits: [i64; 3]) {
        self.events.store(events, Ordering::Relaxed);
        self.limits.set(limits);
    }

    /// Subscribes to `channel`; false if already subscribed.
    pub fn subscribe(&self, subs: &mut Subscriptions, channel: &[u8]) -> bool {
        let added = self.channels.add(&mut subs.channels, &subs.me, channel);
        if added {
            self.subscriptions.fetch_add(1, Ordering::Relaxed);
        }
        added
    }

    pub fn unsubscribe(&self, subs: &mut Subscriptions, channel: &[u8]) -> bool {
        let removed = self.channels.remove(&mut subs.channels, &subs.me, channel);
        if removed {
            self.subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    /// SSUBSCRIBE. Shard subscriptions do not count in `subscriptions`:
    /// keyspace notifications never reach them.
    pub fn ssubscribe(&self, subs: &mut Subscriptions, channel: &[u8]) -> bool {
        self.shard_channels
            .add(&mut subs.shard_channels, &subs.me, channel)
    }

    pub fn sunsubscribe(&self, subs: &mut Subscriptions, channel: &[u8]) -> bool {
        self.shard_channels
            .remove(&mut subs.shard_channels, &subs.me, channel)
    }

    pub fn psubscribe(&self, subs: &mut Subscriptions, pattern: &[u8]) -> bool {
        if subs.patterns.contains(pattern) {
            return false;
        }
        let name = Bytes::copy_from_slice(pattern);
        let mut patterns = self.patterns.write();
        match patterns.iter_mut().find(|(p, _)| p == pattern) {
            Some((_, list)) => list.push(subs.me.clone()),
            None => {
                patterns.push((name.clone(), vec![subs.me.clone()]));
                self.npatterns.store(patterns.len(), Ordering::Relaxed);
            }
        }
        subs.patterns.insert(name);
        self.subscriptions.fetch_add(1, Ordering::Relaxed);
        true
    }

    pub fn punsubscribe(&self, subs: &mut Subscriptions, pattern: &[u8]) -> bool {
        if !subs.patterns.remove(pattern) {
            return false;
        }
        let mut patterns = self.patterns.write();
        if let Some(i) = patterns.iter().position(|(p, _)| p == pattern) {
            patterns[i].1.retain(|s| !same(s, &subs.me));
            if patterns[i].1.is_empty() {
                patterns.remove(i);
                self.npatterns.store(patterns.len(), Ordering::Relaxed);
            }
        }
        self.subscriptions.fetch_sub(1, Ordering::Relaxed);
        true
    }

    /// Drops every subscription (RESET, disconnect).
    pub fn unsubscribe_all(&self, subs: &mut Subscriptions) {
        for c in subs.channels.clone() {
            self.unsubscribe(subs, &c);
        }
        for p in subs.patterns.clone() {
            self.punsubscribe(subs, &p);
        }
        for c in subs.shard_channels.clone() {
            self.sunsubscribe(subs, &c);
        }
    }

    /// Sends `payload` to the subscribers of `channel` in `space` and, for
    /// plain channels, of the patterns matching it; returns how many
    /// received it. Client `me` gets its copy written straight into `out`,
    /// ahead of the command's reply, as Redis does.
    pub fn publish(
        &self,
        space: Space,
        channel: &[u8],
        payload: &[u8],
        me: u64,
        mut out: Option<&mut Reply>,
    ) -> usize {
        let mut shared: Option<(Bytes, Bytes)> = None;
        let mut shared_copy = || {
            shared
                .get_or_insert_with(|| {
                    (
                        Bytes::copy_from_slice(channel),
                        Bytes::copy_from_slice(payload),
                    )
                })
                .clone()
        };
        let mut receivers = 0;
        let shard = space == Space::Shard;
        if let Some(list) = self.table(space).shard(channel).read().get(channel) {
            for s in list {
                let (channel, payload) = shared_copy();
                let m = Message::Channel {
                    shard,
                    channel,
                    payload,
                };
                self.deliver(s, m, me, &mut out);
                receivers += 1;
            }
        }
        if !shard && self.npatterns.load(Ordering::Relaxed) > 0 {
            for (pattern, list) in self.patterns.read().iter() {
                if !glob_match(pattern, channel, false) {
                    continue;
                }
                for s in list {
                    let (channel, payload) = shared_copy();
                    let pattern = pattern.clone();
                    let m = Message::Pattern {
                        pattern,
                        channel,
                        payload,
                    };
                    self.deliver(s, m, me, &mut out);
                    receivers += 1;
                }
            }
        }
        receivers
    }

    fn deliver(&self, s: &Subscriber, m: Message, me: u64, out: &mut Option<&mut Reply>) {
        if s.client.id == me {
            if let Some(out) = out.as_deref_mut() {
                return m.write(out);
            }
        }
        s.send(m, &self.limits);
    }

    /// Active channels of `space` matching `pattern` (all without one).
    pub fn channels(&self, space: Space, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.table(space).names(pattern)
    }

    pub fn numsub(&self, space: Space, channel: &[u8]) -> usize {
        self.table(space).numsub(channel)
    }

    /// Distinct patterns subscribed to.
    pub fn numpat(&self) -> usize {
        self.npatterns.load(Ordering::Relaxed)
    }

    /// Active channels of `space` (INFO pubsub_channels,
    /// pubsubshard_channels).
    pub fn numchannels(&self, space: Space) -> usize {
        self.table(space).len()
    }

    /// Whether events of `class` would be published.
    #[inline]
    pub fn notifies(&self, class: u32) -> bool {
        self.events.load(Ordering::Relaxed) & class != 0
            && self.subscriptions.load(Ordering::Relaxed) > 0
    }

    /// Redis's notifyKeyspaceEvent: when notifications of `class` are on,
    /// publishes `__keyspace@<db>__:<key>` carrying the event name and
    /// `__keyevent@<db>__:<event>` carrying the key. Checking costs two
    /// relaxed loads, cheap enough for every write.
    #[inline]
    pub fn notify(&self, class: u32, event: &str, key: &[u8], db: usize) {
        if self.notifies(class) {
            self.publish_event(event, key, db);
        }
    }

    #[cold]
    fn publish_event(&self, event: &str, key: &[u8], db: usize) {
        let flags = self.events.load(Ordering::Relaxed);
        if flags & events::KEYSPACE != 0 {
            let mut ch = format!("__keyspace@{}__:", db).into_bytes();
            ch.extend_from_slice(key);
            self.publish(Space::Channels, &ch, event.as_bytes(), 0, None);
        }
        if flags & events::KEYEVENT != 0 {
            let ch = format!("__keyevent@{}__:{}", db, event);
            self.publish(Space::Channels, ch.as_bytes(), key, 0, None);
        }
    }
}

/// notify-keyspace-events classes, with Redis's letters.
pub mod events {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const KEYEVENT: u32 = 1 << 1;
    pub const GENERIC: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    pub const SET: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const ZSET: u32 = 1 << 7;
    pub const EXPIRED: u32 = 1 << 8;
    pub const EVICTED: u32 = 1 << 9;
    pub const STREAM: u32 = 1 << 10;
    pub const KEY_MISS: u32 = 1 << 11;
    pub const MODULE: u32 = 1 << 12;
    pub const NEW: u32 = 1 << 13;
    /// 'A': every class but key misses and new keys.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

    /// The letters of the classes 'A' stands for (and 'n'), in the order
    /// Redis prints them.
    const CLASSES: &[(char, u32)] = &[
        ('g', GENERIC),
        ('$', STRING),
        ('l', LIST),
        ('s', SET),
        ('h', HASH),
        ('z', ZSET),
        ('x', EXPIRED),
        ('e', EVICTED),
        ('t', STREAM),
        ('d', MODULE),
        ('n', NEW),
    ];

    /// Redis's keyspaceEventsStringToFlags; None on an unknown letter.
    pub fn parse(s: &str) -> Option<u32> {
        let mut flags = 0;
        for c in s.chars() {
            flags |= match c {
                'A' => ALL,
                'K' => KEYSPACE,
                'E' => KEYEVENT,
                'm' => KEY_MISS,
                _ => CLASSES.iter().find(|(l, _)| *l == c)?.1,
            };
        }
        Some(flags)
    }

    /// Redis's keyspaceEventsFlagsToString (which, like Redis, omits 'n'
    /// when 'A' is printed).
    pub fn format(flags: u32) -> String {
        let mut out = String::new();
        if flags & ALL == ALL {
            out.push('A');
        } else {
            out.extend(
                CLASSES
                    .iter()
                    .filter(|(_, f)| flags & f != 0)
                    .map(|(c, _)| c),
            );
        }
        for (c, f) in [('K', KEYSPACE), ('E', KEYEVENT), ('m', KEY_MISS)] {
            if flags & f != 0 {
                out.push(c);
            }
        }
        out
    }
}
