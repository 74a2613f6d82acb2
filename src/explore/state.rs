//! The abstract lab state of a held run between two deliveries: two
//! prefixes with the same state have the same futures, so the explorer
//! explores one and counts the orders of both.
//!
//! A state is read from what the run recorded and shows, never from timing:
//! - the events of the two shared objects, each in the order it was
//!   written: the auth server's (issued, decided and revoked tokens) and
//!   the tab's token store;
//! - each lane's own events, in its own order: its requests, their answers
//!   and the server's verdict on them (a read whose result the event
//!   carries), its refresh calls and waits. Events of different lanes and
//!   objects commute, so their interleaving is not part of the state;
//! - the legs in flight and what the tab holds (its token, each strategy's
//!   memory).
//!
//! Names the run makes up as it goes (token ids, refresh token names,
//! families) are replaced by their order of first appearance in this
//! encoding, and attempt ids are left out: two runs that differ only in
//! which refresh got which number are the same state. Raw tokens (signed
//! with a key drawn per run) and lab times are left out too: a run's lab
//! clock starts at the wall clock, and a held run's stands still, so every
//! token of a held run has the same times relative to its start. So is,
//! for the engine's clients, the reason a request (not a refresh) was
//! refused: they act on its 401 alike ([`Reasons`]).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::protocol::views::{LegView, TabView};
use crate::protocol::{Direction, Lane, LaneKind, LegId, Route};
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

const SERVER: u32 = u32::MAX;
const LANES: u32 = u32::MAX - 1;
const END_LANE: u32 = u32::MAX - 2;
const LEGS: u32 = u32::MAX - 3;
const TAB: u32 = u32::MAX - 4;
const STORE: u32 = u32::MAX - 5;
const HEARD: u32 = u32::MAX - 6;
const FAILED: u32 = u32::MAX - 7;

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

    /// `value`'s canonical text: made-up names renumbered, `dropped`
    /// fields left out.
    fn text<T: serde::Serialize>(&mut self, value: &T, dropped: &[&str]) -> String {
        let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            for field in dropped {
                map.remove(*field);
            }
        }
        self.canon(&mut value);
        value.to_string()
    }

    /// An event's canonical text.
    fn event(&mut self, kind: &EventKind, reasons: Reasons) -> String {
        if reasons == Reasons::OfRefreshesOnly && refuses_a_request(kind) {
            let dropped: Vec<&str> = DROPPED_FIELDS.iter().copied().chain(["reason"]).collect();
            return self.text(kind, &dropped);
        }
        self.text(kind, DROPPED_FIELDS)
    }
}

/// Which refusal reasons a state keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reasons {
    /// Every one: a module in the page may read the reason of any answer.
    All,
    /// Only the refreshes': the engine's clients act on a request's 401
    /// whatever its reason (expired, or revoked because a refresh spent
    /// the token meanwhile), and the outcome counts only refusals of
    /// refreshes, so two states that differ only there have the same
    /// futures.
    OfRefreshesOnly,
}

/// A request's refusal (not a refresh's) or its answer.
fn refuses_a_request(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Response {
            route: Route::Secret | Route::Public,
            ..
        } | EventKind::Rejected {
            route: Route::Secret | Route::Public,
            ..
        }
    )
}

/// Where an event's effect lives. The run's shared state is two objects,
/// each written in an order that matters: the auth server's (tokens issued,
/// refreshes decided, tokens revoked) and the tab's token store. Everything
/// else a lane records is its own progress: its requests and their answers,
/// the server's verdict on a request that is not a refresh (a read of the
/// server's state whose result the event carries), its refresh calls and
/// waits (the strategies' memory they change is read from the tab itself).
enum Place {
    Server,
    Store,
    Lane,
}

fn place(kind: &EventKind) -> Place {
    match kind {
        EventKind::Accepted { route, .. } | EventKind::Rejected { route, .. } => match route {
            Route::Refresh | Route::Login => Place::Server,
            Route::Secret | Route::Public => Place::Lane,
        },
        EventKind::Issued { .. }
        | EventKind::Rotated { .. }
        | EventKind::Revoked { .. }
        | EventKind::ClockAdvanced { .. } => Place::Server,
        // The tab's lifecycle touches every lane of a tab at once: never a
        // delivery that commutes with others.
        EventKind::Woke { .. }
        | EventKind::TabClosed { .. }
        | EventKind::TabFrozen { .. }
        | EventKind::Hang { .. } => Place::Server,
        EventKind::TokenStored { .. } | EventKind::LoggedOut { .. } => Place::Store,
        EventKind::RequestSent { .. }
        | EventKind::Response { .. }
        | EventKind::RetrySent { .. }
        | EventKind::RequestDone { .. }
        | EventKind::Queued { .. }
        | EventKind::RefreshSent { .. }
        | EventKind::RefreshDone { .. } => Place::Lane,
    }
}

