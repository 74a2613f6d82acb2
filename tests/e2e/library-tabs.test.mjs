// Supabase's auth client (ui/lib/libraries.js: supabase-auth@2.106 with its
// Web Lock, supabase-auth@2.119 lockless), the RTK Query and the ky recipes
// in one and three tabs of the page,
// case 3, against the matching server rules, in headless chromium against
// a real `refresh-race serve`. Every run is held and stepped in due order,
// so the counts are exact; the order each run was delivered in is pinned
// by replaying it by hand.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/library-tabs.test.mjs
//   (WRITE_SCREENSHOTS=1 also writes docs/screenshots/supabase-3-tabs.png)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { useLab, REPO } from './harness.mjs';

const lab = useLab();

/** Runs `library` in `tabs` tabs, case 3 under `policy`, held: `{ verdict, delivered }`. */
function run(page, library, policy, tabs, extra = {}) {
  return page.evaluate(async ([library, policy, tabs, extra]) => {
    const { runToEnd } = await import('/module-runner.js');
    const { libraryRun, libraryNamed } = await import('/lib/libraries.js');
    const settings = libraryRun({ case: 'expired-refreshable', policy, jitter_ms: 0, secret: 2, public: 0, tabs, network: 'step', ...extra }, libraryNamed(library));
    const { last, failed } = await runToEnd(settings);
    if (last.type !== 'done') return { error: `${last.type}: ${last.message} ${JSON.stringify(failed)}` };
    const v = last.verdict;
    return { verdict: { refreshes: v.refresh_calls, rejected: v.refresh_rejected, failed: v.failed, logouts: v.logouts, ok: v.ok }, delivered: last.delivered };
  }, [library, policy, tabs, extra]);
}

// Measured: refresh calls, refreshes refused, requests that failed, logouts.
const EXPECTED = [
  // One tab: the client's own single flight is enough, with or without a lock.
  ['supabase-auth@2.106', 1, 'supabase', { refreshes: 1, rejected: 0, failed: 0, logouts: 0, ok: 2 }],
  ['supabase-auth@2.106', 1, 'strict', { refreshes: 1, rejected: 0, failed: 0, logouts: 0, ok: 2 }],
  ['supabase-auth@2.106', 1, 'auth0', { refreshes: 1, rejected: 0, failed: 0, logouts: 0, ok: 2 }],
  ['supabase-auth@2.119', 1, 'supabase', { refreshes: 1, rejected: 0, failed: 0, logouts: 0, ok: 2 }],
  ['supabase-auth@2.119', 1, 'strict', { refreshes: 1, rejected: 0, failed: 0, logouts: 0, ok: 2 }],
  ['supabase-auth@2.119', 1, 'auth0', { refreshes: 1, rejected: 0, failed: 0, logouts: 0, ok: 2 }],
  // Three tabs, 2.106: the Web Lock lets one tab refresh; the others read its session.
  ['supabase-auth@2.106', 3, 'supabase', { refreshes: 1, rejected: 0, failed: 0, logouts: 0, ok: 6 }],
  ['supabase-auth@2.106', 3, 'strict', { refreshes: 1, rejected: 0, failed: 0, logouts: 0, ok: 6 }],
  ['supabase-auth@2.106', 3, 'auth0', { refreshes: 1, rejected: 0, failed: 0, logouts: 0, ok: 6 }],
  // Three tabs, 2.119 (lockless): every tab refreshes the same token. Supabase's
  // own server hands the parent's reuse the active token; a strict server
  // refuses two, and the library recovers from storage; Auth0's reuse
  // detection revokes the family and every request fails, with no logout.
  ['supabase-auth@2.119', 3, 'supabase', { refreshes: 3, rejected: 0, failed: 0, logouts: 0, ok: 6 }],
  ['supabase-auth@2.119', 3, 'strict', { refreshes: 3, rejected: 2, failed: 0, logouts: 0, ok: 6 }],
  // Auth0 refuses the reused refreshes but lets access tokens live until exp: the retries with the winner's token pass.
  ['supabase-auth@2.119', 3, 'auth0', { refreshes: 3, rejected: 2, failed: 0, logouts: 0, ok: 6 }],
  // The RTK Query recipe: its mutex holds the 401s of one tab behind one
  // refresh; tabs have one mutex each, so each tab refreshes the same token.
  ['rtk-query-recipe', 1, 'strict', { refreshes: 1, rejected: 0, failed: 0, logouts: 0, ok: 2 }],
  ['rtk-query-recipe', 3, 'strict', { refreshes: 3, rejected: 2, failed: 5, logouts: 1, ok: 1 }],
  ['rtk-query-recipe', 3, 'okta', { refreshes: 3, rejected: 0, failed: 0, logouts: 0, ok: 6 }],
  ['rtk-query-recipe', 3, 'auth0', { refreshes: 3, rejected: 2, failed: 5, logouts: 1, ok: 1 }],
  // ky's README recipe: every 401 refreshes on its own (its backoff before
  // the retry is a timer the tab waits for), even in one tab.
  ['ky-recipe', 1, 'strict', { refreshes: 2, rejected: 1, failed: 1, logouts: 0, ok: 1 }],
  ['ky-recipe', 3, 'strict', { refreshes: 6, rejected: 5, failed: 5, logouts: 0, ok: 1 }],
  ['ky-recipe', 3, 'okta', { refreshes: 6, rejected: 0, failed: 0, logouts: 0, ok: 6 }],
  ['ky-recipe', 3, 'auth0', { refreshes: 6, rejected: 5, failed: 5, logouts: 0, ok: 1 }],
];

