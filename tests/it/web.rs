//! The lab's web front over real HTTP: streamed runs, settings errors,
//! security headers, and the auth API on the same port.

use crate::common;

use common::{http, start_lab};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_streams_start_events_and_done() {
    let base = start_lab().await;
    let response = http()
        .post(format!("{base}/lab/runs"))
        .header("content-type", "application/json")
        .body(r#"{"case":"expired-refreshable","strategy":"single-flight"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/x-ndjson"
    );
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "start");
    assert_eq!(lines[0]["settings"]["strategy"], "single-flight");
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "done");
    assert_eq!(last["verdict"]["refresh_calls"], 1);
    assert_eq!(last["verdict"]["ok"], 6);
    let seqs: Vec<u64> = lines[1..lines.len() - 1]
        .iter()
        .map(|line| {
            assert_eq!(line["type"], "event");
            line["event"]["seq"].as_u64().unwrap()
        })
        .collect();
    assert!(!seqs.is_empty());
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "no event lost or reordered"
    );
}

#[tokio::test]
async fn bad_run_settings_are_refused_before_anything_starts() {
    let base = start_lab().await;
    for (body, error, message) in [
        (
            r#"{"secret":0}"#,
            "invalid_setting",
            "secret must be between 1 and 10000 (got 0)",
        ),
        (
            r#"{"secret":100000}"#,
            "invalid_setting",
            "secret must be between 1 and 10000 (got 100000)",
        ),
        (
            r#"{"latency_ms":{"secret":-5}}"#,
            "bad_json",
            "invalid value: integer `-5`",
        ),
        (r#"{"secrets":3}"#, "bad_json", "unknown field `secrets`"),
        (r#"{"case":"later"}"#, "bad_json", "unknown variant `later`"),
        ("[1,2", "bad_json", "invalid run settings"),
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

#[tokio::test]
async fn options_headers_and_errors() {
    let base = start_lab().await;
    // The page carries the CSP; the API's JSON answers need none.
    let page = http().get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("object-src 'none'"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(
        !csp.contains("blob:"),
        "the page never loads blob: scripts: {csp}"
    );
    // The tab Worker, and only it, may load the learner's module as a blob:.
    let worker = http()
        .get(format!("{base}/worker/tab.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(worker.status(), 200);
    let host = base.trim_start_matches("http://");
    assert_eq!(
        worker.headers()["content-security-policy"],
        refresh_race::web::worker_content_security_policy(host).as_str()
    );

    let response = http()
        .get(format!("{base}/lab/options"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let options: Value = response.json().await.unwrap();
    // Every strategy of the list, in its order (the picker is built from it).
    let strategies: Vec<&str> = refresh_race::settings::Strategy::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(options["strategies"], serde_json::json!(strategies));
    assert_eq!(options["strategies"][2], "single-flight");
    // Five policies, then seven real servers' presets.
    assert_eq!(options["policies"].as_array().unwrap().len(), 12);
    assert_eq!(options["modes"], serde_json::json!(["article", "oauth"]));
    assert_eq!(
        options["cross_tabs"],
        serde_json::json!(["none", "lock", "storage-lock"])
    );

    let response = http().get(format!("{base}/lab/runs")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    let response = http()
        .get(format!("{base}/no-such-file.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["error"], "not_found");

    let response = http()
        .get(format!("{base}/api/public"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn time_travel_walks_one_token_from_valid_to_refreshable_to_dead() {
    let base = start_lab().await;
    let client = http();
    let token = common::login(&base).await;
    let travel = |seconds: &'static str| {
        client
            .post(format!("{base}/lab/clock"))
            .header("content-type", "application/json")
            .body(format!(r#"{{"advance_s":{seconds}}}"#))
            .send()
    };
    let reason = |body: Value| body["reason"].as_str().map(str::to_owned);

    let (status, _) = common::secret(&client, &base, &token).await;
    assert_eq!(status, 200);
    assert_eq!(travel("6").await.unwrap().status(), 200);
    let (status, body) = common::secret(&client, &base, &token).await;
    assert_eq!((status, reason(body)), (401, Some("expired".into())));
    assert_eq!(travel("10").await.unwrap().status(), 200);
    let (status, body) = common::refresh(&client, &base, &token).await;
    assert_eq!((status, reason(body)), (400, Some("window_over".into())));

    for (body, error) in [
        (r#"{"advance_s":-1}"#, "invalid_setting"),
        (r#"{"advance_s":0}"#, "invalid_setting"),
        (r#"{"advance_s":1e9}"#, "invalid_setting"),
        (r#"{"advance":1}"#, "bad_json"),
    ] {
        let response = client
            .post(format!("{base}/lab/clock"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["error"], error, "{body}");
    }
}

#[tokio::test]
async fn an_oversized_run_body_is_refused_with_413() {
    let base = start_lab().await;
    let body = format!(r#"{{"case":"valid","pad":"{}"}}"#, "x".repeat(100_000));
    let response = http()
        .post(format!("{base}/lab/runs"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["error"], "payload_too_large");
}

/// A reload's conditional GET gets 304 Not Modified from the UI folder, not
/// a 404: a 304 is no redirect to refuse.
#[tokio::test]
async fn a_conditional_get_of_a_ui_file_gets_304() {
    let base = start_lab().await;
    let first = http().get(format!("{base}/app.js")).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let modified = first.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    let again = http()
        .get(format!("{base}/app.js"))
        .header("if-modified-since", modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}
