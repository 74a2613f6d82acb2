// What the page's tabs share (ui/lib/tab-hub.js in the page, ui/lib/tab-shims.js
// in each tab's Worker): the storage area and its `storage` events, Web
// Locks, BroadcastChannel, the shared wire and the merged reports — wired
// together here as the page wires them, with each postMessage a macrotask.
// Then the built-in strategies in several tabs against the fake lab.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHub, describeLockChange, PAGE_EXCHANGES } from '../../ui/lib/tab-hub.js';
import { createShims } from '../../ui/lib/tab-shims.js';
import { createTab, lanesOf, TOKEN_KEY } from '../../ui/lib/page-tab.js';
import { fakeLab, jwt } from './fake-lab.mjs';

const tick = () => new Promise((resolve) => setImmediate(resolve));
const settle = async (n = 20) => {
  for (let i = 0; i < n; i += 1) await tick();
};

/**
 * A page with `tabs` tabs: the hub and each tab's shims, postMessage as a
 * macrotask each way; `bodies` are the merged reports the hub posted to
 * the lab (which takes each). `reportOnTaken`: a tab reports after each
 * message it took in, as the Worker does (the hub believes only reports'
 * counts).
 */
function browser(tabs, { initial = {}, onFirstReport, reportOnTaken = false } = {}) {
  const shims = [];
  const seen = Array.from({ length: tabs }, () => []);
  const bodies = [];
  const hub = createHub({
    tabs,
    initial,
    postReport: async (body) => {
      bodies.push(body);
      return { ok: true, status: 200 };
    },
    onFirstReport,
    send: (tab, message) => setImmediate(() => shims[tab - 1].receive(message)),
  });
  for (let tab = 1; tab <= tabs; tab += 1) {
    shims.push(createShims({
      tab,
      initial,
      post: (message) => setImmediate(() => hub.receive(tab, message)),
      onStorage: (event) => seen[tab - 1].push(event),
      onTaken: () => {
        if (reportOnTaken) shims[tab - 1].report({ started: 0, received: 0, events: [] });
      },
    }));
  }
  return { hub, shims, seen, bodies };
}

/** A lock request that records when it is granted and holds until released. */
function holdLock(shims, name, log, label, options = {}) {
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  const done = shims.locks.request(name, options, async (lock) => {
    log.push(label);
    await released;
    return lock && lock.name;
  });
  return { done, release };
}

test('locks: one holder at a time, granted in the order the requests reach the page', async () => {
  const { shims, hub } = browser(3, { reportOnTaken: true });
  const log = [];
  const a = holdLock(shims[0], 'refresh', log, 'tab1');
  await settle();
  const b = holdLock(shims[1], 'refresh', log, 'tab2');
  await settle();
  const c = holdLock(shims[2], 'refresh', log, 'tab3');
  await settle();
  assert.deepEqual(log, ['tab1']);
  assert.deepEqual(hub.locks(), [{ name: 'refresh', held: [{ tab: 1, lane: null, mode: 'exclusive' }], waiting: [{ tab: 2, lane: null, mode: 'exclusive' }, { tab: 3, lane: null, mode: 'exclusive' }] }]);
  a.release();
  assert.equal(await a.done, 'refresh');
  await settle();
  assert.deepEqual(log, ['tab1', 'tab2']);
  b.release();
  await settle();
  assert.deepEqual(log, ['tab1', 'tab2', 'tab3']);
  c.release();
  await c.done;
  await settle();
  assert.deepEqual(hub.locks(), []);
  assert.equal(hub.relaying(), 0);
});

test('locks: shared holders together, an exclusive request waits for them and blocks later shared ones', async () => {
  const { shims } = browser(3);
  const log = [];
  const s1 = holdLock(shims[0], 'x', log, 's1', { mode: 'shared' });
  await settle();
  const ex = holdLock(shims[1], 'x', log, 'ex');
  await settle();
  const s2 = holdLock(shims[2], 'x', log, 's2', { mode: 'shared' });
  await settle();
  assert.deepEqual(log, ['s1']);
  s1.release();
  await settle();
  assert.deepEqual(log, ['s1', 'ex']);
  ex.release();
  await settle();
  assert.deepEqual(log, ['s1', 'ex', 's2']);
  s2.release();
});

