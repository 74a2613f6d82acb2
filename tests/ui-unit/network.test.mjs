import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  legLabel, heldBarLabels, trayModel, tabStateModel, undoSettings, controlState, keyAction, moveCursor,
  groupFilter, thousands, laneKind, TRAY_LIMIT,
} from '../../ui/lib/network.js';
import { reduceMessages, createRunState, applyMessage, isHeld } from '../../ui/lib/reducer.js';
import { streamMessages } from './streams.mjs';

/** The views the stream showed while the queue challenge was played, in order. */
const views = () => streamMessages('queue-challenge').filter((m) => m.type === 'network').map((m) => m.network);

test('leg labels say who travels where, with what', () => {
  const leg = (o) => ({ id: `${o.lane}${{ 'to-server': '>', 'to-client': '<', commit: '=' }[o.direction]}`, route: '/api/secret', attempt: 2, jti: 't1', status: null, reason: null, due_ms: 150, ...o });
  assert.equal(legLabel(leg({ lane: 'secret#2', exchange: 'refresh', direction: 'to-server' })), 'secret#2 → server · refresh with t1');
  assert.equal(legLabel(leg({ lane: 'secret#1', exchange: 'request', direction: 'to-server' })), 'secret#1 → server · request with t1');
  assert.equal(legLabel(leg({ lane: 'public#3', exchange: 'request', direction: 'to-server', jti: null })), 'public#3 → server · request without a token');
  assert.equal(legLabel(leg({ lane: 'secret#1', exchange: 'request', direction: 'to-client', status: 401, reason: 'expired' })), 'secret#1 ← 401 expired');
  assert.equal(legLabel(leg({ lane: 'secret#2', exchange: 'refresh', direction: 'to-client', status: 400, reason: 'reused' })), 'secret#2 ← refresh 400 reused');
  const fresh = leg({ lane: 'secret#1', exchange: 'refresh', direction: 'to-client', status: 200, attempt: 4 });
  assert.equal(legLabel(fresh), 'secret#1 ← refresh 200');
  assert.equal(legLabel(fresh, (attempt) => (attempt === 4 ? 't2' : null)), 'secret#1 ← refresh 200 → t2');
  assert.equal(legLabel(leg({ lane: 'secret#1', exchange: 'retry', direction: 'to-client', status: 200 })), 'secret#1 ← retry 200');
  assert.equal(legLabel(leg({ lane: 'secret#2', exchange: 'refresh', direction: 'commit' })), 'secret#2 = commit: revoke t1');
  assert.deepEqual(heldBarLabels(leg({ lane: 'secret#1', exchange: 'refresh', direction: 'to-server' })), ['refresh t1 → server', '→ server', '→']);
  assert.deepEqual(heldBarLabels(leg({ lane: 'secret#1', exchange: 'request', direction: 'to-client', status: 401, reason: 'expired' })), ['← 401 expired', '← 401', '←']);
});

test('the tray of the recorded queue challenge: one card per leg in flight, the next due marked', () => {
  const [first, second] = views();
  const tray = trayModel(first);
  assert.equal(tray.mode, 'cards');
  assert.deepEqual(tray.cards.map((c) => [c.id, c.exchange, c.direction, c.label, c.next]), [
    ['secret#1>', 'request', 'to-server', 'secret#1 → server · request with t1', true],
    ['secret#2>', 'request', 'to-server', 'secret#2 → server · request with t1', false],
  ]);
  assert.equal(tray.delivered, 0);
  // After secret#1> the server's 401 is on its way back; both are due at 150 ms, secret#2> has waited longer.
  assert.deepEqual(trayModel(second).cards.map((c) => [c.label, c.next]), [['secret#2 → server · request with t1', true], ['secret#1 ← 401 expired', false]]);
  assert.equal(trayModel(second).delivered, 1);
});

