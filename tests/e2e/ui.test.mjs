// Browser tests of the UI against a real `refresh-race serve`, in headless
// Debian chromium (the base hooks of docs/ui-hooks.md only: data-case, data-control,
// data-action, data-timeline, data-kind/status/lane/jti, data-verdict).
//
//   cargo build && node --test tests/e2e/
//
// The server binary is $REFRESH_RACE_BIN or ${CARGO_TARGET_DIR:-target}/debug/refresh-race.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launchBrowser, openLab, unfold, serverBinary, REPO } from './harness.mjs';
import { reportText } from '../ui-unit/fixtures.mjs';

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

/** Opens the lab, runs `fn(page)`, closes the page, fails on page errors. */
async function withPage(fn, options) {
  const { page, errors } = await openLab(browser, server.url, options);
  try {
    await fn(page, errors);
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await page.close();
  }
}

async function verdictOf(locator) {
  return locator.evaluate((el) => ({
    refreshCalls: Number(el.getAttribute('data-refresh-calls')),
    ok: Number(el.getAttribute('data-ok')),
    failed: Number(el.getAttribute('data-failed')),
    logouts: Number(el.getAttribute('data-logouts')),
    text: el.textContent,
    className: el.className,
  }));
}

test('case 3 with the naive client: three refreshes, failed lanes, a red verdict', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="strategy"]', 'naive');
    await page.selectOption('[data-control="policy"]', 'strict');
    await page.click('[data-case="expired-refreshable"]');
    const timeline = page.locator('[data-timeline][data-state="done"]');
    await timeline.waitFor({ timeout: 20_000 });
    assert.equal(await timeline.getAttribute('data-strategy'), 'naive');
    assert.equal(await timeline.getAttribute('data-policy'), 'strict');

    // Which lane wins, and so whether one or two logouts are recorded, is
    // timing; the rest of the verdict is not.
    const verdict = await verdictOf(timeline.locator('[data-verdict]'));
    assert.equal(verdict.refreshCalls, 3);
    assert.equal(verdict.ok, 4);
    assert.equal(verdict.failed, 2);
    assert.match(verdict.className, /tone-bad/);
    assert.match(verdict.text, /^Race: 3 refreshes for 1 expired token; 1 accepted, 2 rejected \(reused\); 2 of 3 secret requests failed; logged out\./);

    // Every refresh presented the same expired token: t1.
    const refreshes = timeline.locator('[data-kind="refresh"]');
    assert.equal(await refreshes.count(), 3);
    const refreshJtis = await refreshes.evaluateAll((els) => els.map((e) => e.getAttribute('data-jti')));
    assert.deepEqual(refreshJtis, ['t1', 't1', 't1']);
    const refreshStatuses = (await refreshes.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).sort();
    assert.deepEqual(refreshStatuses, ['200', '400', '400']);

    // Lanes that failed are marked; nothing is left pending.
    assert.equal(await timeline.locator('[data-lane-row][data-outcome="failed"]').count(), 2);
    assert.equal(await timeline.locator('[data-status="pending"]').count(), 0);
    // The first attempt of each secret lane got 401.
    const firstSecret = timeline.locator('[data-lane="secret#1"][data-kind="request"]');
    assert.equal(await firstSecret.getAttribute('data-status'), '401');
  });
});

test('case 3 with single-flight: one refresh and every request ok', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="strategy"]', 'single-flight');
    await page.click('[data-case="expired-refreshable"]');
    const timeline = page.locator('[data-timeline][data-state="done"]');
    await timeline.waitFor({ timeout: 20_000 });
    assert.equal(await timeline.getAttribute('data-strategy'), 'single-flight');
    const verdict = await verdictOf(timeline.locator('[data-verdict]'));
    assert.equal(verdict.failed, 0);
    assert.equal(verdict.ok, 6);
    assert.equal(verdict.refreshCalls, 1);
    assert.equal(verdict.logouts, 0);
    assert.match(verdict.className, /tone-good/);
    assert.equal(await timeline.locator('[data-kind="refresh"]').count(), 1);
    // The waiting requests retried with the new token.
    const retries = await timeline.locator('[data-kind="retry"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-jti'), e.getAttribute('data-status')]));
    assert.equal(retries.length, 3);
    for (const [jti, status] of retries) {
      assert.equal(jti, 't2');
      assert.equal(status, '200');
    }
  });
});

