// Helpers shared by the desktop e2e test (desktop.test.mjs) and the
// screenshot driver (screenshots.mjs): a private Xvfb, tauri-driver, and a
// tiny W3C WebDriver client over Node's own fetch (no npm dependencies).
//
// Chain: this process --HTTP--> tauri-driver --HTTP--> WebKitWebDriver
//        --automation--> the real refresh-race-desktop window (WebKitGTK).

import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const WINDOW_TITLE = "Refresh Race — the JWT refresh race, live";
export const WIDTH = 1400;
export const HEIGHT = 900;

const ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf";
const NATIVE_DRIVER = process.env.WEBKIT_WEBDRIVER || "/usr/bin/WebKitWebDriver";

/** The app binary: $REFRESH_RACE_DESKTOP_BIN, else ${CARGO_TARGET_DIR:-target}/debug/refresh-race-desktop. */
export function desktopBinary() {
  if (process.env.REFRESH_RACE_DESKTOP_BIN) return path.resolve(REPO_ROOT, process.env.REFRESH_RACE_DESKTOP_BIN);
  const target = path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR || "target");
  return path.join(target, "debug", "refresh-race-desktop");
}

/**
 * The version the app must show: $REFRESH_RACE_EXPECT_VERSION (CI sets the
 * .deb's there), else the workspace's, from the root Cargo.toml.
 */
export function expectedVersion() {
  if (process.env.REFRESH_RACE_EXPECT_VERSION) return process.env.REFRESH_RACE_EXPECT_VERSION;
  const manifest = readFileSync(path.join(REPO_ROOT, "Cargo.toml"), "utf8");
  const match = /^\[workspace\.package\][^[]*?^version\s*=\s*"([^"]+)"/m.exec(manifest);
  if (!match) throw new Error("no [workspace.package] version in Cargo.toml");
  return match[1];
}

/** What is missing to run the desktop tests here, as a list of hints (empty: all there). */
export function missingPrerequisites() {
  const missing = [];
  const bin = desktopBinary();
  if (!existsSync(bin)) missing.push(`${bin} (build it: cargo build -p refresh-race-desktop)`);
  if (!onPath("tauri-driver")) missing.push("tauri-driver (cargo install tauri-driver --locked)");
  if (!existsSync(NATIVE_DRIVER)) missing.push(`${NATIVE_DRIVER} (apt-get install webkit2gtk-driver)`);
  if (!onPath("Xvfb")) missing.push("Xvfb (apt-get install xvfb)");
  return missing;
}

