//! What the servers refuse and how (docs/server-limits.md), over
//! real HTTP on 127.0.0.1: timeouts with short configured limits, the
//! connection bound, the revocation store's cap, exact token lifetimes, the
//! bounded run stream, a held lab clock, and the HTTP hygiene rules.
//!
//! Timeout tests wait for their configured limit (at most 1 s); nothing
//! else sleeps in real time.

use crate::common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{http, instant};
use refresh_race::clock::LabClock;
use refresh_race::protocol::Reason;
use refresh_race::server::{AuthServer, AuthState, Limits};
use refresh_race::settings::{Case, Latency, Policy, RunSettings, Strategy};
use refresh_race::timeline::{EventKind, Recorder};
use refresh_race::{scenario, web};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Limits short enough for a test to wait them out.
fn short() -> Limits {
    Limits {
        header_read: Duration::from_millis(300),
        body_read: Duration::from_millis(300),
        write_stall: Duration::from_millis(300),
        ..Limits::default()
    }
}

/// The lab's whole router on a free port, with `limits`.
async fn lab_with(limits: Limits, ui_dir: PathBuf) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let api = web::long_lived_api_settings();
    let router = web::router_with_limits(ui_dir, &api, Recorder::new(), limits.clone());
    tokio::spawn(web::serve_router_with(
        listener,
        router,
        limits,
        std::future::pending(),
    ));
    addr
}

async fn lab(limits: Limits) -> SocketAddr {
    lab_with(limits, web::default_ui_dir()).await
}

/// An auth server alone, with chosen limits and a frozen clock.
async fn frozen_auth(settings: &RunSettings, limits: Limits) -> (AuthServer, Arc<AuthState>) {
    let state = AuthState::for_run_with(settings, Recorder::new(), limits, LabClock::frozen());
    let server = AuthServer::start(state.clone()).await.unwrap();
    (server, state)
}

/// One raw HTTP/1.1 answer: status, header block (lower-cased) and body.
struct Raw {
    status: u16,
    headers: String,
    body: String,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {:?}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key == name).then(|| value.trim())
        })
    }
}

/// Reads one answer with a Content-Length body off `stream`.
async fn read_answer(stream: &mut TcpStream) -> Raw {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&bytes, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |n| n.trim().parse().unwrap());
            if bytes.len() >= end + 4 + length {
                let status = head[9..12].parse().unwrap();
                let (_, headers) = head.split_once("\r\n").unwrap_or((&head, ""));
                return Raw {
                    status,
                    headers: headers.to_owned(),
                    body: String::from_utf8_lossy(&bytes[end + 4..end + 4 + length]).into(),
                };
            }
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(
            n > 0,
            "closed before a whole answer: {:?}",
            String::from_utf8_lossy(&bytes)
        );
        bytes.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Sends `request` on a new connection and reads the answer.
/// `request` addressed to the lab at `addr`: its `Host` must be the
/// address the lab bound, or the locked doors refuse it (docs/security.md).
fn at(addr: SocketAddr, request: &str) -> String {
    request.replace("host: lab\r\n", &format!("host: {addr}\r\n"))
}

async fn raw(addr: SocketAddr, request: &str) -> Raw {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(at(addr, request).as_bytes())
        .await
        .unwrap();
    read_answer(&mut stream).await
}

/// Reads until the server closes; returns what came and how long it took.
async fn until_closed(stream: &mut TcpStream) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut rest = Vec::new();
    // A reset is a close too.
    let _ = stream.read_to_end(&mut rest).await;
    (rest, started.elapsed())
}

// ---- 1. timeouts and the connection bound ----