test('supabase auth, the RTK Query and ky recipes in 1 and 3 tabs, case 3, stepped in due order: exact counts under supabase, strict and auth0', async () => {
  await lab.withPage(async (page) => {
    for (const [library, tabs, policy, expected] of EXPECTED) {
      const got = await run(page, library, policy, tabs);
      assert.equal(got.error, undefined, `${library} × ${tabs} tabs × ${policy}: ${got.error}`);
      assert.deepEqual(got.verdict, expected, `${library} × ${tabs} tabs × ${policy}`);
    }
  });
});

test('the lockless client\'s worst order is pinned: replayed as a script, the same legs give the same counts', async () => {
  await lab.withPage(async (page) => {
    const first = await run(page, 'supabase-auth@2.119', 'auth0', 3);
    assert.deepEqual(first.verdict, { refreshes: 3, rejected: 2, failed: 0, logouts: 0, ok: 6 });
    // Every tab's refresh of t1 goes out before any answer comes back.
    assert.deepEqual(first.delivered.slice(0, 6), ['secret#1>', 'secret#1<', 'tab2/secret#1>', 'tab2/secret#1<', 'tab3/secret#1>', 'tab3/secret#1<']);
    // The three refreshes' legs played as a script, then the rest in due order.
    const replayed = await run(page, 'supabase-auth@2.119', 'auth0', 3, { deliver: first.delivered.slice(0, 6) });
    assert.deepEqual(replayed.verdict, first.verdict);
    assert.deepEqual(replayed.delivered, first.delivered);
    // The same order with 2.106's lock: the legs of tabs 2 and 3 never exist.
    const locked = await run(page, 'supabase-auth@2.106', 'auth0', 3);
    assert.deepEqual(locked.verdict, { refreshes: 1, rejected: 0, failed: 0, logouts: 0, ok: 6 });
  });
});