test('locks: ifAvailable runs the callback with null when the lock is taken', async () => {
  const { shims } = browser(2);
  const log = [];
  const a = holdLock(shims[0], 'refresh', log, 'tab1');
  await settle();
  const got = await shims[1].locks.request('refresh', { ifAvailable: true }, (lock) => lock);
  assert.equal(got, null);
  a.release();
  await a.done;
});

test('locks: an aborted request rejects with AbortError and is never granted; the next in line is', async () => {
  const { shims } = browser(3);
  const log = [];
  const a = holdLock(shims[0], 'refresh', log, 'tab1');
  await settle();
  const controller = new AbortController();
  const b = holdLock(shims[1], 'refresh', log, 'tab2', { signal: controller.signal });
  await settle();
  const c = holdLock(shims[2], 'refresh', log, 'tab3');
  await settle();
  controller.abort();
  await assert.rejects(b.done, { name: 'AbortError' });
  await settle();
  a.release();
  await settle();
  assert.deepEqual(log, ['tab1', 'tab3']);
  c.release();
  // Already aborted: refused at once.
  await assert.rejects(shims[1].locks.request('refresh', { signal: controller.signal }, () => 1), { name: 'AbortError' });
});

test('locks: a tab whose Worker dies releases what it held and drops what it waited for', async () => {
  const { shims, hub } = browser(3);
  const log = [];
  holdLock(shims[0], 'refresh', log, 'tab1');
  await settle();
  holdLock(shims[1], 'refresh', log, 'tab2');
  await settle();
  const c = holdLock(shims[2], 'refresh', log, 'tab3');
  await settle();
  hub.tabDied(2); // a waiter goes first: nothing changes for the holder
  await settle();
  assert.deepEqual(log, ['tab1']);
  hub.tabDied(1); // the holder's tab is closed: tab 3 is next, tab 2 is gone
  await settle();
  assert.deepEqual(log, ['tab1', 'tab3']);
  assert.deepEqual(hub.locks().map((l) => l.held.map((h) => h.tab)), [[3]]);
  c.release();
  await c.done;
});

test('locks: a lock held by a tab whose requests all returned, and waited for, is named as never released', async () => {
  const { shims, hub } = browser(2);
  const log = [];
  shims[0].locks.request('refresh', { lane: 'secret#1' }, () => new Promise(() => {})); // never resolves
  await settle();
  assert.equal(hub.neverReleased(new Set([1])), null, 'nobody waits for it yet');
  holdLock(shims[1], 'refresh', log, 'tab2', { lane: 'tab2/secret#1' });
  await settle();
  assert.equal(hub.neverReleased(new Set()), null, 'its tab still runs: it may release it');
  assert.equal(hub.neverReleased(new Set([1])), 'tab2/secret#1 waits for the lock "refresh", held by secret#1, whose tab\'s requests all returned without releasing it: it is never released');
});

test('the log tells who took a lock and who let it go, by lane or, for a library\'s own lock, by tab', async () => {
  const views = [];
  const made = [];
  const hub = createHub({ tabs: 2, postReport: async () => ({ ok: true, status: 200 }), send: (tab, m) => setImmediate(() => made[tab - 1].receive(m)), onLocks: (view) => views.push(view) });
  for (let tab = 1; tab <= 2; tab += 1) made.push(createShims({ tab, post: (m) => setImmediate(() => hub.receive(tab, m)) }));
  const log = [];
  const a = holdLock(made[0], 'refresh', log, 'a', { lane: 'secret#1' });
  await settle();
  const b = holdLock(made[1], 'lock:sb', log, 'b');
  await settle();
  const c = holdLock(made[1], 'refresh', log, 'c', { lane: 'tab2/secret#1' });
  await settle();
  a.release();
  await settle();
  const lines = views.flatMap((view, i) => describeLockChange(i === 0 ? [] : views[i - 1], view));
  assert.deepEqual(lines, [
    'secret#1 holds the lock "refresh"',
    'tab 2 holds the lock "lock:sb"',
    'secret#1 released the lock "refresh"',
    'tab2/secret#1 holds the lock "refresh"',
  ]);
  b.release();
  c.release();
});

