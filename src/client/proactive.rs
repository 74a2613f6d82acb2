//! `proactive`: a timer refreshes the token shortly before its `exp`, so
//! requests never meet an expired one — unless the page was asleep. A tab
//! that wakes up after `exp` (the lab's cases 3 and 4) finds its timer
//! overdue: it fires with the burst, while the requests' 401s start their
//! own refresh. The 401s share one refresh among themselves (single-flight)
//! but not with the timer, as in oidc-client-ts #710: two refreshes of one
//! token, and a rotating server refuses one of them.

use super::single_flight::SingleFlight;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::{Interceptor, Tab, Token};
use crate::motion::Motion;
use crate::protocol::views::StateRow;
use crate::protocol::Lane;

/// How long before `exp` the timer is set to fire, in lab ms.
pub const AHEAD_MS: u64 = 1_000;

#[derive(Default)]
pub struct Proactive {
    /// The 401s' shared refresh.
    on_401: SingleFlight,
    /// The token the timer refreshed (or is refreshing), once it fired.
    fired: std::sync::Mutex<Option<String>>,
}

impl Proactive {
    /// True when a timer set for `token` is due at lab time `now_ms`.
    pub fn timer_due(&self, token: Option<&Token>, now_ms: u64) -> bool {
        token
            .and_then(|token| token.exp_ms)
            .is_some_and(|exp_ms| exp_ms.saturating_sub(AHEAD_MS) <= now_ms)
    }

    /// The timer fires: refresh the stored token, on the timer's own lane.
    pub async fn timer_fires(&self, tab: &Tab, lane: Lane, used: Token) -> Option<Token> {
        *self.fired.lock().unwrap_or_else(|p| p.into_inner()) = Some(used.jti.clone());
        tab.refresh_and_store(lane, &used).await.ok()
    }

}

/// A new timer and shared refresh, for each tab.
pub fn make(_motion: &Arc<Motion>) -> Box<dyn Interceptor> {
    Box::new(Proactive::default())
}

impl Interceptor for Proactive {
    fn handle_401<'a>(&'a self, tab: &'a Tab, lane: Lane, used: Token) -> BoxFuture<'a, Option<Token>> {
        Box::pin(self.on_401.handle_401(tab, lane, used))
    }

    /// The timer's token, and the 401s' shared refresh.
    fn rows(&self) -> Vec<StateRow> {
        let fired = self.fired.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let (flight, running, _) = self.on_401.parts();
        let timer_note = match &fired {
            Some(token) => format!("fired: refreshes {token} on its own"),
            None => "set for shortly before exp".into(),
        };
        let flight_note = match (&flight, running) {
            (Some(token), true) => format!("401s with {token} join it, not the timer"),
            (Some(_), false) => "done".into(),
            (None, _) => "no 401 refresh yet".into(),
        };
        vec![
            StateRow::new("timer", fired.as_deref().unwrap_or("waiting"), timer_note)
                .hook("timer-fired", fired.as_deref().unwrap_or("")),
            StateRow::new("flight", flight.as_deref().unwrap_or("none"), flight_note)
                .hook("flight", flight.as_deref().unwrap_or("")),
        ]
    }

    fn proactive(&self) -> Option<&Proactive> {
        Some(self)
    }
}
