// The first screen, in both themes: the cases; client, policy, speed and
// network; the timeline; its verdict. Everything else waits under More.
// Case 3 (key 3) with its verdict fits a 1400x900 window and a 1280x800
// laptop without scrolling, with the code panel closed and open; More
// unfolds the rest (and folds it again); axe-core finds nothing on it.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/layout.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { useLab, verdictInFlow } from './harness.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const lab = useLab();

/** The first screen of a fresh page, folded, in `theme`. */
async function withFirstScreen(fn, { width, height, theme }) {
  const { page, errors } = await lab.open({ width, height, folded: true, bypassCSP: true });
  try {
    assert.equal(await page.getAttribute('[data-action="advanced"]', 'aria-expanded'), 'false', 'a fresh page starts folded');
    if (theme === 'presenter') await page.click('[data-action="presenter"]');
    await page.locator(`body[data-theme="${theme}"]`).waitFor();
    await fn(page);
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await page.close();
  }
}

/** Case 3 by its key, as a first-timer would; waits for its verdict. */
async function pressCase3(page) {
  await page.locator('h1').click();
  await page.keyboard.press('3');
  await page.locator('[data-timeline][data-state="done"] [data-verdict][data-refresh-calls]').waitFor();
}

/**
 * Where the verdict and the timeline are, in the window's coordinates: the
 * verdict in the page's flow (verdictTop/Bottom) and as shown (it sticks to
 * the window's edge when the flow puts it lower).
 */
async function measure(page) {
  const flow = await verdictInFlow(page.locator('[data-verdict]'));
  const now = await page.evaluate(() => {
    const box = (el) => el.getBoundingClientRect();
    const shown = box(document.querySelector('[data-verdict]'));
    return {
      shownTop: shown.top,
      shownBottom: shown.bottom,
      timelineTop: box(document.querySelector('[data-timeline]')).top,
      scrollY: window.scrollY,
      innerHeight: window.innerHeight,
    };
  });
  return { verdictTop: flow.top, verdictBottom: flow.bottom, ...now };
}

const FIRST_SCREEN = ['[data-case="guest"]', '[data-case="valid"]', '[data-case="expired-refreshable"]', '[data-case="expired-not-refreshable"]',
  '[data-control="strategy"]', '[data-control="policy"]', '[data-control="speed"]', '[data-control="network"]', '[data-action="advanced"]'];
const UNDER_MORE = ['[data-control="runtime"]', '[data-control="secret-count"]', '[data-control="latency-refresh"]', '[data-control="access-ttl"]',
  '[data-control="late-request"]', '[data-action="more-scenario"]', '.replay-button', '[data-control="compare-by"]', '[data-action="explore"]',
  '[data-log]', '[data-inspector]', '[data-walk]'];

for (const theme of ['dark', 'presenter']) {
  for (const [width, height] of [[1400, 900], [1280, 800]]) {
    test(`${theme} at ${width}x${height}: case 3 and its verdict on screen without scrolling, code panel closed and open`, async () => {
      await withFirstScreen(async (page) => {
        for (const selector of FIRST_SCREEN) assert.equal(await page.locator(selector).isVisible(), true, `${selector} is on the first screen`);
        for (const selector of UNDER_MORE) assert.equal(await page.locator(selector).isVisible(), false, `${selector} waits under More`);

        await pressCase3(page);
        const closed = await measure(page);
        console.log(`# ${theme} ${width}x${height} code closed: verdict ${Math.round(closed.verdictTop)}..${Math.round(closed.verdictBottom)}`);
        assert.equal(closed.scrollY, 0);
        assert.ok(closed.timelineTop >= 0 && closed.verdictTop > closed.timelineTop, 'the timeline, then its verdict');
        assert.ok(closed.verdictBottom <= height, `code panel closed: the verdict ends at ${closed.verdictBottom}, the window at ${height}`);

        await page.click('[data-action="code"]');
        await page.locator('[data-code-panel]:not([hidden])').waitFor();
        const open = await measure(page);
        console.log(`# ${theme} ${width}x${height} code open: verdict ${Math.round(open.verdictTop)}..${Math.round(open.verdictBottom)}`);
        assert.equal(open.scrollY, 0);
        assert.ok(open.verdictBottom <= height, `code panel open: the verdict ends at ${open.verdictBottom}, the window at ${height}`);
        const panel = await page.locator('[data-code-panel]').boundingBox();
        assert.ok(panel && panel.y + panel.height <= height, 'the code panel ends on screen too');

        // More unfolds every other control, and folds them again. Unfolded,
        // they push the timeline down: its verdict stays on screen (held at
        // the window's bottom edge over the last lanes), not in the flow.
        await page.click('[data-action="advanced"]');
        for (const selector of UNDER_MORE) assert.equal(await page.locator(selector).isVisible(), true, `${selector} is unfolded`);
        const more = await measure(page);
        console.log(`# ${theme} ${width}x${height} More unfolded: verdict shown at ${Math.round(more.shownTop)}..${Math.round(more.shownBottom)} (in the flow ..${Math.round(more.verdictBottom)})`);
        assert.equal(more.scrollY, 0);
        assert.ok(more.shownBottom <= height && more.shownTop > more.timelineTop, `More unfolded: the verdict is shown down to ${more.shownBottom}, the window ends at ${height}`);
        await page.click('[data-action="advanced"]');
        for (const selector of UNDER_MORE) assert.equal(await page.locator(selector).isVisible(), false, `${selector} is folded again`);
        assert.deepEqual(await measure(page), open, 'folding again puts the verdict back where it was');
      }, { width, height, theme });
    });
  }
}

test('the first screen with a case 3 run: axe-core finds no WCAG A/AA violation in either theme', async () => {
  for (const theme of ['dark', 'presenter']) {
    await withFirstScreen(async (page) => {
      await pressCase3(page);
      await page.addScriptTag({ path: AXE });
      const violations = await page.evaluate(async (tags) => {
        const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
        return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
      }, TAGS);
      assert.deepEqual(violations, [], `${theme}: no violations`);
    }, { width: 1280, height: 800, theme });
  }
});
