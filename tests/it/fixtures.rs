//! The UI's test fixtures (`tests/ui-unit/fixtures/*.json`) are recorded
//! from the engine by `scripts/record-fixtures.mjs`. This test reruns the
//! engine with each fixture's settings and fails when the engine no longer
//! produces what the fixture describes, so the UI's tests cannot drift into
//! testing a protocol the engine does not speak.
//!
//! Two runs of the same settings differ in times, lab clock readings and
//! signatures, and (where lanes run in parallel) in which lane got which
//! attempt id; those are normalised away. Everything else must match: the
//! settings and the verdict exactly, each request lane's events in order,
//! and the client's and the server's events as multisets.
//!
//! A fixture recorded on the timer network is replayed on the step
//! network, which delivers every leg in the order the timer would (due
//! time: latency plus the seeded jitter), one at a time: the same run with
//! the scheduler's noise taken out, so one try must match exactly.
//!
//! A fixture records only the settings that differ from the defaults (one
//! new setting must not rewrite every file); they are expanded here, as the
//! engine does with any partial settings.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use refresh_race::scenario;
use refresh_race::settings::{NetworkDriver, RunSettings};
use serde_json::{Map, Value};

const RERECORD: &str = "If the engine changed on purpose, re-record the fixtures with \
    `node scripts/record-fixtures.mjs`, review the diff of tests/ui-unit/fixtures/ and \
    fix the UI and its tests where they relied on the old events.";

/// Fields that differ between two runs of the same settings.
const VOLATILE: &[&str] = &[
    "seq",
    "t_us",
    "iat",
    "exp",
    "refresh_until",
    "lab_now_ms",
    "token",
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui-unit/fixtures")
}

