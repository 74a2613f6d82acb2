// Event list → view state. No DOM: tested with `node --test`.
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

import { splitLanes, parseLane, tabGroups } from './layout.js';
import { decodeJwt } from './token-life.js';
import { createViewClock, clockStart, clockEvent, clockNetwork, clockStop, clockNowUs } from './view-clock.js';

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

function setLab(state, labNowMs, atMs) {
  if (typeof labNowMs === 'number' && Number.isFinite(labNowMs)) {
    state.lab = { labMs: labNowMs, atMs };
  }
}

function ensureLane(state, name) {
  let lane = state.lanes.get(name);
  if (!lane) {
    lane = { name, attempts: [], queued: [], done: null, requested: false };
    state.lanes.set(name, lane);
  }
  return lane;
}

function openAttempt(state, ev, kind) {
  const lane = ensureLane(state, ev.lane);
  const id = ev.attempt ?? `${ev.lane}@${ev.seq}`;
  const attempt = {
    id,
    lane: ev.lane,
    kind,
    route: ev.route ?? (kind === 'refresh' ? '/api/refresh' : null),
    startUs: ev.t_us,
    endUs: null,
    status: 'pending',
    jti: ev.jti ?? null,
    newJti: null,
    reason: null,
    decidedUs: null,
    accepted: false,
  };
  state.attempts.set(id, attempt);
  lane.attempts.push(attempt);
  closeQueued(lane, ev.t_us);
  return attempt;
}

function closeAttempt(state, ev) {
  let attempt = state.attempts.get(ev.attempt);
  if (!attempt) {
    // An answer without its `*_sent` (should not happen): draw it as an
    // instant so nothing is lost.
    const kind = ev.kind === 'refresh_done' ? 'refresh' : 'request';
    attempt = openAttempt(state, { ...ev, attempt: ev.attempt ?? undefined }, kind);
  }
  attempt.endUs = ev.t_us;
  attempt.status = typeof ev.status === 'number' ? ev.status : attempt.status;
  if (ev.reason != null) attempt.reason = ev.reason;
  if (ev.jti != null && attempt.jti == null) attempt.jti = ev.jti;
  if (ev.new_jti != null) attempt.newJti = ev.new_jti;
  return attempt;
}

function closeQueued(lane, tUs) {
  const open = lane.queued[lane.queued.length - 1];
  if (open && open.endUs == null) open.endUs = tUs;
}

