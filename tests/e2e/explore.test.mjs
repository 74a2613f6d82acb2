// Browser tests of Explore against a real `refresh-race serve`, in headless
// Debian chromium: explore the setup on screen, read the chart's counts,
// open a class's shortest order by hand (its point of no return marked),
// cancel an exploration, and the hand-mode hints on each leg card. The
// counts are checked against the CLI's `explore --json` of the same setup
// (the engine's own count, which tests/it/explore.rs checks by brute force).
// Hooks: docs/ui-hooks.md.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/explore.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { useLab, engineExplore as cliExplore } from './harness.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const lab = useLab();

/** axe-core's WCAG 2 A/AA violations on the page, one line per node. */
async function audit(page) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
  });
}

async function setControls(page, values) {
  for (const [control, value] of Object.entries(values)) {
    const el = page.locator(`[data-control="${control}"]`);
    if (await el.evaluate((e) => e.tagName === 'SELECT')) await el.selectOption(String(value));
    else if (await el.evaluate((e) => e.type === 'checkbox')) await el.setChecked(Boolean(value));
    else await el.fill(String(value));
  }
}

/** Sets the picked library's options through its dialog. */
async function setLibraryOptions(page, options) {
  await page.click('[data-action="library-options"]');
  await page.fill('[data-control="library-options"]', JSON.stringify(options));
  await page.click('[data-action="close-library-options"]');
}

/** The lab's explorer over `settings`, the library (with `options`) in the page's Workers. */
function exploreLibraryInPage(page, settings, options) {
  return page.evaluate(async ([s, o]) => {
    const { exploreToEnd } = await import('/explore-client.js');
    return exploreToEnd({ settings: s }, { client: { options: o } });
  }, [settings, options]);
}

/** Explores the setup on screen and waits for the chart. */
async function explore(page) {
  await page.click('[data-action="explore"]');
  await page.locator('[data-explore]').waitFor({ timeout: 60_000 });
  const chart = page.locator('[data-explore]');
  return {
    orders: Number(await chart.getAttribute('data-orders')),
    failing: Number(await chart.getAttribute('data-failing')),
    exact: await chart.getAttribute('data-exact'),
    classes: await page.locator('[data-explore-class]').evaluateAll((els) => els.map((el) => ({
      key: el.getAttribute('data-explore-class'),
      count: Number(el.getAttribute('data-count')),
      ok: el.getAttribute('data-ok') === 'true',
      text: el.textContent,
    }))),
  };
}