/// Every recorded run report (all fixtures but `options.json`).
fn run_fixtures() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(fixtures_dir())
        .expect("tests/ui-unit/fixtures exists: run `node scripts/record-fixtures.mjs`")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter(|path| path.file_stem().is_some_and(|stem| stem != "options"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let value = serde_json::from_str(&text)
                .unwrap_or_else(|err| panic!("{name}.json is not JSON: {err}. {RERECORD}"));
            (name, value)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A run report with everything timing-dependent taken out.
#[derive(Debug, PartialEq)]
struct Normalised {
    settings: Value,
    verdict: Value,
    /// Request lanes, renamed canonically; each lane's events in order.
    lanes: BTreeMap<String, Vec<String>>,
    /// The client's and the server's events, sorted (a multiset).
    client: Vec<String>,
    server: Vec<String>,
    /// The report's top-level keys.
    keys: Vec<String>,
}

fn is_request_lane(lane: &str) -> bool {
    lane.contains('#')
}

/// `secret#2` → `secret`.
fn group_of(lane: &str) -> &str {
    lane.split('#').next().unwrap_or(lane)
}

/// An event without its volatile fields; `attempt` replaced by `reference`.
fn strip(event: &Value, attempt: Option<&str>) -> Value {
    let mut object: Map<String, Value> = event.as_object().cloned().unwrap_or_default();
    for key in VOLATILE {
        object.remove(*key);
    }
    object.remove("lane");
    if object.contains_key("attempt") {
        object.insert(
            "attempt".into(),
            attempt.map_or(Value::Null, |r| Value::String(r.to_owned())),
        );
    }
    Value::Object(object)
}

fn normalise(report: &Value) -> Normalised {
    let events = report["events"].as_array().cloned().unwrap_or_default();
    let lane_of = |event: &Value| event["lane"].as_str().unwrap_or("").to_owned();

    // 1. Attempt ids, as (lane, k-th attempt of that lane).
    let mut ordinal: BTreeMap<u64, (String, usize)> = BTreeMap::new();
    let mut made: BTreeMap<String, usize> = BTreeMap::new();
    for event in &events {
        let lane = lane_of(event);
        if let (true, Some(id)) = (is_request_lane(&lane), event["attempt"].as_u64()) {
            ordinal.entry(id).or_insert_with(|| {
                let k = made.entry(lane.clone()).or_default();
                *k += 1;
                (lane.clone(), *k)
            });
        }
    }

    // Each request lane's story: its own events and the server's decisions
    // about its attempts, with lane-local attempt numbers.
    let mut local: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for event in &events {
        let lane = lane_of(event);
        let owner = event["attempt"]
            .as_u64()
            .and_then(|id| ordinal.get(&id))
            .map(|(owner, k)| (owner.clone(), format!("#{k}")));
        let (story, reference) = match (is_request_lane(&lane), owner) {
            (true, owner) => (lane.clone(), owner.map(|(_, k)| k)),
            (false, Some((owner, k))) => (owner, Some(k)),
            (false, None) => continue,
        };
        let mut stripped = strip(event, reference.as_deref());
        stripped["lane"] = Value::String(if is_request_lane(&lane) {
            "self".into()
        } else {
            lane
        });
        local.entry(story).or_default().push(stripped);
    }

    // 2. Parallel lanes of one group are interchangeable: which of them won
    // is timing. Rename them in the order of their stories.
    let mut by_group: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (lane, story) in &local {
        by_group
            .entry(group_of(lane).to_owned())
            .or_default()
            .push((serde_json::to_string(story).unwrap(), lane.clone()));
    }
    let mut canonical: BTreeMap<String, String> = BTreeMap::new();
    for (group, mut lanes) in by_group {
        lanes.sort();
        for (index, (_, lane)) in lanes.into_iter().enumerate() {
            canonical.insert(lane, format!("{group}#{}", index + 1));
        }
    }

    // 3. Every event, its attempt named by canonical lane and ordinal
    // (the login is the one attempt no request lane made).
    let reference = |event: &Value| {
        event["attempt"].as_u64().map(|id| match ordinal.get(&id) {
            Some((lane, k)) => format!("{}#{k}", canonical[lane]),
            None => "setup".to_owned(),
        })
    };
    let mut lanes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut client = Vec::new();
    let mut server = Vec::new();
    for event in &events {
        let lane = lane_of(event);
        let text = strip(event, reference(event).as_deref()).to_string();
        match canonical.get(&lane) {
            Some(name) => lanes.entry(name.clone()).or_default().push(text),
            None if lane == "client" => client.push(text),
            None if lane == "server" => server.push(text),
            None => lanes.entry(lane).or_default().push(text),
        }
    }
    client.sort();
    server.sort();
    let mut keys: Vec<String> = report
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    Normalised {
        settings: report["settings"].clone(),
        verdict: report["verdict"].clone(),
        lanes,
        client,
        server,
        keys,
    }
}

/// What differs, line by line, for the failure message.
fn describe(fixture: &Normalised, engine: &Normalised) -> String {
    let mut out = String::new();
    let mut part = |name: &str, want: &[String], got: &[String]| {
        if want != got {
            out.push_str(&format!("\n  {name}:"));
            for line in want.iter().filter(|l| !got.contains(l)) {
                out.push_str(&format!("\n    fixture only: {line}"));
            }
            for line in got.iter().filter(|l| !want.contains(l)) {
                out.push_str(&format!("\n    engine only:  {line}"));
            }
            if want.iter().all(|l| got.contains(l)) && got.iter().all(|l| want.contains(l)) {
                out.push_str("\n    same events, in another order or number");
            }
        }
    };
    part("report keys", &fixture.keys, &engine.keys);
    part(
        "settings",
        &[fixture.settings.to_string()],
        &[engine.settings.to_string()],
    );
    part(
        "verdict",
        &[fixture.verdict.to_string()],
        &[engine.verdict.to_string()],
    );
    let lane_names: std::collections::BTreeSet<&String> =
        fixture.lanes.keys().chain(engine.lanes.keys()).collect();
    for lane in lane_names {
        let empty = Vec::new();
        part(
            lane,
            fixture.lanes.get(lane).unwrap_or(&empty),
            engine.lanes.get(lane).unwrap_or(&empty),
        );
    }
    part("client", &fixture.client, &engine.client);
    part("server", &fixture.server, &engine.server);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recorded_run_is_what_the_engine_produces_now() {
    let fixtures = run_fixtures();
    assert!(
        fixtures.len() >= 5,
        "expected the recorded runs in {}; {RERECORD}",
        fixtures_dir().display()
    );
    let mut failures = Vec::new();
    for (name, fixture) in &fixtures {
        let settings: RunSettings = serde_json::from_value(fixture["settings"].clone())
            .unwrap_or_else(|err| {
                panic!("{name}.json: the engine refuses its settings: {err}. {RERECORD}")
            });
        let mut expanded = fixture.clone();
        expanded["settings"] = serde_json::to_value(&settings).unwrap();
        let want = normalise(&expanded);
        let timer = settings.network == NetworkDriver::Timer;
        let replay = RunSettings {
            network: if timer {
                NetworkDriver::Step
            } else {
                settings.network
            },
            ..settings.clone()
        };
        let report = scenario::run(&replay).await.expect("the run completes");
        let mut engine = serde_json::to_value(&report).unwrap();
        if timer {
            // What the step network adds: its own name, and the order it
            // delivered in (a timer run keeps no order).
            engine["settings"]["network"] = expanded["settings"]["network"].clone();
            engine.as_object_mut().unwrap().remove("delivered");
        }
        let got = normalise(&engine);
        if got != want {
            failures.push(format!("{name}.json:{}", describe(&want, &got)));
        }
    }
    assert!(
        failures.is_empty(),
        "the engine no longer produces these fixtures:\n{}\n\n{RERECORD}",
        failures.join("\n\n")
    );
}

/// A fixture's settings name only what differs from the defaults: a
/// whole-settings recording would be rewritten by every new setting.
#[test]
fn fixtures_record_only_the_settings_that_differ_from_the_defaults() {
    let defaults = serde_json::to_value(RunSettings::default()).unwrap();
    for (name, fixture) in run_fixtures() {
        let recorded = fixture["settings"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}.json: settings must be an object. {RERECORD}"));
        for (key, value) in recorded {
            assert_ne!(
                Some(value),
                defaults.get(key),
                "{name}.json records the default {key}. {RERECORD}"
            );
            if let (Some(inner), Some(base)) = (value.as_object(), defaults[key].as_object()) {
                for (sub, v) in inner {
                    assert_ne!(
                        Some(v),
                        base.get(sub),
                        "{name}.json records the default {key}.{sub}. {RERECORD}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn the_recorded_options_are_what_the_lab_serves() {
    let path = fixtures_dir().join("options.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err}. {RERECORD}", path.display()));
    let recorded: Value = serde_json::from_str(&text).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(refresh_race::web::serve(
        listener,
        refresh_race::web::default_ui_dir(),
        std::future::pending(),
    ));
    let served: Value = common::http()
        .get(format!("http://{addr}/lab/options"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        served, recorded,
        "GET /lab/options no longer answers what tests/ui-unit/fixtures/options.json holds. {RERECORD}"
    );
}

#[test]
fn normalising_keeps_what_matters_and_drops_what_is_timing() {
    let report = |winner: &str, loser: &str, reason: &str| {
        serde_json::json!({
            "settings": {}, "verdict": {}, "lab_now_ms": 1,
            "events": [
                {"seq": 0, "t_us": 5, "lane": winner, "kind": "refresh_sent", "attempt": 7, "jti": "t1"},
                {"seq": 1, "t_us": 6, "lane": loser, "kind": "refresh_sent", "attempt": 8, "jti": "t1"},
                {"seq": 2, "t_us": 9, "lane": "server", "kind": "rejected", "attempt": 8, "route": "/api/refresh", "jti": "t1", "reason": reason},
                {"seq": 3, "t_us": 9, "lane": "server", "kind": "issued", "attempt": 7, "jti": "t2", "iat": 1, "exp": 6, "refresh_until": 16, "token": "x.y.z"},
            ],
        })
    };
    // Another lane winning, other times and ids: the same run.
    let mut swapped = report("secret#2", "secret#1", "reused");
    swapped["events"][3]["iat"] = 99.into();
    swapped["events"][3]["token"] = "a.b.c".into();
    assert_eq!(
        normalise(&report("secret#1", "secret#2", "reused")),
        normalise(&swapped)
    );
    // Another reason: a different run.
    assert_ne!(
        normalise(&report("secret#1", "secret#2", "reused")),
        normalise(&report("secret#1", "secret#2", "revoked"))
    );
}
