//! The words the engine and its viewers share: lanes, routes, refusal
//! reasons, revocation causes, and the messages of a streamed run.
//!
//! Each is a type, not text: the server, the clients, the verdict and the
//! views match on these enums, and serde gives each one fixed spelling on
//! the wire. `docs/schema/` holds the JSON Schema generated from these types
//! (`refresh-race schema`); a test fails when it is stale. docs/design.md
//! explains the event model these words describe.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::settings::RunSettings;
use crate::timeline::Event;
use crate::verdict::Verdict;

/// Why a request or a refresh was refused. The server puts it in its JSON
/// error body (`"reason"`), the timeline records it, the verdict counts it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No bearer token was sent.
    Missing,
    /// Not a JWT, or not `Bearer <token>`.
    Malformed,
    /// Signed with another key or another algorithm.
    BadSignature,
    /// Past `exp` on the lab clock (access only; a refresh looks at the window).
    Expired,
    /// Rotated away or killed with its family.
    Revoked,
    /// A refresh presented a token that was already used for a refresh.
    Reused,
    /// A refresh came after the token's refresh window ended.
    WindowOver,
    /// The client never got an answer (connection refused or reset).
    Transport,
    /// An OAuth refresh token where an access token belongs, or the reverse.
    WrongKind,
}

impl Reason {
    /// The snake_case spelling used on the wire and in sentences.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::Malformed => "malformed",
            Reason::BadSignature => "bad_signature",
            Reason::Expired => "expired",
            Reason::Revoked => "revoked",
            Reason::Reused => "reused",
            Reason::WindowOver => "window_over",
            Reason::Transport => "transport",
            Reason::WrongKind => "wrong_kind",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Which kind of token an event is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A JWT access token (`t1`), also the refresh credential in article mode.
    #[default]
    Access,
    /// An opaque OAuth refresh token (`r2`).
    Refresh,
}

impl TokenKind {
    pub fn is_access(&self) -> bool {
        *self == TokenKind::Access
    }
}

/// Why the server revoked a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevokeCause {
    /// A refresh replaced it (it is spent).
    Rotation,
    /// Reuse detection killed every token of its login.
    Family,
}

impl RevokeCause {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeCause::Rotation => "rotation",
            RevokeCause::Family => "family",
        }
    }
}

impl fmt::Display for RevokeCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The auth server's routes. One home for their paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Route {
    #[serde(rename = "/api/public")]
    Public,
    #[serde(rename = "/api/secret")]
    Secret,
    #[serde(rename = "/api/login")]
    Login,
    #[serde(rename = "/api/refresh")]
    Refresh,
}

impl Route {
    pub const ALL: [Route; 4] = [Route::Public, Route::Secret, Route::Login, Route::Refresh];

    /// The route served at `path`, if it is one of the API's.
    pub fn from_path(path: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|route| route.path() == path)
    }

    pub fn path(self) -> &'static str {
        match self {
            Route::Public => "/api/public",
            Route::Secret => "/api/secret",
            Route::Login => "/api/login",
            Route::Refresh => "/api/refresh",
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.path())
    }
}

/// What a request lane fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LaneKind {
    /// `GET /api/secret`: needs a valid token.
    Secret,
    /// `GET /api/public`: needs nothing.
    Public,
    /// A secret request that leaves after the first refresh started.
    Late,
    /// The `proactive` strategy's timer: a refresh due shortly before `exp`,
    /// not a request of the page.
    Timer,
}

impl LaneKind {
    pub const ALL: [LaneKind; 4] = [
        LaneKind::Secret,
        LaneKind::Public,
        LaneKind::Late,
        LaneKind::Timer,
    ];

    fn prefix(self) -> &'static str {
        match self {
            LaneKind::Secret => "secret",
            LaneKind::Public => "public",
            LaneKind::Late => "late",
            LaneKind::Timer => "timer",
        }
    }

    /// The route a lane of this kind fetches.
    pub fn route(self) -> Route {
        match self {
            LaneKind::Public => Route::Public,
            LaneKind::Secret | LaneKind::Late => Route::Secret,
            LaneKind::Timer => Route::Refresh,
        }
    }
}

