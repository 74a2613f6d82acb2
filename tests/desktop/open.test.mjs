// Desktop e2e: what the app's command line opens, as a file manager ("Open
// with", the .deb's MIME entry) or a person with a link would start it. A
// saved run given as the argument is replayed in the window; a link opens
// its setup held by hand at the start of its order. The run file and the
// link come from the CLI that sits next to the app (target/debug, or the
// package's /usr/bin).
//
//   cargo build -p refresh-race -p refresh-race-desktop && node --test tests/desktop/open.test.mjs

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { WebDriver, desktopBinary, missingPrerequisites, startTauriDriver, startXvfb } from "./harness.mjs";

const linux = process.platform === "linux";
const skip = !linux && "Linux only (WebKitGTK)";
const cli = () => path.join(path.dirname(desktopBinary()), "refresh-race");

let xvfb;
let driver;
let scratch;

before(async () => {
  if (!linux) return;
  const missing = missingPrerequisites();
  assert.deepEqual(missing, [], `desktop e2e prerequisites missing:\n  ${missing.join("\n  ")}`);
  xvfb = await startXvfb();
  driver = await startTauriDriver({ display: xvfb.display });
  scratch = mkdtempSync(path.join(os.tmpdir(), "refresh-race-open-"));
});

after(async () => {
  await driver?.stop();
  await xvfb?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Launches the app with `args`, waits until it is ready, runs `fn`, quits it. */
async function launch(args, fn) {
  const wd = new WebDriver(driver.base);
  await wd.start(desktopBinary(), args);
  try {
    await wd.waitForElement('body[data-ready="true"]', { timeoutMs: 60_000 });
    return await fn(wd);
  } finally {
    await wd.quit().catch((err) => console.error(`deleting the WebDriver session failed: ${err.message}`));
  }
}

test("a saved run named on the command line is replayed in the window", { skip }, async () => {
  const file = path.join(scratch, "race.run.json");
  execFileSync(cli(), ["run", "--client", "queue", "--late", "--save", file], { stdio: "ignore" });
  const saved = JSON.parse(readFileSync(file, "utf8"));
  await launch([file], async (wd) => {
    const timeline = await wd.waitForElement('[data-timeline][data-state="done"]', { timeoutMs: 60_000 });
    assert.equal(await wd.attr(timeline, "data-strategy"), "queue");
    const verdict = await wd.find("[data-verdict]");
    assert.equal(await wd.attr(verdict, "data-refresh-calls"), String(saved.verdict.refresh_calls));
    assert.equal(await wd.attr(verdict, "data-failed"), String(saved.verdict.failed));
    assert.equal(await wd.attr(timeline, "data-replay"), "", "a replay");
    const badge = await wd.execute("return document.querySelector('[data-timeline] .replay-badge').textContent;");
    assert.equal(badge, "replay · race.run.json", "the replay names its file");
  });
});

test("a link on the command line opens its setup by hand, at the start of its order", { skip }, async () => {
  const order = "secret#1>,secret#2>,secret#1<";
  const url = execFileSync(cli(), ["link", "--client", "single-flight", "--policy", "family", "--secret", "2", "--public", "0", "--network", "hand", "--deliver", order], { encoding: "utf8" }).trim();
  await launch([url], async (wd) => {
    await wd.waitForElement('[data-timeline][data-held="true"][data-delivered="0"]', { timeoutMs: 30_000 });
    const values = await wd.execute("return ['strategy', 'policy', 'secret-count', 'network'].map((c) => document.querySelector(`[data-control=\"${c}\"]`).value);");
    assert.deepEqual(values, ["single-flight", "family", "2", "hand"]);
    assert.equal(await wd.attr(await wd.find("[data-link-bar]"), "data-order"), order);
    assert.equal(new URL(await wd.url()).hash, "", "the address is cleaned once the link is read");
  });
});
