//! Classroom mode over real HTTP: nothing but the join page without the
//! room's code; with it, each attendee's API, lab clock and runs are their
//! own, within limits; the roster is the instructor's.

use crate::common;

use common::{open_room, Room};

use common::http;
use refresh_race::settings::RunSettings;
use refresh_race::timeline::Recorder;
use refresh_race::ui_files::UiFiles;
use refresh_race::web::{self, Lab};
use serde_json::{json, Value};

/// Joins with `code`; returns the seat cookie (`name=value`) on success.
async fn join(room: &Room, code: &str) -> (u16, Option<String>, String) {
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(format!("{}/join?code={code}", room.room))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    (status, cookie, response.text().await.unwrap())
}

async fn get(url: String, cookie: Option<&str>) -> (u16, String) {
    let mut request = http().get(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn post(url: String, cookie: &str, body: Value) -> (u16, Value) {
    common::answer(http().post(url).header("cookie", cookie).json(&body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_code_there_is_only_the_join_page() {
    let room = open_room().await;
    let (status, page) = get(format!("{}/", room.room), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-join") && page.contains("Enter the code"));
    let response = http()
        .get(format!("{}/join", room.room))
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("form-action 'self'"));
    for path in ["/lab/options", "/api/public", "/lab/clock"] {
        let (status, body) = get(format!("{}{path}", room.room), None).await;
        assert_eq!(status, 401, "{path}");
        assert!(body.contains("not_joined"), "{body}");
    }
    let (status, _) = common::answer(
        http()
            .post(format!("{}/api/login", room.room))
            .json(&json!({"login": "eve", "password": "x"})),
    )
    .await;
    assert_eq!(status, 401);
    let (status, cookie, page) = join(&room, "WRONG1").await;
    assert_eq!((status, cookie), (403, None));
    assert!(page.contains("not this room's code"));
    // A forged seat is no seat.
    let (status, _) = get(format!("{}/lab/options", room.room), Some("rr_seat=00ff")).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_attendee_has_their_own_clock_tokens_and_runs() {
    let room = open_room().await;
    let (status, ada, _) = join(&room, &room.code.to_lowercase()).await;
    assert_eq!(status, 303);
    let ada = ada.expect("a seat cookie");
    let (_, bob, _) = join(&room, &room.code).await;
    let bob = bob.unwrap();
    let (status, page) = get(format!("{}/", room.room), Some(&ada)).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-timeline"), "the lab's own page");

    // Ada's time travel moves Ada's clock only.
    let clock = |cookie: String| {
        let url = format!("{}/lab/clock", room.room);
        async move {
            let (_, body) = get(url, Some(&cookie)).await;
            serde_json::from_str::<Value>(&body).unwrap()["lab_now_ms"]
                .as_u64()
                .unwrap()
        }
    };
    let bob_before = clock(bob.clone()).await;
    let (status, _) = post(
        format!("{}/lab/clock", room.room),
        &ada,
        json!({"advance_s": 3600}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(clock(ada.clone()).await >= bob_before + 3_600_000);
    assert!(clock(bob.clone()).await < bob_before + 3_600_000);

    // Ada's token is not Bob's API's token: another key signed it.
    let (_, login) = post(
        format!("{}/api/login", room.room),
        &ada,
        json!({"login": "ada", "password": "x"}),
    )
    .await;
    let token = login["token"].as_str().unwrap();
    let (status, body) = common::answer(
        http()
            .get(format!("{}/api/secret", room.room))
            .header("cookie", &bob)
            .bearer_auth(token),
    )
    .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("bad_signature"))
    );

    // Runs: at most 2 live per attendee, at most 200 requests each.
    let (status, body) = post(
        format!("{}/lab/runs", room.room),
        &ada,
        json!({"secret": 300, "public": 0}),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("at most 200 requests"));
    let mut held = Vec::new();
    for _ in 0..2 {
        let response = http()
            .post(format!("{}/lab/runs", room.room))
            .header("cookie", &ada)
            .json(&json!({"network": "hand", "secret": 1, "public": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        held.push(response);
    }
    let (status, body) = post(
        format!("{}/lab/runs", room.room),
        &ada,
        json!({"network": "hand"}),
    )
    .await;
    assert_eq!(status, 503);
    assert!(
        body["message"].as_str().unwrap().contains("2 runs going"),
        "{body}"
    );
    // Bob's places are his own.
    let response = http()
        .post(format!("{}/lab/runs", room.room))
        .header("cookie", &bob)
        .json(&json!({"secret": 1, "public": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(text.lines().last().unwrap().contains(r#""type":"done""#));

    // The roster is the instructor's: two seats, Ada with her two held runs.
    let (status, _) = get(format!("{}/lab/classroom", room.room), Some(&ada)).await;
    assert_eq!(status, 403);
    let (status, body) = get(format!("{}/lab/classroom", room.instructor), None).await;
    assert_eq!(status, 200);
    let roster: Value = serde_json::from_str(&body).unwrap();
    let seats = roster["seats"].as_array().unwrap();
    assert_eq!(seats.len(), 2);
    assert_eq!(
        (seats[0]["number"].as_u64(), seats[0]["runs_live"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(seats[1]["runs_done"], 1);
    assert!(
        roster["qr_svg"].as_str().unwrap().starts_with("<?xml")
            || roster["qr_svg"].as_str().unwrap().contains("<svg")
    );
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instructor_opens_the_room_from_the_lab() {
    let lab = Lab::new(
        UiFiles::Embedded,
        &RunSettings::default(),
        Recorder::bounded(10),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(web::serve_router(
        listener,
        lab.instructor_router(),
        std::future::pending(),
    ));
    let (status, _) = get(format!("{base}/lab/classroom"), None).await;
    assert_eq!(status, 404);
    let (status, info) = common::answer(
        http()
            .post(format!("{base}/lab/classroom/open"))
            .json(&json!({"host": "127.0.0.1"})),
    )
    .await;
    assert_eq!(status, 200, "{info}");
    let join_url = info["join_url"].as_str().unwrap();
    assert!(join_url.starts_with("http://127.0.0.1:") && join_url.contains("/join?code="));
    let (status, page) = get(
        join_url.split("/join").next().unwrap().to_owned() + "/",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("data-join"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_says_whose_page_it_is_without_a_failed_request() {
    let lab = Lab::new(
        UiFiles::Embedded,
        &RunSettings::default(),
        Recorder::bounded(10),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(web::serve_router(
        listener,
        lab.instructor_router(),
        std::future::pending(),
    ));
    let status = |url: String, cookie: Option<String>| async move {
        let (status, body) = get(url, cookie.as_deref()).await;
        (
            status,
            serde_json::from_str::<Value>(&body).unwrap_or(Value::Null),
        )
    };
    // The instructor's page: 200 whether or not a room is open.
    let (code, body) = status(format!("{base}/lab/classroom/status"), None).await;
    assert_eq!(
        (code, body),
        (200, json!({"role": "instructor", "open": false}))
    );
    let info = lab.open_room("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (code, body) = status(format!("{base}/lab/classroom/status"), None).await;
    assert_eq!(
        (code, body),
        (200, json!({"role": "instructor", "open": true}))
    );

    // An attendee's page: their seat; without one, 401 like the rest.
    let room = Room {
        instructor: base.clone(),
        room: info.join_url.split("/join").next().unwrap().to_owned(),
        code: info.code,
        lab,
    };
    let (code, _) = status(format!("{}/lab/classroom/status", room.room), None).await;
    assert_eq!(code, 401);
    join(&room, &room.code).await;
    let (_, seat, _) = join(&room, &room.code).await;
    let (code, body) = status(format!("{}/lab/classroom/status", room.room), seat).await;
    assert_eq!(
        (code, body),
        (200, json!({"role": "attendee", "open": true, "seat": 2}))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attendee_reaches_only_their_own_runs() {
    let room = open_room().await;
    let (_, ada, _) = join(&room, &room.code).await;
    let (_, bob, _) = join(&room, &room.code).await;
    let (ada, bob) = (ada.unwrap(), bob.unwrap());

    // Ada's held browser run: its start line names its id and its page paths.
    let mut stream = http()
        .post(format!("{}/lab/runs", room.room))
        .header("cookie", &ada)
        .json(&json!({"runtime": "browser", "secret": 1, "public": 0, "network": "hand"}))
        .send()
        .await
        .unwrap();
    let mut text = String::new();
    while !text.contains('\n') {
        text.push_str(std::str::from_utf8(&stream.chunk().await.unwrap().unwrap()).unwrap());
    }
    let start: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let run = start["run"].as_u64().unwrap();
    let report = json!({"seq": 1, "started": 0, "received": 0});

    // Bob cannot command it, report into it or use its API: to him it does not exist.
    let (status, body) = post(
        format!("{}/lab/runs/{run}/network", room.room),
        &bob,
        json!({"command": "pause"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_run")),
        "{body}"
    );
    let (status, body) = post(
        format!("{}/lab/runs/{run}/page", room.room),
        &bob,
        report.clone(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_run")),
        "{body}"
    );
    let (status, _) = get(
        format!("{}/lab/runs/{run}/api/public", room.room),
        Some(&bob),
    )
    .await;
    assert_eq!(status, 404);

    // Ada can, and so can the instructor on the lab's own port.
    let (status, body) = post(format!("{}/lab/runs/{run}/page", room.room), &ada, report).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = get(
        format!("{}/lab/runs/{run}/api/public", room.room),
        Some(&ada),
    )
    .await;
    assert_eq!(status, 200);
    // Her page counts that exchange, so the run can settle for a command.
    let caught_up = json!({"seq": 2, "started": 1, "received": 1});
    let (status, _) = post(
        format!("{}/lab/runs/{run}/page", room.room),
        &ada,
        caught_up,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = common::answer(
        http()
            .post(format!("{}/lab/runs/{run}/network", room.instructor))
            .json(&json!({"command": "pause"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
