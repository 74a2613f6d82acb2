//! Narration: one plain sentence per event, saying what happened and why it
//! matters for the race. The one source of these sentences: the UI's caption
//! line, `refresh-race run --narrate` and the exports all read them.
//!
//! A sentence may need what came before ("secret#2 refreshes t1 on its own:
//! it does not know secret#1 is already refreshing it"), so a [`Narrator`]
//! reads the events in order and keeps what it needs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::protocol::{Lane, LaneKind, Reason, RevokeCause, Route};
use crate::settings::{Case, CrossTab, RunSettings, Strategy};
use crate::timeline::{Event, EventKind};

/// Reads a run's events in order and says each one in a sentence.
pub struct Narrator {
    /// The built-in strategy, or `None` when an in-page module (a library,
    /// the learner's own) ran: its `strategy` is a placeholder whose story
    /// would be told under the wrong name.
    strategy: Option<Strategy>,
    /// What the run is titled by (the module's name, else the strategy's).
    client: String,
    cross_tab: CrossTab,
    /// Refreshes in flight: presented jti → the lanes refreshing it.
    refreshing: HashMap<String, BTreeSet<Lane>>,
    /// jtis whose refresh already succeeded once (and what replaced them).
    replaced: HashMap<String, String>,
    /// Tokens a refresh issued: the "fresh" ones.
    fresh: BTreeSet<String>,
    /// attempt → the lane and token of a refresh, to name what the server
    /// decided about.
    refresh_attempts: BTreeMap<u64, (Lane, Option<String>)>,
    /// attempt → the lane that sent it, so the server's decisions name it.
    senders: HashMap<u64, Lane>,
    /// The app starts cold: a request without a token is no guest's.
    cold: bool,
}

impl Narrator {
    pub fn new(settings: &RunSettings) -> Self {
        Narrator {
            strategy: settings.module.is_none().then_some(settings.strategy),
            client: settings.client_name().to_owned(),
            cross_tab: settings.cross_tab,
            refreshing: HashMap::new(),
            replaced: HashMap::new(),
            fresh: BTreeSet::new(),
            refresh_attempts: BTreeMap::new(),
            senders: HashMap::new(),
            cold: settings.case == Case::ColdStart,
        }
    }

