import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CHECKS, ORDER_POLICIES, ORDER_BOUND, orderSettings, orderVerdict, orderProblem, gradeOrders, gradeRow,
} from '../../ui/lib/grader.js';

// Explorations the engine wrote (tests/it/explore.rs keeps them its bytes). The
// page's JavaScript twins give the same counts and classes
// (tests/e2e/grader-orders.test.mjs checks that in Chromium).
const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'explore');
const load = (name) => JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8'));
const check = (id) => CHECKS.find((c) => c.id === id);

test('the checks with several requests are explored within the bound, by hand, under strict and family', () => {
  assert.deepEqual(ORDER_POLICIES, ['strict', 'family']);
  assert.equal(ORDER_BOUND, 'every order of 2 request lanes, under strict and family');
  const explored = CHECKS.filter((c) => c.orders).map((c) => c.id);
  assert.deepEqual(explored, ['several-requests', 'refresh-refused', 'late-401', 'answer-after-401s', 'several-tabs']);
  // Two of the three tabs, a request each, the lab's cross-tab lock off: the module coordinates them.
  assert.deepEqual([orderSettings(check('several-tabs'), 'strict').tabs, orderSettings(check('several-tabs'), 'strict').cross_tab], [2, 'none']);
  for (const c of CHECKS.filter((x) => x.orders)) {
    for (const policy of ORDER_POLICIES) {
      const s = orderSettings(c, policy);
      const lanes = (s.tabs ?? 1) * (s.secret + (s.public ?? 0) + (s.late ? 1 : 0));
      assert.equal(lanes, 2, c.id);
      assert.equal(s.policy, policy);
      assert.equal(s.network, 'hand');
      assert.equal(s.runtime, 'browser');
    }
  }
  const late = orderSettings(check('late-401'), 'family');
  assert.deepEqual([late.case, late.secret, late.late, late.deliver], ['expired-refreshable', 1, true, []]);
  // The hand-made order is the prefix every explored order starts with.
  assert.deepEqual(orderSettings(check('answer-after-401s'), 'strict').deliver, check('answer-after-401s').settings.deliver);
});

test('the late 401 with the queue: fails in 110 of 194 orders, the shortest one shown', () => {
  const exploration = load('queue-strict-late');
  const row = gradeOrders(check('late-401'), [{ policy: 'strict', exploration }]);
  assert.equal(row.pass, false);
  assert.equal(row.orders, exploration.orders);
  assert.equal(row.failing, exploration.failing);
  assert.deepEqual([row.orders, row.failing], [194, 110]);
  assert.match(row.why, /^fails in 110 of 194 orders: 2 refresh calls for one expired token \(strict, shortest in 10 deliveries\)$/);
  const lost = exploration.classes.find((c) => !c.ok);
  assert.deepEqual(row.counterexample.settings.deliver, lost.shortest);
  assert.equal(row.counterexample.settings.network, 'hand');
  assert.equal(row.counterexample.settings.strategy, 'queue');
  assert.equal(row.counterexample.deliveries, lost.shortest.length);
});

test('single-flight passes every order; naive fails every one', () => {
  const good = gradeOrders(check('several-requests'), [{ policy: 'strict', exploration: load('single-flight-strict-2-secret') }]);
  assert.deepEqual([good.pass, good.orders, good.failing, good.counterexample], [true, 194, 0, null]);
  assert.equal(good.why, 'passes in all 194 orders (strict and family)');
  const naive = load('naive-strict-2-secret');
  const bad = gradeOrders(check('several-requests'), [{ policy: 'strict', exploration: naive }]);
  assert.deepEqual([bad.pass, bad.orders, bad.failing], [false, naive.orders, naive.orders]);
});

test('a check reads an order by its own rule, not by the class being ok', () => {
  // Refused refresh: one refresh, the user logged out, no request claiming success.
  const settings = orderSettings(check('refresh-refused'), 'strict');
  const loggedOut = { refresh_calls: 1, refresh_rejected: 1, failed: 2, logged_out: true, hang: false };
  assert.equal(orderProblem(check('refresh-refused'), loggedOut, settings), null);
  assert.deepEqual(orderVerdict(loggedOut, settings), { refresh_calls: 1, logouts: 1, failed: 2, requests: 2, ok: 0, secret_ok: 0, public_ok: 0, public_failed: 0 });
  assert.match(orderProblem(check('refresh-refused'), { ...loggedOut, refresh_calls: 2 }, settings), /^2 refresh calls/);
  assert.equal(orderProblem(check('several-requests'), { ...loggedOut, hang: true }, settings), 'a request never finished');
  assert.equal(orderProblem(check('several-requests'), { ...loggedOut, error: true }, settings, 'tab 2: Error: boom'), 'the module failed: tab 2: Error: boom');
});

test('an exploration that could not run fails its check with the message; the single-order rows stay as they were', () => {
  const row = gradeOrders(check('late-401'), [{ policy: 'strict', error: 'strict: the page went away' }]);
  assert.deepEqual([row.pass, row.why, row.orders], [false, 'strict: the page went away', null]);
  assert.equal(gradeRow(check('valid'), { error: 'boom' }).why, 'boom');
});
