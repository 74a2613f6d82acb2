//! Run settings: what an instructor can change, with the limits the engine
//! enforces. The CLI, the HTTP lab API and the UI all speak this one type.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod policy;
pub mod presets;

/// Most requests of one kind in one run.
pub const MAX_REQUESTS: u32 = 10_000;
/// Longest per-route latency, in milliseconds.
pub const MAX_LATENCY_MS: u64 = 10_000;
/// Largest seeded jitter, in milliseconds.
pub const MAX_JITTER_MS: u64 = 5_000;
/// Longest access token lifetime, in seconds: a day.
pub const MAX_ACCESS_TTL_S: u64 = 86_400;
/// Longest refresh window, in seconds: thirty days.
pub const MAX_REFRESH_WINDOW_S: u64 = 30 * 86_400;
/// Largest grace window, in seconds (Okta and Cognito allow 0–60 s).
pub const MAX_GRACE_S: u64 = 60;
/// Largest reuse count a preset may be given.
pub const MAX_REUSE_COUNT: u32 = 100;
/// Most browser tabs in one run (a lane names its tab, so the words own it).
pub use crate::protocol::MAX_TABS;
/// Most legs a run's delivery script may name.
pub const MAX_SCRIPT_LEGS: usize = 100_000;
/// Most requests (secret, public and late together) of a run whose client
/// runs in the page: each is a real `fetch` of one browser tab, and the
/// browser keeps only a few connections per host.
pub const MAX_PAGE_REQUESTS: u32 = 200;
/// Longest label of an in-page module (the learner's file name, say).
pub const MAX_MODULE_LABEL: usize = 60;
/// Largest `module_options` (as JSON text): a library's few documented options.
pub const MAX_MODULE_OPTIONS_BYTES: usize = 1024;
/// How long a held run (step, hand or paused) waits for the user before it
/// is abandoned and freed, in seconds: the default and the bounds.
pub const DEFAULT_IDLE_S: u64 = 600;
pub const MAX_IDLE_S: u64 = 3_600;
/// Longest sleep of the laptop, in seconds: thirty days.
pub const MAX_SLEEP_S: u64 = 30 * 86_400;
/// Largest clock skew of a tab, in seconds either way: a day.
pub const MAX_SKEW_S: i64 = 86_400;
/// Latest lab time (ms after the burst) a sleep may be set at.
pub const MAX_SLEEP_AT_MS: u64 = 3_600_000;

/// Declares a kebab-case enum that parses from and prints as its names, so
/// the CLI, the JSON API and the UI's `<select>` values all agree.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order the UI lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The kebab-case name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = SettingsError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == text)
                    .ok_or_else(|| SettingsError::UnknownName {
                        what: stringify!($name),
                        got: text.to_owned(),
                        expected: Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                    })
            }
        }
    };
}

named_enum!(
    /// The four starting states of the client.
    Case {
        /// No token at all.
        Guest => "guest",
        /// A token that is valid now.
        Valid => "valid",
        /// Expired, still inside the refresh window.
        ExpiredRefreshable => "expired-refreshable",
        /// Expired, refresh window over.
        ExpiredNotRefreshable => "expired-not-refreshable",
        /// The app starts: the refresh credential is stored, no access
        /// token is in memory yet, and every request fires at once.
        ColdStart => "cold-start",
    }
);

