//! The scenario runner: one case, one strategy, one policy, one fresh server.
//!
//! Every run gets its own auth server (own key, own clock, own revocation
//! store, own network) on 127.0.0.1, so runs never share state and two runs
//! side by side (compare mode) cannot mix their timelines.
//!
//! [`start`] sets a run up and lets it go; the returned [`LiveRun`] exposes
//! its network (pause, step, deliver) and its tab while it runs, and
//! [`LiveRun::finish`] waits for the report. [`run`] does both, stepping a
//! held run through to its end in due order after its delivery script.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, Notify};
use tokio::task::{AbortHandle, JoinHandle};

use crate::challenge::{self, ChallengeId};
use crate::client::{Client, ClientError};
use crate::narrate;
use crate::network::{Action, Lifecycle, NetError, Network};
use crate::page::PageClient;
use crate::protocol::views::TabView;
use crate::protocol::wire::PageEnd;
use crate::protocol::{Lane, LaneKind, LegId, LostAnswer, TabNo};
use crate::server::{AuthServer, AuthState};
use crate::settings::{Case, NetworkDriver, RunSettings, Runtime, SettingsError};
use crate::timeline::{Event, EventKind, Recorder};
use crate::verdict::Verdict;

/// Who logs in; shows up as `sub` in every token.
pub const LAB_USER: &str = "ada";

/// How long the lab waits, in lab seconds, with requests left that nothing
/// in flight can ever finish, before it calls the run a `hang`. It does
/// not really wait: once the run is quiet, the lab clock jumps this far
/// (Web Locks, a frozen tab's lock, never time out, so waiting longer
/// would change nothing).
pub const HANG_HORIZON_S: u64 = 60;

