// Browser tests of the lifecycle by hand and the hang verdict, against a
// real `refresh-race serve` in headless Debian chromium, through the hooks
// (docs/ui-hooks.md): the wake-up stampede and the closed tab that hangs
// the page, each played as its challenge.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/lifecycle.test.mjs
//   (WRITE_SCREENSHOTS=1 also writes docs/screenshots/wake-up-stampede.png
//   and hang-closed-tab.png)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launchBrowser, openLab, REPO } from './harness.mjs';

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

async function withPage(fn) {
  const { page, errors } = await openLab(browser, server.url, { width: 1400, height: 900 });
  try {
    await fn(page);
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await page.close();
  }
}

const timeline = (page) => page.locator('[data-timeline]');

async function play(page, id) {
  await page.click('[data-action="challenges"]');
  await page.locator(`[data-challenge="${id}"] [data-action="play"]`).click();
  await page.locator('[data-timeline][data-held="true"][data-delivered="0"]').waitFor();
  await page.locator('[data-tray]:not([aria-busy])').waitFor();
}

/** Waits until no command is on its way and the lab has made `n` deliveries (or the run is over). */
function settled(page, n) {
  return page.waitForFunction((count) => {
    const t = document.querySelector('[data-timeline]');
    if (!t || document.querySelector('[data-tray][aria-busy]')) return false;
    return t.getAttribute('data-state') === 'done' || Number(t.getAttribute('data-delivered')) === count;
  }, n);
}

async function clickLeg(page, leg, exchange) {
  const before = Number(await timeline(page).getAttribute('data-delivered'));
  await page.locator(`[data-tray]:not([aria-busy]) [data-leg="${leg}"][data-exchange="${exchange}"]`).click();
  await settled(page, before + 1);
}

async function shoot(page, name) {
  if (process.env.WRITE_SCREENSHOTS) {
    await page.screenshot({ path: path.join(REPO, 'docs', 'screenshots', name) });
  }
}

test('a tab closed while it holds a lock kept in localStorage hangs the page, and the verdict says so', async () => {
  await withPage(async (page) => {
    await play(page, 'hang-closed-tab');
    const life = page.locator('[data-tab-state] [data-life]');
    assert.deepEqual(await life.locator('[data-tab-life]').evaluateAll((els) => els.map((e) => [e.dataset.tab, e.dataset.tabLife])), [['1', 'open'], ['2', 'open']]);
    // Tab 1's 401 takes the lock (its refresh leaves); tab 2's waits for it.
    await clickLeg(page, 'secret#1>', 'request');
    await clickLeg(page, 'secret#1<', 'request');
    await clickLeg(page, 'tab2/secret#1>', 'request');
    await clickLeg(page, 'tab2/secret#1<', 'request');
    assert.equal(await page.locator('[data-tray] [data-leg="secret#1>"][data-exchange="refresh"]').count(), 1);
    await life.locator('[data-tab="1"] [data-action="close-tab"]').click();
    await page.locator('[data-timeline][data-state="done"]').waitFor();
    const verdict = page.locator('[data-verdict]');
    assert.equal(await verdict.getAttribute('data-verdict-kind'), 'hang');
    assert.match(await verdict.locator('.verdict-sentence').textContent(), /^Hang: tab2\/secret#1 wait for the cross-tab lock, held by secret#1 of closed tab 1/);
    await page.locator('[data-challenge="hang-closed-tab"][data-solved="true"]').waitFor({ state: 'attached' });
    await shoot(page, 'hang-closed-tab.png');
  });
});

test('the laptop wakes: three tabs refresh at once and the user is logged out', async () => {
  await withPage(async (page) => {
    await play(page, 'wake-stampede');
    const sleep = page.locator('[data-tab-state] [data-action="sleep"]');
    assert.equal(await sleep.isDisabled(), true, 'this run has its sleep already');
    // The page loads with a valid token: three requests, three 200s.
    for (const lane of ['secret#1', 'tab2/secret#1', 'tab3/secret#1']) {
      await clickLeg(page, `${lane}>`, 'request');
      await clickLeg(page, `${lane}<`, 'request');
    }
    // Quiet: the laptop sleeps past exp, and every tab wakes at once.
    await page.locator('[data-tray] [data-leg="tab3/secret#2>"]').waitFor();
    // The stampede: every leg in flight goes at once, round after round.
    for (;;) {
      // The last answers can end the run on their own, after the delivered count
      // moved: wait for either the end or legs to deliver (held legs keep it alive).
      await page.waitForFunction(() => {
        const t = document.querySelector('[data-timeline]');
        const all = document.querySelector('[data-controls] [data-action="deliver-all"]');
        return t && (t.getAttribute('data-state') === 'done' || (all && !all.disabled));
      });
      if ((await timeline(page).getAttribute('data-state')) === 'done') break;
      const before = Number(await timeline(page).getAttribute('data-delivered'));
      await page.locator('[data-controls] [data-action="deliver-all"]:not([disabled])').click();
      await page.waitForFunction((n) => {
        const t = document.querySelector('[data-timeline]');
        return t && !document.querySelector('[data-tray][aria-busy]')
          && (t.getAttribute('data-state') === 'done' || Number(t.getAttribute('data-delivered')) > n);
      }, before);
    }
    const verdict = page.locator('[data-verdict]');
    assert.equal(await verdict.getAttribute('data-verdict-kind'), 'race');
    assert.equal(await verdict.getAttribute('data-refresh-calls'), '3');
    assert.equal(await verdict.getAttribute('data-logouts'), '1');
    await page.locator('[data-challenge="wake-stampede"][data-solved="true"]').waitFor({ state: 'attached' });
    await shoot(page, 'wake-up-stampede.png');
  });
});