test('many legs: one button per lane kind and direction, never a card each', () => {
  const legs = [];
  for (let i = 1; i <= 3000; i++) legs.push({ id: `secret#${i}>`, lane: `secret#${i}`, exchange: 'request', direction: 'to-server', due_ms: 150 });
  for (let i = 1; i <= 12; i++) legs.push({ id: `public#${i}<`, lane: `public#${i}`, exchange: 'request', direction: 'to-client', status: 200, due_ms: 100 });
  legs.push({ id: 'late#1>', lane: 'late#1', exchange: 'request', direction: 'to-server', due_ms: 400 });
  const tray = trayModel({ legs, delivered: [] });
  assert.equal(tray.mode, 'groups');
  assert.deepEqual(tray.cards, []);
  assert.deepEqual(tray.groups.map((g) => [g.filter, g.count, g.label]), [
    ['secret#*>', 3000, 'deliver all secret#* requests (3,000)'],
    ['public#*<', 12, 'deliver all public#* answers (12)'],
    ['late#*>', 1, 'deliver all late#* requests (1)'],
  ]);
  // Up to the limit, cards.
  assert.equal(trayModel({ legs: legs.slice(0, TRAY_LIMIT) }).mode, 'cards');
  assert.equal(trayModel({ legs: legs.slice(0, TRAY_LIMIT + 1) }).mode, 'groups');
  assert.equal(groupFilter({ lane: 'secret#7', direction: 'commit' }), 'secret#*=');
  assert.equal(thousands(20000), '20,000');
  assert.equal(laneKind('public#12'), 'public');
  assert.equal(laneKind('tab2/secret#3'), 'secret');
});

test('hidden state: the stored token and the strategy\'s own memory, as hooks', () => {
  const all = views();
  const first = tabStateModel(all[0].tab);
  assert.deepEqual(first.attrs, { 'data-token': 't1', 'data-strategy': 'queue', 'data-is-refreshing': 'false', 'data-waiting': '0' });
  // Once secret#1 got its 401, the queue's flag is up.
  const refreshing = all.map((v) => tabStateModel(v.tab)).find((t) => t.attrs['data-is-refreshing'] === 'true');
  assert.ok(refreshing, 'the flag went up at some point');
  assert.equal(refreshing.rows[0].name, 'isRefreshing');
  assert.deepEqual(tabStateModel({ token: 't2', strategy: { strategy: 'single-flight', rows: [{ name: 'flight', value: 't1', note: '401s with t1 join it', hook: { name: 'flight', value: 't1' } }, { name: 'running', value: 'true', note: 'the shared refresh is out', hook: { name: 'running', value: 'true' } }, { name: 'joined', value: '1', note: 'sharing that refresh', hook: { name: 'joined', value: '1' } }] } }).attrs,
    { 'data-token': 't2', 'data-strategy': 'single-flight', 'data-flight': 't1', 'data-running': 'true', 'data-joined': '1' });
  const naive = tabStateModel({ token: null, strategy: { strategy: 'naive', rows: [{ name: 'memory', value: 'none', note: 'each 401 refreshes alone' }] } });
  assert.deepEqual([naive.token, naive.attrs['data-token'], naive.rows.length], [null, '', 1]);
  assert.equal(tabStateModel(null), null);
});

test('hidden state of several tabs: one store, each tab\'s own memory by name', () => {
  const three = tabStateModel({
    token: 't1',
    strategy: { strategy: 'mutex', rows: [{ name: 'locked', value: 'true', note: 'a 401 holds the lock', hook: { name: 'locked', value: 'true' } }, { name: 'waiting', value: '2', note: 'will re-read the store once they have the lock', hook: { name: 'waiting', value: '2' } }] },
    other_tabs: [{ strategy: 'mutex', rows: [{ name: 'locked', value: 'false', note: 'the next 401 takes it', hook: { name: 'locked', value: 'false' } }, { name: 'waiting', value: '0', note: 'will re-read the store once they have the lock', hook: { name: 'waiting', value: '0' } }] }, { strategy: 'proactive', rows: [{ name: 'timer', value: 't1', note: 'fired: refreshes t1 on its own', hook: { name: 'timer-fired', value: 't1' } }, { name: 'flight', value: 'none', note: 'no 401 refresh yet', hook: { name: 'flight', value: '' } }] }],
  });
  assert.deepEqual(three.attrs, { 'data-token': 't1', 'data-strategy': 'mutex', 'data-locked': 'true', 'data-waiting': '2', 'data-tabs': '3' });
  assert.deepEqual(three.rows.map((r) => [r.name, r.value]), [
    ['locked', 'true'], ['waiting', '2'],
    ['tab2 locked', 'false'], ['tab2 waiting', '0'],
    ['tab3 timer', 't1'], ['tab3 flight', 'none'],
  ]);
});

test('undo restarts the same settings by hand with every delivery but the last', () => {
  const messages = streamMessages('queue-challenge');
  const state = reduceMessages(messages);
  assert.deepEqual(state.solved, ['queue-refreshes-twice']);
  const again = undoSettings(state.settings, state.delivered);
  assert.equal(again.network, 'hand');
  assert.deepEqual(again.deliver, state.delivered.slice(0, -1));
  assert.deepEqual({ ...again, network: state.settings.network, deliver: state.settings.deliver }, state.settings, 'nothing else changes');
  assert.equal(undoSettings(state.settings, []), null);
  // A loss before the last delivery is replayed; the last one, if lost, is undone with it.
  const lost = undoSettings(state.settings, ['a>', 'a<', 'b>'], [{ lost: 'refresh#1<', at: 2 }, { lost: 'refresh#2<', at: 3 }]);
  assert.deepEqual([lost.deliver, lost.drop], [['a>', 'a<'], ['refresh#1<']]);
  assert.equal(undoSettings(null, ['secret#1>']), null);
});

