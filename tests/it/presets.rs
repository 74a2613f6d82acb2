//! Real servers' rules (server presets), one test per row of the preset
//! table (docs/presets.md), each over real HTTP to a real server, naming
//! the source it follows; then the rules against the naive client's race,
//! case 3, stepped in due order so each run is exact.

use crate::common;

use std::sync::Arc;

use refresh_race::scenario::{self, RunReport};
use refresh_race::server::{AuthServer, AuthState, FORM};
use refresh_race::settings::presets::{self, PRESETS};
use refresh_race::settings::{Case, Latency, Mode, NetworkDriver, Policy, RunSettings, Strategy};
use refresh_race::timeline::{EventKind, Reason, RevokeCause};
use serde_json::Value;

/// The preset's row cites `source` (a link of its `sources`).
fn cites(policy: Policy, source: &str) {
    let preset = presets::preset(policy).expect("a preset");
    assert!(
        preset.sources.iter().any(|url| url.contains(source)),
        "{policy} should cite {source}: {:?}",
        preset.sources
    );
}

/// An OAuth-mode server of `policy` whose tokens live long enough for the
/// lab clock to be moved by hand.
struct Lab {
    server: AuthServer,
    state: Arc<AuthState>,
    http: reqwest::Client,
}

/// A login's or refresh's answer: the access token and the refresh token.
#[derive(Debug, Clone, PartialEq)]
struct Pair {
    access: String,
    refresh: String,
}

