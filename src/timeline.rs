//! The timeline: the one data model every view reads.
//!
//! A run records an ordered list of [`Event`]s. Server and clients share one
//! [`Recorder`], so `t_us` comes from one monotonic clock and `seq` gives a
//! total order even when two events land in the same microsecond.
//!
//! The recorder keeps the whole list for the run (the verdict, the text
//! timeline and exports need it) and can also forward each event as it
//! happens to a live subscriber (the UI's stream). A recorder made with
//! [`Recorder::bounded`] keeps only the newest events, so a long-lived server
//! that nobody reads cannot grow without limit.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::clock::NumericDate;
pub use crate::protocol::{Lane, Reason, RevokeCause, Route, TabNo, TokenKind};

/// One thing that happened during a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// Position in the run's total order.
    pub seq: u64,
    /// Microseconds since the run started.
    pub t_us: u64,
    /// `secret#1`, `public#2`, `late#1`, `client` or `server`.
    pub lane: Lane,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened. Serialised with a `kind` tag in snake_case, e.g.
/// `{"kind":"response","attempt":3,"status":401,...}`.
///
/// `attempt` is a run-wide id of one HTTP exchange: the `*_sent` event and
/// its `response`/`refresh_done` share it, and so do the server's decisions
/// about that exchange, which lets a view draw one bar per attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    // ---- client side ----
    /// A logical request's first HTTP attempt left the client.
    RequestSent {
        attempt: u64,
        route: Route,
        jti: Option<String>,
    },
    /// Any non-refresh attempt (first or retry) got its answer.
    Response {
        attempt: u64,
        route: Route,
        status: u16,
        reason: Option<Reason>,
        jti: Option<String>,
    },
    /// The request hit a 401 while a refresh was running and now waits.
    Queued { jti: Option<String> },
    /// A refresh call left the client, presenting `jti` as the credential.
    RefreshSent { attempt: u64, jti: Option<String> },
    /// The refresh call's answer: `new_jti` on success, `reason` on failure.
    /// In OAuth mode `jti` is the refresh token presented (`r2`), `new_jti`
    /// the new access token and `new_refresh` the refresh token that came
    /// with it.
    RefreshDone {
        attempt: u64,
        status: u16,
        jti: Option<String>,
        new_jti: Option<String>,
        reason: Option<Reason>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        new_refresh: Option<String>,
    },
    /// A logical request is sent again after a refresh (or with a newer token).
    RetrySent {
        attempt: u64,
        route: Route,
        jti: Option<String>,
    },
    /// The token store now holds `jti`; `tab` stored it (named only when
    /// the run has several tabs, which share the store).
    TokenStored {
        jti: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tab: Option<TabNo>,
        /// OAuth mode: the refresh token stored beside the access token.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh: Option<String>,
    },
    /// The token store was cleared: the user is logged out (in every tab),
    /// because `tab`'s refresh of `jti` was refused for `reason`.
    LoggedOut {
        jti: String,
        reason: Reason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tab: Option<TabNo>,
    },
    /// A logical request finished, for good or bad.
    RequestDone { ok: bool, status: u16 },

    // ---- server side ----
    /// A token was signed (login, refresh or grace re-issue).
    Issued {
        attempt: Option<u64>,
        jti: String,
        /// The signed JWT itself, so a viewer can decode its real header
        /// and payload. Lab keys are per run and never leave the process.
        token: String,
        fam: String,
        sub: String,
        /// Lab time to the millisecond, as in the token.
        iat: NumericDate,
        exp: NumericDate,
        /// `exp` plus the refresh window: from then on the token is dead.
        refresh_until: NumericDate,
        /// An OAuth refresh token (`r2`, opaque: `token` is its value, `exp`
        /// its end) rather than a JWT access token.
        #[serde(default, skip_serializing_if = "TokenKind::is_access")]
        token_kind: TokenKind,
    },
    /// A request was let through (`/api/secret` with a valid token, or a refresh).
    Accepted {
        attempt: Option<u64>,
        route: Route,
        jti: Option<String>,
    },
    /// A request was refused, with the reason the client is told.
    Rejected {
        attempt: Option<u64>,
        route: Route,
        jti: Option<String>,
        reason: Reason,
    },
    /// A refresh replaced `jti` with `new_jti`.
    Rotated {
        attempt: Option<u64>,
        jti: String,
        new_jti: String,
    },
    /// `jti` can no longer be used.
    Revoked {
        attempt: Option<u64>,
        jti: String,
        cause: RevokeCause,
    },
    /// The lab clock jumped forward (time travel, or a case's "come back later").
    ClockAdvanced { by_ms: u64, lab_now_ms: u64 },

    // ---- the tab's lifecycle ----
    /// The laptop woke after sleeping (the lab clock jumped just before):
    /// these tabs woke at once and started these lanes.
    Woke { tabs: Vec<TabNo>, lanes: Vec<Lane> },
    /// A tab was closed: its requests in flight were abandoned and the
    /// locks it held released, as a browser does.
    TabClosed { tab: TabNo, abandoned: Vec<Lane> },
    /// A tab was frozen: nothing of it moves again, and the locks it holds
    /// stay held; these lanes of it had not returned.
    TabFrozen { tab: TabNo, stuck: Vec<Lane> },
    /// The run can never settle: these lanes wait on something nobody will
    /// ever give them (`on` says what), with no leg left in flight.
    Hang { waiting: Vec<Lane>, on: String },
}