test('the timeline is live: running with bars in flight, then done', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="speed"]', '0.25');
    // Keyboard shortcut 3 runs case 3 (focus is not in an input).
    await page.locator('h1').click();
    await page.keyboard.press('3');
    await page.locator('[data-timeline][data-state="running"]').waitFor({ timeout: 10_000 });
    // While live, requests in flight are drawn as pending bars, with a now-cursor.
    await page.locator('[data-timeline][data-state="running"] [data-status="pending"]').first().waitFor({ timeout: 10_000 });
    // One cursor over the request lanes, one over the pinned client and server lanes.
    assert.equal(await page.locator('[data-timeline][data-state="running"] .now-cursor').count(), 2);
    const liveVerdict = await page.locator('[data-timeline] [data-verdict]').getAttribute('data-final');
    assert.equal(liveVerdict, 'false', 'the verdict is not final while running');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-timeline] [data-verdict]').getAttribute('data-refresh-calls'), '3');
    assert.equal(await page.locator('[data-timeline] .now-cursor').count(), 0, 'no now-cursor once done');
  });
});

test('out-of-range settings show an error and start no run', async () => {
  await withPage(async (page) => {
    const posts = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/lab/runs')) posts.push(request.url());
    });
    const error = page.locator('[data-error]');
    const bad = [
      ['secret-count', '0', /secret/i],
      ['secret-count', '100000', /secret/i],
      ['latency-refresh', '-5', /negative/i],
      ['public-count', '2.5', /whole number/i],
    ];
    for (const [control, value, message] of bad) {
      await page.fill('[data-control="secret-count"]', '3');
      await page.fill('[data-control="public-count"]', '3');
      await page.fill('[data-control="latency-refresh"]', '200');
      await page.fill(`[data-control="${control}"]`, value);
      await page.click('[data-case="expired-refreshable"]');
      await error.waitFor({ state: 'visible' });
      assert.match(await error.textContent(), message);
      assert.equal(await error.getAttribute('role'), 'alert');
      assert.equal(await page.locator('[data-timeline]').count(), 0, `no timeline for ${control}=${value}`);
    }
    // The keyboard shortcut is refused the same way.
    await page.locator('h1').click();
    await page.keyboard.press('3');
    await error.waitFor({ state: 'visible' });
    assert.deepEqual(posts, [], 'no run was requested');

    // A valid value clears the error and runs.
    await page.fill('[data-control="public-count"]', '3');
    await page.click('[data-case="valid"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    assert.equal(await error.isVisible(), false);
    assert.equal(posts.length, 1);
  });
});

test('token lifetimes are set per run: a zero refresh window makes case 3 dead', async () => {
  await withPage(async (page) => {
    const error = page.locator('[data-error]');
    await page.fill('[data-control="access-ttl"]', '0');
    await page.click('[data-case="expired-refreshable"]');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /Token lifetime \(s\) must be between 1 and 86400 \(got 0\)/);
    assert.equal(await page.locator('[data-timeline]').count(), 0);

    let body;
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/lab/runs')) body = JSON.parse(request.postData());
    });
    await page.fill('[data-control="access-ttl"]', '2');
    await page.fill('[data-control="refresh-window"]', '0');
    await page.selectOption('[data-control="strategy"]', 'naive');
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    assert.equal(body.access_ttl_s, 2);
    assert.equal(body.refresh_window_s, 0);
    const verdict = await verdictOf(page.locator('[data-verdict]'));
    assert.equal(verdict.refreshCalls, 3);
    assert.equal(verdict.failed, 3);
    assert.match(verdict.text, /all rejected \(window_over\)/);
  });
});

test('a refusal by the server is shown the same way', async () => {
  await withPage(async (page, errors) => {
    // A policy name the server does not know (the page does not check names).
    await page.evaluate(() => {
      const select = document.querySelector('[data-control="policy"]');
      select.add(new Option('sometimes', 'sometimes'));
      select.value = 'sometimes';
    });
    await page.click('[data-case="expired-refreshable"]');
    const error = page.locator('[data-error]');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /sometimes/);
    assert.equal(await page.locator('[data-timeline]').count(), 0);
    // Chromium logs the 400 response itself; that one is expected.
    const unexpected = errors.filter((e) => !/status of 400/.test(e));
    errors.length = 0;
    errors.push(...unexpected);
  });
});

