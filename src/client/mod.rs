//! The racing clients (docs/design.md, "The clients"): a simulated browser
//! whose tabs send requests with the stored token and hand every 401 to a
//! strategy.
//!
//! [`Tab`] owns what all strategies and all tabs share: the HTTP client, the
//! one stored token (as `localStorage` is shared by a browser's tabs) and
//! the event recording. Each tab has its own [`Interceptor`] (its own
//! strategy memory), and each strategy module holds only its answer to "a
//! request just got 401 with token X; what token should it retry with?".

pub(crate) mod list;
mod slots;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use crate::clock::LabClock;
use crate::motion::Motion;
use crate::protocol::views::{StateRow, StrategyView, TabView};
use crate::protocol::{
    Exchange, Lane, LaneKind, Reason, Route, TabNo, ATTEMPT_HEADER, EXCHANGE_HEADER, FORM,
    LANE_HEADER,
};
use crate::settings::{Case, CrossTab, RunSettings, Strategy};
use crate::timeline::{EventKind, Recorder};

/// A token as a browser holds it: the raw JWT and what it read from it,
/// and in OAuth mode the refresh token that came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub raw: String,
    pub jti: String,
    /// `exp`, lab ms (what a proactive timer is set by).
    pub exp_ms: Option<u64>,
    pub refresh: Option<RefreshToken>,
}

/// An opaque OAuth refresh token; the client cannot read it, but the lab's
/// tokens start with their name (`r2.…`) so the timeline can show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub raw: String,
    pub name: String,
}

impl Token {
    fn from_raw(raw: String) -> Self {
        let jti = crate::server::tokens::peek_jti(&raw).unwrap_or_else(|| "?".into());
        let exp_ms = crate::server::tokens::peek_exp_ms(&raw);
        Token {
            raw,
            jti,
            exp_ms,
            refresh: None,
        }
    }

    /// The token of a login or refresh answer: the article's `token`, or
    /// OAuth's `access_token` and `refresh_token`.
    fn from_answer(body: &Value) -> Option<Self> {
        let text = |key| body.get(key).and_then(Value::as_str);
        let mut token = Token::from_raw(text("access_token").or(text("token"))?.to_owned());
        token.refresh = text("refresh_token").map(|raw| RefreshToken {
            name: raw.split('.').next().unwrap_or("?").to_owned(),
            raw: raw.to_owned(),
        });
        Some(token)
    }

    /// The name of the credential a refresh of this token presents: the
    /// refresh token's in OAuth mode, the access token's own otherwise.
    pub fn credential(&self) -> &str {
        self.refresh
            .as_ref()
            .map_or(self.jti.as_str(), |refresh| refresh.name.as_str())
    }
}

/// Most HTTP exchanges one tab has open at once. Without a bound, a
/// 10,000-request stampede opens 10,000 sockets at once, overflows the
/// server's accept backlog and stalls on SYN retransmits; with it, the
/// pool reuses at most this many keep-alive connections. Runs of up to this
/// many requests are fully parallel.
pub const MAX_IN_FLIGHT: usize = 256;

/// How long the tab keeps an idle connection: less than the server's
/// header-read (idle) limit, `server::Limits::DEFAULT.header_read`.
const POOL_IDLE: std::time::Duration = std::time::Duration::from_secs(5);

/// How one logical request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub lane: Lane,
    pub ok: bool,
    pub status: u16,
}

/// The state shared by every request of every tab: the browser.
pub struct Tab {
    http: reqwest::Client,
    base_url: String,
    recorder: Recorder,
    next_attempt: AtomicU64,
    store: Mutex<Option<Token>>,
    in_flight: slots::Slots,
    /// Who is running in this run: a lane that waits for a peer parks here.
    motion: Arc<Motion>,
    /// The run's lab clock, held still while a request waits for a slot.
    slot_clock: Option<LabClock>,
    /// More than one tab: store events then say which tab caused them.
    several_tabs: bool,
    /// The app started cold: the stored token is only the refresh
    /// credential, so requests leave without one until a refresh stores a
    /// token.
    cold: std::sync::atomic::AtomicBool,
}

