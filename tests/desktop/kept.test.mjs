// Desktop e2e: a learner's work is kept across launches. The real window
// (Tauri + WebKitGTK under Xvfb, through tauri-driver) gets a module typed
// into the editor, a solved challenge and presenter mode; the app quits and
// starts again (a new port, so a new origin) and shows all three as they
// were. A corrupt kept file is set aside with a message on the page, never
// a blank page. The app's data lives in a scratch XDG_DATA_HOME.
//
//   cargo build -p refresh-race-desktop && xvfb-run node --test tests/desktop/kept.test.mjs

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";

import { WebDriver, desktopBinary, missingPrerequisites, startTauriDriver, startXvfb, waitFor } from "./harness.mjs";

const linux = process.platform === "linux";
const skip = !linux && "Linux only (WebKitGTK)";
/** tauri.conf.json's identifier: the app's data folder under XDG_DATA_HOME. */
const IDENTIFIER = "org.refreshrace.desktop";
const MODULE = `// kept across launches: single-flight
let flight = null;

export async function request(req, api) {
  const first = await api.send(req, api.token());
  if (first.status !== 401) return first;
  flight ??= api.refresh(api.token()).finally(() => { flight = null; });
  const fresh = await flight;
  if (!fresh.ok) { api.logout(fresh.reason); return fresh; }
  api.store(fresh.token);
  return api.send(req, fresh.token);
}
`;

let xvfb;
let driver;
let keptFile;

before(async () => {
  if (!linux) return;
  const missing = missingPrerequisites();
  assert.deepEqual(missing, [], `desktop e2e prerequisites missing:\n  ${missing.join("\n  ")}`);
  xvfb = await startXvfb();
  driver = await startTauriDriver({ display: xvfb.display });
  keptFile = path.join(driver.dataHome, IDENTIFIER, "kept.json");
});

after(async () => {
  await driver?.stop();
  await xvfb?.stop();
});

/** Launches the app (a new process: a new port and origin), waits until it is ready, runs `fn`, quits it. */
async function launch(fn) {
  const wd = new WebDriver(driver.base);
  await wd.start(desktopBinary());
  try {
    await wd.waitForElement('body[data-ready="true"]', { timeoutMs: 60_000 });
    return await fn(wd);
  } finally {
    await wd.quit().catch((err) => console.error(`deleting the WebDriver session failed: ${err.message}`));
  }
}

/** Waits until the code panel's editor is there (CodeMirror loads when the panel first opens). */
function editorShown(wd) {
  return waitFor("the code panel's editor", () =>
    wd.execute("return !!document.querySelector('[data-code-panel] [data-editor]').shadowRoot?.querySelector('.cm-editor');"),
  { timeoutMs: 10_000 });
}

/** The own module's text in the editor (CodeMirror, in its shadow root). */
async function editorText(wd) {
  await editorShown(wd);
  return wd.executeAsync(
    "const done = arguments[arguments.length - 1];" +
      " import('./vendor/codemirror.js').then(({ EditorView }) => {" +
      " const el = document.querySelector('[data-code-panel] [data-editor]').shadowRoot.querySelector('.cm-editor');" +
      " done(EditorView.findFromDOM(el).state.doc.toString()); }, (e) => done('error: ' + e));",
    [],
  );
}

/** What the kept file holds, once it holds `key` with `value`. */
function keptOnce(key, value) {
  return waitFor(`${key} in ${keptFile}`, () => {
    if (!existsSync(keptFile)) return null;
    const items = JSON.parse(readFileSync(keptFile, "utf8")).items;
    return items[key] === value ? items : null;
  }, { timeoutMs: 10_000 });
}