/// A browser tab of a run, from 1. Tab 1's lanes carry no prefix on the
/// wire (`secret#1`), so runs with one tab read as they always did; the
/// others are `tab2/secret#1`.
pub type TabNo = u8;

/// A row of the timeline. On the wire a string: `server`, `client`,
/// `secret#1`, `public#2`, `late#1`, `timer#1`, `tab2/secret#1`. The order is
/// the timeline's: requests by tab (secret, public, late, timer;
/// `secret#2` before `secret#10`), then the client, then the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Lane {
    /// One logical request: its tab, its kind and its number (from 1).
    Request(TabNo, LaneKind, u32),
    /// The token store (shared by every tab, as `localStorage` is) and the
    /// run's setup steps.
    Client,
    /// The auth server's own decisions.
    Server,
}

impl Lane {
    /// A request lane of the first tab.
    pub fn request(kind: LaneKind, n: u32) -> Lane {
        Lane::Request(1, kind, n)
    }

    pub fn secret(n: u32) -> Lane {
        Lane::request(LaneKind::Secret, n)
    }

    pub fn public(n: u32) -> Lane {
        Lane::request(LaneKind::Public, n)
    }

    pub fn late(n: u32) -> Lane {
        Lane::request(LaneKind::Late, n)
    }

    /// The kind of a request lane; `None` for `server` and `client`.
    pub fn kind(self) -> Option<LaneKind> {
        match self {
            Lane::Request(_, kind, _) => Some(kind),
            Lane::Server | Lane::Client => None,
        }
    }

    /// The tab of a request lane; `None` for `server` and `client`.
    pub fn tab(self) -> Option<TabNo> {
        match self {
            Lane::Request(tab, _, _) => Some(tab),
            Lane::Server | Lane::Client => None,
        }
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that `{:<10}` lines lanes up in the text timeline.
        match self {
            Lane::Server => f.pad("server"),
            Lane::Client => f.pad("client"),
            Lane::Request(1, kind, n) => f.pad(&format!("{}#{n}", kind.prefix())),
            Lane::Request(tab, kind, n) => f.pad(&format!("tab{tab}/{}#{n}", kind.prefix())),
        }
    }
}

/// A lane name that is not one of the lab's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lane '{0}' (expected server, client, secret#N, public#N, late#N or timer#N, with tabK/ in front for tab K = 2..{max})", max = crate::settings::MAX_TABS)]
pub struct UnknownLane(pub String);

/// A positive number written in plain digits: `+1`, ` 1` or `01` would
/// parse as numbers but are not names.
fn plain_number<T: FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.starts_with('0') {
        return None;
    }
    text.parse().ok()
}

impl FromStr for Lane {
    type Err = UnknownLane;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownLane(text.to_owned());
        match text {
            "server" => return Ok(Lane::Server),
            "client" => return Ok(Lane::Client),
            _ => {}
        }
        // Tab 1 has one spelling, without a prefix.
        let (tab, rest) = match text.strip_prefix("tab") {
            Some(tabbed) => {
                let (tab, rest) = tabbed.split_once('/').ok_or_else(unknown)?;
                let tab: TabNo = plain_number(tab).ok_or_else(unknown)?;
                if !(2..=crate::settings::MAX_TABS).contains(&tab) {
                    return Err(unknown());
                }
                (tab, rest)
            }
            None => (1, text),
        };
        let (prefix, n) = rest.split_once('#').ok_or_else(unknown)?;
        let kind = LaneKind::ALL
            .into_iter()
            .find(|kind| kind.prefix() == prefix)
            .ok_or_else(unknown)?;
        let n = plain_number(n).ok_or_else(unknown)?;
        Ok(Lane::Request(tab, kind, n))
    }
}

impl From<Lane> for String {
    fn from(lane: Lane) -> String {
        lane.to_string()
    }
}