/// Server events name their exchange by attempt: the lane of each attempt.
fn lanes_of(events: &[Event]) -> HashMap<u64, Lane> {
    let mut lane_of = HashMap::new();
    for event in events {
        if let EventKind::RequestSent { attempt, .. }
        | EventKind::RefreshSent { attempt, .. }
        | EventKind::RetrySent { attempt, .. } = &event.kind
        {
            lane_of.insert(*attempt, event.lane);
        }
    }
    lane_of
}

/// The lane an event belongs to: its exchange's, for the server's.
fn owner(lane_of: &HashMap<u64, Lane>, event: &Event) -> Lane {
    event
        .kind
        .attempt()
        .and_then(|attempt| lane_of.get(&attempt).copied())
        .unwrap_or(event.lane)
}

/// What one delivery changed, read off the run before and after it: the
/// shared objects it wrote, and whether it touched a lane other than its
/// own. Two deliveries of different lanes commute when neither wrote what
/// the other reads or writes ([`independent`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Foot {
    /// It wrote the auth server's state (issued, decided, revoked tokens).
    pub(super) server: bool,
    /// It wrote what the tab holds: the token store or a strategy's memory.
    pub(super) tab: bool,
    /// It touched another lane (its events or its legs), or the run's
    /// lifecycle or clock: it commutes with nothing.
    pub(super) others: bool,
}

impl Foot {
    /// Touched nothing but its own lane.
    pub(super) const LOCAL: Foot = Foot {
        server: false,
        tab: false,
        others: false,
    };
    /// Commutes with nothing.
    pub(super) const ALL: Foot = Foot {
        server: true,
        tab: true,
        others: true,
    };

    pub(super) fn local(self) -> bool {
        self == Foot::LOCAL
    }
}

/// What delivering `leg` changed (from `before` to `after`: events, legs
/// in flight, tab): the server if it recorded server events, the tab if
/// the store changed or the tab shows something else, other lanes if an
/// event of another lane was recorded or another lane's legs changed.
pub(super) fn footprint(
    before: (&[Event], &[LegView], &TabView),
    after: (&[Event], &[LegView], &TabView),
    leg: LegId,
) -> Foot {
    let lane = leg.lane;
    if after.0.len() < before.0.len() {
        return Foot::ALL;
    }
    let mut foot = Foot {
        tab: before.2 != after.2,
        ..Foot::LOCAL
    };
    let others = |legs: &[LegView]| -> Vec<LegView> {
        legs.iter().filter(|l| l.lane != lane).cloned().collect()
    };
    if others(before.1) != others(after.1) {
        foot.others = true;
    }
    let lane_of = lanes_of(after.0);
    for event in &after.0[before.0.len()..] {
        match place(&event.kind) {
            Place::Server => foot.server = true,
            Place::Store => foot.tab = true,
            Place::Lane => foot.others |= owner(&lane_of, event) != lane,
        }
        // The lifecycle and the lab clock reach every lane.
        foot.others |= matches!(
            event.kind,
            EventKind::Woke { .. }
                | EventKind::TabClosed { .. }
                | EventKind::TabFrozen { .. }
                | EventKind::Hang { .. }
                | EventKind::ClockAdvanced { .. }
        );
    }
    foot
}

/// The shared objects delivering `leg` reads, (server, tab): a leg to the
/// server (or a non-atomic commit) runs the handler, which reads the
/// server's state; an answer to the client wakes the lane's code, which
/// reads what the tab holds. A public request reads neither: its handler
/// answers the same to everyone, and its answer only ends its lane.
fn reads(leg: LegId) -> (bool, bool) {
    if leg.lane.kind() == Some(LaneKind::Public) {
        return (false, false);
    }
    let to_client = leg.direction == Direction::ToClient;
    (!to_client, to_client)
}

/// True when `a` and `b`, each delivered at the same state with the
/// footprint it had there, commute: delivered in either order they reach
/// the same state. Each reads its own lane and what [`reads`] says; if
/// neither wrote what the other reads or writes, neither changed the
/// other's effect, and their writes land on different objects, whose
/// orders the state keeps apart.
pub(super) fn independent(a: (LegId, Foot), b: (LegId, Foot)) -> bool {
    let ((a, fa), (b, fb)) = (a, b);
    if a.lane == b.lane || fa.others || fb.others {
        return false;
    }
    // (server, tab) each reads or writes.
    let touches = |leg: LegId, foot: Foot| {
        let (server, tab) = reads(leg);
        (foot.server || server, foot.tab || tab)
    };
    let (server_a, tab_a) = touches(a, fa);
    let (server_b, tab_b) = touches(b, fb);
    !(fa.server && server_b || fa.tab && tab_b || fb.server && server_a || fb.tab && tab_a)
}

