//! A lost refresh answer (supabase auth-js #226) over real HTTP: the server
//! rotated, the client never heard. What each strategy does then, exactly,
//! with the answer to the run's first refresh call lost and the rest
//! stepped in due order.

use crate::common;

use refresh_race::protocol::LostAnswer;
use refresh_race::scenario::{self, RunReport};
use refresh_race::settings::{Case, NetworkDriver, Policy, RunSettings, Strategy};
use refresh_race::timeline::{EventKind, Reason};

async fn first_answer_lost(strategy: Strategy) -> RunReport {
    let settings = RunSettings {
        case: Case::ExpiredRefreshable,
        strategy,
        policy: Policy::Strict,
        public: 0,
        network: NetworkDriver::Step,
        drop: vec!["refresh#1<".parse().unwrap()],
        ..RunSettings::default()
    };
    scenario::run(&settings).await.expect("the run completes")
}

/// (refresh calls, accepted, lost, refusals, secret ok, logouts, final token)
type Outcome = (u32, u32, u32, Vec<Reason>, u32, u32, Option<String>);

fn outcome(report: &RunReport) -> Outcome {
    let v = &report.verdict;
    (
        v.refresh_calls,
        v.refresh_accepted_by_server,
        v.refresh_lost,
        common::refresh_rejections(report),
        v.secret_ok,
        v.logouts,
        v.final_jti.clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_each_strategy_does_when_the_refresh_answer_never_arrives() {
    use Reason::Reused;
    let t1 = Some("t1".to_owned());
    let expected: [(Strategy, Outcome); 5] = [
        // The other two refresh t1 themselves: reused, logged out.
        (Strategy::Naive, (3, 1, 1, vec![Reused, Reused], 0, 1, None)),
        // The waiters share the lost result: every request fails, and the
        // tab keeps t1, which the server already rotated away.
        (Strategy::Queue, (1, 1, 1, vec![], 0, 0, t1.clone())),
        (Strategy::SingleFlight, (1, 1, 1, vec![], 0, 0, t1.clone())),
        // The timer's answer is the lost one; the 401s' own refresh of t1 is a reuse.
        (Strategy::Proactive, (2, 1, 1, vec![Reused], 0, 1, None)),
        // The next holder of the lock re-reads the store, still finds t1
        // and refreshes it: the re-check cannot see a lost rotation.
        (Strategy::Mutex, (2, 1, 1, vec![Reused], 0, 1, None)),
    ];
    for (strategy, expected) in expected {
        let report = first_answer_lost(strategy).await;
        assert_eq!(
            outcome(&report),
            expected,
            "{strategy}: {}",
            report.verdict.sentence
        );
        assert_eq!(report.dropped, [LostAnswer { refresh: 1 }], "{strategy}");
        // The client saw a network error, not an answer.
        let lost = report.events.iter().find_map(|e| match &e.kind {
            EventKind::RefreshDone { status, reason, .. } if *reason == Some(Reason::Transport) => {
                Some(*status)
            }
            _ => None,
        });
        assert_eq!(lost, Some(0), "{strategy}");
    }
    let single = first_answer_lost(Strategy::SingleFlight).await;
    assert_eq!(
        single.verdict.sentence,
        "1 refresh; 1 refresh answer lost on the way; 3 of 3 secret requests failed."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_run_loses_the_named_answer_too_and_a_lost_run_replays() {
    let timer = RunSettings {
        strategy: Strategy::SingleFlight,
        drop: vec!["refresh#1<".parse().unwrap()],
        ..RunSettings::default()
    };
    let report = scenario::run(&timer).await.unwrap();
    assert_eq!(report.verdict.refresh_lost, 1);
    assert_eq!(report.verdict.secret_failed, 3);
    // A held run's report replays: the same deliveries, the same losses.
    let held = scenario::run(&RunSettings {
        network: NetworkDriver::Hand,
        ..timer.clone()
    })
    .await
    .unwrap();
    let again = scenario::run(&RunSettings {
        network: NetworkDriver::Hand,
        deliver: held.delivered.clone(),
        drop: held.dropped.clone(),
        ..timer
    })
    .await
    .unwrap();
    assert_eq!(again.verdict, held.verdict);
    assert_eq!(again.delivered, held.delivered);
}
