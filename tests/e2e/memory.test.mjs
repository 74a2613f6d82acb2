// A learner's module that keeps allocating while it yields (so it answers
// every watchdog ping) is stopped at its tab's memory ceiling
// (ui/worker/memory.js) with a message, and the page goes on: headless
// chromium against a real `refresh-race serve`.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/memory.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab } from './harness.mjs';

const lab = useLab();

const GROWS = `export async function request(req, api) {
  const kept = [];
  for (;;) {
    kept.push(new Array(4e6).fill(kept.length));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}`;

test('a module that grows the heap while yielding is stopped at its ceiling with a message; the page still works', async () => {
  await lab.withPage(async (page) => {
    const outcome = await page.evaluate(async (source) => {
      const { runToEnd } = await import('/module-runner.js');
      const started = performance.now();
      const { last, failed } = await runToEnd({ case: 'expired-refreshable', policy: 'strict', secret: 1, public: 0, runtime: 'browser', module: 'own' }, { source });
      return { type: last.type, message: last.message ?? null, failed: failed && failed.message, seconds: (performance.now() - started) / 1000 };
    }, GROWS);
    assert.equal(outcome.type, 'error', JSON.stringify(outcome));
    assert.equal(outcome.failed, 'your module used more than 256 MB; stopped');
    assert.match(outcome.message, /used more than 256 MB/);
    // Well before the watchdog's seconds: the ceiling, not a timeout, stopped it.
    assert.ok(outcome.seconds < 10, `${outcome.seconds} s`);
    // The page goes on: the same case with a built-in strategy plays to its end.
    const after = await page.evaluate(async () => {
      const { runToEnd } = await import('/module-runner.js');
      const { last, failed } = await runToEnd({ case: 'expired-refreshable', policy: 'strict', strategy: 'single-flight', secret: 2, public: 0, runtime: 'browser' });
      return { type: last.type, failed, refreshes: last.verdict && last.verdict.refresh_calls, ok: last.verdict && last.verdict.ok };
    });
    assert.deepEqual(after, { type: 'done', failed: null, refreshes: 1, ok: 2 });
    // And its own controls still answer.
    await page.click('[data-case="valid"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
  });
});

test('a library that allocates a little within the ceiling is not stopped: supabase 2.119 in three tabs plays to its end', async () => {
  await lab.withPage(async (page) => {
    const got = await page.evaluate(async () => {
      const { runToEnd } = await import('/module-runner.js');
      const { libraryRun, libraryNamed } = await import('/lib/libraries.js');
      const { last } = await runToEnd(libraryRun({ case: 'expired-refreshable', policy: 'supabase', jitter_ms: 0, secret: 2, public: 0, tabs: 3, network: 'step' }, libraryNamed('supabase-auth@2.119')));
      return { type: last.type, ok: last.verdict && last.verdict.ok };
    });
    assert.deepEqual(got, { type: 'done', ok: 6 });
  });
});
