//! The checked-in JSON Schemas (docs/schema/) are what the Rust types say
//! today, and what the engine sends validates against them.

use refresh_race::protocol::schema::{schema_text, schemas};
use refresh_race::protocol::wire::StreamMessage;
use refresh_race::scenario;
use refresh_race::settings::{RunSettings, Strategy};

#[test]
fn checked_in_schemas_are_current() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema");
    for (name, schema) in schemas() {
        let path = format!("{dir}/{name}");
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == schema_text(&schema),
            "{path} is stale: run `cargo run -- schema` and commit the result"
        );
    }
}

/// Every message of a real run, and the saved report, parse back into the
/// typed protocol: nothing the engine writes is outside the schema's types.
#[tokio::test]
async fn a_real_run_round_trips_through_the_typed_protocol() {
    let settings = RunSettings {
        strategy: Strategy::Queue,
        late: true,
        ..RunSettings::default()
    };
    let report = scenario::run(&settings).await.unwrap();
    let json = serde_json::to_string(&report).unwrap();
    let back: scenario::RunReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back.events, report.events);
    assert_eq!(back.verdict, report.verdict);
    for event in report.events {
        let line = StreamMessage::Event {
            event,
            caption: String::new(),
        }
        .to_line();
        let parsed: StreamMessage = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed.to_line(), line);
    }
}

use crate::common;

use common::{command, start_lab, Stream};
use serde_json::{json, Value};

/// A validator for the checked-in `docs/schema/{name}`.
fn validator(name: &str) -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema/").to_owned() + name;
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::draft202012::new(&schema).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// Fails with every error of `value` against `schema`.
fn assert_valid(schema: &jsonschema::Validator, what: &str, value: &Value) {
    let errors: Vec<String> = schema
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {}\n{value}", errors.join("\n"));
}

/// Every message of a lab stream, in order, until it ends; a held run is
/// stepped one leg each time the network says legs are in flight.
async fn whole_stream(base: &str, settings: Value) -> Vec<Value> {
    let mut stream = Stream::open(base, settings).await;
    let mut messages = Vec::new();
    let mut run = None;
    while let Some(message) = stream.next().await {
        match message["type"].as_str() {
            Some("start") => run = message["run"].as_u64(),
            Some("network")
                if message["network"]["legs"]
                    .as_array()
                    .is_some_and(|legs| !legs.is_empty()) =>
            {
                let (status, view) = command(base, run.unwrap(), json!({"command": "step"})).await;
                assert_eq!(status, 200, "{view}");
            }
            _ => {}
        }
        messages.push(message);
    }
    messages
}

/// What the lab streams, read off real HTTP, validates against
/// docs/schema/stream-message.schema.json: every kind of line a page meets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_stream_messages_validate_against_the_schema() {
    let schema = validator("stream-message.schema.json");
    let base = start_lab().await;
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    let runs = [
        json!({"strategy": "naive", "jitter_ms": 80, "seed": 7}),
        json!({"strategy": "queue", "late": true, "policy": "family"}),
        json!({"strategy": "single-flight", "tabs": 2, "secret": 2, "public": 1, "cross_tab": "lock", "network": "hand"}),
        json!({"strategy": "proactive", "mode": "oauth", "network": "step"}),
        json!({"case": "guest", "secret": 1, "public": 1}),
        // Left alone: abandoned after a second, as the stream says.
        json!({"secret": 1, "public": 0, "network": "hand", "idle_s": 1, "deliver": ["secret#1>"]}),
    ];
    for settings in runs {
        let messages = if settings["idle_s"] == 1 {
            let mut stream = Stream::open(&base, settings.clone()).await;
            let mut all = Vec::new();
            while let Some(message) = stream.next().await {
                all.push(message);
            }
            all
        } else {
            whole_stream(&base, settings.clone()).await
        };
        for (i, message) in messages.iter().enumerate() {
            assert_valid(&schema, &format!("{settings}, line {i}"), message);
            *seen
                .entry(message["type"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    // A module that fails in the page ends its run with an error line.
    let mut stream = Stream::open(
        &base,
        json!({"runtime": "browser", "secret": 1, "public": 0}),
    )
    .await;
    let (start, _) = stream.until("start").await;
    assert_valid(&schema, "browser start", &start);
    let url = format!("{base}{}", start["page"]["report"].as_str().unwrap());
    let end = json!({"seq": 1, "started": 0, "received": 0, "end": {"outcome": "failed", "message": "TypeError: x is not a function"}});
    let (status, _) = common::answer(common::http().post(url).json(&end)).await;
    assert_eq!(status, 200);
    let (error, _) = stream.until("error").await;
    assert_valid(&schema, "error line", &error);
    *seen.entry("error".into()).or_default() += 1;

    let kinds: Vec<&str> = seen.keys().map(String::as_str).collect();
    assert_eq!(
        kinds,
        ["abandoned", "done", "error", "event", "network", "start"],
        "every kind of line was checked"
    );

    // The validator is no rubber stamp: a line the page could not read fails.
    let mut broken = json!({"type": "event", "caption": "", "event": {"seq": 0, "t_us": 1, "lane": "secret#1", "kind": "request_sent", "attempt": 2, "route": "/api/secret", "jti": "t1"}});
    assert_valid(&schema, "a hand-made event", &broken);
    broken["event"]["kind"] = json!("teleported");
    assert!(!schema.is_valid(&broken), "an unknown event kind must fail");
    assert!(
        !schema.is_valid(&json!({"type": "done", "lab_now_ms": 1})),
        "a done without its verdict must fail"
    );
}

/// The run report the CLI prints (`run --json`) and `--save` writes, for
/// every strategy, policy and shape of run, validates against
/// docs/schema/run-report.schema.json.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_run_reports_validate_against_the_schema() {
    use refresh_race::settings::{CrossTab, NetworkDriver, Policy};
    let schema = validator("run-report.schema.json");
    let mut runs: Vec<RunSettings> = Strategy::ALL
        .iter()
        .map(|&strategy| RunSettings {
            strategy,
            late: true,
            ..RunSettings::default()
        })
        .collect();
    runs.extend(Policy::ALL.iter().map(|&policy| RunSettings {
        policy,
        jitter_ms: 80,
        seed: 7,
        ..RunSettings::default()
    }));
    runs.push(RunSettings {
        strategy: Strategy::SingleFlight,
        tabs: 3,
        secret: 1,
        public: 1,
        cross_tab: CrossTab::Lock,
        network: NetworkDriver::Step,
        ..RunSettings::default()
    });
    for settings in &runs {
        let report = scenario::run(settings).await.unwrap();
        let value = serde_json::to_value(&report).unwrap();
        assert_valid(&schema, &format!("{settings:?}"), &value);
    }
    let mut broken = serde_json::to_value(scenario::run(&runs[0]).await.unwrap()).unwrap();
    broken["verdict"]["ok"] = json!("three");
    assert!(
        !schema.is_valid(&broken),
        "a verdict with a text count must fail"
    );
}
