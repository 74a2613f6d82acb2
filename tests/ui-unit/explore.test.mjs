import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  exploreSettings, createExploreState, applyExploreMessage, chartModel, counterexample,
  failShares, hintSettings, effect, outcomeText, classKey, noReturnCaption, progressText,
  pageClient, lossSummary, lossText,
} from '../../ui/lib/explore.js';
import { LIBRARIES, libraryRun } from '../../ui/lib/libraries.js';

// Explorations the engine wrote (`cargo test --test it explore::` checks that it
// still writes these bytes; UPDATE_FIXTURES=1 rewrites them).
const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'explore');
const load = (name) => JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8'));

test('the explored setup is the run by hand from the start, without lost answers', () => {
  const settings = { case: 'expired-refreshable', strategy: 'naive', network: 'timer', deliver: ['secret#1>'], drop: ['refresh#1<'], secret: 2 };
  assert.deepEqual(exploreSettings(settings), { case: 'expired-refreshable', strategy: 'naive', network: 'hand', deliver: [], secret: 2 });
  assert.deepEqual(hintSettings(settings, ['secret#2>']).deliver, ['secret#2>']);
});

test('the stream folds into progress, then the result', () => {
  const exploration = load('naive-strict-2-secret');
  const state = createExploreState();
  applyExploreMessage(state, { type: 'progress', done: 0.25, states: 12, runs: 30 });
  assert.deepEqual([state.status, state.done, state.states], ['running', 0.25, 12]);
  assert.equal(progressText(state), 'exploring… 25% · 12 states, 30 runs');
  applyExploreMessage(state, { type: 'progress', done: 7, states: 13, runs: 31 });
  assert.equal(state.done, 1, 'clamped');
  applyExploreMessage(state, { type: 'result', exploration });
  assert.equal(state.status, 'done');
  assert.equal(state.exploration.orders, exploration.orders);
  const failed = applyExploreMessage(createExploreState(), { type: 'error', message: 'too large' });
  assert.deepEqual([failed.status, progressText(failed)], ['error', 'too large']);
});

test('the naive chart: classes by share, the failing ones say what they do to the user', () => {
  const exploration = load('naive-strict-2-secret');
  const chart = chartModel(exploration);
  assert.equal(chart.orders, exploration.orders);
  assert.equal(chart.failing, exploration.failing);
  assert.ok(chart.exact);
  assert.ok(chart.failing > 0 && chart.failing <= chart.orders);
  assert.equal(chart.headline, `${exploration.failing.toLocaleString('en')} of ${exploration.orders.toLocaleString('en')} orders fail.`);
  assert.equal(chart.classes.length, exploration.classes.length);
  const sum = chart.classes.reduce((n, c) => n + c.count, 0);
  assert.equal(sum, chart.orders);
  const shares = chart.classes.reduce((n, c) => n + c.share, 0);
  assert.ok(Math.abs(shares - 1) < 1e-9);
  const out = chart.classes.find((c) => !c.ok && exploration.classes.find((x) => classKey(x.outcome) === c.key).outcome.logged_out);
  assert.ok(out, 'some order logs the user out');
  assert.match(out.sentence, /^\d[\d,]* of [\d,]+ orders log the user out$/);
  // Two naive refreshes of one token: under strict one is always refused,
  // so every order is lost before the first delivery.
  assert.ok(chart.classes.every((c) => !c.ok && c.noReturn === null && c.noReturnLeg === null));
  assert.equal(chart.failing, chart.orders);
  assert.deepEqual(new Set(chart.classes.map((c) => c.key)).size, chart.classes.length, 'keys are distinct');
});

test('the queue with a late request: ok and failing classes; the failing ones name their point of no return', () => {
  const exploration = load('queue-strict-late');
  const chart = chartModel(exploration);
  assert.ok(chart.failing > 0 && chart.failing < chart.orders);
  assert.equal(chart.classes[0].ok, true, 'ok classes first');
  for (const c of chart.classes.filter((x) => !x.ok)) {
    assert.ok(c.noReturnLeg, `${c.key} names its point of no return`);
    assert.match(c.sentence, /^\d[\d,]* of [\d,]+ orders (log the user out|lose a request)$/);
  }
});

test('single-flight: every order ends well', () => {
  const chart = chartModel(load('single-flight-strict-2-secret'));
  assert.equal(chart.orders, 194);
  assert.equal(chart.failing, 0);
  assert.equal(chart.headline, 'Every one of the 194 orders ends well.');
  assert.deepEqual(chart.classes.map((c) => [c.ok, c.count, c.sentence]), [[true, 194, '194 of 194 orders end well']]);
});

test('a counterexample stops right after its point of no return; an ok class plays whole', () => {
  const exploration = load('queue-strict-late');
  const index = exploration.classes.findIndex((c) => !c.ok);
  assert.ok(index >= 0, 'the queue loses with a late request');
  const c = exploration.classes[index];
  const cx = counterexample(exploration, index);
  assert.equal(cx.settings.network, 'hand');
  assert.deepEqual(cx.settings.deliver, c.shortest.slice(0, c.no_return + 1));
  assert.equal(cx.leg, c.shortest[c.no_return]);
  assert.equal(cx.caption, `Point of no return: delivery ${c.no_return + 1} (${c.shortest[c.no_return]}). After it, every order fails; this one goes on to ${effect(c.outcome)}.`);
  assert.equal(cx.settings.strategy, 'queue');
  const ok = exploration.classes.findIndex((x) => x.ok);
  assert.deepEqual(counterexample(exploration, ok).settings.deliver, exploration.classes[ok].shortest);
  assert.equal(counterexample(exploration, ok).leg, null);
  assert.equal(counterexample(exploration, 99), null);
});

