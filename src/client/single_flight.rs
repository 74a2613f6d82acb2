//! `single-flight`: one shared refresh per failed token. Every 401 for the
//! same token awaits the same future; a late 401 for a token that was already
//! replaced retries with the current token instead of refreshing again.
//! This is the fix the well-kept libraries converge on.

use std::sync::{Arc, Mutex};

use futures::future::{BoxFuture, FutureExt, Shared};

use super::{Tab, Token};
use crate::protocol::Lane;
use crate::timeline::EventKind;

type SharedRefresh = Shared<BoxFuture<'static, Option<Token>>>;

#[derive(Default)]
pub struct SingleFlight {
    /// The refresh of the token named by the key, running or finished.
    flight: Mutex<Option<(String, SharedRefresh)>>,
}

impl SingleFlight {
    pub async fn handle_401(&self, tab: &Arc<Tab>, lane: Lane, used: Token) -> Option<Token> {
        let (refresh, joined) = {
            let mut flight = self.flight.lock().unwrap_or_else(|p| p.into_inner());
            // Checked under the flight lock: a refresh stores its token
            // before anyone can start the next flight.
            if let Some(current) = tab.current() {
                if current.jti != used.jti {
                    return Some(current);
                }
            }
            match flight.as_ref() {
                Some((key, refresh)) if *key == used.jti => (refresh.clone(), true),
                _ => {
                    let owner = tab.clone();
                    let owner_lane = lane;
                    let credential = used.clone();
                    let refresh =
                        async move { owner.refresh_and_store(owner_lane, &credential).await.ok() }
                            .boxed()
                            .shared();
                    *flight = Some((used.jti.clone(), refresh.clone()));
                    (refresh, false)
                }
            }
        };
        if joined {
            tab.recorder.record(
                lane,
                EventKind::Queued {
                    jti: Some(used.jti.clone()),
                },
            );
        }
        refresh.await
    }
}
