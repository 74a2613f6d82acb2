// Desktop e2e of the network controls: the real refresh-race-desktop window
// (Tauri + WebKitGTK) on a private Xvfb, driven through tauri-driver +
// WebKitWebDriver. It plays the queue challenge by clicking legs, and
// pauses and steps a slow timer run. Hooks: docs/ui-hooks.md.
//
// README: `cargo build -p refresh-race-desktop && node --test tests/desktop/*.test.mjs`
// (see desktop.test.mjs for the prerequisites; scripts/test.sh runs both files).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { WebDriver, desktopBinary, missingPrerequisites, sleep, startTauriDriver, startXvfb, waitFor } from "./harness.mjs";

const linux = process.platform === "linux";
const skip = !linux && "Linux only (WebKitGTK)";
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

/** Launches a fresh app window, waits for the lab's options, runs `fn(wd)`, closes the window. */
async function withApp(fn) {
  const wd = new WebDriver(driver.base);
  await wd.start(desktopBinary());
  try {
    await wd.waitForElement('body[data-ready="true"]', { timeoutMs: 60_000 });
    return await fn(wd);
  } finally {
    await wd.quit().catch((err) => console.error(`deleting the WebDriver session failed: ${err.message}`));
  }
}

/** What the page shows of the run: state, held, deliveries, busy, the tray's cards, bars, events. */
function pageState(wd) {
  return wd.execute(`
    const t = document.querySelector('[data-timeline]');
    return {
      state: t ? t.getAttribute('data-state') : null,
      run: t ? t.getAttribute('data-run') : null,
      held: t ? t.getAttribute('data-held') : null,
      delivered: t ? Number(t.getAttribute('data-delivered')) : null,
      busy: !!document.querySelector('[data-tray][aria-busy]'),
      cards: [...document.querySelectorAll('[data-tray] [data-leg]')].map((el) => [el.getAttribute('data-leg'), el.getAttribute('data-exchange'), el.getAttribute('data-direction')]),
      bars: document.querySelectorAll('[data-kind]').length,
      events: Number(document.querySelector('[data-log]').getAttribute('data-events')),
      error: document.querySelector('[data-error]').hidden ? '' : document.querySelector('[data-error]').textContent,
    };
  `);
}

/** Waits until the page shows what `ok(state)` accepts; returns that state. */
function until(wd, what, ok, timeoutMs = 20_000) {
  return waitFor(what, async () => {
    const s = await pageState(wd);
    return ok(s) ? s : null;
  }, { timeoutMs, intervalMs: 50 });
}

/** Clicks the tray card of `leg` (`exchange`) and waits for the lab to have delivered it. */
async function clickLeg(wd, leg, exchange) {
  const before = await until(wd, "a settled tray", (s) => s.held === "true" && !s.busy);
  await wd.click(await wd.find(`[data-tray] [data-leg="${leg}"][data-exchange="${exchange}"]`));
  return until(wd, `${leg} (${exchange}) delivered`, (s) => !s.busy && (s.state === "done" || s.delivered === before.delivered + 1));
}

/** Sets run controls by data-control, as a person would (input and change events). */
function setControls(wd, values) {
  return wd.execute(`
    for (const [name, value] of Object.entries(arguments[0])) {
      const el = document.querySelector('[data-control="' + name + '"]');
      el.value = String(value);
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }
    return true;
  `, [values]);
}

test("the queue challenge, played by clicking legs only, is solved in the desktop window", { skip }, async () => {
  await withApp(async (wd) => {
    await wd.click(await wd.find('[data-action="challenges"]'));
    await wd.click(await wd.waitForElement('[data-challenge="queue-refreshes-twice"] [data-action="play"]'));
    const start = await until(wd, "the held run", (s) => s.held === "true" && s.delivered === 0 && !s.busy);
    assert.deepEqual(start.cards.map((c) => c[0]).sort(), ["secret#1>", "secret#2>"]);

    // secret#1's whole refresh before secret#2's 401 comes back.
    await clickLeg(wd, "secret#1>", "request");
    await clickLeg(wd, "secret#1<", "request");
    const tab = await wd.find("[data-tab-state]");
    assert.equal(await wd.attr(tab, "data-is-refreshing"), "true");
    await clickLeg(wd, "secret#1>", "refresh");
    await clickLeg(wd, "secret#1<", "refresh");
    assert.equal(await wd.attr(await wd.find("[data-tab-state]"), "data-token"), "t2");
    // Then whatever is left, first card first.
    for (let i = 0; i < 20; i++) {
      // Between two deliveries the tray can be empty for a moment (the last
      // answers end the run): wait for the end or the next card.
      const s = await until(wd, "the run's end or a leg to deliver", (x) => x.state === "done" || (x.cards.length > 0 && !x.busy));
      if (s.state === "done") break;
      const [leg, exchange] = s.cards[0];
      await clickLeg(wd, leg, exchange);
    }
    await wd.waitForTimelinesDone({ min: 1, timeoutMs: 20_000 });
    const verdict = await wd.find("[data-verdict]");
    assert.equal(await wd.attr(verdict, "data-refresh-calls"), "2", "the queue refreshed twice");
    const card = await wd.waitForElement('[data-challenge="queue-refreshes-twice"][data-solved="true"]', { timeoutMs: 10_000 });
    assert.ok(card);
    assert.ok(await wd.find('[data-challenge-current="queue-refreshes-twice"][data-solved="true"] [data-solved-moment]'));
  });
});

test("a slow timer run paused in the desktop window stands still, and each step delivers one leg", { skip }, async () => {
  await withApp(async (wd) => {
    await setControls(wd, {
      strategy: "naive", "secret-count": 2, "public-count": 1, speed: "0.05",
      "latency-secret": 40, "latency-public": 30, "latency-refresh": 40, network: "timer",
    });
    await wd.click(await wd.find('[data-case="expired-refreshable"]'));
    await until(wd, "the run's id", (s) => s.run);
    await wd.click(await wd.find('[data-controls] [data-action="pause"]'));
    const paused = await until(wd, "the paused run", (s) => s.held === "true" && !s.busy);
    assert.equal(paused.state, "running");
    assert.ok(paused.cards.length > 0);
    // Longer than the whole run on the timer ((40 + 40 + 40) ms / 0.05 = 2.4 s): nothing may move meanwhile.
    await sleep(3_000);
    assert.deepEqual(await pageState(wd), paused, "no new bar, event or delivery while paused");

    let before = paused;
    for (let i = 0; i < 3; i++) {
      const next = before.cards[0][0];
      await wd.click(await wd.find('[data-controls] [data-action="step"]'));
      const after = await until(wd, `step ${i + 1}`, (s) => !s.busy && s.delivered === before.delivered + 1);
      assert.equal(after.cards.some((c) => c[0] === next), false, `step ${i + 1} delivered ${next}`);
      before = after;
    }
    await wd.click(await wd.find('[data-controls] [data-action="resume"]'));
    await wd.waitForTimelinesDone({ min: 1, timeoutMs: 30_000 });
    assert.equal(await wd.attr(await wd.find("[data-verdict]"), "data-refresh-calls"), "2");
    assert.equal((await pageState(wd)).held, "false");
  });
});
