//! The words an export puts beside an exchange (the HAR's `comment`, the
//! trace's `args`): the engine's own narration (crate::narrate) of the
//! events of that exchange — what the client sent, what the server decided,
//! what came back — so exports say exactly what the caption line says.

use std::collections::HashMap;

use crate::protocol::Lane;
use crate::scenario::RunReport;

use super::exchanges::Exchange;

/// The sentences of `ex`'s events, joined. A request lane's events that
/// belong to no exchange (`queued`, `request_done`) go with the lane's
/// latest exchange: what the lane did with that answer.
pub fn exchange(report: &RunReport, sentences: &[String], ex: &Exchange) -> String {
    let mut latest: HashMap<Lane, u64> = HashMap::new();
    let mut said = Vec::new();
    for (event, sentence) in report.events.iter().zip(sentences) {
        let attempt = match event.kind.attempt() {
            Some(attempt) => {
                if event.lane.kind().is_some() {
                    latest.insert(event.lane, attempt);
                }
                Some(attempt)
            }
            None => latest.get(&event.lane).copied(),
        };
        if attempt == Some(ex.attempt) {
            said.push(sentence.as_str());
        }
    }
    said.join(" ")
}