test('compare mode: naive and single-flight side by side on one time scale', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="strategy"]', 'naive');
    await page.click('[data-action="compare"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-timeline][data-state="done"]').length === 2, null, { timeout: 30_000 });
    const timelines = page.locator('[data-timeline]');
    assert.equal(await timelines.count(), 2);
    const info = await timelines.evaluateAll((els) => els.map((el) => ({
      strategy: el.getAttribute('data-strategy'),
      policy: el.getAttribute('data-policy'),
      verdicts: el.querySelectorAll('[data-verdict]').length,
      refreshCalls: el.querySelector('[data-verdict]').getAttribute('data-refresh-calls'),
      failed: el.querySelector('[data-verdict]').getAttribute('data-failed'),
      ticks: [...el.querySelectorAll('.axis .tick-label')].map((t) => `${t.textContent}@${t.getAttribute('x')}`),
    })));
    assert.deepEqual(info.map((t) => t.strategy), ['naive', 'single-flight']);
    assert.deepEqual(info.map((t) => t.policy), ['strict', 'strict']);
    assert.deepEqual(info.map((t) => t.verdicts), [1, 1]);
    assert.equal(info[0].refreshCalls, '3');
    assert.equal(info[1].refreshCalls, '1');
    assert.equal(info[1].failed, '0');
    assert.deepEqual(info[0].ticks, info[1].ticks, 'same time scale');

    // Starting a single run replaces the comparison (no mixing).
    await page.click('[data-case="valid"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('[data-timeline]').count(), 1);
  });
});

test('a new run aborts the live one and never mixes their events', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="speed"]', '0.1');
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="running"]').waitFor();
    await page.selectOption('[data-control="speed"]', '1');
    await page.click('[data-case="valid"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('[data-timeline]').count(), 1);
    const verdict = await verdictOf(page.locator('[data-verdict]'));
    assert.equal(verdict.refreshCalls, 0);
    assert.equal(verdict.failed, 0);
    assert.equal(await page.locator('[data-kind="refresh"]').count(), 0, 'no bar from the aborted run');
  });
});

test('token inspector decodes a clicked token', async () => {
  // Does this engine put the JWT on its `issued` events? Then the header is
  // decoded from it; else the inspector says it has none.
  const probe = JSON.parse(execFileSync(serverBinary(), ['run', '--case', 'valid', '--json'], { encoding: 'utf8' }));
  const sendsTokens = probe.events.some((e) => e.kind === 'issued' && typeof e.token === 'string');
  await withPage(async (page) => {
    await page.selectOption('[data-control="strategy"]', 'single-flight');
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    await page.locator('[data-kind="retry"] .chip-rect').first().click();
    const detail = page.locator('[data-token-detail]');
    await page.waitForFunction(() => /"jti": "t2"/.test(document.querySelector('[data-token-detail]').textContent));
    assert.equal(await detail.locator('[data-jwt]').getAttribute('data-jwt'), sendsTokens ? 'decoded' : 'claims');
    assert.equal(await detail.locator('.jwt-header').textContent(), sendsTokens ? '{"typ":"JWT","alg":"HS256"}' : 'not in this recording');
    const payload = JSON.parse(await detail.locator('.jwt-payload').textContent());
    assert.deepEqual(Object.keys(payload), ['sub', 'iat', 'exp', 'jti', 'fam']);
    assert.deepEqual([payload.sub, payload.jti, payload.fam, payload.exp - payload.iat], ['ada', 't2', 'f1', 5]);
    // t2 was issued a moment ago: valid for the rest of its 5 s.
    assert.match(await detail.textContent(), /expires in [1-5]\.\d s/);
    assert.match(await detail.textContent(), /refresh window ends in 1\d\.\d s/);
  });
});

test('a large run draws only the rows on screen', async () => {
  await withPage(async (page) => {
    await page.fill('[data-control="secret-count"]', '2000');
    await page.fill('[data-control="public-count"]', '0');
    await page.selectOption('[data-control="strategy"]', 'single-flight');
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 120_000 });
    const verdict = await verdictOf(page.locator('[data-verdict]'));
    assert.equal(verdict.ok, 2000);
    // A screenful of request rows plus 4 above and below (none above at the
    // top), and the pinned client and server rows.
    const { viewport, rowHeight } = await page.locator('.lanes-scroll').evaluate((el) => ({
      viewport: el.clientHeight,
      rowHeight: el.querySelector('.lanes-spacer').offsetHeight / 2000,
    }));
    const rows = await page.locator('[data-lane-row]').count();
    assert.equal(rows, Math.ceil(viewport / rowHeight) + 4 + 2, `only visible rows are drawn (${rows})`);
    // Scrolling to the end draws the last lanes.
    await page.locator('.lanes-scroll').evaluate((el) => { el.scrollTop = el.scrollHeight; });
    await page.locator('[data-lane-row="secret#2000"]').waitFor({ timeout: 5_000 });
  });
});

