//! `mutex`: one lock around refreshing, and a re-read of the stored token
//! after taking it. The first 401 takes the lock and refreshes; the others
//! wait for the lock, then find a newer token in the store and retry with
//! it instead of refreshing again. A late 401 finds the newer token the same
//! way. Unlike `single-flight`, waiters are not handed the result: they read
//! the store, as code around a plain lock (or Web Locks) does.

use std::sync::Arc;

use super::slots::Slots;
use futures::future::BoxFuture;

use super::{Interceptor, Tab, Token};
use crate::motion::Motion;
use crate::protocol::views::StateRow;
use crate::protocol::Lane;

pub struct Mutex {
    lock: Slots,
}

impl Mutex {
    pub fn new(motion: Arc<Motion>) -> Self {
        Mutex {
            lock: Slots::new(1, motion),
        }
    }

    async fn on_401(&self, tab: &Tab, lane: Lane, used: Token) -> Option<Token> {
        let _held = tab.take_lock(&self.lock, lane, &used).await;
        // The re-check: whoever held the lock before may have refreshed.
        match tab.current() {
            Some(current) if current.jti != used.jti => Some(current),
            // Its refresh was refused and logged the tab out: nothing to retry.
            None => None,
            Some(_) => tab.refresh_and_store(lane, &used).await.ok(),
        }
    }

    /// Forgets the waiters of a tab being closed.
    pub fn forget_waiters(&self, tab: crate::protocol::TabNo) {
        self.lock.forget_waiters(tab);
    }

    /// Who holds the lock and who waits for it.
    pub fn holders_and_waiters(&self) -> (Vec<Lane>, Vec<Lane>) {
        self.lock.holders_and_waiters()
    }

}

/// A new lock, for each tab.
pub fn make(motion: &Arc<Motion>) -> Box<dyn Interceptor> {
    Box::new(Mutex::new(motion.clone()))
}

impl Interceptor for Mutex {
    fn handle_401<'a>(&'a self, tab: &'a Tab, lane: Lane, used: Token) -> BoxFuture<'a, Option<Token>> {
        Box::pin(self.on_401(tab, lane, used))
    }

    /// Whether the lock is held, and how many wait for it.
    fn rows(&self) -> Vec<StateRow> {
        let (free, waiting) = self.lock.counts();
        let locked = (free == 0).to_string();
        let note = match free == 0 {
            true => "a 401 holds the lock",
            false => "the next 401 takes it",
        };
        vec![
            StateRow::new("locked", &locked, note).hook("locked", &locked),
            StateRow::new(
                "waiting",
                waiting.to_string(),
                "will re-read the store once they have the lock",
            )
            .hook("waiting", waiting.to_string()),
        ]
    }

    fn mutex(&self) -> Option<&Mutex> {
        Some(self)
    }
}
