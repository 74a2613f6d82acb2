// One timeline event folded into the run state (lib/reducer.js owns the
// state and the stream messages): lanes, attempts, waiting segments, the
// server's and the token store's markers, the token table and the live
// tally, counted the way the engine's verdict counts (src/verdict.rs).

import { parseLane } from './layout.js';

/** Anchors the lab clock: its reading `labNowMs` arrived at local `atMs`. */
export function setLab(state, labNowMs, atMs) {
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
export function applyEvent(state, ev, receivedAtMs = 0) {
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
