//! The run report itself, as `refresh-race run --save` writes it: pretty
//! JSON with a final newline. Replay a saved run and `refresh-race export`
//! read it back.

use crate::scenario::RunReport;

/// The report's bytes.
pub fn json(report: &RunReport) -> Vec<u8> {
    super::pretty(report)
}