/** Applies one timeline event (the `event` of an `event` message). */
function applyEvent(state, ev, receivedAtMs = 0) {
  state.events.push(ev);
  if (typeof ev.t_us === 'number' && ev.t_us > state.maxUs) state.maxUs = ev.t_us;
  const tally = state.tally;
  switch (ev.kind) {
    case 'request_sent': {
      const lane = ensureLane(state, ev.lane);
      if (!lane.requested) {
        lane.requested = true;
        state.lanesStarted += 1;
      }
      openAttempt(state, ev, 'request');
      break;
    }
    case 'retry_sent':
      openAttempt(state, ev, 'retry');
      break;
    case 'refresh_sent':
      tally.refresh_calls += 1;
      state.presented.add(ev.jti ?? null);
      tally.race = tally.refresh_calls > state.presented.size;
      openAttempt(state, ev, 'refresh');
      break;
    case 'response':
      closeAttempt(state, ev);
      break;
    case 'refresh_done': {
      const attempt = closeAttempt(state, ev);
      if (attempt.status === 200) tally.refresh_ok += 1;
      // The answer never arrived: counted apart, as the engine does (key only when it happened).
      else if (ev.reason === 'transport') tally.refresh_lost = (tally.refresh_lost ?? 0) + 1;
      else tally.refresh_rejected += 1;
      break;
    }
    case 'queued': {
      const lane = ensureLane(state, ev.lane);
      closeQueued(lane, ev.t_us);
      lane.queued.push({ startUs: ev.t_us, endUs: null, jti: ev.jti ?? null });
      break;
    }
    case 'request_done': {
      const lane = ensureLane(state, ev.lane);
      closeQueued(lane, ev.t_us);
      lane.done = { tUs: ev.t_us, ok: !!ev.ok, status: ev.status ?? null };
      // As the engine counts: public lanes apart, every other lane is secret.
      const side = parseLane(ev.lane).group === 'public' ? 'public' : 'secret';
      tally.requests += 1;
      tally[`${side}_${ev.ok ? 'ok' : 'failed'}`] += 1;
      tally.ok = tally.secret_ok + tally.public_ok;
      tally.failed = tally.secret_failed + tally.public_failed;
      break;
    }
    case 'token_stored':
      ensureLane(state, ev.lane || 'client');
      tally.final_jti = ev.jti ?? null;
      state.client.push(marker(ev));
      break;
    // The tab's lifecycle: counted the way the engine's verdict counts them
    // (its JSON leaves them out while none happened).
    case 'tab_closed':
      tally.abandoned = (tally.abandoned ?? 0) + (ev.abandoned || []).length;
      state.client.push(marker(ev));
      break;
    case 'tab_frozen':
      tally.frozen = (tally.frozen ?? 0) + (ev.stuck || []).length;
      state.client.push(marker(ev));
      break;
    case 'woke':
      state.client.push(marker(ev));
      break;
    case 'hang':
      tally.hang = true;
      tally.hang_on = `${(ev.waiting || []).join(', ')} wait for ${ev.on}`;
      state.client.push(marker(ev));
      break;
    case 'logged_out':
      ensureLane(state, ev.lane || 'client');
      tally.logouts += 1;
      tally.final_jti = null;
      // Several tabs: the tab whose refused refresh cleared the shared store first.
      if (ev.tab != null && tally.logged_out_by == null) tally.logged_out_by = ev.tab;
      state.client.push(marker(ev));
      break;
    case 'issued': {
      ensureLane(state, ev.lane || 'server');
      if (!state.tokens.has(ev.jti)) state.tokenOrder.push(ev.jti);
      state.tokens.set(ev.jti, {
        jti: ev.jti,
        fam: ev.fam ?? null,
        sub: ev.sub ?? null,
        iat: ev.iat ?? null,
        exp: ev.exp ?? null,
        refresh_until: ev.refresh_until ?? null,
        // The JWT itself (an OAuth refresh token's opaque value), when the
        // engine sent it (older recordings did not).
        raw: typeof ev.token === 'string' ? ev.token : null,
        kind: ev.token_kind === 'refresh' ? 'refresh' : 'access',
        issuedUs: ev.t_us,
        attempt: ev.attempt ?? null,
      });
      tally.tokens_issued += 1;
      state.server.push(marker(ev));
      break;
    }
    case 'revoked': {
      if (ev.cause === 'family') {
        state.familyRevoked = true;
        tally.family_revoked += 1;
      }
      let list = state.revocations.get(ev.jti);
      if (!list) state.revocations.set(ev.jti, (list = []));
      list.push({ tUs: ev.t_us, cause: ev.cause ?? 'rotation', attempt: ev.attempt ?? null });
    }
    // falls through
    case 'accepted':
    case 'rejected':
    case 'rotated':
      ensureLane(state, ev.lane || 'server');
      state.server.push(marker(ev));
      if (ev.route === '/api/refresh' && ev.kind === 'accepted') tally.refresh_accepted_by_server += 1;
      if (ev.route === '/api/refresh' && ev.kind === 'rejected') {
        tally.rejected_reasons[ev.reason] = (tally.rejected_reasons[ev.reason] ?? 0) + 1;
      }
      if ((ev.kind === 'rejected' || ev.kind === 'accepted') && ev.attempt != null) {
        const attempt = state.attempts.get(ev.attempt);
        if (attempt) {
          // When the server looked at the token (for "presented a revoked token").
          if (attempt.decidedUs == null) attempt.decidedUs = ev.t_us;
          if (ev.kind === 'accepted') attempt.accepted = true;
          if (ev.kind === 'rejected' && attempt.reason == null) attempt.serverReason = ev.reason;
        }
      }
      break;
    case 'clock_advanced':
      ensureLane(state, ev.lane || 'server');
      state.server.push(marker(ev));
      setLab(state, ev.lab_now_ms, receivedAtMs);
      break;
    default:
      // A kind this UI does not know yet: keep it in the log, draw nothing.
      break;
  }
  return state;
}