test('outcome words', () => {
  const o = { refresh_calls: 2, refresh_rejected: 1, failed: 1, logged_out: true, hang: false };
  assert.equal(outcomeText(o), '2 refreshes, 1 rejected, 1 failed, logged out');
  assert.equal(effect(o), 'log the user out');
  assert.equal(effect({ ...o, hang: true }), 'leave a request hanging');
  assert.equal(effect({ ...o, logged_out: false }), 'lose a request');
  assert.equal(outcomeText({ refresh_calls: 1, refresh_rejected: 0, failed: 0, logged_out: false, hang: false }), '1 refresh, none failed');
  assert.equal(classKey(o), '2r-1x-1f-out');
  // An order in which the client's code failed: a class of its own, with the failure's words.
  const failed = { refresh_calls: 1, refresh_rejected: 0, failed: 0, logged_out: false, hang: false, error: true };
  assert.equal(effect(failed), 'end in an error of the client');
  assert.equal(outcomeText(failed), '1 refresh, none failed, the client failed');
  assert.equal(classKey(failed), '1r-0x-0f-error');
  const chart = chartModel({ orders: 6, failing: 3, exact: true, classes: [
    { outcome: { ...failed, error: false }, ok: true, count: 3, shortest: ['secret#1>'], no_return: null },
    { outcome: failed, ok: false, count: 3, shortest: ['secret#2>', 'secret#2<'], no_return: 1, error: 'Error: joined a flight' },
  ] });
  assert.equal(chart.classes[1].sentence, '3 of 6 orders end in an error of the client');
  assert.equal(chart.classes[1].error, 'Error: joined a flight');
  assert.equal(chart.classes[0].error, null);
  assert.equal(noReturnCaption({ ok: false, outcome: o, shortest: ['secret#1>'], no_return: null }), 'Lost before the first delivery: every order of this setup fails.');
});

test('hints: k/M per leg in flight, only from an exact exploration', () => {
  const exploration = load('naive-strict-2-secret-after-requests');
  const shares = failShares(exploration);
  assert.deepEqual([...shares.keys()], exploration.next.map((n) => n.leg));
  let k = 0;
  let m = 0;
  for (const share of shares.values()) {
    const [a, b] = share.split('/').map(Number);
    k += a;
    m += b;
  }
  assert.deepEqual([k, m], [exploration.failing, exploration.orders]);
  assert.equal(failShares({ ...exploration, exact: false }).size, 0);
  assert.equal(failShares(null).size, 0);
});

test('a run in the page explores with its own client: the learner\'s code, a library with its options, a JS built-in', () => {
  const browser = { case: 'expired-refreshable', strategy: 'queue', runtime: 'browser', network: 'hand' };
  assert.equal(pageClient({ settings: { ...browser, runtime: undefined } }), null, 'a Rust run has no page client');
  assert.equal(pageClient(null), null);
  assert.deepEqual(pageClient({ settings: browser }), { builtin: 'queue', options: null });
  assert.deepEqual(pageClient({ settings: browser, source: 'export default {}' }), { source: 'export default {}' });
  const library = LIBRARIES.find((l) => l.name === 'axios-auth-refresh@3');
  const settings = libraryRun(browser, library, { skipWhileRefreshing: true });
  // Picked on the bench (the plan carries the library and its checked options) …
  assert.deepEqual(pageClient({ settings, library, libraryOptions: { skipWhileRefreshing: true } }), { builtin: library.file, options: { skipWhileRefreshing: true } });
  // … or opened from a link or a counterexample (the settings name it).
  assert.deepEqual(pageClient({ settings }), { builtin: library.file, options: { skipWhileRefreshing: true } });
});

test('an exploration as a table line: k of M lose a request, j log out, and the shortest losing order', () => {
  const naive = load('naive-strict-2-secret');
  const s = lossSummary(naive);
  const lost = naive.classes.filter((c) => c.outcome.failed > 0);
  assert.ok(lost.length > 0);
  assert.equal(s.lost, lost.reduce((n, c) => n + c.count, 0));
  assert.equal(s.loggedOut, naive.classes.filter((c) => c.outcome.logged_out).reduce((n, c) => n + c.count, 0));
  assert.equal(s.shortest.length, Math.min(...lost.map((c) => c.shortest.length)));
  assert.ok(lost.some((c) => c.shortest.join() === s.shortest.join()), 'the shortest is a losing class\'s shortest order');
  assert.equal(lossText(s), `${s.lost} of ${naive.orders} orders lose a request${s.loggedOut ? `, ${s.loggedOut} log out` : ''}`);

  const sf = lossSummary(load('single-flight-strict-2-secret'));
  assert.deepEqual([sf.orders, sf.lost, sf.loggedOut, sf.shortest], [194, 0, 0, null]);
  assert.equal(lossText(sf), '0 of 194 orders lose a request');

  const cut = lossSummary({ ...naive, exact: false, orders: 40, at_least: 310, classes: [{ ...naive.classes[0], count: 40 }] });
  assert.match(lossText(cut), /^at least \d+ of at least 310 orders \(40 explored\) lose a request/);
});