test("the learner's module, a solved challenge and presenter mode survive quitting and relaunching", { skip }, async () => {
  const firstUrl = await launch(async (wd) => {
    // Typed into the editor (a change as the keyboard makes it), checked and kept.
    await wd.click(await wd.find('[data-action="code"]'));
    await wd.click(await wd.waitForElement('[data-action="own-code"]', { timeoutMs: 10_000 }));
    await editorShown(wd);
    await wd.executeAsync(
      "const done = arguments[arguments.length - 1]; const text = arguments[0];" +
        " import('./vendor/codemirror.js').then(({ EditorView }) => {" +
        " const el = document.querySelector('[data-code-panel] [data-editor]').shadowRoot.querySelector('.cm-editor');" +
        " const view = EditorView.findFromDOM(el); view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }); done(true); });",
      [MODULE],
    );
    await keptOnce("refresh-race.interceptor", MODULE);
    await wd.click(await wd.find('[data-action="close-code"]'));

    // Challenge: log the user out with two requests, delivering every leg in flight at once.
    await wd.click(await wd.find('[data-action="challenges"]'));
    await wd.click(await wd.waitForElement('[data-challenge="logout-two-requests"] [data-action="play"]'));
    // "All" is disabled while a command is on its way (the click disables it at once).
    for (let i = 0; i < 12; i++) {
      const now = await waitFor("a settled run", async () => {
        const v = await wd.execute(
          "const t = document.querySelector('[data-timeline]'); const all = document.querySelector('[data-controls] [data-action=\"deliver-all\"]');" +
            " return t ? { state: t.getAttribute('data-state'), all: !all.disabled } : null;",
        );
        return v && (v.state === "done" || v.all) ? v : null;
      }, { timeoutMs: 20_000 });
      if (now.state === "done") break;
      await wd.click(await wd.find('[data-controls] [data-action="deliver-all"]'));
    }
    await wd.waitForTimelinesDone({ min: 1, timeoutMs: 30_000 });
    await wd.waitForElement('[data-challenge="logout-two-requests"][data-solved="true"]', { timeoutMs: 10_000 });
    const progress = await keptOnce("refresh-race.challenges", await wd.execute("return localStorage.getItem('refresh-race.challenges');"));
    assert.match(progress["refresh-race.challenges"], /logout-two-requests/);

    // Presenter mode.
    await wd.click(await wd.find('[data-action="presenter"]'));
    await wd.waitForElement('body[data-theme="presenter"]');
    await keptOnce("refresh-race.theme", "presenter");
    return wd.url();
  });

  await launch(async (wd) => {
    assert.notEqual(new URL(await wd.url()).origin, new URL(firstUrl).origin, "a new launch, a new port: another origin");
    assert.ok(await wd.find('body[data-theme="presenter"]'), "presenter mode is back");
    assert.equal(await wd.attr(await wd.find('[data-action="presenter"]'), "aria-pressed"), "true");
    assert.ok(await wd.find('[data-challenge="logout-two-requests"][data-solved="true"]'), "the challenge is still solved");
    assert.match(await wd.text(await wd.find("[data-challenges-count]")), /^1\//);
    await wd.click(await wd.find('[data-action="code"]'));
    await wd.click(await wd.waitForElement('[data-action="own-code"]', { timeoutMs: 10_000 }));
    assert.equal(await editorText(wd), MODULE, "the module is in the editor as it was typed");
    const error = await wd.find("[data-error]");
    assert.equal(await wd.attr(error, "hidden"), "true", "no message: the kept file was read");
  });
});

test("a corrupt kept file is set aside with a message, never a blank page", { skip }, async () => {
  mkdirSync(path.dirname(keptFile), { recursive: true });
  writeFileSync(keptFile, "{\"format\": \"refresh-race/kept\", \"items\": {tru");
  await launch(async (wd) => {
    const error = await wd.waitForElement("[data-error]:not([hidden])", { timeoutMs: 10_000 });
    assert.match(await wd.text(error), /Your kept work could not be read \(not a file of this app: .*\): it was ignored, and the app starts with nothing kept\. The file is kept as .*kept\.json\.unreadable\./);
    assert.ok(await wd.find('[data-case="expired-refreshable"]'), "the page is there");
    assert.ok(await wd.find('body:not([data-theme="presenter"])'), "nothing kept: the default theme");
    assert.equal(readFileSync(`${keptFile}.unreadable`, "utf8"), "{\"format\": \"refresh-race/kept\", \"items\": {tru");
    // And the app keeps again from here.
    await wd.click(await wd.find('[data-action="presenter"]'));
    await keptOnce("refresh-race.theme", "presenter");
  });
});
