import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createRunState, applyMessage, reduceMessages, orderedLanes, laneOutcome, verdictView,
  labNowMs, tokenCountdowns, decodedToken,
} from '../../ui/lib/reducer.js';
import { naiveRace, singleFlight, LAB_START_MS } from './fixtures.mjs';

test('naive race: one bar per attempt, with kind, status and token', () => {
  const state = reduceMessages(naiveRace());
  assert.equal(state.status, 'done');
  assert.equal(state.strategy, 'naive');
  assert.equal(state.policy, 'strict');

  const s1 = state.lanes.get('secret#1');
  assert.deepEqual(s1.attempts.map((a) => [a.kind, a.status, a.jti, a.reason]), [
    ['request', 401, 't1', 'expired'],
    ['refresh', 400, 't1', 'reused'],
  ]);
  assert.equal(laneOutcome(s1), 'failed');

  const s2 = state.lanes.get('secret#2');
  assert.deepEqual(s2.attempts.map((a) => [a.kind, a.status, a.jti]), [
    ['request', 401, 't1'],
    ['refresh', 200, 't1'],
    ['retry', 200, 't2'],
  ]);
  assert.equal(s2.attempts[1].newJti, 't2');
  assert.equal(laneOutcome(s2), 'ok');

  for (const a of state.attempts.values()) {
    assert.ok(a.endUs >= a.startUs, `attempt ${a.id} ends after it starts`);
  }
  // Everyone went out with t1: the race at a glance.
  const refreshes = [...state.attempts.values()].filter((a) => a.kind === 'refresh');
  assert.equal(refreshes.length, 3);
  assert.ok(refreshes.every((a) => a.jti === 't1'));
});

test('naive race: counts, server markers, token table', () => {
  const state = reduceMessages(naiveRace());
  assert.deepEqual(state.counts, {
    requests: 6, ok: 4, failed: 2, refreshCalls: 3, refreshOk: 1, refreshRejected: 2, retries: 1, logouts: 2, tokensIssued: 2,
  });
  const kinds = state.server.map((m) => m.kind);
  assert.equal(kinds.filter((k) => k === 'issued').length, 2);
  assert.equal(kinds.filter((k) => k === 'rotated').length, 1);
  const rejected = state.server.filter((m) => m.kind === 'rejected' && m.route === '/api/refresh');
  assert.deepEqual(rejected.map((m) => m.reason), ['reused', 'reused']);
  const revoked = state.server.find((m) => m.kind === 'revoked');
  assert.equal(revoked.cause, 'rotation');
  assert.equal(state.familyRevoked, false);
  assert.deepEqual(state.client.map((m) => m.kind), ['token_stored', 'token_stored', 'logged_out', 'logged_out']);

  assert.deepEqual(state.tokenOrder, ['t1', 't2']);
  const t2 = state.tokens.get('t2');
  assert.equal(t2.sub, 'ada');
  assert.equal(t2.fam, 'f1');
  assert.equal(t2.exp - t2.iat, 5);
  assert.deepEqual(decodedToken(t2), {
    header: { alg: 'HS256', typ: 'JWT' },
    payload: { sub: 'ada', iat: t2.iat, exp: t2.exp, jti: 't2', fam: 'f1' },
  });
});

test('naive race: the verdict is the server verdict, shown as a race', () => {
  const view = verdictView(reduceMessages(naiveRace()));
  assert.equal(view.final, true);
  assert.equal(view.refreshCalls, 3);
  assert.equal(view.ok, 4);
  assert.equal(view.failed, 2);
  assert.equal(view.logouts, 2);
  assert.equal(view.tone, 'bad');
  assert.match(view.sentence, /^Race: 3 refreshes/);
});

test('single-flight: waiting segments, one refresh, all green', () => {
  const state = reduceMessages(singleFlight());
  const s3 = state.lanes.get('secret#3');
  assert.equal(s3.queued.length, 1);
  const wait = s3.queued[0];
  assert.ok(wait.endUs > wait.startUs, 'the wait ends when the retry leaves');
  assert.equal(wait.endUs, s3.attempts[1].startUs);
  assert.deepEqual(s3.attempts.map((a) => a.kind), ['request', 'retry']);
  assert.equal(state.counts.refreshCalls, 1);
  const view = verdictView(state);
  assert.deepEqual([view.ok, view.failed, view.refreshCalls, view.tone], [6, 0, 1, 'good']);
  for (const lane of ['secret#1', 'secret#2', 'secret#3', 'public#1']) assert.equal(laneOutcome(state.lanes.get(lane)), 'ok');
});

