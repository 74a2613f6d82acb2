//! The browser runtime's protocol over real HTTP, with this test as the
//! page: the run's API under `/lab/runs/{id}/api`, the tab's sends and
//! answers recorded at that edge, the page's reports, a held run that waits
//! for the page, and every way a page can get it wrong.

use crate::common;

use common::{command, http, start_lab, Stream};
use serde_json::{json, Value};

/// One exchange of the page's tab, tagged as the page's harness tags it.
async fn exchange(
    base: &str,
    page: &Value,
    path: &str,
    lane: &str,
    attempt: u64,
    op: &str,
    token: Option<&str>,
) -> (u16, Value) {
    let url = format!("{base}{}{path}", page["api"].as_str().unwrap());
    let mut request = if path == "/refresh" {
        http().post(url)
    } else {
        http().get(url)
    };
    request = request
        .header("x-lab-lane", lane)
        .header("x-lab-attempt", attempt.to_string())
        .header("x-lab-exchange", op);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    common::answer(request).await
}

async fn report(base: &str, page: &Value, body: Value) -> (u16, Value) {
    let url = format!("{base}{}", page["report"].as_str().unwrap());
    common::answer(http().post(url).json(&body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_plays_case_3_and_the_lab_records_both_sides() {
    let base = start_lab().await;
    let settings = json!({"runtime": "browser", "secret": 1, "public": 0, "latency_ms": {"secret": 0, "public": 0, "refresh": 0}});
    let mut stream = Stream::open(&base, settings).await;
    let (start, _) = stream.until("start").await;
    let page = start["page"].clone();
    assert_eq!(page["first_attempt"], 2);
    let token = page["token"]
        .as_str()
        .expect("case 3 starts logged in")
        .to_owned();

    let (status, body) = exchange(
        &base,
        &page,
        "/secret",
        "secret#1",
        2,
        "request",
        Some(&token),
    )
    .await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("expired")));
    let (status, body) = exchange(
        &base,
        &page,
        "/refresh",
        "secret#1",
        3,
        "refresh",
        Some(&token),
    )
    .await;
    assert_eq!(status, 200);
    let fresh = body["token"].as_str().unwrap().to_owned();
    let (ok, _) = report(&base, &page, json!({"seq": 1, "started": 2, "received": 2, "events": [{"kind": "token_stored", "jti": "t2"}]})).await;
    assert_eq!(ok, 200);
    let (status, _) = exchange(
        &base,
        &page,
        "/secret",
        "secret#1",
        4,
        "retry",
        Some(&fresh),
    )
    .await;
    assert_eq!(status, 200);
    let end = json!({"seq": 2, "started": 3, "received": 3, "events": [{"kind": "request_done", "lane": "secret#1", "ok": true, "status": 200}], "end": {"outcome": "done"}});
    assert_eq!(report(&base, &page, end).await.0, 200);

    let mut kinds = Vec::new();
    let done = loop {
        let message = stream.next().await.expect("the run ends");
        match message["type"].as_str() {
            Some("event") => kinds.push(format!(
                "{} {}",
                message["event"]["lane"].as_str().unwrap(),
                message["event"]["kind"].as_str().unwrap()
            )),
            Some("done") => break message,
            other => panic!("unexpected line {other:?}: {message}"),
        }
    };
    let tab: Vec<&str> = kinds
        .iter()
        .map(String::as_str)
        .filter(|k| !k.starts_with("server"))
        .collect();
    assert_eq!(
        tab,
        [
            "client token_stored",
            "secret#1 request_sent",
            "secret#1 response",
            "secret#1 refresh_sent",
            "secret#1 refresh_done",
            "client token_stored",
            "secret#1 retry_sent",
            "secret#1 response",
            "secret#1 request_done",
        ]
    );
    let verdict = &done["verdict"];
    assert_eq!(
        (
            verdict["refresh_calls"].as_u64(),
            verdict["ok"].as_u64(),
            verdict["logouts"].as_u64()
        ),
        (Some(1), Some(1), Some(0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_page_run_waits_for_the_page_to_catch_up() {
    let base = start_lab().await;
    let settings =
        json!({"runtime": "browser", "secret": 1, "public": 0, "network": "step", "case": "guest"});
    let mut stream = Stream::open(&base, settings).await;
    let (start, _) = stream.until("start").await;
    let (run, page) = (start["run"].as_u64().unwrap(), start["page"].clone());
    assert_eq!(page["token"], Value::Null, "a guest has no token");

    // The request is out but the page has not said so: a step must wait.
    let base2 = base.clone();
    let page2 = page.clone();
    let request = tokio::spawn(async move {
        exchange(&base2, &page2, "/secret", "secret#1", 2, "request", None).await
    });
    let stepping = tokio::spawn({
        let base = base.clone();
        async move { command(&base, run, json!({"command": "step"})).await }
    });
    // The page reports: one started, none back. Now the run has settled.
    assert_eq!(
        report(&base, &page, json!({"seq": 1, "started": 1, "received": 0}))
            .await
            .0,
        200
    );
    let (status, view) = stepping.await.unwrap();
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["delivered"], json!(["secret#1>"]));
    assert_eq!(view["legs"][0]["id"], "secret#1<");
    assert_eq!(view["tab"]["strategy"]["strategy"], "in-page");
    // The answer reaches the page; the step is over once the page took it in.
    let stepping = tokio::spawn({
        let base = base.clone();
        async move { command(&base, run, json!({"command": "step"})).await }
    });
    assert_eq!(request.await.unwrap().0, 401);
    let caught_up = json!({"seq": 2, "started": 1, "received": 1});
    assert_eq!(report(&base, &page, caught_up).await.0, 200);
    let (status, view) = stepping.await.unwrap();
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["legs"], json!([]));
    let end = json!({"seq": 3, "started": 1, "received": 1, "events": [{"kind": "request_done", "lane": "secret#1", "ok": false, "status": 401}], "end": {"outcome": "done"}});
    assert_eq!(report(&base, &page, end).await.0, 200);
    let (done, _) = stream.until("done").await;
    assert_eq!(done["delivered"], json!(["secret#1>", "secret#1<"]));
    assert_eq!(done["verdict"]["secret_failed"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_module_ends_its_run_with_the_message() {
    let base = start_lab().await;
    let mut stream = Stream::open(
        &base,
        json!({"runtime": "browser", "secret": 1, "public": 0}),
    )
    .await;
    let (start, _) = stream.until("start").await;
    let end = json!({"seq": 1, "started": 0, "received": 0, "end": {"outcome": "failed", "message": "TypeError: x is not a function (line 4)"}});
    assert_eq!(report(&base, &start["page"], end).await.0, 200);
    let (error, _) = stream.until("error").await;
    assert_eq!(error["message"], "TypeError: x is not a function (line 4)");
    // The page says it too (its tab failed, and it ends the run itself), a
    // report that may arrive after the run ended: taken in and ignored, so
    // the browser logs no error; a run that never was stays unknown.
    assert!(
        stream.next().await.is_none(),
        "the stream ends after the error"
    );
    let again = json!({"seq": 9007199254740991u64, "started": 0, "received": 0, "end": {"outcome": "failed", "message": "the tab's Worker failed"}});
    let (status, body) = report(&base, &start["page"], again.clone()).await;
    assert_eq!((status, &body), (200, &json!({"ok": false, "gone": true})));
    let never = json!({"report": "/lab/runs/4294967296/page"});
    let (status, body) = report(&base, &never, again).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_run")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_reports_and_bad_settings_are_refused_whole() {
    let base = start_lab().await;
    let mut stream = Stream::open(
        &base,
        json!({"runtime": "browser", "secret": 1, "public": 0}),
    )
    .await;
    let (start, _) = stream.until("start").await;
    let page = start["page"].clone();
    for (body, needle) in [
        (
            json!({"seq": 1, "started": 0, "received": 0, "events": [{"kind": "request_done", "lane": "client", "ok": true, "status": 200}]}),
            "belongs to a request lane",
        ),
        (
            json!({"seq": 1, "started": 0, "received": 0, "events": [{"kind": "token_stored", "jti": ""}]}),
            "1 to 64 characters",
        ),
        (
            json!({"seq": 1, "started": 0, "received": 0, "events": [{"kind": "issued", "jti": "t9"}]}),
            "page report",
        ),
        (json!({"seq": 1, "started": 0}), "received"),
        (
            json!({"seq": 1, "started": 0, "received": 0, "extra": 1}),
            "extra",
        ),
    ] {
        let (status, answer) = report(&base, &page, body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(needle),
            "{body} → {answer}"
        );
    }
    let (status, answer) = report(
        &base,
        &json!({"report": "/lab/runs/999/page"}),
        json!({"seq": 1, "started": 0, "received": 0}),
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (404, Some("unknown_run"))
    );

    // A Rust run takes no page reports and has no page API.
    let mut rust = Stream::open(&base, json!({"secret": 1, "public": 0, "network": "hand"})).await;
    let (start, _) = rust.until("start").await;
    let run = start["run"].as_u64().unwrap();
    let (status, answer) = report(
        &base,
        &json!({"report": format!("/lab/runs/{run}/page")}),
        json!({"seq": 1, "started": 0, "received": 0}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let (status, _) = exchange(
        &base,
        &json!({"api": format!("/lab/runs/{run}/api")}),
        "/secret",
        "secret#1",
        2,
        "request",
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Settings the lab refuses before anything starts.
    for (settings, needle) in [
        (
            json!({"runtime": "browser", "secret": 150, "public": 60}),
            "requests of a browser run must be between 1 and 200",
        ),
        (json!({"runtime": "webkit"}), "unknown variant"),
        (json!({"module": "mine.js"}), "needs runtime browser"),
        (
            json!({"runtime": "browser", "module_options": {"deduplicateRefresh": false}}),
            "name it with module",
        ),
        (
            json!({"runtime": "browser", "module": "axios-auth-refresh@5", "module_options": {"x": "y".repeat(2000)}}),
            "module_options size in bytes must be between 0 and 1024",
        ),
        (
            json!({"runtime": "browser", "module": "axios-auth-refresh@5", "module_options": [1]}),
            "invalid type",
        ),
    ] {
        let (status, answer) =
            common::answer(http().post(format!("{base}/lab/runs")).json(&settings)).await;
        assert_eq!(status, 400, "{settings} → {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(needle),
            "{settings} → {answer}"
        );
    }
}

#[tokio::test]
async fn the_cli_says_where_the_browser_runtime_runs() {
    let settings = refresh_race::settings::RunSettings {
        runtime: refresh_race::settings::Runtime::Browser,
        ..Default::default()
    };
    let error = refresh_race::scenario::run(&settings).await.unwrap_err();
    assert!(
        error.to_string().contains("runs in the lab's page"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_tabs_settle_per_tab_and_wait_for_what_the_page_relays() {
    let base = start_lab().await;
    let settings = json!({"runtime": "browser", "secret": 1, "public": 0, "network": "step", "case": "guest", "tabs": 2});
    let mut stream = Stream::open(&base, settings).await;
    let (start, _) = stream.until("start").await;
    let (run, page) = (start["run"].as_u64().unwrap(), start["page"].clone());

    // Tab 2's request is out; the page's report says so, and that a
    // storage event is still on its way to tab 1: the step waits.
    let request = tokio::spawn({
        let (base, page) = (base.clone(), page.clone());
        async move { exchange(&base, &page, "/secret", "tab2/secret#1", 3, "request", None).await }
    });
    let stepping = tokio::spawn({
        let base = base.clone();
        async move { command(&base, run, json!({"command": "step"})).await }
    });
    let tabs =
        json!([{"tab": 1, "started": 0, "received": 0}, {"tab": 2, "started": 1, "received": 0}]);
    let relaying = json!({"seq": 1, "started": 1, "received": 0, "tabs": tabs, "relaying": 1});
    assert_eq!(report(&base, &page, relaying).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !stepping.is_finished(),
        "a message between tabs is on its way: not settled"
    );
    let settled = json!({"seq": 2, "started": 1, "received": 0, "tabs": tabs});
    assert_eq!(report(&base, &page, settled).await.0, 200);
    let (status, view) = stepping.await.unwrap();
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["delivered"], json!(["tab2/secret#1>"]));
    assert_eq!(view["tab"]["other_tabs"], json!([{"strategy": "in-page"}]));

    // A tab the run does not have is refused whole.
    let stranger = json!({"seq": 3, "started": 1, "received": 0, "tabs": [{"tab": 3, "started": 0, "received": 0}]});
    let (status, body) = report(&base, &page, stranger).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("tab 3: this run has 2 tabs"),
        "{body}"
    );
    let stored = json!({"seq": 4, "started": 1, "received": 0, "events": [{"kind": "token_stored", "jti": "t9", "tab": 5}]});
    assert_eq!(report(&base, &page, stored).await.0, 400);

    // The answer, taken in by tab 2; then both tabs end.
    let stepping = tokio::spawn({
        let base = base.clone();
        async move { command(&base, run, json!({"command": "step"})).await }
    });
    assert_eq!(request.await.unwrap().0, 401);
    let end = json!({"seq": 5, "started": 1, "received": 1,
        "tabs": [{"tab": 1, "started": 0, "received": 0}, {"tab": 2, "started": 1, "received": 1}],
        "events": [{"kind": "request_done", "lane": "tab2/secret#1", "ok": false, "status": 401}],
        "end": {"outcome": "done"}});
    assert_eq!(report(&base, &page, end).await.0, 200);
    assert_eq!(stepping.await.unwrap().0, 200);
    let (done, _) = stream.until("done").await;
    assert_eq!(
        done["delivered"],
        json!(["tab2/secret#1>", "tab2/secret#1<"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oauth_page_gets_its_refresh_token_and_refreshes_with_a_form() {
    let base = start_lab().await;
    // A built-in strategy presents the access token: OAuth mode needs a
    // library or the learner's module in the page.
    let builtin = http()
        .post(format!("{base}/lab/runs"))
        .json(&json!({"runtime": "browser", "mode": "oauth"}))
        .send()
        .await
        .unwrap();
    assert_eq!(builtin.status(), 400);
    assert!(builtin
        .text()
        .await
        .unwrap()
        .contains("OAuth mode with a built-in strategy"));

    let settings = json!({"runtime": "browser", "mode": "oauth", "module": "oidc-client-ts@3", "secret": 1, "public": 0, "latency_ms": {"secret": 0, "public": 0, "refresh": 0}});
    let mut stream = Stream::open(&base, settings).await;
    let (start, _) = stream.until("start").await;
    let page = start["page"].clone();
    let access = page["token"].as_str().expect("logged in").to_owned();
    let session =
        common::answer(http().get(format!("{base}{}", page["report"].as_str().unwrap()))).await;
    assert_eq!(session.0, 200);
    let refresh = session.1["refresh_token"]
        .as_str()
        .expect("the login's refresh token")
        .to_owned();
    assert!(
        refresh.starts_with('r') && refresh.contains('.'),
        "{refresh}"
    );

    let (status, _) = exchange(
        &base,
        &page,
        "/secret",
        "secret#1",
        2,
        "request",
        Some(&access),
    )
    .await;
    assert_eq!(status, 401);
    let url = format!("{base}{}/refresh", page["api"].as_str().unwrap());
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let (status, body) = common::answer(
        http()
            .post(url)
            .header("x-lab-lane", "secret#1")
            .header("x-lab-attempt", "3")
            .header("x-lab-exchange", "refresh")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let fresh = body["access_token"].as_str().unwrap().to_owned();
    let rotated = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, refresh);
    let jti = |token: &str| {
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()["jti"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let stored = json!({"seq": 1, "started": 2, "received": 2, "events": [{"kind": "token_stored", "jti": jti(&fresh)}]});
    assert_eq!(report(&base, &page, stored).await.0, 200);
    let (status, _) = exchange(
        &base,
        &page,
        "/secret",
        "secret#1",
        4,
        "retry",
        Some(&fresh),
    )
    .await;
    assert_eq!(status, 200);
    let end = json!({"seq": 2, "started": 3, "received": 3, "events": [{"kind": "request_done", "lane": "secret#1", "ok": true, "status": 200}], "end": {"outcome": "done"}});
    assert_eq!(report(&base, &page, end).await.0, 200);

    let name = |raw: &str| raw.split('.').next().unwrap().to_owned();
    let mut seen = Vec::new();
    loop {
        let message = stream.next().await.expect("the run ends");
        match message["type"].as_str() {
            Some("event") => {
                let e = &message["event"];
                match e["kind"].as_str().unwrap() {
                    "refresh_sent" => seen.push(format!("sent {}", e["jti"].as_str().unwrap())),
                    "refresh_done" => seen.push(format!(
                        "done {} -> {}",
                        e["jti"].as_str().unwrap(),
                        e["new_refresh"].as_str().unwrap()
                    )),
                    "token_stored" => {
                        seen.push(format!("stored {}", e["refresh"].as_str().unwrap_or("-")))
                    }
                    _ => {}
                }
            }
            Some("done") => break,
            other => panic!("unexpected line {other:?}: {message}"),
        }
    }
    let (old, new) = (name(&refresh), name(&rotated));
    assert_eq!(
        seen,
        [
            format!("stored {old}"),
            format!("sent {old}"),
            format!("done {old} -> {new}"),
            format!("stored {new}"),
        ]
    );
}