test('storage: a write reaches the other tabs as a storage event, never the writer; all copies agree', async () => {
  const { shims, seen, hub } = browser(3, { initial: { k: 'v0' } });
  shims[1].storage.setItem('k', 'v1');
  assert.equal(shims[1].storage.getItem('k'), 'v1', 'the writer reads its own write at once');
  assert.equal(shims[0].storage.getItem('k'), 'v0', 'another tab, not yet');
  assert.ok(hub.relaying() === 0, 'not even at the page yet');
  await settle();
  assert.deepEqual(seen[1], []);
  for (const tab of [0, 2]) {
    assert.deepEqual(seen[tab].map(({ key, oldValue, newValue }) => ({ key, oldValue, newValue })), [{ key: 'k', oldValue: 'v0', newValue: 'v1' }]);
    assert.equal(shims[tab].storage.getItem('k'), 'v1');
  }
  shims[0].storage.removeItem('k');
  await settle();
  assert.deepEqual(seen[2].at(-1).newValue, null);
  assert.equal(shims[2].storage.getItem('k'), null);
  assert.equal(hub.getItem('k'), null);
  assert.equal(seen[0].length, 1, 'the remover heard only the earlier write');
});

test('BroadcastChannel: every other channel of that name gets the messages in the order they were posted', async () => {
  const { shims } = browser(3);
  const got = [];
  const mine = new shims[0].BroadcastChannel('auth');
  const sibling = new shims[0].BroadcastChannel('auth');
  const other = new shims[1].BroadcastChannel('auth');
  const stranger = new shims[2].BroadcastChannel('other');
  mine.onmessage = (e) => got.push(['mine', e.data]);
  sibling.onmessage = (e) => got.push(['sibling', e.data]);
  other.addEventListener('message', (e) => got.push(['tab2', e.data]));
  stranger.onmessage = (e) => got.push(['stranger', e.data]);
  const payload = { n: 1 };
  mine.postMessage(payload);
  payload.n = 99; // a structured clone: the receivers see what was posted
  mine.postMessage({ n: 2 });
  other.postMessage({ n: 3 });
  await settle();
  assert.deepEqual(got, [
    ['sibling', { n: 1 }], ['tab2', { n: 1 }],
    ['sibling', { n: 2 }], ['tab2', { n: 2 }],
    ['mine', { n: 3 }], ['sibling', { n: 3 }],
  ]);
  other.close();
  assert.throws(() => other.postMessage(1), { name: 'InvalidStateError' });
});

test('the page reports once every tab has spoken, and counts what it relays until each tab took it in', async () => {
  const started = [];
  const { shims, hub, bodies } = browser(2, { onFirstReport: (tab) => started.push(tab) });
  const first = shims[0].report({ seq: 1, started: 1, received: 0, events: [] });
  await settle();
  assert.deepEqual(bodies, [], 'tab 2 has not spoken: the lab must not think the page settled');
  assert.deepEqual(started, [1]);
  shims[1].storage.setItem('k', 'v');
  await shims[1].report({ seq: 1, started: 0, received: 0, events: [{ kind: 'token_stored', jti: 't2', tab: 2 }] });
  await first;
  assert.deepEqual(bodies[0].tabs, [{ tab: 1, started: 1, received: 0 }, { tab: 2, started: 0, received: 0 }]);
  assert.equal(bodies.at(-1).relaying, 1, 'tab 1 has not taken the storage event in');
  await shims[0].report({ seq: 2, started: 1, received: 0, events: [] });
  await settle();
  assert.equal(bodies.at(-1).relaying, undefined);
  assert.equal(hub.relaying(), 0);
});

test('a page whose tabs all died before speaking sends no report: an empty one would read as a page at rest', async () => {
  const { shims, hub, bodies } = browser(2);
  // Tab 1 spoke; then the run failed (a tab's Worker stopped) and the page
  // ended every tab before tab 2 said anything: the page reports the
  // failure itself, the hub must not claim the tabs are at rest.
  shims[0].report({ seq: 1, started: 0, received: 0, events: [] });
  await settle();
  hub.tabDied(1);
  hub.tabDied(2);
  await settle();
  assert.deepEqual(bodies, []);
});

test("a grant a tab took in is still relayed until that tab reports: another tab's report in between does not say the page is at rest", async () => {
  const { shims, hub, bodies } = browser(2);
  // The page reports once both tabs have spoken.
  await Promise.all([0, 1].map((i) => shims[i].report({ started: 1, received: 1, events: [] })));
  // Tab 1 takes the lock, does its work at once and lets go: its `unlock`
  // says it took the grant in, but its report (with the retry it started)
  // has not been sent yet.
  const done = shims[0].locks.request('refresh', () => 'retry started');
  assert.equal(await done, 'retry started');
  await settle();
  assert.deepEqual(hub.locks(), [], 'the unlock reached the page');
  await shims[1].report({ started: 1, received: 1, events: [] });
  assert.equal(bodies.at(-1).relaying, 1, 'the grant counts until tab 1 reports having taken it in');
  await shims[0].report({ started: 2, received: 1, events: [] });
  assert.equal(bodies.at(-1).relaying, undefined);
  assert.equal(bodies.at(-1).started, 3);
});

