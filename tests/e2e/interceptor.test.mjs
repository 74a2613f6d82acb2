// The exercise: write your own interceptor. A learner loads a module from a
// file, grades it against the fixed checks (real browser-runtime runs), opens
// a check's timeline; broken modules (an endless loop, a syntax error) give
// their messages within seconds and the page keeps answering.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { useLab, REPO, engineExplore, engineArgs } from './harness.mjs';
import { CHECKS, ORDER_POLICIES, orderSettings, gradeOrders } from '../../ui/lib/grader.js';

const lab = useLab();

const strategyFile = (name) => readFileSync(path.join(REPO, 'ui', 'strategies', `${name}.js`));

async function ownPanel(page) {
  await page.click('[data-action="code"]');
  await page.locator('[data-code-panel]:not([hidden])').waitFor();
  await page.click('[data-action="own-code"]');
  await page.locator('[data-code-panel][data-mode="own"]').waitFor();
}

async function load(page, name, buffer) {
  await page.setInputFiles('[data-control="code-file"]', { name, mimeType: 'text/javascript', buffer });
}

/** Grades the editor's module; resolves with { passed, total, checks: {id: pass} }. */
async function grade(page) {
  await page.click('[data-action="grade"]');
  await page.waitForFunction(() => {
    const card = document.querySelector('[data-grade]');
    return card && !card.hidden && card.getAttribute('data-state') === 'done' && card.getAttribute('data-total') === '7';
  }, null, { timeout: 300_000 });
  return page.evaluate(() => {
    const card = document.querySelector('[data-grade]');
    const checks = Object.fromEntries([...card.querySelectorAll('[data-check]')].map((row) => [row.dataset.check, row.dataset.pass === 'true']));
    return { passed: Number(card.dataset.passed), total: Number(card.dataset.total), checks };
  });
}

/** A check's row on the card: how many orders it was graded over, how many failed. */
async function counted(page, id) {
  const row = page.locator(`[data-grade] [data-check="${id}"]`);
  return [Number(await row.getAttribute('data-orders')), Number(await row.getAttribute('data-failing'))];
}

/**
 * What the engine counts for the several-tabs check over every order of its
 * bound, with the Rust twin `strategy` (and `crossTab`): [orders, failing].
 */
function engineTabsRow(strategy, crossTab) {
  const check = CHECKS.find((c) => c.id === 'several-tabs');
  const row = gradeOrders(check, ORDER_POLICIES.map((policy) => ({
    policy, exploration: engineExplore(engineArgs(orderSettings(check, policy), strategy, crossTab)),
  })));
  return [row.orders, row.failing];
}

/** The score card's text: why each check failed, for an assertion's message. */
function cardText(page) {
  return page.locator('[data-grade]').innerText();
}

