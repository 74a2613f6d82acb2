// Accessibility: axe-core's WCAG 2 A and AA rules (and 2.1's), in both
// themes, with a run on screen: a finished case 3 run (verdict, timeline,
// caption, log, a token walked to "refreshable") with the Export menu open,
// then a run held by hand (the tray and the tab's hidden state in the rail)
// with the challenges panel open. Presenter mode is audited folded (what a
// projector shows) and unfolded (everything else, in its colours).
// No rule is disabled: a violation is fixed where it comes from.
//
//   cargo build && node --test tests/e2e/a11y.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { useLab } from './harness.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const lab = useLab();

/** Runs axe on the whole page; returns its violations, one line per node. */
async function audit(page, where) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 300)}`),
    }));
  }, TAGS);
  return violations.flatMap((v) => v.nodes.map((n) => `[${where}] ${v.id} (${v.impact}) ${n}`));
}

/** Puts the page in `theme` (dark or presenter) with the button. */
async function useTheme(page, theme) {
  const current = await page.evaluate(() => document.body.getAttribute('data-theme') || 'dark');
  if (current !== theme) await page.click('[data-action="presenter"]');
  await page.locator(`body[data-theme="${theme}"]`).waitFor();
}

async function clickLeg(page, leg, exchange) {
  const before = Number(await page.getAttribute('[data-timeline]', 'data-delivered'));
  await page.click(`[data-tray]:not([aria-busy]) [data-leg="${leg}"][data-exchange="${exchange}"]`);
  await page.waitForFunction((n) => {
    const t = document.querySelector('[data-timeline]');
    return !document.querySelector('[data-tray][aria-busy]') && (t.getAttribute('data-state') === 'done' || Number(t.getAttribute('data-delivered')) === n);
  }, before + 1);
}

/** Every screen the audit covers, audited in the page's current theme. */
async function auditScreens(page, theme) {
  const found = [];
  // The token walk: its life bar empty, then a token gone refreshable.
  found.push(...await audit(page, `${theme}: before any run`));
  await page.click('[data-action="walk-login"]');
  await page.locator('[data-token-state="valid"]').waitFor();
  await page.click('[data-action="time-travel"][data-seconds="5"]');
  await page.locator('[data-token-state="refreshable"]').waitFor();

  // A finished naive case 3 run: the timeline, its verdict, the caption, the log; the Export menu open.
  await page.selectOption('[data-control="strategy"]', 'naive');
  await page.selectOption('[data-control="network"]', 'timer');
  await page.click('[data-case="expired-refreshable"]');
  await page.locator('[data-timeline][data-state="done"] [data-verdict]').waitFor({ timeout: 20_000 });
  await page.waitForSelector('[data-export-menu][data-state="ready"]');
  await page.keyboard.press('ArrowLeft'); // the cursor's caption
  await page.click('[data-action="export"]');
  await page.locator('[data-export="har"]').waitFor();
  found.push(...await audit(page, `${theme}: case 3 done, export menu open`));
  await page.keyboard.press('Escape');

  // A run held by hand: the tray and the tab's hidden state, mid-race.
  await page.selectOption('[data-control="strategy"]', 'queue');
  await page.selectOption('[data-control="network"]', 'hand');
  await page.click('[data-case="expired-refreshable"]');
  await page.locator('[data-timeline][data-held="true"][data-delivered="0"]').waitFor();
  await clickLeg(page, 'secret#1>', 'request');
  await clickLeg(page, 'secret#1<', 'request');
  await page.locator('[data-tab-state][data-is-refreshing="true"]').waitFor();
  found.push(...await audit(page, `${theme}: held by hand, tray`));

  // The challenges panel over it, one hint shown.
  await page.click('[data-action="challenges"]');
  await page.locator('[data-challenges]').waitFor();
  await page.locator('[data-challenges] [data-action="hint"]').first().click();
  found.push(...await audit(page, `${theme}: challenges panel`));
  await page.keyboard.press('Escape');
  return found;
}

for (const theme of ['dark', 'presenter']) {
  test(`axe: no WCAG 2 A/AA violations in the ${theme} theme`, async () => {
    const { page, errors } = await lab.open({ width: 1400, height: 1000, bypassCSP: true });
    try {
      await useTheme(page, theme);
      const violations = [];
      if (theme === 'presenter') {
        // What the projector shows: the run and its verdict, the rest folded away.
        await page.click('[data-case="expired-refreshable"]');
        await page.locator('[data-timeline][data-state="done"] [data-verdict]').waitFor({ timeout: 20_000 });
        violations.push(...await audit(page, 'presenter (folded): case 3 done'));
        // Then everything, unfolded, in presenter's colours.
        await page.click('[data-action="advanced"]');
        await page.locator('[data-walk]').waitFor();
      }
      violations.push(...await auditScreens(page, theme));
      assert.deepEqual(violations, [], `axe found:\n${violations.join('\n')}`);
      assert.deepEqual(errors, [], 'no errors in the page');
    } finally {
      await page.close();
    }
  });
}
