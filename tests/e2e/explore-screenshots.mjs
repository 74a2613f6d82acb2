// Saves the README's two explore screenshots: the chart of outcome classes
// (the queue client with a late request, strict server), and its failing
// class's counterexample opened by hand, stopped at its point of no return,
// with the hints on.
//
//   node tests/e2e/explore-screenshots.mjs [OUT_DIR]   (default docs/screenshots)
//
// Starts its own `refresh-race serve` (see harness.mjs for which binary).

import path from 'node:path';
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
  if (errors.length) console.error('page errors:', errors);
} finally {
  await browser.close();
  await server.stop();
}
