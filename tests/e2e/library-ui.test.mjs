// The libraries in the lab's own controls, in headless chromium against a
// real `refresh-race serve`: the client picker's groups, the tab lanes'
// mark of which tab held the lock, two versions of one library compared
// side by side, and oidc-client-ts racing in three tabs on screen.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/library-ui.test.mjs
//   (WRITE_SCREENSHOTS=1 also writes docs/screenshots/oidc-3-tabs.png and
//   docs/screenshots/supabase-2.106-lock-marks.png)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { useLab, REPO } from './harness.mjs';

const lab = useLab();

/** Sets up a browser run of `library` in `tabs` tabs, 2 secret requests, under `policy`. */
async function pick(page, library, policy, tabs) {
  await page.selectOption('[data-control="runtime"]', 'browser');
  await page.selectOption('[data-control="strategy"]', library);
  await page.fill('[data-control="secret-count"]', '2');
  await page.fill('[data-control="public-count"]', '0');
  await page.selectOption('[data-control="policy"]', policy);
  await page.click('[data-action="more-scenario"]');
  await page.fill('[data-control="tabs"]', String(tabs));
}

test('the client picker groups built-ins, your code and the libraries with their versions', async () => {
  await lab.withPage(async (page) => {
    const groups = () => page.locator('[data-control="strategy"] optgroup').evaluateAll((els) => els.map((g) => [g.label, [...g.querySelectorAll('option')].map((o) => o.textContent)]));
    const rust = await groups();
    assert.deepEqual(rust.map(([label]) => label), ['built-in strategies']);
    assert.ok(rust[0][1].includes('single-flight'));
    await page.selectOption('[data-control="runtime"]', 'browser');
    const browser = await groups();
    assert.deepEqual(browser.map(([label]) => label), ['built-in strategies', 'your code', 'libraries (their real code)']);
    assert.deepEqual(browser[1][1], ['your interceptor']);
    for (const label of ['supabase-auth@2.106 (2.106.2)', 'supabase-auth@2.119 (2.119.2)', 'oidc-client-ts@3 (3.5.0)']) assert.ok(browser[2][1].includes(label), label);
    // A library's own settings: the token lifetime and mode it runs with, beside the controls it does not use.
    await page.selectOption('[data-control="strategy"]', 'oidc-client-ts@3');
    const overrides = await page.locator('[data-library-override]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-library-override'), e.textContent]));
    assert.deepEqual(overrides, [['access-ttl', 'library: 3600 s'], ['mode', 'library: oauth']]);
    await page.selectOption('[data-control="strategy"]', 'single-flight');
    assert.equal(await page.locator('[data-library-override]').count(), 0);
    // Back to the engine: the libraries and your code go, the pick stays a built-in.
    await page.selectOption('[data-control="strategy"]', 'oidc-client-ts@3');
    await page.selectOption('[data-control="runtime"]', 'rust');
    assert.deepEqual((await groups()).map(([label]) => label), ['built-in strategies']);
  });
});

test('three tabs of supabase 2.106: the tab lanes say which tab held the Web Lock', async () => {
  await lab.withPage(async (page) => {
    await pick(page, 'supabase-auth@2.106', 'strict', 3);
    await page.click('[data-case="expired-refreshable"]');
    const timeline = page.locator('[data-timeline][data-state="done"]');
    await timeline.waitFor({ timeout: 30_000 });
    const held = await timeline.locator('[data-tab-heading]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-tab-heading'), e.getAttribute('data-lock-held'), !!e.querySelector('[data-lock-mark]')]));
    // getSession takes the lock in every tab (one refreshes, the others read its session).
    assert.deepEqual(held.map(([tab]) => tab), ['1', '2', '3']);
    for (const [tab, words, marked] of held) {
      assert.match(words ?? '', /^held "lock:sb-lab-auth-token" /, `tab ${tab}`);
      assert.ok(marked, `tab ${tab} has its mark`);
    }
    if (process.env.WRITE_SCREENSHOTS) {
      await page.screenshot({ path: path.join(REPO, 'docs', 'screenshots', 'supabase-2.106-lock-marks.png') });
    }
  }, { width: 1400, height: 1000 });
});

test('two versions of one library side by side: supabase 2.106 against 2.119 in three tabs', async () => {
  await lab.withPage(async (page) => {
    await pick(page, 'supabase-auth@2.106', 'strict', 3);
    await page.click('[data-action="more-compare"]').catch(() => {});
    await page.selectOption('[data-control="compare-by"]', 'strategies');
    assert.equal(await page.locator('[data-control="compare-a"]').inputValue(), 'supabase-auth@2.106');
    assert.equal(await page.locator('[data-control="compare-b"]').inputValue(), 'supabase-auth@2.119');
    await page.click('[data-case="expired-refreshable"]');
    await page.click('[data-action="compare"]');
    const done = page.locator('[data-timeline][data-state="done"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-timeline][data-state="done"]').length === 2, null, { timeout: 60_000 });
    const calls = await done.locator('[data-verdict]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-refresh-calls'))));
    // The lock lets one tab refresh; lockless, every tab does.
    assert.deepEqual(calls, [1, 3]);
  }, { width: 1400, height: 1000 });
});

test('oidc-client-ts in three tabs against hydra, on screen: a refresh from every lane, every request failed', async () => {
  await lab.withPage(async (page) => {
    await pick(page, 'oidc-client-ts@3', 'hydra', 3);
    await page.click('[data-case="expired-refreshable"]');
    const timeline = page.locator('[data-timeline][data-state="done"]');
    await timeline.waitFor({ timeout: 30_000 });
    const verdict = timeline.locator('[data-verdict]');
    assert.equal(Number(await verdict.getAttribute('data-refresh-calls')), 6);
    const refreshers = await timeline.locator('[data-kind="refresh"]').evaluateAll((els) => els.length);
    assert.equal(refreshers, 6);
    if (process.env.WRITE_SCREENSHOTS) {
      await page.screenshot({ path: path.join(REPO, 'docs', 'screenshots', 'oidc-3-tabs.png') });
    }
  }, { width: 1400, height: 1000 });
});
