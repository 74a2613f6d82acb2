//! Challenges: goals a learner reaches by playing the network (hand mode),
//! checked from the run's report — its settings, events and verdict — never
//! from clicks. One of them cannot be reached, and says why.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::protocol::RevokeCause;
use crate::scenario::RunReport;
use crate::settings::{Case, NetworkDriver, Policy, RunSettings, Strategy};
use crate::timeline::EventKind;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ChallengeId {
    LogoutTwoRequests,
    QueueRefreshesTwice,
    TwoLiveTokens,
    FamilyKillsWinner,
    BreakSingleFlight,
}

impl ChallengeId {
    pub const ALL: [ChallengeId; 5] = [
        ChallengeId::LogoutTwoRequests,
        ChallengeId::QueueRefreshesTwice,
        ChallengeId::TwoLiveTokens,
        ChallengeId::FamilyKillsWinner,
        ChallengeId::BreakSingleFlight,
    ];
}

/// A challenge as the UI's panel shows it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Challenge {
    pub id: ChallengeId,
    pub title: &'static str,
    /// One line: what to make happen.
    pub goal: &'static str,
    /// Shown on request.
    pub hint: &'static str,
    /// False for the one that cannot be done.
    pub possible: bool,
    /// Why it cannot be done (shown after a few tries or on "give up").
    pub why: Option<&'static str>,
    /// The run the challenge is played on.
    pub settings: RunSettings,
}

fn hand(strategy: Strategy, policy: Policy) -> RunSettings {
    RunSettings {
        case: Case::ExpiredRefreshable,
        strategy,
        policy,
        secret: 2,
        public: 0,
        network: NetworkDriver::Hand,
        ..RunSettings::default()
    }
}

/// Every challenge, in the order the panel lists them.
pub fn all() -> Vec<Challenge> {
    ChallengeId::ALL.into_iter().map(describe).collect()
}

pub fn describe(id: ChallengeId) -> Challenge {
    match id {
        ChallengeId::LogoutTwoRequests => Challenge {
            id,
            title: "Log the user out",
            goal: "With two requests and the naive client, get the user logged out.",
            hint: "Let both requests get their 401 before either refresh reaches the server.",
            possible: true,
            why: None,
            settings: hand(Strategy::Naive, Policy::Strict),
        },
        ChallengeId::QueueRefreshesTwice => Challenge {
            id,
            title: "Make the queue refresh twice",
            goal: "Make the article's queue client send two refresh calls.",
            hint: "Finish one request's whole refresh before the other request's 401 comes back.",
            possible: true,
            why: None,
            settings: hand(Strategy::Queue, Policy::Strict),
        },
        ChallengeId::TwoLiveTokens => Challenge {
            id,
            title: "Two live tokens out of one",
            goal: "Under the non-atomic server, get two refreshes of one token accepted.",
            hint: "A non-atomic refresh checks first and revokes later (the = leg): slip the second refresh in between.",
            possible: true,
            why: None,
            settings: hand(Strategy::Naive, Policy::NonAtomic),
        },
        ChallengeId::FamilyKillsWinner => Challenge {
            id,
            title: "Reuse kills the winner",
            goal: "Under family revocation, make the losing refresh revoke the winner's fresh token.",
            hint: "Let one refresh win, then deliver the other refresh of the same token.",
            possible: true,
            why: None,
            settings: hand(Strategy::Naive, Policy::Family),
        },
        ChallengeId::BreakSingleFlight => Challenge {
            id,
            title: "Break single-flight",
            goal: "Make the single-flight client refresh twice, or lose a request.",
            hint: "Try every order you can think of.",
            possible: false,
            why: Some("It cannot be done. Every 401 for a token either joins the one refresh of that token still in flight, or finds the tab already holding the newer token and retries with it. No order of deliveries gives a second refresh of the same token, so the server never sees a reuse."),
            settings: hand(Strategy::SingleFlight, Policy::Strict),
        },
    }
}

/// Does `report` reach challenge `id`? Played on its own settings (the
/// strategy and policy; held, so the order was the learner's).
pub fn reached(id: ChallengeId, report: &RunReport) -> bool {
    let preset = describe(id).settings;
    let s = &report.settings;
    let played = s.strategy == preset.strategy
        && s.policy == preset.policy
        && s.network != NetworkDriver::Timer
        && !s.late;
    if !played {
        return false;
    }
    let v = &report.verdict;
    match id {
        ChallengeId::LogoutTwoRequests => s.secret == 2 && v.logouts > 0,
        ChallengeId::QueueRefreshesTwice => v.refresh_calls >= 2,
        ChallengeId::TwoLiveTokens => v.refresh_accepted_by_server >= 2,
        ChallengeId::FamilyKillsWinner => {
            let fresh: Vec<&String> = report
                .events
                .iter()
                .filter_map(|e| match &e.kind {
                    EventKind::RefreshDone {
                        new_jti: Some(new), ..
                    } => Some(new),
                    _ => None,
                })
                .collect();
            report.events.iter().any(|e| {
                matches!(&e.kind, EventKind::Revoked { jti, cause: RevokeCause::Family, .. } if fresh.contains(&jti))
            })
        }
        ChallengeId::BreakSingleFlight => v.refresh_calls >= 2 || v.failed > 0,
    }
}

/// The challenges `report` solved.
pub fn solved_by(report: &RunReport) -> Vec<ChallengeId> {
    ChallengeId::ALL
        .into_iter()
        .filter(|id| reached(*id, report))
        .collect()
}
