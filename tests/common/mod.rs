//! Shared helpers for the integration tests: a real server on 127.0.0.1:0
//! and a plain reqwest client talking to it.

#![allow(dead_code)]

use std::sync::Arc;

use refresh_race::server::{AuthServer, AuthState};
use refresh_race::settings::{Latency, Policy, RunSettings};
use refresh_race::timeline::Recorder;
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