test('the wire: at most PAGE_EXCHANGES exchanges of all tabs at once, handed on in request order', async () => {
  const { shims } = browser(2);
  const order = [];
  const ask = (tab, label) => shims[tab - 1].wire().then(() => order.push(label));
  for (let n = 1; n <= 3; n += 1) ask(1, `t1-${n}`);
  await settle();
  ask(2, 't2-1');
  ask(2, 't2-2');
  await settle();
  assert.equal(order.length, PAGE_EXCHANGES);
  shims[0].wireFree();
  await settle();
  assert.deepEqual(order, ['t1-1', 't1-2', 't1-3', 't2-1']);
});

test('an exchange leaves only once the lab has the events before it, also when their report left while the tab waited for the wire', async () => {
  // The page is slow to grant the wire (its thread is busy): the tab falls
  // quiet meanwhile and its report, with the queued event, leaves first.
  // The lab records the exchange when it arrives and the event when its
  // report does, over two connections: had the exchange left before the
  // lab answered that report, either could arrive first.
  const log = [];
  let grant = null;
  let answerReport = null;
  let shims = null;
  const hub = createHub({
    tabs: 1,
    initial: {},
    send: (tab, message) => {
      const deliver = () => setImmediate(() => shims.receive(message));
      if (message.op === 'wire-granted' && answerReport === null) grant = deliver;
      else deliver();
    },
    postReport: (body) => {
      if (!body.events.some((e) => e.kind === 'queued')) return Promise.resolve({ ok: true, status: 200 });
      log.push('report with queued');
      grant?.();
      return new Promise((resolve) => {
        answerReport = () => {
          log.push('report answered');
          resolve({ ok: true, status: 200 });
        };
      });
    },
  });
  shims = createShims({ tab: 1, initial: {}, post: (m) => setImmediate(() => hub.receive(1, m)), onTaken: () => tab.tookIn() });
  const fetch = async (url) => {
    log.push(`exchange ${url}`);
    return { status: 200, ok: true, json: async () => ({}) };
  };
  const page = { api: '/api', report: '/report', token: jwt('t1'), first_attempt: 2 };
  const tab = createTab({ page, fetch, later: (fn) => setTimeout(fn, 0), after: (ms, fn) => setTimeout(fn, ms), shared: shims });
  const ran = tab.run(async (req, api) => {
    api.queued();
    const { status } = await api.send(req, api.token());
    return { status };
  }, lanesOf({ secret: 1, public: 0 }));
  while (answerReport === null) await tick();
  await settle();
  assert.deepEqual(log, ['report with queued'], 'the exchange waits for the lab to answer the report');
  answerReport();
  await ran;
  assert.deepEqual(log, ['report with queued', 'report answered', 'exchange /api/secret']);
});

// --- the built-in strategies in several tabs ------------------------------

