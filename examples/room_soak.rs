//! A room under load while one seat misbehaves: SEATS attendees (each on
//! its own loopback address, 127.0.0.10…) run case 3 over and over, while
//! one seat (127.0.0.9) floods its run's page reports, follows the join link
//! without its cookie, exports a large report and guesses codes, all for
//! SECONDS; the instructor's `GET /api/public` is probed every 20 ms.
//! Prints what the room got: runs finished and with which verdicts, what
//! the flooder was refused, and the instructor's latency percentiles.
//! bench/room-soak.sh runs it against `refresh-race serve --classroom` and
//! samples the server's RSS.
//! `room_soak INSTRUCTOR_URL ROOM_URL CODE SECONDS SEATS [quiet]` (`quiet`:
//! no flooder, the baseline).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

async fn join(client: &reqwest::Client, room: &str, code: &str) -> Option<String> {
    let response = client
        .get(format!("{room}/join?code={code}"))
        .send()
        .await
        .ok()?;
    let cookie = response.headers().get("set-cookie")?.to_str().ok()?;
    Some(cookie.split(';').next()?.to_owned())
}

/// The verdict's counts that case 3 must always give (how many logouts the
/// naive race ends with depends on which refusal the tab takes in first).
fn counts(verdict: &Value) -> String {
    [
        "requests",
        "ok",
        "failed",
        "refresh_calls",
        "refresh_accepted_by_server",
    ]
    .iter()
    .map(|k| format!("{k}={}", verdict[*k]))
    .collect::<Vec<_>>()
    .join(" ")
}

