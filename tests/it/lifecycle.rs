//! A tab's lifecycle in the wild, over real HTTP, on the step and hand
//! networks so every count is exact: the laptop's sleep and the wake-up
//! stampede, closed and frozen tabs (and the hang a lock that is never
//! released makes), two client instances in one tab, a cold start, and a
//! tab whose clock runs ahead.

use crate::common;

use refresh_race::clock::LabClock;
use refresh_race::network::Network;
use refresh_race::protocol::{Lane, LaneKind, Reason, Route};
use refresh_race::scenario::{self, RunReport, HANG_HORIZON_S};
use refresh_race::settings::{Case, CrossTab, NetworkDriver, Policy, RunSettings, Sleep, Strategy};
use refresh_race::timeline::EventKind;
use serde_json::json;

async fn run(settings: RunSettings) -> RunReport {
    settings.validate().expect("valid settings");
    scenario::run(&settings).await.expect("the run completes")
}

/// Three tabs with a valid token, one secret request each; the laptop
/// sleeps 8 s once the page has loaded (the token lives 5 s, its refresh
/// window 10 s), stepped in due order.
fn wake_up(cross_tab: CrossTab) -> RunSettings {
    RunSettings {
        case: Case::Valid,
        strategy: Strategy::SingleFlight,
        policy: Policy::Strict,
        tabs: 3,
        cross_tab,
        secret: 1,
        public: 0,
        network: NetworkDriver::Step,
        sleep: Some(Sleep {
            at_ms: Some(1_000),
            after: None,
            seconds: 8,
        }),
        ..RunSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waking_three_tabs_without_a_cross_tab_lock_loses_requests_under_strict() {
    let report = run(wake_up(CrossTab::None)).await;
    let v = &report.verdict;
    // Before the sleep: three requests with the valid token. After it:
    // every tab fetches again, gets 401 and refreshes on its own.
    assert_eq!((v.requests, v.ok, v.failed), (6, 4, 2), "{}", v.sentence);
    assert_eq!(
        (
            v.refresh_calls,
            v.refresh_accepted_by_server,
            v.refresh_rejected
        ),
        (3, 1, 2)
    );
    assert_eq!(common::refresh_rejections(&report), [Reason::Reused; 2]);
    assert_eq!(v.logouts, 1);
    let woke = report
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Woke { tabs, lanes } => Some((tabs.clone(), lanes.clone())),
            _ => None,
        })
        .expect("the tabs woke");
    assert_eq!(woke.0, [1, 2, 3]);
    let names: Vec<String> = woke.1.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["secret#2", "tab2/secret#2", "tab3/secret#2"]);
    assert!(report
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::ClockAdvanced { by_ms: 8_000, .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waking_three_tabs_with_the_cross_tab_lock_loses_nothing() {
    let report = run(wake_up(CrossTab::Lock)).await;
    let v = &report.verdict;
    assert_eq!((v.requests, v.ok, v.failed), (6, 6, 0), "{}", v.sentence);
    assert_eq!((v.refresh_calls, v.logouts), (1, 0));
}

/// Two tabs, one secret request each, case 3, a cross-tab lock: tab 1's
/// request gets its 401 and takes the lock (its refresh in flight), then
/// tab 2's gets its 401 and waits for the lock.
fn lock_holder(cross_tab: CrossTab) -> RunSettings {
    RunSettings {
        case: Case::ExpiredRefreshable,
        strategy: Strategy::Naive,
        policy: Policy::Strict,
        tabs: 2,
        cross_tab,
        secret: 1,
        public: 0,
        network: NetworkDriver::Hand,
        deliver: common::legs("secret#1>,secret#1<,tab2/secret#1>,tab2/secret#1<"),
        ..RunSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_lock_holder_hangs_the_page_only_where_the_lock_is_never_released() {
    // Web Locks: the browser releases a closed tab's lock; tab 2 takes it,
    // finds the old token still stored and refreshes it itself.
    let released = run(RunSettings {
        close: vec!["1@4".parse().unwrap()],
        ..lock_holder(CrossTab::Lock)
    })
    .await;
    let v = &released.verdict;
    assert!(!v.hang, "{}", v.sentence);
    assert_eq!((v.requests, v.ok, v.abandoned), (1, 1, 1), "{}", v.sentence);
    assert_eq!(v.refresh_calls, 2, "tab 1's refresh left, never arrived");
    assert_eq!(v.refresh_accepted_by_server, 1);
    assert_eq!(common::refreshers(&released), ["secret#1", "tab2/secret#1"]);

    // A lock kept in localStorage: nobody ever releases it.
    let stranded = run(RunSettings {
        close: vec!["1@4".parse().unwrap()],
        ..lock_holder(CrossTab::StorageLock)
    })
    .await;
    let v = &stranded.verdict;
    assert!(v.hang, "{}", v.sentence);
    assert_eq!(
        v.hang_on.as_deref(),
        Some("tab2/secret#1 wait for the cross-tab lock, held by secret#1 of closed tab 1")
    );
    assert_eq!((v.requests, v.abandoned), (0, 1));
    assert!(v.sentence.starts_with("Hang: "), "{}", v.sentence);
    // The lab clock passed the horizon before it called the hang.
    let jumps: Vec<u64> = stranded
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::ClockAdvanced { by_ms, .. } => Some(by_ms),
            _ => None,
        })
        .collect();
    assert_eq!(jumps.last(), Some(&(HANG_HORIZON_S * 1000)));
    let last = stranded.narration.last().unwrap();
    assert!(last.starts_with("Hang: tab2/secret#1 wait for"), "{last}");

    // Frozen, even Web Locks stay held.
    let frozen = run(RunSettings {
        freeze: vec!["1@4".parse().unwrap()],
        ..lock_holder(CrossTab::Lock)
    })
    .await;
    let v = &frozen.verdict;
    assert!(v.hang, "{}", v.sentence);
    assert_eq!(
        v.hang_on.as_deref(),
        Some("tab2/secret#1 wait for the cross-tab lock, held by secret#1 of frozen tab 1")
    );
    assert_eq!(v.frozen, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_point_is_reached_in_a_timer_run_too() {
    // The timer delivers the answers itself; freezing the lock holder
    // right after its 401 came back hangs tab 2 all the same. A seed whose
    // jitter sends tab 2's request 400 ms after tab 1's keeps the order.
    let base = RunSettings {
        network: NetworkDriver::Timer,
        deliver: Vec::new(),
        freeze: vec!["1@secret#1<".parse().unwrap()],
        jitter_ms: 1_000,
        ..lock_holder(CrossTab::Lock)
    };
    let latency = |settings: &RunSettings, lane: &str| {
        Network::for_run(settings, LabClock::new()).latency_ms(Route::Secret, Some(lane))
    };
    let settings = (1..1_000)
        .map(|seed| RunSettings {
            seed,
            ..base.clone()
        })
        .find(|s| latency(s, "tab2/secret#1") > latency(s, "secret#1") + 400)
        .expect("a seed that spaces the tabs");
    let report = run(settings).await;
    let v = &report.verdict;
    assert!(v.hang, "{}", v.sentence);
    assert_eq!((v.requests, v.frozen), (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_tab_that_holds_nothing_is_no_hang() {
    // Freeze tab 2 before anything: tab 1's requests go through, tab 2's
    // stand still, and the run ends without them.
    let report = run(RunSettings {
        case: Case::ExpiredRefreshable,
        strategy: Strategy::SingleFlight,
        tabs: 2,
        network: NetworkDriver::Step,
        freeze: vec!["2@0".parse().unwrap()],
        ..RunSettings::default()
    })
    .await;
    let v = &report.verdict;
    assert!(!v.hang, "{}", v.sentence);
    assert_eq!((v.requests, v.ok, v.frozen), (6, 6, 6), "{}", v.sentence);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_last_tab_ends_the_run_cleanly() {
    let report = run(RunSettings {
        network: NetworkDriver::Hand,
        deliver: common::legs("secret#1>"),
        close: vec!["1@1".parse().unwrap()],
        ..RunSettings::default()
    })
    .await;
    let v = &report.verdict;
    assert!(!v.hang);
    assert_eq!(
        (v.requests, v.abandoned, v.refresh_calls),
        (0, 6, 0),
        "{}",
        v.sentence
    );
    let closed = report.events.iter().find_map(|e| match &e.kind {
        EventKind::TabClosed { tab, abandoned } => Some((*tab, abandoned.len())),
        _ => None,
    });
    assert_eq!(closed, Some((1, 6)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_in_one_tab_refresh_twice_though_each_single_flights() {
    let double = |instances| RunSettings {
        case: Case::ExpiredRefreshable,
        strategy: Strategy::SingleFlight,
        secret: 2,
        public: 0,
        instances,
        network: NetworkDriver::Step,
        ..RunSettings::default()
    };
    let one = run(double(1)).await.verdict;
    assert_eq!((one.refresh_calls, one.ok, one.logouts), (1, 2, 0));
    let two = run(double(2)).await;
    assert_eq!(common::refreshers(&two), ["secret#1", "secret#2"]);
    let v = &two.verdict;
    assert_eq!((v.refresh_calls, v.refresh_rejected, v.logouts), (2, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_start_fires_every_request_before_a_token_is_stored() {
    let cold = |strategy| RunSettings {
        case: Case::ColdStart,
        strategy,
        secret: 3,
        public: 0,
        network: NetworkDriver::Step,
        ..RunSettings::default()
    };
    let naive = run(cold(Strategy::Naive)).await;
    // Every request leaves without a token, and refreshes on its own.
    let sent: Vec<Option<String>> = naive
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RequestSent { jti, .. } => Some(jti.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(sent, [None, None, None]);
    let v = &naive.verdict;
    assert_eq!(
        (v.refresh_calls, v.refresh_accepted_by_server, v.logouts),
        (3, 1, 1),
        "{}",
        v.sentence
    );
    let single = run(cold(Strategy::SingleFlight)).await.verdict;
    assert_eq!((single.refresh_calls, single.ok, single.failed), (1, 3, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_clock_running_ahead_makes_the_proactive_timer_loop() {
    let skewed = |seconds: i64| RunSettings {
        case: Case::Valid,
        strategy: Strategy::Proactive,
        secret: 1,
        public: 0,
        network: NetworkDriver::Step,
        skew: [("1".to_owned(), seconds)].into(),
        ..RunSettings::default()
    };
    let timer = Lane::Request(1, LaneKind::Timer, 1).to_string();
    // On time (and 90 s behind), a valid token's timer is not due.
    for seconds in [0, -90] {
        let report = run(skewed(seconds)).await;
        assert_eq!(report.verdict.refresh_calls, 0, "skew {seconds}");
    }
    // 4 s ahead of a 5 s token: due at once, and each new token is too.
    let report = run(skewed(4)).await;
    let refreshers = common::refreshers(&report);
    assert_eq!(
        refreshers,
        vec![timer; refresh_race::client::MAX_TIMER_FIRES as usize]
    );
    assert_eq!(report.verdict.ok, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_api_takes_lifecycle_settings_and_hand_actions() {
    let base = common::start_lab().await;
    // Out of range: refused with the allowed range.
    for (settings, message) in [
        (
            json!({"tabs": 2, "skew": {"2": 90000}}),
            "skew seconds must be between -86400 and 86400 (got 90000)",
        ),
        (
            json!({"sleep": {"at_ms": 0, "seconds": 2592001}}),
            "sleep.seconds must be between 1 and 2592000 (got 2592001)",
        ),
        (
            json!({"instances": 9}),
            "instances must be between 1 and 8 (got 9)",
        ),
        (
            json!({"tabs": 2, "close": [{"tab": 3, "at": 0}]}),
            "close tab must be between 1 and 2 (got 3)",
        ),
    ] {
        let (status, body) = common::answer(
            common::http()
                .post(format!("{base}/lab/runs"))
                .json(&settings),
        )
        .await;
        assert_eq!(status, 400, "{settings}: {body}");
        assert!(body.to_string().contains(message), "{body}");
    }
    // A hand run: deliver until tab 1 holds the storage lock, then close
    // it by hand; the run hangs, and its settings replay the close.
    let mut settings = serde_json::to_value(lock_holder(CrossTab::StorageLock)).unwrap();
    settings["deliver"] = json!([]);
    let mut stream = common::Stream::open(&base, settings).await;
    let (start, _) = stream.until("start").await;
    let run = start["run"].as_u64().unwrap();
    for leg in ["secret#1>", "secret#1<", "tab2/secret#1>", "tab2/secret#1<"] {
        let (status, body) =
            common::command(&base, run, json!({"command": "deliver", "leg": leg})).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) =
        common::command(&base, run, json!({"command": "close-tab", "tab": 3})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["message"], "tab must be between 1 and 2 (got 3)");
    let (status, body) =
        common::command(&base, run, json!({"command": "close-tab", "tab": 1})).await;
    assert_eq!(status, 200, "{body}");
    let (done, _) = stream.until("done").await;
    assert_eq!(done["verdict"]["hang"], true, "{done}");
    assert_eq!(done["verdict"]["abandoned"], 1);
}
