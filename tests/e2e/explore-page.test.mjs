// Explore in the page, in headless Debian chromium against a real
// `refresh-race serve`: several tabs of a client that runs in the page
// (each a Worker, their storage and locks relayed by the page) count the
// same orders and classes as the engine's tabs (`explore --tabs N --json`,
// which tests/it/explore.rs checks by brute force); and a learner's module that throws
// or never returns in some orders: those orders are a class of their own,
// and the exploration goes on.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/explore-page.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, engineExplore as cliExplore, engineArgs as cliArgs, classRows as classes } from './harness.mjs';
import { ORDER_POLICIES } from '../../ui/lib/grader.js';

const lab = useLab();

/** Explores `settings` in the page with `client` ({ builtin } or { source }). */
function exploreInPage(page, settings, client) {
  return page.evaluate(async ([s, c]) => {
    const { exploreToEnd } = await import('/explore-client.js');
    return exploreToEnd({ settings: s }, { client: c });
  }, [settings, client]);
}

test('two tabs in the page count what the engine\'s two tabs count: single-flight without and with the cross-tab lock', async () => {
  await lab.withPage(async (page) => {
    for (const crossTab of ['none', 'lock']) {
      for (const policy of ORDER_POLICIES) {
        const settings = { case: 'expired-refreshable', strategy: 'single-flight', policy, secret: 1, public: 0, tabs: 2, cross_tab: crossTab, runtime: 'browser', network: 'hand', jitter_ms: 0, deliver: [] };
        const inPage = await exploreInPage(page, settings, { builtin: 'single-flight' });
        const rust = cliExplore(cliArgs(settings, 'single-flight'));
        const label = `single-flight ${policy} cross-tab ${crossTab}`;
        assert.equal(inPage.exact, true, label);
        assert.deepEqual([inPage.orders, inPage.failing], [rust.orders, rust.failing], label);
        assert.deepEqual(classes(inPage), classes(rust), label);
      }
    }
  });
});

/** single-flight for one tab, with a flaw in the orders where a second 401 meets the refresh still out. */
function flawed(flaw) {
  return `let refreshing = null;
export async function request(req, api) {
  const used = api.token();
  const answer = await api.send(req, used);
  if (answer.status !== 401 || used === null) return answer;
  const current = api.token();
  if (current !== used) return current ? api.send(req, current) : answer;
  if (refreshing) ${flaw}
  refreshing = api.refresh(used).then((r) => {
    if (r.ok) api.store(r.token);
    else api.logout(r.reason);
    return r.ok ? r.token : null;
  });
  const fresh = await refreshing;
  return fresh ? api.send(req, fresh) : answer;
}
`;
}

test('a module that throws, or never returns, in some orders: those orders are a class of their own in the chart, and exploration goes on', async () => {
  await lab.withPage(async (page) => {
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor();
    await page.selectOption('[data-control="runtime"]', 'browser');
    await page.fill('[data-control="secret-count"]', '2');
    await page.fill('[data-control="public-count"]', '0');
    await page.selectOption('[data-control="policy"]', 'strict');
    await page.selectOption('[data-control="strategy"]', 'your interceptor');
    await page.click('[data-action="code"]');
    await page.locator('[data-code-panel][data-mode="own"]').waitFor();
    const settings = { case: 'expired-refreshable', policy: 'strict', secret: 2, public: 0, runtime: 'browser', network: 'hand', jitter_ms: 0, deliver: [] };
    for (const [flaw, kind] of [["throw new Error('a second 401 while the refresh is out');", 'error'], ['return new Promise(() => {});', 'hang']]) {
      const source = flawed(flaw);
      const direct = await exploreInPage(page, settings, { source });
      assert.equal(direct.exact, true, kind);
      const bad = direct.classes.filter((c) => c.outcome[kind]);
      assert.equal(bad.length, 1, `one ${kind} class: ${JSON.stringify(direct.classes.map((c) => c.outcome))}`);
      assert.ok(direct.classes.some((c) => c.ok), 'the other orders end well');
      assert.equal(direct.classes.reduce((n, c) => n + c.count, 0), direct.orders);
      assert.equal(direct.failing, bad[0].count, `only the ${kind} orders fail`);
      if (kind === 'error') {
        assert.equal(bad[0].outcome.hang, false);
        assert.match(bad[0].error, /a second 401 while the refresh is out/);
      } else {
        assert.equal(bad[0].outcome.error ?? false, false);
        assert.equal(bad[0].error, undefined);
      }

      // The drawer explores the code panel's module: the same counts, the class labelled.
      await page.setInputFiles('[data-control="code-file"]', { name: `${kind}.js`, mimeType: 'text/javascript', buffer: Buffer.from(source) });
      await page.click('[data-action="explore"]');
      const chart = page.locator('[data-explore]');
      await chart.waitFor({ timeout: 120_000 });
      assert.deepEqual([await chart.getAttribute('data-orders'), await chart.getAttribute('data-failing')], [String(direct.orders), String(direct.failing)]);
      const row = page.locator(`[data-explore-class$="-${kind}"]`);
      assert.equal(await row.count(), 1);
      assert.equal(await row.getAttribute('data-count'), String(bad[0].count));
      const text = await row.textContent();
      assert.match(text, new RegExp(`${bad[0].count} of ${direct.orders} orders ${kind === 'error' ? 'end in an error of the client' : 'leave a request hanging'}`));
      if (kind === 'error') {
        assert.match(await row.locator('[data-explore-error-message]').textContent(), /^The client failed: .*a second 401 while the refresh is out/);
        await page.screenshot({ path: '/tmp/explore-error-class.png' }).catch(() => {});
      }
      await page.click('[data-action="close-explore"]');
    }
  }, { width: 1400, height: 1000 });
});
