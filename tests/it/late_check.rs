//! The `late-check` strategy over real HTTP: the article's queue with
//! the late-401 fix. A 401 whose token was already replaced retries with
//! the stored token instead of refreshing again, so the late request that
//! makes the plain queue refresh twice costs no refresh, and no order of
//! deliveries makes it refresh twice.

use crate::common;

use refresh_race::scenario::{self, RunReport};
use refresh_race::settings::{Case, NetworkDriver, Policy, RunSettings, Strategy};
use refresh_race::timeline::EventKind;

fn settings(strategy: Strategy) -> RunSettings {
    RunSettings {
        case: Case::ExpiredRefreshable,
        strategy,
        policy: Policy::Strict,
        network: NetworkDriver::Step,
        late: true,
        ..RunSettings::default()
    }
}

fn count(report: &RunReport, what: impl Fn(&EventKind) -> bool) -> usize {
    report.events.iter().filter(|e| what(&e.kind)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_late_401_retries_with_the_new_token_where_the_queue_refreshes_again() {
    // The plain queue on the same steps: the late 401 refreshes t1 again.
    let queue = scenario::run(&settings(Strategy::Queue)).await.unwrap();
    assert_eq!(queue.verdict.refresh_calls, 2, "{}", queue.verdict.sentence);
    assert_eq!(queue.verdict.logouts, 1);

    let report = scenario::run(&settings(Strategy::LateCheck)).await.unwrap();
    let v = &report.verdict;
    assert_eq!(v.refresh_calls, 1, "{}", v.sentence);
    assert_eq!((v.ok, v.failed), (7, 0), "{}", v.sentence);
    assert_eq!(v.logouts, 0);
    // Every secret request retried with t2: the refresher, the two that
    // waited in the queue, and the late one without a refresh of its own.
    let retries_with_t2 = count(
        &report,
        |k| matches!(k, EventKind::RetrySent { jti: Some(t), .. } if t == "t2"),
    );
    assert_eq!(retries_with_t2, 4);
    assert_eq!(count(&report, |k| matches!(k, EventKind::Queued { .. })), 2);
}

/// Every order of deliveries for two secret requests: none refreshes twice
/// or loses a request (the plain queue has orders that do).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_order_makes_it_refresh_twice() {
    let preset = RunSettings {
        secret: 2,
        public: 0,
        late: false,
        network: NetworkDriver::Hand,
        ..settings(Strategy::LateCheck)
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
