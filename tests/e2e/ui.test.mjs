// Browser tests of the UI against a real `refresh-race serve`, in headless
// Debian chromium (DESIGN.md §7 hooks only: data-case, data-control,
// data-action, data-timeline, data-kind/status/lane/jti, data-verdict).
//
//   cargo build && node --test tests/e2e/
//
// The server binary is $REFRESH_RACE_BIN or ${CARGO_TARGET_DIR:-target}/debug/refresh-race.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openLab } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** Opens the lab, runs `fn(page)`, closes the page, fails on page errors. */
async function withPage(fn, options) {
  const { page, errors } = await openLab(browser, server.url, options);
  try {
    await fn(page, errors);
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await page.close();
  }
}

async function verdictOf(locator) {
  return locator.evaluate((el) => ({
    refreshCalls: Number(el.getAttribute('data-refresh-calls')),
    ok: Number(el.getAttribute('data-ok')),
    failed: Number(el.getAttribute('data-failed')),
    logouts: Number(el.getAttribute('data-logouts')),
    text: el.textContent,
    className: el.className,
  }));
}

test('case 3 with the naive client: three refreshes, failed lanes, a red verdict', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="strategy"]', 'naive');
    await page.selectOption('[data-control="policy"]', 'strict');
    await page.click('[data-case="expired-refreshable"]');
    const timeline = page.locator('[data-timeline][data-state="done"]');
    await timeline.waitFor({ timeout: 20_000 });
    assert.equal(await timeline.getAttribute('data-strategy'), 'naive');
    assert.equal(await timeline.getAttribute('data-policy'), 'strict');

    const verdict = await verdictOf(timeline.locator('[data-verdict]'));
    assert.equal(verdict.refreshCalls, 3);
    assert.ok(verdict.failed > 0, `some requests failed (${verdict.failed})`);
    assert.match(verdict.className, /tone-bad/);
    assert.match(verdict.text, /Race/i);

    // Every refresh presented the same expired token: t1.
    const refreshes = timeline.locator('[data-kind="refresh"]');
    assert.equal(await refreshes.count(), 3);
    const refreshJtis = await refreshes.evaluateAll((els) => els.map((e) => e.getAttribute('data-jti')));
    assert.deepEqual(refreshJtis, ['t1', 't1', 't1']);
    const refreshStatuses = (await refreshes.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).sort();
    assert.deepEqual(refreshStatuses, ['200', '400', '400']);

    // Lanes that failed are marked; nothing is left pending.
    assert.ok(await timeline.locator('[data-lane-row][data-outcome="failed"]').count() >= 2);
    assert.equal(await timeline.locator('[data-status="pending"]').count(), 0);
    // The first attempt of each secret lane got 401.
    const firstSecret = timeline.locator('[data-lane="secret#1"][data-kind="request"]');
    assert.equal(await firstSecret.getAttribute('data-status'), '401');
  });
});

test('case 3 with single-flight: one refresh and every request ok', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="strategy"]', 'single-flight');
    await page.click('[data-case="expired-refreshable"]');
    const timeline = page.locator('[data-timeline][data-state="done"]');
    await timeline.waitFor({ timeout: 20_000 });
    assert.equal(await timeline.getAttribute('data-strategy'), 'single-flight');
    const verdict = await verdictOf(timeline.locator('[data-verdict]'));
    assert.equal(verdict.failed, 0);
    assert.equal(verdict.ok, 6);
    assert.equal(verdict.refreshCalls, 1);
    assert.equal(verdict.logouts, 0);
    assert.match(verdict.className, /tone-good/);
    assert.equal(await timeline.locator('[data-kind="refresh"]').count(), 1);
    // The waiting requests retried with the new token.
    const retries = await timeline.locator('[data-kind="retry"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-jti'), e.getAttribute('data-status')]));
    assert.equal(retries.length, 3);
    for (const [jti, status] of retries) {
      assert.equal(jti, 't2');
      assert.equal(status, '200');
    }
  });
});

test('the timeline is live: running with bars in flight, then done', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="speed"]', '0.25');
    // Keyboard shortcut 3 runs case 3 (focus is not in an input).
    await page.locator('h1').click();
    await page.keyboard.press('3');
    await page.locator('[data-timeline][data-state="running"]').waitFor({ timeout: 10_000 });
    // While live, requests in flight are drawn as pending bars, with a now-cursor.
    await page.locator('[data-timeline][data-state="running"] [data-status="pending"]').first().waitFor({ timeout: 10_000 });
    assert.ok(await page.locator('[data-timeline][data-state="running"] .now-cursor').count() >= 1);
    const liveVerdict = await page.locator('[data-timeline] [data-verdict]').getAttribute('data-final');
    assert.equal(liveVerdict, 'false', 'the verdict is not final while running');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-timeline] [data-verdict]').getAttribute('data-refresh-calls'), '3');
    assert.equal(await page.locator('[data-timeline] .now-cursor').count(), 0, 'no now-cursor once done');
  });
});

