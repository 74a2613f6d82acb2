// The lesson in Chromium: a learner opens the Lesson panel and does all
// eight workshop steps through the page's own controls (cases, client,
// late request, tabs, runs in, network and Step, the code panel's Load and
// Grade, Explore). Each step is ticked by what the lab reported about the
// run, the grading or the exploration, and the progress survives a reload.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/lesson.test.mjs
//   (WRITE_SCREENSHOTS=1 also writes docs/screenshots/lesson-presenter.png)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { useLab, REPO } from './harness.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const SHOTS = path.join(REPO, 'docs', 'screenshots');
const lab = useLab();

/** Waits until the lesson says step `id` is done. */
async function ticked(page, id, timeout = 30_000) {
  await page.locator(`[data-lesson][data-done~="${id}"]`).waitFor({ state: 'attached', timeout });
}

async function notTicked(page, id) {
  const done = (await page.getAttribute('[data-lesson]', 'data-done')).split(' ');
  assert.equal(done.includes(id), false, `${id} is not done yet`);
}

/** Counts the runs the page says finished (its `refresh-race:run-done` event). */
async function countRuns(page) {
  await page.evaluate(() => {
    window.runsDone = 0;
    window.addEventListener('refresh-race:run-done', () => { window.runsDone += 1; });
  });
}

/** Starts case 3 and waits for its run to be over. */
async function case3(page) {
  const before = await page.evaluate(() => window.runsDone);
  await page.click('[data-case="expired-refreshable"]');
  await page.waitForFunction((n) => window.runsDone > n, before, { timeout: 30_000 });
}