test('explore the queue with a late request: the chart counts what the engine counts, and Show me opens a counterexample by hand', async () => {
  await lab.withPage(async (page) => {
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor();
    await setControls(page, { strategy: 'queue', policy: 'strict', 'secret-count': 1, 'public-count': 0, 'late-request': true });
    const cli = cliExplore(['--client', 'queue', '--secret', '1', '--public', '0', '--late']);
    const shown = await explore(page);
    assert.deepEqual([shown.orders, shown.failing, shown.exact], [cli.orders, cli.failing, 'true']);
    assert.deepEqual(shown.classes.map((c) => [c.count, c.ok]), cli.classes.map((c) => [c.count, c.ok]));
    const out = shown.classes.findIndex((c) => c.text.includes('log the user out'));
    assert.ok(out >= 0, 'a class logs the user out');
    assert.match(shown.classes[out].text, new RegExp(`${shown.classes[out].count.toLocaleString('en')} of ${cli.orders.toLocaleString('en')} orders log the user out`));

    // Show me: the shortest order by hand, stopped right after its point of no return.
    const cls = cli.classes[out];
    await page.locator('[data-explore-class]').nth(out).locator('[data-action="show-order"]').click();
    assert.equal(await page.locator('[data-explore-panel]').isVisible(), false, 'Show me closes the drawer');
    await page.locator(`[data-timeline][data-held="true"][data-delivered="${cls.no_return + 1}"]`).waitFor();
    const mark = page.locator('[data-timeline] [data-no-return]');
    await mark.waitFor();
    assert.equal(await mark.getAttribute('data-no-return'), cls.shortest[cls.no_return]);
    assert.match(await page.locator('[data-caption]').textContent(), new RegExp(`^Point of no return: delivery ${cls.no_return + 1} `));
    // The verdict is still on screen.
    assert.equal(await page.locator('[data-verdict]').isVisible(), true);

    // Hints: every continuation from here fails, so each card says k/k.
    await page.locator('[data-control="hints"]').check();
    await page.locator('[data-tray] [data-leg][data-fail-share]').first().waitFor({ timeout: 30_000 });
    const shares = await page.locator('[data-tray] [data-leg]').evaluateAll((els) => els.map((el) => el.getAttribute('data-fail-share')));
    assert.ok(shares.length > 0);
    for (const share of shares) {
      const [k, m] = share.split('/').map(Number);
      assert.ok(m > 0 && k === m, `after the point of no return every order fails (${share})`);
    }
    // Undo one delivery: before the point of no return some continuation is saved.
    await page.click('[data-action="undo"]');
    await page.locator(`[data-timeline][data-held="true"][data-delivered="${cls.no_return}"]`).waitFor();
    await page.waitForFunction(() => {
      const cards = [...document.querySelectorAll('[data-tray] [data-leg]')];
      return cards.length > 0 && cards.every((c) => c.hasAttribute('data-fail-share'));
    }, null, { timeout: 30_000 });
    const before = await page.locator('[data-tray] [data-leg]').evaluateAll((els) => els.map((el) => el.getAttribute('data-fail-share').split('/').map(Number)));
    assert.ok(before.some(([k, m]) => k < m), `some leg still saves the run: ${JSON.stringify(before)}`);
    assert.ok(before.some(([k, m]) => k === m), 'and one of them is the point of no return');
  });
});

test('single-flight under strict: every order ends well', async () => {
  await lab.withPage(async (page) => {
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor();
    await setControls(page, { strategy: 'single-flight', policy: 'strict', 'secret-count': 2, 'public-count': 0 });
    const shown = await explore(page);
    assert.deepEqual([shown.orders, shown.failing, shown.exact], [194, 0, 'true']);
    assert.deepEqual(shown.classes.map((c) => [c.count, c.ok]), [[194, true]]);
    assert.match(await page.locator('.explore-headline').textContent(), /Every one of the 194 orders ends well/);
    assert.deepEqual(await audit(page), [], 'the open drawer passes axe');
  }, { width: 1400, height: 1000, bypassCSP: true });
});

test('cancel stops an exploration, and bad settings are refused with the lab\'s message', async () => {
  const { page, errors } = await lab.open({ width: 1400, height: 1000 });
  try {
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor();
    // Large enough to still be running when Cancel is clicked.
    await setControls(page, { strategy: 'naive', policy: 'strict', 'secret-count': 3, 'public-count': 2 });
    await page.click('[data-action="explore"]');
    await page.locator('[data-action="cancel-explore"]').waitFor();
    await page.click('[data-action="cancel-explore"]');
    await page.locator('[data-explore-cancelled]').waitFor();
    assert.equal(await page.locator('[data-explore]').count(), 0);
    // The lab is free again: a small one explores right after.
    await setControls(page, { 'secret-count': 1, 'public-count': 0 });
    const shown = await explore(page);
    assert.equal(shown.exact, 'true');
    assert.ok(shown.orders > 0);
    // Past the bound: the lab says so, with its estimate.
    await page.click('[data-action="close-explore"]');
    await setControls(page, { 'secret-count': 9, 'public-count': 9 });
    await page.click('[data-action="explore"]');
    const error = page.locator('[data-explore-error]');
    await error.waitFor();
    assert.match(await error.textContent(), /too large to explore whole/);
    // Chromium logs the refused fetch (400) as a console error: that one is expected.
    assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), [], 'no other errors in the page');
  } finally {
    await page.close();
  }
});

