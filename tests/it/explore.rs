//! The explorer against brute force: every order of a held run, replayed
//! one by one over real HTTP (tests/it/common.rs: every_order), must give the
//! same counts, classes and shortest orders as the explorer, which merges
//! prefixes that reach the same lab state. Then what the explorer claims
//! about single orders (shortest orders replay to their outcome, the point
//! of no return, the hints) is checked by running those orders.

use crate::common;

use std::collections::BTreeMap;

use refresh_race::explore::{self, Exploration, Options, Outcome};
use refresh_race::protocol::LegId;
use refresh_race::scenario::{self, RunReport};
use refresh_race::settings::{Case, NetworkDriver, Policy, RunSettings, Strategy};

const GENERIC: [Policy; 5] = [
    Policy::Strict,
    Policy::Family,
    Policy::Grace,
    Policy::None,
    Policy::NonAtomic,
];

fn setup(strategy: Strategy, policy: Policy, secret: u32, public: u32, late: bool) -> RunSettings {
    RunSettings {
        case: Case::ExpiredRefreshable,
        strategy,
        policy,
        secret,
        public,
        late,
        network: NetworkDriver::Hand,
        ..RunSettings::default()
    }
}

fn requests(settings: &RunSettings) -> u32 {
    settings.tabs * (settings.secret + settings.public + u32::from(settings.late))
}

fn outcome(settings: &RunSettings, report: &RunReport) -> Outcome {
    Outcome::of(&report.verdict, requests(settings))
}

/// What brute force finds per outcome: the count and the shortest order
/// (the first in leg order among the shortest, as the explorer picks).
async fn brute_force(settings: &RunSettings) -> BTreeMap<Outcome, (u64, Vec<LegId>)> {
    let mut classes: BTreeMap<Outcome, (u64, Vec<LegId>)> = BTreeMap::new();
    let orders = common::every_order(settings, |report| {
        let entry = classes
            .entry(outcome(settings, report))
            .or_insert((0, report.delivered.clone()));
        entry.0 += 1;
        let order = &report.delivered;
        if (order.len(), order) < (entry.1.len(), &entry.1) {
            entry.1 = order.clone();
        }
    })
    .await;
    assert_eq!(
        classes.values().map(|(n, _)| *n).sum::<u64>(),
        orders as u64
    );
    classes
}

async fn explored(settings: &RunSettings) -> Exploration {
    explore::explore(settings, &Options::default())
        .await
        .unwrap_or_else(|err| panic!("{settings:?}: {err}"))
}

fn by_class(exploration: &Exploration) -> BTreeMap<Outcome, (u64, Vec<LegId>)> {
    exploration
        .classes
        .iter()
        .map(|c| (c.outcome, (c.count, c.shortest.clone())))
        .collect()
}

async fn compare(settings: RunSettings) -> u64 {
    let exploration = explored(&settings).await;
    let expected = brute_force(&settings).await;
    let label = format!(
        "{} under {} ({} secret, late {})",
        settings.strategy, settings.policy, settings.secret, settings.late
    );
    assert_eq!(by_class(&exploration), expected, "{label}");
    assert!(exploration.exact, "{label}");
    assert_eq!(
        exploration.orders,
        expected.values().map(|(n, _)| n).sum::<u64>(),
        "{label}"
    );
    assert_eq!(
        exploration.failing,
        expected
            .iter()
            .filter(|(o, _)| !o.ok())
            .map(|(_, (n, _))| n)
            .sum::<u64>(),
        "{label}"
    );
    // Never more real runs than brute force needs (one per order).
    assert!(
        exploration.runs <= exploration.orders,
        "{label}: {} runs for {} orders",
        exploration.runs,
        exploration.orders
    );
    println!(
        "{label}: {} orders, {} classes, {} states, {} runs",
        exploration.orders,
        exploration.classes.len(),
        exploration.states,
        exploration.runs
    );
    exploration.orders
}

/// Two lanes of each strategy: two secret requests, or for `proactive` one
/// secret request and its timer (a lane of its own, which refreshes too).
fn two_lanes(strategy: Strategy, policy: Policy) -> RunSettings {
    let secret = if strategy == Strategy::Proactive {
        1
    } else {
        2
    };
    setup(strategy, policy, secret, 0, false)
}

/// Every strategy under every generic policy, two lanes: the explorer
/// counts what brute force counts, class by class, shortest order by
/// shortest order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_counts_what_brute_force_counts_with_two_lanes() {
    for &strategy in Strategy::ALL {
        for policy in GENERIC {
            compare(two_lanes(strategy, policy)).await;
        }
    }
}

/// The other two-lane setups: a secret and a late request, and a secret
/// and a public one (`proactive` adds its timer lane to these: it is
/// covered above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_counts_what_brute_force_counts_with_a_late_or_public_lane() {
    for &strategy in Strategy::ALL {
        if strategy == Strategy::Proactive {
            continue;
        }
        for policy in GENERIC {
            compare(setup(strategy, policy, 1, 0, true)).await;
        }
        compare(setup(strategy, Policy::Strict, 1, 1, false)).await;
    }
}

