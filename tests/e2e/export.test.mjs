// The Export menu in headless Chromium against a real `refresh-race serve`:
// run case 3, download every format through the menu, check each file.
//
//   cargo build && node --test tests/e2e/export.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launchBrowser, openLab } from './harness.mjs';

let server;
let browser;
const dir = mkdtempSync(path.join(os.tmpdir(), 'rr-export-e2e-'));

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** Opens the menu, clicks `format`, returns the saved file and its suggested name. */
async function download(page, format) {
  await page.click('[data-action="export"]');
  const item = page.locator(`[data-export="${format}"]`);
  await item.waitFor({ state: 'visible' });
  const [file] = await Promise.all([page.waitForEvent('download'), item.click()]);
  const target = path.join(dir, file.suggestedFilename());
  await file.saveAs(target);
  assert.equal(await file.failure(), null);
  await page.waitForSelector(`[data-export-menu][data-last-export="${format}"]`);
  return { name: file.suggestedFilename(), bytes: readFileSync(target) };
}

test('case 3, naive: the Export menu downloads HAR, trace, Mermaid, SVG, PNG and JSON', async () => {
  const { page, errors } = await openLab(browser, server.url);
  try {
    const button = page.locator('[data-action="export"]');
    assert.equal(await button.isDisabled(), true, 'nothing to export before a run');

    await page.selectOption('[data-control="strategy"]', 'naive');
    await page.selectOption('[data-control="policy"]', 'strict');
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    await page.waitForSelector('[data-export-menu][data-state="ready"]');
    assert.equal(await button.isDisabled(), false);
    const stem = 'refresh-race-expired-refreshable-naive-strict';

    const json = await download(page, 'json');
    assert.equal(json.name, `${stem}.json`);
    const report = JSON.parse(json.bytes.toString('utf8'));
    assert.equal(report.settings.strategy, 'naive');
    assert.equal(report.verdict.refresh_calls, 3);
    const sent = report.events.filter((e) => ['request_sent', 'refresh_sent', 'retry_sent'].includes(e.kind)).length;
    const lanes = new Set(report.events.map((e) => e.lane));

    const har = await download(page, 'har');
    assert.equal(har.name, `${stem}.har`);
    const log = JSON.parse(har.bytes.toString('utf8')).log;
    assert.equal(log.version, '1.2');
    assert.equal(log.entries.length, sent, 'one entry per exchange');
    assert.equal(log.entries.filter((e) => e.request.method === 'POST').length, 3);
    assert.ok(log.entries.every((e) => typeof e.comment === 'string' && e.comment.length > 0));

    const trace = await download(page, 'trace');
    assert.equal(trace.name, `${stem}.trace.json`);
    const traceEvents = JSON.parse(trace.bytes.toString('utf8')).traceEvents;
    const threads = traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name');
    assert.equal(threads.length, lanes.size, 'one thread per lane');
    assert.equal(traceEvents.filter((e) => e.ph === 's').length, 3, 'a flow per 401 that refreshed');

    const mermaid = await download(page, 'mermaid');
    assert.equal(mermaid.name, `${stem}.mmd`);
    const text = mermaid.bytes.toString('utf8');
    assert.match(text, /^---\ntitle: expired-refreshable · naive client · strict server\n/);
    assert.match(text, /\nsequenceDiagram\n/);
    assert.match(text, /server--xtab: 400 reused/);

    const svg = await download(page, 'svg');
    assert.equal(svg.name, `${stem}.svg`);
    const svgText = svg.bytes.toString('utf8');
    assert.match(svgText, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="1280"/);
    assert.ok(svgText.includes('>secret#3<'));

    const png = await download(page, 'png');
    assert.equal(png.name, `${stem}.png`);
    assert.equal(png.bytes.subarray(1, 4).toString('latin1'), 'PNG');
    assert.equal(png.bytes.readUInt32BE(16), 1280, 'PNG width');
    const svgHeight = Number(/height="(\d+)"/.exec(svgText)[1]);
    assert.equal(png.bytes.readUInt32BE(20), svgHeight, 'PNG height = SVG height');

    assert.match(await page.locator('[data-export-status]').textContent(), /Downloaded refresh-race-.*\.png/);

    // The downloaded report replays, and a replay exports the same diagram.
    await page.setInputFiles('[data-control="replay-file"]', path.join(dir, json.name));
    // The replay's own timeline done first: the menu was already "ready"
    // from the live run, and a click while the replay ran was undone when
    // it ended (under load the menu stayed closed).
    await page.locator('[data-timeline][data-replay][data-state="done"]').waitFor({ timeout: 20_000 });
    await page.waitForSelector('[data-export-menu][data-state="ready"]', { timeout: 20_000 });
    const again = await download(page, 'mermaid');
    assert.equal(again.bytes.toString('utf8'), text);
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await page.close();
  }
});

test('Escape closes the menu, and a new run disables it until it is done', async () => {
  const { page, errors } = await openLab(browser, server.url);
  try {
    await page.selectOption('[data-control="speed"]', '0.25');
    await page.click('[data-case="valid"]');
    assert.equal(await page.locator('[data-action="export"]').isDisabled(), true, 'disabled while running');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 30_000 });
    await page.click('[data-action="export"]');
    assert.equal(await page.locator('[data-action="export"]').getAttribute('aria-expanded'), 'true');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('.export-list').isHidden(), true);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('an export refused with 429 (the lab renders one at a time) waits its Retry-After, says so, and downloads', async () => {
  const { page, errors } = await openLab(browser, server.url);
  try {
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    await page.waitForSelector('[data-export-menu][data-state="ready"]');
    // The lab's own refusal, as its export route words it, for the first try only.
    let refused = 0;
    await page.route('**/lab/export/**', async (route) => {
      if (refused++ === 0) {
        await route.fulfill({ status: 429, headers: { 'retry-after': '1', 'content-type': 'application/json' }, body: JSON.stringify({ error: 'busy', message: '1 exports are running on this lab, its limit; try again shortly' }) });
      } else {
        await route.continue();
      }
    });
    const menu = page.locator('[data-export-menu]');
    const waiting = menu.getByText(/busy with another export: trying again in 1 s/);
    const saved = download(page, 'json');
    await waiting.waitFor({ timeout: 5_000 });
    const json = await saved;
    assert.equal(JSON.parse(json.bytes.toString('utf8')).verdict.refresh_calls, 3);
    assert.equal(refused, 2, 'one refusal, then the real export');
    assert.deepEqual(errors.filter((e) => !/429/.test(e)), []);
  } finally {
    await page.close();
  }
});