test('a learner does all eight steps through the page; each is ticked by what the lab reported', async () => {
  const { page, errors } = await lab.open({ width: 1400, height: 1000, bypassCSP: true });
  try {
    await countRuns(page);
    await page.click('[data-action="lesson"]');
    const panel = page.locator('[data-lesson]');
    await panel.waitFor();
    assert.equal(await panel.getAttribute('data-current'), 'watch-the-race');
    assert.match(await page.textContent('[data-lesson-todo]'), /naive client and press 3/);
    assert.equal(await page.locator('[data-case="expired-refreshable"][data-lesson-highlight]').count(), 1, 'step 1 outlines case 3');

    // 1. Watch the race.
    await page.selectOption('[data-control="strategy"]', 'naive');
    await case3(page);
    await ticked(page, 'watch-the-race');
    assert.equal(await panel.getAttribute('data-current'), 'queue-twice', 'the lesson moves on');
    assert.equal(await page.locator('[data-control="late-request"][data-lesson-highlight]').count(), 1);

    // 2. The queue refreshes twice with a late request; without it, once (not ticked).
    await page.selectOption('[data-control="strategy"]', 'queue');
    await case3(page);
    await notTicked(page, 'queue-twice');
    await page.check('[data-control="late-request"]');
    await case3(page);
    await ticked(page, 'queue-twice');
    await page.uncheck('[data-control="late-request"]');

    // 3. Fix it.
    await page.selectOption('[data-control="strategy"]', 'single-flight');
    await case3(page);
    await ticked(page, 'fix-it');

    // 4. Break it across tabs, then fix it with the cross-tab lock.
    await page.click('[data-action="more-scenario"]');
    await page.fill('[data-control="tabs"]', '3');
    await page.locator('[data-control="tabs"]').dispatchEvent('change');
    await case3(page);
    await page.locator('[data-lesson-parts] [data-part="broken"][data-part-done="true"]').waitFor();
    await notTicked(page, 'across-tabs');
    await page.selectOption('[data-control="cross-tab"]', 'lock');
    await case3(page);
    await ticked(page, 'across-tabs');
    // Back to one tab racing itself (the lock serialises even one tab's refreshes).
    await page.selectOption('[data-control="cross-tab"]', 'none');
    await page.fill('[data-control="tabs"]', '1');
    await page.locator('[data-control="tabs"]').dispatchEvent('change');

    // 5. A real library, in the page.
    await page.selectOption('[data-control="runtime"]', 'browser');
    await page.selectOption('[data-control="strategy"]', 'axios-auth-refresh@5');
    await case3(page);
    await ticked(page, 'real-library');
    await page.selectOption('[data-control="runtime"]', 'rust');
    await page.selectOption('[data-control="strategy"]', 'naive');

    // 6. Cause the race by hand: Step until the run is over.
    await page.selectOption('[data-control="network"]', 'hand');
    const before = await page.evaluate(() => window.runsDone);
    await page.click('[data-case="expired-refreshable"]');
    const step = page.locator('[data-controls] [data-action="step"]');
    let steps = 0;
    for (; steps < 200; steps += 1) {
      await page.waitForFunction((n) => {
        const button = document.querySelector('[data-controls] [data-action="step"]');
        return window.runsDone > n || (button && !button.disabled);
      }, before, { timeout: 10_000 });
      if (await page.evaluate((n) => window.runsDone > n, before)) break;
      await step.click();
    }
    assert.ok(steps > 4, `delivered by hand: ${steps} steps`);
    await ticked(page, 'by-hand');

    // 7. Your own interceptor, graded: single-flight that takes the lock across tabs passes every check.
    await page.click('[data-action="code"]');
    await page.click('[data-action="own-code"]');
    await page.locator('[data-code-panel][data-mode="own"]').waitFor();
    const own = String(readFileSync(path.join(REPO, 'ui', 'strategies', 'single-flight.js'))).replace("if (req.crossTab !== 'lock') return handle();", '');
    await page.setInputFiles('[data-control="code-file"]', { name: 'mine.js', mimeType: 'text/javascript', buffer: Buffer.from(own) });
    await page.click('[data-action="grade"]');
    // Five checks over every order (the tabs check: 620 orders of two tabs):
    // minutes on a loaded machine, so wait for the card to be done, then say
    // what it says if a check failed (a tick that never comes says nothing).
    const card = page.locator('[data-grade][data-state="done"]');
    await card.waitFor({ state: 'attached', timeout: 600_000 });
    const [passed, total] = [await card.getAttribute('data-passed'), await card.getAttribute('data-total')];
    assert.equal(passed, total, `the score card: ${await card.innerText()}`);
    await ticked(page, 'own-interceptor');
    await page.click('[data-action="code"]');

    // 8. Explore every order of a small setup.
    await page.selectOption('[data-control="network"]', 'timer');
    await page.fill('[data-control="secret-count"]', '2');
    await page.fill('[data-control="public-count"]', '0');
    await page.click('[data-action="explore"]');
    await page.locator('[data-explore-panel] [data-explore][data-orders]').waitFor({ timeout: 60_000 });
    await ticked(page, 'every-order');
    await page.click('[data-action="close-explore"]');

    assert.equal(await page.textContent('[data-lesson-summary]'), '8 of 8 steps done');
    assert.equal(await page.textContent('[data-lesson-count]'), '8/8');

    // Kept over a reload.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.textContent('[data-lesson-count]'), '8/8');

    // Projected: presenter mode at 1280×720, the panel open on step 6.
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.click('[data-action="presenter"]');
    await page.locator('body[data-theme="presenter"]').waitFor();
    await page.click('[data-action="lesson"]');
    await page.click('[data-lesson-step="by-hand"]');
    await countRuns(page);
    await page.click('[data-action="advanced"]');
    await page.selectOption('[data-control="strategy"]', 'naive');
    await page.selectOption('[data-control="network"]', 'timer');
    await page.fill('[data-control="secret-count"]', '3');
    await page.fill('[data-control="public-count"]', '1');
    await page.click('[data-action="advanced"]');
    await case3(page);
    const box = await panel.boundingBox();
    assert.ok(box.y >= 0 && box.y + box.height <= 720, `the lesson card fits: ${JSON.stringify(box)}`);
    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run('#lesson', { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
      return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
    });
    assert.deepEqual(violations, [], 'axe: the lesson panel');
    // Like the other e2e screenshots, written only when asked: a test run leaves the tree as it was.
    if (process.env.WRITE_SCREENSHOTS) await page.screenshot({ path: path.join(SHOTS, 'lesson-presenter.png') });
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await page.close();
  }
});
