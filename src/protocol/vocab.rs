//! The words the engine and its viewers share: lanes, routes, refusal
//! reasons, revocation causes, leg names, the lab's request headers and the
//! limits these words are checked against.
//!
//! The bottom layer: it names nothing else of the crate, so every module can
//! use it. Each word is a type, not text: the server, the clients, the
//! verdict and the views match on these enums, and serde gives each one
//! fixed spelling on the wire. docs/design.md explains the event model these
//! words describe.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

/// Most browser tabs in one run.
pub const MAX_TABS: u8 = 8;

/// Request headers the lab's clients add so the server's events can name
/// the lane and attempt they belong to. Other clients simply omit them.
pub const LANE_HEADER: &str = "x-lab-lane";
pub const ATTEMPT_HEADER: &str = "x-lab-attempt";
/// What the exchange is for (`request`, `refresh`, `retry`, `login`): the
/// network tray shows it.
pub const EXCHANGE_HEADER: &str = "x-lab-exchange";

/// Where a browser joins a workshop room (`/join?code=…`): the accept
/// loop lets it through before the room's checks.
pub const JOIN_PATH: &str = "/join";

/// The form content type RFC 6749 §6 prescribes for a refresh.
pub const FORM: &str = "application/x-www-form-urlencoded";

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
#[error("unknown lane '{0}' (expected server, client, secret#N, public#N, late#N or timer#N, with tabK/ in front for tab K = 2..{max})", max = MAX_TABS)]
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
                if !(2..=MAX_TABS).contains(&tab) {
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
