//! Exploring a client that runs in the page, with this test as the page:
//! `POST /lab/explore` over real HTTP, each `attach` line starting a fake
//! tab that speaks the page's protocol (its exchanges, its reports). A
//! client that fails in some orders ends those orders in an `error` class
//! of its own, and the exploration goes on; a page whose last report still
//! relays a message between its tabs has settled all the same.

use crate::common;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use common::{http, start_lab};
use refresh_race::explore::{explore, Options};
use refresh_race::settings::RunSettings;
use serde_json::{json, Value};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// How a fake tab behaves.
#[derive(Clone, Copy)]
enum Fake {
    /// One tab, two lanes: fails ("throws") when secret#2's answer comes
    /// back before secret#1's.
    FailsOnSecondFirst,
    /// Two tabs, one lane each; the page's end report still counts a
    /// storage event on its way to a tab whose requests all returned.
    TwoTabsRelaying,
}

/// What the fake page has told the lab so far.
struct Told {
    seq: u64,
    started: [u64; 2],
    received: [u64; 2],
    done: usize,
    over: bool,
}

async fn post(page: &Value, body: Value) {
    let url = page["report"].as_str().unwrap();
    let _ = http().post(url).json(&body).send().await;
}

/// One exchange of the page: `lane` (as the lab names it), `attempt`.
async fn exchange(page: &Value, lane: &str, attempt: u64) -> u16 {
    let url = format!("{}/secret", page["api"].as_str().unwrap());
    let mut request = http()
        .get(url)
        .header("x-lab-lane", lane)
        .header("x-lab-attempt", attempt.to_string())
        .header("x-lab-exchange", "request");
    if let Some(token) = page["token"].as_str() {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

/// Plays the page's side of one explored run.
async fn fake_tab(base: String, page: Value, fake: Fake) {
    let page = json!({
        "api": format!("{base}{}", page["api"].as_str().unwrap()),
        "report": format!("{base}{}", page["report"].as_str().unwrap()),
        "token": page["token"].clone(),
        "first_attempt": page["first_attempt"].clone(),
    });
    let first = page["first_attempt"].as_u64().unwrap();
    let lanes: [&str; 2] = match fake {
        Fake::FailsOnSecondFirst => ["secret#1", "secret#2"],
        Fake::TwoTabsRelaying => ["secret#1", "tab2/secret#1"],
    };
    let two_tabs = matches!(fake, Fake::TwoTabsRelaying);
    let told = Arc::new(Mutex::new(Told {
        seq: 0,
        started: [0, 0],
        received: [0, 0],
        done: 0,
        over: false,
    }));
    let body = move |t: &Told, events: Value| {
        let mut body = json!({
            "seq": t.seq,
            "started": t.started.iter().sum::<u64>(),
            "received": t.received.iter().sum::<u64>(),
            "events": events,
        });
        if two_tabs {
            body["tabs"] = json!([
                {"tab": 1, "started": t.started[0], "received": t.received[0]},
                {"tab": 2, "started": t.started[1], "received": t.received[1]},
            ]);
        }
        body
    };
    let mut sends = Vec::new();
    {
        let mut t = told.lock().await;
        for (i, lane) in lanes.into_iter().enumerate() {
            t.started[if two_tabs { i } else { 0 }] += 1;
            let page = page.clone();
            let told = told.clone();
            sends.push(tokio::spawn(async move {
                let status = exchange(&page, lane, first + i as u64).await;
                let mut t = told.lock().await;
                if t.over {
                    return;
                }
                t.received[if two_tabs { i } else { 0 }] += 1;
                t.seq += 1;
                let failed = matches!(fake, Fake::FailsOnSecondFirst) && i == 1 && t.done == 0;
                let mut report = if failed {
                    body(&t, json!([]))
                } else {
                    t.done += 1;
                    body(
                        &t,
                        json!([{"kind": "request_done", "lane": lane, "ok": status == 200, "status": status}]),
                    )
                };
                if failed {
                    report["end"] =
                        json!({"outcome": "failed", "message": "secret#2 heard first"});
                    t.over = true;
                } else if t.done == 2 {
                    report["end"] = json!({"outcome": "done"});
                    if two_tabs {
                        // A storage event still on its way to the tab that
                        // finished first: it can change nothing any more.
                        report["relaying"] = json!(1);
                    }
                    t.over = true;
                }
                post(&page, report).await;
            }));
        }
        t.seq += 1;
        let first_report = body(&t, json!([]));
        post(&page, first_report).await;
    }
    for send in sends {
        let _ = send.await;
    }
}

/// Explores `settings` (runtime browser) with the fake page; the result line.
async fn explore_in_fake_page(settings: Value, fake: Fake) -> Value {
    let base = start_lab().await;
    let mut response = http()
        .post(format!("{base}/lab/explore"))
        .json(&json!({ "settings": settings }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut tabs: HashMap<u64, JoinHandle<()>> = HashMap::new();
    let mut buffer = String::new();
    loop {
        let Some(end) = buffer.find('\n') else {
            let chunk = response
                .chunk()
                .await
                .unwrap()
                .expect("the stream ends with a result");
            buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            continue;
        };
        let line: String = buffer.drain(..=end).collect();
        let message: Value = serde_json::from_str(&line).unwrap();
        match message["type"].as_str() {
            Some("attach") => {
                let run = message["run"].as_u64().unwrap();
                let task = tokio::spawn(fake_tab(base.clone(), message["page"].clone(), fake));
                tabs.insert(run, task);
            }
            Some("detach") => {
                if let Some(task) = tabs.remove(&message["run"].as_u64().unwrap()) {
                    task.abort();
                }
            }
            Some("progress") => {}
            Some("result") => return message["exploration"].clone(),
            _ => panic!("the exploration failed: {message}"),
        }
    }
}

/// Every order of secret#1's and secret#2's request and answer, cut where
/// the fake client fails (secret#2's answer before secret#1's): the
/// distinct orders, and how many of them fail.
fn brute_force() -> (BTreeSet<Vec<&'static str>>, usize) {
    let legs = ["secret#1>", "secret#1<", "secret#2>", "secret#2<"];
    let mut orders = BTreeSet::new();
    let mut failing = BTreeSet::new();
    // The permutations of 4 legs in which each answer follows its request.
    for a in 0..4 {
        for b in 0..4 {
            for c in 0..4 {
                for d in 0..4 {
                    let order = [a, b, c, d];
                    if BTreeSet::from(order).len() < 4 {
                        continue;
                    }
                    let at = |leg| order.iter().position(|&x| x == leg).unwrap();
                    if at(1) < at(0) || at(3) < at(2) {
                        continue;
                    }
                    let cut = if at(3) < at(1) { at(3) + 1 } else { 4 };
                    let named: Vec<&str> = order[..cut].iter().map(|&i| legs[i]).collect();
                    if cut < 4 {
                        failing.insert(named.clone());
                    }
                    orders.insert(named);
                }
            }
        }
    }
    (orders, failing.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_fails_in_some_orders_ends_them_in_an_error_class_and_exploration_goes_on() {
    let exploration = explore_in_fake_page(
        json!({"case": "valid", "runtime": "browser", "secret": 2, "public": 0}),
        Fake::FailsOnSecondFirst,
    )
    .await;
    let (orders, failing) = brute_force();
    assert_eq!(exploration["exact"], true);
    assert_eq!(exploration["orders"], orders.len() as u64, "{exploration}");
    assert_eq!(exploration["failing"], failing as u64, "{exploration}");
    let classes = exploration["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 2, "{exploration}");
    let error = &classes[1];
    assert_eq!(error["ok"], false);
    assert_eq!(error["outcome"]["error"], true);
    assert_eq!(error["outcome"]["hang"], false);
    assert_eq!(error["count"], failing as u64);
    assert_eq!(error["error"], "secret#2 heard first");
    assert_eq!(error["shortest"], json!(["secret#2>", "secret#2<"]));
    let ok = &classes[0];
    assert_eq!(ok["ok"], true);
    assert!(ok["outcome"].get("error").is_none(), "{ok}");
    assert!(ok.get("error").is_none(), "{ok}");
    assert_eq!(ok["count"], (orders.len() - failing) as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_whose_page_still_relays_at_its_end_settle_and_count_as_the_engine() {
    let settings =
        json!({"case": "valid", "runtime": "browser", "secret": 1, "public": 0, "tabs": 2});
    let exploration = explore_in_fake_page(settings.clone(), Fake::TwoTabsRelaying).await;
    let mut rust: RunSettings = serde_json::from_value(settings).unwrap();
    rust.runtime = refresh_race::settings::Runtime::Rust;
    let engine = explore(&rust, &Options::default()).await.unwrap();
    assert_eq!(exploration["exact"], true);
    assert_eq!(exploration["orders"], engine.orders, "{exploration}");
    assert_eq!(exploration["failing"], 0);
    assert_eq!(engine.orders, 6, "two lanes of two legs each: 4!/(2!2!)");
}