function marker(ev) {
  return {
    kind: ev.kind,
    tUs: ev.t_us,
    lane: ev.lane,
    attempt: ev.attempt ?? null,
    jti: ev.jti ?? null,
    newJti: ev.new_jti ?? null,
    // OAuth mode: the refresh token stored beside the access token.
    refresh: ev.refresh ?? null,
    reason: ev.reason ?? null,
    cause: ev.cause ?? null,
    route: ev.route ?? null,
    byMs: ev.by_ms ?? null,
  };
}

/**
 * Lane names in display order, and split into the scrolling request rows and
 * the pinned client/server rows. Sorting 10,000 lanes every frame would cost
 * more than drawing them, so this is kept until a lane is added.
 */
export function laneGroups(state) {
  if (!state._lanes || state._lanes.count !== state.lanes.size) {
    const { requests, pinned } = splitLanes([...state.lanes.keys()]);
    state._lanes = { count: state.lanes.size, ordered: [...requests, ...pinned], requests, pinned, tabs: tabGroups(requests) };
  }
  return state._lanes;
}

/** Lane names in display order. */
export function orderedLanes(state) {
  return laneGroups(state).ordered;
}

/**
 * How token `jti` had been revoked by `atUs`: the cause of its first
 * revocation at or before that time (`rotation` or `family`), or null.
 * The first one counts: a token already rotated away is not "more dead"
 * when its family goes later.
 */
export function revokedBy(state, jti, atUs = Infinity) {
  const list = jti == null ? null : state.revocations.get(jti);
  if (!list) return null;
  for (const r of list) if (r.tUs <= atUs) return r.cause;
  return null;
}

/**
 * Whether an attempt presented a token that was already revoked when the
 * server looked at it (its accepted/rejected decision; while in flight:
 * by now). Public routes ignore the token, and an attempt the server
 * accepted was honoured (a grace window), so neither counts.
 * Returns the revocation's cause or null.
 */
export function attemptRevoked(state, attempt) {
  if (!attempt || attempt.jti == null || attempt.route === '/api/public' || attempt.accepted) return null;
  const at = attempt.decidedUs ?? attempt.endUs ?? Infinity;
  return revokedBy(state, attempt.jti, at);
}

/**
 * Where the tab's token store held a token that a family revocation killed:
 * `[{ jti, tUs, storedUs, revokedUs }]`, one per stored copy, at the moment
 * it became dead in the store: the revocation, or the storing itself when
 * the token arrived already dead (the winner stores its fresh token just
 * after a loser's reuse revoked the family). Tokens rotated away before
 * their family went are not counted: they were dead already.
 */
export function storeDeaths(state) {
  const out = [];
  if (!state.familyRevoked) return out;
  const client = state.client;
  for (let i = 0; i < client.length; i++) {
    const m = client[i];
    if (m.kind !== 'token_stored' || m.jti == null) continue;
    const list = state.revocations.get(m.jti);
    if (!list || list[0].cause !== 'family') continue;
    const revokedUs = list[0].tUs;
    // The store holds it until the next store or logout.
    let endUs = Infinity;
    for (let k = i + 1; k < client.length; k++) {
      if (client[k].kind === 'token_stored' || client[k].kind === 'logged_out') {
        endUs = client[k].tUs;
        break;
      }
    }
    const tUs = Math.max(m.tUs, revokedUs);
    if (tUs === m.tUs || revokedUs < endUs) out.push({ jti: m.jti, tUs, storedUs: m.tUs, revokedUs });
  }
  return out;
}

/** `ok`, `failed` or `pending` for a request lane. */
export function laneOutcome(lane) {
  if (!lane || !lane.done) return 'pending';
  return lane.done.ok ? 'ok' : 'failed';
}

/**
 * What the verdict card shows: the engine's verdict once the run is done,
 * the live tally (same definitions) before that.
 */
/** One word for a finished run: hang, race, failed or ok. */
export function verdictKind(v, failed = num(v && v.failed)) {
  if (v && v.hang) return 'hang';
  if (v && v.race) return 'race';
  return failed > 0 ? 'failed' : 'ok';
}

