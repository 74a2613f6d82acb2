//! `POST /lab/explore`: explores the posted setup and streams the result as
//! NDJSON (docs/lab-api.md): `progress` lines while it works, then one
//! `result` line (the exploration) or one `error` line.
//!
//! Closing the stream (the page's Cancel aborts the fetch) cancels the
//! exploration and frees its runs at once. Explorations are heavy, so the
//! lab runs at most [`MAX_EXPLORATIONS`] at a time; in a classroom each
//! one takes one of the attendee's live-run places, gets at most
//! [`CLASSROOM_BUDGET_S`] seconds, and one of the room's own
//! [`ROOM_EXPLORATIONS`] places, one per seat at a time: one seat cannot
//! starve the room, nor the room the instructor.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{explore, Exploration, ExploreError, Options};
use crate::classroom::RunQuota;
use crate::server::{self, ApiError};
use crate::settings::{RunSettings, SettingsError};

/// Explorations running at once on one lab.
pub const MAX_EXPLORATIONS: usize = 2;
/// Longest exploration the page may ask for, seconds.
pub const MAX_BUDGET_S: u64 = 600;
/// Longest exploration of a classroom attendee, seconds.
pub const CLASSROOM_BUDGET_S: u64 = 20;
/// Explorations of a classroom's seats at once, all seats together
/// (counted apart from [`MAX_EXPLORATIONS`], the lab's own).
pub const ROOM_EXPLORATIONS: usize = 2;
/// Explorations one seat may run at once.
pub const SEAT_EXPLORATIONS: usize = 1;

static RUNNING: AtomicUsize = AtomicUsize::new(0);
/// The seats exploring now (attendee by address → explorations).
static SEATS: LazyLock<Mutex<HashMap<usize, usize>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// What the page posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExploreRequest {
    pub settings: RunSettings,
    /// Stop after this many seconds and say "at least" (1..=600).
    pub budget_s: Option<u64>,
}

/// One line of the stream.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExploreMessage {
    Progress { done: f64, states: u64, runs: u64 },
    Result { exploration: Box<Exploration> },
    Error { message: String },
}

impl ExploreMessage {
    fn line(&self) -> Bytes {
        let mut text = serde_json::to_string(self).unwrap_or_else(|err| {
            format!(r#"{{"type":"error","message":"cannot encode the result: {err}"}}"#)
        });
        text.push('\n');
        Bytes::from(text)
    }
}

/// A place among the running explorations, given back when dropped: the
/// lab's own (the instructor's port), or a classroom seat's (`seat`: the
/// attendee, by address while they explore), counted apart so the room
/// can never take the instructor's places, and one at a time per seat so
/// one seat cannot take the room's.
struct Slot {
    seat: Option<usize>,
}

fn seats() -> std::sync::MutexGuard<'static, HashMap<usize, usize>> {
    SEATS.lock().unwrap_or_else(|p| p.into_inner())
}

fn busy(what: String) -> ApiError {
    ApiError::Busy {
        what,
        retry_after_s: 5,
    }
}

impl Slot {
    fn take(seat: Option<usize>) -> Result<Slot, ApiError> {
        let Some(seat) = seat else {
            let taken = RUNNING.fetch_add(1, Ordering::SeqCst);
            if taken >= MAX_EXPLORATIONS {
                RUNNING.fetch_sub(1, Ordering::SeqCst);
                return Err(busy(format!(
                    "{MAX_EXPLORATIONS} explorations are already running on this lab; try again when one ends"
                )));
            }
            return Ok(Slot { seat: None });
        };
        let mut seats = seats();
        if seats.get(&seat).copied().unwrap_or(0) >= SEAT_EXPLORATIONS {
            return Err(busy(
                "your seat is exploring already: one exploration at a time per seat; try again when it ends".into(),
            ));
        }
        if seats.values().sum::<usize>() >= ROOM_EXPLORATIONS {
            return Err(busy(format!(
                "the room's seats have {ROOM_EXPLORATIONS} explorations running; try again when one ends (each stops within {CLASSROOM_BUDGET_S} s)"
            )));
        }
        *seats.entry(seat).or_insert(0) += 1;
        Ok(Slot { seat: Some(seat) })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        match self.seat {
            None => {
                RUNNING.fetch_sub(1, Ordering::SeqCst);
            }
            Some(seat) => {
                let mut seats = seats();
                if let Some(n) = seats.get_mut(&seat) {
                    *n -= 1;
                    if *n == 0 {
                        seats.remove(&seat);
                    }
                }
            }
        }
    }
}

/// Sets the exploration's cancel flag when the stream is dropped.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

pub async fn explore_route(
    quota: Option<Extension<RunQuota>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: ExploreRequest = server::json_body_or_default(body, "explore request")?;
    let mut budget_s = request.budget_s;
    if let Some(s) = budget_s {
        crate::settings::check_range("budget_s", s, 1, MAX_BUDGET_S)?;
    }
    if quota.is_some() {
        budget_s = Some(budget_s.map_or(CLASSROOM_BUDGET_S, |s| s.min(CLASSROOM_BUDGET_S)));
    }
    // Refused before the stream starts (too large: with its estimate).
    let settings = RunSettings {
        network: crate::settings::NetworkDriver::Hand,
        ..request.settings
    };
    match super::check(&settings, budget_s.is_some(), true) {
        Ok(()) => {}
        Err(ExploreError::Settings(err)) => return Err(err.into()),
        Err(err) => {
            return Err(ApiError::InvalidSetting(SettingsError::Conflict(
                err.to_string(),
            )))
        }
    }
    let place = match &quota {
        Some(Extension(quota)) => Some(quota.take(&settings)?),
        None => None,
    };
    let seat = quota
        .as_ref()
        .map(|Extension(quota)| Arc::as_ptr(&quota.attendee) as usize);
    let slot = Slot::take(seat)?;
    let cancel = Arc::new(AtomicBool::new(false));
    let (lines, body_lines) = mpsc::unbounded_channel::<Bytes>();
    let progress_lines = lines.clone();
    let page_lines = lines.clone();
    // A browser-runtime setup: the page that asked runs each run's tabs.
    let page: super::page::Tell = Arc::new(move |message: super::page::PageMessage| {
        let mut text = serde_json::to_string(&message).unwrap_or_default();
        text.push('\n');
        let _ = page_lines.send(Bytes::from(text));
    });
    let options = Options {
        budget: budget_s.map(Duration::from_secs),
        cancel: Some(cancel.clone()),
        progress: Some(Arc::new(move |p: super::Progress| {
            let _ = progress_lines.send(
                ExploreMessage::Progress {
                    done: p.done,
                    states: p.states,
                    runs: p.runs,
                }
                .line(),
            );
        })),
        page: Some(page),
        ..Options::default()
    };
    let task = tokio::spawn(async move {
        let _slot = slot;
        let _place = place;
        let message = match explore(&settings, &options).await {
            Ok(exploration) => ExploreMessage::Result {
                exploration: Box::new(exploration),
            },
            Err(ExploreError::Cancelled) => return,
            Err(err) => ExploreMessage::Error {
                message: err.to_string(),
            },
        };
        let _ = lines.send(message.line());
    });
    let guard = (CancelOnDrop(cancel), crate::scenario::AbortOnDrop(task));
    let stream = futures::stream::unfold((body_lines, guard), |(mut lines, guard)| async move {
        let line = lines.recv().await?;
        Some((Ok::<_, Infallible>(line), (lines, guard)))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