/// The state of a settled run, as a list of numbers from `interner`.
pub(super) fn of(
    events: &[Event],
    legs: &[LegView],
    tab: &TabView,
    reasons: Reasons,
    interner: &mut Interner,
) -> Vec<u32> {
    let lane_of = lanes_of(events);
    let mut server: Vec<(Lane, &EventKind)> = Vec::new();
    let mut store: Vec<&EventKind> = Vec::new();
    let mut lanes: BTreeMap<Lane, Vec<&EventKind>> = BTreeMap::new();
    for event in events {
        let lane = owner(&lane_of, event);
        match place(&event.kind) {
            Place::Server => server.push((lane, &event.kind)),
            Place::Store => store.push(&event.kind),
            Place::Lane if lane.kind().is_some() => {
                lanes.entry(lane).or_default().push(&event.kind);
            }
            Place::Lane => server.push((lane, &event.kind)),
        }
    }
    let mut names = Names::default();
    let mut state = Vec::with_capacity(events.len() + legs.len() + 8);
    state.push(SERVER);
    for (lane, kind) in server {
        state.push(interner.id(format!("{lane} {}", names.event(kind, reasons))));
    }
    state.push(STORE);
    for kind in store {
        state.push(interner.id(names.event(kind, reasons)));
    }
    state.push(LANES);
    for (lane, kinds) in lanes {
        state.push(interner.id(lane.to_string()));
        for kind in kinds {
            state.push(interner.id(names.event(kind, reasons)));
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
        let request = matches!(leg.route, Route::Secret | Route::Public);
        let reason = leg
            .reason
            .filter(|_| !(request && reasons == Reasons::OfRefreshesOnly));
        state.push(interner.id(format!(
            "{} {} {:?} {:?} {:?} {:?}",
            leg.id,
            leg.exchange.as_str(),
            leg.route,
            jti,
            leg.status,
            reason
        )));
    }
    state.push(TAB);
    state.push(interner.id(names.text(tab, &[])));
    state
}

/// A delivery the tabs hear: an answer coming back (a request reaching the
/// server, or a refresh committing, only the server sees).
pub(super) fn heard(leg: LegId) -> bool {
    leg.direction == Direction::ToClient
}

/// Appends to `state` the answers the tabs heard, in the order they heard
/// them (from the run's deliveries `delivered`). A module in the page keeps
/// a memory the lab cannot read, built from what it heard in that order:
/// with it in the state, two runs merge only when their tabs heard the
/// same things in the same order, whatever the server got meanwhile.
pub(super) fn answers_heard(delivered: &[LegId], state: &mut Vec<u32>, interner: &mut Interner) {
    state.push(HEARD);
    for leg in delivered.iter().filter(|leg| heard(**leg)) {
        state.push(interner.id(leg.to_string()));
    }
}

/// Marks `state` as one where the client failed (its run ended there).
pub(super) fn failed(state: &mut Vec<u32>) {
    state.push(FAILED);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(n: u32, direction: Direction) -> LegId {
        LegId {
            lane: Lane::request(LaneKind::Secret, n),
            direction,
        }
    }

    const SERVER_WRITE: Foot = Foot {
        server: true,
        ..Foot::LOCAL
    };
    const TAB_WRITE: Foot = Foot {
        tab: true,
        ..Foot::LOCAL
    };

    #[test]
    fn deliveries_that_touch_only_their_own_lane_commute() {
        for (a, b) in [
            (Direction::ToServer, Direction::ToServer),
            (Direction::ToServer, Direction::ToClient),
            (Direction::ToClient, Direction::ToClient),
        ] {
            assert!(independent(
                (leg(1, a), Foot::LOCAL),
                (leg(2, b), Foot::LOCAL)
            ));
        }
        // One lane's legs never commute with each other.
        assert!(!independent(
            (leg(1, Direction::ToServer), Foot::LOCAL),
            (leg(1, Direction::ToClient), Foot::LOCAL)
        ));
    }

    #[test]
    fn a_write_commutes_only_with_deliveries_that_do_not_read_it() {
        let refresh_at_server = (leg(1, Direction::ToServer), SERVER_WRITE);
        let refresh_answer = (leg(1, Direction::ToClient), TAB_WRITE);
        // A request reaching the server reads what a refresh there wrote.
        let request = (leg(2, Direction::ToServer), Foot::LOCAL);
        assert!(!independent(refresh_at_server, request));
        // An answer to another lane reads the tab, not the server.
        let answer = (leg(2, Direction::ToClient), Foot::LOCAL);
        assert!(independent(refresh_at_server, answer));
        // A stored token is read by every answer, never by the server.
        assert!(!independent(refresh_answer, answer));
        assert!(independent(refresh_answer, request));
        // Two writers of the same object keep their order.
        let other_refresh = (leg(2, Direction::ToServer), SERVER_WRITE);
        assert!(!independent(refresh_at_server, other_refresh));
        let other_store = (leg(2, Direction::ToClient), TAB_WRITE);
        assert!(!independent(refresh_answer, other_store));
        // A public request reads nothing shared.
        let public = LegId {
            lane: Lane::request(LaneKind::Public, 1),
            direction: Direction::ToServer,
        };
        assert!(independent(refresh_at_server, (public, Foot::LOCAL)));
        // Whatever touched another lane commutes with nothing.
        assert!(!independent(
            (leg(2, Direction::ToClient), Foot::ALL),
            refresh_at_server
        ));
    }
}
