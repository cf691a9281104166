//! CLIENT PAUSE: while a pause lasts, dispatch postpones the commands it
//! covers (all of them, or under WRITE those that may write or propagate:
//! writes, PUBLISH, scripts, an EXEC with such commands queued). The
//! postponed client's connection waits for the pause to end and then runs
//! the command again from its buffer. Checking costs one relaxed load while
//! no pause is set.

use crate::util::now_ms;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

pub const WRITE: u8 = 1;
pub const ALL: u8 = 2;

#[derive(Default)]
pub struct Pause {
    /// 0, WRITE or ALL.
    mode: AtomicU8,
    until_ms: AtomicI64,
    /// Wakes postponed clients on CLIENT UNPAUSE.
    ended: Notify,
}

impl Pause {
    /// The pause in force: its mode, 0 when none or expired.
    #[inline]
    pub fn mode(&self) -> u8 {
        match self.mode.load(Ordering::Relaxed) {
            0 => 0,
            m if now_ms() < self.until_ms.load(Ordering::Relaxed) => m,
            _ => 0,
        }
    }

    /// Like Redis's pauseClients: the stricter mode and the later end win.
    pub fn start(&self, mode: u8, until_ms: i64) {
        self.until_ms.fetch_max(until_ms, Ordering::Relaxed);
        self.mode.fetch_max(mode, Ordering::Relaxed);
    }

    pub fn end(&self) {
        self.mode.store(0, Ordering::Relaxed);
        self.until_ms.store(0, Ordering::Relaxed);
        self.ended.notify_waiters();
    }

    /// Returns once no pause is in force.
    pub async fn wait(&self) {
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.mode() == 0 {
                return;
            }
            let left = self.until_ms.load(Ordering::Relaxed) - now_ms();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(left.max(1) as u64)) => {}
                _ = ended => {}
            }
        }
    }
}
