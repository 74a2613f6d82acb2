//! What a viewer sees of a held run between two deliveries: the legs in
//! flight, the tab's token and each strategy's own memory.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::vocab::{Direction, Exchange, Lane, LegId, LostAnswer, Reason, Route};

/// One leg waiting in the network: a card in the UI's tray.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LegView {
    pub id: LegId,
    pub lane: Lane,
    pub exchange: Exchange,
    pub direction: Direction,
    pub route: Route,
    /// The exchange's attempt id (as in the events), when the client sent one.
    pub attempt: Option<u64>,
    /// The token the request carries (requests and commits).
    pub jti: Option<String>,
    /// The answer's status and reason (legs back to the client).
    pub status: Option<u16>,
    pub reason: Option<Reason>,
    /// Lab ms, since the run's burst started, when a timer would deliver it.
    pub due_ms: u64,
}

/// What the simulated tab holds right now: the hidden state a learner
/// needs while stepping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TabView {
    /// The stored token's jti, `None` when logged out or a guest (one
    /// store for all tabs).
    pub token: Option<String>,
    /// Tab 1's strategy memory.
    pub strategy: StrategyView,
    /// The other tabs' strategy memory, tab 2 first (absent with one tab).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_tabs: Vec<StrategyView>,
}

/// A strategy's own memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "strategy", rename_all = "kebab-case")]
pub enum StrategyView {
    /// Keeps nothing: every 401 refreshes on its own.
    Naive,
    /// The article's flag and the number of requests waiting for the refresh.
    Queue { is_refreshing: bool, waiting: u32 },
    /// The token whose shared refresh is running or done, and who joined it.
    SingleFlight {
        flight: Option<String>,
        running: bool,
        joined: u32,
    },
    /// The token the timer refreshed once it fired, and the 401s' own
    /// shared refresh (as single-flight's).
    Proactive {
        timer_fired: Option<String>,
        flight: Option<String>,
        running: bool,
        joined: u32,
    },
    /// Whether the lock is held, and how many requests wait for it.
    Mutex { locked: bool, waiting: u32 },
    /// A module running in the lab's page: its memory is the page's to show.
    InPage,
}

/// The network of one run, as a viewer sees it between two deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NetworkView {
    pub driver: crate::settings::NetworkDriver,
    /// True when nothing moves until the user acts (step, hand, or paused).
    pub paused: bool,
    /// Legs in flight, in the order a timer would deliver them.
    pub legs: Vec<LegView>,
    /// Legs delivered so far, in order: replaying them gives this run again.
    pub delivered: Vec<LegId>,
    /// Refresh answers lost so far (replay them with `drop`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<LostAnswer>,
    pub tab: TabView,
}
