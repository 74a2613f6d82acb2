// Saves a PNG of the lab after a naive case-3 run (or a comparison).
//
//   node tests/e2e/screenshot.mjs out.png [--compare] [--policy=family] [--width=1280] [--height=720]
//
// Starts its own `refresh-race serve` (see harness.mjs for which binary).

import { startServer, launchBrowser, openLab } from './harness.mjs';

const args = process.argv.slice(2);
const out = args.find((a) => !a.startsWith('--'));
if (!out) {
  console.error('usage: node tests/e2e/screenshot.mjs OUT.png [--compare] [--policy=NAME] [--width=N] [--height=N]');
  process.exit(2);
}
const flag = (name, fallback) => {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};
const compare = args.includes('--compare');

const server = await startServer();
let browser;
try {
  browser = await launchBrowser();
  const { page, errors } = await openLab(browser, server.url, {
    width: Number(flag('width', 1280)),
    height: Number(flag('height', 720)),
  });
  await page.selectOption('[data-control="strategy"]', 'naive');
  await page.selectOption('[data-control="policy"]', flag('policy', 'strict'));
  if (compare) {
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 30_000 });
    await page.click('[data-action="compare"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-timeline][data-state="done"]').length === 2, null, { timeout: 30_000 });
  } else {
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 30_000 });
  }
  await page.screenshot({ path: out, fullPage: true });
  if (errors.length) console.error('page errors:', errors);
  console.log(`saved ${out}`);
} finally {
  if (browser) await browser.close();
  await server.stop();
}
