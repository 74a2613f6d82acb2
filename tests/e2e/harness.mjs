// Shared by the e2e tests and the screenshot script: start `refresh-race
// serve` on a free port, and headless Debian chromium through playwright-core
// (never a downloaded browser).

import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The server binary: $REFRESH_RACE_BIN, else ${CARGO_TARGET_DIR:-target}/debug/refresh-race. */
export function serverBinary() {
  if (process.env.REFRESH_RACE_BIN) return path.resolve(process.env.REFRESH_RACE_BIN);
  const target = process.env.CARGO_TARGET_DIR || 'target';
  return path.resolve(REPO, target, 'debug', 'refresh-race');
}

/**
 * Spawns `refresh-race serve --port 0` serving this checkout's ui/ and
 * resolves once it printed `listening on http://127.0.0.1:PORT`.
 * Returns `{ url, room, stop() }` (`room` is null without `classroom`).
 *
 * `classroom: true` also opens the lab to a room, always on loopback
 * (`--classroom --room-host 127.0.0.1`), and waits for the line
 * `classroom open: attendees join at http://127.0.0.1:PORT/join?code=CODE`;
 * the result then has `room: { joinUrl, url, code }` (`url`: the room's
 * `/`).
 */
export async function startServer({ timeoutMs = 30_000, classroom = false } = {}) {
  const bin = serverBinary();
  if (!existsSync(bin)) {
    throw new Error(`server binary not found at ${bin}: build it with \`cargo build\` or set REFRESH_RACE_BIN`);
  }
  const args = ['serve', '--port', '0', '--ui-dir', path.join(REPO, 'ui')];
  if (classroom) args.push('--classroom', '--room-host', '127.0.0.1');
  const child = spawn(bin, args, {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const { url, room } = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => fail(new Error(`server did not say where it listens within ${timeoutMs} ms`)), timeoutMs);
    function fail(error) {
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(new Error(`${error.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      const join = /classroom open: attendees join at (http:\/\/127\.0\.0\.1:\d+)\/join\?code=([A-Z0-9]+)\s/.exec(stdout);
      if (match && (!classroom || join)) {
        clearTimeout(timer);
        resolve({
          url: `${match[1]}/`,
          room: join ? { joinUrl: `${join[1]}/join?code=${join[2]}`, url: `${join[1]}/`, code: join[2] } : null,
        });
      }
    });
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`server exited early (code ${code}, signal ${signal})`)));
  });
  child.removeAllListeners('exit');
  child.stdout.resume(); // keep draining so the server never blocks on a full pipe
  return {
    url,
    room,
    /** What the server wrote to stderr lately (for a failing test's message). */
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Headless Debian chromium. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Unfolds what the first screen keeps under More (counts, latencies, the
 * runtime, compare choices, the log, the walk, …), as a person would: most
 * tests work those controls. The first screen itself: `folded: true`.
 */
export async function unfold(page) {
  const more = page.locator('[data-action="advanced"]');
  if (await more.getAttribute('aria-expanded') !== 'true') await more.click();
}

/**
 * Where a verdict sits in the page's flow, `{ top, bottom }` in the
 * window's coordinates: its timeline ends with it. Its own box is always on
 * screen (the verdict sticks to the window's bottom edge when the flow puts
 * it lower), so "does it fit" is asked of the flow.
 */
export function verdictInFlow(verdict) {
  return verdict.evaluate((v) => {
    const timeline = v.closest('[data-timeline]').getBoundingClientRect();
    return { top: timeline.bottom - v.getBoundingClientRect().height, bottom: timeline.bottom };
  });
}

/**
 * A page on the lab's UI, ready (options loaded), collecting page errors,
 * with the controls under More unfolded unless `folded`.
 * `bypassCSP` lets a test inject a script of its own (axe-core) past the
 * lab's Content-Security-Policy (script-src 'self').
 */
export async function openLab(browser, url, { width = 1400, height = 1000, bypassCSP = false, folded = false } = {}) {
  const page = await browser.newPage({ viewport: { width, height }, bypassCSP });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // The browser's own line for a failed load names no resource: add it.
    const where = message.location()?.url;
    const text = message.text();
    errors.push(/^Failed to load resource/.test(text) && where ? `${text} (${where})` : text);
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  if (!folded) await unfold(page);
  return { page, errors };
}

/**
 * One lab and one browser for a whole test file: registers its `before` and
 * `after` hooks. `withPage(fn, options)` opens the lab in a new page, runs
 * `fn(page, errors)`, fails on page errors and closes the page.
 */
export function useLab({ classroom = false } = {}) {
  const lab = { server: null, browser: null };
  before(async () => {
    lab.server = await startServer({ classroom });
    lab.browser = await launchBrowser();
  });
  after(async () => {
    if (lab.browser) await lab.browser.close();
    if (lab.server) await lab.server.stop();
  });
  lab.open = (options) => openLab(lab.browser, lab.server.url, options);
  lab.withPage = async (fn, options = { width: 1400, height: 1000 }) => {
    const { page, errors } = await lab.open(options);
    try {
      await fn(page, errors);
      assert.deepEqual(errors, [], 'no errors in the page');
    } finally {
      await page.close();
    }
  };
  return lab;
}

/** The engine's exploration of a setup (runtime rust): `refresh-race explore ARGS --json`. */
export function engineExplore(args) {
  return JSON.parse(execFileSync(serverBinary(), ['explore', ...args, '--json'], { encoding: 'utf8' }));
}

/**
 * The CLI flags of explored page settings for the Rust twin `strategy`
 * (and its cross-tab mode, the settings' own unless given).
 */
export function engineArgs(settings, strategy, crossTab = settings.cross_tab ?? 'none') {
  const args = ['--case', settings.case, '--client', strategy, '--policy', settings.policy,
    '--secret', String(settings.secret), '--public', String(settings.public ?? 0),
    '--tabs', String(settings.tabs ?? 1), '--cross-tab', crossTab];
  if (settings.late) args.push('--late');
  if (settings.deliver?.length) args.push('--deliver', settings.deliver.join(','));
  return args;
}

/** An exploration's classes as comparable rows: outcome, count, shortest length. */
export const classRows = (exploration) => exploration.classes
  .map((c) => `${JSON.stringify(c.outcome)} ×${c.count} in ${c.shortest.length}`)
  .sort();
