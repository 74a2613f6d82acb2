//! The scenario runner: one case, one strategy, one policy, one fresh server.
//!
//! Every run gets its own auth server (own key, own clock, own revocation
//! store) on 127.0.0.1, so runs never share state and two runs side by side
//! (compare mode) cannot mix their timelines.

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::client::{Client, ClientError};
use crate::protocol::{Lane, LaneKind};
use crate::server::{AuthServer, AuthState};
use crate::settings::{Case, RunSettings, SettingsError};
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
}

/// Runs one scenario and records everything into a fresh recorder.
pub async fn run(settings: &RunSettings) -> Result<RunReport, LabError> {
    run_recorded(settings, Recorder::new()).await
}

/// Runs one scenario into `recorder` (subscribe to it first to watch live).
pub async fn run_recorded(
    settings: &RunSettings,
    recorder: Recorder,
) -> Result<RunReport, LabError> {
    settings.validate()?;
    let state = AuthState::for_run(settings, recorder.clone());
    let server = AuthServer::start(state.clone()).await?;
    let client = std::sync::Arc::new(
        Client::new(&server.base_url(), settings.strategy, recorder.clone())
            .holding_clock_while_queued(state.clock.clone()),
    );

    if settings.case != Case::Guest {
        client.login(LAB_USER).await?;
    }
    // "The user comes back later": move the lab clock past exp (and past
    // the refresh window for case 4) instead of waiting.
    let ttl_ms = settings.access_ttl_s * 1000;
    let travel_ms = match settings.case {
        Case::Guest | Case::Valid => 0,
        Case::ExpiredRefreshable => ttl_ms + 1000,
        Case::ExpiredNotRefreshable => ttl_ms + settings.refresh_window_s * 1000 + 1000,
    };
    if travel_ms > 0 {
        let lab_now_ms = state.clock.advance_ms(travel_ms);
        recorder.record(
            Lane::Server,
            EventKind::ClockAdvanced {
                by_ms: travel_ms,
                lab_now_ms,
            },
        );
    }

    let mut requests = JoinSet::new();
    let lanes = (1..=settings.secret)
        .map(|n| (LaneKind::Secret, n))
        .chain((1..=settings.public).map(|n| (LaneKind::Public, n)));
    for (kind, n) in lanes {
        let client = client.clone();
        requests.spawn(async move { client.fetch(kind, n).await });
    }
    if settings.late {
        let client = client.clone();
        let delay = settings.scaled(settings.late_delay_ms());
        requests.spawn(async move {
            tokio::time::sleep(delay).await;
            client.fetch(LaneKind::Late, 1).await
        });
    }
    // Each request's outcome is in the timeline; here only a panic matters.
    while let Some(finished) = requests.join_next().await {
        finished?;
    }
    let lab_now_ms = state.clock.now_ms();
    server.shutdown().await;

    let events = recorder.events();
    let verdict = Verdict::from_events(&events);
    Ok(RunReport {
        settings: settings.clone(),
        events,
        verdict,
        lab_now_ms,
    })
}
