//! The abstract lab state of a held run between two deliveries: two
//! prefixes with the same state have the same futures, so the explorer
//! explores one and counts the orders of both.
//!
//! A state is read from what the run recorded and shows, never from timing:
//! - the **shared** events, in the order they happened: everything that
//!   writes state more than one lane reads (the server's refresh decisions,
//!   issued and revoked tokens, the token store, the strategies' refreshes
//!   and waits);
//! - each lane's **own** events, in its own order: its requests, their
//!   answers and the server's verdict on them (a read of the shared state
//!   whose result the event carries), which commute with other lanes' own
//!   events;
//! - the legs in flight and what the tab holds (its token, each strategy's
//!   memory).
//!
//! Names the run makes up as it goes (token ids, refresh token names,
//! families) are replaced by their order of first appearance in this
//! encoding, and attempt ids are left out: two runs that differ only in
//! which refresh got which number are the same state. Raw tokens (signed
//! with a key drawn per run) and lab times are left out too: a run's lab
//! clock starts at the wall clock, and a held run's stands still, so every
//! token of a held run has the same times relative to its start.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::protocol::{Lane, LegView, Route, TabView};
use crate::timeline::{Event, EventKind};

/// Fields whose strings are names the run made up.
const NAME_FIELDS: &[&str] = &[
    "jti",
    "new_jti",
    "new_refresh",
    "refresh",
    "fam",
    "token",
    "flight",
    "timer_fired",
];

/// Fields that identify an exchange or a signature, not the state.
const DROPPED_FIELDS: &[&str] = &[
    "attempt",
    "token",
    "iat",
    "exp",
    "refresh_until",
    "lab_now_ms",
];

const SHARED: u32 = u32::MAX;
const LANES: u32 = u32::MAX - 1;
const END_LANE: u32 = u32::MAX - 2;
const LEGS: u32 = u32::MAX - 3;
const TAB: u32 = u32::MAX - 4;

/// Every distinct piece of a state, numbered once, so that a state is a
/// short list of numbers: exact (no hashing), and small enough to keep
/// hundreds of thousands of them.
#[derive(Default)]
pub(super) struct Interner {
    ids: HashMap<String, u32>,
}

impl Interner {
    fn id(&mut self, text: String) -> u32 {
        let next = self.ids.len() as u32;
        *self.ids.entry(text).or_insert(next)
    }
}

/// Canonical names of one state, by first appearance.
#[derive(Default)]
struct Names {
    seen: HashMap<String, usize>,
}

impl Names {
    fn canon(&mut self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, field) in map.iter_mut() {
                    match field {
                        Value::String(name) if NAME_FIELDS.contains(&key.as_str()) => {
                            let next = self.seen.len();
                            let n = *self.seen.entry(name.clone()).or_insert(next);
                            *name = format!("#{n}");
                        }
                        _ => self.canon(field),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.canon(item)),
            _ => {}
        }
    }

    /// `value`'s canonical text: made-up names renumbered, ids dropped.
    fn text<T: serde::Serialize>(&mut self, value: &T, drop_ids: bool) -> String {
        let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
        if let (true, Value::Object(map)) = (drop_ids, &mut value) {
            for field in DROPPED_FIELDS {
                map.remove(*field);
            }
        }
        self.canon(&mut value);
        value.to_string()
    }
}

fn attempt_of(kind: &EventKind) -> Option<u64> {
    match kind {
        EventKind::RequestSent { attempt, .. }
        | EventKind::Response { attempt, .. }
        | EventKind::RefreshSent { attempt, .. }
        | EventKind::RefreshDone { attempt, .. }
        | EventKind::RetrySent { attempt, .. } => Some(*attempt),
        EventKind::Issued { attempt, .. }
        | EventKind::Accepted { attempt, .. }
        | EventKind::Rejected { attempt, .. }
        | EventKind::Rotated { attempt, .. }
        | EventKind::Revoked { attempt, .. } => *attempt,
        _ => None,
    }
}

/// True for an event that only its own lane's future depends on: a
/// request's sends and answers, and the server's verdict on a request that
/// is not a refresh (it reads the revocation store and writes nothing).
fn own(kind: &EventKind) -> bool {
    match kind {
        EventKind::RequestSent { .. }
        | EventKind::Response { .. }
        | EventKind::RetrySent { .. }
        | EventKind::RequestDone { .. } => true,
        EventKind::Accepted { route, .. } | EventKind::Rejected { route, .. } => {
            *route != Route::Refresh && *route != Route::Login
        }
        _ => false,
    }
}

/// The state of a settled run, as a list of numbers from `interner`.
pub(super) fn of(
    events: &[Event],
    legs: &[LegView],
    tab: &TabView,
    interner: &mut Interner,
) -> Vec<u32> {
    // Server events name their exchange by attempt: give them its lane.
    let mut lane_of: HashMap<u64, Lane> = HashMap::new();
    for event in events {
        if let EventKind::RequestSent { attempt, .. }
        | EventKind::RefreshSent { attempt, .. }
        | EventKind::RetrySent { attempt, .. } = &event.kind
        {
            lane_of.insert(*attempt, event.lane);
        }
    }
    let mut shared: Vec<(Lane, &EventKind)> = Vec::new();
    let mut lanes: BTreeMap<Lane, Vec<&EventKind>> = BTreeMap::new();
    for event in events {
        let lane = attempt_of(&event.kind)
            .and_then(|attempt| lane_of.get(&attempt).copied())
            .unwrap_or(event.lane);
        if own(&event.kind) && lane.kind().is_some() {
            lanes.entry(lane).or_default().push(&event.kind);
        } else {
            shared.push((lane, &event.kind));
        }
    }
    let mut names = Names::default();
    let mut state = Vec::with_capacity(events.len() + legs.len() + 8);
    state.push(SHARED);
    for (lane, kind) in shared {
        state.push(interner.id(format!("{lane} {}", names.text(kind, true))));
    }
    state.push(LANES);
    for (lane, kinds) in lanes {
        state.push(interner.id(lane.to_string()));
        for kind in kinds {
            state.push(interner.id(names.text(kind, true)));
        }
        state.push(END_LANE);
    }
    state.push(LEGS);
    let mut legs: Vec<&LegView> = legs.iter().collect();
    legs.sort_by_key(|leg| leg.id);
    for leg in legs {
        let jti = leg.jti.as_ref().map(|jti| {
            let mut value = serde_json::json!({ "jti": jti });
            names.canon(&mut value);
            value["jti"].to_string()
        });
        state.push(interner.id(format!(
            "{} {} {:?} {:?} {:?} {:?}",
            leg.id,
            leg.exchange.as_str(),
            leg.route,
            jti,
            leg.status,
            leg.reason
        )));
    }
    state.push(TAB);
    state.push(interner.id(names.text(tab, false)));
    state
}
