//! The walk: a depth-first search of the tree of orders over real runs,
//! folding prefixes that reach the same state into one node.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{page, state, Cut, Exploration, ExploreError, Options, Outcome, Progress};
use crate::protocol::LegId;
use crate::scenario::{self, LiveRun};
use crate::settings::{CrossTab, RunSettings, Runtime};
use crate::timeline::Recorder;
use crate::verdict::Verdict;

/// Index of a distinct outcome.
pub(super) type ClassId = u32;
/// The reach of states still being explored, as far as they are.
pub(super) type Partial = HashMap<NodeId, Vec<Reach>>;
/// Index of a distinct state.
pub(super) type NodeId = u32;

/// Per outcome reachable from a state: how many continuations end there,
/// and the length and first leg of the shortest one.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reach {
    pub(super) class: ClassId,
    pub(super) count: u64,
    pub(super) len: u32,
    /// Index of the leg (in the state's `legs`) the shortest starts with.
    pub(super) via: u32,
}

pub(super) struct Node {
    /// Legs in flight, in leg order; empty for a finished run.
    pub(super) legs: Vec<LegId>,
    /// The state each leg leads to, as far as explored.
    pub(super) children: Vec<NodeId>,
    /// Filled in once every leg is explored (or at once for an end).
    pub(super) reach: Option<Vec<Reach>>,
    /// Per explored leg: what its delivery changed (see
    /// [`Explorer::predict`]).
    pub(super) foot: Vec<state::Foot>,
    /// Some of the (state, leg index) edges that lead here.
    pub(super) parents: Vec<(NodeId, u32)>,
}

/// What a settled run showed: its state's node and the raw parts the
/// state was read from.
pub(super) struct Seen {
    pub(super) node: NodeId,
    pub(super) new: bool,
    pub(super) events: Vec<crate::timeline::Event>,
    pub(super) legs: Vec<crate::protocol::views::LegView>,
    pub(super) tab: crate::protocol::views::TabView,
}

/// Parents kept per state: enough to find a commuting pair.
const MAX_PARENTS: usize = 16;

/// A live run at a known prefix, with its recorder.
pub(super) struct Cursor {
    pub(super) run: LiveRun,
    pub(super) recorder: Recorder,
    pub(super) at: Vec<LegId>,
    /// A browser-runtime run's place (its tabs run in the page while it lives).
    pub(super) _attached: Option<page::Attached>,
}

pub(super) struct Explorer<'a> {
    pub(super) settings: RunSettings,
    pub(super) options: &'a Options,
    pub(super) requests: u32,
    pub(super) interner: state::Interner,
    pub(super) memo: HashMap<Vec<u32>, NodeId>,
    pub(super) nodes: Vec<Node>,
    pub(super) outcomes: Vec<Outcome>,
    pub(super) outcome_ids: HashMap<Outcome, ClassId>,
    pub(super) runs: u64,
    /// Edges known without a run (commuting deliveries).
    pub(super) shortcuts: u64,
    /// What the client's failure said, per state where it failed.
    pub(super) errors: HashMap<NodeId, String>,
}

/// One frame of the depth-first walk: a state being explored.
pub(super) struct Frame {
    pub(super) node: NodeId,
}
impl<'a> Explorer<'a> {
    pub(super) fn new(settings: RunSettings, options: &'a Options, requests: u32) -> Self {
        Explorer {
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
            errors: HashMap::new(),
        }
    }

    async fn open(&mut self, prefix: &[LegId]) -> Result<Cursor, ExploreError> {
        self.runs += 1;
        let recorder = Recorder::new();
        let settings = RunSettings {
            deliver: prefix.to_vec(),
            ..self.settings.clone()
        };
        let (run, attached) = match &self.options.page {
            Some(tell) if settings.runtime == Runtime::Browser => {
                let (run, attached) = page::open(&settings, recorder.clone(), tell).await?;
                (run, Some(attached))
            }
            _ => (scenario::start(&settings, recorder.clone()).await?, None),
        };
        Ok(Cursor {
            run,
            recorder,
            at: prefix.to_vec(),
            _attached: attached,
        })
    }

    /// A module in the page keeps a memory the lab cannot read: its runs
    /// are told apart by the order in which their tabs got answers too.
    fn opaque(&self) -> bool {
        self.settings.runtime == Runtime::Browser
    }

