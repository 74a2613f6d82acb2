//! Exports of real runs: exact counts on engine runs (seeded jitter makes
//! each lane's story reproducible), the trace format's nesting rules, the
//! SVG as XML and the PNG as a picture, goldens of a recorded seeded run,
//! the `export` command and `POST /lab/export/{format}`.
//!
//! The consumers that run in Node and Chromium (a HAR 1.2 JSON Schema,
//! Mermaid's own parser) are in tests/export/*.test.mjs.

use crate::common;

use std::collections::{BTreeMap, HashMap};
use std::process::{Command, Output, Stdio};

use common::{http, start_lab};
use refresh_race::export::{self, exchanges::Exchanges, svg, ExportFormat};
use refresh_race::render;
use refresh_race::scenario::{self, RunReport};
use refresh_race::settings::{Case, NetworkDriver, Policy, RunSettings, Strategy};
use refresh_race::timeline::EventKind;
use serde_json::Value;

/// Case 3 with seeded jitter, played on the step network: every leg is
/// delivered in its due order, one at a time, so the same lane wins every
/// time and the counts are exact on a busy machine too (as in
/// tests/golden/naive-seed7.txt).
fn seeded(case: Case, strategy: Strategy) -> RunSettings {
    RunSettings {
        network: NetworkDriver::Step,
        ..timed(case, strategy)
    }
}

/// The same on the timer network: real durations, for the recorded run
/// whose drawings (SVG, trace) need time to show.
fn timed(case: Case, strategy: Strategy) -> RunSettings {
    RunSettings {
        case,
        strategy,
        jitter_ms: 80,
        seed: 7,
        ..RunSettings::default()
    }
}

async fn run(settings: RunSettings) -> RunReport {
    scenario::run(&settings).await.expect("the run completes")
}

fn exported(report: &RunReport, format: ExportFormat) -> Vec<u8> {
    export::export(report, format).expect("the export is made")
}

fn exported_json(report: &RunReport, format: ExportFormat) -> Value {
    serde_json::from_slice(&exported(report, format)).expect("the export is JSON")
}

fn exported_text(report: &RunReport, format: ExportFormat) -> String {
    String::from_utf8(exported(report, format)).expect("the export is UTF-8")
}

/// The signed JWTs of a run: none may leak into a shareable export.
fn tokens(report: &RunReport) -> Vec<String> {
    report
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Issued { token, .. } => Some(token.clone()),
            _ => None,
        })
        .collect()
}

fn no_secrets(report: &RunReport) {
    for format in [
        ExportFormat::Har,
        ExportFormat::Trace,
        ExportFormat::Mermaid,
        ExportFormat::Svg,
    ] {
        let text = exported_text(report, format);
        for token in tokens(report) {
            assert!(!text.contains(&token), "{format} carries a signed token");
        }
    }
}

// ---------- HAR ----------

/// The numbers Chrome DevTools' importer reads; each must be present.
fn check_har_numbers(har: &Value) {
    let entries = har["log"]["entries"].as_array().expect("entries");
    for (i, entry) in entries.iter().enumerate() {
        let number = |pointer: &str| -> f64 {
            entry
                .pointer(pointer)
                .and_then(Value::as_f64)
                .unwrap_or_else(|| panic!("entry {i}: {pointer} is not a number: {entry}"))
        };
        for pointer in [
            "/request/headersSize",
            "/request/bodySize",
            "/response/status",
            "/response/headersSize",
            "/response/bodySize",
            "/response/content/size",
        ] {
            number(pointer);
        }
        let timings: f64 = [
            "blocked", "dns", "connect", "send", "wait", "receive", "ssl",
        ]
        .iter()
        .map(|t| number(&format!("/timings/{t}")))
        .filter(|t| *t >= 0.0)
        .sum();
        let time = number("/time");
        assert!(
            (time - timings).abs() < 1e-6,
            "entry {i}: time {time} is not the sum of its timings {timings}"
        );
        assert!(entry["startedDateTime"].as_str().unwrap().ends_with('Z'));
        assert!(!entry["comment"].as_str().unwrap().is_empty());
    }
}