test('a naive module fails the several-requests, late-401 and several-tabs checks (in k of M orders: the engine\'s counts); single-flight with api.lock passes all seven', async () => {
  const { page, errors } = await lab.open({ width: 1600, height: 1000 });
  try {
    await ownPanel(page);
    await load(page, 'naive.js', strategyFile('naive'));
    const naive = await grade(page);
    assert.equal(naive.checks['several-requests'], false);
    assert.equal(naive.checks['late-401'], false);
    assert.equal(naive.checks['answer-after-401s'], false);
    assert.equal(naive.checks.guest, true);
    assert.equal(naive.checks.valid, true);
    assert.equal(naive.checks['several-tabs'], false);
    assert.equal(naive.passed, 2);
    const naiveTabs = engineTabsRow('naive', 'none');
    assert.ok(naiveTabs[1] > 0, 'two naive tabs refresh twice in some order');
    assert.deepEqual(await counted(page, 'several-tabs'), naiveTabs, 'naive: the several-tabs row counts what the engine counts');

    // A row opens its check's timeline with the graded module.
    await page.click('[data-check="several-requests"]');
    await page.locator('[data-timeline][data-state="done"][data-runtime="browser"]').waitFor({ timeout: 20_000 });
    assert.equal(await page.getAttribute('[data-verdict]', 'data-refresh-calls'), '3');

    // single-flight without api.lock fails the several-tabs check in k of M
    // orders: explore-page.test.mjs counts its two tabs against the engine.
    // The cross-tab fix: single-flight that always takes the lock across tabs.
    const locked = String(strategyFile('single-flight')).replace("if (req.crossTab !== 'lock') return handle();", '');
    assert.notEqual(locked, String(strategyFile('single-flight')));
    await load(page, 'single-flight-locked.js', Buffer.from(locked));
    const good = await grade(page);
    assert.deepEqual(good, { passed: 7, total: 7, checks: Object.fromEntries(Object.keys(naive.checks).map((id) => [id, true])) }, await cardText(page));
    // ... and passes every order of two tabs, as the engine's single-flight with its lock across tabs.
    const locked2 = engineTabsRow('single-flight', 'lock');
    assert.equal(locked2[1], 0);
    assert.deepEqual(await counted(page, 'several-tabs'), locked2);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('Run plays the current case with your module and marks the line of each exchange', async () => {
  const { page, errors } = await lab.open({ width: 1600, height: 1000 });
  try {
    await ownPanel(page);
    await load(page, 'queue.js', strategyFile('queue'));
    await page.click('[data-case="expired-refreshable"]'); // the case Run plays
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    await page.click('[data-action="run-code"]');
    await page.locator('[data-timeline][data-state="done"][data-runtime="browser"]').waitFor({ timeout: 20_000 });
    assert.match(await page.textContent('.timeline-title'), /your interceptor client/);
    assert.equal(await page.getAttribute('[data-verdict]', 'data-refresh-calls'), '1');
    // The last exchange was a retry: `return fresh ? api.send(req, fresh) : answer;` in the module.
    const line = Number(await page.getAttribute('[data-code-panel]', 'data-current-line'));
    const source = strategyFile('queue').toString().split('\n');
    assert.match(source[line - 1], /api\.send\(req, fresh\)/, `line ${line}: ${source[line - 1]}`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('an endless loop and a syntax error give their messages within seconds; the page keeps answering', async () => {
  const { page, errors } = await lab.open({ width: 1600, height: 1000 });
  try {
    await ownPanel(page);
    await load(page, 'loop.js', Buffer.from('export async function request(req, api) {\n  while (true) {}\n}\n'));
    const started = Date.now();
    await page.click('[data-action="run-code"]');
    await page.locator('[data-code-error]:has-text("without yielding")').waitFor({ timeout: 10_000 });
    assert.ok(Date.now() - started < 10_000);
    await page.locator('[data-timeline][data-state="error"]').waitFor({ timeout: 10_000 });
    // The page still answers: a Rust run of case 2 plays to its end.
    await page.selectOption('[data-control="runtime"]', 'rust');
    await page.click('[data-case="valid"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });

    await load(page, 'broken.js', Buffer.from('export async function request(req, api) {\n  return { status: 200 \n'));
    await page.locator('[data-code-error][data-line]').waitFor({ timeout: 5_000 });
    assert.match(await page.textContent('[data-code-error]'), /^line 3, column 1: Unexpected token/);
    assert.deepEqual(errors.filter((e) => !/status of 500/.test(e)), []);
  } finally {
    await page.close();
  }
});

test('a module reaches nothing but its api: no fetch, XHR, WebSocket or importScripts in its Worker', async () => {
  const { page, errors } = await lab.open({ width: 1600, height: 1000 });
  try {
    await ownPanel(page);
    const probe = [
      'export async function request(req, api) {',
      "  const open = ['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'importScripts', 'indexedDB', 'caches']",
      "    .filter((name) => typeof globalThis[name] !== 'undefined' && globalThis[name] !== null);",
      "  if (open.length) throw new Error('reachable: ' + open.join(', '));",
      '  return api.send(req, api.token());',
      '}',
      '',
    ].join('\n');
    await load(page, 'probe.js', Buffer.from(probe));
    await page.click('[data-case="valid"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    await page.click('[data-action="run-code"]');
    await page.locator('[data-timeline][data-runtime="browser"]:is([data-state="done"], [data-state="error"])').waitFor({ timeout: 20_000 });
    assert.equal(await page.getAttribute('[data-timeline]', 'data-state'), 'done', await page.textContent('[data-code-error]'));
    assert.equal(await page.getAttribute('[data-verdict]', 'data-ok'), '6');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('a module that got past the page\'s checks still reaches nothing beyond its run, cannot redirect the harness, keeps no storage', async () => {
  // The page refuses a module with an import before it runs; this plays a
  // module that got past that (a checker bug, a shared link) straight in
  // the tab's Worker, under the Worker's own CSP.
  const { page, errors } = await lab.open({ width: 1400, height: 900 });
  try {
    const probe = [
      'export async function request(req, api) {',
      '  const reached = [];',
      '  try {',
      "    await import(self.location.origin + '/lab/classroom/status', { with: { type: 'json' } });",
      "    reached.push('lab JSON');",
      '  } catch {}',
      "  for (const name of ['WebSocketStream', 'WebTransport', 'fetch', 'requestFileSystem', 'webkitRequestFileSystem']) {",
      "    if (typeof globalThis[name] !== 'undefined' && globalThis[name] !== null) reached.push(name);",
      '  }',
      "  if (navigator.storage) reached.push('navigator.storage');",
      "  String.prototype.replace = function () { return '/../../classroom/status'; };",
      "  Response.prototype.json = async function () { return { reason: 'forged' }; };",
      "  Response.prototype.text = async function () { return '{\"reason\":\"forged\"}'; };",
      "  JSON.parse = () => ({ reason: 'forged' });",
      '  const answer = await api.send(req, null);',
      "  reached.push('send ' + answer.status + ' ' + answer.reason);",
      "  throw new Error('reached: ' + reached.join(', '));",
      '}',
    ].join('\n');
    const ended = await page.evaluate((source) => new Promise((resolve) => {
      const worker = new Worker('/worker/tab.js', { type: 'module' });
      worker.addEventListener('message', ({ data }) => {
        // The page's side of the tab's shared wire and reports (the hub of
        // ui/lib/tab-hub.js, as far as one tab needs it): a place on the
        // wire at once, a report taken as the lab would take it.
        if (data && data.type === 'hub' && data.message.op === 'wire') {
          worker.postMessage({ type: 'hub', message: { op: 'wire-granted' } });
        }
        if (data && data.type === 'hub' && data.message.op === 'report') {
          worker.postMessage({ type: 'hub', message: { op: 'reported', id: data.message.id, ok: true, status: 200 } });
        }
        if (data && data.type === 'ended') {
          worker.terminate();
          resolve(data.failed && data.failed.message);
        }
      });
      // A run that does not exist: the lab answers its API 404 unknown_run.
      const run = '/lab/runs/4294967296';
      worker.postMessage({ type: 'run', page: { api: `${run}/api`, report: `${run}/page`, token: null, first_attempt: 2 }, settings: { secret: 1, public: 0, late: false }, source });
    }), probe);
    // The harness's own answer, read by itself: 404 from the run's API with
    // no reason, not the lab's other JSON and not the module's forgery.
    assert.equal(ended, 'Error: reached: send 404 null');
    assert.deepEqual(errors.filter((e) => !/Content Security Policy|classroom\/status|404/.test(e)), []);
  } finally {
    await page.close();
  }
});