/// The `Strategy` enum, from the client's list of strategies.
macro_rules! strategy_enum {
    ($($(#[$doc:meta])* $variant:ident => $text:literal, $module:ident, page: $page:literal;)+) => {
        named_enum!(
            /// How the client handles a 401 (one line each in src/client/list.rs).
            Strategy {
                $($(#[$doc])* $variant => $text),+
            }
        );

        impl Strategy {
            /// Whether the strategy also exists as a module of the page
            /// (ui/strategies/NAME.js), so the browser runtime can run it.
            pub fn in_page(self) -> bool {
                match self {
                    $(Strategy::$variant => $page),+
                }
            }
        }
    };
}

crate::client::list::strategies!(strategy_enum);

named_enum!(
    /// How the tabs of one browser coordinate their refreshes.
    CrossTab {
        /// Not at all: each tab's interceptor refreshes on its own.
        None => "none",
        /// One lock for all tabs (Web Locks), and a re-read of the stored
        /// token after taking it. The browser releases a closed tab's lock.
        Lock => "lock",
        /// The same, but a lock the app keeps in localStorage (as some
        /// libraries roll their own): a closed tab never releases it.
        StorageLock => "storage-lock",
    }
);

named_enum!(
    /// What the server does when a rotated token comes back.
    Policy {
        /// Single use: reuse is rejected, nothing else changes.
        Strict => "strict",
        /// Reuse revokes every token of the login.
        Family => "family",
        /// Reuse is allowed for a while after rotation.
        Grace => "grace",
        /// No rotation at all.
        None => "none",
        /// Strict, but check and revoke are two steps (a deliberate bug).
        NonAtomic => "non-atomic",
        // Real servers' rules (src/settings/presets.rs: parameters, defaults, sources).
        /// Auth0: rotation overlap period, then reuse detection.
        Auth0 => "auth0",
        /// Okta: rotation with a grace period (default 30 s), then reuse detection.
        Okta => "okta",
        /// Keycloak: revokeRefreshToken (off by default) and a reuse count.
        Keycloak => "keycloak",
        /// Ory Hydra: rotation grace period and reuse count, then the chain dies.
        Hydra => "hydra",
        /// Supabase Auth: the parent of the active token gets it back; a reuse interval.
        Supabase => "supabase",
        /// AWS Cognito: rotation with a retry grace period.
        Cognito => "cognito",
        /// Spring Authorization Server: refresh tokens reused (no rotation) by default.
        Spring => "spring",
    }
);

named_enum!(
    /// What the refresh credential is.
    Mode {
        /// The article's: the expired access token is its own refresh
        /// credential, inside a refresh window.
        Article => "article",
        /// OAuth 2: login returns a short JWT access token and an opaque
        /// refresh token; `/api/refresh` takes the refresh token in a form
        /// body (RFC 6749 §6) and rotates it.
        Oauth => "oauth",
    }
);

named_enum!(
    /// Who delivers the legs of a run's exchanges (docs/design.md, "The network").
    NetworkDriver {
        /// Each leg goes when its latency is up.
        Timer => "timer",
        /// Nothing moves (legs nor lab clock) until the user steps or resumes.
        Step => "step",
        /// Nothing moves until the user picks a leg: the learner is the network.
        Hand => "hand",
    }
);

named_enum!(
    /// Where the client's code runs (docs/design.md, "Clients in the page").
    Runtime {
        /// The lab's own reqwest clients, in the engine.
        Rust => "rust",
        /// JavaScript strategy modules in a Web Worker of the lab's page,
        /// with real `fetch` calls to the run's server.
        Browser => "browser",
    }
);

impl Runtime {
    fn is_rust(&self) -> bool {
        *self == Runtime::Rust
    }
}

impl Policy {
    /// The real systems this policy mirrors, for tooltips and docs.
    pub fn mirrors(self) -> &'static str {
        match (policy::generic(self), presets::preset(self)) {
            (Some(generic), _) => generic.mirrors,
            (None, Some(preset)) => preset.source,
            (None, None) => "",
        }
    }
}

/// Per-route server latency, in milliseconds: the lab's "network".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Latency {
    pub public: u64,
    pub secret: u64,
    pub refresh: u64,
    pub login: u64,
}

impl Latency {
    /// No simulated network: the long-lived API, load tests and benchmarks.
    pub const ZERO: Latency = Latency {
        public: 0,
        secret: 0,
        refresh: 0,
        login: 0,
    };
}

impl Default for Latency {
    /// Long enough that the parallel requests clearly overlap on screen.
    fn default() -> Self {
        Latency {
            public: 100,
            secret: 150,
            refresh: 200,
            login: 0,
        }
    }
}

/// When a lifecycle action happens in a run: after so many deliveries of
/// the network (0: before the first), or right after a leg's first
/// delivery. On the command line `5` or `secret#1<`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Point {
    Deliveries(u32),
    Leg(crate::protocol::LegId),
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Point::Deliveries(n) => write!(f, "{n}"),
            Point::Leg(leg) => write!(f, "{leg}"),
        }
    }
}

