//! Clients that run in the lab's page (the browser runtime, docs/design.md
//! "Clients in the page").
//!
//! A browser run has the same server, clock and network as any run, but no
//! reqwest client: its tab is a Web Worker of the lab's page that calls
//! `fetch` on `/lab/runs/{id}/api/…`. That path leads here, to the run's own
//! auth routes, called in-process. Standing at the tab's edge of the
//! network, this is also where the tab's sends and answers are recorded —
//! the moment the request leaves the page and the moment the answer gets
//! back — so a browser run's timeline has the same events as a Rust run's.
//! What only the page knows (a request queued, a token stored, a logout, a
//! request done) it reports on `/lab/runs/{id}/page`, before its next
//! exchange, so the timeline keeps the page's order.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;
use tokio::sync::oneshot;
use tower::ServiceExt;

use crate::motion::{Motion, PageProgress};
use crate::network::Network;
use crate::protocol::views::{StrategyView, TabView};
use crate::protocol::wire::{PageEnd, PageEvent, PageReport};
use crate::protocol::{Exchange, Lane, LaneKind, Route, TabNo};
use crate::server::{
    self, tokens, ApiError, AuthState, ATTEMPT_HEADER, EXCHANGE_HEADER, LANE_HEADER,
};
use crate::settings::RunSettings;
use crate::timeline::{EventKind, Recorder};

/// Largest answer of the auth API the page's edge reads to record it: token
/// answers and error bodies are well below a kilobyte.
const ANSWER_LIMIT: usize = 64 * 1024;

/// What a page may send for one run, per request of the run (and a base
/// for the run's setup): a request is sent, refused, refreshed, retried and
/// reported done in well under these. A module that loops, or a page that
/// floods, meets them instead of the lab's memory.
pub const PAGE_EVENTS_PER_REQUEST: usize = 8;
pub const PAGE_EXCHANGES_PER_REQUEST: usize = 8;
/// Reports per exchange the page may send: one before each, one when it
/// caught up, and some to spare.
pub const PAGE_REPORTS_PER_EXCHANGE: usize = 4;
const PAGE_BUDGET_BASE: usize = 32;

/// Runs that ended lately, each with what a late caller is checked against
/// (a live run's owner; nothing for an explored one). A page's report may
/// be on its way when its run ends (its tab failed and the page says so
/// too, or the explorer let the run go): it is taken in and ignored, not
/// answered as an unknown run, which the browser logs as an error.
pub struct EndedRuns<T> {
    kept: usize,
    list: Mutex<VecDeque<(u64, T)>>,
}

impl<T> EndedRuns<T> {
    /// Remembers the last `kept` ended runs.
    pub const fn new(kept: usize) -> Self {
        Self {
            kept,
            list: Mutex::new(VecDeque::new()),
        }
    }

