//! OAuth mode over real HTTP (RFC 6749 §5.1, §6): a login returns a short
//! JWT access token and an opaque refresh token; `/api/refresh` takes the
//! refresh token in a form body and rotates it. Each kind is refused where
//! the other belongs, and a body that is not the form is refused clearly.

use crate::common;

use common::{answer, http, start};
use refresh_race::scenario;
use refresh_race::settings::{Case, Latency, Mode, NetworkDriver, Policy, RunSettings, Strategy};
use refresh_race::timeline::{EventKind, TokenKind};
use serde_json::Value;

fn oauth(policy: Policy) -> RunSettings {
    RunSettings {
        policy,
        mode: Mode::Oauth,
        latency_ms: Latency::ZERO,
        ..RunSettings::default()
    }
}

async fn login(base: &str) -> Value {
    let (status, body) = answer(
        http()
            .post(format!("{base}/api/login"))
            .json(&serde_json::json!({"login": "ada", "password": "pw"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn refresh_form(base: &str, content_type: &str, body: String) -> (u16, Value) {
    answer(
        http()
            .post(format!("{base}/api/refresh"))
            .header("content-type", content_type)
            .body(body),
    )
    .await
}

fn form(refresh_token: &str) -> String {
    format!("grant_type=refresh_token&refresh_token={refresh_token}")
}

#[tokio::test]
async fn login_returns_an_access_and_a_refresh_token_and_refresh_rotates_it() {
    let (server, _) = start(&oauth(Policy::Strict)).await;
    let base = server.base_url();
    let body = login(&base).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 5);
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3, "the access token is a JWT");
    assert!(refresh.starts_with("r2."), "{refresh}");

    let (status, rotated) =
        refresh_form(&base, "application/x-www-form-urlencoded", form(refresh)).await;
    assert_eq!(status, 200, "{rotated}");
    let next = rotated["refresh_token"].as_str().unwrap();
    assert!(next.starts_with("r4."), "rotated: {next}");
    // Rotated away: the old refresh token is now a reuse.
    let (status, reused) =
        refresh_form(&base, "application/x-www-form-urlencoded", form(refresh)).await;
    assert_eq!((status, reused["reason"].as_str()), (400, Some("reused")));
    assert_eq!(reused["error"], "invalid_grant");
}

#[tokio::test]
async fn each_kind_is_refused_where_the_other_belongs_and_bad_forms_say_why() {
    let (server, _) = start(&oauth(Policy::Strict)).await;
    let base = server.base_url();
    let body = login(&base).await;
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();

    // The refresh token as the access token.
    let (status, wrong) = answer(
        http()
            .get(format!("{base}/api/secret"))
            .bearer_auth(refresh),
    )
    .await;
    assert_eq!(status, 400, "{wrong}");
    assert_eq!(wrong["reason"], "wrong_kind");
    assert!(
        wrong["message"]
            .as_str()
            .unwrap()
            .contains("this is the refresh token"),
        "{wrong}"
    );
    // The access token as the refresh token.
    let (status, wrong) =
        refresh_form(&base, "application/x-www-form-urlencoded", form(access)).await;
    assert_eq!(
        (status, wrong["reason"].as_str()),
        (400, Some("wrong_kind")),
        "{wrong}"
    );

    let how = "grant_type=refresh_token&refresh_token=<the refresh token> as application/x-www-form-urlencoded";
    for (content_type, body, error, message) in [
        (
            "application/json",
            format!(r#"{{"refresh_token":"{refresh}"}}"#),
            "invalid_request",
            "the body is not a form",
        ),
        (
            "application/x-www-form-urlencoded",
            format!(r#"{{"refresh_token":"{refresh}"}}"#),
            "invalid_request",
            "the form has no grant_type",
        ),
        (
            "application/x-www-form-urlencoded",
            "grant_type=refresh_token".into(),
            "invalid_request",
            "the form has no refresh_token",
        ),
        (
            "application/x-www-form-urlencoded",
            format!("grant_type=password&refresh_token={refresh}"),
            "unsupported_grant_type",
            "grant_type 'password' is not supported here (expected: refresh_token)",
        ),
    ] {
        let (status, refused) = refresh_form(&base, content_type, body.clone()).await;
        assert_eq!(status, 400, "{body}: {refused}");
        assert_eq!(refused["error"], error, "{body}");
        let text = refused["message"].as_str().unwrap();
        assert!(text.contains(message), "{body}: {text}");
        if error == "invalid_request" {
            assert!(text.contains(how), "{text}");
        }
    }
    // Another form type is still shut out everywhere, and a form only
    // reaches /api/refresh.
    let (status, _) = refresh_form(&base, "text/plain", form(refresh)).await;
    assert_eq!(status, 415);
    let (status, _) = answer(
        http()
            .post(format!("{base}/api/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("login=ada&password=pw"),
    )
    .await;
    assert_eq!(status, 415);
    // Nothing above spent the refresh token.
    let (status, _) = refresh_form(&base, "application/x-www-form-urlencoded", form(refresh)).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_race_in_oauth_mode_refreshes_the_refresh_token() {
    let settings = RunSettings {
        case: Case::ExpiredRefreshable,
        strategy: Strategy::Naive,
        mode: Mode::Oauth,
        // Due order on the step network: exact counts whatever the load.
        network: NetworkDriver::Step,
        ..RunSettings::default()
    };
    let report = scenario::run(&settings).await.unwrap();
    let v = &report.verdict;
    assert_eq!(v.refresh_calls, 3);
    assert_eq!(v.refresh_accepted_by_server, 1);
    // Every refresh presented the refresh token r2, never the access token.
    let presented: Vec<Option<String>> = report
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RefreshSent { jti, .. } => Some(jti.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(presented, vec![Some("r2".to_owned()); 3]);
    // Both kinds are on the timeline, each named as its kind.
    let issued: Vec<(String, TokenKind)> = report
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Issued {
                jti, token_kind, ..
            } => Some((jti.clone(), *token_kind)),
            _ => None,
        })
        .collect();
    assert_eq!(
        issued,
        [
            ("t1".to_owned(), TokenKind::Access),
            ("r2".to_owned(), TokenKind::Refresh),
            ("t3".to_owned(), TokenKind::Access),
            ("r4".to_owned(), TokenKind::Refresh),
        ]
    );
    assert!(
        v.sentence
            .starts_with("Race: 3 refreshes for 1 expired token"),
        "{}",
        v.sentence
    );
}