impl FromStr for Point {
    type Err = SettingsError;
    fn from_str(text: &str) -> Result<Self, SettingsError> {
        if let Ok(n) = text.parse::<u32>() {
            return Ok(Point::Deliveries(n));
        }
        text.parse().map(Point::Leg).map_err(|_| {
            SettingsError::Conflict(format!(
                "'{text}' is not a point of the run: write a number of deliveries (0 = at the start) or a leg such as secret#1<"
            ))
        })
    }
}

/// A tab closed (or frozen) at a point: `2@secret#1<`, `2@5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TabAt {
    /// The tab, from 1. (A u32 so that any number reads, and a bad one
    /// gets the range message.)
    pub tab: u32,
    pub at: Point,
}

impl FromStr for TabAt {
    type Err = SettingsError;
    fn from_str(text: &str) -> Result<Self, SettingsError> {
        let (tab, at) = text.split_once('@').ok_or_else(|| {
            SettingsError::Conflict(format!(
                "'{text}' is not TAB@POINT: write e.g. 2@secret#1< (tab 2, right after that leg) or 2@5 (after 5 deliveries)"
            ))
        })?;
        let tab = tab.trim().parse::<u32>().map_err(|_| {
            SettingsError::Conflict(format!("'{tab}' is not a tab number (1..={MAX_TABS})"))
        })?;
        Ok(TabAt {
            tab,
            at: at.trim().parse()?,
        })
    }
}

/// The laptop sleeps: the client's timers stand still, the lab clock jumps
/// `seconds`, then every open tab wakes at once (its proactive timer fires
/// if due, and it fetches its secret requests again). When: `at_ms` after
/// the burst on the network's time, or `after` a point of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sleep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Point>,
    pub seconds: u64,
}