/** Chromium logs every 4xx answer to fetch as a console error; the walk expects some. */
function dropExpectedHttpErrors(errors) {
  const unexpected = errors.filter((e) => !/status of (400|401)/.test(e));
  errors.length = 0;
  errors.push(...unexpected);
}

test('walk one token by hand: valid, refreshable, refreshed, dead', async () => {
  await withPage(async (page, errors) => {
    const state = page.locator('[data-token-state]');
    const result = (slot) => page.locator(`[data-walk-result="${slot}"]`);
    const answer = async (slot) => ({
      status: await result(slot).getAttribute('data-status'),
      reason: await result(slot).getAttribute('data-reason'),
      text: await result(slot).textContent(),
    });
    // A click marks the panel busy at once; it is free again when the answer is shown.
    const idle = () => page.locator('[data-walk]:not([aria-busy])').waitFor();
    const secret = async () => {
      await page.click('[data-action="walk-secret"]');
      await idle();
      return answer('secret');
    };
    const travel = async (seconds) => {
      await page.click(`[data-action="time-travel"][data-seconds="${seconds}"]`);
      await idle();
      assert.equal((await answer('clock')).status, '200');
    };

    assert.equal(await state.getAttribute('data-token-state'), 'none');
    await page.click('[data-action="walk-login"]');
    await idle();
    await page.locator('[data-token-state="valid"]').waitFor();
    const login = await answer('login');
    assert.equal(login.status, '200');
    const firstJti = (await page.locator('[data-walk-token]').textContent()).trim();
    assert.match(firstJti, /^t\d+$/);
    assert.match(await page.locator('[data-countdown="exp"]').textContent(), /expires in \d/);
    assert.match(await page.locator('[data-countdown="window"]').textContent(), /refresh window ends in \d/);
    let s = await secret();
    assert.equal(s.status, '200');

    await travel(5);
    await page.locator('[data-token-state="refreshable"]').waitFor();
    assert.match(await page.locator('[data-countdown="exp"]').textContent(), /expired .* ago/);
    s = await secret();
    assert.deepEqual([s.status, s.reason], ['401', 'expired']);
    assert.match(s.text, /401 expired/);

    await page.click('[data-action="walk-refresh"]');
    await idle();
    let r = await answer('refresh');
    assert.equal(r.status, '200');
    await page.locator('[data-token-state="valid"]').waitFor();
    const secondJti = (await page.locator('[data-walk-token]').textContent()).trim();
    assert.notEqual(secondJti, firstJti, 'the refresh replaced the walked token');
    s = await secret();
    assert.equal(s.status, '200');

    await travel(10);
    await page.locator('[data-token-state="refreshable"]').waitFor();
    await travel(10);
    await page.locator('[data-token-state="dead"]').waitFor();
    assert.match(await page.locator('[data-countdown="window"]').textContent(), /refresh window ended .* ago/);
    await page.click('[data-action="walk-refresh"]');
    await idle();
    r = await answer('refresh');
    assert.deepEqual([r.status, r.reason], ['400', 'window_over']);
    assert.equal((await page.locator('[data-walk-token]').textContent()).trim(), secondJti, 'a failed refresh keeps the token');

    // The now-marker sits at the far right of the bar once the token is dead and gone.
    const marker = await page.locator('[data-now-marker]').evaluate((el) => el.style.left);
    assert.equal(parseFloat(marker), 100);
    dropExpectedHttpErrors(errors);
  });
});

test('compare two server policies with one client: strict vs family', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="strategy"]', 'naive');
    await page.selectOption('[data-control="compare-by"]', 'policies');
    await page.selectOption('[data-control="compare-a"]', 'strict');
    await page.selectOption('[data-control="compare-b"]', 'family');
    await page.click('[data-action="compare"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-timeline][data-state="done"]').length === 2, null, { timeout: 30_000 });
    const info = await page.locator('[data-timeline]').evaluateAll((els) => els.map((el) => ({
      strategy: el.getAttribute('data-strategy'),
      policy: el.getAttribute('data-policy'),
      family: el.querySelectorAll('[data-marker="revoked"][data-cause="family"]').length,
    })));
    assert.deepEqual(info.map((t) => t.policy), ['strict', 'family']);
    assert.deepEqual(info.map((t) => t.strategy), ['naive', 'naive']);
    assert.deepEqual(info.map((t) => t.family), [0, 1]);

    // The default comparison still works after switching back.
    await page.selectOption('[data-control="compare-by"]', 'strategies');
    assert.equal(await page.inputValue('[data-control="compare-a"]'), 'naive');
    assert.equal(await page.inputValue('[data-control="compare-b"]'), 'single-flight');
  });
});