/// Everything a finished run produced.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunReport {
    pub settings: RunSettings,
    pub events: Vec<Event>,
    pub verdict: Verdict,
    /// Lab time at the end, so a viewer can count down to `exp`.
    pub lab_now_ms: u64,
    /// The legs a step or hand run delivered, in order: `settings` with
    /// `deliver` set to this list replays the run exactly. Empty for timer
    /// runs, whose order the timer chose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivered: Vec<LegId>,
    /// Refresh answers the network lost, in order: `settings` with `drop`
    /// set to this list (and `deliver` to `delivered`) replays the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<LostAnswer>,
    /// One sentence per event, in the same order (docs/design.md, "Narration").
    #[serde(default)]
    pub narration: Vec<String>,
    /// The challenges this run solved.
    #[serde(default)]
    pub solved: Vec<ChallengeId>,
}

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot start the auth server: {0}")]
    Io(#[from] std::io::Error),
    #[error("setup failed: {0}")]
    Client(#[from] ClientError),
    #[error("a request task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("{0}")]
    Page(String),
    #[error("delivery {position} of the script: {source}")]
    Script {
        position: usize,
        #[source]
        source: NetError,
    },
}

/// The client side of a run: the engine's own tab, or one in the lab's page.
#[derive(Clone)]
pub enum Side {
    Rust(Arc<Client>),
    Page(Arc<PageClient>),
}

impl Side {
    /// What the tab holds now, for the network view.
    pub fn tab_view(&self) -> TabView {
        match self {
            Side::Rust(client) => client.tab_view(),
            Side::Page(page) => page.tab_view(),
        }
    }
}

/// A run that is under way.
pub struct LiveRun {
    pub network: Arc<Network>,
    pub client: Side,
    /// `None` once [`LiveRun::finish`] took it.
    task: Option<JoinHandle<Result<RunReport, LabError>>>,
}

impl LiveRun {
    /// Waits for the run to end and returns its report.
    pub async fn finish(mut self) -> Result<RunReport, LabError> {
        // `finish` consumes the run, so the task is always still here.
        let Some(task) = self.task.as_mut() else {
            return Err(std::io::Error::other("the run was already finished").into());
        };
        let report = task.await?;
        self.task = None;
        report
    }
}

impl Drop for LiveRun {
    fn drop(&mut self) {
        // A run nobody waits for any more (the viewer left, or it was
        // abandoned) stops here. Closing the network drops the legs in
        // flight, so handlers parked on them return and free their sockets.
        if let Some(task) = &self.task {
            task.abort();
        }
        self.network.close();
    }
}

/// Runs one scenario and records everything into a fresh recorder. A step
/// or hand run delivers its script, then the rest in due order.
pub async fn run(settings: &RunSettings) -> Result<RunReport, LabError> {
    run_recorded(settings, Recorder::new()).await
}

/// [`run`] into `recorder` (subscribe to it first to watch live).
pub async fn run_recorded(
    settings: &RunSettings,
    recorder: Recorder,
) -> Result<RunReport, LabError> {
    let live = start(settings, recorder).await?;
    if settings.network != NetworkDriver::Timer {
        // Step until nothing is in flight: then every lane is done.
        while live.network.step().await.is_ok() {}
    }
    live.finish().await
}

/// Sets a run up (server, login, the case's jump in time), starts its lanes
/// and returns while they run.
pub async fn start(settings: &RunSettings, recorder: Recorder) -> Result<LiveRun, LabError> {
    settings.validate()?;
    if settings.runtime == Runtime::Browser {
        return Err(LabError::Page(
            "the browser runtime runs in the lab's page: open the lab (refresh-race serve, or the desktop app) and pick it there".into(),
        ));
    }
    let state = AuthState::for_run(settings, recorder.clone());
    let server = AuthServer::start(state.clone()).await?;
    let network = state.network.clone();
    let motion = network.motion();
    let client = Arc::new(
        Client::for_run(
            &server.base_url(),
            settings,
            recorder.clone(),
            motion.clone(),
        )
        .holding_clock_while_queued(state.clock.clone()),
    );

    // Setting up (the login, spawning every lane) measures the machine, not
    // the race: the lab clock stands still until the burst has left, so a
    // busy machine does not eat into "expired 1 s ago".
    let setting_up = state.clock.hold();
    if settings.case != Case::Guest {
        client.login(LAB_USER).await?;
    }
    come_back_later(settings, &state);
    network.mark_burst();
    let timer = tokio::spawn(network.clone().run_timer());
    let life = Arc::new_cyclic(|me| RunLife {
        me: me.clone(),
        client: client.clone(),
        network: Arc::downgrade(&network),
        recorder: recorder.clone(),
        motion: motion.clone(),
        book: Mutex::new(Book::default()),
        changed: Notify::new(),
    });
    network.set_lifecycle(life.clone());
    // The burst: every lane is a thread of the run's motion. Woken in lane
    // order, so a held run starts them one after another, always alike.
    motion.enter();
    // Every tab fires the same requests: the user reopened them all.
    let timers = client.timer_lanes(state.clock.now_ms());
    let requests = settings.tab_numbers().flat_map(|tab| {
        (1..=settings.secret)
            .map(move |n| Lane::Request(tab, LaneKind::Secret, n))
            .chain((1..=settings.public).map(move |n| Lane::Request(tab, LaneKind::Public, n)))
            .chain(
                settings
                    .late
                    .then_some(Lane::Request(tab, LaneKind::Late, 1)),
            )
    });
    for lane in requests.chain(timers) {
        life.spawn_lane(lane);
    }
    drop(setting_up);
    motion.park();
    // Actions at point 0: before the first delivery.
    network.act_reached().await;

    let task_network = network.clone();
    let task_settings = settings.clone();
    let task = tokio::spawn(async move {
        let _timer = AbortOnDrop(timer);
        life.play_out(&task_network).await;
        // Frozen tabs never return, a hang's lanes neither: the run ends
        // without them, and their exchanges are dropped.
        life.abort_all();
        task_network.close();
        // Each request's outcome is in the timeline; here only a panic matters.
        for handle in life.take_handles() {
            if let Err(err) = handle.await {
                if err.is_panic() {
                    return Err(err.into());
                }
            }
        }
        let lab_now_ms = state.clock.now_ms();
        server.shutdown().await;
        let events = recorder.events();
        Ok(report(&task_settings, events, lab_now_ms, &task_network))
    });
    let live = LiveRun {
        network,
        client: Side::Rust(client),
        task: Some(task),
    };
    // On a bad leg the live run is dropped, which stops it and frees what
    // it held.
    live.play_script(settings).await?;
    Ok(live)
}

/// "The user comes back later": moves the lab clock past exp (and past the
/// refresh window for case 4) instead of waiting.
fn come_back_later(settings: &RunSettings, state: &AuthState) {
    let ttl_ms = settings.access_ttl_s * 1000;
    let travel_ms = match settings.case {
        Case::Guest | Case::Valid | Case::ColdStart => 0,
        Case::ExpiredRefreshable => ttl_ms + 1000,
        Case::ExpiredNotRefreshable => ttl_ms + settings.refresh_window_s * 1000 + 1000,
    };
    if travel_ms > 0 {
        let lab_now_ms = state.clock.advance_ms(travel_ms);
        state.recorder.record(
            Lane::Server,
            EventKind::ClockAdvanced {
                by_ms: travel_ms,
                lab_now_ms,
            },
        );
    }
}

/// A browser run: the server, the setup's login and jump in time are the
/// lab's; the lanes are the page's to start once it has the start line
/// (its api path and token). The run ends when the page reports its end.
pub async fn start_in_page(
    settings: &RunSettings,
    recorder: Recorder,
) -> Result<(LiveRun, Option<String>, u64), LabError> {
    settings.validate()?;
    let state = AuthState::for_run(settings, recorder.clone());
    let network = state.network.clone();
    let (end, ended) = oneshot::channel();
    let page = Arc::new(PageClient::new(state.clone(), settings, end));
    let token = match settings.case {
        Case::Guest => None,
        _ => Some(page.login(LAB_USER, 1).await.map_err(LabError::Page)?),
    };
    come_back_later(settings, &state);
    let lab_now_ms = state.clock.now_ms();
    network.mark_burst();
    let timer = tokio::spawn(network.clone().run_timer());
    let task_network = network.clone();
    let task_settings = settings.clone();
    let task = tokio::spawn(async move {
        let _timer = AbortOnDrop(timer);
        let end = ended
            .await
            .map_err(|_| LabError::Page("the page left the run".into()))?;
        let lab_now_ms = state.clock.now_ms();
        match end {
            PageEnd::Done => Ok(report(
                &task_settings,
                recorder.events(),
                lab_now_ms,
                &task_network,
            )),
            PageEnd::Failed { message } => Err(LabError::Page(message)),
        }
    });
    let live = LiveRun {
        network,
        client: Side::Page(page),
        task: Some(task),
    };
    Ok((live, token, lab_now_ms))
}

impl LiveRun {
    /// Delivers the run's script (a replayed or undone hand run) in order.
    pub async fn play_script(&self, settings: &RunSettings) -> Result<(), LabError> {
        self.network
            .deliver_script(&settings.deliver)
            .await
            .map_err(|(position, source)| LabError::Script { position, source })
    }
}

/// A run's lanes while they live, and what carries out its lifecycle
/// actions (sleep, close, freeze), which start and end lanes.
struct RunLife {
    me: Weak<RunLife>,
    client: Arc<Client>,
    network: Weak<Network>,
    recorder: Recorder,
    motion: Arc<crate::motion::Motion>,
    book: Mutex<Book>,
    /// A lane ended.
    changed: Notify,
}

#[derive(Default)]
struct Book {
    /// Lanes still running or waiting.
    live: BTreeMap<Lane, AbortHandle>,
    /// Lanes of a closed tab being ended: each counts as running until its
    /// task is gone (and has released its locks).
    ending: std::collections::BTreeSet<Lane>,
    handles: Vec<JoinHandle<()>>,
}

/// A lane's code and its end, in this order: an aborted lane frees what
/// its code holds (locks) before it stops counting as running.
struct LaneTask {
    run: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    _end: LaneEnd,
}

/// Takes a lane off the book when it ends, returns, panics or is aborted.
struct LaneEnd {
    life: Arc<RunLife>,
    lane: Lane,
}

impl Drop for LaneEnd {
    fn drop(&mut self) {
        let ended = {
            let mut book = self.life.book();
            book.live.remove(&self.lane);
            book.ending.remove(&self.lane)
        };
        self.life.changed.notify_one();
        if ended {
            // Its task is gone, with everything it held.
            self.life.motion.park();
        }
    }
}

/// How a run that stopped moving goes on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quiet {
    /// A sleep was still to come: it happens now.
    Timed,
    /// Requests are left that nothing can ever finish.
    Hang,
}

