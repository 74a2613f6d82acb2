// The real libraries on the bench (ui/lib/libraries.js, ui/lib/axios-bench.js,
// ui/strategies/axios-auth-refresh-*.js): the vendored library code through
// the tab harness against a fake strict server in this process, answers
// released in an order the test picks (as hand mode does); their option
// checks; the list agreeing with package.json; and the timeline's word for
// a request a library passed to the caller. The same in real Chromium
// against the real lab: tests/e2e/libraries.test.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTab, lanesOf } from '../../ui/lib/page-tab.js';
import { LIBRARIES, libraryNamed, checkOptions, describeOptions } from '../../ui/lib/libraries.js';
import { bearerOf } from '../../ui/lib/axios-bench.js';
import { laneFate } from '../../ui/lib/timeline-lanes.js';
import { createRunState, applyMessage } from '../../ui/lib/reducer.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
import { fakeLab, jwt } from './fake-lab.mjs';

/** Lets every task the tab and the library queued run (the harness reports on a macrotask). */
async function settle() {
  for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve));
}


/** A fresh copy of a library's adapter: one module instance per tab, as each run's Worker has. */
let copies = 0;
const adapter = (library) => import(`../../ui/strategies/${library.file}.js?tab=${(copies += 1)}`);

/** Starts a tab of `secret` expired requests with `library` and `options`. */
async function bench(name, { secret = 3, options = {} } = {}) {
  const module = await adapter(libraryNamed(name));
  module.configure(options);
  const lab = fakeLab({ hold: true });
  const tab = createTab({
    page: { api: '/api', report: '/report', token: jwt('t1'), first_attempt: 2 },
    fetch: lab.fetch,
    later: (fn) => setTimeout(fn, 0),
    after: (ms, fn) => setTimeout(fn, ms),
    stuckMs: 1000,
  });
  const finished = tab.run(module.request, lanesOf({ secret, public: 0 }));
  await settle();
  return { lab, module, finished };
}

/** Answers the oldest exchange waiting on `lane`. */
async function deliver(lab, lane) {
  const at = lab.held.findIndex((p) => p.lane === lane);
  assert.ok(at >= 0, `${lane} has an exchange out (out now: ${lab.held.map((p) => `${p.lane} ${p.op}`).join(', ')})`);
  lab.held.splice(at, 1)[0].release();
  await settle();
}

/** Answers everything in the order it went out, until nothing is left. */
async function inOrder(lab) {
  while (lab.held.length) await deliver(lab, lab.held[0].lane);
}

const ops = (lab) => lab.calls.map((c) => `${c.lane} ${c.op} ${c.jti}`);
const doneOf = (lab) => Object.fromEntries(lab.events().filter((e) => e.kind === 'request_done').map((e) => [e.lane, e.status]));
const kinds = (lab, kind) => lab.events().filter((e) => e.kind === kind);

test('axios-auth-refresh 5 (defaults): one refresh, and the two 401s that land during it go to the caller', async () => {
  const { lab, finished, module } = await bench('axios-auth-refresh@5');
  await inOrder(lab);
  await finished;
  assert.deepEqual(ops(lab), [
    'secret#1 request t1', 'secret#2 request t1', 'secret#3 request t1',
    'secret#1 refresh t1', 'secret#1 retry t2',
  ]);
  assert.deepEqual(doneOf(lab), { 'secret#1': 200, 'secret#2': 401, 'secret#3': 401 });
  assert.equal(kinds(lab, 'queued').length, 0, 'the library held nobody: it let them through');
  assert.deepEqual(module.state(), { refreshing: false, held: 0, errorsToCaller: 2 });
});

test('axios-auth-refresh 3 (defaults): the 401s that land during the refresh wait for it and retry', async () => {
  const { lab, finished } = await bench('axios-auth-refresh@3');
  await inOrder(lab);
  await finished;
  assert.deepEqual(ops(lab), [
    'secret#1 request t1', 'secret#2 request t1', 'secret#3 request t1',
    'secret#1 refresh t1', 'secret#1 retry t2', 'secret#2 retry t2', 'secret#3 retry t2',
  ]);
  assert.deepEqual(doneOf(lab), { 'secret#1': 200, 'secret#2': 200, 'secret#3': 200 });
  assert.deepEqual(kinds(lab, 'queued').map((e) => [e.lane, e.jti]), [['secret#2', 't1'], ['secret#3', 't1']]);
});