/** Rectangles of `selector` inside `root` that overlap each other (pairs of indexes). */
async function overlaps(root, selector) {
  return root.evaluate((el, sel) => {
    const boxes = [...el.querySelectorAll(sel)].map((n) => n.getBoundingClientRect());
    const out = [];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i];
        const b = boxes[j];
        if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) out.push([i, j]);
      }
    }
    return out;
  }, selector);
}

test('family policy: every revoked token is marked on the server lane and the winner\'s token dies', async () => {
  await withPage(async (page) => {
    await page.selectOption('[data-control="strategy"]', 'naive');
    await page.selectOption('[data-control="policy"]', 'family');
    await page.click('[data-case="expired-refreshable"]');
    const timeline = page.locator('[data-timeline][data-state="done"]');
    await timeline.waitFor({ timeout: 20_000 });
    // One alarming marker names both tokens of the family; the rotation is marked apart.
    const family = timeline.locator('[data-lane-row="server"] [data-marker="revoked"][data-cause="family"]');
    assert.equal(await family.count(), 1);
    assert.deepEqual((await family.getAttribute('data-jti')).split(' ').sort(), ['t1', 't2']);
    assert.equal(await family.locator('.token-chip.struck').count(), 2);
    assert.equal(await timeline.locator('[data-marker="revoked"][data-cause="rotation"]').count(), 1);
    // The token store shows t2 dying (with t1 too when the family falls
    // before t2 is stored: the three refreshes land within a millisecond).
    const death = timeline.locator('[data-lane-row="client"] [data-marker="token_revoked"]');
    assert.equal(await death.count(), 1);
    assert.ok((await death.getAttribute('data-jti')).split(' ').includes('t2'), await death.getAttribute('data-jti'));
    // The winner's retry presented the dead t2: outlined as revoked by the family.
    const dead = timeline.locator('[data-kind="retry"][data-revoked="family"]');
    assert.equal(await dead.count(), 1);
    assert.equal(await dead.getAttribute('data-jti'), 't2');
    assert.equal(await dead.getAttribute('data-status'), '401');
    // Nothing in the token store or the server rows is drawn on top of something else.
    const client = timeline.locator('[data-lane-row="client"]');
    assert.deepEqual(await overlaps(client, '.stored-marker .chip-rect, .logout-box, .death-box'), []);
    const server = timeline.locator('[data-lane-row="server"]');
    assert.deepEqual(await overlaps(server, '.family-box, .revoke-cross, .reject-dot'), []);
  });
});

test('the token store lane never draws one marker over another', async () => {
  // Recorded runs (tests/ui-unit/fixtures/) where the winner stores t2 tens
  // of milliseconds before a loser's refusal logs the tab out (and, under
  // family, kills the stored t2): close enough to collide at any width.
  // A replay makes the timing exact.
  await withPage(async (page) => {
    for (const [name, markers] of [
      ['expired-refreshable-naive-strict', { stored: 2, death: 0, logout: 1 }],
      ['expired-refreshable-naive-family', { stored: 2, death: 1, logout: 1 }],
    ]) {
      for (const width of [1400, 1000]) {
        await page.setViewportSize({ width, height: 900 });
        const previous = await page.$('[data-timeline]');
        // The recorded run, its settings whole, as `run --save` writes it.
        await page.setInputFiles('[data-control="replay-file"]', { name: `${name}.json`, mimeType: 'application/json', buffer: Buffer.from(reportText(name)) });
        // The file is read asynchronously: wait for the last replay's timeline to go.
        if (previous) await page.waitForFunction((el) => !el.isConnected, previous);
        const timeline = page.locator('[data-timeline][data-state="done"]');
        await timeline.waitFor({ timeout: 10_000 });
        const client = timeline.locator('[data-lane-row="client"]');
        assert.deepEqual({
          stored: await client.locator('.stored-marker').count(),
          death: await client.locator('.death-marker').count(),
          logout: await client.locator('.logout-marker').count(),
        }, markers, `${name} at ${width}`);
        assert.equal(await client.locator('.logout-text').textContent(), 'LOGGED OUT');
        assert.deepEqual(await overlaps(client, '.stored-marker .chip-rect, .logout-box, .death-box'), [], `${name} at ${width}`);
      }
    }
  });
});

