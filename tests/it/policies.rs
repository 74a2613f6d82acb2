//! Server policies for a reused refresh credential (README, "Server
//! policies"): each row of the table as a real run, family revocation, the
//! grace window's edges on the lab clock, and 1,000 concurrent reuses.

use crate::common;

use common::{http, instant, login, refresh, secret, start};
use refresh_race::scenario::{self, RunReport};
use refresh_race::settings::{Case, NetworkDriver, Policy, RunSettings, Strategy};
use refresh_race::timeline::{EventKind, Reason, RevokeCause};

async fn race(policy: Policy, strategy: Strategy) -> RunReport {
    let settings = RunSettings {
        case: Case::ExpiredRefreshable,
        strategy,
        policy,
        // Due order on the step network: exact counts whatever the load.
        network: NetworkDriver::Step,
        ..RunSettings::default()
    };
    scenario::run(&settings).await.expect("the run completes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_refreshes_once_under_every_policy() {
    for policy in Policy::ALL {
        let v = race(*policy, Strategy::SingleFlight).await.verdict;
        assert_eq!(v.refresh_calls, 1, "{policy}");
        assert_eq!((v.ok, v.failed), (6, 0), "{policy}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_naive_accepts_one_and_rejects_two_as_reused() {
    let v = race(Policy::Strict, Strategy::Naive).await.verdict;
    assert_eq!(v.refresh_accepted_by_server, 1);
    assert_eq!(v.rejected_reasons.get(&Reason::Reused), Some(&2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn family_naive_kills_the_winners_token_too() {
    let report = race(Policy::Family, Strategy::Naive).await;
    let v = &report.verdict;
    assert_eq!(v.refresh_accepted_by_server, 1);
    let winner = report
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Rotated { new_jti, .. } => Some(new_jti.clone()),
            _ => None,
        })
        .expect("one refresh rotated");
    let family_revoked: Vec<&str> = report
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Revoked {
                jti,
                cause: RevokeCause::Family,
                ..
            } => Some(jti.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        family_revoked.contains(&winner.as_str()),
        "{family_revoked:?}"
    );
    // The winner's retry with its fresh token is refused as revoked.
    let retry_answer = report.events.iter().find_map(|e| match &e.kind {
        EventKind::Response {
            status,
            reason,
            jti,
            ..
        } if jti.as_deref() == Some(&winner) => Some((*status, *reason)),
        _ => None,
    });
    assert_eq!(retry_answer, Some((401, Some(Reason::Revoked))));
    assert_eq!(v.secret_failed, 3);
    assert!(v.logouts >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grace_and_none_let_every_naive_refresh_through() {
    for policy in [Policy::Grace, Policy::None] {
        let v = race(policy, Strategy::Naive).await.verdict;
        assert_eq!(v.refresh_accepted_by_server, 3, "{policy}");
        assert_eq!((v.ok, v.failed), (6, 0), "{policy}");
        // The login's token plus one per refresh.
        assert_eq!(v.tokens_issued, 4, "{policy}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_atomic_lets_overlapping_refreshes_win_twice() {
    let v = race(Policy::NonAtomic, Strategy::Naive).await.verdict;
    assert!(v.refresh_accepted_by_server >= 2, "{v:?}");
}

#[tokio::test]
async fn family_revocation_reaches_tokens_issued_after_the_login() {
    let (server, state) = start(&instant(Policy::Family)).await;
    let base = server.base_url();
    let client = http();
    let t1 = login(&base).await;
    let (_, body) = refresh(&client, &base, &t1).await;
    let t2 = body["token"].as_str().unwrap().to_owned();
    let (_, body) = refresh(&client, &base, &t2).await;
    let t3 = body["token"].as_str().unwrap().to_owned();
    assert_eq!(secret(&client, &base, &t3).await.0, 200);

    // Reusing t1 is theft as far as the server can tell: the family dies.
    let (status, body) = refresh(&client, &base, &t1).await;
    assert_eq!((status, body["reason"].as_str()), (400, Some("reused")));
    for token in [&t2, &t3] {
        let (status, body) = secret(&client, &base, token).await;
        assert_eq!((status, body["reason"].as_str()), (401, Some("revoked")));
    }
    let (status, body) = refresh(&client, &base, &t3).await;
    assert_eq!((status, body["reason"].as_str()), (400, Some("revoked")));
    // A new login starts a new family and works.
    let fresh = login(&base).await;
    assert_eq!(secret(&client, &base, &fresh).await.0, 200);
    drop(state);
}

/// A grace server whose refresh window is long enough not to interfere.
fn grace_settings() -> RunSettings {
    RunSettings {
        grace_s: 30,
        refresh_window_s: 600,
        ..instant(Policy::Grace)
    }
}

#[tokio::test]
async fn grace_allows_a_reuse_just_inside_the_window() {
    let (server, state) = start(&grace_settings()).await;
    let base = server.base_url();
    let client = http();
    let t1 = login(&base).await;
    assert_eq!(refresh(&client, &base, &t1).await.0, 200);
    state.clock.advance_ms(29_500);
    let (status, body) = refresh(&client, &base, &t1).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn grace_refuses_a_reuse_just_outside_the_window_and_kills_the_family() {
    let (server, state) = start(&grace_settings()).await;
    let base = server.base_url();
    let client = http();
    let t1 = login(&base).await;
    let (_, body) = refresh(&client, &base, &t1).await;
    let t2 = body["token"].as_str().unwrap().to_owned();
    state.clock.advance_ms(30_000);
    let (status, body) = refresh(&client, &base, &t1).await;
    assert_eq!((status, body["reason"].as_str()), (400, Some("reused")));
    let (status, body) = secret(&client, &base, &t2).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("revoked")));
}

/// Fires `n` concurrent refreshes of `token`; returns how many got 200.
/// The pool is filled with `n` open connections first, so the refreshes
/// leave together instead of trickling out behind connection set-up.
async fn concurrent_refreshes(base: &str, token: &str, n: usize) -> usize {
    let client = http();
    let warm_up = (0..n).map(|_| {
        let (client, url) = (client.clone(), format!("{base}/api/public"));
        tokio::spawn(async move { client.get(url).send().await.map(|r| r.status()) })
    });
    for answer in futures::future::join_all(warm_up).await {
        assert_eq!(answer.unwrap().unwrap(), 200);
    }
    let attempts = (0..n).map(|_| {
        let (client, base, token) = (client.clone(), base.to_owned(), token.to_owned());
        tokio::spawn(async move { refresh(&client, &base, &token).await.0 })
    });
    futures::future::join_all(attempts)
        .await
        .into_iter()
        .filter(|status| *status.as_ref().unwrap() == 200)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn family_and_grace_stay_exact_under_1000_concurrent_reuses() {
    // Family: one winner, and the reuse kills the winner's token.
    let (server, state) = start(&instant(Policy::Family)).await;
    let t1 = login(&server.base_url()).await;
    state.clock.advance_ms(6_000);
    assert_eq!(concurrent_refreshes(&server.base_url(), &t1, 1000).await, 1);

    // Grace with a zero window allows exactly the first one.
    let settings = RunSettings {
        grace_s: 0,
        ..grace_settings()
    };
    let (server, state) = start(&settings).await;
    let t1 = login(&server.base_url()).await;
    state.clock.advance_ms(6_000);
    assert_eq!(concurrent_refreshes(&server.base_url(), &t1, 1000).await, 1);

    // Grace inside its window allows every reuse; past it, none.
    let (server, state) = start(&grace_settings()).await;
    let t1 = login(&server.base_url()).await;
    assert_eq!(
        concurrent_refreshes(&server.base_url(), &t1, 1000).await,
        1000
    );
    state.clock.advance_ms(31_000);
    assert_eq!(concurrent_refreshes(&server.base_url(), &t1, 1000).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_non_atomic_lets_more_than_one_through() {
    let (server, state) = start(&instant(Policy::NonAtomic)).await;
    let t1 = login(&server.base_url()).await;
    state.clock.advance_ms(6_000);
    assert!(concurrent_refreshes(&server.base_url(), &t1, 1000).await >= 2);
}
