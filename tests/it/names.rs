//! A run of a library (or of the learner's own module) in the page runtime
//! is titled by that module everywhere: its exports and its narration. Its
//! settings carry `strategy: naive` only as a placeholder, which must not
//! leak into what the learner reads or shares.

use crate::common;

use common::{http, start_lab, Stream};
use refresh_race::scenario;
use refresh_race::settings::{NetworkDriver, RunSettings, Runtime};
use serde_json::{json, Value};

const LIBRARY: &str = "axios-auth-refresh@5";

/// One exchange of the page's tab, tagged as the page's harness tags it.
async fn exchange(
    base: &str,
    page: &Value,
    path: &str,
    lane: &str,
    attempt: u64,
    op: &str,
    token: &str,
) -> (u16, Value) {
    let url = format!("{base}{}{path}", page["api"].as_str().unwrap());
    let request = if path == "/refresh" {
        http().post(url)
    } else {
        http().get(url)
    };
    common::answer(
        request
            .header("x-lab-lane", lane)
            .header("x-lab-attempt", attempt.to_string())
            .header("x-lab-exchange", op)
            .bearer_auth(token),
    )
    .await
}

async fn report(base: &str, page: &Value, body: Value) -> u16 {
    let url = format!("{base}{}", page["report"].as_str().unwrap());
    common::answer(http().post(url).json(&body)).await.0
}

/// Plays case 3 as the page does when the library runs in it (one secret
/// request: 401, refresh, retry) and returns the run report the page would
/// save: the start's settings, the streamed events, the verdict.
async fn library_run(base: &str) -> Value {
    let settings = json!({
        "runtime": "browser", "module": LIBRARY, "secret": 1, "public": 0,
        "latency_ms": {"secret": 0, "public": 0, "refresh": 0}
    });
    let mut stream = Stream::open(base, settings).await;
    let (start, _) = stream.until("start").await;
    assert_eq!(start["settings"]["module"], LIBRARY);
    let page = start["page"].clone();
    let token = page["token"].as_str().expect("case 3 starts logged in");

    let (status, _) = exchange(base, &page, "/secret", "secret#1", 2, "request", token).await;
    assert_eq!(status, 401);
    let (status, body) = exchange(base, &page, "/refresh", "secret#1", 3, "refresh", token).await;
    assert_eq!(status, 200);
    let fresh = body["token"].as_str().unwrap().to_owned();
    let stored = json!({"seq": 1, "started": 2, "received": 2,
        "events": [{"kind": "token_stored", "jti": "t2"}]});
    assert_eq!(report(base, &page, stored).await, 200);
    let (status, _) = exchange(base, &page, "/secret", "secret#1", 4, "retry", &fresh).await;
    assert_eq!(status, 200);
    let end = json!({"seq": 2, "started": 3, "received": 3,
        "events": [{"kind": "request_done", "lane": "secret#1", "ok": true, "status": 200}],
        "end": {"outcome": "done"}});
    assert_eq!(report(base, &page, end).await, 200);

    let mut events = Vec::new();
    let verdict = loop {
        let message = stream.next().await.expect("the run ends");
        match message["type"].as_str() {
            Some("event") => events.push(message["event"].clone()),
            Some("done") => break message["verdict"].clone(),
            other => panic!("unexpected line {other:?}: {message}"),
        }
    };
    assert_eq!(verdict["refresh_calls"], 1);
    json!({"settings": start["settings"], "events": events, "verdict": verdict})
}

/// `POST /lab/export/{format}` of `run`: the file name and the text.
async fn export(base: &str, format: &str, run: &Value) -> (String, String) {
    let response = http()
        .post(format!("{base}/lab/export/{format}"))
        .json(run)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{format}");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    (disposition, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_library_run_is_titled_by_the_library_in_every_export() {
    let base = start_lab().await;
    let run = library_run(&base).await;

    let (name, svg) = export(&base, "svg", &run).await;
    assert!(name.contains("refresh-race-expired-refreshable-axios-auth-refresh-5-strict.svg"));
    let title = roxmltree::Document::parse(&svg)
        .expect("the SVG is XML")
        .descendants()
        .find(|n| n.has_tag_name("title"))
        .and_then(|n| n.text())
        .unwrap()
        .to_owned();
    assert_eq!(
        title,
        "Refresh Race: case expired-refreshable, axios-auth-refresh@5 client, strict server"
    );

    let (_, mermaid) = export(&base, "mermaid", &run).await;
    assert!(
        mermaid.contains("participant tab as tab (axios-auth-refresh@5 client)"),
        "{mermaid}"
    );
    assert!(mermaid
        .contains("title: expired-refreshable · axios-auth-refresh@5 client · strict server"));

    let (_, har) = export(&base, "har", &run).await;
    let har: Value = serde_json::from_str(&har).unwrap();
    assert_eq!(
        har["log"]["pages"][0]["title"],
        "Refresh Race: case expired-refreshable, client axios-auth-refresh@5, policy strict (1 secret, 0 public, seed 1)"
    );

    let (_, trace) = export(&base, "trace", &run).await;
    assert!(trace.contains(
        "Refresh Race: case expired-refreshable, client axios-auth-refresh@5, policy strict"
    ));

    // The placeholder strategy is named nowhere, narration included (a
    // trace keeps the run's settings as data, the placeholder with them).
    let mut trace: Value = serde_json::from_str(&trace).unwrap();
    let settings = trace["otherData"]
        .as_object_mut()
        .unwrap()
        .remove("settings")
        .expect("the trace keeps the run's settings");
    assert_eq!(settings["module"], LIBRARY);
    let trace = trace.to_string();
    let har = har.to_string();
    for (format, text) in [
        ("svg", &svg),
        ("mermaid", &mermaid),
        ("trace", &trace),
        ("har", &har),
    ] {
        assert!(
            !text.contains("naive"),
            "{format} names the placeholder: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narration_of_a_library_run_names_the_library_not_the_placeholder() {
    // The race of case 3 as a library that refreshes per request plays it:
    // three lanes refresh t1 (seeded jitter, delivered in due order by the
    // step network, keeps the order fixed).
    let engine = scenario::run(&RunSettings {
        jitter_ms: 80,
        seed: 7,
        network: NetworkDriver::Step,
        ..RunSettings::default()
    })
    .await
    .unwrap();
    let settings = RunSettings {
        runtime: Runtime::Browser,
        module: Some(LIBRARY.into()),
        ..engine.settings.clone()
    };
    let sentences = refresh_race::narrate::all(&settings, &engine.events);
    assert!(
        sentences.iter().all(|s| !s.contains("naive")),
        "{sentences:#?}"
    );
    let second = sentences
        .iter()
        .filter(|s| s.contains("axios-auth-refresh@5 started a second refresh of one token"))
        .count();
    assert_eq!(second, 2, "{sentences:#?}");

    // The same events under the built-in strategy keep its own story.
    let naive = refresh_race::narrate::all(&engine.settings, &engine.events);
    let own = naive
        .iter()
        .filter(|s| s.contains("the naive client does not know"))
        .count();
    assert_eq!(own, 2, "{naive:#?}");
}