fn header<'a>(entry: &'a Value, name: &str) -> Option<&'a str> {
    entry["request"]["headers"]
        .as_array()?
        .iter()
        .find(|h| {
            h["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .and_then(|h| h["value"].as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn har_of_the_naive_race_has_one_entry_per_exchange_and_says_what_happened() {
    let report = run(seeded(Case::ExpiredRefreshable, Strategy::Naive)).await;
    let har = exported_json(&report, ExportFormat::Har);
    check_har_numbers(&har);
    assert_eq!(har["log"]["version"], "1.2");
    assert_eq!(har["log"]["comment"], report.verdict.sentence);
    let entries = har["log"]["entries"].as_array().unwrap();
    // 6 requests, 3 refreshes, 1 retry: every *_sent of the run.
    let sent = report
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::RequestSent { .. }
                    | EventKind::RefreshSent { .. }
                    | EventKind::RetrySent { .. }
            )
        })
        .count();
    assert_eq!(sent, 10);
    assert_eq!(entries.len(), sent);

    let mut statuses: Vec<u64> = entries
        .iter()
        .map(|e| e["response"]["status"].as_u64().unwrap())
        .collect();
    statuses.sort();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 400, 400, 401, 401, 401]);
    let refreshes: Vec<&Value> = entries
        .iter()
        .filter(|e| e["request"]["method"] == "POST")
        .collect();
    assert_eq!(refreshes.len(), 3);
    for refresh in &refreshes {
        assert_eq!(
            refresh["request"]["url"],
            "http://refresh-race.localhost/api/refresh"
        );
        assert_eq!(
            header(refresh, "Authorization"),
            Some("Bearer <JWT jti=t1>")
        );
    }
    let comments: BTreeMap<(String, u64), String> = entries
        .iter()
        .map(|e| {
            (
                (
                    e["_lane"].as_str().unwrap().to_owned(),
                    e["_attempt"].as_u64().unwrap(),
                ),
                e["comment"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let by_lane = |lane: &str| -> Vec<&str> {
        comments
            .iter()
            .filter(|((l, _), _)| l == lane)
            .map(|(_, c)| c.as_str())
            .collect()
    };
    // The engine's narration of each exchange's events (crate::narrate).
    // Which lane wins is the seeded jitter's choice, so it is read from the
    // run: the winner's three exchanges, and two losers refused as reuse.
    let winner = report
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::RefreshDone {
                new_jti: Some(_), ..
            } => Some(e.lane.to_string()),
            _ => None,
        })
        .expect("one refresh won");
    let won = by_lane(&winner);
    assert_eq!(won.len(), 3, "{won:?}");
    assert!(
        won[0].contains(&format!("{winner} got 401 (expired) with t1")),
        "{won:?}"
    );
    assert!(
        won[1].contains(&format!("The refresh of t1 succeeded: {winner} gets t2.")),
        "{won:?}"
    );
    assert!(
        won[2].contains(&format!("{winner} got 200 with t2.")),
        "{won:?}"
    );
    let losers: Vec<String> = ["secret#1", "secret#2", "secret#3"]
        .into_iter()
        .filter(|lane| *lane != winner)
        .map(str::to_owned)
        .collect();
    let mut on_its_own = 0;
    for lane in &losers {
        let lost = by_lane(lane);
        assert_eq!(lost.len(), 2, "{lost:?}");
        assert!(
            lost[1].contains("it was already used for a refresh"),
            "{lost:?}"
        );
        assert!(
            lost[1].contains(&format!("{lane} failed with 401")),
            "{lost:?}"
        );
        on_its_own += usize::from(lost[1].contains("on its own: the naive client does not know"));
    }
    // Of the two refreshes sent after the first one, at most one won.
    assert!(on_its_own >= 1, "{losers:?}");
    assert_eq!(by_lane("public#2").len(), 1);
    assert!(by_lane("public#2")[0].contains("public#2 got 200 with t1."));
    no_secrets(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn har_of_a_guest_sends_no_authorization_and_queue_waits_are_told() {
    let guest = run(seeded(Case::Guest, Strategy::Naive)).await;
    let har = exported_json(&guest, ExportFormat::Har);
    check_har_numbers(&har);
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    assert!(entries.iter().all(|e| header(e, "Authorization").is_none()));
    let secret = entries.iter().find(|e| e["_lane"] == "secret#1").unwrap();
    assert!(
        secret["comment"]
            .as_str()
            .unwrap()
            .contains("secret#1 got 401: it carried no token, so there is nothing to refresh."),
        "{}",
        secret["comment"]
    );

    let queue = run(seeded(Case::ExpiredRefreshable, Strategy::Queue)).await;
    let har = exported_json(&queue, ExportFormat::Har);
    let comments: Vec<&str> = har["log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["comment"].as_str().unwrap())
        .collect();
    assert_eq!(
        comments
            .iter()
            .filter(|c| c.contains("asks the server for a new token"))
            .count(),
        1,
        "{comments:#?}"
    );
    assert_eq!(
        comments
            .iter()
            .filter(|c| c.contains("waits for the refresh of t1 already in flight"))
            .count(),
        2,
        "{comments:#?}"
    );
}

// ---------- trace ----------

/// The trace format's rules this export relies on: per thread, complete
/// events nest or are disjoint; every flow start has exactly one finish
/// with the same id, later, and each end lies inside a slice of its
/// thread (so it binds to one).
fn check_trace_rules(trace: &Value) {
    let events = trace["traceEvents"].as_array().expect("traceEvents");
    let mut slices: HashMap<u64, Vec<(u64, u64)>> = HashMap::new();
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let (ts, dur) = (e["ts"].as_u64().unwrap(), e["dur"].as_u64().unwrap());
        slices
            .entry(e["tid"].as_u64().unwrap())
            .or_default()
            .push((ts, ts + dur));
    }
    for (tid, spans) in &mut slices {
        // Parents first: earlier start, then longer.
        spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut open: Vec<(u64, u64)> = Vec::new();
        for &(start, end) in spans.iter() {
            while open.last().is_some_and(|top| top.1 <= start) {
                open.pop();
            }
            if let Some(parent) = open.last() {
                assert!(
                    end <= parent.1,
                    "tid {tid}: [{start}, {end}) overlaps [{}, {}) without nesting",
                    parent.0,
                    parent.1
                );
            }
            open.push((start, end));
        }
    }
    let inside = |tid: u64, ts: u64| {
        slices
            .get(&tid)
            .is_some_and(|spans| spans.iter().any(|&(start, end)| start <= ts && ts <= end))
    };
    let mut starts: HashMap<u64, &Value> = HashMap::new();
    let mut finishes: HashMap<u64, &Value> = HashMap::new();
    for e in events {
        let id = || e["id"].as_u64().expect("a flow id");
        match e["ph"].as_str() {
            Some("s") => assert!(
                starts.insert(id(), e).is_none(),
                "two flow starts with one id"
            ),
            Some("f") => {
                assert_eq!(e["bp"], "e", "a flow finish binds to its enclosing slice");
                assert!(
                    finishes.insert(id(), e).is_none(),
                    "two flow finishes with one id"
                );
            }
            _ => {}
        }
    }
    assert_eq!(starts.len(), finishes.len());
    for (id, start) in &starts {
        let finish = finishes
            .get(id)
            .unwrap_or_else(|| panic!("flow {id} has no finish"));
        assert!(finish["ts"].as_u64() >= start["ts"].as_u64());
        for end in [start, finish] {
            assert!(
                inside(end["tid"].as_u64().unwrap(), end["ts"].as_u64().unwrap()),
                "flow {id} ends outside any slice: {end}"
            );
        }
    }
    for e in events {
        assert!(e["pid"].is_u64() && e["ph"].is_string(), "{e}");
        if e["ph"] != "M" {
            assert!(e["ts"].is_u64(), "{e}");
        }
    }
}

fn count(trace: &Value, pred: impl Fn(&Value) -> bool) -> usize {
    trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| pred(e))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_has_a_thread_per_lane_and_a_flow_per_401_that_refreshed() {
    for (strategy, late, flows, exchanges) in [
        // Each secret lane's 401 refreshes on its own.
        (Strategy::Naive, false, 3, 10),
        // One 401 refreshes; the other two wait, then all three retry.
        (Strategy::SingleFlight, false, 1, 10),
        // The queue's weakness: the late 401 refreshes a second time, with
        // the spent t1, and fails (7 requests, 2 refreshes, 3 retries).
        (Strategy::Queue, true, 2, 12),
    ] {
        let report = run(RunSettings {
            late,
            ..seeded(Case::ExpiredRefreshable, strategy)
        })
        .await;
        let trace = exported_json(&report, ExportFormat::Trace);
        check_trace_rules(&trace);
        let lanes = Exchanges::of(&report).lanes;
        let threads: Vec<String> = trace["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
            .map(|e| e["args"]["name"].as_str().unwrap().to_owned())
            .collect();
        let expected: Vec<String> = lanes.iter().map(|l| l.to_string()).collect();
        assert_eq!(threads, expected, "{strategy}");
        let requests = 6 + usize::from(late);
        assert_eq!(
            threads.len(),
            requests + 2,
            "{strategy}: request lanes, client, server"
        );
        assert_eq!(
            count(&trace, |e| e["ph"] == "X" && e["cat"] == "exchange"),
            exchanges,
            "{strategy}"
        );
        assert_eq!(
            count(&trace, |e| e["ph"] == "X" && e["cat"] == "request"),
            requests,
            "{strategy}"
        );
        assert_eq!(count(&trace, |e| e["ph"] == "s"), flows, "{strategy}");
        assert_eq!(count(&trace, |e| e["ph"] == "f"), flows, "{strategy}");
        assert_eq!(
            count(&trace, |e| e["ph"] == "i" && e["cat"] == "token_stored"),
            report
                .events
                .iter()
                .filter(|e| matches!(e.kind, EventKind::TokenStored { .. }))
                .count()
        );
        let waits = count(&trace, |e| e["ph"] == "X" && e["cat"] == "wait");
        let queued = report
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Queued { .. }))
            .count();
        assert_eq!(waits, queued, "{strategy}");
    }
}

#[test]
fn nesting_check_refuses_overlapping_slices() {
    let bad = serde_json::json!({"traceEvents": [
        {"ph": "X", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 5, "dur": 10},
    ]});
    assert!(std::panic::catch_unwind(|| check_trace_rules(&bad)).is_err());
    let orphan = serde_json::json!({"traceEvents": [
        {"ph": "X", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
        {"ph": "s", "pid": 1, "tid": 1, "ts": 5, "id": 1},
    ]});
    assert!(std::panic::catch_unwind(|| check_trace_rules(&orphan)).is_err());
    let good = serde_json::json!({"traceEvents": [
        {"ph": "X", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 0, "dur": 4},
        {"ph": "X", "pid": 1, "tid": 1, "ts": 4, "dur": 6},
        {"ph": "s", "pid": 1, "tid": 1, "ts": 3, "id": 1},
        {"ph": "f", "bp": "e", "pid": 1, "tid": 1, "ts": 4, "id": 1},
    ]});
    check_trace_rules(&good);
}

// ---------- Mermaid ----------

/// Every label of the diagram, with the statement it belongs to.
fn mermaid_labels(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let label = line
                .split_once(": ")
                .map(|(_, label)| label)
                .or_else(|| line.strip_prefix("par "))?;
            Some(label)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mermaid_groups_the_burst_and_crosses_out_refusals() {
    let report = run(seeded(Case::ExpiredRefreshable, Strategy::Naive)).await;
    let text = exported_text(&report, ExportFormat::Mermaid);
    assert!(text.starts_with("---\ntitle: "), "{text}");
    assert!(text.contains("\nsequenceDiagram\n"));
    assert!(text.contains("participant tab as tab (naive client)"));
    assert!(text.contains("participant server as server (strict policy)"));
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let opened = lines.iter().filter(|l| l.starts_with("par ")).count();
    let closed = lines.iter().filter(|l| **l == "end").count();
    // The burst of 6, then the 3 racing refreshes.
    assert_eq!((opened, closed), (2, 2), "{text}");
    assert!(
        text.contains("tab->>server: secret#35;1–3: GET /api/secret with t1"),
        "{text}"
    );
    assert!(text.contains("server--xtab: 401 expired (×3)"), "{text}");
    assert!(text.contains("server-->>tab: 200, new token t2"), "{text}");
    assert!(text.contains("server--xtab: 400 reused (×2)"), "{text}");
    assert!(
        text.contains("tab->>server: secret#35;1: retry GET /api/secret with t2"),
        "{text}"
    );
    assert!(text.contains("logged out: the refresh of t1 was refused<br/>(reused)"));
    // Refused exchanges are crossed out, the others are not.
    assert_eq!(lines.iter().filter(|l| l.contains("--x")).count(), 2);
    for label in mermaid_labels(&text) {
        for word in label.split(|c: char| !c.is_alphanumeric()) {
            assert!(!word.eq_ignore_ascii_case("end"), "bare `end` in {label:?}");
        }
        assert!(!label.contains(';') || label.contains("#35;"), "{label:?}");
    }
    // Slide-sized: a handful of statements, however many lanes.
    let big = run(RunSettings {
        secret: 200,
        public: 200,
        ..seeded(Case::ExpiredRefreshable, Strategy::SingleFlight)
    })
    .await;
    let big_text = exported_text(&big, ExportFormat::Mermaid);
    // (400 lanes would be 800+ lines drawn one by one.)
    assert!(big_text.lines().count() < 50, "{big_text}");
}

// ---------- SVG and PNG ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn svg_is_standalone_xml_and_png_is_the_same_picture() {
    // Drawn bars need real durations: the timer network.
    let report = run(timed(Case::ExpiredRefreshable, Strategy::Naive)).await;
    let text = exported_text(&report, ExportFormat::Svg);
    let doc = roxmltree::Document::parse(&text).expect("the SVG is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert_eq!(root.attribute("width"), Some("1280"));
    let height: u32 = root.attribute("height").unwrap().parse().unwrap();
    assert_eq!(height, svg::height(&report));
    // Standalone: nothing to fetch, no script, no stylesheet, generic fonts only.
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        assert!(
            !["script", "style", "image", "foreignObject", "a"].contains(&name),
            "{name}"
        );
        for attr in node.attributes() {
            assert!(!attr.name().contains("href"), "{name} links out");
            if attr.name() == "font-family" {
                assert!(
                    ["sans-serif", "monospace"].contains(&attr.value()),
                    "{}",
                    attr.value()
                );
            }
        }
    }
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    for lane in [
        "secret#1", "secret#2", "secret#3", "public#1", "client", "server",
    ] {
        assert!(texts.contains(&lane), "{lane} has a row");
    }
    assert!(texts.contains(&report.verdict.sentence.as_str()));
    assert!(texts.contains(&"logged out"));
    assert!(
        texts.iter().any(|t| t.starts_with("400 refresh refused")),
        "a legend"
    );
    assert!(texts.contains(&"refresh → t2"));

    let png = exported(&report, ExportFormat::Png);
    let picture = resvg::tiny_skia::Pixmap::decode_png(&png).expect("the PNG decodes");
    assert_eq!((picture.width(), picture.height()), (svg::WIDTH, height));
    // Text was drawn: the generic families resolved to installed fonts.
    let (sans, mono) = export::png::generic_families().unwrap();
    assert!(!sans.is_empty() && !mono.is_empty());
    no_secrets(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_run_draws_forty_lanes_and_counts_the_rest() {
    let report = run(RunSettings {
        secret: 60,
        public: 0,
        ..seeded(Case::Valid, Strategy::Naive)
    })
    .await;
    let text = exported_text(&report, ExportFormat::Svg);
    assert!(text.contains("… and 20 more request lanes, not drawn"));
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert!(doc.descendants().any(|n| n.text() == Some("secret#40")));
    assert!(!doc.descendants().any(|n| n.text() == Some("secret#41")));
    let har = exported_json(&report, ExportFormat::Har);
    assert_eq!(har["log"]["entries"].as_array().unwrap().len(), 60);
}

// ---------- goldens ----------

const GOLDEN_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/export");

fn golden_path(name: &str) -> String {
    format!("{GOLDEN_DIR}/{name}")
}

/// The recorded seeded run the goldens are made from. Exports are pure
/// functions of a report, so a fixed report gives byte-exact goldens.
/// `UPDATE_FIXTURE=1` records it again; `UPDATE_GOLDEN=1` rewrites the
/// goldens from it.
fn fixture() -> RunReport {
    let bytes = std::fs::read(golden_path("naive-seed7.report.json")).expect("fixture exists");
    export::parse_report(&bytes).expect("the fixture is a report")
}

/// A saved report whose settings keep only what differs from the defaults
/// (as `run --save` reads it back: the engine fills in the rest), so a new
/// setting does not rewrite the recorded run.
fn only_what_differs(saved: &[u8]) -> Vec<u8> {
    let mut report: Value = serde_json::from_slice(saved).unwrap();
    let defaults = serde_json::to_value(RunSettings::default()).unwrap();
    let settings = report["settings"].as_object_mut().unwrap();
    for (key, value) in settings.iter_mut() {
        if let (Some(inner), Some(base)) = (value.as_object_mut(), defaults[key].as_object()) {
            inner.retain(|sub, v| base.get(sub) != Some(v));
        }
    }
    settings.retain(|key, value| {
        defaults.get(key) != Some(value) && value.as_object().is_none_or(|o| !o.is_empty())
    });
    let mut text = serde_json::to_vec_pretty(&report).unwrap();
    text.push(b'\n');
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_of_the_recorded_seeded_run_match_their_goldens() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    if std::env::var_os("UPDATE_FIXTURE").is_some() {
        let report = run(timed(Case::ExpiredRefreshable, Strategy::Naive)).await;
        std::fs::create_dir_all(GOLDEN_DIR).unwrap();
        std::fs::write(
            golden_path("naive-seed7.report.json"),
            only_what_differs(&exported(&report, ExportFormat::Json)),
        )
        .unwrap();
    }
    let report = fixture();
    for (format, name) in [
        (ExportFormat::Har, "naive-seed7.har"),
        (ExportFormat::Trace, "naive-seed7.trace.json"),
        (ExportFormat::Mermaid, "naive-seed7.mmd"),
        (ExportFormat::Svg, "naive-seed7.svg"),
    ] {
        let text = exported_text(&report, format);
        if update {
            std::fs::write(golden_path(name), &text).unwrap();
        }
        let golden = std::fs::read_to_string(golden_path(name)).expect("golden exists");
        assert_eq!(
            text, golden,
            "{name} differs from its golden (UPDATE_GOLDEN=1 cargo test --test it export::)"
        );
    }
    // The JSON export is the report itself, as `run --save` writes it.
    let json = exported(&report, ExportFormat::Json);
    let again = export::parse_report(&json).unwrap();
    assert_eq!(again.events, report.events);
    assert_eq!(again.verdict, report.verdict);
}

/// The fixture is what the engine does today, not a fiction: the same
/// lane stories as a fresh run with the same seed, played on the step
/// network (every leg in the timer's due order, without the scheduler's
/// noise), so one run compares exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorded_run_still_tells_what_the_engine_does() {
    let fresh = run(seeded(Case::ExpiredRefreshable, Strategy::Naive)).await;
    let recorded = fixture();
    assert_eq!(
        recorded.settings,
        timed(Case::ExpiredRefreshable, Strategy::Naive)
    );
    assert_eq!(
        render::lanes(&recorded.events),
        render::lanes(&fresh.events),
        "the fixture is stale: UPDATE_FIXTURE=1 UPDATE_GOLDEN=1 cargo test --test it export::"
    );
    assert_eq!(recorded.verdict.sentence, fresh.verdict.sentence);
}

// ---------- the command line ----------

fn refresh_race(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_refresh-race"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        if let Some(bytes) = stdin {
            input.write_all(bytes).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn export_command_writes_each_format_and_refuses_bad_input_with_2() {
    let dir = std::env::temp_dir().join(format!("refresh-race-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = golden_path("naive-seed7.report.json");

    let output = refresh_race(&["export", "mermaid", &report], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        std::fs::read_to_string(golden_path("naive-seed7.mmd")).unwrap()
    );
    let png = dir.join("run.png");
    let output = refresh_race(
        &["export", "png", &report, "--out", png.to_str().unwrap()],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let picture = resvg::tiny_skia::Pixmap::decode_png(&std::fs::read(&png).unwrap()).unwrap();
    assert_eq!(picture.width(), 1280);
    // `-` reads the report from stdin.
    let output = refresh_race(
        &["export", "har", "-"],
        Some(&std::fs::read(&report).unwrap()),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let har: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(har["log"]["entries"].as_array().unwrap().len(), 10);

    let not_json = dir.join("not.json");
    std::fs::write(&not_json, "hello").unwrap();
    let not_report = dir.join("other.json");
    std::fs::write(&not_report, r#"{"settings": {}, "lab_now_ms": 1}"#).unwrap();
    for (args, message) in [
        (
            vec!["export", "pdf", report.as_str()],
            "invalid value 'pdf'",
        ),
        (
            vec!["export", "har", not_json.to_str().unwrap()],
            "not JSON: expected value at line 1 column 1",
        ),
        (
            vec!["export", "har", not_report.to_str().unwrap()],
            "not a run report (missing field `events`)",
        ),
        (
            vec!["export", "har", "/nonexistent/run.json"],
            "cannot read /nonexistent/run.json",
        ),
        (vec!["run", "--out", "x.json"], "--export <FORMAT>"),
        (
            vec!["run", "--export", "har", "--json"],
            "--json and --export both write to stdout",
        ),
    ] {
        let output = refresh_race(&args, None);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_export_writes_the_file_and_still_prints_the_timeline() {
    let dir = std::env::temp_dir().join(format!("refresh-race-run-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("race.trace.json");
    let output = refresh_race(
        &[
            "run",
            "--client",
            "single-flight",
            "--export",
            "trace",
            "--out",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Verdict: 1 refresh"));
    let trace: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    check_trace_rules(&trace);
    // The JSON export is byte for byte what --save writes.
    let (saved, exported) = (dir.join("saved.json"), dir.join("exported.json"));
    let output = refresh_race(
        &[
            "run",
            "--case",
            "valid",
            "--save",
            saved.to_str().unwrap(),
            "--export",
            "json",
            "--out",
            exported.to_str().unwrap(),
        ],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(&saved).unwrap(),
        std::fs::read(&exported).unwrap()
    );
    // Without --out, the export replaces the timeline on stdout.
    let output = refresh_race(&["run", "--case", "valid", "--export", "mermaid"], None);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with("---\ntitle: valid · naive client · strict server\n"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------- POST /lab/export/{format} ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_answers_each_format_as_an_attachment() {
    let base = start_lab().await;
    let mut body = std::fs::read(golden_path("naive-seed7.report.json")).unwrap();
    // Larger than the lab's 16 KiB limit for settings: this route has its own.
    body.extend(std::iter::repeat_n(b' ', 20 * 1024));
    for format in ExportFormat::ALL {
        let response = http()
            .post(format!("{base}/lab/export/{format}"))
            .header("content-type", "application/json")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{format}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], format.content_type(), "{format}");
        assert_eq!(
            headers["content-disposition"],
            format!(
                "attachment; filename=\"refresh-race-expired-refreshable-naive-strict.{}\"",
                format.extension()
            )
            .as_str()
        );
        let bytes = response.bytes().await.unwrap();
        assert_eq!(
            bytes.as_ref(),
            exported(&fixture(), *format).as_slice(),
            "{format}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_refuses_unknown_formats_bad_bodies_and_huge_ones() {
    let base = start_lab().await;
    for (path, body, status, error) in [
        ("pdf", "{}".to_owned(), 404, "unknown_format"),
        ("har", "{not json".to_owned(), 400, "bad_json"),
        ("har", r#"{"case":"valid"}"#.to_owned(), 400, "not_a_report"),
        (
            "svg",
            r#"{"settings":{"secret":"x"},"events":[]}"#.to_owned(),
            400,
            "not_a_report",
        ),
    ] {
        let response = http()
            .post(format!("{base}/lab/export/{path}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{path}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["error"], error, "{json}");
        assert!(json["message"].as_str().unwrap().len() > 10, "{json}");
    }
    let huge = vec![b' '; export::lab::EXPORT_BODY_LIMIT + 1];
    let response = http()
        .post(format!("{base}/lab/export/json"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["error"], "payload_too_large");
    // The lab's other routes keep their small limit.
    let response = http()
        .post(format!("{base}/lab/runs"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"pad":"{}"}}"#, "x".repeat(100_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_and_policy_exports_cleanly() {
    for (case, strategy, policy) in [
        (Case::Valid, Strategy::Queue, Policy::Strict),
        (Case::ExpiredNotRefreshable, Strategy::Naive, Policy::Strict),
        (Case::ExpiredRefreshable, Strategy::Naive, Policy::Family),
        (Case::ExpiredRefreshable, Strategy::Naive, Policy::Grace),
        (Case::ExpiredRefreshable, Strategy::Naive, Policy::NonAtomic),
    ] {
        let report = run(RunSettings {
            policy,
            ..seeded(case, strategy)
        })
        .await;
        check_har_numbers(&exported_json(&report, ExportFormat::Har));
        check_trace_rules(&exported_json(&report, ExportFormat::Trace));
        roxmltree::Document::parse(&exported_text(&report, ExportFormat::Svg)).unwrap();
        let mermaid = exported_text(&report, ExportFormat::Mermaid);
        if policy == Policy::Family {
            assert!(
                mermaid.contains("reuse detected: the whole family is revoked"),
                "{mermaid}"
            );
        }
        if case == Case::ExpiredNotRefreshable {
            assert!(mermaid.contains("400 window_over"), "{mermaid}");
        }
        no_secrets(&report);
    }
}
