// oidc-client-ts 3.x (ui/lib/libraries.js: oidc-client-ts@3) in one and
// three tabs of the page, case 3, in the lab's OAuth mode (an opaque refresh
// token in a form) against the OAuth servers' rules (okta, hydra, strict),
// in headless chromium against a real `refresh-race serve`. Every run is
// held and stepped in due order, so the counts are exact; the order of the
// worst run is pinned by replaying it by hand.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/library-oidc.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab } from './harness.mjs';

const lab = useLab();

/** Runs `library` in `tabs` tabs, case 3 under `policy`, held: `{ verdict, delivered, events }`. */
function run(page, library, policy, tabs, extra = {}, options = null) {
  return page.evaluate(async ([library, policy, tabs, extra, options]) => {
    const { runToEnd } = await import('/module-runner.js');
    const { libraryRun, libraryNamed } = await import('/lib/libraries.js');
    const settings = libraryRun({ case: 'expired-refreshable', policy, jitter_ms: 0, secret: 2, public: 0, tabs, network: 'step', ...extra }, libraryNamed(library), options ?? {});
    const { last, failed } = await runToEnd(settings, { options });
    if (last.type !== 'done') return { error: `${last.type}: ${last.message} ${JSON.stringify(failed)}` };
    const v = last.verdict;
    return {
      verdict: { refreshes: v.refresh_calls, rejected: v.refresh_rejected, failed: v.failed, logouts: v.logouts, ok: v.ok },
      delivered: last.delivered,
      mode: last.settings?.mode ?? settings.mode,
    };
  }, [library, policy, tabs, extra, options]);
}

// Measured: refresh calls, refreshes refused, requests that failed, logouts.
// The library has no single flight: each 401 is one signinSilent(), one
// refresh of the same refresh token, even in one tab.
const EXPECTED = [
  // Okta's grace period (30 s) takes the reuses: every refresh passes.
  [1, 'okta', { refreshes: 2, rejected: 0, failed: 0, logouts: 0, ok: 2 }],
  // Hydra (grace off): the second use of r1 is a reuse, and a reuse revokes
  // the whole chain, access tokens too: the winner's retry fails as well.
  [1, 'hydra', { refreshes: 2, rejected: 1, failed: 2, logouts: 1, ok: 0 }],
  // Strict: the reuse is refused, the winner's access token lives.
  [1, 'strict', { refreshes: 2, rejected: 1, failed: 1, logouts: 1, ok: 1 }],
  [3, 'okta', { refreshes: 6, rejected: 0, failed: 0, logouts: 0, ok: 6 }],
  [3, 'hydra', { refreshes: 6, rejected: 5, failed: 6, logouts: 1, ok: 0 }],
  [3, 'strict', { refreshes: 6, rejected: 5, failed: 5, logouts: 1, ok: 1 }],
];

test('oidc-client-ts in 1 and 3 tabs, case 3 in OAuth mode, stepped in due order: exact counts under okta, hydra and strict', async () => {
  await lab.withPage(async (page) => {
    for (const [tabs, policy, expected] of EXPECTED) {
      const got = await run(page, 'oidc-client-ts@3', policy, tabs);
      assert.equal(got.error, undefined, `${tabs} tabs × ${policy}: ${got.error}`);
      assert.equal(got.mode, 'oauth');
      assert.deepEqual(got.verdict, expected, `${tabs} tabs × ${policy}`);
    }
  });
});

test('one user every tab shares (userStore localStorage) does not help: every refresh leaves before any answer comes back', async () => {
  await lab.withPage(async (page) => {
    const got = await run(page, 'oidc-client-ts@3', 'strict', 3, {}, { userStore: 'localStorage' });
    assert.equal(got.error, undefined, got.error);
    assert.deepEqual(got.verdict, { refreshes: 6, rejected: 5, failed: 5, logouts: 1, ok: 1 });
  });
});

test('the hydra order is pinned: replayed as a script, the same legs give the same counts, and the refreshes present OAuth refresh tokens', async () => {
  await lab.withPage(async (page) => {
    const first = await run(page, 'oidc-client-ts@3', 'hydra', 3);
    assert.deepEqual(first.verdict, { refreshes: 6, rejected: 5, failed: 6, logouts: 1, ok: 0 });
    const replayed = await run(page, 'oidc-client-ts@3', 'hydra', 3, { deliver: first.delivered.slice(0, 12) });
    assert.deepEqual(replayed.verdict, first.verdict);
    assert.deepEqual(replayed.delivered, first.delivered);
    // The timeline names the credentials: a form's opaque refresh token (r1), not a JWT.
    const presented = await page.evaluate(async () => {
      const { runLab } = await import('/transport.js');
      const { startTab } = await import('/page-runtime.js');
      const { libraryRun, libraryNamed } = await import('/lib/libraries.js');
      const library = libraryNamed('oidc-client-ts@3');
      const settings = libraryRun({ case: 'expired-refreshable', policy: 'strict', jitter_ms: 0, secret: 1, public: 0 }, library);
      const events = [];
      await runLab(settings, {
        onMessage: (message) => {
          if (message.type === 'start' && message.page) startTab(message, { builtin: library.file });
          if (message.type === 'event') events.push(message.event);
        },
      });
      return events.filter((e) => ['refresh_sent', 'refresh_done', 'token_stored'].includes(e.kind)).map((e) => [e.kind, e.jti, e.new_refresh ?? e.refresh ?? null]);
    });
    assert.deepEqual(presented.map(([kind]) => kind), ['token_stored', 'refresh_sent', 'refresh_done', 'token_stored']);
    assert.match(presented[0][2], /^r\d+$/, 'the login stored a refresh token beside the access token');
    assert.equal(presented[1][1], presented[0][2], 'the refresh presents the login\'s refresh token');
    assert.match(presented[2][2], /^r\d+$/, 'the answer rotated it');
    assert.equal(presented[3][2], presented[2][2], 'the stored token carries the new refresh token');
  });
});