test('out-of-range settings show an error and start no run', async () => {
  await withPage(async (page) => {
    const posts = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/lab/runs')) posts.push(request.url());
    });
    const error = page.locator('[data-error]');
    const bad = [
      ['secret-count', '0', /secret/i],
      ['secret-count', '100000', /secret/i],
      ['latency-refresh', '-5', /negative/i],
      ['public-count', '2.5', /whole number/i],
    ];
    for (const [control, value, message] of bad) {
      await page.fill('[data-control="secret-count"]', '3');
      await page.fill('[data-control="public-count"]', '3');
      await page.fill('[data-control="latency-refresh"]', '200');
      await page.fill(`[data-control="${control}"]`, value);
      await page.click('[data-case="expired-refreshable"]');
      await error.waitFor({ state: 'visible' });
      assert.match(await error.textContent(), message);
      assert.equal(await error.getAttribute('role'), 'alert');
      assert.equal(await page.locator('[data-timeline]').count(), 0, `no timeline for ${control}=${value}`);
    }
    // The keyboard shortcut is refused the same way.
    await page.locator('h1').click();
    await page.keyboard.press('3');
    await error.waitFor({ state: 'visible' });
    assert.deepEqual(posts, [], 'no run was requested');

    // A valid value clears the error and runs.
    await page.fill('[data-control="public-count"]', '3');
    await page.click('[data-case="valid"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    assert.equal(await error.isVisible(), false);
    assert.equal(posts.length, 1);
  });
});

test('a refusal by the server is shown the same way', async () => {
  await withPage(async (page, errors) => {
    // A policy name the server does not know (the page does not check names).
    await page.evaluate(() => {
      const select = document.querySelector('[data-control="policy"]');
      select.add(new Option('sometimes', 'sometimes'));
      select.value = 'sometimes';
    });
    await page.click('[data-case="expired-refreshable"]');
    const error = page.locator('[data-error]');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /sometimes/);
    assert.equal(await page.locator('[data-timeline]').count(), 0);
    // Chromium logs the 400 response itself; that one is expected.
    const unexpected = errors.filter((e) => !/status of 400/.test(e));
    errors.length = 0;
    errors.push(...unexpected);
  });
});

test('compare mode: naive and single-flight side by side on one time scale', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="strategy"]', 'naive');
    await page.click('[data-action="compare"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-timeline][data-state="done"]').length === 2, null, { timeout: 30_000 });
    const timelines = page.locator('[data-timeline]');
    assert.equal(await timelines.count(), 2);
    const info = await timelines.evaluateAll((els) => els.map((el) => ({
      strategy: el.getAttribute('data-strategy'),
      policy: el.getAttribute('data-policy'),
      verdicts: el.querySelectorAll('[data-verdict]').length,
      refreshCalls: el.querySelector('[data-verdict]').getAttribute('data-refresh-calls'),
      failed: el.querySelector('[data-verdict]').getAttribute('data-failed'),
      ticks: [...el.querySelectorAll('.axis .tick-label')].map((t) => `${t.textContent}@${t.getAttribute('x')}`),
    })));
    assert.deepEqual(info.map((t) => t.strategy), ['naive', 'single-flight']);
    assert.deepEqual(info.map((t) => t.policy), ['strict', 'strict']);
    assert.deepEqual(info.map((t) => t.verdicts), [1, 1]);
    assert.equal(info[0].refreshCalls, '3');
    assert.equal(info[1].refreshCalls, '1');
    assert.equal(info[1].failed, '0');
    assert.deepEqual(info[0].ticks, info[1].ticks, 'same time scale');

    // Starting a single run replaces the comparison (no mixing).
    await page.click('[data-case="valid"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('[data-timeline]').count(), 1);
  });
});

test('a new run aborts the live one and never mixes their events', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="speed"]', '0.1');
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="running"]').waitFor();
    await page.selectOption('[data-control="speed"]', '1');
    await page.click('[data-case="valid"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('[data-timeline]').count(), 1);
    const verdict = await verdictOf(page.locator('[data-verdict]'));
    assert.equal(verdict.refreshCalls, 0);
    assert.equal(verdict.failed, 0);
    assert.equal(await page.locator('[data-kind="refresh"]').count(), 0, 'no bar from the aborted run');
  });
});

test('token inspector decodes a clicked token', async () => {
  await withPage(async (page) => {
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    await page.locator('[data-kind="retry"] .chip-rect').first().click();
    const detail = page.locator('[data-token-detail]');
    await page.waitForFunction(() => /"jti":\s*"t2"/.test(document.querySelector('[data-token-detail]').textContent));
    const text = await detail.textContent();
    assert.match(text, /"alg":"HS256"/);
    assert.match(text, /"sub":\s*"ada"|"sub":/);
    assert.match(text, /expires in|expired/);
    assert.match(text, /refresh window/);
  });
});

test('a large run draws only the rows on screen', async () => {
  await withPage(async (page) => {
    await page.fill('[data-control="secret-count"]', '2000');
    await page.fill('[data-control="public-count"]', '0');
    await page.selectOption('[data-control="strategy"]', 'single-flight');
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 120_000 });
    const verdict = await verdictOf(page.locator('[data-verdict]'));
    assert.equal(verdict.ok, 2000);
    const rows = await page.locator('[data-lane-row]').count();
    assert.ok(rows < 80, `only visible rows are drawn (${rows})`);
    // Scrolling to the end draws the last lanes.
    await page.locator('.lanes-scroll').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.locator('[data-lane-row="secret#2000"]').waitFor({ timeout: 5_000 });
  });
});
