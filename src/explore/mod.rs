//! Explore: every order in which the network can deliver a run's legs,
//! counted, grouped by outcome.
//!
//! A held run is a tree of choices: at each step, which leg in flight goes
//! next. The explorer walks that tree with real runs (a real server, real
//! clients, the hand network), but it does not re-run every order: after
//! each delivery it reads the run's abstract state ([`state`]), and two
//! prefixes that reach the same state share their futures. The tree folds
//! into a graph of distinct states; the orders are counted as the paths
//! through it, exactly, and each state keeps, per outcome, how many of its
//! continuations end there and the shortest one.
//!
//! A real run cannot be forked, so a state's second and later legs are
//! explored from a fresh run that replays the prefix (the network replays
//! exactly: docs/design.md, "The network"). The first leg continues on the
//! run at hand. Many steps need no run at all: each delivery's footprint
//! (what it wrote: the server, the tab, other lanes) is kept, and two
//! deliveries of different lanes that neither wrote what the other reads
//! commute, so S·b·a is read off S·a·b ([`state::independent`]).
//!
//! Budgets: [`estimate`] sizes a setup before anything runs; past
//! [`MAX_ESTIMATED_STATES`] the explorer refuses unless it is given a

mod count;
pub mod lab;
mod model;
pub mod page;
mod report;
mod state;
mod walk;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::scenario::LabError;
use crate::settings::{NetworkDriver, RunSettings, Runtime, SettingsError};

pub use model::{
    estimate, orders_text, Class, Cut, Estimate, Exploration, NextLeg, Outcome, Progress,
};
pub use report::{lanes_text, names, render, replay, save_failing};

/// The most states an exploration may be estimated to need before the
/// explorer refuses it without a budget. Each state costs a real run or
/// two (about a millisecond each in a release build), so this is roughly a
/// minute of work on a 2-core machine; see BENCHMARKS.md.
pub const MAX_ESTIMATED_STATES: u64 = 60_000;
/// How far to go, and who is watching.
#[derive(Default, Clone)]
pub struct Options {
    /// Stop once this many complete orders are counted.
    pub budget_orders: Option<u64>,
    /// Stop after this long.
    pub budget: Option<Duration>,
    /// Set to stop: the exploration returns [`ExploreError::Cancelled`]
    /// and frees its runs.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Told now and then how far the exploration got.
    pub progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    /// Runs every edge even when commuting deliveries predict it, and fails
    /// if a prediction was wrong (slower; for tests).
    pub check_shortcuts: bool,
    /// The page that runs the tabs of a browser-runtime setup ([`page`]):
    /// without it such a setup is refused.
    pub page: Option<page::Tell>,
}

impl Options {
    fn budgeted(&self) -> bool {
        self.budget_orders.is_some() || self.budget.is_some()
    }
}
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("{0}")]
    Refused(String),
    #[error("the exploration was cancelled")]
    Cancelled,
    #[error("a run failed: {0}")]
    Run(#[from] LabError),
    #[error("the run did not replay the same way after {prefix}: the explorer cannot count it")]
    Diverged { prefix: String },
    #[error("more orders than the explorer can count (over 2^64)")]
    Overflow,
    #[error("{0}")]
    Page(String),
}
/// Refuses what the explorer cannot explore, and (without a budget) a setup
/// estimated past [`MAX_ESTIMATED_STATES`], with its estimate.
/// `in_page`: a page is there to run the tabs of a browser-runtime setup.
pub fn check(settings: &RunSettings, budgeted: bool, in_page: bool) -> Result<(), ExploreError> {
    settings.validate()?;
    if settings.runtime == Runtime::Browser {
        if !in_page {
            return Err(ExploreError::Refused(
                "a client that runs in the page (runtime browser) is explored from the lab's page (Explore, or the grader); here explore runs the engine's clients (runtime rust)".into(),
            ));
        }
        page::check(settings)?;
    }
    if !settings.drop.is_empty() {
        return Err(ExploreError::Refused(
            "explore delivers every leg: it takes no drop list (lost answers are not explored)"
                .into(),
        ));
    }
    let size = estimate(settings);
    if size.states > MAX_ESTIMATED_STATES && !budgeted {
        return Err(ExploreError::Refused(format!(
            "this setup is too large to explore whole: {} orders through up to {} states (the bound is {} states); explore fewer lanes (e.g. --secret 2 --public 1), or give --budget-orders N or --budget-s S to explore part of it",
            orders_text(size.orders), size.states, MAX_ESTIMATED_STATES
        )));
    }
    Ok(())
}

/// Explores every order of `settings` (run with the hand network, from its
/// `deliver` prefix) and counts them by outcome.
pub async fn explore(
    settings: &RunSettings,
    options: &Options,
) -> Result<Exploration, ExploreError> {
    let settings = RunSettings {
        network: NetworkDriver::Hand,
        ..settings.clone()
    };
    check(&settings, options.budgeted(), options.page.is_some())?;
    let requests = settings.tab_numbers().count() as u32
        * (settings.secret + settings.public + u32::from(settings.late));
    let mut explorer = walk::Explorer::new(settings, options, requests);
    explorer.run().await
}