impl RunLife {
    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts `lane` as a thread of the run's motion (the caller runs).
    fn spawn_lane(self: &Arc<Self>, lane: Lane) {
        let (go, started) = oneshot::channel::<()>();
        let life = self.clone();
        let client = self.client.clone();
        let handle = tokio::spawn(async move {
            let mut task = LaneTask {
                run: Box::pin(async move {
                    let _ = started.await;
                    // The outcome is in the timeline.
                    let _ = client.run_lane(lane).await;
                }),
                _end: LaneEnd {
                    life: life.clone(),
                    lane,
                },
            };
            (&mut task.run).await;
            // Off the book before parking: once the run is settled, the
            // book says who is left.
            drop(task);
            life.motion.park();
        });
        let mut book = self.book();
        book.live.insert(lane, handle.abort_handle());
        book.handles.push(handle);
        drop(book);
        self.motion.wake(move || {
            let _ = go.send(());
        });
    }

    /// Whether a lane is left whose tab is not frozen. Asked each time a
    /// lane ends, so it stops at the first such lane: a scan of every lane
    /// left made a stampede's ends quadratic in its lanes.
    fn has_open_lanes(&self) -> bool {
        self.book()
            .live
            .keys()
            .any(|lane| !lane.tab().is_some_and(|tab| self.client.is_frozen(tab)))
    }