/// The browser's tabs, each with its 401 strategy: what the scenario drives.
pub struct Client {
    tab: Arc<Tab>,
    /// Every tab's strategy.
    strategy: Strategy,
    /// `instances` per tab, tab 1's first: each instance's own strategy memory.
    interceptors: Vec<Box<dyn Interceptor>>,
    /// Client instances per tab (StrictMode starts two).
    instances: u32,
    /// The tabs' shared lock (`cross_tab` `lock`), if they coordinate.
    cross_tab: Option<slots::Slots>,
    /// The lock lives in localStorage: a closed tab never releases it.
    strands_on_close: bool,
    /// Each tab's clock skew, ms, tab 1 first: its own "now" for the
    /// proactive timer.
    skew_ms: Vec<i64>,
    /// Secret requests each tab fetches again when it wakes.
    wake_requests: u32,
    life: Mutex<Life>,
}

/// What became of the tabs, and the numbers their next lanes take.
#[derive(Default)]
struct Life {
    closed: std::collections::BTreeSet<TabNo>,
    frozen: std::collections::BTreeSet<TabNo>,
    /// Per tab: the last timer lane and the last secret lane started.
    timers: std::collections::HashMap<TabNo, u32>,
    secrets: std::collections::HashMap<TabNo, u32>,
}

/// How often a proactive timer may fire in a row when each new token is
/// already due by its tab's skewed clock: the refresh loop is shown, not
/// run forever.
pub const MAX_TIMER_FIRES: u32 = 5;

/// One tab's strategy, with its own memory: what it does with a 401 and
/// what it keeps. Each strategy is a file of this module, listed once in
/// [`list`]; the client knows none of them by name, except for the two
/// extra roles below (a timer, a lock others wait for).
trait Interceptor: Send + Sync {
    /// A request just got 401 with `used`: the token to retry with, or
    /// `None` to give up.
    fn handle_401<'a>(
        &'a self,
        tab: &'a Tab,
        lane: Lane,
        used: Token,
    ) -> BoxFuture<'a, Option<Token>>;

    /// What it keeps, for the hidden-state panel.
    fn rows(&self) -> Vec<StateRow>;

    /// A strategy with a refresh timer (its own lanes).
    fn proactive(&self) -> Option<&proactive::Proactive> {
        None
    }

    /// A strategy with a lock that requests wait for (a hang names it).
    fn mutex(&self) -> Option<&mutex::Mutex> {
        None
    }
}

