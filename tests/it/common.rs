//! Shared helpers for the integration tests: a real server on 127.0.0.1:0
//! and a plain reqwest client talking to it.

#![allow(dead_code)]

use std::sync::Arc;

use refresh_race::server::{AuthServer, AuthState};
use refresh_race::settings::{Latency, Policy, RunSettings};
use refresh_race::timeline::Recorder;
use refresh_race::ui_files::UiFiles;
use refresh_race::web::{self, Lab};
use serde_json::Value;

/// Settings with no latency, for API tests that do not race.
pub fn instant(policy: Policy) -> RunSettings {
    RunSettings {
        policy,
        latency_ms: Latency::ZERO,
        ..RunSettings::default()
    }
}

pub async fn start(settings: &RunSettings) -> (AuthServer, Arc<AuthState>) {
    let state = AuthState::for_run(settings, Recorder::new());
    let server = AuthServer::start(state.clone())
        .await
        .expect("server starts");
    (server, state)
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Logs in as `ada` and returns the token.
pub async fn login(base: &str) -> String {
    let body: Value = http()
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"login": "ada", "password": "pw"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"]
        .as_str()
        .expect("login gives a token")
        .to_owned()
}

/// Sends `request`; returns the status and the JSON body.
pub async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// POST /api/refresh with `token`; returns (status, body).
pub async fn refresh(client: &reqwest::Client, base: &str, token: &str) -> (u16, Value) {
    answer(
        client
            .post(format!("{base}/api/refresh"))
            .bearer_auth(token),
    )
    .await
}

/// GET /api/secret with `token`; returns (status, body).
pub async fn secret(client: &reqwest::Client, base: &str, token: &str) -> (u16, Value) {
    answer(client.get(format!("{base}/api/secret")).bearer_auth(token)).await
}

/// The whole lab (`refresh-race serve`, UI from the checkout) on a free
/// loopback port; returns its base URL.
pub async fn start_lab() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(refresh_race::web::serve(
        listener,
        refresh_race::web::default_ui_dir(),
        std::future::pending(),
    ));
    format!("http://{addr}")
}

/// Reads a streamed run line by line.
pub struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    pub async fn open(base: &str, settings: Value) -> Stream {
        let response = http()
            .post(format!("{base}/lab/runs"))
            .json(&settings)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        Stream {
            response,
            buffer: String::new(),
        }
    }

    /// The next message; `None` when the stream ended.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find('\n') {
                let line: String = self.buffer.drain(..=end).collect();
                return Some(serde_json::from_str(&line).unwrap());
            }
            let chunk = self.response.chunk().await.unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Reads until a message of `kind`; returns it and how many events came before.
    pub async fn until(&mut self, kind: &str) -> (Value, usize) {
        let mut events = 0;
        loop {
            let message = self.next().await.expect("the stream ended early");
            if message["type"] == kind {
                return (message, events);
            }
            if message["type"] == "event" {
                events += 1;
            }
        }
    }
}

pub async fn command(base: &str, run: u64, body: Value) -> (u16, Value) {
    answer(
        http()
            .post(format!("{base}/lab/runs/{run}/network"))
            .json(&body),
    )
    .await
}

/// The reasons the server gave for refusing refreshes, in order.
pub fn refresh_rejections(
    report: &refresh_race::scenario::RunReport,
) -> Vec<refresh_race::protocol::Reason> {
    use refresh_race::protocol::Route;
    use refresh_race::timeline::EventKind;
    report
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Rejected {
                route: Route::Refresh,
                reason,
                ..
            } => Some(*reason),
            _ => None,
        })
        .collect()
}

/// Plays every order of deliveries of a held run — depth first, the legs in
/// flight taken in id order at each step — and hands each finished run to
/// `check`. Returns how many orders there were.
pub async fn every_order(
    preset: &RunSettings,
    mut check: impl FnMut(&refresh_race::scenario::RunReport),
) -> usize {
    use refresh_race::protocol::LegId;
    // choices[d] = (index taken at depth d, legs in flight there)
    let mut choices: Vec<(usize, usize)> = Vec::new();
    let mut orders = 0;
    loop {
        let live = refresh_race::scenario::start(preset, Recorder::new())
            .await
            .unwrap();
        let mut depth = 0;
        loop {
            live.network.settled().await;
            let mut in_flight: Vec<LegId> = live.network.legs().iter().map(|l| l.id).collect();
            if in_flight.is_empty() {
                break;
            }
            in_flight.sort();
            if depth == choices.len() {
                choices.push((0, in_flight.len()));
            }
            assert_eq!(choices[depth].1, in_flight.len(), "replay diverged");
            live.network
                .deliver(in_flight[choices[depth].0])
                .await
                .unwrap();
            depth += 1;
        }
        check(&live.finish().await.unwrap());
        orders += 1;
        choices.truncate(depth);
        while let Some((index, of)) = choices.pop() {
            if index + 1 < of {
                choices.push((index + 1, of));
                break;
            }
        }
        if choices.is_empty() {
            return orders;
        }
    }
}

/// A delivery order written as `secret#1>,secret#1<,…`.
pub fn legs(order: &str) -> Vec<refresh_race::protocol::LegId> {
    order.split(',').map(|leg| leg.parse().unwrap()).collect()
}

/// The lanes that sent a refresh, in order.
pub fn refreshers(report: &refresh_race::scenario::RunReport) -> Vec<String> {
    use refresh_race::timeline::EventKind;
    report
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::RefreshSent { .. }))
        .map(|e| e.lane.to_string())
        .collect()
}

/// A lab with its room open on 127.0.0.1: the instructor's base URL, the
/// room's, its join code, and the lab (kept alive with the test).
pub struct Room {
    pub instructor: String,
    pub room: String,
    pub code: String,
    pub lab: Arc<Lab>,
}

/// Opens a lab on a random port and its room on another, as the instructor does.
pub async fn open_room() -> Room {
    let lab = Lab::new(
        UiFiles::Embedded,
        &web::long_lived_api_settings(),
        Recorder::bounded(100),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let instructor = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(web::serve_router(
        listener,
        lab.instructor_router(),
        std::future::pending(),
    ));
    let info = lab.open_room("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let room = info.join_url.split("/join").next().unwrap().to_owned();
    Room {
        instructor,
        room,
        code: info.code,
        lab,
    }
}
