//! An exploration as text (the CLI), and its shortest orders replayed or
//! saved as run files.

use super::{Class, Cut, Exploration, Outcome};
use crate::protocol::LegId;
use crate::scenario;
use crate::settings::{NetworkDriver, RunSettings};

/// `secret#1>,secret#1<`: a `--deliver` list.
pub fn names(legs: &[LegId]) -> String {
    legs.iter()
        .map(LegId::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The lanes of `settings` that send requests (for texts).
pub fn lanes_text(settings: &RunSettings) -> String {
    let tabs = settings.tabs;
    let late = if settings.late { " + 1 late" } else { "" };
    let tabs = if tabs > 1 {
        format!(" in {tabs} tabs")
    } else {
        String::new()
    };
    format!(
        "{} secret + {} public{late}{tabs}",
        settings.secret, settings.public
    )
}

/// The exploration as text, for the CLI.
pub fn render(exploration: &Exploration) -> String {
    use std::fmt::Write;
    let setup = &exploration.setup;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "explore: case {}, client {}, policy {}, {}, {} mode",
        setup.case,
        setup.strategy,
        setup.policy,
        lanes_text(setup),
        setup.mode
    );
    if !setup.deliver.is_empty() {
        let _ = writeln!(out, "from the prefix {}", names(&setup.deliver));
    }
    let count = if exploration.exact {
        format!("{} orders (exact)", exploration.orders)
    } else {
        format!(
            "explored {} of at least {} orders (cut short by the {})",
            exploration.orders,
            exploration.at_least,
            match exploration.cut {
                Some(Cut::BudgetSeconds) => "time budget",
                _ => "order budget",
            }
        )
    };
    let _ = writeln!(
        out,
        "{count}; {} failing; {} distinct states, {} runs, {} steps known without a run",
        exploration.failing, exploration.states, exploration.runs, exploration.shortcuts
    );
    for class in &exploration.classes {
        let share = class.count as f64 * 100.0 / exploration.orders.max(1) as f64;
        let at_least = if exploration.exact { "" } else { "at least " };
        let _ = writeln!(
            out,
            "\n{}{} of {} orders ({share:.1}%) {}: {}",
            at_least,
            class.count,
            exploration.orders,
            class.outcome.effect(),
            class.outcome.describe()
        );
        let _ = writeln!(
            out,
            "  shortest ({} deliveries): {}",
            class.shortest.len(),
            names(&class.shortest)
        );
        if let Some(message) = &class.error {
            let _ = writeln!(out, "  the client failed: {message}");
        }
        match (class.ok, class.no_return) {
            (true, _) => {}
            (false, None) if !exploration.exact => {
                let _ = writeln!(
                    out,
                    "  point of no return unknown: the exploration was cut short"
                );
            }
            (false, Some(index)) => {
                let _ = writeln!(
                    out,
                    "  point of no return: delivery {} ({}); after it every continuation fails",
                    index + 1,
                    class.shortest[index]
                );
            }
            (false, None) if setup.deliver.is_empty() => {
                let _ = writeln!(
                    out,
                    "  lost before the first delivery: every order of this setup fails"
                );
            }
            (false, None) => {
                let _ = writeln!(
                    out,
                    "  lost already: every continuation of the prefix fails"
                );
            }
        }
    }
    out
}

/// Replays a class's shortest order: the run report a `run --network hand
/// --deliver …` gives. Fails if it does not end in the class's outcome.
pub async fn replay(setup: &RunSettings, class: &Class) -> Result<scenario::RunReport, String> {
    let settings = RunSettings {
        network: NetworkDriver::Hand,
        deliver: class.shortest.clone(),
        ..setup.clone()
    };
    let report = scenario::run(&settings)
        .await
        .map_err(|err| format!("replaying {}: {err}", names(&class.shortest)))?;
    let requests = settings.tab_numbers().count() as u32
        * (settings.secret + settings.public + u32::from(settings.late));
    let outcome = Outcome::of(&report.verdict, requests);
    if outcome != class.outcome {
        return Err(format!(
            "replaying {} ended in {}, not {}",
            names(&class.shortest),
            outcome.describe(),
            class.outcome.describe()
        ));
    }
    Ok(report)
}

/// Writes each failing class's shortest order as a run file in `dir`
/// (created if need be), named by its rank and outcome; returns the paths.
/// A class of runs that hang or fail has no report to write, and is skipped.
pub async fn save_failing(
    exploration: &Exploration,
    dir: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>, String> {
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let mut paths = Vec::new();
    for (rank, class) in exploration.classes.iter().enumerate() {
        if class.ok || class.outcome.hang || class.outcome.error {
            continue;
        }
        let report = replay(&exploration.setup, class).await?;
        let o = &class.outcome;
        let name = format!(
            "{:02}-{}-refreshes-{}-rejected-{}-failed{}.json",
            rank + 1,
            o.refresh_calls,
            o.refresh_rejected,
            o.failed,
            if o.logged_out { "-logged-out" } else { "" }
        );
        let path = dir.join(name);
        crate::save::write_atomically(&path, &crate::export::json::json(&report))
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        paths.push(path);
    }
    Ok(paths)
}
