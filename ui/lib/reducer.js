// Event list → view state. No DOM: tested with `node --test`.
// Messages here; one timeline event in reduce-event.js.
//
// The lab streams NDJSON messages (docs/lab-api.md): `start`, then one
// `event` per timeline event in `seq` order (with its narration, `caption`),
// `network` while the run is held, then `done` (or `error`, `abandoned`).
// The reducer folds them into what the timeline draws: per lane, one attempt per
// HTTP exchange (`attempt` id) with start/end, kind, status, token and
// reason; waiting ("queued") segments; the server's and the token store's
// markers; the token table (jti → claims and the raw JWT); and the live
// tally, counted the way the engine's verdict counts (src/verdict.rs); the
// network's legs in flight, the delivery order and the challenges solved.
// Events are drawn on the run's view clock (lib/view-clock.js): wall time,
// except that it stands still while the run is held.
//
// It mutates the state it is given (a 10,000-request run streams ~60,000
// events; copying per event would be quadratic). Views compare what they
// would draw, not the state, to know what to repaint.

import { createViewClock, clockStart, clockEvent, clockNetwork, clockStop, clockNowUs } from './view-clock.js';
import { applyEvent, setLab } from './reduce-event.js';

// This module is the public entry: the state's queries and the inspector's
// token notes live in their own files and are re-exported from here.
export { laneGroups, orderedLanes, revokedBy, attemptRevoked, storeDeaths, laneOutcome, verdictKind, verdictView } from './run-queries.js';
export { labNowMs, tokenCountdowns, decodedToken, tokenKindNote } from './token-notes.js';

/**
 * The engine's verdict without its sentence, with the engine's field names,
 * so a test can hold the live tally against a recorded verdict key by key.
 */
function emptyTally() {
  return {
    requests: 0,
    ok: 0,
    failed: 0,
    secret_ok: 0,
    secret_failed: 0,
    public_ok: 0,
    public_failed: 0,
    refresh_calls: 0,
    refresh_ok: 0,
    refresh_rejected: 0,
    refresh_accepted_by_server: 0,
    rejected_reasons: {},
    logouts: 0,
    tokens_issued: 0,
    family_revoked: 0,
    race: false,
    final_jti: null,
  };
}

/** Empty state for one run (one timeline). */
export function createRunState({ strategy = null, policy = null, settings = null } = {}) {
  return {
    status: 'idle', // idle | running | done | error | aborted | abandoned
    run: null, // the lab's id of a live run (for network commands)
    strategy,
    policy,
    settings,
    lanes: new Map(), // name → lane
    attempts: new Map(), // attempt id → attempt
    server: [], // server lane markers
    client: [], // client lane markers (token store)
    tokens: new Map(), // jti → claims from `issued`
    tokenOrder: [], // jti in issue order
    events: [], // every event, in order (for the log), at its drawn time
    captions: [], // the narration of each event (null when the stream had none)
    network: null, // the latest NetworkView of the stream while the run is live
    networkSeq: 0, // how many `network` messages arrived
    delivered: [], // a held run's delivery order (leg ids)
    solved: [], // challenge ids the finished run reached
    clock: createViewClock(),
    tally: emptyTally(),
    presented: new Set(), // tokens presented to /api/refresh: the race is more calls than these
    lanesStarted: 0, // request lanes that sent their first request
    familyRevoked: false,
    revocations: new Map(), // jti → [{ tUs, cause, attempt }] in time order
    maxUs: 0,
    lab: null, // { labMs, atMs }: lab clock reading and when (local ms) it arrived
    verdict: null,
    error: null,
    drops: [], // refresh answers lost: [{ lost, at }]
    _lanes: null, // laneGroups' sorted lanes
  };
}

/**
 * Applies one stream message. `receivedAtMs` is the local clock (e.g.
 * performance.now()) when it arrived; it anchors the lab clock so countdowns
 * can run between messages.
 */
export function applyMessage(state, message, receivedAtMs = 0) {
  if (!message || typeof message !== 'object') return state;
  switch (message.type) {
    case 'start':
      state.status = 'running';
      if (message.settings) {
        state.settings = message.settings;
        state.strategy = message.settings.strategy ?? state.strategy;
        state.policy = message.settings.policy ?? state.policy;
      }
      if (message.run != null) state.run = message.run;
      clockStart(state.clock, { atMs: receivedAtMs, speed: state.settings && state.settings.speed });
      setLab(state, message.lab_now_ms, receivedAtMs);
      break;
    case 'event': {
      const ev = message.event;
      if (!ev || typeof ev !== 'object' || typeof ev.kind !== 'string') break;
      const tUs = typeof ev.t_us === 'number' ? clockEvent(state.clock, ev, receivedAtMs) : ev.t_us;
      applyEvent(state, tUs === ev.t_us ? ev : { ...ev, t_us: tUs }, receivedAtMs);
      state.captions.push(typeof message.caption === 'string' && message.caption ? message.caption : null);
      break;
    }
    case 'network':
      // Only while live: a late view must not reopen a finished run.
      if (!isLive(state) || !message.network || typeof message.network !== 'object') break;
      state.network = message.network;
      state.networkSeq += 1;
      if (Array.isArray(message.network.delivered)) state.delivered = message.network.delivered;
      // Answers lost by hand, each with the delivery count it happened at (for undo).
      for (const lost of Array.isArray(message.network.dropped) ? message.network.dropped : []) {
        if (!state.drops.some((d) => d.lost === lost)) state.drops.push({ lost, at: state.delivered.length });
      }
      clockNetwork(state.clock, message.network, receivedAtMs);
      break;
    case 'done':
      state.status = 'done';
      state.verdict = message.verdict ?? null;
      if (Array.isArray(message.delivered)) state.delivered = message.delivered;
      state.solved = Array.isArray(message.solved) ? message.solved : [];
      endNetwork(state);
      setLab(state, message.lab_now_ms, receivedAtMs);
      break;
    case 'error':
      state.status = 'error';
      state.error = message.message || 'the run failed';
      endNetwork(state);
      break;
    case 'abandoned':
      state.status = 'abandoned';
      state.error = message.message || 'the held run was abandoned';
      endNetwork(state);
      break;
    default:
      break; // unknown message types are ignored (forward compatible)
  }
  return state;
}

/** Folds a whole message list (a saved run, or a test fixture). */
export function reduceMessages(messages, init = {}) {
  const state = createRunState(init);
  for (const message of messages) applyMessage(state, message, 0);
  return state;
}

/** True while the run's stream is live (started or about to). */
export function isLive(state) {
  return state.status === 'running' || state.status === 'idle';
}

/** True while the run is live and its network holds (step, hand, paused). */
export function isHeld(state) {
  return isLive(state) && !!(state.network && state.network.paused);
}

function endNetwork(state) {
  state.network = null;
  clockStop(state.clock);
}

/** Where the now-cursor stands at local `nowMs` (µs on the run's view clock). */
export function viewNowUs(state, nowMs) {
  return clockNowUs(state.clock, nowMs);
}

/**
 * The narration of event `index` (the latest event's when `index` is
 * null): `{ index, text }`, or null before any event. Events without a
 * sentence (older recordings) are skipped when looking for the latest.
 */
export function captionAt(state, index = null) {
  const captions = state.captions;
  if (index != null) {
    if (index < 0 || index >= state.events.length) return null;
    return { index, text: captions[index] ?? null };
  }
  for (let i = captions.length - 1; i >= 0; i--) if (captions[i]) return { index: i, text: captions[i] };
  return null;
}
