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
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
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
}

impl LaneKind {
    fn prefix(self) -> &'static str {
        match self {
            LaneKind::Secret => "secret",
            LaneKind::Public => "public",
            LaneKind::Late => "late",
        }
    }

    /// The route a lane of this kind fetches.
    pub fn route(self) -> Route {
        match self {
            LaneKind::Public => Route::Public,
            LaneKind::Secret | LaneKind::Late => Route::Secret,
        }
    }
}

/// A row of the timeline. On the wire a string: `server`, `client`,
/// `secret#1`, `public#2`, `late#1`. The order is the timeline's: requests
/// (secret, public, late; `secret#2` before `secret#10`), then the client,
/// then the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Lane {
    /// One logical request: its kind and its number (from 1).
    Request(LaneKind, u32),
    /// The tab's token store and the run's setup steps.
    Client,
    /// The auth server's own decisions.
    Server,
}

impl Lane {
    pub fn secret(n: u32) -> Lane {
        Lane::Request(LaneKind::Secret, n)
    }

    pub fn public(n: u32) -> Lane {
        Lane::Request(LaneKind::Public, n)
    }

    pub fn late(n: u32) -> Lane {
        Lane::Request(LaneKind::Late, n)
    }

    /// The kind of a request lane; `None` for `server` and `client`.
    pub fn kind(self) -> Option<LaneKind> {
        match self {
            Lane::Request(kind, _) => Some(kind),
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
            Lane::Request(kind, n) => f.pad(&format!("{}#{n}", kind.prefix())),
        }
    }
}

/// A lane name that is not one of the lab's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lane '{0}' (expected server, client, secret#N, public#N or late#N)")]
pub struct UnknownLane(pub String);

impl FromStr for Lane {
    type Err = UnknownLane;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownLane(text.to_owned());
        match text {
            "server" => return Ok(Lane::Server),
            "client" => return Ok(Lane::Client),
            _ => {}
        }
        let (prefix, n) = text.split_once('#').ok_or_else(unknown)?;
        let kind = [LaneKind::Secret, LaneKind::Public, LaneKind::Late]
            .into_iter()
            .find(|kind| kind.prefix() == prefix)
            .ok_or_else(unknown)?;
        // Digits only: `+1` or ` 1` would parse as numbers but are not names.
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) || n.starts_with('0') {
            return Err(unknown());
        }
        n.parse()
            .map(|n| Lane::Request(kind, n))
            .map_err(|_| unknown())
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
pub const LANE_PATTERN: &str = "^(server|client|(secret|public|late)#[1-9][0-9]*)$";

impl JsonSchema for Lane {
    fn schema_name() -> Cow<'static, str> {
        "Lane".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": LANE_PATTERN,
            "description": "A timeline row: `server`, `client`, or a request lane such as `secret#1`, `public#2`, `late#1`."
        })
    }
}

/// One line of `POST /lab/runs`' NDJSON stream (docs/lab-api.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamMessage {
    /// First line: the validated settings and the run's lab time at start.
    Start {
        settings: RunSettings,
        lab_now_ms: u64,
    },
    /// One event, in `seq` order, as it happens.
    Event { event: Event },
    /// Last line of a run that finished.
    Done { verdict: Verdict, lab_now_ms: u64 },
    /// Last line of a run that could not finish.
    Error { message: String },
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
        for text in ["server", "client", "secret#1", "public#12", "late#1"] {
            let lane: Lane = text.parse().unwrap();
            assert_eq!(lane.to_string(), text);
            let json = serde_json::to_string(&lane).unwrap();
            assert_eq!(serde_json::from_str::<Lane>(&json).unwrap(), lane);
        }
        let mut lanes: Vec<Lane> = ["server", "secret#10", "client", "public#1", "secret#2"]
            .iter()
            .map(|l| l.parse().unwrap())
            .collect();
        lanes.sort();
        let names: Vec<String> = lanes.iter().map(Lane::to_string).collect();
        assert_eq!(
            names,
            ["secret#2", "secret#10", "public#1", "client", "server"]
        );
        for bad in [
            "",
            "secret",
            "secret#",
            "secret#0",
            "secret#01",
            "secret#+1",
            "tab#1",
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
