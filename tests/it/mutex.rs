//! The `mutex` strategy over real HTTP: one lock around refreshing and a
//! re-read of the store after taking it. No order of deliveries makes it
//! refresh twice, and a late 401 finds the new token instead of
//! refreshing again.

use crate::common;

use refresh_race::scenario::{self, RunReport};
use refresh_race::settings::{Case, NetworkDriver, Policy, RunSettings, Strategy};
use refresh_race::timeline::EventKind;

fn settings() -> RunSettings {
    RunSettings {
        case: Case::ExpiredRefreshable,
        strategy: Strategy::Mutex,
        policy: Policy::Strict,
        ..RunSettings::default()
    }
}

fn count(report: &RunReport, what: impl Fn(&EventKind) -> bool) -> usize {
    report.events.iter().filter(|e| what(&e.kind)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refresh_and_the_waiters_retry_with_what_they_read() {
    for network in [NetworkDriver::Timer, NetworkDriver::Step] {
        let report = scenario::run(&RunSettings {
            network,
            late: true,
            ..settings()
        })
        .await
        .unwrap();
        let v = &report.verdict;
        assert_eq!(v.refresh_calls, 1, "{network}");
        assert_eq!((v.ok, v.failed), (7, 0), "{network}: {}", v.sentence);
        assert_eq!(v.logouts, 0, "{network}");
        // Every secret request but the refresher retried with t2.
        let retries_with_t2 = count(
            &report,
            |k| matches!(k, EventKind::RetrySent { jti: Some(t), .. } if t == "t2"),
        );
        assert_eq!(retries_with_t2, 4, "{network}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_wait_for_the_lock_in_a_held_run() {
    // All three 401s are back before the refresh leaves: two wait.
    let order = "secret#1>,secret#2>,secret#3>,secret#1<,secret#2<,secret#3<";
    let report = scenario::run(&RunSettings {
        public: 0,
        network: NetworkDriver::Hand,
        deliver: order.split(',').map(|l| l.parse().unwrap()).collect(),
        ..settings()
    })
    .await
    .unwrap();
    assert_eq!(count(&report, |k| matches!(k, EventKind::Queued { .. })), 2);
    assert_eq!(report.verdict.refresh_calls, 1);
    assert_eq!(report.verdict.secret_ok, 3);
}

/// Every order of deliveries for two secret requests: none refreshes twice
/// or loses a request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_order_makes_the_mutex_refresh_twice() {
    let preset = RunSettings {
        secret: 2,
        public: 0,
        network: NetworkDriver::Hand,
        ..settings()
    };
    let orders = common::every_order(&preset, |report| {
        assert_eq!(
            (report.verdict.refresh_calls, report.verdict.ok),
            (1, 2),
            "{:?}: {}",
            report.delivered,
            report.verdict.sentence
        );
    })
    .await;
    assert!(orders > 50, "only {orders} orders searched");
}
