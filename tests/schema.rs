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
