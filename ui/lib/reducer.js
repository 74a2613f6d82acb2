// Event list → view state. No DOM: tested with `node --test`.
//
// The lab streams NDJSON messages (docs/lab-api.md): `start`, then one
// `event` per timeline event in `seq` order, then `done` (or `error`). The
// reducer folds them into what the timeline draws: per lane, one attempt per
// HTTP exchange (`attempt` id) with start/end, kind, status, token and
// reason; waiting ("queued") segments; the server's and the token store's
// markers; the token table (jti → claims); and live counts.
//
// It mutates the state it is given (a 10,000-request run streams ~60,000
// events; copying per event would be quadratic) and bumps `version`, which
// the views use to know when to redraw.

import { orderLanes } from './layout.js';

/** Empty state for one run (one timeline). */
export function createRunState({ strategy = null, policy = null, settings = null } = {}) {
  return {
    status: 'idle', // idle | running | done | error | aborted
    strategy,
    policy,
    settings,
    lanes: new Map(), // name → lane
    attempts: new Map(), // attempt id → attempt
    server: [], // server lane markers
    client: [], // client lane markers (token store)
    tokens: new Map(), // jti → claims from `issued`
    tokenOrder: [], // jti in issue order
    events: [], // every event, in order (for the log)
    counts: {
      requests: 0,
      ok: 0,
      failed: 0,
      refreshCalls: 0,
      refreshOk: 0,
      refreshRejected: 0,
      retries: 0,
      logouts: 0,
      tokensIssued: 0,
    },
    familyRevoked: false,
    revocations: new Map(), // jti → [{ tUs, cause, attempt }] in time order
    revocationCount: 0,
    maxUs: 0,
    lab: null, // { labMs, atMs }: lab clock reading and when (local ms) it arrived
    verdict: null,
    error: null,
    version: 0,
    _ordered: null,
    _orderedCount: -1,
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
      setLab(state, message.lab_now_ms, receivedAtMs);
      break;
    case 'event':
      applyEvent(state, message.event, receivedAtMs);
      break;
    case 'done':
      state.status = 'done';
      state.verdict = message.verdict ?? null;
      setLab(state, message.lab_now_ms, receivedAtMs);
      break;
    case 'error':
      state.status = 'error';
      state.error = message.message || 'the run failed';
      break;
    default:
      return state; // unknown message types are ignored (forward compatible)
  }
  state.version += 1;
  return state;
}

/** Folds a whole message list (a saved run, or a test fixture). */
export function reduceMessages(messages, init = {}) {
  const state = createRunState(init);
  for (const message of messages) applyMessage(state, message, 0);
  return state;
}

function setLab(state, labNowMs, atMs) {
  if (typeof labNowMs === 'number' && Number.isFinite(labNowMs)) {
    state.lab = { labMs: labNowMs, atMs };
  }
}

function ensureLane(state, name) {
  let lane = state.lanes.get(name);
  if (!lane) {
    // `v` counts the lane's changes: a view redraws a row only when it moved.
    lane = { name, attempts: [], queued: [], done: null, requested: false, lastJti: null, v: 0 };
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
  };
  state.attempts.set(id, attempt);
  lane.attempts.push(attempt);
  lane.v += 1;
  if (attempt.jti) lane.lastJti = attempt.jti;
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
  touchLane(state, attempt.lane);
  attempt.endUs = ev.t_us;
  attempt.status = typeof ev.status === 'number' ? ev.status : attempt.status;
  if (ev.reason != null) attempt.reason = ev.reason;
  if (ev.jti != null && attempt.jti == null) attempt.jti = ev.jti;
  if (ev.new_jti != null) attempt.newJti = ev.new_jti;
  return attempt;
}

function touchLane(state, name) {
  const lane = state.lanes.get(name);
  if (lane) lane.v += 1;
}

function closeQueued(lane, tUs) {
  const open = lane.queued[lane.queued.length - 1];
  if (open && open.endUs == null) open.endUs = tUs;
}