test('which network buttons work', () => {
  const none = { pause: false, resume: false, step: false, deliverAll: false, undo: false };
  assert.deepEqual(controlState({ controllable: false, live: true }), none, 'a comparison or a replay');
  assert.deepEqual(controlState({ controllable: true, live: true, paused: false }), { ...none, pause: true, step: true });
  assert.deepEqual(controlState({ controllable: true, live: true, paused: true, legs: 2, delivered: 1 }), { pause: false, resume: true, step: true, deliverAll: true, undo: true });
  assert.deepEqual(controlState({ controllable: true, live: true, paused: true, legs: 2, delivered: 1, busy: true }), none, 'one command at a time');
  assert.deepEqual(controlState({ controllable: true, live: false, delivered: 6 }), { ...none, undo: true }, 'a finished hand run can be undone');
});

test('keys: Space pauses and resumes, → steps a live run and moves the cursor of a finished one, ← back, Z undoes', () => {
  const live = { controllable: true, live: true, paused: false, finished: false, events: 10, canUndo: false };
  assert.equal(keyAction(' ', live), 'pause');
  assert.equal(keyAction(' ', { ...live, paused: true }), 'resume');
  assert.equal(keyAction('ArrowRight', live), 'step');
  assert.equal(keyAction('ArrowLeft', live), null);
  assert.equal(keyAction('z', live), null);
  assert.equal(keyAction('Z', { ...live, canUndo: true }), 'undo');
  const done = { controllable: true, live: false, paused: false, finished: true, events: 10, canUndo: true };
  assert.equal(keyAction(' ', done), null);
  assert.equal(keyAction('ArrowRight', done), 'cursor-next');
  assert.equal(keyAction('ArrowLeft', done), 'cursor-prev');
  assert.equal(keyAction('z', done), 'undo');
  assert.equal(keyAction('ArrowRight', { ...done, events: 0 }), null);
  assert.equal(keyAction(' ', { ...live, controllable: false }), null, 'a comparison has no network controls');
  assert.equal(keyAction('x', live), null);
  assert.equal(moveCursor(null, 1, 5), 0);
  assert.equal(moveCursor(null, -1, 5), 4);
  assert.equal(moveCursor(4, 1, 5), 4);
  assert.equal(moveCursor(0, -1, 5), 0);
  assert.equal(moveCursor(2, 1, 5), 3);
  assert.equal(moveCursor(null, 1, 0), null);
});

test('the reducer keeps the run id, captions, legs in flight, delivery order and solved challenges', () => {
  const messages = streamMessages('queue-challenge');
  const state = createRunState();
  let heldSeen = 0;
  for (const m of messages) {
    applyMessage(state, m, 0);
    if (isHeld(state)) heldSeen += 1;
    if (m.type === 'network') assert.equal(state.network, m.network);
  }
  assert.equal(state.run, messages[0].run);
  assert.equal(state.captions.length, state.events.length);
  assert.ok(state.captions.every((c) => typeof c === 'string' && c.length > 0));
  assert.equal(state.networkSeq, messages.filter((m) => m.type === 'network').length);
  assert.ok(heldSeen > 0);
  const done = messages.find((m) => m.type === 'done');
  assert.deepEqual(state.delivered, done.delivered);
  assert.deepEqual(state.solved, ['queue-refreshes-twice']);
  assert.equal(state.network, null, 'nothing in flight once done');
  // A late view never reopens a finished run.
  applyMessage(state, { type: 'network', network: messages.find((m) => m.type === 'network').network }, 0);
  assert.equal(state.network, null);
  assert.equal(isHeld(state), false);
});

test('an abandoned run says why and holds nothing', () => {
  const messages = streamMessages('queue-challenge');
  const state = createRunState();
  for (const m of messages.slice(0, messages.findIndex((x) => x.type === 'network') + 1)) applyMessage(state, m, 0);
  assert.equal(isHeld(state), true);
  applyMessage(state, { type: 'abandoned', message: 'nobody touched this held run for 600 s: it was abandoned and its resources freed' }, 0);
  assert.equal(state.status, 'abandoned');
  assert.equal(isHeld(state), false);
  assert.match(state.error, /600 s/);
});