    fn list(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, T)>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `id` ends: `leave` takes it out of the live runs (and gives what
    /// to remember, or None to remember nothing). The list stays locked
    /// while it leaves, so a report that no longer finds the run live
    /// finds it here: never in neither (that was a 404 now and then).
    pub fn retire(&self, id: u64, leave: impl FnOnce() -> Option<T>) {
        let mut list = self.list();
        let Some(kept) = leave() else {
            return;
        };
        if list.len() == self.kept {
            list.pop_front();
        }
        list.push_back((id, kept));
    }

    /// True when run `id` (as the route names it) ended lately and `reaches`
    /// what was kept of it.
    pub fn lately(&self, id: &str, reaches: impl Fn(&T) -> bool) -> bool {
        let Ok(number) = id.parse::<u64>() else {
            return false;
        };
        self.list()
            .iter()
            .any(|(ended, kept)| *ended == number && reaches(kept))
    }
}

/// The lab's side of a tab that runs in the page.
pub struct PageClient {
    api: Router,
    recorder: Recorder,
    motion: Arc<Motion>,
    network: Arc<Network>,
    /// The jti the tabs' shared storage holds, as their reports tell (for
    /// the network view).
    token: Mutex<Option<String>>,
    end: Mutex<Option<oneshot::Sender<PageEnd>>>,
    /// Why the page ended the run, when its module failed (an exception,
    /// an endless loop): an explored order ends there, in an error.
    failure: Mutex<Option<String>>,
    lanes: Lanes,
    sent: Mutex<Sent>,
    /// The run's tabs (1..=8), each a Worker of the page.
    tabs: TabNo,
    /// OAuth mode: the refresh token the setup's login left (the page asks
    /// for it once, `GET /lab/runs/{id}/page`), and the refresh token each
    /// access token came with, by access jti, so a token the page stores is
    /// recorded with its refresh token as a Rust tab's is.
    oauth: Option<Mutex<OauthSession>>,
}

/// What an OAuth-mode page's tabs hold beside the access token.
#[derive(Default)]
struct OauthSession {
    login_refresh: Option<String>,
    refresh_of: std::collections::HashMap<String, String>,
}

/// The request lanes a run was started with: what a page may report on.
struct Lanes {
    tabs: TabNo,
    secret: u32,
    public: u32,
    late: u32,
    /// The proactive strategy's timer may queue a refresh, never finish a request.
    timer: bool,
}

impl Lanes {
    fn of(settings: &RunSettings) -> Self {
        Lanes {
            tabs: tab_count(settings),
            secret: settings.secret,
            public: settings.public,
            late: u32::from(settings.late),
            timer: true,
        }
    }

    /// Every tab fires the run's requests.
    fn requests(&self) -> usize {
        (self.secret + self.public + self.late) as usize * usize::from(self.tabs)
    }

    /// `Ok` for a lane of this run (in one of its tabs) that may carry a
    /// request's end (`done`), or the refusal.
    fn check(&self, lane: Lane, done: bool) -> Result<(), String> {
        let fits = match lane {
            Lane::Request(tab, kind, n) if (1..=self.tabs).contains(&tab) => {
                let max = match kind {
                    LaneKind::Secret => self.secret,
                    LaneKind::Public => self.public,
                    LaneKind::Late => self.late,
                    LaneKind::Timer => u32::from(self.timer && !done),
                };
                (1..=max).contains(&n)
            }
            _ => false,
        };
        if fits {
            return Ok(());
        }
        Err(format!(
            "{lane} is not a lane of this run: it has secret#1..{}, public#1..{}{} in {} tab{}",
            self.secret,
            self.public,
            if self.late > 0 { " and late#1" } else { "" },
            self.tabs,
            if self.tabs == 1 { "" } else { "s" }
        ))
    }
}

/// What the page has sent for its run so far, against its budget.
#[derive(Default)]
struct Sent {
    events: usize,
    exchanges: usize,
    reports: usize,
    done: HashSet<Lane>,
}

impl PageClient {
    /// The tabs of a run on `state` with `settings`; `end` hears how the
    /// page ended it.
    pub fn new(
        state: Arc<AuthState>,
        settings: &RunSettings,
        end: oneshot::Sender<PageEnd>,
    ) -> Self {
        let motion = state.network.motion();
        motion.expect_page();
        state.network.order_by_attempt();
        PageClient {
            recorder: state.recorder.clone(),
            network: state.network.clone(),
            api: server::app(state),
            motion,
            token: Mutex::new(None),
            end: Mutex::new(Some(end)),
            failure: Mutex::new(None),
            lanes: Lanes::of(settings),
            sent: Mutex::new(Sent::default()),
            tabs: tab_count(settings),
            oauth: (settings.mode == crate::settings::Mode::Oauth)
                .then(|| Mutex::new(OauthSession::default())),
        }
    }

