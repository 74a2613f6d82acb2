//! The room as one, under load: SEATS attendees (each on its own loopback
//! address, 127.0.0.10…) join at once and listen to the room's events; the
//! instructor pushes case 3 with the naive client, then with single-flight,
//! and every seat runs each push ROUNDS times while reading its own
//! `/api/secret` between runs; the last seat also floods `/api/secret` from
//! 32 connections the whole time. The instructor's `GET
//! /lab/classroom/results` is read every 100 ms.
//! Prints: joins refused, how long each push took to reach every seat, runs
//! finished and their verdicts, the results' counts against what the seats
//! saw, the seats' `/api/secret` p50/p95/max, the instructor's results
//! p50/p95/max and how long after the last run the results showed it.
//! bench/room-as-one.sh runs it against `refresh-race serve --classroom`.
//! `room_as_one INSTRUCTOR_URL ROOM_URL CODE [SEATS=60] [ROUNDS=5] [quiet]`
//! (`quiet`: the last seat runs nothing and floods nothing, the baseline).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use refresh_race::link::{self, Link};
use refresh_race::settings::{Case, RunSettings, Strategy};
use serde_json::{json, Value};

fn client(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn stats(mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    format!(
        "n={} p50={:.1} ms p95={:.1} ms max={:.1} ms",
        v.len(),
        percentile(&v, 50.0),
        percentile(&v, 95.0),
        v.last().copied().unwrap_or(f64::NAN)
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn case3(strategy: Strategy) -> RunSettings {
    RunSettings {
        case: Case::ExpiredRefreshable,
        strategy,
        ..RunSettings::default()
    }
}

/// One seat's run of `settings`: its verdict, or why not.
async fn run(
    client: &reqwest::Client,
    room: &str,
    cookie: &str,
    settings: &RunSettings,
) -> Result<Value, String> {
    let response = client
        .post(format!("{room}/lab/runs"))
        .header("cookie", cookie)
        .json(settings)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("{status} {text}"));
    }
    let last: Value =
        serde_json::from_str(text.lines().last().unwrap_or("")).map_err(|e| e.to_string())?;
    if last["type"] != "done" {
        return Err(format!("ended with {last}"));
    }
    Ok(last["verdict"].clone())
}

/// Logs in on the seat's own API; its token.
async fn login(client: &reqwest::Client, room: &str, cookie: &str) -> Option<String> {
    let response = client
        .post(format!("{room}/api/login"))
        .header("cookie", cookie)
        .json(&json!({"login": "ada", "password": "pw"}))
        .send()
        .await
        .ok()?;
    let body: Value = response.json().await.ok()?;
    body["token"].as_str().map(str::to_owned)
}

/// Waits on a seat's event stream until it hears push `id`.
async fn hear(
    client: reqwest::Client,
    room: String,
    cookie: String,
    id: u64,
) -> Result<(), String> {
    let mut response = client
        .get(format!("{room}/lab/room/events"))
        .header("cookie", &cookie)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    let needle = format!("\"id\":{id},");
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        text.push_str(&String::from_utf8_lossy(&chunk));
        if text.contains(&needle) {
            return Ok(());
        }
    }
    Err("the stream ended".into())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (instructor, room, code) = (args[1].clone(), args[2].clone(), args[3].clone());
    let seats: u8 = args.get(4).map_or(60, |s| s.parse().unwrap());
    let rounds: usize = args.get(5).map_or(5, |s| s.parse().unwrap());
    let quiet = args.get(6).is_some_and(|s| s == "quiet");
    let boss = reqwest::Client::builder().no_proxy().build().unwrap();

    // Everyone joins at once.
    let started = Instant::now();
    let joins = futures::future::join_all((0..seats).map(|i| {
        let (room, code) = (room.clone(), code.clone());
        async move {
            let client = client(10 + i);
            let response = client
                .get(format!("{room}/join?code={code}"))
                .send()
                .await
                .ok()?;
            let cookie = response.headers().get("set-cookie")?.to_str().ok()?;
            Some((client, cookie.split(';').next()?.to_owned()))
        }
    }))
    .await;
    let refused = joins.iter().filter(|j| j.is_none()).count();
    let seated: Vec<(reqwest::Client, String)> = joins.into_iter().flatten().collect();
    println!(
        "joins: {} seated, {refused} refused, in {:.0} ms",
        seated.len(),
        ms(started.elapsed())
    );

    // The flooder: the last seat, 32 connections, as fast as they go.
    let stop = Arc::new(AtomicBool::new(false));
    let flooded = Arc::new(AtomicU64::new(0));
    let mut flood = Vec::new();
    if let Some((fclient, fcookie)) = seated.last().cloned().filter(|_| !quiet) {
        for _ in 0..32 {
            let (stop, flooded, c, cookie, url) = (
                stop.clone(),
                flooded.clone(),
                fclient.clone(),
                fcookie.clone(),
                format!("{room}/api/secret"),
            );
            flood.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let _ = c.get(&url).header("cookie", &cookie).send().await;
                    flooded.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
    }
    let flood_start = Instant::now();

    // The instructor's panel: results every 100 ms.
    let panel: Arc<Mutex<Vec<(Instant, f64, Value)>>> = Arc::default();
    let watcher = {
        let (panel, stop, boss, url) = (
            panel.clone(),
            stop.clone(),
            boss.clone(),
            format!("{instructor}/lab/classroom/results"),
        );
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                if let Ok(r) = boss.get(&url).send().await {
                    if let Ok(body) = r.json::<Value>().await {
                        panel
                            .lock()
                            .unwrap()
                            .push((Instant::now(), ms(t.elapsed()), body));
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let mut secret_ms: Vec<f64> = Vec::new();
    let mut lost = 0usize;
    let mut problems: BTreeMap<String, usize> = BTreeMap::new();
    for strategy in [Strategy::Naive, Strategy::SingleFlight] {
        let settings = case3(strategy);
        let fragment = link::encode(&Link {
            settings: settings.clone(),
            source: None,
        });
        // Every seat listens before the push.
        let id = panel
            .lock()
            .unwrap()
            .last()
            .and_then(|(_, _, b)| b["push"]["id"].as_u64())
            .unwrap_or(0)
            + 1;
        let listeners: Vec<_> = seated
            .iter()
            .map(|(c, cookie)| tokio::spawn(hear(c.clone(), room.clone(), cookie.clone(), id)))
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let pushed_at = Instant::now();
        let pushed: Value = boss
            .post(format!("{instructor}/lab/classroom/push"))
            .json(&json!({"setup": fragment}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(pushed["id"].as_u64(), Some(id), "{pushed}");
        let heard = futures::future::join_all(listeners).await;
        let deaf = heard.iter().filter(|h| !matches!(h, Ok(Ok(())))).count();
        println!(
            "push {id} ({strategy}): every seat heard it within {:.0} ms; {deaf} did not",
            ms(pushed_at.elapsed())
        );

        // Every seat but the flooder runs it ROUNDS times, reading its secret between runs.
        let work = seated
            .iter()
            .take(seated.len().saturating_sub(1))
            .map(|(c, cookie)| {
                let (c, cookie, room, settings) =
                    (c.clone(), cookie.clone(), room.clone(), settings.clone());
                async move {
                    let mut verdicts = Vec::new();
                    let mut lat = Vec::new();
                    let mut token = login(&c, &room, &cookie).await;
                    for _ in 0..rounds {
                        for _ in 0..3 {
                            let t = Instant::now();
                            let mut req = c
                                .get(format!("{room}/api/secret"))
                                .header("cookie", &cookie);
                            if let Some(token) = &token {
                                req = req.bearer_auth(token);
                            }
                            match req.send().await {
                                Ok(r) => {
                                    let status = r.status().as_u16();
                                    let _ = r.bytes().await;
                                    lat.push(ms(t.elapsed()));
                                    if status == 401 {
                                        // Its 5 s token expired: log in again (not timed).
                                        token = login(&c, &room, &cookie).await;
                                    }
                                }
                                Err(e) => verdicts.push(Err(e.to_string())),
                            }
                        }
                        verdicts.push(run(&c, &room, &cookie, &settings).await);
                    }
                    (verdicts, lat, Instant::now())
                }
            });
        let t = Instant::now();
        let done = futures::future::join_all(work).await;
        let last_done = done
            .iter()
            .map(|(_, _, at)| *at)
            .max()
            .unwrap_or_else(Instant::now);
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let (mut runs, mut logged_out_last) = (0u64, 0usize);
        let mut calls_last: BTreeMap<u64, usize> = BTreeMap::new();
        for (verdicts, lat, _) in &done {
            secret_ms.extend(lat);
            let mut last = None;
            for v in verdicts {
                match v {
                    Ok(v) => {
                        runs += 1;
                        *seen
                            .entry(format!(
                                "refresh_calls={} logouts={}",
                                v["refresh_calls"], v["logouts"]
                            ))
                            .or_default() += 1;
                        last = Some(v.clone());
                    }
                    Err(e) => {
                        lost += 1;
                        *problems.entry(e.chars().take(80).collect()).or_default() += 1;
                    }
                }
            }
            if let Some(v) = last {
                logged_out_last += usize::from(v["logouts"].as_u64().unwrap_or(0) > 0);
                *calls_last
                    .entry(v["refresh_calls"].as_u64().unwrap_or(0))
                    .or_default() += 1;
            }
        }
        println!(
            "  {} seats ran it {rounds} times in {:.1} s: {runs} runs done, verdicts {seen:?}",
            done.len(),
            t.elapsed().as_secs_f64()
        );
        // The panel: when did it show every run, and does it match?
        let expect_runs = runs;
        let mut shown_after = None;
        for _ in 0..50 {
            let found = panel
                .lock()
                .unwrap()
                .iter()
                .find(|(_, _, b)| {
                    b["push"]["id"].as_u64() == Some(id) && b["runs"].as_u64() == Some(expect_runs)
                })
                .map(|(at, _, b)| (*at, b.clone()));
            if let Some((at, body)) = found {
                shown_after = Some((at.saturating_duration_since(last_done), body));
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        match shown_after {
            Some((lag, body)) => {
                let histogram: BTreeMap<u64, u64> = body["refresh_calls"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| (b["calls"].as_u64().unwrap(), b["seats"].as_u64().unwrap()))
                    .collect();
                let expect: BTreeMap<u64, u64> =
                    calls_last.iter().map(|(k, v)| (*k, *v as u64)).collect();
                println!(
                    "  results panel showed all {expect_runs} runs {:.0} ms after the last finished: ran={} (seats that ran: {}), logged_out={} (seats saw {logged_out_last}), histogram {} the seats' last runs {expect:?}",
                    ms(lag),
                    body["ran"],
                    done.len(),
                    body["logged_out"],
                    if histogram == expect { "==" } else { "!=" },
                );
            }
            None => println!("  results panel never showed {expect_runs} runs"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    for f in flood {
        let _ = f.await;
    }
    let _ = watcher.await;
    let flood_s = flood_start.elapsed().as_secs_f64();
    println!(
        "flooding seat: {} requests to /api/secret in {flood_s:.1} s ({:.0}/s)",
        flooded.load(Ordering::Relaxed),
        flooded.load(Ordering::Relaxed) as f64 / flood_s
    );
    println!("runs lost or refused: {lost} {problems:?}");
    println!("seats' /api/secret: {}", stats(secret_ms));
    let panel_ms: Vec<f64> = panel.lock().unwrap().iter().map(|(_, l, _)| *l).collect();
    println!("instructor GET /lab/classroom/results: {}", stats(panel_ms));
}
