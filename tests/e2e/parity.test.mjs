// The browser runtime agrees with the engine: for every case × strategy ×
// policy, the JavaScript strategy module in a Worker and the Rust client
// give the same verdict counts, both stepped through in due order (a held
// run is deterministic in either runtime: docs/design.md, "Clients in the
// page").

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openLab } from './harness.mjs';

let server;
let browser;
let page;
let errors;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ page, errors } = await openLab(browser, server.url));
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** Runs `settings` in the page, stepping every leg in due order (ui/module-runner.js). */
function stepped(settings) {
  return page.evaluate(async (settings) => {
    const { runToEnd } = await import('/module-runner.js');
    return runToEnd({ ...settings, network: 'step' });
  }, settings);
}

const COUNTS = ['requests', 'ok', 'failed', 'refresh_calls', 'refresh_ok', 'refresh_rejected', 'refresh_accepted_by_server', 'logouts', 'tokens_issued', 'family_revoked', 'race'];

test('JS and Rust strategies give the same verdict counts for every case × strategy × policy', async () => {
  const options = await page.evaluate(() => fetch('/lab/options').then((r) => r.json()));
  let compared = 0;
  // The cold start runs in the Rust runtime only: the lab refuses it in the page.
  const cases = options.cases.filter((name) => name !== 'cold-start');
  for (const caseName of cases) {
    for (const strategy of options.page_strategies) {
      for (const policy of options.policies.map((p) => p.name)) {
        const settings = { case: caseName, strategy, policy, jitter_ms: 0 };
        const rust = await stepped(settings);
        const browserRun = await stepped({ ...settings, runtime: 'browser' });
        const where = `${caseName} × ${strategy} × ${policy}`;
        assert.equal(rust.last.type, 'done', `${where}: the Rust run ended with ${JSON.stringify(rust.last)}`);
        assert.equal(browserRun.last.type, 'done', `${where}: the browser run ended with ${JSON.stringify(browserRun.last)} (${JSON.stringify(browserRun.failed)})`);
        const pick = (verdict) => Object.fromEntries(COUNTS.map((key) => [key, verdict[key]]));
        assert.deepEqual(pick(browserRun.last.verdict), pick(rust.last.verdict), `${where}: the counts differ`);
        compared += 1;
      }
    }
  }
  assert.equal(compared, cases.length * options.page_strategies.length * options.policies.length);
  assert.deepEqual(errors, []);
});

test('in several tabs too: JS and Rust strategies agree for tabs 2 and 3 × cross-tab none and lock', async () => {
  const options = await page.evaluate(() => fetch('/lab/options').then((r) => r.json()));
  let compared = 0;
  const outcomes = new Set();
  for (const tabs of [2, 3]) {
    for (const crossTab of ['none', 'lock']) {
      for (const strategy of options.page_strategies) {
        for (const policy of ['strict', 'family', 'grace', 'none']) {
          // One secret request per tab: every tab's request is out at once
          // (the page's tabs share three connections to the lab).
          const settings = { case: 'expired-refreshable', strategy, policy, jitter_ms: 0, tabs, cross_tab: crossTab, secret: 1, public: 0 };
          const rust = await stepped(settings);
          const browserRun = await stepped({ ...settings, runtime: 'browser' });
          const where = `${tabs} tabs × ${crossTab} × ${strategy} × ${policy}`;
          assert.equal(rust.last.type, 'done', `${where}: the Rust run ended with ${JSON.stringify(rust.last)}`);
          assert.equal(browserRun.last.type, 'done', `${where}: the browser run ended with ${JSON.stringify(browserRun.last)} (${JSON.stringify(browserRun.failed)})`);
          const pick = (verdict) => Object.fromEntries(COUNTS.map((key) => [key, verdict[key]]));
          assert.deepEqual(pick(browserRun.last.verdict), pick(rust.last.verdict), `${where}: the counts differ`);
          outcomes.add(`${browserRun.last.verdict.refresh_calls}/${browserRun.last.verdict.logouts}`);
          compared += 1;
        }
      }
    }
  }
  assert.equal(compared, 2 * 2 * options.page_strategies.length * 4);
  // Not one outcome for all: the lock changes what happens.
  assert.ok(outcomes.size > 1, [...outcomes].join(' '));
  assert.deepEqual(errors, []);
});
