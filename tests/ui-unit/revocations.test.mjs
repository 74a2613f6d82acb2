import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reduceMessages, revokedBy, attemptRevoked, storeDeaths, storeHeldAt, createRunState, applyMessage } from '../../ui/lib/reducer.js';
import { naiveRace, familyRace } from './fixtures.mjs';

const attemptsOf = (state, lane) => state.lanes.get(lane).attempts;

test('revocations are kept per token, in time order, with their cause', () => {
  const state = reduceMessages(familyRace());
  assert.deepEqual(state.revocations.get('t1').map((r) => r.cause), ['rotation', 'family']);
  assert.deepEqual(state.revocations.get('t2').map((r) => r.cause), ['family']);
  assert.equal(state.familyRevoked, true);
  const t2 = state.revocations.get('t2')[0].tUs;
  assert.equal(revokedBy(state, 't2', t2 - 1), null, 'alive before');
  assert.equal(revokedBy(state, 't2', t2), 'family');
  assert.equal(revokedBy(state, 't1'), 'rotation', 'the first revocation counts');
  assert.equal(revokedBy(state, 't9'), null);
  assert.equal(revokedBy(state, null), null);
});

test('the server decision time is kept on each attempt', () => {
  const state = reduceMessages(familyRace());
  const retry = attemptsOf(state, 'secret#1')[2];
  assert.equal(retry.kind, 'retry');
  assert.ok(retry.decidedUs > retry.startUs);
  assert.equal(retry.serverReason, 'revoked');
  const winner = attemptsOf(state, 'secret#1')[1];
  assert.ok(winner.decidedUs < state.revocations.get('t1')[0].tUs, 'accepted before t1 was revoked');
});

test('bars that presented an already revoked token: family for the winner\'s retry, rotation for the losers', () => {
  const state = reduceMessages(familyRace());
  const [first, winner, retry] = attemptsOf(state, 'secret#1');
  assert.equal(attemptRevoked(state, first), null, 'the first 401 was plain expiry');
  assert.equal(attemptRevoked(state, winner), null, 'the winner got in before the rotation');
  assert.equal(attemptRevoked(state, retry), 'family', 't2 died with its family before the server saw it');
  assert.equal(attemptRevoked(state, attemptsOf(state, 'secret#2')[1]), 'rotation', 't1 was rotated away first');
  assert.equal(attemptRevoked(state, attemptsOf(state, 'secret#3')[1]), 'rotation');
});

test('under strict rotation only the losers are marked, and only as rotation', () => {
  const state = reduceMessages(naiveRace());
  const marks = [...state.attempts.values()].map((a) => [a.lane, a.kind, attemptRevoked(state, a)]).filter(([, , r]) => r);
  assert.deepEqual(marks, [['secret#1', 'refresh', 'rotation'], ['secret#3', 'refresh', 'rotation']]);
  assert.deepEqual(storeDeaths(state), [], 'no family revocation, no dead token in the store');
});

test('public requests never count: the server ignores their token', () => {
  const state = createRunState();
  const ev = (seq, t_us, lane, kind, fields) => applyMessage(state, { type: 'event', event: { seq, t_us, lane, kind, ...fields } });
  ev(0, 10, 'server', 'revoked', { jti: 't1', cause: 'family' });
  ev(1, 20, 'public#1', 'request_sent', { attempt: 1, route: '/api/public', jti: 't1' });
  ev(2, 30, 'secret#1', 'request_sent', { attempt: 2, route: '/api/secret', jti: 't1' });
  assert.equal(attemptRevoked(state, state.attempts.get(1)), null);
  assert.equal(attemptRevoked(state, state.attempts.get(2)), 'family', 'in flight with a dead token');
});

test('the token store: what it held when, and the moment its token died', () => {
  const state = reduceMessages(familyRace());
  assert.equal(storeHeldAt(state, 0), null);
  assert.equal(storeHeldAt(state, 200), 't1');
  const deaths = storeDeaths(state);
  assert.equal(deaths.length, 1);
  const [death] = deaths;
  assert.equal(death.jti, 't2');
  // The winner stored t2 after the family was revoked: it died on arrival.
  assert.ok(death.storedUs > death.revokedUs);
  assert.equal(death.tUs, death.storedUs);
  assert.equal(storeHeldAt(state, death.tUs), 't2');
});

test('a held token that dies later is marked at the revocation', () => {
  const state = createRunState();
  const ev = (seq, t_us, lane, kind, fields) => applyMessage(state, { type: 'event', event: { seq, t_us, lane, kind, ...fields } });
  ev(0, 10, 'client', 'token_stored', { jti: 't2' });
  ev(1, 50, 'server', 'revoked', { jti: 't2', cause: 'family' });
  ev(2, 60, 'client', 'logged_out', { reason: 'x' });
  ev(3, 70, 'client', 'token_stored', { jti: 't3' });
  ev(4, 90, 'server', 'revoked', { jti: 't3', cause: 'family' });
  ev(5, 80, 'client', 'token_stored', { jti: 't4' });
  assert.deepEqual(storeDeaths(state).map((d) => [d.jti, d.tUs]), [['t2', 50]], 't3 was replaced before it died');
});
