// Several tabs in the browser (docs/ui-hooks.md: data-control="tabs",
// data-control="cross-tab", rows of tab 2 named tab2/secret#1), against a
// real `refresh-race serve` in headless Debian chromium.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/tabs.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, verdictInFlow } from './harness.mjs';

const lab = useLab();
const withPage = (fn) => lab.withPage((page) => fn(page));


/**
 * Three tabs of single-flight, `crossTab`, case 3, two secret requests per
 * tab (six rows: the verdict stays on a 1000 px screen); returns the
 * finished timeline.
 */
async function threeTabs(page, crossTab) {
  await page.selectOption('[data-control="strategy"]', 'single-flight');
  await page.fill('[data-control="secret-count"]', '2');
  await page.fill('[data-control="public-count"]', '0');
  await page.selectOption('[data-control="policy"]', 'strict');
  // Tabs and OAuth open on demand.
  assert.equal(await page.isVisible('[data-control="tabs"]'), false);
  await page.click('[data-action="more-scenario"]');
  assert.equal(await page.isVisible('[data-control="cross-tab"]'), false, 'no cross-tab choice with one tab');
  await page.fill('[data-control="tabs"]', '3');
  await page.locator('[data-control="cross-tab"]').waitFor({ state: 'visible' });
  await page.selectOption('[data-control="cross-tab"]', crossTab);
  await page.click('[data-case="expired-refreshable"]');
  const timeline = page.locator('[data-timeline][data-state="done"]');
  await timeline.waitFor({ timeout: 20_000 });
  return timeline;
}

const verdictOf = (timeline) => timeline.locator('[data-verdict]').evaluate((el) => ({
  refreshCalls: Number(el.getAttribute('data-refresh-calls')),
  failed: Number(el.getAttribute('data-failed')),
  logouts: Number(el.getAttribute('data-logouts')),
  text: el.textContent,
}));

test('three tabs without a lock: one refresh per tab, the losers log every tab out; rows grouped by tab', async () => {
  await withPage(async (page) => {
    const timeline = await threeTabs(page, 'none');
    const verdict = await verdictOf(timeline);
    assert.equal(verdict.refreshCalls, 3);
    assert.ok(verdict.logouts >= 1, verdict.text);
    assert.match(verdict.text, /^Race: 3 refreshes for 1 expired token; 1 accepted, 2 rejected \(reused\);.* tab [123] logged the others out\./);
    // One refresh from each tab, each presenting t1.
    const refreshers = await timeline.locator('[data-kind="refresh"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-lane').replace(/#\d+$/, ''), e.getAttribute('data-jti')]).sort());
    assert.deepEqual(refreshers, [['secret', 't1'], ['tab2/secret', 't1'], ['tab3/secret', 't1']]);
    // Rows come by tab, each tab's group opened by its heading.
    const rows = await timeline.locator('[data-lane-row][data-tab]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-tab'), e.getAttribute('data-lane-row')]));
    assert.deepEqual(rows, [
      ['1', 'secret#1'], ['1', 'secret#2'],
      ['2', 'tab2/secret#1'], ['2', 'tab2/secret#2'],
      ['3', 'tab3/secret#1'], ['3', 'tab3/secret#2'],
    ]);
    const headings = await timeline.locator('[data-tab-heading]').evaluateAll((els) => els.map((e) => e.textContent));
    assert.deepEqual(headings, ['tab 1', 'tab 2', 'tab 3']);
    // With the tabs group open (on demand) the verdict still starts on screen.
    const box = await verdictInFlow(timeline.locator('[data-verdict]'));
    assert.ok(box.top + 20 <= 1000, `verdict at ${JSON.stringify(box)}`);
  });
});

test('three tabs with a cross-tab lock: exactly one refresh, nothing fails', async () => {
  await withPage(async (page) => {
    const timeline = await threeTabs(page, 'lock');
    const verdict = await verdictOf(timeline);
    assert.deepEqual([verdict.refreshCalls, verdict.failed, verdict.logouts], [1, 0, 0], verdict.text);
    assert.equal(await timeline.locator('[data-kind="refresh"]').count(), 1);
    // The refresher and the five secret requests that waited for the lock retried with t2.
    const retries = await timeline.locator('[data-kind="retry"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-jti')));
    assert.deepEqual(retries, Array(6).fill('t2'));
  });
});

test('a tab count out of range is refused in the page and starts nothing', async () => {
  await withPage(async (page) => {
    await page.click('[data-action="more-scenario"]');
    await page.fill('[data-control="tabs"]', '9');
    await page.click('[data-case="expired-refreshable"]');
    const error = page.locator('[data-error]');
    await error.waitFor({ state: 'visible' });
    assert.equal(await error.textContent(), 'Tabs must be between 1 and 8 (got 9).');
    assert.equal(await page.locator('[data-timeline]').count(), 0);
  });
});