impl Lab {
    async fn start(policy: Policy, tune: impl FnOnce(&mut RunSettings)) -> Lab {
        let mut settings = RunSettings {
            policy,
            mode: Mode::Oauth,
            latency_ms: Latency::ZERO,
            access_ttl_s: 600,
            refresh_window_s: 3_600,
            ..RunSettings::default()
        };
        tune(&mut settings);
        settings.validate().expect("valid settings");
        let (server, state) = common::start(&settings).await;
        Lab {
            server,
            state,
            http: common::http(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    async fn login(&self) -> Pair {
        let (status, body) = common::answer(
            self.http
                .post(self.url("/api/login"))
                .json(&serde_json::json!({"login": "ada", "password": "pw"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        pair(&body)
    }

    /// Refreshes with `refresh`: the new pair, or the refusal's status and body.
    async fn refresh(&self, refresh: &str) -> Result<Pair, (u16, Value)> {
        let form = serde_urlencoded::to_string([
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
        ])
        .unwrap();
        let (status, body) = common::answer(
            self.http
                .post(self.url("/api/refresh"))
                .header(reqwest::header::CONTENT_TYPE, FORM)
                .body(form),
        )
        .await;
        match status {
            200 => Ok(pair(&body)),
            _ => Err((status, body)),
        }
    }

    /// The status of `GET /api/secret` with `access`.
    async fn secret(&self, access: &str) -> u16 {
        common::secret(&self.http, &self.server.base_url(), access)
            .await
            .0
    }

    fn later(&self, seconds: u64) {
        self.state.clock.advance_ms(seconds * 1000);
    }
}

fn pair(body: &Value) -> Pair {
    Pair {
        access: body["access_token"]
            .as_str()
            .expect("an access token")
            .into(),
        refresh: body["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .into(),
    }
}

/// The refusal's reason and description.
fn refused(outcome: Result<Pair, (u16, Value)>) -> (Reason, String) {
    let (status, body) = outcome.expect_err("refused");
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let reason: Reason = serde_json::from_value(body["reason"].clone()).unwrap();
    (reason, body["message"].as_str().unwrap_or("").into())
}

fn name(token: &str) -> &str {
    token.split('.').next().unwrap_or("?")
}

#[test]
fn the_preset_table_in_docs_is_generated_from_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/presets.md");
    let table = presets::markdown();
    if std::env::var_os("REFRESH_RACE_WRITE_DOCS").is_some() {
        std::fs::write(path, &table).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == table,
        "docs/presets.md is stale: run REFRESH_RACE_WRITE_DOCS=1 cargo test --test it presets::"
    );
    assert_eq!(table.matches("\n| `").count(), PRESETS.len());
}

/// Auth0, "Configure Refresh Token Rotation": inside the overlap period
/// only the previous token can be exchanged again; the second-to-last
/// triggers breach detection. Access tokens are JWTs: they live until exp.
#[tokio::test]
async fn auth0_leeway_covers_only_the_previous_token() {
    cites(Policy::Auth0, "configure-refresh-token-rotation");
    let lab = Lab::start(Policy::Auth0, |s| s.overlap_s = Some(30)).await;
    let first = lab.login().await;
    let second = lab.refresh(&first.refresh).await.unwrap();
    // The previous token again, inside the overlap: a new token, no breach.
    let again = lab.refresh(&first.refresh).await.unwrap();
    assert_ne!(again.refresh, second.refresh);
    // Once its child was exchanged, the first token is the second-to-last.
    let third = lab.refresh(&second.refresh).await.unwrap();
    let (reason, _) = refused(lab.refresh(&first.refresh).await);
    assert_eq!(reason, Reason::Reused);
    // Breach detection revoked the family: its refresh tokens are dead ...
    let (reason, description) = refused(lab.refresh(&third.refresh).await);
    assert_eq!(reason, Reason::Revoked, "{description}");
    // ... but an access token already issued works until exp.
    assert_eq!(lab.secret(&third.access).await, 200);
    // Default overlap 0: the first reuse is a breach.
    let lab = Lab::start(Policy::Auth0, |_| {}).await;
    let first = lab.login().await;
    lab.refresh(&first.refresh).await.unwrap();
    assert_eq!(refused(lab.refresh(&first.refresh).await).0, Reason::Reused);
}

/// Okta, "Refresh token rotation": a grace period (leeway 0-60 s, default
/// 30 s) in which the old token still works; a reuse after it revokes the
/// token family, access tokens included.
#[tokio::test]
async fn okta_grace_then_the_family_and_its_access_tokens_die() {
    cites(
        Policy::Okta,
        "developer.okta.com/docs/guides/refresh-tokens",
    );
    let lab = Lab::start(Policy::Okta, |_| {}).await;
    let first = lab.login().await;
    let second = lab.refresh(&first.refresh).await.unwrap();
    lab.later(29);
    lab.refresh(&first.refresh).await.expect("inside 30 s");
    lab.later(2);
    assert_eq!(refused(lab.refresh(&first.refresh).await).0, Reason::Reused);
    assert_eq!(
        lab.secret(&second.access).await,
        401,
        "the access token died"
    );
    assert_eq!(
        refused(lab.refresh(&second.refresh).await).0,
        Reason::Revoked
    );
}

/// Keycloak, TokenManager.validateTokenReuse: with revokeRefreshToken on,
/// the client session remembers the token last used and its count; past
/// refreshTokenMaxReuse "Maximum allowed refresh token reuse exceeded", an
/// older token "Stale token"; either ends the session. Its JWT access
/// tokens live until exp. Off (the default), nothing rotates.
#[tokio::test]
async fn keycloak_counts_reuses_of_the_current_token_and_a_stale_one_is_fatal() {
    cites(Policy::Keycloak, "TokenManager.java");
    cites(Policy::Keycloak, "server_admin/#_timeouts");
    // Default: revokeRefreshToken off, the same refresh token goes on.
    let lab = Lab::start(Policy::Keycloak, |_| {}).await;
    let first = lab.login().await;
    for _ in 0..3 {
        let next = lab.refresh(&first.refresh).await.unwrap();
        assert_eq!(next.refresh, first.refresh);
    }
    // refreshTokenMaxReuse 0: the first reuse ends the session.
    let lab = Lab::start(Policy::Keycloak, |s| s.rotate = Some(true)).await;
    let first = lab.login().await;
    let second = lab.refresh(&first.refresh).await.unwrap();
    let (reason, description) = refused(lab.refresh(&first.refresh).await);
    assert_eq!(reason, Reason::Reused, "{description}");
    assert_eq!(
        refused(lab.refresh(&second.refresh).await).0,
        Reason::Revoked
    );
    assert_eq!(
        lab.secret(&second.access).await,
        200,
        "a JWT lives until exp"
    );
    // refreshTokenMaxReuse 1: one reuse of the current token, then the end.
    let lab = Lab::start(Policy::Keycloak, |s| {
        s.rotate = Some(true);
        s.reuse_count = Some(1);
    })
    .await;
    let first = lab.login().await;
    lab.refresh(&first.refresh).await.unwrap();
    let newest = lab.refresh(&first.refresh).await.expect("one reuse");
    assert_eq!(refused(lab.refresh(&first.refresh).await).0, Reason::Reused);
    assert_eq!(
        refused(lab.refresh(&newest.refresh).await).0,
        Reason::Revoked
    );
    // Stale: once a newer token was used, an older one ends the session,
    // however many reuses were left.
    let first = lab.login().await;
    let second = lab.refresh(&first.refresh).await.unwrap();
    let third = lab.refresh(&second.refresh).await.unwrap();
    let (reason, description) = refused(lab.refresh(&first.refresh).await);
    assert_eq!(reason, Reason::Reused);
    assert!(description.contains("stale"), "{description}");
    assert_eq!(
        refused(lab.refresh(&third.refresh).await).0,
        Reason::Revoked
    );
}

/// Ory Hydra, "Graceful token refresh": rotation_grace_reuse_count counts
/// the first use (1: no reuse; 2: one); past it (or past the grace
/// period) the chain is revoked, access tokens too (fosite's
/// handleRefreshTokenReuse).
#[tokio::test]
async fn hydra_reuse_count_includes_the_first_use() {
    cites(Policy::Hydra, "graceful-token-refresh");
    cites(Policy::Hydra, "flow_refresh.go");
    let lab = Lab::start(Policy::Hydra, |s| {
        s.overlap_s = Some(60);
        s.reuse_count = Some(2);
    })
    .await;
    let first = lab.login().await;
    lab.refresh(&first.refresh).await.unwrap();
    let second = lab.refresh(&first.refresh).await.expect("use 2 of 2");
    assert_eq!(refused(lab.refresh(&first.refresh).await).0, Reason::Reused);
    assert_eq!(lab.secret(&second.access).await, 401, "the chain died");
    let lab = Lab::start(Policy::Hydra, |s| {
        s.overlap_s = Some(60);
        s.reuse_count = Some(1);
    })
    .await;
    let first = lab.login().await;
    lab.refresh(&first.refresh).await.unwrap();
    assert_eq!(refused(lab.refresh(&first.refresh).await).0, Reason::Reused);
    // 0: as often as the grace period allows.
    let lab = Lab::start(Policy::Hydra, |s| s.overlap_s = Some(60)).await;
    let first = lab.login().await;
    for _ in 0..4 {
        lab.refresh(&first.refresh).await.unwrap();
    }
}

/// Supabase Auth, token_refresh.go: the parent of the active token gets
/// the active token back; another revoked token inside
/// REFRESH_TOKEN_REUSE_INTERVAL gets a new child and is stamped again (the
/// interval slides); after it the family is revoked. Access tokens are
/// JWTs: they live until exp.
#[tokio::test]
async fn supabase_reuse_interval_slides_with_each_reuse() {
    cites(Policy::Supabase, "token_refresh.go");
    let lab = Lab::start(Policy::Supabase, |_| {}).await;
    let first = lab.login().await;
    let second = lab.refresh(&first.refresh).await.unwrap();
    let back = lab.refresh(&first.refresh).await.unwrap();
    assert_eq!(
        back.refresh, second.refresh,
        "the parent gets the active token"
    );
    let third = lab.refresh(&second.refresh).await.unwrap();
    // r1 is no longer the active token's parent: a plain reuse now.
    lab.later(8);
    lab.refresh(&first.refresh)
        .await
        .expect("8 s after it was spent");
    lab.later(8);
    lab.refresh(&first.refresh)
        .await
        .expect("16 s after it was spent, 8 s after its last reuse");
    lab.later(11);
    assert_eq!(refused(lab.refresh(&first.refresh).await).0, Reason::Reused);
    assert_eq!(
        refused(lab.refresh(&third.refresh).await).0,
        Reason::Revoked
    );
    assert_eq!(
        lab.secret(&third.access).await,
        200,
        "a JWT lives until exp"
    );
}

/// AWS Cognito, "Refresh tokens": rotation is an app client feature,
/// disabled by default; enabled, RetryGracePeriodSeconds (0-60) keeps the
/// old token working, then it is refused and nothing else dies.
#[tokio::test]
async fn cognito_rotates_only_when_enabled() {
    cites(
        Policy::Cognito,
        "amazon-cognito-user-pools-using-the-refresh-token",
    );
    cites(Policy::Cognito, "API_RefreshTokenRotationType");
    let lab = Lab::start(Policy::Cognito, |_| {}).await;
    let first = lab.login().await;
    for _ in 0..3 {
        assert_eq!(
            lab.refresh(&first.refresh).await.unwrap().refresh,
            first.refresh
        );
    }
    let lab = Lab::start(Policy::Cognito, |s| s.rotate = Some(true)).await;
    let first = lab.login().await;
    let second = lab.refresh(&first.refresh).await.unwrap();
    assert_eq!(refused(lab.refresh(&first.refresh).await).0, Reason::Reused);
    lab.refresh(&second.refresh)
        .await
        .expect("nothing else died");
    let lab = Lab::start(Policy::Cognito, |s| {
        s.rotate = Some(true);
        s.overlap_s = Some(10);
    })
    .await;
    let first = lab.login().await;
    lab.refresh(&first.refresh).await.unwrap();
    lab.later(9);
    lab.refresh(&first.refresh)
        .await
        .expect("inside the grace period");
    lab.later(2);
    assert_eq!(refused(lab.refresh(&first.refresh).await).0, Reason::Reused);
}

/// Spring Authorization Server, TokenSettings and
/// OAuth2RefreshTokenAuthenticationProvider: reuseRefreshTokens is true by
/// default; false rotates without a lock between reading the authorization
/// and saving the new one, so two refreshes of one token both pass and the
/// save that lands last wins.
#[tokio::test]
async fn spring_without_reuse_is_not_atomic_and_the_last_save_wins() {
    cites(Policy::Spring, "core-model-components");
    cites(Policy::Spring, "OAuth2RefreshTokenAuthenticationProvider");
    let lab = Lab::start(Policy::Spring, |_| {}).await;
    let first = lab.login().await;
    assert_eq!(
        lab.refresh(&first.refresh).await.unwrap().refresh,
        first.refresh
    );
    let lab = Lab::start(Policy::Spring, |s| s.rotate = Some(true)).await;
    let first = lab.login().await;
    // Both read the authorization before either saves (the store's commit
    // waits NON_ATOMIC_GAP_MS).
    let (a, b) = tokio::join!(lab.refresh(&first.refresh), lab.refresh(&first.refresh));
    let (a, b) = (a.expect("both pass"), b.expect("both pass"));
    assert_ne!(a.refresh, b.refresh);
    let outcomes = [lab.refresh(&a.refresh).await, lab.refresh(&b.refresh).await];
    let (kept, lost): (Vec<_>, Vec<_>) = outcomes.into_iter().partition(Result::is_ok);
    assert_eq!(
        (kept.len(), lost.len()),
        (1, 1),
        "one new token was overwritten"
    );
    let (reason, description) = refused(lost.into_iter().next().unwrap());
    assert_eq!(reason, Reason::Revoked);
    assert!(description.contains("no longer known"), "{description}");
    // Sequential refreshes rotate as usual.
    let next = kept.into_iter().next().unwrap().unwrap();
    assert_eq!(refused(lab.refresh(&first.refresh).await).0, Reason::Reused);
    lab.refresh(&next.refresh)
        .await
        .expect("the kept token goes on");
    assert!(name(&next.refresh).starts_with('r'));
}

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
        // The winner's fresh token was revoked with the family ...
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
        // ... but as an access token (a JWT) it lives until exp: the
        // winner's retry succeeds, the two refused lanes fail.
        assert_eq!(v.secret_failed, 2, "{mode}: {}", v.sentence);
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
    // Keycloak's, Spring's and Cognito's defaults do not rotate.
    for policy in [Policy::Keycloak, Policy::Spring, Policy::Cognito] {
        let v = naive(policy, Mode::Oauth, |_| {}).await.verdict;
        assert_eq!(
            (v.ok, v.refresh_accepted_by_server, v.tokens_issued),
            (6, 3, 5),
            "{policy}"
        );
    }
    // Keycloak revokeRefreshToken=true: the first reuse ends the session.
    let strict = naive(Policy::Keycloak, Mode::Oauth, |s| s.rotate = Some(true)).await;
    assert_eq!(
        common::refresh_rejections(&strict),
        [Reason::Reused, Reason::Revoked]
    );
    assert!(
        strict.verdict.family_revoked > 0,
        "the client session ended"
    );
    let one_reuse = naive(Policy::Keycloak, Mode::Oauth, |s| {
        s.rotate = Some(true);
        s.reuse_count = Some(1);
    })
    .await;
    assert_eq!(common::refresh_rejections(&one_reuse), [Reason::Reused]);
    // Cognito with rotation: refused after the retry grace period, nothing else dies.
    let cognito = naive(Policy::Cognito, Mode::Oauth, |s| s.rotate = Some(true)).await;
    assert_eq!(
        common::refresh_rejections(&cognito),
        [Reason::Reused, Reason::Reused]
    );
    assert_eq!(cognito.verdict.family_revoked, 0);
    let cognito = naive(Policy::Cognito, Mode::Oauth, |s| {
        s.rotate = Some(true);
        s.overlap_s = Some(10);
    })
    .await;
    assert_eq!(cognito.verdict.ok, 6);
    // Hydra: a grace period with a reuse count; past the count the chain dies.
    let hydra = naive(Policy::Hydra, Mode::Oauth, |s| {
        s.overlap_s = Some(10);
        s.reuse_count = Some(2);
    })
    .await;
    assert_eq!(common::refresh_rejections(&hydra), [Reason::Reused]);
    assert!(hydra.verdict.family_revoked > 0);
}

/// Every policy is in exactly one table, generic or preset, and says which
/// real systems it mirrors.
#[test]
fn every_policy_is_one_row_of_one_table() {
    use refresh_race::settings::policy::generic;
    for &policy in Policy::ALL {
        let tables = [generic(policy).is_some(), presets::preset(policy).is_some()];
        assert_eq!(tables.iter().filter(|t| **t).count(), 1, "{policy}");
        assert!(!policy.mirrors().is_empty(), "{policy}");
    }
    assert_eq!(Policy::ALL.len(), 12);
}
