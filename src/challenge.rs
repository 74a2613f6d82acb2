//! Challenges: goals a learner reaches by playing the network (hand mode),
//! checked from the run's report — its settings, events and verdict — never
//! from clicks. One of them cannot be reached, and says why.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::protocol::LaneKind;
use crate::protocol::RevokeCause;
use crate::settings::{Case, CrossTab, NetworkDriver, Policy, RunSettings, Sleep, Strategy};
use crate::timeline::{Event, EventKind};
use crate::verdict::Verdict;

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
    WakeStampede,
    SkewLoop,
    HangClosedTab,
}

impl ChallengeId {
    pub const ALL: [ChallengeId; 8] = [
        ChallengeId::LogoutTwoRequests,
        ChallengeId::QueueRefreshesTwice,
        ChallengeId::TwoLiveTokens,
        ChallengeId::FamilyKillsWinner,
        ChallengeId::BreakSingleFlight,
        ChallengeId::WakeStampede,
        ChallengeId::SkewLoop,
        ChallengeId::HangClosedTab,
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

/// Three tabs with a valid token; the laptop sleeps 8 s once the page has
/// loaded (the token expires after 5 s, its refresh window is 10 s).
fn wake_up() -> RunSettings {
    RunSettings {
        case: Case::Valid,
        tabs: 3,
        secret: 1,
        sleep: Some(Sleep {
            at_ms: Some(1_000),
            after: None,
            seconds: 8,
        }),
        ..hand(Strategy::SingleFlight, Policy::Strict)
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
        ChallengeId::WakeStampede => Challenge {
            id,
            title: "Wake three tabs",
            goal: "The laptop sleeps past exp; when it wakes, get the user logged out.",
            hint: "Each tab's single-flight only knows its own tab: let every tab's 401 come back before any refresh does.",
            possible: true,
            why: None,
            settings: wake_up(),
        },
        ChallengeId::SkewLoop => Challenge {
            id,
            title: "A clock that runs ahead",
            goal: "Find the clock skew that makes the proactive timer refresh in a loop.",
            hint: "The timer fires 1 s before exp by the tab's own clock; the token lives 5 s.",
            possible: true,
            why: None,
            settings: RunSettings {
                case: Case::Valid,
                public: 0,
                secret: 1,
                ..hand(Strategy::Proactive, Policy::Strict)
            },
        },
        ChallengeId::HangClosedTab => Challenge {
            id,
            title: "Hang the page",
            goal: "Close a tab so that the other one waits forever.",
            hint: "This lock lives in localStorage: a closed tab never releases it. Close tab 1 while it holds it.",
            possible: true,
            why: None,
            settings: RunSettings {
                tabs: 2,
                secret: 1,
                cross_tab: CrossTab::StorageLock,
                ..hand(Strategy::Naive, Policy::Strict)
            },
        },
    }
}

/// Does a run reach challenge `id`? Played on its own settings (the
/// strategy and policy; held, so the order was the learner's). A run is
/// read as its settings, events and verdict, so challenges sit below the
/// scenario that runs them.
pub fn reached(
    id: ChallengeId,
    settings: &RunSettings,
    events: &[Event],
    verdict: &Verdict,
) -> bool {
    let preset = describe(id).settings;
    let s = settings;
    let played = s.strategy == preset.strategy
        && s.policy == preset.policy
        && s.case == preset.case
        && s.network != NetworkDriver::Timer
        && !s.late;
    if !played {
        return false;
    }
    let v = verdict;
    match id {
        ChallengeId::LogoutTwoRequests => s.secret == 2 && v.logouts > 0,
        ChallengeId::QueueRefreshesTwice => v.refresh_calls >= 2,
        ChallengeId::TwoLiveTokens => v.refresh_accepted_by_server >= 2,
        ChallengeId::FamilyKillsWinner => {
            let fresh: Vec<&String> = events
                .iter()
                .filter_map(|e| match &e.kind {
                    EventKind::RefreshDone {
                        new_jti: Some(new), ..
                    } => Some(new),
                    _ => None,
                })
                .collect();
            events.iter().any(|e| {
                matches!(&e.kind, EventKind::Revoked { jti, cause: RevokeCause::Family, .. } if fresh.contains(&jti))
            })
        }
        ChallengeId::BreakSingleFlight => v.refresh_calls >= 2 || v.failed > 0,
        ChallengeId::WakeStampede => {
            s.tabs >= 3 && s.cross_tab == CrossTab::None && s.sleep.is_some() && v.logouts > 0
        }
        ChallengeId::SkewLoop => {
            // A timer lane that refreshed three times in a row.
            let mut by_timer = std::collections::BTreeMap::new();
            for e in events {
                if matches!(e.kind, EventKind::RefreshSent { .. })
                    && e.lane.kind() == Some(LaneKind::Timer)
                {
                    *by_timer.entry(e.lane).or_insert(0u32) += 1;
                }
            }
            by_timer.values().any(|n| *n >= 3)
        }
        ChallengeId::HangClosedTab => {
            s.cross_tab == CrossTab::StorageLock && !s.close.is_empty() && v.hang
        }
    }
}

/// The challenges a run solved.
pub fn solved_by(settings: &RunSettings, events: &[Event], verdict: &Verdict) -> Vec<ChallengeId> {
    ChallengeId::ALL
        .into_iter()
        .filter(|id| reached(*id, settings, events, verdict))
        .collect()
}