test('live view: bars are pending until their answer arrives', () => {
  const messages = naiveRace();
  const state = createRunState({ strategy: 'naive', policy: 'strict' });
  assert.equal(state.status, 'idle');
  // Feed up to (not including) the first secret response.
  const cut = messages.findIndex((m) => m.type === 'event' && m.event.kind === 'response' && m.event.lane === 'secret#1');
  for (const m of messages.slice(0, cut)) applyMessage(state, m, 0);
  assert.equal(state.status, 'running');
  const first = state.lanes.get('secret#1').attempts[0];
  assert.equal(first.status, 'pending');
  assert.equal(first.endUs, null);
  const view = verdictView(state);
  assert.equal(view.final, false);
  assert.equal(view.tone, 'running');
  assert.equal(view.ok, 3, 'public requests already answered');
  const before = state.version;
  applyMessage(state, messages[cut], 0);
  assert.equal(first.status, 401);
  assert.ok(state.version > before, 'version bumps so views redraw');
});

test('lanes come out in display order', () => {
  const state = reduceMessages(naiveRace());
  assert.deepEqual(orderedLanes(state), ['secret#1', 'secret#2', 'secret#3', 'public#1', 'public#2', 'public#3', 'client', 'server']);
});

test('family revocation is flagged', () => {
  const state = createRunState();
  applyMessage(state, { type: 'start', settings: {}, lab_now_ms: 0 });
  applyMessage(state, { type: 'event', event: { seq: 0, t_us: 10, lane: 'server', kind: 'revoked', attempt: 3, jti: 't2', cause: 'family' } });
  assert.equal(state.familyRevoked, true);
  assert.equal(state.server[0].cause, 'family');
});

test('an error message ends the run with a message', () => {
  const state = createRunState();
  applyMessage(state, { type: 'start', settings: {}, lab_now_ms: 0 });
  applyMessage(state, { type: 'error', message: 'server went away' });
  const view = verdictView(state);
  assert.equal(state.status, 'error');
  assert.equal(view.tone, 'bad');
  assert.match(view.sentence, /server went away/);
});

test('unknown messages and kinds are ignored, not fatal', () => {
  const state = createRunState();
  applyMessage(state, { type: 'mystery' });
  applyMessage(state, { type: 'event', event: { seq: 0, t_us: 1, lane: 'server', kind: 'future_kind', x: 1 } });
  applyMessage(state, null);
  assert.equal(state.events.length, 1, 'kept for the log');
  assert.equal(state.server.length, 0);
});

test('lab clock: anchored on messages, runs on between them', () => {
  const state = createRunState();
  assert.equal(labNowMs(state, 0), null);
  applyMessage(state, { type: 'start', settings: {}, lab_now_ms: LAB_START_MS }, 1000);
  assert.equal(labNowMs(state, 1500), LAB_START_MS + 500);
  applyMessage(state, { type: 'event', event: { seq: 0, t_us: 5, lane: 'server', kind: 'clock_advanced', by_ms: 6000, lab_now_ms: LAB_START_MS + 6000 } }, 2000);
  assert.equal(labNowMs(state, 2000), LAB_START_MS + 6000);
  const token = { exp: LAB_START_MS / 1000 + 5, refresh_until: LAB_START_MS / 1000 + 15 };
  assert.deepEqual(tokenCountdowns(token, LAB_START_MS + 6000), { expiresInMs: -1000, windowEndsInMs: 9000 });
});

test('reduces a 10,000-request stream quickly', () => {
  const messages = [{ type: 'start', settings: {}, lab_now_ms: 0 }];
  let seq = 0;
  for (let i = 1; i <= 10_000; i++) {
    messages.push({ type: 'event', event: { seq: seq++, t_us: i, lane: `secret#${i}`, kind: 'request_sent', attempt: i, route: '/api/secret', jti: 't1' } });
  }
  for (let i = 1; i <= 10_000; i++) {
    messages.push({ type: 'event', event: { seq: seq++, t_us: 20_000 + i, lane: `secret#${i}`, kind: 'response', attempt: i, route: '/api/secret', status: 200, jti: 't1' } });
    messages.push({ type: 'event', event: { seq: seq++, t_us: 20_000 + i, lane: `secret#${i}`, kind: 'request_done', ok: true, status: 200 } });
  }
  const started = Date.now();
  const state = reduceMessages(messages);
  const lanes = orderedLanes(state);
  assert.equal(lanes.length, 10_000);
  assert.equal(lanes[1], 'secret#2');
  assert.equal(state.counts.ok, 10_000);
  assert.ok(Date.now() - started < 2000, 'fast enough for a live view');
});