/// Everything one run needs. Missing JSON fields take the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RunSettings {
    pub case: Case,
    pub strategy: Strategy,
    pub policy: Policy,
    /// Parallel `GET /api/secret` requests (1..=10,000).
    pub secret: u32,
    /// Parallel `GET /api/public` requests (0..=10,000).
    pub public: u32,
    /// Adds one slow secret request whose 401 lands after the first refresh ended.
    pub late: bool,
    pub latency_ms: Latency,
    /// Each delay gets up to this much extra, drawn from `seed`.
    pub jitter_ms: u64,
    pub seed: u64,
    /// Slow motion: 1 is real time, 0.1 makes every delay ten times longer.
    pub speed: f64,
    /// Access token lifetime.
    pub access_ttl_s: u64,
    /// How long after `exp` a token may still be refreshed.
    pub refresh_window_s: u64,
    /// How long a rotated token may be refreshed again under `grace`.
    pub grace_s: u64,
    /// What the refresh credential is: the expired access token, or an
    /// OAuth refresh token.
    pub mode: Mode,
    /// A server preset's window, seconds (Auth0 `leeway`, Okta `leeway`,
    /// Hydra `rotation_grace_period`, Supabase `REFRESH_TOKEN_REUSE_INTERVAL`,
    /// Cognito `RetryGracePeriodSeconds`); absent: the preset's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlap_s: Option<u64>,
    /// A server preset's reuse count (Keycloak `refreshTokenMaxReuse`, Hydra
    /// `rotation_grace_reuse_count`); absent: the preset's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_count: Option<u32>,
    /// Whether a preset rotates (Keycloak `revokeRefreshToken`, Spring
    /// `!reuseRefreshTokens`); absent: the preset's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate: Option<bool>,
    /// Who delivers the network's legs.
    pub network: NetworkDriver,
    /// Browser tabs open on the app (1..=8): each has its own interceptor,
    /// all share one stored token.
    /// (A u32 so that any count reads, and a bad one gets the range message.)
    pub tabs: u32,
    /// How the tabs coordinate their refreshes.
    pub cross_tab: CrossTab,
    /// Legs to deliver first, in order (step and hand runs): replays a run
    /// saved with its `delivered` order, or undoes the last delivery.
    pub deliver: Vec<crate::protocol::LegId>,
    /// Refresh answers the network loses (`refresh#1<`): the server decided,
    /// the client sees a network error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drop: Vec<crate::protocol::LostAnswer>,
    /// A held run left alone this long is abandoned (1..=3600 s).
    pub idle_s: u64,
    /// Where the client runs; `browser` runs only from the lab's page.
    #[serde(skip_serializing_if = "Runtime::is_rust")]
    pub runtime: Runtime,
    /// The laptop sleeps once during the run, then every tab wakes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sleep: Option<Sleep>,
    /// Per tab (`"2"`), how far its clock is off the lab's, in seconds:
    /// its own "now" for client-side expiry checks (the proactive timer).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub skew: std::collections::BTreeMap<String, i64>,
    /// Tabs closed at a point: their requests in flight are abandoned and
    /// their locks released, as a browser does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub close: Vec<TabAt>,
    /// Tabs frozen at a point: nothing of theirs moves again, and the
    /// locks they hold stay held.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub freeze: Vec<TabAt>,
    /// Client instances per tab (React StrictMode starts two): they share
    /// the tab's storage, each has its own strategy memory; a tab's
    /// requests take turns between them.
    #[serde(skip_serializing_if = "is_one")]
    pub instances: u32,
    /// The in-page module's name when it is not a built-in strategy (the
    /// learner's own interceptor), shown instead of `strategy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// How the in-page module (a library on the bench) was set up: its
    /// options as the page checked them. Kept so that a saved run, an
    /// export or an undo knows them; the engine only bounds their size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_options: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            case: Case::ExpiredRefreshable,
            strategy: Strategy::Naive,
            policy: Policy::Strict,
            secret: 3,
            public: 3,
            late: false,
            latency_ms: Latency::default(),
            jitter_ms: 0,
            seed: 1,
            speed: 1.0,
            access_ttl_s: 5,
            refresh_window_s: 10,
            grace_s: 30,
            mode: Mode::Article,
            overlap_s: None,
            reuse_count: None,
            rotate: None,
            network: NetworkDriver::Timer,
            tabs: 1,
            cross_tab: CrossTab::None,
            deliver: Vec::new(),
            drop: Vec::new(),
            idle_s: DEFAULT_IDLE_S,
            runtime: Runtime::Rust,
            module: None,
            module_options: None,
            sleep: None,
            skew: std::collections::BTreeMap::new(),
            close: Vec::new(),
            freeze: Vec::new(),
            instances: 1,
        }
    }
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// A setting the engine refuses, with a message fit to show a user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    #[error("{field} must be between {min} and {max} (got {got})")]
    OutOfRange {
        field: &'static str,
        min: String,
        max: String,
        got: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("unknown {what} '{got}' (expected one of: {expected})")]
    UnknownName {
        what: &'static str,
        got: String,
        expected: String,
    },
}

pub(crate) fn check_range<T: PartialOrd + fmt::Display>(
    field: &'static str,
    got: T,
    min: T,
    max: T,
) -> Result<(), SettingsError> {
    if got >= min && got <= max {
        Ok(())
    } else {
        Err(SettingsError::OutOfRange {
            field,
            min: min.to_string(),
            max: max.to_string(),
            got: got.to_string(),
        })
    }
}

