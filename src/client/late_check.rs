//! `late-check`: the article's queue with the late-401 fix. Before it
//! refreshes, a 401 checks whether the stored token changed since its
//! request left; if it did, another request's refresh already replaced the
//! token, and the request retries with the new one instead of refreshing
//! the old one again (which a rotating server refuses as reuse). Everything
//! else is the queue's: the flag, the waiting requests, the rows.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::{Interceptor, Tab, Token};
use crate::motion::Motion;
use crate::protocol::views::StateRow;
use crate::protocol::Lane;

pub struct LateCheck {
    queue: Box<dyn Interceptor>,
}

/// A new queue with the check, for each tab.
pub fn make(motion: &Arc<Motion>) -> Box<dyn Interceptor> {
    Box::new(LateCheck {
        queue: super::queue::make(motion),
    })
}

impl Interceptor for LateCheck {
    fn handle_401<'a>(
        &'a self,
        tab: &'a Tab,
        lane: Lane,
        used: Token,
    ) -> BoxFuture<'a, Option<Token>> {
        Box::pin(async move {
            match tab.current() {
                // The late 401: the token was replaced while it travelled.
                Some(current) if current.jti != used.jti => Some(current),
                _ => self.queue.handle_401(tab, lane, used).await,
            }
        })
    }

    fn rows(&self) -> Vec<StateRow> {
        self.queue.rows()
    }
}
