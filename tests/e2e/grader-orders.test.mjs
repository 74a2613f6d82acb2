// The grader over every order, in headless Debian chromium against a real
// `refresh-race serve`: the page's JavaScript strategies explored by the
// lab's explorer (their tabs run as Workers of the page) give the same
// orders, failing orders and outcome classes as their Rust twins (the CLI's
// `explore --json`, which tests/it/explore.rs checks by brute force); a
// learner's module graded over every order says "fails in k of M orders"
// with the counts the CLI gives, and its Show me opens the shortest
// counterexample by hand, with a link to it.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/grader-orders.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { useLab, REPO, engineExplore as cliExplore, engineArgs as cliArgs, classRows as classes } from './harness.mjs';
import { CHECKS, ORDER_POLICIES, orderSettings, gradeOrders } from '../../ui/lib/grader.js';

const lab = useLab();
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core's WCAG 2 A/AA violations inside `selector`, one line per node. */
async function audit(page, selector) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async (sel) => {
    const result = await window.axe.run(document.querySelector(sel), { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
  }, selector);
}

test('parity: the JavaScript built-ins explored in the page count the same orders and classes as their Rust twins', async () => {
  await lab.withPage(async (page) => {
    for (const strategy of ['naive', 'queue', 'single-flight']) {
      for (const policy of ORDER_POLICIES) {
        const settings = { case: 'expired-refreshable', strategy, policy, secret: 2, public: 0, runtime: 'browser', network: 'hand', jitter_ms: 0, deliver: [] };
        const inPage = await page.evaluate(async (s) => {
          const { exploreToEnd } = await import('/explore-client.js');
          return exploreToEnd({ settings: s }, { client: { builtin: s.strategy } });
        }, settings);
        const rust = cliExplore(cliArgs(settings, strategy));
        const label = `${strategy} ${policy}`;
        assert.equal(inPage.exact, true, label);
        assert.deepEqual([inPage.orders, inPage.failing], [rust.orders, rust.failing], label);
        assert.deepEqual(classes(inPage), classes(rust), label);
        assert.equal(inPage.setup.runtime, 'browser');
      }
    }
  });
});

test('a module graded over every order: the queue fails in k of M orders (the CLI\'s counts), Show me opens the shortest counterexample by hand', async () => {
  await lab.withPage(async (page) => {
    await page.click('[data-action="code"]');
    await page.click('[data-action="own-code"]');
    await page.locator('[data-code-panel][data-mode="own"]').waitFor();
    await page.setInputFiles('[data-control="code-file"]', {
      name: 'queue.js', mimeType: 'text/javascript', buffer: readFileSync(path.join(REPO, 'ui', 'strategies', 'queue.js')),
    });
    await page.click('[data-action="grade"]');
    const card = page.locator('[data-grade]');
    await page.locator('[data-grade][data-state="running"]').waitFor();
    await page.locator('[data-grade][data-state="done"]').waitFor({ timeout: 300_000 });
    assert.equal(await card.getAttribute('data-total'), String(CHECKS.length));

    // Each explored check: the counts the engine gives its Rust twin.
    for (const check of CHECKS.filter((c) => c.orders)) {
      const expected = gradeOrders(check, ORDER_POLICIES.map((policy) => {
        const settings = orderSettings(check, policy);
        return { policy, exploration: cliExplore(cliArgs(settings, 'queue')) };
      }));
      const row = card.locator(`[data-check="${check.id}"]`);
      assert.equal(await row.getAttribute('data-orders'), String(expected.orders), check.id);
      assert.equal(await row.getAttribute('data-failing'), String(expected.failing), check.id);
      assert.equal(await row.getAttribute('data-pass'), String(expected.pass), check.id);
      const show = card.locator(`[data-action="show-counterexample"][data-for-check="${check.id}"]`);
      assert.equal(await show.count(), expected.pass ? 0 : 1, check.id);
      if (!expected.pass) {
        assert.match(await row.textContent(), new RegExp(`fails in ${expected.failing} of ${expected.orders} orders`));
        assert.match(await card.locator(`[data-counterexample-link="${check.id}"]`).getAttribute('href'), /^#s=1\./);
      }
    }
    // The card with its counts, Show me buttons and links: no WCAG 2 A/AA violation.
    assert.deepEqual(await audit(page, '[data-grade]'), []);

    // The queue's known weakness: a late 401 refreshes again.
    assert.equal(await card.locator('[data-check="late-401"]').getAttribute('data-pass'), 'false');
    assert.equal(await card.locator('[data-check="answer-after-401s"]').getAttribute('data-pass'), 'true');
    assert.ok(Number(await card.locator('[data-check="late-401"]').getAttribute('data-failing')) > 0);

    // Show me: the shortest failing order, played by hand in the page, ends as the row says.
    const late = CHECKS.find((c) => c.id === 'late-401');
    const strict = cliExplore(cliArgs(orderSettings(late, 'strict'), 'queue'));
    const shortest = strict.classes.filter((c) => c.ok === false).reduce((a, b) => (b.shortest.length < a.shortest.length ? b : a));
    await card.locator('[data-action="show-counterexample"][data-for-check="late-401"]').click();
    const timeline = page.locator('[data-timeline][data-runtime="browser"][data-network="hand"]');
    await timeline.waitFor({ timeout: 20_000 });
    await page.locator('[data-timeline][data-runtime="browser"][data-state="done"]').waitFor({ timeout: 30_000 });
    assert.equal(await timeline.getAttribute('data-delivered'), String(shortest.shortest.length));
    assert.equal(await page.getAttribute('[data-verdict]', 'data-refresh-calls'), String(shortest.outcome.refresh_calls));
  }, { width: 1600, height: 1000, bypassCSP: true });
});

test('the Explore drawer explores a client in the page: the JS queue counts what the engine counts, each class has its link, Show me opens it by hand', async () => {
  await lab.withPage(async (page) => {
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor();
    await page.selectOption('[data-control="runtime"]', 'browser');
    await page.selectOption('[data-control="strategy"]', 'queue');
    await page.selectOption('[data-control="policy"]', 'strict');
    await page.fill('[data-control="secret-count"]', '2');
    await page.fill('[data-control="public-count"]', '0');
    const cli = cliExplore(['--case', 'expired-refreshable', '--client', 'queue', '--policy', 'strict', '--secret', '2', '--public', '0']);
    await page.click('[data-action="explore"]');
    const chart = page.locator('[data-explore]');
    await chart.waitFor({ timeout: 120_000 });
    assert.deepEqual(
      [await chart.getAttribute('data-orders'), await chart.getAttribute('data-failing'), await chart.getAttribute('data-exact')],
      [String(cli.orders), String(cli.failing), 'true'],
    );
    const shown = await page.locator('[data-explore-class]').evaluateAll((els) => els.map((el) => [Number(el.dataset.count), el.dataset.ok === 'true']));
    assert.deepEqual(shown, cli.classes.map((c) => [c.count, c.ok]));
    await page.locator('[data-explore-link]').first().waitFor();
    const links = await page.locator('[data-explore-link]').evaluateAll((els) => els.map((el) => el.getAttribute('href')));
    assert.equal(links.length, cli.classes.length);
    for (const href of links) assert.match(href, /^#s=1\./);

    const out = cli.classes.findIndex((c) => !c.ok);
    await page.locator('[data-explore-class]').nth(out).locator('[data-action="show-order"]').click();
    await page.locator(`[data-timeline][data-runtime="browser"][data-held="true"][data-delivered="${cli.classes[out].no_return + 1}"]`).waitFor({ timeout: 30_000 });
  }, { width: 1400, height: 900 });
});