/// The known count of the network tests (no_order_breaks_single_flight).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_under_strict_has_194_orders_and_none_fails() {
    let two = explored(&setup(Strategy::SingleFlight, Policy::Strict, 2, 0, false)).await;
    assert_eq!((two.orders, two.failing), (194, 0));
    assert_eq!(two.classes.len(), 1);
    assert!(two.classes[0].ok);
    assert_eq!(two.classes[0].no_return, None);
    for settings in [
        setup(Strategy::SingleFlight, Policy::Strict, 3, 0, false),
        setup(Strategy::SingleFlight, Policy::Strict, 2, 1, true),
        RunSettings {
            tabs: 2,
            cross_tab: refresh_race::settings::CrossTab::Lock,
            ..setup(Strategy::SingleFlight, Policy::Strict, 1, 0, false)
        },
    ] {
        let exploration = explored(&settings).await;
        assert!(exploration.exact);
        assert!(exploration.orders >= 194, "{}", exploration.orders);
        assert_eq!(exploration.failing, 0, "{:?}", exploration.classes);
    }
}

/// Replays `order` with the hand network, as `run --network hand --deliver`.
async fn replay(settings: &RunSettings, order: &[LegId]) -> RunReport {
    scenario::run(&RunSettings {
        deliver: order.to_vec(),
        ..settings.clone()
    })
    .await
    .unwrap()
}

/// Naive with two secret requests and the queue with a late one lose in
/// some orders; each failing class's shortest order, replayed, ends in
/// that class's outcome, and its point of no return is the first delivery
/// after which no continuation ends well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_orders_replay_and_their_point_of_no_return_holds() {
    for settings in [
        setup(Strategy::Naive, Policy::Strict, 2, 0, false),
        setup(Strategy::Queue, Policy::Strict, 1, 0, true),
    ] {
        let exploration = explored(&settings).await;
        let failing: Vec<_> = exploration.classes.iter().filter(|c| !c.ok).collect();
        assert!(!failing.is_empty(), "{} never fails", settings.strategy);
        assert!(exploration.failing > 0);
        for class in failing {
            let report = replay(&settings, &class.shortest).await;
            assert_eq!(report.delivered, class.shortest, "the order is complete");
            assert_eq!(outcome(&settings, &report), class.outcome);

            let Some(point) = class.no_return else {
                // Lost from the start: then no order at all ends well.
                assert!(exploration.classes.iter().all(|c| !c.ok));
                continue;
            };
            let after = RunSettings {
                deliver: class.shortest[..=point].to_vec(),
                ..settings.clone()
            };
            let mut ok_after = 0;
            let orders_after = common::every_order(&after, |report| {
                ok_after += u32::from(outcome(&after, report).ok());
            })
            .await;
            assert!(orders_after > 0);
            assert_eq!(
                ok_after, 0,
                "{}: an order survives delivery {point}",
                settings.strategy
            );
            let before = RunSettings {
                deliver: class.shortest[..point].to_vec(),
                ..settings.clone()
            };
            let mut ok_before = 0;
            common::every_order(&before, |report| {
                ok_before += u32::from(outcome(&before, report).ok());
            })
            .await;
            assert!(
                ok_before > 0,
                "{}: delivery {point} is not the first after which all fail",
                settings.strategy
            );
        }
    }
}

/// The queue's classic loss: the late request's 401 lands after the
/// refresh, and the queue refreshes again with the spent token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_with_a_late_request_is_logged_out_in_some_orders() {
    let exploration = explored(&setup(Strategy::Queue, Policy::Strict, 1, 0, true)).await;
    let lost = exploration
        .classes
        .iter()
        .find(|c| c.outcome.logged_out)
        .expect("an order logs the user out");
    assert_eq!(lost.outcome.refresh_calls, 2);
    assert!(lost.count < exploration.orders);
}

/// The hints: from a prefix, each leg in flight gets the orders that go on
/// with it and how many fail; they add up, and one is checked by brute force.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hints_add_up_and_match_brute_force() {
    let start = setup(Strategy::Naive, Policy::Strict, 2, 0, false);
    let prefix: Vec<LegId> = common::legs("secret#1>,secret#2>");
    let settings = RunSettings {
        deliver: prefix.clone(),
        ..start
    };
    let exploration = explored(&settings).await;
    assert_eq!(exploration.next.len(), 2, "{:?}", exploration.next);
    assert_eq!(
        exploration.next.iter().map(|n| n.orders).sum::<u64>(),
        exploration.orders
    );
    assert_eq!(
        exploration.next.iter().map(|n| n.failing).sum::<u64>(),
        exploration.failing
    );
    for class in &exploration.classes {
        assert_eq!(
            &class.shortest[..2],
            &prefix[..],
            "orders start with the prefix"
        );
    }
    let first = &exploration.next[0];
    let after = RunSettings {
        deliver: [prefix.clone(), vec![first.leg]].concat(),
        ..settings.clone()
    };
    let mut failing = 0u64;
    let orders = common::every_order(&after, |report| {
        failing += u64::from(!outcome(&after, report).ok());
    })
    .await;
    assert_eq!((first.orders, first.failing), (orders as u64, failing));
}

