// Saves a PNG of the lab after a naive case-3 run (or a comparison, a
// replay, or a walk through one token's life).
//
//   node tests/e2e/screenshot.mjs out.png [--compare] [--policy=NAME] [--width=1280] [--height=720]
//        [--compare-by=policies --a=strict --b=family]    compare two server policies
//        [--replay=run.json]                              replay a saved run (refresh-race run --json)
//        [--walk]                                         log in, +5 s, call /api/secret in the walk panel
//        [--walk=dead]                                    … then refresh, +10 s twice, refresh (400 window_over)
//        [--element=SELECTOR]                             only this element (default: the full page)
//
// Starts its own `refresh-race serve` (see harness.mjs for which binary).

import path from 'node:path';
import { startServer, launchBrowser, openLab } from './harness.mjs';

const args = process.argv.slice(2);
const out = args.find((a) => !a.startsWith('--'));
if (!out) {
  console.error('usage: node tests/e2e/screenshot.mjs OUT.png [--compare] [--compare-by=policies --a=NAME --b=NAME] [--policy=NAME] [--replay=FILE] [--walk] [--element=SELECTOR] [--width=N] [--height=N]');
  process.exit(2);
}
const flag = (name, fallback) => {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};
const compareBy = flag('compare-by', null);
const compare = args.includes('--compare') || compareBy != null;
const replay = flag('replay', null);
const walk = args.includes('--walk') || flag('walk', null) != null;
const element = flag('element', null);

const server = await startServer();
let browser;
try {
  browser = await launchBrowser();
  const { page, errors } = await openLab(browser, server.url, {
    width: Number(flag('width', 1280)),
    height: Number(flag('height', 720)),
  });
  await page.selectOption('[data-control="strategy"]', flag('strategy', 'naive'));
  await page.selectOption('[data-control="policy"]', flag('policy', 'strict'));
  if (replay) {
    await page.setInputFiles('[data-control="replay-file"]', path.resolve(replay));
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 120_000 });
  } else if (walk) {
    await page.click('[data-action="walk-login"]');
    await page.locator('[data-token-state="valid"]').waitFor();
    await page.click('[data-action="walk-secret"]');
    await page.click('[data-action="time-travel"][data-seconds="5"]');
    await page.locator('[data-token-state="refreshable"]').waitFor();
    await page.click('[data-action="walk-secret"]');
    await page.locator('[data-walk-result="secret"][data-status="401"]').waitFor();
    if (flag('walk', null) === 'dead') {
      const idle = () => page.locator('[data-walk]:not([aria-busy])').waitFor();
      await page.click('[data-action="walk-refresh"]');
      await idle();
      await page.click('[data-action="time-travel"][data-seconds="10"]');
      await idle();
      await page.click('[data-action="time-travel"][data-seconds="10"]');
      await idle();
      await page.click('[data-action="walk-refresh"]');
      await idle();
      await page.locator('[data-token-state="dead"]').waitFor();
    }
  } else if (compare) {
    if (compareBy) {
      await page.selectOption('[data-control="compare-by"]', compareBy);
      if (flag('a', null)) await page.selectOption('[data-control="compare-a"]', flag('a', null));
      if (flag('b', null)) await page.selectOption('[data-control="compare-b"]', flag('b', null));
    } else {
      await page.click('[data-case="expired-refreshable"]');
      await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 30_000 });
    }
    await page.click('[data-action="compare"]');
    await page.waitForFunction((count) => document.querySelectorAll('[data-timeline][data-state="done"]').length === count, 2, { timeout: 30_000 });
  } else {
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 30_000 });
  }
  if (element) await page.locator(element).first().screenshot({ path: out });
  else await page.screenshot({ path: out, fullPage: true });
  if (errors.length) console.error('page errors:', errors);
  console.log(`saved ${out}`);
} finally {
  if (browser) await browser.close();
  await server.stop();
}