test('axios-auth-refresh 3 (defaults) refreshes twice when a 401 lands after the first refresh and its retry are over', async () => {
  const { lab, finished } = await bench('axios-auth-refresh@3', { secret: 2 });
  for (const lane of ['secret#1', 'secret#1', 'secret#1', 'secret#2', 'secret#2']) await deliver(lab, lane);
  await finished;
  assert.deepEqual(ops(lab), [
    'secret#1 request t1', 'secret#2 request t1',
    'secret#1 refresh t1', 'secret#1 retry t2',
    'secret#2 refresh t1',
  ]);
  assert.deepEqual(doneOf(lab), { 'secret#1': 200, 'secret#2': 400 });
  assert.deepEqual(kinds(lab, 'logged_out').map((e) => [e.jti, e.reason]), [['t1', 'reused']]);
});

test('axios-auth-refresh 3 with pauseInstanceWhileRefreshing: the 401s during the refresh go to the caller, as 5 does', async () => {
  const { lab, finished } = await bench('axios-auth-refresh@3', { options: { pauseInstanceWhileRefreshing: true } });
  await inOrder(lab);
  await finished;
  assert.deepEqual(doneOf(lab), { 'secret#1': 200, 'secret#2': 401, 'secret#3': 401 });
  assert.equal(lab.calls.filter((c) => c.op === 'refresh').length, 1);
});

test('axios-auth-refresh 5 with deduplicateRefresh false: every 401 of the burst waits for the one refresh', async () => {
  const { lab, finished } = await bench('axios-auth-refresh@5', { options: { deduplicateRefresh: false } });
  await inOrder(lab);
  await finished;
  assert.deepEqual(doneOf(lab), { 'secret#1': 200, 'secret#2': 200, 'secret#3': 200 });
  assert.equal(lab.calls.filter((c) => c.op === 'refresh').length, 1);
  assert.equal(kinds(lab, 'queued').length, 2);
});

test('a status code the library is not told about goes to the caller untouched', async () => {
  const { lab, finished } = await bench('axios-auth-refresh@5', { secret: 1, options: { statusCodes: [403] } });
  await inOrder(lab);
  await finished;
  assert.deepEqual(ops(lab), ['secret#1 request t1']);
  assert.deepEqual(doneOf(lab), { 'secret#1': 401 });
});

test('the options each library documents are checked, in words a learner can act on', () => {
  const v5 = libraryNamed('axios-auth-refresh@5');
  const v3 = libraryNamed('axios-auth-refresh@3');
  assert.deepEqual(checkOptions(v5, ''), { ok: true, options: {} });
  assert.deepEqual(checkOptions(v5, ' {"statusCodes": [401, 403], "deduplicateRefresh": false} '), { ok: true, options: { statusCodes: [401, 403], deduplicateRefresh: false } });
  assert.deepEqual(checkOptions(v3, '{"pauseInstanceWhileRefreshing": true}'), { ok: true, options: { pauseInstanceWhileRefreshing: true } });
  const refused = (library, text) => {
    const check = checkOptions(library, text);
    assert.equal(check.ok, false, text);
    return check.message;
  };
  assert.match(refused(v5, '{statusCodes: [401]}'), /^The options are not JSON: .*Write an object/);
  assert.match(refused(v5, '[401]'), /must be one JSON object/);
  assert.equal(refused(v5, '{"pauseInstanceWhileRefreshing": true}'), 'pauseInstanceWhileRefreshing is not an option of axios-auth-refresh 5.0.2; its nearest is deduplicateRefresh. Options: statusCodes, deduplicateRefresh, maxRetries, interceptNetworkError.');
  assert.equal(refused(v3, '{"deduplicateRefresh": true}'), 'deduplicateRefresh is not an option of axios-auth-refresh 3.3.6; its nearest is pauseInstanceWhileRefreshing. Options: statusCodes, pauseInstanceWhileRefreshing, skipWhileRefreshing, interceptNetworkError.');
  assert.equal(refused(v5, '{"retries": 2}'), 'retries is not an option of axios-auth-refresh 5.0.2. Options: statusCodes, deduplicateRefresh, maxRetries, interceptNetworkError.');
  assert.match(refused(v5, '{"onRetry": "x"}'), /^onRetry is a function .* JSON cannot carry it/);
  assert.equal(refused(v5, '{"deduplicateRefresh": "yes"}'), 'deduplicateRefresh must be true or false, not "yes"');
  assert.equal(refused(v5, '{"statusCodes": []}'), 'statusCodes must be a list of 1 to 10 HTTP status codes, like [401] or [401, 403]');
  assert.equal(refused(v5, '{"statusCodes": [401, 99]}'), 'statusCodes: 99 is not an HTTP status code (100 to 599)');
  assert.equal(refused(v5, '{"maxRetries": 1.5}'), 'maxRetries must be a whole number from 0 to 10, not 1.5');
  // Each option shown with its default and the README's words.
  assert.deepEqual(describeOptions(v5).map((o) => [o.name, o.default]), [['statusCodes', '[401]'], ['deduplicateRefresh', 'true'], ['maxRetries', '3'], ['interceptNetworkError', 'false']]);
  assert.ok(describeOptions(v3).every((o) => o.doc.length > 20));
});