/** Clicks the tray card of `leg` and waits until the held run has delivered `n` legs and the tray is idle. */
async function deliverLeg(page, leg, n) {
  await page.locator(`[data-tray]:not([aria-busy]) [data-leg="${leg}"]`).click();
  await page.locator(`[data-timeline][data-held="true"][data-delivered="${n}"]`).waitFor({ timeout: 30_000 });
  await page.locator(`[data-tray][data-delivered="${n}"]:not([aria-busy])`).waitFor();
}

/** Turns the Hints on and waits until every card in the tray carries its share: `{ leg: "k/M" }`. */
async function hintShares(page) {
  await page.locator('[data-control="hints"]').check();
  await page.waitForFunction(() => {
    const cards = [...document.querySelectorAll('[data-tray] [data-leg]')];
    return cards.length > 0 && cards.every((c) => c.hasAttribute('data-fail-share'));
  }, null, { timeout: 60_000 });
  return Object.fromEntries(await page.locator('[data-tray] [data-leg]').evaluateAll((els) => els.map((el) => [el.getAttribute('data-leg'), el.getAttribute('data-fail-share')])));
}

/** The shares an exploration's `next` gives, as the hints show them. */
const sharesOf = (exploration) => Object.fromEntries(exploration.next.map((n) => [n.leg, `${n.failing}/${n.orders}`]));

// Hints for a run that runs in the page: the hints explore from the held
// point with the run's own client (its tabs as Workers), not the Rust one.
test('hints on a run held in the page: the JS queue\'s shares are what the engine counts for its Rust twin from the same point', async () => {
  await lab.withPage(async (page) => {
    await setControls(page, { runtime: 'browser', strategy: 'queue', policy: 'strict', 'secret-count': 2, 'public-count': 0, network: 'hand' });
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-runtime="browser"][data-held="true"][data-delivered="0"]').waitFor({ timeout: 30_000 });
    await page.locator('[data-tray][data-delivered="0"]:not([aria-busy]) [data-leg="secret#1>"]').waitFor();
    const played = ['secret#1>', 'secret#1<'];
    for (const [i, leg] of played.entries()) await deliverLeg(page, leg, i + 1);
    const shown = await hintShares(page);
    const cli = cliExplore(['--case', 'expired-refreshable', '--client', 'queue', '--policy', 'strict', '--secret', '2', '--public', '0', '--deliver', played.join(',')]);
    assert.ok(cli.exact && cli.failing > 0 && cli.failing < cli.orders, `from here some orders fail, some do not: ${cli.failing}/${cli.orders}`);
    assert.deepEqual(shown, sharesOf(cli));
    // One more delivery: the hints follow the run.
    const next = cli.next.find((n) => n.orders > 0).leg;
    await deliverLeg(page, next, played.length + 1);
    await page.waitForFunction((n) => {
      const cards = [...document.querySelectorAll(`[data-tray][data-delivered="${n}"] [data-leg]`)];
      return cards.length > 0 && cards.every((c) => c.hasAttribute('data-fail-share'));
    }, played.length + 1, { timeout: 60_000 });
    const after = Object.fromEntries(await page.locator('[data-tray] [data-leg]').evaluateAll((els) => els.map((el) => [el.getAttribute('data-leg'), el.getAttribute('data-fail-share')])));
    assert.deepEqual(after, sharesOf(cliExplore(['--case', 'expired-refreshable', '--client', 'queue', '--policy', 'strict', '--secret', '2', '--public', '0', '--deliver', [...played, next].join(',')])));
  }, { width: 1400, height: 1000 });
});