    /// Lanes left whose tab is not frozen.
    fn open_lanes(&self) -> Vec<Lane> {
        let book = self.book();
        book.live
            .keys()
            .filter(|lane| !lane.tab().is_some_and(|tab| self.client.is_frozen(tab)))
            .copied()
            .collect()
    }

    fn lanes_of(&self, tab: TabNo) -> Vec<Lane> {
        let book = self.book();
        book.live
            .keys()
            .filter(|lane| lane.tab() == Some(tab))
            .copied()
            .collect()
    }

    /// Runs until no open lane is left, carrying out a sleep still to come
    /// when the run falls quiet, or ends it with a hang.
    async fn play_out(&self, network: &Network) {
        loop {
            let quiet = tokio::select! {
                _ = self.all_done() => None,
                quiet = self.stuck(network) => Some(quiet),
            };
            {
                // A command under way (a step taking its sleep) may start
                // lanes yet: judge the run once it is done.
                let _turn = network.turn().await;
                let open = self.has_open_lanes();
                let settled = self.motion.is_settled() && network.legs().is_empty();
                match (quiet, open, network.has_timed_action()) {
                    (_, _, true) => {}
                    (None, false, false) => return,
                    (Some(Quiet::Hang), true, false) if settled => {
                        self.hang(network);
                        return;
                    }
                    _ => continue,
                }
            }
            network.act_when_quiet().await;
        }
    }

    /// Returns once every lane left belongs to a frozen tab.
    async fn all_done(&self) {
        loop {
            let changed = self.changed.notified();
            if !self.has_open_lanes() {
                return;
            }
            changed.await;
        }
    }

