//! The room as one, over real HTTP: the instructor pushes a setup to every
//! seat (seats cannot), the results count each seat's runs of it exactly as
//! their own streams reported them, closing the room tells every seat and
//! ends its connections, a seat that comes back keeps its number and runs,
//! and a seat that floods the lab does not slow the others into failure.

use crate::common;

use common::{open_room, Room};

use std::sync::Arc;

use common::http;
use refresh_race::link::{self, Link};
use refresh_race::settings::{Case, RunSettings, Strategy};
use serde_json::{json, Value};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Joins (carrying `cookie`, if any); returns the answer's status and the
/// seat cookie it set.
async fn join_with(room: &Room, cookie: Option<&str>) -> (u16, Option<String>) {
    let mut request = no_redirects().get(format!("{}/join?code={}", room.room, room.code));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    (response.status().as_u16(), cookie)
}

async fn join(room: &Room) -> String {
    let (status, cookie) = join_with(room, None).await;
    assert_eq!(status, 303);
    cookie.expect("a seat cookie")
}

async fn seat_get(room: &Room, cookie: &str, path: &str) -> (u16, Value) {
    common::answer(
        http()
            .get(format!("{}{path}", room.room))
            .header("cookie", cookie),
    )
    .await
}

/// Case 3 with `strategy`, fast: a real race in a fraction of a second.
fn case3(strategy: Strategy) -> RunSettings {
    RunSettings {
        case: Case::ExpiredRefreshable,
        strategy,
        speed: 10.0,
        ..RunSettings::default()
    }
}

async fn push(room: &Room, body: Value) -> (u16, Value) {
    common::answer(
        http()
            .post(format!("{}/lab/classroom/push", room.instructor))
            .json(&body),
    )
    .await
}

async fn push_setup(room: &Room, settings: &RunSettings) -> Value {
    let fragment = link::encode(&Link {
        settings: settings.clone(),
        source: None,
    });
    let (status, body) = push(room, json!({"setup": fragment})).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A seat runs `settings` to the end; returns the verdict its stream gave.
async fn run(room: &Room, cookie: &str, settings: &RunSettings) -> Value {
    let response = http()
        .post(format!("{}/lab/runs", room.room))
        .header("cookie", cookie)
        .json(settings)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "done", "{last}");
    last["verdict"].clone()
}

