//! Exports of a finished run, for slides, bug reports and other tools.
//!
//! Every export is a pure function of a [`RunReport`] (what `refresh-race
//! run --json` and `--save` write, and what the UI rebuilds from a stream):
//!
//! - [`har`]: HAR 1.2 for the browser's DevTools (one entry per HTTP
//!   exchange, a sentence about it in `comment`);
//! - [`trace`]: Chrome trace event JSON for Perfetto (one thread per lane,
//!   flows from each 401 to the refresh it caused);
//! - [`mermaid`]: a slide-sized Mermaid `sequenceDiagram`;
//! - [`svg`] and [`png`]: the timeline as a standalone picture;
//! - [`json`]: the report itself (what `run --save` writes).
//!
//! [`exchanges`] pairs the events into HTTP exchanges once for all of them,
//! and [`narrate`] holds the one function that puts an exchange into words.
//! [`lab`] serves the exports over HTTP (`POST /lab/export/{format}`).

pub mod exchanges;
pub mod har;
pub mod json;
pub mod lab;
pub mod mermaid;
pub mod narrate;
pub mod png;
pub mod svg;
pub mod trace;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::scenario::RunReport;
use crate::settings::RunSettings;
use crate::timeline::Event;
use crate::verdict::Verdict;

/// What a run can be exported as. On the command line and in URLs, the
/// lowercase name (`har`, `trace`, `mermaid`, `svg`, `png`, `json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// HAR 1.2 (HTTP Archive), for DevTools' Network panel.
    Har,
    /// Chrome trace event JSON, for Perfetto (ui.perfetto.dev) or chrome://tracing.
    Trace,
    /// A Mermaid sequenceDiagram, for slides and Markdown.
    Mermaid,
    /// The timeline as a standalone SVG picture.
    Svg,
    /// The timeline as a PNG picture (rendered from the SVG).
    Png,
    /// The JSON run report (what `run --save` writes).
    Json,
}

impl ExportFormat {
    /// Every format, in the order menus list them.
    pub const ALL: &'static [ExportFormat] = &[
        ExportFormat::Har,
        ExportFormat::Trace,
        ExportFormat::Mermaid,
        ExportFormat::Svg,
        ExportFormat::Png,
        ExportFormat::Json,
    ];

    /// The lowercase name used on the command line and in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Har => "har",
            ExportFormat::Trace => "trace",
            ExportFormat::Mermaid => "mermaid",
            ExportFormat::Svg => "svg",
            ExportFormat::Png => "png",
            ExportFormat::Json => "json",
        }
    }

    /// The file name's ending, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Har => "har",
            ExportFormat::Trace => "trace.json",
            ExportFormat::Mermaid => "mmd",
            ExportFormat::Svg => "svg",
            ExportFormat::Png => "png",
            ExportFormat::Json => "json",
        }
    }

    /// The HTTP content type of the exported file.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Har | ExportFormat::Trace | ExportFormat::Json => {
                "application/json; charset=utf-8"
            }
            // Mermaid has no registered media type; it is plain text.
            ExportFormat::Mermaid => "text/plain; charset=utf-8",
            ExportFormat::Svg => "image/svg+xml; charset=utf-8",
            ExportFormat::Png => "image/png",
        }
    }

    /// True for formats that are not text.
    pub fn is_binary(self) -> bool {
        self == ExportFormat::Png
    }

    /// A file name that says what the run was, e.g.
    /// `refresh-race-expired-refreshable-naive-strict.har`. A library's run
    /// is named by the library (its name kept to letters, digits and `-`).
    pub fn file_name(self, settings: &RunSettings) -> String {
        let client: String = settings
            .client_name()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        format!(
            "refresh-race-{}-{}-{}.{}",
            settings.case,
            client,
            settings.policy,
            self.extension()
        )
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for ExportFormat {
    type Err = ExportError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ExportFormat::ALL
            .iter()
            .copied()
            .find(|format| format.as_str() == text)
            .ok_or_else(|| ExportError::UnknownFormat(text.to_owned()))
    }
}

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("unknown export format '{0}' (expected one of: har, trace, mermaid, svg, png, json)")]
    UnknownFormat(String),
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not a run report ({0}); save one with `refresh-race run --save FILE`")]
    NotAReport(String),
    #[error("cannot render the PNG: {0}")]
    Render(String),
}

