import { test } from 'node:test';
import assert from 'node:assert/strict';
import { revokedBy, attemptRevoked, storeDeaths } from '../../ui/lib/run-queries.js';
import { RUNS, reduced, eventsOf } from './fixtures.mjs';

const FAMILY = 'expired-refreshable-naive-family';
const attemptsOf = (state, lane) => state.lanes.get(lane).attempts;

test('revocations are kept per token, in time order, with their cause', () => {
  const state = reduced(FAMILY);
  assert.deepEqual(state.revocations.get('t1').map((r) => r.cause), ['rotation', 'family']);
  assert.deepEqual(state.revocations.get('t2').map((r) => r.cause), ['family']);
  assert.equal(state.familyRevoked, true);
  const [familyOfT2] = eventsOf(FAMILY, 'revoked').filter((e) => e.jti === 't2');
  assert.equal(revokedBy(state, 't2', familyOfT2.t_us - 1), null, 'alive before');
  assert.equal(revokedBy(state, 't2', familyOfT2.t_us), 'family');
  assert.equal(revokedBy(state, 't1'), 'rotation', 'the first revocation counts');
  assert.equal(revokedBy(state, 't9'), null);
  assert.equal(revokedBy(state, null), null);
});

test('the server\'s decision time and reason are kept on each attempt', () => {
  const state = reduced(FAMILY);
  const [, winner, retry] = attemptsOf(state, 'secret#1');
  assert.equal(retry.kind, 'retry');
  const [refusal] = eventsOf(FAMILY, 'rejected').filter((e) => e.attempt === retry.id);
  assert.equal(retry.decidedUs, refusal.t_us);
  assert.equal(retry.serverReason, 'revoked');
  assert.ok(winner.decidedUs < state.revocations.get('t1')[0].tUs, 'accepted before t1 was revoked');
});

test('family: the winner\'s retry presented a token its family\'s revocation killed; the losers a rotated one', () => {
  const state = reduced(FAMILY);
  const [first, winner, retry] = attemptsOf(state, 'secret#1');
  assert.equal(attemptRevoked(state, first), null, 'the first 401 was plain expiry');
  assert.equal(attemptRevoked(state, winner), null, 'the winner got in before the rotation');
  assert.equal(attemptRevoked(state, retry), 'family');
  assert.equal(attemptRevoked(state, attemptsOf(state, 'secret#2')[1]), 'rotation', 't1 was rotated away first');
  assert.equal(attemptRevoked(state, attemptsOf(state, 'secret#3')[1]), 'rotation');
});

test('every recorded run: exactly the attempts shown as revoked', () => {
  const marked = (name) => {
    const state = reduced(name);
    return [...state.attempts.values()].map((a) => [a.lane, a.kind, attemptRevoked(state, a)]).filter(([, , r]) => r);
  };
  const expected = {
    'expired-refreshable-naive-strict': [['secret#2', 'refresh', 'rotation'], ['secret#3', 'refresh', 'rotation']],
    'expired-refreshable-naive-family': [['secret#2', 'refresh', 'rotation'], ['secret#3', 'refresh', 'rotation'], ['secret#1', 'retry', 'family']],
    'expired-refreshable-queue-strict-late': [['late#1', 'request', 'rotation'], ['late#1', 'refresh', 'rotation']],
    'expired-refreshable-single-flight-strict-late': [['late#1', 'request', 'rotation']],
    // The timer rotated t1 away before secret#1's refresh of it arrived.
    'expired-refreshable-proactive-strict': [['secret#1', 'refresh', 'rotation']],
    'expired-refreshable-naive-strict-oauth': [['secret#2', 'refresh', 'rotation'], ['secret#3', 'refresh', 'rotation']],
    // Three tabs, one refresh each: the two that lost presented a rotated t1.
    'three-tabs-single-flight-strict': [['tab3/secret#3', 'refresh', 'rotation'], ['secret#1', 'refresh', 'rotation']],
    // The laptop woke: three tabs refreshed t1 at once; the two that lost presented it rotated.
    'wake-three-tabs-single-flight': [['secret#2', 'refresh', 'rotation'], ['tab3/secret#2', 'refresh', 'rotation']],
  };
  for (const name of RUNS) assert.deepEqual(marked(name), expected[name] ?? [], name);
});

test('a public request in flight while its token is rotated away is not marked: the server ignores its token', () => {
  const name = 'slow-public-naive-strict';
  const state = reduced(name);
  const [pub] = attemptsOf(state, 'public#1');
  const [rotation] = eventsOf(name, 'revoked');
  assert.equal(pub.jti, 't1');
  assert.ok(pub.startUs < rotation.t_us && pub.endUs > rotation.t_us, 'in flight across the rotation');
  assert.equal(revokedBy(state, 't1', pub.endUs), 'rotation');
  assert.equal(attemptRevoked(state, pub), null);
});

test('the token store: the moment the held token died', () => {
  const state = reduced(FAMILY);
  const [, storedT2] = eventsOf(FAMILY, 'token_stored');
  // t2 was held when reuse detection revoked it, before the logout cleared the store.
  const [killed] = eventsOf(FAMILY, 'revoked').filter((e) => e.jti === 't2');
  const [logout] = eventsOf(FAMILY, 'logged_out');
  assert.ok(storedT2.t_us < killed.t_us && killed.t_us < logout.t_us);
  assert.deepEqual(storeDeaths(state), [{ jti: 't2', tUs: killed.t_us, storedUs: storedT2.t_us, revokedUs: killed.t_us }]);
  for (const name of RUNS.filter((n) => n !== FAMILY)) assert.deepEqual(storeDeaths(reduced(name)), [], name);
});

test('grace: refreshes the server accepted with the rotated t1 are not shown as revoked', () => {
  const name = 'expired-refreshable-naive-grace';
  const state = reduced(name);
  const refreshes = [...state.attempts.values()].filter((a) => a.kind === 'refresh');
  assert.deepEqual(refreshes.map((a) => [a.jti, a.status, a.accepted]), [['t1', 200, true], ['t1', 200, true], ['t1', 200, true]]);
  const [rotation] = eventsOf(name, 'revoked');
  assert.equal(rotation.jti, 't1');
  assert.equal(refreshes.filter((a) => a.decidedUs > rotation.t_us).length, 2, 'two came after the rotation');
  assert.ok(refreshes.every((a) => attemptRevoked(state, a) === null));
});
