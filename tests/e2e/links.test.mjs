// A run as a link, in headless Chromium against a real `refresh-race serve`:
// Copy link on a run played by hand, opened in a fresh browser context, gives
// the same setup, the same order and the same verdict; the page and the CLI
// read each other's links; a tampered, foreign or oversized link is refused
// with a message and runs nothing; a learner's module from a link waits in
// the editor until Run; the last setup comes back after a reload; a saved
// run dropped on the page replays, and a file that is not a run is named.
// Hooks: docs/ui-hooks.md.
//
//   cargo build && node --test tests/e2e/links.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { useLab, unfold, serverBinary, REPO } from './harness.mjs';
import { reportText } from '../ui-unit/fixtures.mjs';

const lab = useLab();

const MODULE = `// from a link: single-flight, one refresh for everyone
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

/** A fresh browser context (empty storage) on `url`, ready; its page errors collected. */
async function open(url, { width = 1400, height = 900, bypassCSP = false } = {}) {
  const context = await lab.browser.newContext({ viewport: { width, height }, bypassCSP, permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  const errors = [];
  const runs = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/lab/runs') runs.push(request.postDataJSON());
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  await unfold(page);
  return { page, errors, runs, close: () => context.close() };
}

const timeline = (page) => page.locator('[data-timeline]');

async function setControls(page, values) {
  for (const [control, value] of Object.entries(values)) {
    const el = page.locator(`[data-control="${control}"]`);
    if (await el.evaluate((e) => e.tagName === 'SELECT')) await el.selectOption(String(value));
    else await el.fill(String(value));
  }
}

/** What the controls show, by data-control. */
function controlValues(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-controls] [data-control]')]
    .filter((el) => el.type !== 'file')
    .map((el) => [el.dataset.control, el.type === 'checkbox' ? el.checked : el.value])));
}

/** The verdict as the page shows it. */
function verdict(page) {
  return page.locator('[data-timeline][data-state="done"] [data-verdict]').evaluate((el) => ({
    text: el.textContent.trim(),
    refreshCalls: el.dataset.refreshCalls,
    ok: el.dataset.ok,
    failed: el.dataset.failed,
    logouts: el.dataset.logouts,
  }));
}

/** Plays a held run to its end by clicking the tray's first card each time; returns the order. */
async function playByHand(page) {
  const order = [];
  for (;;) {
    const state = await timeline(page).getAttribute('data-state');
    if (state === 'done') return order;
    const n = Number(await timeline(page).getAttribute('data-delivered'));
    await page.locator(`[data-timeline][data-held="true"][data-delivered="${n}"]`).waitFor();
    const card = page.locator('[data-tray]:not([aria-busy]) [data-leg]').first();
    order.push(await card.getAttribute('data-leg'));
    await card.click();
    await page.waitForFunction((k) => {
      const t = document.querySelector('[data-timeline]');
      return t && !document.querySelector('[data-tray][aria-busy]')
        && (t.getAttribute('data-state') === 'done' || Number(t.getAttribute('data-delivered')) === k);
    }, n + 1);
  }
}

/** Copy link: the URL the popover shows (and the clipboard holds). */
async function copyLink(page) {
  await page.click('[data-action="copy-link"]');
  const input = page.locator('[data-link-pop]:not([hidden]) [data-link-url]');
  await input.waitFor();
  const url = await input.inputValue();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url, 'the clipboard holds the link');
  assert.match(await page.locator('[data-link-status]').textContent(), /^Copied: \d+ characters/);
  return url;
}

test('copy link → a fresh context: same setup, same order, same verdict', async () => {
  const a = await open(lab.server.url);
  let url;
  let order;
  let seen;
  let setup;
  try {
    await setControls(a.page, { strategy: 'queue', policy: 'family', network: 'hand', 'secret-count': 2, 'public-count': 1, 'latency-refresh': 350 });
    await a.page.click('[data-case="expired-refreshable"]');
    order = await playByHand(a.page);
    assert.ok(order.length >= 8, `a whole hand run: ${order.join(',')}`);
    seen = await verdict(a.page);
    setup = await controlValues(a.page);
    url = await copyLink(a.page);
    assert.ok(url.startsWith(`${lab.server.url}#s=1.`), url);
    assert.deepEqual(a.errors, []);
  } finally {
    await a.close();
  }

  const b = await open(url, { width: 1280, height: 800 });
  try {
    assert.equal(new URL(b.page.url()).hash, '', 'the address is cleaned once the link is read');
    assert.deepEqual(await controlValues(b.page), setup, 'the same setup in the controls');
    // Hand mode, held at the start of the order, which the bar offers.
    await b.page.locator('[data-timeline][data-held="true"][data-delivered="0"]').waitFor();
    assert.equal(await timeline(b.page).getAttribute('data-network'), 'hand');
    assert.equal(await timeline(b.page).getAttribute('data-strategy'), 'queue');
    assert.equal(await b.page.locator('[data-link-bar]').getAttribute('data-order'), order.join(','));
    // The bar sits in the network controls: it takes no line, and moves nothing.
    // (Whole pixels: the bar's baseline may shift the row by a fraction.)
    const box = async () => Object.fromEntries(Object.entries(await b.page.locator('[data-verdict]').boundingBox()).map(([k, v]) => [k, Math.round(v)]));
    const withBar = await box();
    await b.page.evaluate(() => { document.querySelector('[data-link-bar]').hidden = true; });
    assert.deepEqual(await box(), withBar, 'the link bar moves nothing at 1280x800');
    await b.page.evaluate(() => { document.querySelector('[data-link-bar]').hidden = false; });
    assert.equal(b.runs.length, 1);
    assert.deepEqual(b.runs[0].deliver, [], 'the run opens at the start of its order');
    // Next delivers the order's first leg, the tray's card of it.
    assert.equal(await b.page.locator('[data-action="link-next"]').textContent(), `⇥ ${order[0]}`);
    await b.page.click('[data-action="link-next"]');
    await b.page.locator('[data-timeline][data-held="true"][data-delivered="1"]').waitFor();
    assert.equal(await b.page.locator('[data-action="link-next"]').textContent(), `⇥ ${order[1]}`);
    // Play runs the whole order from the start: the same verdict.
    await b.page.click('[data-action="link-play"]');
    await b.page.locator('[data-timeline][data-state="done"]').waitFor();
    assert.deepEqual(b.runs.at(-1).deliver, order);
    assert.equal(await timeline(b.page).getAttribute('data-delivered'), String(order.length));
    assert.deepEqual(await verdict(b.page), seen);
    assert.match(await b.page.locator('[data-link-text]').textContent(), new RegExp(`Its order of ${order.length} deliveries is played`));
    // The run on screen links back to exactly the same link.
    assert.equal(await copyLink(b.page), url);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('the page and the CLI read each other\'s links', async () => {
  const order = 'secret#1>,secret#2>,secret#1<,secret#2<';
  const url = execFileSync(serverBinary(), ['link', '--client', 'single-flight', '--policy', 'strict', '--secret', '2', '--public', '0',
    '--network', 'hand', '--deliver', order, '--base', lab.server.url], { encoding: 'utf8' }).trim();
  const cli = JSON.parse(execFileSync(serverBinary(), ['run', '--link', url, '--json'], { encoding: 'utf8' }));
  const b = await open(url);
  try {
    assert.equal(await b.page.locator('[data-control="strategy"]').inputValue(), 'single-flight');
    assert.equal(await b.page.locator('[data-control="secret-count"]').inputValue(), '2');
    assert.equal(await b.page.locator('[data-link-bar]').getAttribute('data-order'), order);
    await b.page.click('[data-action="link-play"]');
    // The order leaves the run held (the rest is the learner's): deliver the rest as they come.
    await b.page.locator(`[data-timeline][data-delivered="${order.split(',').length}"]`).waitFor();
    await playByHand(b.page);
    const page = await verdict(b.page);
    // The CLI delivers the rest in due order; both runs end with one refresh and no failure.
    assert.equal(page.refreshCalls, String(cli.verdict.refresh_calls));
    assert.equal(page.failed, String(cli.verdict.failed));
    assert.equal(page.logouts, String(cli.verdict.logouts));
    assert.equal(cli.verdict.refresh_calls, 1);

    // The page's own link runs in the CLI with the page's verdict.
    const copied = await copyLink(b.page);
    const again = JSON.parse(execFileSync(serverBinary(), ['run', '--link', copied, '--json'], { encoding: 'utf8' }));
    assert.equal(String(again.verdict.refresh_calls), page.refreshCalls);
    assert.equal(String(again.verdict.ok), page.ok);
    assert.equal(String(again.verdict.failed), page.failed);
    // Its order is every leg the page delivered, the link's four first; the CLI delivered just those.
    assert.equal(again.settings.deliver.length, Number(await timeline(b.page).getAttribute('data-delivered')));
    assert.deepEqual(again.settings.deliver.slice(0, 4), order.split(','));
    assert.deepEqual(again.delivered, again.settings.deliver);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a tampered, foreign, oversized or out-of-range link is refused with a message, and nothing runs', async () => {
  const url = execFileSync(serverBinary(), ['link', '--client', 'queue', '--base', lab.server.url], { encoding: 'utf8' }).trim();
  const at = url.length - 8;
  const tampered = url.slice(0, at) + (url[at] === 'A' ? 'B' : 'A') + url.slice(at + 1);
  const cases = [
    [tampered, /^⚠?\s*The link was refused: it is damaged .*edited or cut short\?$/],
    [url.replace('#s=1.', '#s=3.'), /it is of format 3, and this Refresh Race reads format 1 links/],
    [`${lab.server.url}#s=1.${'A'.repeat(40_000)}`, /it is 40005 characters long, and at most 32768 are read/],
  ];
  // Out of range for the page's controls, although a well-formed link (made by the engine's encoder would refuse it: made here).
  const bad = await (async () => {
    const { page, close } = await open(url);
    try {
      return await page.evaluate(async () => {
        const { encodeLink } = await import('./lib/link.js');
        const made = await encodeLink({ settings: { case: 'guest', strategy: 'naive', policy: 'strict', secret: 20000 } }, { version: 1, maxChars: 32768 });
        return made.fragment;
      });
    } finally {
      await close();
    }
  })();
  cases.push([`${lab.server.url}${bad}`, /Secret requests must be between 1 and 10000 \(got 20000\)/]);
  for (const [link, says] of cases) {
    const b = await open(link);
    try {
      const error = b.page.locator('[data-error]');
      assert.equal(await error.isVisible(), true, link.slice(0, 80));
      assert.match((await error.textContent()).trim(), says);
      assert.equal(b.runs.length, 0, 'nothing ran');
      assert.equal(await timeline(b.page).count(), 0);
      assert.equal(await b.page.locator('[data-link-bar]').isVisible(), false);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  }
});

test('a module from a link waits in the editor until the learner presses Run', async () => {
  const a = await open(lab.server.url);
  let url;
  let seen;
  try {
    await a.page.click('[data-action="code"]');
    await a.page.setInputFiles('[data-control="code-file"]', { name: 'flight.js', mimeType: 'text/javascript', buffer: Buffer.from(MODULE) });
    await a.page.click('[data-action="run-code"]');
    await a.page.locator('[data-timeline][data-state="done"]').waitFor();
    seen = await verdict(a.page);
    assert.equal(seen.refreshCalls, '1', 'the module is single-flight');
    url = await copyLink(a.page);
  } finally {
    await a.close();
  }
  const b = await open(url);
  try {
    // Ready, and nothing ran: the module is in the editor, the bar says to press Run.
    assert.equal(b.runs.length, 0);
    assert.equal(await timeline(b.page).count(), 0);
    assert.equal(await b.page.locator('[data-code-panel]').isVisible(), true);
    const text = await b.page.locator('[data-code-panel] [data-editor] .cm-editor').evaluate(async (el) => {
      const { EditorView } = await import('./vendor/codemirror.js');
      return EditorView.findFromDOM(el).state.doc.toString();
    });
    assert.equal(text, MODULE);
    assert.match(await b.page.locator('[data-link-text]').textContent(), /Its module is in the editor: read it, then press ▶ Run \(nothing runs before\)/);
    assert.equal(await b.page.locator('[data-control="runtime"]').inputValue(), 'browser');
    await b.page.click('[data-action="run-code"]');
    await b.page.locator('[data-timeline][data-state="done"]').waitFor();
    assert.equal(b.runs.length, 1);
    assert.equal(b.runs[0].module, 'your interceptor');
    assert.deepEqual(await verdict(b.page), seen);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('the last setup comes back after a reload, without running', async () => {
  const a = await open(lab.server.url);
  try {
    await setControls(a.page, { strategy: 'mutex', policy: 'okta', 'secret-count': 4 });
    await a.page.click('[data-case="valid"]');
    await a.page.locator('[data-timeline][data-state="done"]').waitFor();
    await a.page.reload();
    await a.page.waitForSelector('body[data-ready="true"]');
    assert.equal(await a.page.locator('[data-control="strategy"]').inputValue(), 'mutex');
    assert.equal(await a.page.locator('[data-control="policy"]').inputValue(), 'okta');
    assert.equal(await a.page.locator('[data-control="secret-count"]').inputValue(), '4');
    assert.equal(await a.page.locator('[data-case="valid"]').getAttribute('aria-pressed'), 'true');
    assert.equal(a.runs.length, 1, 'the reload ran nothing');
    assert.equal(await timeline(a.page).count(), 0);
    assert.deepEqual(a.errors, []);
  } finally {
    await a.close();
  }
});

/** Drops `files` ([{name, type, text}]) on the page as a file manager would. */
function drop(page, files) {
  return page.evaluate((list) => {
    const data = new DataTransfer();
    for (const f of list) data.items.add(new File([f.text], f.name, { type: f.type }));
    const target = document.querySelector('[data-timelines]');
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
    const over = document.body.hasAttribute('data-dropping');
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    return over;
  }, files);
}

test('a saved run dropped on the page replays; a file that is not a run is named and refused', async () => {
  // The recorded run, its settings whole, as `run --save` writes it.
  const text = reportText('expired-refreshable-naive-strict');
  const saved = JSON.parse(text);
  const b = await open(lab.server.url);
  try {
    assert.equal(await drop(b.page, [{ name: 'notes.txt', type: 'text/plain', text: 'hello, not a run' }]), true, 'the page shows where to drop');
    assert.equal(await b.page.evaluate(() => document.body.hasAttribute('data-dropping')), false);
    assert.match(await b.page.locator('[data-error]').textContent(), /^notes\.txt: /);
    assert.equal(await timeline(b.page).count(), 0);
    await drop(b.page, [{ name: 'a.json', type: 'application/json', text }, { name: 'b.json', type: 'application/json', text }]);
    assert.equal((await b.page.locator('[data-error]').textContent()).trim(), 'Drop one saved run at a time (2 files were dropped).');

    await b.page.selectOption('[data-control="speed"]', '10');
    await drop(b.page, [{ name: 'race.json', type: 'application/json', text }]);
    await b.page.locator('[data-timeline][data-state="done"]').waitFor();
    assert.equal(await b.page.locator('[data-error]').isVisible(), false);
    const shown = await verdict(b.page);
    assert.equal(shown.refreshCalls, String(saved.verdict.refresh_calls));
    assert.equal(shown.failed, String(saved.verdict.failed));
    assert.equal(shown.logouts, String(saved.verdict.logouts));
    assert.equal(b.runs.length, 0, 'a replay asks the lab for nothing');
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('axe finds nothing in the link bar and the Copy link popover, in both themes', async () => {
  const url = execFileSync(serverBinary(), ['link', '--client', 'queue', '--network', 'hand', '--deliver', 'secret#1>,secret#2>', '--base', lab.server.url], { encoding: 'utf8' }).trim();
  // bypassCSP: axe-core is injected as a script of the test's own.
  const b = await open(url, { bypassCSP: true });
  try {
    await b.page.locator('[data-timeline][data-held="true"][data-delivered="0"]').waitFor();
    await b.page.click('[data-action="copy-link"]');
    await b.page.locator('[data-link-pop]:not([hidden])').waitFor();
    await b.page.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
    for (const theme of ['dark', 'presenter']) {
      if (theme === 'presenter') await b.page.click('[data-action="presenter"]');
      const found = await b.page.evaluate(async () => {
        const result = await window.axe.run(['[data-link-bar]', '[data-link-pop]', '[data-action="copy-link"]'].map((s) => document.querySelector(s)),
          { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
        return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
      });
      assert.deepEqual(found, [], `${theme}: ${found.join('; ')}`);
    }
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