test('three tabs of the lockless client in the lab: rows by tab, a refresh from each, the verdict on screen', async () => {
  await lab.withPage(async (page) => {
    await page.selectOption('[data-control="runtime"]', 'browser');
    await page.selectOption('[data-control="strategy"]', 'supabase-auth@2.119');
    await page.fill('[data-control="secret-count"]', '2');
    await page.fill('[data-control="public-count"]', '0');
    await page.selectOption('[data-control="policy"]', 'strict');
    await page.click('[data-action="more-scenario"]');
    await page.fill('[data-control="tabs"]', '3');
    await page.click('[data-case="expired-refreshable"]');
    const timeline = page.locator('[data-timeline][data-state="done"]');
    await timeline.waitFor({ timeout: 30_000 });
    const rows = await timeline.locator('[data-lane-row][data-tab]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-tab'), e.getAttribute('data-lane-row')]));
    assert.deepEqual(rows.filter(([, lane]) => !lane.includes('public')), [
      ['1', 'secret#1'], ['1', 'secret#2'],
      ['2', 'tab2/secret#1'], ['2', 'tab2/secret#2'],
      ['3', 'tab3/secret#1'], ['3', 'tab3/secret#2'],
    ]);
    const refreshers = await timeline.locator('[data-kind="refresh"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-lane').split('/')[0].replace(/#\d+$/, '')).sort());
    assert.deepEqual(refreshers, ['secret', 'tab2', 'tab3']);
    const verdict = timeline.locator('[data-verdict]');
    assert.equal(Number(await verdict.getAttribute('data-refresh-calls')), 3);
    if (process.env.WRITE_SCREENSHOTS) {
      await page.screenshot({ path: path.join(REPO, 'docs', 'screenshots', 'supabase-3-tabs.png') });
    }
  }, { width: 1400, height: 1000 });
});

test('a lock that is never released ends the run with a message naming the lock, its holder and who waits', async () => {
  await lab.withPage(async (page) => {
    // Tab 1 takes the lock and never lets go; tab 2 waits for it.
    const source = `export async function request(req, api) {
  if (req.tab === 1) api.lock('refresh', () => new Promise(() => {}));
  else await api.lock('refresh', async () => {});
  return api.send(req, api.token());
}`;
    const outcome = await page.evaluate(async (source) => {
      const { runToEnd } = await import('/module-runner.js');
      const { last, failed } = await runToEnd({ case: 'valid', policy: 'strict', secret: 1, public: 0, tabs: 2, runtime: 'browser', module: 'own' }, { source });
      return { type: last.type, message: last.message ?? null, failed: failed && failed.message };
    }, source);
    assert.equal(outcome.type, 'error', JSON.stringify(outcome));
    assert.equal(outcome.failed, 'tab2/secret#1 waits for the lock "refresh", held by secret#1, whose tab\'s requests all returned without releasing it: it is never released');
    assert.match(outcome.message, /never released/);
  });
});

test('three tabs of 2.106 in the lab: one refresh, and the log says which tab held the Web Lock', async () => {
  await lab.withPage(async (page) => {
    await page.selectOption('[data-control="runtime"]', 'browser');
    await page.selectOption('[data-control="strategy"]', 'supabase-auth@2.106');
    await page.fill('[data-control="secret-count"]', '2');
    await page.fill('[data-control="public-count"]', '0');
    await page.selectOption('[data-control="policy"]', 'strict');
    await page.click('[data-action="more-scenario"]');
    await page.fill('[data-control="tabs"]', '3');
    await page.click('[data-case="expired-refreshable"]');
    const timeline = page.locator('[data-timeline][data-state="done"]');
    await timeline.waitFor({ timeout: 30_000 });
    assert.equal(Number(await timeline.locator('[data-verdict]').getAttribute('data-refresh-calls')), 1);
    // The log draws only the lines in view: read it from the top.
    const log = await page.locator('[data-log]').evaluate(async (el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      return el.textContent;
    });
    // The library's own lock (lock:<storageKey>) is a tab's, not a lane's.
    for (const tab of [1, 2, 3]) assert.ok(log.includes(`tab ${tab} holds the lock "lock:sb-lab-auth-token"`), `tab ${tab} held it: ${log}`);
    assert.ok(log.includes('released the lock "lock:sb-lab-auth-token"'), log);
  });
});