    /// Returns once the run is settled with nothing in flight while open
    /// lanes are left: nothing can move them but a sleep still to come.
    async fn stuck(&self, network: &Network) -> Quiet {
        let mut busy = self.motion.watch();
        loop {
            if busy.wait_for(|n| *n == 0).await.is_err() {
                return std::future::pending().await;
            }
            // Read the legs, then the motion again: a delivery takes its leg
            // off and wakes its holder under the network's lock, so a run
            // still settled after an empty read was settled with nothing in
            // flight.
            let quiet = network.legs().is_empty() && self.motion.is_settled();
            if quiet && self.has_open_lanes() {
                return match network.has_timed_action() {
                    true => Quiet::Timed,
                    false => Quiet::Hang,
                };
            }
            if busy.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// Records the hang: the lab clock past the horizon, and who waits on what.
    fn hang(&self, network: &Network) {
        let waiting = self.open_lanes();
        let waits = self.client.waits();
        let on = match waits.is_empty() {
            true => "an answer nothing left in flight can bring".to_owned(),
            false => waits
                .into_iter()
                .map(|(_, on)| on)
                .collect::<Vec<_>>()
                .join("; "),
        };
        let by_ms = HANG_HORIZON_S * 1000;
        let lab_now_ms = network.advance_lab_clock(by_ms);
        self.recorder
            .record(Lane::Client, EventKind::ClockAdvanced { by_ms, lab_now_ms });
        self.recorder
            .record(Lane::Client, EventKind::Hang { waiting, on });
    }

    /// Ends every lane left (frozen tabs', a hang's): the run is over.
    fn abort_all(&self) {
        self.motion.finish();
        for handle in self.book().live.values() {
            handle.abort();
        }
    }

    fn take_handles(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut self.book().handles)
    }
}

impl Lifecycle for RunLife {
    fn act(&self, action: Action) {
        let Some(network) = self.network.upgrade() else {
            return;
        };
        match action {
            Action::Sleep { seconds } => {
                let by_ms = seconds * 1000;
                let lab_now_ms = network.advance_lab_clock(by_ms);
                self.recorder
                    .record(Lane::Client, EventKind::ClockAdvanced { by_ms, lab_now_ms });
                let (tabs, lanes) = self.client.wake_lanes(lab_now_ms);
                self.recorder.record(
                    Lane::Client,
                    EventKind::Woke {
                        tabs,
                        lanes: lanes.clone(),
                    },
                );
                // Started as the actor's own threads: it is the one running.
                self.motion.enter();
                if let Some(me) = self.me.upgrade() {
                    for lane in lanes {
                        me.spawn_lane(lane);
                    }
                }
                self.motion.park();
            }
            Action::Close(tab) => {
                self.client.close_tab(tab);
                let abandoned = self.lanes_of(tab);
                {
                    // Aborted before their legs are dropped (a dropped leg
                    // lets its handler answer, and an answer would wake
                    // the lane), off the book at once, and running until
                    // their tasks are gone: the run settles once their
                    // locks are freed.
                    let mut book = self.book();
                    for lane in &abandoned {
                        if let Some(handle) = book.live.remove(lane) {
                            book.ending.insert(*lane);
                            self.motion.enter();
                            handle.abort();
                        }
                    }
                }
                network.abandon_tab(tab);
                self.changed.notify_one();
                self.recorder
                    .record(Lane::Client, EventKind::TabClosed { tab, abandoned });
            }
            Action::Freeze(tab) => {
                self.client.freeze_tab(tab);
                network.freeze_tab(tab);
                let stuck = self.lanes_of(tab);
                self.recorder
                    .record(Lane::Client, EventKind::TabFrozen { tab, stuck });
                self.changed.notify_one();
            }
        }
    }
}

/// Aborts a background task when its owner goes away.
pub(crate) struct AbortOnDrop<T>(pub(crate) JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn report(
    settings: &RunSettings,
    events: Vec<Event>,
    lab_now_ms: u64,
    network: &Network,
) -> RunReport {
    let verdict = Verdict::from_events(&events);
    let delivered = match settings.network {
        NetworkDriver::Timer => Vec::new(),
        NetworkDriver::Step | NetworkDriver::Hand => network.delivered(),
    };
    let narration = narrate::all(settings, &events);
    // Actions taken by hand join the settings at their point: replaying
    // the saved run takes them again.
    let mut settings = settings.clone();
    for (at, action) in network.by_hand() {
        let at = crate::settings::Point::Deliveries(at);
        match action {
            Action::Sleep { seconds } => {
                settings.sleep = Some(crate::settings::Sleep {
                    at_ms: None,
                    after: Some(at),
                    seconds,
                })
            }
            Action::Close(tab) => settings.close.push(crate::settings::TabAt {
                tab: u32::from(tab),
                at,
            }),
            Action::Freeze(tab) => settings.freeze.push(crate::settings::TabAt {
                tab: u32::from(tab),
                at,
            }),
        }
    }
    let mut report = RunReport {
        settings,
        events,
        verdict,
        lab_now_ms,
        delivered,
        dropped: network.dropped(),
        narration,
        solved: Vec::new(),
    };
    report.solved = challenge::solved_by(&report.settings, &report.events, &report.verdict);
    report
}
