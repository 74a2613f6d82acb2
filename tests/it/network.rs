//! The network scheduler over real HTTP: held runs stand still, one delivery
//! order always gives the same run, every challenge but one is reachable by
//! some order (and an exhaustive search shows the last one is not), and bad
//! commands are refused without changing anything.

use crate::common;

use std::time::Duration;

use common::{command, http, start_lab, Stream};
use refresh_race::challenge::{self, ChallengeId};
use refresh_race::protocol::LegId;
use refresh_race::scenario::{self, RunReport};
use refresh_race::settings::{NetworkDriver, Policy, RunSettings, Strategy};
use serde_json::{json, Value};

fn hand(strategy: Strategy, policy: Policy, order: &str) -> RunSettings {
    RunSettings {
        strategy,
        policy,
        secret: 2,
        public: 0,
        network: NetworkDriver::Hand,
        deliver: common::legs(order),
        ..RunSettings::default()
    }
}

/// An event without what depends on the wall clock (times, `iat`/`exp`,
/// signatures): what must be identical between two replays.
fn stable(report: &RunReport) -> Vec<Value> {
    report
        .events
        .iter()
        .map(|event| {
            let mut value = serde_json::to_value(event).unwrap();
            let object = value.as_object_mut().unwrap();
            for key in ["t_us", "token", "iat", "exp", "refresh_until", "lab_now_ms"] {
                object.remove(key);
            }
            value
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_delivery_order_always_gives_the_same_run() {
    // Both requests get their 401 before either refresh goes: the race.
    let order = "secret#1>,secret#2>,secret#1<,secret#2<,secret#2>,secret#1>";
    let settings = hand(Strategy::Naive, Policy::Family, order);
    let first = scenario::run(&settings).await.unwrap();
    for _ in 0..3 {
        let again = scenario::run(&settings).await.unwrap();
        assert_eq!(stable(&again), stable(&first));
        assert_eq!(again.verdict, first.verdict);
        assert_eq!(again.delivered, first.delivered);
    }
    // The script is the start of what was delivered; the rest went in due order.
    assert_eq!(&first.delivered[..6], &common::legs(order)[..]);
    // Replaying the whole delivered order gives the run once more.
    let replay = RunSettings {
        deliver: first.delivered.clone(),
        ..settings
    };
    let replayed = scenario::run(&replay).await.unwrap();
    assert_eq!(stable(&replayed), stable(&first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_possible_challenge_is_reached_by_a_scripted_order() {
    let orders = [
        (
            ChallengeId::LogoutTwoRequests,
            "secret#1>,secret#2>,secret#1<,secret#2<,secret#1>,secret#1<,secret#2>,secret#2<",
        ),
        (
            ChallengeId::QueueRefreshesTwice,
            // secret#1's whole refresh ends before secret#2's 401 comes back.
            "secret#1>,secret#1<,secret#1>,secret#1<,secret#2>,secret#2<",
        ),
        (
            ChallengeId::TwoLiveTokens,
            // Both refreshes pass the check before either commits.
            "secret#1>,secret#2>,secret#1<,secret#2<,secret#1>,secret#2>,secret#1=,secret#2=",
        ),
        (
            ChallengeId::FamilyKillsWinner,
            "secret#1>,secret#2>,secret#1<,secret#2<,secret#1>,secret#1<,secret#2>",
        ),
    ];
    for (id, order) in orders {
        let preset = challenge::describe(id).settings;
        let settings = RunSettings {
            deliver: common::legs(order),
            ..preset
        };
        let report = scenario::run(&settings).await.unwrap();
        assert!(
            report.solved.contains(&id),
            "{id:?} not reached by {order}: {}",
            report.verdict.sentence
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenges_are_not_solved_by_the_harmless_order() {
    // The same presets, stepped in due order with nothing held back: the
    // naive race still happens (3 of them are about the race), but the
    // queue refreshes once and single-flight is never broken.
    let queue = scenario::run(&challenge::describe(ChallengeId::QueueRefreshesTwice).settings)
        .await
        .unwrap();
    assert_eq!(queue.verdict.refresh_calls, 1);
    assert!(queue.solved.is_empty(), "{:?}", queue.solved);
}

/// Every order of deliveries for two requests under strict with the
/// single-flight client: none refreshes twice or loses a request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_order_breaks_single_flight() {
    let preset = challenge::describe(ChallengeId::BreakSingleFlight).settings;
    let orders = common::every_order(&preset, |report| {
        assert!(
            !challenge::reached(
                ChallengeId::BreakSingleFlight,
                &report.settings,
                &report.events,
                &report.verdict
            ),
            "broken by {:?}: {}",
            report.delivered,
            report.verdict.sentence
        );
        assert_eq!(report.verdict.refresh_calls, 1);
        assert_eq!(report.verdict.ok, 2);
    })
    .await;
    println!("{orders} orders explored");
    // Two lanes of up to three exchanges each interleave in many ways.
    assert_eq!(orders, 194, "the search space changed");
}

// ---- over the lab's HTTP API ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_run_is_played_over_http_and_bad_legs_change_nothing() {
    let base = start_lab().await;
    let settings = json!({"strategy": "queue", "secret": 2, "public": 0, "network": "hand"});
    let mut stream = Stream::open(&base, settings).await;
    let (start, _) = stream.until("start").await;
    let run = start["run"].as_u64().unwrap();
    let (network, _) = stream.until("network").await;
    let ids: Vec<&str> = network["network"]["legs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|leg| leg["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["secret#1>", "secret#2>"]);
    assert_eq!(network["network"]["tab"]["token"], "t1");
    // A leg in view names the token it presents (read only when shown).
    for leg in network["network"]["legs"].as_array().unwrap() {
        assert_eq!(leg["jti"], "t1", "{leg}");
    }

    // A leg that is not in flight: 409, and the tray is unchanged.
    let (status, body) = command(
        &base,
        run,
        json!({"command": "deliver", "leg": "secret#1<"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "unknown_leg");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("secret#1>, secret#2>"));
    let (status, body) = command(&base, run, json!({"command": "deliver", "leg": "tab#1>"})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_json")));
    let (status, _) = command(&base, 999_999, json!({"command": "step"})).await;
    assert_eq!(status, 404);

    // The queue challenge by hand: secret#1's refresh ends before
    // secret#2's 401 comes back.
    for leg in ["secret#1>", "secret#1<", "secret#1>"] {
        let (status, view) = command(&base, run, json!({"command": "deliver", "leg": leg})).await;
        assert_eq!(status, 200, "{view}");
    }
    let (_, view) = command(
        &base,
        run,
        json!({"command": "deliver", "leg": "secret#1<"}),
    )
    .await;
    // secret#1 holds t2 and retries; the flag is down again.
    assert_eq!(view["tab"]["token"], "t2");
    assert_eq!(view["tab"]["strategy"]["rows"][0]["name"], "isRefreshing");
    assert_eq!(view["tab"]["strategy"]["rows"][0]["value"], "false");
    let (status, view) = command(&base, run, json!({"command": "deliver-all"})).await;
    assert_eq!(status, 200);
    assert!(view["delivered"].as_array().unwrap().len() >= 6);
    // Whatever is left goes in due order.
    loop {
        let (status, _) = command(&base, run, json!({"command": "step"})).await;
        if status != 200 {
            break;
        }
    }
    let (done, _) = stream.until("done").await;
    assert_eq!(done["verdict"]["refresh_calls"], 2);
    assert_eq!(done["solved"], json!(["queue-refreshes-twice"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_timer_run_stands_still_and_steps_one_leg_at_a_time() {
    let base = start_lab().await;
    // Slow motion: the first leg takes 200 ms, so the pause lands before it.
    let settings = json!({
        "strategy": "naive", "secret": 2, "public": 1, "speed": 0.05,
        "latency_ms": {"public": 10, "secret": 20, "refresh": 20}
    });
    let mut stream = Stream::open(&base, settings).await;
    let (start, _) = stream.until("start").await;
    let run = start["run"].as_u64().unwrap();
    let (status, view) = command(&base, run, json!({"command": "pause"})).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["paused"], true);
    let (network, _) = stream.until("network").await;
    let delivered = network["network"]["delivered"].as_array().unwrap().len();
    let in_flight = network["network"]["legs"].as_array().unwrap().len();
    assert_eq!((delivered, in_flight), (0, 3));
    // Held for longer than the run's every latency at this speed (400 ms):
    // nothing moves.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, still) = command(&base, run, json!({"command": "pause"})).await;
    assert_eq!(still["delivered"], json!([]));
    assert_eq!(still["legs"], network["network"]["legs"]);
    // One step: exactly one more leg delivered, the earliest due (public#1).
    let (_, stepped) = command(&base, run, json!({"command": "step"})).await;
    assert_eq!(stepped["delivered"], json!(["public#1>"]));
    let (_, stepped) = command(&base, run, json!({"command": "step"})).await;
    assert_eq!(stepped["delivered"], json!(["public#1>", "public#1<"]));
    let (status, _) = command(&base, run, json!({"command": "resume"})).await;
    assert_eq!(status, 200);
    let (done, _) = stream.until("done").await;
    assert_eq!(done["verdict"]["refresh_calls"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_run_left_alone_is_abandoned() {
    let base = start_lab().await;
    let settings = json!({"secret": 1, "public": 0, "network": "hand", "idle_s": 1});
    let mut stream = Stream::open(&base, settings).await;
    let (start, _) = stream.until("start").await;
    let run = start["run"].as_u64().unwrap();
    let (abandoned, _) = stream.until("abandoned").await;
    assert!(abandoned["message"].as_str().unwrap().contains("1 s"));
    assert!(stream.next().await.is_none(), "the stream ends");
    let (status, _) = command(&base, run, json!({"command": "step"})).await;
    assert_eq!(status, 404, "an abandoned run is freed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_runs_are_bounded() {
    let base = start_lab().await;
    let mut held = Vec::new();
    for _ in 0..refresh_race::runs::MAX_LIVE_RUNS {
        let mut stream =
            Stream::open(&base, json!({"secret": 1, "public": 0, "network": "hand"})).await;
        stream.until("network").await;
        held.push(stream);
    }
    let (status, body) = common::answer(
        http()
            .post(format!("{base}/lab/runs"))
            .json(&json!({"network": "hand"})),
    )
    .await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "busy");
    // Closing one frees its place.
    drop(held.pop());
    let mut freed = None;
    for _ in 0..50 {
        let response = http()
            .post(format!("{base}/lab/runs"))
            .json(&json!({"secret": 1, "public": 0, "network": "hand"}))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            freed = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(freed.is_some(), "a closed run gives its place back");
}

#[test]
fn bad_scripts_are_refused_before_anything_starts() {
    let settings = RunSettings {
        deliver: common::legs("secret#1>"),
        ..RunSettings::default()
    };
    assert_eq!(
        settings.validate().unwrap_err().to_string(),
        "deliver needs network step or hand: a timer run delivers by itself"
    );
    assert!("secret#1".parse::<LegId>().is_err());
    assert!("client>".parse::<LegId>().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_naming_a_leg_not_in_flight_fails_with_its_position() {
    let settings = hand(Strategy::Naive, Policy::Strict, "secret#1>,secret#1>");
    let err = scenario::run(&settings).await.unwrap_err().to_string();
    assert!(
        err.starts_with("delivery 2 of the script: no leg secret#1> is in flight"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_answer_can_be_lost_by_hand_and_only_a_refresh_answer() {
    let base = start_lab().await;
    let settings =
        json!({"strategy": "single-flight", "secret": 1, "public": 0, "network": "hand"});
    let mut stream = Stream::open(&base, settings).await;
    let (start, _) = stream.until("start").await;
    let run = start["run"].as_u64().unwrap();
    for leg in ["secret#1>", "secret#1<"] {
        let (status, view) = command(&base, run, json!({"command": "deliver", "leg": leg})).await;
        assert_eq!(status, 200, "{view}");
    }
    // The refresh is on its way: its request cannot be "lost" as an answer.
    let (status, body) = command(&base, run, json!({"command": "drop", "leg": "secret#1>"})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("not_a_refresh_answer")),
        "{body}"
    );
    let (status, _) = command(
        &base,
        run,
        json!({"command": "deliver", "leg": "secret#1>"}),
    )
    .await;
    assert_eq!(status, 200);
    // The server rotated t1; its answer never reaches the tab.
    let (status, view) = command(&base, run, json!({"command": "drop", "leg": "secret#1<"})).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["dropped"], json!(["refresh#1<"]));
    assert_eq!(
        view["tab"]["token"], "t1",
        "the tab holds the rotated-away t1"
    );
    let (done, _) = stream.until("done").await;
    assert_eq!(done["dropped"], json!(["refresh#1<"]));
    assert_eq!(done["verdict"]["refresh_lost"], 1);
    assert_eq!(done["verdict"]["secret_failed"], 1);
}
