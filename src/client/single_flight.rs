//! `single-flight`: one shared refresh per failed token. Every 401 for the
//! same token waits for the same refresh; a late 401 for a token that was
//! already replaced retries with the current token instead of refreshing
//! again. This is the fix the well-kept libraries converge on.

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
pub struct SingleFlight {
    /// The refresh of one token, running or finished.
    flight: Mutex<Option<Flight>>,
}

struct Flight {
    /// The jti being refreshed.
    key: String,
    /// `None` while running; then the refresh's result, for late joiners.
    outcome: Option<Option<Token>>,
    /// Who waits for it, in the order they joined.
    joiners: Vec<oneshot::Sender<Option<Token>>>,
}

impl SingleFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Flight>> {
        self.flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn handle_401(&self, tab: &Tab, lane: Lane, used: Token) -> Option<Token> {
        let joined = {
            let mut flight = self.lock();
            // Checked under the flight lock: a refresh stores its token
            // before it publishes its outcome here.
            if let Some(current) = tab.current() {
                if current.jti != used.jti {
                    return Some(current);
                }
            }
            match flight.as_mut() {
                Some(running) if running.key == used.jti => match &running.outcome {
                    Some(outcome) => return outcome.clone(),
                    None => {
                        let (tx, rx) = oneshot::channel();
                        running.joiners.push(tx);
                        Some(rx)
                    }
                },
                _ => {
                    *flight = Some(Flight {
                        key: used.jti.clone(),
                        outcome: None,
                        joiners: Vec::new(),
                    });
                    None
                }
            }
        };
        if let Some(rx) = joined {
            tab.recorder.record(
                lane,
                EventKind::Queued {
                    jti: Some(used.jti.clone()),
                },
            );
            tab.motion.park();
            return rx.await.ok().flatten();
        }
        let result = tab.refresh_and_store(lane, &used).await.ok();
        let joiners = {
            let mut flight = self.lock();
            match flight.as_mut().filter(|f| f.key == used.jti) {
                Some(done) => {
                    done.outcome = Some(result.clone());
                    std::mem::take(&mut done.joiners)
                }
                None => Vec::new(),
            }
        };
        // A joiner of a closed tab is gone: nobody to wake.
        for joiner in joiners.into_iter().filter(|j| !j.is_closed()) {
            let result = result.clone();
            tab.motion.wake(move || {
                let _ = joiner.send(result);
            });
        }
        result
    }

    /// The flight's token, whether it still runs, and who joined it.
    /// The flight's token, whether it runs and who joined it, for this
    /// strategy's rows and those built on it.
    pub fn parts(&self) -> (Option<String>, bool, u32) {
        let flight = self.lock();
        (
            flight.as_ref().map(|f| f.key.clone()),
            flight.as_ref().is_some_and(|f| f.outcome.is_none()),
            flight.as_ref().map_or(0, |f| f.joiners.len() as u32),
        )
    }
}

/// A new shared refresh, for each tab.
pub fn make(_motion: &Arc<Motion>) -> Box<dyn Interceptor> {
    Box::new(SingleFlight::default())
}

impl Interceptor for SingleFlight {
    fn handle_401<'a>(&'a self, tab: &'a Tab, lane: Lane, used: Token) -> BoxFuture<'a, Option<Token>> {
        Box::pin(self.handle_401(tab, lane, used))
    }

    /// The token whose shared refresh is running or done, and who joined it.
    fn rows(&self) -> Vec<StateRow> {
        let (flight, running, joined) = self.parts();
        let note = match (&flight, running) {
            (Some(token), true) => format!("401s with {token} join it"),
            (Some(_), false) => "done: retry with the new token".into(),
            (None, _) => "no refresh yet".into(),
        };
        let running_note = match running {
            true => "the shared refresh is out",
            false => "nothing to join",
        };
        vec![
            StateRow::new("flight", flight.as_deref().unwrap_or("none"), note)
                .hook("flight", flight.as_deref().unwrap_or("")),
            StateRow::new("running", running.to_string(), running_note)
                .hook("running", running.to_string()),
            StateRow::new("joined", joined.to_string(), "sharing that refresh")
                .hook("joined", joined.to_string()),
        ]
    }
}
