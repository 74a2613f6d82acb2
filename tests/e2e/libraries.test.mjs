// Real interceptor libraries on the bench (ui/lib/libraries.js) in headless
// Chromium against the lab: each vendored library runs case 3 under strict
// with its default options and does here what it does in an app (as
// measured from Node: 5.0.2 → one refresh, 2 of 3 requests fail with 401;
// 3.3.6 → a second refresh when a 401 lands late); the hand-made order in
// which axios-auth-refresh 3 refreshes twice, pinned; the options control
// (checked, in words; applied to the run); the timeline's "passed to the
// caller"; the options panel never pushes the verdict below the fold; axe.
// The screenshot for the README comes from here:
//
//   cargo build && WRITE_SCREENSHOTS=1 node --test tests/e2e/libraries.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { useLab, REPO, verdictInFlow } from './harness.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const lab = useLab();

/** A library run to its end in the page (ui/module-runner.js): `{ last, failed }`. */
function runLibrary(page, settings, options = {}) {
  return page.evaluate(async ([settings, options]) => {
    const { runToEnd } = await import('/module-runner.js');
    return runToEnd(settings, { options });
  }, [{ case: 'expired-refreshable', policy: 'strict', jitter_ms: 0, strategy: 'naive', runtime: 'browser', ...settings }, options]);
}

/** Picks `library` in the client control (the browser runtime offers it) and plays case 3. */
async function playCase3(page, library, options = null) {
  await page.selectOption('[data-control="runtime"]', 'browser');
  await page.selectOption('[data-control="strategy"]', library);
  if (options !== null) {
    await page.click('[data-action="library-options"]');
    await page.fill('[data-control="library-options"]', options);
    await page.click('[data-action="close-library-options"]');
  }
  await page.click('[data-case="expired-refreshable"]');
  await page.locator('[data-timeline][data-state="done"] [data-verdict]').waitFor({ timeout: 20_000 });
}

const verdictOf = (page) => page.locator('[data-verdict]').evaluate((v) => ({
  refreshCalls: Number(v.dataset.refreshCalls), ok: Number(v.dataset.ok), failed: Number(v.dataset.failed), logouts: Number(v.dataset.logouts),
}));
const fates = (page) => page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-lane-row][data-fate]')].map((row) => [row.dataset.laneRow, row.dataset.fate])));

