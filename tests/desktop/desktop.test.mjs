// Desktop e2e: the real refresh-race-desktop window (Tauri + WebKitGTK) on a
// private Xvfb, driven through tauri-driver + WebKitWebDriver over plain W3C
// WebDriver HTTP. It clicks case 3 (expired-refreshable) with the default
// strategy (naive) and checks that the window shows the race.
//
// Each test launches its own app window (a WebDriver session) and closes it,
// so the tests do not depend on each other or on the order they run in;
// only the X server and tauri-driver are shared.
//
// README: `cargo build -p refresh-race-desktop && node --test tests/desktop/`
//   (Node 22+ no longer expands a directory: `node --test tests/desktop/*.test.mjs`).
//   It starts its own Xvfb, so no DISPLAY is needed. Needs Xvfb, webkit2gtk-driver,
//   x11-utils and tauri-driver (scripts/install-deps.sh installs them all). The app is
//   $REFRESH_RACE_DESKTOP_BIN or ${CARGO_TARGET_DIR:-target}/debug/refresh-race-desktop;
//   the version its About line must show is $REFRESH_RACE_EXPECT_VERSION or the
//   workspace's. scripts/test.sh also runs these tests against the binary of the
//   packaged .deb, from a scratch folder with the checkout hidden.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import {
  WebDriver,
  WINDOW_TITLE,
  desktopBinary,
  expectedVersion,
  missingPrerequisites,
  nativeWindowTitles,
  onPath,
  startTauriDriver,
  startXvfb,
  waitFor,
} from "./harness.mjs";

const linux = process.platform === "linux";
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
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

/** Launches a fresh app window, runs `fn(wd)`, and closes the window whatever happens. */
async function withApp(fn) {
  const wd = new WebDriver(driver.base);
  await wd.start(desktopBinary());
  try {
    return await fn(wd);
  } finally {
    await wd.quit().catch((err) => console.error(`deleting the WebDriver session failed: ${err.message}`));
  }
}

/** The page is ready once the lab's options loaded: clicks before that would be lost. */
async function ready(wd) {
  await wd.waitForElement('body[data-ready="true"]', { timeoutMs: 60_000 });
}

test("the window loads the lab's page from the embedded server", { skip: !linux && "Linux only (WebKitGTK)" }, async () => {
  await withApp(async (wd) => {
    await wd.waitForElement('[data-case="expired-refreshable"]', { timeoutMs: 60_000 });
    assert.match(await wd.url(), /^http:\/\/127\.0\.0\.1:\d+\/$/, "the window shows the embedded server's page");
    assert.match(await wd.title(), /Refresh Race/, "document title");
    await ready(wd);
    const about = await wd.find("[data-about]");
    assert.equal(await wd.text(about), `Refresh Race ${expectedVersion()} — MIT licence`, "the About line carries the lab's version");
  });
});

test("the native window has the app's title", { skip: (!linux && "Linux only") || (!onPath("xprop") && "needs xprop/xwininfo (x11-utils)") }, async () => {
  await withApp(async (wd) => {
    await ready(wd);
    const titles = await waitFor("the main window on the X display", () => {
      const t = nativeWindowTitles(xvfb.display);
      return t.includes(WINDOW_TITLE) && t;
    }, { timeoutMs: 10_000 });
    assert.ok(titles.includes(WINDOW_TITLE));
  });
});

test("case 3 with the naive client shows the refresh race", { skip: !linux && "Linux only (WebKitGTK)" }, async () => {
  await withApp(async (wd) => {
    await ready(wd);
    const strategy = await wd.find('[data-control="strategy"]');
    const value = await wd.execute(
      "const el = arguments[0]; const s = el.matches('select') ? el : el.querySelector('select'); return s ? s.value : el.value;",
      [{ [ELEMENT]: strategy }],
    );
    assert.equal(value, "naive", "the default strategy is naive");

    await wd.click(await wd.find('[data-case="expired-refreshable"]'));
    await wd.waitForTimelinesDone({ min: 1, timeoutMs: 60_000 });

    const verdict = await wd.waitForElement("[data-verdict][data-refresh-calls]", { timeoutMs: 10_000 });
    // Which lane wins (and so whether one or two logouts are recorded) is timing; these are not.
    assert.equal(await wd.attr(verdict, "data-refresh-calls"), "3", "naive: each of the 3 secret requests refreshes on its own");
    assert.equal(await wd.attr(verdict, "data-failed"), "2", "the 2 losers of the race fail");
    assert.equal(await wd.attr(verdict, "data-ok"), "4", "the winner and the 3 public requests");

    const refreshBars = await wd.findAll('[data-kind="refresh"]');
    assert.equal(refreshBars.length, 3, "one refresh bar per refresh call");
    const statuses = [];
    for (const bar of refreshBars) {
      assert.equal(await wd.attr(bar, "data-jti"), "t1", "every refresh presented t1");
      statuses.push(await wd.attr(bar, "data-status"));
    }
    assert.deepEqual(statuses.sort(), ["200", "400", "400"]);
  });
});

