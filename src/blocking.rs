//! Clients blocked on keys (BLPOP & co): the waiter a blocked client leaves
//! in the shard of each of its keys, and the hand-over protocol between the
//! client that pushes and the client that waits.
//!
//! A waiter is served at most once: whoever first moves its state from
//! `WAITING` (the pushing side that pops for it, the waiting side on timeout,
//! CLIENT UNBLOCK) owns the outcome, so an element is never both handed over
//! and lost to a timeout.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use tokio::sync::oneshot;

const WAITING: u8 = 0;
const DONE: u8 = 1;

/// Global blocking order: FIFO per key, and the same order on every key, so
/// the longest-waiting client is first everywhere.
static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

/// What a blocked client waits to do once one of its keys has data.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockOp {
    /// BLPOP/BRPOP: [key, element].
    Pop { front: bool },
    /// BLMOVE/BRPOPLPUSH: the element moved to `dst`.
    Move {
        dst: Vec<u8>,
        from_front: bool,
        to_front: bool,
    },
    /// BLMPOP: [key, [elements]].
    MultiPop { front: bool, count: usize },
    /// BZPOPMIN/BZPOPMAX: [key, member, score].
    ZPop { max: bool },
    /// BZMPOP: [key, [[member, score]...]].
    ZMultiPop { max: bool, count: usize },
    /// XREAD: the entries of a key past `after[i]` (`i` its index in the
    /// waiter's keys), at most `count`. XREADGROUP ... `>`: the entries
    /// past its group's last ID.
    XRead {
        after: Vec<crate::store::stream::StreamId>,
        count: usize,
        group: Option<GroupRead>,
    },
}

/// The group, consumer and NOACK flag of a blocked XREADGROUP.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRead {
    pub group: Vec<u8>,
    pub consumer: Vec<u8>,
    pub noack: bool,
}

impl BlockOp {
    /// Whether this waits on sorted sets (else on lists).
    pub fn wants_zset(&self) -> bool {
        matches!(self, BlockOp::ZPop { .. } | BlockOp::ZMultiPop { .. })
    }

    /// Whether this reads a stream (served without consuming: every ready
    /// reader gets the same entries).
    pub fn reads_stream(&self) -> bool {
        matches!(self, BlockOp::XRead { .. })
    }
}

pub struct Waiter {
    pub client_id: u64,
    pub seq: u64,
    pub db: usize,
    pub resp: u8,
    pub keys: Vec<Vec<u8>>,
    pub op: BlockOp,
    state: AtomicU8,
    reply: Mutex<Option<oneshot::Sender<Vec<u8>>>>,
}

impl Waiter {
    pub fn new(
        client_id: u64,
        db: usize,
        resp: u8,
        keys: Vec<Vec<u8>>,
        op: BlockOp,
    ) -> (Waiter, oneshot::Receiver<Vec<u8>>) {
        let (tx, rx) = oneshot::channel();
        let w = Waiter {
            client_id,
            seq: NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
            db,
            resp,
            keys,
            op,
            state: AtomicU8::new(WAITING),
            reply: Mutex::new(Some(tx)),
        };
        (w, rx)
    }

    pub fn is_waiting(&self) -> bool {
        self.state.load(Ordering::Acquire) == WAITING
    }

    /// Takes ownership of the outcome; false if someone else already did.
    pub fn claim(&self) -> bool {
        self.state
            .compare_exchange(WAITING, DONE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Hands the reply to the waiting connection (after a successful claim).
    pub fn send(&self, reply: Vec<u8>) {
        if let Some(tx) = self.reply.lock().take() {
            let _ = tx.send(reply);
        }
    }
}
