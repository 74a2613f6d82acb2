//! The counting: each state's reach (per outcome, how many continuations
//! and the shortest), and the exploration read off the root.

use std::collections::{BTreeMap, HashMap};

use super::walk::{ClassId, Explorer, Frame, NodeId, Partial, Reach};
use super::{Class, Cut, Exploration, ExploreError, NextLeg};

impl Explorer<'_> {
    /// A state's reach from its children's (`partial` stands in for
    /// children still being explored).
    pub(super) fn combine(
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
    pub(super) fn partial(&self, stack: &[Frame]) -> Result<(u64, u64, Partial), ExploreError> {
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
    pub(super) fn done(&self, stack: &[Frame]) -> f64 {
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

    pub(super) fn report(
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
                // The walk above ends on the shortest order's last state.
                error: self.errors.get(&node).cloned(),
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

pub(super) fn total(reach: &[Reach]) -> u64 {
    reach
        .iter()
        .fold(0u64, |acc, r| acc.saturating_add(r.count))
}
