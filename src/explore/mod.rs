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
//! run at hand.
//!
//! Budgets: [`estimate`] sizes a setup before anything runs; past
//! [`MAX_ESTIMATED_STATES`] the explorer refuses unless it is given a
//! budget, and a budget cut short says "at least".

pub mod lab;
mod state;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::protocol::LegId;
use crate::scenario::{self, LabError, LiveRun};
use crate::settings::{NetworkDriver, Policy, RunSettings, Runtime, SettingsError, Strategy};
use crate::timeline::Recorder;
use crate::verdict::Verdict;

/// The most states an exploration may be estimated to need before the
/// explorer refuses it without a budget. Each state costs a real run or
/// two (about a millisecond each in a release build), so this is roughly a
/// minute of work on a 2-core machine; see BENCHMARKS.md.
pub const MAX_ESTIMATED_STATES: u64 = 60_000;

/// How one order ended: the counts a learner compares, and whether the
/// run settled with requests that could never complete.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub struct Outcome {
    pub refresh_calls: u32,
    pub refresh_rejected: u32,
    /// Logical requests that failed.
    pub failed: u32,
    pub logged_out: bool,
    /// Nothing was left in flight, yet some request never finished.
    pub hang: bool,
}

impl Outcome {
    /// The outcome of a finished (or stuck) run from its events.
    pub fn of(verdict: &Verdict, requests: u32) -> Outcome {
        Outcome {
            refresh_calls: verdict.refresh_calls,
            refresh_rejected: verdict.refresh_rejected,
            failed: verdict.failed,
            logged_out: verdict.logouts > 0,
            hang: verdict.requests < requests,
        }
    }

    /// Every request succeeded and the user stayed logged in.
    pub fn ok(&self) -> bool {
        self.failed == 0 && !self.logged_out && !self.hang
    }

    /// "2 refreshes, 1 rejected, 1 failed, logged out".
    pub fn describe(&self) -> String {
        let mut parts = vec![
            match self.refresh_calls {
                1 => "1 refresh".to_owned(),
                n => format!("{n} refreshes"),
            },
            format!("{} rejected", self.refresh_rejected),
            format!("{} failed", self.failed),
        ];
        if self.logged_out {
            parts.push("logged out".into());
        }
        if self.hang {
            parts.push("hangs".into());
        }
        parts.join(", ")
    }

    /// What the orders of this outcome do to the user, for "k of M orders …".
    pub fn effect(&self) -> &'static str {
        if self.hang {
            "leave a request hanging"
        } else if self.logged_out {
            "log the user out"
        } else if self.failed > 0 {
            "lose a request"
        } else {
            "end well"
        }
    }
}

/// The orders of one outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Class {
    pub outcome: Outcome,
    pub ok: bool,
    /// How many orders end this way.
    pub count: u64,
    /// The shortest of them (the first in leg order among equals), as a
    /// `--deliver` list from the start of the run.
    pub shortest: Vec<LegId>,
    /// Index into `shortest`: after this delivery every continuation fails.
    /// `None` for an outcome that is ok, for one whose run was lost before
    /// the first delivery (every order fails), and when a budget cut the
    /// exploration short (then it cannot be told).
    pub no_return: Option<usize>,
}

/// What delivering one of the legs in flight now leads to (the hints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NextLeg {
    pub leg: LegId,
    /// Complete orders that continue with this leg.
    pub orders: u64,
    /// How many of them fail.
    pub failing: u64,
}

/// Why an exploration stopped before it counted every order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cut {
    BudgetOrders,
    BudgetSeconds,
}

/// A finished exploration (docs/design.md, "Explore").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Exploration {
    /// The run settings explored (`deliver`: the prefix every order starts with).
    pub setup: RunSettings,
    /// Complete orders counted: all of them when `exact`.
    pub orders: u64,
    /// False only when a budget cut the exploration short.
    pub exact: bool,
    /// Orders that exist at least (equals `orders` when exact).
    pub at_least: u64,
    /// Counted orders whose outcome is not ok.
    pub failing: u64,
    /// Outcomes: the ok ones first, then the most frequent.
    pub classes: Vec<Class>,
    /// Per leg in flight at the start: the orders that continue with it.
    pub next: Vec<NextLeg>,
    /// Distinct lab states met, real runs started to meet them, and steps
    /// known without a run (deliveries that commute).
    pub states: u64,
    pub runs: u64,
    pub shortcuts: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<Cut>,
}