test('replay a saved run: same reducer and view, on its recorded schedule, verdict shown', async () => {
  // A saved run, as `refresh-race run --json` prints it.
  const json = execFileSync(serverBinary(), ['run', '--case', 'expired-refreshable', '--client', 'naive', '--policy', 'family', '--json'], { encoding: 'utf8' });
  const report = JSON.parse(json);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'refresh-race-replay-'));
  const file = path.join(dir, 'family-run.json');
  writeFileSync(file, json);
  await withPage(async (page) => {
    await page.setInputFiles('[data-control="replay-file"]', file);
    const timeline = page.locator('[data-timeline][data-replay]');
    await timeline.waitFor();
    // Live first (the run lasts about half a second), then done.
    assert.equal(await timeline.getAttribute('data-state'), 'running');
    await page.locator('[data-timeline][data-replay][data-state="done"]').waitFor({ timeout: 10_000 });
    assert.equal(await timeline.getAttribute('data-strategy'), 'naive');
    assert.equal(await timeline.getAttribute('data-policy'), 'family');
    const verdict = await verdictOf(timeline.locator('[data-verdict]'));
    assert.equal(verdict.refreshCalls, report.verdict.refresh_calls);
    assert.equal(verdict.ok, report.verdict.ok);
    assert.equal(verdict.failed, report.verdict.failed);
    assert.equal(verdict.logouts, report.verdict.logouts);
    assert.ok(verdict.text.includes(report.verdict.sentence));
    assert.equal(await timeline.locator('[data-kind="refresh"]').count(), report.verdict.refresh_calls);
    assert.equal(await timeline.locator('[data-status="pending"]').count(), 0);
    assert.equal(await page.getAttribute('[data-log]', 'data-events'), String(report.events.length));
    // The log followed the run to its last line: the verdict.
    await page.waitForFunction(() => {
      const log = document.querySelector('[data-log]');
      const lines = [...log.querySelectorAll('.line:not([hidden])')];
      const box = log.getBoundingClientRect();
      const last = lines.filter((l) => l.getBoundingClientRect().bottom <= box.bottom + 1).pop();
      return last && /Race/.test(last.textContent) && log.scrollTop + log.clientHeight >= log.scrollHeight - 2;
    }, null, { timeout: 5_000 });
  });
});

test('a file that is not a saved run is refused with a message', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'refresh-race-replay-'));
  const file = path.join(dir, 'not-a-run.json');
  writeFileSync(file, JSON.stringify({ hello: 'world' }));
  await withPage(async (page) => {
    await page.setInputFiles('[data-control="replay-file"]', file);
    const error = page.locator('[data-error]');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /not-a-run\.json.*events/);
    assert.equal(await page.locator('[data-timeline]').count(), 0);
  });
});

test('client-side limits come from /lab/options', async () => {
  await withPage(async (page) => {
    assert.equal(await page.getAttribute('[data-control="secret-count"]', 'max'), '10000');
  });

  // A lab with smaller limits: the page checks against those.
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  try {
    await context.route('**/lab/options', async (route) => {
      const response = await route.fetch();
      const options = await response.json();
      options.limits = { ...options.limits, max_requests: 500, max_latency_ms: 2000 };
      await route.fulfill({ response, json: options });
    });
    const limited = await context.newPage();
    const posts = [];
    limited.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/lab/runs')) posts.push(request.url());
    });
    await limited.goto(server.url);
    await limited.waitForSelector('body[data-ready="true"]');
    await unfold(limited);
    assert.equal(await limited.getAttribute('[data-control="secret-count"]', 'max'), '500');
    assert.equal(await limited.getAttribute('[data-control="latency-refresh"]', 'max'), '2000');
    await limited.fill('[data-control="secret-count"]', '501');
    await limited.click('[data-case="expired-refreshable"]');
    const error = limited.locator('[data-error]');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /between 1 and 500 \(got 501\)/);
    assert.deepEqual(posts, []);
  } finally {
    await context.close();
  }
});
