//! The expected outcomes of the four cases under each client strategy
//! (README, "The four cases"), each a real run over real HTTP.

use crate::common;

use refresh_race::protocol::LaneKind;
use refresh_race::scenario::{self, RunReport};
use refresh_race::settings::{Case, NetworkDriver, RunSettings, Strategy};
use refresh_race::timeline::{EventKind, Lane, Reason};

/// A run on the step network, its legs delivered in due order: the order a
/// quiet machine's timer gives, whatever the load (a timer run's late 401
/// once came before the refresh's answer on a busy CI machine).
async fn run(case: Case, strategy: Strategy, late: bool) -> RunReport {
    let settings = RunSettings {
        case,
        strategy,
        late,
        network: NetworkDriver::Step,
        ..RunSettings::default()
    };
    scenario::run(&settings).await.expect("the run completes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_never_refreshes_and_secret_requests_fail_401() {
    for strategy in Strategy::ALL {
        let report = run(Case::Guest, *strategy, false).await;
        let v = &report.verdict;
        assert_eq!(v.refresh_calls, 0, "{strategy}");
        assert_eq!((v.secret_ok, v.secret_failed), (0, 3), "{strategy}");
        assert_eq!((v.public_ok, v.public_failed), (3, 0), "{strategy}");
        let finals: Vec<u16> = report
            .events
            .iter()
            .filter(|e| e.lane.kind() == Some(LaneKind::Secret))
            .filter_map(|e| match e.kind {
                EventKind::RequestDone { status, .. } => Some(status),
                _ => None,
            })
            .collect();
        assert_eq!(finals, vec![401, 401, 401], "{strategy}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_token_needs_no_refresh() {
    for strategy in Strategy::ALL {
        let v = run(Case::Valid, *strategy, false).await.verdict;
        assert_eq!(v.refresh_calls, 0, "{strategy}");
        assert_eq!((v.ok, v.failed), (6, 0), "{strategy}");
        assert_eq!(v.logouts, 0, "{strategy}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_races_on_a_refreshable_token() {
    let report = run(Case::ExpiredRefreshable, Strategy::Naive, false).await;
    let v = &report.verdict;
    assert_eq!(v.refresh_calls, 3);
    assert_eq!(v.refresh_accepted_by_server, 1);
    assert_eq!(
        common::refresh_rejections(&report),
        vec![Reason::Reused, Reason::Reused]
    );
    assert_eq!(v.secret_failed, 2, "{v:?}");
    assert!(v.race);
    // The client ends either logged out or holding the winner's token,
    // whichever really happened last in the token store.
    let winner = report.events.iter().find_map(|e| match &e.kind {
        EventKind::Rotated { new_jti, .. } => Some(new_jti.clone()),
        _ => None,
    });
    let last_store_event = report.events.iter().rev().find_map(|e| match &e.kind {
        EventKind::TokenStored { jti, .. } => Some(Some(jti.clone())),
        EventKind::LoggedOut { .. } => Some(None),
        _ => None,
    });
    assert_eq!(v.final_jti, last_store_event.unwrap());
    assert!(v.final_jti.is_none() || v.final_jti == winner);
    assert!(
        v.sentence
            .starts_with("Race: 3 refreshes for 1 expired token"),
        "{}",
        v.sentence
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_and_single_flight_refresh_once() {
    for strategy in [Strategy::Queue, Strategy::SingleFlight] {
        let v = run(Case::ExpiredRefreshable, strategy, false).await.verdict;
        assert_eq!(v.refresh_calls, 1, "{strategy}");
        assert_eq!((v.ok, v.failed), (6, 0), "{strategy}");
        assert_eq!(v.logouts, 0, "{strategy}");
        assert_eq!(v.sentence, "1 refresh, all 6 requests succeeded.");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_token_logs_out_under_every_strategy() {
    let report = run(Case::ExpiredNotRefreshable, Strategy::Naive, false).await;
    assert_eq!(report.verdict.refresh_calls, 3);
    assert_eq!(
        common::refresh_rejections(&report),
        vec![Reason::WindowOver; 3]
    );
    assert!(report.verdict.logouts >= 1);
    assert_eq!(report.verdict.secret_failed, 3);
    for strategy in [Strategy::Queue, Strategy::SingleFlight] {
        let report = run(Case::ExpiredNotRefreshable, strategy, false).await;
        assert_eq!(report.verdict.refresh_calls, 1, "{strategy}");
        assert_eq!(
            common::refresh_rejections(&report),
            vec![Reason::WindowOver]
        );
        assert_eq!(report.verdict.logouts, 1, "{strategy}");
        assert_eq!(report.verdict.secret_failed, 3, "{strategy}");
        assert_eq!(report.verdict.public_ok, 3, "{strategy}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_401_makes_the_queue_refresh_twice_but_not_single_flight() {
    let report = run(Case::ExpiredRefreshable, Strategy::Queue, true).await;
    assert_eq!(report.verdict.refresh_calls, 2);
    assert_eq!(common::refresh_rejections(&report), vec![Reason::Reused]);
    let late_done = report.events.iter().find_map(|e| match e.kind {
        EventKind::RequestDone { ok, .. } if e.lane == Lane::late(1) => Some(ok),
        _ => None,
    });
    assert_eq!(late_done, Some(false), "the late request fails");

    let report = run(Case::ExpiredRefreshable, Strategy::SingleFlight, true).await;
    assert_eq!(report.verdict.refresh_calls, 1);
    assert_eq!((report.verdict.ok, report.verdict.failed), (7, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_ordered_and_carry_tokens() {
    let report = run(Case::ExpiredRefreshable, Strategy::SingleFlight, false).await;
    let events = &report.events;
    assert!(events
        .windows(2)
        .all(|w| w[0].seq < w[1].seq && w[0].t_us <= w[1].t_us));
    for event in events {
        if let EventKind::RequestSent { jti, .. } = &event.kind {
            assert_eq!(jti.as_deref(), Some("t1"));
        }
    }
    // Every attempt that was sent got an answer with the same id.
    let sent: Vec<u64> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::RequestSent { attempt, .. } | EventKind::RetrySent { attempt, .. } => {
                Some(attempt)
            }
            _ => None,
        })
        .collect();
    for attempt in sent {
        assert!(events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Response { attempt: a, .. } if a == attempt)));
    }
}
