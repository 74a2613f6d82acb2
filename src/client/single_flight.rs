//! `single-flight`: one shared refresh per failed token. Every 401 for the
//! same token waits for the same refresh; a late 401 for a token that was
//! already replaced retries with the current token instead of refreshing
//! again. This is the fix the well-kept libraries converge on.

use std::sync::Mutex;

use tokio::sync::oneshot;

use super::{Tab, Token};
use crate::protocol::views::StrategyView;
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
    pub fn view(&self) -> StrategyView {
        let (flight, running, joined) = self.parts();
        StrategyView::SingleFlight {
            flight,
            running,
            joined,
        }
    }

    /// What [`SingleFlight::view`] shows, for strategies built on this one.
    pub fn parts(&self) -> (Option<String>, bool, u32) {
        let flight = self.lock();
        (
            flight.as_ref().map(|f| f.key.clone()),
            flight.as_ref().is_some_and(|f| f.outcome.is_none()),
            flight.as_ref().map_or(0, |f| f.joiners.len() as u32),
        )
    }
}