    fn oauth(&self) -> Option<std::sync::MutexGuard<'_, OauthSession>> {
        self.oauth
            .as_ref()
            .map(|session| session.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The session the setup's login left for the page: in OAuth mode its
    /// refresh token (the access token came on the start line), else none.
    pub fn session(&self) -> Value {
        let refresh = self
            .oauth()
            .and_then(|session| session.login_refresh.clone());
        serde_json::json!({ "refresh_token": refresh })
    }

    fn budget(&self, per_request: usize) -> usize {
        self.lanes.requests() * per_request + PAGE_BUDGET_BASE
    }

    fn sent(&self) -> std::sync::MutexGuard<'_, Sent> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one more exchange, or refuses it past the run's budget.
    fn count_exchange(&self) -> Result<(), ApiError> {
        let budget = self.budget(PAGE_EXCHANGES_PER_REQUEST);
        let mut sent = self.sent();
        if sent.exchanges >= budget {
            return Err(ApiError::TooMany {
                what: format!(
                    "this run's page sent {budget} exchanges, its limit ({PAGE_EXCHANGES_PER_REQUEST} per request + {PAGE_BUDGET_BASE}): a loop in the client? Start a new run"
                ),
                retry_after_s: 1,
            });
        }
        sent.exchanges += 1;
        Ok(())
    }

    /// Logs in through the run's API (the setup of every case but guest)
    /// and records the stored token, as a Rust tab's login does.
    pub async fn login(&self, login: &str, attempt: u64) -> Result<String, String> {
        let body = serde_json::json!({"login": login, "password": "lab"}).to_string();
        let request = Request::post(Route::Login.path())
            .header(header::CONTENT_TYPE, "application/json")
            .header(LANE_HEADER, Lane::Client.to_string())
            .header(ATTEMPT_HEADER, attempt)
            .header(EXCHANGE_HEADER, Exchange::Login.as_str())
            .body(Body::from(body))
            .map_err(|err| err.to_string())?;
        let response = self.call(request).await;
        let status = response.status();
        let bytes = to_bytes(response.into_body(), ANSWER_LIMIT)
            .await
            .map_err(|err| err.to_string())?;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let raw = answer
            .get("token")
            .or_else(|| answer.get("access_token"))
            .and_then(Value::as_str)
            .filter(|_| status.is_success())
            .ok_or_else(|| format!("login refused: {answer}"))?;
        let jti = tokens::peek_jti(raw).unwrap_or_else(|| "?".into());
        if let (Some(mut session), Some(refresh)) = (
            self.oauth(),
            answer.get("refresh_token").and_then(Value::as_str),
        ) {
            session.login_refresh = Some(refresh.to_owned());
            session
                .refresh_of
                .insert(jti.clone(), refresh_name(refresh));
        }
        self.stored(jti, None);
        Ok(raw.to_owned())
    }

    async fn call(&self, request: Request) -> Response {
        // The router's error type is Infallible: every failure is a response.
        match self.api.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    fn token(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.token.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stored(&self, jti: String, tab: Option<TabNo>) {
        // OAuth mode: the refresh token that came with this access token.
        let refresh = self
            .oauth()
            .and_then(|session| session.refresh_of.get(&jti).cloned());
        let mut token = self.token();
        self.recorder.record(
            Lane::Client,
            EventKind::TokenStored {
                jti: jti.clone(),
                tab: tab.filter(|_| self.tabs > 1),
                refresh,
            },
        );
        *token = Some(jti);
    }

    /// What the tab holds, for the network view; the module's own memory
    /// is shown by the page.
    pub fn tab_view(&self) -> TabView {
        TabView {
            token: self.token().clone(),
            strategy: StrategyView::in_page(),
            other_tabs: vec![StrategyView::in_page(); usize::from(self.tabs) - 1],
        }
    }

    /// One exchange of the page with the run's API: `rest` is the path
    /// below `/api/`. Records the send and the answer at the tab's edge.
    pub async fn exchange(&self, rest: &str, request: Request) -> Result<Response, ApiError> {
        self.count_exchange()?;
        self.network.touch();
        let answer = self.exchange_counted(rest, request).await;
        self.network.touch();
        Ok(answer)
    }

    async fn exchange_counted(&self, rest: &str, request: Request) -> Response {
        let (mut parts, body) = request.into_parts();
        let path = format!("/api/{rest}");
        let target = match parts.uri.query() {
            Some(query) => format!("{path}?{query}"),
            None => path.clone(),
        };
        parts.uri = match target.parse::<Uri>() {
            Ok(uri) => uri,
            Err(_) => return server::not_found(parts.uri).await.into_response(),
        };
        let mut tag = EdgeTag::read(&parts.headers, Route::from_path(&path));
        // An OAuth refresh presents its refresh token in a form body
        // (RFC 6749 §6): read it to name the credential, then pass it on.
        let body = match tag.as_mut() {
            Some(tag) if self.oauth.is_some() && tag.exchange == Exchange::Refresh => {
                let Ok(bytes) = to_bytes(body, ANSWER_LIMIT).await else {
                    return server::lost_answer();
                };
                tag.jti = form_refresh_token(&bytes).map(|raw| refresh_name(&raw));
                Body::from(bytes)
            }
            _ => body,
        };
        let tab = tag.as_ref().and_then(|tag| tag.lane.tab()).unwrap_or(1);
        let _turn = Turn::start(&self.motion, tab);
        if let Some(tag) = &tag {
            self.recorder.record(tag.lane, tag.sent());
        }
        let response = self.call(Request::from_parts(parts, body)).await;
        let Some(tag) = tag else {
            return response;
        };
        let (parts, body) = response.into_parts();
        let Ok(bytes) = to_bytes(body, ANSWER_LIMIT).await else {
            // The lab's network lost this answer: the page's fetch fails too.
            let lost = serde_json::json!({"reason": crate::protocol::Reason::Transport});
            self.recorder.record(tag.lane, tag.answered(0, &lost));
            return server::lost_answer();
        };
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let answered = tag.answered(parts.status.as_u16(), &answer);
        if let EventKind::RefreshDone {
            new_jti: Some(jti),
            new_refresh: Some(refresh),
            ..
        } = &answered
        {
            if let Some(mut session) = self.oauth() {
                session.refresh_of.insert(jti.clone(), refresh.clone());
            }
        }
        self.recorder.record(tag.lane, answered);
        Response::from_parts(parts, Body::from(bytes))
    }

    /// A report of the page: its events in its order, then its progress,
    /// then (last) its end. Refused whole if an event is not the page's to
    /// report, so a timeline never holds half a report.
    pub fn report(&self, report: PageReport) -> Result<(), ApiError> {
        self.network.touch();
        for event in &report.events {
            event.check().map_err(ApiError::BadJson)?;
            // A lane's tab is checked with the lane below (the refusal names
            // the lane); the store's events name their tab on their own.
            if !matches!(
                event,
                PageEvent::Queued { .. } | PageEvent::RequestDone { .. }
            ) {
                self.check_tab(event_tab(event))?;
            }
        }
        for progress in &report.tabs {
            self.check_tab(Some(progress.tab))?;
        }
        // Checked against the run, and counted, before anything is recorded.
        let mut sent = self.sent();
        let reports = self.budget(PAGE_EXCHANGES_PER_REQUEST) * PAGE_REPORTS_PER_EXCHANGE;
        if sent.reports >= reports {
            return Err(ApiError::TooMany {
                what: format!("this run's page sent {reports} reports, its limit: a loop in the client? Start a new run"),
                retry_after_s: 1,
            });
        }
        let events = self.budget(PAGE_EVENTS_PER_REQUEST);
        if sent.events + report.events.len() > events {
            return Err(ApiError::TooMany {
                what: format!(
                    "this run's page may report {events} events ({PAGE_EVENTS_PER_REQUEST} per request + {PAGE_BUDGET_BASE}); it has reported {} and this report has {}",
                    sent.events,
                    report.events.len()
                ),
                retry_after_s: 1,
            });
        }
        let mut done = Vec::new();
        for event in &report.events {
            let checked = match event {
                PageEvent::Queued { lane, .. } => self.lanes.check(*lane, false),
                PageEvent::RequestDone { lane, .. } => {
                    self.lanes.check(*lane, true).and_then(|()| {
                        if sent.done.contains(lane) || done.contains(lane) {
                            Err(format!("{lane} already reported its request done"))
                        } else {
                            done.push(*lane);
                            Ok(())
                        }
                    })
                }
                PageEvent::TokenStored { .. } | PageEvent::LoggedOut { .. } => Ok(()),
            };
            checked.map_err(ApiError::BadJson)?;
        }
        sent.reports += 1;
        sent.events += report.events.len();
        sent.done.extend(done);
        drop(sent);
        for event in report.events {
            match event {
                PageEvent::Queued { lane, jti } => {
                    self.recorder.record(lane, EventKind::Queued { jti })
                }
                PageEvent::TokenStored { jti, tab } => self.stored(jti, tab),
                PageEvent::LoggedOut { jti, reason, tab } => {
                    let mut token = self.token();
                    if token.take().is_some() {
                        self.recorder.record(
                            Lane::Client,
                            EventKind::LoggedOut {
                                jti,
                                reason,
                                tab: tab.filter(|_| self.tabs > 1),
                            },
                        );
                    }
                }
                PageEvent::RequestDone { lane, ok, status } => self
                    .recorder
                    .record(lane, EventKind::RequestDone { ok, status }),
            }
        }
        let tabs = if report.tabs.is_empty() {
            [(1, (report.started, report.received))].into()
        } else {
            report
                .tabs
                .iter()
                .map(|progress| (progress.tab, (progress.started, progress.received)))
                .collect()
        };
        self.motion.page_report(PageProgress {
            seq: report.seq,
            tabs,
            relaying: report.relaying,
        });
        if let Some(end) = report.end {
            if let PageEnd::Failed { message } = &end {
                self.failure
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert_with(|| message.clone());
            }
            // The page's last word: whatever it still relays between its
            // tabs (a storage event to a tab whose requests all returned)
            // can change nothing the lab records, so the run has settled.
            self.motion.finish();
            if let Some(sender) = self.end.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = sender.send(end);
            }
        }
        Ok(())
    }

    /// The message the page ended the run with, if its module failed.
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl PageClient {
    /// Refuses a tab the run does not have.
    fn check_tab(&self, tab: Option<TabNo>) -> Result<(), ApiError> {
        match tab {
            Some(tab) if tab == 0 || tab > self.tabs => Err(ApiError::BadJson(format!(
                "tab {tab}: this run has {} tab{}",
                self.tabs,
                if self.tabs == 1 { "" } else { "s" }
            ))),
            _ => Ok(()),
        }
    }
}

/// The tab a page event names, by its lane or its own field.
fn event_tab(event: &PageEvent) -> Option<TabNo> {
    match event {
        PageEvent::Queued { lane, .. } | PageEvent::RequestDone { lane, .. } => lane.tab(),
        PageEvent::TokenStored { tab, .. } | PageEvent::LoggedOut { tab, .. } => *tab,
    }
}

/// An exchange's turn in the run's motion: it runs from its arrival until
/// its answer is handed back, also when the page gives up on it midway.
struct Turn<'a>(&'a Motion, TabNo);

impl<'a> Turn<'a> {
    fn start(motion: &'a Motion, tab: TabNo) -> Self {
        motion.page_arrived(tab);
        Turn(motion, tab)
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.page_answered(self.1);
    }
}

/// What the page's harness put on a request: which lane, which attempt,
/// what for. Requests without it pass unrecorded.
struct EdgeTag {
    lane: Lane,
    route: Route,
    attempt: u64,
    exchange: Exchange,
    jti: Option<String>,
}

impl EdgeTag {
    fn read(headers: &HeaderMap, route: Option<Route>) -> Option<Self> {
        let tag = server::LabTag::from_headers(headers);
        let lane = tag.lane.filter(|lane| lane.kind().is_some())?;
        Some(EdgeTag {
            lane,
            route: route?,
            attempt: tag.attempt?,
            exchange: tag.exchange?,
            jti: server::presented_jti(headers),
        })
    }

    fn sent(&self) -> EventKind {
        let (attempt, route, jti) = (self.attempt, self.route, self.jti.clone());
        match self.exchange {
            Exchange::Refresh => EventKind::RefreshSent { attempt, jti },
            Exchange::Retry => EventKind::RetrySent {
                attempt,
                route,
                jti,
            },
            Exchange::Request | Exchange::Login => EventKind::RequestSent {
                attempt,
                route,
                jti,
            },
        }
    }

    fn answered(&self, status: u16, answer: &Value) -> EventKind {
        let reason = answer
            .get("reason")
            .and_then(|reason| serde_json::from_value(reason.clone()).ok());
        match self.exchange {
            Exchange::Refresh => {
                let new_jti = answer
                    .get("token")
                    .or_else(|| answer.get("access_token"))
                    .and_then(Value::as_str)
                    .filter(|_| status == 200)
                    .and_then(tokens::peek_jti);
                let new_refresh = answer
                    .get("refresh_token")
                    .and_then(Value::as_str)
                    .filter(|_| new_jti.is_some())
                    .map(refresh_name);
                EventKind::RefreshDone {
                    attempt: self.attempt,
                    status,
                    jti: self.jti.clone(),
                    reason: if new_jti.is_some() { None } else { reason },
                    new_jti,
                    new_refresh,
                }
            }
            _ => EventKind::Response {
                attempt: self.attempt,
                route: self.route,
                status,
                reason,
                jti: self.jti.clone(),
            },
        }
    }
}

/// An OAuth refresh token's name on the timeline: `r2` of `r2.<secret>`.
fn refresh_name(raw: &str) -> String {
    raw.split('.').next().unwrap_or("?").to_owned()
}

/// The `refresh_token` of a refresh's form body, if it has one.
fn form_refresh_token(bytes: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).ok()?;
    pairs
        .into_iter()
        .find(|(key, value)| key == "refresh_token" && !value.is_empty())
        .map(|(_, value)| value)
}

/// How many tabs (Workers) a run's page opens.
fn tab_count(settings: &RunSettings) -> TabNo {
    (settings.tab_numbers().count() as TabNo).max(1)
}

#[cfg(test)]
mod tests {
    use super::EndedRuns;
    use std::sync::mpsc;