impl TryFrom<String> for Lane {
    type Error = UnknownLane;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// The lane pattern, the one definition shared by the schema and its readers.
/// (The tab number's upper bound, `settings::MAX_TABS`, is checked by the parser.)
pub const LANE_PATTERN: &str =
    "^(server|client|(tab[2-9][0-9]*/)?(secret|public|late|timer)#[1-9][0-9]*)$";
/// A request lane alone: what a leg id starts with.
const REQUEST_LANE_PATTERN: &str = "(tab[2-9][0-9]*/)?(secret|public|late|timer)#[1-9][0-9]*";

impl JsonSchema for Lane {
    fn schema_name() -> Cow<'static, str> {
        "Lane".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": LANE_PATTERN,
            "description": "A timeline row: `server`, `client`, or a request lane such as `secret#1`, `public#2`, `late#1`, `timer#1` (the proactive strategy's timer); lanes of tab K > 1 start with `tabK/`, e.g. `tab2/secret#1`."
        })
    }
}

/// Which way a leg crosses the lab's network (docs/design.md, "The network").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// The request travels to the server; the handler runs on delivery.
    ToServer,
    /// The answer travels back; the client sees it on delivery.
    ToClient,
    /// Inside the server: the second half of a non-atomic refresh (the
    /// revoke after the check), a leg of its own so a learner can slip
    /// another refresh between the two.
    Commit,
}

impl Direction {
    /// The one-character mark of a leg id: `secret#1>`, `secret#1<`, `secret#1=`.
    pub fn mark(self) -> char {
        match self {
            Direction::ToServer => '>',
            Direction::ToClient => '<',
            Direction::Commit => '=',
        }
    }

    fn from_mark(mark: char) -> Option<Direction> {
        [Direction::ToServer, Direction::ToClient, Direction::Commit]
            .into_iter()
            .find(|d| d.mark() == mark)
    }
}

/// What an HTTP exchange is for, as the client that sent it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Exchange {
    /// A lane's first attempt.
    Request,
    /// A refresh call.
    Refresh,
    /// A lane's attempt after a refresh (or with a newer token).
    Retry,
    /// The setup's login.
    Login,
}

impl Exchange {
    pub fn as_str(self) -> &'static str {
        match self {
            Exchange::Request => "request",
            Exchange::Refresh => "refresh",
            Exchange::Retry => "retry",
            Exchange::Login => "login",
        }
    }
}

impl FromStr for Exchange {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        [
            Exchange::Request,
            Exchange::Refresh,
            Exchange::Retry,
            Exchange::Login,
        ]
        .into_iter()
        .find(|e| e.as_str() == text)
        .ok_or(())
    }
}

/// Names one leg in flight: the lane's current exchange and its direction.
/// A lane has at most one exchange in flight, so `secret#1>` is unambiguous
/// at any moment. On the wire and on the command line a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct LegId {
    pub lane: Lane,
    pub direction: Direction,
}

impl fmt::Display for LegId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{}{}", self.lane, self.direction.mark()))
    }
}

/// A leg id that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a leg: write a request lane and a direction, e.g. secret#1> (to the server), secret#1< (back to the client), secret#1= (a non-atomic refresh's commit) or tab2/secret#1>")]
pub struct BadLeg(pub String);

impl FromStr for LegId {
    type Err = BadLeg;
    fn from_str(text: &str) -> Result<Self, BadLeg> {
        let bad = || BadLeg(text.to_owned());
        let text = text.trim();
        let mark = text.chars().last().ok_or_else(bad)?;
        let direction = Direction::from_mark(mark).ok_or_else(bad)?;
        let lane: Lane = text[..text.len() - 1].parse().map_err(|_| bad())?;
        if lane.kind().is_none() {
            return Err(bad());
        }
        Ok(LegId { lane, direction })
    }
}

impl From<LegId> for String {
    fn from(leg: LegId) -> String {
        leg.to_string()
    }
}

impl TryFrom<String> for LegId {
    type Error = BadLeg;
    fn try_from(text: String) -> Result<Self, BadLeg> {
        text.parse()
    }
}