test('axios-auth-refresh 5 (defaults), case 3, strict: one refresh, and two 401s passed to the caller', async () => {
  const { page, errors } = await lab.open({ width: 1600, height: 1000 });
  try {
    await playCase3(page, 'axios-auth-refresh@5');
    assert.match(await page.textContent('.timeline-title'), /^axios-auth-refresh@5 client \(JS in the page\)/);
    assert.deepEqual(await verdictOf(page), { refreshCalls: 1, ok: 4, failed: 2, logouts: 0 });
    // On the timer, whichever 401 lands first starts the refresh; the other two pass.
    const fate = await fates(page);
    assert.deepEqual(['secret#1', 'secret#2', 'secret#3'].map((lane) => fate[lane]).sort(), ['passed', 'passed', 'refreshed']);
    assert.deepEqual(['public#1', 'public#2', 'public#3'].map((lane) => fate[lane]), ['answered', 'answered', 'answered']);
    assert.deepEqual(await page.locator('[data-passed-to-caller] text').allTextContents(), ['passed to the caller', 'passed to the caller']);
    assert.equal(await page.locator('[data-queued]').count(), 0, 'nobody waited for the refresh');
    if (process.env.WRITE_SCREENSHOTS) {
      await page.screenshot({ path: path.join(REPO, 'docs', 'screenshots', 'axios-auth-refresh-5-case-3.png') });
    }
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('axios-auth-refresh 3 (defaults), case 3, strict, on the timer: the two late 401s wait for the one refresh', async () => {
  const { page, errors } = await lab.open({ width: 1600, height: 1000 });
  try {
    await playCase3(page, 'axios-auth-refresh@3');
    assert.match(await page.textContent('.timeline-title'), /^axios-auth-refresh@3 client/);
    assert.deepEqual(await verdictOf(page), { refreshCalls: 1, ok: 6, failed: 0, logouts: 0 });
    const fate = await fates(page);
    assert.deepEqual(['secret#1', 'secret#2', 'secret#3'].map((lane) => fate[lane]).sort(), ['refreshed', 'waited', 'waited']);
    assert.equal(await page.locator('[data-queued]').count(), 2);
    assert.equal(await page.locator('[data-passed-to-caller]').count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

// The order: secret#1's 401, its refresh and its retry all come back before
// secret#2's 401 does. 3.x forgets the refresh once the first retry is over
// (its cache is cleared in a `finally` after the retry), so secret#2's 401
// starts a second refresh with the spent t1: 400 reused, logged out.
const TWICE = ['secret#1>', 'secret#1<', 'secret#1>', 'secret#1<', 'secret#1>', 'secret#1<', 'secret#2>', 'secret#2<'];

test('hand mode: the pinned order in which axios-auth-refresh 3 (defaults) refreshes twice', async () => {
  const { page, errors } = await lab.open();
  try {
    const twice = await runLibrary(page, { module: 'axios-auth-refresh@3', secret: 2, public: 0, network: 'step', deliver: TWICE });
    assert.equal(twice.last.type, 'done', JSON.stringify(twice));
    const v = twice.last.verdict;
    assert.deepEqual(
      [v.refresh_calls, v.refresh_ok, v.refresh_rejected, v.rejected_reasons, v.secret_ok, v.secret_failed, v.logouts],
      [2, 1, 1, { reused: 1 }, 1, 1, 1],
    );
    // The same two requests stepped in due order: both 401s are out during the one refresh.
    const due = await runLibrary(page, { module: 'axios-auth-refresh@3', secret: 2, public: 0, network: 'step' });
    assert.deepEqual([due.last.verdict.refresh_calls, due.last.verdict.failed, due.last.verdict.logouts], [1, 0, 0]);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('held runs in due order give exact counts for each library and option set', async () => {
  const { page, errors } = await lab.open();
  try {
    const counts = async (module, options) => {
      const { last, failed } = await runLibrary(page, { module, network: 'step' }, options);
      assert.equal(last.type, 'done', `${module} ${JSON.stringify(options)}: ${JSON.stringify(failed ?? last)}`);
      return [last.verdict.refresh_calls, last.verdict.secret_failed, last.verdict.logouts];
    };
    assert.deepEqual(await counts('axios-auth-refresh@5', {}), [1, 2, 0]);
    assert.deepEqual(await counts('axios-auth-refresh@5', { deduplicateRefresh: false }), [1, 0, 0]);
    assert.deepEqual(await counts('axios-auth-refresh@3', {}), [1, 0, 0]);
    assert.deepEqual(await counts('axios-auth-refresh@3', { pauseInstanceWhileRefreshing: true }), [1, 2, 0]);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('the options control: the library\'s own words, refusals in clear words, and the options applied to the run', async () => {
  const { page, errors } = await lab.open({ width: 1600, height: 1000 });
  try {
    await page.selectOption('[data-control="runtime"]', 'browser');
    assert.ok(await page.locator('[data-library-options]').isHidden(), 'hidden for a built-in client');
    await page.selectOption('[data-control="strategy"]', 'axios-auth-refresh@5');
    await page.click('[data-action="library-options"]');
    assert.match(await page.textContent('[data-library-summary]'), /stalls additional requests/);
    assert.match(await page.textContent('[data-library-docs] [data-option="deduplicateRefresh"] + dd'), /only one refresh call runs at a time/);
    await page.fill('[data-control="library-options"]', '{"pauseInstanceWhileRefreshing": true}');
    assert.match(await page.textContent('[data-library-options-error]'), /^pauseInstanceWhileRefreshing is not an option of axios-auth-refresh 5\.0\.2; its nearest is deduplicateRefresh/);
    // A run with options the library would not take does not start.
    await page.keyboard.press('Escape');
    await page.click('[data-case="expired-refreshable"]');
    assert.match(await page.textContent('[data-error]'), /^The options of axios-auth-refresh@5: pauseInstanceWhileRefreshing is not an option/);
    assert.equal(await page.locator('[data-timeline]').count(), 0);
    assert.equal(await page.getAttribute('[data-action="library-options"]', 'aria-expanded'), 'true', 'the options open to be fixed');
    await page.fill('[data-control="library-options"]', '{"deduplicateRefresh": false}');
    await page.click('[data-action="close-library-options"]');
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"] [data-verdict]').waitFor({ timeout: 20_000 });
    assert.deepEqual(await verdictOf(page), { refreshCalls: 1, ok: 6, failed: 0, logouts: 0 });
    // The Rust runtime offers no library: the control falls back to a built-in.
    await page.selectOption('[data-control="runtime"]', 'rust');
    assert.equal(await page.locator('[data-control="strategy"] option[value^="axios-auth-refresh"]').count(), 0);
    assert.ok(await page.locator('[data-library-options]').isHidden());
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

/** Where a built-in client's verdict ends in the browser runtime (naive, case 3). */
async function builtinVerdictBottom(width, height) {
  const { page } = await lab.open({ width, height });
  try {
    await page.selectOption('[data-control="runtime"]', 'browser');
    await page.selectOption('[data-control="strategy"]', 'naive');
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"] [data-verdict]').waitFor({ timeout: 20_000 });
    return (await verdictInFlow(page.locator('[data-verdict]'))).bottom;
  } finally {
    await page.close();
  }
}

// 1600×1000 dark: a browser-runtime run's verdict already ends below the
// fold with a built-in client (the controls take two rows there); a library
// must not put it lower, and opening its options must move nothing.
for (const [width, height, theme] of [[1280, 720, 'presenter'], [1600, 1000, 'dark'], [1600, 1000, 'presenter']]) {
  test(`${width}×${height} ${theme}: opening a library's options beside a finished run keeps its verdict where it was`, async () => {
    const { page, errors } = await lab.open({ width, height });
    try {
      const fold = theme === 'dark' ? Math.max(height, await builtinVerdictBottom(width, height)) : height;
      // The runtime control folds away in presenter mode: pick it first.
      await page.selectOption('[data-control="runtime"]', 'browser');
      await page.selectOption('[data-control="strategy"]', 'axios-auth-refresh@5');
      if (theme === 'presenter') await page.click('[data-action="presenter"]');
      await page.locator(`body[data-theme="${theme}"]`).waitFor();
      await page.click('[data-case="expired-refreshable"]');
      await page.locator('[data-timeline][data-state="done"] [data-verdict]').waitFor({ timeout: 20_000 });
      const bottom = async () => (await verdictInFlow(page.locator('[data-verdict]'))).bottom;
      const closed = await bottom();
      await page.click('[data-action="library-options"]');
      await page.locator('#library-options-panel').waitFor();
      const open = await bottom();
      const panel = await page.locator('#library-options-panel').boundingBox();
      assert.ok(closed <= fold, `the verdict fits with the options closed (${closed} > ${fold})`);
      assert.equal(open, closed, 'opening the options moves nothing');
      assert.ok(panel.y + panel.height <= height && panel.x + panel.width <= width, 'the options fit the window');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
}

for (const theme of ['dark', 'presenter']) {
  test(`axe: the library options have no WCAG 2 A/AA violations in the ${theme} theme`, async () => {
    const { page, errors } = await lab.open({ bypassCSP: true });
    try {
      await page.selectOption('[data-control="runtime"]', 'browser');
      await page.selectOption('[data-control="strategy"]', 'axios-auth-refresh@3');
      if (theme === 'presenter') {
        await page.click('[data-action="presenter"]');
        await page.click('[data-action="advanced"]');
      }
      await page.locator(`body[data-theme="${theme}"]`).waitFor();
      await page.click('[data-action="library-options"]');
      await page.fill('[data-control="library-options"]', '{"statusCodes": [99]}'); // the error on screen
      await page.locator('[data-library-options-error]:not([hidden])').waitFor();
      await page.addScriptTag({ path: AXE });
      const found = await page.evaluate(async (tags) => {
        const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
        return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}) ${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 300)}`));
      }, TAGS);
      assert.deepEqual(found, [], `axe found:\n${found.join('\n')}`);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
}