/** Runs `strategy` (a file of ui/strategies) in `tabs` tabs of one page against `lab`. */
async function runTabs(lab, strategy, { tabs, crossTab, secret = 2, stuckMs, grantDelayMs = 0 }) {
  const initial = { [TOKEN_KEY]: jwt('t1') };
  const page = { api: '/api', report: '/report', token: jwt('t1'), first_attempt: 2 };
  const settings = { secret, public: 0, late: false, cross_tab: crossTab, tabs };
  let run;
  const ran = [];
  const hubTabs = [];
  const { shims } = (() => {
    const made = [];
    const hub = createHub({
      tabs,
      initial,
      // `grantDelayMs`: a busy page, slow to hand out places on the wire.
      send: (tab, message) => (message.op === 'wire-granted' && grantDelayMs > 0
        ? setTimeout(() => made[tab - 1].receive(message), grantDelayMs)
        : setImmediate(() => made[tab - 1].receive(message))),
      postReport: async (body) => {
        const response = await lab.fetch('/report', { body: JSON.stringify(body), headers: {} });
        return { ok: response.ok, status: response.status };
      },
      onFirstReport: (tab) => {
        if (tab < tabs) run(tab + 1);
      },
    });
    hubTabs.push(hub);
    for (let tab = 1; tab <= tabs; tab += 1) {
      made.push(createShims({ tab, initial, post: (m) => setImmediate(() => hub.receive(tab, m)), onTaken: () => ran[tab - 1]?.tab.tookIn() }));
    }
    return { shims: made };
  })();
  const finished = [];
  run = (tab) => {
    // One module instance per tab, as one Worker per tab has.
    const loaded = import(`../../ui/strategies/${strategy}.js?tab=${tab}&run=${Math.random()}`);
    const tabHarness = createTab({ page, fetch: lab.fetch, later: (fn) => setTimeout(fn, 0), after: (ms, fn) => setTimeout(fn, ms), tab, tabs, shared: shims[tab - 1], ...(stuckMs ? { stuckMs } : {}) });
    ran[tab - 1] = { tab: tabHarness };
    finished.push(loaded.then((module) => tabHarness.run(module.request, lanesOf(settings, tab))));
  };
  run(1);
  // A held lab: once the page has settled, the oldest exchange comes back
  // (the lab's step in due order), so every tab's first 401 is out before
  // any refresh.
  let over = false;
  const all = (async () => {
    try {
      while (finished.length < tabs) await tick();
      await Promise.all(finished);
    } finally {
      over = true; // a tab that failed ends the run too: its error is the test's
    }
  })();
  while (!over) {
    await settle(30);
    // The lab hears from the page once all tabs have started.
    if (lab.reports.length === 0) continue;
    const next = lab.held.shift();
    if (next) next.release();
  }
  await all;
  return lab;
}

const refreshes = (lab) => lab.calls.filter((c) => c.op === 'refresh');

test('a tab waiting longer than the stuck check for its place on the wire is not stuck: the run ends well', async () => {
  // The page grants places 120 ms late; a tab with nothing on the network
  // for 20 ms would otherwise be judged a module that never returns.
  const lab = await runTabs(fakeLab({ hold: true }), 'single-flight', { tabs: 2, crossTab: 'lock', secret: 1, stuckMs: 20, grantDelayMs: 120 });
  assert.equal(refreshes(lab).length, 1);
  assert.deepEqual(lab.reports.at(-1).end, { outcome: 'done' });
});

test('three tabs of single-flight without a lock: one refresh per tab, two refused (reused), the losers log out', async () => {
  const lab = await runTabs(fakeLab({ hold: true }), 'single-flight', { tabs: 3, crossTab: 'none', secret: 1 });
  assert.equal(refreshes(lab).length, 3);
  assert.deepEqual(refreshes(lab).map((c) => c.jti), ['t1', 't1', 't1']);
  assert.deepEqual(refreshes(lab).map((c) => c.lane).sort(), ['secret#1', 'tab2/secret#1', 'tab3/secret#1']);
  const events = lab.events();
  assert.equal(events.filter((e) => e.kind === 'token_stored').length, 1);
  assert.ok(events.filter((e) => e.kind === 'logged_out').every((e) => [1, 2, 3].includes(e.tab)));
  // Attempts of the tabs never collide.
  const attempts = lab.calls.map((c) => c.attempt);
  assert.equal(new Set(attempts).size, attempts.length);
  assert.deepEqual(lab.reports.at(-1).end, { outcome: 'done' });
});

test('three tabs of single-flight with the cross-tab lock: one refresh for the browser, every request served', async () => {
  const lab = await runTabs(fakeLab({ hold: true }), 'single-flight', { tabs: 3, crossTab: 'lock' });
  assert.equal(refreshes(lab).length, 1);
  const done = lab.events().filter((e) => e.kind === 'request_done');
  assert.equal(done.length, 6);
  assert.ok(done.every((e) => e.ok), JSON.stringify(done));
  assert.equal(lab.events().filter((e) => e.kind === 'logged_out').length, 0);
  // The lanes that found the lock taken waited for it, on the timeline.
  assert.equal(lab.events().filter((e) => e.kind === 'queued').length, 5);
});

test('naive in two tabs with the cross-tab lock: the second tab re-reads the store and does not refresh again', async () => {
  const lab = await runTabs(fakeLab({ hold: true }), 'naive', { tabs: 2, crossTab: 'lock', secret: 1 });
  assert.equal(refreshes(lab).length, 1);
  assert.equal(lab.calls.filter((c) => c.op === 'retry').length, 2);
});

