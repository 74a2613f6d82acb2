//! Several tabs on one app over real HTTP: each tab has its own
//! interceptor, all share one stored token. Single-flight inside each tab
//! does not stop the tabs from racing each other; a cross-tab lock with a
//! re-read of the store does.

use crate::common;

use common::{http, start_lab};
use refresh_race::protocol::{Lane, LaneKind};
use refresh_race::scenario;
use refresh_race::settings::{Case, CrossTab, NetworkDriver, Policy, RunSettings, Strategy};
use refresh_race::timeline::{EventKind, Reason};
use serde_json::Value;

fn three_tabs(cross_tab: CrossTab, network: NetworkDriver) -> RunSettings {
    RunSettings {
        case: Case::ExpiredRefreshable,
        strategy: Strategy::SingleFlight,
        policy: Policy::Strict,
        tabs: 3,
        cross_tab,
        network,
        ..RunSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_tabs_without_a_lock_race_and_the_losers_log_everyone_out() {
    // Stepped in due order: the first tab's refresh reaches the server first.
    let report = scenario::run(&three_tabs(CrossTab::None, NetworkDriver::Step))
        .await
        .unwrap();
    let v = &report.verdict;
    assert_eq!(
        common::refreshers(&report),
        ["secret#1", "tab2/secret#1", "tab3/secret#1"],
        "one refresh per tab"
    );
    assert_eq!(v.refresh_calls, 3);
    assert_eq!(v.refresh_accepted_by_server, 1);
    assert_eq!(
        common::refresh_rejections(&report),
        [Reason::Reused, Reason::Reused]
    );
    // Tab 1 stored t2; tab 2's refused refresh cleared the shared store.
    let store: Vec<(String, Option<u8>)> = report
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TokenStored { jti, tab, .. } => Some((format!("stored {jti}"), *tab)),
            EventKind::LoggedOut { jti, tab, .. } => Some((format!("logged out {jti}"), *tab)),
            _ => None,
        })
        .collect();
    assert_eq!(
        store,
        [
            ("stored t1".to_owned(), None),
            ("stored t2".to_owned(), Some(1)),
            ("logged out t1".to_owned(), Some(2)),
        ]
    );
    assert_eq!(v.logouts, 1);
    assert_eq!(v.final_jti, None, "logged out");
    assert_eq!(v.logged_out_by, Some(2));
    // Tab 1's requests retried with t2 before the store was cleared.
    assert_eq!((v.secret_ok, v.secret_failed), (3, 6));
    assert_eq!((v.public_ok, v.public_failed), (9, 0));
    assert_eq!(
        v.sentence,
        "Race: 3 refreshes for 1 expired token; 1 accepted, 2 rejected (reused); 6 of 9 secret requests failed; tab 2 logged the others out."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_tab_lock_with_a_re_read_refreshes_once() {
    for network in [NetworkDriver::Timer, NetworkDriver::Step] {
        let report = scenario::run(&three_tabs(CrossTab::Lock, network))
            .await
            .unwrap();
        let v = &report.verdict;
        assert_eq!(v.refresh_calls, 1, "{network}");
        assert_eq!((v.ok, v.failed), (18, 0), "{network}: {}", v.sentence);
        assert_eq!(v.logouts, 0, "{network}");
        assert_eq!(v.final_jti.as_deref(), Some("t2"), "{network}");
        // The other eight secret requests waited for the lock.
        let queued = report
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Queued { .. }))
            .count();
        assert_eq!(queued, 8, "{network}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tab_lanes_are_named_by_tab_on_the_wire() {
    let base = start_lab().await;
    let text = http()
        .post(format!("{base}/lab/runs"))
        .header("content-type", "application/json")
        .body(r#"{"tabs":2,"secret":1,"public":0,"strategy":"single-flight"}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lanes: Vec<String> = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|line| line["type"] == "event")
        .filter_map(|line| line["event"]["lane"].as_str().map(str::to_owned))
        .collect();
    lanes.sort();
    lanes.dedup();
    assert_eq!(lanes, ["client", "secret#1", "server", "tab2/secret#1"]);
    assert_eq!(
        "tab2/secret#1".parse::<Lane>().unwrap(),
        Lane::Request(2, LaneKind::Secret, 1)
    );
}

#[tokio::test]
async fn bad_tab_mode_preset_and_drop_settings_are_refused_before_anything_starts() {
    let base = start_lab().await;
    for (body, error, message) in [
        (
            r#"{"tabs":0}"#,
            "invalid_setting",
            "tabs must be between 1 and 8 (got 0)",
        ),
        (
            r#"{"tabs":9}"#,
            "invalid_setting",
            "tabs must be between 1 and 8 (got 9)",
        ),
        (
            r#"{"cross_tab":"mutex"}"#,
            "bad_json",
            "unknown variant `mutex`, expected one of `none`, `lock`, `storage-lock`",
        ),
        (
            r#"{"mode":"saml"}"#,
            "bad_json",
            "unknown variant `saml`, expected `article` or `oauth`",
        ),
        (
            r#"{"policy":"okta2"}"#,
            "bad_json",
            "unknown variant `okta2`, expected one of `strict`, `family`, `grace`, `none`, `non-atomic`, `auth0`, `okta`, `keycloak`, `hydra`, `supabase`, `cognito`, `spring`",
        ),
        (
            r#"{"policy":"grace","reuse_count":1}"#,
            "invalid_setting",
            "reuse_count is a parameter of keycloak, hydra, not of the grace policy",
        ),
        (
            r#"{"drop":["secret#1<"]}"#,
            "bad_json",
            "is not a refresh answer",
        ),
    ] {
        let response = http()
            .post(format!("{base}/lab/runs"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["error"], error, "{body}");
        assert!(
            json["message"].as_str().unwrap().contains(message),
            "{body}: {json}"
        );
    }
}
