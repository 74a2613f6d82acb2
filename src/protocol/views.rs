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

/// A strategy's own memory, as the rows the hidden-state panel shows: each
/// strategy reports what it keeps, so a new strategy needs no new type here
/// and no new case in a view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StrategyView {
    /// The strategy's name (`queue`), or `in-page` for a module running in
    /// the lab's page (its memory is the page's to show).
    pub strategy: String,
    /// What it keeps, one row each (none for a module in the page).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<StateRow>,
}

impl StrategyView {
    /// The view of a module running in the lab's page.
    pub fn in_page() -> StrategyView {
        StrategyView {
            strategy: "in-page".into(),
            rows: Vec::new(),
        }
    }
}

/// One thing a strategy keeps: its name in the code, its value now and a
/// note on what that value means for the next 401.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StateRow {
    /// As the code names it, e.g. `isRefreshing`.
    pub name: String,
    pub value: String,
    pub note: String,
    /// The page marks the panel with it (`data-{name}="{value}"`), for
    /// tests and tools; absent for rows that are only read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<Hook>,
}

/// A hook attribute of the hidden-state panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Hook {
    /// Without the `data-` prefix, e.g. `is-refreshing`.
    pub name: String,
    pub value: String,
}

impl StateRow {
    pub fn new(name: &str, value: impl Into<String>, note: impl Into<String>) -> StateRow {
        StateRow {
            name: name.into(),
            value: value.into(),
            note: note.into(),
            hook: None,
        }
    }

    /// The row, marking the panel with `data-{name}="{value}"`.
    pub fn hook(mut self, name: &str, value: impl Into<String>) -> StateRow {
        self.hook = Some(Hook {
            name: name.into(),
            value: value.into(),
        });
        self
    }
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