test('the list names each library once, at the version package.json pins, with its adapter and licence', () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  assert.equal(new Set(LIBRARIES.map((l) => l.name)).size, LIBRARIES.length);
  for (const library of LIBRARIES) {
    assert.match(library.name, /^[\w.-]+(@\d+(\.\d+)?|-recipe)$/, 'library@major, @major.minor where two minors differ, or a docs recipe');
    assert.ok(library.name.length <= 60, 'fits the lab\'s module label');
    // An npm alias where two versions sit side by side; else the package itself.
    assert.equal(pkg.devDependencies[library.npm], library.npm === library.package ? library.version : `npm:${library.package}@${library.version}`);
    for (const [name, version] of Object.entries(library.also ?? {})) assert.equal(pkg.devDependencies[name], version);
    if (library.name.includes('@')) {
      assert.ok(library.version.startsWith(`${library.name.split('@').pop()}.`), `${library.name} names ${library.version}`);
      assert.ok(library.package.replace(/^@/, '').replace(/[/]/g, '-').startsWith(library.name.split('@')[0].split('-')[0]), `${library.name} names ${library.package}`);
    }
    assert.match(readFileSync(path.join(REPO, 'ui', 'strategies', `${library.file}.js`), 'utf8'), /export (const request|async function request)/);
    assert.match(readFileSync(path.join(REPO, 'ui', 'vendor', 'licenses', `${library.npm}.LICENSE`), 'utf8'), /MIT License|Permission is hereby granted|Apache License/);
  }
});

test('bearerOf reads the token from axios headers, plain or AxiosHeaders', () => {
  assert.equal(bearerOf({ Authorization: 'Bearer abc' }), 'abc');
  assert.equal(bearerOf({ get: (name) => (name === 'Authorization' ? 'Bearer x.y.z' : undefined) }), 'x.y.z');
  assert.equal(bearerOf({}), null);
  assert.equal(bearerOf(undefined), null);
});

/** A run's lanes from events, as the page folds them. */
function lanesFrom(events) {
  const state = createRunState({ strategy: 'naive', policy: 'strict', settings: {} });
  applyMessage(state, { type: 'start', run: 1, settings: { strategy: 'naive', policy: 'strict' } });
  events.forEach((event, seq) => applyMessage(state, { type: 'event', event: { seq, t_us: seq * 1000, ...event } }));
  return state.lanes;
}

test('the timeline tells a 401 passed to the caller from one that waited, refreshed or was answered', () => {
  const lanes = lanesFrom([
    { lane: 'secret#1', kind: 'request_sent', attempt: 2, route: '/api/secret', jti: 't1' },
    { lane: 'secret#2', kind: 'request_sent', attempt: 3, route: '/api/secret', jti: 't1' },
    { lane: 'secret#3', kind: 'request_sent', attempt: 4, route: '/api/secret', jti: 't1' },
    { lane: 'public#1', kind: 'request_sent', attempt: 5, route: '/api/public', jti: 't1' },
    { lane: 'secret#1', kind: 'response', attempt: 2, route: '/api/secret', status: 401, reason: 'expired', jti: 't1' },
    { lane: 'secret#1', kind: 'refresh_sent', attempt: 6, jti: 't1' },
    { lane: 'secret#2', kind: 'response', attempt: 3, route: '/api/secret', status: 401, reason: 'expired', jti: 't1' },
    { lane: 'secret#2', kind: 'request_done', ok: false, status: 401 },
    { lane: 'secret#3', kind: 'response', attempt: 4, route: '/api/secret', status: 401, reason: 'expired', jti: 't1' },
    { lane: 'secret#3', kind: 'queued', jti: 't1' },
    { lane: 'public#1', kind: 'response', attempt: 5, route: '/api/public', status: 200, reason: null, jti: 't1' },
    { lane: 'public#1', kind: 'request_done', ok: true, status: 200 },
    { lane: 'secret#1', kind: 'refresh_done', attempt: 6, status: 200, jti: 't1', new_jti: 't2' },
    { lane: 'secret#1', kind: 'retry_sent', attempt: 7, route: '/api/secret', jti: 't2' },
    { lane: 'secret#3', kind: 'retry_sent', attempt: 8, route: '/api/secret', jti: 't2' },
    { lane: 'secret#1', kind: 'response', attempt: 7, route: '/api/secret', status: 200, reason: null, jti: 't2' },
    { lane: 'secret#1', kind: 'request_done', ok: true, status: 200 },
    { lane: 'secret#3', kind: 'response', attempt: 8, route: '/api/secret', status: 200, reason: null, jti: 't2' },
    { lane: 'secret#3', kind: 'request_done', ok: true, status: 200 },
  ]);
  assert.deepEqual(Object.fromEntries([...lanes].map(([name, lane]) => [name, laneFate(lane)])), {
    'secret#1': 'refreshed',
    'secret#2': 'passed',
    'secret#3': 'waited',
    'public#1': 'answered',
  });
  assert.equal(laneFate({ attempts: [], queued: [], done: null }), null, 'still running');
});

