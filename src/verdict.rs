//! The verdict: counts and one sentence, computed from a run's events only,
//! so a saved or replayed timeline gets the same verdict as the live run.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use schemars::JsonSchema;

use crate::protocol::{LaneKind, Reason, RevokeCause, Route, TabNo};
use crate::timeline::{Event, EventKind};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Verdict {
    /// Logical requests (secret, public and late), and how they ended.
    pub requests: u32,
    pub ok: u32,
    pub failed: u32,
    pub secret_ok: u32,
    pub secret_failed: u32,
    pub public_ok: u32,
    pub public_failed: u32,
    /// Refresh calls the client made, and how the client saw them end.
    pub refresh_calls: u32,
    pub refresh_ok: u32,
    pub refresh_rejected: u32,
    /// Refresh answers the client never got (lost by the network).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refresh_lost: u32,
    /// Refreshes the server let through (can exceed 1 under weak policies).
    pub refresh_accepted_by_server: u32,
    /// Server refusals of refreshes, by reason.
    pub rejected_reasons: BTreeMap<Reason, u32>,
    pub logouts: u32,
    pub tokens_issued: u32,
    /// Tokens killed by reuse detection (the `family` and `grace` policies).
    pub family_revoked: u32,
    /// More refresh calls than distinct tokens presented: the race happened.
    pub race: bool,
    /// The token the tab holds at the end, if any.
    pub final_jti: Option<String>,
    /// With several tabs: the tab whose refused refresh first cleared the
    /// store they share, logging every tab out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logged_out_by: Option<TabNo>,
    /// The run could never settle: requests waited on something nobody
    /// would ever give them (a lock a frozen tab holds, say).
    #[serde(default, skip_serializing_if = "is_false")]
    pub hang: bool,
    /// What hung: the waiting lanes and what they wait on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hang_on: Option<String>,
    /// Requests of closed tabs that never returned.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub abandoned: u32,
    /// Requests of frozen tabs that never returned.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub frozen: u32,
    pub sentence: String,
}

impl Verdict {
    pub fn from_events(events: &[Event]) -> Verdict {
        let mut v = Verdict::default();
        let mut presented = BTreeSet::new();
        for event in events {
            match &event.kind {
                EventKind::RequestDone { ok, .. } => {
                    v.requests += 1;
                    let public = event.lane.kind() == Some(LaneKind::Public);
                    match (ok, public) {
                        (true, true) => v.public_ok += 1,
                        (true, false) => v.secret_ok += 1,
                        (false, true) => v.public_failed += 1,
                        (false, false) => v.secret_failed += 1,
                    }
                }
                EventKind::RefreshSent { jti, .. } => {
                    v.refresh_calls += 1;
                    presented.insert(jti.clone());
                }
                EventKind::RefreshDone { status, reason, .. } => {
                    if *status == 200 {
                        v.refresh_ok += 1;
                    } else if *reason == Some(Reason::Transport) {
                        v.refresh_lost += 1;
                    } else {
                        v.refresh_rejected += 1;
                    }
                }
                EventKind::Accepted {
                    route: Route::Refresh,
                    ..
                } => {
                    v.refresh_accepted_by_server += 1;
                }
                EventKind::Rejected {
                    route: Route::Refresh,
                    reason,
                    ..
                } => {
                    *v.rejected_reasons.entry(*reason).or_default() += 1;
                }
                EventKind::Issued { .. } => v.tokens_issued += 1,
                EventKind::Revoked {
                    cause: RevokeCause::Family,
                    ..
                } => v.family_revoked += 1,
                EventKind::TokenStored { jti, .. } => v.final_jti = Some(jti.clone()),
                EventKind::Hang { waiting, on } => {
                    v.hang = true;
                    let lanes: Vec<String> = waiting.iter().map(ToString::to_string).collect();
                    v.hang_on = Some(format!("{} wait for {on}", lanes.join(", ")));
                }
                EventKind::TabClosed { abandoned, .. } => v.abandoned += abandoned.len() as u32,
                EventKind::TabFrozen { stuck, .. } => v.frozen += stuck.len() as u32,
                EventKind::LoggedOut { tab, .. } => {
                    v.logouts += 1;
                    v.logged_out_by = v.logged_out_by.or(*tab);
                    v.final_jti = None;
                }
                _ => {}
            }
        }
        v.ok = v.secret_ok + v.public_ok;
        v.failed = v.secret_failed + v.public_failed;
        v.race = v.refresh_calls as usize > presented.len();
        v.sentence = v.sentence(presented.len());
        let lifecycle = match (v.abandoned, v.frozen) {
            (0, 0) => String::new(),
            (n, 0) => format!(
                " {} of closed tabs abandoned.",
                plural(n, "request", "requests")
            ),
            (0, n) => format!(
                " {} of frozen tabs never returned.",
                plural(n, "request", "requests")
            ),
            (a, f) => format!(
                " {} of closed tabs abandoned, {} of frozen tabs never returned.",
                plural(a, "request", "requests"),
                plural(f, "request", "requests")
            ),
        };
        v.sentence.push_str(&lifecycle);
        if let Some(on) = &v.hang_on {
            v.sentence = format!("Hang: {on}. {}", v.sentence);
        }
        v
    }

