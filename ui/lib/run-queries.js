// Questions asked of a run's state (lib/reducer.js): lanes in display
// order, which tokens were revoked when, a lane's outcome and the verdict
// card's view. No DOM.

import { splitLanes, tabGroups } from './layout.js';

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

/** One word for a finished run: hang, race, failed or ok. */
export function verdictKind(v, failed = num(v && v.failed)) {
  if (v && v.hang) return 'hang';
  if (v && v.race) return 'race';
  return failed > 0 ? 'failed' : 'ok';
}

/**
 * What the verdict card shows: the engine's verdict once the run is done,
 * the live tally (same definitions) before that.
 */
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