/// The run report as an export reads it: like [`RunReport`], but a missing
/// verdict is computed from the events (a replayed NDJSON stream may lack
/// its `done` line) and a missing end time is taken as unknown.
#[derive(Deserialize)]
struct ReportInput {
    settings: RunSettings,
    events: Vec<Event>,
    #[serde(default)]
    verdict: Option<Verdict>,
    #[serde(default)]
    lab_now_ms: Option<u64>,
    #[serde(default)]
    delivered: Vec<crate::protocol::LegId>,
    #[serde(default)]
    dropped: Vec<crate::protocol::LostAnswer>,
    #[serde(default)]
    narration: Vec<String>,
    #[serde(default)]
    solved: Vec<crate::challenge::ChallengeId>,
}

/// Parses a run report from JSON bytes, with a message that says what is
/// wrong: not JSON at all, or JSON that is not a report.
pub fn parse_report(bytes: &[u8]) -> Result<RunReport, ExportError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|err| ExportError::NotJson(err.to_string()))?;
    if !value.is_object() {
        return Err(ExportError::NotAReport(
            "expected an object with settings, events and verdict".into(),
        ));
    }
    let input: ReportInput =
        serde_json::from_value(value).map_err(|err| ExportError::NotAReport(err.to_string()))?;
    let mut events = input.events;
    events.sort_by_key(|event| event.seq);
    let verdict = input
        .verdict
        .unwrap_or_else(|| Verdict::from_events(&events));
    let narration = if input.narration.len() == events.len() {
        input.narration
    } else {
        crate::narrate::all(&input.settings, &events)
    };
    Ok(RunReport {
        settings: input.settings,
        events,
        verdict,
        lab_now_ms: input.lab_now_ms.unwrap_or(0),
        delivered: input.delivered,
        dropped: input.dropped,
        narration,
        solved: input.solved,
    })
}

/// The report as `format`: UTF-8 text for every format but PNG.
pub fn export(report: &RunReport, format: ExportFormat) -> Result<Vec<u8>, ExportError> {
    Ok(match format {
        ExportFormat::Har => pretty(&har::har(report)),
        ExportFormat::Trace => pretty(&trace::trace(report)),
        ExportFormat::Mermaid => mermaid::mermaid(report).into_bytes(),
        ExportFormat::Svg => svg::svg(report).into_bytes(),
        ExportFormat::Png => png::png(report)?,
        ExportFormat::Json => json::json(report),
    })
}

/// Pretty JSON with a final newline. Serialising the export's own plain
/// types cannot fail (string keys only, no fallible serialisers).
fn pretty<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip_and_strangers_are_named() {
        for format in ExportFormat::ALL {
            assert_eq!(format.as_str().parse::<ExportFormat>().unwrap(), *format);
            let json = serde_json::to_string(format).unwrap();
            assert_eq!(json, format!("\"{format}\""));
        }
        let err = "pdf".parse::<ExportFormat>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown export format 'pdf' (expected one of: har, trace, mermaid, svg, png, json)"
        );
    }

    #[test]
    fn reports_are_told_from_other_json() {
        assert!(matches!(
            parse_report(b"{nope"),
            Err(ExportError::NotJson(_))
        ));
        assert!(matches!(
            parse_report(b"[1,2]"),
            Err(ExportError::NotAReport(_))
        ));
        let err = parse_report(br#"{"settings":{}}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `events`"), "{err}");
        let report = parse_report(br#"{"settings":{},"events":[]}"#).unwrap();
        assert_eq!(report.verdict.requests, 0);
    }
}