impl Exploration {
    /// The class ending in `outcome`, if any order does.
    pub fn class(&self, outcome: &Outcome) -> Option<&Class> {
        self.classes.iter().find(|c| c.outcome == *outcome)
    }
}

/// The size of a setup, before anything runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Estimate {
    /// Legs a run can have in flight over its life, at most.
    pub legs: u32,
    /// States, at most the product of each lane's progress (shared order
    /// can add some).
    pub states: u64,
    /// Orders, at most: the interleavings of every lane's legs (saturates).
    pub orders: u64,
}

/// Sizes `settings`' space: each lane sends at most a request, a refresh
/// and a retry (two legs each, three for a non-atomic refresh).
pub fn estimate(settings: &RunSettings) -> Estimate {
    let refresh = if settings.policy == Policy::NonAtomic {
        3
    } else {
        2
    };
    let mut lanes: Vec<u64> = Vec::new();
    for _tab in settings.tab_numbers() {
        let secret = (0..settings.secret).chain(0..u32::from(settings.late));
        lanes.extend(secret.map(|_| 4 + refresh));
        lanes.extend((0..settings.public).map(|_| 2));
        if settings.strategy == Strategy::Proactive {
            lanes.push(refresh);
        }
    }
    let legs: u64 = lanes.iter().sum();
    let states = lanes.iter().fold(1u64, |acc, l| acc.saturating_mul(l + 1));
    // Multinomial: legs! / prod(l!), built up one lane at a time.
    let mut orders: u128 = 1;
    let mut placed: u128 = 0;
    for &l in &lanes {
        for k in 1..=u128::from(l) {
            placed += 1;
            orders = orders.saturating_mul(placed) / k;
            if orders > u128::from(u64::MAX) {
                orders = u128::from(u64::MAX);
            }
        }
    }
    Estimate {
        legs: legs.min(u64::from(u32::MAX)) as u32,
        states,
        orders: orders.min(u128::from(u64::MAX)) as u64,
    }
}

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
}

impl Options {
    fn budgeted(&self) -> bool {
        self.budget_orders.is_some() || self.budget.is_some()
    }
}

/// How far an exploration got.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Progress {
    /// Share of the tree of orders done, 0..=1 (branches weigh alike).
    pub done: f64,
    pub states: u64,
    pub runs: u64,
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
}

/// Index of a distinct outcome.
type ClassId = u32;
/// The reach of states still being explored, as far as they are.
type Partial = HashMap<NodeId, Vec<Reach>>;
/// Index of a distinct state.
type NodeId = u32;

/// Per outcome reachable from a state: how many continuations end there,
/// and the length and first leg of the shortest one.
#[derive(Debug, Clone, Copy)]
struct Reach {
    class: ClassId,
    count: u64,
    len: u32,
    /// Index of the leg (in the state's `legs`) the shortest starts with.
    via: u32,
}

struct Node {
    /// Legs in flight, in leg order; empty for a finished run.
    legs: Vec<LegId>,
    /// The state each leg leads to, as far as explored.
    children: Vec<NodeId>,
    /// Filled in once every leg is explored (or at once for an end).
    reach: Option<Vec<Reach>>,
    /// Per explored leg: its delivery touched only its own lane (see
    /// [`Explorer::predict`]).
    local: Vec<bool>,
    /// Some of the (state, leg index) edges that lead here.
    parents: Vec<(NodeId, u32)>,
}

/// What a settled run showed: its state's node and the raw parts the
/// state was read from.
struct Seen {
    node: NodeId,
    new: bool,
    events: Vec<crate::timeline::Event>,
    legs: Vec<crate::protocol::views::LegView>,
    tab: crate::protocol::views::TabView,
}

