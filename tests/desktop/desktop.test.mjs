// Desktop e2e: the real refresh-race-desktop window (Tauri + WebKitGTK) on a
// private Xvfb, driven through tauri-driver + WebKitWebDriver over plain W3C
// WebDriver HTTP. It clicks case 3 (expired-refreshable) with the default
// strategy (naive) and checks that the window shows the race.
//
// README: `cargo build -p refresh-race-desktop && node --test tests/desktop/`
//   (Node 22+ no longer expands a directory: `node --test tests/desktop/*.test.mjs`).
//   It starts its own Xvfb, so no DISPLAY is needed. Needs Xvfb, webkit2gtk-driver,
//   x11-utils and tauri-driver (scripts/install-deps.sh installs them all). The app is
//   $REFRESH_RACE_DESKTOP_BIN or ${CARGO_TARGET_DIR:-target}/debug/refresh-race-desktop.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import {
  WebDriver,
  WINDOW_TITLE,
  desktopBinary,
  missingPrerequisites,
  nativeWindowTitles,
  onPath,
  startTauriDriver,
  startXvfb,
  waitFor,
} from "./harness.mjs";

const linux = process.platform === "linux";
let xvfb;
let driver;
let wd;
let pageUrl;

before(async () => {
  if (!linux) return;
  const missing = missingPrerequisites();
  assert.deepEqual(missing, [], `desktop e2e prerequisites missing:\n  ${missing.join("\n  ")}`);
  xvfb = await startXvfb();
  driver = await startTauriDriver({ display: xvfb.display });
  wd = new WebDriver(driver.base);
  await wd.start(desktopBinary());
});

after(async () => {
  try {
    await wd?.quit();
  } catch (err) {
    console.error(`deleting the WebDriver session failed: ${err.message}`);
  }
  await driver?.stop();
  await xvfb?.stop();
});

test("the window loads the lab's page from the embedded server", { skip: !linux && "Linux only (WebKitGTK)" }, async () => {
  await wd.waitForElement('[data-case="expired-refreshable"]', { timeoutMs: 60_000 });
  pageUrl = await wd.url();
  assert.match(pageUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/, "the window shows the embedded server's page");
  const docTitle = await wd.title();
  assert.match(docTitle, /Refresh Race/, "document title");
});

test("the native window has the app's title", { skip: (!linux && "Linux only") || (!onPath("xprop") && "needs xprop/xwininfo (x11-utils)") }, async () => {
  const titles = await waitFor("the main window on the X display", () => {
    const t = nativeWindowTitles(xvfb.display);
    return t.includes(WINDOW_TITLE) && t;
  }, { timeoutMs: 10_000 });
  assert.ok(titles.includes(WINDOW_TITLE));
});

test("case 3 with the naive client shows the refresh race", { skip: !linux && "Linux only (WebKitGTK)" }, async () => {
  // The buttons exist as soon as the HTML is parsed, but their handlers only
  // once the module scripts ran and the lab's options loaded: a click before
  // that would be lost.
  await wd.waitForElement('body[data-ready="true"]', { timeoutMs: 60_000 });
  const strategy = await wd.find('[data-control="strategy"]');
  const value = await wd.execute(
    "const el = arguments[0]; const s = el.matches('select') ? el : el.querySelector('select'); return s ? s.value : el.value;",
    [{ "element-6066-11e4-a52e-4f735466cecf": strategy }],
  );
  assert.equal(value, "naive", "the default strategy is naive");

  await wd.click(await wd.find('[data-case="expired-refreshable"]'));
  await wd.waitForTimelinesDone({ min: 1, timeoutMs: 60_000 });

  const verdict = await wd.waitForElement("[data-verdict][data-refresh-calls]", { timeoutMs: 10_000 });
  const refreshCalls = await wd.attr(verdict, "data-refresh-calls");
  const failed = Number(await wd.attr(verdict, "data-failed"));
  assert.equal(refreshCalls, "3", "naive: each of the 3 secret requests refreshes on its own");
  assert.ok(failed >= 2, `at least 2 requests lose the race (data-failed=${failed})`);

  const refreshBars = await wd.findAll('[data-kind="refresh"]');
  assert.equal(refreshBars.length, 3, "one refresh bar per refresh call");
});

test("closing the session stops the app and its server", { skip: !linux && "Linux only (WebKitGTK)" }, async () => {
  assert.ok(pageUrl, "the first test found the page URL");
  await wd.quit();
  await waitFor("the embedded server to stop answering", async () => {
    try {
      await fetch(pageUrl, { signal: AbortSignal.timeout(1000) });
      return false;
    } catch {
      return true;
    }
  }, { timeoutMs: 15_000 });
});