impl EventKind {
    /// The attempt (one HTTP exchange) the event is about, if any: the
    /// server's events name it when they answer a tagged request.
    pub fn attempt(&self) -> Option<u64> {
        match self {
            EventKind::RequestSent { attempt, .. }
            | EventKind::Response { attempt, .. }
            | EventKind::RefreshSent { attempt, .. }
            | EventKind::RefreshDone { attempt, .. }
            | EventKind::RetrySent { attempt, .. } => Some(*attempt),
            EventKind::Issued { attempt, .. }
            | EventKind::Accepted { attempt, .. }
            | EventKind::Rejected { attempt, .. }
            | EventKind::Rotated { attempt, .. }
            | EventKind::Revoked { attempt, .. } => *attempt,
            _ => None,
        }
    }

    /// The snake_case name used on the wire and in the text timeline.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::RequestSent { .. } => "request_sent",
            EventKind::Response { .. } => "response",
            EventKind::Queued { .. } => "queued",
            EventKind::RefreshSent { .. } => "refresh_sent",
            EventKind::RefreshDone { .. } => "refresh_done",
            EventKind::RetrySent { .. } => "retry_sent",
            EventKind::TokenStored { .. } => "token_stored",
            EventKind::LoggedOut { .. } => "logged_out",
            EventKind::RequestDone { .. } => "request_done",
            EventKind::Issued { .. } => "issued",
            EventKind::Accepted { .. } => "accepted",
            EventKind::Rejected { .. } => "rejected",
            EventKind::Rotated { .. } => "rotated",
            EventKind::Revoked { .. } => "revoked",
            EventKind::ClockAdvanced { .. } => "clock_advanced",
            EventKind::Woke { .. } => "woke",
            EventKind::TabClosed { .. } => "tab_closed",
            EventKind::TabFrozen { .. } => "tab_frozen",
            EventKind::Hang { .. } => "hang",
        }
    }
}

/// Shared, cheap-to-clone event sink for one run (or one long-lived server).
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<RecorderInner>,
}

struct RecorderInner {
    started: Instant,
    next_seq: AtomicU64,
    /// Enabled unless the recorder was built with [`Recorder::disabled`].
    enabled: bool,
    /// `None` keeps everything; `Some(n)` keeps the newest `n` events.
    capacity: Option<usize>,
    state: Mutex<RecorderState>,
}

struct RecorderState {
    events: VecDeque<Event>,
    live: Option<mpsc::UnboundedSender<Event>>,
}

