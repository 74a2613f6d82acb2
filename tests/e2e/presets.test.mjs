// Real servers' presets and OAuth mode in the browser, against a real
// `refresh-race serve` in headless Debian chromium (docs/ui-hooks.md:
// data-control="policy" lists the presets; data-control="mode";
// data-token-kind in the inspector).
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/presets.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab } from './harness.mjs';

const lab = useLab();
const withPage = (fn) => lab.withPage((page) => fn(page));


/** Case 3 with the naive client under `policy`, in `mode`; the finished timeline. */
async function naiveRace(page, policy, mode) {
  await page.selectOption('[data-control="strategy"]', 'naive');
  await page.selectOption('[data-control="policy"]', policy);
  await page.click('[data-action="more-scenario"]');
  await page.selectOption('[data-control="mode"]', mode);
  await page.click('[data-case="expired-refreshable"]');
  const timeline = page.locator('[data-timeline][data-state="done"]');
  await timeline.waitFor({ timeout: 20_000 });
  return timeline;
}

const verdictOf = (timeline) => timeline.locator('[data-verdict]').evaluate((el) => ({
  refreshCalls: Number(el.getAttribute('data-refresh-calls')),
  ok: Number(el.getAttribute('data-ok')),
  failed: Number(el.getAttribute('data-failed')),
  text: el.textContent,
}));

test('the policy picker offers every preset, each with its source as the tooltip', async () => {
  await withPage(async (page) => {
    const options = await page.locator('[data-control="policy"] option').evaluateAll((els) => els.map((o) => [o.value, o.title]));
    const names = options.map(([name]) => name);
    for (const preset of ['auth0', 'okta', 'keycloak', 'hydra', 'supabase', 'cognito', 'spring']) assert.ok(names.includes(preset), preset);
    const okta = options.find(([name]) => name === 'okta')[1];
    assert.match(okta, /leeway, 0-60 s, default 30 s/);
  });
});

test('supabase in OAuth mode: the reused parent gets the active refresh token back, nobody fails', async () => {
  await withPage(async (page) => {
    const timeline = await naiveRace(page, 'supabase', 'oauth');
    const verdict = await verdictOf(timeline);
    assert.deepEqual([verdict.refreshCalls, verdict.ok, verdict.failed], [3, 6, 0], verdict.text);
    // Three refreshes of the refresh token r2, each back with a token.
    const refreshes = await timeline.locator('[data-kind="refresh"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-jti'), e.getAttribute('data-status')]));
    assert.deepEqual(refreshes, [['r2', '200'], ['r2', '200'], ['r2', '200']]);
    // The inspector tells the opaque refresh token from the JWT.
    await page.click('[data-inspector] [data-token="r2"]');
    assert.equal(await page.getAttribute('[data-token-kind]', 'data-token-kind'), 'refresh');
    assert.equal(await page.getAttribute('[data-jwt]', 'data-jwt'), 'opaque');
    await page.click('[data-inspector] [data-token="t1"]');
    assert.equal(await page.getAttribute('[data-token-kind]', 'data-token-kind'), 'access');
    assert.equal(await page.getAttribute('[data-jwt]', 'data-jwt'), 'decoded');
  });
});

test('auth0 without overlap: reuse detection kills the family, the winner too', async () => {
  await withPage(async (page) => {
    const timeline = await naiveRace(page, 'auth0', 'article');
    const verdict = await verdictOf(timeline);
    assert.equal(verdict.refreshCalls, 3);
    assert.match(verdict.text, /reuse revoked the whole family/);
    assert.ok(verdict.failed >= 2, verdict.text);
  });
});

test('a preset shows its own parameters: okta with its grace set to 0 revokes the family', async () => {
  await withPage(async (page) => {
    await page.click('[data-action="more-scenario"]');
    await page.selectOption('[data-control="policy"]', 'strict');
    assert.equal(await page.isVisible('[data-control="overlap"]'), false, 'strict has no window');
    await page.selectOption('[data-control="policy"]', 'okta');
    assert.equal(await page.inputValue('[data-control="overlap"]'), '30', "Okta's default grace");
    assert.equal(await page.isVisible('[data-control="reuse-count"]'), false, 'Okta has no reuse count');
    await page.fill('[data-control="overlap"]', '0');
    await page.selectOption('[data-control="strategy"]', 'naive');
    await page.click('[data-case="expired-refreshable"]');
    const timeline = page.locator('[data-timeline][data-state="done"]');
    await timeline.waitFor({ timeout: 20_000 });
    assert.match((await verdictOf(timeline)).text, /reuse revoked the whole family/);
    // Keycloak: a reuse count and a rotation switch, off by default.
    await page.selectOption('[data-control="policy"]', 'keycloak');
    assert.deepEqual([await page.inputValue('[data-control="reuse-count"]'), await page.isChecked('[data-control="rotate"]')], ['0', false]);
  });
});

test('hand mode: losing the refresh answer leaves the tab with the token the server rotated away', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="strategy"]', 'single-flight');
    await page.fill('[data-control="secret-count"]', '1');
    await page.fill('[data-control="public-count"]', '0');
    await page.selectOption('[data-control="network"]', 'hand');
    await page.click('[data-case="expired-refreshable"]');
    const deliver = async (leg, exchange) => {
      const before = Number(await page.getAttribute('[data-timeline]', 'data-delivered'));
      await page.click(`[data-tray]:not([aria-busy]) [data-leg="${leg}"][data-exchange="${exchange}"]`);
      await page.waitForFunction((n) => Number(document.querySelector('[data-timeline]').getAttribute('data-delivered')) === n, before + 1);
    };
    await page.locator('[data-timeline][data-held="true"][data-delivered="0"]').waitFor();
    await deliver('secret#1>', 'request');
    await deliver('secret#1<', 'request');
    await deliver('secret#1>', 'refresh');
    // Only a refresh's answer can be lost.
    assert.equal(await page.locator('[data-drop-leg]').count(), 1);
    await page.click('[data-drop-leg="secret#1<"]');
    const timeline = page.locator('[data-timeline][data-state="done"]');
    await timeline.waitFor({ timeout: 20_000 });
    const verdict = await verdictOf(timeline);
    assert.equal(verdict.text.split('.')[0], '1 refresh; 1 refresh answer lost on the way; 1 of 1 secret requests failed');
  });
});