async fn results(room: &Room) -> Value {
    let (status, body) =
        common::answer(http().get(format!("{}/lab/classroom/results", room.instructor))).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Reads server-sent events from a seat's `/lab/room/events`.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(room: &Room, cookie: &str) -> Events {
        let response = http()
            .get(format!("{}/lab/room/events", room.room))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Events {
            response,
            buffer: String::new(),
        }
    }

    /// The next event's name and data; `None` when the stream ended.
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = Value::Null;
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = n.to_owned();
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data = serde_json::from_str(d).unwrap();
                    }
                }
                return Some((name, data));
            }
            let chunk = self.response.chunk().await.ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_instructor_pushes_and_every_seat_hears_it() {
    let room = open_room().await;
    let ada = join(&room).await;
    let mut heard = Events::open(&room, &ada).await;
    let (name, first) = heard.next().await.unwrap();
    assert_eq!((name.as_str(), &first["push"]), ("room", &Value::Null));
    let seat = first["seat"].as_u64().unwrap();

    // A seat cannot push, nor read the room's results.
    let fragment = link::encode(&Link {
        settings: case3(Strategy::Naive),
        source: None,
    });
    let (status, body) = common::answer(
        http()
            .post(format!("{}/lab/classroom/push", room.room))
            .header("cookie", &ada)
            .json(&json!({"setup": fragment})),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    let (status, _) = seat_get(&room, &ada, "/lab/classroom/results").await;
    assert_eq!(status, 403);

    // Bad pushes are refused with the reason, and nothing reaches the seats.
    for (body, says) in [
        (json!({}), "names a setup"),
        (json!({"setup": "#s=1.AAAA"}), "damaged"),
        (json!({"setup": "#s=9.AAAA"}), "format 9"),
        (json!({"step": "fly"}), "unknown variant"),
        (
            json!({"setup": link::encode(&Link { settings: case3(Strategy::Naive), source: Some("export {}".into()) })}),
            "carries no module",
        ),
    ] {
        let (status, answer) = push(&room, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer.to_string().contains(says), "{body}: {answer}");
    }

    // A whole link is accepted too; the seat gets its fragment.
    let pushed = push_setup(&room, &case3(Strategy::Naive)).await;
    assert_eq!(pushed["id"], 1);
    assert_eq!(pushed["setup"], json!(fragment));
    assert_eq!(
        pushed["summary"],
        "expired-refreshable: naive client, strict server"
    );
    let (name, heard_push) = heard.next().await.unwrap();
    assert_eq!(name, "room");
    assert_eq!(heard_push["seat"].as_u64(), Some(seat));
    assert_eq!(heard_push["push"], pushed);
    let (status, state) = seat_get(&room, &ada, "/lab/room").await;
    assert_eq!(status, 200);
    assert_eq!(
        (state["seat"].as_u64(), &state["push"]),
        (Some(seat), &pushed)
    );

    // A lesson step.
    let (status, step) = push(&room, json!({"step": "fix-it"})).await;
    assert_eq!((status, step["id"].as_u64()), (200, Some(2)), "{step}");
    let (_, heard_step) = heard.next().await.unwrap();
    assert_eq!(heard_step["push"]["step"], "fix-it");
    assert_eq!(heard_step["push"]["summary"], "lesson step 3");

    // The instructor's own port has no seat routes of its own to misuse.
    let (status, _) = common::answer(http().get(format!("{}/lab/room", room.instructor))).await;
    assert_ne!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_results_count_each_seats_runs_as_their_streams_reported() {
    let room = open_room().await;
    let (ada, bob, cy) = (join(&room).await, join(&room).await, join(&room).await);
    let naive = case3(Strategy::Naive);
    // A run before the push counts for nothing.
    run(&room, &ada, &naive).await;
    push_setup(&room, &naive).await;
    let empty = results(&room).await;
    assert_eq!(
        (
            &empty["seats"],
            &empty["ran"],
            &empty["runs"],
            &empty["logged_out"]
        ),
        (&json!(3), &json!(0), &json!(0), &json!(0))
    );

    let ada_first = run(&room, &ada, &naive).await;
    let ada_last = run(&room, &ada, &naive).await;
    let bob_last = run(&room, &bob, &naive).await;
    // Another client is not the pushed setup.
    let cy_own = run(&room, &cy, &case3(Strategy::SingleFlight)).await;
    assert_eq!(cy_own["logouts"], 0);
    // Cy checks two lesson steps; an unknown step is refused.
    let (status, _) = common::answer(
        http()
            .post(format!("{}/lab/room/progress", room.room))
            .header("cookie", &cy)
            .json(&json!({"steps": ["watch-the-race", "fix-it"]})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = common::answer(
        http()
            .post(format!("{}/lab/room/progress", room.room))
            .header("cookie", &cy)
            .json(&json!({"steps": ["nap"]})),
    )
    .await;
    assert_eq!(status, 400);

    let r = results(&room).await;
    let out = |v: &Value| v["logouts"].as_u64().unwrap() > 0;
    let expected_out = usize::from(out(&ada_last)) + usize::from(out(&bob_last));
    assert!(out(&ada_first), "naive case 3 logs out: {ada_first}");
    assert_eq!(r["seats"], 3);
    assert_eq!(r["ran"], 2);
    assert_eq!(r["runs"], 3);
    assert_eq!(r["logged_out"], expected_out);
    // The histogram holds each seat's last run.
    let mut expected: std::collections::BTreeMap<u64, u64> = Default::default();
    for v in [&ada_last, &bob_last] {
        *expected
            .entry(v["refresh_calls"].as_u64().unwrap())
            .or_default() += 1;
    }
    let histogram: std::collections::BTreeMap<u64, u64> = r["refresh_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["calls"].as_u64().unwrap(), b["seats"].as_u64().unwrap()))
        .collect();
    assert_eq!(histogram, expected);
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows.iter()
            .map(|row| row["runs"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [2, 1, 0]
    );
    assert_eq!(rows[2]["logged_out"], Value::Null);
    assert_eq!(rows[0]["refresh_calls"], ada_last["refresh_calls"]);
    assert_eq!(rows[2]["steps"], json!(["watch-the-race", "fix-it"]));
    let cy_number = rows[2]["number"].clone();
    assert_eq!(r["steps"]["fix-it"], json!([cy_number]));
    assert_eq!(r["steps"]["by-hand"], json!([]));

    // A seat sees its own part only.
    let (_, bob_state) = seat_get(&room, &bob, "/lab/room").await;
    assert_eq!(bob_state["runs"], 1);
    assert_eq!(bob_state["refresh_calls"], bob_last["refresh_calls"]);
    assert!(bob_state.get("rows").is_none());

    // A new push starts the count again.
    push_setup(&room, &case3(Strategy::SingleFlight)).await;
    let r = results(&room).await;
    assert_eq!((&r["ran"], &r["runs"]), (&json!(0), &json!(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_tells_every_seat_and_ends_its_connections() {
    let room = open_room().await;
    let (ada, bob) = (join(&room).await, join(&room).await);
    let mut streams = [
        Events::open(&room, &ada).await,
        Events::open(&room, &bob).await,
    ];
    for stream in &mut streams {
        assert_eq!(stream.next().await.unwrap().0, "room");
    }
    let (status, body) = common::answer(
        http()
            .post(format!("{}/lab/classroom/close", room.instructor))
            .json(&json!({})),
    )
    .await;
    assert_eq!((status, &body["closed"]), (200, &json!(true)));
    for stream in &mut streams {
        let (name, data) = stream.next().await.unwrap();
        assert_eq!(name, "closed", "{data}");
        assert!(stream.next().await.is_none(), "the stream ends");
    }
    assert!(
        http()
            .get(format!("{}/lab/room", room.room))
            .send()
            .await
            .is_err(),
        "nobody listens on the room's port"
    );
    let (status, _) =
        common::answer(http().get(format!("{}/lab/classroom/results", room.instructor))).await;
    assert_eq!(status, 404);
    assert!(!room.lab.room_open());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_that_comes_back_has_its_number_and_runs() {
    let room = open_room().await;
    let _first = join(&room).await;
    let ada = join(&room).await;
    let naive = case3(Strategy::Naive);
    push_setup(&room, &naive).await;
    let verdict = run(&room, &ada, &naive).await;
    let (_, before) = seat_get(&room, &ada, "/lab/room").await;
    let seat = before["seat"].as_u64().unwrap();
    assert_eq!(seat, 2);

    // Lost Wi-Fi, then the same link again: the same seat, no new cookie.
    let (status, cookie) = join_with(&room, Some(&ada)).await;
    assert_eq!((status, cookie), (303, None));
    let mut heard = Events::open(&room, &ada).await;
    let (_, again) = heard.next().await.unwrap();
    assert_eq!(again["seat"].as_u64(), Some(seat));
    assert_eq!(again["push"]["id"], 1);
    let (_, after) = seat_get(&room, &ada, "/lab/room").await;
    assert_eq!(after["runs"], 1);
    assert_eq!(after["refresh_calls"], verdict["refresh_calls"]);
    let r = results(&room).await;
    assert_eq!((&r["seats"], &r["ran"]), (&json!(2), &json!(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_seat_does_not_starve_the_others() {
    let room = open_room().await;
    let (flood, ada) = (join(&room).await, join(&room).await);
    let single = case3(Strategy::SingleFlight);
    push_setup(&room, &single).await;

    // The flooding seat: 32 connections asking for the secret as fast as
    // they can, until told to stop.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flooders = Vec::new();
    for _ in 0..32 {
        let (stop, url, cookie) = (
            stop.clone(),
            format!("{}/api/secret", room.room),
            flood.clone(),
        );
        flooders.push(tokio::spawn(async move {
            let client = http();
            let mut sent = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = client.get(&url).header("cookie", &cookie).send().await;
                sent += 1;
            }
            sent
        }));
    }

    // Meanwhile Ada logs in, reads her secret 50 times and runs the pushed setup.
    let (status, login) = common::answer(
        http()
            .post(format!("{}/api/login", room.room))
            .header("cookie", &ada)
            .json(&json!({"login": "ada", "password": "pw"})),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().unwrap();
    let mut ok = 0;
    for _ in 0..50 {
        let response = http()
            .get(format!("{}/api/secret", room.room))
            .header("cookie", &ada)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        ok += u32::from(response.status() == 200);
    }
    let verdicts = [
        run(&room, &ada, &single).await,
        run(&room, &ada, &single).await,
    ];
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut flooded = 0;
    for flooder in flooders {
        flooded += flooder.await.unwrap();
    }
    assert!(flooded > 100, "the flood was real: {flooded} requests");
    assert_eq!(ok, 50);
    for verdict in &verdicts {
        assert_eq!(
            (
                &verdict["refresh_calls"],
                &verdict["logouts"],
                &verdict["failed"]
            ),
            (&json!(1), &json!(0), &json!(0)),
            "{verdict}"
        );
    }
    let r = results(&room).await;
    assert_eq!(
        (&r["ran"], &r["runs"], &r["logged_out"]),
        (&json!(1), &json!(2), &json!(0))
    );
    assert_eq!(r["refresh_calls"], json!([{"calls": 1, "seats": 1}]));
    let flood_row = &r["rows"][0];
    assert_eq!(flood_row["runs"], 0, "a flood of API calls is no run");
}