export function verdictView(state) {
  const v = state.verdict;
  if (v) {
    const failed = num(v.failed);
    return {
      final: true,
      refreshCalls: num(v.refresh_calls),
      ok: num(v.ok),
      failed,
      logouts: num(v.logouts),
      requests: num(v.requests),
      race: !!v.race,
      hang: !!v.hang,
      sentence: v.sentence || summarySentence(state),
      tone: v.hang || v.race || failed > 0 ? 'bad' : 'good',
      kind: verdictKind(v, failed),
    };
  }
  const t = state.tally;
  let sentence;
  let tone = 'running';
  if (state.status === 'error') {
    sentence = `The run failed: ${state.error}`;
    tone = 'bad';
  } else if (state.status === 'aborted') {
    sentence = 'Run cancelled.';
    tone = 'neutral';
  } else if (state.status === 'abandoned') {
    sentence = `Abandoned: ${state.error}`;
    tone = 'neutral';
  } else if (state.status === 'idle') {
    sentence = 'Waiting for the run to start…';
    tone = 'neutral';
  } else {
    sentence = `Running… ${summarySentence(state)}`;
  }
  return {
    final: false,
    refreshCalls: t.refresh_calls,
    ok: t.ok,
    failed: t.failed,
    logouts: t.logouts,
    requests: t.requests,
    race: t.race,
    sentence,
    tone,
    kind: 'running',
  };
}

/** The live counts in words; "of N" counts the requests started so far. */
function summarySentence(state) {
  const t = state.tally;
  const calls = `${t.refresh_calls} refresh call${t.refresh_calls === 1 ? '' : 's'}`;
  return `${calls}; ${t.ok} ok, ${t.failed} failed of ${state.lanesStarted} requests.`;
}

function num(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** The lab clock now (ms, unix epoch of the lab), or null before `start`. */
export function labNowMs(state, nowMs) {
  if (!state.lab) return null;
  return state.lab.labMs + Math.max(0, nowMs - state.lab.atMs);
}

/** Milliseconds until the token expires and until its refresh window ends. */
export function tokenCountdowns(token, labMs) {
  if (!token || labMs == null) return null;
  return {
    expiresInMs: token.exp == null ? null : token.exp * 1000 - labMs,
    windowEndsInMs: token.refresh_until == null ? null : token.refresh_until * 1000 - labMs,
  };
}

/**
 * What the inspector shows of a token: the header and payload decoded from
 * the JWT the server issued, or, for a recording without the raw token, no
 * header and the claims the `issued` event carried.
 */
export function decodedToken(token) {
  if (!token) return null;
  const kind = token.kind === 'refresh' ? 'refresh' : 'access';
  // A refresh token is opaque: nothing in it to decode.
  const decoded = token.raw && kind === 'access' ? decodeJwt(token.raw) : null;
  if (decoded) return { kind, header: decoded.header, payload: decoded.payload, fromJwt: true };
  return {
    kind,
    header: null,
    payload: { sub: token.sub, iat: token.iat, exp: token.exp, jti: token.jti, fam: token.fam },
    fromJwt: false,
  };
}

/**
 * What the inspector says about a token's kind: in OAuth mode (the run has
 * refresh tokens) the difference between the two; in article mode that the
 * access token is its own refresh credential. `{ kind, title, lines }`.
 */
export function tokenKindNote(state, token) {
  if (!token) return null;
  const oauth = [...state.tokens.values()].some((t) => t.kind === 'refresh');
  if (token.kind === 'refresh') {
    return {
      kind: 'refresh',
      title: 'refresh token (opaque)',
      lines: [
        'No header, no payload: a random string only the server can look up. Nothing to decode, nothing a client can check.',
        'Sent only to /api/refresh, in a form body (grant_type=refresh_token, RFC 6749 §6), never to the API.',
        'Rotated: each refresh spends it and returns a new one. Sending a spent one again is a reuse, which the server\'s rule punishes or forgives.',
      ],
    };
  }
  return {
    kind: 'access',
    title: oauth ? 'access token (JWT)' : 'access token (JWT), also the refresh credential',
    lines: oauth
      ? [
        'Signed claims the API checks on its own on every request: signature, then exp on the lab clock.',
        'Short-lived and sent as Authorization: Bearer to the API; a refresh never presents it, it presents the refresh token beside it.',
      ]
      : [
        'Signed claims the API checks on its own on every request: signature, then exp on the lab clock.',
        'In article mode the expired access token is itself the refresh credential, inside its refresh window.',
      ],
  };
}