export function onPath(cmd) {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes; returns that value. */
export async function waitFor(what, probe, { timeoutMs = 30_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` + (lastError ? `: ${lastError.message}` : ""));
    }
    await sleep(intervalMs);
  }
}

/**
 * Starts a private X server on a free display number (Xvfb picks it and
 * writes it to fd 3) with a screen the size of the app window.
 */
export async function startXvfb({ width = WIDTH, height = HEIGHT } = {}) {
  const proc = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", `${width}x${height}x24`, "-nolisten", "tcp", "-noreset"], {
    stdio: ["ignore", "ignore", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d));
  const number = await new Promise((resolve, reject) => {
    let out = "";
    proc.stdio[3].on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.trim());
    });
    proc.on("exit", (code) => reject(new Error(`Xvfb exited early (${code}): ${stderr}`)));
    setTimeout(() => reject(new Error(`Xvfb did not report a display: ${stderr}`)), 10_000).unref();
  });
  return { display: `:${number}`, stop: () => stopProcess(proc) };
}

/**
 * Starts tauri-driver on free ports with the given DISPLAY and waits until it
 * answers. The apps it launches keep their data (the page's kept work, the
 * webview's storage) under `dataHome` (XDG_DATA_HOME): a fresh folder unless
 * given, removed when the driver stops, so tests never see the user's data
 * nor each other's files.
 */
export async function startTauriDriver({ display, dataHome = null }) {
  const port = await freePort();
  const nativePort = await freePort();
  const ownHome = dataHome ? null : mkdtempSync(path.join(os.tmpdir(), "refresh-race-data-"));
  const home = dataHome ?? ownHome;
  const env = { ...process.env, DISPLAY: display, WEBKIT_DISABLE_DMABUF_RENDERER: "1", XDG_DATA_HOME: home };
  delete env.WAYLAND_DISPLAY; // keep GTK on the X server we chose
  // Own process group: stopping it also stops WebKitWebDriver and the app.
  const proc = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort), "--native-driver", NATIVE_DRIVER], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  await waitFor("tauri-driver to answer /status", async () => {
    if (proc.exitCode !== null) throw new Error(`tauri-driver exited (${proc.exitCode}): ${log}`);
    const res = await fetch(`${base}/status`);
    return res.ok;
  }, { timeoutMs: 15_000 });
  return {
    base,
    dataHome: home,
    log: () => log,
    stop: async () => {
      await stopProcess(proc, { group: true });
      if (ownHome) rmSync(ownHome, { recursive: true, force: true });
    },
  };
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
export async function stopProcess(proc, { group = false, graceMs = 3000 } = {}) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  const kill = (sig) => {
    try {
      if (group) process.kill(-proc.pid, sig);
      else proc.kill(sig);
    } catch {
      /* already gone */
    }
  };
  kill("SIGTERM");
  const timer = setTimeout(() => kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The few W3C WebDriver calls we need. */
export class WebDriver {
  constructor(base) {
    this.base = base;
    this.sessionId = null;
  }

  async #call(method, route, body) {
    const url = this.sessionId && !route.startsWith("/session") ? `${this.base}/session/${this.sessionId}${route}` : `${this.base}${route}`;
    const res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${route}: HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
    }
    if (!res.ok || (json.value && json.value.error)) {
      const v = json.value || {};
      const err = new Error(`${method} ${route}: ${v.error || res.status}: ${v.message || text.slice(0, 300)}`);
      err.webdriverError = v.error;
      throw err;
    }
    return json.value;
  }

  /** Launches the app binary through tauri-driver and opens a session on its window. */
  async start(application, args = []) {
    const value = await this.#call("POST", "/session", {
      capabilities: { alwaysMatch: { "tauri:options": { application, args } } },
    });
    this.sessionId = value.sessionId;
    return value;
  }

  async quit() {
    if (!this.sessionId) return;
    const id = this.sessionId;
    this.sessionId = null;
    await this.#call("DELETE", `/session/${id}`);
  }

  title() {
    return this.#call("GET", "/title");
  }

  url() {
    return this.#call("GET", "/url");
  }

  /** Loads `url` in the window and waits for it (WebDriver "navigate to"). */
  navigate(url) {
    return this.#call("POST", "/url", { url });
  }

  /** One element by CSS selector; throws (webdriverError "no such element") if absent. */
  async find(css) {
    const value = await this.#call("POST", "/element", { using: "css selector", value: css });
    return value[ELEMENT_KEY];
  }

  async findAll(css) {
    const value = await this.#call("POST", "/elements", { using: "css selector", value: css });
    return value.map((v) => v[ELEMENT_KEY]);
  }

  click(el) {
    return this.#call("POST", `/element/${el}/click`, {});
  }

  attr(el, name) {
    return this.#call("GET", `/element/${el}/attribute/${encodeURIComponent(name)}`);
  }

  text(el) {
    return this.#call("GET", `/element/${el}/text`);
  }

  windowRect() {
    return this.#call("GET", "/window/rect");
  }

  /** Resizes/moves the native window (WebKitWebDriver does it through GTK). */
  setWindowRect(rect) {
    return this.#call("POST", "/window/rect", rect);
  }

  execute(script, args = []) {
    return this.#call("POST", "/execute/sync", { script, args });
  }

  executeAsync(script, args = []) {
    return this.#call("POST", "/execute/async", { script, args });
  }

  /** Waits for `css` to exist and returns it. */
  waitForElement(css, opts) {
    return waitFor(`element ${css}`, async () => {
      try {
        return await this.find(css);
      } catch (err) {
        if (err.webdriverError === "no such element") return null;
        throw err;
      }
    }, opts);
  }

  /** Waits until every `[data-timeline]` on the page has data-state="done" (at least `min` of them). */
  async waitForTimelinesDone({ min = 1, timeoutMs = 60_000 } = {}) {
    try {
      return await waitFor(`${min}+ [data-timeline] with data-state="done"`, async () => {
        const els = await this.findAll("[data-timeline]");
        if (els.length < min) return false;
        for (const el of els) {
          if ((await this.attr(el, "data-state")) !== "done") return false;
        }
        return els;
      }, { timeoutMs, intervalMs: 150 });
    } catch (err) {
      // Say what the page shows, so a timeout tells a lost click (no
      // timeline) from a stalled stream (running) or a refusal (error text).
      const seen = await this.execute(
        "return JSON.stringify({ timelines: [...document.querySelectorAll('[data-timeline]')].map((t) => t.getAttribute('data-state')), events: document.querySelector('[data-log]')?.getAttribute('data-events'), error: document.querySelector('[data-error]')?.textContent || '', ready: document.body.getAttribute('data-ready') });",
      ).catch((e) => `unavailable: ${e.message}`);
      throw new Error(`${err.message}; the page shows ${seen}`);
    }
  }

  /** Waits until the page has painted twice since now (so a screenshot shows the final DOM). */
  settle() {
    return this.executeAsync("const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));");
  }
}

/**
 * Names of the top-level X windows on `display` (the native titles, which
 * WebDriver cannot see: its /title is the page's document.title).
 */
export function nativeWindowTitles(display) {
  // A UTF-8 locale keeps xprop from escaping the em dash; xpropString copes if it does anyway.
  const env = { ...process.env, LC_ALL: "C.UTF-8" };
  const out = execFileSync("xwininfo", ["-root", "-children", "-display", display], { encoding: "utf8", env });
  const ids = [...out.matchAll(/^\s+(0x[0-9a-f]+)\s/gm)].map((m) => m[1]);
  const titles = [];
  for (const id of ids) {
    try {
      const prop = execFileSync("xprop", ["-display", display, "-id", id, "_NET_WM_NAME"], { encoding: "utf8", env });
      const m = prop.match(/=\s*"(.*)"\s*$/m);
      if (m) titles.push(xpropString(m[1]));
    } catch {
      /* window vanished or has no name */
    }
  }
  return titles;
}

/** Decodes the inside of an xprop string: \ooo octal bytes, \" and \\, the rest UTF-8. */
export function xpropString(quoted) {
  const chars = Array.from(quoted); // code points, so non-BMP characters stay whole
  const bytes = [];
  for (let i = 0; i < chars.length; i++) {
    const octal = chars.slice(i + 1, i + 4).join("");
    if (chars[i] === "\\" && /^[0-7]{3}$/.test(octal)) {
      bytes.push(parseInt(octal, 8));
      i += 3;
    } else if (chars[i] === "\\" && i + 1 < chars.length) {
      bytes.push(...Buffer.from(chars[++i], "utf8"));
    } else {
      bytes.push(...Buffer.from(chars[i], "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
