//! Real servers' rules (server presets) against the naive client's race,
//! case 3, over real HTTP, stepped in due order so each run is exact.

mod common;

use refresh_race::scenario::{self, RunReport};
use refresh_race::settings::{Case, Mode, NetworkDriver, Policy, RunSettings, Strategy};
use refresh_race::timeline::{EventKind, Reason, RevokeCause};

async fn naive(policy: Policy, mode: Mode, tune: impl FnOnce(&mut RunSettings)) -> RunReport {
    let mut settings = RunSettings {
        case: Case::ExpiredRefreshable,
        strategy: Strategy::Naive,
        policy,
        mode,
        network: NetworkDriver::Step,
        ..RunSettings::default()
    };
    tune(&mut settings);
    scenario::run(&settings).await.expect("the run completes")
}

/// The refresh tokens each refresh call came back with, in order.
fn refresh_tokens_returned(report: &RunReport) -> Vec<Option<String>> {
    report
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RefreshDone { new_refresh, .. } => Some(new_refresh.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supabase_gives_the_reused_parent_the_active_token_back() {
    let report = naive(Policy::Supabase, Mode::Oauth, |_| {}).await;
    let v = &report.verdict;
    assert_eq!((v.ok, v.failed), (6, 0), "{}", v.sentence);
    assert_eq!((v.refresh_calls, v.refresh_accepted_by_server), (3, 3));
    assert_eq!(v.logouts, 0);
    // One rotation; the two late refreshes of r2 got its child r4 back.
    assert_eq!(
        refresh_tokens_returned(&report),
        vec![Some("r4".to_owned()); 3]
    );
    let rotations = report
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Rotated { .. }))
        .count();
    assert_eq!(rotations, 1);
    // Article mode: the reused parent gets the active JWT back.
    let article = naive(Policy::Supabase, Mode::Article, |_| {}).await;
    assert_eq!((article.verdict.ok, article.verdict.failed), (6, 0));
    assert_eq!(article.verdict.tokens_issued, 2, "t1 and t2, nothing more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth0_without_overlap_revokes_the_family_and_the_winners_token_dies() {
    for mode in [Mode::Article, Mode::Oauth] {
        let report = naive(Policy::Auth0, mode, |_| {}).await;
        let v = &report.verdict;
        assert_eq!(v.refresh_calls, 3, "{mode}");
        assert_eq!(v.refresh_accepted_by_server, 1, "{mode}");
        assert_eq!(
            common::refresh_rejections(&report),
            [Reason::Reused, Reason::Revoked],
            "{mode}"
        );
        // The winner's fresh access token died with the family.
        let winner = report
            .events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::RefreshDone {
                    new_jti: Some(t), ..
                } => Some(t.clone()),
                _ => None,
            })
            .unwrap();
        assert!(
            report.events.iter().any(|e| matches!(&e.kind,
                EventKind::Revoked { jti, cause: RevokeCause::Family, .. } if *jti == winner)),
            "{mode}: {winner} survived"
        );
        assert_eq!(v.secret_failed, 3, "{mode}: {}", v.sentence);
        assert!(
            v.sentence.contains("reuse revoked the whole family"),
            "{}",
            v.sentence
        );
    }
    // An overlap period (Auth0's leeway) lets the race through.
    let report = naive(Policy::Auth0, Mode::Article, |s| s.overlap_s = Some(5)).await;
    assert_eq!((report.verdict.ok, report.verdict.family_revoked), (6, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_with_its_30_s_grace_lets_every_request_through() {
    let report = naive(Policy::Okta, Mode::Article, |_| {}).await;
    let v = &report.verdict;
    assert_eq!((v.ok, v.failed), (6, 0), "{}", v.sentence);
    assert_eq!((v.refresh_calls, v.refresh_accepted_by_server), (3, 3));
    assert_eq!(v.family_revoked, 0);
    // Grace 0: reuse detection at once.
    let report = naive(Policy::Okta, Mode::Article, |s| s.overlap_s = Some(0)).await;
    assert_eq!(report.verdict.secret_failed, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keycloak_cognito_hydra_and_spring_follow_their_parameters() {
    // Keycloak's and Spring's defaults do not rotate: nothing to race for.
    for policy in [Policy::Keycloak, Policy::Spring] {
        let v = naive(policy, Mode::Oauth, |_| {}).await.verdict;
        assert_eq!(
            (v.ok, v.refresh_accepted_by_server, v.tokens_issued),
            (6, 3, 5),
            "{policy}"
        );
    }
    // Keycloak revokeRefreshToken=true: refreshTokenMaxReuse counts reuses.
    let strict = naive(Policy::Keycloak, Mode::Oauth, |s| s.rotate = Some(true)).await;
    assert_eq!(
        common::refresh_rejections(&strict),
        [Reason::Reused, Reason::Reused]
    );
    assert_eq!(
        strict.verdict.family_revoked, 0,
        "Keycloak refuses, kills nothing"
    );
    let one_reuse = naive(Policy::Keycloak, Mode::Oauth, |s| {
        s.rotate = Some(true);
        s.reuse_count = Some(1);
    })
    .await;
    assert_eq!(common::refresh_rejections(&one_reuse), [Reason::Reused]);
    // Cognito: refused after the retry grace period, nothing else dies.
    let cognito = naive(Policy::Cognito, Mode::Oauth, |_| {}).await;
    assert_eq!(
        common::refresh_rejections(&cognito),
        [Reason::Reused, Reason::Reused]
    );
    assert_eq!(cognito.verdict.family_revoked, 0);
    let cognito = naive(Policy::Cognito, Mode::Oauth, |s| s.overlap_s = Some(10)).await;
    assert_eq!(cognito.verdict.ok, 6);
    // Hydra: a grace period with a reuse count; past the count the chain dies.
    let hydra = naive(Policy::Hydra, Mode::Oauth, |s| {
        s.overlap_s = Some(10);
        s.reuse_count = Some(1);
    })
    .await;
    assert_eq!(common::refresh_rejections(&hydra), [Reason::Reused]);
    assert!(hydra.verdict.family_revoked > 0);
}
