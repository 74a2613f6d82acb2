// Presenter mode and the page scale, in headless Debian chromium against a
// real `refresh-race serve`: P and the button toggle body[data-theme], the
// theme survives a reload, a case 3 run and its verdict fit 1280×720, the
// advanced controls fold away (and unfold), the palette follows the theme,
// and Ctrl +/−/0 scale the root font size (kept across reloads).
// Hooks: docs/ui-hooks.md.
//
//   cargo build && node --test tests/e2e/presenter.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, verdictInFlow } from './harness.mjs';
import { PALETTES } from '../../ui/lib/colors.js';

const lab = useLab();

/** Opens the lab (a fresh context: empty localStorage), runs `fn(page)`, fails on page errors. */
const withPage = lab.withPage;

const theme = (page) => page.evaluate(() => document.body.getAttribute('data-theme'));
const rootFontPx = (page) => page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
const rgb = (hex) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;

async function runCase3(page) {
  await page.click('[data-case="expired-refreshable"]');
  await page.locator('[data-timeline][data-state="done"] [data-verdict]').waitFor({ timeout: 20_000 });
}

test('P and the presenter button toggle body[data-theme]; the choice survives a reload', async () => {
  await withPage(async (page) => {
    assert.equal(await theme(page), 'dark');
    const button = page.locator('[data-action="presenter"]');
    assert.equal(await button.getAttribute('aria-pressed'), 'false');
    await button.click();
    assert.equal(await theme(page), 'presenter');
    assert.equal(await button.getAttribute('aria-pressed'), 'true');
    assert.equal(await page.evaluate(() => localStorage.getItem('refresh-race.theme')), 'presenter');

    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await theme(page), 'presenter', 'kept in localStorage');

    // P toggles back, but not while typing in a field.
    await page.locator('h1').click();
    await page.keyboard.press('p');
    assert.equal(await theme(page), 'dark');
    await page.click('[data-action="advanced"]'); // the field waits under More
    await page.locator('[data-control="secret-count"]').focus();
    await page.keyboard.press('p');
    assert.equal(await theme(page), 'dark', 'a p typed in a field is a p');
    await page.locator('h1').click();
    await page.keyboard.press('Shift+P');
    assert.equal(await theme(page), 'presenter');
  });
});

test('presenter at 1280×720: the case 3 run and its verdict fit without scrolling, the advanced controls folded away', async () => {
  await withPage(async (page) => {
    await page.click('[data-action="presenter"]');
    await page.selectOption('[data-control="strategy"]', 'naive');
    await runCase3(page);
    const timeline = page.locator('[data-timeline]');
    assert.equal(await timeline.getAttribute('data-strategy'), 'naive');
    assert.equal(await timeline.locator('[data-lane-row]').count(), 8, '3 secret, 3 public, client, server');

    const box = await page.locator('[data-verdict]').evaluate((el) => {
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, innerHeight, scrollY, scrollHeight: document.documentElement.scrollHeight };
    });
    assert.ok(box.bottom <= box.innerHeight, `the verdict ends at ${box.bottom}, the window at ${box.innerHeight}`);
    assert.equal(box.scrollY, 0);
    assert.ok(box.scrollHeight <= box.innerHeight, `the page is ${box.scrollHeight} px tall: nothing to scroll`);
    // Larger type than the dark theme's at this width.
    const presenterFont = await rootFontPx(page);

    // What stays: the four cases, client, policy, speed, network, the timeline and its verdict.
    for (const selector of ['[data-case="guest"]', '[data-case="expired-not-refreshable"]', '[data-control="strategy"]', '[data-control="policy"]',
      '[data-control="speed"]', '[data-control="network"]', '[data-timeline]', '[data-verdict]', '[data-action="presenter"]']) {
      assert.equal(await page.locator(selector).first().isVisible(), true, `${selector} is shown`);
    }
    // What folds away.
    const folded = ['[data-control="latency-secret"]', '[data-control="access-ttl"]', '[data-control="late-request"]', '.replay-button',
      '[data-walk]', '[data-log]', '[data-inspector]', '[data-export-menu]', '[data-control="secret-count"]'];
    for (const selector of folded) assert.equal(await page.locator(selector).isVisible(), false, `${selector} is folded away`);
    // More unfolds them (and folds them again).
    const more = page.locator('[data-action="advanced"]');
    await more.click();
    assert.equal(await more.getAttribute('aria-expanded'), 'true');
    for (const selector of folded) assert.equal(await page.locator(selector).isVisible(), true, `${selector} is unfolded`);
    await more.click();
    assert.equal(await page.locator('[data-walk]').isVisible(), false);

    await page.click('[data-action="presenter"]');
    assert.ok(presenterFont > await rootFontPx(page), 'presenter type is larger than the dark theme\'s');
    // The dark theme layers its first screen the same way: folded, More unfolds it.
    assert.equal(await page.locator('[data-walk]').isVisible(), false);
    assert.equal(await more.isVisible(), true);
    await more.click();
    assert.equal(await page.locator('[data-walk]').isVisible(), true);
  }, { width: 1280, height: 720 });
});