/** Applies one timeline event (the `event` of an `event` message). */
export function applyEvent(state, ev, receivedAtMs = 0) {
  if (!ev || typeof ev !== 'object' || typeof ev.kind !== 'string') return state;
  state.events.push(ev);
  if (typeof ev.t_us === 'number' && ev.t_us > state.maxUs) state.maxUs = ev.t_us;
  const counts = state.counts;
  switch (ev.kind) {
    case 'request_sent': {
      const lane = ensureLane(state, ev.lane);
      if (!lane.requested) {
        lane.requested = true;
        counts.requests += 1;
      }
      openAttempt(state, ev, 'request');
      break;
    }
    case 'retry_sent':
      counts.retries += 1;
      openAttempt(state, ev, 'retry');
      break;
    case 'refresh_sent':
      counts.refreshCalls += 1;
      openAttempt(state, ev, 'refresh');
      break;
    case 'response':
      closeAttempt(state, ev);
      break;
    case 'refresh_done': {
      const attempt = closeAttempt(state, ev);
      if (attempt.status === 200) counts.refreshOk += 1;
      else counts.refreshRejected += 1;
      break;
    }
    case 'queued': {
      const lane = ensureLane(state, ev.lane);
      closeQueued(lane, ev.t_us);
      lane.queued.push({ startUs: ev.t_us, endUs: null, jti: ev.jti ?? null });
      lane.v += 1;
      break;
    }
    case 'request_done': {
      const lane = ensureLane(state, ev.lane);
      closeQueued(lane, ev.t_us);
      lane.done = { tUs: ev.t_us, ok: !!ev.ok, status: ev.status ?? null };
      lane.v += 1;
      if (ev.ok) counts.ok += 1;
      else counts.failed += 1;
      break;
    }
    case 'token_stored':
    case 'logged_out':
      ensureLane(state, ev.lane || 'client');
      if (ev.kind === 'logged_out') counts.logouts += 1;
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
        issuedUs: ev.t_us,
        attempt: ev.attempt ?? null,
      });
      counts.tokensIssued += 1;
      state.server.push(marker(ev));
      break;
    }
    case 'revoked': {
      if (ev.cause === 'family') state.familyRevoked = true;
      let list = state.revocations.get(ev.jti);
      if (!list) state.revocations.set(ev.jti, (list = []));
      list.push({ tUs: ev.t_us, cause: ev.cause ?? 'rotation', attempt: ev.attempt ?? null });
      state.revocationCount += 1;
    }
    // falls through
    case 'accepted':
    case 'rejected':
    case 'rotated':
      ensureLane(state, ev.lane || 'server');
      state.server.push(marker(ev));
      if ((ev.kind === 'rejected' || ev.kind === 'accepted') && ev.attempt != null) {
        const attempt = state.attempts.get(ev.attempt);
        if (attempt) {
          // When the server looked at the token (for "presented a revoked token").
          if (attempt.decidedUs == null) attempt.decidedUs = ev.t_us;
          if (ev.kind === 'rejected' && attempt.reason == null) attempt.serverReason = ev.reason;
          touchLane(state, attempt.lane);
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
    reason: ev.reason ?? null,
    cause: ev.cause ?? null,
    route: ev.route ?? null,
    byMs: ev.by_ms ?? null,
  };
}

/** Lane names in display order (cached until a lane is added). */
export function orderedLanes(state) {
  if (state._orderedCount !== state.lanes.size) {
    state._ordered = orderLanes([...state.lanes.keys()]);
    state._orderedCount = state.lanes.size;
  }
  return state._ordered;
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
 * by now). Public routes ignore the token, so they never count.
 * Returns the revocation's cause or null.
 */
export function attemptRevoked(state, attempt) {
  if (!attempt || attempt.jti == null || attempt.route === '/api/public') return null;
  const at = attempt.decidedUs ?? attempt.endUs ?? Infinity;
  return revokedBy(state, attempt.jti, at);
}

/**
 * The token the tab's store held at `tUs` (null before the first store and
 * after a logout), from the client lane's markers.
 */
export function storeHeldAt(state, tUs) {
  let held = null;
  for (const m of state.client) {
    if (m.tUs > tUs) break;
    if (m.kind === 'token_stored') held = m.jti;
    else if (m.kind === 'logged_out') held = null;
  }
  return held;
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
 * What the verdict card shows: the server's verdict once the run is done,
 * live counts before that.
 */
export function verdictView(state) {
  const v = state.verdict;
  if (v) {
    const failed = num(v.failed);
    const bad = !!v.race || failed > 0;
    return {
      final: true,
      refreshCalls: num(v.refresh_calls),
      ok: num(v.ok),
      failed,
      logouts: num(v.logouts),
      requests: num(v.requests),
      race: !!v.race,
      sentence: v.sentence || summarySentence(state.counts),
      tone: bad ? 'bad' : 'good',
    };
  }
  const c = state.counts;
  let sentence;
  let tone = 'running';
  if (state.status === 'error') {
    sentence = `The run failed: ${state.error}`;
    tone = 'bad';
  } else if (state.status === 'aborted') {
    sentence = 'Run cancelled.';
    tone = 'neutral';
  } else if (state.status === 'idle') {
    sentence = 'Waiting for the run to start…';
    tone = 'neutral';
  } else {
    sentence = `Running… ${summarySentence(c)}`;
  }
  return {
    final: false,
    refreshCalls: c.refreshCalls,
    ok: c.ok,
    failed: c.failed,
    logouts: c.logouts,
    requests: c.requests,
    race: c.refreshCalls > 1,
    sentence,
    tone,
  };
}

function summarySentence(c) {
  const calls = `${c.refreshCalls} refresh call${c.refreshCalls === 1 ? '' : 's'}`;
  return `${calls}; ${c.ok} ok, ${c.failed} failed of ${c.requests} requests.`;
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

/** The decoded JWT parts for a token from the table, as the inspector shows them. */
export function decodedToken(token) {
  if (!token) return null;
  return {
    header: { alg: 'HS256', typ: 'JWT' },
    payload: { sub: token.sub, iat: token.iat, exp: token.exp, jti: token.jti, fam: token.fam },
  };
}