test('docs/libraries.md is the generated table, with every library and every policy', () => {
  const table = readFileSync(path.join(REPO, 'docs', 'libraries.md'), 'utf8');
  assert.match(table, /Generated by scripts\/library-table\.mjs from real runs/);
  for (const library of LIBRARIES) {
    assert.ok(table.includes(`## ${library.package} ${library.version} (\`${library.name}\`)`), `${library.name} has its section`);
  }
  for (const policy of ['strict', 'family', 'grace', 'none', 'non-atomic']) {
    assert.ok(table.includes(`| defaults | ${policy} |`), `${policy} is measured`);
  }
});

test('a library run carries its options in its settings (module_options), and none when they are the defaults', async () => {
  const { libraryRun, libraryNamed } = await import('../../ui/lib/libraries.js');
  const library = libraryNamed('axios-auth-refresh@5');
  const base = { case: 'expired-refreshable', strategy: 'queue', policy: 'strict' };
  assert.deepEqual(libraryRun(base, library), { ...base, strategy: 'naive', runtime: 'browser', module: 'axios-auth-refresh@5' });
  assert.deepEqual(libraryRun(base, library, { deduplicateRefresh: false }).module_options, { deduplicateRefresh: false });
  assert.equal('module_options' in libraryRun(base, library, {}), false);
});

test('the client picker groups built-ins, your code and the libraries with their versions', async () => {
  const { pickerGroups, siblingVersions } = await import('../../ui/lib/libraries.js');
  const rust = pickerGroups({ builtins: ['naive', 'queue'], runtime: 'rust', own: 'your interceptor' });
  assert.deepEqual(rust.map((g) => g.key), ['builtins']);
  assert.deepEqual(rust[0].options.map((o) => o.value), ['naive', 'queue']);
  const browser = pickerGroups({ builtins: ['naive'], runtime: 'browser', own: 'your interceptor' });
  assert.deepEqual(browser.map((g) => g.label), ['built-in strategies', 'your code', 'libraries (their real code)']);
  assert.deepEqual(browser[1].options.map((o) => o.value), ['your interceptor']);
  assert.deepEqual(browser[2].options.map((o) => o.value), LIBRARIES.map((l) => l.name));
  assert.ok(browser[2].options.some((o) => o.label === 'oidc-client-ts@3 (3.5.0)'));
  assert.deepEqual(siblingVersions('supabase-auth@2.106'), ['supabase-auth@2.119']);
  assert.deepEqual(siblingVersions('naive'), []);
});

test('a library\'s own run settings are named for the controls they override (the token lifetime a library run really uses)', async () => {
  const { libraryOverrides, libraryRun } = await import('../../ui/lib/libraries.js');
  assert.deepEqual(libraryOverrides(libraryNamed('supabase-auth@2.119')).map((o) => [o.control, o.value]), [['access-ttl', '3600']]);
  assert.deepEqual(libraryOverrides(libraryNamed('oidc-client-ts@3')).map((o) => [o.control, o.value]), [['access-ttl', '3600'], ['mode', 'oauth']]);
  assert.deepEqual(libraryOverrides(libraryNamed('ky-recipe')), []);
  assert.deepEqual(libraryOverrides(null), []);
  // Each override is what the run's settings get.
  for (const library of LIBRARIES) {
    const run = libraryRun({ access_ttl_s: 5, mode: 'article' }, library);
    for (const o of libraryOverrides(library)) assert.equal(String(run[o.control === 'access-ttl' ? 'access_ttl_s' : 'mode']), o.value);
  }
});