impl Recorder {
    /// Keeps every event: one run's recorder.
    pub fn new() -> Self {
        Self::build(true, None)
    }

    /// Keeps the newest `capacity` events: a long-lived server's recorder.
    pub fn bounded(capacity: usize) -> Self {
        Self::build(true, Some(capacity))
    }

    /// Records nothing; for measuring what recording costs.
    pub fn disabled() -> Self {
        Self::build(false, Some(0))
    }

    fn build(enabled: bool, capacity: Option<usize>) -> Self {
        Recorder {
            inner: Arc::new(RecorderInner {
                started: Instant::now(),
                next_seq: AtomicU64::new(0),
                enabled,
                capacity,
                state: Mutex::new(RecorderState {
                    events: VecDeque::new(),
                    live: None,
                }),
            }),
        }
    }

    /// Every later event is also sent to the returned receiver, in `seq` order.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().live = Some(tx);
        rx
    }

    /// Stops forwarding, which ends the subscriber's stream.
    pub fn unsubscribe(&self) {
        self.lock().live = None;
    }

    /// Microseconds since this recorder was made.
    pub fn now_us(&self) -> u64 {
        self.inner.started.elapsed().as_micros() as u64
    }

    /// Records `kind` on `lane` now.
    pub fn record(&self, lane: Lane, kind: EventKind) {
        if !self.inner.enabled {
            return;
        }
        // Free the evicted event after releasing the lock: under load every
        // request records, so the critical section is kept to stamping and
        // one push.
        let evicted = {
            let mut state = self.lock();
            // Stamp under the lock so that `seq` order and `t_us` order agree.
            let event = Event {
                seq: self.inner.next_seq.fetch_add(1, Ordering::Relaxed),
                t_us: self.now_us(),
                lane,
                kind,
            };
            if let Some(live) = &state.live {
                if live.send(event.clone()).is_err() {
                    state.live = None;
                }
            }
            let evicted = match self.inner.capacity {
                Some(0) => return,
                Some(capacity) if state.events.len() >= capacity => state.events.pop_front(),
                _ => None,
            };
            state.events.push_back(event);
            evicted
        };
        drop(evicted);
    }

    /// A copy of the kept events, in order.
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.iter().cloned().collect()
    }

    /// How many events are kept right now.
    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// True when no event is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RecorderState> {
        // A panic while holding this lock cannot leave the list half-written
        // (push/pop are single calls), so a poisoned lock is still usable.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_a_kind_tag() {
        let recorder = Recorder::new();
        recorder.record(
            Lane::secret(1),
            EventKind::Response {
                attempt: 1,
                route: Route::Secret,
                status: 401,
                reason: Some(Reason::Expired),
                jti: Some("t1".into()),
            },
        );
        let json = serde_json::to_value(&recorder.events()[0]).unwrap();
        assert_eq!(json["kind"], "response");
        assert_eq!(json["lane"], "secret#1");
        assert_eq!(json["status"], 401);
        assert_eq!(json["jti"], "t1");
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, recorder.events()[0]);
    }

    #[test]
    fn bounded_recorder_keeps_only_the_newest() {
        let recorder = Recorder::bounded(3);
        for n in 0..10 {
            recorder.record(
                Lane::Client,
                EventKind::LoggedOut {
                    jti: format!("t{n}"),
                    reason: Reason::Reused,
                    tab: None,
                },
            );
        }
        let seqs: Vec<u64> = recorder.events().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![7, 8, 9]);
    }

    #[test]
    fn subscriber_sees_events_in_order() {
        let recorder = Recorder::new();
        let mut rx = recorder.subscribe();
        for _ in 0..3 {
            recorder.record(Lane::Client, EventKind::Queued { jti: None });
        }
        let seqs: Vec<u64> = (0..3).map(|_| rx.try_recv().unwrap().seq).collect();
        assert_eq!(seqs, vec![0, 1, 2]);
    }
}