    fn sentence(&self, tokens_presented: usize) -> String {
        let secret = self.secret_ok + self.secret_failed;
        let failures = match self.secret_failed {
            0 if self.requests == 0 => "no request returned".to_owned(),
            0 if self.failed == 0 => format!("all {} requests succeeded", self.requests),
            0 => format!("{} of {} requests failed", self.failed, self.requests),
            n => format!("{n} of {secret} secret requests failed"),
        };
        let family = match self.family_revoked {
            0 => String::new(),
            n => format!(
                "; reuse revoked the whole family ({})",
                plural(n, "token", "tokens")
            ),
        };
        let lost = match self.refresh_lost {
            0 => String::new(),
            n => format!(
                "; {} lost on the way",
                plural(n, "refresh answer", "refresh answers")
            ),
        };
        let logout = match (self.logouts, self.logged_out_by) {
            (0, _) => String::new(),
            (_, Some(tab)) => format!("; tab {tab} logged the others out"),
            (_, None) => "; logged out".into(),
        };
        // "reused", or "1 reused, 2 revoked" when the reasons differ.
        let reasons = match self.rejected_reasons.len() {
            1 => self
                .rejected_reasons
                .keys()
                .next()
                .map(|reason| reason.to_string())
                .unwrap_or_default(),
            _ => self
                .rejected_reasons
                .iter()
                .map(|(reason, n)| format!("{n} {reason}"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        if self.refresh_calls == 0 {
            return if self.secret_failed > 0 {
                format!("No token to refresh: {failures} with 401{logout}.")
            } else {
                format!("No refresh needed: {failures}.")
            };
        }
        let calls = plural(self.refresh_calls, "refresh", "refreshes");
        let tokens = plural(tokens_presented as u32, "expired token", "expired tokens");
        let answered = self.refresh_ok + self.refresh_rejected + self.refresh_lost;
        if self.refresh_accepted_by_server == 0 && answered == 0 {
            // Every refresh left with a tab that closed or froze, or hangs.
            return format!("{calls} never answered; {failures}{logout}.");
        }
        if self.refresh_accepted_by_server == 0 {
            let rejected = match self.refresh_calls {
                1 => format!("{calls}, rejected ({reasons})"),
                _ => format!("{calls} for {tokens}, all rejected ({reasons})"),
            };
            format!("{rejected}{family}{lost}; {failures}{logout}.")
        } else if self.race {
            let outcome = match self.refresh_rejected {
                0 => format!("{} accepted", self.refresh_accepted_by_server),
                _ => format!(
                    "{} accepted, {} rejected ({reasons})",
                    self.refresh_accepted_by_server, self.refresh_rejected
                ),
            };
            format!("Race: {calls} for {tokens}; {outcome}{family}{lost}; {failures}{logout}.")
        } else if self.refresh_rejected > 0 {
            format!(
                "{calls}, {} rejected ({reasons}){family}{lost}; {failures}{logout}.",
                self.refresh_rejected
            )
        } else {
            match lost.is_empty() {
                true => format!("{calls}, {failures}{logout}."),
                false => format!("{calls}{lost}; {failures}{logout}."),
            }
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn plural(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