test('the lock holds a run folds from the hub\'s lock views: each take counted once, by tab', async () => {
  const { foldLockHolds, describeHolds, holderTab } = await import('../../ui/lib/tab-hub.js');
  assert.equal(holderTab({ lane: 'tab3/secret#1' }), 3);
  assert.equal(holderTab({ lane: 'secret#2' }), 1);
  assert.equal(holderTab({ tab: 2 }), 2);
  const lock = (...held) => [{ name: 'lock:sb', held, waiting: [] }];
  let holds = {};
  let before = [];
  for (const view of [lock({ tab: 1 }), lock({ tab: 1 }), [], lock({ tab: 2 }), [], lock({ tab: 1 }), []]) {
    holds = foldLockHolds(holds, before, view);
    before = view;
  }
  assert.deepEqual(holds, { 1: { 'lock:sb': 2 }, 2: { 'lock:sb': 1 } });
  assert.equal(describeHolds(holds[1]), 'held "lock:sb" twice');
  assert.equal(describeHolds(holds[2]), 'held "lock:sb" once');
  assert.equal(describeHolds(holds[3]), null);
});

test('in OAuth mode the harness refreshes with the RFC 6749 form, keeps the refresh token beside the access token and names the refused one on logout', async () => {
  const { REFRESH_KEY, credentialName, initialStorage } = await import('../../ui/lib/page-tab.js');
  assert.equal(credentialName('r7.0a1b'), 'r7');
  assert.equal(credentialName(jwt('t3')), 't3');
  assert.deepEqual(initialStorage({ token: 'a', refresh_token: 'r1.00' }), { [TOKEN_KEY]: 'a', [REFRESH_KEY]: 'r1.00' });
  const sent = [];
  const reports = [];
  let rotated = 1;
  const fetch = async (url, init) => {
    if (url === '/report') {
      reports.push(JSON.parse(init.body));
      return { status: 200, ok: true, json: async () => ({ ok: true }) };
    }
    sent.push({ url, type: init.headers['content-type'] ?? null, body: init.body ?? null, auth: init.headers.authorization ?? null });
    if (url.endsWith('/refresh')) {
      const form = new URLSearchParams(init.body);
      if (form.get('refresh_token') !== `r${rotated}.00`) return { status: 400, ok: false, json: async () => ({ error: 'invalid_grant', reason: 'reused' }) };
      rotated += 2;
      return { status: 200, ok: true, json: async () => ({ access_token: jwt(`t${rotated - 1}`), refresh_token: `r${rotated}.00`, expires_in: 3600, token_type: 'Bearer' }) };
    }
    return { status: 200, ok: true, json: async () => ({}) };
  };
  const tab = createTab({ page: { api: '/api', report: '/report', token: jwt('t1'), refresh_token: 'r1.00', first_attempt: 2 }, fetch, later: (fn) => setTimeout(fn, 0), after: (ms, fn) => setTimeout(fn, ms), oauth: true });
  const outcomes = [];
  await tab.run(async (req, api) => {
    const presented = api.refreshToken();
    const answer = await api.refresh(presented);
    outcomes.push([presented, answer.ok, answer.ok ? answer.refresh : answer.reason]);
    if (answer.ok) api.store(answer.token, answer.refresh);
    else api.logout(answer.reason);
    return { status: answer.ok ? 200 : 401 };
  }, lanesOf({ secret: 2, public: 0 }));
  // Both lanes present r1 (no single flight): the first rotates it to r3, the second is refused.
  assert.deepEqual(outcomes, [['r1.00', true, 'r3.00'], ['r1.00', false, 'reused']]);
  assert.deepEqual(sent.map((s) => [s.url, s.type, s.auth]), [['/api/refresh', 'application/x-www-form-urlencoded', null], ['/api/refresh', 'application/x-www-form-urlencoded', null]]);
  assert.equal(sent[0].body, 'grant_type=refresh_token&refresh_token=r1.00');
  const events = reports.flatMap((r) => r.events);
  assert.deepEqual(events.filter((e) => e.kind !== 'request_done').map((e) => [e.kind, e.jti]), [['token_stored', 't2'], ['logged_out', 'r1']]);
  // The logout drops both tokens.
  assert.equal(tab.token(), null);
});
