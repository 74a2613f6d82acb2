//! One attendee, one learner's module or one web page the instructor visits
//! cannot take the room down: every input a seat or a page controls is
//! bounded, over real HTTP on loopback (docs/security.md,
//! docs/server-limits.md). Attendees on other machines are played by other
//! loopback addresses (127.0.0.N), which Linux routes to the same listener.

use crate::common;

use common::{open_room, Room};

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::{http, start_lab};
use refresh_race::timeline::Recorder;
use refresh_race::ui_files::UiFiles;
use refresh_race::web::{self, Lab};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A browser on the machine 127.0.0.`n`.
fn browser(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// What `/join` answered.
struct Joined {
    status: u16,
    /// `rr_seat=…`, when the answer set one.
    cookie: Option<String>,
    retry_after: Option<u64>,
    body: String,
}

/// `GET /join?code=` as typed (already URL-encoded), from 127.0.0.`n`,
/// carrying `cookie` if given.
async fn join(room: &Room, n: u8, code: &str, cookie: Option<&str>) -> Joined {
    let mut request = browser(n).get(format!("{}/join?code={code}", room.room));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    Joined {
        status,
        cookie,
        retry_after,
        body: response.text().await.unwrap(),
    }
}

async fn roster(room: &Room) -> Vec<Value> {
    let (status, body) =
        common::answer(http().get(format!("{}/lab/classroom", room.instructor))).await;
    assert_eq!(status, 200, "{body}");
    body["seats"].as_array().unwrap().clone()
}

/// A streamed run, read line by line.
struct Run {
    response: reqwest::Response,
    buffer: String,
}

impl Run {
    /// Starts a run on `base` (with a seat's `cookie`); `None` with the
    /// refusal when the lab refuses it.
    async fn start(
        client: &reqwest::Client,
        base: &str,
        cookie: Option<&str>,
        settings: Value,
    ) -> Result<(Run, Value), (u16, Value)> {
        let mut request = client.post(format!("{base}/lab/runs")).json(&settings);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        if status != 200 {
            return Err((status, response.json().await.unwrap()));
        }
        let mut run = Run {
            response,
            buffer: String::new(),
        };
        let start = run.next().await.expect("a start line");
        assert_eq!(start["type"], "start", "{start}");
        Ok((run, start))
    }

    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find('\n') {
                let line: String = self.buffer.drain(..=end).collect();
                return Some(serde_json::from_str(&line).unwrap());
            }
            let chunk = self.response.chunk().await.unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    async fn until(&mut self, kind: &str) -> Value {
        loop {
            let message = self.next().await.expect("the stream ended early");
            if message["type"] == kind {
                return message;
            }
        }
    }
}

/// A held browser run of one secret request on the instructor's lab.
async fn held_page_run(base: &str) -> (Run, u64) {
    let settings = json!({"runtime": "browser", "secret": 1, "public": 0, "network": "hand"});
    let (run, start) = Run::start(&http(), base, None, settings).await.unwrap();
    (run, start["run"].as_u64().unwrap())
}

/// One tagged exchange of a page's tab, with extra `headers`.
fn page_get(base: &str, run: u64, path: &str, headers: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let mut request = http()
        .get(format!("{base}/lab/runs/{run}/api{path}"))
        .header("x-lab-lane", "secret#1")
        .header("x-lab-attempt", "2")
        .header("x-lab-exchange", "request");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

async fn page_report(base: &str, run: u64, body: Value) -> (u16, Value, Option<String>) {
    let response = http()
        .post(format!("{base}/lab/runs/{run}/page"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, response.json().await.unwrap(), retry)
}

// ---- 4. cross-site requests and guessable run ids ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_page_cannot_reach_a_run_with_any_method() {
    let base = start_lab().await;
    let (_run, id) = held_page_run(&base).await;
    // What an <img src> or a form on another site (or another port of
    // localhost, which is the same site) sends.
    let foreign: [&[(&str, &str)]; 4] = [
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "http://evil.example")],
        &[("referer", "http://localhost:1/slides.html")],
    ];
    for headers in foreign {
        // Let in, the request would wait for the held run's network: refused, it is answered at once.
        let (status, body) = tokio::time::timeout(
            Duration::from_secs(5),
            common::answer(page_get(&base, id, "/secret", headers)),
        )
        .await
        .expect("a foreign request is answered at once");
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("forbidden")),
            "{headers:?}: {body}"
        );
        let mut report = http()
            .post(format!("{base}/lab/runs/{id}/page"))
            .json(&json!({"seq": 1, "started": 5, "received": 5}));
        for (name, value) in headers {
            report = report.header(*name, *value);
        }
        let (status, body) = common::answer(report).await;
        assert_eq!(status, 403, "{headers:?}: {body}");
    }
    // Nothing of that reached the run: the page's own report settles it,
    // and a command answers at once.
    let (status, body, _) =
        page_report(&base, id, json!({"seq": 1, "started": 0, "received": 0})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = common::command(&base, id, json!({"command": "pause"})).await;
    assert_eq!(status, 200, "{body}");
    // The page's own requests, which say they are same-origin, still pass.
    let referer = format!("{base}/");
    let (status, body) = common::answer(
        http()
            .post(format!("{base}/lab/runs/{id}/page"))
            .header("sec-fetch-site", "same-origin")
            .header("origin", &base)
            .header("referer", &referer)
            .json(&json!({"seq": 2, "started": 0, "received": 0})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_ids_cannot_be_counted() {
    let base = start_lab().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let settings = json!({"secret": 1, "public": 0, "network": "hand"});
        let (run, start) = Run::start(&http(), &base, None, settings).await.unwrap();
        ids.push(start["run"].as_u64().unwrap());
        drop(run);
    }
    // Random, and small enough for a JavaScript number.
    assert!(
        ids.iter().all(|id| *id > 1 << 20 && *id < 1 << 53),
        "{ids:?}"
    );
    assert!(ids.windows(2).all(|w| w[0].abs_diff(w[1]) > 1), "{ids:?}");
}

// ---- 2. seats ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejoin_gets_the_same_seat() {
    let room = open_room().await;
    let first = join(&room, 1, &room.code, None).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let cookie = first.cookie.unwrap();
    for _ in 0..5 {
        let again = join(&room, 1, &room.code, Some(&cookie)).await;
        assert_eq!(again.status, 303, "{}", again.body);
        assert!(again.cookie.is_none_or(|c| c == cookie), "the same seat");
    }
    assert_eq!(roster(&room).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_take_every_seat() {
    let room = open_room().await;
    let mut seated = 0;
    let mut limited = None;
    for _ in 0..70 {
        let joined = join(&room, 1, &room.code, None).await;
        match joined.status {
            303 => seated += 1,
            429 => {
                limited = Some(joined);
                break;
            }
            other => panic!("{other}: {}", joined.body),
        }
    }
    let limited = limited.expect("one address is limited");
    assert!(limited.retry_after.is_some_and(|s| s > 0));
    let body: Value = serde_json::from_str(&limited.body).unwrap();
    assert_eq!(body["error"], "too_many_requests", "{body}");
    assert!(seated < 10, "{seated} seats from one address");
    // Another attendee still gets in.
    let other = join(&room, 2, &room.code, None).await;
    assert_eq!(other.status, 303, "{}", other.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seats_cannot_take_the_instructors_runs() {
    let room = open_room().await;
    let mut held = Vec::new();
    for n in 10..26 {
        let seat = join(&room, n, &room.code, None).await.cookie.unwrap();
        for _ in 0..2 {
            let settings = json!({"secret": 1, "public": 0, "network": "hand"});
            let (run, _) = Run::start(&browser(n), &room.room, Some(&seat), settings)
                .await
                .unwrap();
            held.push(run);
        }
    }
    let settings = json!({"secret": 1, "public": 0, "network": "hand"});
    let started = Run::start(&http(), &room.instructor, None, settings).await;
    assert!(started.is_ok(), "{:?}", started.err());
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_seat_gives_its_place_to_a_newcomer() {
    let lab = Lab::new(
        UiFiles::Embedded,
        &web::long_lived_api_settings(),
        Recorder::bounded(10),
    );
    let limits = refresh_race::classroom::RoomLimits {
        max_attendees: 1,
        seat_idle_ms: 300,
        ..Default::default()
    };
    let info = lab
        .open_room_with("127.0.0.1:0".parse().unwrap(), limits)
        .await
        .unwrap();
    let room = Room {
        instructor: String::new(),
        room: info.join_url.split("/join").next().unwrap().to_owned(),
        code: info.code,
        lab: lab.clone(),
    };
    let first = join(&room, 50, &room.code, None).await.cookie.unwrap();
    let full = join(&room, 51, &room.code, None).await;
    assert_eq!(full.status, 503, "{}", full.body);
    // The seat's idle time is wall time: nothing to wait on but the clock.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let newcomer = join(&room, 51, &room.code, None).await;
    assert_eq!(newcomer.status, 303, "{}", newcomer.body);
    let old = browser(50)
        .get(format!("{}/lab/options", room.room))
        .header("cookie", first)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401, "the idle seat was freed");
}

// ---- 3. the code ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_has_40_bits_and_is_typed_forgivingly() {
    let room = open_room().await;
    let letters: String = room
        .code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    // 32 symbols: 5 bits each.
    assert!(letters.len() * 5 >= 40, "{}", room.code);
    let lower = letters.to_lowercase();
    let (head, tail) = lower.split_at(4);
    for (n, typed) in [
        format!("%20{}%20", room.code),
        format!("+{lower}+"),
        format!("{head}-{tail}"),
        format!("{head}%20{tail}"),
    ]
    .iter()
    .enumerate()
    {
        let joined = join(&room, 30 + n as u8, typed, None).await;
        assert_eq!(joined.status, 303, "{typed}: {}", joined.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_guesses_are_rate_limited_per_address() {
    let room = open_room().await;
    let mut refused = 0;
    let limited = loop {
        let joined = join(&room, 5, "AAAAAAAAAA", None).await;
        match joined.status {
            403 => refused += 1,
            429 => break joined,
            other => panic!("{other}: {}", joined.body),
        }
        assert!(refused < 50, "50 wrong guesses and no limit");
    };
    assert!(limited.retry_after.is_some_and(|s| s > 0));
    assert!(limited.body.contains("too many"), "{}", limited.body);
    // Even the right code waits now: a guesser learns nothing.
    let right = join(&room, 5, &room.code, None).await;
    assert_eq!(right.status, 429);
    // Another address is not held back.
    let other = join(&room, 6, &room.code, None).await;
    assert_eq!(other.status, 303, "{}", other.body);
}

// ---- 1 and 6. bounds on what a page and a seat send ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_page_reports_is_refused_with_a_retry_after() {
    let base = start_lab().await;
    let (_run, id) = held_page_run(&base).await;
    let queued: Vec<Value> = (0..120)
        .map(|_| json!({"kind": "queued", "lane": "secret#1", "jti": null}))
        .collect();
    let mut refused = None;
    for seq in 1..=400u64 {
        let body = json!({"seq": seq, "started": 0, "received": 0, "events": queued});
        let (status, body, retry) = page_report(&base, id, body).await;
        if status != 200 {
            refused = Some((seq, status, body, retry));
            break;
        }
    }
    let (seq, status, body, retry) = refused.expect("400 reports of 120 events, all taken");
    assert!(seq <= 3, "refused only at report {seq}");
    assert!([413, 429].contains(&status), "{status} {body}");
    assert!(
        body["message"].as_str().unwrap().contains("events"),
        "{body}"
    );
    assert!(retry.is_some(), "a Retry-After");
    // The run itself is fine: the page's own report is taken, and a
    // command answers.
    let (status, body, _) =
        page_report(&base, id, json!({"seq": 1000, "started": 0, "received": 0})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = common::command(&base, id, json!({"command": "pause"})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_page_exchanges_is_refused() {
    let base = start_lab().await;
    let settings = json!({"runtime": "browser", "secret": 1, "public": 0,
                          "latency_ms": {"secret": 0, "public": 0, "refresh": 0}});
    let (_run, start) = Run::start(&http(), &base, None, settings).await.unwrap();
    let id = start["run"].as_u64().unwrap();
    let mut refused = None;
    for n in 0..1_000 {
        let (status, body) = common::answer(page_get(&base, id, "/public", &[])).await;
        if status == 429 {
            refused = Some((n, body));
            break;
        }
    }
    let (n, body) = refused.expect("1,000 exchanges for a one-request run, all taken");
    assert!(n < 200, "refused only after {n}");
    assert_eq!(body["error"], "too_many_requests", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_browser_run_is_abandoned() {
    let base = start_lab().await;
    let settings = json!({"runtime": "browser", "secret": 1, "public": 0, "idle_s": 1});
    let (mut run, _) = Run::start(&http(), &base, None, settings).await.unwrap();
    let abandoned = tokio::time::timeout(Duration::from_secs(10), run.until("abandoned"))
        .await
        .expect("a page that never reports is abandoned within its idle_s");
    assert!(
        abandoned["message"].as_str().unwrap().contains("1 s"),
        "{abandoned}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_name_is_bounded_in_bytes() {
    let base = start_lab().await;
    let (status, body) = common::answer(
        http()
            .post(format!("{base}/api/login"))
            .json(&json!({"login": "x".repeat(15_000), "password": "p"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("at most"),
        "{body}"
    );
    let (status, _) = common::answer(
        http()
            .post(format!("{base}/api/login"))
            .json(&json!({"login": "ada.lovelace@example.org", "password": "p"})),
    )
    .await;
    assert_eq!(status, 200);
}

// ---- 9. reports checked against the run ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_reports_are_checked_against_the_run() {
    let base = start_lab().await;
    let settings = json!({"runtime": "browser", "secret": 1, "public": 1, "network": "hand"});
    let (_run, start) = Run::start(&http(), &base, None, settings).await.unwrap();
    let id = start["run"].as_u64().unwrap();
    let done = |lane: &str, seq: u64| {
        json!({"seq": seq, "started": 0, "received": 0,
               "events": [{"kind": "request_done", "lane": lane, "ok": true, "status": 200}]})
    };
    for (seq, lane) in [(1, "secret#9999"), (2, "tab8/secret#1"), (3, "late#1")] {
        let (status, body, _) = page_report(&base, id, done(lane, seq)).await;
        assert_eq!(status, 400, "{lane}: {body}");
        assert!(body["message"].as_str().unwrap().contains(lane), "{body}");
    }
    let (status, body, _) = page_report(&base, id, done("secret#1", 4)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = page_report(&base, id, done("secret#1", 5)).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("already"),
        "{body}"
    );
}

// ---- 5. exports in flight ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_in_flight_are_bounded() {
    let base = start_lab().await;
    let addr = base.trim_start_matches("http://").to_owned();
    // Exports that are still uploading hold their places. `Expect:
    // 100-continue`: the server says "100 Continue" when the export starts
    // reading its body, after it took its place, so the test knows when.
    let mut uploading = Vec::new();
    for _ in 0..refresh_race::export::lab::EXPORTS_IN_FLIGHT {
        let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /lab/export/svg HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut heard = Vec::new();
        while !heard.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            assert_eq!(
                socket.read(&mut byte).await.unwrap(),
                1,
                "the server closed early"
            );
            heard.push(byte[0]);
        }
        let heard = String::from_utf8_lossy(&heard);
        assert!(heard.starts_with("HTTP/1.1 100 Continue"), "{heard}");
        socket.write_all(b"{\"settings\"").await.unwrap();
        uploading.push(socket);
    }
    let refused = http()
        .post(format!("{base}/lab/export/svg"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        429,
        "another export while the places are taken"
    );
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests", "{body}");
    // Once they end (the server answered them, so their places are free),
    // exports go through again.
    for mut socket in uploading {
        socket.shutdown().await.unwrap();
        let mut rest = Vec::new();
        let _ = socket.read_to_end(&mut rest).await;
    }
    let answered = http()
        .post(format!("{base}/lab/export/svg"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(answered, 400, "a bad report, not a busy lab");
}

// ---- 10. the smaller doors ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seats_request_limit_counts_every_tab() {
    let room = open_room().await;
    let seat = join(&room, 40, &room.code, None).await.cookie.unwrap();
    let settings = json!({"tabs": 8, "secret": 100, "public": 100});
    let refused = Run::start(&browser(40), &room.room, Some(&seat), settings).await;
    let (status, body) = refused.err().expect("1,600 requests refused");
    assert_eq!(status, 503, "{body}");
    assert!(body["message"].as_str().unwrap().contains("1600"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_id_out_of_range_is_an_unknown_run_in_json() {
    let base = start_lab().await;
    for path in ["page", "network", "api/public"] {
        let url = format!("{base}/lab/runs/18446744073709551616/{path}");
        let (status, body) = common::answer(http().post(url).json(&json!({}))).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("unknown_run")),
            "{path}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_to_an_unknown_path_is_not_found() {
    let lab = Lab::new(
        UiFiles::Embedded,
        &web::long_lived_api_settings(),
        Recorder::bounded(10),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(web::serve_router(
        listener,
        lab.instructor_router(),
        std::future::pending(),
    ));
    for path in ["/nothing-here", "/index.html"] {
        let (status, body) =
            common::answer(http().post(format!("{base}{path}")).json(&json!({}))).await;
        let expected = if path == "/index.html" { 405 } else { 404 };
        assert_eq!(status, expected, "{path}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_closes_reopens_on_its_port_and_seats_can_be_removed() {
    let lab = Lab::new(
        UiFiles::Embedded,
        &web::long_lived_api_settings(),
        Recorder::bounded(10),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(web::serve_router(
        listener,
        lab.instructor_router(),
        std::future::pending(),
    ));
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let open = || {
        common::answer(
            http()
                .post(format!("{base}/lab/classroom/open"))
                .json(&json!({"host": "127.0.0.1", "port": port})),
        )
    };
    let (status, first) = open().await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = open().await;
    assert_eq!(status, 200, "reopening on the same port: {second}");
    assert_ne!(first["code"], second["code"], "a new room, a new code");

    let room = Room {
        instructor: base.clone(),
        room: format!("http://127.0.0.1:{port}"),
        code: second["code"].as_str().unwrap().to_owned(),
        lab: lab.clone(),
    };
    let seat = join(&room, 41, &room.code, None).await.cookie.unwrap();
    let options = |cookie: String| {
        let url = format!("{}/lab/options", room.room);
        async move {
            browser(41)
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    };
    assert_eq!(options(seat.clone()).await.unwrap(), 200);
    let number = roster(&room).await[0]["number"].as_u64().unwrap();
    let (status, body) = common::answer(
        http()
            .post(format!("{base}/lab/classroom/seats/{number}/remove"))
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        options(seat.clone()).await.unwrap(),
        401,
        "a removed seat is no seat"
    );
    assert!(roster(&room).await.is_empty());

    let (status, body) = common::answer(
        http()
            .post(format!("{base}/lab/classroom/close"))
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        options(seat).await.is_err(),
        "nobody listens on the room's port"
    );
    let (status, body) = common::answer(http().get(format!("{base}/lab/classroom/status"))).await;
    assert_eq!((status, body["open"].as_bool()), (200, Some(false)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_xml_character_in_a_report_keeps_the_exports_well_formed() {
    let base = start_lab().await;
    let settings = refresh_race::settings::RunSettings {
        secret: 1,
        public: 0,
        ..refresh_race::settings::RunSettings::default()
    };
    let report = refresh_race::scenario::run(&settings).await.unwrap();
    let mut report = serde_json::to_value(&report).unwrap();
    // A page may report any jti up to 64 characters: one with U+FFFE and
    // a C0 control, as a hostile module would.
    let events = report["events"].as_array_mut().unwrap();
    let stored = events
        .iter_mut()
        .find(|e| e["kind"] == "token_stored")
        .expect("case 3 stores a token");
    stored["jti"] = json!("t\u{FFFE}\u{1}x");
    let (status, svg) = {
        let response = http()
            .post(format!("{base}/lab/export/svg"))
            .json(&report)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    assert_eq!(status, 200, "{svg}");
    roxmltree::Document::parse(&svg).expect("well-formed XML");
    let response = http()
        .post(format!("{base}/lab/export/png"))
        .json(&report)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

// ---- 7. file descriptors ----

/// `refresh-race serve --classroom` in a process that may open `soft`
/// files (`hard` at most), as under a low `ulimit -n`; returns the child
/// and the instructor's and the room's base URLs.
fn serve_with_file_limit(soft: u64, hard: u64) -> (std::process::Child, String, String) {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_refresh-race"));
    command
        .args([
            "serve",
            "--port",
            "0",
            "--classroom",
            "--room-host",
            "127.0.0.1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut instructor, mut room) = (String::new(), String::new());
    while instructor.is_empty() || room.is_empty() {
        let line = lines.next().expect("serve prints its addresses").unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            instructor = url.to_owned();
        }
        if let Some(url) = line.strip_prefix("classroom open: attendees join at ") {
            room = url.split("/join").next().unwrap().to_owned();
        }
    }
    // Keep reading: a server whose stdout is closed dies on its next line.
    std::thread::spawn(move || lines.for_each(drop));
    (child, instructor, room)
}

/// The soft open-file limit of process `pid`, from /proc.
fn soft_file_limit(pid: u32) -> u64 {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_file_limit_is_raised_to_the_hard_limit() {
    let (mut child, _, _) = serve_with_file_limit(300, 8_000);
    assert_eq!(soft_file_limit(child.id()), 8_000);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_connections_meets_the_cap_before_the_file_limit() {
    let (mut child, instructor, room) = serve_with_file_limit(512, 512);
    let room_addr = room.trim_start_matches("http://").to_owned();
    // 700 idle connections to the room: more than the process may open.
    let mut idle = Vec::new();
    for _ in 0..700 {
        idle.push(tokio::net::TcpStream::connect(&room_addr).await.unwrap());
    }
    // The room answers the next one at once (503, or closed when too many
    // refusals are in flight) instead of leaving it in the kernel's queue...
    let next = tokio::time::timeout(
        Duration::from_secs(5),
        http().get(format!("{room}/join")).send(),
    )
    .await
    .expect("the room answers a connection past its cap");
    if let Ok(answer) = next {
        assert_eq!(answer.status(), 503);
    }
    // ...and the instructor's port still answers.
    let public = tokio::time::timeout(
        Duration::from_secs(5),
        http().get(format!("{instructor}/api/public")).send(),
    )
    .await
    .expect("the instructor's port answers")
    .unwrap();
    assert_eq!(public.status(), 200);
    drop(idle);
    child.kill().unwrap();
    child.wait().unwrap();
}
