//! The `proactive` strategy over real HTTP: its timer, overdue when the page
//! wakes after `exp`, refreshes beside the 401s' own shared refresh. Which
//! one reaches the server first decides the run; both orders are pinned
//! with a hand-made delivery order.

use crate::common;

use refresh_race::protocol::{Lane, LaneKind};
use refresh_race::scenario::{self, RunReport};
use refresh_race::settings::{Case, NetworkDriver, Policy, RunSettings, Strategy};
use refresh_race::timeline::{EventKind, Reason};

/// Case 3, three secret requests, held by hand, `order` delivered first.
async fn proactive(case: Case, order: &str) -> RunReport {
    let settings = RunSettings {
        case,
        strategy: Strategy::Proactive,
        policy: Policy::Strict,
        secret: 3,
        public: 0,
        network: NetworkDriver::Hand,
        deliver: if order.is_empty() {
            Vec::new()
        } else {
            common::legs(order)
        },
        ..RunSettings::default()
    };
    scenario::run(&settings).await.expect("the run completes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timer_due_during_a_burst_of_401s_refreshes_beside_them() {
    // The three 401s come back while the timer's refresh is on its way:
    // they share one refresh of t1 among themselves, the timer's wins, and
    // theirs is refused as reuse, which logs the tab out.
    let report = proactive(
        Case::ExpiredRefreshable,
        "secret#1>,secret#2>,secret#3>,secret#1<,secret#2<,secret#3<,\
         timer#1>,timer#1<,secret#1>,secret#1<",
    )
    .await;
    let v = &report.verdict;
    // The timer left with the burst; secret#1's refresh after its 401.
    assert_eq!(common::refreshers(&report), ["timer#1", "secret#1"]);
    assert_eq!(v.refresh_calls, 2);
    assert_eq!(v.refresh_accepted_by_server, 1);
    assert_eq!(common::refresh_rejections(&report), [Reason::Reused]);
    assert!(v.race, "two refreshes of one token");
    assert_eq!((v.secret_ok, v.secret_failed), (0, 3));
    assert_eq!(v.logouts, 1);
    assert_eq!(
        v.final_jti, None,
        "the refused refresh dropped the timer's t2"
    );
    let queued = report
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Queued { .. }))
        .count();
    assert_eq!(queued, 2, "secret#2 and #3 joined secret#1's refresh");
    assert_eq!(
        v.sentence,
        "Race: 2 refreshes for 1 expired token; 1 accepted, 1 rejected (reused); 3 of 3 secret requests failed; logged out."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_that_lands_before_the_401s_come_back_saves_them() {
    let report = proactive(
        Case::ExpiredRefreshable,
        "timer#1>,timer#1<,secret#1>,secret#2>,secret#3>,secret#1<,secret#2<,secret#3<",
    )
    .await;
    let v = &report.verdict;
    assert_eq!(common::refreshers(&report), ["timer#1"]);
    assert_eq!((v.secret_ok, v.secret_failed), (3, 0));
    assert_eq!(v.logouts, 0);
    // Each 401 found t2 in the store and retried with it.
    let retried_with: Vec<Option<String>> = report
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RetrySent { jti, .. } => Some(jti.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(retried_with, vec![Some("t2".to_owned()); 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timer_sleeps_through_a_valid_token_and_a_guest() {
    for case in [Case::Valid, Case::Guest] {
        let report = proactive(case, "").await;
        assert!(
            !report
                .events
                .iter()
                .any(|e| e.lane.kind() == Some(LaneKind::Timer)),
            "{case}: no timer lane"
        );
        assert_eq!(report.verdict.refresh_calls, 0, "{case}");
    }
    // Past the refresh window the timer fires too, and is refused.
    let report = proactive(Case::ExpiredNotRefreshable, "").await;
    assert!(common::refreshers(&report).contains(&Lane::Request(1, LaneKind::Timer, 1).to_string()));
    assert!(common::refresh_rejections(&report)
        .iter()
        .all(|r| *r == Reason::WindowOver));
}
