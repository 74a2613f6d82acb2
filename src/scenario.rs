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

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::challenge::{self, ChallengeId};
use crate::client::{Client, ClientError};
use crate::narrate;
use crate::network::{NetError, Network};
use crate::page::PageClient;
use crate::protocol::{Lane, LaneKind, LegId, LostAnswer, PageEnd, TabNo, TabView};
use crate::server::{AuthServer, AuthState};
use crate::settings::{Case, NetworkDriver, RunSettings, Runtime, SettingsError};
use crate::timeline::{Event, EventKind, Recorder};
use crate::verdict::Verdict;

/// Who logs in; shows up as `sub` in every token.
pub const LAB_USER: &str = "ada";

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
    let tabs = settings.tab_numbers().count() as TabNo;
    let client = Arc::new(
        Client::with_tabs(
            &server.base_url(),
            settings.strategy,
            tabs,
            settings.cross_tab,
            recorder.clone(),
            motion.clone(),
        )
        .holding_clock_while_queued(state.clock.clone()),
    );

    if settings.case != Case::Guest {
        client.login(LAB_USER).await?;
    }
    come_back_later(settings, &state);
    network.mark_burst();
    let timer = tokio::spawn(network.clone().run_timer());
    // The burst: every lane is a thread of the run's motion. Woken in lane
    // order, so a held run starts them one after another, always alike.
    motion.enter();
    let mut lanes = JoinSet::new();
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
        let (go, started) = oneshot::channel::<()>();
        let client = client.clone();
        let lane_motion = motion.clone();
        lanes.spawn(async move {
            let _ = started.await;
            let outcome = client.run_lane(lane).await;
            lane_motion.park();
            outcome
        });
        motion.wake(move || {
            let _ = go.send(());
        });
    }
    motion.park();

    let task_network = network.clone();
    let task_settings = settings.clone();
    let task = tokio::spawn(async move {
        let _timer = AbortOnDrop(timer);
        // Each request's outcome is in the timeline; here only a panic matters.
        while let Some(finished) = lanes.join_next().await {
            finished?;
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
        Case::Guest | Case::Valid => 0,
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
    let mut report = RunReport {
        settings: settings.clone(),
        events,
        verdict,
        lab_now_ms,
        delivered,
        dropped: network.dropped(),
        narration,
        solved: Vec::new(),
    };
    report.solved = challenge::solved_by(&report);
    report
}
