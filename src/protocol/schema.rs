//! The JSON Schemas generated from the wire's types and the saved run
//! report. `docs/schema/` holds them (`refresh-race schema`); a test fails
//! when they are stale.

use schemars::Schema;

use super::wire::{PageReport, StreamMessage};

/// The JSON Schemas checked in under `docs/schema/`, by file name.
pub fn schemas() -> Vec<(&'static str, Schema)> {
    vec![
        (
            "stream-message.schema.json",
            schemars::schema_for!(StreamMessage),
        ),
        ("page-report.schema.json", schemars::schema_for!(PageReport)),
        (
            "run-report.schema.json",
            schemars::schema_for!(crate::scenario::RunReport),
        ),
    ]
}

/// A schema as the pretty JSON text that is checked in.
pub fn schema_text(schema: &Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}