    /// Reads the settled run's state: its node (new or met before).
    async fn observe(&mut self, cursor: &Cursor) -> Result<Seen, ExploreError> {
        if self.opaque() {
            tokio::time::timeout(page::PAGE_SETTLE_TIMEOUT, cursor.run.network.settled())
                .await
                .map_err(|_| page::not_settled(&cursor.at))?;
        } else {
            cursor.run.network.settled().await;
        }
        let events = cursor.recorder.events();
        let legs = cursor.run.network.legs();
        let tab = cursor.run.client.tab_view();
        // A client in the page that failed ended its run here: the legs
        // still in flight are never delivered.
        let failure = match &cursor.run.client {
            scenario::Side::Page(page) => page.failure(),
            _ => None,
        };
        let reasons = match self.opaque() {
            true => state::Reasons::All,
            false => state::Reasons::OfRefreshesOnly,
        };
        let mut key = state::of(&events, &legs, &tab, reasons, &mut self.interner);
        if self.opaque() {
            state::answers_heard(&cursor.at, &mut key, &mut self.interner);
        }
        if failure.is_some() {
            state::failed(&mut key);
        }
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
        let mut ids: Vec<LegId> = match failure {
            Some(_) => Vec::new(),
            None => legs.iter().map(|leg| leg.id).collect(),
        };
        ids.sort();
        let reach = if ids.is_empty() {
            let verdict = Verdict::from_events(&events);
            let outcome = match &failure {
                Some(message) => {
                    self.errors.insert(id, message.clone());
                    Outcome::failed(&verdict)
                }
                None => Outcome::of(&verdict, self.requests),
            };
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
            foot: Vec::new(),
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

    /// The state that delivering `leg` at `node` leads to, and what that
    /// delivery changes, known without a run when it commutes: if `node`
    /// was reached from a state S by a leg b of another lane, and at S
    /// neither b nor `leg` changed what the other reads or writes
    /// ([`state::independent`]), then S·b·leg is S·leg·b, which may be
    /// explored already, and `leg` does at S·b what it did at S.
    /// tests/it/explore.rs checks every shortcut against a real run
    /// (`Options::check_shortcuts`).
    fn predict(&self, node: usize, leg: LegId) -> Option<(NodeId, state::Foot)> {
        for &(parent, via) in &self.nodes[node].parents {
            let s = &self.nodes[parent as usize];
            let b = s.legs[via as usize];
            let Ok(a) = s.legs.binary_search(&leg) else {
                continue;
            };
            if a >= s.children.len()
                || !state::independent((leg, s.foot[a]), (b, s.foot[via as usize]))
            {
                continue;
            }
            let x = &self.nodes[s.children[a] as usize];
            let Ok(b_at_x) = x.legs.binary_search(&b) else {
                continue;
            };
            if let Some(&child) = x.children.get(b_at_x) {
                return Some((child, s.foot[a]));
            }
        }
        None
    }

    /// Records the edge `node` --legs[index]--> `child`.
    fn link(&mut self, node: usize, child: NodeId, foot: state::Foot) {
        let index = self.nodes[node].children.len() as u32;
        self.nodes[node].children.push(child);
        self.nodes[node].foot.push(foot);
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

    pub(super) async fn run(&mut self) -> Result<Exploration, ExploreError> {
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
            if let (Some((child, foot)), false) = (predicted, self.options.check_shortcuts) {
                self.shortcuts += 1;
                self.link(node, child, foot);
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
            let delivered = if self.opaque() {
                tokio::time::timeout(page::PAGE_SETTLE_TIMEOUT, here.run.network.deliver(leg))
                    .await
                    .map_err(|_| page::not_settled(&[here.at.as_slice(), &[leg]].concat()))?
            } else {
                here.run.network.deliver(leg).await
            };
            if delivered.is_err() {
                return Err(ExploreError::Diverged {
                    prefix: names(&prefix),
                });
            }
            here.at.push(leg);
            let seen = self.observe(&here).await?;
            // A module in the page keeps a memory the lab cannot read: there
            // only deliveries that touch nothing but their own lane, and no
            // answer it heard, commute.
            let mut foot = state::footprint(
                (&before.events, &before.legs, &before.tab),
                (&seen.events, &seen.legs, &seen.tab),
                leg,
            );
            if self.opaque() && (state::heard(leg) || !foot.local()) {
                foot = state::Foot::ALL;
            }
            // The tabs' shared lock is taken without a trace when it is
            // free: an answer may have taken it.
            if self.settings.cross_tab != CrossTab::None && state::heard(leg) {
                foot.tab = true;
            }
            if let Some(expected) = predicted {
                if expected != (seen.node, foot) {
                    return Err(ExploreError::Diverged {
                        prefix: format!("{} (a shortcut was wrong)", names(&here.at)),
                    });
                }
            }
            self.link(node, seen.node, foot);
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
}

/// `secret#1>,secret#1<`, for the divergence messages.
fn names(legs: &[LegId]) -> String {
    super::names(legs)
}
