// A seat's page and the instructor's results (ui/lib/room.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  initialSeat, onRoomEvent, onDisconnect, bannerText, seatLabel, pushFrom, resultsFrom, headline, rowOutcome, pushErrorMessage, pushRefusal, pushSettings, seenFrom, stepNumber,
} from '../../ui/lib/room.js';

const push = { id: 1, setup: '#s=1.eJw', summary: 'expired-refreshable: naive client, strict server' };

test('a push is opened once per room, also after a reload or a reconnection', () => {
  let state = initialSeat();
  let r = onRoomEvent(state, 'room', { room: 'aa', seat: 3, push: null });
  assert.equal(r.open, null);
  assert.equal(seatLabel(r.state), 'Seat 3');
  r = onRoomEvent(r.state, 'room', { room: 'aa', seat: 3, push });
  assert.deepEqual(r.open, { ...push, step: null });
  const seen = JSON.stringify(r.state.seen);
  // The same push heard again (a reconnection), or after a reload with what was kept.
  assert.equal(onRoomEvent(r.state, 'room', { room: 'aa', seat: 3, push }).open, null);
  assert.equal(onRoomEvent(initialSeat(seen), 'room', { room: 'aa', seat: 3, push }).open, null);
  // Another room on the same port starts again at push 1.
  assert.notEqual(onRoomEvent(initialSeat(seen), 'room', { room: 'bb', seat: 1, push }).open, null);
  assert.equal(seenFrom('{"room":1}'), null);
});

test('the banner says what changed, that code is kept, and when the room closed', () => {
  const state = onRoomEvent(initialSeat(), 'room', { room: 'aa', seat: 2, push }).state;
  assert.equal(bannerText(state, pushFrom(push)), 'The instructor changed the setup to expired-refreshable: naive client, strict server: it runs now on your seat. Your code in the editor is kept.');
  assert.equal(bannerText(state, pushFrom({ id: 2, step: 'fix-it', summary: '' })), 'The instructor opened lesson step 3. Your code in the editor is kept.');
  assert.equal(bannerText(onDisconnect(state), null), 'Reconnecting to the room…');
  const closed = onRoomEvent(state, 'closed', {}).state;
  assert.match(bannerText(closed, null), /^The instructor closed the room/);
  assert.equal(onDisconnect(closed).closed, true);
});

test('pushes that are not ones are ignored', () => {
  for (const bad of [null, { id: 0, setup: '#s=1.x' }, { id: 1 }, { id: 1, setup: 'javascript:alert(1)' }, { id: 1, step: '<b>' }]) {
    assert.equal(pushFrom(bad), null, JSON.stringify(bad));
  }
});

test('results are shaped for painting: bars as shares of the tallest, steps in order', () => {
  const r = resultsFrom({
    version: 4, seats: 3, ran: 3, runs: 4, logged_out: 2,
    push,
    refresh_calls: [{ calls: 3, seats: 2 }, { calls: 1, seats: 1 }],
    challenges: { 'queue-refreshes-twice': [2] },
    steps: { 'fix-it': [1], 'watch-the-race': [1, 2] },
    rows: [{ number: 1, runs: 2, logged_out: false, refresh_calls: 1, solved: [], steps: ['fix-it'] }, { number: 2, runs: 0, logged_out: null, refresh_calls: null, solved: [], steps: [] }],
  });
  assert.deepEqual(r.bars, [{ calls: 1, seats: 1, share: 0.5 }, { calls: 3, seats: 2, share: 1 }]);
  assert.deepEqual(r.steps.map((s) => s.id), ['watch-the-race', 'fix-it']);
  assert.equal(headline(r), '3 of 3 seats ran it · 2 logged out');
  assert.equal(rowOutcome(r.rows[0]), 'stayed logged in, 1 refresh call (2 runs)');
  assert.equal(rowOutcome(r.rows[1]), 'not run yet');
  assert.equal(headline({ ...r, push: null, seats: 1 }), '1 seat in the room. Push a setup to see what the room gets.');
  assert.equal(stepNumber('every-order'), 8);
});

test('a push carries the setup without its hand order; refusals say why', () => {
  assert.deepEqual(pushSettings({ case: 'expired-refreshable', deliver: ['secret#1>'], drop: [] }), { case: 'expired-refreshable' });
  assert.match(pushErrorMessage(404, null), /Open the room first/);
  assert.match(pushRefusal(null), /Run the setup/);
  assert.match(pushRefusal({ module: 'your interceptor' }), /a push carries no code/);
  assert.equal(pushRefusal({ module: 'axios-auth-refresh@5', runtime: 'browser' }), null);
  assert.equal(pushRefusal({ strategy: 'naive' }), null);
  assert.equal(pushErrorMessage(400, { message: 'the link is damaged' }), 'The push was refused: the link is damaged');
});
