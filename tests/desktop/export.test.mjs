// Desktop e2e: the Export menu in the real window (Tauri + WebKitGTK on a
// private Xvfb, driven through tauri-driver). A download must land in the
// user's Downloads folder and the page must say where, never silently
// nowhere. The app runs with HOME set to a fresh folder, so "Downloads"
// is $HOME/Downloads (no user-dirs.dirs there) and nothing of the real
// user's is touched.
//
//   cargo build -p refresh-race-desktop && node --test tests/desktop/export.test.mjs

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { WebDriver, desktopBinary, missingPrerequisites, startTauriDriver, startXvfb, waitFor } from "./harness.mjs";

const linux = process.platform === "linux";
const home = mkdtempSync(path.join(os.tmpdir(), "rr-desktop-home-"));
const downloads = path.join(home, "Downloads");
const stem = "refresh-race-expired-refreshable-naive-strict";
let xvfb;
let driver;
let wd;

before(async () => {
  if (!linux) return;
  const missing = missingPrerequisites();
  assert.deepEqual(missing, [], `desktop e2e prerequisites missing:\n  ${missing.join("\n  ")}`);
  xvfb = await startXvfb();
  // tauri-driver passes its environment on to WebKitWebDriver and the app.
  const saved = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
  process.env.HOME = home;
  delete process.env.XDG_CONFIG_HOME;
  try {
    driver = await startTauriDriver({ display: xvfb.display });
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
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
  rmSync(home, { recursive: true, force: true });
});

/** Clicks Export ▾ then `format`; waits for the page to say where the file went. */
async function exportAs(format, expectedName) {
  await wd.click(await wd.find('[data-action="export"]'));
  const item = await wd.waitForElement(`[data-export="${format}"]`);
  await wd.click(item);
  const status = await wd.find("[data-export-status]");
  const file = path.join(downloads, expectedName);
  await waitFor(`"Saved to ${file}" in the page`, async () => (await wd.text(status)).includes(`Saved to ${file}`), {
    timeoutMs: 20_000,
  });
  await waitFor(`${file} on disk`, () => existsSync(file), { timeoutMs: 5_000 });
  return readFileSync(file);
}

test("Export saves into the Downloads folder and the page says where", { skip: !linux && "Linux only (WebKitGTK)" }, async () => {
  await wd.waitForElement('body[data-ready="true"]', { timeoutMs: 60_000 });
  await wd.click(await wd.find('[data-case="expired-refreshable"]'));
  await wd.waitForTimelinesDone({ min: 1, timeoutMs: 60_000 });
  await wd.waitForElement('[data-export-menu][data-state="ready"]', { timeoutMs: 10_000 });

  const mermaid = (await exportAs("mermaid", `${stem}.mmd`)).toString("utf8");
  assert.match(mermaid, /^---\ntitle: expired-refreshable · naive client · strict server\n/);
  assert.match(mermaid, /\nsequenceDiagram\n/);

  const png = await exportAs("png", `${stem}.png`);
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
  assert.equal(png.readUInt32BE(16), 1280);

  // A second export of the same run keeps the first file.
  const again = (await exportAs("mermaid", `${stem} (1).mmd`)).toString("utf8");
  assert.equal(again, mermaid);
});