/// Runs case 3 (the default settings) once; the done line's verdict counts.
async fn case_3(
    client: &reqwest::Client,
    base: &str,
    cookie: Option<&str>,
) -> Result<String, String> {
    let mut request = client.post(format!("{base}/lab/runs")).json(&json!({}));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
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
    Ok(counts(&last["verdict"]))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (flood, args) = match &args[..] {
        [rest @ .., last] if last == "quiet" => (false, rest),
        all => (true, all),
    };
    let [instructor, room, code, seconds, seats] = args else {
        eprintln!("usage: room_soak INSTRUCTOR_URL ROOM_URL CODE SECONDS SEATS [quiet]");
        std::process::exit(2);
    };
    let seconds: u64 = seconds.parse().expect("SECONDS is a number");
    let seats: u8 = seats.parse().expect("SEATS is a number (at most 200)");
    let (instructor, room, code) = (instructor.clone(), room.clone(), code.clone());

    // The verdict case 3 gives, from the engine on the instructor's port.
    let expected = case_3(&client(1), &instructor, None)
        .await
        .expect("case 3 runs");
    println!("expected verdict: {expected}");

    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(seconds);

    // The attendees.
    let mut attendees = Vec::new();
    for i in 0..seats {
        let n = 10 + i;
        let (room, code, stop) = (room.clone(), code.clone(), stop.clone());
        attendees.push(tokio::spawn(async move {
            let client = client(n);
            let Some(cookie) = join(&client, &room, &code).await else {
                return BTreeMap::from([("no seat".to_owned(), 1)]);
            };
            let mut verdicts: BTreeMap<String, u32> = BTreeMap::new();
            // Bounded: one run takes well over 10 ms.
            for _ in 0..(seconds * 100) {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let outcome = case_3(&client, &room, Some(&cookie))
                    .await
                    .unwrap_or_else(|e| format!("error: {e}"));
                *verdicts.entry(outcome).or_default() += 1;
            }
            verdicts
        }));
    }

    // The flooder.
    let flooder = {
        let (room, code, stop) = (room.clone(), code.clone(), stop.clone());
        tokio::spawn(async move {
            let client = client(9);
            let mut refused: BTreeMap<String, u32> = BTreeMap::new();
            if !flood {
                return refused;
            }
            let cookie = join(&client, &room, &code)
                .await
                .expect("the flooder's seat");
            // A report the engine made: 4,000 requests, exported over and over.
            let settings = refresh_race::settings::RunSettings {
                secret: 2_000,
                public: 2_000,
                ..Default::default()
            };
            let report = refresh_race::scenario::run(&settings)
                .await
                .expect("a big run");
            let report = serde_json::to_vec(&report).unwrap();
            let mut note = |what: &str, status: u16| {
                *refused.entry(format!("{what} {status}")).or_default() += 1
            };
            let queued: Vec<Value> = (0..120)
                .map(|_| json!({"kind": "queued", "lane": "secret#1", "jti": null}))
                .collect();
            let mut seq = 0;
            for round in 0..(seconds * 1_000) {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                // A held browser run of its own, flooded with reports.
                let start = client
                    .post(format!("{room}/lab/runs"))
                    .header("cookie", &cookie)
                    .json(
                        &json!({"runtime": "browser", "network": "hand", "secret": 1, "public": 0}),
                    )
                    .send()
                    .await;
                if let Ok(mut stream) = start {
                    let first = stream.chunk().await.ok().flatten().unwrap_or_default();
                    let line: Value =
                        serde_json::from_slice(first.split(|b| *b == b'\n').next().unwrap_or(b""))
                            .unwrap_or(Value::Null);
                    if let Some(run) = line["run"].as_u64() {
                        for _ in 0..50 {
                            seq += 1;
                            let status = client
                                .post(format!("{room}/lab/runs/{run}/page"))
                                .header("cookie", &cookie)
                                .json(&json!({"seq": seq, "started": 0, "received": 0, "events": queued}))
                                .send()
                                .await
                                .map_or(0, |r| r.status().as_u16());
                            note("report", status);
                        }
                    } else {
                        note("run", 0);
                    }
                }
                // The join link without the cookie, and guesses.
                for guess in 0..5 {
                    let status = client
                        .get(format!("{room}/join?code=GUESS{round:05}{guess}"))
                        .send()
                        .await
                        .map_or(0, |r| r.status().as_u16());
                    note("guess", status);
                }
                let status = client
                    .get(format!("{room}/join?code={code}"))
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16());
                note("join", status);
                // Exports: four at once.
                let exports: Vec<_> = (0..4)
                    .map(|_| {
                        client
                            .post(format!("{room}/lab/export/png"))
                            .header("cookie", &cookie)
                            .header("content-type", "application/json")
                            .body(report.clone())
                            .send()
                    })
                    .collect();
                for export in futures::future::join_all(exports).await {
                    note("export", export.map_or(0, |r| r.status().as_u16()));
                }
            }
            refused
        })
    };

    // The instructor's probe.
    let probe = {
        let (instructor, stop) = (instructor.clone(), stop.clone());
        tokio::spawn(async move {
            let client = client(2);
            let mut latencies = Vec::new();
            let mut failures = 0;
            for _ in 0..(seconds * 50) {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let sent = Instant::now();
                match client.get(format!("{instructor}/api/public")).send().await {
                    Ok(r) if r.status() == 200 => latencies.push(sent.elapsed()),
                    _ => failures += 1,
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (latencies, failures)
        })
    };

    tokio::time::sleep_until(deadline.into()).await;
    stop.store(true, Ordering::Relaxed);
    let mut right = 0;
    let mut wrong: BTreeMap<String, u32> = BTreeMap::new();
    for attendee in attendees {
        for (verdict, n) in attendee.await.unwrap() {
            if verdict == expected {
                right += n;
            } else {
                *wrong.entry(verdict).or_default() += n;
            }
        }
    }
    let refused = flooder.await.unwrap();
    let (mut latencies, failures) = probe.await.unwrap();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!("attendees' runs with the expected verdict: {right}");
    println!("attendees' runs otherwise: {wrong:?}");
    println!("the flooder's answers: {refused:?}");
    println!(
        "instructor /api/public: {} probes, {failures} failed; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        pct(0.5),
        pct(0.99),
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );
}
