//! Exploring a client that runs in the page (the browser runtime): the
//! lab's strategies in JavaScript, a vendored library or a learner's module.
//!
//! The explorer cannot run JavaScript, so each run it opens is attached to
//! the page that asked for the exploration: the exploration's stream tells
//! the page `attach` (the run's id and where its tab calls and reports,
//! as a run's start line does) and the page starts the run's tabs as
//! Workers; when the explorer drops the run it tells `detach` and the page
//! stops them. The tabs reach the run through `/lab/runs/explored/{id}/…`,
//! routes of their own (these runs are the exploration's, not the lab's
//! live runs), with unguessable ids as live runs have.
//!
//! A module's memory is hidden from the lab, so the state of such a run
//! includes the order in which its tabs got their answers (see
//! [`super::state`]): two orders merge only when they differ in when the
//! server got a request, which the tabs cannot tell.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Request};
use axum::response::Response;
use axum::Json;
use rand::Rng;
use serde::Serialize;

use super::ExploreError;
use crate::page::{EndedRuns, PageClient};
use crate::protocol::wire::{PageReport, PageStart};
use crate::scenario::{self, LiveRun, Side};
use crate::server::{self, ApiError};
use crate::settings::RunSettings;
use crate::timeline::Recorder;

/// Request lanes (secret, public and late, over every tab) a run in the
/// page may have to be explored: each state costs a run with its Workers
/// (tens of milliseconds), so the page explores small setups whole.
pub const MAX_PAGE_LANES: u32 = 2;

/// How long the page may take to settle a run after a delivery (start its
/// Workers, answer, report) before the exploration gives up on it.
pub const PAGE_SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Ids as live runs draw them: unguessable, exact as a JavaScript number.
const RUN_IDS: std::ops::Range<u64> = (1 << 32)..(1 << 53);

/// What the exploration tells the page that runs the tabs.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PageMessage {
    /// Start this run's tabs (as a run's start line would).
    Attach {
        run: u64,
        settings: Box<RunSettings>,
        page: PageStart,
    },
    /// The run is gone: stop its tabs.
    Detach { run: u64 },
}

/// Where the page's side of an exploration listens.
pub type Tell = Arc<dyn Fn(PageMessage) + Send + Sync>;

static RUNS: LazyLock<Mutex<HashMap<u64, Arc<PageClient>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn runs() -> std::sync::MutexGuard<'static, HashMap<u64, Arc<PageClient>>> {
    RUNS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs dropped lately: the page may still send a report that was on its
/// way when it was told to stop the run's tabs.
static GONE: EndedRuns<()> = EndedRuns::new(1024);

/// An explored run's place in the registry: dropped, it leaves it and the
/// page is told to stop its tabs.
pub struct Attached {
    id: u64,
    tell: Tell,
}

impl Drop for Attached {
    fn drop(&mut self) {
        GONE.retire(self.id, || runs().remove(&self.id).map(|_| ()));
        (self.tell)(PageMessage::Detach { run: self.id });
    }
}

/// Refuses a page setup too large to explore in the page.
pub fn check(settings: &RunSettings) -> Result<(), ExploreError> {
    let tabs = settings.tab_numbers().count() as u32;
    let lanes = tabs * (settings.secret + settings.public + u32::from(settings.late));
    if lanes > MAX_PAGE_LANES {
        return Err(ExploreError::Refused(format!(
            "a client that runs in the page is explored with at most {MAX_PAGE_LANES} request lanes (secret, public and late, over every tab); this setup has {lanes}: explore it with 2 secret requests and no public one"
        )));
    }
    Ok(())
}

/// Starts `settings` (its `deliver` prefix included) with its tabs in the
/// page: registers it, tells the page, plays the prefix once the tabs are
/// out.
pub async fn open(
    settings: &RunSettings,
    recorder: Recorder,
    tell: &Tell,
) -> Result<(LiveRun, Attached), ExploreError> {
    let (live, token, lab_now_ms) = scenario::start_in_page(settings, recorder).await?;
    let Side::Page(page) = &live.client else {
        return Err(ExploreError::Page("the run has no page side".into()));
    };
    let id = {
        let mut live_runs = runs();
        let mut rng = rand::rng();
        let id = loop {
            let id = rng.random_range(RUN_IDS);
            if !live_runs.contains_key(&id) {
                break id;
            }
        };
        live_runs.insert(id, page.clone());
        id
    };
    let attached = Attached {
        id,
        tell: tell.clone(),
    };
    tell(PageMessage::Attach {
        run: id,
        settings: Box::new(settings.clone()),
        page: PageStart {
            api: format!("/lab/runs/explored/{id}/api"),
            report: format!("/lab/runs/explored/{id}/page"),
            token,
            first_attempt: 2,
            lab_now_ms,
        },
    });
    let played = tokio::time::timeout(PAGE_SETTLE_TIMEOUT, live.play_script(settings)).await;
    match played {
        Ok(Ok(())) => Ok((live, attached)),
        // Name the whole prefix: a replay that meets another state says where,
        // and, when the page ended the run meanwhile, why it did.
        Ok(Err(err)) => {
            // Why the lab thought the page at rest: a next failure says it.
            let ended = match (page.failure(), live.network.motion().page_view()) {
                (Some(why), _) => format!(" (the page ended the run: {why})"),
                (None, Some(view)) => format!(" (the lab's count of the page: {view})"),
                (None, None) => String::new(),
            };
            Err(ExploreError::Page(format!(
                "replaying {} in the page: {err}{ended}",
                super::names(&settings.deliver)
            )))
        }
        Err(_) => Err(not_settled(&settings.deliver)),
    }
}

/// The page did not answer in time, after the deliveries `at`.
pub fn not_settled(at: &[crate::protocol::LegId]) -> ExploreError {
    let after = if at.is_empty() {
        "at the start".to_owned()
    } else {
        format!("after {}", super::names(at))
    };
    ExploreError::Page(format!(
        "the page's tabs did not settle within {} s {after} (a module that never answers, or the page went away)",
        PAGE_SETTLE_TIMEOUT.as_secs()
    ))
}

fn client(id: &str) -> Result<Arc<PageClient>, ApiError> {
    let unknown = || ApiError::UnknownRun { id: id.to_owned() };
    let number: u64 = id.parse().map_err(|_| unknown())?;
    runs().get(&number).cloned().ok_or_else(unknown)
}

/// `ANY /lab/runs/explored/{id}/api/{*rest}`: a tab's exchange.
pub async fn exchange_route(
    Path((id, rest)): Path<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    client(&id)?.exchange(&rest, request).await
}

/// `GET /lab/runs/explored/{id}/page`: the run's session as a live run's
/// page route gives it (in OAuth mode the page starts the tabs with its
/// refresh token).
pub async fn session_route(Path(id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(client(&id)?.session()))
}

/// `POST /lab/runs/explored/{id}/page`: a tab's report.
pub async fn report_route(
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let page = match client(&id) {
        Ok(page) => page,
        Err(err) => {
            return if GONE.lately(&id, |()| true) {
                Ok(Json(serde_json::json!({"ok": false, "gone": true})))
            } else {
                Err(err)
            };
        }
    };
    let report: PageReport = server::json_body(body, "page report")?;
    page.report(report)?;
    Ok(Json(serde_json::json!({"ok": true})))
}