/// Budgets: a cut exploration says so, and its counts are lower bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_cuts_short_and_says_at_least() {
    let settings = setup(Strategy::Naive, Policy::Strict, 2, 0, false);
    let whole = explored(&settings).await;
    let cut = explore::explore(
        &settings,
        &Options {
            budget_orders: Some(10),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    assert!(!cut.exact);
    assert_eq!(cut.cut, Some(explore::Cut::BudgetOrders));
    assert!(
        cut.orders >= 10 && cut.orders < whole.orders,
        "{}",
        cut.orders
    );
    assert!(cut.at_least > cut.orders && cut.at_least <= whole.orders);
    for class in &cut.classes {
        let full = whole
            .class(&class.outcome)
            .expect("a class brute force knows");
        assert!(class.count <= full.count);
    }
}

/// Too large a setup is refused before anything runs, with its estimate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_large_a_setup_is_refused_with_an_estimate() {
    let settings = setup(Strategy::Naive, Policy::Strict, 10, 10, false);
    let err = explore::explore(&settings, &Options::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("too large to explore whole"), "{err}");
    assert!(err.contains("--budget-orders"), "{err}");
    let size = explore::estimate(&settings);
    assert!(err.contains(&size.states.to_string()), "{err}");
}

/// The explorations the UI's unit tests read (tests/ui-unit/fixtures/explore/)
/// are the engine's bytes: explore is deterministic, so they must still be
/// what it writes. `UPDATE_FIXTURES=1` rewrites them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_fixtures_are_what_the_explorer_writes() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui-unit/fixtures/explore");
    let fixtures = [
        (
            "naive-strict-2-secret",
            setup(Strategy::Naive, Policy::Strict, 2, 0, false),
        ),
        (
            "naive-strict-2-secret-after-requests",
            RunSettings {
                deliver: common::legs("secret#1>,secret#2>"),
                ..setup(Strategy::Naive, Policy::Strict, 2, 0, false)
            },
        ),
        (
            "single-flight-strict-2-secret",
            setup(Strategy::SingleFlight, Policy::Strict, 2, 0, false),
        ),
        (
            "queue-strict-late",
            setup(Strategy::Queue, Policy::Strict, 1, 0, true),
        ),
    ];
    for (name, settings) in fixtures {
        let exploration = explored(&settings).await;
        let text = serde_json::to_string_pretty(&exploration).unwrap() + "\n";
        let path = dir.join(format!("{name}.json"));
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let recorded = std::fs::read_to_string(&path).unwrap_or_else(|err| {
            panic!("{}: {err} (UPDATE_FIXTURES=1 writes it)", path.display())
        });
        assert_eq!(
            recorded, text,
            "{name}: the explorer writes something else now"
        );
    }
}

/// Three lanes of every strategy: every step the explorer predicts from
/// commuting deliveries is also run, and must reach the predicted state
/// with the predicted footprint. Proactive's timer refreshes on its own
/// lane: with a public lane, and with two 401s that refresh beside it
/// (its refresh at the server commutes with their answers, its stored
/// token with their requests reaching the server); naive under the
/// non-atomic policy, whose refreshes commit on a leg of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_predicted_step_matches_a_real_run_with_three_lanes() {
    let setups = Strategy::ALL.iter().map(|&strategy| match strategy {
        Strategy::Proactive => setup(strategy, Policy::Strict, 1, 1, false),
        _ => setup(strategy, Policy::Strict, 2, 1, false),
    });
    let more = [
        setup(Strategy::Proactive, Policy::Strict, 2, 0, false),
        // A non-atomic refresh's commit is a leg of the server's own.
        setup(Strategy::Naive, Policy::NonAtomic, 2, 0, true),
    ];
    for settings in setups.chain(more) {
        let strategy = settings.strategy;
        let fast = explored(&settings).await;
        let checked = explore::explore(
            &settings,
            &Options {
                check_shortcuts: true,
                ..Options::default()
            },
        )
        .await
        .unwrap_or_else(|err| panic!("{strategy}: {err}"));
        assert!(fast.shortcuts > 0, "{strategy}: no step was predicted");
        assert_eq!(checked.shortcuts, 0);
        assert_eq!(by_class(&checked), by_class(&fast), "{strategy}");
        assert_eq!(checked.states, fast.states, "{strategy}");
    }
}