impl JsonSchema for LegId {
    fn schema_name() -> Cow<'static, str> {
        "LegId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": format!("^{REQUEST_LANE_PATTERN}[<>=]$"),
            "description": "A leg in flight: a request lane and `>` (to the server), `<` (back to the client) or `=` (a non-atomic refresh's commit)."
        })
    }
}

/// A refresh answer the network loses: `refresh#2<` is the answer to the
/// run's second refresh call (counted as they reach the server). The server
/// decided and rotated; the client gets a network error instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct LostAnswer {
    /// Which refresh call, from 1.
    pub refresh: u32,
}

impl fmt::Display for LostAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("refresh#{}<", self.refresh))
    }
}

/// A lost answer that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a refresh answer: write refresh#N< for the answer to the run's N-th refresh call, e.g. refresh#1<")]
pub struct BadLostAnswer(pub String);

impl FromStr for LostAnswer {
    type Err = BadLostAnswer;
    fn from_str(text: &str) -> Result<Self, BadLostAnswer> {
        let bad = || BadLostAnswer(text.to_owned());
        let n = text
            .trim()
            .strip_prefix("refresh#")
            .and_then(|rest| rest.strip_suffix('<'))
            .ok_or_else(bad)?;
        plain_number(n)
            .map(|refresh| LostAnswer { refresh })
            .ok_or_else(bad)
    }
}

impl From<LostAnswer> for String {
    fn from(lost: LostAnswer) -> String {
        lost.to_string()
    }
}

impl TryFrom<String> for LostAnswer {
    type Error = BadLostAnswer;
    fn try_from(text: String) -> Result<Self, BadLostAnswer> {
        text.parse()
    }
}

impl JsonSchema for LostAnswer {
    fn schema_name() -> Cow<'static, str> {
        "LostAnswer".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^refresh#[1-9][0-9]*<$",
            "description": "The answer to the run's N-th refresh call, lost by the network: `refresh#1<`."
        })
    }
}

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

/// The JSON Schemas checked in under `docs/schema/`, by file name.
pub fn schemas() -> Vec<(&'static str, Schema)> {
    vec![
        (
            "stream-message.schema.json",
            schemars::schema_for!(StreamMessage),
        ),
        ("page-report.schema.json", schemars::schema_for!(PageReport)),
        (
            "run-report.schema.json",
            schemars::schema_for!(crate::scenario::RunReport),
        ),
    ]
}

/// A schema as the pretty JSON text that is checked in.
pub fn schema_text(schema: &Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_round_trip_and_refuse_strangers() {
        for text in [
            "server",
            "client",
            "secret#1",
            "public#12",
            "late#1",
            "timer#1",
            "tab2/secret#1",
            "tab8/timer#3",
        ] {
            let lane: Lane = text.parse().unwrap();
            assert_eq!(lane.to_string(), text);
            let json = serde_json::to_string(&lane).unwrap();
            assert_eq!(serde_json::from_str::<Lane>(&json).unwrap(), lane);
        }
        let mut lanes: Vec<Lane> = [
            "server",
            "tab2/secret#1",
            "secret#10",
            "client",
            "public#1",
            "secret#2",
        ]
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
        lanes.sort();
        let names: Vec<String> = lanes.iter().map(Lane::to_string).collect();
        assert_eq!(
            names,
            [
                "secret#2",
                "secret#10",
                "public#1",
                "tab2/secret#1",
                "client",
                "server"
            ]
        );
        for bad in [
            "",
            "secret",
            "secret#",
            "secret#0",
            "secret#01",
            "secret#+1",
            "tab#1",
            "tab1/secret#1",
            "tab9/secret#1",
            "tab02/secret#1",
            "tab2/client",
            "tab2secret#1",
        ] {
            assert!(bad.parse::<Lane>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn routes_and_reasons_keep_their_wire_spelling() {
        assert_eq!(
            serde_json::to_string(&Route::Refresh).unwrap(),
            r#""/api/refresh""#
        );
        for reason in [Reason::BadSignature, Reason::WindowOver, Reason::Reused] {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
        }
    }
}