    /// The sentence for the next event of the run.
    pub fn say(&mut self, event: &Event) -> String {
        let lane = event.lane;
        match &event.kind {
            EventKind::RequestSent { attempt, .. }
            | EventKind::RetrySent { attempt, .. }
            | EventKind::RefreshSent { attempt, .. } => {
                self.senders.insert(*attempt, lane);
            }
            _ => {}
        }
        // "for secret#2" on the server's decisions, when the attempt is known.
        let whose = |attempt: &Option<u64>| {
            attempt
                .and_then(|a| self.senders.get(&a))
                .map(|lane| format!(" for {lane}"))
                .unwrap_or_default()
        };
        match &event.kind {
            EventKind::RequestSent { jti, .. } => match (jti, lane.kind()) {
                (None, _) if self.cold => format!(
                    "{lane} leaves without a token: the app just started and holds only the refresh credential."
                ),
                (None, _) => format!("{lane} leaves without a token: a guest has none."),
                (Some(t), Some(LaneKind::Late)) => format!(
                    "{lane} leaves with {t} on a slow network: its answer will come back late."
                ),
                (Some(t), _) => format!("{lane} leaves with {t}."),
            },
            EventKind::Response {
                status,
                reason,
                jti,
                ..
            } => match (status, reason) {
                (200..=299, _) => format!("{lane} got {status} with {}.", token(jti)),
                (401, Some(Reason::Missing)) if self.cold => format!(
                    "{lane} got 401: it carried no token; it refreshes with the stored credential."
                ),
                (401, Some(Reason::Missing)) => {
                    format!("{lane} got 401: it carried no token, so there is nothing to refresh.")
                }
                (401, Some(reason)) => format!(
                    "{lane} got 401 ({reason}) with {}: its interceptor must decide what to do.",
                    token(jti)
                ),
                (0, _) => format!("{lane} got no answer: the connection failed."),
                _ => format!("{lane} got {status}."),
            },
            EventKind::Queued { jti } => match (self.strategy, self.cross_tab) {
                (_, CrossTab::Lock | CrossTab::StorageLock) | (Some(Strategy::Mutex), _) => format!(
                    "{lane} got 401 with {} and waits for the lock; once it has it, it reads the store again.",
                    token(jti)
                ),
                _ => format!(
                    "{lane} waits for the refresh of {} already in flight instead of starting its own.",
                    token(jti)
                ),
            },
            EventKind::RefreshSent { attempt, jti } => {
                self.refresh_attempts.insert(*attempt, (lane, jti.clone()));
                let t = token(jti).to_owned();
                let others: Vec<String> = self
                    .refreshing
                    .get(&t)
                    .map(|lanes| lanes.iter().map(Lane::to_string).collect())
                    .unwrap_or_default();
                let another_tab = self
                    .refreshing
                    .get(&t)
                    .is_some_and(|lanes| lanes.iter().any(|other| other.tab() != lane.tab()));
                self.refreshing.entry(t.clone()).or_default().insert(lane);
                let again = self.replaced.get(&t);
                if lane.kind() == Some(LaneKind::Timer) {
                    return match others.is_empty() {
                        true => format!(
                            "{lane}: the proactive timer, set to fire shortly before {t} expires, fires as the page wakes up and refreshes {t}."
                        ),
                        false => format!(
                            "{lane}: the proactive timer refreshes {t} too, although {} already refreshing it: the timer does not share the 401s' refresh.",
                            is_are(&others)
                        ),
                    };
                }
                if another_tab && self.strategy != Some(Strategy::Naive) {
                    return format!(
                        "{lane} starts its own tab's refresh of {t}, although {} already refreshing it in another tab: tabs share the token store, not their interceptors.",
                        is_are(&others)
                    );
                }
                match (self.strategy, others.is_empty(), again) {
                    (Some(Strategy::Naive), false, _) => format!(
                        "{lane} refreshes {t} on its own: the naive client does not know {} already refreshing it.",
                        is_are(&others)
                    ),
                    (None, false, None) => format!(
                        "{lane} refreshes {t} too, although {} already refreshing it: {} started a second refresh of one token.",
                        is_are(&others),
                        self.client
                    ),
                    (Some(Strategy::Queue), _, Some(new)) => format!(
                        "{lane} refreshes {t} again: the queue's flag went down when the first refresh ended, so it cannot tell {t} was already replaced by {new}."
                    ),
                    (_, _, Some(new)) => format!(
                        "{lane} refreshes {t}, which was already replaced by {new}: the server will see a reuse."
                    ),
                    (Some(Strategy::SingleFlight | Strategy::Proactive), true, None) => {
                        format!("{lane} starts the one shared refresh of {t}.")
                    }
                    (Some(Strategy::Proactive), false, None) => format!(
                        "{lane} refreshes {t} for the 401s, while {} already refreshing it: two refreshes of one token.",
                        is_are(&others)
                    ),
                    (Some(Strategy::Mutex), _, None) => format!(
                        "{lane} holds the lock, reads the store, still finds {t} and refreshes it."
                    ),
                    _ => format!("{lane} asks the server for a new token, presenting {t}."),
                }
            }
            EventKind::RefreshDone {
                status,
                jti,
                new_jti,
                reason,
                ..
            } => {
                let t = token(jti).to_owned();
                if let Some(lanes) = self.refreshing.get_mut(&t) {
                    lanes.remove(&lane);
                }
                match (new_jti, reason) {
                    (Some(new), _) => {
                        self.replaced.entry(t.clone()).or_insert_with(|| new.clone());
                        format!("The refresh of {t} succeeded: {lane} gets {new}.")
                    }
                    (None, Some(Reason::Reused)) => format!(
                        "The server refused {t} for {lane}: it was already used for a refresh. This is the race: a fresh token exists, but this request cannot have it."
                    ),
                    (None, Some(Reason::WindowOver)) => format!(
                        "The server refused {t} for {lane}: its refresh window is over; only a new login helps."
                    ),
                    (None, Some(Reason::Revoked)) => format!(
                        "The server refused {t} for {lane}: its whole family was revoked."
                    ),
                    (None, Some(Reason::Transport)) => format!(
                        "The answer to {lane}'s refresh of {t} was lost on the way: the server may well have rotated {t} already, but the tab never got the new token and still holds {t}."
                    ),
                    (None, reason) => format!(
                        "The refresh of {t} failed for {lane} ({status} {}).",
                        reason.map_or("no reason", Reason::as_str)
                    ),
                }
            }
            EventKind::RetrySent { jti, .. } => {
                format!("{lane} tries again with {}.", token(jti))
            }
            EventKind::TokenStored { jti, tab: None, .. } => {
                format!("The tab stores {jti}: every request from now on carries it.")
            }
            EventKind::TokenStored {
                jti, tab: Some(tab), ..
            } => format!(
                "Tab {tab} stores {jti} in the store all tabs share: every tab's next request carries it."
            ),
            EventKind::LoggedOut { jti, reason, tab } => {
                let although = if self.fresh.is_empty() {
                    ""
                } else {
                    ", although the server had just issued a fresh token"
                };
                match tab {
                    None => format!(
                        "The tab drops its token because the refresh of {jti} was refused ({reason}): the user is logged out{although}."
                    ),
                    Some(tab) => format!(
                        "Tab {tab} clears the shared store because its refresh of {jti} was refused ({reason}): it logs every tab out{although}."
                    ),
                }
            }
            EventKind::RequestDone { ok: true, status } => {
                format!("{lane} is done: {status}.")
            }
            EventKind::RequestDone { ok: false, status } => {
                format!("{lane} failed with {status}: the user sees an error.")
            }
            EventKind::Issued {
                attempt,
                jti,
                sub,
                iat,
                exp,
                refresh_until,
                ..
            } => match attempt.and_then(|a| self.refresh_attempts.get(&a)) {
                Some((by, old)) => {
                    self.fresh.insert(jti.clone());
                    format!(
                        "The server signs {jti} for {by}, to replace {}.",
                        token(old)
                    )
                }
                None => format!(
                    "The server signs {jti} for {sub} at login: valid {} s, refreshable {} s more.",
                    seconds(exp.as_ms().saturating_sub(iat.as_ms())),
                    seconds(refresh_until.as_ms().saturating_sub(exp.as_ms()))
                ),
            },
            EventKind::Accepted {
                route: Route::Refresh,
                jti,
                attempt,
            } => format!(
                "The server accepts the refresh of {}{}.",
                token(jti),
                whose(attempt)
            ),
            EventKind::Accepted { jti, attempt, .. } => format!(
                "The server lets the request{} through with {}.",
                whose(attempt),
                token(jti)
            ),
            EventKind::Rejected {
                route: Route::Refresh,
                jti,
                reason,
                attempt,
            } => format!(
                "The server refuses the refresh of {}{}: {}.",
                token(jti),
                whose(attempt),
                reason_words(*reason)
            ),
            EventKind::Rejected {
                jti: None,
                reason,
                attempt,
                ..
            } => format!(
                "The server refuses the request{}: {}.",
                whose(attempt),
                reason_words(*reason)
            ),
            EventKind::Rejected {
                jti: Some(jti),
                reason,
                attempt,
                ..
            } => format!(
                "The server refuses {jti}{}: {}.",
                whose(attempt),
                reason_words(*reason)
            ),
            EventKind::Rotated { jti, new_jti, .. } => {
                format!("{jti} is spent: the server rotated it to {new_jti}.")
            }
            EventKind::Revoked {
                jti,
                cause: RevokeCause::Rotation,
                ..
            } => format!("{jti} is revoked: any later use of it fails."),
            EventKind::Revoked {
                jti,
                cause: RevokeCause::Family,
                ..
            } => {
                let winner = if self.fresh.contains(jti) {
                    " — a fresh token, the winner's"
                } else {
                    ""
                };
                format!("Reuse detected: the server revokes {jti}{winner}, with every token of this login.")
            }
            EventKind::ClockAdvanced { by_ms, .. } => format!(
                "The lab clock jumps {:.1} s forward: the user comes back later.",
                *by_ms as f64 / 1000.0
            ),
            EventKind::Woke { tabs, lanes } => {
                let tabs: Vec<String> = tabs.iter().map(ToString::to_string).collect();
                let lanes: Vec<String> = lanes.iter().map(ToString::to_string).collect();
                let tabs = match tabs.as_slice() {
                    [one] => format!("tab {one} wakes"),
                    many => format!("tabs {} wake at once", many.join(", ")),
                };
                match lanes.is_empty() {
                    true => format!("The laptop wakes: {tabs}, with nothing to send."),
                    false => format!(
                        "The laptop wakes: {tabs}, and {} leave together with whatever token is stored.",
                        lanes.join(", ")
                    ),
                }
            }
            EventKind::TabClosed { tab, abandoned } => match abandoned.len() {
                0 => format!("Tab {tab} is closed: it held nothing, nothing is lost."),
                _ => {
                    let lanes: Vec<String> = abandoned.iter().map(ToString::to_string).collect();
                    format!(
                        "Tab {tab} is closed: {} never return, and every lock it held is released.",
                        lanes.join(", ")
                    )
                }
            },
            EventKind::TabFrozen { tab, stuck } => format!(
                "Tab {tab} is frozen: {} of its requests stand still, and any lock it holds stays held.",
                stuck.len()
            ),
            EventKind::Hang { waiting, on } => {
                let lanes: Vec<String> = waiting.iter().map(ToString::to_string).collect();
                format!(
                    "Hang: {} wait for {on}, and nothing left in flight can ever give it to them.",
                    lanes.join(", ")
                )
            }
        }
    }
}

/// The sentence of every event, in order.
pub fn all(settings: &RunSettings, events: &[Event]) -> Vec<String> {
    let mut narrator = Narrator::new(settings);
    events.iter().map(|event| narrator.say(event)).collect()
}

/// `5000` → "5", `1500` → "1.5": lifetimes as a person says them.
fn seconds(ms: u64) -> String {
    let text = format!("{:.3}", ms as f64 / 1000.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn token(jti: &Option<String>) -> &str {
    jti.as_deref().unwrap_or("no token")
}

fn is_are(lanes: &[String]) -> String {
    match lanes {
        [one] => format!("{one} is"),
        many => format!("{} are", many.join(" and ")),
    }
}

fn reason_words(reason: Reason) -> &'static str {
    match reason {
        Reason::Missing => "no token was sent",
        Reason::Malformed => "it is not a well-formed token",
        Reason::BadSignature => "its signature does not match",
        Reason::Expired => "it has expired",
        Reason::Revoked => "it was revoked",
        Reason::Reused => "it was already used for a refresh (reuse)",
        Reason::WindowOver => "its refresh window is over",
        Reason::Transport => "no answer",
        Reason::WrongKind => "it is the other kind of token (refresh for access, or the reverse)",
    }
}