test('switching with a run on screen: the palette and the geometry follow, the verdict fits', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="strategy"]', 'naive');
    await runCase3(page);
    const chipFill = () => page.locator('[data-timeline] [data-lane="secret#1"][data-kind="request"] .chip-rect').evaluate((el) => getComputedStyle(el).fill);
    assert.equal(await chipFill(), rgb(PALETTES.dark.tokens[0]));
    const flowBottom = async () => (await verdictInFlow(page.locator('[data-verdict]'))).bottom;
    const bottomDark = await flowBottom();
    assert.ok(bottomDark > 720, 'the dark theme does not fit 1280×720 (it is not made for it)');

    await page.locator('h1').click();
    await page.keyboard.press('p');
    assert.equal(await theme(page), 'presenter');
    assert.equal(await chipFill(), rgb(PALETTES.presenter.tokens[0]), 't1 in the presenter palette');
    const bodyBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bodyBg, 'rgb(255, 255, 255)', 'a light page');
    const bottom = await flowBottom();
    assert.ok(bottom <= 720, `after the switch the verdict ends at ${bottom}`);
  }, { width: 1280, height: 720 });
});

test('Ctrl+= grows the root font size, Ctrl+- shrinks it, Ctrl+0 resets it; the scale survives a reload', async () => {
  await withPage(async (page) => {
    await page.locator('h1').click();
    const base = await rootFontPx(page);
    await page.keyboard.press('Control+=');
    const bigger = await rootFontPx(page);
    assert.ok(bigger > base, `Ctrl+= : ${base} → ${bigger}`);
    await page.keyboard.press('Control+=');
    const biggest = await rootFontPx(page);
    assert.ok(biggest > bigger);
    assert.equal(await page.locator('[data-scale-note]').textContent(), '125%');
    assert.equal(await page.evaluate(() => localStorage.getItem('refresh-race.scale')), '1.25');

    // The timeline's geometry follows the root font.
    await runCase3(page);
    const rowHeight = () => page.locator('[data-lane-row="secret#1"] .row-bg').evaluate((el) => el.getBBox().height);
    const bigRow = await rowHeight();

    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await rootFontPx(page), biggest, 'kept in localStorage');

    // In a field too (as a browser's zoom), and Ctrl+0 back to 100 %.
    await page.locator('[data-control="secret-count"]').focus();
    await page.keyboard.press('Control+-');
    assert.ok(await rootFontPx(page) < biggest);
    await page.keyboard.press('Control+0');
    assert.equal(await rootFontPx(page), base, 'Ctrl+0 resets');
    assert.equal(await page.locator('[data-scale-note]').isVisible(), false, 'nothing to say at 100 %');
    await page.locator('h1').click();
    await runCase3(page);
    assert.ok(await rowHeight() < bigRow, 'rows shrink with the scale');
    await page.keyboard.press('Control+-');
    assert.ok(await rootFontPx(page) < base, 'Ctrl+- below 100 %');
    await page.keyboard.press('Control+0');
    assert.equal(await rootFontPx(page), base);
  });
});