/// The client's table, from the list: each strategy's module and how a
/// tab gets a new one.
macro_rules! interceptor_table {
    ($($(#[$doc:meta])* $variant:ident => $text:literal, $module:ident, page: $page:literal;)+) => {
        $(mod $module;)+

        /// A new strategy memory for one tab.
        fn make_interceptor(strategy: Strategy, motion: &Arc<Motion>) -> Box<dyn Interceptor> {
            match strategy {
                $(Strategy::$variant => $module::make(motion)),+
            }
        }
    };
}

list::strategies!(interceptor_table);

impl Client {
    /// One tab with `strategy`.
    pub fn new(
        base_url: &str,
        strategy: Strategy,
        recorder: Recorder,
        motion: Arc<Motion>,
    ) -> Self {
        Self::with_tabs(base_url, strategy, 1, CrossTab::None, recorder, motion)
    }

    /// `tabs` tabs (at least one), each with its own `strategy` instance,
    /// sharing one token store and coordinating as `cross_tab` says.
    pub fn with_tabs(
        base_url: &str,
        strategy: Strategy,
        tabs: TabNo,
        cross_tab: CrossTab,
        recorder: Recorder,
        motion: Arc<Motion>,
    ) -> Self {
        let settings = RunSettings {
            strategy,
            tabs: u32::from(tabs.max(1)),
            cross_tab,
            ..RunSettings::default()
        };
        Self::for_run(base_url, &settings, recorder, motion)
    }

    /// The browser of a run: its tabs, each with `instances` clients of the
    /// run's strategy, their clocks' skews, and a cold start's empty memory.
    pub fn for_run(
        base_url: &str,
        settings: &RunSettings,
        recorder: Recorder,
        motion: Arc<Motion>,
    ) -> Self {
        let (strategy, cross_tab) = (settings.strategy, settings.cross_tab);
        let tabs = settings.tab_numbers().count() as TabNo;
        let instances = settings.instances.max(1);
        let http = reqwest::Client::builder()
            // Every lab request is to 127.0.0.1; a proxy would distort timings.
            .no_proxy()
            // Below the server's idle limit, so the pool never reuses a
            // connection the server is closing.
            .pool_idle_timeout(POOL_IDLE)
            .build()
            .expect("a plain HTTP client always builds");
        let tab = Arc::new(Tab {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            recorder,
            next_attempt: AtomicU64::new(1),
            store: Mutex::new(None),
            in_flight: slots::Slots::new(MAX_IN_FLIGHT, motion.clone()),
            motion: motion.clone(),
            slot_clock: None,
            several_tabs: tabs > 1,
            cold: std::sync::atomic::AtomicBool::new(settings.case == Case::ColdStart),
        });
        let interceptors = (0..u32::from(tabs.max(1)) * instances)
            .map(|_| make_interceptor(strategy, &motion))
            .collect();
        let cross_tab = match cross_tab {
            CrossTab::None => None,
            CrossTab::Lock | CrossTab::StorageLock => Some(slots::Slots::new(1, motion)),
        };
        let strands_on_close = settings.cross_tab == CrossTab::StorageLock;
        Client {
            tab,
            strategy,
            interceptors,
            instances,
            cross_tab,
            strands_on_close,
            skew_ms: (1..=tabs.max(1)).map(|tab| settings.skew_ms(tab)).collect(),
            wake_requests: settings.secret,
            life: Mutex::new(Life {
                secrets: (1..=tabs.max(1))
                    .map(|tab| (tab, settings.secret))
                    .collect(),
                ..Life::default()
            }),
        }
    }

    fn tabs(&self) -> TabNo {
        (self.interceptors.len() as u32 / self.instances).max(1) as TabNo
    }

    fn life(&self) -> std::sync::MutexGuard<'_, Life> {
        self.life.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The interceptor of `lane`: its tab's, and among the tab's instances
    /// the one whose turn the lane's number is (tab 1's first instance for
    /// a lane out of range).
    fn interceptor_of(&self, lane: Lane) -> &dyn Interceptor {
        let (tab, n) = match lane {
            Lane::Request(tab, _, n) => (tab, n),
            Lane::Client | Lane::Server => (1, 1),
        };
        let instance = (n.max(1) - 1) % self.instances;
        let index = (u32::from(tab.max(1)) - 1) * self.instances + instance;
        self.interceptors
            .get(index as usize)
            .unwrap_or(&self.interceptors[0])
            .as_ref()
    }

    /// Tab `tab`'s own "now": the lab's, off by its skew.
    fn tab_now_ms(&self, tab: TabNo, lab_now_ms: u64) -> u64 {
        let skew = self.skew_ms.get(usize::from(tab.max(1)) - 1).copied();
        lab_now_ms.saturating_add_signed(skew.unwrap_or(0))
    }

    /// Lanes the strategies add at lab time `lab_now_ms` (the burst, or a
    /// wake-up): the timer of each proactive instance of an open tab whose
    /// refresh is due by the tab's own clock (it was set before the user
    /// left, and fires as the page wakes up).
    pub fn timer_lanes(&self, lab_now_ms: u64) -> Vec<Lane> {
        let token = self.tab.current();
        let mut life = self.life();
        let mut lanes = Vec::new();
        for tab in 1..=self.tabs() {
            if life.closed.contains(&tab) || life.frozen.contains(&tab) {
                continue;
            }
            let now = self.tab_now_ms(tab, lab_now_ms);
            let first = life.timers.get(&tab).copied().unwrap_or(0);
            let mut last = first;
            for instance in 1..=self.instances {
                let lane = Lane::Request(tab, LaneKind::Timer, first + instance);
                let due = self
                    .interceptor_of(lane)
                    .proactive()
                    .is_some_and(|proactive| proactive.timer_due(token.as_ref(), now));
                if due {
                    lanes.push(lane);
                    last = first + instance;
                }
            }
            life.timers.insert(tab, last);
        }
        lanes
    }

    /// The lanes every open tab starts when the laptop wakes at lab time
    /// `lab_now_ms`: its secret requests again (the page fetches its data
    /// anew), then its due timers.
    pub fn wake_lanes(&self, lab_now_ms: u64) -> (Vec<TabNo>, Vec<Lane>) {
        let mut tabs = Vec::new();
        let mut lanes = Vec::new();
        {
            let mut life = self.life();
            for tab in 1..=self.tabs() {
                if life.closed.contains(&tab) || life.frozen.contains(&tab) {
                    continue;
                }
                tabs.push(tab);
                let last = life.secrets.get(&tab).copied().unwrap_or(0);
                lanes.extend(
                    (last + 1..=last + self.wake_requests)
                        .map(|n| Lane::Request(tab, LaneKind::Secret, n)),
                );
                life.secrets.insert(tab, last + self.wake_requests);
            }
        }
        lanes.extend(self.timer_lanes(lab_now_ms));
        (tabs, lanes)
    }

    /// Marks `tab` closed: it starts nothing again (the scenario abandons
    /// its lanes, which releases its locks).
    pub fn close_tab(&self, tab: TabNo) {
        self.life().closed.insert(tab);
        if let Some(lock) = &self.cross_tab {
            lock.forget_waiters(tab);
            if self.strands_on_close {
                lock.strand(tab);
            }
        }
        for interceptor in &self.interceptors {
            if let Some(mutex) = interceptor.mutex() {
                mutex.forget_waiters(tab);
            }
        }
    }

    /// Marks `tab` frozen: it starts nothing again, and keeps what it holds.
    pub fn freeze_tab(&self, tab: TabNo) {
        self.life().frozen.insert(tab);
    }

    /// Whether `tab` was frozen.
    pub fn is_frozen(&self, tab: TabNo) -> bool {
        self.life().frozen.contains(&tab)
    }

    /// What lanes wait on, for a hang: each lock with waiters, its waiters,
    /// and a sentence naming it and who holds it.
    pub fn waits(&self) -> Vec<(Vec<Lane>, String)> {
        let (frozen, closed) = {
            let life = self.life();
            (life.frozen.clone(), life.closed.clone())
        };
        let held_by = |holders: &[Lane]| -> String {
            let names: Vec<String> = holders
                .iter()
                .map(|lane| match lane.tab() {
                    Some(tab) if frozen.contains(&tab) => format!("{lane} of frozen tab {tab}"),
                    Some(tab) if closed.contains(&tab) => format!("{lane} of closed tab {tab}"),
                    _ => lane.to_string(),
                })
                .collect();
            match names.is_empty() {
                true => "nobody left to release it".into(),
                false => format!("held by {}", names.join(", ")),
            }
        };
        let mut waits = Vec::new();
        if let Some(lock) = &self.cross_tab {
            let (holders, waiters) = lock.holders_and_waiters();
            if !waiters.is_empty() {
                waits.push((
                    waiters,
                    format!("the cross-tab lock, {}", held_by(&holders)),
                ));
            }
        }
        for (index, interceptor) in self.interceptors.iter().enumerate() {
            if let Some(mutex) = interceptor.mutex() {
                let (holders, waiters) = mutex.holders_and_waiters();
                if !waiters.is_empty() {
                    let tab = index as u32 / self.instances + 1;
                    waits.push((
                        waiters,
                        format!("tab {tab}'s refresh lock, {}", held_by(&holders)),
                    ));
                }
            }
        }
        waits
    }

    /// Runs one lane: a request of the page, or a strategy's timer (which
    /// is no request: it has no outcome of its own).
    pub async fn run_lane(&self, lane: Lane) -> Option<Outcome> {
        match lane {
            Lane::Request(tab, LaneKind::Timer, _) => {
                let proactive = self.interceptor_of(lane).proactive()?;
                // A tab whose clock runs ahead finds each new token due at
                // once, and its timer fires again: the refresh loop.
                for _ in 0..MAX_TIMER_FIRES {
                    let used = self.tab.current()?;
                    // With a cross-tab lock the timer takes it too, and skips
                    // its refresh if another tab already replaced the token.
                    let _held = match &self.cross_tab {
                        Some(lock) => {
                            let held = self.tab.take_lock(lock, lane, &used).await;
                            if self.tab.current().as_ref() != Some(&used) {
                                return None;
                            }
                            Some(held)
                        }
                        None => None,
                    };
                    let fresh = proactive.timer_fires(&self.tab, lane, used).await?;
                    let lab_now = self.tab.slot_clock.as_ref().map(LabClock::now_ms)?;
                    if !proactive.timer_due(Some(&fresh), self.tab_now_ms(tab, lab_now)) {
                        return None;
                    }
                }
                None
            }
            Lane::Request(..) => Some(self.fetch(lane).await),
            Lane::Client | Lane::Server => None,
        }
    }

    /// Holds `clock` still while a request of this tab waits for one of its
    /// [`MAX_IN_FLIGHT`] slots (see [`Tab::exchange_slot`]).
    pub fn holding_clock_while_queued(mut self, clock: LabClock) -> Self {
        if let Some(tab) = Arc::get_mut(&mut self.tab) {
            tab.slot_clock = Some(clock);
        }
        self
    }

    /// Logs in and stores the token: the setup of every case but guest.
    pub async fn login(&self, login: &str) -> Result<Token, ClientError> {
        let attempt = self.tab.next_attempt();
        let response = self
            .tab
            .http
            .post(format!("{}{}", self.tab.base_url, Route::Login))
            .header(LANE_HEADER, Lane::Client.to_string())
            .header(ATTEMPT_HEADER, attempt)
            .header(EXCHANGE_HEADER, Exchange::Login.as_str())
            .json(&serde_json::json!({"login": login, "password": "lab"}))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        let token = Token::from_answer(&body)
            .filter(|_| status.is_success())
            .ok_or_else(|| ClientError::Login(body.to_string()))?;
        self.tab.store_token(Lane::Client, token.clone());
        Ok(token)
    }

    /// One logical request on a request lane: send, and on 401 let the
    /// tab's strategy decide.
    pub async fn fetch(&self, lane: Lane) -> Outcome {
        let route = lane.kind().map_or(Route::Secret, LaneKind::route);
        let permit = self.tab.exchange_slot().await;
        let token = self.tab.current();
        // Cold: what is stored is only the refresh credential.
        let sent = token
            .as_ref()
            .filter(|_| !self.tab.cold.load(Ordering::SeqCst));
        let attempt = self.tab.next_attempt();
        self.tab.recorder.record(
            lane,
            EventKind::RequestSent {
                attempt,
                route,
                jti: sent.map(|t| t.jti.clone()),
            },
        );
        let mut status = self
            .tab
            .send(lane, route, sent, attempt, Exchange::Request)
            .await;
        drop(permit);
        if status == StatusCode::UNAUTHORIZED.as_u16() {
            if let Some(fresh) = self.handle_401(lane, token).await {
                let _slot = self.tab.exchange_slot().await;
                let attempt = self.tab.next_attempt();
                self.tab.recorder.record(
                    lane,
                    EventKind::RetrySent {
                        attempt,
                        route,
                        jti: Some(fresh.jti.clone()),
                    },
                );
                status = self
                    .tab
                    .send(lane, route, Some(&fresh), attempt, Exchange::Retry)
                    .await;
            }
        }
        let ok = (200..300).contains(&status);
        self.tab
            .recorder
            .record(lane, EventKind::RequestDone { ok, status });
        Outcome { lane, ok, status }
    }

    /// What the browser holds now, and each tab's strategy memory (its
    /// first instance's).
    pub fn tab_view(&self) -> TabView {
        let mut views = self
            .interceptors
            .iter()
            .step_by(self.instances as usize)
            .map(|interceptor| StrategyView {
                strategy: self.strategy.as_str().to_owned(),
                rows: interceptor.rows(),
            });
        TabView {
            token: self.tab.current().map(|token| token.jti),
            strategy: views.next().unwrap_or_else(|| StrategyView {
                strategy: self.strategy.as_str().to_owned(),
                rows: Vec::new(),
            }),
            other_tabs: views.collect(),
        }
    }

    /// The token to retry with, or `None` to give up. Without a token there
    /// is nothing to refresh: a guest's 401 is final under every strategy.
    async fn handle_401(&self, lane: Lane, used: Option<Token>) -> Option<Token> {
        let used = used?;
        let interceptor = self.interceptor_of(lane);
        let Some(lock) = &self.cross_tab else {
            return interceptor.handle_401(&self.tab, lane, used).await;
        };
        // Across tabs: one at a time, and whoever gets the lock first reads
        // the store again, since another tab may have refreshed meanwhile.
        let _held = self.tab.take_lock(lock, lane, &used).await;
        match self.tab.current() {
            Some(current) if current.jti != used.jti => Some(current),
            // Another tab's refresh failed and logged the browser out.
            None => None,
            Some(_) => interceptor.handle_401(&self.tab, lane, used).await,
        }
    }
}

impl Tab {
    /// Waits for one of the tab's [`MAX_IN_FLIGHT`] exchange slots; the slot
    /// is freed when the returned guard drops.
    ///
    /// Waiting for a slot measures the machine, not the race: a 10,000-request
    /// run waits longer on a loaded machine. So the run's lab clock stands
    /// still while any request waits here, and tokens age only while
    /// requests are really out.
    async fn exchange_slot(&self) -> slots::Slot<'_> {
        self.in_flight.acquire(self.slot_clock.as_ref(), None).await
    }

    /// Takes `lock` for `lane`, which got 401 with `used`; a lane that has
    /// to wait says so on the timeline (`queued`) and parks until woken.
    async fn take_lock<'a>(
        &self,
        lock: &'a slots::Slots,
        lane: Lane,
        used: &Token,
    ) -> slots::Slot<'a> {
        if let Some(free) = lock.try_acquire(Some(lane)) {
            return free;
        }
        self.recorder.record(
            lane,
            EventKind::Queued {
                jti: Some(used.jti.clone()),
            },
        );
        lock.acquire(None, Some(lane)).await
    }

    fn next_attempt(&self) -> u64 {
        self.next_attempt.fetch_add(1, Ordering::Relaxed)
    }

    /// The token in the store right now.
    pub fn current(&self) -> Option<Token> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Token>> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The tab that `lane` belongs to, when the run has several (store
    /// events name it then; with one tab there is nobody else to blame).
    fn tab_of(&self, lane: Lane) -> Option<TabNo> {
        lane.tab().filter(|_| self.several_tabs)
    }

    fn store_token(&self, lane: Lane, token: Token) {
        let mut store = self.lock();
        // The setup's login stores the credential a cold start begins with.
        if lane != Lane::Client {
            self.cold.store(false, Ordering::SeqCst);
        }
        // Record under the lock so the timeline's order is the store's order.
        self.recorder.record(
            Lane::Client,
            EventKind::TokenStored {
                jti: token.jti.clone(),
                tab: self.tab_of(lane),
                refresh: token.refresh.as_ref().map(|r| r.name.clone()),
            },
        );
        *store = Some(token);
    }

    /// Clears the store because `lane`'s refresh of `jti` was refused;
    /// records a logout only if there was a token to lose.
    fn log_out(&self, lane: Lane, jti: &str, reason: Reason) {
        let mut store = self.lock();
        if store.take().is_some() {
            self.recorder.record(
                Lane::Client,
                EventKind::LoggedOut {
                    jti: jti.to_owned(),
                    reason,
                    tab: self.tab_of(lane),
                },
            );
        }
    }

    /// Sends one attempt and records its response; returns the status
    /// (0 when the server could not be reached at all).
    async fn send(
        &self,
        lane: Lane,
        route: Route,
        token: Option<&Token>,
        attempt: u64,
        exchange: Exchange,
    ) -> u16 {
        let mut request = self
            .http
            .get(format!("{}{route}", self.base_url))
            .header(LANE_HEADER, lane.to_string())
            .header(ATTEMPT_HEADER, attempt)
            .header(EXCHANGE_HEADER, exchange.as_str());
        if let Some(token) = token {
            request = request.bearer_auth(&token.raw);
        }
        let (status, reason) = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                (status, reason_of(&body))
            }
            Err(err) => {
                tracing::warn!("{lane} {route}: no answer: {err}");
                (0, Some(Reason::Transport))
            }
        };
        self.recorder.record(
            lane,
            EventKind::Response {
                attempt,
                route,
                status,
                reason,
                jti: token.map(|t| t.jti.clone()),
            },
        );
        status
    }

    /// One refresh call presenting `used`; records both ends. On success the
    /// new token is returned (storing it is the strategy's business).
    async fn refresh(&self, lane: Lane, used: &Token) -> Result<Token, Reason> {
        let _slot = self.exchange_slot().await;
        let attempt = self.next_attempt();
        let credential = used.credential().to_owned();
        self.recorder.record(
            lane,
            EventKind::RefreshSent {
                attempt,
                jti: Some(credential.clone()),
            },
        );
        let request = self
            .http
            .post(format!("{}{}", self.base_url, Route::Refresh))
            .header(LANE_HEADER, lane.to_string())
            .header(ATTEMPT_HEADER, attempt)
            .header(EXCHANGE_HEADER, Exchange::Refresh.as_str());
        let request = match &used.refresh {
            // RFC 6749 §6: the refresh token in a form body.
            Some(refresh) => request.header(reqwest::header::CONTENT_TYPE, FORM).body(
                serde_urlencoded::to_string([
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.raw.as_str()),
                ])
                .unwrap_or_default(),
            ),
            // The article: the expired access token is the credential.
            None => request.bearer_auth(&used.raw),
        };
        let result = request.send().await;
        let lost = |err: reqwest::Error| {
            // The timeline says so; a lab run may lose answers on purpose.
            tracing::debug!("{lane} refresh: no answer: {err}");
            (0, serde_json::json!({"reason": Reason::Transport}))
        };
        let (status, body) = match result {
            Ok(response) => {
                let status = response.status().as_u16();
                // An answer that breaks off is as lost as one that never came.
                match response.bytes().await {
                    Ok(bytes) => (
                        status,
                        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                    ),
                    Err(err) => lost(err),
                }
            }
            Err(err) => lost(err),
        };
        let fresh = Token::from_answer(&body).filter(|_| status == 200);
        let reason = if fresh.is_some() {
            None
        } else {
            reason_of(&body)
        };
        self.recorder.record(
            lane,
            EventKind::RefreshDone {
                attempt,
                status,
                jti: Some(credential),
                new_jti: fresh.as_ref().map(|t| t.jti.clone()),
                reason,
                new_refresh: fresh
                    .as_ref()
                    .and_then(|t| t.refresh.as_ref())
                    .map(|r| r.name.clone()),
            },
        );
        // A refusal without a reason we know is still a refusal of the grant.
        fresh.ok_or(reason.unwrap_or(Reason::Malformed))
    }

    /// Refresh, then store the new token or log out: the step every
    /// strategy ends with, however many requests share it. A lost answer is
    /// no refusal: the tab keeps what it holds (which the server may have
    /// rotated away meanwhile).
    async fn refresh_and_store(&self, lane: Lane, used: &Token) -> Result<Token, Reason> {
        match self.refresh(lane, used).await {
            Ok(fresh) => {
                self.store_token(lane, fresh.clone());
                Ok(fresh)
            }
            Err(Reason::Transport) => Err(Reason::Transport),
            Err(reason) => {
                self.log_out(lane, used.credential(), reason);
                Err(reason)
            }
        }
    }
}

/// The `reason` field of an error body, if there is one the lab knows.
fn reason_of(body: &Value) -> Option<Reason> {
    body.get("reason")
        .and_then(|reason| Reason::deserialize(reason).ok())
}

/// Failures of the setup steps (a logical request never fails this way: its
/// failure is an [`Outcome`]).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("HTTP error: {0}")]
    Http(#[from] reqwest::Error),
    #[error("login refused: {0}")]
    Login(String),
}