// A library has no Rust twin: its hints are checked against the lab's
// explorer run from the same point with the library in the page's Workers.
test('hints on a library held in the page (axios-auth-refresh 3 with an option): the shares an exploration from that point reports', async () => {
  await lab.withPage(async (page) => {
    const options = { skipWhileRefreshing: true };
    await setControls(page, { runtime: 'browser', strategy: 'axios-auth-refresh@3', policy: 'strict', 'secret-count': 2, 'public-count': 0, network: 'hand' });
    await setLibraryOptions(page, options);
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-runtime="browser"][data-held="true"][data-delivered="0"]').waitFor({ timeout: 30_000 });
    await page.locator('[data-tray][data-delivered="0"]:not([aria-busy]) [data-leg="secret#1>"]').waitFor();
    const played = ['secret#1>', 'secret#2>'];
    for (const [i, leg] of played.entries()) await deliverLeg(page, leg, i + 1);
    const shown = await hintShares(page);
    await page.locator('[data-control="hints"]').uncheck();
    await page.waitForFunction(() => !document.querySelector('[data-tray] [data-fail-share]'));
    // The engine's count from the same point, the library (with its options) in the page.
    const engine = await exploreLibraryInPage(page, {
      case: 'expired-refreshable', strategy: 'naive', runtime: 'browser', module: 'axios-auth-refresh@3', module_options: options,
      policy: 'strict', secret: 2, public: 0, network: 'hand', deliver: played,
    }, options);
    assert.ok(engine.exact);
    assert.deepEqual(shown, sharesOf(engine));
    assert.ok(Object.keys(shown).length >= 2, `two legs in flight: ${JSON.stringify(shown)}`);
  }, { width: 1400, height: 1000 });
});

// The Explore button with a library picked explores the library (its
// module with its options, in the page's Workers), not a strategy of that
// name: the chart's counts equal the lab's explorer run with that module.
test('Explore with a library picked (axios-auth-refresh 3 with an option): the chart counts the library\'s orders', async () => {
  await lab.withPage(async (page) => {
    const options = { skipWhileRefreshing: true };
    await setControls(page, { runtime: 'browser', strategy: 'axios-auth-refresh@3', policy: 'strict', 'secret-count': 2, 'public-count': 0 });
    await setLibraryOptions(page, options);
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 30_000 });
    const chart = await explore(page);
    const engine = await exploreLibraryInPage(page, {
      case: 'expired-refreshable', strategy: 'naive', runtime: 'browser', module: 'axios-auth-refresh@3', module_options: options,
      policy: 'strict', secret: 2, public: 0, network: 'hand',
    }, options);
    assert.ok(engine.exact);
    assert.equal(chart.orders, engine.orders);
    assert.equal(chart.failing, engine.failing);
    assert.deepEqual(chart.classes.map((c) => c.count).sort((a, b) => a - b), engine.classes.map((c) => c.count).sort((a, b) => a - b));
  }, { width: 1400, height: 1000 });
});

// The first screen that fits 1280 and 1400 wide is presenter mode's (the
// dark theme's controls take more rows: presenter.test.mjs); there the
// verdict stays on screen and Explore is folded under More. In the dark
// theme the drawer floats: the verdict does not move.
test('Explore keeps the first screen: the verdict stays on screen (presenter, 1400x900 and 1280x800) and in place (dark)', async () => {
  for (const [width, height, theme] of [[1400, 900, 'presenter'], [1280, 800, 'presenter'], [1400, 900, 'dark']]) {
    await lab.withPage(async (page) => {
      if (theme === 'presenter') await page.click('[data-action="presenter"]');
      await page.click('[data-case="expired-refreshable"]');
      await page.locator('[data-timeline][data-state="done"]').waitFor();
      const before = await page.locator('[data-verdict]').boundingBox();
      if (theme === 'presenter') assert.ok(before && before.y + before.height <= height, `verdict below the fold at ${width}x${height}`);
      if (theme === 'presenter') {
        // Folded away with the other extras; More unfolds it.
        assert.equal(await page.locator('[data-action="explore"]').isVisible(), false);
        await page.click('[data-action="advanced"]');
      }
      const unfolded = await page.locator('[data-verdict]').boundingBox();
      await setControls(page, { strategy: 'single-flight', 'secret-count': 1, 'public-count': 0 });
      await page.click('[data-action="explore"]');
      await page.locator('[data-explore]').waitFor({ timeout: 60_000 });
      // The drawer floats over the page: nothing under it moved.
      assert.deepEqual(await page.locator('[data-verdict]').boundingBox(), unfolded);
    }, { width, height });
  }
});