impl RunSettings {
    /// The client a run is titled by: its in-page module (a library on the
    /// bench, the learner's own) when it has one, since `strategy` is then
    /// only the placeholder the settings need; else the strategy.
    pub fn client_name(&self) -> &str {
        self.module.as_deref().unwrap_or(self.strategy.as_str())
    }

    /// Refuses values the lab cannot run honestly.
    pub fn validate(&self) -> Result<(), SettingsError> {
        check_range("secret", self.secret, 1, MAX_REQUESTS)?;
        check_range("public", self.public, 0, MAX_REQUESTS)?;
        let latency = &self.latency_ms;
        check_range("latency_ms.public", latency.public, 0, MAX_LATENCY_MS)?;
        check_range("latency_ms.secret", latency.secret, 0, MAX_LATENCY_MS)?;
        check_range("latency_ms.refresh", latency.refresh, 0, MAX_LATENCY_MS)?;
        check_range("latency_ms.login", latency.login, 0, MAX_LATENCY_MS)?;
        check_range("jitter_ms", self.jitter_ms, 0, MAX_JITTER_MS)?;
        // NaN fails both comparisons, so it is refused here too.
        check_range("speed", self.speed, 0.05, 10.0)?;
        check_range("access_ttl_s", self.access_ttl_s, 1, MAX_ACCESS_TTL_S)?;
        check_range(
            "refresh_window_s",
            self.refresh_window_s,
            0,
            MAX_REFRESH_WINDOW_S,
        )?;
        check_range("grace_s", self.grace_s, 0, MAX_GRACE_S)?;
        check_range("idle_s", self.idle_s, 1, MAX_IDLE_S)?;
        check_range("tabs", self.tabs, 1, u32::from(MAX_TABS))?;
        self.check_lifecycle()?;
        presets::check_knobs(self)?;
        check_range("deliver", self.deliver.len(), 0, MAX_SCRIPT_LEGS)?;
        check_range("drop", self.drop.len(), 0, MAX_SCRIPT_LEGS)?;
        if self.runtime == Runtime::Browser {
            self.check_in_page()?;
            let requests = self.secret + self.public + u32::from(self.late);
            check_range("requests of a browser run", requests, 1, MAX_PAGE_REQUESTS)?;
        }
        if let Some(options) = &self.module_options {
            if self.module.is_none() {
                return Err(SettingsError::Conflict(
                    "module_options set up an in-page module: name it with module".into(),
                ));
            }
            let bytes = serde_json::to_string(options).map_or(usize::MAX, |text| text.len());
            check_range(
                "module_options size in bytes",
                bytes,
                0,
                MAX_MODULE_OPTIONS_BYTES,
            )?;
        }
        if let Some(label) = &self.module {
            if self.runtime != Runtime::Browser {
                return Err(SettingsError::Conflict(
                    "module names an in-page module: it needs runtime browser".into(),
                ));
            }
            let printable = label.chars().all(|c| !c.is_control());
            check_range(
                "module name length",
                label.chars().count(),
                1,
                MAX_MODULE_LABEL,
            )?;
            if !printable {
                return Err(SettingsError::Conflict(
                    "module name must be printable text".into(),
                ));
            }
        }
        if !self.deliver.is_empty() && self.network == NetworkDriver::Timer {
            return Err(SettingsError::Conflict(
                "deliver needs network step or hand: a timer run delivers by itself".into(),
            ));
        }
        Ok(())
    }