    /// A report asking while a run leaves the live runs waits for it to be
    /// remembered: it never finds the run in neither place.
    #[test]
    fn a_run_leaving_is_never_in_neither_place() {
        let ended: &'static EndedRuns<()> = Box::leak(Box::new(EndedRuns::new(2)));
        let (asking, asked) = mpsc::channel();
        let mut reader = None;
        ended.retire(7, || {
            // Taken out of the live runs here; a report looks now.
            reader = Some(std::thread::spawn(move || {
                asking.send(()).unwrap();
                ended.lately("7", |()| true)
            }));
            asked.recv().unwrap();
            Some(())
        });
        assert!(reader.unwrap().join().unwrap());
    }

    #[test]
    fn keeps_the_last_few_and_checks_who_asks() {
        let ended = EndedRuns::new(2);
        for (id, owner) in [(1, "a"), (2, "b"), (3, "a")] {
            ended.retire(id, || Some(owner));
        }
        ended.retire(4, || None); // a run that never started: nothing kept
        assert!(!ended.lately("1", |_| true), "only the last two are kept");
        assert!(ended.lately("2", |o| *o == "b"));
        assert!(!ended.lately("2", |o| *o == "a"), "another owner's run");
        assert!(ended.lately("3", |_| true));
        assert!(!ended.lately("4", |_| true));
        assert!(!ended.lately("x", |_| true));
    }
}