/// Parents kept per state: enough to find a commuting pair.
const MAX_PARENTS: usize = 4;

/// A live run at a known prefix, with its recorder.
struct Cursor {
    run: LiveRun,
    recorder: Recorder,
    at: Vec<LegId>,
}

struct Explorer<'a> {
    settings: RunSettings,
    options: &'a Options,
    requests: u32,
    interner: state::Interner,
    memo: HashMap<Vec<u32>, NodeId>,
    nodes: Vec<Node>,
    outcomes: Vec<Outcome>,
    outcome_ids: HashMap<Outcome, ClassId>,
    runs: u64,
    /// Edges known without a run (commuting deliveries).
    shortcuts: u64,
}

/// Refuses what the explorer cannot explore, and (without a budget) a setup
/// estimated past [`MAX_ESTIMATED_STATES`], with its estimate.
pub fn check(settings: &RunSettings, budgeted: bool) -> Result<(), ExploreError> {
    settings.validate()?;
    if settings.runtime == Runtime::Browser {
        return Err(ExploreError::Refused(
            "explore runs the engine's clients (runtime rust); a client that runs in the page cannot be explored yet".into(),
        ));
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
    check(&settings, options.budgeted())?;
    let requests = settings.tab_numbers().count() as u32
        * (settings.secret + settings.public + u32::from(settings.late));
    let mut explorer = Explorer {
        settings,
        options,
        requests,
        interner: state::Interner::default(),
        memo: HashMap::new(),
        nodes: Vec::new(),
        outcomes: Vec::new(),
        outcome_ids: HashMap::new(),
        runs: 0,
        shortcuts: 0,
    };
    explorer.run().await
}

/// One frame of the depth-first walk: a state being explored.
struct Frame {
    node: NodeId,
}

impl Explorer<'_> {
    async fn open(&mut self, prefix: &[LegId]) -> Result<Cursor, ExploreError> {
        self.runs += 1;
        let recorder = Recorder::new();
        let settings = RunSettings {
            deliver: prefix.to_vec(),
            ..self.settings.clone()
        };
        let run = scenario::start(&settings, recorder.clone()).await?;
        Ok(Cursor {
            run,
            recorder,
            at: prefix.to_vec(),
        })
    }

    /// Reads the settled run's state: its node (new or met before).
    async fn observe(&mut self, cursor: &Cursor) -> Result<Seen, ExploreError> {
        cursor.run.network.settled().await;
        let events = cursor.recorder.events();
        let legs = cursor.run.network.legs();
        let tab = cursor.run.client.tab_view();
        let key = state::of(&events, &legs, &tab, &mut self.interner);
        if let Some(&node) = self.memo.get(&key) {
            return Ok(Seen {
                node,
                new: false,
                events,
                legs,
                tab,
            });
        }
        let id = NodeId::try_from(self.nodes.len()).map_err(|_| ExploreError::Overflow)?;
        let mut ids: Vec<LegId> = legs.iter().map(|leg| leg.id).collect();
        ids.sort();
        let reach = if ids.is_empty() {
            let outcome = Outcome::of(&Verdict::from_events(&events), self.requests);
            let class = self.class_id(outcome);
            Some(vec![Reach {
                class,
                count: 1,
                len: 0,
                via: u32::MAX,
            }])
        } else {
            None
        };
        self.nodes.push(Node {
            legs: ids,
            children: Vec::new(),
            reach,
            local: Vec::new(),
            parents: Vec::new(),
        });
        self.memo.insert(key, id);
        Ok(Seen {
            node: id,
            new: true,
            events,
            legs,
            tab,
        })
    }

    /// The state that delivering `leg` at `node` leads to, known without a
    /// run when it commutes: if `node` was reached from a state S by a leg
    /// b of another lane, and at S both b and `leg` touched only their own
    /// lane (their own events, their own legs, nothing the tab holds), then
    /// neither changed what the other reads, so S·b·leg is S·leg·b, which
    /// may be explored already. tests/explore.rs checks every shortcut
    /// against a real run (`Options::check_shortcuts`).
    fn predict(&self, node: usize, leg: LegId) -> Option<NodeId> {
        for &(parent, via) in &self.nodes[node].parents {
            let s = &self.nodes[parent as usize];
            let b = s.legs[via as usize];
            if b.lane == leg.lane || !s.local[via as usize] {
                continue;
            }
            let Ok(a) = s.legs.binary_search(&leg) else {
                continue;
            };
            if a >= s.children.len() || !s.local[a] {
                continue;
            }
            let x = &self.nodes[s.children[a] as usize];
            let Ok(b_at_x) = x.legs.binary_search(&b) else {
                continue;
            };
            if let Some(&child) = x.children.get(b_at_x) {
                return Some(child);
            }
        }
        None
    }

    /// Records the edge `node` --legs[index]--> `child`.
    fn link(&mut self, node: usize, child: NodeId, local: bool) {
        let index = self.nodes[node].children.len() as u32;
        self.nodes[node].children.push(child);
        self.nodes[node].local.push(local);
        let parents = &mut self.nodes[child as usize].parents;
        if parents.len() < MAX_PARENTS {
            parents.push((node as NodeId, index));
        }
    }

    fn class_id(&mut self, outcome: Outcome) -> ClassId {
        let next = self.outcomes.len() as ClassId;
        *self.outcome_ids.entry(outcome).or_insert_with(|| {
            self.outcomes.push(outcome);
            next
        })
    }

    fn cancelled(&self) -> bool {
        self.options
            .cancel
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
    }

    async fn run(&mut self) -> Result<Exploration, ExploreError> {
        let started = Instant::now();
        let root_prefix = self.settings.deliver.clone();
        let cursor = self.open(&root_prefix).await?;
        let seen = self.observe(&cursor).await?;
        let root = seen.node;
        let mut cursor = Some((cursor, seen));
        let mut stack = vec![Frame { node: root }];
        // The legs from the root to the top frame.
        let mut path: Vec<LegId> = Vec::new();
        let mut cut = None;
        let mut last_report = Instant::now();
        if self.nodes[root as usize].reach.is_some() {
            stack.clear();
        }
        while let Some(top) = stack.last() {
            let node = top.node as usize;
            let explored = self.nodes[node].children.len();
            if explored == self.nodes[node].legs.len() {
                let reach = self.combine(node as NodeId, &HashMap::new())?;
                self.nodes[node].reach = Some(reach);
                stack.pop();
                if !stack.is_empty() {
                    path.pop();
                }
                continue;
            }
            if self.cancelled() {
                return Err(ExploreError::Cancelled);
            }
            if let Some(limit) = self.options.budget {
                if started.elapsed() >= limit {
                    cut = Some(Cut::BudgetSeconds);
                    break;
                }
            }
            if let Some(limit) = self.options.budget_orders {
                if self.partial(&stack)?.0 >= limit {
                    cut = Some(Cut::BudgetOrders);
                    break;
                }
            }
            if let Some(progress) = &self.options.progress {
                if last_report.elapsed() >= Duration::from_millis(100) {
                    last_report = Instant::now();
                    progress(Progress {
                        done: self.done(&stack),
                        states: self.nodes.len() as u64,
                        runs: self.runs,
                    });
                }
            }
            let leg = self.nodes[node].legs[explored];
            let predicted = self.predict(node, leg);
            if let (Some(child), false) = (predicted, self.options.check_shortcuts) {
                self.shortcuts += 1;
                self.link(node, child, true);
                continue;
            }
            let prefix: Vec<LegId> = root_prefix.iter().chain(&path).copied().collect();
            let (mut here, before) = match cursor.take() {
                Some((c, seen)) if c.at == prefix => (c, seen),
                other => {
                    drop(other);
                    let fresh = self.open(&prefix).await?;
                    // A replay must meet the state it replays.
                    let seen = self.observe(&fresh).await?;
                    if seen.node as usize != node {
                        return Err(ExploreError::Diverged {
                            prefix: names(&prefix),
                        });
                    }
                    (fresh, seen)
                }
            };
            if here.run.network.deliver(leg).await.is_err() {
                return Err(ExploreError::Diverged {
                    prefix: names(&prefix),
                });
            }
            here.at.push(leg);
            let seen = self.observe(&here).await?;
            if let Some(expected) = predicted {
                if expected != seen.node {
                    return Err(ExploreError::Diverged {
                        prefix: format!("{} (a shortcut was wrong)", names(&here.at)),
                    });
                }
            }
            let local = state::local(
                (&before.events, &before.legs, &before.tab),
                (&seen.events, &seen.legs, &seen.tab),
                leg,
            );
            self.link(node, seen.node, local);
            if seen.new && self.nodes[seen.node as usize].reach.is_none() {
                stack.push(Frame { node: seen.node });
                path.push(leg);
                cursor = Some((here, seen));
            }
            // Otherwise the run is dropped here, which frees it.
        }
        drop(cursor);
        self.report(root, &stack, cut)
    }

    /// A state's reach from its children's (`partial` stands in for
    /// children still being explored).
    fn combine(
        &self,
        node: NodeId,
        partial: &HashMap<NodeId, Vec<Reach>>,
    ) -> Result<Vec<Reach>, ExploreError> {
        let mut by_class: BTreeMap<ClassId, Reach> = BTreeMap::new();
        for (index, child) in self.nodes[node as usize].children.iter().enumerate() {
            let reach = match partial.get(child) {
                Some(reach) => reach,
                None => match &self.nodes[*child as usize].reach {
                    Some(reach) => reach,
                    None => continue,
                },
            };
            for r in reach {
                let len = r.len + 1;
                let entry = by_class.entry(r.class).or_insert(Reach {
                    class: r.class,
                    count: 0,
                    len: u32::MAX,
                    via: 0,
                });
                entry.count = entry
                    .count
                    .checked_add(r.count)
                    .ok_or(ExploreError::Overflow)?;
                // Children come in leg order: the first shortest wins.
                if len < entry.len {
                    entry.len = len;
                    entry.via = index as u32;
                }
            }
        }
        Ok(by_class.into_values().collect())
    }

    /// Reach of the states on the stack, as far as explored, top first;
    /// returns the root's counted orders and the orders that exist at least.
    fn partial(&self, stack: &[Frame]) -> Result<(u64, u64, Partial), ExploreError> {
        let mut partial: HashMap<NodeId, Vec<Reach>> = HashMap::new();
        let mut lower: HashMap<NodeId, u64> = HashMap::new();
        for frame in stack.iter().rev() {
            let reach = self.combine(frame.node, &partial)?;
            let node = &self.nodes[frame.node as usize];
            let mut least: u64 = (node.legs.len() - node.children.len()) as u64;
            for child in &node.children {
                least = least.saturating_add(match lower.get(child) {
                    Some(n) => *n,
                    None => total(self.nodes[*child as usize].reach.as_deref().unwrap_or(&[])),
                });
            }
            lower.insert(frame.node, least);
            partial.insert(frame.node, reach);
        }
        let root = stack.first().map(|f| f.node);
        let counted = root.and_then(|r| partial.get(&r)).map_or(0, |r| total(r));
        let least = root.and_then(|r| lower.get(&r)).copied().unwrap_or(counted);
        Ok((counted, least, partial))
    }

    /// Share of the tree done: each state's legs weigh alike.
    fn done(&self, stack: &[Frame]) -> f64 {
        let mut done = 0.0;
        let mut weight = 1.0;
        for (depth, frame) in stack.iter().enumerate() {
            let node = &self.nodes[frame.node as usize];
            let n = node.legs.len().max(1) as f64;
            let on_stack = usize::from(depth + 1 < stack.len());
            done += weight * (node.children.len() - on_stack) as f64 / n;
            weight /= n;
        }
        done
    }

    fn reach_of<'r>(
        &'r self,
        node: NodeId,
        partial: &'r HashMap<NodeId, Vec<Reach>>,
    ) -> &'r [Reach] {
        partial
            .get(&node)
            .map(Vec::as_slice)
            .or(self.nodes[node as usize].reach.as_deref())
            .unwrap_or(&[])
    }

    fn report(
        &self,
        root: NodeId,
        stack: &[Frame],
        cut: Option<Cut>,
    ) -> Result<Exploration, ExploreError> {
        let (counted, at_least, partial) = if cut.is_some() {
            self.partial(stack)?
        } else {
            let all = total(self.reach_of(root, &HashMap::new()));
            (all, all, HashMap::new())
        };
        let prefix = &self.settings.deliver;
        let mut classes: Vec<Class> = Vec::new();
        for reach in self.reach_of(root, &partial) {
            let outcome = self.outcomes[reach.class as usize];
            // Walk the shortest order, noting the first state from which
            // every continuation fails.
            let mut shortest = prefix.clone();
            let mut node = root;
            let mut no_return = None;
            let mut lost_from_start = false;
            loop {
                let here = self.reach_of(node, &partial);
                let finished = self.nodes[node as usize].children.len()
                    == self.nodes[node as usize].legs.len()
                    && !partial.contains_key(&node);
                if no_return.is_none() && !lost_from_start && !outcome.ok() && finished {
                    let all_fail = here.iter().all(|r| !self.outcomes[r.class as usize].ok());
                    if all_fail {
                        if node == root {
                            lost_from_start = true;
                        } else {
                            no_return = Some(shortest.len() - 1);
                        }
                    }
                }
                let Some(step) = here.iter().find(|r| r.class == reach.class) else {
                    break;
                };
                if step.via == u32::MAX {
                    break;
                }
                let n = &self.nodes[node as usize];
                shortest.push(n.legs[step.via as usize]);
                node = n.children[step.via as usize];
            }
            // Cut short, "the first delivery after which every continuation
            // fails" cannot be told: earlier states are not all explored.
            let no_return = if cut.is_some() { None } else { no_return };
            classes.push(Class {
                outcome,
                ok: outcome.ok(),
                count: reach.count,
                shortest,
                no_return,
            });
        }
        classes.sort_by(|a, b| {
            b.ok.cmp(&a.ok)
                .then(b.count.cmp(&a.count))
                .then(a.outcome.cmp(&b.outcome))
        });
        let failing = classes.iter().filter(|c| !c.ok).map(|c| c.count).sum();
        let root_node = &self.nodes[root as usize];
        let next = root_node
            .legs
            .iter()
            .zip(&root_node.children)
            .filter_map(|(leg, child)| {
                let reach = self.nodes[*child as usize].reach.as_deref()?;
                Some(NextLeg {
                    leg: *leg,
                    orders: total(reach),
                    failing: reach
                        .iter()
                        .filter(|r| !self.outcomes[r.class as usize].ok())
                        .map(|r| r.count)
                        .sum(),
                })
            })
            .collect();
        Ok(Exploration {
            setup: self.settings.clone(),
            orders: counted,
            exact: cut.is_none(),
            at_least,
            failing,
            classes,
            next,
            states: self.nodes.len() as u64,
            runs: self.runs,
            shortcuts: self.shortcuts,
            cut,
        })
    }
}

/// An estimate of orders in words: "up to N", or "more than 10^19" once
/// it saturates.
pub fn orders_text(orders: u64) -> String {
    if orders == u64::MAX {
        "more than 10^19".into()
    } else {
        format!("up to {orders}")
    }
}

fn total(reach: &[Reach]) -> u64 {
    reach
        .iter()
        .fold(0u64, |acc, r| acc.saturating_add(r.count))
}

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
/// A class of runs that hang has no report to write, and is skipped.
pub async fn save_failing(
    exploration: &Exploration,
    dir: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>, String> {
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let mut paths = Vec::new();
    for (rank, class) in exploration.classes.iter().enumerate() {
        if class.ok || class.outcome.hang {
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
