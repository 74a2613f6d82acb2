// Saves the README's explore screenshots: the chart of outcome classes
// (the queue client with a late request, strict server), its failing
// class's counterexample opened by hand, stopped at its point of no return,
// with the hints on, and the grader's score card over every order (the
// queue's module graded as a learner's; `grade-orders.png`).
//
//   node tests/e2e/explore-screenshots.mjs [OUT_DIR]   (default docs/screenshots)
//
// Starts its own `refresh-race serve` (see harness.mjs for which binary).

import path from 'node:path';
import { readFileSync } from 'node:fs';
import { startServer, launchBrowser, openLab, REPO } from './harness.mjs';

const out = path.resolve(process.argv[2] ?? path.join(REPO, 'docs', 'screenshots'));
const server = await startServer();
const browser = await launchBrowser();
try {
  const { page, errors } = await openLab(browser, server.url, { width: 1400, height: 900 });
  await page.click('[data-case="expired-refreshable"]');
  await page.locator('[data-timeline][data-state="done"]').waitFor();
  await page.selectOption('[data-control="strategy"]', 'queue');
  await page.fill('[data-control="secret-count"]', '2');
  await page.fill('[data-control="public-count"]', '0');
  await page.setChecked('[data-control="late-request"]', true);
  await page.click('[data-action="explore"]');
  await page.locator('[data-explore]').waitFor({ timeout: 120_000 });
  const chart = path.join(out, 'explore-chart.png');
  await page.screenshot({ path: chart });
  console.log(`saved ${chart}`);

  const failing = page.locator('[data-explore-class][data-ok="false"]').first();
  await failing.locator('[data-action="show-order"]').click();
  await page.locator('[data-timeline] [data-no-return]').waitFor();
  await page.locator('[data-control="hints"]').check();
  await page.waitForFunction(() => {
    const cards = [...document.querySelectorAll('[data-tray] [data-leg]')];
    return cards.length > 0 && cards.every((c) => c.hasAttribute('data-fail-share'));
  }, null, { timeout: 60_000 });
  const counterexample = path.join(out, 'explore-counterexample.png');
  await page.screenshot({ path: counterexample });
  console.log(`saved ${counterexample}`);

  // The grader over every order: the queue's module as a learner's own.
  const graded = await openLab(browser, server.url, { width: 1600, height: 1500 });
  await graded.page.click('[data-case="expired-refreshable"]');
  await graded.page.locator('[data-timeline][data-state="done"]').waitFor();
  await graded.page.click('[data-action="code"]');
  await graded.page.click('[data-action="own-code"]');
  await graded.page.setInputFiles('[data-control="code-file"]', {
    name: 'queue.js', mimeType: 'text/javascript', buffer: readFileSync(path.join(REPO, 'ui', 'strategies', 'queue.js')),
  });
  await graded.page.click('[data-action="grade"]');
  await graded.page.locator('[data-grade][data-state="done"]').waitFor({ timeout: 300_000 });
  const card = path.join(out, 'grade-orders.png');
  await graded.page.locator('[data-grade]').evaluate((el) => { el.scrollTop = 0; el.scrollIntoView({ block: 'start' }); });
  await graded.page.locator('[data-code-panel]').screenshot({ path: card });
  console.log(`saved ${card}`);
  if (errors.length || graded.errors.length) console.error('page errors:', errors, graded.errors);
} finally {
  await browser.close();
  await server.stop();
}
