//! Explore in a classroom, over real HTTP: a seat's exploration takes one
//! of its live-run places, a seat explores one setup at a time, the seats
//! together have places of their own (the room cannot take the
//! instructor's), and a place comes back as soon as its stream is closed.

use crate::common;

use common::{open_room, Room};

use common::http;
use refresh_race::explore::lab::{ROOM_EXPLORATIONS, SEAT_EXPLORATIONS};
use serde_json::{json, Value};

/// A new seat's cookie.
async fn seat(room: &Room) -> String {
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(format!("{}/join?code={}", room.room, room.code))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// A setup that explores for longer than the test needs (the room stops
/// it within its budget; closing the stream stops it at once).
fn long() -> Value {
    json!({"settings": {"case": "expired-refreshable", "strategy": "single-flight", "secret": 3, "public": 1}})
}

/// Starts an exploration; the open stream on success, the error's status
/// and body otherwise.
async fn explore(
    base: &str,
    cookie: Option<&str>,
    body: Value,
) -> Result<reqwest::Response, (u16, Value)> {
    let mut request = http().post(format!("{base}/lab/explore")).json(&body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    if response.status() == 200 {
        return Ok(response);
    }
    let status = response.status().as_u16();
    Err((status, response.json().await.unwrap()))
}

fn message(err: &(u16, Value)) -> &str {
    err.1["message"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_explores_within_its_places_and_cannot_starve_the_room_or_the_instructor() {
    assert_eq!((SEAT_EXPLORATIONS, ROOM_EXPLORATIONS), (1, 2));
    let room = open_room().await;
    let (ada, bob, cy) = (seat(&room).await, seat(&room).await, seat(&room).await);

    // Ada's exploration runs; a second one of hers waits for it.
    let ada_explores = explore(&room.room, Some(&ada), long()).await.unwrap();
    let again = explore(&room.room, Some(&ada), long()).await.unwrap_err();
    assert_eq!(again.0, 503, "{}", again.1);
    assert!(
        message(&again).contains("one exploration at a time per seat"),
        "{}",
        again.1
    );

    // It holds one of her 2 live-run places: one run more, not two.
    let run = http()
        .post(format!("{}/lab/runs", room.room))
        .header("cookie", &ada)
        .json(&json!({"network": "hand", "secret": 1, "public": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 200);
    let (status, body) = common::answer(
        http()
            .post(format!("{}/lab/runs", room.room))
            .header("cookie", &ada)
            .json(&json!({"network": "hand"})),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("2 runs going"),
        "{body}"
    );

    // Bob explores beside her; the room's places are then taken, Cy waits.
    let bob_explores = explore(&room.room, Some(&bob), long()).await.unwrap();
    let full = explore(&room.room, Some(&cy), long()).await.unwrap_err();
    assert_eq!(full.0, 503, "{}", full.1);
    assert!(
        message(&full).contains("the room's seats have 2 explorations running"),
        "{}",
        full.1
    );

    // The instructor's places are the lab's own: an exploration to its end.
    let small = json!({"settings": {"case": "expired-refreshable", "strategy": "single-flight", "secret": 2, "public": 0}});
    let text = explore(&room.instructor, None, small)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let result: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(result["type"], "result", "{text}");
    assert_eq!(
        (
            result["exploration"]["orders"].as_u64(),
            result["exploration"]["exact"].as_bool()
        ),
        (Some(194), Some(true))
    );

    // Ada closes her stream: her place in the room comes back, Cy explores.
    drop(ada_explores);
    let mut cy_explores = None;
    for _ in 0..100 {
        match explore(&room.room, Some(&cy), long()).await {
            Ok(stream) => {
                cy_explores = Some(stream);
                break;
            }
            Err(err) => {
                assert!(message(&err).contains("the room's seats"), "{}", err.1);
                tokio::task::yield_now().await;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }
    assert!(cy_explores.is_some(), "Ada's place never came back");
    drop((bob_explores, cy_explores, run));
}

/// A client that runs in the page is explored within the page's bound; past
/// it the lab refuses before anything runs, naming the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_setup_past_two_request_lanes_is_refused_with_the_bound() {
    let room = open_room().await;
    let body = json!({"settings": {"case": "expired-refreshable", "strategy": "queue", "runtime": "browser", "secret": 3, "public": 3}});
    let refused = explore(&room.instructor, None, body).await.unwrap_err();
    assert_eq!(refused.0, 400, "{}", refused.1);
    assert!(
        message(&refused).contains("at most 2 request lanes"),
        "{}",
        refused.1
    );
    assert!(
        message(&refused).contains("this setup has 6"),
        "{}",
        refused.1
    );
}
