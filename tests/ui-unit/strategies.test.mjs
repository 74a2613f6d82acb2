// The built-in JS strategies (ui/strategies/) through the tab harness
// (ui/lib/page-tab.js) against a fake server in this process: a strict,
// rotating refresh, a token that expired. Exact counts, as the Rust
// strategies' own tests have them; the Rust-vs-JS parity over the real
// server is tests/e2e/parity.test.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTab, lanesOf, jtiOf, MAX_TAB_EXCHANGES, ModuleError } from '../../ui/lib/page-tab.js';
import { fakeLab, jwt } from './fake-lab.mjs';
import * as naive from '../../ui/strategies/naive.js';
import * as queue from '../../ui/strategies/queue.js';
import * as singleFlight from '../../ui/strategies/single-flight.js';



function tabOn(lab, { token = jwt('t1'), stuckMs = 50 } = {}) {
  return createTab({
    page: { api: '/api', report: '/report', token, first_attempt: 2 },
    fetch: lab.fetch,
    later: (fn) => setTimeout(fn, 0),
    after: (ms, fn) => setTimeout(fn, ms),
    stuckMs,
  });
}

const count = (lab, op) => lab.calls.filter((c) => c.op === op).length;
const done = (lab) => lab.events().filter((e) => e.kind === 'request_done');

test('naive: three expired requests make three refreshes; two are refused and log out', async () => {
  const lab = fakeLab();
  await tabOn(lab).run(naive.request, lanesOf({ secret: 3, public: 0 }));
  assert.equal(count(lab, 'refresh'), 3);
  assert.equal(count(lab, 'retry'), 1);
  assert.deepEqual(done(lab).map((e) => [e.lane, e.status]).sort(), [['secret#1', 200], ['secret#2', 401], ['secret#3', 401]]);
  assert.equal(lab.events().filter((e) => e.kind === 'logged_out').length, 2);
  assert.deepEqual(lab.reports.at(-1).end, { outcome: 'done' });
});

test('queue: one refresh, the other two wait in the queue and retry with the new token', async () => {
  const lab = fakeLab();
  await tabOn(lab).run(queue.request, lanesOf({ secret: 3, public: 0 }));
  assert.equal(count(lab, 'refresh'), 1);
  assert.equal(count(lab, 'retry'), 3);
  assert.equal(lab.events().filter((e) => e.kind === 'queued').length, 2);
  assert.ok(done(lab).every((e) => e.ok));
  assert.deepEqual(queue.state(), { isRefreshing: false, queue: 0 });
});

test('queue: a 401 that comes back after the refresh ended refreshes again, with the spent token', async () => {
  const lab = fakeLab({ hold: true });
  const running = tabOn(lab).run(queue.request, lanesOf({ secret: 2, public: 0 }));
  const next = async () => {
    while (lab.held.length === 0) await new Promise((r) => setTimeout(r, 0));
  };
  // secret#1's 401, its refresh and its retry all come back before secret#2's 401.
  await next();
  await next();
  const [first, second] = lab.held.splice(0, 2).map((exchange) => exchange.release);
  first(); // secret#1: 401
  await next();
  lab.held.shift().release(); // its refresh: t2
  await next();
  lab.held.shift().release(); // its retry: 200
  second(); // secret#2: 401, after the refresh ended
  for (;;) {
    await next();
    lab.held.shift().release();
    if (lab.calls.filter((c) => c.lane === 'secret#2').length === 2) break;
  }
  await running;
  assert.equal(count(lab, 'refresh'), 2, 'the late 401 refreshed again');
  assert.equal(done(lab).find((e) => e.lane === 'secret#2').status, 401);
});

test('single-flight: one refresh; a late 401 with the old token finds the new one in the store', async () => {
  const lab = fakeLab();
  await tabOn(lab).run(singleFlight.request, lanesOf({ secret: 3, public: 2, late: true }));
  assert.equal(count(lab, 'refresh'), 1);
  assert.ok(done(lab).every((e) => e.ok), JSON.stringify(done(lab)));
  assert.equal(done(lab).length, 6);
});

test('the harness keeps at most MAX_TAB_EXCHANGES on the wire and numbers attempts in call order', async () => {
  const lab = fakeLab();
  await tabOn(lab).run(singleFlight.request, lanesOf({ secret: 5, public: 5 }));
  assert.equal(lab.maxOnWire(), MAX_TAB_EXCHANGES);
  const requests = lab.calls.filter((c) => c.op === 'request');
  assert.deepEqual(requests.slice(0, 3).map((c) => c.attempt), [2, 3, 4]);
  const last = lab.reports.at(-1);
  assert.equal(last.started, lab.calls.length);
  assert.equal(last.received, lab.calls.length);
  assert.ok(lab.reports.every((r, i) => r.seq === i + 1), 'reports are numbered in order');
});

test('a module that never returns, one that throws and one that returns nothing end the run with a message', async () => {
  const never = fakeLab();
  await assert.rejects(
    tabOn(never).run(async () => new Promise(() => {}), lanesOf({ secret: 1, public: 0 })),
    (error) => error instanceof ModuleError && /secret#1 never returned/.test(error.message),
  );
  assert.equal(never.reports.at(-1).end.outcome, 'failed');

  const thrower = fakeLab();
  await assert.rejects(tabOn(thrower).run(async () => { throw new RangeError('boom'); }, lanesOf({ secret: 1, public: 0 })), /boom/);
  assert.match(thrower.reports.at(-1).end.message, /boom/);

  const silent = fakeLab();
  await assert.rejects(tabOn(silent).run(async (req, api) => { await api.send(req, api.token()); }, lanesOf({ secret: 1, public: 0 })), /must return the final \{ status \}/);
});

test('api misuse is named: a non-string token, a foreign req', async () => {
  const lab = fakeLab();
  await assert.rejects(tabOn(lab).run((req, api) => api.send(req, 42), lanesOf({ secret: 1, public: 0 })), /token must be a string/);
  await assert.rejects(tabOn(fakeLab()).run((req, api) => api.send({ route: '/api/admin' }, null), lanesOf({ secret: 1, public: 0 })), /pass the req your request\(\) got/);
});

test('jtiOf reads the claim and refuses what is not a JWT', () => {
  assert.equal(jtiOf(jwt('t7')), 't7');
  assert.equal(jtiOf('nope'), null);
  assert.equal(jtiOf(null), null);
});