test("closing the window stops the app and its server", { skip: !linux && "Linux only (WebKitGTK)" }, async () => {
  const pageUrl = await withApp(async (wd) => {
    await wd.waitForElement('[data-case="expired-refreshable"]', { timeoutMs: 60_000 });
    const url = await wd.url();
    const answer = await fetch(url, { signal: AbortSignal.timeout(5000) });
    assert.equal(answer.status, 200, "the embedded server answers while the window is open");
    return url;
  });
  await waitFor("the embedded server to stop answering", async () => {
    try {
      await fetch(pageUrl, { signal: AbortSignal.timeout(1000) });
      return false;
    } catch {
      return true;
    }
  }, { timeoutMs: 15_000 });
});

test("the browser runtime runs case 3 in the real window (a Worker, real fetch)", { skip: !linux && "Linux only (WebKitGTK)" }, async () => {
  await withApp(async (wd) => {
    await ready(wd);
    // Pick the JavaScript single-flight module in the page, as a learner would.
    await wd.execute(
      "for (const [name, value] of [['runtime', 'browser'], ['strategy', 'single-flight']]) {" +
        " const s = document.querySelector(`[data-control=\"${name}\"]`); s.value = value; s.dispatchEvent(new Event('change', { bubbles: true })); }",
      [],
    );
    await wd.click(await wd.find('[data-case="expired-refreshable"]'));
    await wd.waitForTimelinesDone({ min: 1, timeoutMs: 60_000 });
    const timeline = await wd.find("[data-timeline]");
    assert.equal(await wd.attr(timeline, "data-runtime"), "browser", "the run's client ran in the page");
    const verdict = await wd.waitForElement("[data-verdict][data-refresh-calls]", { timeoutMs: 10_000 });
    assert.equal(await wd.attr(verdict, "data-refresh-calls"), "1", "single-flight: one shared refresh");
    assert.equal(await wd.attr(verdict, "data-ok"), "6", "every request succeeded");
    assert.equal(await wd.attr(verdict, "data-logouts"), "0");
    const retries = await wd.findAll('[data-kind="retry"]');
    assert.equal(retries.length, 3, "the three secret requests retried with the new token");
  });
});

test("your own interceptor runs in the real window (a blob: module in the tab's Worker)", { skip: !linux && "Linux only (WebKitGTK)" }, async () => {
  await withApp(async (wd) => {
    await ready(wd);
    // The learner's module: the app's own single-flight source, kept where the
    // editor restores the last module from (the packaged app has no checkout).
    await wd.executeAsync(
      "const done = arguments[arguments.length - 1];" +
        " fetch('strategies/single-flight.js').then((r) => r.text())" +
        ".then((source) => { localStorage.setItem('refresh-race.interceptor', source); done(source.length); }, (e) => done(String(e)));",
      [],
    );
    await wd.navigate(await wd.url());
    await ready(wd);
    await wd.click(await wd.find('[data-action="code"]'));
    await wd.click(await wd.waitForElement('[data-action="own-code"]', { timeoutMs: 10_000 }));
    await wd.click(await wd.waitForElement('[data-code-panel][data-mode="own"] [data-action="run-code"]', { timeoutMs: 10_000 }));
    await wd.waitForElement('[data-timeline][data-runtime="browser"][data-state="done"]', { timeoutMs: 60_000 });
    assert.match(await wd.text(await wd.find(".timeline-title")), /your interceptor/);
    const verdict = await wd.waitForElement("[data-verdict][data-refresh-calls]", { timeoutMs: 10_000 });
    assert.equal(await wd.attr(verdict, "data-refresh-calls"), "1", "your single-flight module: one refresh");
    assert.equal(await wd.attr(verdict, "data-ok"), "6");
  });
});
