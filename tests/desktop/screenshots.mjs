// Screenshot driver for scripts/screenshots.sh (not a test: node --test does
// not pick this file). Runs on the X display in $DISPLAY (xvfb-run provides
// one), opens a fresh app window per shot through tauri-driver, clicks the
// UI like a person would and grabs the whole screen with ImageMagick's
// `import -window root`.
//
// usage: node tests/desktop/screenshots.mjs <out-dir>

import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";

import { WebDriver, desktopBinary, missingPrerequisites, sleep, startTauriDriver } from "./harness.mjs";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
// The screen's height (scripts/screenshots.sh starts Xvfb with it), the tallest window we can show.
const MAX_HEIGHT = Number(process.env.SCREEN_HEIGHT || 1800);

const SHOTS = [
  { file: "case-1-guest.png", case: "guest" },
  { file: "case-2-valid.png", case: "valid" },
  { file: "case-3-expired-refreshable.png", case: "expired-refreshable" },
  { file: "case-4-expired-not-refreshable.png", case: "expired-not-refreshable" },
  { file: "compare.png", case: "expired-refreshable", compare: true },
];

async function main() {
  const outDir = path.resolve(process.argv[2] || "docs/screenshots");
  const display = process.env.DISPLAY;
  if (!display) throw new Error("no DISPLAY: run me under xvfb-run (scripts/screenshots.sh does)");
  const missing = missingPrerequisites().filter((m) => !m.startsWith("Xvfb"));
  if (missing.length) throw new Error(`missing:\n  ${missing.join("\n  ")}`);
  mkdirSync(outDir, { recursive: true });

  const driver = await startTauriDriver({ display });
  try {
    for (const shot of SHOTS) {
      const wd = new WebDriver(driver.base);
      await wd.start(desktopBinary());
      try {
        await takeShot(wd, shot, path.join(outDir, shot.file), display);
      } finally {
        await wd.quit().catch((err) => console.error(`quit: ${err.message}`));
      }
    }
  } catch (err) {
    console.error(driver.log());
    throw err;
  } finally {
    await driver.stop();
  }
}

async function takeShot(wd, shot, file, display) {
  await wd.waitForElement(`[data-case="${shot.case}"]`, { timeoutMs: 60_000 });
  // Handlers are attached once the module scripts ran and the options loaded.
  await wd.waitForElement('body[data-ready="true"]', { timeoutMs: 60_000 });
  await chooseStrategy(wd, "naive");
  await wd.click(await wd.find(`[data-case="${shot.case}"]`));
  await wd.waitForTimelinesDone({ min: 1 });
  if (shot.compare) {
    await wd.click(await wd.find('[data-action="compare"]'));
    await wd.waitForTimelinesDone({ min: 2 });
  }
  if (shot.compare) {
    // Grow the window (not the page) until every timeline of the comparison fits.
    const bottom = await wd.execute(
      "const els = [...document.querySelectorAll('[data-timeline], [data-verdict]')];" +
        "return Math.ceil(Math.max(...els.map((e) => e.getBoundingClientRect().bottom + scrollY)));",
    );
    const rect = await wd.windowRect();
    await wd.setWindowRect({ width: rect.width, height: Math.min(MAX_HEIGHT, Math.max(rect.height, bottom + 24)) });
  }
  await wd.settle();
  await sleep(400); // let CSS transitions finish; a picture, not an assertion
  // No window manager: the window sits at the screen's top-left corner, so
  // cropping the root window to the window's rect is a picture of the window.
  const { x, y, width, height } = await wd.windowRect();
  execFileSync("import", ["-display", display, "-window", "root", "-crop", `${width}x${height}+${x}+${y}`, "+repage", file]);
  const verdict = await wd.execute(
    "const v = document.querySelector('[data-verdict]'); return v ? v.textContent.trim().replace(/\\s+/g, ' ') : '(no verdict)';",
  );
  console.log(`${path.basename(file)}: ${verdict}`);
}

/** Picks `name` in the strategy control (a <select> or something wrapping one). */
async function chooseStrategy(wd, name) {
  const control = await wd.find('[data-control="strategy"]');
  await wd.execute(
    `const el = arguments[0];
     const select = el.matches('select') ? el : el.querySelector('select');
     if (select.value !== arguments[1]) {
       select.value = arguments[1];
       select.dispatchEvent(new Event('input', { bubbles: true }));
       select.dispatchEvent(new Event('change', { bubbles: true }));
     }`,
    [{ [ELEMENT]: control }, name],
  );
}

main().catch((err) => {
  console.error(err.stack || err.message);
  process.exit(1);
});
