//! `queue`: the article's interceptor, faithfully. A flag says a refresh is
//! running; 401s that arrive meanwhile wait in a queue and are retried with
//! its result. Its weakness is kept on purpose: a 401 that arrives after the
//! refresh ended finds the flag down and starts a second refresh with its
//! old token, which a rotating server rejects as reuse.

use std::sync::Mutex;

use tokio::sync::oneshot;

use std::sync::Arc;

use futures::future::BoxFuture;

use super::{Interceptor, Tab, Token};
use crate::motion::Motion;
use crate::protocol::views::StateRow;
use crate::protocol::Lane;
use crate::timeline::EventKind;

#[derive(Default)]
pub struct Queue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    is_refreshing: bool,
    waiting: Vec<oneshot::Sender<Option<Token>>>,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn on_401(&self, tab: &Tab, lane: Lane, used: Token) -> Option<Token> {
        let waiter = {
            let mut state = self.lock();
            if state.is_refreshing {
                let (tx, rx) = oneshot::channel();
                state.waiting.push(tx);
                Some(rx)
            } else {
                state.is_refreshing = true;
                None
            }
        };
        if let Some(rx) = waiter {
            tab.recorder.record(
                lane,
                EventKind::Queued {
                    jti: Some(used.jti.clone()),
                },
            );
            // Waiting for someone else's refresh: not running until woken.
            tab.motion.park();
            return rx.await.ok().flatten();
        }
        let result = tab.refresh_and_store(lane, &used).await.ok();
        let waiting = {
            let mut state = self.lock();
            state.is_refreshing = false;
            std::mem::take(&mut state.waiting)
        };
        // In queue order: a held run retries them one after another.
        // A waiter of a closed tab is gone: nobody to wake.
        for waiter in waiting.into_iter().filter(|w| !w.is_closed()) {
            let result = result.clone();
            tab.motion.wake(move || {
                let _ = waiter.send(result);
            });
        }
        result
    }
}

/// A new queue, for each tab.
pub fn make(_motion: &Arc<Motion>) -> Box<dyn Interceptor> {
    Box::new(Queue::default())
}

impl Interceptor for Queue {
    fn handle_401<'a>(&'a self, tab: &'a Tab, lane: Lane, used: Token) -> BoxFuture<'a, Option<Token>> {
        Box::pin(self.on_401(tab, lane, used))
    }

    /// The flag and the queue's length.
    fn rows(&self) -> Vec<StateRow> {
        let state = self.lock();
        let flag = state.is_refreshing.to_string();
        let waiting = state.waiting.len().to_string();
        let note = match state.is_refreshing {
            true => "new 401s wait in the queue",
            false => "the next 401 refreshes",
        };
        vec![
            StateRow::new("isRefreshing", &flag, note).hook("is-refreshing", &flag),
            StateRow::new("queue", &waiting, "waiting for the refresh").hook("waiting", &waiting),
        ]
    }
}
