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