#[tokio::test]
async fn a_head_that_stops_halfway_is_closed_at_the_header_limit() {
    let addr = lab(short()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(at(addr, "GET /api/public HTTP/1.1\r\nhost: lab\r\n").as_bytes())
        .await
        .unwrap();
    let (answer, waited) = until_closed(&mut stream).await;
    assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));
    assert!(
        (Duration::from_millis(300)..Duration::from_secs(3)).contains(&waited),
        "{waited:?}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_the_header_limit() {
    let addr = lab(short()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(at(addr, "GET /api/public HTTP/1.1\r\nhost: lab\r\n\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut stream).await.status, 200);
    let (answer, waited) = until_closed(&mut stream).await;
    assert!(answer.is_empty());
    assert!(
        (Duration::from_millis(300)..Duration::from_secs(3)).contains(&waited),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_body_that_stops_gets_408_json_and_a_close() {
    let addr = lab(short()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(
            at(
                addr,
                "POST /api/login HTTP/1.1\r\nhost: lab\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"log",
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let answer = read_answer(&mut stream).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(answer.status, 408);
    assert_eq!(answer.header("connection"), Some("close"));
    let body = answer.json();
    assert_eq!(body["error"], "request_timeout");
    assert_eq!(
        body["message"],
        "the request body did not arrive within 0.3 s"
    );
    let (rest, _) = until_closed(&mut stream).await;
    assert!(rest.is_empty());
}

#[tokio::test]
async fn past_the_connection_bound_a_new_connection_gets_503_json() {
    let addr = lab(Limits {
        max_connections: 2,
        ..Limits::default()
    })
    .await;
    let get = "GET /api/public HTTP/1.1\r\nhost: lab\r\n\r\n";
    // Two kept-alive connections, each answered once: both hold a slot.
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(at(addr, get).as_bytes()).await.unwrap();
        assert_eq!(read_answer(&mut stream).await.status, 200);
        open.push(stream);
    }
    let refused = raw(addr, get).await;
    assert_eq!(refused.status, 503);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(refused.header("connection"), Some("close"));
    assert_eq!(refused.json()["error"], "too_many_connections");
    assert_eq!(
        refused.json()["message"],
        "the server has 2 connections open, its limit; try again shortly"
    );

    // One of them asks to close; once it sees the close, its slot is free.
    let mut leaving = open.pop().unwrap();
    leaving
        .write_all(
            at(
                addr,
                "GET /api/public HTTP/1.1\r\nhost: lab\r\nconnection: close\r\n\r\n",
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(read_answer(&mut leaving).await.status, 200);
    assert!(until_closed(&mut leaving).await.0.is_empty());
    assert_eq!(raw(addr, get).await.status, 200);
}

/// Starts `run` on a connection whose socket takes almost nothing, and
/// reads nothing yet.
async fn stalled_run(addr: SocketAddr, run: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let request = format!(
        "POST /lab/runs HTTP/1.1\r\nhost: lab\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{run}",
        run.len()
    );
    stream
        .write_all(at(addr, &request).as_bytes())
        .await
        .unwrap();
    stream
}

/// Reads a chunked answer to its end or to the close: the body, and
/// whether it ended with the last chunk (a finished stream).
async fn read_chunked(stream: &mut TcpStream) -> (String, bool) {
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes).await;
    let head_end = find(&bytes, b"\r\n\r\n").expect("a head") + 4;
    assert!(
        bytes.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&bytes[..head_end])
    );
    let (mut rest, mut body) = (&bytes[head_end..], Vec::new());
    while let Some(line_end) = find(rest, b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16).unwrap();
        if size == 0 {
            return (String::from_utf8(body).unwrap(), true);
        }
        let chunk = &rest[line_end + 2..];
        if chunk.len() < size + 2 {
            break;
        }
        body.extend_from_slice(&chunk[..size]);
        rest = &chunk[size + 2..];
    }
    (String::from_utf8_lossy(&body).into(), false)
}

/// 20,000 requests at zero latency, about 70,000 lines (11 MB): far more
/// than every buffer between the run and a reader that stopped (the
/// server's socket alone may take 4 MB).
const BIG_RUN: &str = r#"{"case":"valid","secret":10000,"public":10000,"latency_ms":{"public":0,"secret":0,"refresh":0,"login":0}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_takes_no_bytes_is_dropped_at_the_write_stall_limit() {
    let addr = lab(Limits {
        max_connections: 1,
        write_stall: Duration::from_millis(300),
        stream_stall: Duration::from_secs(30),
        ..Limits::default()
    })
    .await;
    let mut stalled = stalled_run(addr, BIG_RUN).await;
    // It holds the only slot.
    let get = "GET /api/public HTTP/1.1\r\nhost: lab\r\n\r\n";
    assert_eq!(raw(addr, get).await.status, 503);
    // The slot comes back once the stall limit dropped the stalled peer:
    // wait for that, not for a guessed time (how long the run takes to fill
    // the socket's buffers depends on the machine's load).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match raw(addr, get).await.status {
            200 => break,
            503 => assert!(
                std::time::Instant::now() < deadline,
                "the stalled peer still holds the slot after 60 s"
            ),
            other => panic!("GET /api/public answered {other}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Its stream ended early: no last chunk.
    let (body, finished) = read_chunked(&mut stalled).await;
    assert!(
        !finished,
        "the stream was cut, not finished; its last line: {}",
        body.lines().last().unwrap_or("(none)")
    );
}

// ---- 2. memory that comes back ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_reader_stalls_is_cancelled_with_an_error_line() {
    let addr = lab(Limits {
        stream_buffer: 4,
        stream_stall: Duration::from_millis(200),
        ..Limits::default()
    })
    .await;
    let mut stalled = stalled_run(addr, BIG_RUN).await;
    // Not reading, we wait for the run to fill the buffers on the way
    // (64 KB in hyper, 128 KB in the kernel: about 1,500 lines, well under
    // a second's work even for a debug build on a busy machine), then for
    // the 200 ms stall limit. The one test that waits longer than its limit.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (body, finished) = read_chunked(&mut stalled).await;
    assert!(finished);
    let lines: Vec<Value> = body
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "start");
    assert!(lines.iter().all(|line| line["type"] != "done"));
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "error");
    assert_eq!(
        last["message"],
        "run cancelled: the viewer took no line for 0.2 s"
    );
    // Far fewer events than the run would have made: it stopped.
    assert!(lines.len() < 70_000, "{} lines", lines.len());
}

#[tokio::test]
async fn a_full_store_refuses_logins_with_503_until_its_oldest_entry_lapses() {
    let limits = Limits {
        max_remembered: 3,
        ..Limits::default()
    };
    let (server, state) = frozen_auth(&instant(Policy::Family), limits).await;
    let base = server.base_url();
    for _ in 0..3 {
        common::login(&base).await;
    }
    assert_eq!(state.revocations.remembered(), 3);
    let login = || {
        http()
            .post(format!("{base}/api/login"))
            .json(&serde_json::json!({"login": "ada", "password": "pw"}))
            .send()
    };
    let refused = login().await.unwrap();
    assert_eq!(refused.status(), 503);
    // Each login lapses 5 s + 10 s after it was issued, on a frozen clock.
    assert_eq!(refused.headers()["retry-after"], "15");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert_eq!(
        body["message"],
        "the revocation store is full (3 entries) and forgets none before it lapses; try again in 15 s"
    );

    // One millisecond early is still full; at the lapse there is room.
    state.clock.advance_ms(14_999);
    assert_eq!(login().await.unwrap().status(), 503);
    state.clock.advance_ms(1);
    assert_eq!(login().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_full_store_refuses_a_refresh_without_spending_the_token() {
    let limits = Limits {
        max_remembered: 1,
        ..Limits::default()
    };
    let (server, state) = frozen_auth(&instant(Policy::Strict), limits).await;
    let base = server.base_url();
    let client = http();
    // Strict logins cost no entry; the first rotation fills the store.
    let (first, second) = (common::login(&base).await, common::login(&base).await);
    assert_eq!(common::refresh(&client, &base, &first).await.0, 200);
    let (status, body) = common::refresh(&client, &base, &second).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("temporarily_unavailable"))
    );
    // `second` was not spent: once the first rotation lapses it refreshes.
    state.clock.advance_ms(15_000);
    let (status, body) = common::refresh(&client, &base, &second).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (400, Some("window_over"))
    );
    drop(state);
}

#[tokio::test(start_paused = true)]
async fn the_sweeper_forgets_lapsed_tokens_without_any_traffic() {
    use refresh_race::server::tokens::{FamilyId, TokenId};
    let state = AuthState::for_run_with(
        &instant(Policy::Family),
        Recorder::disabled(),
        Limits::default(),
        LabClock::frozen(),
    );
    let now = state.clock.now_ms();
    for n in 0..10_000 {
        state
            .revocations
            .register(TokenId(n), FamilyId(n), now + 15_000, now);
    }
    assert_eq!(state.revocations.remembered(), 10_000);
    state.clock.advance_ms(15_000);
    // Virtual time: the sweeper's next ticks run at once.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(state.revocations.remembered(), 0);
}

// ---- 3. exact lifetimes ----

#[tokio::test]
async fn a_token_lives_exactly_its_lifetime_whatever_millisecond_it_was_issued() {
    let (server, state) = frozen_auth(&instant(Policy::Strict), Limits::default()).await;
    let base = server.base_url();
    let client = http();
    for fraction in [0, 1, 499, 907, 999] {
        // Move the frozen clock to `fraction` ms past a whole second.
        let now = state.clock.now_ms();
        state
            .clock
            .advance_ms((1000 + fraction - now % 1000) % 1000 + 1000);
        assert_eq!(state.clock.now_ms() % 1000, fraction);
        let body: Value = client
            .post(format!("{base}/api/login"))
            .json(&serde_json::json!({"login": "ada", "password": "pw"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = body["token"].as_str().unwrap().to_owned();
        let lifetime_ms = body["expires_in"].as_u64().unwrap() * 1000;

        state.clock.advance_ms(lifetime_ms - 1);
        let (status, body) = common::secret(&client, &base, &token).await;
        assert_eq!(status, 200, "{fraction} ms, 1 ms before expires_in: {body}");
        state.clock.advance_ms(1);
        let (status, body) = common::secret(&client, &base, &token).await;
        assert_eq!(
            (status, body["reason"].as_str()),
            (401, Some("expired")),
            "{fraction} ms, at expires_in"
        );
    }
    // The refresh window ends exactly `refresh_window` after expiry too.
    let token = common::login(&base).await;
    state.clock.advance_ms(5_000 + 10_000 - 1);
    assert_eq!(common::refresh(&client, &base, &token).await.0, 200);
    let token = common::login(&base).await;
    state.clock.advance_ms(5_000 + 10_000);
    let (status, body) = common::refresh(&client, &base, &token).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (400, Some("window_over"))
    );
}

// ---- 4. HTTP hygiene ----

#[tokio::test]
async fn token_answers_are_not_cached() {
    let (server, _) = common::start(&instant(Policy::Strict)).await;
    let base = server.base_url();
    let login = http()
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"login": "ada", "password": "pw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.headers()["cache-control"], "no-store");
    assert_eq!(login.headers()["pragma"], "no-cache");
    let token: Value = login.json().await.unwrap();
    let refresh = http()
        .post(format!("{base}/api/refresh"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), 200);
    assert_eq!(refresh.headers()["cache-control"], "no-store");
    assert_eq!(refresh.headers()["pragma"], "no-cache");
}

#[tokio::test]
async fn unknown_paths_get_404_json_under_every_method() {
    let addr = lab(Limits::default()).await;
    let (auth, _) = common::start(&instant(Policy::Strict)).await;
    for target in [addr, auth.addr] {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let answer = raw(
                target,
                &format!("{method} /nope HTTP/1.1\r\nhost: lab\r\ncontent-length: 0\r\n\r\n"),
            )
            .await;
            assert_eq!(answer.status, 404, "{method}");
            assert_eq!(answer.json()["error"], "not_found", "{method}");
            assert_eq!(answer.json()["message"], "no route for /nope", "{method}");
        }
    }
    // The UI's files take GET and HEAD only.
    let answer = raw(
        addr,
        "POST /index.html HTTP/1.1\r\nhost: lab\r\ncontent-length: 0\r\n\r\n",
    )
    .await;
    assert_eq!(
        (answer.status, answer.json()["error"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn errors_the_http_layer_makes_have_json_bodies() {
    let addr = lab(Limits::default()).await;
    let long = format!(
        "GET /api/public?{} HTTP/1.1\r\nhost: lab\r\n\r\n",
        "q".repeat(9_000)
    );
    let many: String = (0..65).map(|n| format!("x-h{n}: v\r\n")).collect();
    let big = format!("x-big: {}\r\n", "v".repeat(17_000));
    let cases = [
        (long, 414, "uri_too_long"),
        (
            format!("GET /api/public HTTP/1.1\r\nhost: lab\r\n{many}\r\n"),
            431,
            "headers_too_large",
        ),
        (
            format!("GET /api/public HTTP/1.1\r\nhost: lab\r\n{big}\r\n"),
            431,
            "headers_too_large",
        ),
        (
            "GET /api/login HTTP/1.1\r\nhost: lab\r\n\r\n".to_owned(),
            405,
            "method_not_allowed",
        ),
        (
            format!(
                "POST /api/login HTTP/1.1\r\nhost: lab\r\ncontent-type: application/json\r\ncontent-length: 20000\r\n\r\n{}",
                "x".repeat(20_000)
            ),
            413,
            "payload_too_large",
        ),
        (
            "GET /index.html HTTP/1.1\r\nhost: lab\r\nrange: bytes=999999-\r\n\r\n".to_owned(),
            416,
            "range_not_satisfiable",
        ),
    ];
    for (request, status, error) in cases {
        let answer = raw(addr, &request).await;
        assert_eq!(answer.status, status, "{error}");
        assert_eq!(
            answer.header("content-type"),
            Some("application/json"),
            "{error}"
        );
        assert_eq!(answer.json()["error"], error);
    }
}

#[tokio::test]
async fn two_authorization_headers_are_refused_as_invalid_request() {
    let (server, _) = common::start(&instant(Policy::Strict)).await;
    let token = common::login(&server.base_url()).await;
    for (method, path) in [("GET", "/api/secret"), ("POST", "/api/refresh")] {
        let answer = raw(
            server.addr,
            &format!(
                "{method} {path} HTTP/1.1\r\nhost: lab\r\nauthorization: Bearer {token}\r\nauthorization: Bearer x.y.z\r\ncontent-length: 0\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(answer.status, 400, "{path}");
        assert_eq!(answer.json()["error"], "invalid_request", "{path}");
        assert_eq!(
            answer.json()["message"],
            "the request has more than one Authorization header"
        );
    }
}

#[tokio::test]
async fn a_double_slash_path_does_not_redirect_to_another_host() {
    let addr = lab(Limits::default()).await;
    let answer = raw(addr, "GET //lib HTTP/1.1\r\nhost: lab\r\n\r\n").await;
    assert_eq!(
        (answer.status, answer.json()["error"].as_str()),
        (404, Some("not_found"))
    );
    assert_eq!(answer.header("location"), None);
    // The same folder with one slash still redirects, on this host.
    let answer = raw(addr, "GET /lib HTTP/1.1\r\nhost: lab\r\n\r\n").await;
    assert_eq!(answer.status, 307);
    assert_eq!(answer.header("location"), Some("/lib/"));
}

/// A UI folder with a file, a symlink inside it and two that lead out.
#[cfg(unix)]
struct SymlinkedUi {
    root: PathBuf,
}

#[cfg(unix)]
impl SymlinkedUi {
    fn new() -> Self {
        let root = std::env::temp_dir().join(format!("rr-ui-{}", std::process::id()));
        let ui = root.join("ui");
        let outside = root.join("outside");
        std::fs::create_dir_all(&ui).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(ui.join("index.html"), "<!doctype html>").unwrap();
        std::fs::write(ui.join("app.js"), "// app").unwrap();
        std::fs::write(outside.join("secret.txt"), "secret").unwrap();
        std::fs::write(outside.join("index.html"), "secret page").unwrap();
        std::os::unix::fs::symlink(ui.join("app.js"), ui.join("alias.js")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), ui.join("secret.txt")).unwrap();
        std::os::unix::fs::symlink(&outside, ui.join("out")).unwrap();
        SymlinkedUi { root }
    }
}

#[cfg(unix)]
impl Drop for SymlinkedUi {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_ui_files_do_not_follow_symlinks_out_of_their_folder() {
    let ui = SymlinkedUi::new();
    let addr = lab_with(Limits::default(), ui.root.join("ui")).await;
    let get = |path: &str| {
        let request = format!("GET {path} HTTP/1.1\r\nhost: lab\r\n\r\n");
        async move { raw(addr, &request).await }
    };
    assert_eq!(get("/alias.js").await.body, "// app");
    for path in [
        "/secret.txt",
        "/out/secret.txt",
        "/out/",
        "/%6Fut/secret.txt",
    ] {
        let answer = get(path).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
        assert_eq!(answer.json()["error"], "not_found");
    }
}

#[tokio::test]
async fn a_missing_token_gets_a_bare_challenge_and_bad_ones_our_words() {
    let (server, _) = common::start(&instant(Policy::Strict)).await;
    let answer = raw(server.addr, "GET /api/secret HTTP/1.1\r\nhost: lab\r\n\r\n").await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.header("www-authenticate"),
        Some("bearer realm=\"refresh-race\"")
    );
    // A space inside the payload: the library would say "Base64 error:
    // Invalid symbol 32".
    let (status, body) = common::secret(
        &http(),
        &server.base_url(),
        "eyJhbGciOiJIUzI1NiJ9.e30.c2 ln",
    )
    .await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("malformed")));
    assert_eq!(body["message"], "a part of the token is not base64url");
}

// ---- 5. big runs stay about the race ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_larger_than_the_slots_ages_its_tokens_only_while_requests_are_out() {
    // 2,048 requests through 256 slots at 250 ms an exchange: the first
    // tries take 2 s of queueing, and the refreshes of `t1` another 2 s
    // after them. The window ends 2 s after the requests start (expired 1 s
    // ago, window 3 s): without the held clock, every refresh would fail
    // `window_over`. With it, the lab clock runs only while no request
    // waits, so a loaded machine has 2 s of slack (1 s was once not enough
    // in CI, when setting up still aged the token).
    let settings = RunSettings {
        case: Case::ExpiredRefreshable,
        strategy: Strategy::Naive,
        secret: 2048,
        public: 0,
        refresh_window_s: 3,
        latency_ms: Latency {
            public: 0,
            secret: 250,
            refresh: 250,
            login: 0,
        },
        ..RunSettings::default()
    };
    let started = Instant::now();
    let report = scenario::run(&settings).await.unwrap();
    let wall_ms = started.elapsed().as_millis() as u64;
    let verdict = &report.verdict;
    assert_eq!(
        verdict.rejected_reasons.get(&Reason::WindowOver),
        None,
        "{verdict:?}"
    );
    assert_eq!(verdict.refresh_accepted_by_server, 1);
    assert_eq!(verdict.requests, 2048);
    // The lab clock ran only while no request waited: the last wave.
    let travelled_to = report
        .events
        .iter()
        .find_map(|event| match event.kind {
            EventKind::ClockAdvanced { lab_now_ms, .. } => Some(lab_now_ms),
            _ => None,
        })
        .unwrap();
    let lab_ms = report.lab_now_ms - travelled_to;
    assert!(lab_ms * 2 < wall_ms, "lab {lab_ms} ms of wall {wall_ms} ms");
}