    /// Sleep, skew, closed and frozen tabs, instances: each in range, each
    /// tab one of the run's, no tab both closed and frozen.
    fn check_lifecycle(&self) -> Result<(), SettingsError> {
        check_range("instances", self.instances, 1, u32::from(MAX_TABS))?;
        if let Some(sleep) = &self.sleep {
            check_range("sleep.seconds", sleep.seconds, 1, MAX_SLEEP_S)?;
            match (sleep.at_ms, sleep.after) {
                (Some(at_ms), None) => check_range("sleep.at_ms", at_ms, 0, MAX_SLEEP_AT_MS)?,
                (None, Some(_)) => {}
                _ => {
                    return Err(SettingsError::Conflict(
                        "sleep needs exactly one of at_ms (ms after the burst) and after (a point of the run)".into(),
                    ))
                }
            }
        }
        for (tab, seconds) in &self.skew {
            let number = tab.parse::<u32>().map_err(|_| {
                SettingsError::Conflict(format!("skew is keyed by tab number (\"2\"), not '{tab}'"))
            })?;
            check_range("skew tab", number, 1, self.tabs)?;
            check_range("skew seconds", *seconds, -MAX_SKEW_S, MAX_SKEW_S)?;
        }
        let mut seen = std::collections::BTreeSet::new();
        for (what, list) in [("close", &self.close), ("freeze", &self.freeze)] {
            for at in list {
                let field = if what == "close" {
                    "close tab"
                } else {
                    "freeze tab"
                };
                check_range(field, at.tab, 1, self.tabs)?;
                if !seen.insert(at.tab) {
                    return Err(SettingsError::Conflict(format!(
                        "tab {} is closed or frozen twice: once is all a tab can be",
                        at.tab
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether the run uses any lifecycle action (sleep, skew, close,
    /// freeze, several instances): the engine's clients only.
    pub fn has_lifecycle(&self) -> bool {
        self.sleep.is_some()
            || !self.skew.is_empty()
            || !self.close.is_empty()
            || !self.freeze.is_empty()
            || self.instances > 1
    }

    /// Tab `tab`'s clock skew in ms (0 without one).
    pub fn skew_ms(&self, tab: crate::protocol::TabNo) -> i64 {
        self.skew.get(&tab.to_string()).copied().unwrap_or(0) * 1000
    }

    /// The run's tabs, by number (valid once [`RunSettings::validate`] passed).
    pub fn tab_numbers(&self) -> impl Iterator<Item = crate::protocol::TabNo> {
        1..=u8::try_from(self.tabs).unwrap_or(MAX_TABS)
    }

    /// What the browser runtime cannot run yet: 1 to 8 tabs of a built-in
    /// or own module; OAuth mode only with a library or own module (the
    /// built-in JS strategies present the access token, the article's
    /// credential); the proactive and mutex strategies are the Rust engine's.
    fn check_in_page(&self) -> Result<(), SettingsError> {
        let refused = if self.has_lifecycle() || self.case == Case::ColdStart {
            Some("sleep, skew, closed and frozen tabs, instances and the cold start")
        } else if self.mode == Mode::Oauth && self.module.is_none() {
            Some("OAuth mode with a built-in strategy")
        } else if self.module.is_none() && !self.strategy.in_page() {
            Some("the proactive and mutex strategies")
        } else {
            None
        };
        match refused {
            Some(what) => Err(SettingsError::Conflict(format!(
                "{what} run in the rust runtime only, not in the browser runtime (yet)"
            ))),
            None => Ok(()),
        }
    }

    /// Real-time length of a nominal lab delay at this run's speed.
    pub fn scaled(&self, nominal_ms: u64) -> Duration {
        Duration::from_secs_f64(nominal_ms as f64 / 1000.0 / self.speed)
    }

    /// Extra latency of the late lane's first request, in nominal ms: it
    /// leaves with the burst (so it carries the old token) on a slow network,
    /// and reaches the server after the first refresh ended.
    pub fn late_delay_ms(&self) -> u64 {
        let latency = &self.latency_ms;
        latency.secret + latency.refresh - latency.secret / 2 + self.jitter_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for case in Case::ALL {
            assert_eq!(case.as_str().parse::<Case>().unwrap(), *case);
        }
        let err = "sometimes".parse::<Policy>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown Policy 'sometimes' (expected one of: strict, family, grace, none, non-atomic, auth0, okta, keycloak, hydra, supabase, cognito, spring)"
        );
    }

    #[test]
    fn lifecycle_settings_are_refused_out_of_range_with_the_range() {
        let with = |tune: fn(&mut RunSettings)| {
            let mut settings = RunSettings {
                tabs: 3,
                ..RunSettings::default()
            };
            tune(&mut settings);
            settings.validate().map_err(|e| e.to_string())
        };
        assert_eq!(
            with(|s| {
                s.skew.insert("2".into(), 86_401);
            }),
            Err("skew seconds must be between -86400 and 86400 (got 86401)".into())
        );
        assert_eq!(
            with(|s| s.sleep = Some(Sleep {
                at_ms: Some(0),
                after: None,
                seconds: 30 * 86_400 + 1
            })),
            Err("sleep.seconds must be between 1 and 2592000 (got 2592001)".into())
        );
        assert_eq!(
            with(|s| s.instances = 9),
            Err("instances must be between 1 and 8 (got 9)".into())
        );
        assert_eq!(
            with(|s| s.close = vec!["4@0".parse().unwrap()]),
            Err("close tab must be between 1 and 3 (got 4)".into())
        );
        assert!(with(|s| {
            s.skew.insert("2".into(), -90);
            s.freeze = vec!["1@secret#1<".parse().unwrap()];
        })
        .is_ok());
        assert!("2-5".parse::<TabAt>().is_err());
        assert_eq!(
            serde_json::to_string(&"2@secret#1<".parse::<TabAt>().unwrap()).unwrap(),
            r#"{"tab":2,"at":"secret#1<"}"#
        );
    }

    #[test]
    fn the_browser_runtime_refuses_what_only_the_engine_runs() {
        let browser = |settings: RunSettings| RunSettings {
            runtime: Runtime::Browser,
            ..settings
        };
        let tabs = browser(RunSettings {
            tabs: 8,
            cross_tab: CrossTab::Lock,
            ..RunSettings::default()
        });
        assert!(tabs.validate().is_ok(), "several tabs run in the page too");
        let oauth = browser(RunSettings {
            mode: Mode::Oauth,
            ..RunSettings::default()
        });
        assert!(oauth.validate().is_err());
        let oauth_library = browser(RunSettings {
            mode: Mode::Oauth,
            module: Some("oidc-client-ts@3".into()),
            ..RunSettings::default()
        });
        assert!(
            oauth_library.validate().is_ok(),
            "a library runs against the OAuth token endpoint"
        );
        let mutex = browser(RunSettings {
            strategy: Strategy::Mutex,
            ..RunSettings::default()
        });
        assert!(mutex.validate().is_err());
        // Presets are the server's: any runtime.
        let okta = browser(RunSettings {
            policy: Policy::Okta,
            ..RunSettings::default()
        });
        assert!(okta.validate().is_ok());
    }

    #[test]
    fn out_of_range_values_are_named() {
        let settings = RunSettings {
            secret: 0,
            ..RunSettings::default()
        };
        assert_eq!(
            settings.validate().unwrap_err().to_string(),
            "secret must be between 1 and 10000 (got 0)"
        );
        let settings = RunSettings {
            speed: f64::NAN,
            ..RunSettings::default()
        };
        assert!(settings.validate().is_err());
        assert!(RunSettings::default().validate().is_ok());
    }

    #[test]
    fn partial_json_takes_defaults_and_unknown_fields_are_refused() {
        let settings: RunSettings =
            serde_json::from_str(r#"{"case":"guest","latency_ms":{"secret":5}}"#).unwrap();
        assert_eq!(settings.case, Case::Guest);
        assert_eq!(settings.latency_ms.secret, 5);
        assert_eq!(settings.latency_ms.refresh, 200);
        assert!(serde_json::from_str::<RunSettings>(r#"{"secrets":3}"#).is_err());
    }
}
