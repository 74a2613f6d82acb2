// Desktop e2e: a library on the bench in three tabs of the real
// refresh-race-desktop window (Tauri + WebKitGTK) on a private Xvfb, through
// tauri-driver + WebKitWebDriver: Supabase's auth client 2.106 (its Web Lock
// across tabs) against a strict server, case 3. The tab shims (storage, Web
// Locks, BroadcastChannel) run in WebKit's Workers as in Chromium's.
//
//   cargo build -p refresh-race-desktop && node --test tests/desktop/libraries.test.mjs

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { WebDriver, desktopBinary, missingPrerequisites, startTauriDriver, startXvfb } from "./harness.mjs";

const linux = process.platform === "linux";
let xvfb;
let driver;

before(async () => {
  if (!linux) return;
  const missing = missingPrerequisites();
  assert.deepEqual(missing, [], `desktop e2e prerequisites missing:\n  ${missing.join("\n  ")}`);
  xvfb = await startXvfb();
  driver = await startTauriDriver({ display: xvfb.display });
});

after(async () => {
  await driver?.stop();
  await xvfb?.stop();
});

test("supabase-auth@2.106 in three tabs of the real window: one refresh across the tabs, every request ok, each tab held the lock", { skip: !linux && "Linux only (WebKitGTK)" }, async () => {
  const wd = new WebDriver(driver.base);
  await wd.start(desktopBinary());
  try {
    await wd.waitForElement('body[data-ready="true"]', { timeoutMs: 60_000 });
    // The controls as a learner sets them: browser runtime, the library, 2 secret requests, strict, 3 tabs.
    await wd.execute(
      "const set = (name, value) => { const c = document.querySelector(`[data-control=\"${name}\"]`); c.value = value;" +
        " c.dispatchEvent(new Event('input', { bubbles: true })); c.dispatchEvent(new Event('change', { bubbles: true })); };" +
        " set('runtime', 'browser'); set('strategy', 'supabase-auth@2.106'); set('secret-count', '2'); set('public-count', '0');" +
        " set('policy', 'strict'); set('tabs', '3');",
      [],
    );
    await wd.click(await wd.find('[data-case="expired-refreshable"]'));
    await wd.waitForElement('[data-timeline][data-runtime="browser"][data-state="done"]', { timeoutMs: 90_000 });
    const verdict = await wd.waitForElement("[data-verdict][data-refresh-calls]", { timeoutMs: 10_000 });
    assert.equal(await wd.attr(verdict, "data-refresh-calls"), "1", "the Web Lock lets one tab refresh");
    assert.equal(await wd.attr(verdict, "data-ok"), "6", "2 requests in each of 3 tabs");
    assert.equal(await wd.attr(verdict, "data-logouts"), "0");
    const rows = await wd.findAll("[data-lane-row][data-tab]");
    assert.equal(rows.length, 6, "six request lanes, two per tab");
    const held = await wd.execute(
      "return [...document.querySelectorAll('[data-tab-heading]')].map((h) => h.getAttribute('data-lock-held'));",
      [],
    );
    assert.equal(held.length, 3);
    for (const words of held) assert.match(words ?? "", /^held "lock:sb-lab-auth-token" /);
  } finally {
    await wd.quit().catch((err) => console.error(`deleting the WebDriver session failed: ${err.message}`));
  }
});

test("oidc-client-ts@3 in three tabs of the real window, OAuth mode against hydra: a refresh per 401, every request fails", { skip: !linux && "Linux only (WebKitGTK)" }, async () => {
  const wd = new WebDriver(driver.base);
  await wd.start(desktopBinary());
  try {
    await wd.waitForElement('body[data-ready="true"]', { timeoutMs: 60_000 });
    await wd.execute(
      "const set = (name, value) => { const c = document.querySelector(`[data-control=\"${name}\"]`); c.value = value;" +
        " c.dispatchEvent(new Event('input', { bubbles: true })); c.dispatchEvent(new Event('change', { bubbles: true })); };" +
        " set('runtime', 'browser'); set('strategy', 'oidc-client-ts@3'); set('secret-count', '2'); set('public-count', '0');" +
        " set('policy', 'hydra'); set('tabs', '3');",
      [],
    );
    await wd.click(await wd.find('[data-case="expired-refreshable"]'));
    await wd.waitForElement('[data-timeline][data-runtime="browser"][data-state="done"]', { timeoutMs: 90_000 });
    const verdict = await wd.waitForElement("[data-verdict][data-refresh-calls]", { timeoutMs: 10_000 });
    // No single flight: each of the 6 401s refreshes r1; Hydra's reuse revokes the chain.
    assert.equal(await wd.attr(verdict, "data-refresh-calls"), "6");
    assert.equal(await wd.attr(verdict, "data-ok"), "0");
  } finally {
    await wd.quit().catch((err) => console.error(`deleting the WebDriver session failed: ${err.message}`));
  }
});

test("a module that grows the heap while yielding is stopped at its ceiling in WebKit too; the window goes on", { skip: !linux && "Linux only (WebKitGTK)" }, async () => {
  const wd = new WebDriver(driver.base);
  await wd.start(desktopBinary());
  try {
    await wd.waitForElement('body[data-ready="true"]', { timeoutMs: 60_000 });
    const outcome = await wd.executeAsync(
      "const done = arguments[arguments.length - 1];" +
        " const source = 'export async function request(req, api) { const kept = []; for (;;) { kept.push(new Array(4e6).fill(1)); await new Promise((r) => setTimeout(r, 0)); } }';" +
        " import('/module-runner.js').then(({ runToEnd }) => runToEnd({ case: 'expired-refreshable', policy: 'strict', secret: 1, public: 0, runtime: 'browser', module: 'own' }, { source }))" +
        ".then(({ last, failed }) => done({ type: last.type, failed: failed && failed.message }), (e) => done({ error: String(e) }));",
      [],
    );
    assert.deepEqual(outcome, { type: "error", failed: "your module used more than 256 MB; stopped" });
    // The window goes on: case 2 in the engine plays to its end.
    await wd.click(await wd.find('[data-case="valid"]'));
    await wd.waitForElement('[data-timeline][data-state="done"]', { timeoutMs: 60_000 });
  } finally {
    await wd.quit().catch((err) => console.error(`deleting the WebDriver session failed: ${err.message}`));
  }
});
