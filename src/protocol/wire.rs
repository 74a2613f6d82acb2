//! The messages of a streamed run (`POST /lab/runs`' NDJSON lines) and of
//! the page's reports (`POST /lab/runs/{id}/page`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::views::NetworkView;
use super::vocab::{Lane, LegId, LostAnswer, Reason, TabNo};
use crate::settings::RunSettings;
use crate::timeline::Event;
use crate::verdict::Verdict;

/// What the page needs to be a browser-runtime run's client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PageStart {
    /// The run's auth API, e.g. `/lab/runs/7/api` (`{api}/secret`, …).
    pub api: String,
    /// Where the page reports its events and its progress.
    pub report: String,
    /// The token the tab holds at the start (the setup's login), if any.
    pub token: Option<String>,
    /// The setup used the attempts below this one: the page numbers its
    /// exchanges from here, so ids never collide.
    pub first_attempt: u64,
    /// The lab clock when the burst starts (unix ms; the case's jump in
    /// time is made): a library that checks `exp` against its own clock
    /// (supabase-js) is told how far the lab's runs ahead of the page's.
    #[serde(default)]
    pub lab_now_ms: u64,
}

/// `POST /lab/runs/{id}/page`: what the page's tab did since its last
/// report, and how far it has come. Sent each time the page has caught up
/// (nothing left to run but waiting) and before each of its exchanges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageReport {
    /// Counts up with every report; an older one arriving late is ignored.
    pub seq: u64,
    /// Exchanges the page has started so far.
    pub started: u64,
    /// Answers the page has taken in so far.
    pub received: u64,
    /// Events only the page knows, in its order.
    #[serde(default)]
    pub events: Vec<PageEvent>,
    /// Set on the last report: every lane's request returned, or the
    /// module failed.
    #[serde(default)]
    pub end: Option<PageEnd>,
    /// With several tabs: each tab's own `started` and `received` (the
    /// totals above are their sums). A tab missing here has done nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tabs: Vec<TabProgress>,
    /// With several tabs: messages the page relays between its tabs
    /// (storage events, lock grants, broadcasts) that a tab has not taken
    /// in yet. A held run waits for them as for an answer.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub relaying: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One tab's progress in a page report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TabProgress {
    pub tab: TabNo,
    pub started: u64,
    pub received: u64,
}

/// What only the page knows of its tab; its exchanges are recorded at the
/// tab's edge of the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PageEvent {
    /// The strategy put the lane's request on hold behind a refresh.
    Queued { lane: Lane, jti: Option<String> },
    /// The tab stored a token (in the storage every tab shares).
    TokenStored {
        jti: String,
        /// Which tab, when the run has several.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tab: Option<TabNo>,
    },
    /// The tab dropped the shared token because a refresh was refused.
    LoggedOut {
        jti: String,
        reason: Reason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tab: Option<TabNo>,
    },
    /// The lane's request returned to its caller.
    RequestDone { lane: Lane, ok: bool, status: u16 },
}

/// Longest jti a page may report: the lab's own are 8 characters.
const MAX_REPORTED_JTI: usize = 64;

impl PageEvent {
    /// Refuses what the page cannot have seen: a request lane's event on
    /// another lane, or a jti no server of ours could have issued.
    pub fn check(&self) -> Result<(), String> {
        let lane = match self {
            PageEvent::Queued { lane, .. } | PageEvent::RequestDone { lane, .. } => Some(*lane),
            PageEvent::TokenStored { .. } | PageEvent::LoggedOut { .. } => None,
        };
        if lane.is_some_and(|lane| lane.kind().is_none()) {
            return Err(format!(
                "{self:?}: this event belongs to a request lane (secret#1, public#2, late#1)"
            ));
        }
        let jti = match self {
            PageEvent::Queued { jti, .. } => jti.as_deref(),
            PageEvent::TokenStored { jti, .. } | PageEvent::LoggedOut { jti, .. } => {
                Some(jti.as_str())
            }
            PageEvent::RequestDone { .. } => None,
        };
        if jti.is_some_and(|jti| jti.is_empty() || jti.len() > MAX_REPORTED_JTI) {
            return Err(format!(
                "a jti must be 1 to {MAX_REPORTED_JTI} characters long"
            ));
        }
        Ok(())
    }
}

/// How the page ended its run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum PageEnd {
    /// Every lane's request returned.
    Done,
    /// The module could not run on: a syntax error, an exception, an
    /// endless loop, a request that never returned. The message names it.
    Failed { message: String },
}

/// One line of `POST /lab/runs`' NDJSON stream (docs/lab-api.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamMessage {
    /// First line: the validated settings, the run's id (for the network
    /// controls) and its lab time at start.
    Start {
        /// Boxed: the settings are much larger than every other message.
        settings: Box<RunSettings>,
        run: u64,
        lab_now_ms: u64,
        /// For a browser-runtime run: where the page's client talks to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page: Option<PageStart>,
    },
    /// The network after it settled: sent when a run pauses and after each
    /// step or delivery, never while a timer run flows.
    Network { network: NetworkView },
    /// One event, in `seq` order, as it happens, with its narration.
    Event { event: Event, caption: String },
    /// Last line of a run that finished.
    Done {
        verdict: Verdict,
        lab_now_ms: u64,
        /// A held run's deliveries, in order (replay them with `deliver`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        delivered: Vec<LegId>,
        /// Refresh answers the network lost (replay them with `drop`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        dropped: Vec<LostAnswer>,
        /// The challenges this run reached.
        #[serde(default)]
        solved: Vec<crate::challenge::ChallengeId>,
    },
    /// Last line of a run that could not finish.
    Error { message: String },
    /// Last line of a held run that nobody touched for its idle time; its
    /// resources are freed.
    Abandoned { message: String },
}

impl StreamMessage {
    /// The message as one NDJSON line (with its newline).
    pub fn to_line(&self) -> String {
        // Serialising these plain types cannot fail (no maps with non-string
        // keys, no custom serialisers that error).
        let mut text = serde_json::to_string(self).unwrap_or_else(|err| {
            format!(r#"{{"type":"error","message":"cannot encode a message: {err}"}}"#)
        });
        text.push('\n');
        text
    }
}
