// The desktop app's memory after one case-3 run: launches the app through
// tauri-driver (the desktop tests' harness) REPS times under a private Xvfb;
// each time it reads the PSS of the app and its WebKit processes 5 s after
// the page is ready (idle), then clicks case 3 (the default settings) and
// reads it again 5 s after the run's timeline is done. Prints the medians
// and the per-process split of the median run. bench/app.sh calls it.
//
// usage: node bench/app-run.mjs APP_BINARY [REPS=5]

import { readFileSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { WebDriver, sleep, startTauriDriver, startXvfb } from "../tests/desktop/harness.mjs";

const [app, repsArg] = process.argv.slice(2);
if (!app) {
  console.error("usage: node bench/app-run.mjs APP_BINARY [REPS=5]");
  process.exit(2);
}
const reps = Number(repsArg ?? 5);
const appPath = realpathSync(app);
/** How long the app is left alone before each reading (as bench/app.sh's idle reading). */
const SETTLE_MS = 5000;

/** pid → parent pid, for every process now. */
function parents() {
  const map = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // comm may hold spaces and parentheses: the fields after its last ")".
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      map.set(Number(name), ppid);
    } catch {
      /* gone */
    }
  }
  return map;
}

/** `root` and every process below it. */
function tree(root, map = parents()) {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const [pid, ppid] of map) if (ppid === out[i]) out.push(pid);
  }
  return out;
}

/** The app's process among this script's descendants (tauri-driver → WebKitWebDriver → app). */
function appPid() {
  const map = parents();
  for (const pid of tree(process.pid, map)) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`) === appPath) return pid;
    } catch {
      /* not ours to read, or gone */
    }
  }
  throw new Error(`no ${appPath} process below this one`);
}

/** PSS in KiB of the app and each process below it, by name. */
function pss(root) {
  const parts = [];
  for (const pid of tree(root)) {
    try {
      const kib = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))[1]);
      const name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      parts.push({ name, kib });
    } catch {
      /* gone */
    }
  }
  return { total: parts.reduce((sum, p) => sum + p.kib, 0), parts };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const mib = (kib) => Math.round(kib / 1024);

const xvfb = await startXvfb();
const driver = await startTauriDriver({ display: xvfb.display });
const idle = [];
const after = [];
try {
  for (let i = 0; i < reps; i++) {
    const wd = new WebDriver(driver.base);
    await wd.start(appPath);
    try {
      await wd.waitForElement('body[data-ready="true"]', { timeoutMs: 60_000 });
      const pid = appPid();
      await sleep(SETTLE_MS);
      idle.push(pss(pid));
      await wd.click(await wd.find('[data-case="expired-refreshable"]'));
      await wd.waitForTimelinesDone();
      await wd.waitForElement("[data-verdict][data-refresh-calls]", { timeoutMs: 10_000 });
      await sleep(SETTLE_MS);
      after.push(pss(pid));
    } finally {
      await wd.quit().catch(() => {});
    }
  }
} finally {
  await driver.stop();
  await xvfb.stop();
}

function line(what, samples) {
  const totals = samples.map((s) => s.total);
  const mid = samples.find((s) => s.total === median(totals));
  const split = mid.parts.map((p) => `${p.name} ${mib(p.kib)}`).join(", ");
  console.log(`${what}: median ${mib(median(totals))} MB   runs (KiB): ${totals.join(" ")}   median run: ${split} MB`);
}
line("PSS idle, through tauri-driver (app+webkit)", idle);
line("PSS after one case-3 run (app+webkit)", after);
